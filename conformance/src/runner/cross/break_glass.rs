//! Carries out `cross.lockout_safety.break_glass_survives_idp_outage`: the
//! SP's break-glass admin (the target's `accounts.break_glass`) is the way
//! in for when the IdP fails, so it must work, with SSO required, however
//! the IdP fails (attacks.md K-14, K-05).
//!
//! The positive controls come first: a person of the mock org (a member of
//! the target's admin group where it names one, so that an SP which lets
//! SSO be required only after an admin signed in through the IdP lets it)
//! is provisioned and signs in by SAML, and the break-glass admin gets in
//! while the IdP is up. Then SSO is required through the target's hook,
//! and the mock fails in three ways in turn: its metadata answers 503, the
//! whole org answers 503, and the app's signing certificate changes (Okta's
//! new certificate takes effect at once). Each time the SP is asked to
//! refresh its metadata where the target has a hook for it, a normal SSO
//! sign-in is tried, and the break-glass admin must get in. The mock and
//! the SP's setting are put back afterwards whatever happened; the check is
//! exclusive, as it changes what every concurrent check would see.

use mock_idp::idp::{Idp, Outage, SamlKeys};
use mock_idp::ids::AppId;

use super::super::browser::{MAX_BODY, read_body};
use super::super::oidc::OidcDriver;
use super::super::saml::SamlDriver;
use super::super::scim::ScimExchange;
use super::super::{Outcome, Step, StepError, Suite, excerpt};
use super::deactivation::{Person, SignInBy, any_sign_in, join_org_group};
use crate::target::{BreakGlassLogin, CredentialsSentAs, Hook};

/// One way the IdP fails for the SP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IdpFailure {
    /// The published metadata answers 503 (the SAML app's metadata, the
    /// authorization servers' discovery documents and key sets); sign-in
    /// itself still works.
    MetadataUnavailable,
    /// Every endpoint of the org answers 503.
    Down,
    /// The app signs with a new key, and its metadata lists only the new
    /// certificate.
    CertificateChanged,
}

impl IdpFailure {
    const ALL: [IdpFailure; 3] = [IdpFailure::MetadataUnavailable, IdpFailure::Down, IdpFailure::CertificateChanged];

    fn describe(self) -> &'static str {
        match self {
            IdpFailure::MetadataUnavailable => "while the IdP's metadata answered 503",
            IdpFailure::Down => "while the whole IdP answered 503",
            IdpFailure::CertificateChanged => "after the IdP's signing certificate changed",
        }
    }
}

/// Ends the mock's outage when dropped, so a check that fails, errors or
/// panics halfway never leaves the mock down for the checks after it.
struct OutageGuard<'a>(&'a Idp);

impl<'a> OutageGuard<'a> {
    fn start(idp: &'a Idp, outage: Outage) -> Self {
        idp.set_outage(Some(outage));
        OutageGuard(idp)
    }
}

impl Drop for OutageGuard<'_> {
    fn drop(&mut self) {
        self.0.set_outage(None);
    }
}

/// Puts the app's signing keys back as they were when dropped.
struct KeysGuard<'a> {
    idp: &'a Idp,
    app: AppId,
    keys: Option<SamlKeys>,
}

impl Drop for KeysGuard<'_> {
    fn drop(&mut self) {
        if let Some(keys) = self.keys.take() {
            self.idp.restore_saml_keys(&self.app, keys);
        }
    }
}

/// What the check did, in order: the evidence's exchanges and the lines a
/// reader follows (the SSO-enforcement check keeps one too).
pub(super) struct Log {
    pub(super) exchanges: Vec<ScimExchange>,
    pub(super) steps: Vec<String>,
}

impl Log {
    pub(super) fn step(&mut self, line: String) {
        self.steps.push(line);
    }
}

/// The break-glass admin's answer: whether they got in, and how the SP
/// answered.
struct Entry {
    got_in: bool,
    answered: String,
}

