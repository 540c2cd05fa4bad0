//! Snapshots of deterministic output: fixed key, clock and ids.

use mock_idp::idp::{Idp, IdpConfig};

use crate::support::org;

fn deterministic() -> Idp {
    Idp::new(IdpConfig::deterministic(org()).unwrap())
}

#[test]
fn response_both_signed() {
    insta::assert_snapshot!(
        deterministic().mint("reference-sp", "alice@acme.test", None, Some("_request_1".into())).unwrap().xml
    );
}

#[test]
fn response_response_signed() {
    insta::assert_snapshot!(deterministic().mint("response-signed", "alice@acme.test", None, None).unwrap().xml);
}

#[test]
fn response_assertion_signed() {
    insta::assert_snapshot!(deterministic().mint("assertion-signed", "alice@acme.test", None, None).unwrap().xml);
}

#[test]
fn response_legacy_sha1() {
    insta::assert_snapshot!(deterministic().mint("legacy-sha1", "alice@acme.test", None, None).unwrap().xml);
}

#[test]
fn metadata() {
    insta::assert_snapshot!(deterministic().metadata("0oarefsp000000000001").unwrap());
}
