//! The running OIDC provider: key rings, authorization codes, issued tokens
//! and armed OIDC faults, and the flows that use them. This module runs the
//! flows (`/authorize`, `/token`, `/logout`, minting); `keys.rs` keeps the
//! key rings, `faults.rs` the armed faults, and `tokens.rs` the issued
//! tokens and the endpoints that read them back.
//!
//! Protocol decisions are made by the pure functions in [`crate::oidc`];
//! this module keeps the state between requests. Codes and tokens are kept
//! in memory only, like the mock's browser sessions: a restart signs
//! everyone out, but keys survive because they live in the key directory.

mod faults;
mod keys;
mod pushed;
mod tokens;

use tokens::Issue;

use faults::MessageScope;
pub use faults::{ARMED_OIDC_FAULT_LIFETIME, ArmedOidcFault};
pub use keys::KeyInfo;

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use serde_json::Value;
use sha2::Digest as _;
use time::OffsetDateTime;

use super::bounded::{BoundedList, BoundedMap, Footprint, string_heap_bytes};
use super::{Browser, Idp, IdpError, MockSession, Pending, SsoOutcome};
use crate::ids::{AppId, UserId};
use crate::oidc::authorize::{self, AuthorizeParams, AuthorizeRefusal, AuthorizeReply, ValidAuthorization};
use crate::oidc::discovery::{self, DocumentKind};
use crate::oidc::faults::{FaultStage, OidcFault, OidcFaultPlan, impostor_issuer};
use crate::oidc::keys::{JwtKey, KeyRing};
use crate::oidc::token::{self, FormParams, TokenRequest};
use crate::oidc::{OAuthCode, OidcError, ServerRef};
use crate::org::Org;
use crate::org::oidc::{AuthorizationServer, GrantType, OIDC_SCOPES};

/// Authorization codes are single-use and expire after a minute.
const CODE_LIFETIME_SECONDS: i64 = 60;
/// Access tokens from the org server live an hour.
const ORG_ACCESS_TOKEN_SECONDS: i64 = 3600;
/// The most codes, tokens and assertion ids kept; the oldest go first.
const MAX_RECORDS: usize = 200_000;

/// The most "last ID token" records kept (one per client and user): enough
/// for a conformance run's canaries, small enough to stay a few megabytes.
const MAX_LAST_ID_TOKENS: usize = 4_096;

/// The byte budgets of the OIDC tables (estimated bytes, see
/// [`Footprint`]). Together with the other tables' they keep the mock under
/// 64 MB however many tokens it issues: access token records are about 400
/// bytes, so 12 MiB remembers the newest 30,000 or so for introspection,
/// revocation and `/userinfo`, and older ones answer as unknown tokens do.
const ACCESS_TOKEN_BYTES: usize = 12 * 1024 * 1024;
const REFRESH_TOKEN_BYTES: usize = 4 * 1024 * 1024;
const CODE_BYTES: usize = 4 * 1024 * 1024;
const ASSERTION_BYTES: usize = 2 * 1024 * 1024;
const LAST_ID_TOKEN_BYTES: usize = 4 * 1024 * 1024;

/// The most tokens a code's record remembers having issued (a code is
/// exchanged once, or again under the `code-reuse-allowed` fault), so the
/// record cannot grow in place without bound.
const MAX_TOKENS_PER_CODE: usize = 8;

/// A token as the tables keep it: its SHA-256, not its text. A JWT access
/// token is a kilobyte or two, and what introspection, revocation and
/// `/userinfo` need is in the record; the digest only finds the record for
/// a token presented again.
type TokenDigest = [u8; 32];

fn token_digest(token: &str) -> TokenDigest {
    sha2::Sha256::digest(token.as_bytes()).into()
}

/// The heap bytes of a list of strings, the strings' included.
fn strings_heap_bytes(strings: &[String]) -> usize {
    let list = if strings.is_empty() { 0 } else { std::mem::size_of_val(strings) + ALLOCATION };
    list + strings.iter().map(|s| string_heap_bytes(s)).sum::<usize>()
}

/// The heap bytes of a server reference (the org server's is none).
fn server_heap_bytes(server: &ServerRef) -> usize {
    match server {
        ServerRef::Org => 0,
        ServerRef::Custom(id) => string_heap_bytes(id),
    }
}

const ALLOCATION: usize = super::bounded::ALLOCATION_OVERHEAD;

