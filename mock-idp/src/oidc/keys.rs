//! JWT signing keys, their JWKS form, and the key ring each authorization
//! server rotates.
//!
//! A key's `kid` is its RFC 7638 thumbprint (SHA-256, base64url): 43
//! characters, the same shape as Okta's. JWKS members are written in Okta's
//! order (`kty, alg, kid, use, e, n`), with no `x5c`.
//!
//! A key is parsed once, when it is loaded, and kept parsed: signing with
//! `jsonwebtoken::crypto::sign` parses the DER key again on every
//! signature (its aws-lc backend calls `RsaKeyPair::from_der` per call),
//! which cost more than half of each token. The kept aws-lc-rs key pair
//! signs byte for byte what jsonwebtoken would (RS256 is deterministic), and
//! jsonwebtoken still verifies.

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::org::oidc::SigningAlgorithm;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtKeyError {
    #[error("{origin}: not a PKCS#8 PEM {algorithm} private key: {reason}")]
    BadKey { origin: String, algorithm: &'static str, reason: String },
    #[error("cannot generate a {algorithm} key: {reason}")]
    Generate { algorithm: &'static str, reason: String },
    #[error("cannot sign the token: {0}")]
    Sign(String),
}

/// A private signing key with its public JWK.
#[derive(Clone)]
pub struct JwtKey {
    pub kid: String,
    pub algorithm: SigningAlgorithm,
    /// PKCS#8 PEM, for the key directory.
    pub private_pem: Arc<str>,
    /// The public key as SPKI PEM. The `hs256-with-public-key` fault uses it
    /// as an HMAC secret, as the attack does.
    pub public_pem: Arc<str>,
    signing: Arc<ParsedSigningKey>,
    public: Arc<Jwk>,
}

/// A private key parsed once, ready to sign.
enum ParsedSigningKey {
    /// RSA-2048, signing RS256 (PKCS#1 v1.5 with SHA-256).
    Rsa(RsaKeyPair),
    /// P-256, signing ES256 in JWS's fixed-width `r || s` form.
    Ecdsa(EcdsaKeyPair),
}

impl ParsedSigningKey {
    fn from_pkcs8(algorithm: SigningAlgorithm, der: &[u8]) -> Result<Self, String> {
        match algorithm {
            SigningAlgorithm::Rs256 => {
                RsaKeyPair::from_pkcs8(der).map(ParsedSigningKey::Rsa).map_err(|e| e.to_string())
            }
            SigningAlgorithm::Es256 => EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                .map(ParsedSigningKey::Ecdsa)
                .map_err(|e| e.to_string()),
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JwtKeyError> {
        // aws-lc-rs takes a random source for ring compatibility; RSA
        // PKCS#1 v1.5 ignores it and ECDSA draws its own nonce.
        let random = SystemRandom::new();
        match self {
            ParsedSigningKey::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &random, message, &mut signature)
                    .map_err(|e| JwtKeyError::Sign(e.to_string()))?;
                Ok(signature)
            }
            ParsedSigningKey::Ecdsa(pair) => pair
                .sign(&random, message)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|e| JwtKeyError::Sign(e.to_string())),
        }
    }
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKey").field("kid", &self.kid).field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

fn jwt_algorithm(algorithm: SigningAlgorithm) -> Algorithm {
    match algorithm {
        SigningAlgorithm::Rs256 => Algorithm::RS256,
        SigningAlgorithm::Es256 => Algorithm::ES256,
    }
}

impl JwtKey {
    /// Loads a PKCS#8 PEM private key. `origin` names it in errors.
    pub fn from_pem(pem: &str, algorithm: SigningAlgorithm, origin: &str) -> Result<Self, JwtKeyError> {
        let bad =
            |reason: String| JwtKeyError::BadKey { origin: origin.to_owned(), algorithm: algorithm.as_str(), reason };
        let encoding = match algorithm {
            SigningAlgorithm::Rs256 => EncodingKey::from_rsa_pem(pem.as_bytes()),
            SigningAlgorithm::Es256 => EncodingKey::from_ec_pem(pem.as_bytes()),
        }
        .map_err(|e| bad(e.to_string()))?;
        let pair = rcgen::KeyPair::from_pem(pem).map_err(|e| bad(e.to_string()))?;
        let public_pem = pair.public_key_pem();
        let signing = ParsedSigningKey::from_pkcs8(algorithm, &pair.serialize_der()).map_err(bad)?;
        let public = Jwk::from_encoding_key(&encoding, jwt_algorithm(algorithm)).map_err(|e| bad(e.to_string()))?;
        let kid = public.thumbprint(ThumbprintHash::SHA256);
        Ok(JwtKey {
            kid,
            algorithm,
            private_pem: pem.into(),
            public_pem: public_pem.into(),
            signing: Arc::new(signing),
            public: Arc::new(public),
        })
    }

    /// Generates a new key: RSA-2048 for RS256, P-256 for ES256.
    pub fn generate(algorithm: SigningAlgorithm) -> Result<Self, JwtKeyError> {
        let rcgen_algorithm = match algorithm {
            SigningAlgorithm::Rs256 => &rcgen::PKCS_RSA_SHA256,
            SigningAlgorithm::Es256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        };
        let pair = rcgen::KeyPair::generate_for(rcgen_algorithm)
            .map_err(|e| JwtKeyError::Generate { algorithm: algorithm.as_str(), reason: e.to_string() })?;
        JwtKey::from_pem(&pair.serialize_pem(), algorithm, "generated key")
    }

    /// A self-signed certificate for this key, DER: what an attacker puts
    /// in a token's `x5c` header. rcgen's default validity needs no clock.
    pub fn self_signed_certificate_der(&self) -> Result<Vec<u8>, JwtKeyError> {
        let sign_error = |e: rcgen::Error| JwtKeyError::Sign(e.to_string());
        let pair = rcgen::KeyPair::from_pem(&self.private_pem).map_err(sign_error)?;
        let params = rcgen::CertificateParams::new(vec!["attacker.invalid".to_owned()]).map_err(sign_error)?;
        Ok(params.self_signed(&pair).map_err(sign_error)?.der().to_vec())
    }

    pub fn jwt_algorithm(&self) -> Algorithm {
        jwt_algorithm(self.algorithm)
    }

    /// Signs a JWS signing input and returns the base64url signature.
    pub fn sign(&self, signing_input: &[u8]) -> Result<String, JwtKeyError> {
        self.signing.sign(signing_input).map(super::base64url)
    }

    /// The public JWK, in Okta's member order.
    pub fn public_jwk(&self) -> Value {
        let mut map = Map::new();
        match &self.public.algorithm {
            AlgorithmParameters::RSA(rsa) => {
                map.insert("kty".into(), "RSA".into());
                map.insert("alg".into(), self.algorithm.as_str().into());
                map.insert("kid".into(), self.kid.clone().into());
                map.insert("use".into(), "sig".into());
                map.insert("e".into(), rsa.e.clone().into());
                map.insert("n".into(), rsa.n.clone().into());
            }
            AlgorithmParameters::EllipticCurve(ec) => {
                map.insert("kty".into(), "EC".into());
                map.insert("alg".into(), self.algorithm.as_str().into());
                map.insert("kid".into(), self.kid.clone().into());
                map.insert("use".into(), "sig".into());
                map.insert("crv".into(), "P-256".into());
                map.insert("x".into(), ec.x.clone().into());
                map.insert("y".into(), ec.y.clone().into());
            }
            // Only RSA and P-256 keys are ever made (see `generate` and `from_pem`).
            _ => {}
        }
        Value::Object(map)
    }

    /// The key for verifying this key's signatures.
    pub fn decoding_key(&self) -> Result<jsonwebtoken::DecodingKey, JwtKeyError> {
        jsonwebtoken::DecodingKey::from_jwk(&self.public).map_err(|e| JwtKeyError::Sign(e.to_string()))
    }
}

/// Where a key stands in its rotation, as Okta's key API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KeyStatus {
    /// Signs new tokens.
    Active,
    /// Published ahead of use, so caches hold it before it signs anything.
    Next,
    /// The previous active key, still published so tokens it signed verify.
    Expired,
}

#[derive(Debug, Clone)]
pub struct RingKey {
    pub key: JwtKey,
    pub status: KeyStatus,
    pub created: OffsetDateTime,
}

/// An authorization server's keys: one active, one next, and after a normal
/// rotation the expired one.
#[derive(Debug, Clone)]
pub struct KeyRing {
    keys: Vec<RingKey>,
    /// When the active key became active; automatic rotation counts from here.
    pub active_since: OffsetDateTime,
}

impl KeyRing {
    pub fn new(active: JwtKey, next: JwtKey, now: OffsetDateTime) -> Self {
        KeyRing {
            keys: vec![
                RingKey { key: active, status: KeyStatus::Active, created: now },
                RingKey { key: next, status: KeyStatus::Next, created: now },
            ],
            active_since: now,
        }
    }

    /// Rebuilds a ring from stored keys. It must have exactly one active key.
    pub fn from_keys(keys: Vec<RingKey>, active_since: OffsetDateTime) -> Option<Self> {
        let active = keys.iter().filter(|k| k.status == KeyStatus::Active).count();
        (active == 1).then_some(KeyRing { keys, active_since })
    }

    pub fn active(&self) -> &JwtKey {
        // `new`, `from_keys` and both rotations keep exactly one active key.
        let found = self.keys.iter().find(|k| k.status == KeyStatus::Active);
        match found {
            Some(ring_key) => &ring_key.key,
            None => &self.keys[0].key,
        }
    }

    pub fn keys(&self) -> &[RingKey] {
        &self.keys
    }

    pub fn find(&self, kid: &str) -> Option<&JwtKey> {
        self.keys.iter().map(|k| &k.key).find(|k| k.kid == kid)
    }

    /// Okta's scheduled rotation: the next key becomes active, the active one
    /// expires but stays published, the old expired one goes, and `new_next`
    /// is published for the following rotation.
    pub fn rotate(&mut self, new_next: JwtKey, now: OffsetDateTime) {
        self.keys.retain(|k| k.status != KeyStatus::Expired);
        for ring_key in &mut self.keys {
            ring_key.status = match ring_key.status {
                KeyStatus::Active => KeyStatus::Expired,
                KeyStatus::Next => KeyStatus::Active,
                KeyStatus::Expired => KeyStatus::Expired,
            };
        }
        self.keys.push(RingKey { key: new_next, status: KeyStatus::Next, created: now });
        self.active_since = now;
    }

    /// An emergency rotation, for a leaked key: the active and expired keys
    /// are removed at once, so tokens they signed stop verifying, and
    /// `new_active` signs from now on. It was never published ahead, so
    /// clients must refetch the JWKS when they meet its `kid`.
    pub fn emergency_rotate(&mut self, new_active: JwtKey, now: OffsetDateTime) {
        self.keys.retain(|k| k.status == KeyStatus::Next);
        self.keys.insert(0, RingKey { key: new_active, status: KeyStatus::Active, created: now });
        self.active_since = now;
    }

    /// Whether an automatic rotation every `days` days is due at `now`.
    pub fn rotation_due(&self, days: Option<i64>, now: OffsetDateTime) -> bool {
        self.next_rotation(days).is_some_and(|due| now >= due)
    }

    /// When the next automatic rotation every `days` days is due; `None`
    /// without a schedule.
    pub fn next_rotation(&self, days: Option<i64>) -> Option<OffsetDateTime> {
        days.and_then(|days| self.active_since.checked_add(time::Duration::days(days)))
    }

    /// The JWKS document: every published key, active first.
    pub fn jwks(&self) -> Value {
        let mut keys: Vec<&RingKey> = self.keys.iter().collect();
        keys.sort_by_key(|k| match k.status {
            KeyStatus::Active => 0,
            KeyStatus::Next => 1,
            KeyStatus::Expired => 2,
        });
        json!({ "keys": keys.iter().map(|k| k.key.public_jwk()).collect::<Vec<_>>() })
    }
}

/// How long a JWKS may be cached before the next scheduled rotation. Okta
/// counts its `max-age` down to the end of the safe period and answers
/// `no-cache` as that period ends, "so that you don't cache keys that will
/// soon expire" (Okta's key rotation guide), so this is the window in which
/// the mock says `no-cache`.
pub const JWKS_NO_CACHE_BEFORE_ROTATION: time::Duration = time::Duration::hours(24);
/// The `max-age` of a server without a rotation schedule (the org server,
/// and custom servers rotated only on demand): thirty days, about what
/// Okta was seen to send.
pub const JWKS_MAX_AGE_WITHOUT_SCHEDULE: time::Duration = time::Duration::days(30);

/// The caching a JWKS answer allows, as its `Cache-Control` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwksCaching {
    /// Cacheable for this many seconds from the request.
    MaxAge(i64),
    /// The next rotation is close: refetch every time.
    NoCache,
}

