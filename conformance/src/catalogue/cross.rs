//! Checks that cross protocols: lockout safety, email matching,
//! deactivation and push groups, each a scenario that provisions by SCIM and
//! signs in by SAML or OIDC. One module per behaviour declares its checks
//! and its action enum; `runner/cross/` carries each out.

use super::Check;

mod deactivation;
mod email_matching;
mod lockout_safety;
mod push_groups;
mod state_machine;

pub use deactivation::DeactivationAction;
pub use email_matching::EmailMatchingAction;
pub use lockout_safety::LockoutSafetyAction;
pub use push_groups::PushGroupsAction;
pub use state_machine::StateMachineAction;

/// What a cross-protocol check does, by behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrossAction {
    Deactivation(DeactivationAction),
    EmailMatching(EmailMatchingAction),
    LockoutSafety(LockoutSafetyAction),
    PushGroups(PushGroupsAction),
    StateMachine(StateMachineAction),
}

/// Every cross-protocol check, in report order.
pub fn checks() -> Vec<Check> {
    let mut checks = deactivation::checks();
    checks.extend(email_matching::checks());
    checks.extend(push_groups::checks());
    checks.extend(lockout_safety::checks());
    checks.extend(state_machine::checks());
    checks
}
