//! Step 1b of the ACS: an `EncryptedAssertion` decrypted with the tenant's
//! own key, before any of the Assertion is read or its signature checked.
//!
//! The algorithms are decided here, from an allow-list, before anything is
//! decrypted: AES-GCM or AES-CBC for the Assertion (Okta offers AES256-GCM
//! and AES256-CBC), and RSA-OAEP-MGF1P for the session key. RSA PKCS#1 v1.5
//! (`rsa-1_5`) is refused: Jager, Schinzel and Somorovsky ("Bleichenbacher's
//! Attack Strikes Again: Breaking PKCS#1 v1.5 in XML Encryption", ESORICS
//! 2012) decrypt such session keys through any SP that will try them, and
//! XML Encryption 1.1 §5.5.1 keeps the algorithm only for old software.
//!
//! Every failure from the first decryption to the parse of the plaintext is
//! the one error [`SamlError::DecryptionFailed`], with the same text: an SP
//! that told a padding error from a parse error would be the CBC oracle of
//! Jager and Somorovsky's "How To Break XML Encryption" (CCS 2011). The
//! caller verifies a Response signature, which covers the ciphertext, before
//! decrypting, so a signed Response with an edited ciphertext never reaches
//! this module.
//!
//! Decryption proves nothing about who wrote the Assertion (the SP's
//! certificate is public, attacks.md P-15); `verify` still requires a
//! signature afterwards.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use libxml::tree::Node;
use xmlsec::{XmlSecKey, XmlSecKeyFormat};

use super::verify::{NS_ASSERTION, NS_DSIG};
use super::{SamlError, is, xml_escape};
use crate::flaws::Policy;

pub const NS_XMLENC: &str = "http://www.w3.org/2001/04/xmlenc#";
const ELEMENT_TYPE: &str = "http://www.w3.org/2001/04/xmlenc#Element";
const ENCRYPTED_KEY_TYPE: &str = "http://www.w3.org/2001/04/xmlenc#EncryptedKey";
/// RSA-OAEP with MGF1-SHA1, Okta's key transport.
pub const RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
/// RSA PKCS#1 v1.5, refused unless the `accept-rsa-1_5` flaw is on.
pub const RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
/// The OAEP digests libxmlsec1 1.2 supports.
const OAEP_DIGESTS: [&str; 2] = ["http://www.w3.org/2000/09/xmldsig#sha1", "http://www.w3.org/2001/04/xmlenc#sha256"];

/// The block ciphers accepted for the Assertion, with their key lengths.
const BLOCK_ALGORITHMS: [(&str, usize); 6] = [
    ("http://www.w3.org/2009/xmlenc11#aes128-gcm", 16),
    ("http://www.w3.org/2009/xmlenc11#aes192-gcm", 24),
    ("http://www.w3.org/2009/xmlenc11#aes256-gcm", 32),
    ("http://www.w3.org/2001/04/xmlenc#aes128-cbc", 16),
    ("http://www.w3.org/2001/04/xmlenc#aes192-cbc", 24),
    ("http://www.w3.org/2001/04/xmlenc#aes256-cbc", 32),
];

/// The tenant's decryption key: its RSA private key, PEM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecryptionKey {
    pub private_key_pem: String,
}

fn children(node: &Node, namespace: &str, name: &str) -> Vec<Node> {
    node.get_child_elements().into_iter().filter(|c| is(c, namespace, name)).collect()
}

fn only_child(node: &Node, namespace: &str, name: &str, what: &'static str) -> Result<Node, SamlError> {
    let found = children(node, namespace, name);
    match <[Node; 1]>::try_from(found) {
        Ok([one]) => Ok(one),
        Err(_) => Err(SamlError::EncryptionStructure(what)),
    }
}

fn algorithm(node: &Node) -> Result<String, SamlError> {
    only_child(node, NS_XMLENC, "EncryptionMethod", "one EncryptionMethod")?
        .get_attribute_no_ns("Algorithm")
        .ok_or(SamlError::EncryptionStructure("an EncryptionMethod Algorithm"))
}

/// The base64 of a CipherData's CipherValue; a CipherReference (data
/// fetched from elsewhere) is refused.
fn cipher_value(node: &Node) -> Result<String, SamlError> {
    let data = only_child(node, NS_XMLENC, "CipherData", "one CipherData")?;
    let value = only_child(&data, NS_XMLENC, "CipherValue", "a CipherValue (CipherReference is not supported)")?;
    let compact: String = value.get_content().chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() || BASE64.decode(compact.as_bytes()).is_err() {
        return Err(SamlError::EncryptionStructure("a base64 CipherValue"));
    }
    Ok(compact)
}

/// The EncryptedKey for `data`: inside its KeyInfo, or (Okta's form) a
/// sibling in the EncryptedAssertion. Exactly one must be found.
fn encrypted_key(encrypted_assertion: &Node, data: &Node, policy: &Policy) -> Result<Node, SamlError> {
    let mut keys: Vec<Node> = children(data, NS_DSIG, "KeyInfo")
        .into_iter()
        .flat_map(|info| children(&info, NS_XMLENC, "EncryptedKey"))
        .collect();
    if policy.find_sibling_encrypted_key {
        keys.extend(children(encrypted_assertion, NS_XMLENC, "EncryptedKey"));
    }
    match <[Node; 1]>::try_from(keys) {
        Ok([one]) => Ok(one),
        Err(_) => Err(SamlError::EncryptionStructure("exactly one EncryptedKey")),
    }
}

