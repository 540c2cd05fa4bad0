//! Features Okta's discovery documents advertise, over HTTP: the
//! `client_secret_jwt` client authentication, PKCE with S256 only, request
//! objects, pushed authorization requests, and a walk of each discovery
//! document checking that every endpoint and authentication method it names
//! is really served.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::oidc::{Request, WEB, WEB_SECRET, authorize, claims_of, exchange};
use crate::support::{Server, client};
use mock_idp::ids::AppId;
use mock_idp::org::SignOn;
use mock_idp::org::oidc::ClientAuthMethod;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Changes how an app authenticates at the token endpoint, as an admin would.
fn set_auth_method(server: &Server, app: &str, method: ClientAuthMethod) {
    let id = AppId::parse(app).unwrap();
    server.idp.write_org(|org| {
        let Some(SignOn::Oidc(settings)) = org.apps.get_mut(&id).map(|a| &mut a.sign_on) else {
            panic!("{app} is not an OIDC app");
        };
        settings.token_endpoint_auth_method = method;
    });
}

/// A unique enough assertion id: the walk sends one assertion per document.
fn now_nanos() -> i128 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// An HS256 client assertion for the web app, keyed by `secret`.
fn secret_assertion(secret: &str, audience: &str, jti: &str) -> String {
    let claims = json!({"iss": WEB, "sub": WEB, "aud": audience, "jti": jti, "exp": now() + 300, "iat": now()});
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

/// Exchanges a code for the web app, authenticating with a client assertion.
async fn exchange_with_assertion(server: &Server, code: &str, assertion: &str) -> reqwest::Response {
    server
        .client
        .post(server.url("/oauth2/default/v1/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", crate::oidc::WEB_REDIRECT),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
        ])
        .send()
        .await
        .unwrap()
}

async fn code_for(server: &Server, request: &Request<'_>) -> String {
    let (_, params) = authorize(server, &client(), request).await;
    params.get("code").unwrap_or_else(|| panic!("no code: {params:?}")).clone()
}

#[tokio::test]
async fn oidc_client_secret_jwt_exchange_succeeds_and_refuses_replay_and_wrong_key() {
    let server = Server::start().await;
    set_auth_method(&server, WEB, ClientAuthMethod::ClientSecretJwt);
    let token_url = server.url("/oauth2/default/v1/token");
    let request = Request::web("/oauth2/default");

    let assertion = secret_assertion(WEB_SECRET, &token_url, "secret-jti-1");
    let code = code_for(&server, &request).await;
    let response = exchange_with_assertion(&server, &code, &assertion).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(claims_of(tokens["id_token"].as_str().unwrap())["aud"], WEB);

    // The same assertion again: its jti was seen.
    let code = code_for(&server, &request).await;
    let replay = exchange_with_assertion(&server, &code, &assertion).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    let body: Value = replay.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client", "{body}");

    // Keyed by something other than the client secret.
    let wrong = secret_assertion("not-the-client-secret-at-all-000000", &token_url, "secret-jti-2");
    let refused = exchange_with_assertion(&server, &code, &wrong).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client", "{body}");

    // Once the app is configured for client_secret_jwt, Basic is refused.
    let basic = exchange(&server, "/oauth2/default", &code, &request, Some(WEB_SECRET)).await;
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn oidc_client_secret_jwt_is_refused_for_an_app_configured_for_basic() {
    let server = Server::start().await;
    let token_url = server.url("/oauth2/default/v1/token");
    let code = code_for(&server, &Request::web("/oauth2/default")).await;
    let assertion = secret_assertion(WEB_SECRET, &token_url, "secret-jti-basic");
    let response = exchange_with_assertion(&server, &code, &assertion).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": "invalid_client", "error_description": "Client authentication failed. Either the client or the client credentials are invalid."})
    );
}

