//! Compact JWS serialisation, with the signature and header faults.
//!
//! The header is written as Okta writes it, `{"kid":…,"alg":…}` with no
//! `typ`, so tokens are built here rather than with `jsonwebtoken::encode`
//! (whose header always leads with `typ`). RS256 and ES256 signatures come
//! from the key parsed once in [`JwtKey`]; HS256 ones from jsonwebtoken.

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::base64url;
use super::faults::OidcFault;
use super::keys::{JwtKey, JwtKeyError};

/// The keys a token can be signed with.
#[derive(Debug, Clone, Copy)]
pub struct TokenSigner<'a> {
    /// The authorization server's active key.
    pub active: &'a JwtKey,
    /// The attacker's key, for `embedded-jwk` and `jku-header`.
    pub attacker: &'a JwtKey,
    /// Where the attacker's JWKS is served, for `jku-header`.
    pub attacker_jwks_url: &'a str,
    /// Where the attacker's certificate is served, for `x5u-header`.
    pub attacker_certificate_url: &'a str,
    /// The client's secret, for `hs256-with-client-secret`; `None` for
    /// clients without one, which that fault is never armed for.
    pub client_secret: Option<&'a str>,
}

/// The `kid` of `malicious-kid`: a path traversal that also carries SQL
/// metacharacters, so an RP that puts the kid in a path or a query shows it.
pub const MALICIOUS_KID: &str = "../../../../../../dev/null' OR '1'='1' --";
/// The `kid` of `malicious-kid-dev-null`.
pub const DEV_NULL_KID: &str = "../../../../../../../../dev/null";
/// The critical header parameter of `unknown-crit`: a collision-resistant
/// name (RFC 7515 §4.1.11) that no library implements.
pub const UNKNOWN_CRITICAL_PARAMETER: &str = "https://mockta.invalid/jws/unknown-critical-extension";

