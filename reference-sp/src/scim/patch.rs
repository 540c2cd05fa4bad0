//! PATCH (RFC 7644 §3.5.2) on a resource held as JSON, including the shapes
//! Okta sends: the path-less `{"op":"replace","value":{"active":false}}`,
//! group membership `members[value eq "…"]` removals, and the rename
//! `{"op":"replace","value":{"id":…,"displayName":…}}` Okta sends with every
//! membership change.

use serde_json::{Map, Value};

use super::filter::{self, AttrPath, Filter, member};
use super::{SCHEMA_PATCH, ScimError, is_core_schema};

/// A path: an attribute, an optional value filter, and an optional
/// sub-attribute after the filter (`emails[type eq "work"].value`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    pub sub_after_filter: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PatchOp {
    Add { path: Option<PatchPath>, value: Value },
    Replace { path: Option<PatchPath>, value: Value },
    Remove { path: PatchPath },
}

/// How this server applies PATCH. Each switch off is a flaw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatchRules {
    pub apply_pathless: bool,
    pub apply_filtered_remove: bool,
    pub rename_keeps_members: bool,
    /// An `add` of `members` adds them (false: it is answered and dropped).
    pub apply_member_add: bool,
    /// A `replace` of `members` replaces the list (false: it is read as an
    /// add, so members the replace leaves out stay).
    pub replace_members_replaces: bool,
    /// An `add` of `members` keeps the members already there (false: it
    /// replaces the list, so each of Okta's batches wipes the one before).
    pub member_add_keeps_members: bool,
}

impl PatchRules {
    pub const CORRECT: PatchRules = PatchRules {
        apply_pathless: true,
        apply_filtered_remove: true,
        rename_keeps_members: true,
        apply_member_add: true,
        replace_members_replaces: true,
        member_add_keeps_members: true,
    };
}

/// Attributes that hold several values.
const MULTI_VALUED: [&str; 10] = [
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "groups",
    "entitlements",
    "roles",
    "x509Certificates",
    "members",
];

/// Attributes the client may not change.
const READ_ONLY: [&str; 3] = ["id", "meta", "groups"];

fn is_multi_valued(name: &str) -> bool {
    MULTI_VALUED.iter().any(|m| m.eq_ignore_ascii_case(name))
}

pub fn parse_path(text: &str) -> Result<PatchPath, ScimError> {
    let bad = || ScimError::InvalidPath(format!("'{text}' is not a valid path"));
    // A whole extension: its URN is the attribute, at the top level.
    if super::EXTENSIONS.iter().any(|urn| urn.eq_ignore_ascii_case(text)) {
        return Ok(PatchPath {
            attr: AttrPath { uri: None, name: text.to_owned(), sub: None },
            filter: None,
            sub_after_filter: None,
        });
    }
    match text.find('[') {
        None => Ok(PatchPath {
            attr: filter::parse_attr_path(text).map_err(|_| bad())?,
            filter: None,
            sub_after_filter: None,
        }),
        Some(open) => {
            let close = text.rfind(']').ok_or_else(bad)?;
            if close < open {
                return Err(bad());
            }
            let attr = filter::parse_attr_path(&text[..open]).map_err(|_| bad())?;
            let inner = filter::parse(&text[open + 1..close]).map_err(|e| ScimError::InvalidPath(e.to_string()))?;
            let rest = &text[close + 1..];
            let sub_after_filter = match rest.strip_prefix('.') {
                Some(sub) if !sub.is_empty() && sub.chars().all(|c| c.is_ascii_alphanumeric()) => Some(sub.to_owned()),
                Some(_) => return Err(bad()),
                None if rest.is_empty() => None,
                None => return Err(bad()),
            };
            Ok(PatchPath { attr, filter: Some(inner), sub_after_filter })
        }
    }
}

