//! SAML for the SP: reading IdP metadata, writing AuthnRequests and SP
//! metadata, and validating responses at the ACS ([`verify`]).

pub mod decrypt;
pub mod logout;
pub mod metadata;
mod own_signature_check;
pub mod request;
pub mod verify;
mod xmlsec_decrypt;
mod xmlsec_errors;

use libxml::tree::Node;

/// Parses XML as the SP must: strictly. libxml's default options recover
/// from malformed input (an unclosed element, a document cut short), so a
/// truncated message, or CBC garbage that decrypts with good padding, could
/// still parse into something; with recovery off it is refused. No network
/// access either, whatever the document names.
pub(crate) fn parse_strictly(xml: &str) -> Result<libxml::tree::Document, libxml::parser::XmlParseError> {
    let options = libxml::parser::ParserOptions { recover: false, no_net: true, ..Default::default() };
    libxml::parser::Parser::default().parse_string_with_options(xml, options)
}

/// Whether a node is the element `name` in `namespace`.
fn is(node: &Node, namespace: &str, name: &str) -> bool {
    node.get_name() == name && node.get_namespace().is_some_and(|ns| ns.get_href() == namespace)
}

/// The elements `name` in `namespace` at or below `node`, in document order.
fn descendants(node: &Node, namespace: &str, name: &str) -> Vec<Node> {
    let mut found = Vec::new();
    let mut stack = vec![node.clone()];
    while let Some(current) = stack.pop() {
        if is(&current, namespace, name) {
            found.push(current.clone());
        }
        let mut kids = current.get_child_elements();
        kids.reverse();
        stack.extend(kids);
    }
    found
}

/// Escapes text for an XML attribute value or element content.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;")
}