fn header(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

fn join(header: &Map<String, Value>, claims: &Map<String, Value>) -> String {
    let header = serde_json::to_vec(header).unwrap_or_default();
    let claims = serde_json::to_vec(claims).unwrap_or_default();
    format!("{}.{}", base64url(header), base64url(claims))
}

/// Signs `claims` into a compact JWS, applying a signature or header fault.
/// Claim faults are applied before, by [`super::claims`].
pub fn encode(
    claims: &Map<String, Value>,
    signer: TokenSigner<'_>,
    fault: Option<OidcFault>,
) -> Result<String, JwtKeyError> {
    let key = signer.active;
    let alg = key.algorithm.as_str();
    let standard = || header(&[("kid", key.kid.clone().into()), ("alg", alg.into())]);
    match fault {
        Some(
            none @ (OidcFault::AlgNone
            | OidcFault::AlgNoneCapitalised
            | OidcFault::AlgNoneUpper
            | OidcFault::AlgNoneMixed),
        ) => {
            let spelling = match none {
                OidcFault::AlgNoneCapitalised => "None",
                OidcFault::AlgNoneUpper => "NONE",
                OidcFault::AlgNoneMixed => "nOnE",
                _ => "none",
            };
            let input = join(&header(&[("alg", spelling.into())]), claims);
            Ok(format!("{input}."))
        }
        Some(OidcFault::Hs256WithPublicKey) => {
            let input = join(&header(&[("kid", key.kid.clone().into()), ("alg", "HS256".into())]), claims);
            Ok(format!("{input}.{}", hmac_sha256(&input, key.public_pem.as_bytes())?))
        }
        Some(OidcFault::Hs256WithClientSecret) => {
            // OIDC Core §10.1 symmetric signing names no key: the secret is implied.
            let secret = signer
                .client_secret
                .ok_or_else(|| JwtKeyError::Sign("hs256-with-client-secret needs a client with a secret".into()))?;
            let input = join(&header(&[("alg", "HS256".into())]), claims);
            Ok(format!("{input}.{}", hmac_sha256(&input, secret.as_bytes())?))
        }
        Some(OidcFault::MaliciousKid) => {
            let attacker = signer.attacker;
            let input =
                join(&header(&[("kid", MALICIOUS_KID.into()), ("alg", attacker.algorithm.as_str().into())]), claims);
            Ok(format!("{input}.{}", attacker.sign(input.as_bytes())?))
        }
        Some(OidcFault::MaliciousKidDevNull) => {
            // What an RP that reads the kid as a file path gets: nothing, an empty HMAC key.
            let input = join(&header(&[("kid", DEV_NULL_KID.into()), ("alg", "HS256".into())]), claims);
            Ok(format!("{input}.{}", hmac_sha256(&input, b"")?))
        }
        Some(OidcFault::Es256ZeroSignature) => {
            // r = s = 0, each 32 bytes in JWS's fixed-width form (RFC 7518 §3.4).
            let input = join(&header(&[("kid", key.kid.clone().into()), ("alg", "ES256".into())]), claims);
            Ok(format!("{input}.{}", base64url([0u8; 64])))
        }
        Some(OidcFault::UnknownCrit) => {
            let input = join(
                &header(&[
                    ("kid", key.kid.clone().into()),
                    ("alg", alg.into()),
                    ("crit", vec![UNKNOWN_CRITICAL_PARAMETER].into()),
                    (UNKNOWN_CRITICAL_PARAMETER, true.into()),
                ]),
                claims,
            );
            Ok(format!("{input}.{}", key.sign(input.as_bytes())?))
        }
        Some(OidcFault::UnknownKid) => {
            let unknown = base64url(Sha256::digest(format!("unknown kid for {}", key.kid)));
            let input = join(&header(&[("kid", unknown.into()), ("alg", alg.into())]), claims);
            Ok(format!("{input}.{}", key.sign(input.as_bytes())?))
        }
        Some(OidcFault::UnknownKidPerToken) => {
            // The claims carry a fresh jti and nonce, so each token gets a
            // kid of its own, as a flood of random kids would.
            let seed = serde_json::to_vec(claims).unwrap_or_default();
            let unknown = base64url(Sha256::digest(&seed));
            let attacker = signer.attacker;
            let input = join(&header(&[("kid", unknown.into()), ("alg", attacker.algorithm.as_str().into())]), claims);
            Ok(format!("{input}.{}", attacker.sign(input.as_bytes())?))
        }
        Some(OidcFault::NoKidMultipleKeys) => {
            let input = join(&header(&[("alg", alg.into())]), claims);
            Ok(format!("{input}.{}", key.sign(input.as_bytes())?))
        }
        Some(OidcFault::EmbeddedJwk) => {
            let attacker = signer.attacker;
            let input = join(
                &header(&[
                    ("kid", attacker.kid.clone().into()),
                    ("alg", attacker.algorithm.as_str().into()),
                    ("jwk", attacker.public_jwk()),
                ]),
                claims,
            );
            Ok(format!("{input}.{}", attacker.sign(input.as_bytes())?))
        }
        Some(OidcFault::JkuHeader) => {
            let attacker = signer.attacker;
            let input = join(
                &header(&[
                    ("kid", attacker.kid.clone().into()),
                    ("alg", attacker.algorithm.as_str().into()),
                    ("jku", signer.attacker_jwks_url.into()),
                ]),
                claims,
            );
            Ok(format!("{input}.{}", attacker.sign(input.as_bytes())?))
        }
        Some(OidcFault::X5uHeader) => {
            let attacker = signer.attacker;
            let input = join(
                &header(&[
                    ("kid", attacker.kid.clone().into()),
                    ("alg", attacker.algorithm.as_str().into()),
                    ("x5u", signer.attacker_certificate_url.into()),
                ]),
                claims,
            );
            Ok(format!("{input}.{}", attacker.sign(input.as_bytes())?))
        }
        Some(OidcFault::X5cHeader) => {
            let attacker = signer.attacker;
            // x5c holds standard base64 DER, not base64url (RFC 7515 4.1.6).
            let certificate = base64::engine::general_purpose::STANDARD.encode(attacker.self_signed_certificate_der()?);
            let input = join(
                &header(&[
                    ("kid", attacker.kid.clone().into()),
                    ("alg", attacker.algorithm.as_str().into()),
                    ("x5c", Value::from(vec![certificate])),
                ]),
                claims,
            );
            Ok(format!("{input}.{}", attacker.sign(input.as_bytes())?))
        }
        Some(OidcFault::BadSignature) => {
            let input = join(&standard(), claims);
            let signature = key.sign(input.as_bytes())?;
            Ok(format!("{input}.{}", corrupt(&signature)))
        }
        _ => {
            let input = join(&standard(), claims);
            Ok(format!("{input}.{}", key.sign(input.as_bytes())?))
        }
    }
}

/// An HS256 signature of a JWS signing input, base64url.
fn hmac_sha256(input: &str, secret: &[u8]) -> Result<String, JwtKeyError> {
    jsonwebtoken::crypto::sign(input.as_bytes(), &EncodingKey::from_secret(secret), Algorithm::HS256)
        .map_err(|e| JwtKeyError::Sign(e.to_string()))
}

/// Flips bits in the middle of a base64url signature, keeping it well formed.
fn corrupt(signature: &str) -> String {
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    match engine.decode(signature) {
        Ok(mut bytes) if !bytes.is_empty() => {
            let middle = bytes.len() / 2;
            if let Some(byte) = bytes.get_mut(middle) {
                *byte ^= 0x5a;
            }
            engine.encode(bytes)
        }
        _ => format!("{signature}A"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::keys::deterministic;
    use crate::org::oidc::SigningAlgorithm;

    fn verify(token: &str, key: &JwtKey) -> bool {
        let (input, signature) = token.rsplit_once('.').unwrap();
        jsonwebtoken::crypto::verify(signature, input.as_bytes(), &key.decoding_key().unwrap(), key.jwt_algorithm())
            .unwrap_or(false)
    }

    fn header_of(token: &str) -> Value {
        use base64::Engine;
        let head = token.split('.').next().unwrap();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(head).unwrap()).unwrap()
    }

    #[test]
    fn header_is_kid_then_alg_without_typ() {
        let (key, attacker) = deterministic::pair(SigningAlgorithm::Rs256).unwrap();
        let signer = TokenSigner {
            active: &key,
            attacker: &attacker,
            attacker_jwks_url: "http://x/keys",
            attacker_certificate_url: "http://x/certificate",
            client_secret: Some("client-secret"),
        };
        let claims: Map<String, Value> = [("sub".to_owned(), Value::from("00u1"))].into_iter().collect();
        let token = encode(&claims, signer, None).unwrap();
        assert_eq!(
            serde_json::to_string(&header_of(&token)).unwrap(),
            format!(r#"{{"kid":"{}","alg":"RS256"}}"#, key.kid)
        );
        assert!(verify(&token, &key));
    }

    #[test]
    fn signature_faults_do_not_verify_with_the_server_key() {
        let (key, attacker) = deterministic::pair(SigningAlgorithm::Rs256).unwrap();
        let signer = TokenSigner {
            active: &key,
            attacker: &attacker,
            attacker_jwks_url: "http://x/keys",
            attacker_certificate_url: "http://x/certificate",
            client_secret: Some("client-secret"),
        };
        let claims = Map::new();
        for fault in [
            OidcFault::BadSignature,
            OidcFault::EmbeddedJwk,
            OidcFault::JkuHeader,
            OidcFault::X5cHeader,
            OidcFault::X5uHeader,
        ] {
            let token = encode(&claims, signer, Some(fault)).unwrap();
            assert!(!verify(&token, &key), "{fault}");
        }
        let none = encode(&claims, signer, Some(OidcFault::AlgNone)).unwrap();
        assert!(none.ends_with('.'));
        assert_eq!(header_of(&none)["alg"], "none");
        let embedded = encode(&claims, signer, Some(OidcFault::EmbeddedJwk)).unwrap();
        assert!(verify(&embedded, &attacker), "the embedded key verifies it, which is the trap");
        let hs = encode(&claims, signer, Some(OidcFault::Hs256WithPublicKey)).unwrap();
        assert_eq!(header_of(&hs)["alg"], "HS256");
        let with_certificate = encode(&claims, signer, Some(OidcFault::X5cHeader)).unwrap();
        assert!(verify(&with_certificate, &attacker), "the certificate's key verifies it, which is the trap");
        let chain = header_of(&with_certificate)["x5c"].as_array().unwrap().clone();
        let der = base64::engine::general_purpose::STANDARD.decode(chain[0].as_str().unwrap()).unwrap();
        assert_eq!(der[0], 0x30, "x5c carries standard base64 DER, a SEQUENCE");
    }

    fn hmac_verifies(token: &str, secret: &[u8]) -> bool {
        let (input, signature) = token.rsplit_once('.').unwrap();
        let key = jsonwebtoken::DecodingKey::from_secret(secret);
        jsonwebtoken::crypto::verify(signature, input.as_bytes(), &key, Algorithm::HS256).unwrap()
    }

    #[test]
    fn new_signature_faults_are_what_they_say() {
        let (rsa, attacker) = deterministic::pair(SigningAlgorithm::Rs256).unwrap();
        let (ec, _) = deterministic::pair(SigningAlgorithm::Es256).unwrap();
        let signer = |active| TokenSigner {
            active,
            attacker: &attacker,
            attacker_jwks_url: "http://x/keys",
            attacker_certificate_url: "http://x/certificate",
            client_secret: Some("client-secret"),
        };
        let claims: Map<String, Value> = [("sub".to_owned(), Value::from("00u1"))].into_iter().collect();
        for (fault, spelling) in [
            (OidcFault::AlgNoneCapitalised, "None"),
            (OidcFault::AlgNoneUpper, "NONE"),
            (OidcFault::AlgNoneMixed, "nOnE"),
        ] {
            let token = encode(&claims, signer(&rsa), Some(fault)).unwrap();
            assert_eq!(header_of(&token), serde_json::json!({ "alg": spelling }));
            assert!(token.ends_with('.'), "{fault} has an empty signature");
        }
        let secret = encode(&claims, signer(&rsa), Some(OidcFault::Hs256WithClientSecret)).unwrap();
        assert_eq!(header_of(&secret), serde_json::json!({ "alg": "HS256" }));
        assert!(hmac_verifies(&secret, b"client-secret"));
        let no_secret = TokenSigner { client_secret: None, ..signer(&rsa) };
        assert!(encode(&claims, no_secret, Some(OidcFault::Hs256WithClientSecret)).is_err());

        let malicious = encode(&claims, signer(&rsa), Some(OidcFault::MaliciousKid)).unwrap();
        assert_eq!(header_of(&malicious)["kid"], MALICIOUS_KID);
        assert!(verify(&malicious, &attacker) && !verify(&malicious, &rsa), "the attacker's key signs it");
        let dev_null = encode(&claims, signer(&rsa), Some(OidcFault::MaliciousKidDevNull)).unwrap();
        assert_eq!(header_of(&dev_null), serde_json::json!({ "kid": DEV_NULL_KID, "alg": "HS256" }));
        assert!(hmac_verifies(&dev_null, b""), "keyed by the empty contents of /dev/null");

        let zero = encode(&claims, signer(&ec), Some(OidcFault::Es256ZeroSignature)).unwrap();
        assert_eq!(header_of(&zero), serde_json::json!({ "kid": ec.kid, "alg": "ES256" }));
        assert_eq!(zero.rsplit_once('.').unwrap().1, base64url([0u8; 64]));
        assert!(!verify(&zero, &ec));

        let crit = encode(&claims, signer(&ec), Some(OidcFault::UnknownCrit)).unwrap();
        assert_eq!(header_of(&crit)["crit"], serde_json::json!([UNKNOWN_CRITICAL_PARAMETER]));
        assert_eq!(header_of(&crit)[UNKNOWN_CRITICAL_PARAMETER], true, "a critical parameter must be present");
        assert!(verify(&crit, &ec), "otherwise validly signed");
    }

    #[test]
    fn unknown_kid_per_token_names_a_new_kid_for_every_token_and_the_attacker_signs() {
        let (rsa, attacker) = deterministic::pair(SigningAlgorithm::Rs256).unwrap();
        let signer = TokenSigner {
            active: &rsa,
            attacker: &attacker,
            attacker_jwks_url: "http://x/keys",
            attacker_certificate_url: "http://x/certificate",
            client_secret: None,
        };
        let claims = |jti: &str| -> Map<String, Value> {
            [("sub".to_owned(), Value::from("00u1")), ("jti".to_owned(), Value::from(jti))].into_iter().collect()
        };
        let first = encode(&claims("ID.1"), signer, Some(OidcFault::UnknownKidPerToken)).unwrap();
        let second = encode(&claims("ID.2"), signer, Some(OidcFault::UnknownKidPerToken)).unwrap();
        let kid = |token: &str| header_of(token)["kid"].as_str().unwrap().to_owned();
        assert_ne!(kid(&first), kid(&second), "each token names a kid of its own");
        for token in [&first, &second] {
            assert!(kid(token) != rsa.kid && kid(token) != attacker.kid, "the kid is no key's");
            assert!(verify(token, &attacker) && !verify(token, &rsa), "the attacker's unpublished key signs it");
        }
    }
}
