//! Okta's management API (`/api/v1/…`) as pure operations on the org.
//!
//! Operations that write return [`Applied`]: what they acted on and the
//! [`OrgChange`]s they made. The HTTP layer renders Okta's JSON from the
//! ids, and the running IdP hands the changes to its subscribers.
//!
//! Shapes follow Okta's: users with `profile`, `status` and lifecycle
//! operations; groups with members; app user and group assignments. Errors
//! use Okta's codes and summaries and become its error envelope in the HTTP
//! layer. Nothing here changes the org before the request has been validated,
//! so a bad request never loses data.

mod changes;
pub mod connections;
pub mod paging;
pub mod search;
mod views;

pub use changes::{Applied, Membership, OrgChange};
pub use paging::{Page, PageRequest, PageSize};
pub use search::UserSearch;
pub use views::{
    app_group_by_id, app_json, app_user_by_id, group_by_id, group_json, provisioning_json, user_by_id, user_json,
};
use views::{app_group_json, app_user_json};

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::ids::{AppId, GroupId, IdGenerator, UserId};
use crate::org::{AppGroup, AppUser, Group, Org, User, UserProfile, UserStatus};

/// An Okta API error: HTTP status, `errorCode`, `errorSummary` and `errorCauses`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} ({status}): {summary}")]
pub struct OktaApiError {
    pub status: u16,
    pub code: &'static str,
    pub summary: String,
    pub causes: Vec<String>,
}

impl OktaApiError {
    pub fn validation(field: &str, cause: impl Into<String>) -> Self {
        OktaApiError {
            status: 400,
            code: "E0000001",
            summary: format!("Api validation failed: {field}"),
            causes: vec![format!("{field}: {}", cause.into())],
        }
    }

    pub fn malformed_body(detail: impl Into<String>) -> Self {
        OktaApiError {
            status: 400,
            code: "E0000003",
            summary: "The request body was not well-formed.".into(),
            causes: vec![detail.into()],
        }
    }

    pub fn not_found(id: &str, kind: &str) -> Self {
        OktaApiError {
            status: 404,
            code: "E0000007",
            summary: format!("Not found: Resource not found: {id} ({kind})"),
            causes: Vec::new(),
        }
    }

    pub fn invalid_token() -> Self {
        OktaApiError { status: 401, code: "E0000011", summary: "Invalid token provided".into(), causes: Vec::new() }
    }

    /// Okta's answer to a request with no `Authorization` header, or one
    /// that names no token scheme (`SSWS` or `Bearer`): 403 "Invalid
    /// session", the error of a request that carries no credential at all.
    pub fn invalid_session() -> Self {
        OktaApiError { status: 403, code: "E0000005", summary: "Invalid session".into(), causes: Vec::new() }
    }

    pub fn method_not_allowed() -> Self {
        OktaApiError {
            status: 405,
            code: "E0000022",
            summary: "The endpoint does not support the provided HTTP method".into(),
            causes: Vec::new(),
        }
    }

    fn lifecycle(summary: impl Into<String>) -> Self {
        OktaApiError { status: 400, code: "E0000001", summary: summary.into(), causes: Vec::new() }
    }
}

type ApiResult<T = Value> = Result<T, OktaApiError>;

/// A user lifecycle operation, from `/users/{id}/lifecycle/{operation}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    Activate,
    Reactivate,
    Deactivate,
    Suspend,
    Unsuspend,
    Unlock,
}

impl Lifecycle {
    pub fn parse(operation: &str) -> Option<Self> {
        Some(match operation {
            "activate" => Lifecycle::Activate,
            "reactivate" => Lifecycle::Reactivate,
            "deactivate" => Lifecycle::Deactivate,
            "suspend" => Lifecycle::Suspend,
            "unsuspend" => Lifecycle::Unsuspend,
            "unlock" => Lifecycle::Unlock,
            _ => return None,
        })
    }
}

