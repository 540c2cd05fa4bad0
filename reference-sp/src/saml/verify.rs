//! The ACS's validation of a SAML Response, in the order the SP must apply it.
//!
//! Trust is a typestate: an [`UnverifiedResponse`] becomes a
//! [`VerifiedResponse`] only through [`UnverifiedResponse::verify`], which
//! fails closed on any error. A `VerifiedResponse` holds plain values read
//! from the signed element, never the document.
//!
//! 1. Size limit, then one libxml2 parse; a DOCTYPE is rejected.
//!    1b. An `EncryptedAssertion` (only with the tenant's decryption key):
//!    the Response signature, if any, is verified over the ciphertext
//!    first; then the Assertion is decrypted ([`super::decrypt`]: allowed
//!    algorithms only, one error for every decryption failure) and put in
//!    its place. The decrypted Assertion must still be signed, by itself or
//!    by that Response signature: encryption to the SP's public certificate
//!    proves nothing about who wrote it (attacks.md P-15).
//! 2. Exactly one Assertion, and every ID is unique.
//! 3. Signatures verified with the tenant's pinned certificates, never a key
//!    from KeyInfo; algorithms and transforms from an allow-list.
//! 4. The Reference URI of each signature resolves to its parent element, so
//!    the signed element is the one that is read.
//! 5. Issuer, Status Success, Destination and Recipient equal this ACS, Audience
//!    equals this SP.
//! 6. NotBefore and NotOnOrAfter, with the skew tolerance.
//! 7. InResponseTo matches this browser's outstanding request; an unsolicited
//!    response only when IdP-initiated sign-in is allowed.
//!
//! The replay cache (8) and RelayState (9) need storage and config and are
//! applied by the caller. A [`Policy`] loosened by a flaw changes exactly one
//! of these decisions.

use std::collections::{BTreeMap, HashSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use libxml::tree::{Document, Node};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use xmlsec::{XmlSecDocumentExt, XmlSecKey, XmlSecKeyFormat, XmlSecSignatureContext};

use super::{SamlError, descendants, is};
use crate::flaws::{AssertionReader, Policy};

pub const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// The largest SAMLResponse form value accepted, before any decoding.
pub const MAX_ENCODED_LEN: usize = 512 * 1024;

const CANONICALIZATIONS: [&str; 3] = [
    "http://www.w3.org/2001/10/xml-exc-c14n#",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    "http://www.w3.org/2006/12/xml-c14n11",
];
const TRANSFORMS: [&str; 4] = [
    "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
    "http://www.w3.org/2001/10/xml-exc-c14n#",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    "http://www.w3.org/2006/12/xml-c14n11",
];
const STRONG_SIGNATURES: [&str; 5] = [
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
];
const STRONG_DIGESTS: [&str; 3] = [
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
];
const SHA1_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const SHA1_DIGEST: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// What the SP expects of a response for one tenant and one browser.
#[derive(Clone, Debug)]
pub struct Expectations<'a> {
    pub idp_entity_id: &'a str,
    /// Pinned signing certificates, base64 DER (more than one during rollover).
    pub certificates: &'a [String],
    pub sp_entity_id: &'a str,
    /// The ACS URLs this response may be addressed to.
    pub acs_urls: &'a [String],
    pub clock_skew: Duration,
    pub allow_sha1: bool,
    /// The AuthnRequest ID this browser is waiting for, if any.
    pub outstanding_request: Option<&'a str>,
    pub allow_unsolicited: bool,
    /// The tenant's key for encrypted assertions; without one an
    /// `EncryptedAssertion` is refused.
    pub decryption_key: Option<&'a super::decrypt::DecryptionKey>,
    /// Whether a plaintext Assertion is refused (the tenant requires
    /// encrypted assertions).
    pub require_encryption: bool,
    /// Whether the tenant wants signed Assertions (its metadata says
    /// `WantAssertionsSigned="true"`): a signed Response is then not enough.
    pub want_assertions_signed: bool,
    pub policy: &'a Policy,
}

/// A response as received, not yet trusted.
#[derive(Clone, Debug)]
pub struct UnverifiedResponse {
    xml: String,
}

/// Values read from a response whose signature, addressing, time and
/// correlation have all been checked.
///
/// The fields are private and there is no constructor: the only way to a
/// `VerifiedResponse` is [`UnverifiedResponse::verify`], and once made it
/// can only be read, so no code can change what was verified. Building one
/// by hand does not compile:
///
/// ```compile_fail
/// let forged = reference_sp::saml::verify::VerifiedResponse {
///     issuer: String::new(),
///     assertion_id: String::new(),
///     name_id: "admin@acme.test".into(),
///     session_index: None,
///     attributes: Default::default(),
///     in_response_to: None,
///     replay_until: time::OffsetDateTime::UNIX_EPOCH,
/// };
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedResponse {
    issuer: String,
    assertion_id: String,
    name_id: String,
    session_index: Option<String>,
    /// The AuthnStatement's `SessionNotOnOrAfter`: the IdP's end of the
    /// session the SP makes (attacks.md P-18).
    session_not_on_or_after: Option<OffsetDateTime>,
    attributes: BTreeMap<String, Vec<String>>,
    in_response_to: Option<String>,
    /// Until when the assertion could be replayed: the replay cache keeps its
    /// ID until then.
    replay_until: OffsetDateTime,
}

