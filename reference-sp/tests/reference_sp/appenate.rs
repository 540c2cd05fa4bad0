//! A tenant set up as the Appenate guide says that SP is: OIDC as a public
//! native client with PKCE and the authorization code grant only, the role
//! taken from an app-profile claim at every sign-in, SSO required from the
//! start (break-glass still works), and a SCIM server that requires the
//! first name, last name and email and keeps the email unique. Each rule is
//! shown with the flaw that breaks it.

use reference_sp::flaws::Flaw;
use serde_json::{Value, json};

use crate::oidc_support::{ClientAuth, HarnessOptions, OidcHarness};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const TENANT_EXT: &str = "urn:mockta:params:scim:schemas:extension:tenant:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SCIM_TOKEN: &str = "appenate-scim-token";
const ROLES: [&str; 4] = ["ReadOnly", "User", "Admin", "EnterpriseAdmin"];

/// Tenant `acme` as the Appenate guide's SP: a public client (PKCE, no
/// secret), scopes without `offline_access`, roles from the `role` claim,
/// SSO required from the start, and its SCIM server.
async fn appenate(flaws: &[Flaw]) -> OidcHarness {
    let acme_extra = format!(
        r#"roles = {ROLES:?}
role_claim = "role"
sso_required = true
scim = {{ token = "{SCIM_TOKEN}", required_attributes = ["name.givenName", "name.familyName", "emails"], extension = ["role"] }}"#
    );
    OidcHarness::start_with(HarnessOptions {
        client_auth: ClientAuth::None,
        flaws: flaws.to_vec(),
        acme_extra,
        ..HarnessOptions::default()
    })
    .await
}

/// Signs in a fresh browser with the role claim the provider now sends.
async fn sign_in_with_role(
    harness: &OidcHarness,
    role: Option<&'static str>,
) -> (crate::support::Outcome, Option<Value>) {
    harness.op.set_edit(move |_, claims| match role {
        Some(role) => {
            claims.insert("role".into(), Value::from(role));
        }
        None => {
            claims.remove("role");
        }
    });
    let browser = harness.browser();
    let outcome = harness.sign_in(&browser).await;
    let who = harness.whoami(&browser).await;
    (outcome, who)
}

#[tokio::test]
async fn the_role_claim_is_taken_at_every_sign_in_and_an_unknown_role_is_refused() {
    let harness = appenate(&[]).await;
    let (outcome, who) = sign_in_with_role(&harness, Some("EnterpriseAdmin")).await;
    assert_eq!(outcome.code, None, "{outcome:?}");
    assert_eq!(who.unwrap()["role"], "EnterpriseAdmin");
    // The Okta admin changes the app profile's role: the next sign-in takes it.
    let (_, who) = sign_in_with_role(&harness, Some("readonly")).await;
    assert_eq!(who.unwrap()["role"], "ReadOnly", "matched without regard to case, kept in the tenant's spelling");
    // A role the tenant does not have is refused, not guessed or kept.
    let (outcome, who) = sign_in_with_role(&harness, Some("SuperUser")).await;
    assert_eq!((outcome.status, outcome.code.as_deref()), (403, Some("account.role_unknown")));
    assert!(who.is_none());
    // No role on the app profile is app access only: no role.
    let (outcome, who) = sign_in_with_role(&harness, None).await;
    assert_eq!(outcome.code, None, "{outcome:?}");
    assert!(who.unwrap().get("role").is_none());
}

#[tokio::test]
async fn role_only_at_creation_keeps_the_first_role() {
    let harness = appenate(&[Flaw::RoleOnlyAtCreation]).await;
    let (_, who) = sign_in_with_role(&harness, Some("EnterpriseAdmin")).await;
    assert_eq!(who.unwrap()["role"], "EnterpriseAdmin");
    let (_, who) = sign_in_with_role(&harness, Some("ReadOnly")).await;
    assert_eq!(who.unwrap()["role"], "EnterpriseAdmin", "the flaw keeps the role given at creation");
}

