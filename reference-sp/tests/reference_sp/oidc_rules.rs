//! The ID token rules, one test per rule: the correct SP refuses the token
//! with the rule's code, and the flaw that turns the rule off (where there
//! is one) accepts it. Tokens are signed here with keys made by
//! `oidc_support`, and checked with the SP's pure validator.

use std::collections::BTreeSet;

use reference_sp::flaws::{Flaw, Policy};
use reference_sp::oidc::IdTokenAlgorithm;
use reference_sp::oidc::id_token::{IdTokenExpectations, UnverifiedIdToken, VerifiedIdToken};
use reference_sp::oidc::jwks::Jwks;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::oidc_support::{
    CLIENT_ID, CLIENT_SECRET, Signing, at_hash, attacker_key, header_for, provider_ec_key, provider_key, sign_jws,
};

const ISSUER: &str = "https://acme.okta.test";
const NONCE: &str = "the-nonce";
const ACCESS_TOKEN: &str = "the-access-token";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_711_698_142).unwrap()
}

fn claims() -> Map<String, Value> {
    let now = now().unix_timestamp();
    json!({
        "sub": "00u-alice", "email": "alice@acme.test", "email_verified": true, "iss": ISSUER, "aud": CLIENT_ID,
        "iat": now, "exp": now + 3600, "nonce": NONCE, "at_hash": at_hash(ACCESS_TOKEN),
    })
    .as_object()
    .cloned()
    .unwrap()
}

pub(crate) fn provider_keys() -> Jwks {
    Jwks::from_json(json!({"keys": [provider_key().jwk, provider_ec_key().jwk]}).as_object().unwrap()).unwrap()
}

/// A token signed by the provider after `edit` changed its header and claims.
fn token(edit: impl FnOnce(&mut Map<String, Value>, &mut Map<String, Value>)) -> String {
    token_signed(Signing::Key(provider_key()), edit)
}

fn token_signed(signing: Signing, edit: impl FnOnce(&mut Map<String, Value>, &mut Map<String, Value>)) -> String {
    let (mut header, mut claims) = (header_for(&signing), claims());
    edit(&mut header, &mut claims);
    sign_jws(&header, &claims, &signing)
}

struct Check {
    policy: Policy,
    algorithm: IdTokenAlgorithm,
    header_url_keys: Option<Jwks>,
}

impl Check {
    fn correct() -> Check {
        Check::with(&[])
    }

    fn with(flaws: &[Flaw]) -> Check {
        let flaws: BTreeSet<Flaw> = flaws.iter().copied().collect();
        Check { policy: Policy::with_flaws(&flaws), algorithm: IdTokenAlgorithm::Rs256, header_url_keys: None }
    }

    fn verify(&self, token: &str) -> Result<VerifiedIdToken, String> {
        let keys = provider_keys();
        let expectations = IdTokenExpectations {
            issuer: ISSUER,
            client_id: CLIENT_ID,
            client_secret: Some(CLIENT_SECRET),
            algorithm: self.algorithm,
            keys: &keys,
            header_url_keys: self.header_url_keys.as_ref(),
            nonce: Some(NONCE),
            access_token: Some(ACCESS_TOKEN),
            clock_skew: time::Duration::seconds(180),
            policy: &self.policy,
        };
        UnverifiedIdToken::parse(token).and_then(|t| t.verify(&expectations, now())).map_err(|e| e.code().to_owned())
    }
}

/// The correct SP refuses `token` with `code`, and `flaw` (if any) accepts it.
fn refused_unless(token: &str, code: &str, flaw: Option<Flaw>) {
    assert_eq!(Check::correct().verify(token).unwrap_err(), code);
    if let Some(flaw) = flaw {
        assert!(Check::with(&[flaw]).verify(token).is_ok(), "--flaw {flaw} accepts it");
    }
}

