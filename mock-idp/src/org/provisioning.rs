//! An app's SCIM provisioning settings: Okta's "Provisioning" tab.
//!
//! The settings say where the SP's SCIM server is, how Okta authenticates to
//! it, which "To App" features are on, which request profile Okta's client
//! follows (Okta's documents describe three) and how the Okta profile maps to
//! the SCIM body. [`ProvisioningLinks`] is run-time state: which SCIM
//! resource each Okta user and pushed group is linked to, as Okta keeps the
//! app user's `externalId`.

use std::collections::BTreeMap;

use super::AttributeValueSource;
use crate::ids::{GroupId, UserId};

/// The SCIM core User schema, the only one whose attributes a mapping may
/// name without a URN.
pub const CORE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The SCIM enterprise User extension.
pub const ENTERPRISE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// An app's SCIM provisioning connection and features.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimProvisioning {
    /// The SCIM base URL, without a trailing slash (`…/scim/v2`).
    pub base_url: String,
    pub authentication: ScimAuthentication,
    /// The SCIM attribute Okta looks users up by before it creates them.
    /// Okta's SCIM 2.0 template uses `userName`, the only one supported here.
    pub unique_identifier: String,
    pub features: ProvisioningFeatures,
    pub request_profile: RequestProfile,
    /// Where each SCIM attribute's value comes from, in the order they
    /// appear in the body. `userName` is not among them: it is always the
    /// app username.
    pub mappings: Vec<AttributeMapping>,
    /// The groups on the "Push Groups" tab.
    pub pushed_groups: Vec<GroupId>,
    /// What Okta has linked so far.
    pub links: ProvisioningLinks,
    /// Whether the connection is active (Okta's `connections/default`
    /// status): a deactivated connection sends no provisioning traffic.
    pub connection_active: bool,
    /// Whether a password changed in Okta is pushed again (Okta's
    /// `update.password.change`); the create carries one either way when
    /// password sync is on.
    pub password_change: PasswordChange,
}

/// Okta's `update.password.change`: what happens to the app's password
/// after the create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordChange {
    /// `KEEP_EXISTING`: only the create sets a password.
    KeepExisting,
    /// `CHANGE`: a password changed in Okta is synced to the app too.
    Change,
}

impl PasswordChange {
    pub fn as_okta(self) -> &'static str {
        match self {
            PasswordChange::KeepExisting => "KEEP_EXISTING",
            PasswordChange::Change => "CHANGE",
        }
    }

    pub fn parse_okta(value: &str) -> Option<Self> {
        match value {
            "KEEP_EXISTING" => Some(PasswordChange::KeepExisting),
            "CHANGE" => Some(PasswordChange::Change),
            _ => None,
        }
    }
}

/// How Okta authenticates to the SCIM server.
#[derive(Clone, PartialEq, Eq)]
pub enum ScimAuthentication {
    /// "HTTP Header": `Authorization: {token}`, the token as entered.
    HeaderToken(String),
    /// `Authorization: Bearer {token}`.
    Bearer(String),
    /// `Authorization: Basic base64(user:password)`, as the "SCIM 2.0 Test App
    /// (Basic Auth)" uses.
    Basic { user: String, password: String },
    /// OAuth 2.0 authorization code with token refresh, as Okta's OIN SCIM
    /// apps may use: an admin authorizes once, Okta keeps the access and
    /// refresh tokens and sends `Authorization: Bearer {access token}`.
    OAuth2(OAuthClientSettings),
}

/// The SP's OAuth 2.0 authorization server as Okta's provisioning client
/// knows it: where to send the admin, where to redeem codes and refresh
/// tokens, and the client Okta authenticates as.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthClientSettings {
    pub authorize_url: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// The scopes asked for, sent space-separated; none when empty.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for ScimAuthentication {
    // Secrets stay out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.mode())
    }
}

impl ScimAuthentication {
    /// The mode's name in the org file.
    pub fn mode(&self) -> &'static str {
        match self {
            ScimAuthentication::HeaderToken(_) => "header",
            ScimAuthentication::Bearer(_) => "bearer",
            ScimAuthentication::Basic { .. } => "basic",
            ScimAuthentication::OAuth2(_) => "oauth2",
        }
    }

    /// The `Authorization` header's value, for the modes whose header is
    /// fixed; `None` under OAuth 2.0, whose header carries the access token
    /// the provisioning engine holds at the time.
    pub fn authorization(&self) -> Option<String> {
        use base64::Engine;
        match self {
            ScimAuthentication::HeaderToken(token) => Some(token.clone()),
            ScimAuthentication::Bearer(token) => Some(format!("Bearer {token}")),
            ScimAuthentication::Basic { user, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )),
            ScimAuthentication::OAuth2(_) => None,
        }
    }

    /// The header as a transcript shows it: the scheme without the secret,
    /// so a transcript can be shared as evidence.
    pub fn redacted(&self) -> String {
        match self {
            ScimAuthentication::HeaderToken(_) => "[redacted]".to_owned(),
            ScimAuthentication::Bearer(_) => "Bearer [redacted]".to_owned(),
            ScimAuthentication::Basic { .. } => "Basic [redacted]".to_owned(),
            ScimAuthentication::OAuth2(_) => "Bearer [redacted]".to_owned(),
        }
    }

    /// The OAuth 2.0 client settings, under that mode.
    pub fn oauth(&self) -> Option<&OAuthClientSettings> {
        match self {
            ScimAuthentication::OAuth2(settings) => Some(settings),
            _ => None,
        }
    }
}

