//! The SQLite store: one file, created on first start, migrated by
//! `PRAGMA user_version`, in WAL mode with `synchronous=FULL` so that an
//! acknowledged write survives a crash.

mod rows;
mod schema;
mod scim_oauth;
mod scope;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::{
    GroupCommitStore, NewUser, OidcRefreshGrant, PendingSignIn, QueuedWriteJob, ReplaceEffects, SamlSessionKey,
    ScimGroupStore, ScimUser, ScimUserStore, ScimUserWrite, Session, SessionStore, SettingsStore, SignInProtocol,
    SignInStore, StoreError, StoreResult, Team, TeamWrite, User, UserId, WriteJobAnswer, WriteJobOutcome, WriteScope,
};
use crate::config::{TenantId, TenantSettings};
use rows::{
    USER_COLUMNS, instant, is_unique_violation, json_text, query_scim_users, query_teams, query_user, seconds, to_user,
    user_from_row,
};
use scope::ConnectionScope;
pub use writer::{GroupCommitCounts, WRITER_THREAD_NAME};
use writer::{GroupCommitWriter, OwnedJob, OwnedJobs};

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

/// One connection writes, through the group-commit writer (see
/// `writer.rs`): every write, sign-in's as well as SCIM's, is a job of a
/// shared transaction, since the one connection can hold only one
/// transaction and sign-ins gain from sharing fsyncs as much as SCIM does.
/// Reads of a file database go through a pool of other connections, which
/// WAL lets read while a commit is being synced.
pub struct SqliteStore {
    writer: Arc<GroupCommitWriter>,
    /// The writer thread for queued write jobs, started by the first.
    queued_jobs: Mutex<Option<OwnedJobs>>,
    /// `None` for an in-memory database, which no other connection can see:
    /// its reads wait for the write connection instead.
    readers: Option<ReaderPool>,
}

/// How many idle reading connections are kept for reuse.
const MOST_IDLE_READERS: usize = 8;

/// How many prepared statements each connection keeps, enough for every
/// query the store makes.
const CACHED_STATEMENTS: usize = 64;

/// How much of the database file a reading connection maps into memory
/// (SQLite's own ceiling is just under 2 GiB). It is address space, not
/// memory: the mapped pages are the operating system's file cache.
const MOST_MAPPED_BYTES: i64 = 1 << 31;

struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReaderPool {
    fn open_reader(&self) -> StoreResult<Connection> {
        let connection = Connection::open(&self.path)?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        // A reading connection must never write, so that every write goes
        // through the group-commit writer.
        connection.pragma_update(None, "query_only", "ON")?;
        // Reading the file through a memory map keeps a lookup in a large
        // tenant as cheap as in a small one: the pages come straight from
        // the operating system's cache, shared by every connection, instead
        // of being copied by a read call into each connection's own small
        // page cache, which a million users' pages would keep missing.
        connection.pragma_update(None, "mmap_size", MOST_MAPPED_BYTES)?;
        connection.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
        Ok(connection)
    }

    /// Runs `read` in one read transaction, so that a read of several
    /// statements sees one committed state.
    fn read<T>(&self, read: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self.open_reader()?,
        };
        let result = (|| {
            connection.prepare_cached("BEGIN")?.execute([])?;
            let result = read(&connection);
            connection.prepare_cached("COMMIT")?.execute([])?;
            result
        })();
        if connection.is_autocommit() {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < MOST_IDLE_READERS {
                idle.push(connection);
            }
        }
        result
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and migrates it.
    pub fn open(path: &Path) -> StoreResult<Self> {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Corrupt(format!("{}: {e}", parent.display())))?;
        }
        let writer = Self::setup(Connection::open(path)?)?;
        let readers = ReaderPool { path: path.to_owned(), idle: Mutex::new(Vec::new()) };
        Ok(SqliteStore { writer, queued_jobs: Mutex::new(None), readers: Some(readers) })
    }

    /// An in-memory database, for tests.
    pub fn in_memory() -> StoreResult<Self> {
        Ok(SqliteStore {
            writer: Self::setup(Connection::open_in_memory()?)?,
            queued_jobs: Mutex::new(None),
            readers: None,
        })
    }

    fn setup(mut connection: Connection) -> StoreResult<Arc<GroupCommitWriter>> {
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
        schema::migrate(&mut connection)?;
        Ok(Arc::new(GroupCommitWriter::new(connection)))
    }

    /// Runs one write as its own job of a shared transaction (see
    /// `writer.rs`), returning once it is durable.
    fn write_job<T>(&self, job: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let arrival = self.writer.arrive();
        self.writer.run(arrival, job)?
    }

    /// Runs a read on committed data.
    fn read<T>(&self, read: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        match &self.readers {
            Some(readers) => readers.read(read),
            None => self.writer.read_committed(read),
        }
    }

    /// How many commits carried how many writes since the store was opened:
    /// under concurrent writes there are fewer commits than writes.
    pub fn group_commit_counts(&self) -> GroupCommitCounts {
        self.writer.counts()
    }

    /// Runs `PRAGMA integrity_check`; returns its first line (`ok` when sound).
    pub fn integrity_check(&self) -> StoreResult<String> {
        self.read(|c| Ok(c.query_row("PRAGMA integrity_check", [], |row| row.get(0))?))
    }
}

