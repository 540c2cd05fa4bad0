//! The running provisioning engine: Okta's SCIM client inside the mock.
//!
//! [`Provisioner::start`] subscribes to the IdP's org changes and, for each,
//! runs the operations [`crate::scim::plan_change`] plans, one request at a
//! time, through the one HTTP module ([`transport`]). Every exchange goes
//! into a bounded transcript; an operation that fails becomes a failed task
//! that can be listed and retried, as in Okta's provisioning dashboard. The
//! manual operations ("Test API Credentials", "Push now", import) run
//! through the same engine, one operation at a time, so their requests never
//! interleave with those an org change causes.

mod records;
pub mod transport;

pub use records::{
    CredentialsCheck, Exchange, FailedTask, PushSummary, RecordedRequest, RecordedResponse, TaskFailure,
};

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::broadcast::error::RecvError;

use crate::admin::OrgChange;
use crate::idp::Idp;
use crate::ids::{AppId, GroupId, UserId};
use crate::org::Org;
use crate::org::provisioning::{OAuthClientSettings, RequestProfile, ScimAuthentication, UserLink};
use crate::scim::faults::{self, ArmedFaults, ScimFault};
use crate::scim::oauth::{self, OAuthTokens, TokenGrant};
use crate::scim::plan::{MembershipDirection, plan_push};
use crate::scim::requests::{self, ImportResource, Member, MembershipEdit};
use crate::scim::{
    ImportReport, Operation, PAGE_SIZE, ReplyError, ScimRequest, ScimResponse, UserAction, UserView, decide_user,
    match_import, plan_change, read_list, read_resource, require_success,
};
use transport::{HttpTransport, TransportBuildError};

/// How long Okta waits for a SCIM reply: 60 s, as Okta's SCIM FAQ states.
pub const OKTA_TIMEOUT: Duration = Duration::from_secs(60);
/// The most exchanges the transcript keeps; older ones are dropped.
pub const TRANSCRIPT_LIMIT: usize = 10_000;
/// The most failed tasks kept; older ones are dropped.
pub const TASK_LIMIT: usize = 1_000;

/// How long an armed SCIM fault stays armed, on the IdP's clock, so a
/// forgotten fault cannot skew every later run.
pub const ARMED_SCIM_FAULT_LIFETIME: time::Duration = time::Duration::minutes(10);
/// The most SCIM faults armed at once; arming another drops the oldest.
pub const ARMED_SCIM_FAULT_LIMIT: usize = 100;

/// How long an OAuth 2.0 authorization may wait for its callback, on the
/// IdP's clock (a model; Okta documents none).
pub const OAUTH_AUTHORIZATION_LIFETIME: time::Duration = time::Duration::minutes(10);
/// The most OAuth 2.0 authorizations waiting at once; starting another drops
/// the oldest.
pub const OAUTH_PENDING_LIMIT: usize = 100;

/// An OAuth 2.0 authorization started for an app: where to send the admin.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationStart {
    pub app: AppId,
    pub authorize_url: String,
    pub redirect_uri: String,
    /// When the authorization stops waiting for its callback (RFC 3339).
    pub expires: String,
}

/// What the SP sent back to the callback: a code, or RFC 6749 §4.1.2.1's
/// error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizationReply {
    Code(String),
    Error { error: String, description: Option<String> },
}

/// An authorization waiting for its callback.
#[derive(Clone, Debug)]
struct PendingAuthorization {
    state: String,
    app: AppId,
    redirect_uri: String,
    expires_at: OffsetDateTime,
}

/// The OAuth 2.0 tokens held per app, in memory only, and the
/// authorizations waiting for their callback.
#[derive(Default)]
struct OAuthState {
    tokens: BTreeMap<AppId, HeldTokens>,
    pending: VecDeque<PendingAuthorization>,
}

/// Tokens and the authorization server and client they came from: tokens
/// obtained before the connection's OAuth settings changed are not sent to
/// the new ones.
#[derive(Clone, Debug)]
struct HeldTokens {
    issuer: String,
    tokens: OAuthTokens,
}

fn token_issuer(settings: &OAuthClientSettings) -> String {
    format!("{} {}", settings.token_url, settings.client_id)
}

impl OAuthState {
    /// The tokens held for the app under these settings.
    fn held(&self, app: &AppId, settings: &OAuthClientSettings) -> Option<OAuthTokens> {
        self.tokens.get(app).filter(|held| held.issuer == token_issuer(settings)).map(|held| held.tokens.clone())
    }

    fn hold(&mut self, app: &AppId, settings: &OAuthClientSettings, tokens: OAuthTokens) {
        self.tokens.insert(app.clone(), HeldTokens { issuer: token_issuer(settings), tokens });
    }
}

/// A SCIM fault armed through the management API or `mockta scim --fault`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ArmedScimFault {
    pub id: String,
    pub fault: ScimFault,
    /// The app it acts on; every provisioning app when absent.
    pub app: Option<AppId>,
    pub armed: String,
    pub expires: String,
    #[serde(skip)]
    expires_at: OffsetDateTime,
}

/// What pushing or unlinking one group did.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GroupTaskResult {
    pub app: AppId,
    pub group: GroupId,
    /// The failed task's id, when the operation failed.
    pub failed_task: Option<String>,
}

/// When a request is sent again. Okta documents no retry policy for its SCIM
/// client (a failing create is reported to be retried "indefinitely, about
/// every 30 minutes"), so this is a model: a 429, a 5xx or no reply at all
/// is tried again up to `attempts` times in all, after the reply's
/// `Retry-After` or else `first_delay` doubled each time, never longer than
/// `longest_delay`. What still fails becomes a failed task to retry by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_delay: Duration,
    pub longest_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { attempts: 3, first_delay: Duration::from_secs(1), longest_delay: Duration::from_secs(60) }
    }
}

impl RetryPolicy {
    /// The wait before attempt `next` (2 for the first retry).
    fn delay(&self, next: u32, retry_after: Option<Duration>) -> Duration {
        let doubled = self.first_delay.saturating_mul(2u32.saturating_pow(next.saturating_sub(2)));
        retry_after.unwrap_or(doubled).min(self.longest_delay)
    }
}

/// The engine's settings.
#[derive(Clone, Copy, Debug)]
pub struct ProvisionerOptions {
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub transcript_limit: usize,
    pub task_limit: usize,
}

impl Default for ProvisionerOptions {
    fn default() -> Self {
        ProvisionerOptions {
            timeout: OKTA_TIMEOUT,
            retry: RetryPolicy::default(),
            transcript_limit: TRANSCRIPT_LIMIT,
            task_limit: TASK_LIMIT,
        }
    }
}

