//! Reading rows into the store's types, and the SQL pieces the queries
//! share: column lists, time and JSON conversion, team membership.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use time::OffsetDateTime;

use crate::config::{TenantId, TenantSettings};
use crate::store::{ScimUser, StoreError, StoreResult, Team, User, UserId, UserStatus};

pub(super) const USER_COLUMNS: &str = "id, tenant, email, email_normalised, name, status, roles";

pub(super) fn user_from_row(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<(String, String, String, String, String, String, String)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?))
}

pub(super) fn to_user(raw: (String, String, String, String, String, String, String)) -> StoreResult<User> {
    let (id, tenant, email, email_normalised, name, status, roles) = raw;
    Ok(User {
        id: UserId(id),
        tenant: TenantId::parse(&tenant).ok_or_else(|| StoreError::Corrupt(format!("tenant id '{tenant}'")))?,
        email,
        email_normalised,
        name,
        status: UserStatus::parse(&status),
        roles: serde_json::from_str(&roles).map_err(|e| StoreError::Corrupt(e.to_string()))?,
    })
}

pub(super) fn query_user(connection: &Connection, sql: &str, args: impl rusqlite::Params) -> StoreResult<Option<User>> {
    connection.query_row(sql, args, user_from_row).optional()?.map(to_user).transpose()
}

pub(super) fn seconds(instant: OffsetDateTime) -> i64 {
    instant.unix_timestamp()
}

pub(super) fn instant(seconds: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn json_text(value: &serde_json::Value) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn is_unique_violation(error: &rusqlite::Error, index_or_column: &str) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(e, Some(message))
        if e.code == rusqlite::ErrorCode::ConstraintViolation && message.contains(index_or_column))
}

pub(super) const SCIM_USER_COLUMNS: &str =
    "id, tenant, email, email_normalised, name, status, roles, user_name, scim, version, created, last_modified";

/// A user row with its SCIM columns, teams not yet filled in; users made by
/// SAML sign-in have no SCIM resource yet, so one is built from the account.
fn scim_user_from_row(row: &rusqlite::Row<'_>) -> StoreResult<ScimUser> {
    let user = to_user((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?))?;
    let user_name: Option<String> = row.get(7)?;
    let resource: Option<String> = row.get(8)?;
    let version: i64 = row.get(9)?;
    let created: i64 = row.get(10)?;
    let last_modified: Option<i64> = row.get(11)?;
    let resource = match resource {
        Some(text) => serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        None => serde_json::json!({
            "schemas": [crate::scim::SCHEMA_USER],
            "userName": user.email,
            "name": { "formatted": user.name },
            "displayName": user.name,
            "emails": [{ "value": user.email, "type": "work", "primary": true }],
            "active": user.status == UserStatus::Active,
        }),
    };
    Ok(ScimUser {
        user_name: user_name.unwrap_or_else(|| user.email.clone()),
        resource,
        version,
        created: instant(created)?,
        last_modified: instant(last_modified.unwrap_or(created))?,
        teams: Vec::new(),
        user,
    })
}

/// How many user ids go into one `IN (...)` list, well under SQLite's limit
/// on bound parameters.
const USERS_PER_TEAM_QUERY: usize = 500;

/// Fills in each user's teams (id, display name), ordered by name, with one
/// query per [`USERS_PER_TEAM_QUERY`] users rather than one per user.
pub(super) fn fill_teams(connection: &Connection, users: &mut [ScimUser]) -> StoreResult<()> {
    let mut teams: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for chunk in users.chunks(USERS_PER_TEAM_QUERY) {
        let placeholders = vec!["?"; chunk.len()].join(", ");
        let mut statement = connection.prepare_cached(&format!(
            "SELECT m.user_id, t.id, t.display_name FROM team_members m JOIN teams t ON t.id = m.team_id
             WHERE m.user_id IN ({placeholders}) ORDER BY t.display_name_lower"
        ))?;
        let rows = statement.query_map(params_from_iter(chunk.iter().map(|u| &u.user.id.0)), |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
        })?;
        for row in rows {
            let (user, id, name) = row?;
            teams.entry(user).or_default().push((id, name));
        }
    }
    for user in users {
        user.teams = teams.remove(&user.user.id.0).unwrap_or_default();
    }
    Ok(())
}

