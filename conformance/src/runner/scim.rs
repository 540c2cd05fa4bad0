//! The SCIM driver. Its catalogue has no checks yet, so [`ScimAction`] has no
//! variants and this `match` is empty: it compiles to nothing and cannot be
//! reached. The first SCIM check adds a variant there and its arm here, with
//! this driver's positive control and evidence.

use super::{Outcome, Step, Suite};
use crate::catalogue::ScimAction;

pub(super) async fn execute(_suite: &Suite, action: ScimAction) -> Step<Outcome> {
    match action {}
}
