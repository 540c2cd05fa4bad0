//! An outage of the org, switched on by a test: what an SP sees when Okta
//! is unreachable for it. The conformance suite's break-glass check uses it
//! to make the IdP fail while the SP's local admin must still get in.
//!
//! Only the decision lives here; the HTTP layer answers the requests an
//! outage covers with 503 Service Unavailable before any handler runs.

use std::sync::PoisonError;

use super::Idp;

/// Which of the org's endpoints fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outage {
    /// Only the published metadata answers 503: the SAML apps' metadata
    /// documents, and the authorization servers' discovery documents and
    /// key sets. Sign-in still works, so an SP that kept its copy of the
    /// metadata is unaffected.
    MetadataUnavailable,
    /// The whole org answers 503: metadata, SAML and OIDC sign-in, the
    /// management API and the console.
    Down,
}

impl Outage {
    /// Whether a request for `path` fails during this outage.
    pub fn covers(self, path: &str) -> bool {
        match self {
            Outage::MetadataUnavailable => {
                (path.starts_with("/app/") && path.ends_with("/sso/saml/metadata"))
                    || path.ends_with("/.well-known/openid-configuration")
                    || path.ends_with("/.well-known/oauth-authorization-server")
                    || (path.starts_with("/oauth2/") && path.ends_with("/v1/keys"))
            }
            Outage::Down => true,
        }
    }
}

impl Idp {
    /// Starts an outage, or ends it with `None`. Returns the one before, so
    /// a caller can put it back.
    pub fn set_outage(&self, outage: Option<Outage>) -> Option<Outage> {
        std::mem::replace(&mut *self.outage.write().unwrap_or_else(PoisonError::into_inner), outage)
    }

    /// The outage now, if any.
    pub fn outage(&self) -> Option<Outage> {
        *self.outage.read().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metadata_outage_covers_only_metadata_documents() {
        let metadata = "/app/exk1a2b3c4d5e6f7g8h9/sso/saml/metadata";
        assert!(Outage::MetadataUnavailable.covers(metadata));
        assert!(Outage::MetadataUnavailable.covers("/app/0oa1a2b3c4d5e6f7g8h9/sso/saml/metadata"));
        assert!(!Outage::MetadataUnavailable.covers("/app/acme_web_1/exk1a2b3c4d5e6f7g8h9/sso/saml"));
        for published in [
            "/.well-known/openid-configuration",
            "/oauth2/default/.well-known/openid-configuration",
            "/oauth2/default/.well-known/oauth-authorization-server",
            "/oauth2/v1/keys",
            "/oauth2/default/v1/keys",
        ] {
            assert!(Outage::MetadataUnavailable.covers(published), "{published}");
        }
        assert!(!Outage::MetadataUnavailable.covers("/oauth2/default/v1/authorize"));
        assert!(!Outage::MetadataUnavailable.covers("/oauth2/default/v1/token"));
        assert!(Outage::Down.covers(metadata));
        assert!(Outage::Down.covers("/app/acme_web_1/exk1a2b3c4d5e6f7g8h9/sso/saml"));
        assert!(Outage::Down.covers("/api/v1/users"));
    }
}
