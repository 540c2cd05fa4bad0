//! Token endpoint requests: client authentication (RFC 6749 §2.3, RFC 7523
//! for `private_key_jwt`) and the grant, each parsed at the edge into an enum.

use std::collections::BTreeMap;

use base64::Engine;
use time::OffsetDateTime;

use super::authorize::constant_time_eq;
use super::{OAuthCode, OidcError, split_scopes};
use crate::ids::AppId;
use crate::org::oidc::{ClientAuthMethod, GrantType};
use crate::org::{App, Org};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A form body with each parameter at most once (RFC 6749 §3.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormParams {
    values: BTreeMap<String, String>,
}

impl FormParams {
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Result<Self, OidcError> {
        let mut values = BTreeMap::new();
        for (name, value) in pairs {
            if values.insert(name.clone(), value).is_some() {
                return Err(OidcError::oauth(
                    OAuthCode::InvalidRequest,
                    format!("The '{name}' parameter was given more than once."),
                ));
            }
        }
        Ok(FormParams { values })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// Every parameter, for a pushed authorization request's form.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(name, value)| (name.as_str(), value.as_str()))
    }
}

/// How the client says who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuthentication {
    Basic {
        client_id: String,
        secret: String,
    },
    Post {
        client_id: String,
        secret: String,
    },
    /// An HMAC-signed assertion keyed by the client secret (`client_secret_jwt`).
    ClientSecretJwt {
        assertion: String,
    },
    /// An assertion signed with the client's private key (`private_key_jwt`).
    PrivateKeyJwt {
        assertion: String,
    },
    /// A public client naming itself.
    None {
        client_id: String,
    },
}

impl ClientAuthentication {
    fn method(&self) -> ClientAuthMethod {
        match self {
            ClientAuthentication::Basic { .. } => ClientAuthMethod::ClientSecretBasic,
            ClientAuthentication::Post { .. } => ClientAuthMethod::ClientSecretPost,
            ClientAuthentication::ClientSecretJwt { .. } => ClientAuthMethod::ClientSecretJwt,
            ClientAuthentication::PrivateKeyJwt { .. } => ClientAuthMethod::PrivateKeyJwt,
            ClientAuthentication::None { .. } => ClientAuthMethod::None,
        }
    }
}

/// Reads the client's credentials from the `Authorization` header and the form.
pub fn parse_client_authentication(
    authorization: Option<&str>,
    form: &FormParams,
) -> Result<ClientAuthentication, OidcError> {
    let in_body = form.get("client_secret").is_some() || form.get("client_assertion").is_some();
    if let Some(header) = authorization {
        if in_body {
            return Err(OidcError::oauth(
                OAuthCode::InvalidRequest,
                "Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.",
            ));
        }
        let encoded = header
            .strip_prefix("Basic ")
            .or_else(|| header.strip_prefix("basic "))
            .ok_or_else(OidcError::invalid_client)?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(OidcError::invalid_client)?;
        let (id, secret) = decoded.split_once(':').ok_or_else(OidcError::invalid_client)?;
        // RFC 6749 §2.3.1: both parts are form-urlencoded before encoding.
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8().ok().map(|v| v.into_owned())
        };
        let (Some(client_id), Some(secret)) = (decode(id), decode(secret)) else {
            return Err(OidcError::invalid_client());
        };
        if form.get("client_id").is_some_and(|body_id| body_id != client_id) {
            return Err(OidcError::invalid_client());
        }
        return Ok(ClientAuthentication::Basic { client_id, secret });
    }
    if let Some(assertion) = form.get("client_assertion") {
        // A body client_id must name the same client as the assertion.
        if let (Some(body_id), Ok(unverified)) =
            (form.get("client_id"), jsonwebtoken::dangerous::insecure_decode::<AssertionClaims>(assertion))
            && unverified.claims.iss != body_id
        {
            return Err(OidcError::invalid_client());
        }
        if form.get("client_secret").is_some() {
            return Err(OidcError::oauth(
                OAuthCode::InvalidRequest,
                "Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.",
            ));
        }
        if form.get("client_assertion_type") != Some(JWT_BEARER) {
            return Err(OidcError::oauth(
                OAuthCode::InvalidRequest,
                format!("The 'client_assertion_type' parameter must be '{JWT_BEARER}'."),
            ));
        }
        // The method follows from the signature: an HMAC one can only be
        // keyed by the client secret (OIDC Core §9), any other by a key pair.
        let hmac = jsonwebtoken::decode_header(assertion)
            .is_ok_and(|header| header.alg.family() == jsonwebtoken::AlgorithmFamily::Hmac);
        let assertion = assertion.to_owned();
        return Ok(if hmac {
            ClientAuthentication::ClientSecretJwt { assertion }
        } else {
            ClientAuthentication::PrivateKeyJwt { assertion }
        });
    }
    match (form.get("client_id"), form.get("client_secret")) {
        (Some(id), Some(secret)) => {
            Ok(ClientAuthentication::Post { client_id: id.to_owned(), secret: secret.to_owned() })
        }
        (Some(id), None) => Ok(ClientAuthentication::None { client_id: id.to_owned() }),
        (None, _) => Err(OidcError::oauth(OAuthCode::InvalidClient, "No client credentials found.")),
    }
}

