//! Okta's SP-initiated Single Logout at `/app/{org}_{appslug}_{n}/{exk…}/slo/saml`.
//!
//! Okta supports only SP-initiated Single Logout for SAML apps: the SP sends
//! a signed LogoutRequest, Okta ends its own session and POSTs a signed
//! LogoutResponse to the app's Single Logout URL. It never sends
//! LogoutRequests to apps itself (outside the separate front-channel Single
//! Logout feature), so neither does the mock.

use std::sync::PoisonError;

use super::{Idp, IdpError};
use crate::saml::authn_request::{self, ReceivedRequest};
use crate::saml::logout::{self, LogoutError, LogoutResponseContent, LogoutStatus};
use crate::saml::{SamlError, sign};

/// What the browser is sent after a LogoutRequest that could be read: the
/// auto-post page of a signed LogoutResponse to the app's Single Logout URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoutOutcome {
    pub slo_url: String,
    pub response_xml: String,
    pub relay_state: String,
    /// Whether the LogoutRequest was honoured (the mock session ended); a
    /// refused one is answered `Requester` / `RequestDenied`.
    pub honoured: bool,
    /// Why a refused LogoutRequest was refused, for the log.
    pub refusal: Option<LogoutError>,
}

impl Idp {
    /// Handles a LogoutRequest sent to the app's Single Logout URL (either
    /// binding). `session` is the browser's mock session cookie, which ends
    /// only when the request is signed by the app's signature certificate
    /// and comes from its SP Issuer. A message that is not a readable
    /// LogoutRequest has no ID to answer and is an error page.
    pub fn single_logout(
        &self,
        app_name: &str,
        key_or_id: &str,
        received: ReceivedRequest<'_>,
        session: Option<&str>,
    ) -> Result<LogoutOutcome, IdpError> {
        let ReceivedRequest { saml_request, binding, relay_state, raw_query } = received;
        let (app_id, settings) = self.find_saml_app(app_name, key_or_id)?;
        let slo = settings.single_logout.clone().ok_or(SamlError::Logout(LogoutError::NotEnabled))?;
        let xml =
            authn_request::decode(saml_request, binding).map_err(|_| SamlError::Logout(LogoutError::Unreadable))?;
        let request = logout::parse(&xml).map_err(SamlError::Logout)?;
        let refusal = match logout::verify_signature(&xml, binding, raw_query, &slo.certificate) {
            Err(refused) => Some(refused),
            Ok(()) => match &request.issuer {
                Some(issuer) if *issuer == slo.sp_issuer => None,
                other => Some(LogoutError::WrongIssuer {
                    found: other.clone().unwrap_or_default(),
                    expected: slo.sp_issuer.clone(),
                }),
            },
        };
        if refusal.is_none()
            && let Some(token) = session
        {
            self.sessions.lock().unwrap_or_else(PoisonError::into_inner).map.remove(token);
        }
        let credential = self.saml_credential(&app_id)?;
        let content = LogoutResponseContent {
            id: self.ids.saml_id(),
            issuer: settings.idp_entity_id().0,
            destination: slo.url.clone(),
            in_response_to: request.id,
            issue_instant: self.now(),
            status: if refusal.is_none() { LogoutStatus::Success } else { LogoutStatus::RequestDenied },
            algorithm: settings.signature_algorithm,
            certificate: credential.cert_base64_wrapped().to_owned(),
        };
        let response_xml =
            sign::sign_response_template(&logout::render_response(&content), &credential).map_err(SamlError::from)?;
        Ok(LogoutOutcome {
            slo_url: slo.url,
            response_xml,
            relay_state: relay_state.unwrap_or_default(),
            honoured: refusal.is_none(),
            refusal,
        })
    }

    /// Whether the mock browser session with this cookie value is live, so a
    /// test or the suite can see that Single Logout ended it.
    pub fn has_session(&self, token: &str) -> bool {
        self.session(token).is_some()
    }
}
