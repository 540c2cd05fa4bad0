//! The session oracle, shared by every driver: it asks the target's session
//! URL, with a browser's cookies, whose session that browser has.
//!
//! Only two answers are definite "no session": a status the target declares
//! for it (401 by default) and a 2xx without the identity. Anything else (a
//! 503, a 429, a redirect the target did not declare) is no answer at all:
//! the check becomes an `error` with the answer shown. Reading an SP's outage
//! as "no session" would pass a check against an SP that accepts forgeries,
//! and a false pass is the worst verdict a conformance tool can give.

use super::browser::{Browser, MAX_BODY, read_body};
use super::{Step, StepError, excerpt};
use crate::target::{IdentityPath, SessionOracle};

/// What the oracle saw in one browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Seen {
    /// Whose session it is, or `None` for a definite "no session".
    pub(super) identity: Option<String>,
    /// What the answer was, for evidence and messages.
    pub(super) detail: String,
    /// The session URL's body (capped), for checks that read more than the identity.
    pub(super) body: String,
    /// The session URL's status.
    pub(super) status: u16,
}

impl Seen {
    /// "a session for X", or "no session (why)".
    pub(super) fn describe(&self) -> String {
        match &self.identity {
            Some(identity) => format!("a session for {identity}"),
            None => format!("no session ({})", self.detail),
        }
    }

    /// Whether this answer shows a session of any kind, judged against
    /// `baseline`, the answer to a browser that never signed in: an
    /// identity, or a 2xx that differs from the baseline in its status or,
    /// for JSON, in its keys (a session that holds no identity). Values are
    /// not compared, so a timestamp or token in the body cannot make one.
    pub(super) fn shows_a_session(&self, baseline: &Seen) -> bool {
        if self.identity.is_some() {
            return true;
        }
        if !(200..300).contains(&self.status) {
            return false;
        }
        if self.status != baseline.status {
            return true;
        }
        let keys = |body: &str| {
            serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect::<std::collections::BTreeSet<_>>()))
        };
        match (keys(&self.body), keys(&baseline.body)) {
            (Some(mine), Some(theirs)) => mine != theirs,
            _ => false,
        }
    }

    /// "a session for X", "a session with no identity (what it held)", or
    /// "no session (why)", judged against the never-signed-in `baseline`.
    pub(super) fn describe_against(&self, baseline: &Seen) -> String {
        if self.identity.is_none() && self.shows_a_session(baseline) {
            return format!(
                "a session with no identity: the session URL answered {} with {} (a browser that never signed in gets {})",
                self.status,
                excerpt(&self.body, 300),
                baseline.status
            );
        }
        self.describe()
    }

    /// Whether the session is `expected`'s (case-insensitive, trimmed).
    pub(super) fn is(&self, expected: &str) -> bool {
        self.identity.as_deref().is_some_and(|s| s.trim().eq_ignore_ascii_case(expected))
    }
}

/// Asks the oracle whose session `browser` has.
pub(super) async fn ask(oracle: &SessionOracle, browser: &Browser) -> Step<Seen> {
    let response = browser.send("session oracle", browser.client().get(&oracle.url)).await?;
    let status = response.status().as_u16();
    // A body cut short (a reset, a stall, more than the cap) might have held
    // the identity: it is no answer, never "no session".
    let body = read_body(response, MAX_BODY, browser.timeout())
        .await
        .whole(&format!("the session URL {} answered {status}, but its body", oracle.url))?;
    read_answer(oracle, status, body)
}

