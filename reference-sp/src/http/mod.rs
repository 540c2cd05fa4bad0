//! The SP's HTTP surface. Handlers extract, call one [`Sp`] function and
//! respond; errors become responses only in `error.rs`.

mod admin;
mod error;
mod extract;
mod logout;
mod oidc;
mod pages;
mod scim;
mod scim_oauth;
mod sign_in;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;

pub use error::HttpError;
pub use logout::LOGOUT_PENDING_COOKIE;
pub use oidc::{OIDC_ID_TOKEN_COOKIE, OIDC_PENDING_COOKIE};

use crate::sp::Sp;

/// The session cookie.
pub const SESSION_COOKIE: &str = "rsp_session";
/// The cookie that ties an outstanding AuthnRequest to this browser.
pub const PENDING_COOKIE: &str = "rsp_pending";
/// The largest request body accepted (a SAMLResponse form).
pub const MAX_BODY_BYTES: usize = 768 * 1024;

pub fn router(sp: Arc<Sp>) -> Router {
    // The limit applies before any handler reads the body, so an oversized
    // SAMLResponse is refused with 413 before it is decoded or parsed; the
    // any-body-size flaw lifts it (attacks.md S-31).
    let body_limit = if sp.policy.limit_body_size {
        axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES)
    } else {
        axum::extract::DefaultBodyLimit::disable()
    };
    Router::new()
        .route("/", get(pages::home))
        .route("/welcome", get(pages::home))
        .route("/login", get(sign_in::login))
        .route("/sso/acs/", post(sign_in::acs_shared))
        .route("/sso/acs/{tenant}", post(sign_in::acs_tenant))
        .route("/sso/metadata/{tenant}", get(sign_in::metadata))
        .route("/whoami", get(sign_in::whoami))
        .route("/logout", post(sign_in::logout))
        .route("/sso/logout/{tenant}", get(logout::start).post(logout::start))
        .route("/sso/slo/{tenant}", post(logout::single_logout))
        .route("/oidc/login", get(oidc::login))
        .route("/oidc/logout", get(oidc::logout))
        .route("/oidc/refresh", post(oidc::refresh))
        .route("/oauth/scim/{tenant}/authorize", get(scim_oauth::authorize))
        .route("/oauth/scim/{tenant}/token", post(scim_oauth::token))
        .nest("/admin", admin::routes())
        .nest("/scim/v2", scim::routes(sp.clone()))
        .fallback(no_such_route)
        // After every route, SCIM's included: this sets the refusal on each
        // route that has none yet, and SCIM's routes already have their own.
        .method_not_allowed_fallback(method_not_allowed)
        .layer(body_limit)
        .with_state(sp)
}

/// Any path no route has, except a tenant's OIDC callback: each tenant
/// names its own redirect path, so callbacks are found here rather than
/// registered as routes (two configs cannot then make the router clash).
async fn no_such_route(
    axum::extract::State(sp): axum::extract::State<Arc<Sp>>,
    request: axum::extract::Request,
) -> Result<axum::response::Response, HttpError> {
    match oidc::callback(&sp, request).await {
        Some(answer) => answer,
        None => Err(HttpError::NoSuchRoute),
    }
}

/// A route that does not take the method; axum adds the `Allow` header.
async fn method_not_allowed(method: axum::http::Method) -> HttpError {
    HttpError::MethodNotAllowed(method.to_string())
}

/// A running SP server: its address, and a handle that stops it when dropped.
pub struct RunningSp {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl RunningSp {
    pub async fn start(addr: SocketAddr, sp: Arc<Sp>) -> std::io::Result<Self> {
        Self::serve(TcpListener::bind(addr).await?, sp)
    }

    /// Serves on a listener bound beforehand, for callers that need the
    /// address (for the base URL) before the SP is built.
    pub fn serve(listener: TcpListener, sp: Arc<Sp>) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = router(sp);
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(RunningSp { addr, stop: Some(stop), task: Some(task) })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

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

impl Drop for RunningSp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Reads one cookie from the request headers.
fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
}
