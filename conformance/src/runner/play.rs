//! A vendor profile's play: the steps of one vendor's guide, run against the
//! SP the target describes, each judged as it happens.
//!
//! The checks judge one rule each, with canary users; a play walks the
//! guide's own story with the org's own users (the admin signs in from the
//! dashboard, then Okta provisions, then a user is deactivated), so a
//! vendor sees the whole set-up work, or the step where it breaks.

use std::sync::Arc;

use mock_idp::admin::{self, Lifecycle};
use mock_idp::provisioning::{Provisioner, ProvisionerOptions};

use super::{Canary, Step, StepError, Suite};
use crate::profile::{Expect, PlayStep, ScimExpect, SignInWay};

/// One step as it went.
#[derive(Clone, Debug)]
pub struct PlayLine {
    /// The step's number in the play, from 1.
    pub step: usize,
    pub passed: bool,
    /// What was done and what the SP did.
    pub text: String,
    /// The sentence of the guide the step plays.
    pub guide_says: String,
}

/// What a play did.
#[derive(Clone, Debug, Default)]
pub struct PlayOutcome {
    pub lines: Vec<PlayLine>,
}

impl PlayOutcome {
    /// Whether every step held (an empty play holds).
    pub fn passed(&self) -> bool {
        self.lines.iter().all(|line| line.passed)
    }

    /// The numbers of the steps that did not hold.
    pub fn failed_steps(&self) -> Vec<usize> {
        self.lines.iter().filter(|line| !line.passed).map(|line| line.step).collect()
    }

    /// The play as the demo prints it, under `title`.
    pub fn to_human(&self, title: &str) -> String {
        let mut text = format!("\nPlay ({title}, as its guide sets it up):\n");
        for line in &self.lines {
            text.push_str(&format!(
                "  {}. {} {}\n       guide: \"{}\"\n",
                line.step,
                if line.passed { "pass" } else { "FAIL" },
                line.text,
                line.guide_says
            ));
        }
        text.push_str(&format!("  result: {}\n", if self.passed() { "passed" } else { "failed" }));
        text
    }
}

impl Suite {
    /// Runs the play's steps in order. A step that cannot run (an unknown
    /// user, an SP that does not answer) fails with the reason, and the play
    /// goes on, so one broken step does not hide what the others show.
    pub async fn play(self: &Arc<Self>, steps: &[PlayStep]) -> PlayOutcome {
        let mut outcome = PlayOutcome::default();
        for (index, step) in steps.iter().enumerate() {
            let (passed, text) = match self.play_step(step).await {
                Ok(judged) => judged,
                Err(StepError(reason)) => (false, format!("could not run: {reason}")),
            };
            outcome.lines.push(PlayLine { step: index + 1, passed, text, guide_says: step.guide_says().to_owned() });
        }
        outcome
    }

    async fn play_step(self: &Arc<Self>, step: &PlayStep) -> Step<(bool, String)> {
        match step {
            PlayStep::CreateAccount { user, .. } => {
                let person = self.org_person(user)?;
                let Some(hook) = &self.target.create_user else {
                    return Err(StepError("the target has no create_user hook for the vendor to make accounts".into()));
                };
                self.call_hook("create_user", hook, &[("{email}", &person.email), ("{name}", &person.name)]).await?;
                Ok((true, format!("the vendor made the account of {} ({})", person.email, person.name)))
            }
            PlayStep::CreateTeam { name, .. } => {
                let Some(hook) = &self.target.create_group else {
                    return Err(StepError(
                        "the target has no create_group hook for the SP's admin to make teams".into(),
                    ));
                };
                self.call_hook("create_group", hook, &[("{name}", name)]).await?;
                Ok((true, format!("the SP's admin made the team {name}")))
            }
            PlayStep::SignIn { user, via, expect, refusal_text, .. } => {
                self.play_sign_in(user, *via, *expect, refusal_text.as_deref()).await
            }
            PlayStep::PushNow { app, .. } => self.play_push_now(app).await,
            PlayStep::PushGroup { group, app, expect, .. } => self.play_push_group(group, app, *expect).await,
            PlayStep::Deactivate { user, app, expect, .. } => self.play_deactivate(user, app, *expect).await,
        }
    }

    /// The org's user as the checks' drivers take one: the login hint is the
    /// login, which the profiles keep equal to the email.
    fn org_person(&self, login: &str) -> Step<Canary> {
        self.idp
            .read_org(|org| {
                org.find_user(login).map(|user| Canary {
                    email: user.profile.login.clone(),
                    name: format!("{} {}", user.profile.first_name, user.profile.last_name).trim().to_owned(),
                    family_name: user.profile.last_name.clone(),
                })
            })
            .ok_or_else(|| StepError(format!("the org has no user '{login}'")))
    }

