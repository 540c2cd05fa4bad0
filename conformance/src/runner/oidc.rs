//! The OpenID Connect driver. Its catalogue has no checks yet, so [`OidcAction`] has no
//! variants and this `match` is empty: it compiles to nothing and cannot be
//! reached. The first OpenID Connect check adds a variant there and its arm here, with
//! this driver's positive control and evidence.

use super::{Outcome, Step, Suite};
use crate::catalogue::OidcAction;

pub(super) async fn execute(_suite: &Suite, action: OidcAction) -> Step<Outcome> {
    match action {}
}
