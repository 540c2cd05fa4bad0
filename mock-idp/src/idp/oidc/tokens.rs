//! The token lifecycle: minting access, ID and refresh tokens with their
//! records, and the endpoints that read those records back (`/userinfo`,
//! `/introspect`) or end them (`/revoke`, refresh-token reuse).

use std::sync::PoisonError;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{
    AccessRecord, MessageScope, ORG_ACCESS_TOKEN_SECONDS, RefreshRecord, TokenDigest, TokenResponse, lock, token_digest,
};
use crate::idp::Idp;
use crate::ids::{AppId, UserId};
use crate::oidc::claims::{self, TokenContext};
use crate::oidc::faults::{FaultStage, OidcFault, OidcFaultPlan};
use crate::oidc::jws::{self, TokenSigner};
use crate::oidc::token::{self, FormParams};
use crate::oidc::{OAuthCode, OidcError, ServerRef, base64url};
use crate::org::oidc::GrantType;

/// Hashes one opaque token from the id generator into a distinct value per
/// use (`access`, `id`, `refresh`, ...), so one draw names every token of an
/// issue and sequential ids in tests still give stable tokens.
fn random_suffix(seed: &str) -> String {
    base64url(Sha256::digest(seed.as_bytes()))
}

impl Idp {
    /// Issues the access token, and the ID and refresh tokens the scopes call for.
    pub(super) fn issue(&self, issue: Issue<'_>) -> Result<Issued, OidcError> {
        let now = self.now();
        let user_id = issue.user.cloned();
        let plan = match issue.fault {
            Some(plan) => Some(plan),
            None => self.message_facts(issue.server, issue.client).and_then(|(server, client)| {
                let scope = MessageScope {
                    user: user_id.as_ref(),
                    server,
                    client,
                    id_token_issued: user_id.is_some() && issue.scopes.iter().any(|s| s == "openid"),
                };
                // Refresh faults wait for a refresh grant; the others take the next issue.
                let stages: &[FaultStage] = if issue.refreshing {
                    &[FaultStage::Token, FaultStage::RefreshToken, FaultStage::Userinfo]
                } else {
                    &[FaultStage::Token, FaultStage::Userinfo]
                };
                self.take_oidc_fault(stages, &scope)
                    .map(|armed| OidcFaultPlan { fault: armed.fault, target: armed.target })
            }),
        };
        let token_fault = plan.filter(|p| matches!(p.fault.stage(), FaultStage::Token | FaultStage::RefreshToken));
        let userinfo_fault = plan.is_some_and(|p| p.fault == OidcFault::UserinfoSubMismatch);
        let id_fault = token_fault.filter(|p| p.target.id_token()).map(|p| p.fault);
        let access_fault = token_fault.filter(|p| p.target.access_token()).map(|p| p.fault);
        let seed = self.ids.opaque_token();
        // The key is cloned out of the ring (it is reference-counted) so that
        // signing happens outside the ring's lock, in parallel; and it is
        // taken before the org guard below, keeping the lock order of
        // `with_ring`.
        let active = self.with_ring(issue.server, |ring| ring.active().clone())?;
        let org = self.org.read().unwrap_or_else(PoisonError::into_inner);
        let attacker_url = format!("{}/mockta/attacker/keys", org.url);
        let attacker_certificate_url = format!("{}/mockta/attacker/certificate", org.url);
        let app = org.apps.get(issue.client).ok_or(OidcError::UnknownClient)?;
        let user = match &user_id {
            Some(id) => Some(
                org.users
                    .get(id)
                    .ok_or_else(|| OidcError::oauth(OAuthCode::InvalidGrant, "The user no longer exists."))?,
            ),
            None => None,
        };
        let custom = Self::custom_server(&org, issue.server);
        let policy = custom.and_then(|c| c.policy_for(issue.client));
        let lifetime = policy.map_or(ORG_ACCESS_TOKEN_SECONDS, |p| p.access_token_lifetime_minutes * 60);
        let ctx = TokenContext {
            org: &org,
            server: issue.server,
            custom,
            client: app,
            user,
            scopes: issue.scopes,
            nonce: issue.nonce,
            auth_time: issue.auth_time,
            now,
            access_token_lifetime_seconds: lifetime,
        };
        let access_jti = format!("AT.{}", random_suffix(&format!("access {seed}")));
        let client_secret = app.oidc().and_then(|s| s.client_secret.as_deref());
        let signer = TokenSigner {
            active: &active,
            attacker: &self.oidc.attacker,
            attacker_jwks_url: &attacker_url,
            attacker_certificate_url: &attacker_certificate_url,
            client_secret,
        };
        let (access_token, id_token) = (|| {
            let access_token = match issue.server {
                // Org server access tokens are opaque to clients, as Okta documents.
                ServerRef::Org => Ok(format!("{}{}", seed, random_suffix(&format!("opaque {seed}")))),
                ServerRef::Custom(_) => {
                    jws::encode(&claims::access_token(&ctx, &access_jti, access_fault), signer, access_fault)
                }
            }?;
            let id_token = match user {
                Some(_) if issue.scopes.iter().any(|s| s == "openid") => {
                    let jti = format!("ID.{}", random_suffix(&format!("id {seed}")));
                    let claims = claims::id_token(&ctx, Some(&access_token), &jti, id_fault);
                    Some(jws::encode(&claims, signer, id_fault)?)
                }
                _ => None,
            };
            Ok::<_, crate::oidc::keys::JwtKeyError>((access_token, id_token))
        })()
        .map_err(|e| OidcError::Key(e.to_string()))?;
        // A refresh token keeps the scopes of the original grant (RFC 6749
        // §6), even when this access token was asked for fewer.
        let refresh_scopes = issue.refresh_scopes.unwrap_or(issue.scopes);
        let wants_refresh = refresh_scopes.iter().any(|s| s == "offline_access")
            && app.oidc().is_some_and(|s| s.allows_grant(GrantType::RefreshToken))
            && policy.is_none_or(|p| p.grant_types.contains(&GrantType::RefreshToken))
            && user.is_some();
        let refresh_lifetime = policy.and_then(|p| p.refresh_token_lifetime_minutes);
        drop(org);

        let family = issue.family.clone().unwrap_or_else(|| random_suffix(&format!("family {seed}")));
        let refresh_token = match (wants_refresh, &user_id) {
            (true, Some(user)) => {
                let token = random_suffix(&format!("refresh {seed}"));
                lock(&self.oidc.refresh).insert(
                    token_digest(&token),
                    RefreshRecord {
                        server: issue.server.clone(),
                        client: issue.client.clone(),
                        user: user.clone(),
                        scopes: refresh_scopes.to_vec(),
                        auth_time: issue.auth_time.unwrap_or(now),
                        family: family.clone(),
                        iat: now.unix_timestamp(),
                        expires: refresh_lifetime.and_then(|m| now.checked_add(time::Duration::minutes(m))),
                        rotated: false,
                        revoked: false,
                    },
                );
                Some(token)
            }
            _ => None,
        };
        if let (Some(id_token), Some(user)) = (&id_token, &user_id) {
            lock(&self.oidc.last_id_tokens).insert(super::last_id_token_key(issue.client, user), id_token.clone());
        }
        lock(&self.oidc.access).insert(
            token_digest(&access_token),
            AccessRecord {
                server: issue.server.clone(),
                client: issue.client.clone(),
                user: user_id,
                scopes: issue.scopes.to_vec(),
                iat: now.unix_timestamp(),
                exp: now.unix_timestamp() + lifetime,
                jti: access_jti,
                revoked: false,
                userinfo_fault,
                family: refresh_token.as_ref().map(|_| family),
            },
        );
        let mut body = Map::new();
        body.insert("token_type".into(), "Bearer".into());
        body.insert("expires_in".into(), lifetime.into());
        body.insert("access_token".into(), access_token.clone().into());
        body.insert("scope".into(), issue.scopes.join(" ").into());
        if let Some(refresh) = &refresh_token {
            body.insert("refresh_token".into(), refresh.clone().into());
        }
        if let Some(id_token) = &id_token {
            body.insert("id_token".into(), id_token.clone().into());
        }
        Ok(Issued { response: TokenResponse { body: Value::Object(body) }, access_token, refresh_token })
    }

