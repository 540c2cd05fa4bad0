//! Each ACS validation rule: the correct SP refuses the bad message with the
//! rule's code and gives no session; the matching flaw accepts it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reference_sp::flaws::Flaw;
use time::{Duration, OffsetDateTime};

use crate::support::{Harness, Signing, Spec};

/// One rule: how to break a valid response, the code the correct SP answers
/// with, and the flaw that lets it through.
struct Rule {
    name: &'static str,
    code: &'static str,
    flaw: Flaw,
    message: fn(&str) -> String,
}

fn spec_rule(change: fn(&mut Spec)) -> impl Fn(&str) -> String {
    move |email| {
        let mut spec = Spec::valid(email);
        change(&mut spec);
        spec.encoded()
    }
}

/// The XSW3 arrangement: an edited, unsigned copy of the assertion with a
/// new ID, put before the signed original.
fn xsw3(email: &str) -> String {
    let mut spec = Spec::valid("genuine.user@acme.test");
    spec.signing = Signing::Assertion;
    let xml = spec.xml();
    let start = xml.find("<saml:Assertion").unwrap();
    let end = xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let original = &xml[start..end];
    let mut evil = original.replace("genuine.user@acme.test", email).replacen(&spec.assertion_id, "_evil_assertion", 1);
    let sig_start = evil.find("<ds:Signature").unwrap();
    let sig_end = evil.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    evil.replace_range(sig_start..sig_end, "");
    BASE64.encode(format!("{}{}{}", &xml[..start], evil, &xml[start..]))
}

/// Sign `{email}.attacker.invalid`, then put a comment before the suffix.
fn comment_in_name_id(email: &str) -> String {
    let spec = Spec::valid(&format!("{email}.attacker.invalid"));
    let xml = spec.xml().replace(&format!(">{email}.attacker.invalid<"), &format!(">{email}<!---->.attacker.invalid<"));
    BASE64.encode(xml)
}

/// A valid signed response with an unsigned assertion for `email` appended.
fn appended(email: &str) -> String {
    let mut spec = Spec::valid("genuine.user@acme.test");
    spec.signing = Signing::Assertion;
    let xml = spec.xml();
    let start = xml.find("<saml:Assertion").unwrap();
    let end = xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let mut evil =
        xml[start..end].replace("genuine.user@acme.test", email).replacen(&spec.assertion_id, "_appended_assertion", 1);
    let sig_start = evil.find("<ds:Signature").unwrap();
    let sig_end = evil.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    evil.replace_range(sig_start..sig_end, "");
    BASE64.encode(format!("{}{}{}", &xml[..end], evil, &xml[end..]))
}

/// Signed for someone else, then the NameID changed to `email`.
fn tampered(email: &str) -> String {
    let xml = Spec::valid("someone.else@acme.test").xml().replace(">someone.else@acme.test<", &format!(">{email}<"));
    BASE64.encode(xml)
}

fn doctype(email: &str) -> String {
    let xml = Spec::valid(email).xml();
    let body = match xml.find("<samlp:Response") {
        Some(at) => xml[at..].to_owned(),
        None => xml,
    };
    BASE64.encode(format!("<?xml version=\"1.0\"?><!DOCTYPE samlp:Response [<!ENTITY x \"x\">]>{body}"))
}

