//! Validating an app's `[apps.provisioning]` table.

use std::collections::BTreeMap;

use super::{Checked, Validator};
use crate::ids::GroupId;
use crate::org::file::ProvisioningEntry;
use crate::org::provisioning::{
    AttributeMapping, OAuthClientSettings, PasswordChange, ProvisioningFeatures, ProvisioningLinks, RequestProfile,
    ScimAttributePath, ScimAuthentication, ScimProvisioning, default_mappings,
};
use crate::org::{AttributeValueSource, Group};

impl Validator<'_> {
    pub(super) fn provisioning(
        &self,
        index: usize,
        entry: &ProvisioningEntry,
        groups: &BTreeMap<GroupId, Group>,
    ) -> Checked<ScimProvisioning> {
        let field = |name: &str| format!("apps[{index}].provisioning.{name}");
        let base_url = self.http_url(&field("base_url"), &entry.base_url)?.trim_end_matches('/').to_owned();
        let authentication = self.scim_authentication(index, entry)?;
        let unique_identifier = entry.unique_identifier.clone().unwrap_or_else(|| "userName".to_owned());
        if unique_identifier != "userName" {
            return self.fail(
                field("unique_identifier"),
                format!("'{unique_identifier}' is not supported: Okta's SCIM 2.0 template looks users up by userName"),
            );
        }
        let features = match &entry.features {
            None => ProvisioningFeatures::default_set(),
            Some(names) => {
                let mut features = ProvisioningFeatures::none();
                for (f, name) in names.iter().enumerate() {
                    if !features.enable(name) {
                        return self.fail(
                            format!("apps[{index}].provisioning.features[{f}]"),
                            format!("'{name}' is not one of {}", ProvisioningFeatures::NAMES.join(", ")),
                        );
                    }
                }
                features
            }
        };
        let request_profile = match &entry.profile {
            None => RequestProfile::Oin,
            Some(value) => RequestProfile::parse(value).map_or_else(
                || self.fail(field("profile"), format!("'{value}' is not one of oin, oin_patch, wizard")),
                Ok,
            )?,
        };
        let mut mappings = default_mappings();
        for (m, mapping) in entry.mappings.iter().enumerate() {
            let mapping_field = |name: &str| format!("apps[{index}].provisioning.mappings[{m}].{name}");
            let target =
                ScimAttributePath::parse(&mapping.scim).or_else(|problem| self.fail(mapping_field("scim"), problem))?;
            let Some(source) = AttributeValueSource::parse(&mapping.value) else {
                return self.fail(
                    mapping_field("value"),
                    format!("'{}' is not user.ATTR, appuser.ATTR or a \"quoted\" literal", mapping.value),
                );
            };
            // A mapping for a target Okta maps by default replaces the
            // default, where it stands; a new target goes at the end.
            match mappings.iter_mut().find(|existing| existing.target == target) {
                Some(existing) => existing.source = source,
                None => mappings.push(AttributeMapping { target, source }),
            }
        }
        let mut pushed_groups = Vec::new();
        for (g, reference) in entry.push_groups.iter().enumerate() {
            let group = GroupId::parse(reference)
                .ok()
                .filter(|id| groups.contains_key(id))
                .or_else(|| groups.values().find(|group| &group.name == reference).map(|group| group.id.clone()));
            let Some(group) = group else {
                return self.fail(
                    format!("apps[{index}].provisioning.push_groups[{g}]"),
                    format!("no group '{reference}' in this org"),
                );
            };
            if pushed_groups.contains(&group) {
                return self.fail(
                    format!("apps[{index}].provisioning.push_groups[{g}]"),
                    format!("'{reference}' is pushed by an earlier entry"),
                );
            }
            pushed_groups.push(group);
        }
        Ok(ScimProvisioning {
            base_url,
            authentication,
            unique_identifier,
            features,
            request_profile,
            mappings,
            pushed_groups,
            links: ProvisioningLinks::default(),
            connection_active: true,
            password_change: PasswordChange::Change,
        })
    }

    fn scim_authentication(&self, index: usize, entry: &ProvisioningEntry) -> Checked<ScimAuthentication> {
        let field = |name: &str| format!("apps[{index}].provisioning.{name}");
        let token = || match entry.token.as_deref().map(str::trim) {
            Some(token) if !token.is_empty() => Ok(token.to_owned()),
            _ => self.fail(field("token"), format!("is required when auth is {}", entry.auth)),
        };
        let refuse_oauth = || {
            let oauth_fields = [
                ("authorize_url", entry.authorize_url.is_some()),
                ("token_url", entry.token_url.is_some()),
                ("client_id", entry.client_id.is_some()),
                ("client_secret", entry.client_secret.is_some()),
                ("scopes", !entry.scopes.is_empty()),
            ];
            match oauth_fields.iter().find(|(_, present)| *present) {
                Some((name, _)) => self.fail(field(name), format!("is not allowed when auth is {}", entry.auth)),
                None => Ok(()),
            }
        };
        let refuse_basic = || {
            refuse_oauth()?;
            if entry.basic_user.is_some() || entry.basic_password.is_some() {
                return self.fail(field("basic_user"), format!("is not allowed when auth is {}", entry.auth));
            }
            Ok(())
        };
        match entry.auth.as_str() {
            "header" => {
                refuse_basic()?;
                Ok(ScimAuthentication::HeaderToken(token()?))
            }
            "bearer" => {
                refuse_basic()?;
                Ok(ScimAuthentication::Bearer(token()?))
            }
            "basic" => {
                refuse_oauth()?;
                if entry.token.is_some() {
                    return self.fail(field("token"), "is not allowed when auth is basic");
                }
                match (&entry.basic_user, &entry.basic_password) {
                    (Some(user), Some(password)) if !user.is_empty() && !user.contains(':') && !password.is_empty() => {
                        Ok(ScimAuthentication::Basic { user: user.clone(), password: password.clone() })
                    }
                    (Some(user), Some(_)) if user.is_empty() || user.contains(':') => {
                        self.fail(field("basic_user"), "must not be empty or contain ':'")
                    }
                    (Some(_), _) => self.fail(field("basic_password"), "is required when auth is basic"),
                    (None, _) => self.fail(field("basic_user"), "is required when auth is basic"),
                }
            }
            "oauth2" => {
                if entry.token.is_some() {
                    return self
                        .fail(field("token"), "is not allowed when auth is oauth2: the token comes from the SP");
                }
                if entry.basic_user.is_some() || entry.basic_password.is_some() {
                    return self.fail(field("basic_user"), "is not allowed when auth is oauth2");
                }
                let required = |name: &str, value: &Option<String>| match value.as_deref().map(str::trim) {
                    Some(value) if !value.is_empty() => Ok(value.to_owned()),
                    _ => self.fail(field(name), "is required when auth is oauth2"),
                };
                let authorize_url = required("authorize_url", &entry.authorize_url)?;
                let authorize_url = self.http_url(&field("authorize_url"), &authorize_url)?.to_owned();
                let token_url = required("token_url", &entry.token_url)?;
                let token_url = self.http_url(&field("token_url"), &token_url)?.to_owned();
                let client_id = required("client_id", &entry.client_id)?;
                let client_secret = required("client_secret", &entry.client_secret)?;
                if let Some((s, scope)) =
                    entry.scopes.iter().enumerate().find(|(_, scope)| scope.is_empty() || scope.contains(' '))
                {
                    return self.fail(
                        format!("apps[{index}].provisioning.scopes[{s}]"),
                        format!("'{scope}' is not one OAuth scope (no spaces, not empty)"),
                    );
                }
                Ok(ScimAuthentication::OAuth2(OAuthClientSettings {
                    authorize_url,
                    token_url,
                    client_id,
                    client_secret,
                    scopes: entry.scopes.clone(),
                }))
            }
            other => self.fail(field("auth"), format!("'{other}' is not one of header, bearer, basic, oauth2")),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::org::load::tests::{MINIMAL, NOW, error_of as org_error_of};
    use crate::org::parse_org;
    use crate::org::provisioning::{RequestProfile, ScimAuthentication};

    /// The minimal org, its app provisioning with these settings.
    fn org_with(provisioning: &str) -> String {
        format!("{MINIMAL}[apps.provisioning]\n{provisioning}\n")
    }

    fn error_of(provisioning: &str) -> String {
        org_error_of(&org_with(provisioning))
    }

    #[test]
    fn provisioning_settings_load_with_defaults_and_mappings() {
        let text = org_with(
            r#"base_url = "http://sp.test/scim/v2/"
auth = "bearer"
token = "secret"
profile = "oin_patch"
push_groups = ["Everyone"]
mappings = [
  { scim = "name.givenName", value = "user.login" },
  { scim = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", value = "user.department" },
]"#,
        );
        let org = parse_org("org.toml", &text, NOW).unwrap_or_else(|e| panic!("{e}"));
        let app = org.find_app("sp").unwrap_or_else(|| panic!("app"));
        let settings = app.provisioning.as_ref().unwrap_or_else(|| panic!("provisioning"));
        assert_eq!(settings.base_url, "http://sp.test/scim/v2");
        assert_eq!(settings.authentication, ScimAuthentication::Bearer("secret".into()));
        assert_eq!(settings.request_profile, RequestProfile::OinPatch);
        assert!(settings.features.push_new_users && !settings.features.sync_password);
        let targets: Vec<String> = settings.mappings.iter().map(|m| m.target.text()).collect();
        assert_eq!(
            targets,
            [
                "name.givenName",
                "name.familyName",
                "emails[type eq \"work\"].value",
                "displayName",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
            ]
        );
        assert_eq!(settings.pushed_groups.len(), 1);
    }

    #[test]
    fn oauth2_settings_load_with_their_endpoints_client_and_scopes() {
        let text = org_with(
            r#"base_url = "http://sp.test/scim/v2"
auth = "oauth2"
authorize_url = "http://sp.test/oauth/authorize"
token_url = "http://sp.test/oauth/token"
client_id = "okta"
client_secret = "shh"
scopes = ["scim"]"#,
        );
        let org = parse_org("org.toml", &text, NOW).unwrap_or_else(|e| panic!("{e}"));
        let settings = org.find_app("sp").and_then(|app| app.provisioning.clone()).unwrap_or_else(|| panic!("app"));
        let oauth = settings.authentication.oauth().unwrap_or_else(|| panic!("oauth2"));
        assert_eq!(oauth.token_url, "http://sp.test/oauth/token");
        assert_eq!(oauth.scopes, ["scim"]);
        assert_eq!(settings.authentication.authorization(), None, "the header waits for a token");
        assert_eq!(format!("{:?}", settings.authentication), "oauth2", "no secret in Debug");
        assert!(settings.connection_active);
    }

    #[test]
    fn provisioning_problems_name_their_field() {
        assert_eq!(
            error_of("base_url = \"nope\"\nauth = \"bearer\"\ntoken = \"t\""),
            "org.toml: apps[0].provisioning.base_url: 'nope' is not an absolute http or https URL"
        );
        assert_eq!(
            error_of("base_url = \"http://sp.test\"\nauth = \"bearer\""),
            "org.toml: apps[0].provisioning.token: is required when auth is bearer"
        );
        assert_eq!(
            error_of("base_url = \"http://sp.test\"\nauth = \"basic\"\nbasic_user = \"okta\""),
            "org.toml: apps[0].provisioning.basic_password: is required when auth is basic"
        );
        assert!(
            error_of("base_url = \"http://sp.test\"\nauth = \"oauth\"")
                .contains("not one of header, bearer, basic, oauth2")
        );
        assert_eq!(
            error_of("base_url = \"http://sp.test\"\nauth = \"oauth2\"\nauthorize_url = \"http://sp.test/a\""),
            "org.toml: apps[0].provisioning.token_url: is required when auth is oauth2"
        );
        assert_eq!(
            error_of("base_url = \"http://sp.test\"\nauth = \"bearer\"\ntoken = \"t\"\nclient_id = \"c\""),
            "org.toml: apps[0].provisioning.client_id: is not allowed when auth is bearer"
        );
        assert_eq!(
            error_of(
                "base_url = \"http://sp.test\"\nauth = \"header\"\ntoken = \"t\"\nfeatures = [\"push_new_users\", \"teleport\"]"
            ),
            "org.toml: apps[0].provisioning.features[1]: 'teleport' is not one of push_new_users, push_profile_updates, push_groups, deactivate_users, import_users, import_groups, sync_password"
        );
        assert_eq!(
            error_of("base_url = \"http://sp.test\"\nauth = \"header\"\ntoken = \"t\"\nprofile = \"soap\""),
            "org.toml: apps[0].provisioning.profile: 'soap' is not one of oin, oin_patch, wizard"
        );
        assert_eq!(
            error_of("base_url = \"http://sp.test\"\nauth = \"header\"\ntoken = \"t\"\nunique_identifier = \"email\""),
            "org.toml: apps[0].provisioning.unique_identifier: 'email' is not supported: Okta's SCIM 2.0 template looks users up by userName"
        );
        assert_eq!(
            error_of("base_url = \"http://sp.test\"\nauth = \"header\"\ntoken = \"t\"\npush_groups = [\"Nobody\"]"),
            "org.toml: apps[0].provisioning.push_groups[0]: no group 'Nobody' in this org"
        );
        assert_eq!(
            error_of(
                "base_url = \"http://sp.test\"\nauth = \"header\"\ntoken = \"t\"\nmappings = [{ scim = \"userName\", value = \"user.login\" }]"
            ),
            "org.toml: apps[0].provisioning.mappings[0].scim: 'userName' is written by Okta's client and cannot be mapped"
        );
        assert_eq!(
            error_of(
                "base_url = \"http://sp.test\"\nauth = \"header\"\ntoken = \"t\"\nmappings = [{ scim = \"title\", value = \"login\" }]"
            ),
            "org.toml: apps[0].provisioning.mappings[0].value: 'login' is not user.ATTR, appuser.ATTR or a \"quoted\" literal"
        );
    }
}
