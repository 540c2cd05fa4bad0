//! The org file as written on disk (TOML), before validation.
//!
//! These types mirror the file one to one and are deliberately loose (plain
//! strings, optional fields). [`super::parse_org`] turns them into the validated
//! [`super::Org`], naming the field of the first problem it finds.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgFile {
    pub org: OrgSection,
    #[serde(default)]
    pub users: Vec<UserEntry>,
    #[serde(default)]
    pub groups: Vec<GroupEntry>,
    #[serde(default)]
    pub apps: Vec<AppEntry>,
    /// Custom authorization servers (`/oauth2/{id}`).
    #[serde(default)]
    pub authorization_servers: Vec<AuthorizationServerEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSection {
    /// A short name for the org, such as `acme`. It is the certificate's CN.
    pub name: String,
    /// The org's base URL, such as `http://127.0.0.1:7000`.
    pub url: String,
    /// The `SSWS` token that authenticates the management API.
    pub api_token: String,
    /// The email domain canary users are created on. Defaults to the domain of
    /// the first user's email.
    pub email_domain: Option<String>,
    /// The org id (`00o…`). Derived from the name when absent.
    pub id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    pub id: Option<String>,
    pub login: String,
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub status: Option<String>,
    /// Custom profile attributes, for attribute statements.
    #[serde(default)]
    pub profile: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupEntry {
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Members, each a user login or a user id.
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppEntry {
    pub id: Option<String>,
    /// A SAML app's external key (`exk…`), which its IdP entity id and its
    /// metadata and SSO URLs carry. Derived from the org and app names when
    /// absent; refused on OIDC apps, which have none.
    pub external_key: Option<String>,
    /// The app's name: it finds the app in the CLI and the management API,
    /// and gives the slug of Okta's instance name `{org}_{appslug}_{n}` in
    /// SAML URLs (`/app/{org}_{appslug}_{n}/{exk…}/sso/saml`).
    pub name: String,
    pub label: Option<String>,
    /// `SAML_2_0` or `OPENID_CONNECT`.
    pub sign_on_mode: String,
    pub saml: Option<SamlEntry>,
    pub oidc: Option<OidcEntry>,
    /// The app's settings, as an OIN app's "Sign On" tab asks the admin for
    /// them (the Koopid guide's Subdomain and Provider ID): `${org.NAME}`
    /// in the app's OIDC `redirect_uris` and `initiate_login_uri` is the
    /// setting NAME, filled in when the org loads.
    #[serde(default)]
    pub settings: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub users: Vec<UserAssignmentEntry>,
    #[serde(default)]
    pub groups: Vec<GroupAssignmentEntry>,
    /// SCIM provisioning to the app (Okta's "Provisioning" tab).
    pub provisioning: Option<ProvisioningEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningEntry {
    /// The SCIM base URL, such as `https://sp.example/scim/v2`.
    pub base_url: String,
    /// `header` (Okta's "HTTP Header": the token as the whole Authorization
    /// value), `bearer`, `basic` or `oauth2`.
    pub auth: String,
    /// The token, for `header` and `bearer`.
    pub token: Option<String>,
    /// The user name and password, for `basic`.
    pub basic_user: Option<String>,
    pub basic_password: Option<String>,
    /// For `oauth2` (OAuth 2.0 authorization code): the SP's authorization
    /// and token endpoints, the client Okta is registered as, and the scopes
    /// it asks for.
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The SCIM attribute users are looked up by; only `userName` (default).
    pub unique_identifier: Option<String>,
    /// `push_new_users`, `push_profile_updates`, `push_groups`,
    /// `deactivate_users`, `import_users`, `import_groups`, `sync_password`.
    /// Defaults to every one but `sync_password`.
    pub features: Option<Vec<String>>,
    /// `oin` (default), `oin_patch` or `wizard`.
    pub profile: Option<String>,
    /// Groups to push, by name or id.
    #[serde(default)]
    pub push_groups: Vec<String>,
    /// Mappings added to (or replacing, for the same target) Okta's defaults.
    #[serde(default)]
    pub mappings: Vec<MappingEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingEntry {
    /// The SCIM attribute: `title`, `name.middleName`,
    /// `emails[type eq "work"].value`, or `urn:…:User:department`.
    pub scim: String,
    /// An expression: `user.firstName`, `appuser.role`, or a quoted literal.
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlEntry {
    /// Okta's "Single sign-on URL": the default ACS.
    pub sso_url: String,
    /// Okta's "Other Requestable SSO URLs".
    #[serde(default)]
    pub other_sso_urls: Vec<String>,
    /// Okta's "Recipient URL"; defaults to the SSO URL.
    pub recipient: Option<String>,
    /// Okta's "Destination URL"; defaults to the SSO URL.
    pub destination: Option<String>,
    /// Okta's "Audience URI (SP Entity ID)".
    pub audience: String,
    #[serde(default)]
    pub default_relay_state: String,
    /// `unspecified` (default), `emailAddress`, `persistent`, `transient` or `x509SubjectName`.
    pub name_id_format: Option<String>,
    /// `okta_username` (default), `okta_username_prefix`, `email`, `email_prefix`,
    /// or a custom template such as `${user.firstName}.${user.lastName}`.
    pub username_template: Option<String>,
    /// `both` (Okta's default), `response` or `assertion`.
    pub signing: Option<String>,
    /// `RSA_SHA256` (default) or `RSA_SHA1` (legacy).
    pub signature_algorithm: Option<String>,
    pub authn_context_class_ref: Option<String>,
    pub honor_force_authn: Option<bool>,
    #[serde(default)]
    pub attributes: Vec<AttributeEntry>,
    #[serde(default)]
    pub group_attributes: Vec<GroupAttributeEntry>,
    /// Okta's "Assertion Encryption": the Assertion is encrypted to the SP's
    /// certificate. Absent: not encrypted (Okta's default).
    pub assertion_encryption: Option<AssertionEncryptionEntry>,
    /// Okta's signed requests: refuse an AuthnRequest that the SP's
    /// `request_signing_certificate` (PEM) did not sign. Off by default.
    pub require_signed_authn_requests: Option<bool>,
    /// The SP's "Signature Certificate" (PEM): checks signed AuthnRequests
    /// and, with `slo_url`, every LogoutRequest.
    pub request_signing_certificate: Option<String>,
    /// Okta's "Allow application to initiate Single Logout": the SP's
    /// "Single Logout URL", where Okta POSTs its LogoutResponse. Needs
    /// `request_signing_certificate`, since Okta takes only signed
    /// LogoutRequests. Absent: Single Logout is off (Okta's default).
    pub slo_url: Option<String>,
    /// The "SP Issuer" a LogoutRequest must carry; defaults to `audience`.
    pub sp_issuer: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertionEncryptionEntry {
    /// The SP's encryption certificate, PEM.
    pub certificate: String,
    /// `aes256-gcm` (default, Okta's "AES256-GCM") or `aes256-cbc`. The key
    /// transport is RSA-OAEP, as in Okta.
    pub algorithm: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeEntry {
    pub name: String,
    /// `unspecified` (default), `uri` or `basic`.
    pub name_format: Option<String>,
    /// An expression: `user.firstName`, `appuser.role`, or a quoted literal.
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupAttributeEntry {
    pub name: String,
    pub name_format: Option<String>,
    /// `starts_with`, `equals`, `contains` or `regex`.
    pub filter: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserAssignmentEntry {
    /// A user login or id.
    pub user: String,
    /// Overrides the app username the template would give.
    pub user_name: Option<String>,
    #[serde(default)]
    pub profile: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupAssignmentEntry {
    /// A group name or id.
    pub group: String,
    #[serde(default)]
    pub profile: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcEntry {
    /// `web`, `native`, `browser` or `service`.
    pub application_type: String,
    pub client_secret: Option<String>,
    /// `client_secret_basic` (default for web and service), `client_secret_post`,
    /// `private_key_jwt` or `none` (the only choice for native and browser).
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Defaults: `authorization_code` (web, native, browser) or
    /// `client_credentials` (service).
    pub grant_types: Option<Vec<String>>,
    pub pkce_required: Option<bool>,
    /// The client's public keys (JWKs), for `private_key_jwt`.
    #[serde(default)]
    pub jwks: Vec<toml::Value>,
    pub groups_claim: Option<GroupsClaimEntry>,
    #[serde(default)]
    pub app_profile_claims: bool,
    /// Okta's "Initiate login URI": where the end-user dashboard's tile
    /// sends the browser to start sign-in at the app (OIDC Core section 4).
    pub initiate_login_uri: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupsClaimEntry {
    pub name: String,
    /// `starts_with`, `equals`, `contains` or `regex`.
    pub filter: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationServerEntry {
    /// `default` or an `aus…` id.
    pub id: String,
    pub name: Option<String>,
    #[serde(default)]
    pub audiences: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub claims: Vec<ClaimEntry>,
    #[serde(default)]
    pub policies: Vec<PolicyEntry>,
    /// `RS256` (default) or `ES256`.
    pub signing_algorithm: Option<String>,
    /// Rotate the signing key automatically every this many days.
    pub rotation_days: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimEntry {
    pub name: String,
    /// `id_token` or `access_token`.
    pub token: String,
    /// An expression (`user.department`, `appuser.role`, `"literal"`), or the
    /// group filter's value when `groups_filter` is set.
    #[serde(default)]
    pub value: String,
    /// Makes this a groups claim: `starts_with`, `equals`, `contains` or `regex`.
    pub groups_filter: Option<String>,
    #[serde(default)]
    pub always_include: bool,
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyEntry {
    pub name: String,
    /// App ids or names; absent or `["*"]` means every client.
    pub clients: Option<Vec<String>>,
    /// Defaults to authorization_code, refresh_token and client_credentials.
    pub grant_types: Option<Vec<String>>,
    /// Absent or `["*"]` means every scope.
    pub scopes: Option<Vec<String>>,
    pub access_token_lifetime_minutes: Option<i64>,
    pub refresh_token_lifetime_minutes: Option<i64>,
}
