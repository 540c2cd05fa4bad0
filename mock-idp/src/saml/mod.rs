//! The SAML 2.0 identity provider: what goes into a response, how it is
//! signed, and how faults change it.
//!
//! [`build_content`] decides what the response says from the org, the app,
//! the user and the request. [`issue`] renders it, applies the fault, signs it
//! and returns the finished XML. Neither does any IO; the time comes in as `now`.

pub mod authn_request;
pub mod canonical;
pub mod encrypt;
pub mod faults;
pub mod forged_signatures;
pub mod form;
pub mod logout;
pub mod metadata;
pub mod request_signature;
pub mod response;
pub mod sign;
pub mod xml;
mod xmlsec_quiet;

/// Parses a message an SP sent (an AuthnRequest, a LogoutRequest or
/// LogoutResponse) strictly: libxml's default options recover from
/// malformed input such as a document cut short, which an IdP must refuse
/// rather than read a guess of. No network access either, whatever the
/// document names.
pub(crate) fn parse_strictly(xml: &str) -> Result<libxml::tree::Document, libxml::parser::XmlParseError> {
    let options = libxml::parser::ParserOptions { recover: false, no_net: true, ..Default::default() };
    libxml::parser::Parser::default().parse_string_with_options(xml, options)
}

/// Turns off libxmlsec1's default printing of refused signatures to stderr
/// (once per process), for other crates' command-line tools that verify
/// with libxmlsec1, such as `mockta explain`.
pub use xmlsec_quiet::install as silence_xmlsec_default_errors;

use time::{Duration, OffsetDateTime};

use crate::ids::{AcsUrl, IdGenerator};
use crate::keys::SigningCredential;
use crate::org::{App, AttributeValueSource, Org, SamlSettings, User, json_text};
use faults::{Identity, SamlFault, SamlFaultError};
use forged_signatures::TemplateEdit;
use response::{Attribute, Authn, Conditions, ResponseContent, Signatures, Status, Subject};
use sign::SignError;

/// How long a response is valid on either side of its IssueInstant, as in Okta.
pub const VALIDITY_WINDOW: Duration = Duration::minutes(5);

