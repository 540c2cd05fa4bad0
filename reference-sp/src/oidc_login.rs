//! The OIDC sign-in flow: authorization code with PKCE S256, `state` and
//! `nonce` random and single-use, the login bound to the browser that
//! started it, then the code exchanged, the ID token verified, userinfo
//! read, and the sign-in done by the protocol-neutral core
//! (`Sp::sign_in`), so JIT, domains, deactivated users, sessions and the
//! lockout fact apply as they do for SAML.
//!
//! The `Sp` methods here are synchronous (they use the store); the async
//! functions join them with the network calls of [`crate::oidc_fetch`] and
//! run the store calls on the blocking pool.

use std::sync::Arc;

use time::Duration;

use crate::config::TenantConfig;
use crate::oidc::OidcError;
use crate::oidc::authorize::{AuthorizationRequest, end_session_url};
use crate::oidc::discovery::ProviderMetadata;
use crate::oidc::id_token::{IdTokenExpectations, UnverifiedIdToken, VerifiedIdToken, check_refreshed_identity};
use crate::oidc_fetch;
use crate::saml::relay_state_is_local;
use crate::sign_in::{SessionStarted, VerifiedIdentity};
use crate::sp::{
    LoginStart, MAX_PENDING_SIGN_INS_PER_TENANT, SignedIn, Sp, SpError, WhoAmI, hash_token, new_token, same_secret,
};
use crate::store::{OidcRefreshGrant, PendingSignIn, SignInProtocol};

/// How long an OIDC login may take, from `/oidc/login` to the callback.
pub const OIDC_PENDING_TTL: Duration = Duration::minutes(10);

/// How long a used ID token is remembered, when it names no expiry (only
/// under flaws that skip `exp`).
const REPLAY_MEMORY: Duration = Duration::hours(1);

/// The parameters of the callback (RFC 6749 §4.1.2, RFC 9207).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub iss: Option<String>,
}

/// A completed OIDC sign-in: the session, where to go, and the ID token to
/// keep as the `id_token_hint` for logout.
#[derive(Debug)]
pub struct OidcSignedIn {
    pub signed_in: SignedIn,
    pub id_token: String,
}

impl Sp {
    /// The tenant's redirect URI, `{base_url}{redirect_path}`.
    pub fn oidc_redirect_uri(&self, tenant: &TenantConfig) -> Result<String, SpError> {
        Ok(format!("{}{}", self.config.base_url, oidc_fetch::connection(tenant)?.redirect_path))
    }

    /// The tenant whose redirect path this is, for the callback route.
    pub fn tenant_for_redirect_path(&self, path: &str) -> Option<&TenantConfig> {
        self.config.tenants.iter().find(|t| t.oidc.as_ref().is_some_and(|o| o.redirect_path == path))
    }

    /// Starts an OIDC login: a fresh `state`, `nonce` and PKCE verifier,
    /// remembered for this browser (the returned pending token goes in its
    /// cookie), and the authorization URL to send it to.
    pub fn start_oidc_login(
        &self,
        tenant: &str,
        return_to: Option<&str>,
        metadata: &ProviderMetadata,
    ) -> Result<LoginStart, SpError> {
        let tenant = self.tenant(tenant)?;
        let oidc = oidc_fetch::connection(tenant)?;
        let settings = self.settings(tenant)?;
        let return_to = match return_to.filter(|r| !r.is_empty()) {
            Some(path) => path.to_owned(),
            None if settings.default_relay_state.is_empty() => "/".to_owned(),
            None => settings.default_relay_state.clone(),
        };
        self.check_return_to(&return_to)?;
        let now = self.now();
        let (state, nonce, pending_token) = (new_token(), new_token(), new_token());
        // The no-pkce flaw sends no challenge, so it keeps no verifier.
        let code_verifier = self.policy.oidc_send_pkce.then(new_token);
        let pending = PendingSignIn {
            tenant: tenant.id.clone(),
            protocol: SignInProtocol::Oidc,
            request_id: state.clone(),
            nonce: Some(nonce.clone()),
            code_verifier: code_verifier.clone(),
            return_to,
        };
        // Correct: the login is found by the browser's cookie, so a callback
        // from another browser finds nothing. The state-not-bound-to-browser
        // flaw finds it by the state alone.
        let key = if self.policy.oidc_state_bound_to_browser { &pending_token } else { &state };
        self.store.save_pending_sign_in(
            &hash_token(key),
            &pending,
            now + OIDC_PENDING_TTL,
            now,
            MAX_PENDING_SIGN_INS_PER_TENANT,
        )?;
        let redirect_uri = self.oidc_redirect_uri(tenant)?;
        let redirect_url = AuthorizationRequest {
            authorization_endpoint: &metadata.authorization_endpoint,
            client_id: &oidc.client_id,
            redirect_uri: &redirect_uri,
            scopes: &oidc.scopes,
            state: &state,
            nonce: &nonce,
            code_verifier: code_verifier.as_deref(),
            form_post: oidc.form_post,
            pkce_s256: self.policy.oidc_pkce_method_s256,
        }
        .url()
        .ok_or_else(|| OidcError::DiscoveryInvalid("the authorization endpoint is not a URL".into()))?;
        Ok(LoginStart { redirect_url, pending_token })
    }

