//! Deactivation: after Okta deactivates, suspends or unassigns a user (all
//! sent as SCIM `active: false`), the user is out of the SP everywhere.

use crate::catalogue::Check;

/// What a deactivation check does. It has no variants until the first
/// such check, so the driver's `match` is empty and cannot be called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeactivationAction {}

/// The deactivation checks, in report order.
pub(super) fn checks() -> Vec<Check> {
    Vec::new()
}
