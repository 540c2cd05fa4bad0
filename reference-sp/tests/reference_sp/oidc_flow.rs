//! The OIDC sign-in end to end, against the test provider of
//! `oidc_support`: each client authentication method, `state` and `nonce`
//! single-use and bound to the browser, the key set's cache and its
//! rate-limited refetch, userinfo, identity and linking, the return path
//! and logout.

use std::sync::atomic::Ordering;

use reference_sp::flaws::Flaw;
use serde_json::json;

use crate::oidc_support::{
    ClientAuth, EMAIL, HarnessOptions, OidcHarness, Signing, next_provider_key, provider_key, with_parameter,
};

fn signed_in_to(outcome: &crate::support::Outcome, location: &str) {
    assert_eq!((outcome.status, outcome.code.as_deref()), (303, None), "{outcome:?}");
    assert_eq!(outcome.location.as_deref(), Some(location));
}

#[tokio::test]
async fn a_full_sign_in_works_with_each_client_authentication_method() {
    for client_auth in [ClientAuth::Basic, ClientAuth::Post, ClientAuth::PrivateKeyJwt, ClientAuth::None] {
        let harness = OidcHarness::start_with(HarnessOptions { client_auth, ..HarnessOptions::default() }).await;
        let browser = harness.browser();
        signed_in_to(&harness.sign_in(&browser).await, "/welcome");
        let who = harness.whoami(&browser).await.unwrap();
        assert_eq!(
            (who["email"].as_str(), who["name"].as_str()),
            (Some(EMAIL), Some("Alice Liddell")),
            "{client_auth:?}"
        );
        assert_eq!(who["groups"], json!(["Everyone"]));

        let authorize = harness.op.authorize_requests.lock().unwrap()[0].clone();
        assert_eq!(authorize["code_challenge_method"], "S256");
        assert_eq!(authorize["response_type"], "code");
        assert_eq!(authorize["scope"], "openid email profile");
        let token = harness.op.token_requests.lock().unwrap()[0].clone();
        assert!((43..=128).contains(&token["code_verifier"].len()));
        assert_eq!(token.contains_key("client_secret"), client_auth == ClientAuth::Post, "{client_auth:?}");
    }
}

#[tokio::test]
async fn an_es256_tenant_signs_in_with_its_p256_key() {
    let harness = OidcHarness::start_with(HarnessOptions { algorithm: "ES256", ..HarnessOptions::default() }).await;
    signed_in_to(&harness.sign_in(&harness.browser()).await, "/welcome");
}

#[tokio::test]
async fn login_on_an_oidc_only_tenant_starts_oidc() {
    let harness = OidcHarness::start(&[]).await;
    let browser = harness.browser();
    let authorization = harness.start_login(&browser, "/login?tenant=acme&relay_state=/reports").await;
    assert!(authorization.starts_with(&format!("{}/authorize?", harness.op.issuer)), "{authorization}");
    let callback = harness.authorize(&authorization).await;
    signed_in_to(&harness.callback(&browser, &callback).await, "/reports");
}

#[tokio::test]
async fn each_login_has_its_own_state_nonce_and_verifier() {
    let harness = OidcHarness::start(&[]).await;
    for _ in 0..2 {
        harness.sign_in(&harness.browser()).await;
    }
    let requests = harness.op.authorize_requests.lock().unwrap().clone();
    for name in ["state", "nonce", "code_challenge"] {
        assert_ne!(requests[0][name], requests[1][name], "{name}");
    }
}

#[tokio::test]
async fn a_callback_without_state_is_refused() {
    for (flaws, refused) in [(vec![], true), (vec![Flaw::NoStateCheck], false)] {
        let harness = OidcHarness::start(&flaws).await;
        let browser = harness.browser();
        let callback = harness.authorize(&harness.start_login(&browser, "/oidc/login?tenant=acme").await).await;
        let outcome = harness.callback(&browser, &with_parameter(&callback, "state", None)).await;
        if refused {
            assert_eq!(outcome.code.as_deref(), Some("oidc.state_missing"));
        } else {
            signed_in_to(&outcome, "/welcome");
        }
    }
}