    /// The first step of the callback: the login it completes, taken (so it
    /// is single-use), with the state compared and the provider's answer
    /// read. Refuses a callback with no login started in this browser, a
    /// missing or different state, an error answer and a mix-up (RFC 9207).
    pub fn take_oidc_login(
        &self,
        tenant: &str,
        callback: &Callback,
        pending_token: Option<&str>,
        metadata: &ProviderMetadata,
    ) -> Result<PendingSignIn, SpError> {
        let tenant = self.tenant(tenant)?;
        oidc_fetch::connection(tenant)?;
        let now = self.now();
        let key = if self.policy.oidc_state_bound_to_browser {
            pending_token.ok_or(OidcError::NoLoginStarted)?
        } else {
            callback.state.as_deref().ok_or(OidcError::StateMissing)?
        };
        let pending = self
            .store
            .take_pending_sign_in(&hash_token(key), now)?
            .filter(|p| p.tenant == tenant.id && p.protocol == SignInProtocol::Oidc)
            .ok_or(OidcError::NoLoginStarted)?;
        if !self.policy.oidc_single_use_login {
            // The state-reusable flaw: the login is put back as it was, so
            // the same callback completes it again.
            self.store.save_pending_sign_in(
                &hash_token(key),
                &pending,
                now + OIDC_PENDING_TTL,
                now,
                MAX_PENDING_SIGN_INS_PER_TENANT,
            )?;
        }
        if self.policy.oidc_check_state {
            let state = callback.state.as_deref().ok_or(OidcError::StateMissing)?;
            if !same_secret(state, &pending.request_id) {
                return Err(OidcError::StateMismatch.into());
            }
        }
        if let Some(error) = &callback.error {
            let description = callback.error_description.as_deref().unwrap_or_default();
            return Err(OidcError::AuthorizationDenied(format!("{error}: {description}")).into());
        }
        match &callback.iss {
            _ if !self.policy.oidc_check_authorization_response_iss => {}
            Some(iss) if *iss != metadata.issuer => {
                return Err(OidcError::IssuerMismatch { expected: metadata.issuer.clone(), found: iss.clone() }.into());
            }
            None if metadata.authorization_response_iss_parameter_supported => {
                return Err(
                    OidcError::IssuerMismatch { expected: metadata.issuer.clone(), found: String::new() }.into()
                );
            }
            _ => {}
        }
        if callback.code.as_deref().is_none_or(str::is_empty) {
            return Err(OidcError::CodeMissing.into());
        }
        Ok(pending)
    }

    /// The last step: a verified ID token signs its user in through the
    /// protocol-neutral core. A token already used is refused (attacks.md
    /// O-14).
    pub fn finish_oidc_sign_in(
        &self,
        tenant: &str,
        pending: &PendingSignIn,
        token: &VerifiedIdToken,
    ) -> Result<SignedIn, SpError> {
        let tenant = self.tenant(tenant)?;
        let settings = self.settings(tenant)?;
        let now = self.now();
        let remember_until = token.expires().filter(|e| *e > now).unwrap_or(now + REPLAY_MEMORY);
        if self.policy.replay_cache
            && !self.store.remember_message_id(
                &tenant.id,
                &format!("oidc-id-token:{}", hash_token(token.raw())),
                remember_until,
                now,
            )?
        {
            return Err(OidcError::Replay.into());
        }
        self.check_return_to(&pending.return_to)?;
        let mut identity = VerifiedIdentity::from_oidc(
            token,
            settings.link_accounts_by_verified_email,
            self.policy.oidc_identity_is_subject,
        );
        if !self.policy.oidc_keep_profile_claims {
            // The drop-oidc-claims flaw: only the email is kept.
            identity.given_name = None;
            identity.family_name = None;
            identity.display_name = None;
            identity.groups.clear();
        }
        if !self.policy.oidc_links_only_verified_email && identity.email.is_some() {
            // The link-unverified-email flaw: any email claim is taken as
            // the account's, verified or not (nOAuth).
            identity.email_verified = true;
            identity.email_links_existing_account = true;
        }
        // The tenant's role claim (an app-profile attribute Okta sends as a
        // claim, as the Appenate guide sets up) gives the account its role:
        // at creation through the identity, and at every later sign-in
        // below, so a role the Okta admin changes is taken at the next one.
        if let Some(claim) = &tenant.role_claim {
            identity.roles = role_from_claim(tenant, token.claim(claim), identity.email.as_deref())?;
        }
        let SessionStarted { session_token, mut user } = self.sign_in(tenant, &settings, &identity, now)?;
        if tenant.role_claim.is_some() && self.policy.sign_in_updates_role && user.roles != identity.roles {
            self.store.set_user_roles(&user.id, &identity.roles)?;
            user.roles = identity.roles.clone();
        }
        Ok(SignedIn { session_token, redirect_to: pending.return_to.clone(), user })
    }