    async fn play_sign_in(
        &self,
        user: &str,
        via: SignInWay,
        expect: Expect,
        refusal_text: Option<&str>,
    ) -> Step<(bool, String)> {
        let person = self.org_person(user)?;
        let browser = self.browser()?;
        let answer = match via {
            SignInWay::SamlIdpInitiated => {
                super::saml::SamlDriver::new(self)?.idp_initiated_capture(&browser, &person, None).await?.1
            }
            SignInWay::SamlSpInitiated => {
                let driver = super::saml::SamlDriver::new(self)?;
                if !driver.has_login_url() {
                    return Err(StepError("the target has no saml.login_url for an SP-initiated sign-in".into()));
                }
                driver.sign_in_capture(&browser, &person).await?.1
            }
            SignInWay::Oidc => {
                let driver = super::oidc::OidcDriver::new(self)?;
                let mut redirected = driver.start(&browser, &person).await?;
                driver.finish(&browser, &mut redirected).await?
            }
        };
        let seen = self.oracle(&browser).await?;
        let said = format!("{} {}", person.email, via.describe());
        match expect {
            Expect::Session if seen.is(&person.email) => {
                Ok((true, format!("{said}: the SP's session shows {}", person.email)))
            }
            Expect::Session => Ok((
                false,
                format!(
                    "{said}: wanted a session, the session URL shows {} (the SP answered {} {})",
                    seen.describe(),
                    answer.status,
                    super::excerpt(&answer.body, 160)
                ),
            )),
            Expect::Refused if seen.identity.is_some() => {
                Ok((false, format!("{said}: wanted a refusal, the SP gave {}", seen.describe())))
            }
            Expect::Refused => match refusal_text {
                Some(text) if !answer.body.to_lowercase().contains(&text.to_lowercase()) => Ok((
                    false,
                    format!(
                        "{said}: refused, but the SP's page does not say \"{text}\" (it answered {} {})",
                        answer.status,
                        super::excerpt(&answer.body, 160)
                    ),
                )),
                Some(text) => Ok((true, format!("{said}: refused with \"{text}\" (status {})", answer.status))),
                None => Ok((true, format!("{said}: refused (status {}), no session", answer.status))),
            },
        }
    }

    /// The mock's provisioning engine: the one already running, or a new one.
    fn provisioning_engine(&self) -> Step<Arc<Provisioner>> {
        if let Some(engine) = self.idp.provisioner() {
            return Ok(engine);
        }
        Provisioner::start(&self.idp, ProvisionerOptions::default())
            .or_else(|error| self.idp.provisioner().ok_or(error))
            .map_err(|error| StepError(format!("the mock's provisioning engine could not start: {error}")))
    }

    async fn play_push_now(&self, app: &str) -> Step<(bool, String)> {
        let engine = self.provisioning_engine()?;
        let summary = engine
            .push_now(app)
            .await
            .map_err(|error| StepError(format!("Push now of {app} could not start: {error}")))?;
        engine.wait_idle().await;
        let (linked, unlinked, groups) = self
            .idp
            .read_org(|org| {
                let app = org.find_app(app)?;
                let links = &app.provisioning.as_ref()?.links;
                let mut linked = Vec::new();
                let mut unlinked = Vec::new();
                for user in org.assigned_users(app) {
                    if user.status != mock_idp::org::UserStatus::Active {
                        continue;
                    }
                    match links.users.get(&user.id) {
                        Some(link) if link.active => linked.push(user.profile.login.clone()),
                        _ => unlinked.push(user.profile.login.clone()),
                    }
                }
                Some((linked, unlinked, links.groups.len()))
            })
            .ok_or_else(|| StepError(format!("the org has no provisioning app '{app}'")))?;
        let failed = engine.failed_tasks();
        let text = format!(
            "Push now of {app}: {} operations; {} users provisioned ({}), {groups} groups linked",
            summary.operations,
            linked.len(),
            linked.join(", ")
        );
        if !failed.is_empty() || !unlinked.is_empty() {
            let reasons: Vec<String> = failed.iter().map(describe_failed_task).collect();
            return Ok((
                false,
                format!("{text}; not provisioned: {}; failed tasks: {}", unlinked.join(", "), reasons.join("; ")),
            ));
        }
        Ok((!linked.is_empty(), text))
    }

