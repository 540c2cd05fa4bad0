//! The running identity provider: the org as it is now, the keys, the mock's
//! own browser sessions, sign-ins waiting at the login page, and armed faults.
//!
//! Methods here are synchronous and do no network IO; the HTTP layer calls them
//! directly on its worker threads (signing is short CPU work, see
//! [`crate::http`]). The time always comes from the injected [`Clock`].

mod bounded;
mod console;
mod logout;
mod oidc;
mod outage;
mod saml_keys;

use bounded::{BoundedList, BoundedMap};

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

use time::OffsetDateTime;

use crate::admin::{Applied, OktaApiError, OrgChange};
use crate::clock::{Clock, FixedClock, SystemClock};
use crate::ids::{AcsUrl, AppId, IdGenerator, RandomIds, SequentialIds, UserId};
use crate::keys::{KeyError, KeyStore, SigningCredential, deterministic};
use crate::org::{Org, SamlSettings};
use crate::saml::authn_request::{self, AuthnRequest, Binding};
use crate::saml::faults::SamlFault;
use crate::saml::{self, Credentials, SamlError, SamlFaultPlan, SignIn};

/// The most sign-ins kept waiting at the login page; older ones are dropped.
const MAX_PENDING: usize = 10_000;
/// The most mock browser sessions kept; older ones are dropped.
const MAX_SESSIONS: usize = 100_000;
/// The most faults kept armed at once (SAML and OIDC each); arming more
/// drops the oldest. A conformance run arms one or two per check.
pub const MAX_ARMED_FAULTS: usize = 10_000;
/// The most org changes kept for a subscriber that has not read them yet. A
/// subscriber that falls further behind is told how many it missed.
const CHANGE_BACKLOG: usize = 4096;

pub use console::ADMIN_CONSOLE_SESSION_LIFETIME;
pub use logout::LogoutOutcome;
pub use oidc::{
    ARMED_OIDC_FAULT_LIFETIME, ArmedOidcFault, AuthorizeOutcome, KeyInfo, MintedTokens, OidcState, PkceExchange,
    ProviderFetches, TokenResponse,
};
pub use outage::Outage;
pub use saml_keys::SamlKeys;

/// Where signing keys come from.
#[derive(Clone, Debug)]
pub enum KeySource {
    /// A key directory: one generated credential per app, kept across restarts.
    Directory(KeyStore),
    /// One credential for every app, from a PEM file or deterministic mode.
    Fixed(SigningCredential),
}

/// Everything needed to start an IdP.
pub struct IdpConfig {
    pub org: Org,
    pub keys: KeySource,
    pub untrusted: SigningCredential,
    /// The attacker's JWT key, for the OIDC key-injection faults.
    pub attacker_jwt: crate::oidc::keys::JwtKey,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
}

impl IdpConfig {
    /// Keys from a directory (generated on first use), the system clock and random ids.
    pub fn serving(org: Org, keys: KeySource) -> Result<Self, KeyError> {
        let untrusted = match &keys {
            KeySource::Directory(store) => store.load_or_create("untrusted", "attacker", SystemClock.now())?,
            KeySource::Fixed(_) => deterministic::untrusted(&org.name)?,
        };
        let attacker_jwt = attacker_jwt(&untrusted)?;
        Ok(IdpConfig { org, keys, untrusted, attacker_jwt, clock: Arc::new(SystemClock), ids: Arc::new(RandomIds) })
    }

    /// Fixed keys, a fixed clock and sequential ids: the same output on every run.
    /// [`crate::setup::IdpOptions::build`] replaces the clock with the one it
    /// loaded the org on, so that one clock decides deterministic mode's time.
    pub fn deterministic(org: Org) -> Result<Self, KeyError> {
        let untrusted = deterministic::untrusted(&org.name)?;
        Ok(IdpConfig {
            keys: KeySource::Fixed(deterministic::signing(&org.name)?),
            attacker_jwt: attacker_jwt(&untrusted)?,
            untrusted,
            org,
            clock: Arc::new(FixedClock::deterministic()),
            ids: Arc::new(SequentialIds::default()),
        })
    }
}

