//! What each SAML action does: after the positive control proves the canary
//! can sign in, the action sends its message and the session oracle says
//! whether the SP let it through.

use super::{
    Captured, Control, LoginForm, SamlDriver, decode, evidence, evidence_holding, mock_form_fields, upper_local_part,
};
use mock_idp::saml::faults::SamlFault;

use crate::catalogue::SamlAction;
use crate::runner::browser::SpAnswer;
use crate::runner::oracle::Seen;
use crate::runner::{Canary, Outcome, Step, StepError, excerpt};

/// How far the `saml.session.expired` check moves the SP's clock: past the
/// two-minute SessionNotOnOrAfter and any skew tolerance (the suite
/// recommends 60 to 180 seconds), and far inside any SP's own session
/// lifetime, so only SessionNotOnOrAfter can have ended the session.
const CLOCK_JUMP_SECONDS: i64 = 600;

impl SamlDriver<'_> {
    pub(super) async fn act(&self, action: SamlAction, attacker: Canary, control: Control) -> Step<Outcome> {
        match action {
            SamlAction::IdpInitiated => {
                let expected = self
                    .suite
                    .idp
                    .read_org(|org| {
                        org.find_app(&self.app.id).and_then(|a| a.saml().map(|s| s.default_relay_state.clone()))
                    })
                    .unwrap_or_default();
                // This check is about the unsolicited flow itself, whatever
                // flow the positive control used.
                let browser = self.suite.browser()?;
                let (message, answer) = self.idp_initiated_capture(&browser, &attacker, None).await?;
                let seen = self.suite.oracle(&browser).await?;
                if !self.declares_idp_initiated() {
                    // The SP refuses unsolicited responses on purpose: what
                    // is checked is that it really does.
                    return match self.session_given(&seen).await? {
                        Some(held) => Ok(Outcome::fail(
                            format!(
                                "the target declares that the SP refuses IdP-initiated sign-in (saml.idp_initiated = false), but an unsolicited response gave {held}"
                            ),
                            evidence_holding(&message, &answer, held),
                        )),
                        None => Ok(Outcome::pass(format!(
                            "an unsolicited response was refused, as the target declares (SP answered {})",
                            answer.status
                        ))),
                    };
                }
                if !seen.is(&attacker.email) {
                    return Ok(Outcome::fail(
                        format!("an IdP-initiated sign-in gave {}", seen.describe()),
                        evidence(&message, &answer, &seen),
                    ));
                }
                let location = answer.location.clone().unwrap_or_default();
                // A default RelayState that is neither a path nor a URL is
                // the SP's own token (the MoovingON guide sets the tenant's
                // identifier there), not a place to land: the SP honours it
                // by reading it, and the landing page is its own choice.
                let is_a_place = expected.starts_with('/') || expected.contains("://");
                if !expected.is_empty() && !is_a_place {
                    return Ok(Outcome::pass(format!(
                        "signed in; the default RelayState '{expected}' names no place (an identifier for the SP), and the SP landed on '{location}'"
                    )));
                }
                if !expected.is_empty() && !location.ends_with(&expected) {
                    // The sign-in works; landing elsewhere than the app's
                    // default RelayState only loses the deep link the Okta
                    // admin configured, so it is a weakness, not a hole.
                    return Ok(Outcome::warn(
                        format!(
                            "signed in, but redirected to '{location}' instead of the default RelayState '{expected}'"
                        ),
                        evidence(&message, &answer, &seen),
                    ));
                }
                Ok(Outcome::pass("signed in and landed on the default RelayState"))
            }
            // Run without the control, in `execute`; kept here so every
            // action has one arm.
            SamlAction::SpInitiated => self.sp_initiated(&attacker).await,
            SamlAction::OtherBrowser => {
                let requester = self.suite.browser()?;
                let LoginForm { page, action, response, relay } =
                    self.start_sp_login(&requester, &attacker).await?.map_err(StepError)?;
                // The other browser starts a sign-in of its own first, so it
                // holds whatever the SP gives a browser that asked (its
                // cookies): the response must still be refused there, as it
                // answers the first browser's request, not this one's.
                let other = self.suite.browser()?;
                self.start_sp_login(&other, &attacker).await?.map_err(StepError)?;
                let answer = self.post(&other, &action, &response, &relay).await?;
                let seen = self.suite.oracle(&other).await?;
                if let Some(held) = self.session_given(&seen).await? {
                    let message = Captured { xml: decode(&response), form: page.body };
                    // An SP that accepts unsolicited responses lets anyone
                    // post a response of their own into a browser anyway, so
                    // accepting another browser's adds no exposure: weak, not
                    // broken. An SP that refuses them has lost that defence.
                    let probe = self.suite.browser()?;
                    self.idp_initiated(&probe, &attacker, None).await?;
                    if self.suite.oracle(&probe).await?.is(&attacker.email) {
                        return Ok(Outcome::warn(
                            format!(
                                "another browser, with a sign-in of its own started, got {held} from the first browser's response; the SP accepts unsolicited responses anyway, so binding responses to the browser that asked would only add login-CSRF protection"
                            ),
                            evidence_holding(&message, &answer, held),
                        ));
                    }
                    Ok(Outcome::fail(
                        format!(
                            "another browser, with a sign-in of its own started, got {held} from the first browser's response, though the SP refuses unsolicited responses"
                        ),
                        evidence_holding(&message, &answer, held),
                    ))
                } else {
                    Ok(Outcome::pass(format!("no session in the other browser (SP answered {})", answer.status)))
                }
            }
            SamlAction::AcceptFault(fault) => {
                let browser = self.suite.browser()?;
                let armed = self.arm(fault, &attacker, None)?;
                let (message, answer) = self.sign_in_capture(&browser, &attacker).await?;
                self.ensure_applied(&armed, fault)?;
                let seen = self.suite.oracle(&browser).await?;
                if seen.is(&attacker.email) {
                    Ok(Outcome::pass(format!("accepted ({fault}, {})", self.flow())))
                } else {
                    Ok(Outcome::fail(
                        format!("a response the SP should accept ({fault}, {}) gave {}", self.flow(), seen.describe()),
                        evidence(&message, &answer, &seen),
                    ))
                }
            }
            SamlAction::RefuseFault(fault) => {
                let named = if fault.forges_identity() {
                    let victim = self.canary("victim", None)?;
                    self.suite.ensure_account(&victim).await?;
                    let victim_browser = self.suite.browser()?;
                    self.idp_initiated(&victim_browser, &victim, None).await?;
                    victim.email
                } else {
                    attacker.email.clone()
                };
                let browser = self.suite.browser()?;
                let armed = self.arm(fault, &attacker, Some(named.clone()))?;
                let (message, answer) = self.sign_in_capture(&browser, &attacker).await?;
                self.ensure_applied(&armed, fault)?;
                let seen = self.suite.oracle(&browser).await?;
                let flow = self.flow();
                if seen.is(&named) {
                    return Ok(Outcome::fail(
                        format!("the {fault} response ({flow}) gave {named} a session"),
                        evidence(&message, &answer, &seen),
                    ));
                }
                // A response that forges nobody must be refused outright: a
                // session of any kind, even one with no identity, is a fail.
                // (A forging one may be read for its signed original, which
                // names the attacker: that session is the correct outcome.)
                if !fault.forges_identity()
                    && let Some(held) = self.session_given(&seen).await?
                {
                    return Ok(Outcome::fail(
                        format!("the {fault} response ({flow}) gave {held}"),
                        evidence_holding(&message, &answer, held),
                    ));
                }
                Ok(Outcome::pass(format!("no session for {named} ({flow}; {})", answer.answered())))
            }
            SamlAction::Replay => {
                // The unsolicited form first: an SP that accepts unsolicited
                // responses must still refuse one used twice.
                let first = self.suite.browser()?;
                let (message, answer) = self.idp_initiated_capture(&first, &attacker, None).await?;
                let (message, answer, flow) = if self.suite.oracle(&first).await?.is(&attacker.email) {
                    (message, answer, "unsolicited")
                } else if self.login_url().is_some() {
                    // The SP takes only answers to its own requests: one of
                    // those, used once, is what can be replayed.
                    let first = self.suite.browser()?;
                    let LoginForm { page, action, response, relay } =
                        self.start_sp_login(&first, &attacker).await?.map_err(StepError)?;
                    let answer = self.post(&first, &action, &response, &relay).await?;
                    if !self.suite.oracle(&first).await?.is(&attacker.email) {
                        return Err(StepError(format!(
                            "the first use of the SP-initiated response gave no session (SP answered {})",
                            answer.status
                        )));
                    }
                    (Captured { xml: decode(&response), form: page.body }, answer, "SP-initiated")
                } else {
                    return Ok(Outcome::skip(
                        "the SP refuses unsolicited responses and the target has no saml.login_url, so no response it takes can be captured and replayed",
                    ));
                };
                // The second browser first gets whatever cookies the SP gives
                // a browser that visits it (a login of its own when there is
                // a login URL), so an SP that refuses cookie-less posts
                // cannot pass for that reason alone.
                let second = self.suite.browser()?;
                if self.login_url().is_some() {
                    self.start_sp_login(&second, &attacker).await?.map_err(StepError)?;
                } else {
                    self.suite.oracle(&second).await?;
                }
                // Both flows captured the mock's own auto-post page.
                let (action, response, relay) = mock_form_fields(&message.form)?;
                let replayed = self.post(&second, &action, &response, &relay).await?;
                let seen = self.suite.oracle(&second).await?;
                if let Some(held) = self.session_given(&seen).await? {
                    Ok(Outcome::fail(
                        format!("the same {flow} response, used once, gave a second browser {held}"),
                        evidence_holding(&message, &replayed, held),
                    ))
                } else {
                    Ok(Outcome::pass(format!(
                        "second use of the {flow} response refused (first {}, second {})",
                        answer.status, replayed.status
                    )))
                }
            }
            SamlAction::OpenRelayState => {
                let browser = self.suite.browser()?;
                let evil = "https://evil.invalid/landing";
                let (message, answer) = self.idp_initiated_capture(&browser, &attacker, Some(evil)).await?;
                let seen = self.suite.oracle(&browser).await?;
                if answer.location.as_deref().is_some_and(|l| l.starts_with("https://evil.invalid")) {
                    Ok(Outcome::fail(format!("the SP redirected to {evil}"), evidence(&message, &answer, &seen)))
                } else if seen.is(&attacker.email) {
                    Ok(Outcome::pass("signed in, and the foreign RelayState was not followed"))
                } else {
                    // No sign-in: refusing the foreign RelayState is a pass,
                    // but an SP that refuses every unsolicited response never
                    // reached its RelayState rule, so there is nothing to judge.
                    let probe = self.suite.browser()?;
                    self.idp_initiated(&probe, &attacker, None).await?;
                    if self.suite.oracle(&probe).await?.is(&attacker.email) {
                        Ok(Outcome::pass(format!(
                            "the response with the foreign RelayState was refused (SP answered {})",
                            answer.status
                        )))
                    } else {
                        Ok(Outcome::skip(
                            "the SP refuses unsolicited responses, so where it redirects after an IdP-initiated sign-in cannot be judged",
                        ))
                    }
                }
            }
            SamlAction::EmailCase => {
                let variant = upper_local_part(&attacker.email);
                let now = self.suite.idp.now();
                self.suite.idp.change_org(|org| {
                    let body =
                        serde_json::from_value(serde_json::json!({"profile": {"login": variant, "email": variant}}))
                            .map_err(|e| StepError(e.to_string()))?;
                    let renamed = mock_idp::admin::update_user(org, &attacker.email, body, true, now)
                        .map_err(|e| StepError(e.to_string()))?;
                    Ok(((), renamed.changes))
                })?;
                let browser = self.suite.browser()?;
                let moved = Canary { email: variant.clone(), ..attacker.clone() };
                let (message, answer) = self.sign_in_capture(&browser, &moved).await?;
                let again = self.suite.oracle(&browser).await?;
                // The oracle must show the very same account as the control did.
                if again.identity.is_some() && again.identity == control.seen.identity {
                    Ok(Outcome::pass("the case variant reached the same account"))
                } else {
                    Ok(Outcome::fail(
                        format!(
                            "signing in as {variant} gave {} instead of the account seen first ({})",
                            again.describe(),
                            control.seen.describe()
                        ),
                        evidence(&message, &answer, &again),
                    ))
                }
            }
            SamlAction::AttributesInSession => self.attributes_in_session(&attacker, &control),
            // Run without the unencrypted control, in `execute`, which never
            // comes here; kept so every action has one arm.
            SamlAction::Encrypted(_) => Err(StepError("an encrypted-assertion check runs on its own control".into())),
            SamlAction::SingleLogout | SamlAction::LogoutWrapping => {
                Err(StepError("a Single Logout check runs on its own control".into()))
            }
            SamlAction::SignedAuthnRequest => {
                Err(StepError("the signed-AuthnRequest check runs on its own control".into()))
            }
            SamlAction::UnknownUser => {
                let stranger = self.canary("stranger", None)?;
                let browser = self.suite.browser()?;
                let (message, answer) = self.sign_in_capture(&browser, &stranger).await?;
                let seen = self.suite.oracle(&browser).await?;
                if seen.is(&stranger.email) {
                    return Ok(Outcome::fail(
                        format!("{} had no account but got a session", stranger.email),
                        evidence(&message, &answer, &seen),
                    ));
                }
                // The vendor's own refusal, where the target declares its
                // text: the SP's answer, or the page it redirects to, must
                // carry it, and be a refusal (4xx), not a server error.
                let mut refusal_note = String::new();
                if let Some(expected) = &self.suite.target.accounts.unknown_user_refusal {
                    let (status, page) = self.refusal_page(&browser, &answer).await?;
                    let found = quote_around(&page, expected);
                    if !(400..500).contains(&status) || found.is_none() {
                        let shown = found.unwrap_or_else(|| excerpt(&visible_text(&page), 240));
                        return Ok(Outcome::fail(
                            format!(
                                "the SP's refusal of the unknown {} ({status}) is not the declared refusal '{expected}' as a 4xx: it shows \"{shown}\"",
                                stranger.email
                            ),
                            evidence(&message, &answer, &seen),
                        ));
                    }
                    refusal_note = format!(", refused in the declared words: \"{}\"", found.unwrap_or_default());
                }
                let Some(hook) = &self.suite.target.list_users else {
                    return Ok(Outcome::pass(format!(
                        "no session for the unknown {} (SP answered {}{refusal_note}); accounts not checked: the target has no list_users hook",
                        stranger.email, answer.status
                    )));
                };
                let listing = self.suite.call_hook("list_users", hook, &[]).await?;
                if listing.to_ascii_lowercase().contains(&stranger.email.to_ascii_lowercase()) {
                    Ok(Outcome::fail(
                        format!(
                            "{} got no session, but the SP created an account for them: the list_users hook shows it",
                            stranger.email
                        ),
                        evidence(&message, &answer, &seen),
                    ))
                } else {
                    Ok(Outcome::pass(format!(
                        "no session and no account for the unknown {} (SP answered {}{refusal_note})",
                        stranger.email, answer.status
                    )))
                }
            }
            SamlAction::SessionExpiry => self.session_expiry(&attacker).await,
            SamlAction::UnsolicitedWhenDisabled => {
                // Once the request to turn it off is sent, the setting is
                // turned back on whatever happened, even if that request
                // failed: the SP may have applied it all the same.
                let disabled = self.set_idp_initiated(false).await;
                let attempt = match &disabled {
                    Ok(()) => Some(self.unsolicited_attempt(&attacker).await),
                    Err(_) => None,
                };
                let restored = self.set_idp_initiated(true).await;
                disabled?;
                let (message, answer, seen) = attempt.unwrap_or_else(|| Err(StepError("not attempted".into())))?;
                restored.map_err(|StepError(why)| {
                    StepError(format!("the check ran, but turning IdP-initiated sign-in back on failed: {why}"))
                })?;
                if let Some(held) = self.session_given(&seen).await? {
                    Ok(Outcome::fail(
                        format!("an unsolicited response gave {held} while IdP-initiated sign-in was off"),
                        evidence_holding(&message, &answer, held),
                    ))
                } else {
                    Ok(Outcome::pass(format!("refused while off (SP answered {})", answer.status)))
                }
            }
            SamlAction::OutsideDomain => {
                let outside = self.suite.outside_domain();
                let outsider = self.canary("outsider", Some(&outside))?;
                let browser = self.suite.browser()?;
                let (message, answer) = self.sign_in_capture(&browser, &outsider).await?;
                let seen = self.suite.oracle(&browser).await?;
                if seen.is(&outsider.email) {
                    return Ok(Outcome::fail(
                        format!("{} got a session", outsider.email),
                        evidence(&message, &answer, &seen),
                    ));
                }
                // A session of any kind, one with no identity included, lets
                // the outsider in.
                if let Some(held) = self.session_given(&seen).await? {
                    return Ok(Outcome::fail(
                        format!("{} got {held}", outsider.email),
                        evidence_holding(&message, &answer, held),
                    ));
                }
                // Refused at the door, but an account made on the way in is
                // still one the domain rule should have stopped.
                if let Some(hook) = &self.suite.target.list_users {
                    let listing = self.suite.call_hook("list_users", hook, &[]).await?;
                    if listing.to_ascii_lowercase().contains(&outsider.email.to_ascii_lowercase()) {
                        return Ok(Outcome::fail(
                            format!(
                                "{} got no session, but the SP created an account for them: the list_users hook shows it",
                                outsider.email
                            ),
                            evidence(&message, &answer, &seen),
                        ));
                    }
                }
                Ok(Outcome::pass(format!("no session for {} (SP answered {})", outsider.email, answer.status)))
            }
        }
    }

    /// An unsolicited response in a fresh browser, and what the oracle saw.
    async fn unsolicited_attempt(&self, attacker: &Canary) -> Step<(Captured, SpAnswer, Seen)> {
        let browser = self.suite.browser()?;
        let (message, answer) = self.idp_initiated_capture(&browser, attacker, None).await?;
        let seen = self.suite.oracle(&browser).await?;
        Ok((message, answer, seen))
    }

    /// attacks.md P-18: a session made from an assertion whose
    /// SessionNotOnOrAfter is two minutes ahead must be over once the SP's
    /// clock is [`CLOCK_JUMP_SECONDS`] on. The clock is moved back whatever
    /// the oracle said, once the move was made.
    async fn session_expiry(&self, attacker: &Canary) -> Step<Outcome> {
        let fault = SamlFault::ShortSession;
        let browser = self.suite.browser()?;
        let armed = self.arm(fault, attacker, None)?;
        let (message, answer) = self.sign_in_capture(&browser, attacker).await?;
        self.ensure_applied(&armed, fault)?;
        let before = self.suite.oracle(&browser).await?;
        if !before.is(&attacker.email) {
            return Err(StepError(format!(
                "a correct response whose SessionNotOnOrAfter is two minutes ahead gave {} (SP answered {}), so there is no session to see end",
                before.describe(),
                answer.status
            )));
        }
        self.advance_clock(CLOCK_JUMP_SECONDS).await?;
        let after = self.suite.oracle(&browser).await;
        let restored = self.advance_clock(-CLOCK_JUMP_SECONDS).await;
        let after = after?;
        restored.map_err(|StepError(why)| {
            StepError(format!("the check ran, but moving the SP's clock back failed: {why}"))
        })?;
        let flow = self.flow();
        if after.is(&attacker.email) {
            Ok(Outcome::fail(
                format!(
                    "the session from a response whose SessionNotOnOrAfter was two minutes ahead ({flow}) still held {} with the SP's clock {} minutes on",
                    attacker.email,
                    CLOCK_JUMP_SECONDS / 60
                ),
                evidence(&message, &answer, &after),
            ))
        } else {
            Ok(Outcome::pass(format!(
                "the session was over with the SP's clock {} minutes on, past its SessionNotOnOrAfter ({flow})",
                CLOCK_JUMP_SECONDS / 60
            )))
        }
    }

    async fn advance_clock(&self, seconds: i64) -> Step<()> {
        let Some(hook) = &self.suite.target.advance_clock else {
            return Err(StepError("no advance_clock hook".into()));
        };
        self.suite.call_hook("advance_clock", hook, &[("{seconds}", &seconds.to_string())]).await?;
        Ok(())
    }

    async fn set_idp_initiated(&self, on: bool) -> Step<()> {
        let Some(hook) = &self.suite.target.set_idp_initiated else {
            return Err(StepError("no set_idp_initiated hook".into()));
        };
        self.suite.call_hook("set_idp_initiated", hook, &[("{value}", if on { "true" } else { "false" })]).await?;
        Ok(())
    }

    /// The name (whole, or given and family) and the groups from the
    /// assertion must be in the session the control made.
    fn attributes_in_session(&self, attacker: &Canary, control: &Control) -> Step<Outcome> {
        let problems = self.suite.session_attribute_problems(&control.seen.body, attacker, true)?;
        if problems.is_empty() {
            Ok(Outcome::pass("the name and groups from the assertion are in the session"))
        } else {
            Ok(Outcome::fail(problems.join("; "), evidence(&control.message, &control.answer, &control.seen)))
        }
    }

    pub(super) async fn sp_initiated(&self, user: &Canary) -> Step<Outcome> {
        let browser = self.suite.browser()?;
        let LoginForm { page, action, response, relay } = match self.start_sp_login(&browser, user).await? {
            Ok(form) => form,
            Err(refusal) => return Ok(Outcome::fail(refusal, None)),
        };
        let answer = self.post(&browser, &action, &response, &relay).await?;
        let seen = self.suite.oracle(&browser).await?;
        if seen.is(&user.email) {
            Ok(Outcome::pass("signed in through the SP's login URL"))
        } else {
            let message = Captured { xml: decode(&response), form: page.body };
            Ok(Outcome::fail(
                format!("SP-initiated sign-in gave {}", seen.describe()),
                evidence(&message, &answer, &seen),
            ))
        }
    }
}

