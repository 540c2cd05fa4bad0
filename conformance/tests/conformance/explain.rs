//! `explain` over messages the mock mints: every SAML fault in
//! `SamlFault::all()` and every OIDC fault in `OidcFault::ALL` is named by
//! the catalogue's check for it, and a genuine message gives no finding.
//! Both lists are iterated, not copied, so a fault added later is covered,
//! or fails here with its name. An OIDC fault is captured where it shows:
//! in the minted ID token, in the redirect from `/authorize` recorded as a
//! browser's HAR file, or in the back channel (discovery, JWKS, token
//! endpoint, userinfo, refresh) recorded as the relying party's HAR file
//! from the running mock with the fault armed.

use std::sync::Arc;

use conformance::catalogue::{Action, SamlAction};
use conformance::explain::input::{Message, decode};
use conformance::explain::metadata::parse_idp_metadata;
use conformance::explain::rules::{oidc_check_for, saml_check_for};
use conformance::explain::{Expectations, Explanation, Level, explain, render};
use mock_idp::idp::Idp;
use mock_idp::oidc::ServerRef;
use mock_idp::oidc::faults::{FaultStage, FaultTarget, OidcFault, OidcFaultPlan};
use mock_idp::saml::SamlFaultPlan;
use mock_idp::saml::encrypt::{BlockAlgorithm, EncryptionRecipient, KeyTransport};
use mock_idp::saml::faults::SamlFault;
use mock_idp::setup::IdpOptions;

/// The AuthnRequest every minted response answers, as the SP would have
/// stored it.
const REQUEST_ID: &str = "id_explain_request_0000000001";
const SAML_APP: &str = "reference-sp";
const USER: &str = "alice@acme.test";

/// The mock in deterministic mode (fixed keys, clock and ids), with the
/// SAML app encrypting assertions to the public test certificate when
/// `encrypting`, as the encryption faults need.
pub(crate) fn deterministic_idp(encrypting: bool) -> Arc<Idp> {
    let idp = Arc::new(IdpOptions { deterministic: true, ..IdpOptions::default() }.build().unwrap());
    if encrypting {
        let certificate_pem =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/keys/sp-encryption.cert.pem"))
                .unwrap();
        idp.write_org(|org| {
            let id = org.find_app(SAML_APP).unwrap().id.clone();
            org.apps.get_mut(&id).unwrap().saml_mut().unwrap().assertion_encryption = Some(EncryptionRecipient {
                certificate_pem,
                block: BlockAlgorithm::Aes256Gcm,
                transport: KeyTransport::RsaOaepMgf1p,
            });
        });
    }
    idp
}

/// What the SP of the SAML app expects: the app's IdP metadata (issuer and
/// certificate), its audience and ACS URL, and the request it sent.
pub(crate) fn saml_expectations(idp: &Idp) -> Expectations {
    let (app_id, audience, acs) = idp.read_org(|org| {
        let app = org.find_app(SAML_APP).unwrap();
        let saml = app.saml().unwrap();
        (app.id.to_string(), saml.audience.to_string(), saml.sso_url.to_string())
    });
    let metadata = parse_idp_metadata(&idp.metadata(&app_id).unwrap()).unwrap();
    Expectations {
        idp_entity_id: Some(metadata.entity_id),
        audience: Some(audience),
        acs_url: Some(acs),
        request_id: Some(REQUEST_ID.to_owned()),
        certificates: metadata.certificates,
        ..Expectations::default()
    }
}

pub(crate) fn mint_saml(idp: &Idp, fault: Option<SamlFault>) -> String {
    let plan = fault.map(|fault| SamlFaultPlan { fault, impersonate: None });
    idp.mint_saml(SAML_APP, USER, plan, Some(REQUEST_ID.to_owned())).unwrap().xml
}

fn explain_xml(idp: &Idp, xml: &str, expect: &Expectations) -> Explanation {
    let message = decode(xml).unwrap();
    assert!(matches!(message, Message::SamlResponse(_)));
    explain(&message, expect, idp.now(), "--at").unwrap()
}