#[test]
fn a_valid_token_is_accepted_and_read() {
    let verified = Check::correct().verify(&token(|_, _| {})).unwrap();
    assert_eq!((verified.issuer(), verified.subject()), (ISSUER, "00u-alice"));
    assert_eq!((verified.email(), verified.email_verified()), (Some("alice@acme.test"), true));
    assert_eq!(verified.nonce(), Some(NONCE));
}

#[test]
fn alg_none_in_any_spelling_is_refused() {
    for spelling in ["none", "None", "NONE", "nOnE"] {
        let unsigned = token_signed(Signing::Unsigned, |header, _| {
            header.insert("alg".into(), spelling.into());
        });
        refused_unless(&unsigned, "oidc.alg_none", Some(Flaw::AcceptAlgNone));
    }
}

#[test]
fn hmac_keyed_with_the_public_key_is_refused() {
    for pem in [provider_key().public_pem.clone(), provider_key().public_pem.replace('\n', "\r\n")] {
        let confused = token_signed(Signing::Hmac(pem.into_bytes()), |_, _| {});
        refused_unless(&confused, "oidc.alg_not_allowed", Some(Flaw::Hs256PublicKey));
    }
}

#[test]
fn hmac_keyed_with_the_client_secret_is_refused() {
    let hmac = token_signed(Signing::Hmac(CLIENT_SECRET.as_bytes().to_vec()), |_, _| {});
    refused_unless(&hmac, "oidc.alg_not_allowed", Some(Flaw::Hs256ClientSecret));
    assert_eq!(Check::with(&[Flaw::Hs256PublicKey]).verify(&hmac).unwrap_err(), "oidc.signature_invalid");
}

#[test]
fn a_key_in_the_jwk_header_is_refused() {
    let embedded = token_signed(Signing::Key(attacker_key()), |header, _| {
        header.insert("jwk".into(), attacker_key().jwk.clone());
    });
    refused_unless(&embedded, "oidc.header_key_refused", Some(Flaw::TrustHeaderJwk));
}

#[test]
fn a_jku_header_is_refused() {
    let pointed = token_signed(Signing::Key(attacker_key()), |header, _| {
        header.insert("jku".into(), "https://evil.test/keys".into());
    });
    assert_eq!(Check::correct().verify(&pointed).unwrap_err(), "oidc.header_key_refused");
    let mut trusting = Check::with(&[Flaw::TrustJku]);
    trusting.header_url_keys =
        Some(Jwks::from_json(json!({"keys": [attacker_key().jwk]}).as_object().unwrap()).unwrap());
    assert!(trusting.verify(&pointed).is_ok(), "--flaw trust-jku verifies with the attacker's keys");
}

#[test]
fn x5u_and_x5c_headers_are_refused() {
    for (name, value) in [("x5u", json!("https://evil.test/cert.pem")), ("x5c", json!(["MIIB"]))] {
        let carrying = token(|header, _| {
            header.insert(name.into(), value.clone());
        });
        refused_unless(&carrying, "oidc.header_key_refused", None);
    }
}

#[test]
fn an_unknown_critical_header_is_refused() {
    let critical = token(|header, _| {
        header.insert("crit".into(), json!(["exp-v2"]));
        header.insert("exp-v2".into(), json!(1));
    });
    refused_unless(&critical, "oidc.crit_unknown", Some(Flaw::IgnoreCrit));
}

#[test]
fn the_algorithm_is_the_registered_one_not_the_tokens() {
    let es256 = token_signed(Signing::Key(provider_ec_key()), |_, _| {});
    refused_unless(&es256, "oidc.alg_not_allowed", None);
    let mut es256_tenant = Check::correct();
    es256_tenant.algorithm = IdTokenAlgorithm::Es256;
    assert!(es256_tenant.verify(&es256).is_ok());
    assert_eq!(es256_tenant.verify(&token(|_, _| {})).unwrap_err(), "oidc.alg_not_allowed");
}

