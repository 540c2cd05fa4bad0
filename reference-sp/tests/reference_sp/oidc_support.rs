//! A small, independent OpenID provider for the relying-party tests: an
//! axum server on port 0 with discovery, a JWKS, `/authorize` (which
//! answers at once with a code), `/token` (checking the client's
//! authentication and PKCE), `/userinfo` and `/logout`. Its keys are made
//! here with OpenSSL and its tokens signed with jsonwebtoken, so the SP is
//! checked against an implementation that shares no code with it. Tests
//! change what it does through [`OpState`].

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use reference_sp::clock::Clock;
use reference_sp::flaws::Flaw;
use reference_sp::http::RunningSp;
use reference_sp::sp::Sp;
use reference_sp::store::sqlite::SqliteStore;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

pub(crate) const CLIENT_ID: &str = "0oa-test-client";
pub(crate) const CLIENT_SECRET: &str = "test-client-secret";
pub(crate) const SUBJECT: &str = "00u-alice";
pub(crate) const EMAIL: &str = "alice@acme.test";

/// A signing key and its public JWK.
pub(crate) struct TestKey {
    pub kid: String,
    pub algorithm: Algorithm,
    pub encoding: EncodingKey,
    pub jwk: Value,
    pub private_pem: String,
    /// SPKI PEM, LF line ends (what OpenSSL writes).
    pub public_pem: String,
}

fn rsa_key(kid: &str) -> TestKey {
    let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
    let n = URL_SAFE_NO_PAD.encode(rsa.n().to_vec());
    let e = URL_SAFE_NO_PAD.encode(rsa.e().to_vec());
    let key = openssl::pkey::PKey::from_rsa(rsa).unwrap();
    let private_pem = String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    TestKey {
        kid: kid.into(),
        algorithm: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap(),
        jwk: json!({"kty": "RSA", "alg": "RS256", "kid": kid, "use": "sig", "e": e, "n": n}),
        private_pem,
        public_pem: String::from_utf8(key.public_key_to_pem().unwrap()).unwrap(),
    }
}

fn ec_key(kid: &str) -> TestKey {
    let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
    let ec = openssl::ec::EcKey::generate(&group).unwrap();
    let mut context = openssl::bn::BigNumContext::new().unwrap();
    let (mut x, mut y) = (openssl::bn::BigNum::new().unwrap(), openssl::bn::BigNum::new().unwrap());
    ec.public_key().affine_coordinates(&group, &mut x, &mut y, &mut context).unwrap();
    let coordinate = |n: &openssl::bn::BigNum| URL_SAFE_NO_PAD.encode(n.to_vec_padded(32).unwrap());
    let key = openssl::pkey::PKey::from_ec_key(ec).unwrap();
    let private_pem = String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    TestKey {
        kid: kid.into(),
        algorithm: Algorithm::ES256,
        encoding: EncodingKey::from_ec_pem(private_pem.as_bytes()).unwrap(),
        jwk: json!({"kty": "EC", "alg": "ES256", "kid": kid, "use": "sig", "crv": "P-256", "x": coordinate(&x), "y": coordinate(&y)}),
        private_pem,
        public_pem: String::from_utf8(key.public_key_to_pem().unwrap()).unwrap(),
    }
}

macro_rules! cached_key {
    ($name:ident, $make:expr) => {
        pub(crate) fn $name() -> &'static TestKey {
            static KEY: OnceLock<TestKey> = OnceLock::new();
            KEY.get_or_init(|| $make)
        }
    };
}

cached_key!(provider_key, rsa_key("key-one"));
cached_key!(next_provider_key, rsa_key("key-two"));
cached_key!(provider_ec_key, ec_key("ec-one"));
cached_key!(attacker_key, rsa_key("key-one"));
cached_key!(client_key, rsa_key("client-key"));

