//! Shared helpers: starting a server on a free port, reading Okta's auto-post
//! form, and verifying signatures with the `xmlsec1` command-line tool.

use std::process::Command;
use std::sync::Arc;

use base64::Engine;
use mock_idp::http::RunningServer;
use mock_idp::idp::{Idp, IdpConfig, KeySource};
use mock_idp::keys::deterministic;
use mock_idp::setup::BUILTIN_ORG;

pub(crate) const API_TOKEN: &str = "mockta-dev-ssws-token";

pub(crate) fn org() -> mock_idp::org::Org {
    mock_idp::org::parse_org("acme.toml", BUILTIN_ORG, time::OffsetDateTime::now_utc()).unwrap()
}

/// An IdP with the system clock and random ids, signing with the fixed test key
/// so no key is generated.
pub(crate) fn idp() -> Arc<Idp> {
    let org = org();
    let signing = deterministic::signing(&org.name).unwrap();
    let config = IdpConfig::serving(org, KeySource::Fixed(signing)).unwrap();
    Arc::new(Idp::new(config))
}

pub(crate) struct Server {
    pub idp: Arc<Idp>,
    pub server: RunningServer,
    pub client: reqwest::Client,
}

impl Server {
    pub(crate) async fn start() -> Server {
        let idp = idp();
        let server = RunningServer::start("127.0.0.1:0".parse().unwrap(), idp.clone()).await.unwrap();
        let url = server.url();
        idp.write_org(|org| org.url = url);
        Server { idp, server, client: client() }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    pub(crate) fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(&format!("/api/v1{path}")))
            .header("Authorization", format!("SSWS {API_TOKEN}"))
    }
}

/// A client that keeps cookies and does not follow redirects, like a browser
/// test harness that wants to see each step.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The contents of Okta's auto-post form.
#[derive(Debug)]
pub(crate) struct PostedForm {
    pub action: String,
    pub response_xml: String,
    pub relay_state: String,
}

fn decode_entities(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("&#x") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find(';').unwrap() + start;
        let code = u32::from_str_radix(&rest[start + 3..end], 16).unwrap();
        out.push(char::from_u32(code).unwrap());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn attribute_after(html: &str, marker: &str) -> String {
    let start = html.find(marker).unwrap_or_else(|| panic!("no {marker} in {html}")) + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    decode_entities(&html[start..end])
}

pub(crate) fn parse_form(html: &str) -> PostedForm {
    let action = attribute_after(html, "<form id=\"appForm\" action=\"");
    let encoded = attribute_after(html, "name=\"SAMLResponse\" type=\"hidden\" value=\"");
    let relay_state = attribute_after(html, "name=\"RelayState\" type=\"hidden\" value=\"");
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap();
    PostedForm { action, response_xml: String::from_utf8(bytes).unwrap(), relay_state }
}

/// The certificate from an app's metadata, as PEM.
pub(crate) fn metadata_certificate_pem(metadata: &str) -> String {
    let start = metadata.find("<ds:X509Certificate>").unwrap() + "<ds:X509Certificate>".len();
    let end = metadata.find("</ds:X509Certificate>").unwrap();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", &metadata[start..end])
}

/// Which signature `xmlsec1` should check.
#[derive(Clone, Copy, Debug)]
pub(crate) enum SignatureOf {
    Response,
    Assertion,
}

/// Verifies one signature with the `xmlsec1` tool, trusting only `cert_pem`.
/// Returns whether xmlsec1 printed OK.
pub(crate) fn xmlsec1_verifies(xml: &str, cert_pem: &str, which: SignatureOf) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let xml_path = dir.path().join("response.xml");
    let cert_path = dir.path().join("cert.pem");
    std::fs::write(&xml_path, xml).unwrap();
    std::fs::write(&cert_path, cert_pem).unwrap();
    let xpath = match which {
        SignatureOf::Response => "/*[local-name()='Response']/*[local-name()='Signature']",
        SignatureOf::Assertion => "/*[local-name()='Response']/*[local-name()='Assertion']/*[local-name()='Signature']",
    };
    let output = Command::new("xmlsec1")
        .args(["--verify", "--pubkey-cert-pem"])
        .arg(&cert_path)
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:Response",
            "--node-xpath",
            xpath,
        ])
        .arg(&xml_path)
        .output()
        .expect("xmlsec1 must be installed (the test command installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    output.status.success() && (stdout.contains("OK") || stderr.lines().any(|l| l.trim() == "OK"))
}

pub(crate) fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}
