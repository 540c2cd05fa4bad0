//! libxmlsec1's and libxml2's error reports during verification, caught
//! instead of printed.
//!
//! By default libxmlsec1 writes every error it meets to stderr
//! (`func=xmlSecOpenSSLEvpSignatureVerify:...`), and libxml2 its
//! canonicalisation errors (`C14N error : ...`), so a refused signature,
//! which is routine for an SP under test, fills the terminal with lines from
//! inside two C libraries. This module installs callbacks that keep the
//! messages of the current thread instead; `verify` takes them and reports
//! a refused signature once, through the project's own logging.
//!
//! It is the crate's only `unsafe` code: one foreign function declaration,
//! two callback installations and two callbacks that read C strings.
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::ffi::{CStr, c_char, c_int};
use std::sync::Once;

/// The most messages kept per thread between two `take` calls; one failed
/// verification makes about ten.
const KEPT_PER_THREAD: usize = 64;

thread_local! {
    static MESSAGES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

type ErrorsCallback = extern "C" fn(
    file: *const c_char,
    line: c_int,
    func: *const c_char,
    error_object: *const c_char,
    error_subject: *const c_char,
    reason: c_int,
    message: *const c_char,
);

#[link(name = "xmlsec1")]
unsafe extern "C" {
    /// `void xmlSecErrorsSetCallback(xmlSecErrorsCallback callback)` from
    /// `<xmlsec/errors.h>`: replaces the process-wide error callback.
    fn xmlSecErrorsSetCallback(callback: Option<ErrorsCallback>);
}

/// Installs the callbacks: xmlsec's once per process, libxml2's for the
/// calling thread (libxml2 keeps its error handler per thread). Call it on
/// the thread that verifies, before the verification.
pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // xmlSecInit puts the default callback back, and the xmlsec crate
        // runs it lazily, on first use: a signature context forces it now,
        // so the callback set below is not undone by the first verification.
        drop(xmlsec::XmlSecSignatureContext::new());
        // SAFETY: xmlSecErrorsSetCallback only stores the function pointer
        // in a static; `keep` has the exact C signature xmlsec expects and
        // lives for the whole program. The Once makes the store happen once,
        // before any verification runs on another thread.
        unsafe { xmlSecErrorsSetCallback(Some(keep)) }
    });
    // SAFETY: xmlSetStructuredErrorFunc stores the handler and its (null)
    // context in this thread's libxml2 globals; `keep_libxml2` has the
    // signature of xmlStructuredErrorFunc and lives for the whole program.
    // The libxml crate's parser saves and restores the handler around a
    // parse, so this one is back in place after any parse.
    unsafe { libxml::bindings::xmlSetStructuredErrorFunc(std::ptr::null_mut(), Some(keep_libxml2)) }
}

/// The messages this thread's xmlsec calls reported since the last `take`.
pub(crate) fn take() -> Vec<String> {
    MESSAGES.with(|messages| std::mem::take(&mut *messages.borrow_mut()))
}

/// Reads a C string that may be null.
fn text(pointer: *const c_char) -> Option<String> {
    if pointer.is_null() {
        return None;
    }
    // SAFETY: xmlsec passes null or a NUL-terminated string that stays
    // valid for the duration of the callback; it is copied out at once.
    Some(unsafe { CStr::from_ptr(pointer) }.to_string_lossy().into_owned())
}

unsafe extern "C" fn keep_libxml2(_context: *mut std::ffi::c_void, error: libxml::bindings::xmlErrorPtr) {
    if error.is_null() {
        return;
    }
    // SAFETY: libxml2 passes a valid xmlError for the duration of the call;
    // only its message pointer is read, and text() copies it at once.
    let message = text(unsafe { (*error).message }).unwrap_or_default();
    remember(format!("libxml2: {}", message.trim_end()));
}

/// Keeps one message for this thread's next `take`.
fn remember(line: String) {
    // A panic must not unwind into C, and a thread being torn down has no
    // thread-local left: both are ignored rather than risked.
    let _ = std::panic::catch_unwind(|| {
        let _ = MESSAGES.try_with(|messages| {
            if let Ok(mut messages) = messages.try_borrow_mut()
                && messages.len() < KEPT_PER_THREAD
            {
                messages.push(line);
            }
        });
    });
}

extern "C" fn keep(
    _file: *const c_char,
    _line: c_int,
    func: *const c_char,
    _error_object: *const c_char,
    error_subject: *const c_char,
    reason: c_int,
    message: *const c_char,
) {
    let mut line = format!("{} (reason {reason})", text(func).unwrap_or_else(|| "xmlsec".to_owned()));
    if let Some(subject) = text(error_subject).filter(|s| !s.is_empty() && s != "unknown") {
        line.push_str(&format!(" {subject}"));
    }
    if let Some(message) = text(message).filter(|m| !m.is_empty()) {
        line.push_str(&format!(": {message}"));
    }
    remember(line);
}
