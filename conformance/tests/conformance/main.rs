//! End to end: the catalogue against the reference SP, correct and with each
//! flaw, and the suite's own behaviour (catalogue, oracle, skips).

// Test helpers panic on unexpected errors: that is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod appenate;
mod cross_deactivation;
mod cross_email_matching;
mod cross_lockout_safety;
mod cross_push_groups;
mod explain;
mod flaws;
mod generated_keys;
mod moovingon;
mod oidc;
mod oidc_public;
mod oidc_vendor_rules;
mod oin;
mod reports;
mod scim;
mod state_machine;
mod suite;
mod support;
