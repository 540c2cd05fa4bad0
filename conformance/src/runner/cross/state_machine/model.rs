//! The reference model: what Okta intends the SP to hold after each admin
//! action, and the generator of action sequences over a small world.
//!
//! The model is pure. It follows Okta's provisioning rules as the mock's
//! SCIM client carries them out (`mock_idp::scim::plan::decide_user`): a
//! user is provisioned when they are active and assigned, deactivated when
//! they stop being either, reactivated (with the profile changed meanwhile)
//! when they are both again; profile changes reach the SP only while the
//! account is active; a pushed group holds exactly the Okta members that are
//! provisioned. Emails and logins are symbolic (`p0-e1` is person 0's
//! second email) so that a sequence reads the same in every run; the driver
//! turns them into addresses unique to one case.

use std::collections::BTreeSet;
use std::fmt;

use rand::{Rng, SeedableRng};

use super::super::deactivation::SignInBy;

/// How many people and groups a world may have at most.
pub(super) const MOST_PEOPLE: u8 = 3;
pub(super) const MOST_GROUPS: u8 = 2;
/// How many emails, logins and group names one person or group may go
/// through in one case, so that names stay short.
const MOST_EMAILS: u8 = 4;
const MOST_LOGINS: u8 = 3;
const MOST_GROUP_NAMES: u8 = 3;

/// The world of one case: how many people and groups, and the sign-in
/// protocols the target declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct World {
    pub(super) people: u8,
    pub(super) groups: u8,
    pub(super) sign_in: Vec<SignInBy>,
    /// Whether the target names its admin group (`accounts.admin_group`),
    /// so that Okta can make people the SP's admins and take that away.
    pub(super) admin_group: bool,
}

impl World {
    /// Whether the OIDC app is an app of its own beside the SAML app, which
    /// is the one that provisions: then a person can be assigned to the
    /// OIDC app alone, sign in there first (the relying party's JIT
    /// account) and be provisioned later, when Okta's lookup must find that
    /// account.
    pub(super) fn has_second_app(&self) -> bool {
        self.sign_in.contains(&SignInBy::Saml) && self.sign_in.contains(&SignInBy::Oidc)
    }
}

/// One of the emails a person had: `owner`'s email number `version`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct EmailName {
    pub(super) owner: u8,
    pub(super) version: u8,
}

impl fmt::Display for EmailName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}-e{}", self.owner, self.version)
    }
}

/// One Okta admin action, or a person's sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Act {
    CreateUser(u8),
    /// Assigns the person to every sign-in app.
    Assign(u8),
    /// Assigns the person to the OIDC app alone, where it is not the app
    /// that provisions.
    AssignOidcApp(u8),
    /// Unassigns the person from every app they are assigned to.
    Unassign(u8),
    /// The person gets a new email of their own.
    ChangeEmail(u8),
    /// The person gets an email another person had before (Okta keeps
    /// logins unique, not emails: attacks.md K-08).
    TakeFormerEmail {
        person: u8,
        email: EmailName,
    },
    ChangeLogin(u8),
    Deactivate(u8),
    Reactivate(u8),
    Suspend(u8),
    Unsuspend(u8),
    PushGroup(u8),
    RenameGroup(u8),
    AddMember {
        person: u8,
        group: u8,
    },
    RemoveMember {
        person: u8,
        group: u8,
    },
    SignIn {
        person: u8,
        by: SignInBy,
    },
    /// Pushes the target's admin group.
    PushAdminGroup,
    /// Adds the person to the admin group at Okta.
    MakeAdmin(u8),
    /// Removes the person from the admin group at Okta.
    Demote(u8),
}

impl fmt::Display for Act {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Act::CreateUser(p) => write!(f, "create user p{p} (active, email p{p}-e0, login p{p}-l0)"),
            Act::Assign(p) => write!(f, "assign p{p} to the app"),
            Act::AssignOidcApp(p) => write!(f, "assign p{p} to the OIDC app only"),
            Act::Unassign(p) => write!(f, "unassign p{p} from the app"),
            Act::ChangeEmail(p) => write!(f, "give p{p} a new email"),
            Act::TakeFormerEmail { person, email } => {
                write!(f, "give p{person} the email {email}, which p{} had before", email.owner)
            }
            Act::ChangeLogin(p) => write!(f, "give p{p} a new login"),
            Act::Deactivate(p) => write!(f, "deactivate p{p}"),
            Act::Reactivate(p) => write!(f, "reactivate p{p}"),
            Act::Suspend(p) => write!(f, "suspend p{p}"),
            Act::Unsuspend(p) => write!(f, "unsuspend p{p}"),
            Act::PushGroup(g) => write!(f, "push group g{g}"),
            Act::RenameGroup(g) => write!(f, "rename group g{g}"),
            Act::AddMember { person, group } => write!(f, "add p{person} to group g{group}"),
            Act::RemoveMember { person, group } => write!(f, "remove p{person} from group g{group}"),
            Act::SignIn { person, by } => write!(f, "p{person} signs in by {}", by.name()),
            Act::PushAdminGroup => write!(f, "push the admin group"),
            Act::MakeAdmin(p) => write!(f, "add p{p} to the admin group"),
            Act::Demote(p) => write!(f, "remove p{p} from the admin group"),
        }
    }
}

