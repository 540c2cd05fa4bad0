//! The SCIM API's own OAuth 2.0 authorization server over HTTP:
//! `/oauth/scim/{tenant}/authorize` and `/token` (authorization code and
//! refresh token grants, RFC 6749's errors), the redirect URI allow-list
//! Okta's OIN test plan requires, consent by the tenant's break-glass admin
//! or `auto_approve`, and the SCIM API accepting the access tokens until
//! they expire on the SP's clock.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use reference_sp::clock::Clock;
use reference_sp::http::RunningSp;
use reference_sp::sp::{Sp, hash_token};
use reference_sp::store::sqlite::SqliteStore;
use serde_json::Value;
use time::OffsetDateTime;

const CALLBACK: &str = "https://okta.test/admin/app/cpc/acme-scim/oauth/callback";
const CLIENT_ID: &str = "okta-provisioning";
const CLIENT_SECRET: &str = "a client secret";
const ADMIN: (&str, &str) = ("breakglass@acme.test", "test-breakglass-password");

/// A clock the test moves by hand.
struct SteppedClock(AtomicI64);

impl Clock for SteppedClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0.load(Ordering::SeqCst)).unwrap()
    }
}

struct OAuthSp {
    server: RunningSp,
    clock: Arc<SteppedClock>,
    _dir: tempfile::TempDir,
}

impl OAuthSp {
    async fn start(auto_approve: bool) -> OAuthSp {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            r#"
[server]
listen = "127.0.0.1:0"
base_url = "http://sp.test"
database = "{db}"

[[tenants]]
id = "acme"
oidc = {{ issuer = "http://idp.test", client_id = "c", client_auth = "client_secret_basic", client_secret = "oidc-secret" }}
allowed_email_domains = ["acme.test"]
provisioning = "jit"
break_glass = {{ email = "{admin}", password = "{password}" }}

[tenants.scim]
token = "static-scim-token"

[tenants.scim.oauth]
client_id = "{CLIENT_ID}"
client_secret_hash = "{secret_hash}"
redirect_uris = ["{CALLBACK}"]
access_token_lifetime_seconds = 600
refresh_token_lifetime_seconds = 86400
auto_approve = {auto_approve}
"#,
            db = dir.path().join("sp.sqlite3").display(),
            admin = ADMIN.0,
            password = ADMIN.1,
            secret_hash = hash_token(CLIENT_SECRET),
        );
        let config = reference_sp::config::parse_config("test.toml", &config, dir.path()).unwrap();
        let store = SqliteStore::open(&config.database).unwrap();
        let clock = Arc::new(SteppedClock(AtomicI64::new(1_700_000_000)));
        let sp = Arc::new(Sp::new(config, Arc::new(store), BTreeSet::new(), clock.clone()).unwrap());
        let server = RunningSp::start("127.0.0.1:0".parse().unwrap(), sp).await.unwrap();
        OAuthSp { server, clock, _dir: dir }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    fn advance(&self, seconds: i64) {
        self.clock.0.fetch_add(seconds, Ordering::SeqCst);
    }

