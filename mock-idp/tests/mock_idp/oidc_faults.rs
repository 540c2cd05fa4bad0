//! Armed OIDC faults: each breaks exactly what it names, once.

use reqwest::StatusCode;
use serde_json::{Value, json};

use std::sync::Arc;

use mock_idp::clock::FixedClock;
use mock_idp::http::RunningServer;
use mock_idp::idp::{ARMED_OIDC_FAULT_LIFETIME, Idp, IdpConfig};
use mock_idp::oidc::ServerRef;
use mock_idp::oidc::faults::{FaultTarget, OidcFault, OidcFaultPlan, OidcFaultRefusal};
use mock_idp::oidc::jws::{DEV_NULL_KID, MALICIOUS_KID, UNKNOWN_CRITICAL_PARAMETER};

use crate::oidc::{
    NATIVE, Request, WEB, WEB_SECRET, arm, authorize, claims_of, exchange, header_of, jwks, sign_in, verifies_with,
};
use crate::support::{Server, client, org};

/// Whether an HS256 token verifies with `secret`.
fn hmac_verifies(token: &str, secret: &[u8]) -> bool {
    let (input, signature) = token.rsplit_once('.').unwrap();
    let key = jsonwebtoken::DecodingKey::from_secret(secret);
    jsonwebtoken::crypto::verify(signature, input.as_bytes(), &key, jsonwebtoken::Algorithm::HS256).unwrap_or(false)
}

/// Whether a token's signature verifies with some key of `jwks`, whatever its kid says.
fn verifies_with_any(token: &str, jwks: &Value) -> bool {
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let (input, signature) = token.rsplit_once('.').unwrap();
    set.keys.iter().any(|jwk| {
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
        let algorithm = if jwk.common.key_algorithm.is_some_and(|a| format!("{a:?}") == "ES256") {
            jsonwebtoken::Algorithm::ES256
        } else {
            jsonwebtoken::Algorithm::RS256
        };
        jsonwebtoken::crypto::verify(signature, input.as_bytes(), &key, algorithm).unwrap_or(false)
    })
}

/// The raw signature bytes of a compact JWS.
fn signature_bytes(token: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.rsplit_once('.').unwrap().1).unwrap()
}

