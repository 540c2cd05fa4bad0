//! Email matching: which emails, as Okta sends them by SCIM, SAML and OIDC,
//! resolve to which account at the SP (attacks.md K-08, K-09).
//!
//! Each check makes one person twice, as Okta has them: a user of the mock
//! org assigned to the target's sign-in app, and the same user provisioned
//! to the SP's SCIM server with Okta's requests (userName and email the
//! Okta login, externalId the Okta user id). The positive control is that
//! person signing in (by SAML when the target has it, else by OIDC) and
//! reaching the provisioned account. The SP's account is told by what the
//! session oracle shows, as the SAML account checks tell it.

use crate::catalogue::{Action, Capability, Category, Check, CrossAction, Severity, Weight};

/// What an email-matching check does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailMatchingAction {
    /// The provisioned person signs in with their email in other case and
    /// reaches the same account.
    Case,
    /// Okta re-sends the person's email with surrounding whitespace; their
    /// next sign-in reaches the same account.
    Whitespace,
    /// Another Okta user whose email is the provisioned one with Cyrillic
    /// look-alike letters does not reach the account.
    CyrillicLookAlike,
    /// Another Okta user whose email is the provisioned one in full-width
    /// letters does not reach the account.
    FullWidthLookAlike,
    /// Another Okta user at `local+tag@` does not reach `local@`'s account.
    PlusAddress,
    /// Okta changes the person's email (and SCIM sends the update); signing
    /// in with the new email reaches the same account.
    ChangedAtOkta,
    /// Okta changes the person's email and gives the old one to a new
    /// person (a new Okta user, provisioned with a new externalId); the new
    /// person's sign-in does not reach the first person's account (K-08).
    ReassignedEmail,
    /// A person who signed in first (an account made at sign-in, or by the
    /// target's create_user hook) is the account Okta's SCIM lookup of their
    /// userName finds, so Okta's assignment links it instead of making a
    /// second one.
    OneAccount,
    /// The NameID (Okta's app username, the SCIM userName) and the email
    /// attribute disagree: the NameID decides the account, so another Okta
    /// user with the same email does not get it.
    NameIdNotEmail,
    /// Okta moves the person's email outside the SP's email domains; the
    /// SCIM update may be refused, but signing in with that address gives
    /// no session.
    MovedOutsideDomain,
    /// Another Okta user whose ID token carries the person's email with
    /// `email_verified: false` signs in by OIDC: they do not get the
    /// person's account (K-08, OIDC Core 5.7).
    UnverifiedEmailNeverLinks,
}

/// The fix for look-alike and plus-address takeovers.
const DISTINCT_ADDRESS_FIX: &str = "Match accounts on the IdP's stable identifier (the SCIM externalId, the OIDC sub, a persistent NameID) and, where an email must be compared, compare it trimmed and ASCII-case-insensitively only: no Unicode compatibility folding, no transliteration, no dropping of +tags. Two addresses that differ in any other way are two mailboxes and two people.";

fn check(
    id: &'static str,
    title: &'static str,
    severity: Severity,
    action: EmailMatchingAction,
    reference: &'static str,
    fix: &'static str,
) -> Check {
    Check {
        id,
        title,
        category: Category::EmailMatching,
        severity,
        reference,
        needs: &[],
        action: Action::Cross(CrossAction::EmailMatching(action)),
        fix,
        exclusive: false,
        weight: Weight::Fail,
    }
}

