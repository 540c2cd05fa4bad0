//! The SQLite store: one file, created on first start, migrated by
//! `PRAGMA user_version`, in WAL mode with `synchronous=FULL` so that an
//! acknowledged write survives a crash.

mod rows;
mod schema;

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::{
    NewUser, PendingSignIn, ScimGroupStore, ScimUser, ScimUserStore, ScimUserWrite, Session, SessionStore,
    SettingsStore, SignInProtocol, SignInStore, StoreError, StoreResult, Team, TeamWrite, User, UserId, UserStatus,
};
use crate::config::{TenantId, TenantSettings};
use rows::{
    USER_COLUMNS, instant, is_unique_violation, json_text, query_scim_users, query_teams, query_user, seconds,
    set_members, to_user, user_from_row,
};

/// The SQLite boundary: SQLite's errors become the store's neutral kinds,
/// with SQLite's message kept as text.
impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match &error {
            rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Busy(error.to_string()),
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => StoreError::Corrupt(error.to_string()),
                ErrorCode::ConstraintViolation => StoreError::Conflict(error.to_string()),
                _ => StoreError::Backend(error.to_string()),
            },
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::InvalidColumnType(..) => StoreError::Corrupt(error.to_string()),
            _ => StoreError::Backend(error.to_string()),
        }
    }
}

pub struct SqliteStore {
    connection: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and migrates it.
    pub fn open(path: &Path) -> StoreResult<Self> {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Corrupt(format!("{}: {e}", parent.display())))?;
        }
        Self::setup(Connection::open(path)?)
    }

    /// An in-memory database, for tests.
    pub fn in_memory() -> StoreResult<Self> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut connection: Connection) -> StoreResult<Self> {
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::migrate(&mut connection)?;
        Ok(SqliteStore { connection: Mutex::new(connection) })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut connection = self.connection.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut connection)
    }

    /// Runs `PRAGMA integrity_check`; returns its first line (`ok` when sound).
    pub fn integrity_check(&self) -> StoreResult<String> {
        self.with(|c| Ok(c.query_row("PRAGMA integrity_check", [], |row| row.get(0))?))
    }
}