#[tokio::test]
async fn the_tenant_signs_in_as_a_public_native_client_with_the_code_grant_only_and_requires_sso() {
    let harness = appenate(&[]).await;
    let (outcome, who) = sign_in_with_role(&harness, Some("User")).await;
    assert_eq!(outcome.code, None, "{outcome:?}");
    assert_eq!(who.unwrap()["role"], "User");
    let authorize = harness.op.authorize_requests.lock().unwrap().last().cloned().unwrap();
    assert_eq!(authorize.get("response_type").map(String::as_str), Some("code"));
    assert_eq!(authorize.get("code_challenge_method").map(String::as_str), Some("S256"));
    let scopes = authorize.get("scope").cloned().unwrap_or_default();
    assert!(scopes.split(' ').any(|s| s == "openid") && !scopes.contains("offline_access"), "{scopes}");
    let token = harness.op.token_requests.lock().unwrap().last().cloned().unwrap();
    assert_eq!(token.get("grant_type").map(String::as_str), Some("authorization_code"));
    assert!(token.contains_key("code_verifier") && !token.contains_key("client_secret"), "{token:?}");
    // Only the authorization code grant: no refresh token was asked for, so
    // the session has none to redeem.
    assert!(harness.refresh_requests().is_empty());
    // SSO is required from the start, and the break-glass admin still gets in.
    let admin = reqwest::Client::new()
        .get(harness.url("/admin/tenants/acme/settings"))
        .basic_auth("breakglass@acme.test", Some("test-breakglass-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 200);
    let settings: Value = admin.json().await.unwrap();
    assert_eq!(settings["sso_required"], true, "{settings}");
}

struct Scim<'a> {
    harness: &'a OidcHarness,
    client: reqwest::Client,
}

impl Scim<'_> {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, self.harness.url(&format!("/scim/v2/acme{path}")))
            .bearer_auth(SCIM_TOKEN)
            .header("Accept", "application/scim+json");
        if let Some(body) = body {
            request = request.header("Content-Type", "application/scim+json; charset=utf-8").body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    async fn found(&self, user_name: &str) -> u64 {
        let filter: String =
            url::form_urlencoded::byte_serialize(format!("userName eq \"{user_name}\"").as_bytes()).collect();
        let (_, body) = self.send(reqwest::Method::GET, &format!("/Users?filter={filter}"), None).await;
        body["totalResults"].as_u64().unwrap_or(0)
    }
}

/// Okta's create, with the Appenate attributes.
fn okta_user(user_name: &str, email: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": user_name,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"primary": true, "value": email, "type": "work"}],
        "displayName": "Ada Lovelace",
        "externalId": "00u1",
        "groups": [],
        "active": true
    })
}

