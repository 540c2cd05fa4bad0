//! Storage behind a trait, so that another database can be added without
//! touching protocol code. [`sqlite::SqliteStore`] is the implementation.
//!
//! Every write method is one transaction (a read may take two statements).
//! An `Ok` means the write is durable: the SQLite store runs in WAL mode with
//! `synchronous=FULL`.

pub mod sqlite;

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

/// An AuthnRequest this browser sent and is waiting on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRequest {
    pub tenant: TenantId,
    pub request_id: String,
    pub relay_state: String,
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

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
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

pub trait Store: Send + Sync {
    /// Writes a tenant's name and settings from the config file.
    fn sync_tenant(&self, id: &TenantId, name: &str, settings: &TenantSettings) -> StoreResult<()>;
    fn tenant_settings(&self, id: &TenantId) -> StoreResult<Option<TenantSettings>>;
    /// Writes the settings. `admin_signed_in_via_idp` is never cleared here:
    /// only [`Store::mark_admin_signed_in`] changes it.
    fn update_tenant_settings(&self, id: &TenantId, settings: &TenantSettings) -> StoreResult<()>;
    /// Records, in one transaction, that an admin signed in through the IdP.
    fn mark_admin_signed_in(&self, id: &TenantId) -> StoreResult<()>;

    fn user(&self, id: &UserId) -> StoreResult<Option<User>>;
    fn user_by_identity(&self, tenant: &TenantId, issuer: &str, name_id: &str) -> StoreResult<Option<User>>;
    fn user_by_email(&self, tenant: &TenantId, email_normalised: &str) -> StoreResult<Option<User>>;
    fn create_user(&self, user: NewUser, id: UserId) -> StoreResult<User>;
    fn list_users(&self, tenant: &TenantId) -> StoreResult<Vec<User>>;
    fn link_identity(&self, tenant: &TenantId, issuer: &str, name_id: &str, user: &UserId) -> StoreResult<()>;

    fn create_session(
        &self,
        token_hash: &str,
        user: &UserId,
        groups: &[String],
        now: OffsetDateTime,
        expires: OffsetDateTime,
    ) -> StoreResult<()>;
    /// The live session for a token hash, with its user.
    fn session(&self, token_hash: &str, now: OffsetDateTime) -> StoreResult<Option<Session>>;
    fn delete_session(&self, token_hash: &str) -> StoreResult<()>;

    /// Records an assertion ID. Returns false when it was already recorded
    /// and has not expired: a replay.
    fn remember_assertion(
        &self,
        tenant: &TenantId,
        assertion_id: &str,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;

    fn save_pending_request(
        &self,
        token_hash: &str,
        pending: &PendingRequest,
        expires: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Takes (reads and deletes) a browser's outstanding request.
    fn take_pending_request(&self, token_hash: &str, now: OffsetDateTime) -> StoreResult<Option<PendingRequest>>;

    /// Every user of a tenant as SCIM sees them, in creation order (stable
    /// across pages).
    fn scim_users(&self, tenant: &TenantId) -> StoreResult<Vec<ScimUser>>;
    fn scim_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<ScimUser>>;
    /// One page of a tenant's users in creation order, and how many there are.
    fn scim_users_page(&self, tenant: &TenantId, offset: usize, limit: usize) -> StoreResult<(Vec<ScimUser>, usize)>;
    /// The user with this userName, ignoring case (Okta's lookup).
    fn scim_user_by_user_name(&self, tenant: &TenantId, user_name: &str) -> StoreResult<Option<ScimUser>>;
    fn scim_create_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        write: &ScimUserWrite,
        now: OffsetDateTime,
    ) -> StoreResult<ScimUser>;
    /// Replaces a user in one transaction. `expected_version` makes it
    /// conditional (`If-Match`). When the user becomes inactive and
    /// `end_sessions` is set, their sessions are deleted in the same
    /// transaction.
    fn scim_replace_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        expected_version: Option<i64>,
        write: &ScimUserWrite,
        end_sessions: bool,
        now: OffsetDateTime,
    ) -> StoreResult<ScimUser>;
    /// Deletes a user and everything that points at them (the
    /// `deactivate-deletes` flaw; the correct SP never deletes).
    fn delete_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<()>;

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

    /// The hash of the tenant's SCIM credential, if one was set.
    fn scim_credential(&self, tenant: &TenantId) -> StoreResult<Option<String>>;
    fn set_scim_credential(&self, tenant: &TenantId, secret_hash: &str) -> StoreResult<()>;
}