    pub(super) fn revoke_issued(&self, access: &[TokenDigest], refresh: &[TokenDigest]) {
        {
            let mut records = lock(&self.oidc.access);
            for token in access {
                if let Some(record) = records.map.get_mut(token) {
                    record.revoked = true;
                }
            }
        }
        let families: Vec<String> = {
            let records = lock(&self.oidc.refresh);
            refresh.iter().filter_map(|t| records.map.get(t).map(|r| r.family.clone())).collect()
        };
        for family in families {
            self.revoke_family(&family);
        }
    }

    pub(super) fn revoke_family(&self, family: &str) {
        for record in lock(&self.oidc.refresh).map.values_mut().filter(|r| r.family == family) {
            record.revoked = true;
        }
        for record in lock(&self.oidc.access).map.values_mut().filter(|r| r.family.as_deref() == Some(family)) {
            record.revoked = true;
        }
    }

    /// Whether an access token is usable now: issued here, not revoked or
    /// expired, and its user still active.
    fn live_access(&self, server: &ServerRef, token: &str) -> Option<AccessRecord> {
        let now = self.now().unix_timestamp();
        let record = lock(&self.oidc.access).map.get(&token_digest(token)).cloned()?;
        if record.revoked || record.exp <= now || record.server != *server {
            return None;
        }
        let user_active = match &record.user {
            None => true,
            Some(user) => self.read_org(|org| org.users.get(user).is_some_and(|u| u.status.can_sign_in())),
        };
        user_active.then_some(record)
    }

