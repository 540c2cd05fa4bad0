//! Signing rendered responses with libxmlsec1.
//!
//! libxml2 documents and xmlsec keys are not `Send`, so everything here runs
//! on one thread from text in to text out. Parsing a PEM key costs several
//! times an RSA signature, so each thread keeps the keys it has parsed and
//! gives each signature context its own duplicate (`XmlSecKey::clone`, which
//! is `xmlSecKeyDuplicate`).

use std::cell::RefCell;
use std::collections::HashMap;

use libxml::parser::Parser;
use libxml::tree::Document;
use xmlsec::{XmlSecDocumentExt, XmlSecKey, XmlSecKeyFormat, XmlSecSignatureContext};

use super::response::{NS_ASSERTION, NS_DSIG, NS_PROTOCOL};
use crate::keys::SigningCredential;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("the rendered response is not well-formed XML: {0}")]
    Parse(String),
    #[error("the signing key cannot be loaded into xmlsec")]
    Key,
    #[error("xmlsec could not sign the {0}: {1}")]
    Sign(&'static str, String),
}

thread_local! {
    static KEYS: RefCell<HashMap<String, XmlSecKey>> = RefCell::new(HashMap::new());
}

fn with_key<T>(credential: &SigningCredential, f: impl FnOnce(&XmlSecKey) -> T) -> Result<T, SignError> {
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        let fingerprint = credential.fingerprint();
        if !keys.contains_key(fingerprint) {
            let key = XmlSecKey::from_memory(credential.key_pem.as_bytes(), XmlSecKeyFormat::Pem, None)
                .map_err(|_| SignError::Key)?;
            keys.insert(fingerprint.to_owned(), key);
        }
        keys.get(fingerprint).map(f).ok_or(SignError::Key)
    })
}

/// Which signature template to sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Assertion,
    Response,
}

/// Signs every `ds:Signature` template in the document: the Assertion's first,
/// then the Response's, so the Response signature covers the signed Assertion
/// exactly as it is sent.
pub fn sign_templates(unsigned: &str, credential: &SigningCredential) -> Result<String, SignError> {
    let mut text = unsigned.to_owned();
    for target in [Target::Assertion, Target::Response] {
        text = sign_one(&text, target, credential)?;
    }
    Ok(text)
}

/// Signs only the Assertion's template, for an Assertion that is encrypted
/// before the Response is signed.
pub fn sign_assertion_template(unsigned: &str, credential: &SigningCredential) -> Result<String, SignError> {
    sign_one(unsigned, Target::Assertion, credential)
}

/// Signs only the Response's template (if it has one).
pub fn sign_response_template(text: &str, credential: &SigningCredential) -> Result<String, SignError> {
    sign_one(text, Target::Response, credential)
}

fn sign_one(text: &str, target: Target, credential: &SigningCredential) -> Result<String, SignError> {
    let xpath = match target {
        Target::Assertion => "./*[local-name()='Assertion']/*[local-name()='Signature']",
        Target::Response => "./*[local-name()='Signature']",
    };
    let document = Parser::default().parse_string(text).map_err(|e| SignError::Parse(format!("{e:?}")))?;
    let root = document.get_root_element().ok_or_else(|| SignError::Parse("no root element".into()))?;
    let nodes = root.findnodes(xpath).map_err(|()| SignError::Parse("xpath".into()))?;
    let Some(node) = nodes.into_iter().find(|n| n.get_namespace().map(|ns| ns.get_href()) == Some(NS_DSIG.to_owned()))
    else {
        return Ok(text.to_owned());
    };
    register_ids(&document).map_err(|e| SignError::Sign("document", e))?;
    let what = if target == Target::Assertion { "assertion" } else { "response" };
    with_key(credential, |key| {
        let mut context = XmlSecSignatureContext::new();
        context.insert_key(key.clone());
        context.sign_node(&node).map_err(|e| SignError::Sign(what, e.to_string()))
    })??;
    let value_of = |name: &str| -> String {
        node.findnodes(&format!(".//*[local-name()='{name}']"))
            .ok()
            .and_then(|found| found.into_iter().next())
            .map(|found| found.get_content().chars().filter(|c| !c.is_whitespace()).collect())
            .unwrap_or_default()
    };
    // The values go into the original text, not a re-serialisation: the
    // signature covers the canonical form, so the original bytes stay valid,
    // and they keep Okta's attribute order and one-line SignatureValue. The
    // Assertion's template is the last empty one, the Response's the first.
    let mut out = text.to_owned();
    for name in ["SignatureValue", "DigestValue"] {
        let empty = format!("<ds:{name}></ds:{name}>");
        let at = match target {
            Target::Assertion => out.rfind(&empty),
            Target::Response => out.find(&empty),
        }
        .ok_or(SignError::Sign(what, format!("no empty {name} template")))?;
        out.replace_range(at..at + empty.len(), &format!("<ds:{name}>{}</ds:{name}>", value_of(name)));
    }
    Ok(out)
}

/// Tells libxml2 that `ID` is the id attribute of Responses and Assertions,
/// which `#id` references resolve against.
fn register_ids(document: &Document) -> Result<(), String> {
    let namespaces = [("saml2p", NS_PROTOCOL), ("saml2", NS_ASSERTION)];
    // A LogoutResponse (Single Logout) is signed by the same code and has
    // no Assertion; its own ID is the one its signature references.
    if document.get_root_element().is_some_and(|root| root.get_name() == "LogoutResponse") {
        return document.specify_idattr("/saml2p:LogoutResponse", "ID", Some(&namespaces)).map_err(|e| e.to_string());
    }
    document.specify_idattr("//saml2p:Response", "ID", Some(&namespaces)).map_err(|e| e.to_string())?;
    // An Assertion that was encrypted is no longer in the document, and the
    // Response signature then has no Assertion id to resolve.
    if document
        .get_root_element()
        .is_some_and(|root| root.findnodes("./*[local-name()='Assertion']").is_ok_and(|found| !found.is_empty()))
    {
        document.specify_idattr("//saml2:Assertion", "ID", Some(&namespaces)).map_err(|e| e.to_string())?;
    }
    Ok(())
}