/// Why a response or request was refused. `code()` is the stable
/// machine-readable code shown on the refusal page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamlError {
    #[error("the SAMLResponse is larger than allowed")]
    TooLarge,
    #[error("the SAMLResponse is malformed: {0}")]
    Malformed(&'static str),
    #[error("the SAMLResponse contains a DTD (DOCTYPE), which is not allowed")]
    Doctype,
    #[error("{0} is not supported")]
    Unsupported(&'static str),
    #[error("expected exactly one Assertion, found {0}")]
    AssertionCount(usize),
    #[error("the ID '{0}' appears more than once")]
    DuplicateId(String),
    #[error("neither the Response nor the Assertion is signed")]
    Unsigned,
    #[error("the signature does not verify with the tenant's pinned certificate")]
    SignatureInvalid,
    #[error("the signature is malformed: {0}")]
    SignatureStructure(&'static str),
    #[error("the algorithm '{0}' is not allowed")]
    AlgorithmNotAllowed(String),
    #[error("the signature's Reference does not point at the element that carries it")]
    ReferenceMismatch,
    #[error("the pinned certificate cannot be loaded")]
    BadCertificate,
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("the {0} time is not a valid timestamp")]
    BadTime(&'static str),
    #[error("the Issuer '{0}' is not this tenant's IdP")]
    IssuerMismatch(String),
    #[error("the Status is '{0}', not Success")]
    StatusNotSuccess(String),
    #[error("the Destination '{0}' is not this ACS")]
    DestinationMismatch(String),
    #[error("the Recipient '{0}' is not this ACS")]
    RecipientMismatch(String),
    #[error("the Audience '{0}' is not this SP")]
    AudienceMismatch(String),
    #[error("the assertion is not valid yet (NotBefore is in the future)")]
    NotYetValid,
    #[error("the assertion has expired (NotOnOrAfter has passed)")]
    Expired,
    #[error("InResponseTo does not match the request this browser sent")]
    InResponseToMismatch,
    #[error("unsolicited (IdP-initiated) responses are not allowed for this tenant")]
    Unsolicited,
    #[error("this assertion was already used")]
    Replay,
    #[error("the IdP metadata is unusable: {0}")]
    Metadata(String),
    #[error("the EncryptedAssertion is malformed: expected {0}")]
    EncryptionStructure(&'static str),
    /// One text for every failure from decryption to parsing the plaintext,
    /// so that the SP is no oracle for the ciphertext (attacks.md P-16).
    #[error("the EncryptedAssertion could not be decrypted")]
    DecryptionFailed,
    #[error("the tenant's decryption key cannot be loaded")]
    DecryptionKey,
    #[error("this tenant requires encrypted assertions")]
    NotEncrypted,
    #[error("the tenant's signing key cannot sign the AuthnRequest")]
    RequestSigning,
    #[error("the logout message is not signed by the IdP itself")]
    LogoutUnsigned,
    #[error("the logout message's Destination '{0}' is not this tenant's Single Logout URL")]
    LogoutDestinationMismatch(String),
    #[error("this tenant does not accept LogoutRequests from the IdP")]
    IdpLogoutNotAllowed,
    #[error("this tenant has no Single Logout with its IdP")]
    LogoutNotConfigured,
}

impl SamlError {
    pub fn code(&self) -> &'static str {
        match self {
            SamlError::TooLarge => "saml.too_large",
            SamlError::Malformed(_) => "saml.malformed",
            SamlError::Doctype => "saml.doctype",
            SamlError::Unsupported(_) => "saml.unsupported",
            SamlError::AssertionCount(_) => "saml.assertion_count",
            SamlError::DuplicateId(_) => "saml.duplicate_id",
            SamlError::Unsigned => "saml.unsigned",
            SamlError::SignatureInvalid => "saml.signature_invalid",
            SamlError::SignatureStructure(_) => "saml.signature_structure",
            SamlError::AlgorithmNotAllowed(_) => "saml.algorithm_not_allowed",
            SamlError::ReferenceMismatch => "saml.reference_mismatch",
            SamlError::BadCertificate => "saml.bad_certificate",
            SamlError::Missing(_) => "saml.missing_element",
            SamlError::BadTime(_) => "saml.bad_time",
            SamlError::IssuerMismatch(_) => "saml.issuer_mismatch",
            SamlError::StatusNotSuccess(_) => "saml.status_not_success",
            SamlError::DestinationMismatch(_) => "saml.destination_mismatch",
            SamlError::RecipientMismatch(_) => "saml.recipient_mismatch",
            SamlError::AudienceMismatch(_) => "saml.audience_mismatch",
            SamlError::NotYetValid => "saml.not_yet_valid",
            SamlError::Expired => "saml.expired",
            SamlError::InResponseToMismatch => "saml.in_response_to_mismatch",
            SamlError::Unsolicited => "saml.unsolicited",
            SamlError::Replay => "saml.replay",
            SamlError::Metadata(_) => "saml.idp_metadata",
            SamlError::EncryptionStructure(_) => "saml.encryption_structure",
            SamlError::DecryptionFailed => "saml.decryption_failed",
            SamlError::DecryptionKey => "saml.decryption_key",
            SamlError::NotEncrypted => "saml.not_encrypted",
            SamlError::RequestSigning => "saml.request_signing",
            SamlError::LogoutUnsigned => "saml.logout_unsigned",
            SamlError::LogoutDestinationMismatch(_) => "saml.logout_destination_mismatch",
            SamlError::IdpLogoutNotAllowed => "saml.idp_logout_not_allowed",
            SamlError::LogoutNotConfigured => "saml.logout_not_configured",
        }
    }
}

/// Whether a RelayState is a relative path on this SP: it starts with one
/// `/`, is not protocol-relative (`//host`), and has no backslash, scheme or
/// control character that a browser could turn into another origin.
pub fn relay_state_is_local(relay_state: &str) -> bool {
    relay_state.starts_with('/')
        && !relay_state.starts_with("//")
        && !relay_state.contains('\\')
        && !relay_state.chars().any(|c| c.is_control())
        && relay_state.len() <= 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_cut_short_is_refused_though_libxml_would_recover_it() {
        let cut = "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"a\"><saml:Subject>";
        // The reason for parse_strictly: libxml's default options recover.
        assert!(libxml::parser::Parser::default().parse_string(cut).is_ok());
        assert!(parse_strictly(cut).is_err());
        assert!(parse_strictly("<a><b></a>").is_err());
        let whole = format!("{cut}</saml:Subject></saml:Assertion>");
        let document = parse_strictly(&whole).unwrap();
        assert_eq!(document.get_root_element().unwrap().get_name(), "Assertion");
    }

    #[test]
    fn only_local_paths_are_local_relay_states() {
        for good in ["/", "/welcome", "/reports?x=1#y"] {
            assert!(relay_state_is_local(good), "{good}");
        }
        for bad in
            ["https://evil.test/", "//evil.test", "/\\evil.test", "evil", "", "/\nLocation: x", "javascript:alert(1)"]
        {
            assert!(!relay_state_is_local(bad), "{bad}");
        }
    }
}
