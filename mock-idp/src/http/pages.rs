//! The HTML pages of the mock: Okta-style error pages, the login page that
//! lists the users assigned to an app, and an index of the org's apps.

use axum::http::StatusCode;

use crate::saml::xml::escape;

/// An error page. The code is in `data-error-code` so tools can read it.
pub(super) fn error_page(status: StatusCode, code: &str, message: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{status} - mockta (mock Okta)</title></head>\n<body><main class=\"error\" data-error-code=\"{code}\">\n<h1>{}</h1>\n<p class=\"error-message\">{}</p>\n<p><small>mockta error code: <code>{code}</code></small></p>\n</main></body></html>\n",
        status.canonical_reason().unwrap_or("Error"),
        escape(message),
    )
}

/// The login page: one button per assigned, active user.
pub(super) fn login_page(app_label: &str, pending: &str, users: &[(String, String)]) -> String {
    let mut buttons = String::new();
    for (login, name) in users {
        buttons.push_str(&format!(
            "<li><form method=\"POST\" action=\"/login/mockta\"><input type=\"hidden\" name=\"pending\" value=\"{}\"><input type=\"hidden\" name=\"login\" value=\"{}\"><button type=\"submit\">{} &lt;{}&gt;</button></form></li>\n",
            escape(pending),
            escape(login),
            escape(name),
            escape(login)
        ));
    }
    if users.is_empty() {
        buttons.push_str("<li>No active user is assigned to this app.</li>\n");
    }
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Sign In - mockta (mock Okta)</title></head>\n<body><main>\n<h1>Sign in to {}</h1>\n<p>Choose a user. In CI, add <code>login_hint=LOGIN</code> to the sign-in URL instead.</p>\n<ul>\n{buttons}</ul>\n</main></body></html>\n",
        escape(app_label)
    )
}

/// The index page: each SAML app with its sign-in links, each OIDC client,
/// and the authorization servers' issuers.
pub(super) fn index_page(
    org_name: &str,
    apps: &[(String, String, String, String)],
    clients: &[(String, String, &str)],
    issuers: &[String],
) -> String {
    let mut rows = String::new();
    for (label, sso, embed, metadata) in apps {
        rows.push_str(&format!(
            "<tr><td>{}</td><td><a href=\"{}\">IdP-initiated</a></td><td><code>{}</code></td><td><a href=\"{}\">metadata</a></td></tr>\n",
            escape(label),
            escape(embed),
            escape(sso),
            escape(metadata)
        ));
    }
    let mut oidc = String::new();
    for (label, client_id, kind) in clients {
        oidc.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>\n",
            escape(label),
            escape(client_id),
            escape(kind)
        ));
    }
    let issuers: String = issuers
        .iter()
        .map(|i| format!("<li><a href=\"{0}/.well-known/openid-configuration\"><code>{0}</code></a></li>\n", escape(i)))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{0} - mockta (mock Okta)</title></head>\n<body><main>\n<h1>mockta: mock Okta org {0}</h1>\n<h2>SAML apps</h2>\n<table><tr><th>App</th><th>Sign in</th><th>SSO URL</th><th>Metadata</th></tr>\n{rows}</table>\n<h2>OIDC clients</h2>\n<table><tr><th>App</th><th>Client id</th><th>Type</th></tr>\n{oidc}</table>\n<h2>Issuers</h2>\n<ul>\n{issuers}</ul>\n</main></body></html>\n",
        escape(org_name)
    )
}
