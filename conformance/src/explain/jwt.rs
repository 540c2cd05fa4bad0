//! Explaining one ID token: the header (algorithm, key id, keys and key
//! URLs it carries, `crit`), the signature against the JWKS given (verified
//! with jsonwebtoken), and the claims of OpenID Connect Core 3.1.3.7.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mock_idp::oidc::faults::OidcFault;
use serde_json::Value;
use time::OffsetDateTime;

use super::rules::{SKEW_TOLERANCE_SECONDS, oidc_finding};
use super::{Expectations, ExplainError, Level, Side, Step};

/// A compact JWS split and decoded.
struct Token<'a> {
    header: serde_json::Map<String, Value>,
    claims: serde_json::Map<String, Value>,
    signing_input: &'a str,
    signature: &'a str,
}

fn split(token: &str) -> Result<Token<'_>, ExplainError> {
    let (signing_input, signature) =
        token.rsplit_once('.').ok_or_else(|| ExplainError::BadJwt("not three dot-separated parts".into()))?;
    let (header, claims) =
        signing_input.split_once('.').ok_or_else(|| ExplainError::BadJwt("not three dot-separated parts".into()))?;
    let object = |part: &str, what: &str| -> Result<serde_json::Map<String, Value>, ExplainError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .map_err(|e| ExplainError::BadJwt(format!("the {what} is not base64url ({e})")))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(ExplainError::BadJwt(format!("the {what} is not a JSON object"))),
        }
    };
    Ok(Token { header: object(header, "header")?, claims: object(claims, "payload")?, signing_input, signature })
}

/// The header and claims of a compact JWS, unverified, for a HAR flow that
/// compares one token with another (a refreshed ID token with the
/// original, a userinfo answer with the ID token); `None` when it does not
/// decode, which [`explain_token`] reports.
pub(crate) fn header_and_claims(
    token: &str,
) -> Option<(serde_json::Map<String, Value>, serde_json::Map<String, Value>)> {
    split(token.trim()).ok().map(|token| (token.header, token.claims))
}

/// Explains a compact JWT (an ID token, or an access token from a custom
/// authorization server).
pub fn explain_token(token: &str, expect: &Expectations, now: OffsetDateTime) -> Result<Step, ExplainError> {
    let token = split(token.trim())?;
    let mut step = Step::new("ID token");
    let alg = token.header.get("alg").and_then(Value::as_str).unwrap_or_default().to_owned();
    let kid = token.header.get("kid").and_then(Value::as_str).map(str::to_owned);
    step.fact("alg", if alg.is_empty() { "(none given)".to_owned() } else { alg.clone() });
    step.fact("kid", kid.clone().unwrap_or_else(|| "(none)".to_owned()));
    for name in ["iss", "sub", "aud", "azp", "nonce"] {
        if let Some(value) = token.claims.get(name) {
            step.fact(name, display(value));
        }
    }
    for name in ["iat", "nbf", "exp"] {
        if let Some(value) = token.claims.get(name) {
            let shown = value
                .as_i64()
                .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
                .map_or_else(|| display(value), |at| format!("{} ({value})", super::render::instant(at)));
            step.fact(name, shown);
        }
    }
    header_rules(&mut step, &token, &alg, kid.as_deref(), expect);
    claim_rules(&mut step, &token, expect, now);
    Ok(step)
}

