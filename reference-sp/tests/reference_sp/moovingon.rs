//! A tenant set up as the MoovingON AI guide says that SP is: the shared ACS
//! `/sso/acs/`, the audience `/sso/acs/<identifier>` naming the tenant and
//! the identifier as the default RelayState, existing accounts only with the
//! vendor's own refusal ("Error 405") for a user it does not know, SCIM only
//! once an admin has signed in through the IdP, the custom attributes
//! `moovingon_ai_admin`, `firstPhone` and `secondPhone` on the core User,
//! and `moovingon_ai_admin = true` making an admin. Each rule is shown with
//! the flaw that breaks it.

use std::collections::BTreeSet;
use std::sync::Arc;

use reference_sp::flaws::Flaw;
use reference_sp::http::RunningSp;
use reference_sp::sp::{Sp, SystemClock};
use reference_sp::store::sqlite::SqliteStore;
use serde_json::{Value, json};

use crate::support::{BASE_URL, Outcome, Spec, metadata_xml};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const SCIM_TOKEN: &str = "moovingon-scim-token";
const IDENTIFIER: &str = "acme-3f9a";
const BREAK_GLASS: (&str, &str) = ("breakglass@moovingon.test", "moovingon-breakglass");
const REFUSAL: &str = "Error 405: this user has no MoovingON AI account";

/// The SP with two tenants on the same IdP (so one issuer): `acme` (JIT,
/// its own ACS) and `moovingon`, set up as the guide's SP.
struct Moovingon {
    server: RunningSp,
    _dir: tempfile::TempDir,
}

