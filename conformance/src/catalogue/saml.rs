//! The SAML checks and the actions the SAML driver (`runner/saml/`) knows.
//!
//! # The attack catalogue, row by row
//!
//! Sections A and B of the research notes' attack catalogue (attacks.md),
//! and what covers each row. A row a check covers is a mock fault, the
//! check and a reference-SP flaw the check catches (the flaw table in
//! `tests/conformance/flaws.rs`).
//!
//! | row | covered by | or left out because |
//! |---|---|---|
//! | S-01 to S-08 (XSW1-8) | `saml.xsw.1` to `saml.xsw.8` | |
//! | S-09 signature exclusion | `saml.sig.unsigned` | |
//! | S-10 verification error as success | `saml.sig.bad_signature` | |
//! | S-11 fake certificate, KeyValue | `saml.sig.untrusted_key`, `saml.sig.key_value` | |
//! | S-12 HMAC keyed with the certificate | `saml.sig.hmac_certificate` | |
//! | S-13 multiple assertions | `saml.assertion.multiple` | |
//! | S-14 unsigned assertion in a signed Response | `saml.sig.assertion_wanted` (refused where the SP declares `WantAssertionsSigned`, in its metadata or the target), `saml.sig.response_only` (accepted where it does not) | |
//! | S-15 unsigned Response edits | `saml.response.destination`, `saml.response.in_response_to`, `saml.status.responder`, when the app signs only the Assertion (the fault's Response is then unsigned; `with_only_the_assertion_signed_...` in the flaw tests) | |
//! | S-16 comment in NameID | `saml.nameid.comment` | |
//! | S-17 comment in DigestValue | `saml.sig.digest_comment` | |
//! | S-18 second SignedInfo | `saml.sig.second_signed_info` | |
//! | S-19 DigestValue elsewhere | `saml.sig.extra_digest_value` | |
//! | S-20 DOCTYPE/CDATA parser differential | `saml.xml.doctype` refuses the DTD it needs | the differential itself plays two parsers of one SP against each other (ruby-saml's REXML and Nokogiri); from outside, an SP that refuses the DTD and one that parses it once look the same. No fault of its own: the payload (`<!DOCTYPE x SYSTEM 'x"><!--'>`, then CDATA) reads the same to every SP that reads a message with one parser (the reference SP and mellon's lasso on libxml2, the Shibboleth SP on Xerces), so its only effect beyond `saml.xml.doctype` is on a two-parser SP, where `saml.xml.doctype` already fails it |
//! | S-21 namespace differential | `saml.xml.doctype` refuses its `ATTLIST` | as S-20, specific to ruby-saml's two parsers; the un-namespaced `Signature` copy in `StatusDetail` works only with the DTD's `<!ATTLIST Signature xmlns CDATA #FIXED ...>` giving it the dsig namespace in one parser, and without the DTD it is an unknown element that a namespace-aware SP ignores, so a fault without the DTD would test nothing |
//! | S-22 void canonicalization | | the input must make the SP's own canonicaliser return nothing, which depends on its library and version; no message works across SPs, and the mock signs with the one library it would be aimed at |
//! | S-23 libxml2 entity and ID quirk | `saml.xml.doctype` refuses the entity it needs | the ID trick works only through a DTD entity |
//! | S-24 Go round-trip instability | | mutations that change meaning only after Go's `encoding/xml` re-serialises them; no other parser reads them differently |
//! | S-25 goxmldsig reference substitution | | needs a signature with several References, which Okta never makes; an SP's one-Reference rule is exercised by `saml.sig.second_signed_info` |
//! | S-26 ambiguous Reference URI | `saml.sig.reference_whole_document` (`URI=""`), `saml.sig.reference_other_element` (the Assertion's signature naming the Response's ID) | `#xpointer(id(...))` is the same rule as `URI=""` (refused by the same `#`-and-ID test); the namespace-prefixed duplicate `saml:ID` needs a verifier that resolves IDs by local name, while libxmlsec1 resolves only the attributes registered as IDs (the un-namespaced `ID`), so the fault would forge nothing on a libxml2 SP, and on others the XSW checks' duplicate-ID rule (`saml.xsw.7`) covers it |
//! | S-27 transform allow-list | `saml.sig.transform_xpath` (an XPath filter leaving the Subject out of the digest, the NameID then forged), `saml.sig.transform_with_comments` (warn: SAML Core 5.4.4 allows c14n with comments) | XSLT and base64: a run must never ask an SP to execute XSLT from a test, and any SP that refuses the XPath filter refuses them by the same allow-list |
//! | S-28 XXE, billion laughs | `saml.xml.doctype` refuses any DTD | no outbound-request oracle (a canary URL the SP must never fetch) yet |
//! | S-29 SHA-1 | `saml.sig.sha1` (warn) | |
//! | S-30 fail-open configuration | | a configuration of the SP (no IdP certificate), not a message an IdP can send |
//! | S-31 oversized message | `saml.xml.oversized` (warn): a genuinely signed response padded with a 4 MiB attribute value | the DEFLATE bomb half needs the HTTP-Redirect binding, which an SP's ACS does not take for Responses |
//! | S-32 schema-valid wrapping | `saml.xsw.advice`, `saml.xsw.status_detail` | |
//! | S-33 SLO wrapping | `saml.slo.wrapped_signature` | |
//! | P-01, P-02 audience | `saml.cond.audience`, `saml.cond.audience_missing` | |
//! | P-03, P-04 addressing | `saml.subject.recipient`, `saml.response.destination` | |
//! | P-05 expired confirmation | `saml.subject.expired` | |
//! | P-06 expired Conditions | `saml.cond.conditions_expired` (and `saml.cond.expired`, both at once) | |
//! | P-07 not yet valid | `saml.cond.not_yet_valid` | |
//! | P-08 skew boundaries | `saml.cond.skew_inside`, `saml.cond.skew_inside_past` (warn), `saml.cond.skew_outside_future`, `saml.cond.skew_outside_past` | |
//! | P-09 InResponseTo | `saml.response.in_response_to`, `saml.correlation.other_browser` | |
//! | P-10 unsolicited | `saml.sso.unsolicited_disabled` | |
//! | P-11 replay | `saml.replay` | the second SP node is the target's own deployment |
//! | P-12 status not Success | `saml.status.responder` | |
//! | P-13 wrong issuer | `saml.issuer.wrong` | |
//! | P-14 SubjectConfirmation | `saml.subject.holder_of_key`, `saml.subject.sender_vouches`, `saml.subject.without_data` | |
//! | P-15, P-16 encryption | `saml.enc.unsigned_encrypted`, `saml.enc.legacy_algorithms` (warn) | tampered ciphertexts (padding oracles) need many requests and a timing or error oracle |
//! | P-17 RelayState | `saml.relay_state.open` | |
//! | P-18 expired session | `saml.session.expired`: SessionNotOnOrAfter two minutes ahead, then the target's `advance_clock` hook moves the SP's clock ten minutes on (and back) | skipped with the reason where the target has no `advance_clock` hook: the suite never waits for time to pass |

