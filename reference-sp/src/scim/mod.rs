//! The SCIM 2.0 server (RFC 7643, RFC 7644) as Okta provisions against it.
//!
//! Protocol logic is pure: [`filter`] parses and evaluates filters,
//! [`patch`] applies PATCH operations to a resource held as JSON,
//! [`resource`] validates and renders Users and Groups, and [`list`] pages
//! and projects list responses. [`crate::provisioning`] applies the account
//! rules (deactivation ends sessions, the last admin stays) over the store;
//! only `http/scim.rs` knows axum.

pub mod filter;
pub mod list;
pub mod patch;
pub mod required;
pub mod resource;

use serde_json::{Value, json};

pub const SCHEMA_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const SCHEMA_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const SCHEMA_ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const SCHEMA_LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const SCHEMA_PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SCHEMA_ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The tenant extension: the app-profile attributes Okta pushes (role, admin
/// flag, phone numbers), as in the MoovingON and Appenate guides.
pub const SCHEMA_TENANT: &str = "urn:mockta:params:scim:schemas:extension:tenant:2.0:User";

/// The User extensions this server knows.
pub const EXTENSIONS: [&str; 2] = [SCHEMA_ENTERPRISE, SCHEMA_TENANT];

/// Whether a schema URN names a core schema, whose attributes sit at the top level.
pub fn is_core_schema(uri: &str) -> bool {
    uri.eq_ignore_ascii_case(SCHEMA_USER) || uri.eq_ignore_ascii_case(SCHEMA_GROUP)
}

/// SCIM errors (RFC 7644 §3.12). `Display` is the `scimType` (when the RFC
/// defines one) and the detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScimError {
    #[error("invalidFilter: {0}")]
    InvalidFilter(String),
    #[error("invalidSyntax: {0}")]
    InvalidSyntax(String),
    #[error("invalidValue: {0}")]
    InvalidValue(String),
    #[error("invalidPath: {0}")]
    InvalidPath(String),
    #[error("noTarget: {0}")]
    NoTarget(String),
    #[error("mutability: {0}")]
    Mutability(String),
    #[error("Authentication failed: a valid bearer token (or Basic credential) for this tenant is required.")]
    Unauthorized,
    #[error("Resource {0} not found.")]
    NotFound(String),
    /// The request is understood and authenticated, but the tenant does not
    /// take it now (SCIM before SSO is verified).
    #[error("{0}")]
    Forbidden(String),
    #[error("uniqueness: {0}")]
    Uniqueness(String),
    /// A conflict the RFC has no scimType for, such as the last admin.
    #[error("{0}")]
    Conflict(String),
    #[error("The resource was changed since version {0}; read it again.")]
    PreconditionFailed(String),
    #[error("The request body is larger than {0} bytes.")]
    TooLarge(usize),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    NotImplemented(String),
    #[error("{0}")]
    Internal(String),
}

impl ScimError {
    pub fn status(&self) -> u16 {
        match self {
            ScimError::InvalidFilter(_)
            | ScimError::InvalidSyntax(_)
            | ScimError::InvalidValue(_)
            | ScimError::InvalidPath(_)
            | ScimError::NoTarget(_)
            | ScimError::Mutability(_) => 400,
            ScimError::Unauthorized => 401,
            ScimError::Forbidden(_) => 403,
            ScimError::NotFound(_) => 404,
            ScimError::MethodNotAllowed(_) => 405,
            ScimError::Uniqueness(_) | ScimError::Conflict(_) => 409,
            ScimError::PreconditionFailed(_) => 412,
            ScimError::TooLarge(_) => 413,
            ScimError::Internal(_) => 500,
            ScimError::NotImplemented(_) => 501,
        }
    }

    pub fn scim_type(&self) -> Option<&'static str> {
        Some(match self {
            ScimError::InvalidFilter(_) => "invalidFilter",
            ScimError::InvalidSyntax(_) => "invalidSyntax",
            ScimError::InvalidValue(_) => "invalidValue",
            ScimError::InvalidPath(_) => "invalidPath",
            ScimError::NoTarget(_) => "noTarget",
            ScimError::Mutability(_) => "mutability",
            ScimError::Uniqueness(_) => "uniqueness",
            _ => return None,
        })
    }

    fn detail(&self) -> String {
        let text = self.to_string();
        match self.scim_type() {
            Some(kind) => text.strip_prefix(&format!("{kind}: ")).map(str::to_owned).unwrap_or(text),
            None => text,
        }
    }

    /// The SCIM Error body; `status` is a string, as RFC 7644 §3.12 shows.
    pub fn body(&self) -> Value {
        let mut body = json!({ "schemas": [SCHEMA_ERROR], "status": self.status().to_string() });
        if let Some(kind) = self.scim_type() {
            body["scimType"] = kind.into();
        }
        body["detail"] = self.detail().into();
        body
    }
}