#[tokio::test]
async fn oidc_client_secret_jwt_authenticates_introspection_and_revocation() {
    let server = Server::start().await;
    set_auth_method(&server, WEB, ClientAuthMethod::ClientSecretJwt);
    let request = Request::web("/oauth2/default");
    let code = code_for(&server, &request).await;
    let token_url = server.url("/oauth2/default/v1/token");
    let tokens: Value = exchange_with_assertion(&server, &code, &secret_assertion(WEB_SECRET, &token_url, "t-1"))
        .await
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let post = |endpoint: &'static str, jti: &'static str| {
        let url = server.url(&format!("/oauth2/default/v1/{endpoint}"));
        let assertion = secret_assertion(WEB_SECRET, &url, jti);
        server
            .client
            .post(url)
            .form(&[("token", access), ("client_assertion_type", JWT_BEARER), ("client_assertion", &assertion)])
            .send()
    };
    let introspected: Value = post("introspect", "i-1").await.unwrap().json().await.unwrap();
    assert_eq!(introspected["active"], true, "{introspected}");
    assert_eq!(post("revoke", "r-1").await.unwrap().status(), StatusCode::OK);
    let after: Value = post("introspect", "i-2").await.unwrap().json().await.unwrap();
    assert_eq!(after, json!({"active": false}));
}

#[tokio::test]
async fn oidc_pkce_plain_and_a_missing_method_are_refused_as_okta_supports_only_s256() {
    let server = Server::start().await;
    let challenge = crate::oidc::VERIFIER;
    for extra in
        [vec![("code_challenge", challenge), ("code_challenge_method", "plain")], vec![("code_challenge", challenge)]]
    {
        let request = Request { extra, ..Request::web("/oauth2/default") };
        let (_, params) = authorize(&server, &client(), &request).await;
        assert_eq!(params["error"], "invalid_request", "{params:?}");
        assert!(params["error_description"].contains("S256"), "{params:?}");
        assert_eq!(params["state"], "state-123");
        assert!(!params.contains_key("code"));
    }
}

/// An HS256 request object for the web app on the default server.
fn request_object(server: &Server, secret: &str, claims: Value) -> String {
    let mut claims = claims;
    claims["iss"] = json!(WEB);
    claims["aud"] = json!(server.url("/oauth2/default"));
    claims["exp"] = json!(now() + 300);
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

#[tokio::test]
async fn oidc_request_object_parameters_take_precedence_over_the_query() {
    let server = Server::start().await;
    let object = request_object(
        &server,
        WEB_SECRET,
        json!({"client_id": WEB, "response_type": "code", "state": "state-from-object", "nonce": "nonce-from-object", "scope": "openid email"}),
    );
    let request = Request { extra: vec![("request", &object)], ..Request::web("/oauth2/default") };
    let (_, params) = authorize(&server, &client(), &request).await;
    assert_eq!(params["state"], "state-from-object", "{params:?}");
    let response = exchange(&server, "/oauth2/default", &params["code"], &request, Some(WEB_SECRET)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["nonce"], "nonce-from-object");
    assert_eq!(tokens["scope"], "openid email");
}

#[tokio::test]
async fn oidc_request_object_with_a_bad_signature_or_a_replayed_jti_is_refused() {
    let server = Server::start().await;
    let forged = request_object(&server, "not-the-client-secret-at-all-000000", json!({"state": "forged"}));
    let request = Request { extra: vec![("request", &forged)], ..Request::web("/oauth2/default") };
    let (_, params) = authorize(&server, &client(), &request).await;
    assert_eq!(params["error"], "invalid_request_object", "{params:?}");
    assert_eq!(params["state"], "state-123", "the refusal goes back with the query's state");
    assert!(!params.contains_key("code"));

    let mismatched = request_object(&server, WEB_SECRET, json!({"client_id": crate::oidc::NATIVE}));
    let request = Request { extra: vec![("request", &mismatched)], ..Request::web("/oauth2/default") };
    let (_, params) = authorize(&server, &client(), &request).await;
    assert_eq!(params["error"], "invalid_request_object", "{params:?}");

    let once = request_object(&server, WEB_SECRET, json!({"jti": "request-object-1"}));
    let request = Request { extra: vec![("request", &once)], ..Request::web("/oauth2/default") };
    let (_, first) = authorize(&server, &client(), &request).await;
    assert!(first.contains_key("code"), "{first:?}");
    let (_, second) = authorize(&server, &client(), &request).await;
    assert_eq!(second["error"], "invalid_request_object", "{second:?}");
}

#[tokio::test]
async fn oidc_request_object_signed_with_a_registered_key_is_accepted() {
    let server = Server::start().await;
    register_service_key_on_web_app(&server);
    let key = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/keys/service-client.key.pem"))
        .unwrap();
    let claims = json!({"iss": WEB, "aud": server.url("/oauth2/default"), "exp": now() + 300, "state": "state-by-key"});
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("Ae1Fa9Xz_ete6z6SsEpivfeUBIuqG_PnO80lF2LJZKI".into());
    let object =
        jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_rsa_pem(key.as_bytes()).unwrap())
            .unwrap();
    let request = Request { extra: vec![("request", &object)], ..Request::web("/oauth2/default") };
    let (_, params) = authorize(&server, &client(), &request).await;
    assert!(params.contains_key("code"), "{params:?}");
    assert_eq!(params["state"], "state-by-key");

    // The same object for another server: its audience is not that issuer.
    let request = Request { extra: vec![("request", &object)], ..Request::web("/oauth2") };
    let (_, params) = authorize(&server, &client(), &request).await;
    assert_eq!(params["error"], "invalid_request_object", "{params:?}");
}