/// A user's status at Okta, as far as the model needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    Active,
    Suspended,
    Deactivated,
}

/// What the SP was last told of a person's profile: the email and the login
/// number at that push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Told {
    pub(super) email: EmailName,
    pub(super) login: u8,
}

/// One person as Okta has them, and what Okta has told the SP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Person {
    pub(super) created: bool,
    pub(super) status: Status,
    /// Assigned to the app that provisions.
    pub(super) assigned: bool,
    /// Assigned to the OIDC app where it is a second app.
    pub(super) assigned_oidc_app: bool,
    pub(super) email: EmailName,
    /// The next email number of the person's own.
    next_email: u8,
    /// Every email the person had before the current one.
    pub(super) former: Vec<EmailName>,
    pub(super) login: u8,
    /// Okta's link to the SP's account: `None` before it is provisioned,
    /// then whether Okta holds it active.
    pub(super) link: Option<bool>,
    /// The profile the SP was last sent.
    pub(super) told: Option<Told>,
    /// The email of the account the SP may have made at an OIDC sign-in
    /// before Okta provisioned the person (the relying party's JIT).
    pub(super) jit_email: Option<EmailName>,
    /// The SP answered Okta's deactivation of its last active admin with
    /// success but kept the account active (it ignored it): Okta's link is
    /// inactive, the SP's account active, until Okta reactivates it.
    pub(super) ignored_deactivation: bool,
}

/// One Okta group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Group {
    /// The name's number: `g0-n1` after one rename.
    pub(super) name: u8,
    pub(super) pushed: bool,
    pub(super) members: BTreeSet<u8>,
}

/// The target's admin group: tenant-wide at the SP, so the model also
/// counts the active admins the SP had before the case (`outside`, read by
/// SCIM when the case starts).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct AdminGroup {
    /// Whether Okta has pushed it in this case.
    pub(super) pushed: bool,
    /// Its members at Okta.
    pub(super) members: BTreeSet<u8>,
    /// The world's people the SP's admin group holds, as the model expects.
    pub(super) at_sp: BTreeSet<u8>,
    /// The SP's active admins that are none of the world's people.
    pub(super) outside: u32,
}

/// What Okta intends, step by step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Model {
    pub(super) world: World,
    pub(super) people: Vec<Person>,
    pub(super) groups: Vec<Group>,
    pub(super) admin: AdminGroup,
}

impl Model {
    pub(super) fn new(world: World) -> Model {
        let people = (0..world.people)
            .map(|p| Person {
                created: false,
                status: Status::Active,
                assigned: false,
                assigned_oidc_app: false,
                email: EmailName { owner: p, version: 0 },
                next_email: 1,
                former: Vec::new(),
                login: 0,
                link: None,
                told: None,
                jit_email: None,
                ignored_deactivation: false,
            })
            .collect();
        let groups = (0..world.groups).map(|_| Group { name: 0, pushed: false, members: BTreeSet::new() }).collect();
        Model { world, people, groups, admin: AdminGroup::default() }
    }

    /// A model whose SP already has `outside` active admins that are none
    /// of the world's people (read at the start of a case).
    pub(super) fn with_outside_admins(world: World, outside: u32) -> Model {
        let mut model = Model::new(world);
        model.admin.outside = outside;
        model
    }

    /// How many active admins the SP has, as the model expects: the ones
    /// from before the case and the world's people in the admin group
    /// whose accounts are active.
    pub(super) fn active_admins(&self) -> u32 {
        let world = self.admin.at_sp.iter().filter(|p| self.account_active(**p) == Some(true)).count();
        self.admin.outside + u32::try_from(world).unwrap_or(u32::MAX)
    }

    /// Whether the person is the SP's last active admin: then the SP must
    /// refuse (or ignore) Okta's request that would take that away, since
    /// the tenant would have no admin left (a lockout).
    pub(super) fn is_last_admin(&self, p: u8) -> bool {
        self.admin.at_sp.contains(&p) && self.account_active(p) == Some(true) && self.active_admins() == 1
    }

    /// Whether the SP keeps the person's account active though Okta asked
    /// it to deactivate it (the last admin), so Okta still holds the link
    /// active and sends the deactivation again at the person's next change.
    pub(super) fn kept_as_last_admin(&self, p: u8) -> bool {
        self.person(p).is_some_and(|person| {
            (person.link == Some(true) || person.ignored_deactivation) && !Self::wanted_active(person)
        })
    }