#[derive(Clone, Debug)]
struct IssuedCode {
    authorization: ValidAuthorization,
    user: UserId,
    auth_time: OffsetDateTime,
    expires: OffsetDateTime,
    /// The `code-reuse-allowed` fault: the code survives its first exchange.
    reusable: bool,
    /// Set once exchanged; a second exchange revokes what the first issued
    /// (RFC 6749 §4.1.2).
    redeemed: bool,
    /// Set when a redeemed code comes back. Tokens issued from it afterwards
    /// (by an exchange that was still running) are revoked as they land.
    replayed: bool,
    /// What its exchanges issued, at most [`MAX_TOKENS_PER_CODE`] of each.
    issued_access_tokens: Vec<TokenDigest>,
    issued_refresh_tokens: Vec<TokenDigest>,
    /// The length of the PKCE verifier the first exchange sent, if any, so a
    /// test harness can tell what the client sent (see [`PkceExchange`]).
    verifier_length: Option<usize>,
    issued_at: OffsetDateTime,
}

/// What a client sent for PKCE in one authorization request and its code's
/// first exchange, as the conformance suite reads it to judge the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PkceExchange {
    /// The `code_challenge` the authorization request carried, if any. The
    /// mock refuses any method but S256, so a challenge here is S256.
    pub code_challenge: Option<String>,
    /// The length of the `code_verifier` sent to the token endpoint; `None`
    /// when the code was not exchanged yet or no verifier was sent.
    pub verifier_length: Option<usize>,
    /// Whether the code was exchanged at the token endpoint.
    pub exchanged: bool,
    pub issued_at: OffsetDateTime,
}

/// How many times relying parties fetched a server's discovery documents
/// and its JWKS, for a test harness to see whether a client refetched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProviderFetches {
    pub discovery: u64,
    pub jwks: u64,
}

impl Footprint for IssuedCode {
    fn footprint(&self) -> usize {
        // The issued lists are counted full from the start: they grow in
        // place, after the record was counted.
        let issued = 2 * (MAX_TOKENS_PER_CODE * std::mem::size_of::<TokenDigest>() + ALLOCATION);
        // Counted field by field: a code is made on every sign-in, too often
        // for the `Debug` estimate.
        let authorization = &self.authorization;
        let optional = |text: &Option<String>| text.as_deref().map_or(0, string_heap_bytes);
        std::mem::size_of::<Self>()
            + issued
            + server_heap_bytes(&authorization.server)
            + string_heap_bytes(authorization.client.as_str())
            + string_heap_bytes(&authorization.reply_to.redirect_uri)
            + optional(&authorization.reply_to.state)
            + strings_heap_bytes(&authorization.scopes)
            + optional(&authorization.nonce)
            + authorization.challenge.as_ref().map_or(0, |c| string_heap_bytes(&c.challenge))
            + optional(&authorization.login_hint)
            + string_heap_bytes(self.user.as_str())
    }
}

/// What introspection, revocation and `/userinfo` need of an access token;
/// the token itself is not kept (see [`TokenDigest`]).
#[derive(Clone, Debug)]
struct AccessRecord {
    server: ServerRef,
    client: AppId,
    user: Option<UserId>,
    scopes: Vec<String>,
    iat: i64,
    exp: i64,
    jti: String,
    revoked: bool,
    /// The `userinfo-sub-mismatch` fault was armed for this token.
    userinfo_fault: bool,
    /// The refresh token family it came from, so revoking the family revokes it.
    family: Option<String>,
}

impl Footprint for AccessRecord {
    fn footprint(&self) -> usize {
        std::mem::size_of::<Self>()
            + server_heap_bytes(&self.server)
            + string_heap_bytes(self.client.as_str())
            + self.user.as_ref().map_or(0, |user| string_heap_bytes(user.as_str()))
            + strings_heap_bytes(&self.scopes)
            + string_heap_bytes(&self.jti)
            + self.family.as_deref().map_or(0, string_heap_bytes)
    }
}

#[derive(Clone, Debug)]
struct RefreshRecord {
    server: ServerRef,
    client: AppId,
    user: UserId,
    scopes: Vec<String>,
    auth_time: OffsetDateTime,
    family: String,
    iat: i64,
    expires: Option<OffsetDateTime>,
    /// Rotated: a newer refresh token replaced it. Using it again is a sign
    /// of theft, so the whole family is revoked.
    rotated: bool,
    revoked: bool,
}

impl Footprint for RefreshRecord {
    fn footprint(&self) -> usize {
        std::mem::size_of::<Self>()
            + server_heap_bytes(&self.server)
            + string_heap_bytes(self.client.as_str())
            + string_heap_bytes(self.user.as_str())
            + strings_heap_bytes(&self.scopes)
            + string_heap_bytes(&self.family)
    }
}

