//! Okta's per-app provisioning settings API through HTTP: the Application
//! Connections API (`/api/v1/apps/{appId}/connections/default`) and the
//! Application Features API (`/api/v1/apps/{appId}/features`), their JSON
//! shapes pinned by snapshots, their errors in Okta's envelope, and their
//! changes taking effect on the engine's next operation (seen by the
//! recording SCIM server of `scim_provisioning`).

use mock_idp::admin::{self, Lifecycle};
use mock_idp::http::RunningServer;
use reqwest::Method;
use serde_json::{Value, json};

use super::scim_provisioning::{ALICE, APP, BOB, Harness};

/// The harness and the mock's HTTP server over its IdP.
struct Api {
    harness: Harness,
    server: RunningServer,
}

impl Api {
    async fn start() -> Self {
        let harness = Harness::start("oin").await;
        let server = RunningServer::start("127.0.0.1:0".parse().unwrap(), harness.idp.clone()).await.unwrap();
        Api { harness, server }
    }

    /// Sends a management request and returns the status and JSON body
    /// (`null` for none).
    async fn call(&self, method: Method, path: &str, body: Option<&str>) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}/api/v1{path}", self.server.url()))
            .header("authorization", "SSWS t");
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_owned());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    /// The error's status, code and causes, after checking the envelope's
    /// members.
    async fn refused(&self, method: Method, path: &str, body: Option<&str>) -> (u16, String, Vec<String>) {
        let (status, envelope) = self.call(method, path, body).await;
        let members: Vec<&str> = envelope.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(members, ["errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"], "{envelope}");
        let causes = envelope["errorCauses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|cause| cause["errorSummary"].as_str().unwrap().to_owned())
            .collect();
        (status, envelope["errorCode"].as_str().unwrap().to_owned(), causes)
    }
}

