//! ID token validation (OpenID Connect Core §3.1.3.7, RFC 8725) as a
//! typestate: [`UnverifiedIdToken::verify`] is the only way to a
//! [`VerifiedIdToken`], whose fields are private and read through accessors.
//!
//! The order: the header (no keys or key URLs taken from it, no unknown
//! critical extensions), the algorithm (pinned to what the tenant
//! registered, never read from the token as a choice), the signature with a
//! key from the provider's key set, then the claims, each of the type the
//! specification gives it: `iss`, `sub`, `aud` and `azp`, `exp`, `iat` and
//! `nbf` with the tenant's skew, `nonce`, and `at_hash` when present.
//!
//! ```compile_fail
//! // Nothing outside this module can make a verified token.
//! let token = reference_sp::oidc::id_token::VerifiedIdToken { raw: String::new() };
//! ```

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::jwks::{Jwks, PublicJwk};
use super::{IdTokenAlgorithm, OidcError, base64url, from_base64url};
use crate::flaws::Policy;

/// The longest ID token accepted, in bytes. Okta's are about 1 kB; the
/// limit keeps a hostile token from costing much to decode.
pub const MAX_ID_TOKEN_BYTES: usize = 64 * 1024;

/// An ID token as received: split and decoded, nothing checked.
#[derive(Clone, Debug)]
pub struct UnverifiedIdToken {
    raw: String,
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

/// What the token must be checked against.
#[derive(Clone, Copy, Debug)]
pub struct IdTokenExpectations<'a> {
    /// The issuer the tenant is configured with.
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The client secret, read only under the `hs256-client-secret` flaw.
    pub client_secret: Option<&'a str>,
    /// The one algorithm the tenant registered.
    pub algorithm: IdTokenAlgorithm,
    /// The provider's key set, from its discovery document's `jwks_uri`.
    pub keys: &'a Jwks,
    /// The key set at the header's `jku`, fetched only under the
    /// `trust-jku` flaw.
    pub header_url_keys: Option<&'a Jwks>,
    /// The nonce this browser's login sent.
    pub nonce: Option<&'a str>,
    /// The access token from the same token response, for `at_hash`.
    pub access_token: Option<&'a str>,
    pub clock_skew: Duration,
    pub policy: &'a Policy,
}

/// The user's profile claims, of checked types.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Profile {
    email: Option<String>,
    email_verified: bool,
    given_name: Option<String>,
    family_name: Option<String>,
    /// `name`, the display name (OpenID Connect Core 5.1).
    name: Option<String>,
    /// `preferred_username`: at Okta, the user's login.
    preferred_username: Option<String>,
    groups: Vec<String>,
}

/// An ID token that passed every check. Only [`UnverifiedIdToken::verify`]
/// makes one.
#[derive(Clone, Debug)]
pub struct VerifiedIdToken {
    raw: String,
    issuer: String,
    subject: String,
    /// The token named no `sub` and the email stands in for it (only under
    /// the `missing-sub-uses-email` flaw).
    subject_is_email: bool,
    nonce: Option<String>,
    expires: Option<OffsetDateTime>,
    /// The `aud` claim as a list, and `auth_time`, which a refreshed ID
    /// token must repeat (OpenID Connect Core 12.2).
    audiences: Vec<String>,
    auth_time: Option<i64>,
    profile: Profile,
    /// Every claim as sent (the ID token's, then userinfo's over them), for
    /// a claim only a tenant names, such as its role claim (an app-profile
    /// attribute Okta sends as a claim).
    claims: Map<String, Value>,
}

