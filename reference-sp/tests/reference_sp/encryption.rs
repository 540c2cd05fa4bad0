//! Encrypted assertions at the ACS: the tenant's key decrypts, the decrypted
//! Assertion must still be signed (P-15), rsa-1_5 is refused (P-16), every
//! decryption failure is one error, and the SP metadata publishes the
//! encryption certificate.
//!
//! The encryption here is this test's own, written with OpenSSL's AES and
//! RSA primitives (not libxmlsec1, which the SP decrypts with), so the two
//! sides check each other.

use std::collections::BTreeSet;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::{Padding, Rsa};
use openssl::symm::{Cipher, encrypt, encrypt_aead};
use openssl::x509::{X509, X509NameBuilder};
use reference_sp::flaws::Flaw;
use reference_sp::http::RunningSp;
use reference_sp::sp::{Sp, SystemClock};
use reference_sp::store::sqlite::SqliteStore;

use crate::support::{ADMIN, BASE_URL, Outcome, Signing, Spec, idp_key, metadata_xml, sign};

const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

/// The SP's encryption key pair, made here (or, for a tenant whose SP
/// generates its own, only the certificate it publishes: the key never
/// leaves the SP, and encrypting needs only the certificate).
struct SpKeys {
    key_pem: String,
    cert_pem: String,
    cert_base64: String,
}

