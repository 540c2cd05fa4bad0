//! Signing rendered responses.
//!
//! A response as [`super::response::render`] writes it, with Okta's two
//! signature templates as rendered, is signed here without libxml2
//! ([`sign_rendered`]): its exclusive canonical forms follow from the text
//! ([`super::canonical`]), so the digests and the SignedInfo are computed in
//! one pass each and signed with the credential's key, parsed once for
//! aws-lc-rs. RSA PKCS#1 v1.5 is deterministic, so the result is the very
//! text libxmlsec1 would give, which the tests check. Everything else (SHA-1,
//! templates a fault edited, encrypted assertions, LogoutResponses, text the
//! canonicaliser leaves alone) is signed with libxmlsec1, as it always was.
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

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

use super::canonical::{ElementRef, RenderedDocument};
use super::response::{NS_ASSERTION, NS_DSIG, NS_PROTOCOL, Signatures, push_signature_template};
use crate::keys::SigningCredential;
use crate::org::SignatureAlgorithm;

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

/// Signs every signature template of a rendered response, as
/// [`sign_templates`] does: without libxml2 when [`sign_own_rendering`]
/// takes the text, otherwise with libxmlsec1.
pub fn sign_rendered(
    unsigned: &str,
    signatures: &Signatures,
    credential: &SigningCredential,
) -> Result<String, SignError> {
    match sign_own_rendering(unsigned, signatures, credential)? {
        Some(signed) => Ok(signed),
        None => sign_templates(unsigned, credential),
    }
}

/// An enveloped signature template as [`push_signature_template`] renders
/// it, found in a parsed document: the signed element and the template's
/// parts the signature fills.
struct Template {
    signed: ElementRef,
    signature: ElementRef,
    signed_info: ElementRef,
    digest_value: ElementRef,
    signature_value: ElementRef,
}

/// Signs a rendered response without libxml2 (the Assertion's template,
/// then the Response's, as [`sign_templates`] does), giving the text
/// libxmlsec1 would give. `Ok(None)` when the response is not one this
/// signer takes: another algorithm than RSA-SHA256, a key aws-lc-rs does not
/// take, text outside [`RenderedDocument`]'s subset, or a template other
/// than the one [`push_signature_template`] renders for the signed
/// element's ID with `signatures`.
pub fn sign_own_rendering(
    unsigned: &str,
    signatures: &Signatures,
    credential: &SigningCredential,
) -> Result<Option<String>, SignError> {
    if signatures.algorithm != SignatureAlgorithm::RsaSha256 {
        return Ok(None);
    }
    let Some(key) = credential.rsa_key_pair() else { return Ok(None) };
    let Some(document) = RenderedDocument::parse(unsigned) else { return Ok(None) };
    let Some(templates) = own_templates(&document, signatures) else { return Ok(None) };
    let mut fills: Vec<(ElementRef, String)> = Vec::with_capacity(4);
    for (what, template) in templates {
        // The Response's form takes in the Assertion's values already made.
        let current: Vec<(ElementRef, &str)> = fills.iter().map(|(at, text)| (*at, text.as_str())).collect();
        let Some(signed_form) =
            document.exclusive_canonical_form(template.signed, Some(template.signature), &["xs"], &current)
        else {
            return Ok(None);
        };
        fills.push((template.digest_value, BASE64.encode(Sha256::digest(signed_form.as_bytes()))));
        let current: Vec<(ElementRef, &str)> = fills.iter().map(|(at, text)| (*at, text.as_str())).collect();
        let Some(signed_info) = document.exclusive_canonical_form(template.signed_info, None, &[], &current) else {
            return Ok(None);
        };
        let mut value = vec![0; key.public_modulus_len()];
        key.sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            signed_info.as_bytes(),
            &mut value,
        )
        .map_err(|e| SignError::Sign(what, e.to_string()))?;
        fills.push((template.signature_value, BASE64.encode(&value)));
    }
    // The values go into the rendered text, as libxmlsec1's do.
    let mut placed: Vec<(usize, &str)> = Vec::with_capacity(fills.len());
    for (at, text) in &fills {
        let Some(offset) = document.content_start(*at) else { return Ok(None) };
        placed.push((offset, text));
    }
    placed.sort_unstable_by_key(|(offset, _)| *offset);
    let mut out = String::with_capacity(unsigned.len() + placed.iter().map(|(_, text)| text.len()).sum::<usize>());
    let mut copied = 0;
    for (offset, text) in placed {
        out.push_str(&unsigned[copied..offset]);
        out.push_str(text);
        copied = offset;
    }
    out.push_str(&unsigned[copied..]);
    Ok(Some(out))
}

