//! A tenant's OAuth 2.0 authorization server for its SCIM API (RFC 6749's
//! authorization code grant with refresh tokens), as OIN SCIM apps that
//! authenticate Okta by OAuth have: `/oauth/scim/{tenant}/authorize` and
//! `/oauth/scim/{tenant}/token`.
//!
//! There is one client, Okta, named in `[tenants.scim.oauth]`. A redirect
//! URI is compared exactly with the allow-list, and a request whose client
//! or redirect URI is wrong is never redirected (RFC 6749 §4.1.2.1; Okta's
//! OIN test plan requires the authorization to fail). Codes live 60 seconds
//! and are single-use; tokens are opaque and stored as SHA-256 hashes; a
//! refresh rotates the refresh token, and a rotated one presented again
//! revokes its whole grant.
//!
//! Consent: a real SP would have an admin sign in and approve Okta. The
//! reference SP asks for the tenant's break-glass admin by HTTP Basic
//! instead, unless the tenant sets `auto_approve` (for tests), which
//! approves every well-formed request at once.

use time::OffsetDateTime;

use crate::config::{ScimOAuthConfig, TenantConfig};
use crate::sp::{Sp, hash_token, new_token, same_secret};
use crate::store::{NewOAuthTokens, RefreshRedemption};

/// How long a code may wait to be redeemed (RFC 6749 §4.1.2 recommends at
/// most ten minutes).
pub const CODE_LIFETIME: time::Duration = time::Duration::seconds(60);
/// The most codes kept per tenant; older ones are dropped.
pub const CODES_PER_TENANT: usize = 100;

/// RFC 6749's error codes for the two endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    AccessDenied,
    ServerError,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthErrorCode::InvalidRequest => "invalid_request",
            OAuthErrorCode::InvalidClient => "invalid_client",
            OAuthErrorCode::InvalidGrant => "invalid_grant",
            OAuthErrorCode::UnauthorizedClient => "unauthorized_client",
            OAuthErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorCode::UnsupportedResponseType => "unsupported_response_type",
            OAuthErrorCode::AccessDenied => "access_denied",
            OAuthErrorCode::ServerError => "server_error",
        }
    }

    /// The token endpoint's status (RFC 6749 §5.2): 401 for a client that
    /// failed to authenticate, 500 for the server's own failure, else 400.
    pub fn status(self) -> u16 {
        match self {
            OAuthErrorCode::InvalidClient => 401,
            OAuthErrorCode::ServerError => 500,
            _ => 400,
        }
    }
}

/// Why the SCIM OAuth server refused a request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScimOAuthError {
    /// The tenant has no SCIM OAuth server: nothing at this address.
    #[error("the tenant '{0}' has no SCIM OAuth authorization server")]
    NotConfigured(String),
    /// An authorization request that must not be redirected: an unknown
    /// client, or a redirect URI missing or not allow-listed. Answered with
    /// an error page.
    #[error("{description}")]
    NotRedirectable { code: &'static str, description: String },
    /// An authorization request refused back to the client, by redirect
    /// (RFC 6749 §4.1.2.1).
    #[error("{}: {description}", error.as_str())]
    Redirected { redirect_uri: String, error: OAuthErrorCode, description: String, state: Option<String> },
    /// Consent needs the tenant's admin, who has not authenticated.
    #[error("the tenant's admin must authenticate to approve this client")]
    AdminRequired,
    /// A token request refused (RFC 6749 §5.2).
    #[error("{}: {description}", error.as_str())]
    Token { error: OAuthErrorCode, description: String },
}

impl ScimOAuthError {
    pub fn code(&self) -> &'static str {
        match self {
            ScimOAuthError::NotConfigured(_) => "oauth.not_configured",
            ScimOAuthError::NotRedirectable { code, .. } => code,
            ScimOAuthError::Redirected { .. } => "oauth.redirected",
            ScimOAuthError::AdminRequired => "oauth.admin_required",
            ScimOAuthError::Token { .. } => "oauth.token",
        }
    }
}

