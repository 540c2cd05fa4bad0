//! What the engine records and reports: the transcript's exchanges, failed
//! tasks and why they failed, and the results of the manual operations.

use serde::Serialize;
use serde_json::Value;

use crate::ids::AppId;
use crate::scim::{Operation, ReplyError};

/// Why an operation failed: what its failed task shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskFailure {
    #[error(transparent)]
    Reply(#[from] ReplyError),
    /// No reply came: the connection failed or timed out.
    #[error("{0}")]
    NoReply(String),
    /// The app's provisioning connection is deactivated, so nothing is sent.
    #[error("the app's provisioning connection is deactivated")]
    ConnectionInactive,
    /// OAuth 2.0: Okta holds no token it can use; an admin must authorize.
    #[error("the app's OAuth 2.0 connection is not authorized: {0}")]
    NotAuthorized(String),
    /// OAuth 2.0: the SP's token endpoint refused a code or refresh token,
    /// with its RFC 6749 error, or answered with something unusable.
    #[error(transparent)]
    Token(#[from] crate::scim::oauth::TokenError),
}

impl TaskFailure {
    pub fn code(&self) -> &'static str {
        match self {
            TaskFailure::Reply(reply) => reply.code(),
            TaskFailure::NoReply(_) => "scim.no_reply",
            TaskFailure::ConnectionInactive => "provisioning.connection_inactive",
            TaskFailure::NotAuthorized(_) => "oauth.not_authorized",
            TaskFailure::Token(crate::scim::oauth::TokenError::Refused { .. }) => "oauth.token_refused",
            TaskFailure::Token(crate::scim::oauth::TokenError::Unusable { .. }) => "oauth.token_unusable",
        }
    }

    /// The SP's HTTP status, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            TaskFailure::Reply(reply) => Some(reply.status()),
            TaskFailure::Token(token) => Some(token.status()),
            TaskFailure::NoReply(_) | TaskFailure::ConnectionInactive | TaskFailure::NotAuthorized(_) => None,
        }
    }
}

/// One request and its reply, as the transcript keeps them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exchange {
    /// The exchange's place in the transcript, from 1.
    pub sequence: u64,
    pub app: AppId,
    /// The operation that sent it, such as `sync user 00u…`.
    pub operation: String,
    /// 1 for the first try, more for a retry.
    pub attempt: u32,
    pub request: RecordedRequest,
    /// The reply, when one came.
    pub response: Option<RecordedResponse>,
    /// Why no reply came.
    pub error: Option<String>,
    /// When the request was sent (RFC 3339, on the IdP's clock).
    pub started: String,
    /// How long the reply took, in milliseconds on the IdP's clock.
    pub duration_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordedRequest {
    pub method: &'static str,
    pub url: String,
    /// The headers as sent, the secret in `Authorization` redacted.
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordedResponse {
    pub status: u16,
    /// The body as JSON when it is JSON, else as text; `null` when empty.
    pub body: Value,
}

/// A failed provisioning task, as Okta's dashboard lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FailedTask {
    pub id: String,
    pub app: AppId,
    pub label: String,
    #[serde(flatten)]
    pub operation: Operation,
    /// The SP's HTTP status, when it answered.
    pub status: Option<u16>,
    pub code: &'static str,
    /// The SP's error text (its SCIM `detail`) or why no reply came.
    pub error: String,
    /// How many times the task was run, counting the first.
    pub runs: u32,
    pub created: String,
    pub last_run: String,
}

/// The result of "Test API Credentials".
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CredentialsCheck {
    pub app: AppId,
    pub status: u16,
    pub total_results: usize,
}

/// What "Push now" did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PushSummary {
    pub app: AppId,
    pub operations: usize,
    /// The ids of the tasks that failed.
    pub failed_tasks: Vec<String>,
}
