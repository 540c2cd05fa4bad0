//! The push-groups checks (attacks.md K-07 and K-13) against the reference
//! SP: tenant acme (SAML, OIDC and SCIM, a session that shows its groups)
//! and tenant globex (SAML and SCIM, a session without groups, pushed
//! groups that must link to existing teams), correct and with each flaw
//! aimed at them; and skipped with the reason where the target cannot
//! provision.

use std::collections::BTreeSet;

use conformance::catalogue::{Category, Check, Protocol, checks_for};
use conformance::runner::{Evidence, Verdict};
use reference_sp::flaws::Flaw;

use crate::support::{Tenant, run_against_tenant, run_with_target_edit};

/// Flaws added for these checks, which the SAML and SCIM flaw tables leave
/// out: no SAML check pushes a group, and no SCIM check signs in or pushes
/// to a tenant whose teams must exist.
pub(crate) const PUSH_GROUPS_FLAWS: &[&str] = &[
    "sign-in-groups-replace-membership",
    "push-creates-teams",
    "sign-in-groups-only-add",
    "patch-add-replaces-members",
];

/// The check only a tenant whose pushed groups must link to existing teams
/// runs (globex); acme skips it.
const EXISTING_TEAM_CHECK: &str = "cross.push_groups.existing_team_linked";

/// The check that pushes a group larger than one page.
const LARGE_PUSH_CHECK: &str = "cross.push_groups.large_push";

/// Which push-groups checks each flaw must make fail, against acme (and,
/// for `push-creates-teams`, against globex: see
/// `PUSH_GROUPS_EXISTING_TEAM_FLAW_CHECKS`).
const PUSH_GROUPS_FLAW_CHECKS: &[(&str, &[&str])] = &[
    // The groups attribute never reaches the session, so the pushed group
    // Okta also sends at sign-in never shows: not after the add, not after
    // the rename, not for the member the exact check keeps, not for the
    // members of the large push.
    (
        "drop-attributes",
        &[
            "cross.push_groups.sign_in_groups_agree",
            "cross.push_groups.rename_keeps_members",
            "cross.push_groups.membership_exact",
            "cross.push_groups.large_push",
        ],
    ),
    // Leaving a pushed group, or its deletion, deactivates the member: the
    // next sign-in is refused (in the groups check too, after the removal,
    // and for the member the exact check removes).
    (
        "group-exit-deactivates",
        &[
            "cross.push_groups.sign_in_groups_agree",
            "cross.push_groups.removed_member_signs_in",
            "cross.push_groups.deleted_group_member_signs_in",
            "cross.push_groups.membership_exact",
        ],
    ),
    // Okta's rename PATCH (replace id and displayName) wipes the members;
    // its remove PATCH starts with the same rename, so the exact check
    // loses the member it keeps too, and each batch of the large push (an
    // add, after the rename) wipes the batch before.
    (
        "rename-replace-wipes-members",
        &[
            "cross.push_groups.rename_keeps_members",
            "cross.push_groups.membership_exact",
            "cross.push_groups.large_push",
        ],
    ),
    // Okta's adds answer 200 and add nobody, so every check that reads the
    // members back finds its pushed member missing; the large push loses
    // all but its first batch.
    (
        "member-add-ignored",
        &[
            "cross.push_groups.rename_keeps_members",
            "cross.push_groups.membership_exact",
            "cross.push_groups.over_100_groups",
            "cross.push_groups.large_push",
        ],
    ),
    // The remove answers 200 and leaves the removed member in.
    ("member-remove-ignored", &["cross.push_groups.membership_exact"]),
    // An add of members replaces the list: the large push's second batch
    // wipes the first, and the exact check's second add of the removed
    // member drops the one it keeps.
    ("patch-add-replaces-members", &["cross.push_groups.membership_exact", "cross.push_groups.large_push"]),
    // "Push now" (replace of members) adds, so the member who left stays.
    ("replace-members-adds", &["cross.push_groups.membership_exact"]),
    // acme's checks sign in by OIDC for this one, whose groups claim the
    // mock cuts at 100 as Okta does: the pushed group is left out and the
    // SP takes the person out of it.
    ("sign-in-groups-replace-membership", &["cross.push_groups.over_100_groups"]),
    // The session keeps every group earlier sign-ins showed, so after
    // Okta's removal the group still shows: the removal half of the groups
    // check alone. (The exact check's removed member never signed in while
    // in the group, so nothing is left over for them.)
    ("sign-in-groups-only-add", &["cross.push_groups.sign_in_groups_agree"]),
];

