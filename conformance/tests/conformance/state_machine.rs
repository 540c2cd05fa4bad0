//! The integration state machine (cross.state_machine.integration) against
//! the reference SP: tenant acme passes it whatever the seed, a target
//! without [scim] skips it, and each flaw it aims at fails it within the
//! default case budget with a fixed seed, its shrunk sequence pinned in a
//! snapshot (the random tag of each case's names redacted).

use conformance::catalogue::{Category, Check, Protocol, checks_for};
use conformance::report::Report;
use conformance::runner::{DEFAULT_CASES, Evidence, Verdict};
use reference_sp::flaws::Flaw;

use std::sync::Arc;

use crate::support::{Tenant, run_against_tenant, run_configured_with_idp, run_state_machine, run_with_target_edit};

/// The seed the flaw tests replay: with it, every aimed flaw fails within
/// the default number of cases.
const SEED: u64 = 39;

/// The flaws the state machine must find, one or more per behaviour:
/// deactivation (a session outlives Okta's deactivation), push groups (a
/// removal ignored, a rename that wipes members, a removal that
/// deactivates) and email matching (an email change that misses the
/// account, an old email that still signs in to its first owner, an
/// account made at OIDC sign-in that Okta's lookup does not find), and
/// lockout safety (the SP takes Okta's deactivation, or its removal from
/// the admin group, of its last active admin).
const AIMED_FLAWS: &[&str] = &[
    "deactivate-keeps-sessions",
    "member-remove-ignored",
    "rename-replace-wipes-members",
    "group-exit-deactivates",
    "scim-update-keeps-email",
    "email-change-keeps-identity",
    "scim-lookup-skips-jit-accounts",
    "allow-last-admin-deactivation",
    "allow-last-admin-group-removal",
];

fn state_machine_checks() -> Vec<Check> {
    checks_for(Protocol::Cross).into_iter().filter(|c| c.category == Category::IntegrationStateMachine).collect()
}

#[test]
fn the_state_machine_is_one_exclusive_check_in_its_own_category() {
    let checks = state_machine_checks();
    assert_eq!(checks.iter().map(|c| c.id).collect::<Vec<_>>(), ["cross.state_machine.integration"]);
    assert!(checks[0].exclusive, "it turns on provisioning for the app, which other checks' canaries must not meet");
    assert_eq!(Category::IntegrationStateMachine.as_str(), "integration-state-machine");
}

/// Whatever the seed, the correct SP passes: the reason names the seed,
/// so a failure here replays with `--seed`. Afterwards the app's
/// provisioning settings are back as the org file had them (none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jit_tenant_passes_the_state_machine() {
    let idp = Arc::new(mock_idp::setup::IdpOptions { deterministic: false, ..Default::default() }.build().unwrap());
    let provisioning =
        |idp: &mock_idp::idp::Idp| idp.read_org(|org| org.find_app("reference-sp").unwrap().provisioning.is_some());
    assert!(!provisioning(&idp));
    let no_edit = |text: String| text;
    let run = run_configured_with_idp(Tenant::Jit, idp.clone(), &[], state_machine_checks(), no_edit, no_edit).await;
    assert!(!provisioning(&idp), "the check left SCIM provisioning on for the app");
    assert_eq!(run.results.len(), 1);
    let result = &run.results[0];
    assert_eq!(result.verdict, Verdict::Pass, "{}: {:?}", result.reason, result.evidence);
    assert!(result.reason.contains(&format!("{DEFAULT_CASES} cases (seed ")), "{}", result.reason);
    assert!(result.reason.contains("SAML and OIDC"), "{}", result.reason);
}

/// A target without [scim] cannot be provisioned: the check skips, saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_machine_skips_where_the_target_has_no_scim() {
    let run = run_against_tenant(Tenant::PublicClient, &[], state_machine_checks()).await;
    assert_eq!(run.skipped(), ["cross.state_machine.integration"].into(), "{}", run.explain());
    assert!(run.results[0].reason.contains("[scim]"), "{}", run.results[0].reason);
}

/// The report names the seed a run drew from, in the human report and in
/// the JSON one, so the run can be replayed.
#[test]
fn the_report_names_the_state_machine_seed() {
    let mut report = Report::new("acme".into(), Vec::new());
    assert!(!report.to_human().contains("seed"));
    assert!(!report.to_json().contains("state_machine_seed"));
    report.state_machine_seed = Some(424242);
    assert!(report.to_human().contains("integration state machine seed: 424242 (replay with --seed 424242)"));
    assert!(report.to_json().contains("\"state_machine_seed\": 424242"), "{}", report.to_json());
}

