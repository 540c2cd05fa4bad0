//! The web console: the parts of Okta a tester clicks through.
//!
//! - `/login/login.htm`: the end-user sign-in page, one button per user who
//!   may sign in (the mock asks for no password). Signing in sets the same
//!   mock session cookie (`sid`) that SSO reads.
//! - `/app/UserHome`: the end-user dashboard, one tile per app assigned to
//!   the signed-in user; a SAML app's tile is its embed link, which starts
//!   IdP-initiated sign-in with the app's default RelayState.
//! - `/admin/dashboard`: the admin console, behind `/admin/sign-in`, where
//!   the org's API token buys an admin session cookie. It lists users,
//!   groups and apps, changes a user's status through the management API's
//!   own lifecycle operation, arms a SAML fault for the next response, runs
//!   "Push now" and shows the SCIM transcript.
//!
//! Every form posts back and is answered by a redirect (POST-redirect-GET),
//! and carries a token bound to the browser's `mockta_console` cookie and
//! keyed by the API token, so a page on another site cannot post one.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::HttpError;
use super::extract::PageForm;
use super::sso::{clear_session_cookie, session_cookie, set_session_cookie};
use super::ui_pages::{self, AdminView, AppRow, ExchangeRow, FaultRow, GroupRow, SignInChoice, Tile, UserRow};
use crate::admin::{self, Lifecycle, OktaApiError};
use crate::idp::Idp;
use crate::org::Org;
use crate::saml::SamlFaultPlan;
use crate::saml::faults::SamlFault;
use crate::saml::metadata;

/// The browser's console nonce, the basis of every form token.
const CONSOLE_COOKIE: &str = "mockta_console";
/// The admin console's session.
const ADMIN_COOKIE: &str = "mockta_admin";
/// How many of the newest SCIM exchanges the console shows.
const TRANSCRIPT_ROWS: usize = 50;

pub(super) fn routes() -> Router<Arc<Idp>> {
    Router::new()
        .route("/login/login.htm", get(sign_in_page).post(sign_in))
        .route("/login/signout", post(sign_out))
        .route("/app/UserHome", get(dashboard))
        .route("/admin/sign-in", get(admin_sign_in_page).post(admin_sign_in))
        .route("/admin/sign-out", post(admin_sign_out))
        .route("/admin/dashboard", get(admin_console))
        .route("/admin/users/{user}/lifecycle/{operation}", post(admin_lifecycle))
        .route("/admin/faults", post(admin_arm_fault))
        .route("/admin/faults/clear", post(admin_clear_faults))
        .route("/admin/apps/{app}/push", post(admin_push_now))
}

fn cookie(headers: &HeaderMap, wanted: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == wanted && !value.is_empty()).then(|| value.to_owned())
    })
}

