//! The OIDC catalogue against the reference SP's public-client tenant
//! (initech: no client secret, PKCE S256, on the default custom
//! authorization server), beside the confidential client on the org server
//! that `oidc.rs` runs.

use conformance::catalogue::{Protocol, checks_for};
use conformance::runner::Verdict;

use crate::support::{Tenant, run_against_tenant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_oidc_catalogue_passes_against_public_client_on_custom_server() {
    let run = run_against_tenant(Tenant::PublicClient, &[], checks_for(Protocol::Oidc)).await;
    assert_eq!(run.results.len(), checks_for(Protocol::Oidc).len());
    // A public client has no secret, so the HMAC-keyed-by-secret forgery
    // does not apply to it: that check is skipped, and says why.
    // The role check skips too: the reference targets declare no roles
    // (appenate.rs runs it against a tenant that has them); so do the
    // vendor-rule checks, whose rules initech does not declare
    // (oidc_vendor_rules.rs runs them where they are).
    let skipped: Vec<_> = run
        .results
        .iter()
        .filter(|r| {
            r.verdict == Verdict::Skip
                && !crate::appenate::APPENATE_CHECKS.contains(&r.id)
                && !crate::oidc_vendor_rules::VENDOR_RULE_CHECKS.contains(&r.id)
        })
        .collect();
    // Nor can the ES256 all-zero signature be sent by an RS256 server.
    assert_eq!(
        skipped.iter().map(|r| r.id).collect::<Vec<_>>(),
        ["oidc.sig.hs256_client_secret", "oidc.sig.es256_zero_signature"]
    );
    assert!(skipped[0].reason.contains("has none"), "{}", skipped[0].reason);
    assert!(skipped[1].reason.contains("signs RS256"), "{}", skipped[1].reason);
    let sign_in = run.results.iter().find(|r| r.id == "oidc.sso.sign_in").unwrap();
    assert!(sign_in.reason.contains("the custom authorization server 'default'"), "{}", sign_in.reason);
    let not_passed: Vec<_> = run
        .results
        .iter()
        .filter(|r| r.verdict != Verdict::Pass && r.verdict != Verdict::Skip)
        .map(|r| format!("{} {:?}: {}", r.id, r.verdict, r.reason))
        .collect();
    assert!(not_passed.is_empty(), "{not_passed:#?}");
}

/// RFC 9700 2.1.1: a public client MUST use PKCE. Without it the mock
/// refuses the login, as Okta does, and the PKCE check fails (the same flaw
/// only warns for the confidential client in `oidc.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_client_without_pkce_fails_the_pkce_check() {
    let no_pkce: reference_sp::flaws::Flaw = "no-pkce".parse().unwrap();
    let checks = checks_for(Protocol::Oidc).into_iter().filter(|c| c.id == "oidc.pkce.s256").collect();
    let run = run_against_tenant(Tenant::PublicClient, &[no_pkce], checks).await;
    let [result] = run.results.as_slice() else { panic!("{}", run.explain()) };
    assert_eq!(result.verdict, Verdict::Fail, "{}", run.explain());
    assert!(result.reason.contains("no PKCE code_challenge") && result.reason.contains("public"), "{}", result.reason);
}