use mock_idp::org::SigningMode;
use mock_idp::saml::faults::SamlFault;

use super::{Action, Capability, Category, Check, Severity, Weight};

/// What a SAML check does after the positive control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SamlAction {
    /// The control itself, and the default RelayState is honoured.
    IdpInitiated,
    /// Sign-in started at the SP's login URL.
    SpInitiated,
    /// A faulty response that a correct SP accepts.
    AcceptFault(SamlFault),
    /// A faulty or forged response that a correct SP refuses.
    RefuseFault(SamlFault),
    /// The same response posted again from another browser.
    Replay,
    /// IdP-initiated with a RelayState on another site.
    OpenRelayState,
    /// A user whose email is outside the org's email domain.
    OutsideDomain,
    /// The same user signs in again with the email in different case.
    EmailCase,
    /// SP-initiated in one browser, the response posted from another.
    OtherBrowser,
    /// IdP-initiated sign-in after the target turned it off.
    UnsolicitedWhenDisabled,
    /// A user the SP does not know, on a target without JIT.
    UnknownUser,
    /// The name (and groups) from the attribute statements reach the session.
    AttributesInSession,
    /// With the app encrypting assertions to the SP's certificate (for this
    /// check only): a correct sign-in, or a fault the SP must refuse.
    Encrypted(EncryptedCase),
    /// SP-initiated Single Logout from the target's logout URL: the session
    /// must end at the SP and at the mock.
    SingleLogout,
    /// attacks.md P-18: a sign-in whose AuthnStatement carries
    /// SessionNotOnOrAfter two minutes ahead, then the SP's clock moved past
    /// it through the target's `advance_clock` hook: the session must be over.
    SessionExpiry,
    /// attacks.md S-33: LogoutRequests for the canary's session that are
    /// unsigned themselves (one wrapping the canary's captured signed
    /// Assertion, one bare), sent to the SP's Single Logout URL.
    LogoutWrapping,
    /// Where the SP declares `AuthnRequestsSigned` (its metadata or the
    /// target): the AuthnRequest its login URL sends must carry a signature
    /// that verifies with the SP's declared signing certificate.
    SignedAuthnRequest,
}

/// What an encrypted-assertion check sends once the app encrypts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncryptedCase {
    /// A correct response: the signed Assertion, encrypted (AES-256-GCM,
    /// RSA-OAEP), in a signed Response, as Okta sends it.
    Signed,
    /// A fault that needs encryption, which the SP must refuse.
    Refuse(SamlFault),
}

