//! The whole SAML catalogue against the reference SP: wall time and checks
//! per second, next to the number of checks, in one run.
//!
//! Run with `cargo bench -p conformance --bench suite_throughput`. The target
//! is under 10 seconds for the catalogue on 2 cores.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use conformance::catalogue::{Protocol, checks_for};
use conformance::runner::{Suite, Verdict};

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let sp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sp_url = format!("http://{}", sp_listener.local_addr().unwrap());
        let idp = Arc::new(mock_idp::setup::IdpOptions::default().build().unwrap());
        idp.write_org(|org| {
            let app = org.apps.values_mut().find(|a| a.name == "reference-sp").unwrap();
            let saml = app.saml_mut().unwrap();
            saml.set_endpoints(&format!("{sp_url}/sso/acs/acme"), &format!("{sp_url}/sso/metadata/acme"));
        });
        let text = include_str!("../../fixtures/targets/reference-sp.toml")
            .replace("listen = \"127.0.0.1:7000\"", "listen = \"127.0.0.1:0\"")
            .replace("http://127.0.0.1:7100", &sp_url);
        let target = conformance::target::parse_target("reference-sp.toml", &text, std::path::Path::new("fixtures/targets")).unwrap();
        let suite = Arc::new(Suite::with_idp(target, idp).await.unwrap());
        let dir = tempfile::tempdir().unwrap();
        let config = reference_sp::config::BUILTIN_CONFIG
            .replace("http://127.0.0.1:7000", &suite.idp_url())
            .replace("base_url = \"http://127.0.0.1:7100\"", &format!("base_url = \"{sp_url}\""))
            .replace("database = \".local/reference-sp.sqlite3\"", &format!("database = \"{}\"", dir.path().join("sp.sqlite3").display()));
        std::fs::write(dir.path().join("sp.toml"), config).unwrap();
        let options = reference_sp::setup::SpOptions { config: Some(dir.path().join("sp.toml")), ..Default::default() };
        let sp = Arc::new(options.build().unwrap());
        reference_sp::idp_fetch::refresh_all(&sp).await;
        let _server = reference_sp::http::RunningSp::serve(sp_listener, sp).unwrap();

        let checks = checks_for(Protocol::Saml);
        let count = checks.len();
        let started = Instant::now();
        let results = suite.run(checks, |_| {}).await;
        let elapsed = started.elapsed().as_secs_f64();
        let bad: Vec<_> = results.iter().filter(|r| !matches!(r.verdict, Verdict::Pass | Verdict::Skip)).map(|r| (r.id, r.verdict, r.reason.clone())).collect();
        assert!(bad.is_empty(), "the catalogue must pass against the reference SP: {bad:?}");
        println!("suite_throughput ({} cores)", std::thread::available_parallelism().map_or(1, |n| n.get()));
        println!("  SAML catalogue against the reference SP: {count} checks in {elapsed:.2} s, {:.1} checks/s (target: under 10 s)", count as f64 / elapsed);
    });
}
