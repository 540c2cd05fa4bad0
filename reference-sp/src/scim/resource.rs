//! Users and Groups as SCIM resources: what a request may say, and how the
//! stored resource is shown.
//!
//! A resource is stored as the JSON the client gave, minus the read-only
//! attributes (`id`, `meta`, `groups`) and the write-only `password`, which
//! is accepted and never kept or echoed; `active` is stored as a boolean,
//! empty extensions are dropped and `schemas` lists the core schema and the
//! extensions present. The fields the SP itself uses
//! (`userName`, the primary email, the name, `active`, roles) are read out of
//! it here.

use serde_json::{Map, Value, json};

use super::filter::member;
use super::{SCHEMA_GROUP, SCHEMA_TENANT, SCHEMA_USER, ScimError};

/// The roles an app profile can give, as in the Appenate guide.
pub const ROLES: [&str; 4] = ["ReadOnly", "User", "Admin", "EnterpriseAdmin"];

/// The attributes a tenant's extension can have; each tenant picks some.
pub const TENANT_ATTRIBUTES: [&str; 4] = ["role", "admin", "firstPhone", "secondPhone"];

/// The custom attributes a tenant can take on the core User itself, with
/// their SCIM type: Okta sends an attribute whose External namespace is
/// `urn:ietf:params:scim:schemas:core:2.0:User` at the top level of the
/// resource, as the MoovingON guide sets these three up. A tenant lists the
/// ones it takes in `scim.core_attributes`; `/Schemas` then declares them on
/// the User, and the phones must be E.164.
pub const CORE_CUSTOM_ATTRIBUTES: [(&str, &str); 3] =
    [("moovingon_ai_admin", "boolean"), ("firstPhone", "string"), ("secondPhone", "string")];

/// The core User attributes this server keeps, as `/Schemas` declares them
/// (besides `schemas`, and the read-only `id`, `meta` and `groups`). A
/// write naming any other is refused: what a client reads of the schema is
/// what the server keeps.
pub const USER_ATTRIBUTES: [&str; 15] = [
    "userName",
    "name",
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "active",
    "emails",
    "phoneNumbers",
    "addresses",
    "externalId",
];

/// The enterprise extension's attributes this server keeps (RFC 7643 4.3).
pub const ENTERPRISE_ATTRIBUTES: [&str; 6] =
    ["employeeNumber", "costCenter", "organization", "division", "department", "manager"];

/// How strictly a User write is read. Each switch off is a flaw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserRules {
    /// Attributes and extension URNs `/Schemas` does not declare are
    /// refused (correct), or stored and returned.
    pub refuse_undeclared: bool,
    /// The password is kept with the resource (and so returned), where a
    /// correct server never returns it.
    pub keep_password: bool,
}

impl UserRules {
    pub const STRICT: UserRules = UserRules { refuse_undeclared: true, keep_password: false };
}

/// Refuses a User attribute or extension URN that `/Schemas` does not
/// declare; `core_attributes` are the tenant's custom core attributes.
fn refuse_undeclared(object: &Map<String, Value>, core_attributes: &[String]) -> Result<(), ScimError> {
    let known = |list: &[&str], key: &str| list.iter().any(|name| name.eq_ignore_ascii_case(key));
    for (key, value) in object {
        if key.eq_ignore_ascii_case("schemas") || key.eq_ignore_ascii_case("password") {
            continue;
        }
        if key.to_ascii_lowercase().starts_with("urn:") {
            if key.eq_ignore_ascii_case(SCHEMA_TENANT) {
                continue;
            }
            if !key.eq_ignore_ascii_case(super::SCHEMA_ENTERPRISE) {
                return Err(invalid(format!("'{key}' is not a schema extension of this server (see /Schemas)")));
            }
            if let Some(unknown) = value.as_object().and_then(|o| {
                o.keys().find(|k| !k.eq_ignore_ascii_case("schemas") && !known(&ENTERPRISE_ATTRIBUTES, k))
            }) {
                return Err(invalid(format!(
                    "'{unknown}' is not an attribute of the enterprise extension (see /Schemas)"
                )));
            }
            continue;
        }
        if !known(&USER_ATTRIBUTES, key) && !core_attributes.iter().any(|a| a.eq_ignore_ascii_case(key)) {
            return Err(invalid(format!("'{key}' is not a User attribute of this server (see /Schemas)")));
        }
    }
    let schemas = object.iter().find(|(k, _)| k.eq_ignore_ascii_case("schemas")).and_then(|(_, v)| v.as_array());
    for schema in schemas.into_iter().flatten().filter_map(Value::as_str) {
        if !schema.eq_ignore_ascii_case(SCHEMA_USER)
            && !super::EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(schema))
        {
            return Err(invalid(format!("'{schema}' is not a schema of this server's Users (see /ResourceTypes)")));
        }
    }
    Ok(())
}