/// Which push-groups checks each flaw must make fail against globex, whose
/// pushed groups must link to existing teams.
const PUSH_GROUPS_EXISTING_TEAM_FLAW_CHECKS: &[(&str, &[&str])] =
    &[("push-creates-teams", &["cross.push_groups.existing_team_linked"])];

fn push_groups_checks() -> Vec<Check> {
    checks_for(Protocol::Cross).into_iter().filter(|c| c.category == Category::PushGroups).collect()
}

#[test]
fn every_push_groups_check_is_aimed_at_by_a_flaw() {
    let aimed: BTreeSet<&str> = PUSH_GROUPS_FLAW_CHECKS
        .iter()
        .chain(PUSH_GROUPS_EXISTING_TEAM_FLAW_CHECKS)
        .flat_map(|(_, checks)| checks.iter().copied())
        .collect();
    let catalogue: BTreeSet<&str> = push_groups_checks().iter().map(|c| c.id).collect();
    assert_eq!(aimed, catalogue);
    assert!(catalogue.len() >= 8, "{} push-groups checks", catalogue.len());
    for flaw in PUSH_GROUPS_FLAWS {
        assert!(flaw.parse::<Flaw>().is_ok(), "{flaw}");
        let rows = PUSH_GROUPS_FLAW_CHECKS.iter().chain(PUSH_GROUPS_EXISTING_TEAM_FLAW_CHECKS);
        assert!(rows.clone().any(|(name, _)| name == flaw), "{flaw} has no row");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_groups_checks_pass_against_the_jit_tenant() {
    let run = run_against_tenant(Tenant::Jit, &[], push_groups_checks()).await;
    assert_eq!(run.results.len(), push_groups_checks().len());
    assert_eq!(run.skipped(), BTreeSet::from([EXISTING_TEAM_CHECK]), "{}", run.explain());
    let skipped = run.results.iter().find(|r| r.id == EXISTING_TEAM_CHECK).unwrap();
    assert!(skipped.reason.contains("scim.groups_must_exist"), "{}", skipped.reason);
    let bad = run.described(|r| r.verdict != Verdict::Pass && r.verdict != Verdict::Skip);
    assert!(bad.is_empty(), "{bad:#?}");
    // acme signs in by OIDC too, so the over-100 check judges the ID token
    // whose groups claim Okta cut.
    let over = run.results.iter().find(|r| r.id == "cross.push_groups.over_100_groups").unwrap();
    assert!(over.reason.contains("OIDC") && over.reason.contains("cut at 100"), "{}", over.reason);
    // The large push is more than one page: two batches, all 110 members.
    let large = run.results.iter().find(|r| r.id == LARGE_PUSH_CHECK).unwrap();
    assert!(
        large.reason.contains("in 2 batches") && large.reason.contains("exactly its 110 members"),
        "{}",
        large.reason
    );
}

/// Under `patch-add-replaces-members` the large push's second batch (an
/// add of 10) wipes the first (a replace of 100): the reason counts the
/// members lost, and the evidence holds both batches' PATCHes and the read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_large_push_counts_the_members_a_batch_wiped() {
    let checks: Vec<Check> = push_groups_checks().into_iter().filter(|c| c.id == LARGE_PUSH_CHECK).collect();
    let flaw: Flaw = "patch-add-replaces-members".parse().unwrap();
    let run = run_against_tenant(Tenant::Jit, &[flaw], checks).await;
    let result = run.results.iter().find(|r| r.id == LARGE_PUSH_CHECK).unwrap();
    assert_eq!(result.verdict, Verdict::Fail, "{}", run.explain());
    assert!(result.reason.contains("lists 10 members: 100 missing"), "{}", result.reason);
    let Some(Evidence::Scim(evidence)) = &result.evidence else { panic!("no evidence: {}", run.explain()) };
    let patches: Vec<&str> = evidence
        .exchanges
        .iter()
        .filter(|e| e.method == "PATCH" && e.url.contains("/Groups/"))
        .filter_map(|e| e.request_body.as_deref())
        .collect();
    assert_eq!(patches.len(), 2, "{patches:?}");
    assert!(patches[0].contains("\"replace\"") && patches[1].contains("\"add\""), "{patches:?}");
    assert!(evidence.exchanges.last().is_some_and(|e| e.method == "GET" && e.url.contains("/Groups/")), "{evidence:?}");
}

/// globex's session shows no groups: the groups check skips saying so, and
/// the others pass with accounts SCIM made, the existing-team check among
/// them (its teams must exist, and its create_group hook makes one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_groups_checks_pass_against_the_existing_only_tenant_and_skip_without_groups() {
    let run = run_against_tenant(Tenant::ExistingOnly, &[], push_groups_checks()).await;
    assert_eq!(run.skipped(), BTreeSet::from(["cross.push_groups.sign_in_groups_agree"]), "{}", run.explain());
    for result in run.results.iter().filter(|r| r.verdict == Verdict::Skip) {
        assert!(result.reason.contains("groups_pointer"), "{}: {}", result.id, result.reason);
    }
    assert_eq!(run.failing(), BTreeSet::new(), "{}", run.explain());
    let linked = run.results.iter().find(|r| r.id == EXISTING_TEAM_CHECK).unwrap();
    assert!(linked.reason.contains("was refused (400)"), "{}", linked.reason);
}