/// The OIDC state of a running IdP.
pub struct OidcState {
    rings: Mutex<HashMap<ServerRef, KeyRing>>,
    codes: Mutex<BoundedMap<IssuedCode>>,
    access: Mutex<BoundedMap<AccessRecord, TokenDigest>>,
    refresh: Mutex<BoundedMap<RefreshRecord, TokenDigest>>,
    assertions: Mutex<BoundedMap<i64>>,
    faults: Mutex<BoundedList<ArmedOidcFault>>,
    /// The ID token last issued to each client for each user, so a test
    /// harness (the conformance suite's evidence) can show what was sent.
    last_id_tokens: Mutex<BoundedMap<String>>,
    /// Pushed authorization requests waiting for their `/authorize`.
    pushed: Mutex<BoundedMap<pushed::PushedRequest>>,
    attacker: JwtKey,
    /// Discovery and JWKS fetches per server.
    fetches: Mutex<HashMap<ServerRef, ProviderFetches>>,
    /// When set, rotations change the key rings in memory only and never
    /// write them back to the key directory (the conformance suite rotates
    /// keys without touching the user's key folder).
    rotations_in_memory: std::sync::atomic::AtomicBool,
    /// The `Cache-Control` header of discovery documents, if any (Okta
    /// sends none).
    discovery_cache_control: Mutex<Option<String>>,
}

impl OidcState {
    pub fn new(attacker: JwtKey) -> Self {
        OidcState {
            rings: Mutex::new(HashMap::new()),
            codes: Mutex::new(BoundedMap::with_byte_budget(MAX_RECORDS, CODE_BYTES)),
            access: Mutex::new(BoundedMap::with_byte_budget(MAX_RECORDS, ACCESS_TOKEN_BYTES)),
            refresh: Mutex::new(BoundedMap::with_byte_budget(MAX_RECORDS, REFRESH_TOKEN_BYTES)),
            assertions: Mutex::new(BoundedMap::with_byte_budget(MAX_RECORDS, ASSERTION_BYTES)),
            faults: Mutex::new(BoundedList::new(super::MAX_ARMED_FAULTS)),
            last_id_tokens: Mutex::new(BoundedMap::with_byte_budget(MAX_LAST_ID_TOKENS, LAST_ID_TOKEN_BYTES)),
            pushed: Mutex::new(pushed::pushed_requests()),
            attacker,
            fetches: Mutex::new(HashMap::new()),
            rotations_in_memory: std::sync::atomic::AtomicBool::new(false),
            discovery_cache_control: Mutex::new(None),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A successful token response, in Okta's member order.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenResponse {
    pub body: Value,
}

/// The outcome of `/authorize`.
#[derive(Debug)]
pub enum AuthorizeOutcome {
    Reply { reply: AuthorizeReply, session: Option<String> },
    Login { pending: String },
}

/// Tokens minted offline by `mockta oidc mint`.
#[derive(Debug, Clone)]
pub struct MintedTokens {
    pub id_token: String,
    pub access_token: String,
    pub issuer: String,
}

impl Idp {
    /// Checks the server exists and returns its custom definition, if any.
    fn server_exists<'o>(org: &'o Org, server: &ServerRef) -> Result<Option<&'o AuthorizationServer>, OidcError> {
        match server {
            ServerRef::Org => Ok(None),
            ServerRef::Custom(id) => {
                org.authorization_server(id).map(Some).ok_or_else(|| OidcError::UnknownServer(id.clone()))
            }
        }
    }

    /// Checks the server exists, for endpoints that need nothing else from it.
    fn check_server(&self, server: &ServerRef) -> Result<(), OidcError> {
        self.read_org(|org| Self::server_exists(org, server).map(|_| ()))
    }

