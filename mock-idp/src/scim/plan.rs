//! Which provisioning operations an org change calls for, and what each
//! operation does given the org as it is when it runs.
//!
//! Operations are decided again from the current org when they run, so a
//! burst of changes that cancel out sends nothing, and a retried task acts
//! on the org as it is now, as Okta's retried tasks do.

use serde::Serialize;

use super::requests::UserView;
use crate::admin::{Membership, OrgChange};
use crate::ids::{AppId, GroupId, UserId};
use crate::org::Org;
use crate::org::provisioning::ScimProvisioning;

/// One unit of provisioning work for one app: what a task in Okta's
/// dashboard names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "operation", rename_all = "snake_case")]
pub enum Operation {
    /// Brings one user's SCIM account in line with Okta: create or link,
    /// deactivate, reactivate, and push the profile when it changed.
    SyncUser { app: AppId, user: UserId, profile_changed: bool },
    /// Finds, creates or links a pushed group and pushes its whole membership
    /// ("Push now").
    PushGroup { app: AppId, group: GroupId },
    /// Adds or removes one member of a linked pushed group.
    ChangeMembership { app: AppId, group: GroupId, user: UserId, membership: MembershipDirection },
    /// Sends a pushed group's new name.
    RenameGroup { app: AppId, group: GroupId },
    /// Stops pushing a group and forgets its link. With "Delete the group
    /// in the target app" it first sends `DELETE /Groups/{id}`; without (and
    /// for a group deleted in Okta) no request is sent.
    UnlinkGroup { app: AppId, group: GroupId, delete_in_app: bool },
    /// Sends a linked user's new password ("Sync Password").
    SyncPassword { app: AppId, user: UserId },
    /// "Test API Credentials".
    TestCredentials { app: AppId },
    /// Reads every user and group page.
    Import { app: AppId },
}

/// Which way a membership changes, for serialisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipDirection {
    Add,
    Remove,
}

impl Operation {
    pub fn app(&self) -> &AppId {
        match self {
            Operation::SyncUser { app, .. }
            | Operation::PushGroup { app, .. }
            | Operation::ChangeMembership { app, .. }
            | Operation::RenameGroup { app, .. }
            | Operation::UnlinkGroup { app, .. }
            | Operation::SyncPassword { app, .. }
            | Operation::TestCredentials { app }
            | Operation::Import { app } => app,
        }
    }

    /// A short label for transcripts and task lists.
    pub fn label(&self) -> String {
        match self {
            Operation::SyncUser { user, profile_changed: false, .. } => format!("sync user {user}"),
            Operation::SyncUser { user, profile_changed: true, .. } => format!("push profile of user {user}"),
            Operation::PushGroup { group, .. } => format!("push group {group}"),
            Operation::ChangeMembership { group, user, membership: MembershipDirection::Add, .. } => {
                format!("add user {user} to group {group}")
            }
            Operation::ChangeMembership { group, user, membership: MembershipDirection::Remove, .. } => {
                format!("remove user {user} from group {group}")
            }
            Operation::RenameGroup { group, .. } => format!("rename group {group}"),
            Operation::UnlinkGroup { group, delete_in_app: false, .. } => format!("unlink group {group}"),
            Operation::UnlinkGroup { group, delete_in_app: true, .. } => {
                format!("unlink group {group} and delete it in the app")
            }
            Operation::SyncPassword { user, .. } => format!("sync password of user {user}"),
            Operation::TestCredentials { .. } => "test API credentials".to_owned(),
            Operation::Import { .. } => "import users and groups".to_owned(),
        }
    }
}

/// The apps that provision, with their settings: those whose connection is
/// active, since a deactivated connection sends no provisioning traffic.
fn provisioning_apps(org: &Org) -> impl Iterator<Item = (&AppId, &ScimProvisioning)> {
    org.apps.iter().filter_map(|(id, app)| {
        app.provisioning.as_ref().filter(|settings| settings.connection_active).map(|settings| (id, settings))
    })
}

