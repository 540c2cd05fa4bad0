//! The SCIM driver: it plays Okta's provisioning client against the
//! target's `[scim]` server. Requests are the ones mock-idp's
//! `scim::requests` builds (Okta's bodies, encoding and member order), sent
//! with Okta's headers through the suite's browser. Every check makes its
//! own canary users and groups, with unique names in the target's email
//! domain; the positive control is Okta's assignment of a new canary (its
//! lookup, then its create), so a server that cannot take that gives an
//! `error`, never a verdict.

use mock_idp::org::provisioning::{RequestProfile, default_mappings};
use mock_idp::scim::requests::{self, Member, MembershipEdit, UserView};
use mock_idp::scim::{ERROR_SCHEMA, GROUP_SCHEMA, LIST_SCHEMA, Method, ScimRequest, USER_SCHEMA};
use rand::Rng;
use serde::Serialize;
use serde_json::{Value, json};

use super::browser::{Browser, ScimAnswer, ScimCall};
use super::{Evidence, Outcome, Step, StepError, Suite};
use crate::catalogue::ScimAction;
use crate::catalogue::scim::MediaType;
use crate::target::{ScimAuth, ScimTarget};

/// One SCIM request the suite sent as Okta and the SP's answer.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScimExchange {
    pub method: String,
    pub url: String,
    pub request_body: Option<String>,
    pub status: u16,
    pub response_body: String,
}

/// What a SCIM check sent and what came back, in order.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScimEvidence {
    pub exchanges: Vec<ScimExchange>,
    /// What the session oracle saw, for checks that sign in afterwards.
    pub oracle: String,
}

impl ScimEvidence {
    /// The last exchange, the one the verdict rests on.
    pub(super) fn last_answer(&self) -> Option<String> {
        self.exchanges.last().map(|e| format!("{} to {} {}", e.status, e.method, e.url))
    }

    pub(super) fn message_summary(&self) -> Option<(&'static str, String)> {
        let last = self.exchanges.last()?;
        Some((
            "last SCIM request",
            format!("{} {} {}", last.method, last.url, last.request_body.as_deref().unwrap_or("")),
        ))
    }
}

/// Okta's provisioning client's `User-Agent`, as Okta's SCIM reference shows it.
const OKTA_USER_AGENT: &str = "Okta SCIM Client 1.0.0";
/// The `User-Agent` of Okta's SPEC test's GETs.
const SPEC_USER_AGENT: &str = "OKTA SCIM Integration";
/// Okta's media type for `Accept` and request bodies.
const OKTA_MEDIA_TYPE: &str = "application/scim+json; charset=utf-8";
/// A user id Okta's SPEC test reads to get a 404 (step 4).
const SPEC_UNKNOWN_USER_ID: &str = "010101001010101011001010101011";
/// What a password looks like in the evidence.
const REDACTED: &str = "[redacted]";

/// How a request is sent: Okta's client, or the SPEC test's own headers.
#[derive(Clone, Copy, Debug)]
struct Headers {
    user_agent: Option<&'static str>,
    accept: &'static str,
    content_type: &'static str,
}

const OKTA: Headers =
    Headers { user_agent: Some(OKTA_USER_AGENT), accept: OKTA_MEDIA_TYPE, content_type: OKTA_MEDIA_TYPE };
/// Okta's SPEC test: its GETs say `application/scim+json`.
const SPEC_GET: Headers =
    Headers { user_agent: Some(SPEC_USER_AGENT), accept: "application/scim+json", content_type: OKTA_MEDIA_TYPE };
/// Okta's SPEC test: its POSTs are `application/json`, with no User-Agent.
const SPEC_POST: Headers = Headers { user_agent: None, accept: OKTA_MEDIA_TYPE, content_type: "application/json" };

/// A SCIM answer, read.
#[derive(Clone, Debug)]
pub(super) struct Reply {
    pub(super) status: u16,
    etag: Option<String>,
    pub(super) json: Option<Value>,
}

impl Reply {
    pub(super) fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The `id`s of the resources of a list answer (Okta's lookups), in
    /// the order the SP gave them; none when the answer is not a list.
    pub(super) fn resource_ids(&self) -> Vec<String> {
        self.json
            .as_ref()
            .map(resources)
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_owned))
            .collect()
    }

    fn get(&self, pointer: &str) -> Option<&Value> {
        self.json.as_ref().and_then(|body| body.pointer(pointer))
    }

    pub(super) fn text(&self, pointer: &str) -> Option<&str> {
        self.get(pointer).and_then(Value::as_str)
    }
}

/// A canary user: what Okta knows about it and sends.
#[derive(Clone, Debug)]
pub(super) struct CanaryUser {
    pub(super) user_name: String,
    given: String,
    family: String,
    pub(super) view: UserView,
}

/// One check's conversation with the SCIM server, recorded as evidence.
pub(super) struct Session<'a> {
    suite: &'a Suite,
    target: &'a ScimTarget,
    browser: Browser,
    authorization: String,
    pub(super) exchanges: Vec<ScimExchange>,
}

fn random_tag(length: usize) -> String {
    let mut rng = rand::rng();
    (0..length).map(|_| char::from(b'a' + rng.random_range(0..26u8))).collect()
}

