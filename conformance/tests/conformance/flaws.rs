//! The flaw-to-check map: every flaw makes exactly the checks aimed at it
//! fail, with flaw-specific evidence, and every other check still passes.

use std::collections::BTreeSet;
use std::sync::Arc;

use conformance::catalogue::{Action, Protocol, SamlAction, checks_for};
use conformance::runner::Evidence;
use conformance::runner::Verdict;
use reference_sp::flaws::Flaw;

use crate::support::{
    Tenant, run_against_reference_sp, run_against_tenant, run_against_tenant_signing, run_with_sp_config_edit,
    run_with_target_edit,
};

/// Which checks each flaw must make fail. One table, read by the test.
const FLAW_CHECKS: &[(&str, &[&str])] = &[
    ("accept-unsigned", &["saml.sig.unsigned"]),
    ("trust-keyinfo-cert", &["saml.sig.untrusted_key"]),
    ("trust-key-value", &["saml.sig.key_value"]),
    ("hmac-with-certificate", &["saml.sig.hmac_certificate"]),
    ("digest-value-first-child", &["saml.sig.digest_comment"]),
    ("first-signed-info", &["saml.sig.second_signed_info"]),
    ("first-digest-value-in-document", &["saml.sig.extra_digest_value"]),
    ("any-transform", &["saml.sig.transform_xpath"]),
    ("ignore-audience", &["saml.cond.audience", "saml.cond.audience_missing"]),
    ("ignore-recipient", &["saml.subject.recipient"]),
    (
        "any-subject-confirmation",
        &["saml.subject.holder_of_key", "saml.subject.sender_vouches", "saml.subject.without_data"],
    ),
    ("ignore-destination", &["saml.response.destination"]),
    // No identity in the session: only the any-session rule catches it.
    ("empty-session-on-wrong-destination", &["saml.response.destination"]),
    (
        "ignore-time",
        &[
            "saml.cond.expired",
            "saml.subject.expired",
            "saml.cond.conditions_expired",
            "saml.cond.not_yet_valid",
            "saml.cond.skew_outside_future",
            "saml.cond.skew_outside_past",
        ],
    ),
    // Each fails only its own field's check: `expired` moves both times,
    // so the other one still refuses it.
    ("ignore-confirmation-expiry", &["saml.subject.expired"]),
    ("ignore-conditions-expiry", &["saml.cond.conditions_expired"]),
    // The session outlives the SessionNotOnOrAfter once the target's
    // advance_clock hook moves the SP ten minutes on.
    ("ignore-session-not-on-or-after", &["saml.session.expired"]),
    ("ignore-issuer", &["saml.issuer.wrong"]),
    ("ignore-status", &["saml.status.responder"]),
    ("no-replay-cache", &["saml.replay"]),
    ("ignore-in-response-to", &["saml.response.in_response_to"]),
    // The first Assertion in the document is the forged one when the signed
    // original hides in its Advice; in StatusDetail the original comes first.
    ("read-first-assertion", &["saml.xsw.3", "saml.xsw.4", "saml.xsw.5", "saml.xsw.advice"]),
    ("nameid-first-text-node", &["saml.nameid.comment"]),
    ("open-relay-state", &["saml.relay_state.open"]),
    ("case-sensitive-email", &["saml.account.email_case"]),
    ("jit-ignores-domain", &["saml.account.outside_domain"]),
    // A forged digest fails libxmlsec1's check, and this flaw ignores that
    // failure; a second SignedInfo is refused by the shape check first.
    (
        "ignore-signature-errors",
        &[
            "saml.sig.bad_signature",
            "saml.sig.untrusted_key",
            "saml.sig.key_value",
            "saml.sig.digest_comment",
            "saml.sig.extra_digest_value",
        ],
    ),
    ("accept-unsolicited", &["saml.sso.unsolicited_disabled"]),
    ("refuse-unsolicited", &["saml.sso.idp_initiated"]),
    ("require-signed-response", &["saml.sig.assertion_only"]),
    ("require-signed-assertion", &["saml.sig.response_only"]),
    // The last Assertion is the forged one when the original hides in
    // StatusDetail, before it; in Advice the nested original comes last.
    ("read-last-assertion", &["saml.assertion.multiple", "saml.xsw.1", "saml.xsw.2", "saml.xsw.status_detail"]),
    (
        "read-root-assertion",
        &[
            "saml.xsw.1",
            "saml.xsw.2",
            "saml.xsw.3",
            "saml.xsw.4",
            "saml.xsw.5",
            "saml.xsw.advice",
            "saml.xsw.status_detail",
        ],
    ),
    // A schema-validating SP refuses XSW1-8 by their shape alone, and falls
    // only to the schema-valid wrapping.
    ("signed-assertion-anywhere", &["saml.xsw.advice", "saml.xsw.status_detail"]),
    ("drop-attributes", &["saml.attr.session"]),
    // Its reader is the first Assertion in the document, so XSW3-5 fall too;
    // XSW6-8 need its digest of every element with the Reference's ID.
    (
        "hand-rolled-signature-check",
        &["saml.xsw.3", "saml.xsw.4", "saml.xsw.5", "saml.xsw.6", "saml.xsw.7", "saml.xsw.8", "saml.xsw.advice"],
    ),
];

/// Flaws that the spec allows but that weaken the SP: each makes exactly
/// these checks `warn`, and none fail.
const WARN_FLAW_CHECKS: &[(&str, &[&str])] = &[
    ("accept-sha1", &["saml.sig.sha1"]),
    ("any-reference-uri", &["saml.sig.reference_whole_document", "saml.sig.reference_other_element"]),
    ("allow-doctype", &["saml.xml.doctype"]),
    // A genuinely signed response that is only too large: parsing it is a
    // resource weakness, and it signs the canary in, which is a warn.
    ("any-body-size", &["saml.xml.oversized"]),
    ("zero-clock-skew", &["saml.cond.skew_inside", "saml.cond.skew_inside_past"]),
    // Signing in but landing elsewhere than the app's default RelayState
    // loses only the deep link the Okta admin set.
    ("ignore-relay-state", &["saml.sso.idp_initiated"]),
];

