//! The SCIM OAuth 2.0 server's codes and tokens in SQLite, as hashes. Each
//! write is one job of the shared transaction, so a refresh token's check
//! and its rotation cannot be split by a second redemption.

use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

use super::SqliteStore;
use super::rows::seconds;
use crate::config::TenantId;
use crate::store::{NewOAuthTokens, RefreshRedemption, ScimOAuthStore, StoreResult};

fn insert_tokens(c: &rusqlite::Connection, tenant: &TenantId, grant: &str, tokens: &NewOAuthTokens) -> StoreResult<()> {
    let mut insert = c.prepare_cached(
        "INSERT INTO scim_oauth_tokens (token_hash, tenant, grant_id, kind, expires) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    insert.execute(params![tokens.access_hash, tenant.as_str(), grant, "access", seconds(tokens.access_expires)])?;
    insert.execute(params![tokens.refresh_hash, tenant.as_str(), grant, "refresh", seconds(tokens.refresh_expires)])?;
    Ok(())
}

impl ScimOAuthStore for SqliteStore {
    fn save_scim_oauth_code(
        &self,
        tenant: &TenantId,
        code_hash: &str,
        redirect_uri: &str,
        expires: OffsetDateTime,
        now: OffsetDateTime,
        keep_at_most: usize,
    ) -> StoreResult<()> {
        self.write_job(|c| {
            c.execute("DELETE FROM scim_oauth_codes WHERE expires <= ?1", [seconds(now)])?;
            c.execute(
                "INSERT INTO scim_oauth_codes (code_hash, tenant, redirect_uri, expires) VALUES (?1, ?2, ?3, ?4)",
                params![code_hash, tenant.as_str(), redirect_uri, seconds(expires)],
            )?;
            // Codes nobody redeems cannot grow the table: the newest stay.
            c.execute(
                "DELETE FROM scim_oauth_codes WHERE tenant = ?1 AND rowid IN (
                     SELECT rowid FROM scim_oauth_codes WHERE tenant = ?1
                     ORDER BY expires DESC, rowid DESC LIMIT -1 OFFSET ?2)",
                params![tenant.as_str(), i64::try_from(keep_at_most).unwrap_or(i64::MAX)],
            )?;
            Ok(())
        })
    }

    fn take_scim_oauth_code(
        &self,
        tenant: &TenantId,
        code_hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<String>> {
        self.write_job(|c| {
            let found: Option<String> = c
                .query_row(
                    "SELECT redirect_uri FROM scim_oauth_codes WHERE code_hash = ?1 AND tenant = ?2 AND expires > ?3",
                    params![code_hash, tenant.as_str(), seconds(now)],
                    |r| r.get(0),
                )
                .optional()?;
            c.execute("DELETE FROM scim_oauth_codes WHERE code_hash = ?1", [code_hash])?;
            Ok(found)
        })
    }

    fn save_scim_oauth_tokens(
        &self,
        tenant: &TenantId,
        grant: &str,
        tokens: &NewOAuthTokens,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        self.write_job(|c| {
            c.execute("DELETE FROM scim_oauth_tokens WHERE expires <= ?1", [seconds(now)])?;
            insert_tokens(c, tenant, grant, tokens)
        })
    }

    fn scim_oauth_access_token_live(
        &self,
        tenant: &TenantId,
        access_hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT 1 FROM scim_oauth_tokens
                 WHERE token_hash = ?1 AND tenant = ?2 AND kind = 'access' AND expires > ?3",
            )?
            .query_row(params![access_hash, tenant.as_str(), seconds(now)], |_| Ok(()))
            .optional()?
            .is_some())
        })
    }

    fn redeem_scim_oauth_refresh_token(
        &self,
        tenant: &TenantId,
        refresh_hash: &str,
        tokens: &NewOAuthTokens,
        now: OffsetDateTime,
    ) -> StoreResult<RefreshRedemption> {
        self.write_job(|c| {
            let found: Option<(String, bool)> = c
                .query_row(
                    "SELECT grant_id, used FROM scim_oauth_tokens
                     WHERE token_hash = ?1 AND tenant = ?2 AND kind = 'refresh' AND expires > ?3",
                    params![refresh_hash, tenant.as_str(), seconds(now)],
                    |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)),
                )
                .optional()?;
            match found {
                None => Ok(RefreshRedemption::Unknown),
                Some((grant, true)) => {
                    c.execute(
                        "DELETE FROM scim_oauth_tokens WHERE tenant = ?1 AND grant_id = ?2",
                        params![tenant.as_str(), grant],
                    )?;
                    Ok(RefreshRedemption::Reused)
                }
                Some((grant, false)) => {
                    c.execute("UPDATE scim_oauth_tokens SET used = 1 WHERE token_hash = ?1", [refresh_hash])?;
                    c.execute("DELETE FROM scim_oauth_tokens WHERE expires <= ?1", [seconds(now)])?;
                    insert_tokens(c, tenant, &grant, tokens)?;
                    Ok(RefreshRedemption::Rotated)
                }
            }
        })
    }
}
