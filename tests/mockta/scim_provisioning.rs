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

/// One org change the model property makes.
#[derive(Clone, Debug)]
enum Step {
    Assign(usize),
    Unassign(usize),
    UpdateProfile(usize, usize),
    Deactivate(usize),
    Reactivate(usize),
    AddMember(usize, usize),
    RemoveMember(usize, usize),
    RenameGroup(usize, usize),
    /// "Push Groups" for one group, pushed now.
    PushGroup(usize),
}

const MODEL_USERS: usize = 3;
const MODEL_GROUPS: usize = 2;
const GIVEN_NAMES: [&str; 3] = ["Ada", "Grace", "Edsger"];
const GROUP_NAMES: [&str; 3] = ["Prop Red", "Prop Blue", "Prop Green"];

fn model_user(n: usize) -> String {
    format!("00upropuser00000000{n}")
}

fn model_group(n: usize) -> String {
    format!("00gpropgroup0000000{n}")
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    let user = 0..MODEL_USERS;
    let group = 0..MODEL_GROUPS;
    prop_oneof![
        3 => user.clone().prop_map(Step::Assign),
        1 => user.clone().prop_map(Step::Unassign),
        2 => (user.clone(), 0..GIVEN_NAMES.len()).prop_map(|(u, n)| Step::UpdateProfile(u, n)),
        1 => user.clone().prop_map(Step::Deactivate),
        1 => user.clone().prop_map(Step::Reactivate),
        2 => (group.clone(), user.clone()).prop_map(|(g, u)| Step::AddMember(g, u)),
        1 => (group.clone(), user.clone()).prop_map(|(g, u)| Step::RemoveMember(g, u)),
        1 => (group.clone(), 0..GROUP_NAMES.len()).prop_map(|(g, n)| Step::RenameGroup(g, n)),
        2 => group.prop_map(Step::PushGroup),
    ]
}

/// The org for the model: three users and two groups, an app that
/// provisions to the SP's acme tenant, nothing assigned or pushed yet.
fn model_idp(scim_base: &str) -> Arc<Idp> {
    let mut text = format!(
        r#"
[org]
name = "acme"
url = "http://127.0.0.1:7000"
api_token = "t"

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
"#
    );
    for n in 0..MODEL_USERS {
        text.push_str(&format!(
            "\n[[users]]\nid = \"{}\"\nlogin = \"prop.user{n}@acme.test\"\nfirst_name = \"First{n}\"\nlast_name = \"Last{n}\"\n",
            model_user(n)
        ));
    }
    for n in 0..MODEL_GROUPS {
        text.push_str(&format!("\n[[groups]]\nid = \"{}\"\nname = \"Prop Group {n}\"\n", model_group(n)));
    }
    let org = mock_idp::org::parse_org("org.toml", &text, time::OffsetDateTime::now_utc()).unwrap();
    let key = mock_idp::keys::deterministic::signing(&org.name).unwrap();
    Arc::new(Idp::new(IdpConfig::serving(org, KeySource::Fixed(key)).unwrap()))
}