/// Replaces every `password` value with a placeholder, so the evidence never
/// carries a secret (an echoed password shows as echoed, not as its value).
fn redact(value: &mut Value) {
    match value {
        Value::Object(object) => {
            for (key, inner) in object.iter_mut() {
                if key.eq_ignore_ascii_case("password") {
                    *inner = Value::String(REDACTED.into());
                } else {
                    redact(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

fn redacted_text(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(mut value) => {
            redact(&mut value);
            value.to_string()
        }
        Err(_) => text.to_owned(),
    }
}

/// Finds a member of an object ignoring the case of its name, as SCIM
/// attribute names are (RFC 7643 2.1).
pub(super) fn member<'v>(object: &'v Value, name: &str) -> Option<&'v Value> {
    object.as_object()?.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value)
}

/// Whether a JSON value is true, or the string "true" (Okta's CRUD test
/// reads `active` either way).
pub(super) fn is_true(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Some(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// What is wrong with a ListResponse: its status, schema and integer
/// counts. `itemsPerPage` against the resources returned is judged only by
/// the checks about it ([`page_size_problems`]), so one wrong count is one
/// finding.
fn list_problems(reply: &Reply) -> Vec<String> {
    let mut problems = Vec::new();
    if reply.status != 200 {
        problems.push(format!("the status is {}, not 200", reply.status));
        return problems;
    }
    let Some(body) = &reply.json else {
        problems.push("the body is not JSON".into());
        return problems;
    };
    let schemas = member(body, "schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|list| list.iter().any(|s| s.as_str() == Some(LIST_SCHEMA))) {
        problems.push(format!("schemas does not list {LIST_SCHEMA}"));
    }
    for name in ["totalResults", "itemsPerPage", "startIndex"] {
        if !member(body, name).is_some_and(Value::is_u64) {
            problems.push(format!("{name} is not a non-negative integer"));
        }
    }
    if member(body, "Resources").is_some_and(|r| !r.is_array() && !r.is_null()) {
        problems.push("Resources is not an array".into());
    }
    problems
}

/// A ListResponse's problems, and `itemsPerPage` against the resources
/// returned.
fn page_size_problems(reply: &Reply) -> Vec<String> {
    let mut problems = list_problems(reply);
    let Some(body) = reply.json.as_ref().filter(|_| problems.is_empty()) else { return problems };
    let resources = resources(body);
    if let Some(items) = member(body, "itemsPerPage").and_then(Value::as_u64)
        && usize::try_from(items).ok() != Some(resources.len())
    {
        problems.push(format!("itemsPerPage is {items} but {} resources were returned", resources.len()));
    }
    problems
}

pub(super) fn resources(body: &Value) -> Vec<Value> {
    member(body, "Resources").and_then(Value::as_array).cloned().unwrap_or_default()
}

pub(super) fn total_results(reply: &Reply) -> Option<u64> {
    reply.json.as_ref().and_then(|body| member(body, "totalResults")).and_then(Value::as_u64)
}

/// What is wrong with a SCIM error answer: its status, the Error schema,
/// `status` as the same code in a string, and a `detail` when asked for.
fn error_problems(reply: &Reply, wanted: u16, detail_needed: bool) -> Vec<String> {
    let mut problems = Vec::new();
    if reply.status != wanted {
        problems.push(format!("the status is {}, not {wanted}", reply.status));
    }
    let Some(body) = &reply.json else {
        problems.push("the body is not JSON".into());
        return problems;
    };
    let schemas = member(body, "schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|list| list.iter().any(|s| s.as_str() == Some(ERROR_SCHEMA))) {
        problems.push(format!("schemas does not list {ERROR_SCHEMA}"));
    }
    match member(body, "status") {
        Some(Value::String(text)) if text == &reply.status.to_string() => {}
        Some(Value::String(text)) => problems.push(format!("status is \"{text}\", not the HTTP status")),
        Some(other) => problems.push(format!("status is {other}, not a string")),
        None => problems.push("there is no status".into()),
    }
    if detail_needed && member(body, "detail").is_none_or(|d| d.as_str().is_none_or(|t| t.trim().is_empty())) {
        problems.push("there is no detail".into());
    }
    problems
}

/// The user ids a group shows as members.
pub(super) fn member_ids(group: &Value) -> Vec<String> {
    member(group, "members")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(|m| member(m, "value").and_then(Value::as_str).map(str::to_owned)).collect())
        .unwrap_or_default()
}

pub(super) fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

impl<'a> Session<'a> {
    pub(super) fn new(suite: &'a Suite) -> Step<Self> {
        let target = suite.target.scim.as_ref().ok_or_else(|| StepError("the target has no [scim] section".into()))?;
        let authorization = match &target.auth {
            ScimAuth::Bearer(token) => format!("Bearer {token}"),
            ScimAuth::Basic { user_name, password } => {
                use base64::Engine;
                let pair = format!("{user_name}:{password}");
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
            }
        };
        Ok(Session { suite, target, browser: suite.browser()?, authorization, exchanges: Vec::new() })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.target.base_url.trim_end_matches('/'))
    }

    /// Sends a request and records the exchange, passwords redacted.
    async fn send_with(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: Headers,
        authorization: Option<&str>,
        if_match: Option<&str>,
    ) -> Step<Reply> {
        let url = self.url(path);
        let text = body.map(Value::to_string);
        let call = ScimCall {
            method,
            url: &url,
            authorization,
            user_agent: headers.user_agent,
            accept: headers.accept,
            content_type: headers.content_type,
            if_match,
            body: text.clone(),
        };
        let ScimAnswer { status, etag, body: answer } = self.browser.scim(call).await?;
        let mut request_label = text.as_deref().map(redacted_text);
        if let Some(if_match) = if_match {
            request_label = Some(format!("If-Match: {if_match}\n{}", request_label.unwrap_or_default()));
        }
        self.exchanges.push(ScimExchange {
            method: method.to_owned(),
            url,
            request_body: request_label,
            status,
            response_body: redacted_text(&answer),
        });
        Ok(Reply { status, etag, json: serde_json::from_str(&answer).ok() })
    }

    /// Sends a request as Okta's client sends it.
    pub(super) async fn send(&mut self, request: &ScimRequest) -> Step<Reply> {
        let authorization = self.authorization.clone();
        self.send_with(request.method.as_str(), &request.path, request.body.as_ref(), OKTA, Some(&authorization), None)
            .await
    }

    async fn get(&mut self, path: &str) -> Step<Reply> {
        let request = ScimRequest { method: Method::Get, path: path.to_owned(), body: None };
        self.send(&request).await
    }

    fn evidence(&self) -> Option<Evidence> {
        Some(Evidence::Scim(ScimEvidence { exchanges: self.exchanges.clone(), oracle: String::new() }))
    }

    fn fail(&self, reason: impl Into<String>) -> Outcome {
        Outcome::fail(reason, self.evidence())
    }

    /// A pass when nothing is wrong, else a fail listing what is.
    fn judge(&self, problems: Vec<String>, passed: impl Into<String>) -> Outcome {
        if problems.is_empty() { Outcome::pass(passed) } else { self.fail(problems.join("; ")) }
    }

    /// A new canary user, its userName unique and in the target's domain.
    fn canary(&self, label: &str) -> Step<CanaryUser> {
        let domain = self.suite.idp.read_org(|org| org.email_domain.clone());
        let domain = self.suite.canary_domain(&domain);
        self.canary_in(label, &domain)
    }

    fn canary_in(&self, label: &str, domain: &str) -> Step<CanaryUser> {
        let tag = random_tag(10);
        let user_name = format!("scim-{label}-{tag}@{domain}");
        let okta_id = mock_idp::ids::UserId::parse(&self.suite.idp.ids().okta_id("00u"))
            .map_err(|e| StepError(format!("cannot make an Okta user id: {e}")))?;
        let given = "Canary".to_owned();
        let family = tag.clone();
        let view = view_of(okta_id, &user_name, &given, &family, true);
        Ok(CanaryUser { user_name, given, family, view })
    }

    /// The positive control: Okta's assignment of a new canary, its lookup
    /// (nobody found) and its create (201 with an id). Returns the id.
    pub(super) async fn provision(&mut self, user: &CanaryUser) -> Step<String> {
        let lookup = self.send(&requests::find_user(&user.user_name)).await?;
        let found = lookup.status != 404 && total_results(&lookup).unwrap_or(0) > 0;
        if !(lookup.ok() || lookup.status == 404) || found {
            return Err(StepError(format!(
                "positive control failed: Okta's lookup of the new user {} answered {} (totalResults {:?})",
                user.user_name,
                lookup.status,
                total_results(&lookup)
            )));
        }
        let password = format!("Mockta-{}-1!", random_tag(12));
        let created = self.send(&requests::create_user(&user.view, Some(&password))).await?;
        match (created.status, created.text("/id")) {
            (201, Some(id)) if !id.is_empty() => Ok(id.to_owned()),
            (status, _) => Err(StepError(format!(
                "positive control failed: Okta's create of {} answered {status} without a user id",
                user.user_name
            ))),
        }
    }

    /// A new canary provisioned by Okta's assignment.
    async fn provisioned(&mut self, label: &str) -> Step<(CanaryUser, String)> {
        let user = self.canary(label)?;
        let id = self.provision(&user).await?;
        Ok((user, id))
    }

    /// A new canary group pushed as Okta pushes one (its lookup, then its
    /// create), after the target's `create_group` hook when it has one.
    /// Returns the name and id.
    pub(super) async fn pushed_group(&mut self, label: &str) -> Step<(String, String)> {
        let name = format!("scim-{label}-{}", random_tag(10));
        if let Some(hook) = &self.suite.target.create_group {
            self.suite.call_hook("create_group", hook, &[("{name}", &name)]).await?;
        }
        let lookup = self.send(&requests::find_group(&name)).await?;
        let answered = lookup.ok() || lookup.status == 404;
        let found = lookup.status != 404 && total_results(&lookup).unwrap_or(0) > 0;
        if !answered || found {
            return Err(StepError(format!(
                "positive control failed: Okta's lookup of the new group {name} answered {}",
                lookup.status
            )));
        }
        let created = self.send(&requests::create_group(&name)).await?;
        match (created.status, created.text("/id")) {
            (201, Some(id)) if !id.is_empty() => Ok((name, id.to_owned())),
            (status, _) => {
                Err(StepError(format!("positive control failed: Okta's create of group {name} answered {status}")))
            }
        }
    }

    /// Adds members with Okta's membership PATCH (its rename, then `add`),
    /// as part of a check's set-up: a refusal is an error there.
    pub(super) async fn add_members(&mut self, group: &(String, String), members: &[(&CanaryUser, &str)]) -> Step<()> {
        let members: Vec<Member> = members
            .iter()
            .map(|(user, id)| Member { scim_id: (*id).to_owned(), display: user.user_name.clone() })
            .collect();
        let reply = self.send(&requests::patch_group(&group.1, &group.0, &MembershipEdit::Add(members))).await?;
        if !reply.ok() {
            return Err(StepError(format!("adding members to group {} answered {}", group.0, reply.status)));
        }
        Ok(())
    }

    pub(super) async fn read_group(&mut self, id: &str) -> Step<Reply> {
        self.get(&format!("/Groups/{}", encode(id))).await
    }

    /// Okta's profile update of user `id` from `current` (just read) to
    /// `view`: a PUT of the whole user, or a PATCH of what differs, as the
    /// target's request profile says.
    pub(super) fn profile_update(&self, id: &str, current: &Value, view: &UserView) -> Step<ScimRequest> {
        match self.target.profile {
            RequestProfile::OinPatch => requests::patch_user_profile(id, current, view)
                .ok_or_else(|| StepError("Okta would send no PATCH: nothing differs".into())),
            RequestProfile::Oin | RequestProfile::AppIntegrationWizard => {
                Ok(requests::replace_user(id, current, Some(view), true))
            }
        }
    }

    pub(super) async fn read_user(&mut self, id: &str) -> Step<Reply> {
        self.get(&format!("/Users/{}", encode(id))).await
    }

    /// Sets a user active or not the way the target's profile says Okta
    /// does: the path-less PATCH, or (wizard) a PUT of the object just read.
    pub(super) async fn set_active(&mut self, user: &CanaryUser, id: &str, active: bool) -> Step<Reply> {
        match self.target.profile {
            RequestProfile::Oin | RequestProfile::OinPatch => self.send(&requests::set_user_active(id, active)).await,
            RequestProfile::AppIntegrationWizard => {
                let current = self.read_user(id).await?;
                let current = current.json.filter(|_| current.status == 200).ok_or_else(|| {
                    StepError(format!("Okta's read of user {id} before its PUT answered {}", current.status))
                })?;
                let mut view = user.view.clone();
                view.active = active;
                self.send(&requests::replace_user(id, &current, Some(&view), active)).await
            }
        }
    }

    /// The `/Schemas` list, or `None` when the server serves none.
    async fn schemas(&mut self) -> Step<Option<Vec<Value>>> {
        let reply = self.get("/Schemas").await?;
        if reply.status != 200 {
            return Ok(None);
        }
        let Some(body) = reply.json else { return Ok(None) };
        Ok(Some(match body {
            Value::Array(list) => list,
            other => resources(&other),
        }))
    }
}

/// Percent-encodes a path segment or query value (ids and userNames have
/// no spaces, so form encoding's `+` never shows).
fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl CanaryUser {
    /// The SCIM side of a user the org already has: what Okta sends when it
    /// provisions that user (userName and email the login, externalId the
    /// Okta user id), so a sign-in of the org user reaches this account.
    pub(super) fn of_org_user(okta_id: mock_idp::ids::UserId, email: &str, given: &str, family: &str) -> CanaryUser {
        let view = view_of(okta_id, email, given, family, true);
        CanaryUser { user_name: email.to_owned(), given: given.to_owned(), family: family.to_owned(), view }
    }
}

/// What Okta sends for a user with the default mappings.
fn view_of(okta_id: mock_idp::ids::UserId, user_name: &str, given: &str, family: &str, active: bool) -> UserView {
    let values = default_mappings()
        .into_iter()
        .zip([given.to_owned(), family.to_owned(), user_name.to_owned(), format!("{given} {family}")])
        .map(|(mapping, value)| (mapping.target, Value::String(value)))
        .collect();
    UserView { okta_id, user_name: user_name.to_owned(), active, values }
}

/// The body of Okta's SPEC test's create (step 6).
fn spec_create_body(user: &CanaryUser) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": user.user_name,
        "name": {"givenName": user.given, "familyName": user.family},
        "emails": [{"primary": true, "value": user.user_name, "type": "work"}],
        "displayName": format!("{} {}", user.given, user.family),
        "active": true,
    })
}

