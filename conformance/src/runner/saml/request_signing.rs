//! Signed AuthnRequests (issue 16): an SP that declares
//! `AuthnRequestsSigned="true"` (in its metadata, or the target's
//! `saml.authn_requests_signed`) must sign every AuthnRequest with the key
//! of the certificate it declares, as Okta's "Signed Requests" app option
//! checks.
//!
//! Two things follow from the declaration. Before any check runs, the suite
//! turns Signed Requests on for the target's app with the SP's certificate
//! (when the org file has not), so the mock refuses an unsigned or wrongly
//! signed AuthnRequest with Okta's error page, as an Okta app set up from
//! the SP's metadata would. And `saml.authn_request.signed` captures the
//! AuthnRequest the SP's login URL sends, before the mock sees it, and
//! verifies it with the declared certificate through the mock's own
//! verifier (`mock_idp::saml::request_signature`): HTTP-Redirect's detached
//! signature over the raw query, or HTTP-POST's enveloped signature on the
//! AuthnRequest.

use libxml::parser::Parser;
use mock_idp::saml::authn_request::{self, Binding};
use mock_idp::saml::request_signature::{self, RequestSignatureError};

use super::{OutgoingRequest, SamlDriver, mock_form_fields};
use crate::runner::browser::SpAnswer;
use crate::runner::{Evidence, Outcome, SamlEvidence, Step, StepError, Suite, excerpt};

const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// What the SP declares about signing its AuthnRequests.
#[derive(Clone, Debug)]
pub(in crate::runner) enum DeclaredRequestSigning {
    /// The SP says it signs them.
    Signs {
        /// Where that was said: the target or the metadata.
        declared_in: String,
        /// The certificates (PEM) a signature must verify with, any one.
        certificates: Vec<String>,
        /// Where the certificates came from.
        certificates_from: String,
    },
    /// The SP does not say it signs them; why that is known.
    NotDeclared(String),
}

/// Reads the declaration: the target's `saml.authn_requests_signed` first,
/// then the metadata's `AuthnRequestsSigned`; the certificates from the
/// metadata's signing `KeyDescriptor`s, else the org app's
/// `request_signing_certificate`, else the target's `slo_certificate_file`
/// (Okta's one Signature Certificate serves both).
pub(in crate::runner) async fn read_declaration(suite: &Suite) -> Result<DeclaredRequestSigning, String> {
    let Some(saml) = &suite.target.saml else {
        return Ok(DeclaredRequestSigning::NotDeclared("the target declares no [saml] section".into()));
    };
    if saml.authn_requests_signed == Some(false) {
        return Ok(DeclaredRequestSigning::NotDeclared(
            "the target declares saml.authn_requests_signed = false".into(),
        ));
    }
    let metadata = match &saml.metadata_url {
        Some(url) => {
            let browser = suite.browser().map_err(|StepError(why)| why)?;
            let answer = browser.get(url).await.map_err(|StepError(why)| why)?;
            if answer.status != 200 {
                return Err(format!("the SP metadata URL {url} answered {}", answer.status));
            }
            Some((url, super::metadata::request_signing(&answer.body)?))
        }
        None => None,
    };
    let declared_in = match (saml.authn_requests_signed, &metadata) {
        (Some(true), _) => "the target's saml.authn_requests_signed".to_owned(),
        (_, Some((url, read))) if read.authn_requests_signed => {
            format!("the SP's metadata at {url} (AuthnRequestsSigned=\"true\")")
        }
        (_, Some((url, _))) => {
            return Ok(DeclaredRequestSigning::NotDeclared(format!(
                "the SP's metadata at {url} does not declare AuthnRequestsSigned=\"true\", so its AuthnRequests may go unsigned"
            )));
        }
        (_, None) => {
            return Ok(DeclaredRequestSigning::NotDeclared(
                "the target gives neither saml.authn_requests_signed nor a saml.metadata_url declaring AuthnRequestsSigned, so the SP is not taken to sign its AuthnRequests".into(),
            ));
        }
    };
    let from_metadata: Vec<String> = metadata
        .as_ref()
        .map(|(_, read)| read.signing_certificates.iter().map(|c| super::encryption::pem(c)).collect())
        .unwrap_or_default();
    if !from_metadata.is_empty() {
        return Ok(DeclaredRequestSigning::Signs {
            declared_in,
            certificates: from_metadata,
            certificates_from: "the SP's metadata (KeyDescriptor use=\"signing\")".into(),
        });
    }
    let app = suite.saml.as_ref().map(|a| a.id.clone()).unwrap_or_default();
    let in_org = suite
        .idp
        .read_org(|org| org.find_app(&app).and_then(|a| a.saml()).and_then(|s| s.request_signing_certificate.clone()));
    if let Some(certificate) = in_org {
        return Ok(DeclaredRequestSigning::Signs {
            declared_in,
            certificates: vec![certificate],
            certificates_from: "the org app's request_signing_certificate".into(),
        });
    }
    if let Some(file) = &saml.slo_certificate_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("saml.slo_certificate_file {} cannot be read: {e}", file.display()))?;
        if !text.contains("-----BEGIN CERTIFICATE-----") {
            return Err(format!("saml.slo_certificate_file {} is not a PEM certificate", file.display()));
        }
        return Ok(DeclaredRequestSigning::Signs {
            declared_in,
            certificates: vec![text],
            certificates_from: "the target's saml.slo_certificate_file".into(),
        });
    }
    Err(format!(
        "the SP signs its AuthnRequests by {declared_in}, but no signing certificate is known: the metadata has no signing KeyDescriptor, the org app no request_signing_certificate, the target no saml.slo_certificate_file"
    ))
}