#[test]
fn a_bad_signature_is_refused_by_every_flaw_set_but_the_one_that_skips_it() {
    let forged = token_signed(Signing::Key(attacker_key()), |_, _| {});
    let every_other: Vec<Flaw> = Flaw::ALL.iter().copied().filter(|flaw| *flaw != Flaw::SkipIdTokenSignature).collect();
    assert_eq!(Check::correct().verify(&forged).unwrap_err(), "oidc.signature_invalid");
    assert_eq!(Check::with(&every_other).verify(&forged).unwrap_err(), "oidc.signature_invalid");
    refused_unless(&forged, "oidc.signature_invalid", Some(Flaw::SkipIdTokenSignature));
    let mut tampered = token(|_, _| {});
    tampered.push('A');
    assert!(Check::correct().verify(&tampered).is_err());
}

#[test]
fn an_ecdsa_signature_of_zeros_is_refused() {
    // CVE-2022-21449: r = s = 0 verifies in broken ECDSA code.
    let mut es256_tenant = Check::correct();
    es256_tenant.algorithm = IdTokenAlgorithm::Es256;
    let valid = token_signed(Signing::Key(provider_ec_key()), |_, _| {});
    let input = valid.rsplit_once('.').unwrap().0;
    let psychic =
        format!("{input}.{}", base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, [0u8; 64]));
    assert_eq!(es256_tenant.verify(&psychic).unwrap_err(), "oidc.signature_invalid");
}

#[test]
fn an_unknown_kid_asks_for_the_key_set_again_and_no_kid_tries_each_key() {
    let unknown = token(|header, _| {
        header.insert("kid".into(), "rotated-away".into());
    });
    refused_unless(&unknown, "oidc.unknown_kid", None);
    let no_kid = token(|header, _| {
        header.remove("kid");
    });
    assert!(Check::correct().verify(&no_kid).is_ok());
}

#[test]
fn another_issuer_is_refused() {
    let other = token(|_, claims| {
        claims.insert("iss".into(), "https://evil.okta.test".into());
    });
    refused_unless(&other, "oidc.issuer_mismatch", Some(Flaw::IgnoreIss));
}

#[test]
fn another_audience_is_refused() {
    let other = token(|_, claims| {
        claims.insert("aud".into(), "0oa-other-client".into());
    });
    refused_unless(&other, "oidc.audience_mismatch", Some(Flaw::IgnoreAud));
}

#[test]
fn several_audiences_need_azp_to_be_this_client() {
    let extra = token(|_, claims| {
        claims.insert("aud".into(), json!([CLIENT_ID, "0oa-untrusted"]));
    });
    refused_unless(&extra, "oidc.azp_mismatch", Some(Flaw::IgnoreAud));
    let with_azp = token(|_, claims| {
        claims.insert("aud".into(), json!([CLIENT_ID, "0oa-untrusted"]));
        claims.insert("azp".into(), CLIENT_ID.into());
    });
    assert!(Check::correct().verify(&with_azp).is_ok());
    let array_of_one = token(|_, claims| {
        claims.insert("aud".into(), json!([CLIENT_ID]));
    });
    assert!(Check::correct().verify(&array_of_one).is_ok());
}

#[test]
fn an_expired_token_is_refused_beyond_the_skew() {
    let expired = token(|_, claims| {
        claims.insert("exp".into(), json!(now().unix_timestamp() - 181));
    });
    refused_unless(&expired, "oidc.expired", Some(Flaw::IgnoreExp));
    let within_skew = token(|_, claims| {
        claims.insert("exp".into(), json!(now().unix_timestamp() - 179));
    });
    assert!(Check::correct().verify(&within_skew).is_ok());
    let no_exp = token(|_, claims| {
        claims.remove("exp");
    });
    refused_unless(&no_exp, "oidc.claim_missing", Some(Flaw::IgnoreExp));
}

#[test]
fn a_token_issued_in_the_future_is_refused() {
    let future = token(|_, claims| {
        claims.insert("iat".into(), json!(now().unix_timestamp() + 181));
    });
    refused_unless(&future, "oidc.iat_in_future", Some(Flaw::IgnoreIatNbf));
}

