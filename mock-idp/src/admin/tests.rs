//! The management operations: each returns what it acted on and exactly
//! the changes it made.

use super::*;
use crate::ids::SequentialIds;
use serde_json::json;

const NOW: OffsetDateTime = time::macros::datetime!(2024-01-01 00:00 UTC);

fn org() -> Org {
    crate::org::parse_org("acme.toml", include_str!("../../../fixtures/orgs/acme.toml"), NOW).unwrap()
}

fn body(value: Value) -> UserBody {
    serde_json::from_value(value).unwrap()
}

#[test]
fn duplicate_login_gets_e0000001_and_keeps_org() {
    let mut org = org();
    let before = org.users.len();
    let error = create_user(
        &mut org,
        body(
            json!({"profile": {"login": "ALICE@acme.test", "email": "a@acme.test", "firstName": "A", "lastName": "B"}}),
        ),
        true,
        NOW,
        &SequentialIds::default(),
    )
    .unwrap_err();
    assert_eq!(error.code, "E0000001");
    assert_eq!(error.causes, vec!["login: An object with this field already exists in the current organization"]);
    assert_eq!(org.users.len(), before);
}

#[test]
fn lifecycle_follows_okta_transitions() {
    let mut org = org();
    lifecycle(&mut org, "alice@acme.test", Lifecycle::Suspend, NOW).unwrap();
    assert_eq!(org.find_user("alice@acme.test").unwrap().status, UserStatus::Suspended);
    assert_eq!(lifecycle(&mut org, "alice@acme.test", Lifecycle::Suspend, NOW).unwrap_err().status, 400);
    lifecycle(&mut org, "alice@acme.test", Lifecycle::Unsuspend, NOW).unwrap();
    assert_eq!(lifecycle(&mut org, "alice@acme.test", Lifecycle::Activate, NOW).unwrap_err().code, "E0000016");
}

#[test]
fn delete_deactivates_first_then_deletes() {
    let mut org = org();
    delete_user(&mut org, "bob@acme.test", NOW).unwrap();
    assert_eq!(org.find_user("bob@acme.test").unwrap().status, UserStatus::Deprovisioned);
    delete_user(&mut org, "bob@acme.test", NOW).unwrap();
    assert!(org.find_user("bob@acme.test").is_none());
    assert!(org.groups.values().all(|g| { g.members.iter().all(|m| m.as_str() != "00ubob00000000000002") }));
}

#[test]
fn partial_update_keeps_other_fields() {
    let mut org = org();
    update_user(&mut org, "alice@acme.test", body(json!({"profile": {"firstName": "Alicia"}})), true, NOW).unwrap();
    let alice = org.find_user("alice@acme.test").unwrap();
    assert_eq!(alice.profile.first_name, "Alicia");
    assert_eq!(alice.profile.extra.get("department"), Some(&json!("Engineering")));
    let error =
        update_user(&mut org, "alice@acme.test", body(json!({"profile": {"firstName": "A"}})), false, NOW).unwrap_err();
    assert_eq!(error.summary, "Api validation failed: login");
}

#[test]
fn user_filter_parses_okta_syntax() {
    let org = org();
    let paging = PageRequest::default();
    let found = list_users(&org, None, Some("profile.login eq \"bob@acme.test\""), None, &paging).unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(list_users(&org, None, Some("nonsense"), None, &paging).unwrap_err().code, "E0000001");
}

