//! Running checks. The pieces every protocol shares live here: the
//! in-process mock IdP, canary users, hooks, the browser (`browser.rs`) and
//! the session oracle (`oracle.rs`). One driver per protocol (`saml/`,
//! `oidc.rs`, `scim.rs`, `cross.rs`) runs that protocol's positive control
//! and its checks' actions, and brings its own kind of evidence.

mod browser;
mod cross;
pub(crate) mod form;
mod oidc;
mod oracle;
mod saml;
pub(crate) use saml::{ConsumerService, SpDescriptor, read_sp_descriptor};
mod play;
mod scim;
pub use play::{PlayLine, PlayOutcome};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use mock_idp::http::RunningServer;
use mock_idp::idp::Idp;
use rand::Rng;
use serde::Serialize;

use crate::catalogue::{Action, Capability, Category, Check, Protocol, Severity, Weight};
use crate::target::{EmailDomains, NamePointers, SessionOracle, Target};
use browser::{Browser, read_body, transport_error};

pub use cross::state_machine::{DEFAULT_CASES, SequenceEvidence, SequenceStep, StateMachineOptions};
pub use oidc::OidcEvidence;
pub use saml::SamlEvidence;
pub use scim::{ScimEvidence, ScimExchange};

/// Every canary is a member of this group, so the groups attribute has a value.
const CANARY_GROUP: &str = "mockta-canaries";

/// The `Cache-Control` of discovery documents while the suite runs.
const SUITE_DISCOVERY_CACHE_CONTROL: &str = "no-cache";

/// Hooks may answer with a list of every account, so they get more room.
const HOOK_BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    /// Allowed by the spec but weaker than it should be: shown in every
    /// report, and fails the run only with `--strict`.
    Warn,
    Skip,
    Error,
}

/// What was sent and what came back, for a failure (or an error), in the
/// shape of the check's protocol. It serialises as that protocol's evidence
/// alone, so the report schema stays one flat object per result.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Evidence {
    Saml(SamlEvidence),
    Oidc(OidcEvidence),
    Scim(ScimEvidence),
    /// The integration state machine's shrunk failing sequence.
    Sequence(SequenceEvidence),
}

impl Evidence {
    /// What the session oracle saw.
    pub fn oracle(&self) -> &str {
        match self {
            Evidence::Saml(evidence) => &evidence.oracle,
            Evidence::Oidc(evidence) => &evidence.oracle,
            Evidence::Scim(evidence) => &evidence.oracle,
            Evidence::Sequence(evidence) => &evidence.oracle,
        }
    }

    /// The SP's answer the verdict rests on, as "302 -> /home".
    pub fn sp_answer(&self) -> Option<String> {
        let browser_answer = |status: Option<u16>, location: &Option<String>| {
            status
                .map(|status| format!("{status}{}", location.as_ref().map(|l| format!(" -> {l}")).unwrap_or_default()))
        };
        match self {
            Evidence::Saml(evidence) => browser_answer(evidence.sp_status, &evidence.sp_location),
            Evidence::Oidc(evidence) => browser_answer(evidence.sp_status, &evidence.sp_location),
            Evidence::Scim(evidence) => evidence.last_answer(),
            Evidence::Sequence(evidence) => evidence.last_answer(),
        }
    }

