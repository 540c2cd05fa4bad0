//! Armed OIDC faults: each breaks exactly what it names, once.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::oidc::{NATIVE, Request, arm, authorize, claims_of, exchange, header_of, jwks, sign_in, verifies_with};
use crate::support::{Server, client};

#[tokio::test]
async fn oidc_token_faults_break_what_they_name() {
    let server = Server::start().await;
    let request = Request::native("/oauth2/default");
    let keys = jwks(&server, "/oauth2/default").await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    type Check = fn(&str, &Value, i64) -> bool;
    let checks: Vec<(&str, Check)> = vec![
        ("bad-signature", |t, k, _| !verifies_with(t, k)),
        ("alg-none", |t, _, _| header_of(t)["alg"] == "none" && t.ends_with('.')),
        ("hs256-with-public-key", |t, _, _| header_of(t)["alg"] == "HS256"),
        ("unknown-kid", |t, k, _| !verifies_with(t, k) && header_of(t)["kid"].is_string()),
        ("no-kid-multiple-keys", |t, k, _| {
            header_of(t).get("kid").is_none() && k["keys"].as_array().unwrap().len() > 1
        }),
        ("embedded-jwk", |t, k, _| header_of(t)["jwk"].is_object() && !verifies_with(t, k)),
        ("jku-header", |t, k, _| {
            header_of(t)["jku"].as_str().unwrap().ends_with("/mockta/attacker/keys") && !verifies_with(t, k)
        }),
        ("wrong-iss", |t, _, _| claims_of(t)["iss"].as_str().unwrap().starts_with("https://attacker.invalid")),
        ("wrong-aud", |t, _, _| claims_of(t)["aud"] != NATIVE),
        ("extra-untrusted-aud", |t, _, _| {
            claims_of(t)["aud"].as_array().is_some_and(|a| a.len() == 2 && a[0] == NATIVE)
        }),
        ("expired", |t, _, now| claims_of(t)["exp"].as_i64().unwrap() < now),
        ("iat-future", |t, _, now| claims_of(t)["iat"].as_i64().unwrap() > now + 60),
        ("nbf-future", |t, _, now| claims_of(t)["nbf"].as_i64().unwrap() > now + 60),
        ("nonce-mismatch", |t, _, _| claims_of(t)["nonce"] != "nonce-456"),
        ("missing-nonce", |t, _, _| claims_of(t).get("nonce").is_none()),
        ("bad-at-hash", |t, _, _| claims_of(t)["at_hash"].is_string()),
        ("exp-as-string", |t, _, _| claims_of(t)["exp"].is_string()),
    ];
    for (fault, check) in checks {
        arm(&server, fault, "id_token").await;
        let tokens = sign_in(&server, &request, None).await;
        let id_token = tokens["id_token"].as_str().unwrap();
        assert!(check(id_token, &keys, now), "{fault}: {:?} {:?}", header_of(id_token), claims_of(id_token));
        if fault == "bad-at-hash" {
            let access_token = tokens["access_token"].as_str().unwrap();
            assert_ne!(claims_of(id_token)["at_hash"], mock_idp::oidc::claims::at_hash(access_token));
        }
        assert!(verifies_with(tokens["access_token"].as_str().unwrap(), &keys), "{fault} armed for the ID token only");
        let clean = sign_in(&server, &request, None).await;
        assert!(verifies_with(clean["id_token"].as_str().unwrap(), &keys), "{fault} applies to one token only");
    }
    arm(&server, "wrong-aud", "access_token").await;
    let tokens = sign_in(&server, &request, None).await;
    assert_eq!(claims_of(tokens["access_token"].as_str().unwrap())["aud"], "api://untrusted");
    assert_eq!(claims_of(tokens["id_token"].as_str().unwrap())["aud"], NATIVE);
}

#[tokio::test]
async fn oidc_flow_faults_break_what_they_name() {
    let server = Server::start().await;
    let request = Request::native("/oauth2/default");

    arm(&server, "state-mismatch", "id_token").await;
    let (_, params) = authorize(&server, &client(), &request).await;
    assert_ne!(params["state"], "state-123");

    arm(&server, "code-reuse-allowed", "id_token").await;
    let (_, params) = authorize(&server, &client(), &request).await;
    assert_eq!(exchange(&server, "/oauth2/default", &params["code"], &request, None).await.status(), StatusCode::OK);
    assert_eq!(exchange(&server, "/oauth2/default", &params["code"], &request, None).await.status(), StatusCode::OK);

    arm(&server, "userinfo-sub-mismatch", "id_token").await;
    let tokens = sign_in(&server, &request, None).await;
    let info: Value = server
        .client
        .get(server.url("/oauth2/default/v1/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(info["sub"], claims_of(tokens["id_token"].as_str().unwrap())["sub"]);

    arm(&server, "discovery-issuer-mismatch", "id_token").await;
    let discovery = |s: &Server| s.client.get(s.url("/oauth2/default/.well-known/openid-configuration")).send();
    let faulted: Value = discovery(&server).await.unwrap().json().await.unwrap();
    assert_ne!(faulted["issuer"], server.url("/oauth2/default"));
    let next: Value = discovery(&server).await.unwrap().json().await.unwrap();
    assert_eq!(next["issuer"], server.url("/oauth2/default"));
}

#[tokio::test]
async fn oidc_fault_catalogue_lists_every_fault() {
    let server = Server::start().await;
    let catalogue: Value =
        server.api(reqwest::Method::GET, "/mockta/oidc/faults/catalogue").send().await.unwrap().json().await.unwrap();
    assert_eq!(catalogue.as_array().unwrap().len(), mock_idp::oidc::faults::OidcFault::ALL.len());
    let unknown =
        server.api(reqwest::Method::POST, "/mockta/oidc/faults").json(&json!({"fault": "nope"})).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
}
