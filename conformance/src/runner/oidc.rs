//! The OpenID Connect driver: the positive control (a canary signs in by
//! authorization code with PKCE, started at the target's `oidc.login_url`,
//! and the session oracle sees them), faults armed for one canary, and
//! evidence in OIDC's terms (the browser's way through the flow).

use mock_idp::oidc::faults::{FaultTarget, OidcFault, OidcFaultPlan, OidcFaultRefusal};
use serde::Serialize;

mod refresh;
mod roles;
mod scenarios;
mod vendor_rules;

pub(in crate::runner) use scenarios::KeyRotation;

use super::browser::{Browser, SpAnswer};
use super::{Canary, Evidence, Outcome, Step, StepError, Suite, excerpt};
use crate::catalogue::OidcAction;

/// What an OIDC check sent and what came back: the token the mock issued,
/// decoded, and the browser's way through the flow.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OidcEvidence {
    /// The ID token's header and claims, decoded (the signature elided).
    pub id_token: Option<serde_json::Value>,
    /// Every URL the browser was sent to, in order, with the status that sent it.
    pub redirect_chain: Vec<String>,
    pub sp_status: Option<u16>,
    pub sp_location: Option<String>,
    pub sp_body_excerpt: Option<String>,
    /// What the session oracle saw.
    pub oracle: String,
}

impl OidcEvidence {
    /// The token's claims on one line, or the way through the flow.
    pub(super) fn message_summary(&self) -> Option<(&'static str, String)> {
        match &self.id_token {
            Some(token) => Some(("ID token sent (decoded)", token.to_string())),
            None if !self.redirect_chain.is_empty() => Some(("redirects", self.redirect_chain.join(" | "))),
            None => None,
        }
    }
}

/// OpenID Connect Core 3.1.3.7 step 6: an ID token received straight from
/// the token endpoint over TLS may be trusted on TLS server validation
/// instead of its signature. So when the mock serves over TLS and the
/// relying party uses the code flow (`response_type=code`, so its ID token
/// came only from the token endpoint), accepting a fault that breaks only
/// the signature is a `warn`, not a `fail`. Over plain HTTP, or in a flow
/// that also takes an ID token from the browser, nothing changes.
fn tls_softens_a_signature_failure(outcome: Outcome, fault: OidcFault, redirected: &Redirected) -> Outcome {
    let code_flow = redirected
        .chain
        .iter()
        .filter_map(|url| url::Url::parse(url).ok())
        .filter(|url| url.path().ends_with("/authorize"))
        .find_map(|url| url.query_pairs().find(|(name, _)| name == "response_type").map(|(_, value)| value == "code"))
        .unwrap_or(false);
    if outcome.verdict != super::Verdict::Fail
        || !code_flow
        || !crate::catalogue::oidc::tls_may_stand_in_for_signature(fault)
    {
        return outcome;
    }
    Outcome::warn(
        format!(
            "{} (OpenID Connect Core 3.1.3.7 step 6 allows a code-flow relying party to skip the ID token signature check when the token came straight from the token endpoint over TLS, as it did here; still, check the signature: a relying party that instead trusts a key or algorithm the token names is forgeable)",
            outcome.reason
        ),
        outcome.evidence,
    )
}

/// Runs one OIDC check: the positive control, then the action.
pub(super) async fn execute(suite: &Suite, action: OidcAction) -> Step<Outcome> {
    let driver = OidcDriver::new(suite)?;
    let user = driver.canary("canary", None)?;
    suite.ensure_account(&user).await?;
    let server = match driver.positive_control(&user).await {
        Ok(server) => server,
        // A public client that sends no PKCE cannot sign in at all: Okta,
        // and the mock, refuse its authorization request. For the PKCE
        // check that refusal is the finding, not a broken control.
        // For the sign-in check the control is the check: its failure is
        // the finding.
        Err(StepError(why)) if action == OidcAction::SignIn => {
            return Ok(Outcome::fail(format!("a correct sign-in for {} did not work: {why}", user.email), None));
        }
        Err(StepError(why)) => {
            let broken = if why.starts_with("positive control failed") {
                StepError(why)
            } else {
                StepError(format!("positive control failed: {why}"))
            };
            if action == OidcAction::PkceS256 {
                return driver.public_client_without_pkce(broken).await;
            }
            return Err(broken);
        }
    };
    driver.act(action, &user, &server).await
}