    /// Keeps the refresh token a sign-in was given with its session, with the
    /// ID token's identity that every refreshed ID token must repeat.
    pub fn keep_oidc_refresh_grant(
        &self,
        session_token: &str,
        token: &VerifiedIdToken,
        refresh_token: String,
    ) -> Result<(), SpError> {
        let grant = OidcRefreshGrant {
            refresh_token,
            issuer: token.issuer().to_owned(),
            subject: token.subject().to_owned(),
            audiences: token.audiences().to_vec(),
            auth_time: token.auth_time(),
        };
        Ok(self.store.set_session_oidc_refresh(&hash_token(session_token), Some(&grant))?)
    }

    /// The session's tenant and refresh grant, for `/oidc/refresh`. `None`
    /// when the browser has no live session.
    pub fn oidc_refresh_grant(&self, session_token: &str) -> Result<Option<(WhoAmI, OidcRefreshGrant)>, SpError> {
        let Some(who) = self.whoami(session_token)? else { return Ok(None) };
        let grant = self
            .store
            .session_oidc_refresh(&hash_token(session_token), self.now())?
            .ok_or(OidcError::NoRefreshToken)?;
        Ok(Some((who, grant)))
    }

    /// The end of a refresh: the refreshed ID token must name the original
    /// identity (OpenID Connect Core 12.2). If it does, the session keeps
    /// the new refresh token when the provider rotated it; if it does not,
    /// the session ends, since a changed identity is an attack or a broken
    /// provider. The `refresh-trusts-new-claims` flaw compares nothing and
    /// remembers the new token's identity as the session's.
    pub fn finish_oidc_refresh(
        &self,
        session_token: &str,
        original: &OidcRefreshGrant,
        token: &VerifiedIdToken,
        rotated: Option<String>,
    ) -> Result<WhoAmI, SpError> {
        let hashed = hash_token(session_token);
        let refresh_token = rotated.unwrap_or_else(|| original.refresh_token.clone());
        let grant = if self.policy.oidc_refresh_keeps_identity {
            if let Err(changed) = check_refreshed_identity(original, token) {
                self.store.delete_session(&hashed)?;
                return Err(changed.into());
            }
            OidcRefreshGrant { refresh_token, ..original.clone() }
        } else {
            OidcRefreshGrant {
                refresh_token,
                issuer: token.issuer().to_owned(),
                subject: token.subject().to_owned(),
                audiences: token.audiences().to_vec(),
                auth_time: token.auth_time(),
            }
        };
        self.store.set_session_oidc_refresh(&hashed, Some(&grant))?;
        // The session was live a moment ago; if it ended meanwhile (a logout
        // racing the refresh), the refresh has nothing to report on.
        Ok(self.whoami(session_token)?.ok_or(OidcError::NoRefreshToken)?)
    }

    /// Where a browser may be sent after login: a path on this SP (unless
    /// the open-redirect-after-login flaw is on).
    fn check_return_to(&self, return_to: &str) -> Result<(), SpError> {
        if self.policy.oidc_local_return_only && !relay_state_is_local(return_to) {
            return Err(OidcError::ReturnToRejected(return_to.to_owned()).into());
        }
        Ok(())
    }
}

/// Runs a store call on the blocking pool: writes wait for fsync.
async fn blocking<T: Send + 'static>(
    sp: &Arc<Sp>,
    call: impl FnOnce(&Sp) -> Result<T, SpError> + Send + 'static,
) -> Result<T, SpError> {
    let sp = sp.clone();
    tokio::task::spawn_blocking(move || call(&sp)).await.map_err(|e| SpError::TaskFailed(e.to_string()))?
}

