//! The OpenID Connect checks and the actions the OIDC driver
//! (`runner/oidc.rs`) knows. Each runs the authorization code flow with
//! PKCE from the target's `oidc.login_url`, after a positive control in
//! which a canary signs in correctly.
//!
//! OpenID Connect Core 3.1.3.7 step 6 lets a code-flow relying party use TLS
//! server validation in place of the ID token signature check when the
//! token came straight from the token endpoint. By default the mock serves
//! plain HTTP, so the step does not apply and a relying party that skips the
//! signature check fails. When the target asks for TLS (`[idp] tls = true`)
//! and the relying party uses the code flow, a check whose fault only
//! breaks the signature ([`tls_may_stand_in_for_signature`]) is a `warn`
//! citing step 6 instead of a `fail`.
//!
//! Two of the mock's faults have no check, on purpose:
//! - `no-kid-multiple-keys` (a validly signed token whose header names no
//!   kid while the JWKS has several keys) has no verdict a correct relying
//!   party must give. OpenID Connect Core 10.1 tells the provider to send a
//!   kid when its JWK Set has several keys, but says nothing of what a
//!   relying party does without one; RFC 7515 4.1.4 makes `kid` optional,
//!   and a verifier may try each eligible key. The OpenID Foundation's own
//!   RP test for this case ("Reject ID Token without kid claim if multiple
//!   JWKs supplied") lets a relying party accept or refuse. Accepting the
//!   validly signed token is right, and so is refusing it (Okta always
//!   sends a kid).
//!
//! The refresh faults `refresh-token-changes-sub` and
//! `refresh-token-changes-iss` act on the ID token of a refresh grant, which
//! sign-in never makes. Their checks (`oidc.refresh.sub_changed`,
//! `oidc.refresh.iss_changed`) drive a refresh through the target's
//! `oidc.refresh_url` hook, POSTed in the canary's browser, and are skipped
//! with the reason when the target has none. OpenID Connect Core 12.2: the
//! refreshed ID token's iss, sub and aud must be the original's. The verdict
//! (see `runner/oidc/refresh.rs`): a session for anyone but the canary
//! afterwards is a fail (the new identity took over); a 2xx answer is a fail
//! too, since the hook answers 2xx only when the relying party took the
//! refreshed tokens, and the mock only issues them carrying the fault (it
//! is no longer armed); an error answer, with the session ended or still
//! the canary's, is a pass. If the fault is still armed, the relying party
//! made no refresh grant and there is no verdict (an error).

use mock_idp::oidc::faults::OidcFault;

use super::{Action, Capability, Category, Check, Severity, Weight};

