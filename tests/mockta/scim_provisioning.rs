//! The mock's provisioning engine against the reference SP's SCIM server:
//! assign, update, deactivate, push a group, rename it, and the state read
//! back from the SP equals the org's view of the app.

use std::sync::Arc;

use mock_idp::admin::{self, Lifecycle};
use mock_idp::idp::{Idp, IdpConfig, KeySource};
use mock_idp::provisioning::{Provisioner, ProvisionerOptions};
use reference_sp::http::RunningSp;
use serde_json::{Value, json};

const APP: &str = "0oarefsp000000000001";
const ALICE: &str = "00uscimalice00000001";
const BOB: &str = "00uscimbob0000000002";
const ENGINEERING: &str = "00gscimeng0000000001";

/// The reference SP on a free port with the built-in config (tenant acme
/// takes `Bearer mockta-dev-token`), its database in `dir`.
async fn start_sp(dir: &std::path::Path) -> (String, RunningSp) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = reference_sp::config::BUILTIN_CONFIG
        .replace("base_url = \"http://127.0.0.1:7100\"", &format!("base_url = \"{base}\""))
        .replace(
            "database = \".local/reference-sp.sqlite3\"",
            &format!("database = \"{}\"", dir.join("sp.sqlite3").display()),
        );
    std::fs::write(dir.join("sp.toml"), config).unwrap();
    let options = reference_sp::setup::SpOptions { config: Some(dir.join("sp.toml")), ..Default::default() };
    let sp = Arc::new(options.build().unwrap());
    (base, RunningSp::serve(listener, sp).unwrap())
}

/// An org whose `reference-sp` app provisions to the SP's acme tenant and
/// pushes the Engineering group.
fn idp_provisioning_to(scim_base: &str) -> Arc<Idp> {
    let text = format!(
        r#"
[org]
name = "acme"
url = "http://127.0.0.1:7000"
api_token = "t"

[[users]]
id = "{ALICE}"
login = "scim.alice@acme.test"
first_name = "Alice"
last_name = "Anderson"

[[users]]
id = "{BOB}"
login = "scim.bob@acme.test"
first_name = "Bob"
last_name = "Brown"

[[groups]]
id = "{ENGINEERING}"
name = "SCIM Engineering"

[[apps]]
id = "{APP}"
name = "reference-sp"
sign_on_mode = "SAML_2_0"
[apps.saml]
sso_url = "http://127.0.0.1:7100/sso/acs/acme"
audience = "http://127.0.0.1:7100/sso/metadata/acme"
[apps.provisioning]
base_url = "{scim_base}"
auth = "bearer"
token = "mockta-dev-token"
push_groups = ["SCIM Engineering"]
"#
    );
    let org = mock_idp::org::parse_org("org.toml", &text, time::OffsetDateTime::now_utc()).unwrap();
    let key = mock_idp::keys::deterministic::signing(&org.name).unwrap();
    Arc::new(Idp::new(IdpConfig::serving(org, KeySource::Fixed(key)).unwrap()))
}

