//! The mock Okta org: users, groups, apps and their assignments.
//!
//! [`Org`] is validated data. It is made from an org file's text by
//! [`parse_org`] (nothing here does IO; [`crate::setup::load_org_file`]
//! reads the file) and then changed at run time by the management API in
//! [`crate::admin`]. Lookups that the SAML provider needs (who is assigned, what the app username is, which
//! groups a user is in) live here, next to the data they read.

pub mod file;
mod load;
pub mod oidc;
pub mod provisioning;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{AcsUrl, AppExternalKey, AppId, EntityId, GroupId, UserId};

pub use load::{OrgFileError, parse_org};

/// A validated org.
#[derive(Debug, Clone)]
pub struct Org {
    /// The org id, `00o…`. It is the `idp` claim of tokens and part of key names.
    pub id: String,
    pub name: String,
    /// The base URL, without a trailing slash.
    pub url: String,
    pub api_token: String,
    pub email_domain: String,
    pub users: BTreeMap<UserId, User>,
    pub groups: BTreeMap<GroupId, Group>,
    pub apps: BTreeMap<AppId, App>,
    /// Custom authorization servers, in file order.
    pub authorization_servers: Vec<oidc::AuthorizationServer>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    Staged,
    Provisioned,
    Active,
    Recovery,
    LockedOut,
    PasswordExpired,
    Suspended,
    Deprovisioned,
}

impl UserStatus {
    pub fn parse(value: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(value.to_owned())).ok()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Staged => "STAGED",
            UserStatus::Provisioned => "PROVISIONED",
            UserStatus::Active => "ACTIVE",
            UserStatus::Recovery => "RECOVERY",
            UserStatus::LockedOut => "LOCKED_OUT",
            UserStatus::PasswordExpired => "PASSWORD_EXPIRED",
            UserStatus::Suspended => "SUSPENDED",
            UserStatus::Deprovisioned => "DEPROVISIONED",
        }
    }

    /// Whether Okta lets a user with this status sign in to apps.
    pub fn can_sign_in(self) -> bool {
        matches!(self, UserStatus::Active | UserStatus::PasswordExpired)
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub status: UserStatus,
    pub profile: UserProfile,
    pub created: OffsetDateTime,
    pub activated: Option<OffsetDateTime>,
    pub status_changed: Option<OffsetDateTime>,
    pub last_updated: OffsetDateTime,
}

/// The Okta user profile: the base attributes plus custom ones.
#[derive(Debug, Clone, PartialEq)]
pub struct UserProfile {
    pub login: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl UserProfile {
    /// Reads an attribute by its Okta profile name (`login`, `email`,
    /// `firstName`, `lastName`, `displayName`, or a custom attribute).
    pub fn attribute(&self, name: &str) -> Option<serde_json::Value> {
        let text = |s: &str| Some(serde_json::Value::String(s.to_owned()));
        match name {
            "login" | "userName" => text(&self.login),
            "email" => text(&self.email),
            "firstName" => text(&self.first_name),
            "lastName" => text(&self.last_name),
            "displayName" => text(&format!("{} {}", self.first_name, self.last_name)),
            other => self.extra.get(other).cloned(),
        }
    }

    /// Whether the org vouches for the user's email: the OIDC
    /// `email_verified` claim. True unless the profile says
    /// `emailVerified = false` (in the org file or the management API), so
    /// a test can give one user an address the org has not verified.
    pub fn email_verified(&self) -> bool {
        self.extra.get("emailVerified").and_then(serde_json::Value::as_bool).unwrap_or(true)
    }

    /// The profile as Okta's management API shows it.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert("firstName".into(), self.first_name.clone().into());
        map.insert("lastName".into(), self.last_name.clone().into());
        map.insert("mobilePhone".into(), serde_json::Value::Null);
        map.insert("secondEmail".into(), serde_json::Value::Null);
        map.insert("login".into(), self.login.clone().into());
        map.insert("email".into(), self.email.clone().into());
        for (key, value) in &self.extra {
            map.insert(key.clone(), value.clone());
        }
        serde_json::Value::Object(map)
    }
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub description: String,
    pub members: BTreeSet<UserId>,
    pub created: OffsetDateTime,
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct App {
    pub id: AppId,
    /// The name in Okta's URLs.
    pub name: String,
    pub label: String,
    pub active: bool,
    pub sign_on: SignOn,
    pub users: BTreeMap<UserId, AppUser>,
    pub groups: BTreeMap<GroupId, AppGroup>,
    pub created: OffsetDateTime,
    /// SCIM provisioning, when the app has it.
    pub provisioning: Option<provisioning::ScimProvisioning>,
}

/// An app's sign-on mode with its settings.
#[derive(Debug, Clone)]
pub enum SignOn {
    Saml(Box<SamlSettings>),
    Oidc(Box<oidc::OidcSettings>),
}

impl App {
    /// The SAML settings, when the app signs on with SAML.
    pub fn saml(&self) -> Option<&SamlSettings> {
        match &self.sign_on {
            SignOn::Saml(saml) => Some(saml),
            SignOn::Oidc(_) => None,
        }
    }

