//! Starts the mock IdP (through the suite) and a reference SP wired to it.

use std::collections::BTreeSet;
use std::sync::Arc;

use conformance::catalogue::{Protocol, checks_for};
use conformance::runner::{CheckResult, Suite, Verdict};
use reference_sp::flaws::Flaw;

pub(crate) struct Run {
    pub results: Vec<CheckResult>,
}

impl Run {
    /// Checks that failed or errored.
    pub(crate) fn failing(&self) -> BTreeSet<&'static str> {
        self.results.iter().filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error)).map(|r| r.id).collect()
    }

    /// Every result that is not a pass, with its reason, for an assertion's
    /// message: a flaky error then says what went wrong.
    pub(crate) fn explain(&self) -> String {
        self.results
            .iter()
            .filter(|r| r.verdict != Verdict::Pass)
            .map(|r| format!("{} {:?}: {}", r.id, r.verdict, r.reason))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Each result `picked` selects, as "id Verdict: reason", for an
    /// assertion that none should be there.
    pub(crate) fn described(&self, picked: impl Fn(&CheckResult) -> bool) -> Vec<String> {
        self.results.iter().filter(|r| picked(r)).map(|r| format!("{} {:?}: {}", r.id, r.verdict, r.reason)).collect()
    }

    /// Checks that failed, errors not included.
    pub(crate) fn failed(&self) -> BTreeSet<&'static str> {
        self.results.iter().filter(|r| r.verdict == Verdict::Fail).map(|r| r.id).collect()
    }

    /// Checks that warned: behaviour the spec allows but should not be.
    pub(crate) fn warned(&self) -> BTreeSet<&'static str> {
        self.results.iter().filter(|r| r.verdict == Verdict::Warn).map(|r| r.id).collect()
    }

    pub(crate) fn skipped(&self) -> BTreeSet<&'static str> {
        self.results.iter().filter(|r| r.verdict == Verdict::Skip).map(|r| r.id).collect()
    }
}

/// Which reference tenant to run against.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Tenant {
    /// acme: JIT accounts.
    Jit,
    /// globex: existing accounts only.
    ExistingOnly,
    /// initech: OIDC only, a public client (PKCE, no secret) on the
    /// default custom authorization server, JIT accounts.
    PublicClient,
    /// hooli: SAML with key pairs the SP generates at start-up (encryption
    /// and request signing), Single Logout and WantAssertionsSigned.
    GeneratedKeys,
}

/// Runs the whole SAML catalogue against a reference SP with `flaws`.
pub(crate) async fn run_against_reference_sp(flaws: &[Flaw]) -> Run {
    run_checks_against_reference_sp(flaws, checks_for(Protocol::Saml)).await
}

/// Runs the given checks against the JIT tenant of a reference SP with `flaws`.
pub(crate) async fn run_checks_against_reference_sp(flaws: &[Flaw], checks: Vec<conformance::catalogue::Check>) -> Run {
    run_against_tenant(Tenant::Jit, flaws, checks).await
}

/// Runs the given checks against one tenant of a reference SP with `flaws`.
pub(crate) async fn run_against_tenant(
    tenant: Tenant,
    flaws: &[Flaw],
    checks: Vec<conformance::catalogue::Check>,
) -> Run {
    run_against_tenant_signing(tenant, flaws, checks, None).await
}

/// As [`run_against_tenant`], with the app's signing mode changed first
/// (`both`, `response` or `assertion`).
pub(crate) async fn run_against_tenant_signing(
    tenant: Tenant,
    flaws: &[Flaw],
    checks: Vec<conformance::catalogue::Check>,
    signing: Option<&str>,
) -> Run {
    run_with_target_edit(tenant, flaws, checks, signing, |text| text).await
}

/// As [`run_against_tenant_signing`], with the target file's text changed by
/// `edit` after its addresses are pointed at the test's servers.
pub(crate) async fn run_with_target_edit(
    tenant: Tenant,
    flaws: &[Flaw],
    checks: Vec<conformance::catalogue::Check>,
    signing: Option<&str>,
    edit: impl Fn(String) -> String,
) -> Run {
    let idp = Arc::new(mock_idp::setup::IdpOptions { deterministic: false, ..Default::default() }.build().unwrap());
    run_configured(tenant, idp, flaws, checks, signing, edit, None, |text| text).await
}

