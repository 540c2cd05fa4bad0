//! Signatures checked by `xmlsec1`, an implementation independent of ours,
//! given only the certificate from the app's metadata.

use mock_idp::saml::SamlFaultPlan;
use mock_idp::saml::faults::SamlFault;

use crate::support::{SignatureOf, count, idp, metadata_certificate_pem, xmlsec1_verifies};

fn mint(app: &str, fault: Option<SamlFault>) -> (String, String) {
    let idp = idp();
    let app_id = idp.read_org(|org| org.find_app(app).unwrap().id.to_string());
    let metadata = idp.metadata(&app_id).unwrap();
    let plan = fault.map(|fault| SamlFaultPlan { fault, impersonate: None });
    let minted = idp.mint_saml(app, "alice@acme.test", plan, None).unwrap();
    (minted.xml, metadata_certificate_pem(&metadata))
}

#[test]
fn every_signing_mode_verifies_with_xmlsec1_given_only_metadata_certificate() {
    // (app, response signed, assertion signed)
    for (app, response, assertion) in [
        ("reference-sp", true, true),
        ("response-signed", true, false),
        ("assertion-signed", false, true),
        ("legacy-sha1", true, true),
    ] {
        let (xml, cert) = mint(app, None);
        assert_eq!(count(&xml, "<ds:Signature "), usize::from(response) + usize::from(assertion), "{app}");
        if response {
            assert!(xmlsec1_verifies(&xml, &cert, SignatureOf::Response), "{app}: response signature");
        }
        if assertion {
            assert!(xmlsec1_verifies(&xml, &cert, SignatureOf::Assertion), "{app}: assertion signature");
        }
    }
}

#[test]
fn sha256_is_default_and_sha1_is_the_legacy_option() {
    let (xml, _) = mint("reference-sp", None);
    assert!(xml.contains("xmldsig-more#rsa-sha256") && xml.contains("xmlenc#sha256"));
    assert!(!xml.contains("#rsa-sha1"));
    let (legacy, _) = mint("legacy-sha1", None);
    assert!(legacy.contains("xmldsig#rsa-sha1") && legacy.contains("xmldsig#sha1"));
}

#[test]
fn bad_signature_fails_xmlsec1_verification() {
    let (xml, cert) = mint("reference-sp", Some(SamlFault::BadSignature));
    assert!(xml.contains(">admin@acme.test<"), "the tampered NameID names the impersonated user");
    assert!(!xmlsec1_verifies(&xml, &cert, SignatureOf::Assertion));
    assert!(!xmlsec1_verifies(&xml, &cert, SignatureOf::Response));
}

#[test]
fn untrusted_key_fails_xmlsec1_verification_against_metadata_certificate() {
    let (xml, cert) = mint("reference-sp", Some(SamlFault::UntrustedKey));
    let pinned = cert.lines().filter(|l| !l.starts_with("-----")).collect::<Vec<_>>().join("\n");
    assert!(!xml.contains(&pinned), "KeyInfo carries the attacker's certificate, not the app's");
    assert!(!xmlsec1_verifies(&xml, &cert, SignatureOf::Assertion));
    assert!(!xmlsec1_verifies(&xml, &cert, SignatureOf::Response));
}

#[test]
fn sha1_fault_signs_with_sha1_and_still_verifies() {
    let (xml, cert) = mint("reference-sp", Some(SamlFault::Sha1));
    assert!(xml.contains("xmldsig#rsa-sha1"));
    assert!(xmlsec1_verifies(&xml, &cert, SignatureOf::Assertion));
}

#[test]
fn unsigned_fault_has_no_signature() {
    let (xml, _) = mint("reference-sp", Some(SamlFault::Unsigned));
    assert_eq!(count(&xml, "Signature"), 0);
}

#[test]
fn comment_in_nameid_keeps_a_valid_signature() {
    // The attack works because comments are outside the canonical form: the
    // signature stays valid while a careless reader sees only the first text node.
    let (xml, cert) = mint("reference-sp", Some(SamlFault::CommentInNameId));
    assert!(xml.contains(">admin@acme.test<!---->.attacker.invalid</saml2:NameID>"), "{xml}");
    assert!(xmlsec1_verifies(&xml, &cert, SignatureOf::Assertion));
}

#[test]
fn doctype_entity_keeps_a_valid_signature() {
    let (xml, cert) = mint("reference-sp", Some(SamlFault::DoctypeEntity));
    assert!(xml.contains("<!DOCTYPE saml2p:Response [<!ENTITY mockta \"mockta\">]><saml2p:Response "));
    assert!(xmlsec1_verifies(&xml, &cert, SignatureOf::Assertion));
}