fn append_cookie(response: &mut Response, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// A console page, with `Cache-Control: no-store` since it shows tokens.
fn html(body: String) -> Response {
    let mut response = Html(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The browser's console nonce, or a new one that `finish` sets as a cookie.
struct ConsoleNonce {
    value: String,
    is_new: bool,
}

impl ConsoleNonce {
    fn of(idp: &Idp, headers: &HeaderMap) -> Self {
        match cookie(headers, CONSOLE_COOKIE) {
            Some(value) => ConsoleNonce { value, is_new: false },
            None => ConsoleNonce { value: idp.console_nonce(), is_new: true },
        }
    }

    fn finish(&self, mut response: Response) -> Response {
        if self.is_new {
            append_cookie(&mut response, &format!("{CONSOLE_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax", self.value));
        }
        response
    }
}

fn refused(status: StatusCode, code: &'static str, message: impl Into<String>) -> HttpError {
    HttpError::ConsoleRefused { status, code, message: message.into() }
}

/// Checks a posted form's token against the browser's console cookie.
fn check_form_token(idp: &Idp, headers: &HeaderMap, presented: &str) -> Result<(), HttpError> {
    let nonce = cookie(headers, CONSOLE_COOKIE).unwrap_or_default();
    if idp.console_form_token_matches(&nonce, presented) {
        Ok(())
    } else {
        Err(refused(
            StatusCode::FORBIDDEN,
            "csrf_refused",
            "This form was not made for this browser, or it has expired. Reload the page and try again.",
        ))
    }
}

fn is_admin(idp: &Idp, headers: &HeaderMap) -> bool {
    cookie(headers, ADMIN_COOKIE).is_some_and(|value| idp.is_admin_console_session(&value))
}

/// An admin form: the admin session first, then the form token.
fn check_admin_form(idp: &Idp, headers: &HeaderMap, presented: &str) -> Result<(), HttpError> {
    if !is_admin(idp, headers) {
        return Err(refused(StatusCode::FORBIDDEN, "admin_sign_in_required", "Sign in to the admin console first."));
    }
    check_form_token(idp, headers, presented)
}

/// A refused management operation, shown as a console error page.
fn api_refusal(error: OktaApiError) -> HttpError {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut message = error.summary;
    for cause in error.causes {
        message.push_str(&format!(" ({cause})"));
    }
    refused(status, error.code, message)
}

#[derive(Debug, Deserialize)]
pub(super) struct TokenForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct SignInForm {
    #[serde(default)]
    csrf: String,
    login: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct AdminSignInForm {
    #[serde(default)]
    csrf: String,
    token: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct FaultForm {
    #[serde(default)]
    csrf: String,
    fault: String,
    /// A user id, or empty for any user.
    #[serde(default)]
    user: String,
    /// An app id, or empty for any app.
    #[serde(default)]
    app: String,
    /// The identity a forging fault puts in the message; empty for the
    /// default (`admin@` the org's email domain), as in the API.
    #[serde(default)]
    impersonate: String,
}

pub(super) async fn sign_in_page(State(idp): State<Arc<Idp>>, headers: HeaderMap) -> Response {
    let nonce = ConsoleNonce::of(&idp, &headers);
    let (org_name, choices) = idp.read_org(|org| {
        let choices = org
            .users
            .values()
            .filter(|u| u.status.can_sign_in())
            .map(|u| SignInChoice {
                login: u.profile.login.clone(),
                name: format!("{} {}", u.profile.first_name, u.profile.last_name),
            })
            .collect::<Vec<_>>();
        (org.name.clone(), choices)
    });
    let csrf = idp.console_form_token(&nonce.value);
    nonce.finish(html(ui_pages::sign_in_page(&org_name, &csrf, &choices)))
}

pub(super) async fn sign_in(
    State(idp): State<Arc<Idp>>,
    headers: HeaderMap,
    PageForm(form): PageForm<SignInForm>,
) -> Result<Response, HttpError> {
    check_form_token(&idp, &headers, &form.csrf)?;
    let token = idp.start_dashboard_session(&form.login)?;
    let mut response = Redirect::to("/app/UserHome").into_response();
    set_session_cookie(&mut response, &token);
    Ok(response)
}

pub(super) async fn sign_out(
    State(idp): State<Arc<Idp>>,
    headers: HeaderMap,
    PageForm(form): PageForm<TokenForm>,
) -> Result<Response, HttpError> {
    check_form_token(&idp, &headers, &form.csrf)?;
    if let Some(token) = session_cookie(&headers) {
        idp.end_session(&token);
    }
    let mut response = Redirect::to("/login/login.htm").into_response();
    clear_session_cookie(&mut response);
    Ok(response)
}

/// The tiles of a user's dashboard, by label: every active app assigned to
/// them, directly or through a group.
fn tiles(org: &Org, user: &crate::ids::UserId) -> Vec<Tile> {
    let mut tiles: Vec<Tile> = org
        .apps
        .values()
        .filter(|app| app.active && org.is_assigned(app, user))
        .map(|app| Tile {
            label: app.label.clone(),
            // A SAML tile is the app's embed link (IdP-initiated sign-in);
            // an OIDC tile sends the browser to the app's "initiate login
            // URI", as Okta does, and has no link without one.
            link: match (app.saml(), app.oidc()) {
                (Some(saml), _) => Some(metadata::embed_link(&org.url, app, saml)),
                (None, Some(oidc)) => oidc.initiate_login_uri.clone(),
                (None, None) => None,
            },
        })
        .collect();
    tiles.sort_by(|a, b| a.label.cmp(&b.label));
    tiles
}

pub(super) async fn dashboard(State(idp): State<Arc<Idp>>, headers: HeaderMap) -> Response {
    let nonce = ConsoleNonce::of(&idp, &headers);
    let user = session_cookie(&headers).and_then(|token| idp.session_user(&token));
    let page = user.and_then(|user| {
        idp.read_org(|org| {
            // A user who may no longer sign in (deactivated, suspended)
            // is sent to the sign-in page, as Okta ends their sessions.
            let found = org.users.get(&user).filter(|u| u.status.can_sign_in())?;
            let name = format!("{} {}", found.profile.first_name, found.profile.last_name);
            Some((org.name.clone(), name, found.profile.login.clone(), tiles(org, &user)))
        })
    });
    let Some((org_name, name, login, tiles)) = page else {
        return Redirect::to("/login/login.htm").into_response();
    };
    let csrf = idp.console_form_token(&nonce.value);
    nonce.finish(html(ui_pages::dashboard_page(&org_name, &name, &login, &csrf, &tiles)))
}

pub(super) async fn admin_sign_in_page(State(idp): State<Arc<Idp>>, headers: HeaderMap) -> Response {
    let nonce = ConsoleNonce::of(&idp, &headers);
    let org_name = idp.read_org(|org| org.name.clone());
    let csrf = idp.console_form_token(&nonce.value);
    nonce.finish(html(ui_pages::admin_sign_in_page(&org_name, &csrf)))
}

pub(super) async fn admin_sign_in(
    State(idp): State<Arc<Idp>>,
    headers: HeaderMap,
    PageForm(form): PageForm<AdminSignInForm>,
) -> Result<Response, HttpError> {
    check_form_token(&idp, &headers, &form.csrf)?;
    let Some(session) = idp.start_admin_console_session(form.token.trim()) else {
        return Err(refused(StatusCode::UNAUTHORIZED, "invalid_token", "That is not this org's API token."));
    };
    let mut response = Redirect::to("/admin/dashboard").into_response();
    append_cookie(&mut response, &format!("{ADMIN_COOKIE}={session}; Path=/admin; HttpOnly; SameSite=Strict"));
    Ok(response)
}

pub(super) async fn admin_sign_out(
    State(idp): State<Arc<Idp>>,
    headers: HeaderMap,
    PageForm(form): PageForm<TokenForm>,
) -> Result<Response, HttpError> {
    check_form_token(&idp, &headers, &form.csrf)?;
    let mut response = Redirect::to("/admin/sign-in").into_response();
    append_cookie(&mut response, &format!("{ADMIN_COOKIE}=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict"));
    Ok(response)
}

/// The admin console's rows, read from the org under one lock.
fn admin_view(idp: &Idp, csrf: String) -> AdminView {
    let armed = idp.armed_saml_faults();
    let mut view = idp.read_org(|org| {
        let users = org
            .users
            .values()
            .map(|u| UserRow {
                id: u.id.to_string(),
                login: u.profile.login.clone(),
                name: format!("{} {}", u.profile.first_name, u.profile.last_name),
                status: u.status.as_str(),
            })
            .collect();
        let groups = org.groups.values().map(|g| GroupRow { name: g.name.clone(), members: g.members.len() }).collect();
        let apps = org
            .apps
            .values()
            .map(|a| AppRow {
                id: a.id.to_string(),
                label: a.label.clone(),
                sign_on_mode: a.sign_on_mode(),
                active: a.active,
                provisions: a.provisioning.is_some(),
            })
            .collect();
        let faults = armed
            .iter()
            .map(|f| FaultRow {
                fault: f.fault.to_string(),
                user: f
                    .user
                    .as_ref()
                    .map(|u| org.users.get(u).map_or_else(|| u.to_string(), |u| u.profile.login.clone()))
                    .unwrap_or_else(|| "any user".to_owned()),
                app: f
                    .app
                    .as_ref()
                    .map(|a| org.apps.get(a).map_or_else(|| a.to_string(), |a| a.label.clone()))
                    .unwrap_or_else(|| "any app".to_owned()),
            })
            .collect();
        AdminView {
            org_name: org.name.clone(),
            csrf,
            users,
            groups,
            apps,
            faults,
            catalogue: Vec::new(),
            transcript: None,
        }
    });
    // Catalogue entries that need a value (`skew:+SECONDS`) are armed
    // through the API; the console offers the ones that arm as they are.
    view.catalogue = SamlFault::catalogue()
        .into_iter()
        .filter(|info| info.name.parse::<SamlFault>().is_ok())
        .map(|info| (info.name, info.changes.to_owned()))
        .collect();
    view.transcript = idp.provisioner().map(|engine| {
        let exchanges = engine.transcript_after(0);
        let skip = exchanges.len().saturating_sub(TRANSCRIPT_ROWS);
        exchanges
            .into_iter()
            .skip(skip)
            .map(|e| ExchangeRow {
                sequence: e.sequence,
                operation: e.operation,
                request: format!("{} {}", e.request.method, e.request.url),
                request_body: e.request.body.map(|b| pretty(&b)).unwrap_or_default(),
                answer: match (&e.response, &e.error) {
                    (Some(response), _) => response.status.to_string(),
                    (None, Some(error)) => error.clone(),
                    (None, None) => "no answer".to_owned(),
                },
                answer_body: e.response.map(|r| pretty(&r.body)).unwrap_or_default(),
            })
            .collect()
    });
    view
}

fn pretty(value: &serde_json::Value) -> String {
    if value.is_null() { String::new() } else { serde_json::to_string_pretty(value).unwrap_or_default() }
}

pub(super) async fn admin_console(State(idp): State<Arc<Idp>>, headers: HeaderMap) -> Response {
    if !is_admin(&idp, &headers) {
        return Redirect::to("/admin/sign-in").into_response();
    }
    let nonce = ConsoleNonce::of(&idp, &headers);
    let view = admin_view(&idp, idp.console_form_token(&nonce.value));
    nonce.finish(html(ui_pages::admin_page(&view)))
}

pub(super) async fn admin_lifecycle(
    State(idp): State<Arc<Idp>>,
    Path((user, operation)): Path<(String, String)>,
    headers: HeaderMap,
    PageForm(form): PageForm<TokenForm>,
) -> Result<Response, HttpError> {
    check_admin_form(&idp, &headers, &form.csrf)?;
    let operation = Lifecycle::parse(&operation).ok_or_else(|| {
        refused(StatusCode::NOT_FOUND, "unknown_operation", format!("No lifecycle operation {operation}."))
    })?;
    let now = idp.now();
    idp.apply(|org| admin::lifecycle(org, &user, operation, now)).map_err(api_refusal)?;
    Ok(Redirect::to("/admin/dashboard#users").into_response())
}

pub(super) async fn admin_arm_fault(
    State(idp): State<Arc<Idp>>,
    headers: HeaderMap,
    PageForm(form): PageForm<FaultForm>,
) -> Result<Response, HttpError> {
    check_admin_form(&idp, &headers, &form.csrf)?;
    let fault: SamlFault = form.fault.parse().map_err(|e: crate::saml::faults::UnknownSamlFault| {
        refused(StatusCode::BAD_REQUEST, "unknown_fault", e.to_string())
    })?;
    let chosen = |value: &str| (!value.is_empty()).then(|| value.to_owned());
    let (user, app) = idp
        .read_org(|org| {
            Ok::<_, OktaApiError>((
                admin::fault_user(org, chosen(&form.user).as_deref())?,
                admin::fault_app(org, chosen(&form.app).as_deref())?,
            ))
        })
        .map_err(api_refusal)?;
    idp.arm_saml_fault(SamlFaultPlan { fault, impersonate: chosen(&form.impersonate) }, user, app);
    Ok(Redirect::to("/admin/dashboard#faults").into_response())
}

pub(super) async fn admin_clear_faults(
    State(idp): State<Arc<Idp>>,
    headers: HeaderMap,
    PageForm(form): PageForm<TokenForm>,
) -> Result<Response, HttpError> {
    check_admin_form(&idp, &headers, &form.csrf)?;
    idp.clear_saml_faults();
    Ok(Redirect::to("/admin/dashboard#faults").into_response())
}

pub(super) async fn admin_push_now(
    State(idp): State<Arc<Idp>>,
    Path(app): Path<String>,
    headers: HeaderMap,
    PageForm(form): PageForm<TokenForm>,
) -> Result<Response, HttpError> {
    check_admin_form(&idp, &headers, &form.csrf)?;
    let engine = idp.provisioner().ok_or_else(|| {
        refused(StatusCode::CONFLICT, "provisioning_not_running", "No provisioning engine runs for this org.")
    })?;
    // A push whose requests fail still wrote them to the transcript, which
    // the console shows; the failure itself is the error page.
    engine.push_now(&app).await.map_err(|e| refused(StatusCode::BAD_GATEWAY, e.code(), e.to_string()))?;
    Ok(Redirect::to("/admin/dashboard#provisioning").into_response())
}
