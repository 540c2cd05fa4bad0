//! The management API: Okta's shapes, its error envelope, and changes that
//! take effect at run time.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Server, parse_form};

const EMBED: &str = "/home/acme_referencesp_1/0oarefsp000000000001/alnrefsp000000000001";

/// Opens the app's embed link for `login`, as a browser would.
async fn open_embed_link(server: &Server, login: &str) -> reqwest::Response {
    server.client.get(server.url(&format!("{EMBED}?login_hint={login}"))).send().await.unwrap()
}

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// Okta answers a request that presents no credential (no header, or a
/// header without a token scheme) with 403 `E0000005` "Invalid session"
/// (Okta's error-code reference; okta-powershell-cli issues 52 and 91 show
/// it for requests sent without the header), and a token that is not the
/// org's with 401 `E0000011`. Both keep the five-key envelope.
#[tokio::test]
async fn api_requires_ssws_token() {
    let server = Server::start().await;
    let cases = [
        (None, StatusCode::FORBIDDEN, "E0000005", "Invalid session"),
        (Some("Basic bW9ja3RhOnRva2Vu"), StatusCode::FORBIDDEN, "E0000005", "Invalid session"),
        (Some("SSWS"), StatusCode::FORBIDDEN, "E0000005", "Invalid session"),
        (Some("mockta-dev-ssws-token"), StatusCode::FORBIDDEN, "E0000005", "Invalid session"),
        (Some("SSWS wrong"), StatusCode::UNAUTHORIZED, "E0000011", "Invalid token provided"),
        (Some("Bearer mockta-dev-ssws-token"), StatusCode::UNAUTHORIZED, "E0000011", "Invalid token provided"),
    ];
    for (auth, expected_status, expected_code, expected_summary) in cases {
        let mut request = server.client.get(server.url("/api/v1/users"));
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        let (status, body) = json_of(request.send().await.unwrap()).await;
        assert_eq!(status, expected_status, "{auth:?}");
        assert_eq!(body["errorCode"], expected_code, "{auth:?}");
        assert_eq!(body["errorSummary"], expected_summary, "{auth:?}");
        assert_eq!(body["errorLink"], expected_code, "{auth:?}");
        assert!(body["errorId"].as_str().unwrap().starts_with("oae"));
        let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys.len(), 5, "{keys:?}");
    }
}

/// Okta's Python SDK 3.x sends `SSWS{token}` without a space; the token is
/// read after the scheme either way.
#[tokio::test]
async fn the_api_token_is_read_with_or_without_a_space_after_ssws() {
    let server = Server::start().await;
    for auth in ["SSWS mockta-dev-ssws-token", "SSWSmockta-dev-ssws-token"] {
        let response =
            server.client.get(server.url("/api/v1/users")).header("Authorization", auth).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{auth}");
    }
}