fn uid(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn gid(id: &str) -> GroupId {
    GroupId::parse(id).unwrap()
}

fn aid(id: &str) -> AppId {
    AppId::parse(id).unwrap()
}

const ALICE: &str = "00ualice000000000001";
const BOB: &str = "00ubob00000000000002";
const ERIN: &str = "00uerin0000000000005";
const ENGINEERING: &str = "00gengineering000001";
const SALES: &str = "00gsales000000000003";
const REFERENCE_SP: &str = "0oarefsp000000000001";

#[test]
fn create_user_yields_user_created_with_its_status() {
    let mut org = org();
    let applied = create_user(
        &mut org,
        body(
            json!({"profile": {"login": "new@acme.test", "email": "new@acme.test", "firstName": "N", "lastName": "U"}}),
        ),
        false,
        NOW,
        &SequentialIds::default(),
    )
    .unwrap();
    assert!(org.users.contains_key(&applied.subject));
    assert_eq!(
        applied.changes,
        vec![OrgChange::UserCreated { user: applied.subject.clone(), status: UserStatus::Staged }]
    );
}

#[test]
fn update_user_yields_profile_changed_only_when_the_profile_changes() {
    let mut org = org();
    let changed =
        update_user(&mut org, "alice@acme.test", body(json!({"profile": {"firstName": "Alicia"}})), true, NOW).unwrap();
    assert_eq!(changed.changes, vec![OrgChange::ProfileChanged { user: uid(ALICE) }]);
    let same =
        update_user(&mut org, "alice@acme.test", body(json!({"profile": {"firstName": "Alicia"}})), true, NOW).unwrap();
    assert_eq!(same.subject, uid(ALICE));
    assert_eq!(same.changes, Vec::new());
}

#[test]
fn lifecycle_yields_status_changed_from_and_to() {
    let mut org = org();
    let applied = lifecycle(&mut org, "alice@acme.test", Lifecycle::Suspend, NOW).unwrap();
    assert_eq!(
        applied.changes,
        vec![OrgChange::StatusChanged { user: uid(ALICE), from: UserStatus::Active, to: UserStatus::Suspended }]
    );
}

#[test]
fn delete_user_yields_deactivation_then_removals_and_deletion() {
    let mut org = org();
    let first = delete_user(&mut org, "bob@acme.test", NOW).unwrap();
    assert_eq!(
        first.changes,
        vec![OrgChange::StatusChanged { user: uid(BOB), from: UserStatus::Active, to: UserStatus::Deprovisioned }]
    );
    let second = delete_user(&mut org, "bob@acme.test", NOW).unwrap();
    assert!(second.changes.contains(&OrgChange::GroupMembershipChanged {
        group: gid(SALES),
        user: uid(BOB),
        membership: Membership::Removed,
    }));
    assert!(second.changes.contains(&OrgChange::UnassignedFromApp { app: aid(REFERENCE_SP), user: uid(BOB) }));
    assert_eq!(second.changes.last(), Some(&OrgChange::UserDeleted { user: uid(BOB) }));
}

#[test]
fn group_operations_yield_created_renamed_membership_and_deleted() {
    let mut org = org();
    let ids = SequentialIds::default();
    let group_body = |name: &str| -> GroupBody { serde_json::from_value(json!({"profile": {"name": name}})).unwrap() };
    let created = create_group(&mut org, group_body("Support"), NOW, &ids).unwrap();
    let group = created.subject.clone();
    assert_eq!(created.changes, vec![OrgChange::GroupCreated { group: group.clone() }]);
    let renamed = update_group(&mut org, group.as_str(), group_body("Customer Support"), NOW).unwrap();
    assert_eq!(
        renamed.changes,
        vec![OrgChange::GroupRenamed { group: group.clone(), from: "Support".into(), to: "Customer Support".into() }]
    );
    let added = add_member(&mut org, group.as_str(), "erin@acme.test", NOW).unwrap();
    assert_eq!(
        added.changes,
        vec![OrgChange::GroupMembershipChanged {
            group: group.clone(),
            user: uid(ERIN),
            membership: Membership::Added
        }]
    );
    assert_eq!(add_member(&mut org, group.as_str(), "erin@acme.test", NOW).unwrap().changes, Vec::new());
    let removed = remove_member(&mut org, group.as_str(), "erin@acme.test", NOW).unwrap();
    assert_eq!(
        removed.changes,
        vec![OrgChange::GroupMembershipChanged {
            group: group.clone(),
            user: uid(ERIN),
            membership: Membership::Removed
        }]
    );
    let deleted = delete_group(&mut org, group.as_str()).unwrap();
    assert_eq!(deleted.changes, vec![OrgChange::GroupDeleted { group }]);
}

#[test]
fn deleting_an_assigned_group_yields_its_unassignments_first() {
    let mut org = org();
    let deleted = delete_group(&mut org, ENGINEERING).unwrap();
    assert!(
        deleted
            .changes
            .contains(&OrgChange::GroupUnassignedFromApp { app: aid(REFERENCE_SP), group: gid(ENGINEERING) })
    );
    assert_eq!(deleted.changes.last(), Some(&OrgChange::GroupDeleted { group: gid(ENGINEERING) }));
}

#[test]
fn app_assignments_yield_assigned_profile_changed_and_unassigned() {
    let mut org = org();
    let assignment = |value: Value| -> AppUserBody { serde_json::from_value(value).unwrap() };
    let assigned = assign_user(&mut org, REFERENCE_SP, Some("erin@acme.test"), assignment(json!({})), NOW).unwrap();
    assert_eq!(assigned.subject, (aid(REFERENCE_SP), uid(ERIN)));
    assert_eq!(assigned.changes, vec![OrgChange::AssignedToApp { app: aid(REFERENCE_SP), user: uid(ERIN) }]);
    let updated = assign_user(
        &mut org,
        REFERENCE_SP,
        Some("erin@acme.test"),
        assignment(json!({"profile": {"role": "Admin"}})),
        NOW,
    )
    .unwrap();
    assert_eq!(updated.changes, vec![OrgChange::AppProfileChanged { app: aid(REFERENCE_SP), user: uid(ERIN) }]);
    let unassigned = unassign_user(&mut org, REFERENCE_SP, "erin@acme.test").unwrap();
    assert_eq!(unassigned.changes, vec![OrgChange::UnassignedFromApp { app: aid(REFERENCE_SP), user: uid(ERIN) }]);
}

#[test]
fn group_assignments_yield_assigned_changed_and_unassigned() {
    let mut org = org();
    let assigned = assign_group(&mut org, REFERENCE_SP, SALES, AppGroupBody::default()).unwrap();
    assert_eq!(assigned.changes, vec![OrgChange::GroupAssignedToApp { app: aid(REFERENCE_SP), group: gid(SALES) }]);
    let body: AppGroupBody = serde_json::from_value(json!({"priority": 7})).unwrap();
    let changed = assign_group(&mut org, REFERENCE_SP, SALES, body).unwrap();
    assert_eq!(changed.changes, vec![OrgChange::GroupAssignmentChanged { app: aid(REFERENCE_SP), group: gid(SALES) }]);
    let unassigned = unassign_group(&mut org, REFERENCE_SP, SALES).unwrap();
    assert_eq!(
        unassigned.changes,
        vec![OrgChange::GroupUnassignedFromApp { app: aid(REFERENCE_SP), group: gid(SALES) }]
    );
}

#[test]
fn a_refused_operation_yields_no_change_and_keeps_the_org() {
    let mut org = org();
    let error =
        assign_user(&mut org, REFERENCE_SP, Some("nobody@acme.test"), serde_json::from_value(json!({})).unwrap(), NOW)
            .unwrap_err();
    assert_eq!(error.code, "E0000007");
}
