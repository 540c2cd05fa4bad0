//! What a customer pastes into a support ticket, decoded into one typed
//! [`Message`]: a SAMLResponse as base64, XML, a form body or the whole
//! auto-post page; a compact JWT, alone, in a `form_post` body or in a token
//! endpoint's JSON answer; a HAR file exported from the browser, a proxy or
//! the relying party's HTTP client; or an OpenID Connect discovery document.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::ExplainError;
use super::har::Har;

/// A decoded message.
#[derive(Clone, Debug)]
pub enum Message {
    /// The SAML Response's XML text.
    SamlResponse(String),
    /// A compact JWS (`header.payload.signature`).
    Jwt(String),
    /// A HAR export (a browser's, a proxy's or an HTTP client's).
    Har(Har),
    /// An OpenID Connect discovery document (or RFC 8414 metadata).
    Discovery(serde_json::Map<String, serde_json::Value>),
}

/// Decodes `text` by its shape. The order matters: JSON first (a HAR file),
/// then markup (an auto-post page or the XML itself), a form body, a JWT,
/// and last base64, which many other shapes would also pass for.
pub fn decode(text: &str) -> Result<Message, ExplainError> {
    let trimmed = text.trim().trim_start_matches('\u{feff}');
    if trimmed.is_empty() {
        return Err(ExplainError::Empty);
    }
    if trimmed.starts_with('{') {
        // A token endpoint's answer, pasted from the browser's network tab,
        // carries the ID token in a field; anything else in JSON is a HAR file.
        if let Ok(serde_json::Value::Object(answer)) = serde_json::from_str::<serde_json::Value>(trimmed) {
            if let Some(serde_json::Value::String(token)) = answer.get("id_token") {
                return Ok(Message::Jwt(token.clone()));
            }
            // A discovery document names its issuer and its endpoints; a HAR
            // file has neither at the top.
            let endpoint = ["jwks_uri", "authorization_endpoint", "token_endpoint"];
            if answer.get("issuer").is_some_and(serde_json::Value::is_string)
                && endpoint.iter().any(|name| answer.contains_key(*name))
            {
                return Ok(Message::Discovery(answer));
            }
        }
        return Har::parse(trimmed).map(Message::Har);
    }
    if trimmed.starts_with('<') {
        let lower = trimmed.to_ascii_lowercase();
        if lower.contains("<form") || lower.starts_with("<!doctype html") || lower.starts_with("<html") {
            let form = crate::runner::form::parse(trimmed)
                .ok_or_else(|| ExplainError::Unrecognised("an HTML page without a POST form".to_owned()))?;
            let value = form
                .field("SAMLResponse")
                .ok_or_else(|| ExplainError::Unrecognised("an HTML form without a SAMLResponse field".to_owned()))?;
            return saml_from_base64(value);
        }
        return Ok(Message::SamlResponse(trimmed.to_owned()));
    }
    if let Some(value) = form_body_field(trimmed, "SAMLResponse") {
        return saml_from_base64(&value);
    }
    if let Some(token) = form_body_field(trimmed, "id_token") {
        return Ok(Message::Jwt(token));
    }
    if looks_like_jwt(trimmed) {
        return Ok(Message::Jwt(trimmed.to_owned()));
    }
    saml_from_base64(trimmed)
}

/// The value of `name` in an `application/x-www-form-urlencoded` body, if
/// the text is one and has it.
pub(crate) fn form_body_field(body: &str, name: &str) -> Option<String> {
    if !body.contains('=') {
        return None;
    }
    url::form_urlencoded::parse(body.as_bytes()).find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

/// Three dot-separated base64url segments, the first two non-empty (the
/// signature is empty for `alg: none`).
fn looks_like_jwt(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    let base64url = |part: &str| part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    parts.len() == 3 && !parts[0].is_empty() && !parts[1].is_empty() && parts.iter().all(|p| base64url(p))
}

/// A SAMLResponse field's value: base64 of the XML (line breaks allowed, as
/// some SPs log it wrapped).
pub(crate) fn saml_from_base64(value: &str) -> Result<Message, ExplainError> {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes =
        STANDARD.decode(compact.as_bytes()).map_err(|e| ExplainError::Unrecognised(format!("not base64 ({e})")))?;
    let xml = String::from_utf8(bytes)
        .map_err(|_| ExplainError::Unrecognised("base64 of something that is not UTF-8 text".to_owned()))?;
    if !xml.trim_start().starts_with('<') {
        return Err(ExplainError::Unrecognised("base64 of something that is not XML".to_owned()));
    }
    Ok(Message::SamlResponse(xml))
}
