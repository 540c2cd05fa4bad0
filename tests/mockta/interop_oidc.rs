//! Interop with real OIDC relying-party libraries against the running mock:
//! openid-client with @okta/jwt-verifier (Node) and Authlib with
//! okta-jwt-verifier (Python). The test command installs them into
//! `.local/node` and `.local/venv`; see `tests/interop/`. Sign-in is headless,
//! with `login_hint`.

use std::path::PathBuf;
use std::process::Command;

use mock_idp::http::RunningServer;
use serde_json::{Value, json};

const WEB: &str = "0oarefspoidc00000007";
const WEB_SECRET: &str = "mockta-dev-oidc-secret";
const WEB_REDIRECT: &str = "http://127.0.0.1:7100/oidc/callback/acme";
const NATIVE: &str = "0oanativepkce0000008";
const NATIVE_REDIRECT: &str = "http://127.0.0.1:7100/oidc/native/callback";
const API_TOKEN: &str = "mockta-dev-ssws-token";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Which relying-party library drives the sign-in.
#[derive(Clone, Copy, Debug)]
enum Library {
    /// openid-client 5 with @okta/jwt-verifier, as the web (secret) client.
    Node,
    /// Authlib with okta-jwt-verifier, as the native (PKCE only) client.
    Python,
}

impl Library {
    fn command(self) -> Command {
        match self {
            Library::Node => {
                assert!(
                    root().join(".local/node/node_modules/openid-client").exists(),
                    "openid-client is missing: run ./scripts/test (it installs tests/interop/package.json into .local/node)"
                );
                let mut command = Command::new("node");
                command.arg(root().join("tests/interop/oidc_openid_client.js"));
                command.args(["--client-id", WEB, "--client-secret", WEB_SECRET, "--redirect-uri", WEB_REDIRECT]);
                command
            }
            Library::Python => {
                let mut command = Command::new(crate::python());
                command.arg(root().join("tests/interop/oidc_authlib.py"));
                command.args(["--client-id", NATIVE, "--redirect-uri", NATIVE_REDIRECT]);
                command
            }
        }
    }
}

struct Mock {
    idp: std::sync::Arc<mock_idp::idp::Idp>,
    server: RunningServer,
    client: reqwest::Client,
}

impl Mock {
    async fn start() -> Mock {
        let (idp, server) = crate::serve_builtin_idp().await;
        Mock { idp, server, client: reqwest::Client::new() }
    }

    fn issuer(&self) -> String {
        format!("{}/oauth2/default", self.server.url())
    }

    async fn arm(&self, fault: &str, token: &str) {
        let response = self
            .client
            .post(format!("{}/api/v1/mockta/oidc/faults", self.server.url()))
            .header("Authorization", format!("SSWS {API_TOKEN}"))
            .json(&json!({ "fault": fault, "user": "alice@acme.test", "token": token }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    }

    /// Runs a library's sign-in against the custom server and returns its verdict.
    async fn sign_in(&self, library: Library, issuer: &str, extra: &[&str]) -> Value {
        let mut command = library.command();
        command.args(["--issuer", issuer, "--login-hint", "alice@acme.test"]).args(extra);
        // The script blocks; the server keeps running on the runtime's other threads.
        let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
        assert!(output.status.success(), "{library:?} crashed: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
    }
}

async fn accepts_signs_in_and_survives_rotation(library: Library) {
    let mock = Mock::start().await;
    let rotate = format!(
        "{}/api/v1/authorizationServers/default/credentials/lifecycle/keyRotate?emergency=true",
        mock.server.url()
    );
    let verdict = mock
        .sign_in(
            library,
            &mock.issuer(),
            &["--audience", "api://default", "--rotate-url", &rotate, "--api-token", API_TOKEN],
        )
        .await;
    assert_eq!(verdict["ok"], true, "{library:?}: {verdict}");
    assert_eq!(verdict["id_token_claims"]["email"], "alice@acme.test");
    assert_eq!(verdict["access_token_claims"]["aud"], "api://default", "Okta's verifier accepted the access token");
    let after = &verdict["after_rotation"];
    assert_eq!(after["ok"], true, "{library:?} after an emergency key rotation: {after}");
    assert_ne!(after["id_token_claims"]["jti"], verdict["id_token_claims"]["jti"]);

    let org_server = mock.sign_in(library, &mock.server.url(), &[]).await;
    assert_eq!(org_server["ok"], true, "{library:?} on the org authorization server: {org_server}");
    assert_eq!(org_server["id_token_claims"]["iss"], mock.server.url());
}

async fn rejects_faulted_tokens(library: Library) {
    let mock = Mock::start().await;
    for fault in ["bad-signature", "wrong-aud", "expired"] {
        mock.arm(fault, "id_token").await;
        let verdict = mock.sign_in(library, &mock.issuer(), &["--audience", "api://default"]).await;
        assert_eq!(verdict["ok"], false, "{library:?} accepted an ID token with {fault}: {verdict}");
        assert_eq!(verdict["stage"], "id_token", "{library:?} {fault}: {verdict}");

        mock.arm(fault, "access_token").await;
        let verdict = mock.sign_in(library, &mock.issuer(), &["--audience", "api://default"]).await;
        assert_eq!(
            verdict["ok"], false,
            "Okta's verifier ({library:?}) accepted an access token with {fault}: {verdict}"
        );
        assert_eq!(verdict["stage"], "access_token", "{library:?} {fault}: {verdict}");
    }
    let clean = mock.sign_in(library, &mock.issuer(), &["--audience", "api://default"]).await;
    assert_eq!(clean["ok"], true, "faults apply once: {clean}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_signs_in_with_pkce_and_survives_key_rotation() {
    accepts_signs_in_and_survives_rotation(Library::Node).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_signs_in_with_pkce_and_survives_key_rotation() {
    accepts_signs_in_and_survives_rotation(Library::Python).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_and_okta_verifier_reject_faulted_tokens() {
    rejects_faulted_tokens(Library::Node).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_and_okta_verifier_reject_faulted_tokens() {
    rejects_faulted_tokens(Library::Python).await;
}

/// openid-client pushes the request to `/par` and authenticates there and at
/// the token endpoint with `client_secret_jwt`, on both kinds of server: the
/// features the discovery documents advertise work for a real library.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_signs_in_with_client_secret_jwt_and_a_pushed_request() {
    let mock = Mock::start().await;
    let web = mock_idp::ids::AppId::parse(WEB).unwrap();
    mock.idp.write_org(|org| {
        if let Some(mock_idp::org::SignOn::Oidc(settings)) = org.apps.get_mut(&web).map(|app| &mut app.sign_on) {
            settings.token_endpoint_auth_method = mock_idp::org::oidc::ClientAuthMethod::ClientSecretJwt;
        }
    });
    for issuer in [mock.issuer(), mock.server.url()] {
        let verdict = mock.sign_in(Library::Node, &issuer, &["--auth-method", "client_secret_jwt", "--par"]).await;
        assert_eq!(verdict["ok"], true, "{issuer}: {verdict}");
        assert_eq!(verdict["id_token_claims"]["iss"], issuer);
    }
    // Basic authentication is now refused, so the sign-in above really used
    // client_secret_jwt.
    let basic = mock.sign_in(Library::Node, &mock.issuer(), &["--par"]).await;
    assert_eq!(basic["ok"], false, "{basic}");
}