/// Errors of the provisioning engine and its manual operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvisioningError {
    #[error("no app '{0}' in this org")]
    UnknownApp(String),
    #[error("the app '{0}' has no SCIM provisioning settings")]
    NotProvisioned(String),
    #[error("the app '{app}' does not have the {feature} feature on")]
    FeatureOff { app: String, feature: &'static str },
    #[error("no group '{0}' in this org")]
    UnknownGroup(String),
    #[error("the group '{group}' is not pushed to the app '{app}'")]
    NotPushed { app: String, group: String },
    #[error("no failed provisioning task '{0}'")]
    UnknownTask(String),
    #[error("a provisioning engine is already running for this IdP")]
    AlreadyRunning,
    #[error("{0}")]
    Build(String),
    #[error("the IdP has stopped")]
    IdpGone,
    #[error("the app '{0}' does not authenticate by OAuth 2.0")]
    NotOAuth(String),
    #[error("the app '{0}' has its provisioning connection deactivated")]
    ConnectionInactive(String),
    #[error("no OAuth 2.0 authorization is waiting for this state: it was never started, was used, or expired")]
    UnknownAuthorization,
    #[error("the SP refused the authorization: {error}{}", description.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    AuthorizationRefused { error: String, description: Option<String> },
    #[error("{0}")]
    Failed(#[from] TaskFailure),
}

impl ProvisioningError {
    /// A stable code for the error.
    pub fn code(&self) -> &'static str {
        match self {
            ProvisioningError::UnknownApp(_) => "provisioning.unknown_app",
            ProvisioningError::NotProvisioned(_) => "provisioning.not_configured",
            ProvisioningError::FeatureOff { .. } => "provisioning.feature_off",
            ProvisioningError::UnknownTask(_) => "provisioning.unknown_task",
            ProvisioningError::UnknownGroup(_) => "provisioning.unknown_group",
            ProvisioningError::NotPushed { .. } => "provisioning.group_not_pushed",
            ProvisioningError::AlreadyRunning => "provisioning.already_running",
            ProvisioningError::Build(_) => "provisioning.client",
            ProvisioningError::IdpGone => "provisioning.stopped",
            ProvisioningError::NotOAuth(_) => "provisioning.not_oauth",
            ProvisioningError::ConnectionInactive(_) => "provisioning.connection_inactive",
            ProvisioningError::UnknownAuthorization => "oauth.unknown_state",
            ProvisioningError::AuthorizationRefused { .. } => "oauth.authorization_refused",
            ProvisioningError::Failed(failure) => failure.code(),
        }
    }
}

impl From<TransportBuildError> for ProvisioningError {
    fn from(error: TransportBuildError) -> Self {
        ProvisioningError::Build(error.to_string())
    }
}

/// What Okta needs to talk to one app's SCIM server.
#[derive(Clone)]
struct Connection {
    app: AppId,
    base_url: String,
    authentication: ScimAuthentication,
    redacted_authorization: String,
    /// Whether the connection is active; an inactive one sends nothing.
    active: bool,
    profile: RequestProfile,
    sync_password: bool,
    push_groups: bool,
    push_profile_updates: bool,
    /// The SCIM faults armed for the app when the operation started.
    faults: ArmedFaults,
}

impl Connection {
    fn of(org: &Org, app: &AppId) -> Option<Self> {
        let settings = org.apps.get(app)?.provisioning.as_ref()?;
        Some(Connection {
            app: app.clone(),
            base_url: settings.base_url.clone(),
            authentication: settings.authentication.clone(),
            redacted_authorization: settings.authentication.redacted(),
            active: settings.connection_active,
            profile: settings.request_profile,
            sync_password: settings.features.sync_password,
            push_groups: settings.features.push_groups,
            push_profile_updates: settings.features.push_profile_updates,
            faults: ArmedFaults::default(),
        })
    }
}

/// The transcript and failed tasks, behind one lock.
struct Records {
    transcript: VecDeque<Exchange>,
    next_sequence: u64,
    tasks: VecDeque<FailedTask>,
}

/// The running provisioning engine of one IdP.
pub struct Provisioner {
    /// Weak, because the IdP keeps the engine ([`Idp::provisioner`]).
    idp: Weak<Idp>,
    transport: HttpTransport,
    options: ProvisionerOptions,
    /// Held while an operation runs, so operations never interleave.
    work: tokio::sync::Mutex<()>,
    records: Mutex<Records>,
    /// Armed SCIM faults, oldest first.
    faults: Mutex<VecDeque<ArmedScimFault>>,
    /// OAuth 2.0 tokens and waiting authorizations.
    oauth: Mutex<OAuthState>,
    /// How many published org changes the engine has handled.
    handled: tokio::sync::watch::Sender<u64>,
}

impl Provisioner {
    /// Starts the engine for an IdP on the current tokio runtime: it handles
    /// every org change published from now on. The IdP keeps it, so the
    /// management API reaches it through [`Idp::provisioner`].
    pub fn start(idp: &Arc<Idp>, options: ProvisionerOptions) -> Result<Arc<Self>, ProvisioningError> {
        let transport = HttpTransport::new(options.timeout)?;
        let (published, receiver) = idp.subscribe_changes_counted();
        let provisioner = Arc::new(Provisioner {
            idp: Arc::downgrade(idp),
            transport,
            options,
            work: tokio::sync::Mutex::new(()),
            records: Mutex::new(Records { transcript: VecDeque::new(), next_sequence: 1, tasks: VecDeque::new() }),
            faults: Mutex::new(VecDeque::new()),
            oauth: Mutex::new(OAuthState::default()),
            handled: tokio::sync::watch::Sender::new(published),
        });
        if !idp.keep_provisioner(provisioner.clone()) {
            return Err(ProvisioningError::AlreadyRunning);
        }
        tokio::spawn(provisioner.clone().handle_changes(receiver));
        Ok(provisioner)
    }

    /// Waits until every org change published before this call has been
    /// handled (its requests sent and answered, or its task failed).
    pub async fn wait_idle(&self) {
        let Some(idp) = self.idp.upgrade() else { return };
        let target = idp.published_change_count();
        drop(idp);
        let mut handled = self.handled.subscribe();
        // An error means the engine stopped, so nothing is left to wait for.
        let _ = handled.wait_for(|count| *count >= target).await;
    }

    async fn handle_changes(self: Arc<Self>, mut receiver: tokio::sync::broadcast::Receiver<OrgChange>) {
        loop {
            let handled = match receiver.recv().await {
                Ok(change) => {
                    self.handle_change(&change).await;
                    1
                }
                Err(RecvError::Lagged(missed)) => {
                    // The changes that were missed are unknown, so every
                    // provisioning app is brought in line, as "Push now" does.
                    tracing::warn!(missed, "the provisioning engine fell behind; pushing every app");
                    self.push_every_app().await;
                    missed
                }
                Err(RecvError::Closed) => return,
            };
            self.handled.send_modify(|count| *count += handled);
        }
    }