/// The body of a user create or update.
#[derive(Debug, Deserialize)]
pub struct UserBody {
    pub profile: ProfileBody,
    #[serde(default)]
    pub credentials: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileBody {
    pub login: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The body of a group create or update.
#[derive(Debug, Deserialize)]
pub struct GroupBody {
    pub profile: GroupProfileBody,
}

#[derive(Debug, Deserialize)]
pub struct GroupProfileBody {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// The body of an app user assignment.
#[derive(Debug, Deserialize)]
pub struct AppUserBody {
    pub id: Option<String>,
    #[serde(default)]
    pub credentials: Option<AppUserCredentials>,
    #[serde(default)]
    pub profile: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppUserCredentials {
    pub user_name: Option<String>,
}

/// The body of an app group assignment.
#[derive(Debug, Default, Deserialize)]
pub struct AppGroupBody {
    #[serde(default)]
    pub priority: Option<usize>,
    #[serde(default)]
    pub profile: BTreeMap<String, Value>,
}

/// Parses a JSON body into `T`, with Okta's error for a malformed one.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| OktaApiError::malformed_body(e.to_string()))
}

// --- Lookups ------------------------------------------------------------------

fn user_id(org: &Org, id_or_login: &str) -> ApiResult<UserId> {
    org.find_user(id_or_login).map(|u| u.id.clone()).ok_or_else(|| OktaApiError::not_found(id_or_login, "User"))
}

fn group_id(org: &Org, id: &str) -> ApiResult<GroupId> {
    GroupId::parse(id)
        .ok()
        .filter(|g| org.groups.contains_key(g))
        .ok_or_else(|| OktaApiError::not_found(id, "UserGroup"))
}

fn app_id(org: &Org, id: &str) -> ApiResult<AppId> {
    AppId::parse(id).ok().filter(|a| org.apps.contains_key(a)).ok_or_else(|| OktaApiError::not_found(id, "AppInstance"))
}

/// The user a fault is armed for (login or id); `None` arms it for anyone.
pub fn fault_user(org: &Org, user: Option<&str>) -> ApiResult<Option<UserId>> {
    user.map(|u| user_id(org, u)).transpose()
}

/// The app a SAML fault is armed for (id or name); `None` for any app.
pub fn fault_app(org: &Org, app: Option<&str>) -> ApiResult<Option<AppId>> {
    app.map(|a| org.find_app(a).map(|a| a.id.clone()).ok_or_else(|| OktaApiError::not_found(a, "AppInstance")))
        .transpose()
}

/// The OIDC client an OIDC fault is armed for (id or name); `None` for any.
pub fn fault_client(org: &Org, client: Option<&str>) -> ApiResult<Option<AppId>> {
    client
        .map(|c| {
            org.find_app(c)
                .filter(|a| a.oidc().is_some())
                .map(|a| a.id.clone())
                .ok_or_else(|| OktaApiError::not_found(c, "PublicClientApp"))
        })
        .transpose()
}

/// The authorization server an OIDC fault is armed for: `org`, or a custom
/// server's id or name; `None` for any.
pub fn fault_server(org: &Org, server: Option<&str>) -> ApiResult<Option<crate::oidc::ServerRef>> {
    server
        .map(|s| match s {
            "org" => Ok(crate::oidc::ServerRef::Org),
            _ => org
                .authorization_servers
                .iter()
                .find(|found| found.id == s || found.name == s)
                .map(|found| crate::oidc::ServerRef::Custom(found.id.clone()))
                .ok_or_else(|| OktaApiError::not_found(s, "AuthorizationServer")),
        })
        .transpose()
}

// --- Users ----------------------------------------------------------------------

/// `GET /api/v1/users` with Okta's `q` (prefix of login, email, first or last
/// name), `filter` (`status eq "…"`, `profile.login eq "…"`), `search`
/// ([`UserSearch`]; it also finds deprovisioned users, as Okta's does) and
/// the paging parameters.
pub fn list_users(
    org: &Org,
    q: Option<&str>,
    filter: Option<&str>,
    search: Option<&str>,
    paging: &PageRequest,
) -> ApiResult<Page> {
    let filter = filter.map(parse_user_filter).transpose()?;
    let search = search.map(UserSearch::parse).transpose()?;
    let q = q.map(str::to_lowercase);
    let users = org
        .users
        .values()
        .filter(|u| match (&q, &search) {
            (Some(q), _) => [&u.profile.login, &u.profile.email, &u.profile.first_name, &u.profile.last_name]
                .iter()
                .any(|field| field.to_lowercase().starts_with(q.as_str())),
            (None, Some(_)) => true,
            (None, None) => u.status != UserStatus::Deprovisioned,
        })
        .filter(|u| search.as_ref().is_none_or(|search| search.matches(u)))
        .filter(|u| {
            filter.as_ref().is_none_or(|(field, value)| match field.as_str() {
                "status" => u.status.as_str() == value,
                "profile.login" => u.profile.login.eq_ignore_ascii_case(value),
                "profile.email" => u.profile.email.eq_ignore_ascii_case(value),
                "id" => u.id.as_str() == value,
                _ => false,
            })
        })
        .map(|u| (u.id.as_str().to_owned(), user_json(org, u)));
    paging::take_page(users, paging, PageSize::USERS)
}

fn parse_user_filter(filter: &str) -> ApiResult<(String, String)> {
    let invalid = || OktaApiError::validation("filter", format!("Invalid filter: {filter}"));
    let (field, rest) = filter.trim().split_once(' ').ok_or_else(invalid)?;
    let value = rest.trim().strip_prefix("eq").ok_or_else(invalid)?.trim();
    let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).ok_or_else(invalid)?;
    if !matches!(field, "status" | "profile.login" | "profile.email" | "id") {
        return Err(invalid());
    }
    Ok((field.to_owned(), value.to_owned()))
}

/// `POST /api/v1/users?activate=…`.
pub fn create_user(
    org: &mut Org,
    body: UserBody,
    activate: bool,
    now: OffsetDateTime,
    ids: &dyn IdGenerator,
) -> ApiResult<Applied<UserId>> {
    let profile = body.profile;
    let login = required(profile.login, "login")?;
    let email = required(profile.email, "email")?;
    let first_name = required(profile.first_name, "firstName")?;
    let last_name = required(profile.last_name, "lastName")?;
    check_email("email", &email)?;
    if org.find_user(&login).is_some() {
        return Err(OktaApiError::validation(
            "login",
            "An object with this field already exists in the current organization",
        ));
    }
    let id = UserId::parse(&ids.okta_id("00u")).map_err(|e| OktaApiError::validation("id", e.to_string()))?;
    let status = if activate { UserStatus::Active } else { UserStatus::Staged };
    let user = User {
        id: id.clone(),
        status,
        profile: UserProfile { login, email, first_name, last_name, extra: profile.extra },
        created: now,
        activated: activate.then_some(now),
        status_changed: activate.then_some(now),
        last_updated: now,
    };
    org.users.insert(id.clone(), user);
    Ok(Applied::new(id.clone(), vec![OrgChange::UserCreated { user: id, status }]))
}

pub fn get_user(org: &Org, id_or_login: &str) -> ApiResult {
    let id = user_id(org, id_or_login)?;
    Ok(org.users.get(&id).map(|u| user_json(org, u)).unwrap_or(Value::Null))
}

/// `POST /api/v1/users/{id}` (partial: absent fields keep their value) or
/// `PUT` (full: the profile is replaced, and the base fields are required).
pub fn update_user(
    org: &mut Org,
    id_or_login: &str,
    body: UserBody,
    partial: bool,
    now: OffsetDateTime,
) -> ApiResult<Applied<UserId>> {
    let id = user_id(org, id_or_login)?;
    let current =
        org.users.get(&id).map(|u| u.profile.clone()).ok_or_else(|| OktaApiError::not_found(id_or_login, "User"))?;
    let p = body.profile;
    let pick = |new: Option<String>, old: &str, field: &str| -> ApiResult<String> {
        match (new, partial) {
            (Some(v), _) if v.trim().is_empty() => {
                Err(OktaApiError::validation(field, "The field cannot be left blank"))
            }
            (Some(v), _) => Ok(v),
            (None, true) => Ok(old.to_owned()),
            (None, false) => Err(OktaApiError::validation(field, "The field cannot be left blank")),
        }
    };
    let login = pick(p.login, &current.login, "login")?;
    let email = pick(p.email, &current.email, "email")?;
    check_email("email", &email)?;
    let first_name = pick(p.first_name, &current.first_name, "firstName")?;
    let last_name = pick(p.last_name, &current.last_name, "lastName")?;
    if org.users.values().any(|u| u.id != id && u.profile.login.eq_ignore_ascii_case(&login)) {
        return Err(OktaApiError::validation(
            "login",
            "An object with this field already exists in the current organization",
        ));
    }
    let mut extra = if partial { current.extra } else { BTreeMap::new() };
    for (key, value) in p.extra {
        if value.is_null() {
            extra.remove(&key);
        } else {
            extra.insert(key, value);
        }
    }
    let Some(user) = org.users.get_mut(&id) else {
        return Err(OktaApiError::not_found(id_or_login, "User"));
    };
    let profile = UserProfile { login, email, first_name, last_name, extra };
    let mut changes =
        if user.profile == profile { Vec::new() } else { vec![OrgChange::ProfileChanged { user: id.clone() }] };
    // Okta's `credentials.password.value` sets the password; the mock keeps
    // none, but apps that sync passwords must hear of the change.
    let password_set = body
        .credentials
        .as_ref()
        .and_then(|credentials| credentials.pointer("/password/value"))
        .and_then(Value::as_str)
        .is_some_and(|password| !password.is_empty());
    if password_set {
        changes.push(OrgChange::PasswordChanged { user: id.clone() });
    }
    user.profile = profile;
    user.last_updated = now;
    Ok(Applied::new(id, changes))
}

/// Runs a lifecycle operation with Okta's allowed transitions.
pub fn lifecycle(
    org: &mut Org,
    id_or_login: &str,
    operation: Lifecycle,
    now: OffsetDateTime,
) -> ApiResult<Applied<UserId>> {
    let id = user_id(org, id_or_login)?;
    let Some(user) = org.users.get_mut(&id) else {
        return Err(OktaApiError::not_found(id_or_login, "User"));
    };
    use UserStatus::*;
    let next = match (operation, user.status) {
        (Lifecycle::Activate, Staged | Provisioned | Deprovisioned) => Active,
        (Lifecycle::Activate, _) => {
            return Err(OktaApiError {
                status: 403,
                code: "E0000016",
                summary: "Activation failed because the user is already active".into(),
                causes: Vec::new(),
            });
        }
        (Lifecycle::Reactivate, Provisioned) => Provisioned,
        (Lifecycle::Reactivate, _) => {
            return Err(OktaApiError::lifecycle("This operation is not allowed in the user's current status."));
        }
        (Lifecycle::Deactivate, _) => Deprovisioned,
        (Lifecycle::Suspend, Active) => Suspended,
        (Lifecycle::Suspend, _) => {
            return Err(OktaApiError::lifecycle("Cannot suspend a user that is not active"));
        }
        (Lifecycle::Unsuspend, Suspended) => Active,
        (Lifecycle::Unsuspend, _) => {
            return Err(OktaApiError::lifecycle("Cannot unsuspend a user that is not suspended"));
        }
        (Lifecycle::Unlock, LockedOut) => Active,
        (Lifecycle::Unlock, _) => {
            return Err(OktaApiError::lifecycle("Cannot unlock a user that is not locked out"));
        }
    };
    let mut changes = Vec::new();
    if next != user.status {
        changes.push(OrgChange::StatusChanged { user: id.clone(), from: user.status, to: next });
        user.status = next;
        user.status_changed = Some(now);
        if next == Active {
            user.activated = Some(now);
        }
    }
    user.last_updated = now;
    Ok(Applied::new(id, changes))
}

/// `DELETE /api/v1/users/{id}`: the first call deactivates, the second deletes,
/// as in Okta. Deleting also removes group memberships and app assignments.
pub fn delete_user(org: &mut Org, id_or_login: &str, now: OffsetDateTime) -> ApiResult<Applied<UserId>> {
    let id = user_id(org, id_or_login)?;
    let deprovisioned = org.users.get(&id).is_some_and(|u| u.status == UserStatus::Deprovisioned);
    if !deprovisioned {
        return lifecycle(org, id.as_str(), Lifecycle::Deactivate, now);
    }
    let mut changes = Vec::new();
    for group in org.groups.values_mut() {
        if group.members.remove(&id) {
            changes.push(OrgChange::GroupMembershipChanged {
                group: group.id.clone(),
                user: id.clone(),
                membership: Membership::Removed,
            });
        }
    }
    for app in org.apps.values_mut() {
        if app.users.remove(&id).is_some() {
            changes.push(OrgChange::UnassignedFromApp { app: app.id.clone(), user: id.clone() });
        }
    }
    org.users.remove(&id);
    changes.push(OrgChange::UserDeleted { user: id.clone() });
    Ok(Applied::new(id, changes))
}

// --- Groups --------------------------------------------------------------------

pub fn list_groups(org: &Org, q: Option<&str>, paging: &PageRequest) -> ApiResult<Page> {
    let q = q.map(str::to_lowercase);
    let groups = org
        .groups
        .values()
        .filter(|g| q.as_ref().is_none_or(|q| g.name.to_lowercase().starts_with(q.as_str())))
        .map(|g| (g.id.as_str().to_owned(), group_json(org, g)));
    paging::take_page(groups, paging, PageSize::GROUPS)
}

pub fn create_group(
    org: &mut Org,
    body: GroupBody,
    now: OffsetDateTime,
    ids: &dyn IdGenerator,
) -> ApiResult<Applied<GroupId>> {
    let name = body.profile.name.trim().to_owned();
    if name.is_empty() {
        return Err(OktaApiError::validation("name", "The field cannot be left blank"));
    }
    if org.groups.values().any(|g| g.name == name) {
        return Err(OktaApiError::validation(
            "name",
            "An object with this field already exists in the current organization",
        ));
    }
    let id = GroupId::parse(&ids.okta_id("00g")).map_err(|e| OktaApiError::validation("id", e.to_string()))?;
    let group = Group {
        id: id.clone(),
        name,
        description: body.profile.description.unwrap_or_default(),
        members: Default::default(),
        created: now,
        last_updated: now,
    };
    org.groups.insert(id.clone(), group);
    Ok(Applied::new(id.clone(), vec![OrgChange::GroupCreated { group: id }]))
}

pub fn get_group(org: &Org, id: &str) -> ApiResult {
    let id = group_id(org, id)?;
    Ok(org.groups.get(&id).map(|g| group_json(org, g)).unwrap_or(Value::Null))
}

pub fn update_group(org: &mut Org, id: &str, body: GroupBody, now: OffsetDateTime) -> ApiResult<Applied<GroupId>> {
    let gid = group_id(org, id)?;
    let name = body.profile.name.trim().to_owned();
    if name.is_empty() {
        return Err(OktaApiError::validation("name", "The field cannot be left blank"));
    }
    if org.groups.values().any(|g| g.id != gid && g.name == name) {
        return Err(OktaApiError::validation(
            "name",
            "An object with this field already exists in the current organization",
        ));
    }
    let Some(group) = org.groups.get_mut(&gid) else {
        return Err(OktaApiError::not_found(id, "UserGroup"));
    };
    let description = body.profile.description.unwrap_or_default();
    let mut changes = Vec::new();
    if group.name != name {
        changes.push(OrgChange::GroupRenamed { group: gid.clone(), from: group.name.clone(), to: name.clone() });
    }
    if group.description != description {
        changes.push(OrgChange::GroupDescriptionChanged { group: gid.clone() });
    }
    group.name = name;
    group.description = description;
    group.last_updated = now;
    Ok(Applied::new(gid, changes))
}

pub fn delete_group(org: &mut Org, id: &str) -> ApiResult<Applied<GroupId>> {
    let gid = group_id(org, id)?;
    let mut changes = Vec::new();
    for app in org.apps.values_mut() {
        if app.groups.remove(&gid).is_some() {
            changes.push(OrgChange::GroupUnassignedFromApp { app: app.id.clone(), group: gid.clone() });
        }
    }
    org.groups.remove(&gid);
    changes.push(OrgChange::GroupDeleted { group: gid.clone() });
    Ok(Applied::new(gid, changes))
}

pub fn group_members(org: &Org, id: &str, paging: &PageRequest) -> ApiResult<Page> {
    let gid = group_id(org, id)?;
    let members: Vec<(String, Value)> = org
        .groups
        .get(&gid)
        .map(|g| {
            g.members
                .iter()
                .filter_map(|u| org.users.get(u))
                .map(|u| (u.id.as_str().to_owned(), user_json(org, u)))
                .collect()
        })
        .unwrap_or_default();
    paging::take_page(members, paging, PageSize::GROUP_MEMBERS)
}

pub fn add_member(org: &mut Org, group: &str, user: &str, now: OffsetDateTime) -> ApiResult<Applied<GroupId>> {
    change_membership(org, group, user, Membership::Added, now)
}

pub fn remove_member(org: &mut Org, group: &str, user: &str, now: OffsetDateTime) -> ApiResult<Applied<GroupId>> {
    change_membership(org, group, user, Membership::Removed, now)
}

fn change_membership(
    org: &mut Org,
    group: &str,
    user: &str,
    membership: Membership,
    now: OffsetDateTime,
) -> ApiResult<Applied<GroupId>> {
    let gid = group_id(org, group)?;
    let uid = user_id(org, user)?;
    let mut changes = Vec::new();
    if let Some(group) = org.groups.get_mut(&gid) {
        let changed = match membership {
            Membership::Added => group.members.insert(uid.clone()),
            Membership::Removed => group.members.remove(&uid),
        };
        if changed {
            changes.push(OrgChange::GroupMembershipChanged { group: gid.clone(), user: uid, membership });
        }
        group.last_updated = now;
    }
    Ok(Applied::new(gid, changes))
}

// --- Apps ------------------------------------------------------------------------

pub fn list_apps(org: &Org, paging: &PageRequest) -> ApiResult<Page> {
    let apps = org.apps.values().map(|a| (a.id.as_str().to_owned(), app_json(org, a)));
    paging::take_page(apps, paging, PageSize::APPS)
}

pub fn get_app(org: &Org, id: &str) -> ApiResult {
    let aid = app_id(org, id)?;
    Ok(org.apps.get(&aid).map(|a| app_json(org, a)).unwrap_or(Value::Null))
}

/// `GET /api/v1/apps/{id}/users`: direct assignments (`USER`) and users
/// assigned through groups (`GROUP`).
pub fn list_app_users(org: &Org, id: &str, paging: &PageRequest) -> ApiResult<Page> {
    let aid = app_id(org, id)?;
    let Some(app) = org.apps.get(&aid) else {
        return Err(OktaApiError::not_found(id, "AppInstance"));
    };
    let users = org.assigned_users(app).into_iter().map(|u| {
        let scope = if app.users.contains_key(&u.id) { "USER" } else { "GROUP" };
        (u.id.as_str().to_owned(), app_user_json(org, app, u, scope))
    });
    paging::take_page(users, paging, PageSize::APP_USERS)
}

pub fn get_app_user(org: &Org, app: &str, user: &str) -> ApiResult {
    let aid = app_id(org, app)?;
    let uid = user_id(org, user)?;
    let (Some(app), Some(user)) = (org.apps.get(&aid), org.users.get(&uid)) else {
        return Err(OktaApiError::not_found(user, "AppUser"));
    };
    if !org.is_assigned(app, &uid) {
        return Err(OktaApiError::not_found(uid.as_str(), "AppUser"));
    }
    Ok(app_user_json(org, app, user, if app.users.contains_key(&uid) { "USER" } else { "GROUP" }))
}

/// `POST /api/v1/apps/{id}/users` (assign) and `POST …/users/{uid}` (update).
pub fn assign_user(
    org: &mut Org,
    app: &str,
    user: Option<&str>,
    body: AppUserBody,
    now: OffsetDateTime,
) -> ApiResult<Applied<(AppId, UserId)>> {
    let aid = app_id(org, app)?;
    let reference = user
        .map(str::to_owned)
        .or(body.id.clone())
        .ok_or_else(|| OktaApiError::validation("id", "The field cannot be left blank"))?;
    let uid = user_id(org, &reference)?;
    let Some(app_entry) = org.apps.get_mut(&aid) else {
        return Err(OktaApiError::not_found(app, "AppInstance"));
    };
    let is_new = !app_entry.users.contains_key(&uid);
    let entry =
        app_entry.users.entry(uid.clone()).or_insert_with(|| AppUser { created: Some(now), ..AppUser::default() });
    let before = (entry.user_name.clone(), entry.profile.clone());
    if let Some(user_name) = body.credentials.and_then(|c| c.user_name) {
        entry.user_name = Some(user_name);
    }
    for (key, value) in body.profile {
        if value.is_null() {
            entry.profile.remove(&key);
        } else {
            entry.profile.insert(key, value);
        }
    }
    let changes = if is_new {
        vec![OrgChange::AssignedToApp { app: aid.clone(), user: uid.clone() }]
    } else if before != (entry.user_name.clone(), entry.profile.clone()) {
        vec![OrgChange::AppProfileChanged { app: aid.clone(), user: uid.clone() }]
    } else {
        Vec::new()
    };
    Ok(Applied::new((aid, uid), changes))
}

pub fn unassign_user(org: &mut Org, app: &str, user: &str) -> ApiResult<Applied<(AppId, UserId)>> {
    let aid = app_id(org, app)?;
    let uid = user_id(org, user)?;
    let removed = org.apps.get_mut(&aid).and_then(|a| a.users.remove(&uid));
    removed.ok_or_else(|| OktaApiError::not_found(uid.as_str(), "AppUser"))?;
    let change = OrgChange::UnassignedFromApp { app: aid.clone(), user: uid.clone() };
    Ok(Applied::new((aid, uid), vec![change]))
}

/// An app's SCIM provisioning settings (mockta's view; Okta's own API
/// splits them over connections and features).
pub fn provisioning_settings(org: &Org, app: &str) -> ApiResult {
    let found = org.find_app(app).ok_or_else(|| OktaApiError::not_found(app, "AppInstance"))?;
    if found.provisioning.is_none() {
        return Err(OktaApiError::validation(
            "provisioning",
            format!("the app '{app}' has no SCIM provisioning settings"),
        ));
    }
    Ok(provisioning_json(found))
}

pub fn list_app_groups(org: &Org, id: &str, paging: &PageRequest) -> ApiResult<Page> {
    let aid = app_id(org, id)?;
    let Some(app) = org.apps.get(&aid) else {
        return Err(OktaApiError::not_found(id, "AppInstance"));
    };
    let groups = app.groups.iter().map(|(g, a)| (g.as_str().to_owned(), app_group_json(org, app, g, a)));
    paging::take_page(groups, paging, PageSize::APP_GROUPS)
}

pub fn assign_group(org: &mut Org, app: &str, group: &str, body: AppGroupBody) -> ApiResult<Applied<(AppId, GroupId)>> {
    let aid = app_id(org, app)?;
    let gid = group_id(org, group)?;
    let Some(app_entry) = org.apps.get_mut(&aid) else {
        return Err(OktaApiError::not_found(app, "AppInstance"));
    };
    let priority = body.priority.unwrap_or(app_entry.groups.len());
    let assignment = AppGroup { profile: body.profile, priority };
    let previous = app_entry.groups.insert(gid.clone(), assignment.clone());
    let changes = match previous {
        None => vec![OrgChange::GroupAssignedToApp { app: aid.clone(), group: gid.clone() }],
        Some(previous) if previous.priority != assignment.priority || previous.profile != assignment.profile => {
            vec![OrgChange::GroupAssignmentChanged { app: aid.clone(), group: gid.clone() }]
        }
        Some(_) => Vec::new(),
    };
    Ok(Applied::new((aid, gid), changes))
}

pub fn unassign_group(org: &mut Org, app: &str, group: &str) -> ApiResult<Applied<(AppId, GroupId)>> {
    let aid = app_id(org, app)?;
    let gid = group_id(org, group)?;
    org.apps
        .get_mut(&aid)
        .and_then(|a| a.groups.remove(&gid))
        .ok_or_else(|| OktaApiError::not_found(gid.as_str(), "AppGroup"))?;
    let change = OrgChange::GroupUnassignedFromApp { app: aid.clone(), group: gid.clone() };
    Ok(Applied::new((aid, gid), vec![change]))
}

fn required(value: Option<String>, field: &str) -> ApiResult<String> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        _ => Err(OktaApiError::validation(field, "The field cannot be left blank")),
    }
}

fn check_email(field: &str, value: &str) -> ApiResult<()> {
    let mut parts = value.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) if !local.is_empty() && domain.contains('.') => Ok(()),
        _ => Err(OktaApiError::validation(field, "Does not match required pattern")),
    }
}

#[cfg(test)]
mod tests;