/// What Okta's SPEC test asserts of a user (steps 1 and 2).
fn spec_user_problems(user: &Value, what: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for pointer in ["/id", "/userName", "/name/givenName", "/name/familyName", "/emails/0/value"] {
        if user.pointer(pointer).and_then(Value::as_str).is_none_or(str::is_empty) {
            problems.push(format!("{what} has no {}", &pointer[1..].replace('/', ".")));
        }
    }
    if is_true(member(user, "active")).is_none() {
        problems.push(format!("{what} has no active flag"));
    }
    problems
}

pub(super) async fn execute(suite: &Suite, action: ScimAction) -> Step<Outcome> {
    let mut session = Session::new(suite)?;
    let session = &mut session;
    match action {
        ScimAction::SpecListAndGet => spec_list_and_get(session).await,
        ScimAction::SpecFilterNoMatch => spec_filter_no_match(session).await,
        ScimAction::SpecUnknownUser => {
            let authorization = session.authorization.clone();
            let path = format!("/Users/{SPEC_UNKNOWN_USER_ID}");
            let reply = session.send_with("GET", &path, None, SPEC_GET, Some(&authorization), None).await?;
            Ok(session.judge(error_problems(&reply, 404, true), "404 with the SCIM Error schema"))
        }
        ScimAction::SpecCreateUser => spec_create_user(session).await,
        ScimAction::SpecDuplicate => spec_duplicate(session).await,
        ScimAction::SpecListGroups => {
            let authorization = session.authorization.clone();
            let reply = session.send_with("GET", "/Groups", None, SPEC_GET, Some(&authorization), None).await?;
            Ok(session.judge(page_size_problems(&reply), "a ListResponse"))
        }
        ScimAction::SpecUnauthorized => {
            let user = session.canary("unauthorized")?;
            let path = requests::find_user(&user.user_name.to_uppercase()).path;
            let reply = session.send_with("GET", &path, None, SPEC_GET, Some("non-token"), None).await?;
            Ok(session.judge(error_problems(&reply, 401, true), "401 with the SCIM Error schema"))
        }
        ScimAction::CrudAssign => crud_assign(session).await,
        ScimAction::CrudUpdateProfile => crud_update_profile(session).await,
        ScimAction::CrudDeactivate => crud_deactivate(session).await,
        ScimAction::CrudReactivate => crud_reactivate(session).await,
        ScimAction::DeactivatedFoundByLookup => deactivated_found_by_lookup(session).await,
        ScimAction::FilterIgnoresCase => filter_ignores_case(session).await,
        ScimAction::DuplicateUniqueness => duplicate_uniqueness(session).await,
        ScimAction::DuplicateCaseVariant => duplicate_case_variant(session).await,
        ScimAction::UnknownGroup => {
            let id = format!("mockta-no-such-group-{}", random_tag(10));
            let reply = session.read_group(&id).await?;
            Ok(session.judge(error_problems(&reply, 404, false), "404 with the SCIM Error schema"))
        }
        ScimAction::ItemsPerPage => items_per_page(session).await,
        ScimAction::CountRespected => count_respected(session).await,
        ScimAction::StablePages => stable_pages(session).await,
        ScimAction::PutReplaces => put_replaces(session).await,
        ScimAction::PathlessPatch => pathless_patch(session).await,
        ScimAction::PasswordNotEchoed => password_not_echoed(session).await,
        ScimAction::AcceptsMediaType(media) => accepts_media_type(session, media).await,
        ScimAction::IfMatch => if_match(session).await,
        ScimAction::UndeclaredAttribute => undeclared_attribute(session).await,
        ScimAction::UndeclaredExtension => undeclared_extension(session).await,
        ScimAction::EmailOutsideDomain => email_outside_domain(session).await,
        ScimAction::RequiredAttributesEnforced => required_attributes_enforced(session).await,
        ScimAction::EmailUnique => email_unique(session).await,
        ScimAction::CustomAttributesKept => custom_attributes_kept(session).await,
        ScimAction::GroupCreateAndFind => group_create_and_find(session).await,
        ScimAction::GroupAddMember => group_add_member(session).await,
        ScimAction::GroupRenameKeepsMembers => group_rename_keeps_members(session).await,
        ScimAction::GroupRemoveFilteredMember => group_remove_filtered_member(session).await,
        ScimAction::GroupPushNowReplaces => group_push_now_replaces(session).await,
        ScimAction::GroupFilterNoMatch => {
            let name = format!("scim-no-such-group-{}", random_tag(10));
            let reply = session.send(&requests::find_group(&name)).await?;
            let mut problems = list_problems(&reply);
            if reply.status == 200 && total_results(&reply) != Some(0) {
                problems.push(format!("totalResults is {:?}, not 0", total_results(&reply)));
            }
            Ok(session.judge(problems, "200 with totalResults 0"))
        }
        ScimAction::GroupDeleteKeepsUsers => group_delete_keeps_users(session).await,
        ScimAction::MemberRemoveKeepsUserActive => member_remove_keeps_user_active(session).await,
    }
}

/// How many pages of 100 users `scim.spec.list_and_get` reads looking for
/// its canary.
const LIST_PAGES_SEARCHED: usize = 20;

