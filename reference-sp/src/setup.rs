//! Building an [`Sp`] from command-line style options, so the CLI only parses.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{BUILTIN_CONFIG, ConfigError, SpConfig, load_config_file, parse_config};
use crate::flaws::{Flaw, UnknownFlaw};
use crate::sp::{Sp, SpError, SystemClock};
use crate::store::sqlite::SqliteStore;

#[derive(Clone, Debug, Default)]
pub struct SpOptions {
    /// The config file; the built-in default when `None`.
    pub config: Option<PathBuf>,
    /// Replaces the config's database path.
    pub database: Option<PathBuf>,
    /// Replaces the config's listen address.
    pub listen: Option<SocketAddr>,
    /// Flaw names to switch on.
    pub flaws: Vec<String>,
    /// Replaces the config's `extra_ca_file`: CA certificates (PEM) trusted
    /// for fetches from IdPs besides the built-in roots.
    pub extra_ca_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("--flaw: {0}")]
    Flaw(#[from] UnknownFlaw),
    #[error("{path}: cannot open the database: {source}")]
    Database { path: String, source: crate::store::StoreError },
    #[error("{0}")]
    Sp(#[from] SpError),
    #[error("extra CA file: {0}")]
    ExtraCa(String),
}

impl SpOptions {
    pub fn load_config(&self) -> Result<SpConfig, SetupError> {
        let mut config = match &self.config {
            Some(path) => load_config_file(path)?,
            None => parse_config("fixtures/sp/reference.toml (built in)", BUILTIN_CONFIG, std::path::Path::new("."))?,
        };
        if let Some(database) = &self.database {
            config.database = database.clone();
        }
        if let Some(listen) = self.listen {
            // A base URL derived from the old address follows the new one,
            // except to port 0, which only means "any free port".
            if config.base_url == format!("http://{}", config.listen) && listen.port() != 0 {
                config.base_url = format!("http://{listen}");
            }
            config.listen = listen;
        }
        if let Some(file) = &self.extra_ca_file {
            config.extra_ca_file = Some(file.clone());
        }
        Ok(config)
    }

    pub fn flaws(&self) -> Result<BTreeSet<Flaw>, SetupError> {
        Ok(self.flaws.iter().map(|f| f.parse::<Flaw>()).collect::<Result<_, _>>()?)
    }

    /// Opens the store and builds the SP. Metadata is loaded separately
    /// ([`crate::idp_fetch::refresh_all`]) because it needs the network.
    pub fn build(&self) -> Result<Sp, SetupError> {
        let config = self.load_config()?;
        let flaws = self.flaws()?;
        // The extra CA is read at start-up, so a file that is missing or
        // holds no certificate stops the SP here rather than at a sign-in.
        crate::idp_fetch::IdpClients::new(config.extra_ca_file.as_deref()).map_err(SetupError::ExtraCa)?;
        let store = SqliteStore::open(&config.database)
            .map_err(|source| SetupError::Database { path: config.database.display().to_string(), source })?;
        Ok(Sp::new(config, Arc::new(store), flaws, Arc::new(SystemClock))?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn options_with_ca(dir: &std::path::Path, ca_file: PathBuf) -> SpOptions {
        SpOptions { database: Some(dir.join("sp.sqlite3")), extra_ca_file: Some(ca_file), ..SpOptions::default() }
    }

    #[test]
    fn an_extra_ca_file_that_is_missing_or_holds_no_certificate_stops_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let error = options_with_ca(dir.path(), missing.clone()).build().err().unwrap().to_string();
        assert!(error.starts_with(&format!("extra CA file: {}: cannot be read", missing.display())), "{error}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let error = options_with_ca(dir.path(), empty.clone()).build().err().unwrap().to_string();
        assert_eq!(error, format!("extra CA file: {}: holds no PEM certificate", empty.display()));
    }
}
