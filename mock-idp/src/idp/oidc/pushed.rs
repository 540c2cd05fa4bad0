//! Pushed authorization requests (RFC 9126, Okta's `/v1/par`) and request
//! objects (OIDC Core §6.1) at `/authorize`: both turn what arrives into the
//! plain parameters that [`authorize::validate`] checks.
//!
//! A pushed request is validated when it is pushed, kept under its
//! `urn:okta:` request URI for a minute, and taken (so used once) by the
//! `/authorize` request that names it. A request object's `jti`, when it has
//! one, is remembered until the object expires, so the object is single-use.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::lock;
use crate::idp::Idp;
use crate::idp::bounded::BoundedMap;
use crate::ids::AppId;
use crate::oidc::authorize::{self, AuthorizeParams, AuthorizeRefusal, AuthorizeReply};
use crate::oidc::request_object;
use crate::oidc::token::FormParams;
use crate::oidc::{OAuthCode, OidcError, ServerRef};

/// How long a pushed request's URI can be used, in seconds.
const PUSHED_REQUEST_LIFETIME_SECONDS: i64 = 60;
/// The most pushed requests kept waiting; the oldest go first.
const MAX_PUSHED_REQUESTS: usize = 100_000;
/// Form parameters that authenticate the client at `/par` and are not part
/// of the authorization request.
const CLIENT_AUTHENTICATION_PARAMETERS: [&str; 3] = ["client_secret", "client_assertion", "client_assertion_type"];

/// A pushed authorization request waiting for its `/authorize`.
#[derive(Debug, Clone)]
pub(super) struct PushedRequest {
    server: ServerRef,
    client: AppId,
    params: AuthorizeParams,
    expires: OffsetDateTime,
}

impl crate::idp::bounded::Footprint for PushedRequest {
    fn footprint(&self) -> usize {
        crate::idp::bounded::debug_footprint(self)
    }
}

/// The pushed requests waiting, by request URI.
pub(super) fn pushed_requests() -> BoundedMap<PushedRequest> {
    BoundedMap::new(MAX_PUSHED_REQUESTS)
}

impl Idp {
    /// `POST /v1/par`: authenticates the client, checks the request as
    /// `/authorize` would, and answers with its single-use request URI.
    pub fn push_authorization_request(
        &self,
        server: &ServerRef,
        authorization: Option<&str>,
        form: &FormParams,
    ) -> Result<Value, OidcError> {
        let client = self.authenticate_client(server, authorization, form, "par")?;
        if form.get("request_uri").is_some() {
            return Err(OidcError::oauth(
                OAuthCode::InvalidRequest,
                "The 'request_uri' parameter cannot be used at the pushed authorization request endpoint.",
            ));
        }
        let pairs = form
            .iter()
            .filter(|(name, _)| !CLIENT_AUTHENTICATION_PARAMETERS.contains(name))
            .map(|(name, value)| (name.to_owned(), value.to_owned()));
        let mut params = AuthorizeParams::from_pairs(pairs)?;
        // The client authenticated; the request is its own whatever the form said.
        params.set("client_id", client.to_string());
        let params = match self.expand_request_object(server, &params)? {
            Ok(expanded) => expanded,
            Err(reply) => return Err(reply_as_error(&reply)),
        };
        self.read_org(|org| {
            Self::server_exists(org, server)?;
            match authorize::validate(org, server, &params) {
                Ok(_) => Ok(()),
                Err(AuthorizeRefusal::Page(error)) => {
                    Err(OidcError::oauth(OAuthCode::InvalidRequest, error.to_string()))
                }
                Err(AuthorizeRefusal::Reply(reply)) => Err(reply_as_error(&reply)),
            }
        })?;
        let request_uri = format!("urn:okta:{}", self.ids.opaque_token());
        let expires = self.now() + time::Duration::seconds(PUSHED_REQUEST_LIFETIME_SECONDS);
        let record = PushedRequest { server: server.clone(), client, params, expires };
        lock(&self.oidc.pushed).insert(request_uri.clone(), record);
        Ok(json!({ "request_uri": request_uri, "expires_in": PUSHED_REQUEST_LIFETIME_SECONDS }))
    }

    /// The parameters `/authorize` should check: those of the pushed request
    /// that `request_uri` names (taken, so used once), or the query's with
    /// its request object's merged in. `Ok(Err(reply))` is a refusal that
    /// goes back to the client.
    pub(super) fn expand_authorization_request(
        &self,
        server: &ServerRef,
        params: &AuthorizeParams,
    ) -> Result<Result<AuthorizeParams, AuthorizeReply>, OidcError> {
        let Some(request_uri) = params.get("request_uri") else {
            return self.expand_request_object(server, params);
        };
        let now = self.now();
        let taken = lock(&self.oidc.pushed).map.remove(request_uri);
        let pushed = taken.filter(|pushed| {
            pushed.server == *server && pushed.expires > now && params.get("client_id") == Some(pushed.client.as_str())
        });
        match pushed {
            // RFC 9126 §4: only the pushed parameters count.
            Some(pushed) => Ok(Ok(pushed.params)),
            None => Err(OidcError::AuthorizePage(format!(
                "{}: The 'request_uri' is unknown, has expired, was already used or belongs to another client.",
                OAuthCode::InvalidRequestUri
            ))),
        }
    }

    /// Verifies and merges a request object, refusing one whose `jti` was seen.
    fn expand_request_object(
        &self,
        server: &ServerRef,
        params: &AuthorizeParams,
    ) -> Result<Result<AuthorizeParams, AuthorizeReply>, OidcError> {
        let now = self.now();
        let expanded = self.read_org(|org| {
            Self::server_exists(org, server)?;
            match request_object::expand(org, server, params, now) {
                Ok(expanded) => Ok(Ok(expanded)),
                Err(AuthorizeRefusal::Page(error)) => Err(error),
                Err(AuthorizeRefusal::Reply(reply)) => Ok(Err(reply)),
            }
        })?;
        let expanded = match expanded {
            Ok(Some(expanded)) => expanded,
            Ok(None) => return Ok(Ok(params.clone())),
            Err(reply) => return Ok(Err(reply)),
        };
        if let Some((jti, until)) = &expanded.jti {
            let key = format!("request-object {} {jti}", expanded.client);
            let mut seen = lock(&self.oidc.assertions);
            if seen.map.get(&key).is_some_and(|seen_until| *seen_until > now.unix_timestamp()) {
                drop(seen);
                let refusal = self.read_org(|org| {
                    org.apps.get(&expanded.client).map(|app| {
                        request_object::refusal(
                            app,
                            params,
                            OAuthCode::InvalidRequestObject,
                            "The request object has already been used (its jti was seen before).",
                        )
                    })
                });
                return match refusal {
                    Some(AuthorizeRefusal::Reply(reply)) => Ok(Err(reply)),
                    Some(AuthorizeRefusal::Page(error)) => Err(error),
                    None => Err(OidcError::AuthorizeBadClient),
                };
            }
            seen.insert(key, *until);
        }
        Ok(Ok(expanded.params))
    }
}

/// An authorization refusal as the JSON error of a back-channel endpoint.
fn reply_as_error(reply: &AuthorizeReply) -> OidcError {
    let value = |name: &str| reply.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let code = value("error").and_then(OAuthCode::parse).unwrap_or(OAuthCode::InvalidRequest);
    OidcError::oauth(code, value("error_description").unwrap_or_default())
}
