//! Properties of the SCIM server over HTTP: arbitrary bodies never get a
//! 500, and random sequences of operations leave exactly the state an
//! in-memory model of the rules predicts.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::{Harness, SCIM_TOKEN};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

async fn send(sp: &Harness, method: reqwest::Method, path: &str, body: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .request(method, sp.url(&format!("/scim/v2/acme{path}")))
        .bearer_auth(SCIM_TOKEN)
        .header("Content-Type", "application/scim+json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-zA-Z0-9@.:\\[\\] \"]{0,12}".prop_map(Value::from),
        proptest::sample::select(vec!["userName", "members", "active", "emails", "value", "op", "path", "Operations"])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(
                proptest::sample::select(vec![
                    "schemas",
                    "userName",
                    "active",
                    "emails",
                    "name",
                    "members",
                    "displayName",
                    "Operations",
                    "op",
                    "path",
                    "value",
                    "id",
                    "meta",
                ]),
                inner,
                0..5
            )
            .prop_map(|map| Value::Object(map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn prop_arbitrary_scim_bodies_never_get_a_500(
        body in json_value(),
        schemas in any::<bool>(),
        endpoint in proptest::sample::select(vec!["POST /Users", "PUT /Users/ID", "PATCH /Users/ID", "POST /Groups", "PATCH /Groups/GID", "PUT /Groups/GID"]),
    ) {
        let runtime = runtime();
        runtime.block_on(async {
            let sp = Harness::start(&[]).await;
            let (_, user) = send(&sp, reqwest::Method::POST, "/Users", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "base@acme.test"}).to_string()).await;
            let (_, group) = send(&sp, reqwest::Method::POST, "/Groups", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Base"}).to_string()).await;
            let mut body = body;
            if schemas && let Value::Object(map) = &mut body {
                let schema = if endpoint.starts_with("PATCH") { "urn:ietf:params:scim:api:messages:2.0:PatchOp" } else if endpoint.contains("Group") { "urn:ietf:params:scim:schemas:core:2.0:Group" } else { "urn:ietf:params:scim:schemas:core:2.0:User" };
                map.insert("schemas".into(), json!([schema]));
            }
            let (method, path) = endpoint.split_once(' ').unwrap();
            let path = path.replace("GID", group["id"].as_str().unwrap()).replace("ID", user["id"].as_str().unwrap());
            let (status, answer) = send(&sp, reqwest::Method::from_bytes(method.as_bytes()).unwrap(), &path, &body.to_string()).await;
            assert!(status < 500, "{endpoint} {body} -> {status} {answer}");
            if status >= 400 {
                assert_eq!(answer["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error", "{answer}");
            }
        });
    }
}

/// One operation of the model-based test, on user slot `slot`.
#[derive(Debug, Clone)]
enum Op {
    Create { slot: usize, upper: bool },
    Rename { slot: usize, to: usize },
    SetActive { slot: usize, active: bool },
    SetTitle { slot: usize, title: String },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..6usize, any::<bool>()).prop_map(|(slot, upper)| Op::Create { slot, upper }),
        (0..6usize, 0..6usize).prop_map(|(slot, to)| Op::Rename { slot, to }),
        (0..6usize, any::<bool>()).prop_map(|(slot, active)| Op::SetActive { slot, active }),
        (0..6usize, "[a-z]{1,6}").prop_map(|(slot, title)| Op::SetTitle { slot, title }),
    ]
}

#[derive(Debug, Clone, PartialEq)]
struct ModelUser {
    user_name: String,
    active: bool,
    title: Option<String>,
}

fn name(slot: usize) -> String {
    format!("model.user{slot}@acme.test")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn prop_scim_operations_match_the_model(ops in proptest::collection::vec(op(), 1..24)) {
        let runtime = runtime();
        runtime.block_on(async {
            let sp = Harness::start(&[]).await;
            // The users created so far: (server id, expected state). Every
            // other operation picks one by `slot` modulo their number.
            let mut model: Vec<(String, ModelUser)> = Vec::new();
            for op in &ops {
                let taken = |model: &Vec<(String, ModelUser)>, user_name: &str, except: Option<usize>| {
                    model.iter().enumerate().any(|(i, (_, u))| Some(i) != except && u.user_name.eq_ignore_ascii_case(user_name))
                };
                let pick = |slot: usize, model: &Vec<(String, ModelUser)>| (!model.is_empty()).then(|| slot % model.len());
                match op {
                    Op::Create { slot, upper } => {
                        let user_name = if *upper { name(*slot).to_uppercase() } else { name(*slot) };
                        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name, "active": true});
                        let (status, answer) = send(&sp, reqwest::Method::POST, "/Users", &body.to_string()).await;
                        if taken(&model, &user_name, None) {
                            assert_eq!(status, 409, "{op:?}: {answer}");
                            assert_eq!(answer["scimType"], "uniqueness");
                        } else {
                            assert_eq!(status, 201, "{op:?}: {answer}");
                            model.push((answer["id"].as_str().unwrap().to_owned(), ModelUser { user_name, active: true, title: None }));
                        }
                    }
                    Op::Rename { slot, to } => {
                        let Some(index) = pick(*slot, &model) else { continue };
                        let (id, user) = model[index].clone();
                        let user_name = name(*to);
                        let mut body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name, "active": user.active});
                        if let Some(title) = &user.title {
                            body["title"] = json!(title);
                        }
                        let (status, answer) = send(&sp, reqwest::Method::PUT, &format!("/Users/{id}"), &body.to_string()).await;
                        if taken(&model, &user_name, Some(index)) {
                            assert_eq!(status, 409, "{op:?}: {answer}");
                        } else {
                            assert_eq!(status, 200, "{op:?}: {answer}");
                            model[index].1.user_name = user_name;
                        }
                    }
                    Op::SetActive { slot, active } => {
                        let Some(index) = pick(*slot, &model) else { continue };
                        let id = model[index].0.clone();
                        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": active}}]});
                        let (status, answer) = send(&sp, reqwest::Method::PATCH, &format!("/Users/{id}"), &body.to_string()).await;
                        assert_eq!(status, 200, "{op:?}: {answer}");
                        model[index].1.active = *active;
                    }
                    Op::SetTitle { slot, title } => {
                        let Some(index) = pick(*slot, &model) else { continue };
                        let id = model[index].0.clone();
                        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "title", "value": title}]});
                        let (status, answer) = send(&sp, reqwest::Method::PATCH, &format!("/Users/{id}"), &body.to_string()).await;
                        assert_eq!(status, 200, "{op:?}: {answer}");
                        model[index].1.title = Some(title.clone());
                    }
                }
            }
            let (_, list) = send(&sp, reqwest::Method::GET, "/Users?count=100", "").await;
            let resources = list["Resources"].as_array().unwrap();
            assert_eq!(resources.len(), model.len(), "{ops:?}");
            for (id, expected) in &model {
                let found = resources.iter().find(|r| r["id"] == id.as_str()).unwrap();
                let actual = ModelUser {
                    user_name: found["userName"].as_str().unwrap().to_owned(),
                    active: found["active"].as_bool().unwrap(),
                    title: found["title"].as_str().map(str::to_owned),
                };
                assert_eq!(&actual, expected, "{ops:?}");
            }
        });
    }
}
