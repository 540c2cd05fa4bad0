//! The OpenID Connect checks. None yet: the reference SP gains its relying
//! party, and this module its checks, in the OIDC issue. A check added here
//! gets a variant of [`OidcAction`], carried out by `runner/oidc.rs`.

use super::Check;

/// What an OIDC check does. It has no variants until the first OIDC check,
/// so the OIDC driver's `match` is empty and cannot be called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OidcAction {}

/// Every OIDC check, in report order.
pub fn checks() -> Vec<Check> {
    Vec::new()
}
