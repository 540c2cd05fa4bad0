//! HTML pages: the home page and refusal pages.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Html;

use crate::sp::Sp;

pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A refusal page. `data-error-code` holds the stable code for tools.
pub(super) fn refusal(status: StatusCode, code: &str, message: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Sign-in refused</title></head>\n<body><main class=\"refusal\" data-error-code=\"{code}\">\n<h1>{} {}</h1>\n<p class=\"reason\">{}</p>\n<p>Error code: <code>{code}</code></p>\n</main></body></html>\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        escape(message)
    )
}

pub(super) async fn home(State(sp): State<Arc<Sp>>, headers: HeaderMap) -> Html<String> {
    let who = super::cookie(&headers, super::SESSION_COOKIE).and_then(|token| sp.whoami(&token).ok().flatten());
    let body = match who {
        Some(who) => format!(
            "<p>Signed in as <strong>{}</strong> ({}) in tenant {}.</p><form method=\"POST\" action=\"/logout\"><button>Sign out</button></form>",
            escape(&who.name),
            escape(who.email.as_deref().unwrap_or("no account")),
            who.tenant
        ),
        None => sp
            .config()
            .tenants
            .iter()
            .map(|t| {
                format!("<p><a href=\"/login?tenant={0}\">Sign in to {1} with Okta</a></p>", t.id, escape(&t.name))
            })
            .collect(),
    };
    Html(format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Reference SP</title></head><body><main><h1>Reference SP</h1>{body}</main></body></html>\n"
    ))
}
