//! Checks that cross protocols: lockout safety, email matching,
//! deactivation and push groups, each a scenario that provisions by SCIM and
//! signs in by SAML or OIDC. None yet. A check added here gets a variant of
//! [`CrossAction`], carried out by `runner/cross.rs`.

use super::Check;

/// What a cross-protocol check does. It has no variants until the first
/// such check, so the driver's `match` is empty and cannot be called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrossAction {}

/// Every cross-protocol check, in report order.
pub fn checks() -> Vec<Check> {
    Vec::new()
}