#[test]
fn a_token_without_iat_is_refused() {
    let no_iat = token(|_, claims| {
        claims.remove("iat");
    });
    refused_unless(&no_iat, "oidc.claim_missing", Some(Flaw::IgnoreIatNbf));
}

#[test]
fn a_token_not_valid_yet_is_refused() {
    let later = token(|_, claims| {
        claims.insert("nbf".into(), json!(now().unix_timestamp() + 181));
    });
    refused_unless(&later, "oidc.not_yet_valid", Some(Flaw::IgnoreIatNbf));
}

#[test]
fn another_or_no_nonce_is_refused() {
    let other = token(|_, claims| {
        claims.insert("nonce".into(), "another-login".into());
    });
    refused_unless(&other, "oidc.nonce_mismatch", Some(Flaw::NoNonceCheck));
    let none = token(|_, claims| {
        claims.remove("nonce");
    });
    refused_unless(&none, "oidc.nonce_mismatch", Some(Flaw::NoNonceCheck));
}

#[test]
fn a_wrong_at_hash_is_refused_and_an_absent_one_is_not() {
    let wrong = token(|_, claims| {
        claims.insert("at_hash".into(), at_hash("another-access-token").into());
    });
    refused_unless(&wrong, "oidc.at_hash_mismatch", Some(Flaw::SkipAtHash));
    let absent = token(|_, claims| {
        claims.remove("at_hash");
    });
    assert!(Check::correct().verify(&absent).is_ok());
}

#[test]
fn claims_of_the_wrong_json_type_are_refused() {
    let never = token(|_, claims| {
        claims.insert("exp".into(), "never".into());
    });
    refused_unless(&never, "oidc.claim_type", Some(Flaw::AcceptsClaimTypeConfusion));
    let nbf_text = token(|_, claims| {
        claims.insert("nbf".into(), "99999999999".into());
    });
    refused_unless(&nbf_text, "oidc.claim_type", Some(Flaw::AcceptsClaimTypeConfusion));
    for (name, value) in [("aud", json!(5)), ("email_verified", json!("true")), ("sub", json!(7)), ("iss", json!(null))]
    {
        let mistyped = token(|_, claims| {
            claims.insert(name.into(), value.clone());
        });
        assert_eq!(Check::correct().verify(&mistyped).unwrap_err(), "oidc.claim_type", "{name}");
    }
}

#[test]
fn a_token_without_sub_is_refused() {
    for edit in [None, Some(json!(""))] {
        let no_sub = token(|_, claims| match &edit {
            Some(value) => {
                claims.insert("sub".into(), value.clone());
            }
            None => {
                claims.remove("sub");
            }
        });
        refused_unless(&no_sub, "oidc.claim_missing", None);
    }
}

#[test]
fn userinfo_must_name_the_same_subject() {
    let verified = Check::correct().verify(&token(|_, _| {})).unwrap();
    let other = json!({"sub": "00u-mallory", "email": "mallory@acme.test"}).as_object().cloned().unwrap();
    let error = verified.clone().with_userinfo(&other, &Policy::correct()).unwrap_err();
    assert_eq!(error.code(), "oidc.userinfo_sub_mismatch");
    let flawed = Policy::with_flaws(&BTreeSet::from([Flaw::UserinfoSubUnchecked]));
    let taken = verified.clone().with_userinfo(&other, &flawed).unwrap();
    assert_eq!((taken.subject(), taken.email()), ("00u-mallory", Some("mallory@acme.test")));
    let same = json!({"sub": "00u-alice", "given_name": "Alice"}).as_object().cloned().unwrap();
    assert_eq!(verified.with_userinfo(&same, &Policy::correct()).unwrap().given_name(), Some("Alice"));
}

#[test]
fn text_that_is_not_a_jws_is_refused() {
    for text in ["", "a.b", "a.b.c.d.e", "!!.!!.!!", &"a".repeat(70_000)] {
        assert_eq!(Check::correct().verify(text).unwrap_err(), "oidc.token_malformed", "{text:.20}");
    }
}