fn broken(explanation: &Explanation) -> Vec<String> {
    explanation
        .steps
        .iter()
        .flat_map(|s| &s.findings)
        .filter(|f| f.level != Level::Note)
        .map(|f| f.check.clone())
        .collect()
}

#[test]
fn a_genuine_saml_response_gives_no_finding() {
    let idp = deterministic_idp(false);
    let expect = saml_expectations(&idp);
    let explanation = explain_xml(&idp, &mint_saml(&idp, None), &expect);
    assert!(explanation.check_ids().is_empty(), "{}", render::text(&explanation));
    assert!(!explanation.breaks_a_rule());
}

#[test]
fn explain_names_the_check_of_every_saml_fault_the_mock_can_emit() {
    let mut missed = Vec::new();
    for fault in SamlFault::all() {
        let idp = deterministic_idp(fault.needs_encryption());
        let expect = saml_expectations(&idp);
        let explanation = explain_xml(&idp, &mint_saml(&idp, Some(fault)), &expect);
        let Some(check) = saml_check_for(fault) else {
            missed.push(format!("{fault}: no check in the catalogue judges it"));
            continue;
        };
        let accepted = matches!(check.action, Action::Saml(SamlAction::AcceptFault(_)));
        if accepted {
            // A variant a correct SP accepts (a signing option, a skew inside
            // the tolerance) breaks no rule.
            if explanation.breaks_a_rule() {
                missed.push(format!("{fault}: accepted by {}, but explain says {:?}", check.id, broken(&explanation)));
            }
        } else if !explanation.check_ids().contains(&check.id) {
            missed.push(format!("{fault}: expected {}, explain says {:?}", check.id, explanation.check_ids()));
        }
    }
    assert!(missed.is_empty(), "explain missed faults:\n{}", missed.join("\n"));
}

/// What explain is given for a minted token: the issuer, client id and the
/// server's JWKS, and the access token minted with it (for at_hash).
fn oidc_expectations(idp: &Idp, server: &ServerRef, app: &str, issuer: &str, access_token: &str) -> Expectations {
    let client = idp.read_org(|org| org.find_app(app).unwrap().id.to_string());
    Expectations {
        issuer: Some(issuer.to_owned()),
        audience: Some(client),
        jwks: Some(idp.jwks(server).unwrap().0),
        access_token: Some(access_token.to_owned()),
        ..Expectations::default()
    }
}

/// The app and server a fault can be minted on: the ES256 fault needs the
/// ES256 server, which only the native app may use.
fn oidc_target(fault: Option<OidcFault>) -> (ServerRef, &'static str) {
    match fault {
        Some(OidcFault::Es256ZeroSignature) => (ServerRef::Custom("ausmocktaes256000001".to_owned()), "native-pkce"),
        _ => (ServerRef::Org, "reference-sp-oidc"),
    }
}

/// The nonce the relying party sent. `mint_tokens` sends none, so a token
/// carries none, and only the nonce faults are judged against one the
/// client is said to have sent.
const SENT_NONCE: &str = "nonce-the-client-sent";

fn explain_minted(idp: &Idp, fault: Option<OidcFault>) -> Explanation {
    let (server, app) = oidc_target(fault);
    let plan = fault.map(|fault| OidcFaultPlan { fault, target: FaultTarget::IdToken });
    let minted = idp.mint_tokens(&server, app, USER, plan).unwrap();
    let mut expect = oidc_expectations(idp, &server, app, &minted.issuer, &minted.access_token);
    if matches!(fault, Some(OidcFault::NonceMismatch | OidcFault::MissingNonce)) {
        expect.nonce = Some(SENT_NONCE.to_owned());
    }
    let message = decode(&minted.id_token).unwrap();
    assert!(matches!(message, Message::Jwt(_)));
    explain(&message, &expect, idp.now(), "--at").unwrap()
}