    async fn handle_change(&self, change: &OrgChange) {
        let Some(idp) = self.idp.upgrade() else { return };
        let operations = idp.read_org(|org| plan_change(org, change));
        for operation in operations {
            self.run_as_task(&idp, operation).await;
        }
    }

    async fn push_every_app(&self) {
        let Some(idp) = self.idp.upgrade() else { return };
        let apps: Vec<AppId> = idp.read_org(|org| {
            org.apps.values().filter(|app| app.provisioning.is_some()).map(|app| app.id.clone()).collect()
        });
        for app in apps {
            let operations = idp.read_org(|org| plan_push(org, &app));
            for operation in operations {
                self.run_as_task(&idp, operation).await;
            }
        }
    }

    /// Runs an operation; a failure becomes a failed task, whose id is
    /// returned.
    async fn run_as_task(&self, idp: &Idp, operation: Operation) -> Option<String> {
        let _turn = self.work.lock().await;
        let failure = self.run(idp, &operation).await.err()?;
        tracing::warn!(operation = %operation.label(), error = %failure, "SCIM provisioning task failed");
        let now = time_text(idp.now());
        let task = FailedTask {
            id: idp.ids().opaque_token(),
            app: operation.app().clone(),
            label: operation.label(),
            operation,
            status: failure.status(),
            code: failure.code(),
            error: failure.to_string(),
            runs: 1,
            created: now.clone(),
            last_run: now,
        };
        let id = task.id.clone();
        let mut records = self.lock_records();
        records.tasks.push_back(task);
        while records.tasks.len() > self.options.task_limit {
            records.tasks.pop_front();
        }
        Some(id)
    }

    fn lock_records(&self) -> std::sync::MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_oauth(&self) -> std::sync::MutexGuard<'_, OAuthState> {
        self.oauth.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_faults(&self) -> std::sync::MutexGuard<'_, VecDeque<ArmedScimFault>> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Arms a SCIM fault for one app (by id or name), or for every
    /// provisioning app when none is named. It acts on every operation that
    /// starts until it is cleared or expires.
    pub fn arm_fault(&self, fault: ScimFault, app: Option<&str>) -> Result<ArmedScimFault, ProvisioningError> {
        let idp = self.idp.upgrade().ok_or(ProvisioningError::IdpGone)?;
        let app = app.map(|app| self.provisioning_app(&idp, app)).transpose()?;
        let now = idp.now();
        let expires_at = now + ARMED_SCIM_FAULT_LIFETIME;
        let armed = ArmedScimFault {
            id: idp.ids().opaque_token(),
            fault,
            app,
            armed: time_text(now),
            expires: time_text(expires_at),
            expires_at,
        };
        let mut armed_faults = self.lock_faults();
        armed_faults.retain(|f| f.expires_at > now);
        armed_faults.push_back(armed.clone());
        while armed_faults.len() > ARMED_SCIM_FAULT_LIMIT {
            armed_faults.pop_front();
        }
        Ok(armed)
    }

    /// The faults armed now, oldest first; expired ones are dropped.
    pub fn armed_faults(&self) -> Vec<ArmedScimFault> {
        let now = self.idp.upgrade().map(|idp| idp.now());
        let mut armed_faults = self.lock_faults();
        if let Some(now) = now {
            armed_faults.retain(|f| f.expires_at > now);
        }
        armed_faults.iter().cloned().collect()
    }

    /// Disarms every SCIM fault.
    pub fn clear_faults(&self) {
        self.lock_faults().clear();
    }

    /// The faults that act on an operation for the app now.
    fn faults_for(&self, idp: &Idp, app: &AppId) -> ArmedFaults {
        let now = idp.now();
        let armed_faults = self.lock_faults();
        ArmedFaults::new(
            armed_faults
                .iter()
                .filter(|f| f.expires_at > now && f.app.as_ref().is_none_or(|armed| armed == app))
                .map(|f| f.fault),
        )
    }

    /// Adds a group to the app's "Push Groups" and pushes it now: found by
    /// `displayName`, created or linked, then its whole membership.
    pub async fn push_group_now(&self, app: &str, group: &str) -> Result<GroupTaskResult, ProvisioningError> {
        let idp = self.idp.upgrade().ok_or(ProvisioningError::IdpGone)?;
        let app = self.provisioning_app(&idp, app)?;
        let group_id = idp
            .read_org(|org| org.find_group(group).map(|g| g.id.clone()))
            .ok_or_else(|| ProvisioningError::UnknownGroup(group.to_owned()))?;
        update_settings(&idp, &app, |settings| {
            if !settings.pushed_groups.contains(&group_id) {
                settings.pushed_groups.push(group_id.clone());
            }
        });
        let operation = Operation::PushGroup { app: app.clone(), group: group_id.clone() };
        let failed_task = self.run_as_task(&idp, operation).await;
        Ok(GroupTaskResult { app, group: group_id, failed_task })
    }

    /// Unlinks a pushed group: it is no longer pushed or linked. With
    /// `delete_in_app`, Okta first sends `DELETE /Groups/{id}`; without, no
    /// request is sent and the group stays in the app.
    pub async fn unlink_group(
        &self,
        app: &str,
        group: &str,
        delete_in_app: bool,
    ) -> Result<GroupTaskResult, ProvisioningError> {
        let idp = self.idp.upgrade().ok_or(ProvisioningError::IdpGone)?;
        let app = self.provisioning_app(&idp, app)?;
        let group_id = idp
            .read_org(|org| org.find_group(group).map(|g| g.id.clone()))
            .ok_or_else(|| ProvisioningError::UnknownGroup(group.to_owned()))?;
        let pushed = idp.read_org(|org| {
            org.apps.get(&app).and_then(|a| a.provisioning.as_ref()).is_some_and(|settings| {
                settings.pushed_groups.contains(&group_id) || settings.links.groups.contains_key(&group_id)
            })
        });
        if !pushed {
            return Err(ProvisioningError::NotPushed { app: app.to_string(), group: group.to_owned() });
        }
        let operation = Operation::UnlinkGroup { app: app.clone(), group: group_id.clone(), delete_in_app };
        let failed_task = self.run_as_task(&idp, operation).await;
        Ok(GroupTaskResult { app, group: group_id, failed_task })
    }

    /// Every exchange kept, oldest first.
    pub fn transcript(&self) -> Vec<Exchange> {
        self.lock_records().transcript.iter().cloned().collect()
    }

    /// The exchanges after `sequence`, for a caller that has read the
    /// earlier ones.
    pub fn transcript_after(&self, sequence: u64) -> Vec<Exchange> {
        self.lock_records().transcript.iter().filter(|e| e.sequence > sequence).cloned().collect()
    }

    /// Empties the transcript; sequence numbers keep counting.
    pub fn clear_transcript(&self) {
        self.lock_records().transcript.clear();
    }

