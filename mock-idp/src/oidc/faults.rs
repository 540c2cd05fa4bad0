//! Faults the OIDC provider can put into its next message, each a bug or
//! attack a relying party must catch: the JWT algorithm-confusion and
//! key-injection attacks of RFC 8725 (JSON Web Token Best Current
//! Practices) §2.1 and §3.1, the `jwk` and `jku` headers of RFC 7515
//! §4.1.2 and §4.1.3, and the ID token checks of OpenID Connect Core
//! §3.1.3.7.

use std::fmt;
use std::str::FromStr;

/// Where a fault acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultStage {
    /// The tokens issued by the token endpoint.
    Token,
    /// The redirect from `/authorize`.
    Authorize,
    /// The next discovery document.
    Discovery,
    /// `/userinfo` for the access token issued next.
    Userinfo,
}

macro_rules! oidc_faults {
    ($($variant:ident = $name:literal, $stage:ident, $doc:literal;)*) => {
        /// A named OIDC fault.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum OidcFault {
            $(#[doc = $doc] $variant,)*
        }

        impl OidcFault {
            pub const ALL: &'static [OidcFault] = &[$(OidcFault::$variant,)*];

            pub fn name(self) -> &'static str {
                match self { $(OidcFault::$variant => $name,)* }
            }

            pub fn description(self) -> &'static str {
                match self { $(OidcFault::$variant => $doc,)* }
            }

            pub fn stage(self) -> FaultStage {
                match self { $(OidcFault::$variant => FaultStage::$stage,)* }
            }
        }
    };
}

oidc_faults! {
    BadSignature = "bad-signature", Token, "The signature bytes are changed, so it does not verify.";
    AlgNone = "alg-none", Token, "The header says alg none and the signature is empty (CVE-2015-9235 family).";
    Hs256WithPublicKey = "hs256-with-public-key", Token, "Signed with HS256, using the server's public key PEM as the HMAC secret (algorithm confusion).";
    UnknownKid = "unknown-kid", Token, "Signed by the active key but the header names a kid that is in no JWKS.";
    NoKidMultipleKeys = "no-kid-multiple-keys", Token, "The header has no kid while the JWKS publishes several keys.";
    EmbeddedJwk = "embedded-jwk", Token, "Signed by an attacker key that the header carries as jwk (CVE-2018-0114).";
    JkuHeader = "jku-header", Token, "Signed by an attacker key whose JWKS the header's jku points to.";
    WrongIss = "wrong-iss", Token, "The iss claim names another issuer.";
    WrongAud = "wrong-aud", Token, "The aud claim names another client.";
    ExtraUntrustedAud = "extra-untrusted-aud", Token, "The aud claim lists the client and an untrusted audience, with no azp.";
    Expired = "expired", Token, "exp is an hour in the past.";
    IatFuture = "iat-future", Token, "iat is an hour in the future.";
    NbfFuture = "nbf-future", Token, "nbf is an hour in the future.";
    NonceMismatch = "nonce-mismatch", Token, "The nonce claim is not the one the client sent.";
    MissingNonce = "missing-nonce", Token, "The nonce claim is left out although the client sent one.";
    BadAtHash = "bad-at-hash", Token, "at_hash does not match the access token.";
    ExpAsString = "exp-as-string", Token, "exp is a JSON string, not a number.";
    UserinfoSubMismatch = "userinfo-sub-mismatch", Userinfo, "/userinfo answers with another user's sub for this access token.";
    DiscoveryIssuerMismatch = "discovery-issuer-mismatch", Discovery, "The next discovery document names another issuer.";
    StateMismatch = "state-mismatch", Authorize, "The redirect from /authorize carries a state the client did not send.";
    CodeReuseAllowed = "code-reuse-allowed", Authorize, "The authorization code can be exchanged twice, to test whether the RP reuses one.";
}

/// Which tokens a token fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaultTarget {
    #[default]
    IdToken,
    AccessToken,
    Both,
}

impl FaultTarget {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "id_token" => FaultTarget::IdToken,
            "access_token" => FaultTarget::AccessToken,
            "both" => FaultTarget::Both,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FaultTarget::IdToken => "id_token",
            FaultTarget::AccessToken => "access_token",
            FaultTarget::Both => "both",
        }
    }

    pub fn id_token(self) -> bool {
        matches!(self, FaultTarget::IdToken | FaultTarget::Both)
    }

    pub fn access_token(self) -> bool {
        matches!(self, FaultTarget::AccessToken | FaultTarget::Both)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an OIDC fault; `mockta oidc faults` lists them")]
pub struct UnknownOidcFault(pub String);

impl FromStr for OidcFault {
    type Err = UnknownOidcFault;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        OidcFault::ALL.iter().copied().find(|f| f.name() == value).ok_or_else(|| UnknownOidcFault(value.to_owned()))
    }
}

impl fmt::Display for OidcFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fault and the tokens it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OidcFaultPlan {
    pub fault: OidcFault,
    pub target: FaultTarget,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_name_parses_back() {
        for fault in OidcFault::ALL {
            assert_eq!(fault.name().parse::<OidcFault>(), Ok(*fault));
        }
        assert!("nope".parse::<OidcFault>().is_err());
        assert_eq!(OidcFault::ALL.len(), 21);
    }
}
