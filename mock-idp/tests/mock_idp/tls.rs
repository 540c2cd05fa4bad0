//! HTTPS serving (`mockta idp --tls`): the server answers with https issuers,
//! a client that trusts the key folder's local authority connects and one
//! with only the built-in roots is refused, and the authority is made once
//! per key folder.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use mock_idp::http::RunningServer;
use mock_idp::setup::IdpOptions;

fn tls_options(key_dir: &Path) -> IdpOptions {
    IdpOptions { key_dir: Some(key_dir.to_path_buf()), tls: true, ..IdpOptions::default() }
}

/// Starts the built-in org over HTTPS on a free port, its org URL following
/// the bound port as the suite does it.
async fn start_tls(options: &IdpOptions) -> (RunningServer, mock_idp::keys::TlsServerIdentity) {
    let idp = Arc::new(options.build().unwrap());
    let org_url = idp.read_org(|org| org.url.clone());
    assert!(org_url.starts_with("https://"), "--tls makes the org URL https: {org_url}");
    let identity = options.tls_identity(&org_url).unwrap();
    let any_port: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = RunningServer::start_tls(any_port, idp.clone(), identity.clone()).await.unwrap();
    let url = server.url();
    idp.write_org(|org| org.url = url);
    (server, identity)
}

fn client_trusting(ca_file: &Path) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(ca_file).unwrap()).unwrap();
    reqwest::Client::builder().add_root_certificate(ca).build().unwrap()
}

#[tokio::test]
async fn https_discovery_has_an_https_issuer_and_only_a_client_trusting_the_written_ca_connects() {
    let keys = tempfile::tempdir().unwrap();
    let (server, identity) = start_tls(&tls_options(keys.path())).await;
    assert!(server.url().starts_with("https://127.0.0.1:"), "{}", server.url());
    assert!(identity.ca_cert_path.starts_with(keys.path()), "the CA is kept in the key folder");

    let trusting = client_trusting(&identity.ca_cert_path);
    let discovery: serde_json::Value = trusting
        .get(format!("{}/.well-known/openid-configuration", server.url()))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], server.url());
    for endpoint in ["authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"] {
        let value = discovery[endpoint].as_str().unwrap();
        assert!(value.starts_with(&format!("{}/", server.url())), "{endpoint} is https: {value}");
    }

    // The certificate names localhost too, so the same client reaches it by name.
    let by_name = format!("https://localhost:{}/.well-known/openid-configuration", server.addr.port());
    assert_eq!(trusting.get(by_name).send().await.unwrap().status(), 200);

    let built_in_roots_only = reqwest::Client::new();
    let refused = built_in_roots_only.get(format!("{}/.well-known/openid-configuration", server.url())).send().await;
    let error = refused.expect_err("a client without the local CA must not connect");
    assert!(error.is_connect(), "refused at the handshake: {error:?}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_local_ca_is_made_once_per_key_folder_and_reused_across_starts() {
    let keys = tempfile::tempdir().unwrap();
    let options = tls_options(keys.path());
    let (first, identity) = start_tls(&options).await;
    let ca_pem = std::fs::read_to_string(&identity.ca_cert_path).unwrap();
    assert!(ca_pem.starts_with("-----BEGIN CERTIFICATE-----"), "{ca_pem}");
    first.stop().await.unwrap();

    let (second, again) = start_tls(&options).await;
    assert_eq!(again.ca_cert_path, identity.ca_cert_path);
    assert_eq!(std::fs::read_to_string(&again.ca_cert_path).unwrap(), ca_pem, "the CA file is not replaced");
    assert_ne!(again.cert_der, identity.cert_der, "each start has its own server certificate");
    // A client that trusted the first start's CA file trusts the second start.
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap();
    let client = reqwest::Client::builder().add_root_certificate(ca).build().unwrap();
    let answer = client.get(format!("{}/.well-known/openid-configuration", second.url())).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    second.stop().await.unwrap();
}

#[test]
fn a_stored_ca_key_that_does_not_parse_is_an_error_not_a_new_ca() {
    let keys = tempfile::tempdir().unwrap();
    let options = tls_options(keys.path());
    options.tls_identity("https://127.0.0.1:7000").unwrap();
    std::fs::write(keys.path().join("tls-ca.key.pem"), "not a key").unwrap();
    let error = options.tls_identity("https://127.0.0.1:7000").unwrap_err();
    assert!(error.to_string().starts_with("--tls: "), "{error}");
    assert!(error.to_string().contains("tls-ca.key.pem"), "{error}");
}
