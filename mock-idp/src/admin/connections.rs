//! Okta's per-app provisioning settings API: the Application Connections API
//! (`/api/v1/apps/{appId}/connections/default`: the SCIM base URL, how Okta
//! authenticates, whether the connection is active) and the Application
//! Features API (`/api/v1/apps/{appId}/features`: `USER_PROVISIONING`'s
//! capabilities and `INBOUND_PROVISIONING`), as pure operations on the org.
//!
//! They change the app's [`ScimProvisioning`] in the org, beside what the org
//! file set, so the next provisioning operation uses them. They publish no
//! org change: changing a connection or a feature sends no SCIM request by
//! itself, as in Okta.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiResult, Applied, OktaApiError, app_id};
use crate::ids::AppId;
use crate::org::provisioning::{
    OAuthClientSettings, PasswordChange, RequestProfile, ScimAuthentication, ScimProvisioning,
};
use crate::org::{App, Org};

/// The feature names of Okta's Application Features API.
pub const USER_PROVISIONING: &str = "USER_PROVISIONING";
pub const INBOUND_PROVISIONING: &str = "INBOUND_PROVISIONING";

/// The body of `POST /api/v1/apps/{appId}/connections/default`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionBody {
    pub base_url: Option<String>,
    pub profile: ConnectionProfileBody,
}

/// The connection's `profile`: Okta's `authScheme` with its `token` or
/// `clientId`. The other members are mockta's, for what Okta keeps in the
/// OIN app's definition rather than in this API (the OAuth client's secret
/// and endpoints) and for Basic authentication, which Okta's API does not
/// name.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionProfileBody {
    pub auth_scheme: String,
    pub token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// The body of `PUT /api/v1/apps/{appId}/features/USER_PROVISIONING`: Okta's
/// capabilities object, every member optional (a partial update).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilitiesBody {
    pub create: Option<CreateCapabilitiesBody>,
    pub update: Option<UpdateCapabilitiesBody>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCapabilitiesBody {
    pub lifecycle_create: Option<StatusBody>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCapabilitiesBody {
    pub profile: Option<StatusBody>,
    pub lifecycle_deactivate: Option<StatusBody>,
    pub password: Option<PasswordCapabilityBody>,
}

#[derive(Debug, Deserialize)]
pub struct StatusBody {
    pub status: String,
}

#[derive(Debug, Deserialize)]
pub struct PasswordCapabilityBody {
    pub status: Option<String>,
    pub seed: Option<String>,
    pub change: Option<String>,
}

/// The app and its provisioning settings. An app without them has no
/// provisioning connection to show or change: Okta's not-found error.
fn provisioning_app<'o>(org: &'o Org, id: &str) -> ApiResult<(&'o App, &'o ScimProvisioning)> {
    let aid = app_id(org, id)?;
    let app = org.apps.get(&aid).ok_or_else(|| OktaApiError::not_found(id, "AppInstance"))?;
    let settings = app.provisioning.as_ref().ok_or_else(|| not_provisioned(id))?;
    Ok((app, settings))
}

fn not_provisioned(id: &str) -> OktaApiError {
    OktaApiError {
        status: 404,
        code: "E0000007",
        summary: format!("Not found: Resource not found: {id} (ProvisioningConnection)"),
        causes: vec![format!("provisioning: the app '{id}' has no SCIM provisioning settings")],
    }
}

fn settings_mut<'o>(org: &'o mut Org, aid: &AppId, id: &str) -> ApiResult<&'o mut ScimProvisioning> {
    org.apps.get_mut(aid).and_then(|app| app.provisioning.as_mut()).ok_or_else(|| not_provisioned(id))
}

