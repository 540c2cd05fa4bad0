//! The SP's configuration file (TOML): the server and its tenants.
//!
//! Every problem is reported with the file, the field path and what is wrong.

use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::Duration;

/// A tenant id: lowercase letters, digits and dashes, as it appears in URLs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    pub fn parse(value: &str) -> Option<Self> {
        let ok = !value.is_empty()
            && value.len() <= 64
            && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| TenantId(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether unknown users get an account at first sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provisioning {
    /// Just-in-time: create the account at first sign-in.
    Jit,
    /// Only accounts that already exist may sign in.
    ExistingOnly,
}

/// Where the tenant's IdP metadata comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdpSource {
    Url(String),
    File(PathBuf),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreakGlass {
    pub email: String,
    pub password: String,
}

/// The settings of one tenant that the admin API may change at run time.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct TenantSettings {
    pub default_relay_state: String,
    pub allowed_email_domains: Vec<String>,
    pub provisioning: Provisioning,
    pub allow_idp_initiated: bool,
    pub clock_skew_seconds: u32,
    pub allow_sha1: bool,
    /// Users must sign in through the tenant's IdP. Only the break-glass
    /// admin keeps a local way in.
    #[serde(default)]
    pub sso_required: bool,
    /// Set when an admin first signs in through the tenant's IdP; until
    /// then `sso_required` cannot be switched on. Not settable by the API.
    #[serde(default)]
    pub admin_signed_in_via_idp: bool,
    /// Whether an OIDC sign-in whose `(iss, sub)` is not linked yet may take
    /// over the existing account with the same email, when the provider
    /// says `email_verified: true`. Off by default: Okta's OIN rules say not
    /// to rely on `email_verified`, and an email match is how account
    /// takeovers happen (attacks.md K-08). Accounts made at first sign-in
    /// (JIT) do not need it.
    #[serde(default)]
    pub link_accounts_by_verified_email: bool,
}

/// A tenant's SAML connection: where its IdP's metadata comes from and the
/// entity id this SP has for the tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamlConnection {
    pub idp: IdpSource,
    pub sp_entity_id: String,
    /// How the AuthnRequest of SP-initiated sign-in travels to the IdP.
    pub authn_request_binding: AuthnRequestBinding,
    /// The tenant's key pair for encrypted assertions, if it takes them: the
    /// certificate is published in the SP metadata as
    /// `KeyDescriptor use="encryption"`, and the key decrypts.
    pub encryption: Option<KeyPairSource>,
    /// Refuse assertions that arrive unencrypted. Off by default: Okta
    /// encrypts only when the app is set to, and an SP that publishes a key
    /// may still be connected to an app that does not use it.
    pub require_encrypted_assertions: bool,
    /// Publish `WantAssertionsSigned="true"` in the SP metadata and refuse
    /// an Assertion that is not signed itself (a signed Response around it
    /// is not enough). Off by default: Okta apps may sign the Response only.
    pub want_assertions_signed: bool,
    /// The tenant's key pair for signing its AuthnRequests
    /// (`sign_authn_requests = true`, for an Okta app that requires signed
    /// requests): the certificate is published in the SP metadata as
    /// `KeyDescriptor use="signing"` with `AuthnRequestsSigned="true"`.
    pub request_signing: Option<KeyPairSource>,
    /// SAML Single Logout with the IdP, when configured.
    pub single_logout: Option<SingleLogoutSettings>,
}

/// A tenant's Single Logout: `/sso/logout/{tenant}` sends a LogoutRequest,
/// signed with the request-signing key pair (Okta takes only signed ones),
/// to the IdP's Single Logout URL, and `/sso/slo/{tenant}` takes the IdP's
/// LogoutResponse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SingleLogoutSettings {
    /// The IdP's Single Logout URL (Okta's `…/slo/saml`).
    pub idp_url: String,
    /// Whether a LogoutRequest from the IdP, verified by its own signature,
    /// may end the session it names. Okta sends none for SAML apps, so it
    /// is off by default.
    pub allow_idp_initiated: bool,
}

/// The PEM files of one of a tenant's key pairs, relative to the config
/// file. They are read when the SP starts ([`read_key_pair`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPairFiles {
    pub key_file: PathBuf,
    pub certificate_file: PathBuf,
}

/// Where one of a tenant's key pairs comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyPairSource {
    /// PEM files, read when the SP starts.
    Files(KeyPairFiles),
    /// An RSA-2048 key and a self-signed certificate made when the SP starts
    /// and kept only in memory (`generate_encryption_key = true`,
    /// `generate_signing_key = true`). The built-in config uses these, since
    /// it is compiled into the binary and cannot name files that exist
    /// wherever `mockta sp` runs; an IdP learns the certificate from the
    /// tenant's SP metadata, which publishes it.
    Generated,
}

/// A tenant's key pair as read from its files or generated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPair {
    /// The RSA private key, PEM.
    pub private_key_pem: String,
    /// The certificate's base64 DER on one line, for the SP metadata.
    pub certificate_base64: String,
}

/// Reads a tenant's encryption key pair and checks that the certificate is
/// the key's: a mismatch would publish a certificate the SP cannot decrypt
/// for, so it stops the start rather than every encrypted sign-in.
pub fn read_key_pair(files: &KeyPairFiles) -> Result<KeyPair, String> {
    let read =
        |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("{} cannot be read: {e}", path.display()));
    let private_key_pem = read(&files.key_file)?;
    let certificate_pem = read(&files.certificate_file)?;
    let key = openssl::pkey::PKey::private_key_from_pem(private_key_pem.as_bytes())
        .map_err(|_| format!("{} is not a PEM private key", files.key_file.display()))?;
    if key.rsa().is_err() {
        return Err(format!("{} is not an RSA key (XML Encryption key transport needs RSA)", files.key_file.display()));
    }
    let certificate = openssl::x509::X509::from_pem(certificate_pem.as_bytes())
        .map_err(|_| format!("{} is not a PEM certificate", files.certificate_file.display()))?;
    let matches = certificate.public_key().is_ok_and(|public| public.public_eq(&key));
    if !matches {
        return Err(format!(
            "{} is not the certificate of {}",
            files.certificate_file.display(),
            files.key_file.display()
        ));
    }
    let der = certificate.to_der().map_err(|_| format!("{} cannot be encoded", files.certificate_file.display()))?;
    use base64::Engine;
    Ok(KeyPair { private_key_pem, certificate_base64: base64::engine::general_purpose::STANDARD.encode(der) })
}

/// The SAML binding an SP-initiated AuthnRequest is sent with (SAML
/// Bindings 3.4 and 3.5). Redirect is the common choice; some SPs (Spring
/// Security, when the IdP's metadata lists POST first, as Okta's does) post
/// an auto-submitting form instead, and the reference SP can do either so
/// the suite is shown to follow both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthnRequestBinding {
    #[default]
    HttpRedirect,
    HttpPost,
}

/// How this SP, as an OIDC client, authenticates at the IdP's token endpoint
/// (OpenID Connect Core §9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OidcClientAuth {
    ClientSecretBasic {
        secret: String,
    },
    ClientSecretPost {
        secret: String,
    },
    /// A JWT signed with the client's private key, read from this PEM file.
    PrivateKeyJwt {
        key_file: PathBuf,
    },
    /// A public client (PKCE only).
    None,
}

/// A tenant's OIDC connection: this SP as a relying party of the tenant's
/// authorization server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcConnection {
    /// The authorization server's issuer; discovery is `{issuer}/.well-known/openid-configuration`.
    /// The config's `issuer`, or, without one, the org authorization server
    /// of its `okta_domain` (the org URL).
    pub issuer: String,
    pub client_id: String,
    pub client_auth: OidcClientAuth,
    /// The callback path on this SP, registered as `{base_url}{redirect_path}`.
    pub redirect_path: String,
    /// The scopes asked for; always includes `openid`.
    pub scopes: Vec<String>,
    /// The one algorithm ID tokens may be signed with, as registered with
    /// the provider (`id_token_signed_response_alg`): RS256 by default,
    /// ES256 for a server that signs with P-256. Never read from a token.
    pub id_token_algorithm: crate::oidc::IdTokenAlgorithm,
    /// How the provider sends the authorization response back: `true` asks
    /// for `response_mode=form_post` (an auto-submitting form POSTed to the
    /// redirect URI), `false` for the default query string.
    pub form_post: bool,
}

