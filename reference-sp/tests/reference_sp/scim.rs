//! The SCIM server over HTTP: Okta's request shapes, the protocol rules and
//! the account rules Okta relies on, each with the flaw that breaks it.

use reference_sp::flaws::Flaw;
use serde_json::{Value, json};

use crate::support::{ADMIN, Harness, SCIM_TOKEN, Spec};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const TENANT_EXT: &str = "urn:mockta:params:scim:schemas:extension:tenant:2.0:User";

struct Scim<'a> {
    sp: &'a Harness,
    client: reqwest::Client,
}

impl<'a> Scim<'a> {
    fn new(sp: &'a Harness) -> Self {
        Scim { sp, client: reqwest::Client::new() }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.sp.url(&format!("/scim/v2/acme{path}")))
            .bearer_auth(SCIM_TOKEN)
            .header("Accept", "application/scim+json")
            .header("User-Agent", "Okta SCIM Client 1.0.0")
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.header("Content-Type", "application/scim+json; charset=utf-8").body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    async fn create(&self, email: &str) -> Value {
        let (status, body) = self.send(reqwest::Method::POST, "/Users", Some(okta_user(email))).await;
        assert_eq!(status, 201, "{body}");
        body
    }

    async fn patch(&self, path: &str, operations: Value) -> (u16, Value) {
        self.send(reqwest::Method::PATCH, path, Some(json!({"schemas": [PATCH], "Operations": operations}))).await
    }

    async fn lookup(&self, user_name: &str) -> Value {
        let filter: String =
            url::form_urlencoded::byte_serialize(format!("userName eq \"{user_name}\"").as_bytes()).collect();
        self.send(reqwest::Method::GET, &format!("/Users?filter={filter}&startIndex=1&count=100"), None).await.1
    }
}

/// The body Okta POSTs to create a user.
fn okta_user(email: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": email,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": email, "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00uTEST",
        "groups": [],
        "password": "random-password-1!",
        "active": true
    })
}

#[tokio::test]
async fn scim_create_read_and_okta_lookup_with_case_variant() {
    let sp = Harness::start(&[]).await;
    let scim = Scim::new(&sp);
    let created = scim.create("Ann.Lee@acme.test").await;
    assert!(created.get("password").is_none(), "the password is never echoed");
    assert_eq!(created["meta"]["version"], "W/\"1\"");
    let id = created["id"].as_str().unwrap();
    let found = scim.lookup("ann.lee@ACME.TEST").await;
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["itemsPerPage"], 1);
    assert_eq!(found["Resources"][0]["id"], id);
    let none = scim.lookup("nobody@acme.test").await;
    assert_eq!(none["totalResults"], 0);
    assert_eq!(none["Resources"], json!([]));

    let flawed = Harness::start(&[Flaw::FilterCaseSensitive]).await;
    let flawed_scim = Scim::new(&flawed);
    flawed_scim.create("Ann.Lee@acme.test").await;
    assert_eq!(flawed_scim.lookup("ann.lee@ACME.TEST").await["totalResults"], 0, "the flaw misses the case variant");
}

#[tokio::test]
async fn scim_duplicate_user_name_is_409_uniqueness_ignoring_case() {
    let sp = Harness::start(&[]).await;
    let scim = Scim::new(&sp);
    scim.create("dup@acme.test").await;
    let (status, body) = scim.send(reqwest::Method::POST, "/Users", Some(okta_user("DUP@acme.test"))).await;
    assert_eq!(status, 409);
    assert_eq!(body["scimType"], "uniqueness");
    assert_eq!(body["status"], "409");
    assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
}