/// Users matching `clause` (a WHERE condition, with any ORDER BY and LIMIT).
pub(super) fn query_scim_users(
    connection: &Connection,
    clause: &str,
    args: impl rusqlite::Params,
) -> StoreResult<Vec<ScimUser>> {
    let mut statement = connection.prepare_cached(&format!("SELECT {SCIM_USER_COLUMNS} FROM users WHERE {clause}"))?;
    let mut rows = statement.query(args)?;
    let mut users = Vec::new();
    while let Some(row) = rows.next()? {
        users.push(scim_user_from_row(row)?);
    }
    fill_teams(connection, &mut users)?;
    Ok(users)
}

/// id, tenant, display name, resource, linked, version, created, last modified.
pub(super) type TeamRow = (String, String, String, String, bool, i64, i64, i64);

pub(super) const TEAM_COLUMNS: &str = "id, tenant, display_name, scim, linked, version, created, last_modified";

pub(super) fn query_teams(
    connection: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
) -> StoreResult<Vec<Team>> {
    let mut statement =
        connection.prepare(&format!("SELECT {TEAM_COLUMNS} FROM teams WHERE {filter} ORDER BY rowid"))?;
    let raw: Vec<TeamRow> = statement
        .query_map(args, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut teams = Vec::new();
    for (id, tenant, display_name, resource, linked, version, created, last_modified) in raw {
        let mut members = connection.prepare(
            "SELECT u.id, u.name FROM team_members m JOIN users u ON u.id = m.user_id WHERE m.team_id = ?1 ORDER BY u.rowid",
        )?;
        let members: Vec<(UserId, String)> =
            members.query_map([&id], |r| Ok((UserId(r.get(0)?), r.get(1)?)))?.collect::<Result<_, _>>()?;
        teams.push(Team {
            tenant: TenantId::parse(&tenant).ok_or_else(|| StoreError::Corrupt(format!("tenant id '{tenant}'")))?,
            resource: serde_json::from_str(&resource).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            created: instant(created)?,
            last_modified: instant(last_modified)?,
            id,
            display_name,
            linked,
            version,
            members,
        });
    }
    Ok(teams)
}

/// Sets a team's members to exactly `members`, all of the same tenant.
pub(super) fn set_members(
    transaction: &Connection,
    tenant: &TenantId,
    team: &str,
    members: &[UserId],
) -> StoreResult<()> {
    transaction.execute("DELETE FROM team_members WHERE team_id = ?1", [team])?;
    for member in members {
        let inserted = transaction.execute(
            "INSERT OR IGNORE INTO team_members (team_id, user_id)
             SELECT ?1, id FROM users WHERE id = ?2 AND tenant = ?3",
            params![team, member.0, tenant.as_str()],
        )?;
        if inserted == 0
            && !transaction.query_row(
                "SELECT EXISTS(SELECT 1 FROM users WHERE id = ?1 AND tenant = ?2)",
                params![member.0, tenant.as_str()],
                |r| r.get::<_, bool>(0),
            )?
        {
            return Err(StoreError::NotFound);
        }
    }
    Ok(())
}

/// A tenant's stored settings.
pub(super) fn tenant_settings(connection: &Connection, id: &TenantId) -> StoreResult<Option<TenantSettings>> {
    let text: Option<String> = connection
        .prepare_cached("SELECT settings FROM tenants WHERE id = ?1")?
        .query_row([id.as_str()], |r| r.get(0))
        .optional()?;
    text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(e.to_string()))).transpose()
}
