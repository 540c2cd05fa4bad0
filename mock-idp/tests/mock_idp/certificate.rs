//! The SAML signing certificate read back from its DER: Okta's string types in
//! the names and Okta's validity, exactly ten calendar years.

use mock_idp::keys::{SigningCredential, deterministic};
use openssl::asn1::Asn1Time;
use openssl::x509::X509;

/// The DER of an OID's encoding (tag, length, value), as it precedes the
/// value in an AttributeTypeAndValue.
const COUNTRY_OID: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x06];
const STATE_OID: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x08];
const COMMON_NAME_OID: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x03];
const EMAIL_OID: &[u8] = &[0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x01];

const PRINTABLE_STRING: u8 = 0x13;
const IA5_STRING: u8 = 0x16;
const UTF8_STRING: u8 = 0x0C;

/// The tags of the values that follow each occurrence of `oid` in the
/// certificate: one for the issuer and one for the subject.
fn value_tags(der: &[u8], oid: &[u8]) -> Vec<u8> {
    der.windows(oid.len() + 1).filter(|window| window.starts_with(oid)).map(|window| window[oid.len()]).collect()
}

fn asn1_time(text: &str) -> Asn1Time {
    Asn1Time::from_str(text).unwrap()
}

#[test]
fn the_names_use_oktas_string_types() {
    for credential in [
        deterministic::signing("acme").unwrap(),
        SigningCredential::generate("acme", time::macros::datetime!(2024-05-01 12:00 UTC)).unwrap(),
    ] {
        let der = &credential.cert_der;
        assert_eq!(value_tags(der, COUNTRY_OID), [PRINTABLE_STRING, PRINTABLE_STRING], "C is a PrintableString");
        assert_eq!(value_tags(der, EMAIL_OID), [IA5_STRING, IA5_STRING], "emailAddress is an IA5String");
        assert_eq!(value_tags(der, STATE_OID), [UTF8_STRING, UTF8_STRING]);
        assert_eq!(value_tags(der, COMMON_NAME_OID), [UTF8_STRING, UTF8_STRING]);
        let certificate = X509::from_der(der).unwrap();
        let subject: Vec<String> =
            certificate.subject_name().entries().map(|entry| entry.data().to_string().unwrap()).collect();
        assert_eq!(subject, ["US", "California", "San Francisco", "Okta", "SSOProvider", "acme", "info@okta.com"]);
    }
}

#[test]
fn the_certificate_is_valid_from_a_minute_before_creation_for_ten_calendar_years() {
    let cases = [
        (time::macros::datetime!(2024-05-01 12:00 UTC), "20240501115900Z", "20340501120000Z"),
        // Ten years from a leap day end on the 28th, not a day into March.
        (time::macros::datetime!(2024-02-29 00:00:30 UTC), "20240228235930Z", "20340228000030Z"),
    ];
    for (created, not_before, not_after) in cases {
        let credential = SigningCredential::generate("acme", created).unwrap();
        let certificate = X509::from_der(&credential.cert_der).unwrap();
        assert!(certificate.not_before() == asn1_time(not_before), "{created}: {}", certificate.not_before());
        assert!(certificate.not_after() == asn1_time(not_after), "{created}: {}", certificate.not_after());
    }
    // The deterministic certificate is made at 2024-01-01, so the ten years
    // cross three leap days; 3652 days would end on 2033-12-31.
    let fixed = X509::from_der(&deterministic::signing("acme").unwrap().cert_der).unwrap();
    assert!(fixed.not_before() == asn1_time("20231231235900Z"), "{}", fixed.not_before());
    assert!(fixed.not_after() == asn1_time("20340101000000Z"), "{}", fixed.not_after());
}