impl SettingsStore for SqliteStore {
    fn sync_tenant(&self, id: &TenantId, name: &str, settings: &TenantSettings) -> StoreResult<()> {
        // The config's settings win at start, but the lockout facts do not:
        // that an admin signed in through the IdP, and that SSO is required.
        let mut settings = settings.clone();
        if let Some(stored) = self.tenant_settings(id)? {
            settings.admin_signed_in_via_idp = stored.admin_signed_in_via_idp;
            settings.sso_required = stored.sso_required;
        }
        let settings = serde_json::to_string(&settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.with(|c| {
            c.execute(
                "INSERT INTO tenants (id, name, settings) VALUES (?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET name = excluded.name, settings = excluded.settings",
                params![id.as_str(), name, settings],
            )?;
            Ok(())
        })
    }

    fn tenant_settings(&self, id: &TenantId) -> StoreResult<Option<TenantSettings>> {
        let text: Option<String> = self.with(|c| {
            Ok(c.query_row("SELECT settings FROM tenants WHERE id = ?1", [id.as_str()], |r| r.get(0)).optional()?)
        })?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(e.to_string()))).transpose()
    }

    fn update_tenant_settings(&self, id: &TenantId, settings: &TenantSettings) -> StoreResult<()> {
        self.with(|c| {
            let transaction = c.transaction()?;
            let stored: Option<String> = transaction
                .query_row("SELECT settings FROM tenants WHERE id = ?1", [id.as_str()], |r| r.get(0))
                .optional()?;
            let mut settings = settings.clone();
            if let Some(stored) = stored.and_then(|s| serde_json::from_str::<TenantSettings>(&s).ok()) {
                settings.admin_signed_in_via_idp |= stored.admin_signed_in_via_idp;
            }
            let text = serde_json::to_string(&settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            transaction.execute("UPDATE tenants SET settings = ?2 WHERE id = ?1", params![id.as_str(), text])?;
            transaction.commit()?;
            Ok(())
        })
    }

    fn mark_admin_signed_in(&self, id: &TenantId) -> StoreResult<()> {
        self.with(|c| {
            let transaction = c.transaction()?;
            let stored: Option<String> = transaction
                .query_row("SELECT settings FROM tenants WHERE id = ?1", [id.as_str()], |r| r.get(0))
                .optional()?;
            let Some(stored) = stored else { return Ok(()) };
            let mut settings: TenantSettings =
                serde_json::from_str(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            settings.admin_signed_in_via_idp = true;
            let text = serde_json::to_string(&settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            transaction.execute("UPDATE tenants SET settings = ?2 WHERE id = ?1", params![id.as_str(), text])?;
            transaction.commit()?;
            Ok(())
        })
    }
}

impl SignInStore for SqliteStore {
    fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        self.with(|c| query_user(c, &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"), [&id.0]))
    }

    fn user_by_identity(&self, tenant: &TenantId, issuer: &str, subject: &str) -> StoreResult<Option<User>> {
        self.with(|c| {
            query_user(
                c,
                "SELECT u.id, u.tenant, u.email, u.email_normalised, u.name, u.status, u.roles FROM identities i
                 JOIN users u ON u.id = i.user_id WHERE i.tenant = ?1 AND i.issuer = ?2 AND i.name_id = ?3",
                params![tenant.as_str(), issuer, subject],
            )
        })
    }

    fn user_by_email(&self, tenant: &TenantId, email_normalised: &str) -> StoreResult<Option<User>> {
        self.with(|c| {
            query_user(
                c,
                &format!("SELECT {USER_COLUMNS} FROM users WHERE tenant = ?1 AND email_normalised = ?2"),
                params![tenant.as_str(), email_normalised],
            )
        })
    }

    fn create_user(&self, user: NewUser, id: UserId) -> StoreResult<User> {
        let roles = serde_json::to_string(&user.roles).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.with(|c| {
            let inserted = c.execute(
                "INSERT INTO users (id, tenant, email, email_normalised, name, status, roles, created,
                                    user_name, user_name_lower)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, unixepoch(), ?3, ?4)
                 ON CONFLICT DO NOTHING",
                params![id.0, user.tenant.as_str(), user.email, user.email_normalised, user.name, roles],
            )?;
            if inserted == 0 {
                return Err(StoreError::DuplicateEmail(user.email.clone()));
            }
            query_user(c, &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"), [&id.0])?
                .ok_or_else(|| StoreError::Corrupt("the new user vanished".into()))
        })
    }

    fn list_users(&self, tenant: &TenantId) -> StoreResult<Vec<User>> {
        self.with(|c| {
            let mut statement =
                c.prepare(&format!("SELECT {USER_COLUMNS} FROM users WHERE tenant = ?1 ORDER BY created, id"))?;
            let rows = statement.query_map([tenant.as_str()], user_from_row)?;
            rows.map(|row| to_user(row?)).collect()
        })
    }

    fn link_identity(&self, tenant: &TenantId, issuer: &str, subject: &str, user: &UserId) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO identities (tenant, issuer, name_id, user_id) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant, issuer, name_id) DO UPDATE SET user_id = excluded.user_id",
                params![tenant.as_str(), issuer, subject, user.0],
            )?;
            Ok(())
        })
    }

    fn remember_message_id(
        &self,
        tenant: &TenantId,
        message_id: &str,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        self.with(|c| {
            let transaction = c.transaction()?;
            transaction.execute("DELETE FROM replay_cache WHERE expires <= ?1", [seconds(now)])?;
            let inserted = transaction.execute(
                "INSERT INTO replay_cache (tenant, message_id, expires) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![tenant.as_str(), message_id, seconds(until).max(seconds(now) + 1)],
            )?;
            transaction.commit()?;
            Ok(inserted == 1)
        })
    }

    fn save_pending_sign_in(
        &self,
        token_hash: &str,
        pending: &PendingSignIn,
        expires: OffsetDateTime,
        now: OffsetDateTime,
        keep_at_most: usize,
    ) -> StoreResult<()> {
        self.with(|c| {
            let transaction = c.transaction()?;
            transaction.execute("DELETE FROM pending_requests WHERE expires <= ?1", [seconds(now)])?;
            transaction.execute(
                "INSERT INTO pending_requests (token_hash, tenant, protocol, request_id, nonce, code_verifier, relay_state, expires)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (token_hash) DO UPDATE SET tenant = excluded.tenant, protocol = excluded.protocol,
                 request_id = excluded.request_id, nonce = excluded.nonce, code_verifier = excluded.code_verifier,
                 relay_state = excluded.relay_state, expires = excluded.expires",
                params![
                    token_hash,
                    pending.tenant.as_str(),
                    pending.protocol.as_str(),
                    pending.request_id,
                    pending.nonce,
                    pending.code_verifier,
                    pending.return_to,
                    seconds(expires)
                ],
            )?;
            // The newest `keep_at_most` stay; a flood of sign-ins nobody
            // completes pushes out only the oldest of them.
            transaction.execute(
                "DELETE FROM pending_requests WHERE tenant = ?1 AND rowid IN (
                     SELECT rowid FROM pending_requests WHERE tenant = ?1
                     ORDER BY expires DESC, rowid DESC LIMIT -1 OFFSET ?2)",
                params![pending.tenant.as_str(), i64::try_from(keep_at_most).unwrap_or(i64::MAX)],
            )?;
            transaction.commit()?;
            Ok(())
        })
    }

    fn take_pending_sign_in(&self, token_hash: &str, now: OffsetDateTime) -> StoreResult<Option<PendingSignIn>> {
        type PendingRow = (String, String, String, Option<String>, Option<String>, String);
        self.with(|c| {
            let transaction = c.transaction()?;
            let found: Option<PendingRow> = transaction
                .query_row(
                    "SELECT tenant, protocol, request_id, nonce, code_verifier, relay_state FROM pending_requests
                     WHERE token_hash = ?1 AND expires > ?2",
                    params![token_hash, seconds(now)],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
                )
                .optional()?;
            transaction.execute(
                "DELETE FROM pending_requests WHERE token_hash = ?1 OR expires <= ?2",
                params![token_hash, seconds(now)],
            )?;
            transaction.commit()?;
            found
                .map(|(tenant, protocol, request_id, nonce, code_verifier, return_to)| {
                    let tenant =
                        TenantId::parse(&tenant).ok_or_else(|| StoreError::Corrupt(format!("tenant id '{tenant}'")))?;
                    let protocol = SignInProtocol::parse(&protocol)
                        .ok_or_else(|| StoreError::Corrupt(format!("sign-in protocol '{protocol}'")))?;
                    Ok(PendingSignIn { tenant, protocol, request_id, nonce, code_verifier, return_to })
                })
                .transpose()
        })
    }

    fn pending_sign_in_count(&self, tenant: &TenantId) -> StoreResult<usize> {
        let count: i64 = self.with(|c| {
            Ok(c.query_row("SELECT count(*) FROM pending_requests WHERE tenant = ?1", [tenant.as_str()], |r| r.get(0))?)
        })?;
        Ok(usize::try_from(count).unwrap_or(0))
    }
}