/// How the provider signs its next ID tokens.
#[derive(Clone, Debug)]
pub(crate) enum Signing {
    /// With this key, `alg` and `kid` from it.
    Key(&'static TestKey),
    /// HMAC-SHA256 with this secret, `alg: HS256`.
    Hmac(Vec<u8>),
    /// No signature; `alg` is what the header edit says (default `none`).
    Unsigned,
}

/// Signs a compact JWS over exactly this header and these claims.
pub(crate) fn sign_jws(header: &Map<String, Value>, claims: &Map<String, Value>, signing: &Signing) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
    );
    let signature = match signing {
        Signing::Key(key) => jsonwebtoken::crypto::sign(input.as_bytes(), &key.encoding, key.algorithm).unwrap(),
        Signing::Hmac(secret) => {
            jsonwebtoken::crypto::sign(input.as_bytes(), &EncodingKey::from_secret(secret), Algorithm::HS256).unwrap()
        }
        Signing::Unsigned => String::new(),
    };
    format!("{input}.{signature}")
}

/// The header a signing choice gives.
pub(crate) fn header_for(signing: &Signing) -> Map<String, Value> {
    let value = match signing {
        Signing::Key(key) => json!({"kid": key.kid, "alg": format!("{:?}", key.algorithm)}),
        Signing::Hmac(_) => json!({"kid": provider_key().kid, "alg": "HS256"}),
        Signing::Unsigned => json!({"alg": "none"}),
    };
    value.as_object().cloned().unwrap()
}

pub(crate) fn at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16])
}

/// How the client must authenticate at `/token`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    Basic,
    Post,
    PrivateKeyJwt,
    None,
}

/// An edit of the next tokens' header and claims.
pub(crate) type TokenEdit = Arc<dyn Fn(&mut Map<String, Value>, &mut Map<String, Value>) + Send + Sync>;

struct Grant {
    nonce: Option<String>,
    challenge: String,
    method: String,
    redirect_uri: String,
}

/// What the provider does; tests change it between requests.
pub(crate) struct OpState {
    pub issuer: String,
    pub clock: Arc<TestClock>,
    pub client_auth: ClientAuth,
    /// The keys the JWKS publishes.
    pub published: Mutex<Vec<&'static TestKey>>,
    pub signing: Mutex<Signing>,
    pub token_edit: Mutex<Option<TokenEdit>>,
    pub jwks_cache_control: Mutex<Option<String>>,
    pub jwks_fetches: AtomicUsize,
    pub discovery_fetches: AtomicUsize,
    /// Replaces the discovery document's `issuer`.
    pub discovery_issuer: Mutex<Option<String>>,
    /// Replaces userinfo's `sub` (and answers mallory's email with it).
    pub userinfo_subject: Mutex<Option<String>>,
    /// The claims of the last ID token, which userinfo echoes.
    last_claims: Mutex<Map<String, Value>>,
    /// Every `/authorize` query, in order.
    pub authorize_requests: Mutex<Vec<HashMap<String, String>>>,
    /// Every accepted `/token` form, in order.
    pub token_requests: Mutex<Vec<HashMap<String, String>>>,
    grants: Mutex<HashMap<String, Grant>>,
    /// The refresh tokens that may be redeemed; each is used once (rotation).
    refresh_tokens: Mutex<BTreeSet<String>>,
    next: AtomicUsize,
}

/// A clock the test moves; the SP and the provider share it.
pub(crate) struct TestClock(Mutex<OffsetDateTime>);

impl std::fmt::Debug for TestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestKey").field("kid", &self.kid).field("algorithm", &self.algorithm).finish()
    }
}

