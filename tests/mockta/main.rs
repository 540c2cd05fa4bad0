//! End-to-end tests of the `mockta` binary and interop with third-party SAML
//! and OIDC libraries.

// Test helpers panic on unexpected errors: that is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod interop;
mod interop_oidc;
mod scim_interop;
mod sp;

use std::path::PathBuf;

/// The Python interpreter with the interop packages (pysaml2, Authlib,
/// okta-jwt-verifier, scim2-tester): `MOCKTA_PYTHON`, or the virtual
/// environment the test command builds in `.local/venv`.
fn python() -> PathBuf {
    let path = std::env::var_os("MOCKTA_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".local/venv/bin/python"));
    assert!(
        path.exists(),
        "{} not found: run ./scripts/test (it installs the Python interop packages into .local/venv) or set MOCKTA_PYTHON",
        path.display()
    );
    path
}
