//! Faults the OIDC provider can put into its next message, each a bug or
//! attack a relying party must catch: the JWT algorithm-confusion and
//! key-injection attacks of RFC 8725 (JSON Web Token Best Current
//! Practices) §2.1 and §3.1, the `jwk` and `jku` headers of RFC 7515
//! §4.1.2 and §4.1.3, and the ID token checks of OpenID Connect Core
//! §3.1.3.7.

use std::fmt;
use std::str::FromStr;

use super::ServerRef;
use crate::ids::AppId;
use crate::org::oidc::{GrantType, SigningAlgorithm};
use crate::org::{App, Org};

/// Where a fault acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultStage {
    /// The tokens issued by the token endpoint, for any grant.
    Token,
    /// The ID token issued by the token endpoint's refresh grant only.
    RefreshToken,
    /// The redirect from `/authorize`.
    Authorize,
    /// The next discovery document.
    Discovery,
    /// `/userinfo` for the access token issued next.
    Userinfo,
}

impl FaultStage {
    /// Where the stage is, for refusals.
    pub fn describe(self) -> &'static str {
        match self {
            FaultStage::Token => "the tokens from the token endpoint",
            FaultStage::RefreshToken => "the ID token from the refresh grant",
            FaultStage::Authorize => "the redirect from /authorize",
            FaultStage::Discovery => "the discovery document",
            FaultStage::Userinfo => "the /userinfo answer",
        }
    }
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

            /// Where the fault is used up. `discovery-issuer-mismatch` also
            /// changes discovery documents while it waits (see
            /// [`OidcFault::changes_discovery_documents`]).
            pub fn stage(self) -> FaultStage {
                match self { $(OidcFault::$variant => FaultStage::$stage,)* }
            }
        }
    };
}