#[test]
fn a_genuine_id_token_gives_no_finding() {
    let idp = deterministic_idp(false);
    let explanation = explain_minted(&idp, None);
    assert!(explanation.check_ids().is_empty(), "{}", render::text(&explanation));
}

/// The captured-style corpus of `fixtures/explain/` (its README says how
/// each file was made), explained as `mockta explain` would with the
/// metadata or JWKS beside it, at the mock's fixed clock.
fn corpus(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../fixtures/explain/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

const CORPUS_AT: &str = "2024-03-29T07:42:22.136Z";

fn corpus_expectations(name: &str) -> Expectations {
    if name.starts_with("flow-back-channel") {
        // The relying party's own record holds the discovery document and
        // the JWKS it fetched: nothing else is needed.
        return Expectations::default();
    }
    if name.starts_with("flow-") {
        // What a support engineer has beside a HAR file: the app's metadata
        // and the issuer's JWKS; the rest comes from the flow itself.
        let metadata = parse_idp_metadata(&corpus("reference-sp.metadata.xml")).unwrap();
        return Expectations {
            idp_entity_id: Some(metadata.entity_id),
            certificates: metadata.certificates,
            jwks: Some(conformance::explain::metadata::parse_jwks(&corpus("org-server.jwks.json")).unwrap()),
            ..Expectations::default()
        };
    }
    if name.starts_with("id-token") {
        return Expectations {
            issuer: Some("http://127.0.0.1:7000".to_owned()),
            audience: Some("0oarefspoidc00000007".to_owned()),
            jwks: Some(conformance::explain::metadata::parse_jwks(&corpus("org-server.jwks.json")).unwrap()),
            ..Expectations::default()
        };
    }
    let metadata = parse_idp_metadata(&corpus("reference-sp.metadata.xml")).unwrap();
    Expectations {
        idp_entity_id: Some(metadata.entity_id),
        certificates: metadata.certificates,
        audience: Some("http://127.0.0.1:7100/sso/metadata/acme".to_owned()),
        acs_url: Some("http://127.0.0.1:7100/sso/acs/acme".to_owned()),
        request_id: Some("id_sp_request_0001".to_owned()),
        ..Expectations::default()
    }
}

pub(crate) fn explain_corpus(name: &str) -> Explanation {
    let at = time::OffsetDateTime::parse(CORPUS_AT, &time::format_description::well_known::Rfc3339).unwrap();
    explain(&decode(&corpus(name)).unwrap(), &corpus_expectations(name), at, "--at").unwrap()
}

const CORPUS: &[&str] = &[
    "saml-genuine.xml",
    "saml-idp-initiated.form",
    "saml-wrong-audience.html",
    "saml-expired.b64",
    "saml-xsw3.xml",
    "saml-unsigned.xml",
    "saml-comment-in-nameid.xml",
    "saml-status-responder.xml",
    "saml-wrong-recipient.xml",
    "saml-untrusted-key.xml",
    "saml-in-response-to-mismatch.xml",
    "saml-sha1.xml",
    "id-token-genuine.jwt",
    "id-token-alg-none.jwt",
    "id-token-wrong-aud.jwt",
    "id-token-expired.jwt",
    "id-token-embedded-jwk.jwt",
    "flow-genuine.har",
    "flow-faulty.har",
    "flow-back-channel-genuine.har",
    "flow-back-channel-faulty.har",
];

#[test]
fn the_corpus_is_explained_as_recorded() {
    for name in CORPUS {
        insta::assert_snapshot!(format!("explain_{name}"), render::text(&explain_corpus(name)));
    }
}

#[test]
fn the_json_report_names_each_finding_with_its_fix_and_side() {
    insta::assert_json_snapshot!(
        "explain_json_saml-wrong-audience",
        render::json(&explain_corpus("saml-wrong-audience.html"))
    );
}

#[test]
fn the_genuine_corpus_messages_break_no_rule() {
    for name in ["saml-genuine.xml", "id-token-genuine.jwt", "flow-genuine.har", "flow-back-channel-genuine.har"] {
        let explanation = explain_corpus(name);
        assert!(explanation.check_ids().is_empty(), "{name}: {}", render::text(&explanation));
    }
}

/// The HAR file's steps are judged by what earlier steps said: the
/// AuthnRequest's ID, the state and the client id.
#[test]
fn a_har_flow_is_judged_step_by_step_against_its_own_requests() {
    let explanation = explain_corpus("flow-faulty.har");
    let titles: Vec<&str> = explanation.steps.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "SAML AuthnRequest (HTTP-Redirect)",
            "SAML Response",
            "OIDC authorization request",
            "OIDC authorization response",
            "ID token"
        ]
    );
    let ids = explanation.check_ids();
    for expected in ["saml.cond.audience", "oidc.state.changed", "oidc.claims.iss"] {
        assert!(ids.contains(&expected), "{expected} missing from {ids:?}");
    }
}