/// The OIDC app (the client) the target names, as the org has it.
pub(in crate::runner) struct OidcDriver<'a> {
    suite: &'a Suite,
    client_id: String,
    login_url: &'a str,
}

/// A login the relying party started and the mock answered: the browser's
/// way so far and the redirect back to the relying party, not yet followed.
pub(in crate::runner) struct Redirected {
    chain: Vec<String>,
    /// The redirect back. With `response_mode=form_post` the mock answers
    /// with an auto-submitting form instead; its fields are then kept here
    /// as the query of the form's action, so that a check changes them the
    /// same way, and [`OidcDriver::deliver`] POSTs them.
    callback: String,
    /// The mock answered with a form to POST, not a redirect.
    form_post: bool,
    /// The relying party sent a PKCE S256 challenge, which binds the code to
    /// the browser that started the login (RFC 9700 4.7.1 lets that stand in
    /// for `state` against CSRF).
    uses_pkce: bool,
}

impl<'a> OidcDriver<'a> {
    pub(in crate::runner) fn new(suite: &'a Suite) -> Step<Self> {
        let target =
            suite.target.oidc.as_ref().ok_or_else(|| StepError("the target declares no [oidc] section".into()))?;
        let login_url = target.login_url.as_deref().ok_or_else(|| StepError("no oidc.login_url".into()))?;
        let client_id = suite
            .idp
            .read_org(|org| org.find_app(&target.app).filter(|a| a.oidc().is_some()).map(|a| a.id.to_string()))
            .ok_or_else(|| StepError(format!("no OIDC app '{}' in the org", target.app)))?;
        Ok(OidcDriver { suite, client_id, login_url })
    }

    pub(in crate::runner) fn canary(&self, prefix: &str, domain: Option<&str>) -> Step<Canary> {
        self.suite.canary(&self.client_id, prefix, domain)
    }

    /// `count` canaries of the OIDC app, made in one change to the org.
    pub(in crate::runner) fn canaries(&self, prefix: &str, count: usize) -> Step<Vec<Canary>> {
        self.suite.canaries(&self.client_id, prefix, count)
    }

    /// Starts a login at the relying party in `browser`, follows it to the
    /// mock's `/authorize` and signs `user` in there. Returns the redirect
    /// back to the relying party, which the caller decides where to open.
    pub(in crate::runner) async fn start(&self, browser: &Browser, user: &Canary) -> Step<Redirected> {
        let idp_url = self.suite.idp_url();
        let answers = browser.follow(self.login_url, |location| location.starts_with(&idp_url)).await?;
        let mut chain: Vec<String> = vec![self.login_url.to_owned()];
        let last = answers.last().ok_or_else(|| StepError("the login URL gave no answer".into()))?;
        let Some(authorize) = last.location.clone().filter(|l| l.starts_with(&idp_url)) else {
            return Err(StepError(format!(
                "the login URL answered {} without a redirect to the mock's /authorize: {}",
                last.status,
                excerpt(&last.body, 200)
            )));
        };
        let separator = if authorize.contains('?') { '&' } else { '?' };
        let authorize = format!("{authorize}{separator}login_hint={}", encode(&user.email));
        chain.push(authorize.clone());
        let answer = browser.get(&authorize).await?;
        let redirect = answer.location.clone().filter(|_| (300..400).contains(&answer.status));
        // response_mode=form_post: a page whose form posts the response to
        // the relying party's redirect URI.
        let form = (answer.status == 200).then(|| super::form::parse(&answer.body)).flatten();
        let form_post = redirect.is_none() && form.is_some();
        let callback = match (redirect, form) {
            (Some(location), _) => location,
            (None, Some(form)) => with_query(&form.action, &form.fields)?,
            (None, None) => {
                return Err(StepError(format!(
                    "the mock's /authorize did not redirect back (it answered {}): {}",
                    answer.status,
                    excerpt(&answer.body, 300)
                )));
            }
        };
        if callback.contains("error=") && !callback.contains("code=") {
            return Err(StepError(format!("the mock refused the authorization request: {callback}")));
        }
        chain.push(callback.clone());
        let uses_pkce = url::Url::parse(&authorize).is_ok_and(|url| {
            let pairs: Vec<(String, String)> =
                url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            pairs.iter().any(|(k, _)| k == "code_challenge")
                && pairs.iter().any(|(k, v)| k == "code_challenge_method" && v == "S256")
        });
        Ok(Redirected { chain, callback, form_post, uses_pkce })
    }

