//! The deactivation checks (attacks.md K-10 to K-12) against the reference
//! SP: tenant acme (SAML, OIDC and SCIM, JIT, Okta's OIN profile) and tenant
//! globex (SAML and SCIM, existing accounts only, the App Integration
//! Wizard's PUT), correct and with each flaw aimed at them; and skipped with
//! the reason where the target cannot provision or cannot sign in.

use std::collections::BTreeSet;

use conformance::catalogue::{Category, Check, Protocol, checks_for};
use conformance::runner::{Evidence, Verdict};
use reference_sp::flaws::Flaw;

use crate::support::{Tenant, run_against_tenant};

/// Flaws added for these checks, which the SAML and SCIM flaw tables leave
/// out.
pub(crate) const DEACTIVATION_FLAWS: &[&str] = &["groups-override-deactivation"];

/// Which deactivation checks each flaw must make fail, against acme.
///
/// Okta's suspension and its unassignment reach the SP as the very request
/// its deactivation does (the path-less PATCH `active: false`, or the
/// wizard's PUT of the object read, whose body for a canary is the same),
/// and its unsuspension as its reactivation's `active: true`: no SP bug can
/// tell them apart on the wire, so `suspension_refused` and
/// `unassignment_refused` are aimed at by the flaws that break refusal
/// (`jit-revives-deactivated`, `deactivate-deletes`), as `saml_refused` is.
const DEACTIVATION_FLAW_CHECKS: &[(&str, &[&str])] = &[
    // The session from before the deactivation, and its refresh token, live on.
    ("deactivate-keeps-sessions", &["cross.deactivation.session_ends", "cross.deactivation.refresh_refused"]),
    // Every sign-in after the deactivation sets the account active again.
    (
        "jit-revives-deactivated",
        &[
            "cross.deactivation.saml_refused",
            "cross.deactivation.oidc_refused",
            "cross.deactivation.jit_never_revives",
            "cross.deactivation.group_member_refused",
            "cross.deactivation.suspension_refused",
            "cross.deactivation.unassignment_refused",
        ],
    ),
    // The deleted account is gone for SCIM, and JIT makes a new one at the
    // next sign-in, which the reactivation (and the unsuspension) cannot
    // reach; SCIM reads 404 and Okta's lookup finds nobody, with or without
    // a sign-in in between.
    (
        "deactivate-deletes",
        &[
            "cross.deactivation.saml_refused",
            "cross.deactivation.oidc_refused",
            "cross.deactivation.jit_never_revives",
            "cross.deactivation.group_member_refused",
            "cross.deactivation.reactivation_restores",
            "cross.deactivation.suspension_refused",
            "cross.deactivation.unassignment_refused",
            "cross.deactivation.stays_readable",
        ],
    ),
    ("groups-override-deactivation", &["cross.deactivation.group_member_refused"]),
];

fn deactivation_checks() -> Vec<Check> {
    checks_for(Protocol::Cross).into_iter().filter(|c| c.category == Category::Deactivation).collect()
}