/// Turns Okta's Signed Requests on for the target's app with the SP's first
/// declared certificate, when the SP declares signing and the org file has
/// not set it: the mock then refuses an AuthnRequest that certificate did
/// not sign, as an Okta app set up from the metadata does. An app that
/// already has a certificate keeps it.
pub(in crate::runner) fn require_signed_requests(suite: &Suite, declared: &DeclaredRequestSigning) {
    let DeclaredRequestSigning::Signs { certificates, .. } = declared else { return };
    let (Some(app), Some(certificate)) = (suite.saml.as_ref(), certificates.first()) else { return };
    suite.idp.write_org(|org| {
        let id = org.find_app(&app.id).map(|a| a.id.clone());
        if let Some(settings) = id.and_then(|id| org.apps.get_mut(&id)).and_then(|a| a.saml_mut())
            && settings.request_signing_certificate.is_none()
        {
            settings.request_signing_certificate = Some(certificate.clone());
        }
    });
}

/// What the captured AuthnRequest's signature came to.
struct Judged {
    /// The signature algorithm the request names (`SigAlg`, or the
    /// enveloped signature's SignatureMethod), if any.
    algorithm: Option<String>,
    /// `None` when it verifies with a declared certificate; otherwise what
    /// is wrong.
    problem: Option<String>,
}

/// Verifies the request with each certificate; one that verifies is enough.
fn judge(request: &OutgoingRequest, xml: &str, certificates: &[String]) -> Step<Judged> {
    let query = match request {
        OutgoingRequest::Redirect { location } => location.split_once('?').map(|(_, q)| q).unwrap_or_default(),
        OutgoingRequest::Post { .. } => "",
    };
    let algorithm = match request {
        OutgoingRequest::Redirect { .. } => url::form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "SigAlg")
            .map(|(_, value)| value.into_owned()),
        OutgoingRequest::Post { .. } => enveloped_algorithm(xml),
    };
    // HTTP-Redirect's signature covers the query's own encoded bytes, so
    // the raw query is verified, never decoded values.
    let verify = |pem: &str| match request {
        OutgoingRequest::Redirect { .. } => request_signature::verify_redirect(query, pem),
        OutgoingRequest::Post { .. } => request_signature::verify_post(xml, pem),
    };
    let mut refusals = Vec::new();
    for certificate in certificates {
        match verify(certificate) {
            Ok(()) => return Ok(Judged { algorithm, problem: None }),
            Err(refusal) => refusals.push(refusal),
        }
    }
    // A refusal that does not depend on the key says the most; a key that
    // cannot be loaded is the suite's problem, not the SP's.
    let problem = if refusals.contains(&RequestSignatureError::Unsigned) {
        match request {
            OutgoingRequest::Redirect { .. } => "it is unsigned: the query carries no SigAlg and Signature".to_owned(),
            OutgoingRequest::Post { .. } => {
                "it is unsigned: the AuthnRequest has no enveloped ds:Signature of its own".to_owned()
            }
        }
    } else if let Some(RequestSignatureError::Algorithm(uri)) =
        refusals.iter().find(|r| matches!(r, RequestSignatureError::Algorithm(_)))
    {
        format!("its signature algorithm {uri} is not one Okta's Signed Requests take (RSA-SHA256 or stronger)")
    } else if refusals.contains(&RequestSignatureError::Invalid) {
        format!(
            "its signature does not verify with the declared signing certificate{}",
            if certificates.len() > 1 { "s" } else { "" }
        )
    } else {
        return Err(StepError("the SP's declared signing certificate cannot be loaded as an RSA certificate".into()));
    };
    Ok(Judged { algorithm, problem: Some(problem) })
}

/// The SignatureMethod of the enveloped signature on the request's root.
fn enveloped_algorithm(xml: &str) -> Option<String> {
    let document = Parser::default().parse_string(xml).ok()?;
    let root = document.get_root_element()?;
    let in_dsig = |node: &libxml::tree::Node, name: &str| {
        node.get_name() == name && node.get_namespace().is_some_and(|ns| ns.get_href() == NS_DSIG)
    };
    let signature = root.get_child_elements().into_iter().find(|n| in_dsig(n, "Signature"))?;
    let signed_info = signature.get_child_elements().into_iter().find(|n| in_dsig(n, "SignedInfo"))?;
    let method = signed_info.get_child_elements().into_iter().find(|n| in_dsig(n, "SignatureMethod"))?;
    method.get_attribute_no_ns("Algorithm")
}

