//! The IdP side of what a message is judged against: the SAML metadata the
//! SP was given (entity id and signing certificates), a PEM certificate, or
//! a JWKS, each read from text (the CLI reads the file or fetches the URL).

use libxml::parser::Parser;
use libxml::tree::Node;

use super::ExplainError;
use super::saml::{NS_DSIG, NS_METADATA, descendants};

/// What explain needs from IdP metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdpMetadata {
    pub entity_id: String,
    /// Signing certificates, base64 DER, as the metadata carries them.
    pub certificates: Vec<String>,
}

/// Reads an `EntityDescriptor` (or the first one in an `EntitiesDescriptor`)
/// with an `IDPSSODescriptor`.
pub fn parse_idp_metadata(xml: &str) -> Result<IdpMetadata, ExplainError> {
    let document = Parser::default().parse_string(xml).map_err(|e| ExplainError::BadMetadata(format!("{e:?}")))?;
    let root = document.get_root_element().ok_or_else(|| ExplainError::BadMetadata("no root element".into()))?;
    let entity = if root.get_name() == "EntityDescriptor" {
        root
    } else {
        descendants(&root, NS_METADATA, "EntityDescriptor")
            .into_iter()
            .find(|e| !descendants(e, NS_METADATA, "IDPSSODescriptor").is_empty())
            .ok_or_else(|| ExplainError::BadMetadata("no EntityDescriptor with an IDPSSODescriptor".into()))?
    };
    let entity_id = entity
        .get_attribute("entityID")
        .ok_or_else(|| ExplainError::BadMetadata("the EntityDescriptor has no entityID".into()))?;
    let idp = descendants(&entity, NS_METADATA, "IDPSSODescriptor")
        .into_iter()
        .next()
        .ok_or_else(|| ExplainError::BadMetadata("no IDPSSODescriptor".into()))?;
    let certificates = descendants(&idp, NS_METADATA, "KeyDescriptor")
        .into_iter()
        .filter(|k| k.get_attribute("use").is_none_or(|u| u == "signing"))
        .flat_map(|k| certificate_texts(&k))
        .collect::<Vec<_>>();
    if certificates.is_empty() {
        return Err(ExplainError::BadMetadata("the IDPSSODescriptor has no signing certificate".into()));
    }
    Ok(IdpMetadata { entity_id, certificates })
}

fn certificate_texts(key_descriptor: &Node) -> Vec<String> {
    descendants(key_descriptor, NS_DSIG, "X509Certificate").into_iter().map(|c| compact(&c.get_content())).collect()
}

/// A PEM certificate's base64 DER (the form metadata and KeyInfo carry), or
/// the text itself when it is already bare base64.
pub fn certificate_from_pem(pem: &str) -> Result<String, ExplainError> {
    let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect::<Vec<_>>().join("");
    let body = compact(&body);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')) {
        return Err(ExplainError::BadMetadata("the certificate is not PEM or base64".into()));
    }
    Ok(body)
}

/// Reads a JWKS document (`{"keys": [...]}`).
pub fn parse_jwks(text: &str) -> Result<serde_json::Value, ExplainError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ExplainError::BadJwks(e.to_string()))?;
    if !value.get("keys").is_some_and(serde_json::Value::is_array) {
        return Err(ExplainError::BadJwks("no \"keys\" array".into()));
    }
    Ok(value)
}

pub(crate) fn compact(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}
