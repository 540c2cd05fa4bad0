//! The discovery documents (RFC 7643 §5-7): what the server says about
//! itself. They are kept apart from the resource operations because they
//! read only the tenant's configuration, never the store.

use serde_json::{Value, json};

use super::ScimError;
use crate::config::ScimCredential;
use crate::scim::{SCHEMA_ENTERPRISE, SCHEMA_GROUP, SCHEMA_TENANT, SCHEMA_USER};
use crate::scim::{list, resource};
use crate::sp::Sp;

impl Sp {
    /// `/ServiceProviderConfig` (RFC 7643 §5).
    pub fn scim_service_provider_config(&self, tenant: &str) -> Result<Value, ScimError> {
        let config = self.scim_tenant(tenant)?;
        let basic = matches!(config.scim.as_ref().map(|s| &s.credential), Some(ScimCredential::Basic { .. }));
        let scheme = if basic {
            json!({"type": "httpbasic", "name": "HTTP Basic", "description": "HTTP Basic with the tenant's SCIM user and password", "primary": true})
        } else {
            json!({"type": "oauthbearertoken", "name": "Bearer token", "description": "The tenant's SCIM bearer token", "primary": true})
        };
        Ok(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": list::MAX_PAGE},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": true},
            "authenticationSchemes": [scheme],
            "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{}/scim/v2/{}/ServiceProviderConfig", self.config.base_url, config.id)},
        }))
    }

    /// `/Schemas` (RFC 7643 §7): the attributes this server reads and keeps,
    /// and no others: a User write naming another is refused
    /// (`resource::USER_ATTRIBUTES` and `ENTERPRISE_ATTRIBUTES` are the same
    /// lists).
    pub fn scim_schemas(&self, tenant: &str) -> Result<Vec<Value>, ScimError> {
        let config = self.scim_tenant(tenant)?;
        let required = config.scim.as_ref().map(|s| s.required_attributes.as_slice()).unwrap_or_default();
        let base = format!("{}/scim/v2/{}/Schemas", self.config.base_url, config.id);
        let attribute = |name: &str, kind: &str, multi: bool, required: bool, case_exact: bool, uniqueness: &str| {
            json!({
                "name": name, "type": kind, "multiValued": multi, "required": required, "caseExact": case_exact,
                "mutability": "readWrite", "returned": "default", "uniqueness": uniqueness,
            })
        };
        let schema = |id: &str, name: &str, attributes: Vec<Value>| {
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
                "id": id, "name": name, "attributes": attributes,
                "meta": {"resourceType": "Schema", "location": format!("{base}/{id}")},
            })
        };
        let mut name = attribute("name", "complex", false, false, false, "none");
        name["subAttributes"] = json!([
            attribute("givenName", "string", false, false, false, "none"),
            attribute("familyName", "string", false, false, false, "none"),
            attribute("formatted", "string", false, false, false, "none"),
            attribute("middleName", "string", false, false, false, "none"),
            attribute("honorificPrefix", "string", false, false, false, "none"),
            attribute("honorificSuffix", "string", false, false, false, "none"),
        ]);
        let typed_values = |name: &str| {
            let mut typed = attribute(name, "complex", true, false, false, "none");
            typed["subAttributes"] = json!([
                attribute("value", "string", false, false, false, "none"),
                attribute("display", "string", false, false, false, "none"),
                attribute("type", "string", false, false, false, "none"),
                attribute("primary", "boolean", false, false, false, "none"),
            ]);
            typed
        };
        let mut addresses = attribute("addresses", "complex", true, false, false, "none");
        addresses["subAttributes"] = json!(
            ["formatted", "streetAddress", "locality", "region", "postalCode", "country", "type"]
                .iter()
                .map(|name| attribute(name, "string", false, false, false, "none"))
                .chain([attribute("primary", "boolean", false, false, false, "none")])
                .collect::<Vec<_>>()
        );
        let mut manager = attribute("manager", "complex", false, false, false, "none");
        manager["subAttributes"] = json!([
            attribute("value", "string", false, false, false, "none"),
            attribute("displayName", "string", false, false, false, "none"),
        ]);
        let emails = typed_values("emails");
        let mut groups = attribute("groups", "complex", true, false, false, "none");
        groups["mutability"] = "readOnly".into();
        groups["subAttributes"] = json!([
            attribute("value", "string", false, false, true, "none"),
            attribute("display", "string", false, false, false, "none"),
        ]);
        let mut members = attribute("members", "complex", true, false, false, "none");
        let mut member_ref = attribute("$ref", "reference", false, false, true, "none");
        member_ref["referenceTypes"] = json!(["User"]);
        members["subAttributes"] = json!([
            attribute("value", "string", false, false, true, "none"),
            readonly(attribute("display", "string", false, false, false, "none")),
            member_ref,
        ]);
        // The tenant's own extension: only the attributes it chose.
        let chosen = config.scim.as_ref().map(|s| s.extension.clone()).unwrap_or_default();
        let tenant_attributes: Vec<Value> = [
            with_canonical(attribute("role", "string", false, false, false, "none"), &resource::ROLES),
            attribute("admin", "boolean", false, false, false, "none"),
            // The canonical values show the E.164 form the server requires.
            with_canonical(attribute("firstPhone", "string", false, false, false, "none"), &E164_EXAMPLES),
            with_canonical(attribute("secondPhone", "string", false, false, false, "none"), &E164_EXAMPLES),
        ]
        .into_iter()
        .filter(|a| chosen.iter().any(|c| Some(c.as_str()) == a["name"].as_str()))
        .collect();
        // The tenant's custom attributes on the core User itself, declared
        // with the core attributes so a client reads where they go.
        let core_chosen = config.scim.as_ref().map(|s| s.core_attributes.clone()).unwrap_or_default();
        let core_custom: Vec<Value> = resource::CORE_CUSTOM_ATTRIBUTES
            .iter()
            .filter(|(name, _)| core_chosen.iter().any(|c| c == name))
            .map(|(name, kind)| {
                let declared = attribute(name, kind, false, false, false, "none");
                if *kind == "string" { with_canonical(declared, &E164_EXAMPLES) } else { declared }
            })
            .collect();
        Ok(vec![
            schema(
                SCHEMA_USER,
                "User",
                vec![
                    attribute("userName", "string", false, true, false, "server"),
                    name,
                    attribute("displayName", "string", false, false, false, "none"),
                    attribute("nickName", "string", false, false, false, "none"),
                    attribute("profileUrl", "reference", false, false, false, "none"),
                    attribute("title", "string", false, false, false, "none"),
                    attribute("userType", "string", false, false, false, "none"),
                    attribute("preferredLanguage", "string", false, false, false, "none"),
                    attribute("locale", "string", false, false, false, "none"),
                    attribute("timezone", "string", false, false, false, "none"),
                    attribute("active", "boolean", false, false, false, "none"),
                    emails,
                    typed_values("phoneNumbers"),
                    addresses,
                    attribute("externalId", "string", false, false, true, "none"),
                    groups,
                ]
                .into_iter()
                .chain(core_custom)
                .collect(),
            ),
            schema(
                SCHEMA_GROUP,
                "Group",
                vec![attribute("displayName", "string", false, true, false, "server"), members],
            ),
            schema(
                SCHEMA_ENTERPRISE,
                "EnterpriseUser",
                vec![
                    attribute("employeeNumber", "string", false, false, false, "none"),
                    attribute("costCenter", "string", false, false, false, "none"),
                    attribute("organization", "string", false, false, false, "none"),
                    attribute("division", "string", false, false, false, "none"),
                    attribute("department", "string", false, false, false, "none"),
                    manager,
                ],
            ),
            schema(SCHEMA_TENANT, "TenantUser", tenant_attributes),
            schema(
                "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
                "ServiceProviderConfig",
                vec![attribute("documentationUri", "reference", false, false, false, "none")],
            ),
            schema(
                "urn:ietf:params:scim:schemas:core:2.0:ResourceType",
                "ResourceType",
                vec![
                    attribute("name", "string", false, true, false, "none"),
                    attribute("endpoint", "reference", false, true, false, "none"),
                    attribute("schema", "reference", false, true, true, "none"),
                ],
            ),
            schema(
                "urn:ietf:params:scim:schemas:core:2.0:Schema",
                "Schema",
                vec![
                    attribute("name", "string", false, false, false, "none"),
                    attribute("description", "string", false, false, false, "none"),
                ],
            ),
        ]
        .into_iter()
        .map(|schema| mark_required(schema, required))
        .collect())
    }

    /// One schema by its id (`/Schemas/{id}`).
    pub fn scim_schema(&self, tenant: &str, id: &str) -> Result<Value, ScimError> {
        let found = self.scim_schemas(tenant)?.into_iter().find(|s| s["id"] == id);
        found.ok_or_else(|| ScimError::NotFound(id.to_owned()))
    }

    /// One resource type by its id (`/ResourceTypes/{id}`).
    pub fn scim_resource_type(&self, tenant: &str, id: &str) -> Result<Value, ScimError> {
        let found = self.scim_resource_types(tenant)?.into_iter().find(|t| t["id"] == id);
        found.ok_or_else(|| ScimError::NotFound(id.to_owned()))
    }

    /// `/ResourceTypes` (RFC 7643 §6).
    pub fn scim_resource_types(&self, tenant: &str) -> Result<Vec<Value>, ScimError> {
        let config = self.scim_tenant(tenant)?;
        let base = format!("{}/scim/v2/{}", self.config.base_url, config.id);
        Ok(vec![
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                "id": "User", "name": "User", "endpoint": "/Users", "schema": SCHEMA_USER,
                "schemaExtensions": [{"schema": SCHEMA_ENTERPRISE, "required": false}, {"schema": SCHEMA_TENANT, "required": false}],
                "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")},
            }),
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                "id": "Group", "name": "Group", "endpoint": "/Groups", "schema": SCHEMA_GROUP,
                "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group")},
            }),
        ])
    }
}