    /// The failed tasks, oldest first.
    pub fn failed_tasks(&self) -> Vec<FailedTask> {
        self.lock_records().tasks.iter().cloned().collect()
    }

    /// Runs a failed task again, on the org as it is now. On success the
    /// task is gone; on failure it stays with the new error.
    pub async fn retry_task(&self, id: &str) -> Result<(), ProvisioningError> {
        let idp = self.idp.upgrade().ok_or(ProvisioningError::IdpGone)?;
        let operation = self
            .lock_records()
            .tasks
            .iter()
            .find(|task| task.id == id)
            .map(|task| task.operation.clone())
            .ok_or_else(|| ProvisioningError::UnknownTask(id.to_owned()))?;
        let outcome = {
            let _turn = self.work.lock().await;
            self.run(&idp, &operation).await
        };
        let mut records = self.lock_records();
        match outcome {
            Ok(()) => {
                records.tasks.retain(|task| task.id != id);
                Ok(())
            }
            Err(failure) => {
                if let Some(task) = records.tasks.iter_mut().find(|task| task.id == id) {
                    task.runs += 1;
                    task.status = failure.status();
                    task.code = failure.code();
                    task.error = failure.to_string();
                    task.last_run = time_text(idp.now());
                }
                Err(failure.into())
            }
        }
    }

    /// The app's id, checking that it provisions and that its connection
    /// is active.
    fn provisioning_app(&self, idp: &Idp, app: &str) -> Result<AppId, ProvisioningError> {
        let (id, active) = self.configured_app(idp, app)?;
        if !active {
            return Err(ProvisioningError::ConnectionInactive(app.to_owned()));
        }
        Ok(id)
    }

    /// The app's id and whether its connection is active, checking that it
    /// provisions.
    fn configured_app(&self, idp: &Idp, app: &str) -> Result<(AppId, bool), ProvisioningError> {
        idp.read_org(|org| {
            let found = org.find_app(app).ok_or_else(|| ProvisioningError::UnknownApp(app.to_owned()))?;
            let Some(settings) = found.provisioning.as_ref() else {
                return Err(ProvisioningError::NotProvisioned(app.to_owned()));
            };
            Ok((found.id.clone(), settings.connection_active))
        })
    }

    /// "Test API Credentials": `GET /Users?startIndex=1&count=2`.
    pub async fn test_credentials(&self, app: &str) -> Result<CredentialsCheck, ProvisioningError> {
        let idp = self.idp.upgrade().ok_or(ProvisioningError::IdpGone)?;
        // Okta tests credentials before the integration is enabled, so an
        // inactive connection may be tested.
        let (app, _) = self.configured_app(&idp, app)?;
        let connection = idp.read_org(|org| Connection::of(org, &app)).ok_or(ProvisioningError::IdpGone)?;
        let _turn = self.work.lock().await;
        let label = Operation::TestCredentials { app: app.clone() }.label();
        let response = self.send(&idp, &connection, &label, requests::test_credentials()).await?;
        let page = read_list(&response, false).map_err(TaskFailure::from)?;
        Ok(CredentialsCheck { app, status: response.status, total_results: page.total_results })
    }

    /// "Push now": provisions every assigned user and pushes every pushed
    /// group of the app. Failures become failed tasks, named in the summary.
    pub async fn push_now(&self, app: &str) -> Result<PushSummary, ProvisioningError> {
        let idp = self.idp.upgrade().ok_or(ProvisioningError::IdpGone)?;
        let app = self.provisioning_app(&idp, app)?;
        let operations = idp.read_org(|org| plan_push(org, &app));
        let mut summary = PushSummary { app, operations: operations.len(), failed_tasks: Vec::new() };
        for operation in operations {
            if let Some(task) = self.run_as_task(&idp, operation).await {
                summary.failed_tasks.push(task);
            }
        }
        Ok(summary)
    }

    /// Imports users and groups (as the app's import features allow): paged
    /// `GET /Users` and `GET /Groups` until `totalResults` is reached,
    /// matched to the org.
    pub async fn import(&self, app: &str) -> Result<ImportReport, ProvisioningError> {
        let idp = self.idp.upgrade().ok_or(ProvisioningError::IdpGone)?;
        let app = self.provisioning_app(&idp, app)?;
        let (connection, features) = idp
            .read_org(|org| {
                let features = org.apps.get(&app)?.provisioning.as_ref()?.features;
                Some((Connection::of(org, &app)?, features))
            })
            .ok_or(ProvisioningError::IdpGone)?;
        if !features.import_users && !features.import_groups {
            return Err(ProvisioningError::FeatureOff { app: app.to_string(), feature: "import_users" });
        }
        let _turn = self.work.lock().await;
        let label = Operation::Import { app: app.clone() }.label();
        let mut users = Vec::new();
        if features.import_users {
            users = self.read_all(&idp, &connection, &label, ImportResource::Users).await?;
        }
        let mut groups = Vec::new();
        if features.import_groups {
            groups = self.read_all(&idp, &connection, &label, ImportResource::Groups).await?;
        }
        Ok(idp.read_org(|org| match_import(org, &app, &users, &groups)))
    }

    /// Reads every page: `startIndex` moves on by the number each page
    /// returned, until `totalResults` resources are read or a page is empty.
    async fn read_all(
        &self,
        idp: &Idp,
        connection: &Connection,
        label: &str,
        resource: ImportResource,
    ) -> Result<Vec<Value>, TaskFailure> {
        let mut resources = Vec::new();
        let mut start_index = 1;
        loop {
            let response = self.send(idp, connection, label, requests::import_page(resource, start_index)).await?;
            let page = read_list(&response, false)?;
            let read = page.resources.len();
            resources.extend(page.resources);
            if read == 0 || resources.len() >= page.total_results {
                return Ok(resources);
            }
            // A server may return fewer than were asked for; Okta's next
            // page starts after what it has.
            start_index += read.min(PAGE_SIZE);
        }
    }