    /// Opens the redirect back in `browser` (or POSTs its form, for
    /// `form_post`) and follows the relying party's redirects until `stop`
    /// says a location is where the caller wants to be. Returns every answer.
    async fn deliver(
        &self,
        browser: &Browser,
        redirected: &Redirected,
        stop: impl Fn(&str) -> bool,
    ) -> Step<Vec<SpAnswer>> {
        if !redirected.form_post {
            return browser.follow(&redirected.callback, stop).await;
        }
        let mut action = url::Url::parse(&redirected.callback)
            .map_err(|e| StepError(format!("the form's action '{}' is not a URL: {e}", redirected.callback)))?;
        let fields: Vec<(String, String)> =
            action.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        action.set_query(None);
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let posted = browser.post_form(action.as_str(), &pairs).await?;
        let location = posted.location.clone().filter(|_| (300..400).contains(&posted.status));
        let mut answers = vec![posted];
        if let Some(location) = location {
            let next = action
                .join(&location)
                .map_err(|e| StepError(format!("{action} redirected to '{location}', which is not a URL: {e}")))?;
            if !stop(next.as_str()) {
                answers.extend(browser.follow(next.as_str(), stop).await?);
            }
        }
        Ok(answers)
    }

    /// Opens the redirect back in `browser` and follows the relying party's
    /// own redirects on its site, returning the last answer.
    pub(in crate::runner) async fn finish(&self, browser: &Browser, redirected: &mut Redirected) -> Step<SpAnswer> {
        let idp_url = self.suite.idp_url();
        let answers = self.deliver(browser, redirected, |location| location.starts_with(&idp_url)).await?;
        for answer in &answers {
            if let Some(location) = &answer.location {
                redirected.chain.push(format!("{} -> {location}", answer.status));
            }
        }
        answers.last().cloned().ok_or_else(|| StepError("the redirect back gave no answer".into()))
    }

    /// A correct sign-in must give the canary a session, or no verdict on a
    /// faulty message means anything.
    /// Returns the authorization server the relying party signs in with.
    async fn positive_control(&self, user: &Canary) -> Step<mock_idp::oidc::ServerRef> {
        let browser = self.suite.browser()?;
        let mut redirected = self.start(&browser, user).await?;
        let answer = self.finish(&browser, &mut redirected).await?;
        let seen = self.suite.oracle(&browser).await?;
        if seen.is(&user.email) {
            return self.server_of(&redirected);
        }
        Err(StepError(format!(
            "positive control failed: a correct sign-in for {} gave {} (the relying party answered {} {})",
            user.email,
            seen.describe(),
            answer.status,
            excerpt(&answer.body, 200)
        )))
    }

