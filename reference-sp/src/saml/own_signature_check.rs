//! The SP's own XML signature check, used only under the flaws that
//! reproduce bugs of hand-written verifiers (attacks.md S-12 and on). The
//! correct SP verifies with libxmlsec1 and never comes here.
//!
//! It does what core validation asks (XMLDSig 3.2): each Reference's digest
//! over the referenced element, with the enveloped Signature removed and the
//! Reference's canonicalisation, equals its DigestValue; then the
//! SignatureValue verifies over the canonical SignedInfo with a pinned key.
//! Each flaw changes one of those readings, the way the library it names
//! did, and nothing else; the shape checks before it (one Reference, the
//! URI of the element that carries the Signature, allowed algorithms) are
//! the correct SP's.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use libxml::tree::c14n::{CanonicalizationMode, CanonicalizationOptions};
use libxml::tree::{Document, Node, SaveOptions};
use openssl::hash::MessageDigest;

use super::verify::NS_DSIG;
use super::{SamlError, descendants, is};
use crate::flaws::Policy;

const EXCLUSIVE: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// The HMAC SignatureMethods, which only the `hmac-with-certificate` flaw lets
/// through the algorithm allow-list.
pub(super) const HMAC_METHODS: [&str; 2] =
    ["http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", "http://www.w3.org/2000/09/xmldsig#hmac-sha1"];

fn children(node: &Node, name: &str) -> Vec<Node> {
    node.get_child_elements().into_iter().filter(|c| is(c, NS_DSIG, name)).collect()
}

fn unreadable() -> SamlError {
    SamlError::Malformed("a signature the SP's own check cannot read")
}

fn algorithm(parent: &Node, name: &str) -> String {
    children(parent, name).into_iter().next().and_then(|n| n.get_attribute_no_ns("Algorithm")).unwrap_or_default()
}

fn digest_of(algorithm: &str) -> Option<MessageDigest> {
    match algorithm.rsplit('#').next()? {
        "sha1" | "rsa-sha1" | "hmac-sha1" => Some(MessageDigest::sha1()),
        "sha256" | "rsa-sha256" | "hmac-sha256" => Some(MessageDigest::sha256()),
        "sha384" | "rsa-sha384" => Some(MessageDigest::sha384()),
        "sha512" | "rsa-sha512" => Some(MessageDigest::sha512()),
        _ => None,
    }
}