    /// Runs one operation against the org as it is now.
    async fn run(&self, idp: &Idp, operation: &Operation) -> Result<(), TaskFailure> {
        let Some(mut connection) = idp.read_org(|org| Connection::of(org, operation.app())) else {
            return Ok(());
        };
        if !connection.active {
            return Err(TaskFailure::ConnectionInactive);
        }
        connection.faults = self.faults_for(idp, operation.app());
        let label = operation.label();
        match operation {
            Operation::SyncUser { app, user, profile_changed } => {
                let action = idp.read_org(|org| {
                    with_fault_values(org, app, decide_user(org, app, user, *profile_changed), &connection.faults)
                });
                self.sync_user(idp, &connection, &label, user, action).await
            }
            Operation::PushGroup { group, .. } => self.push_group(idp, &connection, &label, group).await,
            Operation::ChangeMembership { group, user, membership, .. } => {
                self.change_membership(idp, &connection, &label, group, user, *membership).await
            }
            Operation::RenameGroup { group, .. } => {
                let target = idp.read_org(|org| {
                    let scim_id = group_link(org, &connection.app, group)?;
                    let members = linked_members(org, &connection.app, group);
                    Some((scim_id, org.groups.get(group)?.name.clone(), members))
                });
                let Some((scim_id, name, members)) = target.filter(|_| connection.push_groups) else {
                    return Ok(());
                };
                // Under the fault, the rename travels with a membership add.
                let edit = if connection.faults.has(ScimFault::RenameWithMembership) && !members.is_empty() {
                    MembershipEdit::Add(members)
                } else {
                    MembershipEdit::None
                };
                let request = requests::patch_group(&scim_id, &name, &edit);
                require_success(&self.send(idp, &connection, &label, request).await?)?;
                Ok(())
            }
            Operation::UnlinkGroup { group, delete_in_app, .. } => {
                let linked = idp.read_org(|org| group_link(org, &connection.app, group));
                if *delete_in_app && let Some(scim_id) = linked {
                    let reply = self.send(idp, &connection, &label, requests::delete_group(&scim_id)).await?;
                    // A group already gone from the app is as good as deleted.
                    if reply.status != 404 {
                        require_success(&reply)?;
                    }
                }
                update_settings(idp, &connection.app, |settings| {
                    settings.links.groups.remove(group);
                    settings.pushed_groups.retain(|pushed| pushed != group);
                });
                Ok(())
            }
            Operation::SyncPassword { app, user } => {
                let target = idp.read_org(|org| {
                    let found = org.apps.get(app)?;
                    let settings = found.provisioning.as_ref()?;
                    let link = settings.links.users.get(user).filter(|link| link.active)?;
                    let view = org.users.get(user).map(|u| UserView::of(org, found, settings, u));
                    Some((link.scim_id.clone(), view))
                });
                let Some((scim_id, view)) = target.filter(|_| connection.sync_password) else { return Ok(()) };
                // The mock keeps no user passwords, so the synced password is
                // a fresh random one, as the create's is.
                let password = idp.ids().opaque_token();
                let request = match connection.profile {
                    RequestProfile::AppIntegrationWizard => {
                        let read = self.send(idp, &connection, &label, requests::get_user(&scim_id)).await?;
                        let (_, current) = read_resource(&read)?;
                        let put = requests::replace_user(&scim_id, &current, view.as_ref(), true);
                        requests::with_password(faults::trim_put(put, &connection.faults), &password)
                    }
                    RequestProfile::Oin | RequestProfile::OinPatch => requests::set_user_password(&scim_id, &password),
                };
                require_success(&self.send(idp, &connection, &label, request).await?)?;
                Ok(())
            }
            Operation::TestCredentials { .. } => {
                read_list(&self.send(idp, &connection, &label, requests::test_credentials()).await?, false)?;
                Ok(())
            }
            Operation::Import { .. } => {
                self.read_all(idp, &connection, &label, ImportResource::Users).await?;
                self.read_all(idp, &connection, &label, ImportResource::Groups).await?;
                Ok(())
            }
        }
    }

    async fn sync_user(
        &self,
        idp: &Idp,
        connection: &Connection,
        label: &str,
        user: &UserId,
        action: UserAction,
    ) -> Result<(), TaskFailure> {
        match action {
            UserAction::Nothing => Ok(()),
            UserAction::Provision(view) => {
                let lookup_name = faults::lookup_user_name(&view.user_name, &connection.faults);
                let lookup = self.send(idp, connection, label, requests::find_user(&lookup_name)).await?;
                let page = read_list(&lookup, true)?;
                match page.resources.first() {
                    Some(existing) => {
                        // "User already exists in the app": link it and push
                        // the profile over it.
                        let scim_id = existing.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
                        if scim_id.is_empty() {
                            return Err(ReplyError::Unusable {
                                status: lookup.status,
                                problem: "the matching user has no id".into(),
                            }
                            .into());
                        }
                        link_user(idp, &connection.app, user, &scim_id, true);
                        self.update_user(idp, connection, label, &scim_id, &view).await?;
                        self.join_pushed_groups(idp, connection, label, user).await
                    }
                    None => {
                        let password = connection.sync_password.then(|| idp.ids().opaque_token());
                        let request = requests::create_user(&view, password.as_deref());
                        let mut created = self.send(idp, connection, label, request.clone()).await?;
                        if connection.faults.has(ScimFault::DuplicateCreate) {
                            // The first reply is taken as lost to a timeout:
                            // Okta sends the same create again and reads
                            // that reply instead.
                            created = self.send(idp, connection, label, request).await?;
                        }
                        let (scim_id, _) = read_resource(&created)?;
                        link_user(idp, &connection.app, user, &scim_id, true);
                        self.join_pushed_groups(idp, connection, label, user).await
                    }
                }
            }
            UserAction::Update { scim_id, view } => self.update_user(idp, connection, label, &scim_id, &view).await,
            UserAction::Deactivate { scim_id, view } => {
                self.set_active(idp, connection, label, &scim_id, view.as_ref(), false).await?;
                link_user(idp, &connection.app, user, &scim_id, false);
                Ok(())
            }
            UserAction::Reactivate { scim_id, view } => {
                let reply = self.set_active(idp, connection, label, &scim_id, Some(&view), true).await?;
                link_user(idp, &connection.app, user, &scim_id, true);
                // Profile changes made while the user was inactive were not
                // pushed; when the reactivation's reply shows a stale
                // profile, the update follows, as a profile push would send
                // it (the wizard's PUT already carried the whole profile).
                let stale = connection.push_profile_updates
                    && connection.profile != RequestProfile::AppIntegrationWizard
                    && reply
                        .json()
                        .is_some_and(|current| requests::patch_user_profile(&scim_id, &current, &view).is_some());
                if stale {
                    self.update_user(idp, connection, label, &scim_id, &view).await?;
                }
                Ok(())
            }
        }
    }

    /// A profile push: `GET /Users/{id}`, then `PUT` the whole object or
    /// `PATCH` what changed, as the request profile says.
    async fn update_user(
        &self,
        idp: &Idp,
        connection: &Connection,
        label: &str,
        scim_id: &str,
        view: &UserView,
    ) -> Result<(), TaskFailure> {
        let (_, current) = read_resource(&self.send(idp, connection, label, requests::get_user(scim_id)).await?)?;
        let request = match connection.profile {
            RequestProfile::Oin | RequestProfile::AppIntegrationWizard => Some(faults::trim_put(
                requests::replace_user(scim_id, &current, Some(view), view.active),
                &connection.faults,
            )),
            RequestProfile::OinPatch => requests::patch_user_profile(scim_id, &current, view),
        };
        if let Some(request) = request {
            require_success(&self.send(idp, connection, label, request).await?)?;
        }
        Ok(())
    }