impl SettingsStore for SqliteStore {
    fn sync_tenant(&self, id: &TenantId, name: &str, settings: &TenantSettings) -> StoreResult<()> {
        // The config's settings win at start, but the lockout facts do not:
        // that an admin signed in through the IdP, and that SSO is required.
        self.write_job(|c| {
            let stored: Option<String> =
                c.query_row("SELECT settings FROM tenants WHERE id = ?1", [id.as_str()], |r| r.get(0)).optional()?;
            let mut settings = settings.clone();
            if let Some(stored) = stored {
                let stored: TenantSettings =
                    serde_json::from_str(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                settings.admin_signed_in_via_idp = stored.admin_signed_in_via_idp;
                // A config that requires SSO from the start (`sso_required =
                // true`, as the Appenate guide's SP does) requires it at
                // every start; otherwise the stored choice stands.
                settings.sso_required |= stored.sso_required;
            }
            let settings = serde_json::to_string(&settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            c.execute(
                "INSERT INTO tenants (id, name, settings) VALUES (?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET name = excluded.name, settings = excluded.settings",
                params![id.as_str(), name, settings],
            )?;
            Ok(())
        })
    }

    fn tenant_settings(&self, id: &TenantId) -> StoreResult<Option<TenantSettings>> {
        self.read(|c| rows::tenant_settings(c, id))
    }

    fn update_tenant_settings(&self, id: &TenantId, settings: &TenantSettings) -> StoreResult<()> {
        self.write_job(|c| {
            let transaction = c;
            let stored: Option<String> = transaction
                .query_row("SELECT settings FROM tenants WHERE id = ?1", [id.as_str()], |r| r.get(0))
                .optional()?;
            let mut settings = settings.clone();
            if let Some(stored) = stored.and_then(|s| serde_json::from_str::<TenantSettings>(&s).ok()) {
                settings.admin_signed_in_via_idp |= stored.admin_signed_in_via_idp;
            }
            let text = serde_json::to_string(&settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            transaction.execute("UPDATE tenants SET settings = ?2 WHERE id = ?1", params![id.as_str(), text])?;
            Ok(())
        })
    }

    fn mark_admin_signed_in(&self, id: &TenantId) -> StoreResult<()> {
        self.write_job(|c| {
            let transaction = c;
            let stored: Option<String> = transaction
                .query_row("SELECT settings FROM tenants WHERE id = ?1", [id.as_str()], |r| r.get(0))
                .optional()?;
            let Some(stored) = stored else { return Ok(()) };
            let mut settings: TenantSettings =
                serde_json::from_str(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            settings.admin_signed_in_via_idp = true;
            let text = serde_json::to_string(&settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            transaction.execute("UPDATE tenants SET settings = ?2 WHERE id = ?1", params![id.as_str(), text])?;
            Ok(())
        })
    }
}

impl SignInStore for SqliteStore {
    fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        self.read(|c| query_user(c, &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"), [&id.0]))
    }

    fn user_by_identity(&self, tenant: &TenantId, issuer: &str, subject: &str) -> StoreResult<Option<User>> {
        self.read(|c| {
            query_user(
                c,
                "SELECT u.id, u.tenant, u.email, u.email_normalised, u.name, u.status, u.roles FROM identities i
                 JOIN users u ON u.id = i.user_id WHERE i.tenant = ?1 AND i.issuer = ?2 AND i.name_id = ?3",
                params![tenant.as_str(), issuer, subject],
            )
        })
    }

    fn user_has_identity_from(&self, tenant: &TenantId, user: &UserId, issuer: &str) -> StoreResult<bool> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT EXISTS(SELECT 1 FROM identities WHERE tenant = ?1 AND user_id = ?2 AND issuer = ?3)",
                params![tenant.as_str(), user.0, issuer],
                |row| row.get(0),
            )?)
        })
    }

    fn user_by_email(&self, tenant: &TenantId, email_normalised: &str) -> StoreResult<Option<User>> {
        self.read(|c| {
            query_user(
                c,
                &format!("SELECT {USER_COLUMNS} FROM users WHERE tenant = ?1 AND email_normalised = ?2"),
                params![tenant.as_str(), email_normalised],
            )
        })
    }

    fn create_user(&self, user: NewUser, id: UserId) -> StoreResult<User> {
        let roles = serde_json::to_string(&user.roles).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.write_job(|c| {
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
        self.read(|c| {
            let mut statement =
                c.prepare(&format!("SELECT {USER_COLUMNS} FROM users WHERE tenant = ?1 ORDER BY created, id"))?;
            let rows = statement.query_map([tenant.as_str()], user_from_row)?;
            rows.map(|row| to_user(row?)).collect()
        })
    }

    fn set_user_roles(&self, user: &UserId, roles: &[String]) -> StoreResult<()> {
        let roles = serde_json::to_string(roles).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.write_job(|c| {
            c.execute("UPDATE users SET roles = ?2 WHERE id = ?1", params![user.0, roles])?;
            Ok(())
        })
    }

    fn link_identity(&self, tenant: &TenantId, issuer: &str, subject: &str, user: &UserId) -> StoreResult<()> {
        self.write_job(|c| {
            c.execute(
                "INSERT INTO identities (tenant, issuer, name_id, user_id) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant, issuer, name_id) DO UPDATE SET user_id = excluded.user_id",
                params![tenant.as_str(), issuer, subject, user.0],
            )?;
            Ok(())
        })
    }

    fn licence(&self, user: &UserId) -> StoreResult<Option<String>> {
        self.read(|c| {
            Ok(c.query_row("SELECT licence FROM licences WHERE user_id = ?1", [&user.0], |r| r.get(0)).optional()?)
        })
    }

    fn grant_licence(&self, user: &UserId, licence: &str) -> StoreResult<()> {
        self.write_job(|c| {
            c.execute(
                "INSERT INTO licences (user_id, licence) VALUES (?1, ?2) ON CONFLICT (user_id) DO NOTHING",
                params![user.0, licence],
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
        self.write_job(|c| {
            let transaction = c;
            transaction.execute("DELETE FROM replay_cache WHERE expires <= ?1", [seconds(now)])?;
            let inserted = transaction.execute(
                "INSERT INTO replay_cache (tenant, message_id, expires) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![tenant.as_str(), message_id, seconds(until).max(seconds(now) + 1)],
            )?;
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
        self.write_job(|c| {
            let transaction = c;
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
            Ok(())
        })
    }

    fn take_pending_sign_in(&self, token_hash: &str, now: OffsetDateTime) -> StoreResult<Option<PendingSignIn>> {
        type PendingRow = (String, String, String, Option<String>, Option<String>, String);
        self.write_job(|c| {
            let transaction = c;
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
        let count: i64 = self.read(|c| {
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
        saml: Option<&SamlSessionKey>,
        now: OffsetDateTime,
        expires: OffsetDateTime,
    ) -> StoreResult<()> {
        let groups = serde_json::to_string(groups).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let name_id = saml.map(|key| key.name_id.as_str());
        let session_index = saml.and_then(|key| key.session_index.as_deref());
        self.write_job(|c| {
            c.execute(
                "INSERT INTO sessions (token_hash, user_id, groups, created, expires, saml_name_id, saml_session_index)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![token_hash, user.0, groups, seconds(now), seconds(expires), name_id, session_index],
            )?;
            Ok(())
        })
    }

    fn session_saml_key(&self, token_hash: &str, now: OffsetDateTime) -> StoreResult<Option<SamlSessionKey>> {
        let found: Option<(Option<String>, Option<String>)> = self.read(|c| {
            Ok(c.query_row(
                "SELECT saml_name_id, saml_session_index FROM sessions WHERE token_hash = ?1 AND expires > ?2",
                params![token_hash, seconds(now)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })?;
        Ok(found.and_then(|(name_id, session_index)| Some(SamlSessionKey { name_id: name_id?, session_index })))
    }

    fn end_saml_sessions(&self, tenant: &TenantId, name_id: &str, session_indexes: &[String]) -> StoreResult<usize> {
        let indexes = serde_json::to_string(session_indexes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.write_job(|c| {
            Ok(c.execute(
                "DELETE FROM sessions WHERE saml_name_id = ?2
                   AND user_id IN (SELECT id FROM users WHERE tenant = ?1)
                   AND (json_array_length(?3) = 0 OR saml_session_index IN (SELECT value FROM json_each(?3)))",
                params![tenant.as_str(), name_id, indexes],
            )?)
        })
    }

    fn session(&self, token_hash: &str, now: OffsetDateTime) -> StoreResult<Option<Session>> {
        // One query for the session and its user: this runs on every
        // signed-in request.
        let found = self.read(|c| {
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
        self.write_job(|c| {
            c.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
            Ok(())
        })
    }

    fn set_session_oidc_refresh(&self, token_hash: &str, grant: Option<&OidcRefreshGrant>) -> StoreResult<()> {
        let text = grant.map(serde_json::to_string).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.write_job(|c| {
            c.execute("UPDATE sessions SET oidc_refresh = ?2 WHERE token_hash = ?1", params![token_hash, text])?;
            Ok(())
        })
    }

    fn session_oidc_refresh(&self, token_hash: &str, now: OffsetDateTime) -> StoreResult<Option<OidcRefreshGrant>> {
        let found: Option<Option<String>> = self.read(|c| {
            Ok(c.query_row(
                "SELECT oidc_refresh FROM sessions WHERE token_hash = ?1 AND expires > ?2",
                params![token_hash, seconds(now)],
                |r| r.get(0),
            )
            .optional()?)
        })?;
        found
            .flatten()
            .map(|text| serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }
}

impl ScimUserStore for SqliteStore {
    fn scim_users(&self, tenant: &TenantId) -> StoreResult<Vec<ScimUser>> {
        self.read(|c| ConnectionScope { connection: c }.scim_users(tenant))
    }

    fn scim_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<ScimUser>> {
        self.read(|c| ConnectionScope { connection: c }.scim_user(tenant, id))
    }

    fn scim_users_page(&self, tenant: &TenantId, offset: usize, limit: usize) -> StoreResult<(Vec<ScimUser>, usize)> {
        self.read(|c| {
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
        self.read(|c| {
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
        self.write_job(|c| ConnectionScope { connection: c }.scim_create_user(tenant, id, write, now))
    }

    fn scim_replace_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        expected_version: Option<i64>,
        write: &ScimUserWrite,
        effects: ReplaceEffects,
        now: OffsetDateTime,
    ) -> StoreResult<ScimUser> {
        self.write_job(|c| {
            ConnectionScope { connection: c }.scim_replace_user(tenant, id, expected_version, write, effects, now)
        })
    }

    fn delete_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<()> {
        self.write_job(|c| ConnectionScope { connection: c }.delete_user(tenant, id))
    }

    fn scim_credential(&self, tenant: &TenantId) -> StoreResult<Option<String>> {
        self.read(|c| {
            Ok(c.prepare_cached("SELECT secret_hash FROM scim_credentials WHERE tenant = ?1")?
                .query_row([tenant.as_str()], |r| r.get(0))
                .optional()?)
        })
    }

    fn set_scim_credential(&self, tenant: &TenantId, secret_hash: &str) -> StoreResult<()> {
        self.write_job(|c| {
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
        self.read(|c| query_teams(c, "tenant = ?1", [tenant.as_str()]))
    }

    fn team(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Team>> {
        self.read(|c| ConnectionScope { connection: c }.team(tenant, id))
    }

    fn team_by_name(&self, tenant: &TenantId, display_name: &str) -> StoreResult<Option<Team>> {
        self.read(|c| ConnectionScope { connection: c }.team_by_name(tenant, display_name))
    }

    fn create_or_link_team(
        &self,
        tenant: &TenantId,
        id: &str,
        write: &TeamWrite,
        now: OffsetDateTime,
    ) -> StoreResult<Team> {
        self.write_job(|c| ConnectionScope { connection: c }.create_or_link_team(tenant, id, write, now))
    }

    fn replace_team(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: Option<i64>,
        write: &TeamWrite,
        now: OffsetDateTime,
    ) -> StoreResult<Team> {
        self.write_job(|c| ConnectionScope { connection: c }.replace_team(tenant, id, expected_version, write, now))
    }

    fn create_local_team(
        &self,
        tenant: &TenantId,
        id: &str,
        display_name: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Team> {
        let resource = json_text(&serde_json::json!({ "schemas": [crate::scim::SCHEMA_GROUP] }))?;
        self.write_job(|c| {
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
        self.write_job(|c| {
            let changed = c.execute(
                "UPDATE teams SET linked = 0, version = version + 1 WHERE id = ?1 AND tenant = ?2 AND linked = 1",
                params![id, tenant.as_str()],
            )?;
            if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
    }
}

impl Drop for SqliteStore {
    /// Stops the writer thread after the jobs queued before, so that the
    /// write connection is closed when the store is gone.
    fn drop(&mut self) {
        let jobs = self.queued_jobs.get_mut().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(jobs) = jobs {
            jobs.stop();
        }
    }
}

impl GroupCommitStore for SqliteStore {
    fn queue_write_job(&self, job: QueuedWriteJob, answer: WriteJobAnswer) {
        let job = OwnedJob {
            run: Box::new(move |c| job(&ConnectionScope { connection: c }) == WriteJobOutcome::Keep),
            answer,
        };
        let mut queued = self.queued_jobs.lock().unwrap_or_else(PoisonError::into_inner);
        if queued.is_none() {
            match OwnedJobs::start(self.writer.clone()) {
                Ok(started) => *queued = Some(started),
                Err(error) => {
                    drop(queued);
                    return (job.answer)(Err(StoreError::Backend(format!("the writer thread did not start: {error}"))));
                }
            }
        }
        let refused = queued.as_ref().map(|jobs| jobs.submit(job));
        drop(queued);
        if let Some(Err(job)) = refused {
            (job.answer)(Err(StoreError::Backend("the store's writer thread has ended".into())));
        }
    }

    fn run_write_job(&self, job: &mut dyn FnMut(&dyn WriteScope) -> WriteJobOutcome) -> StoreResult<()> {
        let arrival = self.writer.arrive();
        // An undone job is the job's own answer, which it keeps for its
        // caller; only the shared transaction's failure is the store's.
        self.writer
            .run(arrival, |c| match job(&ConnectionScope { connection: c }) {
                WriteJobOutcome::Keep => Ok(()),
                WriteJobOutcome::Undo => Err(()),
            })
            .map(|_kept_or_undone| ())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    #[test]
    fn sqlite_errors_become_neutral_kinds() {
        let store = SqliteStore::in_memory().unwrap();
        let busy = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(5), Some("database is locked".into()));
        assert!(matches!(StoreError::from(busy), StoreError::Busy(m) if m.contains("locked")));
        let unique = store
            .write_job(|c| {
                c.execute_batch("CREATE TABLE t (x UNIQUE); INSERT INTO t VALUES (1);")?;
                Ok(c.execute("INSERT INTO t VALUES (1)", [])?)
            })
            .unwrap_err();
        assert!(matches!(unique, StoreError::Conflict(m) if m.contains("UNIQUE")));
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }

    type TestJob<'a> = Box<dyn FnOnce(&ConnectionScope<'_>) -> StoreResult<()> + Send + 'a>;

    /// Runs `jobs` as one batch, deterministically: the first job holds the
    /// connection until every other job has arrived, so each of them finds
    /// the shared transaction open and the last one commits it. Returns each
    /// job's result, in the order given.
    fn run_as_one_batch(store: &SqliteStore, jobs: Vec<TestJob<'_>>) -> Vec<StoreResult<()>> {
        let mut jobs = jobs.into_iter();
        let first = jobs.next().unwrap();
        let (entered, first_entered) = mpsc::channel();
        let (release, first_released) = mpsc::channel::<()>();
        std::thread::scope(|threads| {
            let first_thread = threads.spawn(move || {
                let arrival = store.writer.arrive();
                store.writer.run(arrival, |c| {
                    entered.send(()).unwrap();
                    first_released.recv().unwrap();
                    first(&ConnectionScope { connection: c })
                })
            });
            first_entered.recv().unwrap();
            let others: Vec<_> = jobs
                .map(|job| {
                    let arrival = store.writer.arrive();
                    threads.spawn(move || store.writer.run(arrival, |c| job(&ConnectionScope { connection: c })))
                })
                .collect();
            release.send(()).unwrap();
            std::iter::once(first_thread)
                .chain(others)
                .map(|thread| thread.join().unwrap().and_then(|result| result))
                .collect()
        })
    }

    fn user_write(user_name: &str) -> ScimUserWrite {
        ScimUserWrite {
            user_name: user_name.into(),
            email: user_name.into(),
            email_normalised: user_name.to_lowercase(),
            name: user_name.into(),
            active: true,
            roles: Vec::new(),
            resource: serde_json::json!({ "userName": user_name }),
        }
    }

    fn create(user_name: &str) -> TestJob<'_> {
        Box::new(move |scope| {
            let id = UserId(format!("usr_{}", user_name.replace(['@', '.'], "_")));
            scope.scim_create_user(&acme(), &id, &user_write(user_name), OffsetDateTime::UNIX_EPOCH).map(|_| ())
        })
    }

    fn acme() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    fn user_names(store: &SqliteStore) -> Vec<String> {
        let mut names: Vec<String> = store.scim_users(&acme()).unwrap().into_iter().map(|u| u.user_name).collect();
        names.sort();
        names
    }

    fn file_store(dir: &Path) -> SqliteStore {
        let store = SqliteStore::open(&dir.join("batch.sqlite3")).unwrap();
        let settings = TenantSettings {
            default_relay_state: "/".into(),
            allowed_email_domains: vec!["acme.test".into()],
            provisioning: crate::config::Provisioning::Jit,
            allow_idp_initiated: true,
            clock_skew_seconds: 180,
            allow_sha1: false,
            sso_required: false,
            admin_signed_in_via_idp: false,
            link_accounts_by_verified_email: false,
        };
        store.sync_tenant(&acme(), "Acme", &settings).unwrap();
        store
    }

    #[test]
    fn a_written_user_is_what_a_read_of_its_row_gives() {
        let dir = tempfile::tempdir().unwrap();
        let store = file_store(dir.path());
        let id = UserId("usr_written".into());
        let mut write = user_write("Written@acme.test");
        write.roles = vec!["Admin".into()];
        write.resource = serde_json::json!({
            "userName": "Written@acme.test",
            "name": { "givenName": "Wri", "familyName": "Ten" },
            "emails": [{ "value": "Written@acme.test", "primary": true }],
            "active": true,
            "score": 1.5,
            "count": 12345678901_i64,
        });
        let created_at = OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(1_700_000_000_123);
        let created = store.scim_create_user(&acme(), &id, &write, created_at).unwrap();
        assert_eq!(Some(&created), store.scim_users(&acme()).unwrap().first(), "the create's answer is its row");
        let team = TeamWrite {
            display_name: "Ops".into(),
            resource: serde_json::json!({ "displayName": "Ops" }),
            members: vec![id.clone()],
        };
        store.create_or_link_team(&acme(), "team_ops", &team, created_at).unwrap();
        write.active = false;
        write.name = "Renamed".into();
        write.resource["active"] = serde_json::Value::Bool(false);
        let replaced_at = created_at + time::Duration::milliseconds(90_500);
        let replaced =
            store.scim_replace_user(&acme(), &id, Some(1), &write, ReplaceEffects::CORRECT, replaced_at).unwrap();
        assert_eq!(replaced.teams.len(), 1, "{replaced:?}");
        assert_eq!(Some(&replaced), store.scim_users(&acme()).unwrap().first(), "the replace's answer is its row");
    }

    #[test]
    fn concurrent_writes_share_one_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = file_store(dir.path());
        let before = store.group_commit_counts();
        let names: Vec<String> = (0..6).map(|i| format!("batch{i}@acme.test")).collect();
        let results = run_as_one_batch(&store, names.iter().map(|name| create(name)).collect());
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let after = store.group_commit_counts();
        assert_eq!((after.commits - before.commits, after.writes - before.writes), (1, 6), "six writes, one commit");
        assert_eq!(user_names(&store), names, "every write of the shared commit is stored");
    }

    /// Runs `future` to its end on a runtime of its own.
    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    /// A queued job that creates the user `name`.
    fn queued_create(name: &str) -> QueuedWriteJob {
        let name = name.to_owned();
        Box::new(move |scope| {
            let id = UserId(format!("usr_{}", name.replace(['@', '.'], "_")));
            match scope.scim_create_user(&acme(), &id, &user_write(&name), OffsetDateTime::UNIX_EPOCH) {
                Ok(_) => WriteJobOutcome::Keep,
                Err(_) => WriteJobOutcome::Undo,
            }
        })
    }

    /// Queues a job that creates `held@acme.test` but first holds the
    /// writer thread until the returned sender is used, and returns once
    /// the job has begun; the channel gets the job's answer.
    fn hold_the_writer_thread(store: &SqliteStore) -> (mpsc::Sender<()>, mpsc::Receiver<StoreResult<()>>) {
        let (entered, job_entered) = mpsc::channel();
        let (release, job_released) = mpsc::channel::<()>();
        let (answer, answered) = mpsc::channel();
        let create = queued_create("held@acme.test");
        store.queue_write_job(
            Box::new(move |scope| {
                entered.send(()).unwrap();
                job_released.recv().unwrap();
                create(scope)
            }),
            Box::new(move |committed| answer.send(committed).unwrap()),
        );
        job_entered.recv().unwrap();
        (release, answered)
    }

    #[test]
    fn queued_writes_that_wait_together_share_one_commit_and_are_answered_once_committed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(file_store(dir.path()));
        let before = store.group_commit_counts();
        // While the first job holds the writer thread, five more queue
        // behind it, and the writer takes those five as one batch.
        let (release, held) = hold_the_writer_thread(&store);
        let names: Vec<String> = (1..6).map(|i| format!("queued{i}@acme.test")).collect();
        let (answers, answered) = mpsc::channel();
        for name in names.clone() {
            let (answers, reader) = (answers.clone(), store.clone());
            store.queue_write_job(
                queued_create(&name),
                Box::new(move |committed| {
                    // Another connection sees only committed data: an answer
                    // given before the commit would not find the user.
                    let visible = reader.scim_user_by_user_name(&acme(), &name).unwrap().is_some();
                    answers.send((committed, visible)).unwrap();
                }),
            );
        }
        release.send(()).unwrap();
        assert!(held.recv().unwrap().is_ok());
        let answers: Vec<(StoreResult<()>, bool)> = (0..5).map(|_| answered.recv().unwrap()).collect();
        assert!(answers.iter().all(|(committed, visible)| committed.is_ok() && *visible), "{answers:?}");
        let after = store.group_commit_counts();
        assert_eq!(
            (after.commits - before.commits, after.writes - before.writes),
            (2, 6),
            "the first write alone, then the five that queued while it ran"
        );
        let mut expected = names;
        expected.insert(0, "held@acme.test".into());
        expected.sort();
        assert_eq!(user_names(&store), expected);
    }

    #[test]
    fn a_queued_write_that_fails_or_panics_is_undone_alone_in_its_batch_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = file_store(dir.path());
        let before = store.group_commit_counts();
        let (release, held) = hold_the_writer_thread(&store);
        let create = |name: &'static str| {
            move |scope: &dyn WriteScope| {
                let id = UserId(format!("usr_{}", name.replace(['@', '.'], "_")));
                scope.scim_create_user(&acme(), &id, &user_write(name), OffsetDateTime::UNIX_EPOCH).map(|_| ())
            }
        };
        let refuse = |name: &'static str| {
            move |scope: &dyn WriteScope| {
                create(name)(scope)?;
                Err(StoreError::Conflict("an account rule refuses this write".into()))
            }
        };
        let panic_after_writing = |name: &'static str| {
            move |scope: &dyn WriteScope| {
                create(name)(scope)?;
                if name.contains('@') {
                    panic!("a write that panics after writing");
                }
                Ok(())
            }
        };
        type Answer<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = StoreResult<StoreResult<()>>> + 'a>>;
        let mut futures: Vec<Answer<'_>> = vec![
            Box::pin(crate::store::write_queued(&store, create("first@acme.test"))),
            Box::pin(crate::store::write_queued(&store, refuse("refused@acme.test"))),
            Box::pin(crate::store::write_queued(&store, panic_after_writing("panicked@acme.test"))),
            Box::pin(crate::store::write_queued(&store, create("last@acme.test"))),
        ];
        // A first poll queues each job, in this order, behind the held one.
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        for future in &mut futures {
            assert!(future.as_mut().poll(&mut context).is_pending());
        }
        release.send(()).unwrap();
        assert!(held.recv().unwrap().is_ok());
        let answers: Vec<StoreResult<StoreResult<()>>> = futures.into_iter().map(block_on).collect();
        assert!(matches!(answers[0], Ok(Ok(()))), "{answers:?}");
        assert!(matches!(answers[1], Ok(Err(StoreError::Conflict(_)))), "{answers:?}");
        assert!(matches!(&answers[2], Err(StoreError::Backend(m)) if m.contains("panicked")), "{answers:?}");
        assert!(matches!(answers[3], Ok(Ok(()))), "{answers:?}");
        let after = store.group_commit_counts();
        assert_eq!(
            (after.commits - before.commits, after.writes - before.writes),
            (2, 5),
            "the held write, then the four as one batch"
        );
        assert_eq!(
            user_names(&store),
            ["first@acme.test", "held@acme.test", "last@acme.test"],
            "the refused and the panicked writes left nothing"
        );
        let kept = block_on(crate::store::write_queued(&store, create("after@acme.test")));
        assert!(matches!(kept, Ok(Ok(()))), "the writer thread still serves: {kept:?}");
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn the_writer_thread_leaves_its_transaction_open_for_a_waiting_writer() {
        let dir = tempfile::tempdir().unwrap();
        let store = file_store(dir.path());
        let before = store.group_commit_counts();
        let (release, held) = hold_the_writer_thread(&store);
        // A writer on another thread arrives while the writer thread holds
        // the connection, so the writer thread leaves the transaction open
        // for it, and that writer's commit answers both.
        let arrival = store.writer.arrive();
        std::thread::scope(|threads| {
            let waiting = threads.spawn(|| {
                store.writer.run(arrival, |c| create("waiting@acme.test")(&ConnectionScope { connection: c }))
            });
            release.send(()).unwrap();
            assert!(matches!(waiting.join().unwrap(), Ok(Ok(()))));
        });
        assert!(held.recv().unwrap().is_ok());
        let after = store.group_commit_counts();
        assert_eq!((after.commits - before.commits, after.writes - before.writes), (1, 2), "two writes, one commit");
        assert_eq!(user_names(&store), ["held@acme.test", "waiting@acme.test"]);
    }

    #[test]
    fn a_store_dropped_on_its_writer_thread_keeps_the_job_that_dropped_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(file_store(dir.path()));
        let (release, held) = hold_the_writer_thread(&store);
        // The queued job holds the last reference to the store, so the store
        // is dropped on the writer thread when the job ends; the thread
        // cannot wait for itself, and the job's write must stay.
        let last_reference = store.clone();
        let create = queued_create("dropper@acme.test");
        let (answer, answered) = mpsc::channel();
        store.queue_write_job(
            Box::new(move |scope| {
                let outcome = create(scope);
                drop(last_reference);
                outcome
            }),
            Box::new(move |committed| answer.send(committed).unwrap()),
        );
        drop(store);
        release.send(()).unwrap();
        assert!(held.recv().unwrap().is_ok());
        assert!(answered.recv().unwrap().is_ok());
        let reopened = SqliteStore::open(&dir.path().join("batch.sqlite3")).unwrap();
        assert_eq!(user_names(&reopened), ["dropper@acme.test", "held@acme.test"]);
    }

    #[test]
    fn a_failing_write_in_a_batch_undoes_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let store = file_store(dir.path());
        let before = store.group_commit_counts();
        let refused_after_writing: TestJob<'_> = Box::new(|scope| {
            create("refused@acme.test")(scope)?;
            Err(StoreError::Conflict("an account rule refuses this write".into()))
        });
        let panicking: TestJob<'_> = Box::new(|scope| {
            create("panicked@acme.test")(scope).unwrap();
            panic!("a write that panics after writing");
        });
        let results = run_as_one_batch(
            &store,
            vec![
                create("first@acme.test"),
                refused_after_writing,
                // The duplicate sees the first write, ahead of it in the same
                // transaction, exactly as if the writes had run one by one.
                create("FIRST@acme.test"),
                create("last@acme.test"),
            ],
        );
        assert!(results[0].is_ok() && results[3].is_ok(), "{results:?}");
        assert!(matches!(results[1], Err(StoreError::Conflict(_))), "{:?}", results[1]);
        assert!(matches!(results[2], Err(StoreError::DuplicateUserName(_))), "{:?}", results[2]);
        let after = store.group_commit_counts();
        assert_eq!((after.commits - before.commits, after.writes - before.writes), (1, 4));
        assert_eq!(user_names(&store), ["first@acme.test", "last@acme.test"], "the refused write left nothing");

        // A write that panics is undone too, its panic reaches its own
        // caller, and the writes sharing its transaction are kept.
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_as_one_batch(&store, vec![create("kept@acme.test"), panicking])
        }));
        assert!(panicked.is_err(), "the panic reached the caller");
        assert_eq!(user_names(&store), ["first@acme.test", "kept@acme.test", "last@acme.test"]);
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }
}
