//! The own signer (`sign::sign_own_rendering`) against libxml2 and
//! libxmlsec1: for responses with generated values full of characters XML
//! escapes or normalises, the own exclusive canonical form is libxml2's, and
//! the own signed text is byte for byte the text libxmlsec1 signs (RSA
//! PKCS#1 v1.5 is deterministic, so equal digests and SignedInfo give equal
//! signatures). What the own signer does not take it declines, and the
//! libxmlsec1 path signs it as before.

use libxml::parser::Parser;
use libxml::tree::c14n::{CanonicalizationMode, CanonicalizationOptions};
use mock_idp::keys::{SigningCredential, deterministic};
use mock_idp::org::SignatureAlgorithm;
use mock_idp::saml::canonical::RenderedDocument;
use mock_idp::saml::response::{
    Attribute, Authn, Conditions, ResponseContent, STATUS_AUTHN_FAILED, Signatures, Status, Subject, render,
};
use mock_idp::saml::sign::{sign_own_rendering, sign_rendered, sign_templates};
use proptest::prelude::*;
use time::OffsetDateTime;

fn credential() -> SigningCredential {
    deterministic::signing("acme").unwrap()
}

/// Characters that XML escapes, normalises or must encode, mixed with plain
/// ones; characters XML 1.0 does not allow at all come rarely.
fn text() -> impl Strategy<Value = String> {
    let special = prop_oneof![
        Just('&'),
        Just('<'),
        Just('>'),
        Just('"'),
        Just('\''),
        Just(' '),
        Just('\t'),
        Just('\n'),
        Just('\r'),
        Just(']'),
        Just(';'),
        Just('#'),
        Just('='),
        Just(':'),
        Just('é'),
        Just('€'),
        Just('\u{85}'),
        Just('\u{2028}'),
        Just('\u{FFFD}'),
        Just('\u{1F600}'),
    ];
    let illegal = prop_oneof![Just('\u{0}'), Just('\u{1}'), Just('\u{1B}'), Just('\u{FFFE}')];
    // Sequences whose parts XML treats together: a CRLF line end, the end
    // of a CDATA section, text that reads as a reference once unescaped.
    let sequence = prop_oneof![Just("\r\n"), Just("]]>"), Just("&amp;"), Just("&#10;"), Just(" \t\r\n ")];
    let piece = prop_oneof![
        8 => any::<char>().prop_filter("ASCII letters and digits", |c| c.is_ascii_alphanumeric()).prop_map(String::from),
        6 => special.prop_map(String::from),
        3 => sequence.prop_map(String::from),
        1 => illegal.prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

fn instant() -> impl Strategy<Value = OffsetDateTime> {
    (1_000_000_000i64..2_000_000_000, 0u16..1000).prop_map(|(seconds, millis)| {
        OffsetDateTime::from_unix_timestamp(seconds).unwrap() + time::Duration::milliseconds(i64::from(millis))
    })
}

fn attributes() -> impl Strategy<Value = Vec<Attribute>> {
    prop::collection::vec(
        (text(), text(), prop::collection::vec(text(), 0..3)).prop_map(|(name, name_format, values)| Attribute {
            name,
            name_format,
            values,
        }),
        0..3,
    )
}

prop_compose! {
    fn content()(
        ids in ("id[0-9]{5,25}", "id[0-9]{5,25}").prop_filter("distinct ids", |(a, b)| a != b),
        strings in prop::collection::vec(text(), 9),
        in_response_to in prop::option::of(text()),
        responder in any::<bool>(),
        times in prop::collection::vec(instant(), 5),
        audience in any::<bool>(),
        confirmation_data in any::<bool>(),
        session_end in any::<bool>(),
        attributes in attributes(),
        which in 1u8..4,
    ) -> ResponseContent {
        let credential = credential();
        ResponseContent {
            response_id: ids.0,
            assertion_id: ids.1,
            issuer: strings[0].clone(),
            destination: strings[1].clone(),
            in_response_to,
            issue_instant: times[0],
            status: if responder { Status::Responder { second_level: STATUS_AUTHN_FAILED.to_owned() } } else { Status::Success },
            subject: Subject {
                name_id: strings[2].clone(),
                name_id_format: strings[3].clone(),
                recipient: strings[4].clone(),
                not_on_or_after: times[1],
                confirmation_method: strings[5].clone(),
                confirmation_data,
            },
            conditions: Conditions {
                not_before: times[2],
                not_on_or_after: times[3],
                audience: audience.then(|| strings[6].clone()),
            },
            authn: Authn {
                authn_instant: times[4],
                session_index: strings[7].clone(),
                context_class_ref: strings[8].clone(),
                session_not_on_or_after: session_end.then_some(times[0]),
            },
            attributes,
            signatures: Signatures {
                response: which & 1 != 0,
                assertion: which & 2 != 0,
                algorithm: SignatureAlgorithm::RsaSha256,
                certificate: credential.cert_base64_wrapped().to_owned(),
            },
        }
    }
}

/// Whether every character of the content's text is one XML 1.0 allows.
fn all_xml_chars(text: &str) -> bool {
    text.chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..))
}

