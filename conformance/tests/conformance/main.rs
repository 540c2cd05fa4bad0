//! End to end: the SAML catalogue against the reference SP, correct and with
//! each flaw.

// Test helpers panic on unexpected errors: that is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod flaws;
mod reports;
mod support;
