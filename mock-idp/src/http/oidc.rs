//! OIDC endpoints with Okta's paths: the org authorization server under
//! `/oauth2/v1/…` and custom servers under `/oauth2/{server}/v1/…`, plus the
//! discovery documents. One handler serves both shapes; [`Server`] tells
//! them apart by whether the path names a server.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use super::HttpError;
use super::extract::{OAuthBody, page_body};
use super::sso::{clear_session_cookie, session_cookie, set_session_cookie};
use crate::idp::{AuthorizeOutcome, Browser, Idp};
use crate::oidc::authorize::{AuthorizeParams, AuthorizeReply, ResponseMode};
use crate::oidc::discovery::DocumentKind;
use crate::oidc::token::FormParams;
use crate::oidc::{OAuthCode, OidcError, ServerRef};
use crate::saml::form::okta_attribute_escape;

/// The authorization server a request is for, from the path.
pub(super) struct Server(pub ServerRef);

impl<S: Send + Sync> FromRequestParts<S> for Server {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // A server id that is not valid UTF-8 names no server; it must not
        // fall back to the org server.
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| OidcError::UnknownServer("(not UTF-8)".into()))?;
        Ok(Server(match params.iter().find(|(name, _)| *name == "server") {
            Some((_, id)) => ServerRef::Custom(id.to_owned()),
            None => ServerRef::Org,
        }))
    }
}

/// The parameters of a front-channel request: the query string of a GET, the
/// form body of a POST. `/authorize` and `/logout` accept both (OpenID
/// Connect Core §3.1.2.1 and RP-Initiated Logout §2).
pub(super) struct QueryOrForm(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for QueryOrForm {
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if request.method() == Method::GET || request.method() == Method::HEAD {
            return Ok(QueryOrForm(pairs(request.uri().query().unwrap_or_default().as_bytes())));
        }
        // `/authorize` and `/logout` are browser endpoints: a refused body
        // gets an error page.
        let body = page_body(request, state).await?;
        Ok(QueryOrForm(pairs(&body)))
    }
}

pub(super) fn routes() -> Router<Arc<Idp>> {
    let endpoints = || {
        Router::new()
            .route("/authorize", get(authorize).post(authorize))
            .route("/token", axum::routing::post(token))
            .route("/par", axum::routing::post(pushed_authorization_request))
            .route("/keys", get(keys))
            .route("/userinfo", get(userinfo).post(userinfo))
            .route("/introspect", axum::routing::post(introspect))
            .route("/revoke", axum::routing::post(revoke))
            .route("/logout", get(logout).post(logout))
    };
    Router::new()
        .route("/.well-known/openid-configuration", get(openid_configuration))
        .route("/.well-known/oauth-authorization-server", get(oauth_authorization_server))
        .route("/.well-known/oauth-authorization-server/oauth2/{server}", get(oauth_authorization_server))
        .route("/oauth2/{server}/.well-known/openid-configuration", get(openid_configuration))
        .route("/oauth2/{server}/.well-known/oauth-authorization-server", get(oauth_authorization_server))
        .nest("/oauth2/v1", endpoints())
        .nest("/oauth2/{server}/v1", endpoints())
        .route("/mockta/attacker/keys", get(attacker_keys))
        .route("/mockta/attacker/certificate", get(attacker_certificate))
}

/// A JSON answer that caches must not keep (RFC 6749 §5.1), as Okta sends
/// from every OAuth endpoint.
pub(super) fn json_response(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut response = (status, axum::Json(value)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store"));
    response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn pairs(text: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text).into_owned().collect()
}

/// Reads a form body, refusing other content types (RFC 6749 §3.2).
fn form_body(headers: &HeaderMap, body: &[u8]) -> Result<FormParams, HttpError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return Err(OidcError::oauth(
            OAuthCode::InvalidRequest,
            "The request body must be application/x-www-form-urlencoded.",
        )
        .into());
    }
    Ok(FormParams::from_pairs(pairs(body))?)
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
}

async fn openid_configuration(State(idp): State<Arc<Idp>>, Server(server): Server) -> Result<Response, HttpError> {
    let document = idp.discovery(&server, DocumentKind::OpenIdConfiguration)?;
    Ok(discovery_response(&idp, &document))
}

/// A discovery document, with the `Cache-Control` header the IdP was told
/// to send (none by default, as Okta).
fn discovery_response(idp: &Idp, document: &serde_json::Value) -> Response {
    let mut response = axum::Json(document).into_response();
    if let Some(value) = idp.discovery_cache_control().and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}

async fn oauth_authorization_server(
    State(idp): State<Arc<Idp>>,
    Server(server): Server,
) -> Result<Response, HttpError> {
    if server == ServerRef::Org {
        // Okta serves this form for custom servers only.
        return Err(OidcError::UnknownServer("oauth-authorization-server".into()).into());
    }
    let document = idp.discovery(&server, DocumentKind::OAuthAuthorizationServer)?;
    Ok(discovery_response(&idp, &document))
}

async fn keys(State(idp): State<Arc<Idp>>, Server(server): Server) -> Result<Response, HttpError> {
    let (jwks, caching) = idp.jwks(&server)?;
    let mut response = axum::Json(jwks).into_response();
    if let Ok(value) = HeaderValue::from_str(&caching.cache_control()) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(response)
}

