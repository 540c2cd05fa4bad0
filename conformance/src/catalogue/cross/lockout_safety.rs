//! Lockout safety: single sign-on must never be the thing that locks a
//! person out of the SP (attacks.md K-14). An IdP outage, a forged or
//! broken response, or a misconfiguration makes sign-ins fail; the SP must
//! refuse those sign-ins without counting them against the account, so the
//! person's next good sign-in still works.
//!
//! Each check signs one person of the mock org in once as the positive
//! control, then does what would lock them out at a careless SP, then
//! signs them in again.

use crate::catalogue::{Action, Category, Check, CrossAction, Severity, Weight};

/// What a lockout-safety check does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockoutSafetyAction {
    /// Many refused SAML sign-ins (unsigned responses naming the person)
    /// leave the account unlocked: the person's next good sign-in works.
    FailedSsoNeverLocks,
    /// Okta's deactivation of the SP's only admin (a member of the pushed
    /// admin group) leaves them able to sign in, and Okta's removal of them
    /// from the admin group leaves them in it: the SP refuses both, or
    /// keeps them active and admin.
    LastAdminKept,
    /// Okta's deactivation of the person the SP's SCIM credential stands
    /// for (its API user, the target's `scim.owner`) leaves them able to
    /// sign in: the SP refuses it, or keeps them active.
    ScimOwnerKept,
    /// Okta's SAML signing certificate rollover (attacks.md K-05): the new
    /// certificate is published next to the old one, the SP refreshes its
    /// IdP metadata, sign-ins signed by the old key still work, and after
    /// the app switches to the new key sign-ins signed by it reach the same
    /// account.
    SamlCertificateRollover,
    /// Okta's scheduled rotation of the authorization server's signing key
    /// (the next key, published in the JWKS ahead of use, signs ID tokens
    /// with a new kid): the same person signs in again by OIDC and reaches
    /// the same account.
    OidcKeyRotation,
    /// The SP's break-glass admin (the target's `accounts.break_glass`)
    /// still gets in, with SSO required, while the IdP's metadata is
    /// unreachable, while the whole IdP is down, and after its SAML signing
    /// certificate changed, each time as a normal SSO sign-in fails.
    BreakGlassSurvivesIdpOutage,
    /// Asking the SP to require SSO (the target's `set_sso_required` hook)
    /// is refused until an admin (a member of the target's admin group) has
    /// signed in through the IdP, and taken once one has; the admin still
    /// signs in by SSO with SSO required.
    SsoEnforcementNeedsAdminSignIn,
    /// Where the target declares `scim.requires_verified_sso`: on a fresh
    /// SP, Okta's SCIM create is refused and makes no user; once an admin
    /// with an existing account has signed in through the IdP (IdP-initiated,
    /// from the dashboard, as the MoovingON guide verifies), it is taken.
    ScimWaitsForVerifiedSso,
}

fn check(
    id: &'static str,
    title: &'static str,
    severity: Severity,
    action: LockoutSafetyAction,
    reference: &'static str,
    fix: &'static str,
) -> Check {
    // The key checks change what signs every concurrent check's messages,
    // so they run alone.
    let exclusive =
        matches!(action, LockoutSafetyAction::SamlCertificateRollover | LockoutSafetyAction::OidcKeyRotation);
    Check {
        id,
        title,
        category: Category::LockoutSafety,
        severity,
        reference,
        needs: &[],
        action: Action::Cross(CrossAction::LockoutSafety(action)),
        fix,
        exclusive,
        weight: Weight::Fail,
    }
}

