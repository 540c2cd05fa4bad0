//! The authorization request: parsed at the edge, then validated in the order
//! RFC 6749 §4.1.2.1 requires. A bad `client_id` or `redirect_uri` gets an
//! error page and never a redirect; every later error goes back to the
//! client on its redirect URI, with `state`.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::{OAuthCode, OidcError, ServerRef, base64url, split_scopes};
use crate::ids::AppId;
use crate::org::oidc::{GrantType, OIDC_SCOPES, ORG_SERVER_SCOPES};
use crate::org::{App, Org};

/// How the authorization response travels back (OAuth 2.0 Multiple Response
/// Type Encoding Practices, and Form Post Response Mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

impl ResponseMode {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "query" => ResponseMode::Query,
            "fragment" => ResponseMode::Fragment,
            "form_post" => ResponseMode::FormPost,
            _ => return None,
        })
    }
}

/// The PKCE transformation (RFC 7636 §4.2). Okta supports only `S256`
/// (its discovery documents list no other), so `plain` is refused at
/// `/authorize` and never reaches a stored challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeChallengeMethod {
    S256,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge {
    pub challenge: String,
    pub method: CodeChallengeMethod,
}

impl CodeChallenge {
    /// Whether a code verifier answers the challenge (RFC 7636 §4.6).
    pub fn verifies(&self, verifier: &str) -> bool {
        if !valid_pkce_string(verifier) {
            return false;
        }
        match self.method {
            CodeChallengeMethod::S256 => {
                let computed = base64url(Sha256::digest(verifier.as_bytes()));
                constant_time_eq(computed.as_bytes(), self.challenge.as_bytes())
            }
        }
    }
}

/// 43 to 128 characters from the unreserved set (RFC 7636 §4.1).
pub fn valid_pkce_string(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Compares secrets without stopping at the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `prompt` parameter (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
}

/// The raw parameters of an authorization request, each at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizeParams {
    values: BTreeMap<String, String>,
}

impl AuthorizeParams {
    /// Collects the parameters. A repeated parameter is refused, as RFC 6749
    /// §3.1 requires, before anything else is looked at.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Result<Self, OidcError> {
        let mut values = BTreeMap::new();
        for (name, value) in pairs {
            if values.insert(name.clone(), value).is_some() {
                return Err(OidcError::AuthorizePage(format!("The '{name}' parameter was given more than once.")));
            }
        }
        Ok(AuthorizeParams { values })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// Sets a parameter, replacing any value it had: how a request object's
    /// parameters take precedence over the query's.
    pub fn set(&mut self, name: &str, value: String) {
        self.values.insert(name.to_owned(), value);
    }

    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.values.remove(name)
    }
}

/// Where an authorization response goes: the redirect URI, the mode, and
/// the `state` to echo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyTo {
    pub redirect_uri: String,
    pub mode: ResponseMode,
    pub state: Option<String>,
}

/// An authorization response: the code or an error, for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeReply {
    pub to: ReplyTo,
    /// `code`, or `error` and `error_description`; `state` is added from `to`.
    pub params: Vec<(String, String)>,
}

impl AuthorizeReply {
    pub fn error(to: ReplyTo, code: OAuthCode, description: &str) -> Self {
        AuthorizeReply {
            to,
            params: vec![("error".into(), code.as_str().into()), ("error_description".into(), description.into())],
        }
    }

    /// Every parameter, with `state` last, as Okta sends it.
    pub fn all_params(&self) -> Vec<(String, String)> {
        let mut params = self.params.clone();
        if let Some(state) = &self.to.state {
            params.push(("state".into(), state.clone()));
        }
        params
    }

    /// The redirect location for the query and fragment modes.
    pub fn location(&self) -> String {
        let encoded: String =
            url::form_urlencoded::Serializer::new(String::new()).extend_pairs(self.all_params()).finish();
        match self.to.mode {
            ResponseMode::Fragment => format!("{}#{encoded}", self.to.redirect_uri),
            ResponseMode::Query | ResponseMode::FormPost => {
                let separator = if self.to.redirect_uri.contains('?') { '&' } else { '?' };
                format!("{}{separator}{encoded}", self.to.redirect_uri)
            }
        }
    }
}

/// An authorization request that passed every check that does not depend on
/// who signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAuthorization {
    pub server: ServerRef,
    pub client: AppId,
    pub reply_to: ReplyTo,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub challenge: Option<CodeChallenge>,
    pub prompt: Prompt,
    pub login_hint: Option<String>,
    pub max_age: Option<i64>,
}