async fn attacker_keys(State(idp): State<Arc<Idp>>) -> Response {
    axum::Json(idp.attacker_jwks()).into_response()
}

async fn attacker_certificate(State(idp): State<Arc<Idp>>) -> Result<Response, HttpError> {
    let pem = idp.attacker_certificate_pem()?;
    Ok(([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response())
}

async fn authorize(
    State(idp): State<Arc<Idp>>,
    Server(server): Server,
    headers: HeaderMap,
    QueryOrForm(params): QueryOrForm,
) -> Result<Response, HttpError> {
    let params = AuthorizeParams::from_pairs(params)?;
    let session = session_cookie(&headers);
    let browser = Browser { login_hint: None, session: session.as_deref() };
    let outcome = idp.authorize(&server, &params, browser)?;
    Ok(match outcome {
        AuthorizeOutcome::Reply { reply, session } => reply_response(&reply, session),
        AuthorizeOutcome::Login { pending } => {
            Redirect::to(&format!("/login/mockta?pending={pending}")).into_response()
        }
    })
}

/// Sends an authorization response: a 302 for query and fragment, an
/// auto-posting form for `form_post`.
pub(super) fn reply_response(reply: &AuthorizeReply, session: Option<String>) -> Response {
    let mut response = match reply.to.mode {
        ResponseMode::Query | ResponseMode::Fragment => {
            (StatusCode::FOUND, [(header::LOCATION, reply.location())]).into_response()
        }
        ResponseMode::FormPost => {
            let inputs: String = reply
                .all_params()
                .iter()
                .map(|(name, value)| {
                    format!(
                        "<input type=\"hidden\" name=\"{}\" value=\"{}\"/>",
                        okta_attribute_escape(name),
                        okta_attribute_escape(value)
                    )
                })
                .collect();
            Html(format!(
                "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mockta (mock Okta)</title></head>\n<body onload=\"document.forms[0].submit()\">\n<form method=\"POST\" action=\"{}\">{inputs}<noscript><input type=\"submit\" value=\"Continue\"/></noscript></form>\n</body></html>\n",
                okta_attribute_escape(&reply.to.redirect_uri)
            ))
            .into_response()
        }
    };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store"));
    if let Some(token) = session {
        set_session_cookie(&mut response, &token);
    }
    response
}

async fn token(
    State(idp): State<Arc<Idp>>,
    Server(server): Server,
    headers: HeaderMap,
    OAuthBody(body): OAuthBody,
) -> Result<Response, HttpError> {
    let form = form_body(&headers, &body)?;
    let issued = idp.token(&server, authorization(&headers), &form)?;
    Ok(json_response(StatusCode::OK, &issued.body))
}

/// `/par` (RFC 9126): 201 with the request URI, as the RFC requires.
async fn pushed_authorization_request(
    State(idp): State<Arc<Idp>>,
    Server(server): Server,
    headers: HeaderMap,
    OAuthBody(body): OAuthBody,
) -> Result<Response, HttpError> {
    let form = form_body(&headers, &body)?;
    let pushed = idp.push_authorization_request(&server, authorization(&headers), &form)?;
    Ok(json_response(StatusCode::CREATED, &pushed))
}

/// The bearer token of a request: the `Authorization` header (the scheme is
/// case-insensitive, RFC 6750 §2.1) or an `access_token` form field (§2.2).
fn bearer_token(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    if let Some((scheme, token)) = authorization(headers).and_then(|v| v.split_once(' '))
        && scheme.eq_ignore_ascii_case("bearer")
    {
        return Some(token.trim().to_owned());
    }
    pairs(body).into_iter().find(|(name, _)| name == "access_token").map(|(_, value)| value)
}

async fn userinfo(
    State(idp): State<Arc<Idp>>,
    Server(server): Server,
    headers: HeaderMap,
    OAuthBody(body): OAuthBody,
) -> Result<Response, HttpError> {
    let bearer = bearer_token(&headers, &body);
    let claims = idp.userinfo(&server, bearer.as_deref())?;
    Ok(json_response(StatusCode::OK, &claims))
}

async fn introspect(
    State(idp): State<Arc<Idp>>,
    Server(server): Server,
    headers: HeaderMap,
    OAuthBody(body): OAuthBody,
) -> Result<Response, HttpError> {
    let form = form_body(&headers, &body)?;
    let answer = idp.introspect(&server, authorization(&headers), &form)?;
    Ok(json_response(StatusCode::OK, &answer))
}

async fn revoke(
    State(idp): State<Arc<Idp>>,
    Server(server): Server,
    headers: HeaderMap,
    OAuthBody(body): OAuthBody,
) -> Result<Response, HttpError> {
    let form = form_body(&headers, &body)?;
    idp.revoke(&server, authorization(&headers), &form)?;
    Ok(StatusCode::OK.into_response())
}

async fn logout(
    State(idp): State<Arc<Idp>>,
    Server(server): Server,
    headers: HeaderMap,
    QueryOrForm(params): QueryOrForm,
) -> Result<Response, HttpError> {
    let params = AuthorizeParams::from_pairs(params)?;
    let session = session_cookie(&headers);
    let destination = idp.logout(&server, &params, session.as_deref())?;
    let mut response = Redirect::to(&destination).into_response();
    clear_session_cookie(&mut response);
    Ok(response)
}