/// Runs the state machine against acme with `flaw` and the fixed seed; the
/// check must fail with the shrunk sequence as its evidence, whose text is
/// returned with each case's random tag redacted.
async fn shrunk_sequence_against(flaw: &str) -> String {
    let flaw: Flaw = flaw.parse().unwrap();
    let run = run_state_machine(Tenant::Jit, &[flaw], state_machine_checks(), SEED, DEFAULT_CASES).await;
    let result = &run.results[0];
    assert_eq!(result.verdict, Verdict::Fail, "--flaw {flaw}: {}", result.reason);
    assert!(result.reason.contains(&format!("seed {SEED}")), "{}", result.reason);
    assert!(result.fix.is_some());
    let Some(Evidence::Sequence(evidence)) = &result.evidence else { panic!("--flaw {flaw}: {:?}", result.evidence) };
    assert_eq!(evidence.seed, SEED);
    assert!(evidence.steps.len() <= evidence.original_length, "{evidence:?}");
    // Only the last step differs: the shrunk sequence ends where the SP
    // first left Okta's intent.
    let (last, earlier) = evidence.steps.split_last().unwrap();
    assert!(last.differed.is_some() && earlier.iter().all(|s| s.differed.is_none()), "{evidence:?}");
    let text = evidence.steps_text();
    regex::Regex::new("sm-[a-z]{8}-").unwrap().replace_all(&text, "sm-[tag]-").into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivate_keeps_sessions_fails_the_state_machine() {
    let shrunk = shrunk_sequence_against("deactivate-keeps-sessions").await;
    // The same seed against a new SP replays the same cases, with fresh
    // people, to the same shrunk sequence.
    assert_eq!(shrunk_sequence_against("deactivate-keeps-sessions").await, shrunk);
    insta::assert_snapshot!(shrunk);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_remove_ignored_fails_the_state_machine() {
    insta::assert_snapshot!(shrunk_sequence_against("member-remove-ignored").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_replace_wipes_members_fails_the_state_machine() {
    insta::assert_snapshot!(shrunk_sequence_against("rename-replace-wipes-members").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_exit_deactivates_fails_the_state_machine() {
    insta::assert_snapshot!(shrunk_sequence_against("group-exit-deactivates").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim_update_keeps_email_fails_the_state_machine() {
    insta::assert_snapshot!(shrunk_sequence_against("scim-update-keeps-email").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_change_keeps_identity_fails_the_state_machine() {
    insta::assert_snapshot!(shrunk_sequence_against("email-change-keeps-identity").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim_lookup_skips_jit_accounts_fails_the_state_machine() {
    insta::assert_snapshot!(shrunk_sequence_against("scim-lookup-skips-jit-accounts").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_last_admin_deactivation_fails_the_state_machine() {
    insta::assert_snapshot!(shrunk_sequence_against("allow-last-admin-deactivation").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_last_admin_group_removal_fails_the_state_machine() {
    insta::assert_snapshot!(shrunk_sequence_against("allow-last-admin-group-removal").await);
}

/// Every aimed flaw has its test above, and they span three behaviours.
#[test]
fn every_aimed_flaw_is_a_flaw_of_the_reference_sp() {
    for name in AIMED_FLAWS {
        name.parse::<Flaw>().unwrap();
    }
    assert!(AIMED_FLAWS.len() >= 5);
    assert_eq!(AIMED_FLAWS.len(), 9);
}

/// globex: existing accounts only, pushed groups linked to teams its
/// create_group hook makes first, a session without groups.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_existing_only_tenant_passes_the_state_machine() {
    let run = run_against_tenant(Tenant::ExistingOnly, &[], state_machine_checks()).await;
    let result = &run.results[0];
    assert_eq!(result.verdict, Verdict::Pass, "{}: {:?}", result.reason, result.evidence);
    assert!(result.reason.contains("signing in by SAML"), "{}", result.reason);
}

/// acme without its [saml] section: Okta provisions through the OIDC app
/// (the userName is the login) and every sign-in is by OIDC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_machine_passes_where_the_target_signs_in_by_oidc_only() {
    let without_saml = |target: String| {
        let start = target.find("[saml]").unwrap();
        let end = target.find("[oidc]").unwrap();
        format!("{}{}", &target[..start], &target[end..])
    };
    let run = run_with_target_edit(Tenant::Jit, &[], state_machine_checks(), None, without_saml).await;
    let result = &run.results[0];
    assert_eq!(result.verdict, Verdict::Pass, "{}: {:?}", result.reason, result.evidence);
    assert!(result.reason.contains("signing in by OIDC"), "{}", result.reason);
}