/// Reads a PatchOp request body.
pub fn parse_request(body: &Value) -> Result<Vec<PatchOp>, ScimError> {
    let schemas = member(body, "schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|s| s.iter().any(|v| v.as_str() == Some(SCHEMA_PATCH))) {
        return Err(ScimError::InvalidSyntax(format!("a PATCH body must list the schema {SCHEMA_PATCH}")));
    }
    let operations = member(body, "Operations")
        .and_then(Value::as_array)
        .filter(|ops| !ops.is_empty())
        .ok_or_else(|| ScimError::InvalidSyntax("'Operations' must be a non-empty array".into()))?;
    let mut parsed = Vec::new();
    for operation in operations {
        let op = member(operation, "op").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
        let path = match member(operation, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(parse_path(text)?),
            Some(_) => return Err(ScimError::InvalidPath("'path' must be a string".into())),
        };
        let value = member(operation, "value").cloned();
        parsed.push(match op.as_str() {
            "add" | "replace" => {
                let value = value.ok_or_else(|| ScimError::InvalidSyntax(format!("'{op}' needs a value")))?;
                if path.is_none() && !value.is_object() {
                    return Err(ScimError::InvalidSyntax(format!("a path-less '{op}' needs an object value")));
                }
                if op == "add" { PatchOp::Add { path, value } } else { PatchOp::Replace { path, value } }
            }
            "remove" => {
                PatchOp::Remove { path: path.ok_or_else(|| ScimError::NoTarget("'remove' needs a path".into()))? }
            }
            other => return Err(ScimError::InvalidSyntax(format!("'{other}' is not add, replace or remove"))),
        });
    }
    Ok(parsed)
}

/// The object a path's attribute lives in: the resource, or its extension object.
fn container<'a>(resource: &'a mut Value, attr: &AttrPath) -> Result<&'a mut Map<String, Value>, ScimError> {
    let root = resource.as_object_mut().ok_or_else(|| ScimError::Internal("the resource is not an object".into()))?;
    match &attr.uri {
        Some(uri) if !is_core_schema(uri) => {
            let key = root.keys().find(|k| k.eq_ignore_ascii_case(uri)).cloned().unwrap_or_else(|| uri.clone());
            let entry = root.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            entry.as_object_mut().ok_or_else(|| ScimError::Internal("extension".into()))
        }
        _ => Ok(root),
    }
}

fn key_in(map: &Map<String, Value>, name: &str) -> String {
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned().unwrap_or_else(|| name.to_owned())
}

fn check_writable(attr: &AttrPath) -> Result<(), ScimError> {
    if attr.uri.is_none() && READ_ONLY.iter().any(|r| r.eq_ignore_ascii_case(&attr.name)) {
        return Err(ScimError::Mutability(format!("'{}' is read-only", attr.name)));
    }
    Ok(())
}

/// Adds values to a multi-valued attribute, skipping ones already there
/// (by `value`), as a set.
fn append(target: &mut Value, items: Value) {
    let items = match items {
        Value::Array(items) => items,
        single => vec![single],
    };
    if !target.is_array() {
        *target = Value::Array(Vec::new());
    }
    if let Value::Array(existing) = target {
        for item in items {
            let duplicate = existing.iter().any(|e| match (member(e, "value"), member(&item, "value")) {
                (Some(a), Some(b)) => a == b,
                _ => *e == item,
            });
            if !duplicate {
                existing.push(item);
            }
        }
    }
}

