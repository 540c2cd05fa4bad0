//! Okta's SP-initiated Single Logout: reading a LogoutRequest, checking its
//! signature with the SP's certificate, and rendering the LogoutResponse.
//!
//! Okta ends its session only for a LogoutRequest signed by the certificate
//! uploaded as the app's "Signature Certificate", sent by the app's "SP
//! Issuer"; it answers with a signed LogoutResponse POSTed to the app's
//! "Single Logout URL". The HTTP-Redirect binding's signature covers the raw
//! query (SAML Bindings 3.4.4.1, checked by
//! [`super::request_signature::verify_redirect`]); the HTTP-POST binding's is
//! an enveloped XML signature on the LogoutRequest itself, whose one
//! Reference must name the LogoutRequest's own ID (SAML Bindings 3.5.4), so a
//! signed Assertion carried inside proves nothing.
//!
//! Pure: the time and ids come in as arguments.

use time::OffsetDateTime;

use super::authn_request::Binding;
use super::request_signature::EnvelopedRefusal;
use super::response::{
    NS_ASSERTION, NS_PROTOCOL, STATUS_SUCCESS, XML_DECLARATION, push_issuer, push_signature_template, saml_time,
};
use super::xml::escape;
use crate::org::SignatureAlgorithm;

/// The top-level status of a refused LogoutRequest (SAML Core 3.2.2.2).
pub const STATUS_REQUESTER: &str = "urn:oasis:names:tc:SAML:2.0:status:Requester";
/// The second-level status of a refused LogoutRequest.
pub const STATUS_REQUEST_DENIED: &str = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied";

/// Why a LogoutRequest was not honoured. Each becomes a `Requester` /
/// `RequestDenied` LogoutResponse, except an unreadable message, which has
/// no ID to answer and gets the error page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoutError {
    #[error("The SAMLRequest is not a readable samlp:LogoutRequest.")]
    Unreadable,
    #[error("The LogoutRequest is not signed, and Okta requires signed logout requests.")]
    Unsigned,
    #[error("The LogoutRequest signature is not valid for this app's signature certificate.")]
    BadSignature,
    #[error("The LogoutRequest Issuer '{found}' is not this app's SP Issuer '{expected}'.")]
    WrongIssuer { found: String, expected: String },
    #[error("Single Logout is not enabled for this app.")]
    NotEnabled,
}

/// What the IdP reads from a LogoutRequest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoutRequest {
    pub id: String,
    pub issuer: Option<String>,
    pub destination: Option<String>,
    pub name_id: Option<String>,
    pub session_indexes: Vec<String>,
}

/// Reads a LogoutRequest document (already decoded from its binding).
pub fn parse(xml: &str) -> Result<LogoutRequest, LogoutError> {
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err(LogoutError::Unreadable);
    }
    let document = super::parse_strictly(xml).map_err(|_| LogoutError::Unreadable)?;
    let root = document.get_root_element().ok_or(LogoutError::Unreadable)?;
    let in_namespace = |node: &libxml::tree::Node, namespace: &str, name: &str| {
        node.get_name() == name && node.get_namespace().is_some_and(|ns| ns.get_href() == namespace)
    };
    if !in_namespace(&root, NS_PROTOCOL, "LogoutRequest") {
        return Err(LogoutError::Unreadable);
    }
    let id = root.get_attribute_no_ns("ID").filter(|id| !id.is_empty()).ok_or(LogoutError::Unreadable)?;
    let children = root.get_child_elements();
    let text_of = |namespace: &str, name: &str| {
        children.iter().find(|c| in_namespace(c, namespace, name)).map(|c| c.get_content().trim().to_owned())
    };
    Ok(LogoutRequest {
        id,
        issuer: text_of(NS_ASSERTION, "Issuer"),
        destination: root.get_attribute_no_ns("Destination"),
        name_id: text_of(NS_ASSERTION, "NameID"),
        session_indexes: children
            .iter()
            .filter(|c| in_namespace(c, NS_PROTOCOL, "SessionIndex"))
            .map(|c| c.get_content().trim().to_owned())
            .collect(),
    })
}

/// Checks the LogoutRequest's signature by its binding: the redirect
/// binding's detached signature over `raw_query`, or the POST binding's
/// enveloped signature on the LogoutRequest element itself.
pub fn verify_signature(
    xml: &str,
    binding: Binding,
    raw_query: Option<&str>,
    certificate_pem: &str,
) -> Result<(), LogoutError> {
    match binding {
        Binding::Redirect => super::request_signature::verify_redirect(raw_query.unwrap_or_default(), certificate_pem)
            .map_err(|error| match error {
                super::request_signature::RequestSignatureError::Unsigned => LogoutError::Unsigned,
                _ => LogoutError::BadSignature,
            }),
        Binding::Post => verify_enveloped(xml, certificate_pem),
    }
}

