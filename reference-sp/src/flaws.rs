//! Named flaws: deliberate bugs that real SPs have shipped, switched on with
//! `--flaw NAME` so the conformance suite can prove it catches each one.
//!
//! Flaws never appear as `if flaw` branches in the sign-in code. They only
//! change the [`Policy`] values the correct code reads, so the correct path
//! stays easy to follow.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flaw {
    AcceptUnsigned,
    TrustKeyinfoCert,
    TrustKeyValue,
    HmacWithCertificate,
    DigestValueFirstChild,
    FirstSignedInfo,
    AnyReferenceUri,
    AnyTransform,
    FirstDigestValueInDocument,
    AcceptSha1,
    IgnoreAudience,
    IgnoreRecipient,
    AnySubjectConfirmation,
    IgnoreDestination,
    IgnoreTime,
    IgnoreConfirmationExpiry,
    IgnoreConditionsExpiry,
    IgnoreSessionNotOnOrAfter,
    IgnoreIssuer,
    IgnoreStatus,
    NoReplayCache,
    AcceptUnsolicited,
    RefuseUnsolicited,
    EmptySessionOnWrongDestination,
    IgnoreInResponseTo,
    InResponseToOwnRequestsOnly,
    ReadFirstAssertion,
    NameidFirstTextNode,
    AllowDoctype,
    AnyBodySize,
    OpenRelayState,
    CaseSensitiveEmail,
    JitIgnoresDomain,
    IgnoreSignatureErrors,
    ZeroClockSkew,
    IgnoreRelayState,
    ForgetRequestId,
    RequireSignedResponse,
    RequireSignedAssertion,
    UnenforcedWantAssertionsSigned,
    ReadLastAssertion,
    ReadRootAssertion,
    SignedAssertionAnywhere,
    ExistingOnlyCreatesAccounts,
    DropAttributes,
    RefusedUserKeepsAccount,
    RejectTwoSignatures,
    HandRolledSignatureCheck,
    AcceptUnsignedEncryptedAssertion,
    AcceptRsa15,
    EncryptedKeyInsideOnly,
    SloSignatureAnywhere,
    UnsignedLogoutRequest,
    UnsignedAuthnRequests,
    FilterCaseSensitive,
    ItemsPerPageIsCount,
    PutPartialMerge,
    PatchPathlessIgnored,
    MemberRemoveIgnored,
    RenameReplaceWipesMembers,
    DeactivateDeletes,
    DeactivateKeepsSessions,
    AllowLastAdminDeactivation,
    DupReturns200,
    NoMatchReturns404,
    UnstablePagination,
    JitRevivesDeactivated,
    GroupsOverrideDeactivation,
    ErrorNotScimSchema,
    KeepUndeclaredAttributes,
    ScimIgnoresEmailDomains,
    ConflictWithoutScimType,
    RefusePlainJson,
    IgnoreIfMatch,
    EchoPassword,
    TotalResultsIsPageSize,
    ListOmitsAttributes,
    UserLookupFindsNobody,
    PutIgnoresName,
    RefuseBareScimJson,
    GroupLookupFindsNobody,
    MemberAddIgnored,
    ReplaceMembersAdds,
    PatchAddReplacesMembers,
    GroupExitDeactivates,
    AcceptAlgNone,
    Hs256PublicKey,
    Hs256ClientSecret,
    TrustHeaderJwk,
    TrustJku,
    TrustHeaderX5c,
    TrustX5u,
    NoNonceCheck,
    NoStateCheck,
    StateNotBoundToBrowser,
    IgnoreAud,
    IgnoreIss,
    IgnoreExp,
    IgnoreIatNbf,
    SkipAtHash,
    SkipIdTokenSignature,
    IgnoreCrit,
    IgnoreAuthorizationResponseIss,
    UserinfoSubUnchecked,
    EmailAsIdentity,
    TrustDiscoveryIssuer,
    NoJwksRefetch,
    JwksRefetchUnbounded,
    AcceptsClaimTypeConfusion,
    OpenRedirectAfterLogin,
    StateReusable,
    NoPkce,
    FirstJwksKey,
    PkcePlain,
    DropOidcClaims,
    MissingSubUsesEmail,
    KidAsFilePath,
    PsychicSignature,
    RefreshTrustsNewClaims,
    MatchEmailTransliterated,
    MatchEmailIgnoringPlus,
    ScimUpdateKeepsEmail,
    EmailChangeKeepsIdentity,
    ScimLookupSkipsJitAccounts,
    ScimEmailUntrimmed,
    EmailAttributeAsIdentity,
    LockAfterFailedSso,
    AllowLastAdminGroupRemoval,
    AllowOwnerDeactivation,
    BreakGlassNeedsIdp,
    PinFirstIdpCertificate,
    LinkUnverifiedEmail,
    SignInGroupsReplaceMembership,
    PushCreatesTeams,
    SignInGroupsOnlyAdd,
    RequiredAttributesUnchecked,
    EmailNotUnique,
    RoleOnlyAtCreation,
    SsoEnforcementWithoutAdminSignIn,
    JitSkipsLicence,
    UsernameFormatUnchecked,
    DisplayNameOptional,
    UnknownUserServerError,
    ScimBeforeSsoVerified,
    CoreAttributesDropped,
}

/// How many refused SAML responses lock an account under the
/// `lock-after-failed-sso` flaw: the usual password-lockout threshold.
pub const FAILED_SSO_LOCK_THRESHOLD: u32 = 5;

