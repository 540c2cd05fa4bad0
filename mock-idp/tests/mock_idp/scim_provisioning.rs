//! Okta's SCIM client in the mock, against a small recording SCIM server
//! written here (mock-idp's tests never use the reference SP): each org
//! change's request sequence is snapshotted as the server received it, with
//! the mock's deterministic ids and clock.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use mock_idp::admin::{self, Lifecycle};
use mock_idp::idp::{Idp, IdpConfig};
use mock_idp::provisioning::{Provisioner, ProvisionerOptions, RetryPolicy};
use serde_json::{Value, json};

pub(super) const APP: &str = "0oascimapp0000000001";
pub(super) const ALICE: &str = "00ualice000000000001";
pub(super) const BOB: &str = "00ubob00000000000002";
const ENGINEERING: &str = "00gengineering000001";

/// A SCIM server that keeps users and groups in memory, records every
/// request, and answers with a queued failure when one is queued.
#[derive(Default)]
struct Recorder {
    users: BTreeMap<String, Value>,
    groups: BTreeMap<String, Value>,
    next_id: u32,
    recorded: Vec<Value>,
    failures: VecDeque<(u16, Option<&'static str>, Value)>,
    /// Refuse a second user with the same userName (any case) with 409.
    unique_user_names: bool,
}

type Shared = Arc<Mutex<Recorder>>;

fn scim_json(status: StatusCode, body: Value) -> Response {
    (status, [("content-type", "application/scim+json")], body.to_string()).into_response()
}

fn not_found() -> Response {
    scim_json(
        StatusCode::NOT_FOUND,
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": "not found", "status": "404"}),
    )
}

fn query_value(uri: &Uri, key: &str) -> Option<String> {
    let query = uri.query()?;
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == key).then(|| percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned())
    })
}

fn list(resources: Vec<Value>, uri: &Uri) -> Response {
    let start: usize = query_value(uri, "startIndex").and_then(|v| v.parse().ok()).unwrap_or(1);
    let count: usize = query_value(uri, "count").and_then(|v| v.parse().ok()).unwrap_or(100);
    let total = resources.len();
    let page: Vec<Value> = resources.into_iter().skip(start.saturating_sub(1)).take(count).collect();
    scim_json(
        StatusCode::OK,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": total, "startIndex": start, "itemsPerPage": page.len(), "Resources": page,
        }),
    )
}

/// The value of a filter `attr eq "value"`, for the one attribute asked.
fn filter_value(uri: &Uri, attribute: &str) -> Option<String> {
    let filter = query_value(uri, "filter")?;
    let value = filter.strip_prefix(&format!("{attribute} eq \""))?.strip_suffix('"')?;
    Some(value.replace("\\\"", "\"").replace("\\\\", "\\"))
}

fn set_path(resource: &mut Value, path: &str, value: Value) {
    match path.split_once('.') {
        Some((head, sub)) if !head.contains('[') => resource[head][sub] = value,
        Some((head, sub)) => {
            let attribute = head.split('[').next().unwrap_or(head);
            if let Some(items) = resource[attribute].as_array_mut()
                && let Some(first) = items.first_mut()
            {
                first[sub] = value;
            }
        }
        None => resource[path] = value,
    }
}