/// What the SP reads out of a valid User resource.
#[derive(Debug, Clone, PartialEq)]
pub struct UserInput {
    /// The resource as stored.
    pub stored: Value,
    pub user_name: String,
    pub email: Option<String>,
    pub display_name: String,
    pub active: bool,
    /// From the tenant extension's `role` and `admin` (the admin group is
    /// added by the caller, which knows the memberships).
    pub roles: Vec<String>,
    /// The tenant's boolean core attributes that are `true` (such as
    /// `moovingon_ai_admin`); the caller knows which one makes an admin.
    pub true_core_flags: Vec<String>,
}

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::InvalidValue(detail.into())
}

fn string_at<'a>(object: &'a Value, name: &str) -> Result<Option<&'a str>, ScimError> {
    match member(object, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(invalid(format!("'{name}' must be a string"))),
    }
}

/// E.164: a `+`, a non-zero digit, at most 15 digits in all.
fn is_e164(text: &str) -> bool {
    let Some(digits) = text.strip_prefix('+') else { return false };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.bytes().next().is_some_and(|b| b != b'0')
}

/// Strips what a client may not set (and the write-only password) and
/// returns the object.
fn without_read_only(body: &Value, extra: &[&str]) -> Result<Map<String, Value>, ScimError> {
    let object = body.as_object().ok_or_else(|| ScimError::InvalidSyntax("the body must be a JSON object".into()))?;
    Ok(object
        .iter()
        .filter(|(k, _)| !["id", "meta", "groups", "password"].iter().chain(extra).any(|r| r.eq_ignore_ascii_case(k)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect())
}

fn check_schemas(object: &Map<String, Value>, core: &str) -> Result<(), ScimError> {
    let schemas = object.iter().find(|(k, _)| k.eq_ignore_ascii_case("schemas")).map(|(_, v)| v);
    match schemas.and_then(Value::as_array) {
        Some(list) if list.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(core))) => Ok(()),
        _ => Err(ScimError::InvalidSyntax(format!("'schemas' must list {core}"))),
    }
}

/// Validates a User from POST or PUT (or the result of a PATCH). `extension`
/// names the attributes of this tenant's extension.
pub fn validate_user(body: &Value, extension: &[String], rules: UserRules) -> Result<UserInput, ScimError> {
    validate_user_with_core(body, extension, &[], rules)
}

