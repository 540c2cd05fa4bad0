//! Signing keys and certificates, made with rcgen and kept in a key directory.
//!
//! Each SAML app has its own signing credential, as in Okta. A credential is
//! generated on first use and written to the key directory, so that it stays
//! the same across restarts and across `mockta idp`, `mockta saml mint` and the
//! conformance suite. The certificate copies the shape of Okta's: self-signed
//! RSA-2048, sha256WithRSA, subject `C=US, ST=California, L=San Francisco,
//! O=Okta, OU=SSOProvider, CN={org}, emailAddress=info@okta.com`, a serial that
//! is the creation time in milliseconds, valid from a minute before creation
//! until ten calendar years after it. As in Okta's, the country is a
//! PrintableString and the email an IA5String; the other names are UTF8String.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rcgen::string::{Ia5String, PrintableString};
use rcgen::{CertificateParams, DistinguishedName, DnType, DnValue, KeyPair, SerialNumber};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot generate an RSA-2048 key: {0}")]
    Generate(rcgen::Error),
    #[error("{path}: not a PEM private key (PKCS#8 RSA expected): {reason}")]
    BadKey { path: String, reason: String },
    #[error("cannot make the certificate: {0}")]
    Certificate(rcgen::Error),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("cannot make the HTTPS certificate: {0}")]
    Tls(rcgen::Error),
}

/// A private key with its self-signed certificate. Cheap to clone: the
/// encodings every response needs are computed once and shared.
#[derive(Clone, Debug)]
pub struct SigningCredential {
    /// PKCS#8 PEM.
    pub key_pem: Arc<str>,
    pub cert_pem: Arc<str>,
    pub cert_der: Arc<[u8]>,
    cert_base64: Arc<str>,
    fingerprint: Arc<str>,
    /// The private key parsed for aws-lc-rs on first use and shared by every
    /// clone, so that no response pays for parsing the PEM again.
    rsa_key_pair: Arc<OnceLock<Option<aws_lc_rs::signature::RsaKeyPair>>>,
}

/// The instant used for certificates made from a given key, so that the same
/// key always gives the same certificate.
const FIXED_CERTIFICATE_TIME: OffsetDateTime = time::macros::datetime!(2024-01-01 00:00 UTC);

impl SigningCredential {
    fn new(key_pem: String, cert_pem: String, cert_der: Vec<u8>) -> Self {
        let flat = BASE64.encode(&cert_der);
        let mut wrapped = String::with_capacity(flat.len() + flat.len() / 76);
        for (index, chunk) in flat.as_bytes().chunks(76).enumerate() {
            if index > 0 {
                wrapped.push('\n');
            }
            wrapped.push_str(&String::from_utf8_lossy(chunk));
        }
        let fingerprint: String = Sha256::digest(&cert_der).iter().map(|b| format!("{b:02x}")).collect();
        SigningCredential {
            key_pem: key_pem.into(),
            cert_pem: cert_pem.into(),
            cert_der: cert_der.into(),
            cert_base64: wrapped.into(),
            fingerprint: fingerprint.into(),
            rsa_key_pair: Arc::new(OnceLock::new()),
        }
    }

