//! The OIDC catalogue against the reference SP's relying party (tenant acme,
//! which signs in by SAML and by OIDC), correct and with each RP flaw.

use std::collections::BTreeSet;

use conformance::catalogue::{Protocol, checks_for};
use conformance::runner::{Evidence, Verdict};
use reference_sp::flaws::Flaw;

use crate::flaws::OIDC_FLAWS;
use crate::support::{Tenant, run_against_tenant};

/// Which OIDC checks each flaw must make fail. One table, read by the tests.
const OIDC_FLAW_CHECKS: &[(&str, &[&str])] = &[
    // It never looks at the key set, so a kid no JWKS has changes nothing.
    ("skip-id-token-signature", &["oidc.sig.bad_signature", "oidc.sig.unknown_kid", "oidc.sig.malicious_kid"]),
    ("kid-as-file-path", &["oidc.sig.malicious_kid_dev_null"]),
    ("missing-sub-uses-email", &["oidc.claims.missing_sub"]),
    ("drop-oidc-claims", &["oidc.sso.claims_in_session"]),
    (
        "accept-alg-none",
        &["oidc.sig.alg_none", "oidc.sig.alg_none_capitalised", "oidc.sig.alg_none_upper", "oidc.sig.alg_none_mixed"],
    ),
    ("ignore-crit", &["oidc.sig.unknown_crit"]),
    ("hs256-public-key", &["oidc.sig.hs256_public_key"]),
    ("trust-header-jwk", &["oidc.sig.embedded_jwk"]),
    ("trust-jku", &["oidc.sig.jku"]),
    ("trust-header-x5c", &["oidc.sig.x5c"]),
    ("trust-x5u", &["oidc.sig.x5u"]),
    ("ignore-iss", &["oidc.claims.iss", "oidc.claims.missing_iss"]),
    ("ignore-aud", &["oidc.claims.aud", "oidc.claims.azp", "oidc.claims.missing_aud"]),
    ("ignore-exp", &["oidc.claims.expired", "oidc.claims.missing_exp"]),
    ("accepts-claim-type-confusion", &["oidc.claims.exp_type"]),
    ("no-nonce-check", &["oidc.claims.nonce", "oidc.claims.nonce_missing"]),
    ("userinfo-sub-unchecked", &["oidc.userinfo.sub"]),
    ("state-not-bound-to-browser", &["oidc.state.other_browser", "oidc.state.no_login_started"]),
    ("email-as-identity", &["oidc.account.email_not_identity"]),
    ("trust-discovery-issuer", &["oidc.discovery.issuer_mismatch"]),
    ("no-jwks-refetch", &["oidc.rotation.emergency"]),
    ("open-redirect-after-login", &["oidc.redirect.open_after_login"]),
    ("state-reusable", &["oidc.state.callback_replayed"]),
    ("first-jwks-key", &["oidc.rotation.graceful"]),
    // It takes the refreshed token on trust, issuer and all.
    ("refresh-trusts-new-claims", &["oidc.refresh.sub_changed", "oidc.refresh.iss_changed"]),
    // A shared flaw: the domain policy is the sign-in core's, for SAML and OIDC.
    ("jit-ignores-domain", &["oidc.account.outside_domain"]),
];

/// Flaws the spec allows, which make these checks warn and none fail.
const OIDC_WARN_FLAW_CHECKS: &[(&str, &[&str])] = &[
    ("skip-at-hash", &["oidc.claims.at_hash"]),
    ("hs256-client-secret", &["oidc.sig.hs256_client_secret"]),
    ("ignore-iat-nbf", &["oidc.claims.nbf_future", "oidc.claims.missing_iat", "oidc.claims.iat_future"]),
    ("ignore-authorization-response-iss", &["oidc.authorize.mix_up"]),
    // Refetching for every unknown kid is weak in the code flow, where the
    // ID token comes from the provider itself.
    ("jwks-refetch-unbounded", &["oidc.jwks.refetch_bounded"]),
    // The reference SP always sends PKCE S256, which still binds the code
    // to the browser, so an unchecked state is weak there, not a hole.
    ("no-state-check", &["oidc.state.changed", "oidc.state.missing"]),
    // RFC 9700 2.1.1 only recommends PKCE for a confidential client (acme);
    // the public client's failure is `a_public_client_without_pkce_fails_the_pkce_check`.
    ("no-pkce", &["oidc.pkce.s256"]),
];

