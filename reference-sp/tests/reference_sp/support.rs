//! A minimal, independent SAML IdP for tests: it renders a response from a
//! [`Spec`], signs it with xmlsec using a key made here with OpenSSL, and
//! starts the SP with that key's certificate in its IdP metadata.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use libxml::parser::Parser;
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};
use reference_sp::flaws::Flaw;
use reference_sp::http::RunningSp;
use reference_sp::sp::{Sp, SystemClock};
use reference_sp::store::sqlite::SqliteStore;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use xmlsec::{XmlSecDocumentExt, XmlSecKey, XmlSecKeyFormat, XmlSecSignatureContext};

pub(crate) const IDP_ENTITY_ID: &str = "http://idp.test/exk-test";
pub(crate) const BASE_URL: &str = "http://sp.test";
pub(crate) const ACS: &str = "http://sp.test/sso/acs/acme";
pub(crate) const AUDIENCE: &str = "http://sp.test/sso/metadata/acme";

pub(crate) struct KeyPair {
    pub key_pem: String,
    pub cert_base64: String,
}

pub(crate) fn make_key(common_name: &str) -> KeyPair {
    let rsa = Rsa::generate(2048).unwrap();
    let key: PKey<Private> = PKey::from_rsa(rsa).unwrap();
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
    let cert = builder.build();
    KeyPair {
        key_pem: String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap(),
        cert_base64: BASE64.encode(cert.to_der().unwrap()),
    }
}

/// The IdP's key, pinned by the SP through its metadata.
pub(crate) fn idp_key() -> &'static KeyPair {
    static KEY: OnceLock<KeyPair> = OnceLock::new();
    KEY.get_or_init(|| make_key("test-idp"))
}

