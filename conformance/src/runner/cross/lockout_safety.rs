//! Carries out the lockout-safety checks. Each makes one person the way the
//! deactivation checks do (a canary of the mock org and the same user at
//! the SP's SCIM server, userName the email and externalId the Okta user
//! id), signs them in as the positive control (by SAML, or by OIDC for the
//! OIDC key rotation), does what would lock the person out at a careless SP
//! (or changes the IdP's signing keys as Okta does), and then signs them in
//! again from a new browser and reads their SCIM user back.

use mock_idp::ids::AppId;
use mock_idp::saml::faults::SamlFault;
use mock_idp::scim::requests::{self, MembershipEdit};
use serde_json::Value;

use super::super::oidc::{KeyRotation, OidcDriver};
use super::super::saml::SamlDriver;
use super::super::scim::{Session, is_true, member, resources, total_results};
use super::super::{Outcome, Step, StepError, Suite};
use super::deactivation::{Attempt, Person, SignInBy, any_sign_in};
use crate::catalogue::LockoutSafetyAction;

/// How many refused sign-ins the check sends: twice the usual password
/// lockout threshold of five, so an SP that counts them as failed
/// passwords has locked the account by the end.
const FAILED_SIGN_INS: usize = 10;

pub(super) async fn execute(suite: &Suite, action: LockoutSafetyAction) -> Step<Outcome> {
    match action {
        LockoutSafetyAction::FailedSsoNeverLocks => failed_sso_never_locks(suite).await,
        LockoutSafetyAction::LastAdminKept => last_admin_kept(suite).await,
        LockoutSafetyAction::ScimOwnerKept => scim_owner_kept(suite).await,
        LockoutSafetyAction::SamlCertificateRollover => saml_certificate_rollover(suite).await,
        LockoutSafetyAction::OidcKeyRotation => oidc_key_rotation(suite).await,
        LockoutSafetyAction::BreakGlassSurvivesIdpOutage => {
            super::break_glass::break_glass_survives_idp_outage(suite).await
        }
        LockoutSafetyAction::SsoEnforcementNeedsAdminSignIn => {
            super::sso_enforcement::sso_enforcement_needs_admin_sign_in(suite).await
        }
        LockoutSafetyAction::ScimWaitsForVerifiedSso => {
            super::scim_verified_sso::scim_waits_for_verified_sso(suite).await
        }
    }
}

async fn failed_sso_never_locks(suite: &Suite) -> Step<Outcome> {
    if suite.saml.is_none() {
        return Ok(Outcome::skip(
            "the target declares no [saml] section: the failed sign-ins are SAML responses the mock sends unsigned",
        ));
    }
    // The positive control: Okta provisions the person and they sign in
    // before any failure.
    let mut person = Person::signed_in(suite, SignInBy::Saml, "lockout-failed-sso").await?;
    let driver = SamlDriver::new(suite)?;
    for attempt in 1..=FAILED_SIGN_INS {
        let armed = driver.arm(SamlFault::Unsigned, &person.canary, None)?;
        let browser = suite.browser()?;
        let (_, answer) = driver.sign_in_capture(&browser, &person.canary).await?;
        driver.ensure_applied(&armed, SamlFault::Unsigned)?;
        let seen = suite.oracle(&browser).await?;
        let (any_session, held) = suite.judge_any_session(&seen).await?;
        // An SP that takes an unsigned response never sees a failed
        // sign-in here, so this check has no verdict on it; the SAML
        // signature checks judge that.
        if any_session {
            return Err(StepError(format!(
                "the SP took unsigned response {attempt} for {} ({held}, answered {}), so no sign-in failed; the SAML signature checks judge that",
                person.canary.email, answer.status
            )));
        }
    }
    let after = person.sign_in_anew().await?;
    let (status, active) = person.read_back().await?;
    let mut problems = Vec::new();
    if !after.seen.is(&person.canary.email) {
        problems.push(format!(
            "after {FAILED_SIGN_INS} refused SAML sign-ins naming {}, their correct sign-in gave {} (the SP answered {})",
            person.canary.email,
            after.seen.describe(),
            after.answered()
        ));
    }
    if (status, active) != (200, Some(true)) {
        problems.push(format!(
            "after the refused sign-ins the user {} reads {status} with active {active:?}",
            person.scim_id
        ));
    }
    if problems.is_empty() {
        return Ok(Outcome::pass(format!(
            "{} signed in before and after {FAILED_SIGN_INS} refused unsigned SAML responses naming them, and SCIM reads them active",
            person.canary.email
        )));
    }
    Ok(person.fail(problems.join("; "), &after.seen.describe()))
}