async fn spec_list_and_get(session: &mut Session<'_>) -> Step<Outcome> {
    // The SPEC test needs one user to exist; the canary is it.
    let (canary, canary_id) = session.provisioned("spec-list").await?;
    let authorization = session.authorization.clone();
    let list =
        session.send_with("GET", "/Users?count=1&startIndex=1", None, SPEC_GET, Some(&authorization), None).await?;
    let mut problems = list_problems(&list);
    if !problems.is_empty() {
        return Ok(session.fail(problems.join("; ")));
    }
    let first = list.json.as_ref().map(resources).and_then(|r| r.into_iter().next());
    let Some(first) = first else {
        return Ok(session.fail("the first page is empty although a user exists"));
    };
    if total_results(&list) == Some(0) {
        problems.push("totalResults is 0 although a user exists".into());
    }
    // Okta's SPEC test runs against a fresh test tenant, where the first
    // user is one it made. A live SP may list first an account Okta never
    // provisioned (a local admin with no given name), so the first entry
    // must only be a user, and what the SPEC test asks of it is asked of
    // the canary: as a list shows it, and read by its id.
    for pointer in ["/id", "/userName"] {
        if first.pointer(pointer).and_then(Value::as_str).is_none_or(str::is_empty) {
            problems.push(format!("Resources[0] has no {}", &pointer[1..]));
        }
    }
    // Pages of 100, as Okta's import reads them, until the canary shows
    // (bounded: a server that never shows it is a problem, not a hang).
    let mut listed_canary = None;
    for page in 0..LIST_PAGES_SEARCHED {
        let path = format!("/Users?count=100&startIndex={}", page * 100 + 1);
        let reply = session.send_with("GET", &path, None, SPEC_GET, Some(&authorization), None).await?;
        let entries = reply.json.as_ref().map(resources).unwrap_or_default();
        let done = entries.is_empty();
        listed_canary = entries.into_iter().find(|u| u.get("id").and_then(Value::as_str) == Some(&canary_id));
        if listed_canary.is_some() || done {
            break;
        }
    }
    match listed_canary {
        Some(entry) => problems.extend(spec_user_problems(&entry, "the canary in the list")),
        None => problems
            .push(format!("the list's first {} pages of 100 do not show {}", LIST_PAGES_SEARCHED, canary.user_name)),
    }
    let id = canary_id;
    let read = session
        .send_with("GET", &format!("/Users/{}", encode(&id)), None, SPEC_GET, Some(&authorization), None)
        .await?;
    if read.status != 200 {
        problems.push(format!("GET /Users/{id} answered {}", read.status));
    } else if let Some(user) = &read.json {
        problems.extend(spec_user_problems(user, "the user read by id"));
        if user.get("id").and_then(Value::as_str) != Some(id.as_str()) {
            problems.push("the user read by id has another id".into());
        }
    }
    Ok(session.judge(problems, "the list and the user carry what the SPEC test asserts"))
}

async fn spec_filter_no_match(session: &mut Session<'_>) -> Step<Outcome> {
    let domain = session.suite.idp.read_org(|org| org.email_domain.clone());
    let nobody = format!("scim-nobody-{}@{}", random_tag(10), session.suite.canary_domain(&domain));
    let authorization = session.authorization.clone();
    // Step 3 sends the filter unencoded but for its spaces and quotes.
    let path = format!("/Users?filter=userName%20eq%20%22{}%22", encode(&nobody));
    let reply = session.send_with("GET", &path, None, SPEC_GET, Some(&authorization), None).await?;
    let mut problems = list_problems(&reply);
    if reply.status == 200 && total_results(&reply) != Some(0) {
        problems.push(format!("totalResults is {:?}, not 0", total_results(&reply)));
    }
    Ok(session.judge(problems, "200 with totalResults 0"))
}

async fn spec_create_user(session: &mut Session<'_>) -> Step<Outcome> {
    let user = session.canary("spec-create")?;
    let authorization = session.authorization.clone();
    let created = session
        .send_with("POST", "/Users", Some(&spec_create_body(&user)), SPEC_POST, Some(&authorization), None)
        .await?;
    let mut problems = Vec::new();
    if created.status != 201 {
        return Ok(session.fail(format!("the create answered {}, not 201", created.status)));
    }
    let Some(body) = created.json.clone() else { return Ok(session.fail("the create's answer is not JSON")) };
    let schemas = member(&body, "schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|list| list.iter().any(|s| s.as_str() == Some(USER_SCHEMA))) {
        problems.push(format!("schemas does not list {USER_SCHEMA}"));
    }
    if is_true(member(&body, "active")) != Some(true) {
        problems.push("the created user is not active".into());
    }
    let echoes = |value: &Value, what: &str, problems: &mut Vec<String>| {
        if value.get("userName").and_then(Value::as_str).map(str::to_ascii_lowercase) != Some(user.user_name.clone()) {
            problems.push(format!("{what}: userName is not {}", user.user_name));
        }
        if value.pointer("/name/givenName").and_then(Value::as_str) != Some(user.given.as_str()) {
            problems.push(format!("{what}: name.givenName is not {}", user.given));
        }
        if value.pointer("/name/familyName").and_then(Value::as_str) != Some(user.family.as_str()) {
            problems.push(format!("{what}: name.familyName is not {}", user.family));
        }
    };
    echoes(&body, "the create's answer", &mut problems);
    let Some(id) = body.get("id").and_then(Value::as_str).filter(|id| !id.is_empty()).map(str::to_owned) else {
        problems.push("the created user has no id".into());
        return Ok(session.fail(problems.join("; ")));
    };
    let read = session
        .send_with("GET", &format!("/Users/{}", encode(&id)), None, SPEC_GET, Some(&authorization), None)
        .await?;
    match (&read.json, read.status) {
        (Some(value), 200) => echoes(value, "the user read back", &mut problems),
        (_, status) => problems.push(format!("reading the created user answered {status}")),
    }
    Ok(session.judge(problems, "201 with the user, read back the same"))
}

async fn spec_duplicate(session: &mut Session<'_>) -> Step<Outcome> {
    let (user, _) = session.provisioned("spec-duplicate").await?;
    let authorization = session.authorization.clone();
    let again = session
        .send_with("POST", "/Users", Some(&spec_create_body(&user)), SPEC_POST, Some(&authorization), None)
        .await?;
    if again.status == 409 {
        Ok(Outcome::pass("409"))
    } else {
        Ok(session.fail(format!("the same create again answered {}, not 409", again.status)))
    }
}

async fn crud_assign(session: &mut Session<'_>) -> Step<Outcome> {
    let (user, id) = session.provisioned("assign").await?;
    let lookup = session.send(&requests::find_user(&user.user_name)).await?;
    let mut problems = list_problems(&lookup);
    let found: Vec<String> = lookup
        .json
        .as_ref()
        .map(resources)
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect();
    if total_results(&lookup) != Some(1) || found != [id.clone()] {
        problems.push(format!(
            "Okta's lookup after the create found {found:?} (totalResults {:?}), not the one user {id}",
            total_results(&lookup)
        ));
    }
    Ok(session.judge(problems, "created once and found by Okta's lookup"))
}

async fn crud_update_profile(session: &mut Session<'_>) -> Step<Outcome> {
    let (user, id) = session.provisioned("update").await?;
    let current = session.read_user(&id).await?;
    let Some(current) = current.json.filter(|_| current.status == 200) else {
        return Ok(session.fail(format!("Okta's read of the user before its update answered {}", current.status)));
    };
    let new_given = format!("Renamed{}", random_tag(6));
    let view = view_of(user.view.okta_id.clone(), &user.user_name, &new_given, &user.family, true);
    let request = session.profile_update(&id, &current, &view)?;
    let updated = session.send(&request).await?;
    if !updated.ok() {
        return Ok(session.fail(format!("Okta's update answered {}", updated.status)));
    }
    let read = session.read_user(&id).await?;
    let given = read.text("/name/givenName").map(str::to_owned);
    if read.status == 200 && given.as_deref() == Some(new_given.as_str()) {
        Ok(Outcome::pass(format!("the {} update took", session.target.profile.as_str())))
    } else {
        Ok(session.fail(format!(
            "after Okta's {} update the user reads {} with name.givenName {given:?}, not {new_given}",
            session.target.profile.as_str(),
            read.status
        )))
    }
}

/// Deactivates by the profile and reads the user back: what is wrong.
async fn deactivate_and_read(session: &mut Session<'_>, user: &CanaryUser, id: &str) -> Step<Vec<String>> {
    let mut problems = Vec::new();
    let reply = session.set_active(user, id, false).await?;
    if !reply.ok() {
        problems.push(format!("the deactivation answered {}", reply.status));
    } else if reply.status != 204 && reply.json.as_ref().is_some_and(|b| is_true(member(b, "active")) == Some(true)) {
        problems.push("the deactivation's answer shows the user still active".into());
    }
    let read = session.read_user(id).await?;
    if read.status != 200 {
        problems.push(format!("the deactivated user reads {}, not 200", read.status));
    } else if is_true(read.json.as_ref().and_then(|b| member(b, "active"))) != Some(false) {
        problems.push("the deactivated user reads with active not false".into());
    }
    Ok(problems)
}

async fn crud_deactivate(session: &mut Session<'_>) -> Step<Outcome> {
    let (user, id) = session.provisioned("deactivate").await?;
    let problems = deactivate_and_read(session, &user, &id).await?;
    Ok(session.judge(problems, "deactivated and readable with active false"))
}