/// The email-matching checks, in report order.
pub(super) fn checks() -> Vec<Check> {
    vec![
        check(
            "cross.email_matching.case",
            "A SCIM-provisioned user signing in with their email in other case reaches the same account",
            Severity::High,
            EmailMatchingAction::Case,
            "attacks.md K-09; RFC 7643 4.1 (userName caseExact false)",
            "Compare emails and userNames ASCII-case-insensitively in one normalised form (trimmed, lowercased), the same for SCIM and for sign-in, so a case variant from the IdP finds the provisioned account instead of making a second one.",
        ),
        check(
            "cross.email_matching.whitespace",
            "An email Okta sends by SCIM with surrounding whitespace still signs the person in to their account",
            Severity::Medium,
            EmailMatchingAction::Whitespace,
            "attacks.md K-09; RFC 5321 4.1.2 (a Mailbox has no surrounding whitespace)",
            "Trim an email or userName before keying an account on it, the same way for SCIM and for sign-in (or refuse the padded value), so surrounding whitespace never makes another address of the same one.",
        ),
        check(
            "cross.email_matching.lookalike_cyrillic",
            "Another Okta user whose email has Cyrillic look-alike letters does not reach a SCIM-provisioned account",
            Severity::Critical,
            EmailMatchingAction::CyrillicLookAlike,
            "attacks.md K-08, K-09; Unicode TR 36 (visual spoofing)",
            DISTINCT_ADDRESS_FIX,
        ),
        check(
            "cross.email_matching.lookalike_fullwidth",
            "Another Okta user whose email is in full-width letters does not reach a SCIM-provisioned account",
            Severity::Critical,
            EmailMatchingAction::FullWidthLookAlike,
            "attacks.md K-08, K-09; Unicode TR 15 (compatibility forms)",
            DISTINCT_ADDRESS_FIX,
        ),
        check(
            "cross.email_matching.plus_address",
            "Another Okta user at local+tag@ does not reach the SCIM-provisioned account of local@",
            Severity::Critical,
            EmailMatchingAction::PlusAddress,
            "attacks.md K-08; RFC 5321 2.4 (the local part is the mailbox's own)",
            DISTINCT_ADDRESS_FIX,
        ),
        check(
            "cross.email_matching.changed_at_okta",
            "After Okta changes a user's email (SCIM update of userName and emails), signing in with the new email reaches the same account",
            Severity::High,
            EmailMatchingAction::ChangedAtOkta,
            "attacks.md K-08, K-09; Okta SCIM 2.0 reference (profile updates)",
            "Apply a SCIM update of userName and emails to the account's sign-in email as well, and match sign-ins on the IdP's stable identifier (externalId, sub) or the current email, so the user's new address finds their account and the old one no longer does.",
        ),
        check(
            "cross.email_matching.reassigned_email",
            "An email Okta moved from one user to a new one signs the new user in to their own account, never the first user's",
            Severity::Critical,
            EmailMatchingAction::ReassignedEmail,
            "attacks.md K-08; OpenID Connect Core 5.7 (email is not a stable identifier)",
            "When SCIM changes a user's email, drop every link from the old address (a NameID in email format, a remembered login) to the account, and key accounts on the IdP's stable identifier (the SCIM externalId, the OIDC sub, a persistent NameID), so the next person Okta gives the address to is a new person to the SP.",
        ),
        check(
            "cross.email_matching.one_account",
            "A user who signed in before Okta provisioned them is the account Okta's SCIM lookup finds, so assignment makes no second account",
            Severity::High,
            EmailMatchingAction::OneAccount,
            "attacks.md K-09; Okta SCIM 2.0 reference (assignment looks the user up by userName eq before it creates)",
            "Answer Okta's `userName eq` lookup from every account of the tenant, those made at first sign-in or by an admin included, comparing userName and email in the one normalised form sign-in uses, so Okta links the existing account instead of creating a duplicate or failing the assignment.",
        ),
        check(
            "cross.email_matching.name_id_not_email",
            "Where the NameID (the app username, the SCIM userName) and the email attribute disagree, the NameID decides the account",
            Severity::Critical,
            EmailMatchingAction::NameIdNotEmail,
            "attacks.md K-08, K-09; SAML Core 2.2.3 (the NameID identifies the principal)",
            "Find the account by the NameID (Okta's app username, which is also the SCIM userName Okta provisioned) or a stored link to it, never by the email attribute: Okta keeps logins and app usernames unique, not emails, so another user can carry the same email.",
        ),
        Check {
            needs: &[Capability::EmailDomains],
            ..check(
                "cross.email_matching.moved_outside_domain",
                "A provisioned user whose email Okta moves outside the SP's email domains does not sign in with it",
                Severity::High,
                EmailMatchingAction::MovedOutsideDomain,
                "attacks.md K-08; Okta SCIM 2.0 reference (profile updates)",
                "Apply the tenant's email domains to every address an account can sign in with, whichever way it arrives: refuse a SCIM create or update outside them, and check the domain at sign-in before finding or making an account.",
            )
        },
        check(
            "cross.email_matching.unverified_email_never_links",
            "An OIDC sign-in whose ID token says email_verified false never reaches the existing account with that email",
            Severity::Critical,
            EmailMatchingAction::UnverifiedEmailNeverLinks,
            "attacks.md K-08; OIDC Core 5.7 (use only verified emails; sub identifies the user)",
            "Find the account by (iss, sub); link a new sub to an existing account by email only when the ID token says email_verified true and the tenant allows it, and never when the claim is false or missing.",
        ),
    ]
}
