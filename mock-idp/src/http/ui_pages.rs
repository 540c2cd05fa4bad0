//! The web console's HTML: the end-user sign-in page, the end-user
//! dashboard with one tile per assigned app, and the admin console.
//!
//! Pages are rendered from plain rows the handlers read out of the org, so
//! rendering never holds a lock. Every value from the org or a request goes
//! through [`escape`], including ids, because org files and the management
//! API accept any text in names and labels.

use crate::saml::xml::escape;

/// The look shared by every console page: Okta's blue bar and tiles, kept
/// small. The pages need no script: every action is a plain form.
const STYLE: &str = "body{font-family:Arial,Helvetica,sans-serif;margin:0;background:#f5f5f6;color:#1d1d21}\
header{background:#1662dd;color:#fff;padding:12px 24px;display:flex;justify-content:space-between;align-items:center}\
header a,header button{color:#fff}main{padding:24px}h1{font-size:22px}h2{font-size:18px;margin-top:28px}\
.tiles{display:flex;flex-wrap:wrap;gap:16px;list-style:none;padding:0}\
.tile{background:#fff;border:1px solid #d7d7dc;border-radius:6px;width:180px;height:110px;display:flex;align-items:center;justify-content:center;text-align:center}\
.tile a{text-decoration:none;color:#1662dd;font-weight:bold;padding:12px}.tile span{color:#6e6e78;padding:12px}\
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #d7d7dc;padding:6px 10px;text-align:left;vertical-align:top}\
.status{font-weight:bold}form.inline{display:inline}pre{white-space:pre-wrap;margin:0;max-width:520px}\
button{background:#1662dd;color:#fff;border:0;border-radius:4px;padding:6px 12px;cursor:pointer}";

fn page(title: &str, header: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} - mockta (mock Okta)</title><style>{STYLE}</style></head>\n<body><header>{header}</header>\n<main>\n{body}</main></body></html>\n",
        escape(title)
    )
}

fn hidden_token(csrf: &str) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", escape(csrf))
}

/// A user the end-user sign-in page offers.
pub(super) struct SignInChoice {
    pub login: String,
    pub name: String,
}

/// The end-user sign-in page: one button per user who may sign in.
pub(super) fn sign_in_page(org_name: &str, csrf: &str, choices: &[SignInChoice]) -> String {
    let mut items = String::new();
    for choice in choices {
        items.push_str(&format!(
            "<li><form method=\"POST\" action=\"/login/login.htm\">{}<input type=\"hidden\" name=\"login\" value=\"{}\"><button type=\"submit\" data-login=\"{}\">{} &lt;{}&gt;</button></form></li>\n",
            hidden_token(csrf),
            escape(&choice.login),
            escape(&choice.login),
            escape(&choice.name),
            escape(&choice.login),
        ));
    }
    if choices.is_empty() {
        items.push_str("<li>No user of this org may sign in.</li>\n");
    }
    let body = format!(
        "<h1>Sign In</h1>\n<p>Choose who you are. This mock org asks for no password.</p>\n<ul class=\"sign-in\">\n{items}</ul>\n"
    );
    page("Sign In", &format!("<span>{}</span>", escape(org_name)), &body)
}

/// One tile of the end-user dashboard.
pub(super) struct Tile {
    pub label: String,
    /// The link that starts the sign-in (a SAML app's embed link), or none
    /// when the app cannot be started from the dashboard.
    pub link: Option<String>,
}

/// The end-user dashboard, Okta's `/app/UserHome`.
pub(super) fn dashboard_page(org_name: &str, user_name: &str, login: &str, csrf: &str, tiles: &[Tile]) -> String {
    let mut items = String::new();
    for tile in tiles {
        match &tile.link {
            Some(link) => items.push_str(&format!(
                "<li class=\"tile\"><a href=\"{}\" data-se=\"app-tile\">{}</a></li>\n",
                escape(link),
                escape(&tile.label)
            )),
            None => items.push_str(&format!(
                "<li class=\"tile\"><span title=\"This app has no initiate login URI, so it starts from the app itself.\">{}</span></li>\n",
                escape(&tile.label)
            )),
        }
    }
    if tiles.is_empty() {
        items.push_str("<li>No app is assigned to you.</li>\n");
    }
    let header = format!(
        "<span>{}</span><span><span class=\"user\">{} ({})</span> <form class=\"inline\" method=\"POST\" action=\"/login/signout\">{}<button type=\"submit\">Sign out</button></form></span>",
        escape(org_name),
        escape(user_name),
        escape(login),
        hidden_token(csrf)
    );
    page("My Apps", &header, &format!("<h1>My Apps</h1>\n<ul class=\"tiles\">\n{items}</ul>\n"))
}

