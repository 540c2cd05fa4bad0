//! The SAML driver: the positive control (a correct IdP-initiated sign-in
//! gives the canary a session), the mock's auto-post form, SP-initiated
//! logins, faults armed for one canary, and evidence in SAML's terms (the
//! decoded response). What each SAML action sends is in `actions.rs`.

mod actions;
mod encryption;
mod logout;
mod metadata;
mod request_signing;
// `mockta target init` reads an SP's metadata with the same parser.
pub(crate) use metadata::{ConsumerService, SpDescriptor, read_sp_descriptor};

pub(in crate::runner) use metadata::wants_assertions_signed;
pub(in crate::runner) use request_signing::{DeclaredRequestSigning, read_declaration, require_signed_requests};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use mock_idp::saml::SamlFaultPlan;
use mock_idp::saml::faults::SamlFault;
use serde::Serialize;

use super::browser::{Browser, SpAnswer};
use super::form;
use super::oracle::Seen;
use super::{Canary, Evidence, Outcome, SamlApp, Step, StepError, Suite, excerpt};
use crate::catalogue::SamlAction;

/// What a SAML check sent and what came back.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SamlEvidence {
    /// The SAML response sent, decoded (truncated, signature values elided).
    pub message: Option<String>,
    pub sp_status: Option<u16>,
    pub sp_location: Option<String>,
    pub sp_body_excerpt: Option<String>,
    /// What the session oracle saw.
    pub oracle: String,
}

impl SamlEvidence {
    /// The response from its Subject on: who and for whom. The signature
    /// blocks before it are rarely what a reader needs first.
    pub(super) fn message_summary(&self) -> Option<(&'static str, String)> {
        let message = self.message.as_ref()?;
        let from = message.find(":Subject ").and_then(|at| message[..at].rfind('<')).unwrap_or(0);
        Some(("message sent (from the Subject)", message[from..].chars().take(700).collect()))
    }
}

/// Runs one SAML check: the positive control, then the action.
pub(super) async fn execute(suite: &Suite, action: SamlAction) -> Step<Outcome> {
    let driver = SamlDriver::new(suite)?;
    if action == SamlAction::SignedAuthnRequest {
        // The AuthnRequest is judged on its way to the mock, and the
        // sign-in it starts is the check's positive control; the check
        // makes its canary only once it knows the SP declares signing.
        return driver.signed_authn_request().await;
    }
    let attacker = driver.canary("canary", None)?;
    suite.ensure_account(&attacker).await?;
    if action == SamlAction::SpInitiated {
        // This check is the SP-initiated sign-in itself: when it is broken,
        // that is its failure, not a broken control.
        return driver.sp_initiated(&attacker).await;
    }
    if let SamlAction::Encrypted(case) = action {
        // The app encrypts only for this check, and its control is the
        // encrypted sign-in, so it runs its own.
        return driver.encrypted(case, attacker).await;
    }
    if matches!(action, SamlAction::SingleLogout | SamlAction::LogoutWrapping) {
        // These keep the browser their control signed in with.
        return driver.single_logout(action, attacker).await;
    }
    let control = driver.positive_control(&attacker).await?;
    driver.act(action, attacker, control).await
}

/// A response the mock produced: its XML and the page that carried it.
pub(in crate::runner) struct Captured {
    xml: String,
    form: String,
}

/// The mock's auto-posting form, reached from the SP's login URL.
struct LoginForm {
    page: SpAnswer,
    action: String,
    response: String,
    relay: String,
}

/// What the positive control did and saw, for actions that build on it.
struct Control {
    message: Captured,
    answer: SpAnswer,
    seen: Seen,
}

pub(in crate::runner) struct SamlDriver<'a> {
    suite: &'a Suite,
    app: &'a SamlApp,
}

impl<'a> SamlDriver<'a> {
    pub(in crate::runner) fn new(suite: &'a Suite) -> Step<Self> {
        let app = suite.saml.as_ref().ok_or_else(|| StepError("the target declares no [saml] section".into()))?;
        Ok(SamlDriver { suite, app })
    }

    pub(in crate::runner) fn canary(&self, prefix: &str, domain: Option<&str>) -> Step<Canary> {
        self.suite.canary(&self.app.id, prefix, domain)
    }

    /// `count` canaries of the SAML app, made in one change to the org.
    pub(in crate::runner) fn canaries(&self, prefix: &str, count: usize) -> Step<Vec<Canary>> {
        self.suite.canaries(&self.app.id, prefix, count)
    }