/// The POST binding: the LogoutRequest's own enveloped signature, checked as
/// a POSTed AuthnRequest's is (`request_signature::verify_enveloped_root`).
fn verify_enveloped(xml: &str, certificate_pem: &str) -> Result<(), LogoutError> {
    super::request_signature::verify_enveloped_root(xml, certificate_pem).map_err(|refusal| match refusal {
        EnvelopedRefusal::Unreadable => LogoutError::Unreadable,
        EnvelopedRefusal::Unsigned => LogoutError::Unsigned,
        EnvelopedRefusal::Algorithm(_) | EnvelopedRefusal::Invalid | EnvelopedRefusal::Certificate => {
            LogoutError::BadSignature
        }
    })
}

/// Whether Okta honoured the LogoutRequest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogoutStatus {
    Success,
    /// `Requester` with the second-level `RequestDenied`.
    RequestDenied,
}

/// Everything that goes into one LogoutResponse.
#[derive(Clone, Debug, PartialEq)]
pub struct LogoutResponseContent {
    pub id: String,
    pub issuer: String,
    /// The app's Single Logout URL.
    pub destination: String,
    pub in_response_to: String,
    pub issue_instant: OffsetDateTime,
    pub status: LogoutStatus,
    pub algorithm: SignatureAlgorithm,
    /// The IdP's signing certificate, base64 on one line, for KeyInfo.
    pub certificate: String,
}

/// Renders the LogoutResponse in Okta's serialisation (as its Responses:
/// attributes in alphabetical order, then the namespace declaration), with
/// an empty signature template after the Issuer.
pub fn render_response(content: &LogoutResponseContent) -> String {
    let mut xml = String::with_capacity(2048);
    xml.push_str(XML_DECLARATION);
    xml.push_str(&format!(
        "<saml2p:LogoutResponse Destination=\"{}\" ID=\"{}\" InResponseTo=\"{}\" IssueInstant=\"{}\" Version=\"2.0\" xmlns:saml2p=\"{NS_PROTOCOL}\">",
        escape(&content.destination),
        escape(&content.id),
        escape(&content.in_response_to),
        saml_time(content.issue_instant),
    ));
    push_issuer(&mut xml, &content.issuer);
    let signatures = super::response::Signatures {
        response: true,
        assertion: false,
        algorithm: content.algorithm,
        certificate: content.certificate.clone(),
    };
    push_signature_template(&mut xml, &content.id, &signatures);
    xml.push_str(&format!("<saml2p:Status xmlns:saml2p=\"{NS_PROTOCOL}\">"));
    match content.status {
        LogoutStatus::Success => xml.push_str(&format!("<saml2p:StatusCode Value=\"{STATUS_SUCCESS}\"/>")),
        LogoutStatus::RequestDenied => xml.push_str(&format!(
            "<saml2p:StatusCode Value=\"{STATUS_REQUESTER}\"><saml2p:StatusCode Value=\"{STATUS_REQUEST_DENIED}\"/></saml2p:StatusCode>"
        )),
    }
    xml.push_str("</saml2p:Status></saml2p:LogoutResponse>");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &str = r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_logout1" Version="2.0" IssueInstant="2024-01-01T00:00:00Z" Destination="http://idp.test/slo"><saml:Issuer>http://sp.test</saml:Issuer><saml:NameID>alice@acme.test</saml:NameID><samlp:SessionIndex>id123</samlp:SessionIndex></samlp:LogoutRequest>"#;

    #[test]
    fn a_logout_request_is_read() {
        let request = parse(REQUEST).unwrap();
        assert_eq!(request.id, "_logout1");
        assert_eq!(request.issuer.as_deref(), Some("http://sp.test"));
        assert_eq!(request.name_id.as_deref(), Some("alice@acme.test"));
        assert_eq!(request.session_indexes, vec!["id123".to_owned()]);
        assert_eq!(parse(&REQUEST.replace("LogoutRequest", "AuthnRequest")), Err(LogoutError::Unreadable));
        assert_eq!(parse(&format!("<!DOCTYPE x>{REQUEST}")), Err(LogoutError::Unreadable));
    }

    #[test]
    fn an_unsigned_post_request_is_refused_as_unsigned() {
        assert_eq!(verify_signature(REQUEST, Binding::Post, None, "not a certificate"), Err(LogoutError::Unsigned));
        assert_eq!(
            verify_signature(REQUEST, Binding::Redirect, Some("SAMLRequest=x"), "x"),
            Err(LogoutError::Unsigned)
        );
    }
}
