//! OAuth 2.0 authorization code with token refresh, as Okta's provisioning
//! client uses it for OIN SCIM apps that authenticate that way: the
//! authorization URL the admin's browser is sent to, the token requests
//! (RFC 6749 §4.1.3 and §6) and what Okta reads from their replies.
//!
//! Nothing here does IO; `provisioning/transport.rs` sends the requests.

use base64::Engine;
use time::OffsetDateTime;

use crate::org::provisioning::OAuthClientSettings;

/// The redirect URI Okta registers for an app's provisioning OAuth client.
/// Okta's own is `https://system-admin.{okta domain}/admin/app/cpc/{appName}/oauth/callback`;
/// the mock serves the same path on its own origin.
pub fn redirect_uri(org_url: &str, app_name: &str) -> String {
    let app_name: String = url::form_urlencoded::byte_serialize(app_name.as_bytes()).collect();
    format!("{}/admin/app/cpc/{app_name}/oauth/callback", org_url.trim_end_matches('/'))
}

/// The URL the admin's browser goes to when they click "Authenticate with
/// {app}": RFC 6749 §4.1.1's request with Okta's redirect URI and a state.
pub fn authorize_url(settings: &OAuthClientSettings, redirect_uri: &str, state: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("response_type", "code");
    query.append_pair("client_id", &settings.client_id);
    query.append_pair("redirect_uri", redirect_uri);
    if !settings.scopes.is_empty() {
        query.append_pair("scope", &settings.scopes.join(" "));
    }
    query.append_pair("state", state);
    let separator = if settings.authorize_url.contains('?') { '&' } else { '?' };
    format!("{}{separator}{}", settings.authorize_url, query.finish())
}

/// A grant redeemed at the SP's token endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenGrant {
    AuthorizationCode { code: String, redirect_uri: String },
    RefreshToken { refresh_token: String },
}

impl TokenGrant {
    /// The grant's name, as the transcript labels the exchange.
    pub fn name(&self) -> &'static str {
        match self {
            TokenGrant::AuthorizationCode { .. } => "authorization_code",
            TokenGrant::RefreshToken { .. } => "refresh_token",
        }
    }
}

/// A token request ready to send: the form body and the client's HTTP Basic
/// credentials (RFC 6749 §2.3.1, which every authorization server must
/// accept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequest {
    pub url: String,
    pub authorization: String,
    pub form: String,
    /// The form as the transcript shows it, the code or token redacted.
    pub redacted_form: String,
}

pub fn token_request(settings: &OAuthClientSettings, grant: &TokenGrant) -> TokenRequest {
    let encode = |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    let credentials = format!("{}:{}", encode(&settings.client_id), encode(&settings.client_secret));
    let authorization = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials));
    let build = |secret: &str| {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        match grant {
            TokenGrant::AuthorizationCode { redirect_uri, .. } => {
                form.append_pair("grant_type", "authorization_code");
                form.append_pair("code", secret);
                form.append_pair("redirect_uri", redirect_uri);
            }
            TokenGrant::RefreshToken { .. } => {
                form.append_pair("grant_type", "refresh_token");
                form.append_pair("refresh_token", secret);
            }
        }
        form.finish()
    };
    let secret = match grant {
        TokenGrant::AuthorizationCode { code, .. } => code,
        TokenGrant::RefreshToken { refresh_token } => refresh_token,
    };
    TokenRequest {
        url: settings.token_url.clone(),
        authorization,
        form: build(secret),
        redacted_form: build("[redacted]"),
    }
}

/// The tokens Okta holds for an app.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// When the access token expires, from `expires_in`; never when the SP
    /// did not say.
    pub expires_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for OAuthTokens {
    // Tokens stay out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthTokens")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "[redacted]"))
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl OAuthTokens {
    /// Whether the access token has expired at `now`. A token is taken as
    /// expired a little early, so that it does not expire on the way.
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|expires_at| expires_at - TOKEN_EXPIRY_MARGIN <= now)
    }
}

/// How long before its `expires_in` an access token is refreshed; a model,
/// since Okta documents no margin.
pub const TOKEN_EXPIRY_MARGIN: time::Duration = time::Duration::seconds(30);

/// Why a token request did not give tokens.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// RFC 6749 §5.2: the SP's `error` and `error_description`.
    #[error("the SP's token endpoint answered {status}: {error}{}", description.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused { status: u16, error: String, description: Option<String> },
    /// A success without what RFC 6749 §5.1 requires, or a body that is not
    /// its JSON.
    #[error("the SP's token endpoint answered {status} with an unusable body: {problem}")]
    Unusable { status: u16, problem: String },
}