    /// The message sent, in a few lines a reader can take in, with a label.
    pub fn message_summary(&self) -> Option<(&'static str, String)> {
        match self {
            Evidence::Saml(evidence) => evidence.message_summary(),
            Evidence::Oidc(evidence) => evidence.message_summary(),
            Evidence::Scim(evidence) => evidence.message_summary(),
            Evidence::Sequence(evidence) => evidence.message_summary(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    pub id: &'static str,
    pub title: &'static str,
    pub protocol: Protocol,
    pub category: Category,
    pub severity: Severity,
    pub reference: &'static str,
    pub verdict: Verdict,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<&'static str>,
    pub duration_ms: u64,
}

impl CheckResult {
    fn new(check: &Check, verdict: Verdict, reason: String, evidence: Option<Evidence>, started: Instant) -> Self {
        CheckResult {
            id: check.id,
            title: check.title,
            protocol: check.protocol(),
            category: check.category,
            severity: check.severity,
            reference: check.reference,
            fix: matches!(verdict, Verdict::Fail | Verdict::Warn).then_some(check.fix),
            evidence: if verdict == Verdict::Pass { None } else { evidence },
            verdict,
            reason,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("{0}")]
    Setup(#[from] mock_idp::setup::SetupError),
    #[error("{file}: {field}: no {kind} app '{wanted}' in the org; its {kind} apps are: {}", if available.is_empty() { "none".to_owned() } else { available.join(", ") })]
    UnknownApp { file: String, field: &'static str, kind: &'static str, wanted: String, available: Vec<String> },
    #[error("cannot serve the mock IdP on {addr}: {source}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
}

/// A step that could not be carried out (not a verdict on the SP).
#[derive(Debug)]
struct StepError(String);

type Step<T> = Result<T, StepError>;

/// A driver's verdict on one check.
struct Outcome {
    verdict: Verdict,
    reason: String,
    evidence: Option<Evidence>,
}

impl Outcome {
    fn pass(reason: impl Into<String>) -> Self {
        Outcome { verdict: Verdict::Pass, reason: reason.into(), evidence: None }
    }

    fn fail(reason: impl Into<String>, evidence: Option<Evidence>) -> Self {
        Outcome { verdict: Verdict::Fail, reason: reason.into(), evidence }
    }

    /// Behaviour the spec allows but that is weaker than it should be.
    fn warn(reason: impl Into<String>, evidence: Option<Evidence>) -> Self {
        Outcome { verdict: Verdict::Warn, reason: reason.into(), evidence }
    }

    /// The check could not judge what it is about, for a reason that is the
    /// SP's choice rather than a fault (an optional step it does not take).
    fn skip(reason: impl Into<String>) -> Self {
        Outcome { verdict: Verdict::Skip, reason: reason.into(), evidence: None }
    }
}

/// The SAML app the target names, found in the org once.
#[derive(Clone, Debug)]
struct SamlApp {
    id: String,
    name: String,
}

/// The suite for one target: the mock IdP serving the target's org.
pub struct Suite {
    target: Target,
    idp: Arc<Idp>,
    server: RunningServer,
    saml: Option<SamlApp>,
    /// The session URL's answer to a browser that never signed in, asked
    /// once: what "no session" looks like at this SP.
    no_session: tokio::sync::OnceCell<oracle::Seen>,
    /// Whether the SP's metadata declares `WantAssertionsSigned`, read once
    /// before the checks when a check needs it and the target gives a
    /// metadata URL; the error says why it could not be read.
    sp_wants_assertions_signed: tokio::sync::OnceCell<Result<bool, String>>,
    /// Whether the SP signs its AuthnRequests and with which certificates,
    /// read once (the target's word, then its metadata); the error says why
    /// it could not be read.
    sp_request_signing: tokio::sync::OnceCell<Result<saml::DeclaredRequestSigning, String>>,
    /// When the mock serves over TLS (`[idp] tls = true`): its local CA's
    /// certificate file and the certificate the suite's browsers trust.
    tls_ca: Option<(PathBuf, reqwest::Certificate)>,
    /// The integration state machine's seed and number of cases: a random
    /// seed unless one is given (`mockta check --seed`).
    state_machine: StateMachineOptions,
    /// For a target whose SP takes SCIM only once sign-in through the IdP
    /// is verified (`scim.requires_verified_sso`): the admin's sign-in the
    /// suite made before the other SCIM checks, once, or why it failed.
    sso_verified_for_scim: tokio::sync::OnceCell<Result<String, String>>,
}

/// The HTTPS identity of the mock for a target with `[idp] tls = true`: a
/// server certificate from the local CA of the IdP's key folder (or the org
/// file's default one). The org URL becomes https if it was http, for an IdP
/// built without the TLS option (tests adjust one before serving it).
fn tls_identity(target: &Target, idp: &Idp) -> Result<mock_idp::keys::TlsServerIdentity, SuiteError> {
    idp.write_org(|org| {
        if let Some(rest) = org.url.strip_prefix("http://") {
            org.url = format!("https://{rest}");
        }
    });
    let options =
        mock_idp::setup::IdpOptions { org_file: target.org.clone(), key_dir: idp.key_dir(), ..Default::default() };
    Ok(options.tls_identity(&idp.read_org(|org| org.url.clone()))?)
}

/// The CA certificate of an HTTPS identity, read back from its file, for the
/// suite's browsers to trust.
fn trusted_ca(identity: &mock_idp::keys::TlsServerIdentity) -> Result<(PathBuf, reqwest::Certificate), SuiteError> {
    let path = identity.ca_cert_path.clone();
    let unreadable = |source: std::io::Error| {
        SuiteError::Setup(mock_idp::setup::SetupError::Tls(mock_idp::keys::KeyError::Io {
            path: path.display().to_string(),
            source,
        }))
    };
    let pem = std::fs::read(&path).map_err(unreadable)?;
    let certificate = reqwest::Certificate::from_pem(&pem).map_err(|e| unreadable(std::io::Error::other(e)))?;
    Ok((path, certificate))
}

/// A user of the mock org made for one check.
#[derive(Clone, Debug)]
struct Canary {
    email: String,
    /// The display name, `Canary {tag}`: first name `Canary`, last name the tag.
    name: String,
    /// The family name, the random tag.
    family_name: String,
}

impl Suite {
    /// Serves the target's org on the target's IdP address, with the signing
    /// keys in `key_dir` (or the default key folder of the org file).
    pub async fn start(target: Target, key_dir: Option<PathBuf>) -> Result<Suite, SuiteError> {
        // Rotations stay in memory, so the checks that rotate keys never
        // change the user's key folder; discovery is `no-cache`, so a
        // relying party that honours HTTP caching fetches it during a check.
        let options = mock_idp::setup::IdpOptions {
            org_file: target.org.clone(),
            key_dir,
            keep_key_rotations_in_memory: true,
            tls: target.idp_tls,
            discovery_cache_control: Some(SUITE_DISCOVERY_CACHE_CONTROL.to_owned()),
            ..Default::default()
        };
        let idp = Arc::new(options.build()?);
        Self::with_idp(target, idp).await
    }

    /// Serves a given IdP (tests use this to adjust the org first).
    pub async fn with_idp(target: Target, idp: Arc<Idp>) -> Result<Suite, SuiteError> {
        // Whatever IdP the suite is given, its rotations stay in memory and
        // its discovery documents say no-cache, as in `Suite::start`.
        idp.keep_key_rotations_in_memory(true);
        idp.set_discovery_cache_control(Some(SUITE_DISCOVERY_CACHE_CONTROL.to_owned()));
        let saml = match &target.saml {
            None => None,
            Some(saml) => Some(
                idp.read_org(|org| {
                    org.find_app(&saml.app)
                        .filter(|a| a.saml().is_some())
                        .map(|a| SamlApp { id: a.id.to_string(), name: a.name.clone() })
                })
                .ok_or_else(|| SuiteError::UnknownApp {
                    file: target.source.clone(),
                    field: "saml.app",
                    kind: "SAML",
                    wanted: saml.app.clone(),
                    available: idp.read_org(|org| {
                        org.apps.values().filter(|a| a.saml().is_some()).map(|a| a.name.clone()).collect()
                    }),
                })?,
            ),
        };
        if let Some(oidc) = &target.oidc
            && idp.read_org(|org| org.find_app(&oidc.app).and_then(|a| a.oidc()).is_none())
        {
            return Err(SuiteError::UnknownApp {
                file: target.source.clone(),
                field: "oidc.app",
                kind: "OIDC",
                wanted: oidc.app.clone(),
                available: idp
                    .read_org(|org| org.apps.values().filter(|a| a.oidc().is_some()).map(|a| a.name.clone()).collect()),
            });
        }
        let addr = target.idp_listen;
        let tls = if target.idp_tls { Some(tls_identity(&target, &idp)?) } else { None };
        let tls_ca = tls.as_ref().map(trusted_ca).transpose()?;
        let started = match tls {
            Some(identity) => RunningServer::start_tls(addr, idp.clone(), identity).await,
            None => RunningServer::start(addr, idp.clone()).await,
        };
        let server = started.map_err(|source| SuiteError::Listen { addr, source })?;
        // Port 0 means "any free port": the org's URL then follows the port
        // actually bound, so metadata and SSO URLs point at this server.
        if addr.port() == 0 {
            let url = server.url();
            idp.write_org(|org| org.url = url);
        }
        Ok(Suite {
            target,
            idp,
            server,
            saml,
            no_session: tokio::sync::OnceCell::new(),
            sp_wants_assertions_signed: tokio::sync::OnceCell::new(),
            sp_request_signing: tokio::sync::OnceCell::new(),
            tls_ca,
            state_machine: StateMachineOptions { seed: rand::rng().random(), cases: DEFAULT_CASES },
            sso_verified_for_scim: tokio::sync::OnceCell::new(),
        })
    }

    /// The mock's local CA certificate file, when the suite serves the mock
    /// over TLS: the SP must trust it.
    pub fn tls_ca_file(&self) -> Option<&std::path::Path> {
        self.tls_ca.as_ref().map(|(path, _)| path.as_path())
    }

    /// Whether the mock serves over TLS, so that OpenID Connect Core 3.1.3.7
    /// step 6 applies to ID tokens from its token endpoint.
    fn serves_tls(&self) -> bool {
        self.tls_ca.is_some()
    }

    pub fn idp(&self) -> &Arc<Idp> {
        &self.idp
    }

    /// Replays the integration state machine from `seed` (random when
    /// `None`) with `cases` cases (the default when `None`).
    pub fn set_state_machine(&mut self, seed: Option<u64>, cases: Option<u32>) {
        if let Some(seed) = seed {
            self.state_machine.seed = seed;
        }
        if let Some(cases) = cases {
            self.state_machine.cases = cases;
        }
    }

    /// The integration state machine's seed and number of cases.
    pub fn state_machine_options(&self) -> StateMachineOptions {
        self.state_machine
    }

    /// Stops serving the mock IdP, freeing its address.
    pub async fn stop(self) {
        let _ = self.server.stop().await;
    }

    pub fn idp_url(&self) -> String {
        self.server.url()
    }

    /// Runs the checks, `concurrency` at a time, calling `progress` as each
    /// ends. Every check gets a result, in the order asked: a check whose
    /// task panics or is cancelled is an `error` with the reason.
    pub async fn run(
        self: &Arc<Self>,
        checks: Vec<Check>,
        progress: impl Fn(&CheckResult) + Send + Sync + 'static,
    ) -> Vec<CheckResult> {
        let order: Vec<&'static str> = checks.iter().map(|c| c.id).collect();
        if checks.iter().any(|c| {
            c.needs.contains(&Capability::ResponseSignatureSuffices)
                || c.needs.contains(&Capability::AssertionSignatureWanted)
        }) {
            self.read_sp_metadata().await;
        }
        // An SP that declares signed AuthnRequests gets an app that requires
        // them, as Okta's would be set up from its metadata, before any
        // check signs in (the cross-protocol checks sign in by SAML too).
        if checks.iter().any(|c| matches!(c.protocol(), Protocol::Saml | Protocol::Cross))
            && let Ok(declared) = self.declared_request_signing().await
        {
            saml::require_signed_requests(self, &declared);
        }
        let semaphore = Arc::new(tokio::sync::Semaphore::new(self.target.concurrency));
        let progress = Arc::new(progress);
        let (exclusive, shared): (Vec<Check>, Vec<Check>) = checks.into_iter().partition(|c| c.exclusive);
        let (first, exclusive): (Vec<Check>, Vec<Check>) = exclusive.into_iter().partition(runs_before_the_rest);
        // The check that SCIM waits for a verified SSO meets the SP first of
        // all, before any check (the SSO-enforcement one included) can sign
        // an admin in through the IdP.
        let (waits, first): (Vec<Check>, Vec<Check>) = first.into_iter().partition(waits_for_verified_sso);
        let needs_verified_sso = self.target.scim.as_ref().is_some_and(|s| s.requires_verified_sso)
            && first.iter().chain(&shared).chain(&exclusive).any(|c| self.uses_scim(c));
        let mut results = Vec::new();
        self.run_one_at_a_time(waits, progress.as_ref(), &mut results).await;
        // Then, where the SP takes SCIM only once SSO is verified, an admin
        // signs in through the IdP before any other check sends SCIM, as the
        // customer's admin would (also under --only, which leaves the check
        // above out).
        if needs_verified_sso {
            self.verify_sso_for_scim().await;
        }
        // Key rotations run alone before every other check: a relying party
        // may refetch keys for an unknown kid only once a minute, and other
        // checks send unknown kids. The SSO-enforcement check runs here too,
        // before any other check can sign an admin in through the IdP.
        self.run_one_at_a_time(first, progress.as_ref(), &mut results).await;
        let mut tasks = Vec::new();
        for check in shared {
            let suite = self.clone();
            let semaphore = semaphore.clone();
            let started = Instant::now();
            let task = tokio::spawn(async move {
                let _permit = semaphore.acquire().await;
                suite.run_check(&check).await
            });
            tasks.push((check, started, task));
        }
        for (check, started, task) in tasks {
            let result = settle(&check, started, task).await;
            progress(&result);
            results.push(result);
        }
        // Checks that change tenant-wide settings run alone, one at a time.
        self.run_one_at_a_time(exclusive, progress.as_ref(), &mut results).await;
        // Checks finish in any order; the results keep the order asked for.
        results.sort_by_key(|r| order.iter().position(|id| *id == r.id).unwrap_or(usize::MAX));
        results
    }

    /// Runs the checks one after another, each alone, adding their results.
    async fn run_one_at_a_time(
        self: &Arc<Self>,
        checks: Vec<Check>,
        progress: &(impl Fn(&CheckResult) + Send + Sync),
        results: &mut Vec<CheckResult>,
    ) {
        for check in checks {
            let suite = self.clone();
            let started = Instant::now();
            let task = tokio::spawn(async move { suite.run_check(&check).await });
            let result = settle(&check, started, task).await;
            progress(&result);
            results.push(result);
        }
    }

    /// Whether a check talks to the SP's SCIM server: the SCIM checks and
    /// those across protocols, whose people Okta provisions.
    fn uses_scim(&self, check: &Check) -> bool {
        matches!(check.protocol(), Protocol::Scim | Protocol::Cross) && !waits_for_verified_sso(check)
    }

    /// Signs an admin in through the IdP once, for an SP that takes SCIM
    /// only once SSO is verified; a sign-in that fails is kept, and every
    /// check that sends SCIM is then an error that says why.
    async fn verify_sso_for_scim(&self) -> &Result<String, String> {
        self.sso_verified_for_scim
            .get_or_init(|| async {
                match cross::scim_verified_sso::sign_in_an_admin(self, "scim-sso-verified").await {
                    Ok(outcome) => outcome,
                    Err(StepError(why)) => Err(why),
                }
            })
            .await
    }

    async fn run_check(&self, check: &Check) -> CheckResult {
        let started = Instant::now();
        if self.uses_scim(check)
            && let Some(Err(why)) = self.sso_verified_for_scim.get()
        {
            let reason = format!(
                "the SP takes SCIM only once sign-in through the IdP is verified (scim.requires_verified_sso), and the suite's admin sign-in before the SCIM checks failed: {why}"
            );
            return CheckResult::new(check, Verdict::Error, reason, None, started);
        }
        let reads_metadata = check.needs.contains(&Capability::ResponseSignatureSuffices)
            || check.needs.contains(&Capability::AssertionSignatureWanted);
        let metadata_problem = reads_metadata.then(|| self.sp_metadata_problem()).flatten();
        let mut outcome = match self.missing(check) {
            Some(reason) => Outcome { verdict: Verdict::Skip, reason, evidence: None },
            None if metadata_problem.is_some() => Outcome {
                verdict: Verdict::Error,
                reason: format!("the SP's metadata could not be read: {}", metadata_problem.unwrap_or_default()),
                evidence: None,
            },
            None => match self.execute(check).await {
                Ok(outcome) => outcome,
                Err(StepError(reason)) => Outcome { verdict: Verdict::Error, reason, evidence: None },
            },
        };
        // What the check finds weighs what its catalogue entry says: for a
        // policy the spec allows, a failure is a warning.
        if outcome.verdict == Verdict::Fail && check.weight == Weight::Warn {
            outcome.verdict = Verdict::Warn;
        }
        CheckResult::new(check, outcome.verdict, outcome.reason, outcome.evidence, started)
    }

    /// Hands the check to its protocol's driver.
    async fn execute(&self, check: &Check) -> Step<Outcome> {
        match check.action {
            Action::Saml(action) => saml::execute(self, action).await,
            Action::Oidc(action) => oidc::execute(self, action).await,
            Action::Scim(action) => scim::execute(self, action).await,
            Action::Cross(action) => cross::execute(self, action).await,
        }
    }

    /// Why the check cannot run against this target, if it cannot.
    fn missing(&self, check: &Check) -> Option<String> {
        let target = &self.target;
        let protocol_missing = match check.protocol() {
            Protocol::Saml => target.saml.is_none().then_some("the target declares no [saml] section"),
            Protocol::Oidc => target.oidc.is_none().then_some("the target declares no [oidc] section"),
            Protocol::Scim => target.scim.is_none().then_some("the target declares no [scim] section"),
            Protocol::Cross => (target.scim.is_none() || (target.saml.is_none() && target.oidc.is_none()))
                .then_some("the target needs [scim] and one of [saml] or [oidc] for checks that cross protocols"),
        };
        if let Some(reason) = protocol_missing {
            return Some(reason.into());
        }
        let session = target.session.as_ref();
        for need in check.needs {
            let reason = match need {
                Capability::SpInitiatedLogin => match check.protocol() {
                    Protocol::Oidc => target
                        .oidc
                        .as_ref()
                        .is_none_or(|o| o.login_url.is_none())
                        .then_some("the target has no oidc.login_url to start a sign-in at the relying party"),
                    _ => target
                        .saml
                        .as_ref()
                        .is_none_or(|s| s.login_url.is_none())
                        .then_some("the target has no saml.login_url for SP-initiated sign-in"),
                },
                Capability::IdpInitiatedSwitch => target
                    .set_idp_initiated
                    .is_none()
                    .then_some("the target has no set_idp_initiated hook to turn IdP-initiated sign-in off"),
                Capability::ClockHook => target.advance_clock.is_none().then_some(
                    "the target has no advance_clock hook to move the SP's clock past the session's SessionNotOnOrAfter, and the suite never waits for time to pass",
                ),
                Capability::NoJit => target
                    .accounts
                    .jit
                    .then_some("the target declares JIT, so an unknown user is expected to get an account"),
                Capability::Jit => (!target.accounts.jit).then_some(
                    "the SP creates no accounts at first sign-in (accounts.jit = false), so a user outside its domains is refused for having no account whatever its domain rule: there is nothing to judge",
                ),
                Capability::SessionAttributes => session.is_none_or(|s| s.name.is_none()).then_some(
                    "the target's session has no name_pointer (or given and family name pointers) to read attributes from",
                ),
                Capability::KeepsAccounts => (!target.accounts.keeps_accounts)
                    .then_some("the target says the SP keeps no accounts (accounts.keeps_accounts = false)"),
                Capability::ResponseSignatureSuffices => match self.wants_assertions_signed() {
                    Some((true, source)) => {
                        return Some(format!(
                            "the SP declares WantAssertionsSigned ({source}), so it refuses a response whose Assertion is unsigned by design"
                        ));
                    }
                    _ => None,
                },
                Capability::AssertionSignatureWanted => match self.wants_assertions_signed() {
                    Some((true, _)) => None,
                    _ => {
                        return Some(
                            "the SP does not declare WantAssertionsSigned (in its metadata or the target's saml.want_assertions_signed), so a signed Response around an unsigned Assertion is allowed (saml.sig.response_only)".into(),
                        );
                    }
                },
                Capability::SingleLogoutEndpoint => target
                    .saml
                    .as_ref()
                    .is_none_or(|s| s.slo_url.is_none())
                    .then_some("the target has no saml.slo_url (the SP's Single Logout endpoint)"),
                Capability::SpInitiatedLogout => target
                    .saml
                    .as_ref()
                    .is_none_or(|s| s.logout_url.is_none() || s.slo_url.is_none())
                    .then_some("the target has no saml.logout_url and saml.slo_url for SP-initiated Single Logout"),
                Capability::EmailDomains => match target.accounts.email_domains {
                    EmailDomains::Only(_) => None,
                    EmailDomains::Any => Some("the target says the SP accepts every email domain"),
                    EmailDomains::Undeclared => Some("the target declares no accounts.email_domains"),
                },
            };
            if let Some(reason) = reason {
                return Some(reason.into());
            }
        }
        // Sign-in checks need an account for each canary; a SCIM check makes
        // its own, so it needs no hook.
        let signs_in = matches!(check.protocol(), Protocol::Saml | Protocol::Oidc);
        if signs_in && target.accounts.keeps_accounts && !target.accounts.jit && target.create_user.is_none() {
            return Some("the SP does not create users at first sign-in and the target has no create_user hook".into());
        }
        None
    }

    /// Reads the SP's metadata once, when the target gives its URL and does
    /// not say itself whether the SP wants signed Assertions.
    async fn read_sp_metadata(&self) {
        let Some(saml) = &self.target.saml else { return };
        let (Some(url), None) = (&saml.metadata_url, saml.want_assertions_signed) else { return };
        self.sp_wants_assertions_signed
            .get_or_init(|| async {
                let browser = self.browser().map_err(|StepError(why)| why)?;
                let answer = browser.get(url).await.map_err(|StepError(why)| why)?;
                if answer.status != 200 {
                    return Err(format!("the SP metadata URL {url} answered {}", answer.status));
                }
                saml::wants_assertions_signed(&answer.body)
            })
            .await;
    }

    /// Whether the SP wants signed Assertions, and where that was read:
    /// the target's own word first, then the SP's metadata.
    fn wants_assertions_signed(&self) -> Option<(bool, &'static str)> {
        let saml = self.target.saml.as_ref()?;
        if let Some(declared) = saml.want_assertions_signed {
            return Some((declared, "in the target"));
        }
        match self.sp_wants_assertions_signed.get() {
            Some(Ok(wants)) => Some((*wants, "in its metadata")),
            _ => None,
        }
    }

    /// What the SP declares about signing its AuthnRequests, read once.
    async fn declared_request_signing(&self) -> Result<saml::DeclaredRequestSigning, String> {
        self.sp_request_signing.get_or_init(|| saml::read_declaration(self)).await.clone()
    }

    /// Why the SP's metadata could not be read, when a check needed it.
    fn sp_metadata_problem(&self) -> Option<&str> {
        self.sp_wants_assertions_signed.get().and_then(|read| read.as_ref().err()).map(String::as_str)
    }

    /// The session oracle; a target that signs in always has one.
    fn session_oracle(&self) -> Step<&SessionOracle> {
        self.target.session.as_ref().ok_or_else(|| StepError("the target has no [session] section".into()))
    }

    /// What the session body `body_text` lacks of `user`: the name (whole,
    /// or given and family, as the target's pointers say) and, when
    /// `look_for_groups` and the target has a groups pointer, the canary
    /// group. The SAML and OIDC attribute checks both judge by it.
    fn session_attribute_problems(&self, body_text: &str, user: &Canary, look_for_groups: bool) -> Step<Vec<String>> {
        let oracle = self.session_oracle()?;
        let body: serde_json::Value = serde_json::from_str(body_text)
            .map_err(|e| StepError(format!("the session oracle's body is not JSON: {e}")))?;
        let text_at = |pointer: &str| body.pointer(pointer).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let mut problems = Vec::new();
        match &oracle.name {
            Some(NamePointers::Whole(pointer)) => {
                let name = text_at(pointer);
                if !name.to_lowercase().contains(&user.name.to_lowercase()) {
                    problems.push(format!("the name is '{name}', not '{}'", user.name));
                }
            }
            Some(NamePointers::GivenAndFamily { given, family }) => {
                let (given_name, family_name) = (text_at(given), text_at(family));
                if !given_name.eq_ignore_ascii_case("Canary") {
                    problems.push(format!("the given name is '{given_name}', not 'Canary'"));
                }
                if !family_name.eq_ignore_ascii_case(&user.family_name) {
                    problems.push(format!("the family name is '{family_name}', not '{}'", user.family_name));
                }
            }
            None => return Err(StepError("the target's session shows no name".into())),
        }
        if let Some(pointer) = oracle.groups_pointer.as_ref().filter(|_| look_for_groups) {
            let groups: Vec<&str> = body
                .pointer(pointer)
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|g| g.as_str()).collect())
                .unwrap_or_default();
            if !groups.contains(&CANARY_GROUP) {
                problems.push(format!("the groups are {groups:?}, without '{CANARY_GROUP}'"));
            }
        }
        Ok(problems)
    }

    /// Asks the session oracle whose session `browser` has.
    async fn oracle(&self, browser: &Browser) -> Step<oracle::Seen> {
        oracle::ask(self.session_oracle()?, browser).await
    }

    /// What the session URL answers a browser that started a sign-in and
    /// never finished it.
    async fn no_session_baseline(&self) -> Step<&oracle::Seen> {
        self.no_session
            .get_or_try_init(|| async {
                // A browser that has started a sign-in but not finished it,
                // as every judged browser has: an SP may keep some state
                // for a login in progress (a nonce, a return path), which is
                // no session. Starting one is best effort; the answer of a
                // fresh browser serves where it cannot start.
                let started = self.browser()?;
                let idp_url = self.idp_url();
                let login_url = self
                    .target
                    .saml
                    .as_ref()
                    .and_then(|s| s.login_url.clone())
                    .or_else(|| self.target.oidc.as_ref().and_then(|o| o.login_url.clone()));
                if let Some(login_url) = login_url {
                    let _ = started.follow(&login_url, |location| location.starts_with(&idp_url)).await;
                }
                self.oracle(&started).await
            })
            .await
    }

    /// For a message that must be refused outright: whether the SP gave the
    /// browser a session of any kind, whoever it names or none, and what the
    /// oracle saw, told against a never-signed-in browser.
    async fn judge_any_session(&self, seen: &oracle::Seen) -> Step<(bool, String)> {
        let baseline = self.no_session_baseline().await?;
        Ok((seen.shows_a_session(baseline), seen.describe_against(baseline)))
    }

    fn browser(&self) -> Step<Browser> {
        Browser::trusting(self.target.timeout, self.tls_ca.as_ref().map(|(_, certificate)| certificate))
    }

    /// Adds a user to the in-process org and assigns it to `app_id`.
    fn canary(&self, app_id: &str, prefix: &str, domain: Option<&str>) -> Step<Canary> {
        let tag: String = {
            let mut rng = rand::rng();
            (0..10).map(|_| char::from(b'a' + rng.random_range(0..26u8))).collect()
        };
        let now = self.idp.now();
        // Through the IdP's change feed, as the management API would, so a
        // subscriber (the provisioning engine) sees canaries like any user.
        // A step that fails part-way still publishes what the earlier steps
        // changed, so the feed never misses a change to the org.
        self.idp.change_org(|org| {
            let mut changes = Vec::new();
            let domain = domain.map(str::to_owned).unwrap_or_else(|| self.canary_domain(&org.email_domain));
            let spec = CanarySpec { app_id, prefix, tag: &tag, domain: &domain };
            let made = add_canary(org, &spec, now, self.idp.ids(), &mut changes);
            Ok::<_, StepError>((made, changes))
        })?
    }

    /// Adds `count` users to the in-process org, each assigned to `app_id`,
    /// in one change to the org (not one API call each), for a check that
    /// needs a crowd, such as a group larger than one page.
    fn canaries(&self, app_id: &str, prefix: &str, count: usize) -> Step<Vec<Canary>> {
        let now = self.idp.now();
        self.idp.change_org(|org| {
            let mut changes = Vec::new();
            let domain = self.canary_domain(&org.email_domain);
            let made = (0..count)
                .map(|_| {
                    let tag: String = {
                        let mut rng = rand::rng();
                        (0..10).map(|_| char::from(b'a' + rng.random_range(0..26u8))).collect()
                    };
                    let spec = CanarySpec { app_id, prefix, tag: &tag, domain: &domain };
                    add_canary(org, &spec, now, self.idp.ids(), &mut changes)
                })
                .collect::<Step<Vec<Canary>>>();
            Ok::<_, StepError>((made, changes))
        })?
    }

    /// Adds a user with the given email to the in-process org, assigned to
    /// `app_id`, for checks whose person needs an address of a given shape
    /// (a case variant, a look-alike, a +tag).
    fn org_user(&self, app_id: &str, email: &str, tag: &str) -> Step<Canary> {
        let now = self.idp.now();
        self.idp.change_org(|org| {
            let mut changes = Vec::new();
            let made = add_org_user(org, app_id, email, tag, now, self.idp.ids(), &mut changes);
            Ok::<_, StepError>((made, changes))
        })?
    }

    /// The domain of ordinary canaries: the org's, unless the target lists
    /// the domains the SP accepts without it; then the first of those, so the
    /// positive control is not refused for its domain.
    fn canary_domain(&self, org_domain: &str) -> String {
        match &self.target.accounts.email_domains {
            EmailDomains::Only(domains) if !domains.iter().any(|d| d.eq_ignore_ascii_case(org_domain)) => {
                domains.first().cloned().unwrap_or_else(|| org_domain.to_owned())
            }
            _ => org_domain.to_owned(),
        }
    }

    /// A domain the SP must not accept: outside every declared domain.
    fn outside_domain(&self) -> String {
        let mut candidate = "evil.invalid".to_owned();
        if let EmailDomains::Only(domains) = &self.target.accounts.email_domains {
            while domains.iter().any(|d| d.eq_ignore_ascii_case(&candidate)) {
                candidate = format!("outside.{candidate}");
            }
        }
        candidate
    }

    /// Calls a hook and returns the text of its answer (at most 1 MiB). An
    /// answer cut short is an error: a listing read in part could miss the
    /// very account a check looks for.
    async fn call_hook(&self, name: &str, hook: &crate::target::Hook, fills: &[(&str, &str)]) -> Step<String> {
        let HookAnswer { status, body, .. } = self.hook_answer(name, hook, fills).await?;
        if !status.is_success() {
            return Err(StepError(format!("{name} hook answered {status}: {}", excerpt(&body.text, 200))));
        }
        body.whole(&format!("the {name} hook's answer"))
    }

    /// Calls a hook and returns its answer whatever the status, for a check
    /// that judges the SP's refusal itself; only a transport error is an
    /// error here.
    async fn hook_answer(&self, name: &str, hook: &crate::target::Hook, fills: &[(&str, &str)]) -> Step<HookAnswer> {
        let client = Browser::for_hooks(self.target.timeout)?;
        let mut request = client.client().request(hook.method.clone(), &hook.url);
        if let Some((user_name, password)) = &hook.basic_auth {
            request = request.basic_auth(user_name, Some(password));
        }
        if let Some(body) = &hook.body {
            let filled = fills.iter().fold(body.clone(), |text, (key, value)| text.replace(key, value));
            request = request.header("content-type", "application/json").body(filled);
        }
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(&format!("{name} hook"), &hook.url, self.target.timeout, &e))?;
        let status = response.status();
        let error_code = response.headers().get("x-error-code").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = read_body(response, HOOK_BODY_LIMIT, self.target.timeout).await;
        Ok(HookAnswer { status, error_code, body })
    }

    /// Creates the SP account through the hook when the SP keeps accounts
    /// and has no JIT.
    async fn ensure_account(&self, user: &Canary) -> Step<()> {
        if self.target.accounts.jit || !self.target.accounts.keeps_accounts {
            return Ok(());
        }
        let Some(hook) = &self.target.create_user else { return Err(StepError("no create_user hook".into())) };
        self.call_hook("create_user", hook, &[("{email}", &user.email), ("{name}", &user.name)]).await?;
        Ok(())
    }
}

/// A hook's answer, whatever its status.
struct HookAnswer {
    status: reqwest::StatusCode,
    /// The `X-Error-Code` header, where the SP names its refusal in one.
    error_code: Option<String>,
    body: browser::Body,
}

/// Who a new canary is: `{prefix}-{tag}@{domain}`, assigned to `app_id`.
struct CanarySpec<'a> {
    app_id: &'a str,
    prefix: &'a str,
    tag: &'a str,
    domain: &'a str,
}

/// Adds a canary user to the org, assigns it to the app and puts it in the
/// canary group, recording each change in `changes` as it is made.
fn add_canary(
    org: &mut mock_idp::org::Org,
    spec: &CanarySpec<'_>,
    now: time::OffsetDateTime,
    ids: &dyn mock_idp::ids::IdGenerator,
    changes: &mut Vec<mock_idp::admin::OrgChange>,
) -> Step<Canary> {
    let CanarySpec { app_id, prefix, tag, domain } = *spec;
    add_org_user(org, app_id, &format!("{prefix}-{tag}@{domain}"), tag, now, ids, changes)
}

/// Adds a user whose login and email are `email` (first name `Canary`, last
/// name `tag`), assigns it to the app and puts it in the canary group,
/// recording each change in `changes` as it is made.
fn add_org_user(
    org: &mut mock_idp::org::Org,
    app_id: &str,
    email: &str,
    tag: &str,
    now: time::OffsetDateTime,
    ids: &dyn mock_idp::ids::IdGenerator,
    changes: &mut Vec<mock_idp::admin::OrgChange>,
) -> Step<Canary> {
    let email = email.to_owned();
    let body = serde_json::from_value(serde_json::json!({"profile": {
        "login": email, "email": email, "firstName": "Canary", "lastName": tag
    }}))
    .map_err(|e| StepError(e.to_string()))?;
    let created = mock_idp::admin::create_user(org, body, true, now, ids)
        .map_err(|e| StepError(format!("cannot add canary: {e}")))?;
    changes.extend(created.changes);
    let assignment = serde_json::from_value(serde_json::json!({})).map_err(|e| StepError(e.to_string()))?;
    let assigned = mock_idp::admin::assign_user(org, app_id, Some(&email), assignment, now)
        .map_err(|e| StepError(format!("cannot assign canary: {e}")))?;
    changes.extend(assigned.changes);
    // Every canary is in one group, so the groups attribute has a value.
    if org.find_group(CANARY_GROUP).is_none() {
        let group = serde_json::from_value(serde_json::json!({"profile": {"name": CANARY_GROUP}}))
            .map_err(|e| StepError(e.to_string()))?;
        let made = mock_idp::admin::create_group(org, group, now, ids)
            .map_err(|e| StepError(format!("cannot add the canary group: {e}")))?;
        changes.extend(made.changes);
    }
    let group_id = org.find_group(CANARY_GROUP).map(|g| g.id.to_string()).unwrap_or_default();
    let joined = mock_idp::admin::add_member(org, &group_id, &email, now)
        .map_err(|e| StepError(format!("cannot add the canary to its group: {e}")))?;
    changes.extend(joined.changes);
    Ok(Canary { email, name: format!("Canary {tag}"), family_name: tag.to_owned() })
}

/// Whether an exclusive check runs before the shared ones rather than after:
/// the key rotations, which must not follow the checks that send unknown
/// kids, and the SSO-enforcement lockout check, which must meet the SP
/// before any other check of this run has signed an admin in through the
/// IdP (after that the SP rightly lets SSO be required, and the check can
/// only skip).
fn runs_before_the_rest(check: &Check) -> bool {
    matches!(
        check.action,
        Action::Oidc(crate::catalogue::OidcAction::RotateKeys { .. })
            | Action::Cross(crate::catalogue::CrossAction::LockoutSafety(
                crate::catalogue::LockoutSafetyAction::SsoEnforcementNeedsAdminSignIn
                    | crate::catalogue::LockoutSafetyAction::ScimWaitsForVerifiedSso
            ))
    )
}

/// Whether a check is `cross.lockout_safety.scim_waits_for_verified_sso`,
/// which must meet the SP before anyone signs an admin in.
fn waits_for_verified_sso(check: &Check) -> bool {
    matches!(
        check.action,
        Action::Cross(crate::catalogue::CrossAction::LockoutSafety(
            crate::catalogue::LockoutSafetyAction::ScimWaitsForVerifiedSso
        ))
    )
}

/// Waits for a check's task. A task that panicked or was cancelled still
/// gives a result, an `error` that says so: a check is never dropped.
async fn settle(check: &Check, started: Instant, task: tokio::task::JoinHandle<CheckResult>) -> CheckResult {
    match task.await {
        Ok(result) => result,
        Err(error) => {
            let reason = if error.is_panic() {
                let payload = error.into_panic();
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".to_owned());
                format!("the check panicked (a bug in mockta, please report it): {message}")
            } else {
                "the check's task was cancelled before it finished".to_owned()
            };
            CheckResult::new(check, Verdict::Error, reason, None, started)
        }
    }
}

fn excerpt(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn panicking_check() -> CheckResult {
        panic!("the driver met something it never expected")
    }

    #[tokio::test]
    async fn a_check_that_panics_is_an_error_with_the_reason() {
        let check = crate::catalogue::all_checks().remove(0);
        let task = tokio::spawn(panicking_check());
        let result = settle(&check, Instant::now(), task).await;
        assert_eq!(result.verdict, Verdict::Error);
        assert_eq!(result.id, check.id);
        assert!(result.reason.contains("panicked") && result.reason.contains("never expected"), "{}", result.reason);
    }

    #[tokio::test]
    async fn a_check_whose_task_is_cancelled_is_an_error() {
        let check = crate::catalogue::all_checks().remove(0);
        let task = tokio::spawn(std::future::pending::<CheckResult>());
        task.abort();
        let result = settle(&check, Instant::now(), task).await;
        assert_eq!(result.verdict, Verdict::Error);
        assert!(result.reason.contains("cancelled"), "{}", result.reason);
    }
}