    pub fn saml_mut(&mut self) -> Option<&mut SamlSettings> {
        match &mut self.sign_on {
            SignOn::Saml(saml) => Some(saml),
            SignOn::Oidc(_) => None,
        }
    }

    /// The OIDC settings, when the app signs on with OpenID Connect.
    pub fn oidc(&self) -> Option<&oidc::OidcSettings> {
        match &self.sign_on {
            SignOn::Oidc(oidc) => Some(oidc),
            SignOn::Saml(_) => None,
        }
    }

    /// Okta's `signOnMode`.
    pub fn sign_on_mode(&self) -> &'static str {
        match &self.sign_on {
            SignOn::Saml(_) => "SAML_2_0",
            SignOn::Oidc(_) => "OPENID_CONNECT",
        }
    }
}

/// A user's direct assignment to an app.
#[derive(Debug, Clone, Default)]
pub struct AppUser {
    /// The app username set on the assignment. When absent the app's
    /// username template gives it.
    pub user_name: Option<String>,
    pub profile: BTreeMap<String, serde_json::Value>,
    pub created: Option<OffsetDateTime>,
}

/// A group's assignment to an app.
#[derive(Debug, Clone, Default)]
pub struct AppGroup {
    pub profile: BTreeMap<String, serde_json::Value>,
    /// Lower numbers win when a user is in several assigned groups.
    pub priority: usize,
}

#[derive(Debug, Clone)]
pub struct SamlSettings {
    /// The app's external key, `exk…`: the IdP entity id and the metadata
    /// and SSO URLs carry it.
    pub external_key: AppExternalKey,
    /// Okta's app instance name, `{org}_{appslug}_{n}`: the first segment of
    /// the SSO URL and embed link, and the app's `name` in the management API.
    pub instance_name: String,
    pub sso_url: AcsUrl,
    pub other_sso_urls: Vec<AcsUrl>,
    pub recipient: String,
    pub destination: String,
    pub audience: EntityId,
    pub default_relay_state: String,
    pub name_id_format: NameIdFormat,
    pub username_template: UsernameTemplate,
    pub signing: SigningMode,
    pub signature_algorithm: SignatureAlgorithm,
    pub authn_context_class_ref: String,
    pub honor_force_authn: bool,
    pub attributes: Vec<AttributeStatement>,
    pub group_attributes: Vec<GroupAttributeStatement>,
    /// Okta's "Assertion Encryption": the SP's certificate and the cipher.
    pub assertion_encryption: Option<crate::saml::encrypt::EncryptionRecipient>,
    /// Okta's signed requests: when set, every AuthnRequest must be signed
    /// by this certificate of the SP (PEM), by either binding.
    pub request_signing_certificate: Option<String>,
    /// Okta's "Allow application to initiate Single Logout", when on.
    pub single_logout: Option<SingleLogout>,
}

/// Okta's SP-initiated Single Logout settings of a SAML app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SingleLogout {
    /// The SP's "Single Logout URL", where the LogoutResponse is POSTed.
    pub url: String,
    /// The "SP Issuer" every LogoutRequest must carry.
    pub sp_issuer: String,
    /// The SP's "Signature Certificate" (PEM), the one Okta also checks
    /// signed AuthnRequests with: every LogoutRequest must be signed by it.
    pub certificate: String,
}

impl SamlSettings {
    /// The IdP entity id Okta uses for this app, `http://www.okta.com/exk…`.
    pub fn idp_entity_id(&self) -> EntityId {
        EntityId::okta_idp(&self.external_key)
    }