oidc_faults! {
    BadSignature = "bad-signature", Token, "The signature bytes are changed, so it does not verify.";
    AlgNone = "alg-none", Token, "The header says alg none and the signature is empty (CVE-2015-9235 family).";
    AlgNoneCapitalised = "alg-none-capitalised", Token, "The header says alg None (capital N) and the signature is empty, for RPs that refuse only the lower-case spelling (RFC 8725 §3.1).";
    AlgNoneUpper = "alg-none-upper", Token, "The header says alg NONE and the signature is empty, for RPs that refuse only the lower-case spelling (RFC 8725 §3.1).";
    AlgNoneMixed = "alg-none-mixed", Token, "The header says alg nOnE and the signature is empty, for RPs that compare the algorithm case-insensitively somewhere and exactly elsewhere.";
    Hs256WithPublicKey = "hs256-with-public-key", Token, "Signed with HS256, using the server's public key PEM as the HMAC secret (algorithm confusion).";
    Hs256WithClientSecret = "hs256-with-client-secret", Token, "Signed with HS256 keyed by the client's secret, with no kid (OIDC Core §10.1 symmetric signing, which Okta never uses); for clients with a secret only.";
    UnknownKid = "unknown-kid", Token, "Signed by the active key but the header names a kid that is in no JWKS.";
    UnknownKidPerToken = "unknown-kid-per-token", Token, "Signed by the attacker's key, which no server publishes, under a kid taken from a hash of the token's claims, so every token names a kid never seen before (the unknown-kid flood of attacks.md K-03).";
    NoKidMultipleKeys = "no-kid-multiple-keys", Token, "The header has no kid while the JWKS publishes several keys.";
    MaliciousKid = "malicious-kid", Token, "The kid is a path traversal with SQL metacharacters (../../../../../../dev/null' OR '1'='1' --) and the attacker's key signs; the kid must be an opaque lookup key.";
    MaliciousKidDevNull = "malicious-kid-dev-null", Token, "The kid is ../../../../../../../../dev/null and the token is HS256 keyed by an empty secret, what an RP reading the kid as a file path would verify it with.";
    Es256ZeroSignature = "es256-zero-signature", Token, "ES256 with r = s = 0, the psychic signature (CVE-2022-21449); for ES256 servers only.";
    UnknownCrit = "unknown-crit", Token, "Validly signed, but the header's crit names an extension no one implements, so it must be refused (RFC 7515 §4.1.11).";
    EmbeddedJwk = "embedded-jwk", Token, "Signed by an attacker key that the header carries as jwk (CVE-2018-0114).";
    JkuHeader = "jku-header", Token, "Signed by an attacker key whose JWKS the header's jku points to.";
    X5cHeader = "x5c-header", Token, "Signed by an attacker key whose self-signed certificate the header carries as x5c (attacks.md O-04).";
    X5uHeader = "x5u-header", Token, "Signed by an attacker key whose self-signed certificate (PEM, served at /mockta/attacker/certificate) the header's x5u points to (attacks.md O-04).";
    WrongIss = "wrong-iss", Token, "The iss claim names another issuer.";
    WrongAud = "wrong-aud", Token, "The aud claim names another client.";
    ExtraUntrustedAud = "extra-untrusted-aud", Token, "The aud claim lists the client and an untrusted audience, with no azp.";
    Expired = "expired", Token, "exp is an hour in the past.";
    IatFuture = "iat-future", Token, "iat is an hour in the future.";
    NbfFuture = "nbf-future", Token, "nbf is an hour in the future.";
    MissingSub = "missing-sub", Token, "The sub claim is left out, so the token names no one.";
    MissingIat = "missing-iat", Token, "The iat claim is left out.";
    MissingAud = "missing-aud", Token, "The aud claim is left out, so the token names no audience (OIDF -missing-aud).";
    MissingIss = "missing-iss", Token, "The iss claim is left out, so the token names no issuer (FAPI invalid-missing-iss).";
    MissingExp = "missing-exp", Token, "The exp claim is left out, so the token never expires (FAPI invalid-missing-exp).";
    NonceMismatch = "nonce-mismatch", Token, "The nonce claim is not the one the client sent.";
    MissingNonce = "missing-nonce", Token, "The nonce claim is left out although the client sent one.";
    BadAtHash = "bad-at-hash", Token, "at_hash does not match the access token.";
    ExpAsString = "exp-as-string", Token, "exp is a JSON string, not a number.";
    RefreshTokenChangesSub = "refresh-token-changes-sub", RefreshToken, "The ID token from the next refresh grant names another user's sub (OIDC Core §12.2 requires the original one).";
    RefreshTokenChangesIss = "refresh-token-changes-iss", RefreshToken, "The ID token from the next refresh grant names another issuer (OIDC Core §12.2 requires the original one).";
    UserinfoSubMismatch = "userinfo-sub-mismatch", Userinfo, "/userinfo answers for another user (sub, email, names) for this access token.";
    DiscoveryIssuerMismatch = "discovery-issuer-mismatch", Token, "While armed, discovery documents name an impostor issuer, and the next tokens carry it as iss, so only an RP that compares the document's issuer with the one it configured refuses.";
    DiscoveryIssuerOnly = "discovery-issuer-only", Discovery, "The next discovery document names an impostor issuer; the tokens keep the real one.";
    StateMismatch = "state-mismatch", Authorize, "The redirect from /authorize carries a state the client did not send.";
    AuthorizationResponseWrongIss = "authorization-response-wrong-iss", Authorize, "The redirect from /authorize carries an iss parameter naming another issuer, the mix-up RFC 9207 defends against.";
    CodeReuseAllowed = "code-reuse-allowed", Authorize, "The authorization code can be exchanged twice, to test whether the RP reuses one.";
}

/// The issuer an impostor server claims: the real server's path on a host
/// the attacker holds, so only the origin differs.
pub fn impostor_issuer(server: &ServerRef) -> String {
    server.issuer("https://attacker.invalid")
}