#[tokio::test]
async fn a_callback_whose_iss_names_another_issuer_is_refused() {
    // RFC 9207: the mix-up defence compares the response's iss with the issuer.
    for (flaws, refused) in [(vec![], true), (vec![Flaw::IgnoreAuthorizationResponseIss], false)] {
        let harness = OidcHarness::start(&flaws).await;
        let browser = harness.browser();
        let callback = harness.authorize(&harness.start_login(&browser, "/oidc/login?tenant=acme").await).await;
        let mixed_up = with_parameter(&callback, "iss", Some("https://attacker.invalid"));
        let outcome = harness.callback(&browser, &mixed_up).await;
        if refused {
            assert_eq!(outcome.code.as_deref(), Some("oidc.issuer_mismatch"));
            assert!(harness.whoami(&browser).await.is_none());
        } else {
            signed_in_to(&outcome, "/welcome");
        }
    }
}

#[tokio::test]
async fn a_callback_with_another_state_is_refused() {
    for (flaws, refused) in [(vec![], true), (vec![Flaw::NoStateCheck], false)] {
        let harness = OidcHarness::start(&flaws).await;
        let browser = harness.browser();
        let callback = harness.authorize(&harness.start_login(&browser, "/oidc/login?tenant=acme").await).await;
        let outcome = harness.callback(&browser, &with_parameter(&callback, "state", Some("forged"))).await;
        if refused {
            assert_eq!(outcome.code.as_deref(), Some("oidc.state_mismatch"));
            assert!(harness.whoami(&browser).await.is_none());
        } else {
            signed_in_to(&outcome, "/welcome");
        }
    }
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    let harness = OidcHarness::start(&[]).await;
    let browser = harness.browser();
    let callback = harness.authorize(&harness.start_login(&browser, "/oidc/login?tenant=acme").await).await;
    signed_in_to(&harness.callback(&browser, &callback).await, "/welcome");
    let again = harness.callback(&browser, &callback).await;
    assert_eq!(again.code.as_deref(), Some("oidc.no_login_started"));
    // The login is single-use even when the browser starts another one and
    // replays the old callback into it: the state no longer matches.
    harness.start_login(&browser, "/oidc/login?tenant=acme").await;
    assert_eq!(harness.callback(&browser, &callback).await.code.as_deref(), Some("oidc.state_mismatch"));
}

#[tokio::test]
async fn a_callback_with_no_login_started_is_refused() {
    let harness = OidcHarness::start(&[]).await;
    let attacker = harness.browser();
    let callback = harness.authorize(&harness.start_login(&attacker, "/oidc/login?tenant=acme").await).await;
    // Login CSRF: the attacker's callback in the victim's browser.
    let victim = harness.browser();
    assert_eq!(harness.callback(&victim, &callback).await.code.as_deref(), Some("oidc.no_login_started"));
    assert!(harness.whoami(&victim).await.is_none());
}

#[tokio::test]
async fn a_login_is_bound_to_the_browser_that_started_it() {
    let flawed = OidcHarness::start(&[Flaw::StateNotBoundToBrowser]).await;
    let attacker = flawed.browser();
    let callback = flawed.authorize(&flawed.start_login(&attacker, "/oidc/login?tenant=acme").await).await;
    let victim = flawed.browser();
    signed_in_to(&flawed.callback(&victim, &callback).await, "/welcome");
    assert!(flawed.whoami(&victim).await.is_some(), "--flaw state-not-bound-to-browser lets the other browser in");
}

#[tokio::test]
async fn a_callback_for_another_tenant_is_refused() {
    let harness = OidcHarness::start(&[]).await;
    let browser = harness.browser();
    let callback = harness.authorize(&harness.start_login(&browser, "/oidc/login?tenant=acme").await).await;
    let elsewhere = callback.replace("/oidc/callback/acme", "/oidc/callback/beta");
    assert_eq!(harness.callback(&browser, &elsewhere).await.code.as_deref(), Some("oidc.no_login_started"));
}