    /// `/userinfo` for a bearer token.
    pub fn userinfo(&self, server: &ServerRef, access_token: Option<&str>) -> Result<Value, OidcError> {
        self.check_server(server)?;
        let token = access_token.ok_or_else(OidcError::invalid_token)?;
        let record = self.live_access(server, token).ok_or_else(OidcError::invalid_token)?;
        if !record.scopes.iter().any(|s| s == "openid") {
            return Err(OidcError::oauth(
                OAuthCode::InsufficientScope,
                "The access token must provide access to at least one of these scopes - openid",
            ));
        }
        let user_id = record.user.clone().ok_or_else(OidcError::invalid_token)?;
        let now = self.now();
        self.read_org(|org| {
            let user = org.users.get(&user_id).ok_or_else(OidcError::invalid_token)?;
            let app = org.apps.get(&record.client).ok_or_else(OidcError::invalid_token)?;
            let custom = Self::custom_server(org, server);
            let ctx = TokenContext {
                org,
                server,
                custom,
                client: app,
                user: Some(user),
                scopes: &record.scopes,
                nonce: None,
                auth_time: None,
                now,
                access_token_lifetime_seconds: 0,
            };
            // The fault answers for another user altogether (sub, email,
            // names), as a swapped token would: a relying party that uses the
            // answer without comparing sub signs the wrong person in.
            // The org's oldest other user, so concurrent sign-ins (a test
            // suite's canaries) never answer for each other.
            let other = record
                .userinfo_fault
                .then(|| org.users.values().filter(|u| u.id != user_id).min_by_key(|u| (u.created, u.id.clone())))
                .flatten();
            let mut claims = match other {
                Some(other) => claims::userinfo(&TokenContext { user: Some(other), ..ctx }, other),
                None => claims::userinfo(&ctx, user),
            };
            if record.userinfo_fault && other.is_none() {
                // An org of one user: only the sub can differ.
                claims.insert("sub".into(), format!("00u{}", &random_suffix(user_id.as_str())[..17]).into());
            }
            Ok(Value::Object(claims))
        })
    }

    /// Authenticates the client at the token, introspection and revocation
    /// endpoints; `endpoint` names the one for the assertion audience.
    pub(super) fn authenticate_client(
        &self,
        server: &ServerRef,
        authorization: Option<&str>,
        form: &FormParams,
        endpoint: &str,
    ) -> Result<AppId, OidcError> {
        let now = self.now();
        let authenticated = self.read_org(|org| {
            Self::server_exists(org, server)?;
            let credentials = token::parse_client_authentication(authorization, form)?;
            let mut audiences = vec![server.endpoint(&org.url, endpoint)];
            if endpoint == "par" {
                // RFC 9126 §2: a pushed request's assertion may name the
                // issuer or the token endpoint as well as the PAR endpoint.
                audiences.extend([server.issuer(&org.url), server.endpoint(&org.url, "token")]);
            }
            token::authenticate(org, &credentials, &audiences, now)
        })?;
        // A client assertion is good for one request (RFC 7523 §3): its jti
        // is remembered, per client, until the assertion expires.
        if let Some((jti, exp)) = authenticated.assertion_jti {
            let key = format!("{} {jti}", authenticated.client);
            let mut seen = lock(&self.oidc.assertions);
            if seen.map.get(&key).is_some_and(|until| *until > now.unix_timestamp()) {
                return Err(OidcError::oauth(
                    OAuthCode::InvalidClient,
                    "The client_assertion token has already been used (its jti was seen before).",
                ));
            }
            seen.insert(key, exp);
        }
        Ok(authenticated.client)
    }

