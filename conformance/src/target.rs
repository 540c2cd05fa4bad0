//! The target file: how the suite reaches an SP, without code.
//!
//! `[saml]`, `[oidc]` and `[scim]` are each optional, but a target declares
//! at least one; `[accounts]` says how the SP keeps accounts, whatever the
//! protocol. Checks that need something the target does not declare are
//! skipped with the reason.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// A validated target.
#[derive(Clone, Debug)]
pub struct Target {
    /// The file the target came from, for messages.
    pub source: String,
    /// The org file to serve; `None` is the built-in default org.
    pub org: Option<PathBuf>,
    /// Where the SP expects the mock IdP.
    pub idp_listen: SocketAddr,
    /// `[idp] tls = true`: serve the mock over HTTPS with a certificate from
    /// a local CA kept in the key folder (its file is named in the report),
    /// for SPs that insist on an https issuer. Off by default.
    pub idp_tls: bool,
    pub saml: Option<SamlTarget>,
    pub oidc: Option<OidcTarget>,
    pub scim: Option<ScimTarget>,
    pub accounts: Accounts,
    /// How to see a browser's session; required with `[saml]` or `[oidc]`.
    pub session: Option<SessionOracle>,
    pub create_user: Option<Hook>,
    /// Makes a group (a team) in the SP before a SCIM check pushes one of
    /// that name, for an SP whose pushed groups link only to groups that
    /// exist; the body template gets `{name}`.
    pub create_group: Option<Hook>,
    /// Turns IdP-initiated sign-in on or off; the body template gets `{value}`
    /// (`true` or `false`).
    pub set_idp_initiated: Option<Hook>,
    /// Moves the SP's clock forward (or back, with a negative number); the
    /// body template gets `{seconds}`. Checks that need time to pass at the
    /// SP (a session past its SessionNotOnOrAfter) use it instead of waiting.
    pub advance_clock: Option<Hook>,
    /// Lists the SP's accounts; a check looks for an email in the answer's
    /// text to tell whether an account exists.
    pub list_users: Option<Hook>,
    /// Requires sign-in through the IdP (SSO required) or lets it be
    /// optional again; the body template gets `{value}` (`true` or
    /// `false`). The break-glass check requires SSO while the IdP is down,
    /// and asks for it back afterwards.
    pub set_sso_required: Option<Hook>,
    /// Makes the SP fetch its IdP metadata again now, as an admin's
    /// "refresh metadata" button does.
    pub refresh_idp_metadata: Option<Hook>,
    /// Tells whether an admin has signed in through the IdP yet, which an
    /// SP that guards against lockout waits for before it lets SSO be
    /// required: the answer's JSON holds `true` or `false` at its pointer.
    pub sso_readiness: Option<ReadinessHook>,
    pub concurrency: usize,
    /// The longest any one request to the SP or a hook may take.
    pub timeout: Duration,
}

impl Target {
    /// Whether the target declares what checks of `protocol` need: its
    /// section, or for checks across protocols `[scim]` and a sign-in one.
    pub fn declares(&self, protocol: crate::catalogue::Protocol) -> bool {
        use crate::catalogue::Protocol;
        match protocol {
            Protocol::Saml => self.saml.is_some(),
            Protocol::Oidc => self.oidc.is_some(),
            Protocol::Scim => self.scim.is_some(),
            Protocol::Cross => self.scim.is_some() && (self.saml.is_some() || self.oidc.is_some()),
        }
    }
}

/// How the SP signs in by SAML.
#[derive(Clone, Debug)]
pub struct SamlTarget {
    /// The SAML app (id or name) in the org.
    pub app: String,
    /// Where SP-initiated sign-in starts.
    pub login_url: Option<String>,
    /// The SP's metadata, read for what it declares (`WantAssertionsSigned`).
    pub metadata_url: Option<String>,
    /// Whether the SP wants signed Assertions, when the target says so; it
    /// wins over the metadata.
    pub want_assertions_signed: Option<bool>,
    /// `authn_requests_signed`: whether the SP signs its AuthnRequests, when
    /// the target says so; it wins over the metadata's `AuthnRequestsSigned`.
    /// The certificate to verify them with comes from the metadata's signing
    /// `KeyDescriptor`, else from the org app's `request_signing_certificate`,
    /// else from `slo_certificate_file` (Okta has one Signature Certificate
    /// for both).
    pub authn_requests_signed: Option<bool>,
    /// `idp_initiated = false`: the SP refuses unsolicited responses by
    /// design (it signs in only from its own AuthnRequests). The IdP-initiated
    /// check then verifies the refusal instead of failing the SP for it.
    pub idp_initiated: bool,
    /// `encrypted_assertions`: whether the SP takes encrypted assertions,
    /// when the target says so; otherwise read from an encryption
    /// `KeyDescriptor` in the SP's metadata.
    pub encrypted_assertions: Option<bool>,
    /// `encryption_certificate_file`: the SP's encryption certificate (PEM),
    /// relative to the target file; the metadata's is used without it.
    pub encryption_certificate_file: Option<PathBuf>,
    /// `slo_url`: the SP's Single Logout endpoint, where an IdP sends its
    /// LogoutRequests and LogoutResponses (HTTP-POST binding). The Single
    /// Logout checks are skipped without it.
    pub slo_url: Option<String>,
    /// `logout_url`: where the browser starts the SP's own (SP-initiated)
    /// logout, which sends a LogoutRequest to the IdP.
    pub logout_url: Option<String>,
    /// `slo_certificate_file`: the certificate the SP signs its
    /// LogoutRequests with (PEM, relative to the target file), Okta's
    /// "Signature Certificate"; the suite turns Single Logout on for the app
    /// with it when the org file has not. Without it, the signing
    /// `KeyDescriptor` of the SP's metadata (`metadata_url`) serves.
    pub slo_certificate_file: Option<PathBuf>,
}