    async fn play_push_group(&self, group: &str, app: &str, expect: ScimExpect) -> Step<(bool, String)> {
        let engine = self.provisioning_engine()?;
        let failed_before = engine.failed_tasks().len();
        let group_id = self
            .idp
            .read_org(|org| org.find_group(group).map(|g| g.id.clone()))
            .ok_or_else(|| StepError(format!("the org has no group '{group}'")))?;
        let added = self.idp.write_org(|org| {
            let settings = org.apps.values_mut().find(|a| a.name == app)?.provisioning.as_mut()?;
            if !settings.pushed_groups.contains(&group_id) {
                settings.pushed_groups.push(group_id.clone());
            }
            Some(())
        });
        added.ok_or_else(|| StepError(format!("the org has no provisioning app '{app}'")))?;
        engine.push_now(app).await.map_err(|error| StepError(format!("Push now of {app} could not start: {error}")))?;
        engine.wait_idle().await;
        let linked =
            self.idp.read_org(|org| org.find_app(app)?.provisioning.as_ref()?.links.groups.get(&group_id).cloned());
        let failed: Vec<String> = engine.failed_tasks().iter().skip(failed_before).map(describe_failed_task).collect();
        let mut session = super::scim::Session::new(self)?;
        // What the SP holds of that name now, read as Okta's push looks for it.
        let teams = session.send(&mock_idp::scim::requests::find_group(group)).await?.resource_ids().len();
        match expect {
            ScimExpect::Applied => match linked {
                Some(id) if failed.is_empty() => {
                    Ok((true, format!("Okta pushed {group}: linked to the SP's group {id}")))
                }
                _ => {
                    Ok((false, format!("Okta's push of {group} did not link it; failed tasks: {}", failed.join("; "))))
                }
            },
            ScimExpect::Refused => {
                if linked.is_none() && teams == 0 {
                    Ok((
                        true,
                        format!(
                            "Okta's push of {group}, which names no team, was refused ({}) and made none",
                            failed.join("; ")
                        ),
                    ))
                } else {
                    Ok((
                        false,
                        format!(
                            "Okta's push of {group}, which names no team, {}; the SP now lists {teams} groups of that name",
                            match &linked {
                                Some(id) => format!("was taken as the SP's group {id}"),
                                None => "was not linked".to_owned(),
                            }
                        ),
                    ))
                }
            }
        }
    }

    async fn play_deactivate(&self, user: &str, app: &str, expect: ScimExpect) -> Step<(bool, String)> {
        let engine = self.provisioning_engine()?;
        let failed_before = engine.failed_tasks().len();
        let now = self.idp.now();
        self.idp
            .apply(|org| admin::lifecycle(org, user, Lifecycle::Deactivate, now))
            .map_err(|error| StepError(format!("Okta could not deactivate {user}: {error}")))?;
        engine.wait_idle().await;
        let link = self.idp.read_org(|org| {
            let found = org.find_user(user)?;
            org.find_app(app)?.provisioning.as_ref()?.links.users.get(&found.id).cloned()
        });
        let Some(link) = link else {
            return Ok((false, format!("{user} deactivated in Okta, but {app} never provisioned them")));
        };
        let failed: Vec<String> = engine.failed_tasks().iter().skip(failed_before).map(describe_failed_task).collect();
        // What the SP holds now, read as Okta's import would.
        let read = super::scim::Session::new(self)?.read_user(&link.scim_id).await?;
        let active = read.json.as_ref().and_then(|body| super::scim::is_true(super::scim::member(body, "active")));
        let held = match active {
            Some(true) => "active",
            Some(false) => "inactive",
            None => "unreadable",
        };
        let said =
            format!("{user} deactivated in Okta: the SP reads account {} {held} ({})", link.scim_id, read.status);
        match expect {
            ScimExpect::Applied if active == Some(false) && failed.is_empty() => Ok((true, said)),
            ScimExpect::Applied => Ok((false, format!("{said}; failed tasks: {}", failed.join("; ")))),
            ScimExpect::Refused if active == Some(true) => {
                let how = if failed.is_empty() {
                    "it kept the account".to_owned()
                } else {
                    format!("it refused: {}", failed.join("; "))
                };
                Ok((true, format!("{said}: {how}")))
            }
            ScimExpect::Refused => Ok((false, format!("{said}, though it must keep this account"))),
        }
    }
}

/// A failed provisioning task as one clause: "create alice@… answered 400 (detail)".
fn describe_failed_task(task: &mock_idp::provisioning::FailedTask) -> String {
    match task.status {
        Some(status) => format!("{} answered {status} {}: {}", task.label, task.code, task.error),
        None => format!("{} got no answer: {}", task.label, task.error),
    }
}
