//! Carries out the push-groups checks. Each makes one person the way the
//! deactivation checks do (a canary of the mock org and the same user at
//! the SP's SCIM server, signed in once as the positive control), pushes a
//! group with that person in it as Okta does (its lookup, its create, its
//! membership PATCH), puts the org user in the Okta group of the same name
//! so Okta's groups attribute or claim carries it, and then changes the
//! group as Okta does before the person signs in again.

use mock_idp::scim::requests::{self, MembershipEdit};
use serde_json::Value;

use super::super::scim::Reply;
use super::super::{Outcome, Step, StepError, Suite};
use super::deactivation::{Attempt, Person, any_sign_in, join_org_group};
use crate::catalogue::PushGroupsAction;

pub(super) async fn execute(suite: &Suite, action: PushGroupsAction) -> Step<Outcome> {
    let by = match any_sign_in(suite) {
        Ok(by) => by,
        Err(why) => return Ok(Outcome::skip(why)),
    };
    match action {
        PushGroupsAction::SignInGroupsAgree => {
            let Some(pointer) = suite.target.session.as_ref().and_then(|s| s.groups_pointer.clone()) else {
                return Ok(Outcome::skip(
                    "the target declares no session.groups_pointer, so the suite cannot read the groups a session shows",
                ));
            };
            let person = Person::signed_in(suite, by, "push-groups-agree").await?;
            sign_in_groups_agree(suite, person, &pointer).await
        }
        PushGroupsAction::RemovedMemberSignsIn => {
            let person = Person::signed_in(suite, by, "push-groups-removed").await?;
            access_kept(suite, person, GroupChange::RemoveMember).await
        }
        PushGroupsAction::DeletedGroupMemberSignsIn => {
            let person = Person::signed_in(suite, by, "push-groups-deleted").await?;
            access_kept(suite, person, GroupChange::DeleteGroup).await
        }
    }
}

/// What Okta does to the pushed group before the person signs in again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GroupChange {
    /// The person leaves the Okta group: Okta's PATCH removes the member.
    RemoveMember,
    /// The admin unlinks the pushed group with "Delete the group in the
    /// target app": Okta's DELETE /Groups/{id}.
    DeleteGroup,
}

/// A group pushed with the person in it, at the SP and in the mock org.
async fn push_group_with(suite: &Suite, person: &mut Person<'_>, label: &str) -> Step<(String, String)> {
    let group = person.scim.pushed_group(label).await?;
    let (user, scim_id) = (person.user.clone(), person.scim_id.clone());
    person.scim.add_members(&group, &[(&user, &scim_id)]).await?;
    join_org_group(suite, &group.0, &person.canary.email)?;
    Ok(group)
}

/// Takes the org user out of the Okta group `name`, as the admin who
/// removes them at Okta does; the SCIM PATCH is sent by the caller.
fn leave_org_group(suite: &Suite, name: &str, email: &str) -> Step<()> {
    let now = suite.idp.now();
    suite.idp.change_org(|org| {
        let group_id = org.find_group(name).map(|g| g.id.to_string()).unwrap_or_default();
        match mock_idp::admin::remove_member(org, &group_id, email, now) {
            Ok(applied) => Ok::<_, StepError>((Ok(()), applied.changes)),
            Err(e) => Ok((Err(StepError(format!("cannot remove {email} from the org group {name}: {e}"))), Vec::new())),
        }
    })?
}

/// Okta's PATCH that removes the person from the group.
async fn remove_member(person: &mut Person<'_>, group: &(String, String)) -> Step<Reply> {
    let edit = MembershipEdit::Remove(vec![person.scim_id.clone()]);
    person.scim.send(&requests::patch_group(&group.1, &group.0, &edit)).await
}

/// The group names the session body shows at `pointer`.
fn groups_at(body: &str, pointer: &str) -> Vec<String> {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|body| body.pointer(pointer).and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|g| g.as_str().map(str::to_owned))
        .collect()
}