/// Checks a flaw makes warn beside the ones it fails.
const OIDC_WARNS_BESIDE_FAILS: &[(&str, &[&str])] = &[
    // The flood's tokens are signed by an unpublished key: a relying party
    // that checks no signature takes them, and that check weighs warn.
    ("skip-id-token-signature", &["oidc.jwks.refetch_bounded"]),
];

/// A flaw that breaks every sign-in, with the one check that fails for it;
/// every other check errors, its positive control broken.
const OIDC_FLOW_BREAKING_FLAWS: &[(&str, &str)] = &[("pkce-plain", "oidc.sso.sign_in")];

/// Flaws judged on a client of the mock's ES256 server (the public-client
/// tenant configured as the `native-pkce` app there), with their checks.
const OIDC_ES256_FLAW_CHECKS: &[(&str, &[&str])] = &[("psychic-signature", &["oidc.sig.es256_zero_signature"])];

/// Checks that only a client of an ES256 server can run; elsewhere they skip.
const ES256_ONLY_CHECKS: &[&str] = &["oidc.sig.es256_zero_signature"];

/// The role check skips against the reference targets, which declare no
/// roles (appenate.rs runs it against a tenant that has them).
fn skips_without_roles(result: &conformance::runner::CheckResult) -> bool {
    result.verdict == Verdict::Skip && crate::appenate::APPENATE_CHECKS.contains(&result.id)
}

/// OIDC flaws no check catches yet, each with what the check needs.
const OIDC_FLAWS_WITHOUT_CHECK: &[(&str, &str)] = &[];

#[test]
fn every_oidc_flaw_is_aimed_at_a_check_or_says_what_its_check_needs() {
    let tabled: BTreeSet<&str> = OIDC_FLAW_CHECKS
        .iter()
        .chain(OIDC_WARN_FLAW_CHECKS)
        .chain(OIDC_ES256_FLAW_CHECKS)
        .chain(crate::oidc_vendor_rules::VENDOR_RULE_FLAW_CHECKS)
        .chain(crate::appenate::OIDC_ROLE_FLAW_CHECKS)
        .map(|(flaw, _)| *flaw)
        .chain(OIDC_FLOW_BREAKING_FLAWS.iter().map(|(flaw, _)| *flaw))
        .chain(OIDC_FLAWS_WITHOUT_CHECK.iter().map(|(flaw, _)| *flaw))
        .filter(|flaw| *flaw != "jit-ignores-domain")
        .collect();
    assert_eq!(tabled, OIDC_FLAWS.iter().copied().collect::<BTreeSet<_>>());
    let aimed: BTreeSet<&str> = OIDC_FLAW_CHECKS
        .iter()
        .chain(OIDC_WARN_FLAW_CHECKS)
        .chain(OIDC_WARNS_BESIDE_FAILS)
        .chain(OIDC_ES256_FLAW_CHECKS)
        .chain(crate::oidc_vendor_rules::VENDOR_RULE_FLAW_CHECKS)
        .chain(crate::appenate::OIDC_ROLE_FLAW_CHECKS)
        .flat_map(|(_, checks)| checks.iter().copied())
        .chain(OIDC_FLOW_BREAKING_FLAWS.iter().map(|(_, check)| *check))
        .collect();
    let catalogue: BTreeSet<&str> = checks_for(Protocol::Oidc).iter().map(|c| c.id).collect();
    assert_eq!(aimed, catalogue, "every OIDC check needs a flaw that makes it fail or warn");
}