impl OidcFault {
    /// Whether discovery documents name the impostor issuer while this
    /// fault is armed: `discovery-issuer-mismatch` until it is used up by
    /// the tokens it matches, `discovery-issuer-only` once.
    pub fn changes_discovery_documents(self) -> bool {
        matches!(self, OidcFault::DiscoveryIssuerMismatch | OidcFault::DiscoveryIssuerOnly)
    }

    /// What an ID-token-only fault changes that access tokens lack, or
    /// `None` when the fault can change an access token too.
    fn only_in_id_tokens(self) -> Option<&'static str> {
        match self {
            OidcFault::NonceMismatch | OidcFault::MissingNonce => Some("the nonce claim"),
            OidcFault::BadAtHash => Some("the at_hash claim"),
            OidcFault::Hs256WithClientSecret => Some("the ID token's signature with the client secret"),
            OidcFault::RefreshTokenChangesSub | OidcFault::RefreshTokenChangesIss => {
                Some("the ID token the refresh grant returns")
            }
            _ => None,
        }
    }
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

/// The first refusal when every candidate refuses; `None` when one accepts
/// or there is no candidate.
fn refused_everywhere(mut checks: impl Iterator<Item = Result<(), OidcFaultRefusal>>) -> Option<OidcFaultRefusal> {
    let first = checks.next()?.err()?;
    checks.all(|check| check.is_err()).then_some(first)
}

/// Why a fault cannot take effect where it was armed. Refused when it is
/// armed, so that a fault never waits for a message it cannot change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcFaultRefusal {
    #[error(
        "{fault} cannot change access tokens from the org authorization server: they are opaque to clients, as Okta's are, so no relying party reads them; arm it for the id_token or for a custom server"
    )]
    OpaqueAccessToken { fault: OidcFault },
    #[error("{fault} changes {what}, which access tokens do not carry; arm it for the id_token")]
    OnlyInIdTokens { fault: OidcFault, what: &'static str },
    #[error("{fault} changes {}, not a token; leave 'token' out or give id_token", stage.describe())]
    NotATokenFault { fault: OidcFault, stage: FaultStage },
    #[error("{fault} needs an authorization server that signs ES256, and server '{server}' signs {algorithm}")]
    NeedsEs256Server { fault: OidcFault, server: String, algorithm: &'static str },
    #[error("{fault} needs an authorization server that signs ES256, and the org has none")]
    NoEs256Server { fault: OidcFault },
    #[error(
        "{fault} signs with the client's secret, and client {client} has none (a public client, or one that authenticates with private_key_jwt)"
    )]
    ClientHasNoSecret { fault: OidcFault, client: String },
    #[error("{fault} signs with a client's secret, and no OIDC client of the org has one")]
    NoClientWithSecret { fault: OidcFault },
    #[error("{fault} changes the ID token from the refresh grant, which client {client} may not use")]
    ClientCannotRefresh { fault: OidcFault, client: String },
    #[error("{fault} changes the ID token from the refresh grant, which no OIDC client of the org may use")]
    NoClientCanRefresh { fault: OidcFault },
    #[error("{fault} changes {}, which `mockta oidc mint` does not produce", stage.describe())]
    NotMinted { fault: OidcFault, stage: FaultStage },
    #[error("the org has no authorization server '{server}'")]
    UnknownServer { server: String },
    #[error("the org has no OIDC client {client}")]
    UnknownClient { client: String },
}