#[tokio::test]
async fn created_user_assigned_at_runtime_can_sign_in() {
    let server = Server::start().await;
    let (status, user) = json_of(
        server
            .api(Method::POST, "/users?activate=true")
            .json(&json!({"profile": {"firstName": "Frank", "lastName": "Foster", "email": "frank@acme.test", "login": "frank@acme.test"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["status"], "ACTIVE");
    let id = user["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("00u") && id.len() == 20);

    let (status, html) = {
        let r = open_embed_link(&server, "frank@acme.test").await;
        (r.status(), r.text().await.unwrap())
    };
    assert_eq!(status, StatusCode::FORBIDDEN, "not assigned yet: {html}");

    let (status, assignment) = json_of(
        server
            .api(Method::POST, "/apps/0oarefsp000000000001/users")
            .json(&json!({"id": id, "scope": "USER", "credentials": {"userName": "frank@acme.test"}, "profile": {"role": "Admin"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(assignment["credentials"]["userName"], "frank@acme.test");
    assert_eq!(assignment["scope"], "USER");

    let html = open_embed_link(&server, "frank@acme.test").await.text().await.unwrap();
    let form = parse_form(&html);
    assert!(form.response_xml.contains(">frank@acme.test</saml2:NameID>"));
    assert!(form.response_xml.contains(">Admin</saml2:AttributeValue>"), "the app profile role is sent");
}

#[tokio::test]
async fn deactivated_user_cannot_sign_in_and_reactivation_restores() {
    let server = Server::start().await;
    let response = server.api(Method::POST, "/users/bob@acme.test/lifecycle/deactivate").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let status = open_embed_link(&server, "bob@acme.test").await.status();
    assert_eq!(status, StatusCode::FORBIDDEN);
    server.api(Method::POST, "/users/bob@acme.test/lifecycle/activate").send().await.unwrap();
    let status = open_embed_link(&server, "bob@acme.test").await.status();
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn group_membership_and_group_assignment_drive_access() {
    let server = Server::start().await;
    let (_, group) = json_of(
        server.api(Method::POST, "/groups").json(&json!({"profile": {"name": "Contractors"}})).send().await.unwrap(),
    )
    .await;
    let group_id = group["id"].as_str().unwrap().to_owned();
    assert!(group_id.starts_with("00g"));
    let status = server
        .api(Method::PUT, &format!("/groups/{group_id}/users/00uerin0000000000005"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, members) =
        json_of(server.api(Method::GET, &format!("/groups/{group_id}/users")).send().await.unwrap()).await;
    assert_eq!(members[0]["profile"]["login"], "erin@acme.test");
    let status = server
        .api(Method::PUT, &format!("/apps/0oarefsp000000000001/groups/{group_id}"))
        .json(&json!({"profile": {"role": "ReadOnly"}}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK);
    let html = open_embed_link(&server, "erin@acme.test").await.text().await.unwrap();
    let form = parse_form(&html);
    assert!(
        form.response_xml.contains(">Contractors</saml2:AttributeValue>"),
        "the groups attribute lists the new group"
    );
    assert!(form.response_xml.contains(">ReadOnly</saml2:AttributeValue>"));
}

#[tokio::test]
async fn okta_error_envelope_for_bad_requests() {
    let server = Server::start().await;
    let (status, body) = json_of(server.api(Method::POST, "/users").body("{not json").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorCode"], "E0000003");
    let (status, body) = json_of(
        server
            .api(Method::POST, "/users")
            .json(&json!({"profile": {"firstName": "A", "lastName": "B", "email": "alice@acme.test", "login": "alice@acme.test"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorCode"], "E0000001");
    assert_eq!(
        body["errorCauses"][0]["errorSummary"],
        "login: An object with this field already exists in the current organization"
    );
    let (status, body) = json_of(server.api(Method::GET, "/users/00uNOSUCHUSER0000000").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["errorSummary"], "Not found: Resource not found: 00uNOSUCHUSER0000000 (User)");
    let (status, body) = json_of(server.api(Method::PATCH, "/users").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["errorCode"], "E0000022");
}

#[tokio::test]
async fn fault_armed_through_api_applies_to_the_next_response_only() {
    let server = Server::start().await;
    let (status, armed) = json_of(
        server
            .api(Method::POST, "/mockta/faults")
            .json(&json!({"fault": "wrong-audience", "user": "alice@acme.test", "app": "reference-sp"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(armed["fault"], "wrong-audience");

    // Another user is not affected.
    let bob = open_embed_link(&server, "bob@acme.test").await.text().await.unwrap();
    assert!(parse_form(&bob).response_xml.contains("<saml2:Audience>http://127.0.0.1:7100/sso/metadata/acme<"));

    let first = open_embed_link(&server, "alice@acme.test").await.text().await.unwrap();
    assert!(parse_form(&first).response_xml.contains("other-sp.invalid"));
    let second = open_embed_link(&server, "alice@acme.test").await.text().await.unwrap();
    assert!(!parse_form(&second).response_xml.contains("other-sp.invalid"));

    let (status, body) =
        json_of(server.api(Method::POST, "/mockta/faults").json(&json!({"fault": "xsw9"})).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errorCauses"][0]["errorSummary"].as_str().unwrap().contains("unknown fault 'xsw9'"));
}

#[tokio::test]
async fn saml_faults_are_served_under_the_saml_path_and_the_older_path() {
    let server = Server::start().await;
    let (status, armed) = json_of(
        server.api(Method::POST, "/mockta/saml/faults").json(&json!({"fault": "unsigned"})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, listed_new) = json_of(server.api(Method::GET, "/mockta/saml/faults").send().await.unwrap()).await;
    let (_, listed_old) = json_of(server.api(Method::GET, "/mockta/faults").send().await.unwrap()).await;
    assert_eq!(listed_new, json!([armed]));
    assert_eq!(listed_old, listed_new);
    let (_, catalogue) = json_of(server.api(Method::GET, "/mockta/saml/faults/catalogue").send().await.unwrap()).await;
    assert!(catalogue.as_array().is_some_and(|faults| !faults.is_empty()));
    let cleared = server.api(Method::DELETE, "/mockta/saml/faults").send().await.unwrap();
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    assert!(server.idp.armed_saml_faults().is_empty());
}

#[tokio::test]
async fn a_saml_apps_object_shows_oktas_instance_name_and_links() {
    let server = Server::start().await;
    let (status, app) = json_of(server.api(Method::GET, "/apps/0oarefsp000000000001").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    // The links carry the server's random port; the snapshot names it `{org}`.
    let shown = json!({ "id": app["id"], "name": app["name"], "_links": {
        "metadata": app["_links"]["metadata"],
        "appLinks": app["_links"]["appLinks"],
    }})
    .to_string()
    .replace(&server.url(""), "{org}");
    insta::assert_snapshot!(shown);
    // The links lead where they say: the metadata and the embed link answer.
    let metadata = app["_links"]["metadata"]["href"].as_str().unwrap();
    assert_eq!(server.client.get(metadata).send().await.unwrap().status(), StatusCode::OK);
    let embed = app["_links"]["appLinks"][0]["href"].as_str().unwrap();
    let signed_in = server.client.get(format!("{embed}?login_hint=alice@acme.test")).send().await.unwrap();
    assert!(!parse_form(&signed_in.text().await.unwrap()).response_xml.is_empty());
}
