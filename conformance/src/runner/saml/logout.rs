//! The Single Logout checks. Each signs the canary in through the SP's flow
//! in a browser it keeps (the victim's, for S-33), so it runs its own
//! positive control.
//!
//! `saml.slo.sp_initiated` starts the SP's logout in that browser and
//! carries the SP's LogoutRequest to the mock and the mock's LogoutResponse
//! back, as a browser does; the session must end at both ends. The mock
//! takes only LogoutRequests signed by the app's signature certificate, as
//! Okta does, so it turns Single Logout on for the app from the target's
//! `slo_certificate_file`, or else from the signing certificate in the SP's
//! metadata (`metadata_url`), when the org file has not.
//!
//! `saml.slo.wrapped_signature` (attacks.md S-33) plays the IdP from another
//! browser: LogoutRequests naming the canary's NameID and SessionIndex that
//! are not signed themselves, one carrying the canary's captured signed
//! Assertion in its Extensions (what samlify took as signed), one bare. The
//! victim's session must survive both.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{Captured, SamlDriver, decode, evidence_holding, mock_form_fields};
use crate::catalogue::SamlAction;
use crate::runner::browser::{Browser, SpAnswer};
use crate::runner::{Canary, Outcome, Step, StepError, excerpt};

const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

/// The canary's session, made by a correct sign-in in a browser the check
/// keeps, and the signed response that made it.
struct SignedIn {
    browser: Browser,
    response_xml: String,
}

