//! The SCIM catalogue against the reference SP's SCIM server: tenant acme
//! (Bearer, Okta's OIN profile) and tenant globex (Basic, the App
//! Integration Wizard profile, pushed groups linked to teams made by the
//! target's create_group hook), correct and with each SCIM flaw.

use std::collections::BTreeSet;

use conformance::catalogue::{Protocol, checks_for};
use conformance::runner::{Evidence, Verdict};
use reference_sp::flaws::Flaw;

use crate::flaws::SCIM_FLAWS;
use crate::support::{Tenant, run_against_tenant};

/// Which SCIM checks each flaw must make fail. One table, read by the tests.
const SCIM_FLAW_CHECKS: &[(&str, &[&str])] = &[
    ("list-omits-attributes", &["scim.spec.list_and_get"]),
    (
        "user-lookup-finds-nobody",
        &["scim.crud.assign", "scim.users.filter_ignores_case", "scim.users.deactivated_found_by_lookup"],
    ),
    ("put-ignores-name", &["scim.crud.update_profile"]),
    ("refuse-bare-scim-json", &["scim.media.scim_json"]),
    ("group-lookup-finds-nobody", &["scim.groups.create_and_find"]),
    // The membership checks add their members with Okta's PATCH add first.
    (
        "member-add-ignored",
        &["scim.groups.add_member", "scim.groups.rename_keeps_members", "scim.groups.remove_filtered_member"],
    ),
    ("replace-members-adds", &["scim.groups.push_now_replaces"]),
    ("group-exit-deactivates", &["scim.groups.delete_keeps_users", "scim.groups.member_remove_keeps_user_active"]),
    ("filter-case-sensitive", &["scim.users.filter_ignores_case"]),
    ("items-per-page-is-count", &["scim.lists.items_per_page", "scim.spec.list_groups"]),
    (
        "patch-pathless-ignored",
        &[
            "scim.crud.deactivate",
            "scim.users.deactivated_found_by_lookup",
            "scim.users.pathless_patch",
            // Okta's rename is a path-less replace too.
            "scim.groups.rename_keeps_members",
        ],
    ),
    ("member-remove-ignored", &["scim.groups.remove_filtered_member"]),
    // Okta sends its rename with every membership change, so the wiped
    // members show in the remove check as well.
    ("rename-replace-wipes-members", &["scim.groups.rename_keeps_members", "scim.groups.remove_filtered_member"]),
    (
        "deactivate-deletes",
        &[
            "scim.crud.deactivate",
            "scim.crud.reactivate",
            "scim.users.deactivated_found_by_lookup",
            "scim.users.pathless_patch",
        ],
    ),
    (
        "dup-returns-200",
        &["scim.spec.duplicate", "scim.users.duplicate_uniqueness", "scim.users.duplicate_case_variant"],
    ),
    ("no-match-returns-404", &["scim.spec.filter_no_match", "scim.groups.filter_no_match"]),
    (
        "error-not-scim-schema",
        &[
            "scim.spec.unknown_user",
            "scim.spec.unauthorized",
            "scim.errors.unknown_group",
            "scim.users.duplicate_uniqueness",
        ],
    ),
    ("keep-undeclared-attributes", &["scim.schema.undeclared_attribute", "scim.schema.undeclared_extension"]),
    ("conflict-without-scim-type", &["scim.users.duplicate_uniqueness"]),
    ("refuse-plain-json", &["scim.media.json", "scim.spec.create_user", "scim.spec.duplicate"]),
    ("ignore-if-match", &["scim.etag.if_match"]),
    ("echo-password", &["scim.users.password_not_echoed"]),
    ("total-results-is-page-size", &["scim.lists.count_respected"]),
];

/// Flaws the RFCs allow, which make these checks warn and none fail.
const SCIM_WARN_FLAW_CHECKS: &[(&str, &[&str])] = &[
    ("put-partial-merge", &["scim.users.put_replaces"]),
    ("unstable-pagination", &["scim.lists.stable_pages"]),
    ("scim-ignores-email-domains", &["scim.users.email_outside_domain"]),
];

/// Checks a flaw makes warn beside the ones it fails.
const SCIM_WARNS_BESIDE_FAILS: &[(&str, &[&str])] =
    // The walk trusts totalResults, so it stops after the first page.
    &[("total-results-is-page-size", &["scim.lists.stable_pages"])];

/// SCIM flaws no SCIM check catches, each with why: they are about what
/// SCIM does to sign-in, or a rule of this SP alone.
const SCIM_FLAWS_WITHOUT_CHECK: &[(&str, &str)] = &[
    (
        "deactivate-keeps-sessions",
        "a cross check: sign a canary in, deactivate it by SCIM, then ask the session oracle",
    ),
    ("jit-revives-deactivated", "a cross check: deactivate a canary by SCIM, sign it in, then read it by SCIM"),
    (
        "allow-last-admin-deactivation",
        "the last-admin rule is this SP's own (no RFC or Okta document asks for it); the cross check cross.lockout_safety.last_admin_kept, given accounts.admin_group, catches it",
    ),
];