impl VerifiedResponse {
    /// The Issuer of the Assertion that was read.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The ID of the Assertion that was read, for the replay cache.
    pub fn assertion_id(&self) -> &str {
        &self.assertion_id
    }

    /// The Subject's NameID, trimmed.
    pub fn name_id(&self) -> &str {
        &self.name_id
    }

    /// The `SessionIndex` of the Assertion's AuthnStatement, if it has one.
    pub fn session_index(&self) -> Option<&str> {
        self.session_index.as_deref()
    }

    /// The AuthnStatement's `SessionNotOnOrAfter`, if it has one: no
    /// session made from this response may outlive it.
    pub fn session_not_on_or_after(&self) -> Option<OffsetDateTime> {
        self.session_not_on_or_after
    }

    /// Every attribute of the Assertion, by name.
    pub fn attributes(&self) -> &BTreeMap<String, Vec<String>> {
        &self.attributes
    }

    /// The values of one attribute; empty when the Assertion has none.
    pub fn attribute(&self, name: &str) -> &[String] {
        self.attributes.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// The first value of one attribute.
    pub fn first_attribute(&self, name: &str) -> Option<&str> {
        self.attribute(name).first().map(String::as_str)
    }

    /// The InResponseTo the response carried, if any.
    pub fn in_response_to(&self) -> Option<&str> {
        self.in_response_to.as_deref()
    }

    /// Until when the assertion could be replayed.
    pub fn replay_until(&self) -> OffsetDateTime {
        self.replay_until
    }
}

impl UnverifiedResponse {
    /// Decodes the SAMLResponse form value (base64 of the XML).
    pub fn from_form_value(value: &str) -> Result<Self, SamlError> {
        if value.len() > MAX_ENCODED_LEN {
            return Err(SamlError::TooLarge);
        }
        Self::from_form_value_of_any_size(value)
    }

    /// As [`UnverifiedResponse::from_form_value`] without the size limit,
    /// for the any-body-size flaw only (attacks.md S-31).
    pub fn from_form_value_of_any_size(value: &str) -> Result<Self, SamlError> {
        let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let bytes =
            BASE64.decode(compact.as_bytes()).map_err(|_| SamlError::Malformed("SAMLResponse is not base64"))?;
        let xml = String::from_utf8(bytes).map_err(|_| SamlError::Malformed("SAMLResponse is not UTF-8"))?;
        Ok(UnverifiedResponse { xml })
    }

    pub fn from_xml(xml: impl Into<String>) -> Self {
        UnverifiedResponse { xml: xml.into() }
    }

    /// The Issuer of the Response, read without trusting it, only to choose
    /// which tenant's expectations to verify against.
    pub fn claimed_issuer(&self) -> Option<String> {
        if self.xml.contains("<!DOCTYPE") {
            return None;
        }
        let document = super::parse_strictly(&self.xml).ok()?;
        let root = document.get_root_element()?;
        let issuer = children(&root, NS_ASSERTION, "Issuer").into_iter().next().or_else(|| {
            children(&root, NS_ASSERTION, "Assertion")
                .into_iter()
                .next()
                .and_then(|a| children(&a, NS_ASSERTION, "Issuer").into_iter().next())
        })?;
        Some(issuer.get_content().trim().to_owned())
    }

    /// The Audiences of the first (unencrypted) Assertion, read without
    /// trusting them, only to choose the tenant at the shared ACS
    /// (`/sso/acs/`), where the MoovingON guide's audience
    /// `/sso/acs/<identifier>` names the integration; verification then
    /// requires the tenant's entity id among them as always.
    pub fn claimed_audiences(&self) -> Vec<String> {
        if self.xml.contains("<!DOCTYPE") {
            return Vec::new();
        }
        let Ok(document) = super::parse_strictly(&self.xml) else { return Vec::new() };
        let Some(root) = document.get_root_element() else { return Vec::new() };
        let assertion = children(&root, NS_ASSERTION, "Assertion").into_iter().next();
        assertion
            .into_iter()
            .flat_map(|a| children(&a, NS_ASSERTION, "Conditions"))
            .flat_map(|c| children(&c, NS_ASSERTION, "AudienceRestriction"))
            .flat_map(|r| children(&r, NS_ASSERTION, "Audience"))
            .map(|audience| audience.get_content().trim().to_owned())
            .collect()
    }

    /// The first Assertion's Subject NameID, read without trusting it: only
    /// the `lock-after-failed-sso` flaw uses it, to count a refused
    /// response against the account it names.
    pub fn claimed_name_id(&self) -> Option<String> {
        if self.xml.contains("<!DOCTYPE") {
            return None;
        }
        let document = super::parse_strictly(&self.xml).ok()?;
        let root = document.get_root_element()?;
        let assertion = children(&root, NS_ASSERTION, "Assertion").into_iter().next()?;
        let subject = children(&assertion, NS_ASSERTION, "Subject").into_iter().next()?;
        let name_id = children(&subject, NS_ASSERTION, "NameID").into_iter().next()?;
        Some(name_id.get_content().trim().to_owned())
    }

