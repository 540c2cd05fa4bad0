//! Explaining a HAR export: the SAML and OIDC messages are found in the
//! requests (an AuthnRequest in a query or form, a SAMLResponse posted to
//! the ACS, an `/authorize` request, the redirect back, a token response),
//! each explained in order, and what an earlier step says becomes what a
//! later one is judged against (the AuthnRequest's ID for InResponseTo, its
//! ACS URL and issuer, the OIDC state, nonce and client id).
//!
//! A HAR recorded by a proxy (mitmproxy, Charles) or exported by the
//! relying party's own HTTP client also holds the back-channel exchanges a
//! browser never sees, and those are judged too: the discovery document
//! (its issuer must be the URL it was fetched from without the well-known
//! suffix, OpenID Connect Discovery 4.3), the JWKS (its keys verify the ID
//! tokens when no `--jwks` is given, and a fetch after every token with an
//! unknown kid is the flood of attacks.md K-03), the token responses (a
//! refreshed ID token must keep the original's iss and sub, OpenID Connect
//! Core 12.2; a code is redeemed once) and the userinfo answers (their sub
//! must be the ID token's, OpenID Connect Core 5.3.2).

use mock_idp::oidc::faults::OidcFault;
use mock_idp::saml::authn_request::{self, Binding};
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::rules::{finding_by_id, oidc_finding};
use super::{Expectations, ExplainError, Level, Side, Step};

/// The parts of a HAR 1.2 file explain reads.
#[derive(Clone, Debug)]
pub struct Har {
    pub entries: Vec<HarEntry>,
}

/// One request the browser made and what it got back.
#[derive(Clone, Debug)]
pub struct HarEntry {
    pub method: String,
    pub url: url::Url,
    /// The form fields of a POST body (`application/x-www-form-urlencoded`).
    pub form: Vec<(String, String)>,
    /// The request's `Authorization` header (a token request's client
    /// authentication, a userinfo request's bearer token).
    pub authorization: Option<String>,
    pub status: u16,
    /// The response's `Location` header.
    pub location: Option<String>,
    /// The response body, when the export kept it (text or decoded base64).
    pub body: Option<String>,
}

#[derive(Deserialize)]
struct HarFile {
    log: HarLog,
}

#[derive(Deserialize)]
struct HarLog {
    entries: Vec<RawEntry>,
}

#[derive(Deserialize)]
struct RawEntry {
    request: RawRequest,
    response: RawResponse,
}

#[derive(Deserialize)]
struct RawRequest {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<RawNameValue>,
    #[serde(rename = "postData")]
    post_data: Option<RawPostData>,
}

#[derive(Deserialize)]
struct RawPostData {
    text: Option<String>,
    #[serde(default)]
    params: Vec<RawNameValue>,
}

#[derive(Deserialize)]
struct RawNameValue {
    name: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
struct RawResponse {
    status: u16,
    #[serde(default)]
    headers: Vec<RawNameValue>,
    content: Option<RawContent>,
}

#[derive(Deserialize)]
struct RawContent {
    text: Option<String>,
    encoding: Option<String>,
}

impl Har {
    /// Reads the entries of a HAR file; an entry whose URL does not parse
    /// is bad input, as a HAR the browser wrote never has one.
    pub fn parse(text: &str) -> Result<Har, ExplainError> {
        let file: HarFile = serde_json::from_str(text).map_err(|e| ExplainError::BadHar(e.to_string()))?;
        let entries = file
            .log
            .entries
            .into_iter()
            .map(|raw| {
                let url = url::Url::parse(&raw.request.url)
                    .map_err(|e| ExplainError::BadHar(format!("the URL {:?} does not parse ({e})", raw.request.url)))?;
                let form = match raw.request.post_data {
                    Some(data) if !data.params.is_empty() => data
                        .params
                        .into_iter()
                        .map(|p| (decode_component(&p.name), decode_component(&p.value)))
                        .collect(),
                    Some(RawPostData { text: Some(text), .. }) => url::form_urlencoded::parse(text.as_bytes())
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect(),
                    _ => Vec::new(),
                };
                let authorization = raw
                    .request
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("authorization"))
                    .map(|h| h.value.clone());
                let location = raw
                    .response
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("location"))
                    .map(|h| h.value.clone());
                let body = raw.response.content.and_then(|content| match (content.text, content.encoding.as_deref()) {
                    (Some(text), Some("base64")) => {
                        use base64::Engine;
                        base64::engine::general_purpose::STANDARD
                            .decode(text.as_bytes())
                            .ok()
                            .and_then(|b| String::from_utf8(b).ok())
                    }
                    (text, _) => text,
                });
                Ok(HarEntry {
                    method: raw.request.method,
                    url,
                    form,
                    authorization,
                    status: raw.response.status,
                    location,
                    body,
                })
            })
            .collect::<Result<Vec<_>, ExplainError>>()?;
        Ok(Har { entries })
    }
}

