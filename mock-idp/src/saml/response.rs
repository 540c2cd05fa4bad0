//! Rendering a SAML Response in Okta's serialisation, with empty signature
//! templates where signatures go. Pure: every value, including the time, comes
//! in through [`ResponseContent`].

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::xml::escape;
use crate::org::SignatureAlgorithm;

pub const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const NS_XS: &str = "http://www.w3.org/2001/XMLSchema";
const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
const ENTITY_FORMAT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
pub const STATUS_RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
pub const STATUS_AUTHN_FAILED: &str = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed";
/// The SubjectConfirmation methods of SAML Profiles 3: Web Browser SSO uses
/// bearer only (Profiles 4.1.4.2).
pub const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
pub const CM_HOLDER_OF_KEY: &str = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key";
pub const CM_SENDER_VOUCHES: &str = "urn:oasis:names:tc:SAML:2.0:cm:sender-vouches";

/// Everything that goes into one Response.
#[derive(Clone, Debug, PartialEq)]
pub struct ResponseContent {
    pub response_id: String,
    pub assertion_id: String,
    pub issuer: String,
    pub destination: String,
    pub in_response_to: Option<String>,
    pub issue_instant: OffsetDateTime,
    pub status: Status,
    pub subject: Subject,
    pub conditions: Conditions,
    pub authn: Authn,
    pub attributes: Vec<Attribute>,
    pub signatures: Signatures,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Success,
    /// `Responder` with a second-level status such as `AuthnFailed`.
    Responder {
        second_level: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Subject {
    pub name_id: String,
    pub name_id_format: String,
    pub recipient: String,
    pub not_on_or_after: OffsetDateTime,
    /// The SubjectConfirmation's Method: [`CM_BEARER`] from Okta, another
    /// only under a fault.
    pub confirmation_method: String,
    /// Whether the confirmation carries its SubjectConfirmationData
    /// (Recipient, NotOnOrAfter, InResponseTo); always, from Okta.
    pub confirmation_data: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Conditions {
    pub not_before: OffsetDateTime,
    pub not_on_or_after: OffsetDateTime,
    /// `None` leaves out the AudienceRestriction.
    pub audience: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Authn {
    pub authn_instant: OffsetDateTime,
    pub session_index: String,
    pub context_class_ref: String,
    /// `SessionNotOnOrAfter`: when the SP must end the session. Okta sends
    /// none (its session policy is the IdP's own); the `short-session` fault
    /// sets it (attacks.md P-18).
    pub session_not_on_or_after: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub name_format: String,
    pub values: Vec<String>,
}

/// Which signature templates to put in, with which algorithm and certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signatures {
    pub response: bool,
    pub assertion: bool,
    pub algorithm: SignatureAlgorithm,
    /// The certificate for `KeyInfo`, base64 wrapped at 76 columns.
    pub certificate: String,
}

/// Okta's timestamp form: UTC with milliseconds, `2024-03-29T07:42:22.136Z`.
pub fn saml_time(instant: OffsetDateTime) -> String {
    let utc = instant.to_offset(time::UtcOffset::UTC);
    let millis = utc.millisecond();
    let whole = utc.replace_millisecond(0).unwrap_or(utc);
    let text = whole.format(&Rfc3339).unwrap_or_default();
    // Rfc3339 renders whole seconds as `...:22Z`; insert the milliseconds.
    match text.strip_suffix('Z') {
        Some(base) => format!("{base}.{millis:03}Z"),
        None => text,
    }
}

/// The declaration Okta writes, directly followed by the root element.
pub const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

/// Renders the Response with empty signature templates.
pub fn render(content: &ResponseContent) -> String {
    let mut xml = String::with_capacity(4096);
    xml.push_str(XML_DECLARATION);
    xml.push_str("<saml2p:Response Destination=\"");
    xml.push_str(&escape(&content.destination));
    xml.push_str("\" ID=\"");
    xml.push_str(&escape(&content.response_id));
    xml.push('"');
    if let Some(in_response_to) = &content.in_response_to {
        xml.push_str(" InResponseTo=\"");
        xml.push_str(&escape(in_response_to));
        xml.push('"');
    }
    let issue_instant = saml_time(content.issue_instant);
    xml.push_str(&format!(
        " IssueInstant=\"{issue_instant}\" Version=\"2.0\" xmlns:saml2p=\"{NS_PROTOCOL}\" xmlns:xs=\"{NS_XS}\">"
    ));
    push_issuer(&mut xml, &content.issuer);
    if content.signatures.response {
        push_signature_template(&mut xml, &content.response_id, &content.signatures);
    }
    xml.push_str(&format!("<saml2p:Status xmlns:saml2p=\"{NS_PROTOCOL}\">"));
    match &content.status {
        Status::Success => xml.push_str(&format!("<saml2p:StatusCode Value=\"{STATUS_SUCCESS}\"/>")),
        Status::Responder { second_level } => xml.push_str(&format!(
            "<saml2p:StatusCode Value=\"{STATUS_RESPONDER}\"><saml2p:StatusCode Value=\"{}\"/></saml2p:StatusCode>",
            escape(second_level)
        )),
    }
    xml.push_str("</saml2p:Status>");
    xml.push_str(&render_assertion(content));
    xml.push_str("</saml2p:Response>");
    xml
}

fn render_assertion(content: &ResponseContent) -> String {
    let mut xml = String::with_capacity(3072);
    let issue_instant = saml_time(content.issue_instant);
    xml.push_str(&format!(
        "<saml2:Assertion ID=\"{}\" IssueInstant=\"{issue_instant}\" Version=\"2.0\" xmlns:saml2=\"{NS_ASSERTION}\" xmlns:xs=\"{NS_XS}\">",
        escape(&content.assertion_id)
    ));
    push_issuer(&mut xml, &content.issuer);
    if content.signatures.assertion {
        push_signature_template(&mut xml, &content.assertion_id, &content.signatures);
    }

    let subject = &content.subject;
    xml.push_str(&format!(
        "<saml2:Subject xmlns:saml2=\"{NS_ASSERTION}\"><saml2:NameID Format=\"{}\">{}</saml2:NameID>",
        escape(&subject.name_id_format),
        escape(&subject.name_id)
    ));
    xml.push_str(&format!("<saml2:SubjectConfirmation Method=\"{}\">", escape(&subject.confirmation_method)));
    if subject.confirmation_data {
        xml.push_str("<saml2:SubjectConfirmationData");
        if let Some(in_response_to) = &content.in_response_to {
            xml.push_str(&format!(" InResponseTo=\"{}\"", escape(in_response_to)));
        }
        xml.push_str(&format!(
            " NotOnOrAfter=\"{}\" Recipient=\"{}\"/>",
            saml_time(subject.not_on_or_after),
            escape(&subject.recipient)
        ));
    }
    xml.push_str("</saml2:SubjectConfirmation></saml2:Subject>");

    let conditions = &content.conditions;
    xml.push_str(&format!(
        "<saml2:Conditions NotBefore=\"{}\" NotOnOrAfter=\"{}\" xmlns:saml2=\"{NS_ASSERTION}\"",
        saml_time(conditions.not_before),
        saml_time(conditions.not_on_or_after)
    ));
    match &conditions.audience {
        Some(audience) => xml.push_str(&format!(
            "><saml2:AudienceRestriction><saml2:Audience>{}</saml2:Audience></saml2:AudienceRestriction></saml2:Conditions>",
            escape(audience)
        )),
        None => xml.push_str("/>"),
    }

    let authn = &content.authn;
    let session_end = authn
        .session_not_on_or_after
        .map(|instant| format!(" SessionNotOnOrAfter=\"{}\"", saml_time(instant)))
        .unwrap_or_default();
    xml.push_str(&format!(
        "<saml2:AuthnStatement AuthnInstant=\"{}\" SessionIndex=\"{}\"{session_end} xmlns:saml2=\"{NS_ASSERTION}\"><saml2:AuthnContext><saml2:AuthnContextClassRef>{}</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>",
        saml_time(authn.authn_instant),
        escape(&authn.session_index),
        escape(&authn.context_class_ref)
    ));

    if !content.attributes.is_empty() {
        xml.push_str(&format!("<saml2:AttributeStatement xmlns:saml2=\"{NS_ASSERTION}\">"));
        for attribute in &content.attributes {
            xml.push_str(&format!(
                "<saml2:Attribute Name=\"{}\" NameFormat=\"{}\">",
                escape(&attribute.name),
                escape(&attribute.name_format)
            ));
            for value in &attribute.values {
                xml.push_str(&format!(
                    "<saml2:AttributeValue xmlns:xs=\"{NS_XS}\" xmlns:xsi=\"{NS_XSI}\" xsi:type=\"xs:string\">{}</saml2:AttributeValue>",
                    escape(value)
                ));
            }
            xml.push_str("</saml2:Attribute>");
        }
        xml.push_str("</saml2:AttributeStatement>");
    }
    xml.push_str("</saml2:Assertion>");
    xml
}

pub(crate) fn push_issuer(xml: &mut String, issuer: &str) {
    xml.push_str(&format!(
        "<saml2:Issuer Format=\"{ENTITY_FORMAT}\" xmlns:saml2=\"{NS_ASSERTION}\">{}</saml2:Issuer>",
        escape(issuer)
    ));
}

/// An enveloped signature template referencing `#id`, with Okta's transforms:
/// enveloped-signature, then exclusive c14n keeping the `xs` prefix.
pub(crate) fn push_signature_template(xml: &mut String, id: &str, signatures: &Signatures) {
    xml.push_str(&format!(
        "<ds:Signature xmlns:ds=\"{NS_DSIG}\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/><ds:SignatureMethod Algorithm=\"{}\"/><ds:Reference URI=\"#{}\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"><ec:InclusiveNamespaces PrefixList=\"xs\" xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transform></ds:Transforms><ds:DigestMethod Algorithm=\"{}\"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>",
        signatures.algorithm.signature_method(),
        escape(id),
        signatures.algorithm.digest_method(),
        signatures.certificate
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saml_time_has_milliseconds_and_z() {
        let t = time::macros::datetime!(2024-03-29 07:42:22.136 UTC);
        assert_eq!(saml_time(t), "2024-03-29T07:42:22.136Z");
        let whole = time::macros::datetime!(2024-03-29 07:42:22 UTC);
        assert_eq!(saml_time(whole), "2024-03-29T07:42:22.000Z");
    }
}
