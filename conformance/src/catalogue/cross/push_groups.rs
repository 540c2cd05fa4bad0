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
    /// After Okta renames a pushed group (its PATCH replace of `id` and
    /// `displayName`, the one it sends with every membership update), the
    /// group keeps its members: at sign-in and in `GET /Groups/{id}`.
    RenameKeepsMembers,
    /// Okta's member adds, its `members[value eq "…"]` removes and its "Push
    /// now" replace leave exactly the intended members, and the sign-ins of
    /// an added and a removed member agree.
    MembershipExact,
    /// A person in a pushed group and in over 100 other groups signs in by
    /// a groups claim Okta cut at 100: the SP keeps the pushed membership.
    Over100Groups,
    /// Where the target's pushed groups must link to existing teams, Okta's
    /// push of a group named like a team links to it, and a push of a group
    /// with no team is refused and creates nothing.
    ExistingTeamLinked,
    /// Okta's "Push now" of a group with more members than one page (100)
    /// comes in batches, the first a replace of members and the rest adds:
    /// afterwards the group holds exactly every member, and a member of
    /// the first batch and one of the last sign in with the group.
    LargePush,
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
        check(
            "cross.push_groups.rename_keeps_members",
            "Okta's rename of a pushed group, sent with every membership update, keeps its members at sign-in and over SCIM",
            Severity::High,
            PushGroupsAction::RenameKeepsMembers,
            "attacks.md K-07 and K-13; Okta SCIM 2.0 reference (PATCH replace {id, displayName} before the member operations)",
            "Apply Okta's PATCH replace of id and displayName to the group's name alone: a replace without a members path leaves the members as they are (RFC 7644 3.5.2.3), and Okta sends it with every membership update.",
        ),
        check(
            "cross.push_groups.membership_exact",
            "Okta's member adds, removes and \"Push now\" leave exactly the intended members, and sign-ins agree",
            Severity::High,
            PushGroupsAction::MembershipExact,
            "attacks.md K-13; Okta SCIM 2.0 reference (PATCH add members, remove members[value eq ...], replace members)",
            "Apply each membership operation exactly: add adds the listed members, remove with a members[value eq \"id\"] path removes that member, and a replace of members (Okta's \"Push now\") makes the list exactly the one sent.",
        ),
        check(
            "cross.push_groups.over_100_groups",
            "A member of a pushed group who is in over 100 groups keeps the membership after a sign-in whose groups Okta cut at 100",
            Severity::Medium,
            PushGroupsAction::Over100Groups,
            "attacks.md K-07; Okta groups-claim guide (a groups claim carries at most 100 groups)",
            "Never read a group missing from a sign-in's groups as a removal: Okta cuts the groups claim at 100 groups without saying so. Take membership from Okta's SCIM push, or read the groups of a sign-in only to add.",
        ),
        check(
            "cross.push_groups.existing_team_linked",
            "Where pushed groups must link to existing teams, Okta's push links to the team of that name and a push with no team creates nothing",
            Severity::Medium,
            PushGroupsAction::ExistingTeamLinked,
            "Okta's Moxion SCIM guide (push groups link to existing teams); Okta SCIM 2.0 reference (Group Push: lookup by displayName, then PATCH or POST)",
            "Answer Okta's POST /Groups for a name that matches a team by linking that team (its id is the group's id from then on), and refuse a name that matches none with a SCIM error, creating nothing.",
        ),
        check(
            "cross.push_groups.large_push",
            "Okta's \"Push now\" of a group larger than one page, sent in batches of 100 (a replace, then adds), leaves exactly all its members",
            Severity::High,
            PushGroupsAction::LargePush,
            "attacks.md K-13; Okta SCIM 2.0 reference (PATCH replace members, PATCH add members); RFC 7644 3.5.2.1 (add to a multi-valued attribute appends)",
            "Apply a PATCH add of members as an addition to the members already there (RFC 7644 3.5.2.1), never as a replace: Okta pushes a large group as one replace followed by adds of the remaining pages, each of which must keep the members the earlier ones set.",
        ),
    ]
}
