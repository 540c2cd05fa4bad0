//! Carries out the email-matching checks. Each makes one person at the mock
//! org and at the SP's SCIM server (Okta's lookup and create, externalId the
//! Okta user id), signs that person in as the positive control, then signs
//! in a variant: the same person under another case or a changed email, or
//! another Okta user whose address only looks like theirs.

use mock_idp::scim::requests::{self, UserView};
use rand::Rng;

use crate::catalogue::EmailMatchingAction;
use crate::runner::browser::SpAnswer;
use crate::runner::oidc::OidcDriver;
use crate::runner::oracle::Seen;
use crate::runner::saml::SamlDriver;
use crate::runner::scim::{CanaryUser, Reply, Session, total_results};
use crate::runner::{Canary, Evidence, Outcome, ScimEvidence, Step, StepError, Suite, excerpt};

pub(super) async fn execute(suite: &Suite, action: EmailMatchingAction) -> Step<Outcome> {
    if !suite.target.accounts.keeps_accounts {
        return Ok(Outcome::skip("the target says the SP keeps no accounts (accounts.keeps_accounts = false)"));
    }
    let door = Door::of(suite)?;
    let mut scim = Session::new(suite)?;
    match action {
        // The person signs in before Okta provisions them.
        EmailMatchingAction::OneAccount => one_account(suite, &door, &mut scim).await,
        EmailMatchingAction::NameIdNotEmail => name_id_not_email(suite, &door, &mut scim).await,
        EmailMatchingAction::Case => EmailCheck::start(suite, door, scim).await?.case().await,
        EmailMatchingAction::CyrillicLookAlike => {
            let mut check = EmailCheck::start(suite, door, scim).await?;
            let email = cyrillic_look_alike(&check.person.canary.email);
            check.other_person_refused(&email, "a Cyrillic look-alike").await
        }
        EmailMatchingAction::FullWidthLookAlike => {
            let mut check = EmailCheck::start(suite, door, scim).await?;
            let email = full_width_look_alike(&check.person.canary.email);
            check.other_person_refused(&email, "a full-width look-alike").await
        }
        EmailMatchingAction::PlusAddress => {
            let mut check = EmailCheck::start(suite, door, scim).await?;
            let email = plus_address(&check.person.canary.email, "mockta");
            check.other_person_refused(&email, "a +tag address").await
        }
        EmailMatchingAction::ChangedAtOkta => EmailCheck::start(suite, door, scim).await?.changed_at_okta().await,
        EmailMatchingAction::Whitespace => EmailCheck::start(suite, door, scim).await?.whitespace().await,
        EmailMatchingAction::MovedOutsideDomain => {
            EmailCheck::start(suite, door, scim).await?.moved_outside_domain().await
        }
        EmailMatchingAction::ReassignedEmail => EmailCheck::start(suite, door, scim).await?.reassigned_email().await,
        EmailMatchingAction::UnverifiedEmailNeverLinks => {
            // email_verified is an ID token claim: the other user signs in
            // by OIDC whatever else the target declares, while the person
            // is made as the other checks make them (by SAML where the
            // target has it).
            let Some(oidc) = Door::oidc(suite)? else {
                return Ok(Outcome::skip(
                    "the target declares no [oidc] section: email_verified is a claim of OIDC's ID token",
                ));
            };
            EmailCheck::start(suite, door, scim).await?.unverified_email_never_links(&oidc).await
        }
    }
}

/// Where the checks' people sign in: the target's SAML app when it has
/// one, else its OIDC app.
struct Door<'a> {
    suite: &'a Suite,
    app_id: String,
    via: Via<'a>,
}

