//! Storage behind role traits, so that another database can be added without
//! touching protocol code: [`SettingsStore`], [`SignInStore`],
//! [`SessionStore`], [`ScimUserStore`] and [`ScimGroupStore`], combined in
//! [`Store`]. [`sqlite::SqliteStore`] is the implementation; every backend
//! must pass the trait test suite in `tests/reference_sp/store_suite.rs`.
//!
//! Every write method is one write, atomic on its own (a read may take two
//! statements). An `Ok` means the write is durable: the SQLite store runs in
//! WAL mode with `synchronous=FULL`. Concurrent writes share commits (group
//! commit, see [`GroupCommitStore`]): a write that reads, checks and then
//! writes runs as one job through [`GroupCommitWrites::write`], inside the
//! shared transaction, and sees the writes committed before it and those
//! ahead of it in its own transaction.

pub mod sqlite;

use std::sync::Arc;

use time::OffsetDateTime;

use crate::config::{TenantId, TenantSettings};

/// The SP's own stable user id, `usr_` and 20 random characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct UserId(pub String);

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Deactivated,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Deactivated => "deactivated",
        }
    }

    fn parse(text: &str) -> UserStatus {
        if text == "active" { UserStatus::Active } else { UserStatus::Deactivated }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub id: UserId,
    pub tenant: TenantId,
    pub email: String,
    /// The form accounts are matched on (see [`crate::email`]).
    pub email_normalised: String,
    pub name: String,
    pub status: UserStatus,
    pub roles: Vec<String>,
}

/// What replacing a user by SCIM does besides writing it, in the same
/// transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplaceEffects {
    /// When the user becomes inactive, their sessions are deleted.
    pub end_sessions: bool,
    /// When the email changes, the IdP identity that was the old address
    /// (a SAML NameID in email format) stops pointing at the account, so
    /// whoever the IdP gives that address next does not sign in to it.
    pub unlink_old_email: bool,
}

impl ReplaceEffects {
    /// What the correct SP does.
    pub const CORRECT: ReplaceEffects = ReplaceEffects { end_sessions: true, unlink_old_email: true };
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub tenant: TenantId,
    pub email: String,
    pub email_normalised: String,
    pub name: String,
    pub roles: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub groups: Vec<String>,
    pub expires: OffsetDateTime,
}

/// What a SAML session keeps for Single Logout: the NameID and SessionIndex
/// of the assertion it was made from, which a LogoutRequest names (SAML
/// Profiles 4.4.4.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamlSessionKey {
    pub name_id: String,
    pub session_index: Option<String>,
}

/// What an OIDC session keeps to refresh its tokens: the refresh token
/// (kept in the clear, since it must be sent back to the provider), and the
/// original ID token's `iss`, `sub`, `aud` and `auth_time`, which OpenID
/// Connect Core 12.2 requires every refreshed ID token to repeat.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OidcRefreshGrant {
    pub refresh_token: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
    pub auth_time: Option<i64>,
}

/// The protocol a pending sign-in or a remembered message belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignInProtocol {
    Saml,
    Oidc,
    /// An SP-initiated Single Logout waiting for the IdP's LogoutResponse:
    /// its `request_id` is the LogoutRequest's ID.
    SamlLogout,
}

impl SignInProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            SignInProtocol::Saml => "saml",
            SignInProtocol::Oidc => "oidc",
            SignInProtocol::SamlLogout => "saml_logout",
        }
    }

    pub fn parse(text: &str) -> Option<SignInProtocol> {
        match text {
            "saml" => Some(SignInProtocol::Saml),
            "oidc" => Some(SignInProtocol::Oidc),
            "saml_logout" => Some(SignInProtocol::SamlLogout),
            _ => None,
        }
    }
}