#[tokio::test]
async fn a_token_with_another_nonce_is_refused() {
    for (flaws, refused) in [(vec![], true), (vec![Flaw::NoNonceCheck], false)] {
        let harness = OidcHarness::start(&flaws).await;
        harness.op.set_edit(|_, claims| {
            claims.insert("nonce".into(), "from-another-login".into());
        });
        let outcome = harness.sign_in(&harness.browser()).await;
        assert_eq!(outcome.code.as_deref() == Some("oidc.nonce_mismatch"), refused, "{outcome:?}");
    }
}

#[tokio::test]
async fn the_key_set_is_cached_and_refetched_once_for_a_rotated_key() {
    let harness = OidcHarness::start(&[]).await;
    let fetches = || harness.op.jwks_fetches.load(Ordering::SeqCst);
    signed_in_to(&harness.sign_in(&harness.browser()).await, "/welcome");
    signed_in_to(&harness.sign_in(&harness.browser()).await, "/welcome");
    assert_eq!(fetches(), 1, "max-age=3600 keeps the set");

    // Okta's scheduled rotation: the next key is published, then used.
    harness.op.published.lock().unwrap().push(next_provider_key());
    *harness.op.signing.lock().unwrap() = Signing::Key(next_provider_key());
    signed_in_to(&harness.sign_in(&harness.browser()).await, "/welcome");
    assert_eq!(fetches(), 2, "the unknown kid refetched the set once");
    signed_in_to(&harness.sign_in(&harness.browser()).await, "/welcome");
    assert_eq!(fetches(), 2);

    // Past max-age the set is fetched again.
    harness.op.clock.advance(time::Duration::seconds(3601));
    signed_in_to(&harness.sign_in(&harness.browser()).await, "/welcome");
    assert_eq!(fetches(), 3);
}

#[tokio::test]
async fn an_emergency_rotation_keeps_sign_in_working() {
    let harness = OidcHarness::start(&[]).await;
    signed_in_to(&harness.sign_in(&harness.browser()).await, "/welcome");
    *harness.op.published.lock().unwrap() = vec![next_provider_key()];
    *harness.op.signing.lock().unwrap() = Signing::Key(next_provider_key());
    signed_in_to(&harness.sign_in(&harness.browser()).await, "/welcome");
    // The old key, removed, is no longer trusted once the set was refetched.
    *harness.op.signing.lock().unwrap() = Signing::Key(provider_key());
    assert_eq!(harness.sign_in(&harness.browser()).await.code.as_deref(), Some("oidc.unknown_kid"));
}

#[tokio::test]
async fn unknown_kid_refetches_are_rate_limited() {
    let harness = OidcHarness::start(&[]).await;
    let fetches = || harness.op.jwks_fetches.load(Ordering::SeqCst);
    signed_in_to(&harness.sign_in(&harness.browser()).await, "/welcome");
    harness.op.set_edit(|header, _| {
        header.insert("kid".into(), "random-kid".into());
    });
    for _ in 0..3 {
        assert_eq!(harness.sign_in(&harness.browser()).await.code.as_deref(), Some("oidc.unknown_kid"));
    }
    assert_eq!(fetches(), 2, "one refetch for three unknown kids");
    harness.op.clock.advance(time::Duration::seconds(61));
    harness.sign_in(&harness.browser()).await;
    assert_eq!(fetches(), 3, "another after the interval");
}

#[tokio::test]
async fn the_flaws_that_break_the_refetch_rules() {
    let unbounded = OidcHarness::start(&[Flaw::JwksRefetchUnbounded]).await;
    unbounded.op.set_edit(|header, _| {
        header.insert("kid".into(), "random-kid".into());
    });
    for _ in 0..3 {
        unbounded.sign_in(&unbounded.browser()).await;
    }
    assert_eq!(unbounded.op.jwks_fetches.load(Ordering::SeqCst), 4, "--flaw jwks-refetch-unbounded fetches for each");

    let never = OidcHarness::start(&[Flaw::NoJwksRefetch]).await;
    signed_in_to(&never.sign_in(&never.browser()).await, "/welcome");
    never.op.published.lock().unwrap().push(next_provider_key());
    *never.op.signing.lock().unwrap() = Signing::Key(next_provider_key());
    assert_eq!(never.sign_in(&never.browser()).await.code.as_deref(), Some("oidc.unknown_kid"));
    assert_eq!(never.op.jwks_fetches.load(Ordering::SeqCst), 1, "--flaw no-jwks-refetch breaks on rotation");
}