/// The protocol the checks sign in by.
enum Via<'a> {
    Saml(SamlDriver<'a>),
    Oidc(OidcDriver<'a>),
}

/// One sign-in: the SP's last answer and what the oracle then saw.
struct Attempt {
    answer: SpAnswer,
    seen: Seen,
}

/// One person as Okta has them: the org user and the SCIM account made for
/// them.
struct Person {
    canary: Canary,
    scim_user: CanaryUser,
    scim_id: String,
}

impl<'a> Door<'a> {
    fn of(suite: &'a Suite) -> Step<Self> {
        if let Some(app) = &suite.saml {
            return Ok(Door { suite, app_id: app.id.clone(), via: Via::Saml(SamlDriver::new(suite)?) });
        }
        Door::oidc(suite)?
            .ok_or_else(|| StepError("the target declares neither a SAML nor an OIDC app to sign in by".into()))
    }

    /// The target's OIDC app, when it declares one.
    fn oidc(suite: &'a Suite) -> Step<Option<Self>> {
        let Some(wanted) = suite.target.oidc.as_ref().map(|o| o.app.clone()) else { return Ok(None) };
        let app_id = suite
            .idp
            .read_org(|org| org.find_app(&wanted).filter(|a| a.oidc().is_some()).map(|a| a.id.to_string()))
            .ok_or_else(|| StepError(format!("the target's OIDC app {wanted} is not an OIDC app of the org")))?;
        Ok(Some(Door { suite, app_id, via: Via::Oidc(OidcDriver::new(suite)?) }))
    }

    fn protocol(&self) -> &'static str {
        match self.via {
            Via::Saml(_) => "SAML",
            Via::Oidc(_) => "OIDC",
        }
    }

    /// A user of the mock org with this email, assigned to the sign-in app.
    fn org_user(&self, email: &str, tag: &str) -> Step<Canary> {
        self.suite.org_user(&self.app_id, email, tag)
    }

    /// A new user of the mock org in the canary domain, assigned to the
    /// sign-in app.
    fn new_person(&self, label: &str) -> Step<Canary> {
        let tag = random_tag();
        let domain = self.suite.idp.read_org(|org| org.email_domain.clone());
        let domain = self.suite.canary_domain(&domain);
        self.org_user(&format!("{label}-{tag}@{domain}"), &tag)
    }
    /// Signs `user` in, in a fresh browser, and asks the oracle.
    async fn sign_in(&self, user: &Canary) -> Step<Attempt> {
        let suite = self.suite;
        let browser = suite.browser()?;
        let answer = match &self.via {
            Via::Saml(driver) => driver.sign_in_capture(&browser, user).await?.1,
            Via::Oidc(driver) => {
                let mut redirected = driver.start(&browser, user).await?;
                driver.finish(&browser, &mut redirected).await?
            }
        };
        let seen = suite.oracle(&browser).await?;
        Ok(Attempt { answer, seen })
    }
}

/// What Okta sends by SCIM for an org user: userName and email its login,
/// externalId its Okta user id.
fn scim_user_of(suite: &Suite, canary: &Canary) -> Step<CanaryUser> {
    let okta_id = suite
        .idp
        .read_org(|org| org.find_user(&canary.email).map(|u| u.id.clone()))
        .ok_or_else(|| StepError(format!("the org user {} vanished", canary.email)))?;
    Ok(CanaryUser::of_org_user(okta_id, &canary.email, "Canary", &canary.family_name))
}

struct EmailCheck<'a> {
    suite: &'a Suite,
    door: Door<'a>,
    scim: Session<'a>,
    person: Person,
    /// What the oracle showed after the positive control: the account.
    control: Seen,
}

