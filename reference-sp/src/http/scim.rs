//! `/scim/v2/{tenant}`: the SCIM 2.0 endpoints. Handlers authenticate
//! through the [`ScimTenant`] extractor, read the body through [`ScimBody`]
//! (at most [`MAX_SCIM_BODY`] bytes, JSON or SCIM JSON), call one [`Sp`]
//! function and answer in `application/scim+json`. Every refusal, including
//! an unknown path or method, is a SCIM Error.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::HttpError;
use super::extract::{ScimBody, ScimResourceId, ScimTenant, off_the_runtime};
use crate::provisioning::{ScimReply, parse_if_match};
use crate::scim::list::{self, ListQuery};
use crate::scim::{SCHEMA_LIST, ScimError};
use crate::sp::Sp;

/// The largest SCIM request body accepted.
pub(super) const MAX_SCIM_BODY: usize = 256 * 1024;

pub(super) const SCIM_JSON: &str = "application/scim+json";

type ScimResult = Result<Response, HttpError>;

pub(super) fn routes(sp: Arc<Sp>) -> Router<Arc<Sp>> {
    Router::new()
        .route("/{tenant}/Users", get(list_users).post(create_user))
        .route("/{tenant}/Users/{id}", get(get_user).put(replace_user).patch(patch_user).delete(delete_user))
        .route("/{tenant}/Groups", get(list_groups).post(create_group))
        .route("/{tenant}/Groups/{id}", get(get_group).put(replace_group).patch(patch_group).delete(delete_group))
        .route("/{tenant}/ServiceProviderConfig", get(service_provider_config))
        .route("/{tenant}/ResourceTypes", get(resource_types))
        .route("/{tenant}/ResourceTypes/{id}", get(resource_type))
        .route("/{tenant}/Schemas", get(schemas))
        .route("/{tenant}/Schemas/{id}", get(schema))
        .route("/{tenant}/.search", axum::routing::post(search))
        .route("/{tenant}/Users/.search", axum::routing::post(search))
        .route("/{tenant}/Groups/.search", axum::routing::post(search))
        .fallback(unknown_endpoint)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::map_response_with_state(sp, plain_errors))
}

/// The `error-not-scim-schema` flaw: error bodies become plain JSON.
async fn plain_errors(State(sp): State<Arc<Sp>>, response: Response) -> Response {
    if sp.scim_errors_use_schema() || response.status().as_u16() < 400 {
        return response;
    }
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), MAX_SCIM_BODY).await.unwrap_or_default();
    let detail = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("detail").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    (status, axum::Json(json!({ "error": detail }))).into_response()
}

fn scim_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    response
}

fn reply(status: StatusCode, reply: ScimReply) -> Response {
    let location = reply.body.pointer("/meta/location").and_then(Value::as_str).map(str::to_owned);
    let mut response = scim_json(status, &reply.body);
    if let Some(etag) = reply.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    if status == StatusCode::CREATED
        && let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok())
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// The version `If-Match` names; ignored under the `ignore-if-match` flaw.
fn if_match(sp: &Sp, headers: &HeaderMap) -> Result<Option<i64>, HttpError> {
    if !sp.scim_honours_if_match() {
        return Ok(None);
    }
    Ok(parse_if_match(headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()))?)
}

/// Under the `refuse-plain-json` flaw, a user body sent as
/// `application/json` is refused.
fn refuse_plain_json(sp: &Sp, headers: &HeaderMap) -> Result<(), HttpError> {
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let plain = media.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/json");
    if plain && !sp.scim_accepts_plain_json() {
        return Err(ScimError::InvalidSyntax(format!("the body must be {SCIM_JSON}")).into());
    }
    if sp.scim_refuses_media_type(media) {
        return Err(ScimError::InvalidSyntax(format!(
            "the body must be {SCIM_JSON}; charset=utf-8 or application/json"
        ))
        .into());
    }
    Ok(())
}

fn query(raw: Option<String>) -> Result<ListQuery, HttpError> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
    Ok(list::parse_query(&pairs)?)
}

async fn list_users(State(sp): State<Arc<Sp>>, ScimTenant(tenant): ScimTenant, RawQuery(raw): RawQuery) -> ScimResult {
    Ok(scim_json(StatusCode::OK, &sp.scim_list_users(&tenant, &query(raw)?)?))
}

/// A single resource, with `attributes` / `excludedAttributes` applied.
fn projected(found: ScimReply, raw: Option<String>) -> Result<ScimReply, HttpError> {
    let query = query(raw)?;
    Ok(ScimReply { body: list::project(found.body, &query.attributes, &query.excluded_attributes), etag: found.etag })
}

async fn get_user(
    State(sp): State<Arc<Sp>>,
    ScimTenant(tenant): ScimTenant,
    ScimResourceId(id): ScimResourceId,
    RawQuery(raw): RawQuery,
) -> ScimResult {
    Ok(reply(StatusCode::OK, projected(sp.scim_get_user(&tenant, &id)?, raw)?))
}

