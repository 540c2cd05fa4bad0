//! Request objects: authorization request parameters passed as a signed JWT
//! in the `request` parameter (OpenID Connect Core §6.1, RFC 9101), as Okta
//! accepts them.
//!
//! The object must be signed, with the client secret (HS256, HS384, HS512)
//! or with a key the client registered (RS256, RS384, RS512, ES256, ES384);
//! `iss` must be the client id and `aud` the authorization server's issuer,
//! and an `exp` more than an hour away is refused, as Okta's documentation
//! says. Its parameters take precedence over the query's (OIDC Core §6.3.3),
//! and the query's `client_id` and `response_type`, which OAuth requires
//! outside the object, must match the object's where it has them. A `jti`
//! makes the object single-use; the caller keeps the ids it has seen.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::authorize::{AuthorizeParams, AuthorizeRefusal, AuthorizeReply, ReplyTo, ResponseMode};
use super::token::client_keys;
use super::{OAuthCode, OidcError, ServerRef};
use crate::ids::AppId;
use crate::org::{App, Org};

/// How far in the future a request object may expire, as Okta allows.
const MAX_REQUEST_OBJECT_LIFETIME_SECONDS: i64 = 3600;

/// Claims of the JWT that are not authorization request parameters.
const JWT_ONLY_CLAIMS: [&str; 6] = ["iss", "aud", "exp", "iat", "nbf", "jti"];

/// An authorization request after its request object was verified and merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandedRequest {
    pub params: AuthorizeParams,
    pub client: AppId,
    /// The object's `jti` and until when it must not be seen again.
    pub jti: Option<(String, i64)>,
}

/// Verifies the `request` parameter, if any, and merges its parameters into
/// the request's. `Ok(None)` when there is no request object.
pub fn expand(
    org: &Org,
    server: &ServerRef,
    params: &AuthorizeParams,
    now: OffsetDateTime,
) -> Result<Option<ExpandedRequest>, AuthorizeRefusal> {
    let Some(jwt) = params.get("request") else {
        return Ok(None);
    };
    // OAuth requires client_id outside the object, so the client, and where
    // a refusal may go, are known before the object is read.
    let app = params
        .get("client_id")
        .and_then(|id| AppId::parse(id).ok())
        .and_then(|id| org.apps.get(&id))
        .filter(|app| app.active && app.oidc().is_some())
        .ok_or(AuthorizeRefusal::Page(OidcError::AuthorizeBadClient))?;
    let refuse = |description: &str| refusal(app, params, OAuthCode::InvalidRequestObject, description);
    if params.get("request_uri").is_some() {
        return Err(refusal(
            app,
            params,
            OAuthCode::InvalidRequest,
            "The 'request' and 'request_uri' parameters cannot be used together.",
        ));
    }
    let Ok(header) = jsonwebtoken::decode_header(jwt) else {
        return Err(refuse(
            "The request object must be a JWT signed with a supported algorithm (unsigned and encrypted objects are not accepted).",
        ));
    };
    let issuer = server.issuer(&org.url);
    let claims = client_keys(app, &header)
        .iter()
        .find_map(|key| {
            let mut validation = jsonwebtoken::Validation::new(header.alg);
            validation.set_issuer(&[app.id.as_str()]);
            validation.set_audience(&[issuer.as_str()]);
            validation.set_required_spec_claims(&["iss", "aud"]);
            // The clock is injected, so times are checked below against `now`.
            validation.validate_exp = false;
            validation.validate_nbf = false;
            jsonwebtoken::decode::<Map<String, Value>>(jwt, key, &validation).ok()
        })
        .map(|data| data.claims)
        .ok_or_else(|| {
            refuse("The request object's signature, 'iss' (the client id) or 'aud' (the authorization server's issuer) is invalid.")
        })?;
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    let now_seconds = now.unix_timestamp();
    if number("exp").is_some_and(|exp| exp <= now_seconds) {
        return Err(refuse("The request object has expired."));
    }
    if number("exp").is_some_and(|exp| exp > now_seconds + MAX_REQUEST_OBJECT_LIFETIME_SECONDS) {
        return Err(refuse("The request object's 'exp' must be no more than one hour in the future."));
    }
    if number("nbf").is_some_and(|nbf| nbf > now_seconds) {
        return Err(refuse("The request object is not valid yet."));
    }
    let mut merged = params.clone();
    merged.remove("request");
    for (name, value) in &claims {
        if JWT_ONLY_CLAIMS.contains(&name.as_str()) {
            continue;
        }
        if name == "request" || name == "request_uri" {
            return Err(refuse("A request object cannot contain 'request' or 'request_uri'."));
        }
        let value = match value {
            Value::String(text) => text.clone(),
            // `max_age` is a number and `claims` an object (OIDC Core §6.1);
            // both travel as their JSON text in a query.
            other => other.to_string(),
        };
        if (name == "client_id" || name == "response_type") && params.get(name).is_some_and(|outer| outer != value) {
            return Err(refuse(&format!("The '{name}' parameter must match the request object's.")));
        }
        merged.set(name, value);
    }
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .map(|jti| (jti.to_owned(), number("exp").unwrap_or(now_seconds + MAX_REQUEST_OBJECT_LIFETIME_SECONDS)));
    Ok(Some(ExpandedRequest { params: merged, client: app.id.clone(), jti }))
}

/// A refusal goes back on the query's redirect URI when it is registered for
/// the client; otherwise there is nowhere safe to send it but a page.
pub fn refusal(app: &App, params: &AuthorizeParams, code: OAuthCode, description: &str) -> AuthorizeRefusal {
    let registered = params
        .get("redirect_uri")
        .filter(|uri| app.oidc().is_some_and(|s| s.redirect_uris.iter().any(|registered| registered == uri)));
    match registered {
        Some(uri) => AuthorizeRefusal::Reply(AuthorizeReply::error(
            ReplyTo {
                redirect_uri: uri.to_owned(),
                mode: params.get("response_mode").and_then(ResponseMode::parse).unwrap_or(ResponseMode::Query),
                state: params.get("state").map(str::to_owned),
            },
            code,
            description,
        )),
        None => AuthorizeRefusal::Page(OidcError::AuthorizePage(format!("{code}: {description}"))),
    }
}