/// The plaintext Assertion of `encrypted_assertion`, as text that parses on
/// its own into one `saml:Assertion`.
pub fn decrypt_assertion(
    encrypted_assertion: &Node,
    key: &DecryptionKey,
    policy: &Policy,
) -> Result<String, SamlError> {
    let data = only_child(encrypted_assertion, NS_XMLENC, "EncryptedData", "one EncryptedData")?;
    if data.get_attribute_no_ns("Type").is_some_and(|t| t != ELEMENT_TYPE) {
        return Err(SamlError::EncryptionStructure("EncryptedData of Type Element"));
    }
    for info in children(&data, NS_DSIG, "KeyInfo") {
        for method in children(&info, NS_DSIG, "RetrievalMethod") {
            if method.get_attribute_no_ns("Type").is_some_and(|t| t != ENCRYPTED_KEY_TYPE) {
                return Err(SamlError::EncryptionStructure("a RetrievalMethod to an EncryptedKey"));
            }
        }
    }
    let block = algorithm(&data)?;
    let Some(&(_, key_length)) = BLOCK_ALGORITHMS.iter().find(|(uri, _)| *uri == block) else {
        return Err(SamlError::AlgorithmNotAllowed(block));
    };
    let data_cipher = cipher_value(&data)?;
    let session = encrypted_key(encrypted_assertion, &data, policy)?;
    let transport = algorithm(&session)?;
    let method = only_child(&session, NS_XMLENC, "EncryptionMethod", "one EncryptionMethod")?;
    let digest = match transport.as_str() {
        RSA_OAEP_MGF1P => {
            let digests: Vec<String> = children(&method, NS_DSIG, "DigestMethod")
                .into_iter()
                .filter_map(|d| d.get_attribute_no_ns("Algorithm"))
                .collect();
            match digests.as_slice() {
                [] => String::new(),
                [one] if OAEP_DIGESTS.contains(&one.as_str()) => {
                    format!("<ds:DigestMethod xmlns:ds=\"{NS_DSIG}\" Algorithm=\"{}\"/>", xml_escape(one))
                }
                [other, ..] => return Err(SamlError::AlgorithmNotAllowed(other.clone())),
            }
        }
        RSA_1_5 if !policy.refuse_rsa_1_5 => String::new(),
        _ => return Err(SamlError::AlgorithmNotAllowed(transport)),
    };
    let key_cipher = cipher_value(&session)?;

    let key_template = template(&transport, &digest, &key_cipher);
    let data_template = template(&block, "", &data_cipher);
    let private_key = XmlSecKey::from_memory(key.private_key_pem.as_bytes(), XmlSecKeyFormat::Pem, None)
        .map_err(|_| SamlError::DecryptionKey)?;
    // From here on every failure is the same error (see the module comment).
    let session_key = super::xmlsec_decrypt::decrypt(&key_template, private_key)
        .filter(|bytes| bytes.len() == key_length)
        .ok_or(SamlError::DecryptionFailed)?;
    let aes = super::xmlsec_decrypt::aes_key(&session_key).ok_or(SamlError::DecryptionFailed)?;
    let plaintext = super::xmlsec_decrypt::decrypt(&data_template, aes).ok_or(SamlError::DecryptionFailed)?;
    let text = String::from_utf8(plaintext).map_err(|_| SamlError::DecryptionFailed)?;
    let trimmed = text.trim();
    if trimmed.contains("<!DOCTYPE") || trimmed.contains("<!ENTITY") || trimmed.starts_with("<?") {
        return Err(SamlError::DecryptionFailed);
    }
    let standalone = super::parse_strictly(trimmed).map_err(|_| SamlError::DecryptionFailed)?;
    let root = standalone.get_root_element().ok_or(SamlError::DecryptionFailed)?;
    if !is(&root, NS_ASSERTION, "Assertion") {
        return Err(SamlError::DecryptionFailed);
    }
    Ok(trimmed.to_owned())
}

fn template(algorithm: &str, method_children: &str, cipher: &str) -> String {
    format!(
        "<xenc:EncryptedData xmlns:xenc=\"{NS_XMLENC}\"><xenc:EncryptionMethod Algorithm=\"{}\">{method_children}</xenc:EncryptionMethod><xenc:CipherData><xenc:CipherValue>{cipher}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>",
        xml_escape(algorithm)
    )
}

/// Replaces the one `EncryptedAssertion` element of `xml` with `assertion`.
/// The element is found in the text by its prefix; a document in which the
/// tag appears more than once (in a comment, say) is refused rather than
/// guessed at.
pub fn splice(xml: &str, prefix: Option<&str>, assertion: &str) -> Result<String, SamlError> {
    let name = match prefix {
        Some(prefix) if !prefix.is_empty() => format!("{prefix}:EncryptedAssertion"),
        _ => "EncryptedAssertion".to_owned(),
    };
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let ambiguous = SamlError::EncryptionStructure("one EncryptedAssertion tag in the text");
    if xml.matches(&open).count() != 1 || xml.matches(&close).count() != 1 {
        return Err(ambiguous);
    }
    let start = xml.find(&open).ok_or(ambiguous.clone())?;
    let end = xml.find(&close).map(|at| at + close.len()).ok_or(ambiguous.clone())?;
    if end <= start {
        return Err(ambiguous);
    }
    Ok(format!("{}{}{}", &xml[..start], assertion, &xml[end..]))
}