impl VerifiedIdToken {
    /// The token as received, for `id_token_hint` at logout.
    pub fn raw(&self) -> &str {
        &self.raw
    }
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    pub fn subject(&self) -> &str {
        &self.subject
    }
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }
    pub fn auth_time(&self) -> Option<i64> {
        self.auth_time
    }
    /// When the token expires; `None` only under flaws that skip `exp`.
    pub fn expires(&self) -> Option<OffsetDateTime> {
        self.expires
    }
    pub fn email(&self) -> Option<&str> {
        self.profile.email.as_deref()
    }
    /// Whether the provider vouches for the email (`email_verified: true`).
    pub fn email_verified(&self) -> bool {
        self.profile.email_verified
    }
    pub fn given_name(&self) -> Option<&str> {
        self.profile.given_name.as_deref()
    }
    pub fn family_name(&self) -> Option<&str> {
        self.profile.family_name.as_deref()
    }
    pub fn groups(&self) -> &[String] {
        &self.profile.groups
    }
    /// A claim whose name the tenant configures, as sent.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }
    /// The display name (`name`), if the provider sent one.
    pub fn name(&self) -> Option<&str> {
        self.profile.name.as_deref()
    }
    /// The username (`preferred_username`; Okta's login), if sent.
    pub fn preferred_username(&self) -> Option<&str> {
        self.profile.preferred_username.as_deref()
    }

    /// Adds the userinfo response's claims (OpenID Connect Core §5.3.2):
    /// its `sub` must be the token's, or the response may be another user's.
    /// Userinfo's profile claims win over the token's, being the newer.
    pub fn with_userinfo(mut self, userinfo: &Map<String, Value>, policy: &Policy) -> Result<Self, OidcError> {
        let reader = ClaimReader { claims: userinfo, strict: policy.oidc_strict_claim_types };
        let subject = reader.string("sub")?.value();
        if policy.oidc_check_userinfo_subject {
            // A token that named no sub (the missing-sub-uses-email flaw)
            // has none to compare userinfo's with.
            if !self.subject_is_email && subject.as_deref() != Some(self.subject.as_str()) {
                return Err(OidcError::UserinfoSubjectMismatch);
            }
        } else if let Some(subject) = subject.filter(|s| !s.is_empty()) {
            // The userinfo-sub-unchecked flaw: the response's user is taken
            // as the one who signed in.
            self.subject = subject;
        }
        let profile = reader.profile()?;
        for (name, value) in userinfo {
            self.claims.insert(name.clone(), value.clone());
        }
        let merged = Profile {
            email: profile.email.or(self.profile.email),
            email_verified: if userinfo.contains_key("email_verified") {
                profile.email_verified
            } else {
                self.profile.email_verified
            },
            given_name: profile.given_name.or(self.profile.given_name),
            family_name: profile.family_name.or(self.profile.family_name),
            name: profile.name.or(self.profile.name),
            preferred_username: profile.preferred_username.or(self.profile.preferred_username),
            groups: if userinfo.contains_key("groups") { profile.groups } else { self.profile.groups },
        };
        self.profile = merged;
        Ok(self)
    }
}

impl UnverifiedIdToken {
    /// Splits a compact JWS and decodes its header and claims. A JWE (five
    /// parts) is refused: this client registers no encryption key.
    pub fn parse(text: &str) -> Result<UnverifiedIdToken, OidcError> {
        let malformed = |why: &str| OidcError::TokenMalformed(why.to_owned());
        if text.len() > MAX_ID_TOKEN_BYTES {
            return Err(malformed("longer than the limit"));
        }
        let parts: Vec<&str> = text.split('.').collect();
        let [header, claims, signature] = parts.as_slice() else {
            return Err(malformed("not three dot-separated parts"));
        };
        if from_base64url(signature).is_none() {
            return Err(malformed("the signature is not base64url"));
        }
        let object = |part: &str, what: &str| -> Result<Map<String, Value>, OidcError> {
            let bytes = from_base64url(part).ok_or_else(|| malformed(&format!("the {what} is not base64url")))?;
            serde_json::from_slice(&bytes).map_err(|_| malformed(&format!("the {what} is not a JSON object")))
        };
        Ok(UnverifiedIdToken {
            header: object(header, "header")?,
            claims: object(claims, "payload")?,
            raw: text.to_owned(),
        })
    }

    /// The header's `kid`, if it is a string.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// The header's `jku`, read only so that the `trust-jku` flaw can fetch it.
    pub fn jku(&self) -> Option<&str> {
        self.header.get("jku").and_then(Value::as_str)
    }

    /// The header's `x5u`, a URL of the signer's certificate.
    pub fn x5u(&self) -> Option<&str> {
        self.header.get("x5u").and_then(Value::as_str)
    }