/// `/oidc/login`: fetches the provider's metadata if needed and starts.
pub async fn begin(sp: &Arc<Sp>, tenant: String, return_to: Option<String>) -> Result<LoginStart, SpError> {
    let metadata = oidc_fetch::provider(sp, sp.tenant(&tenant)?).await?;
    blocking(sp, move |sp| sp.start_oidc_login(&tenant, return_to.as_deref(), &metadata)).await
}

/// The callback: finds the login, exchanges the code, verifies the ID
/// token (refetching the key set once for an unknown `kid`, within the rate
/// limit), reads userinfo and signs the user in.
pub async fn complete(
    sp: &Arc<Sp>,
    tenant: String,
    callback: Callback,
    pending_token: Option<String>,
) -> Result<OidcSignedIn, SpError> {
    let config = sp.tenant(&tenant)?;
    let oidc = oidc_fetch::connection(config)?;
    let metadata = oidc_fetch::provider(sp, config).await?;
    let code = callback.code.clone().unwrap_or_default();
    let pending = {
        let (tenant, metadata) = (tenant.clone(), metadata.clone());
        blocking(sp, move |sp| sp.take_oidc_login(&tenant, &callback, pending_token.as_deref(), &metadata)).await?
    };
    let verifier = pending.code_verifier.clone();
    let redirect_uri = sp.oidc_redirect_uri(config)?;
    let tokens = oidc_fetch::exchange_code(sp, oidc, &metadata, &code, verifier.as_deref(), &redirect_uri).await?;

    let mut verified = verify_id_token(sp, config, &metadata, &tokens, pending.nonce.as_deref(), &sp.policy).await?;
    if let (Some(endpoint), Some(access_token)) = (&metadata.userinfo_endpoint, &tokens.access_token) {
        let userinfo = oidc_fetch::userinfo(sp, endpoint, access_token).await?;
        verified = verified.with_userinfo(&userinfo, &sp.policy)?;
    }
    let id_token = verified.raw().to_owned();
    // A tenant that asks for offline_access keeps the refresh token with
    // the session, for `/oidc/refresh`.
    let refresh_token = tokens.refresh_token.filter(|_| oidc.scopes.iter().any(|s| s == "offline_access"));
    let signed_in = blocking(sp, move |sp| {
        let signed_in = sp.finish_oidc_sign_in(&tenant, &pending, &verified)?;
        if let Some(refresh_token) = refresh_token {
            sp.keep_oidc_refresh_grant(&signed_in.session_token, &verified, refresh_token)?;
        }
        Ok(signed_in)
    })
    .await?;
    Ok(OidcSignedIn { signed_in, id_token })
}

/// Verifies the ID token of a token response with the tenant's key set
/// (refetched once for an unknown `kid`, within the rate limit). `nonce` is
/// the one the login sent; a refresh has none to compare.
async fn verify_id_token(
    sp: &Arc<Sp>,
    config: &TenantConfig,
    metadata: &ProviderMetadata,
    tokens: &oidc_fetch::TokenResponse,
    nonce: Option<&str>,
    policy: &crate::flaws::Policy,
) -> Result<VerifiedIdToken, SpError> {
    let oidc = oidc_fetch::connection(config)?;
    let unverified = UnverifiedIdToken::parse(&tokens.id_token)?;
    let header_url_keys = match unverified.jku() {
        Some(jku) if sp.policy.oidc_trust_jku => Some(oidc_fetch::key_set_at(sp, jku).await?),
        _ => match unverified.x5u() {
            Some(x5u) if sp.policy.oidc_trust_x5u => Some(oidc_fetch::certificate_key_at(sp, x5u).await?),
            _ => None,
        },
    };
    let settings = sp.settings(config)?;
    let client_secret = match &oidc.client_auth {
        crate::config::OidcClientAuth::ClientSecretBasic { secret }
        | crate::config::OidcClientAuth::ClientSecretPost { secret } => Some(secret.as_str()),
        _ => None,
    };
    let verify = |keys: &crate::oidc::jwks::Jwks| {
        let expectations = IdTokenExpectations {
            issuer: &metadata.issuer,
            client_id: &oidc.client_id,
            client_secret,
            algorithm: oidc.id_token_algorithm,
            keys,
            header_url_keys: header_url_keys.as_ref(),
            nonce,
            access_token: tokens.access_token.as_deref(),
            clock_skew: Duration::seconds(i64::from(settings.clock_skew_seconds)),
            policy,
        };
        unverified.verify(&expectations, sp.now())
    };
    let keys = oidc_fetch::keys(sp, config, metadata).await?;
    let verified = match verify(&keys) {
        Err(unknown @ OidcError::UnknownKid(_)) => {
            match oidc_fetch::refetch_keys_for_unknown_kid(sp, config, metadata).await? {
                Some(fresh) => verify(&fresh)?,
                None => return Err(unknown.into()),
            }
        }
        other => other?,
    };
    Ok(verified)
}

