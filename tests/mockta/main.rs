//! End-to-end tests of the `mockta` binary and interop with third-party SAML
//! and OIDC libraries.

// Test helpers panic on unexpected errors: that is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod interop;
mod interop_oidc;
mod scim_interop;
mod sp;
