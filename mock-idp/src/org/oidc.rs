//! The OpenID Connect parts of the org model: OIDC app settings and
//! authorization servers, with their scopes, claims and access policies.
//!
//! These are validated data, made by [`super::parse_org`]. The protocol logic that
//! reads them lives in [`crate::oidc`].

use super::{AttributeValueSource, GroupFilter};
use crate::ids::AppId;

/// Okta's OIDC application types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationType {
    /// A server-side web app with a client secret.
    Web,
    /// A native app: a public client that must use PKCE.
    Native,
    /// A single-page app (Okta's `browser`): a public client that must use PKCE.
    Browser,
    /// A machine-to-machine app that only uses client credentials.
    Service,
}

impl ApplicationType {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "web" => ApplicationType::Web,
            "native" => ApplicationType::Native,
            "browser" => ApplicationType::Browser,
            "service" => ApplicationType::Service,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationType::Web => "web",
            ApplicationType::Native => "native",
            ApplicationType::Browser => "browser",
            ApplicationType::Service => "service",
        }
    }

    /// Whether the client cannot keep a secret, so PKCE stands in for it.
    pub fn is_public(self) -> bool {
        matches!(self, ApplicationType::Native | ApplicationType::Browser)
    }
}

/// How a client authenticates at the token, introspection and revocation endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// An HMAC-signed JWT keyed by the client secret (OIDC Core §9).
    ClientSecretJwt,
    PrivateKeyJwt,
    /// A public client: no credential, PKCE instead.
    None,
}

impl ClientAuthMethod {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "client_secret_basic" => ClientAuthMethod::ClientSecretBasic,
            "client_secret_post" => ClientAuthMethod::ClientSecretPost,
            "client_secret_jwt" => ClientAuthMethod::ClientSecretJwt,
            "private_key_jwt" => ClientAuthMethod::PrivateKeyJwt,
            "none" => ClientAuthMethod::None,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuthMethod::ClientSecretBasic => "client_secret_basic",
            ClientAuthMethod::ClientSecretPost => "client_secret_post",
            ClientAuthMethod::ClientSecretJwt => "client_secret_jwt",
            ClientAuthMethod::PrivateKeyJwt => "private_key_jwt",
            ClientAuthMethod::None => "none",
        }
    }
}

/// The OAuth grant types an app may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    Implicit,
}

impl GrantType {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "authorization_code" => GrantType::AuthorizationCode,
            "refresh_token" => GrantType::RefreshToken,
            "client_credentials" => GrantType::ClientCredentials,
            "implicit" => GrantType::Implicit,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::Implicit => "implicit",
        }
    }
}

/// The groups claim an app asks the org authorization server for.
#[derive(Debug, Clone)]
pub struct GroupsClaim {
    pub name: String,
    pub filter: GroupFilter,
}

/// An app's OIDC settings, as on Okta's "General" tab.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub application_type: ApplicationType,
    /// The client secret of confidential clients.
    pub client_secret: Option<String>,
    pub token_endpoint_auth_method: ClientAuthMethod,
    /// "Sign-in redirect URIs": compared exactly, as Okta does.
    pub redirect_uris: Vec<String>,
    /// "Sign-out redirect URIs".
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    /// "Require PKCE as additional verification". Always on for public clients.
    pub pkce_required: bool,
    /// The client's public keys, for `private_key_jwt`.
    pub jwks: Vec<jsonwebtoken::jwk::Jwk>,
    /// The groups claim in ID tokens from the org authorization server.
    pub groups_claim: Option<GroupsClaim>,
    /// "Claims for this token include all user attributes on the app profile."
    pub app_profile_claims: bool,
    /// Okta's "Initiate login URI": the dashboard tile links here, and
    /// the app then starts an ordinary authorization request. No tile link
    /// without one.
    pub initiate_login_uri: Option<String>,
}

impl OidcSettings {
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// PKCE is required for public clients whatever the setting says.
    pub fn requires_pkce(&self) -> bool {
        self.pkce_required || self.application_type.is_public()
    }
}