/// The admin group as Okta pushes it: its lookup by name links the group
/// the SP already has, else Okta creates it. Returns its id.
pub(super) async fn pushed_admin_group(scim: &mut Session<'_>, name: &str) -> Step<String> {
    let lookup = scim.send(&requests::find_group(name)).await?;
    if lookup.status != 404 && total_results(&lookup).unwrap_or(0) > 0 {
        let ids = lookup.json.as_ref().map(resources).unwrap_or_default();
        if let Some(id) = ids.first().and_then(|g| g.get("id")).and_then(Value::as_str) {
            return Ok(id.to_owned());
        }
    }
    let created = scim.send(&requests::create_group(name)).await?;
    match (created.status, created.text("/id")) {
        (201, Some(id)) if !id.is_empty() => Ok(id.to_owned()),
        (status, _) => {
            Err(StepError(format!("positive control failed: Okta's create of group {name} answered {status}")))
        }
    }
}

/// The other members of the admin group that SCIM reads active: an SP
/// with one of them may rightly take the deactivation.
async fn other_active_admins(scim: &mut Session<'_>, group_id: &str, person_id: &str) -> Step<Vec<String>> {
    let group = scim.read_group(group_id).await?;
    let members: Vec<String> = group
        .json
        .as_ref()
        .and_then(|g| member(g, "members"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_owned))
        .filter(|id| id != person_id)
        .collect();
    let mut active = Vec::new();
    for id in members {
        let read = scim.read_user(&id).await?;
        if read.status == 200 && is_true(read.json.as_ref().and_then(|u| member(u, "active"))) == Some(true) {
            active.push(id);
        }
    }
    Ok(active)
}

