//! The provider's discovery document (OpenID Connect Discovery 1.0 §3).
//!
//! The document's `issuer` must equal the configured issuer exactly (§4.3):
//! otherwise an attacker who can serve a document at the configured URL
//! could name another issuer, and tokens from that issuer would pass the
//! `iss` check. Endpoints and the key set's URL are then read from the
//! document.

use serde_json::{Map, Value};

use super::OidcError;

/// What the relying party uses from a discovery document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderMetadata {
    /// The issuer tokens must carry: the configured one, which the document
    /// matched (or, under the `trust-discovery-issuer` flaw, whatever the
    /// document said).
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
    pub end_session_endpoint: Option<String>,
    /// RFC 9207: the provider puts `iss` in its authorization responses, so
    /// a response without it is a mix-up.
    pub authorization_response_iss_parameter_supported: bool,
}

/// Parses a discovery document. `expected_issuer` is the configured issuer;
/// with `issuer_must_match` off (the `trust-discovery-issuer` flaw) the
/// document's issuer is taken instead.
pub fn parse_discovery(
    text: &str,
    expected_issuer: &str,
    issuer_must_match: bool,
) -> Result<ProviderMetadata, OidcError> {
    let document: Map<String, Value> =
        serde_json::from_str(text).map_err(|e| OidcError::DiscoveryInvalid(format!("not a JSON object: {e}")))?;
    let string = |name: &str| -> Result<Option<String>, OidcError> {
        match document.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(value)) => Ok(Some(value.clone())),
            Some(_) => Err(OidcError::DiscoveryInvalid(format!("'{name}' is not a string"))),
        }
    };
    let endpoint = |name: &str| -> Result<Option<String>, OidcError> {
        match string(name)? {
            Some(url) if is_absolute_http_url(&url) => Ok(Some(url)),
            Some(url) => Err(OidcError::DiscoveryInvalid(format!("'{name}' ({url}) is not an absolute http(s) URL"))),
            None => Ok(None),
        }
    };
    let required = |name: &'static str| -> Result<String, OidcError> {
        endpoint(name)?.ok_or_else(|| OidcError::DiscoveryInvalid(format!("'{name}' is missing")))
    };
    let issuer = string("issuer")?.ok_or_else(|| OidcError::DiscoveryInvalid("'issuer' is missing".into()))?;
    if issuer_must_match && issuer != expected_issuer {
        return Err(OidcError::DiscoveryIssuerMismatch { expected: expected_issuer.to_owned(), found: issuer });
    }
    let iss_parameter = match document.get("authorization_response_iss_parameter_supported") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(value)) => *value,
        Some(_) => {
            return Err(OidcError::DiscoveryInvalid(
                "'authorization_response_iss_parameter_supported' is not a boolean".into(),
            ));
        }
    };
    Ok(ProviderMetadata {
        issuer,
        authorization_endpoint: required("authorization_endpoint")?,
        token_endpoint: required("token_endpoint")?,
        userinfo_endpoint: endpoint("userinfo_endpoint")?,
        jwks_uri: required("jwks_uri")?,
        end_session_endpoint: endpoint("end_session_endpoint")?,
        authorization_response_iss_parameter_supported: iss_parameter,
    })
}

/// The discovery URL for an issuer (Discovery §4.1).
pub fn discovery_url(issuer: &str) -> String {
    format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'))
}

fn is_absolute_http_url(value: &str) -> bool {
    url::Url::parse(value).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(issuer: &str) -> String {
        serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": "https://acme.okta.test/oauth2/v1/authorize",
            "token_endpoint": "https://acme.okta.test/oauth2/v1/token",
            "userinfo_endpoint": "https://acme.okta.test/oauth2/v1/userinfo",
            "jwks_uri": "https://acme.okta.test/oauth2/v1/keys",
            "end_session_endpoint": "https://acme.okta.test/oauth2/v1/logout",
        })
        .to_string()
    }

    #[test]
    fn the_issuer_must_match_exactly() {
        let metadata = parse_discovery(&document("https://acme.okta.test"), "https://acme.okta.test", true).unwrap();
        assert_eq!(metadata.token_endpoint, "https://acme.okta.test/oauth2/v1/token");
        for impostor in ["https://acme.okta.test/", "https://ACME.okta.test", "https://evil.test"] {
            let error = parse_discovery(&document(impostor), "https://acme.okta.test", true).unwrap_err();
            assert_eq!(error.code(), "oidc.discovery_issuer_mismatch", "{impostor}");
        }
        let trusted = parse_discovery(&document("https://evil.test"), "https://acme.okta.test", false).unwrap();
        assert_eq!(trusted.issuer, "https://evil.test");
    }

    #[test]
    fn missing_or_mistyped_fields_are_named() {
        let mut value: Map<String, Value> = serde_json::from_str(&document("https://i.test")).unwrap();
        value.remove("jwks_uri");
        let error = parse_discovery(&Value::Object(value.clone()).to_string(), "https://i.test", true).unwrap_err();
        assert_eq!(error, OidcError::DiscoveryInvalid("'jwks_uri' is missing".into()));
        value.insert("jwks_uri".into(), Value::from(7));
        let error = parse_discovery(&Value::Object(value).to_string(), "https://i.test", true).unwrap_err();
        assert_eq!(error, OidcError::DiscoveryInvalid("'jwks_uri' is not a string".into()));
        assert_eq!(parse_discovery("[]", "https://i.test", true).unwrap_err().code(), "oidc.discovery_invalid");
    }
}
