//! What a management operation changed in the org, as typed values.
//!
//! Every operation that writes returns its changes, so the HTTP layer can
//! render Okta's JSON from the ids they carry and the running IdP can hand
//! them to subscribers (Okta's outbound provisioning reacts to exactly these
//! events). An operation that changed nothing returns no changes.

use crate::ids::{AppId, GroupId, UserId};
use crate::org::UserStatus;

/// One change to the org, with the ids involved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgChange {
    /// A user was created, in the status it was created with.
    UserCreated { user: UserId, status: UserStatus },
    /// A user's profile (login, email, names or custom attributes) changed.
    ProfileChanged { user: UserId },
    /// A user's password was set through the management API. The change
    /// does not carry the password: the mock keeps no user passwords.
    PasswordChanged { user: UserId },
    /// A lifecycle operation moved a user from one status to another.
    StatusChanged { user: UserId, from: UserStatus, to: UserStatus },
    /// A deactivated user was deleted. Their group memberships and app
    /// assignments were removed first, each reported as its own change.
    UserDeleted { user: UserId },
    /// A user was assigned to an app directly.
    AssignedToApp { app: AppId, user: UserId },
    /// A direct assignment's app username or app profile changed.
    AppProfileChanged { app: AppId, user: UserId },
    /// A user's direct assignment to an app was removed.
    UnassignedFromApp { app: AppId, user: UserId },
    /// A group was assigned to an app, so its members are assigned through it.
    GroupAssignedToApp { app: AppId, group: GroupId },
    /// A group assignment's priority or app profile changed.
    GroupAssignmentChanged { app: AppId, group: GroupId },
    /// A group's assignment to an app was removed.
    GroupUnassignedFromApp { app: AppId, group: GroupId },
    /// A user joined or left a group.
    GroupMembershipChanged { group: GroupId, user: UserId, membership: Membership },
    /// A group was created.
    GroupCreated { group: GroupId },
    /// A group's name changed.
    GroupRenamed { group: GroupId, from: String, to: String },
    /// A group's description changed.
    GroupDescriptionChanged { group: GroupId },
    /// A group was deleted. Its app assignments were removed first, each
    /// reported as its own change; its memberships ended with it.
    GroupDeleted { group: GroupId },
}

/// Which way a group membership changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Membership {
    Added,
    Removed,
}

/// What an operation acted on (so the HTTP layer knows what to render) and
/// the changes it made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied<T> {
    pub subject: T,
    pub changes: Vec<OrgChange>,
}

impl<T> Applied<T> {
    pub(super) fn new(subject: T, changes: Vec<OrgChange>) -> Self {
        Applied { subject, changes }
    }
}
