//! The HTTP surface of the mock org, with Okta's URL shapes.
//!
//! Handlers stay thin: they extract, call one [`Idp`] or [`crate::admin`]
//! function, and respond. Errors become HTTP responses only in `error.rs`,
//! through [`HttpError`].
//!
//! Signing a response takes a fraction of a millisecond of CPU and never waits
//! on IO, so handlers sign inline on the runtime's worker thread. Moving it to
//! `spawn_blocking` cost about a fifth of the throughput in the
//! `saml_throughput` benchmark (the hand-off between threads), and libxml2
//! documents never cross an `.await` either way.

mod admin;
mod error;
mod extract;
mod oidc;
mod pages;
mod provisioning_oauth;
mod sso;
mod tls;
mod ui;
mod ui_pages;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;

pub use error::HttpError;
pub use tls::serve_tls;

use crate::idp::Idp;
use crate::keys::TlsServerIdentity;

/// The largest request body accepted (SAMLRequest forms and API bodies).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Builds the router for an IdP.
pub fn router(idp: Arc<Idp>) -> Router {
    Router::new()
        .route("/", get(sso::index))
        .route("/app/{first}/sso/saml/metadata", get(sso::metadata))
        .route("/app/{first}/{second}/sso/saml", get(sso::sp_initiated_redirect).post(sso::sp_initiated_post))
        // Single Logout, on Okta's path and the same aliases as SSO.
        .route("/app/{first}/{second}/slo/saml", get(sso::single_logout_redirect).post(sso::single_logout_post))
        .route("/home/{app_name}/{app_id}", get(sso::idp_initiated))
        .route("/home/{app_name}/{app_id}/{link}", get(sso::idp_initiated_link))
        .route("/login/mockta", get(sso::login_page).post(sso::login_submit))
        .route("/admin/app/cpc/{app_name}/oauth/callback", get(provisioning_oauth::callback))
        .merge(oidc::routes())
        // The web console: end-user sign-in and dashboard, admin console.
        .merge(ui::routes())
        .nest("/api/v1", admin::routes(idp.clone()))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(idp.clone(), error::with_error_ids))
        .layer(axum::middleware::from_fn_with_state(idp.clone(), during_outage))
        .with_state(idp)
}

/// Answers 503 Service Unavailable, before any handler runs, for every
/// request an outage a test switched on covers ([`Idp::set_outage`]), as an
/// unreachable Okta would: the SP's metadata fetch or the browser's sign-in
/// fails, whatever the request.
async fn during_outage(
    axum::extract::State(idp): axum::extract::State<Arc<Idp>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match idp.outage() {
        Some(outage) if outage.covers(request.uri().path()) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8"), (axum::http::header::RETRY_AFTER, "60")],
            "<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>The service is temporarily unavailable. Please try again later.</p></body></html>",
        )
            .into_response(),
        _ => next.run(request).await,
    }
}

/// Serves the IdP on a bound listener until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    idp: Arc<Idp>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(idp)).with_graceful_shutdown(shutdown).await
}

/// A running server, for tests and in-process use: the address it is bound to
/// and a handle that stops it when dropped.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// `https` when serving with TLS, else `http`.
    scheme: &'static str,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    /// Binds `addr` (use port 0 for any free port) and starts serving.
    pub async fn start(addr: SocketAddr, idp: Arc<Idp>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, idp, async move {
            let _ = stopped.await;
        }));
        Ok(RunningServer { addr, scheme: "http", stop: Some(stop), task: Some(task) })
    }

    /// Binds `addr` and starts serving HTTPS with `identity`'s certificate.
    /// A certificate or key that rustls refuses is an error here, before
    /// anything is served.
    pub async fn start_tls(addr: SocketAddr, idp: Arc<Idp>, identity: TlsServerIdentity) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        tls::server_config(&identity)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            serve_tls(listener, idp, &identity, async move {
                let _ = stopped.await;
            })
            .await
        });
        Ok(RunningServer { addr, scheme: "https", stop: Some(stop), task: Some(task) })
    }

    /// The server's own URL, `https` when it serves with TLS.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.unwrap_or(Ok(())),
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
