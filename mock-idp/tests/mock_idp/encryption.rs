//! Encrypted assertions, decrypted by `xmlsec1` (an implementation independent
//! of ours) with the SP's private key, and the P-15 and P-16 faults.

use std::process::Command;
use std::sync::Arc;

use mock_idp::idp::Idp;
use mock_idp::saml::SamlFaultPlan;
use mock_idp::saml::encrypt::{BlockAlgorithm, EncryptionRecipient, KeyTransport};
use mock_idp::saml::faults::SamlFault;

use crate::support::{SignatureOf, count, idp, metadata_certificate_pem, xmlsec1_verifies};

/// An SP's encryption key and self-signed certificate, both PEM.
/// The SP's encryption key pair.
type SpKey = crate::signed_requests::SpSigner;

fn sp_key() -> SpKey {
    crate::signed_requests::self_signed_key_pair("sp.example")
}

fn encrypting_idp(sp: &SpKey, block: BlockAlgorithm) -> Arc<Idp> {
    let idp = idp();
    idp.write_org(|org| {
        let id = org.find_app("reference-sp").unwrap().id.clone();
        let app = org.apps.get_mut(&id).unwrap();
        app.saml_mut().unwrap().assertion_encryption = Some(EncryptionRecipient {
            certificate_pem: sp.cert_pem.clone(),
            block,
            transport: KeyTransport::RsaOaepMgf1p,
        });
    });
    idp
}

fn mint(idp: &Idp, fault: Option<SamlFault>) -> String {
    let plan = fault.map(|fault| SamlFaultPlan { fault, impersonate: None });
    idp.mint_saml("reference-sp", "alice@acme.test", plan, None).unwrap().xml
}

fn signing_certificate(idp: &Idp) -> String {
    let app_id = idp.read_org(|org| org.find_app("reference-sp").unwrap().id.to_string());
    metadata_certificate_pem(&idp.metadata(&app_id).unwrap())
}

/// Decrypts the EncryptedAssertion with the `xmlsec1` tool and returns the
/// whole document with the Assertion in its place, or `None` when it refuses.
fn xmlsec1_decrypts(xml: &str, key_pem: &str) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let xml_path = dir.path().join("response.xml");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&xml_path, xml).unwrap();
    std::fs::write(&key_path, key_pem).unwrap();
    let output = Command::new("xmlsec1")
        .args(["--decrypt", "--privkey-pem"])
        .arg(&key_path)
        .args(["--id-attr:Id", "http://www.w3.org/2001/04/xmlenc#:EncryptedKey"])
        .arg(&xml_path)
        .output()
        .expect("xmlsec1 must be installed (the test command installs it)");
    output.status.success().then(|| String::from_utf8(output.stdout).unwrap())
}

/// The decrypted Assertion moved out of its EncryptedAssertion, so that the
/// document has the shape of a plaintext response again.
fn plaintext_assertion(decrypted: &str) -> String {
    let start = decrypted.find("<saml2:Assertion").unwrap();
    let end = decrypted.rfind("</saml2:Assertion>").unwrap() + "</saml2:Assertion>".len();
    decrypted[start..end].to_owned()
}

#[test]
fn encrypted_assertion_decrypts_with_the_sp_key_to_the_same_signed_assertion() {
    for block in [BlockAlgorithm::Aes256Gcm, BlockAlgorithm::Aes256Cbc] {
        let sp = sp_key();
        let idp = encrypting_idp(&sp, block);
        let xml = mint(&idp, None);
        assert_eq!(count(&xml, "<saml2:Assertion "), 0, "no plaintext Assertion is sent");
        assert!(xml.contains(block.uri()), "{block:?}");
        assert!(xml.contains("xmlenc#rsa-oaep-mgf1p"));
        let cert = signing_certificate(&idp);
        assert!(xmlsec1_verifies(&xml, &cert, SignatureOf::Response), "the Response signature covers the ciphertext");
        let decrypted = xmlsec1_decrypts(&xml, &sp.key_pem).expect("xmlsec1 decrypts with the SP's key");
        let assertion = plaintext_assertion(&decrypted);
        assert!(assertion.contains(">alice@acme.test<"));
        // The Assertion, as decrypted, still carries its own valid signature.
        let standalone = format!(
            "<saml2p:Response xmlns:saml2p=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"wrapper\">{assertion}</saml2p:Response>"
        );
        assert!(xmlsec1_verifies(&standalone, &cert, SignatureOf::Assertion), "{block:?}");
        let other = sp_key();
        assert!(xmlsec1_decrypts(&xml, &other.key_pem).is_none(), "another key cannot decrypt it");
    }
}