impl SamlDriver<'_> {
    pub(super) async fn single_logout(&self, action: SamlAction, user: Canary) -> Step<Outcome> {
        let signed_in = self.signed_in_browser(&user).await?;
        match action {
            SamlAction::LogoutWrapping => self.logout_wrapping(&user, signed_in).await,
            _ => self.sp_initiated_logout(&user, signed_in).await,
        }
    }

    /// The positive control, keeping its browser.
    async fn signed_in_browser(&self, user: &Canary) -> Step<SignedIn> {
        let browser = self.suite.browser()?;
        let (message, answer) = self.sign_in_capture(&browser, user).await?;
        let seen = self.suite.oracle(&browser).await?;
        if !seen.is(&user.email) {
            return Err(StepError(format!(
                "positive control failed: a correct {} sign-in for {} gave {} (SP answered {} {})",
                self.flow(),
                user.email,
                seen.describe(),
                answer.status,
                excerpt(&answer.body, 200)
            )));
        }
        Ok(SignedIn { browser, response_xml: message.xml })
    }

    fn saml_target(&self) -> Step<&crate::target::SamlTarget> {
        self.suite.target.saml.as_ref().ok_or_else(|| StepError("the target declares no [saml] section".into()))
    }

    /// Turns the app's Single Logout on from the target when the org file
    /// has not, so the mock can check the SP's signed LogoutRequests. The
    /// certificate is the target's `slo_certificate_file`, or else the
    /// signing `KeyDescriptor` of the SP's metadata (`metadata_url`), where an
    /// admin would copy it from into Okta: an SP whose keys are made at
    /// start-up has no file to name.
    async fn ensure_app_single_logout(&self) -> Step<()> {
        let saml = self.saml_target()?;
        let enabled = self
            .suite
            .idp
            .read_org(|org| org.find_app(&self.app.id).and_then(|a| a.saml()).map(|s| s.single_logout.is_some()));
        if enabled.unwrap_or(false) {
            return Ok(());
        }
        let nothing_to_turn_it_on_with = || {
            StepError(
                "the app has no Single Logout in the org file (slo_url) and the target gives neither saml.slo_certificate_file nor saml.metadata_url to turn it on with".into(),
            )
        };
        let slo_url = saml.slo_url.as_ref().ok_or_else(nothing_to_turn_it_on_with)?;
        let certificate = match (&saml.slo_certificate_file, &saml.metadata_url) {
            (Some(file), _) => {
                let certificate = std::fs::read_to_string(file).map_err(|e| {
                    StepError(format!("saml.slo_certificate_file {} cannot be read: {e}", file.display()))
                })?;
                if !certificate.contains("-----BEGIN CERTIFICATE-----") {
                    return Err(StepError(format!(
                        "saml.slo_certificate_file {} is not a PEM certificate",
                        file.display()
                    )));
                }
                certificate
            }
            (None, Some(url)) => self.sp_signing_certificate(url).await?,
            (None, None) => return Err(nothing_to_turn_it_on_with()),
        };
        self.suite.idp.write_org(|org| {
            let id = org.find_app(&self.app.id).map(|a| a.id.clone());
            if let Some(settings) = id.and_then(|id| org.apps.get_mut(&id)).and_then(|a| a.saml_mut()) {
                settings.single_logout = Some(mock_idp::org::SingleLogout {
                    url: slo_url.clone(),
                    sp_issuer: settings.audience.0.clone(),
                    certificate: certificate.clone(),
                });
            }
        });
        Ok(())
    }

    /// The SP's signing certificate (PEM) from the first signing
    /// `KeyDescriptor` (`use="signing"` or no `use`) of its metadata at `url`.
    async fn sp_signing_certificate(&self, url: &str) -> Step<String> {
        let answer = self.suite.browser()?.get(url).await?;
        if answer.status != 200 {
            return Err(StepError(format!("the SP metadata URL {url} answered {}", answer.status)));
        }
        let descriptor = super::metadata::read_sp_descriptor(&answer.body)
            .map_err(|why| StepError(format!("the SP metadata at {url}: {why}")))?;
        let certificate = descriptor.signing_certificates.first().ok_or_else(|| {
            StepError(format!(
                "the SP's metadata at {url} has no signing KeyDescriptor to check its LogoutRequests with; give saml.slo_certificate_file"
            ))
        })?;
        Ok(super::encryption::pem(certificate))
    }

    async fn sp_initiated_logout(&self, user: &Canary, signed_in: SignedIn) -> Step<Outcome> {
        self.ensure_app_single_logout().await?;
        let saml = self.saml_target()?;
        let logout_url = saml.logout_url.clone().ok_or_else(|| StepError("no saml.logout_url".into()))?;
        let browser = signed_in.browser;
        let idp_url = self.suite.idp_url();
        let mock_session = browser.cookies_for(&idp_url).into_iter().find(|(name, _)| name == "sid").map(|(_, v)| v);
        let mock_session =
            mock_session.ok_or_else(|| StepError("the sign-in left no mock session cookie in the browser".into()))?;

        let chain = browser.follow(&logout_url, |location| location.starts_with(&idp_url)).await?;
        let last = chain.last().ok_or_else(|| StepError("the logout URL gave no answer".into()))?;
        let idp_page = match last.location.clone().filter(|l| l.starts_with(&idp_url)) {
            Some(location) => browser.get(&location).await?,
            None => match super::form::parse(&last.body).filter(|f| f.action.starts_with(&idp_url)) {
                Some(request) if request.field("SAMLRequest").is_some() => {
                    browser.post_form(&request.action, &request.pairs()).await?
                }
                _ => {
                    let seen = self.suite.oracle(&browser).await?;
                    let message = Captured { xml: String::new(), form: last.body.clone() };
                    return Ok(Outcome::fail(
                        format!(
                            "the logout URL answered {} without sending a LogoutRequest to the IdP; the SP session: {}",
                            last.status,
                            seen.describe()
                        ),
                        evidence_holding(&message, last, seen.describe()),
                    ));
                }
            },
        };
        if idp_page.status != 200 {
            return Err(StepError(format!(
                "the mock refused the SP's LogoutRequest outright: {} {}",
                idp_page.status,
                excerpt(&idp_page.body, 300)
            )));
        }
        let (action, response, relay) = mock_form_fields(&idp_page.body)?;
        let logout_response = decode(&response);
        let answer = self.post(&browser, &action, &response, &relay).await?;
        let seen = self.suite.oracle(&browser).await?;
        let message = Captured { xml: logout_response.clone(), form: idp_page.body };
        let idp_session_ended = !self.suite.idp.has_session(&mock_session);
        let honoured = logout_response.contains(&format!("Value=\"{STATUS_SUCCESS}\""));
        if seen.is(&user.email) {
            return Ok(Outcome::fail(
                format!("after the SP's logout and the IdP's LogoutResponse the SP still gave {}", seen.describe()),
                evidence_holding(&message, &answer, seen.describe()),
            ));
        }
        if !idp_session_ended {
            let why = if honoured {
                "the IdP session was not ended".to_owned()
            } else {
                "the IdP refused the SP's LogoutRequest (Requester/RequestDenied: Okta takes only LogoutRequests signed by the app's signature certificate, from its SP Issuer), so the IdP session lives on".to_owned()
            };
            return Ok(Outcome::fail(why, evidence_holding(&message, &answer, seen.describe())));
        }
        Ok(Outcome::pass(format!(
            "the SP ended its session and its signed LogoutRequest ended the IdP's; the SP answered the LogoutResponse with {}",
            answer.status
        )))
    }

    async fn logout_wrapping(&self, user: &Canary, signed_in: SignedIn) -> Step<Outcome> {
        let saml = self.saml_target()?;
        let slo_url = saml.slo_url.clone().ok_or_else(|| StepError("no saml.slo_url".into()))?;
        let issuer = self
            .suite
            .idp
            .read_org(|org| org.find_app(&self.app.id).and_then(|a| a.saml()).map(|s| s.idp_entity_id().0))
            .ok_or_else(|| StepError(format!("the app {} has no SAML settings", self.app.name)))?;
        let captured = CapturedAssertion::from_response(&signed_in.response_xml)
            .ok_or_else(|| StepError("the control's response has no signed Assertion with a NameID to wrap".into()))?;
        let cases = [
            ("wrapping the canary's captured signed Assertion", Some(captured.assertion.as_str())),
            ("with no signature at all", None),
        ];
        for (n, (what, wrapped)) in cases.into_iter().enumerate() {
            let id = format!("_mockta_slo_{}_{n}", user.email.split('@').next().unwrap_or("canary"));
            let xml = unsigned_logout_request(&id, &issuer, &slo_url, &captured, wrapped, self.suite.idp.now());
            // The attacker sends it from a browser of its own: the victim's
            // cookies never travel with it.
            let attacker = self.suite.browser()?;
            let answer = self.post_logout_request(&attacker, &slo_url, &xml).await?;
            let seen = self.suite.oracle(&signed_in.browser).await?;
            if !seen.is(&user.email) {
                let message = Captured { xml, form: String::new() };
                return Ok(Outcome::fail(
                    format!(
                        "a LogoutRequest that is not signed itself, {what}, ended the canary's session: the SP then gave {}",
                        seen.describe()
                    ),
                    evidence_holding(&message, &answer, seen.describe()),
                ));
            }
        }
        Ok(Outcome::pass(
            "the canary kept the session after LogoutRequests that were not signed themselves (one wrapping its signed Assertion, one bare)",
        ))
    }

    async fn post_logout_request(&self, browser: &Browser, slo_url: &str, xml: &str) -> Step<SpAnswer> {
        let encoded = BASE64.encode(xml.as_bytes());
        browser.post_form(slo_url, &[("SAMLRequest", encoded.as_str())]).await
    }
}