fn token_error(error: OAuthErrorCode, description: impl Into<String>) -> ScimOAuthError {
    ScimOAuthError::Token { error, description: description.into() }
}

/// The parameters of an authorization request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
}

/// Reads `application/x-www-form-urlencoded` parameters (a query or a
/// body) into their names and values; a parameter sent twice is refused
/// (RFC 6749 §3.1 and §3.2).
fn parameters(text: &[u8]) -> Result<std::collections::BTreeMap<String, String>, String> {
    let mut found = std::collections::BTreeMap::new();
    for (name, value) in url::form_urlencoded::parse(text) {
        if found.insert(name.clone().into_owned(), value.into_owned()).is_some() {
            return Err(format!("the parameter '{name}' is sent more than once"));
        }
    }
    Ok(found)
}

impl AuthorizeRequest {
    /// Reads the query of an authorization request.
    pub fn parse(query: &str) -> Result<Self, ScimOAuthError> {
        let mut found = parameters(query.as_bytes())
            .map_err(|description| ScimOAuthError::NotRedirectable { code: "oauth.invalid_request", description })?;
        Ok(AuthorizeRequest {
            response_type: found.remove("response_type"),
            client_id: found.remove("client_id"),
            redirect_uri: found.remove("redirect_uri"),
            scope: found.remove("scope"),
            state: found.remove("state"),
        })
    }
}

impl TokenForm {
    /// Reads a token request's form body.
    pub fn parse(body: &[u8]) -> Result<Self, ScimOAuthError> {
        let mut found =
            parameters(body).map_err(|description| token_error(OAuthErrorCode::InvalidRequest, description))?;
        Ok(TokenForm {
            grant_type: found.remove("grant_type"),
            code: found.remove("code"),
            redirect_uri: found.remove("redirect_uri"),
            refresh_token: found.remove("refresh_token"),
            client_id: found.remove("client_id"),
            client_secret: found.remove("client_secret"),
        })
    }
}

/// Checks an authorization request in RFC 6749's order: the client and the
/// redirect URI first (never redirected when wrong), then what may be
/// refused by redirect. Returns the redirect URI to send the code to.
pub fn check_authorize(config: &ScimOAuthConfig, request: &AuthorizeRequest) -> Result<String, ScimOAuthError> {
    let not_redirectable = |code: &'static str, description: &str| ScimOAuthError::NotRedirectable {
        code,
        description: description.to_owned(),
    };
    match request.client_id.as_deref() {
        Some(client) if client == config.client_id => {}
        Some(_) => return Err(not_redirectable("oauth.unknown_client", "the client_id is not this server's client")),
        None => return Err(not_redirectable("oauth.no_client", "the request has no client_id")),
    }
    let Some(redirect_uri) = request.redirect_uri.as_deref() else {
        return Err(not_redirectable("oauth.no_redirect_uri", "the request has no redirect_uri"));
    };
    if !config.redirect_uris.iter().any(|allowed| allowed == redirect_uri) {
        return Err(not_redirectable(
            "oauth.redirect_uri_not_allowed",
            "the redirect_uri is not on the client's allow-list",
        ));
    }
    let redirected = |error: OAuthErrorCode, description: &str| ScimOAuthError::Redirected {
        redirect_uri: redirect_uri.to_owned(),
        error,
        description: description.to_owned(),
        state: request.state.clone(),
    };
    match request.response_type.as_deref() {
        Some("code") => Ok(redirect_uri.to_owned()),
        Some(_) => Err(redirected(OAuthErrorCode::UnsupportedResponseType, "only response_type=code is supported")),
        None => Err(redirected(OAuthErrorCode::InvalidRequest, "the request has no response_type")),
    }
}

