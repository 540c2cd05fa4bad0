//! What a bad-input probe found, each fixed with a test: routes that must
//! authenticate, refusals that must carry a code, and floods that must stay
//! bounded.

use std::collections::BTreeSet;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reference_sp::sp::{MAX_PENDING_SIGN_INS_PER_TENANT, Sp, SystemClock};
use reference_sp::store::SignInStore;
use reference_sp::store::sqlite::SqliteStore;
use reqwest::Method;

use crate::support::{ADMIN, Harness, SCIM_TOKEN, Spec, metadata_xml};

#[tokio::test]
async fn every_scim_and_admin_route_refuses_a_missing_or_other_tenants_credential() {
    let sp = Harness::start(&[]).await;
    let client = reqwest::Client::new();
    let scim_routes = [
        (Method::GET, "/Users"),
        (Method::POST, "/Users"),
        (Method::GET, "/Users/usr_x"),
        (Method::PUT, "/Users/usr_x"),
        (Method::PATCH, "/Users/usr_x"),
        (Method::DELETE, "/Users/usr_x"),
        (Method::GET, "/Groups"),
        (Method::POST, "/Groups"),
        (Method::GET, "/Groups/grp_x"),
        (Method::PUT, "/Groups/grp_x"),
        (Method::PATCH, "/Groups/grp_x"),
        (Method::DELETE, "/Groups/grp_x"),
        (Method::GET, "/ServiceProviderConfig"),
        (Method::GET, "/ResourceTypes"),
        (Method::GET, "/ResourceTypes/User"),
        (Method::GET, "/Schemas"),
        (Method::GET, "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"),
        (Method::POST, "/.search"),
        (Method::POST, "/Users/.search"),
        (Method::POST, "/Groups/.search"),
    ];
    for (method, path) in scim_routes {
        let url = sp.url(&format!("/scim/v2/globex{path}"));
        let missing = client.request(method.clone(), &url).json(&serde_json::json!({})).send().await.unwrap();
        assert_eq!(missing.status(), 401, "{method} {path} without a credential");
        // acme's token is a real token, but not globex's.
        let other = client.request(method.clone(), &url).bearer_auth(SCIM_TOKEN).send().await.unwrap();
        assert_eq!(other.status(), 401, "{method} {path} with another tenant's token");
    }
    let admin_routes = [
        (Method::GET, "/users"),
        (Method::POST, "/users"),
        (Method::GET, "/settings"),
        (Method::PATCH, "/settings"),
        (Method::POST, "/refresh-metadata"),
        (Method::POST, "/scim-token"),
        (Method::POST, "/teams"),
    ];
    for (method, path) in admin_routes {
        let url = sp.url(&format!("/admin/tenants/globex{path}"));
        let missing = client.request(method.clone(), &url).send().await.unwrap();
        assert_eq!(missing.status(), 401, "{method} {path} without a credential");
        assert_eq!(missing.headers()["x-error-code"], "admin.unauthorized");
        // acme's break-glass admin is no admin of globex.
        let other = client.request(method.clone(), &url).basic_auth(ADMIN.0, Some(ADMIN.1)).send().await.unwrap();
        assert_eq!(other.status(), 401, "{method} {path} as another tenant's admin");
    }
    // The extractors let the right credential through.
    let own = client.get(sp.url("/scim/v2/acme/Users")).bearer_auth(SCIM_TOKEN).send().await.unwrap();
    assert_eq!(own.status(), 200);
    let own = client.get(sp.url("/admin/tenants/acme/users")).basic_auth(ADMIN.0, Some(ADMIN.1)).send().await.unwrap();
    assert_eq!(own.status(), 200);
}

#[tokio::test]
async fn acs_form_refusals_carry_an_error_code() {
    let sp = Harness::start(&[]).await;
    let client = reqwest::Client::new();
    let acs = sp.url("/sso/acs/acme");
    let too_large = client
        .post(&acs)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("SAMLResponse={}", "A".repeat(800 * 1024)))
        .send()
        .await
        .unwrap();
    let not_a_form =
        client.post(&acs).header("content-type", "text/plain").body("SAMLResponse=x").send().await.unwrap();
    let no_response = client.post(&acs).form(&[("RelayState", "/welcome")]).send().await.unwrap();
    for (response, status, code) in [
        (too_large, 413, "request.too_large"),
        (not_a_form, 415, "request.unsupported_media_type"),
        (no_response, 422, "request.invalid_form"),
    ] {
        assert_eq!(response.status(), status);
        assert_eq!(response.headers().get("x-error-code").map(|v| v.to_str().unwrap()), Some(code), "{status}");
        let page = response.text().await.unwrap();
        assert!(page.contains(&format!("data-error-code=\"{code}\"")), "{page}");
    }
}

