//! Compact JWS serialisation, with the signature and header faults.
//!
//! The header is written as Okta writes it, `{"kid":…,"alg":…}` with no
//! `typ`, so tokens are built here rather than with `jsonwebtoken::encode`
//! (whose header always leads with `typ`). Only the signature itself comes
//! from jsonwebtoken.

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
}

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
        Some(OidcFault::AlgNone) => {
            let input = join(&header(&[("alg", "none".into())]), claims);
            Ok(format!("{input}."))
        }
        Some(OidcFault::Hs256WithPublicKey) => {
            let input = join(&header(&[("kid", key.kid.clone().into()), ("alg", "HS256".into())]), claims);
            let secret = EncodingKey::from_secret(key.public_pem.as_bytes());
            let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &secret, Algorithm::HS256)
                .map_err(|e| JwtKeyError::Sign(e.to_string()))?;
            Ok(format!("{input}.{signature}"))
        }
        Some(OidcFault::UnknownKid) => {
            let unknown = base64url(Sha256::digest(format!("unknown kid for {}", key.kid)));
            let input = join(&header(&[("kid", unknown.into()), ("alg", alg.into())]), claims);
            Ok(format!("{input}.{}", key.sign(input.as_bytes())?))
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
        let signer = TokenSigner { active: &key, attacker: &attacker, attacker_jwks_url: "http://x/keys" };
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
        let signer = TokenSigner { active: &key, attacker: &attacker, attacker_jwks_url: "http://x/keys" };
        let claims = Map::new();
        for fault in [OidcFault::BadSignature, OidcFault::EmbeddedJwk, OidcFault::JkuHeader] {
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
    }
}