#[test]
fn encrypted_assertion_has_oktas_structure() {
    let sp = sp_key();
    let xml = mint(&encrypting_idp(&sp, BlockAlgorithm::Aes256Gcm), None);
    let start = xml.find("<saml2:EncryptedAssertion").unwrap();
    let end = xml.find("</saml2:EncryptedAssertion>").unwrap() + "</saml2:EncryptedAssertion>".len();
    let mut structure = xml[start..end].to_owned();
    for (open, close) in
        [("<xenc:CipherValue>", "</xenc:CipherValue>"), ("<ds:X509Certificate>", "</ds:X509Certificate>")]
    {
        let mut from = 0;
        while let Some(at) = structure[from..].find(open) {
            let value_start = from + at + open.len();
            let value_end = value_start + structure[value_start..].find(close).unwrap();
            structure.replace_range(value_start..value_end, "[redacted]");
            from = value_start;
        }
    }
    insta::assert_snapshot!(redact_ids(&structure).replace("><", ">\n<"));
    // Okta's Response over an encrypted assertion: no xs prefix anywhere in
    // plaintext.
    assert!(!xml[..start].contains("xmlns:xs") && !xml.contains("InclusiveNamespaces"));
}

#[test]
fn encrypted_unsigned_fault_carries_no_signature_and_the_impersonated_identity() {
    let sp = sp_key();
    let idp = encrypting_idp(&sp, BlockAlgorithm::Aes256Gcm);
    let xml = mint(&idp, Some(SamlFault::EncryptedUnsigned));
    assert_eq!(count(&xml, "<ds:Signature"), 0, "{xml}");
    let decrypted = xmlsec1_decrypts(&xml, &sp.key_pem).unwrap();
    let assertion = plaintext_assertion(&decrypted);
    assert!(assertion.contains(">admin@acme.test<") && !assertion.contains("Signature"));
}

#[test]
fn legacy_encryption_fault_uses_aes128_cbc_and_rsa_1_5() {
    let sp = sp_key();
    let idp = encrypting_idp(&sp, BlockAlgorithm::Aes256Gcm);
    let xml = mint(&idp, Some(SamlFault::LegacyEncryption));
    assert!(xml.contains("xmlenc#aes128-cbc") && xml.contains("xmlenc#rsa-1_5") && !xml.contains("rsa-oaep"));
    // The content is the genuine signed Assertion: only the algorithms are weak.
    let decrypted = xmlsec1_decrypts(&xml, &sp.key_pem).unwrap();
    assert!(plaintext_assertion(&decrypted).contains(">alice@acme.test<"));
}

#[test]
fn encryption_faults_are_refused_for_an_app_that_does_not_encrypt() {
    let idp = idp();
    for fault in [SamlFault::EncryptedUnsigned, SamlFault::LegacyEncryption] {
        let plan = SamlFaultPlan { fault, impersonate: None };
        let refused = idp.mint_saml("reference-sp", "alice@acme.test", Some(plan), None);
        assert!(refused.is_err(), "{fault}");
    }
}

/// Replaces each `_` + 32 hex digits id (they derive from random ids here)
/// with a placeholder naming its role, so that the snapshot shows which
/// reference points where.
fn redact_ids(text: &str) -> String {
    let mut out = text.to_owned();
    let mut seen: Vec<String> = Vec::new();
    let bytes = text.as_bytes();
    for start in 0..bytes.len() {
        let Some(candidate) = text.get(start..start + 33) else { break };
        if candidate.starts_with('_')
            && candidate[1..].bytes().all(|b| b.is_ascii_hexdigit())
            && !seen.iter().any(|s| s == candidate)
        {
            seen.push(candidate.to_owned());
        }
    }
    for (index, id) in seen.iter().enumerate() {
        out = out.replace(id.as_str(), &format!("_id{index}"));
    }
    out
}