/// The attacker's JWT key is the attacker's SAML key, so one key plays the
/// attacker everywhere.
fn attacker_jwt(untrusted: &SigningCredential) -> Result<crate::oidc::keys::JwtKey, KeyError> {
    crate::oidc::keys::JwtKey::from_pem(&untrusted.key_pem, crate::org::oidc::SigningAlgorithm::Rs256, "attacker key")
        .map_err(|e| KeyError::BadKey { path: "attacker key".into(), reason: e.to_string() })
}

/// A fault waiting for the next response that matches its user and app.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ArmedSamlFault {
    pub id: String,
    #[serde(serialize_with = "serialize_display")]
    pub fault: SamlFault,
    pub impersonate: Option<String>,
    pub user: Option<UserId>,
    pub app: Option<AppId>,
}

fn serialize_display<S: serde::Serializer>(value: &SamlFault, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

#[derive(Clone, Debug)]
struct MockSession {
    user: UserId,
    authn_instant: OffsetDateTime,
}

/// A sign-in waiting for the user to be chosen at the login page.
#[derive(Clone, Debug)]
pub struct PendingSamlSignIn {
    pub app: AppId,
    pub request: Option<AuthnRequest>,
    pub acs_url: AcsUrl,
    pub relay_state: String,
}

/// A sign-in waiting at the login page: SAML or OIDC.
#[derive(Clone, Debug)]
enum Pending {
    Saml(PendingSamlSignIn),
    Oidc(Box<crate::oidc::authorize::ValidAuthorization>),
}

impl Pending {
    fn app(&self) -> &AppId {
        match self {
            Pending::Saml(pending) => &pending.app,
            Pending::Oidc(valid) => &valid.client,
        }
    }
}

/// Who the browser is: a `login_hint` (headless sign-in for CI) and the mock's
/// session cookie, if it has one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Browser<'a> {
    pub login_hint: Option<&'a str>,
    pub session: Option<&'a str>,
}

/// The result of a sign-in step.
#[derive(Debug)]
pub enum SsoOutcome {
    /// Post this SAML response to the SP. `session` is the mock session to set, if new.
    SamlPost { acs_url: String, response_xml: String, relay_state: String, session: Option<String> },
    /// Send the browser to the login page with this pending id.
    Login { pending: String },
    /// Send the browser back to an OIDC client with a code or an error.
    OidcReply { reply: crate::oidc::authorize::AuthorizeReply, session: Option<String> },
}

/// Errors of the running IdP. `Display` is the text of Okta's error page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdpError {
    #[error("Not found: Resource not found: {0} (AppInstance)")]
    AppNotFound(String),
    #[error("No user matches login_hint '{0}'.")]
    UnknownUser(String),
    #[error("This sign-in request has expired or was already used. Start again from the application.")]
    UnknownPending,
    #[error("{0}")]
    Saml(#[from] SamlError),
    #[error("signing key: {0}")]
    Key(String),
    #[error("{0}")]
    Oidc(crate::oidc::OidcError),
}

/// The running IdP.
pub struct Idp {
    org: RwLock<Org>,
    keys: KeySource,
    untrusted: SigningCredential,
    credentials: RwLock<HashMap<AppId, SigningCredential>>,
    /// Per app, the SAML signing keys generated for a certificate rollover
    /// that the app does not sign with yet; the metadata lists them after
    /// the active one. They live in memory only.
    generated_saml_keys: RwLock<HashMap<AppId, Vec<SigningCredential>>>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    faults: Mutex<BoundedList<ArmedSamlFault>>,
    sessions: Mutex<BoundedMap<MockSession>>,
    pending: Mutex<BoundedMap<Pending>>,
    oidc: OidcState,
    changes: tokio::sync::broadcast::Sender<OrgChange>,
    /// How many changes have been published, counted under the org lock, so
    /// a subscriber can tell when it has handled every change made so far.
    published_changes: AtomicU64,
    /// The SCIM provisioning engine, once one is started for this IdP.
    provisioner: OnceLock<Arc<crate::provisioning::Provisioner>>,
    /// The outage a test switched on, if any (see [`Outage`]).
    outage: RwLock<Option<Outage>>,
}