    /// Checks everything, in the order of the module documentation.
    pub fn verify(
        &self,
        expected: &IdTokenExpectations<'_>,
        now: OffsetDateTime,
    ) -> Result<VerifiedIdToken, OidcError> {
        self.check_signature(expected)?;
        self.check_claims(expected, now)
    }

    fn check_signature(&self, expected: &IdTokenExpectations<'_>) -> Result<(), OidcError> {
        let policy = expected.policy;
        if self.header.contains_key("crit") && policy.oidc_refuse_crit {
            // This client implements no JWS extension, so every critical one
            // is unknown (RFC 7515 §4.1.11).
            let listed = self.header.get("crit").map(Value::to_string).unwrap_or_default();
            return Err(OidcError::UnknownCritical(listed.chars().take(200).collect()));
        }
        for (name, allowed) in [
            ("x5u", policy.oidc_trust_x5u),
            ("x5c", policy.oidc_trust_header_x5c),
            ("jwk", policy.oidc_trust_header_jwk),
            ("jku", policy.oidc_trust_jku),
        ] {
            if self.header.contains_key(name) && !allowed {
                return Err(OidcError::HeaderKeyRefused(name));
            }
        }
        let alg = match self.header.get("alg") {
            Some(Value::String(alg)) => alg.as_str(),
            Some(_) => return Err(OidcError::TokenMalformed("'alg' is not a string".into())),
            None => return Err(OidcError::TokenMalformed("the header has no 'alg'".into())),
        };
        if alg.eq_ignore_ascii_case("none") {
            return if policy.oidc_accept_alg_none { Ok(()) } else { Err(OidcError::AlgNone(alg.to_owned())) };
        }
        let (signing_input, signature) = self.raw.rsplit_once('.').unwrap_or((&self.raw, ""));
        let refused = || OidcError::AlgorithmNotAllowed {
            expected: expected.algorithm.as_str(),
            found: alg.chars().take(20).collect(),
        };
        if let Some(hmac) = hmac_algorithm(alg) {
            return self.check_hmac(expected, hmac, signing_input, signature).ok_or_else(refused)?;
        }
        if alg != expected.algorithm.as_str() {
            return Err(refused());
        }
        if !policy.oidc_verify_signature {
            // The skip-id-token-signature flaw trusts the token endpoint and
            // so never looks at the key set: no kid is looked up either.
            return Ok(());
        }
        let algorithm = match expected.algorithm {
            IdTokenAlgorithm::Rs256 => jsonwebtoken::Algorithm::RS256,
            IdTokenAlgorithm::Es256 => jsonwebtoken::Algorithm::ES256,
        };
        let header_key;
        let candidates = match (self.header.get("jwk"), self.jku(), expected.header_url_keys) {
            (Some(jwk), _, _) => {
                // The trust-header-jwk flaw: the token brings its own key.
                header_key = jwk.as_object().and_then(PublicJwk::from_json).ok_or(OidcError::NoUsableKey)?;
                vec![&header_key]
            }
            (None, Some(_), Some(url_keys)) => url_keys.candidates(self.kid(), expected.algorithm)?,
            // The trust-x5u flaw: the certificate the header's URL names,
            // fetched and used unchained.
            (None, None, Some(url_keys)) if self.x5u().is_some() => url_keys.keys.iter().collect(),
            (None, None, _) if self.header.contains_key("x5c") => {
                // The trust-header-x5c flaw: the token brings a certificate
                // and its key is used without chaining it to anything.
                let first = self.header.get("x5c").and_then(Value::as_array).and_then(|chain| chain.first());
                header_key = first
                    .and_then(Value::as_str)
                    .and_then(PublicJwk::from_certificate)
                    .ok_or(OidcError::NoUsableKey)?;
                vec![&header_key]
            }
            _ => {
                let by_kid = expected.keys.candidates(self.kid(), expected.algorithm)?;
                if policy.oidc_select_key_by_kid {
                    by_kid
                } else {
                    // The first-jwks-key flaw: a known kid is taken as a sign
                    // that the set is current, and then its first key is used.
                    expected.keys.keys.iter().filter(|k| k.fits(expected.algorithm)).take(1).collect()
                }
            }
        };
        let verifies = candidates.iter().filter_map(|key| key.decoding_key()).any(|key| {
            jsonwebtoken::crypto::verify(signature, signing_input.as_bytes(), &key, algorithm).unwrap_or(false)
        });
        let psychic = !policy.oidc_ecdsa_checks_range
            && expected.algorithm == IdTokenAlgorithm::Es256
            && is_all_zero_ecdsa_signature(signature);
        if verifies || psychic { Ok(()) } else { Err(OidcError::SignatureInvalid) }
    }