/// Runs the checks against a reference SP whose config text is changed by
/// `sp_edit` (after its addresses are pointed at the test's servers).
pub(crate) async fn run_with_sp_config_edit(
    tenant: Tenant,
    flaws: &[Flaw],
    checks: Vec<conformance::catalogue::Check>,
    sp_edit: impl Fn(String) -> String,
) -> Run {
    let idp = Arc::new(mock_idp::setup::IdpOptions { deterministic: false, ..Default::default() }.build().unwrap());
    run_configured(tenant, idp, flaws, checks, None, |text| text, None, sp_edit).await
}

/// Runs the checks with both the target file's text (`edit`) and the
/// reference SP's config text (`sp_edit`) changed.
pub(crate) async fn run_configured_with(
    tenant: Tenant,
    flaws: &[Flaw],
    checks: Vec<conformance::catalogue::Check>,
    edit: impl Fn(String) -> String,
    sp_edit: impl Fn(String) -> String,
) -> Run {
    let idp = Arc::new(mock_idp::setup::IdpOptions { deterministic: false, ..Default::default() }.build().unwrap());
    run_configured(tenant, idp, flaws, checks, None, edit, None, sp_edit).await
}

/// As [`run_configured_with`], serving the given IdP, so the test can read
/// what the suite did to its org.
pub(crate) async fn run_configured_with_idp(
    tenant: Tenant,
    idp: Arc<mock_idp::idp::Idp>,
    flaws: &[Flaw],
    checks: Vec<conformance::catalogue::Check>,
    edit: impl Fn(String) -> String,
    sp_edit: impl Fn(String) -> String,
) -> Run {
    run_configured(tenant, idp, flaws, checks, None, edit, None, sp_edit).await
}

