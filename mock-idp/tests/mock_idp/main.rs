//! Integration tests for mock-idp: the running HTTP server, signatures checked
//! by the independent `xmlsec1` tool, faults, the management API and snapshots.

mod admin;
mod faults;
mod signing;
mod snapshots;
mod sso;
mod support;