#[tokio::test]
async fn a_jku_header_is_never_fetched_by_the_correct_sp() {
    for (flaws, accepted) in [(vec![], false), (vec![Flaw::TrustJku], true)] {
        let harness = OidcHarness::start(&flaws).await;
        *harness.op.signing.lock().unwrap() = Signing::Key(crate::oidc_support::attacker_key());
        let jku = format!("{}/attacker/keys", harness.op.issuer);
        harness.op.set_edit(move |header, _| {
            header.insert("jku".into(), jku.clone().into());
        });
        let outcome = harness.sign_in(&harness.browser()).await;
        assert_eq!(outcome.code.is_none(), accepted, "{flaws:?}: {outcome:?}");
    }
}

#[tokio::test]
async fn userinfo_for_another_subject_is_refused() {
    for (flaws, refused) in [(vec![], true), (vec![Flaw::UserinfoSubUnchecked], false)] {
        let harness = OidcHarness::start(&flaws).await;
        *harness.op.userinfo_subject.lock().unwrap() = Some("00u-mallory".into());
        let browser = harness.browser();
        let outcome = harness.sign_in(&browser).await;
        if refused {
            assert_eq!(outcome.code.as_deref(), Some("oidc.userinfo_sub_mismatch"));
        } else {
            signed_in_to(&outcome, "/welcome");
            assert_eq!(harness.whoami(&browser).await.unwrap()["email"], "mallory@acme.test");
        }
    }
}

#[tokio::test]
async fn the_identity_is_issuer_and_subject_not_the_email() {
    let harness = OidcHarness::start(&[]).await;
    signed_in_to(&harness.sign_in(&harness.browser()).await, "/welcome");
    // Another subject claiming alice's email, unverified.
    harness.op.set_edit(|_, claims| {
        claims.insert("sub".into(), "00u-impostor".into());
        claims.insert("email_verified".into(), false.into());
    });
    let refused = harness.sign_in(&harness.browser()).await;
    assert_eq!(refused.code.as_deref(), Some("account.email_not_verified"));

    let flawed = OidcHarness::start(&[Flaw::EmailAsIdentity]).await;
    signed_in_to(&flawed.sign_in(&flawed.browser()).await, "/welcome");
    flawed.op.set_edit(|_, claims| {
        claims.insert("sub".into(), "00u-impostor".into());
        claims.insert("email_verified".into(), false.into());
    });
    let browser = flawed.browser();
    signed_in_to(&flawed.sign_in(&browser).await, "/welcome");
    assert_eq!(flawed.whoami(&browser).await.unwrap()["email"], EMAIL, "--flaw email-as-identity takes over");
}

#[tokio::test]
async fn a_verified_email_links_an_existing_account_only_when_the_tenant_allows_it() {
    for link in [false, true] {
        let harness = OidcHarness::start_with(HarnessOptions {
            link_accounts_by_verified_email: link,
            ..HarnessOptions::default()
        })
        .await;
        // An account no OIDC subject holds yet, as the tenant's admin (or
        // SCIM) makes it before its user's first sign-in.
        let admin = harness.browser();
        let made = admin
            .post(harness.url("/admin/tenants/acme/users"))
            .basic_auth(crate::support::ADMIN.0, Some(crate::support::ADMIN.1))
            .json(&serde_json::json!({"email": "carol@acme.test", "name": "Carol"}))
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), 201);
        let carol: serde_json::Value = made.json().await.unwrap();
        harness.op.set_edit(|_, claims| {
            claims.insert("sub".into(), "00u-carol".into());
            claims.insert("email".into(), "carol@acme.test".into());
        });
        let browser = harness.browser();
        let outcome = harness.sign_in(&browser).await;
        if link {
            signed_in_to(&outcome, "/welcome");
            assert_eq!(harness.whoami(&browser).await.unwrap()["user_id"], carol["id"]);
        } else {
            assert_eq!((outcome.status, outcome.code.as_deref()), (403, Some("account.link_not_allowed")));
        }
    }
}

