//! The one place where SP errors become HTTP responses: refusal pages with a
//! stable machine-readable code in `x-error-code`, or the SCIM Error schema
//! for SCIM. axum's own rejections (a body over the limit, a query or path
//! that does not parse, no such route) come here too, through the wrappers
//! in `extract.rs` and the router's fallbacks, so none answers in plain text.

use axum::extract::rejection::{BytesRejection, FormRejection, PathRejection, QueryRejection};
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
    /// An admin API body that is not JSON, or not the shape the endpoint
    /// takes.
    #[error("the body is not the JSON this endpoint takes: {0}")]
    InvalidJson(#[from] serde_json::Error),
    /// A body that could not be read: over the limit (413) or cut short (400).
    #[error("{0}")]
    Body(#[from] BytesRejection),
    /// A query string that does not parse, or lacks a parameter.
    #[error("{0}")]
    Query(#[from] QueryRejection),
    /// A path segment that is not UTF-8 once percent-decoded.
    #[error("{0}")]
    Path(#[from] PathRejection),
    /// No route has this path.
    #[error("there is no page at this address")]
    NoSuchRoute,
    /// The route exists but does not take this method.
    #[error("this address does not take the {0} method")]
    MethodNotAllowed(String),
    /// A blocking task panicked or was cancelled.
    #[error("the request could not be completed: {0}")]
    TaskFailed(String),
    /// The body is not the form the endpoint takes: too large (413), not
    /// `application/x-www-form-urlencoded` (415) or missing fields (422).
    #[error("{0}")]
    Form(#[from] FormRejection),
    /// SCIM endpoints answer with the SCIM Error schema.
    #[error(transparent)]
    Scim(#[from] crate::scim::ScimError),
    /// The SCIM OAuth server's refusals: RFC 6749's JSON at the token
    /// endpoint, a redirect or an error page at the authorization endpoint.
    #[error(transparent)]
    ScimOAuth(#[from] crate::provisioning::oauth::ScimOAuthError),
}

impl HttpError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            HttpError::AdminUnauthorized => (StatusCode::UNAUTHORIZED, "admin.unauthorized"),
            HttpError::InvalidJson(_) => (StatusCode::BAD_REQUEST, "request.invalid"),
            HttpError::Body(rejection) => match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => (StatusCode::PAYLOAD_TOO_LARGE, "request.too_large"),
                status => (status, "request.unreadable_body"),
            },
            HttpError::Query(rejection) => (rejection.status(), "request.invalid_query"),
            HttpError::Path(rejection) => match rejection.status() {
                // A route whose handler reads a segment the route lacks is
                // this crate's bug, not the request's.
                status if status.is_server_error() => (status, "internal.route"),
                status => (status, "request.invalid_path"),
            },
            HttpError::NoSuchRoute => (StatusCode::NOT_FOUND, "request.no_such_route"),
            HttpError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "request.method_not_allowed"),
            HttpError::TaskFailed(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal.task"),
            HttpError::Form(rejection) => match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => (StatusCode::PAYLOAD_TOO_LARGE, "request.too_large"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                    (StatusCode::UNSUPPORTED_MEDIA_TYPE, "request.unsupported_media_type")
                }
                status => (status, "request.invalid_form"),
            },
            HttpError::Scim(error) => {
                (StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST), "scim.error")
            }
            HttpError::ScimOAuth(error) => {
                use crate::provisioning::oauth::ScimOAuthError;
                let status = match error {
                    ScimOAuthError::NotConfigured(_) => StatusCode::NOT_FOUND,
                    ScimOAuthError::NotRedirectable { .. } => StatusCode::BAD_REQUEST,
                    ScimOAuthError::Redirected { .. } => StatusCode::FOUND,
                    ScimOAuthError::AdminRequired => StatusCode::UNAUTHORIZED,
                    ScimOAuthError::Token { error, .. } => {
                        StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST)
                    }
                };
                (status, error.code())
            }
            HttpError::Sp(error) => {
                let status = match error {
                    SpError::Saml(SamlError::TooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
                    SpError::Saml(_)
                    | SpError::RelayStateRejected(_)
                    | SpError::TenantNotIdentified
                    | SpError::InvalidSetting(_)
                    | SpError::NoEmail => StatusCode::BAD_REQUEST,
                    SpError::Oidc(e) if e.is_provider_failure() => StatusCode::BAD_GATEWAY,
                    SpError::Oidc(_) => StatusCode::BAD_REQUEST,
                    SpError::UnknownTenant(_) | SpError::SamlNotConfigured(_) | SpError::OidcNotConfigured(_) => {
                        StatusCode::NOT_FOUND
                    }
                    SpError::NoMetadata(_) => StatusCode::SERVICE_UNAVAILABLE,
                    SpError::DomainNotAllowed { .. }
                    | SpError::NoAccount { .. }
                    | SpError::NoAccountRefused { .. }
                    | SpError::UsernameNotEmail { .. }
                    | SpError::NoDisplayName { .. }
                    | SpError::RoleUnknown { .. }
                    | SpError::Deactivated(_)
                    | SpError::Locked(_)
                    | SpError::EmailNotVerified(_)
                    | SpError::EmailLinkNotAllowed { .. } => StatusCode::FORBIDDEN,
                    SpError::Store(crate::store::StoreError::DuplicateEmail(_)) | SpError::LockoutRisk(_) => {
                        StatusCode::CONFLICT
                    }
                    SpError::Store(_) | SpError::TaskFailed(_) | SpError::KeyPair { .. } => {
                        StatusCode::INTERNAL_SERVER_ERROR
                    }
                    SpError::RefusedWithEmptySession { .. } => StatusCode::SEE_OTHER,
                };
                (status, error.code())
            }
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let HttpError::Sp(SpError::RefusedWithEmptySession { refused, session_token }) = &self {
            // The flaw's answer: home, with a session cookie for no one.
            tracing::info!(code, reason = ?refused.to_string(), "response refused, empty session given (flaw)");
            let cookie = format!("{}={session_token}; Path=/; HttpOnly; SameSite=Lax", super::SESSION_COOKIE);
            let mut response = (status, [(header::LOCATION, "/")]).into_response();
            if let Ok(value) = axum::http::HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            return response;
        }
        if let HttpError::ScimOAuth(error) = &self
            && let Some(response) = scim_oauth_response(status, error)
        {
            tracing::info!(code, reason = ?self.to_string(), "SCIM OAuth request refused");
            return response;
        }
        if let HttpError::Scim(error) = &self {
            if status.is_server_error() {
                tracing::error!(error = ?error.to_string(), "SCIM request failed");
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
            // Debug, not Display: the text can hold values from the request
            // (a tenant id from the URL), and Debug escapes line breaks, so
            // a request cannot forge a log line.
            tracing::error!(code, error = ?self.to_string(), "request failed");
        } else {
            tracing::info!(code, reason = ?self.to_string(), "request refused");
        }
        let page = super::pages::refusal(status, code, &self.to_string());
        let mut response = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
        response.headers_mut().insert("x-error-code", axum::http::HeaderValue::from_static(code));
        response
    }
}

/// The SCIM OAuth refusals that are not error pages: RFC 6749 §4.1.2.1's
/// redirect back to the client, §5.2's JSON, and the consent challenge.
fn scim_oauth_response(status: StatusCode, error: &crate::provisioning::oauth::ScimOAuthError) -> Option<Response> {
    use crate::provisioning::oauth::{ScimOAuthError, redirect_location};
    use axum::http::HeaderValue;
    match error {
        ScimOAuthError::Redirected { redirect_uri, error, description, state } => {
            let mut parameters = vec![("error", error.as_str()), ("error_description", description.as_str())];
            if let Some(state) = state.as_deref() {
                parameters.push(("state", state));
            }
            let location = redirect_location(redirect_uri, &parameters);
            Some((status, [(header::LOCATION, location)]).into_response())
        }
        ScimOAuthError::Token { error: code, description } => {
            let body = serde_json::json!({ "error": code.as_str(), "error_description": description });
            let mut response = (status, axum::Json(body)).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if status == StatusCode::UNAUTHORIZED {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"SCIM OAuth client\""));
            }
            Some(response)
        }
        ScimOAuthError::AdminRequired => {
            let page = super::pages::refusal(status, error.code(), &error.to_string());
            let mut response = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Approve Okta's access to SCIM (tenant admin)\""),
            );
            response.headers_mut().insert("x-error-code", HeaderValue::from_static("oauth.admin_required"));
            Some(response)
        }
        ScimOAuthError::NotConfigured(_) | ScimOAuthError::NotRedirectable { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    use super::*;

    /// Writes each event's fields as a log formatter would: `Display` fields
    /// through their `Display`, `Debug` fields through their `Debug`.
    struct Lines(Arc<Mutex<Vec<String>>>);

    struct Fields(String);

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }

    impl Subscriber for Lines {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut fields = Fields(String::new());
            event.record(&mut fields);
            if let Ok(mut lines) = self.0.lock() {
                lines.push(fields.0);
            }
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    #[test]
    fn a_tenant_from_the_url_cannot_forge_a_log_line() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let forged = "x\n2024-01-01T00:00:00Z INFO signed in tenant=acme user=admin@acme.test";
        tracing::subscriber::with_default(Lines(lines.clone()), || {
            let _ = HttpError::Sp(SpError::UnknownTenant(forged.into())).into_response();
            let _ = HttpError::Sp(SpError::Store(crate::store::StoreError::Backend(forged.into()))).into_response();
            let _ = HttpError::Scim(crate::scim::ScimError::Internal(forged.into())).into_response();
        });
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 3, "{lines:?}");
        for line in lines.iter() {
            assert!(line.contains("2024-01-01T00:00:00Z"), "the value is logged: {line}");
            assert!(!line.contains('\n'), "the value is escaped: {line}");
        }
    }
}