    /// A user just provisioned joins the linked pushed groups they are a
    /// member of: their membership changes, sent while they were not yet in
    /// the app, were skipped.
    async fn join_pushed_groups(
        &self,
        idp: &Idp,
        connection: &Connection,
        label: &str,
        user: &UserId,
    ) -> Result<(), TaskFailure> {
        if !connection.push_groups {
            return Ok(());
        }
        let joins: Vec<(String, String, Member)> = idp.read_org(|org| {
            let Some(app) = org.apps.get(&connection.app) else { return Vec::new() };
            let Some(settings) = app.provisioning.as_ref() else { return Vec::new() };
            let (Some(link), Some(found)) = (settings.links.users.get(user), org.users.get(user)) else {
                return Vec::new();
            };
            let member = Member { scim_id: link.scim_id.clone(), display: org.app_user_name(app, found) };
            settings
                .pushed_groups
                .iter()
                .filter_map(|group_id| {
                    let group = org.groups.get(group_id).filter(|g| g.members.contains(user))?;
                    let scim_id = settings.links.groups.get(group_id)?;
                    Some((scim_id.clone(), group.name.clone(), member.clone()))
                })
                .collect()
        });
        for (group_scim_id, name, member) in joins {
            let request = requests::patch_group(&group_scim_id, &name, &MembershipEdit::Add(vec![member]));
            require_success(&self.send(idp, connection, label, request).await?)?;
        }
        Ok(())
    }

    /// Deactivation or reactivation: the path-less `PATCH`, or under the
    /// wizard profile `GET` then `PUT` with `active` set.
    async fn set_active(
        &self,
        idp: &Idp,
        connection: &Connection,
        label: &str,
        scim_id: &str,
        view: Option<&UserView>,
        active: bool,
    ) -> Result<ScimResponse, TaskFailure> {
        let request = match connection.profile {
            RequestProfile::AppIntegrationWizard => {
                let read = self.send(idp, connection, label, requests::get_user(scim_id)).await?;
                let (_, current) = read_resource(&read)?;
                faults::trim_put(requests::replace_user(scim_id, &current, view, active), &connection.faults)
            }
            RequestProfile::Oin | RequestProfile::OinPatch => requests::set_user_active(scim_id, active),
        };
        let reply = self.send(idp, connection, label, request).await?;
        require_success(&reply)?;
        Ok(reply)
    }

    /// Finds, creates or links a pushed group, then sends its whole
    /// membership.
    async fn push_group(
        &self,
        idp: &Idp,
        connection: &Connection,
        label: &str,
        group: &GroupId,
    ) -> Result<(), TaskFailure> {
        let target = idp.read_org(|org| {
            let name = org.groups.get(group)?.name.clone();
            Some((name, group_link(org, &connection.app, group), linked_members(org, &connection.app, group)))
        });
        let Some((name, linked, members)) = target.filter(|_| connection.push_groups) else { return Ok(()) };
        let (scim_id, edit) = match linked {
            Some(scim_id) => (scim_id, MembershipEdit::Replace(members)),
            None => {
                let lookup = self.send(idp, connection, label, requests::find_group(&name)).await?;
                let page = read_list(&lookup, true)?;
                match page.resources.first().and_then(|g| g.get("id")).and_then(Value::as_str) {
                    Some(existing) => (existing.to_owned(), MembershipEdit::Replace(members)),
                    None => {
                        let created = self.send(idp, connection, label, requests::create_group(&name)).await?;
                        let (scim_id, _) = read_resource(&created)?;
                        (scim_id, MembershipEdit::Add(members))
                    }
                }
            }
        };
        update_links(idp, &connection.app, |links| {
            links.groups.insert(group.clone(), scim_id.clone());
        });
        // One PATCH, or under the large-push fault one per page of members:
        // the first replaces (or adds), the rest add.
        let edits: Vec<MembershipEdit> = match edit {
            MembershipEdit::Replace(members) => faults::member_batches(members, &connection.faults)
                .into_iter()
                .enumerate()
                .map(|(n, batch)| if n == 0 { MembershipEdit::Replace(batch) } else { MembershipEdit::Add(batch) })
                .collect(),
            MembershipEdit::Add(members) if members.is_empty() => Vec::new(),
            MembershipEdit::Add(members) => {
                faults::member_batches(members, &connection.faults).into_iter().map(MembershipEdit::Add).collect()
            }
            other => vec![other],
        };
        for edit in edits {
            let request = requests::patch_group(&scim_id, &name, &edit);
            require_success(&self.send(idp, connection, label, request).await?)?;
        }
        Ok(())
    }

    async fn change_membership(
        &self,
        idp: &Idp,
        connection: &Connection,
        label: &str,
        group: &GroupId,
        user: &UserId,
        membership: MembershipDirection,
    ) -> Result<(), TaskFailure> {
        if !connection.push_groups {
            return Ok(());
        }
        let target = idp.read_org(|org| {
            let app = org.apps.get(&connection.app)?;
            let link = app.provisioning.as_ref()?.links.users.get(user).cloned();
            let display = org.users.get(user).map(|u| org.app_user_name(app, u));
            let name = org.groups.get(group).map(|g| g.name.clone());
            Some((group_link(org, &connection.app, group), link, display, name))
        });
        let Some((group_scim_id, user_link, display, name)) = target else { return Ok(()) };
        let Some(name) = name else { return Ok(()) };
        let Some(group_scim_id) = group_scim_id else {
            // A group not yet linked is pushed whole when it gains a member.
            if membership == MembershipDirection::Add {
                return self.push_group(idp, connection, label, group).await;
            }
            return Ok(());
        };
        let Some(user_link) = user_link else { return Ok(()) };
        let edit = match membership {
            MembershipDirection::Add => MembershipEdit::Add(vec![Member {
                scim_id: user_link.scim_id.clone(),
                display: display.unwrap_or_default(),
            }]),
            MembershipDirection::Remove => MembershipEdit::Remove(vec![user_link.scim_id.clone()]),
        };
        let request = requests::patch_group(&group_scim_id, &name, &edit);
        require_success(&self.send(idp, connection, label, request).await?)?;
        Ok(())
    }

