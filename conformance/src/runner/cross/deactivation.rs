//! Carries out the deactivation checks.

use crate::catalogue::DeactivationAction;
use crate::runner::{Outcome, Step, Suite};

pub(super) async fn execute(_suite: &Suite, action: DeactivationAction) -> Step<Outcome> {
    match action {}
}