impl<'a> EmailCheck<'a> {
    /// A new person at the org and at the SP, and the positive control:
    /// their sign-in reaches that account. By SAML, Okta provisions them
    /// first (lookup, create) and the sign-in finds the account by the
    /// NameID. By OIDC the person signs in first and Okta's assignment then
    /// finds and links that account (or creates one when its lookup finds
    /// nobody): a relying party keyed on iss+sub need not link a SCIM
    /// account to a sub by email, so this is the order in which one person
    /// has one account there.
    async fn start(suite: &'a Suite, door: Door<'a>, mut scim: Session<'a>) -> Step<Self> {
        let canary = door.new_person("email")?;
        let scim_user = scim_user_of(suite, &canary)?;
        let (scim_id, control) = match door.via {
            Via::Saml(_) => {
                // SCIM makes the account, so no create_user hook is called.
                let scim_id = scim.provision(&scim_user).await?;
                (scim_id, door.sign_in(&canary).await?)
            }
            Via::Oidc(_) => {
                suite.ensure_account(&canary).await?;
                let control = door.sign_in(&canary).await?;
                let lookup = scim.send(&requests::find_user(&canary.email)).await?;
                let found = lookup.resource_ids();
                let scim_id = match found.as_slice() {
                    [one] if lookup.ok() => one.clone(),
                    [] => scim.provision(&scim_user).await?,
                    _ => {
                        return Err(StepError(format!(
                            "positive control failed: Okta's lookup of {} after its first sign-in answered {} with {found:?}",
                            canary.email, lookup.status
                        )));
                    }
                };
                (scim_id, control)
            }
        };
        if !control.seen.is(&canary.email) {
            return Err(StepError(format!(
                "positive control failed: {} (SCIM id {scim_id}) signed in by {} and got {} (the SP answered {} {})",
                canary.email,
                door.protocol(),
                control.seen.describe(),
                control.answer.status,
                excerpt(&control.answer.body, 200)
            )));
        }
        let person = Person { canary, scim_user, scim_id };
        Ok(EmailCheck { suite, door, scim, person, control: control.seen })
    }

    /// Evidence: the SCIM exchanges, and what the sign-in got.
    fn evidence(&self, attempt: &Attempt) -> Option<Evidence> {
        Some(Evidence::Scim(ScimEvidence {
            exchanges: self.scim.exchanges.clone(),
            oracle: format!(
                "{} (the SP answered the {} sign-in {}{})",
                attempt.seen.describe(),
                self.door.protocol(),
                attempt.answer.status,
                attempt.answer.location.as_ref().map(|l| format!(" -> {l}")).unwrap_or_default()
            ),
        }))
    }

    /// Changes the org user's login and email, as an Okta admin does.
    fn rename_at_okta(&self, to: &str) -> Step<()> {
        let now = self.suite.idp.now();
        let from = self.person.canary.email.clone();
        self.suite.idp.change_org(|org| {
            let body = serde_json::from_value(serde_json::json!({"profile": {"login": to, "email": to}}))
                .map_err(|e| StepError(e.to_string()))?;
            let renamed = mock_idp::admin::update_user(org, &from, body, true, now)
                .map_err(|e| StepError(format!("cannot change {from} to {to} at the mock org: {e}")))?;
            Ok(((), renamed.changes))
        })
    }

    /// The same person, their email's local part upper-cased at Okta (no
    /// SCIM update: Okta's login and the SP's userName compare without
    /// case), must reach the very account the control reached.
    async fn case(&mut self) -> Step<Outcome> {
        let variant = upper_local_part(&self.person.canary.email);
        self.rename_at_okta(&variant)?;
        let moved = Canary { email: variant.clone(), ..self.person.canary.clone() };
        let attempt = self.door.sign_in(&moved).await?;
        if attempt.seen.identity.is_some() && attempt.seen.identity == self.control.identity {
            return Ok(Outcome::pass(format!(
                "{variant} reached the account provisioned as {}",
                self.person.canary.email
            )));
        }
        Ok(Outcome::fail(
            format!(
                "{} was provisioned by SCIM as {} and reached {}; signing in as {variant} gave {} instead",
                self.person.canary.name,
                self.person.canary.email,
                self.control.describe(),
                attempt.seen.describe()
            ),
            self.evidence(&attempt),
        ))
    }

    /// Another Okta user, at `email`, signs in: whatever the SP does with
    /// them (a new account, a refusal), they must not get the provisioned
    /// person's account.
    async fn other_person_refused(&mut self, email: &str, what: &str) -> Step<Outcome> {
        let other = self.door.org_user(email, &format!("{}-other", self.person.canary.family_name))?;
        let attempt = self.door.sign_in(&other).await?;
        if attempt.seen.is(&self.person.canary.email) {
            return Ok(Outcome::fail(
                format!(
                    "another Okta user at {email} ({what} of {}) signed in and got {}'s account: {}",
                    self.person.canary.email,
                    self.person.canary.email,
                    attempt.seen.describe()
                ),
                self.evidence(&attempt),
            ));
        }
        Ok(Outcome::pass(format!(
            "{what} of {} got {}, not that account",
            self.person.canary.email,
            attempt.seen.describe()
        )))
    }