fn rules() -> Vec<Rule> {
    vec![
        Rule {
            name: "unsigned",
            code: "saml.unsigned",
            flaw: Flaw::AcceptUnsigned,
            message: |e| spec_rule(|s| s.signing = Signing::None)(e),
        },
        Rule {
            name: "untrusted key",
            code: "saml.signature_invalid",
            flaw: Flaw::TrustKeyinfoCert,
            message: |e| spec_rule(|s| s.signed_by_other_key = true)(e),
        },
        Rule {
            name: "sha1",
            code: "saml.algorithm_not_allowed",
            flaw: Flaw::AcceptSha1,
            message: |e| spec_rule(|s| s.sha1 = true)(e),
        },
        Rule {
            name: "wrong audience",
            code: "saml.audience_mismatch",
            flaw: Flaw::IgnoreAudience,
            message: |e| spec_rule(|s| s.audience = Some("http://other.test".into()))(e),
        },
        Rule {
            name: "missing audience",
            code: "saml.audience_mismatch",
            flaw: Flaw::IgnoreAudience,
            message: |e| spec_rule(|s| s.audience = None)(e),
        },
        Rule {
            name: "wrong recipient",
            code: "saml.recipient_mismatch",
            flaw: Flaw::IgnoreRecipient,
            message: |e| spec_rule(|s| s.recipient = "http://evil.test/acs".into())(e),
        },
        Rule {
            name: "wrong destination",
            code: "saml.destination_mismatch",
            flaw: Flaw::IgnoreDestination,
            message: |e| spec_rule(|s| s.destination = "http://evil.test/acs".into())(e),
        },
        Rule {
            name: "expired",
            code: "saml.expired",
            flaw: Flaw::IgnoreTime,
            message: |e| {
                spec_rule(|s| {
                    s.not_before = OffsetDateTime::now_utc() - Duration::hours(2);
                    s.not_on_or_after = OffsetDateTime::now_utc() - Duration::hours(1);
                })(e)
            },
        },
        Rule {
            name: "not yet valid",
            code: "saml.not_yet_valid",
            flaw: Flaw::IgnoreTime,
            message: |e| spec_rule(|s| s.not_before = OffsetDateTime::now_utc() + Duration::hours(1))(e),
        },
        Rule {
            name: "wrong issuer",
            code: "saml.issuer_mismatch",
            flaw: Flaw::IgnoreIssuer,
            message: |e| spec_rule(|s| s.issuer = "http://other-idp.test".into())(e),
        },
        Rule {
            name: "status responder",
            code: "saml.status_not_success",
            flaw: Flaw::IgnoreStatus,
            message: |e| spec_rule(|s| s.status = "urn:oasis:names:tc:SAML:2.0:status:Responder".into())(e),
        },
        Rule { name: "xsw3", code: "saml.assertion_count", flaw: Flaw::ReadFirstAssertion, message: xsw3 },
        Rule {
            name: "xsw3 read as the first child",
            code: "saml.assertion_count",
            flaw: Flaw::ReadRootAssertion,
            message: xsw3,
        },
        Rule {
            name: "unsigned assertion appended",
            code: "saml.assertion_count",
            flaw: Flaw::ReadLastAssertion,
            message: appended,
        },
        Rule {
            name: "changed after signing",
            code: "saml.signature_invalid",
            flaw: Flaw::IgnoreSignatureErrors,
            message: tampered,
        },
        Rule { name: "doctype", code: "saml.doctype", flaw: Flaw::AllowDoctype, message: doctype },
    ]
}

#[tokio::test]
async fn correct_sp_refuses_each_bad_message_and_flaw_accepts_it() {
    let correct = Harness::start(&[]).await;
    for (index, rule) in rules().into_iter().enumerate() {
        let email = format!("rule{index}@acme.test");
        let browser = correct.browser();
        let outcome = correct.post(&browser, &(rule.message)(&email), None).await;
        assert_eq!(outcome.code.as_deref(), Some(rule.code), "{}: {outcome:?}", rule.name);
        assert!(outcome.status >= 400 && outcome.status < 500, "{}", rule.name);
        assert!(correct.whoami(&browser).await.is_none(), "{}: no session", rule.name);

        let flawed = Harness::start(&[rule.flaw]).await;
        let browser = flawed.browser();
        let outcome = flawed.post(&browser, &(rule.message)(&email), None).await;
        assert!(outcome.signed_in(), "{} with --flaw {}: {outcome:?}", rule.name, rule.flaw);
        let who = flawed.whoami(&browser).await.unwrap();
        assert_eq!(who["email"], email.as_str(), "{}", rule.name);
    }
}

#[tokio::test]
async fn valid_response_signs_in_for_every_signing_mode() {
    let sp = Harness::start(&[]).await;
    for signing in [Signing::Both, Signing::Response, Signing::Assertion] {
        let browser = sp.browser();
        let email = format!("{signing:?}@acme.test").to_lowercase();
        let mut spec = Spec::valid(&email);
        spec.signing = signing;
        let outcome = sp.post(&browser, &spec.encoded(), None).await;
        assert!(outcome.signed_in(), "{signing:?}: {outcome:?}");
        assert_eq!(outcome.location.as_deref(), Some("/welcome"));
        let who = sp.whoami(&browser).await.unwrap();
        assert_eq!(who["email"], email.as_str());
        assert_eq!(who["groups"][0], "Engineering");
        assert_eq!(who["name"], "Test User");
    }
}