/// xmlsec1 with its key sources restricted to the X.509 data it was given,
/// as pysaml2 runs it since CVE-2021-21239 (`--enabled-key-data`).
fn xmlsec1_verifies_with_x509_only(xml: &str, cert_pem: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let xml_path = dir.path().join("response.xml");
    let cert_path = dir.path().join("cert.pem");
    std::fs::write(&xml_path, xml).unwrap();
    std::fs::write(&cert_path, cert_pem).unwrap();
    let output = std::process::Command::new("xmlsec1")
        .args(["--verify", "--enabled-key-data", "x509", "--pubkey-cert-pem"])
        .arg(&cert_path)
        .args(["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"])
        .args(["--node-xpath", "/*[local-name()='Response']/*[local-name()='Assertion']/*[local-name()='Signature']"])
        .arg(&xml_path)
        .output()
        .unwrap();
    output.status.success()
}

#[test]
fn untrusted_key_value_carries_only_the_attackers_key_which_xmlsec1_trusts_unless_restricted() {
    let (xml, cert) = mint("reference-sp", Some(SamlFault::UntrustedKeyValue));
    assert!(xml.contains(">admin@acme.test</saml2:NameID>"), "the attacker signs the impersonated identity");
    assert_eq!(count(&xml, "<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>"), 2, "{xml}");
    assert_eq!(count(&xml, "X509Certificate"), 0, "no certificate at all, only the bare key");
    // The KeyValue key really made both signatures: xmlsec1 left to its
    // default key sources takes that key over the certificate it was given,
    // which is the pysaml2 hole (CVE-2021-21239) the fault reproduces.
    assert!(xmlsec1_verifies(&xml, &cert, SignatureOf::Assertion));
    assert!(xmlsec1_verifies(&xml, &cert, SignatureOf::Response));
    assert!(!xmlsec1_verifies_with_x509_only(&xml, &cert), "with only X.509 key data the pinned key refuses it");
    let (genuine, cert) = mint("reference-sp", None);
    assert!(xmlsec1_verifies_with_x509_only(&genuine, &cert), "the restricted run still verifies a genuine response");
}

/// xmlsec1 verifying one signature with an HMAC key of the given bytes.
fn xmlsec1_verifies_hmac(xml: &str, key: &[u8], which: SignatureOf) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let xml_path = dir.path().join("response.xml");
    let key_path = dir.path().join("hmac.key");
    std::fs::write(&xml_path, xml).unwrap();
    std::fs::write(&key_path, key).unwrap();
    let xpath = match which {
        SignatureOf::Response => "/*[local-name()='Response']/*[local-name()='Signature']",
        SignatureOf::Assertion => "/*[local-name()='Response']/*[local-name()='Assertion']/*[local-name()='Signature']",
    };
    let output = std::process::Command::new("xmlsec1")
        .args(["--verify", "--hmackey"])
        .arg(&key_path)
        .args(["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"])
        .args(["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response"])
        .args(["--node-xpath", xpath])
        .arg(&xml_path)
        .output()
        .unwrap();
    output.status.success()
}

#[test]
fn hmac_with_certificate_is_an_hmac_keyed_by_the_metadata_certificate_pem() {
    let (xml, cert) = mint("reference-sp", Some(SamlFault::HmacWithCertificate));
    assert!(xml.contains(">admin@acme.test</saml2:NameID>"), "the HMAC covers the impersonated identity");
    assert_eq!(
        count(&xml, "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#hmac-sha256\"/>"),
        2
    );
    assert!(!xml.contains("#rsa-sha256"), "no RSA signature is left");
    // The key is the metadata certificate as PEM text (64-character lines,
    // each ended by a line feed): xmlsec1 given those bytes verifies both.
    let base64: String = cert.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut key = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in base64.as_bytes().chunks(64) {
        key.push_str(std::str::from_utf8(line).unwrap());
        key.push('\n');
    }
    key.push_str("-----END CERTIFICATE-----\n");
    assert!(xmlsec1_verifies_hmac(&xml, key.as_bytes(), SignatureOf::Assertion));
    assert!(xmlsec1_verifies_hmac(&xml, key.as_bytes(), SignatureOf::Response));
    assert!(
        !xmlsec1_verifies_hmac(&xml, cert.as_bytes(), SignatureOf::Assertion),
        "the line length is part of the key"
    );
    assert!(!xmlsec1_verifies_hmac(&xml, b"another key", SignatureOf::Assertion));
    assert!(
        !xmlsec1_verifies(&xml, &cert, SignatureOf::Assertion),
        "an SP that verifies RSA with the pinned key refuses it"
    );
}