/// What an OIDC check does after the positive control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OidcAction {
    /// Only the positive control: the canary signs in by code and PKCE
    /// through the issuer the relying party uses, and the verdict names it.
    SignIn,
    /// The name and groups the provider sends are in the session the
    /// positive control made.
    ClaimsInSession,
    /// The mock puts a fault into its next message for the canary; a
    /// correct relying party gives no session.
    RefuseFault(OidcFault),
    /// The redirect back to the relying party carries no `state`.
    StateMissing,
    /// Another browser, with a login of its own started, receives the
    /// canary's redirect back.
    StateFromOtherBrowser,
    /// A browser that started no login receives the redirect back (login CSRF).
    CallbackWithoutLogin,
    /// After a sign-in, the same browser, its session ended (the cookies the
    /// sign-in set are gone), opens the redirect back again, as from its
    /// history; the mock lets the code be redeemed twice, so only the
    /// relying party's single-use login stands in the way.
    CallbackReplayed,
    /// A user whose email is outside the domains the relying party accepts.
    OutsideDomain,
    /// The signing key of the app's issuer is rotated, gracefully (the next
    /// key, published ahead, becomes active) or in an emergency (the active
    /// key removed at once); then a canary must still sign in.
    RotateKeys { emergency: bool },
    /// Several ID tokens name kids the JWKS does not have; the relying
    /// party must not fetch the JWKS once per token.
    RefetchBounded,
    /// The discovery document and the tokens name an impostor issuer.
    DiscoveryIssuerMismatch,
    /// The relying party sends PKCE S256 with a fresh verifier of 43 to 128
    /// characters.
    PkceS256,
    /// The login starts with the target's return parameter naming another
    /// site; the relying party must not send the browser there.
    OpenRedirectAfterLogin,
    /// A second user with an existing account's email, but their own
    /// `sub`, signs in.
    EmailNotIdentity,
    /// A user whose app profile gives the target's highest role signs in;
    /// the Okta admin changes the role to the lowest; a new sign-in must
    /// show the new role (the Appenate guide's app-profile role claim).
    RoleFromAppProfile,
    /// After a canary signs in, the mock puts a fault into the ID token of
    /// the next refresh grant, and the browser POSTs the target's
    /// `oidc.refresh_url`: the relying party must not take the new identity.
    RefreshChangesIdentity(OidcFault),
    /// A canary's first sign-in must give the account the licence the
    /// target says the SP gives at sign-in (the Mobius guide).
    LicenceAtSignIn,
    /// A user whose Okta username is not an email signs in at an SP that
    /// requires email usernames (the Koopid guide).
    UsernameNotEmailRefused,
    /// A user the IdP sends no display name for signs in at an SP that
    /// requires one (the Koopid guide).
    DisplayNameRequired,
}

const SIG_FIX: &str = "Verify the ID token's signature with a key from the issuer's JWKS, with the algorithm the client registered (RS256 by default), never the one the token names; refuse alg none, HMAC, and keys or key URLs carried in the token header.";
const CLAIMS_FIX: &str = "Validate the ID token as OpenID Connect Core 3.1.3.7 says: iss equals the issuer exactly, aud contains the client id (and azp is the client when there are several audiences), exp is in the future and nbf in the past (with a small skew), and every claim has its JSON type.";
const REFRESH_FIX: &str = "Validate the ID token of a refresh response as at sign-in, then compare it with the original: the same iss, sub and aud (and auth_time when the original had one); on any difference refuse it and end the session.";
const STATE_FIX: &str = "Keep state, nonce and the PKCE verifier in the session of the browser that started the login, accept the redirect back only with that exact state, and use each only once.";

/// Whether `fault` changes nothing but the ID token's signature or the key
/// it names (its `alg`, `kid`, `jwk`, `jku` or the signature bytes), so that
/// a relying party that skips the signature check under OpenID Connect Core
/// 3.1.3.7 step 6 accepts it and is still right about who signed in: the
/// token came from the real token endpoint over TLS.
///
/// Faults in the claims are not (the token would still name the wrong
/// issuer, audience or time), and neither is `unknown-crit`: RFC 7515
/// 4.1.11 makes an unknown critical header a reason to refuse the JWS
/// whether or not its signature is checked.
pub fn tls_may_stand_in_for_signature(fault: OidcFault) -> bool {
    matches!(
        fault,
        OidcFault::BadSignature
            | OidcFault::AlgNone
            | OidcFault::AlgNoneCapitalised
            | OidcFault::AlgNoneUpper
            | OidcFault::AlgNoneMixed
            | OidcFault::Hs256WithPublicKey
            | OidcFault::Hs256WithClientSecret
            | OidcFault::UnknownKid
            | OidcFault::UnknownKidPerToken
            | OidcFault::NoKidMultipleKeys
            | OidcFault::MaliciousKid
            | OidcFault::MaliciousKidDevNull
            | OidcFault::Es256ZeroSignature
            | OidcFault::EmbeddedJwk
            | OidcFault::JkuHeader
            | OidcFault::X5cHeader
            | OidcFault::X5uHeader
    )
}

