//! The vendor profiles: each plays one vendor guide of `../shared/seeds/`
//! end to end against a reference-SP tenant set up as that vendor's SP
//! behaves, then runs the checks that apply, as `mockta demo --profile`.
//!
//! A profile is four files in `fixtures/profiles/NAME/`, built into the
//! binary: the mock org as the guide sets up Okta (`org.toml`), the reference
//! SP playing the vendor (`sp.toml`), how the suite reaches it
//! (`target.toml`), and the play and flawed twin (`profile.toml`). The files
//! use the default addresses (IdP 127.0.0.1:7000, SP 127.0.0.1:7100), so
//! `mockta idp --org` and `mockta sp --config` run them as they are; a run
//! here rewrites them for the addresses it actually binds.
//!
//! The play runs first, on a fresh SP and a fresh org, so the guide's story
//! starts from nothing as a customer's does; the checks then run on another
//! fresh pair, so nothing the play left (an admin already signed in) hides
//! what a check judges.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use conformance::profile::{Profile, parse_profile};
use conformance::report::Report;
use conformance::runner::SuiteError;
use conformance::runner::{CheckResult, PlayOutcome, Suite};
use conformance::target::{TargetError, parse_target};

/// Why a profile could not be run at all (a run whose checks fail is a
/// report, not an error).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProfileRunError {
    #[error("{0}")]
    Profile(String),
    #[error("{0}")]
    Target(#[from] TargetError),
    #[error("{0}")]
    Suite(#[from] SuiteError),
    #[error("reference SP: {0}")]
    Sp(String),
    #[error("mock IdP: {0}")]
    Idp(String),
}

/// The address every profile file uses for the reference SP.
const FILE_SP_URL: &str = "http://127.0.0.1:7100";
/// The address every profile file uses for the mock IdP.
const FILE_IDP_URL: &str = "http://127.0.0.1:7000";

/// One built-in profile's files.
pub(crate) struct BuiltinProfile {
    pub(crate) name: &'static str,
    profile: &'static str,
    org: &'static str,
    sp: &'static str,
    target: &'static str,
}

macro_rules! builtin {
    ($name:literal) => {
        BuiltinProfile {
            name: $name,
            profile: include_str!(concat!("../fixtures/profiles/", $name, "/profile.toml")),
            org: include_str!(concat!("../fixtures/profiles/", $name, "/org.toml")),
            sp: include_str!(concat!("../fixtures/profiles/", $name, "/sp.toml")),
            target: include_str!(concat!("../fixtures/profiles/", $name, "/target.toml")),
        }
    };
}

/// The five vendor profiles, in the seeds' order.
pub(crate) fn builtin_profiles() -> Vec<BuiltinProfile> {
    vec![builtin!("mobius"), builtin!("moovingon"), builtin!("koopid"), builtin!("appenate"), builtin!("moxion")]
}

/// The built-in profile called `name`, or the one-line error listing them.
pub(crate) fn find_profile(name: &str) -> Result<BuiltinProfile, String> {
    let mut all = builtin_profiles();
    match all.iter().position(|p| p.name == name) {
        Some(index) => Ok(all.swap_remove(index)),
        None => Err(format!(
            "--profile: no profile '{name}' (there are: {})",
            builtin_profiles().iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
        )),
    }
}

impl BuiltinProfile {
    pub(crate) fn parse(&self) -> Result<Profile, ProfileRunError> {
        parse_profile(&format!("fixtures/profiles/{}/profile.toml (built in)", self.name), self.profile)
            .map_err(|e| ProfileRunError::Profile(e.to_string()))
    }

    /// The number of checks a run of this profile judges.
    pub(crate) fn check_count(&self) -> Result<usize, ProfileRunError> {
        let target = parse_target(&self.target_label(), self.target, Path::new("."))?;
        Ok(conformance::checks_for_target(&target).len())
    }

    fn target_label(&self) -> String {
        format!("fixtures/profiles/{}/target.toml (built in)", self.name)
    }
}

/// A run's line in the demo's summary: its name, whether it passed, and its
/// counts.
pub(crate) fn summary_line(name: &str, passed: bool, report: &Report) -> String {
    let counts = &report.summary;
    format!(
        "{name:<26} {:<6} {} checks: {} passed, {} failed, {} warned, {} skipped, {} errors",
        if passed { "ok" } else { "FAILED" },
        report.results.len(),
        counts.pass,
        counts.fail,
        counts.warn,
        counts.skip,
        counts.error
    )
}

/// What a profile run gave.
pub(crate) struct ProfileRun {
    pub(crate) profile: Profile,
    pub(crate) report: Report,
    pub(crate) play: PlayOutcome,
}

impl ProfileRun {
    /// The profile's line in the demo's summary.
    pub(crate) fn summary_line(&self, strict: bool) -> String {
        format!(
            "{}; play {}/{} steps held{}",
            summary_line(&self.profile.name, self.passed(strict), &self.report),
            self.play.lines.iter().filter(|l| l.passed).count(),
            self.play.lines.len(),
            self.failing_suffix()
        )
    }

    /// "; not passed: id, id; play steps failed: 2" when anything did not pass.
    fn failing_suffix(&self) -> String {
        let mut suffix = String::new();
        let failing = self.failing_checks();
        if !failing.is_empty() {
            suffix.push_str(&format!("; not passed: {}", failing.into_iter().collect::<Vec<_>>().join(", ")));
        }
        let steps = self.play.failed_steps();
        if !steps.is_empty() {
            let steps: Vec<String> = steps.iter().map(usize::to_string).collect();
            suffix.push_str(&format!("; play steps failed: {}", steps.join(", ")));
        }
        suffix
    }

    pub(crate) fn passed(&self, strict: bool) -> bool {
        self.report.ok(strict) && self.play.passed()
    }

    /// The ids of the checks that failed (or warned, or errored).
    pub(crate) fn failing_checks(&self) -> std::collections::BTreeSet<String> {
        use conformance::runner::Verdict;
        self.report
            .results
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Warn | Verdict::Error))
            .map(|r| r.id.to_owned())
            .collect()
    }
}

