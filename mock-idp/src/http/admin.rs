//! Okta's management API under `/api/v1`, authenticated with `SSWS {token}`,
//! plus mockta's own controls under `/api/v1/mockta`: SAML and OIDC faults,
//! and key rotation for the org authorization server, which Okta's API does
//! not expose.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::HttpError;
use super::extract::{ApiBody, ApiQuery};
use crate::admin::{self, Applied, Lifecycle, OktaApiError, Page, PageRequest};
use crate::idp::Idp;
use crate::oidc::ServerRef;
use crate::oidc::authorize::constant_time_eq;
use crate::oidc::faults::{FaultTarget, OidcFault, OidcFaultPlan};
use crate::org::Org;
use crate::saml::SamlFaultPlan;
use crate::saml::faults::SamlFault;

type ApiResponse = Result<Response, HttpError>;

pub(super) fn routes(idp: Arc<Idp>) -> Router<Arc<Idp>> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/{user}", get(get_user).post(update_user_partial).put(update_user_full).delete(delete_user))
        .route("/users/{user}/lifecycle/{operation}", post(lifecycle))
        .route("/groups", get(list_groups).post(create_group))
        .route("/groups/{group}", get(get_group).put(update_group).delete(delete_group))
        .route("/groups/{group}/users", get(group_members))
        .route("/groups/{group}/users/{user}", axum::routing::put(add_member).delete(remove_member))
        .route("/apps", get(list_apps))
        .route("/apps/{app}", get(get_app))
        .route("/apps/{app}/users", get(list_app_users).post(assign_user))
        .route("/apps/{app}/users/{user}", get(get_app_user).post(update_app_user).delete(unassign_user))
        .route("/apps/{app}/groups", get(list_app_groups))
        .route("/apps/{app}/groups/{group}", axum::routing::put(assign_group).delete(unassign_group))
        .route("/apps/{app}/connections/default", get(get_connection).post(update_connection))
        .route("/apps/{app}/connections/default/lifecycle/{operation}", post(connection_lifecycle))
        .route("/apps/{app}/features", get(list_features))
        .route("/apps/{app}/features/{feature}", get(get_feature).put(update_feature))
        // SAML faults: `/mockta/saml/faults`, beside `/mockta/oidc/faults`.
        // `/mockta/faults` is the older path, kept for scripts that use it.
        .route("/mockta/saml/faults", get(list_saml_faults).post(arm_saml_fault).delete(clear_saml_faults))
        .route("/mockta/saml/faults/catalogue", get(saml_fault_catalogue))
        .route("/mockta/faults", get(list_saml_faults).post(arm_saml_fault).delete(clear_saml_faults))
        .route("/mockta/faults/catalogue", get(saml_fault_catalogue))
        .route("/authorizationServers/{server}/credentials/keys", get(list_server_keys))
        .route("/authorizationServers/{server}/credentials/lifecycle/keyRotate", post(rotate_server_keys))
        .route("/mockta/oidc/org/credentials/keys", get(list_org_keys))
        .route("/mockta/oidc/org/credentials/lifecycle/keyRotate", post(rotate_org_keys))
        .route("/mockta/oidc/faults", get(list_oidc_faults).post(arm_oidc_fault).delete(clear_oidc_faults))
        .route("/mockta/oidc/faults/{id}", axum::routing::delete(disarm_oidc_fault))
        .route("/mockta/oidc/faults/catalogue", get(oidc_fault_catalogue))
        .route("/mockta/scim/transcript", get(scim_transcript).delete(clear_scim_transcript))
        .route("/mockta/scim/tasks", get(scim_failed_tasks))
        .route("/mockta/scim/tasks/{id}/retry", post(retry_scim_task))
        .route("/mockta/scim/apps/{app}/settings", get(scim_settings).put(update_scim_settings))
        .route("/mockta/scim/apps/{app}/oauth/authorize", post(scim_start_authorization))
        .route("/mockta/scim/apps/{app}/test-credentials", post(scim_test_credentials))
        .route("/mockta/scim/apps/{app}/push", post(scim_push_now))
        .route("/mockta/scim/apps/{app}/import", post(scim_import))
        .route("/mockta/scim/apps/{app}/groups/{group}", axum::routing::put(scim_push_group).delete(scim_unlink_group))
        .route("/mockta/scim/faults", get(list_scim_faults).post(arm_scim_fault).delete(clear_scim_faults))
        .route("/mockta/scim/faults/catalogue", get(scim_fault_catalogue))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(idp, require_ssws))
}

