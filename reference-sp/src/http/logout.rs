//! SAML Single Logout handlers: `/sso/logout/{tenant}` starts an
//! SP-initiated logout, `/sso/slo/{tenant}` takes what the IdP POSTs back.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::{FormBody, PathSegments, QueryParameters, off_the_runtime};
use super::{HttpError, SESSION_COOKIE, cookie};
use crate::idp_fetch;
use crate::saml::logout::ReceivedLogout;
use crate::slo::{LogoutFinished, LogoutStart};
use crate::sp::Sp;

/// The cookie that ties an outstanding LogoutRequest to this browser.
pub const LOGOUT_PENDING_COOKIE: &str = "rsp_logout";

#[derive(Debug, Deserialize)]
pub(super) struct LogoutParams {
    relay_state: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct SloForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
}

fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The pending-logout cookie travels on the IdP's cross-site POST of its
/// LogoutResponse, as the pending sign-in cookie does on the ACS POST.
fn logout_pending_cookie(sp: &Sp, value: &str, max_age: i64) -> String {
    let secure = if sp.config().base_url.starts_with("https://") { "; SameSite=None; Secure" } else { "" };
    format!("{LOGOUT_PENDING_COOKIE}={value}; Path=/sso/slo; HttpOnly; Max-Age={max_age}{secure}")
}

/// SP-initiated logout (GET, as the logout links of SAML SPs are, or
/// POST): the local session ends here, then the browser takes a signed
/// LogoutRequest to the IdP.
pub(super) async fn start(
    State(sp): State<Arc<Sp>>,
    PathSegments(tenant): PathSegments<String>,
    QueryParameters(params): QueryParameters<LogoutParams>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    idp_fetch::ensure(&sp, &tenant).await?;
    let session = cookie(&headers, SESSION_COOKIE);
    let start =
        off_the_runtime(&sp, move |sp| sp.start_logout(&tenant, session.as_deref(), params.relay_state.as_deref()))
            .await?;
    let mut response = match start {
        LogoutStart::ToIdp { redirect_url, pending_token } => {
            let mut response = (StatusCode::FOUND, [(header::LOCATION, redirect_url)]).into_response();
            set_cookie(&mut response, &logout_pending_cookie(&sp, &pending_token, 600));
            response
        }
        LogoutStart::Local { redirect_to } => {
            (StatusCode::SEE_OTHER, [(header::LOCATION, redirect_to)]).into_response()
        }
    };
    set_cookie(&mut response, &format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"));
    Ok(response)
}

/// The tenant's Single Logout URL (HTTP-POST binding): the IdP's
/// LogoutResponse, or a LogoutRequest of its own.
pub(super) async fn single_logout(
    State(sp): State<Arc<Sp>>,
    PathSegments(tenant): PathSegments<String>,
    headers: HeaderMap,
    FormBody(form): FormBody<SloForm>,
) -> Result<Response, HttpError> {
    idp_fetch::ensure(&sp, &tenant).await?;
    let message = match (form.saml_response, form.saml_request) {
        (Some(response), None) => ReceivedLogout::from_form_value(&response, false),
        (None, Some(request)) => ReceivedLogout::from_form_value(&request, true),
        _ => Err(crate::saml::SamlError::Malformed("expected one of SAMLResponse or SAMLRequest")),
    }
    .map_err(crate::sp::SpError::from)?;
    let pending = cookie(&headers, LOGOUT_PENDING_COOKIE);
    let finished = off_the_runtime(&sp, move |sp| sp.finish_logout(&tenant, message, pending.as_deref())).await?;
    Ok(match finished {
        LogoutFinished::Confirmed { redirect_to } => {
            let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, redirect_to)]).into_response();
            set_cookie(&mut response, &logout_pending_cookie(&sp, "", 0));
            response
        }
        // The IdP gets no LogoutResponse back: Okta never sends SAML apps
        // a LogoutRequest, so this path serves only a tenant that allows
        // IdP-initiated logout, and says what it did.
        LogoutFinished::IdpInitiated { sessions_ended } => {
            axum::Json(serde_json::json!({ "sessions_ended": sessions_ended })).into_response()
        }
    })
}
