//! The lockout-safety checks (attacks.md K-14) against the reference SP:
//! tenants acme (JIT, Okta's OIN profile) and globex (existing accounts
//! only, the wizard's PUT), correct and with the flaw aimed at each check;
//! and skipped with the reason at initech (OIDC only, no [scim]) and hooli
//! (SAML, no [scim]).

use std::collections::BTreeSet;
use std::sync::Arc;

use conformance::catalogue::{Category, Check, Protocol, checks_for};
use conformance::runner::{Evidence, Verdict};
use reference_sp::flaws::Flaw;

use crate::support::{Tenant, run_against_tenant, run_configured_with, run_configured_with_idp, run_with_target_edit};

/// Flaws added for these checks, which the SAML and SCIM flaw tables leave
/// out: the SAML catalogue never sends five refused responses for one
/// person, so none of its checks sees the lock.
pub(crate) const LOCKOUT_SAFETY_FLAWS: &[&str] = &[
    "lock-after-failed-sso",
    "allow-last-admin-group-removal",
    "allow-owner-deactivation",
    "pin-first-idp-certificate",
    "break-glass-needs-idp",
    "sso-enforcement-without-admin-sign-in",
    "scim-before-sso-verified",
];

/// Which lockout-safety checks each flaw must make fail, against acme.
const LOCKOUT_SAFETY_FLAW_CHECKS: &[(&str, &[&str])] = &[
    // Five refused responses naming the person lock their account.
    ("lock-after-failed-sso", &["cross.lockout_safety.failed_sso_never_locks"]),
    // Okta's deactivation of the only admin is taken, and they are out.
    ("allow-last-admin-deactivation", &["cross.lockout_safety.last_admin_kept"]),
    // The deactivation is refused, but Okta's removal from the admin group
    // is taken.
    ("allow-last-admin-group-removal", &["cross.lockout_safety.last_admin_kept"]),
    // Okta's deactivation of the SCIM credential's owner is taken.
    ("allow-owner-deactivation", &["cross.lockout_safety.scim_owner_kept"]),
    // The SP keeps the IdP certificate it read first: the old key's
    // sign-in works during the overlap, the new key's after the switch
    // does not.
    ("pin-first-idp-certificate", &["cross.lockout_safety.saml_certificate_rollover"]),
    // The relying party verifies with the first key of its cached JWKS,
    // the old one, after the next key becomes active.
    ("first-jwks-key", &["cross.lockout_safety.oidc_key_rotation"]),
    // With SSO required, the break-glass login loads the IdP's metadata
    // first and refuses when it cannot, or when the certificate changed.
    ("break-glass-needs-idp", &["cross.lockout_safety.break_glass_survives_idp_outage"]),
    // The SP lets SSO be required before any admin signed in through the
    // IdP.
    ("sso-enforcement-without-admin-sign-in", &["cross.lockout_safety.sso_enforcement_needs_admin_sign_in"]),
    // SCIM is taken before any admin signed in through the IdP (run with
    // the tenant and target declaring `requires_verified_sso`, as the
    // MoovingON guide's SP; moovingon.rs shows the check pass there).
    ("scim-before-sso-verified", &["cross.lockout_safety.scim_waits_for_verified_sso"]),
];

/// The check that needs the target's `scim.requires_verified_sso`, which
/// the reference targets do not declare: it skips against them.
const SCIM_WAIT_CHECK: &str = "cross.lockout_safety.scim_waits_for_verified_sso";

fn lockout_safety_checks() -> Vec<Check> {
    checks_for(Protocol::Cross).into_iter().filter(|c| c.category == Category::LockoutSafety).collect()
}

