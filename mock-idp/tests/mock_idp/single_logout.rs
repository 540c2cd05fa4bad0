//! Okta's SP-initiated Single Logout: a LogoutRequest signed by the app's
//! signature certificate (either binding) ends the mock session and gets a
//! signed LogoutResponse POSTed to the SP's Single Logout URL; an unsigned
//! or foreign-signed one, or one that only carries someone else's
//! signature inside it, is answered `Requester` / `RequestDenied` and the
//! session stays. The SP side's signatures are made with OpenSSL and
//! libxmlsec1 templates here, not with the mock's code.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::StatusCode;
use xmlsec::{XmlSecDocumentExt, XmlSecKey, XmlSecKeyFormat, XmlSecSignatureContext};

use crate::signed_requests::{SpSigner, redirect_query, sp_signer};
use crate::support::{Server, metadata_certificate_pem, parse_form};

const SSO: &str = "/app/acme_referencesp_1/exkrefsp000000000001/sso/saml";
const SLO: &str = "/app/acme_referencesp_1/exkrefsp000000000001/slo/saml";
const SP: &str = "http://127.0.0.1:7100/sso/metadata/acme";
const SP_SLO_URL: &str = "http://127.0.0.1:7100/sso/slo/acme";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const DENIED: &str = "<saml2p:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Requester\"><saml2p:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:RequestDenied\"/></saml2p:StatusCode>";

fn logout_request(id: &str, inside: &str) -> String {
    format!(
        "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" IssueInstant=\"2024-01-01T00:00:00Z\"><saml:Issuer>{SP}</saml:Issuer><saml:NameID>alice@acme.test</saml:NameID>{inside}</samlp:LogoutRequest>"
    )
}

/// `xml` with an enveloped signature by `key_pem` on the element with `id`,
/// placed after that element's Issuer.
fn sign_enveloped(xml: &str, id: &str, key_pem: &str) -> String {
    let template = format!(
        "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/><ds:SignatureMethod Algorithm=\"{RSA_SHA256}\"/><ds:Reference URI=\"#{id}\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>"
    );
    let marker = format!("ID=\"{id}\"");
    let at = xml.find(&marker).unwrap();
    let issuer_end = xml[at..].find("</saml:Issuer>").unwrap() + at + "</saml:Issuer>".len();
    let with_template = format!("{}{template}{}", &xml[..issuer_end], &xml[issuer_end..]);
    let document = libxml::parser::Parser::default().parse_string(&with_template).unwrap();
    document.specify_idattr("//*[@ID]", "ID", None).unwrap();
    let root = document.get_root_element().unwrap();
    let signature =
        root.findnodes(&format!("//*[@ID='{id}']/*[local-name()='Signature']")).unwrap().into_iter().next().unwrap();
    let mut context = XmlSecSignatureContext::new();
    context.insert_key(XmlSecKey::from_memory(key_pem.as_bytes(), XmlSecKeyFormat::Pem, None).unwrap());
    context.sign_node(&signature).unwrap();
    document.to_string()
}

/// A server whose reference-sp app has Single Logout on, with a signed-in
/// browser (alice); returns the mock session cookie's value.
async fn signed_in_server(signer: &SpSigner) -> (Server, String) {
    let server = Server::start().await;
    server.idp.write_org(|org| {
        let id = org.find_app("reference-sp").unwrap().id.clone();
        org.apps.get_mut(&id).unwrap().saml_mut().unwrap().single_logout = Some(mock_idp::org::SingleLogout {
            url: SP_SLO_URL.into(),
            sp_issuer: SP.into(),
            certificate: signer.cert_pem.clone(),
        });
    });
    let authn = "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_a1\" Version=\"2.0\" IssueInstant=\"2024-01-01T00:00:00Z\"/>";
    let query = format!(
        "SAMLRequest={}&login_hint=alice@acme.test",
        url::form_urlencoded::byte_serialize(mock_idp::saml::authn_request::encode_redirect(authn).as_bytes())
            .collect::<String>()
    );
    let response = server.client.get(format!("{}?{query}", server.url(SSO))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    let token = set_cookie.trim_start_matches("sid=").split(';').next().unwrap().to_owned();
    assert!(server.idp.has_session(&token));
    (server, token)
}

/// Checks the LogoutResponse's enveloped signature with the metadata
/// certificate, as an SP would.
fn verifies_with_metadata_certificate(xml: &str, metadata: &str) -> bool {
    let document = libxml::parser::Parser::default().parse_string(xml).unwrap();
    document.specify_idattr("/*", "ID", None).unwrap();
    let root = document.get_root_element().unwrap();
    let signature = root.findnodes("./*[local-name()='Signature']").unwrap().remove(0);
    let key =
        XmlSecKey::from_memory(metadata_certificate_pem(metadata).as_bytes(), XmlSecKeyFormat::CertPem, None).unwrap();
    let mut context = XmlSecSignatureContext::new();
    context.insert_key(key);
    context.verify_node(&signature).unwrap_or(false)
}

async fn post_logout(server: &Server, path: &str, xml: &str) -> (StatusCode, String) {
    let response = server
        .client
        .post(server.url(path))
        .form(&[("SAMLRequest", BASE64.encode(xml).as_str()), ("RelayState", "/bye")])
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_redirect_logout_request_signed_by_the_sp_ends_the_session_with_a_signed_success_response() {
    let signer = sp_signer();
    let (server, token) = signed_in_server(&signer).await;
    let query = redirect_query(&logout_request("_logout1", ""), "/bye", &signer.key, RSA_SHA256, true);
    let response = server.client.get(format!("{}?{query}", server.url(SLO))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cleared = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cleared.starts_with("sid=;") && cleared.contains("Max-Age=0"), "{cleared}");
    let form = parse_form(&response.text().await.unwrap());
    assert_eq!(form.action, SP_SLO_URL);
    assert_eq!(form.relay_state, "/bye");
    let xml = &form.response_xml;
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><saml2p:LogoutResponse Destination=\""),
        "{xml}"
    );
    assert!(xml.contains("InResponseTo=\"_logout1\""), "{xml}");
    assert!(xml.contains(&format!("<saml2p:StatusCode Value=\"{SUCCESS}\"/>")), "{xml}");
    assert!(xml.contains(">http://www.okta.com/exkrefsp000000000001</saml2:Issuer>"), "{xml}");
    let metadata = server.idp.metadata("exkrefsp000000000001").unwrap();
    assert!(verifies_with_metadata_certificate(xml, &metadata), "{xml}");
    assert!(!server.idp.has_session(&token), "the mock session ended");
}

