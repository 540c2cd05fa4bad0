//! Okta's "signed requests" app option: an AuthnRequest must carry a valid
//! signature by the SP's certificate, by either binding (SAML Bindings
//! 3.4.4.1 and 3.5.4).
//!
//! HTTP-Redirect: the signature covers the query string's own encoded bytes,
//! `SAMLRequest=…&RelayState=…&SigAlg=…` in that order, so it is checked on
//! the raw query, never on decoded values. HTTP-POST: an enveloped XML
//! signature on the AuthnRequest whose one Reference is `#` + its ID,
//! checked with libxmlsec1. Only RSA-SHA256 or stronger is accepted.
//!
//! Pure: the certificate comes from the app's settings.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD};
use xmlsec::{XmlSecDocumentExt, XmlSecKey, XmlSecKeyFormat, XmlSecSignatureContext};

use super::response::NS_PROTOCOL;

const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The signature algorithms accepted, with their JWS equivalents for the
/// redirect binding's detached signature.
const ALGORITHMS: [(&str, jsonwebtoken::Algorithm); 3] = [
    ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", jsonwebtoken::Algorithm::RS256),
    ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", jsonwebtoken::Algorithm::RS384),
    ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", jsonwebtoken::Algorithm::RS512),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestSignatureError {
    #[error("The AuthnRequest is not signed, and this app requires signed requests.")]
    Unsigned,
    #[error("The AuthnRequest signature algorithm '{0}' is not accepted.")]
    Algorithm(String),
    #[error("The AuthnRequest signature is not valid for this app's signature certificate.")]
    Invalid,
    #[error("The app's signature certificate cannot be loaded.")]
    Certificate,
}

/// One `name=value` pair of the raw query, value still URL-encoded.
fn raw_parameter<'a>(query: &'a str, name: &str) -> Result<Option<&'a str>, RequestSignatureError> {
    let mut found = None;
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == name {
            if found.is_some() {
                // Two values: which one was signed cannot be told.
                return Err(RequestSignatureError::Invalid);
            }
            found = Some(value);
        }
    }
    Ok(found)
}

/// A query value decoded as a form would be: `+` is a space, then
/// percent-decoding.
fn decoded(value: &str) -> String {
    percent_encoding::percent_decode_str(&value.replace('+', " ")).decode_utf8_lossy().into_owned()
}

fn algorithm(uri: &str) -> Result<jsonwebtoken::Algorithm, RequestSignatureError> {
    ALGORITHMS
        .iter()
        .find(|(known, _)| *known == uri)
        .map(|(_, algorithm)| *algorithm)
        .ok_or_else(|| RequestSignatureError::Algorithm(uri.to_owned()))
}

/// Checks the HTTP-Redirect binding's detached signature over `raw_query`.
pub fn verify_redirect(raw_query: &str, certificate_pem: &str) -> Result<(), RequestSignatureError> {
    let request = raw_parameter(raw_query, "SAMLRequest")?.ok_or(RequestSignatureError::Unsigned)?;
    let relay_state = raw_parameter(raw_query, "RelayState")?;
    let (Some(sig_alg), Some(signature)) =
        (raw_parameter(raw_query, "SigAlg")?, raw_parameter(raw_query, "Signature")?)
    else {
        return Err(RequestSignatureError::Unsigned);
    };
    let algorithm = algorithm(&decoded(sig_alg))?;
    let mut signed = format!("SAMLRequest={request}");
    if let Some(relay_state) = relay_state {
        signed.push_str(&format!("&RelayState={relay_state}"));
    }
    signed.push_str(&format!("&SigAlg={sig_alg}"));
    let compact: String = decoded(signature).chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = BASE64.decode(compact.as_bytes()).map_err(|_| RequestSignatureError::Invalid)?;
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(certificate_pem.as_bytes())
        .map_err(|_| RequestSignatureError::Certificate)?;
    let valid = jsonwebtoken::crypto::verify(&URL_SAFE_NO_PAD.encode(bytes), signed.as_bytes(), &key, algorithm)
        .unwrap_or(false);
    if valid { Ok(()) } else { Err(RequestSignatureError::Invalid) }
}

