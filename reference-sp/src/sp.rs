//! The service provider's sign-in logic: starting SP-initiated sign-in,
//! the ACS, account matching and sessions. No HTTP here; the store and the
//! clock are injected.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, PoisonError, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

pub use crate::clock::{Clock, SystemClock};
use crate::config::{
    AuthnRequestBinding, MAX_CLOCK_SKEW_SECONDS, Provisioning, SamlConnection, SpConfig, TenantConfig, TenantId,
    TenantSettings,
};
use crate::email;
use crate::flaws::{Flaw, Policy};
use crate::saml::decrypt::DecryptionKey;
use crate::saml::metadata::IdpMetadata;
use crate::saml::verify::{Expectations, UnverifiedResponse};
use crate::saml::{SamlError, relay_state_is_local, request};
use crate::sign_in::{SessionStarted, VerifiedIdentity};
use crate::store::{NewUser, PendingSignIn, SignInProtocol, Store, StoreError, User, UserId, UserStatus};

/// How long an SP-initiated sign-in may take.
const PENDING_TTL: Duration = Duration::minutes(10);

/// The most sign-ins a tenant keeps waiting at once. Anyone can start a
/// sign-in without authenticating, so the pending ones are capped: a flood
/// pushes out the oldest, and the store stays bounded. A real sign-in takes
/// seconds, so it is pushed out only by this many others started after it.
pub const MAX_PENDING_SIGN_INS_PER_TENANT: usize = 1000;

/// A change to a tenant's settings from the admin API; absent fields keep
/// their value.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub default_relay_state: Option<String>,
    pub allowed_email_domains: Option<Vec<String>>,
    pub provisioning: Option<Provisioning>,
    pub allow_idp_initiated: Option<bool>,
    pub clock_skew_seconds: Option<u32>,
    pub allow_sha1: Option<bool>,
    pub sso_required: Option<bool>,
    pub link_accounts_by_verified_email: Option<bool>,
}