/// The relying party's record of its back channel is judged with nothing
/// beside it: the issuer from the discovery URL, the client from its Basic
/// authentication, the keys from its JWKS fetch, and the original ID token
/// for userinfo and the refresh.
#[test]
fn a_back_channel_har_names_the_discovery_userinfo_and_refresh_rules() {
    let explanation = explain_corpus("flow-back-channel-faulty.har");
    let titles: Vec<&str> = explanation.steps.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(
        titles,
        ["OIDC discovery document", "OIDC JWKS", "ID token", "OIDC userinfo response", "ID token (refresh grant)"]
    );
    assert_eq!(
        explanation.check_ids(),
        ["oidc.discovery.issuer_mismatch", "oidc.userinfo.sub", "oidc.refresh.sub_changed"]
    );
    assert!(explanation.steps.iter().flat_map(|s| &s.findings).all(|f| f.side == conformance::explain::Side::Okta));
}

/// A HAR file of two requests: the `/authorize` request and the redirect
/// back to `location`, as a browser records them.
fn authorize_har(authorize: &str, location: &str) -> String {
    let entry = |url: &str, status: u16, location: Option<&str>| {
        serde_json::json!({
            "request": {"method": "GET", "url": url},
            "response": {
                "status": status,
                "headers": location.map(|l| vec![serde_json::json!({"name": "Location", "value": l})]).unwrap_or_default(),
                "content": {"text": ""}
            }
        })
    };
    serde_json::json!({"log": {"entries": [entry(authorize, 302, Some(location)), entry(location, 200, None)]}})
        .to_string()
}

/// How an OIDC fault reaches a support engineer: in the ID token the mock
/// mints, in the redirect from `/authorize` a browser records, or in the
/// back-channel exchanges (discovery, JWKS, token endpoint, userinfo) that
/// only a proxy's or the relying party's own HAR holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Capture {
    MintedToken,
    AuthorizeRedirect,
    BackChannel,
}

/// Where each fault is seen. The match is on the fault's stage, so a new
/// stage must say how it is captured before this file compiles.
fn capture_of(fault: OidcFault) -> Capture {
    match fault.stage() {
        FaultStage::Token => match fault {
            // Their checks are scenarios over several exchanges: the JWKS
            // fetched again after every token with an unknown kid, and the
            // discovery document naming the impostor the tokens carry.
            OidcFault::UnknownKidPerToken | OidcFault::DiscoveryIssuerMismatch => Capture::BackChannel,
            _ => Capture::MintedToken,
        },
        // A code redeemed twice shows at the token endpoint, not in the redirect.
        FaultStage::Authorize if fault == OidcFault::CodeReuseAllowed => Capture::BackChannel,
        FaultStage::Authorize => Capture::AuthorizeRedirect,
        FaultStage::RefreshToken | FaultStage::Discovery | FaultStage::Userinfo => Capture::BackChannel,
    }
}