#[test]
fn every_lockout_safety_check_is_aimed_at_by_a_flaw() {
    let aimed: BTreeSet<&str> =
        LOCKOUT_SAFETY_FLAW_CHECKS.iter().flat_map(|(_, checks)| checks.iter().copied()).collect();
    let catalogue: BTreeSet<&str> = lockout_safety_checks().iter().map(|c| c.id).collect();
    assert_eq!(aimed, catalogue);
    for flaw in LOCKOUT_SAFETY_FLAWS {
        assert!(LOCKOUT_SAFETY_FLAW_CHECKS.iter().any(|(name, _)| name == flaw), "{flaw} has no row");
    }
}

fn check(id: &str) -> Check {
    lockout_safety_checks().into_iter().find(|c| c.id == id).unwrap()
}

/// The SHA-256 fingerprint of the certificate the target's SAML app signs
/// with, and how many generated certificates it publishes besides.
fn saml_keys_of(idp: &mock_idp::idp::Idp) -> (String, usize) {
    let app = idp.read_org(|org| org.find_app("reference-sp").unwrap().id.clone());
    let keys = idp.saml_keys(&app).unwrap();
    (keys.active.fingerprint().to_owned(), keys.generated.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_safety_checks_pass_against_the_jit_tenant() {
    let idp = Arc::new(mock_idp::setup::IdpOptions { deterministic: false, ..Default::default() }.build().unwrap());
    let first_key = saml_keys_of(&idp);
    let run =
        run_configured_with_idp(Tenant::Jit, idp.clone(), &[], lockout_safety_checks(), |text| text, |text| text).await;
    assert_eq!(run.results.len(), lockout_safety_checks().len());
    let bad = run.described(|r| r.verdict != Verdict::Pass && !(r.verdict == Verdict::Skip && r.id == SCIM_WAIT_CHECK));
    assert!(bad.is_empty(), "{bad:#?}");
    // The reference SP refuses the last admin's deactivation with 409.
    let last_admin = run.results.iter().find(|r| r.id == "cross.lockout_safety.last_admin_kept").unwrap();
    assert!(
        last_admin.reason.contains("with 409, and their removal from acme-admins with 409"),
        "{}",
        last_admin.reason
    );
    // And refuses the deactivation of its SCIM credential's owner with 409.
    let owner = run.results.iter().find(|r| r.id == "cross.lockout_safety.scim_owner_kept").unwrap();
    assert!(owner.reason.contains("scim-owner@acme.test") && owner.reason.contains("with 409"), "{}", owner.reason);
    // The rollover signed in by both keys, and left the app its first key
    // and nothing else published, for the checks after it.
    let rollover = run.results.iter().find(|r| r.id == "cross.lockout_safety.saml_certificate_rollover").unwrap();
    assert!(
        rollover.reason.contains("during the overlap")
            && rollover.reason.contains("signed by the new key after the app switched"),
        "{}",
        rollover.reason
    );
    assert_eq!(saml_keys_of(&idp), (first_key.0, 0));
    let rotation = run.results.iter().find(|r| r.id == "cross.lockout_safety.oidc_key_rotation").unwrap();
    assert!(
        rotation.reason.contains("signed with kid") && rotation.reason.contains("same account"),
        "{}",
        rotation.reason
    );
    // The break-glass admin got in each time with SSO required, and the
    // mock is up again with its first key for the checks after it.
    let break_glass =
        run.results.iter().find(|r| r.id == "cross.lockout_safety.break_glass_survives_idp_outage").unwrap();
    assert!(break_glass.reason.starts_with("with SSO required, the break-glass admin"), "{}", break_glass.reason);
    for failure in ["metadata answered 503", "whole IdP answered 503", "signing certificate changed"] {
        assert!(break_glass.reason.contains(failure), "{failure}: {}", break_glass.reason);
    }
    // (The first key's return is asserted above, after both key checks.)
    assert_eq!(idp.outage(), None);
    // The SSO-enforcement check ran first, before the break-glass check
    // signed its admin in: it saw the refusal, then the SP take it.
    let enforcement =
        run.results.iter().find(|r| r.id == "cross.lockout_safety.sso_enforcement_needs_admin_sign_in").unwrap();
    for said in [
        "the SP refused set_sso_required true (409: lockout.no_admin_sign_in)",
        "after the admin signed in, the sso_readiness hook read true",
        "after the admin signed in through the IdP, the SP took set_sso_required true (200)",
        "with SSO required signed the person in",
        "at the end, the SP took set_sso_required false",
    ] {
        assert!(enforcement.reason.contains(said), "{said}: {}", enforcement.reason);
    }
}

/// The reference SP's database as a persistent SP keeps it between runs:
/// the SP's config with its database moved to `path`.
fn database_at(path: std::path::PathBuf) -> impl Fn(String) -> String {
    move |config: String| {
        config
            .lines()
            .map(|line| {
                if line.starts_with("database = ") {
                    format!("database = \"{}\"", path.display())
                } else {
                    line.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// An admin who signed in through the IdP in an earlier run against the
/// same SP (its database kept) is history the check cannot undo: the second
/// run skips, saying why and how to get a fresh tenant, rather than
/// failing an SP that rightly lets SSO be required now; and it asks the SP
/// nothing but the readiness hook, so SSO stays optional.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sso_enforcement_check_skips_where_an_admin_signed_in_in_an_earlier_run() {
    let enforcement = check("cross.lockout_safety.sso_enforcement_needs_admin_sign_in");
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("kept.sqlite3");
    let first =
        run_configured_with(Tenant::Jit, &[], vec![enforcement], |text| text, database_at(database.clone())).await;
    assert_eq!(first.results[0].verdict, Verdict::Pass, "{}", first.explain());
    let second = run_configured_with(Tenant::Jit, &[], vec![enforcement], |text| text, database_at(database)).await;
    let result = &second.results[0];
    assert_eq!(result.verdict, Verdict::Skip, "{}", second.explain());
    for said in ["an admin has already signed in", "/admin_signed_in_via_idp", "a new database"] {
        assert!(result.reason.contains(said), "{said}: {}", result.reason);
    }
}

/// Where acme signs in by OIDC only, the admin signs in by OIDC and the
/// check judges the same refusal and the same acceptance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sso_enforcement_check_judges_an_oidc_only_target() {
    let enforcement = check("cross.lockout_safety.sso_enforcement_needs_admin_sign_in");
    let without_saml = |text: String| {
        let (start, end) = (text.find("[saml]").unwrap(), text.find("[oidc]").unwrap());
        format!("{}{}", &text[..start], &text[end..])
    };
    let run = run_with_target_edit(Tenant::Jit, &[], vec![enforcement], None, without_saml).await;
    let result = &run.results[0];
    assert_eq!(result.verdict, Verdict::Pass, "{}", run.explain());
    for said in [
        "(409: lockout.no_admin_sign_in)",
        "signed in by OIDC",
        "an OIDC sign-in with SSO required signed the person in",
    ] {
        assert!(result.reason.contains(said), "{said}: {}", result.reason);
    }
    let run = run_with_target_edit(
        Tenant::Jit,
        &[Flaw::SsoEnforcementWithoutAdminSignIn],
        vec![enforcement],
        None,
        without_saml,
    )
    .await;
    assert_eq!(run.results[0].verdict, Verdict::Fail, "{}", run.explain());
}

/// Without the readiness hook, the set_sso_required hook or the admin group
/// the check skips, naming what is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sso_enforcement_check_skips_without_its_hooks_or_an_admin_group() {
    let enforcement = check("cross.lockout_safety.sso_enforcement_needs_admin_sign_in");
    for (field, line) in [
        ("hooks.sso_readiness", "sso_readiness"),
        ("hooks.set_sso_required", "set_sso_required"),
        ("accounts.admin_group", "admin_group"),
    ] {
        let without = |text: String| text.lines().filter(|l| !l.starts_with(line)).collect::<Vec<_>>().join("\n");
        let run = run_with_target_edit(Tenant::Jit, &[], vec![enforcement], None, without).await;
        assert_eq!(run.results[0].verdict, Verdict::Skip, "{field}: {}", run.explain());
        assert!(run.results[0].reason.contains(field), "{field}: {}", run.results[0].reason);
    }
}

/// The break-glass check without accounts.break_glass skips, naming it;
/// without the set_sso_required hook it judges with SSO optional and says
/// so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_break_glass_check_skips_without_a_declaration_and_says_when_sso_stays_optional() {
    let break_glass = check("cross.lockout_safety.break_glass_survives_idp_outage");
    let without = |text: String| {
        let start = text.find("[accounts.break_glass]").unwrap();
        let end = text[start..].find("\n\n").map_or(text.len(), |i| start + i);
        format!("{}{}", &text[..start], &text[end..])
    };
    let run = run_with_target_edit(Tenant::Jit, &[], vec![break_glass], None, without).await;
    assert_eq!(run.results[0].verdict, Verdict::Skip, "{}", run.explain());
    assert!(run.results[0].reason.contains("accounts.break_glass"), "{}", run.results[0].reason);
    let optional =
        |text: String| text.lines().filter(|l| !l.starts_with("set_sso_required")).collect::<Vec<_>>().join("\n");
    let run = run_with_target_edit(Tenant::Jit, &[], vec![break_glass], None, optional).await;
    assert_eq!(run.results[0].verdict, Verdict::Pass, "{}", run.explain());
    assert!(run.results[0].reason.contains("with SSO optional"), "{}", run.results[0].reason);
}

/// Where acme signs in by OIDC only, the break-glass admin must get in
/// while the discovery document and keys answer 503 and while the whole
/// IdP is down; the SAML certificate change is left out, saying why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_break_glass_check_judges_an_oidc_only_target_by_its_outages() {
    let break_glass = check("cross.lockout_safety.break_glass_survives_idp_outage");
    let without_saml = |text: String| {
        let (start, end) = (text.find("[saml]").unwrap(), text.find("[oidc]").unwrap());
        format!("{}{}", &text[..start], &text[end..])
    };
    let run = run_with_target_edit(Tenant::Jit, &[], vec![break_glass], None, without_saml).await;
    let result = &run.results[0];
    assert_eq!(result.verdict, Verdict::Pass, "{}", run.explain());
    for said in ["metadata answered 503", "whole IdP answered 503", "signs in by OIDC", "an OIDC sign-in"] {
        assert!(result.reason.contains(said), "{said}: {}", result.reason);
    }
    assert!(!result.reason.contains("certificate changed"), "{}", result.reason);
}

/// A target that declares no way to make the SP read its IdP metadata
/// again skips the rollover, saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_certificate_rollover_skips_without_a_refresh_hook() {
    let rollover = check("cross.lockout_safety.saml_certificate_rollover");
    let without_hook =
        |text: String| text.lines().filter(|l| !l.starts_with("refresh_idp_metadata")).collect::<Vec<_>>().join("\n");
    let run = run_with_target_edit(Tenant::Jit, &[], vec![rollover], None, without_hook).await;
    assert_eq!(run.results[0].verdict, Verdict::Skip, "{}", run.explain());
    assert!(run.results[0].reason.contains("hooks.refresh_idp_metadata"), "{}", run.results[0].reason);
}

/// globex's target names no admin group, no SCIM owner and no
/// set_sso_required hook: the last-admin, owner and SSO-enforcement checks
/// skip, saying so (and the OIDC rotation, with no [oidc]), and the rest
/// pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_safety_checks_pass_against_the_existing_only_tenant_and_skip_without_an_admin_group() {
    let run = run_against_tenant(Tenant::ExistingOnly, &[], lockout_safety_checks()).await;
    assert_eq!(
        run.skipped(),
        BTreeSet::from([
            "cross.lockout_safety.last_admin_kept",
            "cross.lockout_safety.scim_owner_kept",
            "cross.lockout_safety.oidc_key_rotation",
            "cross.lockout_safety.sso_enforcement_needs_admin_sign_in",
            SCIM_WAIT_CHECK,
        ]),
        "{}",
        run.explain()
    );
    for result in run.results.iter().filter(|r| r.verdict == Verdict::Skip) {
        let field = match result.id {
            SCIM_WAIT_CHECK => "scim.requires_verified_sso",
            "cross.lockout_safety.scim_owner_kept" => "scim.owner",
            "cross.lockout_safety.oidc_key_rotation" => "[oidc]",
            "cross.lockout_safety.sso_enforcement_needs_admin_sign_in" => "hooks.set_sso_required",
            _ => "accounts.admin_group",
        };
        assert!(result.reason.contains(field), "{}: {}", result.id, result.reason);
    }
    assert_eq!(run.failing(), BTreeSet::new(), "{}", run.explain());
}

