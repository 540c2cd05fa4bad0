//! Key pairs the SP makes for itself at start-up, for tenants whose config
//! says `generate_encryption_key = true` or `generate_signing_key = true`:
//! an RSA-2048 key and a self-signed certificate, kept in memory only.
//!
//! The built-in config is compiled into the binary, so it cannot name key
//! files that exist wherever `mockta sp` runs; a generated pair lets its
//! tenant take encrypted assertions and sign its requests anyway. An IdP
//! learns the certificate from the tenant's SP metadata, which publishes it.
//!
//! A pair is made once per process for each tenant and role and then reused
//! by every `Sp` the process builds: generating an RSA key takes a noticeable
//! fraction of a second, and tests and `mockta demo` build many SPs from the
//! same config. The pair lives as long as the process, as a key read from a
//! file that only the process could see would.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};
use time::OffsetDateTime;

use crate::config::{KeyPair, TenantId};

/// What a generated key pair is for; part of the certificate's name, so the
/// two certificates of one tenant can be told apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyRole {
    Encryption,
    Signing,
}

impl KeyRole {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Encryption => "encryption",
            KeyRole::Signing => "signing",
        }
    }
}

/// How long a generated certificate is valid: ten years, as the mock IdP's
/// own certificates are, so no run of the process outlives it.
const VALIDITY_DAYS: i64 = 3653;

/// The pairs made so far in this process, by tenant and role.
fn made() -> &'static Mutex<HashMap<(TenantId, KeyRole), KeyPair>> {
    static MADE: OnceLock<Mutex<HashMap<(TenantId, KeyRole), KeyPair>>> = OnceLock::new();
    MADE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The tenant's generated key pair for `role`, made now (valid from a minute
/// before `now`) unless this process already made it. The lock is held while
/// a pair is made, so two SPs built at once get the same pair.
pub fn generated_key_pair(tenant: &TenantId, role: KeyRole, now: OffsetDateTime) -> Result<KeyPair, String> {
    let mut made = made().lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(pair) = made.get(&(tenant.clone(), role)) {
        return Ok(pair.clone());
    }
    let pair = make_key_pair(tenant, role, now).map_err(|e| format!("could not be generated: {e}"))?;
    made.insert((tenant.clone(), role), pair.clone());
    Ok(pair)
}

/// An RSA-2048 key and a self-signed SHA-256 certificate for it, named
/// after the tenant and the role.
fn make_key_pair(tenant: &TenantId, role: KeyRole, now: OffsetDateTime) -> Result<KeyPair, openssl::error::ErrorStack> {
    let key = PKey::from_rsa(Rsa::generate(2048)?)?;
    let mut name = X509NameBuilder::new()?;
    // A tenant id is at most 64 characters, the X.520 limit for a common name.
    name.append_entry_by_text("CN", tenant.as_str())?;
    name.append_entry_by_text("O", "mockta reference SP")?;
    name.append_entry_by_text("OU", &format!("generated {} key", role.as_str()))?;
    let name = name.build();
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    let mut builder = X509::builder()?;
    builder.set_version(2)?;
    builder.set_serial_number(Asn1Integer::from_bn(&serial)?.as_ref())?;
    builder.set_subject_name(&name)?;
    builder.set_issuer_name(&name)?;
    builder.set_pubkey(&key)?;
    let not_before = now - time::Duration::minutes(1);
    let not_after = now + time::Duration::days(VALIDITY_DAYS);
    builder.set_not_before(Asn1Time::from_unix(not_before.unix_timestamp())?.as_ref())?;
    builder.set_not_after(Asn1Time::from_unix(not_after.unix_timestamp())?.as_ref())?;
    builder.sign(&key, MessageDigest::sha256())?;
    let certificate = builder.build();
    let private_key_pem = String::from_utf8_lossy(&key.private_key_to_pem_pkcs8()?).into_owned();
    use base64::Engine;
    let certificate_base64 = base64::engine::general_purpose::STANDARD.encode(certificate.to_der()?);
    Ok(KeyPair { private_key_pem, certificate_base64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_pair_is_an_rsa_key_with_its_own_certificate_made_once_per_tenant_and_role() {
        let tenant = TenantId::parse("generated-keys-test").unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let encryption = generated_key_pair(&tenant, KeyRole::Encryption, now).unwrap();
        let key = PKey::private_key_from_pem(encryption.private_key_pem.as_bytes()).unwrap();
        assert_eq!(key.rsa().unwrap().size(), 256);
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD.decode(&encryption.certificate_base64).unwrap();
        let certificate = X509::from_der(&der).unwrap();
        assert!(certificate.public_key().unwrap().public_eq(&key));
        assert!(certificate.verify(&key).unwrap(), "self-signed");
        let name = |c: &X509| format!("{:?}", c.subject_name());
        assert!(name(&certificate).contains("generated-keys-test"), "{}", name(&certificate));
        // Reused in the process, whatever the clock says later.
        let later = now + time::Duration::days(1);
        assert_eq!(generated_key_pair(&tenant, KeyRole::Encryption, later).unwrap(), encryption);
        let signing = generated_key_pair(&tenant, KeyRole::Signing, now).unwrap();
        assert_ne!(signing.certificate_base64, encryption.certificate_base64);
        assert_ne!(signing.private_key_pem, encryption.private_key_pem);
        // Valid from a minute before `now` for ten years.
        let not_before = Asn1Time::from_unix(now.unix_timestamp() - 60).unwrap();
        assert_eq!(certificate.not_before().compare(&not_before).unwrap(), std::cmp::Ordering::Equal);
        let not_after = Asn1Time::from_unix((now + time::Duration::days(VALIDITY_DAYS)).unix_timestamp()).unwrap();
        assert_eq!(certificate.not_after().compare(&not_after).unwrap(), std::cmp::Ordering::Equal);
    }
}