/// Okta's `authScheme` for the mode: `TOKEN` for both token modes, `OAUTH2`,
/// and mockta's `BASIC`.
fn auth_scheme(authentication: &ScimAuthentication) -> &'static str {
    match authentication {
        ScimAuthentication::HeaderToken(_) | ScimAuthentication::Bearer(_) => "TOKEN",
        ScimAuthentication::OAuth2(_) => "OAUTH2",
        ScimAuthentication::Basic { .. } => "BASIC",
    }
}

fn status_text(enabled: bool) -> &'static str {
    if enabled { "ENABLED" } else { "DISABLED" }
}

/// `GET /api/v1/apps/{appId}/connections/default`, in Okta's member order;
/// secrets are never shown.
pub fn connection_json(org: &Org, app: &App, settings: &ScimProvisioning) -> Value {
    let base = format!("{}/api/v1/apps/{}/connections/default", org.url, app.id);
    let scheme = auth_scheme(&settings.authentication);
    let profile = match &settings.authentication {
        ScimAuthentication::OAuth2(oauth) => json!({ "authScheme": scheme, "clientId": oauth.client_id }),
        _ => json!({ "authScheme": scheme }),
    };
    let mut links = serde_json::Map::new();
    links.insert("self".into(), json!({ "href": base, "hints": { "allow": ["GET", "POST"] } }));
    let (lifecycle, path) =
        if settings.connection_active { ("deactivate", "deactivate") } else { ("activate", "activate") };
    links.insert(
        lifecycle.into(),
        json!({ "href": format!("{base}/lifecycle/{path}"), "hints": { "allow": ["POST"] } }),
    );
    if settings.authentication.oauth().is_some() {
        // Okta links the page where an admin authorizes Okta at the app;
        // the mock's equivalent starts the authorization and returns the
        // URL to open.
        links.insert(
            "authorize".into(),
            json!({
                "href": format!("{}/api/v1/mockta/scim/apps/{}/oauth/authorize", org.url, app.id),
                "hints": { "allow": ["POST"] },
            }),
        );
    }
    json!({
        "authScheme": scheme,
        "baseUrl": settings.base_url,
        "profile": profile,
        "status": status_text(settings.connection_active),
        "_links": Value::Object(links),
    })
}

/// `GET /api/v1/apps/{appId}/connections/default`.
pub fn get_connection(org: &Org, id: &str) -> ApiResult {
    let (app, settings) = provisioning_app(org, id)?;
    Ok(connection_json(org, app, settings))
}

/// The JSON of the app's connection after a change, for the handler.
pub fn connection_by_id(org: &Org, app: &AppId) -> Value {
    get_connection(org, app.as_str()).unwrap_or(Value::Null)
}

fn absolute_url(field: &str, value: &str) -> ApiResult<String> {
    match url::Url::parse(value.trim()) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {
            Ok(value.trim().trim_end_matches('/').to_owned())
        }
        _ => Err(OktaApiError::validation(field, format!("'{value}' is not an absolute http or https URL"))),
    }
}

fn present(field: &str, value: Option<&str>) -> ApiResult<String> {
    match value.map(str::trim) {
        Some(value) if !value.is_empty() => Ok(value.to_owned()),
        _ => Err(OktaApiError::validation(field, "The field cannot be left blank")),
    }
}