impl Flaw {
    pub const ALL: [Flaw; 145] = [
        Flaw::AcceptUnsigned,
        Flaw::TrustKeyinfoCert,
        Flaw::TrustKeyValue,
        Flaw::HmacWithCertificate,
        Flaw::DigestValueFirstChild,
        Flaw::FirstSignedInfo,
        Flaw::AnyReferenceUri,
        Flaw::AnyTransform,
        Flaw::FirstDigestValueInDocument,
        Flaw::AcceptSha1,
        Flaw::IgnoreAudience,
        Flaw::IgnoreRecipient,
        Flaw::AnySubjectConfirmation,
        Flaw::IgnoreDestination,
        Flaw::IgnoreTime,
        Flaw::IgnoreConfirmationExpiry,
        Flaw::IgnoreConditionsExpiry,
        Flaw::IgnoreSessionNotOnOrAfter,
        Flaw::IgnoreIssuer,
        Flaw::IgnoreStatus,
        Flaw::NoReplayCache,
        Flaw::AcceptUnsolicited,
        Flaw::RefuseUnsolicited,
        Flaw::EmptySessionOnWrongDestination,
        Flaw::IgnoreInResponseTo,
        Flaw::InResponseToOwnRequestsOnly,
        Flaw::ReadFirstAssertion,
        Flaw::NameidFirstTextNode,
        Flaw::AllowDoctype,
        Flaw::AnyBodySize,
        Flaw::OpenRelayState,
        Flaw::CaseSensitiveEmail,
        Flaw::JitIgnoresDomain,
        Flaw::IgnoreSignatureErrors,
        Flaw::ZeroClockSkew,
        Flaw::IgnoreRelayState,
        Flaw::ForgetRequestId,
        Flaw::RequireSignedResponse,
        Flaw::RequireSignedAssertion,
        Flaw::UnenforcedWantAssertionsSigned,
        Flaw::ReadLastAssertion,
        Flaw::ReadRootAssertion,
        Flaw::SignedAssertionAnywhere,
        Flaw::ExistingOnlyCreatesAccounts,
        Flaw::DropAttributes,
        Flaw::RefusedUserKeepsAccount,
        Flaw::RejectTwoSignatures,
        Flaw::HandRolledSignatureCheck,
        Flaw::AcceptUnsignedEncryptedAssertion,
        Flaw::AcceptRsa15,
        Flaw::EncryptedKeyInsideOnly,
        Flaw::SloSignatureAnywhere,
        Flaw::UnsignedLogoutRequest,
        Flaw::UnsignedAuthnRequests,
        Flaw::FilterCaseSensitive,
        Flaw::ItemsPerPageIsCount,
        Flaw::PutPartialMerge,
        Flaw::PatchPathlessIgnored,
        Flaw::MemberRemoveIgnored,
        Flaw::RenameReplaceWipesMembers,
        Flaw::DeactivateDeletes,
        Flaw::DeactivateKeepsSessions,
        Flaw::AllowLastAdminDeactivation,
        Flaw::DupReturns200,
        Flaw::NoMatchReturns404,
        Flaw::UnstablePagination,
        Flaw::JitRevivesDeactivated,
        Flaw::GroupsOverrideDeactivation,
        Flaw::ErrorNotScimSchema,
        Flaw::KeepUndeclaredAttributes,
        Flaw::ScimIgnoresEmailDomains,
        Flaw::ConflictWithoutScimType,
        Flaw::RefusePlainJson,
        Flaw::IgnoreIfMatch,
        Flaw::EchoPassword,
        Flaw::TotalResultsIsPageSize,
        Flaw::ListOmitsAttributes,
        Flaw::UserLookupFindsNobody,
        Flaw::PutIgnoresName,
        Flaw::RefuseBareScimJson,
        Flaw::GroupLookupFindsNobody,
        Flaw::MemberAddIgnored,
        Flaw::ReplaceMembersAdds,
        Flaw::PatchAddReplacesMembers,
        Flaw::GroupExitDeactivates,
        Flaw::AcceptAlgNone,
        Flaw::Hs256PublicKey,
        Flaw::Hs256ClientSecret,
        Flaw::TrustHeaderJwk,
        Flaw::TrustJku,
        Flaw::TrustHeaderX5c,
        Flaw::TrustX5u,
        Flaw::NoNonceCheck,
        Flaw::NoStateCheck,
        Flaw::StateNotBoundToBrowser,
        Flaw::IgnoreAud,
        Flaw::IgnoreIss,
        Flaw::IgnoreExp,
        Flaw::IgnoreIatNbf,
        Flaw::SkipAtHash,
        Flaw::SkipIdTokenSignature,
        Flaw::IgnoreCrit,
        Flaw::IgnoreAuthorizationResponseIss,
        Flaw::UserinfoSubUnchecked,
        Flaw::EmailAsIdentity,
        Flaw::TrustDiscoveryIssuer,
        Flaw::NoJwksRefetch,
        Flaw::JwksRefetchUnbounded,
        Flaw::AcceptsClaimTypeConfusion,
        Flaw::OpenRedirectAfterLogin,
        Flaw::StateReusable,
        Flaw::NoPkce,
        Flaw::FirstJwksKey,
        Flaw::PkcePlain,
        Flaw::DropOidcClaims,
        Flaw::MissingSubUsesEmail,
        Flaw::KidAsFilePath,
        Flaw::PsychicSignature,
        Flaw::RefreshTrustsNewClaims,
        Flaw::MatchEmailTransliterated,
        Flaw::MatchEmailIgnoringPlus,
        Flaw::ScimUpdateKeepsEmail,
        Flaw::EmailChangeKeepsIdentity,
        Flaw::ScimLookupSkipsJitAccounts,
        Flaw::ScimEmailUntrimmed,
        Flaw::EmailAttributeAsIdentity,
        Flaw::LockAfterFailedSso,
        Flaw::AllowLastAdminGroupRemoval,
        Flaw::AllowOwnerDeactivation,
        Flaw::BreakGlassNeedsIdp,
        Flaw::PinFirstIdpCertificate,
        Flaw::LinkUnverifiedEmail,
        Flaw::SignInGroupsReplaceMembership,
        Flaw::PushCreatesTeams,
        Flaw::SignInGroupsOnlyAdd,
        Flaw::RequiredAttributesUnchecked,
        Flaw::EmailNotUnique,
        Flaw::RoleOnlyAtCreation,
        Flaw::SsoEnforcementWithoutAdminSignIn,
        Flaw::JitSkipsLicence,
        Flaw::UsernameFormatUnchecked,
        Flaw::DisplayNameOptional,
        Flaw::UnknownUserServerError,
        Flaw::ScimBeforeSsoVerified,
        Flaw::CoreAttributesDropped,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Flaw::AcceptUnsigned => "accept-unsigned",
            Flaw::TrustKeyinfoCert => "trust-keyinfo-cert",
            Flaw::TrustKeyValue => "trust-key-value",
            Flaw::HmacWithCertificate => "hmac-with-certificate",
            Flaw::DigestValueFirstChild => "digest-value-first-child",
            Flaw::FirstSignedInfo => "first-signed-info",
            Flaw::AnyReferenceUri => "any-reference-uri",
            Flaw::AnyTransform => "any-transform",
            Flaw::FirstDigestValueInDocument => "first-digest-value-in-document",
            Flaw::AcceptSha1 => "accept-sha1",
            Flaw::IgnoreAudience => "ignore-audience",
            Flaw::IgnoreRecipient => "ignore-recipient",
            Flaw::AnySubjectConfirmation => "any-subject-confirmation",
            Flaw::IgnoreDestination => "ignore-destination",
            Flaw::IgnoreTime => "ignore-time",
            Flaw::IgnoreConfirmationExpiry => "ignore-confirmation-expiry",
            Flaw::IgnoreConditionsExpiry => "ignore-conditions-expiry",
            Flaw::IgnoreSessionNotOnOrAfter => "ignore-session-not-on-or-after",
            Flaw::IgnoreIssuer => "ignore-issuer",
            Flaw::IgnoreStatus => "ignore-status",
            Flaw::NoReplayCache => "no-replay-cache",
            Flaw::AcceptUnsolicited => "accept-unsolicited",
            Flaw::RefuseUnsolicited => "refuse-unsolicited",
            Flaw::EmptySessionOnWrongDestination => "empty-session-on-wrong-destination",
            Flaw::IgnoreInResponseTo => "ignore-in-response-to",
            Flaw::InResponseToOwnRequestsOnly => "in-response-to-own-requests-only",
            Flaw::ReadFirstAssertion => "read-first-assertion",
            Flaw::NameidFirstTextNode => "nameid-first-text-node",
            Flaw::AllowDoctype => "allow-doctype",
            Flaw::AnyBodySize => "any-body-size",
            Flaw::OpenRelayState => "open-relay-state",
            Flaw::CaseSensitiveEmail => "case-sensitive-email",
            Flaw::JitIgnoresDomain => "jit-ignores-domain",
            Flaw::IgnoreSignatureErrors => "ignore-signature-errors",
            Flaw::ZeroClockSkew => "zero-clock-skew",
            Flaw::IgnoreRelayState => "ignore-relay-state",
            Flaw::ForgetRequestId => "forget-request-id",
            Flaw::RequireSignedResponse => "require-signed-response",
            Flaw::RequireSignedAssertion => "require-signed-assertion",
            Flaw::UnenforcedWantAssertionsSigned => "unenforced-want-assertions-signed",
            Flaw::ReadLastAssertion => "read-last-assertion",
            Flaw::ReadRootAssertion => "read-root-assertion",
            Flaw::SignedAssertionAnywhere => "signed-assertion-anywhere",
            Flaw::ExistingOnlyCreatesAccounts => "existing-only-creates-accounts",
            Flaw::DropAttributes => "drop-attributes",
            Flaw::RefusedUserKeepsAccount => "refused-user-keeps-account",
            Flaw::RejectTwoSignatures => "reject-two-signatures",
            Flaw::HandRolledSignatureCheck => "hand-rolled-signature-check",
            Flaw::AcceptUnsignedEncryptedAssertion => "accept-unsigned-encrypted-assertion",
            Flaw::AcceptRsa15 => "accept-rsa-1_5",
            Flaw::EncryptedKeyInsideOnly => "encrypted-key-inside-only",
            Flaw::SloSignatureAnywhere => "slo-signature-anywhere",
            Flaw::UnsignedLogoutRequest => "unsigned-logout-request",
            Flaw::UnsignedAuthnRequests => "unsigned-authn-requests",
            Flaw::FilterCaseSensitive => "filter-case-sensitive",
            Flaw::ItemsPerPageIsCount => "items-per-page-is-count",
            Flaw::PutPartialMerge => "put-partial-merge",
            Flaw::PatchPathlessIgnored => "patch-pathless-ignored",
            Flaw::MemberRemoveIgnored => "member-remove-ignored",
            Flaw::RenameReplaceWipesMembers => "rename-replace-wipes-members",
            Flaw::DeactivateDeletes => "deactivate-deletes",
            Flaw::DeactivateKeepsSessions => "deactivate-keeps-sessions",
            Flaw::AllowLastAdminDeactivation => "allow-last-admin-deactivation",
            Flaw::DupReturns200 => "dup-returns-200",
            Flaw::NoMatchReturns404 => "no-match-returns-404",
            Flaw::UnstablePagination => "unstable-pagination",
            Flaw::JitRevivesDeactivated => "jit-revives-deactivated",
            Flaw::GroupsOverrideDeactivation => "groups-override-deactivation",
            Flaw::ErrorNotScimSchema => "error-not-scim-schema",
            Flaw::KeepUndeclaredAttributes => "keep-undeclared-attributes",
            Flaw::ScimIgnoresEmailDomains => "scim-ignores-email-domains",
            Flaw::ConflictWithoutScimType => "conflict-without-scim-type",
            Flaw::RefusePlainJson => "refuse-plain-json",
            Flaw::IgnoreIfMatch => "ignore-if-match",
            Flaw::EchoPassword => "echo-password",
            Flaw::TotalResultsIsPageSize => "total-results-is-page-size",
            Flaw::ListOmitsAttributes => "list-omits-attributes",
            Flaw::UserLookupFindsNobody => "user-lookup-finds-nobody",
            Flaw::PutIgnoresName => "put-ignores-name",
            Flaw::RefuseBareScimJson => "refuse-bare-scim-json",
            Flaw::GroupLookupFindsNobody => "group-lookup-finds-nobody",
            Flaw::MemberAddIgnored => "member-add-ignored",
            Flaw::ReplaceMembersAdds => "replace-members-adds",
            Flaw::PatchAddReplacesMembers => "patch-add-replaces-members",
            Flaw::GroupExitDeactivates => "group-exit-deactivates",
            Flaw::AcceptAlgNone => "accept-alg-none",
            Flaw::Hs256PublicKey => "hs256-public-key",
            Flaw::Hs256ClientSecret => "hs256-client-secret",
            Flaw::TrustHeaderJwk => "trust-header-jwk",
            Flaw::TrustHeaderX5c => "trust-header-x5c",
            Flaw::TrustX5u => "trust-x5u",
            Flaw::TrustJku => "trust-jku",
            Flaw::NoNonceCheck => "no-nonce-check",
            Flaw::NoStateCheck => "no-state-check",
            Flaw::StateNotBoundToBrowser => "state-not-bound-to-browser",
            Flaw::IgnoreAud => "ignore-aud",
            Flaw::IgnoreIss => "ignore-iss",
            Flaw::IgnoreExp => "ignore-exp",
            Flaw::IgnoreIatNbf => "ignore-iat-nbf",
            Flaw::SkipAtHash => "skip-at-hash",
            Flaw::SkipIdTokenSignature => "skip-id-token-signature",
            Flaw::IgnoreCrit => "ignore-crit",
            Flaw::IgnoreAuthorizationResponseIss => "ignore-authorization-response-iss",
            Flaw::UserinfoSubUnchecked => "userinfo-sub-unchecked",
            Flaw::EmailAsIdentity => "email-as-identity",
            Flaw::TrustDiscoveryIssuer => "trust-discovery-issuer",
            Flaw::NoJwksRefetch => "no-jwks-refetch",
            Flaw::JwksRefetchUnbounded => "jwks-refetch-unbounded",
            Flaw::AcceptsClaimTypeConfusion => "accepts-claim-type-confusion",
            Flaw::OpenRedirectAfterLogin => "open-redirect-after-login",
            Flaw::StateReusable => "state-reusable",
            Flaw::NoPkce => "no-pkce",
            Flaw::FirstJwksKey => "first-jwks-key",
            Flaw::PkcePlain => "pkce-plain",
            Flaw::DropOidcClaims => "drop-oidc-claims",
            Flaw::MissingSubUsesEmail => "missing-sub-uses-email",
            Flaw::KidAsFilePath => "kid-as-file-path",
            Flaw::PsychicSignature => "psychic-signature",
            Flaw::RefreshTrustsNewClaims => "refresh-trusts-new-claims",
            Flaw::MatchEmailTransliterated => "match-email-transliterated",
            Flaw::MatchEmailIgnoringPlus => "match-email-ignoring-plus",
            Flaw::ScimUpdateKeepsEmail => "scim-update-keeps-email",
            Flaw::EmailChangeKeepsIdentity => "email-change-keeps-identity",
            Flaw::ScimLookupSkipsJitAccounts => "scim-lookup-skips-jit-accounts",
            Flaw::ScimEmailUntrimmed => "scim-email-untrimmed",
            Flaw::EmailAttributeAsIdentity => "email-attribute-as-identity",
            Flaw::LockAfterFailedSso => "lock-after-failed-sso",
            Flaw::AllowLastAdminGroupRemoval => "allow-last-admin-group-removal",
            Flaw::AllowOwnerDeactivation => "allow-owner-deactivation",
            Flaw::BreakGlassNeedsIdp => "break-glass-needs-idp",
            Flaw::PinFirstIdpCertificate => "pin-first-idp-certificate",
            Flaw::LinkUnverifiedEmail => "link-unverified-email",
            Flaw::SignInGroupsReplaceMembership => "sign-in-groups-replace-membership",
            Flaw::PushCreatesTeams => "push-creates-teams",
            Flaw::SignInGroupsOnlyAdd => "sign-in-groups-only-add",
            Flaw::RequiredAttributesUnchecked => "required-attributes-unchecked",
            Flaw::EmailNotUnique => "email-not-unique",
            Flaw::RoleOnlyAtCreation => "role-only-at-creation",
            Flaw::SsoEnforcementWithoutAdminSignIn => "sso-enforcement-without-admin-sign-in",
            Flaw::JitSkipsLicence => "jit-skips-licence",
            Flaw::UsernameFormatUnchecked => "username-format-unchecked",
            Flaw::DisplayNameOptional => "display-name-optional",
            Flaw::UnknownUserServerError => "unknown-user-server-error",
            Flaw::ScimBeforeSsoVerified => "scim-before-sso-verified",
            Flaw::CoreAttributesDropped => "core-attributes-dropped",
        }
    }

    /// The real bug the flaw reproduces, in one line.
    pub fn description(self) -> &'static str {
        match self {
            Flaw::AcceptUnsigned => "Accepts a response with no signature at all (FusionAuth CVE-2020-12676).",
            Flaw::TrustKeyinfoCert => {
                "Verifies with the certificate in the message's KeyInfo instead of the pinned one (xml-crypto CVE-2024-32962)."
            }
            Flaw::TrustKeyValue => {
                "Verifies with the RSA key in the message's KeyInfo/KeyValue when there is one, instead of the pinned certificate (pysaml2 CVE-2021-21239: xmlsec1 run without restricting its key sources)."
            }
            Flaw::HmacWithCertificate => {
                "Takes the SignatureMethod from the message, so an HMAC signature is checked with the IdP's certificate (its PEM text) as the secret, which anyone can read from the metadata (SimpleSAMLphp/xmlseclibs CVE-2018-7644)."
            }
            Flaw::DigestValueFirstChild => {
                "Reads a DigestValue as its first child node, a comment included, while the canonical SignedInfo drops comments, so a comment holding the digest of edited content wins (xml-crypto before 6.0.1, CVE-2025-29775)."
            }
            Flaw::FirstSignedInfo => {
                "Takes the References of the first SignedInfo but checks the SignatureValue over the SignedInfo next to it, so a second SignedInfo put before the signed one carries the digest of edited content (xml-crypto before 6.0.1, CVE-2025-29774)."
            }
            Flaw::AnyReferenceUri => {
                "Accepts any Reference the XML signature library verified, without checking that it names the element that carries the Signature: URI=\"\" (the whole document) or another element's ID will do (attacks.md S-26; SAML Core 5.4.2)."
            }
            Flaw::AnyTransform => {
                "Lets the XML signature library run any Transform the signature lists (an XPath filter, #WithComments c14n), so an XPath filter can leave the Subject out of what is signed (attacks.md S-27; XML Signature Best Practices)."
            }
            Flaw::FirstDigestValueInDocument => {
                "Reads the digest as the first DigestValue of the document outside other signatures (an absolute //ds:DigestValue), so one planted in Extensions before the Assertion wins (ruby-saml before 1.17.0, CVE-2024-45409)."
            }
            Flaw::AcceptSha1 => "Accepts RSA-SHA1 signatures without the tenant opting in.",
            Flaw::IgnoreAudience => "Does not check the Audience, so a response for another SP is accepted.",
            Flaw::IgnoreRecipient => "Does not check SubjectConfirmationData Recipient against this ACS.",
            Flaw::AnySubjectConfirmation => {
                "Takes the first SubjectConfirmation whatever its Method (holder-of-key and sender-vouches included), and checks its Recipient and NotOnOrAfter only when it has SubjectConfirmationData, though Web Browser SSO requires a bearer confirmation with both (SAML Profiles 4.1.4.2; attacks.md P-14)."
            }
            Flaw::IgnoreDestination => "Does not check the Response Destination against this ACS.",
            Flaw::IgnoreTime => "Does not check NotBefore and NotOnOrAfter, so expired responses are accepted.",
            Flaw::IgnoreConfirmationExpiry => {
                "Checks the Conditions' validity window but not the bearer SubjectConfirmationData's NotOnOrAfter, so a confirmation that has run out is accepted while the Conditions last (attacks.md P-05)."
            }
            Flaw::IgnoreSessionNotOnOrAfter => {
                "Ignores the AuthnStatement's SessionNotOnOrAfter, so the session lasts the SP's own lifetime after the IdP said it must end (attacks.md P-18; Samly CVE-2024-25718)."
            }
            Flaw::IgnoreConditionsExpiry => {
                "Checks the SubjectConfirmationData's NotOnOrAfter but not the Conditions' NotOnOrAfter, so an assertion past its validity window is accepted (attacks.md P-06)."
            }
            Flaw::IgnoreIssuer => "Does not check that the Issuer is the tenant's IdP.",
            Flaw::IgnoreStatus => "Reads the assertion even when the Status is not Success.",
            Flaw::NoReplayCache => "Keeps no record of assertion IDs, so a captured response can be posted again.",
            Flaw::EmptySessionOnWrongDestination => {
                "Answers a response with a wrong Destination by sending the browser home with a new, empty session instead of refusing it outright (a session middleware that issues the session before the ACS's checks run); pages that only ask whether a session exists let the browser in."
            }
            Flaw::RefuseUnsolicited => {
                "Refuses every response without InResponseTo even where the tenant turned IdP-initiated sign-in on (a setting that is shown but never wired in, as with Keycloak brokers missing their IdP-initiated URL name), so the Okta dashboard tile fails."
            }
            Flaw::AcceptUnsolicited => {
                "Accepts IdP-initiated (unsolicited) responses even where the tenant turned them off."
            }
            Flaw::IgnoreInResponseTo => "Does not tie InResponseTo to the request this browser sent.",
            Flaw::InResponseToOwnRequestsOnly => {
                "Checks InResponseTo only when this browser has a request outstanding; a response naming a request it never sent is taken as unsolicited (python3-saml without the request id)."
            }
            Flaw::ReadFirstAssertion => {
                "Verifies any signature, then reads the first Assertion in the document (XML signature wrapping)."
            }
            Flaw::NameidFirstTextNode => {
                "Reads only the first text node of NameID, so a comment truncates it (CVE-2017-11427 class)."
            }
            Flaw::AllowDoctype => "Parses documents with a DOCTYPE (CVE-2025-25291 class).",
            Flaw::AnyBodySize => {
                "Sets no limit on a request body, so the ACS decodes and parses a SAMLResponse of any size (attacks.md S-31; ruby-saml CVE-2025-25293)."
            }
            Flaw::OpenRelayState => "Redirects to any RelayState, including other sites (open redirect).",
            Flaw::CaseSensitiveEmail => {
                "Matches accounts by exact email, so a case variant creates or misses an account."
            }
            Flaw::MatchEmailTransliterated => {
                "Matches accounts by the email transliterated to ASCII (full-width forms and Cyrillic look-alikes folded, as unidecode does), so a look-alike address takes over an account."
            }
            Flaw::MatchEmailIgnoringPlus => {
                "Matches accounts by the email without its +tag, so another mailbox (alice+x@) takes over alice@'s account."
            }
            Flaw::ScimUpdateKeepsEmail => {
                "Keeps the account's sign-in email from its creation when SCIM changes userName and emails, so the user's new email misses the account."
            }
            Flaw::EmailChangeKeepsIdentity => {
                "Keeps the IdP identity that was a user's old email (their SAML NameID) linked to their account after SCIM changes the email, so whoever Okta gives that address next signs in to it (attacks.md K-08)."
            }
            Flaw::LinkUnverifiedEmail => {
                "Finds the account for an OIDC sign-in by its email claim without reading email_verified (or the tenant's linking setting), so an IdP user holding an unverified copy of someone's address gets their account (nOAuth; attacks.md K-08)."
            }
            Flaw::SignInGroupsReplaceMembership => {
                "Takes the groups of each sign-in (the SAML groups attribute, the OIDC groups claim) as the user's whole team membership and takes them out of every pushed team the sign-in does not name, so a groups claim Okta cut at 100 groups drops memberships Okta pushed (attacks.md K-07)."
            }
            Flaw::SignInGroupsOnlyAdd => {
                "Adds the groups each sign-in shows to the user's groups and never removes one, so a user Okta took out of a group (its SCIM removal, and a sign-in without the group) keeps it in every later session (attacks.md K-07)."
            }
            Flaw::PushCreatesTeams => {
                "Creates a new team for a pushed group whose name matches no team, in a tenant whose pushed groups must link to existing teams, so every Okta group an admin pushes by mistake becomes a team (the Moxion guide: push groups link to teams and never create them)."
            }
            Flaw::PinFirstIdpCertificate => {
                "Keeps the IdP signing certificates it read first and ignores those a metadata refresh brings, as an SP that pins the certificate at setup does, so Okta's certificate rollover locks everyone out when the app switches to the new certificate (attacks.md K-05: \"users can't access the app until you upload the new certificate\")."
            }
            Flaw::UnknownUserServerError => {
                "Answers a sign-in of a user it has no account for with a generic 500 error page, as an SP whose account lookup returns nothing and fails on it does, instead of its own refusal (the MoovingON guide's \"Error 405\"), so the customer's help desk cannot tell a missing account from an outage."
            }
            Flaw::ScimBeforeSsoVerified => {
                "Takes SCIM requests from the moment SCIM is switched on, before anyone has signed in through the IdP, so provisioning can overwrite or deactivate the accounts of a set-up whose sign-in never worked and lock the customer out (the MoovingON guide: \"Don't try to enable SCIM before you verify that IdP is working\")."
            }
            Flaw::CoreAttributesDropped => {
                "Accepts the custom attributes Okta sends on the core User (the MoovingON guide's moovingon_ai_admin, firstPhone and secondPhone, External namespace urn:ietf:params:scim:schemas:core:2.0:User) and silently keeps none of them, as a SCIM server that maps only the standard attributes does, so the admin flag and the phones never arrive."
            }
            Flaw::RequiredAttributesUnchecked => {
                "Takes a SCIM create or replace that lacks an attribute the tenant requires (a first name, a last name, an email) and stores the user with an empty name, where the Appenate guide says such a user cannot be provisioned; SCIM servers commonly check only userName (RFC 7644 3.3 and 3.12 want 400 invalidValue)."
            }
            Flaw::EmailNotUnique => {
                "Keys SCIM users on userName alone and keeps emails as free attributes, so two users share a primary email, where the Appenate guide says the email is unique because it is the username (RFC 7644 3.3 and 3.12 want 409 uniqueness)."
            }
            Flaw::RoleOnlyAtCreation => {
                "Takes the role claim only when it creates the account at the first sign-in and never updates it, so a role the Okta admin changes on the app profile (EnterpriseAdmin to ReadOnly) keeps its old rights at the SP."
            }
            Flaw::JitSkipsLicence => {
                "Gives the tenant's licence at sign-in only to a returning user: the account it creates at the first sign-in (JIT) has none until the user signs in again, as an SP whose licence step sits in the returning-user path and not in the account-creation path does, so a new user of the Mobius guide's set-up cannot dictate after first signing in."
            }
            Flaw::UsernameFormatUnchecked => {
                "Takes any username the IdP sends although the tenant requires an email-format username (the Koopid guide), so a user whose Okta login is not an email gets an account keyed on a name the SP's other parts take for an address."
            }
            Flaw::DisplayNameOptional => {
                "Creates the account and signs in a user the IdP sent no display name for, using the email as the name, although the tenant requires one (the Koopid guide: \"Make sure the assigned users have Display Name set\")."
            }
            Flaw::SsoEnforcementWithoutAdminSignIn => {
                "Lets an admin require SSO for the tenant before any admin has signed in through the IdP, so a broken IdP set-up (a wrong certificate, a wrong ACS, an admin group Okta never sends) locks every admin out the moment SSO is required, with nothing having shown that sign-in through the IdP works (attacks.md K-14)."
            }
            Flaw::BreakGlassNeedsIdp => {
                "With SSO required, sends the break-glass admin's login through the IdP's metadata as the SSO login is sent (it loads the metadata again first), so it refuses the admin when the metadata cannot be fetched or its certificate changed: the one way in meant for an IdP outage fails in one (attacks.md K-14)."
            }
            Flaw::AllowOwnerDeactivation => {
                "Lets SCIM deactivate the user the tenant's SCIM credential stands for (its API user), so Okta's deactivation locks out the integration's own owner."
            }
            Flaw::AllowLastAdminGroupRemoval => {
                "Guards the last active admin on user writes alone, so Okta's group PATCH that removes the only admin from the admin team demotes them and leaves the customer without an admin."
            }
            Flaw::LockAfterFailedSso => {
                "Counts refused SAML responses against the account their NameID names, as it would wrong passwords, and locks it after five, so anyone who can post a forged response locks a person out of SSO (attacks.md K-14)."
            }
            Flaw::EmailAttributeAsIdentity => {
                "Finds the account by the SAML email attribute instead of the NameID, so another Okta user whose email is the same (Okta does not keep emails unique) signs in to it (attacks.md K-08)."
            }
            Flaw::ScimEmailUntrimmed => {
                "Keys the email and userName SCIM sends without trimming them, so a value with surrounding whitespace becomes another address and the person's sign-in no longer finds their account."
            }
            Flaw::ScimLookupSkipsJitAccounts => {
                "Answers Okta's userName lookup from the accounts SCIM created only, so a user who signed in first is not found and Okta's assignment makes (or fails to make) a second account for them."
            }
            Flaw::JitIgnoresDomain => "Creates accounts at first sign-in for emails outside the tenant's domains.",
            Flaw::IgnoreSignatureErrors => {
                "Treats a failed signature verification as success (SimpleSAMLphp CVE-2016-9814 class)."
            }
            Flaw::ZeroClockSkew => "Allows no clock skew, so a response from an IdP a minute ahead is refused.",
            Flaw::IgnoreRelayState => {
                "Always lands on the home page, ignoring RelayState (deep links and the default RelayState are lost)."
            }
            Flaw::ForgetRequestId => {
                "Does not keep the AuthnRequest ID, so every SP-initiated sign-in fails its InResponseTo check."
            }
            Flaw::RequireSignedResponse => {
                "Refuses an unsigned Response element, so Okta apps that sign only the assertion cannot sign in."
            }
            Flaw::ReadLastAssertion => {
                "Verifies any signature, then reads the last Assertion, so an unsigned one appended wins (CVE-2022-41912 class)."
            }
            Flaw::SignedAssertionAnywhere => {
                "Checks the message's shape as a schema-validating SP does (one Assertion in the Response, any other only where the SAML schema takes one: in Advice or StatusDetail; unique IDs), so XSW1-8 are refused, then accepts any valid signature in the document (the hidden original's) and reads the Response's own Assertion, so schema-valid wrapping gets through (samlify before 2.10.0, CVE-2025-47949; node-saml 5.0.1, CVE-2025-54419)."
            }
            Flaw::ReadRootAssertion => {
                "Accepts a signature wherever its Reference points, then reads the Response's first Assertion (XSW1, XSW2, XSW6 class)."
            }
            Flaw::DropAttributes => {
                "Ignores the AttributeStatement, so names, roles and groups from Okta never arrive."
            }
            Flaw::ExistingOnlyCreatesAccounts => {
                "Creates accounts at first sign-in even in a tenant that allows existing accounts only."
            }
            Flaw::UnenforcedWantAssertionsSigned => {
                "Publishes WantAssertionsSigned=\"true\" in its metadata but accepts an unsigned Assertion inside a signed Response, so what the IdP is told and what the ACS checks differ (SAML Metadata 2.4.4; attacks.md S-14)."
            }
            Flaw::RequireSignedAssertion => {
                "Refuses an unsigned Assertion, so Okta apps that sign only the response cannot sign in."
            }
            Flaw::RefusedUserKeepsAccount => {
                "Records an unknown user's account before refusing the sign-in in an existing-accounts-only tenant."
            }
            Flaw::FilterCaseSensitive => {
                "Compares SCIM filter strings exactly, so Okta's userName lookup misses a case variant (langfuse #13528)."
            }
            Flaw::ItemsPerPageIsCount => {
                "Reports the requested count as itemsPerPage instead of the number returned (ory/polis #4054)."
            }
            Flaw::PutPartialMerge => {
                "Merges a PUT into the stored user, so attributes the PUT leaves out are never cleared."
            }
            Flaw::PatchPathlessIgnored => {
                "Ignores PATCH operations without a path, so Okta's deactivation does nothing (keycloak-scim-server #95)."
            }
            Flaw::MemberRemoveIgnored => {
                "Answers 200 to a members[value eq ...] removal but removes nobody (authentik #25686)."
            }
            Flaw::RenameReplaceWipesMembers => {
                "Treats Okta's rename PATCH as the whole group, wiping its members (langwatch #7131)."
            }
            Flaw::DeactivateDeletes => "Deletes a user on deactivation, so Okta can no longer read or reactivate them.",
            Flaw::DeactivateKeepsSessions => "Deactivates the account but leaves its sessions alive.",
            Flaw::AllowLastAdminDeactivation => {
                "Lets SCIM deactivate or demote the tenant's last active admin, locking the customer out."
            }
            Flaw::DupReturns200 => {
                "Answers a duplicate create with 200 and the existing user instead of 409 (PostHog #42253)."
            }
            Flaw::NoMatchReturns404 => {
                "Answers a filter that matches nobody with 404 instead of an empty list, which Okta's SPEC test refuses."
            }
            Flaw::UnstablePagination => {
                "Pages without a stable order, so an import by startIndex skips and repeats users (wso2 #9957)."
            }
            Flaw::JitRevivesDeactivated => {
                "Reactivates a deactivated account when its user signs in again through JIT."
            }
            Flaw::GroupsOverrideDeactivation => {
                "Lets a deactivated account sign in while it is still a member of a pushed group, reading team membership as access although Okta leaves deactivated users in their groups (attacks.md K-12)."
            }
            Flaw::ErrorNotScimSchema => {
                "Answers errors with a plain JSON body, not the SCIM Error schema (onyx #8925)."
            }
            Flaw::AcceptUnsignedEncryptedAssertion => {
                "Trusts a decrypted Assertion that nothing signed, because it was encrypted to the SP's public certificate (GitHub Enterprise Server CVE-2024-4985, CVE-2024-9487)."
            }
            Flaw::AcceptRsa15 => {
                "Decrypts session keys carried with RSA PKCS#1 v1.5 (rsa-1_5), open to Bleichenbacher's attack on XML Encryption (Jager, Schinzel and Somorovsky, 2012)."
            }
            Flaw::SloSignatureAnywhere => {
                "Takes a LogoutRequest as signed when any signature in the document verifies with the IdP's key, so a captured signed Assertion wrapped in an unsigned LogoutRequest ends the victim's session (samlify before 2.8.11, GHSA-63ch-w8pw-4mf2)."
            }
            Flaw::UnsignedLogoutRequest => {
                "Sends its LogoutRequest unsigned, which Okta refuses (it takes only signed Single Logout requests), so the Okta session outlives the app's."
            }
            Flaw::UnsignedAuthnRequests => {
                "Sends its AuthnRequests unsigned while its metadata still says AuthnRequestsSigned=\"true\" with a signing key (a signing step lost in a refactor, a key that failed to load and was skipped), so an Okta app set up from the metadata, with Signed Requests on, refuses every SP-initiated sign-in."
            }
            Flaw::EncryptedKeyInsideOnly => {
                "Looks for the EncryptedKey only inside EncryptedData's KeyInfo, so Okta's form (the EncryptedKey a sibling of EncryptedData, reached by a RetrievalMethod) cannot be decrypted and encrypted sign-in fails."
            }
            Flaw::HandRolledSignatureCheck => {
                "Checks signatures by hand: tries every element with the Reference's ID, strips the Signature only when it lies inside that element, then reads the first Assertion (XSW6-8, On Breaking SAML, 2012)."
            }
            Flaw::RejectTwoSignatures => {
                "Refuses a response whose Response and Assertion are both signed, Okta's default (passport-saml #112, xml-crypto #223)."
            }
            Flaw::KeepUndeclaredAttributes => {
                "Stores and returns User attributes and extension URNs that /Schemas does not declare, so what a client reads of the schema is not what the server keeps (the reference SP before issue 12; keycloak #48602)."
            }
            Flaw::ScimIgnoresEmailDomains => {
                "Provisions through SCIM users whose email is outside the tenant's allowed domains, accounts that sign-in then refuses (the reference SP before issue 12)."
            }
            Flaw::ConflictWithoutScimType => {
                "Answers a duplicate userName with 409 but no scimType uniqueness (ory/polis #4065, getsentry/sentry #117860)."
            }
            Flaw::RefusePlainJson => {
                "Refuses a user create sent as application/json, taking only application/scim+json, so Okta's SPEC test create fails (the 415s of MicrosoftDocs/azure-docs #116775)."
            }
            Flaw::IgnoreIfMatch => {
                "Offers ETags but ignores If-Match, so a write based on a stale read overwrites a newer one (apache/directory-scimple #534)."
            }
            Flaw::EchoPassword => {
                "Keeps the password sent on create with the user and returns it in every read, though its returned characteristic is never (pond/scimitar #56)."
            }
            Flaw::TotalResultsIsPageSize => {
                "Reports the page's length as totalResults, so Okta's import stops after the first page (better-auth/better-auth #10398)."
            }
            Flaw::ListOmitsAttributes => {
                "Lists users without their names and emails (only id, userName and active), so the user Okta's SPEC test reads from the first page lacks what it asserts (onyx-dot-app/onyx #8959)."
            }
            Flaw::UserLookupFindsNobody => {
                "Answers a userName eq filter with no users although the user exists and the unfiltered list shows it, so Okta creates instead of linking (wso2/product-is #4415)."
            }
            Flaw::PutIgnoresName => {
                "Ignores the name in a PUT, so Okta's profile updates of givenName and familyName never land (Metatavu/keycloak-scim-server #106)."
            }
            Flaw::RefuseBareScimJson => {
                "Matches the whole Content-Type header against the strings it has seen (application/json, and Okta's application/scim+json; charset=utf-8), so a bare application/scim+json, the media type RFC 7644 names, is refused (the media-type allow list medplum/medplum #4143 fixed)."
            }
            Flaw::GroupLookupFindsNobody => {
                "Answers every filter on Groups, Okta's displayName eq among them, with no groups, so Okta cannot find a group it pushed and pushes it again (the filter okta/okta-developer-docs #3506 says Okta sends; ssoready/ssoready #232 added it)."
            }
            Flaw::MemberAddIgnored => {
                "Answers Okta's PATCH add of members with 200 but adds nobody (pond/scimitar #8)."
            }
            Flaw::ReplaceMembersAdds => {
                "Reads a PATCH replace of members as an add, so Okta's \"Push now\" never removes members who left (keycloak/keycloak #52752, and PostHog/posthog #47336 made it additive on purpose)."
            }
            Flaw::PatchAddReplacesMembers => {
                "Reads a PATCH add of members as a replace of the whole list, so when Okta pushes a group of over 100 members in batches (the first a replace, the rest adds) each batch wipes the one before, and an add of one member drops everyone else (msaad00/agent-bom #3533; Okta's batching of membership PATCHes: okta/okta-developer-docs #2105)."
            }
            Flaw::GroupExitDeactivates => {
                "Treats membership of a pushed group as access to the app: a user removed from the group, or whose group is deleted, is deactivated, though Okta's assignment still holds (the group-removal deprovisioning of goauthentik/authentik #26265, done by the server)."
            }
            Flaw::AcceptAlgNone => {
                "Accepts an unsigned ID token (alg none, any spelling) from the token endpoint (McLean 2015, \"Critical vulnerabilities in JSON Web Token libraries\"; RFC 8725 §3.1)."
            }
            Flaw::Hs256PublicKey => {
                "Verifies an HS256 token with the provider's RSA public key as the HMAC secret (algorithm confusion: node-jsonwebtoken CVE-2015-9235, jwt-simple CVE-2016-10555)."
            }
            Flaw::Hs256ClientSecret => {
                "Accepts an HS256 ID token keyed by the client secret although the client registered RS256: it lets the token choose the algorithm (OIDC Core §10.1), so anyone holding the secret mints tokens."
            }
            Flaw::TrustHeaderJwk => {
                "Verifies with the key embedded in the token's jwk header (node-jose CVE-2018-0114)."
            }
            Flaw::TrustX5u => {
                "Fetches the certificate at the token header's x5u and verifies with its key, unchained (attacks.md O-04; RFC 8725 3.10: never fetch keys from header URLs)."
            }
            Flaw::TrustHeaderX5c => {
                "Verifies with the public key of the certificate in the token's x5c header, without chaining it to anything (attacks.md O-04)."
            }
            Flaw::TrustJku => {
                "Fetches the key set from the token's jku header and verifies with it (RFC 8725 §3.10; jwt_tool's jku injection)."
            }
            Flaw::NoNonceCheck => {
                "Does not compare the ID token's nonce with the one the login sent, so a token from another login is replayed (OIDF oidcc-client-test-nonce-invalid)."
            }
            Flaw::NoStateCheck => {
                "Does not compare the callback's state with the login's, so an attacker's callback completes the victim's login (login CSRF, RFC 9700 §4.7)."
            }
            Flaw::StateNotBoundToBrowser => {
                "Keeps the state server-side but not tied to the browser that started the login, so a callback from another browser is accepted (login CSRF)."
            }
            Flaw::IgnoreAud => {
                "Does not check aud (or azp), so an ID token issued to another client is accepted (token substitution; OIDF oidcc-client-test-invalid-aud)."
            }
            Flaw::IgnoreIss => {
                "Does not check iss, so a token from another issuer signed with a trusted key is accepted (OIDF oidcc-client-test-invalid-iss)."
            }
            Flaw::IgnoreExp => {
                "Does not check exp, so an expired ID token is accepted (OIDF FAPI invalid-expired-exp)."
            }
            Flaw::IgnoreIatNbf => {
                "Does not check iat and nbf, so a token issued in the future or missing iat is accepted (OIDF oidcc-client-test-missing-iat)."
            }
            Flaw::IgnoreCrit => {
                "Ignores the JWS crit header, so a token that demands an extension the client does not implement is processed anyway (RFC 7515 §4.1.11; many JWT libraries before their fixes)."
            }
            Flaw::IgnoreAuthorizationResponseIss => {
                "Ignores the iss parameter of the authorization response, so a code from another issuer is redeemed at this one (the RFC 9207 mix-up)."
            }
            Flaw::SkipIdTokenSignature => {
                "Does not verify the ID token's signature because it came from the token endpoint, which OpenID Connect Core 3.1.3.7 allows only over TLS with the issuer checked by the server certificate."
            }
            Flaw::SkipAtHash => {
                "Does not check at_hash, so an access token swapped into the response goes unnoticed (OIDF oidcc-client-test-invalid-athash)."
            }
            Flaw::UserinfoSubUnchecked => {
                "Takes the userinfo response's user without comparing its sub with the ID token's (OIDC Core §5.3.2; OIDF oidcc-client-test-userinfo-invalid-sub)."
            }
            Flaw::EmailAsIdentity => {
                "Keys the account on the email claim, verified or not, instead of iss and sub (nOAuth, Descope 2023)."
            }
            Flaw::TrustDiscoveryIssuer => {
                "Takes the issuer from the discovery document instead of requiring the configured one (OIDF oidcc-client-test-discovery-issuer-mismatch; mix-up)."
            }
            Flaw::NoJwksRefetch => {
                "Never refetches the key set on an unknown kid, so sign-in breaks until the cache expires after Okta rotates its key (OIDF oidcc-client-test-signing-key-rotation)."
            }
            Flaw::JwksRefetchUnbounded => {
                "Refetches the key set for every unknown kid, so a flood of forged tokens becomes a flood of requests to the provider (attacks.md K-03)."
            }
            Flaw::AcceptsClaimTypeConfusion => {
                "Counts a claim of the wrong JSON type as present but skips its check, so \"exp\":\"never\" passes (jsonwebtoken CVE-2026-25537, before 10.3.0)."
            }
            Flaw::OpenRedirectAfterLogin => {
                "Redirects after an OIDC login to any return_to URL, including other sites (open redirect, CWE-601)."
            }
            Flaw::StateReusable => {
                "Never uses up a started login: its state, nonce and PKCE verifier stay valid, and their cookie stays in the browser, until they expire, so a callback URL opened again from the browser's history signs in again (micronaut-security PR #2323: the state, PKCE and nonce cookies were never cleared after use)."
            }
            Flaw::NoPkce => {
                "Sends no PKCE code_challenge, as relying parties written before RFC 9700 do (mod_auth_openidc 2.4 sends none unless OIDCPKCEMethod is set), so a stolen code can be redeemed by anyone holding the client's credentials, and a public client has nothing binding the code to it."
            }
            Flaw::FirstJwksKey => {
                "Verifies the ID token with the first key of the cached JWKS whatever the token's kid, so sign-in breaks when a graceful rotation makes the pre-published next key active (istio-ecosystem/authservice #110: verification fails once the JWKS has several keys)."
            }
            Flaw::PkcePlain => {
                "Sends code_challenge_method=plain (the verifier itself as the challenge), which RFC 7636 §4.2 allows only when S256 is impossible and which Okta refuses, so no one can sign in: the plain option clients add for providers without S256 (Kong/insomnia #2973), left on against Okta."
            }
            Flaw::DropOidcClaims => {
                "Keeps only the email from the ID token and userinfo, dropping the name and groups the provider sends, so group-based access and the display name never work (the OIDC side of drop-attributes; Grafana's generic OAuth ignores groups unless groups_attribute_path is set)."
            }
            Flaw::MissingSubUsesEmail => {
                "Accepts an ID token without sub and keys the user on its email instead, because its JWT library only requires the claims it is told to (the Rust jsonwebtoken crate's Validation requires only exp by default) although OpenID Connect Core §2 makes sub REQUIRED."
            }
            Flaw::KidAsFilePath => {
                "Reads the ID token's kid as the path of a key file and verifies HMAC tokens with that file's bytes, so kid ../../dev/null with an empty HMAC key verifies (RFC 8725 §3.10; PortSwigger Web Security Academy, \"JWT authentication bypass via kid header path traversal\")."
            }
            Flaw::PsychicSignature => {
                "Verifies ES256 signatures without checking that r and s lie in [1, n-1], so the all-zero signature verifies any token (the psychic signatures bug of Java 15 to 18, CVE-2022-21449)."
            }
            Flaw::RefreshTrustsNewClaims => {
                "Takes the ID token of a refresh grant as the session's identity on trust: its iss is not compared with the provider's, nor its iss, sub, aud and auth_time with the original's, as OpenID Connect Core §12.2 requires (python-social-auth/social-core #589, fixed by #1898; jumbojett/OpenID-Connect-PHP #396)."
            }
        }
    }
}

