//! `explain` over messages the mock mints: every SAML fault in
//! `SamlFault::all()` and every OIDC fault in `OidcFault::ALL` is named by
//! the catalogue's check for it, and a genuine message gives no finding.
//! Both lists are iterated, not copied, so a fault added later is covered,
//! or fails here with its name.

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

/// The rule explain names for a token fault whose catalogue check is a
/// scenario rather than one refused token (`None`: the token alone breaks
/// no rule).
fn scenario_fault_rule(fault: OidcFault) -> Option<Option<&'static str>> {
    match fault {
        // Its check counts JWKS fetches; the token alone names an unknown kid.
        OidcFault::UnknownKidPerToken => Some(Some("oidc.sig.unknown_kid")),
        // The token carries the impostor issuer.
        OidcFault::DiscoveryIssuerMismatch => Some(Some("oidc.claims.iss")),
        // Signed by the active key with no kid: a relying party that tries
        // each key of the JWKS verifies it, as it should.
        OidcFault::NoKidMultipleKeys => Some(None),
        _ => None,
    }
}

#[test]
fn explain_names_the_check_of_every_oidc_token_fault_the_mock_can_emit() {
    let mut missed = Vec::new();
    for &fault in OidcFault::ALL {
        if fault.stage() != FaultStage::Token {
            // Not in a token: the redirect, discovery document, userinfo
            // answer or refresh grant, judged from a HAR file's flow.
            continue;
        }
        let idp = deterministic_idp(false);
        let explanation = explain_minted(&idp, Some(fault));
        let expected = match (oidc_check_for(fault), scenario_fault_rule(fault)) {
            (Some(check), _) => Some(check.id),
            (None, Some(rule)) => rule,
            (None, None) => {
                missed.push(format!("{}: no check in the catalogue judges it", fault.name()));
                continue;
            }
        };
        match expected {
            Some(id) if !explanation.check_ids().contains(&id) => {
                missed.push(format!("{}: expected {id}, explain says {:?}", fault.name(), explanation.check_ids()))
            }
            None if explanation.breaks_a_rule() => {
                missed.push(format!("{}: breaks no rule, explain says {:?}", fault.name(), broken(&explanation)))
            }
            _ => {}
        }
    }
    assert!(missed.is_empty(), "explain missed faults:\n{}", missed.join("\n"));
}

/// The captured-style corpus of `fixtures/explain/` (its README says how
/// each file was made), explained as `mockta explain` would with the
/// metadata or JWKS beside it, at the mock's fixed clock.
fn corpus(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../fixtures/explain/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

const CORPUS_AT: &str = "2024-03-29T07:42:22.136Z";

fn corpus_expectations(name: &str) -> Expectations {
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
    for name in ["saml-genuine.xml", "id-token-genuine.jwt", "flow-genuine.har"] {
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

/// The faults of the redirect from `/authorize` are in no token: each is
/// armed on the running mock, the redirect it gives a browser is recorded
/// as a HAR file, and explain names the fault's check from the flow.
#[tokio::test]
async fn explain_names_the_check_of_every_oidc_authorize_fault_from_a_har_flow() {
    let mut missed = Vec::new();
    for &fault in OidcFault::ALL.iter().filter(|f| f.stage() == FaultStage::Authorize) {
        let idp = deterministic_idp(false);
        let server = mock_idp::http::RunningServer::start("127.0.0.1:0".parse().unwrap(), idp.clone()).await.unwrap();
        let url = server.url();
        idp.write_org(|org| org.url = url.clone());
        let (client, user) = idp.read_org(|org| {
            (org.find_app("reference-sp-oidc").unwrap().id.clone(), org.find_user(USER).unwrap().id.clone())
        });
        idp.arm_oidc_fault_on_server(
            OidcFaultPlan { fault, target: FaultTarget::IdToken },
            Some(ServerRef::Org),
            Some(user),
            Some(client.clone()),
        )
        .unwrap();
        let authorize = format!(
            "{url}/oauth2/v1/authorize?client_id={client}&response_type=code&scope=openid&state=state-sent-0001&nonce=nonce-sent-0001&redirect_uri=http%3A%2F%2F127.0.0.1%3A7100%2Foidc%2Fcallback%2Facme&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&login_hint={USER}"
        );
        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let answer = browser.get(&authorize).send().await.unwrap();
        let location = answer.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
        let Some(location) = location else {
            missed.push(format!("{}: /authorize answered {} without a redirect", fault.name(), answer.status()));
            continue;
        };
        let message = decode(&authorize_har(&authorize, &location)).unwrap();
        let explanation = explain(&message, &Expectations::default(), idp.now(), "--at").unwrap();
        let expected = match fault {
            // The code can be redeemed twice; a single flow shows nothing
            // wrong (its check replays the callback).
            OidcFault::CodeReuseAllowed => None,
            other => match oidc_check_for(other) {
                Some(check) => Some(check.id),
                None => {
                    missed.push(format!("{}: no check in the catalogue judges it", fault.name()));
                    continue;
                }
            },
        };
        match expected {
            Some(id) if !explanation.check_ids().contains(&id) => missed.push(format!(
                "{}: expected {id}, explain says {:?}\n{}",
                fault.name(),
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