/// Sends the break-glass login as the target describes it and judges the
/// answer by its status and pointer.
async fn break_glass_login(suite: &Suite, login: &BreakGlassLogin, log: &mut Log) -> Step<Entry> {
    let browser = suite.browser()?;
    let mut request = browser.client().request(login.method.clone(), &login.url);
    let sent = match &login.sent_as {
        CredentialsSentAs::HttpBasic => {
            request = request.basic_auth(&login.user, Some(&login.password));
            None
        }
        CredentialsSentAs::Form { user_field, password_field } => {
            request = request.form(&[
                (user_field.as_str(), login.user.as_str()),
                (password_field.as_str(), login.password.as_str()),
            ]);
            Some(format!("{user_field}={}&{password_field}=(redacted)", login.user))
        }
    };
    let response = browser.send("the break-glass login", request).await?;
    let status = response.status().as_u16();
    let error_code = response.headers().get("x-error-code").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = read_body(response, MAX_BODY, browser.timeout()).await;
    let status_ok = if login.success_status.is_empty() {
        (200..300).contains(&status)
    } else {
        login.success_status.contains(&status)
    };
    let pointer_ok = match &login.success_pointer {
        None => true,
        Some(pointer) => serde_json::from_str::<serde_json::Value>(&body.text)
            .ok()
            .is_some_and(|json| json.pointer(pointer).is_some()),
    };
    let mut answered = status.to_string();
    if let Some(location) = location {
        answered.push_str(&format!(" -> {location}"));
    }
    if let Some(code) = error_code {
        answered.push_str(&format!(" {code}"));
    } else if !status_ok || !pointer_ok {
        answered.push_str(&format!(": {}", one_line(&body.text, 160)));
    }
    let how = match &login.sent_as {
        CredentialsSentAs::HttpBasic => format!("HTTP Basic as {}, password redacted", login.user),
        CredentialsSentAs::Form { .. } => format!("form as {}, password redacted", login.user),
    };
    log.exchanges.push(ScimExchange {
        method: login.method.to_string(),
        url: login.url.clone(),
        request_body: Some(sent.unwrap_or(how)),
        status,
        response_body: excerpt(&body.text, 2000),
    });
    // A body cut short cannot show the pointer; with no pointer to read,
    // the status alone decides.
    if login.success_pointer.is_some() && body.cut_short.is_some() {
        return Err(StepError(format!("the break-glass login's answer was cut short ({answered})")));
    }
    Ok(Entry { got_in: status_ok && pointer_ok, answered })
}

/// Text on one line, at most `limit` characters: an SP's HTML error page
/// read into a reason.
pub(super) fn one_line(text: &str, limit: usize) -> String {
    excerpt(&text.split_whitespace().collect::<Vec<_>>().join(" "), limit)
}

/// Calls a hook `when` something happened, saying in the log how the SP
/// answered; a refusal is the caller's to judge.
async fn call_hook(suite: &Suite, name: &str, hook: &Hook, fills: &[(&str, &str)], when: &str, log: &mut Log) -> bool {
    match suite.call_hook(name, hook, fills).await {
        Ok(_) => {
            log.step(format!("{when}, the {name} hook succeeded"));
            true
        }
        Err(StepError(why)) => {
            // "… hook answered 400 Bad Request: <the body>": the status
            // says enough, the body is an error page.
            let said = match why.find(" answered ") {
                Some(at) => why[at..].split(": ").next().unwrap_or_default().to_owned(),
                None => format!(": {}", one_line(&why, 160)),
            };
            log.step(format!("{when}, the {name} hook{said}"));
            false
        }
    }
}

/// "a SAML" or "an OIDC", for the log.
fn a_sign_in_by(by: SignInBy) -> &'static str {
    match by {
        SignInBy::Saml => "a SAML",
        SignInBy::Oidc => "an OIDC",
    }
}