/// How the SP signs in by OpenID Connect.
#[derive(Clone, Debug)]
pub struct OidcTarget {
    /// The OIDC app (the client, by id or name) in the org.
    pub app: String,
    /// Where the relying party starts a sign-in.
    pub login_url: Option<String>,
    /// The query parameter of the login URL that names where to return
    /// after sign-in (`return_to` at the reference SP), for the open
    /// redirect check; that check is skipped without it.
    pub return_parameter: Option<String>,
    /// `refresh_url`: the relying party's hook that redeems the session's
    /// refresh token now, POSTed with the browser's cookies. It answers 2xx
    /// only when the refresh succeeded and the session goes on with the new
    /// tokens, and an error status when it refused them. The refresh checks
    /// are skipped without it.
    pub refresh_url: Option<String>,
    /// `scopes`: the scopes the relying party asks for, as its configuration
    /// has them. Only the OIN readiness report (`conformance::oin`) reads
    /// them, since Okta's submission refuses custom scopes and
    /// `offline_access`; `None` when the target does not say.
    pub scopes: Option<Vec<String>>,
}

/// Where the SP's SCIM 2.0 server is and how Okta authenticates to it.
#[derive(Clone, Debug)]
pub struct ScimTarget {
    pub base_url: String,
    pub auth: ScimAuth,
    /// Which of Okta's request profiles the SP expects (`profile = "oin"`,
    /// `"oin_patch"` or `"wizard"`; `oin` when left out): how the checks that
    /// replay Okta's flows update and deactivate users.
    pub profile: mock_idp::org::provisioning::RequestProfile,
    /// The email of the person the SCIM credential stands for (`owner =
    /// "email"`: the SP's API user whose token Okta holds), whom Okta's
    /// deactivation must not lock out; no owner check runs without it.
    pub owner: Option<String>,
    /// Whether the SP links pushed groups to teams that exist already and
    /// refuses to create one (`groups_must_exist = true`, as the Moxion
    /// guide's SP does); the `create_group` hook then makes a team.
    pub groups_must_exist: bool,
    /// `required_attributes = ["name.givenName", "name.familyName",
    /// "emails"]`: the User attributes the SP refuses a user without (the
    /// Appenate guide's first name, last name and email);
    /// `scim.users.required_attributes_enforced` is skipped without them.
    pub required_attributes: Vec<String>,
    /// `email_unique = true`: no two users may share a primary email (the
    /// Appenate guide: the email is the username);
    /// `scim.users.email_unique` is skipped without it.
    pub email_unique: bool,
    /// `requires_verified_sso = true`: the SP refuses every SCIM request
    /// until an admin has signed in through the IdP (the MoovingON guide:
    /// "Don't try to enable SCIM before you verify that IdP is working").
    /// The suite then signs an admin in before any other SCIM check, and
    /// `cross.lockout_safety.scim_waits_for_verified_sso` judges the wait.
    pub requires_verified_sso: bool,
    /// `core_attributes = { name = "boolean" | "string" | "e164", ... }`:
    /// custom attributes the SP takes on the core User itself (Okta's
    /// External namespace `urn:ietf:params:scim:schemas:core:2.0:User`), as
    /// the MoovingON guide's `moovingon_ai_admin`, `firstPhone` and
    /// `secondPhone`; `scim.users.custom_attributes_kept` is skipped
    /// without them.
    pub core_attributes: Vec<(String, CoreAttributeKind)>,
}

/// The type of a custom core User attribute the target declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoreAttributeKind {
    Boolean,
    String,
    /// A string that must be an E.164 phone number (a '+', the country
    /// code and the number); any other string is refused.
    E164,
}

#[derive(Clone, Debug)]
pub enum ScimAuth {
    Bearer(String),
    Basic { user_name: String, password: String },
}

/// How the SP keeps accounts, whatever the protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accounts {
    /// Accounts are created at first sign-in.
    pub jit: bool,
    pub email_domains: EmailDomains,
    /// False for an SP that only echoes the identity it was given: then
    /// checks about accounts are skipped.
    pub keeps_accounts: bool,
    /// The group whose members the SP makes admins when Okta pushes it by
    /// SCIM; the lockout-safety check of the last admin is skipped without
    /// it.
    pub admin_group: Option<String>,
    /// The SP's own way in for its break-glass admin, which must work
    /// whatever the IdP does; the break-glass check is skipped without it.
    pub break_glass: Option<BreakGlassLogin>,
    /// `licence = "dictation"`: the licence the SP gives an account when it
    /// signs in through the IdP (the Mobius guide's dictation licence);
    /// `oidc.account.licence_at_sign_in` reads it at `session.licence_pointer`
    /// after a first sign-in, and is skipped without both.
    pub licence: Option<String>,
    /// `username_format = "email"`: the SP refuses a user whose Okta
    /// username (the OIDC `preferred_username`) is not an email (the Koopid
    /// guide); `oidc.account.username_not_email_refused` is skipped without
    /// it. `"any"`, the default, says the SP takes any username.
    pub username_is_email: bool,
    /// `display_name_required = true`: the SP refuses a user the IdP sends
    /// no display name for (the Koopid guide);
    /// `oidc.account.display_name_required` is skipped without it.
    pub display_name_required: bool,
    /// `roles = ["ReadOnly", "User", "Admin", "EnterpriseAdmin"]`: the app
    /// roles the SP takes from the app profile's `role` (the Appenate
    /// guide), in order of rights; `oidc.account.role_from_app_profile`
    /// signs in with the last and then the first, and is skipped without
    /// them or without `session.role_pointer`.
    pub roles: Vec<String>,
    /// `unknown_user_refusal = "Error 405"`: text the SP's refusal of a
    /// user it has no account for must carry (the vendor's own error, as
    /// the MoovingON guide's "Error 405"); `saml.account.unknown_user` then
    /// requires it.
    pub unknown_user_refusal: Option<String>,
}

/// How the SP's break-glass admin signs in without the IdP: one request
/// with the admin's credentials, and what its answer shows on success.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreakGlassLogin {
    pub url: String,
    pub method: reqwest::Method,
    pub user: String,
    pub password: String,
    pub sent_as: CredentialsSentAs,
    /// The statuses that mean the admin got in; empty means any 2xx.
    pub success_status: Vec<u16>,
    /// A JSON pointer that must be present in a successful answer.
    pub success_pointer: Option<String>,
}

/// How the break-glass credentials travel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialsSentAs {
    /// An `Authorization: Basic` header.
    HttpBasic,
    /// A form body (`application/x-www-form-urlencoded`) with these field
    /// names, as a local login page posts it.
    Form { user_field: String, password_field: String },
}