/// Every OIDC fault the mock can emit, captured where it shows, is named
/// by the catalogue's check for it; none is left out.
#[tokio::test]
async fn explain_names_the_check_of_every_oidc_fault_the_mock_can_emit() {
    let mut missed = Vec::new();
    for &fault in OidcFault::ALL {
        let explanation = match capture_of(fault) {
            Capture::MintedToken => explain_minted(&deterministic_idp(false), Some(fault)),
            Capture::AuthorizeRedirect => match explain_authorize_redirect(fault).await {
                Ok(explanation) => explanation,
                Err(why) => {
                    missed.push(format!("{}: {why}", fault.name()));
                    continue;
                }
            },
            Capture::BackChannel => explain_back_channel(Some(fault)).await,
        };
        let expected = match (oidc_check_for(fault), fault) {
            (Some(check), _) => Some(check.id),
            // No check on purpose (catalogue/oidc.rs): a validly signed
            // token without a kid may be accepted, so it breaks no rule.
            (None, OidcFault::NoKidMultipleKeys) => None,
            (None, _) => {
                missed.push(format!("{}: no check in the catalogue judges it", fault.name()));
                continue;
            }
        };
        match expected {
            Some(id) if !explanation.check_ids().contains(&id) => missed.push(format!(
                "{} ({:?}): expected {id}, explain says {:?}\n{}",
                fault.name(),
                capture_of(fault),
                explanation.check_ids(),
                render::text(&explanation)
            )),
            None if explanation.breaks_a_rule() => {
                missed.push(format!("{}: breaks no rule, explain says {:?}", fault.name(), broken(&explanation)))
            }
            _ => {}
        }
    }
    assert!(missed.is_empty(), "explain missed faults:\n{}", missed.join("\n"));
}

/// A customer who pastes only the ID token of a scenario fault still hears
/// what the token shows: a kid in no key set, or an issuer that is not the
/// one the relying party was given.
#[test]
fn the_token_of_a_scenario_fault_alone_names_what_it_shows() {
    for (fault, shown) in [
        (OidcFault::UnknownKidPerToken, "oidc.sig.unknown_kid"),
        (OidcFault::DiscoveryIssuerMismatch, "oidc.claims.iss"),
    ] {
        let explanation = explain_minted(&deterministic_idp(false), Some(fault));
        assert!(explanation.check_ids().contains(&shown), "{}: {:?}", fault.name(), explanation.check_ids());
    }
}

/// The fault is armed on the running mock, the redirect `/authorize` gives
/// a browser is recorded as a HAR file, and explain judges the flow.
async fn explain_authorize_redirect(fault: OidcFault) -> Result<Explanation, String> {
    let idp = deterministic_idp(false);
    let server = mock_idp::http::RunningServer::start("127.0.0.1:0".parse().unwrap(), idp.clone()).await.unwrap();
    let url = server.url();
    idp.write_org(|org| org.url = url.clone());
    let (client, user) =
        idp.read_org(|org| (org.find_app(OIDC_APP).unwrap().id.clone(), org.find_user(USER).unwrap().id.clone()));
    idp.arm_oidc_fault_on_server(
        OidcFaultPlan { fault, target: FaultTarget::IdToken },
        Some(ServerRef::Org),
        Some(user),
        Some(client.clone()),
    )
    .unwrap();
    let authorize = format!(
        "{url}/oauth2/v1/authorize?client_id={client}&response_type=code&scope=openid&state=state-sent-0001&nonce=nonce-sent-0001&redirect_uri=http%3A%2F%2F127.0.0.1%3A7100%2Foidc%2Fcallback%2Facme&code_challenge={PKCE_CHALLENGE}&code_challenge_method=S256&login_hint={USER}"
    );
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = browser.get(&authorize).send().await.unwrap();
    let location = answer.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
    let Some(location) = location else {
        return Err(format!("/authorize answered {} without a redirect", answer.status()));
    };
    let message = decode(&authorize_har(&authorize, &location)).unwrap();
    Ok(explain(&message, &Expectations::default(), idp.now(), "--at").unwrap())
}