/// Asserts a refusal outside SCIM: the status, the `x-error-code` header, and
/// the crate's HTML refusal page with the same code (not axum's plain text).
async fn assert_coded_refusal(response: reqwest::Response, status: u16, code: &str, what: &str) {
    assert_eq!(response.status(), status, "{what}");
    assert_eq!(response.headers().get("x-error-code").map(|v| v.to_str().unwrap()), Some(code), "{what}");
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{what}: {content_type}");
    let page = response.text().await.unwrap();
    assert!(page.contains(&format!("data-error-code=\"{code}\"")), "{what}: {page}");
}

/// Asserts a SCIM refusal: the status and the SCIM Error schema, with the
/// scimType where the RFC has one.
async fn assert_scim_refusal(response: reqwest::Response, status: u16, scim_type: Option<&str>, what: &str) {
    assert_eq!(response.status(), status, "{what}");
    assert_eq!(response.headers()["content-type"], "application/scim+json", "{what}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error", "{what}: {body}");
    assert_eq!(body["status"], status.to_string(), "{what}: {body}");
    assert_eq!(body.get("scimType").and_then(|v| v.as_str()), scim_type, "{what}: {body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{what}: {body}");
}

#[tokio::test]
async fn requests_axum_would_reject_are_refused_with_an_error_code() {
    let sp = Harness::start(&[]).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let admin = |method: Method, path: &str| client.request(method, sp.url(path)).basic_auth(ADMIN.0, Some(ADMIN.1));
    let over_the_limit = "A".repeat(800 * 1024);
    let cases = [
        ("login without a tenant", client.get(sp.url("/login")), 400, "request.invalid_query"),
        (
            "login with two tenants",
            client.get(sp.url("/login?tenant=acme&tenant=globex")),
            400,
            "request.invalid_query",
        ),
        (
            "ACS with a tenant that is not UTF-8",
            client.post(sp.url("/sso/acs/%FF")).form(&[("SAMLResponse", "x")]),
            400,
            "request.invalid_path",
        ),
        (
            "metadata of a tenant that is not UTF-8",
            client.get(sp.url("/sso/metadata/%FF")),
            400,
            "request.invalid_path",
        ),
        (
            "admin user body over the limit",
            admin(Method::POST, "/admin/tenants/acme/users").body(over_the_limit.clone()),
            413,
            "request.too_large",
        ),
        (
            "admin settings body over the limit",
            admin(Method::PATCH, "/admin/tenants/acme/settings").body(over_the_limit.clone()),
            413,
            "request.too_large",
        ),
        (
            "admin team body over the limit",
            admin(Method::POST, "/admin/tenants/acme/teams").body(over_the_limit.clone()),
            413,
            "request.too_large",
        ),
        (
            "admin user body not JSON",
            admin(Method::POST, "/admin/tenants/acme/users").body("{not json"),
            400,
            "request.invalid",
        ),
        (
            "admin settings body not JSON",
            admin(Method::PATCH, "/admin/tenants/acme/settings").body("not json"),
            400,
            "request.invalid",
        ),
        (
            "admin team body of the wrong shape",
            admin(Method::POST, "/admin/tenants/acme/teams").json(&serde_json::json!({"name": 5})),
            400,
            "request.invalid",
        ),
        ("no such page", client.get(sp.url("/no-such-page")), 404, "request.no_such_route"),
        ("no such admin page", admin(Method::GET, "/admin/tenants/acme/no-such-page"), 404, "request.no_such_route"),
        ("GET of the logout form", client.get(sp.url("/logout")), 405, "request.method_not_allowed"),
        (
            "DELETE of the admin users",
            admin(Method::DELETE, "/admin/tenants/acme/users"),
            405,
            "request.method_not_allowed",
        ),
        ("GET of the ACS", client.get(sp.url("/sso/acs/acme")), 405, "request.method_not_allowed"),
    ];
    for (what, request, status, code) in cases {
        assert_coded_refusal(request.send().await.unwrap(), status, code, what).await;
    }

    let not_allowed = client.get(sp.url("/logout")).send().await.unwrap();
    assert_eq!(not_allowed.headers()["allow"], "POST", "a 405 still names the methods");

    // No session is the oracle's JSON answer, and it too carries a code.
    let no_session = client.get(sp.url("/whoami")).send().await.unwrap();
    assert_eq!(no_session.status(), 401);
    assert_eq!(no_session.headers()["x-error-code"], "session.none");
    assert_eq!(no_session.json::<serde_json::Value>().await.unwrap()["error"], "no_session");
}

