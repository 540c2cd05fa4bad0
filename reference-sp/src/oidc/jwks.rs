//! The provider's key set (RFC 7517) and the choice of key for a token.
//!
//! Keys of a type this client does not use (`oct`, `OKP`, made-up types)
//! and encryption keys are skipped, not refused (RFC 7517 §5), so a provider
//! that publishes them still works. A `kid` is an opaque lookup key: it is
//! compared, never interpreted (attacks.md O-05).

use serde_json::{Map, Value};

use super::{IdTokenAlgorithm, OidcError};

/// The largest key set accepted, in keys; Okta publishes two or three.
const MAX_KEYS: usize = 100;

/// One public signing key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicJwk {
    pub kid: Option<String>,
    /// The algorithm the key is published for, if the set says.
    pub alg: Option<String>,
    pub material: KeyMaterial,
}

/// The key itself, as base64url text from the JWK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyMaterial {
    Rsa {
        n: String,
        e: String,
    },
    /// A P-256 key; other curves are skipped when the set is read.
    EcP256 {
        x: String,
        y: String,
    },
}

/// A provider's signing keys.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Jwks {
    pub keys: Vec<PublicJwk>,
}

impl PublicJwk {
    /// Reads one JWK; `None` for a key this client does not use.
    pub fn from_json(value: &Map<String, Value>) -> Option<PublicJwk> {
        let text = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
        if value.get("use").is_some_and(|u| u.as_str() != Some("sig")) {
            return None;
        }
        let material = match value.get("kty").and_then(Value::as_str)? {
            "RSA" => KeyMaterial::Rsa { n: text("n")?, e: text("e")? },
            "EC" if text("crv").as_deref() == Some("P-256") => KeyMaterial::EcP256 { x: text("x")?, y: text("y")? },
            _ => return None,
        };
        Some(PublicJwk { kid: text("kid"), alg: text("alg"), material })
    }

    /// Whether the key can verify a signature made with `algorithm`.
    pub fn fits(&self, algorithm: IdTokenAlgorithm) -> bool {
        let type_fits = matches!(
            (&self.material, algorithm),
            (KeyMaterial::Rsa { .. }, IdTokenAlgorithm::Rs256) | (KeyMaterial::EcP256 { .. }, IdTokenAlgorithm::Es256)
        );
        type_fits && self.alg.as_deref().is_none_or(|alg| alg == algorithm.as_str())
    }

    /// The key for jsonwebtoken's signature check.
    pub(crate) fn decoding_key(&self) -> Option<jsonwebtoken::DecodingKey> {
        match &self.material {
            KeyMaterial::Rsa { n, e } => jsonwebtoken::DecodingKey::from_rsa_components(n, e).ok(),
            KeyMaterial::EcP256 { x, y } => jsonwebtoken::DecodingKey::from_ec_components(x, y).ok(),
        }
    }

    /// The public key of a certificate given as standard base64 DER, as an
    /// `x5c` header carries it; only the `trust-header-x5c` flaw reads one.
    pub(crate) fn from_certificate(base64_der: &str) -> Option<PublicJwk> {
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD.decode(base64_der).ok()?;
        let key = openssl::x509::X509::from_der(&der).ok()?.public_key().ok()?;
        let encode = |bytes: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let material = if let Ok(rsa) = key.rsa() {
            KeyMaterial::Rsa { n: encode(rsa.n().to_vec()), e: encode(rsa.e().to_vec()) }
        } else {
            let ec = key.ec_key().ok()?;
            let mut context = openssl::bn::BigNumContext::new().ok()?;
            let (mut x, mut y) = (openssl::bn::BigNum::new().ok()?, openssl::bn::BigNum::new().ok()?);
            ec.public_key().affine_coordinates(ec.group(), &mut x, &mut y, &mut context).ok()?;
            KeyMaterial::EcP256 { x: encode(x.to_vec_padded(32).ok()?), y: encode(y.to_vec_padded(32).ok()?) }
        };
        Some(PublicJwk { kid: None, alg: None, material })
    }

    /// The RSA public key as SPKI PEM, in the forms a vulnerable library
    /// would have it (LF and CRLF line ends). Only the `hs256-public-key`
    /// flaw reads it, as an HMAC secret.
    pub(crate) fn rsa_public_pems(&self) -> Vec<String> {
        let KeyMaterial::Rsa { n, e } = &self.material else { return Vec::new() };
        let pem = (|| {
            let n = openssl::bn::BigNum::from_slice(&super::from_base64url(n)?).ok()?;
            let e = openssl::bn::BigNum::from_slice(&super::from_base64url(e)?).ok()?;
            let rsa = openssl::rsa::Rsa::from_public_components(n, e).ok()?;
            let key = openssl::pkey::PKey::from_rsa(rsa).ok()?;
            String::from_utf8(key.public_key_to_pem().ok()?).ok()
        })();
        pem.map(|pem| vec![pem.replace('\n', "\r\n"), pem]).unwrap_or_default()
    }
}

