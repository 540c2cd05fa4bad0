//! Discovery documents: `/.well-known/openid-configuration` and
//! `/.well-known/oauth-authorization-server`, in Okta's key order.
//!
//! They list what the mock really supports, not everything Okta does: only
//! the `code` response type, the grants the mock implements, and the client
//! authentication methods it checks. There is no `registration_endpoint`:
//! the mock has no dynamic client registration. An RP that reads discovery therefore
//! never picks a feature the mock would refuse.

use serde_json::{Value, json};

use super::ServerRef;
use crate::org::oidc::{AuthorizationServer, OIDC_SCOPES, ORG_SERVER_SCOPES, SigningAlgorithm};

const RESPONSE_MODES: [&str; 3] = ["query", "fragment", "form_post"];
const AUTH_METHODS: [&str; 4] = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];
const CLAIMS: [&str; 27] = [
    "iss",
    "ver",
    "sub",
    "aud",
    "iat",
    "exp",
    "jti",
    "auth_time",
    "amr",
    "idp",
    "nonce",
    "name",
    "nickname",
    "preferred_username",
    "given_name",
    "middle_name",
    "family_name",
    "email",
    "email_verified",
    "profile",
    "zoneinfo",
    "locale",
    "address",
    "phone_number",
    "updated_at",
    "at_hash",
    "c_hash",
];

/// Which of the two well-known documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    OpenIdConfiguration,
    OAuthAuthorizationServer,
}

/// The discovery document of a server. `custom` is `None` for the org server.
pub fn document(org_url: &str, server: &ServerRef, custom: Option<&AuthorizationServer>, kind: DocumentKind) -> Value {
    let issuer = server.issuer(org_url);
    let endpoint = |name: &str| server.endpoint(org_url, name);
    let scopes: Vec<String> = match custom {
        None => ORG_SERVER_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        Some(custom) => custom.scopes.iter().cloned().chain(OIDC_SCOPES.iter().map(|s| (*s).to_owned())).collect(),
    };
    let mut grants = vec!["authorization_code", "refresh_token"];
    // Okta's org server only gives client credentials for its own `okta.*`
    // scopes, which the mock does not have, so only custom servers list it.
    if custom.is_some() {
        grants.push("client_credentials");
    }
    let algorithm = custom.map_or(SigningAlgorithm::Rs256, |c| c.signing_algorithm).as_str();
    let mut doc = serde_json::Map::new();
    let mut put = |key: &str, value: Value| {
        doc.insert(key.to_owned(), value);
    };
    put("issuer", issuer.into());
    put("authorization_endpoint", endpoint("authorize").into());
    put("token_endpoint", endpoint("token").into());
    if kind == DocumentKind::OpenIdConfiguration {
        put("userinfo_endpoint", endpoint("userinfo").into());
    }
    put("jwks_uri", endpoint("keys").into());
    put("response_types_supported", json!(["code"]));
    put("response_modes_supported", json!(RESPONSE_MODES));
    put("grant_types_supported", json!(grants));
    put("subject_types_supported", json!(["public"]));
    if kind == DocumentKind::OpenIdConfiguration {
        put("id_token_signing_alg_values_supported", json!([algorithm]));
    }
    put("scopes_supported", json!(scopes));
    put("token_endpoint_auth_methods_supported", json!(AUTH_METHODS));
    let claims: Value = match kind {
        DocumentKind::OpenIdConfiguration => {
            let mut claims: Vec<&str> = CLAIMS.to_vec();
            if custom.is_none() {
                claims.push("groups");
            }
            json!(claims)
        }
        DocumentKind::OAuthAuthorizationServer => {
            json!(["ver", "jti", "iss", "aud", "iat", "exp", "cid", "uid", "scp", "sub"])
        }
    };
    put("claims_supported", claims);
    put("code_challenge_methods_supported", json!(["S256", "plain"]));
    put("introspection_endpoint", endpoint("introspect").into());
    put("introspection_endpoint_auth_methods_supported", json!(AUTH_METHODS));
    put("revocation_endpoint", endpoint("revoke").into());
    put("revocation_endpoint_auth_methods_supported", json!(AUTH_METHODS));
    put("end_session_endpoint", endpoint("logout").into());
    put("request_parameter_supported", false.into());
    Value::Object(doc)
}
