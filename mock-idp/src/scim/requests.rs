//! The requests Okta's client sends, with their bodies in Okta's member order.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

use super::{GROUP_SCHEMA, Method, PAGE_SIZE, PATCH_SCHEMA, ScimRequest, USER_SCHEMA};
use crate::ids::UserId;
use crate::org::provisioning::{ScimAttributePath, ScimProvisioning};
use crate::org::{App, AttributeValueSource, Org, User, UserStatus};

/// What a query value keeps unencoded: RFC 3986's unreserved characters.
/// Okta encodes the rest, so `userName eq "a@b"` travels as
/// `userName%20eq%20%22a%40b%22`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// A SCIM string literal in a filter: quotes and backslashes escaped.
fn filter_literal(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Whether Okta keeps a user with this status active in its apps. Suspended
/// and deactivated users are deactivated in apps; staged users are not
/// pushed until they are activated.
pub fn active_in_apps(status: UserStatus) -> bool {
    !matches!(status, UserStatus::Suspended | UserStatus::Deprovisioned | UserStatus::Staged)
}

/// What Okta sends about one user to one app: the app username, whether the
/// user should be active there, and each mapped attribute's value.
#[derive(Clone, Debug, PartialEq)]
pub struct UserView {
    pub okta_id: UserId,
    pub user_name: String,
    pub active: bool,
    /// Mapped attributes with a value, in mapping order. Unset attributes are
    /// left out, as Okta leaves them out.
    pub values: Vec<(ScimAttributePath, Value)>,
}

impl UserView {
    pub fn of(org: &Org, app: &App, settings: &ScimProvisioning, user: &User) -> Self {
        let app_profile = org.app_profile(app, &user.id);
        let values = settings
            .mappings
            .iter()
            .filter_map(|mapping| {
                let value = match &mapping.source {
                    AttributeValueSource::User(attribute) => user.profile.attribute(attribute),
                    AttributeValueSource::AppUser(attribute) => app_profile.get(attribute).cloned(),
                    AttributeValueSource::Literal(text) => Some(Value::String(text.clone())),
                }?;
                let unset = value.is_null() || value.as_str().is_some_and(str::is_empty);
                (!unset).then(|| (mapping.target.clone(), value))
            })
            .collect();
        UserView {
            okta_id: user.id.clone(),
            user_name: org.app_user_name(app, user),
            active: org.is_assigned(app, &user.id) && active_in_apps(user.status),
            values,
        }
    }

    /// The extension schemas the mapped values use, in first-use order.
    fn extension_schemas(&self) -> Vec<String> {
        let mut schemas: Vec<String> = Vec::new();
        for (path, _) in &self.values {
            if let Some(schema) = &path.schema
                && !schemas.contains(schema)
            {
                schemas.push(schema.clone());
            }
        }
        schemas
    }
}

/// Writes one mapped value into a resource body, creating the containers it
/// needs: `name.givenName` in `name`, a typed entry in `emails`, an
/// extension's attributes under its URN.
fn put_value(body: &mut Map<String, Value>, path: &ScimAttributePath, value: Value) {
    let container = match &path.schema {
        Some(schema) => {
            let entry = body.entry(schema.clone()).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            match entry.as_object_mut() {
                Some(container) => container,
                None => return,
            }
        }
        None => body,
    };
    match (&path.value_type, &path.sub_attribute) {
        (Some(value_type), Some(sub)) => {
            let list = container.entry(path.attribute.clone()).or_insert_with(|| Value::Array(Vec::new()));
            if !list.is_array() {
                *list = Value::Array(Vec::new());
            }
            let Some(items) = list.as_array_mut() else { return };
            let found = items.iter_mut().find(|item| item.get("type").and_then(Value::as_str) == Some(value_type));
            match found {
                Some(item) => {
                    if let Some(item) = item.as_object_mut() {
                        item.insert(sub.clone(), value);
                    }
                }
                None => {
                    // Okta's entry: `{"primary":true,"value":…,"type":"work"}`,
                    // primary for the first of its kind.
                    let mut item = Map::new();
                    item.insert("primary".into(), Value::Bool(items.is_empty()));
                    item.insert(sub.clone(), value);
                    item.insert("type".into(), Value::String(value_type.clone()));
                    items.push(Value::Object(item));
                }
            }
        }
        (None, Some(sub)) => {
            let parent = container.entry(path.attribute.clone()).or_insert_with(|| Value::Object(Map::new()));
            if !parent.is_object() {
                *parent = Value::Object(Map::new());
            }
            if let Some(parent) = parent.as_object_mut() {
                parent.insert(sub.clone(), value);
            }
        }
        _ => {
            container.insert(path.attribute.clone(), value);
        }
    }
}

/// Reads the value a mapped path has in a resource, if any.
pub fn value_at<'a>(resource: &'a Value, path: &ScimAttributePath) -> Option<&'a Value> {
    let container = match &path.schema {
        Some(schema) => resource.get(schema)?,
        None => resource,
    };
    let attribute = container.get(&path.attribute)?;
    match (&path.value_type, &path.sub_attribute) {
        (Some(value_type), Some(sub)) => attribute
            .as_array()?
            .iter()
            .find(|item| item.get("type").and_then(Value::as_str) == Some(value_type))?
            .get(sub),
        (None, Some(sub)) => attribute.get(sub),
        _ => Some(attribute),
    }
}

