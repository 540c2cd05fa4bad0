//! The target file: how the suite reaches an SP, without code.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// A validated target.
#[derive(Clone, Debug)]
pub struct Target {
    /// The org file to serve; `None` is the built-in default org.
    pub org: Option<PathBuf>,
    /// Where the SP expects the mock IdP.
    pub idp_listen: SocketAddr,
    /// The SAML app (id or name) in the org.
    pub app: String,
    pub login_url: Option<String>,
    pub jit: bool,
    pub session: SessionOracle,
    pub create_user: Option<Hook>,
    /// Turns IdP-initiated sign-in on or off; the body template gets `{value}`
    /// (`true` or `false`).
    pub set_idp_initiated: Option<Hook>,
    /// Lists the SP's accounts; a check looks for an email in the answer's
    /// text to tell whether an account exists.
    pub list_users: Option<Hook>,
    pub concurrency: usize,
    pub timeout: Duration,
}

/// How to tell whether a browser has a session, and whose.
#[derive(Clone, Debug)]
pub struct SessionOracle {
    pub url: String,
    pub identity: IdentityPath,
    /// JSON pointer to the user's display name, for the attributes check.
    pub name_pointer: Option<String>,
    /// JSON pointer to the user's groups (an array), for the attributes check.
    pub groups_pointer: Option<String>,
}

#[derive(Clone, Debug)]
pub enum IdentityPath {
    /// A JSON pointer into the response body, such as `/email`.
    JsonPointer(String),
    /// A regex whose first group is the identity.
    Regex(regex::Regex),
}