/// What S-33 takes from the victim's sign-in: the signed Assertion as sent,
/// and the NameID and SessionIndex a LogoutRequest names.
struct CapturedAssertion {
    assertion: String,
    name_id: String,
    name_id_format: Option<String>,
    session_index: Option<String>,
}

impl CapturedAssertion {
    /// Cuts the signed Assertion out of the response text (Okta's
    /// `saml2:Assertion` declares its own namespaces, and its signature's
    /// exclusive canonical form does not depend on where it stands).
    fn from_response(xml: &str) -> Option<CapturedAssertion> {
        let start = xml.find("<saml2:Assertion ")?;
        let close = "</saml2:Assertion>";
        let end = xml[start..].find(close)? + start + close.len();
        let assertion = xml[start..end].to_owned();
        if !assertion.contains("<ds:Signature") {
            return None;
        }
        let name_id_open = assertion.find("<saml2:NameID")?;
        let name_id_tag_end = assertion[name_id_open..].find('>')? + name_id_open;
        let name_id_end = assertion[name_id_tag_end..].find("</saml2:NameID>")? + name_id_tag_end;
        let name_id = assertion[name_id_tag_end + 1..name_id_end].to_owned();
        let attribute = |tag: &str, name: &str| {
            let marker = format!("{name}=\"");
            let at = assertion.find(tag)?;
            let tag_end = assertion[at..].find('>')? + at;
            let start = assertion[at..tag_end].find(&marker)? + at + marker.len();
            Some(assertion[start..start + assertion[start..].find('"')?].to_owned())
        };
        Some(CapturedAssertion {
            name_id_format: attribute("<saml2:NameID", "Format"),
            session_index: attribute("<saml2:AuthnStatement", "SessionIndex"),
            name_id,
            assertion,
        })
    }
}

