//! The refresh checks: after a canary signs in, the mock puts a fault into
//! the ID token of the next refresh grant (another `sub`, or another
//! issuer), and the canary's browser POSTs the target's `oidc.refresh_url`,
//! which makes the relying party redeem its refresh token now.
//!
//! OpenID Connect Core 12.2 requires a refreshed ID token to name the
//! original iss, sub and aud. The verdict:
//! - the fault is still armed afterwards: the relying party made no refresh
//!   grant, so there is nothing to judge (an error, not a verdict);
//! - a session for anyone but the canary: the new identity took over (fail);
//! - the hook answered 2xx: the relying party took the refreshed tokens,
//!   the only ones the mock issued for that grant, all carrying the fault
//!   (fail). With the same sub (`iss_changed`) the session oracle cannot
//!   tell acceptance from refusal, so this answer is what the verdict rests
//!   on; the target's contract is that the hook answers 2xx only when the
//!   refresh succeeded;
//! - an error answer, the session ended or still the canary's: refused (pass).

use mock_idp::oidc::faults::OidcFault;

use super::super::{Canary, Outcome, Step, StepError, excerpt};
use super::{OidcDriver, Redirected, evidence_holding};

impl OidcDriver<'_> {
    pub(super) async fn refresh_changes_identity(
        &self,
        fault: OidcFault,
        server: &mock_idp::oidc::ServerRef,
    ) -> Step<Outcome> {
        let Some(refresh_url) = self.suite.target.oidc.as_ref().and_then(|o| o.refresh_url.clone()) else {
            return Ok(Outcome::skip(
                "the target declares no oidc.refresh_url, so the suite cannot make the relying party refresh its tokens",
            ));
        };
        let changed = if fault == OidcFault::RefreshTokenChangesSub { "sub" } else { "issuer" };
        let user: &Canary = &self.canary("refreshed", None)?;
        self.suite.ensure_account(user).await?;
        let browser = self.suite.browser()?;
        let mut redirected: Redirected = self.start(&browser, user).await?;
        let signed_in = self.finish(&browser, &mut redirected).await?;
        let before = self.suite.oracle(&browser).await?;
        if !before.is(&user.email) {
            return Err(StepError(format!(
                "positive control failed: the sign-in before the refresh gave {} (the relying party answered {})",
                before.describe(),
                signed_in.status
            )));
        }
        let armed = match self.arm(fault, user, server)? {
            Ok(armed) => armed,
            Err(not_applicable) => return Ok(not_applicable),
        };
        let answer = browser.post_form(&refresh_url, &[]).await?;
        redirected.chain.push(format!("POST {refresh_url} -> {}", answer.status));
        if self.still_armed(&armed) {
            // The fault waits for this canary's next refresh grant; take it
            // back so that it cannot land in a later check.
            self.suite.idp.disarm_oidc_fault(&armed);
            return Err(StepError(format!(
                "the relying party made no refresh grant at the mock ({fault} is still armed), so there is no verdict; oidc.refresh_url answered {} {}",
                answer.status,
                excerpt(&answer.body, 200)
            )));
        }
        let seen = self.suite.oracle(&browser).await?;
        let (any_session, held) = self.suite.judge_any_session(&seen).await?;
        let id_token = self.last_id_token(user);
        if any_session && !seen.is(&user.email) {
            return Ok(Outcome::fail(
                format!("a refreshed ID token naming another {changed} took the session over: {held}"),
                evidence_holding(&redirected, &answer, held, id_token),
            ));
        }
        if (200..300).contains(&answer.status) {
            return Ok(Outcome::fail(
                format!(
                    "the relying party accepted a refreshed ID token naming another {changed} (oidc.refresh_url answered {}, and the session is {held})",
                    answer.status
                ),
                evidence_holding(&redirected, &answer, held, id_token),
            ));
        }
        let code = answer.error_code.as_deref().map(|c| format!(" {c}")).unwrap_or_default();
        let session =
            if any_session { format!("the session is still {}", user.email) } else { "the session ended".into() };
        Ok(Outcome::pass(format!(
            "the refresh was refused (oidc.refresh_url answered {}{code}) and {session}",
            answer.status
        )))
    }
}