    /// Okta's link of a person the SP kept as its last admin reads inactive:
    /// the SP answered the deactivation with success and ignored it, which
    /// is as good as a refusal. Okta sends nothing more until it
    /// reactivates the person.
    pub(super) fn deactivation_was_ignored(&mut self, p: u8) {
        if !self.kept_as_last_admin(p) {
            return;
        }
        if let Some(person) = self.people.get_mut(usize::from(p)) {
            person.link = Some(false);
            person.ignored_deactivation = true;
        }
    }

    fn person(&self, p: u8) -> Option<&Person> {
        self.people.get(usize::from(p))
    }

    fn group(&self, g: u8) -> Option<&Group> {
        self.groups.get(usize::from(g))
    }

    /// Whether the email is nobody's now and the SP was told it for nobody,
    /// so giving it to someone else clashes with no account.
    fn email_is_free(&self, email: EmailName) -> bool {
        self.people.iter().all(|person| {
            person.email != email
                && person.told.is_none_or(|told| told.email != email)
                && person.jit_email != Some(email)
        })
    }

    /// Whether the person's profile may change: not while the relying
    /// party holds a JIT account of theirs that Okta has not provisioned.
    /// Okta's lookup by the new userName would then miss that account and
    /// create a second one, which no SP can be blamed for; the model keeps
    /// to the orders of events where one account is what Okta intends.
    fn profile_may_change(&self, p: u8) -> bool {
        // Nor while the SP keeps an account Okta asked it to deactivate:
        // Okta then sends the deactivation again, not the profile, and
        // which of the two the SP last heard is not what this model judges.
        self.person(p).is_some_and(|person| person.created && (person.jit_email.is_none() || person.told.is_some()))
            && !self.kept_as_last_admin(p)
    }

    /// Whether the act can be taken in this state (its precondition).
    pub(super) fn allows(&self, act: &Act) -> bool {
        let created = |p: u8| self.person(p).is_some_and(|person| person.created);
        let status_is =
            |p: u8, status: Status| self.person(p).is_some_and(|person| person.created && person.status == status);
        match *act {
            Act::CreateUser(p) => self.person(p).is_some_and(|person| !person.created),
            Act::Assign(p) => created(p) && self.person(p).is_some_and(|person| !person.assigned),
            // Only before Okta provisions the person: once the SP holds the
            // account Okta made, the person is assigned to both apps or to
            // neither, so a deactivated account never meets an OIDC sign-in
            // Okta still lets through (the SP would refuse it, or make a new
            // account for an email Okta did not send, and neither is wrong).
            Act::AssignOidcApp(p) => {
                self.world.has_second_app()
                    && created(p)
                    && self.person(p).is_some_and(|person| !person.assigned_oidc_app && person.link.is_none())
            }
            Act::Unassign(p) => self.person(p).is_some_and(|person| person.assigned || person.assigned_oidc_app),
            Act::ChangeEmail(p) => {
                self.profile_may_change(p) && self.person(p).is_some_and(|person| person.next_email < MOST_EMAILS)
            }
            Act::TakeFormerEmail { person, email } => {
                self.profile_may_change(person)
                    && email.owner != person
                    && self.person(email.owner).is_some_and(|owner| owner.former.contains(&email))
                    && self.email_is_free(email)
            }
            Act::ChangeLogin(p) => {
                self.profile_may_change(p) && self.person(p).is_some_and(|person| person.login + 1 < MOST_LOGINS)
            }
            Act::Deactivate(p) => created(p) && !status_is(p, Status::Deactivated),
            Act::Reactivate(p) => status_is(p, Status::Deactivated),
            Act::Suspend(p) => status_is(p, Status::Active),
            Act::Unsuspend(p) => status_is(p, Status::Suspended),
            Act::PushGroup(g) => self.group(g).is_some_and(|group| !group.pushed),
            Act::RenameGroup(g) => self.group(g).is_some_and(|group| group.name + 1 < MOST_GROUP_NAMES),
            Act::AddMember { person, group } => {
                created(person) && self.group(group).is_some_and(|g| !g.members.contains(&person))
            }
            Act::RemoveMember { person, group } => self.group(group).is_some_and(|g| g.members.contains(&person)),
            Act::SignIn { person, by } => created(person) && self.world.sign_in.contains(&by),
            Act::PushAdminGroup => self.world.admin_group && !self.admin.pushed,
            Act::MakeAdmin(p) => self.world.admin_group && created(p) && !self.admin.members.contains(&p),
            Act::Demote(p) => self.admin.members.contains(&p),
        }
    }

    /// Whether Okta wants the person's account active at the SP.
    fn wanted_active(person: &Person) -> bool {
        person.created && person.status == Status::Active && person.assigned
    }