impl TestClock {
    pub(crate) fn advance(&self, by: time::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

impl OpState {
    pub(crate) fn set_edit(
        &self,
        edit: impl Fn(&mut Map<String, Value>, &mut Map<String, Value>) + Send + Sync + 'static,
    ) {
        *self.token_edit.lock().unwrap() = Some(Arc::new(edit));
    }

    fn mint(&self, client_id: &str, nonce: Option<&str>, access_token: &str) -> String {
        let now = self.clock.now().unix_timestamp();
        let signing = self.signing.lock().unwrap().clone();
        let mut header = header_for(&signing);
        let mut claims = json!({
            "sub": SUBJECT, "email": EMAIL, "email_verified": true, "given_name": "Alice", "family_name": "Liddell",
            "iss": self.issuer, "aud": client_id, "iat": now, "exp": now + 3600,
            "nonce": nonce, "at_hash": at_hash(access_token), "groups": ["Everyone"],
        })
        .as_object()
        .cloned()
        .unwrap();
        if nonce.is_none() {
            claims.remove("nonce");
        }
        if let Some(edit) = self.token_edit.lock().unwrap().clone() {
            edit(&mut header, &mut claims);
        }
        *self.last_claims.lock().unwrap() = claims.clone();
        sign_jws(&header, &claims, &signing)
    }
}

async fn discovery(State(op): State<Arc<OpState>>) -> Response {
    op.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    let issuer = op.discovery_issuer.lock().unwrap().clone().unwrap_or_else(|| op.issuer.clone());
    let base = &op.issuer;
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "jwks_uri": format!("{base}/keys"),
        "end_session_endpoint": format!("{base}/logout"),
    }))
    .into_response()
}

async fn keys(State(op): State<Arc<OpState>>) -> Response {
    op.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let keys: Vec<Value> = op.published.lock().unwrap().iter().map(|k| k.jwk.clone()).collect();
    let mut response = axum::Json(json!({ "keys": keys })).into_response();
    if let Some(cache_control) = op.jwks_cache_control.lock().unwrap().clone() {
        response.headers_mut().insert(header::CACHE_CONTROL, cache_control.parse().unwrap());
    }
    response
}

async fn authorize(State(op): State<Arc<OpState>>, Query(query): Query<HashMap<String, String>>) -> Response {
    op.authorize_requests.lock().unwrap().push(query.clone());
    let code = format!("code-{}", op.next.fetch_add(1, Ordering::SeqCst));
    op.grants.lock().unwrap().insert(
        code.clone(),
        Grant {
            nonce: query.get("nonce").cloned(),
            challenge: query.get("code_challenge").cloned().unwrap_or_default(),
            method: query.get("code_challenge_method").cloned().unwrap_or_default(),
            redirect_uri: query["redirect_uri"].clone(),
        },
    );
    let mut location = url::Url::parse(&query["redirect_uri"]).unwrap();
    location.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = query.get("state") {
        location.query_pairs_mut().append_pair("state", state);
    }
    (StatusCode::FOUND, [(header::LOCATION, location.to_string())]).into_response()
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(json!({"error": error, "error_description": error}))).into_response()
}

/// Checks the client's authentication as the provider was told to expect.
fn client_authenticated(op: &OpState, headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let basic = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Basic "));
    match op.client_auth {
        ClientAuth::Basic => basic
            .and_then(|b| STANDARD.decode(b).ok())
            .is_some_and(|d| d == format!("{CLIENT_ID}:{CLIENT_SECRET}").as_bytes()),
        ClientAuth::Post => {
            basic.is_none()
                && form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
        }
        ClientAuth::PrivateKeyJwt => {
            let Some(assertion) = form.get("client_assertion") else { return false };
            let key = jsonwebtoken::DecodingKey::from_rsa_pem(client_key().public_pem.as_bytes()).unwrap();
            let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
            validation.set_audience(&[format!("{}/token", op.issuer)]);
            validation.set_issuer(&[CLIENT_ID]);
            validation.validate_exp = false;
            form.get("client_assertion_type").map(String::as_str)
                == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                && jsonwebtoken::decode::<Value>(assertion, &key, &validation)
                    .is_ok_and(|data| data.claims["sub"] == CLIENT_ID && data.claims["jti"].is_string())
        }
        ClientAuth::None => {
            basic.is_none()
                && form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                && !form.contains_key("client_secret")
        }
    }
}

