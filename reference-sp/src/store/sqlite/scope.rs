//! The SCIM reads and writes over one connection, as a write job sees them
//! inside the shared transaction (and as the store's own reads use them on a
//! reading connection).

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::rows::{
    fill_teams, instant, is_unique_violation, json_text, query_scim_users, query_teams, seconds, set_members,
};
use crate::config::{TenantId, TenantSettings};
use crate::store::{
    ReplaceEffects, ScimUser, ScimUserWrite, StoreError, StoreResult, Team, TeamWrite, User, UserId, UserStatus,
    WriteScope,
};

pub(super) struct ConnectionScope<'connection> {
    pub(super) connection: &'connection Connection,
}

impl ConnectionScope<'_> {
    /// Runs one write method in a nested savepoint, so that a job which
    /// handles the method's error and goes on keeps nothing of the failed
    /// call (its earlier statements included).
    fn atomically<T>(&self, write: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let connection = self.connection;
        // SQLite ends a transaction by itself after some failures (a full
        // disk, an IO error). A write after that would commit alone, outside
        // the batch that is about to report the failure, so none is made.
        if connection.is_autocommit() {
            return Err(StoreError::Backend("the shared transaction has ended".into()));
        }
        connection.prepare_cached("SAVEPOINT write_step")?.execute([])?;
        match write(connection) {
            Ok(value) => {
                connection.prepare_cached("RELEASE write_step")?.execute([])?;
                Ok(value)
            }
            Err(error) => {
                connection.prepare_cached("ROLLBACK TO write_step")?.execute([])?;
                connection.prepare_cached("RELEASE write_step")?.execute([])?;
                Err(error)
            }
        }
    }
}

/// The columns of a user row that are computed from a SCIM write rather
/// than copied from it.
struct UserColumns {
    roles: String,
    resource: String,
    status: &'static str,
}

fn user_columns(write: &ScimUserWrite) -> StoreResult<UserColumns> {
    let roles = serde_json::to_string(&write.roles).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let resource = json_text(&write.resource)?;
    let status = if write.active { UserStatus::Active } else { UserStatus::Deactivated };
    Ok(UserColumns { roles, resource, status: status.as_str() })
}

/// The user a write just stored, as a read of its row gives it back: the
/// columns and the resource were written from `write`, so the row need not
/// be read and its resource parsed again inside the writer's turn.
/// `a_written_user_is_what_a_read_of_its_row_gives` holds the two equal.
fn written_user(
    tenant: &TenantId,
    id: &UserId,
    write: &ScimUserWrite,
    version: i64,
    created: OffsetDateTime,
    last_modified: OffsetDateTime,
    teams: Vec<(String, String)>,
) -> ScimUser {
    ScimUser {
        user: User {
            id: id.clone(),
            tenant: tenant.clone(),
            email: write.email.clone(),
            email_normalised: write.email_normalised.clone(),
            name: write.name.clone(),
            status: if write.active { UserStatus::Active } else { UserStatus::Deactivated },
            roles: write.roles.clone(),
        },
        user_name: write.user_name.clone(),
        resource: write.resource.clone(),
        version,
        created,
        last_modified,
        teams,
    }
}

/// Runs a statement that inserts or updates one user row from a SCIM write.
/// Its parameters are, in this order: the id, the tenant, the email, the
/// normalised email, the name, the status, the roles, the userName, the
/// normalised userName, the SCIM resource and the time of the write. A write
/// that hits a unique index becomes the store's duplicate error.
fn write_user_row(
    connection: &Connection,
    statement: &str,
    tenant: &TenantId,
    id: &UserId,
    write: &ScimUserWrite,
    columns: &UserColumns,
    now: OffsetDateTime,
) -> StoreResult<usize> {
    let result = connection.prepare_cached(statement)?.execute(params![
        id.0,
        tenant.as_str(),
        write.email,
        write.email_normalised,
        write.name,
        columns.status,
        columns.roles,
        write.user_name,
        crate::email::normalise(&write.user_name),
        columns.resource,
        seconds(now)
    ]);
    match result {
        Err(e) if is_unique_violation(&e, "user_name_lower") => {
            Err(StoreError::DuplicateUserName(write.user_name.clone()))
        }
        Err(e) if is_unique_violation(&e, "email_normalised") => Err(StoreError::DuplicateEmail(write.email.clone())),
        other => Ok(other?),
    }
}

