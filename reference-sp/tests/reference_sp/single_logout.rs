//! SAML Single Logout at the reference SP: `/sso/logout/acme` ends the
//! local session and sends a LogoutRequest signed with the tenant's key
//! (NameID and SessionIndex from the session); `/sso/slo/acme` takes the
//! IdP's signed LogoutResponse for that request only, and a LogoutRequest
//! from the IdP only by its own signature (attacks.md S-33). The IdP side
//! is this file's own: messages signed with the test IdP's key by xmlsec.

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reference_sp::flaws::Flaw;
use reference_sp::http::RunningSp;
use reference_sp::sp::{Sp, SystemClock};
use reference_sp::store::sqlite::SqliteStore;
use xmlsec::{XmlSecDocumentExt, XmlSecKey, XmlSecKeyFormat, XmlSecSignatureContext};

use crate::support::{BASE_URL, IDP_ENTITY_ID, KeyPair, Spec, idp_key, make_key, metadata_xml, other_key};

const IDP_SLO: &str = "http://idp.test/app/acme_sp_1/exk-test/slo/saml";
const SP_SLO: &str = "http://sp.test/sso/slo/acme";
const SP_ENTITY_ID: &str = "http://sp.test/sso/metadata/acme";

struct SloSp {
    server: RunningSp,
    signing: KeyPair,
    _dir: tempfile::TempDir,
}

