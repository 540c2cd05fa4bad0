//! Carries out `cross.lockout_safety.scim_waits_for_verified_sso`, and
//! signs an admin in for a target whose SP takes SCIM only once sign-in
//! through the IdP is verified (`scim.requires_verified_sso`), before the
//! other SCIM checks run.
//!
//! The MoovingON guide warns "Don't try to enable SCIM before you verify
//! that IdP is working. You can potentially be locked outside of the app",
//! and verifies the IdP by an admin's sign-in from the Okta dashboard
//! (IdP-initiated) to the account the vendor made for them. An SP that
//! holds to it refuses Okta's SCIM requests until then: SCIM that writes
//! accounts before sign-in is shown to work can overwrite or deactivate the
//! accounts of a set-up that never worked. The check meets the SP before any
//! admin of this run has signed in (the runner runs it first of all): Okta's
//! create must be refused (not with 401, which would be the target's wrong
//! credential) and make no user; an admin (a person of the mock org in the
//! target's admin group, whose account the `create_user` hook makes where
//! the SP has no JIT) signs in through the IdP; then the same create must be
//! taken, and Okta's lookup must find only the user it made.

use mock_idp::scim::requests;

use super::super::oidc::OidcDriver;
use super::super::saml::SamlDriver;
use super::super::scim::{CanaryUser, Session, total_results};
use super::super::{Canary, Evidence, Outcome, ScimEvidence, Step, StepError, Suite, excerpt};
use super::deactivation::{Attempt, SignInBy, any_sign_in, join_org_group, sign_in_by};

/// Signs a new admin in through the IdP: a person of the mock org, in the
/// target's admin group where it names one (so Okta's groups attribute, and
/// an admin flag set on that group's assignment, make them the SP's admin),
/// with an account made by the `create_user` hook where the SP has no JIT.
/// By SAML the sign-in is IdP-initiated, from the dashboard, where the
/// target takes unsolicited responses. Returns who signed in and how, or
/// why the sign-in failed.
pub(in crate::runner) async fn sign_in_an_admin(suite: &Suite, label: &str) -> Step<Result<String, String>> {
    let by = any_sign_in(suite).map_err(StepError)?;
    let canary = match by {
        SignInBy::Saml => SamlDriver::new(suite)?.canary(label, None)?,
        SignInBy::Oidc => OidcDriver::new(suite)?.canary(label, None)?,
    };
    if let Some(group) = &suite.target.accounts.admin_group {
        join_org_group(suite, group, &canary.email)?;
    }
    suite.ensure_account(&canary).await?;
    let (attempt, how) = admin_sign_in(suite, by, &canary).await?;
    let group = suite.target.accounts.admin_group.as_deref().map(|g| format!(", a member of {g},")).unwrap_or_default();
    if attempt.seen.is(&canary.email) {
        Ok(Ok(format!("{}{group} signed in {how}", canary.email)))
    } else {
        Ok(Err(format!(
            "{}{group} could not sign in {how}: the SP answered {} ({}) and the oracle saw {}",
            canary.email,
            attempt.answered(),
            excerpt(&attempt.answer.body, 160),
            attempt.seen.describe()
        )))
    }
}

/// The admin's sign-in: IdP-initiated from the dashboard by SAML where the
/// target takes it, else the target's own flow.
async fn admin_sign_in(suite: &Suite, by: SignInBy, canary: &Canary) -> Step<(Attempt, &'static str)> {
    let browser = suite.browser()?;
    let idp_initiated = by == SignInBy::Saml && suite.target.saml.as_ref().is_some_and(|s| s.idp_initiated);
    if idp_initiated {
        let (_, answer) = SamlDriver::new(suite)?.idp_initiated_capture(&browser, canary, None).await?;
        let seen = suite.oracle(&browser).await?;
        return Ok((Attempt { answer, seen }, "by SAML, IdP-initiated from the Okta dashboard"));
    }
    let how = if by == SignInBy::Saml { "by SAML" } else { "by OIDC" };
    Ok((sign_in_by(suite, by, &browser, canary).await?, how))
}

