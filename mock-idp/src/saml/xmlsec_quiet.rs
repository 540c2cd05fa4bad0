//! Keeps libxmlsec1 from printing on stderr when the mock refuses a signed
//! AuthnRequest.
//!
//! libxmlsec1's default error callback writes every error it meets to stderr
//! (`func=xmlSecOpenSSLEvpSignatureVerify:...`). A refused signature is
//! routine for a mock IdP under test, and the mock already answers it with
//! its own error (`RequestSignatureError`), so those lines are only noise in
//! the terminal and in CI logs. libxmlsec1 has a switch for exactly this:
//! `xmlSecErrorsDefaultCallbackEnableOutput(0)` silences the default callback
//! and nothing else. So when the reference SP runs in the same process (the
//! demo, the workspace tests) and has installed its own callback, which keeps
//! the messages for its log, this switch leaves that callback alone.
//!
//! Beside `encrypt.rs`, it is the crate's only `unsafe` code: one foreign
//! function declaration and one call.
#![allow(unsafe_code)]

use std::ffi::c_int;
use std::sync::Once;

#[link(name = "xmlsec1")]
unsafe extern "C" {
    /// `void xmlSecErrorsDefaultCallbackEnableOutput(int enabled)` from
    /// `<xmlsec/errors.h>`: turns the default callback's printing on or off.
    fn xmlSecErrorsDefaultCallbackEnableOutput(enabled: c_int);
}

/// Silences the default callback, once per process. Call it before a
/// verification that may be refused.
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // xmlSecInit resets the error settings, and the xmlsec crate runs it
        // lazily, on first use: a signature context forces it now, so the
        // switch set below is not undone by the first verification.
        drop(xmlsec::XmlSecSignatureContext::new());
        // SAFETY: the function only stores the flag in a static of
        // libxmlsec1; it takes a plain int and keeps no pointer.
        unsafe { xmlSecErrorsDefaultCallbackEnableOutput(0) }
    });
}
