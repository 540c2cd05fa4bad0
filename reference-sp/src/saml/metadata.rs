//! IdP metadata (read) and SP metadata (written).

use super::decrypt::RSA_OAEP_MGF1P;
use super::verify::NS_DSIG;
use super::{SamlError, descendants, xml_escape};

const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// What the SP needs from its IdP's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdpMetadata {
    pub entity_id: String,
    /// Signing certificates, base64 DER; more than one during a rollover.
    pub certificates: Vec<String>,
    pub sso_redirect_url: String,
    /// The HTTP-POST SingleSignOnService, when the IdP offers one.
    pub sso_post_url: Option<String>,
}

/// Reads an IdP's EntityDescriptor.
pub fn parse_idp_metadata(xml: &str) -> Result<IdpMetadata, SamlError> {
    if xml.contains("<!DOCTYPE") {
        return Err(SamlError::Metadata("contains a DTD".into()));
    }
    let document = super::parse_strictly(xml).map_err(|_| SamlError::Metadata("not well-formed XML".into()))?;
    let root = document.get_root_element().ok_or_else(|| SamlError::Metadata("empty".into()))?;
    if root.get_name() != "EntityDescriptor" {
        return Err(SamlError::Metadata("the root is not an EntityDescriptor".into()));
    }
    let entity_id = root.get_attribute_no_ns("entityID").ok_or_else(|| SamlError::Metadata("no entityID".into()))?;
    let descriptor = descendants(&root, NS_METADATA, "IDPSSODescriptor")
        .into_iter()
        .next()
        .ok_or_else(|| SamlError::Metadata("no IDPSSODescriptor".into()))?;
    let mut certificates = Vec::new();
    for key in descendants(&descriptor, NS_METADATA, "KeyDescriptor") {
        if key.get_attribute_no_ns("use").is_some_and(|u| u != "signing") {
            continue;
        }
        certificates.extend(
            descendants(&key, NS_DSIG, "X509Certificate")
                .into_iter()
                .map(|c| c.get_content().chars().filter(|c| !c.is_whitespace()).collect::<String>()),
        );
    }
    if certificates.is_empty() {
        return Err(SamlError::Metadata("no signing certificate".into()));
    }
    let sso_redirect_url = descendants(&descriptor, NS_METADATA, "SingleSignOnService")
        .into_iter()
        .find(|s| s.get_attribute_no_ns("Binding").as_deref() == Some(BINDING_REDIRECT))
        .and_then(|s| s.get_attribute_no_ns("Location"))
        .ok_or_else(|| SamlError::Metadata("no HTTP-Redirect SingleSignOnService".into()))?;
    let sso_post_url = descendants(&descriptor, NS_METADATA, "SingleSignOnService")
        .into_iter()
        .find(|s| s.get_attribute_no_ns("Binding").as_deref() == Some(BINDING_POST))
        .and_then(|s| s.get_attribute_no_ns("Location"));
    Ok(IdpMetadata { entity_id, certificates, sso_redirect_url, sso_post_url })
}

/// The SP's metadata for a tenant. `encryption_certificate` (base64 DER) is
/// published as `KeyDescriptor use="encryption"`, with the algorithms the
/// ACS accepts, so that an IdP reading the metadata encrypts with those.
/// `slo_url`, the tenant's Single Logout URL when it has Single Logout, is
/// published as its HTTP-POST `SingleLogoutService`. `WantAssertionsSigned`
/// says whether the ACS refuses an Assertion that is not signed itself.
pub fn render_sp_metadata(
    entity_id: &str,
    acs_urls: &[String],
    encryption_certificate: Option<&str>,
    signing_certificate: Option<&str>,
    slo_url: Option<&str>,
    want_assertions_signed: bool,
) -> String {
    // A tenant that signs its AuthnRequests says so and publishes the
    // certificate an IdP checks them with.
    let signing = signing_certificate
        .map(|certificate| {
            format!(
                "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"{NS_DSIG}\"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                xml_escape(certificate)
            )
        })
        .unwrap_or_default();
    let requests_signed = signing_certificate.is_some();
    let key = encryption_certificate
        .map(|certificate| {
            format!(
                "<md:KeyDescriptor use=\"encryption\"><ds:KeyInfo xmlns:ds=\"{NS_DSIG}\"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\
<md:EncryptionMethod Algorithm=\"http://www.w3.org/2009/xmlenc11#aes256-gcm\"/>\
<md:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes256-cbc\"/>\
<md:EncryptionMethod Algorithm=\"{RSA_OAEP_MGF1P}\"/></md:KeyDescriptor>",
                xml_escape(certificate)
            )
        })
        .unwrap_or_default();
    // The schema puts SingleLogoutService after the keys and before the
    // NameID formats.
    let logout = slo_url
        .map(|url| {
            format!(
                "<md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"{}\"/>",
                xml_escape(url)
            )
        })
        .unwrap_or_default();
    let services: String = acs_urls
        .iter()
        .enumerate()
        .map(|(index, url)| {
            format!(
                "<md:AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"{}\" index=\"{index}\"{}/>",
                xml_escape(url),
                if index == 0 { " isDefault=\"true\"" } else { "" }
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntityDescriptor xmlns:md=\"{NS_METADATA}\" entityID=\"{}\"><md:SPSSODescriptor AuthnRequestsSigned=\"{requests_signed}\" WantAssertionsSigned=\"{want_assertions_signed}\" protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">{signing}{key}{logout}<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>{services}</md:SPSSODescriptor></md:EntityDescriptor>\n",
        xml_escape(entity_id)
    )
}
