//! What ID tokens, access tokens and `/userinfo` say, in Okta's claim order.
//!
//! The order follows captured Okta tokens, and the snapshots
//! `tests/mock_idp/snapshots/mock_idp__snapshots__oidc__id_token_claims_*.snap`
//! pin it: `sub`,
//! `name`, `email`, `ver`, `iss`, `aud`, `iat`, `exp`, `jti`, `amr`, `idp`,
//! `nonce`, `preferred_username`, the other profile claims, `auth_time`,
//! `at_hash`, then groups and custom claims last.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::faults::{OidcFault, impostor_issuer};
use super::{ServerRef, base64url};
use crate::org::oidc::{AuthorizationServer, ClaimTarget, ClaimValue};
use crate::org::{App, AttributeValueSource, Org, User};

/// ID tokens live an hour, as Okta's do.
pub const ID_TOKEN_LIFETIME_SECONDS: i64 = 3600;

/// The most groups one groups claim carries. Okta's groups claims (the app's
/// groups claim filter on the org server, a Groups claim on a custom server)
/// return at most 100 groups, and for a user in more the token carries the
/// first 100 without saying that it cut the list (Okta's groups-claim
/// guide and its Groups.contains/startsWith limit; attacks.md K-07). SAML
/// group attribute statements have no such limit, so the mock cuts only
/// OIDC claims.
pub const GROUPS_CLAIM_LIMIT: usize = 100;

/// The names of the groups a groups claim with `filter` carries: the
/// matching groups in the org's order, cut at [`GROUPS_CLAIM_LIMIT`].
fn claimed_group_names<'g>(groups: &[&'g crate::org::Group], matches: impl Fn(&str) -> bool) -> Vec<&'g str> {
    groups.iter().filter(|g| matches(&g.name)).map(|g| g.name.as_str()).take(GROUPS_CLAIM_LIMIT).collect()
}

/// Everything a token's claims depend on.
#[derive(Debug, Clone, Copy)]
pub struct TokenContext<'a> {
    pub org: &'a Org,
    pub server: &'a ServerRef,
    pub custom: Option<&'a AuthorizationServer>,
    pub client: &'a App,
    /// `None` for client credentials.
    pub user: Option<&'a User>,
    pub scopes: &'a [String],
    pub nonce: Option<&'a str>,
    pub auth_time: Option<OffsetDateTime>,
    pub now: OffsetDateTime,
    pub access_token_lifetime_seconds: i64,
}

impl TokenContext<'_> {
    fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    fn issuer(&self) -> String {
        self.server.issuer(&self.org.url)
    }

    /// The `aud` of access tokens: the custom server's first audience, or the
    /// org URL for the org server.
    pub fn access_token_audience(&self) -> String {
        self.custom.and_then(|c| c.audiences.first().cloned()).unwrap_or_else(|| self.org.url.clone())
    }
}

/// `at_hash`: the left half of the SHA-256 of the access token, base64url
/// (OIDC Core §3.1.3.6).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    base64url(&digest[..16])
}

fn put(map: &mut Map<String, Value>, key: &str, value: impl Into<Value>) {
    map.insert(key.to_owned(), value.into());
}

/// The `updated_at` claim: the profile's last update in epoch seconds.
fn updated_at(user: &User) -> i64 {
    user.last_updated.unix_timestamp()
}

