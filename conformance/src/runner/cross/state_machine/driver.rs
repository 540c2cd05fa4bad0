//! One case of the state machine at the mock and the SP: each act applied
//! to the in-process org (whose provisioning engine then sends Okta's SCIM
//! requests to the SP) or carried out as a sign-in through the target's
//! flow, then the SP's state read back by SCIM and the session oracle and
//! held to the model.

use std::collections::BTreeSet;
use std::sync::Arc;

use mock_idp::admin::{self, Lifecycle};
use mock_idp::idp::Idp;
use mock_idp::ids::{AppId, GroupId, UserId};
use mock_idp::org::provisioning::{
    PasswordChange, ProvisioningFeatures, ProvisioningLinks, ScimAuthentication, ScimProvisioning, default_mappings,
};
use mock_idp::org::{GroupFilter, UsernameTemplate};
use mock_idp::provisioning::{Provisioner, ProvisionerOptions, RetryPolicy};
use mock_idp::scim::requests;
use rand::Rng;
use serde_json::{Value, json};

use super::super::super::browser::Browser;
use super::super::super::scim::{Session, is_true, member};
use super::super::super::{Canary, Step, StepError, Suite};
use super::super::deactivation::{Attempt, SignInBy, sign_in_by};
use super::super::push_groups::groups_at;
use super::model::{Act, EmailName, Model, World};
use crate::target::ScimAuth;

mod judge;

/// What Okta's SCIM userName is made of for the provisioning app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UserNames {
    Email,
    Login,
    /// Another template: the userName is not judged.
    Other,
}

/// SCIM provisioning turned on for the target's app for the run, and the
/// mock's provisioning engine that carries it out.
pub(super) struct Provisioning {
    idp: Arc<Idp>,
    /// The app that provisions: the SAML app, else the OIDC app.
    app: AppId,
    /// Every sign-in app of the target; a person is assigned to all.
    sign_in_apps: Vec<AppId>,
    /// The OIDC app, when it is not the app that provisions.
    second_app: Option<AppId>,
    /// The app's provisioning settings before the run, put back when this
    /// is dropped (the outer `Option` is whether they still are to be).
    before: Option<Option<ScimProvisioning>>,
    engine: Arc<Provisioner>,
    user_names: UserNames,
    /// The filters of the SAML app's group attribute statements, when it
    /// has any: which group names a SAML sign-in carries.
    saml_groups: Option<Vec<GroupFilter>>,
    /// The OIDC app's groups claim filter, when it has one.
    oidc_groups: Option<GroupFilter>,
}