/// A LogoutRequest from the IdP for the captured session, unsigned, with
/// `wrapped` (the captured signed Assertion) in its Extensions when given,
/// issued at `now` (the mock IdP's clock, as its own messages are).
fn unsigned_logout_request(
    id: &str,
    issuer: &str,
    destination: &str,
    captured: &CapturedAssertion,
    wrapped: Option<&str>,
    now: time::OffsetDateTime,
) -> String {
    let now = mock_idp::saml::response::saml_time(now);
    let extensions = wrapped.map(|a| format!("<saml2p:Extensions>{a}</saml2p:Extensions>")).unwrap_or_default();
    let format = captured.name_id_format.as_ref().map(|f| format!(" Format=\"{f}\"")).unwrap_or_default();
    let session_index = captured
        .session_index
        .as_ref()
        .map(|index| format!("<saml2p:SessionIndex>{index}</saml2p:SessionIndex>"))
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><saml2p:LogoutRequest Destination=\"{destination}\" ID=\"{id}\" IssueInstant=\"{now}\" Version=\"2.0\" xmlns:saml2p=\"{NS_PROTOCOL}\"><saml2:Issuer xmlns:saml2=\"{NS_ASSERTION}\">{issuer}</saml2:Issuer>{extensions}<saml2:NameID{format} xmlns:saml2=\"{NS_ASSERTION}\">{}</saml2:NameID>{session_index}</saml2p:LogoutRequest>",
        captured.name_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_captured_assertion_gives_the_session_it_names() {
        let response = "<saml2p:Response><saml2:Assertion ID=\"a1\" xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\"><ds:Signature/><saml2:Subject><saml2:NameID Format=\"urn:f\">ann@acme.test</saml2:NameID></saml2:Subject><saml2:AuthnStatement AuthnInstant=\"t\" SessionIndex=\"id42\"/></saml2:Assertion></saml2p:Response>";
        let captured = CapturedAssertion::from_response(response).unwrap();
        assert_eq!(captured.name_id, "ann@acme.test");
        assert_eq!(captured.name_id_format.as_deref(), Some("urn:f"));
        assert_eq!(captured.session_index.as_deref(), Some("id42"));
        let xml = unsigned_logout_request(
            "_x",
            "http://www.okta.com/exk1",
            "https://sp/slo",
            &captured,
            None,
            time::OffsetDateTime::UNIX_EPOCH,
        );
        assert!(xml.contains("<saml2p:SessionIndex>id42</saml2p:SessionIndex>"), "{xml}");
        assert!(!xml.contains("Extensions"));
        let wrapped = unsigned_logout_request(
            "_x",
            "http://www.okta.com/exk1",
            "https://sp/slo",
            &captured,
            Some("<a/>"),
            time::OffsetDateTime::UNIX_EPOCH,
        );
        assert!(wrapped.contains("<saml2p:Extensions><a/></saml2p:Extensions><saml2:NameID"), "{wrapped}");
        assert!(CapturedAssertion::from_response("<saml2:Assertion ID=\"x\"></saml2:Assertion>").is_none());
    }
}