/// Registers the service client's public key on the web app, so that the web
/// app can sign with it (`private_key_jwt`, request objects).
fn register_service_key_on_web_app(server: &Server) {
    let service = AppId::parse("0oaservicejwt0000010").unwrap();
    let web = AppId::parse(WEB).unwrap();
    server.idp.write_org(|org| {
        let jwks = org.apps[&service].oidc().unwrap().jwks.clone();
        let Some(SignOn::Oidc(settings)) = org.apps.get_mut(&web).map(|a| &mut a.sign_on) else { panic!() };
        settings.jwks = jwks;
    });
}

async fn push(server: &Server, secret: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![
        ("response_type", "code"),
        ("redirect_uri", crate::oidc::WEB_REDIRECT),
        ("scope", "openid profile"),
        ("state", "pushed-state"),
        ("nonce", "pushed-nonce"),
        ("login_hint", "alice@acme.test"),
    ];
    // An extra parameter replaces the default of the same name.
    form.retain(|(name, _)| !extra.iter().any(|(extra_name, _)| extra_name == name));
    form.extend_from_slice(extra);
    server
        .client
        .post(server.url("/oauth2/default/v1/par"))
        .basic_auth(WEB, Some(secret))
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn oidc_pushed_authorization_request_round_trip_is_single_use() {
    let server = Server::start().await;
    let response = push(&server, WEB_SECRET, &[]).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let pushed: Value = response.json().await.unwrap();
    assert_eq!(pushed["expires_in"], 60);
    let request_uri = pushed["request_uri"].as_str().unwrap();
    assert!(request_uri.starts_with("urn:okta:"), "{pushed}");

    let url = |client_id: &str| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", client_id)
            .append_pair("request_uri", request_uri)
            .finish();
        server.url(&format!("/oauth2/default/v1/authorize?{query}"))
    };
    let browser = client();
    let first = browser.get(url(WEB)).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::FOUND);
    let params = crate::oidc::redirect_params(first.headers()["location"].to_str().unwrap());
    assert_eq!(params["state"], "pushed-state", "{params:?}");
    let request = Request::web("/oauth2/default");
    let tokens: Value =
        exchange(&server, "/oauth2/default", &params["code"], &request, Some(WEB_SECRET)).await.json().await.unwrap();
    assert_eq!(claims_of(tokens["id_token"].as_str().unwrap())["nonce"], "pushed-nonce");

    let again = browser.get(url(WEB)).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again.text().await.unwrap().contains("invalid_request_uri"));
}

#[tokio::test]
async fn oidc_pushed_authorization_request_refuses_bad_clients_and_requests() {
    let server = Server::start().await;
    let wrong_secret = push(&server, "not-the-secret", &[]).await;
    assert_eq!(wrong_secret.status(), StatusCode::UNAUTHORIZED);
    let body: Value = wrong_secret.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    let bad_scope = push(&server, WEB_SECRET, &[("scope", "openid mockta.nonsense")]).await;
    let body: Value = bad_scope.json().await.unwrap();
    assert_eq!(body["error"], "invalid_scope", "{body}");

    // A pushed request URI is bound to the client that pushed it.
    let pushed: Value = push(&server, WEB_SECRET, &[]).await.json().await.unwrap();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", crate::oidc::NATIVE)
        .append_pair("request_uri", pushed["request_uri"].as_str().unwrap())
        .finish();
    let other = client().get(server.url(&format!("/oauth2/default/v1/authorize?{query}"))).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::BAD_REQUEST);
}

