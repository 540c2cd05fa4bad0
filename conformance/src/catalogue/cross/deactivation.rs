//! Deactivation: after Okta deactivates, suspends or unassigns a user (all
//! sent as SCIM `active: false`), the user is out of the SP everywhere.
//!
//! Each check makes one person twice, as Okta has them: a user of the mock
//! org assigned to the target's app, and the same user provisioned to the
//! SP's SCIM server with Okta's requests (userName the email, externalId
//! the Okta user id). The positive control is that person signing in by
//! SAML or OIDC before the deactivation. The mock org keeps the user active
//! and signs them in as asked, as an IdP whose app assignment or session
//! lags behind the deprovisioning would: what is judged is that the SP
//! itself refuses a deactivated account (attacks.md K-10 to K-12).

use crate::catalogue::{Action, Category, Check, CrossAction, Severity, Weight};

/// What a deactivation check does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeactivationAction {
    /// After the deactivation, a SAML sign-in gets no session.
    SamlRefused,
    /// After the deactivation, an OIDC sign-in gets no session.
    OidcRefused,
    /// A session from before the deactivation ends at once (K-11).
    SessionEnds,
    /// A sign-in after the deactivation neither reactivates the account nor
    /// makes a second one: SCIM still reads the one user, inactive.
    JitNeverRevives,
    /// A deactivated user still in a pushed group is refused (K-12).
    GroupMemberRefused,
    /// Okta's reactivation gives sign-in back, to the same account.
    ReactivationRestores,
    /// The relying party cannot redeem a refresh token of a session from
    /// before the deactivation (K-10).
    RefreshRefused,
    /// After Okta's suspension (`active: false`), sign-in by every protocol
    /// the target declares is refused; Okta's unsuspension (`active: true`)
    /// gives it back to the same account.
    SuspensionRefused,
    /// After Okta unassigns the user from the app (`active: false`, the
    /// user still active at Okta), sign-in is refused and makes no new
    /// account.
    UnassignmentRefused,
    /// After Okta's deactivation, SCIM still reads the user, inactive, by
    /// id and by Okta's userName lookup.
    StaysReadable,
}

/// The fix for the sign-in side of deactivation.
const REFUSE_FIX: &str = "Check the account's status on every sign-in, whatever the protocol and however the account is found (by IdP identity or by email): a SCIM `active: false` refuses the sign-in, even when the IdP's assertion or ID token is valid.";

fn check(
    id: &'static str,
    title: &'static str,
    severity: Severity,
    action: DeactivationAction,
    reference: &'static str,
    fix: &'static str,
) -> Check {
    Check {
        id,
        title,
        category: Category::Deactivation,
        severity,
        reference,
        needs: &[],
        action: Action::Cross(CrossAction::Deactivation(action)),
        fix,
        exclusive: false,
        weight: Weight::Fail,
    }
}

/// The deactivation checks, in report order.
pub(super) fn checks() -> Vec<Check> {
    vec![
        check(
            "cross.deactivation.saml_refused",
            "After Okta's SCIM deactivation, a SAML sign-in of the same user gets no session",
            Severity::Critical,
            DeactivationAction::SamlRefused,
            "attacks.md K-10; Okta SCIM 2.0 reference (deactivation by PATCH active false)",
            REFUSE_FIX,
        ),
        check(
            "cross.deactivation.oidc_refused",
            "After Okta's SCIM deactivation, an OIDC sign-in of the same user gets no session",
            Severity::Critical,
            DeactivationAction::OidcRefused,
            "attacks.md K-10; Okta SCIM 2.0 reference (deactivation by PATCH active false)",
            REFUSE_FIX,
        ),
        check(
            "cross.deactivation.session_ends",
            "A session started before Okta's SCIM deactivation ends at once",
            Severity::Critical,
            DeactivationAction::SessionEnds,
            "attacks.md K-10 and K-11; Okta Universal Logout guide",
            "When SCIM deactivates a user, end every session (and revoke every refresh token) the user holds, in the same write, or check the account's status on every request.",
        ),
        check(
            "cross.deactivation.jit_never_revives",
            "A sign-in after Okta's SCIM deactivation neither reactivates the account nor creates another",
            Severity::High,
            DeactivationAction::JitNeverRevives,
            "attacks.md K-10; Okta SCIM 2.0 reference (Okta never deletes users, only deactivates them)",
            "Just-in-time provisioning must find a deactivated account and refuse it: never set it active again at sign-in (only Okta's `active: true` does that), and never create a second account for the same person.",
        ),
        check(
            "cross.deactivation.group_member_refused",
            "A user deactivated by SCIM but still in a pushed group is refused at sign-in",
            Severity::High,
            DeactivationAction::GroupMemberRefused,
            "attacks.md K-12; Okta help: Deactivate and delete user accounts (deactivated users stay in their groups)",
            "Decide access from the account's status first: `active: false` overrides every group or team membership, since Okta leaves a deactivated user in their groups.",
        ),
        check(
            "cross.deactivation.reactivation_restores",
            "Okta's SCIM reactivation gives sign-in back, to the same account",
            Severity::Medium,
            DeactivationAction::ReactivationRestores,
            "attacks.md K-10; Okta SCIM 2.0 reference (reactivation by PATCH active true)",
            "Deactivate by status, never by deleting the account: Okta's `active: true` on the same SCIM id must make that same account usable again, with its data.",
        ),
        check(
            "cross.deactivation.refresh_refused",
            "After Okta's SCIM deactivation, the relying party no longer redeems the user's refresh token",
            Severity::High,
            DeactivationAction::RefreshRefused,
            "attacks.md K-10 (revoke existing sessions and refresh tokens); RFC 6749 10.4",
            "When SCIM deactivates a user, drop the refresh tokens kept for their sessions with the sessions themselves, or check the account's status before redeeming one.",
        ),
        check(
            "cross.deactivation.suspension_refused",
            "After Okta's suspension (SCIM active false), sign-in is refused, and Okta's unsuspension gives it back to the same account",
            Severity::Critical,
            DeactivationAction::SuspensionRefused,
            "attacks.md K-10; Okta SCIM 2.0 reference (suspension, deactivation and unassignment all send active false; unsuspension sends active true)",
            "Okta sends a suspension as `active: false` and the unsuspension as `active: true` on the same SCIM id: refuse every sign-in while the account is inactive, keep the account and its data, and let `active: true` make that same account usable again.",
        ),
        check(
            "cross.deactivation.unassignment_refused",
            "After Okta unassigns the user from the app (SCIM active false), sign-in is refused and makes no new account",
            Severity::Critical,
            DeactivationAction::UnassignmentRefused,
            "attacks.md K-10; Okta SCIM 2.0 reference (unassignment from the app sends active false; the user stays active in Okta)",
            "Okta sends an unassignment as `active: false` while the user stays active in Okta, and an Okta session or a group assignment may still produce an assertion or ID token for them: refuse the sign-in of an inactive account, and let just-in-time provisioning find that account rather than create another.",
        ),
        check(
            "cross.deactivation.stays_readable",
            "After Okta's SCIM deactivation, the user still reads with active false, by id and by Okta's userName lookup",
            Severity::High,
            DeactivationAction::StaysReadable,
            "attacks.md K-10; Okta SCIM 2.0 reference (Okta never sends DELETE for users; it looks users up by userName eq before it creates one)",
            "Deactivate by status, never by deleting or hiding the account: `GET /Users/{id}` answers 200 with `active: false`, and `filter=userName eq \"…\"` finds inactive users too, so Okta's later reactivation or reassignment links to that account instead of creating a duplicate.",
        ),
    ]
}