const OIDC_APP: &str = "reference-sp-oidc";
/// The client secret of `reference-sp-oidc` in `fixtures/orgs/acme.toml`
/// (a public test value), for HTTP Basic client authentication.
const OIDC_SECRET: &str = "mockta-dev-oidc-secret";
const REDIRECT_URI: &str = "http://127.0.0.1:7100/oidc/callback/acme";
/// RFC 7636's example verifier and its S256 challenge.
const PKCE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const PKCE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// How many sign-ins the JWKS flood makes, each followed by a refetch.
const FLOOD_SIGN_INS: usize = 3;

/// One request and its answer, as a HAR entry records them.
struct Exchange {
    status: u16,
    location: Option<String>,
    body: String,
}

/// The relying party's own HTTP client, recording what it sends and gets
/// as a HAR file, as a proxy between it and the provider would.
struct Recorder {
    client: reqwest::Client,
    entries: Vec<serde_json::Value>,
}

impl Recorder {
    fn new() -> Recorder {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Recorder { client, entries: Vec::new() }
    }

    async fn send(
        &mut self,
        method: &str,
        url: &str,
        form: &[(&str, &str)],
        authorization: Option<String>,
        record: bool,
    ) -> Exchange {
        let mut request = if method == "POST" { self.client.post(url).form(form) } else { self.client.get(url) };
        if let Some(value) = &authorization {
            request = request.header("Authorization", value);
        }
        let answer = request.send().await.unwrap();
        let status = answer.status().as_u16();
        let location = answer.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
        let body = answer.text().await.unwrap();
        if record {
            let headers: Vec<serde_json::Value> = authorization
                .iter()
                .map(|value| serde_json::json!({"name": "Authorization", "value": value}))
                .collect();
            let mut request = serde_json::json!({"method": method, "url": url, "headers": headers});
            if method == "POST" {
                let text = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
                request["postData"] =
                    serde_json::json!({"mimeType": "application/x-www-form-urlencoded", "text": text});
            }
            let response_headers: Vec<serde_json::Value> =
                location.iter().map(|value| serde_json::json!({"name": "Location", "value": value})).collect();
            self.entries.push(serde_json::json!({
                "request": request,
                "response": {"status": status, "headers": response_headers, "content": {"text": body}}
            }));
        }
        Exchange { status, location, body }
    }

    fn har(&self) -> String {
        serde_json::json!({"log": {"version": "1.2", "entries": self.entries}}).to_string()
    }
}

