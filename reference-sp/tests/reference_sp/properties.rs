//! Properties: the ACS never panics and answers 4xx to arbitrary input.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use proptest::prelude::*;
use reference_sp::saml::verify::UnverifiedResponse;

use crate::support::{Harness, Spec};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn prop_acs_answers_4xx_to_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000), encode in any::<bool>()) {
        let runtime = runtime();
        runtime.block_on(async {
            let sp = Harness::start(&[]).await;
            let value = if encode { BASE64.encode(&bytes) } else { String::from_utf8_lossy(&bytes).into_owned() };
            let outcome = sp.post(&sp.browser(), &value, None).await;
            assert!((400..500).contains(&outcome.status), "{outcome:?}");
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Arbitrary edits of a valid signed response never panic the verifier,
    /// and never verify unless the edit left the signed content intact.
    #[test]
    fn prop_mutated_valid_response_never_panics(at in 0usize..6000, cut in 0usize..30, insert in "[<>/a-zA-Z0-9=\" :!-]{0,12}") {
        let xml = valid_xml();
        let start = at.min(xml.len());
        let start = (0..=start).rev().find(|i| xml.is_char_boundary(*i)).unwrap_or(0);
        let end = (start..=(start + cut).min(xml.len())).rev().find(|i| xml.is_char_boundary(*i)).unwrap_or(start);
        let mutated = format!("{}{}{}", &xml[..start], insert, &xml[end..]);
        let policy = reference_sp::flaws::Policy::correct();
        let certificates = [crate::support::idp_key().cert_base64.clone()];
        let acs = [crate::support::ACS.to_owned()];
        let expectations = reference_sp::saml::verify::Expectations {
            idp_entity_id: crate::support::IDP_ENTITY_ID,
            certificates: &certificates,
            sp_entity_id: crate::support::AUDIENCE,
            acs_urls: &acs,
            clock_skew: time::Duration::minutes(3),
            allow_sha1: false,
            outstanding_request: None,
            allow_unsolicited: true,
            decryption_key: None,
            require_encryption: false,
            want_assertions_signed: false,
            policy: &policy,
        };
        let result = UnverifiedResponse::from_xml(mutated.clone()).verify(&expectations, time::OffsetDateTime::now_utc());
        if let Ok(verified) = result {
            // Only edits outside the signed content can verify: the identity is unchanged.
            prop_assert_eq!(verified.name_id(), "prop.user@acme.test");
        }
    }
}

fn valid_xml() -> &'static str {
    static XML: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    XML.get_or_init(|| Spec::valid("prop.user@acme.test").xml())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Through HTTP: a mutated valid response gets a 4xx, or, when the edit
    /// left every signed byte intact, signs in the genuine user and nobody else.
    #[test]
    fn prop_acs_answers_4xx_to_mutated_responses(at in 0usize..6000, cut in 1usize..30, insert in "[<>/a-zA-Z0-9=\" :!-]{0,12}") {
        let xml = valid_xml();
        let start = at.min(xml.len());
        let start = (0..=start).rev().find(|i| xml.is_char_boundary(*i)).unwrap_or(0);
        let end = (start..=(start + cut).min(xml.len())).rev().find(|i| xml.is_char_boundary(*i)).unwrap_or(start);
        let mutated = format!("{}{}{}", &xml[..start], insert, &xml[end..]);
        runtime().block_on(async {
            let sp = Harness::start(&[]).await;
            let browser = sp.browser();
            let outcome = sp.post(&browser, &BASE64.encode(&mutated), None).await;
            if outcome.signed_in() {
                assert_eq!(sp.whoami(&browser).await.unwrap()["email"], "prop.user@acme.test");
            } else {
                assert!((400..500).contains(&outcome.status), "{outcome:?}");
            }
        });
    }
}