/// The authentication a profile asks for, from the current one where the
/// profile leaves a member out.
fn authentication_of(profile: &ConnectionProfileBody, current: &ScimAuthentication) -> ApiResult<ScimAuthentication> {
    match profile.auth_scheme.as_str() {
        "TOKEN" => {
            let token = present("profile.token", profile.token.as_deref())?;
            // Okta's API names one token scheme; the mock keeps whether the
            // token is sent as the whole header or after "Bearer", and a
            // connection that had no token gets Bearer.
            Ok(match current {
                ScimAuthentication::HeaderToken(_) => ScimAuthentication::HeaderToken(token),
                _ => ScimAuthentication::Bearer(token),
            })
        }
        "OAUTH2" => {
            let existing = current.oauth();
            let pick = |field: &str, given: Option<&str>, kept: Option<&str>| {
                present(field, given.or(kept).map(|v| v.trim()).filter(|v| !v.is_empty()))
            };
            let client_id =
                pick("profile.clientId", profile.client_id.as_deref(), existing.map(|o| o.client_id.as_str()))?;
            let client_secret = pick(
                "profile.clientSecret",
                profile.client_secret.as_deref(),
                existing.map(|o| o.client_secret.as_str()),
            )?;
            let authorize_url = pick(
                "profile.authorizeUrl",
                profile.authorize_url.as_deref(),
                existing.map(|o| o.authorize_url.as_str()),
            )?;
            let token_url =
                pick("profile.tokenUrl", profile.token_url.as_deref(), existing.map(|o| o.token_url.as_str()))?;
            let scopes = match &profile.scopes {
                Some(scopes) => scopes.clone(),
                None => existing.map(|o| o.scopes.clone()).unwrap_or_default(),
            };
            if let Some(scope) = scopes.iter().find(|scope| scope.is_empty() || scope.contains(' ')) {
                return Err(OktaApiError::validation("profile.scopes", format!("'{scope}' is not one OAuth scope")));
            }
            Ok(ScimAuthentication::OAuth2(OAuthClientSettings {
                authorize_url: absolute_url("profile.authorizeUrl", &authorize_url)?,
                token_url: absolute_url("profile.tokenUrl", &token_url)?,
                client_id,
                client_secret,
                scopes,
            }))
        }
        "BASIC" => {
            let user = present("profile.username", profile.username.as_deref())?;
            if user.contains(':') {
                return Err(OktaApiError::validation("profile.username", "must not contain ':'"));
            }
            let password = present("profile.password", profile.password.as_deref())?;
            Ok(ScimAuthentication::Basic { user, password })
        }
        other => Err(OktaApiError::validation(
            "profile.authScheme",
            format!("'{other}' is not one of TOKEN, OAUTH2 or BASIC (mockta's name for Basic authentication)"),
        )),
    }
}

/// `POST /api/v1/apps/{appId}/connections/default[?activate=true]`: sets the
/// base URL (when given) and the authentication. Everything is checked
/// before anything changes. OAuth tokens the engine holds are used only
/// with the token URL and client they were issued for, so a change of
/// either needs a new authorization.
pub fn update_connection(org: &mut Org, id: &str, body: ConnectionBody, activate: bool) -> ApiResult<Applied<AppId>> {
    let (app, settings) = provisioning_app(org, id)?;
    let aid = app.id.clone();
    let base_url = body.base_url.as_deref().map(|url| absolute_url("baseUrl", url)).transpose()?;
    let authentication = authentication_of(&body.profile, &settings.authentication)?;
    let settings = settings_mut(org, &aid, id)?;
    if let Some(base_url) = base_url {
        settings.base_url = base_url;
    }
    settings.authentication = authentication;
    if activate {
        settings.connection_active = true;
    }
    Ok(Applied::new(aid, Vec::new()))
}

/// The body of `PUT /api/v1/mockta/scim/apps/{app}/settings`: what Okta
/// keeps in the app integration's definition (the OIN submission or the App
/// Integration Wizard), not in its Connections or Features APIs, and the
/// org file sets as `profile` and `unique_identifier`. Both are optional (a
/// partial update); a member the mock does not know is refused.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntegrationSettingsBody {
    pub request_profile: Option<String>,
    pub unique_identifier: Option<String>,
}