fn basic(client: &str, secret: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{client}:{secret}")))
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// The back channel of a confidential client's sign-in with the fault
/// armed on the running mock, recorded on the relying party's side: the
/// discovery document, the JWKS, the code exchanged (twice for
/// `code-reuse-allowed`; with a JWKS refetch after each token for
/// `unknown-kid-per-token`, over several sign-ins), userinfo and a refresh
/// grant. The browser's `/authorize` request is made but not recorded, so
/// explain has only what the relying party's server saw.
async fn back_channel_har(fault: Option<OidcFault>) -> (Arc<Idp>, String) {
    let idp = deterministic_idp(false);
    let server = mock_idp::http::RunningServer::start("127.0.0.1:0".parse().unwrap(), idp.clone()).await.unwrap();
    let url = server.url();
    idp.write_org(|org| org.url = url.clone());
    let (client, user) =
        idp.read_org(|org| (org.find_app(OIDC_APP).unwrap().id.clone(), org.find_user(USER).unwrap().id.clone()));
    let arm = || {
        if let Some(fault) = fault {
            idp.arm_oidc_fault_on_server(
                OidcFaultPlan { fault, target: FaultTarget::IdToken },
                Some(ServerRef::Org),
                Some(user.clone()),
                Some(client.clone()),
            )
            .unwrap();
        }
    };
    let flood = fault == Some(OidcFault::UnknownKidPerToken);
    if !flood {
        arm();
    }
    let mut recorder = Recorder::new();
    let discovery = recorder.send("GET", &format!("{url}/.well-known/openid-configuration"), &[], None, true).await;
    let discovery = json(&discovery.body);
    let field = |name: &str| discovery[name].as_str().unwrap().to_owned();
    let (jwks_uri, token_endpoint, userinfo_endpoint) =
        (field("jwks_uri"), field("token_endpoint"), field("userinfo_endpoint"));
    recorder.send("GET", &jwks_uri, &[], None, true).await;
    let authorization = basic(client.as_str(), OIDC_SECRET);
    let mut tokens = serde_json::Value::Null;
    for _ in 0..if flood { FLOOD_SIGN_INS } else { 1 } {
        if flood {
            arm();
        }
        let authorize = format!(
            "{url}/oauth2/v1/authorize?client_id={client}&response_type=code&scope=openid%20profile%20email%20offline_access&state=state-sent-0001&nonce=nonce-sent-0001&redirect_uri={}&code_challenge={PKCE_CHALLENGE}&code_challenge_method=S256&login_hint={USER}",
            url_encode(REDIRECT_URI)
        );
        let redirect = recorder.send("GET", &authorize, &[], None, false).await;
        let location = url::Url::parse(&redirect.location.expect("/authorize redirects back")).unwrap();
        let code = location.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).unwrap();
        let exchange = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", PKCE_VERIFIER),
        ];
        let answer = recorder.send("POST", &token_endpoint, &exchange, Some(authorization.clone()), true).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        tokens = json(&answer.body);
        if fault == Some(OidcFault::CodeReuseAllowed) {
            recorder.send("POST", &token_endpoint, &exchange, Some(authorization.clone()), true).await;
        }
        if flood {
            recorder.send("GET", &jwks_uri, &[], None, true).await;
        }
    }
    let access_token = tokens["access_token"].as_str().unwrap().to_owned();
    recorder.send("GET", &userinfo_endpoint, &[], Some(format!("Bearer {access_token}")), true).await;
    let refresh_token = tokens["refresh_token"].as_str().expect("offline_access gives a refresh token").to_owned();
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", refresh_token.as_str())];
    let answer = recorder.send("POST", &token_endpoint, &refresh, Some(authorization), true).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    if let Some(fault) = fault {
        assert!(
            idp.armed_oidc_faults().is_empty() || fault == OidcFault::DiscoveryIssuerMismatch,
            "{} was never applied",
            fault.name()
        );
    }
    drop(server);
    (idp, recorder.har())
}

/// Explains the back channel recorded with `fault` armed, given nothing
/// but the file: the issuer, client and keys come from the flow itself.
async fn explain_back_channel(fault: Option<OidcFault>) -> Explanation {
    let (idp, har) = back_channel_har(fault).await;
    let message = decode(&har).unwrap();
    assert!(matches!(message, Message::Har(_)));
    explain(&message, &Expectations::default(), idp.now(), "--at").unwrap()
}

/// A correct provider's back channel breaks no rule, and each exchange is
/// one step, the refreshed ID token judged as such.
#[tokio::test]
async fn a_genuine_back_channel_flow_gives_no_finding() {
    let explanation = explain_back_channel(None).await;
    assert!(explanation.check_ids().is_empty(), "{}", render::text(&explanation));
    let titles: Vec<&str> = explanation.steps.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(
        titles,
        ["OIDC discovery document", "OIDC JWKS", "ID token", "OIDC userinfo response", "ID token (refresh grant)"]
    );
    let token = &explanation.steps[2];
    assert!(token.facts.contains(&("signature".to_owned(), "verified by the JWKS key".to_owned())), "{token:?}");
}