/// `POST /oidc/refresh`: redeems the session's refresh token, verifies the
/// new ID token as at sign-in and checks it names the original identity.
/// `None` when the browser has no session.
pub async fn refresh(sp: &Arc<Sp>, session_token: String) -> Result<Option<WhoAmI>, SpError> {
    let found = {
        let token = session_token.clone();
        blocking(sp, move |sp| sp.oidc_refresh_grant(&token)).await?
    };
    let Some((who, grant)) = found else { return Ok(None) };
    let config = sp.tenant(who.tenant.as_str())?;
    let oidc = oidc_fetch::connection(config)?;
    let metadata = oidc_fetch::provider(sp, config).await?;
    let tokens = oidc_fetch::refresh(sp, oidc, &metadata, &grant.refresh_token).await?;
    // The refresh-trusts-new-claims flaw takes the refreshed token's
    // identity on trust, as the buggy clients did: not even its issuer is
    // compared with the provider's.
    let mut policy = sp.policy.clone();
    if !sp.policy.oidc_refresh_keeps_identity {
        policy.oidc_check_issuer = false;
    }
    let verified = verify_id_token(sp, config, &metadata, &tokens, None, &policy).await?;
    let rotated = tokens.refresh_token;
    let who = blocking(sp, move |sp| sp.finish_oidc_refresh(&session_token, &grant, &verified, rotated)).await?;
    Ok(Some(who))
}

/// RP-initiated logout: ends the session and returns where to send the
/// browser: the provider's end-session endpoint with the ID token as a hint
/// and this SP's home as the way back, or this SP's home when the tenant
/// has no OIDC or the browser kept no ID token.
pub async fn logout(
    sp: &Arc<Sp>,
    session_token: Option<String>,
    id_token_hint: Option<String>,
) -> Result<String, SpError> {
    let home = format!("{}/", sp.config().base_url);
    let Some(session_token) = session_token else { return Ok(home) };
    let whoami = {
        let token = session_token.clone();
        blocking(sp, move |sp| sp.whoami(&token)).await?
    };
    blocking(sp, move |sp| sp.logout(&session_token)).await?;
    let (Some(who), Some(hint)) = (whoami, id_token_hint) else { return Ok(home) };
    let tenant = sp.tenant(who.tenant.as_str())?;
    if tenant.oidc.is_none() {
        return Ok(home);
    }
    let metadata = oidc_fetch::provider(sp, tenant).await?;
    Ok(metadata.end_session_endpoint.as_deref().and_then(|e| end_session_url(e, &hint, &home)).unwrap_or(home))
}

/// The roles a sign-in's role claim gives, checked against the tenant's
/// `roles` (matched without regard to case, kept in the tenant's spelling).
/// No claim, or an empty one, is no role: the Appenate guide gives a user
/// with no role on the app profile app access only. A role the tenant does
/// not have refuses the sign-in: a strict SP neither guesses a role nor
/// keeps the account's old one, which the IdP no longer vouches for (an
/// admin demoting someone by a misspelt role must not leave them an admin).
fn role_from_claim(
    tenant: &TenantConfig,
    claim: Option<&serde_json::Value>,
    user: Option<&str>,
) -> Result<Vec<String>, SpError> {
    let named = match claim {
        None | Some(serde_json::Value::Null) => return Ok(Vec::new()),
        Some(serde_json::Value::String(text)) if text.trim().is_empty() => return Ok(Vec::new()),
        Some(serde_json::Value::String(text)) => text.trim().to_owned(),
        Some(other) => other.to_string(),
    };
    match tenant.roles.iter().find(|known| known.eq_ignore_ascii_case(&named)) {
        Some(known) => Ok(vec![known.clone()]),
        None => Err(SpError::RoleUnknown {
            user: user.unwrap_or("the user").to_owned(),
            role: named,
            tenant: tenant.id.clone(),
            known: tenant.roles.join(", "),
        }),
    }
}