/// [`validate_user`] for a tenant that also takes custom attributes on the
/// core User (`core_attributes`, each one of [`CORE_CUSTOM_ATTRIBUTES`]):
/// a boolean one must be a boolean, a phone must be E.164.
pub fn validate_user_with_core(
    body: &Value,
    extension: &[String],
    core_attributes: &[String],
    rules: UserRules,
) -> Result<UserInput, ScimError> {
    let mut object = without_read_only(body, &[])?;
    check_schemas(&object, SCHEMA_USER)?;
    if rules.refuse_undeclared {
        refuse_undeclared(&object, core_attributes)?;
    }
    let mut true_core_flags = Vec::new();
    for (name, kind) in CORE_CUSTOM_ATTRIBUTES.iter().filter(|(name, _)| core_attributes.iter().any(|a| a == name)) {
        match (*kind, member(body, name)) {
            (_, None | Some(Value::Null)) => {}
            ("boolean", Some(Value::Bool(value))) => {
                if *value {
                    true_core_flags.push((*name).to_owned());
                }
            }
            ("boolean", Some(_)) => return Err(invalid(format!("'{name}' must be a boolean"))),
            (_, Some(Value::String(_))) => {}
            (_, Some(_)) => return Err(invalid(format!("'{name}' must be a string"))),
        }
    }
    // The `echo-password` flaw keeps the password with the resource.
    if rules.keep_password
        && let Some((key, value)) =
            body.as_object().and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("password")))
    {
        object.insert(key.clone(), value.clone());
    }
    let user_name = string_at(body, "userName")?
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| invalid("'userName' is required"))?
        .to_owned();
    if user_name.chars().count() > 256 {
        return Err(invalid("'userName' is longer than 256 characters"));
    }
    // Booleans sent as strings ("False") are read, and stored as booleans.
    // Without `active` the account is active, and the resource keeps no
    // `active` attribute (so a PATCH that removes it really removes it).
    let active = match member(body, "active") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(active)) => Some(*active),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Some(true),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => Some(false),
        Some(_) => return Err(invalid("'active' must be a boolean")),
    };
    let active_key = object.keys().find(|k| k.eq_ignore_ascii_case("active")).cloned().unwrap_or("active".into());
    match active {
        Some(value) => {
            object.insert(active_key, Value::Bool(value));
        }
        None => {
            object.remove(&active_key);
        }
    }
    let active = active.unwrap_or(true);
    // `schemas` lists the core schema and every extension the resource
    // carries (RFC 7643 §3), and no other.
    let extensions: Vec<String> = object
        .iter()
        .filter(|(key, value)| {
            key.to_ascii_lowercase().starts_with("urn:") && value.as_object().is_some_and(|o| !o.is_empty())
        })
        .map(|(key, _)| key.clone())
        .collect();
    object.retain(|key, value| {
        !key.to_ascii_lowercase().starts_with("urn:") || value.as_object().is_some_and(|o| !o.is_empty())
    });
    let schemas_key = object.keys().find(|k| k.eq_ignore_ascii_case("schemas")).cloned().unwrap_or("schemas".into());
    let mut schemas = vec![Value::from(SCHEMA_USER)];
    schemas.extend(extensions.into_iter().map(Value::from));
    object.insert(schemas_key, Value::Array(schemas));

    let mut email = None;
    if let Some(emails) = member(body, "emails").filter(|v| !v.is_null()) {
        let list = emails.as_array().ok_or_else(|| invalid("'emails' must be an array"))?;
        for item in list {
            let value = string_at(item, "value")?.ok_or_else(|| invalid("each email needs a 'value'"))?;
            if !value.contains('@') {
                return Err(invalid(format!("'{value}' is not an email address")));
            }
        }
        let primary = list.iter().find(|e| member(e, "primary") == Some(&Value::Bool(true))).or(list.first());
        email = primary.and_then(|e| member(e, "value")).and_then(Value::as_str).map(str::to_owned);
    }
    let name = member(body, "name").filter(|v| !v.is_null());
    if let Some(name) = name
        && !name.is_object()
    {
        return Err(invalid("'name' must be an object"));
    }
    let given = name.map(|n| string_at(n, "givenName")).transpose()?.flatten().unwrap_or_default();
    let family = name.map(|n| string_at(n, "familyName")).transpose()?.flatten().unwrap_or_default();
    let display_name = match string_at(body, "displayName")? {
        Some(display) if !display.trim().is_empty() => display.to_owned(),
        _ => format!("{given} {family}").trim().to_owned(),
    };

    let mut roles = Vec::new();
    let tenant = member(body, SCHEMA_TENANT).filter(|v| !v.is_null());
    if let Some(object) = tenant.and_then(Value::as_object)
        && let Some(unknown) = object
            .keys()
            .filter(|k| !k.eq_ignore_ascii_case("schemas"))
            .find(|k| !extension.iter().any(|e| e.eq_ignore_ascii_case(k)))
    {
        return Err(invalid(format!(
            "'{unknown}' is not an attribute of this tenant's extension, which has: {}",
            extension.join(", ")
        )));
    }
    for holder in [Some(body), tenant].into_iter().flatten() {
        for phone in ["firstPhone", "secondPhone"] {
            if let Some(number) = string_at(holder, phone)?
                && !number.is_empty()
                && !is_e164(number)
            {
                return Err(invalid(format!(
                    "'{phone}' must be in E.164 form: a '+', the country code and the number, such as +972501234567"
                )));
            }
        }
    }
    if let Some(tenant) = tenant {
        if let Some(role) = string_at(tenant, "role")? {
            let known = ROLES
                .iter()
                .find(|r| r.eq_ignore_ascii_case(role))
                .ok_or_else(|| invalid(format!("'role' must be one of {}", ROLES.join(", "))))?;
            roles.push((*known).to_owned());
        }
        match member(tenant, "admin") {
            None | Some(Value::Null) | Some(Value::Bool(false)) => {}
            Some(Value::Bool(true)) => roles.push("Admin".into()),
            Some(_) => return Err(invalid("'admin' must be a boolean")),
        }
    }
    roles.sort();
    roles.dedup();
    Ok(UserInput { stored: Value::Object(object), user_name, email, display_name, active, roles, true_core_flags })
}