/// A verified email claims an account once: another subject of the same
/// provider (another Okta user given that email) never takes an account an
/// OIDC subject already holds, even where the tenant links by email.
#[tokio::test]
async fn a_verified_email_never_takes_an_account_another_subject_holds() {
    let harness =
        OidcHarness::start_with(HarnessOptions { link_accounts_by_verified_email: true, ..HarnessOptions::default() })
            .await;
    let first = harness.browser();
    signed_in_to(&harness.sign_in(&first).await, "/welcome");
    harness.op.set_edit(|_, claims| {
        claims.insert("sub".into(), "00u-alice-again".into());
    });
    let outcome = harness.sign_in(&harness.browser()).await;
    assert_eq!((outcome.status, outcome.code.as_deref()), (403, Some("account.link_not_allowed")));
}

#[tokio::test]
async fn the_discovery_issuer_must_be_the_configured_one() {
    for (flaws, refused) in [(vec![], true), (vec![Flaw::TrustDiscoveryIssuer], false)] {
        let harness = OidcHarness::start(&flaws).await;
        *harness.op.discovery_issuer.lock().unwrap() = Some("https://impostor.test".into());
        harness.op.set_edit(|_, claims| {
            claims.insert("iss".into(), "https://impostor.test".into());
        });
        let browser = harness.browser();
        let response = browser.get(harness.url("/oidc/login?tenant=acme")).send().await.unwrap();
        if refused {
            assert_eq!(response.status(), 502);
            assert_eq!(response.headers()["x-error-code"], "oidc.discovery_issuer_mismatch");
        } else {
            let callback = harness.authorize(&crate::oidc_support::location(&response)).await;
            signed_in_to(&harness.callback(&browser, &callback).await, "/welcome");
        }
    }
}

#[tokio::test]
async fn the_return_path_must_be_on_this_sp() {
    let harness = OidcHarness::start(&[]).await;
    let response = harness.browser().get(harness.url("/oidc/login?tenant=acme&return_to=https://evil.test/")).send();
    let response = response.await.unwrap();
    assert_eq!(response.headers()["x-error-code"], "oidc.return_to_rejected");

    let flawed = OidcHarness::start(&[Flaw::OpenRedirectAfterLogin]).await;
    let browser = flawed.browser();
    let authorization = flawed.start_login(&browser, "/oidc/login?tenant=acme&return_to=https://evil.test/").await;
    let callback = flawed.authorize(&authorization).await;
    signed_in_to(&flawed.callback(&browser, &callback).await, "https://evil.test/");
}

#[tokio::test]
async fn logout_ends_the_session_and_goes_to_the_providers_end_session_endpoint() {
    let harness = OidcHarness::start(&[]).await;
    let browser = harness.browser();
    signed_in_to(&harness.sign_in(&browser).await, "/welcome");
    let response = browser.get(harness.url("/oidc/logout")).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = url::Url::parse(&crate::oidc_support::location(&response)).unwrap();
    assert_eq!(location.path(), "/logout");
    let query: std::collections::HashMap<String, String> = location.query_pairs().into_owned().collect();
    assert_eq!(query["post_logout_redirect_uri"], harness.url("/"));
    assert_eq!(query["id_token_hint"].split('.').count(), 3);
    assert!(harness.whoami(&browser).await.is_none());
}

#[tokio::test]
async fn the_sign_in_core_applies_to_oidc() {
    let harness = OidcHarness::start(&[]).await;
    harness.op.set_edit(|_, claims| {
        claims.insert("sub".into(), "00u-eve".into());
        claims.insert("email".into(), "eve@evil.test".into());
    });
    let outcome = harness.sign_in(&harness.browser()).await;
    assert_eq!(outcome.code.as_deref(), Some("account.domain_not_allowed"));
}