macro_rules! fault_check {
    ($id:literal, $title:literal, $category:ident, $severity:ident, $fault:expr, $reference:literal, $fix:expr) => {
        fault_check!($id, $title, $category, $severity, $fault, $reference, $fix, Fail)
    };
    ($id:literal, $title:literal, $category:ident, $severity:ident, $fault:expr, $reference:literal, $fix:expr, $weight:ident) => {
        Check {
            id: $id,
            title: $title,
            category: Category::$category,
            severity: Severity::$severity,
            reference: $reference,
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Oidc(OidcAction::RefuseFault($fault)),
            fix: $fix,
            exclusive: false,
            weight: Weight::$weight,
        }
    };
}

/// Every OIDC check, in report order.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            id: "oidc.sso.sign_in",
            title: "Sign-in by authorization code with PKCE works through the relying party's issuer",
            category: Category::SignIn,
            severity: Severity::High,
            reference: "OpenID Connect Core 3.1; RFC 7636 (PKCE); Okta's org and custom authorization servers",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Oidc(OidcAction::SignIn),
            fix: "Send the browser to the issuer's authorization_endpoint (from its discovery document) with response_type=code, state, nonce and a PKCE S256 challenge, then redeem the code at the token endpoint with the verifier and validate the ID token.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.sso.claims_in_session",
            title: "The name and groups the provider sends reach the session",
            category: Category::Attributes,
            severity: Severity::Medium,
            reference: "OpenID Connect Core 5.1 (standard claims) and 5.4 (profile scope); Okta's groups claim",
            needs: &[Capability::SpInitiatedLogin, Capability::SessionAttributes],
            action: Action::Oidc(OidcAction::ClaimsInSession),
            fix: "Read given_name, family_name (or name) and groups from the validated ID token or from userinfo with the same sub, and use them for the account and the session.",
            exclusive: false,
            weight: Weight::Fail,
        },
        fault_check!(
            "oidc.sig.bad_signature",
            "ID token changed after signing refused",
            Signature,
            Critical,
            OidcFault::BadSignature,
            "OpenID Connect Core 3.1.3.7 step 6; RFC 7515 5.2",
            SIG_FIX
        ),
        fault_check!(
            "oidc.sig.alg_none",
            "ID token with alg none refused",
            Signature,
            Critical,
            OidcFault::AlgNone,
            "RFC 8725 3.1; CVE-2015-9235",
            SIG_FIX
        ),
        fault_check!(
            "oidc.sig.alg_none_capitalised",
            "ID token with alg None (capital N) refused",
            Signature,
            Critical,
            OidcFault::AlgNoneCapitalised,
            "RFC 8725 3.1 (alg none in any spelling)",
            SIG_FIX
        ),
        fault_check!(
            "oidc.sig.alg_none_upper",
            "ID token with alg NONE refused",
            Signature,
            Critical,
            OidcFault::AlgNoneUpper,
            "RFC 8725 3.1 (alg none in any spelling)",
            SIG_FIX
        ),
        fault_check!(
            "oidc.sig.alg_none_mixed",
            "ID token with alg nOnE refused",
            Signature,
            Critical,
            OidcFault::AlgNoneMixed,
            "RFC 8725 3.1 (alg none in any spelling)",
            SIG_FIX
        ),
        fault_check!(
            "oidc.sig.hs256_client_secret",
            "ID token signed with HS256 keyed by the client secret refused",
            Signature,
            High,
            OidcFault::Hs256WithClientSecret,
            "OpenID Connect Core 3.1.3.7 steps 7 and 8 (RS256 SHOULD be pinned; an HMAC key is the client secret)",
            SIG_FIX,
            // Step 8 tells a relying party how to check an HMAC token, and
            // only the provider and the client know the secret: taking one is
            // weaker than pinning RS256 (step 7's SHOULD), not a forgery.
            Warn
        ),
        fault_check!(
            "oidc.sig.unknown_kid",
            "ID token naming a kid in no JWKS refused",
            Signature,
            High,
            OidcFault::UnknownKid,
            "OpenID Connect Core 10.1.1 (re-retrieve the keys on an unfamiliar kid, then refuse); RFC 7515 4.1.4",
            SIG_FIX
        ),
        fault_check!(
            "oidc.sig.malicious_kid",
            "ID token whose kid is a path traversal with SQL metacharacters, signed by another key, refused",
            Signature,
            Critical,
            OidcFault::MaliciousKid,
            "RFC 8725 3.10 (kid is an opaque lookup key); attacks.md O-05",
            "Use the kid only to look a key up in the issuer's JWKS (as an opaque string, never a path or a query), refuse the token when no published key verifies it."
        ),
        fault_check!(
            "oidc.sig.malicious_kid_dev_null",
            "HS256 ID token whose kid names /dev/null, keyed by an empty secret, refused",
            Signature,
            Critical,
            OidcFault::MaliciousKidDevNull,
            "RFC 8725 3.10; attacks.md O-05 (kid path traversal)",
            "Use the kid only to look a key up in the issuer's JWKS, never as a file path, and pin the algorithm the client registered, so an HMAC token is refused before any key is read."
        ),
        fault_check!(
            "oidc.sig.es256_zero_signature",
            "ES256 ID token with r = s = 0 refused",
            Signature,
            Critical,
            OidcFault::Es256ZeroSignature,
            "FIPS 186-4 6.4.2 (r and s in [1, n-1]); CVE-2022-21449; attacks.md O-06",
            "Verify ECDSA signatures with a library that refuses r or s outside [1, n-1] (on Java, a JDK with the April 2022 fix)."
        ),
        fault_check!(
            "oidc.sig.unknown_crit",
            "ID token with an unknown critical header refused",
            Signature,
            Medium,
            OidcFault::UnknownCrit,
            "RFC 7515 4.1.11 (crit)",
            "Refuse a JWS whose crit header lists an extension this client does not implement."
        ),
        fault_check!(
            "oidc.sig.hs256_public_key",
            "ID token signed with HS256 keyed by the public key refused",
            Signature,
            Critical,
            OidcFault::Hs256WithPublicKey,
            "RFC 8725 2.1 (algorithm confusion); CVE-2016-10555",
            SIG_FIX
        ),
        fault_check!(
            "oidc.sig.embedded_jwk",
            "ID token signed by a key carried in its jwk header refused",
            Signature,
            Critical,
            OidcFault::EmbeddedJwk,
            "RFC 7515 4.1.3; CVE-2018-0114",
            SIG_FIX
        ),
        fault_check!(
            "oidc.sig.jku",
            "ID token signed by a key from its jku header refused",
            Signature,
            Critical,
            OidcFault::JkuHeader,
            "RFC 7515 4.1.2; RFC 8725 3.10",
            SIG_FIX
        ),
        fault_check!(
            "oidc.sig.x5c",
            "ID token signed by a key from its x5c header's certificate refused",
            Signature,
            Critical,
            OidcFault::X5cHeader,
            "RFC 7515 4.1.6; RFC 8725 3.10; attacks.md O-04",
            SIG_FIX
        ),
        fault_check!(
            "oidc.sig.x5u",
            "ID token signed by a key from the certificate its x5u header names refused",
            Signature,
            Critical,
            OidcFault::X5uHeader,
            "RFC 7515 4.1.5; RFC 8725 3.10; attacks.md O-04",
            SIG_FIX
        ),
        fault_check!(
            "oidc.claims.iss",
            "ID token from another issuer refused",
            Addressing,
            High,
            OidcFault::WrongIss,
            "OpenID Connect Core 3.1.3.7 step 2",
            CLAIMS_FIX
        ),
        fault_check!(
            "oidc.claims.missing_sub",
            "ID token without sub gives no session",
            Identity,
            High,
            OidcFault::MissingSub,
            "OpenID Connect Core 2 (sub is REQUIRED) and 5.7 (iss and sub identify the user)",
            "Refuse an ID token without a non-empty sub; key the account on (iss, sub), never on the email in its place."
        ),
        fault_check!(
            "oidc.claims.aud",
            "ID token for another client refused",
            Addressing,
            High,
            OidcFault::WrongAud,
            "OpenID Connect Core 3.1.3.7 step 3",
            CLAIMS_FIX
        ),
        fault_check!(
            "oidc.claims.azp",
            "ID token with an extra untrusted audience and no azp refused",
            Addressing,
            Medium,
            OidcFault::ExtraUntrustedAud,
            "OpenID Connect Core 3.1.3.7 steps 3 to 5",
            CLAIMS_FIX
        ),
        fault_check!(
            "oidc.claims.expired",
            "Expired ID token refused",
            Conditions,
            High,
            OidcFault::Expired,
            "OpenID Connect Core 3.1.3.7 step 9",
            CLAIMS_FIX
        ),
        fault_check!(
            "oidc.claims.nbf_future",
            "ID token not valid for another hour (nbf) refused",
            Conditions,
            Medium,
            OidcFault::NbfFuture,
            "RFC 7519 4.1.5; OpenID Connect Core 2 (claims an RP does not use are ignored)",
            CLAIMS_FIX,
            // nbf is not an ID token claim in OpenID Connect Core, which says
            // claims not understood are ignored: honouring it is better, not
            // required.
            Warn
        ),
        fault_check!(
            "oidc.claims.missing_iat",
            "ID token without iat refused",
            Conditions,
            Medium,
            OidcFault::MissingIat,
            "OpenID Connect Core 2 (iat is REQUIRED) and 3.1.3.7 step 10",
            CLAIMS_FIX,
            // Step 10 says iat "can" be used to reject tokens; refusing a
            // token without one is better, not required.
            Warn
        ),
        fault_check!(
            "oidc.claims.missing_aud",
            "ID token without aud refused",
            Addressing,
            High,
            OidcFault::MissingAud,
            "OpenID Connect Core 2 (aud is REQUIRED) and 3.1.3.7 step 3; OIDF oidcc-client-test-missing-aud",
            CLAIMS_FIX
        ),
        fault_check!(
            "oidc.claims.missing_iss",
            "ID token without iss refused",
            Addressing,
            High,
            OidcFault::MissingIss,
            "OpenID Connect Core 2 (iss is REQUIRED) and 3.1.3.7 step 2; OIDF FAPI invalid-missing-iss",
            CLAIMS_FIX
        ),
        fault_check!(
            "oidc.claims.missing_exp",
            "ID token without exp refused",
            Conditions,
            High,
            OidcFault::MissingExp,
            "OpenID Connect Core 2 (exp is REQUIRED) and 3.1.3.7 step 9; OIDF FAPI invalid-missing-exp",
            CLAIMS_FIX
        ),
        fault_check!(
            "oidc.claims.iat_future",
            "ID token issued an hour in the future (iat) refused",
            Conditions,
            Medium,
            OidcFault::IatFuture,
            "OpenID Connect Core 3.1.3.7 step 10; attacks.md O-10",
            CLAIMS_FIX,
            // Step 10 says iat "can" be used to reject tokens issued too far
            // from the current time: refusing is better, not required.
            Warn
        ),
        fault_check!(
            "oidc.authorize.mix_up",
            "A redirect back whose iss names another issuer refused",
            Addressing,
            High,
            OidcFault::AuthorizationResponseWrongIss,
            "RFC 9207 2.4 (mix-up defence)",
            "When the authorization response carries iss, require it to equal the issuer the request was sent to.",
            // RFC 9207 binds only clients that implement it, and RFC 6749
            // 4.1.2 tells others to ignore parameters they do not know; a
            // client of one issuer without it is weaker, not broken.
            Warn
        ),
        fault_check!(
            "oidc.claims.exp_type",
            "ID token whose exp is a string refused",
            Conditions,
            Medium,
            OidcFault::ExpAsString,
            "RFC 7519 2 and 4.1.4 (NumericDate); attacks.md claim type confusion",
            CLAIMS_FIX
        ),
        fault_check!(
            "oidc.claims.nonce",
            "ID token with another login's nonce refused",
            Correlation,
            High,
            OidcFault::NonceMismatch,
            "OpenID Connect Core 3.1.3.7 step 11",
            "Send a fresh nonce with every authorization request, keep it in the browser's session, and require the ID token's nonce to equal it."
        ),
        fault_check!(
            "oidc.claims.nonce_missing",
            "ID token without the nonce that was sent refused",
            Correlation,
            High,
            OidcFault::MissingNonce,
            "OpenID Connect Core 3.1.3.7 step 11",
            "Send a fresh nonce with every authorization request, keep it in the browser's session, and require the ID token's nonce to equal it."
        ),
        Check {
            id: "oidc.claims.at_hash",
            title: "ID token whose at_hash does not match the access token refused",
            category: Category::Identity,
            severity: Severity::Medium,
            reference: "OpenID Connect Core 3.1.3.8 (at_hash is optional in the code flow, and checked when present)",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Oidc(OidcAction::RefuseFault(OidcFault::BadAtHash)),
            fix: "When the ID token carries at_hash, check it against the access token from the same response.",
            exclusive: false,
            // The code flow makes at_hash optional: a relying party that
            // ignores a wrong one is weak, not broken.
            weight: Weight::Warn,
        },
        fault_check!(
            "oidc.userinfo.sub",
            "userinfo for another subject is not used",
            Identity,
            High,
            OidcFault::UserinfoSubMismatch,
            "OpenID Connect Core 5.3.2 (the sub must match the ID token's)",
            "When calling userinfo, require its sub to equal the ID token's sub before using any of its claims; sign in the ID token's own subject or no one."
        ),
        fault_check!(
            "oidc.state.changed",
            "A redirect back with another state refused",
            Correlation,
            High,
            OidcFault::StateMismatch,
            "RFC 6749 10.12; OpenID Connect Core 3.1.2.7",
            STATE_FIX
        ),
        Check {
            id: "oidc.state.missing",
            title: "A redirect back with no state refused",
            category: Category::Correlation,
            severity: Severity::High,
            reference: "RFC 6749 10.12 (CSRF)",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Oidc(OidcAction::StateMissing),
            fix: STATE_FIX,
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.state.other_browser",
            title: "A redirect back meant for another browser's login refused",
            category: Category::Correlation,
            severity: Severity::High,
            reference: "RFC 6749 10.12; RFC 9700 4.7 (CSRF)",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Oidc(OidcAction::StateFromOtherBrowser),
            fix: STATE_FIX,
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.state.no_login_started",
            title: "A redirect back to a browser that started no login refused (login CSRF)",
            category: Category::Correlation,
            severity: Severity::High,
            reference: "RFC 6749 10.12; OpenID Connect Core 3.1.2.1 (state)",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Oidc(OidcAction::CallbackWithoutLogin),
            fix: STATE_FIX,
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.state.callback_replayed",
            title: "A redirect back opened again after the session ended is refused (the login is single-use)",
            category: Category::Correlation,
            severity: Severity::High,
            reference: "RFC 9700 4.7.1 and 2.1 (one-time use of the CSRF token); RFC 6749 10.12; OpenID Connect Core 3.1.2.7",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Oidc(OidcAction::CallbackReplayed),
            fix: "Use each login's state, nonce and PKCE verifier once: remove them from the browser's session (or clear their cookie) when the redirect back arrives, whatever its outcome.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.pkce.s256",
            title: "The relying party sends PKCE S256 with a fresh verifier of 43 to 128 characters",
            category: Category::Correlation,
            severity: Severity::Medium,
            reference: "RFC 7636 4.1 and 4.2; RFC 9700 2.1.1 (PKCE for every client; public clients MUST)",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Oidc(OidcAction::PkceS256),
            fix: "Send code_challenge_method=S256 with a challenge made from a new random verifier (43 to 128 characters) for every login, keep the verifier with the login, and send it to the token endpoint.",
            exclusive: false,
            // The driver weighs what it finds itself: a warning for a
            // confidential client, for which RFC 9700 2.1.1 only RECOMMENDS
            // PKCE, and a failure for a public client, which MUST use it. A
            // warn weight here would turn the public client's failure into a
            // warning too.
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.redirect.open_after_login",
            title: "After sign-in the relying party does not send the browser to another site named in its return parameter",
            category: Category::Addressing,
            severity: Severity::Medium,
            reference: "CWE-601; RFC 9700 4.11 (open redirection)",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Oidc(OidcAction::OpenRedirectAfterLogin),
            fix: "Accept only a relative path on this site as the place to return to after login (or an allow-list of URLs), checked when the login starts and again before redirecting.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.account.email_not_identity",
            title: "Another user with an existing account's email does not get that account",
            category: Category::Accounts,
            severity: Severity::High,
            reference: "OpenID Connect Core 5.7 (only iss and sub identify a user); attacks.md K-08",
            needs: &[Capability::SpInitiatedLogin, Capability::KeepsAccounts],
            action: Action::Oidc(OidcAction::EmailNotIdentity),
            fix: "Key accounts on the issuer and sub; link a new sub to an existing account by email only when email_verified is true and the tenant opted in, never by the email alone.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.account.role_from_app_profile",
            title: "The role on the user's app profile is the session's role, and a role the Okta admin changes is taken at the next sign-in",
            category: Category::Accounts,
            severity: Severity::High,
            reference: "Okta: OIDC app claims \"include all user attributes on the app profile\" (the Appenate guide's roles); the target's accounts.roles",
            needs: &[Capability::SpInitiatedLogin, Capability::KeepsAccounts],
            action: Action::Oidc(OidcAction::RoleFromAppProfile),
            fix: "Read the role claim at every sign-in, not only when the account is created, and set the account's role from it; refuse a role the SP does not have rather than keeping the old one.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.refresh.sub_changed",
            title: "A refreshed ID token naming another sub is refused",
            category: Category::Identity,
            severity: Severity::Critical,
            reference: "OpenID Connect Core 12.2 (a refreshed ID token's sub MUST be the original's)",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Oidc(OidcAction::RefreshChangesIdentity(OidcFault::RefreshTokenChangesSub)),
            fix: REFRESH_FIX,
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.refresh.iss_changed",
            title: "A refreshed ID token naming another issuer is refused",
            category: Category::Identity,
            severity: Severity::High,
            reference: "OpenID Connect Core 12.2 (a refreshed ID token's iss MUST be the original's) and 3.1.3.7 step 2",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Oidc(OidcAction::RefreshChangesIdentity(OidcFault::RefreshTokenChangesIss)),
            fix: REFRESH_FIX,
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.rotation.graceful",
            title: "Sign-in still works after a graceful key rotation",
            category: Category::Signature,
            severity: Severity::High,
            reference: "OpenID Connect Core 10.1.1 (rotation of asymmetric signing keys); attacks.md K-01",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Oidc(OidcAction::RotateKeys { emergency: false }),
            fix: "Take every key in the issuer's JWKS (the next key is published ahead of use), honour its Cache-Control, and pick the key by the token's kid.",
            // It changes the keys every concurrent check's tokens are signed with.
            exclusive: true,
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.rotation.emergency",
            title: "Sign-in still works after an emergency key rotation (the JWKS is refetched for an unknown kid)",
            category: Category::Signature,
            severity: Severity::High,
            reference: "OpenID Connect Core 10.1.1 (on an unfamiliar kid, re-retrieve the keys); attacks.md K-02",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Oidc(OidcAction::RotateKeys { emergency: true }),
            fix: "When a token names a kid the cached JWKS lacks, fetch the JWKS again (at most once a minute or so) before refusing it.",
            exclusive: true,
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.jwks.refetch_bounded",
            title: "Tokens with unknown kids do not make the relying party fetch the JWKS once per token",
            category: Category::Signature,
            severity: Severity::Medium,
            reference: "attacks.md K-03 (unknown-kid flood); OpenID Connect Core 10.1.1",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Oidc(OidcAction::RefetchBounded),
            fix: "Refetch the JWKS for an unknown kid at most once in a while (say once a minute per issuer), and refuse the token otherwise.",
            // It counts the JWKS fetches of every client of the issuer, so
            // it runs alone.
            exclusive: true,
            // In the code flow the ID token comes from the provider's token
            // endpoint, so a flood needs the provider's help: refetching for
            // every unknown kid is a weakness the spec does not forbid.
            weight: Weight::Warn,
        },
        Check {
            id: "oidc.discovery.issuer_mismatch",
            title: "A discovery document naming another issuer is refused",
            category: Category::Addressing,
            severity: Severity::High,
            reference: "OpenID Connect Discovery 4.3 (the issuer MUST be identical to the one the document was fetched for)",
            needs: &[Capability::SpInitiatedLogin],
            action: Action::Oidc(OidcAction::DiscoveryIssuerMismatch),
            fix: "Compare the discovery document's issuer with the configured issuer exactly and refuse the document when they differ; then require the ID token's iss to be the configured issuer.",
            // While it waits, every discovery document names the impostor,
            // which would break every concurrent check's sign-in.
            exclusive: true,
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.account.outside_domain",
            title: "A user whose email is outside the tenant's domains gets no account",
            category: Category::Accounts,
            severity: Severity::High,
            reference: "account takeover by email (nOAuth class)",
            needs: &[
                Capability::SpInitiatedLogin,
                Capability::KeepsAccounts,
                Capability::EmailDomains,
                Capability::Jit,
            ],
            action: Action::Oidc(OidcAction::OutsideDomain),
            fix: "Check the email domain against the tenant's verified domains before matching or creating an account, and match accounts on (issuer, sub), never the email alone.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.account.licence_at_sign_in",
            title: "A user's first sign-in gives the account the licence the SP assigns at sign-in",
            category: Category::Accounts,
            severity: Severity::Medium,
            reference: "Mobius Conveyor's Okta guide (\"Dictation licenses can be optionally assigned upon login\"); the target's accounts.licence",
            needs: &[Capability::SpInitiatedLogin, Capability::KeepsAccounts],
            action: Action::Oidc(OidcAction::LicenceAtSignIn),
            fix: "Give the licence in the step that creates the account at its first sign-in (JIT) as well as to existing accounts that lack it, so a new user can use the product at once.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.account.username_not_email_refused",
            title: "A user whose Okta username is not an email is refused, with no account, where the SP requires email usernames",
            category: Category::Accounts,
            severity: Severity::Medium,
            reference: "Koopid's Okta guide (\"the username format as email-ID\"); OpenID Connect Core 5.1 (preferred_username may be any string)",
            needs: &[Capability::SpInitiatedLogin, Capability::KeepsAccounts],
            action: Action::Oidc(OidcAction::UsernameNotEmailRefused),
            fix: "Read preferred_username (Okta's login) and, when it is not an email address, refuse the sign-in with an error that says so before any account is found or made.",
            exclusive: false,
            weight: Weight::Fail,
        },
        Check {
            id: "oidc.account.display_name_required",
            title: "A user the IdP sends no display name for is refused, with no account, where the SP requires one",
            category: Category::Accounts,
            severity: Severity::Low,
            reference: "Koopid's Okta guide (\"Make sure the assigned users have Display Name set\"); OpenID Connect Core 5.1 (name)",
            needs: &[Capability::SpInitiatedLogin, Capability::KeepsAccounts],
            action: Action::Oidc(OidcAction::DisplayNameRequired),
            fix: "When the ID token and userinfo carry no name (nor given and family names), refuse the sign-in with an error naming the missing display name before any account is made, instead of making an account named by its email.",
            exclusive: false,
            weight: Weight::Fail,
        },
    ]
}