    /// A custom server's definition: `None` for the org server, and for a
    /// server the org no longer has (callers have checked it existed).
    fn custom_server<'o>(org: &'o Org, server: &ServerRef) -> Option<&'o AuthorizationServer> {
        Self::server_exists(org, server).ok().flatten()
    }

    /// A discovery document. While `discovery-issuer-mismatch` is armed for
    /// the server (or for any server) the document names the impostor
    /// issuer; `discovery-issuer-only` does so once. Discovery is fetched
    /// without a user or a session, so neither fault's user and client
    /// matter here.
    pub fn discovery(&self, server: &ServerRef, kind: DocumentKind) -> Result<Value, OidcError> {
        let mut document = self.read_org(|org| {
            let custom = Self::server_exists(org, server)?;
            Ok::<_, OidcError>(discovery::document(&org.url, server, custom, kind))
        })?;
        self.count_fetch(server, |fetches| fetches.discovery += 1);
        let impostor = {
            let mut faults = self.live_oidc_faults();
            let first = faults
                .first(|f| f.fault.changes_discovery_documents() && f.server.as_ref().is_none_or(|s| s == server))
                .map(|f| (f.id.clone(), f.fault));
            match first {
                Some((id, OidcFault::DiscoveryIssuerOnly)) => faults.take_first(|f| f.id == id).is_some(),
                // discovery-issuer-mismatch stays armed until its tokens are issued.
                Some(_) => true,
                None => false,
            }
        };
        if impostor && let Some(issuer) = document.get_mut("issuer") {
            *issuer = Value::from(impostor_issuer(server));
        }
        Ok(document)
    }

    /// Counts a fetch of one of a server's documents.
    pub(super) fn count_fetch(&self, server: &ServerRef, count: impl FnOnce(&mut ProviderFetches)) {
        count(lock(&self.oidc.fetches).entry(server.clone()).or_default());
    }

    /// How many discovery documents and JWKS of `server` were served so far.
    pub fn provider_fetches(&self, server: &ServerRef) -> ProviderFetches {
        lock(&self.oidc.fetches).get(server).copied().unwrap_or_default()
    }

    /// Keeps key rotations in memory (`true`) or writes them back to the key
    /// directory (`false`, the default).
    pub fn keep_key_rotations_in_memory(&self, in_memory: bool) {
        self.oidc.rotations_in_memory.store(in_memory, std::sync::atomic::Ordering::SeqCst);
    }

    /// Sets the `Cache-Control` header sent with discovery documents.
    pub fn set_discovery_cache_control(&self, value: Option<String>) {
        *lock(&self.oidc.discovery_cache_control) = value;
    }

    /// The `Cache-Control` header to send with discovery documents, if any.
    pub fn discovery_cache_control(&self) -> Option<String> {
        lock(&self.oidc.discovery_cache_control).clone()
    }

    /// What `client` sent for PKCE in each authorization that gave `user` a
    /// code, oldest first, while the codes are among the most recent kept.
    pub fn pkce_exchanges(&self, client: &AppId, user: &UserId) -> Vec<PkceExchange> {
        let codes = lock(&self.oidc.codes);
        let mut found: Vec<PkceExchange> = codes
            .map
            .values()
            .filter(|code| code.authorization.client == *client && code.user == *user)
            .map(|code| PkceExchange {
                code_challenge: code.authorization.challenge.as_ref().map(|c| c.challenge.clone()),
                verifier_length: code.verifier_length,
                exchanged: code.redeemed,
                issued_at: code.issued_at,
            })
            .collect();
        found.sort_by_key(|exchange| exchange.issued_at);
        found
    }

    /// Every scope `client` asked for in the authorizations that gave a code,
    /// while the codes are among the most recent kept, in name order: what
    /// a relying party was seen to request (the OIN readiness report judges
    /// custom scopes and `offline_access` by it).
    pub fn requested_scopes(&self, client: &AppId) -> std::collections::BTreeSet<String> {
        let codes = lock(&self.oidc.codes);
        codes
            .map
            .values()
            .filter(|code| code.authorization.client == *client)
            .flat_map(|code| code.authorization.scopes.iter().cloned())
            .collect()
    }

    /// The estimated bytes each OIDC table holds, by name (see
    /// [`Footprint`]), so tests and benchmarks can see that the mock's
    /// memory stays bounded however many tokens it issues.
    pub fn oidc_table_bytes(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("access tokens", lock(&self.oidc.access).accounted_bytes()),
            ("refresh tokens", lock(&self.oidc.refresh).accounted_bytes()),
            ("codes", lock(&self.oidc.codes).accounted_bytes()),
            ("client assertions", lock(&self.oidc.assertions).accounted_bytes()),
            ("last ID tokens", lock(&self.oidc.last_id_tokens).accounted_bytes()),
            ("pushed requests", lock(&self.oidc.pushed).accounted_bytes()),
            ("armed faults", lock(&self.oidc.faults).accounted_bytes()),
        ]
    }

    /// How many access tokens are remembered for introspection, revocation
    /// and `/userinfo`: the newest, as many as the table's budgets allow.
    pub fn remembered_access_tokens(&self) -> usize {
        lock(&self.oidc.access).len()
    }

    /// The ID token last issued to `client` for `user`, as it was sent
    /// (faults included), while it is among the most recent few thousand.
    pub fn last_id_token(&self, client: &AppId, user: &UserId) -> Option<String> {
        lock(&self.oidc.last_id_tokens).map.get(&last_id_token_key(client, user)).cloned()
    }

    /// `/authorize`: validates the request, signs the browser in (session,
    /// `login_hint`, or the login page) and answers with a code or an error.
    pub fn authorize(
        &self,
        server: &ServerRef,
        params: &AuthorizeParams,
        browser: Browser<'_>,
    ) -> Result<AuthorizeOutcome, OidcError> {
        // A pushed request or a request object gives the parameters to check.
        let params = match self.expand_authorization_request(server, params)? {
            Ok(params) => params,
            Err(reply) => return Ok(AuthorizeOutcome::Reply { reply, session: None }),
        };
        let params = &params;
        let valid = self.read_org(|org| {
            Self::server_exists(org, server)?;
            match authorize::validate(org, server, params) {
                Ok(valid) => Ok(Ok(valid)),
                Err(AuthorizeRefusal::Page(error)) => Err(error),
                Err(AuthorizeRefusal::Reply(reply)) => Ok(Err(reply)),
            }
        })?;
        let valid = match valid {
            Ok(valid) => valid,
            Err(reply) => return Ok(AuthorizeOutcome::Reply { reply, session: None }),
        };
        let now = self.now();
        let existing = browser.session.and_then(|token| self.session(token));
        let fresh_enough = |session: &MockSession| {
            // max_age=0 asks for a new authentication every time.
            valid.max_age.is_none_or(|max| max > 0 && (now - session.authn_instant).whole_seconds() <= max)
        };
        if valid.prompt.none {
            // No prompting: only an existing, fresh enough session will do.
            return match existing.filter(|s| fresh_enough(s)) {
                Some(session) => self.finish_authorization(valid, session.user, session.authn_instant, None),
                None => Ok(AuthorizeOutcome::Reply {
                    reply: AuthorizeReply::error(
                        valid.reply_to,
                        OAuthCode::LoginRequired,
                        "The client specified not to prompt, but the user is not logged in.",
                    ),
                    session: None,
                }),
            };
        }
        if let Some(login) = valid.login_hint.clone() {
            let user = self.read_org(|org| org.find_user(&login).map(|u| u.id.clone()));
            if let Some(user) = user {
                let token = self.ids.opaque_token();
                self.remember_session(&token, MockSession { user: user.clone(), authn_instant: now });
                return self.finish_authorization(valid, user, now, Some(token));
            }
            // An unknown hint is only a hint: the login page asks instead.
        } else if let Some(session) = existing.filter(|s| !valid.prompt.login && fresh_enough(s)) {
            return self.finish_authorization(valid, session.user, session.authn_instant, None);
        }
        let pending = self.remember_pending(Pending::Oidc(Box::new(valid)));
        Ok(AuthorizeOutcome::Login { pending })
    }

    /// The login page chose a user for a pending authorization.
    pub(super) fn complete_oidc_login(&self, valid: ValidAuthorization, login: &str) -> Result<SsoOutcome, IdpError> {
        let now = self.now();
        let user = self.read_org(|org| org.find_user(login).map(|u| u.id.clone()));
        let user = user.ok_or_else(|| IdpError::UnknownUser(login.to_owned()))?;
        let token = self.ids.opaque_token();
        self.remember_session(&token, MockSession { user: user.clone(), authn_instant: now });
        match self.finish_authorization(valid, user, now, Some(token)).map_err(IdpError::Oidc)? {
            AuthorizeOutcome::Reply { reply, session } => Ok(SsoOutcome::OidcReply { reply, session }),
            AuthorizeOutcome::Login { pending } => Ok(SsoOutcome::Login { pending }),
        }
    }

    fn finish_authorization(
        &self,
        valid: ValidAuthorization,
        user: UserId,
        auth_time: OffsetDateTime,
        session: Option<String>,
    ) -> Result<AuthorizeOutcome, OidcError> {
        let now = self.now();
        let refusal = self.read_org(|org| {
            let Some(app) = org.apps.get(&valid.client).filter(|a| a.active) else {
                return Some("The client application is not active.");
            };
            let Some(found) = org.users.get(&user) else {
                return Some("User is not assigned to the client application.");
            };
            if !found.status.can_sign_in() {
                return Some("The user is not active.");
            }
            (!org.is_assigned(app, &user)).then_some("User is not assigned to the client application.")
        });
        if let Some(description) = refusal {
            let reply = AuthorizeReply::error(valid.reply_to, OAuthCode::AccessDenied, description);
            return Ok(AuthorizeOutcome::Reply { reply, session });
        }
        let fault = self.message_facts(&valid.server, &valid.client).and_then(|(server, client)| {
            let scope = MessageScope { user: Some(&user), server, client, id_token_issued: true };
            self.take_oidc_fault(&[FaultStage::Authorize], &scope).map(|f| f.fault)
        });
        let code = self.ids.opaque_token() + &self.ids.opaque_token()[..11];
        let mut reply_to = valid.reply_to.clone();
        if fault == Some(OidcFault::StateMismatch) {
            reply_to.state = Some(format!("mockta-not-your-state-{}", &code[..8]));
        }
        let mut params = vec![("code".to_owned(), code.clone())];
        if fault == Some(OidcFault::AuthorizationResponseWrongIss) {
            // RFC 9207 §2: the issuer goes beside the code; it names the impostor.
            params.push(("iss".to_owned(), impostor_issuer(&valid.server)));
        }
        let record = IssuedCode {
            authorization: valid,
            user,
            auth_time,
            expires: now + time::Duration::seconds(CODE_LIFETIME_SECONDS),
            reusable: fault == Some(OidcFault::CodeReuseAllowed),
            redeemed: false,
            replayed: false,
            issued_access_tokens: Vec::new(),
            issued_refresh_tokens: Vec::new(),
            verifier_length: None,
            issued_at: now,
        };
        lock(&self.oidc.codes).insert(code, record);
        let reply = AuthorizeReply { to: reply_to, params };
        Ok(AuthorizeOutcome::Reply { reply, session })
    }

    /// The token endpoint.
    pub fn token(
        &self,
        server: &ServerRef,
        authorization: Option<&str>,
        form: &FormParams,
    ) -> Result<TokenResponse, OidcError> {
        let client = self.authenticate_client(server, authorization, form, "token")?;
        let request = self.read_org(|org| {
            let app = org.apps.get(&client).ok_or(OidcError::UnknownClient)?;
            token::parse_token_request(form, app)
        })?;
        match request {
            TokenRequest::AuthorizationCode { code, redirect_uri, code_verifier } => {
                self.exchange_code(server, &client, &code, redirect_uri.as_deref(), code_verifier.as_deref())
            }
            TokenRequest::RefreshToken { refresh_token, scope } => {
                self.exchange_refresh(server, &client, &refresh_token, scope)
            }
            TokenRequest::ClientCredentials { scope } => self.client_credentials(server, &client, scope),
        }
    }

    fn exchange_code(
        &self,
        server: &ServerRef,
        client: &AppId,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> Result<TokenResponse, OidcError> {
        let now = self.now();
        let invalid_code =
            || OidcError::oauth(OAuthCode::InvalidGrant, "The authorization code is invalid or has expired.");
        let record = {
            let mut codes = lock(&self.oidc.codes);
            let Some(record) = codes.map.get_mut(code) else {
                return Err(invalid_code());
            };
            if record.redeemed && !record.reusable {
                // A replayed code: revoke what it issued (RFC 6749 §4.1.2).
                record.replayed = true;
                let (access, refresh) = (record.issued_access_tokens.clone(), record.issued_refresh_tokens.clone());
                drop(codes);
                self.revoke_issued(&access, &refresh);
                return Err(invalid_code());
            }
            let valid_for_client = record.authorization.client == *client && record.authorization.server == *server;
            if !valid_for_client || record.expires <= now {
                return Err(invalid_code());
            }
            // Any attempt, failed or not, uses the code up, as Okta does
            // after a failed PKCE check.
            if !record.redeemed {
                record.verifier_length = code_verifier.map(str::len);
            }
            record.redeemed = true;
            record.clone()
        };
        let authorization = &record.authorization;
        if redirect_uri != Some(authorization.reply_to.redirect_uri.as_str()) {
            return Err(OidcError::oauth(
                OAuthCode::InvalidGrant,
                "The 'redirect_uri' does not match the redirection URI used in the authorization request.",
            ));
        }
        let pkce_ok = match (&authorization.challenge, code_verifier) {
            (Some(challenge), Some(verifier)) => challenge.verifies(verifier),
            (None, None) => true,
            _ => false,
        };
        if !pkce_ok {
            return Err(OidcError::oauth(OAuthCode::InvalidGrant, "PKCE verification failed."));
        }
        let issued = self.issue(Issue {
            server,
            client,
            user: Some(&record.user),
            scopes: &authorization.scopes,
            nonce: authorization.nonce.as_deref(),
            auth_time: Some(record.auth_time),
            family: None,
            refresh_scopes: None,
            refreshing: false,
            fault: None,
        })?;
        let replayed = {
            let mut codes = lock(&self.oidc.codes);
            match codes.map.get_mut(code) {
                Some(record) => {
                    if record.issued_access_tokens.len() < MAX_TOKENS_PER_CODE {
                        record.issued_access_tokens.push(token_digest(&issued.access_token));
                    }
                    if record.issued_refresh_tokens.len() < MAX_TOKENS_PER_CODE {
                        record.issued_refresh_tokens.extend(issued.refresh_token.as_deref().map(token_digest));
                    }
                    record.replayed
                }
                None => false,
            }
        };
        if replayed {
            let refresh: Vec<TokenDigest> = issued.refresh_token.as_deref().map(token_digest).into_iter().collect();
            self.revoke_issued(&[token_digest(&issued.access_token)], &refresh);
        }
        Ok(issued.response)
    }

    fn exchange_refresh(
        &self,
        server: &ServerRef,
        client: &AppId,
        refresh_token: &str,
        scope: Option<Vec<String>>,
    ) -> Result<TokenResponse, OidcError> {
        let now = self.now();
        let invalid = || OidcError::oauth(OAuthCode::InvalidGrant, "The refresh token is invalid or expired.");
        // Checking and marking the token rotated happen under one lock, so two
        // concurrent refreshes with the same token cannot both succeed.
        let record = {
            let mut refresh = lock(&self.oidc.refresh);
            let record = refresh.map.get_mut(&token_digest(refresh_token)).ok_or_else(invalid)?;
            if record.client != *client || record.server != *server || record.revoked {
                return Err(invalid());
            }
            if record.expires.is_some_and(|e| e <= now) {
                return Err(invalid());
            }
            let reused = record.rotated;
            record.rotated = true;
            let record = record.clone();
            drop(refresh);
            if reused {
                // Reuse of a rotated refresh token: revoke the whole family.
                self.revoke_family(&record.family);
                return Err(invalid());
            }
            record
        };
        let scopes = match scope {
            None => record.scopes.clone(),
            Some(requested) if requested.iter().all(|s| record.scopes.contains(s)) => requested,
            Some(_) => {
                return Err(OidcError::oauth(
                    OAuthCode::InvalidScope,
                    "The requested scopes are not a subset of the scopes of the original grant.",
                ));
            }
        };
        // The user must still be active and assigned, and the policy must
        // still allow refreshing: access can be taken away after the grant.
        let still_allowed = self.read_org(|org| {
            let user_ok = org.users.get(&record.user).is_some_and(|u| u.status.can_sign_in());
            let app = org.apps.get(client).filter(|a| a.active);
            let assigned = app.is_some_and(|a| org.is_assigned(a, &record.user));
            let policy_ok = match server {
                ServerRef::Org => true,
                ServerRef::Custom(id) => org
                    .authorization_server(id)
                    .and_then(|s| s.policy_for(client))
                    .is_some_and(|p| p.grant_types.contains(&GrantType::RefreshToken)),
            };
            user_ok && assigned && policy_ok
        });
        if !still_allowed {
            self.revoke_family(&record.family);
            return Err(invalid());
        }
        let issued = self.issue(Issue {
            server,
            client,
            user: Some(&record.user),
            scopes: &scopes,
            nonce: None,
            auth_time: Some(record.auth_time),
            family: Some(record.family.clone()),
            refresh_scopes: Some(&record.scopes),
            refreshing: true,
            fault: None,
        })?;
        Ok(issued.response)
    }

    fn client_credentials(
        &self,
        server: &ServerRef,
        client: &AppId,
        scope: Option<Vec<String>>,
    ) -> Result<TokenResponse, OidcError> {
        if *server == ServerRef::Org {
            return Err(OidcError::oauth(
                OAuthCode::InvalidScope,
                "The org authorization server grants client credentials only for Okta API scopes (okta.*), which the mock does not have. Use a custom authorization server.",
            ));
        }
        let Some(scopes) = scope.filter(|s| !s.is_empty()) else {
            return Err(OidcError::oauth(
                OAuthCode::InvalidScope,
                "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
            ));
        };
        if let Some(oidc_scope) = scopes.iter().find(|s| OIDC_SCOPES.contains(&s.as_str())) {
            return Err(OidcError::oauth(
                OAuthCode::InvalidScope,
                format!("The '{oidc_scope}' scope is for users and cannot be granted to a client alone."),
            ));
        }
        self.read_org(|org| {
            let app = org.apps.get(client).ok_or(OidcError::UnknownClient)?;
            authorize::check_scopes(org, server, app, &scopes, GrantType::ClientCredentials)
                .map_err(|(code, description)| OidcError::oauth(code, description))
        })?;
        let issued = self.issue(Issue {
            server,
            client,
            user: None,
            scopes: &scopes,
            nonce: None,
            auth_time: None,
            family: None,
            refresh_scopes: None,
            refreshing: false,
            fault: None,
        })?;
        Ok(issued.response)
    }

    /// `/logout`: ends the mock session and redirects to a registered
    /// sign-out URI of the client named by `id_token_hint`.
    pub fn logout(
        &self,
        server: &ServerRef,
        params: &AuthorizeParams,
        session: Option<&str>,
    ) -> Result<String, OidcError> {
        let org_url = self.read_org(|org| {
            Self::server_exists(org, server)?;
            Ok::<_, OidcError>(org.url.clone())
        })?;
        let destination = match params.get("post_logout_redirect_uri") {
            None => format!("{org_url}/"),
            Some(uri) => {
                let hint = params.get("id_token_hint").ok_or(OidcError::LogoutRedirectNotRegistered)?;
                let client = self.id_token_audience(server, hint).ok_or(OidcError::LogoutRedirectNotRegistered)?;
                let registered = self.read_org(|org| {
                    org.apps
                        .get(&client)
                        .and_then(|a| a.oidc())
                        .is_some_and(|s| s.post_logout_redirect_uris.iter().any(|u| u == uri))
                });
                if !registered {
                    return Err(OidcError::LogoutRedirectNotRegistered);
                }
                match params.get("state") {
                    Some(state) => {
                        let encoded: String =
                            url::form_urlencoded::Serializer::new(String::new()).append_pair("state", state).finish();
                        format!("{uri}{}{encoded}", if uri.contains('?') { '&' } else { '?' })
                    }
                    None => uri.to_owned(),
                }
            }
        };
        if let Some(token) = session {
            lock(&self.sessions).map.remove(token);
        }
        Ok(destination)
    }

    /// The client an ID token of ours was issued to, if its signature verifies
    /// with a published key. Expiry is not checked: logout hints may be old.
    fn id_token_audience(&self, server: &ServerRef, token: &str) -> Option<AppId> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let kid = header.kid?;
        let key = self.with_ring(server, |ring| ring.find(&kid).cloned()).ok()??;
        let mut validation = jsonwebtoken::Validation::new(key.jwt_algorithm());
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["aud"]);
        let data = jsonwebtoken::decode::<Value>(token, &key.decoding_key().ok()?, &validation).ok()?;
        AppId::parse(data.claims.get("aud")?.as_str()?).ok()
    }

    /// Issues tokens offline, as `mockta oidc mint` does: no browser and no
    /// code, but the same access checks and faults.
    pub fn mint_tokens(
        &self,
        server: &ServerRef,
        app: &str,
        login: &str,
        fault: Option<OidcFaultPlan>,
    ) -> Result<MintedTokens, OidcError> {
        let (client, user, issuer) = self.read_org(|org| {
            Self::server_exists(org, server)?;
            let app = org.find_app(app).filter(|a| a.oidc().is_some()).ok_or(OidcError::UnknownClient)?;
            let user = org
                .find_user(login)
                .ok_or_else(|| OidcError::oauth(OAuthCode::AccessDenied, format!("No user '{login}' in this org.")))?;
            if !user.status.can_sign_in() {
                return Err(OidcError::oauth(OAuthCode::AccessDenied, "The user is not active."));
            }
            if !org.is_assigned(app, &user.id) {
                return Err(OidcError::oauth(
                    OAuthCode::AccessDenied,
                    "User is not assigned to the client application.",
                ));
            }
            if let Some(plan) = &fault {
                plan.check_minting(org, server, &app.id).map_err(OidcError::FaultRefused)?;
            }
            Ok((app.id.clone(), user.id.clone(), server.issuer(&org.url)))
        })?;
        let scopes: Vec<String> = ["openid", "profile", "email"].iter().map(|s| (*s).to_owned()).collect();
        let issued = self.issue(Issue {
            server,
            client: &client,
            user: Some(&user),
            scopes: &scopes,
            nonce: None,
            auth_time: Some(self.now()),
            family: None,
            refresh_scopes: None,
            refreshing: false,
            fault,
        })?;
        let id_token = issued.response.body.get("id_token").and_then(Value::as_str).unwrap_or_default().to_owned();
        Ok(MintedTokens { id_token, access_token: issued.access_token, issuer })
    }
}

/// The key of a "last ID token" record.
fn last_id_token_key(client: &AppId, user: &UserId) -> String {
    format!("{client}/{user}")
}