const SIG_FIX: &str = "Verify the XML signature with the certificate from the IdP's metadata, pinned per tenant; never use a key or certificate from the message's KeyInfo. Require a valid signature on the Response or the Assertion, fail closed on any verification error, and allow only RSA-SHA256 or stronger.";
const REFERENCE_FIX: &str = "Require exactly one Reference, whose URI is '#' and the ID of the element that carries the Signature (the Response or the Assertion the SP reads), with that ID unique in the document; refuse URI=\"\", XPointer forms and any other ID, whatever the XML signature library says about the digest.";
const TRANSFORM_FIX: &str = "Allow only the enveloped-signature transform and exclusive (or inclusive) canonicalisation without comments, as SAML Core 5.4.4 profiles them; refuse XPath, XPath Filter 2.0, XSLT, base64 and #WithComments transforms before the library runs any of them (libxmlsec1: set the signature context's enabled reference transforms).";
const DIGEST_FIX: &str = "Verify with a maintained XML Signature library (libxmlsec1, Apache Santuario) rather than reading the signature by hand: require exactly one SignedInfo, check the SignatureValue over that SignedInfo and the digests of its own References, and read each DigestValue only as the child of its Reference, as its whole text content (comments refused or ignored).";
const XSW_FIX: &str = "Read identity and conditions only from the element the verified signature covers: require exactly one Assertion, unique IDs, a single Reference whose URI is the ID of the element that carries the Signature, and process that same element. Use one XML parser for verifying and for reading.";
const CONFIRMATION_FIX: &str = "For Web Browser SSO, require a SubjectConfirmation whose Method is bearer and whose SubjectConfirmationData has this ACS URL as Recipient and a NotOnOrAfter still ahead; refuse holder-of-key, sender-vouches and data-less confirmations.";
const TIME_FIX: &str = "Check NotBefore and NotOnOrAfter of Conditions and of SubjectConfirmationData against the current time, with a small skew tolerance (60 to 180 seconds).";

macro_rules! fault_check {
    ($id:literal, $title:literal, $category:ident, $severity:ident, $fault:expr, $fix:expr) => {
        fault_check!($id, $title, $category, $severity, $fault, $fix, Fail)
    };
    ($id:literal, $title:literal, $category:ident, $severity:ident, $fault:expr, $fix:expr, $weight:ident) => {
        Check {
            id: $id,
            title: $title,
            category: Category::$category,
            severity: Severity::$severity,
            reference: $fault.exercises(),
            needs: &[],
            action: Action::Saml(SamlAction::RefuseFault($fault)),
            fix: $fix,
            exclusive: false,
            weight: Weight::$weight,
        }
    };
}