/// A sign-in this browser started and the SP is waiting to complete: an
/// AuthnRequest (SAML) or an authorization request (OIDC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingSignIn {
    pub tenant: TenantId,
    pub protocol: SignInProtocol,
    /// What the answer must carry back: the AuthnRequest ID (SAML
    /// InResponseTo) or the OIDC `state`.
    pub request_id: String,
    /// The OIDC `nonce` the ID token must carry; `None` for SAML.
    pub nonce: Option<String>,
    /// The OIDC PKCE `code_verifier`; `None` for SAML.
    pub code_verifier: Option<String>,
    /// Where the browser goes after sign-in (SAML RelayState).
    pub return_to: String,
}

/// A user as SCIM sees it: the account, its SCIM resource and its version.
#[derive(Clone, Debug, PartialEq)]
pub struct ScimUser {
    pub user: User,
    pub user_name: String,
    /// The stored resource (see [`crate::scim::resource`]).
    pub resource: serde_json::Value,
    pub version: i64,
    pub created: OffsetDateTime,
    pub last_modified: OffsetDateTime,
    /// The teams the user is in, as (id, name).
    pub teams: Vec<(String, String)>,
}

/// What a SCIM create or replace writes.
#[derive(Clone, Debug)]
pub struct ScimUserWrite {
    pub user_name: String,
    pub email: String,
    pub email_normalised: String,
    pub name: String,
    pub active: bool,
    pub roles: Vec<String>,
    pub resource: serde_json::Value,
}

/// What a group push or change writes to a team.
#[derive(Clone, Debug)]
pub struct TeamWrite {
    pub display_name: String,
    pub resource: serde_json::Value,
    /// Exactly these members.
    pub members: Vec<UserId>,
}

/// A tenant's team, which a pushed Okta group links to.
#[derive(Clone, Debug, PartialEq)]
pub struct Team {
    pub id: String,
    pub tenant: TenantId,
    pub display_name: String,
    pub resource: serde_json::Value,
    /// Linked to a pushed group; an unlinked team is not visible over SCIM.
    pub linked: bool,
    pub version: i64,
    pub created: OffsetDateTime,
    pub last_modified: OffsetDateTime,
    /// Members as (user id, display name).
    pub members: Vec<(UserId, String)>,
}

/// Why a store operation failed. Backends convert their own errors into
/// these at their boundary, so nothing above the store knows which database
/// it is; the backend's message is kept as text.
#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    /// The database was busy or locked for longer than the store waits.
    #[error("the database is busy: {0}")]
    Busy(String),
    /// A constraint the caller did not anticipate was violated.
    #[error("the write conflicts with stored data: {0}")]
    Conflict(String),
    /// Any other failure of the database itself (IO, full disk, a bug).
    #[error("database error: {0}")]
    Backend(String),
    #[error("a user with the email '{0}' already exists in this tenant")]
    DuplicateEmail(String),
    #[error("a user with the userName '{0}' already exists in this tenant")]
    DuplicateUserName(String),
    #[error("a team named '{0}' already exists in this tenant")]
    DuplicateTeam(String),
    #[error("no such resource")]
    NotFound,
    #[error("the resource is at version {0}")]
    VersionMismatch(i64),
    #[error("the stored data is invalid: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A tenant's name and settings (the admin API's and the lockout facts).
pub trait SettingsStore: Send + Sync {
    /// Writes a tenant's name and settings from the config file.
    fn sync_tenant(&self, id: &TenantId, name: &str, settings: &TenantSettings) -> StoreResult<()>;
    fn tenant_settings(&self, id: &TenantId) -> StoreResult<Option<TenantSettings>>;
    /// Writes the settings. `admin_signed_in_via_idp` is never cleared here:
    /// only [`SettingsStore::mark_admin_signed_in`] changes it.
    fn update_tenant_settings(&self, id: &TenantId, settings: &TenantSettings) -> StoreResult<()>;
    /// Records, in one transaction, that an admin signed in through the IdP.
    fn mark_admin_signed_in(&self, id: &TenantId) -> StoreResult<()>;
}

