//! The SCIM 2.0 checks. None yet: they come with the mock's SCIM
//! provisioning client. A check added here gets a variant of [`ScimAction`],
//! carried out by `runner/scim.rs`.

use super::Check;

/// What a SCIM check does. It has no variants until the first SCIM check,
/// so the SCIM driver's `match` is empty and cannot be called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScimAction {}

/// Every SCIM check, in report order.
pub fn checks() -> Vec<Check> {
    Vec::new()
}
