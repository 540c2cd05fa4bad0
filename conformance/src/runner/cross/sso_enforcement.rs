//! Carries out `cross.lockout_safety.sso_enforcement_needs_admin_sign_in`:
//! an SP must not let SSO be required before an admin of the tenant has
//! signed in through the IdP, since until then nothing shows that sign-in
//! through the IdP works, and requiring it would lock every admin out of a
//! broken set-up (attacks.md K-14).
//!
//! Whether an admin has signed in is history the suite did not make: an
//! earlier run against a persistent SP, or a check of this run. So the
//! check reads the target's `sso_readiness` hook first and skips, saying
//! so, where an admin has signed in already; it never judges a refusal it
//! cannot expect. The runner runs it before every other check, so no check
//! of the same run has signed an admin in yet. Then: asking the SP to
//! require SSO must be refused; a person of the mock org in the target's
//! admin group is provisioned and signs in through the IdP; the readiness
//! hook must now say so; asking again must be taken; and the admin must
//! still sign in by SSO with SSO required. SSO is made optional again at
//! the end whatever happened.

use serde_json::Value;

use super::super::oidc::OidcDriver;
use super::super::saml::SamlDriver;
use super::super::scim::ScimExchange;
use super::super::{Evidence, HookAnswer, Outcome, ScimEvidence, Step, StepError, Suite, excerpt};
use super::break_glass::{Log, one_line, sso_sign_in};
use super::deactivation::{Person, SignInBy, any_sign_in, join_org_group};
use super::lockout_safety::pushed_admin_group;
use crate::target::{Hook, ReadinessHook};

/// How the SP answered a request to require SSO or make it optional: taken
/// (2xx) or refused (4xx, or a redirect), with the status and the answer
/// on one line. A 5xx is no answer to judge, and an error.
enum Asked {
    Taken(u16),
    Refused(u16, String),
}

/// Asks the SP, through the target's `set_sso_required` hook, to require
/// SSO (`true`) or make it optional (`false`), logging the request and the
/// answer.
async fn ask_sso_required(suite: &Suite, hook: &Hook, value: bool, when: &str, log: &mut Log) -> Step<Asked> {
    let value = if value { "true" } else { "false" };
    let HookAnswer { status, error_code, body } =
        suite.hook_answer("set_sso_required", hook, &[("{value}", value)]).await.map_err(|StepError(why)| {
            StepError(format!("{when}, asking the SP to set SSO required to {value} failed: {why}"))
        })?;
    log.exchanges.push(ScimExchange {
        method: hook.method.to_string(),
        url: hook.url.clone(),
        request_body: hook.body.as_ref().map(|body| body.replace("{value}", value)),
        status: status.as_u16(),
        response_body: excerpt(&body.text, 2000),
    });
    // The SP's error code says why where it gives one; else the body does.
    let answer = error_code.unwrap_or_else(|| one_line(&body.text, 160));
    if status.is_server_error() {
        return Err(StepError(format!(
            "{when}, the set_sso_required hook ({value}) answered {status}, so the SP's answer cannot be judged: {answer}"
        )));
    }
    let asked = if status.is_success() {
        log.step(format!("{when}, the SP took set_sso_required {value} ({})", status.as_u16()));
        Asked::Taken(status.as_u16())
    } else {
        log.step(format!("{when}, the SP refused set_sso_required {value} ({}: {answer})", status.as_u16()));
        Asked::Refused(status.as_u16(), answer)
    };
    Ok(asked)
}

/// Reads the target's `sso_readiness` hook: whether the SP says an admin
/// has signed in through the IdP. An answer that is not 2xx, or that holds
/// no `true` or `false` at the pointer, is an error: the check's positive
/// control is that the SP can say.
async fn admin_signed_in(suite: &Suite, readiness: &ReadinessHook, when: &str, log: &mut Log) -> Step<bool> {
    let HookAnswer { status, body, .. } = suite.hook_answer("sso_readiness", &readiness.hook, &[]).await?;
    log.exchanges.push(ScimExchange {
        method: readiness.hook.method.to_string(),
        url: readiness.hook.url.clone(),
        request_body: None,
        status: status.as_u16(),
        response_body: excerpt(&body.text, 2000),
    });
    if !status.is_success() {
        return Err(StepError(format!(
            "positive control failed: {when}, the sso_readiness hook answered {status}: {}",
            one_line(&body.text, 160)
        )));
    }
    let text = body.whole("the sso_readiness hook's answer")?;
    let said = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|json| json.pointer(&readiness.pointer).and_then(Value::as_bool));
    match said {
        Some(signed_in) => {
            log.step(format!("{when}, the sso_readiness hook read {signed_in} at {}", readiness.pointer));
            Ok(signed_in)
        }
        None => Err(StepError(format!(
            "positive control failed: {when}, the sso_readiness hook's answer holds no true or false at {}: {}",
            readiness.pointer,
            one_line(&text, 160)
        ))),
    }
}

