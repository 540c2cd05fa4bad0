//! Decoding and reading AuthnRequests from the HTTP-Redirect and HTTP-POST bindings.
//!
//! Input is hostile: sizes are bounded before and during inflation, a DTD is
//! refused before parsing, and every failure is an [`AuthnRequestError`].

use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use flate2::read::DeflateDecoder;

use super::response::{NS_ASSERTION, NS_PROTOCOL};

/// The largest encoded SAMLRequest accepted.
pub const MAX_ENCODED_LEN: usize = 64 * 1024;
/// The largest AuthnRequest accepted after decoding and inflating.
pub const MAX_XML_LEN: usize = 128 * 1024;

/// How the request arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding {
    /// Query string, raw DEFLATE then base64.
    Redirect,
    /// Form field, base64 only.
    Post,
}

/// An AuthnRequest as it arrived at the SSO URL, before it is decoded.
#[derive(Clone, Debug)]
pub struct ReceivedRequest<'a> {
    /// The SAMLRequest parameter.
    pub saml_request: &'a str,
    pub binding: Binding,
    pub relay_state: Option<String>,
    /// The query string as sent, for the redirect binding's signature, which
    /// covers the encoded bytes.
    pub raw_query: Option<&'a str>,
}

/// What the IdP needs from an AuthnRequest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthnRequest {
    pub id: String,
    pub issuer: Option<String>,
    pub acs_url: Option<String>,
    pub acs_index: Option<u16>,
    pub force_authn: bool,
    pub is_passive: bool,
    pub destination: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthnRequestError {
    #[error("SAMLRequest is larger than {MAX_ENCODED_LEN} bytes")]
    TooLarge,
    #[error("SAMLRequest is not valid base64")]
    Base64,
    #[error("SAMLRequest is not valid DEFLATE data")]
    Inflate,
    #[error("SAMLRequest inflates to more than {MAX_XML_LEN} bytes")]
    InflatedTooLarge,
    #[error("SAMLRequest is not UTF-8")]
    Encoding,
    #[error("SAMLRequest contains a DTD, which is not allowed")]
    Doctype,
    #[error("SAMLRequest is not well-formed XML")]
    Xml,
    #[error("SAMLRequest is not a samlp:AuthnRequest")]
    NotAuthnRequest,
    #[error("AuthnRequest has no ID")]
    MissingId,
    #[error("AuthnRequest has an invalid {0} attribute")]
    BadAttribute(&'static str),
}

/// Decodes a SAMLRequest parameter to XML text.
pub fn decode(encoded: &str, binding: Binding) -> Result<String, AuthnRequestError> {
    if encoded.len() > MAX_ENCODED_LEN {
        return Err(AuthnRequestError::TooLarge);
    }
    // Some SPs wrap the base64 at 64 or 76 columns in the POST binding.
    let compact: String = encoded.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let raw = BASE64.decode(compact.as_bytes()).map_err(|_| AuthnRequestError::Base64)?;
    let bytes = match binding {
        Binding::Post => raw,
        Binding::Redirect => {
            let mut inflated = Vec::new();
            let limit = u64::try_from(MAX_XML_LEN).unwrap_or(u64::MAX) + 1;
            DeflateDecoder::new(raw.as_slice())
                .take(limit)
                .read_to_end(&mut inflated)
                .map_err(|_| AuthnRequestError::Inflate)?;
            inflated
        }
    };
    if bytes.len() > MAX_XML_LEN {
        return Err(AuthnRequestError::InflatedTooLarge);
    }
    String::from_utf8(bytes).map_err(|_| AuthnRequestError::Encoding)
}

/// Reads an AuthnRequest document.
pub fn parse(xml: &str) -> Result<AuthnRequest, AuthnRequestError> {
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err(AuthnRequestError::Doctype);
    }
    let document = super::parse_strictly(xml).map_err(|_| AuthnRequestError::Xml)?;
    let root = document.get_root_element().ok_or(AuthnRequestError::Xml)?;
    let in_protocol = root.get_namespace().is_some_and(|ns| ns.get_href() == NS_PROTOCOL);
    if root.get_name() != "AuthnRequest" || !in_protocol {
        return Err(AuthnRequestError::NotAuthnRequest);
    }
    let id = root.get_attribute_no_ns("ID").filter(|id| !id.is_empty()).ok_or(AuthnRequestError::MissingId)?;
    let issuer = root
        .get_child_elements()
        .into_iter()
        .find(|child| {
            child.get_name() == "Issuer" && child.get_namespace().is_some_and(|ns| ns.get_href() == NS_ASSERTION)
        })
        .map(|issuer| issuer.get_content().trim().to_owned());
    let force_authn = boolean(root.get_attribute_no_ns("ForceAuthn"), "ForceAuthn")?;
    let is_passive = boolean(root.get_attribute_no_ns("IsPassive"), "IsPassive")?;
    let acs_index = match root.get_attribute_no_ns("AssertionConsumerServiceIndex") {
        None => None,
        Some(text) => {
            Some(text.parse::<u16>().map_err(|_| AuthnRequestError::BadAttribute("AssertionConsumerServiceIndex"))?)
        }
    };
    Ok(AuthnRequest {
        id,
        issuer,
        acs_url: root.get_attribute_no_ns("AssertionConsumerServiceURL"),
        acs_index,
        force_authn,
        is_passive,
        destination: root.get_attribute_no_ns("Destination"),
    })
}