#[tokio::test]
async fn scim_requests_axum_would_reject_are_refused_with_the_scim_error_schema() {
    let sp = Harness::start(&[]).await;
    let client = reqwest::Client::new();
    let scim = |method: Method, path: &str| {
        client.request(method, sp.url(&format!("/scim/v2/acme{path}"))).bearer_auth(SCIM_TOKEN)
    };
    let scim_json = |request: reqwest::RequestBuilder| request.header("content-type", "application/scim+json");
    let cases = [
        (
            "a body over the SCIM limit",
            scim_json(scim(Method::POST, "/Users")).body(format!("{{\"userName\":\"{}\"}}", "a".repeat(300 * 1024))),
            413,
            None,
        ),
        (
            "a body over the router's limit",
            scim_json(scim(Method::PUT, "/Users/usr_x")).body("A".repeat(800 * 1024)),
            413,
            None,
        ),
        (
            "a body that is not JSON",
            scim_json(scim(Method::POST, "/Users")).body("{not json"),
            400,
            Some("invalidSyntax"),
        ),
        (
            "a body that is not JSON at all",
            scim_json(scim(Method::PATCH, "/Groups/grp_x")).body("userName=x"),
            400,
            Some("invalidSyntax"),
        ),
        (
            "a form body",
            scim(Method::POST, "/Groups").header("content-type", "application/x-www-form-urlencoded").body("a=b"),
            400,
            Some("invalidSyntax"),
        ),
        ("a count that is not a number", scim(Method::GET, "/Users?count=many"), 400, Some("invalidValue")),
        ("a startIndex that is not a number", scim(Method::GET, "/Groups?startIndex=%FF"), 400, Some("invalidValue")),
        ("a filter that does not parse", scim(Method::GET, "/Users?filter=userName%20eq"), 400, Some("invalidFilter")),
        ("an id that is not UTF-8", scim(Method::GET, "/Users/%FF"), 404, None),
        ("an id that is not UTF-8, unauthenticated", client.get(sp.url("/scim/v2/acme/Groups/%FF")), 404, None),
        ("a tenant that is not UTF-8", client.get(sp.url("/scim/v2/%FF/Users")).bearer_auth(SCIM_TOKEN), 401, None),
        ("a method the collection does not take", scim(Method::PUT, "/Users"), 405, None),
        ("a method discovery does not take", scim(Method::POST, "/ServiceProviderConfig"), 405, None),
        ("no such endpoint", scim(Method::GET, "/Nowhere"), 404, None),
    ];
    for (what, request, status, scim_type) in cases {
        assert_scim_refusal(request.send().await.unwrap(), status, scim_type, what).await;
    }
    let not_allowed = scim(Method::DELETE, "/Users").send().await.unwrap();
    assert_eq!(not_allowed.headers()["allow"], "GET,HEAD,POST", "a SCIM 405 still names the methods");
}

/// The AuthnRequest ID in a login redirect.
fn request_id(start: &reference_sp::sp::SamlLoginStart) -> String {
    let reference_sp::sp::AuthnRequestDelivery::Redirect(redirect_url) = &start.request else {
        panic!("the built-in tenant sends its AuthnRequest by redirect")
    };
    let location = reqwest::Url::parse(redirect_url).unwrap();
    let encoded = location.query_pairs().find(|(k, _)| k == "SAMLRequest").unwrap().1.into_owned();
    let deflated = BASE64.decode(encoded).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut flate2::read::DeflateDecoder::new(deflated.as_slice()), &mut xml).unwrap();
    let start = xml.find(" ID=\"").unwrap() + 5;
    xml[start..start + xml[start..].find('"').unwrap()].to_owned()
}