/// The email domains the SP accepts for sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmailDomains {
    /// The target does not say.
    Undeclared,
    /// `"any"`: the SP accepts every domain.
    Any,
    /// Only these domains (lowercase).
    Only(Vec<String>),
}

/// How to tell whether a browser has a session, and whose.
#[derive(Clone, Debug)]
pub struct SessionOracle {
    pub url: String,
    pub identity: IdentityPath,
    /// Where the session shows the user's name, for the attributes check.
    pub name: Option<NamePointers>,
    /// JSON pointer to the user's groups (an array), for the attributes check.
    pub groups_pointer: Option<String>,
    /// JSON pointer to the account's licence (a string, such as
    /// `/licence`), for `oidc.account.licence_at_sign_in`.
    pub licence_pointer: Option<String>,
    /// JSON pointer to the user's app role (a string, such as `/role`), for
    /// `oidc.account.role_from_app_profile`.
    pub role_pointer: Option<String>,
    /// The statuses that mean "no session" (401 by default). A 2xx without
    /// the identity also means no session; any other answer makes the check
    /// an error, never a pass.
    pub no_session_status: Vec<u16>,
}

#[derive(Clone, Debug)]
pub enum NamePointers {
    /// One pointer to the whole display name.
    Whole(String),
    /// Pointers to the given and the family name.
    GivenAndFamily { given: String, family: String },
}

#[derive(Clone, Debug)]
pub enum IdentityPath {
    /// A JSON pointer into the response body, such as `/email`.
    JsonPointer(String),
    /// A regex whose first group is the identity.
    Regex(regex::Regex),
}

/// An HTTP call for an admin action with no standard API.
#[derive(Clone, Debug)]
pub struct Hook {
    pub method: reqwest::Method,
    pub url: String,
    /// A body template with `{email}` and `{name}`.
    pub body: Option<String>,
    pub basic_auth: Option<(String, String)>,
}

