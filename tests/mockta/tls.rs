//! `mockta idp --tls`: the reference SP, trusting the mock's local CA
//! through its config's `extra_ca_file`, signs a user in by the OIDC code
//! flow against the mock served over HTTPS (discovery, key set and token
//! endpoint all fetched over TLS); without the CA it cannot reach the
//! issuer. The CLI prints the CA file's path at start.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use mock_idp::http::RunningServer;
use mock_idp::setup::IdpOptions;
use reference_sp::http::RunningSp;

/// The built-in org over HTTPS on a free port, with a local CA in
/// `key_dir`; returns the server and the CA certificate's file.
async fn serve_builtin_idp_over_tls(key_dir: &Path) -> (RunningServer, std::path::PathBuf) {
    let idp = crate::builtin_idp();
    let options = IdpOptions { key_dir: Some(key_dir.to_path_buf()), tls: true, ..IdpOptions::default() };
    let identity = options.tls_identity("https://127.0.0.1").unwrap();
    let ca_file = identity.ca_cert_path.clone();
    let server = RunningServer::start_tls("127.0.0.1:0".parse().unwrap(), idp.clone(), identity).await.unwrap();
    let url = server.url();
    idp.write_org(|org| org.url = url);
    (server, ca_file)
}

/// The default SP config with the acme tenant's issuer at `idp_url`, the
/// database in `dir`, and `server_extra` added to `[server]`.
fn sp_config(dir: &Path, idp_url: &str, server_extra: &str) -> std::path::PathBuf {
    let text = reference_sp::config::BUILTIN_CONFIG
        .replace("http://127.0.0.1:7000", idp_url)
        .replace(
            "database = \".local/reference-sp.sqlite3\"",
            &format!("database = \"{}\"", dir.join("sp.sqlite3").display()),
        )
        .replacen("[server]\n", &format!("[server]\n{server_extra}\n"), 1);
    let path = dir.join("sp.toml");
    std::fs::write(&path, text).unwrap();
    path
}

async fn start_sp(config: std::path::PathBuf) -> RunningSp {
    let options = reference_sp::setup::SpOptions { config: Some(config), ..Default::default() };
    let sp = Arc::new(options.build().unwrap());
    RunningSp::start("127.0.0.1:0".parse().unwrap(), sp).await.unwrap()
}

/// A browser that trusts the mock's CA (the user's browser after they
/// trusted it), keeps cookies and follows no redirects.
fn browser(ca_file: &Path) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(ca_file).unwrap()).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(ca)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_reference_sp_trusting_the_mocks_ca_signs_in_by_oidc_over_tls() {
    let keys = tempfile::tempdir().unwrap();
    let (idp_server, ca_file) = serve_builtin_idp_over_tls(keys.path()).await;
    let idp_url = idp_server.url();
    assert!(idp_url.starts_with("https://"), "{idp_url}");
    let dir = tempfile::tempdir().unwrap();
    let extra = format!("extra_ca_file = \"{}\"", ca_file.display());
    let sp_server = start_sp(sp_config(dir.path(), &idp_url, &extra)).await;
    let sp_url = sp_server.url();

    let alice = browser(&ca_file);
    let login = alice.get(format!("{sp_url}/oidc/login?tenant=acme")).send().await.unwrap();
    assert_eq!(login.status(), 302, "{:?}", login.headers().get("x-error-code"));
    let authorize = login.headers()["location"].to_str().unwrap().to_owned();
    assert!(authorize.starts_with(&format!("{idp_url}/oauth2/v1/authorize?")), "{authorize}");
    let answer = alice.get(format!("{authorize}&login_hint=alice%40acme.test")).send().await.unwrap();
    assert_eq!(answer.status(), 302);
    let callback = reqwest::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    assert!(callback.query().unwrap_or("").contains("code="), "{callback}");
    // The callback names the SP's public base URL; the SP listens on a free port.
    let callback_here = format!("{sp_url}{}?{}", callback.path(), callback.query().unwrap());
    let signed_in = alice.get(callback_here).send().await.unwrap();
    assert_eq!(signed_in.status(), 303, "{:?}", signed_in.headers().get("x-error-code"));
    let who: serde_json::Value = alice.get(format!("{sp_url}/whoami")).send().await.unwrap().json().await.unwrap();
    assert_eq!(who["email"], "alice@acme.test");

    // Without the CA, the same SP cannot fetch the issuer's discovery
    // document: the certificate is not trusted, and nothing is relaxed.
    let dir = tempfile::tempdir().unwrap();
    let untrusting = start_sp(sp_config(dir.path(), &idp_url, "")).await;
    let refused = browser(&ca_file).get(format!("{}/oidc/login?tenant=acme", untrusting.url())).send().await.unwrap();
    assert_eq!(refused.status(), 502, "the provider is unreachable without the CA");
    untrusting.stop().await.unwrap();
    sp_server.stop().await.unwrap();
    idp_server.stop().await.unwrap();
}

#[test]
fn mockta_idp_tls_prints_the_ca_file_and_serves_https_that_it_trusts() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mockta"))
        .args(["idp", "--tls", "--listen", "127.0.0.1:0", "--key-dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut printed = Vec::new();
    while printed.len() < 4 {
        let mut line = String::new();
        lines.read_line(&mut line).unwrap();
        printed.push(line);
    }
    // Keep reading so the server never writes to a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    let address = printed[0].split("listening on https://").nth(1).unwrap().split_whitespace().next().unwrap();
    assert!(printed[0].contains("(org URL https://127.0.0.1:7000)"), "{}", printed[0]);
    let ca_line = printed.iter().find(|l| l.starts_with("  TLS CA certificate: ")).unwrap();
    let ca_file = ca_line.trim_start_matches("  TLS CA certificate: ").split(" (").next().unwrap();
    assert_eq!(Path::new(ca_file), dir.path().join("tls-ca.cert.pem"));

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let discovery: serde_json::Value = runtime.block_on(async {
        let url = format!("https://{address}/.well-known/openid-configuration");
        browser(Path::new(ca_file)).get(url).send().await.unwrap().json().await.unwrap()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(discovery["issuer"], "https://127.0.0.1:7000");
}
