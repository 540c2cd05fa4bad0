//! Extractors that authenticate the tenant named in the path, so no handler
//! repeats the check and none can forget it; and [`off_the_runtime`], which
//! runs a call that writes with fsync on the blocking pool.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path};
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;

use super::HttpError;
use crate::scim::ScimError;
use crate::sp::Sp;

/// The `{tenant}` segment of the path, percent-decoded.
async fn tenant_in_path(parts: &mut Parts, sp: &Arc<Sp>) -> Option<String> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, sp).await.ok()?;
    params.get("tenant").cloned()
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
        let tenant = tenant_in_path(parts, sp).await.ok_or(ScimError::Unauthorized)?;
        sp.scim_authenticate(&tenant, authorization(parts))?;
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
        let tenant = tenant_in_path(parts, sp).await.ok_or(HttpError::AdminUnauthorized)?;
        let credentials = authorization(parts)
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v.trim()).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok());
        match credentials.as_deref().and_then(|c| c.split_once(':')) {
            Some((email, password)) if sp.is_break_glass(&tenant, email, password) => Ok(AdminTenant(tenant)),
            _ => Err(HttpError::AdminUnauthorized),
        }
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
