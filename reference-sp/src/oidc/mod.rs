//! The relying party's OpenID Connect logic, pure: no IO and no clock (time
//! arrives as `now`), so every rule can be tested on its own.
//!
//! - [`discovery`]: the provider's discovery document and the exact-issuer rule;
//! - [`jwks`]: the provider's public keys and the choice of key for a token;
//! - [`jwks_cache`]: when a cached key set is stale and when an unknown `kid`
//!   may trigger a refetch (rate-limited, attacks.md K-03);
//! - [`id_token`]: ID token validation as a typestate, from
//!   [`id_token::UnverifiedIdToken`] to [`id_token::VerifiedIdToken`], and the
//!   userinfo `sub` rule;
//! - [`authorize`]: the authorization request (PKCE S256, `state`, `nonce`)
//!   and the end-session URL.
//!
//! The network side is `crate::oidc_fetch`; the flow that joins them is
//! `crate::oidc_login`.

pub mod authorize;
pub mod discovery;
pub mod id_token;
pub mod jwks;
pub mod jwks_cache;

/// The algorithms a tenant may register for its ID tokens. Anything else
/// (HMAC, `none`) is refused whatever the token's header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdTokenAlgorithm {
    Rs256,
    Es256,
}

impl IdTokenAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            IdTokenAlgorithm::Rs256 => "RS256",
            IdTokenAlgorithm::Es256 => "ES256",
        }
    }

    pub fn parse(text: &str) -> Option<IdTokenAlgorithm> {
        match text {
            "RS256" => Some(IdTokenAlgorithm::Rs256),
            "ES256" => Some(IdTokenAlgorithm::Es256),
            _ => None,
        }
    }
}