/// Why a sign-in of the still-active person is not theirs, if it is not.
fn not_signed_in(person: &Person<'_>, attempt: &Attempt, circumstance: &str) -> Option<String> {
    (!attempt.seen.is(&person.canary.email)).then(|| {
        format!(
            "a {} sign-in of {} {circumstance} gave {} (the SP answered {})",
            person.by.name(),
            person.canary.email,
            attempt.seen.describe(),
            attempt.answered()
        )
    })
}

async fn sign_in_groups_agree(suite: &Suite, mut person: Person<'_>, pointer: &str) -> Step<Outcome> {
    let group = push_group_with(suite, &mut person, "agree").await?;
    let added = person.sign_in_anew().await?;
    if let Some(why) = not_signed_in(&person, &added, "after Okta pushed a group with them in it") {
        return Ok(person.fail(why, &added.seen.describe()));
    }
    let shown = groups_at(&added.seen.body, pointer);
    if !shown.contains(&group.0) {
        return Ok(person.fail(
            format!(
                "after Okta pushed the group {} with {} in it and sent it in the {} sign-in, the session's groups ({pointer}) are {shown:?}, without it",
                group.0,
                person.canary.email,
                person.by.name()
            ),
            &added.seen.describe(),
        ));
    }
    let removed = remove_member(&mut person, &group).await?;
    if !removed.ok() {
        let oracle = "not asked: the SP refused Okta's request";
        return Ok(person.fail(format!("the SP refused Okta's removal of the member ({})", removed.status), oracle));
    }
    leave_org_group(suite, &group.0, &person.canary.email)?;
    let after = person.sign_in_anew().await?;
    if let Some(why) = not_signed_in(&person, &after, "after Okta removed them from a pushed group") {
        return Ok(person.fail(why, &after.seen.describe()));
    }
    let shown_after = groups_at(&after.seen.body, pointer);
    if shown_after.contains(&group.0) {
        return Ok(person.fail(
            format!(
                "after Okta removed {} from the pushed group {} (its PATCH, and the {} sign-in without it), the session's groups ({pointer}) still hold it: {shown_after:?}",
                person.canary.email,
                group.0,
                person.by.name()
            ),
            &after.seen.describe(),
        ));
    }
    Ok(Outcome::pass(format!(
        "the {} session showed the pushed group {} after the add and not after Okta's removal",
        person.by.name(),
        group.0
    )))
}

async fn access_kept(suite: &Suite, mut person: Person<'_>, change: GroupChange) -> Step<Outcome> {
    let group = push_group_with(suite, &mut person, "kept").await?;
    let (reply, what) = match change {
        GroupChange::RemoveMember => (remove_member(&mut person, &group).await?, "removal of the member"),
        GroupChange::DeleteGroup => (person.scim.send(&requests::delete_group(&group.1)).await?, "DELETE of the group"),
    };
    if !reply.ok() {
        let oracle = "not asked: the SP refused Okta's request";
        return Ok(person.fail(format!("the SP refused Okta's {what} ({})", reply.status), oracle));
    }
    if change == GroupChange::RemoveMember {
        leave_org_group(suite, &group.0, &person.canary.email)?;
    }
    let attempt = person.sign_in_anew().await?;
    let (status, active) = person.read_back().await?;
    let mut problems = Vec::new();
    if let Some(why) = not_signed_in(&person, &attempt, &format!("after Okta's {what} {}", group.0)) {
        problems.push(why);
    }
    if (status, active) != (200, Some(true)) {
        problems.push(format!("the user {} reads {status} with active {active:?}", person.scim_id));
    }
    if problems.is_empty() {
        return Ok(Outcome::pass(format!(
            "after Okta's {what} {} the person still signs in by {} and reads active",
            group.0,
            person.by.name()
        )));
    }
    Ok(person.fail(problems.join("; "), &attempt.seen.describe()))
}
