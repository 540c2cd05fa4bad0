//! Starts the mock IdP (through the suite) and a reference SP wired to it.

use std::collections::BTreeSet;
use std::sync::Arc;

use conformance::catalogue::saml_checks;
use conformance::runner::{CheckResult, Suite, Verdict};
use reference_sp::flaws::Flaw;

pub struct Run {
    pub results: Vec<CheckResult>,
}

impl Run {
    pub fn failing(&self) -> BTreeSet<&'static str> {
        self.results.iter().filter(|r| r.verdict != Verdict::Pass).map(|r| r.id).collect()
    }
}

/// Runs the whole SAML catalogue against a reference SP with `flaws`.
pub async fn run_against_reference_sp(flaws: &[Flaw]) -> Run {
    run_checks_against_reference_sp(flaws, saml_checks()).await
}

/// Runs the given checks against a reference SP with `flaws`.
pub async fn run_checks_against_reference_sp(flaws: &[Flaw], checks: Vec<conformance::catalogue::Check>) -> Run {
    let sp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sp_url = format!("http://{}", sp_listener.local_addr().unwrap());

    let idp = Arc::new(mock_idp::setup::IdpOptions { deterministic: false, ..Default::default() }.build().unwrap());
    idp.write_org(|org| {
        let app = org.apps.values_mut().find(|a| a.name == "reference-sp").unwrap();
        app.saml.sso_url = mock_idp::ids::AcsUrl(format!("{sp_url}/sso/acs/acme"));
        app.saml.other_sso_urls = vec![];
        app.saml.destination = format!("{sp_url}/sso/acs/acme");
        app.saml.recipient = format!("{sp_url}/sso/acs/acme");
        app.saml.audience = mock_idp::ids::EntityId(format!("{sp_url}/sso/metadata/acme"));
    });
    let target_text = include_str!("../../../fixtures/targets/reference-sp.toml")
        .replace("listen = \"127.0.0.1:7000\"", "listen = \"127.0.0.1:0\"")
        .replace("http://127.0.0.1:7100", &sp_url);
    let target =
        conformance::target::parse_target("reference-sp.toml", &target_text, std::path::Path::new("fixtures/targets"))
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
    let options = reference_sp::setup::SpOptions {
        config: Some(dir.path().join("sp.toml")),
        flaws: flaws.iter().map(|f| f.name().to_owned()).collect(),
        ..Default::default()
    };
    let sp = Arc::new(options.build().unwrap());
    reference_sp::idp_fetch::refresh_all(&sp).await;
    let server = reference_sp::http::RunningSp::serve(sp_listener, sp).unwrap();
    let results = suite.run(checks, |_| {}).await;
    server.stop().await.unwrap();
    Run { results }
}
