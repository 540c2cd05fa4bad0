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
        let store = SqliteStore::open(&config.database)
            .map_err(|source| SetupError::Database { path: config.database.display().to_string(), source })?;
        Ok(Sp::new(config, Arc::new(store), flaws, Arc::new(SystemClock))?)
    }
}