/// Arms a fault through the API with `body` and returns the status and answer.
async fn arm_with(server: &Server, body: Value) -> (StatusCode, Value) {
    let response = server.api(reqwest::Method::POST, "/mockta/oidc/faults").json(&body).send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

/// Uses a refresh token of the native client and returns the token response.
async fn refresh(server: &Server, base: &str, refresh_token: &str) -> Value {
    let response = server
        .client
        .post(server.url(&format!("{base}/v1/token")))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", NATIVE)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn oidc_token_faults_break_what_they_name() {
    let server = Server::start().await;
    let request = Request::native("/oauth2/default");
    let keys = jwks(&server, "/oauth2/default").await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    type Check = fn(&str, &Value, i64) -> bool;
    let checks: Vec<(&str, Check)> = vec![
        ("bad-signature", |t, k, _| !verifies_with(t, k)),
        ("alg-none", |t, _, _| {
            header_of(t)["alg"] == "none" && t.ends_with('.') && claims_of(t).get("at_hash").is_none()
        }),
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
        ("alg-none-capitalised", |t, _, _| {
            header_of(t) == json!({"alg": "None"}) && t.ends_with('.') && claims_of(t).get("at_hash").is_none()
        }),
        ("alg-none-upper", |t, _, _| {
            header_of(t) == json!({"alg": "NONE"}) && t.ends_with('.') && claims_of(t).get("at_hash").is_none()
        }),
        ("alg-none-mixed", |t, _, _| {
            header_of(t) == json!({"alg": "nOnE"}) && t.ends_with('.') && claims_of(t).get("at_hash").is_none()
        }),
        ("malicious-kid", |t, k, _| header_of(t)["kid"] == MALICIOUS_KID && !verifies_with_any(t, k)),
        ("malicious-kid-dev-null", |t, _, _| {
            header_of(t) == json!({"kid": DEV_NULL_KID, "alg": "HS256"}) && hmac_verifies(t, b"")
        }),
        ("unknown-crit", |t, k, _| {
            let header = header_of(t);
            header["crit"] == json!([UNKNOWN_CRITICAL_PARAMETER])
                && header[UNKNOWN_CRITICAL_PARAMETER] == true
                && verifies_with_any(t, k)
        }),
        ("missing-sub", |t, k, _| claims_of(t).get("sub").is_none() && verifies_with(t, k)),
        ("missing-iat", |t, k, _| {
            claims_of(t).get("iat").is_none() && claims_of(t)["exp"].is_i64() && verifies_with(t, k)
        }),
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

    arm(&server, "discovery-issuer-only", "id_token").await;
    let discovery = |s: &Server| s.client.get(s.url("/oauth2/default/.well-known/openid-configuration")).send();
    let faulted: Value = discovery(&server).await.unwrap().json().await.unwrap();
    assert_ne!(faulted["issuer"], server.url("/oauth2/default"));
    let next: Value = discovery(&server).await.unwrap().json().await.unwrap();
    assert_eq!(next["issuer"], server.url("/oauth2/default"));
    let tokens = sign_in(&server, &request, None).await;
    assert_eq!(claims_of(tokens["id_token"].as_str().unwrap())["iss"], server.url("/oauth2/default"));

    arm(&server, "authorization-response-wrong-iss", "id_token").await;
    let (_, params) = authorize(&server, &client(), &request).await;
    assert_eq!(params["iss"], "https://attacker.invalid/oauth2/default");
    assert!(params.contains_key("code") && params["state"] == "state-123");
    let (_, clean) = authorize(&server, &client(), &request).await;
    assert!(!clean.contains_key("iss"), "the mock sends no iss unless the fault asks");
}

#[tokio::test]
async fn oidc_discovery_issuer_mismatch_is_one_impostor_in_the_documents_and_the_tokens() {
    let server = Server::start().await;
    let request = Request::native("/oauth2/default");
    let (status, armed) =
        arm_with(&server, json!({"fault": "discovery-issuer-mismatch", "user": "alice@acme.test"})).await;
    assert_eq!(status, StatusCode::CREATED, "{armed}");
    assert_eq!(armed["user"], "00ualice000000000001", "the token half still waits for its user");
    let discovery = || async {
        let url = server.url("/oauth2/default/.well-known/openid-configuration");
        server.client.get(url).send().await.unwrap().json::<Value>().await.unwrap()
    };
    let first = discovery().await;
    let impostor = first["issuer"].as_str().unwrap().to_owned();
    assert_eq!(impostor, "https://attacker.invalid/oauth2/default");
    assert_eq!(first["token_endpoint"], server.url("/oauth2/default/v1/token"), "only the issuer is an impostor");
    assert_eq!(discovery().await["issuer"], impostor, "every document names it while the fault waits");
    let tokens = sign_in(&server, &request, None).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(claims_of(id_token)["iss"], impostor, "the tokens carry the document's issuer");
    assert!(verifies_with(id_token, &jwks(&server, "/oauth2/default").await), "signed by the real key");
    assert_eq!(discovery().await["issuer"], server.url("/oauth2/default"), "used up by its tokens");
    let clean = sign_in(&server, &request, None).await;
    assert_eq!(claims_of(clean["id_token"].as_str().unwrap())["iss"], server.url("/oauth2/default"));
}

#[tokio::test]
async fn oidc_hs256_with_client_secret_signs_with_the_secret_of_a_confidential_client() {
    let server = Server::start().await;
    let request = Request::web("/oauth2/default");
    let (status, armed) =
        arm_with(&server, json!({"fault": "hs256-with-client-secret", "client": "reference-sp-oidc"})).await;
    assert_eq!(status, StatusCode::CREATED, "{armed}");
    let tokens = sign_in(&server, &request, Some(WEB_SECRET)).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(header_of(id_token), json!({"alg": "HS256"}));
    assert!(hmac_verifies(id_token, WEB_SECRET.as_bytes()));
    assert_eq!(claims_of(id_token)["aud"], WEB);
    let (status, refused) =
        arm_with(&server, json!({"fault": "hs256-with-client-secret", "client": "native-pkce"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["errorCode"], "E0000001");
    let cause = refused["errorCauses"][0]["errorSummary"].as_str().unwrap();
    assert!(cause.starts_with("fault: hs256-with-client-secret signs with the client's secret"), "{cause}");
}

#[tokio::test]
async fn oidc_es256_zero_signature_is_r_and_s_zero_on_es256_servers_only() {
    let server = Server::start().await;
    let base = "/oauth2/ausmocktaes256000001";
    let (status, armed) = arm_with(&server, json!({"fault": "es256-zero-signature", "user": "alice@acme.test"})).await;
    assert_eq!(status, StatusCode::CREATED, "{armed}");
    // The fault was armed for any server: the RS256 server's tokens pass it by.
    let rs256 = sign_in(&server, &Request::native("/oauth2/default"), None).await;
    assert!(verifies_with(rs256["id_token"].as_str().unwrap(), &jwks(&server, "/oauth2/default").await));
    let tokens = sign_in(&server, &Request { scope: "openid", ..Request::native(base) }, None).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let keys = jwks(&server, base).await;
    assert_eq!(header_of(id_token)["alg"], "ES256");
    assert_eq!(header_of(id_token)["kid"], keys["keys"][0]["kid"], "it names the active key");
    assert_eq!(signature_bytes(id_token), vec![0u8; 64], "r = s = 0");
    assert!(!verifies_with(id_token, &keys));
    for (server_name, reason) in [
        (
            "default",
            "fault: es256-zero-signature needs an authorization server that signs ES256, and server 'default' signs RS256",
        ),
        (
            "org",
            "fault: es256-zero-signature needs an authorization server that signs ES256, and server 'org' signs RS256",
        ),
    ] {
        let (status, refused) =
            arm_with(&server, json!({"fault": "es256-zero-signature", "server": server_name})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(refused["errorSummary"], "Api validation failed: fault");
        assert_eq!(refused["errorCauses"][0]["errorSummary"], reason);
    }
}

#[tokio::test]
async fn oidc_refresh_faults_change_only_the_id_token_of_the_refresh_grant() {
    let server = Server::start().await;
    let base = "/oauth2/default";
    let request = Request { scope: "openid profile offline_access", ..Request::native(base) };
    for (fault, changed) in [("refresh-token-changes-sub", "sub"), ("refresh-token-changes-iss", "iss")] {
        arm(&server, fault, "id_token").await;
        let tokens = sign_in(&server, &request, None).await;
        let original = claims_of(tokens["id_token"].as_str().unwrap());
        assert_eq!(original["sub"], "00ualice000000000001", "{fault} waits for the refresh grant");
        assert_eq!(original["iss"], server.url(base));
        let refreshed = refresh(&server, base, tokens["refresh_token"].as_str().unwrap()).await;
        let id_token = refreshed["id_token"].as_str().unwrap();
        let claims = claims_of(id_token);
        assert_ne!(claims[changed], original[changed], "{fault}");
        let unchanged = if changed == "sub" { "iss" } else { "sub" };
        assert_eq!(claims[unchanged], original[unchanged], "{fault}");
        assert!(verifies_with(id_token, &jwks(&server, base).await), "{fault} is validly signed");
        let again = refresh(&server, base, refreshed["refresh_token"].as_str().unwrap()).await;
        assert_eq!(claims_of(again["id_token"].as_str().unwrap())[changed], original[changed], "used once");
    }
    let (status, refused) =
        arm_with(&server, json!({"fault": "refresh-token-changes-sub", "client": "mockta-service"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused["errorCauses"][0]["errorSummary"].as_str().unwrap().contains("may not use"), "{refused}");
}

#[tokio::test]
async fn oidc_faults_that_cannot_take_effect_are_refused_with_the_reason() {
    let server = Server::start().await;
    let refused = [
        (
            json!({"fault": "wrong-aud", "server": "org", "token": "access_token"}),
            "fault: wrong-aud cannot change access tokens from the org authorization server: they are opaque to clients",
        ),
        (json!({"fault": "expired", "server": "org", "token": "both"}), "fault: expired cannot change access tokens"),
        (json!({"fault": "nonce-mismatch", "token": "access_token"}), "fault: nonce-mismatch changes the nonce claim"),
        (
            json!({"fault": "state-mismatch", "token": "both"}),
            "fault: state-mismatch changes the redirect from /authorize",
        ),
    ];
    for (body, reason) in refused {
        let (status, answer) = arm_with(&server, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer["errorCode"], "E0000001");
        let cause = answer["errorCauses"][0]["errorSummary"].as_str().unwrap();
        assert!(cause.starts_with(reason), "{body}: {cause}");
    }
    let (status, answer) = arm_with(&server, json!({"fault": "expired", "server": "nope"})).await;
    assert_eq!((status, answer["errorCode"].as_str()), (StatusCode::NOT_FOUND, Some("E0000007")));
    let listed: Value =
        server.api(reqwest::Method::GET, "/mockta/oidc/faults").send().await.unwrap().json().await.unwrap();
    assert_eq!(listed, json!([]), "nothing refused was armed");
    // The same fault on a custom server, or for the ID token, is fine.
    let (status, _) =
        arm_with(&server, json!({"fault": "wrong-aud", "server": "default", "token": "access_token"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = arm_with(&server, json!({"fault": "wrong-aud", "server": "org"})).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn oidc_armed_faults_are_listed_and_disarmed_one_by_one() {
    let server = Server::start().await;
    let (_, first) =
        arm_with(&server, json!({"fault": "expired", "user": "alice@acme.test", "server": "default"})).await;
    let (_, second) = arm_with(&server, json!({"fault": "wrong-iss"})).await;
    assert_eq!(first["server"], "default");
    assert_eq!(second["server"], Value::Null);
    let expires =
        time::OffsetDateTime::parse(first["expires"].as_str().unwrap(), &time::format_description::well_known::Rfc3339)
            .unwrap();
    let left = expires - time::OffsetDateTime::now_utc();
    assert!(left > ARMED_OIDC_FAULT_LIFETIME - time::Duration::minutes(1) && left <= ARMED_OIDC_FAULT_LIFETIME);
    let path = format!("/mockta/oidc/faults/{}", first["id"].as_str().unwrap());
    let disarmed = server.api(reqwest::Method::DELETE, &path).send().await.unwrap();
    assert_eq!(disarmed.status(), StatusCode::NO_CONTENT);
    let listed: Value =
        server.api(reqwest::Method::GET, "/mockta/oidc/faults").send().await.unwrap().json().await.unwrap();
    let ids: Vec<&Value> = listed.as_array().unwrap().iter().map(|f| &f["id"]).collect();
    assert_eq!(ids, vec![&second["id"]]);
    let again = server.api(reqwest::Method::DELETE, &path).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let cleared = server.api(reqwest::Method::DELETE, "/mockta/oidc/faults").send().await.unwrap();
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    assert!(server.idp.armed_oidc_faults().is_empty());
}

#[tokio::test]
async fn oidc_an_armed_fault_that_waits_too_long_is_dropped() {
    let clock = Arc::new(FixedClock::new(time::macros::datetime!(2025-01-01 00:00 UTC)));
    let mut config = IdpConfig::deterministic(org()).unwrap();
    config.clock = clock.clone();
    let idp = Arc::new(Idp::new(config));
    let plan = OidcFaultPlan { fault: OidcFault::WrongIss, target: FaultTarget::IdToken };
    let armed = idp.arm_oidc_fault(plan, None, None).unwrap();
    assert_eq!(armed.expires, time::macros::datetime!(2025-01-01 00:10 UTC));
    clock.advance(ARMED_OIDC_FAULT_LIFETIME - time::Duration::seconds(1));
    assert_eq!(idp.armed_oidc_faults(), vec![armed.clone()]);
    clock.advance(time::Duration::seconds(1));
    assert!(idp.armed_oidc_faults().is_empty(), "a fault left by a sign-in that failed early is gone");
    // A fault dropped that way never reaches the next sign-in.
    idp.arm_oidc_fault(plan, None, None).unwrap();
    clock.advance(ARMED_OIDC_FAULT_LIFETIME);
    let running = RunningServer::start("127.0.0.1:0".parse().unwrap(), idp.clone()).await.unwrap();
    let url = running.url();
    idp.write_org(|org| org.url = url.clone());
    let server = Server { idp: idp.clone(), server: running, client: client() };
    let tokens = sign_in(&server, &Request::native("/oauth2/default"), None).await;
    assert_eq!(claims_of(tokens["id_token"].as_str().unwrap())["iss"], format!("{url}/oauth2/default"));
}

#[test]
fn oidc_arming_in_rust_returns_the_refusal() {
    let idp = crate::support::idp();
    let plan = OidcFaultPlan { fault: OidcFault::Es256ZeroSignature, target: FaultTarget::IdToken };
    let refusal = idp.arm_oidc_fault_on_server(plan, Some(ServerRef::Org), None, None).unwrap_err();
    assert_eq!(refusal.code(), "fault.needs_es256_server");
    assert!(matches!(refusal, OidcFaultRefusal::NeedsEs256Server { .. }));
    assert!(idp.arm_oidc_fault(plan, None, None).is_ok(), "the org has an ES256 server");
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