/// What a request's `Authorization` header presents.
enum Presented {
    /// No header, one that is not text, or one without a token scheme.
    Nothing,
    /// An `SSWS` API token.
    ApiToken(String),
    /// Another token, such as an OAuth `Bearer` access token, which the
    /// mock's management API does not accept.
    OtherToken,
}

fn presented_credential(request: &Request) -> Presented {
    let Some(value) = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Presented::Nothing;
    };
    // Okta's Python SDK 3.x (okta 3.4.6) sends `SSWS{token}` with no space
    // after the scheme. It is Okta's own client for this API, so the space
    // is optional here; that Okta itself accepts the form is inferred from
    // the SDK, not seen on a live org.
    if let Some(token) = value.strip_prefix("SSWS").map(str::trim).filter(|token| !token.is_empty()) {
        return Presented::ApiToken(token.to_owned());
    }
    match value.strip_prefix("Bearer ").map(str::trim) {
        Some(token) if !token.is_empty() => Presented::OtherToken,
        _ => Presented::Nothing,
    }
}

/// Checks `Authorization: SSWS {token}` against the org's API token. As at
/// Okta, a request that presents no credential at all (no header, or a
/// header naming no token scheme) is 403 `E0000005` "Invalid session", and
/// a token that is not the org's is 401 `E0000011` "Invalid token provided".
async fn require_ssws(State(idp): State<Arc<Idp>>, request: Request, next: Next) -> Response {
    let token = match presented_credential(&request) {
        Presented::Nothing => return HttpError::Api(OktaApiError::invalid_session()).into_response(),
        Presented::OtherToken => return HttpError::Api(OktaApiError::invalid_token()).into_response(),
        Presented::ApiToken(token) => token,
    };
    let valid = idp.read_org(|org| constant_time_eq(token.as_bytes(), org.api_token.as_bytes()));
    if !valid {
        return HttpError::Api(OktaApiError::invalid_token()).into_response();
    }
    next.run(request).await
}

async fn not_found(uri: axum::http::Uri) -> HttpError {
    HttpError::Api(OktaApiError::not_found(uri.path(), "Resource"))
}

async fn method_not_allowed() -> HttpError {
    HttpError::Api(OktaApiError::method_not_allowed())
}

fn ok(value: Value) -> ApiResponse {
    Ok(Json(value).into_response())
}