async fn create_user(
    State(sp): State<Arc<Sp>>,
    ScimTenant(tenant): ScimTenant,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ScimResult {
    refuse_plain_json(&sp, &headers)?;
    let (created, new) = sp.scim_create_user(&tenant, &body).await?;
    Ok(reply(if new { StatusCode::CREATED } else { StatusCode::OK }, created))
}

async fn replace_user(
    State(sp): State<Arc<Sp>>,
    ScimTenant(tenant): ScimTenant,
    ScimResourceId(id): ScimResourceId,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ScimResult {
    let version = if_match(&sp, &headers)?;
    Ok(reply(StatusCode::OK, sp.scim_replace_user(&tenant, &id, body, version).await?))
}

async fn patch_user(
    State(sp): State<Arc<Sp>>,
    ScimTenant(tenant): ScimTenant,
    ScimResourceId(id): ScimResourceId,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ScimResult {
    let version = if_match(&sp, &headers)?;
    Ok(reply(StatusCode::OK, sp.scim_patch_user(&tenant, &id, &body, version).await?))
}

/// Okta never deletes users; this SP deactivates instead and keeps the
/// record, so a DELETE is refused with the reason.
async fn delete_user(
    State(sp): State<Arc<Sp>>,
    ScimTenant(tenant): ScimTenant,
    ScimResourceId(id): ScimResourceId,
) -> ScimResult {
    Err(sp.scim_user_delete_refusal(&tenant, &id).into())
}

async fn list_groups(State(sp): State<Arc<Sp>>, ScimTenant(tenant): ScimTenant, RawQuery(raw): RawQuery) -> ScimResult {
    Ok(scim_json(StatusCode::OK, &sp.scim_list_groups(&tenant, &query(raw)?)?))
}

async fn get_group(
    State(sp): State<Arc<Sp>>,
    ScimTenant(tenant): ScimTenant,
    ScimResourceId(id): ScimResourceId,
    RawQuery(raw): RawQuery,
) -> ScimResult {
    Ok(reply(StatusCode::OK, projected(sp.scim_get_group(&tenant, &id)?, raw)?))
}

async fn create_group(
    State(sp): State<Arc<Sp>>,
    ScimTenant(tenant): ScimTenant,
    ScimBody(body): ScimBody,
) -> ScimResult {
    Ok(reply(StatusCode::CREATED, off_the_runtime(&sp, move |sp| sp.scim_create_group(&tenant, &body)).await?))
}

async fn replace_group(
    State(sp): State<Arc<Sp>>,
    ScimTenant(tenant): ScimTenant,
    ScimResourceId(id): ScimResourceId,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ScimResult {
    let version = if_match(&sp, &headers)?;
    Ok(reply(
        StatusCode::OK,
        off_the_runtime(&sp, move |sp| sp.scim_replace_group(&tenant, &id, &body, version)).await?,
    ))
}

async fn patch_group(
    State(sp): State<Arc<Sp>>,
    ScimTenant(tenant): ScimTenant,
    ScimResourceId(id): ScimResourceId,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ScimResult {
    let version = if_match(&sp, &headers)?;
    Ok(reply(StatusCode::OK, off_the_runtime(&sp, move |sp| sp.scim_patch_group(&tenant, &id, &body, version)).await?))
}

async fn delete_group(
    State(sp): State<Arc<Sp>>,
    ScimTenant(tenant): ScimTenant,
    ScimResourceId(id): ScimResourceId,
) -> ScimResult {
    off_the_runtime(&sp, move |sp| sp.scim_delete_group(&tenant, &id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn service_provider_config(State(sp): State<Arc<Sp>>, ScimTenant(tenant): ScimTenant) -> ScimResult {
    Ok(scim_json(StatusCode::OK, &sp.scim_service_provider_config(&tenant)?))
}

fn list_of(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [SCHEMA_LIST],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

async fn resource_types(State(sp): State<Arc<Sp>>, ScimTenant(tenant): ScimTenant) -> ScimResult {
    Ok(scim_json(StatusCode::OK, &list_of(sp.scim_resource_types(&tenant)?)))
}

async fn resource_type(
    State(sp): State<Arc<Sp>>,
    ScimTenant(tenant): ScimTenant,
    ScimResourceId(id): ScimResourceId,
) -> ScimResult {
    Ok(scim_json(StatusCode::OK, &sp.scim_resource_type(&tenant, &id)?))
}

async fn schemas(State(sp): State<Arc<Sp>>, ScimTenant(tenant): ScimTenant) -> ScimResult {
    Ok(scim_json(StatusCode::OK, &list_of(sp.scim_schemas(&tenant)?)))
}

async fn schema(
    State(sp): State<Arc<Sp>>,
    ScimTenant(tenant): ScimTenant,
    ScimResourceId(id): ScimResourceId,
) -> ScimResult {
    Ok(scim_json(StatusCode::OK, &sp.scim_schema(&tenant, &id)?))
}

/// Any other path under the SCIM base gets a SCIM 404.
async fn unknown_endpoint(uri: axum::http::Uri) -> ScimResult {
    Err(ScimError::NotFound(uri.path().to_owned()).into())
}

/// A SCIM path that does not take the method gets a SCIM 405; axum adds the
/// `Allow` header.
async fn method_not_allowed(method: axum::http::Method) -> ScimResult {
    Err(ScimError::MethodNotAllowed(format!("this endpoint does not take the {method} method")).into())
}

/// `POST .search` (RFC 7644 §3.4.3) is optional; Okta never uses it.
async fn search(_authenticated: ScimTenant) -> ScimResult {
    Err(ScimError::NotImplemented("POST .search is not supported; use GET with a filter".into()).into())
}
