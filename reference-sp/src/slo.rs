//! SAML Single Logout (SAML Profiles 4.4) over the store: the SP-initiated
//! logout that ends the local session and asks the IdP to end its own, the
//! IdP's LogoutResponse, and (when a tenant allows it) the IdP's own
//! LogoutRequest. No HTTP here.

use time::Duration;

use crate::config::SingleLogoutSettings;
use crate::saml::SamlError;
use crate::saml::logout::{LogoutExpectations, ReceivedLogout, logout_request_url, verify_logout_request};
use crate::sp::{MAX_PENDING_SIGN_INS_PER_TENANT, Sp, SpError, hash_token, new_token};
use crate::store::{PendingSignIn, SignInProtocol};

/// How long the IdP may take to answer a LogoutRequest.
const PENDING_LOGOUT_TTL: Duration = Duration::minutes(10);

/// Where an SP-initiated logout sends the browser.
#[derive(Debug)]
pub enum LogoutStart {
    /// To the IdP with a LogoutRequest; `pending_token` ties its
    /// LogoutResponse to this browser.
    ToIdp { redirect_url: String, pending_token: String },
    /// Straight back: the browser had no SAML session to end at the IdP.
    Local { redirect_to: String },
}

/// What a message at the Single Logout URL did.
#[derive(Debug, PartialEq, Eq)]
pub enum LogoutFinished {
    /// The IdP confirmed the logout this browser started; go here.
    Confirmed { redirect_to: String },
    /// The IdP's own LogoutRequest ended this many sessions.
    IdpInitiated { sessions_ended: usize },
}

impl Sp {
    /// The tenant's Single Logout settings and this SP's Single Logout URL
    /// for it, `{base_url}/sso/slo/{tenant}`.
    fn single_logout(&self, tenant: &str) -> Result<(crate::config::TenantId, SingleLogoutSettings, String), SpError> {
        let (tenant, saml) = self.saml_tenant(tenant)?;
        let settings = saml.single_logout.clone().ok_or(SamlError::LogoutNotConfigured)?;
        Ok((tenant.id.clone(), settings, self.config.slo_url(&tenant.id)))
    }

    /// SP-initiated logout: the local session ends at once, whatever the
    /// IdP answers later, and a SAML session's NameID and SessionIndex go
    /// to the IdP in a LogoutRequest signed with the tenant's key.
    pub fn start_logout(
        &self,
        tenant: &str,
        session_token: Option<&str>,
        relay_state: Option<&str>,
    ) -> Result<LogoutStart, SpError> {
        let (tenant_id, settings, _) = self.single_logout(tenant)?;
        let (_, saml) = self.saml_tenant(tenant)?;
        let now = self.now();
        let return_to =
            relay_state.filter(|r| !r.is_empty() && crate::saml::relay_state_is_local(r)).unwrap_or("/").to_owned();
        let key = match session_token {
            Some(token) => {
                let hashed = hash_token(token);
                let key = self.store.session_saml_key(&hashed, now)?;
                self.store.delete_session(&hashed)?;
                key
            }
            None => None,
        };
        let Some(key) = key else { return Ok(LogoutStart::Local { redirect_to: return_to }) };
        let request_id = format!("_{}", hash_token(&new_token()).get(..32).unwrap_or_default());
        let pending_token = new_token();
        let pending = PendingSignIn {
            tenant: tenant_id.clone(),
            protocol: SignInProtocol::SamlLogout,
            request_id: request_id.clone(),
            nonce: None,
            code_verifier: None,
            return_to: return_to.clone(),
        };
        self.store.save_pending_sign_in(
            &hash_token(&pending_token),
            &pending,
            now + PENDING_LOGOUT_TTL,
            now,
            MAX_PENDING_SIGN_INS_PER_TENANT,
        )?;
        let signing_key = if self.policy.sign_logout_requests { self.signing_key_pem(&tenant_id) } else { None };
        let redirect_url = logout_request_url(
            &settings.idp_url,
            &request_id,
            &saml.sp_entity_id,
            &key.name_id,
            key.session_index.as_deref(),
            // The RelayState stays with the pending logout, not on the wire.
            "",
            now,
            signing_key,
        )?;
        tracing::info!(tenant = %tenant_id, "local session ended; LogoutRequest sent to the IdP");
        Ok(LogoutStart::ToIdp { redirect_url, pending_token })
    }

    /// A message POSTed to the tenant's Single Logout URL: the IdP's
    /// LogoutResponse to the logout this browser started (`pending_token`),
    /// or a LogoutRequest of the IdP's own.
    pub fn finish_logout(
        &self,
        tenant: &str,
        message: ReceivedLogout,
        pending_token: Option<&str>,
    ) -> Result<LogoutFinished, SpError> {
        let (tenant_id, settings, slo_url) = self.single_logout(tenant)?;
        let metadata = self.idp_metadata(&tenant_id).ok_or_else(|| SpError::NoMetadata(tenant_id.clone()))?;
        let now = self.now();
        let expect = LogoutExpectations {
            idp_entity_id: &metadata.entity_id,
            certificates: &metadata.certificates,
            slo_url: &slo_url,
            signature_anywhere: self.policy.logout_signature_anywhere,
        };
        match message {
            ReceivedLogout::Response(xml) => {
                let pending = match pending_token {
                    Some(token) => self
                        .store
                        .take_pending_sign_in(&hash_token(token), now)?
                        .filter(|p| p.tenant == tenant_id && p.protocol == SignInProtocol::SamlLogout),
                    None => None,
                };
                crate::saml::logout::verify_logout_response(
                    &xml,
                    &expect,
                    pending.as_ref().map(|p| p.request_id.as_str()),
                )?;
                let redirect_to = pending.map(|p| p.return_to).unwrap_or_else(|| "/".to_owned());
                Ok(LogoutFinished::Confirmed { redirect_to })
            }
            ReceivedLogout::Request(xml) => {
                if !settings.allow_idp_initiated {
                    return Err(SamlError::IdpLogoutNotAllowed.into());
                }
                let request = verify_logout_request(&xml, &expect, now)?;
                // A verified LogoutRequest is used once, like an assertion.
                if !self.store.remember_message_id(&tenant_id, &request.id, now + PENDING_LOGOUT_TTL, now)? {
                    return Err(SamlError::Replay.into());
                }
                let sessions_ended =
                    self.store.end_saml_sessions(&tenant_id, &request.name_id, &request.session_indexes)?;
                tracing::info!(tenant = %tenant_id, sessions_ended, "the IdP's LogoutRequest ended sessions");
                Ok(LogoutFinished::IdpInitiated { sessions_ended })
            }
        }
    }
}
