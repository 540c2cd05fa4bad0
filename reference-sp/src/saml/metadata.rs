//! IdP metadata (read) and SP metadata (written).

use libxml::parser::Parser;
use libxml::tree::Node;

use super::SamlError;
use super::verify::NS_DSIG;

const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// What the SP needs from its IdP's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdpMetadata {
    pub entity_id: String,
    /// Signing certificates, base64 DER; more than one during a rollover.
    pub certificates: Vec<String>,
    pub sso_redirect_url: String,
}

fn elements(node: &Node, namespace: &str, name: &str, out: &mut Vec<Node>) {
    for child in node.get_child_elements() {
        if child.get_name() == name && child.get_namespace().is_some_and(|ns| ns.get_href() == namespace) {
            out.push(child.clone());
        }
        elements(&child, namespace, name, out);
    }
}

/// Reads an IdP's EntityDescriptor.
pub fn parse_idp_metadata(xml: &str) -> Result<IdpMetadata, SamlError> {
    if xml.contains("<!DOCTYPE") {
        return Err(SamlError::Metadata("contains a DTD".into()));
    }
    let document =
        Parser::default().parse_string(xml).map_err(|_| SamlError::Metadata("not well-formed XML".into()))?;
    let root = document.get_root_element().ok_or_else(|| SamlError::Metadata("empty".into()))?;
    if root.get_name() != "EntityDescriptor" {
        return Err(SamlError::Metadata("the root is not an EntityDescriptor".into()));
    }
    let entity_id = root.get_attribute_no_ns("entityID").ok_or_else(|| SamlError::Metadata("no entityID".into()))?;
    let mut descriptors = Vec::new();
    elements(&root, NS_METADATA, "IDPSSODescriptor", &mut descriptors);
    let descriptor = descriptors.into_iter().next().ok_or_else(|| SamlError::Metadata("no IDPSSODescriptor".into()))?;
    let mut key_descriptors = Vec::new();
    elements(&descriptor, NS_METADATA, "KeyDescriptor", &mut key_descriptors);
    let mut certificates = Vec::new();
    for key in key_descriptors {
        if key.get_attribute_no_ns("use").is_some_and(|u| u != "signing") {
            continue;
        }
        let mut found = Vec::new();
        elements(&key, NS_DSIG, "X509Certificate", &mut found);
        certificates.extend(
            found.into_iter().map(|c| c.get_content().chars().filter(|c| !c.is_whitespace()).collect::<String>()),
        );
    }
    if certificates.is_empty() {
        return Err(SamlError::Metadata("no signing certificate".into()));
    }
    let mut services = Vec::new();
    elements(&descriptor, NS_METADATA, "SingleSignOnService", &mut services);
    let sso_redirect_url = services
        .into_iter()
        .find(|s| s.get_attribute_no_ns("Binding").as_deref() == Some(BINDING_REDIRECT))
        .and_then(|s| s.get_attribute_no_ns("Location"))
        .ok_or_else(|| SamlError::Metadata("no HTTP-Redirect SingleSignOnService".into()))?;
    Ok(IdpMetadata { entity_id, certificates, sso_redirect_url })
}

/// The SP's metadata for a tenant.
pub fn render_sp_metadata(entity_id: &str, acs_urls: &[String]) -> String {
    let escape = |s: &str| s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    let services: String = acs_urls
        .iter()
        .enumerate()
        .map(|(index, url)| {
            format!(
                "<md:AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"{}\" index=\"{index}\"{}/>",
                escape(url),
                if index == 0 { " isDefault=\"true\"" } else { "" }
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntityDescriptor xmlns:md=\"{NS_METADATA}\" entityID=\"{}\"><md:SPSSODescriptor AuthnRequestsSigned=\"false\" WantAssertionsSigned=\"true\" protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\"><md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>{services}</md:SPSSODescriptor></md:EntityDescriptor>\n",
        escape(entity_id)
    )
}