#[derive(Clone, Debug)]
pub struct TenantConfig {
    pub id: TenantId,
    pub name: String,
    /// The tenant's SAML connection, if it signs in with SAML.
    pub saml: Option<SamlConnection>,
    /// The tenant's OIDC connection, if it signs in with OIDC.
    pub oidc: Option<OidcConnection>,
    pub break_glass: BreakGlass,
    pub settings: TenantSettings,
    /// The tenant's SCIM server, if it has one.
    pub scim: Option<ScimConfig>,
    /// What a sign-in through the IdP must carry, and what it gives.
    pub sign_in_rules: SignInRules,
    /// The app roles an account can have (`roles = [...]`, as the Appenate
    /// guide's ReadOnly, User, Admin and EnterpriseAdmin). Empty when the
    /// tenant has no roles of its own; then roles are only what SCIM's
    /// extension and SAML's `role` attribute give at account creation.
    pub roles: Vec<String>,
    /// The OIDC claim (an app-profile attribute Okta sends as a claim) that
    /// carries the account's role (`role_claim = "role"`). Each sign-in
    /// sets the account's role from it, so a change the Okta admin makes is
    /// taken at the next sign-in. Needs `roles`.
    pub role_claim: Option<String>,
    /// The vendor's own words for a user it has no account for, shown on
    /// the refusal page of an existing-accounts-only tenant
    /// (`unknown_user_refusal`), as the MoovingON guide's SP answers "Error
    /// 405" to an IdP-initiated sign-in of a user it does not know. Without
    /// it the page says only that there is no account.
    pub unknown_user_refusal: Option<String>,
    /// A SAML attribute (and, where the tenant takes it by SCIM, a boolean
    /// core User attribute) whose value `true` makes the user an admin
    /// (`admin_attribute`), as the MoovingON guide's `moovingon_ai_admin`
    /// set on the administrator group's assignment.
    pub admin_attribute: Option<String>,
}

/// A tenant's rules for sign-ins through its IdP, as vendor guides state
/// them. All off by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignInRules {
    /// The licence an account is given when it signs in through the IdP:
    /// at its creation (JIT) and at a later sign-in while it has none. The
    /// Mobius guide: "Dictation licenses can be optionally assigned upon
    /// login."
    pub licence_at_sign_in: Option<String>,
    /// The IdP's username for the user (OIDC `preferred_username`, which
    /// is the Okta login; the SAML NameID) must be an email address, or the
    /// sign-in is refused. The Koopid guide: "Make sure the user in Okta
    /// ORG has the username format as email-ID."
    pub require_email_username: bool,
    /// The IdP must send a display name (OIDC `name`, or the given and
    /// family names), or the sign-in is refused. The Koopid guide: "Make
    /// sure the assigned users have Display Name set."
    pub require_display_name: bool,
}

impl TenantConfig {
    /// The pushed group whose members are admins, if the tenant names one.
    pub fn admin_team(&self) -> Option<&str> {
        self.scim.as_ref().and_then(|s| s.admin_team.as_deref())
    }

    /// Whether a team or group of this name is the admin team; names compare
    /// without regard to case, as Okta's group names do.
    pub fn is_admin_team(&self, name: &str) -> bool {
        self.admin_team().is_some_and(|team| name.eq_ignore_ascii_case(team))
    }
}

/// Whether these app roles make a user an admin.
pub fn has_admin_role(roles: &[String]) -> bool {
    roles.iter().any(|r| r == "Admin" || r == "EnterpriseAdmin")
}

/// How Okta authenticates to a tenant's SCIM server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScimCredential {
    /// `Authorization: Bearer {token}`. This is the first token; rotating it
    /// stores a new hash in the database, which then wins.
    Bearer(String),
    /// HTTP Basic, as in the Moxion guide.
    Basic { user: String, password: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimConfig {
    pub credential: ScimCredential,
    /// Pushed groups must link to teams that already exist (Moxion).
    pub teams_must_exist: bool,
    /// Members of this team are admins.
    pub admin_team: Option<String>,
    /// The user (by email) whose access the SCIM credential stands for;
    /// SCIM may not deactivate them silently.
    pub owner: Option<String>,
    /// The attributes of the tenant's custom User extension.
    pub extension: Vec<String>,
    /// Custom attributes the tenant takes on the core User itself
    /// (`core_attributes`), not in an extension: Okta sends an attribute
    /// whose External namespace is the core User schema at the top level of
    /// the resource, as the MoovingON guide sets up `moovingon_ai_admin`,
    /// `firstPhone` and `secondPhone`. Each is one of
    /// [`crate::scim::resource::CORE_CUSTOM_ATTRIBUTES`].
    pub core_attributes: Vec<String>,
    /// Every SCIM request is refused until an admin has signed in through
    /// the tenant's IdP (`requires_verified_sso`), as the MoovingON guide
    /// warns: SCIM enabled before SSO is shown to work can lock the
    /// customer out of the app.
    pub requires_verified_sso: bool,
    /// The tenant's own OAuth 2.0 authorization server for its SCIM API,
    /// when it has one (`[tenants.scim.oauth]`).
    pub oauth: Option<ScimOAuthConfig>,
    /// The User attributes a create or replace must carry, non-empty
    /// (`required_attributes = ["name.givenName", "name.familyName",
    /// "emails"]`, as the Appenate guide requires). A write without one is
    /// refused with 400 invalidValue, and `/Schemas` marks them required.
    pub required_attributes: Vec<String>,
}

/// An OAuth 2.0 authorization server in front of a tenant's SCIM API, as OIN
/// SCIM apps that authenticate Okta by authorization code have: one client
/// (Okta), the redirect URIs it may use, and how long tokens live. Access
/// tokens it issues are accepted by the SCIM API beside the static
/// credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimOAuthConfig {
    pub client_id: String,
    /// The client secret's SHA-256 in lowercase hex, so the config file holds
    /// no usable secret.
    pub client_secret_hash: String,
    /// The redirect URIs allowed, compared exactly: Okta's OIN test plan
    /// requires an authorization with any other to fail.
    pub redirect_uris: Vec<String>,
    pub access_token_lifetime_seconds: u32,
    pub refresh_token_lifetime_seconds: u32,
    /// Approve every authorization request without asking: for tests only.
    /// Without it the authorize endpoint asks for the tenant's break-glass
    /// admin by HTTP Basic, the reference SP's stand-in for an admin's
    /// sign-in and consent.
    pub auto_approve: bool,
}

#[derive(Clone, Debug)]
pub struct SpConfig {
    pub listen: SocketAddr,
    /// The public base URL, without a trailing slash.
    pub base_url: String,
    pub database: PathBuf,
    pub session_ttl: Duration,
    pub tenants: Vec<TenantConfig>,
    /// A PEM file of CA certificates trusted for fetches from IdPs, besides
    /// the built-in roots (`[server] extra_ca_file`), such as the CA of
    /// `mockta idp --tls`.
    pub extra_ca_file: Option<PathBuf>,
}

impl SpConfig {
    /// The tenant's own ACS, `{base}/sso/acs/{tenant}`.
    pub fn acs_url(&self, tenant: &TenantId) -> String {
        format!("{}/sso/acs/{tenant}", self.base_url)
    }

    /// A tenant's Single Logout URL, `{base}/sso/slo/{tenant}`, where the
    /// IdP sends its LogoutResponses (and LogoutRequests).
    pub fn slo_url(&self, tenant: &TenantId) -> String {
        format!("{}/sso/slo/{tenant}", self.base_url)
    }

    /// The shared ACS, `{base}/sso/acs/`, as in the MoovingON guide.
    pub fn shared_acs_url(&self) -> String {
        format!("{}/sso/acs/", self.base_url)
    }