/// Errors of the SP layer, each with a stable code for refusal pages.
#[derive(Debug, thiserror::Error)]
pub enum SpError {
    #[error("{0}")]
    Saml(#[from] SamlError),
    #[error("no tenant '{0}'")]
    UnknownTenant(String),
    #[error("cannot tell which tenant this response is for")]
    TenantNotIdentified,
    #[error("tenant '{0}' does not sign in with SAML")]
    SamlNotConfigured(TenantId),
    #[error("the IdP metadata of tenant '{0}' is not available yet")]
    NoMetadata(TenantId),
    #[error("the RelayState '{0}' is not a relative path on this SP")]
    RelayStateRejected(String),
    #[error("the email '{email}' is not in the domains of tenant {tenant}")]
    DomainNotAllowed { email: String, tenant: TenantId },
    #[error("no account for {email} in tenant {tenant}")]
    NoAccount { email: String, tenant: TenantId },
    /// No account, refused in the tenant's own words
    /// (`unknown_user_refusal`), which lead the refusal page.
    #[error("{refusal} (no account for {email} in tenant {tenant})")]
    NoAccountRefused { refusal: String, email: String, tenant: TenantId },
    /// The tenant's `require_email_username`: the IdP's username for the
    /// user is not an email address.
    #[error(
        "the username '{username}' the IdP sent is not an email address, and tenant {tenant} signs in only users whose Okta username is their email: ask the Okta admin to give the user an email-format username"
    )]
    UsernameNotEmail { username: String, tenant: TenantId },
    /// The tenant's `require_display_name`: the IdP sent no name.
    #[error(
        "the IdP sent no display name for '{user}', and tenant {tenant} needs one: ask the Okta admin to set the user's display name (first and last name)"
    )]
    NoDisplayName { user: String, tenant: TenantId },
    /// The tenant's role claim names a role the tenant does not have
    /// (`roles`): the sign-in is refused rather than guessing a role or
    /// keeping one the IdP no longer vouches for.
    #[error(
        "the IdP says {user} has the role '{role}', which is not one of tenant {tenant}'s roles ({known}): ask the Okta admin to set one of them on the app profile"
    )]
    RoleUnknown { user: String, role: String, tenant: TenantId, known: String },
    #[error("the account {0} is deactivated")]
    Deactivated(String),
    /// Only under the `lock-after-failed-sso` flaw.
    #[error("the account {0} is locked after too many failed sign-ins")]
    Locked(String),
    #[error("{0}")]
    LockoutRisk(String),
    #[error("{0}")]
    InvalidSetting(String),
    #[error("the response names no email address (NameID or email attribute)")]
    NoEmail,
    #[error("the IdP does not vouch for the email '{0}', so it cannot find or create an account")]
    EmailNotVerified(String),
    #[error(
        "the account {email} in tenant {tenant} is not linked to this IdP identity, and the tenant does not link accounts by email"
    )]
    EmailLinkNotAllowed { email: String, tenant: TenantId },
    #[error("tenant '{0}' does not sign in with OIDC")]
    OidcNotConfigured(TenantId),
    #[error("{0}")]
    Oidc(#[from] crate::oidc::OidcError),
    #[error("the request could not be completed: {0}")]
    TaskFailed(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// Only under the `empty-session-on-wrong-destination` flaw: the
    /// response was refused, yet the browser is given a session with no user.
    #[error("{refused} (the browser was given an empty session)")]
    RefusedWithEmptySession { refused: SamlError, session_token: String },
    #[error("tenants[{tenant}].saml: {problem}")]
    KeyPair { tenant: TenantId, problem: String },
}

impl SpError {
    pub fn code(&self) -> &'static str {
        match self {
            SpError::Saml(e) => e.code(),
            SpError::UnknownTenant(_) => "tenant.unknown",
            SpError::TenantNotIdentified => "tenant.not_identified",
            SpError::SamlNotConfigured(_) => "tenant.saml_not_configured",
            SpError::NoMetadata(_) => "tenant.idp_metadata_unavailable",
            SpError::RelayStateRejected(_) => "saml.relay_state_rejected",
            SpError::DomainNotAllowed { .. } => "account.domain_not_allowed",
            SpError::NoAccount { .. } | SpError::NoAccountRefused { .. } => "account.not_found",
            SpError::UsernameNotEmail { .. } => "account.username_not_email",
            SpError::NoDisplayName { .. } => "account.no_display_name",
            SpError::RoleUnknown { .. } => "account.role_unknown",
            SpError::Deactivated(_) => "account.deactivated",
            SpError::Locked(_) => "account.locked",
            SpError::LockoutRisk(_) => "lockout.no_admin_sign_in",
            SpError::InvalidSetting(_) => "request.invalid",
            SpError::NoEmail => "account.no_email",
            SpError::EmailNotVerified(_) => "account.email_not_verified",
            SpError::EmailLinkNotAllowed { .. } => "account.link_not_allowed",
            SpError::OidcNotConfigured(_) => "tenant.oidc_not_configured",
            SpError::Oidc(e) => e.code(),
            SpError::TaskFailed(_) => "internal.task",
            SpError::Store(_) => "internal.store",
            SpError::RefusedWithEmptySession { refused, .. } => refused.code(),
            SpError::KeyPair { .. } => "config.key_pair",
        }
    }
}

/// Where SP-initiated SAML sign-in goes next, by the tenant's binding.
#[derive(Debug)]
pub struct SamlLoginStart {
    pub request: AuthnRequestDelivery,
    /// The browser's pending-request cookie value.
    pub pending_token: String,
}

/// How the browser takes the AuthnRequest to the IdP.
#[derive(Debug)]
pub enum AuthnRequestDelivery {
    /// HTTP-Redirect: the URL to send the browser to.
    Redirect(String),
    /// HTTP-POST: the form the browser posts.
    Post(request::PostedAuthnRequest),
}

/// Where OIDC sign-in goes next.
#[derive(Debug)]
pub struct LoginStart {
    pub redirect_url: String,
    /// The browser's pending-request cookie value.
    pub pending_token: String,
}

/// A completed sign-in.
#[derive(Debug)]
pub struct SignedIn {
    pub session_token: String,
    pub redirect_to: String,
    pub user: User,
}