/// Issue 17 asks for at least 35 OIDC checks.
#[test]
fn the_oidc_catalogue_has_at_least_35_checks() {
    let count = checks_for(Protocol::Oidc).len();
    assert!(count >= 35, "{count} OIDC checks");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_oidc_catalogue_passes_against_reference_sp() {
    let run = run_against_tenant(Tenant::Jit, &[], checks_for(Protocol::Oidc)).await;
    assert_eq!(run.results.len(), checks_for(Protocol::Oidc).len());
    assert_es256_only_checks_skip(&run);
    let sign_in = run.results.iter().find(|r| r.id == "oidc.sso.sign_in").unwrap();
    assert!(sign_in.reason.contains("the org authorization server"), "{}", sign_in.reason);
    // The refresh checks pass because the relying party refused the
    // refreshed token, not because no refresh happened: a changed sub ends
    // the session, another issuer fails the ID token's own iss check.
    let reason = |id: &str| run.results.iter().find(|r| r.id == id).unwrap().reason.clone();
    let sub_changed = reason("oidc.refresh.sub_changed");
    assert!(sub_changed.contains("400 oidc.refresh_identity_changed) and the session ended"), "{sub_changed}");
    let iss_changed = reason("oidc.refresh.iss_changed");
    assert!(iss_changed.contains("400 oidc.issuer_mismatch)"), "{iss_changed}");
    let bad = run.described(|r| {
        r.verdict != Verdict::Pass
            && !ES256_ONLY_CHECKS.contains(&r.id)
            && !crate::oidc_vendor_rules::skips_undeclared_vendor_rule(r)
            && !skips_without_roles(r)
    });
    assert!(bad.is_empty(), "{bad:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_oidc_flaw_fails_exactly_its_checks() {
    for (name, checks) in OIDC_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_against_tenant(Tenant::Jit, &[flaw], checks_for(Protocol::Oidc)).await;
        assert_eq!(run.failing(), checks.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}:\n{}", run.explain());
        let warns: BTreeSet<&str> = OIDC_WARNS_BESIDE_FAILS
            .iter()
            .find(|(other, _)| other == name)
            .map(|(_, checks)| checks.iter().copied().collect())
            .unwrap_or_default();
        assert_eq!(run.warned(), warns, "--flaw {flaw} warnings");
        for result in run.results.iter().filter(|r| r.verdict == Verdict::Fail) {
            let Some(Evidence::Oidc(evidence)) = &result.evidence else { panic!("{}: no OIDC evidence", result.id) };
            // A rotation check fails for the session a correct sign-in did
            // not get; every other check for a session it should not give.
            let wanted = if result.id.starts_with("oidc.rotation.") { "no session" } else { "a session" };
            assert!(evidence.oracle.starts_with(wanted), "{}: {evidence:?}", result.id);
            assert!(!evidence.redirect_chain.is_empty(), "{}: {evidence:?}", result.id);
            if result.id.starts_with("oidc.sig.") || result.id.starts_with("oidc.claims.") {
                // The token the relying party took is shown, decoded.
                assert!(
                    evidence.id_token.as_ref().is_some_and(|t| t["claims"].is_object()),
                    "{}: {evidence:?}",
                    result.id
                );
            }
        }
    }
    for (name, checks) in OIDC_WARN_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_against_tenant(Tenant::Jit, &[flaw], checks_for(Protocol::Oidc)).await;
        assert_eq!(run.warned(), checks.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}");
        assert_eq!(run.failing(), BTreeSet::new(), "--flaw {flaw} must fail nothing");
    }
}

/// The ES256-only checks skip on an RS256 server, saying why.
fn assert_es256_only_checks_skip(run: &crate::support::Run) {
    for result in run.results.iter().filter(|r| ES256_ONLY_CHECKS.contains(&r.id)) {
        assert_eq!(result.verdict, Verdict::Skip, "{}: {}", result.id, result.reason);
        assert!(result.reason.contains("signs RS256"), "{}", result.reason);
    }
}