/// Changes the request profile (`oin`, `oin_patch`, `wizard`) and the unique
/// identifier field, after checking both, so a refused body changes nothing.
pub fn update_integration_settings(
    org: &mut Org,
    id: &str,
    body: IntegrationSettingsBody,
) -> ApiResult<Applied<AppId>> {
    let (app, _) = provisioning_app(org, id)?;
    let aid = app.id.clone();
    let request_profile = body
        .request_profile
        .as_deref()
        .map(|value| {
            RequestProfile::parse(value).ok_or_else(|| {
                OktaApiError::validation("requestProfile", format!("'{value}' is not oin, oin_patch or wizard"))
            })
        })
        .transpose()?;
    if let Some(field) = body.unique_identifier.as_deref().filter(|field| *field != "userName") {
        return Err(OktaApiError::validation(
            "uniqueIdentifier",
            format!("'{field}' is not supported: Okta's SCIM 2.0 template looks users up by userName"),
        ));
    }
    let settings = settings_mut(org, &aid, id)?;
    if let Some(request_profile) = request_profile {
        settings.request_profile = request_profile;
    }
    Ok(Applied::new(aid, Vec::new()))
}

/// `POST …/connections/default/lifecycle/activate` and `/deactivate`.
pub fn set_connection_active(org: &mut Org, id: &str, active: bool) -> ApiResult<Applied<AppId>> {
    let (app, _) = provisioning_app(org, id)?;
    let aid = app.id.clone();
    settings_mut(org, &aid, id)?.connection_active = active;
    Ok(Applied::new(aid, Vec::new()))
}

/// The feature's `_links`; the hints list PUT only where the mock takes one.
fn feature_links(org: &Org, app: &App, name: &str) -> Value {
    let allow = if name == USER_PROVISIONING { json!(["GET", "PUT"]) } else { json!(["GET"]) };
    json!({
        "self": {
            "href": format!("{}/api/v1/apps/{}/features/{name}", org.url, app.id),
            "hints": { "allow": allow },
        },
    })
}

/// `USER_PROVISIONING` in Okta's shape: its capabilities are the mock's "To
/// App" features. The password is always seeded at random (the mock keeps
/// no Okta passwords); the feature's status is the connection's.
pub fn user_provisioning_json(org: &Org, app: &App, settings: &ScimProvisioning) -> Value {
    let features = settings.features;
    json!({
        "name": USER_PROVISIONING,
        "status": status_text(settings.connection_active),
        "description": "User provisioning settings from Okta to a downstream application",
        "capabilities": {
            "create": { "lifecycleCreate": { "status": status_text(features.push_new_users) } },
            "update": {
                "profile": { "status": status_text(features.push_profile_updates) },
                "lifecycleDeactivate": { "status": status_text(features.deactivate_users) },
                "password": {
                    "status": status_text(features.sync_password),
                    "seed": "RANDOM",
                    "change": settings.password_change.as_okta(),
                },
            },
        },
        "_links": feature_links(org, app, USER_PROVISIONING),
    })
}

/// `INBOUND_PROVISIONING` in Okta's shape, read-only: enabled when the app
/// imports users or groups. The mock imports on request, matching by
/// userName and confirming nothing, so the schedule is off and every
/// automatic confirmation false.
pub fn inbound_provisioning_json(org: &Org, app: &App, settings: &ScimProvisioning) -> Value {
    let imports = settings.features.import_users || settings.features.import_groups;
    json!({
        "name": INBOUND_PROVISIONING,
        "status": status_text(imports && settings.connection_active),
        "description": "In-bound provisioning settings from an application to Okta",
        "capabilities": {
            "importRules": {
                "userCreateAndMatch": {
                    "exactMatchCriteria": "USERNAME",
                    "allowPartialMatch": false,
                    "autoActivateNewUsers": false,
                    "autoConfirmExactMatch": false,
                    "autoConfirmNewUsers": false,
                    "autoConfirmPartialMatch": false,
                },
            },
            "importSettings": {
                "username": { "userNameFormat": "CUSTOM", "usernameExpression": "appuser.userName" },
                "schedule": { "status": "DISABLED" },
            },
        },
        "_links": feature_links(org, app, INBOUND_PROVISIONING),
    })
}