/// Applies one step; a refused change (reactivating an active user, say)
/// changes nothing and publishes nothing, as in Okta.
async fn apply_step(idp: &Idp, provisioner: &Provisioner, step: &Step) {
    let now = idp.now();
    let _ = match step {
        Step::Assign(u) => {
            let body = admin::parse_body(json!({"id": model_user(*u)}).to_string().as_bytes()).unwrap();
            idp.apply(|org| admin::assign_user(org, APP, None, body, now)).map(drop)
        }
        Step::Unassign(u) => idp.apply(|org| admin::unassign_user(org, APP, &model_user(*u))).map(drop),
        Step::UpdateProfile(u, n) => {
            let body =
                admin::parse_body(json!({"profile": {"firstName": GIVEN_NAMES[*n]}}).to_string().as_bytes()).unwrap();
            idp.apply(|org| admin::update_user(org, &model_user(*u), body, true, now)).map(drop)
        }
        Step::Deactivate(u) => {
            idp.apply(|org| admin::lifecycle(org, &model_user(*u), Lifecycle::Deactivate, now)).map(drop)
        }
        Step::Reactivate(u) => {
            idp.apply(|org| admin::lifecycle(org, &model_user(*u), Lifecycle::Activate, now)).map(drop)
        }
        Step::AddMember(g, u) => {
            idp.apply(|org| admin::add_member(org, &model_group(*g), &model_user(*u), now)).map(drop)
        }
        Step::RemoveMember(g, u) => {
            idp.apply(|org| admin::remove_member(org, &model_group(*g), &model_user(*u), now)).map(drop)
        }
        Step::RenameGroup(g, n) => {
            let body = admin::parse_body(json!({"profile": {"name": GROUP_NAMES[*n]}}).to_string().as_bytes()).unwrap();
            idp.apply(|org| admin::update_group(org, &model_group(*g), body, now)).map(drop)
        }
        Step::PushGroup(g) => {
            let pushed = provisioner.push_group_now("reference-sp", &model_group(*g)).await.unwrap();
            assert_eq!(pushed.failed_task, None, "the push of group {g} failed");
            Ok(())
        }
    };
}

/// What the org says the app should hold: each linked user (SCIM id →
/// userName, active, given name, family name) and each linked pushed group
/// (SCIM id → name, sorted member SCIM ids).
type UserRows = std::collections::BTreeMap<String, (String, bool, String, String)>;
type GroupRows = std::collections::BTreeMap<String, (String, Vec<String>)>;

fn org_view(idp: &Idp) -> (UserRows, GroupRows) {
    idp.read_org(|org| {
        let app = org.apps.values().find(|a| a.id.as_str() == APP).unwrap();
        let settings = app.provisioning.as_ref().unwrap();
        let mut users = UserRows::new();
        for (id, link) in &settings.links.users {
            let user = &org.users[id];
            let wanted = org.is_assigned(app, id) && mock_idp::scim::requests::active_in_apps(user.status);
            assert_eq!(link.active, wanted, "the link agrees with the org for {id}");
            users.insert(
                link.scim_id.clone(),
                (org.app_user_name(app, user), wanted, user.profile.first_name.clone(), user.profile.last_name.clone()),
            );
        }
        let mut groups = GroupRows::new();
        for group_id in &settings.pushed_groups {
            let Some(scim_id) = settings.links.groups.get(group_id) else { continue };
            let group = &org.groups[group_id];
            let mut members: Vec<String> = group
                .members
                .iter()
                .filter_map(|member| settings.links.users.get(member).map(|link| link.scim_id.clone()))
                .collect();
            members.sort();
            groups.insert(scim_id.clone(), (group.name.clone(), members));
        }
        (users, groups)
    })
}