/// What `/whoami` reports. `user_id` and `email` are `None` only for an
/// empty session, which exists only under a flaw.
#[derive(Debug, serde::Serialize)]
pub struct WhoAmI {
    pub tenant: TenantId,
    pub user_id: Option<UserId>,
    pub email: Option<String>,
    pub name: String,
    pub roles: Vec<String>,
    /// The account's role among the tenant's `roles`, shown only by a
    /// tenant that has roles of its own (the Appenate guide's ReadOnly,
    /// User, Admin or EnterpriseAdmin).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub groups: Vec<String>,
    /// The licence the account was given at sign-in (a tenant's
    /// `licence_at_sign_in`); left out of the JSON when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence: Option<String>,
}

impl WhoAmI {
    fn empty(tenant: TenantId) -> WhoAmI {
        WhoAmI {
            tenant,
            user_id: None,
            email: None,
            name: String::new(),
            roles: Vec::new(),
            role: None,
            groups: Vec::new(),
            licence: None,
        }
    }
}

pub struct Sp {
    pub(crate) config: SpConfig,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) policy: Policy,
    flaws: BTreeSet<Flaw>,
    idps: RwLock<HashMap<TenantId, IdpMetadata>>,
    /// Each SAML tenant's encryption key pair, read once at start-up.
    encryption_keys: HashMap<TenantId, crate::config::KeyPair>,
    /// Each SAML tenant's key pair for signing AuthnRequests, read once at
    /// start-up.
    signing_keys: HashMap<TenantId, crate::config::KeyPair>,
    /// Each OIDC tenant's discovery document and key set, as cached by
    /// `oidc_fetch`.
    pub(crate) oidc_providers: std::sync::Mutex<HashMap<TenantId, crate::oidc::jwks_cache::ProviderCache>>,
    /// The clients for fetches from IdPs, trusting the config's extra CA, or
    /// why they could not be made (each fetch then fails with the reason).
    idp_clients: Result<crate::idp_fetch::IdpClients, String>,
    /// Sessions with no user, made only under the
    /// `empty-session-on-wrong-destination` flaw (hashed token, tenant); the
    /// oldest are dropped past [`MAX_EMPTY_SESSIONS`].
    empty_sessions: std::sync::Mutex<std::collections::VecDeque<(String, TenantId)>>,
    /// Refused SAML responses counted by the (tenant, normalised NameID)
    /// they claimed, kept only under the `lock-after-failed-sso` flaw.
    pub(crate) failed_sso: std::sync::Mutex<HashMap<(TenantId, String), u32>>,
    /// Every group a (tenant, user id)'s sign-ins have shown, kept only
    /// under the `sign-in-groups-only-add` flaw, whose sessions show them
    /// all.
    pub(crate) sign_in_groups_seen: std::sync::Mutex<HashMap<(TenantId, String), BTreeSet<String>>>,
    clock: Arc<dyn Clock>,
    /// Seconds added to the clock's time, moved by the admin API's clock
    /// route so that a test can see what the SP does once a session's end
    /// has passed without waiting for it (attacks.md P-18).
    clock_offset_seconds: std::sync::atomic::AtomicI64,
}

/// How many empty sessions the `empty-session-on-wrong-destination` flaw keeps.
const MAX_EMPTY_SESSIONS: usize = 10_000;

/// A random token for cookies: 32 bytes, base64url.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Tokens are stored hashed, so a copy of the database holds no usable cookie.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random id for a user (`usr_`) or team (`grp_`): the prefix and 20
/// hex digits.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", &hash_token(&new_token())[..20])
}

/// Compares two secrets (hashes, in practice) in time that does not depend
/// on where they differ, so a timing probe learns nothing.
pub fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len() && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

