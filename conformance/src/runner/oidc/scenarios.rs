//! The OIDC checks that are scenarios rather than one faulty message: key
//! rotations, an unknown-kid flood, an impostor discovery document, what the
//! relying party sends for PKCE, an open redirect after login, and a second
//! user with an existing account's email. Each runs after the driver's
//! positive control, and each verdict rests on the session oracle or on what
//! the mock recorded of the relying party's requests.

use mock_idp::idp::Idp;
use mock_idp::oidc::ServerRef;
use mock_idp::oidc::faults::{FaultTarget, OidcFault, OidcFaultPlan};
use mock_idp::oidc::keys::KeyRing;

use super::super::browser::Browser;
use super::super::{CANARY_GROUP, Canary, Outcome, Step, StepError, excerpt};
use super::{OidcDriver, Redirected, encode, evidence_holding};

/// How many tokens with unknown kids the flood sends.
const FLOOD_TOKENS: u64 = 5;

/// PKCE verifiers are 43 to 128 characters (RFC 7636 4.1).
const VERIFIER_LENGTHS: std::ops::RangeInclusive<usize> = 43..=128;

/// A rotation of an authorization server's signing key that the suite
/// undoes afterwards, so the checks after it are judged on their own
/// subject and not on this one's.
pub(in crate::runner) struct KeyRotation<'a> {
    idp: &'a Idp,
    server: ServerRef,
    emergency: bool,
    before: KeyRing,
    fetches_before: u64,
}

impl<'a> KeyRotation<'a> {
    /// Rotates the server's key, gracefully (the next key, published ahead
    /// of use, becomes active) or in an emergency (a key never published
    /// signs at once).
    pub(in crate::runner) fn start(idp: &'a Idp, server: &ServerRef, emergency: bool) -> Step<Self> {
        let key_error = |e: mock_idp::oidc::OidcError| StepError(format!("cannot rotate the keys of {server:?}: {e}"));
        let before = idp.key_ring(server).map_err(key_error)?;
        let fetches_before = idp.provider_fetches(server).jwks;
        idp.rotate_keys(server, emergency).map_err(key_error)?;
        Ok(KeyRotation { idp, server: server.clone(), emergency, before, fetches_before })
    }

    /// "a graceful" or "an emergency", for reasons.
    pub(in crate::runner) fn kind(&self) -> &'static str {
        if self.emergency { "an emergency" } else { "a graceful" }
    }

    /// How many times the relying party fetched the JWKS since the rotation.
    pub(in crate::runner) fn jwks_fetches(&self) -> u64 {
        self.idp.provider_fetches(&self.server).jwks.saturating_sub(self.fetches_before)
    }

    /// Undoes the rotation so that a key the relying party holds signs.
    ///
    /// After a graceful rotation the ring goes back as it was. After an
    /// emergency one, the new key stays active when the relying party
    /// fetched the JWKS since the rotation (it holds the new key, first in
    /// the set as the mock orders it); when it fetched nothing, the next
    /// key (published since before the rotation) becomes active. Either
    /// way the key that signs afterwards is one the relying party holds,
    /// even a relying party that only ever uses its cached set's first key.
    pub(in crate::runner) fn put_back(self) -> Step<()> {
        let restored = match (self.emergency, self.jwks_fetches()) {
            (true, 0) => self.idp.rotate_keys(&self.server, false).map(|_| ()),
            (true, _) => Ok(()),
            (false, _) => self.idp.restore_key_ring(&self.server, self.before),
        };
        restored
            .map_err(|e| StepError(format!("the keys of {:?} could not be put back after the check: {e}", self.server)))
    }
}

