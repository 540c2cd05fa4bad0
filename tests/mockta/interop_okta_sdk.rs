//! Okta's own management SDKs against the mock, changed in nothing but the
//! org URL and the API token: Okta's Python SDK (`okta`) and Node.js SDK
//! (`@okta/okta-sdk-nodejs`) list users a page at a time, create, search,
//! update, deactivate and delete users, create a group with members, and
//! assign a user and the group to an app (tests/interop/okta_sdk_python.py
//! and okta_sdk_node.js). The Python SDK refuses an org URL that is not
//! https, so both run against the mock served over TLS, trusting its local
//! CA through the runtime's documented setting (`SSL_CERT_FILE` for
//! OpenSSL under Python, `NODE_EXTRA_CA_CERTS` for Node). Each test then
//! checks the org through the mock's own API.

use std::path::{Path, PathBuf};
use std::process::Command;

use mock_idp::http::RunningServer;
use mock_idp::setup::IdpOptions;
use serde_json::Value;

const API_TOKEN: &str = "mockta-dev-ssws-token";
const APP: &str = "0oarefsp000000000001";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Which SDK drives the script.
#[derive(Clone, Copy, Debug)]
enum Sdk {
    Python,
    Node,
}

impl Sdk {
    fn command(self, ca_file: &Path) -> Command {
        match self {
            Sdk::Python => {
                let mut command = Command::new(crate::python());
                command.arg(root().join("tests/interop/okta_sdk_python.py")).env("SSL_CERT_FILE", ca_file);
                command
            }
            Sdk::Node => {
                assert!(
                    root().join(".local/node/node_modules/@okta/okta-sdk-nodejs").exists(),
                    "@okta/okta-sdk-nodejs is missing: run ./scripts/test (it installs tests/interop/package.json into .local/node)"
                );
                let mut command = Command::new("node");
                command.arg(root().join("tests/interop/okta_sdk_node.js")).env("NODE_EXTRA_CA_CERTS", ca_file);
                command
            }
        }
    }
}

/// The built-in org over HTTPS on a free port, and a client of its
/// management API that trusts its CA.
struct Mock {
    server: RunningServer,
    client: reqwest::Client,
    ca_file: PathBuf,
    _keys: tempfile::TempDir,
}

impl Mock {
    async fn start() -> Mock {
        let keys = tempfile::tempdir().unwrap();
        let idp = crate::builtin_idp();
        let options = IdpOptions { key_dir: Some(keys.path().to_path_buf()), tls: true, ..IdpOptions::default() };
        let identity = options.tls_identity("https://127.0.0.1").unwrap();
        let ca_file = identity.ca_cert_path.clone();
        let server = RunningServer::start_tls("127.0.0.1:0".parse().unwrap(), idp.clone(), identity).await.unwrap();
        let url = server.url();
        idp.write_org(|org| org.url = url);
        let ca = reqwest::Certificate::from_pem(&std::fs::read(&ca_file).unwrap()).unwrap();
        let client = reqwest::Client::builder().add_root_certificate(ca).build().unwrap();
        Mock { server, client, ca_file, _keys: keys }
    }

    async fn get(&self, path: &str) -> (reqwest::StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}/api/v1{path}", self.server.url()))
            .header("Authorization", format!("SSWS {API_TOKEN}"))
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    /// Runs an SDK's script and returns its JSON summary.
    async fn run(&self, sdk: Sdk, prefix: &str) -> Value {
        let mut command = sdk.command(&self.ca_file);
        command.args([self.server.url().as_str(), API_TOKEN, APP, prefix]);
        // The script blocks; the server keeps running on the runtime's other threads.
        let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{sdk:?} failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }
}

async fn manages_users_groups_and_assignments(sdk: Sdk, prefix: &str) {
    let mock = Mock::start().await;
    assert!(mock.server.url().starts_with("https://"));
    let summary = mock.run(sdk, prefix).await;

    // Paging: two users a page over the org's users walks several pages,
    // and the walk after the changes sees one more listed user (three
    // created, one deactivated, one deleted; deprovisioned users are not
    // listed).
    assert!(summary["pages_walked"].as_u64().unwrap() > 1, "{summary}");
    let before = summary["users_before"].as_u64().unwrap();
    assert_eq!(before, 4, "alice, bob, carol and erin: {summary}");
    assert_eq!(summary["users_after"].as_u64().unwrap(), before + 1, "{summary}");

    let created = summary["created"].as_object().unwrap();
    let id = |n: usize| created[&format!("{prefix}{n}@acme.test")].as_str().unwrap().to_owned();
    let (first, second, third) = (id(1), id(2), id(3));
    assert_eq!(summary["search_found"], serde_json::json!([first]), "{summary}");
    assert_eq!(
        summary["search_and_or_found"],
        serde_json::json!([format!("{prefix}1@acme.test"), format!("{prefix}2@acme.test")]),
        "{summary}"
    );
    assert_eq!(summary["updated_first_name"], "Renamed");

    // The org as the mock's own API shows it.
    let (status, user) = mock.get(&format!("/users/{first}")).await;
    assert_eq!(status, 200);
    assert_eq!(user["status"], "ACTIVE");
    assert_eq!(user["profile"]["firstName"], "Renamed");
    assert_eq!(user["profile"]["lastName"], "User1", "a partial update keeps the rest of the profile");
    let (_, user) = mock.get(&format!("/users/{second}")).await;
    assert_eq!(user["status"], "DEPROVISIONED");
    let (status, gone) = mock.get(&format!("/users/{third}")).await;
    assert_eq!((status.as_u16(), gone["errorCode"].as_str()), (404, Some("E0000007")), "{gone}");

    let group = summary["group"].as_str().unwrap();
    let (_, group_json) = mock.get(&format!("/groups/{group}")).await;
    assert_eq!(group_json["profile"]["name"], format!("{prefix}group"));
    let (_, members) = mock.get(&format!("/groups/{group}/users")).await;
    let mut member_ids: Vec<&str> = members.as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    member_ids.sort();
    let mut expected = vec![first.as_str(), second.as_str()];
    expected.sort();
    assert_eq!(member_ids, expected);

    let (status, assignment) = mock.get(&format!("/apps/{APP}/users/{first}")).await;
    assert_eq!(status, 200, "{assignment}");
    assert_eq!(assignment["scope"], "USER");
    let (_, app_groups) = mock.get(&format!("/apps/{APP}/groups")).await;
    assert!(app_groups.as_array().unwrap().iter().any(|g| g["id"] == group), "{app_groups}");
    let (_, app_users) = mock.get(&format!("/apps/{APP}/users?limit=500")).await;
    assert!(app_users.as_array().unwrap().iter().any(|u| u["id"] == first.as_str()), "{app_users}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_python_sdk_manages_users_groups_and_assignments() {
    manages_users_groups_and_assignments(Sdk::Python, "sdk-python-").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_node_sdk_manages_users_groups_and_assignments() {
    manages_users_groups_and_assignments(Sdk::Node, "sdk-node-").await;
}
