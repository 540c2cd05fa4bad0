//! The OAuth 2.0 callback of Okta's provisioning client,
//! `/admin/app/cpc/{appName}/oauth/callback` (Okta's own path): the SP's
//! authorization server sends the admin's browser back here with a code,
//! which the engine exchanges for tokens. Browser-facing, so it answers
//! with pages, errors included.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::HttpError;
use super::extract::PageQuery;
use crate::idp::Idp;
use crate::provisioning::{AuthorizationReply, ProvisioningError};
use crate::saml::xml::escape;

#[derive(Debug, Deserialize)]
pub(super) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn refused(status: StatusCode, code: &str, message: &str) -> Response {
    let page = super::pages::error_page(status, code, message);
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

pub(super) async fn callback(
    State(idp): State<Arc<Idp>>,
    Path(app_name): Path<String>,
    PageQuery(query): PageQuery<CallbackQuery>,
) -> Result<Response, HttpError> {
    let Some(engine) = idp.provisioner() else {
        return Ok(refused(StatusCode::NOT_FOUND, "provisioning.stopped", "No provisioning engine is running."));
    };
    let Some(state) = query.state.filter(|s| !s.is_empty()) else {
        return Ok(refused(StatusCode::BAD_REQUEST, "oauth.no_state", "The callback has no state."));
    };
    let reply = match (query.code, query.error) {
        (_, Some(error)) => AuthorizationReply::Error { error, description: query.error_description },
        (Some(code), None) if !code.is_empty() => AuthorizationReply::Code(code),
        _ => {
            return Ok(refused(
                StatusCode::BAD_REQUEST,
                "oauth.no_code",
                "The callback has neither a code nor an error.",
            ));
        }
    };
    match engine.complete_authorization(&app_name, &state, reply).await {
        Ok(app) => {
            let page = format!(
                "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Authorized - mockta (mock Okta)</title></head>\n<body><main class=\"authorized\" data-app=\"{}\">\n<h1>Authorized</h1>\n<p>Provisioning to {} now authenticates with the SP's OAuth 2.0 tokens.</p>\n</main></body></html>\n",
                escape(app.as_str()),
                escape(&app_name),
            );
            Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response())
        }
        Err(error) => {
            let status = match &error {
                ProvisioningError::UnknownAuthorization
                | ProvisioningError::AuthorizationRefused { .. }
                | ProvisioningError::NotOAuth(_) => StatusCode::BAD_REQUEST,
                _ => StatusCode::BAD_GATEWAY,
            };
            tracing::info!(code = error.code(), %error, "provisioning authorization refused");
            Ok(refused(status, error.code(), &error.to_string()))
        }
    }
}