async fn token(
    State(op): State<Arc<OpState>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !client_authenticated(&op, &headers, &form) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if form.get("grant_type").map(String::as_str) == Some("refresh_token") {
        // A refresh: the token is used up and a new one issued (rotation);
        // the ID token carries no nonce (OpenID Connect Core 12.2).
        let redeemed = form.get("refresh_token").is_some_and(|t| op.refresh_tokens.lock().unwrap().remove(t));
        if !redeemed {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
        }
        op.token_requests.lock().unwrap().push(form.clone());
        let access_token = format!("access-{}", op.next.fetch_add(1, Ordering::SeqCst));
        let refresh_token = format!("refresh-{}", op.next.fetch_add(1, Ordering::SeqCst));
        op.refresh_tokens.lock().unwrap().insert(refresh_token.clone());
        let id_token = op.mint(CLIENT_ID, None, &access_token);
        return axum::Json(json!({"token_type": "Bearer", "expires_in": 3600, "access_token": access_token,
            "id_token": id_token, "refresh_token": refresh_token}))
        .into_response();
    }
    let Some(grant) = form.get("code").and_then(|c| op.grants.lock().unwrap().remove(c)) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let pkce_ok = grant.method == "S256"
        && (43..=128).contains(&verifier.len())
        && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == grant.challenge;
    if !pkce_ok || form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    op.token_requests.lock().unwrap().push(form.clone());
    let access_token = format!("access-{}", op.next.fetch_add(1, Ordering::SeqCst));
    let id_token = op.mint(CLIENT_ID, grant.nonce.as_deref(), &access_token);
    // Every code exchange offers a refresh token; the SP keeps it only when
    // its tenant asks for offline_access.
    let refresh_token = format!("refresh-{}", op.next.fetch_add(1, Ordering::SeqCst));
    op.refresh_tokens.lock().unwrap().insert(refresh_token.clone());
    axum::Json(json!({"token_type": "Bearer", "expires_in": 3600, "access_token": access_token, "id_token": id_token,
        "refresh_token": refresh_token}))
    .into_response()
}

async fn userinfo(State(op): State<Arc<OpState>>, headers: HeaderMap) -> Response {
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !bearer.starts_with("Bearer access-") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Some(subject) = op.userinfo_subject.lock().unwrap().clone() {
        return axum::Json(json!({"sub": subject, "email": "mallory@acme.test", "email_verified": true}))
            .into_response();
    }
    let claims = op.last_claims.lock().unwrap().clone();
    let echoed: Map<String, Value> = ["sub", "email", "email_verified", "given_name"]
        .into_iter()
        .filter_map(|name| Some((name.to_owned(), claims.get(name)?.clone())))
        .collect();
    axum::Json(Value::Object(echoed)).into_response()
}

/// Serves keys published at an attacker's URL (the `jku` tests).
async fn attacker_keys() -> Response {
    axum::Json(json!({"keys": [attacker_key().jwk]})).into_response()
}

/// A running provider and a running SP whose tenant `acme` signs in with
/// it by OIDC only, and whose tenant `beta` signs in with it too (with a
/// redirect path of its own).
pub(crate) struct OidcHarness {
    pub op: Arc<OpState>,
    pub sp: RunningSp,
    _dir: tempfile::TempDir,
}

/// Options for [`OidcHarness::start_with`].
#[derive(Clone)]
pub(crate) struct HarnessOptions {
    pub client_auth: ClientAuth,
    pub flaws: Vec<Flaw>,
    pub algorithm: &'static str,
    pub link_accounts_by_verified_email: bool,
    /// Tenant `acme` asks for `offline_access`, so it keeps refresh tokens.
    pub offline_access: bool,
    /// More keys for tenant `acme`, one TOML line each (such as its
    /// `roles` and `role_claim`).
    pub acme_extra: String,
}