/// The claims of an ID token. `access_token` gives `at_hash`.
pub fn id_token(
    ctx: &TokenContext<'_>,
    access_token: Option<&str>,
    jti: &str,
    fault: Option<OidcFault>,
) -> Map<String, Value> {
    let mut claims = Map::new();
    let iat = ctx.now.unix_timestamp();
    if let Some(user) = ctx.user {
        put(&mut claims, "sub", user.id.as_str());
        if ctx.has_scope("profile") {
            put_name(&mut claims, user);
            put(&mut claims, "locale", "en_US");
        }
        if ctx.has_scope("email") {
            put(&mut claims, "email", user.profile.email.as_str());
        }
    }
    put(&mut claims, "ver", 1);
    put(&mut claims, "iss", ctx.issuer());
    put(&mut claims, "aud", ctx.client.id.as_str());
    put(&mut claims, "iat", iat);
    put(&mut claims, "exp", iat + ID_TOKEN_LIFETIME_SECONDS);
    put(&mut claims, "jti", jti);
    put(&mut claims, "amr", vec!["pwd"]);
    put(&mut claims, "idp", ctx.org.id.as_str());
    if let Some(nonce) = ctx.nonce {
        put(&mut claims, "nonce", nonce);
    }
    if let Some(user) = ctx.user {
        if ctx.has_scope("profile") {
            put_profile_names(&mut claims, user);
        }
        if ctx.has_scope("email") {
            put(&mut claims, "email_verified", user.profile.email_verified());
        }
    }
    if let Some(auth_time) = ctx.auth_time {
        put(&mut claims, "auth_time", auth_time.unix_timestamp());
    }
    if let Some(token) = access_token {
        put(&mut claims, "at_hash", at_hash(token));
    }
    extra_claims(ctx, ClaimTarget::IdToken, &mut claims);
    if let Some(fault) = fault {
        apply_claim_fault(&mut claims, fault, ctx, "0oauntrustedaudience1");
    }
    claims
}

/// The claims of an access token from a custom authorization server, or the
/// record behind an org server's opaque token.
pub fn access_token(ctx: &TokenContext<'_>, jti: &str, fault: Option<OidcFault>) -> Map<String, Value> {
    let mut claims = Map::new();
    let iat = ctx.now.unix_timestamp();
    put(&mut claims, "ver", 1);
    put(&mut claims, "jti", jti);
    put(&mut claims, "iss", ctx.issuer());
    put(&mut claims, "aud", ctx.access_token_audience());
    put(&mut claims, "iat", iat);
    put(&mut claims, "exp", iat + ctx.access_token_lifetime_seconds);
    put(&mut claims, "cid", ctx.client.id.as_str());
    if let Some(user) = ctx.user {
        put(&mut claims, "uid", user.id.as_str());
    }
    put(&mut claims, "scp", ctx.scopes.to_vec());
    if let Some(auth_time) = ctx.auth_time {
        put(&mut claims, "auth_time", auth_time.unix_timestamp());
    }
    // Okta's access tokens name the user by login and a client by its id.
    match ctx.user {
        Some(user) => put(&mut claims, "sub", user.profile.login.as_str()),
        None => put(&mut claims, "sub", ctx.client.id.as_str()),
    }
    extra_claims(ctx, ClaimTarget::AccessToken, &mut claims);
    if let Some(fault) = fault {
        apply_claim_fault(&mut claims, fault, ctx, "api://untrusted");
    }
    claims
}

/// The `name` claim: the first and last names. Okta leaves out a claim
/// whose profile value is empty (an org can make both names optional in the
/// profile editor), so a user without names gets no `name`.
fn put_name(claims: &mut Map<String, Value>, user: &User) {
    let name = format!("{} {}", user.profile.first_name, user.profile.last_name);
    put_unless_blank(claims, "name", name.trim());
}

/// Puts a string claim unless its value is empty or blank.
fn put_unless_blank(claims: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.trim().is_empty() {
        put(claims, key, value);
    }
}

/// The `profile` scope's claims after `name` and `locale`, in Okta's order.
/// An ID token sends them after its registered claims, `/userinfo` right
/// after `locale`.
fn put_profile_names(claims: &mut Map<String, Value>, user: &User) {
    put(claims, "preferred_username", user.profile.login.as_str());
    put_unless_blank(claims, "given_name", &user.profile.first_name);
    put_unless_blank(claims, "family_name", &user.profile.last_name);
    put(claims, "zoneinfo", "America/Los_Angeles");
    put(claims, "updated_at", updated_at(user));
}