async fn crud_reactivate(session: &mut Session<'_>) -> Step<Outcome> {
    let (user, id) = session.provisioned("reactivate").await?;
    let deactivated = session.set_active(&user, &id, false).await?;
    if !deactivated.ok() {
        return Ok(session.fail(format!("the deactivation before the reactivation answered {}", deactivated.status)));
    }
    let reply = session.set_active(&user, &id, true).await?;
    let read = session.read_user(&id).await?;
    let active = is_true(read.json.as_ref().and_then(|b| member(b, "active")));
    if reply.ok() && read.status == 200 && active == Some(true) {
        Ok(Outcome::pass("active again"))
    } else {
        Ok(session.fail(format!(
            "the reactivation answered {} and the user reads {} with active {active:?}",
            reply.status, read.status
        )))
    }
}

async fn deactivated_found_by_lookup(session: &mut Session<'_>) -> Step<Outcome> {
    let (user, id) = session.provisioned("deactivated-lookup").await?;
    let deactivated = session.set_active(&user, &id, false).await?;
    if !deactivated.ok() {
        return Ok(session.fail(format!("the deactivation answered {}", deactivated.status)));
    }
    let lookup = session.send(&requests::find_user(&user.user_name)).await?;
    let mut problems = list_problems(&lookup);
    let found = lookup.json.as_ref().map(resources).unwrap_or_default();
    let this = found.iter().find(|r| r.get("id").and_then(Value::as_str) == Some(id.as_str()));
    match this {
        None => problems.push(format!(
            "Okta's lookup does not find the deactivated user (totalResults {:?}), so Okta would create them again",
            total_results(&lookup)
        )),
        Some(found) if is_true(member(found, "active")) != Some(false) => {
            problems.push("the lookup shows the deactivated user with active not false".into());
        }
        Some(_) => {}
    }
    Ok(session.judge(problems, "found, inactive"))
}

async fn filter_ignores_case(session: &mut Session<'_>) -> Step<Outcome> {
    let (user, id) = session.provisioned("filter-case").await?;
    let lookup = session.send(&requests::find_user(&user.user_name.to_uppercase())).await?;
    let mut problems = list_problems(&lookup);
    let found = lookup.json.as_ref().map(resources).unwrap_or_default();
    if !found.iter().any(|r| r.get("id").and_then(Value::as_str) == Some(id.as_str())) {
        problems.push(format!(
            "userName eq \"{}\" does not find {} (totalResults {:?})",
            user.user_name.to_uppercase(),
            user.user_name,
            total_results(&lookup)
        ));
    }
    Ok(session.judge(problems, "the upper-case filter finds the user"))
}

async fn duplicate_uniqueness(session: &mut Session<'_>) -> Step<Outcome> {
    let (user, _) = session.provisioned("uniqueness").await?;
    let again = session.send(&requests::create_user(&user.view, None)).await?;
    let mut problems = error_problems(&again, 409, false);
    if again.json.as_ref().and_then(|b| member(b, "scimType")).and_then(Value::as_str) != Some("uniqueness") {
        problems.push("scimType is not uniqueness".into());
    }
    Ok(session.judge(problems, "409 with scimType uniqueness"))
}

async fn duplicate_case_variant(session: &mut Session<'_>) -> Step<Outcome> {
    let (user, _) = session.provisioned("case-variant").await?;
    let mut variant = user.clone();
    variant.user_name = user.user_name.to_uppercase();
    variant.view.user_name = variant.user_name.clone();
    let again = session.send(&requests::create_user(&variant.view, None)).await?;
    if again.status == 409 {
        Ok(Outcome::pass("409 for the case variant"))
    } else {
        Ok(session.fail(format!("a create of {} answered {}, not 409", variant.user_name, again.status)))
    }
}

async fn items_per_page(session: &mut Session<'_>) -> Step<Outcome> {
    let (user, _) = session.provisioned("items-per-page").await?;
    // Okta's own lookup asks for count=100 and gets one user.
    let lookup = session.send(&requests::find_user(&user.user_name)).await?;
    let problems = page_size_problems(&lookup);
    Ok(session.judge(problems, "itemsPerPage is the number returned"))
}

async fn count_respected(session: &mut Session<'_>) -> Step<Outcome> {
    for label in ["count-a", "count-b", "count-c"] {
        session.provisioned(label).await?;
    }
    let mut problems = Vec::new();
    for count in [2usize, 1] {
        let reply = session.get(&format!("/Users?startIndex=1&count={count}")).await?;
        problems.extend(list_problems(&reply));
        let returned = reply.json.as_ref().map(resources).map(|r| r.len()).unwrap_or(0);
        if returned > count {
            problems.push(format!("count={count} returned {returned} users"));
        }
        if total_results(&reply).is_some_and(|total| total < 3) {
            problems.push(format!("count={count}: totalResults {:?} though three users exist", total_results(&reply)));
        }
    }
    Ok(session.judge(problems, "no page larger than count"))
}

async fn stable_pages(session: &mut Session<'_>) -> Step<Outcome> {
    let mut mine = Vec::new();
    for label in ["pages-a", "pages-b", "pages-c", "pages-d"] {
        mine.push(session.provisioned(label).await?.1);
    }
    let first = session.get("/Users?startIndex=1&count=1").await?;
    let Some(total) = total_results(&first) else {
        return Ok(session.fail(format!("the first page has no totalResults: {}", list_problems(&first).join("; "))));
    };
    // About six pages, whatever the tenant's size, so that an unstable
    // order shows and a large tenant is not read one user at a time.
    let page = usize::try_from(total.div_ceil(6)).unwrap_or(1).max(1);
    let mut seen: Vec<String> = Vec::new();
    let mut start = 1usize;
    let mut requests_sent = 0;
    while u64::try_from(start).unwrap_or(u64::MAX) <= total && requests_sent < 50 {
        let reply = session.get(&format!("/Users?startIndex={start}&count={page}")).await?;
        requests_sent += 1;
        let problems = list_problems(&reply);
        if !problems.is_empty() {
            return Ok(session.fail(format!("page at startIndex {start}: {}", problems.join("; "))));
        }
        let items = reply.json.as_ref().map(resources).unwrap_or_default();
        if items.is_empty() {
            break;
        }
        seen.extend(items.iter().filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_owned)));
        start += items.len();
    }
    let mut problems = Vec::new();
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != seen.len() {
        problems.push(format!("{} users were seen twice across the pages", seen.len() - unique.len()));
    }
    let missing: Vec<&String> = mine.iter().filter(|id| !seen.contains(id)).collect();
    if !missing.is_empty() {
        problems.push(format!("the walk missed {} of the check's {} users", missing.len(), mine.len()));
    }
    Ok(session.judge(problems, format!("{} users in pages of {page}, each once", seen.len())))
}

async fn put_replaces(session: &mut Session<'_>) -> Step<Outcome> {
    let (user, id) = session.provisioned("put").await?;
    let current = session.read_user(&id).await?;
    let Some(current) = current.json.filter(|_| current.status == 200) else {
        return Ok(session.fail(format!("reading the user before the PUT answered {}", current.status)));
    };
    let before = current.get("displayName").and_then(Value::as_str).map(str::to_owned);
    let Some(before) = before else {
        return Ok(Outcome::skip("the server keeps no displayName, so there is nothing for a PUT to clear"));
    };
    // Okta's PUT after the display name was cleared in Okta: the mapping
    // has no value, so the attribute is left out.
    let mut view = user.view.clone();
    view.values.retain(|(path, _)| path.attribute != "displayName");
    let mut body = current.clone();
    if let Some(object) = body.as_object_mut() {
        object.retain(|key, _| !key.eq_ignore_ascii_case("displayName"));
    }
    let replaced = session.send(&requests::replace_user(&id, &body, Some(&view), true)).await?;
    if !replaced.ok() {
        return Ok(session.fail(format!("the PUT answered {}", replaced.status)));
    }
    let read = session.read_user(&id).await?;
    let after = read.text("/displayName").map(str::to_owned);
    if read.status == 200 && after.as_deref() != Some(before.as_str()) {
        Ok(Outcome::pass("the PUT cleared displayName"))
    } else {
        Ok(session.fail(format!("after a PUT without displayName the user still has displayName {after:?}")))
    }
}

