//! OIDC handlers: `/oidc/login`, the tenants' callbacks (served from the
//! router's fallback, since each tenant names its own redirect path) and
//! `/oidc/logout`. Each extracts, calls one function of
//! [`crate::oidc_login`] and answers.

use std::sync::Arc;

use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::QueryParameters;
use super::{HttpError, SESSION_COOKIE, cookie};
use crate::oidc_login::{self, Callback};
use crate::sp::Sp;

/// The cookie that ties a started OIDC login to this browser.
pub const OIDC_PENDING_COOKIE: &str = "rsp_oidc_pending";
/// The cookie that keeps the ID token as the `id_token_hint` for logout.
pub const OIDC_ID_TOKEN_COOKIE: &str = "rsp_oidc_id_token";

#[derive(Debug, Deserialize)]
pub(super) struct OidcLoginParams {
    tenant: String,
    return_to: Option<String>,
}

/// `Secure` on an https SP. The callback is a top-level GET from the
/// provider, which `SameSite=Lax` cookies travel on, so no `SameSite=None`
/// is needed.
fn cookie_text(sp: &Sp, name: &str, value: &str, path: &str, max_age: i64) -> String {
    let secure = if sp.config().base_url.starts_with("https://") { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

fn redirect(status: StatusCode, location: String, cookies: &[String]) -> Response {
    let mut response = (status, [(header::LOCATION, location)]).into_response();
    for text in cookies {
        if let Ok(value) = axum::http::HeaderValue::from_str(text) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The pending-login cookie. With `response_mode=form_post` it must travel
/// on the provider's cross-site POST, which `SameSite=Lax` cookies do not,
/// so it is `SameSite=None; Secure` on an https SP and carries no SameSite
/// attribute on plain http (browsers then allow top-level POSTs shortly
/// after the cookie was set), as the SAML ACS's pending cookie does.
fn pending_cookie_text(sp: &Sp, form_post: bool, value: &str, max_age: i64) -> String {
    if !form_post {
        return cookie_text(sp, OIDC_PENDING_COOKIE, value, "/", max_age);
    }
    let secure = if sp.config().base_url.starts_with("https://") { "; SameSite=None; Secure" } else { "" };
    format!("{OIDC_PENDING_COOKIE}={value}; Path=/; HttpOnly; Max-Age={max_age}{secure}")
}

/// Starts a login and sends the browser to the provider. `/login` comes
/// here too for a tenant that signs in with OIDC only.
pub(super) async fn start(sp: Arc<Sp>, tenant: String, return_to: Option<String>) -> Result<Response, HttpError> {
    let form_post = sp.tenant(&tenant)?.oidc.as_ref().is_some_and(|o| o.form_post);
    let start = oidc_login::begin(&sp, tenant, return_to).await?;
    let max_age = oidc_login::OIDC_PENDING_TTL.whole_seconds();
    let pending = pending_cookie_text(&sp, form_post, &start.pending_token, max_age);
    Ok(redirect(StatusCode::FOUND, start.redirect_url, &[pending]))
}

pub(super) async fn login(
    State(sp): State<Arc<Sp>>,
    QueryParameters(params): QueryParameters<OidcLoginParams>,
) -> Result<Response, HttpError> {
    start(sp, params.tenant, params.return_to).await
}

/// A tenant's callback, if the request's path is one of their redirect
/// paths and its method the one the tenant's response mode uses (GET with
/// the query, or POST with a form for `form_post`); `None` otherwise, for
/// the router's fallback to refuse.
pub(super) async fn callback(sp: &Arc<Sp>, request: Request) -> Option<Result<Response, HttpError>> {
    let oidc = sp.tenant_for_redirect_path(request.uri().path())?;
    let tenant = oidc.id.to_string();
    let form_post = oidc.oidc.as_ref().is_some_and(|o| o.form_post);
    let expected = if form_post { Method::POST } else { Method::GET };
    if request.method() != expected {
        return None;
    }
    let headers = request.headers().clone();
    let params = if form_post {
        match axum::Form::<Callback>::from_request(request, &()).await {
            Ok(axum::Form(params)) => params,
            Err(rejection) => return Some(Err(rejection.into())),
        }
    } else {
        let mut params = Callback::default();
        for (name, value) in url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes()) {
            let slot = match name.as_ref() {
                "code" => &mut params.code,
                "state" => &mut params.state,
                "error" => &mut params.error,
                "error_description" => &mut params.error_description,
                "iss" => &mut params.iss,
                _ => continue,
            };
            *slot = Some(value.into_owned());
        }
        params
    };
    let pending = cookie(&headers, OIDC_PENDING_COOKIE);
    // The login is used up by its callback, so its cookie goes (the
    // state-reusable flaw keeps both).
    let clear_pending: Vec<String> = if sp.policy.oidc_single_use_login {
        vec![cookie_text(sp, OIDC_PENDING_COOKIE, "", "/", 0)]
    } else {
        Vec::new()
    };
    Some(match oidc_login::complete(sp, tenant, params, pending).await {
        Ok(done) => {
            let ttl = sp.config().session_ttl.whole_seconds();
            let session = cookie_text(sp, SESSION_COOKIE, &done.signed_in.session_token, "/", ttl);
            let hint = cookie_text(sp, OIDC_ID_TOKEN_COOKIE, &done.id_token, "/oidc/logout", ttl);
            let cookies: Vec<String> = [session, hint].into_iter().chain(clear_pending).collect();
            Ok(redirect(StatusCode::SEE_OTHER, done.signed_in.redirect_to, &cookies))
        }
        Err(error) => {
            // The login was used up whatever went wrong, so its cookie goes.
            let mut response = HttpError::from(error).into_response();
            for text in &clear_pending {
                if let Ok(value) = axum::http::HeaderValue::from_str(text) {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            Ok(response)
        }
    })
}

/// `POST /oidc/refresh`: redeems the session's refresh token and answers
/// the session as `/whoami` does. A refreshed ID token that names another
/// identity ends the session (`oidc.refresh_identity_changed`), and the
/// session cookie is cleared with the refusal.
pub(super) async fn refresh(State(sp): State<Arc<Sp>>, headers: HeaderMap) -> Result<Response, HttpError> {
    let no_session = || {
        (
            StatusCode::UNAUTHORIZED,
            [("x-error-code", "session.none")],
            axum::Json(serde_json::json!({"error": "no_session"})),
        )
            .into_response()
    };
    let Some(session) = cookie(&headers, SESSION_COOKIE) else { return Ok(no_session()) };
    match oidc_login::refresh(&sp, session).await {
        Ok(Some(who)) => Ok(axum::Json(who).into_response()),
        Ok(None) => Ok(no_session()),
        Err(error @ crate::sp::SpError::Oidc(crate::oidc::OidcError::RefreshIdentityChanged(_))) => {
            let mut response = HttpError::from(error).into_response();
            if let Ok(value) = axum::http::HeaderValue::from_str(&cookie_text(&sp, SESSION_COOKIE, "", "/", 0)) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            Ok(response)
        }
        Err(error) => Err(error.into()),
    }
}

/// RP-initiated logout: ends the session here, then at the provider.
pub(super) async fn logout(State(sp): State<Arc<Sp>>, headers: HeaderMap) -> Result<Response, HttpError> {
    let session = cookie(&headers, SESSION_COOKIE);
    let hint = cookie(&headers, OIDC_ID_TOKEN_COOKIE);
    let location = oidc_login::logout(&sp, session, hint).await?;
    let cleared =
        [cookie_text(&sp, SESSION_COOKIE, "", "/", 0), cookie_text(&sp, OIDC_ID_TOKEN_COOKIE, "", "/oidc/logout", 0)];
    Ok(redirect(StatusCode::FOUND, location, &cleared))
}
