//! mock-idp: a mock Okta org, its SAML 2.0 identity provider and its OpenID
//! Connect authorization servers.
//!
//! The crate is layered. [`org`] holds the validated org model, [`saml`] and
//! [`oidc`] the pure protocol logic (what a response says, how it is signed and faulted),
//! [`keys`] the signing credentials, [`admin`] Okta's management API as pure
//! operations on the org, and [`idp`] the running provider's state. Only
//! [`http`] knows axum.

pub mod admin;
pub mod clock;
pub mod http;
pub mod idp;
pub mod ids;
pub mod keys;
pub mod oidc;
pub mod org;
pub mod provisioning;
pub mod saml;
pub mod scim;
pub mod setup;