    /// Points the app at one ACS URL and audience, as an admin does when the
    /// SP moves. Tests and benchmarks use it to aim an app at an SP on a
    /// random port.
    pub fn set_endpoints(&mut self, acs_url: &str, audience: &str) {
        self.sso_url = AcsUrl(acs_url.to_owned());
        self.other_sso_urls = Vec::new();
        self.destination = acs_url.to_owned();
        self.recipient = acs_url.to_owned();
        self.audience = EntityId(audience.to_owned());
    }

    /// Whether an AuthnRequest may ask for this ACS URL.
    pub fn allows_acs(&self, url: &str) -> bool {
        self.sso_url.as_str() == url || self.other_sso_urls.iter().any(|u| u.as_str() == url)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameIdFormat {
    Unspecified,
    EmailAddress,
    X509SubjectName,
    Persistent,
    Transient,
}

impl NameIdFormat {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "unspecified" => NameIdFormat::Unspecified,
            "emailAddress" => NameIdFormat::EmailAddress,
            "x509SubjectName" => NameIdFormat::X509SubjectName,
            "persistent" => NameIdFormat::Persistent,
            "transient" => NameIdFormat::Transient,
            _ => return None,
        })
    }

    pub fn urn(self) -> &'static str {
        match self {
            NameIdFormat::Unspecified => "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
            NameIdFormat::EmailAddress => "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            NameIdFormat::X509SubjectName => "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName",
            NameIdFormat::Persistent => "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            NameIdFormat::Transient => "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
        }
    }
}

/// Okta's "Application username format".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsernameTemplate {
    OktaUsername,
    OktaUsernamePrefix,
    Email,
    EmailPrefix,
    /// A template with `${user.attr}` placeholders.
    Custom(String),
}

impl UsernameTemplate {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "okta_username" => UsernameTemplate::OktaUsername,
            "okta_username_prefix" => UsernameTemplate::OktaUsernamePrefix,
            "email" => UsernameTemplate::Email,
            "email_prefix" => UsernameTemplate::EmailPrefix,
            custom if custom.contains("${") => UsernameTemplate::Custom(custom.to_owned()),
            _ => return None,
        })
    }

    pub fn apply(&self, profile: &UserProfile) -> String {
        let prefix = |s: &str| s.split('@').next().unwrap_or(s).to_owned();
        match self {
            UsernameTemplate::OktaUsername => profile.login.clone(),
            UsernameTemplate::OktaUsernamePrefix => prefix(&profile.login),
            UsernameTemplate::Email => profile.email.clone(),
            UsernameTemplate::EmailPrefix => prefix(&profile.email),
            UsernameTemplate::Custom(template) => expand_template(template, profile),
        }
    }
}

/// Replaces each `${user.attr}` with the attribute's text; unknown attributes
/// become empty, as in Okta's expression language.
fn expand_template(template: &str, profile: &UserProfile) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let expression = after[..end].trim();
                let attribute = expression.strip_prefix("user.").unwrap_or(expression);
                if let Some(value) = profile.attribute(attribute) {
                    out.push_str(&json_text(&value));
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text form of a profile value, as it appears in an assertion.
pub fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Which parts of the SAML response are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningMode {
    Both,
    ResponseOnly,
    AssertionOnly,
}

impl SigningMode {
    pub const ALL: [SigningMode; 3] = [SigningMode::Both, SigningMode::ResponseOnly, SigningMode::AssertionOnly];

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "both" => SigningMode::Both,
            "response" => SigningMode::ResponseOnly,
            "assertion" => SigningMode::AssertionOnly,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SigningMode::Both => "both",
            SigningMode::ResponseOnly => "response",
            SigningMode::AssertionOnly => "assertion",
        }
    }

    pub fn signs_response(self) -> bool {
        matches!(self, SigningMode::Both | SigningMode::ResponseOnly)
    }

    pub fn signs_assertion(self) -> bool {
        matches!(self, SigningMode::Both | SigningMode::AssertionOnly)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    RsaSha256,
    /// Legacy; Okta can still revert an app to SHA-1.
    RsaSha1,
}

impl SignatureAlgorithm {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "RSA_SHA256" => SignatureAlgorithm::RsaSha256,
            "RSA_SHA1" => SignatureAlgorithm::RsaSha1,
            _ => return None,
        })
    }

    pub fn signature_method(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            SignatureAlgorithm::RsaSha1 => "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        }
    }

    pub fn digest_method(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaSha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
            SignatureAlgorithm::RsaSha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeNameFormat {
    Unspecified,
    Uri,
    Basic,
}

impl AttributeNameFormat {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "unspecified" => AttributeNameFormat::Unspecified,
            "uri" => AttributeNameFormat::Uri,
            "basic" => AttributeNameFormat::Basic,
            _ => return None,
        })
    }

    pub fn urn(self) -> &'static str {
        match self {
            AttributeNameFormat::Unspecified => "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified",
            AttributeNameFormat::Uri => "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
            AttributeNameFormat::Basic => "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
        }
    }
}

