//! The OpenID Connect driver. Its catalogue has no checks yet, so [`OidcAction`] has no
//! variants and this `match` is empty: it compiles to nothing and cannot be
//! reached. The first OpenID Connect check adds a variant there and its arm here, with
//! this driver's positive control and evidence.

use serde::Serialize;

use super::{Outcome, Step, Suite};
use crate::catalogue::OidcAction;

/// What an OIDC check sent and what came back: the token the mock issued,
/// decoded, and the browser's way through the flow.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OidcEvidence {
    /// The ID token's header and claims, decoded (the signature elided).
    pub id_token: Option<serde_json::Value>,
    /// Every URL the browser was sent to, in order, with the status that sent it.
    pub redirect_chain: Vec<String>,
    pub sp_status: Option<u16>,
    pub sp_location: Option<String>,
    pub sp_body_excerpt: Option<String>,
    /// What the session oracle saw.
    pub oracle: String,
}

impl OidcEvidence {
    /// The token's claims on one line, as the human report shows them.
    pub(super) fn message_summary(&self) -> Option<(&'static str, String)> {
        self.id_token.as_ref().map(|token| ("ID token sent (decoded)", token.to_string()))
    }
}

pub(super) async fn execute(_suite: &Suite, action: OidcAction) -> Step<Outcome> {
    match action {}
}
