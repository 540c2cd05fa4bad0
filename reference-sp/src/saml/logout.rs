//! SAML Single Logout at the SP (SAML Profiles 4.4): the LogoutRequest the
//! SP sends to end the IdP's session, and the checks on what the IdP sends
//! back to `/sso/slo/{tenant}`: its LogoutResponse, or (when the tenant
//! allows it) its own LogoutRequest.
//!
//! A logout message counts only through its own signature: exactly one
//! `ds:Signature` child of the message's root element, whose one Reference
//! is `#` + the root's ID, verified with the IdP's pinned certificates. A
//! signed Assertion carried inside a LogoutRequest (the samlify bug,
//! GHSA-63ch-w8pw-4mf2) proves nothing about the LogoutRequest.
//!
//! Pure: no IO; the time comes in as `now`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use libxml::tree::{Document, Node};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use xmlsec::XmlSecDocumentExt;

use super::verify::{MAX_ENCODED_LEN, NS_ASSERTION, NS_DSIG, NS_PROTOCOL, check_signed_info, children};
use super::{SamlError, descendants, is, xml_escape};

const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

/// What a logout message from the IdP must match.
#[derive(Clone, Copy, Debug)]
pub struct LogoutExpectations<'a> {
    pub idp_entity_id: &'a str,
    /// The IdP's pinned signing certificates (base64 DER).
    pub certificates: &'a [String],
    /// This tenant's Single Logout URL, the message's Destination.
    pub slo_url: &'a str,
    /// Where the signature may be: on the root only (correct), or anywhere
    /// in the document (the `slo-signature-anywhere` flaw).
    pub signature_anywhere: bool,
}

/// A LogoutRequest from the IdP whose own signature, issuer and
/// destination were checked: the session it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedLogoutRequest {
    pub id: String,
    pub name_id: String,
    pub session_indexes: Vec<String>,
}

/// The SP's LogoutRequest for a session, by the HTTP-Redirect binding:
/// the URL the browser is sent to.
#[allow(clippy::too_many_arguments)]
pub fn logout_request_url(
    idp_slo_url: &str,
    request_id: &str,
    sp_entity_id: &str,
    name_id: &str,
    session_index: Option<&str>,
    relay_state: &str,
    now: OffsetDateTime,
    signing_key: Option<&str>,
) -> Result<String, SamlError> {
    let session_index = session_index
        .map(|index| format!("<samlp:SessionIndex>{}</samlp:SessionIndex>", xml_escape(index)))
        .unwrap_or_default();
    let xml = format!(
        "<samlp:LogoutRequest xmlns:samlp=\"{NS_PROTOCOL}\" xmlns:saml=\"{NS_ASSERTION}\" ID=\"{}\" Version=\"2.0\" IssueInstant=\"{}\" Destination=\"{}\"><saml:Issuer>{}</saml:Issuer><saml:NameID>{}</saml:NameID>{session_index}</samlp:LogoutRequest>",
        xml_escape(request_id),
        now.format(&Rfc3339).unwrap_or_default(),
        xml_escape(idp_slo_url),
        xml_escape(sp_entity_id),
        xml_escape(name_id),
    );
    super::request::redirect_binding_url(idp_slo_url, &xml, relay_state, signing_key)
}

/// Which logout message arrived at the Single Logout URL.
#[derive(Clone, Debug)]
pub enum ReceivedLogout {
    Response(String),
    Request(String),
}

impl ReceivedLogout {
    /// Decodes the POST binding's form value (base64 of the XML).
    pub fn from_form_value(value: &str, is_request: bool) -> Result<Self, SamlError> {
        if value.len() > MAX_ENCODED_LEN {
            return Err(SamlError::TooLarge);
        }
        let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let bytes = BASE64.decode(compact.as_bytes()).map_err(|_| SamlError::Malformed("the message is not base64"))?;
        let xml = String::from_utf8(bytes).map_err(|_| SamlError::Malformed("the message is not UTF-8"))?;
        Ok(if is_request { ReceivedLogout::Request(xml) } else { ReceivedLogout::Response(xml) })
    }
}

/// Parses a logout message whose root must be `samlp:{root_name}`.
fn parse(xml: &str, root_name: &'static str) -> Result<(Document, Node), SamlError> {
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err(SamlError::Doctype);
    }
    let document = super::parse_strictly(xml).map_err(|_| SamlError::Malformed("not well-formed XML"))?;
    let root = document.get_root_element().ok_or(SamlError::Malformed("no root element"))?;
    if !is(&root, NS_PROTOCOL, root_name) {
        return Err(SamlError::Malformed(if root_name == "LogoutRequest" {
            "the root element is not samlp:LogoutRequest"
        } else {
            "the root element is not samlp:LogoutResponse"
        }));
    }
    Ok((document, root))
}

/// Verifies one signature with the pinned certificates.
fn verifies_with_pinned(signature: &Node, certificates: &[String]) -> Result<bool, SamlError> {
    super::verify::verifies_with_any(signature, certificates, "the logout message's signature")
}

