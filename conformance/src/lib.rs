//! The conformance suite: checks with stable ids that run the mock Okta IdP
//! against any SP described by a target file, and judge the SP by what its
//! session oracle sees, not by status codes.
//!
//! [`target`] reads the target file, [`catalogue`] lists the checks (one
//! module per protocol), [`runner`] serves the mock IdP in-process and runs
//! checks with canary users through one driver per protocol, and [`report`]
//! renders the results. The suite knows nothing of the reference SP: that is
//! only a dev-dependency, the positive control of the tests.

pub mod catalogue;
pub mod explain;
pub mod init;
pub mod oin;
pub mod profile;
pub mod report;
pub mod runner;
pub mod target;

use std::sync::Arc;

use catalogue::{Check, Protocol, all_checks};
use report::Report;
use runner::{CheckResult, Suite, SuiteError};
use target::Target;

/// The checks of `protocol` (all protocols when `None`) whose id matches
/// `pattern` (`*` matches any run of characters; no pattern selects all). A
/// pattern that matches nothing is an error.
pub fn select(pattern: Option<&str>, protocol: Option<Protocol>) -> Result<Vec<Check>, String> {
    let all: Vec<Check> = all_checks().into_iter().filter(|c| protocol.is_none_or(|p| c.protocol() == p)).collect();
    if let Some(protocol) = protocol
        && all.is_empty()
    {
        // A run that checks nothing must not look like a green one.
        return Err(format!("--protocol: the catalogue has no {} checks yet", protocol.as_str()));
    }
    let Some(pattern) = pattern else { return Ok(all) };
    let regex =
        regex::Regex::new(&format!("^{}$", regex::escape(pattern).replace("\\*", ".*"))).map_err(|e| e.to_string())?;
    let selected: Vec<Check> = all.into_iter().filter(|c| regex.is_match(c.id)).collect();
    if selected.is_empty() {
        return Err(format!("--only: '{pattern}' matches no check (run `mockta checks` for the ids)"));
    }
    Ok(selected)
}

/// The checks of the protocols the target declares, in report order: what a
/// run against it can judge, without a skip for each protocol it lacks.
pub fn checks_for_target(target: &Target) -> Vec<Check> {
    all_checks().into_iter().filter(|c| target.declares(c.protocol())).collect()
}

/// Serves the target's org (signing with the keys in `key_dir`, or the org
/// file's default key folder), runs the checks and returns the report.
pub async fn run(
    target: Target,
    label: String,
    checks: Vec<Check>,
    key_dir: Option<std::path::PathBuf>,
    progress: impl Fn(&CheckResult) + Send + Sync + 'static,
) -> Result<Report, SuiteError> {
    run_seeded(target, label, checks, key_dir, None, progress).await
}

/// As [`run`], with the integration state machine's seed given (`mockta
/// check --seed`), so a run replays the sequences of an earlier one; the
/// report names the seed whenever the state machine ran.
pub async fn run_seeded(
    target: Target,
    label: String,
    checks: Vec<Check>,
    key_dir: Option<std::path::PathBuf>,
    state_machine_seed: Option<u64>,
    progress: impl Fn(&CheckResult) + Send + Sync + 'static,
) -> Result<Report, SuiteError> {
    let suite = Arc::new(start_seeded(target, key_dir, state_machine_seed).await?);
    let results = suite.run(checks, progress).await;
    Ok(report_of(&suite, label, results))
}

/// Serves the target's org with the state machine's seed given.
async fn start_seeded(
    target: Target,
    key_dir: Option<std::path::PathBuf>,
    state_machine_seed: Option<u64>,
) -> Result<Suite, SuiteError> {
    let mut suite = Suite::start(target, key_dir).await?;
    suite.set_state_machine(state_machine_seed, None);
    Ok(suite)
}

/// The report of a run: its results, the mock's CA file when it served
/// HTTPS, and the state machine's seed when it ran.
fn report_of(suite: &Suite, label: String, results: Vec<CheckResult>) -> Report {
    let mut report = Report::new(label, results);
    report.idp_ca_file = suite.tls_ca_file().map(|path| path.display().to_string());
    report.note_state_machine_seed(suite.state_machine_options().seed);
    report
}

/// As [`run_seeded`], then judges the target's OIN readiness (`mockta check
/// --profile oin`); the report carries it.
pub async fn run_oin(
    target: Target,
    label: String,
    checks: Vec<Check>,
    key_dir: Option<std::path::PathBuf>,
    state_machine_seed: Option<u64>,
    progress: impl Fn(&CheckResult) + Send + Sync + 'static,
) -> Result<Report, SuiteError> {
    let suite = start_seeded(target.clone(), key_dir, state_machine_seed).await?;
    Ok(run_oin_on(suite, &target, label, checks, progress).await)
}

/// Runs the checks on a suite already serving the target's org (tests give
/// one whose org they pointed at their SP) and judges the OIN readiness from
/// the org's and target's declarations, read before any check changes the
/// org, the scopes the relying party was seen to ask for, and the results.
pub async fn run_oin_on(
    suite: Suite,
    target: &Target,
    label: String,
    checks: Vec<Check>,
    progress: impl Fn(&CheckResult) + Send + Sync + 'static,
) -> Report {
    let mut facts = suite.idp().read_org(|org| oin::Facts::gather(target, org));
    let client = suite
        .idp()
        .read_org(|org| target.oidc.as_ref().and_then(|oidc| org.find_app(&oidc.app)).map(|app| app.id.clone()));
    let suite = Arc::new(suite);
    let results = suite.run(checks, progress).await;
    // The scopes the relying party asked for are read after the run, from
    // the authorizations its sign-ins made.
    if let Some(client) = client {
        facts.note_requested_scopes(suite.idp().requested_scopes(&client));
    }
    let mut report = report_of(&suite, label, results);
    report.oin = Some(oin::judge(&facts, &report.results));
    report
}