/// initech (OIDC only) and hooli (SAML only) have no [scim] to provision
/// the person by: the checks skip, saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_safety_checks_skip_where_the_target_has_no_scim() {
    for tenant in [Tenant::PublicClient, Tenant::GeneratedKeys] {
        let run = run_against_tenant(tenant, &[], lockout_safety_checks()).await;
        assert_eq!(run.skipped().len(), lockout_safety_checks().len(), "{tenant:?}: {}", run.explain());
        for result in &run.results {
            assert!(result.reason.contains("[scim]"), "{}: {}", result.id, result.reason);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_lockout_safety_flaw_fails_exactly_its_checks() {
    for (name, checks) in LOCKOUT_SAFETY_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run = if checks.contains(&SCIM_WAIT_CHECK) {
            // Only a tenant that waits for a verified SSO, and a target that
            // says so, give the check something to judge.
            let tenant = |config: String| {
                config.replacen(
                    "scim = { token = \"mockta-dev-token\", ",
                    "scim = { token = \"mockta-dev-token\", requires_verified_sso = true, ",
                    1,
                )
            };
            let target = |text: String| text.replacen("[scim]\n", "[scim]\nrequires_verified_sso = true\n", 1);
            run_configured_with(Tenant::Jit, &[flaw], lockout_safety_checks(), target, tenant).await
        } else {
            run_against_tenant(Tenant::Jit, &[flaw], lockout_safety_checks()).await
        };
        let failed = run.failed();
        assert_eq!(failed, checks.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}:\n{}", run.explain());
        assert_eq!(run.failing(), failed, "--flaw {flaw}: no errors beside the failures:\n{}", run.explain());
        for result in run.results.iter().filter(|r| r.verdict == Verdict::Fail) {
            let Some(Evidence::Scim(evidence)) = &result.evidence else { panic!("{}: no evidence", result.id) };
            assert!(!evidence.exchanges.is_empty(), "{}: {evidence:?}", result.id);
            assert!(!evidence.oracle.is_empty(), "{}: the oracle's answer is part of the evidence", result.id);
            if result.id == "cross.lockout_safety.failed_sso_never_locks" {
                assert!(result.reason.contains("account.locked"), "{}", result.reason);
            }
            if result.id == "cross.lockout_safety.break_glass_survives_idp_outage" {
                for failure in ["metadata answered 503", "whole IdP answered 503", "signing certificate changed"] {
                    assert!(result.reason.contains(failure), "{failure}: {}", result.reason);
                }
                assert!(result.reason.starts_with("with SSO required"), "{}", result.reason);
            }
            if result.id == "cross.lockout_safety.sso_enforcement_needs_admin_sign_in" {
                assert!(result.reason.contains("while no admin had signed in through the IdP"), "{}", result.reason);
                assert!(evidence.oracle.contains("at the end, the SP took set_sso_required false"), "{evidence:?}");
            }
            if result.id == "cross.lockout_safety.saml_certificate_rollover" {
                assert!(result.reason.contains("signed by the new key after the switch"), "{}", result.reason);
            }
            assert!(result.fix.is_some(), "{}", result.id);
        }
    }
}