/// `pkce-plain` breaks every sign-in (the mock, like Okta, refuses
/// `code_challenge_method=plain`): the sign-in check fails, naming the
/// refusal, and every other check errors for its broken positive control.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_breaking_oidc_flaw_fails_the_sign_in_check_and_errors_the_rest() {
    for (name, check) in OIDC_FLOW_BREAKING_FLAWS {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_against_tenant(Tenant::Jit, &[flaw], checks_for(Protocol::Oidc)).await;
        for result in &run.results {
            if result.id == *check {
                assert_eq!(result.verdict, Verdict::Fail, "--flaw {flaw}: {}: {}", result.id, result.reason);
                assert!(result.reason.contains("did not work"), "{}", result.reason);
            } else {
                assert_eq!(result.verdict, Verdict::Error, "--flaw {flaw}: {}: {}", result.id, result.reason);
                assert!(result.reason.starts_with("positive control failed"), "{}: {}", result.id, result.reason);
            }
        }
    }
}

/// The public-client tenant as a client of the mock's ES256 server: the
/// `native-pkce` app (the only client that server's policy admits), with
/// ID tokens registered as ES256.
fn on_es256_server_target(target: String) -> String {
    target.replacen("app = \"reference-sp-oidc-public\"", "app = \"native-pkce\"", 1)
}

fn on_es256_server_sp(config: String) -> String {
    // The ES256 server has no groups scope, and its client no refresh grant,
    // so the client asks for neither.
    let config = config.replacen(
        "scopes = [\"openid\", \"email\", \"profile\", \"groups\", \"offline_access\"], redirect_path = \"/oidc/callback/initech\"",
        "scopes = [\"openid\", \"email\", \"profile\"], redirect_path = \"/oidc/native/callback\"",
        1,
    );
    config.replacen(
        "/oauth2/default\", client_id = \"0oarefsppublic000014\", client_auth = \"none\",",
        "/oauth2/ausmocktaes256000001\", client_id = \"0oanativepkce0000008\", client_auth = \"none\", id_token_signed_response_alg = \"ES256\",",
        1,
    )
}

/// On an ES256 server the all-zero signature check runs: a correct relying
/// party refuses it, and `psychic-signature` (CVE-2022-21449) fails exactly it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_an_es256_server_the_zero_signature_is_refused_and_the_psychic_signature_flaw_fails_it() {
    let es256_checks = || -> Vec<conformance::catalogue::Check> {
        checks_for(Protocol::Oidc)
            .into_iter()
            .filter(|c| {
                ES256_ONLY_CHECKS.contains(&c.id) || ["oidc.sso.sign_in", "oidc.sig.bad_signature"].contains(&c.id)
            })
            .collect()
    };
    let correct = crate::support::run_configured_with(
        Tenant::PublicClient,
        &[],
        es256_checks(),
        on_es256_server_target,
        on_es256_server_sp,
    )
    .await;
    let not_passed: Vec<_> = correct.results.iter().filter(|r| r.verdict != Verdict::Pass).collect();
    assert!(not_passed.is_empty(), "{}", correct.explain());
    let sign_in = correct.results.iter().find(|r| r.id == "oidc.sso.sign_in").unwrap();
    assert!(sign_in.reason.contains("ausmocktaes256000001"), "{}", sign_in.reason);
    for (name, checks) in OIDC_ES256_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run = crate::support::run_configured_with(
            Tenant::PublicClient,
            &[flaw],
            es256_checks(),
            on_es256_server_target,
            on_es256_server_sp,
        )
        .await;
        assert_eq!(run.failing(), checks.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}:\n{}", run.explain());
        assert_eq!(run.warned(), BTreeSet::new(), "--flaw {flaw}");
    }
}

