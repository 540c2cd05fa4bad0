//! Discovery documents: `/.well-known/openid-configuration` and
//! `/.well-known/oauth-authorization-server`, with Okta's keys in Okta's
//! order and Okta's values, less what the mock does not implement.
//!
//! OIDC libraries choose their path from these documents, so they list only
//! what the mock really serves: an RP that reads discovery never picks a
//! feature the mock would refuse. Each omission (the implicit and hybrid
//! response types, `okta_post_message`, the password, device and CIBA
//! grants, `registration_endpoint`, `device_authorization_endpoint`, the
//! backchannel keys, DPoP, `device_sso`, and the profile claims the mock's
//! users do not have) is listed in the README. A test walks the document and
//! checks that every endpoint and authentication method it names is served.

use serde_json::{Value, json};

use super::ServerRef;
use crate::org::oidc::{AuthorizationServer, OIDC_SCOPES, ORG_SERVER_SCOPES, SigningAlgorithm};

/// Okta's response modes less `okta_post_message`, which the mock lacks.
const RESPONSE_MODES: [&str; 3] = ["query", "fragment", "form_post"];
/// Okta's five client authentication methods, in Okta's order, for the
/// token, introspection and revocation endpoints alike.
const AUTH_METHODS: [&str; 5] =
    ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"];
/// Okta's nine request object algorithms less ES512, which the mock's JWT
/// library cannot verify.
const REQUEST_OBJECT_ALGORITHMS: [&str; 8] = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384"];
/// Okta's ID token claims in Okta's order, less `picture`, `website`,
/// `gender` and `birthdate`: the mock's user profiles have no such attributes.
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
    // Okta's order is authorization_code, implicit, refresh_token, password,
    // then client_credentials (custom servers only: the org server gives it
    // only for Okta's own `okta.*` scopes, which the mock does not have),
    // device_code and CIBA. The mock has no implicit, password, device or
    // CIBA grant.
    let mut grants = vec!["authorization_code", "refresh_token"];
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
        DocumentKind::OpenIdConfiguration => json!(CLAIMS),
        DocumentKind::OAuthAuthorizationServer => {
            json!(["ver", "jti", "iss", "aud", "iat", "exp", "cid", "uid", "scp", "sub"])
        }
    };
    put("claims_supported", claims);
    put("code_challenge_methods_supported", json!(["S256"]));
    put("introspection_endpoint", endpoint("introspect").into());
    put("introspection_endpoint_auth_methods_supported", json!(AUTH_METHODS));
    put("revocation_endpoint", endpoint("revoke").into());
    put("revocation_endpoint_auth_methods_supported", json!(AUTH_METHODS));
    put("end_session_endpoint", endpoint("logout").into());
    put("request_parameter_supported", true.into());
    put("request_object_signing_alg_values_supported", json!(REQUEST_OBJECT_ALGORITHMS));
    put("pushed_authorization_request_endpoint", endpoint("par").into());
    Value::Object(doc)
}
