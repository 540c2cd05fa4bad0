//! OAuth 2.0 authorization code provisioning end to end: the mock (an app
//! with `auth = "oauth2"`) is authorized at the reference SP's SCIM OAuth
//! server (the browser follows the SP's redirect to the mock's callback),
//! provisions with the bearer token, refreshes when the token expires on the
//! mock's clock and when the SP refuses it with a 401, and turns a refused
//! refresh into a failed task with the SP's OAuth error. Both clocks are
//! moved by hand; nothing sleeps.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use mock_idp::admin;
use mock_idp::clock::FixedClock;
use mock_idp::http::RunningServer;
use mock_idp::idp::{Idp, IdpConfig, KeySource};
use mock_idp::provisioning::{Provisioner, ProvisionerOptions};
use reference_sp::http::RunningSp;
use reference_sp::sp::{Sp, hash_token};
use serde_json::{Value, json};
use time::OffsetDateTime;

const APP: &str = "0oarefspoauth0000001";
const ALICE: &str = "00uoauthalice0000001";
const BOB: &str = "00uoauthbob000000002";
const CLIENT_SECRET: &str = "okta's client secret";

/// The SP's clock, moved by hand.
struct SpClock(AtomicI64);

impl reference_sp::clock::Clock for SpClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0.load(Ordering::SeqCst)).unwrap()
    }
}

struct Setup {
    idp: Arc<Idp>,
    idp_clock: Arc<FixedClock>,
    provisioner: Arc<Provisioner>,
    mock: RunningServer,
    sp_clock: Arc<SpClock>,
    _sp: RunningSp,
    scim_base: String,
    _dir: tempfile::TempDir,
}

impl Setup {
    async fn start() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        // The SP's address first: the org names its endpoints.
        let sp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sp_url = format!("http://{}", sp_listener.local_addr().unwrap());
        let org_text = format!(
            r#"
[org]
name = "acme"
url = "http://127.0.0.1:7000"
api_token = "t"

[[users]]
id = "{ALICE}"
login = "oauth.alice@acme.test"
first_name = "Alice"
last_name = "Anderson"

[[users]]
id = "{BOB}"
login = "oauth.bob@acme.test"
first_name = "Bob"
last_name = "Brown"

[[apps]]
id = "{APP}"
name = "reference-sp"
sign_on_mode = "SAML_2_0"
[apps.saml]
sso_url = "{sp_url}/sso/acs/acme"
audience = "{sp_url}/sso/metadata/acme"
[apps.provisioning]
base_url = "{sp_url}/scim/v2/acme"
auth = "oauth2"
authorize_url = "{sp_url}/oauth/scim/acme/authorize"
token_url = "{sp_url}/oauth/scim/acme/token"
client_id = "okta-provisioning"
client_secret = "{CLIENT_SECRET}"
scopes = ["scim"]
"#
        );
        let idp_clock = Arc::new(FixedClock::new(OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()));
        let org = mock_idp::org::parse_org("org.toml", &org_text, mock_idp::clock::Clock::now(&*idp_clock)).unwrap();
        let key = mock_idp::keys::deterministic::signing(&org.name).unwrap();
        let mut config = IdpConfig::serving(org, KeySource::Fixed(key)).unwrap();
        config.clock = idp_clock.clone();
        let idp = Arc::new(Idp::new(config));
        let provisioner = Provisioner::start(&idp, ProvisionerOptions::default()).unwrap();
        let mock = RunningServer::start("127.0.0.1:0".parse().unwrap(), idp.clone()).await.unwrap();
        let mock_url = mock.url();
        idp.write_org(|org| org.url = mock_url.clone());

