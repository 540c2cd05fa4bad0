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

/// The AuthnRequest ID in a login redirect.
fn request_id(redirect_url: &str) -> String {
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
    spec.in_response_to = Some(request_id(&recent.redirect_url));
    let signed_in = sp.acs(Some("acme"), &spec.encoded(), None, Some(&recent.pending_token)).unwrap();
    assert_eq!(signed_in.user.email, "flooded@acme.test");

    // The oldest login was pushed out by the flood: its answer finds no
    // outstanding request and is refused.
    let mut spec = Spec::valid("first@acme.test");
    spec.in_response_to = Some(request_id(&first.redirect_url));
    let refused = sp.acs(Some("acme"), &spec.encoded(), None, Some(&first.pending_token)).unwrap_err();
    assert_eq!(refused.code(), "saml.in_response_to_mismatch");
}