fn display(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn header_rules(step: &mut Step, token: &Token<'_>, alg: &str, kid: Option<&str>, expect: &Expectations) {
    let okta_never = "Okta never signs this way; the relying party must refuse it whatever the token says.";
    if alg.eq_ignore_ascii_case("none") {
        let fault = match alg {
            "none" => OidcFault::AlgNone,
            "None" => OidcFault::AlgNoneCapitalised,
            "NONE" => OidcFault::AlgNoneUpper,
            _ => OidcFault::AlgNoneMixed,
        };
        step.findings.push(oidc_finding(
            fault,
            Side::Sp,
            format!("The header says alg {alg:?}: the token is unsigned. {okta_never}"),
        ));
    }
    let hmac = alg.starts_with("HS");
    let malicious_kid = kid.is_some_and(|k| k.contains('/') || k.contains('\'') || k.contains(".."));
    if hmac {
        let fault = if malicious_kid {
            OidcFault::MaliciousKidDevNull
        } else if kid.is_none() {
            OidcFault::Hs256WithClientSecret
        } else {
            OidcFault::Hs256WithPublicKey
        };
        let detail = match fault {
            OidcFault::MaliciousKidDevNull => format!(
                "The header says alg {alg} with the kid {:?}, a file path: a relying party that reads its key from that path gets an empty secret.",
                kid.unwrap_or_default()
            ),
            OidcFault::Hs256WithClientSecret => format!(
                "The header says alg {alg} with no kid: an HMAC keyed by the client secret (OIDC Core 10.1), which Okta never uses for ID tokens."
            ),
            _ => format!(
                "The header says alg {alg} under the kid {:?} of an RSA or EC key: algorithm confusion, an HMAC keyed with the provider's public key.",
                kid.unwrap_or_default()
            ),
        };
        step.findings.push(oidc_finding(fault, Side::Sp, format!("{detail} {okta_never}")));
    } else if malicious_kid {
        step.findings.push(oidc_finding(
            OidcFault::MaliciousKid,
            Side::Sp,
            format!(
                "The kid {:?} is a path or SQL fragment, not an opaque key id; a relying party must look it up in the JWKS only.",
                kid.unwrap_or_default()
            ),
        ));
    }
    if let Some(crit) = token.header.get("crit") {
        step.findings.push(oidc_finding(
            OidcFault::UnknownCrit,
            Side::Sp,
            format!("The header's crit names {crit}, extensions the relying party must understand or refuse the token (RFC 7515 4.1.11)."),
        ));
    }
    for (name, fault, what) in [
        ("jwk", OidcFault::EmbeddedJwk, "carries its own public key (jwk)"),
        ("jku", OidcFault::JkuHeader, "points to a key set (jku)"),
        ("x5c", OidcFault::X5cHeader, "carries a certificate chain (x5c)"),
        ("x5u", OidcFault::X5uHeader, "points to a certificate (x5u)"),
    ] {
        if let Some(value) = token.header.get(name) {
            let shown = match value {
                Value::String(text) => text.clone(),
                _ => format!("a {} value", if value.is_array() { "list" } else { "JSON" }),
            };
            step.findings.push(oidc_finding(
                fault,
                Side::Sp,
                format!(
                    "The header {what}: {shown}; whoever made the token chose that key. Keys come from the issuer's jwks_uri only."
                ),
            ));
        }
    }
    let signature = URL_SAFE_NO_PAD.decode(token.signature).unwrap_or_default();
    if alg == "ES256" && !signature.is_empty() && signature.iter().all(|b| *b == 0) {
        step.findings.push(oidc_finding(
            OidcFault::Es256ZeroSignature,
            Side::Sp,
            "The ES256 signature is r = s = 0, the \"psychic signature\" (CVE-2022-21449) that broken ECDSA verifiers accept.".to_owned(),
        ));
        return;
    }
    if hmac || alg.eq_ignore_ascii_case("none") {
        return;
    }
    let Some(jwks) = &expect.jwks else {
        step.fact("signature", "not checked (give --jwks)");
        return;
    };
    let keys: Vec<&Value> = jwks.get("keys").and_then(Value::as_array).map(|k| k.iter().collect()).unwrap_or_default();
    let candidates: Vec<&Value> = match kid {
        Some(kid) => keys.iter().copied().filter(|k| k.get("kid").and_then(Value::as_str) == Some(kid)).collect(),
        None => keys.clone(),
    };
    if candidates.is_empty() {
        if let Some(kid) = kid
            && !malicious_kid
        {
            step.findings.push(oidc_finding(
                OidcFault::UnknownKid,
                Side::Either,
                format!(
                    "The kid {kid:?} is in no key of the JWKS given ({} keys): a token signed by someone else, or a JWKS fetched before a key rotation (refetch it once for an unknown kid).",
                    keys.len()
                ),
            ));
        }
        step.fact("signature", "no key of the JWKS matches");
        return;
    }
    let verified = candidates.iter().any(|key| verify(token, alg, key));
    if verified {
        step.fact("signature", "verified by the JWKS key");
    } else {
        step.fact("signature", "does not verify");
        step.findings.push(oidc_finding(
            OidcFault::BadSignature,
            Side::Either,
            format!(
                "The {alg} signature does not verify with the JWKS key{}: the token was changed after signing, or the JWKS is another issuer's.",
                kid.map(|k| format!(" {k:?}")).unwrap_or_default()
            ),
        ));
    }
}

fn verify(token: &Token<'_>, alg: &str, key: &Value) -> bool {
    let Ok(algorithm) = alg.parse::<jsonwebtoken::Algorithm>() else { return false };
    let field = |name: &str| key.get(name).and_then(Value::as_str).unwrap_or_default();
    let decoding = match field("kty") {
        "RSA" => jsonwebtoken::DecodingKey::from_rsa_components(field("n"), field("e")),
        "EC" => jsonwebtoken::DecodingKey::from_ec_components(field("x"), field("y")),
        _ => return false,
    };
    let Ok(decoding) = decoding else { return false };
    jsonwebtoken::crypto::verify(token.signature, token.signing_input.as_bytes(), &decoding, algorithm).unwrap_or(false)
}

fn claim_rules(step: &mut Step, token: &Token<'_>, expect: &Expectations, now: OffsetDateTime) {
    let claims = &token.claims;
    match (claims.get("iss").and_then(Value::as_str), &expect.issuer) {
        (None, _) => step.findings.push(oidc_finding(
            OidcFault::MissingIss,
            Side::Okta,
            "The token has no iss claim; the relying party cannot tell who issued it.".to_owned(),
        )),
        (Some(iss), Some(expected)) if iss != expected => step.findings.push(oidc_finding(
            OidcFault::WrongIss,
            Side::Either,
            format!(
                "iss is {iss:?}, but the issuer is {expected:?}: the relying party is set up for another authorization server (the org server https://{{org}} and a custom one https://{{org}}/oauth2/{{id}} differ), or the token is another issuer's."
            ),
        )),
        _ => {}
    }
    if claims.get("sub").and_then(Value::as_str).is_none_or(str::is_empty) {
        step.findings.push(oidc_finding(
            OidcFault::MissingSub,
            Side::Okta,
            "The token has no sub claim, so it names no one.".to_owned(),
        ));
    }
    let audiences: Vec<String> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    if audiences.is_empty() {
        step.findings.push(oidc_finding(
            OidcFault::MissingAud,
            Side::Okta,
            "The token has no aud claim, so it is meant for no client in particular.".to_owned(),
        ));
    } else if let Some(client) = &expect.audience {
        if !audiences.contains(client) {
            step.findings.push(oidc_finding(
                OidcFault::WrongAud,
                Side::Either,
                format!(
                    "aud is {audiences:?}, but the client id is {client:?}: the token was issued to another client (check the client id the relying party is configured with)."
                ),
            ));
        } else if audiences.len() > 1 && claims.get("azp").and_then(Value::as_str) != Some(client.as_str()) {
            step.findings.push(oidc_finding(
                OidcFault::ExtraUntrustedAud,
                Side::Sp,
                format!("aud lists {audiences:?}, more than this client, and azp does not name the client."),
            ));
        }
    }
    match claims.get("exp") {
        None => step.findings.push(oidc_finding(
            OidcFault::MissingExp,
            Side::Okta,
            "The token has no exp claim, so it would never expire.".to_owned(),
        )),
        Some(Value::Number(_)) => {}
        Some(other) => step.findings.push(oidc_finding(
            OidcFault::ExpAsString,
            Side::Okta,
            format!("exp is {other}, not a JSON number (RFC 7519 NumericDate)."),
        )),
    }
    if claims.get("iat").is_none() {
        step.findings.push(oidc_finding(OidcFault::MissingIat, Side::Okta, "The token has no iat claim.".to_owned()));
    }
    let now_s = now.unix_timestamp();
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    if let Some(exp) = number("exp")
        && exp <= now_s
    {
        let late = now_s - exp;
        let explanation = format!(
            "exp passed {late} s before {}: the token was used too late, or a clock is wrong.",
            super::render::instant(now)
        );
        let mut found = oidc_finding(OidcFault::Expired, Side::Either, explanation);
        if late <= SKEW_TOLERANCE_SECONDS {
            found.level = Level::Note;
        }
        step.findings.push(found);
    }
    for (name, fault) in [("nbf", OidcFault::NbfFuture), ("iat", OidcFault::IatFuture)] {
        if let Some(at) = number(name)
            && at > now_s
        {
            let early = at - now_s;
            let mut found = oidc_finding(
                fault,
                Side::Either,
                format!(
                    "{name} is {early} s after {}: the issuer's and the relying party's clocks disagree (check the relying party's clock, NTP).",
                    super::render::instant(now)
                ),
            );
            if early <= SKEW_TOLERANCE_SECONDS {
                found.level = Level::Note;
            }
            step.findings.push(found);
        }
    }
    at_hash(step, token, expect);
    if let Some(expected) = &expect.nonce {
        match claims.get("nonce").and_then(Value::as_str) {
            None => step.findings.push(oidc_finding(
                OidcFault::MissingNonce,
                Side::Either,
                format!("The relying party sent the nonce {expected:?}, but the token has none."),
            )),
            Some(nonce) if nonce != expected => step.findings.push(oidc_finding(
                OidcFault::NonceMismatch,
                Side::Sp,
                format!(
                    "nonce is {nonce:?}, but the relying party sent {expected:?}: the token answers another login (another tab, or a replayed token)."
                ),
            )),
            Some(_) => {}
        }
    }
}

/// OpenID Connect Core 3.1.3.8: `at_hash` is the left half of the access
/// token's hash by the ID token's algorithm, base64url. Only the SHA-256
/// algorithms (RS256, ES256, PS256: what Okta signs with) are checked.
fn at_hash(step: &mut Step, token: &Token<'_>, expect: &Expectations) {
    use sha2::{Digest, Sha256};
    let (Some(claimed), Some(access_token)) =
        (token.claims.get("at_hash").and_then(Value::as_str), &expect.access_token)
    else {
        return;
    };
    let alg = token.header.get("alg").and_then(Value::as_str).unwrap_or_default();
    if !alg.ends_with("256") {
        return;
    }
    let digest = Sha256::digest(access_token.as_bytes());
    let expected = URL_SAFE_NO_PAD.encode(&digest[..16]);
    if claimed != expected {
        step.findings.push(oidc_finding(
            OidcFault::BadAtHash,
            Side::Sp,
            format!("at_hash is {claimed:?}, but the access token given hashes to {expected:?}: the access token was swapped."),
        ));
    }
}