/// The lockout-safety checks, in report order.
pub(super) fn checks() -> Vec<Check> {
    vec![
        check(
            "cross.lockout_safety.failed_sso_never_locks",
            "Many refused SAML sign-ins naming a person never lock their account: their next good sign-in works",
            Severity::High,
            LockoutSafetyAction::FailedSsoNeverLocks,
            "attacks.md K-14; GitLab #5294",
            "Refuse a response that fails verification without writing anything about the account it names: its NameID is unverified, so anyone can send it. Keep password lockout counters for passwords alone.",
        ),
        check(
            "cross.lockout_safety.last_admin_kept",
            "Okta's SCIM deactivation of the SP's last active admin, and their removal from the admin group, are refused (or leave them active and admin), and they still sign in",
            Severity::High,
            LockoutSafetyAction::LastAdminKept,
            "attacks.md K-14; issue 13 (SCIM cannot deactivate or demote the last active admin)",
            "Before applying a deactivation or a demotion, count the other active admins; when there are none, refuse it with 409 and the reason, so Okta shows the error and the customer keeps an admin.",
        ),
        check(
            "cross.lockout_safety.scim_owner_kept",
            "Okta's SCIM deactivation of the user the SCIM credential stands for is refused (or leaves them active), and they still sign in",
            Severity::High,
            LockoutSafetyAction::ScimOwnerKept,
            "attacks.md K-14; Okta's Moxion SCIM guide (the API user whose token Okta holds)",
            "Refuse Okta's deactivation of the user your SCIM token belongs to with 409 and the reason (rotate the token to another admin first), so Okta shows the error and the integration keeps its owner.",
        ),
        check(
            "cross.lockout_safety.saml_certificate_rollover",
            "Okta's SAML certificate rollover keeps sign-in working: both certificates are trusted during the overlap, and the new one after the switch reaches the same account",
            Severity::High,
            LockoutSafetyAction::SamlCertificateRollover,
            "attacks.md K-05; Okta's Manage signing certificates guide (generate a new certificate, then activate it); SAML 2.0 Metadata 2.4.1.1 (several signing KeyDescriptors)",
            "Trust every signing certificate in the IdP's metadata and refresh the metadata (on a schedule, or from an admin's button) instead of pinning the certificate read at setup, so Okta's new certificate is known before the app switches to it.",
        ),
        check(
            "cross.lockout_safety.oidc_key_rotation",
            "After Okta rotates the authorization server's signing key, the same person signs in by OIDC to the same account",
            Severity::High,
            LockoutSafetyAction::OidcKeyRotation,
            "attacks.md K-01, K-14; OpenID Connect Core 10.1.1; Okta's Key rotation concept (the next key is published ahead of the rotation)",
            "Verify each ID token with the JWKS key its kid names, keep every published key (the next one is there ahead of use), and refetch the JWKS for an unknown kid.",
        ),
        // It takes the mock down and changes its certificate for every
        // concurrent check, and requires SSO tenant-wide, so it runs alone.
        Check {
            exclusive: true,
            ..check(
                "cross.lockout_safety.break_glass_survives_idp_outage",
                "The break-glass admin still gets in, with SSO required, while the IdP's metadata is unreachable, while the IdP is down, and after its signing certificate changed",
                Severity::High,
                LockoutSafetyAction::BreakGlassSurvivesIdpOutage,
                "attacks.md K-14, K-05; issue 13 (the break-glass admin still gets in when the IdP is down, its metadata is unreachable, or its certificate has changed)",
                "Check the break-glass admin's credentials locally and nothing else: never load the IdP's metadata, reach the IdP or compare its certificate on that path, so the way in meant for an IdP outage works in one.",
            )
        },
        // It requires SSO tenant-wide, so it runs alone; and it must meet
        // the SP before any other check signs an admin in, so the runner
        // runs it before the rest (`runs_before_the_rest`).
        Check {
            exclusive: true,
            ..check(
                "cross.lockout_safety.sso_enforcement_needs_admin_sign_in",
                "SSO cannot be required before an admin has signed in through the IdP, and can be once one has",
                Severity::High,
                LockoutSafetyAction::SsoEnforcementNeedsAdminSignIn,
                "attacks.md K-14; issue 13 (SSO cannot be enforced before an admin has signed in through the IdP)",
                "Refuse to require SSO until an admin of the tenant has signed in through its IdP at least once, and say why: until then nothing shows that sign-in through the IdP works, and requiring it would lock every admin out of a broken set-up.",
            )
        },
        // It needs an SP no admin has signed in to through the IdP, so the
        // runner runs it first of all (`runs_before_the_rest`); it changes
        // what SCIM takes tenant-wide, so it runs alone.
        Check {
            exclusive: true,
            ..check(
                "cross.lockout_safety.scim_waits_for_verified_sso",
                "SCIM is refused, and makes no user, until an admin has signed in through the IdP; then it is taken",
                Severity::High,
                LockoutSafetyAction::ScimWaitsForVerifiedSso,
                "MoovingON guide (\"Don't try to enable SCIM before you verify that IdP is working. You can potentially be locked outside of the app.\"); attacks.md K-14",
                "Refuse every SCIM request with 403 and a SCIM Error that says why until an admin of the tenant has signed in through its IdP, so provisioning cannot overwrite or deactivate the accounts of a set-up whose sign-in has never worked.",
            )
        },
    ]
}