pub(super) async fn scim_waits_for_verified_sso(suite: &Suite) -> Step<Outcome> {
    if !suite.target.scim.as_ref().is_some_and(|s| s.requires_verified_sso) {
        return Ok(Outcome::skip(
            "the target does not declare scim.requires_verified_sso, so its SP takes SCIM before sign-in through the IdP is verified by design",
        ));
    }
    if let Err(why) = any_sign_in(suite) {
        return Ok(Outcome::skip(why));
    }
    let mut scim = Session::new(suite)?;
    let domain = suite.idp.read_org(|org| org.email_domain.clone());
    let email = format!("scim-before-sso-{}@{}", tag(), suite.canary_domain(&domain));
    let okta_id = mock_idp::ids::UserId::parse(&suite.idp.ids().okta_id("00u"))
        .map_err(|e| StepError(format!("cannot make an Okta user id: {e}")))?;
    let user = CanaryUser::of_org_user(okta_id, &email, "Canary", "BeforeSso");
    let mut steps = Vec::new();

    // Before any admin has signed in through the IdP: Okta's create.
    let early = scim.send(&requests::create_user(&user.view, None)).await?;
    if early.status == 401 {
        return Err(StepError(
            "positive control failed: Okta's create before SSO was verified answered 401, so the target's SCIM credential is not the SP's"
                .into(),
        ));
    }
    let mut problems = Vec::new();
    if early.ok() {
        problems.push(format!(
            "Okta's create of {email} was taken ({}) before any admin had signed in through the IdP",
            early.status
        ));
    } else {
        let detail = early.text("/detail").map(|d| format!(": {}", excerpt(d, 200))).unwrap_or_default();
        steps.push(format!("before SSO was verified, Okta's create was refused ({}{detail})", early.status));
    }

    // The guide's verification: an admin signs in through the IdP.
    match sign_in_an_admin(suite, "scim-verify-sso").await? {
        Ok(signed_in) => steps.push(signed_in),
        Err(why) => {
            return Err(StepError(format!("positive control failed: {why} (so far: {})", steps.join("; "))));
        }
    }

    // Afterwards: Okta's lookup, then its create, as at an assignment.
    let lookup = scim.send(&requests::find_user(&user.user_name)).await?;
    let found = if lookup.status == 404 { Some(0) } else { total_results(&lookup) };
    match (lookup.ok() || lookup.status == 404, found) {
        (true, Some(0)) => steps.push("Okta's lookup found no user left by the refused create".into()),
        (true, Some(count)) if !early.ok() => problems.push(format!(
            "the refused create made a user all the same: Okta's lookup of {email} found {count} after SSO was verified"
        )),
        (true, _) => {}
        (false, _) => problems.push(format!(
            "after an admin signed in through the IdP, Okta's lookup was still refused ({})",
            lookup.status
        )),
    }
    if !early.ok() {
        let created = scim.send(&requests::create_user(&user.view, None)).await?;
        if created.status == 201 {
            steps.push("after SSO was verified, Okta's create was taken (201)".into());
        } else {
            let detail = created.text("/detail").map(|d| format!(": {}", excerpt(d, 200))).unwrap_or_default();
            problems.push(format!(
                "after an admin signed in through the IdP, Okta's create was still refused ({}{detail})",
                created.status
            ));
        }
    }
    let summary = steps.join("; ");
    if problems.is_empty() {
        return Ok(Outcome::pass(format!("SCIM waited for sign-in through the IdP: {summary}")));
    }
    let evidence = Evidence::Scim(ScimEvidence { exchanges: scim.exchanges, oracle: summary });
    Ok(Outcome::fail(problems.join("; "), Some(evidence)))
}

/// A random tag, so each run's user is new.
fn tag() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..10).map(|_| char::from(b'a' + rng.random_range(0..26u8))).collect()
}
