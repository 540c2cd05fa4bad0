//! Account matching: identity first, then normalised email, JIT or
//! existing-only, and the email domain rule.

use reference_sp::flaws::Flaw;
use reqwest::Method;
use serde_json::json;

use crate::support::{Harness, Spec};

#[tokio::test]
async fn case_variant_signs_in_to_the_same_account() {
    let sp = Harness::start(&[]).await;
    let first = sp.browser();
    assert!(sp.post(&first, &Spec::valid("carol@acme.test").encoded(), None).await.signed_in());
    let id = sp.whoami(&first).await.unwrap()["user_id"].clone();
    let second = sp.browser();
    assert!(sp.post(&second, &Spec::valid("Carol@ACME.test").encoded(), None).await.signed_in());
    assert_eq!(sp.whoami(&second).await.unwrap()["user_id"], id);

    let flawed = Harness::start(&[Flaw::CaseSensitiveEmail]).await;
    let first = flawed.browser();
    assert!(flawed.post(&first, &Spec::valid("carol@acme.test").encoded(), None).await.signed_in());
    let second = flawed.browser();
    assert!(flawed.post(&second, &Spec::valid("Carol@ACME.test").encoded(), None).await.signed_in());
    assert_ne!(
        flawed.whoami(&first).await.unwrap()["user_id"],
        flawed.whoami(&second).await.unwrap()["user_id"],
        "the flaw splits the account"
    );
}