impl Provisioning {
    /// Turns Okta's SCIM provisioning on for the target's app, with the
    /// target's SCIM base URL, credentials and request profile, as an admin
    /// does on the app's Provisioning tab, and starts the mock's engine (or
    /// takes the one already running).
    pub(super) fn turn_on(suite: &Suite) -> Step<Provisioning> {
        let scim = suite.target.scim.as_ref().ok_or_else(|| StepError("the target has no [scim] section".into()))?;
        let idp = suite.idp.clone();
        let saml_app = suite.saml.as_ref().map(|app| app.id.clone());
        let oidc_app = suite.target.oidc.as_ref().map(|oidc| oidc.app.clone());
        let (app, sign_in_apps, second_app, user_names, saml_groups, oidc_groups) = idp
            .read_org(|org| {
                let saml = saml_app.as_deref().and_then(|id| org.find_app(id));
                let oidc = oidc_app.as_deref().and_then(|name| org.find_app(name));
                let app = saml.or(oidc)?;
                let user_names = match app.saml().map(|s| &s.username_template) {
                    Some(UsernameTemplate::Email) => UserNames::Email,
                    Some(UsernameTemplate::OktaUsername) | None => UserNames::Login,
                    Some(_) => UserNames::Other,
                };
                let saml_groups = saml
                    .and_then(|a| a.saml())
                    .map(|s| s.group_attributes.iter().map(|g| g.filter.clone()).collect::<Vec<_>>())
                    .filter(|filters| !filters.is_empty());
                let oidc_groups =
                    oidc.and_then(|a| a.oidc()).and_then(|o| o.groups_claim.as_ref()).map(|c| c.filter.clone());
                let mut apps: Vec<AppId> = [oidc, saml].into_iter().flatten().map(|a| a.id.clone()).collect();
                apps.dedup();
                let second_app = oidc.map(|a| a.id.clone()).filter(|id| *id != app.id);
                Some((app.id.clone(), apps, second_app, user_names, saml_groups, oidc_groups))
            })
            .ok_or_else(|| StepError("the target's sign-in app is not in the org".into()))?;
        let authentication = match &scim.auth {
            ScimAuth::Bearer(token) => ScimAuthentication::Bearer(token.clone()),
            ScimAuth::Basic { user_name, password } => {
                ScimAuthentication::Basic { user: user_name.clone(), password: password.clone() }
            }
        };
        let settings = ScimProvisioning {
            base_url: scim.base_url.trim_end_matches('/').to_owned(),
            authentication,
            unique_identifier: "userName".to_owned(),
            features: ProvisioningFeatures::default_set(),
            request_profile: scim.profile,
            mappings: default_mappings(),
            pushed_groups: Vec::new(),
            links: ProvisioningLinks::default(),
            connection_active: true,
            password_change: PasswordChange::Change,
        };
        let before = idp.write_org(|org| org.apps.get_mut(&app).map(|found| found.provisioning.replace(settings)));
        let before = Some(before.ok_or_else(|| StepError("the target's sign-in app left the org".into()))?);
        // A refused request is Okta's failed task at once: retrying would
        // only wait, and the model judges what the SP then holds.
        let options = ProvisionerOptions {
            retry: RetryPolicy { attempts: 1, ..RetryPolicy::default() },
            ..ProvisionerOptions::default()
        };
        let engine = match idp.provisioner() {
            Some(engine) => engine,
            None => match Provisioner::start(&idp, options) {
                Ok(engine) => engine,
                Err(_) => idp
                    .provisioner()
                    .ok_or_else(|| StepError("the mock's provisioning engine could not start".into()))?,
            },
        };
        Ok(Provisioning { idp, app, sign_in_apps, second_app, before, engine, user_names, saml_groups, oidc_groups })
    }

    /// Puts the app's provisioning settings back as they were.
    pub(super) fn turn_off(self) {
        drop(self);
    }

    /// The SCIM id Okta linked to the user, and whether the link is active.
    fn user_link(&self, user: &UserId) -> Option<(String, bool)> {
        self.idp.read_org(|org| {
            let settings = org.apps.get(&self.app)?.provisioning.as_ref()?;
            settings.links.users.get(user).map(|link| (link.scim_id.clone(), link.active))
        })
    }

    fn group_link(&self, group: &GroupId) -> Option<String> {
        self.idp.read_org(|org| org.apps.get(&self.app)?.provisioning.as_ref()?.links.groups.get(group).cloned())
    }

    fn last_exchange(&self) -> u64 {
        self.engine.transcript().last().map(|exchange| exchange.sequence).unwrap_or(0)
    }

    /// The filters that say which group names a sign-in by `by` carries;
    /// `None` when the app sends no groups that way.
    fn group_filters(&self, by: SignInBy) -> Option<Vec<GroupFilter>> {
        match by {
            SignInBy::Saml => self.saml_groups.clone(),
            SignInBy::Oidc => self.oidc_groups.clone().map(|filter| vec![filter]),
        }
    }
}

impl Drop for Provisioning {
    /// The settings go back however the run ends, a panic or a cancelled
    /// task included, so no later check's canaries are provisioned.
    fn drop(&mut self) {
        let Some(before) = self.before.take() else { return };
        self.idp.write_org(|org| {
            if let Some(found) = org.apps.get_mut(&self.app) {
                found.provisioning = before;
            }
        });
    }
}

/// One step as it happened.
pub(super) struct StepRecord {
    pub(super) act: Act,
    /// What the SP did, in lines free of per-run names where possible.
    pub(super) sp_did: String,
    /// The first state that differed from the model.
    pub(super) differed: Option<String>,
    /// What the SP showed there.
    pub(super) oracle: String,
}

/// A difference between the SP and the model: what differs, and what the
/// SP showed.
struct Difference {
    text: String,
    oracle: String,
}

fn differs(text: impl Into<String>, oracle: impl Into<String>) -> Option<Difference> {
    Some(Difference { text: text.into(), oracle: oracle.into() })
}

