//! Requests refused before a handler reads them answer in the endpoint's own
//! format (Okta's envelope, OAuth JSON or an error page), never in plain
//! text; and the armed-fault lists stay bounded however many are armed.

use mock_idp::http::MAX_BODY_BYTES;
use mock_idp::idp::MAX_ARMED_FAULTS;
use mock_idp::oidc::faults::{FaultTarget, OidcFault, OidcFaultPlan};
use mock_idp::saml::SamlFaultPlan;
use mock_idp::saml::faults::SamlFault;
use reqwest::Method;
use serde_json::Value;

use crate::support::{Server, idp};

fn too_large() -> String {
    "a".repeat(MAX_BODY_BYTES + 1)
}

async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    (status, response.json().await.unwrap())
}

/// Sends `request` with a body one byte over the limit, as `content_type`,
/// and returns the status and the JSON body of the answer.
async fn json_answer_to_too_large(request: reqwest::RequestBuilder, content_type: &str) -> (u16, Value) {
    let response = request.header("content-type", content_type).body(too_large()).send().await.unwrap();
    json_of(response).await
}

async fn page_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn management_api_body_over_the_limit_is_okta_envelope_413() {
    let server = Server::start().await;
    let (status, body) = json_answer_to_too_large(server.api(Method::POST, "/users"), "application/json").await;
    assert_eq!(status, 413);
    assert_eq!(body["errorCode"], "E0000003");
    assert!(body["errorId"].as_str().unwrap().starts_with("oae"));
    assert!(!body["errorCauses"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn management_api_query_that_does_not_parse_is_okta_envelope_400() {
    let server = Server::start().await;
    // `activate` must be a boolean; a `limit` that is no number is refused
    // by name instead (admin_lists).
    let (status, body) = json_of(server.api(Method::GET, "/users?activate=maybe").send().await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(body["errorCode"], "E0000001");
    assert_eq!(body["errorSummary"], "Api validation failed: query");
}

#[tokio::test]
async fn token_endpoint_body_over_the_limit_is_oauth_invalid_request_413() {
    let server = Server::start().await;
    let request = server.client.post(server.url("/oauth2/default/v1/token"));
    let (status, body) = json_answer_to_too_large(request, "application/x-www-form-urlencoded").await;
    assert_eq!(status, 413);
    assert_eq!(body["error"], "invalid_request");
    assert!(body["error_description"].as_str().is_some_and(|d| !d.is_empty()));
}

#[tokio::test]
async fn sign_in_form_over_the_limit_is_an_error_page_413() {
    let server = Server::start().await;
    let response = server
        .client
        .post(server.url("/app/acme_referencesp_1/exkrefsp000000000001/sso/saml"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("SAMLRequest={}", too_large()))
        .send()
        .await
        .unwrap();
    let (status, html) = page_of(response).await;
    assert_eq!(status, 413);
    assert!(html.contains("data-error-code=\"invalid_request\""), "{html}");
}

#[tokio::test]
async fn login_page_query_that_does_not_parse_is_an_error_page_400() {
    let server = Server::start().await;
    let (status, html) = page_of(server.client.get(server.url("/login/mockta")).send().await.unwrap()).await;
    assert_eq!(status, 400);
    assert!(html.contains("data-error-code=\"invalid_request\""), "{html}");
}

#[test]
fn armed_fault_lists_keep_only_the_newest() {
    let idp = idp();
    let first_saml = idp.arm_saml_fault(SamlFaultPlan { fault: SamlFault::Unsigned, impersonate: None }, None, None);
    let first_oidc = idp
        .arm_oidc_fault(OidcFaultPlan { fault: OidcFault::ALL[0], target: FaultTarget::default() }, None, None)
        .unwrap();
    for _ in 0..MAX_ARMED_FAULTS {
        idp.arm_saml_fault(SamlFaultPlan { fault: SamlFault::Unsigned, impersonate: None }, None, None);
        idp.arm_oidc_fault(OidcFaultPlan { fault: OidcFault::ALL[0], target: FaultTarget::default() }, None, None)
            .unwrap();
    }
    let saml = idp.armed_saml_faults();
    let oidc = idp.armed_oidc_faults();
    assert_eq!(saml.len(), MAX_ARMED_FAULTS);
    assert_eq!(oidc.len(), MAX_ARMED_FAULTS);
    assert!(saml.iter().all(|f| f.id != first_saml.id), "the oldest SAML fault was dropped");
    assert!(oidc.iter().all(|f| f.id != first_oidc.id), "the oldest OIDC fault was dropped");
}
