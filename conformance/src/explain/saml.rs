//! Explaining one SAML Response: every rule of the SP's ACS checks
//! (signatures, wrapping, issuer, audience, addressing, correlation, status,
//! times, NameID) judged at once, with libxml2 reading and libxmlsec1
//! verifying, the one XML stack of the workspace.

use libxml::parser::Parser;
use libxml::tree::{Document, Node, NodeType};
use mock_idp::saml::faults::SamlFault;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use xmlsec::{XmlSecDocumentExt, XmlSecKey, XmlSecKeyFormat, XmlSecSignatureContext};

use super::rules::{SKEW_TOLERANCE_SECONDS, finding_by_id, saml_finding, saml_note};
use super::{Expectations, ExplainError, Level, Side, Step};

pub const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const NS_XMLENC: &str = "http://www.w3.org/2001/04/xmlenc#";
const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
/// A time off by more than this is a message from another hour (a wrong
/// clock or time zone, or a message kept too long), not skew.
const HOUR_CLASS_SECONDS: i64 = 1800;

/// Explains a SAML Response's XML text.
pub fn explain_response(xml: &str, expect: &Expectations, now: OffsetDateTime) -> Result<Step, ExplainError> {
    let document = Parser::default().parse_string(xml).map_err(|e| ExplainError::NotXml(format!("{e:?}")))?;
    let root = document.get_root_element().ok_or_else(|| ExplainError::NotXml("no root element".into()))?;
    if !is(&root, NS_PROTOCOL, "Response") {
        return Err(ExplainError::NotAResponse(root.get_name()));
    }
    let mut step = Step::new("SAML Response");
    let ids = register_ids(&document, &root);
    let read = children(&root, NS_ASSERTION, "Assertion").into_iter().next();
    let encrypted = children(&root, NS_ASSERTION, "EncryptedAssertion").into_iter().next();
    describe(&mut step, &root, read.as_ref(), encrypted.is_some());

    doctype(&mut step, &root);
    size(&mut step, xml);
    signature_shape(&mut step, &root);
    let signatures = signatures(&root, expect);
    signature_findings(&mut step, &signatures, expect, encrypted.as_ref());
    wrapping(&mut step, &root, &signatures, &ids, read.as_ref());
    issuer(&mut step, &root, read.as_ref(), expect);
    addressing(&mut step, &root, read.as_ref(), expect);
    correlation(&mut step, &root, expect);
    status(&mut step, &root);
    if let Some(assertion) = &read {
        audience(&mut step, assertion, expect);
        times(&mut step, &root, assertion, now);
        session_end(&mut step, assertion);
        name_id(&mut step, assertion);
    }
    if let Some(encrypted) = &encrypted {
        encryption(&mut step, encrypted);
    }
    Ok(step)
}

/// The facts a support engineer compares with the SP's settings first.
fn describe(step: &mut Step, root: &Node, read: Option<&Node>, encrypted: bool) {
    step.fact("ID", root.get_attribute("ID").unwrap_or_default());
    step.fact("Issuer", first_text(root, NS_ASSERTION, "Issuer").unwrap_or_else(|| "(none)".into()));
    step.fact("Destination", root.get_attribute("Destination").unwrap_or_else(|| "(none)".into()));
    step.fact("InResponseTo", root.get_attribute("InResponseTo").unwrap_or_else(|| "(none: IdP-initiated)".into()));
    step.fact("Status", status_code(root).unwrap_or_else(|| "(none)".into()));
    match read {
        Some(assertion) => {
            step.fact("Assertion", assertion.get_attribute("ID").unwrap_or_default());
            if let Some(name_id) = subject_name_id(assertion) {
                step.fact("NameID", name_id.get_content());
            }
            let audiences: Vec<String> = audiences(assertion);
            step.fact("Audience", if audiences.is_empty() { "(none)".into() } else { audiences.join(", ") });
            if let Some(data) = bearer_data(assertion) {
                step.fact("Recipient", data.get_attribute("Recipient").unwrap_or_else(|| "(none)".into()));
            }
            step.fact("IssueInstant", assertion.get_attribute("IssueInstant").unwrap_or_default());
            if let Some(conditions) = children(assertion, NS_ASSERTION, "Conditions").into_iter().next() {
                step.fact(
                    "Valid",
                    format!(
                        "from {} until {}",
                        conditions.get_attribute("NotBefore").unwrap_or_else(|| "(no NotBefore)".into()),
                        conditions.get_attribute("NotOnOrAfter").unwrap_or_else(|| "(no NotOnOrAfter)".into())
                    ),
                );
            }
        }
        None if encrypted => step.fact("Assertion", "encrypted (EncryptedAssertion)"),
        None => step.fact("Assertion", "(none)"),
    }
}