/// A normal SSO sign-in of the person from a new browser, by the protocol
/// they signed in by first: true when it reached them. A sign-in the suite could not finish (the IdP's page
/// answered 503, the SP refused the response) is a failed sign-in.
pub(super) async fn sso_sign_in(person: &Person<'_>, when: &str, log: &mut Log) -> bool {
    match person.sign_in_anew().await {
        Ok(attempt) => {
            let reached = attempt.seen.is(&person.canary.email);
            log.exchanges.push(ScimExchange {
                method: format!("{} sign-in", person.by.name()),
                url: format!("{when}: the SP's last answer"),
                request_body: None,
                status: attempt.answer.status,
                response_body: format!("{}; the oracle saw {}", attempt.answered(), attempt.seen.describe()),
            });
            log.step(format!(
                "{} sign-in {when} {} (the SP answered {})",
                a_sign_in_by(person.by),
                if reached { "signed the person in" } else { "failed" },
                attempt.answered()
            ));
            reached
        }
        Err(StepError(why)) => {
            log.step(format!("{} sign-in {when} failed: {}", a_sign_in_by(person.by), one_line(&why, 160)));
            false
        }
    }
}

/// Makes the IdP fail in one way, asks the SP to refresh, tries SSO and
/// the break-glass login, and puts the mock back. Returns the problem, if
/// the break-glass admin was refused.
async fn under_failure(
    suite: &Suite,
    failure: IdpFailure,
    saml_app: Option<&AppId>,
    person: &Person<'_>,
    login: &BreakGlassLogin,
    log: &mut Log,
) -> Step<Option<String>> {
    let when = failure.describe();
    let refresh = suite.target.refresh_idp_metadata.clone();
    let entry = match failure {
        IdpFailure::MetadataUnavailable | IdpFailure::Down => {
            let outage = if failure == IdpFailure::Down { Outage::Down } else { Outage::MetadataUnavailable };
            let _guard = OutageGuard::start(&suite.idp, outage);
            if let Some(hook) = &refresh {
                call_hook(suite, "refresh_idp_metadata", hook, &[], when, log).await;
            }
            let signed_in = sso_sign_in(person, when, log).await;
            // With every endpoint down no sign-in can finish: one that
            // does means the outage never reached the SP, and nothing
            // after it would be judged.
            if failure == IdpFailure::Down && signed_in {
                return Err(StepError(format!(
                    "the outage did not take effect: {} sign-in {when} still signed {} in",
                    a_sign_in_by(person.by),
                    person.canary.email
                )));
            }
            break_glass_login(suite, login, log).await?
        }
        IdpFailure::CertificateChanged => {
            let app = saml_app.ok_or_else(|| StepError("the certificate change needs the target's SAML app".into()))?;
            let mock = |e: mock_idp::idp::IdpError| StepError(format!("cannot change the app's certificate: {e}"));
            let before = suite.idp.saml_keys(app).map_err(mock)?;
            let _guard = KeysGuard { idp: &suite.idp, app: app.clone(), keys: Some(before) };
            let fresh = suite.idp.generate_saml_key(app).map_err(mock)?;
            suite.idp.activate_saml_key(app, fresh.fingerprint()).map_err(mock)?;
            log.step(format!("the app now signs with a new certificate (SHA-256 {})", fresh.fingerprint()));
            // Okta's new certificate takes effect at once, before anyone
            // uploads it to the SP: a sign-in fails now at an SP that
            // pins the old one, and the admin has only break-glass left.
            sso_sign_in(person, when, log).await;
            let entry = break_glass_login(suite, login, log).await?;
            // The admin's fix: the SP reads the new certificate.
            if let Some(hook) = &refresh {
                call_hook(suite, "refresh_idp_metadata", hook, &[], "once the admin was in", log).await;
                sso_sign_in(person, "after the SP refreshed its metadata", log).await;
            }
            entry
        }
    };
    log.step(format!(
        "the break-glass login {when} {} (the SP answered {})",
        if entry.got_in { "got in" } else { "was refused" },
        entry.answered
    ));
    // With the mock back, the SP reads its metadata again, so the checks
    // after this one meet the IdP they expect.
    if let Some(hook) = &refresh {
        call_hook(suite, "refresh_idp_metadata", hook, &[], "with the mock put back", log).await;
    }
    Ok((!entry.got_in).then(|| format!("the break-glass login {when} was refused ({})", entry.answered)))
}