#[tokio::test]
async fn signing_mode_flaws_refuse_the_mode_they_break() {
    for (flaw, refused) in [
        (Flaw::RequireSignedResponse, Signing::Assertion),
        (Flaw::RequireSignedAssertion, Signing::Response),
        (Flaw::RejectTwoSignatures, Signing::Both),
    ] {
        let sp = Harness::start(&[flaw]).await;
        for signing in [Signing::Both, Signing::Response, Signing::Assertion] {
            let mut spec = Spec::valid(&format!("{signing:?}@acme.test").to_lowercase());
            spec.signing = signing;
            let outcome = sp.post(&sp.browser(), &spec.encoded(), None).await;
            assert_eq!(outcome.signed_in(), signing != refused, "--flaw {flaw}, {signing:?}: {outcome:?}");
            if signing == refused {
                assert_eq!(outcome.code.as_deref(), Some("saml.signature_structure"));
            }
        }
    }
}

#[tokio::test]
async fn comment_in_name_id_cannot_truncate_the_identity() {
    let correct = Harness::start(&[]).await;
    let browser = correct.browser();
    let outcome = correct.post(&browser, &comment_in_name_id("victim@acme.test"), None).await;
    // The whole text is read, which is outside the tenant's domain.
    assert_eq!(outcome.code.as_deref(), Some("account.domain_not_allowed"), "{outcome:?}");

    let flawed = Harness::start(&[Flaw::NameidFirstTextNode]).await;
    let browser = flawed.browser();
    assert!(flawed.post(&browser, &comment_in_name_id("victim@acme.test"), None).await.signed_in());
    assert_eq!(flawed.whoami(&browser).await.unwrap()["email"], "victim@acme.test");
}

#[tokio::test]
async fn skew_inside_tolerance_accepted_outside_refused() {
    let sp = Harness::start(&[]).await;
    let mut inside = Spec::valid("skew.inside@acme.test");
    inside.not_before = OffsetDateTime::now_utc() + Duration::seconds(120);
    assert!(sp.post(&sp.browser(), &inside.encoded(), None).await.signed_in());
    let mut outside = Spec::valid("skew.outside@acme.test");
    outside.not_before = OffsetDateTime::now_utc() + Duration::seconds(240);
    assert_eq!(sp.post(&sp.browser(), &outside.encoded(), None).await.code.as_deref(), Some("saml.not_yet_valid"));

    let strict = Harness::start(&[Flaw::ZeroClockSkew]).await;
    let mut inside = Spec::valid("skew.inside@acme.test");
    inside.not_before = OffsetDateTime::now_utc() + Duration::seconds(120);
    assert_eq!(
        strict.post(&strict.browser(), &inside.encoded(), None).await.code.as_deref(),
        Some("saml.not_yet_valid")
    );
}

#[tokio::test]
async fn replay_refused_until_expiry_unless_no_replay_cache() {
    let correct = Harness::start(&[]).await;
    let message = Spec::valid("replay@acme.test").encoded();
    assert!(correct.post(&correct.browser(), &message, None).await.signed_in());
    let second = correct.browser();
    assert_eq!(correct.post(&second, &message, None).await.code.as_deref(), Some("saml.replay"));
    assert!(correct.whoami(&second).await.is_none());

    let flawed = Harness::start(&[Flaw::NoReplayCache]).await;
    assert!(flawed.post(&flawed.browser(), &message, None).await.signed_in());
    assert!(flawed.post(&flawed.browser(), &message, None).await.signed_in());
}