/// What the SP reads out of a valid Group resource.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInput {
    pub stored: Value,
    pub display_name: String,
    /// Member user ids, in the order given, without repeats.
    pub members: Vec<String>,
}

/// Validates a Group from POST or PUT (or the result of a PATCH).
pub fn validate_group(body: &Value) -> Result<GroupInput, ScimError> {
    let object = without_read_only(body, &["members"])?;
    check_schemas(&object, SCHEMA_GROUP)?;
    let display_name = string_at(body, "displayName")?
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .ok_or_else(|| invalid("'displayName' is required"))?
        .to_owned();
    let mut members = Vec::new();
    if let Some(list) = member(body, "members").filter(|v| !v.is_null()) {
        let list = list.as_array().ok_or_else(|| invalid("'members' must be an array"))?;
        for item in list {
            let value = string_at(item, "value")?;
            // `$ref` is the member's URI (RFC 7643 §4.2); its last segment is
            // the id, used when `value` is absent or is not one of our ids.
            let by_ref = string_at(item, "$ref")?.and_then(|r| r.rsplit('/').next()).map(str::to_owned);
            let id = match (value, by_ref) {
                (Some(value), Some(by_ref)) if by_ref.starts_with("usr_") && !value.starts_with("usr_") => by_ref,
                (Some(value), _) => value.to_owned(),
                (None, Some(by_ref)) => by_ref,
                (None, None) => return Err(invalid("each member needs a 'value'")),
            };
            if !members.contains(&id) {
                members.push(id);
            }
        }
    }
    Ok(GroupInput { stored: Value::Object(object), display_name, members })
}

/// The `meta` of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub resource_type: &'static str,
    pub created: String,
    pub last_modified: String,
    pub location: String,
    pub version: i64,
}

impl Meta {
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }

    fn json(&self) -> Value {
        json!({
            "resourceType": self.resource_type,
            "created": self.created,
            "lastModified": self.last_modified,
            "location": self.location,
            "version": self.etag(),
        })
    }
}

