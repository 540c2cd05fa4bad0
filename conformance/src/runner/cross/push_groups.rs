//! Carries out the push-groups checks. Each makes one person the way the
//! deactivation checks do (a canary of the mock org and the same user at
//! the SP's SCIM server, signed in once as the positive control), pushes a
//! group with that person in it as Okta does (its lookup, its create, its
//! membership PATCH), puts the org user in the Okta group of the same name
//! so Okta's groups attribute or claim carries it, and then changes the
//! group as Okta does before the person signs in again.

use mock_idp::oidc::claims::GROUPS_CLAIM_LIMIT;
use mock_idp::scim::PAGE_SIZE;
use mock_idp::scim::faults::{ArmedFaults, ScimFault, member_batches};
use mock_idp::scim::requests::{self, Member, MembershipEdit};
use serde_json::Value;

use super::super::oidc::OidcDriver;
use super::super::saml::SamlDriver;
use super::super::scim::CanaryUser;
use super::super::scim::{Reply, member_ids, members_now, sorted};
use super::super::{Outcome, Step, StepError, Suite};
use super::deactivation::{
    Attempt, Person, SignInBy, any_sign_in, cannot_sign_in_by, join_org_group, join_org_group_all,
};
use crate::catalogue::PushGroupsAction;

pub(super) async fn execute(suite: &Suite, action: PushGroupsAction) -> Step<Outcome> {
    let by = match any_sign_in(suite) {
        Ok(by) => by,
        Err(why) => return Ok(Outcome::skip(why)),
    };
    match action {
        PushGroupsAction::SignInGroupsAgree => {
            let Some(pointer) = groups_pointer(suite) else {
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
        PushGroupsAction::RenameKeepsMembers => {
            let person = Person::signed_in(suite, by, "push-groups-rename").await?;
            rename_keeps_members(suite, person, groups_pointer(suite).as_deref()).await
        }
        PushGroupsAction::MembershipExact => {
            let added = Person::signed_in(suite, by, "push-groups-exact-added").await?;
            let removed = Person::signed_in(suite, by, "push-groups-exact-removed").await?;
            membership_exact(suite, added, removed, groups_pointer(suite).as_deref()).await
        }
        PushGroupsAction::Over100Groups => {
            // Okta cuts only the OIDC groups claim, so the check signs in by
            // OIDC where it can; by SAML it still judges a sign-in with over
            // 100 groups, which Okta sends whole.
            let by = if cannot_sign_in_by(suite, SignInBy::Oidc).is_none() { SignInBy::Oidc } else { by };
            let person = Person::signed_in(suite, by, "push-groups-over-100").await?;
            over_100_groups(suite, person, groups_pointer(suite).as_deref()).await
        }
        PushGroupsAction::LargePush => {
            let first = Person::signed_in(suite, by, "push-groups-large-first").await?;
            let last = Person::signed_in(suite, by, "push-groups-large-last").await?;
            large_push(suite, first, last, groups_pointer(suite).as_deref()).await
        }
        PushGroupsAction::ExistingTeamLinked => {
            if !suite.target.scim.as_ref().is_some_and(|s| s.groups_must_exist) {
                return Ok(Outcome::skip(
                    "the target does not declare scim.groups_must_exist = true, so its pushed groups may make teams",
                ));
            }
            let Some(hook) = suite.target.create_group.as_ref() else {
                return Ok(Outcome::skip(
                    "the target declares scim.groups_must_exist but no create_group hook to make the team a pushed group links to",
                ));
            };
            let person = Person::signed_in(suite, by, "push-groups-team").await?;
            existing_team_linked(suite, person, hook).await
        }
    }
}

/// Where the session shows its groups, if the target says.
fn groups_pointer(suite: &Suite) -> Option<String> {
    suite.target.session.as_ref().and_then(|s| s.groups_pointer.clone())
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
    let scim_id = person.scim_id.clone();
    send_edit(person, group, MembershipEdit::Remove(vec![scim_id])).await
}

/// Okta's membership PATCH of `group` (its rename, then `edit`), sent in
/// the person's SCIM conversation.
async fn send_edit(person: &mut Person<'_>, group: &(String, String), edit: MembershipEdit) -> Step<Reply> {
    person.scim.send(&requests::patch_group(&group.1, &group.0, &edit)).await
}

/// A person as a member in Okta's membership PATCH.
fn as_member(person: &Person<'_>) -> Member {
    Member { scim_id: person.scim_id.clone(), display: person.user.user_name.clone() }
}

/// Renames the Okta group `name`, as the admin who renames it at Okta
/// does; the SCIM PATCH is sent by the caller.
fn rename_org_group(suite: &Suite, name: &str, new_name: &str) -> Step<()> {
    let now = suite.idp.now();
    suite.idp.change_org(|org| {
        let group_id = org.find_group(name).map(|g| g.id.to_string()).unwrap_or_default();
        let renamed = serde_json::from_value(serde_json::json!({"profile": {"name": new_name}}))
            .map_err(|e| StepError(e.to_string()))
            .and_then(|body| {
                mock_idp::admin::update_group(org, &group_id, body, now)
                    .map_err(|e| StepError(format!("cannot rename the org group {name} to {new_name}: {e}")))
            });
        match renamed {
            Ok(applied) => Ok::<_, StepError>((Ok(()), applied.changes)),
            Err(e) => Ok((Err(e), Vec::new())),
        }
    })?
}

/// Puts the org user in `count` new Okta groups whose names start with
/// `prefix`, in one change to the mock org (not one API call each).
fn join_many_org_groups(suite: &Suite, prefix: &str, count: usize, email: &str) -> Step<()> {
    let now = suite.idp.now();
    suite.idp.change_org(|org| {
        let mut changes = Vec::new();
        let joined = (0..count).try_for_each(|index| {
            let name = format!("{prefix}{index:03}");
            let body = serde_json::from_value(serde_json::json!({"profile": {"name": name}}))
                .map_err(|e| StepError(e.to_string()))?;
            let made = mock_idp::admin::create_group(org, body, now, suite.idp.ids())
                .map_err(|e| StepError(format!("cannot add the group {name} to the org: {e}")))?;
            changes.extend(made.changes);
            let added = mock_idp::admin::add_member(org, made.subject.as_str(), email, now)
                .map_err(|e| StepError(format!("cannot add {email} to the org group {name}: {e}")))?;
            changes.extend(added.changes);
            Ok::<_, StepError>(())
        });
        Ok::<_, StepError>((joined, changes))
    })?
}

/// The group names the session body shows at `pointer`.
pub(super) fn groups_at(body: &str, pointer: &str) -> Vec<String> {
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

async fn rename_keeps_members(suite: &Suite, mut person: Person<'_>, pointer: Option<&str>) -> Step<Outcome> {
    let group = push_group_with(suite, &mut person, "rename").await?;
    let new_name = format!("{}-renamed", group.0);
    let renamed = (new_name.clone(), group.1.clone());
    let reply = send_edit(&mut person, &renamed, MembershipEdit::None).await?;
    if !reply.ok() {
        let oracle = "not asked: the SP refused Okta's request";
        return Ok(person
            .fail(format!("the SP refused Okta's rename of {} to {new_name} ({})", group.0, reply.status), oracle));
    }
    rename_org_group(suite, &group.0, &new_name)?;
    let attempt = person.sign_in_anew().await?;
    if let Some(why) = not_signed_in(&person, &attempt, &format!("after Okta renamed their group to {new_name}")) {
        return Ok(person.fail(why, &attempt.seen.describe()));
    }
    let read = person.scim.read_group(&group.1).await?;
    let mut problems = Vec::new();
    let members = read.json.as_ref().map(member_ids).unwrap_or_default();
    if read.status != 200 || !members.contains(&person.scim_id) {
        problems.push(format!(
            "after Okta's rename PATCH (replace id and displayName, no members) GET /Groups/{} reads {} with members {members:?}, without {}",
            group.1, read.status, person.scim_id
        ));
    }
    if read.status == 200 && read.text("/displayName") != Some(new_name.as_str()) {
        problems.push(format!("the group's displayName reads {:?}, not {new_name}", read.text("/displayName")));
    }
    let shown = pointer.map(|pointer| (pointer, groups_at(&attempt.seen.body, pointer)));
    if let Some((pointer, shown)) = &shown
        && !shown.contains(&new_name)
    {
        problems.push(format!(
            "the {} session after the rename shows the groups {shown:?} at {pointer}, without {new_name}",
            person.by.name()
        ));
    }
    if !problems.is_empty() {
        return Ok(person.fail(problems.join("; "), &attempt.seen.describe()));
    }
    let session = if shown.is_some() { " and the session shows the new name" } else { "" };
    Ok(Outcome::pass(format!(
        "after Okta renamed {} to {new_name}, GET /Groups/{} still lists {}{session} after a {} sign-in",
        group.0,
        group.1,
        person.scim_id,
        person.by.name()
    )))
}

/// One of Okta's membership updates of the exact check, and the members
/// the group must then have.
struct MembershipStep {
    what: String,
    edit: MembershipEdit,
    wanted: Vec<String>,
}

async fn membership_exact(
    suite: &Suite,
    mut added: Person<'_>,
    removed: Person<'_>,
    pointer: Option<&str>,
) -> Step<Outcome> {
    let group = added.scim.pushed_group("exact").await?;
    let (kept, gone) = (added.scim_id.clone(), removed.scim_id.clone());
    let both = sorted(vec![kept.clone(), gone.clone()]);
    let steps = [
        MembershipStep {
            what: format!("add of {kept} and {gone}"),
            edit: MembershipEdit::Add(vec![as_member(&added), as_member(&removed)]),
            wanted: both.clone(),
        },
        MembershipStep {
            what: format!("remove of members[value eq \"{gone}\"]"),
            edit: MembershipEdit::Remove(vec![gone.clone()]),
            wanted: vec![kept.clone()],
        },
        MembershipStep {
            what: format!("add of {gone} again"),
            edit: MembershipEdit::Add(vec![as_member(&removed)]),
            wanted: both,
        },
        MembershipStep {
            what: format!("\"Push now\" (replace of members with {kept} alone)"),
            edit: MembershipEdit::Replace(vec![as_member(&added)]),
            wanted: vec![kept.clone()],
        },
    ];
    join_org_group(suite, &group.0, &added.canary.email)?;
    for step in steps {
        let reply = send_edit(&mut added, &group, step.edit).await?;
        let oracle = "not asked: the membership was already wrong";
        if !reply.ok() {
            return Ok(added.fail(format!("the SP refused Okta's {} ({})", step.what, reply.status), oracle));
        }
        match members_now(&mut added.scim, &group.1).await? {
            Ok(members) if members == step.wanted => {}
            Ok(members) => {
                return Ok(added.fail(
                    format!(
                        "after Okta's {} the group {} has the members {members:?}, not {:?}",
                        step.what, group.0, step.wanted
                    ),
                    oracle,
                ));
            }
            Err(why) => return Ok(added.fail(format!("after Okta's {}: {why}", step.what), oracle)),
        }
    }
    let in_group = added.sign_in_anew().await?;
    let out_of_group = removed.sign_in_anew().await?;
    let mut problems = Vec::new();
    for (person, attempt, member) in [(&added, &in_group, true), (&removed, &out_of_group, false)] {
        let circumstance = if member { "who stayed in the group" } else { "whom Okta removed from the group" };
        if let Some(why) = not_signed_in(person, attempt, circumstance) {
            problems.push(why);
            continue;
        }
        let Some(pointer) = pointer else { continue };
        let shown = groups_at(&attempt.seen.body, pointer);
        if shown.contains(&group.0) != member {
            let shows = if member { "without it" } else { "still with it" };
            problems.push(format!(
                "the {} session of {} ({circumstance}) shows the groups {shown:?} at {pointer}, {shows}",
                person.by.name(),
                person.canary.email
            ));
        }
    }
    let oracle = format!("{}; {}", in_group.seen.describe(), out_of_group.seen.describe());
    if !problems.is_empty() {
        return Ok(added.fail(problems.join("; "), &oracle));
    }
    let sessions = if pointer.is_some() { ", and their sessions show the group only for the member" } else { "" };
    Ok(Outcome::pass(format!(
        "Okta's add, remove, add and \"Push now\" left exactly the intended members of {} each time; {kept} and {gone} both sign in by {}{sessions}",
        group.0,
        added.by.name()
    )))
}

async fn over_100_groups(suite: &Suite, mut person: Person<'_>, pointer: Option<&str>) -> Step<Outcome> {
    let group = push_group_with(suite, &mut person, "over-100").await?;
    // The other groups' names sort before the pushed group's (`bulk-` before
    // `scim-`), so a claim cut at 100 in name order leaves the pushed one
    // out; one more than the limit is enough.
    let tag = group.0.rsplit('-').next().unwrap_or_default().to_owned();
    join_many_org_groups(suite, &format!("bulk-{tag}-"), GROUPS_CLAIM_LIMIT + 1, &person.canary.email)?;
    let attempt = person.sign_in_anew().await?;
    let circumstance = format!("as a member of {} and {} other groups", group.0, GROUPS_CLAIM_LIMIT + 1);
    if let Some(why) = not_signed_in(&person, &attempt, &circumstance) {
        return Ok(person.fail(why, &attempt.seen.describe()));
    }
    let carried = match person.by {
        SignInBy::Oidc => {
            format!("an ID token whose groups claim Okta cut at {GROUPS_CLAIM_LIMIT}, without {}", group.0)
        }
        SignInBy::Saml => format!("a SAML groups attribute with all {} groups", GROUPS_CLAIM_LIMIT + 2),
    };
    let shown = pointer.map(|pointer| groups_at(&attempt.seen.body, pointer).len());
    let session = shown.map(|count| format!(" (the session shows {count} groups)")).unwrap_or_default();
    match members_now(&mut person.scim, &group.1).await? {
        Ok(members) if members.contains(&person.scim_id) => Ok(Outcome::pass(format!(
            "after a {} sign-in with {carried}{session}, GET /Groups/{} still lists {}",
            person.by.name(),
            group.1,
            person.scim_id
        ))),
        Ok(members) => Ok(person.fail(
            format!(
                "after a {} sign-in with {carried}{session}, the SP dropped the membership Okta pushed: GET /Groups/{} lists {members:?}, without {}",
                person.by.name(),
                group.1,
                person.scim_id
            ),
            &attempt.seen.describe(),
        )),
        Err(why) => Ok(person.fail(format!("after the sign-in with {carried}: {why}"), &attempt.seen.describe())),
    }
}

/// How many members the large push sends beside the two who sign in: with
/// them, more than one page, so Okta's "Push now" takes two batches.
const LARGE_PUSH_OTHERS: usize = PAGE_SIZE + 8;

/// At most this many ids of a wrong member list are named in a reason.
const NAMED_IDS: usize = 5;

async fn large_push(suite: &Suite, mut first: Person<'_>, last: Person<'_>, pointer: Option<&str>) -> Step<Outcome> {
    let group = first.scim.pushed_group("large").await?;
    // The other members are users of the mock org assigned to the app,
    // made in one change to the org, each provisioned as Okta provisions
    // an assigned user (its lookup, then its create), and all in the Okta
    // group, whose members Okta's "Push now" sends.
    let prefix = "push-groups-large-member";
    let others = match first.by {
        SignInBy::Saml => SamlDriver::new(suite)?.canaries(prefix, LARGE_PUSH_OTHERS)?,
        SignInBy::Oidc => OidcDriver::new(suite)?.canaries(prefix, LARGE_PUSH_OTHERS)?,
    };
    let okta_ids = suite.idp.read_org(|org| {
        others.iter().map(|c| org.find_user(&c.email).map(|u| u.id.clone())).collect::<Option<Vec<_>>>()
    });
    let okta_ids = okta_ids.ok_or_else(|| StepError("a member the check made is not in the org".into()))?;
    let mut members = vec![as_member(&first)];
    for (canary, okta_id) in others.iter().zip(okta_ids) {
        let user = CanaryUser::of_org_user(okta_id, &canary.email, "Canary", &canary.family_name);
        let scim_id = first.scim.provision(&user).await?;
        members.push(Member { scim_id, display: user.user_name });
    }
    members.push(as_member(&last));
    let mut emails: Vec<&str> = vec![&first.canary.email, &last.canary.email];
    emails.extend(others.iter().map(|c| c.email.as_str()));
    join_org_group_all(suite, &group.0, &emails)?;
    let wanted = sorted(members.iter().map(|m| m.scim_id.clone()).collect());
    // The mock's own batching under its large-push fault: pages of 100,
    // the first sent as a replace and the rest as adds, as Okta's "Push
    // now" of a linked group sends them.
    let batches = member_batches(members, &ArmedFaults::new([ScimFault::LargeGroupPush]));
    let count = batches.len();
    let oracle = "not asked: the membership was already wrong";
    for (index, batch) in batches.into_iter().enumerate() {
        let size = batch.len();
        let (edit, what) = if index == 0 {
            (MembershipEdit::Replace(batch), format!("batch 1 of {count} (replace of members with {size})"))
        } else {
            (MembershipEdit::Add(batch), format!("batch {} of {count} (add of {size} members)", index + 1))
        };
        let reply = send_edit(&mut first, &group, edit).await?;
        if !reply.ok() {
            return Ok(first
                .fail(format!("the SP refused Okta's \"Push now\" {what} of {} ({})", group.0, reply.status), oracle));
        }
    }
    match members_now(&mut first.scim, &group.1).await? {
        Ok(members) if members == wanted => {}
        Ok(members) => {
            let missing: Vec<&String> = wanted.iter().filter(|id| !members.contains(id)).collect();
            let extra: Vec<&String> = members.iter().filter(|id| !wanted.contains(id)).collect();
            return Ok(first.fail(
                format!(
                    "after Okta's \"Push now\" of {} in {count} batches ({} members), GET /Groups/{} lists {} members: {} missing (first {:?}), {} not pushed (first {:?})",
                    group.0,
                    wanted.len(),
                    group.1,
                    members.len(),
                    missing.len(),
                    missing.iter().take(NAMED_IDS).collect::<Vec<_>>(),
                    extra.len(),
                    extra.iter().take(NAMED_IDS).collect::<Vec<_>>()
                ),
                oracle,
            ));
        }
        Err(why) => return Ok(first.fail(format!("after Okta's \"Push now\" of {}: {why}", group.0), oracle)),
    }
    let first_attempt = first.sign_in_anew().await?;
    let last_attempt = last.sign_in_anew().await?;
    let mut problems = Vec::new();
    for (person, attempt, batch) in
        [(&first, &first_attempt, "the first batch"), (&last, &last_attempt, "the last batch")]
    {
        let circumstance = format!("(a member of {batch} of the push)");
        if let Some(why) = not_signed_in(person, attempt, &circumstance) {
            problems.push(why);
            continue;
        }
        let Some(pointer) = pointer else { continue };
        let shown = groups_at(&attempt.seen.body, pointer);
        if !shown.contains(&group.0) {
            problems.push(format!(
                "the {} session of {} {circumstance} shows the groups {shown:?} at {pointer}, without {}",
                person.by.name(),
                person.canary.email,
                group.0
            ));
        }
    }
    let oracle = format!("{}; {}", first_attempt.seen.describe(), last_attempt.seen.describe());
    if !problems.is_empty() {
        return Ok(first.fail(problems.join("; "), &oracle));
    }
    let sessions = if pointer.is_some() { " and their sessions show the group" } else { "" };
    Ok(Outcome::pass(format!(
        "after Okta's \"Push now\" of {} in {count} batches, GET /Groups/{} lists exactly its {} members; a member of the first batch and one of the last sign in by {}{sessions}",
        group.0,
        group.1,
        wanted.len(),
        first.by.name()
    )))
}

async fn existing_team_linked(suite: &Suite, mut person: Person<'_>, hook: &crate::target::Hook) -> Step<Outcome> {
    let tag = person.scim_id.chars().rev().take(6).collect::<String>();
    let team = format!("scim-team-{tag}-{}", person.canary.family_name);
    let made = suite.call_hook("create_group", hook, &[("{name}", &team)]).await?;
    let team_id = serde_json::from_str::<Value>(&made)
        .ok()
        .and_then(|answer| answer.get("id").and_then(Value::as_str).map(str::to_owned));
    let oracle = "not asked: no sign-in follows";
    // Okta's push: its lookup by displayName, then PATCH of the group it
    // found, or POST when it found none.
    let lookup = person.scim.send(&requests::find_group(&team)).await?;
    let found = lookup.resource_ids();
    let linked = match found.as_slice() {
        [id] => {
            let member = as_member(&person);
            let reply =
                send_edit(&mut person, &(team.clone(), id.clone()), MembershipEdit::Replace(vec![member])).await?;
            if !reply.ok() {
                return Ok(person.fail(
                    format!("the SP refused Okta's PATCH of the team {team} its lookup found ({})", reply.status),
                    oracle,
                ));
            }
            id.clone()
        }
        [] => {
            let created = person.scim.send(&requests::create_group(&team)).await?;
            let Some(id) = created.text("/id").filter(|_| created.ok()).map(str::to_owned) else {
                return Ok(person.fail(
                    format!(
                        "the SP refused Okta's push of {team}, the name of a team its create_group hook made ({})",
                        created.status
                    ),
                    oracle,
                ));
            };
            let member = as_member(&person);
            let reply = send_edit(&mut person, &(team.clone(), id.clone()), MembershipEdit::Add(vec![member])).await?;
            if !reply.ok() {
                return Ok(
                    person.fail(format!("the SP refused Okta's membership PATCH of {team} ({})", reply.status), oracle)
                );
            }
            id
        }
        many => {
            return Ok(person.fail(format!("Okta's lookup of {team} found {} groups: {many:?}", many.len()), oracle));
        }
    };
    let mut problems = Vec::new();
    if let Some(team_id) = team_id.as_ref().filter(|team_id| **team_id != linked) {
        problems.push(format!("the push of {team} made the group {linked}, not the team {team_id} the hook made"));
    }
    let again = person.scim.send(&requests::find_group(&team)).await?.resource_ids();
    if again != [linked.clone()] {
        problems.push(format!("after the push Okta's lookup of {team} finds {again:?}, not the one group {linked}"));
    }
    match members_now(&mut person.scim, &linked).await? {
        Ok(members) if members == [person.scim_id.clone()] => {}
        Ok(members) => {
            problems.push(format!("the linked team {team} has the members {members:?}, not [{}]", person.scim_id))
        }
        Err(why) => problems.push(format!("the linked team {team}: {why}")),
    }
    // A group no team is named like: Okta's lookup finds nothing, its POST
    // must be refused, and nothing must be left behind.
    let orphan = format!("scim-no-team-{tag}-{}", person.canary.family_name);
    let before = person.scim.send(&requests::find_group(&orphan)).await?.resource_ids();
    let created = person.scim.send(&requests::create_group(&orphan)).await?;
    if created.ok() {
        problems.push(format!(
            "Okta's POST /Groups of {orphan}, which no team is named like, answered {} and made the group {:?}",
            created.status,
            created.text("/id")
        ));
    }
    let after = person.scim.send(&requests::find_group(&orphan)).await?.resource_ids();
    if !after.is_empty() {
        problems.push(format!("after Okta's push of {orphan} (found before: {before:?}) its lookup finds {after:?}"));
    }
    if !problems.is_empty() {
        return Ok(person.fail(problems.join("; "), oracle));
    }
    let how = if found.is_empty() { "POST linked" } else { "lookup found and PATCH linked" };
    Ok(Outcome::pass(format!(
        "Okta's push of {team} ({how} the existing team {linked}) kept one group with {} in it; its push of {orphan} was refused ({}) and made nothing",
        person.scim_id, created.status
    )))
}