/// A client that proved who it is. For `client_secret_jwt` and
/// `private_key_jwt`, the assertion's `jti` and `exp`, so the caller can
/// refuse a replayed assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedClient {
    pub client: AppId,
    pub assertion_jti: Option<(String, i64)>,
}

#[derive(Debug, serde::Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    jti: String,
    exp: i64,
}

/// How far in the future a client assertion may expire, as Okta allows.
const MAX_ASSERTION_LIFETIME_SECONDS: i64 = 3600;

/// Checks the credentials against the client's settings. `audiences` are
/// the values an assertion's `aud` may take: the URL of the endpoint it was
/// sent to, and for pushed authorization requests also the issuer (RFC 9126 §2).
pub fn authenticate(
    org: &Org,
    credentials: &ClientAuthentication,
    audiences: &[String],
    now: OffsetDateTime,
) -> Result<AuthenticatedClient, OidcError> {
    let find = |client_id: &str| -> Result<&App, OidcError> {
        AppId::parse(client_id)
            .ok()
            .and_then(|id| org.apps.get(&id))
            .filter(|app| app.active && app.oidc().is_some())
            .ok_or(OidcError::UnknownClient)
    };
    let (app, assertion_jti) = match credentials {
        ClientAuthentication::Basic { client_id, secret } | ClientAuthentication::Post { client_id, secret } => {
            let app = find(client_id)?;
            let expected = app.oidc().and_then(|s| s.client_secret.as_deref()).unwrap_or_default();
            if expected.is_empty() {
                return Err(OidcError::invalid_client());
            }
            if !constant_time_eq(expected.as_bytes(), secret.as_bytes()) {
                return Err(OidcError::oauth(
                    OAuthCode::InvalidClient,
                    "The client secret supplied for a confidential client is invalid.",
                ));
            }
            (app, None)
        }
        ClientAuthentication::None { client_id } => (find(client_id)?, None),
        ClientAuthentication::ClientSecretJwt { assertion } | ClientAuthentication::PrivateKeyJwt { assertion } => {
            let unverified = jsonwebtoken::dangerous::insecure_decode::<AssertionClaims>(assertion).map_err(|_| {
                OidcError::oauth(OAuthCode::InvalidClient, "The client_assertion token is not a valid JWT.")
            })?;
            let app = find(&unverified.claims.iss)?;
            let claims = verify_assertion(app, assertion, audiences, now)?;
            (app, Some((claims.jti, claims.exp)))
        }
    };
    let configured = app.oidc().map_or(ClientAuthMethod::None, |s| s.token_endpoint_auth_method);
    if configured != credentials.method() {
        let description = if configured != ClientAuthMethod::None && credentials.method() == ClientAuthMethod::None {
            "No client credentials found."
        } else {
            "Client authentication failed. Either the client or the client credentials are invalid."
        };
        return Err(OidcError::oauth(OAuthCode::InvalidClient, description));
    }
    Ok(AuthenticatedClient { client: app.id.clone(), assertion_jti })
}

/// The keys that may have signed a client's JWT: its secret for an HMAC
/// signature, its registered public keys (matched by `kid` when the header
/// names one) for any other.
pub(super) fn client_keys(app: &App, header: &jsonwebtoken::Header) -> Vec<jsonwebtoken::DecodingKey> {
    let Some(settings) = app.oidc() else { return Vec::new() };
    if header.alg.family() == jsonwebtoken::AlgorithmFamily::Hmac {
        return settings
            .client_secret
            .iter()
            .filter(|secret| !secret.is_empty())
            .map(|secret| jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()))
            .collect();
    }
    settings
        .jwks
        .iter()
        .filter(|jwk| header.kid.is_none() || jwk.common.key_id == header.kid)
        .filter_map(|jwk| jsonwebtoken::DecodingKey::from_jwk(jwk).ok())
        .filter(|key| key.family() == header.alg.family())
        .collect()
}

