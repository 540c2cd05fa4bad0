//! The checks of the Appenate guide's behaviours, against the reference SP's
//! acme tenant set up as that guide's SP: SCIM requires the first name, last
//! name and email and keeps the email unique (`scim.required_attributes`,
//! `scim.email_unique`), and the OIDC app sends the app profile's role as a
//! claim, which the SP takes at every sign-in (`roles`, `role_claim`). The
//! reference targets declare none of this, so there the checks skip; here
//! the target declares it, and each check passes against the tenant and
//! fails against the flaw aimed at it.

use std::collections::BTreeSet;
use std::sync::Arc;

use conformance::catalogue::{Check, all_checks};
use conformance::runner::Verdict;
use reference_sp::flaws::Flaw;

use crate::support::{Run, Tenant, run_configured_with_idp};

/// The SCIM checks of the guide, with the flaw that fails each.
pub(crate) const SCIM_APPENATE_FLAW_CHECKS: &[(&str, &[&str])] = &[
    ("required-attributes-unchecked", &["scim.users.required_attributes_enforced"]),
    ("email-not-unique", &["scim.users.email_unique"]),
];

/// The OIDC check of the guide's roles, with the flaw that fails it.
pub(crate) const OIDC_ROLE_FLAW_CHECKS: &[(&str, &[&str])] =
    &[("role-only-at-creation", &["oidc.account.role_from_app_profile"])];

/// The checks that need the target's Appenate declarations and skip
/// without them.
pub(crate) const APPENATE_CHECKS: [&str; 3] =
    ["scim.users.required_attributes_enforced", "scim.users.email_unique", "oidc.account.role_from_app_profile"];

const ROLES: &str = r#"["ReadOnly", "User", "Admin", "EnterpriseAdmin"]"#;
const REQUIRED: &str = r#"["name.givenName", "name.familyName", "emails"]"#;

fn appenate_checks() -> Vec<Check> {
    all_checks().into_iter().filter(|c| APPENATE_CHECKS.contains(&c.id)).collect()
}

/// The acme tenant as the Appenate guide's SP: its SCIM server requires the
/// three attributes, and its role comes from the `role` claim.
fn appenate_tenant(config: String) -> String {
    let config = config.replacen(
        "name = \"Acme Corp\"\n",
        &format!("name = \"Acme Corp\"\nroles = {ROLES}\nrole_claim = \"role\"\n"),
        1,
    );
    config.replacen(
        "extension = [\"role\", \"admin\"] }",
        &format!("extension = [\"role\", \"admin\"], required_attributes = {REQUIRED} }}"),
        1,
    )
}

/// The target declares what the guide says of the SP.
fn appenate_target(target: String) -> String {
    target
        .replacen(
            "owner = \"scim-owner@acme.test\"\n",
            &format!("owner = \"scim-owner@acme.test\"\nrequired_attributes = {REQUIRED}\nemail_unique = true\n"),
            1,
        )
        .replacen("admin_group = \"acme-admins\"\n", &format!("admin_group = \"acme-admins\"\nroles = {ROLES}\n"), 1)
        .replacen("groups_pointer = \"/groups\"\n", "groups_pointer = \"/groups\"\nrole_pointer = \"/role\"\n", 1)
}

/// Runs the guide's checks against acme set up as the guide's SP, the org's
/// OIDC app sending the app profile's attributes as claims (as the guide
/// has the Okta admin set it: "Claims for this token include all user
/// attributes on the app profile").
async fn run_appenate(flaws: &[Flaw]) -> Run {
    let idp = Arc::new(mock_idp::setup::IdpOptions { deterministic: false, ..Default::default() }.build().unwrap());
    idp.write_org(|org| {
        let app = org.apps.values_mut().find(|a| a.name == "reference-sp-oidc").unwrap();
        if let mock_idp::org::SignOn::Oidc(oidc) = &mut app.sign_on {
            oidc.app_profile_claims = true;
        }
    });
    let run =
        run_configured_with_idp(Tenant::Jit, idp, flaws, appenate_checks(), appenate_target, appenate_tenant).await;
    assert_eq!(run.results.len(), APPENATE_CHECKS.len());
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_appenate_checks_pass_against_a_tenant_set_up_as_the_guide_says() {
    let run = run_appenate(&[]).await;
    let bad = run.described(|r| r.verdict != Verdict::Pass);
    assert!(bad.is_empty(), "{bad:#?}");
    let reason = |id: &str| run.results.iter().find(|r| r.id == id).unwrap().reason.clone();
    let role = reason("oidc.account.role_from_app_profile");
    assert!(role.contains("EnterpriseAdmin") && role.contains("ReadOnly"), "{role}");
    let required = reason("scim.users.required_attributes_enforced");
    assert!(required.contains("name.givenName, name.familyName, emails"), "{required}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_appenate_flaw_fails_exactly_its_check() {
    for (name, checks) in SCIM_APPENATE_FLAW_CHECKS.iter().chain(OIDC_ROLE_FLAW_CHECKS) {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_appenate(&[flaw]).await;
        assert_eq!(run.failing(), checks.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}:\n{}", run.explain());
        let passed: BTreeSet<&str> = run.results.iter().filter(|r| r.verdict == Verdict::Pass).map(|r| r.id).collect();
        let others: BTreeSet<&str> = APPENATE_CHECKS.iter().copied().filter(|id| !checks.contains(id)).collect();
        assert_eq!(passed, others, "--flaw {flaw}: the other checks pass");
        for result in run.results.iter().filter(|r| r.verdict == Verdict::Fail) {
            assert!(result.evidence.is_some() && result.fix.is_some(), "{}", result.id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_targets_declarations_the_appenate_checks_skip() {
    let idp = Arc::new(mock_idp::setup::IdpOptions { deterministic: false, ..Default::default() }.build().unwrap());
    let run = run_configured_with_idp(Tenant::Jit, idp, &[], appenate_checks(), |t| t, |c| c).await;
    assert_eq!(run.skipped(), APPENATE_CHECKS.iter().copied().collect::<BTreeSet<_>>(), "{}", run.explain());
    let reasons: Vec<String> = run.results.iter().map(|r| r.reason.clone()).collect();
    assert!(reasons.iter().any(|r| r.contains("scim.required_attributes")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("scim.email_unique")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("accounts.roles")), "{reasons:?}");
}
