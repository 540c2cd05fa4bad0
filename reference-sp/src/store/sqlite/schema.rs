//! The schema, as the list of migrations that build it. The database's
//! `PRAGMA user_version` counts the migrations already applied.

use rusqlite::Connection;

use crate::store::{StoreError, StoreResult};

/// Each migration moves the schema from version N to N+1.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    settings TEXT NOT NULL
);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL REFERENCES tenants(id),
    email TEXT NOT NULL,
    email_normalised TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    roles TEXT NOT NULL,
    created INTEGER NOT NULL,
    UNIQUE (tenant, email_normalised)
);
CREATE TABLE identities (
    tenant TEXT NOT NULL,
    issuer TEXT NOT NULL,
    name_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (tenant, issuer, name_id)
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    groups TEXT NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE TABLE replay_cache (
    tenant TEXT NOT NULL,
    assertion_id TEXT NOT NULL,
    expires INTEGER NOT NULL,
    PRIMARY KEY (tenant, assertion_id)
);
CREATE TABLE pending_requests (
    token_hash TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    request_id TEXT NOT NULL,
    relay_state TEXT NOT NULL,
    expires INTEGER NOT NULL
);
",
    r"
ALTER TABLE users ADD COLUMN user_name TEXT;
ALTER TABLE users ADD COLUMN user_name_lower TEXT;
ALTER TABLE users ADD COLUMN scim TEXT;
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN last_modified INTEGER;
UPDATE users SET user_name = email, user_name_lower = email_normalised;
CREATE UNIQUE INDEX users_by_user_name ON users(tenant, user_name_lower);
CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL REFERENCES tenants(id),
    display_name TEXT NOT NULL,
    display_name_lower TEXT NOT NULL,
    scim TEXT NOT NULL,
    linked INTEGER NOT NULL,
    version INTEGER NOT NULL,
    created INTEGER NOT NULL,
    last_modified INTEGER NOT NULL,
    UNIQUE (tenant, display_name_lower)
);
CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_by_user ON team_members(user_id);
CREATE TABLE scim_credentials (
    tenant TEXT PRIMARY KEY REFERENCES tenants(id),
    secret_hash TEXT NOT NULL
);
",
    // Pending sign-ins and the replay cache serve OIDC as well as SAML, and
    // pending sign-ins are expired and capped per tenant on every write.
    r"
ALTER TABLE pending_requests ADD COLUMN protocol TEXT NOT NULL DEFAULT 'saml';
ALTER TABLE pending_requests ADD COLUMN nonce TEXT;
ALTER TABLE pending_requests ADD COLUMN code_verifier TEXT;
CREATE INDEX pending_requests_by_tenant ON pending_requests(tenant, expires);
CREATE INDEX pending_requests_by_expiry ON pending_requests(expires);
ALTER TABLE replay_cache RENAME COLUMN assertion_id TO message_id;
",
    // userNames are compared in the same form as emails (trimmed, ASCII
    // lowercase; SQLite's lower() folds ASCII only), so a Unicode case
    // variant such as the Kelvin sign no longer takes an ASCII name.
    r"
UPDATE users SET user_name_lower = lower(trim(user_name)) WHERE user_name IS NOT NULL;
",
    // An OIDC session may keep the refresh token it was given, with the
    // original ID token's identity that a refreshed token must repeat
    // (OpenID Connect Core 12.2), as one JSON value; sessions without one
    // (SAML, or no offline_access) keep NULL.
    r"
ALTER TABLE sessions ADD COLUMN oidc_refresh TEXT;
",
    // A SAML session keeps the NameID and SessionIndex it was made from, so
    // a verified LogoutRequest from the IdP can find it (Single Logout);
    // OIDC sessions keep NULL.
    r"
ALTER TABLE sessions ADD COLUMN saml_name_id TEXT;
ALTER TABLE sessions ADD COLUMN saml_session_index TEXT;
CREATE INDEX sessions_saml_name_id ON sessions (saml_name_id) WHERE saml_name_id IS NOT NULL;
",
    // The SCIM API's OAuth 2.0 authorization server: codes and tokens as
    // SHA-256 hashes. A token belongs to a grant (one authorization and its
    // refreshes), so a replayed refresh token can revoke the whole grant.
    r"
CREATE TABLE scim_oauth_codes (
    code_hash TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    expires INTEGER NOT NULL
);
CREATE INDEX scim_oauth_codes_by_tenant ON scim_oauth_codes(tenant, expires);
CREATE TABLE scim_oauth_tokens (
    token_hash TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    expires INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX scim_oauth_tokens_by_grant ON scim_oauth_tokens(tenant, grant_id);
CREATE INDEX scim_oauth_tokens_by_expiry ON scim_oauth_tokens(expires);
",
    // The licence an account is given when it signs in through the IdP (a
    // tenant's `licence_at_sign_in`, as Mobius assigns dictation licences
    // at login); one per account, kept once given.
    r"
CREATE TABLE licences (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    licence TEXT NOT NULL
);
",
];

/// Applies the migrations the database has not seen, each in its own
/// transaction, and refuses a database made by a newer program.
pub(super) fn migrate(connection: &mut Connection) -> StoreResult<()> {
    let version: usize = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!("schema version {version} is newer than this program")));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", index + 1)?;
        transaction.commit()?;
    }
    Ok(())
}