/// Flaws that break the flow the suite signs in by. The reference targets
/// have a login URL, so the suite signs in SP-initiated, as the SP does: a
/// flaw that breaks SP-initiated sign-in fails that check, and every other
/// check is an `error` (its positive control fails), never a pass.
const FLOW_BREAKING_FLAWS: &[(&str, &str)] = &[("forget-request-id", "saml.sso.sp_initiated")];

/// Checks a flaw makes warn beside the ones it fails: the reference tenants
/// accept unsolicited responses, so a response accepted in another browser
/// is weak rather than broken there.
///
/// Any transform also lets #WithComments canonicalisation through, which
/// SAML Core 5.4.4 allows, so that check warns beside the XPath one's fail.
/// The flaws that read an Assertion the signature is not bound to take any
/// valid signature in the document, so an Assertion signature over the
/// Response around it (S-26) is one too.
const WARNS_BESIDE_FAILS: &[(&str, &[&str])] = &[
    ("ignore-in-response-to", &["saml.correlation.other_browser"]),
    ("any-transform", &["saml.sig.transform_with_comments"]),
    ("read-first-assertion", &["saml.sig.reference_other_element"]),
    ("read-last-assertion", &["saml.sig.reference_other_element"]),
    ("read-root-assertion", &["saml.sig.reference_other_element"]),
    ("signed-assertion-anywhere", &["saml.sig.reference_other_element"]),
    ("hand-rolled-signature-check", &["saml.sig.reference_other_element"]),
];

/// Flaws that fail a check where the SP refuses unsolicited responses (the
/// test turns IdP-initiated sign-in off in the SP's config).
const FAILS_WITH_UNSOLICITED_OFF: &[(&str, &str)] = &[("ignore-in-response-to", "saml.correlation.other_browser")];

/// Flaws that real SPs get away with in the flow they use: each fails its
/// check only when the suite signs in unsolicited (no login URL), and passes
/// when it signs in SP-initiated, as the SP itself does.
const UNSOLICITED_ONLY_FLAWS: &[(&str, &str)] = &[("in-response-to-own-requests-only", "saml.response.in_response_to")];

/// Flaws of the existing-only tenant, run against that tenant.
const EXISTING_ONLY_FLAW_CHECKS: &[(&str, &[&str])] = &[
    ("existing-only-creates-accounts", &["saml.account.unknown_user"]),
    // No session is given, so only the list_users hook shows the account.
    ("refused-user-keeps-account", &["saml.account.unknown_user"]),
];

/// Flaws run with the app signing in another mode, with the mode. A flaw
/// against both-signed responses breaks every positive control while the app
/// signs both (Okta's default), so it is run with an assertion-signed app:
/// the controls then pass and only the both-signed check sends two signatures.
const SIGNING_FLAW_CHECKS: &[(&str, &str, &[&str])] =
    &[("reject-two-signatures", "assertion", &["saml.sig.both_signed"])];

/// Checks skipped against the JIT tenant, with the reason in the check. The
/// encrypted-assertion checks are skipped because the reference targets give
/// no metadata URL and the reference tenants no encryption key;
/// `encryption_checks_...` below runs them against a tenant that has one.
/// `saml.sig.assertion_wanted` is skipped because the reference tenants
/// do not want signed Assertions (their metadata says
/// `WantAssertionsSigned="false"`); `an_sp_that_publishes_...` below runs
/// it against one that does.
const SKIPPED_WITH_JIT: &[&str] = &[
    "saml.account.unknown_user",
    // Nothing in the reference target says the SP signs its AuthnRequests
    // (no metadata URL, no saml.authn_requests_signed);
    // `signed_authn_requests_...` below runs it against a signing tenant.
    "saml.authn_request.signed",
    "saml.enc.signed",
    "saml.enc.unsigned_encrypted",
    "saml.enc.legacy_algorithms",
    "saml.sig.assertion_wanted",
];

/// Flaws of a tenant that wants signed Assertions, with the checks each
/// fails there (`an_sp_that_publishes_...`).
const WANT_ASSERTIONS_SIGNED_FLAW_CHECKS: &[(&str, &[&str])] =
    &[("unenforced-want-assertions-signed", &["saml.sig.assertion_wanted"])];

/// The encrypted-assertion checks.
const ENCRYPTION_CHECKS: &[&str] = &["saml.enc.signed", "saml.enc.unsigned_encrypted", "saml.enc.legacy_algorithms"];

/// Flaws of encrypted sign-in, with the checks each fails and those it makes
/// warn, run against acme with an encryption key pair and a target that
/// reads the SP's metadata. Looking for the EncryptedKey only inside
/// KeyInfo breaks every encrypted sign-in, so the refusal checks, whose
/// control is an encrypted sign-in, are errors beside the failed one.
const ENCRYPTION_FLAW_CHECKS: &[(&str, &[&str], &[&str])] = &[
    ("accept-unsigned-encrypted-assertion", &["saml.enc.unsigned_encrypted"], &[]),
    ("accept-rsa-1_5", &[], &["saml.enc.legacy_algorithms"]),
    ("encrypted-key-inside-only", ENCRYPTION_CHECKS, &[]),
];

/// The Single Logout checks, skipped against the reference targets (they
/// declare no SLO endpoint); `single_logout_checks_...` below runs them
/// against acme with Single Logout on.
const SLO_CHECKS: &[&str] = &["saml.slo.sp_initiated", "saml.slo.wrapped_signature"];

/// Flaws of Single Logout, with the checks each fails, run against acme
/// with Single Logout on (and IdP-initiated logout allowed, which S-33
/// needs to mean anything).
const SLO_FLAW_CHECKS: &[(&str, &[&str])] = &[
    ("slo-signature-anywhere", &["saml.slo.wrapped_signature"]),
    ("unsigned-logout-request", &["saml.slo.sp_initiated"]),
];

/// Flaws of a tenant that signs its AuthnRequests, with the checks each
/// fails there (`signed_authn_requests_...`): the mock app then requires
/// signed requests, as Okta's would be set up from the SP's metadata, so
/// SP-initiated sign-in itself fails too.
const REQUEST_SIGNING_FLAW_CHECKS: &[(&str, &[&str])] =
    &[("unsigned-authn-requests", &["saml.sso.sp_initiated", "saml.authn_request.signed"])];

