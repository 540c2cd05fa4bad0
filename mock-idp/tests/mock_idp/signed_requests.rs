//! Okta's signed requests: with `require_signed_authn_requests`, an
//! AuthnRequest must be signed by the SP's certificate, by the HTTP-Redirect
//! binding (SigAlg and Signature over the encoded query) or the HTTP-POST
//! binding (an enveloped signature); anything else gets Okta's error page.
//! The signatures here are made with OpenSSL (redirect) and libxmlsec1
//! templates signed with the SP's key (POST), not with the mock's code.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use mock_idp::saml::authn_request::encode_redirect;
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use openssl::x509::{X509, X509NameBuilder};
use reqwest::StatusCode;
use xmlsec::{XmlSecDocumentExt, XmlSecKey, XmlSecKeyFormat, XmlSecSignatureContext};

use crate::support::{Server, parse_form};

const APP: &str = "/app/acme_referencesp_1/exkrefsp000000000001/sso/saml";
const SP: &str = "http://127.0.0.1:7100/sso/metadata/acme";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

/// The SP's signing key pair; `single_logout.rs` signs LogoutRequests with it too.
pub(crate) struct SpSigner {
    pub(crate) key: PKey<Private>,
    pub(crate) key_pem: String,
    pub(crate) cert_pem: String,
}

pub(crate) fn sp_signer() -> SpSigner {
    self_signed_key_pair("sp.example signing")
}

/// A fresh RSA-2048 key and a self-signed certificate for it, valid for a
/// year, as an SP's metadata would carry; `encryption.rs` uses it too.
pub(crate) fn self_signed_key_pair(common_name: &str) -> SpSigner {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", common_name).unwrap();
    let name = name.build();
    let mut builder = X509::builder().unwrap();
    builder.set_version(2).unwrap();
    builder.set_subject_name(&name).unwrap();
    builder.set_issuer_name(&name).unwrap();
    builder.set_pubkey(&key).unwrap();
    builder.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
    builder.set_not_after(&Asn1Time::days_from_now(365).unwrap()).unwrap();
    builder.sign(&key, MessageDigest::sha256()).unwrap();
    SpSigner {
        key_pem: String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap(),
        cert_pem: String::from_utf8(builder.build().to_pem().unwrap()).unwrap(),
        key,
    }
}

fn request(id: &str) -> String {
    format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" IssueInstant=\"2024-01-01T00:00:00Z\"><saml:Issuer>{SP}</saml:Issuer></samlp:AuthnRequest>"
    )
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The query of a redirect-binding request, signed with `key` over the
/// encoded parameters when `signed` (SAML Bindings 3.4.4.1).
pub(crate) fn redirect_query(xml: &str, relay_state: &str, key: &PKey<Private>, sig_alg: &str, signed: bool) -> String {
    let mut query = format!("SAMLRequest={}&RelayState={}", encode(&encode_redirect(xml)), encode(relay_state));
    if signed {
        query.push_str(&format!("&SigAlg={}", encode(sig_alg)));
        let mut signer = Signer::new(MessageDigest::sha256(), key).unwrap();
        signer.update(query.as_bytes()).unwrap();
        query.push_str(&format!("&Signature={}", encode(&BASE64.encode(signer.sign_to_vec().unwrap()))));
    }
    query
}

/// An AuthnRequest with an enveloped signature by `key_pem` (after its Issuer).
fn post_signed(id: &str, key_pem: &str) -> String {
    let template = format!(
        "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/><ds:SignatureMethod Algorithm=\"{RSA_SHA256}\"/><ds:Reference URI=\"#{id}\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>"
    );
    let xml = request(id).replace("</saml:Issuer>", &format!("</saml:Issuer>{template}"));
    let document = libxml::parser::Parser::default().parse_string(&xml).unwrap();
    document
        .specify_idattr("//samlp:AuthnRequest", "ID", Some(&[("samlp", "urn:oasis:names:tc:SAML:2.0:protocol")]))
        .unwrap();
    let root = document.get_root_element().unwrap();
    let signature = root.findnodes("./*[local-name()='Signature']").unwrap().remove(0);
    let mut context = XmlSecSignatureContext::new();
    context.insert_key(XmlSecKey::from_memory(key_pem.as_bytes(), XmlSecKeyFormat::Pem, None).unwrap());
    context.sign_node(&signature).unwrap();
    document.to_string()
}

async fn requiring_server(signer: &SpSigner) -> Server {
    let server = Server::start().await;
    server.idp.write_org(|org| {
        let id = org.find_app("reference-sp").unwrap().id.clone();
        org.apps.get_mut(&id).unwrap().saml_mut().unwrap().request_signing_certificate = Some(signer.cert_pem.clone());
    });
    server
}