/// Why a request was refused: on an error page, or back to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeRefusal {
    Page(OidcError),
    Reply(AuthorizeReply),
}

/// Where Okta's error page points the admin for redirect URI problems.
fn admin_url(org: &Org, client: &AppId) -> String {
    format!("{}/admin/app/oidc_client/instance/{client}#tab-general", org.url)
}

/// Validates an authorization request against the org.
pub fn validate(
    org: &Org,
    server: &ServerRef,
    params: &AuthorizeParams,
) -> Result<ValidAuthorization, AuthorizeRefusal> {
    let page = |error: OidcError| Err(AuthorizeRefusal::Page(error));
    let Some(client_id) = params.get("client_id") else {
        return page(OidcError::AuthorizeBadClient);
    };
    let Some(app) = AppId::parse(client_id).ok().and_then(|id| org.apps.get(&id)).filter(|a| a.active) else {
        return page(OidcError::AuthorizeBadClient);
    };
    let Some(settings) = app.oidc() else {
        return page(OidcError::AuthorizeBadClient);
    };
    let admin_url = admin_url(org, &app.id);
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return page(OidcError::RedirectUriNotRegistered { admin_url });
    };
    if !settings.redirect_uris.iter().any(|uri| uri == redirect_uri) {
        return page(OidcError::RedirectUriNotRegistered { admin_url });
    }
    let mode = params.get("response_mode").map(ResponseMode::parse);
    let to = ReplyTo {
        redirect_uri: redirect_uri.to_owned(),
        mode: mode.flatten().unwrap_or(ResponseMode::Query),
        state: params.get("state").map(str::to_owned),
    };
    let refuse = |code: OAuthCode, description: &str| {
        Err(AuthorizeRefusal::Reply(AuthorizeReply::error(to.clone(), code, description)))
    };
    if mode == Some(None) {
        return refuse(
            OAuthCode::InvalidRequest,
            "The 'response_mode' parameter must be one of query, fragment or form_post.",
        );
    }
    match params.get("response_type") {
        None => return refuse(OAuthCode::InvalidRequest, "The 'response_type' parameter is required."),
        Some("code") => {}
        Some(_) => {
            return refuse(
                OAuthCode::UnsupportedResponseType,
                "The response type is not supported by the authorization server. Configured response types: [code].",
            );
        }
    }
    if !settings.allows_grant(GrantType::AuthorizationCode) {
        let configured: Vec<&str> = settings.grant_types.iter().map(|g| g.as_str()).collect();
        return refuse(
            OAuthCode::UnauthorizedClient,
            &format!(
                "The client is not authorized to use the provided grant type. Configured grant types: [{}].",
                configured.join(", ")
            ),
        );
    }
    if to.state.is_none() {
        return refuse(OAuthCode::InvalidRequest, "The authentication request has an invalid 'state' parameter.");
    }
    let Some(scope) = params.get("scope") else {
        return refuse(
            OAuthCode::InvalidScope,
            "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
        );
    };
    let scopes = split_scopes(scope);
    if let Err(refusal) = check_scopes(org, server, app, &scopes, GrantType::AuthorizationCode) {
        return refuse(refusal.0, &refusal.1);
    }
    let challenge = match (params.get("code_challenge"), params.get("code_challenge_method")) {
        (None, None) => None,
        (None, Some(_)) => {
            return refuse(
                OAuthCode::InvalidRequest,
                "The 'code_challenge' parameter is required with 'code_challenge_method'.",
            );
        }
        (Some(challenge), method) => {
            // A missing method means `plain` (RFC 7636 §4.3), which Okta
            // does not support: only S256 is accepted.
            let method = match method {
                Some("S256") => CodeChallengeMethod::S256,
                _ => {
                    return refuse(
                        OAuthCode::InvalidRequest,
                        "PKCE code challenge method is not supported. Use 'S256' as the 'code_challenge_method'.",
                    );
                }
            };
            if !valid_pkce_string(challenge) {
                return refuse(
                    OAuthCode::InvalidRequest,
                    "PKCE code challenge must be 43 to 128 characters from [A-Z] [a-z] [0-9] '-' '.' '_' '~'.",
                );
            }
            Some(CodeChallenge { challenge: challenge.to_owned(), method })
        }
    };
    if challenge.is_none() && settings.requires_pkce() {
        let why = if settings.application_type.is_public() {
            "PKCE code challenge is required when the token endpoint authentication method is 'NONE'."
        } else {
            "PKCE code challenge is required by the client's settings."
        };
        return refuse(OAuthCode::InvalidRequest, why);
    }
    let mut prompt = Prompt::default();
    if let Some(value) = params.get("prompt") {
        for word in value.split(' ').filter(|w| !w.is_empty()) {
            match word {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" | "select_account" => {}
                _ => return refuse(OAuthCode::InvalidRequest, "The 'prompt' parameter is invalid."),
            }
        }
        if prompt.none && value.split(' ').filter(|w| !w.is_empty()).count() > 1 {
            return refuse(
                OAuthCode::InvalidRequest,
                "The 'prompt' value 'none' cannot be combined with other values.",
            );
        }
    }
    let max_age = match params.get("max_age") {
        None => None,
        Some(value) => match value.parse::<i64>() {
            Ok(seconds) if seconds >= 0 => Some(seconds),
            _ => return refuse(OAuthCode::InvalidRequest, "The 'max_age' parameter must be a non-negative integer."),
        },
    };
    Ok(ValidAuthorization {
        server: server.clone(),
        client: app.id.clone(),
        reply_to: to.clone(),
        scopes,
        nonce: params.get("nonce").map(str::to_owned),
        challenge,
        prompt,
        login_hint: params.get("login_hint").map(str::to_owned),
        max_age,
    })
}