impl fmt::Display for Flaw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown flaw '{0}' (run `mockta sp --list-flaws`)")]
pub struct UnknownFlaw(pub String);

impl FromStr for Flaw {
    type Err = UnknownFlaw;
    fn from_str(text: &str) -> Result<Self, UnknownFlaw> {
        Flaw::ALL.into_iter().find(|f| f.name() == text).ok_or_else(|| UnknownFlaw(text.to_owned()))
    }
}

/// The decisions the sign-in code reads. [`Policy::correct`] is what a
/// correct SP does; each flaw loosens exactly one decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub require_signature: bool,
    pub trust_keyinfo: bool,
    /// A signature whose KeyInfo holds a KeyValue/RSAKeyValue is verified
    /// with that key (false: only with the pinned certificates).
    pub trust_key_value: bool,
    /// An HMAC SignatureMethod is allowed and keyed by the pinned
    /// certificate's PEM text (false: only asymmetric methods).
    pub hmac_keyed_by_certificate: bool,
    /// A DigestValue is read as its first child node, a comment included
    /// (false: its whole text, comments left out).
    pub digest_value_first_child: bool,
    /// A Signature may have more than one SignedInfo; the References come
    /// from the first and the SignatureValue is checked over the last
    /// (false: exactly one SignedInfo).
    pub references_from_first_signed_info: bool,
    /// A Reference's URI may be anything the library resolves (false:
    /// `#` and the ID of the element that carries the Signature).
    pub any_reference_uri: bool,
    /// Any Transform is allowed (false: enveloped-signature and the
    /// canonicalisations without comments).
    pub any_transform: bool,
    /// The digest is the document's first DigestValue outside other
    /// signatures (false: the Reference's own DigestValue child).
    pub digest_value_first_in_document: bool,
    pub force_allow_sha1: bool,
    pub check_audience: bool,
    pub check_recipient: bool,
    /// The Subject must have a bearer SubjectConfirmation with
    /// SubjectConfirmationData (false: any confirmation, data optional).
    pub require_bearer_confirmation: bool,
    pub check_destination: bool,
    pub check_time: bool,
    /// The bearer SubjectConfirmationData's NotOnOrAfter is checked.
    pub check_confirmation_expiry: bool,
    /// The Conditions' NotOnOrAfter is checked.
    pub check_conditions_expiry: bool,
    /// A session ends at the AuthnStatement's SessionNotOnOrAfter when that
    /// comes before the SP's own session lifetime.
    pub honour_session_not_on_or_after: bool,
    pub check_issuer: bool,
    pub check_status: bool,
    pub replay_cache: bool,
    pub force_allow_unsolicited: bool,
    /// Under the `refuse-unsolicited` flaw: the tenant's IdP-initiated
    /// setting is ignored and unsolicited responses are always refused.
    pub ignore_allow_unsolicited: bool,
    /// Under `empty-session-on-wrong-destination`: a wrong Destination
    /// leaves the browser a session with no user.
    pub empty_session_on_wrong_destination: bool,
    pub check_in_response_to: bool,
    /// A response whose InResponseTo names a request this browser never sent
    /// is refused (true) or taken as unsolicited (false).
    pub refuse_unknown_in_response_to: bool,
    pub assertion_reader: AssertionReader,
    pub name_id_whole_text: bool,
    pub reject_doctype: bool,
    /// Request bodies are limited to `http::MAX_BODY_BYTES` (false: no
    /// limit at all).
    pub limit_body_size: bool,
    pub local_relay_state_only: bool,
    pub normalise_email: bool,
    /// Emails are matched after folding full-width forms and Cyrillic
    /// look-alikes to ASCII (false: look-alikes are other addresses).
    pub fold_email_look_alikes: bool,
    /// `alice+x@` is its own mailbox (false: the +tag is dropped before
    /// matching).
    pub email_plus_is_mailbox: bool,
    /// A SCIM update of userName and emails moves the account's sign-in
    /// email (false: it keeps the email it was created with).
    pub scim_update_moves_email: bool,
    /// A SCIM email change unlinks the IdP identity that was the old
    /// address (false: the old NameID still signs in to the account).
    pub scim_email_change_unlinks_identity: bool,
    /// Okta's userName lookup finds every account, those made at sign-in
    /// included (false: only accounts SCIM created, which carry an
    /// externalId).
    pub scim_lookup_finds_sign_in_accounts: bool,
    /// The email and userName SCIM sends are keyed trimmed, as sign-in keys
    /// them (false: surrounding whitespace stays part of the address).
    pub scim_trims_email: bool,
    /// The SAML NameID names the account (false: the email attribute does,
    /// when the response has one).
    pub name_id_is_identity: bool,
    /// Refused SAML responses lock the account their NameID names after
    /// `FAILED_SSO_LOCK_THRESHOLD` of them (the `lock-after-failed-sso`
    /// flaw); false in the correct SP, where a refused response changes
    /// nothing about any account.
    pub lock_after_failed_sso: bool,
    /// A group write may empty the admin team of its last active admin
    /// (the `allow-last-admin-group-removal` flaw); user writes are still
    /// guarded.
    pub allow_last_admin_group_removal: bool,
    /// SCIM may deactivate the user the tenant's SCIM credential stands for
    /// (the `allow-owner-deactivation` flaw); false in the correct SP,
    /// which refuses it with 409 and the reason.
    pub allow_owner_deactivation: bool,
    /// With SSO required, the break-glass login first loads the tenant's
    /// IdP metadata again and refuses when that fails or the signing
    /// certificates changed (the `break-glass-needs-idp` flaw); false in
    /// the correct SP, whose break-glass login never asks the IdP.
    pub break_glass_needs_idp: bool,
    /// Requiring SSO is refused until an admin of the tenant has signed in
    /// through its IdP; false under `sso-enforcement-without-admin-sign-in`,
    /// which lets SSO be required at any time.
    pub sso_enforcement_needs_admin_sign_in: bool,
    /// An account a sign-in creates (JIT) gets the tenant's
    /// `licence_at_sign_in` at once; false under `jit-skips-licence`, where
    /// only a returning user's sign-in gives it.
    pub licence_at_account_creation: bool,
    /// A tenant's `require_email_username` refuses a username that is not
    /// an email; false under `username-format-unchecked`.
    pub check_username_format: bool,
    /// A tenant's `require_display_name` refuses a sign-in without a name;
    /// false under `display-name-optional`.
    pub require_display_name_when_asked: bool,
    /// A SCIM create or replace without one of the tenant's
    /// `scim.required_attributes` is refused (400 invalidValue); false under
    /// `required-attributes-unchecked`.
    pub scim_enforces_required_attributes: bool,
    /// A SCIM user's primary email is its account's key, so no two users
    /// share one (409 uniqueness); false under `email-not-unique`, which
    /// keys accounts on the userName.
    pub scim_email_is_unique: bool,
    /// Each sign-in sets the account's role from the tenant's role claim;
    /// false under `role-only-at-creation`, which takes it only when the
    /// sign-in creates the account.
    pub sign_in_updates_role: bool,
    /// A sign-in of a user with no account is refused with the tenant's
    /// own refusal (403); false under `unknown-user-server-error`, which
    /// answers a generic 500.
    pub unknown_user_gets_refusal: bool,
    /// A tenant with `requires_verified_sso` refuses SCIM until an admin
    /// has signed in through its IdP; false under
    /// `scim-before-sso-verified`.
    pub scim_waits_for_verified_sso: bool,
    /// A tenant's custom core User attributes are kept with the resource;
    /// false under `core-attributes-dropped`, which drops them.
    pub scim_keeps_core_attributes: bool,
    /// A metadata refresh installs the IdP signing certificates it reads;
    /// false under `pin-first-idp-certificate`, which keeps those read
    /// first and takes only the rest of the new metadata.
    pub idp_metadata_refresh_takes_certificates: bool,
    /// An OIDC email links to an existing account only when the provider
    /// verified it and the tenant allows linking; false under the
    /// `link-unverified-email` flaw, where any email claim links.
    pub oidc_links_only_verified_email: bool,
    /// A sign-in leaves the user's pushed team memberships as Okta pushed
    /// them; false under `sign-in-groups-replace-membership`, where teams
    /// the sign-in's groups do not name lose the user.
    pub sign_in_keeps_pushed_membership: bool,
    /// A tenant with `teams_must_exist` refuses to push a group no team is
    /// named like; false under `push-creates-teams`, which creates one.
    pub scim_push_links_existing_teams_only: bool,
    /// A session's groups are the groups its sign-in showed; false under
    /// `sign-in-groups-only-add`, where they are every group any of the
    /// user's sign-ins showed.
    pub session_groups_are_the_sign_ins: bool,
    pub jit_checks_domain: bool,
    pub signature_failure_is_fatal: bool,
    pub honour_skew_tolerance: bool,
    pub follow_relay_state: bool,
    pub remember_request_id: bool,
    pub require_response_signature: bool,
    pub require_assertion_signature: bool,
    /// A tenant that publishes WantAssertionsSigned refuses an unsigned
    /// Assertion (false: it publishes it and accepts one anyway).
    pub enforce_want_assertions_signed: bool,
    pub respect_existing_only: bool,
    pub read_attributes: bool,
    /// Creates the account of an unknown user before refusing them.
    pub record_refused_users: bool,
    pub accept_two_signatures: bool,
    /// Verify with xmlsec (correct) or with the hand-rolled check.
    pub hand_rolled_signature_check: bool,
    /// A decrypted Assertion still needs a signature (its own, or the
    /// Response's over the EncryptedAssertion); false under
    /// `accept-unsigned-encrypted-assertion`.
    pub require_signature_when_encrypted: bool,
    /// rsa-1_5 key transport is refused before any decryption; false under
    /// `accept-rsa-1_5`.
    pub refuse_rsa_1_5: bool,
    /// The EncryptedKey may be a sibling of EncryptedData (Okta's form);
    /// false under `encrypted-key-inside-only`.
    pub find_sibling_encrypted_key: bool,
    /// A LogoutRequest from the IdP counts only by its own signature; true
    /// under `slo-signature-anywhere`, which takes any signature in it.
    pub logout_signature_anywhere: bool,
    /// The SP signs its LogoutRequests; false under `unsigned-logout-request`.
    pub sign_logout_requests: bool,
    /// The SP signs its AuthnRequests when the tenant has a signing key
    /// pair; false under `unsigned-authn-requests`, which still publishes
    /// `AuthnRequestsSigned="true"`.
    pub sign_authn_requests: bool,
    pub scim_filter_ignores_case: bool,
    pub scim_items_per_page_is_returned: bool,
    pub scim_put_replaces: bool,
    pub scim_pathless_patch: bool,
    pub scim_filtered_remove: bool,
    pub scim_rename_keeps_members: bool,
    pub scim_deactivate_deletes: bool,
    pub scim_deactivate_ends_sessions: bool,
    pub allow_last_admin_removal: bool,
    pub scim_duplicate_is_conflict: bool,
    pub scim_empty_filter_is_list: bool,
    pub scim_stable_order: bool,
    pub jit_respects_deactivation: bool,
    /// A deactivated account is refused at sign-in whatever its pushed
    /// groups (false: membership of a pushed group lets it in).
    pub deactivation_overrides_groups: bool,
    pub scim_errors_use_schema: bool,
    /// SCIM writes refuse User attributes and extension URNs that /Schemas
    /// does not declare (false: they are stored and returned).
    pub scim_refuse_undeclared: bool,
    /// SCIM writes refuse a user whose email is outside the tenant's
    /// allowed domains, as sign-in does.
    pub scim_checks_email_domain: bool,
    pub scim_conflict_has_type: bool,
    pub scim_accepts_plain_json: bool,
    pub scim_honours_if_match: bool,
    pub scim_never_returns_password: bool,
    pub scim_total_results_is_whole: bool,
    pub scim_lists_full_users: bool,
    pub scim_user_lookup_finds: bool,
    pub scim_put_updates_name: bool,
    pub scim_accepts_bare_scim_json: bool,
    pub scim_group_lookup_finds: bool,
    pub scim_applies_member_add: bool,
    pub scim_replace_members_replaces: bool,
    pub scim_member_add_keeps_members: bool,
    pub scim_membership_is_not_access: bool,
    pub oidc_accept_alg_none: bool,
    pub oidc_hmac_with_public_key: bool,
    pub oidc_hmac_with_client_secret: bool,
    pub oidc_trust_header_jwk: bool,
    pub oidc_trust_header_x5c: bool,
    /// Under `trust-x5u`: the certificate at the header's `x5u` is trusted.
    pub oidc_trust_x5u: bool,
    pub oidc_trust_jku: bool,
    pub oidc_check_nonce: bool,
    pub oidc_check_state: bool,
    pub oidc_state_bound_to_browser: bool,
    pub oidc_check_audience: bool,
    pub oidc_check_issuer: bool,
    pub oidc_check_expiry: bool,
    pub oidc_check_issued_at: bool,
    pub oidc_check_at_hash: bool,
    /// The ID token's signature is verified (false: a token whose signature
    /// does not verify is accepted as long as its algorithm is allowed).
    pub oidc_verify_signature: bool,
    /// A JWS with a `crit` header is refused (this client implements no
    /// extension), or the header is ignored.
    pub oidc_refuse_crit: bool,
    /// The authorization response's `iss` (RFC 9207) is compared with the
    /// issuer, or ignored.
    pub oidc_check_authorization_response_iss: bool,
    pub oidc_check_userinfo_subject: bool,
    pub oidc_identity_is_subject: bool,
    pub oidc_discovery_issuer_must_match: bool,
    pub oidc_refetch_jwks_on_unknown_kid: bool,
    pub oidc_rate_limit_jwks_refetch: bool,
    pub oidc_strict_claim_types: bool,
    pub oidc_local_return_only: bool,
    /// A started OIDC login is taken when its callback arrives, and its
    /// cookie cleared, so the callback cannot be used twice.
    pub oidc_single_use_login: bool,
    /// The authorization request carries a PKCE S256 challenge.
    pub oidc_send_pkce: bool,
    /// The ID token is verified with the JWKS key its kid names (false: the
    /// set's first key, whatever the kid).
    pub oidc_select_key_by_kid: bool,
    /// The PKCE challenge is sent with method S256 (false: `plain`).
    pub oidc_pkce_method_s256: bool,
    /// The name and groups of the ID token and userinfo reach the session.
    pub oidc_keep_profile_claims: bool,
    /// An ID token without `sub` is refused (false: the email stands in).
    pub oidc_require_subject: bool,
    /// The kid is only a lookup key in the provider's JWKS (false: it is
    /// read as the path of a key file).
    pub oidc_kid_is_opaque: bool,
    /// An ECDSA signature's r and s must lie in [1, n-1] (false: the
    /// all-zero signature verifies, CVE-2022-21449).
    pub oidc_ecdsa_checks_range: bool,
    /// A refreshed ID token must name the provider's issuer and the
    /// original iss, sub, aud and auth_time (false: its claims replace the
    /// session's identity unchecked).
    pub oidc_refresh_keeps_identity: bool,
}