async fn pathless_patch(session: &mut Session<'_>) -> Step<Outcome> {
    let (_, id) = session.provisioned("pathless").await?;
    let mut problems = Vec::new();
    for active in [false, true] {
        let reply = session.send(&requests::set_user_active(&id, active)).await?;
        if matches!(reply.status, 405 | 501) && session.target.profile == RequestProfile::AppIntegrationWizard {
            return Ok(Outcome::skip(format!(
                "the SP takes no PATCH ({}) and expects Okta's App Integration Wizard profile, which sends only PUT",
                reply.status
            )));
        }
        if !reply.ok() {
            problems.push(format!("the PATCH to active {active} answered {}", reply.status));
            break;
        }
        let read = session.read_user(&id).await?;
        let now = is_true(read.json.as_ref().and_then(|b| member(b, "active")));
        if read.status != 200 || now != Some(active) {
            problems
                .push(format!("after the PATCH to active {active} the user reads {} with active {now:?}", read.status));
            break;
        }
    }
    Ok(session.judge(problems, "deactivated and reactivated by the path-less PATCH"))
}

async fn password_not_echoed(session: &mut Session<'_>) -> Step<Outcome> {
    let (_, id) = session.provisioned("password").await?;
    let read = session.read_user(&id).await?;
    let echoed = |reply_index: usize, session: &Session<'_>| {
        session.exchanges.get(reply_index).is_some_and(|e| {
            serde_json::from_str::<Value>(&e.response_body).is_ok_and(|body| member(&body, "password").is_some())
        })
    };
    let created_index = session.exchanges.len().saturating_sub(2);
    let mut problems = Vec::new();
    if echoed(created_index, session) {
        problems.push("the create's answer contains password".to_owned());
    }
    if read.json.as_ref().is_some_and(|body| member(body, "password").is_some()) {
        problems.push("the user read back contains password".to_owned());
    }
    Ok(session.judge(problems, "password never returned"))
}

async fn accepts_media_type(session: &mut Session<'_>, media: MediaType) -> Step<Outcome> {
    let user = session.canary("media")?;
    let content_type = match media {
        MediaType::ScimJson => "application/scim+json",
        MediaType::Json => "application/json",
    };
    let headers = Headers { user_agent: Some(OKTA_USER_AGENT), accept: OKTA_MEDIA_TYPE, content_type };
    let authorization = session.authorization.clone();
    let body = requests::create_user(&user.view, None).body.unwrap_or_default();
    let created = session.send_with("POST", "/Users", Some(&body), headers, Some(&authorization), None).await?;
    if created.status == 201 {
        Ok(Outcome::pass(format!("201 for {content_type}")))
    } else {
        Ok(session.fail(format!("a create sent as {content_type} answered {}", created.status)))
    }
}

async fn if_match(session: &mut Session<'_>) -> Step<Outcome> {
    let (user, id) = session.provisioned("if-match").await?;
    let read = session.read_user(&id).await?;
    let Some(current) = read.json.clone().filter(|_| read.status == 200) else {
        return Ok(session.fail(format!("reading the user answered {}", read.status)));
    };
    let offered = read.etag.clone().or_else(|| read.text("/meta/version").map(str::to_owned));
    let Some(etag) = offered else {
        return Ok(Outcome::skip("the server offers no ETag (no ETag header, no meta.version)"));
    };
    let stale = "W/\"mockta-stale-version\"";
    let mut view = user.view.clone();
    let renamed = format!("Stale {}", random_tag(6));
    view.values.retain(|(path, _)| path.attribute != "displayName");
    let mut body = requests::replace_user(&id, &current, Some(&view), true).body.unwrap_or_default();
    body["displayName"] = Value::String(renamed.clone());
    let authorization = session.authorization.clone();
    let path = format!("/Users/{}", encode(&id));
    let refused = session.send_with("PUT", &path, Some(&body), OKTA, Some(&authorization), Some(stale)).await?;
    let mut problems = Vec::new();
    if refused.status != 412 {
        problems.push(format!("a PUT with a stale If-Match answered {}, not 412", refused.status));
    }
    let after = session.read_user(&id).await?;
    if after.text("/displayName") == Some(renamed.as_str()) {
        problems.push("the stale PUT changed the user".into());
    }
    let taken = session.send_with("PUT", &path, Some(&body), OKTA, Some(&authorization), Some(&etag)).await?;
    if !taken.ok() {
        problems.push(format!("a PUT with the current ETag {etag} answered {}", taken.status));
    }
    Ok(session.judge(problems, "412 for a stale If-Match, the current one taken"))
}

/// Whether `/Schemas` declares `attribute` in the schema `schema_id`.
fn declares(schemas: &[Value], schema_id: &str, attribute: Option<&str>) -> bool {
    schemas
        .iter()
        .filter(|s| s.get("id").and_then(Value::as_str).is_some_and(|id| id.eq_ignore_ascii_case(schema_id)))
        .any(|schema| match attribute {
            None => true,
            Some(name) => schema.get("attributes").and_then(Value::as_array).is_some_and(|list| {
                list.iter().any(|a| a.get("name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(name)))
            }),
        })
}

async fn undeclared_attribute(session: &mut Session<'_>) -> Step<Outcome> {
    const NAME: &str = "mocktaUndeclaredNote";
    let Some(schemas) = session.schemas().await? else {
        return Ok(Outcome::skip("the server serves no /Schemas, so it declares nothing to hold it to"));
    };
    if declares(&schemas, USER_SCHEMA, Some(NAME)) {
        return Ok(Outcome::skip(format!("/Schemas declares {NAME}")));
    }
    let user = session.canary("undeclared")?;
    let mut body = requests::create_user(&user.view, None).body.unwrap_or_default();
    body[NAME] = Value::String("kept-if-this-shows".into());
    let authorization = session.authorization.clone();
    let created = session.send_with("POST", "/Users", Some(&body), OKTA, Some(&authorization), None).await?;
    if (400..500).contains(&created.status) {
        return Ok(Outcome::pass(format!("refused with {}", created.status)));
    }
    let Some(id) = created.text("/id").map(str::to_owned).filter(|_| created.status == 201) else {
        return Ok(session.fail(format!("the create answered {}", created.status)));
    };
    let read = session.read_user(&id).await?;
    let kept = [&created, &read].iter().any(|reply| reply.json.as_ref().is_some_and(|b| member(b, NAME).is_some()));
    if kept {
        Ok(session.fail(format!("the server keeps and returns {NAME}, which its /Schemas does not declare")))
    } else {
        Ok(Outcome::pass("taken and not kept"))
    }
}

async fn undeclared_extension(session: &mut Session<'_>) -> Step<Outcome> {
    let urn = "urn:mockta:params:scim:schemas:extension:undeclared:2.0:User";
    let Some(schemas) = session.schemas().await? else {
        return Ok(Outcome::skip("the server serves no /Schemas, so it declares nothing to hold it to"));
    };
    if declares(&schemas, urn, None) {
        return Ok(Outcome::skip(format!("/Schemas declares {urn}")));
    }
    let user = session.canary("extension")?;
    let mut body = requests::create_user(&user.view, None).body.unwrap_or_default();
    if let Some(list) = body.get_mut("schemas").and_then(Value::as_array_mut) {
        list.push(Value::String(urn.into()));
    }
    body[urn] = json!({"note": "kept-if-this-shows"});
    let authorization = session.authorization.clone();
    let created = session.send_with("POST", "/Users", Some(&body), OKTA, Some(&authorization), None).await?;
    if (400..500).contains(&created.status) {
        return Ok(Outcome::pass(format!("refused with {}", created.status)));
    }
    let Some(id) = created.text("/id").map(str::to_owned).filter(|_| created.status == 201) else {
        return Ok(session.fail(format!("the create answered {}", created.status)));
    };
    let read = session.read_user(&id).await?;
    let kept = [&created, &read].iter().any(|reply| {
        reply.json.as_ref().is_some_and(|body| {
            member(body, urn).is_some()
                || member(body, "schemas")
                    .and_then(Value::as_array)
                    .is_some_and(|list| list.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn))))
        })
    });
    if kept {
        Ok(session
            .fail(format!("the server keeps and returns the extension {urn}, which its /Schemas does not declare")))
    } else {
        Ok(Outcome::pass("taken and not kept"))
    }
}

/// Whether an Okta mapping's target is the attribute a target names as
/// required (`name.givenName` the sub-attribute, `emails` any of it).
fn names_attribute(path: &mock_idp::org::provisioning::ScimAttributePath, required: &str) -> bool {
    let (top, part) = match required.split_once('.') {
        Some((top, part)) => (top, Some(part)),
        None => (required, None),
    };
    path.schema.is_none()
        && path.attribute.eq_ignore_ascii_case(top)
        && part.is_none_or(|part| path.sub_attribute.as_deref().is_some_and(|sub| sub.eq_ignore_ascii_case(part)))
}

