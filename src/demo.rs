//! `mockta demo`: the reference SP and the mock IdP in one process, and the
//! whole suite against the four reference tenants (JIT, existing-only, the
//! OIDC public client, and hooli, whose generated keys let the encryption,
//! Single Logout and WantAssertionsSigned checks run). It
//! lives in the CLI package because it is the one place that joins the suite
//! and the reference SP; the conformance library must not know the SP.

use std::sync::Arc;

use conformance::report::Report;
use conformance::runner::{CheckResult, Suite, SuiteError};
use conformance::target::{Target, TargetError, parse_target};

const JIT_TARGET: &str = include_str!("../fixtures/targets/reference-sp.toml");
const EXISTING_ONLY_TARGET: &str = include_str!("../fixtures/targets/reference-sp-existing-only.toml");
const PUBLIC_CLIENT_TARGET: &str = include_str!("../fixtures/targets/reference-sp-public-client.toml");
const GENERATED_KEYS_TARGET: &str = include_str!("../fixtures/targets/reference-sp-hooli.toml");

#[derive(Debug, thiserror::Error)]
pub(crate) enum DemoError {
    #[error("{0}")]
    Target(#[from] TargetError),
    #[error("{0}")]
    Suite(#[from] SuiteError),
    #[error("reference SP: {0}")]
    Sp(String),
    #[error("{0}")]
    Act(#[from] crate::demo_provisioning::ActError),
    #[error("mock IdP: {0}")]
    Idp(String),
    #[error("{0}")]
    Profile(#[from] crate::profile::ProfileRunError),
}

/// The built-in target files, serving the built-in org.
pub(crate) fn builtin_targets() -> Result<Vec<(String, Target)>, TargetError> {
    let mut targets = Vec::new();
    for (name, text) in [
        ("reference-sp.toml", JIT_TARGET),
        ("reference-sp-existing-only.toml", EXISTING_ONLY_TARGET),
        ("reference-sp-public-client.toml", PUBLIC_CLIENT_TARGET),
        ("reference-sp-hooli.toml", GENERATED_KEYS_TARGET),
    ] {
        let mut target = parse_target(
            &format!("fixtures/targets/{name} (built in)"),
            text,
            std::path::Path::new("fixtures/targets"),
        )?;
        target.org = None;
        targets.push((name.to_owned(), target));
    }
    Ok(targets)
}

/// The reference SP as the demo runs it: the built-in config, with the
/// database in `database_dir`.
pub(crate) fn sp_options(database_dir: &std::path::Path) -> reference_sp::setup::SpOptions {
    reference_sp::setup::SpOptions { database: Some(database_dir.join("demo-sp.sqlite3")), ..Default::default() }
}

/// Runs the demo: the reference SP (database in `database_dir`) on its
/// default address, then the suite against each reference tenant, then the
/// provisioning act (the mock on its default address provisions the acme
/// tenant and the provisioned user signs in by SAML).
pub(crate) async fn run(
    database_dir: &std::path::Path,
    progress: impl Fn(&CheckResult) + Send + Sync + Clone + 'static,
) -> Result<(Vec<Report>, crate::demo_provisioning::ProvisioningAct), DemoError> {
    let sp = Arc::new(sp_options(database_dir).build().map_err(|e| DemoError::Sp(e.to_string()))?);
    let listen = sp.config().listen;
    let server = reference_sp::http::RunningSp::start(listen, sp.clone())
        .await
        .map_err(|e| DemoError::Sp(format!("cannot listen on {listen}: {e}")))?;
    let mut reports = Vec::new();
    for (name, target) in builtin_targets()? {
        let checks = conformance::checks_for_target(&target);
        let suite = Arc::new(Suite::start(target, None).await?);
        // The SP loads the (now running) IdP's metadata before the checks.
        reference_sp::idp_fetch::refresh_all(&sp).await;
        let results = suite.run(checks, progress.clone()).await;
        let mut report = Report::new(name, results);
        report.note_state_machine_seed(suite.state_machine_options().seed);
        reports.push(report);
        if let Ok(suite) = Arc::try_unwrap(suite) {
            suite.stop().await;
        }
    }
    let idp = Arc::new(mock_idp::setup::IdpOptions::default().build().map_err(|e| DemoError::Idp(e.to_string()))?);
    let idp_listen = std::net::SocketAddr::from(([127, 0, 0, 1], 7000));
    let idp_server = mock_idp::http::RunningServer::start(idp_listen, idp.clone())
        .await
        .map_err(|e| DemoError::Idp(format!("cannot listen on {idp_listen}: {e}")))?;
    let act = crate::demo_provisioning::run(&idp, &idp_server.url(), &sp, &server.url()).await;
    let _ = idp_server.stop().await;
    let _ = server.stop().await;
    Ok((reports, act?))
}
