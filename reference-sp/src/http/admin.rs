//! The small admin API, authenticated as the tenant's break-glass admin with
//! HTTP Basic. The conformance suite's hooks use it to pre-create accounts.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::HttpError;
use super::extract::{AdminTenant, JsonBody, off_the_runtime};
use crate::idp_fetch;
use crate::sp::{SettingsPatch, Sp};

pub(super) fn routes() -> Router<Arc<Sp>> {
    Router::new()
        .route("/tenants/{tenant}/users", get(list_users).post(create_user))
        .route("/tenants/{tenant}/settings", get(get_settings).patch(update_settings))
        .route("/tenants/{tenant}/refresh-metadata", post(refresh_metadata))
        .route("/tenants/{tenant}/scim-token", post(rotate_scim_token))
        .route("/tenants/{tenant}/teams", post(create_team))
        .route("/tenants/{tenant}/clock", post(advance_clock))
}

async fn list_users(State(sp): State<Arc<Sp>>, AdminTenant(tenant): AdminTenant) -> Result<Response, HttpError> {
    Ok(Json(sp.list_users(&tenant)?).into_response())
}

#[derive(Debug, Deserialize)]
struct NewUserBody {
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    roles: Vec<String>,
}

async fn create_user(
    State(sp): State<Arc<Sp>>,
    AdminTenant(tenant): AdminTenant,
    JsonBody(body): JsonBody<NewUserBody>,
) -> Result<Response, HttpError> {
    let user =
        off_the_runtime(&sp, move |sp| sp.create_local_user(&tenant, &body.email, &body.name, body.roles)).await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

async fn get_settings(State(sp): State<Arc<Sp>>, AdminTenant(tenant): AdminTenant) -> Result<Response, HttpError> {
    let config = sp.tenant(&tenant)?;
    Ok(Json(sp.settings(config)?).into_response())
}

async fn update_settings(
    State(sp): State<Arc<Sp>>,
    AdminTenant(tenant): AdminTenant,
    JsonBody(patch): JsonBody<SettingsPatch>,
) -> Result<Response, HttpError> {
    Ok(Json(off_the_runtime(&sp, move |sp| sp.update_settings(&tenant, patch)).await?).into_response())
}

async fn refresh_metadata(State(sp): State<Arc<Sp>>, AdminTenant(tenant): AdminTenant) -> Result<Response, HttpError> {
    let config = sp.tenant(&tenant)?;
    idp_fetch::refresh(&sp, config).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Makes a new SCIM credential for the tenant; the old one stops working at
/// once. The new secret is shown in this answer only.
async fn rotate_scim_token(State(sp): State<Arc<Sp>>, AdminTenant(tenant): AdminTenant) -> Result<Response, HttpError> {
    let token = off_the_runtime(&sp, move |sp| sp.rotate_scim_credential(&tenant)).await?;
    Ok((StatusCode::OK, Json(serde_json::json!({ "token": token }))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceClockBody {
    advance_seconds: i64,
}

/// Moves the SP's clock, for every tenant, by `advance_seconds` (back when
/// negative), so a test can see a session outlive its end without waiting:
/// the conformance suite's `advance_clock` hook (attacks.md P-18). Any
/// tenant's break-glass admin may, as this SP exists to be tested.
async fn advance_clock(
    State(sp): State<Arc<Sp>>,
    AdminTenant(_tenant): AdminTenant,
    JsonBody(body): JsonBody<AdvanceClockBody>,
) -> Result<Response, HttpError> {
    let offset = sp.advance_clock(body.advance_seconds);
    Ok((StatusCode::OK, Json(serde_json::json!({ "offset_seconds": offset }))).into_response())
}

#[derive(Debug, Deserialize)]
struct NewTeamBody {
    name: String,
}

/// Creates a team in the app, which a pushed Okta group of the same name
/// then links to (the tenants whose groups must link to existing teams).
async fn create_team(
    State(sp): State<Arc<Sp>>,
    AdminTenant(tenant): AdminTenant,
    JsonBody(body): JsonBody<NewTeamBody>,
) -> Result<Response, HttpError> {
    let team = off_the_runtime(&sp, move |sp| sp.create_local_team(&tenant, &body.name)).await?;
    Ok((StatusCode::CREATED, Json(team)).into_response())
}
