//! The check catalogue: stable ids, titles, protocols, categories,
//! severities, sources and needs. One module per protocol holds that
//! protocol's checks and the actions its driver knows; [`all_checks`] is the
//! one list of every check.

pub mod cross;
pub mod oidc;
pub mod saml;
pub mod scim;

use serde::Serialize;

pub use cross::{
    CrossAction, DeactivationAction, EmailMatchingAction, LockoutSafetyAction, PushGroupsAction, StateMachineAction,
};
pub use oidc::OidcAction;
pub use saml::{EncryptedCase, SamlAction};
pub use scim::ScimAction;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

/// The protocol a check speaks to the SP. `Cross` checks use several in one
/// scenario (an account made by SCIM, then signed in by SAML or OIDC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Saml,
    Oidc,
    Scim,
    Cross,
}

impl Protocol {
    pub const ALL: [Protocol; 4] = [Protocol::Saml, Protocol::Oidc, Protocol::Scim, Protocol::Cross];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Saml => "saml",
            Protocol::Oidc => "oidc",
            Protocol::Scim => "scim",
            Protocol::Cross => "cross",
        }
    }
}

impl std::str::FromStr for Protocol {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Protocol::ALL.into_iter().find(|p| p.as_str() == text).ok_or_else(|| {
            format!("'{text}' is not a protocol (one of {})", Protocol::ALL.map(Protocol::as_str).join(", "))
        })
    }
}

/// What part of the SP's behaviour a check looks at; reports group by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    SignIn,
    Conditions,
    Signature,
    Addressing,
    Correlation,
    Protocol,
    Identity,
    Wrapping,
    Xml,
    Redirect,
    Accounts,
    Attributes,
    /// SCIM: a user's life in the SP (create, update, deactivate).
    Lifecycle,
    /// SCIM: list responses, filters and pages.
    Lists,
    /// SCIM: pushed groups and their members.
    Groups,
    /// SCIM: what the server declares about itself.
    Schema,
    /// Cross-protocol: no one is locked out of the SP by SSO (break-glass
    /// admin, last admin, key rollover, failed sign-ins).
    LockoutSafety,
    /// Cross-protocol: which emails resolve to which account.
    EmailMatching,
    /// Cross-protocol: a user deactivated at Okta is out everywhere.
    Deactivation,
    /// Cross-protocol: pushed groups and the groups seen at sign-in.
    PushGroups,
    /// Cross-protocol: random sequences of Okta admin actions, the SP's
    /// state after each step held to a model of what Okta intends.
    IntegrationStateMachine,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::SignIn => "sign-in",
            Category::Conditions => "conditions",
            Category::Signature => "signature",
            Category::Addressing => "addressing",
            Category::Correlation => "correlation",
            Category::Protocol => "protocol",
            Category::Identity => "identity",
            Category::Wrapping => "wrapping",
            Category::Xml => "xml",
            Category::Redirect => "redirect",
            Category::Accounts => "accounts",
            Category::Attributes => "attributes",
            Category::Lifecycle => "lifecycle",
            Category::Lists => "lists",
            Category::Groups => "groups",
            Category::Schema => "schema",
            Category::LockoutSafety => "lockout-safety",
            Category::EmailMatching => "email-matching",
            Category::Deactivation => "deactivation",
            Category::PushGroups => "push-groups",
            Category::IntegrationStateMachine => "integration-state-machine",
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a failure of a check is: a `fail`, or for behaviour the spec allows
/// but that is weaker than it should be (accepting RSA-SHA1, no clock-skew
/// tolerance), a `warn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Weight {
    Fail,
    Warn,
}

