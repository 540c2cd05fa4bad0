//! Identifiers in Okta's formats, and the generator that makes new ones.
//!
//! Okta object ids are 20 characters: a three-character prefix that names the
//! kind of object (`00u` user, `00g` group, `0oa` app, `exk` a SAML app's
//! external key) and 17 alphanumerics. SAML message ids are `id` followed by
//! 24 to 27 decimal digits. Generation goes through
//! [`IdGenerator`] so that snapshots can use a deterministic sequence.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng;
use serde::{Deserialize, Serialize};

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

macro_rules! okta_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The three-character prefix Okta gives this kind of object.
            pub const PREFIX: &'static str = $prefix;

            /// Parses an id, which must have the right prefix and be 20 alphanumerics.
            pub fn parse(value: &str) -> Result<Self, IdError> {
                check_okta_id(value, $prefix).map(|()| Self(value.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                check_okta_id(&value, $prefix).map(|()| Self(value))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

okta_id!(
    /// An Okta user id, `00u…`.
    UserId,
    "00u"
);
okta_id!(
    /// An Okta group id, `00g…`.
    GroupId,
    "00g"
);
okta_id!(
    /// An Okta app instance id, `0oa…`. Also used as the OIDC client id.
    AppId,
    "0oa"
);
okta_id!(
    /// A SAML app's external key, `exk…`: Okta names the IdP side of a SAML
    /// app by it (`http://www.okta.com/exk…`) and puts it in the app's
    /// metadata and SSO URLs, where the `0oa…` id never appears.
    AppExternalKey,
    "exk"
);

/// Why a string is not a valid Okta id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("'{value}' is not an Okta id: it must start with '{prefix}' and be 20 letters or digits")]
    Malformed { value: String, prefix: &'static str },
}

fn check_okta_id(value: &str, prefix: &'static str) -> Result<(), IdError> {
    let well_formed =
        value.len() == 20 && value.starts_with(prefix) && value.bytes().all(|b| b.is_ascii_alphanumeric());
    if well_formed { Ok(()) } else { Err(IdError::Malformed { value: value.to_owned(), prefix }) }
}

/// A SAML entity id, such as `http://www.okta.com/exk…` or an SP's audience URI.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntityId(pub String);

impl EntityId {
    /// The entity id Okta gives the IdP side of a SAML app: its external
    /// key under Okta's `http` (not `https`) address.
    pub fn okta_idp(key: &AppExternalKey) -> Self {
        EntityId(format!("http://www.okta.com/{key}"))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An assertion consumer service URL: where a SAML response is posted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AcsUrl(pub String);

impl AcsUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AcsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Makes new ids. The random generator is used when serving; the sequential one
/// makes the same ids on every run, for snapshots.
pub trait IdGenerator: Send + Sync {
    /// A new Okta object id with the given prefix (`00u`, `00g`, `0oa`).
    fn okta_id(&self, prefix: &str) -> String;
    /// A new SAML message id: `id` followed by 25 decimal digits.
    fn saml_id(&self) -> String;
    /// The Response and Assertion ids of one message, as Okta makes them:
    /// each `id` and 24 to 27 digits, the two sharing their first ten
    /// digits. A generator that only makes single ids gets a pair whose
    /// second id takes the first one's leading digits.
    fn saml_id_pair(&self) -> SamlIdPair {
        let response = self.saml_id();
        let assertion = self.saml_id();
        let shared = response.get(..2 + SAML_ID_SHARED_DIGITS).unwrap_or(&response);
        let tail = assertion.get(shared.len()..).unwrap_or_default();
        SamlIdPair { assertion: format!("{shared}{tail}"), response }
    }
    /// A random token for cookies and pending requests: 32 URL-safe characters.
    fn opaque_token(&self) -> String;
    /// The `errorId` of a management API error: `oae` and 22 characters, as
    /// Okta's are. Made from the last 22 characters of an opaque token, so
    /// a generator that counts keeps its count in the id.
    fn error_id(&self) -> String {
        let token = self.opaque_token();
        let tail: Vec<char> = token.chars().rev().take(22).collect();
        format!("oae{}", tail.into_iter().rev().collect::<String>())
    }
}

/// How many leading digits the Response and Assertion ids of one message
/// share. Okta's observed pairs share about ten.
pub const SAML_ID_SHARED_DIGITS: usize = 10;

/// The shortest and longest digit counts of Okta's SAML message ids.
pub const SAML_ID_DIGITS: std::ops::RangeInclusive<usize> = 24..=27;

/// The ids of one SAML Response and the Assertion inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamlIdPair {
    pub response: String,
    pub assertion: String,
}

/// Ids from the operating system's random source.
#[derive(Debug, Default)]
pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn okta_id(&self, prefix: &str) -> String {
        let mut rng = rand::rng();
        let mut id = String::with_capacity(20);
        id.push_str(prefix);
        while id.len() < 20 {
            id.push(char::from(ALPHANUMERIC[rng.random_range(0..ALPHANUMERIC.len())]));
        }
        id
    }

    fn saml_id(&self) -> String {
        let mut rng = rand::rng();
        let mut id = String::from("id");
        // Okta's ids never start with a zero digit after the prefix.
        id.push(char::from(b'1' + rng.random_range(0..9u8)));
        for _ in 0..24 {
            id.push(char::from(b'0' + rng.random_range(0..10u8)));
        }
        id
    }

    fn saml_id_pair(&self) -> SamlIdPair {
        let mut rng = rand::rng();
        // Okta's ids never start with a zero digit after the prefix.
        let mut shared = String::from(char::from(b'1' + rng.random_range(0..9u8)));
        shared.extend((1..SAML_ID_SHARED_DIGITS).map(|_| char::from(b'0' + rng.random_range(0..10u8))));
        let mut id = || {
            let length = rng.random_range(SAML_ID_DIGITS);
            let tail: String =
                (SAML_ID_SHARED_DIGITS..length).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect();
            format!("id{shared}{tail}")
        };
        SamlIdPair { response: id(), assertion: id() }
    }

    fn opaque_token(&self) -> String {
        let mut rng = rand::rng();
        (0..32).map(|_| char::from(ALPHANUMERIC[rng.random_range(0..62)])).collect()
    }
}

/// Ids from a counter, so that two runs make the same ids in the same order.
#[derive(Debug, Default)]
pub struct SequentialIds {
    counter: AtomicU64,
}

impl SequentialIds {
    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::SeqCst) + 1
    }
}

impl IdGenerator for SequentialIds {
    fn okta_id(&self, prefix: &str) -> String {
        format!("{prefix}{:0>17}", self.next())
    }

    fn saml_id(&self) -> String {
        format!("id{:0>25}", 1_000_000_000_000_000_000_000_000u128 + u128::from(self.next()))
    }

    /// The shared digits count messages from 1000000001; each tail is the
    /// count again, padded so that the lengths cycle through Okta's 24 to 27
    /// digits and the Response and Assertion ids differ in length.
    fn saml_id_pair(&self) -> SamlIdPair {
        let count = self.next();
        let shared = 1_000_000_000u64 + count % 9_000_000_000;
        let lengths = SAML_ID_DIGITS.end() - SAML_ID_DIGITS.start() + 1;
        let tail_length = |offset: u64| {
            let step = usize::try_from((count + offset) % lengths as u64).unwrap_or(0);
            SAML_ID_DIGITS.start() + step - SAML_ID_SHARED_DIGITS
        };
        // The shortest tail has room for fourteen digits of the count.
        let tail = |offset: u64| {
            let width = tail_length(offset);
            format!("{:0>width$}", (count + offset) % 100_000_000_000_000)
        };
        SamlIdPair { response: format!("id{shared}{}", tail(0)), assertion: format!("id{shared}{}", tail(1)) }
    }

    fn opaque_token(&self) -> String {
        format!("token{:0>27}", self.next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_okta_ids_have_okta_shape() {
        let id = RandomIds.okta_id("00u");
        assert!(UserId::parse(&id).is_ok(), "{id}");
    }

    #[test]
    fn random_saml_ids_are_id_and_25_digits() {
        let id = RandomIds.saml_id();
        assert_eq!(id.len(), 27);
        assert!(id.starts_with("id"));
        assert!(id[2..].bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn sequential_ids_repeat_across_generators() {
        let a = SequentialIds::default();
        let b = SequentialIds::default();
        assert_eq!(a.okta_id("0oa"), b.okta_id("0oa"));
        assert_eq!(a.saml_id(), b.saml_id());
        assert!(AppId::parse(&SequentialIds::default().okta_id("0oa")).is_ok());
    }

    #[test]
    fn okta_id_with_wrong_prefix_rejected() {
        assert!(UserId::parse("00gAAAAAAAAAAAAAAAAA").is_err());
        assert!(UserId::parse("00u123").is_err());
        assert!(UserId::parse("00uAAAAAAAAAAAAAAA-A").is_err());
    }
}
