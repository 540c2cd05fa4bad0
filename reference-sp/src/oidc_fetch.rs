//! The relying party's network side (IO): the discovery document and key
//! set, cached per tenant as `Cache-Control` allows; the token endpoint with
//! each client authentication method; userinfo. The rules about what is
//! fetched live in the pure [`crate::oidc`] modules; this module only moves
//! bytes and keeps the cache.

use std::sync::PoisonError;

use serde_json::{Map, Value};

use crate::config::{OidcClientAuth, OidcConnection, TenantConfig, TenantId};
use crate::oidc::OidcError;
use crate::oidc::discovery::{ProviderMetadata, discovery_url, parse_discovery};
use crate::oidc::jwks::Jwks;
use crate::oidc::jwks_cache::{Cached, ProviderCache, max_age};
use crate::sp::{Sp, SpError, new_token};

/// The largest document accepted from the provider.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// How long a client assertion (`private_key_jwt`) is valid.
const CLIENT_ASSERTION_LIFETIME: time::Duration = time::Duration::minutes(5);

/// The SP's one client for provider requests (see
/// [`crate::idp_fetch::IdpClients`]): no redirects, a timeout, the
/// connection pool shared, and the configured extra CA trusted.
fn client(sp: &Sp) -> Result<&reqwest::Client, OidcError> {
    sp.idp_clients().map(|clients| &clients.provider).map_err(|e| OidcError::ProviderUnreachable(e.to_owned()))
}

/// A response's body as text, within the size limit, with its
/// `Cache-Control` header.
struct Fetched {
    status: reqwest::StatusCode,
    body: String,
    cache_control: Option<String>,
}

async fn read(request: reqwest::RequestBuilder, what: &str) -> Result<Fetched, OidcError> {
    let unreachable = |e: reqwest::Error| OidcError::ProviderUnreachable(format!("{what}: {e}"));
    let response = request.send().await.map_err(unreachable)?;
    let status = response.status();
    let cache_control =
        response.headers().get(reqwest::header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).map(str::to_owned);
    if response.content_length().is_some_and(|l| l > MAX_RESPONSE_BYTES as u64) {
        return Err(OidcError::ProviderUnreachable(format!("{what}: larger than {MAX_RESPONSE_BYTES} bytes")));
    }
    let bytes = response.bytes().await.map_err(unreachable)?;
    if bytes.len() > MAX_RESPONSE_BYTES {
        return Err(OidcError::ProviderUnreachable(format!("{what}: larger than {MAX_RESPONSE_BYTES} bytes")));
    }
    Ok(Fetched { status, body: String::from_utf8_lossy(&bytes).into_owned(), cache_control })
}

async fn get(sp: &Sp, url: &str, what: &str) -> Result<Fetched, OidcError> {
    let fetched = read(client(sp)?.get(url), what).await?;
    if !fetched.status.is_success() {
        return Err(OidcError::ProviderUnreachable(format!("{what} {url}: HTTP {}", fetched.status)));
    }
    Ok(fetched)
}

fn with_cache<T>(sp: &Sp, tenant: &TenantId, use_cache: impl FnOnce(&mut ProviderCache) -> T) -> T {
    let mut caches = sp.oidc_providers.lock().unwrap_or_else(PoisonError::into_inner);
    use_cache(caches.entry(tenant.clone()).or_default())
}

/// The tenant's OIDC connection.
pub fn connection(tenant: &TenantConfig) -> Result<&OidcConnection, SpError> {
    tenant.oidc.as_ref().ok_or_else(|| SpError::OidcNotConfigured(tenant.id.clone()))
}

/// The tenant's provider metadata: cached, or fetched from
/// `{issuer}/.well-known/openid-configuration` and checked.
pub async fn provider(sp: &Sp, tenant: &TenantConfig) -> Result<ProviderMetadata, SpError> {
    let oidc = connection(tenant)?;
    let now = sp.now();
    let cached = with_cache(sp, &tenant.id, |cache| cache.metadata.clone());
    if let Some(cached) = cached.filter(|c| c.is_fresh(now)) {
        return Ok(cached.value);
    }
    let url = discovery_url(&oidc.issuer);
    let fetched = get(sp, &url, "discovery").await?;
    let metadata = parse_discovery(&fetched.body, &oidc.issuer, sp.policy.oidc_discovery_issuer_must_match)?;
    let cache_for = max_age(fetched.cache_control.as_deref());
    with_cache(sp, &tenant.id, |cache| cache.metadata = Some(Cached::new(metadata.clone(), now, cache_for)));
    Ok(metadata)
}