    fn login_url(&self) -> Option<&str> {
        self.suite.target.saml.as_ref().and_then(|s| s.login_url.as_deref())
    }

    /// Whether the target gives a login URL for SP-initiated sign-in.
    pub(in crate::runner) fn has_login_url(&self) -> bool {
        self.login_url().is_some()
    }

    /// Whether the target says the SP takes unsolicited (IdP-initiated)
    /// responses; true unless it declares `saml.idp_initiated = false`.
    fn declares_idp_initiated(&self) -> bool {
        self.suite.target.saml.as_ref().is_none_or(|s| s.idp_initiated)
    }

    /// The flow the SP uses: SP-initiated when the target has a login URL,
    /// so a response answers the SP's own AuthnRequest, from the browser
    /// that sent it (many SPs check InResponseTo, replay and browser binding
    /// only for their own requests); unsolicited otherwise.
    fn flow(&self) -> &'static str {
        if self.login_url().is_some() { "SP-initiated" } else { "unsolicited" }
    }

    /// Signs `user` in through the SP's flow in `browser`: the mock's
    /// response (with any fault armed for `user`) is posted from the browser
    /// that started the sign-in.
    pub(in crate::runner) async fn sign_in_capture(
        &self,
        browser: &Browser,
        user: &Canary,
    ) -> Step<(Captured, SpAnswer)> {
        if self.login_url().is_none() {
            return self.idp_initiated_capture(browser, user, None).await;
        }
        let LoginForm { page, action, response, relay } =
            self.start_sp_login(browser, user).await?.map_err(StepError)?;
        let answer = self.post(browser, &action, &response, &relay).await?;
        Ok((Captured { xml: decode(&response), form: page.body }, answer))
    }

    /// A correct sign-in must give the canary a session, or no verdict on a
    /// faulty message means anything.
    async fn positive_control(&self, user: &Canary) -> Step<Control> {
        let browser = self.suite.browser()?;
        let (message, answer) = self.sign_in_capture(&browser, user).await?;
        let seen = self.suite.oracle(&browser).await?;
        if seen.is(&user.email) {
            return Ok(Control { message, answer, seen });
        }
        let mut problem = format!(
            "positive control failed: a correct {} sign-in for {} gave {} (SP answered {} {})",
            self.flow(),
            user.email,
            seen.describe(),
            answer.status,
            excerpt(&answer.body, 200)
        );
        if refused_for_signature(&answer) {
            let metadata = format!("{}/app/{}/sso/saml/metadata", self.suite.idp_url(), self.app.id);
            problem.push_str(&format!(
                ". The SP refused the signature of a correct response: it may trust other keys than the suite signs \
                 with. Point the SP at the mock's metadata for this app ({metadata}), or run the suite with --key-dir \
                 set to the key folder the SP's certificate came from."
            ));
        }
        Err(StepError(problem))
    }

    /// Arms a fault for this canary's next response from this app and
    /// returns its id. A canary that cannot be found is an error: a fault is
    /// never armed for anyone.
    pub(in crate::runner) fn arm(&self, fault: SamlFault, user: &Canary, impersonate: Option<String>) -> Step<String> {
        let (user_id, app_id) = self.suite.idp.read_org(|org| {
            (org.find_user(&user.email).map(|u| u.id.clone()), org.find_app(&self.app.id).map(|a| a.id.clone()))
        });
        let (Some(user_id), Some(app_id)) = (user_id, app_id) else {
            return Err(StepError(format!(
                "cannot arm {fault}: the canary {} or the app {} is not in the org",
                user.email, self.app.name
            )));
        };
        Ok(self.suite.idp.arm_saml_fault(SamlFaultPlan { fault, impersonate }, Some(user_id), Some(app_id)).id)
    }

    /// For a message that must be refused outright: what the session held,
    /// when the SP gave the browser a session of any kind (for whoever it
    /// names, or for no one).
    async fn session_given(&self, seen: &Seen) -> Step<Option<String>> {
        let (any, held) = self.suite.judge_any_session(seen).await?;
        Ok(any.then_some(held))
    }

    /// A fault still armed after its response was sent was never applied:
    /// the SP then judged a correct response, and its answer says nothing
    /// about the fault.
    pub(in crate::runner) fn ensure_applied(&self, armed: &str, fault: SamlFault) -> Step<()> {
        if self.suite.idp.armed_saml_faults().iter().any(|a| a.id == armed) {
            return Err(StepError(format!(
                "the mock never applied {fault} (it is still armed), so there is no verdict"
            )));
        }
        Ok(())
    }

    async fn post(&self, browser: &Browser, action: &str, response: &str, relay: &str) -> Step<SpAnswer> {
        let mut form = vec![("SAMLResponse", response)];
        if !relay.is_empty() {
            form.push(("RelayState", relay));
        }
        browser.post_form(action, &form).await
    }

    fn embed_link(&self, user: &Canary, relay: Option<&str>) -> String {
        // The hint is encoded: a `+` in an email (local+tag@) would
        // otherwise reach the mock as a space.
        let hint = url::form_urlencoded::byte_serialize(user.email.as_bytes()).collect::<String>();
        let mut url = format!("{}/home/{}/{}/aln?login_hint={hint}", self.suite.idp_url(), self.app.name, self.app.id);
        if let Some(relay) = relay {
            url.push_str("&RelayState=");
            url.push_str(&url::form_urlencoded::byte_serialize(relay.as_bytes()).collect::<String>());
        }
        url
    }

    async fn idp_initiated(&self, browser: &Browser, user: &Canary, relay: Option<&str>) -> Step<SpAnswer> {
        Ok(self.idp_initiated_capture(browser, user, relay).await?.1)
    }

    pub(in crate::runner) async fn idp_initiated_capture(
        &self,
        browser: &Browser,
        user: &Canary,
        relay: Option<&str>,
    ) -> Step<(Captured, SpAnswer)> {
        let page = browser.get_idp_page(&self.embed_link(user, relay)).await?;
        if page.status != 200 {
            return Err(StepError(format!(
                "the mock IdP refused the sign-in: {} {}",
                page.status,
                excerpt(&page.body, 200)
            )));
        }
        let (action, response, relay) = mock_form_fields(&page.body)?;
        let answer = self.post(browser, &action, &response, &relay).await?;
        Ok((Captured { xml: decode(&response), form: page.body }, answer))
    }

    /// Starts a sign-in at the SP's login URL in `browser` and follows it
    /// (through at most a few redirects) to the mock's auto-posting form for
    /// `user`. The inner `Err` says why the login URL did not reach the IdP,
    /// or why the mock refused the SP's AuthnRequest.
    async fn start_sp_login(&self, browser: &Browser, user: &Canary) -> Step<Result<LoginForm, String>> {
        let request = match self.outgoing_request(browser).await? {
            Ok((request, _)) => request,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let page = self.deliver_request(browser, &request, user).await?;
        if page.status != 200 {
            // The mock refuses a request as Okta would (an unsigned one where
            // the app requires signed requests, an ACS it does not list):
            // the SP's sign-in does not reach the IdP's login.
            return Ok(Err(format!(
                "the mock IdP refused the SP's AuthnRequest ({}): {} {}",
                request.binding(),
                page.status,
                mock_error_code(&page.body).unwrap_or_else(|| excerpt(&page.body, 200))
            )));
        }
        let (action, response, relay) = mock_form_fields(&page.body)?;
        Ok(Ok(LoginForm { page, action, response, relay }))
    }

    /// Starts a sign-in at the SP's login URL in `browser` and follows it to
    /// where the AuthnRequest leaves for the IdP, without sending it there:
    /// the request, and the SP's answer that carried it. The inner `Err`
    /// says why the login URL did not reach the IdP.
    async fn outgoing_request(&self, browser: &Browser) -> Step<Result<(OutgoingRequest, SpAnswer), String>> {
        let Some(login) = self.login_url() else { return Err(StepError("no saml.login_url".into())) };
        let idp_url = self.suite.idp_url();
        let chain = browser.follow(login, |location| location.starts_with(&idp_url)).await?;
        let last = chain.last().ok_or_else(|| StepError("the login URL gave no answer".into()))?;
        let request = match last.location.clone().filter(|l| l.starts_with(&idp_url)) {
            // HTTP-Redirect binding: the AuthnRequest is in the query.
            Some(location) => OutgoingRequest::Redirect { location },
            // HTTP-POST binding: the SP answers with a form that a browser's
            // script posts to the IdP's SSO URL.
            None => match form::parse(&last.body).filter(|f| f.action.starts_with(&idp_url)) {
                Some(form) if last.status == 200 && form.field("SAMLRequest").is_some() => {
                    OutgoingRequest::Post { action: form.action, fields: form.fields }
                }
                _ => {
                    return Ok(Err(format!(
                        "the login URL answered {} with neither a redirect to the IdP nor a form posting a SAMLRequest to it",
                        last.status
                    )));
                }
            },
        };
        Ok(Ok((request, last.clone())))
    }

    /// Carries the SP's AuthnRequest to the mock as the browser would, with
    /// `login_hint` naming `user`, and returns the mock's page.
    async fn deliver_request(&self, browser: &Browser, request: &OutgoingRequest, user: &Canary) -> Step<SpAnswer> {
        let hint = url::form_urlencoded::byte_serialize(user.email.as_bytes()).collect::<String>();
        match request {
            OutgoingRequest::Redirect { location } => {
                let separator = if location.contains('?') { '&' } else { '?' };
                browser.get_idp_page(&format!("{location}{separator}login_hint={hint}")).await
            }
            OutgoingRequest::Post { action, fields } => {
                let separator = if action.contains('?') { '&' } else { '?' };
                let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                browser.post_form_idp_page(&format!("{action}{separator}login_hint={hint}"), &pairs).await
            }
        }
    }
}

