//! Extractors that authenticate the tenant named in the path, so no handler
//! repeats the check and none can forget it; wrappers around axum's
//! extractors whose rejections are [`HttpError`]s, so a request that does not
//! parse is refused in the crate's own format (an `x-error-code` page, or the
//! SCIM Error schema) and never with axum's plain text; and
//! [`off_the_runtime`], which runs a call that writes with fsync on the
//! blocking pool.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{Form, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::HttpError;
use super::scim::{MAX_SCIM_BODY, SCIM_JSON};
use crate::scim::ScimError;
use crate::sp::Sp;

/// The `{tenant}` segment of the path, percent-decoded; `Ok(None)` when the
/// route has no such segment.
async fn tenant_in_path(parts: &mut Parts, sp: &Arc<Sp>) -> Result<Option<String>, PathRejection> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, sp).await?;
    Ok(params.get("tenant").cloned())
}

/// Whether the path could not be read only because a segment other than
/// `{tenant}` is not UTF-8 once percent-decoded. axum then gives no segment
/// at all, so the tenant cannot be authenticated.
fn only_another_segment_is_not_utf8(rejection: &PathRejection) -> bool {
    match rejection {
        PathRejection::FailedToDeserializePathParams(failure) => {
            matches!(failure.kind(), ErrorKind::InvalidUtf8InPathParam { key } if key != "tenant")
        }
        _ => false,
    }
}

fn authorization(parts: &Parts) -> Option<&str> {
    parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
}

/// A tenant whose SCIM credential the request presented: the tenant id from
/// the path, checked against the tenant's bearer token or HTTP Basic pair.
#[derive(Debug)]
pub(super) struct ScimTenant(pub String);

impl FromRequestParts<Arc<Sp>> for ScimTenant {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, sp: &Arc<Sp>) -> Result<Self, HttpError> {
        let tenant = match tenant_in_path(parts, sp).await {
            Ok(Some(tenant)) => tenant,
            // A resource id that is not UTF-8 names no resource. The answer
            // is the same for every tenant and credential, so it tells an
            // unauthenticated caller nothing it did not send.
            Err(rejection) if only_another_segment_is_not_utf8(&rejection) => {
                return Err(ScimError::NotFound(parts.uri.path().to_owned()).into());
            }
            // A tenant segment that cannot be read names no tenant, which is
            // refused as any unknown tenant is.
            Ok(None) | Err(_) => return Err(ScimError::Unauthorized.into()),
        };
        sp.scim_authenticate(&tenant, authorization(parts))?;
        sp.scim_ready(&tenant)?;
        Ok(ScimTenant(tenant))
    }
}

/// A tenant whose break-glass admin the request authenticated as, with
/// HTTP Basic.
#[derive(Debug)]
pub(super) struct AdminTenant(pub String);

impl FromRequestParts<Arc<Sp>> for AdminTenant {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, sp: &Arc<Sp>) -> Result<Self, HttpError> {
        let tenant = tenant_in_path(parts, sp).await.ok().flatten().ok_or(HttpError::AdminUnauthorized)?;
        let credentials = authorization(parts)
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v.trim()).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok());
        match credentials.as_deref().and_then(|c| c.split_once(':')) {
            Some((email, password)) if sp.is_break_glass(&tenant, email, password) => {
                crate::idp_fetch::break_glass_gate(sp, &tenant).await?;
                Ok(AdminTenant(tenant))
            }
            _ => Err(HttpError::AdminUnauthorized),
        }
    }
}

/// The `{id}` segment of a SCIM resource path (`/{tenant}/Users/{id}`).
#[derive(Debug)]
pub(super) struct ScimResourceId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ScimResourceId {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        match Path::<(String, String)>::from_request_parts(parts, state).await {
            Ok(Path((_tenant, id))) => Ok(ScimResourceId(id)),
            // Only a segment that is not UTF-8 fails here, and such an id
            // names no resource.
            Err(_) => Err(ScimError::NotFound(parts.uri.path().to_owned()).into()),
        }
    }
}

/// A SCIM request body: SCIM JSON, plain JSON (or no content type, as an old
/// Okta test sends), at most [`MAX_SCIM_BODY`] bytes. Every refusal is a
/// SCIM error: 400 `invalidSyntax` for another media type or a body that is
/// not JSON, 413 for a body over the limit.
#[derive(Debug)]
pub(super) struct ScimBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for ScimBody {
    type Rejection = HttpError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, HttpError> {
        let content_type =
            request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let media = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if !media.is_empty() && media != SCIM_JSON && media != "application/json" {
            return Err(ScimError::InvalidSyntax(format!(
                "the body must be {SCIM_JSON} or application/json, not {media}"
            ))
            .into());
        }
        // The body is read here with the SCIM limit rather than through
        // axum's `Bytes`, whose limit is the larger one for SAML forms.
        let bytes = axum::body::to_bytes(request.into_body(), MAX_SCIM_BODY)
            .await
            .map_err(|_| ScimError::TooLarge(MAX_SCIM_BODY))?;
        let value = serde_json::from_slice(&bytes)
            .map_err(|e| ScimError::InvalidSyntax(format!("the body is not valid JSON: {e}")))?;
        Ok(ScimBody(value))
    }
}

/// Path segments read into `T`. Only a segment that is not UTF-8 once
/// percent-decoded fails, and it is refused with `request.invalid_path`.
#[derive(Debug)]
pub(super) struct PathSegments<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathSegments<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        let Path(value) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(PathSegments(value))
    }
}

/// A query string read into `T`. A missing or malformed parameter is
/// refused with `request.invalid_query`.
#[derive(Debug)]
pub(super) struct QueryParameters<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParameters<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(QueryParameters(value))
    }
}

/// An `application/x-www-form-urlencoded` body read into `T`, within the
/// router's body limit. Refusals: `request.too_large` (413),
/// `request.unsupported_media_type` (415) and `request.invalid_form` (422).
#[derive(Debug)]
pub(super) struct FormBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for FormBody<T> {
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, HttpError> {
        let Form(value) = Form::<T>::from_request(request, state).await?;
        Ok(FormBody(value))
    }
}

/// A JSON body read into `T`, within the router's body limit. The content
/// type is not checked, because the admin API has always taken JSON without
/// one. Refusals: `request.too_large` (413), `request.unreadable_body` (400)
/// and `request.invalid` (400) for a body that is not JSON or not the shape
/// the endpoint takes.
#[derive(Debug)]
pub(super) struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, HttpError> {
        let bytes = Bytes::from_request(request, state).await?;
        Ok(JsonBody(serde_json::from_slice(&bytes)?))
    }
}

/// Runs `call` on the blocking pool. Store writes wait for fsync, and an
/// async worker thread that waits cannot serve other requests meanwhile.
pub(super) async fn off_the_runtime<T, E>(
    sp: &Arc<Sp>,
    call: impl FnOnce(&Sp) -> Result<T, E> + Send + 'static,
) -> Result<T, HttpError>
where
    T: Send + 'static,
    E: Into<HttpError> + Send + 'static,
{
    let sp = sp.clone();
    tokio::task::spawn_blocking(move || call(&sp))
        .await
        .map_err(|e| HttpError::TaskFailed(e.to_string()))?
        .map_err(Into::into)
}
