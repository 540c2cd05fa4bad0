//! Running checks: the in-process mock IdP, canary users, browsers, the
//! positive control and the session oracle that gives the verdict. What
//! each check's action sends is in `actions.rs`.

mod actions;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use mock_idp::http::RunningServer;
use mock_idp::idp::Idp;
use mock_idp::saml::SamlFaultPlan;
use mock_idp::saml::faults::SamlFault;
use rand::Rng;
use serde::Serialize;

use crate::catalogue::{Capability, Check, Severity};
use crate::target::{IdentityPath, Target};

/// Every canary is a member of this group, so the groups attribute has a value.
const CANARY_GROUP: &str = "mockta-canaries";

/// The most of a response body kept (and read) from the SP.
const MAX_BODY: usize = 64 * 1024;
/// Hooks may answer with a list of every account, so they get more room.
const HOOK_BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
    Error,
}

/// What was sent and what came back, for a failure (or an error).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Evidence {
    /// The SAML response sent, decoded (truncated).
    pub message: Option<String>,
    pub sp_status: Option<u16>,
    pub sp_location: Option<String>,
    pub sp_body_excerpt: Option<String>,
    /// What the session oracle saw.
    pub oracle: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    pub id: &'static str,
    pub title: &'static str,
    pub category: &'static str,
    pub severity: Severity,
    pub reference: &'static str,
    pub verdict: Verdict,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<&'static str>,
    pub duration_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("{0}")]
    Setup(#[from] mock_idp::setup::SetupError),
    #[error("saml.app: no SAML app '{0}' in the org")]
    UnknownApp(String),
    #[error("cannot serve the mock IdP on {addr}: {source}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
}

/// A step that could not be carried out (not a verdict on the SP).
#[derive(Debug)]
struct StepError(String);

type Step<T> = Result<T, StepError>;

/// The suite for one target: the mock IdP serving the target's org.
pub struct Suite {
    target: Target,
    idp: Arc<Idp>,
    server: RunningServer,
    app_id: String,
    app_name: String,
}

/// The SP's answer to a posted response.
#[derive(Clone, Debug)]
struct SpAnswer {
    status: u16,
    location: Option<String>,
    body: String,
}

/// A user of the mock org made for one check.
#[derive(Clone, Debug)]
struct Canary {
    email: String,
    /// The display name, `Canary {tag}`: first name `Canary`, last name the tag.
    name: String,
}

impl Suite {
    /// Serves the target's org on the target's IdP address.
    pub async fn start(target: Target) -> Result<Suite, SuiteError> {
        let options = mock_idp::setup::IdpOptions { org_file: target.org.clone(), ..Default::default() };
        let idp = Arc::new(options.build()?);
        Self::with_idp(target, idp).await
    }

    /// Serves a given IdP (tests use this to adjust the org first).
    pub async fn with_idp(target: Target, idp: Arc<Idp>) -> Result<Suite, SuiteError> {
        let (app_id, app_name) = idp
            .read_org(|org| {
                org.find_app(&target.app).filter(|a| a.saml().is_some()).map(|a| (a.id.to_string(), a.name.clone()))
            })
            .ok_or_else(|| SuiteError::UnknownApp(target.app.clone()))?;
        let addr = target.idp_listen;
        let server =
            RunningServer::start(addr, idp.clone()).await.map_err(|source| SuiteError::Listen { addr, source })?;
        // Port 0 means "any free port": the org's URL then follows the port
        // actually bound, so metadata and SSO URLs point at this server.
        if addr.port() == 0 {
            let url = server.url();
            idp.write_org(|org| org.url = url);
        }
        Ok(Suite { target, idp, server, app_id, app_name })
    }

    pub fn idp(&self) -> &Arc<Idp> {
        &self.idp
    }

    /// Stops serving the mock IdP, freeing its address.
    pub async fn stop(self) {
        let _ = self.server.stop().await;
    }

    pub fn idp_url(&self) -> String {
        self.server.url()
    }