/// The SP's AuthnRequest as it leaves for the IdP.
enum OutgoingRequest {
    /// HTTP-Redirect: the IdP's URL with the request (and, when signed,
    /// `SigAlg` and `Signature`) in its query, as the SP encoded it.
    Redirect { location: String },
    /// HTTP-POST: the form's action and fields (`SAMLRequest`, base64 XML).
    Post { action: String, fields: Vec<(String, String)> },
}

impl OutgoingRequest {
    fn binding(&self) -> &'static str {
        match self {
            OutgoingRequest::Redirect { .. } => "HTTP-Redirect",
            OutgoingRequest::Post { .. } => "HTTP-POST",
        }
    }
}

/// The `data-error-code` of the mock's error page, where the page is one.
fn mock_error_code(html: &str) -> Option<String> {
    let at = html.find("data-error-code=\"")? + "data-error-code=\"".len();
    let code = &html[at..];
    code.find('"').map(|end| code[..end].to_owned())
}

/// Whether the SP's refusal names the signature, in its error code or body.
fn refused_for_signature(answer: &SpAnswer) -> bool {
    let says = |text: &str| text.to_ascii_lowercase().contains("signature");
    answer.error_code.as_deref().is_some_and(says) || says(&excerpt(&answer.body, 2000))
}

