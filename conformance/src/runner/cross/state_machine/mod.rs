//! Carries out the integration state machine: random sequences of Okta
//! admin actions (`model.rs` generates them and says what Okta intends),
//! each applied to the in-process mock org, which provisions the SP through
//! the mock's own SCIM client (`mock_idp::provisioning::Provisioner`, with
//! the target's SCIM base URL and credentials on the org's app) and signs
//! people in through the real SAML and OIDC flows. After each step the SP's
//! state, read back by SCIM and through the session oracle, must equal the
//! model (`driver.rs`). The first case that differs is shrunk, by leaving
//! acts out one at a time while it still fails, and the shortest failing
//! sequence is the evidence, step by step.
//!
//! Each case uses fresh people and groups (a random tag in every email,
//! login and group name), so cases and reruns never collide at an SP that
//! keeps its accounts. The sequences come from the seed alone, so a seed
//! replays the same sequences (`mockta check --seed N`).
//!
//! Where the target names its admin group (`accounts.admin_group`), the
//! world has it too: Okta pushes it and adds and removes people, and the
//! acts that would take an admin away are drawn more often (from a stream
//! of their own, so the other acts of a seed stay the same). The admin
//! group is the tenant's: each case starts by reading how many active
//! admins the SP's admin group already holds, and the SP must refuse (or
//! ignore) exactly the requests that would leave it none.

mod driver;
mod model;

use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::super::{Evidence, Outcome, Step, Suite};
use super::deactivation::{SignInBy, cannot_sign_in_by};
use driver::{CaseRun, Provisioning, StepRecord};
use model::{Act, World};

/// How many cases a run tries when the suite is not told otherwise: enough
/// to reach each behaviour's usual mistakes, few enough that the whole
/// catalogue against a local SP stays well under 30 seconds.
pub const DEFAULT_CASES: u32 = 32;
/// The most acts one case has.
const MOST_ACTS: usize = 18;
/// The most replays the shrinking may take, so a failure's report comes in
/// bounded time.
const MOST_SHRINK_REPLAYS: usize = 48;

/// The shrunk failing sequence, step by step: the evidence of the
/// state-machine check.
#[derive(Clone, Debug, Serialize)]
pub struct SequenceEvidence {
    /// The seed the run drew its cases from (`--seed` replays it).
    pub seed: u64,
    /// The failing case's number, from 1.
    pub case: u32,
    /// How many acts the failing case had before it was shrunk.
    pub original_length: usize,
    pub steps: Vec<SequenceStep>,
    /// What the SP showed where it first differed from the model.
    pub oracle: String,
}

/// One step of a shrunk sequence.
#[derive(Clone, Debug, Serialize)]
pub struct SequenceStep {
    pub number: usize,
    /// The Okta admin action or sign-in, in the model's symbolic names.
    pub action: String,
    /// What the SP did: Okta's SCIM requests and their answers, or the
    /// sign-in's answer and session.
    pub sp_did: String,
    /// The first state that differed from the model, on the last step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differed: Option<String>,
}

impl SequenceEvidence {
    pub(in crate::runner) fn message_summary(&self) -> Option<(&'static str, String)> {
        let mut text = format!(
            "case {} of seed {}, {} steps (shrunk from {})",
            self.case,
            self.seed,
            self.steps.len(),
            self.original_length
        );
        for step in &self.steps {
            text.push_str(&format!("\n    {}. {}: {}", step.number, step.action, step.sp_did));
            if let Some(differed) = &step.differed {
                text.push_str(&format!("\n       differs from Okta's intent: {differed}"));
            }
        }
        Some(("shrunk sequence", text))
    }

    /// The steps as the human report shows them.
    pub fn steps_text(&self) -> String {
        self.message_summary().map(|(_, text)| text).unwrap_or_default()
    }

    pub(in crate::runner) fn last_answer(&self) -> Option<String> {
        self.steps.last().map(|step| step.sp_did.clone())
    }
}

/// The run's settings: the seed the cases are drawn from and how many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateMachineOptions {
    pub seed: u64,
    pub cases: u32,
}

pub(super) async fn execute(suite: &Suite) -> Step<Outcome> {
    let sign_in: Vec<SignInBy> =
        [SignInBy::Saml, SignInBy::Oidc].into_iter().filter(|by| cannot_sign_in_by(suite, *by).is_none()).collect();
    if sign_in.is_empty() {
        return Ok(Outcome::skip(
            "the target has neither a [saml] section nor an [oidc] section with a login_url to sign in by",
        ));
    }
    let options = suite.state_machine_options();
    let provisioning = Provisioning::turn_on(suite)?;
    let outcome = run_cases(suite, &provisioning, &sign_in, options).await;
    // The app's provisioning goes back to what the org file said whatever
    // happened, so no later check's canaries are provisioned by it.
    provisioning.turn_off();
    outcome
}