impl JwksCaching {
    /// The caching at `now` for a ring whose next scheduled rotation is
    /// `next_rotation` (`None` without a schedule). It counts down to the
    /// rotation, and within [`JWKS_NO_CACHE_BEFORE_ROTATION`] of it turns
    /// to `no-cache`.
    pub fn at(next_rotation: Option<OffsetDateTime>, now: OffsetDateTime) -> Self {
        let Some(next) = next_rotation else {
            return JwksCaching::MaxAge(JWKS_MAX_AGE_WITHOUT_SCHEDULE.whole_seconds());
        };
        let left = next - now;
        if left <= JWKS_NO_CACHE_BEFORE_ROTATION {
            JwksCaching::NoCache
        } else {
            JwksCaching::MaxAge(left.whole_seconds())
        }
    }

    /// The `Cache-Control` header value, in Okta's form.
    pub fn cache_control(self) -> String {
        match self {
            JwksCaching::MaxAge(seconds) => format!("max-age={seconds}, must-revalidate"),
            JwksCaching::NoCache => "no-cache".to_owned(),
        }
    }
}

/// The fixed keys of deterministic mode, shipped with the source.
pub mod deterministic {
    use super::{JwtKey, JwtKeyError};
    use crate::org::oidc::SigningAlgorithm;