/// A client assertion for the web app signed with the service client's key,
/// which the walk registers on the web app for `private_key_jwt`.
fn private_key_assertion(audience: &str, jti: &str) -> String {
    let key = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/keys/service-client.key.pem"))
        .unwrap();
    let claims = json!({"iss": WEB, "sub": WEB, "aud": audience, "jti": jti, "exp": now() + 300, "iat": now()});
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("Ae1Fa9Xz_ete6z6SsEpivfeUBIuqG_PnO80lF2LJZKI".into());
    jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_rsa_pem(key.as_bytes()).unwrap()).unwrap()
}

/// Signs in and exchanges the code with one client authentication method.
async fn exchange_with_method(server: &Server, base: &str, method: &str, token_endpoint: &str) -> reqwest::Response {
    let web = Request::web(base);
    let native = Request::native(base);
    let request = if method == "none" { &native } else { &web };
    let code = code_for(server, request).await;
    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code),
        ("redirect_uri", request.redirect.to_owned()),
    ];
    let mut builder = server.client.post(token_endpoint);
    match method {
        "client_secret_basic" => builder = builder.basic_auth(WEB, Some(WEB_SECRET)),
        "client_secret_post" => {
            form.push(("client_id", WEB.to_owned()));
            form.push(("client_secret", WEB_SECRET.to_owned()));
        }
        "client_secret_jwt" | "private_key_jwt" => {
            let jti = format!("walk-{method}-{}", now_nanos());
            let assertion = if method == "client_secret_jwt" {
                secret_assertion(WEB_SECRET, token_endpoint, &jti)
            } else {
                private_key_assertion(token_endpoint, &jti)
            };
            form.push(("client_assertion_type", JWT_BEARER.to_owned()));
            form.push(("client_assertion", assertion));
        }
        "none" => {
            form.push(("client_id", crate::oidc::NATIVE.to_owned()));
            form.push(("code_verifier", crate::oidc::VERIFIER.to_owned()));
        }
        other => panic!("the discovery document advertises an authentication method the walk does not know: {other}"),
    }
    builder.form(&form).send().await.unwrap()
}

#[tokio::test]
async fn oidc_every_endpoint_and_auth_method_the_discovery_documents_advertise_is_served() {
    let server = Server::start().await;
    // The web app gets the service client's public key, so that it can use
    // private_key_jwt when the walk reaches it.
    register_service_key_on_web_app(&server);
    let documents = [
        ("/oauth2", "/.well-known/openid-configuration"),
        ("/oauth2/default", "/oauth2/default/.well-known/openid-configuration"),
        ("/oauth2/default", "/oauth2/default/.well-known/oauth-authorization-server"),
    ];
    for (base, path) in documents {
        let document: Value = server.client.get(server.url(path)).send().await.unwrap().json().await.unwrap();
        let endpoints: Vec<(&String, &str)> = document
            .as_object()
            .unwrap()
            .iter()
            .filter(|(key, _)| key.ends_with("_endpoint") || key.as_str() == "jwks_uri")
            .map(|(key, value)| (key, value.as_str().unwrap()))
            .collect();
        assert!(endpoints.len() >= 7, "{path}: {endpoints:?}");
        for (key, url) in endpoints {
            let get = server.client.get(url).send().await.unwrap().status();
            let post = server.client.post(url).send().await.unwrap().status();
            assert!(
                get != StatusCode::NOT_FOUND && post != StatusCode::NOT_FOUND,
                "{path}: {key} {url} is not served (GET {get}, POST {post})"
            );
        }
        let token_endpoint = document["token_endpoint"].as_str().unwrap();
        for method in document["token_endpoint_auth_methods_supported"].as_array().unwrap() {
            let method = method.as_str().unwrap();
            let configured = match method {
                "client_secret_basic" => ClientAuthMethod::ClientSecretBasic,
                "client_secret_post" => ClientAuthMethod::ClientSecretPost,
                "client_secret_jwt" => ClientAuthMethod::ClientSecretJwt,
                "private_key_jwt" => ClientAuthMethod::PrivateKeyJwt,
                _ => ClientAuthMethod::ClientSecretBasic,
            };
            set_auth_method(&server, WEB, configured);
            let response = exchange_with_method(&server, base, method, token_endpoint).await;
            let status = response.status();
            let body = response.text().await.unwrap();
            assert_eq!(status, StatusCode::OK, "{path}: {method} at {token_endpoint}: {body}");
        }
    }
}