/// Why an OIDC sign-in was refused, each with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    #[error("the provider's discovery document is not usable: {0}")]
    DiscoveryInvalid(String),
    #[error("the discovery document names the issuer '{found}', not the configured '{expected}'")]
    DiscoveryIssuerMismatch { expected: String, found: String },
    #[error("the provider's key set is not usable: {0}")]
    JwksInvalid(String),
    #[error("the provider could not be reached: {0}")]
    ProviderUnreachable(String),
    #[error("the token endpoint refused the code: {0}")]
    TokenRequestFailed(String),
    #[error("the userinfo endpoint refused the access token: {0}")]
    UserinfoFailed(String),
    #[error("the provider answered the authorization request with an error: {0}")]
    AuthorizationDenied(String),
    #[error("the callback has no authorization code")]
    CodeMissing,
    #[error("the callback has no state parameter")]
    StateMissing,
    #[error("the callback's state is not the one this browser's login sent")]
    StateMismatch,
    #[error("no login was started in this browser for this tenant, or it was already completed")]
    NoLoginStarted,
    #[error("this ID token was already used to sign in")]
    Replay,
    #[error("the ID token is not a compact JWS: {0}")]
    TokenMalformed(String),
    #[error("the ID token is unsigned (alg '{0}')")]
    AlgNone(String),
    #[error("the ID token's algorithm '{found}' is not the registered {expected}")]
    AlgorithmNotAllowed { expected: &'static str, found: String },
    #[error("the ID token's header carries '{0}', and keys are never taken from a token")]
    HeaderKeyRefused(&'static str),
    #[error("the ID token's header marks extensions this client does not understand as critical: {0}")]
    UnknownCritical(String),
    #[error("no key in the provider's key set has the kid '{0}'")]
    UnknownKid(String),
    #[error("no key in the provider's key set fits the ID token")]
    NoUsableKey,
    #[error("the ID token's signature does not verify with the provider's keys")]
    SignatureInvalid,
    #[error("the claim '{0}' has the wrong JSON type")]
    ClaimType(&'static str),
    #[error("the ID token has no '{0}' claim")]
    ClaimMissing(&'static str),
    #[error("the ID token's issuer '{found}' is not '{expected}'")]
    IssuerMismatch { expected: String, found: String },
    #[error("the ID token is not for this client (aud {0})")]
    AudienceMismatch(String),
    #[error("the ID token has several audiences and its azp is not this client")]
    AuthorizedPartyMismatch,
    #[error("the ID token expired")]
    Expired,
    #[error("the ID token was issued in the future (iat beyond the allowed skew)")]
    IssuedInFuture,
    #[error("the ID token is not valid yet (nbf beyond the allowed skew)")]
    NotYetValid,
    #[error("the ID token's nonce is not the one this login sent")]
    NonceMismatch,
    #[error("the ID token's at_hash does not match the access token")]
    AccessTokenHashMismatch,
    #[error("the userinfo sub is not the ID token's sub")]
    UserinfoSubjectMismatch,
    #[error("the page to return to, '{0}', is not a path on this SP")]
    ReturnToRejected(String),
    #[error("the client's key for private_key_jwt cannot be used: {0}")]
    ClientKey(String),
    #[error(
        "this session keeps no refresh token (its tenant does not ask for offline_access, or it is not an OIDC session)"
    )]
    NoRefreshToken,
    #[error("the refreshed ID token names another identity ({0}); the session is ended")]
    RefreshIdentityChanged(String),
}

impl OidcError {
    pub fn code(&self) -> &'static str {
        match self {
            OidcError::DiscoveryInvalid(_) => "oidc.discovery_invalid",
            OidcError::DiscoveryIssuerMismatch { .. } => "oidc.discovery_issuer_mismatch",
            OidcError::JwksInvalid(_) => "oidc.jwks_invalid",
            OidcError::ProviderUnreachable(_) => "oidc.provider_unreachable",
            OidcError::TokenRequestFailed(_) => "oidc.token_request_failed",
            OidcError::UserinfoFailed(_) => "oidc.userinfo_failed",
            OidcError::AuthorizationDenied(_) => "oidc.authorization_denied",
            OidcError::CodeMissing => "oidc.code_missing",
            OidcError::StateMissing => "oidc.state_missing",
            OidcError::StateMismatch => "oidc.state_mismatch",
            OidcError::NoLoginStarted => "oidc.no_login_started",
            OidcError::Replay => "oidc.replay",
            OidcError::TokenMalformed(_) => "oidc.token_malformed",
            OidcError::AlgNone(_) => "oidc.alg_none",
            OidcError::AlgorithmNotAllowed { .. } => "oidc.alg_not_allowed",
            OidcError::HeaderKeyRefused(_) => "oidc.header_key_refused",
            OidcError::UnknownCritical(_) => "oidc.crit_unknown",
            OidcError::UnknownKid(_) => "oidc.unknown_kid",
            OidcError::NoUsableKey => "oidc.no_usable_key",
            OidcError::SignatureInvalid => "oidc.signature_invalid",
            OidcError::ClaimType(_) => "oidc.claim_type",
            OidcError::ClaimMissing(_) => "oidc.claim_missing",
            OidcError::IssuerMismatch { .. } => "oidc.issuer_mismatch",
            OidcError::AudienceMismatch(_) => "oidc.audience_mismatch",
            OidcError::AuthorizedPartyMismatch => "oidc.azp_mismatch",
            OidcError::Expired => "oidc.expired",
            OidcError::IssuedInFuture => "oidc.iat_in_future",
            OidcError::NotYetValid => "oidc.not_yet_valid",
            OidcError::NonceMismatch => "oidc.nonce_mismatch",
            OidcError::AccessTokenHashMismatch => "oidc.at_hash_mismatch",
            OidcError::UserinfoSubjectMismatch => "oidc.userinfo_sub_mismatch",
            OidcError::ReturnToRejected(_) => "oidc.return_to_rejected",
            OidcError::ClientKey(_) => "oidc.client_key",
            OidcError::NoRefreshToken => "oidc.no_refresh_token",
            OidcError::RefreshIdentityChanged(_) => "oidc.refresh_identity_changed",
        }
    }

    /// Whether the refusal is the provider's or the network's fault rather
    /// than the message's: those answer 502, not 400.
    pub fn is_provider_failure(&self) -> bool {
        matches!(
            self,
            OidcError::DiscoveryInvalid(_)
                | OidcError::DiscoveryIssuerMismatch { .. }
                | OidcError::JwksInvalid(_)
                | OidcError::ProviderUnreachable(_)
                | OidcError::TokenRequestFailed(_)
                | OidcError::UserinfoFailed(_)
        )
    }
}

/// Base64url without padding, as JOSE uses it.
pub(crate) fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding; padding or other alphabets are
/// refused, as RFC 7515 §2 requires.
pub(crate) fn from_base64url(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()
}