#[test]
fn a_login_flood_stays_bounded_and_a_recent_login_still_signs_in() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("idp.xml"), metadata_xml()).unwrap();
    let config = format!(
        r#"
[server]
base_url = "{base}"
[[tenants]]
id = "acme"
idp_metadata_file = "idp.xml"
allowed_email_domains = ["acme.test"]
provisioning = "jit"
break_glass = {{ email = "{admin}", password = "{password}" }}
"#,
        base = crate::support::BASE_URL,
        admin = ADMIN.0,
        password = ADMIN.1,
    );
    let config = reference_sp::config::parse_config("flood.toml", &config, dir.path()).unwrap();
    // In memory: the bound is the store's logic, and the flood need not wait
    // for a thousand fsyncs.
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let sp = Sp::new(config, store.clone(), BTreeSet::new(), Arc::new(SystemClock)).unwrap();
    let acme = sp.tenant("acme").unwrap().id.clone();
    sp.set_idp_metadata(&acme, reference_sp::saml::metadata::parse_idp_metadata(&metadata_xml()).unwrap());

    let first = sp.start_login("acme", None).unwrap();
    for _ in 0..MAX_PENDING_SIGN_INS_PER_TENANT + 200 {
        sp.start_login("acme", None).unwrap();
    }
    assert_eq!(store.pending_sign_in_count(&acme).unwrap(), MAX_PENDING_SIGN_INS_PER_TENANT);

    let recent = sp.start_login("acme", None).unwrap();
    let mut spec = Spec::valid("flooded@acme.test");
    spec.in_response_to = Some(request_id(&recent));
    let signed_in = sp.acs(Some("acme"), &spec.encoded(), None, Some(&recent.pending_token)).unwrap();
    assert_eq!(signed_in.user.email, "flooded@acme.test");

    // The oldest login was pushed out by the flood: its answer finds no
    // outstanding request and is refused.
    let mut spec = Spec::valid("first@acme.test");
    spec.in_response_to = Some(request_id(&first));
    let refused = sp.acs(Some("acme"), &spec.encoded(), None, Some(&first.pending_token)).unwrap_err();
    assert_eq!(refused.code(), "saml.in_response_to_mismatch");
}

#[tokio::test]
async fn a_kelvin_sign_scim_user_takes_neither_the_ascii_sign_in_nor_the_ascii_user_name() {
    let sp = Harness::start(&[]).await;
    let client = reqwest::Client::new();
    let create = |user_name: &str| {
        client.post(sp.url("/scim/v2/acme/Users")).bearer_auth(SCIM_TOKEN).json(&serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "name": { "givenName": "K", "familyName": "Elvin" },
            "emails": [{ "value": user_name, "primary": true }],
            "active": true,
        }))
    };
    // U+212A KELVIN SIGN, which Unicode lowercases to an ASCII k.
    let kelvin = "\u{212A}elvin@acme.test";
    assert_eq!(create(kelvin).send().await.unwrap().status(), 201);

    let browser = sp.browser();
    let outcome = sp.post(&browser, &Spec::valid("kelvin@acme.test").encoded(), None).await;
    assert!(outcome.signed_in(), "the ASCII user signs in: {outcome:?}");
    assert_eq!(sp.whoami(&browser).await.unwrap()["email"], "kelvin@acme.test");

    // The ASCII user now exists (made by sign-in) and the Kelvin one stays
    // apart: a SCIM lookup of either finds exactly its own.
    for (wanted, found) in [("KELVIN@acme.test", "kelvin@acme.test"), (kelvin, kelvin)] {
        let filter = format!("userName eq \"{wanted}\"");
        let list: serde_json::Value = client
            .get(sp.url("/scim/v2/acme/Users"))
            .query(&[("filter", filter.as_str())])
            .bearer_auth(SCIM_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["totalResults"], 1, "{wanted}: {list}");
        assert_eq!(list["Resources"][0]["userName"], found, "{wanted}");
    }
}

#[tokio::test]
async fn a_kelvin_sign_scim_user_does_not_block_the_ascii_scim_user() {
    let sp = Harness::start(&[]).await;
    let client = reqwest::Client::new();
    for user_name in ["\u{212A}ate@acme.test", "kate@acme.test"] {
        let created = client
            .post(sp.url("/scim/v2/acme/Users"))
            .bearer_auth(SCIM_TOKEN)
            .json(&serde_json::json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": user_name,
                "emails": [{ "value": user_name, "primary": true }],
                "active": true,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201, "{user_name}");
    }
}

mod matching {
    use proptest::prelude::*;
    use reference_sp::config::TenantId;
    use reference_sp::email;
    use reference_sp::store::sqlite::SqliteStore;
    use reference_sp::store::{ScimUserStore, ScimUserWrite, SettingsStore, SignInStore, UserId};

