//! When a tenant's cached discovery document and key set may be used, and
//! when an unknown `kid` may trigger a refetch.
//!
//! Okta publishes the next key weeks before it signs with it and answers
//! `Cache-Control: max-age`, shortened near a rotation (attacks.md K-01), so
//! honouring max-age and refetching once on an unknown `kid` keeps sign-in
//! working through both a scheduled and an emergency rotation (K-02).
//! Anyone can send tokens with random `kid`s, though, so unknown-`kid`
//! refetches are limited to one per [`UNKNOWN_KID_REFETCH_INTERVAL`] per
//! tenant (K-03): a flood cannot turn the SP into a traffic amplifier
//! against the provider.

use time::{Duration, OffsetDateTime};

use super::discovery::ProviderMetadata;
use super::jwks::Jwks;

/// How long a document without `Cache-Control` is kept.
pub const DEFAULT_MAX_AGE: Duration = Duration::minutes(5);
/// The longest a document is kept whatever its `max-age` says, so a key
/// removed in an emergency stops being trusted within a day at worst.
pub const LONGEST_MAX_AGE: Duration = Duration::hours(24);
/// The least time between two refetches caused by an unknown `kid`.
pub const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::seconds(60);

/// How long a response may be cached, from its `Cache-Control` header:
/// `no-cache`, `no-store` and `max-age=0` mean not at all (used for the
/// request that fetched it only), no header means [`DEFAULT_MAX_AGE`].
pub fn max_age(cache_control: Option<&str>) -> Duration {
    let Some(header) = cache_control else { return DEFAULT_MAX_AGE };
    let mut found = None;
    for directive in header.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if directive == "no-cache" || directive == "no-store" {
            return Duration::ZERO;
        }
        if let Some(seconds) = directive.strip_prefix("max-age=") {
            found = seconds.trim_matches('"').parse::<i64>().ok();
        }
    }
    match found {
        Some(seconds) => Duration::seconds(seconds.max(0)).min(LONGEST_MAX_AGE),
        None => DEFAULT_MAX_AGE,
    }
}

/// Something fetched, with when it stops being fresh.
#[derive(Clone, Debug)]
pub struct Cached<T> {
    pub value: T,
    pub fresh_until: OffsetDateTime,
}

impl<T> Cached<T> {
    pub fn new(value: T, fetched_at: OffsetDateTime, max_age: Duration) -> Cached<T> {
        Cached { value, fresh_until: fetched_at + max_age }
    }

    pub fn is_fresh(&self, now: OffsetDateTime) -> bool {
        now < self.fresh_until
    }
}

/// What the SP keeps per tenant about its OIDC provider.
#[derive(Clone, Debug, Default)]
pub struct ProviderCache {
    pub metadata: Option<Cached<ProviderMetadata>>,
    pub keys: Option<Cached<Jwks>>,
    /// When an unknown `kid` last caused a refetch.
    pub last_unknown_kid_refetch: Option<OffsetDateTime>,
}

impl ProviderCache {
    /// Whether an unknown `kid` may refetch the key set now. `rate_limited`
    /// is off only under the `jwks-refetch-unbounded` flaw.
    pub fn may_refetch_for_unknown_kid(&self, now: OffsetDateTime, rate_limited: bool) -> bool {
        !rate_limited || self.last_unknown_kid_refetch.is_none_or(|last| now - last >= UNKNOWN_KID_REFETCH_INTERVAL)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn max_age_follows_cache_control() {
        assert_eq!(max_age(Some("max-age=3293198, must-revalidate")), LONGEST_MAX_AGE);
        assert_eq!(max_age(Some("public, max-age=120")), Duration::seconds(120));
        assert_eq!(max_age(Some("no-cache")), Duration::ZERO);
        assert_eq!(max_age(Some("max-age=60, no-store")), Duration::ZERO);
        assert_eq!(max_age(Some("max-age=-5")), Duration::ZERO);
        assert_eq!(max_age(Some("private")), DEFAULT_MAX_AGE);
        assert_eq!(max_age(None), DEFAULT_MAX_AGE);
    }

    #[test]
    fn unknown_kid_refetches_are_rate_limited() {
        let now = datetime!(2024-03-29 07:42:22 UTC);
        let mut cache = ProviderCache::default();
        assert!(cache.may_refetch_for_unknown_kid(now, true));
        cache.last_unknown_kid_refetch = Some(now);
        assert!(!cache.may_refetch_for_unknown_kid(now + Duration::seconds(59), true));
        assert!(cache.may_refetch_for_unknown_kid(now + Duration::seconds(59), false));
        assert!(cache.may_refetch_for_unknown_kid(now + UNKNOWN_KID_REFETCH_INTERVAL, true));
    }
}