async fn handle(State(shared): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let mut server = shared.lock().unwrap();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body: Option<Value> = serde_json::from_slice(&body).ok();
    server.recorded.push(json!({
        "method": method.as_str(),
        "path": uri.path_and_query().map(|p| p.as_str()).unwrap_or_default(),
        "user_agent": header("user-agent"),
        "accept": header("accept"),
        "content_type": header("content-type"),
        "authorization": header("authorization"),
        "body": body,
    }));
    if let Some((status, retry_after, body)) = server.failures.pop_front() {
        let mut response = scim_json(StatusCode::from_u16(status).unwrap(), body);
        if let Some(retry_after) = retry_after {
            response.headers_mut().insert("retry-after", retry_after.parse().unwrap());
        }
        return response;
    }
    let path = uri.path().trim_start_matches("/scim/v2").to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let body = body.unwrap_or(Value::Null);
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["Users"]) => {
            let wanted = filter_value(&uri, "userName");
            let users = server
                .users
                .values()
                .filter(|u| {
                    wanted.as_ref().is_none_or(|w| u["userName"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(w)))
                })
                .cloned()
                .collect();
            list(users, &uri)
        }
        ("GET", ["Groups"]) => {
            let wanted = filter_value(&uri, "displayName");
            let groups = server
                .groups
                .values()
                .filter(|g| wanted.as_ref().is_none_or(|w| g["displayName"].as_str() == Some(w)))
                .cloned()
                .collect();
            list(groups, &uri)
        }
        ("POST", ["Users"])
            if server.unique_user_names
                && server.users.values().any(|u| {
                    u["userName"]
                        .as_str()
                        .zip(body["userName"].as_str())
                        .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
                }) =>
        {
            scim_json(
                StatusCode::CONFLICT,
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "scimType": "uniqueness", "detail": "userName is taken", "status": "409"}),
            )
        }
        ("POST", [kind @ ("Users" | "Groups")]) => {
            server.next_id += 1;
            let id = format!("{}-{}", kind.to_lowercase(), server.next_id);
            let mut resource = body;
            resource["id"] = json!(id);
            if let Some(object) = resource.as_object_mut() {
                object.remove("password");
            }
            if *kind == "Users" {
                server.users.insert(id, resource.clone());
            } else {
                server.groups.insert(id, resource.clone());
            }
            scim_json(StatusCode::CREATED, resource)
        }
        ("GET", ["Users", id]) => match server.users.get(*id) {
            Some(user) => scim_json(StatusCode::OK, user.clone()),
            None => not_found(),
        },
        ("PUT", ["Users", id]) => match server.users.get_mut(*id) {
            Some(user) => {
                *user = body;
                scim_json(StatusCode::OK, user.clone())
            }
            None => not_found(),
        },
        ("PATCH", ["Users", id]) => match server.users.get_mut(*id) {
            Some(user) => {
                for operation in body["Operations"].as_array().cloned().unwrap_or_default() {
                    match operation["path"].as_str() {
                        Some(path) => set_path(user, path, operation["value"].clone()),
                        None => {
                            for (key, value) in operation["value"].as_object().cloned().unwrap_or_default() {
                                user[key] = value;
                            }
                        }
                    }
                }
                scim_json(StatusCode::OK, user.clone())
            }
            None => not_found(),
        },
        ("PATCH", ["Groups", id]) => match server.groups.get_mut(*id) {
            Some(group) => {
                for operation in body["Operations"].as_array().cloned().unwrap_or_default() {
                    let op = operation["op"].as_str().unwrap_or_default();
                    match (op, operation["path"].as_str()) {
                        ("replace", None) => group["displayName"] = operation["value"]["displayName"].clone(),
                        ("add", Some("members")) => {
                            let mut members = group["members"].as_array().cloned().unwrap_or_default();
                            members.extend(operation["value"].as_array().cloned().unwrap_or_default());
                            group["members"] = json!(members);
                        }
                        ("replace", Some("members")) => group["members"] = operation["value"].clone(),
                        ("remove", Some(path)) => {
                            let id = path.trim_start_matches("members[value eq \"").trim_end_matches("\"]");
                            let mut members = group["members"].as_array().cloned().unwrap_or_default();
                            members.retain(|m| m["value"] != id);
                            group["members"] = json!(members);
                        }
                        _ => {}
                    }
                }
                StatusCode::NO_CONTENT.into_response()
            }
            None => not_found(),
        },
        ("DELETE", ["Groups", id]) => match server.groups.remove(*id) {
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None => not_found(),
        },
        _ => not_found(),
    }
}