/// The "To App" and "To Okta" features that are switched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvisioningFeatures {
    pub push_new_users: bool,
    pub push_profile_updates: bool,
    pub push_groups: bool,
    pub deactivate_users: bool,
    pub import_users: bool,
    pub import_groups: bool,
    pub sync_password: bool,
}

impl ProvisioningFeatures {
    /// Every feature's name in the org file.
    pub const NAMES: [&'static str; 7] = [
        "push_new_users",
        "push_profile_updates",
        "push_groups",
        "deactivate_users",
        "import_users",
        "import_groups",
        "sync_password",
    ];

    /// Every feature but password sync: what an org file gets when it does
    /// not list features. The mock has no passwords to sync.
    pub fn default_set() -> Self {
        ProvisioningFeatures {
            push_new_users: true,
            push_profile_updates: true,
            push_groups: true,
            deactivate_users: true,
            import_users: true,
            import_groups: true,
            sync_password: false,
        }
    }

    /// No feature on.
    pub fn none() -> Self {
        ProvisioningFeatures {
            push_new_users: false,
            push_profile_updates: false,
            push_groups: false,
            deactivate_users: false,
            import_users: false,
            import_groups: false,
            sync_password: false,
        }
    }

    /// Switches one feature on by its name; `false` for an unknown name.
    pub fn enable(&mut self, name: &str) -> bool {
        let flag = match name {
            "push_new_users" => &mut self.push_new_users,
            "push_profile_updates" => &mut self.push_profile_updates,
            "push_groups" => &mut self.push_groups,
            "deactivate_users" => &mut self.deactivate_users,
            "import_users" => &mut self.import_users,
            "import_groups" => &mut self.import_groups,
            "sync_password" => &mut self.sync_password,
            _ => return false,
        };
        *flag = true;
        true
    }

    /// The names of the features that are on, in [`Self::NAMES`] order.
    pub fn enabled_names(&self) -> Vec<&'static str> {
        let flags = [
            self.push_new_users,
            self.push_profile_updates,
            self.push_groups,
            self.deactivate_users,
            self.import_users,
            self.import_groups,
            self.sync_password,
        ];
        Self::NAMES.iter().zip(flags).filter(|(_, on)| *on).map(|(name, _)| *name).collect()
    }
}

/// Which of Okta's documented request shapes the client follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestProfile {
    /// OIN integrations: profile updates by `GET` then `PUT`; activation,
    /// deactivation and password by `PATCH`.
    Oin,
    /// OIN with "Support PATCH for User": profile updates by `GET` then
    /// `PATCH` of the changed attributes too.
    OinPatch,
    /// App Integration Wizard apps: everything by `PUT`, `active: false`
    /// included.
    AppIntegrationWizard,
}

impl RequestProfile {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "oin" => RequestProfile::Oin,
            "oin_patch" => RequestProfile::OinPatch,
            "wizard" => RequestProfile::AppIntegrationWizard,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RequestProfile::Oin => "oin",
            RequestProfile::OinPatch => "oin_patch",
            RequestProfile::AppIntegrationWizard => "wizard",
        }
    }
}

/// One row of the app's "To App" attribute mappings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeMapping {
    pub target: ScimAttributePath,
    pub source: AttributeValueSource,
}

/// A SCIM attribute a mapping writes: `displayName`, `name.givenName`,
/// `emails[type eq "work"].value`, or an extension's
/// `urn:…:User:department` and `urn:…:User:manager.value`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ScimAttributePath {
    /// The extension schema URN; `None` for the core User schema.
    pub schema: Option<String>,
    pub attribute: String,
    /// The `type` a multi-valued attribute's entry is picked by
    /// (`emails[type eq "work"]`).
    pub value_type: Option<String>,
    pub sub_attribute: Option<String>,
}

/// Attributes Okta's client writes itself, which no mapping may name.
const RESERVED_ATTRIBUTES: [&str; 8] =
    ["id", "userName", "externalId", "active", "meta", "groups", "password", "schemas"];

