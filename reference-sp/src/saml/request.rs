//! AuthnRequests for SP-initiated sign-in, sent with the HTTP-Redirect
//! binding (deflated, in the query) or the HTTP-POST binding (base64, in an
//! auto-submitting form).

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::xml_escape;

/// An AuthnRequest posted to the IdP by the browser (SAML Bindings 3.5):
/// the form's action and its two fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostedAuthnRequest {
    pub action: String,
    /// The request, base64 (not deflated, as the POST binding says).
    pub saml_request: String,
    pub relay_state: String,
}

/// Builds the POST-binding form fields for a new AuthnRequest.
pub fn posted(
    sso_url: &str,
    request_id: &str,
    sp_entity_id: &str,
    acs_url: &str,
    relay_state: &str,
    now: OffsetDateTime,
) -> PostedAuthnRequest {
    let xml = authn_request_xml(sso_url, request_id, sp_entity_id, acs_url, now);
    PostedAuthnRequest {
        action: sso_url.to_owned(),
        saml_request: BASE64.encode(xml.as_bytes()),
        relay_state: relay_state.to_owned(),
    }
}

/// The page that posts `request` to the IdP as soon as it loads, with a
/// button for browsers without JavaScript.
pub fn render_post_form(request: &PostedAuthnRequest) -> String {
    let relay = if request.relay_state.is_empty() {
        String::new()
    } else {
        format!("<input type=\"hidden\" name=\"RelayState\" value=\"{}\"/>", xml_escape(&request.relay_state))
    };
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"/><title>Signing in</title></head>\n<body onload=\"document.forms[0].submit()\">\n<form method=\"post\" action=\"{}\"><div><input type=\"hidden\" name=\"SAMLRequest\" value=\"{}\"/>{relay}</div>\n<noscript><div><input type=\"submit\" value=\"Continue\"/></div></noscript></form>\n</body></html>\n",
        xml_escape(&request.action),
        xml_escape(&request.saml_request),
    )
}

fn authn_request_xml(
    sso_url: &str,
    request_id: &str,
    sp_entity_id: &str,
    acs_url: &str,
    now: OffsetDateTime,
) -> String {
    format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{}\" Version=\"2.0\" IssueInstant=\"{}\" Destination=\"{}\" AssertionConsumerServiceURL=\"{}\" ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\"><saml:Issuer>{}</saml:Issuer><samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified\" AllowCreate=\"true\"/></samlp:AuthnRequest>",
        xml_escape(request_id),
        now.format(&Rfc3339).unwrap_or_default(),
        xml_escape(sso_url),
        xml_escape(acs_url),
        xml_escape(sp_entity_id)
    )
}

/// Builds the redirect URL to the IdP carrying a new AuthnRequest.
pub fn redirect_url(
    sso_url: &str,
    request_id: &str,
    sp_entity_id: &str,
    acs_url: &str,
    relay_state: &str,
    now: OffsetDateTime,
) -> String {
    let xml = authn_request_xml(sso_url, request_id, sp_entity_id, acs_url, now);
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    let deflated = match encoder.write_all(xml.as_bytes()) {
        Ok(()) => encoder.finish().unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let mut url = match url::Url::parse(sso_url) {
        Ok(url) => url,
        Err(_) => return sso_url.to_owned(),
    };
    url.query_pairs_mut().append_pair("SAMLRequest", &BASE64.encode(deflated));
    if !relay_state.is_empty() {
        url.query_pairs_mut().append_pair("RelayState", relay_state);
    }
    url.into()
}