/// The org, the recording server and the engine.
pub(super) struct Harness {
    pub(super) idp: Arc<Idp>,
    pub(super) provisioner: Arc<Provisioner>,
    server: Shared,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Harness {
    pub(super) async fn start(profile: &str) -> Self {
        Harness::start_with(profile, 0).await
    }

    /// The harness with `bulk` more users in the org, all members of
    /// Engineering.
    async fn start_with(profile: &str, bulk: usize) -> Self {
        let server: Shared = Arc::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/scim/v2", listener.local_addr().unwrap());
        let router = Router::new().fallback(handle).with_state(server.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        let mut bulk_members = vec!["\"alice@acme.test\"".to_owned()];
        let mut bulk_users = String::new();
        for n in 0..bulk {
            bulk_members.push(format!("\"bulk{n:03}@acme.test\""));
            bulk_users.push_str(&format!(
                "\n[[users]]\nid = \"00ubulk{n:013}\"\nlogin = \"bulk{n:03}@acme.test\"\nfirst_name = \"Bulk\"\nlast_name = \"User{n:03}\"\n"
            ));
        }
        let bulk_members = bulk_members.join(", ");
        let text = format!(
            r#"
[org]
name = "acme"
url = "http://127.0.0.1:7000"
api_token = "t"

[[users]]
id = "{ALICE}"
login = "alice@acme.test"
first_name = "Alice"
last_name = "Anderson"
profile = {{ department = "Engineering" }}

[[users]]
id = "{BOB}"
login = "bob@acme.test"
first_name = "Bob"
last_name = "Brown"

[[groups]]
id = "{ENGINEERING}"
name = "Engineering"
members = [{bulk_members}]

[[apps]]
id = "{APP}"
name = "scim-app"
sign_on_mode = "SAML_2_0"
[apps.saml]
sso_url = "http://sp.test/acs"
audience = "http://sp.test"
[apps.provisioning]
base_url = "{base}"
auth = "bearer"
token = "scim-secret"
profile = "{profile}"
push_groups = ["Engineering"]
mappings = [{{ scim = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", value = "user.department" }}]
{bulk_users}"#
        );
        let clock = mock_idp::clock::FixedClock::deterministic();
        let org = mock_idp::org::parse_org("org.toml", &text, mock_idp::clock::Clock::now(&clock)).unwrap();
        let idp = Arc::new(Idp::new(IdpConfig::deterministic(org).unwrap()));
        // No waiting between attempts: the tests check what is sent, not
        // the model's delays.
        let retry = RetryPolicy { attempts: 3, first_delay: std::time::Duration::ZERO, ..RetryPolicy::default() };
        let provisioner =
            Provisioner::start(&idp, ProvisionerOptions { retry, ..ProvisionerOptions::default() }).unwrap();
        Harness { idp, provisioner, server, _stop: stop }
    }

    /// The requests received since the last call, and waits for the engine
    /// to finish first.
    pub(super) async fn requests(&self) -> Vec<Value> {
        self.provisioner.wait_idle().await;
        std::mem::take(&mut self.server.lock().unwrap().recorded)
    }

    fn apply<T>(
        &self,
        operation: impl FnOnce(&mut mock_idp::org::Org) -> Result<admin::Applied<T>, admin::OktaApiError>,
    ) {
        self.idp.apply(operation).unwrap();
    }

    pub(super) fn assign(&self, user: &str) {
        let now = self.idp.now();
        self.apply(|org| {
            admin::assign_user(
                org,
                APP,
                None,
                admin::parse_body(json!({"id": user}).to_string().as_bytes()).unwrap(),
                now,
            )
        });
    }

    pub(super) fn rename_alice(&self) {
        let now = self.idp.now();
        let body = admin::parse_body(br#"{"profile":{"firstName":"Alicia"}}"#).unwrap();
        self.apply(|org| admin::update_user(org, ALICE, body, true, now));
    }

    pub(super) fn lifecycle(&self, user: &str, operation: Lifecycle) {
        let now = self.idp.now();
        self.apply(|org| admin::lifecycle(org, user, operation, now));
    }

    pub(super) fn queue_failure(&self, status: u16, retry_after: Option<&'static str>, detail: &str) {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": detail, "status": status.to_string()});
        self.server.lock().unwrap().failures.push_back((status, retry_after, body));
    }

    fn seed_user(&self, id: &str, user_name: &str) {
        let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": id, "userName": user_name, "name": {"givenName": "Old", "familyName": "Name"}, "active": true, "meta": {"resourceType": "User"}});
        self.server.lock().unwrap().users.insert(id.to_owned(), user);
    }
}

#[tokio::test]
async fn assignment_looks_the_user_up_then_creates_it() {
    let harness = Harness::start("oin").await;
    harness.assign(ALICE);
    insta::assert_json_snapshot!("assign_creates", harness.requests().await);
    let link = harness.idp.read_org(|org| {
        org.find_app(APP)
            .unwrap()
            .provisioning
            .as_ref()
            .unwrap()
            .links
            .users
            .get(&mock_idp::ids::UserId::parse(ALICE).unwrap())
            .cloned()
    });
    assert_eq!(
        link.map(|l| (l.scim_id, l.active)),
        Some(("users-1".to_owned(), true)),
        "the SCIM id is the app user's link"
    );
}

#[tokio::test]
async fn assignment_links_an_existing_user_and_pushes_the_profile() {
    let harness = Harness::start("oin").await;
    harness.seed_user("existing-7", "ALICE@acme.test");
    harness.assign(ALICE);
    insta::assert_json_snapshot!("assign_links_existing", harness.requests().await);
}

#[tokio::test]
async fn profile_updates_follow_each_request_profile() {
    for profile in ["oin", "oin_patch", "wizard"] {
        let harness = Harness::start(profile).await;
        harness.assign(ALICE);
        harness.requests().await;
        harness.rename_alice();
        insta::assert_json_snapshot!(format!("profile_update_{profile}"), harness.requests().await);
    }
}

#[tokio::test]
async fn deactivation_and_reactivation_follow_each_request_profile() {
    for profile in ["oin", "wizard"] {
        let harness = Harness::start(profile).await;
        harness.assign(ALICE);
        harness.requests().await;
        harness.lifecycle(ALICE, Lifecycle::Suspend);
        harness.lifecycle(ALICE, Lifecycle::Unsuspend);
        harness.apply(|org| admin::unassign_user(org, APP, ALICE));
        let sent = harness.requests().await;
        assert!(sent.iter().all(|r| r["method"] != "DELETE"), "Okta never deletes users");
        insta::assert_json_snapshot!(format!("deactivate_reactivate_unassign_{profile}"), sent);
    }
}

#[tokio::test]
async fn group_push_membership_and_rename() {
    let harness = Harness::start("oin").await;
    harness.assign(ALICE);
    harness.assign(BOB);
    harness.requests().await;
    let summary = harness.provisioner.push_now(APP).await.unwrap();
    assert!(summary.failed_tasks.is_empty());
    insta::assert_json_snapshot!("push_now", harness.requests().await);
    let now = harness.idp.now();
    harness.apply(|org| admin::add_member(org, ENGINEERING, BOB, now));
    harness.apply(|org| admin::remove_member(org, ENGINEERING, ALICE, now));
    let rename = admin::parse_body(br#"{"profile":{"name":"Platform"}}"#).unwrap();
    harness.apply(|org| admin::update_group(org, ENGINEERING, rename, now));
    insta::assert_json_snapshot!("membership_and_rename", harness.requests().await);
    let group = harness.server.lock().unwrap().groups.get("groups-3").cloned().unwrap();
    assert_eq!(group["displayName"], "Platform");
    assert_eq!(group["members"], json!([{"value": "users-2", "display": "bob@acme.test"}]));
}

#[tokio::test]
async fn test_credentials_and_paged_import() {
    let harness = Harness::start("oin").await;
    for n in 0..150 {
        harness.seed_user(&format!("seed-{n:03}"), &format!("user{n:03}@acme.test"));
    }
    harness.seed_user("seed-alice", "alice@acme.test");
    harness.assign(ALICE);
    harness.requests().await;
    let check = harness.provisioner.test_credentials("scim-app").await.unwrap();
    assert_eq!((check.status, check.total_results), (200, 151));
    let report = harness.provisioner.import("scim-app").await.unwrap();
    assert_eq!(report.users_scanned, 151);
    let matched: Vec<_> =
        report.users.iter().filter(|u| u.matched_user.is_some()).map(|u| u.scim_id.as_str()).collect();
    assert_eq!(matched, ["seed-alice"], "the linked user matches; the others are unmatched");
    let requests: Vec<Value> = harness.requests().await.into_iter().map(|r| r["path"].clone()).collect();
    insta::assert_json_snapshot!("test_credentials_and_import", requests);
}

#[tokio::test]
async fn a_failed_request_becomes_a_retryable_task_and_every_attempt_is_in_the_transcript() {
    let harness = Harness::start("oin").await;
    harness.queue_failure(429, Some("0"), "slow down");
    harness.queue_failure(503, None, "maintenance");
    harness.queue_failure(500, None, "database is down");
    harness.assign(ALICE);
    harness.provisioner.wait_idle().await;
    let tasks = harness.provisioner.failed_tasks();
    assert_eq!(tasks.len(), 1);
    let task = &tasks[0];
    assert_eq!((task.status, task.code, task.runs), (Some(500), "scim.status", 1));
    assert_eq!(task.error, "the SCIM server answered 500: database is down");
    let attempts: Vec<(u32, Option<u16>)> =
        harness.provisioner.transcript().iter().map(|e| (e.attempt, e.response.as_ref().map(|r| r.status))).collect();
    assert_eq!(attempts, [(1, Some(429)), (2, Some(503)), (3, Some(500))]);

    harness.queue_failure(409, None, "a user with this userName already exists");
    let again = harness.provisioner.retry_task(&task.id).await.unwrap_err();
    assert_eq!(again.to_string(), "the SCIM server answered 409: a user with this userName already exists");
    assert_eq!(harness.provisioner.failed_tasks()[0].runs, 2, "a 409 is not retried by the policy, and the task stays");
    harness.provisioner.retry_task(&task.id).await.unwrap();
    assert!(harness.provisioner.failed_tasks().is_empty(), "a task that succeeds is gone");
    let transcript = harness.provisioner.transcript();
    let last = transcript.last().unwrap();
    assert_eq!(last.request.method, "POST");
    assert_eq!(last.request.headers[1], ("Authorization".to_owned(), "Bearer [redacted]".to_owned()));
    assert_eq!(last.response.as_ref().map(|r| r.status), Some(201));
    assert_eq!(last.started, "2024-03-29T07:42:22.136Z", "the IdP's clock times the exchange");
}

#[tokio::test]
async fn a_server_that_is_down_fails_the_task_with_the_reason() {
    let harness = Harness::start("oin").await;
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_url = format!("http://{}/scim/v2", dead.local_addr().unwrap());
    drop(dead);
    harness.idp.write_org(|org| {
        let app = org.apps.values_mut().next().unwrap();
        app.provisioning.as_mut().unwrap().base_url = dead_url;
    });
    harness.assign(ALICE);
    harness.provisioner.wait_idle().await;
    let tasks = harness.provisioner.failed_tasks();
    assert_eq!((tasks[0].status, tasks[0].code), (None, "scim.no_reply"));
    assert!(tasks[0].error.contains("could not connect"), "{}", tasks[0].error);
    assert_eq!(harness.provisioner.transcript().len(), 3, "no reply is retried too");
}

#[tokio::test]
async fn the_management_api_lists_retries_and_shows_provisioning() {
    let harness = Harness::start("oin").await;
    let server =
        mock_idp::http::RunningServer::start("127.0.0.1:0".parse().unwrap(), harness.idp.clone()).await.unwrap();
    let api = |method: reqwest::Method, path: &str| {
        reqwest::Client::new()
            .request(method, format!("{}/api/v1/mockta/scim{path}", server.url()))
            .header("authorization", "SSWS t")
    };
    for _ in 0..3 {
        harness.queue_failure(500, None, "database is down");
    }
    harness.assign(ALICE);
    harness.provisioner.wait_idle().await;
    let tasks: Value = api(reqwest::Method::GET, "/tasks").send().await.unwrap().json().await.unwrap();
    assert_eq!(tasks[0]["status"], 500);
    assert_eq!(tasks[0]["error"], "the SCIM server answered 500: database is down");
    assert_eq!(tasks[0]["operation"], "sync_user");
    assert_eq!(tasks[0]["user"], ALICE);
    let id = tasks[0]["id"].as_str().unwrap();
    let retried = api(reqwest::Method::POST, &format!("/tasks/{id}/retry")).send().await.unwrap();
    assert_eq!(retried.status(), 204);
    let tasks: Value = api(reqwest::Method::GET, "/tasks").send().await.unwrap().json().await.unwrap();
    assert_eq!(tasks, json!([]));

    let transcript: Value =
        api(reqwest::Method::GET, "/transcript?after=3").send().await.unwrap().json().await.unwrap();
    let methods: Vec<&str> =
        transcript.as_array().unwrap().iter().map(|e| e["request"]["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["GET", "POST"], "the retry's lookup and create, after the three failed attempts");
    assert_eq!(transcript[1]["response"]["status"], 201);

    let settings: Value =
        api(reqwest::Method::GET, &format!("/apps/{APP}/settings")).send().await.unwrap().json().await.unwrap();
    assert_eq!(settings["authScheme"], "bearer");
    assert_eq!(settings["links"]["users"][ALICE], json!({"externalId": "users-1", "active": true}));
    assert!(!settings.to_string().contains("scim-secret"), "the secret is not shown");

    let check: Value =
        api(reqwest::Method::POST, "/apps/scim-app/test-credentials").send().await.unwrap().json().await.unwrap();
    assert_eq!(check["total_results"], 1);
    let import: Value = api(reqwest::Method::POST, "/apps/scim-app/import").send().await.unwrap().json().await.unwrap();
    assert_eq!(import["users"][0]["matched_user"], ALICE);
    let unknown = api(reqwest::Method::POST, "/tasks/nope/retry").send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    server.stop().await.unwrap();
}

impl Harness {
    fn arm(&self, fault: &str) {
        self.provisioner.arm_fault(fault.parse().unwrap(), Some("scim-app")).unwrap();
    }

    fn set_sync_password(&self) {
        self.idp.write_org(|org| {
            let app = org.apps.values_mut().next().unwrap();
            app.provisioning.as_mut().unwrap().features.sync_password = true;
        });
    }

    fn rename_group(&self, name: &str) {
        let now = self.idp.now();
        let body = admin::parse_body(json!({"profile": {"name": name}}).to_string().as_bytes()).unwrap();
        self.apply(|org| admin::update_group(org, ENGINEERING, body, now));
    }
}

#[tokio::test]
async fn a_lookup_in_a_different_case_then_the_create() {
    let harness = Harness::start("oin").await;
    harness.arm("username-case");
    harness.assign(ALICE);
    let sent = harness.requests().await;
    assert_eq!(sent[0]["path"], "/scim/v2/Users?filter=userName%20eq%20%22ALICE%40ACME.TEST%22&startIndex=1&count=100");
    assert_eq!(sent[1]["body"]["userName"], "alice@acme.test", "the create keeps the app username's case");
    insta::assert_json_snapshot!("fault_username_case", sent);
}

#[tokio::test]
async fn the_same_create_twice_after_a_timeout_exposes_a_server_that_duplicates() {
    let harness = Harness::start("oin").await;
    harness.arm("duplicate-create");
    harness.assign(ALICE);
    let sent = harness.requests().await;
    let methods: Vec<&str> = sent.iter().map(|r| r["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["GET", "POST", "POST"]);
    assert_eq!(sent[1]["body"], sent[2]["body"], "the same create, byte for byte");
    assert_eq!(harness.server.lock().unwrap().users.len(), 2, "this recorder has no uniqueness check: two accounts");
    insta::assert_json_snapshot!("fault_duplicate_create", sent);
    let link = harness.provisioner.transcript().last().and_then(|e| e.response.as_ref()).map(|r| r.body["id"].clone());
    assert_eq!(link, Some(json!("users-2")), "the second reply is the one Okta reads");

    // A server that refuses the second create with 409 gives a failed task;
    // its retry finds the user the first create made and links it.
    let harness = Harness::start("oin").await;
    harness.server.lock().unwrap().unique_user_names = true;
    harness.arm("duplicate-create");
    harness.assign(ALICE);
    harness.provisioner.wait_idle().await;
    let tasks = harness.provisioner.failed_tasks();
    assert_eq!(tasks.len(), 1);
    assert_eq!(
        (tasks[0].status, tasks[0].error.as_str()),
        (Some(409), "the SCIM server answered 409: userName is taken")
    );
    harness.provisioner.clear_faults();
    harness.provisioner.retry_task(&tasks[0].id).await.unwrap();
    let sent: Vec<String> = harness
        .requests()
        .await
        .iter()
        .map(|r| format!("{} {}", r["method"].as_str().unwrap(), r["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sent,
        [
            "GET /scim/v2/Users?filter=userName%20eq%20%22alice%40acme.test%22&startIndex=1&count=100",
            "POST /scim/v2/Users",
            "POST /scim/v2/Users",
            "GET /scim/v2/Users?filter=userName%20eq%20%22alice%40acme.test%22&startIndex=1&count=100",
            "GET /scim/v2/Users/users-1",
            "PUT /scim/v2/Users/users-1",
        ]
    );
    assert_eq!(harness.server.lock().unwrap().users.len(), 1, "one account");
}

#[tokio::test]
async fn unset_attributes_as_empty_strings() {
    let harness = Harness::start("oin").await;
    harness.arm("empty-strings");
    harness.assign(BOB);
    let sent = harness.requests().await;
    assert_eq!(sent[1]["body"]["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"], "");
    insta::assert_json_snapshot!("fault_empty_strings", sent);
}

#[tokio::test]
async fn a_put_that_omits_optional_attributes() {
    let harness = Harness::start("oin").await;
    harness.assign(ALICE);
    harness.requests().await;
    harness.arm("put-omits-optional");
    harness.rename_alice();
    let sent = harness.requests().await;
    let put = &sent[1];
    assert_eq!(put["method"], "PUT");
    let mut keys: Vec<&str> = put["body"].as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["active", "emails", "id", "name", "schemas", "userName"]);
    insta::assert_json_snapshot!("fault_put_omits_optional", sent);
}

#[tokio::test]
async fn a_rename_sent_with_a_membership_change() {
    let harness = Harness::start("oin").await;
    harness.assign(ALICE);
    harness.provisioner.push_now(APP).await.unwrap();
    harness.requests().await;
    harness.arm("rename-with-membership");
    harness.rename_group("Platform");
    let sent = harness.requests().await;
    assert_eq!(
        sent[0]["body"]["Operations"],
        json!([
            {"op": "replace", "value": {"id": "groups-2", "displayName": "Platform"}},
            {"op": "add", "path": "members", "value": [{"value": "users-1", "display": "alice@acme.test"}]},
        ])
    );
    insta::assert_json_snapshot!("fault_rename_with_membership", sent);
}

#[tokio::test]
async fn a_group_push_larger_than_one_page_goes_in_batches() {
    let harness = Harness::start_with("oin", 149).await;
    let now = harness.idp.now();
    let body = admin::parse_body(b"{}").unwrap();
    harness.apply(|org| admin::assign_group(org, APP, ENGINEERING, body));
    harness.requests().await;
    let _ = now;
    harness.arm("large-group-push");
    let summary = harness.provisioner.push_now(APP).await.unwrap();
    assert!(summary.failed_tasks.is_empty());
    let sent = harness.requests().await;
    let group_patches: Vec<Value> = sent
        .iter()
        .filter(|r| r["method"] == "PATCH")
        .map(|r| {
            let operations = r["body"]["Operations"].as_array().unwrap();
            json!({
                "path": r["path"],
                "operations": operations.iter().map(|o| json!({
                    "op": o["op"], "path": o["path"],
                    "members": o["value"].as_array().map(Vec::len),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    insta::assert_json_snapshot!("fault_large_group_push", group_patches);
    let group = harness.server.lock().unwrap().groups.values().next().cloned().unwrap();
    assert_eq!(group["members"].as_array().map(Vec::len), Some(150), "every member arrived");
}

#[tokio::test]
async fn scim_faults_through_the_management_api_are_listed_bounded_and_cleared() {
    let harness = Harness::start("oin").await;
    let server =
        mock_idp::http::RunningServer::start("127.0.0.1:0".parse().unwrap(), harness.idp.clone()).await.unwrap();
    let api = |method: reqwest::Method, path: &str| {
        reqwest::Client::new()
            .request(method, format!("{}/api/v1/mockta/scim{path}", server.url()))
            .header("authorization", "SSWS t")
    };
    let armed = api(reqwest::Method::POST, "/faults")
        .json(&json!({"fault": "username-case", "app": "scim-app"}))
        .send()
        .await
        .unwrap();
    assert_eq!(armed.status(), 201);
    let armed: Value = armed.json().await.unwrap();
    assert_eq!((armed["fault"].as_str(), armed["app"].as_str()), (Some("username-case"), Some(APP)));
    assert_eq!(armed["expires"], "2024-03-29T07:52:22.136Z", "ten minutes on the IdP's clock");
    let unknown = api(reqwest::Method::POST, "/faults").json(&json!({"fault": "teleport"})).send().await.unwrap();
    assert_eq!(unknown.status(), 400);
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!(unknown["errorCode"], "E0000001");
    let catalogue: Value = api(reqwest::Method::GET, "/faults/catalogue").send().await.unwrap().json().await.unwrap();
    assert_eq!(catalogue.as_array().map(Vec::len), Some(6));
    for _ in 0..150 {
        harness.arm("empty-strings");
    }
    let listed: Value = api(reqwest::Method::GET, "/faults").send().await.unwrap().json().await.unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(100), "at most 100 armed; the oldest dropped");
    let cleared = api(reqwest::Method::DELETE, "/faults").send().await.unwrap();
    assert_eq!(cleared.status(), 204);
    let listed: Value = api(reqwest::Method::GET, "/faults").send().await.unwrap().json().await.unwrap();
    assert_eq!(listed, json!([]));
    harness.assign(ALICE);
    let sent = harness.requests().await;
    assert!(sent[0]["path"].as_str().unwrap().contains("alice%40acme.test"), "cleared faults act no more");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_password_change_is_synced_by_each_request_profile() {
    for profile in ["oin", "oin_patch", "wizard"] {
        let harness = Harness::start(profile).await;
        harness.set_sync_password();
        harness.assign(ALICE);
        let created = harness.requests().await;
        assert!(created[1]["body"]["password"].is_string(), "the create carries a password");
        let now = harness.idp.now();
        let body =
            admin::parse_body(br#"{"profile":{},"credentials":{"password":{"value":"N3w-Passw0rd!"}}}"#).unwrap();
        harness.apply(|org| admin::update_user(org, ALICE, body, true, now));
        let sent = harness.requests().await;
        insta::assert_json_snapshot!(format!("password_sync_{profile}"), sent);
        let last = sent.last().unwrap();
        assert!(last["body"]["password"].is_string() || last["body"]["Operations"][0]["value"]["password"].is_string());
    }
    // Without the feature, a password change sends nothing.
    let harness = Harness::start("oin").await;
    harness.assign(ALICE);
    harness.requests().await;
    let now = harness.idp.now();
    let body = admin::parse_body(br#"{"profile":{},"credentials":{"password":{"value":"N3w-Passw0rd!"}}}"#).unwrap();
    harness.apply(|org| admin::update_user(org, ALICE, body, true, now));
    assert_eq!(harness.requests().await, Vec::<Value>::new());
}

#[tokio::test]
async fn unlinking_a_pushed_group_deletes_it_only_when_asked() {
    let harness = Harness::start("oin").await;
    harness.assign(ALICE);
    harness.provisioner.push_now(APP).await.unwrap();
    harness.requests().await;
    let kept = harness.provisioner.unlink_group("scim-app", "Engineering", false).await.unwrap();
    assert_eq!(kept.failed_task, None);
    assert_eq!(harness.requests().await, Vec::<Value>::new(), "unlink without delete sends nothing");
    assert_eq!(harness.server.lock().unwrap().groups.len(), 1, "the group stays in the app");
    let again = harness.provisioner.unlink_group("scim-app", "Engineering", true).await.unwrap_err();
    assert_eq!(again.code(), "provisioning.group_not_pushed");

    harness.provisioner.push_group_now("scim-app", "Engineering").await.unwrap();
    let pushed = harness.requests().await;
    assert_eq!(pushed[0]["method"], "GET", "a push looks the group up by displayName and links it");
    let deleted = harness.provisioner.unlink_group("scim-app", ENGINEERING, true).await.unwrap();
    assert_eq!(deleted.failed_task, None);
    let sent = harness.requests().await;
    insta::assert_json_snapshot!("unlink_group_delete", sent);
    assert!(harness.server.lock().unwrap().groups.is_empty());
    // Users are never deleted, whatever happens to them.
    harness.lifecycle(ALICE, Lifecycle::Deactivate);
    harness.apply(|org| admin::unassign_user(org, APP, ALICE));
    let later = harness.requests().await;
    assert!(later.iter().all(|r| r["method"] != "DELETE"), "Okta never deletes users: {later:#?}");
    let settings = harness.idp.read_org(|org| org.find_app(APP).unwrap().provisioning.clone().unwrap());
    assert!(settings.pushed_groups.is_empty() && settings.links.groups.is_empty());
}

#[tokio::test]
async fn groups_are_pushed_and_unlinked_through_the_management_api() {
    let harness = Harness::start("oin").await;
    harness.assign(ALICE);
    harness.requests().await;
    let server =
        mock_idp::http::RunningServer::start("127.0.0.1:0".parse().unwrap(), harness.idp.clone()).await.unwrap();
    let api = |method: reqwest::Method, path: &str| {
        reqwest::Client::new()
            .request(method, format!("{}/api/v1/mockta/scim/apps/scim-app/groups{path}", server.url()))
            .header("authorization", "SSWS t")
    };
    let pushed: Value = api(reqwest::Method::PUT, "/Engineering").send().await.unwrap().json().await.unwrap();
    assert_eq!(pushed, json!({"app": APP, "group": ENGINEERING, "failed_task": null}));
    let sent: Vec<Value> = harness.requests().await.into_iter().map(|r| r["method"].clone()).collect();
    assert_eq!(sent, ["GET", "POST", "PATCH"], "looked up, created, members added");
    let unknown = api(reqwest::Method::PUT, "/Nobody").send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let deleted = api(reqwest::Method::DELETE, &format!("/{ENGINEERING}?deleteInApp=true")).send().await.unwrap();
    assert_eq!(deleted.status(), 200);
    let sent: Vec<Value> = harness.requests().await.into_iter().map(|r| json!([r["method"], r["path"]])).collect();
    assert_eq!(sent, [json!(["DELETE", "/scim/v2/Groups/groups-2"])]);
    let again = api(reqwest::Method::DELETE, "/Engineering").send().await.unwrap();
    assert_eq!(again.status(), 400, "a group no longer pushed cannot be unlinked");
    server.stop().await.unwrap();
}
