//! libxmlsec1's XML Decryption, which the xmlsec crate does not wrap.
//!
//! The crate binds signatures only, so the three XML Encryption calls the
//! ACS needs are declared here against libxmlsec1 itself, which the crate
//! already links. Each decryption runs on a small `EncryptedData` document
//! of its own (an algorithm and a cipher value, no `KeyInfo`) with a keys
//! manager that holds only the one key it may use: the tenant's RSA private
//! key for the session key, then that session key for the Assertion. So
//! libxmlsec1 never resolves a key from the message (no `RetrievalMethod`,
//! no certificate in `KeyInfo`), and the caller decides every algorithm
//! before this module runs.
//!
//! Beside `xmlsec_errors.rs`, it is the crate's only `unsafe` code: three
//! foreign function declarations and the calls that make and free
//! libxmlsec1's keys manager and encryption context.

#![allow(unsafe_code)]

use std::os::raw::c_uint;

use xmlsec::XmlSecKey;
use xmlsec::bindings;

unsafe extern "C" {
    /// `xmlSecEncCtxPtr xmlSecEncCtxCreate(xmlSecKeysMngrPtr keysMngr)`.
    fn xmlSecEncCtxCreate(keys_manager: bindings::xmlSecKeysMngrPtr) -> bindings::xmlSecEncCtxPtr;
    /// `void xmlSecEncCtxDestroy(xmlSecEncCtxPtr encCtx)`.
    fn xmlSecEncCtxDestroy(context: bindings::xmlSecEncCtxPtr);
    /// `xmlSecBufferPtr xmlSecEncCtxDecryptToBuffer(xmlSecEncCtxPtr encCtx,
    /// xmlNodePtr node)`: the buffer belongs to the context.
    fn xmlSecEncCtxDecryptToBuffer(
        context: bindings::xmlSecEncCtxPtr,
        node: bindings::xmlNodePtr,
    ) -> bindings::xmlSecBufferPtr;
}

/// An AES key of 16, 24 or 32 bytes, as libxmlsec1 wants it.
pub(super) fn aes_key(bytes: &[u8]) -> Option<XmlSecKey> {
    let length = c_uint::try_from(bytes.len()).ok()?;
    // SAFETY: the key is read from a live buffer of the stated length, and
    // libxmlsec1 copies the bytes.
    let key =
        unsafe { bindings::xmlSecKeyReadMemory(bindings::xmlSecOpenSSLKeyDataAesGetKlass(), bytes.as_ptr(), length) };
    // SAFETY: a non-null key from xmlSecKeyReadMemory is owned by no one
    // else; the XmlSecKey takes it.
    (!key.is_null()).then(|| unsafe { XmlSecKey::from_ptr(key) })
}

/// Decrypts the one `EncryptedData` of `template` with `key` as the only key
/// libxmlsec1 can find, and returns the plaintext; `None` for any failure,
/// so that every failure looks the same to the caller.
pub(super) fn decrypt(template: &str, key: XmlSecKey) -> Option<Vec<u8>> {
    let document = super::parse_strictly(template).ok()?;
    let root = document.get_root_element()?;
    super::xmlsec_errors::install();
    // SAFETY: each pointer is checked before use; the keys manager adopts the
    // key (it is leaked to it, not dropped here); the plaintext is copied out
    // of the context's buffer before the context is destroyed, and the
    // context is destroyed before the manager; the template document outlives
    // all of them.
    let plaintext = unsafe {
        let manager = bindings::xmlSecKeysMngrCreate();
        if manager.is_null() {
            return None;
        }
        let key_pointer = XmlSecKey::leak(key);
        let ready = bindings::xmlSecOpenSSLAppDefaultKeysMngrInit(manager) == 0
            && bindings::xmlSecOpenSSLAppDefaultKeysMngrAdoptKey(manager, key_pointer) == 0;
        if !ready {
            bindings::xmlSecKeyDestroy(key_pointer);
            bindings::xmlSecKeysMngrDestroy(manager);
            return None;
        }
        let context = xmlSecEncCtxCreate(manager);
        let plaintext = if context.is_null() {
            None
        } else {
            let buffer = xmlSecEncCtxDecryptToBuffer(context, root.node_ptr() as bindings::xmlNodePtr);
            let copied = if buffer.is_null() {
                None
            } else {
                let data = bindings::xmlSecBufferGetData(buffer);
                let size = bindings::xmlSecBufferGetSize(buffer) as usize;
                (!data.is_null()).then(|| std::slice::from_raw_parts(data, size).to_vec())
            };
            xmlSecEncCtxDestroy(context);
            copied
        };
        bindings::xmlSecKeysMngrDestroy(manager);
        plaintext
    };
    // A refused decryption is routine for an SP under attack; libxmlsec1's
    // reports are dropped here rather than printed.
    let _ = super::xmlsec_errors::take();
    plaintext
}