/// Where the browser goes with a code or an error: the redirect URI with
/// RFC 6749 §4.1.2's parameters added to its query.
pub fn redirect_location(redirect_uri: &str, parameters: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in parameters {
        query.append_pair(name, value);
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{separator}{}", query.finish())
}

/// A token request's form (RFC 6749 §4.1.3 and §6), with the client's
/// credentials from HTTP Basic or the body (`client_secret_post`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenForm {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub refresh_token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// The client's credentials as presented: from `Authorization: Basic`
/// (each part form-encoded, RFC 6749 §2.3.1) or from the form; both at
/// once is refused (§2.3).
pub fn client_credentials(basic: Option<&str>, form: &TokenForm) -> Result<(String, String), ScimOAuthError> {
    let from_form = form.client_id.clone().zip(form.client_secret.clone());
    match (basic, from_form) {
        (Some(_), Some(_)) => Err(token_error(OAuthErrorCode::InvalidRequest, "the client authenticated twice")),
        (Some(value), None) => {
            use base64::Engine;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(value.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| token_error(OAuthErrorCode::InvalidClient, "the Basic credentials do not decode"))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| token_error(OAuthErrorCode::InvalidClient, "the Basic credentials have no ':'"))?;
            let decode = |part: &str| {
                url::form_urlencoded::parse(format!("x={part}").as_bytes())
                    .next()
                    .map(|(_, value)| value.into_owned())
                    .unwrap_or_default()
            };
            Ok((decode(id), decode(secret)))
        }
        (None, Some(pair)) => Ok(pair),
        (None, None) => Err(token_error(OAuthErrorCode::InvalidClient, "the client did not authenticate")),
    }
}

/// A token reply's tokens and lifetime (RFC 6749 §5.1).
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u32,
}

impl std::fmt::Debug for IssuedTokens {
    // Tokens stay out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedTokens").field("expires_in", &self.expires_in).finish_non_exhaustive()
    }
}

impl IssuedTokens {
    /// The JSON body of the reply.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
        })
    }
}

fn new_tokens(config: &ScimOAuthConfig, now: OffsetDateTime) -> (IssuedTokens, NewOAuthTokens) {
    let issued = IssuedTokens {
        access_token: new_token(),
        refresh_token: new_token(),
        expires_in: config.access_token_lifetime_seconds,
    };
    let stored = NewOAuthTokens {
        access_hash: hash_token(&issued.access_token),
        access_expires: now + time::Duration::seconds(i64::from(config.access_token_lifetime_seconds)),
        refresh_hash: hash_token(&issued.refresh_token),
        refresh_expires: now + time::Duration::seconds(i64::from(config.refresh_token_lifetime_seconds)),
    };
    (issued, stored)
}

fn server_error(error: crate::store::StoreError) -> ScimOAuthError {
    tracing::error!(error = ?error.to_string(), "SCIM OAuth storage error");
    token_error(OAuthErrorCode::ServerError, "the server could not complete the request")
}

impl Sp {
    fn scim_oauth_tenant(&self, tenant: &str) -> Result<(&TenantConfig, &ScimOAuthConfig), ScimOAuthError> {
        let not_configured = || ScimOAuthError::NotConfigured(tenant.to_owned());
        let config = self.config.tenant(tenant).ok_or_else(not_configured)?;
        let oauth = config.scim.as_ref().and_then(|scim| scim.oauth.as_ref()).ok_or_else(not_configured)?;
        Ok((config, oauth))
    }

