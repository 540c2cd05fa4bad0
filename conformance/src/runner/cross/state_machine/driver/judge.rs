//! How a case's step is judged: the SP's state read back by SCIM (each
//! account, each pushed group, the admin group) and through the session
//! oracle (each sign-in, each earlier session), held to the model. Kept
//! apart from `driver.rs`, which applies the acts, so each reads in one go.

use super::*;

impl CaseRun<'_> {
    /// Every email the person has had, rendered.
    fn own_emails(&self, person: u8) -> Vec<String> {
        self.model
            .people
            .get(usize::from(person))
            .map(|found| {
                found.former.iter().chain(std::iter::once(&found.email)).map(|email| self.email(*email)).collect()
            })
            .unwrap_or_default()
    }

    /// The SCIM userName Okta last sent for the person, when the template
    /// is one the model follows.
    fn expected_user_name(&self, person: u8) -> Option<String> {
        let told = self.model.people.get(usize::from(person))?.told?;
        match self.provisioning.user_names {
            UserNames::Email => Some(self.email(told.email)),
            UserNames::Login => Some(self.login(person, told.login)),
            UserNames::Other => None,
        }
    }

    /// The person whose account has this SCIM id, as "p1", or a phrase for
    /// an account Okta never linked.
    fn who_has(&self, scim_id: &str) -> String {
        (0..self.model.world.people)
            .find(|p| {
                self.users
                    .get(usize::from(*p))
                    .cloned()
                    .flatten()
                    .and_then(|user| self.provisioning.user_link(&user))
                    .is_some_and(|(id, _)| id == scim_id)
            })
            .map(|p| format!("p{p}"))
            .unwrap_or_else(|| "an account Okta never linked".to_owned())
    }

    /// The SP's state held to the model; the first difference.
    pub(super) async fn observe(&mut self, signed_in: Option<SignedIn>) -> Step<Option<Difference>> {
        if let Some(signed) = signed_in {
            if let Some(found) = self.judge_sign_in(&signed).await? {
                return Ok(Some(found));
            }
            if signed.attempt.seen.identity.is_some() && self.model.account_active(signed.person) != Some(false) {
                if signed.by == SignInBy::Oidc
                    && let Some(linked) = self.oidc_linked.get_mut(usize::from(signed.person))
                {
                    *linked = true;
                }
                let reached = self
                    .user(signed.person)
                    .ok()
                    .and_then(|user| self.provisioning.user_link(&user))
                    .map(|(id, _)| id)
                    .filter(|id| signed.attempt.seen.body.contains(id.as_str()));
                if let Some(sessions) = self.sessions.get_mut(usize::from(signed.person)) {
                    sessions.push((signed.browser, reached));
                }
            }
        }
        for person in 0..self.model.world.people {
            if let Some(found) = self.judge_account(person).await? {
                return Ok(Some(found));
            }
        }
        for group in 0..self.model.world.groups {
            if let Some(found) = self.judge_group(group).await? {
                return Ok(Some(found));
            }
        }
        if let Some(found) = self.judge_admin_group().await? {
            return Ok(Some(found));
        }
        for person in 0..self.model.world.people {
            if let Some(found) = self.judge_sessions(person).await? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// A sign-in Okta let through must reach the person's own account, by
    /// their current email, with the groups Okta sent. An OIDC relying
    /// party keyed on (iss, sub) may refuse to link an account Okta
    /// provisioned until it has seen that subject: the person's first OIDC
    /// sign-ins may be refused outright, giving no session of any kind.
    async fn judge_sign_in(&mut self, signed: &SignedIn) -> Step<Option<Difference>> {
        let person = signed.person;
        let Some(found) = self.model.people.get(usize::from(person)) else { return Ok(None) };
        let email = self.email(found.email);
        let seen = &signed.attempt.seen;
        let what = format!("p{person}'s {} sign-in as {}", signed.by.name(), found.email);
        // An account Okta deactivated at the SP (it was unassigned from the
        // app that provisions) stays shut whatever other app Okta still
        // lets the person into: the SP must refuse it outright.
        if self.model.account_active(person) == Some(false) {
            let (any_session, held) = self.suite.judge_any_session(seen).await?;
            if any_session {
                return Ok(differs(
                    format!("{what} gave {held}, though Okta deactivated p{person}'s account at the SP"),
                    held,
                ));
            }
            return Ok(None);
        }
        let may_refuse =
            signed.by == SignInBy::Oidc && !self.oidc_linked.get(usize::from(person)).copied().unwrap_or(false);
        if may_refuse && seen.identity.is_none() {
            let (any_session, held) = self.suite.judge_any_session(seen).await?;
            if !any_session {
                return Ok(None);
            }
            return Ok(differs(format!("{what} was refused but left {held}"), held));
        }
        if !seen.is(&email) {
            return Ok(differs(
                format!(
                    "{what} gave {} (the SP answered {}), not a session for p{person}",
                    seen.describe(),
                    answered_briefly(&signed.attempt)
                ),
                seen.describe(),
            ));
        }
        let account = self.user(person).ok().and_then(|user| self.provisioning.user_link(&user)).map(|(id, _)| id);
        if let Some(account) = account {
            let shows = seen.body.contains(&account);
            match (self.shows_account_ids, shows) {
                (None, _) => self.shows_account_ids = Some(shows),
                (Some(true), false) => {
                    return Ok(differs(
                        format!("{what} reached an account that is not the one Okta provisioned for p{person}"),
                        seen.describe(),
                    ));
                }
                _ => {}
            }
        }
        let pointer = self.suite.target.session.as_ref().and_then(|s| s.groups_pointer.clone());
        // Okta puts an OIDC app's groups claim in the ID token only for a
        // relying party that asks for the `groups` scope (which the OIN
        // forbids): one that does not gets no groups to show.
        let pointer = pointer.filter(|_| signed.by != SignInBy::Oidc || self.relying_party_asks_for_groups());
        if let (Some(pointer), Some(filters)) = (pointer, self.provisioning.group_filters(signed.by)) {
            let mut every_name = BTreeSet::new();
            for group in 0..self.model.world.groups {
                for name in 0..=self.model.groups.get(usize::from(group)).map(|g| g.name).unwrap_or(0) {
                    every_name.insert(self.group_name(group, name));
                }
            }
            let shown: BTreeSet<String> =
                groups_at(&seen.body, &pointer).into_iter().filter(|name| every_name.contains(name)).collect();
            let expected: BTreeSet<String> = self
                .model
                .groups_of(person)
                .into_iter()
                .map(|g| self.group_name(g, self.model.groups.get(usize::from(g)).map(|found| found.name).unwrap_or(0)))
                .filter(|name| filters.iter().any(|filter| filter.matches(name)))
                .collect();
            if shown != expected {
                return Ok(differs(
                    format!(
                        "{what} shows the groups {} at {pointer}; Okta sent {}",
                        self.symbolic_groups(&shown),
                        self.symbolic_groups(&expected)
                    ),
                    seen.describe(),
                ));
            }
        }
        Ok(None)
    }

    /// Group names as "g0 (named g0-n1)", for stable messages.
    fn symbolic_groups(&self, names: &BTreeSet<String>) -> String {
        let prefix = format!("sm-{}-", self.tag);
        let listed: Vec<String> = names.iter().map(|name| name.trim_start_matches(&prefix).to_owned()).collect();
        if listed.is_empty() { "none".to_owned() } else { listed.join(", ") }
    }

    /// A provisioned person's account, read by SCIM: there, active as Okta
    /// intends, with the userName Okta sent, and the one account Okta's
    /// lookup finds.
    async fn judge_account(&mut self, person: u8) -> Step<Option<Difference>> {
        let Some(active) = self.model.account_active(person) else { return Ok(None) };
        let user = self.user(person)?;
        let Some((scim_id, _)) = self.provisioning.user_link(&user) else {
            return Ok(differs(
                format!("Okta holds no account of p{person} at the SP: its provisioning of p{person} failed"),
                "not asked: Okta could not provision",
            ));
        };
        let read = self.scim.read_user(&scim_id).await?;
        let body = read.json.clone().unwrap_or(Value::Null);
        if read.status != 200 {
            return Ok(differs(
                format!("p{person}'s account reads {} by SCIM; Okta intends it there, active {active}", read.status),
                format!("GET /Users/{{id}} answered {}", read.status),
            ));
        }
        let read_active = is_true(member(&body, "active"));
        if read_active != Some(active) && self.model.kept_as_last_admin(person) {
            return Ok(differs(
                format!(
                    "p{person}'s account reads active false by SCIM: the SP took Okta's deactivation of p{person}, its last active admin, and has no active admin left (it must refuse or ignore it)"
                ),
                "GET /Users/{id}: active false",
            ));
        }
        if read_active != Some(active) {
            let read = read_active.map(|a| a.to_string()).unwrap_or_else(|| "absent".to_owned());
            return Ok(differs(
                format!("p{person}'s account reads active {read} by SCIM; Okta intends active {active}"),
                format!("GET /Users/{{id}}: active {read}"),
            ));
        }
        let Some(expected) = self.expected_user_name(person) else { return Ok(None) };
        let user_name = member(&body, "userName").and_then(Value::as_str).unwrap_or_default().to_owned();
        if !user_name.eq_ignore_ascii_case(&expected) {
            return Ok(differs(
                format!("p{person}'s account has the userName {user_name}; Okta sent {expected}"),
                format!("GET /Users/{{id}}: userName {user_name}"),
            ));
        }
        let lookup = self.scim.send(&requests::find_user(&expected)).await?;
        let found = lookup.resource_ids();
        if found != [scim_id.clone()] {
            let whose: Vec<String> = found.iter().map(|id| self.who_has(id)).collect();
            return Ok(differs(
                format!(
                    "Okta's lookup of p{person}'s userName {expected} finds {} account(s) ({}), not p{person}'s one account",
                    found.len(),
                    if whose.is_empty() { "none".to_owned() } else { whose.join(", ") }
                ),
                format!("GET /Users?filter=userName eq … answered {}", lookup.status),
            ));
        }
        Ok(None)
    }

    /// A pushed group, read by SCIM: Okta's current name, and exactly the
    /// members Okta pushed.
    async fn judge_group(&mut self, group: u8) -> Step<Option<Difference>> {
        let Some(expected) = self.model.pushed_members(group) else { return Ok(None) };
        let group_id = self.group(group)?;
        let name = self.group_name(group, self.model.groups.get(usize::from(group)).map(|g| g.name).unwrap_or(0));
        let Some(scim_id) = self.provisioning.group_link(&group_id) else {
            return Ok(differs(
                format!("Okta holds no group g{group} at the SP: its push failed"),
                "not asked: Okta could not push",
            ));
        };
        let read = self.scim.read_group(&scim_id).await?;
        if read.status != 200 {
            return Ok(differs(
                format!("the pushed group g{group} reads {} by SCIM", read.status),
                format!("GET /Groups/{{id}} answered {}", read.status),
            ));
        }
        let body = read.json.clone().unwrap_or(Value::Null);
        let shown_name = member(&body, "displayName").and_then(Value::as_str).unwrap_or_default().to_owned();
        if shown_name != name {
            let prefix = format!("sm-{}-", self.tag);
            return Ok(differs(
                format!(
                    "the pushed group g{group} is named {} at the SP; Okta's name is {}",
                    shown_name.trim_start_matches(&prefix),
                    name.trim_start_matches(&prefix)
                ),
                format!("GET /Groups/{{id}}: displayName {shown_name}"),
            ));
        }
        let held: BTreeSet<String> = member(&body, "members")
            .and_then(Value::as_array)
            .map(|members| {
                members.iter().filter_map(|m| m.get("value").and_then(Value::as_str)).map(str::to_owned).collect()
            })
            .unwrap_or_default();
        let mut wanted = BTreeSet::new();
        for person in &expected {
            if let Some((id, _)) = self.provisioning.user_link(&self.user(*person)?) {
                wanted.insert(id);
            }
        }
        if held != wanted {
            let whose = |ids: &BTreeSet<String>| {
                let mut names: Vec<String> = ids.iter().map(|id| self.who_has(id)).collect();
                names.sort();
                if names.is_empty() { "nobody".to_owned() } else { names.join(", ") }
            };
            return Ok(differs(
                format!("the pushed group g{group} holds {} at the SP; Okta pushed {}", whose(&held), whose(&wanted)),
                format!("GET /Groups/{{id}}: {} members", held.len()),
            ));
        }
        Ok(None)
    }

    /// The admin group once Okta has pushed it, read by SCIM: of the
    /// world's people, it holds exactly the ones the model expects (earlier
    /// admins are the SP's own business), so the last active admin stays.
    async fn judge_admin_group(&mut self) -> Step<Option<Difference>> {
        if !self.model.admin.pushed {
            return Ok(None);
        }
        let group_id = self.admin_group_id()?;
        let Some(scim_id) = self.provisioning.group_link(&group_id) else {
            return Ok(differs(
                "Okta holds no admin group at the SP: its push failed",
                "not asked: Okta could not push",
            ));
        };
        let held = self.member_ids(&scim_id).await?;
        let mut shown = BTreeSet::new();
        for person in 0..self.model.world.people {
            let Ok(user) = self.user(person) else { continue };
            if let Some((id, _)) = self.provisioning.user_link(&user)
                && held.contains(&id)
            {
                shown.insert(person);
            }
        }
        let expected = self.model.admin.at_sp.clone();
        if shown == expected {
            return Ok(None);
        }
        let names = |set: &BTreeSet<u8>| {
            if set.is_empty() {
                "none of the case's people".to_owned()
            } else {
                set.iter().map(|p| format!("p{p}")).collect::<Vec<_>>().join(", ")
            }
        };
        let lost_last = self.model.admin.outside == 0
            && self.model.active_admins() == 1
            && expected.iter().any(|p| !shown.contains(p) && self.model.account_active(*p) == Some(true));
        let why = if lost_last {
            " (the SP took Okta's removal of its last active admin and has no active admin left; it must refuse or ignore it)"
        } else {
            ""
        };
        Ok(differs(
            format!(
                "the admin group holds {} at the SP; Okta's requests leave it {}{why}",
                names(&shown),
                names(&expected)
            ),
            format!("GET /Groups/{{id}}: {} members", held.len()),
        ))
    }

    /// The person's earlier sessions: theirs while their account is active,
    /// gone (of any kind) once Okta has deactivated it. An SP may end a
    /// session while the account stays active (on a profile change, say):
    /// then it must have ended outright. Ended sessions are not asked again:
    /// whether one comes back after a reactivation is the SP's choice.
    async fn judge_sessions(&mut self, person: u8) -> Step<Option<Difference>> {
        let Some(browsers) = self.sessions.get_mut(usize::from(person)) else { return Ok(None) };
        if browsers.is_empty() {
            return Ok(None);
        }
        let browsers = std::mem::take(browsers);
        // A session of a person Okta has not provisioned is the SP's own
        // account (an OIDC JIT one): Okta tells the SP nothing about it, so
        // it is judged as an active account's.
        let active = self.model.account_active(person) != Some(false);
        let own = self.own_emails(person);
        let mut kept = Vec::new();
        let mut difference = None;
        for (browser, reached) in browsers {
            let seen = self.suite.oracle(&browser).await?;
            if active && seen.identity.is_none() {
                let (any_session, held) = self.suite.judge_any_session(&seen).await?;
                if any_session && difference.is_none() {
                    difference = differs(format!("p{person}'s session from an earlier sign-in now shows {held}"), held);
                }
            } else if active {
                let theirs = own.iter().any(|email| seen.is(email));
                let same_account = reached.as_ref().is_none_or(|account| seen.body.contains(account.as_str()));
                if (!theirs || !same_account) && difference.is_none() {
                    difference = differs(
                        format!("p{person}'s session from an earlier sign-in now shows {}", seen.describe()),
                        seen.describe(),
                    );
                }
                kept.push((browser, reached));
            } else {
                let (any_session, held) = self.suite.judge_any_session(&seen).await?;
                if any_session && difference.is_none() {
                    difference = differs(
                        format!(
                            "p{person}'s session from an earlier sign-in still shows {held} after Okta deactivated p{person}'s account at the SP"
                        ),
                        held,
                    );
                }
            }
        }
        if let Some(sessions) = self.sessions.get_mut(usize::from(person)) {
            *sessions = kept;
        }
        Ok(difference)
    }

    /// Whether the relying party asked the mock for the `groups` scope in
    /// its sign-ins so far.
    fn relying_party_asks_for_groups(&self) -> bool {
        let Some(oidc) = self.suite.target.oidc.as_ref() else { return false };
        let client = self.suite.idp.read_org(|org| org.find_app(&oidc.app).map(|app| app.id.clone()));
        client.is_some_and(|client| self.suite.idp.requested_scopes(&client).contains("groups"))
    }
}