async fn last_admin_kept(suite: &Suite) -> Step<Outcome> {
    let Some(admin_group) = suite.target.accounts.admin_group.clone() else {
        return Ok(Outcome::skip(
            "the target declares no accounts.admin_group, so the suite cannot make anyone the SP's admin",
        ));
    };
    if suite.target.scim.as_ref().is_some_and(|scim| scim.requires_verified_sso) {
        return Ok(Outcome::skip(
            "the target declares scim.requires_verified_sso, so the run began by signing an admin in through the IdP, and no person this check makes can be the SP's only active admin",
        ));
    }
    let by = match any_sign_in(suite) {
        Ok(by) => by,
        Err(why) => return Ok(Outcome::skip(why)),
    };
    // The positive control: Okta provisions the person, they sign in, and
    // Okta pushes the admin group with them in it.
    let mut person = Person::signed_in(suite, by, "lockout-last-admin").await?;
    let group_id = pushed_admin_group(&mut person.scim, &admin_group).await?;
    let (user, scim_id) = (person.user.clone(), person.scim_id.clone());
    person.scim.add_members(&(admin_group.clone(), group_id.clone()), &[(&user, &scim_id)]).await?;
    let others = other_active_admins(&mut person.scim, &group_id, &scim_id).await?;
    if !others.is_empty() {
        return Ok(Outcome::skip(format!(
            "the admin group {admin_group} already has other active members ({}), so the person is not the last admin",
            others.join(", ")
        )));
    }
    let reply = person.scim.set_active(&user, &scim_id, false).await?;
    let (status, active) = person.read_back().await?;
    let after = person.sign_in_anew().await?;
    let mut problems = Vec::new();
    if reply.ok() && active != Some(true) {
        problems.push(format!(
            "the SP took Okta's deactivation of {}, its only active admin ({}), and the user reads {status} with active {active:?}",
            person.canary.email, reply.status
        ));
    }
    if !after.seen.is(&person.canary.email) {
        problems.push(format!(
            "the last admin's {} sign-in after the deactivation gave {} (the SP answered {})",
            by.name(),
            after.seen.describe(),
            after.answered()
        ));
    }
    if !problems.is_empty() {
        return Ok(person.fail(problems.join("; "), &after.seen.describe()));
    }
    // Demotion: Okta's PATCH that removes the still-only admin from the
    // admin group must be refused, or leave them in it.
    let edit = MembershipEdit::Remove(vec![scim_id.clone()]);
    let removal = person.scim.send(&requests::patch_group(&group_id, &admin_group, &edit)).await?;
    let group = person.scim.read_group(&group_id).await?;
    let still_member = group
        .json
        .as_ref()
        .and_then(|g| member(g, "members"))
        .and_then(Value::as_array)
        .is_some_and(|members| members.iter().any(|m| m.get("value").and_then(Value::as_str) == Some(&scim_id)));
    if removal.ok() && !still_member {
        return Ok(person.fail(
            format!(
                "the SP took Okta's removal of {}, its only active admin, from the admin group {admin_group} ({}), leaving it no admin",
                person.canary.email, removal.status
            ),
            &after.seen.describe(),
        ));
    }
    Ok(Outcome::pass(format!(
        "the SP answered Okta's deactivation of its only admin {} with {}, and their removal from {admin_group} with {}; they still sign in by {}",
        person.canary.email,
        reply.status,
        removal.status,
        by.name()
    )))
}

/// The id of the mock org's app the person signs in to `by`: the target's
/// SAML app, or its OIDC client's app.
fn sign_in_app_id(suite: &Suite, by: SignInBy) -> Step<String> {
    let wanted = match by {
        SignInBy::Saml => {
            return suite
                .saml
                .as_ref()
                .map(|app| app.id.to_string())
                .ok_or_else(|| StepError("the target declares no SAML app".into()));
        }
        SignInBy::Oidc => suite.target.oidc.as_ref().map(|o| o.app.clone()).unwrap_or_default(),
    };
    suite
        .idp
        .read_org(|org| org.find_app(&wanted).filter(|a| a.oidc().is_some()).map(|a| a.id.to_string()))
        .ok_or_else(|| StepError(format!("the target's OIDC app {wanted} is not an OIDC app of the org")))
}

async fn scim_owner_kept(suite: &Suite) -> Step<Outcome> {
    let Some(owner) = suite.target.scim.as_ref().and_then(|scim| scim.owner.clone()) else {
        return Ok(Outcome::skip(
            "the target declares no scim.owner, so the suite does not know whom the SCIM credential stands for",
        ));
    };
    let by = match any_sign_in(suite) {
        Ok(by) => by,
        Err(why) => return Ok(Outcome::skip(why)),
    };
    // The owner is an Okta user too, assigned to the app like anyone.
    let already = suite.idp.read_org(|org| org.find_user(&owner).is_some());
    if already {
        return Err(StepError(format!(
            "the mock org already has a user {owner}, so the suite cannot make the owner as Okta's assignment would"
        )));
    }
    let canary = suite.org_user(&sign_in_app_id(suite, by)?, &owner, "Owner")?;
    // The positive control: Okta provisions the owner and they sign in.
    let mut person = Person::of_canary(suite, by, canary).await?;
    let (user, scim_id) = (person.user.clone(), person.scim_id.clone());
    let reply = person.scim.set_active(&user, &scim_id, false).await?;
    let (status, active) = person.read_back().await?;
    let after = person.sign_in_anew().await?;
    let mut problems = Vec::new();
    if active != Some(true) {
        problems.push(format!(
            "the SP took Okta's deactivation of {owner}, whom its SCIM credential stands for ({}), and the user reads {status} with active {active:?}",
            reply.status
        ));
    }
    if !after.seen.is(&owner) {
        problems.push(format!(
            "the owner's {} sign-in after the deactivation gave {} (the SP answered {})",
            by.name(),
            after.seen.describe(),
            after.answered()
        ));
    }
    if !problems.is_empty() {
        return Ok(person.fail(problems.join("; "), &after.seen.describe()));
    }
    Ok(Outcome::pass(format!(
        "the SP answered Okta's deactivation of {owner}, whom its SCIM credential stands for, with {}; SCIM reads them active and they still sign in by {}",
        reply.status,
        by.name()
    )))
}