impl OidcDriver<'_> {
    /// The authorization server the relying party sends its logins to, read
    /// from the path of the `/authorize` URL it redirected to.
    pub(in crate::runner) fn server_of(&self, redirected: &Redirected) -> Step<ServerRef> {
        let authorize = redirected.chain.get(1).ok_or_else(|| StepError("no /authorize URL was seen".into()))?;
        let url = url::Url::parse(authorize).map_err(|e| StepError(format!("'{authorize}' is not a URL: {e}")))?;
        let segments: Vec<&str> = url.path_segments().map(Iterator::collect).unwrap_or_default();
        match segments.as_slice() {
            ["oauth2", "v1", ..] => Ok(ServerRef::Org),
            ["oauth2", server, "v1", ..] => Ok(ServerRef::Custom((*server).to_owned())),
            _ => Err(StepError(format!("'{authorize}' is not one of the mock's /authorize paths"))),
        }
    }

    /// Starts and finishes a sign-in for `user` in a fresh browser; returns
    /// the browser, the way through the flow and whether the oracle sees
    /// `user` signed in.
    async fn sign_in_fresh(&self, user: &Canary) -> Step<(Browser, Redirected, super::SpAnswer, bool)> {
        let browser = self.suite.browser()?;
        let mut redirected = self.start(&browser, user).await?;
        let answer = self.finish(&browser, &mut redirected).await?;
        let seen = self.suite.oracle(&browser).await?;
        let signed_in = seen.is(&user.email);
        Ok((browser, redirected, answer, signed_in))
    }

    /// Arms a fault for one canary, as [`OidcDriver::arm`] does, for the
    /// scenarios that arm faults of their own.
    fn arm_for(&self, fault: OidcFault, user: &Canary) -> Step<String> {
        let (user_id, client) = self.suite.idp.read_org(|org| {
            (org.find_user(&user.email).map(|u| u.id.clone()), org.find_app(&self.client_id).map(|a| a.id.clone()))
        });
        let (Some(user_id), Some(client)) = (user_id, client) else {
            return Err(StepError(format!("cannot arm {fault}: the canary {} is not in the org", user.email)));
        };
        let plan = OidcFaultPlan { fault, target: FaultTarget::IdToken };
        let armed = self.suite.idp.arm_oidc_fault(plan, Some(user_id), Some(client));
        armed.map(|armed| armed.id).map_err(|refusal| StepError(format!("the mock refused to arm {fault}: {refusal}")))
    }

    /// A graceful or an emergency rotation of the issuer's signing key, then
    /// a fresh canary must sign in. The rotation is put back afterwards
    /// ([`KeyRotation::put_back`]).
    pub(super) async fn rotate_keys(&self, emergency: bool, server: &ServerRef) -> Step<Outcome> {
        let rotation = KeyRotation::start(&self.suite.idp, server, emergency)?;
        let user = self.canary("rotated", None)?;
        let judged = async {
            self.suite.ensure_account(&user).await?;
            self.sign_in_fresh(&user).await
        }
        .await;
        let fetched = rotation.jwks_fetches();
        let kind = rotation.kind();
        rotation.put_back()?;
        let (_, redirected, answer, signed_in) = judged?;
        if signed_in {
            return Ok(Outcome::pass(format!(
                "{} signed in after {kind} rotation ({fetched} JWKS fetches since)",
                user.email
            )));
        }
        let why = match (emergency, fetched) {
            (true, 0) => "the relying party did not fetch the JWKS again for the new key's kid (the suite runs the rotations before any check that sends an unknown kid, so a once-a-minute refetch limit was not in the way unless another run just sent one)".to_owned(),
            (false, 0) => "the relying party did not use the next key, published before the check, and did not fetch the JWKS".to_owned(),
            (_, fetched) => format!("the relying party fetched the JWKS {fetched} times after the rotation and still refused the new key"),
        };
        Ok(Outcome::fail(
            format!(
                "a correct sign-in for {} after {kind} rotation gave no session: {why}; it answered {} {}",
                user.email,
                answer.status,
                excerpt(&answer.body, 200)
            ),
            evidence_holding(&redirected, &answer, "no session".into(), self.last_id_token(&user)),
        ))
    }

    /// Several sign-ins whose ID tokens name a kid never seen before, signed
    /// by a key no JWKS publishes: each must be refused, and the relying
    /// party must not fetch the JWKS once for every token (K-03).
    pub(super) async fn refetch_bounded(&self, server: &ServerRef) -> Step<Outcome> {
        let user = self.canary("flood", None)?;
        self.suite.ensure_account(&user).await?;
        let fetches_before = self.suite.idp.provider_fetches(server).jwks;
        for _ in 0..FLOOD_TOKENS {
            let armed = self.arm_for(OidcFault::UnknownKidPerToken, &user)?;
            let browser = self.suite.browser()?;
            let mut redirected = self.start(&browser, &user).await?;
            let answer = self.finish(&browser, &mut redirected).await?;
            if self.still_armed(&armed) {
                self.suite.idp.disarm_oidc_fault(&armed);
                return Err(StepError("the mock never applied unknown-kid-per-token, so there is no verdict".into()));
            }
            let refused = self
                .judge_refusal(&browser, &user, &redirected, &answer, "a token signed by an unpublished key")
                .await?;
            if refused.verdict != super::super::Verdict::Pass {
                return Ok(refused);
            }
        }
        let fetched = self.suite.idp.provider_fetches(server).jwks.saturating_sub(fetches_before);
        if fetched >= FLOOD_TOKENS {
            return Ok(Outcome::fail(
                format!(
                    "{FLOOD_TOKENS} ID tokens with unknown kids made the relying party fetch the JWKS {fetched} times: once per token, so anyone who can send it tokens can make it hammer the provider"
                ),
                None,
            ));
        }
        Ok(Outcome::pass(format!(
            "{FLOOD_TOKENS} ID tokens with unknown kids were refused with {fetched} JWKS fetches"
        )))
    }

    /// The mock's discovery documents and the canary's tokens name an
    /// impostor issuer; a relying party that fetches discovery during the
    /// check must refuse. One that fetched none is not judged.
    pub(super) async fn discovery_issuer_mismatch(&self, server: &ServerRef) -> Step<Outcome> {
        let user = self.canary("impostor", None)?;
        self.suite.ensure_account(&user).await?;
        let fetches_before = self.suite.idp.provider_fetches(server).discovery;
        let armed = self.arm_for(OidcFault::DiscoveryIssuerMismatch, &user)?;
        let browser = self.suite.browser()?;
        let attempt = async {
            let mut redirected = self.start(&browser, &user).await?;
            let answer = self.finish(&browser, &mut redirected).await?;
            Ok::<_, StepError>((redirected, answer))
        }
        .await;
        // The fault changes every discovery document while it is armed, so
        // it goes whatever happened.
        self.suite.idp.disarm_oidc_fault(&armed);
        let fetched = self.suite.idp.provider_fetches(server).discovery.saturating_sub(fetches_before);
        if fetched == 0 {
            return Ok(Outcome::skip(
                "the relying party fetched no discovery document during the check (it keeps a cached one, although the mock says no-cache), so it never met the impostor issuer",
            ));
        }
        match attempt {
            Ok((redirected, answer)) => {
                self.judge_refusal(
                    &browser,
                    &user,
                    &redirected,
                    &answer,
                    "a discovery document naming an impostor issuer",
                )
                .await
            }
            // A relying party that refuses the document cannot start the
            // login at all: that is the refusal, if no session came of it.
            Err(StepError(why)) => {
                let seen = self.suite.oracle(&browser).await?;
                let (any_session, held) = self.suite.judge_any_session(&seen).await?;
                if any_session {
                    return Err(StepError(format!("the login did not complete ({why}), yet the browser holds {held}")));
                }
                Ok(Outcome::pass(format!("the relying party refused the impostor's discovery document: {why}")))
            }
        }
    }

    /// A sign-in, then the same browser with its session ended (the cookies
    /// the sign-in set or changed are dropped, as a logout or an expired
    /// session leaves it; the rest are kept) opens the redirect back again,
    /// as from its history. The mock lets this code be redeemed twice
    /// (`code-reuse-allowed`), so its own single-use codes do not hide a
    /// relying party that never uses up the login's state.
    pub(super) async fn callback_replayed(&self) -> Step<Outcome> {
        let user = self.canary("replayed", None)?;
        self.suite.ensure_account(&user).await?;
        let armed = self.arm_for(OidcFault::CodeReuseAllowed, &user)?;
        let browser = self.suite.browser()?;
        let started = self.start(&browser, &user).await;
        if self.still_armed(&armed) {
            self.suite.idp.disarm_oidc_fault(&armed);
            return Err(StepError("the mock never applied code-reuse-allowed, so there is no verdict".into()));
        }
        let mut redirected = started?;
        let before_callback = browser.cookies_for(&redirected.callback);
        let answer = self.finish(&browser, &mut redirected).await?;
        if !self.suite.oracle(&browser).await?.is(&user.email) {
            return Err(StepError(format!(
                "the first use of the redirect back gave {} no session (the relying party answered {} {}), so a replay says nothing",
                user.email,
                answer.status,
                excerpt(&answer.body, 200)
            )));
        }
        let kept: Vec<(String, String)> = browser
            .cookies_for(&redirected.callback)
            .into_iter()
            .filter(|cookie| before_callback.contains(cookie))
            .collect();
        let replaying = self.suite.browser()?;
        replaying.add_cookies(&redirected.callback, &kept)?;
        let names: Vec<&str> = kept.iter().map(|(name, _)| name.as_str()).collect();
        redirected.chain.push(format!("replayed with the cookies kept from before the sign-in: {names:?}"));
        let answer = self.finish(&replaying, &mut redirected).await?;
        self.judge_refusal(
            &replaying,
            &user,
            &redirected,
            &answer,
            "the redirect back, opened again after the session ended,",
        )
        .await
    }

    /// Two sign-ins: each must carry an S256 challenge, exchange its code
    /// with a verifier of 43 to 128 characters, and the two challenges (so
    /// the verifiers) must differ.
    pub(super) async fn pkce_s256(&self) -> Step<Outcome> {
        let user = self.canary("pkce", None)?;
        self.suite.ensure_account(&user).await?;
        for _ in 0..2 {
            let (_, _, answer, signed_in) = self.sign_in_fresh(&user).await?;
            if !signed_in {
                return Err(StepError(format!(
                    "a correct sign-in for {} gave no session (the relying party answered {})",
                    user.email, answer.status
                )));
            }
        }
        let (client, user_id) = self.suite.idp.read_org(|org| {
            (org.find_app(&self.client_id).map(|a| a.id.clone()), org.find_user(&user.email).map(|u| u.id.clone()))
        });
        let (Some(client), Some(user_id)) = (client, user_id) else {
            return Err(StepError(format!("the canary {} or the client is not in the org", user.email)));
        };
        let public = self.client_is_public();
        let exchanges = self.suite.idp.pkce_exchanges(&client, &user_id);
        let [.., first, second] = exchanges.as_slice() else {
            return Err(StepError(format!("the mock recorded {} authorizations, not two", exchanges.len())));
        };
        let problem = if first.code_challenge.is_none() || second.code_challenge.is_none() {
            Some("the relying party sent no PKCE code_challenge".to_owned())
        } else if let Some(length) = [first, second]
            .iter()
            .map(|e| e.verifier_length)
            .find(|length| !length.is_some_and(|l| VERIFIER_LENGTHS.contains(&l)))
        {
            Some(match length {
                Some(length) => format!("a code_verifier of {length} characters (RFC 7636 wants 43 to 128)"),
                None => "no code_verifier at the token endpoint".to_owned(),
            })
        } else if first.code_challenge == second.code_challenge {
            Some("the same code_challenge (so the same verifier) for two logins".to_owned())
        } else {
            None
        };
        match problem {
            None => Ok(Outcome::pass("S256 with a fresh verifier of 43 to 128 characters at each login")),
            // A public client has nothing else that binds the code to it.
            Some(problem) if public => Ok(Outcome {
                verdict: super::super::Verdict::Fail,
                reason: format!(
                    "{problem}, and the client is public (no client authentication), where RFC 9700 2.1.1 requires PKCE"
                ),
                evidence: None,
            }),
            Some(problem) => Ok(Outcome::warn(
                format!("{problem}; RFC 9700 2.1.1 recommends PKCE for confidential clients too"),
                None,
            )),
        }
    }

    /// Whether the target's client is public (no client authentication).
    fn client_is_public(&self) -> bool {
        self.suite.idp.read_org(|org| {
            org.find_app(&self.client_id).and_then(|a| a.oidc()).is_some_and(|o| o.application_type.is_public())
        })
    }

    /// The positive control failed for the PKCE check: when the client is
    /// public and its login carries no `code_challenge`, the mock refused it
    /// as Okta does, and that is the check's failure. Otherwise the control
    /// is broken and `broken` stands.
    pub(super) async fn public_client_without_pkce(&self, broken: StepError) -> Step<Outcome> {
        if !self.client_is_public() {
            return Err(broken);
        }
        let browser = self.suite.browser()?;
        let idp_url = self.suite.idp_url();
        let answers = browser.follow(self.login_url, |location| location.starts_with(&idp_url)).await?;
        let authorize = answers.last().and_then(|a| a.location.clone()).filter(|l| l.starts_with(&idp_url));
        let Some(authorize) = authorize else { return Err(broken) };
        let sends_challenge =
            url::Url::parse(&authorize).is_ok_and(|url| url.query_pairs().any(|(name, _)| name == "code_challenge"));
        if sends_challenge {
            return Err(broken);
        }
        Ok(Outcome::fail(
            format!(
                "the relying party sent no PKCE code_challenge, and the client is public (no client authentication), where RFC 9700 2.1.1 requires PKCE: the mock refused the login as Okta does ({})",
                broken.0
            ),
            None,
        ))
    }

    /// Starts the login with the target's return parameter naming another
    /// site; after sign-in the relying party must not redirect there.
    pub(super) async fn open_redirect_after_login(&self) -> Step<Outcome> {
        let Some(parameter) = self.suite.target.oidc.as_ref().and_then(|o| o.return_parameter.clone()) else {
            return Ok(Outcome::skip("the target declares no oidc.return_parameter to name a place to return to"));
        };
        const ELSEWHERE: &str = "https://evil.example/";
        let separator = if self.login_url.contains('?') { '&' } else { '?' };
        let login_url = format!("{}{separator}{parameter}={}", self.login_url, encode(ELSEWHERE));
        let user = self.canary("redirected", None)?;
        self.suite.ensure_account(&user).await?;
        let browser = self.suite.browser()?;
        let driver = OidcDriver { suite: self.suite, client_id: self.client_id.clone(), login_url: &login_url };
        let mut redirected = match driver.start(&browser, &user).await {
            Ok(redirected) => redirected,
            Err(StepError(why)) => {
                return Ok(Outcome::pass(format!(
                    "the relying party refused to start a login that returns to {ELSEWHERE}: {why}"
                )));
            }
        };
        // The browser never goes to the other site: a redirect there is the
        // finding, and the suite does not touch hosts it was not given.
        let idp_url = self.suite.idp_url();
        let answers = driver
            .deliver(&browser, &redirected, |location| location.starts_with(&idp_url) || is_elsewhere(location))
            .await?;
        for answer in &answers {
            if let Some(location) = &answer.location {
                redirected.chain.push(format!("{} -> {location}", answer.status));
            }
        }
        let answer = answers.last().cloned().ok_or_else(|| StepError("the redirect back gave no answer".into()))?;
        let off_site = answers.iter().filter_map(|a| a.location.as_deref()).find(|l| is_elsewhere(l));
        if let Some(location) = off_site {
            let seen = self.suite.oracle(&browser).await?;
            return Ok(Outcome::fail(
                format!(
                    "after sign-in the relying party sent the browser to {location}, the site its {parameter} named"
                ),
                evidence_holding(&redirected, &answer, seen.describe(), None),
            ));
        }
        Ok(Outcome::pass(format!("after sign-in the relying party stayed on its site (it answered {})", answer.status)))
    }

    /// A second user of the org with `first`'s email and a `sub` of their
    /// own signs in; a session for `first`'s account means the relying
    /// party took the email as the identity.
    pub(super) async fn email_not_identity(&self, first: &Canary) -> Step<Outcome> {
        let twin = self.twin_of(first)?;
        let browser = self.suite.browser()?;
        let mut redirected = self.start(&browser, &twin).await?;
        let answer = self.finish(&browser, &mut redirected).await?;
        let seen = self.suite.oracle(&browser).await?;
        if seen.is(&first.email) {
            return Ok(Outcome::fail(
                format!(
                    "{} (another Okta user, with {}'s email but their own sub) was given a session showing {}: the account was found by email, not by (iss, sub)",
                    twin.email, first.email, first.email
                ),
                evidence_holding(&redirected, &answer, seen.describe(), self.last_id_token(&twin)),
            ));
        }
        Ok(Outcome::pass(format!(
            "the other user with {}'s email did not get that account ({}; the relying party answered {})",
            first.email,
            seen.describe(),
            answer.status
        )))
    }

    /// Adds a user whose email is `first`'s and whose login is their own,
    /// assigned to the client. The returned canary's `email` is that login,
    /// which the mock signs in by (`login_hint`).
    fn twin_of(&self, first: &Canary) -> Step<Canary> {
        let login = format!("twin-{}", first.email);
        let now = self.suite.idp.now();
        let ids = self.suite.idp.ids();
        self.suite.idp.change_org(|org| {
            let mut changes = Vec::new();
            let made = (|| {
                let body = serde_json::from_value(serde_json::json!({"profile": {
                    "login": login, "email": first.email, "firstName": "Twin", "lastName": first.family_name
                }}))
                .map_err(|e| StepError(e.to_string()))?;
                let created = mock_idp::admin::create_user(org, body, true, now, ids)
                    .map_err(|e| StepError(format!("cannot add a user with {}'s email: {e}", first.email)))?;
                changes.extend(created.changes);
                let assignment = serde_json::from_value(serde_json::json!({})).map_err(|e| StepError(e.to_string()))?;
                let assigned = mock_idp::admin::assign_user(org, &self.client_id, Some(&login), assignment, now)
                    .map_err(|e| StepError(format!("cannot assign {login}: {e}")))?;
                changes.extend(assigned.changes);
                Ok(Canary {
                    email: login.clone(),
                    name: format!("Twin {}", first.family_name),
                    family_name: first.family_name.clone(),
                })
            })();
            Ok::<_, StepError>((made, changes))
        })?
    }
}