/// One case: the model, the people and groups it made at the mock, and
/// the browsers that hold live sessions.
pub(super) struct CaseRun<'a> {
    suite: &'a Suite,
    provisioning: &'a Provisioning,
    model: Model,
    /// The random part of every name of this case.
    tag: String,
    domain: String,
    users: Vec<Option<UserId>>,
    groups: Vec<GroupId>,
    /// Per person, the browsers of their earlier sign-ins.
    /// Per person, the browsers of their earlier sign-ins, each with the
    /// SCIM id of the account it reached where the session showed it.
    sessions: Vec<Vec<(Browser, Option<String>)>>,
    /// Whether the session shows the account's SCIM id, learned from the
    /// first sign-in that reached its person.
    shows_account_ids: Option<bool>,
    /// Per person, whether an OIDC sign-in has reached their account.
    oidc_linked: Vec<bool>,
    scim: Session<'a>,
    /// The target's admin group at the mock org, by name and id, where the
    /// world has it.
    admin_group: Option<(String, GroupId)>,
}

/// A sign-in carried out in a step.
struct SignedIn {
    person: u8,
    by: SignInBy,
    browser: Browser,
    attempt: Attempt,
}

impl<'a> CaseRun<'a> {
    /// A fresh case: its groups made at Okta (empty, not pushed), nobody
    /// yet.
    pub(super) async fn start(suite: &'a Suite, provisioning: &'a Provisioning, world: World) -> Step<CaseRun<'a>> {
        let tag: String = {
            let mut rng = rand::rng();
            (0..8).map(|_| char::from(b'a' + rng.random_range(0..26u8))).collect()
        };
        let domain = suite.idp.read_org(|org| suite.canary_domain(&org.email_domain));
        let mut run = CaseRun {
            suite,
            provisioning,
            model: Model::new(world.clone()),
            tag,
            domain,
            users: vec![None; usize::from(world.people)],
            groups: Vec::new(),
            sessions: (0..world.people).map(|_| Vec::new()).collect(),
            shows_account_ids: None,
            oidc_linked: vec![false; usize::from(world.people)],
            scim: Session::new(suite)?,
            admin_group: None,
        };
        if world.admin_group
            && let Some(name) = suite.target.accounts.admin_group.clone()
        {
            let id = run.fresh_admin_group(&name)?;
            let outside = run.active_admins_at_the_sp(&name).await?;
            run.model = Model::with_outside_admins(world.clone(), outside);
            run.admin_group = Some((name, id));
        }
        for g in 0..world.groups {
            let name = run.group_name(g, 0);
            let body =
                serde_json::from_value(json!({"profile": {"name": name}})).map_err(|e| StepError(e.to_string()))?;
            let now = suite.idp.now();
            let id = okta(&name, suite.idp.apply(|org| admin::create_group(org, body, now, suite.idp.ids())))?;
            run.groups.push(id);
        }
        Ok(run)
    }

    /// The admin group at the mock org, made fresh for the case without
    /// telling the SP (as if it were a new Okta group of that name): the
    /// people earlier cases provisioned leave it, and it is no longer
    /// pushed, so the case's push finds the SP's admin group by name.
    fn fresh_admin_group(&self, name: &str) -> Step<GroupId> {
        let idp = &self.suite.idp;
        if idp.read_org(|org| org.find_group(name).is_none()) {
            let body =
                serde_json::from_value(json!({"profile": {"name": name}})).map_err(|e| StepError(e.to_string()))?;
            let now = idp.now();
            okta(name, idp.apply(|org| admin::create_group(org, body, now, idp.ids())))?;
        }
        let app = self.provisioning.app.clone();
        idp.write_org(|org| {
            let id = org.find_group(name).map(|g| g.id.clone())?;
            let linked: BTreeSet<UserId> = org
                .apps
                .get(&app)
                .and_then(|a| a.provisioning.as_ref())
                .map(|settings| settings.links.users.keys().cloned().collect())
                .unwrap_or_default();
            if let Some(group) = org.groups.get_mut(&id) {
                group.members.retain(|member| !linked.contains(member));
            }
            if let Some(settings) = org.apps.get_mut(&app).and_then(|a| a.provisioning.as_mut()) {
                settings.links.groups.remove(&id);
                settings.pushed_groups.retain(|pushed| *pushed != id);
            }
            Some(id)
        })
        .ok_or_else(|| StepError(format!("the mock org has no group {name}")))
    }

    /// How many active admins the SP has before the case: the members of
    /// its admin group that SCIM reads active. The last-admin rule is
    /// judged against them, since the admin group is the tenant's.
    async fn active_admins_at_the_sp(&mut self, name: &str) -> Step<u32> {
        let lookup = self.scim.send(&requests::find_group(name)).await?;
        let group_ids = lookup.resource_ids();
        let mut active = 0;
        for group_id in group_ids.iter().take(1) {
            for id in self.member_ids(group_id).await? {
                let read = self.scim.read_user(&id).await?;
                if read.status == 200 && is_true(read.json.as_ref().and_then(|u| member(u, "active"))) == Some(true) {
                    active += 1;
                }
            }
        }
        self.scim.exchanges.clear();
        Ok(active)
    }

    /// The SCIM ids of a group's members at the SP.
    async fn member_ids(&mut self, group_id: &str) -> Step<BTreeSet<String>> {
        let read = self.scim.read_group(group_id).await?;
        Ok(read
            .json
            .as_ref()
            .and_then(|g| member(g, "members"))
            .and_then(Value::as_array)
            .map(|members| {
                members.iter().filter_map(|m| m.get("value").and_then(Value::as_str)).map(str::to_owned).collect()
            })
            .unwrap_or_default())
    }

    /// Whether the case's model allows the act where it stands.
    pub(super) fn allows(&self, act: &Act) -> bool {
        self.model.allows(act)
    }

    fn admin_group_id(&self) -> Step<GroupId> {
        self.admin_group.as_ref().map(|(_, id)| id.clone()).ok_or_else(|| StepError("no admin group".into()))
    }

    fn email(&self, email: EmailName) -> String {
        format!("sm-{}-p{}-e{}@{}", self.tag, email.owner, email.version, self.domain)
    }

    fn login(&self, person: u8, login: u8) -> String {
        format!("sm-{}-p{person}-l{login}@{}", self.tag, self.domain)
    }

    fn group_name(&self, group: u8, name: u8) -> String {
        format!("sm-{}-g{group}-n{name}", self.tag)
    }

    fn user(&self, person: u8) -> Step<UserId> {
        self.users
            .get(usize::from(person))
            .cloned()
            .flatten()
            .ok_or_else(|| StepError(format!("p{person} was never made at the mock")))
    }

    fn group(&self, group: u8) -> Step<GroupId> {
        self.groups.get(usize::from(group)).cloned().ok_or_else(|| StepError(format!("no group g{group}")))
    }

    /// Takes one act: at the mock, then the SP's state held to the model.
    pub(super) async fn step(&mut self, act: &Act) -> Step<StepRecord> {
        let engine = &self.provisioning.engine;
        let since = self.provisioning.last_exchange();
        let tasks_before = engine.failed_tasks().len();
        let mut next = self.model.clone();
        next.apply(act);
        let signed_in = self.act_at_the_mock(act, &next).await?;
        engine.wait_idle().await;
        // An SP that answered Okta's deactivation of its last admin with
        // success (Okta's link now inactive) and kept the account ignored
        // it, which the model takes as it takes a refusal.
        for person in 0..next.world.people {
            let okta_link_inactive = self
                .user(person)
                .ok()
                .and_then(|user| self.provisioning.user_link(&user))
                .is_some_and(|(_, active)| !active);
            if okta_link_inactive && next.account_active(person) == Some(true) {
                next.deactivation_was_ignored(person);
            }
        }
        self.model = next;
        let mut did: Vec<String> = Vec::new();
        let base = self.provisioning_base();
        for exchange in engine.transcript_after(since) {
            did.push(describe_exchange(&base, &exchange));
        }
        for task in engine.failed_tasks().iter().skip(tasks_before) {
            let status = task.status.map(|s| format!(", the SP answered {s}")).unwrap_or_default();
            did.push(format!("Okta's task failed ({}{status})", task.code));
        }
        if let Act::SignIn { person, by } = act
            && signed_in.is_none()
        {
            did.push(format!("Okta refuses p{person}'s {} sign-in (not active and assigned at Okta)", by.name()));
        }
        if let Some(signed) = &signed_in {
            did.push(format!(
                "{} sign-in: the SP answered {}; the oracle saw {}",
                signed.by.name(),
                answered_briefly(&signed.attempt),
                signed.attempt.seen.describe()
            ));
        }
        self.scim.exchanges.clear();
        let difference = self.observe(signed_in).await?;
        let sp_did = if did.is_empty() { "nothing sent to the SP".to_owned() } else { did.join("; ") };
        let (differed, oracle) = match difference {
            Some(Difference { text, oracle }) => (Some(text), oracle),
            None => (None, String::new()),
        };
        Ok(StepRecord { act: *act, sp_did, differed, oracle })
    }

    fn provisioning_base(&self) -> String {
        self.suite.target.scim.as_ref().map(|s| s.base_url.trim_end_matches('/').to_owned()).unwrap_or_default()
    }

    /// Carries the act out at the mock org (the provisioning engine sends
    /// what follows from it), or signs the person in. `next` is the model
    /// after the act.
    async fn act_at_the_mock(&mut self, act: &Act, next: &Model) -> Step<Option<SignedIn>> {
        let idp = self.suite.idp.clone();
        let now = idp.now();
        let person_of = |p: u8| next.people.get(usize::from(p));
        match *act {
            Act::CreateUser(p) => {
                let person = person_of(p).ok_or_else(|| StepError(format!("no person p{p}")))?;
                let (login, email) = (self.login(p, person.login), self.email(person.email));
                let body = serde_json::from_value(json!({"profile": {
                    "login": login, "email": email, "firstName": "State", "lastName": format!("Machine {p}")
                }}))
                .map_err(|e| StepError(e.to_string()))?;
                let id = okta(
                    &format!("create p{p}"),
                    idp.apply(|org| admin::create_user(org, body, true, now, idp.ids())),
                )?;
                if let Some(slot) = self.users.get_mut(usize::from(p)) {
                    *slot = Some(id);
                }
            }
            Act::Assign(p) | Act::AssignOidcApp(p) => {
                let user = self.user(p)?;
                let apps = match act {
                    Act::AssignOidcApp(_) => self.provisioning.second_app.iter().cloned().collect(),
                    _ => self.provisioning.sign_in_apps.clone(),
                };
                for app in &apps {
                    let body = serde_json::from_value(json!({})).map_err(|e| StepError(e.to_string()))?;
                    okta(
                        &format!("assign p{p}"),
                        idp.apply(|org| admin::assign_user(org, app.as_str(), Some(user.as_str()), body, now)),
                    )?;
                }
            }
            Act::Unassign(p) => {
                let user = self.user(p)?;
                for app in &self.provisioning.sign_in_apps {
                    let assigned = idp.read_org(|org| org.apps.get(app).is_some_and(|a| a.users.contains_key(&user)));
                    if assigned {
                        okta(
                            &format!("unassign p{p}"),
                            idp.apply(|org| admin::unassign_user(org, app.as_str(), user.as_str())),
                        )?;
                    }
                }
            }
            Act::ChangeEmail(p) | Act::TakeFormerEmail { person: p, .. } | Act::ChangeLogin(p) => {
                let user = self.user(p)?;
                let person = person_of(p).ok_or_else(|| StepError(format!("no person p{p}")))?;
                let profile = match act {
                    Act::ChangeLogin(_) => json!({"login": self.login(p, person.login)}),
                    _ => json!({"email": self.email(person.email)}),
                };
                let body =
                    serde_json::from_value(json!({ "profile": profile })).map_err(|e| StepError(e.to_string()))?;
                okta(&act.to_string(), idp.apply(|org| admin::update_user(org, user.as_str(), body, true, now)))?;
            }
            Act::Deactivate(p) | Act::Reactivate(p) | Act::Suspend(p) | Act::Unsuspend(p) => {
                let user = self.user(p)?;
                let operation = match act {
                    Act::Deactivate(_) => Lifecycle::Deactivate,
                    Act::Reactivate(_) => Lifecycle::Activate,
                    Act::Suspend(_) => Lifecycle::Suspend,
                    _ => Lifecycle::Unsuspend,
                };
                okta(&act.to_string(), idp.apply(|org| admin::lifecycle(org, user.as_str(), operation, now)))?;
            }
            Act::PushGroup(g) => {
                let group = self.group(g)?;
                let name = self.group_name(g, next.groups.get(usize::from(g)).map(|found| found.name).unwrap_or(0));
                // An SP whose pushed groups link only to teams that exist
                // gets the team first, as its admin would make it.
                if let Some(hook) = &self.suite.target.create_group {
                    self.suite.call_hook("create_group", hook, &[("{name}", &name)]).await?;
                }
                self.provisioning
                    .engine
                    .push_group_now(self.provisioning.app.as_str(), group.as_str())
                    .await
                    .map_err(|e| StepError(format!("Okta's push of g{g}: {e}")))?;
            }
            Act::RenameGroup(g) => {
                let group = self.group(g)?;
                let name = self.group_name(g, next.groups.get(usize::from(g)).map(|found| found.name).unwrap_or(0));
                let body =
                    serde_json::from_value(json!({"profile": {"name": name}})).map_err(|e| StepError(e.to_string()))?;
                okta(&act.to_string(), idp.apply(|org| admin::update_group(org, group.as_str(), body, now)))?;
            }
            Act::PushAdminGroup => {
                let group = self.admin_group_id()?;
                if let (Some(hook), Some((name, _))) = (&self.suite.target.create_group, &self.admin_group) {
                    self.suite.call_hook("create_group", hook, &[("{name}", name)]).await?;
                }
                self.provisioning
                    .engine
                    .push_group_now(self.provisioning.app.as_str(), group.as_str())
                    .await
                    .map_err(|e| StepError(format!("Okta's push of the admin group: {e}")))?;
            }
            Act::AddMember { person, .. }
            | Act::RemoveMember { person, .. }
            | Act::MakeAdmin(person)
            | Act::Demote(person) => {
                // Making an admin is joining the admin group, and demoting
                // one is leaving it: the same Okta membership change.
                let group_id = match act {
                    Act::AddMember { group, .. } | Act::RemoveMember { group, .. } => self.group(*group)?,
                    _ => self.admin_group_id()?,
                };
                let user = self.user(person)?;
                let adding = matches!(act, Act::AddMember { .. } | Act::MakeAdmin(_));
                okta(
                    &act.to_string(),
                    idp.apply(|org| {
                        if adding {
                            admin::add_member(org, group_id.as_str(), user.as_str(), now)
                        } else {
                            admin::remove_member(org, group_id.as_str(), user.as_str(), now)
                        }
                    }),
                )?;
            }
            Act::SignIn { person, by } => {
                if !next.okta_lets_in(person, by) {
                    return Ok(None);
                }
                let found = person_of(person).ok_or_else(|| StepError(format!("no person p{person}")))?;
                // The login hint is the Okta login, which is unique; the
                // email may have been another person's.
                let canary = Canary {
                    email: self.login(person, found.login),
                    name: format!("State Machine {person}"),
                    family_name: format!("Machine {person}"),
                };
                let browser = self.suite.browser()?;
                let attempt = sign_in_by(self.suite, by, &browser, &canary).await?;
                return Ok(Some(SignedIn { person, by, browser, attempt }));
            }
        }
        Ok(None)
    }
}

