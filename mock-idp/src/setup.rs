//! Building an [`Idp`] from command-line style options: which org file, where
//! the keys are, and whether to run deterministically. Shared by `mockta idp`,
//! `mockta saml …` and the conformance suite, so that they all use the same
//! keys for the same org file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use time::OffsetDateTime;

use crate::clock::{Clock, FixedClock, SystemClock};
use crate::idp::{Idp, IdpConfig, KeySource};
use crate::keys::{KeyStore, SigningCredential};
use crate::org::{Org, OrgFileError, parse_org};

/// The default org, built in so `mockta idp` works from any directory. It is
/// the same text as `fixtures/orgs/acme.toml`.
pub const BUILTIN_ORG: &str = include_str!("../../fixtures/orgs/acme.toml");
const BUILTIN_ORG_NAME: &str = "fixtures/orgs/acme.toml (built in)";

/// Reads and validates an org file from disk. The reading is here, not in
/// [`crate::org`], so that nothing under `org/` does IO.
pub fn load_org_file(path: &Path, now: OffsetDateTime) -> Result<Org, OrgFileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| OrgFileError {
        file: file.clone(),
        field: "(file)".into(),
        problem: format!("cannot be read: {e}"),
    })?;
    parse_org(&file, &text, now)
}

/// A URL's host as a certificate names it: an IPv6 address without its
/// brackets.
fn tls_host_name(host: &url::Host<&str>) -> String {
    match host {
        url::Host::Domain(name) => name.to_string(),
        url::Host::Ipv4(address) => address.to_string(),
        url::Host::Ipv6(address) => address.to_string(),
    }
}

/// Whether a file holds the built-in org's text, line endings aside.
fn is_builtin_org_file(path: &Path) -> bool {
    let normalise = |text: &str| text.replace("\r\n", "\n");
    std::fs::read_to_string(path).is_ok_and(|text| normalise(&text) == normalise(BUILTIN_ORG))
}