    /// Brings one person's account in line, as Okta's client does after a
    /// change that concerns them; `profile_changed` when their profile did.
    fn sync(&mut self, p: u8, profile_changed: bool) {
        let last_admin = self.is_last_admin(p);
        let joins_admins = self.admin.pushed && self.admin.members.contains(&p);
        let Some(person) = self.people.get_mut(usize::from(p)) else { return };
        let wanted = Self::wanted_active(person);
        let now = Told { email: person.email, login: person.login };
        match person.link {
            None if wanted => {
                // Okta's lookup finds an account the relying party made at
                // sign-in, links it and pushes the profile over it; the
                // person then joins the pushed admin group they are in.
                person.link = Some(true);
                person.told = Some(now);
                person.jit_email = None;
                if joins_admins {
                    self.admin.at_sp.insert(p);
                }
            }
            None => {}
            // The SP refuses to deactivate its last active admin; Okta's
            // task fails and its link stays active.
            Some(true) if !wanted && last_admin => {}
            Some(true) if !wanted => person.link = Some(false),
            Some(false) if wanted => {
                person.link = Some(true);
                person.told = Some(now);
                person.ignored_deactivation = false;
            }
            Some(true) if profile_changed => person.told = Some(now),
            Some(_) => {}
        }
    }

    fn person_mut(&mut self, p: u8) -> Option<&mut Person> {
        self.people.get_mut(usize::from(p))
    }

    /// Takes the act. An act the state does not allow changes nothing.
    pub(super) fn apply(&mut self, act: &Act) {
        if !self.allows(act) {
            return;
        }
        match *act {
            Act::CreateUser(p) => {
                if let Some(person) = self.person_mut(p) {
                    person.created = true;
                }
                self.sync(p, false);
            }
            Act::Assign(p) | Act::Unassign(p) => {
                let second_app = self.world.has_second_app();
                if let Some(person) = self.person_mut(p) {
                    person.assigned = matches!(act, Act::Assign(_));
                    person.assigned_oidc_app = person.assigned && second_app;
                }
                self.sync(p, false);
            }
            Act::AssignOidcApp(p) => {
                if let Some(person) = self.person_mut(p) {
                    person.assigned_oidc_app = true;
                }
            }
            Act::ChangeEmail(p) => {
                if let Some(person) = self.person_mut(p) {
                    person.former.push(person.email);
                    person.email = EmailName { owner: p, version: person.next_email };
                    person.next_email += 1;
                }
                self.sync(p, true);
            }
            Act::TakeFormerEmail { person: p, email } => {
                if let Some(person) = self.person_mut(p) {
                    person.former.push(person.email);
                    person.email = email;
                }
                self.sync(p, true);
            }
            Act::ChangeLogin(p) => {
                if let Some(person) = self.person_mut(p) {
                    person.login += 1;
                }
                self.sync(p, true);
            }
            Act::Deactivate(p) | Act::Reactivate(p) | Act::Suspend(p) | Act::Unsuspend(p) => {
                let next = match act {
                    Act::Deactivate(_) => Status::Deactivated,
                    Act::Suspend(_) => Status::Suspended,
                    _ => Status::Active,
                };
                if let Some(person) = self.person_mut(p) {
                    person.status = next;
                }
                self.sync(p, false);
            }
            Act::PushGroup(g) => {
                if let Some(group) = self.groups.get_mut(usize::from(g)) {
                    group.pushed = true;
                }
            }
            Act::RenameGroup(g) => {
                if let Some(group) = self.groups.get_mut(usize::from(g)) {
                    group.name += 1;
                }
            }
            Act::AddMember { person, group } | Act::RemoveMember { person, group } => {
                // Okta syncs a linked member's account first, as after any
                // change of theirs: a deactivation the SP refused is sent
                // again.
                self.sync(person, false);
                if let Some(found) = self.groups.get_mut(usize::from(group)) {
                    if matches!(act, Act::AddMember { .. }) {
                        found.members.insert(person);
                    } else {
                        found.members.remove(&person);
                    }
                }
            }
            Act::PushAdminGroup => {
                self.admin.pushed = true;
                // Okta finds the SP's admin group by name and replaces its
                // members with the Okta members it has linked. The SP
                // refuses that when it would leave no active admin.
                let replaced: BTreeSet<u8> =
                    self.admin.members.iter().copied().filter(|p| self.account_active(*p).is_some()).collect();
                let admins_after = replaced.iter().filter(|p| self.account_active(**p) == Some(true)).count();
                if self.active_admins() == 0 || admins_after > 0 {
                    self.admin.at_sp = replaced;
                    self.admin.outside = 0;
                }
            }
            Act::MakeAdmin(p) => {
                self.sync(p, false);
                self.admin.members.insert(p);
                if self.admin.pushed && self.account_active(p).is_some() {
                    self.admin.at_sp.insert(p);
                }
            }
            Act::Demote(p) => {
                self.sync(p, false);
                self.admin.members.remove(&p);
                let sent = self.admin.pushed && self.account_active(p).is_some();
                if sent && !self.is_last_admin(p) {
                    self.admin.at_sp.remove(&p);
                }
            }
            Act::SignIn { person, by } => {
                let lets_in = self.okta_lets_in(person, by);
                if let Some(found) = self.person_mut(person)
                    && lets_in
                    && found.told.is_none()
                {
                    found.jit_email = Some(found.email);
                }
            }
        }
    }

