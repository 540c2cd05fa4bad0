//! The SCIM driver. Its catalogue has no checks yet, so [`ScimAction`] has no
//! variants and this `match` is empty: it compiles to nothing and cannot be
//! reached. The first SCIM check adds a variant there and its arm here, with
//! this driver's positive control and evidence.

use serde::Serialize;

use super::{Outcome, Step, Suite};
use crate::catalogue::ScimAction;

/// One SCIM request the mock sent as Okta and the SP's answer.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScimExchange {
    pub method: String,
    pub url: String,
    pub request_body: Option<String>,
    pub status: u16,
    pub response_body: String,
}

/// What a SCIM check sent and what came back, in order.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScimEvidence {
    pub exchanges: Vec<ScimExchange>,
    /// What the session oracle saw, for checks that sign in afterwards.
    pub oracle: String,
}

impl ScimEvidence {
    /// The last exchange, the one the verdict rests on.
    pub(super) fn last_answer(&self) -> Option<String> {
        self.exchanges.last().map(|e| format!("{} to {} {}", e.status, e.method, e.url))
    }

    pub(super) fn message_summary(&self) -> Option<(&'static str, String)> {
        let last = self.exchanges.last()?;
        Some((
            "last SCIM request",
            format!("{} {} {}", last.method, last.url, last.request_body.as_deref().unwrap_or("")),
        ))
    }
}

pub(super) async fn execute(_suite: &Suite, action: ScimAction) -> Step<Outcome> {
    match action {}
}
