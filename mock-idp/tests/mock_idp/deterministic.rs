//! Deterministic mode is deterministic everywhere: the org is loaded on the
//! fixed clock, and the `errorId` of Okta's error envelope comes from the
//! IdP's id generator, so two runs give the same bytes.

use std::sync::{Arc, Mutex};

use mock_idp::clock::{Clock, FixedClock};
use mock_idp::http::RunningServer;
use mock_idp::idp::{Idp, IdpConfig};
use mock_idp::ids::{IdGenerator, SequentialIds};
use mock_idp::setup::IdpOptions;
use serde_json::Value;

use crate::support::{API_TOKEN, org};

#[test]
fn deterministic_setup_loads_the_org_on_the_fixed_clock() {
    let options = IdpOptions { deterministic: true, ..IdpOptions::default() };
    let fixed = FixedClock::deterministic().now();
    assert_eq!(options.clock().now(), fixed);
    let idp = options.build().unwrap();
    assert_eq!(idp.now(), options.clock().now(), "the IdP runs on the clock the org was loaded on");
    let created: Vec<_> = idp.read_org(|org| org.users.values().map(|u| u.created).collect());
    assert!(!created.is_empty());
    assert!(created.iter().all(|c| *c == fixed), "{created:?} are not all {fixed}");
    let groups_updated: Vec<_> = idp.read_org(|org| org.groups.values().map(|g| g.last_updated).collect());
    assert!(groups_updated.iter().all(|c| *c == fixed));
}

/// `mockta oidc mint --deterministic` prints what `mint_tokens` returns on an
/// IdP built this way, so two builds must mint the same bytes, and no
/// claim may come from the wall clock (`updated_at` once did, after `iat`).
#[test]
fn deterministic_oidc_mint_is_byte_identical_across_runs() {
    use mock_idp::oidc::ServerRef;
    let mint = |server: &ServerRef, app: &str| {
        let idp = IdpOptions { deterministic: true, ..IdpOptions::default() }.build().unwrap();
        let minted = idp.mint_tokens(server, app, "alice@acme.test", None).unwrap();
        (minted.id_token, minted.access_token, minted.issuer)
    };
    for (server, app) in [(ServerRef::Org, "reference-sp-oidc"), (ServerRef::Custom("default".into()), "native-pkce")] {
        let first = mint(&server, app);
        assert_eq!(first, mint(&server, app), "{server}");
        let claims = crate::oidc::claims_of(&first.0);
        let fixed = FixedClock::deterministic().now().unix_timestamp();
        assert_eq!(claims["iat"], fixed);
        assert_eq!(claims["auth_time"], fixed);
        assert_eq!(claims["updated_at"], fixed, "the profile was loaded on the fixed clock, not after iat");
    }
}

/// The error envelopes of one fresh deterministic IdP: a refused token and
/// a missing user.
async fn error_ids_of_a_fresh_deterministic_idp() -> Vec<String> {
    let idp = Arc::new(IdpOptions { deterministic: true, ..IdpOptions::default() }.build().unwrap());
    let server = RunningServer::start("127.0.0.1:0".parse().unwrap(), idp).await.unwrap();
    let client = reqwest::Client::new();
    let refused = client
        .get(format!("{}/api/v1/users", server.url()))
        .header("Authorization", "SSWS wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let missing = client
        .get(format!("{}/api/v1/users/nobody", server.url()))
        .header("Authorization", format!("SSWS {API_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let mut ids = Vec::new();
    for response in [refused, missing] {
        let body: Value = response.json().await.unwrap();
        ids.push(body["errorId"].as_str().unwrap().to_owned());
    }
    server.stop().await.unwrap();
    ids
}

#[tokio::test]
async fn deterministic_error_ids_come_from_the_id_generator() {
    let first_run = error_ids_of_a_fresh_deterministic_idp().await;
    let second_run = error_ids_of_a_fresh_deterministic_idp().await;
    assert_eq!(first_run, second_run, "the same requests give the same error ids");
    assert_ne!(first_run[0], first_run[1], "each error gets its own id");
    assert!(first_run.iter().all(|id| id.starts_with("oae") && id.len() == 25), "{first_run:?}");
}

/// Makes ids as [`SequentialIds`] does and keeps every `errorId` it made.
#[derive(Default)]
struct RecordingIds {
    sequence: SequentialIds,
    error_ids: Mutex<Vec<String>>,
}

impl IdGenerator for RecordingIds {
    fn okta_id(&self, prefix: &str) -> String {
        self.sequence.okta_id(prefix)
    }

    fn saml_id(&self) -> String {
        self.sequence.saml_id()
    }

    fn opaque_token(&self) -> String {
        self.sequence.opaque_token()
    }

    fn error_id(&self) -> String {
        let id = self.sequence.error_id();
        self.error_ids.lock().unwrap().push(id.clone());
        id
    }
}

#[tokio::test]
async fn each_error_envelope_asks_the_id_generator_once_for_its_error_id() {
    let ids = Arc::new(RecordingIds::default());
    let config = IdpConfig { ids: ids.clone(), ..IdpConfig::deterministic(org()).unwrap() };
    let server = RunningServer::start("127.0.0.1:0".parse().unwrap(), Arc::new(Idp::new(config))).await.unwrap();
    let client = reqwest::Client::new();
    let mut sent = Vec::new();
    let refusals = [
        ("/api/v1/users", "SSWS wrong".to_owned()),
        ("/api/v1/users/nobody", format!("SSWS {API_TOKEN}")),
        ("/oauth2/nowhere/v1/keys", String::new()),
    ];
    for (path, authorization) in refusals {
        let response =
            client.get(format!("{}{path}", server.url())).header("Authorization", authorization).send().await.unwrap();
        assert!(response.status().is_client_error(), "{path}: {}", response.status());
        let body: Value = response.json().await.unwrap();
        sent.push(body["errorId"].as_str().unwrap().to_owned());
    }
    server.stop().await.unwrap();
    let made = ids.error_ids.lock().unwrap().clone();
    assert_eq!(made, sent, "one errorId made per envelope, and it is the one sent");
}
