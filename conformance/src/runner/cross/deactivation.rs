//! Carries out the deactivation checks. Each makes one person twice, as
//! Okta has them: a canary of the mock org assigned to the target's SAML or
//! OIDC app, and the same user at the SP's SCIM server (userName the email,
//! externalId the Okta user id), then deactivates that user with Okta's
//! own request for the target's profile (the path-less PATCH, or the
//! wizard's PUT) and judges sign-in and sessions by the session oracle.
//!
//! The order follows what works with each protocol at a correct SP. For
//! SAML, Okta provisions first (its lookup, then its create) and the person
//! signs in to the provisioned account. An OIDC relying party keys accounts
//! on (iss, sub) and may refuse to link an email it already has, so there
//! the person signs in first and Okta's assignment then finds the account
//! by its lookup and links it, as Okta does for a user the SP already has.
//! Either way the positive control is the person's sign-in before the
//! deactivation; without it the check is an `error`.

use mock_idp::scim::requests;

use super::super::browser::{Browser, SpAnswer};
use super::super::oidc::OidcDriver;
use super::super::oracle::Seen;
use super::super::saml::SamlDriver;
use super::super::scim::{CanaryUser, Reply, Session, is_true, member};
use super::super::{Canary, Evidence, Outcome, ScimEvidence, Step, StepError, Suite, excerpt};
use crate::catalogue::DeactivationAction;

/// The protocol a scenario signs in by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SignInBy {
    Saml,
    Oidc,
}

impl SignInBy {
    pub(super) fn name(self) -> &'static str {
        match self {
            SignInBy::Saml => "SAML",
            SignInBy::Oidc => "OIDC",
        }
    }
}

pub(super) async fn execute(suite: &Suite, action: DeactivationAction) -> Step<Outcome> {
    match action {
        DeactivationAction::SamlRefused => refused_after_deactivation(suite, SignInBy::Saml).await,
        DeactivationAction::OidcRefused => refused_after_deactivation(suite, SignInBy::Oidc).await,
        DeactivationAction::SessionEnds => session_ends(suite).await,
        DeactivationAction::JitNeverRevives => jit_never_revives(suite).await,
        DeactivationAction::GroupMemberRefused => group_member_refused(suite).await,
        DeactivationAction::ReactivationRestores => reactivation_restores(suite).await,
        DeactivationAction::RefreshRefused => refresh_refused(suite).await,
        DeactivationAction::SuspensionRefused => suspension_refused(suite).await,
        DeactivationAction::UnassignmentRefused => unassignment_refused(suite).await,
        DeactivationAction::StaysReadable => stays_readable(suite).await,
    }
}

/// What Okta did to the user. Each reaches the SP as the same request,
/// Okta's `active: false` or `active: true` for the target's profile; the
/// name is for the verdict's reason, since the SP cannot tell them apart
/// and must treat them alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OktaChange {
    Deactivation,
    Reactivation,
    Suspension,
    Unsuspension,
    Unassignment,
}

impl OktaChange {
    fn active(self) -> bool {
        matches!(self, OktaChange::Reactivation | OktaChange::Unsuspension)
    }

    fn name(self) -> &'static str {
        match self {
            OktaChange::Deactivation => "deactivation",
            OktaChange::Reactivation => "reactivation",
            OktaChange::Suspension => "suspension",
            OktaChange::Unsuspension => "unsuspension",
            OktaChange::Unassignment => "unassignment from the app",
        }
    }
}

/// Why the target cannot sign in by `by`, when it cannot.
pub(super) fn cannot_sign_in_by(suite: &Suite, by: SignInBy) -> Option<String> {
    match by {
        SignInBy::Saml => suite.saml.is_none().then(|| "the target declares no [saml] section".to_owned()),
        SignInBy::Oidc => match &suite.target.oidc {
            None => Some("the target declares no [oidc] section".to_owned()),
            Some(oidc) if oidc.login_url.is_none() => {
                Some("the target has no oidc.login_url to start a sign-in at the relying party".to_owned())
            }
            Some(_) => None,
        },
    }
}