/// What is wrong with an answer that should be a SCIM error with this
/// status and `scimType`.
fn typed_error_problems(reply: &Reply, status: u16, scim_type: &str) -> Vec<String> {
    let mut problems = error_problems(reply, status, false);
    let sent = reply.json.as_ref().and_then(|b| member(b, "scimType")).and_then(Value::as_str);
    if reply.status == status && sent != Some(scim_type) {
        problems.push(format!("scimType is {sent:?}, not {scim_type}"));
    }
    problems
}

/// `scim.users.required_attributes_enforced`: the full create works (the
/// positive control); then, for each attribute the target declares
/// required, Okta's create of a new canary without it (Okta leaves an
/// unset profile attribute out of its request) must be a SCIM 400
/// `invalidValue` (RFC 7644 3.12: "a required value was missing") and leave
/// no user that Okta's lookup finds.
async fn required_attributes_enforced(session: &mut Session<'_>) -> Step<Outcome> {
    let required = session.target.required_attributes.clone();
    if required.is_empty() {
        return Ok(Outcome::skip("the target declares no scim.required_attributes"));
    }
    session.provisioned("required-full").await?;
    let mut problems = Vec::new();
    for attribute in &required {
        let mut user = session.canary("required")?;
        let before = user.view.values.len();
        user.view.values.retain(|(path, _)| !names_attribute(path, attribute));
        if user.view.values.len() == before {
            return Err(StepError(format!(
                "Okta's default mappings send no '{attribute}', so the suite cannot leave it out of a create"
            )));
        }
        let created = session.send(&requests::create_user(&user.view, None)).await?;
        let refused = typed_error_problems(&created, 400, "invalidValue");
        if !refused.is_empty() {
            problems.push(format!("the create without {attribute}: {}", refused.join(", ")));
        }
        let lookup = session.send(&requests::find_user(&user.user_name)).await?;
        if lookup.status != 404 && total_results(&lookup).unwrap_or(0) > 0 {
            problems
                .push(format!("a user without {attribute} was stored: Okta's lookup of {} finds it", user.user_name));
        }
    }
    Ok(session.judge(
        problems,
        format!(
            "the full create was taken, and each create without {} was refused with 400 invalidValue and stored nothing",
            required.join(", ")
        ),
    ))
}

/// Gives Okta's view of a user another primary email.
fn with_email(view: &mut UserView, email: &str) {
    for (path, value) in &mut view.values {
        if names_attribute(path, "emails") {
            *value = Value::String(email.to_owned());
        }
    }
}

/// `scim.users.email_unique`: a create of a second person (a userName of
/// their own) with the first person's email, and an update of a third
/// person (by the target's profile) to that email, must each be a 409
/// `uniqueness`, storing nothing.
async fn email_unique(session: &mut Session<'_>) -> Step<Outcome> {
    if !session.target.email_unique {
        return Ok(Outcome::skip("the target does not declare scim.email_unique = true"));
    }
    let (first, _) = session.provisioned("email-first").await?;
    let mut problems = Vec::new();
    let mut twin = session.canary("email-twin")?;
    with_email(&mut twin.view, &first.user_name);
    let created = session.send(&requests::create_user(&twin.view, None)).await?;
    let refused = typed_error_problems(&created, 409, "uniqueness");
    if !refused.is_empty() {
        problems.push(format!(
            "the create of {} with {}'s email: {}",
            twin.user_name,
            first.user_name,
            refused.join(", ")
        ));
    }
    let lookup = session.send(&requests::find_user(&twin.user_name)).await?;
    if lookup.status != 404 && total_results(&lookup).unwrap_or(0) > 0 {
        problems.push(format!("{} was stored with {}'s email", twin.user_name, first.user_name));
    }
    let (third, id) = session.provisioned("email-update").await?;
    let current = session.read_user(&id).await?;
    let Some(current) = current.json.filter(|_| current.status == 200) else {
        return Err(StepError(format!("Okta's read of user {id} before its update answered {}", current.status)));
    };
    let mut view = third.view.clone();
    with_email(&mut view, &first.user_name);
    let request = session.profile_update(&id, &current, &view)?;
    let updated = session.send(&request).await?;
    let refused = typed_error_problems(&updated, 409, "uniqueness");
    if !refused.is_empty() {
        problems.push(format!(
            "Okta's {} update giving {} the email of {}: {}",
            session.target.profile.as_str(),
            third.user_name,
            first.user_name,
            refused.join(", ")
        ));
    }
    Ok(session
        .judge(problems, "a create and an update with another user's email were each refused with 409 uniqueness"))
}

async fn email_outside_domain(session: &mut Session<'_>) -> Step<Outcome> {
    let outside = session.suite.outside_domain();
    let user = session.canary_in("outside", &outside)?;
    let created = session.send(&requests::create_user(&user.view, None)).await?;
    if (400..500).contains(&created.status) {
        Ok(Outcome::pass(format!("refused with {}", created.status)))
    } else {
        Ok(session.fail(format!(
            "a user at {outside}, outside the SP's email domains, was provisioned ({}): SCIM makes accounts that sign-in refuses",
            created.status
        )))
    }
}

/// E.164 phone numbers the custom-attributes check sends, one per phone
/// attribute in turn: the MoovingON guide's example country code and a
/// North American one.
const E164_SAMPLES: [&str; 2] = ["+972501234567", "+14155550100"];

/// A phone number in local form, without the '+' and country code the
/// MoovingON guide requires ("every phone number should start with a '+'
/// and a country code").
const NOT_E164: &str = "0501234567";

/// `scim.users.custom_attributes_kept`: Okta's assignment of a user with a
/// value for each custom core attribute the target declares (sent at the
/// top level of the User, as Okta sends an attribute whose External
/// namespace is the core User schema), read back by id; then, where a phone
/// must be E.164, Okta's create with a phone in local form must be refused.
async fn custom_attributes_kept(session: &mut Session<'_>) -> Step<Outcome> {
    use crate::target::CoreAttributeKind;
    let declared = session.target.core_attributes.clone();
    if declared.is_empty() {
        return Ok(Outcome::skip(
            "the target declares no scim.core_attributes (custom attributes on the core User, as the MoovingON guide's moovingon_ai_admin, firstPhone and secondPhone)",
        ));
    }
    let path = |name: &str| {
        mock_idp::org::provisioning::ScimAttributePath::parse(name)
            .map_err(|why| StepError(format!("scim.core_attributes: {why}")))
    };
    let mut phones = E164_SAMPLES.iter().cycle();
    let mut sent = Vec::new();
    for (name, kind) in &declared {
        let value = match kind {
            CoreAttributeKind::Boolean => Value::Bool(true),
            CoreAttributeKind::String => Value::String(format!("mockta {name}")),
            CoreAttributeKind::E164 => Value::String(phones.next().copied().unwrap_or(E164_SAMPLES[0]).to_owned()),
        };
        sent.push((name.clone(), value));
    }
    let mut user = session.canary("custom-attributes")?;
    for (name, value) in &sent {
        user.view.values.push((path(name)?, value.clone()));
    }
    // Okta's assignment: its lookup finds nobody, then its create. A create
    // refused for the attributes is the SP not taking them, not a broken
    // control.
    let lookup = session.send(&requests::find_user(&user.user_name)).await?;
    if !(lookup.ok() || lookup.status == 404) || total_results(&lookup).unwrap_or(0) > 0 {
        return Err(StepError(format!(
            "positive control failed: Okta's lookup of the new user {} answered {} (totalResults {:?})",
            user.user_name,
            lookup.status,
            total_results(&lookup)
        )));
    }
    let created = session.send(&requests::create_user(&user.view, None)).await?;
    let id = match (created.status, created.text("/id")) {
        (201, Some(id)) if !id.is_empty() => id.to_owned(),
        (status, _) => {
            let detail = created.text("/detail").map(|d| format!(": {d}")).unwrap_or_default();
            return Ok(session.fail(format!(
                "Okta's create of a user with {} answered {status}{detail}, so the SP does not take what the target declares",
                sent.iter().map(|(name, value)| format!("{name} = {value}")).collect::<Vec<_>>().join(", ")
            )));
        }
    };
    let read = session.read_user(&id).await?;
    let mut problems = Vec::new();
    if read.status != 200 {
        problems.push(format!("GET /Users/{id} answered {}", read.status));
    }
    let body = read.json.clone().unwrap_or(Value::Null);
    for (name, value) in &sent {
        match member(&body, name) {
            Some(kept) if kept == value => {}
            Some(kept) => problems.push(format!("{name} was sent as {value} and reads {kept}")),
            None => problems.push(format!("{name} was sent as {value} and is not in the user read back")),
        }
    }
    let phone = declared.iter().find(|(_, kind)| *kind == CoreAttributeKind::E164).map(|(name, _)| name.clone());
    let mut refused = String::new();
    if let Some(phone) = &phone {
        let mut local = session.canary("custom-attributes-local-phone")?;
        local.view.values.push((path(phone)?, Value::String(NOT_E164.to_owned())));
        let created = session.send(&requests::create_user(&local.view, None)).await?;
        if created.status == 400 {
            refused = format!("; {phone} {NOT_E164} (not E.164) was refused with 400");
        } else {
            problems.push(format!(
                "Okta's create with {phone} {NOT_E164}, which is not E.164 (no '+' and country code), answered {}, not 400",
                created.status
            ));
        }
    }
    let names: Vec<&str> = sent.iter().map(|(name, _)| name.as_str()).collect();
    Ok(session.judge(problems, format!("{} kept and returned as sent{refused}", names.join(", "))))
}