#[tokio::test]
async fn a_post_logout_request_needs_its_own_signature_and_a_refused_one_keeps_the_session() {
    let signer = sp_signer();
    let (server, token) = signed_in_server(&signer).await;

    // Unsigned.
    let (status, html) = post_logout(&server, SLO, &logout_request("_unsigned", "")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let form = parse_form(&html);
    assert!(form.response_xml.contains(DENIED) && form.response_xml.contains("InResponseTo=\"_unsigned\""));
    assert_eq!(form.action, SP_SLO_URL);
    assert!(server.idp.has_session(&token));

    // Signed by another key.
    let stranger = sp_signer();
    let foreign = sign_enveloped(&logout_request("_foreign", ""), "_foreign", &stranger.key_pem);
    assert!(parse_form(&post_logout(&server, SLO, &foreign).await.1).response_xml.contains(DENIED));
    assert!(server.idp.has_session(&token));

    // Unsigned itself, carrying an element the SP's key did sign: the
    // signature is not the LogoutRequest's, so it proves nothing.
    let wrapping = logout_request(
        "_wrapping",
        &format!(
            "<samlp:Extensions><saml:Assertion ID=\"_carried\" Version=\"2.0\" IssueInstant=\"2024-01-01T00:00:00Z\"><saml:Issuer>{SP}</saml:Issuer></saml:Assertion></samlp:Extensions>"
        ),
    );
    let carried = sign_enveloped(&wrapping, "_carried", &signer.key_pem);
    let (_, html) = post_logout(&server, SLO, &carried).await;
    assert!(parse_form(&html).response_xml.contains(DENIED), "{carried}");
    assert!(server.idp.has_session(&token));

    // Signed by the SP but from another issuer.
    let other_issuer =
        sign_enveloped(&logout_request("_issuer", "").replace(SP, "urn:someone-else"), "_issuer", &signer.key_pem);
    assert!(parse_form(&post_logout(&server, SLO, &other_issuer).await.1).response_xml.contains(DENIED));
    assert!(server.idp.has_session(&token));

    // Signed by the SP, on the older path alias: honoured.
    let app_id = server.idp.read_org(|org| org.find_app("reference-sp").unwrap().id.to_string());
    let signed = sign_enveloped(&logout_request("_signed", ""), "_signed", &signer.key_pem);
    let (_, html) = post_logout(&server, &format!("/app/reference-sp/{app_id}/slo/saml"), &signed).await;
    let form = parse_form(&html);
    assert!(form.response_xml.contains(SUCCESS) && form.response_xml.contains("InResponseTo=\"_signed\""));
    assert!(!server.idp.has_session(&token));
}

#[tokio::test]
async fn metadata_lists_single_logout_only_when_it_is_on_and_an_app_without_it_refuses() {
    let server = Server::start().await;
    let metadata = server.idp.metadata("exkrefsp000000000001").unwrap();
    assert!(!metadata.contains("SingleLogoutService"), "{metadata}");
    let (status, html) = post_logout(&server, SLO, &logout_request("_off", "")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("data-error-code=\"single_logout_not_enabled\""), "{html}");

    let signer = sp_signer();
    let (server, _) = signed_in_server(&signer).await;
    let metadata = server.idp.metadata("exkrefsp000000000001").unwrap();
    let slo = format!("{}/app/acme_referencesp_1/exkrefsp000000000001/slo/saml", server.server.url());
    let expected = format!(
        "<md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"{slo}\"/><md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{slo}\"/><md:NameIDFormat>"
    );
    assert!(metadata.contains(&expected), "{metadata}");
    // Not a LogoutRequest at all: the error page, never a panic.
    let (status, html) = post_logout(&server, SLO, "<not-saml/>").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("data-error-code=\"invalid_logout_request\""), "{html}");
}

#[test]
fn the_org_file_needs_the_signature_certificate_with_slo_url() {
    let text = mock_idp::setup::BUILTIN_ORG.replacen(
        "audience = \"http://127.0.0.1:7100/sso/metadata/acme\"",
        "audience = \"http://127.0.0.1:7100/sso/metadata/acme\"\nslo_url = \"http://127.0.0.1:7100/sso/slo/acme\"",
        1,
    );
    let error = mock_idp::org::parse_org("acme.toml", &text, time::OffsetDateTime::now_utc()).unwrap_err().to_string();
    assert!(error.contains("request_signing_certificate: is needed with slo_url"), "{error}");
}