    /// Arms a fault for this canary and client and returns its id. A canary
    /// that cannot be found is an error: a fault is never armed for anyone.
    ///
    /// A fault that cannot apply to the target's client is a skip, not an
    /// error: HMAC keyed by the client secret means nothing to a public
    /// client, which has no secret an attacker could abuse.
    ///
    /// The fault is armed for the authorization server the relying party
    /// signs in with, so that a fault that server cannot carry (ES256's
    /// all-zero signature on an RS256 server) is refused, and is a skip.
    fn arm(
        &self,
        fault: OidcFault,
        user: &Canary,
        server: &mock_idp::oidc::ServerRef,
    ) -> Step<Result<String, Outcome>> {
        let (user_id, client) = self.suite.idp.read_org(|org| {
            (org.find_user(&user.email).map(|u| u.id.clone()), org.find_app(&self.client_id).map(|a| a.id.clone()))
        });
        let (Some(user_id), Some(client)) = (user_id, client) else {
            return Err(StepError(format!("cannot arm {fault}: the canary {} is not in the org", user.email)));
        };
        let plan = OidcFaultPlan { fault, target: FaultTarget::IdToken };
        match self.suite.idp.arm_oidc_fault_on_server(plan, Some(server.clone()), Some(user_id), Some(client)) {
            Ok(armed) => Ok(Ok(armed.id)),
            Err(OidcFaultRefusal::NeedsEs256Server { server, algorithm, .. }) => Ok(Err(Outcome::skip(format!(
                "{fault} needs a client on an authorization server that signs ES256, and the target's client {} signs in through {server}, which signs {algorithm}",
                self.client_id
            )))),
            Err(OidcFaultRefusal::ClientHasNoSecret { .. }) => Ok(Err(Outcome::skip(format!(
                "{fault} needs a client secret, and the target's client {} has none (a public client or private_key_jwt)",
                self.client_id
            )))),
            Err(refusal) => Err(StepError(format!("the mock refused to arm {fault}: {refusal}"))),
        }
    }

    /// The ID token the mock last issued to the client for `user`, decoded
    /// (header and claims; the signature is left out, as it says nothing a
    /// reader can check by eye).
    fn last_id_token(&self, user: &Canary) -> Option<serde_json::Value> {
        let (user_id, client) = self.suite.idp.read_org(|org| {
            (org.find_user(&user.email).map(|u| u.id.clone()), org.find_app(&self.client_id).map(|a| a.id.clone()))
        });
        let token = self.suite.idp.last_id_token(&client?, &user_id?)?;
        Some(decode_jwt(&token))
    }

    /// Whether an armed fault is still waiting, never used.
    fn still_armed(&self, armed: &str) -> bool {
        self.suite.idp.armed_oidc_faults().iter().any(|a| a.id == armed)
    }

    async fn act(&self, action: OidcAction, user: &Canary, server: &mock_idp::oidc::ServerRef) -> Step<Outcome> {
        match action {
            OidcAction::RotateKeys { emergency } => self.rotate_keys(emergency, server).await,
            OidcAction::RefetchBounded => self.refetch_bounded(server).await,
            OidcAction::DiscoveryIssuerMismatch => self.discovery_issuer_mismatch(server).await,
            OidcAction::PkceS256 => self.pkce_s256().await,
            OidcAction::CallbackReplayed => self.callback_replayed().await,
            OidcAction::OpenRedirectAfterLogin => self.open_redirect_after_login().await,
            OidcAction::EmailNotIdentity => self.email_not_identity(user).await,
            OidcAction::RefreshChangesIdentity(fault) => self.refresh_changes_identity(fault, server).await,
            OidcAction::RefuseFault(fault) => self.refuse_fault(fault, server).await,
            OidcAction::SignIn => Ok(Outcome::pass(format!(
                "{} signed in by authorization code with PKCE through {}",
                user.email,
                describe_server(server)
            ))),
            OidcAction::ClaimsInSession => self.claims_in_session().await,
            OidcAction::RoleFromAppProfile => self.role_from_app_profile().await,
            OidcAction::LicenceAtSignIn => self.licence_at_sign_in().await,
            OidcAction::UsernameNotEmailRefused => self.username_not_email_refused().await,
            OidcAction::DisplayNameRequired => self.display_name_required().await,
            OidcAction::StateMissing => {
                let browser = self.suite.browser()?;
                let mut redirected = self.start(&browser, user).await?;
                redirected.callback = without_parameter(&redirected.callback, "state")?;
                let answer = self.finish(&browser, &mut redirected).await?;
                let outcome =
                    self.judge_refusal(&browser, user, &redirected, &answer, "a redirect back with no state").await?;
                Ok(pkce_softens_a_state_failure(outcome, &redirected))
            }
            OidcAction::StateFromOtherBrowser => {
                let started = self.suite.browser()?;
                let redirected = self.start(&started, user).await?;
                // The other browser starts a login of its own first, so it
                // holds a state of its own that the redirect does not carry.
                let other = self.suite.browser()?;
                let own = self.start(&other, user).await?;
                let mut foreign = Redirected {
                    chain: own.chain,
                    callback: redirected.callback,
                    form_post: redirected.form_post,
                    uses_pkce: redirected.uses_pkce,
                };
                let answer = self.finish(&other, &mut foreign).await?;
                self.judge_refusal(&other, user, &foreign, &answer, "another browser's redirect back").await
            }
            OidcAction::CallbackWithoutLogin => {
                let started = self.suite.browser()?;
                let mut redirected = self.start(&started, user).await?;
                let fresh = self.suite.browser()?;
                let answer = self.finish(&fresh, &mut redirected).await?;
                self.judge_refusal(
                    &fresh,
                    user,
                    &redirected,
                    &answer,
                    "a redirect back to a browser that started no login",
                )
                .await
            }
            OidcAction::OutsideDomain => {
                let outside = self.suite.outside_domain();
                let outsider = self.canary("outsider", Some(&outside))?;
                let browser = self.suite.browser()?;
                let mut redirected = self.start(&browser, &outsider).await?;
                let answer = self.finish(&browser, &mut redirected).await?;
                self.judge_refusal(
                    &browser,
                    &outsider,
                    &redirected,
                    &answer,
                    "a sign-in from outside the tenant's domains",
                )
                .await
            }
        }
    }

