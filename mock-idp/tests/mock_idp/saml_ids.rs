//! Okta's SAML message ids: `id` and 24 to 27 digits, the Response and
//! Assertion ids of one message sharing their leading digits.

use mock_idp::ids::{IdGenerator, RandomIds, SAML_ID_DIGITS, SAML_ID_SHARED_DIGITS, SamlIdPair, SequentialIds};
use proptest::prelude::*;

fn assert_okta_shape(pair: &SamlIdPair) -> Result<(), TestCaseError> {
    for id in [&pair.response, &pair.assertion] {
        prop_assert!(id.starts_with("id"), "{id}");
        let digits = &id[2..];
        prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{id}");
        prop_assert!(SAML_ID_DIGITS.contains(&digits.len()), "{id} has {} digits", digits.len());
        prop_assert!(!digits.starts_with('0'), "{id}");
    }
    prop_assert_eq!(&pair.response[..2 + SAML_ID_SHARED_DIGITS], &pair.assertion[..2 + SAML_ID_SHARED_DIGITS]);
    prop_assert_ne!(&pair.response, &pair.assertion);
    Ok(())
}

proptest! {
    #[test]
    fn prop_random_saml_id_pairs_have_oktas_shape(_case in 0u8..=255) {
        assert_okta_shape(&RandomIds.saml_id_pair())?;
    }

    /// Any pair the sequential generator makes, however many ids came before.
    #[test]
    fn prop_sequential_saml_id_pairs_have_oktas_shape(earlier in 0usize..3000) {
        let ids = SequentialIds::default();
        for _ in 0..earlier {
            ids.saml_id_pair();
        }
        assert_okta_shape(&ids.saml_id_pair())?;
    }
}

#[test]
fn sequential_pairs_repeat_across_runs_and_vary_in_length() {
    let (first, second) = (SequentialIds::default(), SequentialIds::default());
    let pairs: Vec<SamlIdPair> = (0..4).map(|_| first.saml_id_pair()).collect();
    assert_eq!(pairs, (0..4).map(|_| second.saml_id_pair()).collect::<Vec<_>>());
    let mut lengths: Vec<usize> = pairs.iter().map(|pair| pair.response.len() - 2).collect();
    lengths.sort_unstable();
    assert_eq!(lengths, [24, 25, 26, 27], "{pairs:?}");
    assert_ne!(pairs[0].response.len(), pairs[0].assertion.len());
}

#[test]
fn random_pairs_take_every_length_okta_uses() {
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..400 {
        let pair = RandomIds.saml_id_pair();
        seen.insert(pair.response.len() - 2);
        seen.insert(pair.assertion.len() - 2);
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), [24, 25, 26, 27]);
}