    /// Applies steps 1 to 7. `now` is the current time.
    pub fn verify(self, expect: &Expectations<'_>, now: OffsetDateTime) -> Result<VerifiedResponse, SamlError> {
        let policy = expect.policy;
        let skew = if policy.honour_skew_tolerance { expect.clock_skew } else { Duration::ZERO };
        // 1. One parser, no DTD.
        if policy.reject_doctype && (self.xml.contains("<!DOCTYPE") || self.xml.contains("<!ENTITY")) {
            return Err(SamlError::Doctype);
        }
        let document = super::parse_strictly(&self.xml).map_err(|_| SamlError::Malformed("not well-formed XML"))?;
        let root = document.get_root_element().ok_or(SamlError::Malformed("no root element"))?;
        if !is(&root, NS_PROTOCOL, "Response") {
            return Err(SamlError::Malformed("the root element is not samlp:Response"));
        }
        let allow_sha1 = expect.allow_sha1 || policy.force_allow_sha1;
        let namespaces = [("samlp", NS_PROTOCOL), ("saml", NS_ASSERTION)];

        // 1b. Decryption. The Response signature covers the ciphertext, so it
        // is verified on the document as received, before anything is
        // decrypted, and the decrypted Assertion then replaces the
        // EncryptedAssertion in a document parsed again.
        let encrypted = descendants(&root, NS_ASSERTION, "EncryptedAssertion");
        let (document, root, signed_before_decryption) = match encrypted.as_slice() {
            [] if expect.require_encryption => return Err(SamlError::NotEncrypted),
            [] => (document, root, None),
            [encrypted_assertion] => {
                let key = expect
                    .decryption_key
                    .ok_or(SamlError::Unsupported("EncryptedAssertion (this tenant has no decryption key)"))?;
                let plain = descendants(&root, NS_ASSERTION, "Assertion");
                if !plain.is_empty() {
                    return Err(SamlError::AssertionCount(plain.len() + 1));
                }
                check_unique_ids(&root)?;
                let _ = document.specify_idattr("//samlp:Response", "ID", Some(&namespaces));
                let response_signed = verify_enveloped(&document, &root, expect, allow_sha1)?;
                let assertion = super::decrypt::decrypt_assertion(encrypted_assertion, key, policy)?;
                let prefix = encrypted_assertion.get_namespace().map(|ns| ns.get_prefix());
                let decrypted = super::decrypt::splice(&self.xml, prefix.as_deref(), &assertion)?;
                let document = super::parse_strictly(&decrypted)
                    .map_err(|_| SamlError::Malformed("not well-formed XML once decrypted"))?;
                let root = document.get_root_element().ok_or(SamlError::Malformed("no root element"))?;
                (document, root, Some(response_signed))
            }
            more => return Err(SamlError::AssertionCount(more.len())),
        };

        // 2. Exactly one assertion and unique IDs.
        let assertions = descendants(&root, NS_ASSERTION, "Assertion");
        let bound = policy.assertion_reader == AssertionReader::SignedElement;
        if bound {
            if assertions.len() != 1 {
                return Err(SamlError::AssertionCount(assertions.len()));
            }
            check_unique_ids(&root)?;
        }
        if policy.assertion_reader == AssertionReader::RootChildOfValidShape {
            check_schema_like_shape(&root, &assertions)?;
        }
        let first_assertion = assertions.first().cloned().ok_or(SamlError::AssertionCount(0))?;

        // 3 and 4. Signatures.
        for search in ["//samlp:Response", "//saml:Assertion"] {
            // No element of that kind is not an error; the checks below decide.
            let _ = document.specify_idattr(search, "ID", Some(&namespaces));
        }
        let assertion = if bound {
            // A Response signature over an EncryptedAssertion was verified
            // before decryption; the decrypted document no longer matches it.
            let response_signed = match signed_before_decryption {
                Some(signed) => signed,
                None => verify_enveloped(&document, &root, expect, allow_sha1)?,
            };
            let assertion_signed = verify_enveloped(&document, &first_assertion, expect, allow_sha1)?;
            // The flaw: an Assertion encrypted to this SP is taken as the
            // IdP's, although anyone can encrypt to a public certificate.
            let trusted_for_encryption = signed_before_decryption.is_some() && !policy.require_signature_when_encrypted;
            if !response_signed && !assertion_signed && policy.require_signature && !trusted_for_encryption {
                return Err(SamlError::Unsigned);
            }
            if policy.require_response_signature && !response_signed {
                return Err(SamlError::SignatureStructure("the Response is not signed"));
            }
            let wants_assertion_signature = expect.want_assertions_signed && policy.enforce_want_assertions_signed;
            if (policy.require_assertion_signature || wants_assertion_signature) && !assertion_signed {
                return Err(SamlError::SignatureStructure("the Assertion is not signed"));
            }
            if !policy.accept_two_signatures && response_signed && assertion_signed {
                return Err(SamlError::SignatureStructure("found more than one signature"));
            }
            first_assertion
        } else {
            // The flawed paths: any valid signature anywhere will do, and the
            // assertion the flaw names is read.
            let signatures = descendants(&root, NS_DSIG, "Signature");
            let mut any_valid = false;
            for (index, signature) in signatures.iter().enumerate() {
                if check_signed_info(signature, allow_sha1, None).is_err() {
                    continue;
                }
                let valid = if policy.hand_rolled_signature_check {
                    hand_rolled::verifies(&self.xml, index, signature, expect.certificates)?
                } else {
                    verify_signature(signature, expect)?
                };
                any_valid |= valid;
            }
            if !any_valid && policy.require_signature {
                return Err(if signatures.is_empty() { SamlError::Unsigned } else { SamlError::SignatureInvalid });
            }
            match policy.assertion_reader {
                AssertionReader::LastInDocument => assertions.last().cloned().unwrap_or(first_assertion),
                AssertionReader::FirstChildOfResponse | AssertionReader::RootChildOfValidShape => {
                    children(&root, NS_ASSERTION, "Assertion").into_iter().next().unwrap_or(first_assertion)
                }
                AssertionReader::SignedElement | AssertionReader::FirstInDocument => first_assertion,
            }
        };

        // 5. Issuer, status, addressing, audience.
        let assertion_issuer = children(&assertion, NS_ASSERTION, "Issuer")
            .into_iter()
            .next()
            .map(|n| n.get_content().trim().to_owned())
            .ok_or(SamlError::Missing("Assertion Issuer"))?;
        if policy.check_issuer {
            let response_issuer =
                children(&root, NS_ASSERTION, "Issuer").into_iter().next().map(|n| n.get_content().trim().to_owned());
            for issuer in std::iter::once(&assertion_issuer).chain(response_issuer.as_ref()) {
                if issuer != expect.idp_entity_id {
                    return Err(SamlError::IssuerMismatch(issuer.clone()));
                }
            }
        }
        if policy.check_status {
            let status = children(&root, NS_PROTOCOL, "Status")
                .into_iter()
                .next()
                .and_then(|s| children(&s, NS_PROTOCOL, "StatusCode").into_iter().next())
                .and_then(|c| c.get_attribute_no_ns("Value"));
            if status.as_deref() != Some(STATUS_SUCCESS) {
                return Err(SamlError::StatusNotSuccess(status.unwrap_or_default()));
            }
        }
        if policy.check_destination {
            let destination =
                root.get_attribute_no_ns("Destination").ok_or(SamlError::Missing("Response Destination"))?;
            if !expect.acs_urls.contains(&destination) {
                return Err(SamlError::DestinationMismatch(destination));
            }
        }
        let subject =
            children(&assertion, NS_ASSERTION, "Subject").into_iter().next().ok_or(SamlError::Missing("Subject"))?;
        let name_id_node =
            children(&subject, NS_ASSERTION, "NameID").into_iter().next().ok_or(SamlError::Missing("NameID"))?;
        let name_id = if policy.name_id_whole_text {
            name_id_node.get_content()
        } else {
            name_id_node.get_first_child().filter(|c| c.is_text_node()).map(|c| c.get_content()).unwrap_or_default()
        };
        let name_id = name_id.trim().to_owned();
        if name_id.is_empty() {
            return Err(SamlError::Missing("NameID value"));
        }
        let strict_confirmation = policy.require_bearer_confirmation;
        let confirmation = children(&subject, NS_ASSERTION, "SubjectConfirmation")
            .into_iter()
            .find(|c| !strict_confirmation || c.get_attribute_no_ns("Method").as_deref() == Some(BEARER))
            .ok_or(SamlError::Missing("bearer SubjectConfirmation"))?;
        // Only the flaw gets past here without data, and then leaves the
        // Recipient and NotOnOrAfter it would carry unchecked.
        let confirmation_data = children(&confirmation, NS_ASSERTION, "SubjectConfirmationData").into_iter().next();
        if confirmation_data.is_none() && strict_confirmation {
            return Err(SamlError::Missing("SubjectConfirmationData"));
        }
        if policy.check_recipient
            && let Some(confirmation_data) = &confirmation_data
        {
            let recipient =
                confirmation_data.get_attribute_no_ns("Recipient").ok_or(SamlError::Missing("Recipient"))?;
            if !expect.acs_urls.contains(&recipient) {
                return Err(SamlError::RecipientMismatch(recipient));
            }
        }
        let conditions = children(&assertion, NS_ASSERTION, "Conditions").into_iter().next();
        if policy.check_audience {
            let audiences: Vec<String> = conditions
                .iter()
                .flat_map(|c| children(c, NS_ASSERTION, "AudienceRestriction"))
                .flat_map(|r| children(&r, NS_ASSERTION, "Audience"))
                .map(|a| a.get_content().trim().to_owned())
                .collect();
            if !audiences.iter().any(|a| a == expect.sp_entity_id) {
                return Err(SamlError::AudienceMismatch(audiences.join(", ")));
            }
        }

        // 6. Time.
        let subject_expiry = match &confirmation_data {
            Some(data) => Some(
                time_attribute(data, "NotOnOrAfter")?
                    .ok_or(SamlError::Missing("SubjectConfirmationData NotOnOrAfter"))?,
            ),
            None => None,
        };
        let not_before = conditions.as_ref().map(|c| time_attribute(c, "NotBefore")).transpose()?.flatten();
        let conditions_expiry = conditions.as_ref().map(|c| time_attribute(c, "NotOnOrAfter")).transpose()?.flatten();
        if policy.check_time {
            if let Some(not_before) = not_before
                && now + skew < not_before
            {
                return Err(SamlError::NotYetValid);
            }
            let confirmation_expiry = subject_expiry.filter(|_| policy.check_confirmation_expiry);
            let window_expiry = conditions_expiry.filter(|_| policy.check_conditions_expiry);
            for expiry in confirmation_expiry.into_iter().chain(window_expiry) {
                if now - skew >= expiry {
                    return Err(SamlError::Expired);
                }
            }
        }

        // 7. Correlation with this browser's request.
        let in_response_to = root
            .get_attribute_no_ns("InResponseTo")
            .or_else(|| confirmation_data.as_ref().and_then(|data| data.get_attribute_no_ns("InResponseTo")));
        let unsolicited_allowed =
            (expect.allow_unsolicited && !policy.ignore_allow_unsolicited) || policy.force_allow_unsolicited;
        match (&in_response_to, expect.outstanding_request) {
            (Some(got), Some(expected)) if got == expected => {}
            // The flaw: a request this browser never sent counts as none.
            (Some(_), None) if !policy.refuse_unknown_in_response_to && !unsolicited_allowed => {
                return Err(SamlError::Unsolicited);
            }
            (Some(_), None) if !policy.refuse_unknown_in_response_to => {}
            (Some(_), _) if policy.check_in_response_to => return Err(SamlError::InResponseToMismatch),
            (None, _) if !unsolicited_allowed => return Err(SamlError::Unsolicited),
            _ => {}
        }

        let assertion_id = assertion.get_attribute_no_ns("ID").ok_or(SamlError::Missing("Assertion ID"))?;
        let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for statement in children(&assertion, NS_ASSERTION, "AttributeStatement") {
            for attribute in children(&statement, NS_ASSERTION, "Attribute") {
                let Some(name) = attribute.get_attribute_no_ns("Name") else { continue };
                let values = children(&attribute, NS_ASSERTION, "AttributeValue")
                    .into_iter()
                    .map(|v| v.get_content().trim().to_owned());
                attributes.entry(name).or_default().extend(values);
            }
        }
        // Without either time (the flaw's data-less confirmation and no
        // Conditions) the replay cache still keeps the ID for the skew.
        let latest = subject_expiry.into_iter().chain(conditions_expiry).max().unwrap_or(now);
        // The IdP's session the assertion came from, for Single Logout: a
        // LogoutRequest names it (SAML Core 2.7.2, 3.7.1).
        let session_index = children(&assertion, NS_ASSERTION, "AuthnStatement")
            .into_iter()
            .find_map(|statement| statement.get_attribute_no_ns("SessionIndex"))
            .filter(|index| !index.is_empty());
        // The earliest of the statements' ends, should there be several.
        let mut session_not_on_or_after: Option<OffsetDateTime> = None;
        for statement in children(&assertion, NS_ASSERTION, "AuthnStatement") {
            if let Some(end) = time_attribute(&statement, "SessionNotOnOrAfter")? {
                session_not_on_or_after = Some(session_not_on_or_after.map_or(end, |earlier| earlier.min(end)));
            }
        }
        Ok(VerifiedResponse {
            issuer: assertion_issuer,
            assertion_id,
            name_id,
            session_index,
            session_not_on_or_after,
            attributes,
            in_response_to,
            replay_until: latest + expect.clock_skew,
        })
    }
}

pub(super) fn children(node: &Node, namespace: &str, name: &str) -> Vec<Node> {
    node.get_child_elements().into_iter().filter(|c| is(c, namespace, name)).collect()
}

/// The `signed-assertion-anywhere` flaw's gate: what a schema-validating SP
/// refuses before its signature logic runs. The Response has one Assertion
/// child, any other Assertion stands only where the SAML schema takes one
/// (in `Advice`, or in `StatusDetail`, which takes any element), and IDs are
/// unique. SAML Raider's XSW1 to XSW8 and a second top-level Assertion break
/// it; the schema-valid wrapping of attacks.md S-32 does not.
fn check_schema_like_shape(root: &Node, assertions: &[Node]) -> Result<(), SamlError> {
    let top_level = children(root, NS_ASSERTION, "Assertion").len();
    if top_level != 1 {
        return Err(SamlError::AssertionCount(top_level));
    }
    for assertion in assertions {
        let parent = assertion.get_parent().ok_or(SamlError::Malformed("an Assertion without a parent"))?;
        let allowed =
            parent == *root || is(&parent, NS_ASSERTION, "Advice") || is(&parent, NS_PROTOCOL, "StatusDetail");
        if !allowed {
            return Err(SamlError::Malformed("an Assertion where the SAML schema takes none"));
        }
    }
    check_unique_ids(root)
}

fn check_unique_ids(root: &Node) -> Result<(), SamlError> {
    let mut seen = HashSet::new();
    let mut stack = vec![root.clone()];
    while let Some(node) = stack.pop() {
        for attribute in ["ID", "Id", "id"] {
            if let Some(id) = node.get_attribute_no_ns(attribute)
                && !seen.insert(id.clone())
            {
                return Err(SamlError::DuplicateId(id));
            }
        }
        stack.extend(node.get_child_elements());
    }
    Ok(())
}

fn time_attribute(node: &Node, name: &'static str) -> Result<Option<OffsetDateTime>, SamlError> {
    node.get_attribute_no_ns(name)
        .map(|text| OffsetDateTime::parse(&text, &Rfc3339).map_err(|_| SamlError::BadTime(name)))
        .transpose()
}

/// Checks and verifies the enveloped signature of `element`, if it has one.
/// Returns whether it is signed; a signature that is present but wrong is an error.
fn verify_enveloped(
    document: &Document,
    element: &Node,
    expect: &Expectations<'_>,
    allow_sha1: bool,
) -> Result<bool, SamlError> {
    let signatures = children(element, NS_DSIG, "Signature");
    let signature = match signatures.as_slice() {
        [] => return Ok(false),
        [one] => one,
        _ => return Err(SamlError::SignatureStructure("more than one Signature on one element")),
    };
    let id = element.get_attribute_no_ns("ID").ok_or(SamlError::Missing("ID of the signed element"))?;
    check_signed_info_with(signature, allow_sha1, Some(&id), SignedInfoLeniency::of(expect.policy))?;
    let valid = if expect.policy.own_signature_check() {
        super::own_signature_check::verifies(document, element, signature, expect.certificates, expect.policy)?
    } else {
        verify_signature(signature, expect)?
    };
    if valid || !expect.policy.signature_failure_is_fatal { Ok(true) } else { Err(SamlError::SignatureInvalid) }
}

/// Checks the shape of SignedInfo: one Reference to `#expected_id` (when
/// given), and only allowed algorithms and transforms.
pub(super) fn check_signed_info(
    signature: &Node,
    allow_sha1: bool,
    expected_id: Option<&str>,
) -> Result<(), SamlError> {
    check_signed_info_with(signature, allow_sha1, expected_id, SignedInfoLeniency::default())
}

/// What the flaws of the SP's own signature check let through the shape
/// check; nothing by default.
#[derive(Clone, Copy, Debug, Default)]
struct SignedInfoLeniency {
    /// An HMAC SignatureMethod (the `hmac-with-certificate` flaw).
    hmac: bool,
    /// More than one SignedInfo, the first checked (the `first-signed-info`
    /// flaw).
    first_signed_info: bool,
    /// A Reference URI other than `#` and the carrier's ID (the
    /// `any-reference-uri` flaw).
    any_reference_uri: bool,
    /// A Transform outside the allow-list (the `any-transform` flaw).
    any_transform: bool,
}

impl SignedInfoLeniency {
    fn of(policy: &Policy) -> Self {
        SignedInfoLeniency {
            hmac: policy.hmac_keyed_by_certificate,
            first_signed_info: policy.references_from_first_signed_info,
            any_reference_uri: policy.any_reference_uri,
            any_transform: policy.any_transform,
        }
    }
}

fn check_signed_info_with(
    signature: &Node,
    allow_sha1: bool,
    expected_id: Option<&str>,
    leniency: SignedInfoLeniency,
) -> Result<(), SamlError> {
    let signed_infos = children(signature, NS_DSIG, "SignedInfo");
    let signed_info = match signed_infos.as_slice() {
        [one] => one,
        [first, ..] if leniency.first_signed_info => first,
        _ => return Err(SamlError::SignatureStructure("SignedInfo must appear exactly once")),
    };
    let algorithm_of = |name: &str| -> Option<String> {
        children(signed_info, NS_DSIG, name).into_iter().next().and_then(|n| n.get_attribute_no_ns("Algorithm"))
    };
    let c14n = algorithm_of("CanonicalizationMethod").unwrap_or_default();
    if !CANONICALIZATIONS.contains(&c14n.as_str()) {
        return Err(SamlError::AlgorithmNotAllowed(c14n));
    }
    let method = algorithm_of("SignatureMethod").unwrap_or_default();
    let sha1_ok = allow_sha1 && method == SHA1_SIGNATURE;
    let hmac_ok = leniency.hmac && super::own_signature_check::HMAC_METHODS.contains(&method.as_str());
    if !STRONG_SIGNATURES.contains(&method.as_str()) && !sha1_ok && !hmac_ok {
        return Err(SamlError::AlgorithmNotAllowed(method));
    }
    let references = children(signed_info, NS_DSIG, "Reference");
    let [reference] = references.as_slice() else {
        return Err(SamlError::SignatureStructure("SignedInfo must have exactly one Reference"));
    };
    let uri = reference.get_attribute_no_ns("URI").unwrap_or_default();
    // The `any-reference-uri` flaw skips both URI rules: whatever the
    // library resolves the URI to and verifies is taken as the signed element.
    if !leniency.any_reference_uri
        && let Some(expected) = expected_id
        && uri != format!("#{expected}")
    {
        return Err(SamlError::ReferenceMismatch);
    }
    if !leniency.any_reference_uri && (!uri.starts_with('#') || uri.len() < 2) {
        return Err(SamlError::ReferenceMismatch);
    }
    for transforms in children(reference, NS_DSIG, "Transforms") {
        for transform in children(&transforms, NS_DSIG, "Transform") {
            let algorithm = transform.get_attribute_no_ns("Algorithm").unwrap_or_default();
            if !TRANSFORMS.contains(&algorithm.as_str()) && !leniency.any_transform {
                return Err(SamlError::AlgorithmNotAllowed(algorithm));
            }
        }
    }
    let digest = children(reference, NS_DSIG, "DigestMethod")
        .into_iter()
        .next()
        .and_then(|n| n.get_attribute_no_ns("Algorithm"))
        .unwrap_or_default();
    let sha1_digest_ok = allow_sha1 && digest == SHA1_DIGEST;
    if !STRONG_DIGESTS.contains(&digest.as_str()) && !sha1_digest_ok {
        return Err(SamlError::AlgorithmNotAllowed(digest));
    }
    Ok(())
}

/// Verifies one signature with the pinned certificates (or, under the
/// `trust-keyinfo-cert` flaw, the certificate the message carries).
fn verify_signature(signature: &Node, expect: &Expectations<'_>) -> Result<bool, SamlError> {
    // The `trust-key-value` flaw: a key the message carries in KeyValue is
    // used as it is, so whoever made the message chose the key.
    if expect.policy.trust_key_value
        && let Some(pem) = key_value_public_key_pem(signature)
    {
        super::xmlsec_errors::install();
        let _ = super::xmlsec_errors::take();
        let key = XmlSecKey::from_memory(&pem, XmlSecKeyFormat::Pem, None).map_err(|_| SamlError::BadCertificate)?;
        let mut context = XmlSecSignatureContext::new();
        context.insert_key(key);
        let verified = context.verify_node(signature).unwrap_or(false);
        let _ = super::xmlsec_errors::take();
        return Ok(verified);
    }
    let keyinfo_certificates: Vec<String>;
    let certificates: &[String] = if expect.policy.trust_keyinfo {
        keyinfo_certificates =
            descendants(signature, NS_DSIG, "X509Certificate").into_iter().map(|c| c.get_content()).collect();
        &keyinfo_certificates
    } else {
        expect.certificates
    };
    verifies_with_any(signature, certificates, "the signature")
}

/// Whether one of `certificates` (base64 DER) verifies `signature` with
/// libxmlsec1. libxmlsec1 would print each step of a failed verification to
/// stderr; its messages are kept instead, and shown once, at debug level,
/// beside the refusal the caller logs, naming `what` was refused.
pub(super) fn verifies_with_any(signature: &Node, certificates: &[String], what: &str) -> Result<bool, SamlError> {
    super::xmlsec_errors::install();
    let _ = super::xmlsec_errors::take();
    for certificate in certificates {
        let key = XmlSecKey::from_memory(pem_certificate(certificate).as_bytes(), XmlSecKeyFormat::CertPem, None)
            .map_err(|_| SamlError::BadCertificate)?;
        let mut context = XmlSecSignatureContext::new();
        context.insert_key(key);
        if context.verify_node(signature).unwrap_or(false) {
            let _ = super::xmlsec_errors::take();
            return Ok(true);
        }
    }
    let details = super::xmlsec_errors::take();
    tracing::debug!(?details, "no pinned certificate verifies {what}");
    Ok(false)
}

/// The RSA public key of a signature's `KeyInfo/KeyValue/RSAKeyValue`, as
/// PEM, for the `trust-key-value` flaw only; `None` when there is none or it
/// does not make an RSA key.
fn key_value_public_key_pem(signature: &Node) -> Option<Vec<u8>> {
    let key_value = descendants(signature, NS_DSIG, "RSAKeyValue").into_iter().next()?;
    let number = |name: &str| -> Option<openssl::bn::BigNum> {
        let text = children(&key_value, NS_DSIG, name).into_iter().next()?.get_content();
        let bytes = BASE64.decode(text.split_whitespace().collect::<String>()).ok()?;
        openssl::bn::BigNum::from_slice(&bytes).ok()
    };
    let rsa = openssl::rsa::Rsa::from_public_components(number("Modulus")?, number("Exponent")?).ok()?;
    openssl::pkey::PKey::from_rsa(rsa).ok()?.public_key_to_pem().ok()
}

pub(super) fn pem_certificate(base64_der: &str) -> String {
    let compact: String = base64_der.chars().filter(|c| !c.is_whitespace()).collect();
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in compact.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// The `hand-rolled-signature-check` flaw: signature verification written by
/// hand, the way SP code that does not trust a library does it. It makes the
/// three mistakes signature wrapping needs: the Reference is resolved by
/// trying every element with that ID, the enveloped-signature transform
/// strips the Signature only when it lies inside the referenced element, and
/// (through the policy) the first Assertion in the document is read.
mod hand_rolled {
    use libxml::tree::Node;
    use libxml::tree::c14n::{CanonicalizationMode, CanonicalizationOptions};
    use sha2::Digest;

    use super::{BASE64, NS_DSIG, SamlError, children, descendants};
    use base64::Engine;

    const EXCLUSIVE: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

    fn prefix_list(parent: &Node) -> Vec<String> {
        parent
            .get_child_elements()
            .into_iter()
            .filter(|n| n.get_name() == "InclusiveNamespaces")
            .filter_map(|n| n.get_attribute_no_ns("PrefixList"))
            .flat_map(|list| list.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .collect()
    }

    fn canonical(node: &mut Node, exclusive: bool, prefixes: Vec<String>) -> Option<String> {
        let mode =
            if exclusive { CanonicalizationMode::ExclusiveCanonical1_0 } else { CanonicalizationMode::Canonical1_0 };
        node.canonicalize(CanonicalizationOptions { mode, with_comments: false, inclusive_ns_prefixes: prefixes }).ok()
    }

    fn elements(root: &Node) -> Vec<Node> {
        let mut found = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(node) = stack.pop() {
            found.push(node.clone());
            let mut kids = node.get_child_elements();
            kids.reverse();
            stack.extend(kids);
        }
        found
    }

    fn is_inside(node: &Node, ancestor: &Node) -> bool {
        let mut current = node.get_parent();
        while let Some(parent) = current {
            if parent == *ancestor {
                return true;
            }
            current = parent.get_parent();
        }
        false
    }

    /// Whether the `index`-th Signature of the document verifies, by hand.
    pub(super) fn verifies(
        xml: &str,
        index: usize,
        signature: &Node,
        certificates: &[String],
    ) -> Result<bool, SamlError> {
        let malformed = SamlError::Malformed("a signature the hand-rolled check cannot read");
        let signed_info = children(signature, NS_DSIG, "SignedInfo").into_iter().next().ok_or(malformed.clone())?;
        let reference = children(&signed_info, NS_DSIG, "Reference").into_iter().next().ok_or(malformed.clone())?;
        let id = reference.get_attribute_no_ns("URI").unwrap_or_default().trim_start_matches('#').to_owned();
        let expected_digest = children(&reference, NS_DSIG, "DigestValue")
            .into_iter()
            .next()
            .and_then(|n| BASE64.decode(n.get_content().split_whitespace().collect::<String>()).ok())
            .ok_or(malformed.clone())?;
        let sha1 = children(&reference, NS_DSIG, "DigestMethod")
            .into_iter()
            .next()
            .and_then(|n| n.get_attribute_no_ns("Algorithm"))
            .is_some_and(|a| a.ends_with("#sha1"));
        let transforms: Vec<Node> = children(&reference, NS_DSIG, "Transforms")
            .into_iter()
            .flat_map(|t| children(&t, NS_DSIG, "Transform"))
            .collect();
        let exclusive = transforms.iter().any(|t| t.get_attribute_no_ns("Algorithm").as_deref() == Some(EXCLUSIVE));
        let prefixes: Vec<String> = transforms.iter().flat_map(prefix_list).collect();

        // Every element with the ID is a candidate; each is digested in a
        // fresh copy of the document, with the Signature removed only if it
        // is inside the candidate.
        let mut digest_matches = false;
        for attempt in 0.. {
            let document = crate::saml::parse_strictly(xml).map_err(|_| malformed.clone())?;
            let root = document.get_root_element().ok_or(malformed.clone())?;
            let candidates: Vec<Node> =
                elements(&root).into_iter().filter(|n| n.get_attribute_no_ns("ID").as_deref() == Some(&id)).collect();
            let Some(mut candidate) = candidates.into_iter().nth(attempt) else { break };
            if let Some(mut copy) = descendants(&root, NS_DSIG, "Signature").into_iter().nth(index)
                && is_inside(&copy, &candidate)
            {
                copy.unlink_node();
            }
            let Some(text) = canonical(&mut candidate, exclusive, prefixes.clone()) else { continue };
            let digest = if sha1 {
                openssl::hash::hash(openssl::hash::MessageDigest::sha1(), text.as_bytes()).map(|d| d.to_vec()).ok()
            } else {
                Some(sha2::Sha256::digest(text.as_bytes()).to_vec())
            };
            if digest.as_deref() == Some(expected_digest.as_slice()) {
                digest_matches = true;
                break;
            }
        }
        if !digest_matches {
            return Ok(false);
        }

        let method = children(&signed_info, NS_DSIG, "SignatureMethod")
            .into_iter()
            .next()
            .and_then(|n| n.get_attribute_no_ns("Algorithm"))
            .unwrap_or_default();
        let c14n = children(&signed_info, NS_DSIG, "CanonicalizationMethod").into_iter().next();
        let c14n_exclusive =
            c14n.as_ref().and_then(|n| n.get_attribute_no_ns("Algorithm")).as_deref() == Some(EXCLUSIVE);
        let c14n_prefixes = c14n.as_ref().map(prefix_list).unwrap_or_default();
        let mut signed_info = signed_info;
        let signed_bytes = canonical(&mut signed_info, c14n_exclusive, c14n_prefixes).ok_or(malformed.clone())?;
        let signature_value = children(signature, NS_DSIG, "SignatureValue")
            .into_iter()
            .next()
            .and_then(|n| BASE64.decode(n.get_content().split_whitespace().collect::<String>()).ok())
            .ok_or(malformed)?;
        let digest = if method.ends_with("#rsa-sha1") {
            openssl::hash::MessageDigest::sha1()
        } else {
            openssl::hash::MessageDigest::sha256()
        };
        for certificate in certificates {
            let compact: String = certificate.split_whitespace().collect();
            let Ok(der) = BASE64.decode(compact) else { continue };
            let Ok(key) = openssl::x509::X509::from_der(&der).and_then(|c| c.public_key()) else { continue };
            let Ok(mut verifier) = openssl::sign::Verifier::new(digest, &key) else { continue };
            if verifier.update(signed_bytes.as_bytes()).is_ok() && verifier.verify(&signature_value).unwrap_or(false) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