/// The templates to sign, the Assertion's first; `None` when the document
/// is not a Response as rendered, so that libxmlsec1 decides.
fn own_templates(document: &RenderedDocument<'_>, signatures: &Signatures) -> Option<Vec<(&'static str, Template)>> {
    let root = document.root();
    if document.name(root)? != (NS_PROTOCOL, "Response") {
        return None;
    }
    let assertions: Vec<ElementRef> = document
        .children(root)
        .into_iter()
        .filter(|child| document.name(*child) == Some((NS_ASSERTION, "Assertion")))
        .collect();
    if assertions.len() > 1 {
        return None;
    }
    let assertion = assertions.first().copied();
    // libxmlsec1 resolves `#id` through the IDs registered on Responses and
    // Assertions; any other element named so, or carrying an ID, is left to
    // it, as are signatures or empty values other than the templates.
    let mut signature_elements = 0;
    // libxmlsec1's values are written over the first or last empty
    // DigestValue and SignatureValue in the text, so there must be no
    // others for the two signers to write in the same places.
    let mut empty_values = 0;
    for element in document.elements() {
        let (_, local_name) = document.name(element)?;
        let known = element == root || Some(element) == assertion;
        if !known && (matches!(local_name, "Response" | "Assertion") || document.attribute(element, "ID").is_some()) {
            return None;
        }
        if local_name == "Signature" {
            signature_elements += 1;
        }
        if matches!(
            document.source(element),
            Some("<ds:DigestValue></ds:DigestValue>" | "<ds:SignatureValue></ds:SignatureValue>")
        ) {
            empty_values += 1;
        }
    }
    let mut templates = Vec::with_capacity(2);
    let mut ids = Vec::with_capacity(2);
    for (what, signed) in [("assertion", assertion), ("response", Some(root))] {
        let Some(signed) = signed else { continue };
        let id = document.attribute(signed, "ID")?;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')) {
            return None;
        }
        ids.push(id);
        if let Some(template) = own_template(document, signed, id, signatures)? {
            templates.push((what, template));
        }
    }
    // libxmlsec1's values go to the last empty values for the Assertion and
    // the first for the Response, which are theirs only while the
    // Response's template comes first, as rendered.
    let rendered_order = match templates.as_slice() {
        [(_, assertion), (_, response)] => response.signature.precedes(assertion.signature),
        _ => true,
    };
    if ids.len() == 2 && ids[0] == ids[1]
        || signature_elements != templates.len()
        || empty_values != 2 * templates.len()
        || !rendered_order
    {
        return None;
    }
    Some(templates)
}

/// The signed element's signature template: `Some(None)` when it has none,
/// `None` when it has one other than the rendered template.
fn own_template(
    document: &RenderedDocument<'_>,
    signed: ElementRef,
    id: &str,
    signatures: &Signatures,
) -> Option<Option<Template>> {
    let found: Vec<ElementRef> = document
        .children(signed)
        .into_iter()
        .filter(|child| document.name(*child) == Some((NS_DSIG, "Signature")))
        .collect();
    let signature = match found.as_slice() {
        [] => return Some(None),
        [signature] => *signature,
        _ => return None,
    };
    let mut expected = String::with_capacity(2048);
    push_signature_template(&mut expected, id, signatures);
    if document.source(signature)? != expected {
        return None;
    }
    let parts = document.children(signature);
    let signed_info = *parts.first()?;
    let signature_value = *parts.get(1)?;
    let reference = *document.children(signed_info).get(2)?;
    let digest_value = *document.children(reference).get(2)?;
    if !document.is_empty(digest_value) || !document.is_empty(signature_value) {
        return None;
    }
    Some(Some(Template { signed, signature, signed_info, digest_value, signature_value }))
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
