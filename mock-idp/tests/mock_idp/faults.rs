//! The structure of each fault's output.

use mock_idp::saml::SamlFaultPlan;
use mock_idp::saml::faults::{EVIL_ID_PREFIX, SamlFault, WRONG_ACS, WRONG_AUDIENCE, WRONG_ISSUER};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::support::{count, idp};

fn mint(fault: SamlFault) -> String {
    let idp = idp();
    let plan = SamlFaultPlan { fault, impersonate: Some("victim@acme.test".into()) };
    idp.mint_saml("reference-sp", "alice@acme.test", Some(plan), Some("ONELOGIN_request_1".into())).unwrap().xml
}

fn attribute<'a>(xml: &'a str, element: &str, name: &str) -> &'a str {
    let start = xml.find(&format!("<{element} ")).unwrap_or_else(|| panic!("no {element}"));
    let tag = &xml[start..start + xml[start..].find('>').unwrap()];
    let at = tag.find(&format!(" {name}=\"")).unwrap_or_else(|| panic!("no {name} on {element}")) + name.len() + 3;
    &tag[at..at + tag[at..].find('"').unwrap()]
}

fn instant(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &Rfc3339).unwrap()
}

#[test]
fn audience_and_addressing_faults_change_only_their_field() {
    assert!(mint(SamlFault::WrongAudience).contains(&format!("<saml2:Audience>{WRONG_AUDIENCE}</saml2:Audience>")));
    let missing = mint(SamlFault::MissingAudience);
    assert_eq!(count(&missing, "AudienceRestriction"), 0);
    assert!(missing.contains("<saml2:Conditions "));
    assert_eq!(attribute(&mint(SamlFault::WrongRecipient), "saml2:SubjectConfirmationData", "Recipient"), WRONG_ACS);
    assert_eq!(attribute(&mint(SamlFault::WrongDestination), "saml2p:Response", "Destination"), WRONG_ACS);
    assert_eq!(count(&mint(SamlFault::WrongIssuer), &format!(">{WRONG_ISSUER}</saml2:Issuer>")), 2);
}

#[test]
fn time_faults_move_the_validity_window() {
    let now = OffsetDateTime::now_utc();
    let expired = mint(SamlFault::Expired);
    assert!(instant(attribute(&expired, "saml2:Conditions", "NotOnOrAfter")) < now - time::Duration::minutes(59));
    assert!(
        instant(attribute(&expired, "saml2:SubjectConfirmationData", "NotOnOrAfter"))
            < now - time::Duration::minutes(59)
    );
    let future = mint(SamlFault::NotYetValid);
    assert!(instant(attribute(&future, "saml2:Conditions", "NotBefore")) > now + time::Duration::minutes(59));

    let ahead = mint(SamlFault::Skew(120));
    let not_before = instant(attribute(&ahead, "saml2:Conditions", "NotBefore"));
    assert!((not_before - now - time::Duration::seconds(120)).abs() < time::Duration::seconds(5), "{not_before}");
    let behind = mint(SamlFault::Skew(-120));
    let not_on_or_after = instant(attribute(&behind, "saml2:Conditions", "NotOnOrAfter"));
    assert!((now - not_on_or_after - time::Duration::seconds(120)).abs() < time::Duration::seconds(5));
    // The IssueInstant moves with the window (one minute long), so an SP
    // that bounds the IssueInstant by its skew tolerance judges the same
    // skew: 120 s ahead, and 180 s behind.
    let issued_ahead = instant(attribute(&ahead, "saml2p:Response", "IssueInstant"));
    assert!((issued_ahead - now - time::Duration::seconds(120)).abs() < time::Duration::seconds(5), "{issued_ahead}");
    let issued_behind = instant(attribute(&behind, "saml2p:Response", "IssueInstant"));
    assert!((now - issued_behind - time::Duration::seconds(180)).abs() < time::Duration::seconds(5), "{issued_behind}");
}

#[test]
fn single_field_expiry_faults_move_only_their_field() {
    let now = OffsetDateTime::now_utc();
    let past = now - mock_idp::saml::faults::STALE + time::Duration::minutes(1);
    let confirmation = mint(SamlFault::ExpiredConfirmation);
    assert!(instant(attribute(&confirmation, "saml2:SubjectConfirmationData", "NotOnOrAfter")) < past);
    assert!(instant(attribute(&confirmation, "saml2:Conditions", "NotOnOrAfter")) > now);
    assert!(instant(attribute(&confirmation, "saml2:Conditions", "NotBefore")) < now);
    let conditions = mint(SamlFault::ExpiredConditions);
    let window_end = instant(attribute(&conditions, "saml2:Conditions", "NotOnOrAfter"));
    assert!(window_end < past);
    assert!(instant(attribute(&conditions, "saml2:Conditions", "NotBefore")) < window_end, "a well-formed window");
    assert!(instant(attribute(&conditions, "saml2:SubjectConfirmationData", "NotOnOrAfter")) > now);
    for xml in [&confirmation, &conditions] {
        let issued = instant(attribute(xml, "saml2p:Response", "IssueInstant"));
        assert!((issued - now).abs() < time::Duration::seconds(5), "{issued}");
    }
}