        // The SP allows exactly the mock's callback for the app.
        let callback = format!("{mock_url}/admin/app/cpc/reference-sp/oauth/callback");
        let sp_text = format!(
            r#"
[server]
listen = "127.0.0.1:0"
base_url = "{sp_url}"
database = "{db}"

[[tenants]]
id = "acme"
oidc = {{ issuer = "http://idp.test", client_id = "c", client_auth = "client_secret_basic", client_secret = "oidc-secret" }}
provisioning = "jit"
allowed_email_domains = ["acme.test"]
break_glass = {{ email = "breakglass@acme.test", password = "a-long-password" }}

[tenants.scim]
token = "static-scim-token"

[tenants.scim.oauth]
client_id = "okta-provisioning"
client_secret_hash = "{secret_hash}"
redirect_uris = ["{callback}"]
access_token_lifetime_seconds = 600
refresh_token_lifetime_seconds = 3600
auto_approve = true
"#,
            db = dir.path().join("sp.sqlite3").display(),
            secret_hash = hash_token(CLIENT_SECRET),
        );
        let sp_config = reference_sp::config::parse_config("sp.toml", &sp_text, dir.path()).unwrap();
        let store = reference_sp::store::sqlite::SqliteStore::open(&sp_config.database).unwrap();
        let sp_clock = Arc::new(SpClock(AtomicI64::new(1_700_000_000)));
        let sp = Arc::new(Sp::new(sp_config, Arc::new(store), BTreeSet::new(), sp_clock.clone()).unwrap());
        let sp_server = RunningSp::serve(sp_listener, sp).unwrap();
        Setup {
            idp,
            idp_clock,
            provisioner,
            mock,
            sp_clock,
            _sp: sp_server,
            scim_base: format!("{sp_url}/scim/v2/acme"),
            _dir: dir,
        }
    }

    fn assign(&self, user: &str) {
        let now = self.idp.now();
        let body = admin::parse_body(json!({"id": user}).to_string().as_bytes()).unwrap();
        self.idp.apply(|org| admin::assign_user(org, APP, None, body, now)).unwrap();
    }

    /// The SP's users, read with the static token.
    async fn sp_user_names(&self) -> Vec<String> {
        let page: Value = reqwest::Client::new()
            .get(format!("{}/Users", self.scim_base))
            .bearer_auth("static-scim-token")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut names: Vec<String> = page["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|user| user["userName"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }

    /// The transcript's exchanges after `after`, as (operation, method,
    /// status) rows.
    fn exchanges_after(&self, after: u64) -> Vec<(String, String, u16)> {
        self.provisioner
            .transcript_after(after)
            .iter()
            .map(|e| (e.operation.clone(), e.request.method.to_owned(), e.response.as_ref().map_or(0, |r| r.status)))
            .collect()
    }

    fn last_sequence(&self) -> u64 {
        self.provisioner.transcript().last().map_or(0, |e| e.sequence)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mock_authorizes_at_the_sp_provisions_with_the_token_and_refreshes_when_it_expires() {
    let setup = Setup::start().await;

    // Before authorization there is no token: the task fails and says so.
    setup.assign(ALICE);
    setup.provisioner.wait_idle().await;
    let tasks = setup.provisioner.failed_tasks();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0].code, "oauth.not_authorized");

    // "Authenticate with reference-sp", from the command line as from the
    // API: the authorize URL carries Okta's redirect URI and a state.
    let mockta = std::process::Command::new(env!("CARGO_BIN_EXE_mockta"))
        .args(["scim", "authorize", "--app", "reference-sp", "--url", &setup.mock.url(), "--token", "t"])
        .output()
        .unwrap();
    assert!(mockta.status.success(), "{}", String::from_utf8_lossy(&mockta.stderr));
    let authorize_url = String::from_utf8(mockta.stdout).unwrap().trim().to_owned();
    let parsed = reqwest::Url::parse(&authorize_url).unwrap();
    let query: std::collections::HashMap<String, String> = parsed.query_pairs().into_owned().collect();
    assert_eq!(query["redirect_uri"], format!("{}/admin/app/cpc/reference-sp/oauth/callback", setup.mock.url()));
    assert_eq!((query["response_type"].as_str(), query["scope"].as_str()), ("code", "scim"));
    // An unknown app is bad input: one line, exit 2.
    let unknown = std::process::Command::new(env!("CARGO_BIN_EXE_mockta"))
        .args(["scim", "authorize", "--app", "nope", "--url", &setup.mock.url(), "--token", "t"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&unknown.stderr).trim().lines().count(), 1);

    // The browser: the SP approves (auto_approve) and redirects to the
    // mock's callback, which redeems the code.
    let page = reqwest::get(&authorize_url).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Authorized"));
    assert!(setup.provisioner.has_oauth_tokens(&mock_idp::ids::AppId::parse(APP).unwrap()));
    // The callback's state is single-use.
    let replayed = reqwest::get(format!(
        "{}/admin/app/cpc/reference-sp/oauth/callback?code=x&state={}",
        setup.mock.url(),
        query["state"]
    ))
    .await
    .unwrap();
    assert_eq!(replayed.status(), 400);

    // The failed assignment, retried, now goes through with the token.
    let task = setup.provisioner.failed_tasks()[0].id.clone();
    setup.provisioner.retry_task(&task).await.unwrap();
    assert_eq!(setup.sp_user_names().await, ["oauth.alice@acme.test"]);

    // Ten minutes on the mock's clock: its access token has expired, so it
    // refreshes before the next request and carries on.
    let before = setup.last_sequence();
    setup.idp_clock.advance(time::Duration::minutes(10));
    setup.assign(BOB);
    setup.provisioner.wait_idle().await;
    let exchanges = setup.exchanges_after(before);
    assert!(exchanges[0].0.ends_with("(OAuth refresh_token grant)") && exchanges[0].2 == 200, "{exchanges:?}");
    assert!(exchanges[1..].iter().all(|(_, _, status)| *status < 300), "{exchanges:?}");
    assert_eq!(setup.sp_user_names().await, ["oauth.alice@acme.test", "oauth.bob@acme.test"]);

    // The SP's clock runs ahead: it refuses the token before the mock
    // expects, so the 401 makes the mock refresh once and send again.
    let before = setup.last_sequence();
    setup.sp_clock.0.fetch_add(700, Ordering::SeqCst);
    let now = setup.idp.now();
    let rename = admin::parse_body(br#"{"profile":{"firstName":"Alicia"}}"#).unwrap();
    setup.idp.apply(|org| admin::update_user(org, ALICE, rename, true, now)).unwrap();
    setup.provisioner.wait_idle().await;
    let exchanges = setup.exchanges_after(before);
    let statuses: Vec<u16> = exchanges.iter().map(|e| e.2).collect();
    assert_eq!(statuses[..2], [401, 200], "{exchanges:?}");
    assert!(exchanges[1].0.ends_with("(OAuth refresh_token grant)"), "{exchanges:?}");
    assert!(statuses[2..].iter().all(|s| *s < 300), "{exchanges:?}");
    assert!(setup.provisioner.failed_tasks().is_empty(), "{:?}", setup.provisioner.failed_tasks());

    // Every token stays out of the transcript.
    let transcript = serde_json::to_string(&setup.provisioner.transcript()).unwrap();
    assert!(transcript.contains("Bearer [redacted]") && transcript.contains("refresh_token=%5Bredacted%5D"));
    assert!(!transcript.contains(CLIENT_SECRET));

    // Past the refresh token's lifetime on the SP: the refresh is refused,
    // and the task fails with the SP's OAuth error.
    setup.sp_clock.0.fetch_add(3600, Ordering::SeqCst);
    let rename = admin::parse_body(br#"{"profile":{"firstName":"Al"}}"#).unwrap();
    setup.idp.apply(|org| admin::update_user(org, ALICE, rename, true, now)).unwrap();
    setup.provisioner.wait_idle().await;
    let tasks = setup.provisioner.failed_tasks();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!((tasks[0].code, tasks[0].status), ("oauth.token_refused", Some(400)));
    assert!(tasks[0].error.contains("invalid_grant"), "{}", tasks[0].error);

    // Another OAuth client for the connection: the tokens held came from
    // the old one, so none is sent and an admin must authorize again.
    setup.idp.write_org(|org| {
        let settings = org.apps.values_mut().next().unwrap().provisioning.as_mut().unwrap();
        if let mock_idp::org::provisioning::ScimAuthentication::OAuth2(oauth) = &mut settings.authentication {
            oauth.client_id = "another-client".into();
        }
    });
    let before = setup.last_sequence();
    setup.provisioner.retry_task(&tasks[0].id).await.unwrap_err();
    assert_eq!(setup.exchanges_after(before), Vec::new(), "nothing is sent");
    assert_eq!(setup.provisioner.failed_tasks()[0].code, "oauth.not_authorized");
    setup.mock.stop().await.unwrap();
}
