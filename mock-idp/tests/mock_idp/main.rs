//! Integration tests for mock-idp: the running HTTP server, signatures checked
//! by the independent `xmlsec1` tool, faults, the management API and snapshots.

// Test helpers panic on unexpected errors: that is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod admin_lists;
mod certificate;
mod console;
mod deterministic;
mod encryption;
mod faults;
mod key_folders;
mod key_race;
mod oidc;
mod oidc_faults;
mod oidc_features;
mod oidc_keys;
mod oidc_memory;
mod oidc_props;
mod org_changes;
mod outage;
mod own_signing;
mod provisioning_api;
mod refusals;
mod saml_ids;
mod saml_rollover;
mod scim_provisioning;
mod signed_requests;
mod signing;
mod single_logout;
mod snapshots;
mod sso;
mod support;
mod tls;