#[test]
fn comment_in_digest_value_keeps_the_genuine_digest_after_a_comment_holding_the_forged_one() {
    let (genuine, _) = mint("reference-sp", None);
    let (xml, cert) = mint("reference-sp", Some(SamlFault::CommentInDigestValue));
    assert!(xml.contains(">admin@acme.test</saml2:NameID>"), "{xml}");
    assert_eq!(count(&xml, "<ds:DigestValue><!--"), 2, "one comment per signature: {xml}");
    // Taking the comments out leaves the genuine signatures' SignedInfo as
    // signed: only the NameID differs from a genuine response.
    let without_comments = regex::Regex::new("<!--[^>]*-->").unwrap().replace_all(&xml, "").into_owned();
    assert_eq!(count(&without_comments, "<ds:SignatureValue>"), 2);
    assert!(
        !xmlsec1_verifies(&xml, &cert, SignatureOf::Assertion),
        "libxmlsec1 reads the whole text: the digest fails"
    );
    assert!(!xmlsec1_verifies(&xml, &cert, SignatureOf::Response));
    assert!(xmlsec1_verifies(&genuine, &cert, SignatureOf::Assertion));
}

#[test]
fn second_signed_info_puts_a_forged_copy_before_each_genuine_one() {
    let (xml, cert) = mint("reference-sp", Some(SamlFault::SecondSignedInfo));
    assert!(xml.contains(">admin@acme.test</saml2:NameID>"), "{xml}");
    assert_eq!(count(&xml, "<ds:SignedInfo>"), 4, "two per signature: {xml}");
    assert_eq!(count(&xml, "</ds:SignedInfo><ds:SignedInfo>"), 2, "the forged one right before the genuine one");
    assert!(!xmlsec1_verifies(&xml, &cert, SignatureOf::Assertion));
    assert!(!xmlsec1_verifies(&xml, &cert, SignatureOf::Response));
}

#[test]
fn extra_digest_value_signs_only_the_assertion_and_plants_the_digest_in_extensions() {
    let (xml, cert) = mint("reference-sp", Some(SamlFault::ExtraDigestValue));
    assert!(xml.contains(">admin@acme.test</saml2:NameID>"), "{xml}");
    assert_eq!(count(&xml, "<ds:Signature "), 1, "only the Assertion is signed");
    let extensions =
        xml.find("<saml2p:Extensions><ds:DigestValue xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">").unwrap();
    assert!(extensions < xml.find("<saml2:Assertion ").unwrap(), "the planted DigestValue comes first");
    assert_eq!(count(&xml, "<ds:DigestValue"), 2);
    assert!(!xmlsec1_verifies(&xml, &cert, SignatureOf::Assertion));
}

#[test]
fn reference_faults_are_the_idps_own_signatures_over_another_uri() {
    let (whole, cert) = mint("reference-sp", Some(SamlFault::ReferenceWholeDocument));
    assert_eq!(count(&whole, "<ds:Signature "), 1, "only the Assertion is signed: {whole}");
    assert!(whole.contains("<ds:Reference URI=\"\">"), "{whole}");
    assert!(xmlsec1_verifies(&whole, &cert, SignatureOf::Assertion), "the IdP's key signed the whole document");
    let (other, cert) = mint("reference-sp", Some(SamlFault::ReferenceOtherElement));
    assert_eq!(count(&other, "<ds:Signature "), 1);
    let response_id = other.split("<saml2p:Response ").nth(1).unwrap().split(" ID=\"").nth(1).unwrap();
    let response_id = &response_id[..response_id.find('"').unwrap()];
    assert!(other.contains(&format!("<ds:Reference URI=\"#{response_id}\">")), "{other}");
    assert!(xmlsec1_verifies(&other, &cert, SignatureOf::Assertion), "the signature covers the Response");
}

#[test]
fn transform_with_comments_signs_through_with_comments_c14n_and_splits_the_nameid_by_a_comment() {
    let (xml, cert) = mint("reference-sp", Some(SamlFault::TransformWithComments));
    assert_eq!(count(&xml, "<ds:Signature "), 1, "only the Assertion is signed: {xml}");
    assert!(xml.contains("<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#WithComments\">"));
    let name_id = xml.split("<saml2:NameID ").nth(1).unwrap().split("</saml2:NameID>").next().unwrap();
    assert!(name_id.contains("<!---->"), "{name_id}");
    assert!(xmlsec1_verifies(&xml, &cert, SignatureOf::Assertion));
}

#[test]
fn transform_xpath_leaves_the_subject_out_so_the_edited_nameid_still_verifies() {
    let (xml, cert) = mint("reference-sp", Some(SamlFault::TransformXPath));
    assert!(xml.contains(">admin@acme.test</saml2:NameID>"), "{xml}");
    assert!(xml.contains("<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"><ds:XPath "));
    assert!(
        xmlsec1_verifies(&xml, &cert, SignatureOf::Assertion),
        "a verifier that runs any transform accepts the edited Subject"
    );
    // Without the filter the same edit breaks the digest.
    let (bad, cert) = mint("reference-sp", Some(SamlFault::BadSignature));
    assert!(!xmlsec1_verifies(&bad, &cert, SignatureOf::Assertion));
}
