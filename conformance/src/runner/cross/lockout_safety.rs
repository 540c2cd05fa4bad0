//! Carries out the lockout-safety checks. Each makes one person the way the
//! deactivation checks do (a canary of the mock org and the same user at
//! the SP's SCIM server, userName the email and externalId the Okta user
//! id), signs them in by SAML as the positive control, does what would lock
//! the person out at a careless SP, and then signs them in again from a new
//! browser and reads their SCIM user back.

use mock_idp::saml::faults::SamlFault;

use super::super::saml::SamlDriver;
use super::super::{Outcome, Step, StepError, Suite};
use super::deactivation::{Person, SignInBy};
use crate::catalogue::LockoutSafetyAction;

/// How many refused sign-ins the check sends: twice the usual password
/// lockout threshold of five, so an SP that counts them as failed
/// passwords has locked the account by the end.
const FAILED_SIGN_INS: usize = 10;

pub(super) async fn execute(suite: &Suite, action: LockoutSafetyAction) -> Step<Outcome> {
    match action {
        LockoutSafetyAction::FailedSsoNeverLocks => failed_sso_never_locks(suite).await,
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