/// The SCIM server's flaws: `scim.rs` runs them against the SCIM
/// catalogue, so the SAML table leaves them out.
pub(crate) const SCIM_FLAWS: &[&str] = &[
    "filter-case-sensitive",
    "items-per-page-is-count",
    "put-partial-merge",
    "patch-pathless-ignored",
    "member-remove-ignored",
    "rename-replace-wipes-members",
    "deactivate-deletes",
    "deactivate-keeps-sessions",
    "allow-last-admin-deactivation",
    "dup-returns-200",
    "no-match-returns-404",
    "unstable-pagination",
    "jit-revives-deactivated",
    "error-not-scim-schema",
    "keep-undeclared-attributes",
    "scim-ignores-email-domains",
    "conflict-without-scim-type",
    "refuse-plain-json",
    "ignore-if-match",
    "echo-password",
    "total-results-is-page-size",
    "list-omits-attributes",
    "user-lookup-finds-nobody",
    "put-ignores-name",
    "refuse-bare-scim-json",
    "group-lookup-finds-nobody",
    "member-add-ignored",
    "replace-members-adds",
    "group-exit-deactivates",
    "required-attributes-unchecked",
    "email-not-unique",
    "core-attributes-dropped",
];

/// The relying party's flaws: `oidc.rs` runs them against the OIDC
/// catalogue, so the SAML table leaves them out.
pub(crate) const OIDC_FLAWS: &[&str] = &[
    "refresh-trusts-new-claims",
    "state-reusable",
    "no-pkce",
    "first-jwks-key",
    "skip-id-token-signature",
    "ignore-crit",
    "ignore-authorization-response-iss",
    "accept-alg-none",
    "hs256-public-key",
    "hs256-client-secret",
    "trust-header-jwk",
    "trust-jku",
    "trust-header-x5c",
    "trust-x5u",
    "no-nonce-check",
    "no-state-check",
    "state-not-bound-to-browser",
    "ignore-aud",
    "ignore-iss",
    "ignore-exp",
    "ignore-iat-nbf",
    "skip-at-hash",
    "userinfo-sub-unchecked",
    "email-as-identity",
    "trust-discovery-issuer",
    "no-jwks-refetch",
    "jwks-refetch-unbounded",
    "accepts-claim-type-confusion",
    "open-redirect-after-login",
    "pkce-plain",
    "drop-oidc-claims",
    "missing-sub-uses-email",
    "kid-as-file-path",
    "psychic-signature",
    "jit-skips-licence",
    "username-format-unchecked",
    "display-name-optional",
    "role-only-at-creation",
];

/// Checks that no reference-SP flaw makes fail. Empty: every check has one.
/// A new check must get a flaw, or be listed here with the reason.
const CHECKS_WITHOUT_FLAW: &[&str] = &[];