#[tokio::test]
async fn look_alike_email_does_not_match_the_account() {
    let sp = Harness::start(&[]).await;
    let browser = sp.browser();
    let created = sp
        .admin(&browser, Method::POST, "/admin/tenants/acme/users")
        .json(&json!({"email": "dave@acme.test", "name": "Dave"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let dave: serde_json::Value = created.json().await.unwrap();
    // A Cyrillic 'а' in the domain: outside the tenant's ASCII domain.
    let outcome = sp.post(&browser, &Spec::valid("dave@\u{430}cme.test").encoded(), None).await;
    assert_eq!(outcome.code.as_deref(), Some("account.domain_not_allowed"));
    assert!(sp.post(&browser, &Spec::valid("DAVE@acme.test").encoded(), None).await.signed_in());
    assert_eq!(sp.whoami(&browser).await.unwrap()["user_id"], dave["id"]);
}

#[tokio::test]
async fn email_outside_domains_refused_unless_jit_ignores_domain() {
    let correct = Harness::start(&[]).await;
    let outcome = correct.post(&correct.browser(), &Spec::valid("mallory@evil.test").encoded(), None).await;
    assert_eq!((outcome.status, outcome.code.as_deref()), (403, Some("account.domain_not_allowed")));

    let flawed = Harness::start(&[Flaw::JitIgnoresDomain]).await;
    let browser = flawed.browser();
    assert!(flawed.post(&browser, &Spec::valid("mallory@evil.test").encoded(), None).await.signed_in());
    assert_eq!(flawed.whoami(&browser).await.unwrap()["email"], "mallory@evil.test");
}

#[tokio::test]
async fn existing_only_tenant_refuses_unknown_users_and_creates_nothing() {
    let sp = Harness::start(&[]).await;
    let browser = sp.browser();
    let outcome = sp.post_to(&browser, "/sso/acs/globex", &globex_response("newcomer@acme.test"), None).await;
    assert_eq!((outcome.status, outcome.code.as_deref()), (403, Some("account.not_found")));
    let page = browser
        .post(sp.url("/sso/acs/globex"))
        .form(&[("SAMLResponse", globex_response("newcomer2@acme.test"))])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("no account for newcomer2@acme.test in tenant globex"), "{page}");
    let users: serde_json::Value = browser
        .get(sp.url("/admin/tenants/globex/users"))
        .basic_auth("breakglass@globex.test", Some(crate::support::ADMIN.1))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users.as_array().unwrap().len(), 0);

    // A pre-created account signs in.
    let created = browser
        .post(sp.url("/admin/tenants/globex/users"))
        .basic_auth("breakglass@globex.test", Some(crate::support::ADMIN.1))
        .json(&json!({"email": "known@acme.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert!(sp.post_to(&browser, "/sso/acs/globex", &globex_response("known@acme.test"), None).await.signed_in());
}

#[tokio::test]
async fn existing_only_creates_accounts_flaw_lets_unknown_users_in() {
    let sp = Harness::start(&[Flaw::ExistingOnlyCreatesAccounts]).await;
    let browser = sp.browser();
    assert!(sp.post_to(&browser, "/sso/acs/globex", &globex_response("stranger@acme.test"), None).await.signed_in());
    assert_eq!(sp.whoami(&browser).await.unwrap()["email"], "stranger@acme.test");
}

#[tokio::test]
async fn refused_user_keeps_account_flaw_refuses_but_records_the_user() {
    let sp = Harness::start(&[Flaw::RefusedUserKeepsAccount]).await;
    let browser = sp.browser();
    let outcome = sp.post_to(&browser, "/sso/acs/globex", &globex_response("stranger@acme.test"), None).await;
    assert!(!outcome.signed_in());
    assert_eq!(outcome.code.as_deref(), Some("account.not_found"));
    let users: serde_json::Value = browser
        .get(sp.url("/admin/tenants/globex/users"))
        .basic_auth("breakglass@globex.test", Some(crate::support::ADMIN.1))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users[0]["email"], "stranger@acme.test", "the flaw left an account behind: {users}");
}

fn globex_response(email: &str) -> String {
    let mut spec = Spec::valid(email);
    spec.destination = "http://sp.test/sso/acs/globex".into();
    spec.recipient = "http://sp.test/sso/acs/globex".into();
    spec.audience = Some("http://sp.test/sso/metadata/globex".into());
    spec.encoded()
}

#[tokio::test]
async fn whoami_logout_and_admin_auth() {
    let sp = Harness::start(&[]).await;
    let browser = sp.browser();
    assert!(sp.whoami(&browser).await.is_none());
    assert!(sp.post(&browser, &Spec::valid("erin@acme.test").encoded(), None).await.signed_in());
    assert!(sp.whoami(&browser).await.is_some());
    let status = browser.post(sp.url("/logout")).send().await.unwrap().status();
    assert_eq!(status, 204);
    assert!(sp.whoami(&browser).await.is_none());
    let status = browser
        .get(sp.url("/admin/tenants/acme/users"))
        .basic_auth("breakglass@acme.test", Some("wrong"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
}

#[tokio::test]
async fn concurrent_first_sign_ins_create_one_account() {
    let sp = Harness::start(&[]).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let message = Spec::valid("rush@acme.test").encoded();
        let browser = sp.browser();
        let url = sp.url("/sso/acs/acme");
        tasks.push(tokio::spawn(async move {
            browser.post(url).form(&[("SAMLResponse", message)]).send().await.unwrap().status().as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 303);
    }
    let browser = sp.browser();
    let users: serde_json::Value =
        sp.admin(&browser, Method::GET, "/admin/tenants/acme/users").send().await.unwrap().json().await.unwrap();
    assert_eq!(users.as_array().unwrap().iter().filter(|u| u["email"] == "rush@acme.test").count(), 1);
}

#[tokio::test]
async fn attributes_reach_the_session_unless_dropped() {
    let sp = Harness::start(&[]).await;
    let browser = sp.browser();
    assert!(sp.post(&browser, &Spec::valid("attrs@acme.test").encoded(), None).await.signed_in());
    let who = sp.whoami(&browser).await.unwrap();
    assert_eq!((who["name"].as_str(), who["groups"][0].as_str()), (Some("Test User"), Some("Engineering")));

    let flawed = Harness::start(&[Flaw::DropAttributes]).await;
    let browser = flawed.browser();
    assert!(flawed.post(&browser, &Spec::valid("attrs@acme.test").encoded(), None).await.signed_in());
    let who = flawed.whoami(&browser).await.unwrap();
    assert_eq!(who["name"], "attrs@acme.test");
    assert_eq!(who["groups"], serde_json::json!([]));
}