/// The protocol of a check that needs one sign-in protocol, whichever:
/// SAML where the target declares it, else OIDC. `Err` is why there is none.
pub(super) fn any_sign_in(suite: &Suite) -> Result<SignInBy, String> {
    every_sign_in(suite).map(|protocols| protocols[0])
}

/// Every protocol the target signs in by, SAML first, for a check that
/// judges each. `Err` is why there is none; otherwise the list is never
/// empty.
fn every_sign_in(suite: &Suite) -> Result<Vec<SignInBy>, String> {
    let protocols: Vec<SignInBy> =
        [SignInBy::Saml, SignInBy::Oidc].into_iter().filter(|by| cannot_sign_in_by(suite, *by).is_none()).collect();
    if protocols.is_empty() {
        return Err(
            "the target has neither a [saml] section nor an [oidc] section with a login_url to sign in by".to_owned()
        );
    }
    Ok(protocols)
}

/// A sign-in: the SP's last answer and what the oracle then saw.
pub(super) struct Attempt {
    pub(super) answer: SpAnswer,
    pub(super) seen: Seen,
}

impl Attempt {
    /// "403 account.deactivated" or "302 -> /welcome".
    pub(super) fn answered(&self) -> String {
        let mut text = self.answer.status.to_string();
        if let Some(code) = &self.answer.error_code {
            text.push_str(&format!(" {code}"));
        }
        if let Some(location) = &self.answer.location {
            text.push_str(&format!(" -> {location}"));
        }
        text
    }
}

/// One person at the mock org and at the SP, signed in once, and the
/// check's SCIM conversation with the SP.
pub(super) struct Person<'a> {
    suite: &'a Suite,
    pub(super) by: SignInBy,
    pub(super) canary: Canary,
    pub(super) user: CanaryUser,
    pub(super) scim_id: String,
    pub(super) scim: Session<'a>,
    /// The browser of the positive control, still signed in.
    control: Browser,
    /// The session URL's body after the positive control.
    control_session: String,
}