/// What a Signature element is and what verified it.
struct SignatureView {
    node: Node,
    carrier: Option<Node>,
    /// The Reference URIs without their `#`.
    references: Vec<String>,
    method: String,
    digests: Vec<String>,
    key: KeyVerdict,
    certificates: Vec<String>,
    has_key_value: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyVerdict {
    /// A trusted certificate (metadata or `--certificate`) verifies it.
    Trusted,
    /// Only the certificate in its own KeyInfo verifies it.
    OwnCertificate,
    /// An HMAC SignatureMethod: not a public-key signature at all.
    Hmac,
    /// Nothing verifies it.
    Invalid,
}

impl SignatureView {
    fn what(&self) -> String {
        let carrier = self.carrier.as_ref().map_or("(nothing)".to_owned(), |c| {
            format!("{} {}", c.get_name(), c.get_attribute("ID").unwrap_or_default())
        });
        let reference = match self.references.as_slice() {
            [one] => format!("#{one}"),
            many => format!("{} References", many.len()),
        };
        format!("in {carrier}, over {reference}, {}", short_algorithm(&self.method))
    }
}

fn signatures(root: &Node, expect: &Expectations) -> Vec<SignatureView> {
    descendants(root, NS_DSIG, "Signature")
        .into_iter()
        .map(|node| {
            let signed_info = children(&node, NS_DSIG, "SignedInfo").into_iter().next();
            let references: Vec<String> = signed_info
                .as_ref()
                .map(|si| children(si, NS_DSIG, "Reference"))
                .unwrap_or_default()
                .iter()
                .map(|r| r.get_attribute("URI").unwrap_or_default().trim_start_matches('#').to_owned())
                .collect();
            let method = signed_info
                .as_ref()
                .and_then(|si| children(si, NS_DSIG, "SignatureMethod").into_iter().next())
                .and_then(|m| m.get_attribute("Algorithm"))
                .unwrap_or_default();
            let digests = signed_info
                .as_ref()
                .map(|si| descendants(si, NS_DSIG, "DigestMethod"))
                .unwrap_or_default()
                .iter()
                .filter_map(|d| d.get_attribute("Algorithm"))
                .collect();
            let key_info = children(&node, NS_DSIG, "KeyInfo").into_iter().next();
            let certificates: Vec<String> = key_info
                .as_ref()
                .map(|k| descendants(k, NS_DSIG, "X509Certificate"))
                .unwrap_or_default()
                .iter()
                .map(|c| super::metadata::compact(&c.get_content()))
                .collect();
            let has_key_value = key_info.as_ref().is_some_and(|k| !descendants(k, NS_DSIG, "KeyValue").is_empty());
            let key = if method.contains("hmac") {
                KeyVerdict::Hmac
            } else if expect.certificates.iter().any(|c| verifies(&node, c)) {
                KeyVerdict::Trusted
            } else if certificates.iter().any(|c| verifies(&node, c)) {
                KeyVerdict::OwnCertificate
            } else {
                KeyVerdict::Invalid
            };
            SignatureView {
                carrier: node.get_parent(),
                node,
                references,
                method,
                digests,
                key,
                certificates,
                has_key_value,
            }
        })
        .collect()
}

/// Whether libxmlsec1 verifies `signature` with the certificate (base64 DER).
fn verifies(signature: &Node, certificate: &str) -> bool {
    let Ok(key) = XmlSecKey::from_memory(pem_certificate(certificate).as_bytes(), XmlSecKeyFormat::CertPem, None)
    else {
        return false;
    };
    let mut context = XmlSecSignatureContext::new();
    context.insert_key(key);
    context.verify_node(signature).unwrap_or(false)
}

fn pem_certificate(base64_der: &str) -> String {
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in base64_der.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

fn signature_findings(step: &mut Step, signatures: &[SignatureView], expect: &Expectations, encrypted: Option<&Node>) {
    let have_trusted = !expect.certificates.is_empty();
    for signature in signatures {
        let what = signature.what();
        let key = match signature.key {
            KeyVerdict::Trusted => "verified by the trusted certificate",
            KeyVerdict::OwnCertificate if have_trusted => "verified only by the certificate in its own KeyInfo",
            KeyVerdict::OwnCertificate => "intact by the certificate in its own KeyInfo (no trusted certificate given)",
            KeyVerdict::Hmac => "HMAC, keyed by a shared secret",
            KeyVerdict::Invalid => "does not verify",
        };
        step.fact("Signature", format!("{what}: {key}"));
        match signature.key {
            KeyVerdict::Trusted => {}
            KeyVerdict::Hmac => step.findings.push(finding_by_id(
                "saml.sig.hmac_certificate",
                Level::Fail,
                Side::Sp,
                format!(
                    "The signature {what} uses the symmetric SignatureMethod {}; Okta signs with RSA only, so whoever holds the key (the IdP's public certificate, if that was the HMAC key) made it.",
                    signature.method
                ),
            )),
            KeyVerdict::OwnCertificate if have_trusted => step.findings.push(saml_finding(
                SamlFault::UntrustedKey,
                Side::Either,
                format!(
                    "The signature {what} verifies only with the certificate in its own KeyInfo ({}), which is not the trusted one: a forger's key, or the SP pins an old certificate of the app (re-download the metadata after a certificate rollover).",
                    fingerprint_hint(signature.certificates.first().map(String::as_str))
                ),
            )),
            KeyVerdict::OwnCertificate => step.findings.push(saml_note(
                SamlFault::UntrustedKey,
                Side::Sp,
                format!(
                    "The signature {what} is intact, but only by the certificate it carries: give --metadata or --certificate to check that the key is the Okta app's."
                ),
            )),
            KeyVerdict::Invalid if signature.has_key_value && signature.certificates.is_empty() => {
                step.findings.push(finding_by_id(
                    "saml.sig.key_value",
                    Level::Fail,
                    Side::Sp,
                    format!(
                        "The signature {what} does not verify with the trusted certificate, and its KeyInfo carries a bare KeyValue (an RSA key the signer chose) instead of a certificate."
                    ),
                ))
            }
            KeyVerdict::Invalid => step.findings.push(saml_finding(
                SamlFault::BadSignature,
                Side::Either,
                format!(
                    "The signature {what} does not verify{}: the signed content was changed after signing, or the key is not the one given.",
                    if have_trusted { " with the trusted certificate" } else { "" }
                ),
            )),
        }
        let weak = signature.method.ends_with("rsa-sha1") || signature.digests.iter().any(|d| d.ends_with("#sha1"));
        if weak {
            step.findings.push(saml_finding(
                SamlFault::Sha1,
                Side::Okta,
                format!(
                    "The signature {what} uses SHA-1 ({}, digest {}); set the Okta app's Signature Algorithm to RSA-SHA256, and the SP should refuse SHA-1.",
                    signature.method,
                    signature.digests.join(", ")
                ),
            ));
        }
    }
    for signature in signatures {
        reference_and_transforms(step, signature);
    }
    if signatures.is_empty() {
        if encrypted.is_some() {
            step.findings.push(saml_note(
                SamlFault::EncryptedUnsigned,
                Side::Either,
                "The Response carries no signature and its Assertion is encrypted: the SP must find a valid signature on the Assertion once it decrypts it (explain cannot see inside without the SP's private key); an Assertion without one is a forgery anyone can encrypt to the SP.".to_owned(),
            ));
        } else {
            step.findings.push(saml_finding(
                SamlFault::Unsigned,
                Side::Okta,
                "Neither the Response nor the Assertion is signed; Okta always signs, so this message did not come from an Okta app as sent (or a proxy rewrote it).".to_owned(),
            ));
        }
    }
}

/// The Transforms SAML Core 5.4.4 allows in a Reference.
const ALLOWED_TRANSFORMS: [&str; 4] = [
    "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
    "http://www.w3.org/2001/10/xml-exc-c14n#",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    "http://www.w3.org/2006/12/xml-c14n11",
];

/// S-26 and S-27: a Reference that does not name the element carrying the
/// Signature (the whole document, or an element around it), and Transforms
/// outside SAML's profile. Wrapping, where the Reference names an element
/// elsewhere, is judged by [`wrapping`].
fn reference_and_transforms(step: &mut Step, signature: &SignatureView) {
    let what = signature.what();
    let carrier_id = signature.carrier.as_ref().and_then(|c| c.get_attribute("ID")).unwrap_or_default();
    if let [uri] = signature.references.as_slice() {
        let mut around = signature.carrier.as_ref().and_then(Node::get_parent);
        let mut names_an_ancestor = false;
        while let Some(element) = around {
            names_an_ancestor |= element.get_attribute("ID").is_some_and(|id| id == *uri);
            around = element.get_parent();
        }
        if uri.is_empty() || uri.starts_with("xpointer(") {
            step.findings.push(saml_finding(
                SamlFault::ReferenceWholeDocument,
                Side::Sp,
                format!(
                    "The signature {what} references the whole document (URI=\"{uri}\"), not '#{carrier_id}', the element it is on; SAML Core 5.4.2 asks for the ID of the signed element, and an SP that takes such a signature as the element's cannot tell what was signed."
                ),
            ));
        } else if names_an_ancestor && *uri != carrier_id {
            step.findings.push(saml_finding(
                SamlFault::ReferenceOtherElement,
                Side::Sp,
                format!(
                    "The signature {what} references #{uri}, an element around the one it is on (#{carrier_id}); SAML Core 5.4.2 asks for the ID of the element that carries the Signature."
                ),
            ));
        }
    }
    let transforms: Vec<String> = descendants(&signature.node, NS_DSIG, "Transform")
        .iter()
        .filter_map(|t| t.get_attribute("Algorithm"))
        .collect();
    for transform in transforms.iter().filter(|t| !ALLOWED_TRANSFORMS.contains(&t.as_str())) {
        let fault = if transform.ends_with("#WithComments") {
            SamlFault::TransformWithComments
        } else {
            SamlFault::TransformXPath
        };
        step.findings.push(saml_finding(
            fault,
            Side::Sp,
            format!(
                "The signature {what} runs the Transform {transform}, outside the enveloped-signature and c14n-without-comments transforms SAML Core 5.4.4 allows: an XPath or XSLT transform can leave part of the element out of what is signed, and #WithComments signs comments a reader may skip."
            ),
        ));
    }
}

/// Signature wrapping: the element an SP reads is not the element the
/// signature covers. Classified by where the signed element sits, as SAML
/// Raider and the schema-valid variants place it.
fn wrapping(step: &mut Step, root: &Node, signatures: &[SignatureView], ids: &IdTable, read: Option<&Node>) {
    let mut found: Vec<(SamlFault, String)> = Vec::new();
    for (id, elements) in &ids.duplicates {
        // Wrappers are often written without a namespace (`<Object>`,
        // `<Extensions>`), so they are matched by local name.
        let in_object = elements.iter().any(|e| {
            e.ancestors().iter().any(|a| a.get_name() == "Object") && ancestors_named(e, NS_DSIG, "Signature")
        });
        let in_extensions = elements.iter().any(|e| e.ancestors().iter().any(|a| a.get_name() == "Extensions"));
        let fault = if in_object {
            SamlFault::Xsw(8)
        } else if in_extensions {
            SamlFault::Xsw(7)
        } else {
            SamlFault::MultipleAssertions
        };
        found.push((
            fault,
            format!(
                "The ID {id} is carried by {} elements ({}); a signature's Reference can then point at one element while the SP reads another.",
                elements.len(),
                elements.iter().map(path_of).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    // Structural, whether or not the signature verifies: libxmlsec1's
    // enveloped-signature transform already breaks XSW1 and XSW6, but a
    // hand-written verifier may not, and the message is a forgery either way.
    for signature in signatures {
        let [reference] = signature.references.as_slice() else { continue };
        let Some(target) = ids.first.iter().find(|(id, _)| id == reference).map(|(_, n)| n.clone()) else { continue };
        let Some(carrier) = &signature.carrier else { continue };
        if same(&target, carrier) {
            if !is(&target, NS_ASSERTION, "Assertion") {
                continue;
            }
            let parent = target.get_parent();
            let parent_name = parent.as_ref().map(Node::get_name).unwrap_or_default();
            let signed_name = subject_name_id(&target).map(|n| n.get_content()).unwrap_or_default();
            let read_name = read.and_then(subject_name_id).map(|n| n.get_content()).unwrap_or_default();
            let fault = if parent_name == "Advice" {
                Some(SamlFault::XswAdvice)
            } else if parent_name == "StatusDetail" {
                Some(SamlFault::XswStatusDetail)
            } else if parent.as_ref().is_some_and(|p| is(p, NS_ASSERTION, "Assertion")) {
                Some(SamlFault::Xsw(4))
            } else if read.is_some_and(|r| !same(r, &target)) && parent.as_ref().is_some_and(|p| same(p, root)) {
                Some(SamlFault::Xsw(3))
            } else {
                None
            };
            if let Some(fault) = fault {
                found.push((
                    fault,
                    format!(
                        "The signed Assertion {reference} (NameID {signed_name:?}) sits at {}, but the Response's Assertion an SP reads is {} (NameID {read_name:?}), which no signature covers.",
                        path_of(&target),
                        read.and_then(|r| r.get_attribute("ID")).unwrap_or_else(|| "(none)".into())
                    ),
                ));
            }
            continue;
        }
        let inside_signature = target.ancestors().iter().any(|a| same(a, &signature.node));
        let fault = if is(&target, NS_PROTOCOL, "Response") {
            SamlFault::Xsw(if inside_signature { 1 } else { 2 })
        } else if inside_signature && target.ancestors().iter().any(|a| a.get_name() == "Object") {
            SamlFault::Xsw(8)
        } else if inside_signature {
            SamlFault::Xsw(6)
        } else {
            SamlFault::Xsw(5)
        };
        found.push((
            fault,
            format!(
                "The signature in {} {} covers #{reference}, another element ({}), so what the SP reads from {} is not what was signed.",
                carrier.get_name(),
                carrier.get_attribute("ID").unwrap_or_default(),
                path_of(&target),
                carrier.get_name()
            ),
        ));
    }
    let assertions =
        children(root, NS_ASSERTION, "Assertion").len() + children(root, NS_ASSERTION, "EncryptedAssertion").len();
    if found.is_empty() && assertions > 1 {
        found.push((
            SamlFault::MultipleAssertions,
            format!("The Response carries {assertions} Assertions; an SP must accept exactly one, the signed one."),
        ));
    }
    found.dedup_by(|a, b| a.0 == b.0);
    for (fault, explanation) in found {
        step.findings.push(saml_finding(fault, Side::Sp, explanation));
    }
}

fn issuer(step: &mut Step, root: &Node, read: Option<&Node>, expect: &Expectations) {
    let Some(expected) = expect.idp_entity_id.as_ref().or(expect.issuer.as_ref()) else { return };
    let mut issuers = vec![("Response", first_text(root, NS_ASSERTION, "Issuer"))];
    if let Some(assertion) = read {
        issuers.push(("Assertion", first_text(assertion, NS_ASSERTION, "Issuer")));
    }
    for (element, issuer) in issuers {
        match issuer {
            Some(issuer) if issuer.trim() == expected => {}
            Some(issuer) => {
                step.findings.push(saml_finding(
                    SamlFault::WrongIssuer,
                    Side::Either,
                    format!(
                        "The {element} Issuer is {issuer:?}, but the IdP entity id is {expected:?}: the SP is set up with another Okta app's metadata (each app has its own http://www.okta.com/exk… entity id), or the message is for another app."
                    ),
                ));
                return;
            }
            None if element == "Assertion" => {
                step.findings.push(saml_finding(
                    SamlFault::WrongIssuer,
                    Side::Okta,
                    "The Assertion has no Issuer (SAML Core 2.3.3 requires one).".to_owned(),
                ));
                return;
            }
            None => {}
        }
    }
}

fn addressing(step: &mut Step, root: &Node, read: Option<&Node>, expect: &Expectations) {
    let destination = root.get_attribute("Destination");
    let recipient = read.and_then(bearer_data).and_then(|d| d.get_attribute("Recipient"));
    let Some(acs) = &expect.acs_url else {
        if let (Some(destination), Some(recipient)) = (&destination, &recipient)
            && destination != recipient
        {
            step.findings.push(saml_finding(
                SamlFault::WrongRecipient,
                Side::Either,
                format!(
                    "The Destination {destination:?} and the Recipient {recipient:?} differ; one of them is not the SP's ACS URL (give --acs-url to tell which)."
                ),
            ));
        }
        return;
    };
    if let Some(destination) = &destination
        && destination != acs
    {
        step.findings.push(saml_finding(
            SamlFault::WrongDestination,
            Side::Either,
            format!(
                "The Destination is {destination:?}, but the SP's ACS URL is {acs:?}: set the Okta app's Single sign-on URL to the SP's ACS URL exactly (scheme, host, port, path and trailing slash), or fix the ACS URL the SP expects."
            ),
        ));
    }
    if read.is_some() {
        match &recipient {
            Some(recipient) if recipient == acs => {}
            Some(recipient) => step.findings.push(saml_finding(
                SamlFault::WrongRecipient,
                Side::Okta,
                format!(
                    "The SubjectConfirmationData Recipient is {recipient:?}, but the SP's ACS URL is {acs:?}: the Okta app's Recipient URL (under \"Use this for Recipient URL and Destination URL\") must be the ACS URL."
                ),
            )),
            None => step.findings.push(read.map_or_else(
                || {
                    saml_finding(
                        SamlFault::WrongRecipient,
                        Side::Okta,
                        "The Assertion has no bearer SubjectConfirmationData with a Recipient.".to_owned(),
                    )
                },
                confirmation_problem,
            )),
        }
    }
}

fn correlation(step: &mut Step, root: &Node, expect: &Expectations) {
    let in_response_to = root.get_attribute("InResponseTo");
    match (&expect.request_id, &in_response_to) {
        (Some(expected), Some(actual)) if expected != actual => step.findings.push(saml_finding(
            SamlFault::InResponseToMismatch,
            Side::Sp,
            format!(
                "InResponseTo is {actual:?}, but the SP's AuthnRequest had ID {expected:?}: the response answers another request (another tab or browser, or the SP lost the request it stored with the session cookie)."
            ),
        )),
        (Some(expected), None) => step.findings.push(finding_by_id(
            "saml.sso.unsolicited_disabled",
            Level::Note,
            Side::Either,
            format!(
                "The SP sent AuthnRequest {expected:?}, but the response has no InResponseTo: it is unsolicited (IdP-initiated, from the Okta dashboard), which an SP may refuse while waiting for its own request's answer."
            ),
        )),
        _ => {}
    }
}

fn status(step: &mut Step, root: &Node) {
    let Some(code) = status_code(root) else { return };
    if code == STATUS_SUCCESS {
        return;
    }
    let second = status_node(root)
        .and_then(|s| children(&s, NS_PROTOCOL, "StatusCode").into_iter().next())
        .and_then(|c| c.get_attribute("Value"))
        .unwrap_or_default();
    let message = first_text(root, NS_PROTOCOL, "StatusMessage").unwrap_or_default();
    step.findings.push(saml_finding(
        SamlFault::StatusResponder,
        Side::Okta,
        format!(
            "The top-level StatusCode is {code} {second} {message:?}: Okta refused the sign-in (the user not assigned to the app, or the AuthnRequest refused); the SP must show an error and never read an Assertion from it."
        ),
    ));
}

fn audience(step: &mut Step, assertion: &Node, expect: &Expectations) {
    let audiences = audiences(assertion);
    if audiences.is_empty() {
        step.findings.push(saml_finding(
            SamlFault::MissingAudience,
            Side::Okta,
            "The Assertion has no AudienceRestriction: set the Okta app's Audience URI (SP Entity ID) to the SP's entity id.".to_owned(),
        ));
        return;
    }
    if let Some(expected) = &expect.audience
        && !audiences.iter().any(|a| a == expected)
    {
        step.findings.push(saml_finding(
            SamlFault::WrongAudience,
            Side::Either,
            format!(
                "The Audience is {:?}, but the SP's entity id is {expected:?}: set the Okta app's Audience URI (SP Entity ID) to exactly the SP's entity id, or fix the entity id the SP expects.",
                audiences.join(", ")
            ),
        ));
    }
}

fn times(step: &mut Step, root: &Node, assertion: &Node, now: OffsetDateTime) {
    let conditions = children(assertion, NS_ASSERTION, "Conditions").into_iter().next();
    let data = bearer_data(assertion);
    let mut ends: Vec<(String, OffsetDateTime)> = Vec::new();
    let mut starts: Vec<(String, OffsetDateTime)> = Vec::new();
    let read_time = |node: Option<&Node>, attribute: &str, label: &str, into: &mut Vec<(String, OffsetDateTime)>| {
        if let Some(text) = node.and_then(|n| n.get_attribute(attribute))
            && let Ok(at) = OffsetDateTime::parse(&text, &Rfc3339)
        {
            into.push((format!("{label} {attribute}"), at));
        }
    };
    read_time(conditions.as_ref(), "NotOnOrAfter", "Conditions", &mut ends);
    read_time(data.as_ref(), "NotOnOrAfter", "SubjectConfirmationData", &mut ends);
    read_time(conditions.as_ref(), "NotBefore", "Conditions", &mut starts);
    read_time(Some(root), "IssueInstant", "Response", &mut starts);
    let passed: Vec<&(String, OffsetDateTime)> = ends.iter().filter(|(_, at)| *at <= now).collect();
    if let Some((label, end)) = passed.iter().min_by_key(|(_, at)| *at) {
        let late = (now - *end).whole_seconds().max(1);
        let inside_tolerance = late <= SKEW_TOLERANCE_SECONDS;
        let when = format!(
            "{label} {} passed {} before {}",
            super::render::instant(*end),
            seconds(late),
            super::render::instant(now)
        );
        if passed.len() < ends.len() {
            // One window passed while the other is current: an SP that
            // checks only one of the two (SAML Profiles 4.1.4.2 and Core
            // 2.5.1.2 each require their own) takes it.
            let (fault, other) = if label.starts_with("Conditions") {
                (SamlFault::ExpiredConditions, "the SubjectConfirmationData's NotOnOrAfter is still current")
            } else {
                (SamlFault::ExpiredConfirmation, "the Conditions are still current")
            };
            let explanation = format!(
                "{when}, while {other}: the SP must check both windows, and the message was used too late or a clock is wrong."
            );
            step.findings.push(if inside_tolerance {
                saml_note(fault, Side::Either, explanation)
            } else {
                saml_finding(fault, Side::Either, explanation)
            });
        } else {
            let fault = if late > HOUR_CLASS_SECONDS { SamlFault::Expired } else { SamlFault::Skew(-late) };
            if inside_tolerance {
                step.findings.push(saml_note(
                    fault,
                    Side::Sp,
                    format!("{when}: inside a 60 to 180 s skew tolerance, so the SP should still take it if it allows that much."),
                ));
            } else {
                step.findings.push(saml_finding(
                    fault,
                    Side::Either,
                    format!("{when}: the message was used too late (a response kept or replayed), or a clock (the SP's, or the one --at names) is wrong."),
                ));
            }
        }
    }
    if let Some((label, start)) = starts.iter().max_by_key(|(_, at)| *at)
        && *start > now
    {
        let early = (*start - now).whole_seconds().max(1);
        let (fault, note) = if early > HOUR_CLASS_SECONDS {
            (SamlFault::NotYetValid, false)
        } else if early > SKEW_TOLERANCE_SECONDS {
            (SamlFault::Skew(early), false)
        } else {
            (SamlFault::Skew(early), true)
        };
        let explanation = format!(
            "{label} {} is {} after {}: {}",
            super::render::instant(*start),
            seconds(early),
            super::render::instant(now),
            if note {
                "inside a 60 to 180 s skew tolerance; an SP with no tolerance refuses it, so allow some (and keep the SP's clock on NTP)."
            } else {
                "the clocks disagree by more than any skew tolerance: check the SP's clock and time zone (NTP)."
            }
        );
        step.findings.push(if note {
            saml_note(fault, Side::Sp, explanation)
        } else {
            saml_finding(fault, Side::Either, explanation)
        });
    }
}

fn name_id(step: &mut Step, assertion: &Node) {
    let Some(name_id) = subject_name_id(assertion) else { return };
    let has_comment = name_id.get_child_nodes().iter().any(|c| c.get_type() == Some(NodeType::CommentNode));
    if has_comment {
        let first_text = name_id.get_child_nodes().into_iter().find(Node::is_text_node).map(|t| t.get_content());
        step.findings.push(saml_finding(
            SamlFault::CommentInNameId,
            Side::Sp,
            format!(
                "The NameID holds an XML comment: its whole text is {:?}, but an SP that reads only the first text node sees {:?}.",
                name_id.get_content(),
                first_text.unwrap_or_default()
            ),
        ));
    }
}

fn encryption(step: &mut Step, encrypted: &Node) {
    let algorithms: Vec<String> = descendants(encrypted, NS_XMLENC, "EncryptionMethod")
        .iter()
        .filter_map(|m| m.get_attribute("Algorithm"))
        .collect();
    step.fact("Encryption", algorithms.iter().map(|a| short_algorithm(a)).collect::<Vec<_>>().join(", "));
    if algorithms.iter().any(|a| a == RSA_1_5) {
        step.findings.push(saml_finding(
            SamlFault::LegacyEncryption,
            Side::Either,
            format!(
                "The assertion's key is encrypted with rsa-1_5 (PKCS#1 v1.5), which lets an attacker decrypt what was sent to the SP; algorithms: {}. Okta's current settings use RSA-OAEP; the SP should refuse rsa-1_5.",
                algorithms.iter().map(|a| short_algorithm(a)).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
}

fn doctype(step: &mut Step, root: &Node) {
    let mut sibling = root.get_prev_sibling();
    while let Some(node) = sibling {
        if node.get_type() == Some(NodeType::DTDNode) {
            step.findings.push(saml_finding(
                SamlFault::DoctypeEntity,
                Side::Sp,
                "The document has a DOCTYPE; Okta never sends one, and an SP must refuse any DTD before parsing further (entity expansion, XXE).".to_owned(),
            ));
            return;
        }
        sibling = node.get_prev_sibling();
    }
}

/// P-18: an AuthnStatement's SessionNotOnOrAfter breaks no rule by itself,
/// but the SP must end the session it makes then; the note names the check
/// that looks.
fn session_end(step: &mut Step, assertion: &Node) {
    for statement in children(assertion, NS_ASSERTION, "AuthnStatement") {
        if let Some(end) = statement.get_attribute("SessionNotOnOrAfter") {
            step.findings.push(saml_note(
                SamlFault::ShortSession,
                Side::Sp,
                format!(
                    "The AuthnStatement says SessionNotOnOrAfter {end}: the SP must end the session it makes at that instant, whatever its own session lifetime (Okta itself sends none)."
                ),
            ));
        }
    }
}

/// The largest Response XML taken as ordinary: Okta's are a few KB, tens of
/// KB with many groups, and base64 and form encoding make 512 KiB of XML a
/// POST body of about 700 KB, near the limits SPs set (the reference SP's is
/// 768 KiB, ruby-saml's 250 KB).
const OVERSIZED_XML_BYTES: usize = 512 * 1024;

/// S-31: a message so large that an SP should refuse it by its size before
/// decoding or parsing it.
fn size(step: &mut Step, xml: &str) {
    if xml.len() > OVERSIZED_XML_BYTES {
        step.findings.push(saml_finding(
            SamlFault::Oversized,
            Side::Either,
            format!(
                "The Response is {} bytes of XML, far beyond the few KB Okta sends (tens of KB with many groups): an SP should refuse a body this large before decoding or parsing it, and on Okta's side an attribute statement or group filter this large is a misconfiguration.",
                xml.len()
            ),
        ));
    }
}

/// Every element with an ID, the first of each in document order (the one
/// libxml2 resolves a Reference to), and the IDs carried more than once.
struct IdTable {
    first: Vec<(String, Node)>,
    duplicates: Vec<(String, Vec<Node>)>,
}

fn register_ids(document: &Document, root: &Node) -> IdTable {
    let mut all: Vec<Node> = vec![root.clone()];
    all.extend(all_elements(root));
    let mut first: Vec<(String, Node)> = Vec::new();
    let mut duplicates: Vec<(String, Vec<Node>)> = Vec::new();
    for element in all {
        let Some(id) = element.get_attribute("ID") else { continue };
        if let Some((_, existing)) = first.iter().find(|(known, _)| *known == id) {
            match duplicates.iter_mut().find(|(known, _)| *known == id) {
                Some((_, list)) => list.push(element),
                None => duplicates.push((id, vec![existing.clone(), element])),
            }
            continue;
        }
        // The XPath selects this ID's first element only; an ID with a quote
        // cannot be written in it and stays unregistered (its Reference then
        // fails, which the signature finding reports).
        if !id.contains('\'') {
            let _ = document.specify_idattr(&format!("(//*[@ID='{id}'])[1]"), "ID", None);
        }
        first.push((id, element));
    }
    IdTable { first, duplicates }
}

/// Every descendant element of `node`, in document order.
fn all_elements(node: &Node) -> Vec<Node> {
    let mut out = Vec::new();
    for child in node.get_child_elements() {
        out.push(child.clone());
        out.extend(all_elements(&child));
    }
    out
}

/// The descendant elements of `node` named `name` in `namespace`, in
/// document order.
pub(crate) fn descendants(node: &Node, namespace: &str, name: &str) -> Vec<Node> {
    all_elements(node).into_iter().filter(|e| is(e, namespace, name)).collect()
}

fn children(node: &Node, namespace: &str, name: &str) -> Vec<Node> {
    node.get_child_elements().into_iter().filter(|e| is(e, namespace, name)).collect()
}

fn is(node: &Node, namespace: &str, name: &str) -> bool {
    node.get_name() == name && node.get_namespace().is_some_and(|ns| ns.get_href() == namespace)
}

fn same(a: &Node, b: &Node) -> bool {
    a.to_hashable() == b.to_hashable()
}

fn ancestors_named(node: &Node, namespace: &str, name: &str) -> bool {
    node.ancestors().iter().any(|a| is(a, namespace, name))
}

fn first_text(node: &Node, namespace: &str, name: &str) -> Option<String> {
    children(node, namespace, name).into_iter().next().map(|n| n.get_content())
}

fn status_node(root: &Node) -> Option<Node> {
    children(root, NS_PROTOCOL, "Status").into_iter().next()
}

fn status_code(root: &Node) -> Option<String> {
    status_node(root)
        .and_then(|s| children(&s, NS_PROTOCOL, "StatusCode").into_iter().next())
        .and_then(|c| c.get_attribute("Value"))
}

fn subject_name_id(assertion: &Node) -> Option<Node> {
    children(assertion, NS_ASSERTION, "Subject")
        .into_iter()
        .next()
        .and_then(|s| children(&s, NS_ASSERTION, "NameID").into_iter().next())
}

fn bearer_data(assertion: &Node) -> Option<Node> {
    let subject = children(assertion, NS_ASSERTION, "Subject").into_iter().next()?;
    children(&subject, NS_ASSERTION, "SubjectConfirmation")
        .into_iter()
        .filter(|c| c.get_attribute("Method").as_deref() == Some(BEARER))
        .find_map(|c| children(&c, NS_ASSERTION, "SubjectConfirmationData").into_iter().next())
}

fn audiences(assertion: &Node) -> Vec<String> {
    children(assertion, NS_ASSERTION, "Conditions")
        .iter()
        .flat_map(|c| children(c, NS_ASSERTION, "AudienceRestriction"))
        .flat_map(|r| children(&r, NS_ASSERTION, "Audience"))
        .map(|a| a.get_content().trim().to_owned())
        .collect()
}

/// Where an element is, as a path of element names from the root.
fn path_of(node: &Node) -> String {
    let mut names: Vec<String> =
        node.ancestors().iter().rev().filter(|a| a.is_element_node()).map(Node::get_name).collect();
    names.push(node.get_name());
    format!("/{}", names.join("/"))
}

/// The fragment of an algorithm URI (`rsa-sha256`), the part a reader knows.
fn short_algorithm(uri: &str) -> &str {
    uri.rsplit_once('#').map_or(uri, |(_, name)| name)
}

fn fingerprint_hint(certificate: Option<&str>) -> String {
    // Characters, not bytes: the text comes from the message and need not
    // be ASCII.
    match certificate {
        Some(text) if text.chars().count() > 16 => {
            format!("a certificate beginning {}…", text.chars().take(16).collect::<String>())
        }
        Some(text) => text.to_owned(),
        None => "none".to_owned(),
    }
}

fn seconds(count: i64) -> String {
    if count >= 120 { format!("{} min {} s", count / 60, count % 60) } else { format!("{count} s") }
}

/// What a hand-written verifier misreads in a Signature's own structure: a
/// comment inside DigestValue (the first text node is not the whole value),
/// a second SignedInfo, or a DigestValue outside its Reference.
fn signature_shape(step: &mut Step, root: &Node) {
    for digest in descendants(root, NS_DSIG, "DigestValue") {
        let nodes = digest.get_child_nodes();
        if nodes.iter().any(|c| c.get_type() == Some(NodeType::CommentNode)) {
            let first = nodes.iter().find(|n| n.is_text_node()).map(|t| t.get_content()).unwrap_or_default();
            step.findings.push(finding_by_id(
                "saml.sig.digest_comment",
                Level::Fail,
                Side::Sp,
                format!(
                    "A DigestValue holds an XML comment: its whole text is {:?}, but a verifier that reads only the first text node compares {first:?}.",
                    digest.get_content()
                ),
            ));
        }
        let in_reference = digest.get_parent().is_some_and(|p| is(&p, NS_DSIG, "Reference"))
            && digest.ancestors().iter().any(|a| is(a, NS_DSIG, "SignedInfo"));
        if !in_reference {
            step.findings.push(finding_by_id(
                "saml.sig.extra_digest_value",
                Level::Fail,
                Side::Sp,
                format!(
                    "A DigestValue stands at {}, outside any signature's SignedInfo/Reference: a verifier that takes the first DigestValue in the document compares the wrong digest.",
                    path_of(&digest)
                ),
            ));
        }
    }
    for signature in descendants(root, NS_DSIG, "Signature") {
        let signed_infos = signature.get_child_elements().into_iter().filter(|c| c.get_name() == "SignedInfo").count();
        if signed_infos > 1 {
            step.findings.push(finding_by_id(
                "saml.sig.second_signed_info",
                Level::Fail,
                Side::Sp,
                format!(
                    "The Signature at {} has {signed_infos} SignedInfo elements; XML Signature allows exactly one, and a verifier that checks one but digests by the other is fooled.",
                    path_of(&signature)
                ),
            ));
        }
    }
}

/// Why an Assertion has no bearer SubjectConfirmationData with a Recipient:
/// the Web Browser SSO profile (SAML Profiles 4.1.4.2) needs a bearer
/// confirmation with its data; holder-of-key and sender-vouches confirm
/// nothing a browser POST can prove.
fn confirmation_problem(assertion: &Node) -> super::Finding {
    let methods: Vec<String> = children(assertion, NS_ASSERTION, "Subject")
        .iter()
        .flat_map(|s| children(s, NS_ASSERTION, "SubjectConfirmation"))
        .filter_map(|c| c.get_attribute("Method"))
        .collect();
    let has_bearer = methods.iter().any(|m| m == BEARER);
    let shown = if methods.is_empty() { "none".to_owned() } else { methods.join(", ") };
    let (id, what) = if has_bearer {
        (
            "saml.subject.without_data",
            "its bearer SubjectConfirmation has no SubjectConfirmationData (no Recipient, NotOnOrAfter or InResponseTo to check)",
        )
    } else if methods.iter().any(|m| m.ends_with(":cm:holder-of-key")) {
        (
            "saml.subject.holder_of_key",
            "its only SubjectConfirmation is holder-of-key, which the browser POST cannot prove",
        )
    } else if methods.iter().any(|m| m.ends_with(":cm:sender-vouches")) {
        (
            "saml.subject.sender_vouches",
            "its only SubjectConfirmation is sender-vouches, which trusts whoever posted it",
        )
    } else {
        ("saml.subject.recipient", "it has no bearer SubjectConfirmation")
    };
    finding_by_id(
        id,
        Level::Fail,
        Side::Okta,
        format!(
            "The Assertion cannot be confirmed by the Web Browser SSO profile (SAML Profiles 4.1.4.2): {what} (methods: {shown})."
        ),
    )
}