#[test]
fn every_scim_flaw_is_aimed_at_a_check_and_every_check_at_a_flaw() {
    let tabled: BTreeSet<&str> = SCIM_FLAW_CHECKS
        .iter()
        .chain(SCIM_WARN_FLAW_CHECKS)
        .chain(crate::appenate::SCIM_APPENATE_FLAW_CHECKS)
        .chain(crate::moovingon::MOOVINGON_SCIM_FLAW_CHECKS)
        .map(|(flaw, _)| *flaw)
        .chain(SCIM_FLAWS_WITHOUT_CHECK.iter().map(|(flaw, _)| *flaw))
        .collect();
    assert_eq!(tabled, SCIM_FLAWS.iter().copied().collect::<BTreeSet<_>>());
    let aimed: BTreeSet<&str> = SCIM_FLAW_CHECKS
        .iter()
        .chain(SCIM_WARN_FLAW_CHECKS)
        .chain(SCIM_WARNS_BESIDE_FAILS)
        .chain(crate::appenate::SCIM_APPENATE_FLAW_CHECKS)
        .chain(crate::moovingon::MOOVINGON_SCIM_FLAW_CHECKS)
        .flat_map(|(_, checks)| checks.iter().copied())
        .collect();
    let catalogue: BTreeSet<&str> = checks_for(Protocol::Scim).iter().map(|c| c.id).collect();
    assert_eq!(aimed, catalogue, "every SCIM check needs a flaw that makes it fail or warn");
    assert!(catalogue.len() >= 35, "{} SCIM checks", catalogue.len());
}

async fn assert_whole_catalogue_passes(tenant: Tenant) {
    let run = run_against_tenant(tenant, &[], checks_for(Protocol::Scim)).await;
    assert_eq!(run.results.len(), checks_for(Protocol::Scim).len());
    // The Appenate guide's checks skip: the reference targets do not
    // declare its required attributes or unique email (appenate.rs runs them).
    let bad = run.described(|r| {
        r.verdict != Verdict::Pass
            && !(r.verdict == Verdict::Skip
                && (crate::appenate::APPENATE_CHECKS.contains(&r.id)
                    || crate::moovingon::MOOVINGON_CHECKS.contains(&r.id)))
    });
    assert!(bad.is_empty(), "{tenant:?}: {bad:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_scim_catalogue_passes_against_reference_sp_bearer_oin() {
    assert_whole_catalogue_passes(Tenant::Jit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_scim_catalogue_passes_against_reference_sp_basic_wizard() {
    assert_whole_catalogue_passes(Tenant::ExistingOnly).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_scim_flaw_fails_exactly_its_checks() {
    for (name, checks) in SCIM_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_against_tenant(Tenant::Jit, &[flaw], checks_for(Protocol::Scim)).await;
        assert_eq!(run.failing(), checks.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}:\n{}", run.explain());
        let warns: BTreeSet<&str> = SCIM_WARNS_BESIDE_FAILS
            .iter()
            .find(|(other, _)| other == name)
            .map(|(_, checks)| checks.iter().copied().collect())
            .unwrap_or_default();
        assert_eq!(run.warned(), warns, "--flaw {flaw} warnings");
        for result in run.results.iter().filter(|r| r.verdict == Verdict::Fail) {
            let Some(Evidence::Scim(evidence)) = &result.evidence else { panic!("{}: no SCIM evidence", result.id) };
            assert!(!evidence.exchanges.is_empty(), "{}: {evidence:?}", result.id);
            assert!(result.fix.is_some(), "{}", result.id);
        }
    }
    for (name, checks) in SCIM_WARN_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_against_tenant(Tenant::Jit, &[flaw], checks_for(Protocol::Scim)).await;
        assert_eq!(run.warned(), checks.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}:\n{}", run.explain());
        assert_eq!(run.failing(), BTreeSet::new(), "--flaw {flaw} must fail nothing");
    }
}

/// The wizard profile deactivates by PUT, so the path-less PATCH flaw fails
/// only the check that sends the PATCH itself (and Okta's group rename).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_wizard_profile_deactivation_goes_by_put() {
    let flaw: Flaw = "patch-pathless-ignored".parse().unwrap();
    let run = run_against_tenant(Tenant::ExistingOnly, &[flaw], checks_for(Protocol::Scim)).await;
    assert_eq!(
        run.failing(),
        BTreeSet::from(["scim.users.pathless_patch", "scim.groups.rename_keeps_members"]),
        "{}",
        run.explain()
    );
}

/// Evidence never carries a password, even one the server echoes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_redacts_passwords() {
    let flaw: Flaw = "echo-password".parse().unwrap();
    let checks: Vec<_> =
        checks_for(Protocol::Scim).into_iter().filter(|c| c.id == "scim.users.password_not_echoed").collect();
    let run = run_against_tenant(Tenant::Jit, &[flaw], checks).await;
    let result = &run.results[0];
    assert_eq!(result.verdict, Verdict::Fail, "{}", result.reason);
    let Some(Evidence::Scim(evidence)) = &result.evidence else { panic!("no SCIM evidence") };
    let text = serde_json::to_string(evidence).unwrap();
    assert!(text.contains("[redacted]"), "{text}");
    assert!(!text.contains("Mockta-"), "a password leaked into the evidence: {text}");
}
