//! Properties of the ID token validator: on arbitrary token text and
//! arbitrary headers it never panics, and it never accepts a token whose
//! signature does not verify with a key of the provider's key set.

use proptest::prelude::*;
use reference_sp::flaws::Policy;
use reference_sp::oidc::IdTokenAlgorithm;
use reference_sp::oidc::id_token::{IdTokenExpectations, UnverifiedIdToken};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::oidc_rules::provider_keys;
use crate::oidc_support::{CLIENT_ID, CLIENT_SECRET, Signing, attacker_key, provider_key, sign_jws};

const NOW: i64 = 1_711_698_142;

fn verify(token: &str) -> bool {
    let keys = provider_keys();
    let policy = Policy::correct();
    let expectations = IdTokenExpectations {
        issuer: "https://acme.okta.test",
        client_id: CLIENT_ID,
        client_secret: Some(CLIENT_SECRET),
        algorithm: IdTokenAlgorithm::Rs256,
        keys: &keys,
        header_url_keys: None,
        nonce: None,
        access_token: None,
        clock_skew: time::Duration::seconds(180),
        policy: &policy,
    };
    let now = OffsetDateTime::from_unix_timestamp(NOW).unwrap();
    UnverifiedIdToken::parse(token).and_then(|t| t.verify(&expectations, now)).is_ok()
}

/// Whether the provider's key signed exactly this token's signing input.
fn signed_by_the_provider(token: &str) -> bool {
    let Some((input, signature)) = token.rsplit_once('.') else { return false };
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(provider_key().public_pem.as_bytes()).unwrap();
    jsonwebtoken::crypto::verify(signature, input.as_bytes(), &key, jsonwebtoken::Algorithm::RS256).unwrap_or(false)
}

fn header_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("RS256")),
        Just(json!("none")),
        Just(json!("NONE")),
        Just(json!("HS256")),
        Just(json!("ES256")),
        Just(json!(provider_key().kid)),
        Just(json!(null)),
        Just(json!(["x"])),
        Just(json!({"kty": "RSA"})),
        Just(attacker_key().jwk.clone()),
        ".{0,40}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
    ]
}

fn header() -> impl Strategy<Value = Map<String, Value>> {
    let names = prop_oneof![
        Just("alg".to_owned()),
        Just("kid".to_owned()),
        Just("jwk".to_owned()),
        Just("jku".to_owned()),
        Just("x5c".to_owned()),
        Just("crit".to_owned()),
        Just("typ".to_owned()),
        "[a-z]{1,5}",
    ];
    proptest::collection::btree_map(names, header_value(), 0..6).prop_map(|m| m.into_iter().collect())
}

fn signing() -> impl Strategy<Value = Signing> {
    prop_oneof![
        Just(Signing::Key(provider_key())),
        Just(Signing::Key(attacker_key())),
        Just(Signing::Hmac(provider_key().public_pem.clone().into_bytes())),
        Just(Signing::Hmac(CLIENT_SECRET.as_bytes().to_vec())),
        Just(Signing::Unsigned),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn prop_id_token_validator_never_panics_on_arbitrary_text(text in ".{0,400}", dots in proptest::collection::vec(".{0,60}", 0..5)) {
        let joined = format!("{text}.{}", dots.join("."));
        for candidate in [text.as_str(), joined.as_str()] {
            if verify(candidate) {
                prop_assert!(signed_by_the_provider(candidate), "accepted: {candidate}");
            }
        }
    }

    #[test]
    fn prop_id_token_validator_accepts_only_tokens_signed_with_a_jwks_key(
        header in header(),
        signing in signing(),
        cut_signature in any::<bool>(),
        issuer_ok in any::<bool>(),
    ) {
        let claims = json!({
            "iss": if issuer_ok { "https://acme.okta.test" } else { "https://evil.test" },
            "sub": "00u-alice", "aud": CLIENT_ID, "iat": NOW, "exp": NOW + 3600,
        });
        let mut token = sign_jws(&header, claims.as_object().unwrap(), &signing);
        if cut_signature {
            token.truncate(token.len().saturating_sub(4));
        }
        if verify(&token) {
            prop_assert!(signed_by_the_provider(&token), "accepted a token the provider did not sign: {token}");
        }
    }
}