/// The message for evidence: signature values and certificates are elided,
/// so the excerpt shows what the message says.
fn compact_message(xml: &str) -> String {
    let mut out = xml.to_owned();
    for element in ["SignatureValue", "X509Certificate"] {
        let open = format!("<ds:{element}>");
        let close = format!("</ds:{element}>");
        let mut cursor = 0;
        while let Some(start) = out[cursor..].find(&open).map(|i| i + cursor + open.len()) {
            let Some(end) = out[start..].find(&close).map(|i| i + start) else { break };
            out.replace_range(start..end, "…");
            cursor = start + "…".len() + close.len();
        }
    }
    out
}

fn evidence(message: &Captured, answer: &SpAnswer, seen: &Seen) -> Option<Evidence> {
    evidence_holding(message, answer, seen.describe())
}

/// Evidence with what the oracle saw said as given (a session with no
/// identity is described against the never-signed-in answer).
fn evidence_holding(message: &Captured, answer: &SpAnswer, oracle: String) -> Option<Evidence> {
    Some(Evidence::Saml(SamlEvidence {
        message: Some(excerpt(&compact_message(&message.xml), 4096)),
        sp_status: Some(answer.status),
        sp_location: answer.location.clone(),
        sp_body_excerpt: Some(excerpt(&answer.body, 500)),
        oracle,
    }))
}

/// `canary-x@acme.test` becomes `CANARY-X@acme.test`.
fn upper_local_part(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}@{domain}", local.to_uppercase()),
        None => email.to_uppercase(),
    }
}

fn decode(encoded: &str) -> String {
    BASE64.decode(encoded).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

/// The action, SAMLResponse and RelayState of the mock's auto-post form.
fn mock_form_fields(html: &str) -> Step<(String, String, String)> {
    let fields = mock_idp::saml::form::parse(html)
        .ok_or_else(|| StepError("the IdP page is not the mock's auto-post form".into()))?;
    Ok((fields.action, fields.saml_response, fields.relay_state))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(error_code: Option<&str>, body: &str) -> SpAnswer {
        SpAnswer { status: 403, location: None, error_code: error_code.map(str::to_owned), body: body.to_owned() }
    }

    #[test]
    fn a_signature_refusal_is_recognised_by_code_or_body() {
        assert!(refused_for_signature(&answer(Some("signature_invalid"), "")));
        assert!(refused_for_signature(&answer(None, "Invalid Signature on SAML Response")));
        assert!(!refused_for_signature(&answer(Some("audience_mismatch"), "wrong audience")));
    }
}
