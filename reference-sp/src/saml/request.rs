//! AuthnRequests for SP-initiated sign-in, sent with the HTTP-Redirect
//! binding (deflated, in the query) or the HTTP-POST binding (base64, in an
//! auto-submitting form). With the tenant's signing key, the request is
//! signed as SAML Bindings says for each binding: RSA-SHA256 over the
//! encoded query (`SAMLRequest`, `RelayState`, `SigAlg`, 3.4.4.1), or an
//! enveloped XML signature on the AuthnRequest (3.5.4).

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{SamlError, xml_escape};

/// The signature algorithm of signed AuthnRequests.
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

/// An AuthnRequest posted to the IdP by the browser (SAML Bindings 3.5):
/// the form's action and its two fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostedAuthnRequest {
    pub action: String,
    /// The request, base64 (not deflated, as the POST binding says).
    pub saml_request: String,
    pub relay_state: String,
}

/// Builds the POST-binding form fields for a new AuthnRequest.
pub fn posted(
    sso_url: &str,
    request_id: &str,
    sp_entity_id: &str,
    acs_url: &str,
    relay_state: &str,
    now: OffsetDateTime,
    signing_key: Option<&str>,
) -> Result<PostedAuthnRequest, SamlError> {
    let mut xml = authn_request_xml(sso_url, request_id, sp_entity_id, acs_url, now);
    if let Some(key) = signing_key {
        xml = sign_enveloped(&xml, request_id, key)?;
    }
    Ok(PostedAuthnRequest {
        action: sso_url.to_owned(),
        saml_request: BASE64.encode(xml.as_bytes()),
        relay_state: relay_state.to_owned(),
    })
}

/// Signs the AuthnRequest with an enveloped signature after its Issuer, as
/// SAML Core 5.4 places it, with libxmlsec1.
fn sign_enveloped(xml: &str, request_id: &str, key_pem: &str) -> Result<String, SamlError> {
    use xmlsec::{XmlSecDocumentExt, XmlSecKey, XmlSecKeyFormat, XmlSecSignatureContext};
    let template = format!(
        "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/><ds:SignatureMethod Algorithm=\"{RSA_SHA256}\"/><ds:Reference URI=\"#{}\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>",
        xml_escape(request_id)
    );
    let with_template = xml.replacen("</saml:Issuer>", &format!("</saml:Issuer>{template}"), 1);
    let document = super::parse_strictly(&with_template).map_err(|_| SamlError::RequestSigning)?;
    document
        .specify_idattr("//samlp:AuthnRequest", "ID", Some(&[("samlp", super::verify::NS_PROTOCOL)]))
        .map_err(|_| SamlError::RequestSigning)?;
    let root = document.get_root_element().ok_or(SamlError::RequestSigning)?;
    let signature =
        root.get_child_elements().into_iter().find(|n| n.get_name() == "Signature").ok_or(SamlError::RequestSigning)?;
    let key = XmlSecKey::from_memory(key_pem.as_bytes(), XmlSecKeyFormat::Pem, None)
        .map_err(|_| SamlError::RequestSigning)?;
    let mut context = XmlSecSignatureContext::new();
    context.insert_key(key);
    context.sign_node(&signature).map_err(|_| SamlError::RequestSigning)?;
    Ok(root_text(&document))
}

/// The document's root element as text, without the XML declaration.
fn root_text(document: &libxml::tree::Document) -> String {
    document.get_root_element().map(|root| document.node_to_string(&root)).unwrap_or_default()
}

/// The page that posts `request` to the IdP as soon as it loads, with a
/// button for browsers without JavaScript.
pub fn render_post_form(request: &PostedAuthnRequest) -> String {
    let relay = if request.relay_state.is_empty() {
        String::new()
    } else {
        format!("<input type=\"hidden\" name=\"RelayState\" value=\"{}\"/>", xml_escape(&request.relay_state))
    };
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"/><title>Signing in</title></head>\n<body onload=\"document.forms[0].submit()\">\n<form method=\"post\" action=\"{}\"><div><input type=\"hidden\" name=\"SAMLRequest\" value=\"{}\"/>{relay}</div>\n<noscript><div><input type=\"submit\" value=\"Continue\"/></div></noscript></form>\n</body></html>\n",
        xml_escape(&request.action),
        xml_escape(&request.saml_request),
    )
}

fn authn_request_xml(
    sso_url: &str,
    request_id: &str,
    sp_entity_id: &str,
    acs_url: &str,
    now: OffsetDateTime,
) -> String {
    format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{}\" Version=\"2.0\" IssueInstant=\"{}\" Destination=\"{}\" AssertionConsumerServiceURL=\"{}\" ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\"><saml:Issuer>{}</saml:Issuer><samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified\" AllowCreate=\"true\"/></samlp:AuthnRequest>",
        xml_escape(request_id),
        now.format(&Rfc3339).unwrap_or_default(),
        xml_escape(sso_url),
        xml_escape(acs_url),
        xml_escape(sp_entity_id)
    )
}

/// Builds the redirect URL to the IdP carrying a new AuthnRequest.
pub fn redirect_url(
    sso_url: &str,
    request_id: &str,
    sp_entity_id: &str,
    acs_url: &str,
    relay_state: &str,
    now: OffsetDateTime,
    signing_key: Option<&str>,
) -> Result<String, SamlError> {
    let xml = authn_request_xml(sso_url, request_id, sp_entity_id, acs_url, now);
    redirect_binding_url(sso_url, &xml, relay_state, signing_key)
}

/// The HTTP-Redirect binding (SAML Bindings 3.4.4): `xml` deflated and
/// base64-encoded as `SAMLRequest` on `endpoint`, signed over the encoded
/// query when a key is given.
pub(super) fn redirect_binding_url(
    endpoint: &str,
    xml: &str,
    relay_state: &str,
    signing_key: Option<&str>,
) -> Result<String, SamlError> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    let deflated = match encoder.write_all(xml.as_bytes()) {
        Ok(()) => encoder.finish().unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let mut url = match url::Url::parse(endpoint) {
        Ok(url) => url,
        Err(_) => return Ok(endpoint.to_owned()),
    };
    url.query_pairs_mut().append_pair("SAMLRequest", &BASE64.encode(deflated));
    if !relay_state.is_empty() {
        url.query_pairs_mut().append_pair("RelayState", relay_state);
    }
    if let Some(key_pem) = signing_key {
        url.query_pairs_mut().append_pair("SigAlg", RSA_SHA256);
        // The signature covers the encoded parameters exactly as sent; the
        // IdP's endpoint is assumed to carry no query of its own.
        let signed = url.query().unwrap_or_default().to_owned();
        let key =
            openssl::pkey::PKey::private_key_from_pem(key_pem.as_bytes()).map_err(|_| SamlError::RequestSigning)?;
        let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key)
            .map_err(|_| SamlError::RequestSigning)?;
        signer.update(signed.as_bytes()).map_err(|_| SamlError::RequestSigning)?;
        let signature = signer.sign_to_vec().map_err(|_| SamlError::RequestSigning)?;
        url.query_pairs_mut().append_pair("Signature", &BASE64.encode(signature));
    }
    Ok(url.into())
}