fn set_path(
    resource: &mut Value,
    path: &PatchPath,
    value: Value,
    add: bool,
    case_sensitive: bool,
) -> Result<(), ScimError> {
    check_writable(&path.attr)?;
    let map = container(resource, &path.attr)?;
    let key = key_in(map, &path.attr.name);
    if let Some(filter) = &path.filter {
        // Replace (or add to) the matching elements.
        let Some(Value::Array(items)) = map.get_mut(&key) else {
            return Err(ScimError::NoTarget(format!("no values of '{}' match the filter", path.attr.name)));
        };
        let mut matched = false;
        for item in items.iter_mut().filter(|item| filter::matches(filter, item, case_sensitive)) {
            matched = true;
            match (&path.sub_after_filter, item.as_object_mut()) {
                (Some(sub), Some(object)) => {
                    let sub_key = key_in(object, sub);
                    object.insert(sub_key, value.clone());
                }
                _ => *item = value.clone(),
            }
        }
        return if matched {
            Ok(())
        } else {
            Err(ScimError::NoTarget(format!("no values of '{}' match the filter", path.attr.name)))
        };
    }
    match &path.attr.sub {
        // A sub-attribute of a multi-valued attribute: set in every value.
        Some(sub) if map.get(&key).is_some_and(Value::is_array) => {
            if let Some(Value::Array(items)) = map.get_mut(&key) {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    let sub_key = key_in(item, sub);
                    item.insert(sub_key, value.clone());
                }
            }
        }
        Some(sub) => {
            let parent = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !parent.is_object() {
                *parent = Value::Object(Map::new());
            }
            if let Some(object) = parent.as_object_mut() {
                let sub_key = key_in(object, sub);
                object.insert(sub_key, value);
            }
        }
        None if add && is_multi_valued(&path.attr.name) => append(map.entry(key).or_insert(Value::Null), value),
        // Add or replace on a complex single-valued attribute: the sub-attributes
        // given are set, the others are left as they were (RFC 7644 §3.5.2.1
        // and §3.5.2.3).
        None if !is_multi_valued(&path.attr.name)
            && value.is_object()
            && map.get(&key).is_some_and(Value::is_object) =>
        {
            if let (Some(Value::Object(target)), Value::Object(values)) = (map.get_mut(&key), value) {
                for (sub, sub_value) in values {
                    let sub_key = key_in(target, &sub);
                    target.insert(sub_key, sub_value);
                }
            }
        }
        None => {
            map.insert(key, value);
        }
    }
    Ok(())
}

fn remove_path(resource: &mut Value, path: &PatchPath, case_sensitive: bool) -> Result<(), ScimError> {
    check_writable(&path.attr)?;
    let map = container(resource, &path.attr)?;
    let key = key_in(map, &path.attr.name);
    if let Some(filter) = &path.filter {
        let Some(Value::Array(items)) = map.get_mut(&key) else { return Ok(()) };
        match &path.sub_after_filter {
            Some(sub) => {
                for item in items.iter_mut().filter(|item| filter::matches(filter, item, case_sensitive)) {
                    if let Some(object) = item.as_object_mut() {
                        let sub_key = key_in(object, sub);
                        object.remove(&sub_key);
                    }
                }
            }
            None => items.retain(|item| !filter::matches(filter, item, case_sensitive)),
        }
        return Ok(());
    }
    match &path.attr.sub {
        Some(sub) => {
            if let Some(Value::Object(object)) = map.get_mut(&key) {
                let sub_key = key_in(object, sub);
                object.remove(&sub_key);
            }
        }
        None => {
            map.remove(&key);
        }
    }
    Ok(())
}

/// Whether a path names a group's whole member list (`members`, with no
/// filter and no sub-attribute), as Okta's membership adds and "Push now"
/// replaces do.
fn is_whole_members(path: &PatchPath) -> bool {
    path.attr.name.eq_ignore_ascii_case("members") && path.attr.sub.is_none() && path.filter.is_none()
}