/// Answers with one page of a list and Okta's `Link` headers, built on the
/// org URL from the request's own path and query.
fn paged(uri: &axum::http::Uri, org_url: &str, page: Page) -> ApiResponse {
    let query: Vec<(String, String)> = uri
        .query()
        .map(|query| url::form_urlencoded::parse(query.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let links = admin::paging::link_headers(org_url, uri.path(), &query, &page);
    let mut response = Json(Value::Array(page.items)).into_response();
    for link in links {
        let value = header::HeaderValue::from_str(&link)
            .map_err(|e| OktaApiError::validation("query", format!("cannot be echoed in a Link header: {e}")))?;
        response.headers_mut().append(header::LINK, value);
    }
    Ok(response)
}

/// Reads one page under the org lock, with the org URL for its links.
fn read_page(idp: &Idp, uri: &axum::http::Uri, list: impl FnOnce(&Org) -> Result<Page, OktaApiError>) -> ApiResponse {
    let (org_url, page) = idp.read_org(|org| Ok::<_, OktaApiError>((org.url.clone(), list(org)?)))?;
    paged(uri, &org_url, page)
}

#[derive(Debug, Deserialize)]
struct PagingQuery {
    after: Option<String>,
    limit: Option<String>,
}

impl PagingQuery {
    fn request(self) -> PageRequest {
        PageRequest { after: self.after, limit: self.limit }
    }
}

fn no_content() -> ApiResponse {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Runs a management operation, publishes its changes, and answers with
/// Okta's JSON for what it acted on, rendered under the same lock.
fn changed<T>(
    idp: &Idp,
    operation: impl FnOnce(&mut Org) -> Result<Applied<T>, OktaApiError>,
    render: impl FnOnce(&Org, &T) -> Value,
) -> ApiResponse {
    let view = idp.change_org(|org| {
        let applied = operation(org)?;
        Ok::<_, OktaApiError>((render(org, &applied.subject), applied.changes))
    })?;
    ok(view)
}

/// Runs a management operation, publishes its changes, and answers 204.
fn changed_without_body<T>(
    idp: &Idp,
    operation: impl FnOnce(&mut Org) -> Result<Applied<T>, OktaApiError>,
) -> ApiResponse {
    idp.apply(operation)?;
    no_content()
}

#[derive(Debug, Deserialize)]
struct UserQuery {
    q: Option<String>,
    filter: Option<String>,
    search: Option<String>,
    after: Option<String>,
    limit: Option<String>,
    activate: Option<bool>,
}

async fn list_users(
    State(idp): State<Arc<Idp>>,
    OriginalUri(uri): OriginalUri,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> ApiResponse {
    let paging = PageRequest { after: query.after, limit: query.limit };
    read_page(&idp, &uri, |org| {
        admin::list_users(org, query.q.as_deref(), query.filter.as_deref(), query.search.as_deref(), &paging)
    })
}

async fn create_user(
    State(idp): State<Arc<Idp>>,
    ApiQuery(query): ApiQuery<UserQuery>,
    ApiBody(body): ApiBody,
) -> ApiResponse {
    let body = admin::parse_body(&body)?;
    let now = idp.now();
    changed(
        &idp,
        |org| admin::create_user(org, body, query.activate.unwrap_or(true), now, idp.ids()),
        admin::user_by_id,
    )
}

async fn get_user(State(idp): State<Arc<Idp>>, Path(user): Path<String>) -> ApiResponse {
    ok(idp.read_org(|org| admin::get_user(org, &user))?)
}

async fn update_user_partial(
    State(idp): State<Arc<Idp>>,
    Path(user): Path<String>,
    ApiBody(body): ApiBody,
) -> ApiResponse {
    let body = admin::parse_body(&body)?;
    let now = idp.now();
    changed(&idp, |org| admin::update_user(org, &user, body, true, now), admin::user_by_id)
}

async fn update_user_full(
    State(idp): State<Arc<Idp>>,
    Path(user): Path<String>,
    ApiBody(body): ApiBody,
) -> ApiResponse {
    let body = admin::parse_body(&body)?;
    let now = idp.now();
    changed(&idp, |org| admin::update_user(org, &user, body, false, now), admin::user_by_id)
}

async fn delete_user(State(idp): State<Arc<Idp>>, Path(user): Path<String>) -> ApiResponse {
    let now = idp.now();
    changed_without_body(&idp, |org| admin::delete_user(org, &user, now))
}

async fn lifecycle(State(idp): State<Arc<Idp>>, Path((user, operation)): Path<(String, String)>) -> ApiResponse {
    let operation = Lifecycle::parse(&operation).ok_or_else(|| OktaApiError::not_found(&operation, "Resource"))?;
    let now = idp.now();
    // Okta answers a lifecycle operation with an empty object.
    changed(&idp, |org| admin::lifecycle(org, &user, operation, now), |_, _| json!({}))
}

#[derive(Debug, Deserialize)]
struct GroupQuery {
    q: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

async fn list_groups(
    State(idp): State<Arc<Idp>>,
    OriginalUri(uri): OriginalUri,
    ApiQuery(query): ApiQuery<GroupQuery>,
) -> ApiResponse {
    let paging = PageRequest { after: query.after, limit: query.limit };
    read_page(&idp, &uri, |org| admin::list_groups(org, query.q.as_deref(), &paging))
}

async fn create_group(State(idp): State<Arc<Idp>>, ApiBody(body): ApiBody) -> ApiResponse {
    let body = admin::parse_body(&body)?;
    let now = idp.now();
    changed(&idp, |org| admin::create_group(org, body, now, idp.ids()), admin::group_by_id)
}

async fn get_group(State(idp): State<Arc<Idp>>, Path(group): Path<String>) -> ApiResponse {
    ok(idp.read_org(|org| admin::get_group(org, &group))?)
}

async fn update_group(State(idp): State<Arc<Idp>>, Path(group): Path<String>, ApiBody(body): ApiBody) -> ApiResponse {
    let body = admin::parse_body(&body)?;
    let now = idp.now();
    changed(&idp, |org| admin::update_group(org, &group, body, now), admin::group_by_id)
}

async fn delete_group(State(idp): State<Arc<Idp>>, Path(group): Path<String>) -> ApiResponse {
    changed_without_body(&idp, |org| admin::delete_group(org, &group))
}

async fn group_members(
    State(idp): State<Arc<Idp>>,
    OriginalUri(uri): OriginalUri,
    Path(group): Path<String>,
    ApiQuery(query): ApiQuery<PagingQuery>,
) -> ApiResponse {
    let paging = query.request();
    read_page(&idp, &uri, |org| admin::group_members(org, &group, &paging))
}

async fn add_member(State(idp): State<Arc<Idp>>, Path((group, user)): Path<(String, String)>) -> ApiResponse {
    let now = idp.now();
    changed_without_body(&idp, |org| admin::add_member(org, &group, &user, now))
}

async fn remove_member(State(idp): State<Arc<Idp>>, Path((group, user)): Path<(String, String)>) -> ApiResponse {
    let now = idp.now();
    changed_without_body(&idp, |org| admin::remove_member(org, &group, &user, now))
}

async fn list_apps(
    State(idp): State<Arc<Idp>>,
    OriginalUri(uri): OriginalUri,
    ApiQuery(query): ApiQuery<PagingQuery>,
) -> ApiResponse {
    let paging = query.request();
    read_page(&idp, &uri, |org| admin::list_apps(org, &paging))
}

async fn get_app(State(idp): State<Arc<Idp>>, Path(app): Path<String>) -> ApiResponse {
    ok(idp.read_org(|org| admin::get_app(org, &app))?)
}

async fn list_app_users(
    State(idp): State<Arc<Idp>>,
    OriginalUri(uri): OriginalUri,
    Path(app): Path<String>,
    ApiQuery(query): ApiQuery<PagingQuery>,
) -> ApiResponse {
    let paging = query.request();
    read_page(&idp, &uri, |org| admin::list_app_users(org, &app, &paging))
}

async fn assign_user(State(idp): State<Arc<Idp>>, Path(app): Path<String>, ApiBody(body): ApiBody) -> ApiResponse {
    let body = admin::parse_body(&body)?;
    let now = idp.now();
    changed(&idp, |org| admin::assign_user(org, &app, None, body, now), admin::app_user_by_id)
}

async fn get_app_user(State(idp): State<Arc<Idp>>, Path((app, user)): Path<(String, String)>) -> ApiResponse {
    ok(idp.read_org(|org| admin::get_app_user(org, &app, &user))?)
}

async fn update_app_user(
    State(idp): State<Arc<Idp>>,
    Path((app, user)): Path<(String, String)>,
    ApiBody(body): ApiBody,
) -> ApiResponse {
    let body = admin::parse_body(&body)?;
    let now = idp.now();
    changed(&idp, |org| admin::assign_user(org, &app, Some(&user), body, now), admin::app_user_by_id)
}

async fn unassign_user(State(idp): State<Arc<Idp>>, Path((app, user)): Path<(String, String)>) -> ApiResponse {
    changed_without_body(&idp, |org| admin::unassign_user(org, &app, &user))
}

async fn list_app_groups(
    State(idp): State<Arc<Idp>>,
    OriginalUri(uri): OriginalUri,
    Path(app): Path<String>,
    ApiQuery(query): ApiQuery<PagingQuery>,
) -> ApiResponse {
    let paging = query.request();
    read_page(&idp, &uri, |org| admin::list_app_groups(org, &app, &paging))
}

async fn assign_group(
    State(idp): State<Arc<Idp>>,
    Path((app, group)): Path<(String, String)>,
    ApiBody(body): ApiBody,
) -> ApiResponse {
    let body = if body.is_empty() { admin::AppGroupBody::default() } else { admin::parse_body(&body)? };
    changed(&idp, |org| admin::assign_group(org, &app, &group, body), admin::app_group_by_id)
}

async fn unassign_group(State(idp): State<Arc<Idp>>, Path((app, group)): Path<(String, String)>) -> ApiResponse {
    changed_without_body(&idp, |org| admin::unassign_group(org, &app, &group))
}

#[derive(Debug, Deserialize)]
struct SamlFaultBody {
    fault: String,
    user: Option<String>,
    app: Option<String>,
    impersonate: Option<String>,
}

/// Arms a fault for the next matching response. `user` and `app` take ids or
/// names; leaving one out matches any.
async fn arm_saml_fault(State(idp): State<Arc<Idp>>, ApiBody(body): ApiBody) -> ApiResponse {
    let body: SamlFaultBody = admin::parse_body(&body)?;
    let fault: SamlFault = body
        .fault
        .parse()
        .map_err(|e: crate::saml::faults::UnknownSamlFault| OktaApiError::validation("fault", e.to_string()))?;
    let (user, app) = idp.read_org(|org| {
        Ok::<_, OktaApiError>((
            admin::fault_user(org, body.user.as_deref())?,
            admin::fault_app(org, body.app.as_deref())?,
        ))
    })?;
    let armed = idp.arm_saml_fault(SamlFaultPlan { fault, impersonate: body.impersonate }, user, app);
    Ok((StatusCode::CREATED, Json(json!(armed))).into_response())
}

async fn list_saml_faults(State(idp): State<Arc<Idp>>) -> ApiResponse {
    ok(json!(idp.armed_saml_faults()))
}

async fn clear_saml_faults(State(idp): State<Arc<Idp>>) -> ApiResponse {
    idp.clear_saml_faults();
    no_content()
}

async fn saml_fault_catalogue() -> ApiResponse {
    ok(json!(SamlFault::catalogue()))
}

#[derive(Debug, Deserialize)]
struct RotateQuery {
    /// A mockta extension: remove the old key at once, as after a leak.
    #[serde(default)]
    emergency: bool,
}

#[derive(Debug, Deserialize)]
struct RotateBody {
    #[serde(rename = "use")]
    key_use: String,
}

/// Okta's `keyRotate` takes `{"use":"sig"}`; anything else is a validation error.
fn check_rotate_body(body: &Bytes) -> Result<(), HttpError> {
    let parsed: RotateBody = admin::parse_body(body)?;
    if parsed.key_use != "sig" {
        return Err(OktaApiError::validation("use", "must be 'sig'").into());
    }
    Ok(())
}

async fn list_server_keys(State(idp): State<Arc<Idp>>, Path(server): Path<String>) -> ApiResponse {
    ok(json!(idp.signing_keys(&ServerRef::Custom(server))?))
}

async fn rotate_server_keys(
    State(idp): State<Arc<Idp>>,
    Path(server): Path<String>,
    ApiQuery(query): ApiQuery<RotateQuery>,
    ApiBody(body): ApiBody,
) -> ApiResponse {
    check_rotate_body(&body)?;
    ok(json!(idp.rotate_keys(&ServerRef::Custom(server), query.emergency)?))
}

async fn list_org_keys(State(idp): State<Arc<Idp>>) -> ApiResponse {
    ok(json!(idp.signing_keys(&ServerRef::Org)?))
}

async fn rotate_org_keys(
    State(idp): State<Arc<Idp>>,
    ApiQuery(query): ApiQuery<RotateQuery>,
    ApiBody(body): ApiBody,
) -> ApiResponse {
    check_rotate_body(&body)?;
    ok(json!(idp.rotate_keys(&ServerRef::Org, query.emergency)?))
}

#[derive(Debug, Deserialize)]
struct OidcFaultBody {
    fault: String,
    user: Option<String>,
    client: Option<String>,
    /// `org`, or a custom authorization server's id; leaving it out matches any.
    server: Option<String>,
    /// `id_token` (default), `access_token` or `both`.
    token: Option<String>,
}

/// Arms an OIDC fault for the next matching message. `user` and `client`
/// take ids or names; leaving one out matches any. A fault that no
/// matching message could carry is refused with E0000001 and the reason.
async fn arm_oidc_fault(State(idp): State<Arc<Idp>>, ApiBody(body): ApiBody) -> ApiResponse {
    let body: OidcFaultBody = admin::parse_body(&body)?;
    let fault: OidcFault = body
        .fault
        .parse()
        .map_err(|e: crate::oidc::faults::UnknownOidcFault| OktaApiError::validation("fault", e.to_string()))?;
    let target = match body.token.as_deref() {
        None => FaultTarget::default(),
        Some(value) => FaultTarget::parse(value).ok_or_else(|| {
            OktaApiError::validation("token", format!("'{value}' is not id_token, access_token or both"))
        })?,
    };
    let (user, client, server) = idp.read_org(|org| {
        let user = admin::fault_user(org, body.user.as_deref())?;
        let client = admin::fault_client(org, body.client.as_deref())?;
        Ok::<_, OktaApiError>((user, client, admin::fault_server(org, body.server.as_deref())?))
    })?;
    let armed = idp
        .arm_oidc_fault_on_server(OidcFaultPlan { fault, target }, server, user, client)
        .map_err(|refusal| OktaApiError::validation("fault", refusal.to_string()))?;
    Ok((StatusCode::CREATED, Json(json!(armed))).into_response())
}

async fn list_oidc_faults(State(idp): State<Arc<Idp>>) -> ApiResponse {
    ok(json!(idp.armed_oidc_faults()))
}

async fn clear_oidc_faults(State(idp): State<Arc<Idp>>) -> ApiResponse {
    idp.clear_oidc_faults();
    no_content()
}

/// Disarms one fault, so a check can take back its own fault without
/// clearing those of others.
async fn disarm_oidc_fault(State(idp): State<Arc<Idp>>, Path(id): Path<String>) -> ApiResponse {
    if !idp.disarm_oidc_fault(&id) {
        return Err(OktaApiError::not_found(&id, "OidcFault").into());
    }
    no_content()
}

async fn oidc_fault_catalogue() -> ApiResponse {
    let catalogue: Vec<Value> =
        OidcFault::ALL.iter().map(|f| json!({ "name": f.name(), "description": f.description() })).collect();
    ok(json!(catalogue))
}

/// The running provisioning engine, or Okta's 404 when none was started.
fn provisioner(idp: &Idp) -> Result<Arc<crate::provisioning::Provisioner>, HttpError> {
    idp.provisioner().ok_or_else(|| OktaApiError::not_found("provisioning", "ProvisioningEngine").into())
}

#[derive(Debug, Deserialize)]
struct TranscriptQuery {
    /// Only exchanges after this sequence number.
    after: Option<u64>,
}

async fn scim_transcript(State(idp): State<Arc<Idp>>, ApiQuery(query): ApiQuery<TranscriptQuery>) -> ApiResponse {
    let engine = provisioner(&idp)?;
    ok(json!(engine.transcript_after(query.after.unwrap_or(0))))
}

async fn clear_scim_transcript(State(idp): State<Arc<Idp>>) -> ApiResponse {
    provisioner(&idp)?.clear_transcript();
    no_content()
}

async fn scim_failed_tasks(State(idp): State<Arc<Idp>>) -> ApiResponse {
    ok(json!(provisioner(&idp)?.failed_tasks()))
}

async fn retry_scim_task(State(idp): State<Arc<Idp>>, Path(id): Path<String>) -> ApiResponse {
    provisioner(&idp)?.retry_task(&id).await?;
    no_content()
}

async fn scim_settings(State(idp): State<Arc<Idp>>, Path(app): Path<String>) -> ApiResponse {
    ok(idp.read_org(|org| admin::provisioning_settings(org, &app))?)
}

/// Sets what Okta keeps in the integration's definition: the request profile
/// and the unique identifier field. The engine reads them when its next
/// operation starts.
async fn update_scim_settings(
    State(idp): State<Arc<Idp>>,
    Path(app): Path<String>,
    ApiBody(body): ApiBody,
) -> ApiResponse {
    let body: admin::connections::IntegrationSettingsBody = admin::parse_body(&body)?;
    changed(
        &idp,
        |org| admin::connections::update_integration_settings(org, &app, body),
        |org, app| org.apps.get(app).map(admin::provisioning_json).unwrap_or(Value::Null),
    )
}

async fn scim_test_credentials(State(idp): State<Arc<Idp>>, Path(app): Path<String>) -> ApiResponse {
    ok(json!(provisioner(&idp)?.test_credentials(&app).await?))
}

async fn scim_push_now(State(idp): State<Arc<Idp>>, Path(app): Path<String>) -> ApiResponse {
    ok(json!(provisioner(&idp)?.push_now(&app).await?))
}

async fn scim_import(State(idp): State<Arc<Idp>>, Path(app): Path<String>) -> ApiResponse {
    ok(json!(provisioner(&idp)?.import(&app).await?))
}

/// "Push Groups" for one group: it is added to the app's pushed groups and
/// pushed now.
async fn scim_push_group(State(idp): State<Arc<Idp>>, Path((app, group)): Path<(String, String)>) -> ApiResponse {
    ok(json!(provisioner(&idp)?.push_group_now(&app, &group).await?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnlinkQuery {
    /// Okta's "Delete the group in the target app" box.
    delete_in_app: Option<bool>,
}

/// "Unlink pushed group", with or without deleting the group in the app.
async fn scim_unlink_group(
    State(idp): State<Arc<Idp>>,
    Path((app, group)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<UnlinkQuery>,
) -> ApiResponse {
    let engine = provisioner(&idp)?;
    ok(json!(engine.unlink_group(&app, &group, query.delete_in_app.unwrap_or(false)).await?))
}

#[derive(Debug, Deserialize)]
struct ScimFaultBody {
    fault: String,
    /// The app, by id or name; every provisioning app when absent.
    app: Option<String>,
}

async fn arm_scim_fault(State(idp): State<Arc<Idp>>, ApiBody(body): ApiBody) -> ApiResponse {
    let body: ScimFaultBody = admin::parse_body(&body)?;
    let fault: crate::scim::ScimFault = body
        .fault
        .parse()
        .map_err(|e: crate::scim::UnknownScimFault| OktaApiError::validation("fault", e.to_string()))?;
    let armed = provisioner(&idp)?.arm_fault(fault, body.app.as_deref())?;
    Ok((StatusCode::CREATED, Json(json!(armed))).into_response())
}

async fn list_scim_faults(State(idp): State<Arc<Idp>>) -> ApiResponse {
    ok(json!(provisioner(&idp)?.armed_faults()))
}

async fn clear_scim_faults(State(idp): State<Arc<Idp>>) -> ApiResponse {
    provisioner(&idp)?.clear_faults();
    no_content()
}

async fn scim_fault_catalogue() -> ApiResponse {
    let catalogue: Vec<Value> = crate::scim::ScimFault::ALL
        .iter()
        .map(|f| json!({ "name": f.name(), "description": f.description() }))
        .collect();
    ok(json!(catalogue))
}

#[derive(Debug, Deserialize)]
struct ConnectionQuery {
    /// Okta's `activate`: activate the connection with the update.
    activate: Option<String>,
}

async fn get_connection(State(idp): State<Arc<Idp>>, Path(app): Path<String>) -> ApiResponse {
    ok(idp.read_org(|org| admin::connections::get_connection(org, &app))?)
}

/// Sets the base URL and authentication. The engine reads them when its
/// next operation starts, so they take effect then.
async fn update_connection(
    State(idp): State<Arc<Idp>>,
    Path(app): Path<String>,
    ApiQuery(query): ApiQuery<ConnectionQuery>,
    ApiBody(body): ApiBody,
) -> ApiResponse {
    let body: admin::connections::ConnectionBody = admin::parse_body(&body)?;
    let activate = match query.activate.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(OktaApiError::validation("activate", format!("'{other}' is not true or false")).into());
        }
    };
    changed(
        &idp,
        |org| admin::connections::update_connection(org, &app, body, activate),
        admin::connections::connection_by_id,
    )
}

/// `activate` or `deactivate`; Okta answers 204.
async fn connection_lifecycle(
    State(idp): State<Arc<Idp>>,
    Path((app, operation)): Path<(String, String)>,
) -> ApiResponse {
    let active = match operation.as_str() {
        "activate" => true,
        "deactivate" => false,
        _ => return Err(OktaApiError::not_found(&operation, "Resource").into()),
    };
    changed_without_body(&idp, |org| admin::connections::set_connection_active(org, &app, active))
}

async fn list_features(State(idp): State<Arc<Idp>>, Path(app): Path<String>) -> ApiResponse {
    ok(idp.read_org(|org| admin::connections::list_features(org, &app))?)
}

async fn get_feature(State(idp): State<Arc<Idp>>, Path((app, feature)): Path<(String, String)>) -> ApiResponse {
    ok(idp.read_org(|org| admin::connections::get_feature(org, &app, &feature))?)
}

async fn update_feature(
    State(idp): State<Arc<Idp>>,
    Path((app, feature)): Path<(String, String)>,
    ApiBody(body): ApiBody,
) -> ApiResponse {
    let body: admin::connections::CapabilitiesBody = admin::parse_body(&body)?;
    changed(
        &idp,
        |org| admin::connections::update_feature(org, &app, &feature, body),
        admin::connections::feature_by_id,
    )
}

/// "Authenticate with {app}": starts an OAuth 2.0 authorization and answers
/// with the URL to open in a browser.
async fn scim_start_authorization(State(idp): State<Arc<Idp>>, Path(app): Path<String>) -> ApiResponse {
    ok(json!(provisioner(&idp)?.start_authorization(&app)?))
}
