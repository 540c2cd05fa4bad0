//! `mockta explain`: what a support engineer does with a customer's SSO
//! error. The customer sends a SAMLResponse, an ID token, a HAR file or a
//! discovery document; this module decodes it, verifies it against the
//! IdP's metadata, certificate or JWKS, and lists every rule it breaks,
//! named by the conformance checks' own ids and fix hints (`catalogue/`),
//! with the side that must fix it.
//!
//! Unlike an SP, which stops at the first problem, explain reports them all,
//! since a customer fixing one setting at a time would otherwise come back
//! once per mistake. Everything here is pure: the input arrives as text
//! ([`input::decode`] turns it into a typed [`input::Message`]), the keys as
//! text, and time as `now`; reading files and fetching URLs is the CLI's.

pub mod har;
pub mod input;
pub mod jwt;
pub mod metadata;
pub mod render;
pub mod repair;
pub mod rules;
pub mod saml;

use serde::Serialize;
use time::OffsetDateTime;

use crate::catalogue::Severity;

/// Who must change something for the rule to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// An Okta app setting (the Audience URI, the Single sign-on URL, the
    /// signing options).
    Okta,
    /// The SP's configuration or code.
    Sp,
    /// Either, depending on which of the two is meant to be right.
    Either,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Okta => "okta",
            Side::Sp => "sp",
            Side::Either => "either",
        }
    }
}

/// How much a finding matters: a broken rule (`fail`), a weakness the spec
/// allows (`warn`, the check's own weight), or something worth knowing that
/// breaks nothing by itself (`note`: an unpinned key, a message inside the
/// skew tolerance).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Fail,
    Warn,
    Note,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Fail => "fail",
            Level::Warn => "warn",
            Level::Note => "note",
        }
    }
}

/// One rule the message breaks (or a note about one).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// The id of the conformance check that tests this rule.
    pub check: String,
    pub level: Level,
    /// The check's severity; `None` for a rule no check covers yet.
    pub severity: Option<Severity>,
    /// One line: what is wrong, with the evidence from the message.
    pub explanation: String,
    /// The check's fix hint.
    pub fix: String,
    pub side: Side,
}

/// One message of a flow, what it says, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    /// What the message is: "SAML Response", "ID token", "AuthnRequest (HTTP-Redirect)".
    pub title: String,
    /// Where it went, for steps read from a HAR file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// What the message says, one `name: value` line each (issuer, subject,
    /// times, signatures), so the reader sees the evidence beside the rules.
    pub facts: Vec<(String, String)>,
    pub findings: Vec<Finding>,
}

impl Step {
    pub(crate) fn new(title: impl Into<String>) -> Step {
        Step { title: title.into(), url: None, facts: Vec::new(), findings: Vec::new() }
    }

    pub(crate) fn fact(&mut self, name: &str, value: impl Into<String>) {
        self.facts.push((name.to_owned(), value.into()));
    }
}

/// What explain found: one step for a single message, one per message for a
/// HAR file, in the order the browser sent them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// When time rules were judged, and whether that was `--at` or the clock.
    pub judged_at: String,
    pub steps: Vec<Step>,
}

impl Explanation {
    /// Whether any rule is broken (a `fail` or `warn`): the CLI's exit 1.
    pub fn breaks_a_rule(&self) -> bool {
        self.steps.iter().flat_map(|s| &s.findings).any(|f| f.level != Level::Note)
    }

    /// Every finding's check id, in order (for tests and scripts).
    pub fn check_ids(&self) -> Vec<&str> {
        self.steps.iter().flat_map(|s| &s.findings).map(|f| f.check.as_str()).collect()
    }
}

/// What the message is judged against. Each is optional: a rule whose
/// expectation is missing is judged only as far as the message allows (the
/// audience's presence without `audience`, the signature's integrity by its
/// own certificate without a trusted one), and says so.
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    /// The SAML IdP's entity id, from the metadata: the expected Issuer of
    /// SAML messages (before `issuer`, so one HAR file can hold both
    /// protocols).
    pub idp_entity_id: Option<String>,
    /// The expected OIDC `iss` (`--issuer`), and the SAML Issuer when no
    /// metadata gives one.
    pub issuer: Option<String>,
    /// The SP entity id (SAML Audience) or OIDC client id (`aud`).
    pub audience: Option<String>,
    /// The SP's ACS URL (SAML Destination and Recipient).
    pub acs_url: Option<String>,
    /// The ID of the AuthnRequest the SP sent, for InResponseTo.
    pub request_id: Option<String>,
    /// The nonce the relying party sent, for the ID token's `nonce`.
    pub nonce: Option<String>,
    /// The trusted signing certificates (base64 DER, as metadata carries
    /// them), from `--metadata` or `--certificate`.
    pub certificates: Vec<String>,
    /// The trusted JWKS (`{"keys": [...]}`), from `--jwks`.
    pub jwks: Option<serde_json::Value>,
    /// The access token issued with the ID token, for `at_hash`.
    pub access_token: Option<String>,
}

/// Bad input: the message cannot be read as any kind explain knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    #[error("the input is empty")]
    Empty,
    #[error("the input is not a SAMLResponse (base64, XML or auto-post form), a JWT or a HAR file: {0}")]
    Unrecognised(String),
    #[error("the XML does not parse: {0}")]
    NotXml(String),
    #[error("the XML is a {0}, not a SAML Response")]
    NotAResponse(String),
    #[error("the JWT does not decode: {0}")]
    BadJwt(String),
    #[error("the HAR file does not decode: {0}")]
    BadHar(String),
    #[error("the HAR file holds no SAML or OIDC message")]
    EmptyHar,
    #[error("the metadata does not parse: {0}")]
    BadMetadata(String),
    #[error("the JWKS does not parse: {0}")]
    BadJwks(String),
}

/// Explains one decoded message (or every message of a HAR file) against
/// `expect`, judging time rules at `now`. `now_source` says where `now`
/// came from (`--at` or the clock), for the report.
pub fn explain(
    message: &input::Message,
    expect: &Expectations,
    now: OffsetDateTime,
    now_source: &str,
) -> Result<Explanation, ExplainError> {
    let steps = match message {
        input::Message::SamlResponse(xml) => vec![saml::explain_response(xml, expect, now)?],
        input::Message::Jwt(token) => vec![jwt::explain_token(token, expect, now)?],
        input::Message::Har(har) => har::explain_flow(har, expect, now)?,
        input::Message::Discovery(document) => vec![har::explain_discovery(document, expect.issuer.as_deref())],
    };
    Ok(Explanation { judged_at: format!("{} ({now_source})", render::instant(now)), steps })
}