/// What a check needs from the target beyond the protocol section itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// `saml.login_url`: SP-initiated sign-in.
    SpInitiatedLogin,
    /// `hooks.set_idp_initiated`: turning IdP-initiated sign-in off.
    IdpInitiatedSwitch,
    /// `hooks.advance_clock`: moving the SP's clock, so that time can pass
    /// at the SP without the suite waiting.
    ClockHook,
    /// The SP does not create accounts at first sign-in (`accounts.jit = false`).
    NoJit,
    /// The SP creates accounts at first sign-in (`accounts.jit = true`).
    Jit,
    /// `session.name_pointer` (or the given and family name pointers): the
    /// session shows the user's name.
    SessionAttributes,
    /// The SP keeps accounts (`accounts.keeps_accounts`, true by default).
    KeepsAccounts,
    /// `accounts.email_domains` lists the domains the SP accepts.
    EmailDomains,
    /// The SP does not declare `WantAssertionsSigned` (in its metadata or
    /// the target), so a response whose only signature is on the Response
    /// is one it should take.
    ResponseSignatureSuffices,
    /// The SP declares `WantAssertionsSigned` (in its metadata or the
    /// target), so an unsigned Assertion in a signed Response must be
    /// refused.
    AssertionSignatureWanted,
    /// `saml.slo_url`: the SP's Single Logout endpoint.
    SingleLogoutEndpoint,
    /// `saml.logout_url` and `saml.slo_url`: the SP starts a logout and
    /// takes the IdP's LogoutResponse.
    SpInitiatedLogout,
}

/// What a check does after its driver's positive control: one variant per
/// protocol, whose driver in `runner/` carries it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Saml(SamlAction),
    Oidc(OidcAction),
    Scim(ScimAction),
    Cross(CrossAction),
}

#[derive(Clone, Copy, Debug)]
pub struct Check {
    pub id: &'static str,
    pub title: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// The spec section or CVE the check comes from.
    pub reference: &'static str,
    pub needs: &'static [Capability],
    pub action: Action,
    /// What to do when the check fails, in one paragraph.
    pub fix: &'static str,
    /// The check changes a tenant-wide setting, so it runs alone, after the others.
    pub exclusive: bool,
    /// What a failure of this check is.
    pub weight: Weight,
}

impl Check {
    /// The protocol, read from the action so the two cannot disagree.
    pub fn protocol(&self) -> Protocol {
        match self.action {
            Action::Saml(_) => Protocol::Saml,
            Action::Oidc(_) => Protocol::Oidc,
            Action::Scim(_) => Protocol::Scim,
            Action::Cross(_) => Protocol::Cross,
        }
    }
}

/// Every check, in report order: SAML, OIDC, SCIM, then the checks that
/// cross protocols.
pub fn all_checks() -> Vec<Check> {
    let mut checks = saml::checks();
    checks.extend(oidc::checks());
    checks.extend(scim::checks());
    checks.extend(cross::checks());
    checks
}

/// The checks of one protocol, in report order.
pub fn checks_for(protocol: Protocol) -> Vec<Check> {
    all_checks().into_iter().filter(|c| c.protocol() == protocol).collect()
}

/// The catalogue as JSON: id, title, protocol, category, severity,
/// reference, needs.
pub fn catalogue_json(checks: &[Check]) -> String {
    let entries: Vec<serde_json::Value> = checks
        .iter()
        .map(|c| {
            serde_json::json!({
                "id": c.id, "title": c.title, "protocol": c.protocol(), "category": c.category,
                "severity": c.severity, "weight": c.weight, "reference": c.reference, "needs": c.needs,
            })
        })
        .collect();
    serde_json::to_string_pretty(&entries).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_prefixed_with_their_protocol() {
        let checks = all_checks();
        let mut ids: Vec<_> = checks.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), checks.len());
        for check in &checks {
            assert!(check.id.starts_with(&format!("{}.", check.protocol().as_str())), "{}", check.id);
            assert!(!check.reference.is_empty(), "{}", check.id);
        }
    }

    #[test]
    fn protocol_names_parse_back() {
        for protocol in Protocol::ALL {
            assert_eq!(protocol.as_str().parse::<Protocol>(), Ok(protocol));
        }
        assert!("ldap".parse::<Protocol>().unwrap_err().contains("saml, oidc, scim, cross"));
    }
}