/// A relying party that redeems a code twice against a correct provider
/// gets invalid_grant the second time: no token was issued twice, so
/// explain names no replay.
#[tokio::test]
async fn a_code_refused_the_second_time_is_not_a_replay() {
    let idp = deterministic_idp(false);
    let server = mock_idp::http::RunningServer::start("127.0.0.1:0".parse().unwrap(), idp.clone()).await.unwrap();
    let url = server.url();
    idp.write_org(|org| org.url = url.clone());
    let client = idp.read_org(|org| org.find_app(OIDC_APP).unwrap().id.clone());
    let mut recorder = Recorder::new();
    let authorize = format!(
        "{url}/oauth2/v1/authorize?client_id={client}&response_type=code&scope=openid&state=s&redirect_uri={}&login_hint={USER}",
        url_encode(REDIRECT_URI)
    );
    let redirect = recorder.send("GET", &authorize, &[], None, false).await;
    let location = url::Url::parse(&redirect.location.unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).unwrap();
    let exchange = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT_URI)];
    let token_endpoint = format!("{url}/oauth2/v1/token");
    let authorization = basic(client.as_str(), OIDC_SECRET);
    assert_eq!(recorder.send("POST", &token_endpoint, &exchange, Some(authorization.clone()), true).await.status, 200);
    assert_eq!(recorder.send("POST", &token_endpoint, &exchange, Some(authorization), true).await.status, 400);
    let explanation = explain(&decode(&recorder.har()).unwrap(), &Expectations::default(), idp.now(), "--at").unwrap();
    assert!(!explanation.breaks_a_rule(), "{}", render::text(&explanation));
}

/// A discovery document pasted on its own is judged against `--issuer`.
#[test]
fn a_pasted_discovery_document_is_judged_against_the_issuer_given() {
    let idp = deterministic_idp(false);
    let document =
        idp.discovery(&ServerRef::Org, mock_idp::oidc::discovery::DocumentKind::OpenIdConfiguration).unwrap();
    let issuer = document["issuer"].as_str().unwrap().to_owned();
    let message = decode(&document.to_string()).unwrap();
    assert!(matches!(message, Message::Discovery(_)));
    let judged = |issuer: &str| {
        let expect = Expectations { issuer: Some(issuer.to_owned()), ..Expectations::default() };
        explain(&message, &expect, idp.now(), "--at").unwrap()
    };
    assert!(judged(&issuer).check_ids().is_empty());
    assert_eq!(judged("https://acme.okta.com/oauth2/default").check_ids(), ["oidc.discovery.issuer_mismatch"]);
}

/// Every shape a customer may paste decodes to the same message.
#[test]
fn each_pasted_shape_decodes_to_its_message() {
    let xml = corpus("saml-genuine.xml");
    let base64 = mock_idp::saml::form::base64(&xml);
    let token = corpus("id-token-genuine.jwt").trim().to_owned();
    let saml_shapes = [
        xml.clone(),
        base64.clone(),
        format!("SAMLResponse={}&RelayState=%2F", url_encode(&base64)),
        mock_idp::saml::form::render("http://127.0.0.1:7100/sso/acs/acme", &xml, "/"),
    ];
    for shape in saml_shapes {
        assert!(matches!(decode(&shape).unwrap(), Message::SamlResponse(found) if found.trim() == xml.trim()));
    }
    let token_shapes = [
        token.clone(),
        format!("id_token={token}&state=s"),
        serde_json::json!({"token_type": "Bearer", "id_token": token}).to_string(),
    ];
    for shape in token_shapes {
        assert!(matches!(decode(&shape).unwrap(), Message::Jwt(found) if found == token), "{shape}");
    }
    assert!(matches!(decode(&corpus("flow-genuine.har")).unwrap(), Message::Har(_)));
    for bad in ["", "   ", "{\"not\": \"a har\"}", "<html><body>no form</body></html>", "bm90IFhNTA=="] {
        assert!(decode(bad).is_err(), "{bad:?} decoded");
    }
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