async fn get(server: &Server, query: &str) -> (StatusCode, String) {
    let url = format!("{}?{query}&login_hint=alice@acme.test", server.url(APP));
    let response = server.client.get(url).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn post(server: &Server, xml: &str) -> (StatusCode, String) {
    let response = server
        .client
        .post(server.url(&format!("{APP}?login_hint=alice@acme.test")))
        .form(&[("SAMLRequest", BASE64.encode(xml).as_str()), ("RelayState", "acme")])
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

fn refused(answer: &(StatusCode, String)) {
    assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{}", answer.1);
    assert!(answer.1.contains("data-error-code=\"invalid_request_signature\""), "{}", answer.1);
    assert!(!answer.1.contains("SAMLResponse"), "{}", answer.1);
}

#[tokio::test]
async fn a_redirect_request_signed_by_the_sp_signs_in_and_an_unsigned_or_foreign_one_is_refused() {
    let signer = sp_signer();
    let server = requiring_server(&signer).await;
    let (status, html) = get(&server, &redirect_query(&request("_signed"), "/x", &signer.key, RSA_SHA256, true)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(parse_form(&html).response_xml.contains("InResponseTo=\"_signed\""), "{html}");

    refused(&get(&server, &redirect_query(&request("_unsigned"), "/x", &signer.key, RSA_SHA256, false)).await);
    let stranger = sp_signer();
    refused(&get(&server, &redirect_query(&request("_foreign"), "/x", &stranger.key, RSA_SHA256, true)).await);
    // The RelayState is covered: changing it after signing breaks the signature.
    let query = redirect_query(&request("_relay"), "/x", &signer.key, RSA_SHA256, true)
        .replace("RelayState=%2Fx", "RelayState=%2Fy");
    refused(&get(&server, &query).await);
    // RSA-SHA1 is not accepted (the signature is SHA-256 here, the name is what is refused).
    let sha1 = redirect_query(&request("_sha1"), "/x", &signer.key, "http://www.w3.org/2000/09/xmldsig#rsa-sha1", true);
    let answer = get(&server, &sha1).await;
    refused(&answer);
    assert!(answer.1.contains("rsa-sha1"), "{}", answer.1);
}

#[tokio::test]
async fn a_post_request_with_the_sp_s_enveloped_signature_signs_in_and_others_are_refused() {
    let signer = sp_signer();
    let server = requiring_server(&signer).await;
    let (status, html) = post(&server, &post_signed("_post_signed", &signer.key_pem)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(parse_form(&html).response_xml.contains("InResponseTo=\"_post_signed\""), "{html}");

    refused(&post(&server, &request("_post_unsigned")).await);
    refused(&post(&server, &post_signed("_post_foreign", &sp_signer().key_pem)).await);
    // An edited request no longer matches its signature.
    let edited = post_signed("_post_edited", &signer.key_pem).replace(SP, "http://127.0.0.1:7100/sso/metadata/other");
    refused(&post(&server, &edited).await);
}

#[tokio::test]
async fn without_the_setting_unsigned_requests_still_sign_in() {
    let server = Server::start().await;
    let (status, html) = post(&server, &request("_plain")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (status, html) =
        get(&server, &redirect_query(&request("_plain_r"), "/x", &sp_signer().key, RSA_SHA256, false)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
}

#[test]
fn the_org_file_needs_a_certificate_with_the_setting_and_the_setting_with_a_certificate() {
    let base = include_str!("../../../fixtures/orgs/acme.toml");
    let marker = "[apps.saml]\n";
    assert!(base.contains(marker));
    let with = |lines: &str| base.replacen(marker, &format!("{marker}{lines}\n"), 1);
    let error = |text: String| {
        mock_idp::org::parse_org("acme.toml", &text, time::OffsetDateTime::UNIX_EPOCH).unwrap_err().to_string()
    };
    let missing = error(with("require_signed_authn_requests = true"));
    assert!(
        missing.contains("request_signing_certificate: is needed with require_signed_authn_requests = true"),
        "{missing}"
    );
    let lonely = error(with(&format!("request_signing_certificate = '''{}'''", sp_signer().cert_pem)));
    assert!(lonely.contains("is used only with require_signed_authn_requests = true"), "{lonely}");
    let good = with(&format!(
        "require_signed_authn_requests = true\nrequest_signing_certificate = '''{}'''",
        sp_signer().cert_pem
    ));
    let org = mock_idp::org::parse_org("acme.toml", &good, time::OffsetDateTime::UNIX_EPOCH).unwrap();
    assert!(org.apps.values().any(|a| a.saml().is_some_and(|s| s.request_signing_certificate.is_some())));
}

/// A refused enveloped signature is answered by the mock's own error only:
/// libxmlsec1 prints nothing on stderr. Stderr of this test process cannot
/// be read from inside it, so the test runs itself again as a child process
/// (the same test binary, this test only, marked by an environment
/// variable) and reads the child's stderr.
#[test]
fn a_refused_post_signature_prints_no_xmlsec_lines() {
    const CHILD: &str = "MOCKTA_SIGNED_REQUESTS_STDERR_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let signer = sp_signer();
        let foreign = post_signed("_quiet_foreign", &sp_signer().key_pem);
        let edited =
            post_signed("_quiet_edited", &signer.key_pem).replace(SP, "http://127.0.0.1:7100/sso/metadata/other");
        for xml in [foreign, edited] {
            let refused = mock_idp::saml::request_signature::verify_post(&xml, &signer.cert_pem);
            assert_eq!(refused, Err(mock_idp::saml::request_signature::RequestSignatureError::Invalid));
        }
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "signed_requests::a_refused_post_signature_prints_no_xmlsec_lines", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("1 passed"), "the child ran the refusals: {stdout}");
    assert!(!stderr.contains("func="), "{stderr}");
}
