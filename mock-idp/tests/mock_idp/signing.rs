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