/// Example phone numbers in E.164, the form the tenant extension keeps.
const E164_EXAMPLES: [&str; 2] = ["+972501234567", "+14155550100"];

/// Marks an attribute read-only. A member's `display` is one: it is
/// accepted and not kept, because members are shown by id and `$ref`.
fn readonly(mut attribute: Value) -> Value {
    attribute["mutability"] = "readOnly".into();
    attribute
}

/// Lists the values an attribute takes, as `canonicalValues`.
fn with_canonical(mut attribute: Value, values: &[&str]) -> Value {
    attribute["canonicalValues"] = json!(values);
    attribute
}

/// Marks the tenant's required User attributes (`scim.required_attributes`)
/// `required: true` in the User schema, so what a client reads of the
/// schema is what a write is held to; `name.givenName` marks the
/// sub-attribute. Other schemas are returned as they are.
fn mark_required(mut schema: Value, required: &[String]) -> Value {
    if schema["id"] != SCHEMA_USER {
        return schema;
    }
    let Some(attributes) = schema["attributes"].as_array_mut() else { return schema };
    for path in required {
        let (top, part) = match path.split_once('.') {
            Some((top, part)) => (top, Some(part)),
            None => (path.as_str(), None),
        };
        let named = |a: &&mut Value, name: &str| a["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name));
        let Some(attribute) = attributes.iter_mut().find(|a| named(a, top)) else { continue };
        match part {
            None => attribute["required"] = Value::Bool(true),
            Some(part) => {
                let found =
                    attribute["subAttributes"].as_array_mut().and_then(|subs| subs.iter_mut().find(|a| named(a, part)));
                if let Some(sub) = found {
                    sub["required"] = Value::Bool(true);
                }
            }
        }
    }
    schema
}
