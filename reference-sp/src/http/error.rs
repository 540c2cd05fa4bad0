//! The one place where SP errors become HTTP responses: refusal pages with a
//! stable machine-readable code, or JSON for the admin API.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::saml::SamlError;
use crate::sp::SpError;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    Sp(#[from] SpError),
    #[error("authentication required")]
    AdminUnauthorized,
    #[error("{0}")]
    BadRequest(String),
    /// SCIM endpoints answer with the SCIM Error schema.
    #[error(transparent)]
    Scim(#[from] crate::scim::ScimError),
}

impl HttpError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            HttpError::AdminUnauthorized => (StatusCode::UNAUTHORIZED, "admin.unauthorized"),
            HttpError::BadRequest(_) => (StatusCode::BAD_REQUEST, "request.invalid"),
            HttpError::Scim(error) => {
                (StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST), "scim.error")
            }
            HttpError::Sp(error) => {
                let status = match error {
                    SpError::Saml(SamlError::TooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
                    SpError::Saml(_)
                    | SpError::RelayStateRejected(_)
                    | SpError::TenantNotIdentified
                    | SpError::InvalidSetting(_)
                    | SpError::NoEmail => StatusCode::BAD_REQUEST,
                    SpError::UnknownTenant(_) | SpError::SamlNotConfigured(_) => StatusCode::NOT_FOUND,
                    SpError::NoMetadata(_) => StatusCode::SERVICE_UNAVAILABLE,
                    SpError::DomainNotAllowed { .. }
                    | SpError::NoAccount { .. }
                    | SpError::Deactivated(_)
                    | SpError::EmailNotVerified(_) => StatusCode::FORBIDDEN,
                    SpError::Store(crate::store::StoreError::DuplicateEmail(_)) | SpError::LockoutRisk(_) => {
                        StatusCode::CONFLICT
                    }
                    SpError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
                };
                (status, error.code())
            }
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let HttpError::Scim(error) = &self {
            if status.is_server_error() {
                tracing::error!(error = %error, "SCIM request failed");
            }
            let mut response = (status, error.body().to_string()).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static(super::scim::SCIM_JSON));
            if status == StatusCode::UNAUTHORIZED {
                // A tenant takes a bearer token or HTTP Basic; both are offered.
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static("Bearer realm=\"SCIM\", Basic realm=\"SCIM\""),
                );
            }
            return response;
        }
        if status.is_server_error() {
            tracing::error!(code, error = %self, "request failed");
        } else {
            tracing::info!(code, reason = %self, "request refused");
        }
        let page = super::pages::refusal(status, code, &self.to_string());
        let mut response = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
        response.headers_mut().insert("x-error-code", axum::http::HeaderValue::from_static(code));
        response
    }
}