impl SamlDriver<'_> {
    /// The page that carries the SP's refusal: its answer, or, when it
    /// redirects (to an error page), the page it redirects to, read once.
    async fn refusal_page(&self, browser: &crate::runner::browser::Browser, answer: &SpAnswer) -> Step<(u16, String)> {
        let Some(location) = answer.location.as_deref().filter(|_| (300..400).contains(&answer.status)) else {
            return Ok((answer.status, answer.body.clone()));
        };
        let base = self.suite.target.session.as_ref().map(|s| s.url.as_str()).unwrap_or_default();
        let url = url::Url::parse(base).and_then(|base| base.join(location)).map_err(|e| {
            StepError(format!("the SP redirected the refusal to '{location}', which is not a URL: {e}"))
        })?;
        let page = browser.get(url.as_str()).await?;
        Ok((page.status, page.body))
    }
}

/// The page's text without its markup, on one line.
fn visible_text(page: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in page.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The part of the page's text around `expected` (compared without regard
/// to case), for the evidence; `None` when the page does not carry it.
fn quote_around(page: &str, expected: &str) -> Option<String> {
    let text = visible_text(page);
    let at = text.to_lowercase().find(&expected.to_lowercase())?;
    // Lowercasing can move byte offsets for some scripts; the quote then
    // falls back to the whole text, cut short.
    let start = (0..=at.saturating_sub(80).min(text.len())).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    Some(excerpt(text.get(start..).unwrap_or(&text), 240))
}