impl WriteScope for ConnectionScope<'_> {
    fn tenant_settings(&self, id: &TenantId) -> StoreResult<Option<TenantSettings>> {
        super::rows::tenant_settings(self.connection, id)
    }

    fn scim_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<ScimUser>> {
        Ok(query_scim_users(self.connection, "tenant = ?1 AND id = ?2 ORDER BY rowid", params![tenant.as_str(), id.0])?
            .pop())
    }

    fn scim_users(&self, tenant: &TenantId) -> StoreResult<Vec<ScimUser>> {
        query_scim_users(self.connection, "tenant = ?1 ORDER BY rowid", [tenant.as_str()])
    }

    fn team(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Team>> {
        Ok(query_teams(self.connection, "tenant = ?1 AND id = ?2", params![tenant.as_str(), id])?.pop())
    }

    fn team_by_name(&self, tenant: &TenantId, display_name: &str) -> StoreResult<Option<Team>> {
        Ok(query_teams(
            self.connection,
            "tenant = ?1 AND display_name_lower = ?2",
            params![tenant.as_str(), display_name.to_lowercase()],
        )?
        .pop())
    }

    fn scim_create_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        write: &ScimUserWrite,
        now: OffsetDateTime,
    ) -> StoreResult<ScimUser> {
        let columns = user_columns(write)?;
        self.atomically(|c| {
            write_user_row(
                c,
                "INSERT INTO users (id, tenant, email, email_normalised, name, status, roles,
                                    user_name, user_name_lower, scim, created, version, last_modified)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?11)",
                tenant,
                id,
                write,
                &columns,
                now,
            )?;
            // A new user is in no team.
            let stored_now = instant(seconds(now))?;
            Ok(written_user(tenant, id, write, 1, stored_now, stored_now, Vec::new()))
        })
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
        let columns = user_columns(write)?;
        self.atomically(|c| {
            let found: Option<(i64, String, i64)> = c
                .prepare_cached("SELECT version, email_normalised, created FROM users WHERE id = ?1 AND tenant = ?2")?
                .query_row(params![id.0, tenant.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            let (version, old_email, created) = found.ok_or(StoreError::NotFound)?;
            if expected_version.is_some_and(|expected| expected != version) {
                return Err(StoreError::VersionMismatch(version));
            }
            write_user_row(
                c,
                "UPDATE users SET email = ?3, email_normalised = ?4, name = ?5, status = ?6, roles = ?7,
                        user_name = ?8, user_name_lower = ?9, scim = ?10, version = version + 1, last_modified = ?11
                 WHERE id = ?1 AND tenant = ?2",
                tenant,
                id,
                write,
                &columns,
                now,
            )?;
            if !write.active && effects.end_sessions {
                c.execute("DELETE FROM sessions WHERE user_id = ?1", [&id.0])?;
            }
            // A changed email stops signing in: the IdP identity that was the
            // old email address no longer points at this account.
            if old_email != write.email_normalised && effects.unlink_old_email {
                c.execute(
                    "DELETE FROM identities WHERE user_id = ?1 AND lower(name_id) = ?2",
                    params![id.0, old_email],
                )?;
            }
            let mut written =
                [written_user(tenant, id, write, version + 1, instant(created)?, instant(seconds(now))?, Vec::new())];
            fill_teams(c, &mut written)?;
            let [written] = written;
            Ok(written)
        })
    }

    fn delete_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<()> {
        self.atomically(|c| {
            for table in ["sessions", "identities", "team_members", "licences"] {
                c.execute(&format!("DELETE FROM {table} WHERE user_id = ?1"), [&id.0])?;
            }
            c.execute("DELETE FROM users WHERE id = ?1 AND tenant = ?2", params![id.0, tenant.as_str()])?;
            Ok(())
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
        self.atomically(|c| {
            let existing: Option<(String, bool)> = c
                .query_row(
                    "SELECT id, linked FROM teams WHERE tenant = ?1 AND display_name_lower = ?2",
                    params![tenant.as_str(), display_name.to_lowercase()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let team_id = match existing {
                Some((_, true)) => return Err(StoreError::DuplicateTeam(display_name.to_owned())),
                Some((existing_id, false)) => {
                    c.execute(
                        "UPDATE teams SET linked = 1, scim = ?2, display_name = ?3, version = version + 1, last_modified = ?4 WHERE id = ?1",
                        params![existing_id, resource, display_name, seconds(now)],
                    )?;
                    existing_id
                }
                None => {
                    c.execute(
                        "INSERT INTO teams (id, tenant, display_name, display_name_lower, scim, linked, version, created, last_modified)
                         VALUES (?1, ?2, ?3, ?4, ?5, 1, 1, ?6, ?6)",
                        params![id, tenant.as_str(), display_name, display_name.to_lowercase(), resource, seconds(now)],
                    )?;
                    id.to_owned()
                }
            };
            set_members(c, tenant, &team_id, members)?;
            query_teams(c, "id = ?1", [&team_id])?.pop().ok_or(StoreError::NotFound)
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
        self.atomically(|c| {
            let version: Option<i64> = c
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
            let result = c.execute(
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
            set_members(c, tenant, id, members)?;
            query_teams(c, "id = ?1", [id])?.pop().ok_or(StoreError::NotFound)
        })
    }
}