/// The admin console's sign-in form: the org's API token.
pub(super) fn admin_sign_in_page(org_name: &str, csrf: &str) -> String {
    let body = format!(
        "<h1>Admin sign-in</h1>\n<p>Enter the org's API token (the <code>SSWS</code> token of the management API).</p>\n<form method=\"POST\" action=\"/admin/sign-in\">{}<label>API token <input type=\"password\" name=\"token\" autocomplete=\"off\"></label> <button type=\"submit\">Sign in</button></form>\n",
        hidden_token(csrf)
    );
    page("Admin", &format!("<span>{} Admin</span>", escape(org_name)), &body)
}

/// A user row of the admin console.
pub(super) struct UserRow {
    pub id: String,
    pub login: String,
    pub name: String,
    pub status: &'static str,
}

/// A group row of the admin console.
pub(super) struct GroupRow {
    pub name: String,
    pub members: usize,
}

/// An app row of the admin console.
pub(super) struct AppRow {
    pub id: String,
    pub label: String,
    pub sign_on_mode: &'static str,
    pub active: bool,
    pub provisions: bool,
}

/// An armed SAML fault, as the admin console lists it.
pub(super) struct FaultRow {
    pub fault: String,
    pub user: String,
    pub app: String,
}

/// One request and answer of the provisioning transcript.
pub(super) struct ExchangeRow {
    pub sequence: u64,
    pub operation: String,
    pub request: String,
    pub request_body: String,
    pub answer: String,
    pub answer_body: String,
}

/// Everything the admin console shows.
pub(super) struct AdminView {
    pub org_name: String,
    pub csrf: String,
    pub users: Vec<UserRow>,
    pub groups: Vec<GroupRow>,
    pub apps: Vec<AppRow>,
    pub faults: Vec<FaultRow>,
    /// The SAML fault catalogue: each name with what it changes.
    pub catalogue: Vec<(String, String)>,
    /// The SCIM transcript, or `None` when no provisioning engine runs.
    pub transcript: Option<Vec<ExchangeRow>>,
}

/// The lifecycle operations the console offers for a status, as Okta's
/// admin console does: only those Okta allows from that status.
fn lifecycle_choices(status: &str) -> &'static [(&'static str, &'static str)] {
    match status {
        "ACTIVE" | "PASSWORD_EXPIRED" | "RECOVERY" => &[("suspend", "Suspend"), ("deactivate", "Deactivate")],
        "SUSPENDED" => &[("unsuspend", "Unsuspend"), ("deactivate", "Deactivate")],
        "LOCKED_OUT" => &[("unlock", "Unlock"), ("deactivate", "Deactivate")],
        "STAGED" | "PROVISIONED" => &[("activate", "Activate"), ("deactivate", "Deactivate")],
        "DEPROVISIONED" => &[("activate", "Activate")],
        _ => &[],
    }
}

fn post_button(action: &str, csrf: &str, label: &str) -> String {
    format!(
        "<form class=\"inline\" method=\"POST\" action=\"{}\">{}<button type=\"submit\">{}</button></form>",
        escape(action),
        hidden_token(csrf),
        escape(label)
    )
}