/// The prefixes of an `InclusiveNamespaces` child, for exclusive c14n.
fn prefix_list(parent: &Node) -> Vec<String> {
    parent
        .get_child_elements()
        .into_iter()
        .filter(|n| n.get_name() == "InclusiveNamespaces")
        .filter_map(|n| n.get_attribute_no_ns("PrefixList"))
        .flat_map(|list| list.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

fn canonical(node: &mut Node, exclusive: bool, prefixes: Vec<String>) -> Result<String, SamlError> {
    let mode = if exclusive { CanonicalizationMode::ExclusiveCanonical1_0 } else { CanonicalizationMode::Canonical1_0 };
    node.canonicalize(CanonicalizationOptions { mode, with_comments: false, inclusive_ns_prefixes: prefixes })
        .map_err(|()| unreadable())
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

/// Whether the enveloped `signature` of `element` verifies with one of the
/// pinned `certificates`, read as the flaws in `policy` read it.
pub(super) fn verifies(
    document: &Document,
    element: &Node,
    signature: &Node,
    certificates: &[String],
    policy: &Policy,
) -> Result<bool, SamlError> {
    let signed_infos = children(signature, "SignedInfo");
    // The References come from the first SignedInfo and the SignatureValue
    // is checked over the last, the one next to it. The shape check lets a
    // second SignedInfo through only under the `first-signed-info` flaw;
    // otherwise both are the one SignedInfo.
    let signed_info = signed_infos.first().ok_or_else(unreadable)?;
    let signed_info_for_value = signed_infos.last().ok_or_else(unreadable)?;
    let reference = children(signed_info, "Reference").into_iter().next().ok_or_else(unreadable)?;
    let id = element.get_attribute_no_ns("ID").ok_or_else(unreadable)?;
    let digest_method = digest_of(&algorithm(&reference, "DigestMethod")).ok_or_else(unreadable)?;
    let transforms: Vec<Node> =
        children(&reference, "Transforms").into_iter().flat_map(|t| children(&t, "Transform")).collect();
    let enveloped = transforms.iter().any(|t| t.get_attribute_no_ns("Algorithm").as_deref() == Some(ENVELOPED));
    let exclusive = transforms.iter().any(|t| t.get_attribute_no_ns("Algorithm").as_deref() == Some(EXCLUSIVE));
    let prefixes: Vec<String> = transforms.iter().flat_map(prefix_list).collect();

    // The digest is taken in a copy of the document, where the Signature
    // can be removed (the enveloped-signature transform) without touching
    // the document the ACS reads next.
    let text = document.to_string_with_options(SaveOptions::default());
    let copy = super::parse_strictly(&text).map_err(|_| unreadable())?;
    let copy_root = copy.get_root_element().ok_or_else(unreadable)?;
    let mut targets: Vec<Node> =
        elements(&copy_root).into_iter().filter(|n| n.get_attribute_no_ns("ID").as_deref() == Some(&id)).collect();
    let mut target = match targets.len() {
        1 => targets.remove(0),
        _ => return Err(unreadable()),
    };
    if enveloped {
        for mut own in children(&target, "Signature") {
            own.unlink_node();
        }
    }
    let digest = openssl::hash::hash(digest_method, canonical(&mut target, exclusive, prefixes)?.as_bytes())
        .map_err(|_| unreadable())?;

    let digest_value = children(&reference, "DigestValue").into_iter().next().ok_or_else(unreadable)?;
    let expected_text = if policy.digest_value_first_in_document {
        // The flaw: the first DigestValue of the document, as an absolute
        // `//ds:DigestValue` finds it, passing over only those of other
        // signatures (ruby-saml verified one signature, whose own came
        // first); one planted earlier, outside every signature, wins.
        let root = document.get_root_element().ok_or_else(unreadable)?;
        descendants(&root, NS_DSIG, "DigestValue")
            .into_iter()
            .find(|value| enclosing_signature(value).is_none_or(|enclosing| enclosing == *signature))
            .unwrap_or(digest_value)
            .get_content()
    } else if policy.digest_value_first_child {
        // The flaw: the first child node's text, a comment's included, as
        // xml-crypto's `firstChild.data` read it.
        digest_value.get_first_child().map(|child| child.get_content()).unwrap_or_default()
    } else {
        digest_value.get_content()
    };
    let expected = BASE64.decode(expected_text.split_whitespace().collect::<String>()).map_err(|_| unreadable())?;
    if expected.len() != digest.len() || !openssl::memcmp::eq(&expected, &digest) {
        return Ok(false);
    }

    let signature_value = children(signature, "SignatureValue")
        .into_iter()
        .next()
        .and_then(|n| BASE64.decode(n.get_content().split_whitespace().collect::<String>()).ok())
        .ok_or_else(unreadable)?;
    let mut signed_info = signed_info_for_value.clone();
    let c14n = children(&signed_info, "CanonicalizationMethod").into_iter().next().ok_or_else(unreadable)?;
    let c14n_exclusive = c14n.get_attribute_no_ns("Algorithm").as_deref() == Some(EXCLUSIVE);
    let signed_bytes = canonical(&mut signed_info, c14n_exclusive, prefix_list(&c14n))?;
    let method = algorithm(&signed_info, "SignatureMethod");
    let method_digest = digest_of(&method).ok_or_else(unreadable)?;
    for certificate in certificates {
        let verified = if HMAC_METHODS.contains(&method.as_str()) && policy.hmac_keyed_by_certificate {
            // The flaw: the "key" of an HMAC is the bytes the SP holds for
            // the IdP, its certificate as PEM text, which anyone can read
            // from the metadata.
            let pem = super::verify::pem_certificate(certificate);
            hmac_matches(method_digest, pem.as_bytes(), signed_bytes.as_bytes(), &signature_value)
        } else if HMAC_METHODS.contains(&method.as_str()) {
            false
        } else {
            rsa_verifies(method_digest, certificate, signed_bytes.as_bytes(), &signature_value)
        };
        if verified {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The Signature an element is inside, if any.
fn enclosing_signature(node: &Node) -> Option<Node> {
    let mut current = node.get_parent();
    while let Some(parent) = current {
        if is(&parent, NS_DSIG, "Signature") {
            return Some(parent);
        }
        current = parent.get_parent();
    }
    None
}

fn hmac_matches(digest: MessageDigest, key: &[u8], data: &[u8], expected: &[u8]) -> bool {
    let Ok(key) = openssl::pkey::PKey::hmac(key) else { return false };
    let Ok(mut signer) = openssl::sign::Signer::new(digest, &key) else { return false };
    let Ok(mac) = signer.update(data).and_then(|()| signer.sign_to_vec()) else { return false };
    mac.len() == expected.len() && openssl::memcmp::eq(&mac, expected)
}

fn rsa_verifies(digest: MessageDigest, certificate: &str, data: &[u8], signature: &[u8]) -> bool {
    let compact: String = certificate.split_whitespace().collect();
    let Ok(der) = BASE64.decode(compact) else { return false };
    let Ok(key) = openssl::x509::X509::from_der(&der).and_then(|c| c.public_key()) else { return false };
    let Ok(mut verifier) = openssl::sign::Verifier::new(digest, &key) else { return false };
    verifier.update(data).is_ok() && verifier.verify(signature).unwrap_or(false)
}
