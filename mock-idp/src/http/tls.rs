//! HTTPS serving for `mockta idp --tls`: the same router behind rustls.
//!
//! axum-server's rustls acceptor runs each handshake in the connection's own
//! task with a timeout, so a client that stalls mid-handshake holds up no
//! one else. The crypto provider is named here rather than left to rustls's
//! process-wide default, which is ambiguous when more than one provider is
//! built in.

use std::future::Future;
use std::sync::Arc;

use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;

use crate::idp::Idp;
use crate::keys::TlsServerIdentity;

/// The rustls server configuration for an identity: TLS 1.2 and 1.3,
/// HTTP/1.1 (the router's one protocol) offered by ALPN.
pub(super) fn server_config(identity: &TlsServerIdentity) -> std::io::Result<Arc<rustls::ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_der.clone()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| {
            builder.with_no_client_auth().with_single_cert(vec![CertificateDer::from(identity.cert_der.clone())], key)
        })
        .map_err(std::io::Error::other)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves the IdP over HTTPS on a bound listener until `shutdown`
/// completes; then open connections finish their requests, as with
/// [`super::serve`].
pub async fn serve_tls(
    listener: TcpListener,
    idp: Arc<Idp>,
    identity: &TlsServerIdentity,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let config = RustlsConfig::from_config(server_config(identity)?);
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(None);
    });
    axum_server::from_tcp_rustls(listener.into_std()?, config)?
        .handle(handle)
        .serve(super::router(idp).into_make_service())
        .await
}