impl Default for HarnessOptions {
    fn default() -> Self {
        HarnessOptions {
            client_auth: ClientAuth::Basic,
            flaws: Vec::new(),
            algorithm: "RS256",
            link_accounts_by_verified_email: false,
            offline_access: false,
            acme_extra: String::new(),
        }
    }
}

impl OidcHarness {
    pub(crate) async fn start(flaws: &[Flaw]) -> OidcHarness {
        Self::start_with(HarnessOptions { flaws: flaws.to_vec(), ..HarnessOptions::default() }).await
    }

    pub(crate) async fn start_with(options: HarnessOptions) -> OidcHarness {
        let op_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", op_listener.local_addr().unwrap());
        let clock = Arc::new(TestClock(Mutex::new(OffsetDateTime::now_utc().replace_nanosecond(0).unwrap())));
        let first_key = if options.algorithm == "ES256" { provider_ec_key() } else { provider_key() };
        let op = Arc::new(OpState {
            issuer: issuer.clone(),
            clock: clock.clone(),
            client_auth: options.client_auth,
            published: Mutex::new(vec![first_key]),
            signing: Mutex::new(Signing::Key(first_key)),
            token_edit: Mutex::new(None),
            jwks_cache_control: Mutex::new(Some("max-age=3600".into())),
            jwks_fetches: AtomicUsize::new(0),
            discovery_fetches: AtomicUsize::new(0),
            discovery_issuer: Mutex::new(None),
            userinfo_subject: Mutex::new(None),
            last_claims: Mutex::new(Map::new()),
            authorize_requests: Mutex::new(Vec::new()),
            token_requests: Mutex::new(Vec::new()),
            grants: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(BTreeSet::new()),
            next: AtomicUsize::new(1),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/keys", get(keys))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .route("/attacker/keys", get(attacker_keys))
            .with_state(op.clone());
        tokio::spawn(async move { axum::serve(op_listener, app).await });

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("client.pem"), &client_key().private_pem).unwrap();
        let auth = match options.client_auth {
            ClientAuth::Basic => format!("client_auth = \"client_secret_basic\", client_secret = \"{CLIENT_SECRET}\""),
            ClientAuth::Post => format!("client_auth = \"client_secret_post\", client_secret = \"{CLIENT_SECRET}\""),
            ClientAuth::PrivateKeyJwt => "client_auth = \"private_key_jwt\", private_key_file = \"client.pem\"".into(),
            ClientAuth::None => "client_auth = \"none\"".into(),
        };
        let sp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", sp_listener.local_addr().unwrap());
        let config = format!(
            r#"
[server]
base_url = "{base_url}"
database = "{db}"

[[tenants]]
id = "acme"
default_relay_state = "/welcome"
allowed_email_domains = ["acme.test"]
provisioning = "jit"
link_accounts_by_verified_email = {link}
break_glass = {{ email = "breakglass@acme.test", password = "test-breakglass-password" }}
oidc = {{ issuer = "{issuer}", client_id = "{CLIENT_ID}", {auth}, id_token_signed_response_alg = "{alg}"{scopes} }}
{acme_extra}

[[tenants]]
id = "beta"
allowed_email_domains = ["acme.test"]
provisioning = "jit"
break_glass = {{ email = "breakglass@beta.test", password = "test-breakglass-password" }}
oidc = {{ issuer = "{issuer}", client_id = "{CLIENT_ID}", {auth}, id_token_signed_response_alg = "{alg}" }}
"#,
            db = dir.path().join("sp.sqlite3").display(),
            link = options.link_accounts_by_verified_email,
            acme_extra = options.acme_extra,
            alg = options.algorithm,
            scopes = if options.offline_access {
                r#", scopes = ["openid", "email", "profile", "offline_access"]"#
            } else {
                ""
            },
        );
        let config = reference_sp::config::parse_config("oidc-test.toml", &config, dir.path()).unwrap();
        let store = SqliteStore::open(&config.database).unwrap();
        let flaws: BTreeSet<Flaw> = options.flaws.iter().copied().collect();
        let sp_core = Arc::new(Sp::new(config, Arc::new(store), flaws, clock).unwrap());
        let sp = RunningSp::serve(sp_listener, sp_core).unwrap();
        OidcHarness { op, sp, _dir: dir }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sp.url())
    }