/// An Okta management operation's result; a refusal is the driver's own
/// mistake (the model allowed what Okta does not), so the check errors.
fn okta<T>(what: &str, result: Result<T, admin::OktaApiError>) -> Step<T> {
    result.map_err(|e| StepError(format!("the mock org refused '{what}': {e}")))
}

/// "302" or "403 account.deactivated".
fn answered_briefly(attempt: &Attempt) -> String {
    match &attempt.answer.error_code {
        Some(code) => format!("{} {code}", attempt.answer.status),
        None => attempt.answer.status.to_string(),
    }
}

/// One of Okta's exchanges as "PATCH /Groups/{id} → 204": the resource
/// kept, its id and the query left out, so lines read the same every run.
fn describe_exchange(base: &str, exchange: &mock_idp::provisioning::Exchange) -> String {
    let path = exchange.request.url.strip_prefix(base).unwrap_or(&exchange.request.url);
    let (path, query) = match path.split_once('?') {
        Some((path, _)) => (path, "?filter=…"),
        None => (path, ""),
    };
    let mut segments = path.trim_start_matches('/').split('/');
    let resource = segments.next().unwrap_or_default();
    let id = if segments.next().is_some() { "/{id}" } else { "" };
    let answer = match (&exchange.response, &exchange.error) {
        (Some(response), _) => response.status.to_string(),
        (None, Some(error)) => format!("no reply ({error})"),
        (None, None) => "no reply".to_owned(),
    };
    format!("{} /{resource}{id}{query} → {answer}", exchange.request.method)
}