impl SessionStore for SqliteStore {
    fn create_session(
        &self,
        token_hash: &str,
        user: &UserId,
        groups: &[String],
        now: OffsetDateTime,
        expires: OffsetDateTime,
    ) -> StoreResult<()> {
        let groups = serde_json::to_string(groups).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.with(|c| {
            c.execute(
                "INSERT INTO sessions (token_hash, user_id, groups, created, expires) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![token_hash, user.0, groups, seconds(now), seconds(expires)],
            )?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &str, now: OffsetDateTime) -> StoreResult<Option<Session>> {
        // One query for the session and its user: this runs on every
        // signed-in request.
        let found = self.with(|c| {
            Ok(c.query_row(
                "SELECT u.id, u.tenant, u.email, u.email_normalised, u.name, u.status, u.roles, s.groups, s.expires
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1 AND s.expires > ?2",
                params![token_hash, seconds(now)],
                |r| Ok((user_from_row(r)?, r.get::<_, String>(7)?, r.get::<_, i64>(8)?)),
            )
            .optional()?)
        })?;
        let Some((user, groups, expires)) = found else { return Ok(None) };
        Ok(Some(Session {
            user: to_user(user)?,
            groups: serde_json::from_str(&groups).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            expires: instant(expires)?,
        }))
    }

    fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.with(|c| {
            c.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
            Ok(())
        })
    }
}

impl ScimUserStore for SqliteStore {
    fn scim_users(&self, tenant: &TenantId) -> StoreResult<Vec<ScimUser>> {
        self.with(|c| query_scim_users(c, "tenant = ?1 ORDER BY rowid", [tenant.as_str()]))
    }