pub(super) async fn sso_enforcement_needs_admin_sign_in(suite: &Suite) -> Step<Outcome> {
    let Some(require) = suite.target.set_sso_required.clone() else {
        return Ok(Outcome::skip(
            "the target declares no hooks.set_sso_required, so the suite cannot ask the SP to require SSO",
        ));
    };
    let Some(readiness) = suite.target.sso_readiness.clone() else {
        return Ok(Outcome::skip(
            "the target declares no hooks.sso_readiness, so the suite cannot tell whether an admin has already signed in through the IdP (in an earlier run, or before this one), after which the SP rightly lets SSO be required",
        ));
    };
    let Some(admin_group) = suite.target.accounts.admin_group.clone() else {
        return Ok(Outcome::skip(
            "the target declares no accounts.admin_group, so the suite cannot make anyone the SP's admin",
        ));
    };
    let by = match any_sign_in(suite) {
        Ok(by) => by,
        Err(why) => return Ok(Outcome::skip(why)),
    };
    let mut log = Log { exchanges: Vec::new(), steps: Vec::new() };
    if admin_signed_in(suite, &readiness, "before the check asked anything", &mut log).await? {
        return Ok(Outcome::skip(format!(
            "an admin has already signed in to this SP through the IdP (the sso_readiness hook reads true at {}), in an earlier run against the same SP or before this check, so the SP rightly lets SSO be required and its refusal cannot be judged; run the check against a tenant no admin has signed in to yet (for the reference SP, a new database)",
            readiness.pointer
        )));
    }
    let judged = judge(suite, &require, &readiness, &admin_group, by, &mut log).await;
    // SSO goes back to optional whatever happened, so the checks after this
    // one (and the customer's admins) are not held to it.
    let restored = ask_sso_required(suite, &require, false, "at the end", &mut log).await;
    let steps = log.steps.join("; ");
    let restore_problem = match restored {
        Ok(Asked::Taken(_)) => None,
        Ok(Asked::Refused(status, answer)) => {
            Some(format!("could not make SSO optional again: the SP answered {status}: {answer}"))
        }
        Err(StepError(why)) => Some(format!("could not make SSO optional again: {why}")),
    };
    let problems = match (judged, restore_problem) {
        (Err(StepError(why)), _) => return Err(StepError(format!("{why} (so far: {steps})"))),
        (Ok(_), Some(why)) => return Err(StepError(format!("{why} (so far: {steps})"))),
        (Ok(problems), None) => problems,
    };
    if problems.is_empty() {
        return Ok(Outcome::pass(format!(
            "the SP refused to require SSO before any admin had signed in through the IdP, and took it once a member of {admin_group} had signed in by {}; the admin still signed in by SSO with SSO required: {steps}",
            by.name()
        )));
    }
    let evidence = Evidence::Scim(ScimEvidence { exchanges: log.exchanges, oracle: steps });
    Ok(Outcome::fail(problems.join("; "), Some(evidence)))
}

/// The check between the first readiness read and the restore: returns
/// what went wrong. A refusal to require SSO while no admin has signed in
/// ends it early, since nothing after it could be judged.
async fn judge(
    suite: &Suite,
    require: &Hook,
    readiness: &ReadinessHook,
    admin_group: &str,
    by: SignInBy,
    log: &mut Log,
) -> Step<Vec<String>> {
    // The refusal half: no admin has signed in through the IdP yet.
    let early = ask_sso_required(suite, require, true, "before any admin signed in through the IdP", log).await?;
    if let Asked::Taken(status) = early {
        return Ok(vec![format!(
            "the SP took the request to require SSO ({status}) while no admin had signed in through the IdP (the sso_readiness hook read false), so a broken IdP set-up would lock every admin out"
        )]);
    }
    // The positive control of the second half: a person in the admin group
    // at the mock org, so the SAML groups attribute or the OIDC groups claim
    // names it, is provisioned and signs in through the IdP.
    let canary = match by {
        SignInBy::Saml => SamlDriver::new(suite)?.canary("sso-enforcement", None)?,
        SignInBy::Oidc => OidcDriver::new(suite)?.canary("sso-enforcement", None)?,
    };
    join_org_group(suite, admin_group, &canary.email)?;
    let mut person = Person::of_canary(suite, by, canary).await?;
    log.step(format!(
        "{}, a member of {admin_group} at the IdP, was provisioned and signed in by {}",
        person.canary.email,
        by.name()
    ));
    let mut ready = admin_signed_in(suite, readiness, "after the admin signed in", log).await?;
    if !ready {
        // An SP that learns its admins from Okta's push alone: Okta pushes
        // the admin group with the person in it, and they sign in again.
        // (Only then, since a pushed admin left active would make
        // cross.lockout_safety.last_admin_kept find a second admin.)
        let group_id = pushed_admin_group(&mut person.scim, admin_group).await?;
        let (user, scim_id) = (person.user.clone(), person.scim_id.clone());
        person.scim.add_members(&(admin_group.to_owned(), group_id), &[(&user, &scim_id)]).await?;
        log.step(format!("Okta pushed {admin_group} with {} in it", person.canary.email));
        if !sso_sign_in(&person, "after Okta's push of the admin group", log).await {
            return Err(StepError(format!(
                "positive control failed: {} could not sign in by {} after Okta's push of {admin_group}",
                person.canary.email,
                by.name()
            )));
        }
        ready = admin_signed_in(suite, readiness, "after the pushed admin signed in", log).await?;
    }
    // The SCIM exchanges go in the evidence where they happened.
    let provisioning = std::mem::take(&mut person.scim.exchanges);
    log.exchanges.extend(provisioning);
    let mut problems = Vec::new();
    if !ready {
        problems.push(format!(
            "after {}, a member of {admin_group}, signed in by {}, the sso_readiness hook still read false at {}",
            person.canary.email,
            by.name(),
            readiness.pointer
        ));
    }
    let later = ask_sso_required(suite, require, true, "after the admin signed in through the IdP", log).await?;
    if let Asked::Refused(status, answer) = later {
        problems.push(format!(
            "the SP refused to require SSO ({status}: {answer}) after {}, a member of {admin_group}, had signed in by {}",
            person.canary.email,
            by.name()
        ));
        return Ok(problems);
    }
    if !sso_sign_in(&person, "with SSO required", log).await {
        problems.push(format!(
            "with SSO required, the admin {} could no longer sign in by {}",
            person.canary.email,
            by.name()
        ));
    }
    Ok(problems)
}