impl Moovingon {
    async fn start(flaws: &[Flaw]) -> Moovingon {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("idp.xml"), metadata_xml()).unwrap();
        let config = format!(
            r#"
[server]
listen = "127.0.0.1:0"
base_url = "{BASE_URL}"
database = "{db}"

[[tenants]]
id = "acme"
idp_metadata_file = "idp.xml"
allowed_email_domains = ["acme.test"]
provisioning = "jit"
break_glass = {{ email = "breakglass@acme.test", password = "acme-breakglass" }}

[[tenants]]
id = "moovingon"
idp_metadata_file = "idp.xml"
sp_entity_id = "{BASE_URL}/sso/acs/{IDENTIFIER}"
allowed_email_domains = ["acme.test"]
provisioning = "existing-only"
unknown_user_refusal = "{REFUSAL}"
admin_attribute = "moovingon_ai_admin"
break_glass = {{ email = "{}", password = "{}" }}
scim = {{ token = "{SCIM_TOKEN}", requires_verified_sso = true, extension = [], core_attributes = ["moovingon_ai_admin", "firstPhone", "secondPhone"] }}
"#,
            BREAK_GLASS.0,
            BREAK_GLASS.1,
            db = dir.path().join("sp.sqlite3").display(),
        );
        let config = reference_sp::config::parse_config("moovingon.toml", &config, dir.path()).unwrap();
        let store = SqliteStore::open(&config.database).unwrap();
        let flaws: BTreeSet<Flaw> = flaws.iter().copied().collect();
        let sp = Arc::new(Sp::new(config, Arc::new(store), flaws, Arc::new(SystemClock)).unwrap());
        reference_sp::idp_fetch::refresh_all(&sp).await;
        let server = RunningSp::start("127.0.0.1:0".parse().unwrap(), sp).await.unwrap();
        Moovingon { server, _dir: dir }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// Makes the account the vendor makes before anyone signs in.
    async fn create_account(&self, email: &str) {
        let created = self
            .browser()
            .post(self.url("/admin/tenants/moovingon/users"))
            .basic_auth(BREAK_GLASS.0, Some(BREAK_GLASS.1))
            .json(&json!({"email": email, "name": "Known User"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }

    async fn account_count(&self) -> usize {
        let users: Value = self
            .browser()
            .get(self.url("/admin/tenants/moovingon/users"))
            .basic_auth(BREAK_GLASS.0, Some(BREAK_GLASS.1))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        users.as_array().unwrap().len()
    }

    /// An IdP-initiated sign-in at the shared ACS, with the guide's default
    /// RelayState. Returns the outcome and the refusal page's text.
    async fn dashboard_sign_in(&self, browser: &reqwest::Client, email: &str, admin: bool) -> (Outcome, String) {
        let mut spec = Spec::valid(email);
        spec.destination = format!("{BASE_URL}/sso/acs/");
        spec.recipient = format!("{BASE_URL}/sso/acs/");
        spec.audience = Some(format!("{BASE_URL}/sso/acs/{IDENTIFIER}"));
        if admin {
            spec.attributes.push(("moovingon_ai_admin".into(), vec!["true".into()]));
        }
        let form = [("SAMLResponse", spec.encoded()), ("RelayState", IDENTIFIER.to_owned())];
        let response = browser.post(self.url("/sso/acs/")).form(&form).send().await.unwrap();
        let status = response.status().as_u16();
        let code = response.headers().get("x-error-code").map(|v| v.to_str().unwrap().to_owned());
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        (Outcome { status, code, location }, response.text().await.unwrap())
    }

    async fn whoami(&self, browser: &reqwest::Client) -> Option<Value> {
        let response = browser.get(self.url("/whoami")).send().await.unwrap();
        if response.status() == 200 { Some(response.json().await.unwrap()) } else { None }
    }

    async fn scim(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request =
            self.browser().request(method, self.url(&format!("/scim/v2/moovingon{path}"))).bearer_auth(SCIM_TOKEN);
        if let Some(body) = body {
            request = request.header("content-type", "application/scim+json").body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The guide's verification: an admin with an account signs in from the
    /// dashboard.
    async fn verify_sso(&self) {
        self.create_account("admin@acme.test").await;
        let (outcome, _) = self.dashboard_sign_in(&self.browser(), "admin@acme.test", true).await;
        assert!(outcome.signed_in(), "{outcome:?}");
    }
}

fn user(email: &str, extra: Value) -> Value {
    let mut body = json!({
        "schemas": [USER],
        "userName": email,
        "name": {"givenName": "Pat", "familyName": "Phone"},
        "emails": [{"primary": true, "value": email, "type": "work"}],
        "active": true,
    });
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    body
}

#[tokio::test]
async fn the_shared_acs_finds_the_tenant_by_its_audience_and_the_identifier_relay_state_goes_home() {
    let sp = Moovingon::start(&[]).await;
    sp.create_account("known@acme.test").await;
    let browser = sp.browser();
    // Both tenants trust the same IdP, so only the audience names the
    // tenant; the RelayState is the integration's identifier, not a page.
    let (outcome, page) = sp.dashboard_sign_in(&browser, "known@acme.test", false).await;
    assert_eq!((outcome.status, outcome.location.as_deref()), (303, Some("/")), "{outcome:?} {page}");
    let who = sp.whoami(&browser).await.unwrap();
    assert_eq!((who["tenant"].as_str(), who["email"].as_str()), (Some("moovingon"), Some("known@acme.test")));
}

#[tokio::test]
async fn an_unknown_user_gets_the_vendors_refusal_unless_the_sp_fails_on_it() {
    let sp = Moovingon::start(&[]).await;
    let browser = sp.browser();
    let (outcome, page) = sp.dashboard_sign_in(&browser, "stranger@acme.test", false).await;
    assert_eq!((outcome.status, outcome.code.as_deref()), (403, Some("account.not_found")));
    assert!(page.contains(REFUSAL), "{page}");
    assert!(sp.whoami(&browser).await.is_none());
    assert_eq!(sp.account_count().await, 0);

    let flawed = Moovingon::start(&[Flaw::UnknownUserServerError]).await;
    let (outcome, page) = flawed.dashboard_sign_in(&flawed.browser(), "stranger@acme.test", false).await;
    assert_eq!(outcome.status, 500, "{outcome:?}");
    assert!(!page.contains("Error 405"), "{page}");
}

#[tokio::test]
async fn scim_is_refused_until_an_admin_signs_in_through_the_idp() {
    let sp = Moovingon::start(&[]).await;
    let (status, body) = sp.scim(reqwest::Method::POST, "/Users", Some(user("early@acme.test", json!({})))).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
    assert!(body["detail"].as_str().unwrap().contains("until sign-in through its IdP is verified"), "{body}");
    assert_eq!(sp.scim(reqwest::Method::GET, "/Users", None).await.0, 403, "every request waits");
    assert_eq!(sp.account_count().await, 0, "the refused create made nothing");
    // A sign-in that is not an admin's verifies nothing.
    sp.create_account("member@acme.test").await;
    assert!(sp.dashboard_sign_in(&sp.browser(), "member@acme.test", false).await.0.signed_in());
    assert_eq!(sp.scim(reqwest::Method::POST, "/Users", Some(user("early@acme.test", json!({})))).await.0, 403);
    // The admin flag on the group assignment makes the sign-in an admin's.
    sp.verify_sso().await;
    let (status, body) = sp.scim(reqwest::Method::POST, "/Users", Some(user("early@acme.test", json!({})))).await;
    assert_eq!(status, 201, "{body}");

    let flawed = Moovingon::start(&[Flaw::ScimBeforeSsoVerified]).await;
    let (status, body) = flawed.scim(reqwest::Method::POST, "/Users", Some(user("early@acme.test", json!({})))).await;
    assert_eq!(status, 201, "the flaw takes SCIM from the start: {body}");
}

#[tokio::test]
async fn the_core_custom_attributes_are_declared_kept_typed_and_make_an_admin() {
    let sp = Moovingon::start(&[]).await;
    sp.verify_sso().await;
    let (_, schema) = sp.scim(reqwest::Method::GET, &format!("/Schemas/{USER}"), None).await;
    let declared: Vec<(&str, &str)> = schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].as_str().unwrap(), a["type"].as_str().unwrap()))
        .collect();
    for attribute in [("moovingon_ai_admin", "boolean"), ("firstPhone", "string"), ("secondPhone", "string")] {
        assert!(declared.contains(&attribute), "{attribute:?} in {declared:?}");
    }
    let phones = json!({"moovingon_ai_admin": true, "firstPhone": "+972501234567", "secondPhone": "+14155550100"});
    let (status, created) = sp.scim(reqwest::Method::POST, "/Users", Some(user("pat@acme.test", phones))).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, read) = sp.scim(reqwest::Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!((read["moovingon_ai_admin"].clone(), read["firstPhone"].clone()), (json!(true), json!("+972501234567")));
    assert_eq!(read["secondPhone"], "+14155550100");
    // The attribute makes Pat the tenant's only SCIM admin: Okta's
    // deactivation of the last admin is refused.
    let deactivate = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]});
    let (status, body) = sp.scim(reqwest::Method::PATCH, &format!("/Users/{id}"), Some(deactivate)).await;
    assert_eq!(status, 409, "{body}");
    // A phone without '+' and country code, and a flag that is no boolean.
    for (extra, what) in [
        (json!({"firstPhone": "0501234567"}), "firstPhone"),
        (json!({"moovingon_ai_admin": "yes"}), "moovingon_ai_admin"),
    ] {
        let (status, body) = sp.scim(reqwest::Method::POST, "/Users", Some(user("bad@acme.test", extra))).await;
        assert_eq!((status, body["scimType"].as_str()), (400, Some("invalidValue")), "{body}");
        assert!(body["detail"].as_str().unwrap().contains(what), "{body}");
    }

    let flawed = Moovingon::start(&[Flaw::CoreAttributesDropped]).await;
    flawed.verify_sso().await;
    let phones = json!({"moovingon_ai_admin": true, "firstPhone": "+972501234567"});
    let (status, created) = flawed.scim(reqwest::Method::POST, "/Users", Some(user("pat@acme.test", phones))).await;
    assert_eq!(status, 201, "{created}");
    let (_, read) =
        flawed.scim(reqwest::Method::GET, &format!("/Users/{}", created["id"].as_str().unwrap()), None).await;
    assert!(read.get("firstPhone").is_none() && read.get("moovingon_ai_admin").is_none(), "{read}");
}