/// Where a profile run listens and keeps its files.
pub(crate) struct ProfilePlace<'a> {
    pub(crate) sp: SocketAddr,
    pub(crate) idp: SocketAddr,
    /// Each run's SP database, org file and keys go in a folder here.
    pub(crate) dir: &'a Path,
}

/// Plays the profile, then runs its checks, against the reference SP with
/// `flaws` switched on.
pub(crate) async fn run_profile(
    builtin: &BuiltinProfile,
    flaws: &[String],
    place: &ProfilePlace<'_>,
    progress: impl Fn(&CheckResult) + Send + Sync + Clone + 'static,
) -> Result<ProfileRun, ProfileRunError> {
    let profile = builtin.parse()?;
    let play = {
        let pair = Pair::start(builtin, flaws, place, "play").await?;
        let play = pair.suite.play(&profile.play).await;
        pair.stop().await;
        play
    };
    let pair = Pair::start(builtin, flaws, place, "checks").await?;
    let checks = conformance::checks_for_target(&pair.target);
    let results = pair.suite.run(checks, progress).await;
    let mut report = Report::new(format!("profile {} ({})", profile.name, profile.title), results);
    report.note_state_machine_seed(pair.suite.state_machine_options().seed);
    pair.stop().await;
    Ok(ProfileRun { profile, report, play })
}

/// A fresh mock org and a fresh reference SP, serving each other.
struct Pair {
    suite: Arc<Suite>,
    target: conformance::target::Target,
    sp_server: reference_sp::http::RunningSp,
}

impl Pair {
    async fn start(
        builtin: &BuiltinProfile,
        flaws: &[String],
        place: &ProfilePlace<'_>,
        run: &str,
    ) -> Result<Pair, ProfileRunError> {
        let dir = place.dir.join(format!("{}-{run}", builtin.name));
        std::fs::create_dir_all(&dir)
            .map_err(|e| ProfileRunError::Sp(format!("cannot make {}: {e}", dir.display())))?;
        let sp_listener =
            listen(place.sp).map_err(|e| ProfileRunError::Sp(format!("cannot listen on {}: {e}", place.sp)))?;
        let sp_url = format!("http://{}", sp_listener.local_addr().map_err(|e| ProfileRunError::Sp(e.to_string()))?);

        // The org's apps send browsers and SCIM requests to the SP's address.
        let org_path = dir.join("org.toml");
        std::fs::write(&org_path, builtin.org.replace(FILE_SP_URL, &sp_url))
            .map_err(|e| ProfileRunError::Idp(format!("cannot write {}: {e}", org_path.display())))?;
        let target_text = builtin
            .target
            .replace(
                &format!("listen = \"{}\"", FILE_IDP_URL.trim_start_matches("http://")),
                &format!("listen = \"{}\"", place.idp),
            )
            .replace(FILE_SP_URL, &sp_url);
        let target = parse_target(&builtin.target_label(), &target_text, &dir)?;
        let suite = Arc::new(Suite::start(target.clone(), Some(place.dir.join("keys"))).await?);

        let database = dir.join("sp.sqlite3");
        let _ = std::fs::remove_file(&database);
        let config = builtin
            .sp
            .replace(FILE_IDP_URL, &suite.idp_url())
            .replace(FILE_SP_URL, &sp_url)
            .lines()
            .map(|line| {
                if line.starts_with("database = ") {
                    format!("database = \"{}\"", database.display())
                } else {
                    line.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let config_path = dir.join("sp.toml");
        std::fs::write(&config_path, config)
            .map_err(|e| ProfileRunError::Sp(format!("cannot write {}: {e}", config_path.display())))?;
        let options =
            reference_sp::setup::SpOptions { config: Some(config_path), flaws: flaws.to_vec(), ..Default::default() };
        let sp = Arc::new(options.build().map_err(|e| ProfileRunError::Sp(e.to_string()))?);
        reference_sp::idp_fetch::refresh_all(&sp).await;
        let sp_server =
            reference_sp::http::RunningSp::serve(sp_listener, sp).map_err(|e| ProfileRunError::Sp(e.to_string()))?;
        Ok(Pair { suite, target, sp_server })
    }

    async fn stop(self) {
        let _ = self.sp_server.stop().await;
        if let Ok(suite) = Arc::try_unwrap(self.suite) {
            suite.stop().await;
        }
    }
}

/// A listener on `addr` that a run just before may have used: the address
/// is reusable at once, as the demo binds the same ports run after run.
fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}