    /// Generates a new RSA-2048 key and an Okta-shaped certificate created at `now`.
    pub fn generate(org_name: &str, now: OffsetDateTime) -> Result<Self, KeyError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(KeyError::Generate)?;
        Self::with_certificate(key, org_name, now)
    }

    /// Makes the certificate for an existing key. The certificate does not
    /// depend on the time, so a given key and org name always give the same one.
    pub fn from_key_pem(key_pem: &str, org_name: &str, origin: &str) -> Result<Self, KeyError> {
        let key = KeyPair::from_pkcs8_pem_and_sign_algo(key_pem, &rcgen::PKCS_RSA_SHA256)
            .map_err(|e| KeyError::BadKey { path: origin.to_owned(), reason: e.to_string() })?;
        Self::with_certificate(key, org_name, FIXED_CERTIFICATE_TIME)
    }

    fn with_certificate(key: KeyPair, org_name: &str, created: OffsetDateTime) -> Result<Self, KeyError> {
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        let country = PrintableString::try_from("US").map_err(KeyError::Certificate)?;
        let email = Ia5String::try_from("info@okta.com").map_err(KeyError::Certificate)?;
        name.push(DnType::CountryName, DnValue::PrintableString(country));
        name.push(DnType::StateOrProvinceName, "California");
        name.push(DnType::LocalityName, "San Francisco");
        name.push(DnType::OrganizationName, "Okta");
        name.push(DnType::OrganizationalUnitName, "SSOProvider");
        name.push(DnType::CommonName, org_name);
        name.push(DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]), DnValue::Ia5String(email));
        params.distinguished_name = name;
        let millis = u64::try_from(created.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        params.serial_number = Some(SerialNumber::from_slice(&millis.to_be_bytes()[2..]));
        params.not_before = created - time::Duration::seconds(60);
        params.not_after = ten_years_after(created);
        let cert = params.self_signed(&key).map_err(KeyError::Certificate)?;
        Ok(SigningCredential::new(key.serialize_pem(), cert.pem(), cert.der().to_vec()))
    }

    /// The certificate as base64, wrapped at 76 columns with LF, as Okta puts
    /// it in `X509Certificate`.
    pub fn cert_base64_wrapped(&self) -> &str {
        &self.cert_base64
    }

    /// The SHA-256 fingerprint of the certificate, as lowercase hex. It names
    /// the credential in caches.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The private key as an aws-lc-rs RSA key pair, parsed once per
    /// credential; `None` when aws-lc-rs does not take it (the signer then
    /// falls back to libxmlsec1, which parses the PEM itself).
    pub fn rsa_key_pair(&self) -> Option<&aws_lc_rs::signature::RsaKeyPair> {
        self.rsa_key_pair
            .get_or_init(|| {
                let der = KeyPair::from_pem(&self.key_pem).ok()?.serialize_der();
                aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&der).ok()
            })
            .as_ref()
    }
}

/// The same instant ten calendar years later, as Okta's certificates end:
/// a fixed count of days would fall a day short or long across leap years.
/// February 29th becomes February 28th in a year that has no 29th.
fn ten_years_after(instant: OffsetDateTime) -> OffsetDateTime {
    let year = instant.year() + 10;
    instant
        .replace_year(year)
        .or_else(|_| instant.replace_day(28).and_then(|earlier| earlier.replace_year(year)))
        .unwrap_or(instant + time::Duration::days(3652))
}

/// A directory of credentials, each stored as `{name}.key.pem` and `{name}.cert.pem`.
#[derive(Clone, Debug)]
pub struct KeyStore {
    dir: PathBuf,
}