impl Idp {
    pub fn new(config: IdpConfig) -> Self {
        Idp {
            org: RwLock::new(config.org),
            keys: config.keys,
            untrusted: config.untrusted,
            credentials: RwLock::new(HashMap::new()),
            generated_saml_keys: RwLock::new(HashMap::new()),
            clock: config.clock,
            ids: config.ids,
            faults: Mutex::new(BoundedList::new(MAX_ARMED_FAULTS)),
            sessions: Mutex::new(BoundedMap::new(MAX_SESSIONS)),
            pending: Mutex::new(BoundedMap::new(MAX_PENDING)),
            oidc: OidcState::new(config.attacker_jwt),
            changes: tokio::sync::broadcast::Sender::new(CHANGE_BACKLOG),
            published_changes: AtomicU64::new(0),
            provisioner: OnceLock::new(),
            outage: RwLock::new(None),
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    pub fn ids(&self) -> &dyn IdGenerator {
        self.ids.as_ref()
    }

    /// Reads the org. A poisoned lock still holds consistent data, because no
    /// writer panics halfway (writers validate before they change anything).
    pub fn read_org<T>(&self, f: impl FnOnce(&Org) -> T) -> T {
        f(&self.org.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn write_org<T>(&self, f: impl FnOnce(&mut Org) -> T) -> T {
        f(&mut self.org.write().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs a management operation on the org and hands the changes it made
    /// to every subscriber (see [`Idp::subscribe_changes`]). `operation`
    /// returns its result and its changes; only the result is returned here.
    ///
    /// The changes are sent while the org lock is still held, so subscribers
    /// receive them in the order they were made. Sending never waits.
    pub fn change_org<T, E>(&self, operation: impl FnOnce(&mut Org) -> Result<(T, Vec<OrgChange>), E>) -> Result<T, E> {
        let mut org = self.org.write().unwrap_or_else(PoisonError::into_inner);
        let (result, changes) = operation(&mut org)?;
        for change in changes {
            // An error only means nobody is subscribed, which is fine.
            let _ = self.changes.send(change);
            self.published_changes.fetch_add(1, Ordering::SeqCst);
        }
        Ok(result)
    }

    /// Runs a management operation from [`crate::admin`] and publishes its
    /// changes, returning what it acted on.
    pub fn apply<T>(
        &self,
        operation: impl FnOnce(&mut Org) -> Result<Applied<T>, OktaApiError>,
    ) -> Result<T, OktaApiError> {
        self.change_org(|org| operation(org).map(|applied| (applied.subject, applied.changes)))
    }

    /// Receives every change that management operations make from now on,
    /// in order. A receiver that falls more than a few thousand changes
    /// behind gets `RecvError::Lagged` with the number it missed.
    pub fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<OrgChange> {
        self.changes.subscribe()
    }

    /// Like [`Idp::subscribe_changes`], with the number of changes published
    /// before the first one the receiver gets. Both are read under the org
    /// lock, which every publisher holds, so no change falls between them.
    pub fn subscribe_changes_counted(&self) -> (u64, tokio::sync::broadcast::Receiver<OrgChange>) {
        let _org = self.org.read().unwrap_or_else(PoisonError::into_inner);
        (self.published_changes.load(Ordering::SeqCst), self.changes.subscribe())
    }

    /// How many changes management operations have published so far.
    pub fn published_change_count(&self) -> u64 {
        self.published_changes.load(Ordering::SeqCst)
    }

    /// The SCIM provisioning engine, when one was started for this IdP.
    pub fn provisioner(&self) -> Option<Arc<crate::provisioning::Provisioner>> {
        self.provisioner.get().cloned()
    }

    /// Keeps the provisioning engine so the management API can reach it.
    /// Returns `false` when one was already kept.
    pub(crate) fn keep_provisioner(&self, provisioner: Arc<crate::provisioning::Provisioner>) -> bool {
        self.provisioner.set(provisioner).is_ok()
    }

    /// The key directory, when keys come from one.
    pub fn key_dir(&self) -> Option<PathBuf> {
        match &self.keys {
            KeySource::Directory(store) => Some(store.dir().to_path_buf()),
            KeySource::Fixed(_) => None,
        }
    }

    /// The app's SAML signing credential, generated and stored on first use.
    pub fn saml_credential(&self, app: &AppId) -> Result<SigningCredential, IdpError> {
        if let Some(found) = self.credentials.read().unwrap_or_else(PoisonError::into_inner).get(app) {
            return Ok(found.clone());
        }
        let credential = match &self.keys {
            KeySource::Fixed(credential) => credential.clone(),
            KeySource::Directory(store) => {
                let org_name = self.read_org(|org| org.name.clone());
                store
                    .load_or_create(&format!("saml-{app}"), &org_name, self.now())
                    .map_err(|e| IdpError::Key(e.to_string()))?
            }
        };
        self.credentials.write().unwrap_or_else(PoisonError::into_inner).insert(app.clone(), credential.clone());
        Ok(credential)
    }

    /// The metadata document of a SAML app, by its external key (Okta's
    /// `/app/{exk…}/sso/saml/metadata`) or by its `0oa…` id, the path older
    /// configurations of the mock point at.
    pub fn metadata(&self, key_or_id: &str) -> Result<String, IdpError> {
        let (org_url, app_id, settings) = self
            .read_org(|org| {
                let app = org.find_saml_app_by_key_or_id(key_or_id)?;
                Some((org.url.clone(), app.id.clone(), app.saml()?.clone()))
            })
            .ok_or_else(|| IdpError::AppNotFound(key_or_id.to_owned()))?;
        let credential = self.saml_credential(&app_id)?;
        let generated = self.generated_saml_keys(&app_id);
        let certificates: Vec<&str> = std::iter::once(credential.cert_base64_wrapped())
            .chain(generated.iter().map(SigningCredential::cert_base64_wrapped))
            .collect();
        Ok(saml::metadata::render(&org_url, &settings, &certificates))
    }

    /// Arms a fault for the next response to the given user and app (either may be any).
    pub fn arm_saml_fault(&self, plan: SamlFaultPlan, user: Option<UserId>, app: Option<AppId>) -> ArmedSamlFault {
        let armed =
            ArmedSamlFault { id: self.ids.opaque_token(), fault: plan.fault, impersonate: plan.impersonate, user, app };
        self.faults.lock().unwrap_or_else(PoisonError::into_inner).push(armed.clone());
        armed
    }

    pub fn armed_saml_faults(&self) -> Vec<ArmedSamlFault> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner).to_vec()
    }

    pub fn clear_saml_faults(&self) {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    fn take_saml_fault(&self, user: &UserId, app: &AppId) -> Option<SamlFaultPlan> {
        let mut faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        let armed = faults
            .take_first(|f| f.user.as_ref().is_none_or(|u| u == user) && f.app.as_ref().is_none_or(|a| a == app))?;
        Some(SamlFaultPlan { fault: armed.fault, impersonate: armed.impersonate })
    }

    /// SP-initiated sign-in at `/app/{org}_{appslug}_{n}/{exk…}/sso/saml`
    /// (or the older `/app/{name}/{0oa…}/sso/saml`).
    pub fn sp_initiated(
        &self,
        app_name: &str,
        app_id: &str,
        received: authn_request::ReceivedRequest<'_>,
        browser: Browser<'_>,
    ) -> Result<SsoOutcome, IdpError> {
        let authn_request::ReceivedRequest { saml_request, binding, relay_state, raw_query } = received;
        let (app, settings) = self.find_saml_app(app_name, app_id)?;
        let xml = authn_request::decode(saml_request, binding).map_err(SamlError::from)?;
        let request = authn_request::parse(&xml).map_err(SamlError::from)?;
        // Okta's signed requests: checked after the request parsed (so a DTD
        // was already refused), before anything it asks for is used.
        if let Some(certificate) = &settings.request_signing_certificate {
            match binding {
                Binding::Redirect => {
                    saml::request_signature::verify_redirect(raw_query.unwrap_or_default(), certificate)
                }
                Binding::Post => saml::request_signature::verify_post(&xml, certificate),
            }
            .map_err(SamlError::from)?;
        }
        let acs_url = saml::choose_acs(&settings, &request)?;
        let fresh_login_required = request.force_authn && settings.honor_force_authn;
        let pending =
            PendingSamlSignIn { app, request: Some(request), acs_url, relay_state: relay_state.unwrap_or_default() };
        self.continue_sign_in(pending, browser.login_hint, if fresh_login_required { None } else { browser.session })
    }

    /// IdP-initiated sign-in at Okta's embed link, `/home/{appName}/{appId}/…`.
    pub fn idp_initiated(
        &self,
        app_name: &str,
        app_id: &str,
        relay_state: Option<String>,
        browser: Browser<'_>,
    ) -> Result<SsoOutcome, IdpError> {
        let (app, settings) = self.find_saml_app(app_name, app_id)?;
        let pending = PendingSamlSignIn {
            app,
            request: None,
            acs_url: settings.sso_url.clone(),
            relay_state: relay_state.unwrap_or_else(|| settings.default_relay_state.clone()),
        };
        self.continue_sign_in(pending, browser.login_hint, browser.session)
    }

    /// The users the login page offers for a pending sign-in, as (login, display name).
    pub fn login_choices(&self, pending: &str) -> Result<(String, Vec<(String, String)>), IdpError> {
        // Only the app id is copied out: a waiting OIDC sign-in carries its
        // whole validated request.
        let app_id =
            self.pending.lock().unwrap_or_else(PoisonError::into_inner).map.get(pending).map(|p| p.app().clone());
        let app_id = app_id.ok_or(IdpError::UnknownPending)?;
        self.read_org(|org| {
            let app = org.apps.get(&app_id).ok_or_else(|| IdpError::AppNotFound(app_id.to_string()))?;
            let users = org
                .assigned_users(app)
                .into_iter()
                .filter(|u| u.status.can_sign_in())
                .map(|u| (u.profile.login.clone(), format!("{} {}", u.profile.first_name, u.profile.last_name)))
                .collect();
            Ok((app.label.clone(), users))
        })
    }

    /// The login page's answer: the chosen user signs in and the pending sign-in completes.
    pub fn complete_login(&self, pending: &str, login: &str) -> Result<SsoOutcome, IdpError> {
        let waiting = {
            let mut guard = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            guard.map.remove(pending)
        };
        match waiting.ok_or(IdpError::UnknownPending)? {
            Pending::Saml(waiting) => self.continue_sign_in(waiting, Some(login), None),
            Pending::Oidc(valid) => self.complete_oidc_login(*valid, login),
        }
    }

    /// Keeps a sign-in for the login page and returns its id.
    fn remember_pending(&self, pending: Pending) -> String {
        let token = self.ids.opaque_token();
        self.pending.lock().unwrap_or_else(PoisonError::into_inner).insert(token.clone(), pending);
        token
    }

    /// The id and SAML settings of the active SAML app an embed or SSO URL
    /// names; only what sign-in needs is copied out of the org. Okta's URLs
    /// carry the instance name and the external key (SSO) or app id (embed
    /// link); the mock's older URLs, the app's name and its id, still work.
    fn find_saml_app(&self, app_name: &str, key_or_id: &str) -> Result<(AppId, SamlSettings), IdpError> {
        self.read_org(|org| {
            let app = org.find_saml_app_by_key_or_id(key_or_id).filter(|a| a.active)?;
            let settings = app.saml()?;
            (settings.instance_name == app_name || app.name == app_name).then(|| (app.id.clone(), settings.clone()))
        })
        .ok_or_else(|| IdpError::AppNotFound(key_or_id.to_owned()))
    }

    fn continue_sign_in(
        &self,
        pending: PendingSamlSignIn,
        login_hint: Option<&str>,
        session: Option<&str>,
    ) -> Result<SsoOutcome, IdpError> {
        let now = self.now();
        let (user_id, authn_instant, new_session) = if let Some(login) = login_hint {
            let user = self.read_org(|org| org.find_user(login).map(|u| u.id.clone()));
            let user = user.ok_or_else(|| IdpError::UnknownUser(login.to_owned()))?;
            let token = self.ids.opaque_token();
            self.remember_session(&token, MockSession { user: user.clone(), authn_instant: now });
            (user, now, Some(token))
        } else if let Some(existing) = session.and_then(|token| self.session(token)) {
            (existing.user, existing.authn_instant, None)
        } else {
            let token = self.remember_pending(Pending::Saml(pending));
            return Ok(SsoOutcome::Login { pending: token });
        };
        let response_xml = self.respond(&pending, &user_id, authn_instant)?;
        Ok(SsoOutcome::SamlPost {
            acs_url: pending.acs_url.0.clone(),
            response_xml,
            relay_state: pending.relay_state,
            session: new_session,
        })
    }

    fn session(&self, token: &str) -> Option<MockSession> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner).map.get(token).cloned()
    }

    fn remember_session(&self, token: &str, session: MockSession) {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner).insert(token.to_owned(), session);
    }

    /// Checks access and issues the signed response, applying an armed fault.
    fn respond(
        &self,
        pending: &PendingSamlSignIn,
        user_id: &UserId,
        authn_instant: OffsetDateTime,
    ) -> Result<String, IdpError> {
        let now = self.now();
        let credential = self.saml_credential(&pending.app)?;
        let org = self.org.read().unwrap_or_else(PoisonError::into_inner);
        let app = org.apps.get(&pending.app).ok_or_else(|| IdpError::AppNotFound(pending.app.to_string()))?;
        let user = org.users.get(user_id).ok_or_else(|| IdpError::UnknownUser(user_id.to_string()))?;
        let settings = app.saml().ok_or_else(|| IdpError::AppNotFound(pending.app.to_string()))?;
        let credentials = Credentials {
            signing: credential,
            untrusted: self.untrusted.clone(),
            encryption: settings.assertion_encryption.clone(),
        };
        saml::check_access(&org, app, user)?;
        let sign_in = SignIn {
            org: &org,
            app,
            settings,
            user,
            in_response_to: pending.request.as_ref().map(|r| r.id.clone()),
            acs_url: pending.acs_url.clone(),
            authn_instant,
        };
        let content = saml::build_content(&sign_in, credentials.signing.cert_base64_wrapped(), now, self.ids.as_ref());
        let plan = self.take_saml_fault(user_id, &app.id);
        let fault = plan.as_ref().map(|plan| (plan, &*org, user));
        Ok(saml::issue(content, fault, &credentials, now)?)
    }

    /// Issues a response offline, as `mockta saml mint` does: no browser, but
    /// the same access checks. `in_response_to` makes it SP-initiated.
    pub fn mint_saml(
        &self,
        app: &str,
        login: &str,
        fault: Option<SamlFaultPlan>,
        in_response_to: Option<String>,
    ) -> Result<MintedSamlResponse, IdpError> {
        let (app_id, user_id, acs_url, relay_state) = self.read_org(|org| {
            let found = org.find_app(app).ok_or_else(|| IdpError::AppNotFound(app.to_owned()))?;
            let settings = found.saml().ok_or_else(|| IdpError::AppNotFound(app.to_owned()))?;
            let user = org.find_user(login).ok_or_else(|| IdpError::UnknownUser(login.to_owned()))?;
            Ok::<_, IdpError>((
                found.id.clone(),
                user.id.clone(),
                settings.sso_url.clone(),
                settings.default_relay_state.clone(),
            ))
        })?;
        if let Some(plan) = fault {
            self.arm_saml_fault(plan, Some(user_id.clone()), Some(app_id.clone()));
        }
        let request = in_response_to.map(|id| AuthnRequest {
            id,
            issuer: None,
            acs_url: None,
            acs_index: None,
            force_authn: false,
            is_passive: false,
            destination: None,
        });
        let pending =
            PendingSamlSignIn { app: app_id, request, acs_url: acs_url.clone(), relay_state: relay_state.clone() };
        let xml = self.respond(&pending, &user_id, self.now())?;
        Ok(MintedSamlResponse { xml, acs_url: acs_url.0, relay_state })
    }
}

/// A SAML response minted offline.
#[derive(Clone, Debug)]
pub struct MintedSamlResponse {
    pub xml: String,
    pub acs_url: String,
    pub relay_state: String,
}