    async fn refuse_fault(&self, fault: OidcFault, server: &mock_idp::oidc::ServerRef) -> Step<Outcome> {
        // A canary that has never signed in: an existing link between the
        // control's identity and its account cannot mask what the relying
        // party does with the faulty token (a token from another issuer, for
        // one, names a new identity, which a JIT relying party would create).
        let user = &self.canary("faulted", None)?;
        self.suite.ensure_account(user).await?;
        let browser = self.suite.browser()?;
        let armed = match self.arm(fault, user, server)? {
            Ok(armed) => armed,
            Err(not_applicable) => return Ok(not_applicable),
        };
        let mut redirected = self.start(&browser, user).await?;
        let answer = self.finish(&browser, &mut redirected).await?;
        if self.still_armed(&armed) {
            // userinfo is optional for a relying party: one that never calls
            // it cannot be judged on what userinfo says.
            if fault.stage() == mock_idp::oidc::faults::FaultStage::Userinfo {
                return Ok(Outcome::skip("the relying party did not call userinfo, so its sub check cannot be judged"));
            }
            return Err(StepError(format!(
                "the mock never applied {fault} (it is still armed), so there is no verdict"
            )));
        }
        if fault == OidcFault::UserinfoSubMismatch {
            return self.judge_userinfo_not_used(&browser, user, &redirected, &answer).await;
        }
        let outcome = self.judge_refusal(&browser, user, &redirected, &answer, &format!("the {fault} message")).await?;
        if fault == OidcFault::StateMismatch {
            return Ok(pkce_softens_a_state_failure(outcome, &redirected));
        }
        if self.suite.serves_tls() {
            return Ok(tls_softens_a_signature_failure(outcome, fault, &redirected));
        }
        Ok(outcome)
    }

    /// OpenID Connect Core 5.3.2: userinfo for another `sub` MUST NOT be
    /// used. Signing in the ID token's own subject without it is correct;
    /// a session for anyone else, or for no one, is not.
    async fn judge_userinfo_not_used(
        &self,
        browser: &Browser,
        user: &Canary,
        redirected: &Redirected,
        answer: &SpAnswer,
    ) -> Step<Outcome> {
        let seen = self.suite.oracle(browser).await?;
        if seen.is(&user.email) {
            return Ok(Outcome::pass(format!(
                "the userinfo answer was not used: the session is the ID token's own subject, {}",
                user.email
            )));
        }
        let (any_session, held) = self.suite.judge_any_session(&seen).await?;
        if any_session {
            let id_token = self.last_id_token(user);
            return Ok(Outcome::fail(
                format!(
                    "userinfo for another subject was used: the ID token names {}, but the SP gave {held}",
                    user.email
                ),
                evidence_holding(redirected, answer, held, id_token),
            ));
        }
        Ok(Outcome::pass(format!("no session (the relying party answered {})", answer.status)))
    }

