//! The OIDC checks of the rules vendor guides give a relying party's
//! accounts: a licence given at sign-in (the Mobius guide), a username that
//! must be an email and a display name that must be set (the Koopid guide).
//! Each runs only where the target declares the rule, since an SP without
//! it is right to do otherwise, and each verdict rests on the session
//! oracle (and, for a refusal at a JIT SP, on the `list_users` hook when
//! the target has one).

use rand::Rng;

use super::super::{Canary, Outcome, Step, StepError};
use super::{OidcDriver, evidence_holding};

/// Ten random lowercase letters, as canaries' tags are, so each run's
/// people are its own.
fn fresh_tag() -> String {
    let mut rng = rand::rng();
    (0..10).map(|_| char::from(b'a' + rng.random_range(0..26u8))).collect()
}

impl OidcDriver<'_> {
    /// A canary signs in for the first time; the session must show the
    /// licence the target says the SP gives at sign-in.
    pub(super) async fn licence_at_sign_in(&self) -> Step<Outcome> {
        let target = &self.suite.target;
        let Some(licence) = target.accounts.licence.as_deref() else {
            return Ok(Outcome::skip(
                "the target declares no accounts.licence (the licence the SP gives an account when it signs in)",
            ));
        };
        let Some(pointer) = target.session.as_ref().and_then(|s| s.licence_pointer.as_deref()) else {
            return Ok(Outcome::skip("the target's session has no licence_pointer to read the account's licence from"));
        };
        let (user, redirected, answer, seen) =
            self.fresh_canary_signed_in("licensed", ", so its licence cannot be judged").await?;
        let body: serde_json::Value = serde_json::from_str(&seen.body)
            .map_err(|e| StepError(format!("the session oracle's body is not JSON: {e}")))?;
        let shown = body.pointer(pointer).and_then(serde_json::Value::as_str);
        if shown.is_some_and(|shown| shown.eq_ignore_ascii_case(licence)) {
            return Ok(Outcome::pass(format!(
                "the first sign-in of {} gave the account the licence '{licence}' (the session shows it at {pointer})",
                user.email
            )));
        }
        let found = match shown {
            Some(other) => format!("'{other}'"),
            None => "no licence".to_owned(),
        };
        Ok(Outcome::fail(
            format!(
                "after the first sign-in of {} the session shows {found} at {pointer}, not the licence '{licence}' the SP gives at sign-in: the account made at that sign-in did not get it",
                user.email
            ),
            evidence_holding(&redirected, &answer, seen.describe(), self.last_id_token(&user)),
        ))
    }

    /// A user of the org whose login (the `preferred_username` Okta sends)
    /// is not an email, though their email is on the tenant's domain, signs
    /// in; the SP must refuse them and make no account.
    pub(super) async fn username_not_email_refused(&self) -> Step<Outcome> {
        if !self.suite.target.accounts.username_is_email {
            return Ok(Outcome::skip(
                "the target does not say the SP requires an email-format username (accounts.username_format = \"email\")",
            ));
        }
        let (login, email) = self.suite.idp.read_org(|org| {
            let tag = fresh_tag();
            let domain = self.suite.canary_domain(&org.email_domain);
            (format!("username-{tag}"), format!("username-{tag}@{domain}"))
        });
        let person = self.org_user(&login, &email, ("Canary", &login))?;
        self.judge_refused_person(&person, &email, "a user whose Okta username is not an email", |id_token| {
            id_token["claims"]["preferred_username"].as_str() == Some(login.as_str())
        })
        .await
    }

    /// A user of the org with no first or last name (so Okta sends no
    /// `name`) signs in; the SP must refuse them and make no account.
    pub(super) async fn display_name_required(&self) -> Step<Outcome> {
        if !self.suite.target.accounts.display_name_required {
            return Ok(Outcome::skip(
                "the target does not say the SP requires a display name (accounts.display_name_required = true)",
            ));
        }
        let email = self
            .suite
            .idp
            .read_org(|org| format!("nameless-{}@{}", fresh_tag(), self.suite.canary_domain(&org.email_domain)));
        let person = self.org_user(&email, &email, ("", ""))?;
        self.judge_refused_person(&person, &email, "a user the IdP sent no display name for", |id_token| {
            id_token["claims"].get("name").is_none()
        })
        .await
    }

    /// Signs `person` in (their `email` is their address, `person.email`
    /// the login the mock signs in by) and judges the refusal: no session
    /// of any kind, and, at a JIT SP with a `list_users` hook, no account.
    /// At an SP without JIT the account is made first, so that the refusal
    /// judged is the rule's and not the missing account's. `token_is_right`
    /// confirms the mock sent what the check is about.
    async fn judge_refused_person(
        &self,
        person: &Canary,
        email: &str,
        what: &str,
        token_is_right: impl Fn(&serde_json::Value) -> bool,
    ) -> Step<Outcome> {
        let as_account =
            Canary { email: email.to_owned(), name: person.name.clone(), family_name: person.family_name.clone() };
        self.suite.ensure_account(&as_account).await?;
        let browser = self.suite.browser()?;
        let mut redirected = self.start(&browser, person).await?;
        let answer = self.finish(&browser, &mut redirected).await?;
        let id_token = self.last_id_token(person);
        if !id_token.as_ref().is_some_and(&token_is_right) {
            return Err(StepError(format!(
                "the mock's ID token for {} is not the one the check needs (or none was issued): {}",
                person.email,
                id_token.map(|t| t["claims"].to_string()).unwrap_or_else(|| "no token".into())
            )));
        }
        let refused = self.judge_refusal(&browser, person, &redirected, &answer, what).await?;
        if refused.verdict != super::super::Verdict::Pass {
            return Ok(refused);
        }
        let target = &self.suite.target;
        let Some(hook) = target.list_users.as_ref().filter(|_| target.accounts.jit) else {
            return Ok(Outcome::pass(format!(
                "no session for {what}, {} (the relying party answered {}); accounts not checked: {}",
                person.email,
                answer.status,
                if target.accounts.jit {
                    "the target has no list_users hook"
                } else {
                    "the SP makes no accounts at sign-in"
                }
            )));
        };
        let listing = self.suite.call_hook("list_users", hook, &[]).await?;
        if listing.to_ascii_lowercase().contains(&email.to_ascii_lowercase()) {
            return Ok(Outcome::fail(
                format!(
                    "{what}, {}, got no session, but the SP made an account for {email}: the list_users hook shows it",
                    person.email
                ),
                evidence_holding(&redirected, &answer, "no session".into(), self.last_id_token(person)),
            ));
        }
        Ok(Outcome::pass(format!(
            "no session and no account for {what}, {} (the relying party answered {})",
            person.email, answer.status
        )))
    }

    /// Adds a user with this login, email and first and last name, assigned
    /// to the client, through the org's change feed. Empty names are set
    /// on the profile after the user is made, as an org whose profile
    /// editor makes the names optional allows (Okta's API would refuse
    /// blank required names). The returned canary's `email` is the login,
    /// which the mock signs in by (`login_hint`).
    fn org_user(&self, login: &str, email: &str, (first, last): (&str, &str)) -> Step<Canary> {
        let now = self.suite.idp.now();
        let ids = self.suite.idp.ids();
        self.suite.idp.change_org(|org| {
            let mut changes = Vec::new();
            let made = (|| {
                let placeholder = |name: &str| if name.is_empty() { "Unnamed".to_owned() } else { name.to_owned() };
                let body = serde_json::from_value(serde_json::json!({"profile": {
                    "login": login, "email": email, "firstName": placeholder(first), "lastName": placeholder(last)
                }}))
                .map_err(|e| StepError(e.to_string()))?;
                let created = mock_idp::admin::create_user(org, body, true, now, ids)
                    .map_err(|e| StepError(format!("cannot add the user {login}: {e}")))?;
                let user_id = created.subject.clone();
                changes.extend(created.changes);
                if first.is_empty() || last.is_empty() {
                    let user = org
                        .users
                        .get_mut(&user_id)
                        .ok_or_else(|| StepError(format!("the user {login} vanished from the org")))?;
                    user.profile.first_name = first.to_owned();
                    user.profile.last_name = last.to_owned();
                    changes.push(mock_idp::admin::OrgChange::ProfileChanged { user: user_id });
                }
                let assignment = serde_json::from_value(serde_json::json!({})).map_err(|e| StepError(e.to_string()))?;
                let assigned = mock_idp::admin::assign_user(org, &self.client_id, Some(login), assignment, now)
                    .map_err(|e| StepError(format!("cannot assign {login}: {e}")))?;
                changes.extend(assigned.changes);
                Ok(Canary {
                    email: login.to_owned(),
                    name: format!("{first} {last}").trim().to_owned(),
                    family_name: last.to_owned(),
                })
            })();
            Ok::<_, StepError>((made, changes))
        })?
    }
}