    /// Another Okta user (their own login, Okta keeps logins unique, not
    /// emails) is given the person's email unverified, as an Okta admin can
    /// (profile `emailVerified = false`), so their ID token says
    /// `email_verified: false`. Their OIDC sign-in must not reach the
    /// person's account: only a verified email may link a new sub to an
    /// account (OIDC Core 5.7).
    async fn unverified_email_never_links(&mut self, oidc: &Door<'_>) -> Step<Outcome> {
        let email = self.person.canary.email.clone();
        let (local, domain) = email.split_once('@').unwrap_or_default();
        let other_login = format!("{local}-unverified@{domain}");
        let other = oidc.org_user(&other_login, &format!("{}-unverified", self.person.canary.family_name))?;
        let now = self.suite.idp.now();
        self.suite.idp.change_org(|org| {
            let body = serde_json::from_value(serde_json::json!({"profile": {"email": email, "emailVerified": false}}))
                .map_err(|e| StepError(e.to_string()))?;
            let changed = mock_idp::admin::update_user(org, &other_login, body, true, now)
                .map_err(|e| StepError(format!("cannot give {other_login} the unverified email {email}: {e}")))?;
            Ok::<_, StepError>(((), changed.changes))
        })?;
        let attempt = oidc.sign_in(&other).await?;
        if attempt.seen.is(&email) {
            let evidence = Some(Evidence::Scim(ScimEvidence {
                exchanges: self.scim.exchanges.clone(),
                oracle: format!(
                    "{} (the SP answered the OIDC sign-in {}{})",
                    attempt.seen.describe(),
                    attempt.answer.status,
                    attempt.answer.location.as_ref().map(|l| format!(" -> {l}")).unwrap_or_default()
                ),
            }));
            return Ok(Outcome::fail(
                format!(
                    "another Okta user ({other_login}) whose ID token says email_verified false for {email} signed in by OIDC and got {email}'s account, which {} reached by {}: {}",
                    self.person.canary.email,
                    self.door.protocol(),
                    attempt.seen.describe()
                ),
                evidence,
            ));
        }
        Ok(Outcome::pass(format!(
            "another Okta user whose ID token says email_verified false for {email} got {} (the SP answered {}), not that account",
            attempt.seen.describe(),
            attempt.answer.status
        )))
    }

    /// Okta changes the person's email to `{local}-moved@{domain}` and sends
    /// its profile update (GET then PUT, or PATCH, as the target's profile
    /// says). Returns the new email and the update's status; a refused
    /// update is an error, since Okta's update itself is not judged here.
    async fn move_email_at_okta(&mut self) -> Step<(String, u16)> {
        let (local, domain) = self.person.canary.email.split_once('@').unwrap_or_default();
        let new_email = format!("{local}-moved@{domain}");
        let updated = self.send_email_change(&new_email).await?;
        if !updated.ok() {
            let id = &self.person.scim_id;
            return Err(StepError(format!("Okta's update of {id} to {new_email} answered {}", updated.status)));
        }
        Ok((new_email, updated.status))
    }

    /// Okta changes the person's login and email to `new_email` and sends
    /// its profile update; returns the SP's answer to the update.
    async fn send_email_change(&mut self, new_email: &str) -> Step<Reply> {
        self.rename_at_okta(new_email)?;
        let okta_id = self.person.scim_user.view.okta_id.clone();
        let moved_user = CanaryUser::of_org_user(okta_id, new_email, "Canary", &self.person.canary.family_name);
        self.send_profile_update(&moved_user.view).await
    }