/// Judges one answer of the session URL.
pub(super) fn read_answer(oracle: &SessionOracle, status: u16, body: String) -> Step<Seen> {
    if oracle.no_session_status.contains(&status) {
        return Ok(Seen { identity: None, detail: format!("the session URL answered {status}"), body, status });
    }
    if !(200..300).contains(&status) {
        let declared: Vec<String> = oracle.no_session_status.iter().map(u16::to_string).collect();
        return Err(StepError(format!(
            "the session URL {} answered {status}, which is neither a session (2xx) nor the declared \"no session\" ({}), so the verdict cannot be read: {}",
            oracle.url,
            declared.join(" or "),
            excerpt(&body, 200)
        )));
    }
    let (identity, detail) = match &oracle.identity {
        IdentityPath::JsonPointer(pointer) => match serde_json::from_str::<serde_json::Value>(&body) {
            // The target said the session is JSON: a page that is not (a
            // proxy's error page, a login form) is no answer about it.
            Err(_) => {
                return Err(StepError(format!(
                    "the session URL {} answered {status} with a body that is not JSON, so the verdict cannot be read (use session.regex for a non-JSON session page): {}",
                    oracle.url,
                    excerpt(&body, 200)
                )));
            }
            Ok(json) => match json.pointer(pointer) {
                Some(serde_json::Value::String(identity)) if !identity.trim().is_empty() => {
                    (Some(identity.clone()), format!("{pointer} is {identity}"))
                }
                Some(other) => (None, format!("the session URL answered {status} with {pointer} = {other}")),
                None => (None, format!("the session URL answered {status} without {pointer}; {}", keys_found(&json))),
            },
        },
        IdentityPath::Regex(regex) => match regex.captures(&body).and_then(|c| c.get(1)) {
            Some(found) if !found.as_str().trim().is_empty() => {
                (Some(found.as_str().to_owned()), format!("the regex found {}", found.as_str()))
            }
            _ => (None, format!("the session URL answered {status} but the regex did not match")),
        },
    };
    Ok(Seen { identity, detail, body, status })
}

/// The keys of a JSON object, to show where the identity might be instead.
fn keys_found(json: &serde_json::Value) -> String {
    match json.as_object() {
        Some(object) if object.is_empty() => "the body is an empty object".into(),
        Some(object) => {
            format!("the keys it has are {}", object.keys().map(|k| format!("/{k}")).collect::<Vec<_>>().join(", "))
        }
        None => format!("the body is a JSON {}, not an object", json_kind(json)),
    }
}

fn json_kind(json: &serde_json::Value) -> &'static str {
    match json {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oracle() -> SessionOracle {
        SessionOracle {
            url: "http://sp.invalid/whoami".into(),
            identity: IdentityPath::JsonPointer("/email".into()),
            name: None,
            groups_pointer: None,
            licence_pointer: None,
            role_pointer: None,
            no_session_status: vec![401],
        }
    }

    #[test]
    fn only_declared_statuses_and_2xx_without_identity_mean_no_session() {
        let seen = read_answer(&oracle(), 401, String::new()).unwrap();
        assert_eq!(seen.identity, None);
        let seen = read_answer(&oracle(), 200, r#"{"email":"a@acme.test"}"#.into()).unwrap();
        assert!(seen.is("A@acme.test"));
        let StepError(message) = read_answer(&oracle(), 200, "<html>Bad gateway</html>".into()).unwrap_err();
        assert!(message.contains("not JSON"), "{message}");
        for status in [503, 429, 302, 403, 500] {
            let StepError(message) = read_answer(&oracle(), status, "busy".into()).unwrap_err();
            assert!(message.contains(&format!("answered {status}")), "{message}");
        }
    }

    #[test]
    fn a_session_without_identity_is_told_from_no_session_by_the_baseline() {
        let baseline = read_answer(&oracle(), 401, r#"{"error":"no_session"}"#.into()).unwrap();
        let anonymous = read_answer(&oracle(), 200, r#"{"email":null,"tenant":"acme"}"#.into()).unwrap();
        assert_eq!(anonymous.identity, None);
        assert!(anonymous.shows_a_session(&baseline));
        assert!(anonymous.describe_against(&baseline).contains("a session with no identity"));
        let refused = read_answer(&oracle(), 401, r#"{"error":"no_session"}"#.into()).unwrap();
        assert!(!refused.shows_a_session(&baseline));
        // An SP that answers 200 without a session: only a change of keys counts.
        let open_baseline = read_answer(&oracle(), 200, r#"{"user":null,"at":"10:00"}"#.into()).unwrap();
        let same_shape = read_answer(&oracle(), 200, r#"{"user":null,"at":"10:01"}"#.into()).unwrap();
        assert!(!same_shape.shows_a_session(&open_baseline));
        let more = read_answer(&oracle(), 200, r#"{"user":null,"at":"10:01","session":"x"}"#.into()).unwrap();
        assert!(more.shows_a_session(&open_baseline));
    }

    #[test]
    fn a_200_without_the_pointer_lists_the_keys_it_has() {
        let seen = read_answer(&oracle(), 200, r#"{"user":"a","mail":"a@acme.test"}"#.into()).unwrap();
        assert_eq!(seen.identity, None);
        assert!(seen.describe().contains("without /email; the keys it has are /user, /mail"), "{}", seen.describe());
    }
}