/// `GET /Users?filter=userName eq "…"&startIndex=1&count=100`: Okta's
/// lookup before it creates a user.
pub fn find_user(user_name: &str) -> ScimRequest {
    let filter = encode(&format!("userName eq {}", filter_literal(user_name)));
    ScimRequest {
        method: Method::Get,
        path: format!("/Users?filter={filter}&startIndex=1&count={PAGE_SIZE}"),
        body: None,
    }
}

/// `POST /Users`: the core attributes, `externalId` (the Okta user id),
/// `groups: []`, a password when password sync is on, `active: true`, then
/// the extension objects.
pub fn create_user(view: &UserView, password: Option<&str>) -> ScimRequest {
    let mut schemas = vec![Value::String(USER_SCHEMA.to_owned())];
    schemas.extend(view.extension_schemas().into_iter().map(Value::String));
    let mut body = Map::new();
    body.insert("schemas".into(), Value::Array(schemas));
    body.insert("userName".into(), Value::String(view.user_name.clone()));
    for (path, value) in view.values.iter().filter(|(path, _)| path.schema.is_none()) {
        put_value(&mut body, path, value.clone());
    }
    body.insert("externalId".into(), Value::String(view.okta_id.to_string()));
    body.insert("groups".into(), Value::Array(Vec::new()));
    if let Some(password) = password {
        body.insert("password".into(), Value::String(password.to_owned()));
    }
    body.insert("active".into(), Value::Bool(true));
    for (path, value) in view.values.iter().filter(|(path, _)| path.schema.is_some()) {
        put_value(&mut body, path, value.clone());
    }
    ScimRequest { method: Method::Post, path: "/Users".into(), body: Some(Value::Object(body)) }
}

/// `GET /Users/{id}`: Okta reads the user before it updates it.
pub fn get_user(scim_id: &str) -> ScimRequest {
    ScimRequest { method: Method::Get, path: format!("/Users/{}", encode(scim_id)), body: None }
}

/// `PUT /Users/{id}`: the object just read, with the mapped attributes, the
/// userName and `active` set from Okta's view. `meta` and the read-only
/// `groups` are not sent back. With no view (the user is gone from the org)
/// only `active` changes.
pub fn replace_user(scim_id: &str, current: &Value, view: Option<&UserView>, active: bool) -> ScimRequest {
    let mut body = current.as_object().cloned().unwrap_or_default();
    body.remove("meta");
    body.remove("groups");
    body.remove("password");
    body.insert("id".into(), Value::String(scim_id.to_owned()));
    if let Some(view) = view {
        let mut schemas: Vec<Value> = body.get("schemas").and_then(Value::as_array).cloned().unwrap_or_default();
        for schema in std::iter::once(USER_SCHEMA.to_owned()).chain(view.extension_schemas()) {
            if !schemas.iter().any(|s| s.as_str() == Some(schema.as_str())) {
                schemas.push(Value::String(schema));
            }
        }
        body.insert("schemas".into(), Value::Array(schemas));
        body.insert("userName".into(), Value::String(view.user_name.clone()));
        for (path, value) in &view.values {
            put_value(&mut body, path, value.clone());
        }
        body.entry("externalId").or_insert_with(|| Value::String(view.okta_id.to_string()));
    }
    body.insert("active".into(), Value::Bool(active));
    ScimRequest { method: Method::Put, path: format!("/Users/{}", encode(scim_id)), body: Some(Value::Object(body)) }
}