#[test]
fn subject_confirmation_faults_change_the_method_or_drop_the_data() {
    let bearer = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
    let correct = mint(SamlFault::SignOnly(mock_idp::org::SigningMode::Both));
    assert_eq!(attribute(&correct, "saml2:SubjectConfirmation", "Method"), bearer);
    let holder = mint(SamlFault::HolderOfKey);
    assert_eq!(
        attribute(&holder, "saml2:SubjectConfirmation", "Method"),
        "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
    );
    assert_eq!(count(&holder, "<saml2:SubjectConfirmationData "), 1);
    let vouches = mint(SamlFault::SenderVouches);
    assert_eq!(
        attribute(&vouches, "saml2:SubjectConfirmation", "Method"),
        "urn:oasis:names:tc:SAML:2.0:cm:sender-vouches"
    );
    let bare = mint(SamlFault::NoConfirmationData);
    assert_eq!(attribute(&bare, "saml2:SubjectConfirmation", "Method"), bearer);
    assert_eq!(count(&bare, "SubjectConfirmationData"), 0);
    assert!(bare.contains(&format!("<saml2:SubjectConfirmation Method=\"{bearer}\"></saml2:SubjectConfirmation>")));
}

#[test]
fn protocol_faults() {
    let mismatch = mint(SamlFault::InResponseToMismatch);
    assert_ne!(attribute(&mismatch, "saml2p:Response", "InResponseTo"), "ONELOGIN_request_1");
    assert_ne!(attribute(&mismatch, "saml2:SubjectConfirmationData", "InResponseTo"), "ONELOGIN_request_1");
    let responder = mint(SamlFault::StatusResponder);
    assert!(
        responder.contains(
            "status:Responder\"><saml2p:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:AuthnFailed\"/>"
        )
    );
    assert_eq!(count(&responder, "<saml2:Assertion "), 1, "the signed assertion is still there");
}

#[test]
fn xsw_variants_follow_saml_raider() {
    let victim = ">victim@acme.test<";
    let genuine = ">alice@acme.test<";
    for n in 1..=8u8 {
        let xml = mint(SamlFault::Xsw(n));
        assert!(xml.contains(victim), "xsw{n} names the victim");
        assert!(xml.contains(genuine), "xsw{n} keeps the signed original");
        match n {
            1 | 2 => {
                assert!(attribute(&xml, "saml2p:Response", "ID").starts_with(EVIL_ID_PREFIX), "xsw{n}");
                assert_eq!(count(&xml, "<saml2p:Response "), 2, "xsw{n}");
            }
            3..=6 => {
                assert!(xml.contains(&format!("ID=\"{EVIL_ID_PREFIX}id")), "xsw{n}");
                assert_eq!(count(&xml, "<saml2:Assertion "), 2, "xsw{n}");
            }
            7 => assert!(xml.contains("<Extensions><saml2:Assertion "), "xsw7"),
            _ => assert!(xml.contains("<Object><saml2:Assertion "), "xsw8"),
        }
    }
    // XSW3 puts the evil copy first; XSW4 nests the original inside it.
    let xsw3 = mint(SamlFault::Xsw(3));
    assert!(xsw3.find(victim) < xsw3.find(genuine));
    let xsw4 = mint(SamlFault::Xsw(4));
    let evil_start = xsw4.find(EVIL_ID_PREFIX).unwrap();
    assert!(xsw4.find(genuine).unwrap() > evil_start);
}

/// Validates `xml` against the SAML 2.0 protocol schema (fixtures/schemas),
/// returning libxml2's complaints.
fn schema_errors(xml: &str) -> Vec<String> {
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/schemas/saml-schema-protocol-2.0.xsd");
    let mut parser = libxml::schemas::SchemaParserContext::from_file(schema);
    let mut validator = libxml::schemas::SchemaValidationContext::from_parser(&mut parser).unwrap();
    let document = libxml::parser::Parser::default().parse_string(xml).unwrap();
    match validator.validate_document(&document) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.into_iter().map(|e| e.message.unwrap_or_default()).collect(),
    }
}