    /// A browser: keeps cookies, does not follow redirects.
    pub(crate) fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// Starts a login in `browser`; returns the provider's authorization URL.
    pub(crate) async fn start_login(&self, browser: &reqwest::Client, path_and_query: &str) -> String {
        let response = browser.get(self.url(path_and_query)).send().await.unwrap();
        assert_eq!(response.status(), 302, "{:?}", response.headers().get("x-error-code"));
        location(&response)
    }

    /// The provider answers an authorization URL with the callback URL.
    pub(crate) async fn authorize(&self, authorization_url: &str) -> String {
        let response = self.browser().get(authorization_url).send().await.unwrap();
        assert_eq!(response.status(), 302);
        location(&response)
    }

    pub(crate) async fn callback(&self, browser: &reqwest::Client, callback_url: &str) -> crate::support::Outcome {
        let response = browser.get(callback_url).send().await.unwrap();
        crate::support::Outcome {
            status: response.status().as_u16(),
            code: response.headers().get("x-error-code").map(|v| v.to_str().unwrap().to_owned()),
            location: response.headers().get("location").map(|v| v.to_str().unwrap().to_owned()),
        }
    }

    /// The whole login of tenant `acme` in `browser`.
    pub(crate) async fn sign_in(&self, browser: &reqwest::Client) -> crate::support::Outcome {
        let authorization = self.start_login(browser, "/oidc/login?tenant=acme").await;
        let callback = self.authorize(&authorization).await;
        self.callback(browser, &callback).await
    }

    /// `POST /oidc/refresh` in `browser`: the status, the error code and
    /// the JSON body.
    pub(crate) async fn refresh(&self, browser: &reqwest::Client) -> (u16, Option<String>, Option<Value>) {
        let response = browser.post(self.url("/oidc/refresh")).send().await.unwrap();
        let status = response.status().as_u16();
        let code = response.headers().get("x-error-code").map(|v| v.to_str().unwrap().to_owned());
        (status, code, response.json().await.ok())
    }

    /// The `/token` forms of refresh grants the provider accepted.
    pub(crate) fn refresh_requests(&self) -> Vec<HashMap<String, String>> {
        let requests = self.op.token_requests.lock().unwrap();
        requests.iter().filter(|f| f.get("grant_type").map(String::as_str) == Some("refresh_token")).cloned().collect()
    }

    /// Whose session the browser has.
    pub(crate) async fn whoami(&self, browser: &reqwest::Client) -> Option<Value> {
        let response = browser.get(self.url("/whoami")).send().await.unwrap();
        if response.status() == 200 { Some(response.json().await.unwrap()) } else { None }
    }
}

pub(crate) fn location(response: &reqwest::Response) -> String {
    response.headers().get(header::LOCATION.as_str()).unwrap().to_str().unwrap().to_owned()
}

/// Replaces one query parameter of a URL (or removes it, with `None`).
pub(crate) fn with_parameter(url: &str, name: &str, value: Option<&str>) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let kept: Vec<(String, String)> =
        parsed.query_pairs().filter(|(k, _)| k != name).map(|(k, v)| (k.into(), v.into())).collect();
    {
        let mut pairs = parsed.query_pairs_mut();
        pairs.clear();
        for (k, v) in &kept {
            pairs.append_pair(k, v);
        }
        if let Some(value) = value {
            pairs.append_pair(name, value);
        }
    }
    parsed.to_string()
}