impl ScimAttributePath {
    /// Parses a mapping target; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (schema, path) = if text.starts_with("urn:") {
            match text.rsplit_once(':') {
                Some((schema, path)) if schema.len() > 4 && !path.is_empty() => (Some(schema.to_owned()), path),
                _ => return Err(format!("'{text}' is not an extension URN followed by ':attribute'")),
            }
        } else {
            (None, text)
        };
        let schema = schema.filter(|s| s != CORE_USER_SCHEMA);
        let (head, sub_attribute) = match path.split_once('.') {
            Some((head, sub)) => (head, Some(sub.to_owned())),
            None => (path, None),
        };
        let (attribute, value_type) = match head.split_once('[') {
            Some((attribute, filter)) => {
                let filter = filter.strip_suffix(']').unwrap_or("");
                let value = filter
                    .strip_prefix("type eq \"")
                    .and_then(|rest| rest.strip_suffix('"'))
                    .ok_or_else(|| format!("'{text}': only a [type eq \"…\"] filter is supported"))?;
                if sub_attribute.is_none() {
                    return Err(format!("'{text}': a filtered attribute needs a sub-attribute, such as .value"));
                }
                (attribute, Some(value.to_owned()))
            }
            None => (head, None),
        };
        let plain = |name: &str| !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !plain(attribute) || sub_attribute.as_deref().is_some_and(|s| !plain(s)) {
            return Err(format!("'{text}' is not a SCIM attribute path"));
        }
        if schema.is_none() && RESERVED_ATTRIBUTES.contains(&attribute) {
            return Err(format!("'{attribute}' is written by Okta's client and cannot be mapped"));
        }
        Ok(ScimAttributePath { schema, attribute: attribute.to_owned(), value_type, sub_attribute })
    }

    /// The path as a SCIM PATCH `path` and as the org file writes it.
    pub fn text(&self) -> String {
        let mut text = String::new();
        if let Some(schema) = &self.schema {
            text.push_str(schema);
            text.push(':');
        }
        text.push_str(&self.attribute);
        if let Some(value_type) = &self.value_type {
            text.push_str(&format!("[type eq \"{value_type}\"]"));
        }
        if let Some(sub) = &self.sub_attribute {
            text.push('.');
            text.push_str(sub);
        }
        text
    }
}

/// Okta's default "To App" mappings for a SCIM 2.0 app: names, the work
/// email and the display name.
pub fn default_mappings() -> Vec<AttributeMapping> {
    let mapping = |target: &str, attribute: &str| {
        ScimAttributePath::parse(target)
            .ok()
            .map(|target| AttributeMapping { target, source: AttributeValueSource::User(attribute.to_owned()) })
    };
    [
        mapping("name.givenName", "firstName"),
        mapping("name.familyName", "lastName"),
        mapping("emails[type eq \"work\"].value", "email"),
        mapping("displayName", "displayName"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// What Okta has linked: the SCIM id of each provisioned user, whether Okta
/// last left it active, and the SCIM id of each pushed group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvisioningLinks {
    pub users: BTreeMap<UserId, UserLink>,
    pub groups: BTreeMap<GroupId, String>,
}

/// An Okta user's link to a SCIM user: the app user's `externalId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLink {
    pub scim_id: String,
    pub active: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_paths_parse_core_filtered_and_extension_forms() {
        let path = |text: &str| ScimAttributePath::parse(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(path("name.givenName").text(), "name.givenName");
        assert_eq!(path("emails[type eq \"work\"].value").value_type.as_deref(), Some("work"));
        let department = path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department");
        assert_eq!(department.schema.as_deref(), Some(ENTERPRISE_USER_SCHEMA));
        assert_eq!(department.attribute, "department");
        assert_eq!(path("urn:ietf:params:scim:schemas:core:2.0:User:title").schema, None);
        assert!(ScimAttributePath::parse("userName").is_err());
        assert!(ScimAttributePath::parse("emails[value eq \"x\"].value").is_err());
        assert!(ScimAttributePath::parse("emails[type eq \"work\"]").is_err());
        assert!(ScimAttributePath::parse("urn:x").is_err());
    }

    #[test]
    fn authentication_modes_render_their_headers() {
        assert_eq!(ScimAuthentication::HeaderToken("abc".into()).authorization().as_deref(), Some("abc"));
        assert_eq!(ScimAuthentication::Bearer("abc".into()).authorization().as_deref(), Some("Bearer abc"));
        let basic = ScimAuthentication::Basic { user: "okta".into(), password: "pw".into() };
        assert_eq!(basic.authorization().as_deref(), Some("Basic b2t0YTpwdw=="));
        assert_eq!(format!("{basic:?}"), "basic");
    }
}