#[tokio::test]
async fn scim_errors_use_the_error_schema() {
    let sp = Harness::start(&[]).await;
    let scim = Scim::new(&sp);
    let (status, body) = scim.send(reqwest::Method::GET, "/Users/010101001010101011001010101011", None).await;
    assert_eq!((status, body["status"].as_str()), (404, Some("404")));
    let (status, body) = scim.send(reqwest::Method::GET, "/Users?filter=userName%20zz%20%22x%22", None).await;
    assert_eq!((status, body["scimType"].as_str()), (400, Some("invalidFilter")));
    let unauthenticated = reqwest::Client::new()
        .get(sp.url("/scim/v2/acme/Users"))
        .header("Authorization", "non-token")
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let body: Value = serde_json::from_str(&unauthenticated.text().await.unwrap()).unwrap();
    assert_eq!(body["status"], "401");
    assert!(body["detail"].is_string());
    let too_big = scim
        .request(reqwest::Method::POST, "/Users")
        .header("Content-Type", "application/scim+json")
        .body(vec![b' '; 300 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);
}

#[tokio::test]
async fn scim_pagination_is_stable_with_integer_counts() {
    let sp = Harness::start(&[]).await;
    let scim = Scim::new(&sp);
    for i in 0..5 {
        scim.create(&format!("page{i}@acme.test")).await;
    }
    let mut seen = Vec::new();
    for start in [1, 3, 5] {
        let (_, page) = scim.send(reqwest::Method::GET, &format!("/Users?startIndex={start}&count=2"), None).await;
        assert!(page["totalResults"].is_u64() && page["itemsPerPage"].is_u64() && page["startIndex"].is_u64());
        assert_eq!(page["itemsPerPage"].as_u64().unwrap() as usize, page["Resources"].as_array().unwrap().len());
        seen.extend(page["Resources"].as_array().unwrap().iter().map(|r| r["userName"].as_str().unwrap().to_owned()));
    }
    assert_eq!(seen, (0..5).map(|i| format!("page{i}@acme.test")).collect::<Vec<_>>());

    let flawed = Harness::start(&[Flaw::ItemsPerPageIsCount]).await;
    let flawed_scim = Scim::new(&flawed);
    flawed_scim.create("only@acme.test").await;
    let (_, page) = flawed_scim.send(reqwest::Method::GET, "/Users?startIndex=1&count=100", None).await;
    assert_eq!(page["itemsPerPage"], 100, "the flaw reports the count asked for");
}

#[tokio::test]
async fn scim_put_replaces_and_clears_what_it_leaves_out() {
    for (flaws, keeps_title) in [(&[][..], false), (&[Flaw::PutPartialMerge][..], true)] {
        let sp = Harness::start(flaws).await;
        let scim = Scim::new(&sp);
        let mut body = okta_user("put@acme.test");
        body["title"] = json!("Engineer");
        let (_, created) = scim.send(reqwest::Method::POST, "/Users", Some(body)).await;
        let id = created["id"].as_str().unwrap();
        let mut replacement = okta_user("put@acme.test");
        replacement["name"]["givenName"] = json!("Changed");
        let (status, replaced) = scim.send(reqwest::Method::PUT, &format!("/Users/{id}"), Some(replacement)).await;
        assert_eq!(status, 200);
        assert_eq!(replaced["name"]["givenName"], "Changed");
        assert_eq!(replaced.get("title").is_some(), keeps_title, "{flaws:?}: {replaced}");
    }
}

#[tokio::test]
async fn scim_etag_if_match_mismatch_is_412() {
    let sp = Harness::start(&[]).await;
    let scim = Scim::new(&sp);
    let created = scim.create("etag@acme.test").await;
    let id = created["id"].as_str().unwrap();
    let stale = scim
        .request(reqwest::Method::PUT, &format!("/Users/{id}"))
        .header("If-Match", "W/\"7\"")
        .header("Content-Type", "application/scim+json")
        .body(okta_user("etag@acme.test").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    let current = scim
        .request(reqwest::Method::PUT, &format!("/Users/{id}"))
        .header("If-Match", "W/\"1\"")
        .header("Content-Type", "application/json")
        .body(okta_user("etag@acme.test").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(current.status(), 200);
    assert_eq!(current.headers()["etag"], "W/\"2\"");
}

/// Signs the user in by SAML and returns the browser with the session.
async fn signed_in(sp: &Harness, email: &str) -> reqwest::Client {
    let browser = sp.browser();
    assert!(sp.post(&browser, &Spec::valid(email).encoded(), None).await.signed_in());
    browser
}

#[tokio::test]
async fn scim_deactivation_keeps_the_user_ends_sessions_and_blocks_sign_in() {
    let sp = Harness::start(&[]).await;
    let scim = Scim::new(&sp);
    let id = scim.create("leaver@acme.test").await["id"].as_str().unwrap().to_owned();
    let browser = signed_in(&sp, "leaver@acme.test").await;
    assert!(sp.whoami(&browser).await.is_some());

    let (status, body) =
        scim.patch(&format!("/Users/{id}"), json!([{"op": "replace", "value": {"active": false}}])).await;
    assert_eq!(status, 200);
    assert_eq!(body["active"], false);
    assert!(sp.whoami(&browser).await.is_none(), "deactivation ends the session at once");
    let (status, read) = scim.send(reqwest::Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!((status, read["active"].as_bool()), (200, Some(false)), "a deactivated user stays readable");
    let refused = sp.post(&sp.browser(), &Spec::valid("leaver@acme.test").encoded(), None).await;
    assert!(!refused.signed_in());
    assert_eq!(refused.code.as_deref(), Some("account.deactivated"));

    let (_, reactivated) =
        scim.patch(&format!("/Users/{id}"), json!([{"op": "replace", "value": {"active": true}}])).await;
    assert_eq!(reactivated["active"], true);
    assert!(sp.post(&sp.browser(), &Spec::valid("leaver@acme.test").encoded(), None).await.signed_in());
}

#[tokio::test]
async fn scim_deactivation_flaws_break_what_they_name() {
    let ignored = Harness::start(&[Flaw::PatchPathlessIgnored]).await;
    let scim = Scim::new(&ignored);
    let id = scim.create("stays@acme.test").await["id"].as_str().unwrap().to_owned();
    let (_, body) = scim.patch(&format!("/Users/{id}"), json!([{"op": "replace", "value": {"active": false}}])).await;
    assert_eq!(body["active"], true, "patch-pathless-ignored leaves the user active");

    let keeps = Harness::start(&[Flaw::DeactivateKeepsSessions]).await;
    let scim = Scim::new(&keeps);
    let id = scim.create("ghost@acme.test").await["id"].as_str().unwrap().to_owned();
    let browser = signed_in(&keeps, "ghost@acme.test").await;
    scim.patch(&format!("/Users/{id}"), json!([{"op": "replace", "value": {"active": false}}])).await;
    assert!(keeps.whoami(&browser).await.is_some(), "deactivate-keeps-sessions leaves the session alive");
    let deletes = Harness::start(&[Flaw::DeactivateDeletes]).await;
    let scim = Scim::new(&deletes);
    let id = scim.create("gone@acme.test").await["id"].as_str().unwrap().to_owned();
    scim.patch(&format!("/Users/{id}"), json!([{"op": "replace", "value": {"active": false}}])).await;
    assert_eq!(scim.send(reqwest::Method::GET, &format!("/Users/{id}"), None).await.0, 404);
}

#[tokio::test]
async fn scim_email_change_moves_the_account() {
    let sp = Harness::start(&[]).await;
    let scim = Scim::new(&sp);
    let id = scim.create("old.name@acme.test").await["id"].as_str().unwrap().to_owned();
    signed_in(&sp, "old.name@acme.test").await;
    let (status, _) =
        scim.send(reqwest::Method::PUT, &format!("/Users/{id}"), Some(okta_user("new.name@acme.test"))).await;
    assert_eq!(status, 200);
    let browser = signed_in(&sp, "new.name@acme.test").await;
    assert_eq!(sp.whoami(&browser).await.unwrap()["user_id"], id.as_str(), "the same account, not a new one");
    let (_, found) =
        scim.send(reqwest::Method::GET, "/Users?filter=userName%20eq%20%22old.name%40acme.test%22", None).await;
    assert_eq!(found["totalResults"], 0);
    // The old email no longer reaches this account. (The tenant is JIT, so
    // it may get an account of its own, which must be a different one.)
    let old_browser = sp.browser();
    if sp.post(&old_browser, &Spec::valid("old.name@acme.test").encoded(), None).await.signed_in() {
        assert_ne!(sp.whoami(&old_browser).await.unwrap()["user_id"], id.as_str());
    }
}

#[tokio::test]
async fn scim_group_push_membership_rename_and_unlink() {
    let sp = Harness::start(&[]).await;
    let scim = Scim::new(&sp);
    let a = scim.create("a@acme.test").await["id"].as_str().unwrap().to_owned();
    let b = scim.create("b@acme.test").await["id"].as_str().unwrap().to_owned();
    let c = scim.create("c@acme.test").await["id"].as_str().unwrap().to_owned();
    let (status, group) = scim
        .send(
            reqwest::Method::POST,
            "/Groups",
            Some(json!({"schemas": [GROUP], "displayName": "Sales", "members": [{"value": a}, {"value": b}]})),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    let gid = group["id"].as_str().unwrap().to_owned();
    let members = |g: &Value| -> Vec<String> {
        let mut m: Vec<String> =
            g["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap().to_owned()).collect();
        m.sort();
        m
    };
    let (_, changed) = scim
        .patch(
            &format!("/Groups/{gid}"),
            json!([
                {"op": "remove", "path": format!("members[value eq \"{a}\"]")},
                {"op": "add", "path": "members", "value": [{"value": c, "display": "C"}]}
            ]),
        )
        .await;
    let mut expected = vec![b.clone(), c.clone()];
    expected.sort();
    assert_eq!(members(&changed), expected);
    let (_, renamed) = scim
        .patch(&format!("/Groups/{gid}"), json!([{"op": "replace", "value": {"id": gid, "displayName": "Sales EMEA"}}]))
        .await;
    assert_eq!(renamed["displayName"], "Sales EMEA");
    assert_eq!(members(&renamed), expected, "the rename keeps the members");
    let (_, removed_user) = scim.send(reqwest::Method::GET, &format!("/Users/{a}"), None).await;
    assert_eq!(removed_user["active"], true, "removing a member never deactivates them");
    assert_eq!(scim.send(reqwest::Method::DELETE, &format!("/Groups/{gid}"), None).await.0, 204);
    assert_eq!(scim.send(reqwest::Method::GET, &format!("/Groups/{gid}"), None).await.0, 404);
    assert_eq!(scim.send(reqwest::Method::GET, &format!("/Users/{b}"), None).await.1["active"], true);

    for (flaw, check) in [(Flaw::MemberRemoveIgnored, "remove"), (Flaw::RenameReplaceWipesMembers, "rename")] {
        let flawed = Harness::start(&[flaw]).await;
        let scim = Scim::new(&flawed);
        let a = scim.create("a@acme.test").await["id"].as_str().unwrap().to_owned();
        let (_, group) = scim
            .send(
                reqwest::Method::POST,
                "/Groups",
                Some(json!({"schemas": [GROUP], "displayName": "Sales", "members": [{"value": a}]})),
            )
            .await;
        let gid = group["id"].as_str().unwrap().to_owned();
        let operations = if check == "remove" {
            json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}])
        } else {
            json!([{"op": "replace", "value": {"id": gid, "displayName": "Renamed"}}])
        };
        let (_, after) = scim.patch(&format!("/Groups/{gid}"), operations).await;
        let count = after["members"].as_array().map_or(0, Vec::len);
        assert_eq!(count, if check == "remove" { 1 } else { 0 }, "--flaw {flaw}: {after}");
    }
}

#[tokio::test]
async fn scim_push_to_unknown_team_refused_where_teams_must_exist() {
    let sp = Harness::start(&[]).await;
    let client = reqwest::Client::new();
    let push = |name: &str| {
        client
            .post(sp.url("/scim/v2/globex/Groups"))
            .basic_auth("okta", Some(ADMIN.1))
            .header("Content-Type", "application/scim+json")
            .body(json!({"schemas": [GROUP], "displayName": name, "members": []}).to_string())
            .send()
    };
    let refused = push("No Such Team").await.unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = serde_json::from_str(&refused.text().await.unwrap()).unwrap();
    assert!(body["detail"].as_str().unwrap().contains("no team named 'No Such Team'"), "{body}");
    let wrong_password =
        client.get(sp.url("/scim/v2/globex/Users")).basic_auth("okta", Some("wrong")).send().await.unwrap();
    assert_eq!(wrong_password.status(), 401);

    // A team that exists in the app is linked by the push, under its id.
    let created = client
        .post(sp.url("/admin/tenants/globex/teams"))
        .basic_auth("breakglass@globex.test", Some(ADMIN.1))
        .json(&json!({"name": "Field Crew"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let team: Value = created.json().await.unwrap();
    let linked = push("field crew").await.unwrap();
    assert_eq!(linked.status(), 201);
    let group: Value = serde_json::from_str(&linked.text().await.unwrap()).unwrap();
    assert_eq!(group["id"], team["id"], "the push linked the existing team");
    assert_eq!(push("Field Crew").await.unwrap().status(), 409, "a linked team cannot be pushed twice");
}

#[tokio::test]
async fn scim_last_admin_cannot_be_deactivated_or_demoted() {
    for (flaws, allowed) in [(&[][..], false), (&[Flaw::AllowLastAdminDeactivation][..], true)] {
        let sp = Harness::start(flaws).await;
        let scim = Scim::new(&sp);
        let mut admin = okta_user("boss@acme.test");
        admin[TENANT_EXT] = json!({"role": "Admin"});
        let (_, created) = scim.send(reqwest::Method::POST, "/Users", Some(admin)).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let (status, body) =
            scim.patch(&format!("/Users/{id}"), json!([{"op": "replace", "value": {"active": false}}])).await;
        assert_eq!(status == 200, allowed, "{flaws:?}: {body}");
        if !allowed {
            assert_eq!(status, 409);
            assert!(body["detail"].as_str().unwrap().contains("last active admin"));
            let (status, _) = scim
                .patch(
                    &format!("/Users/{id}"),
                    json!([{"op": "replace", "path": format!("{TENANT_EXT}:role"), "value": "User"}]),
                )
                .await;
            assert_eq!(status, 409, "demoting the last admin is refused too");
            let mut second = okta_user("deputy@acme.test");
            second[TENANT_EXT] = json!({"role": "EnterpriseAdmin"});
            scim.send(reqwest::Method::POST, "/Users", Some(second)).await;
            let (status, _) =
                scim.patch(&format!("/Users/{id}"), json!([{"op": "replace", "value": {"active": false}}])).await;
            assert_eq!(status, 200, "with another admin it is allowed");
        }
    }
}

#[tokio::test]
async fn scim_token_rotation_stops_the_old_token_at_once() {
    let sp = Harness::start(&[]).await;
    let scim = Scim::new(&sp);
    assert_eq!(scim.send(reqwest::Method::GET, "/Users", None).await.0, 200);
    let rotated: Value = sp
        .admin(&sp.browser(), reqwest::Method::POST, "/admin/tenants/acme/scim-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = rotated["token"].as_str().unwrap();
    assert_eq!(scim.send(reqwest::Method::GET, "/Users", None).await.0, 401, "the old token stops working");
    let fresh = reqwest::Client::new().get(sp.url("/scim/v2/acme/Users")).bearer_auth(token).send().await.unwrap();
    assert_eq!(fresh.status(), 200);
}

#[tokio::test]
async fn scim_discovery_endpoints_answer() {
    let sp = Harness::start(&[]).await;
    let scim = Scim::new(&sp);
    let (status, config) = scim.send(reqwest::Method::GET, "/ServiceProviderConfig", None).await;
    assert_eq!(status, 200);
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(scim.send(reqwest::Method::GET, "/ResourceTypes", None).await.1["totalResults"], 2);
    assert_eq!(scim.send(reqwest::Method::GET, "/Schemas", None).await.1["totalResults"], 7);
    assert_eq!(scim.send(reqwest::Method::GET, &format!("/Schemas/{USER}"), None).await.0, 200);
}

#[tokio::test]
async fn scim_lookup_and_duplicate_flaws_break_okta_expectations() {
    let sp = Harness::start(&[Flaw::NoMatchReturns404]).await;
    let scim = Scim::new(&sp);
    let filter = "/Users?filter=userName%20eq%20%22nobody%40acme.test%22";
    assert_eq!(scim.send(reqwest::Method::GET, filter, None).await.0, 404, "no-match-returns-404");

    let sp = Harness::start(&[Flaw::DupReturns200]).await;
    let scim = Scim::new(&sp);
    scim.create("twice@acme.test").await;
    let (status, _) = scim.send(reqwest::Method::POST, "/Users", Some(okta_user("twice@acme.test"))).await;
    assert_eq!(status, 200, "dup-returns-200 answers a duplicate with the existing user");

    let sp = Harness::start(&[Flaw::ErrorNotScimSchema]).await;
    let scim = Scim::new(&sp);
    let (status, body) = scim.send(reqwest::Method::GET, "/Users/nope", None).await;
    assert_eq!(status, 404);
    assert!(body.get("schemas").is_none() && body["error"].is_string(), "{body}");
}

#[tokio::test]
async fn scim_unstable_pagination_flaw_repeats_or_skips_users() {
    let sp = Harness::start(&[Flaw::UnstablePagination]).await;
    let scim = Scim::new(&sp);
    for i in 0..12 {
        scim.create(&format!("import{i}@acme.test")).await;
    }
    // An import pages by startIndex; with no stable order some page repeats
    // or misses users. Ten imports make a stable result vanishingly unlikely.
    let mut every_import_complete = true;
    for _ in 0..10 {
        let mut seen = std::collections::BTreeSet::new();
        for start in (1..=12).step_by(3) {
            let (_, page) = scim.send(reqwest::Method::GET, &format!("/Users?startIndex={start}&count=3"), None).await;
            for user in page["Resources"].as_array().unwrap() {
                seen.insert(user["id"].as_str().unwrap().to_owned());
            }
        }
        every_import_complete &= seen.len() == 12;
    }
    assert!(!every_import_complete, "unstable-pagination must make some import incomplete");
}

#[tokio::test]
async fn jit_never_revives_a_deactivated_user_unless_flawed() {
    for (flaws, revived) in [(&[][..], false), (&[Flaw::JitRevivesDeactivated][..], true)] {
        let sp = Harness::start(flaws).await;
        let scim = Scim::new(&sp);
        let id = scim.create("returner@acme.test").await["id"].as_str().unwrap().to_owned();
        scim.patch(&format!("/Users/{id}"), json!([{"op": "replace", "value": {"active": false}}])).await;
        let outcome = sp.post(&sp.browser(), &Spec::valid("returner@acme.test").encoded(), None).await;
        assert_eq!(outcome.signed_in(), revived, "{flaws:?}: {outcome:?}");
        let (_, user) = scim.send(reqwest::Method::GET, &format!("/Users/{id}"), None).await;
        assert_eq!(user["active"], revived);
        let (_, all) = scim.send(reqwest::Method::GET, "/Users", None).await;
        assert_eq!(all["totalResults"], 1, "JIT never makes a second account for a deactivated user");
    }
}

#[tokio::test]
async fn sso_required_waits_for_an_admin_sign_in_and_break_glass_keeps_a_way_in() {
    let sp = Harness::start(&[]).await;
    let admin_api = |body: Value| {
        sp.admin(&sp.browser(), reqwest::Method::PATCH, "/admin/tenants/acme/settings").json(&body).send()
    };
    let refused = admin_api(json!({"sso_required": true})).await.unwrap();
    assert_eq!(refused.status(), 409);
    assert_eq!(refused.headers()["x-error-code"], "lockout.no_admin_sign_in");

    // A user signs in: not an admin, so still refused.
    assert!(sp.post(&sp.browser(), &Spec::valid("member@acme.test").encoded(), None).await.signed_in());
    assert_eq!(admin_api(json!({"sso_required": true})).await.unwrap().status(), 409);

    // An admin (by the role attribute) signs in through the IdP.
    let mut admin = Spec::valid("chief@acme.test");
    admin.attributes.push(("role".into(), vec!["Admin".into()]));
    assert!(sp.post(&sp.browser(), &admin.encoded(), None).await.signed_in());
    let accepted = admin_api(json!({"sso_required": true})).await.unwrap();
    assert_eq!(accepted.status(), 200);
    let settings: Value = accepted.json().await.unwrap();
    assert_eq!(settings["sso_required"], true);

    // The break-glass admin still gets in, with SSO required.
    let settings = sp.admin(&sp.browser(), reqwest::Method::GET, "/admin/tenants/acme/settings").send().await.unwrap();
    assert_eq!(settings.status(), 200);
}

/// Under `sso-enforcement-without-admin-sign-in` the guard is gone: SSO is
/// required at once, before anyone has signed in through the IdP.
#[tokio::test]
async fn sso_enforcement_without_admin_sign_in_requires_sso_at_once() {
    let sp = Harness::start(&[Flaw::SsoEnforcementWithoutAdminSignIn]).await;
    let taken = sp
        .admin(&sp.browser(), reqwest::Method::PATCH, "/admin/tenants/acme/settings")
        .json(&json!({"sso_required": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), 200);
    let settings: Value = taken.json().await.unwrap();
    assert_eq!(
        (settings["sso_required"].clone(), settings["admin_signed_in_via_idp"].clone()),
        (json!(true), json!(false))
    );
}

#[tokio::test]
async fn deactivating_the_scim_credential_owner_is_reported() {
    let sp = Harness::start(&[]).await;
    let scim = Scim::new(&sp);
    let owner = scim.create("owner@acme.test").await["id"].as_str().unwrap().to_owned();
    let (status, body) =
        scim.patch(&format!("/Users/{owner}"), json!([{"op": "replace", "value": {"active": false}}])).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("owns tenant acme's SCIM credential"));
    assert_eq!(scim.send(reqwest::Method::GET, &format!("/Users/{owner}"), None).await.1["active"], true);
}

#[tokio::test]
async fn emptying_the_admin_team_cannot_remove_the_last_admin() {
    let sp = Harness::start(&[]).await;
    let scim = Scim::new(&sp);
    let id = scim.create("team.admin@acme.test").await["id"].as_str().unwrap().to_owned();
    let (status, team) = scim
        .send(
            reqwest::Method::POST,
            "/Groups",
            Some(json!({"schemas": [GROUP], "displayName": "acme-admins", "members": [{"value": id}]})),
        )
        .await;
    assert_eq!(status, 201, "{team}");
    let gid = team["id"].as_str().unwrap().to_owned();
    let (status, body) =
        scim.patch(&format!("/Groups/{gid}"), json!([{"op": "replace", "path": "members", "value": []}])).await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = scim
        .patch(&format!("/Groups/{gid}"), json!([{"op": "replace", "value": {"id": gid, "displayName": "not-admins"}}]))
        .await;
    assert_eq!(status, 409, "renaming the admin team away demotes its members too");
}

#[tokio::test]
async fn put_without_active_keeps_a_deactivated_user_deactivated() {
    let sp = Harness::start(&[]).await;
    let scim = Scim::new(&sp);
    let id = scim.create("quiet@acme.test").await["id"].as_str().unwrap().to_owned();
    scim.patch(&format!("/Users/{id}"), json!([{"op": "replace", "value": {"active": false}}])).await;
    let mut body = okta_user("quiet@acme.test");
    body.as_object_mut().unwrap().remove("active");
    let (status, user) = scim.send(reqwest::Method::PUT, &format!("/Users/{id}"), Some(body)).await;
    assert_eq!(status, 200);
    let refused = sp.post(&sp.browser(), &Spec::valid("quiet@acme.test").encoded(), None).await;
    assert_eq!(refused.code.as_deref(), Some("account.deactivated"), "{user}");
}

#[tokio::test]
async fn okta_pathless_patch_naming_the_users_own_id_is_accepted() {
    let sp = Harness::start(&[]).await;
    let scim = Scim::new(&sp);
    let id = scim.create("self@acme.test").await["id"].as_str().unwrap().to_owned();
    let (status, body) = scim
        .patch(&format!("/Users/{id}"), json!([{"op": "replace", "value": {"id": id, "displayName": "Self"}}]))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["displayName"], "Self");
}