impl Sp {
    /// Builds the SP and writes the config's tenants to the store.
    pub fn new(
        config: SpConfig,
        store: Arc<dyn Store>,
        flaws: BTreeSet<Flaw>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SpError> {
        for tenant in &config.tenants {
            store.sync_tenant(&tenant.id, &tenant.name, &tenant.settings)?;
        }
        let idp_clients = crate::idp_fetch::IdpClients::new(config.extra_ca_file.as_deref());
        // The key files are read here, once, so a missing or mismatched
        // key stops the start instead of each encrypted sign-in; generated
        // pairs are made here for the same reason.
        let mut encryption_keys = HashMap::new();
        let mut signing_keys = HashMap::new();
        for tenant in &config.tenants {
            let Some(saml) = tenant.saml.as_ref() else { continue };
            let obtain = |source: &crate::config::KeyPairSource, role: crate::generated_keys::KeyRole| {
                let pair = match source {
                    crate::config::KeyPairSource::Files(files) => crate::config::read_key_pair(files),
                    crate::config::KeyPairSource::Generated => {
                        crate::generated_keys::generated_key_pair(&tenant.id, role, clock.now())
                    }
                };
                pair.map_err(|problem| SpError::KeyPair {
                    tenant: tenant.id.clone(),
                    problem: format!("the {} key pair: {problem}", role.as_str()),
                })
            };
            if let Some(source) = &saml.encryption {
                encryption_keys.insert(tenant.id.clone(), obtain(source, crate::generated_keys::KeyRole::Encryption)?);
            }
            if let Some(source) = &saml.request_signing {
                signing_keys.insert(tenant.id.clone(), obtain(source, crate::generated_keys::KeyRole::Signing)?);
            }
        }
        Ok(Sp {
            encryption_keys,
            signing_keys,
            policy: Policy::with_flaws(&flaws),
            config,
            store,
            flaws,
            idps: RwLock::new(HashMap::new()),
            oidc_providers: std::sync::Mutex::new(HashMap::new()),
            idp_clients,
            empty_sessions: std::sync::Mutex::new(std::collections::VecDeque::new()),
            failed_sso: std::sync::Mutex::new(HashMap::new()),
            sign_in_groups_seen: std::sync::Mutex::new(HashMap::new()),
            clock,
            clock_offset_seconds: std::sync::atomic::AtomicI64::new(0),
        })
    }

    /// The clients for fetches from IdPs, or why they could not be made.
    pub(crate) fn idp_clients(&self) -> Result<&crate::idp_fetch::IdpClients, &str> {
        self.idp_clients.as_ref().map_err(String::as_str)
    }

    pub fn config(&self) -> &SpConfig {
        &self.config
    }

    pub fn flaws(&self) -> &BTreeSet<Flaw> {
        &self.flaws
    }

    pub fn now(&self) -> OffsetDateTime {
        let offset = self.clock_offset_seconds.load(std::sync::atomic::Ordering::SeqCst);
        self.clock.now() + time::Duration::seconds(offset)
    }

    /// Moves the SP's clock by `seconds` (back when negative) and returns
    /// the offset from the injected clock now in force.
    pub fn advance_clock(&self, seconds: i64) -> i64 {
        self.clock_offset_seconds.fetch_add(seconds, std::sync::atomic::Ordering::SeqCst) + seconds
    }

    pub fn tenant(&self, id: &str) -> Result<&TenantConfig, SpError> {
        self.config.tenant(id).ok_or_else(|| SpError::UnknownTenant(id.to_owned()))
    }

    /// A tenant and its SAML connection; a tenant that signs in only with
    /// OIDC has none.
    pub fn saml_tenant(&self, id: &str) -> Result<(&TenantConfig, &SamlConnection), SpError> {
        let tenant = self.tenant(id)?;
        let saml = tenant.saml.as_ref().ok_or_else(|| SpError::SamlNotConfigured(tenant.id.clone()))?;
        Ok((tenant, saml))
    }

    pub fn set_idp_metadata(&self, tenant: &TenantId, metadata: IdpMetadata) {
        self.idps.write().unwrap_or_else(PoisonError::into_inner).insert(tenant.clone(), metadata);
    }

    /// The certificate (base64 DER) the tenant signs its AuthnRequests with.
    pub fn signing_certificate(&self, tenant: &TenantId) -> Option<&str> {
        self.signing_keys.get(tenant).map(|keys| keys.certificate_base64.as_str())
    }

    /// The private key (PEM) the tenant signs AuthnRequests and
    /// LogoutRequests with.
    pub(crate) fn signing_key_pem(&self, tenant: &TenantId) -> Option<&str> {
        self.signing_keys.get(tenant).map(|keys| keys.private_key_pem.as_str())
    }

    /// The certificate (base64 DER) the tenant publishes for encryption.
    pub fn encryption_certificate(&self, tenant: &TenantId) -> Option<&str> {
        self.encryption_keys.get(tenant).map(|keys| keys.certificate_base64.as_str())
    }

    pub fn idp_metadata(&self, tenant: &TenantId) -> Option<IdpMetadata> {
        self.idps.read().unwrap_or_else(PoisonError::into_inner).get(tenant).cloned()
    }

    pub fn settings(&self, tenant: &TenantConfig) -> Result<TenantSettings, SpError> {
        Ok(self.store.tenant_settings(&tenant.id)?.unwrap_or_else(|| tenant.settings.clone()))
    }

    /// Starts SP-initiated sign-in: a new AuthnRequest whose ID is remembered
    /// for this browser.
    pub fn start_login(&self, tenant: &str, relay_state: Option<&str>) -> Result<SamlLoginStart, SpError> {
        let (tenant, saml) = self.saml_tenant(tenant)?;
        let metadata = self.idp_metadata(&tenant.id).ok_or_else(|| SpError::NoMetadata(tenant.id.clone()))?;
        let settings = self.settings(tenant)?;
        let relay_state = relay_state.unwrap_or(&settings.default_relay_state).to_owned();
        if !relay_state.is_empty() && self.policy.local_relay_state_only && !relay_state_is_local(&relay_state) {
            return Err(SpError::RelayStateRejected(relay_state));
        }
        let now = self.now();
        let request_id = format!("_{}", hash_token(&new_token()).get(..32).unwrap_or_default());
        let pending_token = new_token();
        let pending = PendingSignIn {
            tenant: tenant.id.clone(),
            protocol: SignInProtocol::Saml,
            request_id: request_id.clone(),
            nonce: None,
            code_verifier: None,
            return_to: relay_state.clone(),
        };
        self.store.save_pending_sign_in(
            &hash_token(&pending_token),
            &pending,
            now + PENDING_TTL,
            now,
            MAX_PENDING_SIGN_INS_PER_TENANT,
        )?;
        let acs = self.config.acs_url(&tenant.id);
        // The metadata publishes AuthnRequestsSigned from the key pair alone,
        // so under `unsigned-authn-requests` it goes on promising signatures.
        let signing_key = self
            .signing_keys
            .get(&tenant.id)
            .filter(|_| self.policy.sign_authn_requests)
            .map(|keys| keys.private_key_pem.as_str());
        let request = match (saml.authn_request_binding, &metadata.sso_post_url) {
            (AuthnRequestBinding::HttpPost, Some(sso_post_url)) => AuthnRequestDelivery::Post(request::posted(
                sso_post_url,
                &request_id,
                &saml.sp_entity_id,
                &acs,
                &relay_state,
                now,
                signing_key,
            )?),
            // An IdP without a POST endpoint gets the redirect, which every
            // IdP must offer (the metadata parser insists on it).
            _ => AuthnRequestDelivery::Redirect(request::redirect_url(
                &metadata.sso_redirect_url,
                &request_id,
                &saml.sp_entity_id,
                &acs,
                &relay_state,
                now,
                signing_key,
            )?),
        };
        Ok(SamlLoginStart { request, pending_token })
    }

    /// The ACS. `path_tenant` is the tenant in the URL (`/sso/acs/{tenant}`),
    /// `None` for the shared ACS.
    pub fn acs(
        &self,
        path_tenant: Option<&str>,
        saml_response: &str,
        relay_state: Option<&str>,
        pending_token: Option<&str>,
    ) -> Result<SignedIn, SpError> {
        let now = self.now();
        let unverified = if self.policy.limit_body_size {
            UnverifiedResponse::from_form_value(saml_response)?
        } else {
            UnverifiedResponse::from_form_value_of_any_size(saml_response)?
        };
        let (tenant, saml) = match path_tenant {
            Some(id) => self.saml_tenant(id)?,
            None => match self.tenant_named_by_audience(&unverified) {
                Some(found) => found,
                None => self.tenant_for_issuer(unverified.claimed_issuer().as_deref())?,
            },
        };
        let acs_urls = match path_tenant {
            Some(_) => vec![self.config.acs_url(&tenant.id)],
            None => vec![self.config.shared_acs_url()],
        };
        let metadata = self.idp_metadata(&tenant.id).ok_or_else(|| SpError::NoMetadata(tenant.id.clone()))?;
        let settings = self.settings(tenant)?;
        let pending = match pending_token {
            Some(token) if self.policy.remember_request_id => self
                .store
                .take_pending_sign_in(&hash_token(token), now)?
                .filter(|p| p.tenant == tenant.id && p.protocol == SignInProtocol::Saml),
            _ => None,
        };
        let decryption_key = self
            .encryption_keys
            .get(&tenant.id)
            .map(|keys| DecryptionKey { private_key_pem: keys.private_key_pem.clone() });
        let expectations = Expectations {
            idp_entity_id: &metadata.entity_id,
            certificates: &metadata.certificates,
            sp_entity_id: &saml.sp_entity_id,
            acs_urls: &acs_urls,
            clock_skew: Duration::seconds(i64::from(settings.clock_skew_seconds)),
            allow_sha1: settings.allow_sha1,
            outstanding_request: pending.as_ref().map(|p| p.request_id.as_str()),
            allow_unsolicited: settings.allow_idp_initiated,
            decryption_key: decryption_key.as_ref(),
            require_encryption: saml.require_encrypted_assertions,
            want_assertions_signed: saml.want_assertions_signed,
            policy: &self.policy,
        };
        // The `lock-after-failed-sso` flaw reads the NameID before the
        // response is verified, as an SP that counts failures per account
        // must, so a refused response can be counted against it.
        let claimed_name_id = if self.policy.lock_after_failed_sso { unverified.claimed_name_id() } else { None };
        let verified = match unverified.verify(&expectations, now) {
            Err(refused @ SamlError::DestinationMismatch(_)) if self.policy.empty_session_on_wrong_destination => {
                let session_token = new_token();
                let mut empty = self.empty_sessions.lock().unwrap_or_else(PoisonError::into_inner);
                if empty.len() >= MAX_EMPTY_SESSIONS {
                    empty.pop_front();
                }
                empty.push_back((hash_token(&session_token), tenant.id.clone()));
                return Err(SpError::RefusedWithEmptySession { refused, session_token });
            }
            Err(refused) => {
                if let Some(name_id) = claimed_name_id {
                    let mut failed = self.failed_sso.lock().unwrap_or_else(PoisonError::into_inner);
                    *failed.entry((tenant.id.clone(), email::normalise(&name_id))).or_insert(0) += 1;
                }
                return Err(refused.into());
            }
            Ok(verified) => verified,
        };

        // 8. Replay.
        if self.policy.replay_cache
            && !self.store.remember_message_id(&tenant.id, verified.assertion_id(), verified.replay_until(), now)?
        {
            return Err(SamlError::Replay.into());
        }

        // 9. RelayState. At the shared ACS, a RelayState that is the
        // integration's identifier (the last segment of the tenant's entity
        // id, `/sso/acs/<identifier>`, which the MoovingON guide sets as the
        // app's default RelayState) names the tenant, not a page.
        let names_the_integration =
            |r: &str| path_tenant.is_none() && !r.starts_with('/') && saml.sp_entity_id.rsplit('/').next() == Some(r);
        let relay_state = relay_state
            .filter(|r| !r.is_empty() && !names_the_integration(r))
            .map(str::to_owned)
            .or_else(|| pending.as_ref().map(|p| p.return_to.clone()).filter(|r| !r.is_empty()))
            .unwrap_or_else(|| settings.default_relay_state.clone());
        let redirect_to =
            if relay_state.is_empty() || !self.policy.follow_relay_state { "/".to_owned() } else { relay_state };
        if self.policy.local_relay_state_only && !relay_state_is_local(&redirect_to) {
            return Err(SpError::RelayStateRejected(redirect_to));
        }

        let mut identity = VerifiedIdentity::from_saml(&verified, self.policy.read_attributes);
        if !self.policy.name_id_is_identity
            && let Some(email) = verified.first_attribute("email")
        {
            // The `email-attribute-as-identity` flaw: the email attribute
            // names the account, whatever the NameID says.
            identity.email = Some(email.to_owned());
        }
        if !self.policy.honour_session_not_on_or_after {
            identity.session_not_on_or_after = None;
        }
        let SessionStarted { session_token, user } = self.sign_in(tenant, &settings, &identity, now)?;
        Ok(SignedIn { session_token, redirect_to, user })
    }

    /// Changes a tenant's settings; fields the patch leaves out keep their
    /// value. The whole change is checked before anything is written, so a
    /// refused change writes nothing. Switching "SSO required" on is refused
    /// until an admin has signed in through the tenant's IdP, so a broken IdP
    /// set-up cannot lock the customer out.
    pub fn update_settings(&self, tenant: &str, patch: SettingsPatch) -> Result<TenantSettings, SpError> {
        let config = self.tenant(tenant)?;
        let current = self.settings(config)?;
        if let Some(relay) = &patch.default_relay_state
            && !relay.is_empty()
            && !relay_state_is_local(relay)
        {
            return Err(SpError::InvalidSetting("default_relay_state must be a relative path on this SP".into()));
        }
        if patch.clock_skew_seconds.is_some_and(|s| s > MAX_CLOCK_SKEW_SECONDS) {
            return Err(SpError::InvalidSetting(format!(
                "clock_skew_seconds must be at most {MAX_CLOCK_SKEW_SECONDS}"
            )));
        }
        if patch.sso_required == Some(true)
            && !current.admin_signed_in_via_idp
            && self.policy.sso_enforcement_needs_admin_sign_in
        {
            return Err(SpError::LockoutRisk(format!(
                "SSO cannot be required in tenant {} until an admin has signed in through its IdP at least once",
                config.id
            )));
        }
        let updated = TenantSettings {
            default_relay_state: patch.default_relay_state.unwrap_or(current.default_relay_state),
            allowed_email_domains: patch
                .allowed_email_domains
                .map(|d| d.into_iter().map(|d| d.trim().to_ascii_lowercase()).collect())
                .unwrap_or(current.allowed_email_domains),
            provisioning: patch.provisioning.unwrap_or(current.provisioning),
            allow_idp_initiated: patch.allow_idp_initiated.unwrap_or(current.allow_idp_initiated),
            clock_skew_seconds: patch.clock_skew_seconds.unwrap_or(current.clock_skew_seconds),
            allow_sha1: patch.allow_sha1.unwrap_or(current.allow_sha1),
            sso_required: patch.sso_required.unwrap_or(current.sso_required),
            admin_signed_in_via_idp: current.admin_signed_in_via_idp,
            link_accounts_by_verified_email: patch
                .link_accounts_by_verified_email
                .unwrap_or(current.link_accounts_by_verified_email),
        };
        self.store.update_tenant_settings(&config.id, &updated)?;
        Ok(updated)
    }

    /// For the shared ACS: the one tenant whose IdP has this entity id. The
    /// claim is not trusted; it only picks the keys to verify with.
    /// At the shared ACS: the one SAML tenant whose entity id is among the
    /// response's (unverified) audiences, as the MoovingON guide's audience
    /// `/sso/acs/<identifier>` names the integration when several tenants
    /// share one IdP, and so one issuer.
    fn tenant_named_by_audience(&self, unverified: &UnverifiedResponse) -> Option<(&TenantConfig, &SamlConnection)> {
        let audiences = unverified.claimed_audiences();
        let mut matching = self
            .config
            .tenants
            .iter()
            .filter_map(|t| Some((t, t.saml.as_ref()?)))
            .filter(|(_, saml)| audiences.contains(&saml.sp_entity_id));
        match (matching.next(), matching.next()) {
            (Some(found), None) => Some(found),
            _ => None,
        }
    }

    /// The tenant the shared ACS would verify this SAMLResponse form value
    /// for by its audience, if one: the HTTP layer loads that tenant's IdP
    /// metadata first, as the tenant's own ACS does.
    pub fn shared_acs_tenant(&self, saml_response: &str) -> Option<String> {
        let unverified = UnverifiedResponse::from_form_value(saml_response).ok()?;
        self.tenant_named_by_audience(&unverified).map(|(tenant, _)| tenant.id.to_string())
    }

    fn tenant_for_issuer(&self, issuer: Option<&str>) -> Result<(&TenantConfig, &SamlConnection), SpError> {
        let issuer = issuer.ok_or(SpError::TenantNotIdentified)?;
        let idps = self.idps.read().unwrap_or_else(PoisonError::into_inner);
        let mut matching = self
            .config
            .tenants
            .iter()
            .filter_map(|t| Some((t, t.saml.as_ref()?)))
            .filter(|(t, _)| idps.get(&t.id).is_some_and(|m| m.entity_id == issuer));
        match (matching.next(), matching.next()) {
            (Some(found), None) => Ok(found),
            _ => Err(SpError::TenantNotIdentified),
        }
    }

    pub fn whoami(&self, session_token: &str) -> Result<Option<WhoAmI>, SpError> {
        let hashed = hash_token(session_token);
        if let Some((_, tenant)) =
            self.empty_sessions.lock().unwrap_or_else(PoisonError::into_inner).iter().find(|(h, _)| *h == hashed)
        {
            return Ok(Some(WhoAmI::empty(tenant.clone())));
        }
        let Some(session) = self.store.session(&hashed, self.now())? else { return Ok(None) };
        if session.user.status != UserStatus::Active
            && self.policy.scim_deactivate_ends_sessions
            && !self.groups_let_in(&session.user)?
        {
            return Ok(None);
        }
        let user = session.user;
        // Only a tenant that gives licences has any to show, so the others
        // pay no extra read.
        let gives_licences =
            self.config.tenant(user.tenant.as_str()).is_some_and(|t| t.sign_in_rules.licence_at_sign_in.is_some());
        let licence = if gives_licences { self.store.licence(&user.id)? } else { None };
        let tenant_roles = self.config.tenant(user.tenant.as_str()).map(|t| t.roles.as_slice()).unwrap_or_default();
        let role = user.roles.iter().find(|r| tenant_roles.contains(r)).cloned();
        Ok(Some(WhoAmI {
            tenant: user.tenant,
            user_id: Some(user.id),
            email: Some(user.email),
            name: user.name,
            roles: user.roles,
            role,
            groups: session.groups,
            licence,
        }))
    }

    pub fn logout(&self, session_token: &str) -> Result<(), SpError> {
        Ok(self.store.delete_session(&hash_token(session_token))?)
    }

    /// The tenant's accounts (admin API).
    pub fn list_users(&self, tenant: &str) -> Result<Vec<User>, SpError> {
        let tenant = self.tenant(tenant)?;
        Ok(self.store.list_users(&tenant.id)?)
    }

    /// Creates a local user (admin API). Without a name, the email is the name.
    pub fn create_local_user(
        &self,
        tenant: &str,
        email: &str,
        name: &str,
        roles: Vec<String>,
    ) -> Result<User, SpError> {
        let tenant = self.tenant(tenant)?;
        let name = if name.is_empty() { email } else { name };
        if email::domain(email).is_none() {
            return Err(SpError::NoEmail);
        }
        let new = NewUser {
            tenant: tenant.id.clone(),
            email: email.trim().to_owned(),
            email_normalised: if self.policy.normalise_email { email::normalise(email) } else { email.to_owned() },
            name: name.to_owned(),
            roles,
        };
        Ok(self.store.create_user(new, UserId(new_id("usr")))?)
    }

    /// The break-glass admin's credentials check, in constant time.
    pub fn is_break_glass(&self, tenant: &str, email: &str, password: &str) -> bool {
        let Ok(tenant) = self.tenant(tenant) else { return false };
        let expected =
            hash_token(&format!("{}\n{}", email::normalise(&tenant.break_glass.email), tenant.break_glass.password));
        let given = hash_token(&format!("{}\n{password}", email::normalise(email)));
        same_secret(&given, &expected)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::parse_config;
    use crate::store::sqlite::SqliteStore;

    #[test]
    fn an_oidc_only_tenant_refuses_saml_sign_in_with_the_reason() {
        let text = crate::config::tests::acme_with(
            "oidc = { issuer = \"https://acme.okta.test\", client_id = \"0oa1\", client_auth = \"none\" }",
        );
        let config = parse_config("sp.toml", &text, Path::new(".")).unwrap();
        let sp = Sp::new(config, Arc::new(SqliteStore::in_memory().unwrap()), BTreeSet::new(), Arc::new(SystemClock))
            .unwrap();
        assert_eq!(sp.start_login("acme", None).unwrap_err().code(), "tenant.saml_not_configured");
        assert_eq!(sp.acs(Some("acme"), "PHg+", None, None).unwrap_err().code(), "tenant.saml_not_configured");
        assert_eq!(sp.saml_tenant("globex").unwrap().0.id.as_str(), "globex");
    }
}