    /// Whether Okta lets the person sign in by `by`: they exist, are active
    /// and are assigned to that protocol's app. Otherwise Okta refuses and
    /// nothing reaches the SP.
    pub(super) fn okta_lets_in(&self, p: u8, by: SignInBy) -> bool {
        let second_app = by == SignInBy::Oidc && self.world.has_second_app();
        self.person(p).is_some_and(|person| {
            person.created
                && person.status == Status::Active
                && if second_app { person.assigned_oidc_app } else { person.assigned }
        })
    }

    /// Whether the SP's account of the person must be active: `None` when
    /// Okta has not provisioned one.
    pub(super) fn account_active(&self, p: u8) -> Option<bool> {
        self.person(p).and_then(|person| person.link.map(|active| active || person.ignored_deactivation))
    }

    /// The people a pushed group must hold at the SP: its Okta members that
    /// Okta has provisioned, active or not (Okta leaves deactivated users in
    /// their groups). `None` when the group is not pushed.
    pub(super) fn pushed_members(&self, g: u8) -> Option<BTreeSet<u8>> {
        let group = self.group(g).filter(|group| group.pushed)?;
        Some(group.members.iter().copied().filter(|p| self.account_active(*p).is_some()).collect())
    }

    /// The groups a sign-in of the person carries, by number.
    pub(super) fn groups_of(&self, p: u8) -> BTreeSet<u8> {
        (0..self.world.groups).filter(|g| self.group(*g).is_some_and(|group| group.members.contains(&p))).collect()
    }

    /// Every act the world has, whether or not the state allows it, with
    /// its weight in generation. The weights lean towards acts that build
    /// on what the state already has (a member for a pushed group, a
    /// sign-in after an email change), so short cases reach the orders of
    /// events where SPs go wrong.
    fn every_act(&self) -> Vec<(Act, u32)> {
        let mut acts = Vec::new();
        let linked = |p: u8| self.account_active(p) == Some(true);
        let pushed_with_members = |g: u8| self.group(g).is_some_and(|group| group.pushed && !group.members.is_empty());
        for p in 0..self.world.people {
            let changed_email = self.person(p).is_some_and(|person| !person.former.is_empty());
            acts.extend([
                (Act::CreateUser(p), 8),
                (Act::Assign(p), 8),
                (Act::AssignOidcApp(p), 4),
                (Act::Unassign(p), 1),
                (Act::ChangeEmail(p), if linked(p) { 5 } else { 1 }),
                (Act::ChangeLogin(p), 1),
                (Act::Deactivate(p), 2),
                (Act::Reactivate(p), 3),
                (Act::Suspend(p), 2),
                (Act::Unsuspend(p), 3),
            ]);
            for owner in (0..self.world.people).filter(|owner| *owner != p) {
                for version in 0..MOST_EMAILS {
                    acts.push((Act::TakeFormerEmail { person: p, email: EmailName { owner, version } }, 12));
                }
            }
            for group in 0..self.world.groups {
                acts.push((Act::AddMember { person: p, group }, if linked(p) { 5 } else { 2 }));
                let pushed = self.group(group).is_some_and(|g| g.pushed);
                acts.push((Act::RemoveMember { person: p, group }, if pushed { 5 } else { 1 }));
            }
            for by in &self.world.sign_in {
                let weight = match (self.okta_lets_in(p, *by), linked(p) && changed_email) {
                    (true, true) => 10,
                    (true, false) => 6,
                    (false, _) => 1,
                };
                acts.push((Act::SignIn { person: p, by: *by }, weight));
            }
        }
        for g in 0..self.world.groups {
            let has_members = self.group(g).is_some_and(|group| !group.members.is_empty());
            acts.push((Act::PushGroup(g), if has_members { 6 } else { 1 }));
            acts.push((Act::RenameGroup(g), if pushed_with_members(g) { 5 } else { 1 }));
        }
        acts
    }

    /// The acts this state allows, with their weights.
    fn allowed_acts(&self) -> Vec<(Act, u32)> {
        self.every_act().into_iter().filter(|(act, _)| self.allows(act)).collect()
    }