/// The `/userinfo` answer for a user and the scopes of the access token.
pub fn userinfo(ctx: &TokenContext<'_>, user: &User) -> Map<String, Value> {
    let mut claims = Map::new();
    put(&mut claims, "sub", user.id.as_str());
    if ctx.has_scope("profile") {
        put_name(&mut claims, user);
        put(&mut claims, "locale", "en_US");
        put_profile_names(&mut claims, user);
    }
    if ctx.has_scope("email") {
        put(&mut claims, "email", user.profile.email.as_str());
        put(&mut claims, "email_verified", user.profile.email_verified());
    }
    extra_claims(ctx, ClaimTarget::IdToken, &mut claims);
    claims
}

/// Groups, app profile and custom claims, appended last as Okta does.
fn extra_claims(ctx: &TokenContext<'_>, target: ClaimTarget, claims: &mut Map<String, Value>) {
    let Some(user) = ctx.user else {
        if let Some(custom) = ctx.custom {
            for claim in custom.claims.iter().filter(|c| c.target == target && c.applies(ctx.scopes)) {
                if let ClaimValue::Expression(AttributeValueSource::Literal(text)) = &claim.value {
                    put(claims, &claim.name, text.as_str());
                }
            }
        }
        return;
    };
    let groups = ctx.org.groups_of(&user.id);
    match ctx.custom {
        None if target == ClaimTarget::IdToken => {
            let settings = ctx.client.oidc();
            if let Some(groups_claim) = settings.and_then(|s| s.groups_claim.as_ref())
                && ctx.has_scope("groups")
            {
                let names = claimed_group_names(&groups, |name| groups_claim.filter.matches(name));
                put(claims, &groups_claim.name, names);
            }
            if settings.is_some_and(|s| s.app_profile_claims) {
                for (name, value) in ctx.org.app_profile(ctx.client, &user.id) {
                    if !claims.contains_key(&name) {
                        claims.insert(name, value);
                    }
                }
            }
        }
        None => {}
        Some(custom) => {
            let app_profile = ctx.org.app_profile(ctx.client, &user.id);
            for claim in custom.claims.iter().filter(|c| c.target == target && c.applies(ctx.scopes)) {
                let value = match &claim.value {
                    ClaimValue::Groups(filter) => {
                        Some(Value::from(claimed_group_names(&groups, |name| filter.matches(name))))
                    }
                    ClaimValue::Expression(AttributeValueSource::User(name)) => user.profile.attribute(name),
                    ClaimValue::Expression(AttributeValueSource::AppUser(name)) => app_profile.get(name).cloned(),
                    ClaimValue::Expression(AttributeValueSource::Literal(text)) => Some(Value::from(text.as_str())),
                };
                // Okta leaves a claim out when its expression has no value.
                if let Some(value) = value.filter(|v| !v.is_null()) {
                    claims.insert(claim.name.clone(), value);
                }
            }
        }
    }
}

/// Another user's `sub`: another user of the org, or an id made up from
/// this user's when the org has no one else.
fn another_subject(ctx: &TokenContext<'_>) -> String {
    let own = ctx.user.map(|u| u.id.as_str()).unwrap_or_default();
    ctx.org.users.keys().map(|id| id.as_str()).find(|id| *id != own).map_or_else(
        || format!("00u{}", &base64url(Sha256::digest(format!("another user than {own}")))[..17]),
        str::to_owned,
    )
}