/// The admin console: users, groups and apps, fault arming, provisioning.
pub(super) fn admin_page(view: &AdminView) -> String {
    let csrf = &view.csrf;
    let mut users = String::new();
    for user in &view.users {
        let buttons: Vec<String> = lifecycle_choices(user.status)
            .iter()
            .map(|(operation, label)| {
                post_button(&format!("/admin/users/{}/lifecycle/{operation}", user.id), csrf, label)
            })
            .collect();
        users.push_str(&format!(
            "<tr data-login=\"{}\"><td>{}</td><td>{}</td><td class=\"status\">{}</td><td>{}</td></tr>\n",
            escape(&user.login),
            escape(&user.name),
            escape(&user.login),
            escape(user.status),
            buttons.join(" ")
        ));
    }
    let mut groups = String::new();
    for group in &view.groups {
        groups.push_str(&format!("<tr><td>{}</td><td>{}</td></tr>\n", escape(&group.name), group.members));
    }
    let mut apps = String::new();
    for app in &view.apps {
        let push = if app.provisions {
            post_button(&format!("/admin/apps/{}/push", app.id), csrf, "Push now")
        } else {
            String::new()
        };
        apps.push_str(&format!(
            "<tr data-app=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{push}</td></tr>\n",
            escape(&app.id),
            escape(&app.label),
            escape(app.sign_on_mode),
            if app.active { "ACTIVE" } else { "INACTIVE" },
        ));
    }
    let fault_options: String = view
        .catalogue
        .iter()
        .map(|(name, changes)| {
            format!("<option value=\"{}\" title=\"{}\">{}</option>", escape(name), escape(changes), escape(name))
        })
        .collect();
    let user_options: String = view
        .users
        .iter()
        .map(|u| format!("<option value=\"{}\">{}</option>", escape(&u.id), escape(&u.login)))
        .collect();
    let app_options: String = view
        .apps
        .iter()
        .filter(|a| a.sign_on_mode == "SAML_2_0")
        .map(|a| format!("<option value=\"{}\">{}</option>", escape(&a.id), escape(&a.label)))
        .collect();
    let mut armed = String::new();
    for fault in &view.faults {
        armed.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>\n",
            escape(&fault.fault),
            escape(&fault.user),
            escape(&fault.app)
        ));
    }
    if view.faults.is_empty() {
        armed.push_str("<tr><td colspan=\"3\">No fault is armed.</td></tr>\n");
    }
    let transcript = match &view.transcript {
        None => "<p>No provisioning engine runs for this org.</p>\n".to_owned(),
        Some(rows) if rows.is_empty() => "<p>No SCIM request has been sent yet.</p>\n".to_owned(),
        Some(rows) => {
            let mut out = String::from(
                "<table id=\"transcript\"><tr><th>#</th><th>Operation</th><th>Request</th><th>Answer</th></tr>\n",
            );
            for row in rows {
                out.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td><code>{}</code><pre>{}</pre></td><td><code>{}</code><pre>{}</pre></td></tr>\n",
                    row.sequence,
                    escape(&row.operation),
                    escape(&row.request),
                    escape(&row.request_body),
                    escape(&row.answer),
                    escape(&row.answer_body)
                ));
            }
            out.push_str("</table>\n");
            out
        }
    };
    let body = format!(
        "<h1>Admin console</h1>\n\
<h2 id=\"users\">People</h2>\n<table id=\"users-table\"><tr><th>Name</th><th>Username</th><th>Status</th><th>Change</th></tr>\n{users}</table>\n\
<h2 id=\"groups\">Groups</h2>\n<table id=\"groups-table\"><tr><th>Name</th><th>Members</th></tr>\n{groups}</table>\n\
<h2 id=\"apps\">Applications</h2>\n<table id=\"apps-table\"><tr><th>Label</th><th>Sign-on</th><th>Status</th><th>Provisioning</th></tr>\n{apps}</table>\n\
<h2 id=\"faults\">SAML fault for the next response</h2>\n\
<form id=\"arm-fault\" method=\"POST\" action=\"/admin/faults\">{token}\
<label>Fault <select name=\"fault\">{fault_options}</select></label> \
<label>User <select name=\"user\"><option value=\"\">any user</option>{user_options}</select></label> \
<label>App <select name=\"app\"><option value=\"\">any app</option>{app_options}</select></label> \
<label>Impersonate <input name=\"impersonate\" placeholder=\"admin@ the org's domain\"></label> \
<button type=\"submit\">Arm</button></form>\n\
<table id=\"armed-faults\"><tr><th>Armed fault</th><th>User</th><th>App</th></tr>\n{armed}</table>\n{clear}\n\
<h2 id=\"provisioning\">Provisioning transcript</h2>\n{transcript}",
        token = hidden_token(csrf),
        clear = post_button("/admin/faults/clear", csrf, "Clear armed faults"),
    );
    let header =
        format!("<span>{} Admin</span>{}", escape(&view.org_name), post_button("/admin/sign-out", csrf, "Sign out"));
    page("Admin", &header, &body)
}