/// Errors of the SAML layer. `Display` is the text shown on Okta's error page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamlError {
    #[error("The SAMLRequest could not be read: {0}")]
    BadRequest(#[from] authn_request::AuthnRequestError),
    #[error("The AuthnRequest Issuer '{found}' does not match the app's Audience URI '{expected}'.")]
    IssuerMismatch { found: String, expected: String },
    #[error(
        "The requested AssertionConsumerServiceURL '{0}' is not a Single sign-on URL or Requestable SSO URL of this app."
    )]
    AcsNotAllowed(String),
    #[error("The requested AssertionConsumerServiceIndex {0} is not configured for this app.")]
    AcsIndexNotAllowed(u16),
    #[error("User is not assigned to this application.")]
    NotAssigned,
    #[error("Your account is not active (status {0}).")]
    UserNotActive(&'static str),
    #[error("cannot sign the response: {0}")]
    Sign(#[from] SignError),
    #[error("cannot apply the fault: {0}")]
    SamlFault(#[from] SamlFaultError),
    #[error("cannot encrypt the assertion: {0}")]
    Encrypt(#[from] encrypt::EncryptError),
    #[error("the fault {0} needs an app that encrypts assertions (saml.assertion_encryption)")]
    FaultNeedsEncryption(SamlFault),
    #[error("{0}")]
    RequestSignature(#[from] request_signature::RequestSignatureError),
    #[error("{0}")]
    Logout(#[from] logout::LogoutError),
}

/// The sign-in being answered.
#[derive(Clone, Debug)]
pub struct SignIn<'a> {
    pub org: &'a Org,
    pub app: &'a App,
    /// The app's SAML settings.
    pub settings: &'a SamlSettings,
    pub user: &'a User,
    /// The AuthnRequest ID, for SP-initiated sign-in.
    pub in_response_to: Option<String>,
    pub acs_url: AcsUrl,
    /// When the user authenticated to the mock.
    pub authn_instant: OffsetDateTime,
}

/// Checks that the user may sign in to the app, with Okta's errors.
pub fn check_access(org: &Org, app: &App, user: &User) -> Result<(), SamlError> {
    if !user.status.can_sign_in() {
        return Err(SamlError::UserNotActive(user.status.as_str()));
    }
    if !org.is_assigned(app, &user.id) {
        return Err(SamlError::NotAssigned);
    }
    Ok(())
}

/// Picks the ACS URL for an SP-initiated request: the requested URL if the app
/// allows it, the indexed one, or the app's default.
pub fn choose_acs(settings: &SamlSettings, request: &authn_request::AuthnRequest) -> Result<AcsUrl, SamlError> {
    if let Some(issuer) = &request.issuer
        && issuer != settings.audience.as_str()
    {
        return Err(SamlError::IssuerMismatch { found: issuer.clone(), expected: settings.audience.0.clone() });
    }
    if let Some(url) = &request.acs_url {
        return if settings.allows_acs(url) {
            Ok(AcsUrl(url.clone()))
        } else {
            Err(SamlError::AcsNotAllowed(url.clone()))
        };
    }
    if let Some(index) = request.acs_index {
        return match index {
            0 => Ok(settings.sso_url.clone()),
            n => settings.other_sso_urls.get(usize::from(n) - 1).cloned().ok_or(SamlError::AcsIndexNotAllowed(n)),
        };
    }
    Ok(settings.sso_url.clone())
}

/// Decides everything the response says.
pub fn build_content(
    sign_in: &SignIn<'_>,
    certificate: &str,
    now: OffsetDateTime,
    ids: &dyn IdGenerator,
) -> ResponseContent {
    let SignIn { org, app, user, settings, .. } = sign_in;
    let name_id = org.app_user_name(app, user);
    // Okta's Destination and Recipient default to the ACS the response goes
    // to; a separately configured one applies only to the default ACS.
    let default_acs = sign_in.acs_url == settings.sso_url;
    let destination = if default_acs { settings.destination.clone() } else { sign_in.acs_url.0.clone() };
    let recipient = if default_acs { settings.recipient.clone() } else { sign_in.acs_url.0.clone() };
    let session_index = match &sign_in.in_response_to {
        Some(request_id) => request_id.clone(),
        None => {
            let millis = now.unix_timestamp_nanos() / 1_000_000;
            let digits: String = ids.saml_id().chars().skip(2).take(10).collect();
            format!("id{millis}.{digits}")
        }
    };
    // Okta's Response and Assertion ids of one message share their leading
    // digits; the pair comes from one call so that they do.
    let message_ids = ids.saml_id_pair();
    ResponseContent {
        response_id: message_ids.response,
        assertion_id: message_ids.assertion,
        issuer: settings.idp_entity_id().0,
        destination,
        in_response_to: sign_in.in_response_to.clone(),
        issue_instant: now,
        status: Status::Success,
        subject: Subject {
            name_id,
            name_id_format: settings.name_id_format.urn().to_owned(),
            recipient,
            not_on_or_after: now + VALIDITY_WINDOW,
            confirmation_method: response::CM_BEARER.to_owned(),
            confirmation_data: true,
        },
        conditions: Conditions {
            not_before: now - VALIDITY_WINDOW,
            not_on_or_after: now + VALIDITY_WINDOW,
            audience: Some(settings.audience.0.clone()),
        },
        authn: Authn {
            authn_instant: sign_in.authn_instant,
            session_index,
            context_class_ref: settings.authn_context_class_ref.clone(),
            session_not_on_or_after: None,
        },
        attributes: attributes(org, app, settings, user),
        signatures: Signatures {
            response: settings.signing.signs_response(),
            assertion: settings.signing.signs_assertion(),
            algorithm: settings.signature_algorithm,
            certificate: certificate.to_owned(),
        },
    }
}

/// The attribute statements of the app, evaluated for the user. An attribute
/// whose value is missing is left out, as Okta does.
fn attributes(org: &Org, app: &App, settings: &SamlSettings, user: &User) -> Vec<Attribute> {
    let mut out = Vec::new();
    let app_profile = org.app_profile(app, &user.id);
    for statement in &settings.attributes {
        let value = match &statement.value {
            AttributeValueSource::User(name) => user.profile.attribute(name),
            AttributeValueSource::AppUser(name) => app_profile.get(name).cloned(),
            AttributeValueSource::Literal(text) => Some(serde_json::Value::String(text.clone())),
        };
        let values: Vec<String> = match value {
            None | Some(serde_json::Value::Null) => continue,
            Some(serde_json::Value::Array(items)) => items.iter().map(json_text).collect(),
            Some(other) => vec![json_text(&other)],
        };
        out.push(Attribute {
            name: statement.name.clone(),
            name_format: statement.name_format.urn().to_owned(),
            values,
        });
    }
    let groups = org.groups_of(&user.id);
    for statement in &settings.group_attributes {
        let values: Vec<String> =
            groups.iter().filter(|g| statement.filter.matches(&g.name)).map(|g| g.name.clone()).collect();
        if values.is_empty() {
            continue;
        }
        out.push(Attribute {
            name: statement.name.clone(),
            name_format: statement.name_format.urn().to_owned(),
            values,
        });
    }
    out
}

/// The keys a response may be signed with.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The app's own signing credential, published in its metadata.
    pub signing: SigningCredential,
    /// A stranger's key, used by the `untrusted-key` fault.
    pub untrusted: SigningCredential,
    /// The SP's certificate when the app encrypts assertions.
    pub encryption: Option<encrypt::EncryptionRecipient>,
}

/// A fault to apply, with the identity a forging fault claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamlFaultPlan {
    pub fault: SamlFault,
    /// The identity forged faults put in the message. When `None`,
    /// `admin@{org email domain}` is used.
    pub impersonate: Option<String>,
}

impl SamlFaultPlan {
    pub fn impersonated(&self, org: &Org) -> String {
        self.impersonate.clone().unwrap_or_else(|| format!("admin@{}", org.email_domain))
    }
}

/// Renders, faults and signs a response. Returns the finished XML.
pub fn issue(
    mut content: ResponseContent,
    fault: Option<(&SamlFaultPlan, &Org, &User)>,
    credentials: &Credentials,
    now: OffsetDateTime,
) -> Result<String, SamlError> {
    let mut credential = &credentials.signing;
    let mut identity = None;
    if let Some((plan, org, user)) = fault {
        let impersonate = plan.impersonated(org);
        identity = Some(Identity {
            genuine: vec![content.subject.name_id.clone(), user.profile.login.clone(), user.profile.email.clone()],
            impersonate: impersonate.clone(),
        });
        plan.fault.adjust(&mut content, now);
        match plan.fault {
            SamlFault::UntrustedKey => {
                credential = &credentials.untrusted;
                content.signatures.certificate = credentials.untrusted.cert_base64_wrapped().to_owned();
            }
            // The attacker signs what they like with their own key: the
            // impersonated identity, with the key itself in KeyInfo.
            SamlFault::UntrustedKeyValue => {
                credential = &credentials.untrusted;
                content.subject.name_id = impersonate.clone();
            }
            // Every RSA value is replaced by an HMAC, and is made with the
            // attacker's key so that no genuine signature over the forged
            // identity ever exists; KeyInfo keeps the IdP's certificate.
            SamlFault::HmacWithCertificate => {
                credential = &credentials.untrusted;
                content.subject.name_id = impersonate.clone();
            }
            SamlFault::CommentInNameId => content.subject.name_id = format!("{impersonate}{}", faults::COMMENT_SUFFIX),
            SamlFault::EncryptedUnsigned => content.subject.name_id = impersonate.clone(),
            _ => {}
        }
    }
    let unsigned = response::render(&content);
    // KeyInfo goes in before signing: the Response signature covers the
    // Assertion's KeyInfo, so it must be signed as it is sent.
    let unsigned = match fault.map(|(plan, _, _)| plan.fault) {
        Some(SamlFault::UntrustedKeyValue) => {
            forged_signatures::key_info_as_key_value(&unsigned, &credentials.untrusted)?
        }
        // The shape of the Assertion's signature is what these faults
        // change, so it is changed in the template and the IdP's key signs it.
        Some(SamlFault::ReferenceWholeDocument) => {
            forged_signatures::edit_assertion_template(&unsigned, TemplateEdit::WholeDocumentReference)?
        }
        Some(SamlFault::ReferenceOtherElement) => {
            forged_signatures::edit_assertion_template(&unsigned, TemplateEdit::ResponseReference)?
        }
        Some(SamlFault::TransformWithComments) => {
            forged_signatures::edit_assertion_template(&unsigned, TemplateEdit::WithComments)?
        }
        Some(SamlFault::TransformXPath) => {
            forged_signatures::edit_assertion_template(&unsigned, TemplateEdit::XPathWithoutSubject)?
        }
        _ => unsigned,
    };
    let encryption = encryption_for(fault.map(|(plan, _, _)| plan.fault), credentials)?;
    let signed = match encryption {
        // Okta signs the Assertion, encrypts it, then signs the Response over
        // the EncryptedAssertion.
        Some(recipient) => {
            let assertion_signed = sign::sign_assertion_template(&unsigned, credential)?;
            let ids = (encrypt_id(&content.assertion_id, 'd'), encrypt_id(&content.assertion_id, 'k'));
            let encrypted = encrypt::encrypt_assertion(&assertion_signed, &recipient, (&ids.0, &ids.1))?;
            sign::sign_response_template(&encrypt::without_plaintext_namespaces(&encrypted), credential)?
        }
        None if fault.is_some_and(|(plan, _, _)| plan.fault == SamlFault::HmacWithCertificate) => {
            use forged_signatures::{SignatureOf, resign_with_hmac};
            let key = forged_signatures::certificate_pem_key(&credentials.signing);
            let mut text = sign::sign_assertion_template(&unsigned, credential)?;
            if content.signatures.assertion {
                text = resign_with_hmac(&text, SignatureOf::Assertion, &key)?;
            }
            text = sign::sign_response_template(&text, credential)?;
            if content.signatures.response {
                text = resign_with_hmac(&text, SignatureOf::Response, &key)?;
            }
            text
        }
        None if content.signatures.response || content.signatures.assertion => {
            sign::sign_rendered(&unsigned, &content.signatures, credential)?
        }
        None => unsigned,
    };
    match (fault, identity) {
        (Some((plan, _, _)), Some(identity)) => Ok(plan.fault.after_signing(&signed, &identity)?),
        _ => Ok(signed),
    }
}

/// The encryption a response gets: the app's, or the one an encryption fault
/// asks for (which needs the SP's certificate from the app's setting).
fn encryption_for(
    fault: Option<SamlFault>,
    credentials: &Credentials,
) -> Result<Option<encrypt::EncryptionRecipient>, SamlError> {
    let Some(fault) = fault.filter(|f| f.needs_encryption()) else {
        return Ok(credentials.encryption.clone());
    };
    let mut recipient = credentials.encryption.clone().ok_or(SamlError::FaultNeedsEncryption(fault))?;
    if fault == SamlFault::LegacyEncryption {
        recipient.block = encrypt::BlockAlgorithm::Aes128Cbc;
        recipient.transport = encrypt::KeyTransport::Rsa15;
    }
    Ok(Some(recipient))
}

/// The `Id` of the EncryptedData (`role` 'd') or EncryptedKey ('k'): `_` and
/// 32 hex digits as in Okta, derived from the Assertion id so that the
/// injected id generator alone decides them.
fn encrypt_id(assertion_id: &str, role: char) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{role}{assertion_id}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("_{hex}")
}
