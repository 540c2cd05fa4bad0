//! `mockta check --profile oin`, run as a vendor runs it: against the
//! reference SP's OIN-shaped tenant it exits 0 with every requirement met or
//! warned, and against the broken twin it exits 1 with one line naming the
//! unmet requirements, the JSON report carrying the readiness.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;

/// The profile's files for an SP at `sp_url` and a mock on `idp_port`
/// (`broken` picks the twin). Starts the SP; returns it and the target path.
async fn serve_profile(
    dir: &std::path::Path,
    idp_port: u16,
    broken: bool,
) -> (reference_sp::http::RunningSp, std::path::PathBuf) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sp_url = format!("http://{}", listener.local_addr().unwrap());
    let idp_url = format!("http://127.0.0.1:{idp_port}");
    let addresses = |text: &str| {
        text.replace("http://127.0.0.1:7100", &sp_url).replace("127.0.0.1:7000", &format!("127.0.0.1:{idp_port}"))
    };
    std::fs::write(dir.join("org.toml"), addresses(include_str!("../../fixtures/profiles/oin/org.toml"))).unwrap();
    let (sp_text, target_text) = if broken {
        (
            include_str!("../../fixtures/profiles/oin/sp-broken.toml"),
            include_str!("../../fixtures/profiles/oin/target-broken.toml"),
        )
    } else {
        (include_str!("../../fixtures/profiles/oin/sp.toml"), include_str!("../../fixtures/profiles/oin/target.toml"))
    };
    let target = dir.join("target.toml");
    std::fs::write(&target, addresses(target_text).replace("timeout_seconds = 10", "timeout_seconds = 60")).unwrap();
    let database = dir.join("sp.sqlite3");
    let config = sp_text
        .replace("http://127.0.0.1:7000", &idp_url)
        .replace("base_url = \"http://127.0.0.1:7100\"", &format!("base_url = \"{sp_url}\""))
        .replace(".local/profile-oin-broken.sqlite3", &database.display().to_string())
        .replace(".local/profile-oin.sqlite3", &database.display().to_string());
    std::fs::write(dir.join("sp.toml"), config).unwrap();
    let options = reference_sp::setup::SpOptions { config: Some(dir.join("sp.toml")), ..Default::default() };
    let sp = Arc::new(options.build().unwrap());
    (reference_sp::http::RunningSp::serve(listener, sp).unwrap(), target)
}

/// Runs `mockta check --profile oin --format json` off the test's runtime,
/// which serves the SP it judges; returns the exit code, the JSON report and
/// standard error.
async fn check_oin(dir: &std::path::Path, target: &std::path::Path) -> (i32, serde_json::Value, String) {
    let (keys, target) = (dir.join("keys"), target.to_owned());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_mockta"))
            .args(["check", "--profile", "oin", "--format", "json", "--key-dir"])
            .arg(keys)
            .arg("--target")
            .arg(target)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (output.status.code().unwrap_or(-1), report, String::from_utf8_lossy(&output.stderr).into_owned())
}

/// The requirement ids with the given standing in a JSON report.
fn standing(report: &serde_json::Value, wanted: &str) -> BTreeSet<String> {
    report["oin"]["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["standing"] == wanted)
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_with_the_oin_profile_passes_the_oin_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let (server, target) = serve_profile(dir.path(), free_port(), false).await;
    let (code, report, stderr) = check_oin(dir.path(), &target).await;
    server.stop().await.unwrap();
    assert_eq!(standing(&report, "unmet"), BTreeSet::new(), "{stderr}");
    assert_eq!(code, 0, "{stderr}");
    assert!(standing(&report, "warn").contains("oin.scim.tls_base_url_without_underscore"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_with_the_oin_profile_names_the_unmet_requirements_of_the_broken_twin_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let (server, target) = serve_profile(dir.path(), free_port(), true).await;
    let (code, report, stderr) = check_oin(dir.path(), &target).await;
    server.stop().await.unwrap();
    let expected: BTreeSet<String> =
        ["oin.saml.sha256_only", "oin.oidc.no_custom_scopes", "oin.scim.credentials_not_basic"]
            .into_iter()
            .map(str::to_owned)
            .collect();
    assert_eq!(standing(&report, "unmet"), expected, "{stderr}");
    assert_eq!(code, 1, "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains(
            "3 OIN requirements unmet: oin.saml.sha256_only, oin.oidc.no_custom_scopes, oin.scim.credentials_not_basic"
        ),
        "{stderr}"
    );
}

#[test]
fn an_unknown_profile_is_a_one_line_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_mockta"))
        .args(["check", "--profile", "soc2", "--target", "fixtures/profiles/oin/target.toml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--profile"), "{stderr}");
}