/// What the SP holds, read back by SCIM: the model's users (by the
/// `prop.` userName prefix) and every group.
async fn sp_view(scim_base: &str) -> (UserRows, GroupRows) {
    let mut users = UserRows::new();
    for user in scim_list(scim_base, "/Users?startIndex=1&count=1000").await {
        let user_name = user["userName"].as_str().unwrap_or_default().to_owned();
        if !user_name.starts_with("prop.") {
            continue;
        }
        // A user that was deactivated before any profile push keeps the
        // names it was created with; names are compared as the SP has them.
        users.insert(
            user["id"].as_str().unwrap().to_owned(),
            (
                user_name,
                user["active"].as_bool().unwrap(),
                user["name"]["givenName"].as_str().unwrap_or_default().to_owned(),
                user["name"]["familyName"].as_str().unwrap_or_default().to_owned(),
            ),
        );
    }
    let mut groups = GroupRows::new();
    for group in scim_list(scim_base, "/Groups?startIndex=1&count=1000").await {
        let name = group["displayName"].as_str().unwrap_or_default().to_owned();
        if !name.starts_with("Prop ") {
            continue;
        }
        let mut members: Vec<String> = group["members"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|m| m["value"].as_str().map(str::to_owned))
            .collect();
        members.sort();
        groups.insert(group["id"].as_str().unwrap().to_owned(), (name, members));
    }
    (users, groups)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 16, failure_persistence: None, ..Default::default() })]

    /// Random sequences of org changes, provisioned to the reference SP one
    /// at a time, leave the SP's users and groups equal to the org's view of
    /// the app: the linked users with their userNames, active flags and
    /// names (an inactive user's names as last pushed), and the linked
    /// pushed groups with their names and linked members.
    #[test]
    fn prop_provisioning_leaves_the_sp_as_the_org_sees_it(steps in proptest::collection::vec(step(), 1..14)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let (base, sp) = start_sp(dir.path()).await;
            let scim_base = format!("{base}/scim/v2/acme");
            let idp = model_idp(&scim_base);
            let provisioner = Provisioner::start(&idp, ProvisionerOptions::default()).unwrap();
            for step in &steps {
                apply_step(&idp, &provisioner, step).await;
                provisioner.wait_idle().await;
            }
            assert_eq!(provisioner.failed_tasks(), Vec::new(), "no task failed after {steps:?}");
            let deletes: Vec<String> = provisioner
                .transcript()
                .iter()
                .filter(|e| e.request.method == "DELETE" && e.request.url.contains("/Users"))
                .map(|e| e.request.url.clone())
                .collect();
            assert!(deletes.is_empty(), "Okta never deletes users, but {deletes:?} after {steps:?}");
            let (mut want_users, want_groups) = org_view(&idp);
            let (have_users, have_groups) = sp_view(&scim_base).await;
            // Okta does not push profiles to inactive app users, so an
            // inactive user's names are whatever was last pushed.
            for (scim_id, row) in want_users.iter_mut() {
                if !row.1 && let Some(have) = have_users.get(scim_id) {
                    row.2.clone_from(&have.2);
                    row.3.clone_from(&have.3);
                }
            }
            assert_eq!(have_users, want_users, "users after {steps:?}");
            assert_eq!(have_groups, want_groups, "groups after {steps:?}");
            sp.stop().await.unwrap();
        });
    }
}

/// The demo's provisioning act, compiled from the CLI's own source.
#[path = "../../src/demo_provisioning.rs"]
mod demo_act;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_provisioning_act_passes_against_the_reference_sp() {
    let (idp, idp_server) = crate::serve_builtin_idp().await;
    let idp_url = idp_server.url();
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // The base URL stays the default the org's apps point at; the SP
    // listens on a free port.
    let config = reference_sp::config::BUILTIN_CONFIG
        .replace(
            "database = \".local/reference-sp.sqlite3\"",
            &format!("database = \"{}\"", dir.path().join("sp.sqlite3").display()),
        )
        .replace("http://127.0.0.1:7000", &idp_url);
    std::fs::write(dir.path().join("sp.toml"), config).unwrap();
    let options = reference_sp::setup::SpOptions { config: Some(dir.path().join("sp.toml")), ..Default::default() };
    let sp = Arc::new(options.build().unwrap());
    let running = RunningSp::serve(listener, sp.clone()).unwrap();

    let act = demo_act::run(&idp, &idp_url, &sp, &base).await.unwrap();
    let text = act.to_human();
    assert!(act.passed(), "{text}");
    assert_eq!(act.lines.len(), 5, "{text}");
    assert!(text.contains("alice@acme.test signed in by SAML as account usr_"), "{text}");
    let (account, scim_id) = text
        .split("signed in by SAML as account ")
        .nth(1)
        .and_then(|rest| rest.split_once("; the SCIM id is "))
        .map(|(account, rest)| (account.to_owned(), rest.lines().next().unwrap_or_default().to_owned()))
        .unwrap();
    assert_eq!(account, scim_id, "the SAML sign-in is the account SCIM made");
    assert!(text.contains("the SP's account reads active = false"), "{text}");
    assert!(text.contains("× POST /Users → 201") && text.contains("× PATCH /Groups → 200"), "{text}");
    running.stop().await.unwrap();
    idp_server.stop().await.unwrap();
}