/// Why a sign-in after a key change did not reach the person's own
/// account, if it did not: the oracle must see the person, and where the
/// session before the change showed the account's id (its SCIM id), the
/// session after it must show the same id.
fn not_their_account(person: &Person, before: &Attempt, after: &Attempt, when: &str) -> Option<String> {
    if !after.seen.is(&person.canary.email) {
        return Some(format!(
            "{}'s {} sign-in {when} gave {} (the SP answered {})",
            person.canary.email,
            person.by.name(),
            after.seen.describe(),
            after.answered()
        ));
    }
    let shows_the_account = before.seen.body.contains(&person.scim_id);
    if shows_the_account && !after.seen.body.contains(&person.scim_id) {
        return Some(format!(
            "{}'s {} sign-in {when} reached a session that is not the account {}'s, which the session before showed",
            person.canary.email,
            person.by.name(),
            person.scim_id
        ));
    }
    None
}

/// Asks the SP to read its IdP metadata again, through the target's hook.
async fn refresh_idp_metadata(suite: &Suite, hook: &crate::target::Hook, when: &str) -> Step<()> {
    suite
        .call_hook("refresh_idp_metadata", hook, &[])
        .await
        .map(|_| ())
        .map_err(|StepError(why)| StepError(format!("{when}: {why}")))
}

async fn saml_certificate_rollover(suite: &Suite) -> Step<Outcome> {
    let Some(app) = suite.saml.as_ref().map(|app| app.id.clone()) else {
        return Ok(Outcome::skip(
            "the target declares no [saml] section: the rollover is of the SAML app's signing certificate",
        ));
    };
    let Some(hook) = suite.target.refresh_idp_metadata.clone() else {
        return Ok(Outcome::skip(
            "the target declares no hooks.refresh_idp_metadata, so the suite cannot make the SP read the metadata that lists Okta's new certificate (and the suite never waits for a scheduled refresh)",
        ));
    };
    let app = AppId::parse(&app).map_err(|e| StepError(format!("the SAML app id {app} is not Okta's: {e}")))?;
    // The positive control: Okta provisions the person, who signs in, and
    // again from a new browser, before any key changes.
    let mut person = Person::signed_in(suite, SignInBy::Saml, "lockout-rollover").await?;
    let before = person.sign_in_anew().await?;
    let idp = &suite.idp;
    let original = idp.saml_keys(&app).map_err(|e| StepError(format!("cannot read the app's keys: {e}")))?;
    let judged = rollover_sign_ins(suite, &person, &app, &hook, &before).await;
    // The app goes back to its first key and the SP reads that metadata
    // again, whatever happened, so the checks after this one see the mock
    // and the SP as they were.
    idp.restore_saml_keys(&app, original);
    refresh_idp_metadata(suite, &hook, "the SP's metadata refresh after the app got its first key back").await?;
    let (problems, steps) = judged?;
    let (status, active) = person.read_back().await?;
    let mut problems = problems;
    if (status, active) != (200, Some(true)) {
        problems.push(format!("after the rollover the user {} reads {status} with active {active:?}", person.scim_id));
    }
    if problems.is_empty() {
        return Ok(Outcome::pass(format!(
            "{} signed in to the same account {} throughout: {}",
            person.canary.email,
            person.scim_id,
            steps.join("; ")
        )));
    }
    Ok(person.fail(format!("{} (what happened: {})", problems.join("; "), steps.join("; ")), &before.seen.describe()))
}