/// Where an attribute statement's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValueSource {
    /// `user.firstName`: the Okta user profile.
    User(String),
    /// `appuser.role`: the app assignment profile.
    AppUser(String),
    /// `"text"`: a constant.
    Literal(String),
}

impl AttributeValueSource {
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if let Some(attr) = value.strip_prefix("user.") {
            return valid_attribute_name(attr).then(|| AttributeValueSource::User(attr.to_owned()));
        }
        if let Some(attr) = value.strip_prefix("appuser.") {
            return valid_attribute_name(attr).then(|| AttributeValueSource::AppUser(attr.to_owned()));
        }
        let quoted = value.len() >= 2 && value.starts_with('"') && value.ends_with('"');
        quoted.then(|| AttributeValueSource::Literal(value[1..value.len() - 1].to_owned()))
    }

    /// The expression as an org file writes it.
    pub fn expression(&self) -> String {
        match self {
            AttributeValueSource::User(attribute) => format!("user.{attribute}"),
            AttributeValueSource::AppUser(attribute) => format!("appuser.{attribute}"),
            AttributeValueSource::Literal(text) => format!("\"{text}\""),
        }
    }
}

fn valid_attribute_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[derive(Debug, Clone)]
pub struct AttributeStatement {
    pub name: String,
    pub name_format: AttributeNameFormat,
    pub value: AttributeValueSource,
}

#[derive(Debug, Clone)]
pub enum GroupFilter {
    StartsWith(String),
    Equals(String),
    Contains(String),
    Regex(regex::Regex),
}

impl GroupFilter {
    /// Whether a group name passes the filter. Okta's regex filter must match
    /// the whole name.
    pub fn matches(&self, group_name: &str) -> bool {
        match self {
            GroupFilter::StartsWith(prefix) => group_name.starts_with(prefix.as_str()),
            GroupFilter::Equals(value) => group_name == value,
            GroupFilter::Contains(value) => group_name.contains(value.as_str()),
            GroupFilter::Regex(regex) => regex.is_match(group_name),
        }
    }
}

#[derive(Debug, Clone)]
pub struct GroupAttributeStatement {
    pub name: String,
    pub name_format: AttributeNameFormat,
    pub filter: GroupFilter,
}

impl Org {
    /// Finds a user by id or by login, ignoring case as Okta does.
    pub fn find_user(&self, id_or_login: &str) -> Option<&User> {
        if let Ok(id) = UserId::parse(id_or_login)
            && let Some(user) = self.users.get(&id)
        {
            return Some(user);
        }
        self.users.values().find(|u| u.profile.login.eq_ignore_ascii_case(id_or_login))
    }

    /// Finds an app by id or by name.
    pub fn find_app(&self, id_or_name: &str) -> Option<&App> {
        if let Ok(id) = AppId::parse(id_or_name)
            && let Some(app) = self.apps.get(&id)
        {
            return Some(app);
        }
        self.apps.values().find(|a| a.name == id_or_name)
    }

    /// Finds a SAML app by its external key (`exk…`) or its app id (`0oa…`),
    /// the two ways a metadata or SSO URL may name it.
    pub fn find_saml_app_by_key_or_id(&self, key_or_id: &str) -> Option<&App> {
        let by_id = AppId::parse(key_or_id).ok().and_then(|id| self.apps.get(&id));
        by_id
            .or_else(|| self.apps.values().find(|a| a.saml().is_some_and(|s| s.external_key.as_str() == key_or_id)))
            .filter(|a| a.saml().is_some())
    }

    /// Finds a custom authorization server by id.
    pub fn authorization_server(&self, id: &str) -> Option<&oidc::AuthorizationServer> {
        self.authorization_servers.iter().find(|s| s.id == id)
    }

    /// Finds a group by id or by name.
    pub fn find_group(&self, id_or_name: &str) -> Option<&Group> {
        if let Ok(id) = GroupId::parse(id_or_name)
            && let Some(group) = self.groups.get(&id)
        {
            return Some(group);
        }
        self.groups.values().find(|g| g.name == id_or_name)
    }