/// `PATCH /Users/{id}` with a `replace` for each mapped attribute whose value
/// differs from the object just read (and for the userName), and the
/// path-less `active` replace when that differs too. `None` when nothing
/// differs: Okta sends no empty PATCH.
pub fn patch_user_profile(scim_id: &str, current: &Value, view: &UserView) -> Option<ScimRequest> {
    let mut operations = Vec::new();
    if current.get("userName").and_then(Value::as_str) != Some(view.user_name.as_str()) {
        operations.push(json!({"op": "replace", "path": "userName", "value": view.user_name}));
    }
    for (path, value) in &view.values {
        if value_at(current, path) != Some(value) {
            operations.push(json!({"op": "replace", "path": path.text(), "value": value}));
        }
    }
    if current.get("active").and_then(Value::as_bool) != Some(view.active) {
        operations.push(json!({"op": "replace", "value": {"active": view.active}}));
    }
    (!operations.is_empty()).then(|| ScimRequest {
        method: Method::Patch,
        path: format!("/Users/{}", encode(scim_id)),
        body: Some(json!({"schemas": [PATCH_SCHEMA], "Operations": operations})),
    })
}

/// `PATCH /Users/{id}` with Okta's path-less
/// `{"op":"replace","value":{"active":…}}`.
pub fn set_user_active(scim_id: &str, active: bool) -> ScimRequest {
    ScimRequest {
        method: Method::Patch,
        path: format!("/Users/{}", encode(scim_id)),
        body: Some(json!({
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "replace", "value": {"active": active}}],
        })),
    }
}

/// `PATCH /Users/{id}` with the new password in a path-less `replace`, as
/// Okta syncs a password under the OIN profiles (the same shape as its
/// deactivation).
pub fn set_user_password(scim_id: &str, password: &str) -> ScimRequest {
    ScimRequest {
        method: Method::Patch,
        path: format!("/Users/{}", encode(scim_id)),
        body: Some(json!({
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "replace", "value": {"password": password}}],
        })),
    }
}

/// A `PUT` with the password set: the wizard profile syncs a password by
/// `PUT`, as it sends everything.
pub fn with_password(request: ScimRequest, password: &str) -> ScimRequest {
    let body = request.body.map(|mut body| {
        if let Some(object) = body.as_object_mut() {
            object.insert("password".into(), Value::String(password.to_owned()));
        }
        body
    });
    ScimRequest { body, ..request }
}

/// `DELETE /Groups/{id}`: unlinking a pushed group with "Delete the group in
/// the target app". Okta never deletes users.
pub fn delete_group(scim_id: &str) -> ScimRequest {
    ScimRequest { method: Method::Delete, path: format!("/Groups/{}", encode(scim_id)), body: None }
}

/// `GET /Users?startIndex=1&count=2`: "Test API Credentials".
pub fn test_credentials() -> ScimRequest {
    ScimRequest { method: Method::Get, path: "/Users?startIndex=1&count=2".into(), body: None }
}

/// Which resources an import reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ImportResource {
    Users,
    Groups,
}

impl ImportResource {
    pub fn endpoint(self) -> &'static str {
        match self {
            ImportResource::Users => "Users",
            ImportResource::Groups => "Groups",
        }
    }
}

/// One page of an import: `GET /Users?startIndex=N&count=100`.
pub fn import_page(resource: ImportResource, start_index: usize) -> ScimRequest {
    ScimRequest {
        method: Method::Get,
        path: format!("/{}?startIndex={start_index}&count={PAGE_SIZE}", resource.endpoint()),
        body: None,
    }
}

/// `GET /Groups?filter=displayName eq "…"&startIndex=1&count=100`.
pub fn find_group(display_name: &str) -> ScimRequest {
    let filter = encode(&format!("displayName eq {}", filter_literal(display_name)));
    ScimRequest {
        method: Method::Get,
        path: format!("/Groups?filter={filter}&startIndex=1&count={PAGE_SIZE}"),
        body: None,
    }
}

/// `POST /Groups` with no members; Okta pushes members with PATCH after.
pub fn create_group(display_name: &str) -> ScimRequest {
    ScimRequest {
        method: Method::Post,
        path: "/Groups".into(),
        body: Some(json!({"schemas": [GROUP_SCHEMA], "displayName": display_name, "members": []})),
    }
}

/// A member as Okta sends it: the SCIM id and the app username.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub scim_id: String,
    pub display: String,
}

/// How a group PATCH changes membership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MembershipEdit {
    /// Only the rename.
    None,
    Add(Vec<Member>),
    Remove(Vec<String>),
    /// "Push now": the whole membership.
    Replace(Vec<Member>),
}