/// A stored resource shown to the client: `schemas` and `id` first, the
/// stored attributes, then `groups` or `members`, then `meta`.
pub fn render(id: &str, stored: &Value, links: Option<(&str, Value)>, meta: &Meta) -> Value {
    let mut out = Map::new();
    if let Some(schemas) = member(stored, "schemas") {
        out.insert("schemas".into(), schemas.clone());
    }
    out.insert("id".into(), id.into());
    if let Some(object) = stored.as_object() {
        for (key, value) in object.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("schemas")) {
            out.insert(key.clone(), value.clone());
        }
    }
    if let Some((name, value)) = links {
        out.insert(name.into(), value);
    }
    out.insert("meta".into(), meta.json());
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<String> {
        TENANT_ATTRIBUTES.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn attributes_outside_the_tenant_extension_are_refused() {
        let mut body = okta_create();
        body[SCHEMA_TENANT] = json!({"firstPhone": "+14155550100"});
        assert!(validate_user(&body, &["firstPhone".to_owned()], UserRules::STRICT).is_ok());
        assert!(matches!(
            validate_user(&body, &["role".to_owned()], UserRules::STRICT),
            Err(ScimError::InvalidValue(_))
        ));
    }

    fn okta_create() -> Value {
        json!({
            "schemas": [SCHEMA_USER],
            "userName": "Alice@Acme.test",
            "name": {"givenName": "Alice", "familyName": "Anderson"},
            "emails": [{"primary": true, "value": "alice@acme.test", "type": "work"}],
            "displayName": "Alice Anderson",
            "locale": "en-US",
            "externalId": "00u1",
            "groups": [],
            "password": "s3cret!",
            "active": true
        })
    }

    #[test]
    fn okta_create_body_is_valid_and_password_is_not_kept() {
        let input = validate_user(&okta_create(), &all(), UserRules::STRICT).unwrap();
        assert_eq!(input.user_name, "Alice@Acme.test");
        assert_eq!(input.email.as_deref(), Some("alice@acme.test"));
        assert!(input.stored.get("password").is_none());
        assert!(input.stored.get("groups").is_none());
    }

    #[test]
    fn phones_must_be_e164_and_roles_come_from_the_extension() {
        let mut body = okta_create();
        body[SCHEMA_TENANT] = json!({"role": "enterpriseadmin", "firstPhone": "+972501234567"});
        assert_eq!(validate_user(&body, &all(), UserRules::STRICT).unwrap().roles, ["EnterpriseAdmin"]);
        body[SCHEMA_TENANT]["secondPhone"] = json!("0501234567");
        assert!(matches!(validate_user(&body, &all(), UserRules::STRICT), Err(ScimError::InvalidValue(_))));
        assert!(is_e164("+14155550100") && !is_e164("+0123") && !is_e164("14155550100"));
    }

    #[test]
    fn undeclared_attributes_and_extensions_are_refused_unless_the_flaw_keeps_them() {
        let mut body = okta_create();
        body["mocktaNote"] = json!("x");
        assert!(matches!(validate_user(&body, &all(), UserRules::STRICT), Err(ScimError::InvalidValue(_))));
        let loose = UserRules { refuse_undeclared: false, keep_password: false };
        assert_eq!(validate_user(&body, &all(), loose).unwrap().stored["mocktaNote"], "x");
        let mut body = okta_create();
        body["urn:example:params:scim:schemas:extension:other:2.0:User"] = json!({"note": "x"});
        assert!(matches!(validate_user(&body, &all(), UserRules::STRICT), Err(ScimError::InvalidValue(_))));
        let mut body = okta_create();
        body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = json!({"department": "R&D", "badge": 7});
        assert!(matches!(validate_user(&body, &all(), UserRules::STRICT), Err(ScimError::InvalidValue(_))));
        body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = json!({"department": "R&D"});
        assert!(validate_user(&body, &all(), UserRules::STRICT).is_ok(), "a declared extension attribute is kept");
    }

    #[test]
    fn the_echo_password_flaw_keeps_the_password() {
        let keep = UserRules { refuse_undeclared: true, keep_password: true };
        assert_eq!(validate_user(&okta_create(), &all(), keep).unwrap().stored["password"], "s3cret!");
    }

    #[test]
    fn missing_user_name_or_schema_is_refused() {
        let mut body = okta_create();
        body["userName"] = json!(" ");
        assert!(matches!(validate_user(&body, &all(), UserRules::STRICT), Err(ScimError::InvalidValue(_))));
        assert!(matches!(
            validate_user(&json!({"userName": "x"}), &all(), UserRules::STRICT),
            Err(ScimError::InvalidSyntax(_))
        ));
    }
}