/// Starts a session URL in front of the SP's `/whoami` (given its URL) and
/// returns the proxy's URL.
pub(crate) type ProxyStarter =
    Box<dyn Fn(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = String> + Send>> + Send + Sync>;

/// Runs the checks against the JIT tenant with `flaw`, one at a time, with
/// the target's session URL replaced by a proxy in front of the SP's.
pub(crate) async fn run_with_oracle_proxy(
    flaw: Flaw,
    checks: Vec<conformance::catalogue::Check>,
    start_proxy: impl Fn(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = String> + Send>>
    + Send
    + Sync
    + 'static,
) -> Run {
    let idp = Arc::new(mock_idp::setup::IdpOptions { deterministic: false, ..Default::default() }.build().unwrap());
    run_configured(Tenant::Jit, idp, &[flaw], checks, None, |text| text, Some(Box::new(start_proxy)), |text| text).await
}

/// Runs the checks against the JIT tenant, serving the given IdP.
pub(crate) async fn run_with_idp(
    tenant: Tenant,
    idp: Arc<mock_idp::idp::Idp>,
    checks: Vec<conformance::catalogue::Check>,
) -> Run {
    run_configured(tenant, idp, &[], checks, None, |text| text, None, |text| text).await
}

/// Runs the checks against one tenant of a reference SP with `flaws`, the
/// integration state machine drawing `cases` cases from `seed`.
pub(crate) async fn run_state_machine(
    tenant: Tenant,
    flaws: &[Flaw],
    checks: Vec<conformance::catalogue::Check>,
    seed: u64,
    cases: u32,
) -> Run {
    let idp = Arc::new(mock_idp::setup::IdpOptions { deterministic: false, ..Default::default() }.build().unwrap());
    let no_edit = |text: String| text;
    run_configured_seeded(tenant, idp, flaws, checks, None, no_edit, None, no_edit, Some((seed, cases))).await
}

#[allow(clippy::too_many_arguments)]
async fn run_configured(
    tenant: Tenant,
    idp: Arc<mock_idp::idp::Idp>,
    flaws: &[Flaw],
    checks: Vec<conformance::catalogue::Check>,
    signing: Option<&str>,
    edit: impl Fn(String) -> String,
    proxy: Option<ProxyStarter>,
    sp_edit: impl Fn(String) -> String,
) -> Run {
    run_configured_seeded(tenant, idp, flaws, checks, signing, edit, proxy, sp_edit, None).await
}

#[allow(clippy::too_many_arguments)]
async fn run_configured_seeded(
    tenant: Tenant,
    idp: Arc<mock_idp::idp::Idp>,
    flaws: &[Flaw],
    checks: Vec<conformance::catalogue::Check>,
    signing: Option<&str>,
    edit: impl Fn(String) -> String,
    proxy: Option<ProxyStarter>,
    sp_edit: impl Fn(String) -> String,
    state_machine: Option<(u64, u32)>,
) -> Run {
    let (tenant_id, app_name, target_text) = match tenant {
        Tenant::Jit => ("acme", "reference-sp", include_str!("../../../fixtures/targets/reference-sp.toml")),
        Tenant::ExistingOnly => {
            ("globex", "reference-sp-globex", include_str!("../../../fixtures/targets/reference-sp-existing-only.toml"))
        }
        Tenant::PublicClient => (
            "initech",
            "reference-sp-oidc-public",
            include_str!("../../../fixtures/targets/reference-sp-public-client.toml"),
        ),
        Tenant::GeneratedKeys => {
            ("hooli", "reference-sp-hooli", include_str!("../../../fixtures/targets/reference-sp-hooli.toml"))
        }
    };
    let sp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sp_url = format!("http://{}", sp_listener.local_addr().unwrap());

    idp.write_org(|org| {
        let app = org.apps.values_mut().find(|a| a.name == app_name).unwrap();
        // The public-client tenant signs in by OIDC only: its app has no SAML.
        if let Some(saml) = app.saml_mut() {
            saml.set_endpoints(&format!("{sp_url}/sso/acs/{tenant_id}"), &format!("{sp_url}/sso/metadata/{tenant_id}"));
            if let Some(mode) = signing {
                saml.signing = mock_idp::org::SigningMode::parse(mode).unwrap();
            }
        }
        // The OIDC clients send the browser back to the SP at its test address.
        for app in org.apps.values_mut() {
            if let mock_idp::org::SignOn::Oidc(oidc) = &mut app.sign_on {
                for uri in oidc.redirect_uris.iter_mut().chain(oidc.post_logout_redirect_uris.iter_mut()) {
                    *uri = uri.replace("http://127.0.0.1:7100", &sp_url);
                }
            }
        }
    });
    // A loaded test machine (other test binaries, builds) can stall a
    // request for seconds; the reference SP is local, so a longer limit only
    // matters when something is wrong, and then the test says what.
    let target_text = target_text
        .replace("listen = \"127.0.0.1:7000\"", "listen = \"127.0.0.1:0\"")
        .replace("http://127.0.0.1:7100", &sp_url)
        .replace("timeout_seconds = 10", "timeout_seconds = 60");
    let mut target_text = edit(target_text);
    if let Some(start_proxy) = proxy {
        let proxy_url = start_proxy(format!("{sp_url}/whoami")).await;
        target_text = target_text
            .replace(&format!("url = \"{sp_url}/whoami\""), &format!("url = \"{proxy_url}\""))
            .replace("concurrency = 8", "concurrency = 1");
    }
    let target =
        conformance::target::parse_target("reference-sp.toml", &target_text, std::path::Path::new("fixtures/targets"))
            .unwrap();
    let mut suite = Suite::with_idp(target, idp).await.unwrap();
    if let Some((seed, cases)) = state_machine {
        suite.set_state_machine(Some(seed), Some(cases));
    }
    let suite = Arc::new(suite);

    let dir = tempfile::tempdir().unwrap();
    let config = reference_sp::config::BUILTIN_CONFIG
        .replace("http://127.0.0.1:7000", &suite.idp_url())
        .replace("base_url = \"http://127.0.0.1:7100\"", &format!("base_url = \"{sp_url}\""))
        .replace(
            "database = \".local/reference-sp.sqlite3\"",
            &format!("database = \"{}\"", dir.path().join("sp.sqlite3").display()),
        );
    std::fs::write(dir.path().join("sp.toml"), sp_edit(config)).unwrap();
    let options = reference_sp::setup::SpOptions {
        config: Some(dir.path().join("sp.toml")),
        flaws: flaws.iter().map(|f| f.name().to_owned()).collect(),
        // A target with `[idp] tls = true`: the SP trusts the mock's CA.
        extra_ca_file: suite.tls_ca_file().map(std::path::Path::to_path_buf),
        ..Default::default()
    };
    let sp = Arc::new(options.build().unwrap());
    reference_sp::idp_fetch::refresh_all(&sp).await;
    let server = reference_sp::http::RunningSp::serve(sp_listener, sp).unwrap();
    let results = suite.run(checks, |_| {}).await;
    server.stop().await.unwrap();
    Run { results }
}
