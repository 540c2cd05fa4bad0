//! The OIDC checks of vendor guides' account rules (the Mobius guide's
//! licence at sign-in, the Koopid guide's email username and display name)
//! against the reference SP's acme tenant with the rules switched on
//! (`licence_at_sign_in`, `require_email_username`, `require_display_name`)
//! and declared in its target (`[accounts] licence`, `username_format`,
//! `display_name_required`, `[session] licence_pointer`, and a
//! `list_users` hook so a refusal's "no account" is checked). Against the
//! plain reference targets, which declare none of the rules, the checks
//! skip (oidc.rs).

use std::collections::BTreeSet;

use conformance::catalogue::{Check, Protocol, checks_for};
use conformance::runner::Verdict;
use reference_sp::flaws::Flaw;

use crate::support::{Tenant, run_configured_with};

/// The vendor-rule checks; each skips where the target does not declare
/// its rule.
pub(crate) const VENDOR_RULE_CHECKS: &[&str] = &[
    "oidc.account.licence_at_sign_in",
    "oidc.account.username_not_email_refused",
    "oidc.account.display_name_required",
];

/// Which vendor-rule check each flaw makes fail, against the tenant with
/// the rules on. One table, read by the tests and by oidc.rs.
pub(crate) const VENDOR_RULE_FLAW_CHECKS: &[(&str, &[&str])] = &[
    ("jit-skips-licence", &["oidc.account.licence_at_sign_in"]),
    ("username-format-unchecked", &["oidc.account.username_not_email_refused"]),
    ("display-name-optional", &["oidc.account.display_name_required"]),
];

/// Whether a result is a vendor-rule check skipped for want of its
/// declaration, as against the plain reference targets.
pub(crate) fn skips_undeclared_vendor_rule(result: &conformance::runner::CheckResult) -> bool {
    result.verdict == Verdict::Skip && VENDOR_RULE_CHECKS.contains(&result.id)
}

/// The acme target declaring the three rules, the licence's place in the
/// session, and the SP's account list as the `list_users` hook.
fn declaring_the_rules(target: String) -> String {
    // The create_user hook's URL gives the SP's address in this test.
    let users_url = target
        .lines()
        .find(|line| line.starts_with("create_user = "))
        .and_then(|line| line.split("url = \"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    target
        .replacen(
            "[accounts]\n",
            "[accounts]\nlicence = \"dictation\"\nusername_format = \"email\"\ndisplay_name_required = true\n",
            1,
        )
        .replacen("[session]\n", "[session]\nlicence_pointer = \"/licence\"\n", 1)
        .replacen(
            "[hooks]\n",
            &format!(
                "[hooks]\nlist_users = {{ method = \"GET\", url = \"{users_url}\", basic_auth = \"breakglass@acme.test:mockta-dev-breakglass\" }}\n"
            ),
            1,
        )
}

/// The acme tenant (the config's first JIT tenant) with the three rules on.
fn with_the_rules(config: String) -> String {
    config.replacen(
        "provisioning = \"jit\"\n",
        "provisioning = \"jit\"\nlicence_at_sign_in = \"dictation\"\nrequire_email_username = true\nrequire_display_name = true\n",
        1,
    )
}

fn checks(ids: &[&str]) -> Vec<Check> {
    checks_for(Protocol::Oidc).into_iter().filter(|c| ids.contains(&c.id)).collect()
}

#[test]
fn every_vendor_rule_check_is_aimed_at_by_a_flaw() {
    let aimed: BTreeSet<&str> = VENDOR_RULE_FLAW_CHECKS.iter().flat_map(|(_, checks)| checks.iter().copied()).collect();
    assert_eq!(aimed, VENDOR_RULE_CHECKS.iter().copied().collect::<BTreeSet<_>>());
    let catalogue: BTreeSet<&str> = checks_for(Protocol::Oidc).iter().map(|c| c.id).collect();
    assert!(aimed.is_subset(&catalogue), "{aimed:?}");
    for (flaw, _) in VENDOR_RULE_FLAW_CHECKS {
        assert!(flaw.parse::<Flaw>().is_ok(), "{flaw}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vendor_rule_checks_pass_against_a_tenant_with_the_rules() {
    let mut ids = VENDOR_RULE_CHECKS.to_vec();
    // Accounts the rules must not break: a correct sign-in, the name in the
    // session, and the account checks that sign other people in.
    ids.extend(["oidc.sso.sign_in", "oidc.sso.claims_in_session", "oidc.account.email_not_identity"]);
    let run = run_configured_with(Tenant::Jit, &[], checks(&ids), declaring_the_rules, with_the_rules).await;
    assert_eq!(run.results.len(), ids.len(), "{}", run.explain());
    let bad = run.described(|r| r.verdict != Verdict::Pass);
    assert!(bad.is_empty(), "{bad:#?}");
    let reason = |id: &str| run.results.iter().find(|r| r.id == id).unwrap().reason.clone();
    let licence = reason("oidc.account.licence_at_sign_in");
    assert!(licence.contains("the licence 'dictation'"), "{licence}");
    // The refusals were judged on the account list too, not on the session
    // alone.
    for id in ["oidc.account.username_not_email_refused", "oidc.account.display_name_required"] {
        let reason = reason(id);
        assert!(reason.starts_with("no session and no account for"), "{id}: {reason}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_vendor_rule_flaw_fails_exactly_its_check() {
    for (name, expected) in VENDOR_RULE_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run =
            run_configured_with(Tenant::Jit, &[flaw], checks(VENDOR_RULE_CHECKS), declaring_the_rules, with_the_rules)
                .await;
        assert_eq!(
            run.failing(),
            expected.iter().copied().collect::<BTreeSet<_>>(),
            "--flaw {flaw}:\n{}",
            run.explain()
        );
        assert_eq!(run.warned(), BTreeSet::new(), "--flaw {flaw}");
    }
}

/// A target that declares the rules, against an SP that does not have
/// them: the refusals fail, for the session and the account the SP gave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sp_without_the_rules_fails_the_checks_its_target_declares() {
    let run =
        run_configured_with(Tenant::Jit, &[], checks(VENDOR_RULE_CHECKS), declaring_the_rules, |config| config).await;
    assert_eq!(run.failing(), VENDOR_RULE_CHECKS.iter().copied().collect::<BTreeSet<_>>(), "{}", run.explain());
    let reason = |id: &str| run.results.iter().find(|r| r.id == id).unwrap().reason.clone();
    let licence = reason("oidc.account.licence_at_sign_in");
    assert!(licence.contains("shows no licence at /licence"), "{licence}");
    let username = reason("oidc.account.username_not_email_refused");
    assert!(username.contains("gave a session"), "{username}");
}

/// Undeclared, each check skips and says which declaration it needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeclared_the_vendor_rule_checks_skip_naming_the_declaration() {
    let run = run_configured_with(Tenant::Jit, &[], checks(VENDOR_RULE_CHECKS), |target| target, with_the_rules).await;
    assert_eq!(run.skipped(), VENDOR_RULE_CHECKS.iter().copied().collect::<BTreeSet<_>>(), "{}", run.explain());
    let reason = |id: &str| run.results.iter().find(|r| r.id == id).unwrap().reason.clone();
    assert!(reason("oidc.account.licence_at_sign_in").contains("accounts.licence"));
    assert!(reason("oidc.account.username_not_email_refused").contains("username_format = \"email\""));
    assert!(reason("oidc.account.display_name_required").contains("display_name_required = true"));
}
