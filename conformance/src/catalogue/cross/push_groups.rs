//! Push groups: the groups Okta pushes by SCIM (K-13) and the groups a
//! sign-in carries (the SAML `groups` attribute or the OIDC `groups` claim,
//! K-07) must tell the SP the same thing, and a pushed group's life cycle
//! must never take its members' access away.
//!
//! The SCIM group checks in `catalogue/scim.rs` judge what the SCIM server
//! stores; these add the sign-in side. Each makes one person as Okta has
//! them (a user of the mock org assigned to the target's app, and the same
//! user provisioned by Okta's SCIM requests), signs them in as the positive
//! control, and signs them in again after Okta's group push.

use crate::catalogue::{Action, Category, Check, CrossAction, Severity, Weight};

/// What a push-groups check does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushGroupsAction {
    /// After Okta pushes a group with the person in it and they sign in,
    /// the session shows the group; after Okta removes them from it, the
    /// next session does not.
    SignInGroupsAgree,
    /// After Okta removes the person from a pushed group, they still sign
    /// in: leaving a group is not losing the app.
    RemovedMemberSignsIn,
    /// After Okta deletes a pushed group (unlink with delete), its member
    /// still signs in.
    DeletedGroupMemberSignsIn,
}

/// The fix when a group's life cycle takes access away.
const KEEP_ACCESS_FIX: &str = "Decide access from the user's own SCIM status and Okta's assignment alone: a membership removed, or a pushed group unlinked and deleted (Okta's DELETE /Groups/{id}), changes teams, never whether the user may sign in.";

fn check(
    id: &'static str,
    title: &'static str,
    severity: Severity,
    action: PushGroupsAction,
    reference: &'static str,
    fix: &'static str,
) -> Check {
    Check {
        id,
        title,
        category: Category::PushGroups,
        severity,
        reference,
        needs: &[],
        action: Action::Cross(CrossAction::PushGroups(action)),
        fix,
        exclusive: false,
        weight: Weight::Fail,
    }
}

/// The push-groups checks, in report order.
pub(super) fn checks() -> Vec<Check> {
    vec![
        check(
            "cross.push_groups.sign_in_groups_agree",
            "The groups a sign-in shows agree with Okta's pushed membership, after Okta adds the user and after it removes them",
            Severity::Medium,
            PushGroupsAction::SignInGroupsAgree,
            "attacks.md K-07 and K-13; Okta groups-claim guide; Okta SCIM 2.0 reference (Group Push)",
            "Read the groups of every sign-in (the SAML groups attribute, the OIDC groups claim) and keep them in step with the groups Okta pushes: a group the user was added to shows, one they were removed from no longer does.",
        ),
        check(
            "cross.push_groups.removed_member_signs_in",
            "A user Okta removes from a pushed group still signs in",
            Severity::High,
            PushGroupsAction::RemovedMemberSignsIn,
            "attacks.md K-13; Okta SCIM 2.0 reference (PATCH remove members[value eq ...])",
            KEEP_ACCESS_FIX,
        ),
        check(
            "cross.push_groups.deleted_group_member_signs_in",
            "After Okta unlinks and deletes a pushed group, its member still signs in",
            Severity::High,
            PushGroupsAction::DeletedGroupMemberSignsIn,
            "attacks.md K-13; Okta SCIM 2.0 reference (DELETE /Groups/{id} on unlink)",
            KEEP_ACCESS_FIX,
        ),
    ]
}