/// What sign-in needs, whatever the protocol: accounts and the identities
/// linked to them, sign-ins in flight and the replay cache.
pub trait SignInStore: Send + Sync {
    fn user(&self, id: &UserId) -> StoreResult<Option<User>>;
    /// The account an IdP's subject (SAML NameID, OIDC `sub`) is linked to.
    fn user_by_identity(&self, tenant: &TenantId, issuer: &str, subject: &str) -> StoreResult<Option<User>>;
    /// Whether the account is linked to some subject of `issuer` already.
    fn user_has_identity_from(&self, tenant: &TenantId, user: &UserId, issuer: &str) -> StoreResult<bool>;
    fn user_by_email(&self, tenant: &TenantId, email_normalised: &str) -> StoreResult<Option<User>>;
    fn create_user(&self, user: NewUser, id: UserId) -> StoreResult<User>;
    fn list_users(&self, tenant: &TenantId) -> StoreResult<Vec<User>>;
    fn link_identity(&self, tenant: &TenantId, issuer: &str, subject: &str, user: &UserId) -> StoreResult<()>;
    /// Sets an account's app roles, as a sign-in's role claim says them.
    fn set_user_roles(&self, user: &UserId, roles: &[String]) -> StoreResult<()>;
    /// The licence the account was given at sign-in, if any.
    fn licence(&self, user: &UserId) -> StoreResult<Option<String>>;
    /// Gives the account a licence unless it has one: a licence once given
    /// stays, since only the SP's own admin takes licences away (Mobius).
    fn grant_licence(&self, user: &UserId, licence: &str) -> StoreResult<()>;

    /// Records a message ID (a SAML assertion ID, an OIDC nonce or `jti`).
    /// Returns false when it was already recorded and has not expired: a
    /// replay. IDs are random, so the protocols cannot collide.
    fn remember_message_id(
        &self,
        tenant: &TenantId,
        message_id: &str,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;

    /// Saves a sign-in this browser started. In the same transaction, expired
    /// sign-ins are deleted and, past `keep_at_most` for the tenant, the
    /// oldest ones, so requests nobody completes cannot grow the store
    /// without bound.
    fn save_pending_sign_in(
        &self,
        token_hash: &str,
        pending: &PendingSignIn,
        expires: OffsetDateTime,
        now: OffsetDateTime,
        keep_at_most: usize,
    ) -> StoreResult<()>;
    /// Takes (reads and deletes) a browser's pending sign-in.
    fn take_pending_sign_in(&self, token_hash: &str, now: OffsetDateTime) -> StoreResult<Option<PendingSignIn>>;
    /// How many sign-ins of the tenant are pending (expired ones included
    /// until the next write removes them).
    fn pending_sign_in_count(&self, tenant: &TenantId) -> StoreResult<usize>;
}

/// Browser sessions.
pub trait SessionStore: Send + Sync {
    fn create_session(
        &self,
        token_hash: &str,
        user: &UserId,
        groups: &[String],
        saml: Option<&SamlSessionKey>,
        now: OffsetDateTime,
        expires: OffsetDateTime,
    ) -> StoreResult<()>;
    /// The NameID and SessionIndex a live SAML session was made from.
    fn session_saml_key(&self, token_hash: &str, now: OffsetDateTime) -> StoreResult<Option<SamlSessionKey>>;
    /// Ends the tenant's SAML sessions for `name_id`: those with one of
    /// `session_indexes`, or all of them when it is empty (SAML Core
    /// 3.7.3.2). Returns how many ended.
    fn end_saml_sessions(&self, tenant: &TenantId, name_id: &str, session_indexes: &[String]) -> StoreResult<usize>;
    /// The live session for a token hash, with its user.
    fn session(&self, token_hash: &str, now: OffsetDateTime) -> StoreResult<Option<Session>>;
    fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Keeps (or, with `None`, forgets) the OIDC refresh grant of a
    /// session; a session that does not exist is left alone.
    fn set_session_oidc_refresh(&self, token_hash: &str, grant: Option<&OidcRefreshGrant>) -> StoreResult<()>;
    /// The OIDC refresh grant of a live session, if it keeps one.
    fn session_oidc_refresh(&self, token_hash: &str, now: OffsetDateTime) -> StoreResult<Option<OidcRefreshGrant>>;
}

/// SCIM Users, and the tenant's SCIM credential.
pub trait ScimUserStore: Send + Sync {
    /// Every user of a tenant as SCIM sees them, in creation order (stable
    /// across pages).
    fn scim_users(&self, tenant: &TenantId) -> StoreResult<Vec<ScimUser>>;
    fn scim_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<ScimUser>>;
    /// One page of a tenant's users in creation order, and how many there are.
    fn scim_users_page(&self, tenant: &TenantId, offset: usize, limit: usize) -> StoreResult<(Vec<ScimUser>, usize)>;
    /// The user with this userName, compared in the normalised form of
    /// [`crate::email::normalise`] (Okta's lookup ignores case).
    fn scim_user_by_user_name(&self, tenant: &TenantId, user_name: &str) -> StoreResult<Option<ScimUser>>;
    fn scim_create_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        write: &ScimUserWrite,
        now: OffsetDateTime,
    ) -> StoreResult<ScimUser>;
    /// Replaces a user in one transaction. `expected_version` makes it
    /// conditional (`If-Match`); `effects` says what else the same
    /// transaction does (see [`ReplaceEffects`]).
    fn scim_replace_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        expected_version: Option<i64>,
        write: &ScimUserWrite,
        effects: ReplaceEffects,
        now: OffsetDateTime,
    ) -> StoreResult<ScimUser>;
    /// Deletes a user and everything that points at them (the
    /// `deactivate-deletes` flaw; the correct SP never deletes).
    fn delete_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<()>;

    /// The hash of the tenant's SCIM credential, if one was set.
    fn scim_credential(&self, tenant: &TenantId) -> StoreResult<Option<String>>;
    fn set_scim_credential(&self, tenant: &TenantId, secret_hash: &str) -> StoreResult<()>;
}