/// Applies a claim fault in place, keeping each claim where it was.
fn apply_claim_fault(
    claims: &mut Map<String, Value>,
    fault: OidcFault,
    ctx: &TokenContext<'_>,
    untrusted_audience: &str,
) {
    let now = ctx.now.unix_timestamp();
    match fault {
        OidcFault::WrongIss | OidcFault::DiscoveryIssuerMismatch | OidcFault::RefreshTokenChangesIss => {
            put(claims, "iss", impostor_issuer(ctx.server));
        }
        OidcFault::RefreshTokenChangesSub => put(claims, "sub", another_subject(ctx)),
        OidcFault::MissingSub => {
            claims.shift_remove("sub");
        }
        OidcFault::MissingIat => {
            claims.shift_remove("iat");
        }
        OidcFault::MissingAud => {
            claims.shift_remove("aud");
        }
        OidcFault::MissingIss => {
            claims.shift_remove("iss");
        }
        OidcFault::MissingExp => {
            claims.shift_remove("exp");
        }
        OidcFault::WrongAud => put(claims, "aud", untrusted_audience),
        OidcFault::ExtraUntrustedAud => {
            let aud = claims.get("aud").cloned().unwrap_or(Value::Null);
            put(claims, "aud", vec![aud, Value::from(untrusted_audience)]);
        }
        OidcFault::Expired => {
            put(claims, "iat", now - 2 * ID_TOKEN_LIFETIME_SECONDS);
            put(claims, "exp", now - ID_TOKEN_LIFETIME_SECONDS);
        }
        OidcFault::IatFuture => {
            put(claims, "iat", now + ID_TOKEN_LIFETIME_SECONDS);
            put(claims, "exp", now + 2 * ID_TOKEN_LIFETIME_SECONDS);
        }
        OidcFault::NbfFuture => put(claims, "nbf", now + ID_TOKEN_LIFETIME_SECONDS),
        OidcFault::NonceMismatch => put(claims, "nonce", "mockta-nonce-from-another-sign-in"),
        OidcFault::MissingNonce => {
            claims.shift_remove("nonce");
        }
        OidcFault::BadAtHash if claims.contains_key("at_hash") => {
            put(claims, "at_hash", at_hash("not the access token that was issued"));
        }
        // at_hash is half the hash of the signing algorithm (OIDC Core
        // 3.1.3.6), and `none` has no hash: an unsigned token carries none, so
        // a relying party meets the algorithm rule rather than an at_hash it
        // cannot compute.
        OidcFault::AlgNone | OidcFault::AlgNoneCapitalised | OidcFault::AlgNoneUpper | OidcFault::AlgNoneMixed => {
            claims.shift_remove("at_hash");
        }
        OidcFault::ExpAsString => {
            let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(now);
            put(claims, "exp", exp.to_string());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_without_names_gets_no_name_claims() {
        let now = time::macros::datetime!(2024-03-29 07:42:22 UTC);
        let org = crate::org::parse_org("acme.toml", crate::setup::BUILTIN_ORG, now).unwrap();
        let client = org.find_app("reference-sp-oidc").unwrap();
        let mut user = org.users.values().next().unwrap().clone();
        let scopes = ["openid".to_owned(), "profile".to_owned(), "email".to_owned()];
        let claims_of = |user: &User| {
            let ctx = TokenContext {
                org: &org,
                server: &ServerRef::Org,
                custom: None,
                client,
                user: Some(user),
                scopes: &scopes,
                nonce: None,
                auth_time: None,
                now,
                access_token_lifetime_seconds: 3600,
            };
            (id_token(&ctx, None, "ID.1", None), userinfo(&ctx, user))
        };
        let (token, info) = claims_of(&user);
        let named = format!("{} {}", user.profile.first_name, user.profile.last_name);
        assert_eq!((token["name"].as_str(), info["name"].as_str()), (Some(named.as_str()), Some(named.as_str())));
        user.profile.first_name = String::new();
        user.profile.last_name = " ".into();
        let (token, info) = claims_of(&user);
        for claims in [&token, &info] {
            assert!(!claims.contains_key("name") && !claims.contains_key("given_name"), "{claims:?}");
            assert!(!claims.contains_key("family_name"), "{claims:?}");
            assert_eq!(claims["preferred_username"], user.profile.login.as_str());
        }
    }

    #[test]
    fn at_hash_is_left_half_of_sha256_base64url() {
        // Computed independently with Python's hashlib and base64.
        assert_eq!(at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNKyzkh5z5P7W3yFGvh8"), "bI1-u4ArQkiC2aoKnddGqg");
    }
}