/// An HTTP call for an admin action with no standard API.
#[derive(Clone, Debug)]
pub struct Hook {
    pub method: reqwest::Method,
    pub url: String,
    /// A body template with `{email}` and `{name}`.
    pub body: Option<String>,
    pub basic_auth: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {field}: {problem}")]
pub struct TargetError {
    pub file: String,
    pub field: String,
    pub problem: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetFile {
    idp: IdpSection,
    saml: SamlSection,
    session: SessionSection,
    #[serde(default)]
    hooks: HooksSection,
    #[serde(default)]
    limits: LimitsSection,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdpSection {
    org: Option<String>,
    listen: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SamlSection {
    app: String,
    login_url: Option<String>,
    #[serde(default)]
    jit: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionSection {
    url: String,
    json_pointer: Option<String>,
    regex: Option<String>,
    name_pointer: Option<String>,
    groups_pointer: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HooksSection {
    create_user: Option<HookEntry>,
    set_idp_initiated: Option<HookEntry>,
    list_users: Option<HookEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HookEntry {
    method: String,
    url: String,
    body: Option<String>,
    basic_auth: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsSection {
    concurrency: Option<usize>,
    timeout_seconds: Option<u64>,
}

/// Reads and validates a target file. Relative paths are relative to it.
pub fn load_target(path: &Path) -> Result<Target, TargetError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| TargetError {
        file: file.clone(),
        field: "(file)".into(),
        problem: format!("cannot be read: {e}"),
    })?;
    parse_target(&file, &text, path.parent().unwrap_or(Path::new(".")))
}

pub fn parse_target(file: &str, text: &str, dir: &Path) -> Result<Target, TargetError> {
    let fail = |field: &str, problem: String| TargetError { file: file.to_owned(), field: field.to_owned(), problem };
    let parsed: TargetFile = toml::from_str(text).map_err(|e| {
        let field = e.span().map_or_else(
            || "(syntax)".to_owned(),
            |span| format!("line {}", text[..span.start.min(text.len())].matches('\n').count() + 1),
        );
        fail(&field, e.message().replace('\n', " ").trim().to_owned())
    })?;
    let idp_listen = parsed
        .idp
        .listen
        .parse()
        .map_err(|_| fail("idp.listen", format!("'{}' is not an address:port", parsed.idp.listen)))?;
    let url_ok =
        |u: &str| url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if let Some(login) = &parsed.saml.login_url
        && !url_ok(login)
    {
        return Err(fail("saml.login_url", format!("'{login}' is not an absolute http or https URL")));
    }
    if !url_ok(&parsed.session.url) {
        return Err(fail("session.url", format!("'{}' is not an absolute http or https URL", parsed.session.url)));
    }
    let identity = match (parsed.session.json_pointer, parsed.session.regex) {
        (Some(pointer), None) if pointer.starts_with('/') => IdentityPath::JsonPointer(pointer),
        (Some(pointer), None) => return Err(fail("session.json_pointer", format!("'{pointer}' must start with '/'"))),
        (None, Some(pattern)) => match regex::Regex::new(&pattern) {
            Ok(regex) if regex.captures_len() > 1 => IdentityPath::Regex(regex),
            Ok(_) => return Err(fail("session.regex", "needs a capture group for the identity".into())),
            Err(e) => {
                return Err(fail("session.regex", e.to_string().lines().last().unwrap_or("invalid").trim().to_owned()));
            }
        },
        _ => return Err(fail("session", "give exactly one of json_pointer or regex".into())),
    };
    let hook = |name: &str, entry: Option<HookEntry>| -> Result<Option<Hook>, TargetError> {
        let Some(entry) = entry else { return Ok(None) };
        let method = reqwest::Method::from_bytes(entry.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| fail(&format!("hooks.{name}.method"), format!("'{}' is not an HTTP method", entry.method)))?;
        if !url_ok(&entry.url) {
            return Err(fail(
                &format!("hooks.{name}.url"),
                format!("'{}' is not an absolute http or https URL", entry.url),
            ));
        }
        let basic_auth = match entry.basic_auth {
            None => None,
            Some(pair) => match pair.split_once(':') {
                Some((user, password)) => Some((user.to_owned(), password.to_owned())),
                None => return Err(fail(&format!("hooks.{name}.basic_auth"), "must be USER:PASSWORD".into())),
            },
        };
        Ok(Some(Hook { method, url: entry.url, body: entry.body, basic_auth }))
    };
    let create_user = hook("create_user", parsed.hooks.create_user)?;
    let set_idp_initiated = hook("set_idp_initiated", parsed.hooks.set_idp_initiated)?;
    let list_users = hook("list_users", parsed.hooks.list_users)?;
    let pointer = |field: &str, value: Option<String>| -> Result<Option<String>, TargetError> {
        match value {
            Some(p) if !p.starts_with('/') => Err(fail(field, format!("'{p}' must start with '/'"))),
            other => Ok(other),
        }
    };
    let concurrency = parsed.limits.concurrency.unwrap_or(8);
    if !(1..=64).contains(&concurrency) {
        return Err(fail("limits.concurrency", format!("{concurrency} is not between 1 and 64")));
    }
    let timeout = parsed.limits.timeout_seconds.unwrap_or(10);
    if !(1..=120).contains(&timeout) {
        return Err(fail("limits.timeout_seconds", format!("{timeout} is not between 1 and 120")));
    }
    if parsed.saml.app.trim().is_empty() {
        return Err(fail("saml.app", "must not be empty".into()));
    }
    Ok(Target {
        org: parsed.idp.org.map(|org| dir.join(org)),
        idp_listen,
        app: parsed.saml.app,
        login_url: parsed.saml.login_url,
        jit: parsed.saml.jit,
        session: SessionOracle {
            url: parsed.session.url,
            identity,
            name_pointer: pointer("session.name_pointer", parsed.session.name_pointer)?,
            groups_pointer: pointer("session.groups_pointer", parsed.session.groups_pointer)?,
        },
        create_user,
        set_idp_initiated,
        list_users,
        concurrency,
        timeout: Duration::from_secs(timeout),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE: &str = include_str!("../../fixtures/targets/reference-sp.toml");

    #[test]
    fn reference_target_loads() {
        let target = parse_target("reference-sp.toml", REFERENCE, Path::new("fixtures/targets")).unwrap();
        assert_eq!(target.app, "reference-sp");
        assert!(target.jit);
        assert!(target.create_user.is_some());
        assert_eq!(target.org.unwrap(), Path::new("fixtures/targets/../orgs/acme.toml"));
    }

    #[test]
    fn bad_fields_are_named() {
        let error = parse_target(
            "t.toml",
            &REFERENCE.replace("json_pointer = \"/email\"", "json_pointer = \"email\""),
            Path::new("."),
        )
        .unwrap_err();
        assert_eq!(error.to_string(), "t.toml: session.json_pointer: 'email' must start with '/'");
        let error =
            parse_target("t.toml", &REFERENCE.replace("127.0.0.1:7000", "nowhere"), Path::new(".")).unwrap_err();
        assert_eq!(error.to_string(), "t.toml: idp.listen: 'nowhere' is not an address:port");
    }
}