impl OidcDriver<'_> {
    /// A fresh canary (with an account where the SP has no JIT) signs in
    /// correctly; returns it and what the session URL saw. A sign-in that
    /// gives no session is an error that says so, and `why` says what it
    /// leaves unjudged.
    pub(super) async fn fresh_canary_signed_in(
        &self,
        label: &str,
        why: &str,
    ) -> Step<(Canary, Redirected, super::SpAnswer, crate::runner::oracle::Seen)> {
        let user = self.canary(label, None)?;
        self.suite.ensure_account(&user).await?;
        let browser = self.suite.browser()?;
        let mut redirected = self.start(&browser, &user).await?;
        let answer = self.finish(&browser, &mut redirected).await?;
        let seen = self.suite.oracle(&browser).await?;
        if !seen.is(&user.email) {
            return Err(StepError(format!(
                "a correct sign-in for {} gave {} (the relying party answered {}){why}",
                user.email,
                seen.describe(),
                answer.status
            )));
        }
        Ok((user, redirected, answer, seen))
    }

    /// A fresh canary signs in; the name (whole, or given and family) and
    /// the groups the provider sent must be where the target's `[session]`
    /// says the session shows them.
    pub(super) async fn claims_in_session(&self) -> Step<Outcome> {
        let (user, redirected, answer, seen) = self.fresh_canary_signed_in("claims", "").await?;
        // Only the groups the provider sent can be looked for: a relying
        // party that does not ask for the groups scope gets none.
        let id_token = self.last_id_token(&user);
        let sent_groups = id_token.as_ref().is_some_and(|token| {
            token["claims"]["groups"].as_array().is_some_and(|groups| groups.iter().any(|g| g == CANARY_GROUP))
        });
        let problems = self.suite.session_attribute_problems(&seen.body, &user, sent_groups)?;
        let oracle = self.suite.session_oracle()?;
        if problems.is_empty() {
            return Ok(Outcome::pass(match (&oracle.groups_pointer, sent_groups) {
                (Some(_), true) => "the name and groups the provider sent are in the session",
                (Some(_), false) => {
                    "the name the provider sent is in the session (it sent no groups: the relying party did not ask for the groups scope)"
                }
                (None, _) => "the name the provider sent is in the session (the target's session shows no groups)",
            }));
        }
        Ok(Outcome::fail(problems.join("; "), evidence_holding(&redirected, &answer, seen.describe(), id_token)))
    }
}

/// Whether a redirect goes to the other site the check named.
fn is_elsewhere(location: &str) -> bool {
    url::Url::parse(location).is_ok_and(|url| url.host_str() == Some("evil.example"))
}
