//! Integration tests for the reference SP: the real HTTP server, driven with
//! responses minted and signed by this test's own helper (not mock-idp), so
//! the SP is checked independently of the mock IdP.

// Test helpers panic on unexpected errors: that is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod appenate;
mod encryption;
mod hardening;
mod moovingon;
mod oidc_flow;
mod oidc_props;
mod oidc_refresh;
mod oidc_rules;
mod oidc_support;
mod okta_spec;
mod properties;
mod rules;
mod scim;
mod scim_load;
mod scim_oauth;
mod scim_props;
mod single_logout;
mod store_suite;
mod support;