    /// An HMAC-signed token is refused unless a flaw names a secret: the
    /// provider's RSA public key (algorithm confusion, attacks.md O-01) or
    /// the client secret. `None` means no flaw allows HMAC.
    fn check_hmac(
        &self,
        expected: &IdTokenExpectations<'_>,
        algorithm: jsonwebtoken::Algorithm,
        signing_input: &str,
        signature: &str,
    ) -> Option<Result<(), OidcError>> {
        let policy = expected.policy;
        let mut secrets: Vec<Vec<u8>> = Vec::new();
        if policy.oidc_hmac_with_public_key {
            let keys: Vec<&PublicJwk> = match self.kid() {
                Some(kid) => expected.keys.keys.iter().filter(|k| k.kid.as_deref() == Some(kid)).collect(),
                None => expected.keys.keys.iter().collect(),
            };
            secrets.extend(keys.iter().flat_map(|k| k.rsa_public_pems()).map(String::into_bytes));
        }
        if policy.oidc_hmac_with_client_secret
            && let Some(secret) = expected.client_secret
        {
            secrets.push(secret.as_bytes().to_vec());
        }
        let key_file = if policy.oidc_kid_is_opaque { None } else { self.kid().and_then(key_file_contents) };
        let reads_key_file = key_file.is_some();
        secrets.extend(key_file);
        if !policy.oidc_hmac_with_public_key && !policy.oidc_hmac_with_client_secret && !reads_key_file {
            return None;
        }
        let verifies = secrets.iter().any(|secret| {
            let key = jsonwebtoken::DecodingKey::from_secret(secret);
            jsonwebtoken::crypto::verify(signature, signing_input.as_bytes(), &key, algorithm).unwrap_or(false)
        });
        Some(if verifies { Ok(()) } else { Err(OidcError::SignatureInvalid) })
    }

