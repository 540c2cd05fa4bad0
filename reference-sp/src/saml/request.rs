//! AuthnRequests for SP-initiated sign-in, sent with the HTTP-Redirect binding.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::xml_escape;

/// Builds the redirect URL to the IdP carrying a new AuthnRequest.
pub fn redirect_url(
    sso_url: &str,
    request_id: &str,
    sp_entity_id: &str,
    acs_url: &str,
    relay_state: &str,
    now: OffsetDateTime,
) -> String {
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{}\" Version=\"2.0\" IssueInstant=\"{}\" Destination=\"{}\" AssertionConsumerServiceURL=\"{}\" ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\"><saml:Issuer>{}</saml:Issuer><samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified\" AllowCreate=\"true\"/></samlp:AuthnRequest>",
        xml_escape(request_id),
        now.format(&Rfc3339).unwrap_or_default(),
        xml_escape(sso_url),
        xml_escape(acs_url),
        xml_escape(sp_entity_id)
    );
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