impl KeyStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        KeyStore { dir: dir.into() }
    }

    /// The default key directory for an org file:
    /// `$MOCKTA_KEY_DIR`, else `$XDG_DATA_HOME/mockta/keys`, else
    /// `~/.local/share/mockta/keys`, followed by a folder named after the org
    /// file's canonical path, so the same org file always gets the same keys.
    pub fn default_for_org_file(org_file: &Path) -> Self {
        let canonical = fs::canonicalize(org_file).unwrap_or_else(|_| org_file.to_path_buf());
        let stem = org_file.file_stem().map_or_else(|| "org".to_owned(), |s| s.to_string_lossy().into_owned());
        KeyStore::new(default_base().join(folder_name(&stem, &canonical.to_string_lossy())))
    }

    /// The default key directory of the built-in org, under the same base
    /// as [`KeyStore::default_for_org_file`]. Its folder is `builtin-acme-`
    /// and a tag, the name the built-in org has always had, so keys made
    /// before stay in use.
    pub fn default_for_builtin_org() -> Self {
        KeyStore::new(default_base().join(folder_name(BUILTIN_ORG_KEY_NAME, BUILTIN_ORG_KEY_NAME)))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Loads the named credential, or generates and stores it. A key whose
    /// certificate file is missing or unreadable gets its certificate made
    /// again.
    ///
    /// Each key and each certificate is made once, however many threads or
    /// processes ask for it at the same moment: making either happens under
    /// the key directory's lock, after reading again, and whoever comes
    /// second reads what the first one stored.
    pub fn load_or_create(
        &self,
        name: &str,
        org_name: &str,
        now: OffsetDateTime,
    ) -> Result<SigningCredential, KeyError> {
        if let Some(found) = self.read_credential(name) {
            return Ok(found);
        }
        self.while_locked(|| {
            // Whoever held the lock before may have stored the key, its
            // certificate or both while this caller waited.
            if let Some(found) = self.read_credential(name) {
                return Ok(found);
            }
            let key_path = self.key_path(name);
            if let Ok(key_pem) = fs::read_to_string(&key_path) {
                // The certificate is made from the key as it is: replacing
                // the key would change the credential every SP already trusts.
                let credential = SigningCredential::from_key_pem(&key_pem, org_name, &key_path.display().to_string())?;
                write_atomically(&self.cert_path(name), credential.cert_pem.as_bytes(), false)?;
                return Ok(credential);
            }
            let credential = SigningCredential::generate(org_name, now)?;
            // The certificate goes first: a key file is only ever seen with
            // its own certificate beside it, so nobody makes a second,
            // different certificate for it.
            write_atomically(&self.cert_path(name), credential.cert_pem.as_bytes(), false)?;
            write_atomically(&self.key_path(name), credential.key_pem.as_bytes(), true)?;
            Ok(credential)
        })
    }

    fn key_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.key.pem"))
    }

    fn cert_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.cert.pem"))
    }

    /// The stored credential, if both its key and a readable certificate are
    /// stored. Making anything that is missing is left to the caller, under
    /// the key directory's lock.
    fn read_credential(&self, name: &str) -> Option<SigningCredential> {
        let key_pem = fs::read_to_string(self.key_path(name)).ok()?;
        let cert_pem = fs::read_to_string(self.cert_path(name)).ok()?;
        let cert_der = pem_body(&cert_pem)?;
        Some(SigningCredential::new(key_pem, cert_pem, cert_der))
    }

    /// Runs `create` while holding an exclusive lock on the key directory's
    /// lock file, so that of several threads or processes that find a key or
    /// certificate missing, one makes it and the others read it. Only creation takes the
    /// lock: reading existing keys works in a read-only key directory.
    fn while_locked<T, E: From<KeyError>>(&self, create: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        fs::create_dir_all(&self.dir)
            .map_err(|source| KeyError::Io { path: self.dir.display().to_string(), source })?;
        let lock_path = self.dir.join(LOCK_FILE);
        let io = |source| KeyError::Io { path: lock_path.display().to_string(), source };
        let lock_file = fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io)?;
        lock_file.lock().map_err(io)?;
        let result = create();
        // Closing the file would release the lock too; unlocking says so.
        let _ = lock_file.unlock();
        result
    }

    /// Reads the named private file, or makes its text with `create` and
    /// stores it (mode 0600). Like [`KeyStore::load_or_create`], the file is
    /// made once however many callers race for it; the others get the text
    /// the first one stored.
    pub fn read_or_create_private<E: From<KeyError>>(
        &self,
        name: &str,
        create: impl FnOnce() -> Result<String, E>,
    ) -> Result<String, E> {
        if let Some(text) = self.read_private(name) {
            return Ok(text);
        }
        self.while_locked(|| {
            if let Some(text) = self.read_private(name) {
                return Ok(text);
            }
            let text = create()?;
            write_atomically(&self.dir.join(name), text.as_bytes(), true)?;
            Ok(text)
        })
    }
}

/// The local certificate authority's files in a key directory: the
/// certificate is the file users trust, so it keeps the same name.
const TLS_CA_NAME: &str = "tls-ca";

impl KeyStore {
    /// Loads the local certificate authority that signs the mock's HTTPS
    /// certificates, or makes and stores it. It is made once per key
    /// directory, under the directory's lock like every other key, so a user
    /// who trusts its certificate once keeps trusting the mock across
    /// restarts.
    pub fn load_or_create_tls_authority(&self, now: OffsetDateTime) -> Result<TlsAuthority, KeyError> {
        if let Some(found) = self.read_tls_authority()? {
            return Ok(found);
        }
        self.while_locked(|| {
            if let Some(found) = self.read_tls_authority()? {
                return Ok(found);
            }
            let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(KeyError::Tls)?;
            let cert_pem = tls_authority_params(&key, now).self_signed(&key).map_err(KeyError::Tls)?.pem();
            // The certificate goes first, as for signing credentials: a key
            // is never seen without the certificate users trust for it.
            write_atomically(&self.cert_path(TLS_CA_NAME), cert_pem.as_bytes(), false)?;
            write_atomically(&self.key_path(TLS_CA_NAME), key.serialize_pem().as_bytes(), true)?;
            Ok(TlsAuthority { key_pem: key.serialize_pem().into(), cert_path: self.cert_path(TLS_CA_NAME) })
        })
    }