/// A stranger's key.
pub(crate) fn other_key() -> &'static KeyPair {
    static KEY: OnceLock<KeyPair> = OnceLock::new();
    KEY.get_or_init(|| make_key("attacker"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signing {
    None,
    Response,
    Assertion,
    Both,
}

/// What to put in a response. [`Spec::valid`] gives a correct one.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    pub issuer: String,
    pub destination: String,
    pub recipient: String,
    pub audience: Option<String>,
    pub in_response_to: Option<String>,
    /// Raw XML content of NameID (may contain a comment).
    pub name_id_xml: String,
    pub not_before: OffsetDateTime,
    pub not_on_or_after: OffsetDateTime,
    pub status: String,
    pub signing: Signing,
    pub sha1: bool,
    pub signed_by_other_key: bool,
    pub assertion_id: String,
    pub attributes: Vec<(String, Vec<String>)>,
    /// The AuthnStatement's SessionIndex (Single Logout names it).
    pub session_index: Option<String>,
}

pub(crate) fn unique_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("_t{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst))
}

impl Spec {
    pub(crate) fn valid(email: &str) -> Spec {
        let now = OffsetDateTime::now_utc();
        Spec {
            issuer: IDP_ENTITY_ID.into(),
            destination: ACS.into(),
            recipient: ACS.into(),
            audience: Some(AUDIENCE.into()),
            in_response_to: None,
            name_id_xml: email.into(),
            not_before: now - time::Duration::minutes(5),
            not_on_or_after: now + time::Duration::minutes(5),
            status: "urn:oasis:names:tc:SAML:2.0:status:Success".into(),
            signing: Signing::Both,
            sha1: false,
            signed_by_other_key: false,
            assertion_id: unique_id(),
            attributes: vec![
                ("firstName".into(), vec!["Test".into()]),
                ("lastName".into(), vec!["User".into()]),
                ("groups".into(), vec!["Engineering".into()]),
            ],
            session_index: None,
        }
    }

    fn signature_template(&self, id: &str, key: &KeyPair) -> String {
        let (method, digest) = if self.sha1 {
            ("http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2000/09/xmldsig#sha1")
        } else {
            ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/04/xmlenc#sha256")
        };
        format!(
            "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/><ds:SignatureMethod Algorithm=\"{method}\"/><ds:Reference URI=\"#{id}\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms><ds:DigestMethod Algorithm=\"{digest}\"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>",
            key.cert_base64
        )
    }

    /// Renders and signs the response XML.
    pub(crate) fn xml(&self) -> String {
        let key = if self.signed_by_other_key { other_key() } else { idp_key() };
        let t = |instant: OffsetDateTime| instant.format(&Rfc3339).unwrap();
        let response_id = unique_id();
        let irt = self.in_response_to.as_ref().map(|id| format!(" InResponseTo=\"{id}\"")).unwrap_or_default();
        let audience = self
            .audience
            .as_ref()
            .map(|a| format!("<saml:AudienceRestriction><saml:Audience>{a}</saml:Audience></saml:AudienceRestriction>"))
            .unwrap_or_default();
        let attributes: String = self
            .attributes
            .iter()
            .map(|(name, values)| {
                let values: String =
                    values.iter().map(|v| format!("<saml:AttributeValue>{v}</saml:AttributeValue>")).collect();
                format!("<saml:Attribute Name=\"{name}\">{values}</saml:Attribute>")
            })
            .collect();
        let assertion_signature = if matches!(self.signing, Signing::Assertion | Signing::Both) {
            self.signature_template(&self.assertion_id, key)
        } else {
            String::new()
        };
        let response_signature = if matches!(self.signing, Signing::Response | Signing::Both) {
            self.signature_template(&response_id, key)
        } else {
            String::new()
        };
        let now = t(OffsetDateTime::now_utc());
        let xml = format!(
            "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{response_id}\" Version=\"2.0\" IssueInstant=\"{now}\" Destination=\"{dest}\"{irt}><saml:Issuer>{issuer}</saml:Issuer>{response_signature}<samlp:Status><samlp:StatusCode Value=\"{status}\"/></samlp:Status><saml:Assertion ID=\"{aid}\" Version=\"2.0\" IssueInstant=\"{now}\"><saml:Issuer>{issuer}</saml:Issuer>{assertion_signature}<saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">{name_id}</saml:NameID><saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\"><saml:SubjectConfirmationData{irt} NotOnOrAfter=\"{nooa}\" Recipient=\"{recipient}\"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore=\"{nb}\" NotOnOrAfter=\"{nooa}\">{audience}</saml:Conditions><saml:AuthnStatement AuthnInstant=\"{now}\"{session_index}><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement>{attributes}</saml:AttributeStatement></saml:Assertion></samlp:Response>",
            dest = self.destination,
            issuer = self.issuer,
            status = self.status,
            aid = self.assertion_id,
            name_id = self.name_id_xml,
            nooa = t(self.not_on_or_after),
            nb = t(self.not_before),
            recipient = self.recipient,
            session_index = self.session_index.as_ref().map(|i| format!(" SessionIndex=\"{i}\"")).unwrap_or_default(),
        );
        sign(&xml, key)
    }

    pub(crate) fn encoded(&self) -> String {
        BASE64.encode(self.xml())
    }
}

/// Signs every signature template, the assertion's first.
pub(crate) fn sign(xml: &str, key: &KeyPair) -> String {
    let document = Parser::default().parse_string(xml).unwrap();
    let namespaces =
        [("samlp", "urn:oasis:names:tc:SAML:2.0:protocol"), ("saml", "urn:oasis:names:tc:SAML:2.0:assertion")];
    let _ = document.specify_idattr("//samlp:Response", "ID", Some(&namespaces));
    let _ = document.specify_idattr("//saml:Assertion", "ID", Some(&namespaces));
    let root = document.get_root_element().unwrap();
    let mut signatures = root.findnodes("./*[local-name()='Assertion']/*[local-name()='Signature']").unwrap();
    signatures.extend(root.findnodes("./*[local-name()='Signature']").unwrap());
    for node in signatures {
        let mut context = XmlSecSignatureContext::new();
        context.insert_key(XmlSecKey::from_memory(key.key_pem.as_bytes(), XmlSecKeyFormat::Pem, None).unwrap());
        context.sign_node(&node).unwrap();
    }
    document.to_string()
}

pub(crate) fn metadata_xml() -> String {
    format!(
        "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"{IDP_ENTITY_ID}\"><md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\"><md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"http://idp.test/sso\"/></md:IDPSSODescriptor></md:EntityDescriptor>",
        idp_key().cert_base64
    )
}

/// A running SP with one JIT tenant `acme` (domain acme.test) and one
/// existing-only tenant `globex`, trusting the test IdP.
pub(crate) struct Harness {
    pub server: RunningSp,
    /// Holds the database and metadata files for the harness's lifetime.
    _dir: tempfile::TempDir,
}

pub(crate) const ADMIN: (&str, &str) = ("breakglass@acme.test", "test-breakglass-password");
pub(crate) const SCIM_TOKEN: &str = "test-scim-token";

impl Harness {
    pub(crate) async fn start(flaws: &[Flaw]) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("idp.xml"), metadata_xml()).unwrap();
        let config = format!(
            r#"
[server]
listen = "127.0.0.1:0"
base_url = "{BASE_URL}"
database = "{db}"

[[tenants]]
id = "acme"
idp_metadata_file = "idp.xml"
default_relay_state = "/welcome"
allowed_email_domains = ["acme.test"]
provisioning = "jit"
break_glass = {{ email = "{admin}", password = "{password}" }}
scim = {{ token = "{SCIM_TOKEN}", admin_team = "acme-admins", owner = "owner@acme.test" }}

[[tenants]]
id = "globex"
idp_metadata_file = "idp.xml"
allowed_email_domains = ["acme.test"]
provisioning = "existing-only"
break_glass = {{ email = "breakglass@globex.test", password = "{password}" }}
scim = {{ basic_user = "okta", basic_password = "{password}", teams_must_exist = true }}
"#,
            db = dir.path().join("sp.sqlite3").display(),
            admin = ADMIN.0,
            password = ADMIN.1,
        );
        let config = reference_sp::config::parse_config("test.toml", &config, dir.path()).unwrap();
        let store = SqliteStore::open(&config.database).unwrap();
        let flaws: BTreeSet<Flaw> = flaws.iter().copied().collect();
        let sp = Arc::new(Sp::new(config, Arc::new(store), flaws, Arc::new(SystemClock)).unwrap());
        reference_sp::idp_fetch::refresh_all(&sp).await;
        let server = RunningSp::start("127.0.0.1:0".parse().unwrap(), sp.clone()).await.unwrap();
        Harness { server, _dir: dir }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// A browser: keeps cookies, does not follow redirects.
    pub(crate) fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// Posts a response to the acme ACS and returns status, error code and location.
    pub(crate) async fn post(&self, browser: &reqwest::Client, encoded: &str, relay_state: Option<&str>) -> Outcome {
        self.post_to(browser, "/sso/acs/acme", encoded, relay_state).await
    }

    pub(crate) async fn post_to(
        &self,
        browser: &reqwest::Client,
        path: &str,
        encoded: &str,
        relay_state: Option<&str>,
    ) -> Outcome {
        let mut form = vec![("SAMLResponse", encoded.to_owned())];
        if let Some(relay) = relay_state {
            form.push(("RelayState", relay.to_owned()));
        }
        let response = browser.post(self.url(path)).form(&form).send().await.unwrap();
        let status = response.status().as_u16();
        let code = response.headers().get("x-error-code").map(|v| v.to_str().unwrap().to_owned());
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        Outcome { status, code, location }
    }

    /// Whose session the browser has, by email.
    pub(crate) async fn whoami(&self, browser: &reqwest::Client) -> Option<serde_json::Value> {
        let response = browser.get(self.url("/whoami")).send().await.unwrap();
        if response.status() == 200 { Some(response.json().await.unwrap()) } else { None }
    }

    pub(crate) fn admin(
        &self,
        browser: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        browser.request(method, self.url(path)).basic_auth(ADMIN.0, Some(ADMIN.1))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub status: u16,
    pub code: Option<String>,
    pub location: Option<String>,
}

impl Outcome {
    pub(crate) fn signed_in(&self) -> bool {
        self.status == 303 && self.code.is_none()
    }
}