    /// The relying party must have given `browser` no session of any kind:
    /// not for `user`, not for anyone else (a faulty userinfo names another
    /// user), not one with no identity.
    async fn judge_refusal(
        &self,
        browser: &Browser,
        user: &Canary,
        redirected: &Redirected,
        answer: &SpAnswer,
        what: &str,
    ) -> Step<Outcome> {
        let seen = self.suite.oracle(browser).await?;
        let (any_session, held) = self.suite.judge_any_session(&seen).await?;
        if any_session {
            let id_token = self.last_id_token(user);
            Ok(Outcome::fail(format!("{what} gave {held}"), evidence_holding(redirected, answer, held, id_token)))
        } else {
            Ok(Outcome::pass(format!("no session for {} (the relying party answered {})", user.email, answer.status)))
        }
    }
}

/// The authorization server in words, for reasons: the org server or a
/// custom server by its id.
fn describe_server(server: &mock_idp::oidc::ServerRef) -> String {
    match server {
        mock_idp::oidc::ServerRef::Org => "the org authorization server".to_owned(),
        mock_idp::oidc::ServerRef::Custom(id) => format!("the custom authorization server '{id}'"),
    }
}

/// A state the relying party does not check, in the browser that started
/// the login, is a weakness rather than a hole when PKCE binds the code to
/// that browser (RFC 9700 4.7.1): the failure becomes a warning.
fn pkce_softens_a_state_failure(outcome: Outcome, redirected: &Redirected) -> Outcome {
    if outcome.verdict == super::Verdict::Fail && redirected.uses_pkce {
        return Outcome::warn(
            format!("{}; the relying party uses PKCE S256, which still binds the code to this browser", outcome.reason),
            outcome.evidence,
        );
    }
    outcome
}

fn evidence_holding(
    redirected: &Redirected,
    answer: &SpAnswer,
    oracle: String,
    id_token: Option<serde_json::Value>,
) -> Option<Evidence> {
    Some(Evidence::Oidc(OidcEvidence {
        id_token,
        redirect_chain: redirected.chain.clone(),
        sp_status: Some(answer.status),
        sp_location: answer.location.clone(),
        sp_body_excerpt: Some(excerpt(&answer.body, 500)),
        oracle,
    }))
}

/// A compact JWS's header and claims as JSON; a part that does not decode
/// is shown as the text it was.
fn decode_jwt(token: &str) -> serde_json::Value {
    use base64::Engine;
    let part = |text: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .unwrap_or_else(|| serde_json::Value::String(text.to_owned()))
    };
    let mut parts = token.split('.');
    serde_json::json!({
        "header": part(parts.next().unwrap_or_default()),
        "claims": part(parts.next().unwrap_or_default()),
    })
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `action` with `fields` as its query (after any query it has).
fn with_query(action: &str, fields: &[(String, String)]) -> Step<String> {
    let mut url = url::Url::parse(action)
        .map_err(|e| StepError(format!("the mock's form posts to '{action}', which is not a URL: {e}")))?;
    url.query_pairs_mut().extend_pairs(fields);
    Ok(url.to_string())
}

/// `url` without the query parameter `name`.
fn without_parameter(url: &str, name: &str) -> Step<String> {
    let mut parsed =
        url::Url::parse(url).map_err(|e| StepError(format!("the redirect back '{url}' is not a URL: {e}")))?;
    let kept: Vec<(String, String)> =
        parsed.query_pairs().filter(|(key, _)| key != name).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    parsed.query_pairs_mut().clear().extend_pairs(kept);
    Ok(parsed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_decodes_to_its_header_and_claims() {
        let token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIwMHUxIn0.";
        let decoded = decode_jwt(token);
        assert_eq!(decoded["header"]["alg"], "none");
        assert_eq!(decoded["claims"]["sub"], "00u1");
        assert_eq!(decode_jwt("not a token")["header"], "not a token");
    }

    #[test]
    fn a_parameter_is_taken_out_and_the_rest_kept() {
        let url = without_parameter("http://sp.test/cb?code=abc&state=xyz&iss=http%3A%2F%2Fidp", "state").unwrap();
        assert_eq!(url, "http://sp.test/cb?code=abc&iss=http%3A%2F%2Fidp");
    }
}