/// Checks requested scopes against the server and, for custom servers, the
/// access policy. Returns the OAuth code and description of a refusal.
pub fn check_scopes(
    org: &Org,
    server: &ServerRef,
    app: &App,
    scopes: &[String],
    grant: GrantType,
) -> Result<(), (OAuthCode, String)> {
    let not_configured = || {
        (
            OAuthCode::InvalidScope,
            "One or more scopes are not configured for the authorization server resource.".to_owned(),
        )
    };
    match server {
        ServerRef::Org => {
            if scopes.iter().any(|s| !ORG_SERVER_SCOPES.contains(&s.as_str())) {
                return Err(not_configured());
            }
        }
        ServerRef::Custom(id) => {
            let Some(custom) = org.authorization_server(id) else {
                return Err((OAuthCode::InvalidRequest, format!("Unknown authorization server '{id}'.")));
            };
            let known = |s: &String| OIDC_SCOPES.contains(&s.as_str()) || custom.scopes.contains(s);
            if !scopes.iter().all(known) {
                return Err(not_configured());
            }
            let policy_denied = || {
                (
                    OAuthCode::AccessDenied,
                    "Policy evaluation failed for this request, please check the policy configurations.".to_owned(),
                )
            };
            let Some(policy) = custom.policy_for(&app.id) else {
                return Err(policy_denied());
            };
            if !policy.grant_types.contains(&grant) || !scopes.iter().all(|s| policy.allows_scope(s)) {
                return Err(policy_denied());
            }
        }
    }
    let wants_refresh = scopes.iter().any(|s| s == "offline_access");
    if wants_refresh && !app.oidc().is_some_and(|s| s.allows_grant(GrantType::RefreshToken)) {
        return Err((
            OAuthCode::InvalidScope,
            "The 'offline_access' scope needs the refresh_token grant, which the client does not have.".to_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_challenge_matches_rfc7636_appendix_b() {
        let challenge = CodeChallenge {
            challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            method: CodeChallengeMethod::S256,
        };
        assert!(challenge.verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!challenge.verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"));
        assert!(!challenge.verifies("short"));
    }

    #[test]
    fn repeated_parameter_refused_before_anything_else() {
        let pairs = vec![("scope".to_owned(), "openid".to_owned()), ("scope".to_owned(), "email".to_owned())];
        assert!(matches!(AuthorizeParams::from_pairs(pairs), Err(OidcError::AuthorizePage(_))));
    }

    #[test]
    fn reply_location_appends_to_existing_query_and_puts_state_last() {
        let reply = AuthorizeReply {
            to: ReplyTo {
                redirect_uri: "https://rp.test/cb?tenant=a".into(),
                mode: ResponseMode::Query,
                state: Some("s 1".into()),
            },
            params: vec![("code".into(), "abc".into())],
        };
        assert_eq!(reply.location(), "https://rp.test/cb?tenant=a&code=abc&state=s+1");
    }
}