    /// The acts of the admin group, and the ones that would take an admin
    /// away (deactivation, suspension, unassignment), with their weights:
    /// drawn between the other acts where the target has an admin group.
    fn allowed_admin_acts(&self) -> Vec<(Act, u32)> {
        if !self.world.admin_group {
            return Vec::new();
        }
        let mut acts = vec![(Act::PushAdminGroup, if self.admin.members.is_empty() { 1 } else { 8 })];
        for p in 0..self.world.people {
            let linked = self.account_active(p) == Some(true);
            let admin_at_sp = self.admin.at_sp.contains(&p) && linked;
            acts.extend([
                (Act::MakeAdmin(p), if linked { 8 } else { 3 }),
                (Act::Demote(p), if admin_at_sp { 6 } else { 1 }),
            ]);
            if admin_at_sp {
                acts.extend([(Act::Deactivate(p), 6), (Act::Suspend(p), 3), (Act::Unassign(p), 3)]);
            }
        }
        acts.into_iter().filter(|(act, _)| self.allows(act)).collect()
    }
}

/// Draws one act of `allowed` by weight.
fn pick(rng: &mut impl Rng, allowed: &[(Act, u32)]) -> Option<Act> {
    let total: u32 = allowed.iter().map(|(_, weight)| weight).sum();
    if total == 0 {
        return None;
    }
    let mut pick = rng.random_range(0..total);
    allowed.iter().find_map(|(act, weight)| {
        if pick < *weight {
            Some(*act)
        } else {
            pick -= weight;
            None
        }
    })
}

/// A world and a sequence of acts drawn from `rng`: every act allowed where
/// it stands, `length` acts or fewer.
pub(super) fn generate(
    rng: &mut impl Rng,
    sign_in: &[SignInBy],
    admin_group: bool,
    length: usize,
) -> (World, Vec<Act>) {
    let world = World {
        people: rng.random_range(2..=MOST_PEOPLE),
        groups: rng.random_range(1..=MOST_GROUPS),
        sign_in: sign_in.to_vec(),
        admin_group,
    };
    let mut model = Model::new(world.clone());
    let mut acts = Vec::new();
    for _ in 0..length {
        let Some(act) = pick(rng, &model.allowed_acts()) else { break };
        model.apply(&act);
        acts.push(act);
    }
    if !admin_group {
        return (world, acts);
    }
    // The admin group's acts come from a stream of their own, drawn after
    // the others, so the other acts of a seed are the same with or without
    // an admin group.
    let mut admin_rng = rand::rngs::StdRng::seed_from_u64(rng.random());
    (world.clone(), with_admin_acts(&mut admin_rng, &world, &acts))
}

/// How many admin acts one case may have at most.
const MOST_ADMIN_ACTS: usize = 8;

/// Draws admin acts between `acts` (before each, one in two), each kept
/// only where the act after it is still allowed, so the other acts stay
/// whole.
fn with_admin_acts(rng: &mut impl Rng, world: &World, acts: &[Act]) -> Vec<Act> {
    let mut model = Model::new(world.clone());
    let mut combined = Vec::new();
    let mut added = 0;
    for position in 0..=acts.len() {
        let next = acts.get(position);
        if added < MOST_ADMIN_ACTS
            && rng.random_bool(0.5)
            && let Some(admin_act) = pick(rng, &model.allowed_admin_acts())
        {
            let mut tried = model.clone();
            tried.apply(&admin_act);
            if next.is_none_or(|act| tried.allows(act)) {
                model = tried;
                combined.push(admin_act);
                added += 1;
            }
        }
        if let Some(act) = next {
            if !model.allows(act) {
                continue;
            }
            model.apply(act);
            combined.push(*act);
        }
    }
    combined
}

/// The acts of `acts` that are still allowed where they stand once earlier
/// ones are gone: what a shrunk sequence replays.
pub(super) fn keep_allowed(world: &World, acts: &[Act]) -> Vec<Act> {
    let mut model = Model::new(world.clone());
    let mut kept = Vec::new();
    for act in acts {
        if model.allows(act) {
            model.apply(act);
            kept.push(*act);
        }
    }
    kept
}

