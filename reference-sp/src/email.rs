//! The one normalisation for names that identify an account: emails and
//! SCIM userNames, wherever they are compared (sign-in, SCIM lookups,
//! uniqueness, SCIM filters).
//!
//! The normalised form is trimmed and ASCII-lowercased. Non-ASCII characters
//! are kept as they are, so a Unicode look-alike (`аlice` with a Cyrillic а,
//! or the Kelvin sign `K`, which Unicode lowercases to an ASCII `k`) never
//! matches the ASCII address. Case-folding beyond ASCII is deliberately not
//! done: it is where look-alike and locale bugs come from. SCIM and sign-in
//! must fold the same way, or a name one of them thinks is free is taken in
//! the other.

/// The form used to match accounts, by email or by userName.
pub fn normalise(email: &str) -> String {
    fold_case(email.trim())
}

/// Case-insensitive comparison text, as [`normalise`] without the trim: for
/// SCIM filters, which compare values as given.
pub fn fold_case(text: &str) -> String {
    text.to_ascii_lowercase()
}

/// The domain part of an email, normalised, if the text is an email.
pub fn domain(email: &str) -> Option<String> {
    let email = normalise(email);
    let mut parts = email.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) if !local.is_empty() && domain.contains('.') => Some(domain.to_owned()),
        _ => None,
    }
}

/// Matching forms that real SPs have used and that are wrong: the flaws
/// `match-email-transliterated` and `match-email-ignoring-plus` switch them
/// on through the policy; the correct SP never calls them.
pub mod flawed {
    /// Folds full-width forms (U+FF01 to U+FF5E) to their ASCII letters, as
    /// compatibility normalisation does, and the Cyrillic letters that look
    /// like Latin ones to those, as a transliteration to ASCII does.
    pub fn fold_look_alikes(text: &str) -> String {
        text.chars()
            .map(|c| match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFF01 + 0x21).unwrap_or(c),
                'а' => 'a',
                'е' => 'e',
                'і' => 'i',
                'ј' => 'j',
                'о' => 'o',
                'р' => 'p',
                'с' => 'c',
                'у' => 'y',
                'х' => 'x',
                'ѕ' => 's',
                other => other,
            })
            .collect::<String>()
            .to_ascii_lowercase()
    }

    /// Drops a `+tag` from the local part: `alice+x@acme.test` becomes
    /// `alice@acme.test`.
    pub fn without_plus_tag(email: &str) -> String {
        match email.rsplit_once('@') {
            Some((local, domain)) => {
                let mailbox = local.split_once('+').map_or(local, |(mailbox, _)| mailbox);
                format!("{mailbox}@{domain}")
            }
            None => email.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn case_variants_match_and_look_alikes_do_not() {
        assert_eq!(normalise(" Alice@ACME.test "), normalise("alice@acme.test"));
        assert_ne!(normalise("\u{430}lice@acme.test"), normalise("alice@acme.test"));
        assert_eq!(domain("bob@Acme.Test").as_deref(), Some("acme.test"));
        assert_eq!(domain("not-an-email"), None);
    }

    #[test]
    fn the_flawed_forms_fold_what_the_correct_one_keeps_apart() {
        assert_eq!(flawed::fold_look_alikes("\u{FF41}lice@acme.test"), "alice@acme.test");
        assert_eq!(flawed::fold_look_alikes("\u{430}lice@acme.test"), "alice@acme.test");
        assert_eq!(flawed::without_plus_tag("alice+x@acme.test"), "alice@acme.test");
        assert_eq!(flawed::without_plus_tag("alice@acme.test"), "alice@acme.test");
        assert_ne!(normalise("\u{FF41}lice@acme.test"), normalise("alice@acme.test"));
        assert_ne!(normalise("alice+x@acme.test"), normalise("alice@acme.test"));
    }

    proptest! {
        #[test]
        fn prop_normalise_is_idempotent(email in "\\PC{0,40}") {
            let once = normalise(&email);
            prop_assert_eq!(normalise(&once), once);
        }

        #[test]
        fn prop_ascii_case_variants_match(local in "[a-zA-Z0-9._]{1,20}", domain in "[a-zA-Z]{1,10}\\.[a-zA-Z]{2,5}", flips in proptest::collection::vec(any::<bool>(), 40)) {
            let email = format!("{local}@{domain}");
            let variant: String = email.chars().zip(flips.iter().cycle()).map(|(c, flip)| if *flip { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }).collect();
            prop_assert_eq!(normalise(&variant), normalise(&email));
        }

        #[test]
        fn prop_non_ascii_look_alikes_never_match(local in "[a-z]{1,10}", at in 0usize..10) {
            // Replace one ASCII letter with a visually similar Cyrillic letter.
            let email = format!("{local}@acme.test");
            let index = at % local.len();
            let look_alike: String = email.char_indices().map(|(i, c)| if i == index { match c { 'a' => 'а', 'e' => 'е', 'o' => 'о', 'c' => 'с', 'p' => 'р', _ => 'ꓲ' } } else { c }).collect();
            prop_assert_ne!(normalise(&look_alike), normalise(&email));
        }
    }
}