    fn scim_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<ScimUser>> {
        self.with(|c| {
            Ok(query_scim_users(c, "tenant = ?1 AND id = ?2 ORDER BY rowid", params![tenant.as_str(), id.0])?.pop())
        })
    }

    fn scim_users_page(&self, tenant: &TenantId, offset: usize, limit: usize) -> StoreResult<(Vec<ScimUser>, usize)> {
        self.with(|c| {
            let total: i64 =
                c.query_row("SELECT count(*) FROM users WHERE tenant = ?1", [tenant.as_str()], |r| r.get(0))?;
            let page = query_scim_users(
                c,
                "tenant = ?1 ORDER BY rowid LIMIT ?2 OFFSET ?3",
                params![
                    tenant.as_str(),
                    i64::try_from(limit).unwrap_or(i64::MAX),
                    i64::try_from(offset).unwrap_or(i64::MAX)
                ],
            )?;
            Ok((page, usize::try_from(total).unwrap_or(0)))
        })
    }

    fn scim_user_by_user_name(&self, tenant: &TenantId, user_name: &str) -> StoreResult<Option<ScimUser>> {
        // Users made by sign-in take their email as userName; both are
        // compared in the one normalised form.
        let lower = crate::email::normalise(user_name);
        self.with(|c| {
            Ok(query_scim_users(c, "tenant = ?1 AND user_name_lower = ?2", params![tenant.as_str(), lower])?.pop())
        })
    }