    /// The groups a user belongs to, by name order.
    pub fn groups_of(&self, user: &UserId) -> Vec<&Group> {
        let mut groups: Vec<&Group> = self.groups.values().filter(|g| g.members.contains(user)).collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        groups
    }

    /// Whether the user is assigned to the app, directly or through a group.
    pub fn is_assigned(&self, app: &App, user: &UserId) -> bool {
        app.users.contains_key(user)
            || app.groups.keys().any(|g| self.groups.get(g).is_some_and(|group| group.members.contains(user)))
    }

    /// The users assigned to the app, directly or through a group.
    pub fn assigned_users(&self, app: &App) -> Vec<&User> {
        self.users.values().filter(|u| self.is_assigned(app, &u.id)).collect()
    }

    /// The app profile of a user: group assignment profiles first (the group
    /// with the highest priority number first), then the direct assignment,
    /// so that the direct assignment and higher-priority groups win.
    pub fn app_profile(&self, app: &App, user: &UserId) -> BTreeMap<String, serde_json::Value> {
        let mut profile = BTreeMap::new();
        let mut groups: Vec<&AppGroup> = app
            .groups
            .iter()
            .filter(|(g, _)| self.groups.get(*g).is_some_and(|group| group.members.contains(user)))
            .map(|(_, assignment)| assignment)
            .collect();
        groups.sort_by_key(|g| std::cmp::Reverse(g.priority));
        for assignment in groups {
            profile.extend(assignment.profile.clone());
        }
        if let Some(direct) = app.users.get(user) {
            profile.extend(direct.profile.clone());
        }
        profile
    }

    /// The app username: the assignment's own, or the app's template applied.
    pub fn app_user_name(&self, app: &App, user: &User) -> String {
        app.users.get(&user.id).and_then(|a| a.user_name.clone()).unwrap_or_else(|| match app.saml() {
            Some(saml) => saml.username_template.apply(&user.profile),
            None => user.profile.login.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> UserProfile {
        UserProfile {
            login: "alice@acme.test".into(),
            email: "alice.anderson@acme.test".into(),
            first_name: "Alice".into(),
            last_name: "Anderson".into(),
            extra: BTreeMap::from([("department".to_owned(), serde_json::json!("Engineering"))]),
        }
    }

    #[test]
    fn username_templates_follow_okta_formats() {
        let p = profile();
        assert_eq!(UsernameTemplate::OktaUsername.apply(&p), "alice@acme.test");
        assert_eq!(UsernameTemplate::OktaUsernamePrefix.apply(&p), "alice");
        assert_eq!(UsernameTemplate::Email.apply(&p), "alice.anderson@acme.test");
        assert_eq!(UsernameTemplate::EmailPrefix.apply(&p), "alice.anderson");
        let custom = UsernameTemplate::Custom("${user.firstName}.${user.lastName}-${user.department}".into());
        assert_eq!(custom.apply(&p), "Alice.Anderson-Engineering");
    }

    #[test]
    fn email_is_verified_unless_the_profile_says_email_verified_false() {
        let mut p = profile();
        assert!(p.email_verified());
        p.extra.insert("emailVerified".into(), serde_json::json!(false));
        assert!(!p.email_verified());
        p.extra.insert("emailVerified".into(), serde_json::json!(true));
        assert!(p.email_verified());
    }

    #[test]
    fn group_filters_match_like_okta() {
        assert!(GroupFilter::StartsWith("acme-".into()).matches("acme-admins"));
        assert!(!GroupFilter::Equals("Admins".into()).matches("admins"));
        assert!(GroupFilter::Contains("dmi".into()).matches("Admins"));
        let regex = GroupFilter::Regex(regex::Regex::new("^(?:.*)$").unwrap_or_else(|e| panic!("{e}")));
        assert!(regex.matches("anything"));
    }

    #[test]
    fn attribute_value_sources_parse() {
        assert_eq!(AttributeValueSource::parse("user.firstName"), Some(AttributeValueSource::User("firstName".into())));
        assert_eq!(AttributeValueSource::parse("appuser.role"), Some(AttributeValueSource::AppUser("role".into())));
        assert_eq!(AttributeValueSource::parse("\"fixed\""), Some(AttributeValueSource::Literal("fixed".into())));
        assert_eq!(AttributeValueSource::parse("user."), None);
        assert_eq!(AttributeValueSource::parse("firstName"), None);
    }
}
