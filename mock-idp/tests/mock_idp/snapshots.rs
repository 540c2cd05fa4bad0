//! Snapshots of deterministic output: fixed key, clock and ids.

use mock_idp::idp::{Idp, IdpConfig};

use mock_idp::clock::{Clock, FixedClock};

/// The org loaded at deterministic mode's instant, so that times taken from
/// the org (such as `updated_at`) are fixed too.
fn deterministic() -> Idp {
    let now = FixedClock::deterministic().now();
    let org = mock_idp::org::parse_org("acme.toml", mock_idp::setup::BUILTIN_ORG, now).unwrap();
    Idp::new(IdpConfig::deterministic(org).unwrap())
}

#[test]
fn response_both_signed() {
    insta::assert_snapshot!(
        deterministic().mint_saml("reference-sp", "alice@acme.test", None, Some("_request_1".into())).unwrap().xml
    );
}

#[test]
fn response_response_signed() {
    insta::assert_snapshot!(deterministic().mint_saml("response-signed", "alice@acme.test", None, None).unwrap().xml);
}

#[test]
fn response_assertion_signed() {
    insta::assert_snapshot!(deterministic().mint_saml("assertion-signed", "alice@acme.test", None, None).unwrap().xml);
}

#[test]
fn response_legacy_sha1() {
    insta::assert_snapshot!(deterministic().mint_saml("legacy-sha1", "alice@acme.test", None, None).unwrap().xml);
}

#[test]
fn metadata() {
    insta::assert_snapshot!(deterministic().metadata("exkrefsp000000000001").unwrap());
}

mod oidc {
    use mock_idp::oidc::ServerRef;
    use mock_idp::oidc::discovery::DocumentKind;

    use super::deterministic;
    use crate::oidc::{claims_of, header_of};

    fn default_server() -> ServerRef {
        ServerRef::Custom("default".into())
    }

    #[test]
    fn discovery_org_server() {
        insta::assert_json_snapshot!(
            deterministic().discovery(&ServerRef::Org, DocumentKind::OpenIdConfiguration).unwrap()
        );
    }

    #[test]
    fn discovery_default_server() {
        insta::assert_json_snapshot!(
            deterministic().discovery(&default_server(), DocumentKind::OpenIdConfiguration).unwrap()
        );
    }

    #[test]
    fn discovery_default_server_oauth_metadata() {
        insta::assert_json_snapshot!(
            deterministic().discovery(&default_server(), DocumentKind::OAuthAuthorizationServer).unwrap()
        );
    }

    #[test]
    fn jwks_default_server() {
        insta::assert_json_snapshot!(deterministic().jwks(&default_server()).unwrap().0);
    }

    #[test]
    fn id_token_claims_default_server() {
        let minted =
            deterministic().mint_tokens(&default_server(), "reference-sp-oidc", "alice@acme.test", None).unwrap();
        insta::assert_json_snapshot!(serde_json::json!({
            "header": header_of(&minted.id_token),
            "id_token": claims_of(&minted.id_token),
            "access_token": claims_of(&minted.access_token),
        }));
    }

    #[test]
    fn id_token_claims_org_server_with_app_profile_claims() {
        let minted = deterministic().mint_tokens(&ServerRef::Org, "appenate", "alice@acme.test", None).unwrap();
        insta::assert_json_snapshot!(claims_of(&minted.id_token));
    }
}