/// A hook whose JSON answer holds a boolean at a pointer: a question the
/// SP answers about itself, such as whether an admin has signed in through
/// the IdP yet.
#[derive(Clone, Debug)]
pub struct ReadinessHook {
    pub hook: Hook,
    /// Where the answer's JSON holds `true` or `false`.
    pub pointer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {field}: {problem}")]
pub struct TargetError {
    pub file: String,
    pub field: String,
    pub problem: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetFile {
    idp: IdpSection,
    saml: Option<SamlSection>,
    oidc: Option<OidcSection>,
    scim: Option<ScimSection>,
    #[serde(default)]
    accounts: AccountsSection,
    session: Option<SessionSection>,
    #[serde(default)]
    hooks: HooksSection,
    #[serde(default)]
    limits: LimitsSection,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdpSection {
    org: Option<String>,
    listen: String,
    #[serde(default)]
    tls: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SamlSection {
    app: String,
    login_url: Option<String>,
    metadata_url: Option<String>,
    want_assertions_signed: Option<bool>,
    authn_requests_signed: Option<bool>,
    idp_initiated: Option<bool>,
    encrypted_assertions: Option<bool>,
    encryption_certificate_file: Option<String>,
    slo_url: Option<String>,
    logout_url: Option<String>,
    slo_certificate_file: Option<String>,
    /// Read only to say where it moved.
    jit: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OidcSection {
    app: String,
    login_url: Option<String>,
    return_parameter: Option<String>,
    refresh_url: Option<String>,
    scopes: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScimSection {
    base_url: String,
    bearer_token: Option<String>,
    basic_auth: Option<String>,
    profile: Option<String>,
    owner: Option<String>,
    #[serde(default)]
    groups_must_exist: bool,
    required_attributes: Option<Vec<String>>,
    #[serde(default)]
    email_unique: bool,
    #[serde(default)]
    requires_verified_sso: bool,
    core_attributes: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountsSection {
    #[serde(default)]
    jit: bool,
    email_domains: Option<toml::Value>,
    keeps_accounts: Option<bool>,
    admin_group: Option<String>,
    break_glass: Option<BreakGlassSection>,
    licence: Option<String>,
    username_format: Option<String>,
    #[serde(default)]
    display_name_required: bool,
    roles: Option<Vec<String>>,
    unknown_user_refusal: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BreakGlassSection {
    url: String,
    method: Option<String>,
    user: String,
    password: String,
    send_as: Option<String>,
    user_field: Option<String>,
    password_field: Option<String>,
    success_status: Option<Vec<u16>>,
    success_pointer: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionSection {
    url: String,
    json_pointer: Option<String>,
    regex: Option<String>,
    name_pointer: Option<String>,
    given_name_pointer: Option<String>,
    family_name_pointer: Option<String>,
    groups_pointer: Option<String>,
    licence_pointer: Option<String>,
    role_pointer: Option<String>,
    no_session_status: Option<Vec<u16>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HooksSection {
    create_user: Option<HookEntry>,
    create_group: Option<HookEntry>,
    set_idp_initiated: Option<HookEntry>,
    advance_clock: Option<HookEntry>,
    list_users: Option<HookEntry>,
    set_sso_required: Option<HookEntry>,
    refresh_idp_metadata: Option<HookEntry>,
    sso_readiness: Option<ReadinessEntry>,
}

/// A hook read for a boolean: GET unless told, and the pointer to read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadinessEntry {
    method: Option<String>,
    url: String,
    basic_auth: Option<String>,
    pointer: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HookEntry {
    method: String,
    url: String,
    body: Option<String>,
    basic_auth: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsSection {
    concurrency: Option<usize>,
    timeout_seconds: Option<u64>,
}

/// Reads and validates a target file. Relative paths are relative to it.
pub fn load_target(path: &Path) -> Result<Target, TargetError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| TargetError {
        file: file.clone(),
        field: "(file)".into(),
        problem: format!("cannot be read: {e}"),
    })?;
    parse_target(&file, &text, path.parent().unwrap_or(Path::new(".")))
}

fn url_ok(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// Splits `USER:PASSWORD`.
fn user_and_password(pair: &str) -> Option<(String, String)> {
    pair.split_once(':').map(|(user, password)| (user.to_owned(), password.to_owned()))
}

pub fn parse_target(file: &str, text: &str, dir: &Path) -> Result<Target, TargetError> {
    let fail = |field: &str, problem: String| TargetError { file: file.to_owned(), field: field.to_owned(), problem };
    let parsed: TargetFile = toml::from_str(text).map_err(|e| {
        let field = e.span().map_or_else(
            || "(syntax)".to_owned(),
            |span| format!("line {}", text[..span.start.min(text.len())].matches('\n').count() + 1),
        );
        fail(&field, e.message().replace('\n', " ").trim().to_owned())
    })?;
    let idp_listen = parsed
        .idp
        .listen
        .parse()
        .map_err(|_| fail("idp.listen", format!("'{}' is not an address:port", parsed.idp.listen)))?;
    let absolute_url = |field: &str, value: &str| -> Result<(), TargetError> {
        if url_ok(value) { Ok(()) } else { Err(fail(field, format!("'{value}' is not an absolute http or https URL"))) }
    };
    if parsed.saml.is_none() && parsed.oidc.is_none() && parsed.scim.is_none() {
        return Err(fail("(file)", "declare at least one of [saml], [oidc] or [scim]".into()));
    }
    let saml = match parsed.saml {
        None => None,
        Some(section) => {
            if section.jit.is_some() {
                return Err(fail("saml.jit", "moved: say `jit = true` or `false` in [accounts]".into()));
            }
            if section.app.trim().is_empty() {
                return Err(fail("saml.app", "must not be empty".into()));
            }
            if let Some(login) = &section.login_url {
                absolute_url("saml.login_url", login)?;
            }
            if let Some(metadata) = &section.metadata_url {
                absolute_url("saml.metadata_url", metadata)?;
            }
            if let Some(slo) = &section.slo_url {
                absolute_url("saml.slo_url", slo)?;
            }
            if let Some(logout) = &section.logout_url {
                absolute_url("saml.logout_url", logout)?;
            }
            Some(SamlTarget {
                app: section.app,
                login_url: section.login_url,
                metadata_url: section.metadata_url,
                want_assertions_signed: section.want_assertions_signed,
                authn_requests_signed: section.authn_requests_signed,
                idp_initiated: section.idp_initiated.unwrap_or(true),
                encrypted_assertions: section.encrypted_assertions,
                encryption_certificate_file: section.encryption_certificate_file.map(|file| dir.join(file)),
                slo_url: section.slo_url,
                logout_url: section.logout_url,
                slo_certificate_file: section.slo_certificate_file.map(|file| dir.join(file)),
            })
        }
    };
    let oidc = match parsed.oidc {
        None => None,
        Some(section) => {
            if section.app.trim().is_empty() {
                return Err(fail("oidc.app", "must not be empty".into()));
            }
            if let Some(login) = &section.login_url {
                absolute_url("oidc.login_url", login)?;
            }
            if let Some(refresh) = &section.refresh_url {
                absolute_url("oidc.refresh_url", refresh)?;
            }
            Some(OidcTarget {
                app: section.app,
                login_url: section.login_url,
                return_parameter: section.return_parameter.filter(|name| !name.is_empty()),
                refresh_url: section.refresh_url,
                scopes: section.scopes,
            })
        }
    };
    let scim = match parsed.scim {
        None => None,
        Some(section) => {
            absolute_url("scim.base_url", &section.base_url)?;
            let auth = match (section.bearer_token, section.basic_auth) {
                (Some(token), None) if !token.trim().is_empty() => ScimAuth::Bearer(token),
                (None, Some(pair)) => {
                    let (user_name, password) = user_and_password(&pair)
                        .ok_or_else(|| fail("scim.basic_auth", "must be USER:PASSWORD".into()))?;
                    ScimAuth::Basic { user_name, password }
                }
                _ => return Err(fail("scim", "give exactly one of bearer_token or basic_auth".into())),
            };
            use mock_idp::org::provisioning::RequestProfile;
            let profile = match section.profile.as_deref() {
                None => RequestProfile::Oin,
                Some(name) => RequestProfile::parse(name).ok_or_else(|| {
                    fail("scim.profile", format!("'{name}' is not one of Okta's profiles: oin, oin_patch or wizard"))
                })?,
            };
            let owner = match section.owner {
                Some(email) if !email.contains('@') || email.trim() != email => {
                    return Err(fail("scim.owner", format!("'{email}' is not an email address")));
                }
                owner => owner,
            };
            let groups_must_exist = section.groups_must_exist;
            let required_attributes = section.required_attributes.unwrap_or_default();
            if let Some(bad) = required_attributes.iter().find(|a| {
                a.is_empty()
                    || a.split('.').count() > 2
                    || !a.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()))
            }) {
                return Err(fail(
                    "scim.required_attributes",
                    format!("'{bad}' is not a User attribute path such as name.givenName or emails"),
                ));
            }
            let mut core_attributes = Vec::new();
            for (name, kind) in section.core_attributes.unwrap_or_default() {
                let kind = match kind.as_str() {
                    "boolean" => CoreAttributeKind::Boolean,
                    "string" => CoreAttributeKind::String,
                    "e164" => CoreAttributeKind::E164,
                    other => {
                        return Err(fail(
                            "scim.core_attributes",
                            format!("'{name}' has type '{other}', not one of boolean, string or e164"),
                        ));
                    }
                };
                if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    return Err(fail("scim.core_attributes", format!("'{name}' is not a SCIM attribute name")));
                }
                core_attributes.push((name, kind));
            }
            Some(ScimTarget {
                base_url: section.base_url,
                auth,
                profile,
                owner,
                groups_must_exist,
                required_attributes,
                email_unique: section.email_unique,
                requires_verified_sso: section.requires_verified_sso,
                core_attributes,
            })
        }
    };
    let email_domains = match parsed.accounts.email_domains {
        None => EmailDomains::Undeclared,
        Some(toml::Value::String(any)) if any == "any" => EmailDomains::Any,
        Some(toml::Value::Array(list)) if !list.is_empty() => {
            let mut domains = Vec::new();
            for value in list {
                match value.as_str() {
                    Some(domain) if !domain.trim().is_empty() && !domain.contains('@') => {
                        domains.push(domain.trim().to_ascii_lowercase());
                    }
                    _ => return Err(fail("accounts.email_domains", format!("{value} is not a domain name"))),
                }
            }
            EmailDomains::Only(domains)
        }
        Some(other) => {
            return Err(fail("accounts.email_domains", format!("{other} is neither a list of domains nor \"any\"")));
        }
    };
    let break_glass = match parsed.accounts.break_glass {
        None => None,
        Some(section) => Some(break_glass_login(section, &fail)?),
    };
    let accounts = Accounts {
        jit: parsed.accounts.jit,
        email_domains,
        keeps_accounts: parsed.accounts.keeps_accounts.unwrap_or(true),
        admin_group: match parsed.accounts.admin_group {
            Some(name) if name.trim().is_empty() => {
                return Err(fail("accounts.admin_group", "must name a group".into()));
            }
            other => other,
        },
        break_glass,
        licence: match parsed.accounts.licence {
            Some(licence) if licence.trim().is_empty() => {
                return Err(fail("accounts.licence", "must name the licence the SP gives at sign-in".into()));
            }
            other => other.map(|licence| licence.trim().to_owned()),
        },
        username_is_email: match parsed.accounts.username_format.as_deref() {
            None | Some("any") => false,
            Some("email") => true,
            Some(other) => {
                return Err(fail("accounts.username_format", format!("'{other}' is neither \"email\" nor \"any\"")));
            }
        },
        display_name_required: parsed.accounts.display_name_required,
        roles: match parsed.accounts.roles {
            Some(roles) if roles.len() < 2 || roles.iter().any(|r| r.trim().is_empty()) => {
                return Err(fail("accounts.roles", "must list at least two role names".into()));
            }
            other => other.unwrap_or_default(),
        },
        unknown_user_refusal: match parsed.accounts.unknown_user_refusal {
            Some(text) if text.trim().is_empty() => {
                return Err(fail("accounts.unknown_user_refusal", "must be the text the refusal carries".into()));
            }
            other => other.map(|text| text.trim().to_owned()),
        },
    };
    let pointer = |field: &str, value: Option<String>| -> Result<Option<String>, TargetError> {
        match value {
            Some(p) if !p.starts_with('/') => Err(fail(field, format!("'{p}' must start with '/'"))),
            other => Ok(other),
        }
    };
    let session = match parsed.session {
        None if saml.is_some() || oidc.is_some() => {
            return Err(fail("session", "required with [saml] or [oidc]: the suite judges sign-in by it".into()));
        }
        None => None,
        Some(section) => {
            absolute_url("session.url", &section.url)?;
            let identity = match (section.json_pointer, section.regex) {
                (Some(pointer), None) if pointer.starts_with('/') => IdentityPath::JsonPointer(pointer),
                (Some(pointer), None) => {
                    return Err(fail("session.json_pointer", format!("'{pointer}' must start with '/'")));
                }
                (None, Some(pattern)) => match regex::Regex::new(&pattern) {
                    Ok(regex) if regex.captures_len() > 1 => IdentityPath::Regex(regex),
                    Ok(_) => return Err(fail("session.regex", "needs a capture group for the identity".into())),
                    Err(e) => {
                        let problem = e.to_string().lines().last().unwrap_or("invalid").trim().to_owned();
                        return Err(fail("session.regex", problem));
                    }
                },
                _ => return Err(fail("session", "give exactly one of json_pointer or regex".into())),
            };
            let name = match (
                pointer("session.name_pointer", section.name_pointer)?,
                pointer("session.given_name_pointer", section.given_name_pointer)?,
                pointer("session.family_name_pointer", section.family_name_pointer)?,
            ) {
                (None, None, None) => None,
                (Some(whole), None, None) => Some(NamePointers::Whole(whole)),
                (None, Some(given), Some(family)) => Some(NamePointers::GivenAndFamily { given, family }),
                _ => {
                    return Err(fail(
                        "session",
                        "give the name as name_pointer, or as given_name_pointer and family_name_pointer".into(),
                    ));
                }
            };
            let no_session_status = section.no_session_status.unwrap_or_else(|| vec![401]);
            if no_session_status.is_empty() || no_session_status.iter().any(|s| !(100..=599).contains(s)) {
                return Err(fail("session.no_session_status", "must list HTTP statuses (100 to 599)".into()));
            }
            if no_session_status.iter().any(|s| (200..300).contains(s)) {
                return Err(fail(
                    "session.no_session_status",
                    "a 2xx without the identity already means no session; list only other statuses".into(),
                ));
            }
            Some(SessionOracle {
                url: section.url,
                identity,
                name,
                groups_pointer: pointer("session.groups_pointer", section.groups_pointer)?,
                licence_pointer: pointer("session.licence_pointer", section.licence_pointer)?,
                role_pointer: pointer("session.role_pointer", section.role_pointer)?,
                no_session_status,
            })
        }
    };
    let hook = |name: &str, entry: Option<HookEntry>| -> Result<Option<Hook>, TargetError> {
        let Some(entry) = entry else { return Ok(None) };
        let method = reqwest::Method::from_bytes(entry.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| fail(&format!("hooks.{name}.method"), format!("'{}' is not an HTTP method", entry.method)))?;
        absolute_url(&format!("hooks.{name}.url"), &entry.url)?;
        let basic_auth = match entry.basic_auth {
            None => None,
            Some(pair) => Some(
                user_and_password(&pair)
                    .ok_or_else(|| fail(&format!("hooks.{name}.basic_auth"), "must be USER:PASSWORD".into()))?,
            ),
        };
        Ok(Some(Hook { method, url: entry.url, body: entry.body, basic_auth }))
    };
    let create_user = hook("create_user", parsed.hooks.create_user)?;
    let create_group = hook("create_group", parsed.hooks.create_group)?;
    let set_idp_initiated = hook("set_idp_initiated", parsed.hooks.set_idp_initiated)?;
    let advance_clock = hook("advance_clock", parsed.hooks.advance_clock)?;
    let list_users = hook("list_users", parsed.hooks.list_users)?;
    let set_sso_required = hook("set_sso_required", parsed.hooks.set_sso_required)?;
    let refresh_idp_metadata = hook("refresh_idp_metadata", parsed.hooks.refresh_idp_metadata)?;
    let sso_readiness = match parsed.hooks.sso_readiness {
        None => None,
        Some(entry) if !entry.pointer.starts_with('/') => {
            return Err(fail("hooks.sso_readiness.pointer", format!("'{}' must start with '/'", entry.pointer)));
        }
        Some(entry) => {
            let as_hook = HookEntry {
                method: entry.method.unwrap_or_else(|| "GET".to_owned()),
                url: entry.url,
                body: None,
                basic_auth: entry.basic_auth,
            };
            hook("sso_readiness", Some(as_hook))?.map(|hook| ReadinessHook { hook, pointer: entry.pointer })
        }
    };
    let concurrency = parsed.limits.concurrency.unwrap_or(8);
    if !(1..=64).contains(&concurrency) {
        return Err(fail("limits.concurrency", format!("{concurrency} is not between 1 and 64")));
    }
    let timeout = parsed.limits.timeout_seconds.unwrap_or(10);
    if !(1..=120).contains(&timeout) {
        return Err(fail("limits.timeout_seconds", format!("{timeout} is not between 1 and 120")));
    }
    Ok(Target {
        source: file.to_owned(),
        org: parsed.idp.org.map(|org| dir.join(org)),
        idp_listen,
        idp_tls: parsed.idp.tls,
        saml,
        oidc,
        scim,
        accounts,
        session,
        create_user,
        create_group,
        set_idp_initiated,
        advance_clock,
        list_users,
        set_sso_required,
        refresh_idp_metadata,
        sso_readiness,
        concurrency,
        timeout: Duration::from_secs(timeout),
    })
}

/// Validates `[accounts.break_glass]`: an absolute URL, credentials sent by
/// HTTP Basic (GET by default) or as a form (POST by default, both field
/// names given), and success as statuses and an optional JSON pointer.
fn break_glass_login(
    section: BreakGlassSection,
    fail: &dyn Fn(&str, String) -> TargetError,
) -> Result<BreakGlassLogin, TargetError> {
    if !url_ok(&section.url) {
        return Err(fail(
            "accounts.break_glass.url",
            format!("'{}' is not an absolute http or https URL", section.url),
        ));
    }
    if section.user.trim().is_empty() || section.password.is_empty() {
        return Err(fail("accounts.break_glass", "needs a user and a password".into()));
    }
    let sent_as = match (section.send_as.as_deref(), section.user_field, section.password_field) {
        (None | Some("basic"), None, None) => CredentialsSentAs::HttpBasic,
        (Some("form"), Some(user_field), Some(password_field))
            if !user_field.is_empty() && !password_field.is_empty() =>
        {
            CredentialsSentAs::Form { user_field, password_field }
        }
        (Some("form"), _, _) => {
            return Err(fail("accounts.break_glass", "a form needs user_field and password_field".into()));
        }
        (None | Some("basic"), _, _) => {
            return Err(fail(
                "accounts.break_glass",
                "user_field and password_field are for send_as = \"form\"".into(),
            ));
        }
        (Some(other), _, _) => {
            return Err(fail("accounts.break_glass.send_as", format!("'{other}' is neither \"basic\" nor \"form\"")));
        }
    };
    let default_method = match sent_as {
        CredentialsSentAs::HttpBasic => "GET",
        CredentialsSentAs::Form { .. } => "POST",
    };
    let method_name = section.method.unwrap_or_else(|| default_method.to_owned());
    let method = reqwest::Method::from_bytes(method_name.to_ascii_uppercase().as_bytes())
        .map_err(|_| fail("accounts.break_glass.method", format!("'{method_name}' is not an HTTP method")))?;
    let success_status = section.success_status.unwrap_or_default();
    if success_status.iter().any(|s| !(100..=599).contains(s)) {
        return Err(fail("accounts.break_glass.success_status", "must list HTTP statuses (100 to 599)".into()));
    }
    if let Some(pointer) = &section.success_pointer
        && !pointer.starts_with('/')
    {
        return Err(fail("accounts.break_glass.success_pointer", format!("'{pointer}' must start with '/'")));
    }
    Ok(BreakGlassLogin {
        url: section.url,
        method,
        user: section.user,
        password: section.password,
        sent_as,
        success_status,
        success_pointer: section.success_pointer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE: &str = include_str!("../../fixtures/targets/reference-sp.toml");

    fn parse(text: &str) -> Result<Target, TargetError> {
        parse_target("t.toml", text, Path::new("."))
    }

    #[test]
    fn reference_target_loads() {
        let target = parse_target("reference-sp.toml", REFERENCE, Path::new("fixtures/targets")).unwrap();
        use crate::catalogue::Protocol;
        assert!(target.declares(Protocol::Saml) && target.declares(Protocol::Oidc));
        assert!(target.declares(Protocol::Scim) && target.declares(Protocol::Cross));
        let scim = target.scim.as_ref().unwrap();
        assert!(matches!(&scim.auth, ScimAuth::Bearer(token) if token == "mockta-dev-token"));
        assert_eq!(scim.profile, mock_idp::org::provisioning::RequestProfile::Oin);
        assert_eq!(target.oidc.as_ref().unwrap().app, "reference-sp-oidc");
        assert_eq!(target.saml.unwrap().app, "reference-sp");
        assert!(target.accounts.jit);
        assert!(target.accounts.keeps_accounts);
        assert_eq!(target.accounts.email_domains, EmailDomains::Only(vec!["acme.test".into()]));
        assert!(target.create_user.is_some());
        assert_eq!(target.session.unwrap().no_session_status, vec![401]);
        assert_eq!(target.org.unwrap(), Path::new("fixtures/targets/../orgs/acme.toml"));
    }

    #[test]
    fn the_refresh_url_is_optional_and_absolute() {
        let declared = parse(REFERENCE).unwrap().oidc.unwrap().refresh_url;
        assert_eq!(declared.as_deref(), Some("http://127.0.0.1:7100/oidc/refresh"));
        let without = REFERENCE.replace("refresh_url = \"http://127.0.0.1:7100/oidc/refresh\"\n", "");
        assert_eq!(parse(&without).unwrap().oidc.unwrap().refresh_url, None);
        let error =
            parse(&REFERENCE.replace("\"http://127.0.0.1:7100/oidc/refresh\"", "\"/oidc/refresh\"")).unwrap_err();
        assert_eq!(error.field, "oidc.refresh_url");
    }

    #[test]
    fn the_single_logout_fields_are_optional_absolute_and_relative_to_the_file() {
        let saml = parse(REFERENCE).unwrap().saml.unwrap();
        assert_eq!((saml.slo_url, saml.logout_url, saml.slo_certificate_file), (None, None, None));
        let login = "login_url = \"http://127.0.0.1:7100/login?tenant=acme\"";
        let declared = REFERENCE.replacen(
            login,
            &format!(
                "{login}\nslo_url = \"http://sp/slo\"\nlogout_url = \"http://sp/out\"\nslo_certificate_file = \"c.pem\""
            ),
            1,
        );
        let saml = parse(&declared).unwrap().saml.unwrap();
        assert_eq!(saml.slo_url.as_deref(), Some("http://sp/slo"));
        assert_eq!(saml.logout_url.as_deref(), Some("http://sp/out"));
        assert!(saml.slo_certificate_file.unwrap().ends_with("c.pem"));
        let error = parse(&declared.replace("\"http://sp/slo\"", "\"/slo\"")).unwrap_err();
        assert_eq!(error.field, "saml.slo_url");
        let error = parse(&declared.replace("\"http://sp/out\"", "\"/out\"")).unwrap_err();
        assert_eq!(error.field, "saml.logout_url");
    }

    #[test]
    fn bad_fields_are_named() {
        let error = parse(&REFERENCE.replace("json_pointer = \"/email\"", "json_pointer = \"email\"")).unwrap_err();
        assert_eq!(error.to_string(), "t.toml: session.json_pointer: 'email' must start with '/'");
        let error = parse(&REFERENCE.replace("127.0.0.1:7000", "nowhere")).unwrap_err();
        assert_eq!(error.to_string(), "t.toml: idp.listen: 'nowhere' is not an address:port");
    }

    #[test]
    fn a_target_needs_one_protocol_and_sign_in_needs_a_session() {
        let error = parse("[idp]\nlisten = \"127.0.0.1:0\"\n").unwrap_err();
        assert_eq!(error.to_string(), "t.toml: (file): declare at least one of [saml], [oidc] or [scim]");
        let error = parse("[idp]\nlisten = \"127.0.0.1:0\"\n[oidc]\napp = \"web\"\n").unwrap_err();
        assert_eq!(error.field, "session");
        let scim_only = parse(
            "[idp]\nlisten = \"127.0.0.1:0\"\n[scim]\nbase_url = \"http://127.0.0.1:1/scim/v2\"\nbearer_token = \"t\"\n",
        )
        .unwrap();
        assert!(scim_only.saml.is_none() && scim_only.session.is_none());
        assert!(matches!(scim_only.scim.unwrap().auth, ScimAuth::Bearer(token) if token == "t"));
    }

    #[test]
    fn scim_profile_is_one_of_oktas_and_oin_by_default() {
        use mock_idp::org::provisioning::RequestProfile;
        let scim = |profile: &str| {
            parse(&format!(
                "[idp]\nlisten = \"127.0.0.1:0\"\n[scim]\nbase_url = \"http://127.0.0.1:1/scim/v2\"\nbearer_token = \"t\"\n{profile}"
            ))
        };
        assert_eq!(scim("").unwrap().scim.unwrap().profile, RequestProfile::Oin);
        assert_eq!(scim("profile = \"wizard\"\n").unwrap().scim.unwrap().profile, RequestProfile::AppIntegrationWizard);
        assert_eq!(scim("profile = \"oin_patch\"\n").unwrap().scim.unwrap().profile, RequestProfile::OinPatch);
        let error = scim("profile = \"azure\"\n").unwrap_err();
        assert_eq!(error.field, "scim.profile");
        assert_eq!(scim("").unwrap().scim.unwrap().owner, None);
        assert_eq!(scim("owner = \"api@acme.test\"\n").unwrap().scim.unwrap().owner.as_deref(), Some("api@acme.test"));
        assert_eq!(scim("owner = \"api\"\n").unwrap_err().field, "scim.owner");
        assert!(!scim("").unwrap().scim.unwrap().groups_must_exist);
        assert!(scim("groups_must_exist = true\n").unwrap().scim.unwrap().groups_must_exist);
        assert!(error.problem.contains("oin, oin_patch or wizard"), "{error}");
    }

    #[test]
    fn saml_jit_says_where_it_moved() {
        let error = parse(&REFERENCE.replace("[saml]\n", "[saml]\njit = true\n")).unwrap_err();
        assert_eq!(error.field, "saml.jit");
        assert!(error.problem.contains("[accounts]"), "{error}");
    }

    #[test]
    fn accounts_and_session_read_the_vendor_rules() {
        let plain = parse(REFERENCE).unwrap();
        assert_eq!(
            (plain.accounts.licence, plain.accounts.username_is_email, plain.accounts.display_name_required),
            (None, false, false)
        );
        assert_eq!(plain.session.unwrap().licence_pointer, None);
        let declared = REFERENCE
            .replacen(
                "[accounts]\n",
                "[accounts]\nlicence = \"dictation\"\nusername_format = \"email\"\ndisplay_name_required = true\n",
                1,
            )
            .replacen("[session]\n", "[session]\nlicence_pointer = \"/licence\"\n", 1);
        let target = parse(&declared).unwrap();
        assert_eq!(target.accounts.licence.as_deref(), Some("dictation"));
        assert!(target.accounts.username_is_email && target.accounts.display_name_required);
        assert_eq!(target.session.unwrap().licence_pointer.as_deref(), Some("/licence"));
        let bad = REFERENCE.replacen("[accounts]\n", "[accounts]\nusername_format = \"login\"\n", 1);
        assert_eq!(
            parse(&bad).unwrap_err().to_string(),
            "t.toml: accounts.username_format: 'login' is neither \"email\" nor \"any\""
        );
        let pointer = REFERENCE.replacen("[session]\n", "[session]\nlicence_pointer = \"licence\"\n", 1);
        assert_eq!(
            parse(&pointer).unwrap_err().to_string(),
            "t.toml: session.licence_pointer: 'licence' must start with '/'"
        );
    }

    #[test]
    fn accounts_section_reads_domains_any_and_echo_only_sps() {
        let with = |accounts: &str| {
            let start = REFERENCE.find("[accounts]").unwrap();
            let end = REFERENCE[start..].find("\n\n").map_or(REFERENCE.len(), |i| start + i);
            parse(&format!("{}[accounts]\n{accounts}{}", &REFERENCE[..start], &REFERENCE[end..]))
        };
        let target = with("email_domains = \"any\"\nkeeps_accounts = false\n").unwrap();
        assert_eq!(target.accounts.email_domains, EmailDomains::Any);
        assert!(!target.accounts.keeps_accounts && !target.accounts.jit);
        assert_eq!(with("").unwrap().accounts.email_domains, EmailDomains::Undeclared);
        assert_eq!(
            with("email_domains = [\"Acme.TEST\"]\n").unwrap().accounts.email_domains,
            EmailDomains::Only(vec!["acme.test".into()])
        );
        assert_eq!(with("email_domains = \"all\"\n").unwrap_err().field, "accounts.email_domains");
        assert_eq!(with("email_domains = [\"a@b\"]\n").unwrap_err().field, "accounts.email_domains");
        assert_eq!(with("").unwrap().accounts.admin_group, None);
        assert_eq!(with("admin_group = \"admins\"\n").unwrap().accounts.admin_group.as_deref(), Some("admins"));
        assert_eq!(with("admin_group = \" \"\n").unwrap_err().field, "accounts.admin_group");
    }

    #[test]
    fn break_glass_login_is_basic_or_a_form_and_optional() {
        let declared = parse(REFERENCE).unwrap();
        let login = declared.accounts.break_glass.unwrap();
        assert_eq!(login.url, "http://127.0.0.1:7100/admin/tenants/acme/settings");
        assert_eq!((login.method, login.sent_as), (reqwest::Method::GET, CredentialsSentAs::HttpBasic));
        assert_eq!((login.user.as_str(), login.password.as_str()), ("breakglass@acme.test", "mockta-dev-breakglass"));
        assert_eq!((login.success_status, login.success_pointer.as_deref()), (vec![200], Some("/sso_required")));
        assert!(declared.set_sso_required.is_some() && declared.refresh_idp_metadata.is_some());
        let readiness = declared.sso_readiness.unwrap();
        assert_eq!(
            (readiness.hook.method, readiness.pointer.as_str()),
            (reqwest::Method::GET, "/admin_signed_in_via_idp")
        );
        assert_eq!(readiness.hook.url, "http://127.0.0.1:7100/admin/tenants/acme/settings");
        let readiness_line = REFERENCE.lines().find(|l| l.starts_with("sso_readiness")).unwrap();
        let bad_pointer =
            REFERENCE.replace(readiness_line, &readiness_line.replace("\"/admin_signed_in_via_idp\"", "\"admin\""));
        assert_eq!(parse(&bad_pointer).unwrap_err().field, "hooks.sso_readiness.pointer");
        assert!(parse(&REFERENCE.replace(readiness_line, "")).unwrap().sso_readiness.is_none());
        let start = REFERENCE.find("[accounts.break_glass]").unwrap();
        let end = REFERENCE[start..].find("\n\n").map_or(REFERENCE.len(), |i| start + i);
        let with = |section: &str| parse(&format!("{}{section}{}", &REFERENCE[..start], &REFERENCE[end..]));
        assert_eq!(with("").unwrap().accounts.break_glass, None);
        let form = with(
            "[accounts.break_glass]\nurl = \"http://sp/login\"\nuser = \"root\"\npassword = \"pw\"\nsend_as = \"form\"\nuser_field = \"username\"\npassword_field = \"password\"\nsuccess_status = [302]\n",
        )
        .unwrap()
        .accounts
        .break_glass
        .unwrap();
        assert_eq!(form.method, reqwest::Method::POST);
        assert_eq!(
            form.sent_as,
            CredentialsSentAs::Form { user_field: "username".into(), password_field: "password".into() }
        );
        assert!(form.success_pointer.is_none());
        let bad = |section: &str| with(&format!("[accounts.break_glass]\nuser = \"u\"\npassword = \"p\"\n{section}"));
        assert_eq!(bad("url = \"/login\"\n").unwrap_err().field, "accounts.break_glass.url");
        assert_eq!(bad("url = \"http://sp/\"\nsend_as = \"form\"\n").unwrap_err().field, "accounts.break_glass");
        assert_eq!(bad("url = \"http://sp/\"\nuser_field = \"u\"\n").unwrap_err().field, "accounts.break_glass");
        assert_eq!(
            bad("url = \"http://sp/\"\nsend_as = \"digest\"\n").unwrap_err().field,
            "accounts.break_glass.send_as"
        );
        assert_eq!(
            bad("url = \"http://sp/\"\nsuccess_pointer = \"ok\"\n").unwrap_err().field,
            "accounts.break_glass.success_pointer"
        );
        assert_eq!(
            bad("url = \"http://sp/\"\nsuccess_status = [42]\n").unwrap_err().field,
            "accounts.break_glass.success_status"
        );
    }

    #[test]
    fn session_name_is_one_pointer_or_given_and_family() {
        let split = REFERENCE.replace(
            "name_pointer = \"/name\"",
            "given_name_pointer = \"/given_name\"\nfamily_name_pointer = \"/family_name\"",
        );
        let session = parse(&split).unwrap().session.unwrap();
        assert!(
            matches!(session.name, Some(NamePointers::GivenAndFamily { given, family }) if given == "/given_name" && family == "/family_name")
        );
        let both =
            REFERENCE.replace("name_pointer = \"/name\"", "name_pointer = \"/name\"\ngiven_name_pointer = \"/g\"");
        assert_eq!(parse(&both).unwrap_err().field, "session");
        let no_session =
            REFERENCE.replace("json_pointer = \"/email\"", "json_pointer = \"/email\"\nno_session_status = [200]");
        assert_eq!(parse(&no_session).unwrap_err().field, "session.no_session_status");
    }

    #[test]
    fn idp_tls_is_off_unless_the_target_asks() {
        assert!(!parse(REFERENCE).unwrap().idp_tls, "plain HTTP by default");
        let tls = REFERENCE.replacen("[idp]\n", "[idp]\ntls = true\n", 1);
        assert!(parse(&tls).unwrap().idp_tls);
        let not_a_bool = REFERENCE.replacen("[idp]\n", "[idp]\ntls = \"yes\"\n", 1);
        assert!(parse(&not_a_bool).unwrap_err().to_string().starts_with("t.toml: line "), "a bad value is named");
    }
}