/// libxml2's exclusive canonical form (PrefixList `xs`, as in Okta's
/// transforms) of the root, and of the Assertion when `assertion`.
fn libxml2_form(text: &str, assertion: bool) -> String {
    let document = Parser::default().parse_string(text).unwrap();
    let root = document.get_root_element().unwrap();
    let mut node = if assertion {
        root.get_child_elements().into_iter().find(|child| child.get_name() == "Assertion").unwrap()
    } else {
        root
    };
    node.canonicalize(CanonicalizationOptions {
        mode: CanonicalizationMode::ExclusiveCanonical1_0,
        with_comments: false,
        inclusive_ns_prefixes: vec!["xs".to_owned()],
    })
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The own exclusive canonical form of a rendered response, whole and
    /// of its Assertion, is libxml2's; the own parser declines exactly the
    /// responses with characters XML does not allow.
    #[test]
    fn prop_own_canonical_form_equals_libxml2_exclusive_c14n(mut content in content()) {
        content.signatures.response = false;
        content.signatures.assertion = false;
        let text = render(&content);
        let Some(document) = RenderedDocument::parse(&text) else {
            prop_assert!(!all_xml_chars(&text), "declined a response of legal characters: {text}");
            return Ok(());
        };
        prop_assert!(all_xml_chars(&text));
        let root = document.root();
        let assertion = *document.children(root).last().unwrap();
        prop_assert_eq!(document.name(assertion).unwrap().1, "Assertion");
        let own_whole = document.exclusive_canonical_form(root, None, &["xs"], &[]).unwrap();
        let own_assertion = document.exclusive_canonical_form(assertion, None, &["xs"], &[]).unwrap();
        prop_assert_eq!(own_whole, libxml2_form(&text, false));
        prop_assert_eq!(own_assertion, libxml2_form(&text, true));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// The own signer signs every rendered response of legal characters,
    /// whichever templates it has, and its text is libxmlsec1's.
    #[test]
    fn prop_own_signing_equals_libxmlsec1(content in content()) {
        let credential = credential();
        let text = render(&content);
        let own = sign_own_rendering(&text, &content.signatures, &credential).unwrap();
        if !all_xml_chars(&text) {
            prop_assert!(own.is_none());
            return Ok(());
        }
        let own = own.expect("the own signer takes a rendered response");
        prop_assert_eq!(own, sign_templates(&text, &credential).unwrap());
    }
}

fn sample() -> ResponseContent {
    let now = time::macros::datetime!(2024-03-29 07:42:22.136 UTC);
    let credential = credential();
    ResponseContent {
        response_id: "id48213378452934712391".to_owned(),
        assertion_id: "id48213378452996374512".to_owned(),
        issuer: "http://www.okta.com/exk1fcia6d6EMsf1E0h8".to_owned(),
        destination: "https://sp.test/acs".to_owned(),
        in_response_to: Some("_request&1".to_owned()),
        issue_instant: now,
        status: Status::Success,
        subject: Subject {
            name_id: "alice@acme.test".to_owned(),
            name_id_format: "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified".to_owned(),
            recipient: "https://sp.test/acs".to_owned(),
            not_on_or_after: now,
            confirmation_method: "urn:oasis:names:tc:SAML:2.0:cm:bearer".to_owned(),
            confirmation_data: true,
        },
        conditions: Conditions { not_before: now, not_on_or_after: now, audience: Some("https://sp.test".to_owned()) },
        authn: Authn {
            authn_instant: now,
            session_index: "id1".to_owned(),
            context_class_ref: "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport".to_owned(),
            session_not_on_or_after: None,
        },
        attributes: vec![Attribute {
            name: "groups".to_owned(),
            name_format: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic".to_owned(),
            values: vec!["R&D <lab>".to_owned(), "\"quoted\" 'single'".to_owned()],
        }],
        signatures: Signatures {
            response: true,
            assertion: true,
            algorithm: SignatureAlgorithm::RsaSha256,
            certificate: credential.cert_base64_wrapped().to_owned(),
        },
    }
}

#[test]
fn own_signer_leaves_sha1_edited_templates_and_other_text_to_libxmlsec1() {
    let credential = credential();
    let content = sample();
    let text = render(&content);
    assert!(sign_own_rendering(&text, &content.signatures, &credential).unwrap().is_some());

    let mut sha1 = content.clone();
    sha1.signatures.algorithm = SignatureAlgorithm::RsaSha1;
    let sha1_text = render(&sha1);
    assert!(sign_own_rendering(&sha1_text, &sha1.signatures, &credential).unwrap().is_none());
    // Through the entry point the issuer uses, SHA-1 is still signed (by libxmlsec1).
    assert_eq!(
        sign_rendered(&sha1_text, &sha1.signatures, &credential).unwrap(),
        sign_templates(&sha1_text, &credential).unwrap()
    );

    // A template a fault edited (here its Reference URI) is not the rendered one.
    let edited = text.replacen(&format!("URI=\"#{}\"", content.assertion_id), "URI=\"\"", 1);
    assert_ne!(edited, text);
    assert!(sign_own_rendering(&edited, &content.signatures, &credential).unwrap().is_none());

    // A comment, or a second Assertion, is outside what the own signer takes.
    let commented = text.replacen("alice@acme.test", "alice@acme.test<!---->", 1);
    assert!(sign_own_rendering(&commented, &content.signatures, &credential).unwrap().is_none());
    let assertion_start = text.find("<saml2:Assertion ").unwrap();
    let doubled = format!(
        "{}{}{}",
        &text[..assertion_start],
        &text[assertion_start..text.len() - "</saml2p:Response>".len()],
        &text[assertion_start..]
    );
    assert!(sign_own_rendering(&doubled, &content.signatures, &credential).unwrap().is_none());

    // With the Response's template after the Assertion, libxmlsec1's values
    // would land in the other template's places, so that order is left to it.
    let response_template_start = text.find("<ds:Signature ").unwrap();
    let response_template_end = text.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let template = &text[response_template_start..response_template_end];
    let moved = format!(
        "{}{}{template}</saml2p:Response>",
        &text[..response_template_start],
        &text[response_template_end..text.len() - "</saml2p:Response>".len()]
    );
    assert!(moved.contains(&format!("</saml2:Assertion>{template}</saml2p:Response>")));
    assert!(sign_own_rendering(&moved, &content.signatures, &credential).unwrap().is_none());
}

#[test]
fn own_signature_of_a_sample_response_is_libxmlsec1s_and_verifies_with_xmlsec1() {
    let credential = credential();
    let content = sample();
    let text = render(&content);
    let own = sign_own_rendering(&text, &content.signatures, &credential).unwrap().unwrap();
    assert_eq!(own, sign_templates(&text, &credential).unwrap());
    assert!(
        !own.contains("<ds:DigestValue></ds:DigestValue>") && !own.contains("<ds:SignatureValue></ds:SignatureValue>")
    );
    let cert = credential.cert_pem.to_string();
    for which in [crate::support::SignatureOf::Assertion, crate::support::SignatureOf::Response] {
        assert!(crate::support::xmlsec1_verifies(&own, &cert, which));
    }
}
