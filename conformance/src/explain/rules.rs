//! The rules explain names, read from the check catalogue: a SAML rule is
//! named by the fault that breaks it, an OIDC rule by its fault, so the id,
//! severity, weight and fix hint are the catalogue's own and there is one
//! naming for both the suite and explain.

use mock_idp::oidc::faults::OidcFault;
use mock_idp::saml::faults::SamlFault;

use super::{Finding, Level, Side};
use crate::catalogue::{Action, Check, EncryptedCase, OidcAction, SamlAction, Weight, oidc, saml};

/// The largest clock-skew tolerance the checks recommend (TIME_FIX: 60 to
/// 180 seconds): a time off by more is outside every reasonable SP's
/// tolerance, one off by less depends on the SP.
pub const SKEW_TOLERANCE_SECONDS: i64 = 180;

/// The catalogue check that judges an SP on `fault`: the check that sends
/// it (to be refused or accepted). A skew fault is judged by the check of the
/// same direction on the same side of [`SKEW_TOLERANCE_SECONDS`], since the
/// catalogue samples skews at a few values only.
pub fn saml_check_for(fault: SamlFault) -> Option<Check> {
    let judges = |candidate: SamlFault| match (candidate, fault) {
        (SamlFault::Skew(sample), SamlFault::Skew(seconds)) => {
            sample.signum() == seconds.signum()
                && (sample.abs() > SKEW_TOLERANCE_SECONDS) == (seconds.abs() > SKEW_TOLERANCE_SECONDS)
        }
        (candidate, fault) => candidate == fault,
    };
    saml::checks().into_iter().find(|check| match check.action {
        Action::Saml(
            SamlAction::RefuseFault(f) | SamlAction::AcceptFault(f) | SamlAction::Encrypted(EncryptedCase::Refuse(f)),
        ) => judges(f),
        // The session check signs in with the short-session response, then
        // moves the SP's clock past its end.
        Action::Saml(SamlAction::SessionExpiry) => judges(SamlFault::ShortSession),
        _ => false,
    })
}

/// The catalogue check that judges an SP on the OIDC `fault`: the check
/// that sends it, or, for a fault a scenario check arms (the JWKS flood,
/// the impostor discovery document, the code that can be redeemed twice),
/// that scenario's check. `discovery-issuer-only` is armed by no check, but
/// its document breaks the rule of the discovery check.
pub fn oidc_check_for(fault: OidcFault) -> Option<Check> {
    oidc::checks().into_iter().find(|check| match check.action {
        Action::Oidc(OidcAction::RefuseFault(f) | OidcAction::RefreshChangesIdentity(f)) => f == fault,
        Action::Oidc(OidcAction::RefetchBounded) => fault == OidcFault::UnknownKidPerToken,
        Action::Oidc(OidcAction::DiscoveryIssuerMismatch) => {
            matches!(fault, OidcFault::DiscoveryIssuerMismatch | OidcFault::DiscoveryIssuerOnly)
        }
        Action::Oidc(OidcAction::CallbackReplayed) => fault == OidcFault::CodeReuseAllowed,
        _ => false,
    })
}

/// A check by id (for rules no fault stands for, such as the SP-initiated
/// flow or another browser's response).
pub fn check_by_id(id: &str) -> Option<Check> {
    crate::catalogue::all_checks().into_iter().find(|check| check.id == id)
}

/// A finding for the rule `fault` breaks, at the check's own weight.
pub fn saml_finding(fault: SamlFault, side: Side, explanation: String) -> Finding {
    finding(saml_check_for(fault), || format!("saml.unlisted.{fault}"), side, explanation)
}

/// As [`saml_finding`], but only a note (nothing is broken by itself).
pub fn saml_note(fault: SamlFault, side: Side, explanation: String) -> Finding {
    Finding { level: Level::Note, ..saml_finding(fault, side, explanation) }
}

/// A finding for the rule the OIDC `fault` breaks.
pub fn oidc_finding(fault: OidcFault, side: Side, explanation: String) -> Finding {
    finding(oidc_check_for(fault), || format!("oidc.unlisted.{}", fault.name()), side, explanation)
}

/// A finding for the check `id`, at the check's weight, or a note when
/// `level` is [`Level::Note`].
pub fn finding_by_id(id: &str, level: Level, side: Side, explanation: String) -> Finding {
    let mut found = finding(check_by_id(id), || id.to_owned(), side, explanation);
    if level == Level::Note {
        found.level = Level::Note;
    }
    found
}

/// A rule that no check in the catalogue covers is still reported, under a
/// visible `unlisted` id and at `fail`, so a fault added without its check
/// shows up here rather than vanishing.
fn finding(check: Option<Check>, unlisted: impl FnOnce() -> String, side: Side, explanation: String) -> Finding {
    match check {
        Some(check) => Finding {
            check: check.id.to_owned(),
            level: match check.weight {
                Weight::Fail => Level::Fail,
                Weight::Warn => Level::Warn,
            },
            severity: Some(check.severity),
            explanation,
            fix: check.fix.to_owned(),
            side,
        },
        None => {
            Finding { check: unlisted(), level: Level::Fail, severity: None, explanation, fix: String::new(), side }
        }
    }
}
