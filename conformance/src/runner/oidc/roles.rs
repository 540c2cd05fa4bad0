//! `oidc.account.role_from_app_profile`: the app role Okta sends as a claim
//! ("claims for this token include all user attributes on the app
//! profile", as the Appenate guide sets its OIDC app up) is the session's
//! role, and a role the Okta admin changes on the app profile is the
//! session's at the next sign-in. A relying party that takes the role only
//! when it creates the account keeps a demoted user's old rights.

use super::{OidcDriver, evidence_holding};
use crate::runner::{Canary, Outcome, Step, StepError};

/// The role a session shows and what is needed to judge it.
struct RoleSeen {
    role: Option<String>,
    oracle: String,
    evidence: Option<crate::runner::Evidence>,
}

impl OidcDriver<'_> {
    pub(super) async fn role_from_app_profile(&self) -> Step<Outcome> {
        let roles = &self.suite.target.accounts.roles;
        let pointer = self.suite.target.session.as_ref().and_then(|s| s.role_pointer.clone());
        let (Some(highest), Some(lowest), Some(pointer)) = (roles.last(), roles.first(), pointer) else {
            return Ok(Outcome::skip(
                "the target declares no accounts.roles and session.role_pointer, so the suite cannot tell which role a session has",
            ));
        };
        let sends_app_profile = self.suite.idp.read_org(|org| {
            org.find_app(&self.client_id).and_then(|app| app.oidc()).is_some_and(|oidc| oidc.app_profile_claims)
        });
        if !sends_app_profile {
            return Ok(Outcome::skip(format!(
                "the org's OIDC app {} does not send the app profile's attributes as claims (app_profile_claims), so it sends no role",
                self.client_id
            )));
        }
        let user = self.canary("role", None)?;
        self.suite.ensure_account(&user).await?;
        self.set_app_role(&user, highest)?;
        let first = self.sign_in_and_read_role(&user, &pointer).await?;
        if first.role.as_deref() != Some(highest.as_str()) {
            return Ok(Outcome::fail(
                format!(
                    "the app profile gives {} the role {highest}, but the session shows {} at {pointer}",
                    user.email,
                    describe(first.role.as_deref())
                ),
                first.evidence,
            ));
        }
        // The Okta admin changes the role on the app profile (Okta's
        // POST /api/v1/apps/{appId}/users/{userId} with the new profile).
        self.set_app_role(&user, lowest)?;
        let second = self.sign_in_and_read_role(&user, &pointer).await?;
        if second.role.as_deref() != Some(lowest.as_str()) {
            return Ok(Outcome::fail(
                format!(
                    "after the Okta admin changed {}'s app-profile role from {highest} to {lowest}, a new sign-in shows {} at {pointer} ({})",
                    user.email,
                    describe(second.role.as_deref()),
                    second.oracle
                ),
                second.evidence,
            ));
        }
        Ok(Outcome::pass(format!(
            "the session showed the app-profile role {highest}, and {lowest} at the sign-in after the Okta admin changed it"
        )))
    }

    /// Sets the canary's `role` on the target's app profile, as the Okta
    /// admin does in the app's assignment.
    fn set_app_role(&self, user: &Canary, role: &str) -> Step<()> {
        let now = self.suite.idp.now();
        let body = serde_json::from_value(serde_json::json!({"profile": {"role": role}}))
            .map_err(|e| StepError(e.to_string()))?;
        self.suite
            .idp
            .apply(|org| mock_idp::admin::assign_user(org, &self.client_id, Some(&user.email), body, now))
            .map_err(|e| StepError(format!("cannot set {}'s app-profile role to {role}: {e}", user.email)))?;
        Ok(())
    }

    /// Signs the canary in with a fresh browser and reads the role the
    /// session shows. A sign-in that gives no session for the canary is an
    /// error: there is then no role to judge.
    async fn sign_in_and_read_role(&self, user: &Canary, pointer: &str) -> Step<RoleSeen> {
        let browser = self.suite.browser()?;
        let mut redirected = self.start(&browser, user).await?;
        let answer = self.finish(&browser, &mut redirected).await?;
        let seen = self.suite.oracle(&browser).await?;
        if !seen.is(&user.email) {
            return Err(StepError(format!(
                "a sign-in of {} gave {} (the relying party answered {}), so there is no role to read",
                user.email,
                seen.describe(),
                answer.status
            )));
        }
        let role = serde_json::from_str::<serde_json::Value>(&seen.body)
            .ok()
            .and_then(|body| body.pointer(pointer).and_then(serde_json::Value::as_str).map(str::to_owned));
        let id_token = self.last_id_token(user);
        let evidence = evidence_holding(&redirected, &answer, seen.describe(), id_token);
        Ok(RoleSeen { role, oracle: seen.describe(), evidence })
    }
}

fn describe(role: Option<&str>) -> String {
    role.map_or_else(|| "no role".to_owned(), |role| format!("the role {role}"))
}
