//! The push-groups checks (attacks.md K-07 and K-13) against the reference
//! SP: tenant acme (SAML, OIDC and SCIM, a session that shows its groups)
//! and tenant globex (SAML and SCIM, a session without groups), correct and
//! with each flaw aimed at them; and skipped with the reason where the
//! target cannot provision.

use std::collections::BTreeSet;

use conformance::catalogue::{Category, Check, Protocol, checks_for};
use conformance::runner::{Evidence, Verdict};
use reference_sp::flaws::Flaw;

use crate::support::{Tenant, run_against_tenant, run_with_target_edit};

/// Which push-groups checks each flaw must make fail, against acme.
const PUSH_GROUPS_FLAW_CHECKS: &[(&str, &[&str])] = &[
    // The groups attribute never reaches the session, so the pushed group
    // Okta also sends at sign-in never shows.
    ("drop-attributes", &["cross.push_groups.sign_in_groups_agree"]),
    // Leaving a pushed group, or its deletion, deactivates the member: the
    // next sign-in is refused (in the groups check too, after the removal).
    (
        "group-exit-deactivates",
        &[
            "cross.push_groups.sign_in_groups_agree",
            "cross.push_groups.removed_member_signs_in",
            "cross.push_groups.deleted_group_member_signs_in",
        ],
    ),
];

fn push_groups_checks() -> Vec<Check> {
    checks_for(Protocol::Cross).into_iter().filter(|c| c.category == Category::PushGroups).collect()
}

#[test]
fn every_push_groups_check_is_aimed_at_by_a_flaw() {
    let aimed: BTreeSet<&str> = PUSH_GROUPS_FLAW_CHECKS.iter().flat_map(|(_, checks)| checks.iter().copied()).collect();
    let catalogue: BTreeSet<&str> = push_groups_checks().iter().map(|c| c.id).collect();
    assert_eq!(aimed, catalogue);
    assert!(catalogue.len() >= 3, "{} push-groups checks", catalogue.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_groups_checks_pass_against_the_jit_tenant() {
    let run = run_against_tenant(Tenant::Jit, &[], push_groups_checks()).await;
    assert_eq!(run.results.len(), push_groups_checks().len());
    let bad = run.described(|r| r.verdict != Verdict::Pass);
    assert!(bad.is_empty(), "{bad:#?}");
}

/// globex's session shows no groups: the groups check skips saying so, and
/// the access checks pass with accounts SCIM made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_groups_checks_pass_against_the_existing_only_tenant_and_skip_without_groups() {
    let run = run_against_tenant(Tenant::ExistingOnly, &[], push_groups_checks()).await;
    assert_eq!(run.skipped(), BTreeSet::from(["cross.push_groups.sign_in_groups_agree"]), "{}", run.explain());
    for result in run.results.iter().filter(|r| r.verdict == Verdict::Skip) {
        assert!(result.reason.contains("groups_pointer"), "{}: {}", result.id, result.reason);
    }
    assert_eq!(run.failing(), BTreeSet::new(), "{}", run.explain());
}

/// Without a [scim] section nothing is pushed: every check skips, saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_groups_checks_skip_where_the_target_has_no_scim() {
    let run = run_against_tenant(Tenant::PublicClient, &[], push_groups_checks()).await;
    assert_eq!(run.skipped().len(), push_groups_checks().len(), "{}", run.explain());
    for result in &run.results {
        assert!(result.reason.contains("[scim]"), "{}: {}", result.id, result.reason);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_push_groups_flaw_fails_exactly_its_checks() {
    for (name, checks) in PUSH_GROUPS_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_against_tenant(Tenant::Jit, &[flaw], push_groups_checks()).await;
        let failed = run.failed();
        assert_eq!(failed, checks.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}:\n{}", run.explain());
        assert_eq!(run.failing(), failed, "--flaw {flaw}: no errors beside the failures:\n{}", run.explain());
        for result in run.results.iter().filter(|r| r.verdict == Verdict::Fail) {
            let Some(Evidence::Scim(evidence)) = &result.evidence else { panic!("{}: no evidence", result.id) };
            assert!(evidence.exchanges.iter().any(|e| e.url.contains("/Groups")), "{}: {evidence:?}", result.id);
            assert!(!evidence.oracle.is_empty(), "{}: the oracle's answer is part of the evidence", result.id);
            assert!(result.fix.is_some(), "{}", result.id);
        }
    }
}

/// acme's target without its [saml] section, so the checks sign in by OIDC.
fn without_saml(target: String) -> String {
    let start = target.find("[saml]").unwrap();
    let end = target.find("[oidc]").unwrap();
    format!("{}{}", &target[..start], &target[end..])
}

/// Where the target signs in by OIDC only, the groups come from the ID
/// token's groups claim: the correct relying party passes all three, one
/// that drops the claims fails the groups check, and the group-exit flaw
/// fails all three there too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_groups_checks_judge_the_oidc_sign_in_where_the_target_has_no_saml() {
    let checks = push_groups_checks();
    let correct = run_with_target_edit(Tenant::Jit, &[], checks.clone(), None, without_saml).await;
    assert_eq!(correct.results.len(), checks.len());
    assert!(correct.results.iter().all(|r| r.verdict == Verdict::Pass), "{}", correct.explain());
    assert!(correct.results.iter().all(|r| r.reason.contains("OIDC")), "{}", correct.explain());
    for (name, failing) in [
        ("drop-oidc-claims", &["cross.push_groups.sign_in_groups_agree"][..]),
        (
            "group-exit-deactivates",
            &[
                "cross.push_groups.sign_in_groups_agree",
                "cross.push_groups.removed_member_signs_in",
                "cross.push_groups.deleted_group_member_signs_in",
            ][..],
        ),
    ] {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_with_target_edit(Tenant::Jit, &[flaw], checks.clone(), None, without_saml).await;
        assert_eq!(
            run.failing(),
            failing.iter().copied().collect::<BTreeSet<_>>(),
            "--flaw {flaw}:\n{}",
            run.explain()
        );
        for result in run.results.iter().filter(|r| r.verdict == Verdict::Fail) {
            assert!(result.reason.contains("OIDC"), "{}: {}", result.id, result.reason);
        }
    }
}
