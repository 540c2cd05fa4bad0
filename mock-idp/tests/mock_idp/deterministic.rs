//! Deterministic mode is deterministic everywhere: the org is loaded on the
//! fixed clock, and the `errorId` of Okta's error envelope comes from the
//! IdP's id generator, so two runs give the same bytes.

use std::sync::Arc;

use mock_idp::clock::{Clock, FixedClock};
use mock_idp::http::RunningServer;
use mock_idp::setup::IdpOptions;
use serde_json::Value;

use crate::support::API_TOKEN;

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

/// The error envelopes of one fresh deterministic IdP: a refused token and
/// a missing user.
async fn error_ids_of_a_fresh_deterministic_idp() -> Vec<String> {
    let idp = Arc::new(IdpOptions { deterministic: true, ..IdpOptions::default() }.build().unwrap());
    let server = RunningServer::start("127.0.0.1:0".parse().unwrap(), idp).await.unwrap();
    let client = reqwest::Client::new();
    let refused = client.get(format!("{}/api/v1/users", server.url())).send().await.unwrap();
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
