//! The one place where errors become HTTP responses.
//!
//! Management API errors become Okta's JSON envelope; sign-in errors become
//! Okta-style HTML error pages that carry a stable error code.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::admin::OktaApiError;
use crate::idp::{Idp, IdpError};
use crate::ids::IdGenerator;
use crate::oidc::{OAuthCode, OidcError};
use crate::saml::SamlError;

/// Every error a handler can return.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    Api(#[from] OktaApiError),
    #[error(transparent)]
    Sso(#[from] IdpError),
    #[error(transparent)]
    Oidc(#[from] OidcError),
    /// A request to an OAuth endpoint refused before its parameters were
    /// read (a body over the limit): RFC 6749's `invalid_request` JSON,
    /// with the status that says why.
    #[error("invalid_request: {description}")]
    OAuthRequestRejected { status: StatusCode, description: String },
    /// A browser request refused before its parameters were read (a body
    /// over the limit, a query or form that does not parse): an error page.
    #[error("{detail}")]
    PageRequestRejected { status: StatusCode, detail: String },
    /// A web console request refused (a form token that does not match,
    /// no admin session, a refused operation): an error page with its code.
    #[error("{message}")]
    ConsoleRefused { status: StatusCode, code: &'static str, message: String },
    /// A provisioning operation refused or failed.
    #[error(transparent)]
    Provisioning(#[from] crate::provisioning::ProvisioningError),
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
            // Not reached from `into_response`, which sends OIDC errors to
            // `oidc_response`; kept so the match stays exhaustive.
            IdpError::Oidc(_) => (StatusCode::BAD_REQUEST, "oidc_error"),
            IdpError::Saml(saml) => match saml {
                SamlError::BadRequest(_) => (StatusCode::BAD_REQUEST, "invalid_saml_request"),
                SamlError::IssuerMismatch { .. } => (StatusCode::BAD_REQUEST, "issuer_mismatch"),
                SamlError::AcsNotAllowed(_) | SamlError::AcsIndexNotAllowed(_) => {
                    (StatusCode::BAD_REQUEST, "acs_not_allowed")
                }
                SamlError::NotAssigned => (StatusCode::FORBIDDEN, "not_assigned"),
                SamlError::UserNotActive(_) => (StatusCode::FORBIDDEN, "user_not_active"),
                SamlError::Sign(_) | SamlError::SamlFault(_) => (StatusCode::INTERNAL_SERVER_ERROR, "signing_failed"),
                SamlError::Encrypt(_) => (StatusCode::INTERNAL_SERVER_ERROR, "encryption_failed"),
                SamlError::FaultNeedsEncryption(_) => (StatusCode::CONFLICT, "fault_needs_encryption"),
                SamlError::RequestSignature(_) => (StatusCode::BAD_REQUEST, "invalid_request_signature"),
                SamlError::Logout(crate::saml::logout::LogoutError::NotEnabled) => {
                    (StatusCode::BAD_REQUEST, "single_logout_not_enabled")
                }
                SamlError::Logout(_) => (StatusCode::BAD_REQUEST, "invalid_logout_request"),
            },
        }
    }
}

/// Okta's management API error envelope, before its body is written. A
/// response carries it as an extension so that [`with_error_ids`], which
/// holds the IdP, writes the body with an `errorId` from the IdP's own id
/// generator (deterministic mode then gives the same ids on every run).
#[derive(Clone, Debug)]
struct Envelope {
    code: String,
    summary: String,
    causes: Vec<String>,
}

impl Envelope {
    /// The envelope's JSON, in Okta's member order.
    fn body(&self, ids: &dyn IdGenerator) -> Vec<u8> {
        let body = json!({
            "errorCode": self.code,
            "errorSummary": self.summary,
            "errorLink": self.code,
            "errorId": ids.error_id(),
            "errorCauses": self.causes.iter().map(|c| json!({"errorSummary": c})).collect::<Vec<_>>(),
        });
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

/// Okta's management API error envelope: the status and content type, with
/// the envelope as an extension and no body yet. The body needs an `errorId`
/// from the IdP's generator, which only [`with_error_ids`] holds, so it is
/// written there, once; every router from [`super::router`] has that
/// middleware.
pub(super) fn envelope(status: StatusCode, code: &str, summary: &str, causes: &[String]) -> Response {
    let envelope = Envelope { code: code.to_owned(), summary: summary.to_owned(), causes: causes.to_vec() };
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")]).into_response();
    response.extensions_mut().insert(envelope);
    response
}

/// Middleware over the whole router: writes the body of every Okta error
/// envelope, with its `errorId` from the IdP's id generator.
pub(super) async fn with_error_ids(State(idp): State<Arc<Idp>>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let Some(envelope) = response.extensions_mut().remove::<Envelope>() else {
        return response;
    };
    let (mut parts, _empty_body) = response.into_parts();
    // A length set for the empty body would be wrong for the envelope's.
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(envelope.body(idp.ids())))
}

fn html_page(status: StatusCode, code: &str, message: &str) -> Response {
    let page = super::pages::error_page(status, code, message);
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

/// An OIDC error: OAuth JSON at the token, introspection and revocation
/// endpoints, Okta's error page at `/authorize`, and Okta's envelope for the
/// two cases where Okta answers with it.
fn oidc_response(error: &OidcError) -> Response {
    match error {
        OidcError::OAuth { code, description } => {
            let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let body = json!({ "error": code.as_str(), "error_description": description });
            let mut response = super::oidc::json_response(status, &body);
            let headers = response.headers_mut();
            // RFC 6750 §3: bearer errors say what went wrong in the header too.
            if matches!(code, OAuthCode::InvalidToken | OAuthCode::InsufficientScope) {
                let challenge = format!(
                    "Bearer error=\"{}\", error_description=\"{}\"",
                    code.as_str(),
                    description.replace('"', "'")
                );
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
            }
            response
        }
        OidcError::UnknownClient => envelope(StatusCode::UNAUTHORIZED, "invalid_client", &error.to_string(), &[]),
        OidcError::UnknownServer(_) => envelope(StatusCode::NOT_FOUND, "E0000007", &error.to_string(), &[]),
        OidcError::RedirectUriNotRegistered { .. } => {
            html_page(StatusCode::BAD_REQUEST, "redirect_uri_not_registered", &error.to_string())
        }
        OidcError::AuthorizeBadClient => html_page(StatusCode::BAD_REQUEST, "invalid_client", &error.to_string()),
        OidcError::AuthorizePage(_) => html_page(StatusCode::BAD_REQUEST, "invalid_request", &error.to_string()),
        OidcError::LogoutRedirectNotRegistered => {
            html_page(StatusCode::BAD_REQUEST, "post_logout_redirect_uri_not_registered", &error.to_string())
        }
        OidcError::FaultRefused(refusal) => envelope(
            StatusCode::BAD_REQUEST,
            "E0000001",
            "Api validation failed: fault",
            &[format!("fault: {refusal}")],
        ),
        OidcError::Key(detail) => {
            tracing::error!(%detail, "OIDC signing key");
            let body = json!({ "error": "server_error", "error_description": "The signing key is not available." });
            (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
        }
    }
}

/// A provisioning error in Okta's envelope: an unknown app or task is 404,
/// an app without the setting or feature is a validation error, and a
/// request the SCIM server failed is 502 with the server's status and error
/// text among the causes.
fn provisioning_response(error: &crate::provisioning::ProvisioningError) -> Response {
    use crate::provisioning::ProvisioningError;
    let api = match error {
        ProvisioningError::UnknownApp(app) => OktaApiError::not_found(app, "AppInstance"),
        ProvisioningError::UnknownTask(task) => OktaApiError::not_found(task, "ProvisioningTask"),
        ProvisioningError::UnknownGroup(group) => OktaApiError::not_found(group, "UserGroup"),
        ProvisioningError::NotProvisioned(_)
        | ProvisioningError::FeatureOff { .. }
        | ProvisioningError::NotPushed { .. }
        | ProvisioningError::NotOAuth(_)
        | ProvisioningError::ConnectionInactive(_)
        | ProvisioningError::UnknownAuthorization
        | ProvisioningError::AuthorizationRefused { .. } => OktaApiError::validation("provisioning", error.to_string()),
        ProvisioningError::Failed(_)
        | ProvisioningError::AlreadyRunning
        | ProvisioningError::Build(_)
        | ProvisioningError::IdpGone => OktaApiError {
            status: 502,
            code: "E0000009",
            summary: "The SCIM provisioning request failed".into(),
            causes: vec![format!("{}: {error}", error.code())],
        },
    };
    HttpError::Api(api).into_response()
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        match self {
            HttpError::Api(error) => {
                let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
                let mut response = envelope(status, error.code, &error.summary, &error.causes);
                if status == StatusCode::UNAUTHORIZED {
                    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("SSWS"));
                }
                response
            }
            HttpError::Oidc(error) => oidc_response(&error),
            HttpError::Sso(IdpError::Oidc(error)) => oidc_response(&error),
            HttpError::Sso(error) => {
                let (status, code) = HttpError::sso_status_and_code(&error);
                tracing::info!(code, %error, "sign-in refused");
                html_page(status, code, &error.to_string())
            }
            HttpError::OAuthRequestRejected { status, description } => {
                let body = json!({ "error": OAuthCode::InvalidRequest.as_str(), "error_description": description });
                super::oidc::json_response(status, &body)
            }
            HttpError::PageRequestRejected { status, detail } => html_page(status, "invalid_request", &detail),
            HttpError::ConsoleRefused { status, code, message } => html_page(status, code, &message),
            HttpError::Provisioning(error) => provisioning_response(&error),
            HttpError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                html_page(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error.")
            }
        }
    }
}
