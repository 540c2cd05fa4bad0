//! Storage behind a trait, so that another database can be added without
//! touching protocol code. [`sqlite::SqliteStore`] is the implementation.
//!
//! Every method is one transaction. An `Ok` means the write is durable: the
//! SQLite store runs in WAL mode with `synchronous=FULL`.

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

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("a user with the email '{0}' already exists in this tenant")]
    DuplicateEmail(String),
    #[error("the stored data is invalid: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

pub trait Store: Send + Sync {
    /// Writes a tenant's name and settings from the config file.
    fn sync_tenant(&self, id: &TenantId, name: &str, settings: &TenantSettings) -> StoreResult<()>;
    fn tenant_settings(&self, id: &TenantId) -> StoreResult<Option<TenantSettings>>;
    fn update_tenant_settings(&self, id: &TenantId, settings: &TenantSettings) -> StoreResult<()>;

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
}