/// The rollover itself: Okta's new certificate published next to the old
/// one, the SP's refresh, a sign-in signed by the old key, the switch and a
/// sign-in signed by the new key. Returns what went wrong and the steps as
/// they happened, for the reason.
async fn rollover_sign_ins(
    suite: &Suite,
    person: &Person<'_>,
    app: &AppId,
    hook: &crate::target::Hook,
    before: &Attempt,
) -> Step<(Vec<String>, Vec<String>)> {
    let idp = &suite.idp;
    let fresh = idp.generate_saml_key(app).map_err(|e| StepError(format!("cannot generate the new key: {e}")))?;
    let mut steps = vec![
        format!("signed in before the rollover (the SP answered {})", before.answered()),
        format!("the app's metadata listed Okta's new certificate (SHA-256 {}) after the old one", fresh.fingerprint()),
    ];
    refresh_idp_metadata(suite, hook, "the SP's metadata refresh during the overlap").await?;
    steps.push("the refresh_idp_metadata hook answered 2xx".to_owned());
    let mut problems = Vec::new();
    let overlap = person.sign_in_anew().await?;
    steps.push(format!("signed by the old key during the overlap (the SP answered {})", overlap.answered()));
    problems.extend(not_their_account(person, before, &overlap, "signed by the old key during the overlap"));
    idp.activate_saml_key(app, fresh.fingerprint())
        .map_err(|e| StepError(format!("cannot switch the app to the new key: {e}")))?;
    let switched = person.sign_in_anew().await?;
    steps.push(format!(
        "signed by the new key after the app switched to it, with no further refresh (the SP answered {})",
        switched.answered()
    ));
    problems.extend(not_their_account(person, before, &switched, "signed by the new key after the switch"));
    Ok((problems, steps))
}

async fn oidc_key_rotation(suite: &Suite) -> Step<Outcome> {
    match &suite.target.oidc {
        None => {
            return Ok(Outcome::skip("the target declares no [oidc] section: the rotation is of the OIDC signing key"));
        }
        Some(oidc) if oidc.login_url.is_none() => {
            return Ok(Outcome::skip(
                "the target has no oidc.login_url to start a sign-in at the relying party, so no one signs in by OIDC again after the rotation",
            ));
        }
        Some(_) => {}
    }
    // The positive control: the person signs in by OIDC and Okta's
    // assignment links their account, then they sign in again from a new
    // browser, before the rotation.
    let person = Person::signed_in(suite, SignInBy::Oidc, "lockout-rotation").await?;
    let before = person.sign_in_anew().await?;
    // The authorization server the relying party signs in with, read from
    // where it sends a login.
    let driver = OidcDriver::new(suite)?;
    let redirected = driver.start(&suite.browser()?, &person.canary).await?;
    let server = driver.server_of(&redirected)?;
    let rotation = KeyRotation::start(&suite.idp, &server, false)?;
    let after = person.sign_in_anew().await;
    let fetched = rotation.jwks_fetches();
    let kind = rotation.kind();
    let new_kid = suite.idp.key_ring(&server).ok().map(|ring| ring.active().kid.clone()).unwrap_or_default();
    rotation.put_back()?;
    let after = after?;
    let when = format!(
        "after {kind} rotation of the {server} authorization server's signing key (ID tokens now signed with kid {new_kid})"
    );
    match not_their_account(&person, &before, &after, &when) {
        None => Ok(Outcome::pass(format!(
            "{} signed in by OIDC to the same account {} before (the relying party answered {}) and {when} (it answered {}; {fetched} JWKS fetches since the rotation)",
            person.canary.email,
            person.scim_id,
            before.answered(),
            after.answered()
        ))),
        Some(problem) => Ok(person.fail(
            format!("{problem}; the relying party fetched the JWKS {fetched} times since the rotation"),
            &after.seen.describe(),
        )),
    }
}