fn verify_assertion(
    app: &App,
    assertion: &str,
    audiences: &[String],
    now: OffsetDateTime,
) -> Result<AssertionClaims, OidcError> {
    let invalid =
        |why: &str| OidcError::oauth(OAuthCode::InvalidClient, format!("The client_assertion token is invalid: {why}"));
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| invalid("its header cannot be read."))?;
    for key in client_keys(app, &header) {
        let mut validation = jsonwebtoken::Validation::new(header.alg);
        validation.set_audience(audiences);
        validation.set_issuer(&[app.id.as_str()]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub", "jti"]);
        // The clock is injected, so exp is checked below against `now`.
        validation.validate_exp = false;
        let Ok(data) = jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &validation) else { continue };
        if data.claims.sub != app.id.as_str() {
            return Err(invalid("'sub' must be the client id."));
        }
        if data.claims.exp <= now.unix_timestamp() {
            return Err(invalid("it has expired."));
        }
        if data.claims.exp > now.unix_timestamp() + MAX_ASSERTION_LIFETIME_SECONDS {
            return Err(invalid("'exp' must be no more than one hour in the future."));
        }
        return Ok(data.claims);
    }
    Err(invalid("no registered key verifies its signature, audience and issuer."))
}

/// The grant a token request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    AuthorizationCode { code: String, redirect_uri: Option<String>, code_verifier: Option<String> },
    RefreshToken { refresh_token: String, scope: Option<Vec<String>> },
    ClientCredentials { scope: Option<Vec<String>> },
}

/// Reads the grant, after the client is known, so that an unsupported grant
/// can list the client's configured ones as Okta does.
pub fn parse_token_request(form: &FormParams, client: &App) -> Result<TokenRequest, OidcError> {
    let configured: Vec<GrantType> = client.oidc().map(|s| s.grant_types.clone()).unwrap_or_default();
    let unsupported = || {
        let names: Vec<&str> = configured.iter().map(|g| g.as_str()).collect();
        OidcError::oauth(
            OAuthCode::UnsupportedGrantType,
            format!(
                "The authorization grant type is not supported by the authorization server. Configured grant types: [{}].",
                names.join(", ")
            ),
        )
    };
    let Some(grant_type) = form.get("grant_type") else {
        return Err(OidcError::oauth(OAuthCode::InvalidRequest, "The 'grant_type' parameter is required."));
    };
    let grant = GrantType::parse(grant_type).filter(|g| *g != GrantType::Implicit).ok_or_else(unsupported)?;
    if !configured.contains(&grant) {
        return Err(OidcError::oauth(
            OAuthCode::UnauthorizedClient,
            format!(
                "The client is not authorized to use the provided grant type. Configured grant types: [{}].",
                configured.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let required = |name: &str| {
        form.get(name)
            .map(str::to_owned)
            .ok_or_else(|| OidcError::oauth(OAuthCode::InvalidRequest, format!("The '{name}' parameter is required.")))
    };
    Ok(match grant {
        GrantType::AuthorizationCode => TokenRequest::AuthorizationCode {
            code: required("code")?,
            redirect_uri: form.get("redirect_uri").map(str::to_owned),
            code_verifier: form.get("code_verifier").map(str::to_owned),
        },
        GrantType::RefreshToken => TokenRequest::RefreshToken {
            refresh_token: required("refresh_token")?,
            scope: form.get("scope").map(split_scopes),
        },
        GrantType::ClientCredentials => TokenRequest::ClientCredentials { scope: form.get("scope").map(split_scopes) },
        GrantType::Implicit => return Err(unsupported()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormParams {
        FormParams::from_pairs(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))).unwrap()
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("0oa1:s%3Acret+x"));
        let parsed = parse_client_authentication(Some(&header), &form(&[])).unwrap();
        assert_eq!(parsed, ClientAuthentication::Basic { client_id: "0oa1".into(), secret: "s:cret x".into() });
    }

    #[test]
    fn header_and_body_credentials_together_refused() {
        let header = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("a:b"));
        let error = parse_client_authentication(Some(&header), &form(&[("client_secret", "b")])).unwrap_err();
        assert!(error.to_string().starts_with("invalid_request: Cannot supply multiple client credentials"));
    }

    #[test]
    fn no_credentials_is_invalid_client() {
        let error = parse_client_authentication(None, &form(&[("grant_type", "client_credentials")])).unwrap_err();
        assert_eq!(error.to_string(), "invalid_client: No client credentials found.");
    }
}