    /// Sends Okta's profile update of the person to `view`: GET then PUT,
    /// or PATCH, as the target's profile says.
    async fn send_profile_update(&mut self, view: &UserView) -> Step<Reply> {
        let id = self.person.scim_id.clone();
        let current = self.scim.read_user(&id).await?;
        let current = current.json.filter(|_| current.status == 200).ok_or_else(|| {
            StepError(format!("Okta's read of user {id} before its update answered {}", current.status))
        })?;
        let request = self.scim.profile_update(&id, &current, view)?;
        self.scim.send(&request).await
    }

    /// Okta re-sends the person's email with surrounding whitespace (a
    /// profile update whose userName and emails value are ` {email} `, as a
    /// mapping that pads the value sends them); the SP may refuse the
    /// update, but the person's next sign-in must reach the same account.
    async fn whitespace(&mut self) -> Step<Outcome> {
        let email = self.person.canary.email.clone();
        let padded = format!(" {email} ");
        let mut view = self.person.scim_user.view.clone();
        view.user_name = padded.clone();
        for (path, value) in &mut view.values {
            if path.attribute.eq_ignore_ascii_case("emails") {
                *value = serde_json::Value::String(padded.clone());
            }
        }
        let updated = self.send_profile_update(&view).await?;
        let attempt = self.door.sign_in(&self.person.canary).await?;
        let update = if updated.ok() { "taken" } else { "refused" };
        if attempt.seen.is(&email) {
            return Ok(Outcome::pass(format!(
                "after Okta's update with \"{padded}\" ({update}, {}), {email} still reached its account",
                updated.status
            )));
        }
        Ok(Outcome::fail(
            format!(
                "after Okta's update sent the email as \"{padded}\" ({update}, {}), signing in as {email} gave {} instead of {}",
                updated.status,
                attempt.seen.describe(),
                self.control.describe()
            ),
            self.evidence(&attempt),
        ))
    }

    /// Okta moves the person to an address outside the SP's email domains
    /// and sends its profile update, which the SP may refuse. Either way no
    /// session may hold the outside address: SCIM and sign-in apply one
    /// domain rule. A relying party keyed on the OIDC sub may still sign the
    /// person in to their account as it was (the SP refused the change);
    /// a session for anyone else, or with no identity, fails.
    async fn moved_outside_domain(&mut self) -> Step<Outcome> {
        let (local, _) = self.person.canary.email.split_once('@').unwrap_or_default();
        let outside = format!("{local}@{}", self.suite.outside_domain());
        let updated = self.send_email_change(&outside).await?;
        let moved = Canary { email: outside.clone(), ..self.person.canary.clone() };
        let attempt = self.door.sign_in(&moved).await?;
        let (any, held) = self.suite.judge_any_session(&attempt.seen).await?;
        let update = if updated.ok() { "taken" } else { "refused" };
        let own_account_unchanged = !updated.ok() && attempt.seen.is(&self.person.canary.email);
        if any && !own_account_unchanged {
            return Ok(Outcome::fail(
                format!(
                    "after Okta moved {} to {outside}, outside the SP's email domains (SCIM update {update}, {}), signing in as {outside} gave {held}",
                    self.person.canary.email, updated.status
                ),
                self.evidence(&attempt),
            ));
        }
        Ok(Outcome::pass(format!(
            "the SCIM update to {outside} was {update} ({}) and signing in with it gave {}",
            updated.status,
            attempt.seen.describe()
        )))
    }