    /// Names built from letters whose case Unicode and ASCII fold
    /// differently (Kelvin sign, long s, dotted and dotless i, Ångström
    /// sign), their ASCII cousins, and both cases of each.
    fn name() -> impl Strategy<Value = String> {
        let letter = prop::sample::select(vec![
            'k', 'K', '\u{212A}', 's', 'S', '\u{17F}', 'i', 'I', '\u{130}', '\u{131}', '\u{212B}', '\u{E5}', 'a',
        ]);
        prop::collection::vec(letter, 1..5)
            .prop_map(|letters| format!("{}@acme.test", letters.into_iter().collect::<String>()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// SCIM's userName lookup and sign-in's email lookup find the same
        /// account for every name: one normalisation for both.
        #[test]
        fn prop_scim_matching_and_sign_in_matching_agree(stored in name(), wanted in name()) {
            let store = SqliteStore::in_memory().unwrap();
            let acme = TenantId::parse("acme").unwrap();
            store.sync_tenant(&acme, "Acme", &crate::store_suite::settings()).unwrap();
            let write = ScimUserWrite {
                user_name: stored.clone(),
                email: stored.clone(),
                email_normalised: email::normalise(&stored),
                name: stored.clone(),
                active: true,
                roles: vec![],
                resource: serde_json::json!({ "userName": stored }),
            };
            let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
            store.scim_create_user(&acme, &UserId("usr_p".into()), &write, now).unwrap();
            let by_scim = store.scim_user_by_user_name(&acme, &wanted).unwrap().map(|u| u.user.id);
            let by_sign_in = store.user_by_email(&acme, &email::normalise(&wanted)).unwrap().map(|u| u.id);
            prop_assert_eq!(&by_scim, &by_sign_in, "{} looked up as {}", stored, wanted);
            prop_assert_eq!(by_scim.is_some(), stored.eq_ignore_ascii_case(&wanted));
        }
    }
}

/// The SP with one tenant whose AuthnRequests go by `binding`, trusting
/// `metadata` (the IdP's metadata XML).
fn sp_with_binding(binding: &str, metadata: &str) -> Sp {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("idp.xml"), metadata).unwrap();
    let config = format!(
        r#"
[server]
base_url = "{base}"
[[tenants]]
id = "acme"
idp_metadata_file = "idp.xml"
authn_request_binding = "{binding}"
allowed_email_domains = ["acme.test"]
provisioning = "jit"
break_glass = {{ email = "{admin}", password = "{password}" }}
"#,
        base = crate::support::BASE_URL,
        admin = ADMIN.0,
        password = ADMIN.1,
    );
    let config = reference_sp::config::parse_config("sp.toml", &config, dir.path()).unwrap();
    let sp =
        Sp::new(config, Arc::new(SqliteStore::in_memory().unwrap()), BTreeSet::new(), Arc::new(SystemClock)).unwrap();
    let acme = sp.tenant("acme").unwrap().id.clone();
    sp.set_idp_metadata(&acme, reference_sp::saml::metadata::parse_idp_metadata(metadata).unwrap());
    sp
}

#[test]
fn a_tenant_on_the_post_binding_posts_its_authn_request_and_signs_in_with_its_answer() {
    let with_post = metadata_xml().replace(
        "</md:IDPSSODescriptor>",
        "<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"http://idp.test/sso/post\"/></md:IDPSSODescriptor>",
    );
    let sp = sp_with_binding("post", &with_post);
    let start = sp.start_login("acme", Some("/reports")).unwrap();
    let reference_sp::sp::AuthnRequestDelivery::Post(form) = &start.request else {
        panic!("expected the POST binding: {:?}", start.request)
    };
    assert_eq!(form.action, "http://idp.test/sso/post");
    assert_eq!(form.relay_state, "/reports");
    // The POST binding carries the request base64-encoded, not deflated.
    let xml = String::from_utf8(BASE64.decode(&form.saml_request).unwrap()).unwrap();
    assert!(
        xml.starts_with("<samlp:AuthnRequest ") && xml.contains("Destination=\"http://idp.test/sso/post\""),
        "{xml}"
    );
    let request_id = {
        let at = xml.find(" ID=\"").unwrap() + 5;
        xml[at..at + xml[at..].find('"').unwrap()].to_owned()
    };
    let page = reference_sp::saml::request::render_post_form(form);
    assert!(page.contains("document.forms[0].submit()") && page.contains("name=\"SAMLRequest\""), "{page}");

    // The IdP's answer to that request signs in, as by redirect.
    let mut spec = Spec::valid("posted@acme.test");
    spec.in_response_to = Some(request_id);
    let signed_in = sp.acs(Some("acme"), &spec.encoded(), Some("/reports"), Some(&start.pending_token)).unwrap();
    assert_eq!(signed_in.user.email, "posted@acme.test");
}

#[test]
fn a_tenant_on_the_post_binding_falls_back_to_redirect_when_the_idp_offers_no_post_endpoint() {
    let sp = sp_with_binding("post", &metadata_xml());
    let start = sp.start_login("acme", None).unwrap();
    assert!(matches!(start.request, reference_sp::sp::AuthnRequestDelivery::Redirect(_)), "{:?}", start.request);
    request_id(&start);
}
