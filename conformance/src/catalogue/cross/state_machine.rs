//! The integration state machine: random sequences of Okta admin actions
//! (create, assign, change email or login, suspend, deactivate, reactivate,
//! unassign, push and rename groups, add and remove members, sign in by
//! SAML or OIDC; where the target names its admin group, push it and make
//! and unmake admins), each applied to the mock org, which provisions the SP
//! through its real SCIM client and signs in through the real flows. After
//! each step the SP's state, read back by SCIM and through the session
//! oracle, must equal a model of what Okta intends, except that the SP
//! must refuse (or ignore) Okta's deactivation or demotion of its last
//! active admin, so that it never ends with none. It finds the orders of
//! events that the one-scenario checks of the four behaviours miss.

use crate::catalogue::{Action, Category, Check, CrossAction, Severity, Weight};

/// What the state-machine check does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateMachineAction {
    /// Runs the bounded number of random cases, shrinking the first that
    /// fails to its shortest failing sequence.
    Integration,
}

/// The state-machine checks, in report order.
pub(super) fn checks() -> Vec<Check> {
    vec![Check {
        id: "cross.state_machine.integration",
        title: "Random sequences of Okta admin actions, provisioned by Okta's SCIM client and signed in through the real flows, leave the SP in the state Okta intends after every step",
        category: Category::IntegrationStateMachine,
        severity: Severity::High,
        reference: "attacks.md section E and K-01 to K-14; Okta SCIM 2.0 reference (provisioning life cycle, Group Push)",
        needs: &[],
        action: Action::Cross(CrossAction::StateMachine(StateMachineAction::Integration)),
        fix: "Replay the shrunk sequence in the evidence (mockta check --only cross.state_machine.integration --seed N) and fix the first step whose state differs from Okta's intent: keep one account per Okta user across email and login changes, end sessions and refuse sign-in when Okta deactivates, suspends or unassigns, keep pushed groups' members exactly as Okta sends them, take the group names Okta renames, and refuse Okta's deactivation or demotion of the last active admin.",
        // The check turns on SCIM provisioning for the target's app in the
        // mock org, which every other check's canaries would be provisioned
        // by too: it runs alone, after the rest, and turns it off again.
        exclusive: true,
        weight: Weight::Fail,
    }]
}
