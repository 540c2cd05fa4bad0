//! Sign-in handlers: SP-initiated login, the ACS, SP metadata, whoami, logout.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::extract::{FormBody, PathSegments, QueryParameters, off_the_runtime};
use super::{HttpError, PENDING_COOKIE, SESSION_COOKIE, cookie};
use crate::idp_fetch;
use crate::saml::metadata::render_sp_metadata;
use crate::saml::request::render_post_form;
use crate::sp::{AuthnRequestDelivery, Sp};

#[derive(Debug, Deserialize)]
pub(super) struct LoginParams {
    tenant: String,
    relay_state: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// The pending-request cookie travels on the IdP's cross-site POST to the ACS.
/// `SameSite=None` needs `Secure`, which plain-http development cannot have;
/// there the attribute is left out (browsers then allow top-level POSTs
/// shortly after the cookie was set).
fn pending_cookie(sp: &Sp, value: &str, max_age: i64) -> String {
    let secure = if sp.config().base_url.starts_with("https://") { "; SameSite=None; Secure" } else { "" };
    format!("{PENDING_COOKIE}={value}; Path=/sso/acs; HttpOnly; Max-Age={max_age}{secure}")
}

fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

pub(super) async fn login(
    State(sp): State<Arc<Sp>>,
    QueryParameters(params): QueryParameters<LoginParams>,
) -> Result<Response, HttpError> {
    // A tenant that signs in with OIDC only starts an OIDC login here; a
    // tenant with SAML keeps SAML at /login and has OIDC at /oidc/login.
    let tenant = sp.tenant(&params.tenant)?;
    if tenant.saml.is_none() && tenant.oidc.is_some() {
        return super::oidc::start(sp.clone(), params.tenant, params.relay_state).await;
    }
    idp_fetch::ensure(&sp, &params.tenant).await?;
    let start = off_the_runtime(&sp, move |sp| sp.start_login(&params.tenant, params.relay_state.as_deref())).await?;
    let mut response = match start.request {
        AuthnRequestDelivery::Redirect(url) => (StatusCode::FOUND, [(header::LOCATION, url)]).into_response(),
        AuthnRequestDelivery::Post(form) => Html(render_post_form(&form)).into_response(),
    };
    set_cookie(&mut response, &pending_cookie(&sp, &start.pending_token, 600));
    Ok(response)
}

async fn acs(sp: Arc<Sp>, tenant: Option<String>, form: AcsForm, headers: HeaderMap) -> Result<Response, HttpError> {
    // The shared ACS finds its tenant by the response's audience where it
    // can; that tenant's IdP metadata is loaded first, as at its own ACS.
    match &tenant {
        Some(tenant) => idp_fetch::ensure(&sp, tenant).await?,
        None => {
            if let Some(named) = sp.shared_acs_tenant(&form.saml_response) {
                idp_fetch::ensure(&sp, &named).await?;
            }
        }
    }
    let pending = cookie(&headers, PENDING_COOKIE);
    // Verification is CPU work and the store writes with fsync: both run on
    // the blocking pool.
    let signed_in = off_the_runtime(&sp, move |sp| {
        sp.acs(tenant.as_deref(), &form.saml_response, form.relay_state.as_deref(), pending.as_deref())
    })
    .await?;
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, signed_in.redirect_to)]).into_response();
    let ttl = sp.config().session_ttl.whole_seconds();
    set_cookie(
        &mut response,
        &format!("{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={ttl}", signed_in.session_token),
    );
    set_cookie(&mut response, &pending_cookie(&sp, "", 0));
    Ok(response)
}

pub(super) async fn acs_shared(
    State(sp): State<Arc<Sp>>,
    headers: HeaderMap,
    FormBody(form): FormBody<AcsForm>,
) -> Result<Response, HttpError> {
    acs(sp, None, form, headers).await
}

pub(super) async fn acs_tenant(
    State(sp): State<Arc<Sp>>,
    PathSegments(tenant): PathSegments<String>,
    headers: HeaderMap,
    FormBody(form): FormBody<AcsForm>,
) -> Result<Response, HttpError> {
    acs(sp, Some(tenant), form, headers).await
}

pub(super) async fn metadata(
    State(sp): State<Arc<Sp>>,
    PathSegments(tenant): PathSegments<String>,
) -> Result<Response, HttpError> {
    let (config, saml) = sp.saml_tenant(&tenant)?;
    let acs = [sp.config().acs_url(&config.id), sp.config().shared_acs_url()];
    Ok((
        [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
        render_sp_metadata(
            &saml.sp_entity_id,
            &acs,
            sp.encryption_certificate(&config.id),
            sp.signing_certificate(&config.id),
            saml.single_logout.as_ref().map(|_| sp.config().slo_url(&config.id)).as_deref(),
            saml.want_assertions_signed,
        ),
    )
        .into_response())
}

pub(super) async fn whoami(State(sp): State<Arc<Sp>>, headers: HeaderMap) -> Result<Response, HttpError> {
    let who = match cookie(&headers, SESSION_COOKIE) {
        Some(token) => sp.whoami(&token)?,
        None => None,
    };
    Ok(match who {
        Some(who) => Json(who).into_response(),
        // No session is the oracle's answer, not a failure, so it keeps its
        // JSON body; the header still gives it a code like every refusal.
        None => (
            StatusCode::UNAUTHORIZED,
            [("x-error-code", "session.none")],
            Json(serde_json::json!({"error": "no_session"})),
        )
            .into_response(),
    })
}

pub(super) async fn logout(State(sp): State<Arc<Sp>>, headers: HeaderMap) -> Result<Response, HttpError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        off_the_runtime(&sp, move |sp| sp.logout(&token)).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookie(&mut response, &format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"));
    Ok(response)
}