    /// The authorization endpoint: checks the request, asks for consent
    /// (the break-glass admin's Basic credentials, unless `auto_approve`),
    /// and returns the redirect to the client with a fresh code.
    pub fn scim_oauth_authorize(
        &self,
        tenant: &str,
        request: &AuthorizeRequest,
        admin_basic: Option<&str>,
    ) -> Result<String, ScimOAuthError> {
        let (config, oauth) = self.scim_oauth_tenant(tenant)?;
        let redirect_uri = check_authorize(oauth, request)?;
        if !oauth.auto_approve {
            use base64::Engine;
            let credentials = admin_basic
                .and_then(|value| base64::engine::general_purpose::STANDARD.decode(value.trim()).ok())
                .and_then(|bytes| String::from_utf8(bytes).ok());
            let approved = credentials
                .as_deref()
                .and_then(|c| c.split_once(':'))
                .is_some_and(|(email, password)| self.is_break_glass(tenant, email, password));
            if !approved {
                return Err(ScimOAuthError::AdminRequired);
            }
        }
        let now = self.now();
        let code = new_token();
        self.store
            .save_scim_oauth_code(
                &config.id,
                &hash_token(&code),
                &redirect_uri,
                now + CODE_LIFETIME,
                now,
                CODES_PER_TENANT,
            )
            .map_err(|error| {
                let _ = server_error(error);
                ScimOAuthError::Redirected {
                    redirect_uri: redirect_uri.clone(),
                    error: OAuthErrorCode::ServerError,
                    description: "the server could not issue a code".into(),
                    state: request.state.clone(),
                }
            })?;
        let mut parameters = vec![("code", code.as_str())];
        if let Some(state) = request.state.as_deref() {
            parameters.push(("state", state));
        }
        Ok(redirect_location(&redirect_uri, &parameters))
    }

    /// The token endpoint: the client authenticates, then the code or the
    /// refresh token is redeemed for new tokens.
    pub fn scim_oauth_token(
        &self,
        tenant: &str,
        basic: Option<&str>,
        form: &TokenForm,
    ) -> Result<IssuedTokens, ScimOAuthError> {
        let (config, oauth) = self.scim_oauth_tenant(tenant)?;
        let (client_id, client_secret) = client_credentials(basic, form)?;
        let known = client_id == oauth.client_id && same_secret(&hash_token(&client_secret), &oauth.client_secret_hash);
        if !known {
            return Err(token_error(OAuthErrorCode::InvalidClient, "the client id or secret is wrong"));
        }
        let now = self.now();
        match form.grant_type.as_deref() {
            Some("authorization_code") => {
                let code = form.code.as_deref().filter(|c| !c.is_empty());
                let code =
                    code.ok_or_else(|| token_error(OAuthErrorCode::InvalidRequest, "the request has no code"))?;
                let issued_for = self
                    .store
                    .take_scim_oauth_code(&config.id, &hash_token(code), now)
                    .map_err(server_error)?
                    .ok_or_else(|| token_error(OAuthErrorCode::InvalidGrant, "the code is unknown, used or expired"))?;
                // RFC 6749 §4.1.3: the same redirect_uri as the authorization.
                if form.redirect_uri.as_deref() != Some(issued_for.as_str()) {
                    return Err(token_error(
                        OAuthErrorCode::InvalidGrant,
                        "the redirect_uri is not the one the code was issued for",
                    ));
                }
                let (issued, stored) = new_tokens(oauth, now);
                self.store.save_scim_oauth_tokens(&config.id, &new_token(), &stored, now).map_err(server_error)?;
                Ok(issued)
            }
            Some("refresh_token") => {
                let refresh = form.refresh_token.as_deref().filter(|t| !t.is_empty());
                let refresh = refresh
                    .ok_or_else(|| token_error(OAuthErrorCode::InvalidRequest, "the request has no refresh_token"))?;
                let (issued, stored) = new_tokens(oauth, now);
                match self
                    .store
                    .redeem_scim_oauth_refresh_token(&config.id, &hash_token(refresh), &stored, now)
                    .map_err(server_error)?
                {
                    RefreshRedemption::Rotated => Ok(issued),
                    RefreshRedemption::Reused => Err(token_error(
                        OAuthErrorCode::InvalidGrant,
                        "the refresh token was already used; every token of its grant is revoked",
                    )),
                    RefreshRedemption::Unknown => {
                        Err(token_error(OAuthErrorCode::InvalidGrant, "the refresh token is unknown or expired"))
                    }
                }
            }
            Some(_) => {
                Err(token_error(OAuthErrorCode::UnsupportedGrantType, "only authorization_code and refresh_token"))
            }
            None => Err(token_error(OAuthErrorCode::InvalidRequest, "the request has no grant_type")),
        }
    }

