//! The authorization request (authorization code with PKCE S256, always)
//! and the RP-initiated logout URL.

use sha2::{Digest, Sha256};

use super::base64url;

/// The PKCE `code_challenge` for a verifier: base64url(SHA-256(verifier))
/// (RFC 7636 §4.2, method S256; `plain` is never used).
pub fn code_challenge(verifier: &str) -> String {
    base64url(&Sha256::digest(verifier.as_bytes()))
}

/// What an authorization request carries.
#[derive(Debug)]
pub struct AuthorizationRequest<'a> {
    pub authorization_endpoint: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scopes: &'a [String],
    pub state: &'a str,
    pub nonce: &'a str,
    /// The PKCE verifier whose S256 challenge the request carries; `None`
    /// only under the `no-pkce` flaw.
    pub code_verifier: Option<&'a str>,
    /// Asks for `response_mode=form_post` instead of the query string.
    pub form_post: bool,
    /// Sends the challenge with method S256; false only under the
    /// `pkce-plain` flaw, which sends the verifier itself with method plain.
    pub pkce_s256: bool,
}

impl AuthorizationRequest<'_> {
    /// The URL the browser is sent to. Parameters already in the endpoint's
    /// query are kept (Okta has none, but RFC 6749 §3.1 allows them).
    pub fn url(&self) -> Option<String> {
        let mut url = url::Url::parse(self.authorization_endpoint).ok()?;
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", self.client_id)
            .append_pair("redirect_uri", self.redirect_uri)
            .append_pair("scope", &self.scopes.join(" "))
            .append_pair("state", self.state)
            .append_pair("nonce", self.nonce);
        if self.form_post {
            query.append_pair("response_mode", "form_post");
        }
        match (self.code_verifier, self.pkce_s256) {
            (Some(verifier), true) => {
                query
                    .append_pair("code_challenge", &code_challenge(verifier))
                    .append_pair("code_challenge_method", "S256");
            }
            (Some(verifier), false) => {
                query.append_pair("code_challenge", verifier).append_pair("code_challenge_method", "plain");
            }
            (None, _) => {}
        }
        drop(query);
        Some(url.into())
    }
}

/// The provider's end-session URL (OpenID Connect RP-Initiated Logout 1.0
/// §2), with the ID token as a hint and where to come back.
pub fn end_session_url(endpoint: &str, id_token_hint: &str, post_logout_redirect_uri: &str) -> Option<String> {
    let mut url = url::Url::parse(endpoint).ok()?;
    url.query_pairs_mut()
        .append_pair("id_token_hint", id_token_hint)
        .append_pair("post_logout_redirect_uri", post_logout_redirect_uri);
    Some(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s_example() {
        // RFC 7636 Appendix B.
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn the_request_always_asks_for_s256() {
        let scopes = vec!["openid".to_owned(), "email".to_owned()];
        let url = AuthorizationRequest {
            authorization_endpoint: "https://acme.okta.test/oauth2/v1/authorize",
            client_id: "0oa1",
            redirect_uri: "http://sp.test/oidc/callback/acme",
            scopes: &scopes,
            state: "s",
            nonce: "n",
            code_verifier: Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            form_post: false,
            pkce_s256: true,
        }
        .url()
        .unwrap();
        assert_eq!(
            url,
            "https://acme.okta.test/oauth2/v1/authorize?response_type=code&client_id=0oa1\
             &redirect_uri=http%3A%2F%2Fsp.test%2Foidc%2Fcallback%2Facme&scope=openid+email&state=s&nonce=n\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
        );
    }

    #[test]
    fn a_form_post_tenant_asks_for_it_and_the_no_pkce_flaw_sends_no_challenge() {
        let scopes = vec!["openid".to_owned()];
        let url = AuthorizationRequest {
            authorization_endpoint: "https://acme.okta.test/oauth2/v1/authorize",
            client_id: "0oa1",
            redirect_uri: "http://sp.test/cb",
            scopes: &scopes,
            state: "s",
            nonce: "n",
            code_verifier: None,
            form_post: true,
            pkce_s256: true,
        }
        .url()
        .unwrap();
        assert!(url.ends_with("&state=s&nonce=n&response_mode=form_post"), "{url}");
        assert!(!url.contains("code_challenge"), "{url}");
    }
}