/// SCIM Groups: the tenant's teams.
pub trait ScimGroupStore: Send + Sync {
    fn teams(&self, tenant: &TenantId) -> StoreResult<Vec<Team>>;
    fn team(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Team>>;
    fn team_by_name(&self, tenant: &TenantId, display_name: &str) -> StoreResult<Option<Team>>;
    /// Creates a team (linked), or links an existing unlinked one with the
    /// same name, with exactly these members.
    fn create_or_link_team(
        &self,
        tenant: &TenantId,
        id: &str,
        write: &TeamWrite,
        now: OffsetDateTime,
    ) -> StoreResult<Team>;
    /// Sets a team's name, resource and exact membership.
    fn replace_team(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: Option<i64>,
        write: &TeamWrite,
        now: OffsetDateTime,
    ) -> StoreResult<Team>;
    /// Creates a team in the app itself, not linked to any pushed group.
    fn create_local_team(
        &self,
        tenant: &TenantId,
        id: &str,
        display_name: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Team>;
    /// Unlinks a team from its pushed group. The team, its members and
    /// their accounts stay.
    fn unlink_team(&self, tenant: &TenantId, id: &str) -> StoreResult<()>;
}

/// What one write job sees inside a shared transaction: the data committed
/// before the transaction began, then the writes of the jobs ahead of it in
/// the same transaction, in order, exactly as if the jobs had run one after
/// another. Each write method here is atomic on its own, so a job that
/// handles a method's error and goes on keeps nothing of the failed call.
pub trait WriteScope {
    /// As [`SettingsStore::tenant_settings`], read in the job's transaction
    /// (a job must not read through the store itself, which would wait for
    /// the connection the job holds when the database is in memory).
    fn tenant_settings(&self, id: &TenantId) -> StoreResult<Option<TenantSettings>>;
    fn scim_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<ScimUser>>;
    /// Every user of a tenant, in creation order.
    fn scim_users(&self, tenant: &TenantId) -> StoreResult<Vec<ScimUser>>;
    fn team(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Team>>;
    fn team_by_name(&self, tenant: &TenantId, display_name: &str) -> StoreResult<Option<Team>>;
    /// As [`ScimUserStore::scim_create_user`].
    fn scim_create_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        write: &ScimUserWrite,
        now: OffsetDateTime,
    ) -> StoreResult<ScimUser>;
    /// As [`ScimUserStore::scim_replace_user`].
    fn scim_replace_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        expected_version: Option<i64>,
        write: &ScimUserWrite,
        effects: ReplaceEffects,
        now: OffsetDateTime,
    ) -> StoreResult<ScimUser>;
    /// As [`ScimUserStore::delete_user`].
    fn delete_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<()>;
    /// As [`ScimGroupStore::create_or_link_team`].
    fn create_or_link_team(
        &self,
        tenant: &TenantId,
        id: &str,
        write: &TeamWrite,
        now: OffsetDateTime,
    ) -> StoreResult<Team>;
    /// As [`ScimGroupStore::replace_team`].
    fn replace_team(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: Option<i64>,
        write: &TeamWrite,
        now: OffsetDateTime,
    ) -> StoreResult<Team>;
}

/// Whether a write job's changes stay in the shared transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteJobOutcome {
    Keep,
    /// The job failed: its changes are rolled back, and only its own.
    Undo,
}