    /// Whether a bearer token is a live access token of the tenant's SCIM
    /// OAuth server.
    pub(crate) fn scim_oauth_access_token_live(&self, tenant: &TenantConfig, token: &str) -> bool {
        if tenant.scim.as_ref().and_then(|scim| scim.oauth.as_ref()).is_none() {
            return false;
        }
        self.store.scim_oauth_access_token_live(&tenant.id, &hash_token(token), self.now()).unwrap_or_else(|error| {
            tracing::error!(error = ?error.to_string(), "SCIM OAuth storage error");
            false
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ScimOAuthConfig {
        ScimOAuthConfig {
            client_id: "okta".into(),
            client_secret_hash: hash_token("secret"),
            redirect_uris: vec!["https://idp.test/admin/app/cpc/app/oauth/callback".into()],
            access_token_lifetime_seconds: 600,
            refresh_token_lifetime_seconds: 3600,
            auto_approve: true,
        }
    }

    fn request(redirect_uri: &str) -> AuthorizeRequest {
        AuthorizeRequest {
            response_type: Some("code".into()),
            client_id: Some("okta".into()),
            redirect_uri: Some(redirect_uri.into()),
            scope: None,
            state: Some("st".into()),
        }
    }

    #[test]
    fn a_redirect_uri_off_the_allow_list_is_never_redirected_to() {
        let allowed = "https://idp.test/admin/app/cpc/app/oauth/callback";
        assert_eq!(check_authorize(&config(), &request(allowed)), Ok(allowed.to_owned()));
        for wrong in [
            "https://idp.test/admin/app/cpc/app/oauth/callback/",
            "https://evil.test/admin/app/cpc/app/oauth/callback",
            "https://idp.test/admin/app/cpc/app/oauth/callback?x=1",
        ] {
            assert!(matches!(
                check_authorize(&config(), &request(wrong)),
                Err(ScimOAuthError::NotRedirectable { code: "oauth.redirect_uri_not_allowed", .. })
            ));
        }
        let mut other_client = request(allowed);
        other_client.client_id = Some("someone".into());
        assert!(matches!(check_authorize(&config(), &other_client), Err(ScimOAuthError::NotRedirectable { .. })));
        let mut implicit = request(allowed);
        implicit.response_type = Some("token".into());
        assert!(matches!(
            check_authorize(&config(), &implicit),
            Err(ScimOAuthError::Redirected { error: OAuthErrorCode::UnsupportedResponseType, .. })
        ));
    }

    #[test]
    fn client_credentials_come_from_basic_or_the_form_but_not_both() {
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode("okta+client:s%3Acret");
        assert_eq!(
            client_credentials(Some(&basic), &TokenForm::default()),
            Ok(("okta client".to_owned(), "s:cret".to_owned()))
        );
        let form = TokenForm { client_id: Some("a".into()), client_secret: Some("b".into()), ..TokenForm::default() };
        assert_eq!(client_credentials(None, &form), Ok(("a".to_owned(), "b".to_owned())));
        assert!(client_credentials(Some(&basic), &form).is_err());
        assert!(matches!(
            client_credentials(None, &TokenForm::default()),
            Err(ScimOAuthError::Token { error: OAuthErrorCode::InvalidClient, .. })
        ));
    }

    #[test]
    fn the_redirect_keeps_the_uris_query_and_adds_the_code_and_state() {
        assert_eq!(
            redirect_location("https://c.test/cb?a=1", &[("code", "x y"), ("state", "s")]),
            "https://c.test/cb?a=1&code=x+y&state=s"
        );
    }
}