/// The operations an org change calls for, in the order to run them.
pub fn plan_change(org: &Org, change: &OrgChange) -> Vec<Operation> {
    let sync = |app: &AppId, user: &UserId, profile_changed: bool| Operation::SyncUser {
        app: app.clone(),
        user: user.clone(),
        profile_changed,
    };
    let mut operations = Vec::new();
    match change {
        OrgChange::AssignedToApp { app, user } | OrgChange::UnassignedFromApp { app, user } => {
            if provisioning_apps(org).any(|(id, _)| id == app) {
                operations.push(sync(app, user, false));
            }
        }
        OrgChange::AppProfileChanged { app, user } => {
            if provisioning_apps(org).any(|(id, _)| id == app) {
                operations.push(sync(app, user, true));
            }
        }
        OrgChange::StatusChanged { user, .. }
        | OrgChange::UserDeleted { user }
        | OrgChange::UserCreated { user, .. } => {
            for (app, _) in provisioning_apps(org) {
                operations.push(sync(app, user, false));
            }
        }
        OrgChange::PasswordChanged { user } => {
            for (app, settings) in provisioning_apps(org) {
                let linked_active = settings.links.users.get(user).is_some_and(|link| link.active);
                // Okta's "KEEP_EXISTING" sets a password at the create only.
                let sync_changes = settings.features.sync_password
                    && settings.password_change == crate::org::provisioning::PasswordChange::Change;
                if sync_changes && linked_active {
                    operations.push(Operation::SyncPassword { app: app.clone(), user: user.clone() });
                }
            }
        }
        OrgChange::ProfileChanged { user } => {
            for (app, _) in provisioning_apps(org) {
                operations.push(sync(app, user, true));
            }
        }
        OrgChange::GroupAssignedToApp { app, group }
        | OrgChange::GroupAssignmentChanged { app, group }
        | OrgChange::GroupUnassignedFromApp { app, group } => {
            let Some(settings) =
                org.apps.get(app).and_then(|a| a.provisioning.as_ref()).filter(|s| s.connection_active)
            else {
                return operations;
            };
            // The group's members and every linked user: a group that was
            // just unassigned (or deleted) may no longer list the users it
            // assigned.
            let profile_changed = matches!(change, OrgChange::GroupAssignmentChanged { .. });
            let mut users: Vec<UserId> =
                org.groups.get(group).map(|g| g.members.iter().cloned().collect()).unwrap_or_default();
            for linked in settings.links.users.keys() {
                if !users.contains(linked) {
                    users.push(linked.clone());
                }
            }
            users.sort();
            for user in users {
                operations.push(sync(app, &user, profile_changed));
            }
        }
        OrgChange::GroupMembershipChanged { group, user, membership } => {
            for (app_id, settings) in provisioning_apps(org) {
                let assigns = org.apps.get(app_id).is_some_and(|app| app.groups.contains_key(group));
                if assigns || settings.links.users.contains_key(user) {
                    operations.push(sync(app_id, user, false));
                }
                if settings.pushed_groups.contains(group) {
                    let membership = match membership {
                        Membership::Added => MembershipDirection::Add,
                        Membership::Removed => MembershipDirection::Remove,
                    };
                    operations.push(Operation::ChangeMembership {
                        app: app_id.clone(),
                        group: group.clone(),
                        user: user.clone(),
                        membership,
                    });
                }
            }
        }
        OrgChange::GroupRenamed { group, .. } => {
            for (app, settings) in provisioning_apps(org) {
                if settings.links.groups.contains_key(group) {
                    operations.push(Operation::RenameGroup { app: app.clone(), group: group.clone() });
                }
            }
        }
        OrgChange::GroupDeleted { group } => {
            for (app, settings) in provisioning_apps(org) {
                if settings.links.groups.contains_key(group) {
                    // Okta's default for a group deleted in Okta leaves the
                    // SCIM group in the app.
                    operations.push(Operation::UnlinkGroup {
                        app: app.clone(),
                        group: group.clone(),
                        delete_in_app: false,
                    });
                }
            }
        }
        OrgChange::GroupCreated { .. } | OrgChange::GroupDescriptionChanged { .. } => {}
    }
    operations
}

/// The operations of "Push now" for an app: every assigned or linked user,
/// then every pushed group.
pub fn plan_push(org: &Org, app: &AppId) -> Vec<Operation> {
    let Some(found) = org.apps.get(app) else { return Vec::new() };
    let Some(settings) = found.provisioning.as_ref() else { return Vec::new() };
    let mut users: Vec<UserId> = org.assigned_users(found).into_iter().map(|u| u.id.clone()).collect();
    for linked in settings.links.users.keys() {
        if !users.contains(linked) {
            users.push(linked.clone());
        }
    }
    users.sort();
    let mut operations: Vec<Operation> =
        users.into_iter().map(|user| Operation::SyncUser { app: app.clone(), user, profile_changed: false }).collect();
    if settings.features.push_groups {
        for group in &settings.pushed_groups {
            operations.push(Operation::PushGroup { app: app.clone(), group: group.clone() });
        }
    }
    operations
}

/// What syncing one user to one app takes now.
#[derive(Clone, Debug, PartialEq)]
pub enum UserAction {
    /// Nothing differs (or the feature that would act is off).
    Nothing,
    /// Look the user up, then create or link (and push the profile).
    Provision(UserView),
    /// Push the profile of a linked user.
    Update { scim_id: String, view: UserView },
    /// Deactivate a linked user; the view is there when the user is still in
    /// the org (the wizard profile's PUT sends the whole object).
    Deactivate { scim_id: String, view: Option<UserView> },
    /// Reactivate a linked user.
    Reactivate { scim_id: String, view: UserView },
}

/// Decides what syncing a user to an app takes, from the org as it is now
/// and the app's link to the user.
pub fn decide_user(org: &Org, app: &AppId, user: &UserId, profile_changed: bool) -> UserAction {
    let Some(found) = org.apps.get(app) else { return UserAction::Nothing };
    let Some(settings) = found.provisioning.as_ref() else { return UserAction::Nothing };
    let view = org.users.get(user).map(|u| UserView::of(org, found, settings, u));
    let wanted_active = view.as_ref().is_some_and(|v| v.active);
    let features = settings.features;
    match (settings.links.users.get(user), view) {
        (None, Some(view)) if wanted_active && features.push_new_users => UserAction::Provision(view),
        (None, _) => UserAction::Nothing,
        (Some(link), view) if link.active && !wanted_active => {
            if features.deactivate_users {
                UserAction::Deactivate { scim_id: link.scim_id.clone(), view }
            } else {
                UserAction::Nothing
            }
        }
        (Some(link), Some(view)) if !link.active && wanted_active => {
            // Reactivation is part of "Deactivate Users" in Okta's settings.
            if features.deactivate_users || features.push_new_users {
                UserAction::Reactivate { scim_id: link.scim_id.clone(), view }
            } else {
                UserAction::Nothing
            }
        }
        (Some(link), Some(view)) if link.active && profile_changed && features.push_profile_updates => {
            UserAction::Update { scim_id: link.scim_id.clone(), view }
        }
        (Some(_), _) => UserAction::Nothing,
    }
}
