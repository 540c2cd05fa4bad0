//! SAML signing certificate rollover: a generated certificate is published
//! next to the active one, the app signs with it once it is activated, and
//! a snapshot puts the app back as it was.

use mock_idp::ids::AppId;

use crate::support::{SignatureOf, count, idp, metadata_certificate_pem, xmlsec1_verifies};

const KEY_DESCRIPTOR: &str = "<md:KeyDescriptor use=\"signing\">";

fn signed_response(idp: &mock_idp::idp::Idp) -> String {
    idp.mint_saml("reference-sp", "alice@acme.test", None, None).unwrap().xml
}

#[test]
fn a_rollover_publishes_the_new_certificate_first_then_signs_with_it_and_restoring_undoes_it() {
    let idp = idp();
    let app: AppId = idp.read_org(|org| org.find_app("reference-sp").unwrap().id.clone());
    let before = idp.saml_keys(&app).unwrap();
    let original = idp.metadata(app.as_str()).unwrap();
    let old_pem = metadata_certificate_pem(&original);
    assert_eq!(count(&original, KEY_DESCRIPTOR), 1);

    // The overlap: both certificates are published, the active one first,
    // and responses are still signed by the old key.
    let fresh = idp.generate_saml_key(&app).unwrap();
    let overlap = idp.metadata(app.as_str()).unwrap();
    assert_eq!(count(&overlap, KEY_DESCRIPTOR), 2, "{overlap}");
    assert_eq!(metadata_certificate_pem(&overlap), old_pem, "the active certificate stays first");
    assert!(overlap.contains(fresh.cert_base64_wrapped()));
    let during = signed_response(&idp);
    assert!(xmlsec1_verifies(&during, &old_pem, SignatureOf::Assertion));
    assert!(!xmlsec1_verifies(&during, &fresh.cert_pem, SignatureOf::Assertion));

    // The switch: the new key signs and the metadata lists it alone.
    idp.activate_saml_key(&app, fresh.fingerprint()).unwrap();
    let switched = idp.metadata(app.as_str()).unwrap();
    assert_eq!(count(&switched, KEY_DESCRIPTOR), 1, "{switched}");
    assert!(switched.contains(fresh.cert_base64_wrapped()));
    let after = signed_response(&idp);
    assert!(xmlsec1_verifies(&after, &fresh.cert_pem, SignatureOf::Response));
    assert!(xmlsec1_verifies(&after, &fresh.cert_pem, SignatureOf::Assertion));
    assert!(!xmlsec1_verifies(&after, &old_pem, SignatureOf::Assertion));

    // Only a generated key can be activated.
    assert!(idp.activate_saml_key(&app, before.active.fingerprint()).is_err());

    idp.restore_saml_keys(&app, before);
    assert_eq!(idp.metadata(app.as_str()).unwrap(), original);
    assert!(xmlsec1_verifies(&signed_response(&idp), &old_pem, SignatureOf::Assertion));
}
