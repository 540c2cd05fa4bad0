//! What each catalogue action does: after a positive control proves the
//! canary can sign in, the action sends its message and the session oracle
//! says whether the SP let it through.

use super::{
    CANARY_GROUP, Canary, Captured, Evidence, SpAnswer, Step, StepError, Suite, Verdict, decode, describe, evidence,
    excerpt, mock_form_fields, same_identity, upper_local_part,
};
use crate::catalogue::{Action, Check};

/// The mock's auto-posting form, reached from the SP's login URL.
struct LoginForm {
    page: SpAnswer,
    action: String,
    response: String,
    relay: String,
}

impl Suite {
    pub(super) async fn execute(&self, check: &Check) -> Step<(Verdict, String, Option<Evidence>)> {
        let attacker = self.canary("canary", None)?;
        self.ensure_account(&attacker).await?;
        // Positive control: a correct sign-in gives the canary a session.
        let control = self.browser()?;
        let (control_message, answer) = self.idp_initiated_capture(&control, &attacker, None).await?;
        let seen = self.oracle(&control).await?;
        if !same_identity(seen.as_deref(), &attacker.email) {
            return Err(StepError(format!(
                "positive control failed: a correct sign-in for {} gave {} (SP answered {} {})",
                attacker.email,
                describe(seen.as_deref()),
                answer.status,
                excerpt(&answer.body, 200)
            )));
        }

        match check.action {
            Action::IdpInitiated => {
                let expected = self
                    .idp
                    .read_org(|org| {
                        org.find_app(&self.app_id).and_then(|a| a.saml().map(|s| s.default_relay_state.clone()))
                    })
                    .unwrap_or_default();
                let location = answer.location.clone().unwrap_or_default();
                if !expected.is_empty() && !location.ends_with(&expected) {
                    let evidence = evidence(&control_message, &answer, seen.as_deref());
                    return Ok((
                        Verdict::Fail,
                        format!(
                            "signed in, but redirected to '{location}' instead of the default RelayState '{expected}'"
                        ),
                        Some(evidence),
                    ));
                }
                Ok((Verdict::Pass, "signed in and landed on the default RelayState".into(), None))
            }
            Action::SpInitiated => self.sp_initiated(&attacker).await,
            Action::OtherBrowser => {
                let requester = self.browser()?;
                let LoginForm { page, action, response, relay } =
                    match self.start_sp_login(&requester, &attacker).await? {
                        Ok(form) => form,
                        Err(refusal) => return Err(StepError(refusal)),
                    };
                let other = self.browser()?;
                let answer = self.post(&other, &action, &response, &relay).await?;
                let seen = self.oracle(&other).await?;
                if same_identity(seen.as_deref(), &attacker.email) {
                    let message = Captured { xml: decode(&response), form: page.body };
                    Ok((
                        Verdict::Fail,
                        "a browser that sent no request was signed in".into(),
                        Some(evidence(&message, &answer, seen.as_deref())),
                    ))
                } else {
                    Ok((
                        Verdict::Pass,
                        format!("no session in the other browser (SP answered {})", answer.status),
                        None,
                    ))
                }
            }
            Action::AcceptFault(fault) => {
                let browser = self.browser()?;
                self.arm(fault, &attacker, None);
                let (message, answer) = self.idp_initiated_capture(&browser, &attacker, None).await?;
                let seen = self.oracle(&browser).await?;
                if same_identity(seen.as_deref(), &attacker.email) {
                    Ok((Verdict::Pass, format!("accepted ({fault})"), None))
                } else {
                    Ok((
                        Verdict::Fail,
                        format!("a response the SP should accept ({fault}) gave {}", describe(seen.as_deref())),
                        Some(evidence(&message, &answer, seen.as_deref())),
                    ))
                }
            }
            Action::RefuseFault(fault) => {
                let named = if fault.forges_identity() {
                    let victim = self.canary("victim", None)?;
                    self.ensure_account(&victim).await?;
                    let victim_browser = self.browser()?;
                    self.idp_initiated(&victim_browser, &victim, None).await?;
                    victim.email
                } else {
                    attacker.email.clone()
                };
                let browser = self.browser()?;
                self.arm(fault, &attacker, Some(named.clone()));
                let (message, answer) = self.idp_initiated_capture(&browser, &attacker, None).await?;
                let seen = self.oracle(&browser).await?;
                if same_identity(seen.as_deref(), &named) {
                    Ok((
                        Verdict::Fail,
                        format!("the {fault} response gave {named} a session"),
                        Some(evidence(&message, &answer, seen.as_deref())),
                    ))
                } else {
                    Ok((Verdict::Pass, format!("no session for {named} (SP answered {})", answer.status), None))
                }
            }
            Action::Replay => {
                let first = self.browser()?;
                let (message, answer) = self.idp_initiated_capture(&first, &attacker, None).await?;
                let second = self.browser()?;
                let (action, response, relay) = mock_form_fields(&message.form)?;
                let replayed = self.post(&second, &action, &response, &relay).await?;
                let seen = self.oracle(&second).await?;
                if same_identity(seen.as_deref(), &attacker.email) {
                    Ok((
                        Verdict::Fail,
                        "the same assertion signed a second browser in".into(),
                        Some(evidence(&message, &replayed, seen.as_deref())),
                    ))
                } else {
                    Ok((
                        Verdict::Pass,
                        format!("second use refused (first {}, second {})", answer.status, replayed.status),
                        None,
                    ))
                }
            }
            Action::OpenRelayState => {
                let browser = self.browser()?;
                let evil = "https://evil.invalid/landing";
                let (message, answer) = self.idp_initiated_capture(&browser, &attacker, Some(evil)).await?;
                if answer.location.as_deref().is_some_and(|l| l.starts_with("https://evil.invalid")) {
                    let seen = self.oracle(&browser).await?;
                    Ok((
                        Verdict::Fail,
                        format!("the SP redirected to {evil}"),
                        Some(evidence(&message, &answer, seen.as_deref())),
                    ))
                } else {
                    Ok((Verdict::Pass, "the foreign RelayState was not followed".into(), None))
                }
            }
            Action::EmailCase => {
                let variant = upper_local_part(&attacker.email);
                let now = self.idp.now();
                self.idp.write_org(|org| {
                    let body =
                        serde_json::from_value(serde_json::json!({"profile": {"login": variant, "email": variant}}))
                            .map_err(|e| StepError(e.to_string()))?;
                    mock_idp::admin::update_user(org, &attacker.email, body, true, now)
                        .map_err(|e| StepError(e.to_string()))
                })?;
                let browser = self.browser()?;
                let moved = Canary { email: variant.clone(), name: attacker.name.clone() };
                let (message, answer) = self.idp_initiated_capture(&browser, &moved, None).await?;
                let again = self.oracle(&browser).await?;
                // The oracle must show the very same account as the control did.
                if again.is_some() && again == seen {
                    Ok((Verdict::Pass, "the case variant reached the same account".into(), None))
                } else {
                    Ok((
                        Verdict::Fail,
                        format!(
                            "signing in as {variant} gave {} instead of the account seen first ({})",
                            describe(again.as_deref()),
                            describe(seen.as_deref())
                        ),
                        Some(evidence(&message, &answer, again.as_deref())),
                    ))
                }
            }
            Action::AttributesInSession => {
                let body = self.oracle_json(&control).await?;
                let name = self
                    .target
                    .session
                    .name_pointer
                    .as_deref()
                    .and_then(|p| body.pointer(p))
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                let mut problems = Vec::new();
                if !name.to_lowercase().contains(&attacker.name.to_lowercase()) {
                    problems.push(format!("the name is '{name}', not '{}'", attacker.name));
                }
                if let Some(pointer) = &self.target.session.groups_pointer {
                    let groups: Vec<&str> = body
                        .pointer(pointer)
                        .and_then(|v| v.as_array())
                        .map(|a| a.iter().filter_map(|g| g.as_str()).collect())
                        .unwrap_or_default();
                    if !groups.contains(&CANARY_GROUP) {
                        problems.push(format!("the groups are {groups:?}, without '{CANARY_GROUP}'"));
                    }
                }
                if problems.is_empty() {
                    Ok((Verdict::Pass, "the name and groups from the assertion are in the session".into(), None))
                } else {
                    Ok((Verdict::Fail, problems.join("; "), Some(evidence(&control_message, &answer, seen.as_deref()))))
                }
            }
            Action::UnknownUser => {
                let stranger = self.canary("stranger", None)?;
                let browser = self.browser()?;
                let (message, answer) = self.idp_initiated_capture(&browser, &stranger, None).await?;
                let seen = self.oracle(&browser).await?;
                if same_identity(seen.as_deref(), &stranger.email) {
                    return Ok((
                        Verdict::Fail,
                        format!("{} had no account but got a session", stranger.email),
                        Some(evidence(&message, &answer, seen.as_deref())),
                    ));
                }
                let Some(hook) = &self.target.list_users else {
                    return Ok((
                        Verdict::Pass,
                        format!(
                            "no session for the unknown {} (SP answered {}); accounts not checked: the target has no list_users hook",
                            stranger.email, answer.status
                        ),
                        None,
                    ));
                };
                let listing = self.call_hook("list_users", hook, &[]).await?;
                if listing.to_ascii_lowercase().contains(&stranger.email.to_ascii_lowercase()) {
                    Ok((
                        Verdict::Fail,
                        format!(
                            "{} got no session, but the SP created an account for them: the list_users hook shows it",
                            stranger.email
                        ),
                        Some(evidence(&message, &answer, seen.as_deref())),
                    ))
                } else {
                    Ok((
                        Verdict::Pass,
                        format!(
                            "no session and no account for the unknown {} (SP answered {})",
                            stranger.email, answer.status
                        ),
                        None,
                    ))
                }
            }
            Action::UnsolicitedWhenDisabled => {
                self.set_idp_initiated(false).await?;
                let browser = self.browser()?;
                let attempt = self.idp_initiated_capture(&browser, &attacker, None).await;
                let seen = self.oracle(&browser).await;
                // Turn it back on whatever happened, so later runs start clean.
                self.set_idp_initiated(true).await?;
                let (message, answer) = attempt?;
                let seen = seen?;
                if same_identity(seen.as_deref(), &attacker.email) {
                    Ok((
                        Verdict::Fail,
                        "an unsolicited response signed in while IdP-initiated sign-in was off".into(),
                        Some(evidence(&message, &answer, seen.as_deref())),
                    ))
                } else {
                    Ok((Verdict::Pass, format!("refused while off (SP answered {})", answer.status), None))
                }
            }
            Action::OutsideDomain => {
                let outsider = self.canary("outsider", Some("evil.invalid"))?;
                let browser = self.browser()?;
                let (message, answer) = self.idp_initiated_capture(&browser, &outsider, None).await?;
                let seen = self.oracle(&browser).await?;
                if same_identity(seen.as_deref(), &outsider.email) {
                    Ok((
                        Verdict::Fail,
                        format!("{} got a session", outsider.email),
                        Some(evidence(&message, &answer, seen.as_deref())),
                    ))
                } else {
                    Ok((
                        Verdict::Pass,
                        format!("no session for {} (SP answered {})", outsider.email, answer.status),
                        None,
                    ))
                }
            }
        }
    }