    const RS256_NEXT: &str = include_str!("../../../fixtures/keys/deterministic-oidc-next.key.pem");
    const ES256_ACTIVE: &str = include_str!("../../../fixtures/keys/deterministic-oidc-es256.key.pem");
    const ES256_NEXT: &str = include_str!("../../../fixtures/keys/deterministic-oidc-es256-next.key.pem");

    /// The active and next keys for an algorithm.
    pub fn pair(algorithm: SigningAlgorithm) -> Result<(JwtKey, JwtKey), JwtKeyError> {
        let (active, next) = match algorithm {
            SigningAlgorithm::Rs256 => (crate::keys::deterministic::SIGNING_KEY_PEM, RS256_NEXT),
            SigningAlgorithm::Es256 => (ES256_ACTIVE, ES256_NEXT),
        };
        Ok((
            JwtKey::from_pem(active, algorithm, "deterministic active key")?,
            JwtKey::from_pem(next, algorithm, "deterministic next key")?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2024-03-29 07:42:22 UTC)
    }

    #[test]
    fn kid_is_43_base64url_characters() {
        let (active, _) = deterministic::pair(SigningAlgorithm::Rs256).unwrap();
        assert_eq!(active.kid.len(), 43);
        assert!(active.kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let jwk = active.public_jwk();
        let members: Vec<&String> = jwk.as_object().unwrap().keys().collect();
        assert_eq!(members, ["kty", "alg", "kid", "use", "e", "n"]);
    }

    #[test]
    fn rotation_publishes_next_before_use_and_keeps_expired() {
        let (active, next) = deterministic::pair(SigningAlgorithm::Rs256).unwrap();
        let (third, _) = deterministic::pair(SigningAlgorithm::Es256).unwrap();
        let mut ring = KeyRing::new(active.clone(), next.clone(), now());
        assert_eq!(ring.active().kid, active.kid);
        ring.rotate(third.clone(), now());
        assert_eq!(ring.active().kid, next.kid);
        assert!(ring.find(&active.kid).is_some(), "the expired key stays published");
        assert!(ring.find(&third.kid).is_some(), "the new next key is published");
    }

    #[test]
    fn emergency_rotation_removes_old_key_at_once() {
        let (active, next) = deterministic::pair(SigningAlgorithm::Rs256).unwrap();
        let (fresh, _) = deterministic::pair(SigningAlgorithm::Es256).unwrap();
        let mut ring = KeyRing::new(active.clone(), next.clone(), now());
        ring.emergency_rotate(fresh.clone(), now());
        assert!(ring.find(&active.kid).is_none());
        assert_eq!(ring.active().kid, fresh.kid);
        assert!(ring.find(&next.kid).is_some());
    }

    #[test]
    fn automatic_rotation_is_due_after_its_interval() {
        let (active, next) = deterministic::pair(SigningAlgorithm::Rs256).unwrap();
        let ring = KeyRing::new(active, next, now());
        assert!(!ring.rotation_due(Some(90), now() + time::Duration::days(89)));
        assert!(ring.rotation_due(Some(90), now() + time::Duration::days(90)));
        assert!(!ring.rotation_due(None, now() + time::Duration::days(900)));
    }

    #[test]
    fn jwks_caching_counts_down_to_the_rotation_then_says_no_cache() {
        let rotation = now() + time::Duration::days(90);
        assert_eq!(JwksCaching::at(Some(rotation), now()), JwksCaching::MaxAge(90 * 24 * 3600));
        let two_days_before = rotation - time::Duration::days(2);
        assert_eq!(JwksCaching::at(Some(rotation), two_days_before), JwksCaching::MaxAge(2 * 24 * 3600));
        let just_outside = rotation - JWKS_NO_CACHE_BEFORE_ROTATION - time::Duration::seconds(1);
        assert_eq!(JwksCaching::at(Some(rotation), just_outside), JwksCaching::MaxAge(24 * 3600 + 1));
        for close in [rotation - JWKS_NO_CACHE_BEFORE_ROTATION, rotation - time::Duration::minutes(1), rotation] {
            assert_eq!(JwksCaching::at(Some(rotation), close), JwksCaching::NoCache, "{close}");
        }
        assert_eq!(JwksCaching::at(None, now()), JwksCaching::MaxAge(30 * 24 * 3600));
        assert_eq!(JwksCaching::MaxAge(60).cache_control(), "max-age=60, must-revalidate");
        assert_eq!(JwksCaching::NoCache.cache_control(), "no-cache");
    }

    #[test]
    fn rs256_signatures_equal_jsonwebtokens_byte_for_byte() {
        // RS256 (PKCS#1 v1.5) is deterministic, so the key parsed once must
        // give exactly the signature jsonwebtoken computes from the PEM.
        let generated = JwtKey::generate(SigningAlgorithm::Rs256).unwrap();
        let (active, next) = deterministic::pair(SigningAlgorithm::Rs256).unwrap();
        let long_input = vec![b'e'; 700];
        for key in [generated, active, next] {
            let encoding = EncodingKey::from_rsa_pem(key.private_pem.as_bytes()).unwrap();
            for input in [&b""[..], b"header.payload", &long_input] {
                let expected = jsonwebtoken::crypto::sign(input, &encoding, Algorithm::RS256).unwrap();
                assert_eq!(key.sign(input).unwrap(), expected, "{}", key.kid);
            }
        }
    }

    #[test]
    fn es256_signatures_are_64_bytes_and_verify_with_jsonwebtoken() {
        let generated = JwtKey::generate(SigningAlgorithm::Es256).unwrap();
        let (active, _) = deterministic::pair(SigningAlgorithm::Es256).unwrap();
        for key in [generated, active] {
            let signature = key.sign(b"header.payload").unwrap();
            use base64::Engine;
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&signature).unwrap();
            assert_eq!(bytes.len(), 64, "JWS's fixed-width r || s");
            let decoding = key.decoding_key().unwrap();
            assert!(jsonwebtoken::crypto::verify(&signature, b"header.payload", &decoding, Algorithm::ES256).unwrap());
            assert!(!jsonwebtoken::crypto::verify(&signature, b"header.payloaD", &decoding, Algorithm::ES256).unwrap());
        }
    }

    #[test]
    fn signatures_verify_with_the_published_key() {
        for algorithm in [SigningAlgorithm::Rs256, SigningAlgorithm::Es256] {
            let (key, _) = deterministic::pair(algorithm).unwrap();
            let signature = key.sign(b"header.payload").unwrap();
            let decoding = key.decoding_key().unwrap();
            assert!(
                jsonwebtoken::crypto::verify(&signature, b"header.payload", &decoding, key.jwt_algorithm()).unwrap()
            );
        }
    }
}
