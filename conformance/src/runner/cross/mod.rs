//! The cross-protocol driver: one module per behaviour, each with its
//! scenarios' positive controls and evidence.

use super::{Outcome, Step, Suite};
use crate::catalogue::CrossAction;

mod break_glass;
mod deactivation;
mod email_matching;
mod lockout_safety;
mod push_groups;
pub(super) mod scim_verified_sso;
mod sso_enforcement;
pub(super) mod state_machine;

pub(super) async fn execute(suite: &Suite, action: CrossAction) -> Step<Outcome> {
    match action {
        CrossAction::Deactivation(action) => deactivation::execute(suite, action).await,
        CrossAction::EmailMatching(action) => email_matching::execute(suite, action).await,
        CrossAction::PushGroups(action) => push_groups::execute(suite, action).await,
        CrossAction::LockoutSafety(action) => lockout_safety::execute(suite, action).await,
        CrossAction::StateMachine(_) => state_machine::execute(suite).await,
    }
}