/// The JWS algorithm an authorization server signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    Rs256,
    Es256,
}

impl SigningAlgorithm {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "RS256" => SigningAlgorithm::Rs256,
            "ES256" => SigningAlgorithm::Es256,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::Rs256 => "RS256",
            SigningAlgorithm::Es256 => "ES256",
        }
    }
}

/// Which token a custom claim goes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimTarget {
    IdToken,
    AccessToken,
}

/// Where a custom claim's value comes from.
#[derive(Debug, Clone)]
pub enum ClaimValue {
    /// An expression: `user.department`, `appuser.role` or a literal.
    Expression(AttributeValueSource),
    /// The names of the user's groups that pass the filter.
    Groups(GroupFilter),
}

/// A claim defined on a custom authorization server.
#[derive(Debug, Clone)]
pub struct CustomClaim {
    pub name: String,
    pub target: ClaimTarget,
    pub value: ClaimValue,
    /// Included whatever the scopes; otherwise only with one of `scopes`.
    pub always_include: bool,
    /// The scopes that bring the claim in, when not always included. Empty
    /// means any scope.
    pub scopes: Vec<String>,
}

impl CustomClaim {
    /// Whether the granted scopes bring this claim in.
    pub fn applies(&self, granted: &[String]) -> bool {
        self.always_include || self.scopes.is_empty() || self.scopes.iter().any(|s| granted.contains(s))
    }
}

/// Which clients an access policy applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyClients {
    All,
    Only(Vec<AppId>),
}

/// An access policy with its one rule: which clients, grants and scopes it
/// allows, and the token lifetimes it sets.
#[derive(Debug, Clone)]
pub struct AccessPolicy {
    pub name: String,
    pub clients: PolicyClients,
    pub grant_types: Vec<GrantType>,
    /// `None` allows any scope the server knows.
    pub scopes: Option<Vec<String>>,
    pub access_token_lifetime_minutes: i64,
    /// `None`: refresh tokens do not expire.
    pub refresh_token_lifetime_minutes: Option<i64>,
}

impl AccessPolicy {
    pub fn applies_to(&self, client: &AppId) -> bool {
        match &self.clients {
            PolicyClients::All => true,
            PolicyClients::Only(ids) => ids.contains(client),
        }
    }

    pub fn allows_scope(&self, scope: &str) -> bool {
        self.scopes.as_ref().is_none_or(|allowed| allowed.iter().any(|s| s == scope))
    }
}

/// A custom authorization server (`/oauth2/{id}`).
#[derive(Debug, Clone)]
pub struct AuthorizationServer {
    /// `default` or an `aus…` id.
    pub id: String,
    pub name: String,
    /// The `aud` of its access tokens; the first is used.
    pub audiences: Vec<String>,
    /// Custom scopes, beyond the OIDC ones every server has.
    pub scopes: Vec<String>,
    pub claims: Vec<CustomClaim>,
    pub policies: Vec<AccessPolicy>,
    pub signing_algorithm: SigningAlgorithm,
    /// Automatic key rotation every this many days, evaluated against the
    /// clock on each request. `None`: only manual rotation.
    pub rotation_days: Option<i64>,
}

impl AuthorizationServer {
    /// The first policy that applies to the client, in file order (Okta's priority).
    pub fn policy_for(&self, client: &AppId) -> Option<&AccessPolicy> {
        self.policies.iter().find(|p| p.applies_to(client))
    }
}

/// The OIDC scopes every authorization server knows, in the order of
/// Okta's custom-server discovery documents.
pub const OIDC_SCOPES: [&str; 6] = ["openid", "profile", "email", "address", "phone", "offline_access"];

/// The scopes of the org authorization server, in the order of Okta's discovery document.
pub const ORG_SERVER_SCOPES: [&str; 7] = ["openid", "email", "profile", "address", "phone", "offline_access", "groups"];
