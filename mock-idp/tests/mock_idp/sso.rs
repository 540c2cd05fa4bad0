//! Sign-in through the running HTTP server.

use mock_idp::saml::authn_request::encode_redirect;
use reqwest::StatusCode;

use crate::support::{Server, SignatureOf, count, metadata_certificate_pem, parse_form, xmlsec1_verifies};

/// Okta's SSO path: the instance name `{org}_{appslug}_{n}` and the external key.
const APP: &str = "/app/acme_referencesp_1/exkrefsp000000000001/sso/saml";
/// The mock's older SSO path, the app's name and id, kept as an alias.
const OLD_APP: &str = "/app/reference-sp/0oarefsp000000000001/sso/saml";
const EMBED: &str = "/home/acme_referencesp_1/0oarefsp000000000001/alnrefsp000000000001";
const OLD_EMBED: &str = "/home/reference-sp/0oarefsp000000000001/alnrefsp000000000001";
const METADATA: &str = "/app/exkrefsp000000000001/sso/saml/metadata";
const OLD_METADATA: &str = "/app/0oarefsp000000000001/sso/saml/metadata";

fn authn_request(id: &str, acs: Option<&str>, issuer: &str, force: bool) -> String {
    let acs = acs.map(|url| format!(" AssertionConsumerServiceURL=\"{url}\"")).unwrap_or_default();
    format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" IssueInstant=\"2024-01-01T00:00:00Z\" ForceAuthn=\"{force}\"{acs}><saml:Issuer>{issuer}</saml:Issuer></samlp:AuthnRequest>"
    )
}

const SP: &str = "http://127.0.0.1:7100/sso/metadata/acme";