impl TokenError {
    pub fn status(&self) -> u16 {
        match self {
            TokenError::Refused { status, .. } | TokenError::Unusable { status, .. } => *status,
        }
    }
}

/// Reads a token endpoint's reply (RFC 6749 §5.1 and §5.2). A refresh that
/// returns no new refresh token keeps the old one (§6: the server "MAY"
/// issue a new one).
pub fn read_token_reply(
    status: u16,
    text: &str,
    now: OffsetDateTime,
    previous_refresh_token: Option<&str>,
) -> Result<OAuthTokens, TokenError> {
    let body: Option<serde_json::Value> = serde_json::from_str(text).ok();
    let field = |name: &str| body.as_ref().and_then(|b| b.get(name)).and_then(serde_json::Value::as_str);
    if !(200..300).contains(&status) {
        return Err(match field("error") {
            Some(error) => TokenError::Refused {
                status,
                error: error.to_owned(),
                description: field("error_description").map(str::to_owned),
            },
            None => TokenError::Unusable { status, problem: "an error without RFC 6749's error member".into() },
        });
    }
    let unusable = |problem: &str| TokenError::Unusable { status, problem: problem.to_owned() };
    let access_token = field("access_token").filter(|t| !t.is_empty()).ok_or_else(|| unusable("no access_token"))?;
    match field("token_type") {
        Some(token_type) if token_type.eq_ignore_ascii_case("bearer") => {}
        Some(_) => return Err(unusable("token_type is not Bearer")),
        None => return Err(unusable("no token_type")),
    }
    let expires_in = body.as_ref().and_then(|b| b.get("expires_in")).and_then(serde_json::Value::as_i64);
    Ok(OAuthTokens {
        access_token: access_token.to_owned(),
        refresh_token: field("refresh_token").map(str::to_owned).or_else(|| previous_refresh_token.map(str::to_owned)),
        expires_at: expires_in.map(|seconds| now + time::Duration::seconds(seconds.max(0))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> OAuthClientSettings {
        OAuthClientSettings {
            authorize_url: "http://sp.test/oauth/authorize".into(),
            token_url: "http://sp.test/oauth/token".into(),
            client_id: "okta client".into(),
            client_secret: "s:cret".into(),
            scopes: vec!["scim".into(), "offline".into()],
        }
    }

    #[test]
    fn the_authorize_url_carries_the_client_redirect_scopes_and_state() {
        let redirect = redirect_uri("http://idp.test/", "scim app");
        assert_eq!(redirect, "http://idp.test/admin/app/cpc/scim+app/oauth/callback");
        assert_eq!(
            authorize_url(&settings(), &redirect, "st"),
            "http://sp.test/oauth/authorize?response_type=code&client_id=okta+client&redirect_uri=http%3A%2F%2Fidp.test%2Fadmin%2Fapp%2Fcpc%2Fscim%2Bapp%2Foauth%2Fcallback&scope=scim+offline&state=st"
        );
    }

    #[test]
    fn token_requests_use_basic_client_authentication_and_redact_the_secret() {
        let request = token_request(&settings(), &TokenGrant::RefreshToken { refresh_token: "rt".into() });
        assert_eq!(request.form, "grant_type=refresh_token&refresh_token=rt");
        assert_eq!(request.redacted_form, "grant_type=refresh_token&refresh_token=%5Bredacted%5D");
        // RFC 6749 §2.3.1: each part form-encoded before Basic.
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(request.authorization.trim_start_matches("Basic "))
            .unwrap_or_default();
        assert_eq!(String::from_utf8_lossy(&decoded), "okta+client:s%3Acret");
    }

    #[test]
    fn replies_give_tokens_or_the_sps_oauth_error() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let tokens = read_token_reply(
            200,
            r#"{"access_token":"at","token_type":"bearer","expires_in":600}"#,
            now,
            Some("old refresh"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tokens.refresh_token.as_deref(), Some("old refresh"), "a refresh without a new one keeps the old");
        assert!(!tokens.expired(now + time::Duration::seconds(569)));
        assert!(tokens.expired(now + time::Duration::seconds(570)));
        let refused = read_token_reply(
            400,
            r#"{"error":"invalid_grant","error_description":"the refresh token has expired"}"#,
            now,
            None,
        );
        assert_eq!(
            refused.map_err(|e| e.to_string()),
            Err("the SP's token endpoint answered 400: invalid_grant: the refresh token has expired".to_owned())
        );
        assert!(matches!(
            read_token_reply(200, r#"{"access_token":"at","token_type":"mac"}"#, now, None),
            Err(TokenError::Unusable { .. })
        ));
    }
}