/// The candidates a failing sequence shrinks to, shortest first: each with
/// one act left out (from the last), as replays keep only allowed acts.
pub(super) fn shrink_candidates(world: &World, acts: &[Act]) -> Vec<Vec<Act>> {
    let mut candidates: Vec<Vec<Act>> = Vec::new();
    for left_out in (0..acts.len()).rev() {
        let mut shorter = acts.to_vec();
        shorter.remove(left_out);
        let kept = keep_allowed(world, &shorter);
        if kept.len() < acts.len() && !candidates.contains(&kept) {
            candidates.push(kept);
        }
    }
    candidates.sort_by_key(Vec::len);
    candidates
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand::SeedableRng;

    use super::*;

    fn world(sign_in: &[SignInBy]) -> World {
        World { people: 2, groups: 1, sign_in: sign_in.to_vec(), admin_group: false }
    }

    #[test]
    fn a_person_is_provisioned_when_active_and_assigned_and_deactivated_when_either_stops() {
        let mut model = Model::new(world(&[SignInBy::Saml]));
        model.apply(&Act::CreateUser(0));
        assert_eq!(model.account_active(0), None);
        model.apply(&Act::Assign(0));
        assert_eq!(model.account_active(0), Some(true));
        model.apply(&Act::Suspend(0));
        assert_eq!(model.account_active(0), Some(false));
        assert!(!model.okta_lets_in(0, SignInBy::Saml));
        model.apply(&Act::ChangeEmail(0));
        // A profile change while the account is inactive is not sent...
        assert_eq!(model.people[0].told.map(|t| t.email.version), Some(0));
        model.apply(&Act::Unsuspend(0));
        // ...until the reactivation, which brings it up to date.
        assert_eq!(model.people[0].told.map(|t| t.email.version), Some(1));
        model.apply(&Act::Unassign(0));
        assert_eq!(model.account_active(0), Some(false));
    }

    #[test]
    fn a_pushed_group_holds_its_provisioned_members_only() {
        let mut model = Model::new(world(&[SignInBy::Saml]));
        model.apply(&Act::CreateUser(0));
        model.apply(&Act::CreateUser(1));
        model.apply(&Act::AddMember { person: 0, group: 0 });
        model.apply(&Act::AddMember { person: 1, group: 0 });
        assert_eq!(model.pushed_members(0), None);
        model.apply(&Act::PushGroup(0));
        model.apply(&Act::Assign(1));
        assert_eq!(model.pushed_members(0), Some(BTreeSet::from([1])));
        // Deactivated users stay in their groups.
        model.apply(&Act::Deactivate(1));
        assert_eq!(model.pushed_members(0), Some(BTreeSet::from([1])));
        assert_eq!(model.groups_of(0), BTreeSet::from([0]));
    }

    #[test]
    fn a_former_email_is_taken_only_when_it_is_nobodys() {
        let mut model = Model::new(world(&[SignInBy::Saml]));
        let former = EmailName { owner: 0, version: 0 };
        model.apply(&Act::CreateUser(0));
        model.apply(&Act::CreateUser(1));
        assert!(!model.allows(&Act::TakeFormerEmail { person: 1, email: former }));
        model.apply(&Act::Assign(0));
        model.apply(&Act::Suspend(0));
        model.apply(&Act::ChangeEmail(0));
        // The SP still knows p0 by p0-e0: the change was not sent.
        assert!(!model.allows(&Act::TakeFormerEmail { person: 1, email: former }));
        model.apply(&Act::Unsuspend(0));
        assert!(model.allows(&Act::TakeFormerEmail { person: 1, email: former }));
    }

    #[test]
    fn an_oidc_jit_account_is_linked_by_okta_and_keeps_the_persons_profile_until_then() {
        let mut model = Model::new(world(&[SignInBy::Saml, SignInBy::Oidc]));
        model.apply(&Act::CreateUser(0));
        model.apply(&Act::CreateUser(1));
        assert!(model.allows(&Act::AssignOidcApp(0)));
        model.apply(&Act::AssignOidcApp(0));
        assert!(model.okta_lets_in(0, SignInBy::Oidc) && !model.okta_lets_in(0, SignInBy::Saml));
        model.apply(&Act::SignIn { person: 0, by: SignInBy::Oidc });
        assert_eq!(model.people[0].jit_email, Some(EmailName { owner: 0, version: 0 }));
        // Okta's lookup by a new userName would miss the relying party's
        // account: the model keeps the profile until Okta links it.
        assert!(!model.allows(&Act::ChangeEmail(0)));
        model.apply(&Act::Assign(0));
        assert_eq!(model.account_active(0), Some(true));
        assert_eq!(model.people[0].jit_email, None);
        assert!(model.allows(&Act::ChangeEmail(0)));
        // Without a second app there is no OIDC-only assignment.
        assert!(!Model::new(world(&[SignInBy::Oidc])).allows(&Act::AssignOidcApp(0)));
    }

    #[test]
    fn the_same_seed_generates_the_same_sequence() {
        let draw =
            |seed| generate(&mut rand::rngs::StdRng::seed_from_u64(seed), &[SignInBy::Saml, SignInBy::Oidc], true, 12);
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        // The admin group's acts come on top: the other acts are the same.
        let (_, with) = draw(7);
        let (_, without) =
            generate(&mut rand::rngs::StdRng::seed_from_u64(7), &[SignInBy::Saml, SignInBy::Oidc], false, 12);
        let admin_act = |act: &Act| matches!(act, Act::PushAdminGroup | Act::MakeAdmin(_) | Act::Demote(_));
        assert!(with.iter().filter(|act| !admin_act(act)).count() >= without.len().saturating_sub(2));
    }

    #[test]
    fn the_last_active_admin_is_kept_and_the_others_go() {
        let mut model = Model::new(World { admin_group: true, ..world(&[SignInBy::Saml]) });
        for act in [Act::CreateUser(0), Act::CreateUser(1), Act::Assign(0), Act::Assign(1), Act::MakeAdmin(0)] {
            model.apply(&act);
        }
        // Not pushed yet: the SP has no admin.
        assert_eq!(model.active_admins(), 0);
        model.apply(&Act::PushAdminGroup);
        assert_eq!(model.admin.at_sp, BTreeSet::from([0]));
        assert!(model.is_last_admin(0));
        // Okta's deactivation of the last admin is refused: the account
        // stays active and Okta's link with it.
        model.apply(&Act::Deactivate(0));
        assert_eq!(model.account_active(0), Some(true));
        assert!(model.kept_as_last_admin(0) && !model.allows(&Act::ChangeEmail(0)));
        model.apply(&Act::Demote(0));
        assert_eq!(model.admin.at_sp, BTreeSet::from([0]));
        // An SP that answers with success but keeps the account is as
        // good: Okta's link is inactive, and nothing more is sent.
        let mut ignoring = model.clone();
        ignoring.deactivation_was_ignored(0);
        assert_eq!(ignoring.account_active(0), Some(true));
        ignoring.apply(&Act::MakeAdmin(1));
        assert_eq!(ignoring.account_active(0), Some(true));
        ignoring.apply(&Act::Reactivate(0));
        assert!(!ignoring.people[0].ignored_deactivation && ignoring.account_active(0) == Some(true));
        // With a second admin, a change to p0 sends the deactivation
        // again, and the SP takes it.
        model.apply(&Act::MakeAdmin(1));
        assert_eq!(model.active_admins(), 2);
        model.apply(&Act::Unassign(0));
        assert_eq!(model.account_active(0), Some(false));
        model.apply(&Act::Suspend(1));
        assert_eq!(model.account_active(1), Some(true), "p1 is now the last admin");
        // An SP that had an admin before the case lets the world's go.
        let mut model = Model::with_outside_admins(World { admin_group: true, ..world(&[SignInBy::Saml]) }, 1);
        for act in [Act::CreateUser(0), Act::Assign(0), Act::PushAdminGroup] {
            model.apply(&act);
        }
        // The push with no admin of the world in it would leave none: refused.
        assert_eq!(model.admin.outside, 1);
        model.apply(&Act::MakeAdmin(0));
        model.apply(&Act::Deactivate(0));
        assert_eq!(model.account_active(0), Some(false));
    }

    proptest! {
        /// Every generated act is allowed where it stands, so replaying a
        /// sequence keeps it whole; every shrink candidate is shorter and
        /// allowed throughout; and the model's invariants hold at each step:
        /// a person signs in only with an active account, a pushed
        /// group's members are provisioned people, and the SP keeps an
        /// active admin once it has one.
        #[test]
        fn prop_generated_sequences_are_allowed_and_keep_the_models_invariants(seed in any::<u64>(), length in 0usize..24) {
            let sign_in = [SignInBy::Saml, SignInBy::Oidc];
            let (world, acts) = generate(&mut rand::rngs::StdRng::seed_from_u64(seed), &sign_in, true, length);
            prop_assert!(acts.len() <= length + MOST_ADMIN_ACTS);
            prop_assert!((2..=MOST_PEOPLE).contains(&world.people));
            prop_assert_eq!(keep_allowed(&world, &acts), acts.clone());
            let mut model = Model::new(world.clone());
            for act in &acts {
                let admins_before = model.active_admins();
                model.apply(act);
                // Once the SP has an active admin, Okta's requests never
                // leave it none.
                prop_assert!(admins_before == 0 || model.active_admins() > 0, "{act} left no admin");
                for p in 0..world.people {
                    if model.okta_lets_in(p, SignInBy::Saml) {
                        prop_assert_eq!(model.account_active(p), Some(true));
                    }
                    // A person whose account Okta deactivated at the SP is
                    // let in by no app.
                    if model.account_active(p) == Some(false) {
                        prop_assert!(!model.okta_lets_in(p, SignInBy::Saml) && !model.okta_lets_in(p, SignInBy::Oidc));
                    }
                    let person = &model.people[usize::from(p)];
                    if person.link == Some(true) {
                        // An active account knows the person's profile as it is.
                        prop_assert_eq!(person.told, Some(Told { email: person.email, login: person.login }));
                    }
                }
                for g in 0..world.groups {
                    for member in model.pushed_members(g).unwrap_or_default() {
                        prop_assert!(model.account_active(member).is_some());
                    }
                }
                // No two people's current emails are the same.
                let emails: BTreeSet<EmailName> = model.people.iter().filter(|p| p.created).map(|p| p.email).collect();
                prop_assert_eq!(emails.len(), model.people.iter().filter(|p| p.created).count());
            }
            for candidate in shrink_candidates(&world, &acts) {
                prop_assert!(candidate.len() < acts.len());
                prop_assert_eq!(keep_allowed(&world, &candidate), candidate.clone());
            }
        }
    }
}