/// At globex a push of a group no team is named like must be refused:
/// `push-creates-teams` makes the team and fails exactly the existing-team
/// check, with the POST that made it in the evidence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_existing_team_flaw_fails_exactly_its_checks_at_the_existing_only_tenant() {
    for (name, checks) in PUSH_GROUPS_EXISTING_TEAM_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_against_tenant(Tenant::ExistingOnly, &[flaw], push_groups_checks()).await;
        assert_eq!(run.failing(), checks.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}:\n{}", run.explain());
        for result in run.results.iter().filter(|r| r.verdict == Verdict::Fail) {
            let Some(Evidence::Scim(evidence)) = &result.evidence else { panic!("{}: no evidence", result.id) };
            assert!(
                evidence.exchanges.iter().any(|e| e.method == "POST" && e.url.ends_with("/Groups") && e.status == 201),
                "{}: {evidence:?}",
                result.id
            );
        }
    }
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
/// token's groups claim: the correct relying party passes every check but the existing-team one (acme declares no scim.groups_must_exist), one
/// that drops the claims fails the checks that read the session's groups,
/// and the group-exit flaw fails the access checks there too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_groups_checks_judge_the_oidc_sign_in_where_the_target_has_no_saml() {
    let checks = push_groups_checks();
    let correct = run_with_target_edit(Tenant::Jit, &[], checks.clone(), None, without_saml).await;
    assert_eq!(correct.results.len(), checks.len());
    assert_eq!(correct.skipped(), BTreeSet::from([EXISTING_TEAM_CHECK]), "{}", correct.explain());
    let judged = || correct.results.iter().filter(|r| r.id != EXISTING_TEAM_CHECK);
    assert!(judged().all(|r| r.verdict == Verdict::Pass), "{}", correct.explain());
    assert!(judged().all(|r| r.reason.contains("OIDC")), "{}", correct.explain());
    for (name, failing) in [
        (
            "drop-oidc-claims",
            &[
                "cross.push_groups.sign_in_groups_agree",
                "cross.push_groups.rename_keeps_members",
                "cross.push_groups.membership_exact",
                "cross.push_groups.large_push",
            ][..],
        ),
        (
            "group-exit-deactivates",
            &[
                "cross.push_groups.sign_in_groups_agree",
                "cross.push_groups.removed_member_signs_in",
                "cross.push_groups.deleted_group_member_signs_in",
                "cross.push_groups.membership_exact",
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