/// Writes that share commits. A job reads, checks and writes through its
/// [`WriteScope`]; the store runs it inside a transaction that other
/// concurrent jobs share, so that one fsync makes all of them durable.
pub trait GroupCommitStore: Send + Sync {
    /// Runs `job` once, inside a shared transaction, and returns after that
    /// transaction has committed; an error means the transaction failed, and
    /// nothing of the job was kept. The job must not call the store itself.
    fn run_write_job(&self, job: &mut dyn FnMut(&dyn WriteScope) -> WriteJobOutcome) -> StoreResult<()>;

    /// Queues `job` to run as in [`GroupCommitStore::run_write_job`], on the
    /// store's own writer thread, without holding the caller's thread:
    /// `answer` is called, on that thread, with the shared transaction's
    /// outcome once it is known (an error means nothing of the job was
    /// kept). A job that panics is undone, and its panic goes no further.
    fn queue_write_job(&self, job: QueuedWriteJob, answer: WriteJobAnswer);
}

/// A write job that owns what it needs, for [`GroupCommitStore::queue_write_job`].
pub type QueuedWriteJob = Box<dyn FnOnce(&dyn WriteScope) -> WriteJobOutcome + Send>;
/// Told a queued write job's transaction outcome.
pub type WriteJobAnswer = Box<dyn FnOnce(StoreResult<()>) + Send>;

/// Runs `job` as in [`GroupCommitWrites::write`], but queued for the
/// store's writer thread while the caller's task waits: an async handler
/// needs no blocking thread of its own to wait for the commit, and the
/// writer runs the jobs that queued meanwhile back to back, so they share
/// one commit without a thread handing the connection to the next.
pub async fn write_queued<T, E>(
    store: &(impl GroupCommitStore + ?Sized),
    job: impl FnOnce(&dyn WriteScope) -> Result<T, E> + Send + 'static,
) -> StoreResult<Result<T, E>>
where
    T: Send + 'static,
    E: Send + 'static,
{
    let result = Arc::new(std::sync::Mutex::new(None));
    let kept = result.clone();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    store.queue_write_job(
        Box::new(move |scope| {
            let ran = job(scope);
            let outcome = if ran.is_ok() { WriteJobOutcome::Keep } else { WriteJobOutcome::Undo };
            *kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(ran);
            outcome
        }),
        Box::new(move |committed| {
            // A caller that stopped waiting needs no answer.
            let _ = sender.send(committed);
        }),
    );
    receiver.await.map_err(|_| StoreError::Backend("the store's writer ended without answering".into()))??;
    let ran = result.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    ran.ok_or_else(|| StoreError::Backend("the write job panicked".into()))
}

