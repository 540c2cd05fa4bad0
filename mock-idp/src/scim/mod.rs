//! Okta's SCIM provisioning client as pure logic: which requests Okta sends
//! for an org change, with which bodies, and what it reads from the replies.
//!
//! Nothing here does IO. [`crate::provisioning`] runs the requests built here
//! over HTTP, one at a time, and hands each reply back to the functions here
//! that read it. Request shapes follow Okta's SCIM 2.0 reference and its
//! test suites (see `../shared/notes/okta-scim.md`).

pub mod faults;
pub mod import;
pub mod oauth;
pub mod plan;
pub mod requests;

use serde::Serialize;
use serde_json::Value;

pub use faults::{ArmedFaults, ScimFault, UnknownScimFault};
pub use import::{ImportReport, match_import};
pub use plan::{Operation, UserAction, decide_user, plan_change, plan_push};
pub use requests::UserView;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The page size Okta asks for when it looks up or imports.
pub const PAGE_SIZE: usize = 100;

/// An HTTP method Okta's client uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// One request, relative to the app's SCIM base URL.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScimRequest {
    pub method: Method,
    /// The path and query after the base URL, percent-encoded as Okta
    /// encodes them (`/Users?filter=userName%20eq%20%22…%22&startIndex=1&count=100`).
    pub path: String,
    pub body: Option<Value>,
}

/// A reply as the transport received it.
#[derive(Clone, Debug, PartialEq)]
pub struct ScimResponse {
    pub status: u16,
    /// The body's text; empty for a 204.
    pub text: String,
}

impl ScimResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.text).ok()
    }
}

/// Why a reply could not be used: what Okta's dashboard shows for a failed
/// provisioning task.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// The SP answered with an error status; the text is its SCIM `detail`
    /// or, without one, the start of its body.
    #[error("the SCIM server answered {status}: {detail}")]
    Status { status: u16, detail: String },
    /// The SP answered with success but a body Okta cannot use.
    #[error("the SCIM server answered {status} with an unusable body: {problem}")]
    Unusable { status: u16, problem: String },
}

impl ReplyError {
    /// A stable code for the kind of failure.
    pub fn code(&self) -> &'static str {
        match self {
            ReplyError::Status { .. } => "scim.status",
            ReplyError::Unusable { .. } => "scim.unusable_reply",
        }
    }

    /// The SP's HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            ReplyError::Status { status, .. } | ReplyError::Unusable { status, .. } => *status,
        }
    }
}

/// The error text Okta shows for an error reply: the SCIM `detail`, or the
/// start of the body.
pub fn error_detail(response: &ScimResponse) -> String {
    if let Some(detail) = response.json().as_ref().and_then(|body| body.get("detail")).and_then(Value::as_str) {
        return detail.to_owned();
    }
    let text: String = response.text.chars().take(200).collect();
    if text.trim().is_empty() { "(no body)".to_owned() } else { text }
}

/// Fails an error status with the SP's error text.
pub fn require_success(response: &ScimResponse) -> Result<(), ReplyError> {
    if response.is_success() {
        Ok(())
    } else {
        Err(ReplyError::Status { status: response.status, detail: error_detail(response) })
    }
}

/// One page of a ListResponse.
#[derive(Clone, Debug, PartialEq)]
pub struct ListPage {
    pub total_results: usize,
    pub resources: Vec<Value>,
}

/// Reads a ListResponse. Okta reads a 404 to a filtered lookup as "none
/// found", as its documentation allows.
pub fn read_list(response: &ScimResponse, not_found_is_empty: bool) -> Result<ListPage, ReplyError> {
    if not_found_is_empty && response.status == 404 {
        return Ok(ListPage { total_results: 0, resources: Vec::new() });
    }
    require_success(response)?;
    let unusable = |problem: &str| ReplyError::Unusable { status: response.status, problem: problem.to_owned() };
    let body = response.json().ok_or_else(|| unusable("not JSON"))?;
    let total_results =
        body.get("totalResults").and_then(Value::as_u64).ok_or_else(|| unusable("totalResults is not an integer"))?;
    let resources = match body.get("Resources") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return Err(unusable("Resources is not an array")),
    };
    Ok(ListPage { total_results: usize::try_from(total_results).unwrap_or(usize::MAX), resources })
}

/// Reads a resource reply (POST 201, GET 200) and its `id`.
pub fn read_resource(response: &ScimResponse) -> Result<(String, Value), ReplyError> {
    require_success(response)?;
    let unusable = |problem: &str| ReplyError::Unusable { status: response.status, problem: problem.to_owned() };
    // Okta records "Create new user returned empty user" for an empty body.
    let body = response.json().ok_or_else(|| unusable("the body is empty or not JSON"))?;
    let id = body.get("id").and_then(Value::as_str).filter(|id| !id.is_empty()).ok_or_else(|| unusable("no id"))?;
    Ok((id.to_owned(), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_counts_and_treat_a_lookup_404_as_empty() {
        let page =
            ScimResponse { status: 200, text: r#"{"schemas":[],"totalResults":1,"Resources":[{"id":"a"}]}"#.into() };
        assert_eq!(read_list(&page, true).map(|p| p.total_results), Ok(1));
        let missing = ScimResponse { status: 404, text: r#"{"detail":"nope"}"#.into() };
        assert_eq!(read_list(&missing, true).map(|p| p.resources.len()), Ok(0));
        assert_eq!(read_list(&missing, false), Err(ReplyError::Status { status: 404, detail: "nope".into() }));
        let text_total = ScimResponse { status: 200, text: r#"{"totalResults":"1"}"#.into() };
        assert!(matches!(read_list(&text_total, true), Err(ReplyError::Unusable { .. })));
    }

    #[test]
    fn an_empty_create_reply_is_unusable() {
        let empty = ScimResponse { status: 201, text: String::new() };
        assert_eq!(read_resource(&empty).map_err(|e| e.code()), Err("scim.unusable_reply"));
    }
}