/// The target's `[idp]` section with `tls = true`: the suite serves the mock
/// over HTTPS and the reference SP trusts its CA.
fn over_tls(target: String) -> String {
    target.replacen("[idp]\n", "[idp]\ntls = true\n", 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_oidc_catalogue_passes_against_reference_sp_over_tls() {
    let run = crate::support::run_with_target_edit(Tenant::Jit, &[], checks_for(Protocol::Oidc), None, over_tls).await;
    assert_eq!(run.results.len(), checks_for(Protocol::Oidc).len());
    assert_es256_only_checks_skip(&run);
    let bad = run.described(|r| {
        r.verdict != Verdict::Pass
            && !ES256_ONLY_CHECKS.contains(&r.id)
            && !crate::oidc_vendor_rules::skips_undeclared_vendor_rule(r)
            && !skips_without_roles(r)
    });
    assert!(bad.is_empty(), "{bad:#?}");
}

/// OpenID Connect Core 3.1.3.7 step 6: over TLS, a code-flow relying party
/// may skip the ID token signature check, so `skip-id-token-signature` makes
/// `oidc.sig.bad_signature` warn with that reason; over plain HTTP it fails.
/// An unknown critical header is no signature matter: `ignore-crit` fails
/// over TLS too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_a_skipped_signature_check_warns_citing_step_6_and_over_http_fails() {
    let only = |ids: &[&str]| -> Vec<conformance::catalogue::Check> {
        checks_for(Protocol::Oidc).into_iter().filter(|c| ids.contains(&c.id)).collect()
    };
    let skip_signature: Flaw = "skip-id-token-signature".parse().unwrap();
    let checks = || only(&["oidc.sig.bad_signature", "oidc.sig.alg_none"]);

    let tls = crate::support::run_with_target_edit(Tenant::Jit, &[skip_signature], checks(), None, over_tls).await;
    assert_eq!(tls.warned(), BTreeSet::from(["oidc.sig.bad_signature"]), "{}", tls.explain());
    assert_eq!(tls.failing(), BTreeSet::new(), "{}", tls.explain());
    let warned = tls.results.iter().find(|r| r.id == "oidc.sig.bad_signature").unwrap();
    assert!(warned.reason.contains("OpenID Connect Core 3.1.3.7 step 6"), "{}", warned.reason);
    assert!(warned.reason.contains("over TLS"), "{}", warned.reason);

    let http = run_against_tenant(Tenant::Jit, &[skip_signature], checks()).await;
    assert_eq!(http.failing(), BTreeSet::from(["oidc.sig.bad_signature"]), "{}", http.explain());
    assert_eq!(http.warned(), BTreeSet::new(), "{}", http.explain());

    let ignore_crit: Flaw = "ignore-crit".parse().unwrap();
    let crit = crate::support::run_with_target_edit(
        Tenant::Jit,
        &[ignore_crit],
        only(&["oidc.sig.unknown_crit"]),
        None,
        over_tls,
    )
    .await;
    assert_eq!(crit.failing(), BTreeSet::from(["oidc.sig.unknown_crit"]), "{}", crit.explain());
}

/// A relying party that asks for `response_mode=form_post` gets the mock's
/// auto-submitting form instead of a redirect; the suite posts it to the
/// redirect URI as a browser would, and every OIDC check gives the verdict it
/// gives by query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rp_asking_for_form_post_gets_the_same_oidc_verdicts_as_by_query() {
    let by_query = run_against_tenant(Tenant::Jit, &[], checks_for(Protocol::Oidc)).await;
    let by_form_post =
        crate::support::run_with_sp_config_edit(Tenant::Jit, &[], checks_for(Protocol::Oidc), |config| {
            config.replacen(
                "redirect_path = \"/oidc/callback/acme\" }",
                "redirect_path = \"/oidc/callback/acme\", response_mode = \"form_post\" }",
                1,
            )
        })
        .await;
    let verdicts = |run: &crate::support::Run| -> Vec<(&'static str, Verdict)> {
        run.results.iter().map(|r| (r.id, r.verdict)).collect()
    };
    assert_eq!(verdicts(&by_form_post), verdicts(&by_query), "{}", by_form_post.explain());
    // Once it asks for form_post the reference SP's callback takes only
    // POST, so these passes mean the suite posted the mock's form.
    let control = by_form_post.results.iter().find(|r| r.id == "oidc.pkce.s256").unwrap();
    assert_eq!(control.verdict, Verdict::Pass, "{}", control.reason);
}
