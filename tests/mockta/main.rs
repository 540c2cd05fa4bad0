//! End-to-end tests of the `mockta` binary and interop with third-party SAML
//! and OIDC libraries.

// Test helpers panic on unexpected errors: that is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod apache;
mod baseline;
mod ci_recipe;
mod cli;
mod explain;
mod interop;
mod interop_mellon;
mod interop_oidc;
mod interop_okta_sdk;
mod interop_openidc;
mod interop_scim_server;
mod interop_shibboleth;
mod layering;
mod oidc_sign_in;
mod oin_profile;
mod profiles;
mod scim_interop;
mod scim_oauth;
mod scim_provisioning;
mod sp;
mod target_init;
mod tls;
mod ui_browser;

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

/// A fresh RSA-2048 key (PKCS#8 PEM) and a self-signed certificate for it
/// (PEM), named `common_name` and valid for `days`: what the SPs in these
/// tests sign or decrypt with.
fn self_signed_key_pair(common_name: &str, days: u32) -> (String, openssl::x509::X509) {
    use openssl::asn1::Asn1Time;
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;
    use openssl::x509::{X509, X509NameBuilder};

    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", common_name).unwrap();
    let name = name.build();
    let mut builder = X509::builder().unwrap();
    builder.set_version(2).unwrap();
    builder.set_subject_name(&name).unwrap();
    builder.set_issuer_name(&name).unwrap();
    builder.set_pubkey(&key).unwrap();
    builder.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
    builder.set_not_after(&Asn1Time::days_from_now(days).unwrap()).unwrap();
    builder.sign(&key, MessageDigest::sha256()).unwrap();
    (String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap(), builder.build())
}