    /// The stored authority, if its key and certificate are both stored. A
    /// stored key that does not parse is an error rather than a reason to
    /// make a new authority, which would silently break the trust users gave
    /// the old one.
    fn read_tls_authority(&self) -> Result<Option<TlsAuthority>, KeyError> {
        let key_path = self.key_path(TLS_CA_NAME);
        let cert_path = self.cert_path(TLS_CA_NAME);
        let (Ok(key_pem), true) = (fs::read_to_string(&key_path), cert_path.is_file()) else { return Ok(None) };
        KeyPair::from_pem(&key_pem)
            .map_err(|e| KeyError::BadKey { path: key_path.display().to_string(), reason: e.to_string() })?;
        Ok(Some(TlsAuthority { key_pem: key_pem.into(), cert_path }))
    }
}

/// The local certificate authority of a key directory. Its certificate is
/// stored at [`TlsAuthority::cert_path`]; HTTPS clients that trust that file
/// trust every server certificate it issues.
#[derive(Clone, Debug)]
pub struct TlsAuthority {
    key_pem: Arc<str>,
    cert_path: PathBuf,
}

/// What serving HTTPS needs: the server's certificate chain and key, and
/// where the authority's certificate is for clients to trust.
#[derive(Clone, Debug)]
pub struct TlsServerIdentity {
    /// The server certificate, DER. The authority's certificate is not sent:
    /// a client must already trust it.
    pub cert_der: Vec<u8>,
    /// The server's private key, PKCS#8 DER.
    pub key_der: Vec<u8>,
    /// The authority's certificate file, PEM.
    pub ca_cert_path: PathBuf,
}

impl TlsAuthority {
    /// The authority's certificate file, PEM.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// Issues a server certificate for `hosts` (IP addresses or DNS names),
    /// with a fresh key. It is not stored: every start makes its own, and
    /// only the authority needs to be trusted.
    pub fn issue_server_identity(&self, hosts: &[String], now: OffsetDateTime) -> Result<TlsServerIdentity, KeyError> {
        let authority_key = KeyPair::from_pem(&self.key_pem).map_err(KeyError::Tls)?;
        let issuer = rcgen::Issuer::new(tls_authority_params(&authority_key, now), &authority_key);
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(KeyError::Tls)?;
        let mut params = CertificateParams::new(hosts.to_vec()).map_err(KeyError::Tls)?;
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, hosts.first().map_or("localhost", String::as_str));
        params.distinguished_name = name;
        params.is_ca = rcgen::IsCa::ExplicitNoCa;
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = now - time::Duration::seconds(60);
        // Some clients (Apple's among them) refuse server certificates valid
        // for longer than 398 days, even from a private authority.
        params.not_after = now + time::Duration::days(397);
        let cert = params.signed_by(&key, &issuer).map_err(KeyError::Tls)?;
        Ok(TlsServerIdentity {
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
            ca_cert_path: self.cert_path.clone(),
        })
    }
}

/// The authority's certificate parameters. The subject names the key (a tag
/// hashed from its public key), so that two key directories' authorities are
/// told apart in a trust store, and so that the issuer of a server
/// certificate can be rebuilt from the stored key alone.
fn tls_authority_params(key: &KeyPair, now: OffsetDateTime) -> CertificateParams {
    use rcgen::PublicKeyData;
    let digest = Sha256::digest(key.der_bytes());
    let tag: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "mockta");
    name.push(DnType::CommonName, format!("mockta local CA {tag}"));
    params.distinguished_name = name;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    params.not_before = now - time::Duration::seconds(60);
    params.not_after = now + time::Duration::days(3652);
    params
}

/// The name the built-in org's key folder is made from.
const BUILTIN_ORG_KEY_NAME: &str = "builtin-acme";

/// `$MOCKTA_KEY_DIR`, else `$XDG_DATA_HOME/mockta/keys`, else
/// `~/.local/share/mockta/keys`.
fn default_base() -> PathBuf {
    std::env::var_os("MOCKTA_KEY_DIR").map(PathBuf::from).unwrap_or_else(|| {
        let data = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from).unwrap_or_else(|| {
            std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from).join(".local/share")
        });
        data.join("mockta/keys")
    })
}

