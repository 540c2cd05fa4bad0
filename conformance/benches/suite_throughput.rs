//! The suite's default run, the whole catalogue (SAML, OIDC, SCIM and the
//! cross-protocol checks), against the reference SP's acme tenant: wall
//! time per protocol and for the whole run, next to a baseline measured in
//! the same run on the same machine.
//!
//! The baseline is one check run on its own (`saml.sso.idp_initiated`: one
//! signed response, one ACS post, one session read), repeated; the report
//! says how many of those the whole catalogue costs, so a slower machine
//! moves both numbers and the ratio stays comparable between runs.
//!
//! Run with `cargo bench -p conformance --bench suite_throughput`. The
//! target is the whole catalogue in under 5 seconds on 2 cores.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use conformance::catalogue::{Check, Protocol, all_checks};
use conformance::runner::{Suite, Verdict};

/// How many times the baseline check runs; its median is the unit.
const BASELINE_RUNS: usize = 15;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let catalogue = all_checks();
        // Each measured run gets a new mock org and a new reference SP: the
        // catalogue is made to run once against an SP (a relying party may
        // refetch keys once a minute; the SCIM owner is made once).
        let baseline_check: Vec<Check> = catalogue.iter().filter(|c| c.id == "saml.sso.idp_initiated").cloned().collect();
        let baseline_run = ReferenceRun::start().await;
        let mut baseline_seconds = Vec::with_capacity(BASELINE_RUNS);
        for _ in 0..BASELINE_RUNS {
            baseline_seconds.push(timed_run(&baseline_run.suite, baseline_check.clone()).await);
        }
        baseline_seconds.sort_by(f64::total_cmp);
        let baseline = baseline_seconds[BASELINE_RUNS / 2];

        println!("suite_throughput ({} cores)", std::thread::available_parallelism().map_or(1, |n| n.get()));
        println!("  baseline: one check run alone (saml.sso.idp_initiated), median of {BASELINE_RUNS}: {:.1} ms", baseline * 1000.0);
        let count = catalogue.len();
        let whole = ReferenceRun::start().await;
        let (seconds, passed, skipped) = timed_counted_run(&whole.suite, catalogue.clone()).await;
        println!(
            "  whole catalogue (the default run): {count} checks ({passed} pass, {skipped} skip) in {seconds:.2} s, {:.1} checks/s ({:.0} × the baseline; target: under 5 s)",
            count as f64 / seconds,
            seconds / baseline
        );
        for protocol in [Protocol::Saml, Protocol::Oidc, Protocol::Scim, Protocol::Cross] {
            let checks: Vec<Check> = catalogue.iter().filter(|c| c.protocol() == protocol).cloned().collect();
            let count = checks.len();
            let alone = ReferenceRun::start().await;
            let (seconds, passed, skipped) = timed_counted_run(&alone.suite, checks).await;
            println!(
                "  {protocol:?} alone: {count} checks ({passed} pass, {skipped} skip) in {seconds:.2} s ({:.0} × the baseline)",
                seconds / baseline
            );
        }
    });
}

/// A new mock org and a new reference SP (acme) serving on a free port,
/// with the suite aimed at them. The SP stops when this is dropped.
struct ReferenceRun {
    suite: Arc<Suite>,
    _server: reference_sp::http::RunningSp,
    _dir: tempfile::TempDir,
}

impl ReferenceRun {
    async fn start() -> ReferenceRun {
        let sp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sp_url = format!("http://{}", sp_listener.local_addr().unwrap());
        let idp = Arc::new(mock_idp::setup::IdpOptions::default().build().unwrap());
        idp.write_org(|org| {
            let app = org.apps.values_mut().find(|a| a.name == "reference-sp").unwrap();
            let saml = app.saml_mut().unwrap();
            saml.set_endpoints(&format!("{sp_url}/sso/acs/acme"), &format!("{sp_url}/sso/metadata/acme"));
            // The OIDC clients send the browser back to the SP at its bench address.
            for app in org.apps.values_mut() {
                if let mock_idp::org::SignOn::Oidc(oidc) = &mut app.sign_on {
                    for uri in oidc.redirect_uris.iter_mut().chain(oidc.post_logout_redirect_uris.iter_mut()) {
                        *uri = uri.replace("http://127.0.0.1:7100", &sp_url);
                    }
                }
            }
        });
        let text = include_str!("../../fixtures/targets/reference-sp.toml")
            .replace("listen = \"127.0.0.1:7000\"", "listen = \"127.0.0.1:0\"")
            .replace("http://127.0.0.1:7100", &sp_url);
        let target =
            conformance::target::parse_target("reference-sp.toml", &text, std::path::Path::new("fixtures/targets"))
                .unwrap();
        let suite = Arc::new(Suite::with_idp(target, idp).await.unwrap());
        let dir = tempfile::tempdir().unwrap();
        let config = reference_sp::config::BUILTIN_CONFIG
            .replace("http://127.0.0.1:7000", &suite.idp_url())
            .replace("base_url = \"http://127.0.0.1:7100\"", &format!("base_url = \"{sp_url}\""))
            .replace(
                "database = \".local/reference-sp.sqlite3\"",
                &format!("database = \"{}\"", dir.path().join("sp.sqlite3").display()),
            );
        std::fs::write(dir.path().join("sp.toml"), config).unwrap();
        let options = reference_sp::setup::SpOptions { config: Some(dir.path().join("sp.toml")), ..Default::default() };
        let sp = Arc::new(options.build().unwrap());
        reference_sp::idp_fetch::refresh_all(&sp).await;
        let server = reference_sp::http::RunningSp::serve(sp_listener, sp).unwrap();
        ReferenceRun { suite, _server: server, _dir: dir }
    }
}

/// Runs `checks` once and returns the wall time in seconds; every check
/// must pass or be skipped, since a failing run measures something else.
async fn timed_run(suite: &Arc<Suite>, checks: Vec<Check>) -> f64 {
    timed_counted_run(suite, checks).await.0
}

/// As [`timed_run`], with how many checks passed and how many were skipped.
async fn timed_counted_run(suite: &Arc<Suite>, checks: Vec<Check>) -> (f64, usize, usize) {
    let started = Instant::now();
    let results = suite.run(checks, |_| {}).await;
    let seconds = started.elapsed().as_secs_f64();
    let bad: Vec<_> = results
        .iter()
        .filter(|r| !matches!(r.verdict, Verdict::Pass | Verdict::Skip))
        .map(|r| (r.id, r.verdict, r.reason.clone()))
        .collect();
    assert!(bad.is_empty(), "the catalogue must pass against the reference SP: {bad:?}");
    let passed = results.iter().filter(|r| r.verdict == Verdict::Pass).count();
    (seconds, passed, results.len() - passed)
}
