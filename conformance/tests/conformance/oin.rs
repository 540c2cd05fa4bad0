//! The OIN readiness profile (`mockta check --profile oin`) against the
//! reference SP's OIN-shaped tenant and its broken twin
//! (fixtures/profiles/oin/): the tenant meets every requirement (or only
//! warns, where a local run cannot show the production set-up), and the twin
//! leaves exactly the requirements it breaks unmet.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use conformance::catalogue::all_checks;
use conformance::oin::{Readiness, Standing};
use conformance::report::Report;
use conformance::runner::Suite;

const ORG: &str = include_str!("../../../fixtures/profiles/oin/org.toml");
const SP: &str = include_str!("../../../fixtures/profiles/oin/sp.toml");
const SP_BROKEN: &str = include_str!("../../../fixtures/profiles/oin/sp-broken.toml");
const TARGET: &str = include_str!("../../../fixtures/profiles/oin/target.toml");
const TARGET_BROKEN: &str = include_str!("../../../fixtures/profiles/oin/target-broken.toml");

fn profile_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/profiles/oin")
}

/// Serves the profile's org, starts the reference SP with `sp_config` on a
/// free port, runs the whole catalogue with the readiness judgement, and
/// returns the report.
async fn run_profile(sp_config: &str, target_text: &str) -> Report {
    let keys = tempfile::tempdir().unwrap();
    let org_dir = tempfile::tempdir().unwrap();
    let sp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sp_url = format!("http://{}", sp_listener.local_addr().unwrap());
    // The org's apps point at the SP's test address instead of 127.0.0.1:7100.
    let org_file = org_dir.path().join("org.toml");
    std::fs::write(&org_file, ORG.replace("http://127.0.0.1:7100", &sp_url)).unwrap();
    let idp = mock_idp::setup::IdpOptions {
        org_file: Some(org_file),
        key_dir: Some(keys.path().to_path_buf()),
        deterministic: false,
        ..Default::default()
    }
    .build()
    .unwrap();
    let target_text = target_text
        .replace("listen = \"127.0.0.1:7000\"", "listen = \"127.0.0.1:0\"")
        .replace("http://127.0.0.1:7100", &sp_url)
        .replace("timeout_seconds = 10", "timeout_seconds = 60");
    let target = conformance::target::parse_target("target.toml", &target_text, &profile_dir()).unwrap();
    let suite = Suite::with_idp(target.clone(), Arc::new(idp)).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let config = sp_config
        .replace("http://127.0.0.1:7000", &suite.idp_url())
        .replace("base_url = \"http://127.0.0.1:7100\"", &format!("base_url = \"{sp_url}\""))
        .replace(".local/profile-oin-broken.sqlite3", &dir.path().join("sp.sqlite3").display().to_string())
        .replace(".local/profile-oin.sqlite3", &dir.path().join("sp.sqlite3").display().to_string());
    std::fs::write(dir.path().join("sp.toml"), config).unwrap();
    let options = reference_sp::setup::SpOptions { config: Some(dir.path().join("sp.toml")), ..Default::default() };
    let sp = Arc::new(options.build().unwrap());
    reference_sp::idp_fetch::refresh_all(&sp).await;
    let server = reference_sp::http::RunningSp::serve(sp_listener, sp).unwrap();
    let report = conformance::run_oin_on(suite, &target, "target.toml".into(), all_checks(), |_| {}).await;
    server.stop().await.unwrap();
    report
}

fn readiness(report: &Report) -> &Readiness {
    report.oin.as_ref().unwrap()
}

/// Every requirement that is not met, with its evidence, for an assertion's
/// message.
fn explain(readiness: &Readiness) -> String {
    readiness
        .requirements
        .iter()
        .filter(|r| r.standing != Standing::Met)
        .map(|r| format!("{} {:?}: {}", r.id, r.standing, r.evidence.join(" | ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The report's text with what changes between runs (ports, canary tags,
/// times) replaced.
fn redacted(text: &str) -> String {
    let text = regex::Regex::new(r"127\.0\.0\.1:\d+").unwrap().replace_all(text, "127.0.0.1:[port]");
    let text = regex::Regex::new(r"-[a-z0-9]{8,}@").unwrap().replace_all(&text, "-[tag]@");
    text.into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_oin_tenant_meets_every_requirement() {
    let report = run_profile(SP, TARGET).await;
    let readiness = readiness(&report);
    assert!(!readiness.has_unmet(), "unmet:\n{}", explain(readiness));
    // Nothing is left not applicable: the tenant uses all three protocols.
    assert!(readiness.requirements.iter().all(|r| r.standing != Standing::NotApplicable), "{}", explain(readiness));
    // The loopback http SCIM URL is the one thing a local run cannot show.
    let base_url = readiness.requirements.iter().find(|r| r.id == "oin.scim.tls_base_url_without_underscore").unwrap();
    assert_eq!(base_url.standing, Standing::Warn);
    insta::assert_snapshot!("oin_readiness_reference_tenant", redacted(&readiness.to_human()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_broken_twin_is_unmet_exactly_for_basic_sha1_and_the_custom_scope() {
    let report = run_profile(SP_BROKEN, TARGET_BROKEN).await;
    let readiness = readiness(&report);
    let unmet: BTreeSet<&str> = readiness.unmet().into_iter().collect();
    let expected: BTreeSet<&str> =
        ["oin.saml.sha256_only", "oin.oidc.no_custom_scopes", "oin.scim.credentials_not_basic"].into();
    assert_eq!(unmet, expected, "\n{}", explain(readiness));
    let evidence = |id: &str| readiness.requirements.iter().find(|r| r.id == id).unwrap().evidence.join(" | ");
    let sha256 = evidence("oin.saml.sha256_only");
    assert!(sha256.contains("'oin-saml-sha1' signs with RSA-SHA1"), "{sha256}");
    assert!(sha256.contains("accepts RSA-SHA1 responses (saml.sig.sha1 warned)"), "{sha256}");
    let scopes = evidence("oin.oidc.no_custom_scopes");
    assert!(scopes.contains("the target says the relying party asks for the custom scope groups"), "{scopes}");
    assert!(scopes.contains("seen asking for the custom scope groups"), "{scopes}");
    assert!(evidence("oin.scim.credentials_not_basic").contains("HTTP Basic"));
}
