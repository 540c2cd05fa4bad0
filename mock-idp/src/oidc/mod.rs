//! OpenID Connect and OAuth 2.0, as Okta's org and custom authorization
//! servers speak them.
//!
//! Everything here is pure: requests arrive parsed into typed values
//! ([`authorize::AuthorizeParams`], checked into an
//! [`authorize::ValidAuthorization`]; the enums [`token::TokenRequest`] and
//! [`token::ClientAuthentication`]), time arrives as `now`, keys and the org
//! as arguments. The running state (codes, tokens, key rings) lives in
//! [`crate::idp`]; only [`crate::http`] knows axum.

pub mod authorize;
pub mod claims;
pub mod discovery;
pub mod faults;
pub mod jws;
pub mod keys;
pub mod request_object;
pub mod token;

use std::fmt;

/// Which authorization server a request is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServerRef {
    /// The org authorization server: issuer is the org URL.
    Org,
    /// A custom authorization server: issuer is `{org}/oauth2/{id}`.
    Custom(String),
}

impl ServerRef {
    pub fn issuer(&self, org_url: &str) -> String {
        match self {
            ServerRef::Org => org_url.to_owned(),
            ServerRef::Custom(id) => format!("{org_url}/oauth2/{id}"),
        }
    }

    /// The base of the server's endpoints: `{org}/oauth2` or `{org}/oauth2/{id}`.
    pub fn endpoint_base(&self, org_url: &str) -> String {
        match self {
            ServerRef::Org => format!("{org_url}/oauth2"),
            ServerRef::Custom(id) => format!("{org_url}/oauth2/{id}"),
        }
    }

    pub fn endpoint(&self, org_url: &str, name: &str) -> String {
        format!("{}/v1/{name}", self.endpoint_base(org_url))
    }

    /// The name of the server's key ring in the key directory.
    pub fn key_name(&self) -> String {
        match self {
            ServerRef::Org => "oidc-org".to_owned(),
            ServerRef::Custom(id) => format!("oidc-{id}"),
        }
    }
}

impl fmt::Display for ServerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerRef::Org => f.write_str("org"),
            ServerRef::Custom(id) => f.write_str(id),
        }
    }
}

/// OAuth 2.0 and OIDC error codes (RFC 6749 §4.1.2.1 and §5.2, OIDC Core
/// §3.1.2.6, RFC 6750 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    LoginRequired,
    InvalidToken,
    InsufficientScope,
    /// OIDC Core §3.1.2.6: the `request` parameter holds a bad request object.
    InvalidRequestObject,
    /// OIDC Core §3.1.2.6 and RFC 9126 §4: a `request_uri` that is unknown,
    /// expired or used.
    InvalidRequestUri,
}

impl OAuthCode {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthCode::InvalidRequest => "invalid_request",
            OAuthCode::InvalidClient => "invalid_client",
            OAuthCode::InvalidGrant => "invalid_grant",
            OAuthCode::UnauthorizedClient => "unauthorized_client",
            OAuthCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthCode::UnsupportedResponseType => "unsupported_response_type",
            OAuthCode::InvalidScope => "invalid_scope",
            OAuthCode::AccessDenied => "access_denied",
            OAuthCode::LoginRequired => "login_required",
            OAuthCode::InvalidToken => "invalid_token",
            OAuthCode::InsufficientScope => "insufficient_scope",
            OAuthCode::InvalidRequestObject => "invalid_request_object",
            OAuthCode::InvalidRequestUri => "invalid_request_uri",
        }
    }

    /// The code with this wire name.
    pub fn parse(value: &str) -> Option<Self> {
        [
            OAuthCode::InvalidRequest,
            OAuthCode::InvalidClient,
            OAuthCode::InvalidGrant,
            OAuthCode::UnauthorizedClient,
            OAuthCode::UnsupportedGrantType,
            OAuthCode::UnsupportedResponseType,
            OAuthCode::InvalidScope,
            OAuthCode::AccessDenied,
            OAuthCode::LoginRequired,
            OAuthCode::InvalidToken,
            OAuthCode::InsufficientScope,
            OAuthCode::InvalidRequestObject,
            OAuthCode::InvalidRequestUri,
        ]
        .into_iter()
        .find(|code| code.as_str() == value)
    }

    /// The HTTP status of a JSON error body with this code.
    pub fn status(self) -> u16 {
        match self {
            OAuthCode::InvalidClient | OAuthCode::InvalidToken => 401,
            OAuthCode::InsufficientScope | OAuthCode::AccessDenied => 403,
            _ => 400,
        }
    }
}

impl fmt::Display for OAuthCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors of the OIDC endpoints. `Display` is the wire text: the OAuth error
/// code and Okta's description, or Okta's error page and envelope wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// An OAuth error answered in JSON (`{"error","error_description"}`).
    #[error("{code}: {description}")]
    OAuth { code: OAuthCode, description: String },
    /// A redirect URI that is not registered: Okta shows its error page and
    /// never redirects (RFC 6749 §4.1.2.1).
    #[error(
        "Your request resulted in an error. The 'redirect_uri' parameter must be a Login redirect URI in the client app settings: {admin_url}"
    )]
    RedirectUriNotRegistered { admin_url: String },
    /// A bad or missing `client_id` at `/authorize`: Okta's bare error page.
    #[error("400 Bad Request. Your request resulted in an error.")]
    AuthorizeBadClient,
    /// A request to `/authorize` that cannot be answered on the redirect URI,
    /// such as a duplicated parameter, before the client is known.
    #[error("Your request resulted in an error. {0}")]
    AuthorizePage(String),
    /// An unknown `client_id` at the token endpoint: Okta answers with its
    /// management API envelope, not the OAuth one.
    #[error("Invalid value for 'client_id' parameter.")]
    UnknownClient,
    /// `E0000007`: the authorization server does not exist.
    #[error("Not found: Resource not found: {0} (AuthorizationServer)")]
    UnknownServer(String),
    /// The logout request cannot be honoured and has no safe place to redirect.
    #[error("The 'post_logout_redirect_uri' parameter must be a Logout redirect URI in the client app settings.")]
    LogoutRedirectNotRegistered,
    #[error("signing key: {0}")]
    Key(String),
    /// A fault given to `mockta oidc mint` that cannot change what it mints.
    #[error("{0}")]
    FaultRefused(faults::OidcFaultRefusal),
}

impl OidcError {
    pub fn oauth(code: OAuthCode, description: impl Into<String>) -> Self {
        OidcError::OAuth { code, description: description.into() }
    }

    pub fn invalid_client() -> Self {
        OidcError::oauth(
            OAuthCode::InvalidClient,
            "Client authentication failed. Either the client or the client credentials are invalid.",
        )
    }

    pub fn invalid_token() -> Self {
        OidcError::oauth(OAuthCode::InvalidToken, "The access token is invalid")
    }
}

/// Base64url without padding, as JOSE uses it.
pub fn base64url(bytes: impl AsRef<[u8]>) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Splits a space-separated scope parameter, keeping the first of duplicates.
pub fn split_scopes(scope: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in scope.split(' ').filter(|s| !s.is_empty()) {
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    scopes
}