#[tokio::test]
async fn a_write_without_a_required_attribute_is_refused_and_stores_nothing() {
    let harness = appenate(&[]).await;
    let scim = Scim { harness: &harness, client: reqwest::Client::new() };
    for (missing, edit) in [
        ("name.givenName", json!({"familyName": "Lovelace"})),
        ("name.familyName", json!({"givenName": "Ada", "familyName": ""})),
    ] {
        let mut body = okta_user("ada@acme.test", "ada@acme.test");
        body["name"] = edit;
        let (status, error) = scim.send(reqwest::Method::POST, "/Users", Some(body)).await;
        assert_eq!(
            (status, error["scimType"].as_str(), error["status"].as_str()),
            (400, Some("invalidValue"), Some("400"))
        );
        assert!(error["detail"].as_str().unwrap().contains(missing), "{error}");
        assert_eq!(scim.found("ada@acme.test").await, 0, "a refused create stores nothing");
    }
    let mut no_email = okta_user("ada@acme.test", "ada@acme.test");
    no_email.as_object_mut().unwrap().remove("emails");
    let (status, error) = scim.send(reqwest::Method::POST, "/Users", Some(no_email)).await;
    assert_eq!(status, 400);
    assert!(error["detail"].as_str().unwrap().contains("emails"), "{error}");

    let (status, created) =
        scim.send(reqwest::Method::POST, "/Users", Some(okta_user("ada@acme.test", "ada@acme.test"))).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    // A PUT that leaves the family name out is refused and changes nothing.
    let mut put = okta_user("ada@acme.test", "ada@acme.test");
    put["name"] = json!({"givenName": "Ada"});
    let (status, _) = scim.send(reqwest::Method::PUT, &format!("/Users/{id}"), Some(put)).await;
    assert_eq!(status, 400);
    let (_, read) = scim.send(reqwest::Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(read["name"]["familyName"], "Lovelace");
    // Okta's deactivation (a path-less PATCH) still goes through.
    let deactivate = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": false}}]});
    let (status, _) = scim.send(reqwest::Method::PATCH, &format!("/Users/{id}"), Some(deactivate)).await;
    assert_eq!(status, 200);

    // /Schemas says what is required.
    let (_, schema) = scim.send(reqwest::Method::GET, &format!("/Schemas/{USER}"), None).await;
    let attribute =
        |name: &str| schema["attributes"].as_array().unwrap().iter().find(|a| a["name"] == name).unwrap().clone();
    let name = attribute("name");
    let part = |p: &str| {
        name["subAttributes"].as_array().unwrap().iter().find(|a| a["name"] == p).unwrap()["required"].clone()
    };
    assert_eq!((part("givenName"), part("familyName"), part("middleName")), (json!(true), json!(true), json!(false)));
    assert_eq!(
        (attribute("emails")["required"].clone(), attribute("displayName")["required"].clone()),
        (json!(true), json!(false))
    );
}

#[tokio::test]
async fn required_attributes_unchecked_stores_a_user_with_an_empty_name() {
    let harness = appenate(&[Flaw::RequiredAttributesUnchecked]).await;
    let scim = Scim { harness: &harness, client: reqwest::Client::new() };
    let mut body = okta_user("ada@acme.test", "ada@acme.test");
    body["name"] = json!({"familyName": "Lovelace"});
    let (status, _) = scim.send(reqwest::Method::POST, "/Users", Some(body)).await;
    assert_eq!(status, 201);
    assert_eq!(scim.found("ada@acme.test").await, 1);
}

#[tokio::test]
async fn a_primary_email_is_unique_on_create_and_update_unless_the_flaw_keys_on_the_user_name() {
    for (flaws, duplicate_status) in [(vec![], 409), (vec![Flaw::EmailNotUnique], 201)] {
        let harness = appenate(&flaws).await;
        let scim = Scim { harness: &harness, client: reqwest::Client::new() };
        let (status, _) =
            scim.send(reqwest::Method::POST, "/Users", Some(okta_user("ada@acme.test", "ada@acme.test"))).await;
        assert_eq!(status, 201);
        let (status, error) =
            scim.send(reqwest::Method::POST, "/Users", Some(okta_user("ada.l@acme.test", "Ada@acme.test"))).await;
        assert_eq!(status, duplicate_status, "{flaws:?}: {error}");
        if duplicate_status == 409 {
            assert_eq!(error["scimType"], "uniqueness");
            assert_eq!(scim.found("ada.l@acme.test").await, 0);
            let (status, grace) =
                scim.send(reqwest::Method::POST, "/Users", Some(okta_user("grace@acme.test", "grace@acme.test"))).await;
            assert_eq!(status, 201);
            let id = grace["id"].as_str().unwrap();
            let (status, error) = scim
                .send(
                    reqwest::Method::PUT,
                    &format!("/Users/{id}"),
                    Some(okta_user("grace@acme.test", "ada@acme.test")),
                )
                .await;
            assert_eq!((status, error["scimType"].as_str()), (409, Some("uniqueness")), "{error}");
        }
    }
}

#[tokio::test]
async fn a_scim_role_outside_the_tenants_roles_is_refused() {
    let harness = OidcHarness::start_with(HarnessOptions {
        client_auth: ClientAuth::None,
        acme_extra: format!(
            r#"roles = ["User", "Admin"]
scim = {{ token = "{SCIM_TOKEN}", extension = ["role"] }}"#
        ),
        ..HarnessOptions::default()
    })
    .await;
    let scim = Scim { harness: &harness, client: reqwest::Client::new() };
    let with_role = |email: &str, role: &str| {
        let mut body = okta_user(email, email);
        body["schemas"] = json!([USER, TENANT_EXT]);
        body[TENANT_EXT] = json!({"role": role});
        body
    };
    // ReadOnly is one of the Appenate guide's roles, but not this tenant's.
    let (status, error) =
        scim.send(reqwest::Method::POST, "/Users", Some(with_role("ada@acme.test", "ReadOnly"))).await;
    assert_eq!((status, error["scimType"].as_str()), (400, Some("invalidValue")), "{error}");
    assert!(error["detail"].as_str().unwrap().contains("User, Admin"), "{error}");
    assert_eq!(scim.found("ada@acme.test").await, 0);
    let (status, created) = scim.send(reqwest::Method::POST, "/Users", Some(with_role("ada@acme.test", "admin"))).await;
    assert_eq!(status, 201, "{created}");
}