    fn check_claims(
        &self,
        expected: &IdTokenExpectations<'_>,
        now: OffsetDateTime,
    ) -> Result<VerifiedIdToken, OidcError> {
        let policy = expected.policy;
        let claims = ClaimReader { claims: &self.claims, strict: policy.oidc_strict_claim_types };
        let skew = expected.clock_skew;
        let now_seconds = now.unix_timestamp();

        let issuer = claims.string("iss")?;
        // Under the ignore-iss flaw the client never looks at iss, so a token
        // without one gets through as well as one naming another issuer.
        if policy.oidc_check_issuer {
            issuer.require("iss")?;
        }
        if policy.oidc_check_issuer
            && let Claim::Value(found) = &issuer
            && found != expected.issuer
        {
            return Err(OidcError::IssuerMismatch {
                expected: expected.issuer.to_owned(),
                found: found.chars().take(200).collect(),
            });
        }
        let mut subject = claims.string("sub")?;
        let subject_is_email = !policy.oidc_require_subject && matches!(subject, Claim::Absent);
        if subject_is_email {
            // The missing-sub-uses-email flaw: the email stands in for the
            // subject the token does not name.
            if let Claim::Value(email) = claims.string("email")? {
                subject = Claim::Value(email);
            }
        }
        subject.require("sub")?;
        if matches!(&subject, Claim::Value(s) if s.is_empty()) {
            return Err(OidcError::ClaimMissing("sub"));
        }

        let audiences = claims.audiences()?;
        if policy.oidc_check_audience {
            // Under the ignore-aud flaw the client never looks at aud, so a
            // token without one gets through as well as one for another client.
            audiences.require("aud")?;
            let list = audiences.clone().value().unwrap_or_default();
            if !list.iter().any(|a| a == expected.client_id) {
                return Err(OidcError::AudienceMismatch(serde_json::to_string(&list).unwrap_or_default()));
            }
            let azp = claims.string("azp")?.value();
            if (list.len() > 1 || azp.is_some()) && azp.as_deref() != Some(expected.client_id) {
                return Err(OidcError::AuthorizedPartyMismatch);
            }
        }

        let expires = claims.number("exp")?;
        if policy.oidc_check_expiry {
            expires.require("exp")?;
            if let Claim::Value(exp) = expires
                && now_seconds >= exp.saturating_add(skew.whole_seconds())
            {
                return Err(OidcError::Expired);
            }
        }
        if policy.oidc_check_issued_at {
            let issued = claims.number("iat")?;
            issued.require("iat")?;
            if let Claim::Value(iat) = issued
                && iat > now_seconds.saturating_add(skew.whole_seconds())
            {
                return Err(OidcError::IssuedInFuture);
            }
            if let Claim::Value(nbf) = claims.number("nbf")?
                && nbf > now_seconds.saturating_add(skew.whole_seconds())
            {
                return Err(OidcError::NotYetValid);
            }
        }

        let nonce = claims.string("nonce")?.value();
        if policy.oidc_check_nonce
            && let Some(sent) = expected.nonce
            && nonce.as_deref().is_none_or(|found| !crate::sp::same_secret(found, sent))
        {
            return Err(OidcError::NonceMismatch);
        }

        let at_hash = claims.string("at_hash")?.value();
        if policy.oidc_check_at_hash
            && let (Some(at_hash), Some(access_token)) = (&at_hash, expected.access_token)
            && *at_hash != access_token_hash(access_token)
        {
            return Err(OidcError::AccessTokenHashMismatch);
        }

        Ok(VerifiedIdToken {
            raw: self.raw.clone(),
            issuer: issuer.value().unwrap_or_default(),
            subject: subject.value().unwrap_or_default(),
            subject_is_email,
            nonce,
            expires: expires.value().and_then(|exp| OffsetDateTime::from_unix_timestamp(exp).ok()),
            audiences: audiences.value().unwrap_or_default(),
            auth_time: claims.number("auth_time")?.value(),
            profile: claims.profile()?,
            claims: self.claims.clone(),
        })
    }
}

/// OpenID Connect Core 12.2: a refreshed ID token's `iss`, `sub` and `aud`
/// must be those of the ID token from the original sign-in, and its
/// `auth_time`, when the original had one, the original's. Anything else
/// is another identity (an attack or a broken provider), named in the error.
pub fn check_refreshed_identity(
    original: &crate::store::OidcRefreshGrant,
    refreshed: &VerifiedIdToken,
) -> Result<(), OidcError> {
    let changed = |claim: &str, was: String, now: String| {
        Err(OidcError::RefreshIdentityChanged(format!("{claim} was {was}, the refreshed token says {now}")))
    };
    if refreshed.issuer != original.issuer {
        return changed("iss", original.issuer.clone(), refreshed.issuer.clone());
    }
    if refreshed.subject != original.subject {
        return changed("sub", original.subject.clone(), refreshed.subject.clone());
    }
    let (mut was, mut now) = (original.audiences.clone(), refreshed.audiences.clone());
    was.sort();
    now.sort();
    if was != now {
        return changed("aud", format!("{was:?}"), format!("{now:?}"));
    }
    if let Some(original_auth_time) = original.auth_time
        && refreshed.auth_time != Some(original_auth_time)
    {
        let found = refreshed.auth_time.map_or_else(|| "nothing".to_owned(), |t| t.to_string());
        return changed("auth_time", original_auth_time.to_string(), found);
    }
    Ok(())
}

/// Where the `kid-as-file-path` flaw looks for key files: the kid is
/// joined to this directory as a relative path.
const KEY_FILE_DIRECTORY: &str = "/var/lib/reference-sp/keys";

/// What the `kid-as-file-path` flaw reads as the HMAC key the kid names.
/// The flawed code opens `KEY_FILE_DIRECTORY/{kid}`. This module does no IO,
/// and the reference SP keeps no key files, so the one path such code could
/// open everywhere is modelled: a kid that climbs out of the directory to
/// `/dev/null`, which every Unix has and which reads as no bytes. Any other
/// kid names a file that does not exist, and the flawed code refuses it.
fn key_file_contents(kid: &str) -> Option<Vec<u8>> {
    let mut path: Vec<&str> = KEY_FILE_DIRECTORY.split('/').filter(|part| !part.is_empty()).collect();
    for part in kid.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                path.pop();
            }
            name => path.push(name),
        }
    }
    (path == ["dev", "null"]).then(Vec::new)
}