impl<'a> Person<'a> {
    /// Makes the person, provisions them as Okta does and signs them in:
    /// the positive control.
    pub(super) async fn signed_in(suite: &'a Suite, by: SignInBy, label: &str) -> Step<Person<'a>> {
        let prefix = format!("deactivation-{label}");
        let canary = match by {
            SignInBy::Saml => SamlDriver::new(suite)?.canary(&prefix, None)?,
            SignInBy::Oidc => OidcDriver::new(suite)?.canary(&prefix, None)?,
        };
        Self::of_canary(suite, by, canary).await
    }

    /// As [`Person::signed_in`], for a user of the mock org the caller has
    /// made already (one whose email the check needs, such as the SCIM
    /// credential's owner).
    pub(super) async fn of_canary(suite: &'a Suite, by: SignInBy, canary: Canary) -> Step<Person<'a>> {
        let okta_id = suite
            .idp
            .read_org(|org| org.find_user(&canary.email).map(|u| u.id.clone()))
            .ok_or_else(|| StepError(format!("the canary {} is not in the org", canary.email)))?;
        let user = CanaryUser::of_org_user(okta_id, &canary.email, "Canary", &canary.family_name);
        let scim = Session::new(suite)?;
        let control = suite.browser()?;
        let mut person =
            Person { suite, by, canary, user, scim_id: String::new(), scim, control, control_session: String::new() };
        match by {
            SignInBy::Saml => {
                person.scim_id = person.scim.provision(&person.user).await?;
                person.control_session = person.control_sign_in().await?;
            }
            SignInBy::Oidc => {
                suite.ensure_account(&person.canary).await?;
                person.control_session = person.control_sign_in().await?;
                person.scim_id = person.okta_assignment().await?;
            }
        }
        Ok(person)
    }

    /// The positive control: the person signs in, in the control browser.
    /// Returns the session URL's body.
    async fn control_sign_in(&self) -> Step<String> {
        let attempt = self.sign_in(&self.control).await?;
        if attempt.seen.is(&self.canary.email) {
            return Ok(attempt.seen.body);
        }
        Err(StepError(format!(
            "positive control failed: a correct {} sign-in for {} before any deactivation gave {} (the SP answered {}: {})",
            self.by.name(),
            self.canary.email,
            attempt.seen.describe(),
            attempt.answered(),
            excerpt(&attempt.answer.body, 200)
        )))
    }

    /// Okta's assignment of a user the SP already has an account for: its
    /// lookup by userName finds the account, which Okta links; a lookup
    /// that finds nobody makes Okta create the user.
    async fn okta_assignment(&mut self) -> Step<String> {
        let lookup = self.scim.send(&requests::find_user(&self.user.user_name)).await?;
        let found: Vec<String> = lookup.resource_ids();
        match found.as_slice() {
            [id] => Ok(id.clone()),
            [] => self.scim.provision(&self.user).await,
            _ => Err(StepError(format!(
                "positive control failed: Okta's lookup of {} found {} users: {found:?}",
                self.user.user_name,
                found.len()
            ))),
        }
    }

    /// Signs the person in, in `browser`, through the target's flow.
    async fn sign_in(&self, browser: &Browser) -> Step<Attempt> {
        sign_in_by(self.suite, self.by, browser, &self.canary).await
    }

    /// Signs the person in from a browser that has never signed in.
    pub(super) async fn sign_in_anew(&self) -> Step<Attempt> {
        let browser = self.suite.browser()?;
        self.sign_in(&browser).await
    }

    /// Sends Okta's request for `change` (the user set active or not, for
    /// the target's profile). An SP that refuses it is the check's failure:
    /// Okta's change must be taken.
    async fn set_active(&mut self, change: OktaChange) -> Step<Result<Reply, Outcome>> {
        let reply = self.scim.set_active(&self.user, &self.scim_id, change.active()).await?;
        if reply.ok() {
            return Ok(Ok(reply));
        }
        let oracle = "not asked: the SP refused Okta's request";
        Ok(Err(self.fail(
            format!("the SP refused Okta's {} of {} ({})", change.name(), self.canary.email, reply.status),
            oracle,
        )))
    }

    /// The user as the SCIM server reads them now: the status, and whether
    /// `active` is true, false or neither.
    pub(super) async fn read_back(&mut self) -> Step<(u16, Option<bool>)> {
        let read = self.scim.read_user(&self.scim_id).await?;
        let active = is_true(read.json.as_ref().and_then(|body| member(body, "active")));
        Ok((read.status, active))
    }

    /// The ids Okta's lookup by the person's userName finds.
    async fn looked_up(&mut self) -> Step<Vec<String>> {
        let lookup = self.scim.send(&requests::find_user(&self.user.user_name)).await?;
        Ok(lookup.resource_ids())
    }

    /// What is wrong with the account after Okta made it inactive, as SCIM
    /// reads it now: it must read 200 with `active: false`, and Okta's
    /// lookup by userName must find that one user, so that Okta's later
    /// reactivation or reassignment links to it rather than making another.
    async fn inactive_account_problems(&mut self) -> Step<Vec<String>> {
        let (status, active) = self.read_back().await?;
        let found = self.looked_up().await?;
        let mut problems = Vec::new();
        match (status, active) {
            (200, Some(false)) => {}
            (200, Some(true)) => problems.push(format!("the user {} reads active again", self.scim_id)),
            (200, None) => problems.push(format!("the user {} reads without an active flag", self.scim_id)),
            (status, _) => {
                problems.push(format!("the user {} reads {status}: the account Okta deactivated is gone", self.scim_id))
            }
        }
        if found != [self.scim_id.clone()] {
            problems.push(format!(
                "Okta's lookup of {} finds {found:?}, not the one deactivated user {}",
                self.user.user_name, self.scim_id
            ));
        }
        Ok(problems)
    }

    /// What is wrong after Okta's `change` made the account active again
    /// and the person signed in (`attempt`): the sign-in must reach the
    /// person, and the same account where the session shows the account's
    /// id (its SCIM id); SCIM must read that account active, and Okta's
    /// lookup find only it.
    async fn restored_account_problems(&mut self, attempt: &Attempt, change: OktaChange) -> Step<Vec<String>> {
        let (status, active) = self.read_back().await?;
        let found = self.looked_up().await?;
        let what = change.name();
        let mut problems = Vec::new();
        if !attempt.seen.is(&self.canary.email) {
            problems.push(format!(
                "a {} sign-in after the {what} gave {} (the SP answered {})",
                self.by.name(),
                attempt.seen.describe(),
                attempt.answered()
            ));
        }
        if self.session_shows_the_account()
            && attempt.seen.is(&self.canary.email)
            && !attempt.seen.body.contains(&self.scim_id)
        {
            problems.push(format!(
                "the session after the {what} is not the account {}'s, which the session before showed",
                self.scim_id
            ));
        }
        if (status, active) != (200, Some(true)) {
            problems.push(format!("the user {} reads {status} with active {active:?}", self.scim_id));
        }
        if found != [self.scim_id.clone()] {
            problems.push(format!(
                "Okta's lookup of {} finds {found:?}, not the one user {} after the {what}",
                self.user.user_name, self.scim_id
            ));
        }
        Ok(problems)
    }

    /// Whether the session of the positive control showed the account's id
    /// (the SCIM id), so later sessions can be told to be the same account.
    fn session_shows_the_account(&self) -> bool {
        self.control_session.contains(&self.scim_id)
    }

    fn evidence(&self, oracle: &str) -> Option<Evidence> {
        Some(Evidence::Scim(ScimEvidence { exchanges: self.scim.exchanges.clone(), oracle: oracle.to_owned() }))
    }

    pub(super) fn fail(&self, reason: impl Into<String>, oracle: &str) -> Outcome {
        Outcome::fail(reason, self.evidence(oracle))
    }

    /// A sign-in of the deactivated person must give no session of any
    /// kind.
    async fn judge_refused(&self, attempt: &Attempt, circumstance: &str) -> Step<Outcome> {
        Ok(match self.refusal(attempt, circumstance).await? {
            Ok(passed) => Outcome::pass(passed),
            Err(failed) => failed,
        })
    }

    /// As [`Person::judge_refused`], for a check that goes on after the
    /// refusal: `Ok` is what passed, `Err` the failure.
    async fn refusal(&self, attempt: &Attempt, circumstance: &str) -> Step<Result<String, Outcome>> {
        let (any_session, held) = self.suite.judge_any_session(&attempt.seen).await?;
        if any_session {
            return Ok(Err(self.fail(
                format!(
                    "a {} sign-in of {} {circumstance} gave {held} (the SP answered {})",
                    self.by.name(),
                    self.canary.email,
                    attempt.answered()
                ),
                &held,
            )));
        }
        Ok(Ok(format!(
            "the {} sign-in {circumstance} was refused (the SP answered {}) and gave no session",
            self.by.name(),
            attempt.answered()
        )))
    }
}

/// Signs `user` in by `by`, in `browser`, through the target's flow (the
/// login hint is `user.email`), and asks the oracle what that gave.
pub(super) async fn sign_in_by(suite: &Suite, by: SignInBy, browser: &Browser, user: &Canary) -> Step<Attempt> {
    let answer = match by {
        SignInBy::Saml => SamlDriver::new(suite)?.sign_in_capture(browser, user).await?.1,
        SignInBy::Oidc => {
            let driver = OidcDriver::new(suite)?;
            let mut redirected = driver.start(browser, user).await?;
            driver.finish(browser, &mut redirected).await?
        }
    };
    let seen = suite.oracle(browser).await?;
    Ok(Attempt { answer, seen })
}

async fn refused_after_deactivation(suite: &Suite, by: SignInBy) -> Step<Outcome> {
    if let Some(why) = cannot_sign_in_by(suite, by) {
        return Ok(Outcome::skip(why));
    }
    let label = if by == SignInBy::Saml { "saml" } else { "oidc" };
    let mut person = Person::signed_in(suite, by, label).await?;
    if let Err(failed) = person.set_active(OktaChange::Deactivation).await? {
        return Ok(failed);
    }
    let attempt = person.sign_in_anew().await?;
    person.judge_refused(&attempt, "after Okta's deactivation").await
}

async fn session_ends(suite: &Suite) -> Step<Outcome> {
    let by = match any_sign_in(suite) {
        Ok(by) => by,
        Err(why) => return Ok(Outcome::skip(why)),
    };
    let mut person = Person::signed_in(suite, by, "session").await?;
    if let Err(failed) = person.set_active(OktaChange::Deactivation).await? {
        return Ok(failed);
    }
    let seen = suite.oracle(&person.control).await?;
    let (any_session, held) = suite.judge_any_session(&seen).await?;
    if any_session {
        return Ok(person.fail(
            format!(
                "the {} session {} had before Okta's deactivation still shows {held} after it",
                by.name(),
                person.canary.email
            ),
            &held,
        ));
    }
    Ok(Outcome::pass(format!("the {} session ended with the deactivation ({})", by.name(), seen.describe())))
}

async fn jit_never_revives(suite: &Suite) -> Step<Outcome> {
    let by = match any_sign_in(suite) {
        Ok(by) => by,
        Err(why) => return Ok(Outcome::skip(why)),
    };
    let mut person = Person::signed_in(suite, by, "revive").await?;
    if let Err(failed) = person.set_active(OktaChange::Deactivation).await? {
        return Ok(failed);
    }
    let attempt = person.sign_in_anew().await?;
    let problems = person.inactive_account_problems().await?;
    let oracle = attempt.seen.describe();
    if problems.is_empty() {
        return Ok(Outcome::pass(format!(
            "after a {} sign-in after the deactivation (the SP answered {}), SCIM still reads the one user, inactive",
            by.name(),
            attempt.answered()
        )));
    }
    Ok(person.fail(
        format!(
            "after a {} sign-in of the deactivated user (the SP answered {}, the oracle saw {oracle}): {}",
            by.name(),
            attempt.answered(),
            problems.join("; ")
        ),
        &oracle,
    ))
}

/// Puts the org user in a group of `name` too, so the groups Okta's SAML
/// attribute or OIDC claim carries agree with the pushed membership.
pub(super) fn join_org_group(suite: &Suite, name: &str, email: &str) -> Step<()> {
    join_org_group_all(suite, name, &[email])
}

/// As [`join_org_group`], for several org users in one change to the org
/// (not one API call each), as a check that needs a large group does.
pub(super) fn join_org_group_all(suite: &Suite, name: &str, emails: &[&str]) -> Step<()> {
    let now = suite.idp.now();
    suite.idp.change_org(|org| {
        let mut changes = Vec::new();
        let joined = (|| {
            if org.find_group(name).is_none() {
                let group = serde_json::from_value(serde_json::json!({"profile": {"name": name}}))
                    .map_err(|e| StepError(e.to_string()))?;
                let made = mock_idp::admin::create_group(org, group, now, suite.idp.ids())
                    .map_err(|e| StepError(format!("cannot add the group {name} to the org: {e}")))?;
                changes.extend(made.changes);
            }
            let group_id = org.find_group(name).map(|g| g.id.to_string()).unwrap_or_default();
            for email in emails {
                let added = mock_idp::admin::add_member(org, &group_id, email, now)
                    .map_err(|e| StepError(format!("cannot add {email} to the org group {name}: {e}")))?;
                changes.extend(added.changes);
            }
            Ok::<_, StepError>(())
        })();
        Ok::<_, StepError>((joined, changes))
    })?
}

async fn group_member_refused(suite: &Suite) -> Step<Outcome> {
    let by = match any_sign_in(suite) {
        Ok(by) => by,
        Err(why) => return Ok(Outcome::skip(why)),
    };
    let mut person = Person::signed_in(suite, by, "member").await?;
    let group = person.scim.pushed_group("deactivated-member").await?;
    let (user, scim_id) = (person.user.clone(), person.scim_id.clone());
    person.scim.add_members(&group, &[(&user, &scim_id)]).await?;
    join_org_group(suite, &group.0, &person.canary.email)?;
    if let Err(failed) = person.set_active(OktaChange::Deactivation).await? {
        return Ok(failed);
    }
    let attempt = person.sign_in_anew().await?;
    person
        .judge_refused(&attempt, &format!("after Okta's deactivation, still a member of the pushed group {}", group.0))
        .await
}

async fn reactivation_restores(suite: &Suite) -> Step<Outcome> {
    let by = match any_sign_in(suite) {
        Ok(by) => by,
        Err(why) => return Ok(Outcome::skip(why)),
    };
    let mut person = Person::signed_in(suite, by, "reactivate").await?;
    if let Err(failed) = person.set_active(OktaChange::Deactivation).await? {
        return Ok(failed);
    }
    // A sign-in while deactivated, as a user locked out would try: it must
    // not leave anything behind that the reactivation then trips over.
    let refused = person.sign_in_anew().await?;
    if let Err(failed) = person.set_active(OktaChange::Reactivation).await? {
        return Ok(failed);
    }
    let attempt = person.sign_in_anew().await?;
    let problems = person.restored_account_problems(&attempt, OktaChange::Reactivation).await?;
    if problems.is_empty() {
        let seen_as = if person.session_shows_the_account() { ", which the session shows" } else { "" };
        return Ok(Outcome::pass(format!(
            "refused while deactivated ({}), then signed in to the same account {}{seen_as} after the reactivation",
            refused.answered(),
            person.scim_id
        )));
    }
    Ok(person.fail(problems.join("; "), &attempt.seen.describe()))
}

async fn refresh_refused(suite: &Suite) -> Step<Outcome> {
    if let Some(why) = cannot_sign_in_by(suite, SignInBy::Oidc) {
        return Ok(Outcome::skip(why));
    }
    let Some(refresh_url) = suite.target.oidc.as_ref().and_then(|o| o.refresh_url.clone()) else {
        return Ok(Outcome::skip(
            "the target declares no oidc.refresh_url, so the suite cannot make the relying party refresh its tokens",
        ));
    };
    let mut person = Person::signed_in(suite, SignInBy::Oidc, "refresh").await?;
    if let Err(failed) = person.set_active(OktaChange::Deactivation).await? {
        return Ok(failed);
    }
    let answer = person.control.post_form(&refresh_url, &[]).await?;
    let seen = suite.oracle(&person.control).await?;
    let (_, held) = suite.judge_any_session(&seen).await?;
    if (200..300).contains(&answer.status) {
        return Ok(person.fail(
            format!(
                "the relying party redeemed the refresh token of {} after Okta deactivated them (oidc.refresh_url answered {}; the session is {held})",
                person.canary.email, answer.status
            ),
            &held,
        ));
    }
    let code = answer.error_code.as_deref().map(|c| format!(" {c}")).unwrap_or_default();
    Ok(Outcome::pass(format!("the refresh was refused (oidc.refresh_url answered {}{code})", answer.status)))
}

/// Okta's suspension, then its unsuspension, for each protocol the target
/// signs in by: the sign-in while suspended gets no session, and the one
/// after the unsuspension reaches the same account. Okta suspends a user
/// for a while (a leave, an investigation) and keeps them assigned, so an
/// SP that deletes or re-creates the account here loses their data.
async fn suspension_refused(suite: &Suite) -> Step<Outcome> {
    let protocols = match every_sign_in(suite) {
        Ok(protocols) => protocols,
        Err(why) => return Ok(Outcome::skip(why)),
    };
    let mut passed = Vec::new();
    for by in protocols {
        let label = format!("suspend-{}", by.name().to_ascii_lowercase());
        let mut person = Person::signed_in(suite, by, &label).await?;
        if let Err(failed) = person.set_active(OktaChange::Suspension).await? {
            return Ok(failed);
        }
        let suspended = person.sign_in_anew().await?;
        let refused = match person.refusal(&suspended, "after Okta's suspension").await? {
            Ok(refused) => refused,
            Err(failed) => return Ok(failed),
        };
        if let Err(failed) = person.set_active(OktaChange::Unsuspension).await? {
            return Ok(failed);
        }
        let attempt = person.sign_in_anew().await?;
        let problems = person.restored_account_problems(&attempt, OktaChange::Unsuspension).await?;
        if !problems.is_empty() {
            return Ok(person.fail(
                format!("{refused}, but after Okta's unsuspension: {}", problems.join("; ")),
                &attempt.seen.describe(),
            ));
        }
        let seen_as = if person.session_shows_the_account() { ", which the session shows" } else { "" };
        passed.push(format!(
            "{refused}; after the unsuspension the {} sign-in reached the same account {}{seen_as}",
            by.name(),
            person.scim_id
        ));
    }
    Ok(Outcome::pass(passed.join("; ")))
}

/// Okta's unassignment of the user from the app, for each protocol the
/// target signs in by. The org user stays active and assigned at the mock,
/// so the suite still signs them in, as an Okta session from before the
/// unassignment or a group assignment racing it would: the SP must refuse
/// the inactive account, and its just-in-time provisioning must not make
/// them a new one.
async fn unassignment_refused(suite: &Suite) -> Step<Outcome> {
    let protocols = match every_sign_in(suite) {
        Ok(protocols) => protocols,
        Err(why) => return Ok(Outcome::skip(why)),
    };
    let mut passed = Vec::new();
    for by in protocols {
        let label = format!("unassign-{}", by.name().to_ascii_lowercase());
        let mut person = Person::signed_in(suite, by, &label).await?;
        if let Err(failed) = person.set_active(OktaChange::Unassignment).await? {
            return Ok(failed);
        }
        let attempt = person.sign_in_anew().await?;
        let refused = match person.refusal(&attempt, "after Okta unassigned them from the app").await? {
            Ok(refused) => refused,
            Err(failed) => return Ok(failed),
        };
        let problems = person.inactive_account_problems().await?;
        if !problems.is_empty() {
            return Ok(
                person.fail(format!("{refused}, but after it: {}", problems.join("; ")), &attempt.seen.describe())
            );
        }
        passed.push(format!("{refused}; SCIM still reads the one user {}, inactive", person.scim_id));
    }
    Ok(Outcome::pass(passed.join("; ")))
}

/// Okta's deactivation, then Okta's reads: `GET /Users/{id}` and its lookup
/// by userName, with no sign-in in between, so what is judged is the
/// deactivation itself. Okta never deletes a user at the SP; its
/// reactivation or reassignment later depends on finding this one.
async fn stays_readable(suite: &Suite) -> Step<Outcome> {
    let by = match any_sign_in(suite) {
        Ok(by) => by,
        Err(why) => return Ok(Outcome::skip(why)),
    };
    let mut person = Person::signed_in(suite, by, "readable").await?;
    if let Err(failed) = person.set_active(OktaChange::Deactivation).await? {
        return Ok(failed);
    }
    let problems = person.inactive_account_problems().await?;
    let oracle = "not asked: the check reads the user by SCIM only";
    if !problems.is_empty() {
        return Ok(person.fail(format!("after Okta's deactivation: {}", problems.join("; ")), oracle));
    }
    Ok(Outcome::pass(format!(
        "after Okta's deactivation, GET /Users/{} reads the user with active false, and Okta's lookup of {} finds exactly them",
        person.scim_id, person.user.user_name
    )))
}
