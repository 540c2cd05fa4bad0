//! What an SP's metadata declares, read with libxml2 (the parser the mock
//! signs with, so the suite has one XML parser).

use libxml::parser::Parser;

const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";

/// The `WantAssertionsSigned` of the metadata's `SPSSODescriptor` (false
/// when absent, as SAML Metadata 2.4.4 says).
pub(in crate::runner) fn wants_assertions_signed(xml: &str) -> Result<bool, String> {
    if xml.contains("<!DOCTYPE") {
        return Err("the metadata has a DOCTYPE, which the suite does not read".into());
    }
    let document = Parser::default().parse_string(xml).map_err(|e| format!("the metadata is not XML: {e:?}"))?;
    let root = document.get_root_element().ok_or("the metadata has no root element")?;
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.get_name() == "SPSSODescriptor" && node.get_namespace().is_some_and(|ns| ns.get_href() == NS_METADATA) {
            return match node.get_attribute_no_ns("WantAssertionsSigned").as_deref().map(str::trim) {
                None | Some("false") | Some("0") => Ok(false),
                Some("true") | Some("1") => Ok(true),
                Some(other) => Err(format!("WantAssertionsSigned is '{other}', not a boolean")),
            };
        }
        stack.extend(node.get_child_elements());
    }
    Err("the metadata has no SPSSODescriptor".into())
}

/// The certificate (base64 DER) of the first `KeyDescriptor` of the
/// `SPSSODescriptor` usable for encryption: `use="encryption"`, or no `use`
/// (SAML Metadata 2.4.1.1: then it serves both). `None` when there is none.
pub(in crate::runner) fn encryption_certificate(xml: &str) -> Result<Option<String>, String> {
    if xml.contains("<!DOCTYPE") {
        return Err("the metadata has a DOCTYPE, which the suite does not read".into());
    }
    let document = Parser::default().parse_string(xml).map_err(|e| format!("the metadata is not XML: {e:?}"))?;
    let root = document.get_root_element().ok_or("the metadata has no root element")?;
    let mut stack = vec![root];
    let mut descriptor = None;
    while let Some(node) = stack.pop() {
        if node.get_name() == "SPSSODescriptor" && node.get_namespace().is_some_and(|ns| ns.get_href() == NS_METADATA) {
            descriptor = Some(node);
            break;
        }
        stack.extend(node.get_child_elements());
    }
    let descriptor = descriptor.ok_or("the metadata has no SPSSODescriptor")?;
    for key in descriptor.get_child_elements().into_iter().filter(|n| n.get_name() == "KeyDescriptor") {
        if key.get_attribute_no_ns("use").is_some_and(|u| u.trim() != "encryption") {
            continue;
        }
        let mut stack = vec![key];
        while let Some(node) = stack.pop() {
            if node.get_name() == "X509Certificate" {
                let text: String = node.get_content().chars().filter(|c| !c.is_whitespace()).collect();
                if !text.is_empty() {
                    return Ok(Some(text));
                }
            }
            stack.extend(node.get_child_elements());
        }
    }
    Ok(None)
}

/// What an SP's metadata says about signing its AuthnRequests: its
/// `AuthnRequestsSigned` (false when absent, SAML Metadata 2.4.4) and the
/// certificates (base64 DER) of every `KeyDescriptor` usable for signing
/// (`use="signing"`, or no `use`: SAML Metadata 2.4.1.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::runner) struct RequestSigning {
    pub(in crate::runner) authn_requests_signed: bool,
    pub(in crate::runner) signing_certificates: Vec<String>,
}

/// Reads [`RequestSigning`] from the metadata's `SPSSODescriptor`. Unlike
/// [`read_sp_descriptor`], it asks for nothing else, so metadata without an
/// AssertionConsumerService still says whether requests are signed.
pub(in crate::runner) fn request_signing(xml: &str) -> Result<RequestSigning, String> {
    if xml.contains("<!DOCTYPE") {
        return Err("the metadata has a DOCTYPE, which the suite does not read".into());
    }
    let document = Parser::default().parse_string(xml).map_err(|e| format!("the metadata is not XML: {e:?}"))?;
    let root = document.get_root_element().ok_or("the metadata has no root element")?;
    let mut stack = vec![root];
    let mut descriptor = None;
    while let Some(node) = stack.pop() {
        if node.get_name() == "SPSSODescriptor" && node.get_namespace().is_some_and(|ns| ns.get_href() == NS_METADATA) {
            descriptor = Some(node);
            break;
        }
        let mut children = node.get_child_elements();
        children.reverse();
        stack.extend(children);
    }
    let descriptor = descriptor.ok_or("the metadata has no SPSSODescriptor")?;
    let authn_requests_signed = match descriptor.get_attribute_no_ns("AuthnRequestsSigned").as_deref().map(str::trim) {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(other) => return Err(format!("AuthnRequestsSigned is '{other}', not a boolean")),
    };
    let mut signing_certificates = Vec::new();
    for key in descriptor.get_child_elements().into_iter().filter(|n| n.get_name() == "KeyDescriptor") {
        if key.get_attribute_no_ns("use").is_some_and(|u| u.trim() != "signing") {
            continue;
        }
        let mut stack = vec![key];
        while let Some(node) = stack.pop() {
            if node.get_name() == "X509Certificate" {
                let text: String = node.get_content().chars().filter(|c| !c.is_whitespace()).collect();
                if !text.is_empty() {
                    signing_certificates.push(text);
                    break;
                }
            }
            stack.extend(node.get_child_elements());
        }
    }
    Ok(RequestSigning { authn_requests_signed, signing_certificates })
}