/// Every SAML check, in report order.
pub fn checks() -> Vec<Check> {
    let mut checks = vec![
        Check {
            id: "saml.sso.idp_initiated",
            title: "IdP-initiated sign-in works and honours the default RelayState",
            category: Category::SignIn,
            severity: Severity::High,
            reference: "SAML Profiles 4.1.5 (unsolicited responses)",
            needs: &[],
            action: Action::Saml(SamlAction::IdpInitiated),
            fix: "Accept a correctly signed unsolicited response when IdP-initiated sign-in is enabled, and send the browser to the RelayState (a local path) afterwards.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "saml.sso.sp_initiated",
            title: "SP-initiated sign-in works",
            category: Category::SignIn,
            severity: Severity::High,
            reference: "SAML Profiles 4.1.3",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Saml(SamlAction::SpInitiated),
            fix: "Send an AuthnRequest by HTTP-Redirect to the IdP's SSO URL, remember its ID for this browser, and accept the response whose InResponseTo matches.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "saml.authn_request.signed",
            title: "An SP that declares AuthnRequestsSigned signs its AuthnRequests with its declared certificate",
            category: Category::Signature,
            severity: Severity::Medium,
            reference: "SAML Metadata 2.4.4 (AuthnRequestsSigned), Bindings 3.4.4.1 and 3.5.4; Okta's \"Signed Requests\" (an app that validates requests with the SP's Signature Certificate)",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Saml(SamlAction::SignedAuthnRequest),
            fix: "Sign every AuthnRequest with the key whose certificate the metadata publishes as KeyDescriptor use=\"signing\" (the certificate uploaded to Okta): by HTTP-Redirect, RSA-SHA256 over the encoded SAMLRequest, RelayState and SigAlg of the query; by HTTP-POST, an enveloped signature on the AuthnRequest whose one Reference is its own ID. Or stop declaring AuthnRequestsSigned=\"true\": an Okta app set up from the metadata then refuses every unsigned request.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "saml.cond.skew_inside",
            // 30 s: well inside the smallest tolerance the fix recommends
            // (60 s), so an SP with exactly that is not judged on the edge.
            title: "A response 30 s early (inside the skew tolerance) is accepted",
            category: Category::Conditions,
            severity: Severity::Low,
            reference: "SAML Core 2.5.1.2",
            needs: &[],
            action: Action::Saml(SamlAction::AcceptFault(SamlFault::Skew(30))),
            fix: "Allow a clock-skew tolerance of 60 to 180 seconds on NotBefore and NotOnOrAfter.",
            exclusive: false,
            weight: Weight::Warn,
        },
        Check {
            id: "saml.sig.both_signed",
            title: "Response and Assertion both signed (Okta's default) is accepted",
            category: Category::Signature,
            severity: Severity::High,
            reference: "SAML Profiles 4.1.3.5; Okta signs both by default",
            needs: &[],
            action: Action::Saml(SamlAction::AcceptFault(SamlFault::SignOnly(SigningMode::Both))),
            fix: "Verify each signature present; two signatures (Response and Assertion) are normal from Okta.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "saml.sig.response_only",
            title: "Only the Response signed is accepted",
            category: Category::Signature,
            severity: Severity::Medium,
            reference: "SAML Profiles 4.1.3.5; Okta's response signing option",
            needs: &[Capability::ResponseSignatureSuffices],
            action: Action::Saml(SamlAction::AcceptFault(SamlFault::SignOnly(SigningMode::ResponseOnly))),
            fix: "Accept a signed Response that covers the Assertion, unless the SP's metadata says WantAssertionsSigned and the customer was told so.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "saml.sig.assertion_wanted",
            title: "Only the Response signed is refused where the SP declares WantAssertionsSigned",
            category: Category::Signature,
            severity: Severity::High,
            reference: "attacks.md S-14; SAML Metadata 2.4.4 (WantAssertionsSigned)",
            needs: &[Capability::AssertionSignatureWanted],
            action: Action::Saml(SamlAction::RefuseFault(SamlFault::SignOnly(SigningMode::ResponseOnly))),
            fix: "Enforce what the metadata declares: with WantAssertionsSigned=\"true\", refuse an Assertion that carries no valid signature of its own, whatever signs the Response around it.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "saml.sig.assertion_only",
            title: "Only the Assertion signed is accepted",
            category: Category::Signature,
            severity: Severity::Medium,
            reference: "SAML Profiles 4.1.3.5; Okta's assertion signing option",
            needs: &[],
            action: Action::Saml(SamlAction::AcceptFault(SamlFault::SignOnly(SigningMode::AssertionOnly))),
            fix: "Accept a signed Assertion inside an unsigned Response, reading identity only from that Assertion.",
            exclusive: false,
            weight: Weight::Fail,
        },
        fault_check!(
            "saml.sig.unsigned",
            "Unsigned response refused",
            Signature,
            Critical,
            SamlFault::Unsigned,
            SIG_FIX
        ),
        fault_check!(
            "saml.sig.bad_signature",
            "Response changed after signing refused",
            Signature,
            Critical,
            SamlFault::BadSignature,
            SIG_FIX
        ),
        fault_check!(
            "saml.sig.untrusted_key",
            "Response signed by a key from KeyInfo refused",
            Signature,
            Critical,
            SamlFault::UntrustedKey,
            SIG_FIX
        ),
        fault_check!(
            "saml.sig.key_value",
            "Response for another user re-signed by the key in its own KeyInfo/KeyValue refused",
            Signature,
            Critical,
            SamlFault::UntrustedKeyValue,
            SIG_FIX
        ),
        fault_check!(
            "saml.sig.hmac_certificate",
            "Response for another user signed with HMAC keyed by the IdP's public certificate refused",
            Signature,
            Critical,
            SamlFault::HmacWithCertificate,
            SIG_FIX
        ),
        fault_check!(
            "saml.sig.digest_comment",
            "Edited response whose DigestValue starts with a comment holding the forged digest refused",
            Signature,
            Critical,
            SamlFault::CommentInDigestValue,
            DIGEST_FIX
        ),
        fault_check!(
            "saml.sig.second_signed_info",
            "Edited response with a second SignedInfo carrying the forged digest refused",
            Signature,
            Critical,
            SamlFault::SecondSignedInfo,
            DIGEST_FIX
        ),
        fault_check!(
            "saml.sig.extra_digest_value",
            "Edited response with the forged digest in a DigestValue elsewhere in the document refused",
            Signature,
            Critical,
            SamlFault::ExtraDigestValue,
            DIGEST_FIX
        ),
        // SAML Core 5.4.2 requires the Reference to name the signed
        // element's ID, but what these two sign (the whole document, or the
        // Response around the Assertion) still contains the Assertion the SP
        // reads, so accepting them forges nothing: weak, not broken. The
        // same missing rule with a Reference outside the element read is
        // wrapping, which the XSW checks fail.
        fault_check!(
            "saml.sig.reference_whole_document",
            "Assertion signature whose Reference is URI=\"\" (the whole document) refused",
            Signature,
            Medium,
            SamlFault::ReferenceWholeDocument,
            REFERENCE_FIX,
            Warn
        ),
        fault_check!(
            "saml.sig.reference_other_element",
            "Assertion signature whose Reference names another element's ID refused",
            Signature,
            Medium,
            SamlFault::ReferenceOtherElement,
            REFERENCE_FIX,
            Warn
        ),
        fault_check!(
            "saml.sig.transform_xpath",
            "Edited response signed through an XPath filter that leaves the Subject out refused",
            Signature,
            Critical,
            SamlFault::TransformXPath,
            TRANSFORM_FIX
        ),
        // SAML Core 5.4.4 lets exclusive c14n be used with or without
        // comments, so accepting the #WithComments form is weak, not a
        // forged identity: a comment then counts in what is signed.
        fault_check!(
            "saml.sig.transform_with_comments",
            "Assertion signed through #WithComments canonicalisation refused",
            Signature,
            Medium,
            SamlFault::TransformWithComments,
            TRANSFORM_FIX,
            Warn
        ),
        // SHA-1 is allowed by XML Signature and Okta offers it, but it is broken
        // for collisions: accepting it is weak, not a forged identity.
        fault_check!("saml.sig.sha1", "RSA-SHA1 signature refused", Signature, Medium, SamlFault::Sha1, SIG_FIX, Warn),
        fault_check!(
            "saml.cond.audience",
            "Response for another SP (wrong Audience) refused",
            Conditions,
            High,
            SamlFault::WrongAudience,
            "Require an AudienceRestriction whose Audience is this SP's entity ID."
        ),
        fault_check!(
            "saml.cond.audience_missing",
            "Response with no AudienceRestriction refused",
            Conditions,
            High,
            SamlFault::MissingAudience,
            "Require an AudienceRestriction whose Audience is this SP's entity ID."
        ),
        fault_check!(
            "saml.subject.recipient",
            "Wrong SubjectConfirmationData Recipient refused",
            Addressing,
            Medium,
            SamlFault::WrongRecipient,
            "Require the bearer SubjectConfirmationData Recipient to be this ACS URL."
        ),
        fault_check!(
            "saml.subject.holder_of_key",
            "SubjectConfirmation with Method holder-of-key refused",
            Addressing,
            Medium,
            SamlFault::HolderOfKey,
            CONFIRMATION_FIX
        ),
        fault_check!(
            "saml.subject.sender_vouches",
            "SubjectConfirmation with Method sender-vouches refused",
            Addressing,
            Medium,
            SamlFault::SenderVouches,
            CONFIRMATION_FIX
        ),
        fault_check!(
            "saml.subject.without_data",
            "Bearer SubjectConfirmation without SubjectConfirmationData refused",
            Addressing,
            Medium,
            SamlFault::NoConfirmationData,
            CONFIRMATION_FIX
        ),
        fault_check!(
            "saml.response.destination",
            "Wrong Response Destination refused",
            Addressing,
            Medium,
            SamlFault::WrongDestination,
            "Require the Response Destination to be this ACS URL."
        ),
        fault_check!(
            "saml.issuer.wrong",
            "Issuer of another IdP refused",
            Addressing,
            High,
            SamlFault::WrongIssuer,
            "Require the Issuer to be the entity ID from this tenant's IdP metadata."
        ),
        fault_check!("saml.cond.expired", "Expired response refused", Conditions, High, SamlFault::Expired, TIME_FIX),
        fault_check!(
            "saml.subject.expired",
            "Expired SubjectConfirmationData (Conditions still valid) refused",
            Conditions,
            High,
            SamlFault::ExpiredConfirmation,
            TIME_FIX
        ),
        fault_check!(
            "saml.cond.conditions_expired",
            "Expired Conditions (SubjectConfirmationData still valid) refused",
            Conditions,
            High,
            SamlFault::ExpiredConditions,
            TIME_FIX
        ),
        fault_check!(
            "saml.cond.not_yet_valid",
            "Response not valid yet refused",
            Conditions,
            Medium,
            SamlFault::NotYetValid,
            TIME_FIX
        ),
        fault_check!(
            "saml.cond.skew_outside_future",
            "Response valid only 10 minutes from now refused",
            Conditions,
            Medium,
            SamlFault::Skew(600),
            TIME_FIX
        ),
        fault_check!(
            "saml.cond.skew_outside_past",
            "Response that expired 10 minutes ago refused",
            Conditions,
            Medium,
            SamlFault::Skew(-600),
            TIME_FIX
        ),
        fault_check!(
            "saml.response.in_response_to",
            "Response to a request this browser never sent refused",
            Correlation,
            High,
            SamlFault::InResponseToMismatch,
            "Bind InResponseTo to the AuthnRequest ID stored in this browser's session; refuse any other."
        ),
        Check {
            id: "saml.correlation.other_browser",
            title: "A response to another browser's request is refused",
            category: Category::Correlation,
            severity: Severity::High,
            reference: "SAML Profiles 4.1.4.3; login CSRF",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Saml(SamlAction::OtherBrowser),
            fix: "Keep the AuthnRequest ID in the browser's session and accept a response only in the browser whose request it answers.",
            exclusive: false,
            weight: Weight::Fail,
        },
        fault_check!(
            "saml.status.responder",
            "Status Responder with an assertion refused",
            Protocol,
            Medium,
            SamlFault::StatusResponder,
            "Refuse any response whose top-level StatusCode is not Success, whatever it contains."
        ),
        fault_check!(
            "saml.nameid.comment",
            "Comment inside NameID cannot truncate the identity",
            Identity,
            Critical,
            SamlFault::CommentInNameId,
            "Read NameID as the whole text content of the element (comments ignored), never only its first text node."
        ),
        fault_check!(
            "saml.assertion.multiple",
            "Second, unsigned assertion refused",
            Wrapping,
            Critical,
            SamlFault::MultipleAssertions,
            XSW_FIX
        ),
        fault_check!(
            "saml.xml.doctype",
            "Response with a DOCTYPE refused",
            Xml,
            // A DTD whose entity the document never uses forges nothing; the
            // parser that accepts it is only open to entity expansion.
            Medium,
            SamlFault::DoctypeEntity,
            "Reject any document with a DTD before parsing further, and use one parser for verifying and reading.",
            Warn
        ),
        // A genuinely signed message forges nothing: an SP that parses 4 MB
        // and signs the user in has no identity problem, only a resource
        // one (memory and CPU for every such post), so accepting it is weak
        // rather than broken.
        fault_check!(
            "saml.xml.oversized",
            "Response padded to several MB refused before parsing",
            Xml,
            Medium,
            SamlFault::Oversized,
            "Limit the size of the ACS's POST body before decoding or parsing it (a few hundred KB is ample: Okta's responses are a few KB, tens with many groups), and answer a larger one with 413.",
            Warn
        ),
        Check {
            id: "saml.replay",
            title: "The same assertion posted twice is refused the second time",
            category: Category::Correlation,
            severity: Severity::High,
            reference: "SAML Profiles 4.1.4.5",
            needs: &[],
            action: Action::Saml(SamlAction::Replay),
            fix: "Keep each accepted assertion ID in a replay cache until its NotOnOrAfter (plus skew), shared by every SP node, and refuse a second use.",
            exclusive: false,
            weight: Weight::Fail,
        },
        // It moves the SP's clock, which every other check's times depend
        // on, so it runs alone.
        Check {
            id: "saml.session.expired",
            title: "Session ended at the assertion's SessionNotOnOrAfter",
            category: Category::Conditions,
            severity: Severity::Medium,
            reference: SamlFault::ShortSession.exercises(),
            needs: &[Capability::ClockHook],
            action: Action::Saml(SamlAction::SessionExpiry),
            fix: "Keep the AuthnStatement's SessionNotOnOrAfter with the session and end the session then, if it comes before the SP's own session lifetime; check it on every request, not only at sign-in.",
            exclusive: true,
            weight: Weight::Fail,
        },
        Check {
            id: "saml.relay_state.open",
            title: "RelayState on another site is not followed",
            category: Category::Redirect,
            severity: Severity::Medium,
            reference: "OWASP open redirect; SAML Bindings 3.4.3",
            needs: &[],
            action: Action::Saml(SamlAction::OpenRelayState),
            fix: "Redirect after sign-in only to relative paths on this SP (or an allow-list); never to a URL taken from RelayState as it is.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "saml.cond.skew_inside_past",
            title: "A response that expired 30 s ago (inside the skew tolerance) is accepted",
            category: Category::Conditions,
            severity: Severity::Low,
            reference: "SAML Core 2.5.1.2",
            needs: &[],
            action: Action::Saml(SamlAction::AcceptFault(SamlFault::Skew(-30))),
            fix: "Allow a clock-skew tolerance of 60 to 180 seconds on NotBefore and NotOnOrAfter.",
            exclusive: false,
            weight: Weight::Warn,
        },
        Check {
            id: "saml.sso.unsolicited_disabled",
            title: "An unsolicited response is refused when IdP-initiated sign-in is off",
            category: Category::Correlation,
            severity: Severity::High,
            reference: "SAML Profiles 4.1.5; Shibboleth blockUnsolicited",
            needs: &[Capability::IdpInitiatedSwitch],
            action: Action::Saml(SamlAction::UnsolicitedWhenDisabled),
            fix: "When a tenant turns IdP-initiated sign-in off, refuse every response without an InResponseTo that matches this browser's request.",
            exclusive: true,
            weight: Weight::Fail,
        },
        Check {
            id: "saml.account.unknown_user",
            title: "A user the SP does not know gets a refusal and no account (no JIT)",
            category: Category::Accounts,
            severity: Severity::High,
            reference: "MoovingON guide (IdP-initiated needs an existing account)",
            needs: &[Capability::KeepsAccounts, Capability::NoJit],
            action: Action::Saml(SamlAction::UnknownUser),
            fix: "Without JIT provisioning, refuse a sign-in for an unknown user with a clear message, and create no account.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "saml.attr.session",
            title: "First name, last name and groups from the attribute statements reach the session",
            category: Category::Attributes,
            severity: Severity::Medium,
            reference: "SAML Core 2.7.3 (AttributeStatement); Okta attribute statements",
            needs: &[Capability::SessionAttributes],
            action: Action::Saml(SamlAction::AttributesInSession),
            fix: "Read firstName, lastName and the groups attribute from the signed Assertion's AttributeStatement, and use them for the account and the session.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "saml.account.email_case",
            title: "An email in different case signs in to the same account",
            category: Category::Accounts,
            severity: Severity::Medium,
            reference: "RFC 5321 2.4 (domains are case-insensitive); Okta logins are case-insensitive",
            needs: &[Capability::KeepsAccounts],
            action: Action::Saml(SamlAction::EmailCase),
            fix: "Match accounts on a normalised email (trimmed, lowercased), never the exact string, so a case variant reaches the same account.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "saml.account.outside_domain",
            title: "A user whose email is outside the tenant's domains gets no account",
            category: Category::Accounts,
            severity: Severity::High,
            reference: "account takeover by email (nOAuth class)",
            needs: &[Capability::KeepsAccounts, Capability::EmailDomains, Capability::Jit],
            action: Action::Saml(SamlAction::OutsideDomain),
            fix: "Check the email domain against the tenant's verified domains before matching or creating an account.",
            exclusive: false,
            weight: Weight::Fail,
        },
    ];
    checks.extend(encrypted_checks());
    checks.extend(single_logout_checks());
    for n in 1..=8u8 {
        checks.push(Check {
            id: XSW_IDS[usize::from(n) - 1],
            title: XSW_TITLES[usize::from(n) - 1],
            category: Category::Wrapping,
            severity: Severity::Critical,
            reference: SamlFault::Xsw(n).exercises(),
            needs: &[],
            action: Action::Saml(SamlAction::RefuseFault(SamlFault::Xsw(n))),
            fix: XSW_FIX,
            exclusive: false,
            weight: Weight::Fail,
        });
    }
    checks.extend(schema_valid_wrapping_checks());
    checks
}