/// Whether an ES256 signature (r and s, 32 bytes each) is all zeros. A
/// verifier that does not check r and s lie in [1, n-1] (CVE-2022-21449)
/// takes s⁻¹ as 0, computes the point at infinity, reads its x as 0, and
/// finds it equal to r: the all-zero signature verifies any message.
fn is_all_zero_ecdsa_signature(signature: &str) -> bool {
    from_base64url(signature).is_some_and(|bytes| bytes.len() == 64 && bytes.iter().all(|b| *b == 0))
}

/// `at_hash` for an access token: the left half of its SHA-256, base64url
/// (Core §3.1.3.6; RS256 and ES256 both hash with SHA-256).
pub fn access_token_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    base64url(&digest[..16])
}

fn hmac_algorithm(alg: &str) -> Option<jsonwebtoken::Algorithm> {
    match alg {
        "HS256" => Some(jsonwebtoken::Algorithm::HS256),
        "HS384" => Some(jsonwebtoken::Algorithm::HS384),
        "HS512" => Some(jsonwebtoken::Algorithm::HS512),
        _ => None,
    }
}

/// A claim as read: absent, of the right type, or present with the wrong
/// type (possible only when types are not strict: the
/// `accepts-claim-type-confusion` flaw, which counts it as present but
/// cannot check its value, as jsonwebtoken before 10.3 did).
#[derive(Clone, Debug)]
enum Claim<T> {
    Absent,
    Value(T),
    WrongType,
}

impl<T> Claim<T> {
    fn value(self) -> Option<T> {
        match self {
            Claim::Value(value) => Some(value),
            Claim::Absent | Claim::WrongType => None,
        }
    }

    fn require(&self, name: &'static str) -> Result<(), OidcError> {
        if matches!(self, Claim::Absent) { Err(OidcError::ClaimMissing(name)) } else { Ok(()) }
    }
}

/// Reads claims by their specified JSON type.
struct ClaimReader<'a> {
    claims: &'a Map<String, Value>,
    strict: bool,
}

impl ClaimReader<'_> {
    fn read<T>(&self, name: &'static str, convert: impl Fn(&Value) -> Option<T>) -> Result<Claim<T>, OidcError> {
        match self.claims.get(name) {
            None => Ok(Claim::Absent),
            Some(value) => match convert(value) {
                Some(converted) => Ok(Claim::Value(converted)),
                None if self.strict => Err(OidcError::ClaimType(name)),
                None => Ok(Claim::WrongType),
            },
        }
    }

    fn string(&self, name: &'static str) -> Result<Claim<String>, OidcError> {
        self.read(name, |v| v.as_str().map(str::to_owned))
    }

    /// A NumericDate: a JSON number of seconds; a fraction is cut off.
    fn number(&self, name: &'static str) -> Result<Claim<i64>, OidcError> {
        self.read(name, |v| {
            v.as_i64().or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f.clamp(-1e15, 1e15) as i64))
        })
    }

    /// `aud`: one string or an array of strings (Core §2).
    fn audiences(&self) -> Result<Claim<Vec<String>>, OidcError> {
        self.read("aud", |v| match v {
            Value::String(one) => Some(vec![one.clone()]),
            Value::Array(many) if !many.is_empty() => {
                many.iter().map(|a| a.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>()
            }
            _ => None,
        })
    }

    fn profile(&self) -> Result<Profile, OidcError> {
        Ok(Profile {
            email: self.string("email")?.value(),
            email_verified: self.read("email_verified", Value::as_bool)?.value().unwrap_or(false),
            given_name: self.string("given_name")?.value(),
            family_name: self.string("family_name")?.value(),
            name: self.string("name")?.value(),
            preferred_username: self.string("preferred_username")?.value(),
            groups: self
                .read("groups", |v| {
                    v.as_array()?.iter().map(|g| g.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>()
                })?
                .value()
                .unwrap_or_default(),
        })
    }
}