    fn scim_create_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        write: &ScimUserWrite,
        now: OffsetDateTime,
    ) -> StoreResult<ScimUser> {
        let roles = serde_json::to_string(&write.roles).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let resource = json_text(&write.resource)?;
        let status = if write.active { UserStatus::Active } else { UserStatus::Deactivated };
        self.with(|c| {
            let result = c.execute(
                "INSERT INTO users (id, tenant, email, email_normalised, name, status, roles, created,
                                    user_name, user_name_lower, scim, version, last_modified)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?8)",
                params![
                    id.0,
                    tenant.as_str(),
                    write.email,
                    write.email_normalised,
                    write.name,
                    status.as_str(),
                    roles,
                    seconds(now),
                    write.user_name,
                    crate::email::normalise(&write.user_name),
                    resource
                ],
            );
            match result {
                Err(e) if is_unique_violation(&e, "user_name_lower") => {
                    return Err(StoreError::DuplicateUserName(write.user_name.clone()));
                }
                Err(e) if is_unique_violation(&e, "email_normalised") => {
                    return Err(StoreError::DuplicateEmail(write.email.clone()));
                }
                other => other?,
            };
            query_scim_users(c, "id = ?1 ORDER BY rowid", [&id.0])?
                .pop()
                .ok_or_else(|| StoreError::Corrupt("the new user vanished".into()))
        })
    }

    fn scim_replace_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        expected_version: Option<i64>,
        write: &ScimUserWrite,
        end_sessions: bool,
        now: OffsetDateTime,
    ) -> StoreResult<ScimUser> {
        let roles = serde_json::to_string(&write.roles).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let resource = json_text(&write.resource)?;
        let status = if write.active { UserStatus::Active } else { UserStatus::Deactivated };
        self.with(|c| {
            let transaction = c.transaction()?;
            let found: Option<(i64, String)> = transaction
                .query_row(
                    "SELECT version, email_normalised FROM users WHERE id = ?1 AND tenant = ?2",
                    params![id.0, tenant.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (version, old_email) = found.ok_or(StoreError::NotFound)?;
            if expected_version.is_some_and(|expected| expected != version) {
                return Err(StoreError::VersionMismatch(version));
            }
            let result = transaction.execute(
                "UPDATE users SET email = ?3, email_normalised = ?4, name = ?5, status = ?6, roles = ?7,
                        user_name = ?8, user_name_lower = ?9, scim = ?10, version = version + 1, last_modified = ?11
                 WHERE id = ?1 AND tenant = ?2",
                params![
                    id.0,
                    tenant.as_str(),
                    write.email,
                    write.email_normalised,
                    write.name,
                    status.as_str(),
                    roles,
                    write.user_name,
                    crate::email::normalise(&write.user_name),
                    resource,
                    seconds(now)
                ],
            );
            match result {
                Err(e) if is_unique_violation(&e, "user_name_lower") => {
                    return Err(StoreError::DuplicateUserName(write.user_name.clone()));
                }
                Err(e) if is_unique_violation(&e, "email_normalised") => {
                    return Err(StoreError::DuplicateEmail(write.email.clone()));
                }
                other => other?,
            };
            if !write.active && end_sessions {
                transaction.execute("DELETE FROM sessions WHERE user_id = ?1", [&id.0])?;
            }
            // A changed email stops signing in: the IdP identity that was the
            // old email address no longer points at this account.
            if old_email != write.email_normalised {
                transaction.execute(
                    "DELETE FROM identities WHERE user_id = ?1 AND lower(name_id) = ?2",
                    params![id.0, old_email],
                )?;
            }
            let updated =
                query_scim_users(&transaction, "id = ?1 ORDER BY rowid", [&id.0])?.pop().ok_or(StoreError::NotFound)?;
            transaction.commit()?;
            Ok(updated)
        })
    }

    fn delete_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<()> {
        self.with(|c| {
            let transaction = c.transaction()?;
            for table in ["sessions", "identities", "team_members"] {
                transaction.execute(&format!("DELETE FROM {table} WHERE user_id = ?1"), [&id.0])?;
            }
            transaction.execute("DELETE FROM users WHERE id = ?1 AND tenant = ?2", params![id.0, tenant.as_str()])?;
            transaction.commit()?;
            Ok(())
        })
    }

    fn scim_credential(&self, tenant: &TenantId) -> StoreResult<Option<String>> {
        self.with(|c| {
            Ok(c.query_row("SELECT secret_hash FROM scim_credentials WHERE tenant = ?1", [tenant.as_str()], |r| {
                r.get(0)
            })
            .optional()?)
        })
    }

    fn set_scim_credential(&self, tenant: &TenantId, secret_hash: &str) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO scim_credentials (tenant, secret_hash) VALUES (?1, ?2)
                 ON CONFLICT (tenant) DO UPDATE SET secret_hash = excluded.secret_hash",
                params![tenant.as_str(), secret_hash],
            )?;
            Ok(())
        })
    }
}

impl ScimGroupStore for SqliteStore {
    fn teams(&self, tenant: &TenantId) -> StoreResult<Vec<Team>> {
        self.with(|c| query_teams(c, "tenant = ?1", [tenant.as_str()]))
    }