fn pem(certificate_base64: &str) -> String {
    let lines: Vec<String> =
        certificate_base64.as_bytes().chunks(64).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

impl SloSp {
    async fn start(flaws: &[Flaw], allow_idp_initiated: bool) -> SloSp {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("idp.xml"), metadata_xml()).unwrap();
        let signing = make_key("sp-signing");
        std::fs::write(dir.path().join("sp.key.pem"), &signing.key_pem).unwrap();
        std::fs::write(dir.path().join("sp.cert.pem"), pem(&signing.cert_base64)).unwrap();
        let config = format!(
            r#"
[server]
listen = "127.0.0.1:0"
base_url = "{BASE_URL}"
database = "{db}"

[[tenants]]
id = "acme"
allowed_email_domains = ["acme.test"]
provisioning = "jit"
allow_idp_initiated = true
break_glass = {{ email = "breakglass@acme.test", password = "test-password" }}
saml = {{ idp_metadata_file = "idp.xml", sign_authn_requests = true, signing_key_file = "sp.key.pem", signing_certificate_file = "sp.cert.pem", single_logout_url = "{IDP_SLO}", allow_idp_initiated_logout = {allow_idp_initiated} }}
"#,
            db = dir.path().join("sp.sqlite3").display(),
        );
        let config = reference_sp::config::parse_config("test.toml", &config, dir.path()).unwrap();
        let store = SqliteStore::open(&config.database).unwrap();
        let flaws: BTreeSet<Flaw> = flaws.iter().copied().collect();
        let sp = Arc::new(Sp::new(config, Arc::new(store), flaws, Arc::new(SystemClock)).unwrap());
        reference_sp::idp_fetch::refresh_all(&sp).await;
        let server = RunningSp::start("127.0.0.1:0".parse().unwrap(), sp).await.unwrap();
        SloSp { server, signing, _dir: dir }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// Signs `email` in with an unsolicited response whose SessionIndex is
    /// `session_index`; returns the signed response's XML.
    async fn sign_in(&self, browser: &reqwest::Client, email: &str, session_index: &str) -> String {
        let mut spec = Spec::valid(email);
        spec.session_index = Some(session_index.into());
        let xml = spec.xml();
        let response = browser
            .post(self.url("/sso/acs/acme"))
            .form(&[("SAMLResponse", BASE64.encode(&xml))])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{:?}", response.headers().get("x-error-code"));
        xml
    }

    async fn whoami(&self, browser: &reqwest::Client) -> Option<String> {
        let response = browser.get(self.url("/whoami")).send().await.unwrap();
        if response.status() != 200 {
            return None;
        }
        let body: serde_json::Value = response.json().await.unwrap();
        body["email"].as_str().map(str::to_owned)
    }

    /// POSTs a logout message to the SLO URL; returns status, error code,
    /// location and body.
    async fn post_slo(
        &self,
        browser: &reqwest::Client,
        field: &str,
        xml: &str,
    ) -> (u16, Option<String>, Option<String>, String) {
        let response =
            browser.post(self.url("/sso/slo/acme")).form(&[(field, BASE64.encode(xml))]).send().await.unwrap();
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        let (code, location) = (header("x-error-code"), header("location"));
        (status, code, location, response.text().await.unwrap())
    }
}

/// Signs the root element of `xml` (its template after the Issuer) with `key`.
fn sign_root(xml: &str, id: &str, key: &KeyPair) -> String {
    let template = format!(
        "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/><ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/><ds:Reference URI=\"#{id}\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>"
    );
    let with_template = xml.replacen("</saml:Issuer>", &format!("</saml:Issuer>{template}"), 1);
    let document = libxml::parser::Parser::default().parse_string(&with_template).unwrap();
    document.specify_idattr("/*", "ID", None).unwrap();
    let root = document.get_root_element().unwrap();
    let signature = root.findnodes("./*[local-name()='Signature']").unwrap().remove(0);
    let mut context = XmlSecSignatureContext::new();
    context.insert_key(XmlSecKey::from_memory(key.key_pem.as_bytes(), XmlSecKeyFormat::Pem, None).unwrap());
    context.sign_node(&signature).unwrap();
    document.to_string()
}

fn logout_response(id: &str, in_response_to: &str, status: &str) -> String {
    format!(
        "<samlp:LogoutResponse xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" IssueInstant=\"2024-01-01T00:00:00Z\" Destination=\"{SP_SLO}\" InResponseTo=\"{in_response_to}\"><saml:Issuer>{IDP_ENTITY_ID}</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:{status}\"/></samlp:Status></samlp:LogoutResponse>"
    )
}

fn logout_request(id: &str, name_id: &str, session_index: &str, inside: &str) -> String {
    format!(
        "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" IssueInstant=\"2024-01-01T00:00:00Z\" Destination=\"{SP_SLO}\"><saml:Issuer>{IDP_ENTITY_ID}</saml:Issuer>{inside}<saml:NameID>{name_id}</saml:NameID><samlp:SessionIndex>{session_index}</samlp:SessionIndex></samlp:LogoutRequest>"
    )
}

/// The signed Assertion of a signed response, as an attacker would cut it out.
fn signed_assertion(response_xml: &str) -> String {
    let start = response_xml.find("<saml:Assertion ").unwrap();
    let end = response_xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    response_xml[start..end].to_owned()
}

/// Reads the LogoutRequest the SP sent: its XML and the raw query, whose
/// signature the caller checks.
fn sent_request(location: &str) -> (String, String) {
    let url = url::Url::parse(location).unwrap();
    assert_eq!(format!("{}://{}{}", url.scheme(), url.host_str().unwrap(), url.path()), IDP_SLO);
    let encoded = url.query_pairs().find(|(k, _)| k == "SAMLRequest").unwrap().1.into_owned();
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(BASE64.decode(encoded).unwrap().as_slice()).read_to_string(&mut xml).unwrap();
    (xml, url.query().unwrap().to_owned())
}

fn attribute(xml: &str, name: &str) -> String {
    let marker = format!(" {name}=\"");
    let start = xml.find(&marker).unwrap() + marker.len();
    xml[start..start + xml[start..].find('"').unwrap()].to_owned()
}

/// Whether the redirect binding's signature over `query` verifies with the
/// SP's certificate (SAML Bindings 3.4.4.1).
fn redirect_signature_verifies(query: &str, signing: &KeyPair) -> bool {
    let (signed, signature) = query.split_once("&Signature=").unwrap();
    let signature: String = url::form_urlencoded::parse(format!("s={signature}").as_bytes()).next().unwrap().1.into();
    let certificate = openssl::x509::X509::from_der(&BASE64.decode(&signing.cert_base64).unwrap()).unwrap();
    let key = certificate.public_key().unwrap();
    let mut verifier = openssl::sign::Verifier::new(openssl::hash::MessageDigest::sha256(), &key).unwrap();
    verifier.update(signed.as_bytes()).unwrap();
    verifier.verify(&BASE64.decode(signature).unwrap()).unwrap()
}

#[tokio::test]
async fn sp_initiated_logout_ends_the_session_and_takes_only_the_idps_signed_answer_to_its_request() {
    let sp = SloSp::start(&[], false).await;
    let browser = sp.browser();
    sp.sign_in(&browser, "ann@acme.test", "idx-ann").await;
    assert_eq!(sp.whoami(&browser).await.as_deref(), Some("ann@acme.test"));

    let response = browser.get(sp.url("/sso/logout/acme?relay_state=/bye")).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(sp.whoami(&browser).await, None, "the local session ends at once");
    let (xml, query) = sent_request(&location);
    assert!(xml.contains("<saml:NameID>ann@acme.test</saml:NameID>"), "{xml}");
    assert!(xml.contains("<samlp:SessionIndex>idx-ann</samlp:SessionIndex>"), "{xml}");
    assert!(xml.contains(&format!("<saml:Issuer>{SP_ENTITY_ID}</saml:Issuer>")), "{xml}");
    assert!(query.contains("&SigAlg=") && redirect_signature_verifies(&query, &sp.signing), "{query}");
    let request_id = attribute(&xml, "ID");

    // Unsigned, foreign-signed, for another request, or not a success:
    // refused, and the pending logout is used up by the first answer.
    let unsigned = logout_response("_r1", &request_id, "Success");
    let (status, code, _, _) = sp.post_slo(&browser, "SAMLResponse", &unsigned).await;
    assert_eq!((status, code.as_deref()), (400, Some("saml.logout_unsigned")));
    let (_, code, _, _) = {
        let browser = sp.browser();
        sp.sign_in(&browser, "ann@acme.test", "idx-ann-2").await;
        browser.get(sp.url("/sso/logout/acme")).send().await.unwrap();
        let other_request = logout_response("_r2", "_someone-elses", "Success");
        sp.post_slo(&browser, "SAMLResponse", &sign_root(&other_request, "_r2", idp_key())).await
    };
    assert_eq!(code.as_deref(), Some("saml.in_response_to_mismatch"));

    let browser = sp.browser();
    sp.sign_in(&browser, "ann@acme.test", "idx-ann-3").await;
    let response = browser.get(sp.url("/sso/logout/acme?relay_state=/bye")).send().await.unwrap();
    let (xml, _) = sent_request(response.headers()["location"].to_str().unwrap());
    let request_id = attribute(&xml, "ID");
    let foreign = sign_root(&logout_response("_r3", &request_id, "Success"), "_r3", other_key());
    assert_eq!(sp.post_slo(&browser, "SAMLResponse", &foreign).await.1.as_deref(), Some("saml.signature_invalid"));

    let browser = sp.browser();
    sp.sign_in(&browser, "ann@acme.test", "idx-ann-4").await;
    let response = browser.get(sp.url("/sso/logout/acme?relay_state=/bye")).send().await.unwrap();
    let (xml, _) = sent_request(response.headers()["location"].to_str().unwrap());
    let request_id = attribute(&xml, "ID");
    let denied = sign_root(&logout_response("_r4", &request_id, "Requester"), "_r4", idp_key());
    assert_eq!(sp.post_slo(&browser, "SAMLResponse", &denied).await.1.as_deref(), Some("saml.status_not_success"));

    let browser = sp.browser();
    sp.sign_in(&browser, "ann@acme.test", "idx-ann-5").await;
    let response = browser.get(sp.url("/sso/logout/acme?relay_state=/bye")).send().await.unwrap();
    let (xml, _) = sent_request(response.headers()["location"].to_str().unwrap());
    let request_id = attribute(&xml, "ID");
    let confirmed = sign_root(&logout_response("_r5", &request_id, "Success"), "_r5", idp_key());
    let (status, code, location, _) = sp.post_slo(&browser, "SAMLResponse", &confirmed).await;
    assert_eq!((status, code, location.as_deref()), (303, None, Some("/bye")));
    // The same answer again has no pending logout to match.
    let again = sp.post_slo(&browser, "SAMLResponse", &confirmed).await;
    assert_eq!(again.1.as_deref(), Some("saml.in_response_to_mismatch"));
}

#[tokio::test]
async fn an_idp_logout_request_counts_only_by_its_own_signature() {
    let sp = SloSp::start(&[], true).await;
    let victim = sp.browser();
    let signed_response = sp.sign_in(&victim, "vic@acme.test", "idx-vic").await;
    let attacker = sp.browser();

    // S-33: unsigned itself, wrapping the victim's captured signed Assertion.
    let wrapped = logout_request(
        "_w1",
        "vic@acme.test",
        "idx-vic",
        &format!("<samlp:Extensions>{}</samlp:Extensions>", signed_assertion(&signed_response)),
    );
    assert_eq!(sp.post_slo(&attacker, "SAMLRequest", &wrapped).await.1.as_deref(), Some("saml.logout_unsigned"));
    let bare = logout_request("_w2", "vic@acme.test", "idx-vic", "");
    assert_eq!(sp.post_slo(&attacker, "SAMLRequest", &bare).await.1.as_deref(), Some("saml.logout_unsigned"));
    let foreign = sign_root(&logout_request("_w3", "vic@acme.test", "idx-vic", ""), "_w3", other_key());
    assert_eq!(sp.post_slo(&attacker, "SAMLRequest", &foreign).await.1.as_deref(), Some("saml.signature_invalid"));
    assert_eq!(sp.whoami(&victim).await.as_deref(), Some("vic@acme.test"), "the victim keeps the session");

    // Signed by the IdP, for another SessionIndex: nothing ends.
    let other_index = sign_root(&logout_request("_w4", "vic@acme.test", "idx-other", ""), "_w4", idp_key());
    let (status, _, _, body) = sp.post_slo(&attacker, "SAMLRequest", &other_index).await;
    assert_eq!((status, body.as_str()), (200, "{\"sessions_ended\":0}"));
    assert_eq!(sp.whoami(&victim).await.as_deref(), Some("vic@acme.test"));

    // Signed by the IdP and naming the session: it ends, once.
    let genuine = sign_root(&logout_request("_w5", "vic@acme.test", "idx-vic", ""), "_w5", idp_key());
    let (status, _, _, body) = sp.post_slo(&attacker, "SAMLRequest", &genuine).await;
    assert_eq!((status, body.as_str()), (200, "{\"sessions_ended\":1}"));
    assert_eq!(sp.whoami(&victim).await, None);
    assert_eq!(sp.post_slo(&attacker, "SAMLRequest", &genuine).await.1.as_deref(), Some("saml.replay"));
}

#[tokio::test]
async fn the_sp_metadata_publishes_the_single_logout_url() {
    let sp = SloSp::start(&[], false).await;
    let metadata = reqwest::get(sp.url("/sso/metadata/acme")).await.unwrap().text().await.unwrap();
    let expected = format!(
        "<md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"{SP_SLO}\"/><md:NameIDFormat>"
    );
    assert!(metadata.contains(&expected), "{metadata}");
}

#[tokio::test]
async fn a_tenant_that_does_not_allow_idp_logout_refuses_even_a_signed_request() {
    let sp = SloSp::start(&[], false).await;
    let victim = sp.browser();
    sp.sign_in(&victim, "vic@acme.test", "idx-vic").await;
    let genuine = sign_root(&logout_request("_n1", "vic@acme.test", "idx-vic", ""), "_n1", idp_key());
    let code = sp.post_slo(&sp.browser(), "SAMLRequest", &genuine).await.1;
    assert_eq!(code.as_deref(), Some("saml.idp_logout_not_allowed"));
    assert_eq!(sp.whoami(&victim).await.as_deref(), Some("vic@acme.test"));
}

#[tokio::test]
async fn the_logout_flaws_take_a_wrapped_signature_and_send_an_unsigned_request() {
    let sp = SloSp::start(&[Flaw::SloSignatureAnywhere], true).await;
    let victim = sp.browser();
    let signed_response = sp.sign_in(&victim, "vic@acme.test", "idx-vic").await;
    let wrapped = logout_request(
        "_f1",
        "vic@acme.test",
        "idx-vic",
        &format!("<samlp:Extensions>{}</samlp:Extensions>", signed_assertion(&signed_response)),
    );
    let (status, _, _, body) = sp.post_slo(&sp.browser(), "SAMLRequest", &wrapped).await;
    assert_eq!((status, body.as_str()), (200, "{\"sessions_ended\":1}"), "the samlify bug");
    assert_eq!(sp.whoami(&victim).await, None);

    let sp = SloSp::start(&[Flaw::UnsignedLogoutRequest], false).await;
    let browser = sp.browser();
    sp.sign_in(&browser, "ann@acme.test", "idx-ann").await;
    let response = browser.get(sp.url("/sso/logout/acme")).send().await.unwrap();
    let (_, query) = sent_request(response.headers()["location"].to_str().unwrap());
    assert!(!query.contains("Signature="), "{query}");
}