impl OidcFaultRefusal {
    /// A stable code for each reason, for scripts and logs.
    pub fn code(&self) -> &'static str {
        match self {
            OidcFaultRefusal::OpaqueAccessToken { .. } => "fault.opaque_access_token",
            OidcFaultRefusal::OnlyInIdTokens { .. } => "fault.only_in_id_tokens",
            OidcFaultRefusal::NotATokenFault { .. } => "fault.not_a_token_fault",
            OidcFaultRefusal::NeedsEs256Server { .. } => "fault.needs_es256_server",
            OidcFaultRefusal::NoEs256Server { .. } => "fault.no_es256_server",
            OidcFaultRefusal::ClientHasNoSecret { .. } => "fault.client_has_no_secret",
            OidcFaultRefusal::NoClientWithSecret { .. } => "fault.no_client_with_secret",
            OidcFaultRefusal::ClientCannotRefresh { .. } => "fault.client_cannot_refresh",
            OidcFaultRefusal::NoClientCanRefresh { .. } => "fault.no_client_can_refresh",
            OidcFaultRefusal::NotMinted { .. } => "fault.not_minted",
            OidcFaultRefusal::UnknownServer { .. } => "fault.unknown_server",
            OidcFaultRefusal::UnknownClient { .. } => "fault.unknown_client",
        }
    }
}

/// What a fault needs to know about the authorization server of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFacts {
    pub server: ServerRef,
    pub algorithm: SigningAlgorithm,
}

impl ServerFacts {
    /// The facts of a server of the org; `None` when the org has no such server.
    pub fn of(org: &Org, server: &ServerRef) -> Option<Self> {
        let algorithm = match server {
            ServerRef::Org => SigningAlgorithm::Rs256,
            ServerRef::Custom(id) => org.authorization_server(id)?.signing_algorithm,
        };
        Some(ServerFacts { server: server.clone(), algorithm })
    }
}

/// What a fault needs to know about the client of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFacts {
    pub client: AppId,
    pub has_secret: bool,
    pub can_refresh: bool,
}

impl ClientFacts {
    pub fn of(app: &App) -> Self {
        let settings = app.oidc();
        ClientFacts {
            client: app.id.clone(),
            has_secret: settings.and_then(|s| s.client_secret.as_deref()).is_some_and(|s| !s.is_empty()),
            can_refresh: settings.is_some_and(|s| s.allows_grant(GrantType::RefreshToken)),
        }
    }
}

impl OidcFaultPlan {
    /// Refuses a plan whose token choice makes no sense for the fault,
    /// whatever server and client it meets.
    pub fn check_target(&self) -> Result<(), OidcFaultRefusal> {
        let fault = self.fault;
        let token_fault = matches!(fault.stage(), FaultStage::Token | FaultStage::RefreshToken);
        if !token_fault && self.target != FaultTarget::IdToken {
            return Err(OidcFaultRefusal::NotATokenFault { fault, stage: fault.stage() });
        }
        if self.target.access_token()
            && let Some(what) = fault.only_in_id_tokens()
        {
            return Err(OidcFaultRefusal::OnlyInIdTokens { fault, what });
        }
        Ok(())
    }

    /// Refuses a plan that cannot act on messages of this server.
    pub fn check_server(&self, facts: &ServerFacts) -> Result<(), OidcFaultRefusal> {
        let fault = self.fault;
        let token_fault = fault.stage() == FaultStage::Token;
        if token_fault && self.target.access_token() && facts.server == ServerRef::Org {
            return Err(OidcFaultRefusal::OpaqueAccessToken { fault });
        }
        if fault == OidcFault::Es256ZeroSignature && facts.algorithm != SigningAlgorithm::Es256 {
            return Err(OidcFaultRefusal::NeedsEs256Server {
                fault,
                server: facts.server.to_string(),
                algorithm: facts.algorithm.as_str(),
            });
        }
        Ok(())
    }

    /// Refuses a plan that cannot act on messages to this client.
    pub fn check_client(&self, facts: &ClientFacts) -> Result<(), OidcFaultRefusal> {
        let fault = self.fault;
        if fault == OidcFault::Hs256WithClientSecret && !facts.has_secret {
            return Err(OidcFaultRefusal::ClientHasNoSecret { fault, client: facts.client.to_string() });
        }
        if fault.stage() == FaultStage::RefreshToken && !facts.can_refresh {
            return Err(OidcFaultRefusal::ClientCannotRefresh { fault, client: facts.client.to_string() });
        }
        Ok(())
    }

