//! Properties of the OIDC endpoints: any parameter set gets a protocol
//! answer (a redirect, an error page, or an OAuth error), never a 500.

use proptest::prelude::*;
use reqwest::StatusCode;
use serde_json::Value;

use crate::oidc::{NATIVE, NATIVE_REDIRECT, VERIFIER, WEB, WEB_REDIRECT, challenge};
use crate::support::Server;

const NAMES: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "grant_type",
    "code",
    "code_verifier",
    "refresh_token",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "token",
];

/// Values that reach deep into validation, mixed with arbitrary text.
fn value() -> impl Strategy<Value = String> {
    let known = vec![
        NATIVE.to_owned(),
        WEB.to_owned(),
        NATIVE_REDIRECT.to_owned(),
        WEB_REDIRECT.to_owned(),
        "code".to_owned(),
        "openid profile email offline_access".to_owned(),
        "openid".to_owned(),
        "none".to_owned(),
        "login".to_owned(),
        "form_post".to_owned(),
        "S256".to_owned(),
        "plain".to_owned(),
        challenge(VERIFIER),
        VERIFIER.to_owned(),
        "alice@acme.test".to_owned(),
        "authorization_code".to_owned(),
        "refresh_token".to_owned(),
        "client_credentials".to_owned(),
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
        "eyJhbGciOiJub25lIn0.e30.".to_owned(),
        "-1".to_owned(),
        "99999999999999999999".to_owned(),
    ];
    prop_oneof![proptest::sample::select(known), ".{0,40}", "[\\x00-\\x7f]{0,200}"]
}

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec((proptest::sample::select(NAMES).prop_map(str::to_owned), value()), 0..12)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn prop_authorize_answers_every_parameter_set_with_a_protocol_response() {
    let runtime = runtime();
    let server = runtime.block_on(Server::start());
    static BASES: [&str; 3] = ["/oauth2/v1", "/oauth2/default/v1", "/oauth2/ausmocktaes256000001/v1"];
    proptest!(ProptestConfig::with_cases(96), |(pairs in params(), base in proptest::sample::select(&BASES[..]), post in any::<bool>())| {
        let url = server.url(&format!("{base}/authorize"));
        let response = runtime.block_on(async {
            if post {
                server.client.post(&url).form(&pairs).send().await.unwrap()
            } else {
                server.client.get(&url).query(&pairs).send().await.unwrap()
            }
        });
        let status = response.status();
        prop_assert!(
            matches!(status, StatusCode::FOUND | StatusCode::SEE_OTHER | StatusCode::OK | StatusCode::BAD_REQUEST),
            "{status} for {pairs:?}"
        );
        if status == StatusCode::FOUND {
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            let registered = [NATIVE_REDIRECT, WEB_REDIRECT, "com.acme.native:/callback"];
            prop_assert!(
                location.starts_with("/login/mockta") || registered.iter().any(|r| location.starts_with(r)),
                "a redirect only ever goes to a registered URI: {location}"
            );
        }
    });
}

#[test]
fn prop_token_answers_every_parameter_set_with_an_oauth_error_or_tokens() {
    let runtime = runtime();
    let server = runtime.block_on(Server::start());
    static BASES: [&str; 2] = ["/oauth2/v1", "/oauth2/default/v1"];
    static ENDPOINTS: [&str; 3] = ["token", "introspect", "revoke"];
    proptest!(ProptestConfig::with_cases(96), |(
        pairs in params(),
        base in proptest::sample::select(&BASES[..]),
        endpoint in proptest::sample::select(&ENDPOINTS[..]),
        basic in proptest::option::of((value(), value())),
    )| {
        let url = server.url(&format!("{base}/{endpoint}"));
        let (status, body) = runtime.block_on(async {
            let mut request = server.client.post(&url).form(&pairs);
            if let Some((id, secret)) = &basic {
                request = request.basic_auth(id, Some(secret));
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            (status, response.text().await.unwrap())
        });
        prop_assert!(status.as_u16() < 500, "{status} for {pairs:?}: {body}");
        if status.is_client_error() {
            let json: Value = serde_json::from_str(&body).unwrap();
            prop_assert!(json.get("error").is_some() || json.get("errorCode").is_some(), "{body}");
        }
    });
}
