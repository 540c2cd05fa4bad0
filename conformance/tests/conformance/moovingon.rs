//! The checks of the MoovingON AI guide's behaviours, against the reference
//! SP's tenants set up as that guide's SP: a user it does not know gets the
//! vendor's refusal ("Error 405"; globex, existing accounts only), SCIM is
//! taken only once an admin has signed in through the IdP, and the custom
//! attributes `moovingon_ai_admin`, `firstPhone` and `secondPhone` are taken
//! on the core User (acme). The reference targets declare none of this, so
//! there the new check skips and `saml.account.unknown_user` judges no text;
//! here the target declares it, and each check passes against the tenant and
//! fails against the flaw aimed at it.

use std::collections::BTreeSet;

use conformance::catalogue::{Check, Protocol, all_checks, checks_for};
use conformance::runner::{Evidence, Verdict};
use reference_sp::flaws::Flaw;

use crate::support::{Run, Tenant, run_configured_with};

/// The SCIM check of the guide's custom attributes, with the flaw that
/// fails it.
pub(crate) const MOOVINGON_SCIM_FLAW_CHECKS: &[(&str, &[&str])] =
    &[("core-attributes-dropped", &["scim.users.custom_attributes_kept"])];

/// The SAML flaw of the guide's refusal, with the check it fails where the
/// target declares the refusal's text.
pub(crate) const MOOVINGON_SAML_FLAW_CHECKS: &[(&str, &[&str])] =
    &[("unknown-user-server-error", &["saml.account.unknown_user"])];

/// The checks that need the target's MoovingON declarations and skip
/// without them.
pub(crate) const MOOVINGON_CHECKS: [&str; 2] =
    ["scim.users.custom_attributes_kept", "cross.lockout_safety.scim_waits_for_verified_sso"];

const REFUSAL: &str = "Error 405: iDP-initiated SSO won't work for a user who has no MoovingON AI account";

fn checks(ids: &[&str]) -> Vec<Check> {
    all_checks().into_iter().filter(|c| ids.contains(&c.id)).collect()
}

fn one(run: &Run, id: &str) -> (Verdict, String) {
    let result = run.results.iter().find(|r| r.id == id).unwrap();
    (result.verdict, result.reason.clone())
}

/// globex answers an unknown user in the vendor's words.
fn refusal_tenant(config: String) -> String {
    config.replacen("id = \"globex\"\n", &format!("id = \"globex\"\nunknown_user_refusal = \"{REFUSAL}\"\n"), 1)
}