#[test]
fn every_deactivation_check_is_aimed_at_by_a_flaw() {
    let aimed: BTreeSet<&str> =
        DEACTIVATION_FLAW_CHECKS.iter().flat_map(|(_, checks)| checks.iter().copied()).collect();
    let catalogue: BTreeSet<&str> = deactivation_checks().iter().map(|c| c.id).collect();
    assert_eq!(aimed, catalogue);
    assert!(catalogue.len() >= 10, "{} deactivation checks", catalogue.len());
    for flaw in DEACTIVATION_FLAWS {
        assert!(DEACTIVATION_FLAW_CHECKS.iter().any(|(name, _)| name == flaw), "{flaw} has no row");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_checks_pass_against_the_jit_tenant() {
    let run = run_against_tenant(Tenant::Jit, &[], deactivation_checks()).await;
    assert_eq!(run.results.len(), deactivation_checks().len());
    let bad = run.described(|r| r.verdict != Verdict::Pass);
    assert!(bad.is_empty(), "{bad:#?}");
    // The reference SP's session shows the account's id, which is its SCIM
    // id: the reactivated sign-in is judged by it too.
    let reactivation = run.results.iter().find(|r| r.id == "cross.deactivation.reactivation_restores").unwrap();
    assert!(reactivation.reason.contains("which the session shows"), "{}", reactivation.reason);
    // acme signs in by both protocols: the suspension and the unassignment
    // are judged by each, and the unsuspension by the session's account id.
    for id in ["cross.deactivation.suspension_refused", "cross.deactivation.unassignment_refused"] {
        let result = run.results.iter().find(|r| r.id == id).unwrap();
        assert!(
            result.reason.contains("SAML sign-in") && result.reason.contains("OIDC sign-in"),
            "{id}: {}",
            result.reason
        );
    }
    let suspension = run.results.iter().find(|r| r.id == "cross.deactivation.suspension_refused").unwrap();
    assert_eq!(suspension.reason.matches("which the session shows").count(), 2, "{}", suspension.reason);
}

/// The suspension and unassignment checks say what Okta did in their
/// failures, and show the SCIM requests and the SP's answers: under
/// `jit-revives-deactivated` the refused sign-in is the failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspension_and_unassignment_failures_name_okta_s_change() {
    let checks: Vec<Check> = deactivation_checks()
        .into_iter()
        .filter(|c| {
            c.id == "cross.deactivation.suspension_refused" || c.id == "cross.deactivation.unassignment_refused"
        })
        .collect();
    let flaw: Flaw = "jit-revives-deactivated".parse().unwrap();
    let run = run_against_tenant(Tenant::Jit, &[flaw], checks).await;
    let suspension = run.results.iter().find(|r| r.id == "cross.deactivation.suspension_refused").unwrap();
    assert!(suspension.reason.contains("after Okta's suspension gave a session"), "{}", suspension.reason);
    let unassignment = run.results.iter().find(|r| r.id == "cross.deactivation.unassignment_refused").unwrap();
    assert!(unassignment.reason.contains("after Okta unassigned them from the app gave"), "{}", unassignment.reason);
    for result in &run.results {
        let Some(Evidence::Scim(evidence)) = &result.evidence else { panic!("{}: no evidence", result.id) };
        let deactivation = evidence.exchanges.iter().find(|e| e.method == "PATCH").unwrap();
        assert!(deactivation.request_body.as_deref().unwrap().contains(r#""active":false"#), "{deactivation:?}");
    }
}

/// Under `deactivate-deletes` the deactivated user reads 404 and Okta's
/// lookup finds nobody, which is what `stays_readable` says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stays_readable_fails_where_deactivation_deletes() {
    let checks: Vec<Check> =
        deactivation_checks().into_iter().filter(|c| c.id == "cross.deactivation.stays_readable").collect();
    let flaw: Flaw = "deactivate-deletes".parse().unwrap();
    let run = run_against_tenant(Tenant::Jit, &[flaw], checks).await;
    let result = &run.results[0];
    assert_eq!(result.verdict, Verdict::Fail, "{}", run.explain());
    assert!(result.reason.contains("reads 404"), "{}", result.reason);
    assert!(result.reason.contains("finds []"), "{}", result.reason);
    let Some(Evidence::Scim(evidence)) = &result.evidence else { panic!("no evidence") };
    let read = evidence.exchanges.iter().rev().find(|e| e.method == "GET" && !e.url.contains("filter")).unwrap();
    assert_eq!(read.status, 404, "{read:?}");
}

/// globex signs in by SAML only and takes Okta's wizard PUT: the OIDC
/// checks skip with the reason, the rest pass with accounts SCIM made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_checks_pass_against_the_existing_only_tenant_and_skip_oidc() {
    let run = run_against_tenant(Tenant::ExistingOnly, &[], deactivation_checks()).await;
    assert_eq!(
        run.skipped(),
        BTreeSet::from(["cross.deactivation.oidc_refused", "cross.deactivation.refresh_refused"]),
        "{}",
        run.explain()
    );
    for result in run.results.iter().filter(|r| r.verdict == Verdict::Skip) {
        assert!(result.reason.contains("[oidc]"), "{}: {}", result.id, result.reason);
    }
    assert_eq!(run.failing(), BTreeSet::new(), "{}", run.explain());
}

/// Without a [scim] section there is nobody to deactivate: every check
/// skips, saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_checks_skip_where_the_target_has_no_scim() {
    let run = run_against_tenant(Tenant::PublicClient, &[], deactivation_checks()).await;
    assert_eq!(run.skipped().len(), deactivation_checks().len(), "{}", run.explain());
    for result in &run.results {
        assert!(result.reason.contains("[scim]"), "{}: {}", result.id, result.reason);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_deactivation_flaw_fails_exactly_its_checks() {
    for (name, checks) in DEACTIVATION_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_against_tenant(Tenant::Jit, &[flaw], deactivation_checks()).await;
        let failed = run.failed();
        assert_eq!(failed, checks.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}:\n{}", run.explain());
        assert_eq!(run.failing(), failed, "--flaw {flaw}: no errors beside the failures:\n{}", run.explain());
        for result in run.results.iter().filter(|r| r.verdict == Verdict::Fail) {
            let Some(Evidence::Scim(evidence)) = &result.evidence else { panic!("{}: no evidence", result.id) };
            assert!(!evidence.exchanges.is_empty(), "{}: {evidence:?}", result.id);
            assert!(!evidence.oracle.is_empty(), "{}: the oracle's answer is part of the evidence", result.id);
            assert!(result.fix.is_some(), "{}", result.id);
        }
    }
}