pub(super) async fn break_glass_survives_idp_outage(suite: &Suite) -> Step<Outcome> {
    let Some(login) = suite.target.accounts.break_glass.clone() else {
        return Ok(Outcome::skip(
            "the target declares no accounts.break_glass: the SP's break-glass admin login, which no metadata or hook describes",
        ));
    };
    let by = match any_sign_in(suite) {
        Ok(by) => by,
        Err(why) => return Ok(Outcome::skip(why)),
    };
    // The certificate that changes is the SAML app's; an OIDC relying
    // party's keys change in cross.lockout_safety.oidc_key_rotation.
    let saml_app = match (by, &suite.saml) {
        (SignInBy::Saml, Some(app)) => Some(
            AppId::parse(&app.id).map_err(|e| StepError(format!("the SAML app id {} is not Okta's: {e}", app.id)))?,
        ),
        _ => None,
    };
    let failures: Vec<IdpFailure> = IdpFailure::ALL
        .into_iter()
        .filter(|failure| *failure != IdpFailure::CertificateChanged || saml_app.is_some())
        .collect();
    let mut log = Log { exchanges: Vec::new(), steps: Vec::new() };
    // The positive controls: the person signs in through the IdP (as an
    // admin, where the target names the admin group), and the break-glass
    // admin gets in while the IdP is up.
    let canary = match by {
        SignInBy::Saml => SamlDriver::new(suite)?.canary("break-glass", None)?,
        SignInBy::Oidc => OidcDriver::new(suite)?.canary("break-glass", None)?,
    };
    if let Some(group) = &suite.target.accounts.admin_group {
        join_org_group(suite, group, &canary.email)?;
    }
    let mut person = Person::of_canary(suite, by, canary).await?;
    let control = break_glass_login(suite, &login, &mut log).await?;
    if !control.got_in {
        return Err(StepError(format!(
            "positive control failed: the break-glass login to {} while the IdP was up answered {}",
            login.url, control.answered
        )));
    }
    log.step(format!("the break-glass login while the IdP was up got in ({})", control.answered));
    let required = match &suite.target.set_sso_required {
        Some(hook) => {
            call_hook(suite, "set_sso_required", hook, &[("{value}", "true")], "with the IdP up", &mut log).await
        }
        None => false,
    };
    let sso = match (&suite.target.set_sso_required, required) {
        (None, _) => "with SSO optional (the target declares no set_sso_required hook)",
        (Some(_), true) => "with SSO required",
        (Some(_), false) => "with SSO optional (the SP refused to require it)",
    };
    let mut problems = Vec::new();
    let mut broken = None;
    for failure in failures.iter().copied() {
        match under_failure(suite, failure, saml_app.as_ref(), &person, &login, &mut log).await {
            Ok(problem) => problems.extend(problem),
            Err(why) => {
                broken = Some(why);
                break;
            }
        }
    }
    // The setting goes back whatever happened above.
    if required && let Some(hook) = &suite.target.set_sso_required {
        let restored =
            call_hook(suite, "set_sso_required", hook, &[("{value}", "false")], "at the end", &mut log).await;
        if !restored && broken.is_none() {
            broken = Some(StepError(format!(
                "could not make SSO optional again: {}",
                log.steps.last().cloned().unwrap_or_default()
            )));
        }
    }
    let oracle = log.steps.join("; ");
    person.scim.exchanges.extend(log.exchanges);
    if let Some(StepError(why)) = broken {
        return Err(StepError(format!("{why} (so far: {oracle})")));
    }
    if problems.is_empty() {
        let survived: Vec<&str> = failures.iter().map(|failure| failure.describe()).collect();
        let only_oidc = if saml_app.is_none() {
            " (the certificate change is the SAML app's, and this target signs in by OIDC)"
        } else {
            ""
        };
        return Ok(Outcome::pass(format!(
            "{sso}, the break-glass admin {} got in while the IdP was up, {}{only_oidc}: {oracle}",
            login.user,
            survived.join(", ")
        )));
    }
    Ok(person.fail(format!("{sso}: {}", problems.join("; ")), &oracle))
}