/// Checks the HTTP-POST binding's enveloped signature on the AuthnRequest.
pub fn verify_post(xml: &str, certificate_pem: &str) -> Result<(), RequestSignatureError> {
    verify_enveloped_root(xml, certificate_pem).map_err(|refusal| match refusal {
        EnvelopedRefusal::Unreadable | EnvelopedRefusal::Invalid => RequestSignatureError::Invalid,
        EnvelopedRefusal::Unsigned => RequestSignatureError::Unsigned,
        EnvelopedRefusal::Algorithm(uri) => RequestSignatureError::Algorithm(uri),
        EnvelopedRefusal::Certificate => RequestSignatureError::Certificate,
    })
}

/// Why an enveloped signature on a message's root was refused; each caller
/// turns it into its own protocol error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EnvelopedRefusal {
    /// The text is not XML with a root element carrying an `ID`.
    Unreadable,
    Unsigned,
    Algorithm(String),
    Invalid,
    Certificate,
}

/// The HTTP-POST binding's signature on a request (an AuthnRequest or a
/// LogoutRequest): exactly one `ds:Signature` child of the root, an
/// accepted algorithm, one Reference to the root's own ID, verified with
/// libxmlsec1 against `certificate_pem` only. A signature anywhere else (in
/// a carried Assertion, say) is never looked at, so a signed element
/// wrapped inside proves nothing about the message.
pub(crate) fn verify_enveloped_root(xml: &str, certificate_pem: &str) -> Result<(), EnvelopedRefusal> {
    let document = super::parse_strictly(xml).map_err(|_| EnvelopedRefusal::Unreadable)?;
    let root = document.get_root_element().ok_or(EnvelopedRefusal::Unreadable)?;
    let id = root.get_attribute_no_ns("ID").ok_or(EnvelopedRefusal::Unreadable)?;
    let in_dsig = |node: &libxml::tree::Node, name: &str| {
        node.get_name() == name && node.get_namespace().is_some_and(|ns| ns.get_href() == NS_DSIG)
    };
    let signatures: Vec<_> = root.get_child_elements().into_iter().filter(|n| in_dsig(n, "Signature")).collect();
    let signature = match signatures.as_slice() {
        [] => return Err(EnvelopedRefusal::Unsigned),
        [one] => one,
        _ => return Err(EnvelopedRefusal::Invalid),
    };
    let signed_info = signature
        .get_child_elements()
        .into_iter()
        .find(|n| in_dsig(n, "SignedInfo"))
        .ok_or(EnvelopedRefusal::Invalid)?;
    let method = signed_info
        .get_child_elements()
        .into_iter()
        .find(|n| in_dsig(n, "SignatureMethod"))
        .and_then(|n| n.get_attribute_no_ns("Algorithm"))
        .unwrap_or_default();
    algorithm(&method).map_err(|_| EnvelopedRefusal::Algorithm(method.clone()))?;
    let references: Vec<_> = signed_info.get_child_elements().into_iter().filter(|n| in_dsig(n, "Reference")).collect();
    let [reference] = references.as_slice() else {
        return Err(EnvelopedRefusal::Invalid);
    };
    // The signature must cover the message that is read, not another
    // element with an ID.
    if reference.get_attribute_no_ns("URI").as_deref() != Some(&format!("#{id}")) {
        return Err(EnvelopedRefusal::Invalid);
    }
    document.specify_idattr("/*", "ID", Some(&[("samlp", NS_PROTOCOL)])).map_err(|_| EnvelopedRefusal::Invalid)?;
    let key = XmlSecKey::from_memory(certificate_pem.as_bytes(), XmlSecKeyFormat::CertPem, None)
        .map_err(|_| EnvelopedRefusal::Certificate)?;
    // A refusal is answered with the caller's own error; libxmlsec1's
    // stderr report of it would only be noise.
    super::xmlsec_quiet::install();
    let mut context = XmlSecSignatureContext::new();
    context.insert_key(key);
    if context.verify_node(signature).unwrap_or(false) { Ok(()) } else { Err(EnvelopedRefusal::Invalid) }
}