/// Which Assertion the ACS reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssertionReader {
    /// Correct: the only Assertion, covered by a signature whose Reference is
    /// the element that carries it.
    SignedElement,
    /// Flawed: any valid signature, then the first Assertion in the document.
    FirstInDocument,
    /// Flawed: any valid signature, then the last Assertion in the document.
    LastInDocument,
    /// Flawed: any valid signature, then the Response's first child Assertion.
    FirstChildOfResponse,
    /// Flawed: the shape a schema-validating SP checks (one Assertion child
    /// of the Response, any other only in Advice or StatusDetail, unique
    /// IDs), then any valid signature and the Response's Assertion child.
    RootChildOfValidShape,
}

impl Policy {
    /// Whether a signature is checked by the SP's own code instead of
    /// libxmlsec1: only under the flaws that reproduce a hand-written
    /// verifier's mistake.
    pub fn own_signature_check(&self) -> bool {
        self.hmac_keyed_by_certificate
            || self.digest_value_first_child
            || self.references_from_first_signed_info
            || self.digest_value_first_in_document
    }

    pub fn correct() -> Self {
        Policy {
            require_signature: true,
            trust_keyinfo: false,
            trust_key_value: false,
            hmac_keyed_by_certificate: false,
            digest_value_first_child: false,
            references_from_first_signed_info: false,
            any_reference_uri: false,
            any_transform: false,
            digest_value_first_in_document: false,
            force_allow_sha1: false,
            check_audience: true,
            check_recipient: true,
            require_bearer_confirmation: true,
            check_destination: true,
            check_time: true,
            check_confirmation_expiry: true,
            check_conditions_expiry: true,
            honour_session_not_on_or_after: true,
            check_issuer: true,
            check_status: true,
            replay_cache: true,
            force_allow_unsolicited: false,
            ignore_allow_unsolicited: false,
            empty_session_on_wrong_destination: false,
            check_in_response_to: true,
            refuse_unknown_in_response_to: true,
            assertion_reader: AssertionReader::SignedElement,
            name_id_whole_text: true,
            reject_doctype: true,
            limit_body_size: true,
            local_relay_state_only: true,
            normalise_email: true,
            fold_email_look_alikes: false,
            email_plus_is_mailbox: true,
            scim_update_moves_email: true,
            scim_email_change_unlinks_identity: true,
            scim_lookup_finds_sign_in_accounts: true,
            scim_trims_email: true,
            name_id_is_identity: true,
            lock_after_failed_sso: false,
            allow_last_admin_group_removal: false,
            allow_owner_deactivation: false,
            break_glass_needs_idp: false,
            sso_enforcement_needs_admin_sign_in: true,
            licence_at_account_creation: true,
            check_username_format: true,
            require_display_name_when_asked: true,
            scim_enforces_required_attributes: true,
            scim_email_is_unique: true,
            sign_in_updates_role: true,
            unknown_user_gets_refusal: true,
            scim_waits_for_verified_sso: true,
            scim_keeps_core_attributes: true,
            idp_metadata_refresh_takes_certificates: true,
            oidc_links_only_verified_email: true,
            sign_in_keeps_pushed_membership: true,
            scim_push_links_existing_teams_only: true,
            session_groups_are_the_sign_ins: true,
            jit_checks_domain: true,
            signature_failure_is_fatal: true,
            honour_skew_tolerance: true,
            follow_relay_state: true,
            remember_request_id: true,
            require_response_signature: false,
            require_assertion_signature: false,
            enforce_want_assertions_signed: true,
            respect_existing_only: true,
            read_attributes: true,
            record_refused_users: false,
            accept_two_signatures: true,
            hand_rolled_signature_check: false,
            require_signature_when_encrypted: true,
            refuse_rsa_1_5: true,
            find_sibling_encrypted_key: true,
            logout_signature_anywhere: false,
            sign_logout_requests: true,
            sign_authn_requests: true,
            scim_filter_ignores_case: true,
            scim_items_per_page_is_returned: true,
            scim_put_replaces: true,
            scim_pathless_patch: true,
            scim_filtered_remove: true,
            scim_rename_keeps_members: true,
            scim_deactivate_deletes: false,
            scim_deactivate_ends_sessions: true,
            allow_last_admin_removal: false,
            scim_duplicate_is_conflict: true,
            scim_empty_filter_is_list: true,
            scim_stable_order: true,
            jit_respects_deactivation: true,
            deactivation_overrides_groups: true,
            scim_errors_use_schema: true,
            scim_refuse_undeclared: true,
            scim_checks_email_domain: true,
            scim_conflict_has_type: true,
            scim_accepts_plain_json: true,
            scim_honours_if_match: true,
            scim_never_returns_password: true,
            scim_total_results_is_whole: true,
            scim_lists_full_users: true,
            scim_user_lookup_finds: true,
            scim_put_updates_name: true,
            scim_accepts_bare_scim_json: true,
            scim_group_lookup_finds: true,
            scim_applies_member_add: true,
            scim_replace_members_replaces: true,
            scim_member_add_keeps_members: true,
            scim_membership_is_not_access: true,
            oidc_accept_alg_none: false,
            oidc_hmac_with_public_key: false,
            oidc_hmac_with_client_secret: false,
            oidc_trust_header_jwk: false,
            oidc_trust_header_x5c: false,
            oidc_trust_x5u: false,
            oidc_trust_jku: false,
            oidc_check_nonce: true,
            oidc_check_state: true,
            oidc_state_bound_to_browser: true,
            oidc_check_audience: true,
            oidc_check_issuer: true,
            oidc_check_expiry: true,
            oidc_check_issued_at: true,
            oidc_check_at_hash: true,
            oidc_verify_signature: true,
            oidc_refuse_crit: true,
            oidc_check_authorization_response_iss: true,
            oidc_check_userinfo_subject: true,
            oidc_identity_is_subject: true,
            oidc_discovery_issuer_must_match: true,
            oidc_refetch_jwks_on_unknown_kid: true,
            oidc_rate_limit_jwks_refetch: true,
            oidc_strict_claim_types: true,
            oidc_local_return_only: true,
            oidc_single_use_login: true,
            oidc_send_pkce: true,
            oidc_select_key_by_kid: true,
            oidc_pkce_method_s256: true,
            oidc_keep_profile_claims: true,
            oidc_require_subject: true,
            oidc_kid_is_opaque: true,
            oidc_ecdsa_checks_range: true,
            oidc_refresh_keeps_identity: true,
        }
    }