    /// Whether the plan can change a message of this server to this client.
    pub fn acts_on(&self, server: &ServerFacts, client: &ClientFacts) -> bool {
        self.check_target().is_ok() && self.check_server(server).is_ok() && self.check_client(client).is_ok()
    }

    /// Checks, when a fault is armed, that some message it matches can
    /// carry it. A named server or client must allow it; when none is
    /// named, some server or client of the org must. `server` must be a
    /// server of the org (callers look it up first).
    pub fn check_arming(
        &self,
        org: &Org,
        server: Option<&ServerRef>,
        client: Option<&AppId>,
    ) -> Result<(), OidcFaultRefusal> {
        self.check_target()?;
        let fault = self.fault;
        match server {
            Some(server) => {
                let facts = ServerFacts::of(org, server)
                    .ok_or_else(|| OidcFaultRefusal::UnknownServer { server: server.to_string() })?;
                self.check_server(&facts)?;
            }
            None => {
                let every_server: Vec<ServerFacts> = std::iter::once(ServerRef::Org)
                    .chain(org.authorization_servers.iter().map(|s| ServerRef::Custom(s.id.clone())))
                    .filter_map(|s| ServerFacts::of(org, &s))
                    .collect();
                if let Some(refusal) = refused_everywhere(every_server.iter().map(|facts| self.check_server(facts))) {
                    return Err(match fault {
                        OidcFault::Es256ZeroSignature => OidcFaultRefusal::NoEs256Server { fault },
                        _ => refusal,
                    });
                }
            }
        }
        match client {
            Some(client) => {
                let app = org
                    .apps
                    .get(client)
                    .filter(|a| a.oidc().is_some())
                    .ok_or_else(|| OidcFaultRefusal::UnknownClient { client: client.to_string() })?;
                self.check_client(&ClientFacts::of(app))?;
            }
            None => {
                let every_client = org.apps.values().filter(|a| a.oidc().is_some()).map(ClientFacts::of);
                let refused = refused_everywhere(every_client.map(|facts| self.check_client(&facts)));
                let needs_a_client =
                    fault == OidcFault::Hs256WithClientSecret || fault.stage() == FaultStage::RefreshToken;
                if needs_a_client && (refused.is_some() || org.apps.values().all(|a| a.oidc().is_none())) {
                    return Err(match fault.stage() {
                        FaultStage::RefreshToken => OidcFaultRefusal::NoClientCanRefresh { fault },
                        _ => OidcFaultRefusal::NoClientWithSecret { fault },
                    });
                }
            }
        }
        Ok(())
    }