impl Jwks {
    /// Parses a key set document, skipping keys this client does not use.
    pub fn parse(text: &str) -> Result<Jwks, OidcError> {
        let document: Map<String, Value> =
            serde_json::from_str(text).map_err(|e| OidcError::JwksInvalid(format!("not a JSON object: {e}")))?;
        Jwks::from_json(&document)
    }

    pub fn from_json(document: &Map<String, Value>) -> Result<Jwks, OidcError> {
        let keys = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| OidcError::JwksInvalid("'keys' is not an array".into()))?;
        if keys.len() > MAX_KEYS {
            return Err(OidcError::JwksInvalid(format!("more than {MAX_KEYS} keys")));
        }
        Ok(Jwks { keys: keys.iter().filter_map(Value::as_object).filter_map(PublicJwk::from_json).collect() })
    }

    /// Whether any key has this `kid`.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// The keys a token signed with `algorithm` may have used: those with its
    /// `kid`, or, without a `kid`, every key that fits (each is tried, as the
    /// OIDF's `kid-absent-multiple-jwks` test allows). A `kid` no key has is
    /// [`OidcError::UnknownKid`], which lets the caller refetch the set once.
    pub fn candidates(&self, kid: Option<&str>, algorithm: IdTokenAlgorithm) -> Result<Vec<&PublicJwk>, OidcError> {
        let fitting: Vec<&PublicJwk> = match kid {
            Some(kid) => {
                if !self.has_kid(kid) {
                    return Err(OidcError::UnknownKid(shorten(kid)));
                }
                self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid) && k.fits(algorithm)).collect()
            }
            None => self.keys.iter().filter(|k| k.fits(algorithm)).collect(),
        };
        if fitting.is_empty() { Err(OidcError::NoUsableKey) } else { Ok(fitting) }
    }
}

/// A `kid` for an error message: a hostile one may be 10 kB long.
fn shorten(kid: &str) -> String {
    let mut short: String = kid.chars().take(64).collect();
    if short.len() < kid.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> Jwks {
        Jwks::parse(
            r#"{"keys":[
                {"kty":"RSA","alg":"RS256","kid":"a","use":"sig","e":"AQAB","n":"xyz"},
                {"kty":"EC","crv":"P-256","kid":"b","x":"x1","y":"y1"},
                {"kty":"oct","kid":"c","k":"secret"},
                {"kty":"AKP","kid":"d"},
                {"kty":"RSA","kid":"e","use":"enc","e":"AQAB","n":"abc"},
                {"kty":"EC","crv":"P-384","kid":"f","x":"x","y":"y"}
            ]}"#,
        )
        .unwrap()
    }

    #[test]
    fn keys_this_client_does_not_use_are_skipped() {
        let kids: Vec<_> = set().keys.iter().map(|k| k.kid.clone().unwrap()).collect();
        assert_eq!(kids, ["a", "b"]);
    }

    #[test]
    fn a_kid_picks_its_key_and_an_unknown_kid_asks_for_a_refetch() {
        let jwks = set();
        assert_eq!(jwks.candidates(Some("a"), IdTokenAlgorithm::Rs256).unwrap().len(), 1);
        assert_eq!(jwks.candidates(Some("b"), IdTokenAlgorithm::Rs256).unwrap_err(), OidcError::NoUsableKey);
        assert_eq!(jwks.candidates(Some("zz"), IdTokenAlgorithm::Rs256).unwrap_err().code(), "oidc.unknown_kid");
        assert_eq!(jwks.candidates(None, IdTokenAlgorithm::Es256).unwrap()[0].kid.as_deref(), Some("b"));
        let long = "k".repeat(10_000);
        let OidcError::UnknownKid(shown) = jwks.candidates(Some(&long), IdTokenAlgorithm::Rs256).unwrap_err() else {
            panic!("not an unknown kid")
        };
        assert!(shown.chars().count() <= 65);
    }

    #[test]
    fn a_set_that_is_not_a_key_set_is_refused() {
        assert_eq!(Jwks::parse("{}").unwrap_err().code(), "oidc.jwks_invalid");
        assert_eq!(Jwks::parse("nope").unwrap_err().code(), "oidc.jwks_invalid");
    }
}