    pub fn with_flaws(flaws: &BTreeSet<Flaw>) -> Self {
        let mut policy = Policy::correct();
        for flaw in flaws {
            match flaw {
                Flaw::AcceptUnsigned => policy.require_signature = false,
                Flaw::TrustKeyinfoCert => policy.trust_keyinfo = true,
                Flaw::TrustKeyValue => policy.trust_key_value = true,
                Flaw::HmacWithCertificate => policy.hmac_keyed_by_certificate = true,
                Flaw::DigestValueFirstChild => policy.digest_value_first_child = true,
                Flaw::FirstSignedInfo => policy.references_from_first_signed_info = true,
                Flaw::AnyReferenceUri => policy.any_reference_uri = true,
                Flaw::AnyTransform => policy.any_transform = true,
                Flaw::FirstDigestValueInDocument => policy.digest_value_first_in_document = true,
                Flaw::AcceptSha1 => policy.force_allow_sha1 = true,
                Flaw::IgnoreAudience => policy.check_audience = false,
                Flaw::IgnoreRecipient => policy.check_recipient = false,
                Flaw::AnySubjectConfirmation => policy.require_bearer_confirmation = false,
                Flaw::IgnoreDestination => policy.check_destination = false,
                Flaw::IgnoreTime => policy.check_time = false,
                Flaw::IgnoreConfirmationExpiry => policy.check_confirmation_expiry = false,
                Flaw::IgnoreConditionsExpiry => policy.check_conditions_expiry = false,
                Flaw::IgnoreSessionNotOnOrAfter => policy.honour_session_not_on_or_after = false,
                Flaw::IgnoreIssuer => policy.check_issuer = false,
                Flaw::IgnoreStatus => policy.check_status = false,
                Flaw::NoReplayCache => policy.replay_cache = false,
                Flaw::AcceptUnsolicited => policy.force_allow_unsolicited = true,
                Flaw::RefuseUnsolicited => policy.ignore_allow_unsolicited = true,
                Flaw::EmptySessionOnWrongDestination => policy.empty_session_on_wrong_destination = true,
                Flaw::IgnoreInResponseTo => policy.check_in_response_to = false,
                Flaw::InResponseToOwnRequestsOnly => policy.refuse_unknown_in_response_to = false,
                Flaw::ReadFirstAssertion => policy.assertion_reader = AssertionReader::FirstInDocument,
                Flaw::ReadLastAssertion => policy.assertion_reader = AssertionReader::LastInDocument,
                Flaw::ReadRootAssertion => policy.assertion_reader = AssertionReader::FirstChildOfResponse,
                Flaw::SignedAssertionAnywhere => policy.assertion_reader = AssertionReader::RootChildOfValidShape,
                Flaw::ExistingOnlyCreatesAccounts => policy.respect_existing_only = false,
                Flaw::DropAttributes => policy.read_attributes = false,
                Flaw::RefusedUserKeepsAccount => policy.record_refused_users = true,
                Flaw::RejectTwoSignatures => policy.accept_two_signatures = false,
                Flaw::FilterCaseSensitive => policy.scim_filter_ignores_case = false,
                Flaw::ItemsPerPageIsCount => policy.scim_items_per_page_is_returned = false,
                Flaw::PutPartialMerge => policy.scim_put_replaces = false,
                Flaw::PatchPathlessIgnored => policy.scim_pathless_patch = false,
                Flaw::MemberRemoveIgnored => policy.scim_filtered_remove = false,
                Flaw::RenameReplaceWipesMembers => policy.scim_rename_keeps_members = false,
                Flaw::DeactivateDeletes => policy.scim_deactivate_deletes = true,
                Flaw::DeactivateKeepsSessions => policy.scim_deactivate_ends_sessions = false,
                Flaw::AllowLastAdminDeactivation => policy.allow_last_admin_removal = true,
                Flaw::DupReturns200 => policy.scim_duplicate_is_conflict = false,
                Flaw::NoMatchReturns404 => policy.scim_empty_filter_is_list = false,
                Flaw::UnstablePagination => policy.scim_stable_order = false,
                Flaw::JitRevivesDeactivated => policy.jit_respects_deactivation = false,
                Flaw::GroupsOverrideDeactivation => policy.deactivation_overrides_groups = false,
                Flaw::ErrorNotScimSchema => policy.scim_errors_use_schema = false,
                Flaw::KeepUndeclaredAttributes => policy.scim_refuse_undeclared = false,
                Flaw::ScimIgnoresEmailDomains => policy.scim_checks_email_domain = false,
                Flaw::ConflictWithoutScimType => policy.scim_conflict_has_type = false,
                Flaw::RefusePlainJson => policy.scim_accepts_plain_json = false,
                Flaw::IgnoreIfMatch => policy.scim_honours_if_match = false,
                Flaw::EchoPassword => policy.scim_never_returns_password = false,
                Flaw::TotalResultsIsPageSize => policy.scim_total_results_is_whole = false,
                Flaw::ListOmitsAttributes => policy.scim_lists_full_users = false,
                Flaw::UserLookupFindsNobody => policy.scim_user_lookup_finds = false,
                Flaw::PutIgnoresName => policy.scim_put_updates_name = false,
                Flaw::RefuseBareScimJson => policy.scim_accepts_bare_scim_json = false,
                Flaw::GroupLookupFindsNobody => policy.scim_group_lookup_finds = false,
                Flaw::MemberAddIgnored => policy.scim_applies_member_add = false,
                Flaw::ReplaceMembersAdds => policy.scim_replace_members_replaces = false,
                Flaw::PatchAddReplacesMembers => policy.scim_member_add_keeps_members = false,
                Flaw::GroupExitDeactivates => policy.scim_membership_is_not_access = false,
                Flaw::AcceptAlgNone => policy.oidc_accept_alg_none = true,
                Flaw::Hs256PublicKey => policy.oidc_hmac_with_public_key = true,
                Flaw::Hs256ClientSecret => policy.oidc_hmac_with_client_secret = true,
                Flaw::TrustHeaderJwk => policy.oidc_trust_header_jwk = true,
                Flaw::TrustHeaderX5c => policy.oidc_trust_header_x5c = true,
                Flaw::TrustX5u => policy.oidc_trust_x5u = true,
                Flaw::TrustJku => policy.oidc_trust_jku = true,
                Flaw::NoNonceCheck => policy.oidc_check_nonce = false,
                Flaw::NoStateCheck => policy.oidc_check_state = false,
                Flaw::StateNotBoundToBrowser => policy.oidc_state_bound_to_browser = false,
                Flaw::IgnoreAud => policy.oidc_check_audience = false,
                Flaw::IgnoreIss => policy.oidc_check_issuer = false,
                Flaw::IgnoreExp => policy.oidc_check_expiry = false,
                Flaw::IgnoreIatNbf => policy.oidc_check_issued_at = false,
                Flaw::SkipAtHash => policy.oidc_check_at_hash = false,
                Flaw::SkipIdTokenSignature => policy.oidc_verify_signature = false,
                Flaw::IgnoreCrit => policy.oidc_refuse_crit = false,
                Flaw::IgnoreAuthorizationResponseIss => policy.oidc_check_authorization_response_iss = false,
                Flaw::UserinfoSubUnchecked => policy.oidc_check_userinfo_subject = false,
                Flaw::EmailAsIdentity => policy.oidc_identity_is_subject = false,
                Flaw::TrustDiscoveryIssuer => policy.oidc_discovery_issuer_must_match = false,
                Flaw::NoJwksRefetch => policy.oidc_refetch_jwks_on_unknown_kid = false,
                Flaw::JwksRefetchUnbounded => policy.oidc_rate_limit_jwks_refetch = false,
                Flaw::AcceptsClaimTypeConfusion => policy.oidc_strict_claim_types = false,
                Flaw::OpenRedirectAfterLogin => policy.oidc_local_return_only = false,
                Flaw::StateReusable => policy.oidc_single_use_login = false,
                Flaw::NoPkce => policy.oidc_send_pkce = false,
                Flaw::FirstJwksKey => policy.oidc_select_key_by_kid = false,
                Flaw::PkcePlain => policy.oidc_pkce_method_s256 = false,
                Flaw::DropOidcClaims => policy.oidc_keep_profile_claims = false,
                Flaw::MissingSubUsesEmail => policy.oidc_require_subject = false,
                Flaw::KidAsFilePath => policy.oidc_kid_is_opaque = false,
                Flaw::PsychicSignature => policy.oidc_ecdsa_checks_range = false,
                Flaw::RefreshTrustsNewClaims => policy.oidc_refresh_keeps_identity = false,
                Flaw::AcceptUnsignedEncryptedAssertion => policy.require_signature_when_encrypted = false,
                Flaw::AcceptRsa15 => policy.refuse_rsa_1_5 = false,
                Flaw::EncryptedKeyInsideOnly => policy.find_sibling_encrypted_key = false,
                Flaw::SloSignatureAnywhere => policy.logout_signature_anywhere = true,
                Flaw::UnsignedLogoutRequest => policy.sign_logout_requests = false,
                Flaw::UnsignedAuthnRequests => policy.sign_authn_requests = false,
                Flaw::HandRolledSignatureCheck => {
                    policy.hand_rolled_signature_check = true;
                    policy.assertion_reader = AssertionReader::FirstInDocument;
                }
                Flaw::NameidFirstTextNode => policy.name_id_whole_text = false,
                Flaw::AllowDoctype => policy.reject_doctype = false,
                Flaw::AnyBodySize => policy.limit_body_size = false,
                Flaw::OpenRelayState => policy.local_relay_state_only = false,
                Flaw::CaseSensitiveEmail => policy.normalise_email = false,
                Flaw::MatchEmailTransliterated => policy.fold_email_look_alikes = true,
                Flaw::MatchEmailIgnoringPlus => policy.email_plus_is_mailbox = false,
                Flaw::ScimUpdateKeepsEmail => policy.scim_update_moves_email = false,
                Flaw::EmailChangeKeepsIdentity => policy.scim_email_change_unlinks_identity = false,
                Flaw::ScimLookupSkipsJitAccounts => policy.scim_lookup_finds_sign_in_accounts = false,
                Flaw::ScimEmailUntrimmed => policy.scim_trims_email = false,
                Flaw::EmailAttributeAsIdentity => policy.name_id_is_identity = false,
                Flaw::LockAfterFailedSso => policy.lock_after_failed_sso = true,
                Flaw::AllowLastAdminGroupRemoval => policy.allow_last_admin_group_removal = true,
                Flaw::AllowOwnerDeactivation => policy.allow_owner_deactivation = true,
                Flaw::BreakGlassNeedsIdp => policy.break_glass_needs_idp = true,
                Flaw::SsoEnforcementWithoutAdminSignIn => policy.sso_enforcement_needs_admin_sign_in = false,
                Flaw::JitSkipsLicence => policy.licence_at_account_creation = false,
                Flaw::UsernameFormatUnchecked => policy.check_username_format = false,
                Flaw::DisplayNameOptional => policy.require_display_name_when_asked = false,
                Flaw::RequiredAttributesUnchecked => policy.scim_enforces_required_attributes = false,
                Flaw::EmailNotUnique => policy.scim_email_is_unique = false,
                Flaw::RoleOnlyAtCreation => policy.sign_in_updates_role = false,
                Flaw::UnknownUserServerError => policy.unknown_user_gets_refusal = false,
                Flaw::ScimBeforeSsoVerified => policy.scim_waits_for_verified_sso = false,
                Flaw::CoreAttributesDropped => policy.scim_keeps_core_attributes = false,
                Flaw::PinFirstIdpCertificate => policy.idp_metadata_refresh_takes_certificates = false,
                Flaw::LinkUnverifiedEmail => policy.oidc_links_only_verified_email = false,
                Flaw::SignInGroupsReplaceMembership => policy.sign_in_keeps_pushed_membership = false,
                Flaw::PushCreatesTeams => policy.scim_push_links_existing_teams_only = false,
                Flaw::SignInGroupsOnlyAdd => policy.session_groups_are_the_sign_ins = false,
                Flaw::JitIgnoresDomain => policy.jit_checks_domain = false,
                Flaw::IgnoreSignatureErrors => policy.signature_failure_is_fatal = false,
                Flaw::ZeroClockSkew => policy.honour_skew_tolerance = false,
                Flaw::IgnoreRelayState => policy.follow_relay_state = false,
                Flaw::ForgetRequestId => policy.remember_request_id = false,
                Flaw::RequireSignedResponse => policy.require_response_signature = true,
                Flaw::RequireSignedAssertion => policy.require_assertion_signature = true,
                Flaw::UnenforcedWantAssertionsSigned => policy.enforce_want_assertions_signed = false,
            }
        }
        policy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flaw_round_trips_and_changes_the_policy() {
        for flaw in Flaw::ALL {
            assert_eq!(flaw.name().parse::<Flaw>(), Ok(flaw));
            assert_ne!(Policy::with_flaws(&BTreeSet::from([flaw])), Policy::correct(), "{flaw}");
        }
    }
}