    /// Sends a request with the retry policy, recording every attempt.
    /// Returns the last reply, whatever its status; fails only when no reply
    /// came at all.
    async fn send(
        &self,
        idp: &Idp,
        connection: &Connection,
        label: &str,
        request: ScimRequest,
    ) -> Result<ScimResponse, TaskFailure> {
        let url = format!("{}{}", connection.base_url, request.path);
        let retry = self.options.retry;
        let mut attempt = 1;
        let mut refreshed_after_401 = false;
        loop {
            let authorization = self.authorization(idp, connection, label).await?;
            let started = idp.now();
            let outcome = self.transport.send(&url, &authorization, &request).await;
            let finished = idp.now();
            self.record(connection, label, attempt, &url, &request, &outcome, started, finished);
            // Under OAuth 2.0 a 401 means the access token was refused
            // before its time: Okta refreshes once and sends the request
            // again.
            let unauthorized = matches!(&outcome, Ok(reply) if reply.response.status == 401);
            if unauthorized
                && !refreshed_after_401
                && let ScimAuthentication::OAuth2(settings) = &connection.authentication
            {
                refreshed_after_401 = true;
                self.refresh(idp, connection, settings, label).await?;
                attempt += 1;
                continue;
            }
            let retry_after = match &outcome {
                Ok(reply) if reply.response.status == 429 || reply.response.status >= 500 => reply.retry_after,
                Ok(reply) => return Ok(reply.response.clone()),
                Err(_) => None,
            };
            if attempt >= retry.attempts.max(1) {
                return match outcome {
                    Ok(reply) => Ok(reply.response),
                    Err(error) => Err(TaskFailure::NoReply(error)),
                };
            }
            attempt += 1;
            tokio::time::sleep(retry.delay(attempt, retry_after)).await;
        }
    }

    /// The `Authorization` header for the next request: the fixed one, or
    /// under OAuth 2.0 the access token held, refreshed first when it has
    /// expired on the IdP's clock.
    async fn authorization(&self, idp: &Idp, connection: &Connection, label: &str) -> Result<String, TaskFailure> {
        let settings = match &connection.authentication {
            ScimAuthentication::OAuth2(settings) => settings,
            fixed => return fixed.authorization().ok_or_else(|| TaskFailure::NotAuthorized("no header".into())),
        };
        let tokens = self.lock_oauth().held(&connection.app, settings);
        let tokens = match tokens {
            None => {
                return Err(TaskFailure::NotAuthorized(
                    "no token for the connection's OAuth settings; start an authorization first".into(),
                ));
            }
            Some(tokens) if tokens.expired(idp.now()) => self.refresh(idp, connection, settings, label).await?,
            Some(tokens) => tokens,
        };
        Ok(format!("Bearer {}", tokens.access_token))
    }

    /// Redeems the refresh token held for the app. A refusal leaves the
    /// tokens as they were, so every later operation fails the same way
    /// until an admin authorizes again.
    async fn refresh(
        &self,
        idp: &Idp,
        connection: &Connection,
        settings: &OAuthClientSettings,
        label: &str,
    ) -> Result<OAuthTokens, TaskFailure> {
        let current = self.lock_oauth().held(&connection.app, settings);
        let Some(refresh_token) = current.and_then(|tokens| tokens.refresh_token) else {
            return Err(TaskFailure::NotAuthorized("the access token expired and the SP gave no refresh token".into()));
        };
        let grant = TokenGrant::RefreshToken { refresh_token: refresh_token.clone() };
        let tokens = self.redeem(idp, &connection.app, settings, &grant, Some(&refresh_token), label).await?;
        self.lock_oauth().hold(&connection.app, settings, tokens.clone());
        Ok(tokens)
    }

    /// Sends a token request through the transport, records it in the
    /// transcript (the code or token and the client secret redacted) and
    /// reads the reply.
    async fn redeem(
        &self,
        idp: &Idp,
        app: &AppId,
        settings: &OAuthClientSettings,
        grant: &TokenGrant,
        previous_refresh_token: Option<&str>,
        label: &str,
    ) -> Result<OAuthTokens, TaskFailure> {
        let request = oauth::token_request(settings, grant);
        let started = idp.now();
        let outcome = self.transport.send_token_request(&request).await;
        let finished = idp.now();
        let (response, error) = match &outcome {
            Ok((status, text)) => {
                // The token reply is shown without its tokens.
                let body = serde_json::from_str::<Value>(text)
                    .map(|mut body| {
                        for secret in ["access_token", "refresh_token", "id_token"] {
                            if let Some(value) = body.get_mut(secret) {
                                *value = Value::String("[redacted]".into());
                            }
                        }
                        body
                    })
                    .unwrap_or_else(|_| Value::String(text.chars().take(200).collect()));
                (Some(RecordedResponse { status: *status, body }), None)
            }
            Err(error) => (None, Some(error.clone())),
        };
        let recorded = RecordedRequest {
            method: "POST",
            url: request.url.clone(),
            headers: vec![
                ("User-Agent".to_owned(), transport::USER_AGENT.to_owned()),
                ("Authorization".to_owned(), "Basic [redacted]".to_owned()),
                ("Content-Type".to_owned(), "application/x-www-form-urlencoded".to_owned()),
            ],
            body: Some(Value::String(request.redacted_form.clone())),
        };
        self.push_exchange(
            app,
            &format!("{label} (OAuth {} grant)", grant.name()),
            1,
            recorded,
            response,
            error,
            started,
            finished,
        );
        let (status, text) = outcome.map_err(TaskFailure::NoReply)?;
        Ok(oauth::read_token_reply(status, &text, idp.now(), previous_refresh_token)?)
    }

    /// "Authenticate with {app}": starts an OAuth 2.0 authorization and
    /// returns the URL the admin's browser goes to. The callback must come
    /// back within [`OAUTH_AUTHORIZATION_LIFETIME`].
    pub fn start_authorization(&self, app: &str) -> Result<AuthorizationStart, ProvisioningError> {
        let idp = self.idp.upgrade().ok_or(ProvisioningError::IdpGone)?;
        let (id, _) = self.configured_app(&idp, app)?;
        let (settings, redirect_uri) = idp
            .read_org(|org| {
                let found = org.apps.get(&id)?;
                let settings = found.provisioning.as_ref()?.authentication.oauth()?.clone();
                Some((settings, oauth::redirect_uri(&org.url, &found.name)))
            })
            .ok_or_else(|| ProvisioningError::NotOAuth(app.to_owned()))?;
        let state = idp.ids().opaque_token();
        let now = idp.now();
        let expires_at = now + OAUTH_AUTHORIZATION_LIFETIME;
        let authorize_url = oauth::authorize_url(&settings, &redirect_uri, &state);
        let mut oauth_state = self.lock_oauth();
        oauth_state.pending.retain(|pending| pending.expires_at > now);
        oauth_state.pending.push_back(PendingAuthorization {
            state,
            app: id.clone(),
            redirect_uri: redirect_uri.clone(),
            expires_at,
        });
        while oauth_state.pending.len() > OAUTH_PENDING_LIMIT {
            oauth_state.pending.pop_front();
        }
        Ok(AuthorizationStart { app: id, authorize_url, redirect_uri, expires: time_text(expires_at) })
    }

