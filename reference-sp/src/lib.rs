//! reference-sp: a correct multi-tenant SAML service provider with a SCIM 2.0
//! server.
//!
//! Vendors read it to learn how Okta SAML sign-in should be done; the
//! conformance suite uses it as its positive control. It is written
//! independently of mock-idp and never depends on it.
//!
//! [`saml`] and [`scim`] hold the protocol logic (pure: time, keys and config come in as
//! parameters), [`sign_in`] the protocol-neutral sign-in core, [`sp`] the SAML
//! sign-in flow over a [`store::Store`], [`flaws`] the
//! switchable bugs, [`config`] the TOML config, [`clock`] the one reader of
//! the system time. Only [`http`] knows axum, and
//! only [`store::sqlite`] knows SQLite.

pub mod clock;
pub mod config;
pub mod email;
pub mod flaws;
pub mod generated_keys;
pub mod http;
pub mod idp_fetch;
pub mod oidc;
pub mod oidc_fetch;
pub mod oidc_login;
pub mod provisioning;
pub mod saml;
pub mod scim;
pub mod setup;
pub mod sign_in;
pub mod slo;
pub mod sp;
pub mod store;