    /// Starts a sign-in at the SP's login URL in `browser` and follows it to
    /// the mock's auto-posting form for `user`. The inner `Err` says why the
    /// login URL did not redirect to the IdP.
    async fn start_sp_login(&self, browser: &reqwest::Client, user: &Canary) -> Step<Result<LoginForm, String>> {
        let Some(login) = &self.target.login_url else { return Err(StepError("no login_url".into())) };
        let first = self.get(browser, login).await?;
        let Some(location) = first.location.filter(|l| l.starts_with(&self.idp_url())) else {
            return Ok(Err(format!("the login URL answered {} without a redirect to the IdP", first.status)));
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        let page = self.get(browser, &format!("{location}{separator}login_hint={}", user.email)).await?;
        let (action, response, relay) = mock_form_fields(&page.body)?;
        Ok(Ok(LoginForm { page, action, response, relay }))
    }

    async fn sp_initiated(&self, user: &Canary) -> Step<(Verdict, String, Option<Evidence>)> {
        let browser = self.browser()?;
        let LoginForm { page, action, response, relay } = match self.start_sp_login(&browser, user).await? {
            Ok(form) => form,
            Err(refusal) => return Ok((Verdict::Fail, refusal, None)),
        };
        let answer = self.post(&browser, &action, &response, &relay).await?;
        let seen = self.oracle(&browser).await?;
        if same_identity(seen.as_deref(), &user.email) {
            Ok((Verdict::Pass, "signed in through the SP's login URL".into(), None))
        } else {
            let message = Captured { xml: decode(&response), form: page.body };
            Ok((
                Verdict::Fail,
                format!("SP-initiated sign-in gave {}", describe(seen.as_deref())),
                Some(evidence(&message, &answer, seen.as_deref())),
            ))
        }
    }
}
