//! The SCIM API's OAuth 2.0 authorization server:
//! `GET /oauth/scim/{tenant}/authorize` and `POST /oauth/scim/{tenant}/token`.
//! Handlers read the raw query or form (RFC 6749 refuses a parameter sent
//! twice, which axum's extractors would not see) and call one `Sp` function.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::HttpError;
use super::extract::off_the_runtime;
use crate::provisioning::oauth::{AuthorizeRequest, TokenForm};
use crate::sp::Sp;

fn basic_credentials(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, credentials) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("basic").then(|| credentials.trim().to_owned())
}

pub(super) async fn authorize(
    State(sp): State<Arc<Sp>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, HttpError> {
    let request = AuthorizeRequest::parse(uri.query().unwrap_or_default())?;
    let basic = basic_credentials(&headers);
    // Issuing a code writes with fsync, so it runs off the async workers.
    let location = off_the_runtime(&sp, move |sp| sp.scim_oauth_authorize(&tenant, &request, basic.as_deref())).await?;
    Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
}

pub(super) async fn token(
    State(sp): State<Arc<Sp>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HttpError> {
    let form = TokenForm::parse(&body)?;
    let basic = basic_credentials(&headers);
    let issued = off_the_runtime(&sp, move |sp| sp.scim_oauth_token(&tenant, basic.as_deref(), &form)).await?;
    let mut response = axum::Json(issued.body()).into_response();
    // RFC 6749 §5.1: token replies are not cached.
    response.headers_mut().insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::PRAGMA, axum::http::HeaderValue::from_static("no-cache"));
    Ok(response)
}
