//! End-to-end tests of the `mockta` binary and interop with third-party SAML
//! libraries.

mod cli;
mod interop;