#[tokio::test]
async fn sha1_accepted_only_when_tenant_opts_in() {
    let sp = Harness::start(&[]).await;
    let browser = sp.browser();
    let mut spec = Spec::valid("sha1.user@acme.test");
    spec.sha1 = true;
    assert_eq!(sp.post(&browser, &spec.encoded(), None).await.code.as_deref(), Some("saml.algorithm_not_allowed"));
    let response = sp
        .admin(&browser, reqwest::Method::PATCH, "/admin/tenants/acme/settings")
        .json(&serde_json::json!({"allow_sha1": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    spec.assertion_id = crate::support::unique_id();
    assert!(sp.post(&browser, &spec.encoded(), None).await.signed_in());
}

#[tokio::test]
async fn settings_change_with_a_bad_value_is_refused_and_writes_nothing() {
    let sp = Harness::start(&[]).await;
    let browser = sp.browser();
    let settings = || sp.admin(&browser, reqwest::Method::GET, "/admin/tenants/acme/settings").send();
    let before: serde_json::Value = settings().await.unwrap().json().await.unwrap();
    for body in [
        serde_json::json!({"allow_sha1": true, "clock_skew_seconds": 601}),
        serde_json::json!({"allow_sha1": true, "default_relay_state": "https://attacker.invalid/"}),
        serde_json::json!({"allow_sha1": true, "no_such_setting": 1}),
    ] {
        let response = sp
            .admin(&browser, reqwest::Method::PATCH, "/admin/tenants/acme/settings")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(response.headers()["x-error-code"], "request.invalid", "{body}");
    }
    let after: serde_json::Value = settings().await.unwrap().json().await.unwrap();
    assert_eq!(after, before);
}

async fn outstanding_request_id(sp: &Harness, browser: &reqwest::Client) -> String {
    let response = browser.get(sp.url("/login?tenant=acme")).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = reqwest::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let encoded = location.query_pairs().find(|(k, _)| k == "SAMLRequest").unwrap().1.into_owned();
    let deflated = BASE64.decode(encoded).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut flate2::read::DeflateDecoder::new(deflated.as_slice()), &mut xml).unwrap();
    let start = xml.find(" ID=\"").unwrap() + 5;
    xml[start..start + xml[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn in_response_to_must_match_this_browsers_request() {
    let correct = Harness::start(&[]).await;
    let alice_browser = correct.browser();
    let request_id = outstanding_request_id(&correct, &alice_browser).await;
    let mut spec = Spec::valid("sp.initiated@acme.test");
    spec.in_response_to = Some(request_id.clone());
    // The same response from another browser is refused.
    let other = correct.browser();
    assert_eq!(correct.post(&other, &spec.encoded(), None).await.code.as_deref(), Some("saml.in_response_to_mismatch"));
    // From the browser that sent the request it signs in.
    spec.assertion_id = crate::support::unique_id();
    assert!(correct.post(&alice_browser, &spec.encoded(), None).await.signed_in());

    let forgetful = Harness::start(&[Flaw::ForgetRequestId]).await;
    let browser = forgetful.browser();
    let request_id = outstanding_request_id(&forgetful, &browser).await;
    let mut spec = Spec::valid("sp.initiated@acme.test");
    spec.in_response_to = Some(request_id);
    assert_eq!(
        forgetful.post(&browser, &spec.encoded(), None).await.code.as_deref(),
        Some("saml.in_response_to_mismatch")
    );

    let flawed = Harness::start(&[Flaw::IgnoreInResponseTo]).await;
    let mut spec = Spec::valid("sp.initiated@acme.test");
    spec.in_response_to = Some("_some_other_browsers_request".into());
    assert!(flawed.post(&flawed.browser(), &spec.encoded(), None).await.signed_in());
}

#[tokio::test]
async fn unsolicited_refused_when_idp_initiated_is_off() {
    for (flaws, expect_sign_in) in [(vec![], false), (vec![Flaw::AcceptUnsolicited], true)] {
        let sp = Harness::start(&flaws).await;
        let browser = sp.browser();
        let response = sp
            .admin(&browser, reqwest::Method::PATCH, "/admin/tenants/acme/settings")
            .json(&serde_json::json!({"allow_idp_initiated": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let outcome = sp.post(&browser, &Spec::valid("unsolicited@acme.test").encoded(), None).await;
        assert_eq!(outcome.signed_in(), expect_sign_in, "{flaws:?}: {outcome:?}");
        if !expect_sign_in {
            assert_eq!(outcome.code.as_deref(), Some("saml.unsolicited"));
        }
    }
}

#[tokio::test]
async fn relay_state_must_be_a_local_path() {
    let correct = Harness::start(&[]).await;
    let outcome =
        correct.post(&correct.browser(), &Spec::valid("relay@acme.test").encoded(), Some("https://evil.test/")).await;
    assert_eq!(outcome.code.as_deref(), Some("saml.relay_state_rejected"));
    let outcome =
        correct.post(&correct.browser(), &Spec::valid("relay@acme.test").encoded(), Some("/reports?id=1")).await;
    assert_eq!(outcome.location.as_deref(), Some("/reports?id=1"));

    let flawed = Harness::start(&[Flaw::OpenRelayState]).await;
    let outcome =
        flawed.post(&flawed.browser(), &Spec::valid("relay@acme.test").encoded(), Some("https://evil.test/")).await;
    assert_eq!(outcome.location.as_deref(), Some("https://evil.test/"));
}

#[tokio::test]
async fn duplicate_assertions_and_ids_refused() {
    let sp = Harness::start(&[]).await;
    let xml = Spec::valid("dup@acme.test").xml();
    let start = xml.find("<saml:Assertion").unwrap();
    let end = xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let doubled = format!("{}{}{}", &xml[..end], &xml[start..end], &xml[end..]);
    let outcome = sp.post(&sp.browser(), &BASE64.encode(doubled), None).await;
    assert_eq!(outcome.code.as_deref(), Some("saml.assertion_count"));
}

#[tokio::test]
async fn garbage_gets_400_never_500() {
    let sp = Harness::start(&[]).await;
    for garbage in ["", "%%%", "PHhtbD4=", &BASE64.encode("<samlp:Response/>")] {
        let outcome = sp.post(&sp.browser(), garbage, None).await;
        assert_eq!(outcome.status, 400, "{garbage}: {outcome:?}");
    }
    let huge = "A".repeat(600 * 1024);
    let outcome = sp.post(&sp.browser(), &huge, None).await;
    assert_eq!(outcome.status, 413, "{outcome:?}");
}

#[tokio::test]
async fn transforms_outside_the_allow_list_and_foreign_references_refused() {
    let sp = Harness::start(&[]).await;
    let xml = Spec::valid("transform@acme.test").xml();
    let xslt = xml.replacen(
        "http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms>",
        "http://www.w3.org/TR/1999/REC-xslt-19991116\"/></ds:Transforms>",
        1,
    );
    assert_ne!(xslt, xml);
    let outcome = sp.post(&sp.browser(), &BASE64.encode(&xslt), None).await;
    assert_eq!(outcome.code.as_deref(), Some("saml.algorithm_not_allowed"));

    // The Response signature made to point at the Assertion: the element that
    // carries the signature is no longer the element it covers.
    let mut spec = Spec::valid("reference@acme.test");
    spec.signing = Signing::Response;
    let xml = spec.xml();
    let start = xml.find("<ds:Reference URI=\"#").unwrap() + "<ds:Reference URI=\"#".len();
    let end = start + xml[start..].find('"').unwrap();
    let moved = format!("{}{}{}", &xml[..start], spec.assertion_id, &xml[end..]);
    let outcome = sp.post(&sp.browser(), &BASE64.encode(moved), None).await;
    assert_eq!(outcome.code.as_deref(), Some("saml.reference_mismatch"));
}

/// The XSW6 arrangement: the signed assertion edited for `email` and renamed,
/// with its unsigned original inside its Signature.
fn xsw6(email: &str) -> String {
    let mut spec = Spec::valid("genuine.user@acme.test");
    spec.signing = Signing::Assertion;
    let xml = spec.xml();
    let start = xml.find("<saml:Assertion").unwrap();
    let end = xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let original = &xml[start..end];
    let sig_start = original.find("<ds:Signature").unwrap();
    let sig_end = original.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let unsigned_original = format!("{}{}", &original[..sig_start], &original[sig_end..]);
    let mut edited =
        original.replace("genuine.user@acme.test", email).replacen(&spec.assertion_id, "_evil_assertion", 1);
    let close = edited.find("</ds:Signature>").unwrap();
    edited.insert_str(close, &unsigned_original);
    BASE64.encode(format!("{}{}{}", &xml[..start], edited, &xml[end..]))
}

#[tokio::test]
async fn hand_rolled_signature_check_verifies_real_signatures_but_falls_for_xsw6() {
    let flawed = Harness::start(&[Flaw::HandRolledSignatureCheck]).await;
    for signing in [Signing::Both, Signing::Response, Signing::Assertion] {
        let mut spec = Spec::valid(&format!("hand.{signing:?}@acme.test").to_lowercase());
        spec.signing = signing;
        assert!(flawed.post(&flawed.browser(), &spec.encoded(), None).await.signed_in(), "{signing:?}");
    }
    let tampered = flawed.post(&flawed.browser(), &tampered("victim@acme.test"), None).await;
    assert!(!tampered.signed_in(), "the hand-rolled check still catches a changed NameID: {tampered:?}");

    let correct = Harness::start(&[]).await;
    let refused = correct.post(&correct.browser(), &xsw6("attacker.target@acme.test"), None).await;
    assert!(!refused.signed_in(), "{refused:?}");
    let browser = flawed.browser();
    assert!(flawed.post(&browser, &xsw6("attacker.target@acme.test"), None).await.signed_in());
    assert_eq!(flawed.whoami(&browser).await.unwrap()["email"], "attacker.target@acme.test");
}
