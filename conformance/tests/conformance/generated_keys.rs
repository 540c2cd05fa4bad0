//! The reference SP's tenant hooli, whose encryption and signing key pairs
//! the SP generates at start-up (the built-in config cannot name key files):
//! the suite finds both certificates in its SP metadata, so the encryption,
//! Single Logout and WantAssertionsSigned checks run against it (as they do
//! in `mockta demo`) with real verdicts, and a flaw in each area fails its
//! check there too.

use std::collections::BTreeSet;

use conformance::catalogue::{Protocol, checks_for};
use conformance::runner::Verdict;
use reference_sp::flaws::Flaw;

use crate::support::{Tenant, run_against_tenant};

/// The checks the acme, globex and initech tenants skip for want of keys,
/// SLO endpoints or WantAssertionsSigned, which hooli runs.
const CHECKS_NEEDING_KEYS: &[&str] = &[
    "saml.enc.signed",
    "saml.enc.unsigned_encrypted",
    "saml.enc.legacy_algorithms",
    "saml.slo.sp_initiated",
    "saml.slo.wrapped_signature",
    "saml.sig.assertion_wanted",
];

/// What hooli skips of the SAML catalogue, and why it is right to: an SP
/// that declares WantAssertionsSigned refuses a signed Response around an
/// unsigned Assertion by design, and a JIT SP gives an unknown user an
/// account (as acme does).
const SKIPPED_BY_HOOLI: &[&str] = &["saml.sig.response_only", "saml.account.unknown_user"];

/// A flaw in each area, with the checks it fails (or errors) and those it
/// makes warn against hooli, of [`CHECKS_NEEDING_KEYS`]. The
/// `accept-unsigned-encrypted-assertion` flaw is not here: hooli wants
/// signed Assertions, which refuses an unsigned one whether or not it was
/// encrypted, so that flaw opens nothing on this tenant (acme with an
/// encryption key shows it, in the flaw table).
const FLAWS_AGAINST_HOOLI: &[(&str, &[&str], &[&str])] = &[
    // Every encrypted sign-in breaks, so the refusal checks, whose control
    // is an encrypted sign-in, are errors beside the failed one.
    (
        "encrypted-key-inside-only",
        &["saml.enc.signed", "saml.enc.unsigned_encrypted", "saml.enc.legacy_algorithms"],
        &[],
    ),
    ("accept-rsa-1_5", &[], &["saml.enc.legacy_algorithms"]),
    ("unsigned-logout-request", &["saml.slo.sp_initiated"], &[]),
    ("slo-signature-anywhere", &["saml.slo.wrapped_signature"], &[]),
    ("unenforced-want-assertions-signed", &["saml.sig.assertion_wanted"], &[]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_tenant_with_generated_keys_passes_the_whole_saml_catalogue_encryption_and_logout_included() {
    let run = run_against_tenant(Tenant::GeneratedKeys, &[], checks_for(Protocol::Saml)).await;
    assert_eq!(run.results.len(), checks_for(Protocol::Saml).len());
    let bad = run.described(|r| r.verdict != Verdict::Pass && r.verdict != Verdict::Skip);
    assert!(bad.is_empty(), "{bad:#?}");
    assert_eq!(run.skipped(), SKIPPED_BY_HOOLI.iter().copied().collect::<BTreeSet<_>>(), "{}", run.explain());
    for id in CHECKS_NEEDING_KEYS {
        let result = run.results.iter().find(|r| r.id == *id).unwrap();
        assert_eq!(result.verdict, Verdict::Pass, "{id}: {}", result.reason);
    }
    // The certificate the app encrypted to came from the SP's metadata: the
    // target names no file.
    let signed = run.results.iter().find(|r| r.id == "saml.enc.signed").unwrap();
    assert!(signed.reason.contains("the SP's metadata"), "{}", signed.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flaw_in_encryption_logout_or_wanted_signatures_fails_its_check_against_the_generated_keys_tenant() {
    let checks: Vec<_> =
        checks_for(Protocol::Saml).into_iter().filter(|c| CHECKS_NEEDING_KEYS.contains(&c.id)).collect();
    for (name, fails, warns) in FLAWS_AGAINST_HOOLI {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_against_tenant(Tenant::GeneratedKeys, &[flaw], checks.clone()).await;
        assert_eq!(run.failing(), fails.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}:\n{}", run.explain());
        assert_eq!(run.warned(), warns.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}:\n{}", run.explain());
    }
}
