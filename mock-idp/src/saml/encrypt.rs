//! Encrypting a signed Assertion to the SP's certificate, as Okta's
//! "Assertion Encryption" setting does, with libxmlsec1.
//!
//! The xmlsec crate wraps only signatures, so the few XML Encryption calls
//! are declared here against libxmlsec1 itself, which the crate already links.
//! Like signing, this works from text to text: the Assertion's exact bytes
//! are encrypted (they declare every namespace they use), and the
//! `EncryptedAssertion` is written in Okta's serialisation with the cipher
//! values libxmlsec1 produced, so no libxml2 re-serialisation reaches the wire.
//!
//! Two passes, each on a small template of its own: the Assertion under a
//! fresh AES session key (`EncryptedData`), then the session key under the
//! SP's RSA key (`EncryptedKey`, Okta's sibling of `EncryptedData`, found
//! through a `RetrievalMethod`). Each pass gets a keys manager that holds only
//! the one key it may use, so libxmlsec1 cannot pick another.
//!
//! It is the crate's only `unsafe` code: three foreign function declarations
//! and the calls that make and free libxmlsec1's keys manager and context.

#![allow(unsafe_code)]

use std::os::raw::{c_int, c_uint};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use libxml::parser::Parser;
use xmlsec::bindings;
use xmlsec::{XmlSecKey, XmlSecKeyFormat};

use super::response::NS_ASSERTION;
use super::xml::element_span;

pub const NS_XMLENC: &str = "http://www.w3.org/2001/04/xmlenc#";
pub const ENCRYPTED_KEY_TYPE: &str = "http://www.w3.org/2001/04/xmlenc#EncryptedKey";
pub const ELEMENT_TYPE: &str = "http://www.w3.org/2001/04/xmlenc#Element";
/// RSA-OAEP with MGF1 and SHA-1, the key transport Okta uses (the
/// `xmlenc11#rsa-oaep` form is not in libxmlsec1 1.2).
pub const RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
/// RSA PKCS#1 v1.5 key transport, the legacy algorithm of the P-16 fault.
pub const RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
const SHA1_DIGEST: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// The block cipher of the encrypted Assertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockAlgorithm {
    /// Okta's "AES256-GCM", the default for new apps.
    Aes256Gcm,
    /// Okta's "AES256-CBC".
    Aes256Cbc,
    /// Not an Okta option: the legacy cipher of the P-16 fault.
    Aes128Cbc,
}

impl BlockAlgorithm {
    pub fn uri(self) -> &'static str {
        match self {
            BlockAlgorithm::Aes256Gcm => "http://www.w3.org/2009/xmlenc11#aes256-gcm",
            BlockAlgorithm::Aes256Cbc => "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
            BlockAlgorithm::Aes128Cbc => "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
        }
    }

    fn key_len(self) -> usize {
        match self {
            BlockAlgorithm::Aes256Gcm | BlockAlgorithm::Aes256Cbc => 32,
            BlockAlgorithm::Aes128Cbc => 16,
        }
    }

    /// The name in the org file and the management API.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockAlgorithm::Aes256Gcm => "aes256-gcm",
            BlockAlgorithm::Aes256Cbc => "aes256-cbc",
            BlockAlgorithm::Aes128Cbc => "aes128-cbc",
        }
    }

    /// The algorithms an app may be set to (the legacy one is a fault only).
    pub fn parse_setting(text: &str) -> Option<BlockAlgorithm> {
        match text {
            "aes256-gcm" => Some(BlockAlgorithm::Aes256Gcm),
            "aes256-cbc" => Some(BlockAlgorithm::Aes256Cbc),
            _ => None,
        }
    }
}

/// How the session key is carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyTransport {
    RsaOaepMgf1p,
    /// The legacy transport of the P-16 fault, open to Bleichenbacher's attack.
    Rsa15,
}

impl KeyTransport {
    pub fn uri(self) -> &'static str {
        match self {
            KeyTransport::RsaOaepMgf1p => RSA_OAEP_MGF1P,
            KeyTransport::Rsa15 => RSA_1_5,
        }
    }
}

/// What to encrypt to: the SP's certificate and the algorithms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptionRecipient {
    /// The SP's encryption certificate, PEM.
    pub certificate_pem: String,
    pub block: BlockAlgorithm,
    pub transport: KeyTransport,
}

