//! Sign-in handlers: metadata, SP-initiated and IdP-initiated SSO, the login page.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::extract::{PageForm, PageQuery};
use super::{HttpError, pages};
use crate::idp::{Browser, Idp, SsoOutcome};
use crate::saml::authn_request::{Binding, ReceivedRequest};
use crate::saml::{form, metadata};

/// The mock's browser session cookie; Okta's is also called `sid`.
pub(super) const SESSION_COOKIE: &str = "sid";

#[derive(Debug, Deserialize)]
pub(super) struct SsoParams {
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
    login_hint: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct HintParams {
    login_hint: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct PendingParams {
    pending: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct LoginForm {
    pending: String,
    login: String,
}

pub(super) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == SESSION_COOKIE).then(|| value.to_owned())
    })
}

/// Sets the mock's session cookie on a response.
pub(super) fn set_session_cookie(response: &mut Response, token: &str) {
    if let Ok(value) = HeaderValue::from_str(&format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax")) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
}

/// Tells the browser to drop the mock's session cookie.
pub(super) fn clear_session_cookie(response: &mut Response) {
    if let Ok(value) = HeaderValue::from_str(&format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
}

/// Turns an outcome into the auto-post page, an OIDC redirect, or a
/// redirect to the login page.
fn respond(outcome: SsoOutcome) -> Response {
    match outcome {
        SsoOutcome::SamlPost { acs_url, response_xml, relay_state, session } => {
            let mut response = Html(form::render(&acs_url, &response_xml, &relay_state)).into_response();
            if let Some(token) = session {
                set_session_cookie(&mut response, &token);
            }
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store"));
            response
        }
        SsoOutcome::OidcReply { reply, session } => super::oidc::reply_response(&reply, session),
        SsoOutcome::Login { pending } => Redirect::to(&format!("/login/mockta?pending={pending}")).into_response(),
    }
}

pub(super) async fn index(State(idp): State<Arc<Idp>>) -> Html<String> {
    Html(idp.read_org(|org| {
        let apps: Vec<_> = org
            .apps
            .values()
            .filter_map(|app| {
                let saml = app.saml()?;
                Some((
                    app.label.clone(),
                    metadata::sso_url(&org.url, saml),
                    metadata::embed_link(&org.url, app, saml),
                    metadata::metadata_url(&org.url, saml),
                ))
            })
            .collect();
        let clients: Vec<_> = org
            .apps
            .values()
            .filter_map(|app| {
                app.oidc().map(|oidc| (app.label.clone(), app.id.to_string(), oidc.application_type.as_str()))
            })
            .collect();
        let mut issuers = vec![org.url.clone()];
        issuers.extend(org.authorization_servers.iter().map(|s| format!("{}/oauth2/{}", org.url, s.id)));
        pages::index_page(&org.name, &apps, &clients, &issuers)
    }))
}

pub(super) async fn metadata(
    State(idp): State<Arc<Idp>>,
    Path(key_or_id): Path<String>,
) -> Result<Response, HttpError> {
    let xml = idp.metadata(&key_or_id)?;
    Ok(([(header::CONTENT_TYPE, "application/xml;charset=utf-8")], xml).into_response())
}

async fn sp_initiated(
    idp: Arc<Idp>,
    (app_name, app_id): (String, String),
    params: SsoParams,
    binding: Binding,
    login_hint: Option<String>,
    headers: &HeaderMap,
    raw_query: Option<&str>,
) -> Result<Response, HttpError> {
    let session = session_cookie(headers);
    let Some(saml_request) = params.saml_request else {
        // Okta answers a bare GET of the SSO URL with its error page.
        return Err(crate::idp::IdpError::Saml(crate::saml::SamlError::BadRequest(
            crate::saml::authn_request::AuthnRequestError::Xml,
        ))
        .into());
    };
    let browser = Browser { login_hint: login_hint.as_deref(), session: session.as_deref() };
    let received = ReceivedRequest { saml_request: &saml_request, binding, relay_state: params.relay_state, raw_query };
    let outcome = idp.sp_initiated(&app_name, &app_id, received, browser)?;
    Ok(respond(outcome))
}

pub(super) async fn sp_initiated_redirect(
    State(idp): State<Arc<Idp>>,
    Path((app_name, app_id)): Path<(String, String)>,
    PageQuery(params): PageQuery<SsoParams>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let hint = params.login_hint.clone();
    // The redirect binding's signature covers the query's encoded bytes.
    sp_initiated(idp, (app_name, app_id), params, Binding::Redirect, hint, &headers, raw_query.as_deref()).await
}

pub(super) async fn sp_initiated_post(
    State(idp): State<Arc<Idp>>,
    Path((app_name, app_id)): Path<(String, String)>,
    PageQuery(query): PageQuery<HintParams>,
    headers: HeaderMap,
    PageForm(params): PageForm<SsoParams>,
) -> Result<Response, HttpError> {
    let hint = params.login_hint.clone().or(query.login_hint);
    sp_initiated(idp, (app_name, app_id), params, Binding::Post, hint, &headers, None).await
}

pub(super) async fn idp_initiated(
    State(idp): State<Arc<Idp>>,
    Path((app_name, app_id)): Path<(String, String)>,
    PageQuery(params): PageQuery<SsoParams>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let session = session_cookie(&headers);
    let browser = Browser { login_hint: params.login_hint.as_deref(), session: session.as_deref() };
    let outcome = idp.idp_initiated(&app_name, &app_id, params.relay_state, browser)?;
    Ok(respond(outcome))
}

pub(super) async fn idp_initiated_link(
    state: State<Arc<Idp>>,
    Path((app_name, app_id, _link)): Path<(String, String, String)>,
    query: PageQuery<SsoParams>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    idp_initiated(state, Path((app_name, app_id)), query, headers).await
}

/// The auto-post page of a LogoutResponse to the app's Single Logout URL.
/// The mock session cookie is dropped only when the logout was honoured.
fn logout_page(outcome: crate::idp::LogoutOutcome) -> Response {
    if let Some(refusal) = &outcome.refusal {
        tracing::info!(reason = %refusal, "LogoutRequest refused with Requester/RequestDenied");
    }
    let mut response =
        Html(form::render(&outcome.slo_url, &outcome.response_xml, &outcome.relay_state)).into_response();
    if outcome.honoured {
        clear_session_cookie(&mut response);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store"));
    response
}

fn single_logout(
    idp: &Idp,
    (app_name, key_or_id): (String, String),
    params: SsoParams,
    binding: Binding,
    headers: &HeaderMap,
    raw_query: Option<&str>,
) -> Result<Response, HttpError> {
    let Some(saml_request) = params.saml_request else {
        return Err(crate::idp::IdpError::Saml(crate::saml::SamlError::Logout(
            crate::saml::logout::LogoutError::Unreadable,
        ))
        .into());
    };
    let session = session_cookie(headers);
    let received = ReceivedRequest { saml_request: &saml_request, binding, relay_state: params.relay_state, raw_query };
    let outcome = idp.single_logout(&app_name, &key_or_id, received, session.as_deref())?;
    Ok(logout_page(outcome))
}

/// Single Logout by the HTTP-Redirect binding; its signature covers the
/// query's encoded bytes, so the raw query goes along.
pub(super) async fn single_logout_redirect(
    State(idp): State<Arc<Idp>>,
    Path(path): Path<(String, String)>,
    PageQuery(params): PageQuery<SsoParams>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    single_logout(&idp, path, params, Binding::Redirect, &headers, raw_query.as_deref())
}

/// Single Logout by the HTTP-POST binding.
pub(super) async fn single_logout_post(
    State(idp): State<Arc<Idp>>,
    Path(path): Path<(String, String)>,
    headers: HeaderMap,
    PageForm(params): PageForm<SsoParams>,
) -> Result<Response, HttpError> {
    single_logout(&idp, path, params, Binding::Post, &headers, None)
}

pub(super) async fn login_page(
    State(idp): State<Arc<Idp>>,
    PageQuery(params): PageQuery<PendingParams>,
) -> Result<Response, HttpError> {
    let (label, users) = idp.login_choices(&params.pending)?;
    Ok((StatusCode::OK, Html(pages::login_page(&label, &params.pending, &users))).into_response())
}

pub(super) async fn login_submit(
    State(idp): State<Arc<Idp>>,
    PageForm(form): PageForm<LoginForm>,
) -> Result<Response, HttpError> {
    let outcome = idp.complete_login(&form.pending, &form.login)?;
    Ok(respond(outcome))
}