async fn group_create_and_find(session: &mut Session<'_>) -> Step<Outcome> {
    let (name, id) = session.pushed_group("group").await?;
    let lookup = session.send(&requests::find_group(&name)).await?;
    let mut problems = list_problems(&lookup);
    let found = lookup.json.as_ref().map(resources).unwrap_or_default();
    if total_results(&lookup) != Some(1)
        || !found.iter().any(|g| g.get("id").and_then(Value::as_str) == Some(id.as_str()))
    {
        problems.push(format!("Okta's lookup of {name} does not find the one group {id}"));
    }
    let read = session.read_group(&id).await?;
    if read.status != 200 || read.text("/displayName") != Some(name.as_str()) {
        problems.push(format!("the group reads {} with displayName {:?}", read.status, read.text("/displayName")));
    }
    let schemas = read.get("/schemas").and_then(Value::as_array);
    if read.status == 200 && !schemas.is_some_and(|list| list.iter().any(|s| s.as_str() == Some(GROUP_SCHEMA))) {
        problems.push(format!("the group's schemas does not list {GROUP_SCHEMA}"));
    }
    Ok(session.judge(problems, "created and found"))
}

/// A group and users made for a membership check.
async fn group_with_members(
    session: &mut Session<'_>,
    label: &str,
    users: usize,
    members: usize,
) -> Step<((String, String), Vec<(CanaryUser, String)>)> {
    let mut made = Vec::new();
    for index in 0..users {
        made.push(session.provisioned(&format!("{label}-{index}")).await?);
    }
    let group = session.pushed_group(label).await?;
    if members > 0 {
        let list: Vec<(&CanaryUser, &str)> = made.iter().take(members).map(|(u, id)| (u, id.as_str())).collect();
        session.add_members(&group, &list).await?;
    }
    Ok((group, made))
}

/// The member ids `GET /Groups/{id}` shows, sorted, or why it shows none.
pub(super) async fn members_now(session: &mut Session<'_>, group_id: &str) -> Step<Result<Vec<String>, String>> {
    let read = session.read_group(group_id).await?;
    Ok(match (&read.json, read.status) {
        (Some(body), 200) => Ok(sorted(member_ids(body))),
        (_, status) => Err(format!("the group reads {status}")),
    })
}

async fn group_add_member(session: &mut Session<'_>) -> Step<Outcome> {
    let (group, users) = group_with_members(session, "add", 1, 0).await?;
    let (user, id) = &users[0];
    let member = Member { scim_id: id.clone(), display: user.user_name.clone() };
    let reply = session.send(&requests::patch_group(&group.1, &group.0, &MembershipEdit::Add(vec![member]))).await?;
    if !reply.ok() {
        return Ok(session.fail(format!("Okta's membership PATCH answered {}", reply.status)));
    }
    match members_now(session, &group.1).await? {
        Ok(members) if members == [id.clone()] => Ok(Outcome::pass("the member was added")),
        Ok(members) => Ok(session.fail(format!("after the add the members are {members:?}, not [{id}]"))),
        Err(why) => Ok(session.fail(why)),
    }
}

async fn group_rename_keeps_members(session: &mut Session<'_>) -> Step<Outcome> {
    let (group, users) = group_with_members(session, "rename", 2, 2).await?;
    let new_name = format!("{}-renamed", group.0);
    let reply = session.send(&requests::patch_group(&group.1, &new_name, &MembershipEdit::None)).await?;
    if !reply.ok() {
        return Ok(session.fail(format!("Okta's rename PATCH answered {}", reply.status)));
    }
    let read = session.read_group(&group.1).await?;
    let mut problems = Vec::new();
    if read.text("/displayName") != Some(new_name.as_str()) {
        problems.push(format!("displayName is {:?}, not {new_name}", read.text("/displayName")));
    }
    let wanted = sorted(users.iter().map(|(_, id)| id.clone()).collect());
    let members = sorted(read.json.as_ref().map(member_ids).unwrap_or_default());
    if members != wanted {
        problems.push(format!("after the rename the members are {members:?}, not {wanted:?}"));
    }
    Ok(session.judge(problems, "renamed, members kept"))
}

async fn group_remove_filtered_member(session: &mut Session<'_>) -> Step<Outcome> {
    let (group, users) = group_with_members(session, "remove", 2, 2).await?;
    let removed = users[0].1.clone();
    let kept = users[1].1.clone();
    let reply = session
        .send(&requests::patch_group(&group.1, &group.0, &MembershipEdit::Remove(vec![removed.clone()])))
        .await?;
    if !reply.ok() {
        return Ok(session.fail(format!("Okta's remove PATCH answered {}", reply.status)));
    }
    match members_now(session, &group.1).await? {
        Ok(members) if members == [kept.clone()] => Ok(Outcome::pass("exactly that member removed")),
        Ok(members) => Ok(session.fail(format!("after removing {removed} the members are {members:?}, not [{kept}]"))),
        Err(why) => Ok(session.fail(why)),
    }
}

async fn group_push_now_replaces(session: &mut Session<'_>) -> Step<Outcome> {
    let (group, users) = group_with_members(session, "push-now", 3, 2).await?;
    let pushed: Vec<Member> =
        users[1..].iter().map(|(user, id)| Member { scim_id: id.clone(), display: user.user_name.clone() }).collect();
    let reply = session.send(&requests::patch_group(&group.1, &group.0, &MembershipEdit::Replace(pushed))).await?;
    if !reply.ok() {
        return Ok(session.fail(format!("Okta's \"Push now\" PATCH answered {}", reply.status)));
    }
    let wanted = sorted(users[1..].iter().map(|(_, id)| id.clone()).collect());
    match members_now(session, &group.1).await? {
        Ok(members) if members == wanted => Ok(Outcome::pass("exactly the pushed members")),
        Ok(members) => Ok(session.fail(format!("after \"Push now\" the members are {members:?}, not {wanted:?}"))),
        Err(why) => Ok(session.fail(why)),
    }
}

async fn group_delete_keeps_users(session: &mut Session<'_>) -> Step<Outcome> {
    let (group, users) = group_with_members(session, "delete", 1, 1).await?;
    let reply = session
        .send(&ScimRequest { method: Method::Delete, path: format!("/Groups/{}", encode(&group.1)), body: None })
        .await?;
    let mut problems = Vec::new();
    if !matches!(reply.status, 200 | 204) {
        problems.push(format!("DELETE /Groups/{} answered {}", group.1, reply.status));
    }
    let gone = session.read_group(&group.1).await?;
    if gone.status != 404 {
        problems.push(format!("the deleted group reads {}, not 404", gone.status));
    }
    let user = session.read_user(&users[0].1).await?;
    if user.status != 200 || is_true(user.json.as_ref().and_then(|b| member(b, "active"))) != Some(true) {
        problems.push(format!("the group's member reads {} and is not active", user.status));
    }
    Ok(session.judge(problems, "the group is gone and its member active"))
}

async fn member_remove_keeps_user_active(session: &mut Session<'_>) -> Step<Outcome> {
    let (group, users) = group_with_members(session, "removed-active", 2, 2).await?;
    let removed = users[0].1.clone();
    let reply = session
        .send(&requests::patch_group(&group.1, &group.0, &MembershipEdit::Remove(vec![removed.clone()])))
        .await?;
    if !reply.ok() {
        return Err(StepError(format!("Okta's remove PATCH answered {}", reply.status)));
    }
    let user = session.read_user(&removed).await?;
    let active = is_true(user.json.as_ref().and_then(|b| member(b, "active")));
    if user.status == 200 && active == Some(true) {
        Ok(Outcome::pass("still active"))
    } else {
        Ok(session.fail(format!("the removed member reads {} with active {active:?}", user.status)))
    }
}