    /// Okta changes the person's email and sends its profile update; the
    /// person signs in with the new email and must reach the same account,
    /// which SCIM then finds under the new userName alone.
    async fn changed_at_okta(&mut self) -> Step<Outcome> {
        let (new_email, update_status) = self.move_email_at_okta().await?;
        let id = self.person.scim_id.clone();
        let moved = Canary { email: new_email.clone(), ..self.person.canary.clone() };
        let attempt = self.door.sign_in(&moved).await?;
        let mut problems = Vec::new();
        if !attempt.seen.is(&new_email) {
            problems.push(format!("signing in as {new_email} gave {}", attempt.seen.describe()));
        }
        let lookup = self.scim.send(&requests::find_user(&new_email)).await?;
        let found = lookup.resource_ids();
        if total_results(&lookup) != Some(1) || found != [id.clone()] {
            problems.push(format!(
                "Okta's lookup of {new_email} after the sign-in finds {found:?}, not the one account {id}"
            ));
        }
        if problems.is_empty() {
            Ok(Outcome::pass(format!(
                "{new_email} reached the account {id} provisioned as {}",
                self.person.canary.email
            )))
        } else {
            Ok(Outcome::fail(
                format!(
                    "after Okta changed {} to {new_email} (SCIM update answered {}): {}",
                    self.person.canary.email,
                    update_status,
                    problems.join("; ")
                ),
                self.evidence(&attempt),
            ))
        }
    }

    /// Okta moves the person to a new email, then gives the old one to a new
    /// Okta user and provisions them (lookup, create with their own
    /// externalId). The new user's sign-in must not reach the first
    /// person's account, which now shows the new email.
    async fn reassigned_email(&mut self) -> Step<Outcome> {
        let old_email = self.person.canary.email.clone();
        let (new_email, _) = self.move_email_at_okta().await?;
        let successor_tag = format!("{}-next", self.person.canary.family_name);
        let successor = self.door.org_user(&old_email, &successor_tag)?;
        let successor_scim = scim_user_of(self.suite, &successor)?;
        // Okta's lookup of the old address must find nobody now: the SP
        // moved the account to the new one.
        let lookup = self.scim.send(&requests::find_user(&old_email)).await?;
        if total_results(&lookup).unwrap_or(0) > 0 {
            let attempt = self.door.sign_in(&successor).await?;
            return Ok(Outcome::fail(
                format!(
                    "after Okta moved {old_email} to {new_email}, Okta's lookup of {old_email} for its new owner still finds an account, so Okta would link the new person to it"
                ),
                self.evidence(&attempt),
            ));
        }
        let created = self.scim.send(&requests::create_user(&successor_scim.view, None)).await?;
        if created.status != 201 {
            let attempt = self.door.sign_in(&successor).await?;
            return Ok(Outcome::fail(
                format!(
                    "after Okta moved {old_email} to {new_email}, Okta's create of the address's new owner answered {}: the SP still holds {old_email} for the first account",
                    created.status
                ),
                self.evidence(&attempt),
            ));
        }
        let successor_id = created.text("/id").unwrap_or_default().to_owned();
        let attempt = self.door.sign_in(&successor).await?;
        if attempt.seen.is(&new_email) {
            return Ok(Outcome::fail(
                format!(
                    "the new owner of {old_email} (Okta user {}, SCIM id {successor_id}) signed in and got the first person's account, which Okta moved to {new_email}: {}",
                    successor_scim.view.okta_id,
                    attempt.seen.describe()
                ),
                self.evidence(&attempt),
            ));
        }
        Ok(Outcome::pass(format!(
            "the new owner of {old_email} got {}, not the account moved to {new_email}",
            attempt.seen.describe()
        )))
    }
}

