//! The one place where errors become HTTP responses.
//!
//! Management API errors become Okta's JSON envelope; sign-in errors become
//! Okta-style HTML error pages that carry a stable error code.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::admin::OktaApiError;
use crate::idp::IdpError;
use crate::ids::IdGenerator;
use crate::saml::SamlError;

/// Every error a handler can return.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    Api(#[from] OktaApiError),
    #[error(transparent)]
    Sso(#[from] IdpError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl HttpError {
    /// The status and a stable machine-readable code for a sign-in error.
    fn sso_status_and_code(error: &IdpError) -> (StatusCode, &'static str) {
        match error {
            IdpError::AppNotFound(_) => (StatusCode::NOT_FOUND, "app_not_found"),
            IdpError::UnknownUser(_) => (StatusCode::FORBIDDEN, "unknown_user"),
            IdpError::UnknownPending => (StatusCode::BAD_REQUEST, "sign_in_expired"),
            IdpError::Key(_) => (StatusCode::INTERNAL_SERVER_ERROR, "signing_key"),
            IdpError::Saml(saml) => match saml {
                SamlError::BadRequest(_) => (StatusCode::BAD_REQUEST, "invalid_saml_request"),
                SamlError::IssuerMismatch { .. } => (StatusCode::BAD_REQUEST, "issuer_mismatch"),
                SamlError::AcsNotAllowed(_) | SamlError::AcsIndexNotAllowed(_) => {
                    (StatusCode::BAD_REQUEST, "acs_not_allowed")
                }
                SamlError::NotAssigned => (StatusCode::FORBIDDEN, "not_assigned"),
                SamlError::UserNotActive(_) => (StatusCode::FORBIDDEN, "user_not_active"),
                SamlError::Sign(_) | SamlError::Fault(_) => (StatusCode::INTERNAL_SERVER_ERROR, "signing_failed"),
            },
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        match self {
            HttpError::Api(error) => {
                let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
                let error_id: String =
                    format!("oae{}", crate::ids::RandomIds.opaque_token().chars().take(22).collect::<String>());
                let body = json!({
                    "errorCode": error.code,
                    "errorSummary": error.summary,
                    "errorLink": error.code,
                    "errorId": error_id,
                    "errorCauses": error.causes.iter().map(|c| json!({"errorSummary": c})).collect::<Vec<_>>(),
                });
                let mut response = (status, axum::Json(body)).into_response();
                if status == StatusCode::UNAUTHORIZED {
                    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("SSWS"));
                }
                response
            }
            HttpError::Sso(error) => {
                let (status, code) = HttpError::sso_status_and_code(&error);
                tracing::info!(code, %error, "sign-in refused");
                let page = super::pages::error_page(status, code, &error.to_string());
                (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
            }
            HttpError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                let page = super::pages::error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error.");
                (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page)
                    .into_response()
            }
        }
    }
}