/// Browsers record `params` percent-encoded (Chrome) or decoded (Firefox);
/// decoding an already decoded base64 value changes nothing but `+`, which
/// a SAMLResponse's base64 may hold, so only text with a `%` is decoded.
fn decode_component(text: &str) -> String {
    if text.contains('%') { percent_decode(text) } else { text.to_owned() }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| text.to_owned())
}

/// What the flow has said so far, for judging the steps after it.
#[derive(Default)]
struct FlowState {
    saml_request_id: Option<String>,
    saml_issuer: Option<String>,
    saml_acs: Option<String>,
    oidc_state: Option<String>,
    oidc_nonce: Option<String>,
    oidc_client: Option<String>,
    oidc_redirect: Option<String>,
    oidc_issuer: Option<String>,
    /// The key set the HAR file holds (every key fetched from the issuer's
    /// `jwks_uri`), which verifies ID tokens when no `--jwks` is given: it
    /// is what the relying party itself fetched.
    har_jwks: Option<Value>,
    /// The userinfo endpoint a discovery document named.
    userinfo_endpoint: Option<String>,
    /// The iss and sub of the flow's first ID token (the original
    /// authentication), which a refreshed ID token and a userinfo answer
    /// must keep.
    original: Option<Identity>,
    /// The authorization codes the token endpoint has already exchanged.
    redeemed_codes: Vec<String>,
    /// Set by an ID token whose kid no key of the HAR's key sets has, until
    /// the next JWKS fetch: a fetch then is a refetch for that token.
    awaiting_refetch: bool,
    unknown_kid_tokens: usize,
    refetches_for_unknown_kids: usize,
    /// The index of the last JWKS step, where a flood of refetches is reported.
    last_jwks_step: Option<usize>,
}

/// Who an ID token names.
#[derive(Clone)]
struct Identity {
    iss: Option<String>,
    sub: Option<String>,
}

/// The suffixes of the discovery documents' URLs (OpenID Connect Discovery
/// 4, and RFC 8414 3 as Okta serves it under the issuer).
const DISCOVERY_SUFFIXES: [&str; 2] = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"];

/// Explains every SAML and OIDC message of the HAR file, in order.
pub fn explain_flow(har: &Har, expect: &Expectations, now: OffsetDateTime) -> Result<Vec<Step>, ExplainError> {
    let mut state = FlowState { har_jwks: har_key_set(har), ..FlowState::default() };
    let mut steps = Vec::new();
    for entry in &har.entries {
        let query: Vec<(String, String)> =
            entry.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let field =
            |pairs: &[(String, String)], name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        if let Some(encoded) = field(&query, "SAMLRequest") {
            steps.push(authn_request_step(entry, &encoded, Binding::Redirect, &mut state));
        } else if let Some(encoded) = field(&entry.form, "SAMLRequest") {
            steps.push(authn_request_step(entry, &encoded, Binding::Post, &mut state));
        } else if let Some(encoded) = field(&entry.form, "SAMLResponse") {
            let super::input::Message::SamlResponse(xml) = super::input::saml_from_base64(&encoded)? else {
                continue;
            };
            let mut judged = expect.clone();
            judged.request_id = judged.request_id.or_else(|| state.saml_request_id.clone());
            judged.audience = judged.audience.or_else(|| state.saml_issuer.clone());
            judged.acs_url =
                judged.acs_url.or_else(|| state.saml_acs.clone()).or_else(|| Some(without_query(&entry.url)));
            let mut step = super::saml::explain_response(&xml, &judged, now)?;
            step.url = Some(entry.url.to_string());
            steps.push(step);
        } else if entry.url.path().ends_with("/authorize") && field(&query, "response_type").is_some() {
            steps.push(authorize_step(entry, &query, &mut state));
        } else if let Some(step) = authorization_response_step(entry, &query, &state, expect) {
            steps.push(step);
            if let Some(token) = field(&query, "id_token").or_else(|| field(&entry.form, "id_token")) {
                let step = token_step(entry, &token, None, &mut state, expect, now)?;
                steps.push(step);
            }
        } else if entry.method == "POST" && entry.url.path().ends_with("/token") {
            if let Some(step) = token_response_step(entry, &mut state, expect, now)? {
                steps.push(step);
            }
        } else if let Some(document) = discovery_document(entry) {
            steps.push(discovery_step(entry, &document, expect.issuer.as_deref(), &mut state));
        } else if let Some(keys) = jwks_document(entry) {
            steps.push(jwks_step(entry, &keys, &mut state));
            state.last_jwks_step = Some(steps.len() - 1);
        } else if let Some(answer) = userinfo_answer(entry, &state) {
            steps.push(userinfo_step(entry, &answer, &state));
        }
    }
    if steps.is_empty() {
        return Err(ExplainError::EmptyHar);
    }
    flood_finding(&mut steps, &state);
    Ok(steps)
}

