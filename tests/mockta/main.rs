//! End-to-end tests of the `mockta` binary and interop with third-party SAML
//! and OIDC libraries.

// Test helpers panic on unexpected errors: that is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod apache;
mod baseline;
mod cli;
mod interop;
mod interop_mellon;
mod interop_oidc;
mod interop_openidc;
mod interop_scim_server;
mod interop_shibboleth;
mod layering;
mod oidc_sign_in;
mod scim_interop;
mod scim_provisioning;
mod sp;
mod tls;

use std::path::PathBuf;
use std::sync::Arc;

use mock_idp::http::RunningServer;
use mock_idp::idp::{Idp, IdpConfig, KeySource};

/// The mock IdP with the built-in org and its fixed keys.
fn builtin_idp() -> Arc<Idp> {
    let org =
        mock_idp::org::parse_org("acme.toml", mock_idp::setup::BUILTIN_ORG, time::OffsetDateTime::now_utc()).unwrap();
    let key = mock_idp::keys::deterministic::signing(&org.name).unwrap();
    Arc::new(Idp::new(IdpConfig::serving(org, KeySource::Fixed(key)).unwrap()))
}

/// [`builtin_idp`] serving on a free port, with the org's URL set to where
/// it listens so metadata and discovery name the right host.
async fn serve_builtin_idp() -> (Arc<Idp>, RunningServer) {
    let idp = builtin_idp();
    let server = RunningServer::start("127.0.0.1:0".parse().unwrap(), idp.clone()).await.unwrap();
    let url = server.url();
    idp.write_org(|org| org.url = url);
    (idp, server)
}

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