    /// Checks a plan for `mockta oidc mint`, which issues tokens for one
    /// server and client without a browser, a discovery fetch or a refresh.
    pub fn check_minting(&self, org: &Org, server: &ServerRef, client: &AppId) -> Result<(), OidcFaultRefusal> {
        let stage = self.fault.stage();
        if stage != FaultStage::Token {
            return Err(OidcFaultRefusal::NotMinted { fault: self.fault, stage });
        }
        self.check_arming(org, Some(server), Some(client))
    }
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
        assert_eq!(OidcFault::ALL.len(), 41);
    }

    fn org() -> Org {
        let now = time::macros::datetime!(2024-03-29 07:42:22 UTC);
        crate::org::parse_org("acme.toml", crate::setup::BUILTIN_ORG, now).unwrap()
    }

    fn plan(fault: OidcFault, target: FaultTarget) -> OidcFaultPlan {
        OidcFaultPlan { fault, target }
    }

    fn client(org: &Org, name: &str) -> AppId {
        org.find_app(name).unwrap().id.clone()
    }

    #[test]
    fn arming_refuses_what_no_matching_message_can_carry() {
        let org = org();
        let custom = ServerRef::Custom("default".into());
        let es256 = ServerRef::Custom("ausmocktaes256000001".into());
        let native = client(&org, "native-pkce");
        let web = client(&org, "reference-sp-oidc");
        let service = client(&org, "mockta-service");
        let refused = |plan: OidcFaultPlan, server: Option<&ServerRef>, client: Option<&AppId>| {
            plan.check_arming(&org, server, client).err().map(|r| r.code())
        };
        let access = |fault| plan(fault, FaultTarget::AccessToken);
        let id = |fault| plan(fault, FaultTarget::IdToken);
        assert_eq!(
            refused(access(OidcFault::WrongAud), Some(&ServerRef::Org), None),
            Some("fault.opaque_access_token")
        );
        assert_eq!(refused(access(OidcFault::WrongAud), Some(&custom), None), None);
        assert_eq!(refused(access(OidcFault::WrongAud), None, None), None, "custom servers can carry it");
        assert_eq!(refused(id(OidcFault::WrongAud), Some(&ServerRef::Org), None), None);
        assert_eq!(refused(access(OidcFault::MissingNonce), None, None), Some("fault.only_in_id_tokens"));
        assert_eq!(refused(access(OidcFault::StateMismatch), None, None), Some("fault.not_a_token_fault"));
        let zero = id(OidcFault::Es256ZeroSignature);
        assert_eq!(refused(zero, Some(&custom), None), Some("fault.needs_es256_server"));
        assert_eq!(refused(zero, Some(&es256), None), None);
        assert_eq!(refused(zero, None, None), None);
        let secret = id(OidcFault::Hs256WithClientSecret);
        assert_eq!(refused(secret, None, Some(&native)), Some("fault.client_has_no_secret"));
        assert_eq!(refused(secret, None, Some(&web)), None);
        assert_eq!(refused(secret, None, None), None, "some client has a secret");
        let changes_sub = id(OidcFault::RefreshTokenChangesSub);
        assert_eq!(refused(changes_sub, None, Some(&service)), Some("fault.client_cannot_refresh"));
        assert_eq!(refused(changes_sub, None, Some(&native)), None);
        let unknown = ServerRef::Custom("nope".into());
        assert_eq!(refused(id(OidcFault::Expired), Some(&unknown), None), Some("fault.unknown_server"));
    }

    #[test]
    fn arming_with_nothing_named_refuses_when_no_server_or_client_qualifies() {
        let mut org = org();
        org.authorization_servers.retain(|s| s.signing_algorithm == SigningAlgorithm::Rs256);
        let zero = plan(OidcFault::Es256ZeroSignature, FaultTarget::IdToken);
        assert_eq!(zero.check_arming(&org, None, None).err().map(|r| r.code()), Some("fault.no_es256_server"));
        org.authorization_servers.clear();
        let access = plan(OidcFault::Expired, FaultTarget::AccessToken);
        assert_eq!(access.check_arming(&org, None, None).err().map(|r| r.code()), Some("fault.opaque_access_token"));
        for app in org.apps.values_mut() {
            if let crate::org::SignOn::Oidc(settings) = &mut app.sign_on {
                settings.client_secret = None;
            }
        }
        let secret = plan(OidcFault::Hs256WithClientSecret, FaultTarget::IdToken);
        assert_eq!(secret.check_arming(&org, None, None).err().map(|r| r.code()), Some("fault.no_client_with_secret"));
    }

    #[test]
    fn minting_refuses_faults_of_other_stages() {
        let org = org();
        let web = client(&org, "reference-sp-oidc");
        for fault in OidcFault::ALL.iter().filter(|f| f.stage() != FaultStage::Token) {
            let refusal = plan(*fault, FaultTarget::IdToken).check_minting(&org, &ServerRef::Org, &web);
            assert_eq!(refusal.err().map(|r| r.code()), Some("fault.not_minted"), "{fault}");
        }
        let secret = plan(OidcFault::Hs256WithClientSecret, FaultTarget::IdToken);
        assert!(secret.check_minting(&org, &ServerRef::Org, &web).is_ok());
    }
}