/// Options common to every command that runs or uses the IdP.
#[derive(Clone, Debug, Default)]
pub struct IdpOptions {
    /// The org file; the built-in default org when `None`.
    pub org_file: Option<PathBuf>,
    /// The key directory; derived from the org file when `None`.
    pub key_dir: Option<PathBuf>,
    /// A PEM private key to sign with for every app, instead of the key directory.
    pub signing_key: Option<PathBuf>,
    /// Fixed keys, clock and ids, for reproducible output.
    pub deterministic: bool,
    /// Replaces the org file's base URL.
    pub org_url: Option<String>,
    /// Key rotations change the rings in memory only, never the key
    /// directory: the conformance suite rotates keys to test a relying
    /// party and must leave the user's key folder as it was.
    pub keep_key_rotations_in_memory: bool,
    /// The `Cache-Control` header of discovery documents; none (as Okta
    /// sends) when `None`. The suite sends `no-cache`, so a client that
    /// honours HTTP caching fetches the document at each sign-in.
    pub discovery_cache_control: Option<String>,
    /// Serve HTTPS with a certificate from the key directory's local
    /// authority; the org's URL (and so every issuer and metadata URL) is
    /// then `https`.
    pub tls: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    OrgFile(#[from] OrgFileError),
    #[error("{0}")]
    Key(#[from] crate::keys::KeyError),
    #[error("{path}: cannot be read: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("--url: '{0}' is not an absolute http or https URL")]
    OrgUrl(String),
    #[error("--tls: {0}")]
    Tls(crate::keys::KeyError),
}

impl IdpOptions {
    /// The clock the IdP will run on: the fixed clock in deterministic mode,
    /// so the org's timestamps match the responses' on every run.
    pub fn clock(&self) -> Arc<dyn Clock> {
        if self.deterministic { Arc::new(FixedClock::deterministic()) } else { Arc::new(SystemClock) }
    }

    /// Loads and validates the org. Users, groups and assignments are
    /// created at the time of [`IdpOptions::clock`].
    pub fn load_org(&self) -> Result<Org, SetupError> {
        self.load_org_at(self.clock().now())
    }

    /// Loads and validates the org with `now` as the time its users, groups
    /// and assignments are created.
    fn load_org_at(&self, now: OffsetDateTime) -> Result<Org, SetupError> {
        let mut org = match &self.org_file {
            Some(path) => load_org_file(path, now)?,
            None => parse_org(BUILTIN_ORG_NAME, BUILTIN_ORG, now)?,
        };
        if let Some(url) = &self.org_url {
            let valid =
                url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !valid {
                return Err(SetupError::OrgUrl(url.clone()));
            }
            org.url = url.trim_end_matches('/').to_owned();
        }
        if self.tls
            && let Some(rest) = org.url.strip_prefix("http://")
        {
            org.url = format!("https://{rest}");
        }
        Ok(org)
    }

    /// The HTTPS identity for serving with `--tls`: the key directory's local
    /// authority (made once, then reused) and a server certificate for
    /// 127.0.0.1, ::1, localhost and the host of `org_url`. The authority
    /// lives in the same key directory as the signing keys, in deterministic
    /// mode too: a certificate must be valid at the real time, so it is made
    /// on the system clock.
    pub fn tls_identity(&self, org_url: &str) -> Result<crate::keys::TlsServerIdentity, SetupError> {
        let now = SystemClock.now();
        let authority = self.key_store().load_or_create_tls_authority(now).map_err(SetupError::Tls)?;
        let mut hosts: Vec<String> = ["127.0.0.1", "::1", "localhost"].map(String::from).into();
        if let Some(host) = url::Url::parse(org_url).ok().and_then(|u| u.host().map(|h| tls_host_name(&h)))
            && !hosts.contains(&host)
        {
            hosts.push(host);
        }
        authority.issue_server_identity(&hosts, now).map_err(SetupError::Tls)
    }

    /// Where keys come from, per the options.
    pub fn key_source(&self, org: &Org) -> Result<KeySource, SetupError> {
        if let Some(path) = &self.signing_key {
            let pem = std::fs::read_to_string(path)
                .map_err(|source| SetupError::Read { path: path.display().to_string(), source })?;
            return Ok(KeySource::Fixed(SigningCredential::from_key_pem(
                &pem,
                &org.name,
                &path.display().to_string(),
            )?));
        }
        Ok(KeySource::Directory(self.key_store()))
    }

    /// The key directory the options name, or the org file's default one.
    fn key_store(&self) -> KeyStore {
        match (&self.key_dir, &self.org_file) {
            (Some(dir), _) => KeyStore::new(dir),
            // A file with the built-in org's text (`fixtures/orgs/acme.toml`
            // or a copy of it) is the built-in org, so it gets its keys:
            // `mockta idp` and `mockta saml mint --org fixtures/orgs/acme.toml`
            // then sign with the same certificate.
            (None, Some(file)) if is_builtin_org_file(file) => KeyStore::default_for_builtin_org(),
            (None, Some(file)) => KeyStore::default_for_org_file(file),
            (None, None) => KeyStore::default_for_builtin_org(),
        }
    }

    /// Builds the IdP.
    ///
    /// [`IdpOptions::clock`] is the one source of the IdP's clock: the clock
    /// the org is loaded on is the clock the IdP runs on, whatever clock
    /// the [`IdpConfig`] constructors would choose, so the org's timestamps
    /// and the IdP's responses cannot disagree about the mode's time.
    pub fn build(&self) -> Result<Idp, SetupError> {
        let clock = self.clock();
        let org = self.load_org_at(clock.now())?;
        let config = if self.deterministic {
            IdpConfig::deterministic(org)?
        } else {
            let keys = self.key_source(&org)?;
            IdpConfig::serving(org, keys)?
        };
        let idp = Idp::new(IdpConfig { clock, ..config });
        idp.keep_key_rotations_in_memory(self.keep_key_rotations_in_memory);
        idp.set_discovery_cache_control(self.discovery_cache_control.clone());
        Ok(idp)
    }
}