/// Applies the operations in order. On an error the caller keeps the
/// resource it had: the operations apply to a copy.
pub fn apply(resource: &Value, operations: &[PatchOp], rules: PatchRules) -> Result<Value, ScimError> {
    let mut patched = resource.clone();
    let current_id = member(resource, "id").cloned();
    for operation in operations {
        match operation {
            PatchOp::Add { path: Some(path), value } => {
                if is_whole_members(path) && !rules.apply_member_add {
                    continue;
                }
                let add = !is_whole_members(path) || rules.member_add_keeps_members;
                set_path(&mut patched, path, value.clone(), add, false)?
            }
            PatchOp::Replace { path: Some(path), value } => {
                let add = is_whole_members(path) && !rules.replace_members_replaces;
                set_path(&mut patched, path, value.clone(), add, false)?
            }
            PatchOp::Remove { path } => {
                if path.filter.is_some() && !rules.apply_filtered_remove {
                    continue;
                }
                remove_path(&mut patched, path, false)?;
            }
            PatchOp::Add { path: None, value } | PatchOp::Replace { path: None, value } => {
                if !rules.apply_pathless {
                    continue;
                }
                let add = matches!(operation, PatchOp::Add { .. });
                let Some(values) = value.as_object() else { continue };
                if !add && !rules.rename_keeps_members && values.keys().any(|k| k.eq_ignore_ascii_case("displayName")) {
                    // The flawed reading: a path-less replace is the whole resource.
                    if let Some(object) = patched.as_object_mut() {
                        let key = key_in(object, "members");
                        object.remove(&key);
                    }
                }
                for (name, value) in values {
                    // Okta's rename names the group's own id; the id cannot change.
                    if name.eq_ignore_ascii_case("id") {
                        if Some(value) != current_id.as_ref() {
                            return Err(ScimError::Mutability("'id' is read-only".into()));
                        }
                        continue;
                    }
                    let path = parse_path(name)?;
                    if path.filter.is_some() {
                        return Err(ScimError::InvalidPath(format!("'{name}' is not an attribute")));
                    }
                    set_path(&mut patched, &path, value.clone(), add, false)?;
                }
            }
        }
    }
    Ok(patched)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ops(body: Value) -> Vec<PatchOp> {
        parse_request(&body).unwrap()
    }

    fn group() -> Value {
        json!({"id": "grp_1", "displayName": "Sales", "members": [{"value": "u1", "display": "A"}, {"value": "u2", "display": "B"}]})
    }

    #[test]
    fn okta_pathless_deactivation_applies() {
        let user = json!({"id": "u1", "userName": "a@acme.test", "active": true});
        let patch =
            ops(json!({"schemas": [SCHEMA_PATCH], "Operations": [{"op": "replace", "value": {"active": false}}]}));
        assert_eq!(apply(&user, &patch, PatchRules::CORRECT).unwrap()["active"], false);
        let ignored = PatchRules { apply_pathless: false, ..PatchRules::CORRECT };
        assert_eq!(apply(&user, &patch, ignored).unwrap()["active"], true);
    }

    #[test]
    fn okta_membership_patch_removes_and_adds_exactly() {
        let patch = ops(json!({"schemas": [SCHEMA_PATCH], "Operations": [
            {"op": "remove", "path": "members[value eq \"u1\"]"},
            {"op": "add", "path": "members", "value": [{"value": "u3", "display": "C"}, {"value": "u2", "display": "B"}]}
        ]}));
        let patched = apply(&group(), &patch, PatchRules::CORRECT).unwrap();
        let members: Vec<&str> =
            patched["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap()).collect();
        assert_eq!(members, ["u2", "u3"]);
    }

    #[test]
    fn okta_rename_keeps_members_and_refuses_another_id() {
        let rename = ops(
            json!({"schemas": [SCHEMA_PATCH], "Operations": [{"op": "replace", "value": {"id": "grp_1", "displayName": "Sales EMEA"}}]}),
        );
        let patched = apply(&group(), &rename, PatchRules::CORRECT).unwrap();
        assert_eq!(patched["displayName"], "Sales EMEA");
        assert_eq!(patched["members"].as_array().unwrap().len(), 2);
        let wiped =
            apply(&group(), &rename, PatchRules { rename_keeps_members: false, ..PatchRules::CORRECT }).unwrap();
        assert!(wiped.get("members").is_none());
        let other =
            ops(json!({"schemas": [SCHEMA_PATCH], "Operations": [{"op": "replace", "value": {"id": "grp_2"}}]}));
        assert!(matches!(apply(&group(), &other, PatchRules::CORRECT), Err(ScimError::Mutability(_))));
    }

    #[test]
    fn push_now_replaces_members_and_the_flawed_rules_add_or_drop() {
        let member_values = |group: &Value| -> Vec<String> {
            group["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap().to_owned()).collect()
        };
        let replace = ops(
            json!({"schemas": [SCHEMA_PATCH], "Operations": [{"op": "replace", "path": "members", "value": [{"value": "u3"}]}]}),
        );
        assert_eq!(member_values(&apply(&group(), &replace, PatchRules::CORRECT).unwrap()), ["u3"]);
        let as_add =
            apply(&group(), &replace, PatchRules { replace_members_replaces: false, ..PatchRules::CORRECT }).unwrap();
        assert_eq!(member_values(&as_add), ["u1", "u2", "u3"]);
        let add = ops(
            json!({"schemas": [SCHEMA_PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": "u3"}]}]}),
        );
        assert_eq!(member_values(&apply(&group(), &add, PatchRules::CORRECT).unwrap()), ["u1", "u2", "u3"]);
        let dropped = apply(&group(), &add, PatchRules { apply_member_add: false, ..PatchRules::CORRECT }).unwrap();
        assert_eq!(member_values(&dropped), ["u1", "u2"]);
        let wiped =
            apply(&group(), &add, PatchRules { member_add_keeps_members: false, ..PatchRules::CORRECT }).unwrap();
        assert_eq!(member_values(&wiped), ["u3"]);
    }

    #[test]
    fn value_filter_paths_replace_sub_attributes() {
        let user = json!({"emails": [{"value": "a@x.test", "type": "work"}, {"value": "b@y.test", "type": "home"}]});
        let patch = ops(
            json!({"schemas": [SCHEMA_PATCH], "Operations": [{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "c@x.test"}]}),
        );
        let patched = apply(&user, &patch, PatchRules::CORRECT).unwrap();
        assert_eq!(patched["emails"][0]["value"], "c@x.test");
        assert_eq!(patched["emails"][1]["value"], "b@y.test");
    }

    #[test]
    fn replace_on_a_complex_attribute_keeps_the_sub_attributes_not_named() {
        let user =
            json!({"name": {"givenName": "A", "familyName": "B"}, "phoneNumbers": [{"value": "1"}, {"value": "2"}]});
        let patch = ops(json!({"schemas": [SCHEMA_PATCH], "Operations": [
            {"op": "replace", "value": {"name": {"givenName": "X"}}},
            {"op": "replace", "path": "phoneNumbers.type", "value": "work"}
        ]}));
        let patched = apply(&user, &patch, PatchRules::CORRECT).unwrap();
        assert_eq!(patched["name"], json!({"givenName": "X", "familyName": "B"}));
        assert_eq!(patched["phoneNumbers"], json!([{"value": "1", "type": "work"}, {"value": "2", "type": "work"}]));
    }

    #[test]
    fn bad_requests_get_scim_errors() {
        assert!(matches!(parse_request(&json!({"Operations": []})), Err(ScimError::InvalidSyntax(_))));
        assert!(matches!(
            parse_request(&json!({"schemas": [SCHEMA_PATCH], "Operations": [{"op": "remove"}]})),
            Err(ScimError::NoTarget(_))
        ));
        assert!(matches!(
            parse_request(
                &json!({"schemas": [SCHEMA_PATCH], "Operations": [{"op": "add", "path": "members[", "value": 1}]})
            ),
            Err(ScimError::InvalidPath(_))
        ));
        let read_only =
            ops(json!({"schemas": [SCHEMA_PATCH], "Operations": [{"op": "replace", "path": "meta", "value": {}}]}));
        assert!(matches!(apply(&group(), &read_only, PatchRules::CORRECT), Err(ScimError::Mutability(_))));
    }
}