fn password_change(harness: &Harness, user: &str) {
    let now = harness.idp.now();
    let body = admin::parse_body(br#"{"profile":{},"credentials":{"password":{"value":"N3w-Passw0rd!"}}}"#).unwrap();
    harness.idp.apply(|org| admin::update_user(org, user, body, true, now)).unwrap();
}

#[tokio::test]
async fn the_connection_and_features_are_served_in_oktas_shapes() {
    let api = Api::start().await;
    let mut connection = api.get(&format!("/apps/{APP}/connections/default")).await;
    // The recording server's port changes from run to run.
    assert!(connection["baseUrl"].as_str().unwrap().ends_with("/scim/v2"));
    connection["baseUrl"] = json!("[the recording server]/scim/v2");
    insta::assert_json_snapshot!("provisioning_api_connection", connection);
    let features = api.get(&format!("/apps/{APP}/features")).await;
    insta::assert_json_snapshot!("provisioning_api_features", features);
    assert_eq!(api.get(&format!("/apps/{APP}/features/USER_PROVISIONING")).await, features[0]);
    assert_eq!(api.get(&format!("/apps/{APP}/features/INBOUND_PROVISIONING")).await, features[1]);
    assert!(!connection.to_string().contains("scim-secret"), "the token is never shown");

    // Switching to OAuth 2.0 shows the client id and the authorize link,
    // never the secret.
    let (status, oauth) = api
        .call(
            Method::POST,
            &format!("/apps/{APP}/connections/default"),
            Some(
                r#"{"profile":{"authScheme":"OAUTH2","clientId":"okta-client","clientSecret":"shh","authorizeUrl":"http://sp.test/oauth/authorize","tokenUrl":"http://sp.test/oauth/token","scopes":["scim"]}}"#,
            ),
        )
        .await;
    assert_eq!(status, 200, "{oauth}");
    let mut oauth = oauth;
    oauth["baseUrl"] = json!("[the recording server]/scim/v2");
    insta::assert_json_snapshot!("provisioning_api_connection_oauth2", oauth);
    assert!(!oauth.to_string().contains("shh"));
    api.server.stop().await.unwrap();
}

#[tokio::test]
async fn a_connection_change_takes_effect_on_the_next_operation() {
    let api = Api::start().await;
    let path = format!("/apps/{APP}/connections/default");
    let (status, updated) =
        api.call(Method::POST, &path, Some(r#"{"profile":{"authScheme":"TOKEN","token":"rotated-token"}}"#)).await;
    assert_eq!((status, updated["profile"]["authScheme"].as_str()), (200, Some("TOKEN")));
    api.harness.assign(ALICE);
    let sent = api.harness.requests().await;
    assert_eq!(sent.len(), 2, "the lookup and the create: {sent:?}");
    assert!(sent.iter().all(|r| r["authorization"] == "Bearer rotated-token"), "{sent:?}");

    // Deactivated: no provisioning traffic, and the manual operations are
    // refused in Okta's envelope.
    let (status, body) = api.call(Method::POST, &format!("{path}/lifecycle/deactivate"), None).await;
    assert_eq!((status, body), (204, Value::Null));
    let connection = api.get(&path).await;
    assert_eq!(connection["status"], "DISABLED");
    let settings = api.get("/mockta/scim/apps/scim-app/settings").await;
    assert_eq!(settings["connectionActive"], false, "mockta's settings view agrees");
    assert!(connection["_links"]["activate"]["href"].as_str().unwrap().ends_with("/lifecycle/activate"));
    assert_eq!(api.get(&format!("/apps/{APP}/features/USER_PROVISIONING")).await["status"], "DISABLED");
    api.harness.assign(BOB);
    api.harness.lifecycle(ALICE, Lifecycle::Suspend);
    assert_eq!(api.harness.requests().await, Vec::<Value>::new(), "nothing is sent while deactivated");
    let (status, code, causes) = api.refused(Method::POST, "/mockta/scim/apps/scim-app/push", None).await;
    assert_eq!((status, code.as_str()), (400, "E0000001"));
    assert!(causes[0].contains("deactivated"), "{causes:?}");

    // Activated again with the update itself (Okta's `activate=TRUE`): the
    // base URL and token apply to "Push now".
    let base =
        api.harness.idp.read_org(|org| org.find_app(APP).unwrap().provisioning.as_ref().unwrap().base_url.clone());
    let (status, updated) = api
        .call(
            Method::POST,
            &format!("{path}?activate=TRUE"),
            Some(
                &json!({"baseUrl": format!("{base}/"), "profile": {"authScheme": "TOKEN", "token": "third-token"}})
                    .to_string(),
            ),
        )
        .await;
    assert_eq!(
        (status, updated["status"].as_str(), updated["baseUrl"].as_str()),
        (200, Some("ENABLED"), Some(base.as_str()))
    );
    let (status, _) = api.call(Method::POST, "/mockta/scim/apps/scim-app/push", None).await;
    assert_eq!(status, 200);
    let sent = api.harness.requests().await;
    assert!(!sent.is_empty() && sent.iter().all(|r| r["authorization"] == "Bearer third-token"), "{sent:?}");
    let bob_created = sent.iter().any(|r| r["method"] == "POST" && r["body"]["userName"] == "bob@acme.test");
    assert!(bob_created, "Bob, assigned while deactivated, is provisioned by Push now: {sent:?}");
    api.server.stop().await.unwrap();
}

#[tokio::test]
async fn user_provisioning_capabilities_switch_the_engines_features() {
    let api = Api::start().await;
    let feature = format!("/apps/{APP}/features/USER_PROVISIONING");
    // Password sync on, set at the create only (KEEP_EXISTING).
    let (status, updated) = api
        .call(
            Method::PUT,
            &feature,
            Some(r#"{"update":{"password":{"status":"ENABLED","seed":"RANDOM","change":"KEEP_EXISTING"}}}"#),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated["capabilities"]["update"]["password"],
        json!({"status": "ENABLED", "seed": "RANDOM", "change": "KEEP_EXISTING"})
    );
    assert_eq!(updated["capabilities"]["create"]["lifecycleCreate"]["status"], "ENABLED", "a partial update");
    api.harness.assign(ALICE);
    let created = api.harness.requests().await;
    assert!(created[1]["body"]["password"].is_string(), "the create carries a password: {created:?}");
    password_change(&api.harness, ALICE);
    assert_eq!(api.harness.requests().await, Vec::<Value>::new(), "KEEP_EXISTING pushes no changed password");
    api.call(Method::PUT, &feature, Some(r#"{"update":{"password":{"change":"CHANGE"}}}"#)).await;
    password_change(&api.harness, ALICE);
    let synced = api.harness.requests().await;
    assert_eq!(synced.len(), 1, "CHANGE pushes it: {synced:?}");
    assert!(synced[0]["body"]["Operations"][0]["value"]["password"].is_string());

    // Deactivation and creation off: a suspension and an assignment send
    // nothing.
    let (status, _) = api
        .call(
            Method::PUT,
            &feature,
            Some(r#"{"create":{"lifecycleCreate":{"status":"DISABLED"}},"update":{"lifecycleDeactivate":{"status":"DISABLED"}}}"#),
        )
        .await;
    assert_eq!(status, 200);
    api.harness.lifecycle(ALICE, Lifecycle::Suspend);
    api.harness.assign(BOB);
    assert_eq!(api.harness.requests().await, Vec::<Value>::new());
    let features = api.harness.idp.read_org(|org| org.find_app(APP).unwrap().provisioning.as_ref().unwrap().features);
    assert!(!features.push_new_users && !features.deactivate_users && features.push_profile_updates);

    // Profile pushes off too: a profile change sends nothing; back on, it
    // is pushed by the next change.
    api.call(Method::PUT, &feature, Some(r#"{"update":{"profile":{"status":"DISABLED"}}}"#)).await;
    api.harness.lifecycle(ALICE, Lifecycle::Unsuspend);
    api.harness.requests().await;
    api.harness.rename_alice();
    assert_eq!(api.harness.requests().await, Vec::<Value>::new());
    api.server.stop().await.unwrap();
}

#[tokio::test]
async fn provisioning_settings_errors_use_oktas_envelope() {
    let api = Api::start().await;
    let connection = format!("/apps/{APP}/connections/default");
    let feature = format!("/apps/{APP}/features/USER_PROVISIONING");
    // Method, path, body, then the status, errorCode and a text one cause
    // must contain.
    type Case<'a> = (Method, String, Option<&'a str>, u16, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (Method::GET, "/apps/0oanope0000000000000/connections/default".into(), None, 404, "E0000007", ""),
        (Method::GET, "/apps/0oanope0000000000000/features".into(), None, 404, "E0000007", ""),
        (Method::POST, connection.clone(), Some("{not json"), 400, "E0000003", ""),
        (Method::POST, connection.clone(), Some(r#"{"baseUrl":"http://x.test"}"#), 400, "E0000003", "profile"),
        (
            Method::POST,
            connection.clone(),
            Some(r#"{"profile":{"authScheme":"SAML"}}"#),
            400,
            "E0000001",
            "profile.authScheme",
        ),
        (
            Method::POST,
            connection.clone(),
            Some(r#"{"profile":{"authScheme":"TOKEN"}}"#),
            400,
            "E0000001",
            "profile.token",
        ),
        (
            Method::POST,
            connection.clone(),
            Some(r#"{"baseUrl":"scim.example","profile":{"authScheme":"TOKEN","token":"t"}}"#),
            400,
            "E0000001",
            "baseUrl",
        ),
        (
            Method::POST,
            connection.clone(),
            Some(r#"{"profile":{"authScheme":"OAUTH2","clientId":"c"}}"#),
            400,
            "E0000001",
            "profile.clientSecret",
        ),
        (
            Method::POST,
            format!("{connection}?activate=maybe"),
            Some(r#"{"profile":{"authScheme":"TOKEN","token":"t"}}"#),
            400,
            "E0000001",
            "activate",
        ),
        (Method::POST, format!("{connection}/lifecycle/explode"), None, 404, "E0000007", ""),
        (
            Method::PUT,
            feature.clone(),
            Some(r#"{"update":{"profile":{"status":"ON"}}}"#),
            400,
            "E0000001",
            "update.profile.status",
        ),
        (
            Method::PUT,
            feature.clone(),
            Some(r#"{"update":{"password":{"seed":"OKTA"}}}"#),
            400,
            "E0000001",
            "update.password.seed",
        ),
        (
            Method::PUT,
            feature.clone(),
            Some(r#"{"update":{"password":{"change":"SOMETIMES"}}}"#),
            400,
            "E0000001",
            "update.password.change",
        ),
        (
            Method::PUT,
            format!("/apps/{APP}/features/INBOUND_PROVISIONING"),
            Some("{}"),
            400,
            "E0000001",
            "capabilities",
        ),
        (Method::GET, format!("/apps/{APP}/features/OUTBOUND_TELEPATHY"), None, 404, "E0000007", ""),
    ];
    for (method, path, body, status, code, cause) in cases {
        let (got_status, got_code, causes) = api.refused(method.clone(), &path, body).await;
        assert_eq!((got_status, got_code.as_str()), (status, code), "{method} {path} {body:?}: {causes:?}");
        if !cause.is_empty() {
            assert!(causes.iter().any(|c| c.contains(cause)), "{method} {path}: {causes:?} should name {cause}");
        }
    }
    // A refused change changed nothing.
    let shown = api.get(&connection).await;
    assert_eq!((shown["status"].as_str(), shown["profile"]["authScheme"].as_str()), (Some("ENABLED"), Some("TOKEN")));
    let sent_with = api
        .harness
        .idp
        .read_org(|org| org.find_app(APP).unwrap().provisioning.as_ref().unwrap().authentication.authorization());
    assert_eq!(sent_with.as_deref(), Some("Bearer scim-secret"));

    // An app without provisioning settings has no connection or features.
    api.harness.idp.write_org(|org| org.apps.values_mut().next().unwrap().provisioning = None);
    for path in [connection.clone(), format!("/apps/{APP}/features"), feature.clone()] {
        let (status, code, causes) = api.refused(Method::GET, &path, None).await;
        assert_eq!((status, code.as_str()), (404, "E0000007"), "{path}");
        assert!(causes[0].contains("no SCIM provisioning settings"), "{causes:?}");
    }
    let (status, code, _) = api.refused(Method::POST, &format!("{connection}/lifecycle/activate"), None).await;
    assert_eq!((status, code.as_str()), (404, "E0000007"));
    api.server.stop().await.unwrap();
}

#[tokio::test]
async fn an_authorization_starts_only_for_an_oauth_connection_and_needs_its_callback() {
    let api = Api::start().await;
    // A token connection has nothing to authorize.
    let (status, code, causes) = api.refused(Method::POST, "/mockta/scim/apps/scim-app/oauth/authorize", None).await;
    assert_eq!((status, code.as_str()), (400, "E0000001"));
    assert!(causes[0].contains("does not authenticate by OAuth 2.0"), "{causes:?}");
    let (status, _, _) = api.refused(Method::POST, "/mockta/scim/apps/nope/oauth/authorize", None).await;
    assert_eq!(status, 404);

    // Switched to OAuth 2.0 through the Connections API, the next request
    // has no token to send: the task fails until an admin authorizes.
    let (status, _) = api
        .call(
            Method::POST,
            &format!("/apps/{APP}/connections/default"),
            Some(
                r#"{"profile":{"authScheme":"OAUTH2","clientId":"okta-client","clientSecret":"shh","authorizeUrl":"http://sp.test/oauth/authorize?tenant=a","tokenUrl":"http://sp.test/oauth/token"}}"#,
            ),
        )
        .await;
    assert_eq!(status, 200);
    api.harness.assign(ALICE);
    assert_eq!(api.harness.requests().await, Vec::<Value>::new(), "nothing reaches the SP without a token");
    let tasks = api.harness.provisioner.failed_tasks();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].code, "oauth.not_authorized");

    let started = api.call(Method::POST, "/mockta/scim/apps/scim-app/oauth/authorize", None).await;
    assert_eq!(started.0, 200, "{}", started.1);
    let authorize_url = reqwest::Url::parse(started.1["authorizeUrl"].as_str().unwrap()).unwrap();
    let query: std::collections::HashMap<String, String> = authorize_url.query_pairs().into_owned().collect();
    assert_eq!(query["tenant"], "a", "the authorize URL's own query is kept");
    assert_eq!(query["client_id"], "okta-client");
    assert_eq!(query["redirect_uri"], "http://127.0.0.1:7000/admin/app/cpc/scim-app/oauth/callback");
    assert_eq!(started.1["redirectUri"], query["redirect_uri"].as_str());
    assert!(!query.contains_key("scope"), "no scopes, no scope parameter");

    // The callback refuses a state it did not issue, another app's path,
    // and the SP's refusal, each with an error page.
    let callback = |app: &str, query: &str| format!("{}/admin/app/cpc/{app}/oauth/callback?{query}", api.server.url());
    let state = &query["state"];
    for (url, code) in [
        (callback("scim-app", "code=c&state=forged"), "oauth.unknown_state"),
        (callback("other-app", &format!("code=c&state={state}")), "oauth.unknown_state"),
        (callback("scim-app", "code=c"), "oauth.no_state"),
    ] {
        let response = reqwest::get(&url).await.unwrap();
        assert_eq!(response.status(), 400, "{url}");
        assert!(response.text().await.unwrap().contains(&format!("data-error-code=\"{code}\"")), "{url}");
    }
    // The other app's path used the state up, so the SP's error needs a new one.
    let again = api.call(Method::POST, "/mockta/scim/apps/scim-app/oauth/authorize", None).await.1;
    let again_url = reqwest::Url::parse(again["authorizeUrl"].as_str().unwrap()).unwrap();
    let again_state = again_url.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let denied =
        reqwest::get(callback("scim-app", &format!("error=access_denied&error_description=no&state={again_state}")))
            .await
            .unwrap();
    assert_eq!(denied.status(), 400);
    assert!(denied.text().await.unwrap().contains("access_denied"));
    api.server.stop().await.unwrap();
}

/// The request profile, which Okta keeps in the integration's definition
/// rather than in its APIs, is set through the mock's settings endpoint and
/// takes effect on the next operation: a profile change goes out as `GET`
/// then `PUT` under `oin` and as `GET` then `PATCH` under `oin_patch`. A
/// bad value is refused with Okta's envelope and changes nothing.
#[tokio::test]
async fn the_request_profile_set_through_the_settings_endpoint_decides_the_next_profile_update() {
    let api = Api::start().await;
    let settings = format!("/mockta/scim/apps/{APP}/settings");
    api.harness.assign(ALICE);
    api.harness.requests().await;
    api.harness.rename_alice();
    let methods = |sent: &[Value]| sent.iter().map(|r| r["method"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(methods(&api.harness.requests().await), ["GET", "PUT"], "the oin profile");

    let (status, shown) =
        api.call(Method::PUT, &settings, Some(r#"{"requestProfile":"oin_patch","uniqueIdentifier":"userName"}"#)).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["requestProfile"], "oin_patch");
    assert_eq!(api.get(&settings).await["requestProfile"], "oin_patch");
    let now = api.harness.idp.now();
    let body = admin::parse_body(br#"{"profile":{"firstName":"Alison"}}"#).unwrap();
    api.harness.idp.apply(|org| admin::update_user(org, ALICE, body, true, now)).unwrap();
    assert_eq!(methods(&api.harness.requests().await), ["GET", "PATCH"], "the oin_patch profile");

    let (status, code, causes) = api.refused(Method::PUT, &settings, Some(r#"{"requestProfile":"soap"}"#)).await;
    assert_eq!((status, code.as_str()), (400, "E0000001"));
    assert_eq!(causes, ["requestProfile: 'soap' is not oin, oin_patch or wizard"]);
    let (status, code, causes) = api.refused(Method::PUT, &settings, Some(r#"{"uniqueIdentifier":"email"}"#)).await;
    assert_eq!((status, code.as_str()), (400, "E0000001"));
    assert!(causes[0].starts_with("uniqueIdentifier: 'email' is not supported"), "{causes:?}");
    let (status, code, _) = api.refused(Method::PUT, &settings, Some(r#"{"requestProfiles":"oin"}"#)).await;
    assert_eq!((status, code.as_str()), (400, "E0000003"), "an unknown member");
    assert_eq!(api.get(&settings).await["requestProfile"], "oin_patch", "refused bodies changed nothing");
    api.server.stop().await.unwrap();
}