#[test]
fn schema_valid_wrapping_passes_the_saml_schema_and_hides_the_signed_original() {
    // The control: Okta's own response is valid, and SAML Raider's XSW1
    // (a Response inside the Signature) is not, so the schema is enforced.
    assert_eq!(schema_errors(&mint(SamlFault::SignOnly(mock_idp::org::SigningMode::Both))), Vec::<String>::new());
    assert!(!schema_errors(&mint(SamlFault::Xsw(1))).is_empty(), "XSW1 breaks the schema");
    for (fault, hidden_in) in [
        (SamlFault::XswAdvice, "<saml2:Advice><saml2:Assertion "),
        (SamlFault::XswStatusDetail, "<saml2p:StatusDetail><saml2:Assertion "),
    ] {
        let xml = mint(fault);
        assert_eq!(schema_errors(&xml), Vec::<String>::new(), "{fault}: {xml}");
        assert_eq!(count(&xml, "<saml2:Assertion "), 2, "{fault}");
        assert_eq!(count(&xml, "<ds:Signature "), 1, "{fault}: only the hidden original is signed");
        // The Response's own Assertion child, right after its Status, is the
        // unsigned copy naming the victim: what an SP reading "the
        // Response's Assertion" meets.
        let after_status = &xml[xml.find("</saml2p:Status>").unwrap() + "</saml2p:Status>".len()..];
        assert!(after_status.starts_with(&format!("<saml2:Assertion ID=\"{EVIL_ID_PREFIX}")), "{fault}");
        let victim_at = after_status.find(">victim@acme.test<").unwrap_or_else(|| panic!("{fault}"));
        assert!(after_status.find(">alice@acme.test<").is_none_or(|alice_at| victim_at < alice_at), "{fault}");
        // The signed original, naming alice, is where the schema hides it.
        let hidden = &xml[xml.find(hidden_in).unwrap_or_else(|| panic!("{fault}: {xml}"))..];
        assert!(hidden.find(">alice@acme.test<") < hidden.find("</saml2:Assertion>"), "{fault}");
        assert!(hidden.find("<ds:Signature ") < hidden.find("</saml2:Assertion>"), "{fault}");
    }
}

#[test]
fn multiple_assertions_appends_an_unsigned_one() {
    let xml = mint(SamlFault::MultipleAssertions);
    assert_eq!(count(&xml, "<saml2:Assertion "), 2);
    assert_eq!(count(&xml, "<ds:Signature "), 2, "only the original assertion and the response are signed");
    assert!(xml.rfind(">victim@acme.test<") > xml.rfind("</ds:Signature>"));
}

#[test]
fn every_fault_applies_to_every_signing_mode() {
    let idp = idp();
    for app in ["reference-sp", "response-signed", "assertion-signed", "legacy-sha1"] {
        // The encryption faults need an app that encrypts; encryption.rs
        // tests them, and that they are refused elsewhere.
        for fault in SamlFault::all().into_iter().filter(|f| !f.needs_encryption()) {
            let plan = SamlFaultPlan { fault, impersonate: None };
            let minted = idp.mint_saml(app, "alice@acme.test", Some(plan), None);
            assert!(minted.is_ok(), "{fault} on {app}: {minted:?}");
        }
    }
}

/// attacks.md S-31: only the size is wrong. The padding is one attribute
/// value inside the signed Assertion, and both signatures still verify with
/// the app's certificate, so an SP that refuses it does so by its size.
#[test]
fn oversized_pads_a_response_that_is_still_genuinely_signed() {
    use mock_idp::saml::faults::{OVERSIZED_ATTRIBUTE, OVERSIZED_PADDING_BYTES};

    use crate::support::{SignatureOf, metadata_certificate_pem, xmlsec1_verifies};

    let idp = idp();
    let plan = SamlFaultPlan { fault: SamlFault::Oversized, impersonate: None };
    let xml = idp.mint_saml("reference-sp", "alice@acme.test", Some(plan), None).unwrap().xml;
    assert!(xml.len() > OVERSIZED_PADDING_BYTES, "{}", xml.len());
    assert!(xml.len() < OVERSIZED_PADDING_BYTES + 64 * 1024, "only the padding makes it large: {}", xml.len());
    let padding = xml.find(&format!("Name=\"{OVERSIZED_ATTRIBUTE}\"")).expect("the padding attribute");
    let assertion = xml.find("<saml2:Assertion ").unwrap()..xml.find("</saml2:Assertion>").unwrap();
    assert!(assertion.contains(&padding), "the padding is inside the signed Assertion");
    assert!(xml.contains(&"A".repeat(OVERSIZED_PADDING_BYTES)));
    let app_id = idp.read_org(|org| org.find_app("reference-sp").unwrap().id.to_string());
    let certificate = metadata_certificate_pem(&idp.metadata(&app_id).unwrap());
    assert!(xmlsec1_verifies(&xml, &certificate, SignatureOf::Response));
}

/// attacks.md P-18: only the AuthnStatement changes, with SessionNotOnOrAfter
/// two minutes after issue; an honest response carries none, as Okta's do.
#[test]
fn short_session_sets_session_not_on_or_after_two_minutes_ahead() {
    use mock_idp::saml::faults::SHORT_SESSION;

    assert!(!idp_response(None).contains("SessionNotOnOrAfter"));
    let xml = mint(SamlFault::ShortSession);
    let issued = instant(attribute(&xml, "saml2p:Response", "IssueInstant"));
    let end = instant(attribute(&xml, "saml2:AuthnStatement", "SessionNotOnOrAfter"));
    assert!((end - issued - SHORT_SESSION).abs() < time::Duration::seconds(1), "{issued} {end}");
    assert!(instant(attribute(&xml, "saml2:Conditions", "NotOnOrAfter")) > issued);
}

fn idp_response(plan: Option<SamlFaultPlan>) -> String {
    idp().mint_saml("reference-sp", "alice@acme.test", plan, None).unwrap().xml
}