/// The tenant's key set: cached while fresh, otherwise fetched.
pub async fn keys(sp: &Sp, tenant: &TenantConfig, metadata: &ProviderMetadata) -> Result<Jwks, SpError> {
    let now = sp.now();
    let cached = with_cache(sp, &tenant.id, |cache| cache.keys.clone());
    match cached.filter(|c| c.is_fresh(now)) {
        Some(cached) => Ok(cached.value),
        None => fetch_keys(sp, &tenant.id, metadata).await,
    }
}

/// Refetches the key set because a token names a `kid` the cached set
/// lacks, if the rate limit allows; `None` when it does not (or the
/// `no-jwks-refetch` flaw is on).
pub async fn refetch_keys_for_unknown_kid(
    sp: &Sp,
    tenant: &TenantConfig,
    metadata: &ProviderMetadata,
) -> Result<Option<Jwks>, SpError> {
    if !sp.policy.oidc_refetch_jwks_on_unknown_kid {
        return Ok(None);
    }
    let now = sp.now();
    let allowed = with_cache(sp, &tenant.id, |cache| {
        let allowed = cache.may_refetch_for_unknown_kid(now, sp.policy.oidc_rate_limit_jwks_refetch);
        if allowed {
            cache.last_unknown_kid_refetch = Some(now);
        }
        allowed
    });
    if !allowed {
        tracing::info!(tenant = %tenant.id, "unknown kid: key set refetch skipped, too soon after the last one");
        return Ok(None);
    }
    Ok(Some(fetch_keys(sp, &tenant.id, metadata).await?))
}

async fn fetch_keys(sp: &Sp, tenant: &TenantId, metadata: &ProviderMetadata) -> Result<Jwks, SpError> {
    let now = sp.now();
    let fetched = get(sp, &metadata.jwks_uri, "key set").await.map_err(|e| match e {
        OidcError::ProviderUnreachable(why) => OidcError::JwksInvalid(why),
        other => other,
    })?;
    let jwks = Jwks::parse(&fetched.body)?;
    let cache_for = max_age(fetched.cache_control.as_deref());
    with_cache(sp, tenant, |cache| cache.keys = Some(Cached::new(jwks.clone(), now, cache_for)));
    Ok(jwks)
}

/// The key set at a token header's `jku`. Only the `trust-jku` flaw calls
/// this; the correct SP never fetches a URL a token names.
pub async fn key_set_at(sp: &Sp, url: &str) -> Result<Jwks, SpError> {
    let fetched = get(sp, url, "jku key set").await?;
    Ok(Jwks::parse(&fetched.body)?)
}

/// The key of the PEM certificate at `url`, as a one-key set. Only the
/// `trust-x5u` flaw fetches a token header's `x5u`.
pub async fn certificate_key_at(sp: &Sp, url: &str) -> Result<Jwks, SpError> {
    let fetched = get(sp, url, "x5u certificate").await?;
    let base64_der: String =
        fetched.body.lines().filter(|line| !line.starts_with("-----")).flat_map(|line| line.trim().chars()).collect();
    let key = crate::oidc::jwks::PublicJwk::from_certificate(&base64_der).ok_or(crate::oidc::OidcError::NoUsableKey)?;
    Ok(Jwks { keys: vec![key] })
}

/// What the token endpoint answered.
#[derive(Debug)]
pub struct TokenResponse {
    pub id_token: String,
    pub access_token: Option<String>,
    /// Sent when the client asked for `offline_access` and may refresh.
    pub refresh_token: Option<String>,
}

/// Exchanges an authorization code (RFC 6749 §4.1.3) with the PKCE
/// verifier (none only under the `no-pkce` flaw), authenticating as the
/// tenant's client says.
pub async fn exchange_code(
    sp: &Sp,
    oidc: &OidcConnection,
    metadata: &ProviderMetadata,
    code: &str,
    code_verifier: Option<&str>,
    redirect_uri: &str,
) -> Result<TokenResponse, SpError> {
    let mut form: Vec<(&str, String)> =
        vec![("grant_type", "authorization_code".into()), ("code", code.into()), ("redirect_uri", redirect_uri.into())];
    if let Some(verifier) = code_verifier {
        form.push(("code_verifier", verifier.into()));
    }
    token_request(sp, oidc, metadata, form).await
}

