//! Signing keys of the authorization servers: each server's key ring, made
//! on first use, kept in the key directory, rotated on schedule or on
//! demand, and published as a JWKS.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::lock;
use crate::idp::{Idp, KeySource};
use crate::keys::KeyError;
use crate::oidc::keys::{JwksCaching, JwtKey, KeyRing, KeyStatus, RingKey};
use crate::oidc::{OidcError, ServerRef};
use crate::org::oidc::SigningAlgorithm;

/// One key as Okta's key API lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyInfo {
    pub status: KeyStatus,
    #[serde(flatten)]
    pub jwk: Value,
}

/// The stored form of a key ring in the key directory.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredRing {
    active_since: i64,
    keys: Vec<StoredKey>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredKey {
    status: String,
    created: i64,
    pem: String,
}

/// A key directory error met while keeping a key ring is an OIDC signing
/// key error: the endpoints answer `server_error`.
impl From<KeyError> for OidcError {
    fn from(error: KeyError) -> Self {
        OidcError::Key(error.to_string())
    }
}

/// The stored form of a ring, as the key directory keeps it.
fn ring_text(ring: &KeyRing) -> Result<String, OidcError> {
    let stored = StoredRing {
        active_since: ring.active_since.unix_timestamp(),
        keys: ring
            .keys()
            .iter()
            .map(|k| StoredKey {
                status: serde_json::to_value(k.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                created: k.created.unix_timestamp(),
                pem: k.key.private_pem.to_string(),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&stored).map_err(|e| OidcError::Key(e.to_string()))
}

impl Idp {
    /// A server's signing algorithm and rotation interval in days, from one
    /// look at the org. The org server signs RS256 and rotates only on demand.
    fn key_settings(&self, server: &ServerRef) -> (SigningAlgorithm, Option<i64>) {
        let defaults = (SigningAlgorithm::Rs256, None);
        match server {
            ServerRef::Org => defaults,
            ServerRef::Custom(id) => self.read_org(|org| {
                org.authorization_server(id).map_or(defaults, |s| (s.signing_algorithm, s.rotation_days))
            }),
        }
    }

    fn new_key(&self, algorithm: SigningAlgorithm) -> Result<JwtKey, OidcError> {
        JwtKey::generate(algorithm).map_err(|e| OidcError::Key(e.to_string()))
    }

    /// The first key ring of a server: from the key directory, or made.
    fn initial_ring(
        &self,
        server: &ServerRef,
        algorithm: SigningAlgorithm,
        now: OffsetDateTime,
    ) -> Result<KeyRing, OidcError> {
        let key_error = |e: String| OidcError::Key(e);
        match &self.keys {
            KeySource::Fixed(credential) => {
                let (deterministic_active, next) =
                    crate::oidc::keys::deterministic::pair(algorithm).map_err(|e| key_error(e.to_string()))?;
                // A PEM given with --signing-key signs RS256 tokens too.
                let active = match algorithm {
                    SigningAlgorithm::Rs256 => JwtKey::from_pem(&credential.key_pem, algorithm, "signing key")
                        .map_err(|e| key_error(e.to_string()))?,
                    SigningAlgorithm::Es256 => deterministic_active,
                };
                Ok(KeyRing::new(active, next, now))
            }
            KeySource::Directory(store) => {
                let file = format!("{}.ring.json", server.key_name());
                // The ring is made under the key directory's lock, so
                // concurrent first requests all get the one ring that was
                // stored, never a ring of their own.
                let mut made = None;
                let text = store.read_or_create_private(&file, || {
                    let ring = KeyRing::new(self.new_key(algorithm)?, self.new_key(algorithm)?, now);
                    let text = ring_text(&ring)?;
                    made = Some(ring);
                    Ok::<_, OidcError>(text)
                })?;
                if let Some(ring) = made {
                    return Ok(ring);
                }
                let stored: StoredRing = serde_json::from_str(&text)
                    .map_err(|e| key_error(format!("{}/{file}: {e}", store.dir().display())))?;
                let mut keys = Vec::new();
                for key in stored.keys {
                    let status = match key.status.as_str() {
                        "ACTIVE" => KeyStatus::Active,
                        "NEXT" => KeyStatus::Next,
                        _ => KeyStatus::Expired,
                    };
                    let jwt_key = JwtKey::from_pem(&key.pem, algorithm, &file).map_err(|e| key_error(e.to_string()))?;
                    let created = OffsetDateTime::from_unix_timestamp(key.created).unwrap_or(now);
                    keys.push(RingKey { key: jwt_key, status, created });
                }
                let since = OffsetDateTime::from_unix_timestamp(stored.active_since).unwrap_or(now);
                KeyRing::from_keys(keys, since)
                    .ok_or_else(|| key_error(format!("{}/{file}: needs exactly one ACTIVE key", store.dir().display())))
            }
        }
    }

    /// Writes a rotated ring back to the key directory, unless rotations are
    /// kept in memory ([`Idp::keep_key_rotations_in_memory`]).
    fn store_ring(&self, server: &ServerRef, ring: &KeyRing) -> Result<(), OidcError> {
        if self.oidc.rotations_in_memory.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        let KeySource::Directory(store) = &self.keys else { return Ok(()) };
        Ok(store.write_private(&format!("{}.ring.json", server.key_name()), &ring_text(ring)?)?)
    }

    /// Runs `f` on the server's key ring, making it first and rotating it if a
    /// scheduled rotation is due.
    ///
    /// Lock order: the org lock is never taken while the rings lock is held
    /// (the server's settings are read first), and callers must not hold the
    /// org lock when they call this.
    pub(super) fn with_ring<T>(&self, server: &ServerRef, f: impl FnOnce(&KeyRing) -> T) -> Result<T, OidcError> {
        let now = self.now();
        let (algorithm, days) = self.key_settings(server);
        let mut rings = lock(&self.oidc.rings);
        if !rings.contains_key(server) {
            let ring = self.initial_ring(server, algorithm, now)?;
            rings.insert(server.clone(), ring);
        }
        let Some(ring) = rings.get_mut(server) else {
            return Err(OidcError::Key("key ring missing".into()));
        };
        if ring.rotation_due(days, now) {
            ring.rotate(self.new_key(algorithm)?, now);
            let snapshot = ring.clone();
            self.store_ring(server, &snapshot)?;
        }
        Ok(f(ring))
    }

    /// Rotates a server's signing key, as Okta's `keyRotate` does, or at once
    /// for a leaked key (`emergency`).
    pub fn rotate_keys(&self, server: &ServerRef, emergency: bool) -> Result<Vec<KeyInfo>, OidcError> {
        self.check_server(server)?;
        self.with_ring(server, |_| ())?;
        let now = self.now();
        let fresh = self.new_key(self.key_settings(server).0)?;
        let snapshot = {
            let mut rings = lock(&self.oidc.rings);
            let ring = rings.get_mut(server).ok_or_else(|| OidcError::Key("key ring missing".into()))?;
            if emergency {
                ring.emergency_rotate(fresh, now);
            } else {
                ring.rotate(fresh, now);
            }
            ring.clone()
        };
        self.store_ring(server, &snapshot)?;
        self.signing_keys(server)
    }

    /// A copy of a server's key ring as it is now, for
    /// [`Idp::restore_key_ring`].
    pub fn key_ring(&self, server: &ServerRef) -> Result<KeyRing, OidcError> {
        self.check_server(server)?;
        self.with_ring(server, KeyRing::clone)
    }

    /// Puts back a key ring taken with [`Idp::key_ring`]. Okta has no such
    /// operation; the conformance suite uses it to undo a rotation it made
    /// to test a client, so that the keys the client has cached sign again.
    pub fn restore_key_ring(&self, server: &ServerRef, ring: KeyRing) -> Result<(), OidcError> {
        self.check_server(server)?;
        lock(&self.oidc.rings).insert(server.clone(), ring.clone());
        self.store_ring(server, &ring)
    }

    /// The keys of a server with their status, as Okta's key API lists them.
    pub fn signing_keys(&self, server: &ServerRef) -> Result<Vec<KeyInfo>, OidcError> {
        self.check_server(server)?;
        self.with_ring(server, |ring| {
            ring.keys().iter().map(|k| KeyInfo { status: k.status, jwk: k.key.public_jwk() }).collect()
        })
    }

    /// The JWKS document and how long it may be cached: counted down to the
    /// next scheduled rotation, `no-cache` close to it (see [`JwksCaching`]).
    pub fn jwks(&self, server: &ServerRef) -> Result<(Value, JwksCaching), OidcError> {
        self.check_server(server)?;
        let now = self.now();
        let (_, days) = self.key_settings(server);
        let served = self.with_ring(server, |ring| (ring.jwks(), JwksCaching::at(ring.next_rotation(days), now)))?;
        self.count_fetch(server, |fetches| fetches.jwks += 1);
        Ok(served)
    }

    /// The attacker's JWKS, served for the `jku-header` fault.
    pub fn attacker_jwks(&self) -> Value {
        json!({ "keys": [self.oidc.attacker.public_jwk()] })
    }

    /// The attacker's self-signed certificate as PEM, served for the
    /// `x5u-header` fault (RFC 7515 4.1.5: x5u names a PEM resource).
    pub fn attacker_certificate_pem(&self) -> Result<String, OidcError> {
        use base64::Engine;
        let der = self.oidc.attacker.self_signed_certificate_der().map_err(|e| OidcError::Key(e.to_string()))?;
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = body.as_bytes().chunks(64).filter_map(|chunk| std::str::from_utf8(chunk).ok()).collect();
        Ok(format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n")))
    }
}