    /// Runs the checks, `concurrency` at a time, calling `progress` as each ends.
    pub async fn run(
        self: &Arc<Self>,
        checks: Vec<Check>,
        progress: impl Fn(&CheckResult) + Send + Sync + 'static,
    ) -> Vec<CheckResult> {
        let order: Vec<&'static str> = checks.iter().map(|c| c.id).collect();
        let semaphore = Arc::new(tokio::sync::Semaphore::new(self.target.concurrency));
        let progress = Arc::new(progress);
        let (exclusive, shared): (Vec<Check>, Vec<Check>) = checks.into_iter().partition(|c| c.exclusive);
        let mut tasks = Vec::new();
        for check in shared {
            let suite = self.clone();
            let semaphore = semaphore.clone();
            let progress = progress.clone();
            tasks.push(tokio::spawn(async move {
                let _permit = semaphore.acquire().await;
                let result = suite.run_check(&check).await;
                progress(&result);
                result
            }));
        }
        let mut results = Vec::new();
        for task in tasks {
            if let Ok(result) = task.await {
                results.push(result);
            }
        }
        // Checks that change tenant-wide settings run alone, one at a time.
        for check in exclusive {
            let result = self.run_check(&check).await;
            progress(&result);
            results.push(result);
        }
        // Checks finish in any order; the results keep the order asked for.
        results.sort_by_key(|r| order.iter().position(|id| *id == r.id).unwrap_or(usize::MAX));
        results
    }

    async fn run_check(&self, check: &Check) -> CheckResult {
        let started = Instant::now();
        let (verdict, reason, evidence) = match self.missing_capability(check) {
            Some(reason) => (Verdict::Skip, reason, None),
            None => match self.execute(check).await {
                Ok((verdict, reason, evidence)) => (verdict, reason, evidence),
                Err(StepError(reason)) => (Verdict::Error, reason, None),
            },
        };
        CheckResult {
            id: check.id,
            title: check.title,
            category: check.category,
            severity: check.severity,
            reference: check.reference,
            fix: (verdict == Verdict::Fail).then_some(check.fix),
            evidence: if verdict == Verdict::Pass { None } else { evidence },
            verdict,
            reason,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }

    fn missing_capability(&self, check: &Check) -> Option<String> {
        for need in check.needs {
            match need {
                Capability::SpInitiatedLogin if self.target.login_url.is_none() => {
                    return Some("the target has no saml.login_url for SP-initiated sign-in".into());
                }
                Capability::SpInitiatedLogin => {}
                Capability::IdpInitiatedSwitch if self.target.set_idp_initiated.is_none() => {
                    return Some("the target has no set_idp_initiated hook to turn IdP-initiated sign-in off".into());
                }
                Capability::IdpInitiatedSwitch => {}
                Capability::NoJit if self.target.jit => {
                    return Some("the target declares JIT, so an unknown user is expected to get an account".into());
                }
                Capability::NoJit => {}
                Capability::SessionAttributes if self.target.session.name_pointer.is_none() => {
                    return Some("the target's session has no name_pointer to read attributes from".into());
                }
                Capability::SessionAttributes => {}
            }
        }
        if !self.target.jit && self.target.create_user.is_none() {
            return Some("the SP does not create users at first sign-in and the target has no create_user hook".into());
        }
        None
    }

    fn arm(&self, fault: SamlFault, user: &Canary, impersonate: Option<String>) {
        let ids = self.idp.read_org(|org| {
            (org.find_user(&user.email).map(|u| u.id.clone()), org.find_app(&self.app_id).map(|a| a.id.clone()))
        });
        self.idp.arm_saml_fault(SamlFaultPlan { fault, impersonate }, ids.0, ids.1);
    }

    /// Adds a user to the in-process org and assigns it to the app.
    fn canary(&self, prefix: &str, domain: Option<&str>) -> Step<Canary> {
        let tag: String = {
            let mut rng = rand::rng();
            (0..10).map(|_| char::from(b'a' + rng.random_range(0..26u8))).collect()
        };
        let now = self.idp.now();
        self.idp.write_org(|org| {
            let email = format!("{prefix}-{tag}@{}", domain.unwrap_or(&org.email_domain));
            let body = serde_json::from_value(serde_json::json!({"profile": {
                "login": email, "email": email, "firstName": "Canary", "lastName": tag
            }}))
            .map_err(|e| StepError(e.to_string()))?;
            mock_idp::admin::create_user(org, body, true, now, self.idp.ids())
                .map_err(|e| StepError(format!("cannot add canary: {e}")))?;
            let assignment = serde_json::from_value(serde_json::json!({})).map_err(|e| StepError(e.to_string()))?;
            mock_idp::admin::assign_user(org, &self.app_id, Some(&email), assignment, now)
                .map_err(|e| StepError(format!("cannot assign canary: {e}")))?;
            // Every canary is in one group, so the groups attribute has a value.
            if org.find_group(CANARY_GROUP).is_none() {
                let group = serde_json::from_value(serde_json::json!({"profile": {"name": CANARY_GROUP}}))
                    .map_err(|e| StepError(e.to_string()))?;
                mock_idp::admin::create_group(org, group, now, self.idp.ids())
                    .map_err(|e| StepError(format!("cannot add the canary group: {e}")))?;
            }
            let group_id = org.find_group(CANARY_GROUP).map(|g| g.id.to_string()).unwrap_or_default();
            mock_idp::admin::add_member(org, &group_id, &email, now)
                .map_err(|e| StepError(format!("cannot add the canary to its group: {e}")))?;
            Ok(Canary { email, name: format!("Canary {tag}") })
        })
    }

    async fn set_idp_initiated(&self, on: bool) -> Step<()> {
        let Some(hook) = &self.target.set_idp_initiated else {
            return Err(StepError("no set_idp_initiated hook".into()));
        };
        self.call_hook("set_idp_initiated", hook, &[("{value}", if on { "true" } else { "false" })]).await?;
        Ok(())
    }

    /// Calls a hook and returns the text of its answer (at most 1 MiB).
    async fn call_hook(&self, name: &str, hook: &crate::target::Hook, fills: &[(&str, &str)]) -> Step<String> {
        let client = self.plain_client()?;
        let mut request = client.request(hook.method.clone(), &hook.url);
        if let Some((user_name, password)) = &hook.basic_auth {
            request = request.basic_auth(user_name, Some(password));
        }
        if let Some(body) = &hook.body {
            let filled = fills.iter().fold(body.clone(), |text, (key, value)| text.replace(key, value));
            request = request.header("content-type", "application/json").body(filled);
        }
        let response = request.send().await.map_err(|e| StepError(format!("{name} hook: {e}")))?;
        if !response.status().is_success() {
            return Err(StepError(format!("{name} hook answered {}", response.status())));
        }
        Ok(read_capped(response, HOOK_BODY_LIMIT).await)
    }

    /// Creates the SP account through the hook when the SP has no JIT.
    async fn ensure_account(&self, user: &Canary) -> Step<()> {
        if self.target.jit {
            return Ok(());
        }
        let Some(hook) = &self.target.create_user else { return Err(StepError("no create_user hook".into())) };
        self.call_hook("create_user", hook, &[("{email}", &user.email), ("{name}", &user.name)]).await?;
        Ok(())
    }

    fn browser(&self) -> Step<reqwest::Client> {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.target.timeout)
            .build()
            .map_err(|e| StepError(e.to_string()))
    }

