//! Explaining a browser's HAR export: the SAML and OIDC messages are found
//! in the requests (an AuthnRequest in a query or form, a SAMLResponse
//! posted to the ACS, an `/authorize` request, the redirect back, a token
//! response the browser received), each explained in order, and what an
//! earlier step says becomes what a later one is judged against (the
//! AuthnRequest's ID for InResponseTo, its ACS URL and issuer, the OIDC
//! state, nonce and client id).

use mock_idp::oidc::faults::OidcFault;
use mock_idp::saml::authn_request::{self, Binding};
use serde::Deserialize;
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
                Ok(HarEntry { method: raw.request.method, url, form, status: raw.response.status, location, body })
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
}

/// Explains every SAML and OIDC message of the HAR file, in order.
pub fn explain_flow(har: &Har, expect: &Expectations, now: OffsetDateTime) -> Result<Vec<Step>, ExplainError> {
    let mut state = FlowState::default();
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
                steps.push(token_step(entry, &token, None, &state, expect, now)?);
            }
        } else if entry.method == "POST" && entry.url.path().ends_with("/token") {
            let body: Option<serde_json::Value> = entry.body.as_deref().and_then(|b| serde_json::from_str(b).ok());
            let id_token = body.as_ref().and_then(|b| b.get("id_token")).and_then(serde_json::Value::as_str);
            let access_token = body.as_ref().and_then(|b| b.get("access_token")).and_then(serde_json::Value::as_str);
            if let Some(id_token) = id_token {
                steps.push(token_step(entry, id_token, access_token, &state, expect, now)?);
            }
        }
    }
    if steps.is_empty() {
        return Err(ExplainError::EmptyHar);
    }
    Ok(steps)
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
    // Okta's authorize endpoint is {issuer}/v1/authorize; the org server's
    // issuer is the org URL itself, without its /oauth2.
    let path = entry.url.path().trim_end_matches("/v1/authorize");
    let path = path.strip_suffix("/oauth2").unwrap_or(path);
    state.oidc_issuer = Some(format!("{}{path}", entry.url.origin().ascii_serialization()));
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

fn token_step(
    entry: &HarEntry,
    id_token: &str,
    access_token: Option<&str>,
    state: &FlowState,
    expect: &Expectations,
    now: OffsetDateTime,
) -> Result<Step, ExplainError> {
    let mut judged = expect.clone();
    judged.issuer = judged.issuer.or_else(|| state.oidc_issuer.clone());
    judged.audience = judged.audience.or_else(|| state.oidc_client.clone());
    judged.nonce = judged.nonce.or_else(|| state.oidc_nonce.clone());
    judged.access_token = judged.access_token.or_else(|| access_token.map(str::to_owned));
    let mut step = super::jwt::explain_token(id_token, &judged, now)?;
    step.url = Some(without_query(&entry.url));
    Ok(step)
}