    /// `/introspect` (RFC 7662). A client only learns about its own tokens.
    pub fn introspect(
        &self,
        server: &ServerRef,
        authorization: Option<&str>,
        form: &FormParams,
    ) -> Result<Value, OidcError> {
        let client = self.authenticate_client(server, authorization, form, "introspect")?;
        let token = form
            .get("token")
            .ok_or_else(|| OidcError::oauth(OAuthCode::InvalidRequest, "The 'token' parameter is required."))?;
        let inactive = json!({ "active": false });
        let (org_url, issuer) = self.read_org(|org| (org.url.clone(), server.issuer(&org.url)));
        if let Some(record) = self.live_access(server, token).filter(|r| r.client == client) {
            let (username, audience) = self.read_org(|org| {
                let login = record.user.as_ref().and_then(|u| org.users.get(u)).map(|u| u.profile.login.clone());
                let audience = Self::custom_server(org, server)
                    .and_then(|s| s.audiences.first().cloned())
                    .unwrap_or_else(|| org_url.clone());
                (login, audience)
            });
            let mut body = Map::new();
            body.insert("active".into(), true.into());
            body.insert("scope".into(), record.scopes.join(" ").into());
            if let Some(login) = &username {
                body.insert("username".into(), login.clone().into());
            }
            body.insert("exp".into(), record.exp.into());
            body.insert("iat".into(), record.iat.into());
            body.insert("sub".into(), username.clone().unwrap_or_else(|| client.to_string()).into());
            body.insert("aud".into(), audience.into());
            body.insert("iss".into(), issuer.into());
            body.insert("jti".into(), record.jti.clone().into());
            body.insert("token_type".into(), "Bearer".into());
            body.insert("client_id".into(), client.to_string().into());
            if let Some(user) = &record.user {
                body.insert("uid".into(), user.to_string().into());
            }
            return Ok(Value::Object(body));
        }
        let now = self.now();
        let refresh = lock(&self.oidc.refresh).map.get(&token_digest(token)).cloned();
        if let Some(record) = refresh.filter(|r| r.client == client && r.server == *server) {
            let live = !record.revoked && !record.rotated && record.expires.is_none_or(|e| e > now);
            let user = self.read_org(|org| {
                org.users.get(&record.user).filter(|u| u.status.can_sign_in()).map(|u| u.profile.login.clone())
            });
            if let (true, Some(login)) = (live, user) {
                let mut body = Map::new();
                body.insert("active".into(), true.into());
                body.insert("scope".into(), record.scopes.join(" ").into());
                body.insert("username".into(), login.clone().into());
                if let Some(expires) = record.expires {
                    body.insert("exp".into(), expires.unix_timestamp().into());
                }
                body.insert("iat".into(), record.iat.into());
                body.insert("sub".into(), login.into());
                body.insert("iss".into(), issuer.into());
                body.insert("token_type".into(), "refresh_token".into());
                body.insert("client_id".into(), client.to_string().into());
                body.insert("uid".into(), record.user.to_string().into());
                return Ok(Value::Object(body));
            }
        }
        Ok(inactive)
    }

    /// `/revoke` (RFC 7009): always succeeds for an authenticated client,
    /// whether or not the token was known.
    pub fn revoke(&self, server: &ServerRef, authorization: Option<&str>, form: &FormParams) -> Result<(), OidcError> {
        let client = self.authenticate_client(server, authorization, form, "revoke")?;
        let token = form
            .get("token")
            .ok_or_else(|| OidcError::oauth(OAuthCode::InvalidRequest, "The 'token' parameter is required."))?;
        {
            let mut access = lock(&self.oidc.access);
            let found = access.map.get_mut(&token_digest(token));
            if let Some(record) = found.filter(|r| r.client == client && r.server == *server) {
                record.revoked = true;
                return Ok(());
            }
        }
        let family = lock(&self.oidc.refresh)
            .map
            .get(&token_digest(token))
            .filter(|r| r.client == client && r.server == *server)
            .map(|r| r.family.clone());
        if let Some(family) = family {
            self.revoke_family(&family);
        }
        Ok(())
    }
}

/// What to issue.
pub(super) struct Issue<'a> {
    pub(super) server: &'a ServerRef,
    pub(super) client: &'a AppId,
    pub(super) user: Option<&'a UserId>,
    pub(super) scopes: &'a [String],
    pub(super) nonce: Option<&'a str>,
    pub(super) auth_time: Option<OffsetDateTime>,
    /// The refresh token family, when refreshing.
    pub(super) family: Option<String>,
    /// The scopes of the original grant, when refreshing with fewer.
    pub(super) refresh_scopes: Option<&'a [String]>,
    /// Issued by the refresh grant, where the refresh faults act.
    pub(super) refreshing: bool,
    /// A fault given directly (by `mockta oidc mint`) instead of an armed one.
    pub(super) fault: Option<OidcFaultPlan>,
}

pub(super) struct Issued {
    pub(super) response: TokenResponse,
    pub(super) access_token: String,
    pub(super) refresh_token: Option<String>,
}