/// `PATCH /Groups/{id}`: Okta's rename `{"op":"replace","value":{"id","displayName"}}`,
/// which it sends with every membership update, then the membership edit.
pub fn patch_group(scim_id: &str, display_name: &str, edit: &MembershipEdit) -> ScimRequest {
    let member_values = |members: &[Member]| -> Vec<Value> {
        members.iter().map(|m| json!({"value": m.scim_id, "display": m.display})).collect()
    };
    let mut operations = vec![json!({"op": "replace", "value": {"id": scim_id, "displayName": display_name}})];
    match edit {
        MembershipEdit::None => {}
        MembershipEdit::Add(members) => {
            operations.push(json!({"op": "add", "path": "members", "value": member_values(members)}));
        }
        MembershipEdit::Remove(ids) => {
            for id in ids {
                operations.push(json!({"op": "remove", "path": format!("members[value eq {}]", filter_literal(id))}));
            }
        }
        MembershipEdit::Replace(members) => {
            operations.push(json!({"op": "replace", "path": "members", "value": member_values(members)}));
        }
    }
    ScimRequest {
        method: Method::Patch,
        path: format!("/Groups/{}", encode(scim_id)),
        body: Some(json!({"schemas": [PATCH_SCHEMA], "Operations": operations})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::provisioning::default_mappings;

    fn view() -> UserView {
        let mut values: Vec<(ScimAttributePath, Value)> = default_mappings()
            .into_iter()
            .zip(["Alice", "Anderson", "alice@acme.test", "Alice Anderson"])
            .map(|(mapping, value)| (mapping.target, Value::String(value.to_owned())))
            .collect();
        let department =
            ScimAttributePath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department")
                .unwrap_or_else(|e| panic!("{e}"));
        values.push((department, json!("Engineering")));
        UserView {
            okta_id: UserId::parse("00ualice000000000001").unwrap_or_else(|e| panic!("{e}")),
            user_name: "alice@acme.test".into(),
            active: true,
            values,
        }
    }

    #[test]
    fn the_lookup_is_encoded_as_okta_encodes_it() {
        assert_eq!(
            find_user("test.user@okta.local").path,
            "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100"
        );
        assert_eq!(
            find_group("R&D \"core\"").path,
            "/Groups?filter=displayName%20eq%20%22R%26D%20%5C%22core%5C%22%22&startIndex=1&count=100"
        );
    }

    #[test]
    fn the_create_body_has_okta_member_order() {
        let body = create_user(&view(), None).body.unwrap_or_default();
        assert_eq!(
            serde_json::to_string(&body).unwrap_or_default(),
            concat!(
                r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"#,
                r#""userName":"alice@acme.test","name":{"givenName":"Alice","familyName":"Anderson"},"#,
                r#""emails":[{"primary":true,"value":"alice@acme.test","type":"work"}],"displayName":"Alice Anderson","#,
                r#""externalId":"00ualice000000000001","groups":[],"active":true,"#,
                r#""urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Engineering"}}"#
            )
        );
    }

    #[test]
    fn a_profile_patch_names_only_what_changed() {
        let current = json!({
            "id": "1", "userName": "alice@acme.test", "active": true,
            "name": {"givenName": "Alicia", "familyName": "Anderson"},
            "emails": [{"value": "alice@acme.test", "type": "work", "primary": true}],
            "displayName": "Alice Anderson",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Engineering"},
        });
        let patch = patch_user_profile("1", &current, &view()).unwrap_or_else(|| panic!("a patch"));
        assert_eq!(
            patch.body,
            Some(
                json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "name.givenName", "value": "Alice"}]})
            )
        );
        let mut same = current.clone();
        same["name"]["givenName"] = json!("Alice");
        assert_eq!(patch_user_profile("1", &same, &view()), None);
    }

    #[test]
    fn a_put_keeps_what_the_server_had_and_drops_meta_and_groups() {
        let current = json!({"schemas": [USER_SCHEMA], "id": "1", "userName": "old", "nickName": "Al", "groups": [], "meta": {}, "active": true});
        let put = replace_user("1", &current, None, false);
        assert_eq!(
            put.body,
            Some(json!({"schemas": [USER_SCHEMA], "id": "1", "userName": "old", "nickName": "Al", "active": false}))
        );
    }

    #[test]
    fn group_patches_lead_with_the_rename() {
        let remove = patch_group("g1", "Engineering", &MembershipEdit::Remove(vec!["u1".into()]));
        assert_eq!(
            remove.body,
            Some(json!({"schemas": [PATCH_SCHEMA], "Operations": [
                {"op": "replace", "value": {"id": "g1", "displayName": "Engineering"}},
                {"op": "remove", "path": "members[value eq \"u1\"]"},
            ]}))
        );
    }
}
