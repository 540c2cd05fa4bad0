//! Sixteen SCIM clients create, update and deactivate overlapping users at
//! once. Afterwards no acknowledged write is lost, no two users share a
//! userName, and every 409 was a real conflict.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};

use crate::support::{Harness, SCIM_TOKEN};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Default)]
struct Ledger {
    /// id -> (acknowledged version, displayName, active) of every acknowledged write.
    writes: HashMap<String, Vec<(u64, String, bool)>>,
    /// userName -> id, from acknowledged creates.
    created: HashMap<String, String>,
    /// userNames refused with 409.
    conflicts: Vec<String>,
}

fn version(body: &Value) -> u64 {
    body["meta"]["version"].as_str().unwrap().trim_start_matches("W/").trim_matches('"').parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scim_concurrent_clients_lose_nothing_and_duplicate_nothing() {
    let sp = Arc::new(Harness::start(&[]).await);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let names: Vec<String> = (0..24).map(|i| format!("Shared.User{i}@acme.test")).collect();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut clients = Vec::new();
    for client_number in 0..16u32 {
        let (sp, ledger, names) = (sp.clone(), ledger.clone(), names.clone());
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let base = sp.url("/scim/v2/acme");
            let mut step = 0u64;
            while Instant::now() < deadline {
                step += 1;
                let (action, index) = {
                    let mut rng = rand::rng();
                    (rng.random_range(0..3), rng.random_range(0..names.len()))
                };
                // Half the creates use another case of the same name.
                let name = if client_number.is_multiple_of(2) { names[index].clone() } else { names[index].to_lowercase() };
                let known = ledger.lock().unwrap().created.get(&names[index].to_lowercase()).cloned();
                match (action, known) {
                    (0, _) | (_, None) => {
                        let body = json!({"schemas": [USER], "userName": name, "displayName": format!("c{client_number}-{step}"), "active": true});
                        let response = http.post(format!("{base}/Users")).bearer_auth(SCIM_TOKEN).json(&body).send().await.unwrap();
                        match response.status().as_u16() {
                            201 => {
                                let created: Value = response.json().await.unwrap();
                                let id = created["id"].as_str().unwrap().to_owned();
                                let mut ledger = ledger.lock().unwrap();
                                ledger.created.insert(name.to_lowercase(), id.clone());
                                ledger.writes.entry(id).or_default().push((version(&created), created["displayName"].as_str().unwrap().to_owned(), true));
                            }
                            409 => ledger.lock().unwrap().conflicts.push(name.to_lowercase()),
                            other => panic!("create answered {other}"),
                        }
                    }
                    (1, Some(id)) => {
                        let display = format!("u{client_number}-{step}");
                        let body = json!({"schemas": [USER], "userName": name, "displayName": display, "active": true});
                        let response = http.put(format!("{base}/Users/{id}")).bearer_auth(SCIM_TOKEN).json(&body).send().await.unwrap();
                        assert_eq!(response.status(), 200);
                        let updated: Value = response.json().await.unwrap();
                        ledger.lock().unwrap().writes.entry(id).or_default().push((version(&updated), display, true));
                    }
                    (_, Some(id)) => {
                        let active = step.is_multiple_of(2);
                        let body = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": active}}]});
                        let response = http.patch(format!("{base}/Users/{id}")).bearer_auth(SCIM_TOKEN).json(&body).send().await.unwrap();
                        assert_eq!(response.status(), 200);
                        let patched: Value = response.json().await.unwrap();
                        let display = patched["displayName"].as_str().unwrap().to_owned();
                        ledger.lock().unwrap().writes.entry(id).or_default().push((version(&patched), display, active));
                    }
                }
            }
        }));
    }
    for client in clients {
        client.await.unwrap();
    }

    let http = reqwest::Client::new();
    let list: Value = http
        .get(sp.url("/scim/v2/acme/Users?count=1000"))
        .bearer_auth(SCIM_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let users = list["Resources"].as_array().unwrap();
    let mut user_names: Vec<String> = users.iter().map(|u| u["userName"].as_str().unwrap().to_lowercase()).collect();
    let total = user_names.len();
    user_names.sort();
    user_names.dedup();
    assert_eq!(user_names.len(), total, "no two users share a userName");

    let ledger = ledger.lock().unwrap();
    assert!(!ledger.conflicts.is_empty() && ledger.writes.len() > 5, "the load overlapped");
    for name in &ledger.conflicts {
        assert!(user_names.contains(name), "a 409 for {name}, but no such user exists");
    }
    for (id, writes) in &ledger.writes {
        let user =
            users.iter().find(|u| u["id"] == id.as_str()).unwrap_or_else(|| panic!("acknowledged user {id} is lost"));
        let (last_version, last_display, last_active) = writes.iter().max_by_key(|w| w.0).unwrap();
        assert_eq!(version(user), *last_version, "{id}: the last acknowledged write is the stored one");
        assert_eq!(user["displayName"], last_display.as_str(), "{id}");
        assert_eq!(user["active"], *last_active, "{id}");
    }
}

/// Two clients deactivate the tenant's only two admins at the same moment,
/// round after round. Whether the two writes share a commit or not, exactly
/// one is applied: the second is judged against the first, as if they had
/// run one after the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deactivations_never_remove_the_last_admin() {
    const TENANT_EXTENSION: &str = "urn:mockta:params:scim:schemas:extension:tenant:2.0:User";
    let sp = Harness::start(&[]).await;
    let http = reqwest::Client::new();
    let base = sp.url("/scim/v2/acme");
    let create_admin = |name: String| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let body = json!({"schemas": [USER, TENANT_EXTENSION], "userName": name, "active": true, TENANT_EXTENSION: {"role": "Admin"}});
            let response = http.post(format!("{base}/Users")).bearer_auth(SCIM_TOKEN).json(&body).send().await.unwrap();
            assert_eq!(response.status(), 201);
            response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
        }
    };
    let mut remaining_admin = create_admin("admin.first@acme.test".into()).await;
    for round in 0..12 {
        let newcomer = create_admin(format!("admin.round{round}@acme.test")).await;
        let deactivate = |id: String| {
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move {
                let body = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": false}}]});
                let response =
                    http.patch(format!("{base}/Users/{id}")).bearer_auth(SCIM_TOKEN).json(&body).send().await.unwrap();
                (id, response.status().as_u16())
            })
        };
        let (first, second) = (deactivate(remaining_admin.clone()), deactivate(newcomer.clone()));
        let mut outcomes = [first.await.unwrap(), second.await.unwrap()];
        outcomes.sort_by_key(|(_, status)| *status);
        let statuses: Vec<u16> = outcomes.iter().map(|(_, status)| *status).collect();
        assert_eq!(statuses, [200, 409], "round {round}: exactly one of the two admins is deactivated");
        remaining_admin = outcomes[1].0.clone();
    }
}
