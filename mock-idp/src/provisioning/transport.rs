//! The one module that knows reqwest: sends a built SCIM request with Okta's
//! headers and returns the reply as plain data.

use std::time::Duration;

use crate::scim::{Method, ScimRequest, ScimResponse};

/// Okta's SCIM client's `User-Agent`, as Okta's SCIM 2.0 reference shows it.
pub const USER_AGENT: &str = "Okta SCIM Client 1.0.0";
/// Okta's media type for `Accept` and for request bodies.
pub const SCIM_MEDIA_TYPE: &str = "application/scim+json; charset=utf-8";

/// A reply and the wait it asked for (`Retry-After` in seconds).
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub(crate) response: ScimResponse,
    pub(crate) retry_after: Option<Duration>,
}

/// The HTTP client provisioning uses, with Okta's timeout.
#[derive(Clone, Debug)]
pub(crate) struct HttpTransport {
    client: reqwest::Client,
}

/// The transport could not be built.
#[derive(Debug, thiserror::Error)]
#[error("the SCIM HTTP client could not be built: {0}")]
pub struct TransportBuildError(String);

impl HttpTransport {
    pub(crate) fn new(timeout: Duration) -> Result<Self, TransportBuildError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(USER_AGENT)
            // Okta follows no redirects from a SCIM server; a redirect is
            // an answer like any other.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| TransportBuildError(e.to_string()))?;
        Ok(HttpTransport { client })
    }

    /// The headers sent besides `User-Agent` and `Authorization`, for the
    /// transcript.
    pub(crate) fn content_headers(request: &ScimRequest) -> Vec<(String, String)> {
        let mut headers = vec![("Accept".to_owned(), SCIM_MEDIA_TYPE.to_owned())];
        if request.body.is_some() {
            headers.push(("Content-Type".to_owned(), SCIM_MEDIA_TYPE.to_owned()));
        }
        headers
    }

    /// Sends one request. An error is the text of why no reply came (refused
    /// connection, timeout, unreadable body).
    pub(crate) async fn send(&self, url: &str, authorization: &str, request: &ScimRequest) -> Result<Reply, String> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self.client.request(method, url).header(reqwest::header::AUTHORIZATION, authorization);
        for (name, value) in Self::content_headers(request) {
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(serde_json::to_vec(body).map_err(|e| e.to_string())?);
        }
        let response = builder.send().await.map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.map_err(|e| describe(&e))?;
        Ok(Reply { response: ScimResponse { status, text }, retry_after })
    }
}

impl HttpTransport {
    /// Sends an OAuth 2.0 token request (a form, HTTP Basic client
    /// authentication) and returns the status and body. An error is the text
    /// of why no reply came.
    pub(crate) async fn send_token_request(
        &self,
        request: &crate::scim::oauth::TokenRequest,
    ) -> Result<(u16, String), String> {
        let response = self
            .client
            .post(&request.url)
            .header(reqwest::header::AUTHORIZATION, &request.authorization)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(request.form.clone())
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| describe(&e))?;
        Ok((status, text))
    }
}

/// reqwest's error with its causes, on one line.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut text = format!("the request {kind}: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Reads a running mock's provisioning transcript through its management
/// API, for `mockta scim transcript`.
pub async fn fetch_transcript(org_url: &str, api_token: &str) -> Result<serde_json::Value, String> {
    let url = format!("{}/api/v1/mockta/scim/transcript", org_url.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .get(&url)
        .header(reqwest::header::AUTHORIZATION, format!("SSWS {api_token}"))
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| describe(&e))?;
    if !status.is_success() {
        return Err(format!("{url} answered {status}: {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("{url} answered with JSON that does not parse: {e}"))
}

/// Why a running mock did not start an authorization.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    /// The mock refused the request (an unknown app, one that does not use
    /// OAuth 2.0): its `errorSummary` and causes.
    #[error("{0}")]
    Refused(String),
    /// No usable answer came.
    #[error("{0}")]
    Unreachable(String),
}

/// Asks a running mock to start an OAuth 2.0 authorization for an app's
/// provisioning connection, for `mockta scim authorize`: the answer holds
/// the URL to open in a browser.
pub async fn start_remote_authorization(
    org_url: &str,
    api_token: &str,
    app: &str,
) -> Result<serde_json::Value, RemoteError> {
    let app_segment: String = url::form_urlencoded::byte_serialize(app.as_bytes()).collect();
    let url = format!("{}/api/v1/mockta/scim/apps/{app_segment}/oauth/authorize", org_url.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&url)
        .header(reqwest::header::AUTHORIZATION, format!("SSWS {api_token}"))
        .send()
        .await
        .map_err(|e| RemoteError::Unreachable(describe(&e)))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| RemoteError::Unreachable(describe(&e)))?;
    let body: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    if status.is_success() {
        return body.ok_or_else(|| RemoteError::Unreachable(format!("{url} answered with JSON that does not parse")));
    }
    // Okta's envelope: the summary, then each cause.
    let summary = body.as_ref().and_then(|b| b.get("errorSummary")).and_then(serde_json::Value::as_str);
    let causes: Vec<&str> = body
        .as_ref()
        .and_then(|b| b.get("errorCauses"))
        .and_then(serde_json::Value::as_array)
        .map(|causes| causes.iter().filter_map(|c| c.get("errorSummary").and_then(serde_json::Value::as_str)).collect())
        .unwrap_or_default();
    match summary {
        Some(summary) if status.is_client_error() && status != reqwest::StatusCode::UNAUTHORIZED => {
            let mut message = summary.to_owned();
            for cause in causes {
                message.push_str(&format!(": {cause}"));
            }
            Err(RemoteError::Refused(message))
        }
        _ => Err(RemoteError::Unreachable(format!(
            "{url} answered {status}: {}",
            text.chars().take(200).collect::<String>()
        ))),
    }
}