fn boolean(value: Option<String>, name: &'static str) -> Result<bool, AuthnRequestError> {
    match value.as_deref().map(str::trim) {
        None => Ok(false),
        Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(_) => Err(AuthnRequestError::BadAttribute(name)),
    }
}

/// Encodes an AuthnRequest for the HTTP-Redirect binding (used by tests and
/// the conformance suite's SP stand-in).
pub fn encode_redirect(xml: &str) -> String {
    use std::io::Write;
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    let deflated = match encoder.write_all(xml.as_bytes()) {
        Ok(()) => encoder.finish().unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    BASE64.encode(deflated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_authn_request_cut_short_is_refused_as_unreadable() {
        let cut = "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"r1\" Version=\"2.0\"><saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">https://sp.test</saml:Issuer>";
        // libxml's default options would recover this into a request.
        assert!(libxml::parser::Parser::default().parse_string(cut).is_ok());
        assert!(matches!(parse(cut), Err(AuthnRequestError::Xml)));
    }

    const REQUEST: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="ONELOGIN_123" Version="2.0" IssueInstant="2024-01-01T00:00:00Z" AssertionConsumerServiceURL="http://127.0.0.1:7100/sso/acs/acme" ForceAuthn="true"><saml:Issuer>http://sp.test</saml:Issuer></samlp:AuthnRequest>"#;

    #[test]
    fn redirect_binding_round_trips() {
        let decoded = decode(&encode_redirect(REQUEST), Binding::Redirect).unwrap();
        let request = parse(&decoded).unwrap();
        assert_eq!(request.id, "ONELOGIN_123");
        assert_eq!(request.issuer.as_deref(), Some("http://sp.test"));
        assert_eq!(request.acs_url.as_deref(), Some("http://127.0.0.1:7100/sso/acs/acme"));
        assert!(request.force_authn);
    }

    #[test]
    fn post_binding_accepts_wrapped_base64() {
        let encoded = BASE64.encode(REQUEST);
        let wrapped: String = encoded.as_bytes().chunks(64).map(|c| String::from_utf8_lossy(c) + "\r\n").collect();
        assert_eq!(parse(&decode(&wrapped, Binding::Post).unwrap()).unwrap().id, "ONELOGIN_123");
    }

    #[test]
    fn doctype_in_request_rejected() {
        let evil = format!("<!DOCTYPE x [<!ENTITY e \"e\">]>{REQUEST}");
        assert_eq!(parse(&evil), Err(AuthnRequestError::Doctype));
    }

    #[test]
    fn deflate_bomb_rejected() {
        let bomb = encode_redirect(&" ".repeat(MAX_XML_LEN * 4));
        assert_eq!(decode(&bomb, Binding::Redirect), Err(AuthnRequestError::InflatedTooLarge));
    }

    #[test]
    fn other_root_element_rejected() {
        let xml = REQUEST.replace("AuthnRequest", "LogoutRequest");
        assert_eq!(parse(&xml), Err(AuthnRequestError::NotAuthnRequest));
    }

    proptest! {
        #[test]
        fn prop_decoder_never_panics_on_arbitrary_text(text in ".{0,400}", redirect in any::<bool>()) {
            let binding = if redirect { Binding::Redirect } else { Binding::Post };
            if let Ok(xml) = decode(&text, binding) {
                let _ = parse(&xml);
            }
        }

        #[test]
        fn prop_decoder_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let encoded = encode_redirect(&String::from_utf8_lossy(&bytes));
            if let Ok(xml) = decode(&encoded, Binding::Redirect) {
                let _ = parse(&xml);
            }
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn prop_mutated_requests_never_panic(cut in 0usize..400, insert in ".{0,20}") {
            let at = cut.min(REQUEST.len());
            let at = (0..=at).rev().find(|i| REQUEST.is_char_boundary(*i)).unwrap_or(0);
            let mutated = format!("{}{}{}", &REQUEST[..at], insert, &REQUEST[at..]);
            let _ = parse(&mutated);
        }
    }
}