/// One `AssertionConsumerService` of an SP's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConsumerService {
    pub(crate) binding: String,
    pub(crate) location: String,
    pub(crate) index: Option<u32>,
    pub(crate) is_default: bool,
}

/// What `mockta target init` takes from an SP's metadata: its
/// `SPSSODescriptor` as an Okta admin would copy it into a new SAML app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SpDescriptor {
    pub(crate) entity_id: String,
    pub(crate) consumer_services: Vec<ConsumerService>,
    pub(crate) want_assertions_signed: bool,
    pub(crate) authn_requests_signed: bool,
    /// Base64 DER of every `KeyDescriptor` usable for signing (`use="signing"` or none).
    pub(crate) signing_certificates: Vec<String>,
    /// Base64 DER of the first `KeyDescriptor` usable for encryption.
    pub(crate) encryption_certificate: Option<String>,
    /// Every `SingleLogoutService` as (binding, location).
    pub(crate) single_logout_services: Vec<(String, String)>,
}

/// Reads the `SPSSODescriptor` of an SP's metadata (an `EntityDescriptor`,
/// or the first SP inside an `EntitiesDescriptor`).
pub(crate) fn read_sp_descriptor(xml: &str) -> Result<SpDescriptor, String> {
    if xml.contains("<!DOCTYPE") {
        return Err("the metadata has a DOCTYPE, which the suite does not read".into());
    }
    let document = Parser::default().parse_string(xml).map_err(|e| format!("the metadata is not XML: {e:?}"))?;
    let root = document.get_root_element().ok_or("the metadata has no root element")?;
    // Depth first in document order, so the first SP of an aggregate wins.
    let mut stack = vec![root];
    let mut found = None;
    while let Some(node) = stack.pop() {
        if node.get_name() == "SPSSODescriptor" && node.get_namespace().is_some_and(|ns| ns.get_href() == NS_METADATA) {
            found = Some(node);
            break;
        }
        let mut children = node.get_child_elements();
        children.reverse();
        stack.extend(children);
    }
    let descriptor = found.ok_or("the metadata has no SPSSODescriptor")?;
    let entity = descriptor.get_parent().ok_or("the SPSSODescriptor has no EntityDescriptor")?;
    let entity_id = entity
        .get_attribute_no_ns("entityID")
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty())
        .ok_or("the EntityDescriptor has no entityID")?;
    let boolean = |name: &str| match descriptor.get_attribute_no_ns(name).as_deref().map(str::trim) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(format!("{name} is '{other}', not a boolean")),
    };
    let want_assertions_signed = boolean("WantAssertionsSigned")?;
    let authn_requests_signed = boolean("AuthnRequestsSigned")?;
    let mut consumer_services = Vec::new();
    let mut single_logout_services = Vec::new();
    let mut signing_certificates = Vec::new();
    let mut encryption_certificate = None;
    for child in descriptor.get_child_elements() {
        match child.get_name().as_str() {
            "AssertionConsumerService" => {
                let binding = child.get_attribute_no_ns("Binding").unwrap_or_default().trim().to_owned();
                let location = child
                    .get_attribute_no_ns("Location")
                    .map(|l| l.trim().to_owned())
                    .ok_or("an AssertionConsumerService has no Location")?;
                let index = match child.get_attribute_no_ns("index") {
                    None => None,
                    Some(text) => Some(
                        text.trim()
                            .parse::<u32>()
                            .map_err(|_| format!("an AssertionConsumerService index is '{text}', not a number"))?,
                    ),
                };
                let is_default =
                    matches!(child.get_attribute_no_ns("isDefault").as_deref().map(str::trim), Some("true" | "1"));
                consumer_services.push(ConsumerService { binding, location, index, is_default });
            }
            "SingleLogoutService" => {
                let binding = child.get_attribute_no_ns("Binding").unwrap_or_default().trim().to_owned();
                if let Some(location) = child.get_attribute_no_ns("Location") {
                    single_logout_services.push((binding, location.trim().to_owned()));
                }
            }
            "KeyDescriptor" => {
                let usage = child.get_attribute_no_ns("use").map(|u| u.trim().to_owned());
                let mut stack = vec![child.clone()];
                let mut certificate = None;
                while let Some(node) = stack.pop() {
                    if node.get_name() == "X509Certificate" {
                        let text: String = node.get_content().chars().filter(|c| !c.is_whitespace()).collect();
                        if !text.is_empty() {
                            certificate = Some(text);
                            break;
                        }
                    }
                    stack.extend(node.get_child_elements());
                }
                let Some(certificate) = certificate else { continue };
                if usage.as_deref() != Some("encryption") {
                    signing_certificates.push(certificate.clone());
                }
                if usage.as_deref() != Some("signing") && encryption_certificate.is_none() {
                    encryption_certificate = Some(certificate);
                }
            }
            _ => {}
        }
    }
    if consumer_services.is_empty() {
        return Err("the SPSSODescriptor has no AssertionConsumerService".into());
    }
    Ok(SpDescriptor {
        entity_id,
        consumer_services,
        want_assertions_signed,
        authn_requests_signed,
        signing_certificates,
        encryption_certificate,
        single_logout_services,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(attribute: &str) -> String {
        format!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="sp"><md:SPSSODescriptor {attribute} protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>"#
        )
    }

    #[test]
    fn the_encryption_certificate_is_read_from_an_encryption_or_unmarked_key_descriptor() {
        let with = |descriptors: &str| {
            format!(
                r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="sp"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{descriptors}</md:SPSSODescriptor></md:EntityDescriptor>"#
            )
        };
        let key = |usage: &str, cert: &str| {
            format!(
                "<md:KeyDescriptor{usage}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            )
        };
        let signing_then_encryption = with(&(key(" use=\"signing\"", "SIGN") + &key(" use=\"encryption\"", "EN\nC")));
        assert_eq!(encryption_certificate(&signing_then_encryption), Ok(Some("ENC".into())));
        assert_eq!(encryption_certificate(&with(&key("", "BOTH"))), Ok(Some("BOTH".into())));
        assert_eq!(encryption_certificate(&with(&key(" use=\"signing\"", "SIGN"))), Ok(None));
        assert!(encryption_certificate("<x/>").is_err());
    }

    #[test]
    fn request_signing_is_read_with_every_signing_or_unmarked_certificate() {
        let with = |attribute: &str, descriptors: &str| {
            format!(
                r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="sp"><md:SPSSODescriptor {attribute} protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{descriptors}</md:SPSSODescriptor></md:EntityDescriptor>"#
            )
        };
        let key = |usage: &str, cert: &str| {
            format!(
                "<md:KeyDescriptor{usage}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            )
        };
        let keys = key(" use=\"encryption\"", "ENC") + &key(" use=\"signing\"", "SI\nGN") + &key("", "BOTH");
        assert_eq!(
            request_signing(&with(r#"AuthnRequestsSigned="true""#, &keys)),
            Ok(RequestSigning {
                authn_requests_signed: true,
                signing_certificates: vec!["SIGN".into(), "BOTH".into()]
            })
        );
        assert_eq!(
            request_signing(&with("", "")),
            Ok(RequestSigning { authn_requests_signed: false, signing_certificates: vec![] })
        );
        assert!(request_signing(&with(r#"AuthnRequestsSigned="yes""#, "")).is_err());
        assert!(request_signing("<x/>").is_err());
    }

    #[test]
    fn want_assertions_signed_is_read_from_the_sp_descriptor() {
        assert_eq!(wants_assertions_signed(&metadata(r#"WantAssertionsSigned="true""#)), Ok(true));
        assert_eq!(wants_assertions_signed(&metadata(r#"WantAssertionsSigned="false""#)), Ok(false));
        assert_eq!(wants_assertions_signed(&metadata("")), Ok(false));
        assert!(wants_assertions_signed(&metadata(r#"WantAssertionsSigned="maybe""#)).is_err());
        assert!(
            wants_assertions_signed("<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"/>")
                .is_err()
        );
        assert!(wants_assertions_signed("not xml").is_err());
    }
}