/// The typed way to run a write job, for any [`GroupCommitStore`].
pub trait GroupCommitWrites {
    /// Runs `job` as in [`GroupCommitStore::run_write_job`]: an `Err` from the
    /// job undoes its changes. The outer error is the shared transaction's
    /// failure, which wins over the job's own result (a refusal may have been
    /// judged against writes that were never made durable); the inner result
    /// is the job's.
    fn write<T, E>(&self, job: impl FnOnce(&dyn WriteScope) -> Result<T, E>) -> StoreResult<Result<T, E>>;
}

impl<S: GroupCommitStore + ?Sized> GroupCommitWrites for S {
    fn write<T, E>(&self, job: impl FnOnce(&dyn WriteScope) -> Result<T, E>) -> StoreResult<Result<T, E>> {
        let mut job = Some(job);
        let mut result = None;
        self.run_write_job(&mut |scope| {
            let Some(job) = job.take() else { return WriteJobOutcome::Undo };
            let ran = job(scope);
            let outcome = if ran.is_ok() { WriteJobOutcome::Keep } else { WriteJobOutcome::Undo };
            result = Some(ran);
            outcome
        })?;
        result.ok_or_else(|| StoreError::Backend("the store never ran the write job".into()))
    }
}

/// The tokens a tenant's SCIM OAuth server issues at once, as their hashes
/// with their expiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOAuthTokens {
    pub access_hash: String,
    pub access_expires: OffsetDateTime,
    pub refresh_hash: String,
    pub refresh_expires: OffsetDateTime,
}

/// What redeeming a refresh token did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshRedemption {
    /// It was live and unused: it is now used, and the new tokens belong to
    /// its grant.
    Rotated,
    /// It had been redeemed before, so it was stolen or replayed: every
    /// token of its grant is revoked (OAuth 2.0 Security BCP, refresh token
    /// rotation).
    Reused,
    /// No live refresh token has this hash.
    Unknown,
}

/// The SCIM API's OAuth 2.0 authorization server: codes and tokens, kept as
/// hashes.
pub trait ScimOAuthStore: Send + Sync {
    /// Keeps a code's hash with the redirect URI it was issued for. Expired
    /// codes are deleted, and at most `keep_at_most` per tenant are kept.
    fn save_scim_oauth_code(
        &self,
        tenant: &TenantId,
        code_hash: &str,
        redirect_uri: &str,
        expires: OffsetDateTime,
        now: OffsetDateTime,
        keep_at_most: usize,
    ) -> StoreResult<()>;
    /// Takes a code (single use: it is gone afterwards, whatever the
    /// answer) and returns its redirect URI when it was live.
    fn take_scim_oauth_code(
        &self,
        tenant: &TenantId,
        code_hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<String>>;
    /// Keeps the first tokens of a new grant.
    fn save_scim_oauth_tokens(
        &self,
        tenant: &TenantId,
        grant: &str,
        tokens: &NewOAuthTokens,
        now: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Whether a live access token has this hash.
    fn scim_oauth_access_token_live(
        &self,
        tenant: &TenantId,
        access_hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Redeems a refresh token in one write: checking it and marking it used
    /// cannot be split by another redemption of the same token.
    fn redeem_scim_oauth_refresh_token(
        &self,
        tenant: &TenantId,
        refresh_hash: &str,
        tokens: &NewOAuthTokens,
        now: OffsetDateTime,
    ) -> StoreResult<RefreshRedemption>;
}

/// Every role at once, for the [`crate::sp::Sp`], which serves them all. A
/// backend implements the role traits; this one comes with them.
pub trait Store:
    SettingsStore + SignInStore + SessionStore + ScimUserStore + ScimGroupStore + ScimOAuthStore + GroupCommitStore
{
}

impl<T: SettingsStore + SignInStore + SessionStore + ScimUserStore + ScimGroupStore + ScimOAuthStore + GroupCommitStore>
    Store for T
{
}