#[test]
fn every_check_is_aimed_at_by_a_flaw_or_listed_as_a_gap() {
    let aimed: BTreeSet<&str> = FLAW_CHECKS
        .iter()
        .chain(EXISTING_ONLY_FLAW_CHECKS)
        .chain(WARN_FLAW_CHECKS)
        .flat_map(|(_, checks)| checks.iter().copied())
        .chain(FLOW_BREAKING_FLAWS.iter().map(|(_, check)| *check))
        .chain(UNSOLICITED_ONLY_FLAWS.iter().map(|(_, check)| *check))
        .chain(FAILS_WITH_UNSOLICITED_OFF.iter().map(|(_, check)| *check))
        .chain(SIGNING_FLAW_CHECKS.iter().flat_map(|(_, _, checks)| checks.iter().copied()))
        .chain(ENCRYPTION_FLAW_CHECKS.iter().flat_map(|(_, fails, warns)| fails.iter().chain(warns.iter()).copied()))
        .chain(SLO_FLAW_CHECKS.iter().flat_map(|(_, checks)| checks.iter().copied()))
        .chain(REQUEST_SIGNING_FLAW_CHECKS.iter().flat_map(|(_, checks)| checks.iter().copied()))
        .chain(WANT_ASSERTIONS_SIGNED_FLAW_CHECKS.iter().flat_map(|(_, checks)| checks.iter().copied()))
        .chain(WARNS_BESIDE_FAILS.iter().flat_map(|(_, checks)| checks.iter().copied()))
        .collect();
    let unaimed: BTreeSet<&str> =
        checks_for(Protocol::Saml).iter().map(|c| c.id).filter(|id| !aimed.contains(id)).collect();
    assert_eq!(unaimed, CHECKS_WITHOUT_FLAW.iter().copied().collect::<BTreeSet<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_saml_catalogue_passes_against_reference_sp() {
    let run = run_against_reference_sp(&[]).await;
    assert_eq!(run.results.len(), checks_for(Protocol::Saml).len());
    let expected_skips: BTreeSet<&str> = SKIPPED_WITH_JIT.iter().chain(SLO_CHECKS).copied().collect();
    assert_eq!(run.skipped(), expected_skips);
    let bad = run.described(|r| r.verdict != Verdict::Pass && r.verdict != Verdict::Skip);
    assert!(bad.is_empty(), "{bad:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_saml_catalogue_passes_against_existing_only_tenant() {
    let run = run_against_tenant(Tenant::ExistingOnly, &[], checks_for(Protocol::Saml)).await;
    // Without JIT an outsider has no account whatever the domain rule, so
    // the domain check has nothing to judge and says so.
    let mut expected_skips: BTreeSet<&str> = ENCRYPTION_CHECKS.iter().chain(SLO_CHECKS).copied().collect();
    expected_skips.insert("saml.account.outside_domain");
    expected_skips.insert("saml.sig.assertion_wanted");
    expected_skips.insert("saml.authn_request.signed");
    assert_eq!(run.skipped(), expected_skips);
    let skipped = run.results.iter().find(|r| r.id == "saml.account.outside_domain").unwrap();
    assert!(skipped.reason.contains("accounts.jit = false"), "{}", skipped.reason);
    let bad = run.described(|r| r.verdict != Verdict::Pass && r.verdict != Verdict::Skip);
    assert!(bad.is_empty(), "every check runs and passes, unknown_user included: {bad:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_flaw_fails_exactly_its_checks() {
    let ids: BTreeSet<&str> = checks_for(Protocol::Saml).iter().map(|c| c.id).collect();
    for flaw in Flaw::ALL {
        if EXISTING_ONLY_FLAW_CHECKS.iter().any(|(name, _)| *name == flaw.name())
            || WARN_FLAW_CHECKS.iter().any(|(name, _)| *name == flaw.name())
            || FLOW_BREAKING_FLAWS.iter().any(|(name, _)| *name == flaw.name())
            || UNSOLICITED_ONLY_FLAWS.iter().any(|(name, _)| *name == flaw.name())
            || SIGNING_FLAW_CHECKS.iter().any(|(name, _, _)| *name == flaw.name())
            || ENCRYPTION_FLAW_CHECKS.iter().any(|(name, _, _)| *name == flaw.name())
            || SLO_FLAW_CHECKS.iter().any(|(name, _)| *name == flaw.name())
            || REQUEST_SIGNING_FLAW_CHECKS.iter().any(|(name, _)| *name == flaw.name())
            || WANT_ASSERTIONS_SIGNED_FLAW_CHECKS.iter().any(|(name, _)| *name == flaw.name())
            || SCIM_FLAWS.contains(&flaw.name())
            || OIDC_FLAWS.contains(&flaw.name())
            || crate::cross_email_matching::EMAIL_MATCHING_FLAWS.contains(&flaw.name())
            || crate::cross_deactivation::DEACTIVATION_FLAWS.contains(&flaw.name())
            || crate::cross_lockout_safety::LOCKOUT_SAFETY_FLAWS.contains(&flaw.name())
            || crate::cross_push_groups::PUSH_GROUPS_FLAWS.contains(&flaw.name())
            || crate::moovingon::MOOVINGON_SAML_FLAW_CHECKS.iter().any(|(name, _)| *name == flaw.name())
        {
            continue;
        }
        let expected: BTreeSet<&str> = match FLAW_CHECKS.iter().find(|(name, _)| *name == flaw.name()) {
            Some((_, checks)) => checks.iter().copied().collect(),
            None => panic!("flaw {flaw} has no row in FLAW_CHECKS"),
        };
        assert!(!expected.is_empty(), "flaw {flaw} is aimed at no check");
        assert!(expected.is_subset(&ids), "{flaw}: unknown check ids");
        let run = run_against_reference_sp(&[flaw]).await;
        let failing = run.failing();
        assert_eq!(failing, expected, "--flaw {flaw}:\n{}", run.explain());
        let warns: BTreeSet<&str> = WARNS_BESIDE_FAILS
            .iter()
            .find(|(name, _)| *name == flaw.name())
            .map(|(_, checks)| checks.iter().copied().collect())
            .unwrap_or_default();
        assert_eq!(run.warned(), warns, "--flaw {flaw} warnings");
        let catalogue = checks_for(Protocol::Saml);
        for result in run.results.iter().filter(|r| r.verdict == Verdict::Fail) {
            let Some(Evidence::Saml(evidence)) = result.evidence.as_ref() else {
                panic!("{}: no SAML evidence", result.id)
            };
            assert!(evidence.sp_status.is_some(), "{}", result.id);
            assert!(evidence.message.as_ref().is_some_and(|m| m.contains("Response")), "{}", result.id);
            let check = catalogue.iter().find(|c| c.id == result.id).unwrap();
            let negative = !matches!(
                check.action,
                Action::Saml(
                    SamlAction::IdpInitiated
                        | SamlAction::SpInitiated
                        | SamlAction::AcceptFault(_)
                        | SamlAction::EmailCase
                )
            );
            if negative {
                // The flaw gave the named identity a session, or (the empty
                // session flaw) a session with none: that is the evidence.
                let anonymous = flaw.name() == "empty-session-on-wrong-destination";
                let expected = if anonymous { "a session with no identity" } else { "a session for" };
                assert!(evidence.oracle.starts_with(expected), "{}: {evidence:?}", result.id);
            }
        }
    }
}

/// The wrapping checks alone, so the readers of attacks.md S-32 are seen
/// side by side: the schema-validating SP refuses SAML Raider's XSW1-8 and
/// falls to both schema-valid ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_validating_sp_refuses_xsw1_to_8_and_falls_to_schema_valid_wrapping() {
    let wrapping: Vec<_> = checks_for(Protocol::Saml).into_iter().filter(|c| c.id.starts_with("saml.xsw.")).collect();
    assert_eq!(wrapping.len(), 10);
    let correct = crate::support::run_checks_against_reference_sp(&[], wrapping.clone()).await;
    assert_eq!(correct.failing(), BTreeSet::new(), "{}", correct.explain());
    let flaw: Flaw = "signed-assertion-anywhere".parse().unwrap();
    let run = crate::support::run_checks_against_reference_sp(&[flaw], wrapping).await;
    assert_eq!(run.failing(), BTreeSet::from(["saml.xsw.advice", "saml.xsw.status_detail"]), "{}", run.explain());
    for result in run.results.iter().filter(|r| r.verdict == Verdict::Fail) {
        let Some(Evidence::Saml(evidence)) = result.evidence.as_ref() else { panic!("{}: no evidence", result.id) };
        assert!(evidence.oracle.starts_with("a session for victim"), "{}: {}", result.id, evidence.oracle);
    }
}

/// attacks.md S-15 (a signed Assertion in an unsigned Response whose
/// Destination or InResponseTo was changed) is covered by the existing
/// checks once the app signs only the Assertion: the fault's Response is
/// then unsigned, and an SP that skips those fields fails them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_only_the_assertion_signed_the_unsigned_response_fields_are_still_checked() {
    for (flaw, check) in [
        ("ignore-destination", "saml.response.destination"),
        ("ignore-in-response-to", "saml.response.in_response_to"),
        ("ignore-status", "saml.status.responder"),
    ] {
        let checks = conformance::select(Some(check), None).unwrap();
        let correct = run_against_tenant_signing(Tenant::Jit, &[], checks.clone(), Some("assertion")).await;
        assert_eq!(correct.results[0].verdict, Verdict::Pass, "{check}: {}", correct.results[0].reason);
        let flaw: Flaw = flaw.parse().unwrap();
        let run = run_against_tenant_signing(Tenant::Jit, &[flaw], checks, Some("assertion")).await;
        let result = &run.results[0];
        assert_eq!(result.verdict, Verdict::Fail, "--flaw {flaw}: {}", result.reason);
        let Some(Evidence::Saml(evidence)) = result.evidence.as_ref() else { panic!("{check}: no evidence") };
        let message = evidence.message.as_deref().unwrap_or_default();
        // One Signature, inside the Assertion: the Response itself is unsigned.
        assert_eq!(message.matches("<ds:Signature ").count(), 1, "{check}: {message}");
        assert!(message.find("<ds:Signature ") > message.find("<saml2:Assertion "), "{check}: {message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flaws_of_the_unsolicited_flow_fail_only_when_the_suite_signs_in_unsolicited() {
    for (name, check) in UNSOLICITED_ONLY_FLAWS {
        let flaw: Flaw = name.parse().unwrap();
        let sp_initiated = run_with_target_edit(Tenant::Jit, &[flaw], checks_for(Protocol::Saml), None, |t| t).await;
        assert_eq!(sp_initiated.failing(), BTreeSet::new(), "--flaw {flaw}, SP-initiated");
        // Another browser with a sign-in of its own has a request to compare
        // with, so this flaw refuses the first browser's response there too.
        assert_eq!(sp_initiated.warned(), BTreeSet::new(), "--flaw {flaw}");
        let without_login_url =
            |text: String| text.lines().filter(|line| !line.starts_with("login_url")).collect::<Vec<_>>().join("\n");
        let unsolicited =
            run_with_target_edit(Tenant::Jit, &[flaw], checks_for(Protocol::Saml), None, without_login_url).await;
        assert_eq!(unsolicited.failing(), BTreeSet::from([*check]), "--flaw {flaw}, unsolicited");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_browsers_response_fails_where_the_sp_refuses_unsolicited_ones() {
    let checks = conformance::select(Some("saml.correlation.other_browser"), None).unwrap();
    let no_idp_initiated = |config: String| config.replace("allow_idp_initiated = true", "allow_idp_initiated = false");
    let correct = run_with_sp_config_edit(Tenant::Jit, &[], checks.clone(), no_idp_initiated).await;
    assert_eq!(correct.results[0].verdict, Verdict::Pass, "{}", correct.results[0].reason);
    for (name, _) in FAILS_WITH_UNSOLICITED_OFF {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_with_sp_config_edit(Tenant::Jit, &[flaw], checks.clone(), no_idp_initiated).await;
        assert_eq!(run.results[0].verdict, Verdict::Fail, "--flaw {flaw}: {}", run.results[0].reason);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_breaking_flaws_fail_their_check_and_leave_the_rest_errors() {
    for (name, check) in FLOW_BREAKING_FLAWS {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_against_reference_sp(&[flaw]).await;
        for result in &run.results {
            if result.id == *check {
                assert_eq!(result.verdict, Verdict::Fail, "--flaw {flaw}: {}: {}", result.id, result.reason);
            } else if SKIPPED_WITH_JIT.contains(&result.id) || SLO_CHECKS.contains(&result.id) {
                // The reference target declares no Single Logout endpoints,
                // so the SLO checks skip before any positive control runs.
                assert_eq!(result.verdict, Verdict::Skip, "--flaw {flaw}: {}", result.id);
            } else {
                assert_eq!(result.verdict, Verdict::Error, "--flaw {flaw}: {}: {}", result.id, result.reason);
                assert!(result.reason.starts_with("positive control failed"), "{}: {}", result.id, result.reason);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weakening_flaws_warn_exactly_their_checks_and_fail_none() {
    for (name, checks) in WARN_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_against_reference_sp(&[flaw]).await;
        assert_eq!(run.warned(), checks.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}");
        assert_eq!(run.failing(), BTreeSet::new(), "--flaw {flaw} must fail nothing");
        for result in run.results.iter().filter(|r| r.verdict == Verdict::Warn) {
            assert!(result.fix.is_some(), "{}: a warning says how to fix it", result.id);
            assert!(result.evidence.is_some(), "{}: a warning shows its evidence", result.id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_only_flaws_fail_exactly_their_checks() {
    for (name, checks) in EXISTING_ONLY_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_against_tenant(Tenant::ExistingOnly, &[flaw], checks_for(Protocol::Saml)).await;
        assert_eq!(
            run.failing(),
            checks.iter().copied().collect::<BTreeSet<_>>(),
            "--flaw {flaw} on the existing-only tenant"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_flaws_fail_exactly_their_checks() {
    for (name, signing, checks) in SIGNING_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let clean = run_against_tenant_signing(Tenant::Jit, &[], checks_for(Protocol::Saml), Some(signing)).await;
        assert_eq!(clean.failing(), BTreeSet::new(), "the correct SP with a {signing}-signed app");
        let run = run_against_tenant_signing(Tenant::Jit, &[flaw], checks_for(Protocol::Saml), Some(signing)).await;
        assert_eq!(
            run.failing(),
            checks.iter().copied().collect::<BTreeSet<_>>(),
            "--flaw {flaw} ({signing}-signed app)"
        );
        for result in run.results.iter().filter(|r| r.verdict == Verdict::Fail) {
            let Some(Evidence::Saml(evidence)) = result.evidence.as_ref() else {
                panic!("{}: no SAML evidence", result.id)
            };
            assert!(
                evidence.sp_body_excerpt.as_ref().is_some_and(|b| b.contains("more than one signature")),
                "{evidence:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_the_sp_refuses_unsolicited_responses_a_used_sp_initiated_response_is_replayed() {
    let checks = conformance::select(Some("saml.replay"), None).unwrap();
    let no_idp_initiated = |config: String| config.replace("allow_idp_initiated = true", "allow_idp_initiated = false");
    let correct = run_with_sp_config_edit(Tenant::Jit, &[], checks.clone(), no_idp_initiated).await;
    assert_eq!(correct.results[0].verdict, Verdict::Pass, "{}", correct.results[0].reason);
    assert!(correct.results[0].reason.contains("SP-initiated"), "{}", correct.results[0].reason);
    // With no replay cache and no tie between a response and the browser's
    // own request, the used response signs in the second browser.
    let flaws: [Flaw; 2] = ["no-replay-cache".parse().unwrap(), "ignore-in-response-to".parse().unwrap()];
    let flawed = run_with_sp_config_edit(Tenant::Jit, &flaws, checks, no_idp_initiated).await;
    assert_eq!(flawed.results[0].verdict, Verdict::Fail, "{}", flawed.results[0].reason);
    assert!(flawed.results[0].reason.contains("SP-initiated"), "{}", flawed.results[0].reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_with_no_identity_for_a_wrong_destination_fails_and_the_evidence_shows_it() {
    let flaw: Flaw = "empty-session-on-wrong-destination".parse().unwrap();
    let checks = conformance::select(Some("saml.response.destination"), None).unwrap();
    let run = crate::support::run_checks_against_reference_sp(&[flaw], checks).await;
    let result = &run.results[0];
    assert_eq!(result.verdict, Verdict::Fail, "{}", result.reason);
    let Some(Evidence::Saml(evidence)) = &result.evidence else { panic!("no SAML evidence: {:?}", result.evidence) };
    assert!(evidence.oracle.contains("no identity"), "{}", evidence.oracle);
}

/// acme's SP config with `want_assertions_signed = true`: its metadata
/// then says `WantAssertionsSigned="true"` and its ACS enforces it.
pub(crate) fn acme_wants_assertions_signed(config: String) -> String {
    let line = config.lines().find(|l| l.starts_with("idp_metadata_url = ")).unwrap().to_owned();
    let url = line.trim_start_matches("idp_metadata_url = ");
    config.replacen(&line, &format!("saml = {{ idp_metadata_url = {url}, want_assertions_signed = true }}"), 1)
}

/// attacks.md S-14: where the SP publishes `WantAssertionsSigned`, a
/// signed Response around an unsigned Assertion must be refused, and
/// `saml.sig.response_only` (which expects it accepted) is skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sp_that_publishes_want_assertions_signed_must_refuse_an_unsigned_assertion() {
    let checks = checks_for(Protocol::Saml)
        .into_iter()
        .filter(|c| ["saml.sig.assertion_wanted", "saml.sig.response_only", "saml.sig.both_signed"].contains(&c.id))
        .collect::<Vec<_>>();
    let with_metadata_url = |target: String| {
        let login = target.lines().find(|l| l.starts_with("login_url = ")).unwrap().to_owned();
        let metadata = login.replace("login_url", "metadata_url").replace("/login?tenant=acme", "/sso/metadata/acme");
        target.replacen(&login, &format!("{login}\n{metadata}"), 1)
    };
    let verdict = |run: &crate::support::Run, id: &str| {
        let result = run.results.iter().find(|r| r.id == id).unwrap();
        (result.verdict, result.reason.clone())
    };
    let correct = crate::support::run_configured_with(
        Tenant::Jit,
        &[],
        checks.clone(),
        with_metadata_url,
        acme_wants_assertions_signed,
    )
    .await;
    assert_eq!(verdict(&correct, "saml.sig.assertion_wanted").0, Verdict::Pass, "{}", correct.explain());
    assert_eq!(verdict(&correct, "saml.sig.both_signed").0, Verdict::Pass, "{}", correct.explain());
    let (skipped, why) = verdict(&correct, "saml.sig.response_only");
    assert_eq!(skipped, Verdict::Skip, "{why}");
    assert!(why.contains("in its metadata"), "{why}");
    for (name, fails) in WANT_ASSERTIONS_SIGNED_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run = crate::support::run_configured_with(
            Tenant::Jit,
            &[flaw],
            checks.clone(),
            with_metadata_url,
            acme_wants_assertions_signed,
        )
        .await;
        assert_eq!(run.failing(), fails.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}:\n{}", run.explain());
    }
    // Where the SP does not declare it, the check is skipped with the reason.
    let undeclared = crate::support::run_configured_with(Tenant::Jit, &[], checks, with_metadata_url, |c| c).await;
    let (skipped, why) = verdict(&undeclared, "saml.sig.assertion_wanted");
    assert_eq!(skipped, Verdict::Skip, "{why}");
    assert!(why.contains("does not declare WantAssertionsSigned"), "{why}");
}

/// The reference SP's acme tenant with the test encryption key pair, and a
/// target that reads acme's SP metadata (where the certificate is published).
async fn run_encrypting(flaws: &[Flaw]) -> crate::support::Run {
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/keys");
    let with_keys = move |config: String| {
        let line = config.lines().find(|l| l.starts_with("idp_metadata_url = ")).unwrap().to_owned();
        let url = line.trim_start_matches("idp_metadata_url = ");
        config.replacen(
            &line,
            &format!(
                "saml = {{ idp_metadata_url = {url}, encryption_key_file = \"{keys}/sp-encryption.key.pem\", encryption_certificate_file = \"{keys}/sp-encryption.cert.pem\" }}"
            ),
            1,
        )
    };
    let with_metadata_url = |target: String| {
        let login = target.lines().find(|l| l.starts_with("login_url = ")).unwrap().to_owned();
        let metadata = login.replace("login_url", "metadata_url").replace("/login?tenant=acme", "/sso/metadata/acme");
        target.replacen(&login, &format!("{login}\n{metadata}"), 1)
    };
    let checks = checks_for(Protocol::Saml).into_iter().filter(|c| ENCRYPTION_CHECKS.contains(&c.id)).collect();
    crate::support::run_configured_with(Tenant::Jit, flaws, checks, with_metadata_url, with_keys).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_checks_pass_against_an_encrypting_tenant_and_each_encryption_flaw_fails_its_own() {
    let correct = run_encrypting(&[]).await;
    assert_eq!(correct.results.len(), ENCRYPTION_CHECKS.len());
    for result in &correct.results {
        assert_eq!(result.verdict, Verdict::Pass, "{}: {}", result.id, result.reason);
    }
    let signed = correct.results.iter().find(|r| r.id == "saml.enc.signed").unwrap();
    assert!(signed.reason.contains("the SP's metadata"), "{}", signed.reason);
    for (name, fails, warns) in ENCRYPTION_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_encrypting(&[flaw]).await;
        assert_eq!(run.failing(), fails.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}:\n{}", run.explain());
        assert_eq!(run.warned(), warns.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}:\n{}", run.explain());
        for result in run.results.iter().filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Warn)) {
            let Some(Evidence::Saml(evidence)) = result.evidence.as_ref() else {
                panic!("{}: no SAML evidence", result.id)
            };
            // The response sent is the encrypted one.
            assert!(
                evidence.message.as_ref().is_some_and(|m| m.contains("EncryptedAssertion")),
                "{}: {evidence:?}",
                result.id
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_checks_are_skipped_with_the_reason_when_the_sp_publishes_no_encryption_key() {
    let checks: Vec<_> = checks_for(Protocol::Saml).into_iter().filter(|c| ENCRYPTION_CHECKS.contains(&c.id)).collect();
    let with_metadata_url = |target: String| {
        let login = target.lines().find(|l| l.starts_with("login_url = ")).unwrap().to_owned();
        let metadata = login.replace("login_url", "metadata_url").replace("/login?tenant=acme", "/sso/metadata/acme");
        target.replacen(&login, &format!("{login}\n{metadata}"), 1)
    };
    let run = crate::support::run_configured_with(Tenant::Jit, &[], checks.clone(), with_metadata_url, |c| c).await;
    for result in &run.results {
        assert_eq!(result.verdict, Verdict::Skip, "{}: {}", result.id, result.reason);
        assert!(result.reason.contains("publishes no encryption key"), "{}", result.reason);
    }
    let declared = |target: String| target.replacen("[saml]\n", "[saml]\nencrypted_assertions = true\n", 1);
    let run = run_with_target_edit(Tenant::Jit, &[], checks, None, declared).await;
    for result in &run.results {
        // Declared, but with no certificate to encrypt to: the suite cannot
        // carry the check out, which is an error, not a verdict.
        assert_eq!(result.verdict, Verdict::Error, "{}: {}", result.id, result.reason);
        assert!(result.reason.contains("encryption_certificate_file"), "{}", result.reason);
    }
}

/// The reference SP's acme tenant with Single Logout on (signing its
/// LogoutRequests with the test signing key pair, taking the IdP's
/// LogoutRequests too), and a target that declares its logout and SLO URLs
/// and the certificate the mock checks LogoutRequests with.
async fn run_single_logout(flaws: &[Flaw]) -> crate::support::Run {
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/keys");
    let with_slo = move |config: String| {
        let line = config.lines().find(|l| l.starts_with("idp_metadata_url = ")).unwrap().to_owned();
        let url = line.trim_start_matches("idp_metadata_url = ");
        let slo = url.replace(
            "/app/exkrefsp000000000001/sso/saml/metadata",
            "/app/acme_referencesp_1/exkrefsp000000000001/slo/saml",
        );
        config.replacen(
            &line,
            &format!(
                "saml = {{ idp_metadata_url = {url}, sign_authn_requests = true, signing_key_file = \"{keys}/sp-signing.key.pem\", signing_certificate_file = \"{keys}/sp-signing.cert.pem\", single_logout_url = {slo}, allow_idp_initiated_logout = true }}"
            ),
            1,
        )
    };
    let with_slo_urls = move |target: String| {
        let login = target.lines().find(|l| l.starts_with("login_url = ")).unwrap().to_owned();
        let base = login.trim_start_matches("login_url = \"").split("/login?").next().unwrap().to_owned();
        target.replacen(
            &login,
            &format!(
                "{login}\nslo_url = \"{base}/sso/slo/acme\"\nlogout_url = \"{base}/sso/logout/acme\"\nslo_certificate_file = \"{keys}/sp-signing.cert.pem\""
            ),
            1,
        )
    };
    let checks = checks_for(Protocol::Saml).into_iter().filter(|c| SLO_CHECKS.contains(&c.id)).collect();
    crate::support::run_configured_with(Tenant::Jit, flaws, checks, with_slo_urls, with_slo).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_logout_checks_pass_against_a_tenant_with_slo_and_each_slo_flaw_fails_its_own() {
    let correct = run_single_logout(&[]).await;
    assert_eq!(correct.results.len(), SLO_CHECKS.len());
    for result in &correct.results {
        assert_eq!(result.verdict, Verdict::Pass, "{}: {}", result.id, result.reason);
    }
    for (name, fails) in SLO_FLAW_CHECKS {
        let flaw: Flaw = name.parse().unwrap();
        let run = run_single_logout(&[flaw]).await;
        assert_eq!(run.failing(), fails.iter().copied().collect::<BTreeSet<_>>(), "--flaw {flaw}:\n{}", run.explain());
        for result in run.results.iter().filter(|r| r.verdict == Verdict::Fail) {
            let Some(Evidence::Saml(evidence)) = result.evidence.as_ref() else {
                panic!("{}: no SAML evidence", result.id)
            };
            // The evidence is the logout message: the wrapping LogoutRequest,
            // or the mock's refusal of the unsigned one.
            let message = evidence.message.as_deref().unwrap_or_default();
            let expected = if result.id == "saml.slo.wrapped_signature" { "Extensions" } else { "RequestDenied" };
            assert!(message.contains(expected), "{}: {evidence:?}", result.id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_logout_checks_are_skipped_with_the_reason_without_the_slo_urls() {
    let checks: Vec<_> = checks_for(Protocol::Saml).into_iter().filter(|c| SLO_CHECKS.contains(&c.id)).collect();
    let run = run_with_target_edit(Tenant::Jit, &[], checks, None, |t| t).await;
    for result in &run.results {
        assert_eq!(result.verdict, Verdict::Skip, "{}: {}", result.id, result.reason);
        assert!(result.reason.contains("saml.slo_url"), "{}", result.reason);
    }
}

/// The reference SP's acme tenant signing its AuthnRequests with the test
/// signing key pair, by `binding` (`redirect` or `post`), so its metadata
/// says `AuthnRequestsSigned="true"` with that certificate.
fn acme_signs_its_requests(binding: &'static str) -> impl Fn(String) -> String {
    move |config: String| {
        let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/keys");
        let line = config.lines().find(|l| l.starts_with("idp_metadata_url = ")).unwrap().to_owned();
        let url = line.trim_start_matches("idp_metadata_url = ");
        config.replacen(
            &line,
            &format!(
                "saml = {{ idp_metadata_url = {url}, authn_request_binding = \"{binding}\", sign_authn_requests = true, signing_key_file = \"{keys}/sp-signing.key.pem\", signing_certificate_file = \"{keys}/sp-signing.cert.pem\" }}"
            ),
            1,
        )
    }
}

/// The target with the SP's metadata URL, where the suite reads
/// `AuthnRequestsSigned` and the signing certificate.
fn with_sp_metadata_url(target: String) -> String {
    let login = target.lines().find(|l| l.starts_with("login_url = ")).unwrap().to_owned();
    let base = login.trim_start_matches("login_url = \"").split("/login?").next().unwrap().to_owned();
    target.replacen(&login, &format!("{login}\nmetadata_url = \"{base}/sso/metadata/acme\""), 1)
}

fn the_checks(ids: &[&str]) -> Vec<conformance::catalogue::Check> {
    checks_for(Protocol::Saml).into_iter().filter(|c| ids.contains(&c.id)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_authn_requests_pass_with_the_app_requiring_them_and_the_unsigned_flaw_fails() {
    // The whole catalogue against a tenant that signs by HTTP-Redirect: the
    // suite turns Signed Requests on for the app with the metadata's
    // certificate, and every check still passes.
    let idp = Arc::new(mock_idp::setup::IdpOptions { deterministic: false, ..Default::default() }.build().unwrap());
    let run = crate::support::run_configured_with_idp(
        Tenant::Jit,
        idp.clone(),
        &[],
        checks_for(Protocol::Saml),
        with_sp_metadata_url,
        acme_signs_its_requests("redirect"),
    )
    .await;
    let expected_skips: BTreeSet<&str> =
        SKIPPED_WITH_JIT.iter().chain(SLO_CHECKS).copied().filter(|id| *id != "saml.authn_request.signed").collect();
    assert_eq!(run.skipped(), expected_skips, "{}", run.explain());
    assert_eq!(run.failing(), BTreeSet::new(), "{}", run.explain());
    let signed = run.results.iter().find(|r| r.id == "saml.authn_request.signed").unwrap();
    assert!(signed.reason.contains("HTTP-Redirect") && signed.reason.contains("rsa-sha256"), "{}", signed.reason);
    let required = idp.read_org(|org| {
        org.apps.values().find(|a| a.name == "reference-sp").and_then(|a| a.saml()?.request_signing_certificate.clone())
    });
    let certificate =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/keys/sp-signing.cert.pem")).unwrap();
    let compact = |pem: &str| pem.lines().filter(|l| !l.starts_with("-----")).collect::<String>();
    assert_eq!(required.as_deref().map(compact), Some(compact(&certificate)), "the app requires the SP's certificate");

    // By either binding, the correct SP passes, and the flaw fails both the
    // signature check and SP-initiated sign-in, which the mock refuses with
    // Okta's error for an unsigned request.
    let pair = the_checks(&["saml.sso.sp_initiated", "saml.authn_request.signed"]);
    for (binding, name) in [("redirect", "HTTP-Redirect"), ("post", "HTTP-POST")] {
        let correct = crate::support::run_configured_with(
            Tenant::Jit,
            &[],
            pair.clone(),
            with_sp_metadata_url,
            acme_signs_its_requests(binding),
        )
        .await;
        for result in &correct.results {
            assert_eq!(result.verdict, Verdict::Pass, "{binding}: {}: {}", result.id, result.reason);
        }
        for (flaw, fails) in REQUEST_SIGNING_FLAW_CHECKS {
            let flaw: Flaw = flaw.parse().unwrap();
            let run = crate::support::run_configured_with(
                Tenant::Jit,
                &[flaw],
                pair.clone(),
                with_sp_metadata_url,
                acme_signs_its_requests(binding),
            )
            .await;
            assert_eq!(
                run.failing(),
                fails.iter().copied().collect::<BTreeSet<_>>(),
                "--flaw {flaw} ({binding}):\n{}",
                run.explain()
            );
            for result in &run.results {
                assert_eq!(result.verdict, Verdict::Fail, "{}: {}", result.id, result.reason);
                assert!(result.reason.contains(name), "{}: {}", result.id, result.reason);
                assert!(result.reason.contains("invalid_request_signature"), "{}: {}", result.id, result.reason);
            }
            let signed = run.results.iter().find(|r| r.id == "saml.authn_request.signed").unwrap();
            assert!(signed.reason.contains("unsigned"), "{}", signed.reason);
            let Some(Evidence::Saml(evidence)) = signed.evidence.as_ref() else { panic!("no SAML evidence") };
            assert!(evidence.message.as_deref().unwrap_or_default().contains("AuthnRequest"), "{evidence:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_authn_request_is_judged_by_the_target_declaration_and_its_certificate() {
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/keys");
    let declared = |certificate: &'static str| {
        move |target: String| {
            target.replacen(
                "[saml]\n",
                &format!("[saml]\nauthn_requests_signed = true\nslo_certificate_file = \"{keys}/{certificate}\"\n"),
                1,
            )
        }
    };
    let check = the_checks(&["saml.authn_request.signed"]);
    // Declared in the target, verified with the certificate it gives.
    let run = crate::support::run_configured_with(
        Tenant::Jit,
        &[],
        check.clone(),
        declared("sp-signing.cert.pem"),
        acme_signs_its_requests("redirect"),
    )
    .await;
    assert_eq!(run.results[0].verdict, Verdict::Pass, "{}", run.explain());
    assert!(run.results[0].reason.contains("saml.authn_requests_signed"), "{}", run.results[0].reason);
    // Signed, but not by the certificate declared: a fail that says so.
    let run = crate::support::run_configured_with(
        Tenant::Jit,
        &[],
        check.clone(),
        declared("sp-encryption.cert.pem"),
        acme_signs_its_requests("post"),
    )
    .await;
    assert_eq!(run.results[0].verdict, Verdict::Fail, "{}", run.explain());
    assert!(run.results[0].reason.contains("does not verify"), "{}", run.results[0].reason);
    assert!(run.results[0].reason.contains("HTTP-POST"), "{}", run.results[0].reason);
    // Nothing declared: skipped with the reason, by the metadata or without it.
    let run = run_with_target_edit(Tenant::Jit, &[], check.clone(), None, with_sp_metadata_url).await;
    assert_eq!(run.results[0].verdict, Verdict::Skip, "{}", run.explain());
    assert!(run.results[0].reason.contains("does not declare AuthnRequestsSigned"), "{}", run.results[0].reason);
    let run = run_with_target_edit(Tenant::Jit, &[], check, None, |t| t).await;
    assert_eq!(run.results[0].verdict, Verdict::Skip, "{}", run.explain());
    assert!(run.results[0].reason.contains("saml.authn_requests_signed"), "{}", run.results[0].reason);
}