/// The message's own signature: one `ds:Signature` child of the root that
/// references the root's ID and verifies with a pinned certificate.
fn verify_own_signature(document: &Document, root: &Node, certificates: &[String]) -> Result<(), SamlError> {
    let signatures = children(root, NS_DSIG, "Signature");
    let signature = match signatures.as_slice() {
        [] => return Err(SamlError::LogoutUnsigned),
        [one] => one,
        _ => return Err(SamlError::SignatureStructure("more than one Signature on one element")),
    };
    let id = root.get_attribute_no_ns("ID").ok_or(SamlError::Missing("ID of the logout message"))?;
    check_signed_info(signature, false, Some(&id))?;
    document
        .specify_idattr("/*", "ID", None)
        .map_err(|_| SamlError::Malformed("the logout message's ID cannot be registered"))?;
    if verifies_with_pinned(signature, certificates)? { Ok(()) } else { Err(SamlError::SignatureInvalid) }
}

/// The `slo-signature-anywhere` flaw (samlify before 2.8.11): any
/// `ds:Signature` in the document that verifies with the IdP's key is
/// taken as the message's, whatever element it signs.
fn verify_any_signature(document: &Document, root: &Node, certificates: &[String]) -> Result<(), SamlError> {
    let signatures = descendants(root, NS_DSIG, "Signature");
    if signatures.is_empty() {
        return Err(SamlError::LogoutUnsigned);
    }
    // Every element with an ID may be a signature's target.
    let _ = document.specify_idattr("//*[@ID]", "ID", None);
    for signature in &signatures {
        if verifies_with_pinned(signature, certificates)? {
            return Ok(());
        }
    }
    Err(SamlError::SignatureInvalid)
}

/// Checks the Issuer and Destination every logout message from the IdP
/// must carry.
fn check_addressing(root: &Node, expect: &LogoutExpectations<'_>) -> Result<(), SamlError> {
    let issuer = children(root, NS_ASSERTION, "Issuer")
        .into_iter()
        .next()
        .map(|issuer| issuer.get_content().trim().to_owned())
        .ok_or(SamlError::Missing("Issuer"))?;
    if issuer != expect.idp_entity_id {
        return Err(SamlError::IssuerMismatch(issuer));
    }
    // A signed message names where it goes (SAML Bindings 3.5.5.2).
    let destination = root.get_attribute_no_ns("Destination").ok_or(SamlError::Missing("Destination"))?;
    if destination != expect.slo_url {
        return Err(SamlError::LogoutDestinationMismatch(destination));
    }
    Ok(())
}

/// Verifies the IdP's LogoutResponse to the LogoutRequest this browser
/// sent (`sent_request_id`): signature, Issuer, Destination, InResponseTo
/// and a Success status.
pub fn verify_logout_response(
    xml: &str,
    expect: &LogoutExpectations<'_>,
    sent_request_id: Option<&str>,
) -> Result<(), SamlError> {
    let (document, root) = parse(xml, "LogoutResponse")?;
    verify_own_signature(&document, &root, expect.certificates)?;
    check_addressing(&root, expect)?;
    let in_response_to = root.get_attribute_no_ns("InResponseTo");
    if sent_request_id.is_none() || in_response_to.as_deref() != sent_request_id {
        return Err(SamlError::InResponseToMismatch);
    }
    let status = children(&root, NS_PROTOCOL, "Status")
        .into_iter()
        .next()
        .and_then(|status| children(&status, NS_PROTOCOL, "StatusCode").into_iter().next())
        .and_then(|code| code.get_attribute_no_ns("Value"))
        .unwrap_or_default();
    if status != STATUS_SUCCESS {
        return Err(SamlError::StatusNotSuccess(status));
    }
    Ok(())
}

/// Verifies a LogoutRequest from the IdP by its own signature, Issuer,
/// Destination and NotOnOrAfter, and reads the session it names.
pub fn verify_logout_request(
    xml: &str,
    expect: &LogoutExpectations<'_>,
    now: OffsetDateTime,
) -> Result<VerifiedLogoutRequest, SamlError> {
    let (document, root) = parse(xml, "LogoutRequest")?;
    if expect.signature_anywhere {
        verify_any_signature(&document, &root, expect.certificates)?;
    } else {
        verify_own_signature(&document, &root, expect.certificates)?;
    }
    check_addressing(&root, expect)?;
    if let Some(text) = root.get_attribute_no_ns("NotOnOrAfter") {
        let until = OffsetDateTime::parse(&text, &Rfc3339).map_err(|_| SamlError::BadTime("NotOnOrAfter"))?;
        if now >= until {
            return Err(SamlError::Expired);
        }
    }
    let id = root.get_attribute_no_ns("ID").ok_or(SamlError::Missing("ID of the LogoutRequest"))?;
    let name_id = children(&root, NS_ASSERTION, "NameID")
        .into_iter()
        .next()
        .map(|name_id| name_id.get_content().trim().to_owned())
        .filter(|name_id| !name_id.is_empty())
        .ok_or(SamlError::Missing("NameID"))?;
    let session_indexes = children(&root, NS_PROTOCOL, "SessionIndex")
        .into_iter()
        .map(|index| index.get_content().trim().to_owned())
        .collect();
    Ok(VerifiedLogoutRequest { id, name_id, session_indexes })
}
