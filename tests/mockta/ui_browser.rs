//! The mock's web console in a real browser: Debian's Chromium, headless,
//! driven by Playwright (`tests/interop/ui_browser.mjs`). A user signs in at
//! the mock, clicks the reference SP's tile on the dashboard and lands
//! signed in at the SP; then an admin arms a fault in the admin console,
//! the tile is clicked again, and the SP refuses the faulty response.
//!
//! Both servers run in this process on free ports. Screenshots of every
//! step are kept in `target/ui-screenshots/` as the test's artefacts.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use reference_sp::http::RunningSp;
use serde_json::Value;

const API_TOKEN: &str = "mockta-dev-ssws-token";
const REFERENCE_SP_APP: &str = "0oarefsp000000000001";
const ALICE: &str = "00ualice000000000001";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The reference SP on a free port, trusting the mock at `idp_url`: the
/// built-in config with the SP's own base URL and the mock's URL put in.
async fn start_sp(dir: &std::path::Path, idp_url: &str) -> (String, RunningSp) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = reference_sp::config::BUILTIN_CONFIG
        .replace("http://127.0.0.1:7100", &base)
        .replace("http://127.0.0.1:7000", idp_url)
        .replace(
            "database = \".local/reference-sp.sqlite3\"",
            &format!("database = \"{}\"", dir.join("sp.sqlite3").display()),
        );
    std::fs::write(dir.join("sp.toml"), config).unwrap();
    let options = reference_sp::setup::SpOptions { config: Some(dir.join("sp.toml")), ..Default::default() };
    let sp = Arc::new(options.build().unwrap());
    reference_sp::idp_fetch::refresh_all(&sp).await;
    (base, RunningSp::serve(listener, sp).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_signs_in_from_the_dashboard_tile_and_an_armed_fault_is_refused_in_chromium() {
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "/usr/bin/chromium is missing: run ./scripts/test (it installs Debian's chromium)"
    );
    assert!(
        root().join(".local/node/browser/node_modules/playwright-core").exists(),
        "playwright-core is missing: run ./scripts/test (it installs tests/interop/browser into .local/node/browser)"
    );
    let (idp, idp_server) = crate::serve_builtin_idp().await;
    let idp_url = idp_server.url();
    let dir = tempfile::tempdir().unwrap();
    let (sp_url, _sp_server) = start_sp(dir.path(), &idp_url).await;
    // The app's ACS and audience are where this SP listens.
    idp.write_org(|org| {
        let app = org.apps.values_mut().find(|a| a.id.as_str() == REFERENCE_SP_APP).unwrap();
        app.saml_mut()
            .unwrap()
            .set_endpoints(&format!("{sp_url}/sso/acs/acme"), &format!("{sp_url}/sso/metadata/acme"));
    });

    let screenshots = root().join("target/ui-screenshots");
    let mut command = Command::new("node");
    command
        .arg(root().join("tests/interop/ui_browser.mjs"))
        .env("MOCK_URL", &idp_url)
        .env("SP_URL", &sp_url)
        .env("API_TOKEN", API_TOKEN)
        .env("LOGIN", "alice@acme.test")
        .env("APP_LABEL", "Reference SP (acme)")
        .env("APP_ID", REFERENCE_SP_APP)
        .env("USER_ID", ALICE)
        .env("FAULT", "wrong-audience")
        .env("SCREENSHOT_DIR", &screenshots);
    // The servers run on this runtime's workers while the browser waits on
    // them, so the script runs on the blocking pool.
    let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the browser script failed:\n{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("no report ({e}) in:\n{stdout}\n{stderr}"));

    // The dashboard had the SP's tile, and the tile signed alice in.
    let tiles = report["tiles"].as_array().unwrap();
    assert!(tiles.iter().any(|t| t == "Reference SP (acme)"), "{report:#}");
    let signed_in = report["signedIn"].as_str().unwrap();
    assert!(signed_in.contains("Signed in as Alice"), "{report:#}");
    assert!(signed_in.contains("(alice@acme.test) in tenant acme"), "{report:#}");

    // The console listed the fault it armed, and the response carried it:
    // the fault was taken, and the SP refused the wrong audience.
    let armed = report["armed"].as_str().unwrap();
    assert!(armed.contains("wrong-audience") && armed.contains("alice@acme.test"), "{report:#}");
    assert!(idp.armed_saml_faults().is_empty(), "the armed fault was never used");
    let refused = &report["refused"];
    let status = refused["status"].as_u64().unwrap();
    assert!((400..500).contains(&status), "{report:#}");
    assert_eq!(refused["errorCode"], "saml.audience_mismatch", "{report:#}");
    assert_eq!(report["whoamiAfterRefusal"], 401, "the refused response made a session: {report:#}");

    for shot in [
        "01-sign-in.png",
        "02-dashboard.png",
        "03-signed-in-at-sp.png",
        "04-admin-fault-armed.png",
        "05-sp-refused.png",
    ] {
        assert!(screenshots.join(shot).exists(), "{shot} was not saved");
    }
}

/// `mockta idp` says where the web console is (on the org URL), and serves it.
#[tokio::test]
async fn mockta_idp_prints_where_the_web_console_is() {
    use std::io::BufRead;
    let keys = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mockta"))
        .args(["idp", "--listen", "127.0.0.1:0"])
        .env("MOCKTA_KEY_DIR", keys.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut printed = Vec::new();
    // The console lines come before the issuers, which every org has.
    while !printed.last().is_some_and(|line: &String| line.contains("OIDC issuers")) {
        let mut line = String::new();
        assert!(lines.read_line(&mut line).unwrap() > 0, "mockta idp stopped printing: {printed:?}");
        printed.push(line);
    }
    // Keep reading so the server never writes to a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    let address = printed[0].split("listening on http://").nth(1).unwrap().split_whitespace().next().unwrap();
    let org_url = printed[0].split("(org URL ").nth(1).unwrap().trim_end().trim_end_matches(')');
    let text = printed.concat();
    let dashboard_line = format!("web console:    {org_url}/app/UserHome");
    let admin_line = format!("{org_url}/admin/dashboard (admin console");
    let sign_in = reqwest::get(format!("http://{address}/login/login.htm")).await.unwrap();
    let status = sign_in.status();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(text.contains(&dashboard_line) && text.contains(&admin_line), "{text}");
    assert_eq!(status, 200);
}