/// A person signs in first (their account made at sign-in, or by the
/// target's create_user hook where the SP has no JIT); then Okta assigns
/// them and looks their userName up, which must find that one account.
async fn one_account(suite: &Suite, door: &Door<'_>, scim: &mut Session<'_>) -> Step<Outcome> {
    let person = door.new_person("first")?;
    suite.ensure_account(&person).await?;
    let control = door.sign_in(&person).await?;
    if !control.seen.is(&person.email) {
        return Err(StepError(format!(
            "positive control failed: {} signed in by {} before any provisioning and got {} (the SP answered {} {})",
            person.email,
            door.protocol(),
            control.seen.describe(),
            control.answer.status,
            excerpt(&control.answer.body, 200)
        )));
    }
    let lookup = scim.send(&requests::find_user(&person.email)).await?;
    let found = lookup.resource_ids();
    if lookup.ok() && total_results(&lookup) == Some(1) && found.len() == 1 {
        return Ok(Outcome::pass(format!(
            "Okta's lookup of {} finds the one account {} that signing in reached",
            person.email, found[0]
        )));
    }
    // Okta, finding nobody, creates the user: show what that does.
    let scim_user = scim_user_of(suite, &person)?;
    let created = scim.send(&requests::create_user(&scim_user.view, None)).await?;
    let outcome = if created.status == 201 { "makes a second account" } else { "fails" };
    let evidence = Some(Evidence::Scim(ScimEvidence {
        exchanges: scim.exchanges.clone(),
        oracle: format!("{} (after the {} sign-in before provisioning)", control.seen.describe(), door.protocol()),
    }));
    Ok(Outcome::fail(
        format!(
            "{} signed in and has an account, but Okta's lookup of that userName answered {} with {found:?} (totalResults {:?}), so Okta's assignment {outcome} (its create answered {})",
            person.email,
            lookup.status,
            total_results(&lookup),
            created.status
        ),
        evidence,
    ))
}

/// Changes an org user as an Okta admin does: their email (`email`), and
/// their app username in the sign-in app (`app_user_name`, the assignment's
/// `credentials.userName`), which becomes the SAML NameID and the SCIM
/// userName.
fn set_at_okta(suite: &Suite, door: &Door<'_>, login: &str, email: Option<&str>, app_user_name: &str) -> Step<()> {
    let now = suite.idp.now();
    suite.idp.change_org(|org| {
        let mut changes = Vec::new();
        if let Some(email) = email {
            let body = serde_json::from_value(serde_json::json!({"profile": {"email": email}}))
                .map_err(|e| StepError(e.to_string()))?;
            let changed = mock_idp::admin::update_user(org, login, body, true, now)
                .map_err(|e| StepError(format!("cannot set {login}'s email to {email} at the mock org: {e}")))?;
            changes.extend(changed.changes);
        }
        let body = serde_json::from_value(serde_json::json!({"credentials": {"userName": app_user_name}}))
            .map_err(|e| StepError(e.to_string()))?;
        let assigned = mock_idp::admin::assign_user(org, &door.app_id, Some(login), body, now)
            .map_err(|e| StepError(format!("cannot give {login} the app username {app_user_name}: {e}")))?;
        changes.extend(assigned.changes);
        Ok(((), changes))
    })
}