    fn team(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Team>> {
        self.with(|c| Ok(query_teams(c, "tenant = ?1 AND id = ?2", params![tenant.as_str(), id])?.pop()))
    }

    fn team_by_name(&self, tenant: &TenantId, display_name: &str) -> StoreResult<Option<Team>> {
        self.with(|c| {
            Ok(query_teams(
                c,
                "tenant = ?1 AND display_name_lower = ?2",
                params![tenant.as_str(), display_name.to_lowercase()],
            )?
            .pop())
        })
    }

    fn create_or_link_team(
        &self,
        tenant: &TenantId,
        id: &str,
        write: &TeamWrite,
        now: OffsetDateTime,
    ) -> StoreResult<Team> {
        let resource = json_text(&write.resource)?;
        let (display_name, members) = (write.display_name.as_str(), write.members.as_slice());
        self.with(|c| {
            let transaction = c.transaction()?;
            let existing: Option<(String, bool)> = transaction
                .query_row(
                    "SELECT id, linked FROM teams WHERE tenant = ?1 AND display_name_lower = ?2",
                    params![tenant.as_str(), display_name.to_lowercase()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let team_id = match existing {
                Some((_, true)) => return Err(StoreError::DuplicateTeam(display_name.to_owned())),
                Some((existing_id, false)) => {
                    transaction.execute(
                        "UPDATE teams SET linked = 1, scim = ?2, display_name = ?3, version = version + 1, last_modified = ?4 WHERE id = ?1",
                        params![existing_id, resource, display_name, seconds(now)],
                    )?;
                    existing_id
                }
                None => {
                    transaction.execute(
                        "INSERT INTO teams (id, tenant, display_name, display_name_lower, scim, linked, version, created, last_modified)
                         VALUES (?1, ?2, ?3, ?4, ?5, 1, 1, ?6, ?6)",
                        params![id, tenant.as_str(), display_name, display_name.to_lowercase(), resource, seconds(now)],
                    )?;
                    id.to_owned()
                }
            };
            set_members(&transaction, tenant, &team_id, members)?;
            let team = query_teams(&transaction, "id = ?1", [&team_id])?.pop().ok_or(StoreError::NotFound)?;
            transaction.commit()?;
            Ok(team)
        })
    }

    fn replace_team(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: Option<i64>,
        write: &TeamWrite,
        now: OffsetDateTime,
    ) -> StoreResult<Team> {
        let resource = json_text(&write.resource)?;
        let (display_name, members) = (write.display_name.as_str(), write.members.as_slice());
        self.with(|c| {
            let transaction = c.transaction()?;
            let version: Option<i64> = transaction
                .query_row(
                    "SELECT version FROM teams WHERE id = ?1 AND tenant = ?2 AND linked = 1",
                    params![id, tenant.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            let version = version.ok_or(StoreError::NotFound)?;
            if expected_version.is_some_and(|expected| expected != version) {
                return Err(StoreError::VersionMismatch(version));
            }
            let result = transaction.execute(
                "UPDATE teams SET display_name = ?2, display_name_lower = ?3, scim = ?4, version = version + 1, last_modified = ?5
                 WHERE id = ?1",
                params![id, display_name, display_name.to_lowercase(), resource, seconds(now)],
            );
            match result {
                Err(e) if is_unique_violation(&e, "display_name_lower") => {
                    return Err(StoreError::DuplicateTeam(display_name.to_owned()));
                }
                other => other?,
            };
            set_members(&transaction, tenant, id, members)?;
            let team = query_teams(&transaction, "id = ?1", [id])?.pop().ok_or(StoreError::NotFound)?;
            transaction.commit()?;
            Ok(team)
        })
    }

    fn create_local_team(
        &self,
        tenant: &TenantId,
        id: &str,
        display_name: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Team> {
        let resource = json_text(&serde_json::json!({ "schemas": [crate::scim::SCHEMA_GROUP] }))?;
        self.with(|c| {
            let result = c.execute(
                "INSERT INTO teams (id, tenant, display_name, display_name_lower, scim, linked, version, created, last_modified)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, 1, ?6, ?6)",
                params![id, tenant.as_str(), display_name, display_name.to_lowercase(), resource, seconds(now)],
            );
            match result {
                Err(e) if is_unique_violation(&e, "display_name_lower") => {
                    return Err(StoreError::DuplicateTeam(display_name.to_owned()));
                }
                other => other?,
            };
            query_teams(c, "id = ?1", [id])?.pop().ok_or(StoreError::NotFound)
        })
    }

    fn unlink_team(&self, tenant: &TenantId, id: &str) -> StoreResult<()> {
        self.with(|c| {
            let changed = c.execute(
                "UPDATE teams SET linked = 0, version = version + 1 WHERE id = ?1 AND tenant = ?2 AND linked = 1",
                params![id, tenant.as_str()],
            )?;
            if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_errors_become_neutral_kinds() {
        let store = SqliteStore::in_memory().unwrap();
        let busy = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(5), Some("database is locked".into()));
        assert!(matches!(StoreError::from(busy), StoreError::Busy(m) if m.contains("locked")));
        let unique = store
            .with(|c| {
                c.execute_batch("CREATE TABLE t (x UNIQUE); INSERT INTO t VALUES (1);")?;
                Ok(c.execute("INSERT INTO t VALUES (1)", [])?)
            })
            .unwrap_err();
        assert!(matches!(unique, StoreError::Conflict(m) if m.contains("UNIQUE")));
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }
}