/// The target declares the part of the refusal it expects.
fn refusal_target(target: String) -> String {
    target.replacen("jit = false\n", "jit = false\nunknown_user_refusal = \"Error 405\"\n", 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unknown_user_check_requires_the_declared_refusal() {
    let unknown_user = || checks(&["saml.account.unknown_user"]);
    let run = run_configured_with(Tenant::ExistingOnly, &[], unknown_user(), refusal_target, refusal_tenant).await;
    let (verdict, reason) = one(&run, "saml.account.unknown_user");
    assert_eq!(verdict, Verdict::Pass, "{reason}");
    assert!(reason.contains("refused in the declared words") && reason.contains("Error 405"), "{reason}");

    // The flaw answers a generic 500: no refusal, and not the vendor's.
    for flaw in MOOVINGON_SAML_FLAW_CHECKS.iter().map(|(name, _)| name.parse::<Flaw>().unwrap()) {
        let run =
            run_configured_with(Tenant::ExistingOnly, &[flaw], unknown_user(), refusal_target, refusal_tenant).await;
        assert_eq!(run.failing(), BTreeSet::from(["saml.account.unknown_user"]), "--flaw {flaw}:\n{}", run.explain());
        let (_, reason) = one(&run, "saml.account.unknown_user");
        assert!(reason.contains("(500)") && reason.contains("'Error 405'"), "{reason}");
        let result = run.results.iter().find(|r| r.id == "saml.account.unknown_user").unwrap();
        let Some(Evidence::Saml(evidence)) = &result.evidence else { panic!("no SAML evidence: {result:?}") };
        assert_eq!(evidence.sp_status, Some(500));
    }

    // An SP whose refusal does not say what the target declares fails too,
    // and the reason quotes what its page says instead.
    let run = run_configured_with(Tenant::ExistingOnly, &[], unknown_user(), refusal_target, |c| c).await;
    let (verdict, reason) = one(&run, "saml.account.unknown_user");
    assert_eq!(verdict, Verdict::Fail, "{reason}");
    assert!(reason.contains("(403)") && reason.contains("no account for"), "{reason}");
}

/// acme takes the three attributes on the core User.
fn core_tenant(config: String) -> String {
    config.replacen(
        "extension = [\"role\", \"admin\"] }",
        "extension = [\"role\", \"admin\"], core_attributes = [\"moovingon_ai_admin\", \"firstPhone\", \"secondPhone\"] }",
        1,
    )
}

fn core_target(target: String) -> String {
    target.replacen(
        "owner = \"scim-owner@acme.test\"\n",
        "owner = \"scim-owner@acme.test\"\ncore_attributes = { moovingon_ai_admin = \"boolean\", firstPhone = \"e164\", secondPhone = \"e164\" }\n",
        1,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_custom_attributes_check_passes_against_the_tenant_and_fails_its_flaw() {
    let kept = || checks(&["scim.users.custom_attributes_kept"]);
    let run = run_configured_with(Tenant::Jit, &[], kept(), core_target, core_tenant).await;
    let (verdict, reason) = one(&run, "scim.users.custom_attributes_kept");
    assert_eq!(verdict, Verdict::Pass, "{reason}");
    assert!(reason.contains("firstPhone, moovingon_ai_admin, secondPhone kept"), "{reason}");
    assert!(reason.contains("0501234567 (not E.164) was refused with 400"), "{reason}");

    for (name, expected) in MOOVINGON_SCIM_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_configured_with(Tenant::Jit, &[flaw], kept(), core_target, core_tenant).await;
        assert_eq!(
            run.failing(),
            expected.iter().copied().collect::<BTreeSet<_>>(),
            "--flaw {flaw}:\n{}",
            run.explain()
        );
        let (_, reason) = one(&run, "scim.users.custom_attributes_kept");
        assert!(reason.contains("is not in the user read back"), "{reason}");
    }

    // An SP that does not take them at all refuses Okta's create: a fail
    // that names the attributes, not a broken control.
    let run = run_configured_with(Tenant::Jit, &[], kept(), core_target, |c| c).await;
    let (verdict, reason) = one(&run, "scim.users.custom_attributes_kept");
    assert_eq!(verdict, Verdict::Fail, "{reason}");
    assert!(reason.contains("answered 400") && reason.contains("firstPhone"), "{reason}");
}

/// acme takes SCIM only once an admin has signed in through its IdP.
fn verified_tenant(config: String) -> String {
    config.replacen(
        "scim = { token = \"mockta-dev-token\", ",
        "scim = { token = \"mockta-dev-token\", requires_verified_sso = true, ",
        1,
    )
}

fn verified_target(target: String) -> String {
    target.replacen("[scim]\n", "[scim]\nrequires_verified_sso = true\n", 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scim_wait_check_passes_against_the_tenant_and_fails_its_flaw() {
    let waits = || checks(&["cross.lockout_safety.scim_waits_for_verified_sso"]);
    let run = run_configured_with(Tenant::Jit, &[], waits(), verified_target, verified_tenant).await;
    let (verdict, reason) = one(&run, "cross.lockout_safety.scim_waits_for_verified_sso");
    assert_eq!(verdict, Verdict::Pass, "{reason}");
    for said in [
        "before SSO was verified, Okta's create was refused (403: SCIM is not enabled for tenant acme",
        "a member of acme-admins, signed in by SAML, IdP-initiated from the Okta dashboard",
        "Okta's lookup found no user left by the refused create",
        "after SSO was verified, Okta's create was taken (201)",
    ] {
        assert!(reason.contains(said), "{said}: {reason}");
    }

    let flaw: Flaw = "scim-before-sso-verified".parse().unwrap();
    let run = run_configured_with(Tenant::Jit, &[flaw], waits(), verified_target, verified_tenant).await;
    assert_eq!(
        run.failing(),
        BTreeSet::from(["cross.lockout_safety.scim_waits_for_verified_sso"]),
        "{}",
        run.explain()
    );
    let (_, reason) = one(&run, "cross.lockout_safety.scim_waits_for_verified_sso");
    assert!(reason.contains("was taken (201) before any admin had signed in through the IdP"), "{reason}");

    // Where the target does not declare it, the check skips and says why.
    let run = run_configured_with(Tenant::Jit, &[], waits(), |t| t, |c| c).await;
    let (verdict, reason) = one(&run, "cross.lockout_safety.scim_waits_for_verified_sso");
    assert_eq!(verdict, Verdict::Skip, "{reason}");
    assert!(reason.contains("scim.requires_verified_sso"), "{reason}");
}

/// As under `--only`: the SCIM catalogue alone, without the wait check,
/// against a tenant that takes SCIM only once SSO is verified. The suite
/// signs an admin in first, so every check meets a SCIM server that takes
/// it; without the target's word it does not, and the checks are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_verifies_sso_before_the_scim_checks_when_the_target_says_the_sp_waits() {
    let scim_checks = || checks_for(Protocol::Scim);
    let run = run_configured_with(Tenant::Jit, &[], scim_checks(), verified_target, verified_tenant).await;
    // Checks of other guides skip here too, for what the target does not
    // declare; none may fail or error.
    let bad =
        run.described(|r| r.verdict != Verdict::Pass && !(r.verdict == Verdict::Skip && r.reason.contains("declare")));
    let skipped = run.skipped();
    assert!(skipped.contains(MOOVINGON_CHECKS[0]), "{}", run.explain());
    assert!(bad.is_empty(), "{bad:#?}");

    let undeclared = run_configured_with(Tenant::Jit, &[], scim_checks(), |t| t, verified_tenant).await;
    let refused = undeclared.described(|r| r.verdict == Verdict::Fail || r.verdict == Verdict::Error);
    assert!(refused.len() > 20, "without the declaration the SP refuses the suite's SCIM: {refused:#?}");
}