    /// A client that does not follow redirects, as a test of them needs.
    fn client() -> reqwest::Client {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    fn authorize_url(&self, client_id: &str, redirect_uri: &str, response_type: &str) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", response_type)
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "scim")
            .append_pair("state", "the-state")
            .finish();
        self.url(&format!("/oauth/scim/acme/authorize?{query}"))
    }

    /// Authorizes (as the admin when asked) and returns the code.
    async fn code(&self, as_admin: bool) -> String {
        let mut request = Self::client().get(self.authorize_url(CLIENT_ID, CALLBACK, "code"));
        if as_admin {
            request = request.basic_auth(ADMIN.0, Some(ADMIN.1));
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 302);
        let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        assert!(location.as_str().starts_with(CALLBACK), "{location}");
        let query: std::collections::HashMap<String, String> = location.query_pairs().into_owned().collect();
        assert_eq!(query.get("state").map(String::as_str), Some("the-state"));
        query["code"].clone()
    }

    async fn token(&self, form: &[(&str, &str)], secret: &str) -> (u16, Value) {
        let response = Self::client()
            .post(self.url("/oauth/scim/acme/token"))
            .basic_auth(CLIENT_ID, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        if status == 200 {
            assert_eq!(response.headers()["cache-control"], "no-store");
        }
        (status, response.json().await.unwrap())
    }

    async fn redeem(&self, code: &str) -> Value {
        let (status, body) = self
            .token(&[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CALLBACK)], CLIENT_SECRET)
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn scim_status(&self, access_token: &str) -> u16 {
        Self::client()
            .get(self.url("/scim/v2/acme/Users?startIndex=1&count=2"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

#[tokio::test]
async fn the_code_flow_gives_tokens_the_scim_api_takes_until_they_expire_and_refresh_rotates_them() {
    let sp = OAuthSp::start(true).await;
    let code = sp.code(false).await;
    let tokens = sp.redeem(&code).await;
    assert_eq!((tokens["token_type"].as_str(), tokens["expires_in"].as_u64()), (Some("Bearer"), Some(600)));
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(sp.scim_status(&access).await, 200);
    assert_eq!(sp.scim_status("static-scim-token").await, 200, "the static token still works");
    assert_eq!(sp.scim_status("not-a-token").await, 401);

    // The code is single-use.
    let (status, again) = sp
        .token(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CALLBACK)], CLIENT_SECRET)
        .await;
    assert_eq!((status, again["error"].as_str()), (400, Some("invalid_grant")));

    // Ten minutes on the SP's clock: the access token has expired.
    sp.advance(600);
    assert_eq!(sp.scim_status(&access).await, 401);
    let (status, rotated) =
        sp.token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)], CLIENT_SECRET).await;
    assert_eq!(status, 200, "{rotated}");
    let new_access = rotated["access_token"].as_str().unwrap().to_owned();
    let new_refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(new_refresh, refresh, "the refresh token rotates");
    assert_eq!(sp.scim_status(&new_access).await, 200);

    // The rotated refresh token presented again is a replay: the whole
    // grant is revoked.
    let (status, replay) =
        sp.token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)], CLIENT_SECRET).await;
    assert_eq!((status, replay["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(sp.scim_status(&new_access).await, 401);
    let (status, _) =
        sp.token(&[("grant_type", "refresh_token"), ("refresh_token", &new_refresh)], CLIENT_SECRET).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_authorize_endpoint_never_redirects_to_a_uri_off_the_allow_list() {
    let sp = OAuthSp::start(true).await;
    for (client, redirect) in [
        (CLIENT_ID, "https://evil.test/admin/app/cpc/acme-scim/oauth/callback"),
        (CLIENT_ID, "https://okta.test/admin/app/cpc/acme-scim/oauth/callback/extra"),
        ("someone-else", CALLBACK),
    ] {
        let response = OAuthSp::client().get(sp.authorize_url(client, redirect, "code")).send().await.unwrap();
        assert_eq!(response.status(), 400, "{client} {redirect}");
        assert!(response.headers().get("location").is_none(), "never redirected");
        assert!(response.headers()["x-error-code"].to_str().unwrap().starts_with("oauth."));
    }
    // A wrong response type goes back to the allowed URI with the error.
    let response = OAuthSp::client().get(sp.authorize_url(CLIENT_ID, CALLBACK, "token")).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(&format!("{CALLBACK}?error=unsupported_response_type")), "{location}");
    assert!(location.ends_with("&state=the-state"), "{location}");
    // A tenant without the server has nothing there.
    let response =
        OAuthSp::client().get(sp.url("/oauth/scim/nobody/authorize?response_type=code")).send().await.unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn without_auto_approve_the_tenants_admin_must_approve() {
    let sp = OAuthSp::start(false).await;
    let response = OAuthSp::client().get(sp.authorize_url(CLIENT_ID, CALLBACK, "code")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic "));
    let wrong = OAuthSp::client()
        .get(sp.authorize_url(CLIENT_ID, CALLBACK, "code"))
        .basic_auth(ADMIN.0, Some("wrong password"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let code = sp.code(true).await;
    let tokens = sp.redeem(&code).await;
    assert_eq!(sp.scim_status(tokens["access_token"].as_str().unwrap()).await, 200);
}

#[tokio::test]
async fn token_requests_are_refused_with_rfc_6749_errors() {
    let sp = OAuthSp::start(true).await;
    let code = sp.code(false).await;
    let response = OAuthSp::client()
        .post(sp.url("/oauth/scim/acme/token"))
        .basic_auth(CLIENT_ID, Some("wrong secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=authorization_code&code={code}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic "));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    // A form, then the status and RFC 6749 error it must get.
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, &'a str);
    let cases: [Case; 5] = [
        (
            &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", "https://okta.test/other")],
            400,
            "invalid_grant",
        ),
        (
            &[("grant_type", "authorization_code"), ("code", "made-up"), ("redirect_uri", CALLBACK)],
            400,
            "invalid_grant",
        ),
        (&[("grant_type", "password"), ("username", "a")], 400, "unsupported_grant_type"),
        (&[("grant_type", "refresh_token"), ("grant_type", "refresh_token")], 400, "invalid_request"),
        (&[("code", "x")], 400, "invalid_request"),
    ];
    for (form, status, error) in cases {
        let (got, body) = sp.token(form, CLIENT_SECRET).await;
        assert_eq!((got, body["error"].as_str()), (status, Some(error)), "{form:?}: {body}");
        assert!(body["error_description"].is_string());
    }
    // The code met a wrong redirect_uri above, which used it up.
    let (status, _) = sp
        .token(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CALLBACK)], CLIENT_SECRET)
        .await;
    assert_eq!(status, 400);
    // A code waits 60 seconds at most.
    let late = sp.code(false).await;
    sp.advance(61);
    let (status, body) = sp
        .token(&[("grant_type", "authorization_code"), ("code", &late), ("redirect_uri", CALLBACK)], CLIENT_SECRET)
        .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
}

#[test]
fn the_oauth_table_is_checked_and_names_its_field() {
    let with = |oauth: &str| {
        let text = format!(
            "[server]\nbase_url = \"http://sp.test\"\n[[tenants]]\nid = \"acme\"\noidc = {{ issuer = \"http://idp.test\", client_id = \"c\", client_auth = \"client_secret_basic\", client_secret = \"oidc-secret\" }}\nprovisioning = \"jit\"\nbreak_glass = {{ email = \"a@acme.test\", password = \"a-long-password\" }}\n[tenants.scim]\ntoken = \"static-scim-token\"\n[tenants.scim.oauth]\n{oauth}\n"
        );
        reference_sp::config::parse_config("sp.toml", &text, std::path::Path::new("."))
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let hash = hash_token("x");
    assert_eq!(
        with(&format!("client_id = \"okta\"\nclient_secret_hash = \"{hash}\"\nredirect_uris = [\"{CALLBACK}\"]")),
        Ok(())
    );
    let bad_hash =
        with(&format!("client_id = \"okta\"\nclient_secret_hash = \"plain secret\"\nredirect_uris = [\"{CALLBACK}\"]"));
    assert!(bad_hash.as_ref().is_err_and(|e| e.contains("tenants[0].scim.oauth.client_secret_hash")), "{bad_hash:?}");
    let relative =
        with(&format!("client_id = \"okta\"\nclient_secret_hash = \"{hash}\"\nredirect_uris = [\"/callback\"]"));
    assert!(relative.as_ref().is_err_and(|e| e.contains("scim.oauth.redirect_uris")), "{relative:?}");
    let none = with(&format!("client_id = \"okta\"\nclient_secret_hash = \"{hash}\"\nredirect_uris = []"));
    assert!(none.is_err());
}