/// attacks.md S-32: wrapping that stays valid against the SAML schema, for
/// SPs that validate the schema first and so refuse XSW1 to XSW8 before
/// their signature logic runs. Only the Assertion is signed; the Response's
/// one Assertion is an unsigned copy for the impersonated identity.
fn schema_valid_wrapping_checks() -> Vec<Check> {
    vec![
        fault_check!(
            "saml.xsw.advice",
            "Schema-valid wrapping (signed original inside the forged Assertion's Advice) refused",
            Wrapping,
            Critical,
            SamlFault::XswAdvice,
            XSW_FIX
        ),
        fault_check!(
            "saml.xsw.status_detail",
            "Schema-valid wrapping (signed original inside StatusDetail) refused",
            Wrapping,
            Critical,
            SamlFault::XswStatusDetail,
            XSW_FIX
        ),
    ]
}

/// The Single Logout checks, run only when the target gives the SP's Single
/// Logout endpoint (`saml.slo_url`). Okta sends SAML apps no LogoutRequests
/// of its own, so an SP is judged on what an attacker can send it.
fn single_logout_checks() -> Vec<Check> {
    vec![
        Check {
            id: "saml.slo.sp_initiated",
            title: "SP-initiated Single Logout ends the session at the SP and at the IdP",
            category: Category::SignIn,
            severity: Severity::Medium,
            reference: "SAML Profiles 4.4 (Single Logout), Bindings 3.4.4.1; Okta's \"Allow application to initiate Single Logout\" (signed LogoutRequests only)",
            needs: &[Capability::SpInitiatedLogout],
            action: Action::Saml(SamlAction::SingleLogout),
            fix: "End the local session, then send the IdP a LogoutRequest naming the session's NameID and SessionIndex, signed with the certificate uploaded to Okta as the app's Signature Certificate; take the IdP's LogoutResponse only when it is signed by the IdP and answers that request.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "saml.slo.wrapped_signature",
            title: "A LogoutRequest that is not signed itself (bare, or wrapping a signed Assertion) ends no session",
            category: Category::Wrapping,
            severity: Severity::High,
            reference: "attacks.md S-33; SAML Bindings 3.5.5.2, Core 5.4; samlify GHSA-63ch-w8pw-4mf2",
            needs: &[Capability::SingleLogoutEndpoint],
            action: Action::Saml(SamlAction::LogoutWrapping),
            fix: "Verify the signature of the LogoutRequest itself: exactly one Signature, a child of the LogoutRequest, whose Reference is the LogoutRequest's own ID, with the IdP's pinned key; a signature found elsewhere in the document (inside a carried Assertion) proves nothing about the request.",
            exclusive: false,
            weight: Weight::Fail,
        },
    ]
}