async fn body(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn metadata_has_okta_entity_id_and_both_bindings() {
    let server = Server::start().await;
    let (status, metadata) = body(server.client.get(server.url(METADATA)).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(metadata.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><md:EntityDescriptor entityID=\"http://www.okta.com/exkrefsp000000000001\""));
    assert_eq!(count(&metadata, "<md:SingleSignOnService "), 2);
    assert!(metadata.contains(&format!("Location=\"{}\"", server.url(APP))));
    assert!(metadata.contains("nameid-format:emailAddress"));
    let (status, _) =
        body(server.client.get(server.url("/app/0oaNOSUCHAPP00000000/sso/saml/metadata")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn idp_initiated_with_login_hint_posts_default_relay_state() {
    let server = Server::start().await;
    let response = server.client.get(server.url(&format!("{EMBED}?login_hint=alice@acme.test"))).send().await.unwrap();
    let (status, html) = body(response).await;
    assert_eq!(status, StatusCode::OK);
    let form = parse_form(&html);
    assert_eq!(form.action, "http://127.0.0.1:7100/sso/acs/acme");
    assert_eq!(form.relay_state, "/welcome");
    assert!(!form.response_xml.contains("InResponseTo"), "IdP-initiated responses have no InResponseTo");
    assert!(form.response_xml.contains(">alice@acme.test</saml2:NameID>"));
    let metadata = server.idp.metadata("0oarefsp000000000001").unwrap();
    assert!(xmlsec1_verifies(&form.response_xml, &metadata_certificate_pem(&metadata), SignatureOf::Response));
    assert_eq!(
        count(&form.response_xml, ">http://www.okta.com/exkrefsp000000000001</saml2:Issuer>"),
        2,
        "both Issuers carry the external key"
    );
}

#[tokio::test]
async fn the_mocks_older_metadata_path_answers_the_same_metadata() {
    let server = Server::start().await;
    let (status, okta_shape) = body(server.client.get(server.url(METADATA)).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, alias) = body(server.client.get(server.url(OLD_METADATA)).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(alias, okta_shape);
    // An OIDC app has no metadata under either name.
    let (status, _) =
        body(server.client.get(server.url("/app/0oarefspoidc00000007/sso/saml/metadata")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_mocks_older_sso_paths_still_sign_in() {
    let server = Server::start().await;
    for embed in [EMBED, OLD_EMBED] {
        let response =
            server.client.get(server.url(&format!("{embed}?login_hint=alice@acme.test"))).send().await.unwrap();
        let (status, html) = body(response).await;
        assert_eq!(status, StatusCode::OK, "{embed}: {html}");
        assert!(parse_form(&html).response_xml.contains(">alice@acme.test</saml2:NameID>"), "{embed}");
    }
    for app in [APP, OLD_APP] {
        let request = encode_redirect(&authn_request("_req_alias_1", None, SP, false));
        let url = reqwest::Url::parse_with_params(
            &server.url(app),
            &[("SAMLRequest", request.as_str()), ("login_hint", "alice@acme.test")],
        )
        .unwrap();
        let (status, html) = body(server.client.get(url).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{app}: {html}");
        assert_eq!(count(&parse_form(&html).response_xml, "InResponseTo=\"_req_alias_1\""), 2, "{app}");
    }
    // Another app's instance name with this app's id names no app.
    let url =
        server.url("/home/acme_responsesigned_1/0oarefsp000000000001/alnrefsp000000000001?login_hint=alice@acme.test");
    assert_eq!(server.client.get(url).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn idp_initiated_relay_state_can_be_overridden() {
    let server = Server::start().await;
    let url = server.url(&format!("{EMBED}?login_hint=bob@acme.test&RelayState=%2Freports"));
    let form = parse_form(&body(server.client.get(url).send().await.unwrap()).await.1);
    assert_eq!(form.relay_state, "/reports");
}

#[tokio::test]
async fn sp_initiated_redirect_keeps_in_response_to_and_relay_state() {
    let server = Server::start().await;
    let request = encode_redirect(&authn_request("_req_redirect_1", None, SP, false));
    let url = reqwest::Url::parse_with_params(
        &server.url(APP),
        &[("SAMLRequest", request.as_str()), ("RelayState", "/deep/link"), ("login_hint", "alice@acme.test")],
    )
    .unwrap();
    let (status, html) = body(server.client.get(url).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let form = parse_form(&html);
    assert_eq!(form.relay_state, "/deep/link");
    assert_eq!(count(&form.response_xml, "InResponseTo=\"_req_redirect_1\""), 2);
    assert!(form.response_xml.contains("SessionIndex=\"_req_redirect_1\""), "Okta's SessionIndex is the request ID");
}

#[tokio::test]
async fn sp_initiated_post_binding_and_requestable_acs() {
    let server = Server::start().await;
    use base64::Engine;
    let xml = authn_request("_req_post_1", Some("http://127.0.0.1:7100/sso/acs/"), SP, false);
    let encoded = base64::engine::general_purpose::STANDARD.encode(xml);
    let response = server
        .client
        .post(server.url(&format!("{APP}?login_hint=alice@acme.test")))
        .form(&[("SAMLRequest", encoded.as_str()), ("RelayState", "acme")])
        .send()
        .await
        .unwrap();
    let form = parse_form(&body(response).await.1);
    assert_eq!(form.action, "http://127.0.0.1:7100/sso/acs/");
    assert!(form.response_xml.contains("Destination=\"http://127.0.0.1:7100/sso/acs/\""));
    assert!(form.response_xml.contains("Recipient=\"http://127.0.0.1:7100/sso/acs/\""));
}

#[tokio::test]
async fn unregistered_acs_and_wrong_issuer_get_error_page_not_response() {
    let server = Server::start().await;
    for (xml, code) in [
        (authn_request("_a", Some("https://evil.invalid/acs"), SP, false), "acs_not_allowed"),
        (authn_request("_b", None, "https://someone-else.invalid", false), "issuer_mismatch"),
    ] {
        let url = reqwest::Url::parse_with_params(
            &server.url(APP),
            &[("SAMLRequest", encode_redirect(&xml).as_str()), ("login_hint", "alice@acme.test")],
        )
        .unwrap();
        let (status, html) = body(server.client.get(url).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains(&format!("data-error-code=\"{code}\"")), "{html}");
        assert!(!html.contains("SAMLResponse"));
    }
}

#[tokio::test]
async fn garbage_saml_request_gets_400_page() {
    let server = Server::start().await;
    for garbage in ["%%%", "bm90IGRlZmxhdGU=", ""] {
        let url = reqwest::Url::parse_with_params(&server.url(APP), &[("SAMLRequest", garbage)]).unwrap();
        let (status, html) = body(server.client.get(url).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{garbage}");
        assert!(html.contains("invalid_saml_request"));
    }
}

#[tokio::test]
async fn unassigned_and_inactive_users_never_get_an_assertion() {
    let server = Server::start().await;
    for (login, code) in [
        ("erin@acme.test", "not_assigned"),
        ("carol@acme.test", "user_not_active"),
        ("dave@acme.test", "user_not_active"),
        ("nobody@acme.test", "unknown_user"),
    ] {
        let (status, html) =
            body(server.client.get(server.url(&format!("{EMBED}?login_hint={login}"))).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{login}");
        assert!(html.contains(&format!("data-error-code=\"{code}\"")), "{login}: {html}");
        assert!(!html.contains("SAMLResponse"), "{login}");
    }
    let (_, html) =
        body(server.client.get(server.url(&format!("{EMBED}?login_hint=erin@acme.test"))).send().await.unwrap()).await;
    assert!(html.contains("User is not assigned to this application."));
}

#[tokio::test]
async fn login_page_lists_assigned_users_then_session_is_reused() {
    let server = Server::start().await;
    let response = server.client.get(server.url(EMBED)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (_, page) = body(server.client.get(server.url(&location)).send().await.unwrap()).await;
    assert!(page.contains("alice@acme.test") && page.contains("bob@acme.test"));
    assert!(!page.contains("erin@acme.test"), "erin is not assigned");
    assert!(!page.contains("carol@acme.test"), "carol is suspended");
    let pending = location.split("pending=").nth(1).unwrap();
    let response = server
        .client
        .post(server.url("/login/mockta"))
        .form(&[("pending", pending), ("login", "bob@acme.test")])
        .send()
        .await
        .unwrap();
    assert!(response.headers()["set-cookie"].to_str().unwrap().contains("HttpOnly"));
    let form = parse_form(&body(response).await.1);
    assert!(form.response_xml.contains(">bob@acme.test</saml2:NameID>"));

    // The mock session now answers without the login page.
    let (status, html) = body(server.client.get(server.url(EMBED)).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(parse_form(&html).response_xml.contains(">bob@acme.test</saml2:NameID>"));

    // ForceAuthn makes the user sign in again.
    let request = encode_redirect(&authn_request("_force", None, SP, true));
    let url = reqwest::Url::parse_with_params(&server.url(APP), &[("SAMLRequest", request.as_str())]).unwrap();
    let response = server.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "ForceAuthn ignores the existing session");

    // A used pending sign-in cannot be replayed.
    let response = server
        .client
        .post(server.url("/login/mockta"))
        .form(&[("pending", pending), ("login", "alice@acme.test")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