/// Reads a SCIM list from the SP with the tenant's token.
async fn scim_list(scim_base: &str, path: &str) -> Vec<Value> {
    let page: Value = reqwest::Client::new()
        .get(format!("{scim_base}{path}"))
        .bearer_auth("mockta-dev-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["Resources"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mock_provisions_the_reference_sp_and_the_sp_ends_as_the_org_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let (base, sp) = start_sp(dir.path()).await;
    let scim_base = format!("{base}/scim/v2/acme");
    let idp = idp_provisioning_to(&scim_base);
    let provisioner = Provisioner::start(&idp, ProvisionerOptions::default()).unwrap();
    let now = idp.now();
    let assign = |user: &str| {
        let body = admin::parse_body(json!({"id": user}).to_string().as_bytes()).unwrap();
        idp.apply(|org| admin::assign_user(org, APP, None, body, now)).unwrap();
    };

    let check = provisioner.test_credentials("reference-sp").await.unwrap();
    assert_eq!(check.status, 200);

    // Each step is handled before the next is made: the engine decides from
    // the org as it is when it runs, so a burst of changes would be sent as
    // their end state.
    assign(ALICE);
    provisioner.wait_idle().await;
    let update = admin::parse_body(br#"{"profile":{"firstName":"Alicia"}}"#).unwrap();
    idp.apply(|org| admin::update_user(org, ALICE, update, true, now)).unwrap();
    provisioner.wait_idle().await;
    assign(BOB);
    idp.apply(|org| admin::add_member(org, ENGINEERING, BOB, now)).unwrap();
    provisioner.wait_idle().await;
    idp.apply(|org| admin::add_member(org, ENGINEERING, ALICE, now)).unwrap();
    provisioner.wait_idle().await;
    idp.apply(|org| admin::lifecycle(org, ALICE, Lifecycle::Deactivate, now)).unwrap();
    provisioner.wait_idle().await;
    let rename = admin::parse_body(br#"{"profile":{"name":"SCIM Platform"}}"#).unwrap();
    idp.apply(|org| admin::update_group(org, ENGINEERING, rename, now)).unwrap();
    provisioner.wait_idle().await;

    assert_eq!(provisioner.failed_tasks(), Vec::new(), "no provisioning task failed");
    let methods: Vec<String> = provisioner
        .transcript()
        .iter()
        .map(|e| format!("{} {}", e.request.method, e.request.url.trim_start_matches(&scim_base)))
        .collect();
    let shapes: Vec<String> = methods.iter().map(|m| m.split('/').take(2).collect::<Vec<_>>().join("/")).collect();
    assert_eq!(
        shapes,
        [
            "GET /Users?startIndex=1&count=2",
            "GET /Users?filter=userName%20eq%20%22scim.alice%40acme.test%22&startIndex=1&count=100",
            "POST /Users",
            "GET /Users",
            "PUT /Users",
            "GET /Users?filter=userName%20eq%20%22scim.bob%40acme.test%22&startIndex=1&count=100",
            "POST /Users",
            "GET /Groups?filter=displayName%20eq%20%22SCIM%20Engineering%22&startIndex=1&count=100",
            "POST /Groups",
            "PATCH /Groups",
            "PATCH /Groups",
            "PATCH /Users",
            "PATCH /Groups",
        ],
        "Okta's sequence, step by step: {methods:#?}"
    );

    // The org's view of the app: each linked user with the org's names and
    // active flag, the pushed group with the org's name and its linked members.
    let (users, group_name, group_members) = idp.read_org(|org| {
        let app = org.apps.values().find(|a| a.id.as_str() == APP).unwrap();
        let settings = app.provisioning.as_ref().unwrap();
        let users: Vec<(String, String, String, bool, String)> = settings
            .links
            .users
            .iter()
            .map(|(id, link)| {
                let user = &org.users[id];
                let wanted = org.is_assigned(app, id) && user.status == mock_idp::org::UserStatus::Active;
                assert_eq!(link.active, wanted, "the link agrees with the org for {id}");
                (
                    org.app_user_name(app, user),
                    user.profile.first_name.clone(),
                    user.profile.last_name.clone(),
                    wanted,
                    link.scim_id.clone(),
                )
            })
            .collect();
        let group = org.groups.values().find(|g| g.id.as_str() == ENGINEERING).unwrap();
        let mut members: Vec<String> = group
            .members
            .iter()
            .filter_map(|member| settings.links.users.get(member).map(|link| link.scim_id.clone()))
            .collect();
        members.sort();
        (users, group.name.clone(), members)
    });
    assert_eq!(users.len(), 2);
    for (user_name, first_name, last_name, active, scim_id) in users {
        let found = scim_list(&scim_base, &format!("/Users?filter=userName%20eq%20%22{user_name}%22")).await;
        assert_eq!(found.len(), 1, "{user_name} is in the SP once");
        let user = &found[0];
        assert_eq!(user["id"], scim_id.as_str());
        assert_eq!(user["active"], active, "{user_name} active");
        assert_eq!(user["name"]["givenName"], first_name.as_str());
        assert_eq!(user["name"]["familyName"], last_name.as_str());
    }
    let groups = scim_list(&scim_base, "/Groups?filter=displayName%20eq%20%22SCIM%20Platform%22").await;
    assert_eq!(groups.len(), 1, "the renamed group is in the SP once");
    assert_eq!(groups[0]["displayName"], group_name.as_str());
    let mut members: Vec<String> = groups[0]["members"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_owned())
        .collect();
    members.sort();
    assert_eq!(members, group_members, "the SP's members are the org's linked members");
    let old_name = scim_list(&scim_base, "/Groups?filter=displayName%20eq%20%22SCIM%20Engineering%22").await;
    assert!(old_name.is_empty(), "the old name is gone");
    sp.stop().await.unwrap();
}
