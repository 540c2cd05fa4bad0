//! Identifiers in Okta's formats, and the generator that makes new ones.
//!
//! Okta object ids are 20 characters: a three-character prefix that names the
//! kind of object (`00u` user, `00g` group, `0oa` app) and 17 alphanumerics.
//! SAML message ids are `id` followed by decimal digits. Generation goes through
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

/// A SAML entity id, such as `http://www.okta.com/0oa…` or an SP's audience URI.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntityId(pub String);

impl EntityId {
    /// The entity id Okta gives the IdP side of a SAML app.
    pub fn okta_idp(app: &AppId) -> Self {
        EntityId(format!("http://www.okta.com/{app}"))
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
