//! The email-matching checks (`cross.email_matching.*`) against the
//! reference SP's two SCIM tenants: acme (JIT, SAML, Okta's OIN profile)
//! and globex (existing accounts only, the App Integration Wizard
//! profile), correct and with each flaw aimed at them.

use std::collections::BTreeSet;

use conformance::catalogue::{Category, Check, Protocol, checks_for};
use conformance::runner::{Evidence, Verdict};
use reference_sp::flaws::Flaw;

use crate::support::{Tenant, run_against_tenant, run_configured_with, run_with_target_edit};

/// Which email-matching checks each flaw must make fail, at acme and at
/// globex: a case variant makes a second account at acme and finds none at
/// globex; a look-alike or a +tag address takes the provisioned account
/// over at both; an email change SCIM did not apply leaves the new address
/// without the account; a NameID link kept after the email moved gives the
/// address's next owner the first person's account; a lookup blind to
/// accounts made before provisioning misses the one the person signed in
/// to. Sign-in ignoring the domains makes an account for an address moved
/// outside them only where sign-in makes accounts (acme).
const EMAIL_MATCHING_FLAW_CHECKS: &[(&str, &[&str], &[&str])] = &[
    ("case-sensitive-email", &["cross.email_matching.case"], &["cross.email_matching.case"]),
    (
        "match-email-transliterated",
        &["cross.email_matching.lookalike_cyrillic", "cross.email_matching.lookalike_fullwidth"],
        &["cross.email_matching.lookalike_cyrillic", "cross.email_matching.lookalike_fullwidth"],
    ),
    ("match-email-ignoring-plus", &["cross.email_matching.plus_address"], &["cross.email_matching.plus_address"]),
    // The account keeps the old email, so its new owner cannot be
    // provisioned either.
    (
        "scim-update-keeps-email",
        &["cross.email_matching.changed_at_okta", "cross.email_matching.reassigned_email"],
        &["cross.email_matching.changed_at_okta", "cross.email_matching.reassigned_email"],
    ),
    (
        "email-change-keeps-identity",
        &["cross.email_matching.reassigned_email"],
        &["cross.email_matching.reassigned_email"],
    ),
    ("scim-lookup-skips-jit-accounts", &["cross.email_matching.one_account"], &["cross.email_matching.one_account"]),
    ("jit-ignores-domain", &["cross.email_matching.moved_outside_domain"], &[]),
    ("scim-email-untrimmed", &["cross.email_matching.whitespace"], &["cross.email_matching.whitespace"]),
    // globex's app sends no email attribute, so that check skips there.
    ("email-attribute-as-identity", &["cross.email_matching.name_id_not_email"], &[]),
    // An unverified email claim links an OIDC sign-in to the account with
    // that email; globex has no [oidc], so that check skips there.
    ("link-unverified-email", &["cross.email_matching.unverified_email_never_links"], &[]),
];

/// Flaws that only the email-matching checks catch, so the SAML table
/// leaves them out.
pub(crate) const EMAIL_MATCHING_FLAWS: &[&str] = &[
    "match-email-transliterated",
    "match-email-ignoring-plus",
    "scim-update-keeps-email",
    "email-change-keeps-identity",
    "scim-lookup-skips-jit-accounts",
    "scim-email-untrimmed",
    "email-attribute-as-identity",
    "link-unverified-email",
];

fn email_matching_checks() -> Vec<Check> {
    checks_for(Protocol::Cross).into_iter().filter(|c| c.category == Category::EmailMatching).collect()
}

#[test]
fn every_email_matching_check_is_aimed_at_by_a_flaw() {
    let ids: BTreeSet<&str> = email_matching_checks().iter().map(|c| c.id).collect();
    let aimed: BTreeSet<&str> =
        EMAIL_MATCHING_FLAW_CHECKS.iter().flat_map(|(_, acme, _)| acme.iter().copied()).collect();
    assert_eq!(aimed, ids);
    for name in EMAIL_MATCHING_FLAWS {
        assert!(EMAIL_MATCHING_FLAW_CHECKS.iter().any(|(flaw, _, _)| flaw == name), "{name}");
    }
}