fn sp_keys() -> SpKeys {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "reference-sp encryption").unwrap();
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
    SpKeys {
        key_pem: String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap(),
        cert_pem: String::from_utf8(cert.to_pem().unwrap()).unwrap(),
        cert_base64: BASE64.encode(cert.to_der().unwrap()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    Aes256Gcm,
    Aes256Cbc,
    Aes128Cbc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    Oaep,
    Rsa15,
}

/// Encrypts `plaintext` as XML Encryption does: GCM's IV, ciphertext and tag,
/// or CBC's IV and padded ciphertext, in one base64 value.
fn encrypt_block(block: Block, key: &[u8], plaintext: &[u8]) -> String {
    match block {
        Block::Aes256Gcm => {
            let iv: [u8; 12] = rand::random();
            let mut tag = [0u8; 16];
            let body = encrypt_aead(Cipher::aes_256_gcm(), key, Some(&iv), &[], plaintext, &mut tag).unwrap();
            BASE64.encode([iv.as_slice(), &body, &tag].concat())
        }
        Block::Aes256Cbc | Block::Aes128Cbc => {
            let cipher = if block == Block::Aes256Cbc { Cipher::aes_256_cbc() } else { Cipher::aes_128_cbc() };
            let iv: [u8; 16] = rand::random();
            let body = encrypt(cipher, key, Some(&iv), plaintext).unwrap();
            BASE64.encode([iv.as_slice(), &body].concat())
        }
    }
}

/// The Assertion of a signed response, encrypted to `keys` in Okta's shape
/// (EncryptedKey a sibling of EncryptedData, found by RetrievalMethod).
/// `edit` changes the ciphertext bytes before they are written.
fn encrypt_response(
    xml: &str,
    keys: &SpKeys,
    block: Block,
    transport: Transport,
    edit: impl Fn(&mut Vec<u8>),
) -> String {
    let start = xml.find("<saml:Assertion ").unwrap();
    let end = xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    // The Assertion declares the namespace it uses, so it parses on its own;
    // exclusive canonicalisation puts the declaration there anyway, so its
    // signature still verifies.
    let assertion =
        xml[start..end].replacen("<saml:Assertion ", &format!("<saml:Assertion xmlns:saml=\"{NS_ASSERTION}\" "), 1);
    let key_length = if block == Block::Aes128Cbc { 16 } else { 32 };
    let session_key: Vec<u8> = (0..key_length).map(|_| rand::random::<u8>()).collect();
    let data_value = {
        let mut bytes = BASE64.decode(encrypt_block(block, &session_key, assertion.as_bytes())).unwrap();
        edit(&mut bytes);
        BASE64.encode(bytes)
    };
    let certificate = X509::from_der(&BASE64.decode(&keys.cert_base64).unwrap()).unwrap();
    let rsa = certificate.public_key().unwrap().rsa().unwrap();
    let mut wrapped = vec![0u8; rsa.size() as usize];
    let padding = if transport == Transport::Oaep { Padding::PKCS1_OAEP } else { Padding::PKCS1 };
    let length = rsa.public_encrypt(&session_key, &mut wrapped, padding).unwrap();
    wrapped.truncate(length);
    let block_uri = match block {
        Block::Aes256Gcm => "http://www.w3.org/2009/xmlenc11#aes256-gcm",
        Block::Aes256Cbc => "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
        Block::Aes128Cbc => "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
    };
    let (transport_uri, digest) = match transport {
        Transport::Oaep => (
            "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
            "<ds:DigestMethod xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" Algorithm=\"http://www.w3.org/2000/09/xmldsig#sha1\"/>",
        ),
        Transport::Rsa15 => ("http://www.w3.org/2001/04/xmlenc#rsa-1_5", ""),
    };
    let encrypted = format!(
        "<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\" Id=\"_d1\" Type=\"http://www.w3.org/2001/04/xmlenc#Element\"><xenc:EncryptionMethod Algorithm=\"{block_uri}\"/><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:RetrievalMethod Type=\"http://www.w3.org/2001/04/xmlenc#EncryptedKey\" URI=\"#_k1\"/></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>{data_value}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData><xenc:EncryptedKey xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\" Id=\"_k1\"><xenc:EncryptionMethod Algorithm=\"{transport_uri}\">{digest}</xenc:EncryptionMethod><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>{key_value}</xenc:CipherValue></xenc:CipherData><xenc:ReferenceList><xenc:DataReference URI=\"#_d1\"/></xenc:ReferenceList></xenc:EncryptedKey></saml:EncryptedAssertion>",
        cert = keys.cert_base64,
        key_value = BASE64.encode(wrapped),
    );
    format!("{}{}{}", &xml[..start], encrypted, &xml[end..])
}

/// A response for `email` whose Assertion is signed (or not) and then
/// encrypted, and whose Response is then signed (or not) over the
/// EncryptedAssertion, as Okta orders it.
fn encrypted(email: &str, keys: &SpKeys, signing: Signing, block: Block, transport: Transport) -> String {
    encrypted_edited(email, keys, signing, block, transport, |_| {})
}

fn encrypted_edited(
    email: &str,
    keys: &SpKeys,
    signing: Signing,
    block: Block,
    transport: Transport,
    edit: impl Fn(&mut Vec<u8>),
) -> String {
    let mut spec = Spec::valid(email);
    spec.signing = match signing {
        Signing::Assertion | Signing::Both => Signing::Assertion,
        Signing::None | Signing::Response => Signing::None,
    };
    let with_assertion_signed = spec.xml();
    let mut xml = encrypt_response(&with_assertion_signed, keys, block, transport, edit);
    if matches!(signing, Signing::Response | Signing::Both) {
        let response_id = xml.split("ID=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let template = format!(
            "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/><ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/><ds:Reference URI=\"#{response_id}\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>"
        );
        let at = xml.find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
        xml.insert_str(at, &template);
        xml = sign(&xml, idp_key());
    }
    BASE64.encode(xml)
}

/// The SP with one JIT tenant, acme, that has (or not) an encryption key
/// pair, and may require encrypted assertions.
struct EncryptingSp {
    server: RunningSp,
    _dir: tempfile::TempDir,
}

impl EncryptingSp {
    async fn start(keys: Option<&SpKeys>, require: bool, flaws: &[Flaw]) -> EncryptingSp {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("idp.xml"), metadata_xml()).unwrap();
        let mut saml = "idp_metadata_file = \"idp.xml\"".to_owned();
        if let Some(keys) = keys {
            std::fs::write(dir.path().join("sp-encryption.key.pem"), &keys.key_pem).unwrap();
            std::fs::write(dir.path().join("sp-encryption.cert.pem"), &keys.cert_pem).unwrap();
            saml.push_str(", encryption_key_file = \"sp-encryption.key.pem\", encryption_certificate_file = \"sp-encryption.cert.pem\"");
            if require {
                saml.push_str(", require_encrypted_assertions = true");
            }
        }
        EncryptingSp::start_with(dir, &saml, flaws).await
    }

    /// An SP whose acme tenant has the SAML settings `saml`, its config and
    /// database in `dir` (with the IdP's metadata in `idp.xml`).
    async fn start_with(dir: tempfile::TempDir, saml: &str, flaws: &[Flaw]) -> EncryptingSp {
        let config = format!(
            r#"
[server]
listen = "127.0.0.1:0"
base_url = "{BASE_URL}"
database = "{db}"

[[tenants]]
id = "acme"
saml = {{ {saml} }}
default_relay_state = "/welcome"
allowed_email_domains = ["acme.test"]
provisioning = "jit"
break_glass = {{ email = "{admin}", password = "{password}" }}
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
        let server = RunningSp::start("127.0.0.1:0".parse().unwrap(), sp).await.unwrap();
        EncryptingSp { server, _dir: dir }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// Posts to acme's ACS from a fresh browser; returns the outcome and
    /// whom the session is for.
    async fn post(&self, encoded: &str) -> (Outcome, Option<String>) {
        let browser =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let response = browser.post(self.url("/sso/acs/acme")).form(&[("SAMLResponse", encoded)]).send().await.unwrap();
        let status = response.status().as_u16();
        let code = response.headers().get("x-error-code").map(|v| v.to_str().unwrap().to_owned());
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        let whoami = browser.get(self.url("/whoami")).send().await.unwrap();
        let email = if whoami.status() == 200 {
            whoami.json::<serde_json::Value>().await.unwrap()["email"].as_str().map(str::to_owned)
        } else {
            None
        };
        (Outcome { status, code, location }, email)
    }
}

fn flaw(name: &str) -> Flaw {
    name.parse().unwrap()
}

#[tokio::test]
async fn an_encrypted_signed_assertion_signs_in_with_every_okta_algorithm_and_either_signature() {
    let keys = sp_keys();
    let sp = EncryptingSp::start(Some(&keys), false, &[]).await;
    for (index, (signing, block)) in [
        (Signing::Both, Block::Aes256Gcm),
        (Signing::Both, Block::Aes256Cbc),
        (Signing::Assertion, Block::Aes256Gcm),
        // The Response signature covers the EncryptedAssertion, so it
        // vouches for the Assertion inside (SAML Profiles 4.1.3.5).
        (Signing::Response, Block::Aes256Gcm),
    ]
    .into_iter()
    .enumerate()
    {
        let email = format!("enc{index}@acme.test");
        let (outcome, who) = sp.post(&encrypted(&email, &keys, signing, block, Transport::Oaep)).await;
        assert!(outcome.signed_in(), "{signing:?} {block:?}: {outcome:?}");
        assert_eq!(who.as_deref(), Some(email.as_str()), "{signing:?} {block:?}");
    }
}

#[tokio::test]
async fn an_encrypted_unsigned_assertion_is_refused_unless_the_sp_trusts_encryption() {
    let keys = sp_keys();
    let response = encrypted("forged@acme.test", &keys, Signing::None, Block::Aes256Gcm, Transport::Oaep);
    let correct = EncryptingSp::start(Some(&keys), false, &[]).await;
    let (outcome, who) = correct.post(&response).await;
    assert_eq!(outcome.code.as_deref(), Some("saml.unsigned"), "{outcome:?}");
    assert_eq!(who, None);
    let flawed = EncryptingSp::start(Some(&keys), false, &[flaw("accept-unsigned-encrypted-assertion")]).await;
    let (outcome, who) = flawed.post(&response).await;
    assert!(outcome.signed_in(), "{outcome:?}");
    assert_eq!(who.as_deref(), Some("forged@acme.test"));
    // The flaw trusts encryption, not the absence of a signature: a plain
    // unsigned response is still refused.
    let mut plain = Spec::valid("plain@acme.test");
    plain.signing = Signing::None;
    let (outcome, _) = flawed.post(&plain.encoded()).await;
    assert_eq!(outcome.code.as_deref(), Some("saml.unsigned"), "{outcome:?}");
}

#[tokio::test]
async fn rsa_1_5_key_transport_is_refused_before_decryption_unless_the_flaw_allows_it() {
    let keys = sp_keys();
    let response = encrypted("legacy@acme.test", &keys, Signing::Both, Block::Aes128Cbc, Transport::Rsa15);
    let correct = EncryptingSp::start(Some(&keys), false, &[]).await;
    let (outcome, who) = correct.post(&response).await;
    assert_eq!(outcome.code.as_deref(), Some("saml.algorithm_not_allowed"), "{outcome:?}");
    assert_eq!(who, None);
    let flawed = EncryptingSp::start(Some(&keys), false, &[flaw("accept-rsa-1_5")]).await;
    let (outcome, who) = flawed.post(&response).await;
    assert!(outcome.signed_in(), "{outcome:?}");
    assert_eq!(who.as_deref(), Some("legacy@acme.test"));
}

#[tokio::test]
async fn every_decryption_failure_is_one_error_and_a_signed_response_is_checked_before_decrypting() {
    let keys = sp_keys();
    let sp = EncryptingSp::start(Some(&keys), false, &[]).await;
    let flip_last = |bytes: &mut Vec<u8>| {
        if let Some(last) = bytes.last_mut() {
            *last ^= 0x01;
        }
    };
    let flip_middle = |bytes: &mut Vec<u8>| {
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x80;
    };
    // Assertion-signed only: the ciphertext must be decrypted before any
    // signature can be checked. A broken GCM tag, a broken CBC padding and
    // CBC garbage that pads well but does not parse all read the same.
    let mut answers = BTreeSet::new();
    for (block, edit) in [
        (Block::Aes256Gcm, &flip_last as &dyn Fn(&mut Vec<u8>)),
        (Block::Aes256Cbc, &flip_last),
        (Block::Aes256Cbc, &flip_middle),
    ] {
        let response = encrypted_edited("tamper@acme.test", &keys, Signing::Assertion, block, Transport::Oaep, edit);
        let browser = reqwest::Client::new();
        let answer = browser.post(sp.url("/sso/acs/acme")).form(&[("SAMLResponse", &response)]).send().await.unwrap();
        let code = answer.headers().get("x-error-code").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(code.as_deref(), Some("saml.decryption_failed"), "{block:?}");
        answers.insert((answer.status().as_u16(), answer.text().await.unwrap()));
    }
    assert_eq!(answers.len(), 1, "one status and body for every decryption failure: {answers:#?}");
    // A signed Response over an edited ciphertext is refused by its
    // signature, before anything is decrypted.
    let signed = encrypted("tamper@acme.test", &keys, Signing::Both, Block::Aes256Cbc, Transport::Oaep);
    let xml = String::from_utf8(BASE64.decode(signed).unwrap()).unwrap();
    let start = xml.find("<xenc:CipherValue>").unwrap() + "<xenc:CipherValue>".len();
    let end = start + xml[start..].find('<').unwrap();
    let mut bytes = BASE64.decode(&xml[start..end]).unwrap();
    flip_last(&mut bytes);
    let edited = format!("{}{}{}", &xml[..start], BASE64.encode(bytes), &xml[end..]);
    let (outcome, _) = sp.post(&BASE64.encode(edited)).await;
    assert_eq!(outcome.code.as_deref(), Some("saml.signature_invalid"), "{outcome:?}");
}

#[tokio::test]
async fn a_tenant_without_a_key_refuses_encrypted_assertions_and_one_that_requires_them_refuses_plain_ones() {
    let keys = sp_keys();
    let response = encrypted("enc@acme.test", &keys, Signing::Both, Block::Aes256Gcm, Transport::Oaep);
    let keyless = EncryptingSp::start(None, false, &[]).await;
    let (outcome, _) = keyless.post(&response).await;
    assert_eq!(outcome.code.as_deref(), Some("saml.unsupported"), "{outcome:?}");
    let requiring = EncryptingSp::start(Some(&keys), true, &[]).await;
    let (outcome, _) = requiring.post(&Spec::valid("plain@acme.test").encoded()).await;
    assert_eq!(outcome.code.as_deref(), Some("saml.not_encrypted"), "{outcome:?}");
    let (outcome, who) = requiring.post(&response).await;
    assert!(outcome.signed_in(), "{outcome:?}");
    assert_eq!(who.as_deref(), Some("enc@acme.test"));
    // Another SP's key cannot decrypt it: the same one error.
    let other = EncryptingSp::start(Some(&sp_keys()), false, &[]).await;
    let (outcome, _) = other.post(&response).await;
    assert_eq!(outcome.code.as_deref(), Some("saml.decryption_failed"), "{outcome:?}");
}

#[tokio::test]
async fn the_sp_metadata_publishes_the_encryption_certificate_only_when_the_tenant_has_one() {
    let keys = sp_keys();
    let with_key = EncryptingSp::start(Some(&keys), false, &[]).await;
    let metadata = reqwest::get(with_key.url("/sso/metadata/acme")).await.unwrap().text().await.unwrap();
    let document = libxml::parser::Parser::default().parse_string(&metadata).unwrap();
    let mut context = libxml::xpath::Context::new(&document).unwrap();
    context.register_namespace("md", "urn:oasis:names:tc:SAML:2.0:metadata").unwrap();
    context.register_namespace("ds", "http://www.w3.org/2000/09/xmldsig#").unwrap();
    let certificates = context
        .findnodes(
            "//md:SPSSODescriptor/md:KeyDescriptor[@use='encryption']/ds:KeyInfo/ds:X509Data/ds:X509Certificate",
            None,
        )
        .unwrap();
    assert_eq!(certificates.len(), 1, "{metadata}");
    assert_eq!(certificates[0].get_content(), keys.cert_base64);
    let without = EncryptingSp::start(None, false, &[]).await;
    let metadata = reqwest::get(without.url("/sso/metadata/acme")).await.unwrap().text().await.unwrap();
    assert!(!metadata.contains("KeyDescriptor"), "{metadata}");
}

/// The encryption certificate in acme's SP metadata.
async fn published_encryption_certificate(sp: &EncryptingSp) -> String {
    let metadata = reqwest::get(sp.url("/sso/metadata/acme")).await.unwrap().text().await.unwrap();
    let document = libxml::parser::Parser::default().parse_string(&metadata).unwrap();
    let mut context = libxml::xpath::Context::new(&document).unwrap();
    context.register_namespace("md", "urn:oasis:names:tc:SAML:2.0:metadata").unwrap();
    context.register_namespace("ds", "http://www.w3.org/2000/09/xmldsig#").unwrap();
    let certificates = context
        .findnodes(
            "//md:SPSSODescriptor/md:KeyDescriptor[@use='encryption']/ds:KeyInfo/ds:X509Data/ds:X509Certificate",
            None,
        )
        .unwrap();
    assert_eq!(certificates.len(), 1, "{metadata}");
    certificates[0].get_content()
}

/// `generate_encryption_key = true`, as the built-in config's hooli tenant
/// has it: the SP makes its key pair at start-up, publishes the certificate,
/// and decrypts what an IdP encrypts to that certificate. The pair lives as
/// long as the process, so a second SP built for the same tenant publishes
/// the same certificate.
#[tokio::test]
async fn a_generated_encryption_key_is_published_and_decrypts_what_is_encrypted_to_it() {
    let start = || async {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("idp.xml"), metadata_xml()).unwrap();
        EncryptingSp::start_with(dir, "idp_metadata_file = \"idp.xml\", generate_encryption_key = true", &[]).await
    };
    let sp = start().await;
    let certificate = published_encryption_certificate(&sp).await;
    let published = SpKeys { key_pem: String::new(), cert_pem: String::new(), cert_base64: certificate.clone() };
    let response = encrypted("generated@acme.test", &published, Signing::Both, Block::Aes256Gcm, Transport::Oaep);
    let (outcome, who) = sp.post(&response).await;
    assert!(outcome.signed_in(), "{outcome:?}");
    assert_eq!(who.as_deref(), Some("generated@acme.test"));
    // Encrypted to another key, it is the one decryption error.
    let (outcome, _) =
        sp.post(&encrypted("other@acme.test", &sp_keys(), Signing::Both, Block::Aes256Gcm, Transport::Oaep)).await;
    assert_eq!(outcome.code.as_deref(), Some("saml.decryption_failed"), "{outcome:?}");
    let again = start().await;
    assert_eq!(published_encryption_certificate(&again).await, certificate);
}

#[test]
fn a_certificate_that_is_not_the_keys_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (sp_keys(), sp_keys());
    std::fs::write(dir.path().join("k.pem"), &one.key_pem).unwrap();
    std::fs::write(dir.path().join("c.pem"), &two.cert_pem).unwrap();
    let files = reference_sp::config::KeyPairFiles {
        key_file: dir.path().join("k.pem"),
        certificate_file: dir.path().join("c.pem"),
    };
    let problem = reference_sp::config::read_key_pair(&files).unwrap_err();
    assert!(
        problem.ends_with(&format!("is not the certificate of {}", dir.path().join("k.pem").display())),
        "{problem}"
    );
    std::fs::write(dir.path().join("c.pem"), &one.cert_pem).unwrap();
    let keys = reference_sp::config::read_key_pair(&files).unwrap();
    assert_eq!(keys.certificate_base64, one.cert_base64);
}

#[tokio::test]
async fn okta_s_sibling_encrypted_key_is_found_unless_the_sp_looks_only_inside_key_info() {
    let keys = sp_keys();
    let response = encrypted("sibling@acme.test", &keys, Signing::Both, Block::Aes256Gcm, Transport::Oaep);
    let flawed = EncryptingSp::start(Some(&keys), false, &[flaw("encrypted-key-inside-only")]).await;
    let (outcome, who) = flawed.post(&response).await;
    assert_eq!(outcome.code.as_deref(), Some("saml.encryption_structure"), "{outcome:?}");
    assert_eq!(who, None);
}