    pub fn tenant(&self, id: &str) -> Option<&TenantConfig> {
        self.tenants.iter().find(|t| t.id.as_str() == id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {field}: {problem}")]
pub struct ConfigError {
    pub file: String,
    pub field: String,
    pub problem: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    server: ServerSection,
    #[serde(default)]
    tenants: Vec<TenantEntry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSection {
    listen: Option<String>,
    base_url: Option<String>,
    database: Option<String>,
    session_minutes: Option<u32>,
    extra_ca_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantEntry {
    id: String,
    name: Option<String>,
    /// The SAML keys may stand at the tenant level (the older form, and
    /// the built-in config's) or in a `saml` table, not both.
    idp_metadata_url: Option<String>,
    idp_metadata_file: Option<String>,
    sp_entity_id: Option<String>,
    authn_request_binding: Option<String>,
    saml: Option<SamlEntry>,
    oidc: Option<OidcEntry>,
    #[serde(default)]
    default_relay_state: String,
    #[serde(default)]
    allowed_email_domains: Vec<String>,
    provisioning: Provisioning,
    allow_idp_initiated: Option<bool>,
    clock_skew_seconds: Option<u32>,
    allow_sha1: Option<bool>,
    link_accounts_by_verified_email: Option<bool>,
    licence_at_sign_in: Option<String>,
    require_email_username: Option<bool>,
    require_display_name: Option<bool>,
    break_glass: BreakGlassEntry,
    scim: Option<ScimEntry>,
    /// Require SSO from the start (the Appenate guide: "all users ... will
    /// now be required to sign on via Okta"); break-glass still works.
    sso_required: Option<bool>,
    roles: Option<Vec<String>>,
    role_claim: Option<String>,
    unknown_user_refusal: Option<String>,
    admin_attribute: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SamlEntry {
    idp_metadata_url: Option<String>,
    idp_metadata_file: Option<String>,
    sp_entity_id: Option<String>,
    authn_request_binding: Option<String>,
    /// The tenant's encryption key and certificate (PEM files), both or
    /// neither.
    encryption_key_file: Option<String>,
    encryption_certificate_file: Option<String>,
    /// Instead of the files: make the encryption key pair at start-up.
    generate_encryption_key: Option<bool>,
    require_encrypted_assertions: Option<bool>,
    want_assertions_signed: Option<bool>,
    /// Sign AuthnRequests with the key pair below (PEM files).
    sign_authn_requests: Option<bool>,
    signing_key_file: Option<String>,
    signing_certificate_file: Option<String>,
    /// Instead of the files: make the signing key pair at start-up.
    generate_signing_key: Option<bool>,
    /// The IdP's Single Logout URL; needs the signing key pair above.
    single_logout_url: Option<String>,
    /// Accept LogoutRequests from the IdP (verified by their own signature).
    allow_idp_initiated_logout: Option<bool>,
}

impl SamlEntry {
    fn is_empty(&self) -> bool {
        self.idp_metadata_url.is_none()
            && self.idp_metadata_file.is_none()
            && self.sp_entity_id.is_none()
            && self.authn_request_binding.is_none()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OidcEntry {
    /// The authorization server's issuer. Optional when `okta_domain` is
    /// given: then the issuer is the org authorization server.
    issuer: Option<String>,
    /// The customer's Okta org URL, such as `https://acme.okta.com`. The
    /// Mobius guide asks the customer for the issuer "if present", and an
    /// absent one means the org authorization server, whose issuer is the
    /// org URL itself.
    okta_domain: Option<String>,
    client_id: String,
    client_auth: String,
    client_secret: Option<String>,
    private_key_file: Option<String>,
    redirect_path: Option<String>,
    scopes: Option<Vec<String>>,
    id_token_signed_response_alg: Option<String>,
    response_mode: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScimEntry {
    token: Option<String>,
    basic_user: Option<String>,
    basic_password: Option<String>,
    #[serde(default)]
    teams_must_exist: bool,
    admin_team: Option<String>,
    owner: Option<String>,
    extension: Option<Vec<String>>,
    core_attributes: Option<Vec<String>>,
    #[serde(default)]
    requires_verified_sso: bool,
    oauth: Option<ScimOAuthEntry>,
    required_attributes: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScimOAuthEntry {
    client_id: String,
    client_secret_hash: String,
    redirect_uris: Vec<String>,
    access_token_lifetime_seconds: Option<u32>,
    refresh_token_lifetime_seconds: Option<u32>,
    #[serde(default)]
    auto_approve: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BreakGlassEntry {
    email: String,
    password: String,
}

/// The most clock skew a tenant may allow, in the config file or through
/// the admin API: ten minutes covers any real clock drift, and more would
/// let a captured response be replayed long after it was issued.
pub const MAX_CLOCK_SKEW_SECONDS: u32 = 600;

/// The built-in default configuration, the same text as `fixtures/sp/reference.toml`.
pub const BUILTIN_CONFIG: &str = include_str!("../../fixtures/sp/reference.toml");

/// Reads and validates a config file. Relative paths in it are relative to
/// the current directory.
pub fn load_config_file(path: &Path) -> Result<SpConfig, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: file.clone(),
        field: "(file)".into(),
        problem: format!("cannot be read: {e}"),
    })?;
    parse_config(&file, &text, path.parent().unwrap_or(Path::new(".")))
}

/// Validates config text. `file` names it in errors; `dir` resolves relative
/// metadata file paths.
pub fn parse_config(file: &str, text: &str, dir: &Path) -> Result<SpConfig, ConfigError> {
    let fail = |field: String, problem: String| ConfigError { file: file.to_owned(), field, problem };
    let parsed: ConfigFile = toml::from_str(text).map_err(|e| {
        let field = e.span().map_or_else(
            || "(syntax)".to_owned(),
            |span| {
                let before = &text[..span.start.min(text.len())];
                format!("line {}", before.matches('\n').count() + 1)
            },
        );
        fail(field, e.message().replace('\n', " ").trim().to_owned())
    })?;
    let listen_text = parsed.server.listen.as_deref().unwrap_or("127.0.0.1:7100");
    let listen: SocketAddr = listen_text
        .parse()
        .map_err(|_| fail("server.listen".into(), format!("'{listen_text}' is not an address:port")))?;
    let base_url = parsed.server.base_url.clone().unwrap_or_else(|| format!("http://{listen}"));
    if !is_http_url(&base_url) {
        return Err(fail("server.base_url".into(), format!("'{base_url}' is not an absolute http or https URL")));
    }
    let base_url = base_url.trim_end_matches('/').to_owned();
    let database = PathBuf::from(parsed.server.database.as_deref().unwrap_or(".local/reference-sp.sqlite3"));
    let session_minutes = parsed.server.session_minutes.unwrap_or(480);
    if session_minutes == 0 {
        return Err(fail("server.session_minutes".into(), "must be at least 1".into()));
    }

    let mut tenants = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, entry) in parsed.tenants.into_iter().enumerate() {
        let field = |name: &str| format!("tenants[{index}].{name}");
        let id = TenantId::parse(&entry.id)
            .ok_or_else(|| fail(field("id"), format!("'{}' must be lowercase letters, digits or '-'", entry.id)))?;
        if !seen.insert(id.clone()) {
            return Err(fail(field("id"), format!("'{id}' is used by an earlier tenant")));
        }
        let at_tenant_level = SamlEntry {
            idp_metadata_url: entry.idp_metadata_url,
            idp_metadata_file: entry.idp_metadata_file,
            sp_entity_id: entry.sp_entity_id,
            authn_request_binding: entry.authn_request_binding,
            ..SamlEntry::default()
        };
        let (saml_entry, saml_field) = match entry.saml {
            Some(_) if !at_tenant_level.is_empty() => {
                return Err(fail(
                    field("saml"),
                    "give the SAML keys (idp_metadata_url, idp_metadata_file, sp_entity_id, authn_request_binding) in the saml table or at the tenant level, not both".into(),
                ));
            }
            Some(table) => (Some(table), "saml."),
            None if at_tenant_level.is_empty() => (None, ""),
            None => (Some(at_tenant_level), ""),
        };
        let saml = saml_entry
            .map(|saml| {
                parse_saml(saml, &id, &base_url, dir)
                    .map_err(|(name, problem)| fail(field(&format!("{saml_field}{name}")), problem))
            })
            .transpose()?;
        let oidc = entry
            .oidc
            .map(|oidc| {
                parse_oidc(oidc, &id, dir).map_err(|(name, problem)| fail(field(&format!("oidc.{name}")), problem))
            })
            .transpose()?;
        // A tenant Okta only provisions (the Moxion guide sets up SCIM and
        // nothing else) needs no sign-in; any other tenant would be useless.
        if saml.is_none() && oidc.is_none() && entry.scim.is_none() {
            return Err(fail(
                field("saml"),
                format!(
                    "tenant '{id}' has no way in: give it a SAML IdP (idp_metadata_url or idp_metadata_file), an oidc table or a scim table"
                ),
            ));
        }
        let mut domains = Vec::new();
        for (d, domain) in entry.allowed_email_domains.iter().enumerate() {
            let domain = domain.trim().to_ascii_lowercase();
            if domain.is_empty() || domain.contains('@') || !domain.contains('.') || !domain.is_ascii() {
                return Err(fail(
                    format!("tenants[{index}].allowed_email_domains[{d}]"),
                    format!("'{domain}' is not a domain"),
                ));
            }
            domains.push(domain);
        }
        if !entry.default_relay_state.is_empty() && !crate::saml::relay_state_is_local(&entry.default_relay_state) {
            return Err(fail(
                field("default_relay_state"),
                "must be a relative path on this SP, such as /welcome".into(),
            ));
        }
        if !entry.break_glass.email.contains('@') || entry.break_glass.password.len() < 8 {
            return Err(fail(field("break_glass"), "needs an email and a password of at least 8 characters".into()));
        }
        let skew = entry.clock_skew_seconds.unwrap_or(180);
        if skew > MAX_CLOCK_SKEW_SECONDS {
            return Err(fail(
                field("clock_skew_seconds"),
                format!("{skew} is more than the {MAX_CLOCK_SKEW_SECONDS} seconds allowed"),
            ));
        }
        let scim = match entry.scim {
            None => None,
            Some(scim) => {
                let credential = match (scim.token, scim.basic_user, scim.basic_password) {
                    (Some(token), None, None) if token.len() >= 8 => ScimCredential::Bearer(token),
                    (None, Some(user), Some(password))
                        if !user.is_empty() && !user.contains(':') && password.len() >= 8 =>
                    {
                        ScimCredential::Basic { user, password }
                    }
                    _ => {
                        return Err(fail(
                            field("scim"),
                            "needs a token, or basic_user (without ':') and basic_password, of at least 8 characters"
                                .into(),
                        ));
                    }
                };
                let known = crate::scim::resource::TENANT_ATTRIBUTES;
                let extension = scim.extension.unwrap_or_else(|| known.iter().map(|a| (*a).to_owned()).collect());
                if let Some(unknown) = extension.iter().find(|a| !known.contains(&a.as_str())) {
                    return Err(fail(
                        field("scim.extension"),
                        format!("'{unknown}' is not one of {}", known.join(", ")),
                    ));
                }
                let core_known = crate::scim::resource::CORE_CUSTOM_ATTRIBUTES.map(|(name, _)| name);
                let core_attributes = scim.core_attributes.unwrap_or_default();
                if let Some(unknown) = core_attributes.iter().find(|a| !core_known.contains(&a.as_str())) {
                    return Err(fail(
                        field("scim.core_attributes"),
                        format!("'{unknown}' is not one of {}", core_known.join(", ")),
                    ));
                }
                let oauth = match scim.oauth {
                    None => None,
                    Some(oauth) => Some(scim_oauth(oauth).map_err(|(name, problem)| fail(field(name), problem))?),
                };
                let required_attributes = scim.required_attributes.unwrap_or_default();
                if let Some(unknown) =
                    required_attributes.iter().find(|a| !crate::scim::required::is_requirable_attribute(a))
                {
                    return Err(fail(
                        field("scim.required_attributes"),
                        format!(
                            "'{unknown}' is not a User attribute this server keeps (such as name.givenName, name.familyName, emails, displayName)"
                        ),
                    ));
                }
                Some(ScimConfig {
                    credential,
                    teams_must_exist: scim.teams_must_exist,
                    admin_team: scim.admin_team,
                    owner: scim.owner,
                    extension,
                    core_attributes,
                    requires_verified_sso: scim.requires_verified_sso,
                    oauth,
                    required_attributes,
                })
            }
        };
        let roles = entry.roles.unwrap_or_default();
        if let Some(bad) = roles.iter().find(|r| r.trim().is_empty() || r.trim() != r.as_str()) {
            return Err(fail(field("roles"), format!("'{bad}' is not a role name")));
        }
        let role_claim = match entry.role_claim {
            Some(_) if roles.is_empty() => {
                return Err(fail(field("role_claim"), "needs roles: the list of roles the claim may name".into()));
            }
            Some(claim) if claim.trim().is_empty() => {
                return Err(fail(field("role_claim"), "must name a claim".into()));
            }
            other => other,
        };
        if let Some(licence) = &entry.licence_at_sign_in
            && (licence.trim().is_empty() || licence.trim() != licence)
        {
            return Err(fail(
                field("licence_at_sign_in"),
                format!("'{licence}' must name a licence, such as dictation"),
            ));
        }
        let sign_in_rules = SignInRules {
            licence_at_sign_in: entry.licence_at_sign_in,
            require_email_username: entry.require_email_username.unwrap_or(false),
            require_display_name: entry.require_display_name.unwrap_or(false),
        };
        tenants.push(TenantConfig {
            sign_in_rules,
            name: entry.name.unwrap_or_else(|| id.to_string()),
            saml,
            oidc,
            break_glass: BreakGlass { email: entry.break_glass.email, password: entry.break_glass.password },
            settings: TenantSettings {
                default_relay_state: entry.default_relay_state,
                allowed_email_domains: domains,
                provisioning: entry.provisioning,
                allow_idp_initiated: entry.allow_idp_initiated.unwrap_or(true),
                clock_skew_seconds: skew,
                allow_sha1: entry.allow_sha1.unwrap_or(false),
                sso_required: entry.sso_required.unwrap_or(false),
                admin_signed_in_via_idp: false,
                link_accounts_by_verified_email: entry.link_accounts_by_verified_email.unwrap_or(false),
            },
            scim,
            roles,
            role_claim,
            unknown_user_refusal: entry
                .unknown_user_refusal
                .map(|text| text.trim().to_owned())
                .filter(|t| !t.is_empty()),
            admin_attribute: entry.admin_attribute.map(|name| name.trim().to_owned()).filter(|n| !n.is_empty()),
            id,
        });
    }
    if tenants.is_empty() {
        return Err(fail("tenants".into(), "at least one tenant is required".into()));
    }
    // The callback finds its tenant by the redirect path, so two tenants
    // cannot share one.
    for (index, tenant) in tenants.iter().enumerate() {
        if let Some(path) = tenant.oidc.as_ref().map(|o| &o.redirect_path)
            && tenants[..index].iter().any(|t| t.oidc.as_ref().is_some_and(|o| o.redirect_path == *path))
        {
            return Err(fail(format!("tenants[{index}].oidc.redirect_path"), "is used by an earlier tenant".into()));
        }
    }
    // A SCIM token names one tenant; shared, it would let one tenant's
    // provisioning into another's.
    for (index, tenant) in tenants.iter().enumerate() {
        if let Some(ScimCredential::Bearer(token)) = tenant.scim.as_ref().map(|s| &s.credential)
            && tenants[..index]
                .iter()
                .any(|t| matches!(t.scim.as_ref().map(|s| &s.credential), Some(ScimCredential::Bearer(other)) if other == token))
        {
            return Err(fail(format!("tenants[{index}].scim.token"), "is used by an earlier tenant".into()));
        }
    }
    // Relative to the config file, like the metadata files: it is the
    // config's own companion, not a working file such as the database.
    let extra_ca_file = parsed.server.extra_ca_file.as_deref().map(|path| dir.join(path));
    Ok(SpConfig {
        listen,
        base_url,
        database,
        session_ttl: Duration::minutes(i64::from(session_minutes)),
        tenants,
        extra_ca_file,
    })
}

/// Checks a tenant's SAML keys. Errors name the key and the problem.
fn parse_saml(entry: SamlEntry, id: &TenantId, base_url: &str, dir: &Path) -> Result<SamlConnection, (String, String)> {
    let idp = match (entry.idp_metadata_url, entry.idp_metadata_file) {
        (Some(url), None) if is_http_url(&url) => IdpSource::Url(url),
        (Some(url), None) => {
            return Err(("idp_metadata_url".into(), format!("'{url}' is not an absolute http or https URL")));
        }
        (None, Some(path)) => IdpSource::File(dir.join(path)),
        (Some(_), Some(_)) => {
            return Err(("idp_metadata_url".into(), "give idp_metadata_url or idp_metadata_file, not both".into()));
        }
        (None, None) => {
            return Err(("idp_metadata_url".into(), "one of idp_metadata_url or idp_metadata_file is required".into()));
        }
    };
    let sp_entity_id = entry.sp_entity_id.unwrap_or_else(|| format!("{base_url}/sso/metadata/{id}"));
    let authn_request_binding = match entry.authn_request_binding.as_deref() {
        None | Some("redirect") => AuthnRequestBinding::HttpRedirect,
        Some("post") => AuthnRequestBinding::HttpPost,
        Some(other) => {
            return Err(("authn_request_binding".into(), format!("'{other}' is not one of redirect, post")));
        }
    };
    let generate_encryption_key = entry.generate_encryption_key.unwrap_or(false);
    if generate_encryption_key && (entry.encryption_key_file.is_some() || entry.encryption_certificate_file.is_some()) {
        return Err((
            "generate_encryption_key".into(),
            "give generate_encryption_key or encryption_key_file and encryption_certificate_file, not both".into(),
        ));
    }
    let encryption = match (entry.encryption_key_file, entry.encryption_certificate_file) {
        (Some(key), Some(certificate)) => Some(KeyPairSource::Files(KeyPairFiles {
            key_file: dir.join(key),
            certificate_file: dir.join(certificate),
        })),
        (None, None) if generate_encryption_key => Some(KeyPairSource::Generated),
        (None, None) => None,
        (Some(_), None) => {
            return Err(("encryption_certificate_file".into(), "encryption_key_file needs its certificate".into()));
        }
        (None, Some(_)) => {
            return Err(("encryption_key_file".into(), "encryption_certificate_file needs its key".into()));
        }
    };
    let require_encrypted_assertions = entry.require_encrypted_assertions.unwrap_or(false);
    if require_encrypted_assertions && encryption.is_none() {
        return Err((
            "require_encrypted_assertions".into(),
            "needs encryption_key_file and encryption_certificate_file (or generate_encryption_key = true)".into(),
        ));
    }
    let generate_signing_key = entry.generate_signing_key.unwrap_or(false);
    if generate_signing_key && (entry.signing_key_file.is_some() || entry.signing_certificate_file.is_some()) {
        return Err((
            "generate_signing_key".into(),
            "give generate_signing_key or signing_key_file and signing_certificate_file, not both".into(),
        ));
    }
    let request_signing =
        match (entry.sign_authn_requests.unwrap_or(false), entry.signing_key_file, entry.signing_certificate_file) {
            (true, Some(key), Some(certificate)) => Some(KeyPairSource::Files(KeyPairFiles {
                key_file: dir.join(key),
                certificate_file: dir.join(certificate),
            })),
            (true, None, None) if generate_signing_key => Some(KeyPairSource::Generated),
            (true, _, _) => {
                return Err((
                    "sign_authn_requests".into(),
                    "needs signing_key_file and signing_certificate_file (or generate_signing_key = true)".into(),
                ));
            }
            (false, None, None) if generate_signing_key => {
                return Err((
                    "generate_signing_key".into(),
                    "the signing key pair is used only with sign_authn_requests = true".into(),
                ));
            }
            (false, None, None) => None,
            (false, _, _) => {
                return Err((
                    "signing_key_file".into(),
                    "the signing key pair is used only with sign_authn_requests = true".into(),
                ));
            }
        };
    let single_logout = match entry.single_logout_url {
        None if entry.allow_idp_initiated_logout.is_some() => {
            return Err(("allow_idp_initiated_logout".into(), "is used only with single_logout_url".into()));
        }
        None => None,
        Some(url) if !is_http_url(&url) => {
            return Err(("single_logout_url".into(), format!("'{url}' is not an absolute http or https URL")));
        }
        Some(_) if request_signing.is_none() => {
            return Err((
                "single_logout_url".into(),
                "needs sign_authn_requests = true with signing_key_file and signing_certificate_file: Okta takes only signed LogoutRequests".into(),
            ));
        }
        Some(url) => Some(SingleLogoutSettings {
            idp_url: url,
            allow_idp_initiated: entry.allow_idp_initiated_logout.unwrap_or(false),
        }),
    };
    Ok(SamlConnection {
        idp,
        sp_entity_id,
        authn_request_binding,
        encryption,
        require_encrypted_assertions,
        want_assertions_signed: entry.want_assertions_signed.unwrap_or(false),
        request_signing,
        single_logout,
    })
}

/// Checks a tenant's OIDC table. Errors name the key and the problem.
fn parse_oidc(entry: OidcEntry, id: &TenantId, dir: &Path) -> Result<OidcConnection, (String, String)> {
    let issuer = oidc_issuer(entry.issuer.as_deref(), entry.okta_domain.as_deref())?;
    if entry.client_id.trim().is_empty() {
        return Err(("client_id".into(), "must not be empty".into()));
    }
    let secret = |name: &str| match &entry.client_secret {
        Some(secret) if secret.len() >= 8 => Ok(secret.clone()),
        _ => Err(("client_secret".to_owned(), format!("{name} needs a client_secret of at least 8 characters"))),
    };
    let unexpected =
        |key: &str, name: &str| Err((key.to_owned(), format!("is not used with client_auth = \"{name}\"")));
    let client_auth = match entry.client_auth.as_str() {
        name @ ("client_secret_basic" | "client_secret_post") => {
            if entry.private_key_file.is_some() {
                return unexpected("private_key_file", name);
            }
            let secret = secret(name)?;
            if name == "client_secret_basic" {
                OidcClientAuth::ClientSecretBasic { secret }
            } else {
                OidcClientAuth::ClientSecretPost { secret }
            }
        }
        name @ "private_key_jwt" => {
            if entry.client_secret.is_some() {
                return unexpected("client_secret", name);
            }
            let key_file = entry
                .private_key_file
                .as_ref()
                .ok_or_else(|| ("private_key_file".to_owned(), format!("{name} needs a private_key_file (PEM)")))?;
            OidcClientAuth::PrivateKeyJwt { key_file: dir.join(key_file) }
        }
        name @ "none" => {
            if entry.client_secret.is_some() {
                return unexpected("client_secret", name);
            }
            if entry.private_key_file.is_some() {
                return unexpected("private_key_file", name);
            }
            OidcClientAuth::None
        }
        other => {
            return Err((
                "client_auth".into(),
                format!("'{other}' is not one of client_secret_basic, client_secret_post, private_key_jwt, none"),
            ));
        }
    };
    let redirect_path = entry.redirect_path.unwrap_or_else(|| format!("/oidc/callback/{id}"));
    if !crate::saml::relay_state_is_local(&redirect_path) || redirect_path.contains(['?', '#']) {
        return Err((
            "redirect_path".into(),
            format!("'{redirect_path}' is not a path on this SP, such as /oidc/callback/{id}"),
        ));
    }
    let scopes = entry.scopes.unwrap_or_else(|| vec!["openid".into(), "email".into(), "profile".into()]);
    if let Some(bad) =
        scopes.iter().find(|s| s.is_empty() || s.contains(|c: char| c.is_whitespace() || c == '"' || c == '\\'))
    {
        return Err(("scopes".into(), format!("'{bad}' is not a scope token")));
    }
    if !scopes.iter().any(|s| s == "openid") {
        return Err(("scopes".into(), "must include openid".into()));
    }
    let id_token_algorithm = match entry.id_token_signed_response_alg.as_deref() {
        None => crate::oidc::IdTokenAlgorithm::Rs256,
        Some(text) => crate::oidc::IdTokenAlgorithm::parse(text).ok_or_else(|| {
            ("id_token_signed_response_alg".to_owned(), format!("'{text}' is not one of RS256, ES256"))
        })?,
    };
    let form_post = match entry.response_mode.as_deref() {
        None | Some("query") => false,
        Some("form_post") => true,
        Some(text) => return Err(("response_mode".to_owned(), format!("'{text}' is not one of query, form_post"))),
    };
    Ok(OidcConnection {
        issuer,
        client_id: entry.client_id,
        client_auth,
        redirect_path,
        scopes,
        id_token_algorithm,
        form_post,
    })
}

/// The issuer of a tenant's OIDC table: `issuer` when given, otherwise the
/// org authorization server of `okta_domain`, whose issuer is the org URL
/// without a trailing slash (discovery at
/// `{okta_domain}/.well-known/openid-configuration`). Given both, they must
/// name the same host: an issuer on another host than the org would send
/// the customer's sign-ins to someone else's server.
fn oidc_issuer(issuer: Option<&str>, okta_domain: Option<&str>) -> Result<String, (String, String)> {
    let checked = |field: &str, value: &str| {
        if !is_http_url(value) || value.contains(['?', '#']) {
            return Err((field.to_owned(), format!("'{value}' is not an absolute http or https URL without query")));
        }
        Ok(value.trim_end_matches('/').to_owned())
    };
    match (issuer, okta_domain) {
        (Some(issuer), None) => checked("issuer", issuer),
        (None, Some(domain)) => {
            let domain = checked("okta_domain", domain)?;
            let has_path = url::Url::parse(&domain).is_ok_and(|url| url.path() != "/");
            if has_path {
                return Err((
                    "okta_domain".into(),
                    format!(
                        "'{domain}' must be the org URL alone, without a path (a custom authorization server goes in issuer)"
                    ),
                ));
            }
            Ok(domain)
        }
        (Some(issuer), Some(domain)) => {
            let issuer = checked("issuer", issuer)?;
            let domain = checked("okta_domain", domain)?;
            let host =
                |value: &str| url::Url::parse(value).ok().and_then(|url| url.host_str().map(str::to_ascii_lowercase));
            if host(&issuer) != host(&domain) {
                return Err((
                    "issuer".into(),
                    format!("'{issuer}' is not on the okta_domain's host '{}'", host(&domain).unwrap_or_default()),
                ));
            }
            Ok(issuer)
        }
        (None, None) => {
            Err(("issuer".into(), "give the issuer, or okta_domain for the org authorization server".into()))
        }
    }
}

fn is_http_url(value: &str) -> bool {
    url::Url::parse(value).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// The default access token lifetime of a tenant's SCIM OAuth server: one
/// hour.
pub const SCIM_ACCESS_TOKEN_SECONDS: u32 = 3600;
/// The default refresh token lifetime: 30 days.
pub const SCIM_REFRESH_TOKEN_SECONDS: u32 = 30 * 24 * 3600;

/// Checks a `[tenants.scim.oauth]` table; an error names the field under
/// `scim.oauth` and the problem.
fn scim_oauth(entry: ScimOAuthEntry) -> Result<ScimOAuthConfig, (&'static str, String)> {
    if entry.client_id.trim().is_empty() {
        return Err(("scim.oauth.client_id", "must not be empty".into()));
    }
    let hash = entry.client_secret_hash.trim().to_ascii_lowercase();
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(("scim.oauth.client_secret_hash", "must be the secret's SHA-256 in hex (64 digits)".into()));
    }
    if entry.redirect_uris.is_empty() {
        return Err(("scim.oauth.redirect_uris", "must list at least one redirect URI".into()));
    }
    for uri in &entry.redirect_uris {
        let absolute = url::Url::parse(uri)
            .is_ok_and(|parsed| matches!(parsed.scheme(), "http" | "https") && parsed.fragment().is_none());
        if !absolute {
            return Err((
                "scim.oauth.redirect_uris",
                format!("'{uri}' is not an absolute http or https URL without a fragment (RFC 6749 3.1.2)"),
            ));
        }
    }
    let access = entry.access_token_lifetime_seconds.unwrap_or(SCIM_ACCESS_TOKEN_SECONDS);
    let refresh = entry.refresh_token_lifetime_seconds.unwrap_or(SCIM_REFRESH_TOKEN_SECONDS);
    if access == 0 || refresh == 0 {
        return Err(("scim.oauth", "token lifetimes must be at least one second".into()));
    }
    Ok(ScimOAuthConfig {
        client_id: entry.client_id,
        client_secret_hash: hash,
        redirect_uris: entry.redirect_uris,
        access_token_lifetime_seconds: access,
        refresh_token_lifetime_seconds: refresh,
        auto_approve: entry.auto_approve,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        parse_config("sp.toml", text, Path::new(".")).unwrap_err().to_string()
    }

    #[test]
    fn default_config_has_acme_jit_and_globex_existing_only() {
        let config = parse_config("reference.toml", BUILTIN_CONFIG, Path::new(".")).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:7100");
        let acme = config.tenant("acme").unwrap();
        assert_eq!(acme.settings.provisioning, Provisioning::Jit);
        assert_eq!(acme.saml.as_ref().unwrap().sp_entity_id, "http://127.0.0.1:7100/sso/metadata/acme");
        let oidc = acme.oidc.as_ref().unwrap();
        assert_eq!(
            (oidc.issuer.as_str(), oidc.client_id.as_str(), oidc.redirect_path.as_str()),
            ("http://127.0.0.1:7000", "0oarefspoidc00000007", "/oidc/callback/acme")
        );
        assert_eq!(config.tenant("globex").unwrap().oidc, None);
        assert_eq!(config.acs_url(&acme.id), "http://127.0.0.1:7100/sso/acs/acme");
        assert_eq!(config.tenant("globex").unwrap().settings.provisioning, Provisioning::ExistingOnly);
        // hooli's key pairs are made at start-up: the built-in config names
        // no files, so `mockta sp` starts wherever it runs.
        let hooli = config.tenant("hooli").unwrap().saml.clone().unwrap();
        assert_eq!(
            (hooli.encryption, hooli.request_signing),
            (Some(KeyPairSource::Generated), Some(KeyPairSource::Generated))
        );
        assert!(hooli.want_assertions_signed && hooli.single_logout.is_some());
    }

    #[test]
    fn bad_fields_are_named() {
        let bad_provisioning = BUILTIN_CONFIG.replacen("provisioning = \"jit\"", "provisioning = \"sometimes\"", 1);
        assert!(error_of(&bad_provisioning).starts_with("sp.toml: line "), "{}", error_of(&bad_provisioning));
        let bad_url =
            BUILTIN_CONFIG.replacen("http://127.0.0.1:7000/app/exkrefsp000000000001/sso/saml/metadata", "nope", 1);
        assert_eq!(
            error_of(&bad_url),
            "sp.toml: tenants[0].idp_metadata_url: 'nope' is not an absolute http or https URL"
        );
        let bad_relay = BUILTIN_CONFIG.replacen(
            "default_relay_state = \"/welcome\"",
            "default_relay_state = \"https://evil.test/\"",
            1,
        );
        assert_eq!(
            error_of(&bad_relay),
            "sp.toml: tenants[0].default_relay_state: must be a relative path on this SP, such as /welcome"
        );
    }

    /// The built-in config with acme's SAML keys replaced by `replacement`
    /// and its OIDC table removed.
    pub(crate) fn acme_with(replacement: &str) -> String {
        let oidc_line = BUILTIN_CONFIG.lines().find(|l| l.starts_with("oidc = ")).unwrap_or_default();
        // acme's metadata URL is the config's first; its app id is not
        // spelled here, so the helper follows the fixture's id scheme.
        let metadata_line = BUILTIN_CONFIG.lines().find(|l| l.starts_with("idp_metadata_url = ")).unwrap_or_default();
        BUILTIN_CONFIG.replacen(oidc_line, "", 1).replacen(metadata_line, replacement, 1)
    }

    #[test]
    fn an_encryption_key_needs_its_certificate_and_requiring_encryption_needs_both() {
        let text = acme_with(
            "saml = { idp_metadata_file = \"idp.xml\", encryption_key_file = \"k.pem\", encryption_certificate_file = \"c.pem\", require_encrypted_assertions = true }",
        );
        let saml = parse_config("sp.toml", &text, Path::new("/conf")).unwrap().tenant("acme").unwrap().saml.clone();
        let saml = saml.unwrap();
        assert_eq!(
            saml.encryption,
            Some(KeyPairSource::Files(KeyPairFiles {
                key_file: "/conf/k.pem".into(),
                certificate_file: "/conf/c.pem".into()
            }))
        );
        assert!(saml.require_encrypted_assertions);
        let lonely = acme_with("saml = { idp_metadata_file = \"idp.xml\", encryption_key_file = \"k.pem\" }");
        assert_eq!(
            error_of(&lonely),
            "sp.toml: tenants[0].saml.encryption_certificate_file: encryption_key_file needs its certificate"
        );
        let required = acme_with("saml = { idp_metadata_file = \"idp.xml\", require_encrypted_assertions = true }");
        assert_eq!(
            error_of(&required),
            "sp.toml: tenants[0].saml.require_encrypted_assertions: needs encryption_key_file and encryption_certificate_file (or generate_encryption_key = true)"
        );
    }

    #[test]
    fn signing_authn_requests_needs_a_key_pair_and_a_key_pair_needs_the_setting() {
        let text = acme_with(
            "saml = { idp_metadata_file = \"idp.xml\", sign_authn_requests = true, signing_key_file = \"s.pem\", signing_certificate_file = \"sc.pem\" }",
        );
        let saml = parse_config("sp.toml", &text, Path::new("/conf")).unwrap().tenant("acme").unwrap().saml.clone();
        assert_eq!(
            saml.unwrap().request_signing,
            Some(KeyPairSource::Files(KeyPairFiles {
                key_file: "/conf/s.pem".into(),
                certificate_file: "/conf/sc.pem".into()
            }))
        );
        let unsigned = acme_with("saml = { idp_metadata_file = \"idp.xml\", sign_authn_requests = true }");
        assert_eq!(
            error_of(&unsigned),
            "sp.toml: tenants[0].saml.sign_authn_requests: needs signing_key_file and signing_certificate_file (or generate_signing_key = true)"
        );
        let unused = acme_with("saml = { idp_metadata_file = \"idp.xml\", signing_key_file = \"s.pem\" }");
        assert_eq!(
            error_of(&unused),
            "sp.toml: tenants[0].saml.signing_key_file: the signing key pair is used only with sign_authn_requests = true"
        );
    }

    #[test]
    fn generated_key_pairs_stand_instead_of_files_never_beside_them() {
        let text = acme_with(
            "saml = { idp_metadata_file = \"idp.xml\", generate_encryption_key = true, sign_authn_requests = true, generate_signing_key = true }",
        );
        let config = parse_config("sp.toml", &text, Path::new("/conf")).unwrap();
        let saml = config.tenant("acme").unwrap().saml.clone().unwrap();
        assert_eq!(
            (saml.encryption, saml.request_signing),
            (Some(KeyPairSource::Generated), Some(KeyPairSource::Generated))
        );
        let both = acme_with(
            "saml = { idp_metadata_file = \"idp.xml\", generate_encryption_key = true, encryption_key_file = \"k.pem\", encryption_certificate_file = \"c.pem\" }",
        );
        assert_eq!(
            error_of(&both),
            "sp.toml: tenants[0].saml.generate_encryption_key: give generate_encryption_key or encryption_key_file and encryption_certificate_file, not both"
        );
        let both = acme_with(
            "saml = { idp_metadata_file = \"idp.xml\", sign_authn_requests = true, generate_signing_key = true, signing_key_file = \"s.pem\" }",
        );
        assert!(
            error_of(&both).contains("saml.generate_signing_key: give generate_signing_key or"),
            "{}",
            error_of(&both)
        );
        let unused = acme_with("saml = { idp_metadata_file = \"idp.xml\", generate_signing_key = true }");
        assert_eq!(
            error_of(&unused),
            "sp.toml: tenants[0].saml.generate_signing_key: the signing key pair is used only with sign_authn_requests = true"
        );
        let off = acme_with("saml = { idp_metadata_file = \"idp.xml\", generate_encryption_key = false }");
        let config = parse_config("sp.toml", &off, Path::new("/conf")).unwrap();
        assert_eq!(config.tenant("acme").unwrap().saml.clone().unwrap().encryption, None);
    }

    #[test]
    fn single_logout_needs_the_signing_key_pair() {
        let signed = "sign_authn_requests = true, signing_key_file = \"k.pem\", signing_certificate_file = \"c.pem\"";
        let text = acme_with(&format!(
            "saml = {{ idp_metadata_file = \"idp.xml\", {signed}, single_logout_url = \"https://idp.test/slo/saml\" }}"
        ));
        let config = parse_config("sp.toml", &text, Path::new("/conf")).unwrap();
        let slo = config.tenant("acme").unwrap().saml.clone().unwrap().single_logout.unwrap();
        assert_eq!(
            slo,
            SingleLogoutSettings { idp_url: "https://idp.test/slo/saml".into(), allow_idp_initiated: false }
        );
        let unsigned =
            acme_with("saml = { idp_metadata_file = \"idp.xml\", single_logout_url = \"https://idp.test/slo\" }");
        assert!(
            error_of(&unsigned).contains("single_logout_url: needs sign_authn_requests = true"),
            "{}",
            error_of(&unsigned)
        );
        let alone = acme_with("saml = { idp_metadata_file = \"idp.xml\", allow_idp_initiated_logout = true }");
        assert!(error_of(&alone).contains("allow_idp_initiated_logout: is used only with single_logout_url"));
    }

    #[test]
    fn saml_keys_may_stand_in_a_saml_table() {
        let text = acme_with("saml = { idp_metadata_file = \"idp.xml\", sp_entity_id = \"urn:acme\" }");
        let config = parse_config("sp.toml", &text, Path::new("/conf")).unwrap();
        let saml = config.tenant("acme").unwrap().saml.clone().unwrap();
        assert_eq!(
            saml,
            SamlConnection {
                idp: IdpSource::File("/conf/idp.xml".into()),
                sp_entity_id: "urn:acme".into(),
                authn_request_binding: AuthnRequestBinding::HttpRedirect,
                encryption: None,
                require_encrypted_assertions: false,
                want_assertions_signed: false,
                request_signing: None,
                single_logout: None,
            }
        );
        let both = acme_with("idp_metadata_file = \"a.xml\"\nsaml = { idp_metadata_file = \"idp.xml\" }");
        assert!(error_of(&both).starts_with("sp.toml: tenants[0].saml: give the SAML keys"), "{}", error_of(&both));
        let bad = acme_with("saml = { idp_metadata_url = \"nope\" }");
        assert_eq!(
            error_of(&bad),
            "sp.toml: tenants[0].saml.idp_metadata_url: 'nope' is not an absolute http or https URL"
        );
    }

    #[test]
    fn a_tenant_with_neither_saml_nor_oidc_is_refused_with_the_reason() {
        let scim_line = BUILTIN_CONFIG.lines().find(|l| l.starts_with("scim = ")).unwrap_or_default();
        assert_eq!(
            error_of(&acme_with("").replacen(scim_line, "", 1)),
            "sp.toml: tenants[0].saml: tenant 'acme' has no way in: give it a SAML IdP \
             (idp_metadata_url or idp_metadata_file), an oidc table or a scim table"
        );
    }

    #[test]
    fn a_tenant_that_okta_only_provisions_needs_no_sign_in() {
        // acme keeps its SCIM table and loses its SAML IdP and OIDC table.
        let config = parse_config("sp.toml", &acme_with(""), Path::new(".")).unwrap();
        let acme = config.tenant("acme").unwrap();
        assert!(acme.saml.is_none() && acme.oidc.is_none());
        assert!(acme.scim.is_some());
    }

    #[test]
    fn an_oidc_only_tenant_is_parsed_with_defaults() {
        let text = acme_with(
            "oidc = { issuer = \"https://acme.okta.test/oauth2/default/\", client_id = \"0oa1\", \
             client_auth = \"client_secret_post\", client_secret = \"a-long-secret\" }",
        );
        let config = parse_config("sp.toml", &text, Path::new(".")).unwrap();
        let acme = config.tenant("acme").unwrap();
        assert_eq!(acme.saml, None);
        assert_eq!(
            acme.oidc,
            Some(OidcConnection {
                issuer: "https://acme.okta.test/oauth2/default".into(),
                client_id: "0oa1".into(),
                client_auth: OidcClientAuth::ClientSecretPost { secret: "a-long-secret".into() },
                redirect_path: "/oidc/callback/acme".into(),
                scopes: vec!["openid".into(), "email".into(), "profile".into()],
                id_token_algorithm: crate::oidc::IdTokenAlgorithm::Rs256,
                form_post: false,
            })
        );
        let public = acme_with(
            "oidc = { issuer = \"https://acme.okta.test\", client_id = \"0oa2\", client_auth = \"none\", \
             redirect_path = \"/cb\", scopes = [\"openid\"] }",
        );
        let public = parse_config("sp.toml", &public, Path::new(".")).unwrap();
        assert_eq!(public.tenant("acme").unwrap().oidc.as_ref().unwrap().client_auth, OidcClientAuth::None);
        let jwt = acme_with(
            "oidc = { issuer = \"https://acme.okta.test\", client_id = \"0oa3\", \
             client_auth = \"private_key_jwt\", private_key_file = \"client.pem\" }",
        );
        let jwt = parse_config("sp.toml", &jwt, Path::new("/conf")).unwrap();
        assert_eq!(
            jwt.tenant("acme").unwrap().oidc.as_ref().unwrap().client_auth,
            OidcClientAuth::PrivateKeyJwt { key_file: "/conf/client.pem".into() }
        );
    }

    #[test]
    fn bad_oidc_fields_are_named() {
        let oidc = |fields: &str| acme_with(&format!("oidc = {{ {fields} }}"));
        let cases = [
            (
                "issuer = \"nope\", client_id = \"c\", client_auth = \"none\"",
                "sp.toml: tenants[0].oidc.issuer: 'nope' is not an absolute http or https URL without query",
            ),
            (
                "issuer = \"https://i.test\", client_id = \" \", client_auth = \"none\"",
                "sp.toml: tenants[0].oidc.client_id: must not be empty",
            ),
            (
                "issuer = \"https://i.test\", client_id = \"c\", client_auth = \"client_secret_jwt\"",
                "sp.toml: tenants[0].oidc.client_auth: 'client_secret_jwt' is not one of client_secret_basic, \
                 client_secret_post, private_key_jwt, none",
            ),
            (
                "issuer = \"https://i.test\", client_id = \"c\", client_auth = \"client_secret_basic\"",
                "sp.toml: tenants[0].oidc.client_secret: client_secret_basic needs a client_secret of at least 8 characters",
            ),
            (
                "issuer = \"https://i.test\", client_id = \"c\", client_auth = \"none\", client_secret = \"12345678\"",
                "sp.toml: tenants[0].oidc.client_secret: is not used with client_auth = \"none\"",
            ),
            (
                "issuer = \"https://i.test\", client_id = \"c\", client_auth = \"private_key_jwt\"",
                "sp.toml: tenants[0].oidc.private_key_file: private_key_jwt needs a private_key_file (PEM)",
            ),
            (
                "issuer = \"https://i.test\", client_id = \"c\", client_auth = \"none\", redirect_path = \"https://evil.test/cb\"",
                "sp.toml: tenants[0].oidc.redirect_path: 'https://evil.test/cb' is not a path on this SP, such as /oidc/callback/acme",
            ),
            (
                "issuer = \"https://i.test\", client_id = \"c\", client_auth = \"none\", scopes = [\"email\"]",
                "sp.toml: tenants[0].oidc.scopes: must include openid",
            ),
        ];
        for (fields, expected) in cases {
            assert_eq!(error_of(&oidc(fields)), expected, "{fields}");
        }
    }

    #[test]
    fn an_absent_issuer_is_the_org_authorization_server_of_the_okta_domain() {
        let oidc = |fields: &str| {
            acme_with(&format!(
                "oidc = {{ {fields}, client_id = \"0oa1\", client_auth = \"client_secret_basic\", client_secret = \"a-long-secret\" }}"
            ))
        };
        let issuer_of = |fields: &str| {
            let config = parse_config("sp.toml", &oidc(fields), Path::new(".")).unwrap();
            config.tenant("acme").unwrap().oidc.as_ref().unwrap().issuer.clone()
        };
        assert_eq!(issuer_of("okta_domain = \"https://org.okta.example/\""), "https://org.okta.example");
        assert_eq!(
            issuer_of(
                "okta_domain = \"https://org.okta.example\", issuer = \"https://org.okta.example/oauth2/default\""
            ),
            "https://org.okta.example/oauth2/default",
            "a given issuer is used as it is"
        );
        assert_eq!(issuer_of("issuer = \"https://org.okta.example\""), "https://org.okta.example");
        let cases = [
            (
                "okta_domain = \"https://org.okta.example\", issuer = \"https://elsewhere.example/oauth2/default\"",
                "sp.toml: tenants[0].oidc.issuer: 'https://elsewhere.example/oauth2/default' is not on the okta_domain's host 'org.okta.example'",
            ),
            (
                "redirect_path = \"/cb\"",
                "sp.toml: tenants[0].oidc.issuer: give the issuer, or okta_domain for the org authorization server",
            ),
            (
                "okta_domain = \"org.okta.example\"",
                "sp.toml: tenants[0].oidc.okta_domain: 'org.okta.example' is not an absolute http or https URL without query",
            ),
            (
                "okta_domain = \"https://org.okta.example/oauth2/default\"",
                "sp.toml: tenants[0].oidc.okta_domain: 'https://org.okta.example/oauth2/default' must be the org URL alone, without a path (a custom authorization server goes in issuer)",
            ),
        ];
        for (fields, expected) in cases {
            assert_eq!(error_of(&oidc(fields)), expected, "{fields}");
        }
    }

    #[test]
    fn sign_in_rules_are_off_by_default_and_read_from_the_tenant() {
        let default = parse_config("reference.toml", BUILTIN_CONFIG, Path::new(".")).unwrap();
        assert_eq!(default.tenant("acme").unwrap().sign_in_rules, SignInRules::default());
        let text = BUILTIN_CONFIG.replacen(
            "provisioning = \"jit\"\n",
            "provisioning = \"jit\"\nlicence_at_sign_in = \"dictation\"\nrequire_email_username = true\nrequire_display_name = true\n",
            1,
        );
        let config = parse_config("sp.toml", &text, Path::new(".")).unwrap();
        assert_eq!(
            config.tenant("acme").unwrap().sign_in_rules,
            SignInRules {
                licence_at_sign_in: Some("dictation".into()),
                require_email_username: true,
                require_display_name: true
            }
        );
        let blank = BUILTIN_CONFIG.replacen(
            "provisioning = \"jit\"\n",
            "provisioning = \"jit\"\nlicence_at_sign_in = \" \"\n",
            1,
        );
        assert_eq!(
            error_of(&blank),
            "sp.toml: tenants[0].licence_at_sign_in: ' ' must name a licence, such as dictation"
        );
    }

    #[test]
    fn extra_ca_file_is_relative_to_the_config_file_and_absent_by_default() {
        let default = parse_config("reference.toml", BUILTIN_CONFIG, Path::new("conf")).unwrap();
        assert_eq!(default.extra_ca_file, None, "only the built-in roots unless the config names a CA");
        let text = BUILTIN_CONFIG.replacen("[server]\n", "[server]\nextra_ca_file = \"keys/tls-ca.cert.pem\"\n", 1);
        let config = parse_config("sp.toml", &text, Path::new("conf")).unwrap();
        assert_eq!(config.extra_ca_file, Some(PathBuf::from("conf/keys/tls-ca.cert.pem")));
    }
}
