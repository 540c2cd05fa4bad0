//! Management operations over HTTP reach a subscriber of the running IdP as
//! typed changes, in the order they were made, and the API still answers
//! with Okta's JSON.

use mock_idp::admin::{Membership, OrgChange};
use mock_idp::ids::{AppId, GroupId, UserId};
use mock_idp::org::UserStatus;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::TryRecvError;

use crate::support::Server;

const REFERENCE_SP: &str = "0oarefsp000000000001";
const SALES: &str = "00gsales000000000003";

#[tokio::test]
async fn management_api_changes_reach_a_subscriber_in_order() {
    let server = Server::start().await;
    let mut changes = server.idp.subscribe_changes();
    let created: Value = server
        .api(Method::POST, "/users?activate=true")
        .json(&json!({"profile": {"login": "sub@acme.test", "email": "sub@acme.test", "firstName": "S", "lastName": "U"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["profile"]["login"], "sub@acme.test", "the API still answers with the user");
    let user = UserId::parse(created["id"].as_str().unwrap()).unwrap();
    let assigned = server
        .api(Method::POST, &format!("/apps/{REFERENCE_SP}/users"))
        .json(&json!({"id": user.as_str()}))
        .send()
        .await
        .unwrap();
    let assigned: Value = assigned.json().await.unwrap();
    assert_eq!(assigned["scope"], "USER");
    let added = server.api(Method::PUT, &format!("/groups/{SALES}/users/{user}")).send().await.unwrap();
    assert_eq!(added.status(), 204);
    let renamed = server
        .api(Method::PUT, &format!("/groups/{SALES}"))
        .json(&json!({"profile": {"name": "Field Sales"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    let deactivated = server.api(Method::POST, &format!("/users/{user}/lifecycle/deactivate")).send().await.unwrap();
    assert_eq!(deactivated.status(), 200);

    let app = AppId::parse(REFERENCE_SP).unwrap();
    let sales = GroupId::parse(SALES).unwrap();
    let expected = vec![
        OrgChange::UserCreated { user: user.clone(), status: UserStatus::Active },
        OrgChange::AssignedToApp { app, user: user.clone() },
        OrgChange::GroupMembershipChanged { group: sales.clone(), user: user.clone(), membership: Membership::Added },
        OrgChange::GroupRenamed { group: sales, from: "Sales".into(), to: "Field Sales".into() },
        OrgChange::StatusChanged { user, from: UserStatus::Active, to: UserStatus::Deprovisioned },
    ];
    let mut received = Vec::new();
    loop {
        match changes.try_recv() {
            Ok(change) => received.push(change),
            Err(TryRecvError::Empty) => break,
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(received, expected);
}

#[tokio::test]
async fn a_refused_operation_publishes_nothing() {
    let server = Server::start().await;
    let mut changes = server.idp.subscribe_changes();
    let refused = server
        .api(Method::POST, "/users")
        .json(&json!({"profile": {"login": "alice@acme.test", "email": "a@acme.test", "firstName": "A", "lastName": "B"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(matches!(changes.try_recv(), Err(TryRecvError::Empty)));
}