/// The checks of Okta's assertion encryption. Each turns encryption on for
/// the app (to the SP's certificate) for its own run, so they are exclusive.
/// They are skipped when the SP does not take encrypted assertions.
fn encrypted_checks() -> Vec<Check> {
    vec![
        Check {
            id: "saml.enc.signed",
            title: "An encrypted, signed assertion (Okta's assertion encryption) signs in",
            category: Category::SignIn,
            severity: Severity::High,
            reference: "SAML Core 2.3.4 (EncryptedAssertion), 6.2; Okta's Assertion Encryption (AES256-GCM, RSA-OAEP)",
            needs: &[],
            action: Action::Saml(SamlAction::Encrypted(EncryptedCase::Signed)),
            fix: "Decrypt an EncryptedAssertion with the key whose certificate the SP's metadata publishes for encryption (AES-GCM or AES-CBC data, RSA-OAEP session key), then verify and read it as any Assertion.",
            exclusive: true,
            weight: Weight::Fail,
        },
        Check {
            id: "saml.enc.unsigned_encrypted",
            title: "An encrypted but unsigned assertion for another user is refused",
            category: Category::Signature,
            severity: Severity::Critical,
            reference: SamlFault::EncryptedUnsigned.exercises(),
            needs: &[],
            action: Action::Saml(SamlAction::Encrypted(EncryptedCase::Refuse(SamlFault::EncryptedUnsigned))),
            fix: "After decrypting, still require a valid signature from the IdP's pinned key on the Assertion or on the Response that carries the EncryptedAssertion: anyone can encrypt to the SP's public certificate, so encryption proves nothing about who wrote the Assertion.",
            exclusive: true,
            weight: Weight::Fail,
        },
        Check {
            // A warn: the message is the genuine signed Assertion, so no one
            // is impersonated; what is shown is that the SP decrypts with
            // RSA PKCS#1 v1.5, which XML Encryption 1.1 still lists but
            // which lets an attacker decrypt (Bleichenbacher) what was
            // encrypted to the SP.
            id: "saml.enc.legacy_algorithms",
            title: "An assertion encrypted with rsa-1_5 key transport and aes128-cbc is refused",
            category: Category::Signature,
            severity: Severity::Medium,
            reference: SamlFault::LegacyEncryption.exercises(),
            needs: &[],
            action: Action::Saml(SamlAction::Encrypted(EncryptedCase::Refuse(SamlFault::LegacyEncryption))),
            fix: "Refuse RSA PKCS#1 v1.5 (rsa-1_5) key transport and accept only RSA-OAEP; prefer AES-GCM, verify a Response signature over the EncryptedAssertion before decrypting, and give one identical error for every decryption failure.",
            exclusive: true,
            weight: Weight::Warn,
        },
    ]
}

const XSW_IDS: [&str; 8] =
    ["saml.xsw.1", "saml.xsw.2", "saml.xsw.3", "saml.xsw.4", "saml.xsw.5", "saml.xsw.6", "saml.xsw.7", "saml.xsw.8"];
const XSW_TITLES: [&str; 8] = [
    "XSW1 (evil Response, original inside its Signature) refused",
    "XSW2 (evil Response, original before its Signature) refused",
    "XSW3 (evil Assertion before the signed one) refused",
    "XSW4 (evil Assertion wrapping the signed one) refused",
    "XSW5 (signed Assertion edited, original appended) refused",
    "XSW6 (signed Assertion edited, original inside its Signature) refused",
    "XSW7 (evil copy inside Extensions) refused",
    "XSW8 (original inside an Object in the Signature) refused",
];