    fn plain_client(&self) -> Step<reqwest::Client> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(3))
            .timeout(self.target.timeout)
            .build()
            .map_err(|e| StepError(e.to_string()))
    }

    async fn get(&self, browser: &reqwest::Client, url: &str) -> Step<SpAnswer> {
        answer(browser.get(url).send().await.map_err(|e| StepError(format!("GET {url}: {e}")))?).await
    }

    async fn post(&self, browser: &reqwest::Client, action: &str, response: &str, relay: &str) -> Step<SpAnswer> {
        let mut form = vec![("SAMLResponse", response)];
        if !relay.is_empty() {
            form.push(("RelayState", relay));
        }
        answer(browser.post(action).form(&form).send().await.map_err(|e| StepError(format!("POST {action}: {e}")))?)
            .await
    }

    fn embed_link(&self, user: &Canary, relay: Option<&str>) -> String {
        let mut url =
            format!("{}/home/{}/{}/aln?login_hint={}", self.idp_url(), self.app_name, self.app_id, user.email);
        if let Some(relay) = relay {
            url.push_str("&RelayState=");
            url.push_str(&url::form_urlencoded::byte_serialize(relay.as_bytes()).collect::<String>());
        }
        url
    }

    async fn idp_initiated(&self, browser: &reqwest::Client, user: &Canary, relay: Option<&str>) -> Step<SpAnswer> {
        Ok(self.idp_initiated_capture(browser, user, relay).await?.1)
    }

    async fn idp_initiated_capture(
        &self,
        browser: &reqwest::Client,
        user: &Canary,
        relay: Option<&str>,
    ) -> Step<(Captured, SpAnswer)> {
        let page = self.get(browser, &self.embed_link(user, relay)).await?;
        if page.status != 200 {
            return Err(StepError(format!(
                "the mock IdP refused the sign-in: {} {}",
                page.status,
                excerpt(&page.body, 200)
            )));
        }
        let (action, response, relay) = mock_form_fields(&page.body)?;
        let answer = self.post(browser, &action, &response, &relay).await?;
        Ok((Captured { xml: decode(&response), form: page.body }, answer))
    }

    /// Asks the session oracle, with the browser's cookies.
    async fn ask_oracle(&self, browser: &reqwest::Client) -> Step<reqwest::Response> {
        browser.get(&self.target.session.url).send().await.map_err(|e| StepError(format!("session oracle: {e}")))
    }

    /// The session oracle's JSON body, for checks that read more than the identity.
    async fn oracle_json(&self, browser: &reqwest::Client) -> Step<serde_json::Value> {
        let response = self.ask_oracle(browser).await?;
        let body = read_capped(response, MAX_BODY).await;
        serde_json::from_str(&body).map_err(|e| StepError(format!("the session oracle's body is not JSON: {e}")))
    }

    /// Asks the session oracle whose session the browser has.
    async fn oracle(&self, browser: &reqwest::Client) -> Step<Option<String>> {
        let response = self.ask_oracle(browser).await?;
        if !response.status().is_success() {
            return Ok(None);
        }
        let body = read_capped(response, MAX_BODY).await;
        Ok(match &self.target.session.identity {
            IdentityPath::JsonPointer(pointer) => serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.pointer(pointer).and_then(|x| x.as_str()).map(str::to_owned)),
            IdentityPath::Regex(regex) => regex.captures(&body).and_then(|c| c.get(1)).map(|m| m.as_str().to_owned()),
        })
    }
}