/// The AuthnRequest's XML, decoded as the binding says.
fn request_xml(request: &OutgoingRequest) -> Step<String> {
    let (encoded, binding) = match request {
        OutgoingRequest::Redirect { location } => {
            let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
            let value = url::form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name == "SAMLRequest")
                .map(|(_, value)| value.into_owned());
            (value, Binding::Redirect)
        }
        OutgoingRequest::Post { fields, .. } => {
            (fields.iter().find(|(name, _)| name == "SAMLRequest").map(|(_, v)| v.clone()), Binding::Post)
        }
    };
    let encoded = encoded.ok_or_else(|| StepError("the request to the IdP carries no SAMLRequest".into()))?;
    authn_request::decode(&encoded, binding)
        .map_err(|e| StepError(format!("the SP's SAMLRequest cannot be read ({}): {e}", request.binding())))
}

/// Evidence for the request: its XML, and the SP's answer that carried it.
fn request_evidence(xml: &str, carried_by: &SpAnswer, oracle: String) -> Option<Evidence> {
    Some(Evidence::Saml(SamlEvidence {
        message: Some(excerpt(&super::compact_message(xml), 4096)),
        sp_status: Some(carried_by.status),
        sp_location: carried_by.location.clone(),
        sp_body_excerpt: Some(excerpt(&carried_by.body, 500)),
        oracle,
    }))
}

impl SamlDriver<'_> {
    /// `saml.authn_request.signed`: the canary's SP-initiated sign-in, with
    /// the AuthnRequest verified on its way to the mock. It passes only when
    /// the signature verifies and the sign-in then gives the canary a
    /// session (its positive control).
    pub(super) async fn signed_authn_request(&self) -> Step<Outcome> {
        let (declared_in, certificates, certificates_from) = match self.suite.declared_request_signing().await {
            Ok(DeclaredRequestSigning::Signs { declared_in, certificates, certificates_from }) => {
                (declared_in, certificates, certificates_from)
            }
            Ok(DeclaredRequestSigning::NotDeclared(reason)) => return Ok(Outcome::skip(reason)),
            Err(problem) => return Err(StepError(format!("what the SP declares about signing: {problem}"))),
        };
        let user = &self.canary("canary", None)?;
        self.suite.ensure_account(user).await?;
        let browser = self.suite.browser()?;
        let (request, carried_by) = self.outgoing_request(&browser).await?.map_err(StepError)?;
        let xml = request_xml(&request)?;
        let judged = judge(&request, &xml, &certificates)?;
        let binding = request.binding();
        // The URI's fragment names the algorithm (`rsa-sha256`) readably.
        let algorithm = match judged.algorithm.as_deref() {
            Some(uri) => uri.rsplit_once('#').map_or(uri, |(_, name)| name).to_owned(),
            None => "no algorithm".to_owned(),
        };
        // The mock, with Signed Requests on, answers the request as Okta
        // would; its answer is part of the evidence either way.
        let page = self.deliver_request(&browser, &request, user).await?;
        if let Some(problem) = judged.problem {
            let mock = if page.status == 200 {
                "the mock took it (the org app does not require signed requests)".to_owned()
            } else {
                format!(
                    "the mock, as Okta with Signed Requests on, refused it: {} {}",
                    page.status,
                    super::mock_error_code(&page.body).unwrap_or_else(|| excerpt(&page.body, 200))
                )
            };
            return Ok(Outcome::fail(
                format!(
                    "the SP declares it signs its AuthnRequests ({declared_in}), but its {binding} AuthnRequest ({algorithm}) {problem}; certificates from {certificates_from}; {mock}"
                ),
                request_evidence(&xml, &carried_by, "not asked: the AuthnRequest itself is judged".into()),
            ));
        }
        if page.status != 200 {
            return Err(StepError(format!(
                "positive control failed: the {binding} AuthnRequest verifies with the SP's certificate, but the mock refused it: {} {}",
                page.status,
                super::mock_error_code(&page.body).unwrap_or_else(|| excerpt(&page.body, 200))
            )));
        }
        let (action, response, relay) = mock_form_fields(&page.body)?;
        let answer = self.post(&browser, &action, &response, &relay).await?;
        let seen = self.suite.oracle(&browser).await?;
        if !seen.is(&user.email) {
            return Err(StepError(format!(
                "positive control failed: the {binding} AuthnRequest verifies, but the sign-in for {} gave {} (SP answered {} {})",
                user.email,
                seen.describe(),
                answer.status,
                excerpt(&answer.body, 200)
            )));
        }
        Ok(Outcome::pass(format!(
            "the {binding} AuthnRequest is signed ({algorithm}) and verifies with the certificate from {certificates_from}, as {declared_in} declares; the canary signed in"
        )))
    }
}