/// A NameID and an email attribute that disagree. The person's app
/// username (NameID, SCIM userName) is not their email; Okta provisions
/// them (userName the app username, emails their email) and their sign-in
/// reaches that account (the positive control). Then another Okta user with
/// the same email (Okta keeps logins unique, not emails) and their own app
/// username signs in: the NameID decides, so they must not get the
/// person's account.
async fn name_id_not_email(suite: &Suite, door: &Door<'_>, scim: &mut Session<'_>) -> Step<Outcome> {
    if !matches!(door.via, Via::Saml(_)) {
        return Ok(Outcome::skip("a NameID and an email attribute are SAML's; the target signs in by OIDC only"));
    }
    // The attribute the app sends the user's email in, if it sends one.
    let email_attribute = suite.idp.read_org(|org| {
        org.find_app(&door.app_id).and_then(|app| app.saml()).and_then(|saml| {
            saml.attributes
                .iter()
                .find(|a| matches!(&a.value, mock_idp::org::AttributeValueSource::User(name) if name == "email"))
                .map(|a| a.name.clone())
        })
    });
    let Some(email_attribute) = email_attribute else {
        return Ok(Outcome::skip(
            "the org's SAML app sends no attribute with the user's email, so no email attribute can disagree with the NameID",
        ));
    };
    let person = door.new_person("mail")?;
    let (local, domain) = person.email.split_once('@').unwrap_or_default();
    let app_user_name = format!("{local}-app@{domain}");
    set_at_okta(suite, door, &person.email, None, &app_user_name)?;
    let mut scim_user = scim_user_of(suite, &person)?;
    scim_user = CanaryUser::of_org_user(scim_user.view.okta_id.clone(), &app_user_name, "Canary", &person.family_name);
    for (path, value) in &mut scim_user.view.values {
        if path.attribute.eq_ignore_ascii_case("emails") {
            *value = serde_json::Value::String(person.email.clone());
        }
    }
    let scim_id = scim.provision(&scim_user).await?;
    let control = door.sign_in(&person).await?;
    if !control.seen.is(&person.email) {
        return Err(StepError(format!(
            "positive control failed: {} (NameID {app_user_name}, provisioned by SCIM as userName {app_user_name} with email {}, SCIM id {scim_id}) signed in by SAML and got {} (the SP answered {} {})",
            person.email,
            person.email,
            control.seen.describe(),
            control.answer.status,
            excerpt(&control.answer.body, 200)
        )));
    }
    let other_login = format!("{local}-other@{domain}");
    let other = door.org_user(&other_login, &format!("{}-other", person.family_name))?;
    set_at_okta(suite, door, &other_login, Some(&person.email), &other_login)?;
    let attempt = door.sign_in(&other).await?;
    let evidence = Some(Evidence::Scim(ScimEvidence {
        exchanges: scim.exchanges.clone(),
        oracle: format!(
            "{} (the SP answered the SAML sign-in {}{})",
            attempt.seen.describe(),
            attempt.answer.status,
            attempt.answer.location.as_ref().map(|l| format!(" -> {l}")).unwrap_or_default()
        ),
    }));
    if attempt.seen.is(&person.email) {
        return Ok(Outcome::fail(
            format!(
                "another Okta user (NameID {other_login}) whose {email_attribute} attribute is {} got the account of the person whose NameID is {app_user_name}: {}",
                person.email,
                attempt.seen.describe()
            ),
            evidence,
        ));
    }
    Ok(Outcome::pass(format!(
        "the NameID decided: another user with the email {} (NameID {other_login}) got {}",
        person.email,
        attempt.seen.describe()
    )))
}

fn random_tag() -> String {
    let mut rng = rand::rng();
    (0..10).map(|_| char::from(b'a' + rng.random_range(0..26u8))).collect()
}

/// `email-x@acme.test` becomes `EMAIL-X@acme.test`.
fn upper_local_part(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}@{domain}", local.to_uppercase()),
        None => email.to_uppercase(),
    }
}

/// The address with the Latin letters of its local part that have a
/// Cyrillic twin (a, c, e, o, p, x, y) replaced by it; the domain is kept,
/// so the address passes a domain rule.
fn cyrillic_look_alike(email: &str) -> String {
    map_local_part(email, |c| match c {
        'a' => 'а',
        'c' => 'с',
        'e' => 'е',
        'o' => 'о',
        'p' => 'р',
        'x' => 'х',
        'y' => 'у',
        other => other,
    })
}

/// The address with its local part's ASCII letters and digits in their
/// full-width forms (U+FF01 to U+FF5E).
fn full_width_look_alike(email: &str) -> String {
    map_local_part(email, |c| match c {
        '!'..='~' if c.is_ascii_alphanumeric() => char::from_u32(u32::from(c) - 0x21 + 0xFF01).unwrap_or(c),
        other => other,
    })
}

fn map_local_part(email: &str, map: impl Fn(char) -> char) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}@{domain}", local.chars().map(map).collect::<String>()),
        None => email.to_owned(),
    }
}

/// `local@domain` becomes `local+tag@domain`.
fn plus_address(email: &str, tag: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{local}+{tag}@{domain}"),
        None => email.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variants_differ_only_where_they_should() {
        assert_eq!(upper_local_part("email-ab@acme.test"), "EMAIL-AB@acme.test");
        assert_eq!(cyrillic_look_alike("email-ab@acme.test"), "\u{435}m\u{430}il-\u{430}b@acme.test");
        assert_eq!(full_width_look_alike("ab-1@acme.test"), "\u{FF41}\u{FF42}-\u{FF11}@acme.test");
        assert_eq!(plus_address("ab@acme.test", "mockta"), "ab+mockta@acme.test");
    }
}