/// `GET /api/v1/apps/{appId}/features`.
pub fn list_features(org: &Org, id: &str) -> ApiResult {
    let (app, settings) = provisioning_app(org, id)?;
    Ok(json!([user_provisioning_json(org, app, settings), inbound_provisioning_json(org, app, settings)]))
}

/// `GET /api/v1/apps/{appId}/features/{name}`.
pub fn get_feature(org: &Org, id: &str, name: &str) -> ApiResult {
    let (app, settings) = provisioning_app(org, id)?;
    match name {
        USER_PROVISIONING => Ok(user_provisioning_json(org, app, settings)),
        INBOUND_PROVISIONING => Ok(inbound_provisioning_json(org, app, settings)),
        _ => Err(OktaApiError::not_found(name, "AppFeature")),
    }
}

/// The feature's JSON after a change, for the handler.
pub fn feature_by_id(org: &Org, (app, name): &(AppId, String)) -> Value {
    get_feature(org, app.as_str(), name).unwrap_or(Value::Null)
}

fn status_flag(field: &str, status: &StatusBody) -> ApiResult<bool> {
    parse_status(field, &status.status)
}

fn parse_status(field: &str, status: &str) -> ApiResult<bool> {
    match status {
        "ENABLED" => Ok(true),
        "DISABLED" => Ok(false),
        other => Err(OktaApiError::validation(field, format!("'{other}' is not ENABLED or DISABLED"))),
    }
}

/// `PUT /api/v1/apps/{appId}/features/USER_PROVISIONING`: a partial update
/// of the capabilities, checked whole before anything changes.
/// `INBOUND_PROVISIONING` is read-only here: its import rules and schedule
/// have no counterpart in the mock.
pub fn update_feature(
    org: &mut Org,
    id: &str,
    name: &str,
    body: CapabilitiesBody,
) -> ApiResult<Applied<(AppId, String)>> {
    let (app, settings) = provisioning_app(org, id)?;
    let aid = app.id.clone();
    match name {
        USER_PROVISIONING => {}
        INBOUND_PROVISIONING => {
            return Err(OktaApiError::validation(
                "capabilities",
                "INBOUND_PROVISIONING is read-only in the mock: it imports on request, by userName, and has no import rules or schedule to set",
            ));
        }
        _ => return Err(OktaApiError::not_found(name, "AppFeature")),
    }
    let mut features = settings.features;
    let mut password_change = settings.password_change;
    let create = body.create.unwrap_or_default();
    if let Some(status) = &create.lifecycle_create {
        features.push_new_users = status_flag("create.lifecycleCreate.status", status)?;
    }
    let update = body.update.unwrap_or_default();
    if let Some(status) = &update.profile {
        features.push_profile_updates = status_flag("update.profile.status", status)?;
    }
    if let Some(status) = &update.lifecycle_deactivate {
        features.deactivate_users = status_flag("update.lifecycleDeactivate.status", status)?;
    }
    if let Some(password) = &update.password {
        if let Some(status) = &password.status {
            features.sync_password = parse_status("update.password.status", status)?;
        }
        match password.seed.as_deref() {
            None | Some("RANDOM") => {}
            Some("OKTA") => {
                return Err(OktaApiError::validation(
                    "update.password.seed",
                    "OKTA needs the users' Okta passwords, which the mock does not keep; use RANDOM",
                ));
            }
            Some(other) => {
                return Err(OktaApiError::validation(
                    "update.password.seed",
                    format!("'{other}' is not RANDOM or OKTA"),
                ));
            }
        }
        if let Some(change) = &password.change {
            password_change = PasswordChange::parse_okta(change).ok_or_else(|| {
                OktaApiError::validation("update.password.change", format!("'{change}' is not KEEP_EXISTING or CHANGE"))
            })?;
        }
    }
    let settings = settings_mut(org, &aid, id)?;
    settings.features = features;
    settings.password_change = password_change;
    Ok(Applied::new((aid, name.to_owned()), Vec::new()))
}