async fn passes_and_each_flaw_fails_its_own(tenant: Tenant) {
    let checks = email_matching_checks();
    let correct = run_against_tenant(tenant, &[], checks.clone()).await;
    assert_eq!(correct.results.len(), checks.len());
    let expected_skips: BTreeSet<&str> = match tenant {
        Tenant::ExistingOnly => BTreeSet::from([
            "cross.email_matching.name_id_not_email",
            "cross.email_matching.unverified_email_never_links",
        ]),
        _ => BTreeSet::new(),
    };
    assert_eq!(correct.skipped(), expected_skips, "{tenant:?}:\n{}", correct.explain());
    assert!(
        correct.results.iter().all(|r| matches!(r.verdict, Verdict::Pass | Verdict::Skip)),
        "{tenant:?}:\n{}",
        correct.explain()
    );
    for (name, at_acme, at_globex) in EMAIL_MATCHING_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_against_tenant(tenant, &[flaw], checks.clone()).await;
        let expected = if matches!(tenant, Tenant::ExistingOnly) { at_globex } else { at_acme };
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        assert_eq!(run.failing(), expected, "{tenant:?} --flaw {flaw}:\n{}", run.explain());
        assert!(
            run.results.iter().all(|r| r.verdict != Verdict::Error),
            "{tenant:?} --flaw {flaw}:\n{}",
            run.explain()
        );
        for result in run.results.iter().filter(|r| r.verdict == Verdict::Fail) {
            // The evidence is Okta's SCIM traffic (the create, at least)
            // and what the sign-in got.
            let Some(Evidence::Scim(evidence)) = result.evidence.as_ref() else { panic!("{}: no evidence", result.id) };
            assert!(evidence.exchanges.iter().any(|e| e.method == "POST"), "{}: {evidence:?}", result.id);
            // The email_verified check signs in by OIDC whatever the target.
            let protocol = if result.id.ends_with("unverified_email_never_links") { "OIDC" } else { "SAML" };
            assert!(evidence.oracle.contains(&format!("{protocol} sign-in")), "{}: {}", result.id, evidence.oracle);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_matching_checks_pass_at_acme_and_each_flaw_fails_its_own() {
    passes_and_each_flaw_fails_its_own(Tenant::Jit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_matching_checks_pass_at_globex_and_each_flaw_fails_its_own() {
    passes_and_each_flaw_fails_its_own(Tenant::ExistingOnly).await;
}

/// The acme target without its `[saml]` section: the checks sign in by
/// OIDC, the person first and Okta's assignment linking the account after.
fn without_saml(target: String) -> String {
    let start = target.find("[saml]").unwrap();
    let end = target.find("[oidc]").unwrap();
    format!("{}{}", &target[..start], &target[end..])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_matching_checks_pass_by_oidc_where_the_target_has_no_saml() {
    let checks = email_matching_checks();
    let correct = run_with_target_edit(Tenant::Jit, &[], checks.clone(), None, without_saml).await;
    assert_eq!(correct.results.len(), checks.len());
    // A NameID is SAML's: that check says so and skips.
    assert_eq!(correct.skipped(), BTreeSet::from(["cross.email_matching.name_id_not_email"]), "{}", correct.explain());
    let skipped = correct.results.iter().find(|r| r.verdict == Verdict::Skip).unwrap();
    assert!(skipped.reason.contains("OIDC only"), "{}", skipped.reason);
    assert!(
        correct.results.iter().all(|r| matches!(r.verdict, Verdict::Pass | Verdict::Skip)),
        "{}",
        correct.explain()
    );
    // The relying party keys accounts on (iss, sub): a flaw in matching
    // emails cannot reach its accounts, but a SCIM lookup blind to the
    // account made at sign-in still makes Okta's assignment fail.
    let flaw: Flaw = "scim-lookup-skips-jit-accounts".parse().unwrap();
    let run = run_with_target_edit(Tenant::Jit, &[flaw], checks, None, without_saml).await;
    assert!(run.failing().contains("cross.email_matching.one_account"), "{}", run.explain());
    for result in run.results.iter().filter(|r| r.verdict == Verdict::Fail) {
        let Some(Evidence::Scim(evidence)) = result.evidence.as_ref() else { panic!("{}: no evidence", result.id) };
        assert!(evidence.oracle.contains("OIDC sign-in"), "{}: {}", result.id, evidence.oracle);
    }
}

/// The reference SP's acme tenant with linking by verified email on
/// (`link_accounts_by_verified_email`), so an OIDC sign-in may link an
/// existing account by a verified email.
fn linking_verified_emails(config: String) -> String {
    let edited = config.replacen("id = \"acme\"\n", "id = \"acme\"\nlink_accounts_by_verified_email = true\n", 1);
    assert_ne!(edited, config, "the config names no tenant acme");
    edited
}

/// Where the tenant links verified emails, and where the target signs in
/// by OIDC only, an unverified email still reaches no account; the
/// link-unverified-email flaw fails the check in each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unverified_email_never_links_where_the_tenant_links_verified_emails_and_by_oidc_only() {
    let id = "cross.email_matching.unverified_email_never_links";
    let check: Vec<Check> = email_matching_checks().into_iter().filter(|c| c.id == id).collect();
    let flaw: Flaw = "link-unverified-email".parse().unwrap();
    type Edit = fn(String) -> String;
    let setups: [(&str, Edit, Edit); 2] =
        [("linking on", |target| target, linking_verified_emails), ("OIDC only", without_saml, |config| config)];
    for (name, target_edit, sp_edit) in setups {
        let correct = run_configured_with(Tenant::Jit, &[], check.clone(), target_edit, sp_edit).await;
        assert_eq!(correct.results.len(), 1);
        assert_eq!(correct.results[0].verdict, Verdict::Pass, "{name}:\n{}", correct.explain());
        let flawed = run_configured_with(Tenant::Jit, &[flaw], check.clone(), target_edit, sp_edit).await;
        assert_eq!(flawed.failing(), BTreeSet::from([id]), "{name} --flaw {flaw}:\n{}", flawed.explain());
        assert!(flawed.results[0].reason.contains("email_verified false"), "{}", flawed.results[0].reason);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_matching_checks_are_skipped_with_the_reason_without_scim() {
    let checks = email_matching_checks();
    let run = run_against_tenant(Tenant::GeneratedKeys, &[], checks.clone()).await;
    assert_eq!(run.skipped().len(), checks.len(), "{}", run.explain());
    assert!(run.results.iter().all(|r| r.reason.contains("[scim]")), "{}", run.explain());
}