/// A JSON object body of a 2xx answer.
fn json_answer(entry: &HarEntry) -> Option<serde_json::Map<String, Value>> {
    if !(200..300).contains(&entry.status) {
        return None;
    }
    match serde_json::from_str(entry.body.as_deref()?) {
        Ok(Value::Object(object)) => Some(object),
        _ => None,
    }
}

/// The issuer a discovery document's URL was built from: the URL without
/// its well-known suffix (OpenID Connect Discovery 4.1), or, for RFC 8414's
/// form with the suffix before the issuer's path, the URL without it.
pub fn issuer_of_discovery_url(url: &url::Url) -> Option<String> {
    let origin = url.origin().ascii_serialization();
    let path = url.path();
    if let Some(prefix) = DISCOVERY_SUFFIXES.iter().find_map(|suffix| path.strip_suffix(suffix)) {
        return Some(format!("{origin}{prefix}"));
    }
    path.strip_prefix("/.well-known/oauth-authorization-server/").map(|rest| format!("{origin}/{rest}"))
}

/// A discovery document the entry fetched.
fn discovery_document(entry: &HarEntry) -> Option<serde_json::Map<String, Value>> {
    issuer_of_discovery_url(&entry.url)?;
    json_answer(entry).filter(|document| document.get("issuer").is_some())
}

/// Judges a discovery document against the issuer it was fetched for, and
/// remembers its endpoints for the steps after it.
fn discovery_step(
    entry: &HarEntry,
    document: &serde_json::Map<String, Value>,
    configured: Option<&str>,
    state: &mut FlowState,
) -> Step {
    let fetched_for = issuer_of_discovery_url(&entry.url).unwrap_or_default();
    let mut step = Step::new("OIDC discovery document");
    step.url = Some(without_query(&entry.url));
    step.fact("fetched for the issuer", fetched_for.clone());
    for name in ["issuer", "jwks_uri", "userinfo_endpoint"] {
        if let Some(value) = document.get(name) {
            step.fact(name, display(value));
        }
    }
    step.findings.extend(discovery_finding(document, &fetched_for, configured));
    state.oidc_issuer = Some(fetched_for);
    state.userinfo_endpoint = document.get("userinfo_endpoint").and_then(Value::as_str).map(str::to_owned);
    step
}

/// A discovery document pasted on its own, judged against `--issuer` (the
/// issuer the relying party is configured with, whose URL it was fetched
/// from).
pub fn explain_discovery(document: &serde_json::Map<String, Value>, configured: Option<&str>) -> Step {
    let mut step = Step::new("OIDC discovery document");
    for name in ["issuer", "jwks_uri", "userinfo_endpoint"] {
        if let Some(value) = document.get(name) {
            step.fact(name, display(value));
        }
    }
    match configured {
        Some(configured) => step.findings.extend(discovery_finding(document, configured, None)),
        None => step.fact("issuer compared with", "nothing (give --issuer, the issuer the document was fetched for)"),
    }
    step
}