/// A response the mock produced: its XML and the page that carried it.
struct Captured {
    xml: String,
    form: String,
}

/// The message for evidence: signature values and certificates are elided,
/// so the excerpt shows what the message says.
fn compact_message(xml: &str) -> String {
    let mut out = xml.to_owned();
    for element in ["SignatureValue", "X509Certificate"] {
        let open = format!("<ds:{element}>");
        let close = format!("</ds:{element}>");
        let mut cursor = 0;
        while let Some(start) = out[cursor..].find(&open).map(|i| i + cursor + open.len()) {
            let Some(end) = out[start..].find(&close).map(|i| i + start) else { break };
            out.replace_range(start..end, "…");
            cursor = start + "…".len() + close.len();
        }
    }
    out
}

fn evidence(message: &Captured, answer: &SpAnswer, seen: Option<&str>) -> Evidence {
    Evidence {
        message: Some(excerpt(&compact_message(&message.xml), 4096)),
        sp_status: Some(answer.status),
        sp_location: answer.location.clone(),
        sp_body_excerpt: Some(excerpt(&answer.body, 500)),
        oracle: describe(seen),
    }
}

/// `canary-x@acme.test` becomes `CANARY-X@acme.test`.
fn upper_local_part(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}@{domain}", local.to_uppercase()),
        None => email.to_uppercase(),
    }
}

fn describe(seen: Option<&str>) -> String {
    match seen {
        Some(identity) => format!("a session for {identity}"),
        None => "no session".into(),
    }
}

fn same_identity(seen: Option<&str>, expected: &str) -> bool {
    seen.is_some_and(|s| s.trim().eq_ignore_ascii_case(expected))
}

fn excerpt(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn decode(encoded: &str) -> String {
    BASE64.decode(encoded).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

async fn read_capped(mut response: reqwest::Response, limit: usize) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= limit {
            body.truncate(limit);
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

async fn answer(response: reqwest::Response) -> Step<SpAnswer> {
    let status = response.status().as_u16();
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = tokio::time::timeout(Duration::from_secs(30), read_capped(response, MAX_BODY)).await.unwrap_or_default();
    Ok(SpAnswer { status, location, body })
}

/// The action, SAMLResponse and RelayState of the mock's auto-post form.
fn mock_form_fields(html: &str) -> Step<(String, String, String)> {
    let fields = mock_idp::saml::form::parse(html)
        .ok_or_else(|| StepError("the IdP page is not the mock's auto-post form".into()))?;
    Ok((fields.action, fields.saml_response, fields.relay_state))
}