/// Redeems a refresh token (RFC 6749 §6), authenticating as the tenant's
/// client says. The answer must carry an ID token (OpenID Connect Core
/// 12.2), which the caller verifies and compares with the original.
pub async fn refresh(
    sp: &Sp,
    oidc: &OidcConnection,
    metadata: &ProviderMetadata,
    refresh_token: &str,
) -> Result<TokenResponse, SpError> {
    let form: Vec<(&str, String)> =
        vec![("grant_type", "refresh_token".into()), ("refresh_token", refresh_token.into())];
    token_request(sp, oidc, metadata, form).await
}

/// A token request with `form`, plus the client's authentication.
async fn token_request(
    sp: &Sp,
    oidc: &OidcConnection,
    metadata: &ProviderMetadata,
    mut form: Vec<(&str, String)>,
) -> Result<TokenResponse, SpError> {
    let mut request = client(sp)?.post(&metadata.token_endpoint).header(reqwest::header::ACCEPT, "application/json");
    match &oidc.client_auth {
        OidcClientAuth::ClientSecretBasic { secret } => {
            // RFC 6749 §2.3.1: both parts are form-encoded before Basic.
            let encode = |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
            request = request.basic_auth(encode(&oidc.client_id), Some(encode(secret)));
        }
        OidcClientAuth::ClientSecretPost { secret } => {
            form.push(("client_id", oidc.client_id.clone()));
            form.push(("client_secret", secret.clone()));
        }
        OidcClientAuth::PrivateKeyJwt { key_file } => {
            let pem = tokio::fs::read_to_string(key_file)
                .await
                .map_err(|e| OidcError::ClientKey(format!("{}: {e}", key_file.display())))?;
            let assertion = client_assertion(&pem, &oidc.client_id, &metadata.token_endpoint, sp.now())?;
            form.push(("client_id", oidc.client_id.clone()));
            form.push(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()));
            form.push(("client_assertion", assertion));
        }
        OidcClientAuth::None => form.push(("client_id", oidc.client_id.clone())),
    }
    let fetched = read(request.form(&form), "token endpoint").await?;
    let body: Map<String, Value> = serde_json::from_str(&fetched.body).map_err(|_| {
        OidcError::TokenRequestFailed(format!("HTTP {}, and the body is not a JSON object", fetched.status))
    })?;
    if !fetched.status.is_success() {
        let error = body.get("error").and_then(Value::as_str).unwrap_or("unknown");
        let description = body.get("error_description").and_then(Value::as_str).unwrap_or_default();
        return Err(OidcError::TokenRequestFailed(format!("HTTP {}: {error}: {description}", fetched.status)).into());
    }
    let id_token = body
        .get("id_token")
        .and_then(Value::as_str)
        .ok_or_else(|| OidcError::TokenRequestFailed("the response has no id_token".into()))?;
    Ok(TokenResponse {
        id_token: id_token.to_owned(),
        access_token: body.get("access_token").and_then(Value::as_str).map(str::to_owned),
        refresh_token: body.get("refresh_token").and_then(Value::as_str).map(str::to_owned),
    })
}

/// A `private_key_jwt` client assertion (RFC 7523 §3): signed with the
/// client's key, RS256 for an RSA key and ES256 for a P-256 one.
fn client_assertion(
    pem: &str,
    client_id: &str,
    token_endpoint: &str,
    now: time::OffsetDateTime,
) -> Result<String, OidcError> {
    let (key, algorithm) = match jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()) {
        Ok(key) => (key, jsonwebtoken::Algorithm::RS256),
        Err(_) => (
            jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes())
                .map_err(|e| OidcError::ClientKey(format!("neither an RSA nor a P-256 PEM key: {e}")))?,
            jsonwebtoken::Algorithm::ES256,
        ),
    };
    let claims = serde_json::json!({
        "iss": client_id,
        "sub": client_id,
        "aud": token_endpoint,
        "iat": now.unix_timestamp(),
        "exp": (now + CLIENT_ASSERTION_LIFETIME).unix_timestamp(),
        "jti": new_token(),
    });
    jsonwebtoken::encode(&jsonwebtoken::Header::new(algorithm), &claims, &key)
        .map_err(|e| OidcError::ClientKey(e.to_string()))
}

/// The userinfo response for an access token (Core §5.3), as a JSON object.
pub async fn userinfo(sp: &Sp, endpoint: &str, access_token: &str) -> Result<Map<String, Value>, SpError> {
    let fetched = read(client(sp)?.get(endpoint).bearer_auth(access_token), "userinfo").await?;
    if !fetched.status.is_success() {
        return Err(OidcError::UserinfoFailed(format!("HTTP {}", fetched.status)).into());
    }
    Ok(serde_json::from_str(&fetched.body)
        .map_err(|_| OidcError::UserinfoFailed("the body is not a JSON object".into()))?)
}