/// The acts of case `case` of `seed`: the same for the same seed.
fn case_acts(seed: u64, case: u32, sign_in: &[SignInBy], admin_group: bool) -> (World, Vec<Act>) {
    // Each case has its own stream, so case 5 is the same whether or not
    // cases 1 to 4 ran.
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ u64::from(case).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let length = rng.random_range(MOST_ACTS / 2..=MOST_ACTS);
    model::generate(&mut rng, sign_in, admin_group, length)
}

/// How one replay of a sequence ended.
struct Replay {
    records: Vec<StepRecord>,
    /// The index of the step that differed, with what the SP showed.
    failed_at: Option<(usize, String)>,
}

async fn replay(suite: &Suite, provisioning: &Provisioning, world: &World, acts: &[Act]) -> Step<Replay> {
    let mut run = CaseRun::start(suite, provisioning, world.clone()).await?;
    let mut records = Vec::new();
    for (index, act) in acts.iter().enumerate() {
        // An act the case's own start makes unallowed (the SP had admins
        // before it) is left out, as Okta would not take it either.
        if !run.allows(act) {
            continue;
        }
        let record = run.step(act).await?;
        let differed = record.differed.is_some();
        let oracle = record.oracle.clone();
        records.push(record);
        if differed {
            return Ok(Replay { records, failed_at: Some((index, oracle)) });
        }
    }
    Ok(Replay { records, failed_at: None })
}

async fn run_cases(
    suite: &Suite,
    provisioning: &Provisioning,
    sign_in: &[SignInBy],
    options: StateMachineOptions,
) -> Step<Outcome> {
    let mut steps_run = 0;
    for case in 1..=options.cases {
        // Where SCIM waits for a verified sign-in, the run began by signing
        // an admin in through the IdP, whom the admin group does not show:
        // the model could not count the SP's admins, so it plays no admin acts.
        let admin_group = suite.target.accounts.admin_group.is_some()
            && !suite.target.scim.as_ref().is_some_and(|scim| scim.requires_verified_sso);
        let (world, acts) = case_acts(options.seed, case, sign_in, admin_group);
        let first = replay(suite, provisioning, &world, &acts).await?;
        steps_run += first.records.len();
        let Some((failed_at, _)) = first.failed_at else { continue };
        let original_length = failed_at + 1;
        let (records, oracle) = shrink(suite, provisioning, &world, acts[..original_length].to_vec(), first).await?;
        let difference = records.last().and_then(|r| r.differed.clone()).unwrap_or_default();
        let steps: Vec<SequenceStep> = records
            .into_iter()
            .enumerate()
            .map(|(n, record)| SequenceStep {
                number: n + 1,
                action: record.act.to_string(),
                sp_did: record.sp_did,
                differed: record.differed,
            })
            .collect();
        let reason = format!(
            "case {case} of {} (seed {}, {} people, {} groups) differed from Okta's intent after {} steps, shrunk from {original_length}: {difference}",
            options.cases,
            options.seed,
            world.people,
            world.groups,
            steps.len()
        );
        let evidence = SequenceEvidence { seed: options.seed, case, original_length, steps, oracle };
        return Ok(Outcome::fail(reason, Some(Evidence::Sequence(evidence))));
    }
    Ok(Outcome::pass(format!(
        "{} cases (seed {}, {steps_run} steps, signing in by {}) each left the SP as Okta intends after every step",
        options.cases,
        options.seed,
        sign_in.iter().map(|by| by.name()).collect::<Vec<_>>().join(" and ")
    )))
}

/// Shrinks a failing sequence: tries each shorter candidate (one act left
/// out, acts no longer allowed dropped), keeps the first that still fails,
/// and starts again from it, until none fails or the replays run out.
/// Returns the records of the shortest failing replay and what the SP
/// showed at its differing step.
async fn shrink(
    suite: &Suite,
    provisioning: &Provisioning,
    world: &World,
    mut acts: Vec<Act>,
    first: Replay,
) -> Step<(Vec<StepRecord>, String)> {
    let mut best = first;
    let mut replays = 0;
    'shorter: loop {
        for candidate in model::shrink_candidates(world, &acts) {
            if replays >= MOST_SHRINK_REPLAYS {
                break 'shorter;
            }
            replays += 1;
            let attempt = replay(suite, provisioning, world, &candidate).await?;
            if let Some((failed_at, _)) = attempt.failed_at {
                acts = candidate[..=failed_at].to_vec();
                best = attempt;
                continue 'shorter;
            }
        }
        break;
    }
    let oracle = best.failed_at.map(|(_, oracle)| oracle).unwrap_or_default();
    Ok((best.records, oracle))
}
