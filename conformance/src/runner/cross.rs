//! The cross-protocol driver. Its catalogue has no checks yet, so [`CrossAction`] has no
//! variants and this `match` is empty: it compiles to nothing and cannot be
//! reached. The first cross-protocol check adds a variant there and its arm here, with
//! this driver's positive control and evidence.

use super::{Outcome, Step, Suite};
use crate::catalogue::CrossAction;

pub(super) async fn execute(_suite: &Suite, action: CrossAction) -> Step<Outcome> {
    match action {}
}