/// A key folder's name: a readable stem and a tag hashed from `identity`.
fn folder_name(stem: &str, identity: &str) -> String {
    let digest = Sha256::digest(identity.as_bytes());
    let tag: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{stem}-{tag}")
}

/// The lock file that serialises key creation in a key directory.
const LOCK_FILE: &str = ".mockta-keys.lock";

impl KeyStore {
    /// Reads a private file from the key directory, if it exists.
    pub fn read_private(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.dir.join(name)).ok()
    }

    /// Writes a private file (mode 0600) to the key directory atomically.
    pub fn write_private(&self, name: &str, text: &str) -> Result<(), KeyError> {
        fs::create_dir_all(&self.dir)
            .map_err(|source| KeyError::Io { path: self.dir.display().to_string(), source })?;
        write_atomically(&self.dir.join(name), text.as_bytes(), true)
    }
}

/// Decodes the body of a single-block PEM file.
pub fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    BASE64.decode(body.trim()).ok()
}

/// Writes through a temporary file and a rename, so a crash never leaves half a key.
fn write_atomically(path: &Path, bytes: &[u8], private: bool) -> Result<(), KeyError> {
    let io = |source| KeyError::Io { path: path.display().to_string(), source };
    // The temporary name is unique per write, not only per process, so two
    // threads writing the same file never share a temporary file.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let serial = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{serial}", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    fs::rename(&tmp, path).map_err(io)
}

/// The fixed credentials of deterministic mode, shipped with the source so
/// snapshots are byte-identical on every machine. Never use them for anything
/// but tests: the private keys are public.
pub mod deterministic {
    use super::{KeyError, SigningCredential};

    pub const SIGNING_KEY_PEM: &str = include_str!("../../fixtures/keys/deterministic-signing.key.pem");
    pub const UNTRUSTED_KEY_PEM: &str = include_str!("../../fixtures/keys/deterministic-untrusted.key.pem");

    pub fn signing(org_name: &str) -> Result<SigningCredential, KeyError> {
        SigningCredential::from_key_pem(SIGNING_KEY_PEM, org_name, "deterministic signing key")
    }

    pub fn untrusted(org_name: &str) -> Result<SigningCredential, KeyError> {
        SigningCredential::from_key_pem(
            UNTRUSTED_KEY_PEM,
            "attacker",
            &format!("deterministic untrusted key ({org_name})"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_store_returns_same_credential_after_restart() {
        let dir = tempfile::tempdir().unwrap();
        let now = time::macros::datetime!(2024-05-01 12:00 UTC);
        let first = KeyStore::new(dir.path()).load_or_create("saml-x", "acme", now).unwrap();
        let second = KeyStore::new(dir.path()).load_or_create("saml-x", "acme", now).unwrap();
        assert_eq!(first.cert_der, second.cert_der);
        assert_eq!(first.key_pem, second.key_pem);
    }

    #[test]
    fn a_lost_certificate_is_made_again_from_the_stored_key() {
        let dir = tempfile::tempdir().unwrap();
        let now = time::macros::datetime!(2024-05-01 12:00 UTC);
        let store = KeyStore::new(dir.path());
        let first = store.load_or_create("saml-x", "acme", now).unwrap();
        fs::remove_file(dir.path().join("saml-x.cert.pem")).unwrap();
        let again = store.load_or_create("saml-x", "acme", now).unwrap();
        assert_eq!(again.key_pem, first.key_pem, "the key is kept");
        let stored = fs::read_to_string(dir.path().join("saml-x.cert.pem")).unwrap();
        assert_eq!(*again.cert_pem, *stored, "the new certificate is stored");
    }

    #[test]
    fn certificate_from_key_is_stable() {
        let a = deterministic::signing("acme").unwrap();
        let b = deterministic::signing("acme").unwrap();
        assert_eq!(a.cert_der, b.cert_der);
        assert!(a.cert_base64_wrapped().lines().all(|l| l.len() <= 76));
    }

    #[test]
    fn bad_key_pem_is_reported() {
        let error = SigningCredential::from_key_pem("not a key", "acme", "k.pem").unwrap_err();
        assert!(error.to_string().starts_with("k.pem: not a PEM private key"), "{error}");
    }
}