/// The rule of OpenID Connect Discovery 4.3: the document's issuer is
/// exactly the issuer it was fetched for (and the one the relying party is
/// configured with, when `configured` says which).
pub(crate) fn discovery_finding(
    document: &serde_json::Map<String, Value>,
    fetched_for: &str,
    configured: Option<&str>,
) -> Option<super::Finding> {
    let issuer = document.get("issuer").map(display).unwrap_or_default();
    let expected = configured.unwrap_or(fetched_for);
    if issuer == expected {
        return None;
    }
    Some(oidc_finding(
        OidcFault::DiscoveryIssuerOnly,
        Side::Okta,
        format!(
            "The discovery document fetched for {expected:?} names the issuer {issuer:?}; OpenID Connect Discovery 4.3 requires them to be identical, so the relying party must refuse the document. Okta names another issuer when the authorization server's Issuer setting is a custom domain while the relying party uses the Okta URL (or the reverse); otherwise the document is an impostor's."
        ),
    ))
}

fn display(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The keys of a key set the entry fetched.
fn jwks_document(entry: &HarEntry) -> Option<Vec<Value>> {
    if entry.method != "GET" {
        return None;
    }
    let document = json_answer(entry)?;
    let keys = document.get("keys")?.as_array()?;
    keys.iter().all(|key| key.get("kty").is_some()).then(|| keys.clone())
}

/// Every key of every key set fetched from the issuer's `jwks_uri` (the one
/// a discovery document of the file names, or Okta's `/v1/keys` when the
/// file holds no discovery document), so that an ID token is verified by
/// the keys the relying party had, whether it fetched them before or after
/// the token. A key set fetched from anywhere else (a token header's `jku`)
/// is not trusted.
fn har_key_set(har: &Har) -> Option<Value> {
    let named: Vec<String> = har
        .entries
        .iter()
        .filter_map(discovery_document)
        .filter_map(|document| document.get("jwks_uri").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let mut keys: Vec<Value> = Vec::new();
    let fetched = har.entries.iter().filter(|entry| {
        if named.is_empty() {
            entry.url.path().ends_with("/v1/keys")
        } else {
            named.contains(&without_query(&entry.url))
        }
    });
    // The same key comes back in every fetch; it is counted once.
    for key in fetched.filter_map(jwks_document).flatten() {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    (!keys.is_empty()).then(|| serde_json::json!({ "keys": keys }))
}

fn jwks_step(entry: &HarEntry, keys: &[Value], state: &mut FlowState) -> Step {
    let mut step = Step::new("OIDC JWKS");
    step.url = Some(without_query(&entry.url));
    let kids: Vec<String> =
        keys.iter().map(|key| key.get("kid").and_then(Value::as_str).unwrap_or("(no kid)").to_owned()).collect();
    step.fact("keys", format!("{} ({})", keys.len(), kids.join(", ")));
    if state.awaiting_refetch {
        state.refetches_for_unknown_kids += 1;
        state.awaiting_refetch = false;
    }
    step
}

/// The flood of attacks.md K-03: the relying party fetched the JWKS again
/// after every ID token whose kid no key set has, so whoever can get tokens
/// to it makes it hammer the provider.
fn flood_finding(steps: &mut [Step], state: &FlowState) {
    let (Some(index), refetches) = (state.last_jwks_step, state.refetches_for_unknown_kids) else {
        return;
    };
    if refetches < 2 || refetches < state.unknown_kid_tokens {
        return;
    }
    if let Some(step) = steps.get_mut(index) {
        step.findings.push(oidc_finding(
            OidcFault::UnknownKidPerToken,
            Side::Sp,
            format!(
                "{} ID tokens named kids no key set has, and the relying party fetched the JWKS again after each of them ({refetches} fetches): anyone who can get tokens to it makes it fetch once per token.",
                state.unknown_kid_tokens
            ),
        ));
    }
}

/// A userinfo answer: a 2xx JSON object with a sub, from the endpoint a
/// discovery document named or a path ending in `/userinfo`.
fn userinfo_answer(entry: &HarEntry, state: &FlowState) -> Option<serde_json::Map<String, Value>> {
    let endpoint = without_query(&entry.url);
    let is_userinfo =
        state.userinfo_endpoint.as_deref() == Some(endpoint.as_str()) || entry.url.path().ends_with("/userinfo");
    if !is_userinfo {
        return None;
    }
    json_answer(entry).filter(|answer| answer.get("sub").is_some())
}

fn userinfo_step(entry: &HarEntry, answer: &serde_json::Map<String, Value>, state: &FlowState) -> Step {
    let mut step = Step::new("OIDC userinfo response");
    step.url = Some(without_query(&entry.url));
    for name in ["sub", "email", "preferred_username", "name"] {
        if let Some(value) = answer.get(name) {
            step.fact(name, display(value));
        }
    }
    let sub = answer.get("sub").map(display).unwrap_or_default();
    match state.original.as_ref().and_then(|original| original.sub.clone()) {
        Some(original) if original != sub => step.findings.push(oidc_finding(
            OidcFault::UserinfoSubMismatch,
            Side::Okta,
            format!(
                "The userinfo answer is for the sub {sub:?}, but the ID token names {original:?}: Okta answers for the access token's own user, so this answer is another user's (a swapped access token or a substituted answer), and OpenID Connect Core 5.3.2 says the relying party must not use any of its claims."
            ),
        )),
        Some(_) => {}
        None => step.fact("sub compared with", "no ID token before it in the file"),
    }
    step
}

/// A token endpoint's answer: its ID token explained (as a refresh when the
/// request's grant says so), the original identity remembered, and a code
/// redeemed a second time named.
fn token_response_step(
    entry: &HarEntry,
    state: &mut FlowState,
    expect: &Expectations,
    now: OffsetDateTime,
) -> Result<Option<Step>, ExplainError> {
    let body: Option<Value> = entry.body.as_deref().and_then(|b| serde_json::from_str(b).ok());
    let id_token = body.as_ref().and_then(|b| b.get("id_token")).and_then(Value::as_str);
    let access_token = body.as_ref().and_then(|b| b.get("access_token")).and_then(Value::as_str);
    let form = |name: &str| entry.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if state.oidc_client.is_none() {
        state.oidc_client = form("client_id").or_else(|| basic_client_id(entry.authorization.as_deref()));
    }
    if state.oidc_issuer.is_none() {
        state.oidc_issuer = Some(okta_issuer(&entry.url, "/v1/token"));
    }
    let Some(id_token) = id_token else {
        return Ok(None);
    };
    let grant = form("grant_type");
    let refreshing = grant.as_deref() == Some("refresh_token");
    let mut step = token_step(entry, id_token, access_token, state, expect, now)?;
    if refreshing {
        step.title = "ID token (refresh grant)".to_owned();
        if let (Some(original), Some(refreshed)) = (&state.original, identity_of(id_token)) {
            refresh_findings(&mut step, original, &refreshed);
        }
    }
    if grant.as_deref() == Some("authorization_code")
        && (200..300).contains(&entry.status)
        && let Some(code) = form("code")
    {
        if state.redeemed_codes.contains(&code) {
            step.title = "ID token (authorization code redeemed again)".to_owned();
            step.findings.push(oidc_finding(
                OidcFault::CodeReuseAllowed,
                Side::Okta,
                "The token endpoint exchanged an authorization code it had already exchanged earlier in the file: the relying party took the same redirect back twice (a login's state, nonce and code must be used once), and the provider honoured a used code, which RFC 6749 4.1.2 forbids and Okta answers with invalid_grant.".to_owned(),
            ));
        } else {
            state.redeemed_codes.push(code);
        }
    }
    Ok(Some(step))
}

/// OpenID Connect Core 12.2: a refreshed ID token's iss and sub are the
/// original's.
fn refresh_findings(step: &mut Step, original: &Identity, refreshed: &Identity) {
    let shown = |value: &Option<String>| value.clone().unwrap_or_else(|| "(none)".to_owned());
    if refreshed.sub != original.sub {
        step.findings.push(oidc_finding(
            OidcFault::RefreshTokenChangesSub,
            Side::Okta,
            format!(
                "The refreshed ID token names the sub {}, but the original ID token named {}: OpenID Connect Core 12.2 requires the original sub, so the relying party must refuse it and end the session rather than sign in someone else.",
                shown(&refreshed.sub),
                shown(&original.sub)
            ),
        ));
    }
    if refreshed.iss != original.iss {
        step.findings.push(oidc_finding(
            OidcFault::RefreshTokenChangesIss,
            Side::Okta,
            format!(
                "The refreshed ID token names the issuer {}, but the original ID token named {}: OpenID Connect Core 12.2 requires the original iss, so the relying party must refuse it.",
                shown(&refreshed.iss),
                shown(&original.iss)
            ),
        ));
    }
}

/// The client id of HTTP Basic client authentication (RFC 6749 2.3.1: the
/// form-encoded client id, a colon, the secret).
fn basic_client_id(authorization: Option<&str>) -> Option<String> {
    use base64::Engine;
    let encoded = authorization?.strip_prefix("Basic ").or_else(|| authorization?.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (client, _) = text.split_once(':')?;
    Some(percent_decode(client))
}

/// The issuer of an Okta endpoint: `{issuer}{endpoint}`, where the org
/// server's issuer is the org URL itself, without its `/oauth2`.
fn okta_issuer(url: &url::Url, endpoint: &str) -> String {
    let path = url.path().trim_end_matches(endpoint);
    let path = path.strip_suffix("/oauth2").unwrap_or(path);
    format!("{}{path}", url.origin().ascii_serialization())
}

fn without_query(url: &url::Url) -> String {
    let mut bare = url.clone();
    bare.set_query(None);
    bare.set_fragment(None);
    bare.to_string()
}

fn authn_request_step(entry: &HarEntry, encoded: &str, binding: Binding, state: &mut FlowState) -> Step {
    let title = match binding {
        Binding::Redirect => "SAML AuthnRequest (HTTP-Redirect)",
        Binding::Post => "SAML AuthnRequest (HTTP-POST)",
    };
    let mut step = Step::new(title);
    step.url = Some(without_query(&entry.url));
    match authn_request::decode(encoded, binding).and_then(|xml| authn_request::parse(&xml)) {
        Ok(request) => {
            step.fact("ID", request.id.clone());
            step.fact("Issuer (SP entity id)", request.issuer.clone().unwrap_or_else(|| "(none)".into()));
            step.fact("AssertionConsumerServiceURL", request.acs_url.clone().unwrap_or_else(|| "(none)".into()));
            step.fact("Destination", request.destination.clone().unwrap_or_else(|| "(none)".into()));
            state.saml_request_id = Some(request.id);
            state.saml_issuer = request.issuer;
            state.saml_acs = request.acs_url;
        }
        Err(error) => step.findings.push(finding_by_id(
            "saml.sso.sp_initiated",
            Level::Fail,
            Side::Sp,
            format!("The SAMLRequest does not decode: {error}; Okta answers such a request with an error page."),
        )),
    }
    step
}

fn authorize_step(entry: &HarEntry, query: &[(String, String)], state: &mut FlowState) -> Step {
    let mut step = Step::new("OIDC authorization request");
    step.url = Some(without_query(&entry.url));
    for name in [
        "client_id",
        "response_type",
        "response_mode",
        "scope",
        "redirect_uri",
        "state",
        "nonce",
        "code_challenge_method",
    ] {
        if let Some((_, value)) = query.iter().find(|(k, _)| k == name) {
            step.fact(name, value.clone());
        }
    }
    let value = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    state.oidc_state = value("state");
    state.oidc_nonce = value("nonce");
    state.oidc_client = value("client_id");
    state.oidc_redirect = value("redirect_uri");
    // Okta's authorize endpoint is {issuer}/v1/authorize.
    state.oidc_issuer = Some(okta_issuer(&entry.url, "/v1/authorize"));
    if state.oidc_state.is_none() {
        step.findings.push(finding_by_id(
            "oidc.state.missing",
            Level::Fail,
            Side::Sp,
            "The relying party sent no state, so nothing binds the answer to this browser (login CSRF).".to_owned(),
        ));
    }
    step
}

/// The redirect back to the relying party: a request to the redirect URI
/// with `code`, `error` or `id_token`, in the query or a `form_post` body.
fn authorization_response_step(
    entry: &HarEntry,
    query: &[(String, String)],
    state: &FlowState,
    expect: &Expectations,
) -> Option<Step> {
    let redirect = state.oidc_redirect.as_deref()?;
    if without_query(&entry.url) != redirect && entry.url.as_str().split('?').next() != Some(redirect) {
        return None;
    }
    let pairs: Vec<(String, String)> = if entry.form.is_empty() { query.to_vec() } else { entry.form.clone() };
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut step = Step::new("OIDC authorization response");
    step.url = Some(redirect.to_owned());
    for name in ["code", "state", "iss", "error", "error_description"] {
        if let Some(found) = value(name) {
            step.fact(name, if name == "code" { "(present)".to_owned() } else { found });
        }
    }
    match (&state.oidc_state, value("state")) {
        (Some(sent), Some(back)) if *sent != back => step.findings.push(oidc_finding(
            OidcFault::StateMismatch,
            Side::Sp,
            format!("The state is {back:?}, but the relying party sent {sent:?}: the answer belongs to another login (another tab, or an injected code)."),
        )),
        (Some(sent), None) => step.findings.push(finding_by_id(
            "oidc.state.missing",
            Level::Fail,
            Side::Sp,
            format!("The relying party sent the state {sent:?}, but the answer carries none."),
        )),
        _ => {}
    }
    let issuer = expect.issuer.clone().or_else(|| state.oidc_issuer.clone());
    if let (Some(iss), Some(issuer)) = (value("iss"), issuer)
        && iss != issuer
    {
        step.findings.push(oidc_finding(
            OidcFault::AuthorizationResponseWrongIss,
            Side::Sp,
            format!("The answer's iss is {iss:?}, but the login went to {issuer:?}: a mix-up (RFC 9207); the relying party must refuse it."),
        ));
    }
    if let Some(error) = value("error") {
        step.findings.push(finding_by_id(
            "oidc.sso.sign_in",
            Level::Fail,
            Side::Okta,
            format!(
                "Okta refused the sign-in: {error} ({}); for access_denied, assign the user to the app in Okta, for invalid_scope or unauthorized_client check the app's grant types and the server's access policy.",
                value("error_description").unwrap_or_default()
            ),
        ));
    }
    Some(step)
}

/// An ID token of the flow, judged against what the flow said so far; the
/// key set the file holds verifies it when no `--jwks` was given.
fn token_step(
    entry: &HarEntry,
    id_token: &str,
    access_token: Option<&str>,
    state: &mut FlowState,
    expect: &Expectations,
    now: OffsetDateTime,
) -> Result<Step, ExplainError> {
    let refreshing = entry.form.iter().any(|(k, v)| k == "grant_type" && v == "refresh_token");
    let mut judged = expect.clone();
    judged.issuer = judged.issuer.or_else(|| state.oidc_issuer.clone());
    judged.audience = judged.audience.or_else(|| state.oidc_client.clone());
    // A refreshed ID token answers no authorization request, so it may
    // carry no nonce (OpenID Connect Core 12.2).
    judged.nonce = if refreshing { None } else { judged.nonce.or_else(|| state.oidc_nonce.clone()) };
    judged.access_token = judged.access_token.or_else(|| access_token.map(str::to_owned));
    let from_har = judged.jwks.is_none() && state.har_jwks.is_some();
    judged.jwks = judged.jwks.or_else(|| state.har_jwks.clone());
    let mut step = super::jwt::explain_token(id_token, &judged, now)?;
    step.url = Some(without_query(&entry.url));
    if from_har {
        step.fact("keys from", "the JWKS fetched in this file");
    }
    // The first ID token not from a refresh (from the token endpoint or,
    // in the implicit and hybrid flows, the redirect) is the original.
    if !refreshing && state.original.is_none() {
        state.original = identity_of(id_token);
    }
    if let Some(keys) = &judged.jwks
        && unknown_kid(id_token, keys)
    {
        state.unknown_kid_tokens += 1;
        state.awaiting_refetch = true;
    }
    Ok(step)
}

/// Who an ID token names, unverified (its rules are the token step's).
fn identity_of(token: &str) -> Option<Identity> {
    super::jwt::header_and_claims(token)
        .map(|(_, claims)| Identity { iss: claims.get("iss").map(display), sub: claims.get("sub").map(display) })
}

/// Whether the token's header names a kid that no key of `jwks` has.
fn unknown_kid(token: &str, jwks: &Value) -> bool {
    let Some((header, _)) = super::jwt::header_and_claims(token) else { return false };
    let Some(kid) = header.get("kid").and_then(Value::as_str) else { return false };
    let keys = jwks.get("keys").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    !keys.iter().any(|key| key.get("kid").and_then(Value::as_str) == Some(kid))
}
