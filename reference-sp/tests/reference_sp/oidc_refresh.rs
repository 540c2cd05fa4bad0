//! `POST /oidc/refresh` against the test provider of `oidc_support`: a
//! tenant that asks for `offline_access` keeps the refresh token with the
//! session, redeems it, keeps the rotated one, and refuses a refreshed ID
//! token that names another identity (OpenID Connect Core 12.2), ending the
//! session; the `refresh-trusts-new-claims` flaw accepts it.

use reference_sp::flaws::Flaw;

use crate::oidc_support::{EMAIL, HarnessOptions, OidcHarness};

async fn harness(flaws: &[Flaw]) -> OidcHarness {
    OidcHarness::start_with(HarnessOptions { flaws: flaws.to_vec(), offline_access: true, ..HarnessOptions::default() })
        .await
}

#[tokio::test]
async fn a_refresh_answers_the_session_and_uses_the_rotated_token_next_time() {
    let harness = harness(&[]).await;
    let browser = harness.browser();
    assert_eq!(harness.sign_in(&browser).await.status, 303);
    let (status, code, body) = harness.refresh(&browser).await;
    assert_eq!((status, code), (200, None));
    assert_eq!(body.unwrap()["email"], EMAIL);
    // The provider used up the first refresh token; a second refresh works
    // only with the rotated one the SP kept.
    let (status, _, _) = harness.refresh(&browser).await;
    assert_eq!(status, 200);
    let sent: Vec<String> = harness.refresh_requests().iter().map(|f| f["refresh_token"].clone()).collect();
    assert_eq!(sent.len(), 2);
    assert_ne!(sent[0], sent[1]);
}

#[tokio::test]
async fn a_tenant_without_offline_access_keeps_no_refresh_token() {
    let harness = OidcHarness::start(&[]).await;
    let browser = harness.browser();
    assert_eq!(harness.sign_in(&browser).await.status, 303);
    let (status, code, _) = harness.refresh(&browser).await;
    assert_eq!((status, code.as_deref()), (400, Some("oidc.no_refresh_token")));
    assert!(harness.refresh_requests().is_empty());
    assert!(harness.whoami(&browser).await.is_some(), "the session is untouched");
}

#[tokio::test]
async fn a_refresh_without_a_session_is_refused() {
    let harness = harness(&[]).await;
    let (status, code, _) = harness.refresh(&harness.browser()).await;
    assert_eq!((status, code.as_deref()), (401, Some("session.none")));
}

#[tokio::test]
async fn a_refreshed_token_naming_another_identity_ends_the_session() {
    type Edit = fn(&mut serde_json::Map<String, serde_json::Value>);
    let edits: [(&str, Edit); 4] = [
        ("sub", |claims| {
            claims.insert("sub".into(), "00u-mallory".into());
        }),
        ("aud", |claims| {
            claims.insert("aud".into(), serde_json::json!([crate::oidc_support::CLIENT_ID, "another-client"]));
            claims.insert("azp".into(), crate::oidc_support::CLIENT_ID.into());
        }),
        ("auth_time", |claims| {
            claims.insert("auth_time".into(), 1.into());
        }),
        ("auth_time dropped", |claims| {
            claims.remove("auth_time");
        }),
    ];
    for (claim, edit) in edits {
        let harness = harness(&[]).await;
        let browser = harness.browser();
        // auth_time is compared only when the original token had one.
        if claim.starts_with("auth_time") {
            harness.op.set_edit(|_, claims| {
                claims.insert("auth_time".into(), 1_000.into());
            });
        }
        assert_eq!(harness.sign_in(&browser).await.status, 303);
        harness.op.set_edit(move |_, claims| edit(claims));
        let (status, code, _) = harness.refresh(&browser).await;
        assert_eq!((status, code.as_deref()), (400, Some("oidc.refresh_identity_changed")), "{claim}");
        assert!(harness.whoami(&browser).await.is_none(), "a changed {claim} ends the session");
    }
}

#[tokio::test]
async fn a_refreshed_token_from_another_issuer_is_refused() {
    let harness = harness(&[]).await;
    let browser = harness.browser();
    assert_eq!(harness.sign_in(&browser).await.status, 303);
    harness.op.set_edit(|_, claims| {
        claims.insert("iss".into(), "https://impostor.test".into());
    });
    let (status, code, _) = harness.refresh(&browser).await;
    assert_eq!((status, code.as_deref()), (400, Some("oidc.issuer_mismatch")));
}

#[tokio::test]
async fn the_refresh_trusts_new_claims_flaw_accepts_another_subject_and_issuer() {
    let harness = harness(&[Flaw::RefreshTrustsNewClaims]).await;
    let browser = harness.browser();
    assert_eq!(harness.sign_in(&browser).await.status, 303);
    harness.op.set_edit(|_, claims| {
        claims.insert("sub".into(), "00u-mallory".into());
    });
    let (status, code, _) = harness.refresh(&browser).await;
    assert_eq!((status, code), (200, None), "--flaw refresh-trusts-new-claims accepts the new sub");
    assert!(harness.whoami(&browser).await.is_some());
    harness.op.set_edit(|_, claims| {
        claims.insert("iss".into(), "https://impostor.test".into());
    });
    let (status, code, _) = harness.refresh(&browser).await;
    assert_eq!((status, code), (200, None), "--flaw refresh-trusts-new-claims accepts another issuer");
}