    /// The callback: the authorization waiting for `state` (started for the
    /// app named in the path) is used up, and its code is exchanged at the
    /// SP's token endpoint for the tokens Okta then holds.
    pub async fn complete_authorization(
        &self,
        app_name: &str,
        state: &str,
        reply: AuthorizationReply,
    ) -> Result<AppId, ProvisioningError> {
        let idp = self.idp.upgrade().ok_or(ProvisioningError::IdpGone)?;
        let now = idp.now();
        let pending = {
            let mut oauth_state = self.lock_oauth();
            oauth_state.pending.retain(|pending| pending.expires_at > now);
            let position = oauth_state.pending.iter().position(|pending| {
                crate::oidc::authorize::constant_time_eq(pending.state.as_bytes(), state.as_bytes())
            });
            position.and_then(|position| oauth_state.pending.remove(position))
        };
        let pending = pending.ok_or(ProvisioningError::UnknownAuthorization)?;
        let named = idp.read_org(|org| org.apps.get(&pending.app).is_some_and(|app| app.name == app_name));
        if !named {
            return Err(ProvisioningError::UnknownAuthorization);
        }
        let code = match reply {
            AuthorizationReply::Code(code) => code,
            AuthorizationReply::Error { error, description } => {
                return Err(ProvisioningError::AuthorizationRefused { error, description });
            }
        };
        let settings = idp
            .read_org(|org| org.apps.get(&pending.app)?.provisioning.as_ref()?.authentication.oauth().cloned())
            .ok_or_else(|| ProvisioningError::NotOAuth(app_name.to_owned()))?;
        let grant = TokenGrant::AuthorizationCode { code, redirect_uri: pending.redirect_uri.clone() };
        let tokens = self.redeem(&idp, &pending.app, &settings, &grant, None, "authorize").await?;
        self.lock_oauth().hold(&pending.app, &settings, tokens);
        Ok(pending.app)
    }

    /// Whether Okta holds OAuth 2.0 tokens for the app.
    pub fn has_oauth_tokens(&self, app: &AppId) -> bool {
        self.lock_oauth().tokens.contains_key(app)
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        connection: &Connection,
        label: &str,
        attempt: u32,
        url: &str,
        request: &ScimRequest,
        outcome: &Result<transport::Reply, String>,
        started: OffsetDateTime,
        finished: OffsetDateTime,
    ) {
        let mut headers = vec![
            ("User-Agent".to_owned(), transport::USER_AGENT.to_owned()),
            ("Authorization".to_owned(), connection.redacted_authorization.clone()),
        ];
        headers.extend(HttpTransport::content_headers(request));
        let (response, error) = match outcome {
            Ok(reply) => {
                let body = if reply.response.text.is_empty() {
                    Value::Null
                } else {
                    reply.response.json().unwrap_or_else(|| Value::String(reply.response.text.clone()))
                };
                (Some(RecordedResponse { status: reply.response.status, body }), None)
            }
            Err(error) => (None, Some(error.clone())),
        };
        let recorded = RecordedRequest {
            method: request.method.as_str(),
            url: url.to_owned(),
            headers,
            body: request.body.clone(),
        };
        self.push_exchange(&connection.app, label, attempt, recorded, response, error, started, finished);
    }

    #[allow(clippy::too_many_arguments)]
    fn push_exchange(
        &self,
        app: &AppId,
        label: &str,
        attempt: u32,
        request: RecordedRequest,
        response: Option<RecordedResponse>,
        error: Option<String>,
        started: OffsetDateTime,
        finished: OffsetDateTime,
    ) {
        let duration_ms = u64::try_from((finished - started).whole_milliseconds()).unwrap_or(0);
        let mut records = self.lock_records();
        let sequence = records.next_sequence;
        records.next_sequence += 1;
        records.transcript.push_back(Exchange {
            sequence,
            app: app.clone(),
            operation: label.to_owned(),
            attempt,
            request,
            response,
            error,
            started: time_text(started),
            duration_ms,
        });
        while records.transcript.len() > self.options.transcript_limit {
            records.transcript.pop_front();
        }
    }
}

fn time_text(instant: OffsetDateTime) -> String {
    instant.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn group_link(org: &Org, app: &AppId, group: &GroupId) -> Option<String> {
    org.apps.get(app)?.provisioning.as_ref()?.links.groups.get(group).cloned()
}

/// The group's members that are linked in the app, as Okta pushes them:
/// the SCIM id and the app username.
fn linked_members(org: &Org, app: &AppId, group: &GroupId) -> Vec<Member> {
    let Some(found) = org.apps.get(app) else { return Vec::new() };
    let Some(settings) = found.provisioning.as_ref() else { return Vec::new() };
    let Some(group) = org.groups.get(group) else { return Vec::new() };
    group
        .members
        .iter()
        .filter_map(|member| {
            let link = settings.links.users.get(member)?;
            let user = org.users.get(member)?;
            Some(Member { scim_id: link.scim_id.clone(), display: org.app_user_name(found, user) })
        })
        .collect()
}

fn update_links(idp: &Idp, app: &AppId, change: impl FnOnce(&mut crate::org::provisioning::ProvisioningLinks)) {
    idp.write_org(|org| {
        if let Some(settings) = org.apps.get_mut(app).and_then(|a| a.provisioning.as_mut()) {
            change(&mut settings.links);
        }
    });
}

fn update_settings(idp: &Idp, app: &AppId, change: impl FnOnce(&mut crate::org::provisioning::ScimProvisioning)) {
    idp.write_org(|org| {
        if let Some(settings) = org.apps.get_mut(app).and_then(|a| a.provisioning.as_mut()) {
            change(settings);
        }
    });
}

/// The action with the armed faults' values: under the empty-strings fault,
/// every unset mapped attribute as `""`.
fn with_fault_values(org: &Org, app: &AppId, action: UserAction, armed: &ArmedFaults) -> UserAction {
    let Some(settings) = org.apps.get(app).and_then(|a| a.provisioning.as_ref()) else { return action };
    let fill = |view: UserView| faults::with_empty_strings(view, settings, armed);
    match action {
        UserAction::Provision(view) => UserAction::Provision(fill(view)),
        UserAction::Update { scim_id, view } => UserAction::Update { scim_id, view: fill(view) },
        UserAction::Deactivate { scim_id, view } => UserAction::Deactivate { scim_id, view: view.map(fill) },
        UserAction::Reactivate { scim_id, view } => UserAction::Reactivate { scim_id, view: fill(view) },
        UserAction::Nothing => UserAction::Nothing,
    }
}

fn link_user(idp: &Idp, app: &AppId, user: &UserId, scim_id: &str, active: bool) {
    update_links(idp, app, |links| {
        links.users.insert(user.clone(), UserLink { scim_id: scim_id.to_owned(), active });
    });
}
