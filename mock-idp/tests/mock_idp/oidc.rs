//! The OIDC provider over HTTP: flows, client authentication, token
//! lifecycle and errors in Okta's shapes; key rotation is in `oidc_keys.rs`
//! and the faults in `oidc_faults.rs`, which share the helpers here.
//! Tokens are checked with jsonwebtoken against the served JWKS, not with
//! the mock's own code.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{Server, client};

pub(crate) const WEB: &str = "0oarefspoidc00000007";
pub(crate) const WEB_SECRET: &str = "mockta-dev-oidc-secret";
pub(crate) const WEB_REDIRECT: &str = "http://127.0.0.1:7100/oidc/callback/acme";
pub(crate) const NATIVE: &str = "0oanativepkce0000008";
pub(crate) const NATIVE_REDIRECT: &str = "http://127.0.0.1:7100/oidc/native/callback";
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

pub(crate) fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub(crate) fn b64_json(part: &str) -> Value {
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

pub(crate) fn claims_of(token: &str) -> Value {
    b64_json(token.split('.').nth(1).unwrap())
}

pub(crate) fn header_of(token: &str) -> Value {
    b64_json(token.split('.').next().unwrap())
}

/// Whether a token verifies with a key of the JWKS named by its `kid`.
pub(crate) fn verifies_with(token: &str, jwks: &Value) -> bool {
    let Ok(header) = jsonwebtoken::decode_header(token) else { return false };
    let Some(kid) = header.kid else { return false };
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let Some(jwk) = set.find(&kid) else { return false };
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let (input, signature) = token.rsplit_once('.').unwrap();
    jsonwebtoken::crypto::verify(signature, input.as_bytes(), &key, header.alg).unwrap_or(false)
}

/// A sign-in request's parameters.
pub(crate) struct Request<'a> {
    pub base: &'a str,
    pub client: &'a str,
    pub redirect: &'a str,
    pub scope: &'a str,
    pub login: Option<&'a str>,
    pub pkce: bool,
    pub extra: Vec<(&'a str, &'a str)>,
}

impl<'a> Request<'a> {
    pub(crate) fn native(base: &'a str) -> Self {
        Request {
            base,
            client: NATIVE,
            redirect: NATIVE_REDIRECT,
            scope: "openid profile email",
            login: Some("alice@acme.test"),
            pkce: true,
            extra: vec![],
        }
    }

    pub(crate) fn web(base: &'a str) -> Self {
        Request { client: WEB, redirect: WEB_REDIRECT, pkce: false, ..Request::native(base) }
    }

    pub(crate) fn url(&self, server: &Server) -> String {
        let challenge = challenge(VERIFIER);
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("client_id", self.client)
            .append_pair("redirect_uri", self.redirect)
            .append_pair("response_type", "code")
            .append_pair("scope", self.scope)
            .append_pair("state", "state-123")
            .append_pair("nonce", "nonce-456");
        if let Some(login) = self.login {
            query.append_pair("login_hint", login);
        }
        if self.pkce {
            query.append_pair("code_challenge", &challenge).append_pair("code_challenge_method", "S256");
        }
        for (k, v) in &self.extra {
            query.append_pair(k, v);
        }
        server.url(&format!("{}/v1/authorize?{}", self.base, query.finish()))
    }
}

/// The parameters of a redirect's query.
pub(crate) fn redirect_params(location: &str) -> std::collections::HashMap<String, String> {
    let url = url::Url::parse(location).unwrap();
    url.query_pairs().into_owned().collect()
}

/// Sends the authorization request and returns the redirect's parameters.
pub(crate) async fn authorize(
    server: &Server,
    client: &reqwest::Client,
    request: &Request<'_>,
) -> (String, std::collections::HashMap<String, String>) {
    let response = client.get(request.url(server)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND, "{}", response.text().await.unwrap());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let params = redirect_params(&location);
    (location, params)
}