impl EncryptionRecipient {
    /// The certificate's base64 DER on one line, as Okta writes it in KeyInfo.
    fn certificate_base64(&self) -> String {
        self.certificate_pem
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .flat_map(|line| line.trim().chars())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncryptError {
    #[error("the response has no Assertion to encrypt")]
    NoAssertion,
    #[error("the SP's encryption certificate cannot be loaded")]
    Certificate,
    #[error("libxmlsec1 could not encrypt the {0}")]
    Encrypt(&'static str),
}

unsafe extern "C" {
    fn xmlSecEncCtxCreate(keys_manager: bindings::xmlSecKeysMngrPtr) -> bindings::xmlSecEncCtxPtr;
    fn xmlSecEncCtxDestroy(context: bindings::xmlSecEncCtxPtr);
    fn xmlSecEncCtxBinaryEncrypt(
        context: bindings::xmlSecEncCtxPtr,
        template: bindings::xmlNodePtr,
        data: *const u8,
        size: c_uint,
    ) -> c_int;
}

/// Replaces the Assertion of `response` (signed or not) with an
/// `EncryptedAssertion` for `recipient`. `ids` gives the two `_`+32-hex ids.
pub fn encrypt_assertion(
    response: &str,
    recipient: &EncryptionRecipient,
    ids: (&str, &str),
) -> Result<String, EncryptError> {
    let span = element_span(response, "<saml2:Assertion ", "</saml2:Assertion>", 0).ok_or(EncryptError::NoAssertion)?;
    let assertion = &response[span.clone()];
    let (data_id, key_id) = ids;
    let session_key: Vec<u8> = (0..recipient.block.key_len()).map(|_| rand::random::<u8>()).collect();
    let public_key = XmlSecKey::from_memory(recipient.certificate_pem.as_bytes(), XmlSecKeyFormat::CertPem, None)
        .map_err(|_| EncryptError::Certificate)?;
    let data_template = format!(
        "<xenc:EncryptedData xmlns:xenc=\"{NS_XMLENC}\" Type=\"{ELEMENT_TYPE}\"><xenc:EncryptionMethod Algorithm=\"{}\"/><xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>",
        recipient.block.uri()
    );
    // SAFETY: the AES key is made from a live buffer of its stated length.
    let aes_key = unsafe {
        bindings::xmlSecKeyReadMemory(
            bindings::xmlSecOpenSSLKeyDataAesGetKlass(),
            session_key.as_ptr(),
            session_key.len() as c_uint,
        )
    };
    if aes_key.is_null() {
        return Err(EncryptError::Encrypt("session key"));
    }
    // SAFETY: ownership of `aes_key` passes to the keys manager.
    let data_cipher = encrypt_with(&data_template, unsafe { XmlSecKey::from_ptr(aes_key) }, assertion.as_bytes())
        .ok_or(EncryptError::Encrypt("assertion"))?;
    let digest = match recipient.transport {
        KeyTransport::RsaOaepMgf1p => {
            format!("<ds:DigestMethod xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" Algorithm=\"{SHA1_DIGEST}\"/>")
        }
        KeyTransport::Rsa15 => String::new(),
    };
    // libxmlsec1 encrypts an EncryptedKey only in a mode set through its
    // context's fields, which the crate does not bind; the cipher value of an
    // EncryptedData with the key transport algorithm is the same RSA
    // encryption of the same bytes, so that template is used and its value
    // is written into Okta's EncryptedKey.
    let key_template = format!(
        "<xenc:EncryptedData xmlns:xenc=\"{NS_XMLENC}\"><xenc:EncryptionMethod Algorithm=\"{}\">{digest}</xenc:EncryptionMethod><xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>",
        recipient.transport.uri()
    );
    let key_cipher =
        encrypt_with(&key_template, public_key, &session_key).ok_or(EncryptError::Encrypt("session key"))?;
    let encrypted = render_encrypted_assertion(recipient, data_id, key_id, &data_cipher, &key_cipher);
    Ok(format!("{}{}{}", &response[..span.start], encrypted, &response[span.end..]))
}

/// Okta's serialisation of an `EncryptedAssertion` (okta-wire.md): the
/// `EncryptedKey` follows `EncryptedData` as its sibling, and every element
/// declares the namespace it uses again.
fn render_encrypted_assertion(
    recipient: &EncryptionRecipient,
    data_id: &str,
    key_id: &str,
    data_cipher: &str,
    key_cipher: &str,
) -> String {
    let ds = "http://www.w3.org/2000/09/xmldsig#";
    let digest = match recipient.transport {
        KeyTransport::RsaOaepMgf1p => {
            format!("<ds:DigestMethod Algorithm=\"{SHA1_DIGEST}\" xmlns:ds=\"{ds}\"/>")
        }
        KeyTransport::Rsa15 => String::new(),
    };
    format!(
        "<saml2:EncryptedAssertion xmlns:saml2=\"{NS_ASSERTION}\">\
<xenc:EncryptedData Id=\"{data_id}\" Type=\"{ELEMENT_TYPE}\" xmlns:xenc=\"{NS_XMLENC}\">\
<xenc:EncryptionMethod Algorithm=\"{block}\" xmlns:xenc=\"{NS_XMLENC}\"/>\
<ds:KeyInfo xmlns:ds=\"{ds}\"><ds:RetrievalMethod Type=\"{ENCRYPTED_KEY_TYPE}\" URI=\"#{key_id}\"/></ds:KeyInfo>\
<xenc:CipherData xmlns:xenc=\"{NS_XMLENC}\"><xenc:CipherValue>{data_cipher}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>\
<xenc:EncryptedKey Id=\"{key_id}\" xmlns:xenc=\"{NS_XMLENC}\">\
<xenc:EncryptionMethod Algorithm=\"{transport}\" xmlns:xenc=\"{NS_XMLENC}\">{digest}</xenc:EncryptionMethod>\
<ds:KeyInfo xmlns:ds=\"{ds}\"><ds:X509Data><ds:X509Certificate>{certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\
<xenc:CipherData xmlns:xenc=\"{NS_XMLENC}\"><xenc:CipherValue>{key_cipher}</xenc:CipherValue></xenc:CipherData>\
<xenc:ReferenceList><xenc:DataReference URI=\"#{data_id}\"/></xenc:ReferenceList></xenc:EncryptedKey>\
</saml2:EncryptedAssertion>",
        block = recipient.block.uri(),
        transport = recipient.transport.uri(),
        certificate = recipient.certificate_base64(),
    )
}

/// Encrypts `data` into the one-element template with `key` as the only key
/// libxmlsec1 can find, and returns the CipherValue on one line.
fn encrypt_with(template: &str, key: XmlSecKey, data: &[u8]) -> Option<String> {
    let document = Parser::default().parse_string(template).ok()?;
    let root = document.get_root_element()?;
    // SAFETY: each pointer is checked before use; the keys manager adopts the
    // key (it is leaked to it, not dropped here), the context is destroyed
    // before the manager, and the template document outlives both.
    let result = unsafe {
        let manager = bindings::xmlSecKeysMngrCreate();
        if manager.is_null() {
            return None;
        }
        let key_ptr = XmlSecKey::leak(key);
        let ok = bindings::xmlSecOpenSSLAppDefaultKeysMngrInit(manager) == 0
            && bindings::xmlSecOpenSSLAppDefaultKeysMngrAdoptKey(manager, key_ptr) == 0;
        if !ok {
            bindings::xmlSecKeyDestroy(key_ptr);
            bindings::xmlSecKeysMngrDestroy(manager);
            return None;
        }
        let context = xmlSecEncCtxCreate(manager);
        let status = if context.is_null() {
            -1
        } else {
            let status = xmlSecEncCtxBinaryEncrypt(
                context,
                root.node_ptr() as bindings::xmlNodePtr,
                data.as_ptr(),
                data.len() as c_uint,
            );
            xmlSecEncCtxDestroy(context);
            status
        };
        bindings::xmlSecKeysMngrDestroy(manager);
        status
    };
    if result != 0 {
        return None;
    }
    let value = root.findnodes(".//*[local-name()='CipherValue']").ok()?.into_iter().next()?.get_content();
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    // A CipherValue that is not base64 would mean the template was not filled.
    BASE64.decode(compact.as_bytes()).ok()?;
    Some(compact)
}

/// Whether `text` is one PEM certificate whose body is base64, checked when
/// the org is loaded so that a bad setting is refused before any sign-in.
pub fn is_certificate_pem(text: &str) -> bool {
    let trimmed = text.trim();
    let Some(body) = trimmed
        .strip_prefix("-----BEGIN CERTIFICATE-----")
        .and_then(|rest| rest.strip_suffix("-----END CERTIFICATE-----"))
    else {
        return false;
    };
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    !compact.is_empty() && BASE64.decode(compact.as_bytes()).is_ok()
}

/// Once the Assertion is encrypted, the Response in Okta's serialisation no
/// longer declares `xmlns:xs` and its signature has no `InclusiveNamespaces`
/// (okta-wire.md): nothing left in plaintext uses the prefix.
pub fn without_plaintext_namespaces(response: &str) -> String {
    let mut out = response.replacen(
        "<ec:InclusiveNamespaces PrefixList=\"xs\" xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
        "",
        1,
    );
    let root_end = out.find("<saml2p:Response ").and_then(|start| out[start..].find('>').map(|end| start + end));
    if let Some(root_end) = root_end {
        let declaration = " xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"";
        if let Some(at) = out[..root_end].find(declaration) {
            out.replace_range(at..at + declaration.len(), "");
        }
    }
    out
}