pub(crate) async fn exchange(
    server: &Server,
    base: &str,
    code: &str,
    request: &Request<'_>,
    secret: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", request.redirect)];
    if request.pkce {
        form.push(("code_verifier", VERIFIER));
    }
    let mut builder = server.client.post(server.url(&format!("{base}/v1/token")));
    match secret {
        Some(secret) => builder = builder.basic_auth(request.client, Some(secret)),
        None => form.push(("client_id", request.client)),
    }
    builder.form(&form).send().await.unwrap()
}

/// Signs in through `/authorize` and exchanges the code; returns the token response.
pub(crate) async fn sign_in(server: &Server, request: &Request<'_>, secret: Option<&str>) -> Value {
    let (_, params) = authorize(server, &client(), request).await;
    let code = params.get("code").unwrap_or_else(|| panic!("no code: {params:?}"));
    let response = exchange(server, request.base, code, request, secret).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

pub(crate) async fn jwks(server: &Server, base: &str) -> Value {
    server.client.get(server.url(&format!("{base}/v1/keys"))).send().await.unwrap().json().await.unwrap()
}

pub(crate) async fn arm(server: &Server, fault: &str, token: &str) {
    let response = server
        .api(reqwest::Method::POST, "/mockta/oidc/faults")
        .json(&json!({ "fault": fault, "user": "alice@acme.test", "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

async fn introspect(server: &Server, base: &str, request: &Request<'_>, secret: Option<&str>, token: &str) -> Value {
    let mut form = vec![("token", token)];
    let mut builder = server.client.post(server.url(&format!("{base}/v1/introspect")));
    match secret {
        Some(secret) => builder = builder.basic_auth(request.client, Some(secret)),
        None => form.push(("client_id", request.client)),
    }
    builder.form(&form).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn oidc_code_flow_with_pkce_issues_tokens_that_verify() {
    let server = Server::start().await;
    let request = Request::native("/oauth2/default");
    let tokens = sign_in(&server, &request, None).await;
    let keys = jwks(&server, "/oauth2/default").await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let access_token = tokens["access_token"].as_str().unwrap();
    assert!(verifies_with(id_token, &keys));
    assert!(verifies_with(access_token, &keys));
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    let claims = claims_of(id_token);
    assert_eq!(claims["iss"], server.url("/oauth2/default"));
    assert_eq!(claims["aud"], NATIVE);
    assert_eq!(claims["nonce"], "nonce-456");
    assert_eq!(claims["sub"], "00ualice000000000001");
    assert_eq!(claims["at_hash"], mock_idp::oidc::claims::at_hash(access_token));
    let header = header_of(id_token);
    assert_eq!(
        serde_json::to_string(&header).unwrap(),
        format!(r#"{{"kid":"{}","alg":"RS256"}}"#, header["kid"].as_str().unwrap())
    );
    // The last ID token issued to this client for this user is kept, as sent,
    // for harnesses that show it as evidence.
    let client = mock_idp::ids::AppId::parse(NATIVE).unwrap();
    let alice = mock_idp::ids::UserId::parse("00ualice000000000001").unwrap();
    assert_eq!(server.idp.last_id_token(&client, &alice).as_deref(), Some(id_token));
    let access = claims_of(access_token);
    assert_eq!(access["aud"], "api://default");
    assert_eq!(access["sub"], "alice@acme.test");
    assert_eq!(access["cid"], NATIVE);
    assert_eq!(access["scp"], json!(["openid", "profile", "email"]));
}

#[tokio::test]
async fn oidc_org_server_access_token_is_opaque_and_userinfo_answers() {
    let server = Server::start().await;
    let request = Request { extra: vec![], ..Request::web("/oauth2") };
    let tokens = sign_in(&server, &request, Some(WEB_SECRET)).await;
    let access_token = tokens["access_token"].as_str().unwrap();
    assert!(!access_token.contains('.'), "org server access tokens are opaque: {access_token}");
    assert_eq!(claims_of(tokens["id_token"].as_str().unwrap())["iss"], server.url(""));
    let info: Value = server
        .client
        .get(server.url("/oauth2/v1/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], "00ualice000000000001");
    assert_eq!(info["email"], "alice@acme.test");
}

#[tokio::test]
async fn oidc_groups_scope_adds_the_apps_groups_claim() {
    let server = Server::start().await;
    let request = Request { scope: "openid groups", ..Request::web("/oauth2") };
    let tokens = sign_in(&server, &request, Some(WEB_SECRET)).await;
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["groups"], json!(["Engineering", "acme-admins"]));
}

/// Puts alice in `count` more groups, named `bulk-000` on.
fn join_bulk_groups(server: &Server, count: usize) {
    let now = server.idp.now();
    server.idp.write_org(|org| {
        for index in 0..count {
            let name = format!("bulk-{index:03}");
            let body = serde_json::from_value(json!({"profile": {"name": name}})).unwrap();
            let made = mock_idp::admin::create_group(org, body, now, server.idp.ids()).unwrap();
            mock_idp::admin::add_member(org, made.subject.as_str(), "alice@acme.test", now).unwrap();
        }
    });
}

/// Okta's groups claims carry at most 100 groups and say nothing of the
/// rest (its groups-claim guide; attacks.md K-07): with 120 more groups
/// alice's org-server and custom-server claims hold the first 100 by name
/// (her Engineering and acme-admins, then bulk-000 to bulk-097), and the
/// other 22 are cut.
#[tokio::test]
async fn oidc_groups_claims_are_cut_at_one_hundred_groups() {
    let server = Server::start().await;
    join_bulk_groups(&server, 120);
    let org_server =
        sign_in(&server, &Request { scope: "openid groups", ..Request::web("/oauth2") }, Some(WEB_SECRET)).await;
    let custom =
        sign_in(&server, &Request { scope: "openid groups", ..Request::native("/oauth2/default") }, None).await;
    for tokens in [org_server, custom] {
        let claims = claims_of(tokens["id_token"].as_str().unwrap());
        let groups: Vec<&str> = claims["groups"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
        assert_eq!(groups.len(), mock_idp::oidc::claims::GROUPS_CLAIM_LIMIT);
        assert_eq!(
            (groups[0], groups[1], groups[2], groups[99]),
            ("Engineering", "acme-admins", "bulk-000", "bulk-097")
        );
        assert!(!groups.contains(&"bulk-098"), "{groups:?}");
    }
}

#[tokio::test]
async fn oidc_client_authentication_follows_the_configured_method() {
    let server = Server::start().await;
    let request = Request::web("/oauth2");
    let (_, params) = authorize(&server, &client(), &request).await;
    let token_url = server.url("/oauth2/v1/token");
    let form = [("grant_type", "authorization_code"), ("code", &params["code"]), ("redirect_uri", WEB_REDIRECT)];
    let wrong =
        server.client.post(&token_url).basic_auth(WEB, Some("not-the-secret")).form(&form).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": "invalid_client", "error_description": "The client secret supplied for a confidential client is invalid."})
    );
    let mut posted = form.to_vec();
    posted.extend([("client_id", WEB), ("client_secret", WEB_SECRET)]);
    let post = server.client.post(&token_url).form(&posted).send().await.unwrap();
    assert_eq!(post.status(), StatusCode::UNAUTHORIZED, "the app is configured for client_secret_basic");
    let none: Value = server
        .client
        .post(&token_url)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["error_description"], "No client credentials found.");
}

#[tokio::test]
async fn oidc_unknown_client_at_token_gets_okta_management_envelope() {
    let server = Server::start().await;
    let response = server
        .client
        .post(server.url("/oauth2/v1/token"))
        .form(&[("grant_type", "authorization_code"), ("code", "x"), ("client_id", "0oanosuchclient00000")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"]);
    assert_eq!(body["errorCode"], "invalid_client");
    assert_eq!(body["errorSummary"], "Invalid value for 'client_id' parameter.");
}

#[tokio::test]
async fn oidc_unregistered_redirect_uri_gets_error_page_never_redirect() {
    let server = Server::start().await;
    let request = Request { redirect: "https://attacker.invalid/steal", ..Request::native("/oauth2/default") };
    let response = client().get(request.url(&server)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
    let page = response.text().await.unwrap();
    assert!(
        page.contains("The &#39;redirect_uri&#39; parameter must be a Login redirect URI")
            || page.contains("The 'redirect_uri' parameter must be a Login redirect URI"),
        "{page}"
    );
}

#[tokio::test]
async fn oidc_unassigned_user_gets_access_denied_on_the_redirect() {
    let server = Server::start().await;
    let request = Request { login: Some("bob@acme.test"), ..Request::web("/oauth2") };
    let (_, params) = authorize(&server, &client(), &request).await;
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["error_description"], "User is not assigned to the client application.");
    assert_eq!(params["state"], "state-123");
}

#[tokio::test]
async fn oidc_public_client_without_pkce_refused_on_the_redirect() {
    let server = Server::start().await;
    let request = Request { pkce: false, ..Request::native("/oauth2/default") };
    let (_, params) = authorize(&server, &client(), &request).await;
    assert_eq!(params["error"], "invalid_request");
    assert_eq!(
        params["error_description"],
        "PKCE code challenge is required when the token endpoint authentication method is 'NONE'."
    );
}

#[tokio::test]
async fn oidc_pkce_mismatch_rejected_and_code_used_up() {
    let server = Server::start().await;
    let request = Request::native("/oauth2/default");
    let (_, params) = authorize(&server, &client(), &request).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", params["code"].as_str()),
        ("redirect_uri", NATIVE_REDIRECT),
        ("client_id", NATIVE),
        ("code_verifier", "wrong-verifier-wrong-verifier-wrong-verifier-0"),
    ];
    let token_url = server.url("/oauth2/default/v1/token");
    let body: Value = server.client.post(&token_url).form(&form).send().await.unwrap().json().await.unwrap();
    assert_eq!(body, json!({"error": "invalid_grant", "error_description": "PKCE verification failed."}));
    let retry = exchange(&server, "/oauth2/default", &params["code"], &request, None).await;
    let body: Value = retry.json().await.unwrap();
    assert_eq!(body["error_description"], "The authorization code is invalid or has expired.");
}

#[tokio::test]
async fn oidc_code_replay_refused_and_revokes_the_first_tokens() {
    let server = Server::start().await;
    let request = Request::web("/oauth2");
    let (_, params) = authorize(&server, &client(), &request).await;
    let first: Value =
        exchange(&server, "/oauth2", &params["code"], &request, Some(WEB_SECRET)).await.json().await.unwrap();
    let access_token = first["access_token"].as_str().unwrap();
    assert_eq!(introspect(&server, "/oauth2", &request, Some(WEB_SECRET), access_token).await["active"], true);
    let second = exchange(&server, "/oauth2", &params["code"], &request, Some(WEB_SECRET)).await;
    assert_eq!(second.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        introspect(&server, "/oauth2", &request, Some(WEB_SECRET), access_token).await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn oidc_refresh_token_rotates_and_reuse_revokes_the_family() {
    let server = Server::start().await;
    let request = Request { scope: "openid offline_access", ..Request::native("/oauth2/default") };
    let tokens = sign_in(&server, &request, None).await;
    let first_refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: String| {
        let server = &server;
        async move {
            server
                .client
                .post(server.url("/oauth2/default/v1/token"))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", &token), ("client_id", NATIVE)])
                .send()
                .await
                .unwrap()
        }
    };
    let rotated: Value = refresh(first_refresh.clone()).await.json().await.unwrap();
    let second_refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first_refresh);
    assert!(rotated["id_token"].is_string());
    let reuse = refresh(first_refresh).await;
    assert_eq!(reuse.status(), StatusCode::BAD_REQUEST);
    let after_theft = refresh(second_refresh).await;
    assert_eq!(after_theft.status(), StatusCode::BAD_REQUEST, "reuse of a rotated token revokes its family");
}

#[tokio::test]
async fn oidc_offline_access_needs_the_refresh_grant() {
    let server = Server::start().await;
    let request = Request { scope: "openid offline_access", ..Request::web("/oauth2") };
    let mobius =
        Request { client: "0oamobiusconveyor011", redirect: "https://mobius.invalid/okta/callback", ..request };
    let (_, params) = authorize(&server, &client(), &mobius).await;
    assert_eq!(params["error"], "invalid_scope");
}

#[tokio::test]
async fn oidc_client_credentials_for_service_apps() {
    let server = Server::start().await;
    let token_url = server.url("/oauth2/default/v1/token");
    let response = server
        .client
        .post(&token_url)
        .basic_auth("0oaservice0000000009", Some("mockta-dev-service-secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", "mockta.read")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body.get("id_token").is_none() && body.get("refresh_token").is_none());
    let claims = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "0oaservice0000000009");
    assert!(claims.get("uid").is_none());
    let org_server: Value = server
        .client
        .post(server.url("/oauth2/v1/token"))
        .basic_auth("0oaservice0000000009", Some("mockta-dev-service-secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", "mockta.read")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(org_server["error"], "invalid_scope", "the org server only grants Okta API scopes to clients");
    let web_client: Value = server
        .client
        .post(&token_url)
        .basic_auth(WEB, Some(WEB_SECRET))
        .form(&[("grant_type", "client_credentials"), ("scope", "mockta.read")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(web_client["error"], "unauthorized_client");
}

fn client_assertion(audience: &str, jti: &str) -> String {
    let key = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/keys/service-client.key.pem"))
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({"iss": "0oaservicejwt0000010", "sub": "0oaservicejwt0000010", "aud": audience, "jti": jti, "exp": now + 300, "iat": now});
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("Ae1Fa9Xz_ete6z6SsEpivfeUBIuqG_PnO80lF2LJZKI".into());
    jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_rsa_pem(key.as_bytes()).unwrap()).unwrap()
}

#[tokio::test]
async fn oidc_private_key_jwt_authenticates_and_refuses_replay() {
    let server = Server::start().await;
    let token_url = server.url("/oauth2/default/v1/token");
    let assertion = client_assertion(&token_url, "jti-1");
    let send = |assertion: String| {
        let server = &server;
        let token_url = token_url.clone();
        async move {
            server
                .client
                .post(token_url)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("scope", "mockta.read"),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", &assertion),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(send(assertion.clone()).await.status(), StatusCode::OK);
    let replay = send(assertion).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    let wrong_audience = send(client_assertion("https://elsewhere.invalid/token", "jti-2")).await;
    assert_eq!(wrong_audience.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn oidc_deactivated_users_tokens_introspect_inactive() {
    let server = Server::start().await;
    let request = Request::web("/oauth2/default");
    let tokens = sign_in(&server, &request, Some(WEB_SECRET)).await;
    let access_token = tokens["access_token"].as_str().unwrap();
    let before = introspect(&server, "/oauth2/default", &request, Some(WEB_SECRET), access_token).await;
    assert_eq!(before["active"], true);
    assert_eq!(before["username"], "alice@acme.test");
    let deactivate =
        server.api(reqwest::Method::POST, "/users/alice@acme.test/lifecycle/deactivate").send().await.unwrap();
    assert!(deactivate.status().is_success());
    let after = introspect(&server, "/oauth2/default", &request, Some(WEB_SECRET), access_token).await;
    assert_eq!(after, json!({"active": false}));
    let userinfo =
        server.client.get(server.url("/oauth2/default/v1/userinfo")).bearer_auth(access_token).send().await.unwrap();
    assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED);
    assert!(userinfo.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer error=\"invalid_token\""));
}

#[tokio::test]
async fn oidc_revoked_access_token_introspects_inactive() {
    let server = Server::start().await;
    let request = Request::web("/oauth2/default");
    let tokens = sign_in(&server, &request, Some(WEB_SECRET)).await;
    let access_token = tokens["access_token"].as_str().unwrap();
    let revoke = server
        .client
        .post(server.url("/oauth2/default/v1/revoke"))
        .basic_auth(WEB, Some(WEB_SECRET))
        .form(&[("token", access_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::OK);
    assert_eq!(
        introspect(&server, "/oauth2/default", &request, Some(WEB_SECRET), access_token).await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn oidc_prompt_none_needs_an_existing_session() {
    let server = Server::start().await;
    let browser = client();
    let silent = Request { login: None, extra: vec![("prompt", "none")], ..Request::web("/oauth2") };
    let (_, params) = authorize(&server, &browser, &silent).await;
    assert_eq!(params["error"], "login_required");
    authorize(&server, &browser, &Request::web("/oauth2")).await;
    let (_, params) = authorize(&server, &browser, &silent).await;
    assert!(params.contains_key("code"), "the session from the first sign-in is reused: {params:?}");
}

#[tokio::test]
async fn oidc_login_page_completes_the_authorization() {
    let server = Server::start().await;
    let browser = client();
    let request = Request { login: None, ..Request::web("/oauth2") };
    let response = browser.get(request.url(&server)).send().await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/login/mockta?pending="), "{location}");
    let page = browser.get(server.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("alice@acme.test"));
    let pending = location.trim_start_matches("/login/mockta?pending=");
    let done = browser
        .post(server.url("/login/mockta"))
        .form(&[("pending", pending), ("login", "alice@acme.test")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::FOUND);
    let params = redirect_params(done.headers()["location"].to_str().unwrap());
    assert!(params.contains_key("code"));
    assert_eq!(params["state"], "state-123");
}

#[tokio::test]
async fn oidc_form_post_response_mode_posts_the_code() {
    let server = Server::start().await;
    let request = Request { extra: vec![("response_mode", "form_post")], ..Request::web("/oauth2") };
    let response = client().get(request.url(&server)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("method=\"POST\""));
    assert!(page.contains("name=\"code\""));
    assert!(page.contains("name=\"state\" value=\"state-123\""));
}

#[tokio::test]
async fn oidc_unknown_authorization_server_is_okta_404() {
    let server = Server::start().await;
    let response = server
        .client
        .get(server.url("/oauth2/ausnosuchserver00001/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000007");
    assert_eq!(body["errorSummary"], "Not found: Resource not found: ausnosuchserver00001 (AuthorizationServer)");
}

#[tokio::test]
async fn oidc_logout_redirects_only_to_registered_uris() {
    let server = Server::start().await;
    let tokens = sign_in(&server, &Request::web("/oauth2"), Some(WEB_SECRET)).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let url = |uri: &str| {
        format!(
            "{}?id_token_hint={id_token}&post_logout_redirect_uri={}&state=bye",
            server.url("/oauth2/v1/logout"),
            url::form_urlencoded::byte_serialize(uri.as_bytes()).collect::<String>()
        )
    };
    let good = client().get(url("http://127.0.0.1:7100/")).send().await.unwrap();
    assert_eq!(good.headers()["location"], "http://127.0.0.1:7100/?state=bye");
    let bad = client().get(url("https://attacker.invalid/")).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn oidc_authorize_and_logout_accept_a_form_post() {
    let server = Server::start().await;
    let request = Request::web("/oauth2/default");
    let (_, by_get) = authorize(&server, &client(), &request).await;
    let url = request.url(&server);
    let (endpoint, query) = url.split_once('?').unwrap();
    let posted = client()
        .post(endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::FOUND);
    let by_post = redirect_params(posted.headers()["location"].to_str().unwrap());
    assert_eq!(by_post["state"], by_get["state"]);
    assert!(by_post.contains_key("code") && by_post["code"] != by_get["code"], "{by_post:?}");

    let tokens = sign_in(&server, &Request::web("/oauth2"), Some(WEB_SECRET)).await;
    let form = [
        ("id_token_hint", tokens["id_token"].as_str().unwrap()),
        ("post_logout_redirect_uri", "http://127.0.0.1:7100/"),
        ("state", "bye"),
    ];
    let logout = client().post(server.url("/oauth2/v1/logout")).form(&form).send().await.unwrap();
    assert_eq!(logout.headers()["location"], "http://127.0.0.1:7100/?state=bye");
}

#[tokio::test]
async fn oidc_custom_server_groups_claim_comes_with_its_scope() {
    let server = Server::start().await;
    let with = sign_in(&server, &Request { scope: "openid groups", ..Request::native("/oauth2/default") }, None).await;
    assert_eq!(claims_of(with["id_token"].as_str().unwrap())["groups"], json!(["Engineering", "acme-admins"]));
    let without = sign_in(&server, &Request { scope: "openid", ..Request::native("/oauth2/default") }, None).await;
    assert!(claims_of(without["id_token"].as_str().unwrap()).get("groups").is_none());
}

#[tokio::test]
async fn oidc_refresh_with_fewer_scopes_keeps_the_original_grant() {
    let server = Server::start().await;
    let request = Request { scope: "openid email offline_access", ..Request::native("/oauth2/default") };
    let tokens = sign_in(&server, &request, None).await;
    let narrowed: Value = server
        .client
        .post(server.url("/oauth2/default/v1/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", NATIVE),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(narrowed["scope"], "openid");
    let again = server
        .client
        .post(server.url("/oauth2/default/v1/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", narrowed["refresh_token"].as_str().unwrap()),
            ("client_id", NATIVE),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["scope"], "openid email offline_access", "the new refresh token kept the original scopes");
}

#[tokio::test]
async fn oidc_policy_without_refresh_grant_issues_no_refresh_token() {
    let server = Server::start().await;
    let request = Request { scope: "openid offline_access", ..Request::native("/oauth2/ausmocktaes256000001") };
    let tokens = sign_in(&server, &request, None).await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
}

#[tokio::test]
async fn oidc_basic_credentials_with_reserved_characters_are_decoded_whole() {
    let server = Server::start().await;
    let request = Request::web("/oauth2");
    let (_, params) = authorize(&server, &client(), &request).await;
    // The secret followed by "&x", form-encoded as RFC 6749 §2.3.1 asks: it
    // must not authenticate as the bare secret.
    let header =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{WEB}:{WEB_SECRET}%26x")));
    let response = server
        .client
        .post(server.url("/oauth2/v1/token"))
        .header("Authorization", header)
        .form(&[("grant_type", "authorization_code"), ("code", &params["code"]), ("redirect_uri", WEB_REDIRECT)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn oidc_client_assertion_is_single_use_across_endpoints() {
    let server = Server::start().await;
    let introspect_url = server.url("/oauth2/default/v1/introspect");
    let assertion = client_assertion(&introspect_url, "jti-introspect");
    let send = || {
        server
            .client
            .post(&introspect_url)
            .form(&[
                ("token", "anything"),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", &assertion),
            ])
            .send()
    };
    assert_eq!(send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn oidc_prompt_login_and_max_age_zero_ask_again_despite_a_session() {
    let server = Server::start().await;
    let browser = client();
    authorize(&server, &browser, &Request::web("/oauth2")).await;
    for extra in [("prompt", "login"), ("max_age", "0")] {
        let request = Request { login: None, extra: vec![extra], ..Request::web("/oauth2") };
        let response = browser.get(request.url(&server)).send().await.unwrap();
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with("/login/mockta?pending="), "{extra:?}: {location}");
    }
    let request = Request { login: None, extra: vec![("max_age", "3600")], ..Request::web("/oauth2") };
    let (_, params) = authorize(&server, &browser, &request).await;
    assert!(params.contains_key("code"), "a fresh enough session is reused");
}

#[tokio::test]
async fn index_page_lists_oidc_clients_and_issuers() {
    let server = Server::start().await;
    let page = server.client.get(server.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("<code>{WEB}</code>")), "{page}");
    assert!(page.contains(&format!("{}/oauth2/default/.well-known/openid-configuration", server.url(""))), "{page}");
}
