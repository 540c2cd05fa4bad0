//! Validation of the OIDC parts of an org file: an app's OIDC settings and
//! the custom authorization servers with their claims and access policies.

use std::collections::BTreeMap;

use super::{Checked, Validator, toml_to_json};
use crate::ids::AppId;
use crate::org::file::{AuthorizationServerEntry, OidcEntry};
use crate::org::oidc::{
    AccessPolicy, ApplicationType, AuthorizationServer, ClaimTarget, ClaimValue, ClientAuthMethod, CustomClaim,
    GrantType, GroupsClaim, OIDC_SCOPES, OidcSettings, PolicyClients, SigningAlgorithm,
};
use crate::org::{App, AttributeValueSource};

impl Validator<'_> {
    fn grant_types(&self, field: &str, values: &[String]) -> Checked<Vec<GrantType>> {
        let mut grants = Vec::new();
        for (g, value) in values.iter().enumerate() {
            match GrantType::parse(value) {
                Some(grant) => grants.push(grant),
                None => {
                    return self.fail(
                        format!("{field}[{g}]"),
                        format!(
                            "'{value}' is not one of authorization_code, refresh_token, client_credentials, implicit"
                        ),
                    );
                }
            }
        }
        Ok(grants)
    }

    pub(super) fn oidc(
        &self,
        index: usize,
        app_name: &str,
        entry: &OidcEntry,
        settings: &BTreeMap<String, String>,
    ) -> Checked<OidcSettings> {
        let field = |name: &str| format!("apps[{index}].oidc.{name}");
        // An OIN app's URL templates take the app's settings.
        let filled = |field: String, template: &str| {
            fill_app_settings(template, settings).or_else(|variable| {
                let known: Vec<&str> = settings.keys().map(String::as_str).collect();
                self.fail(
                    field,
                    format!(
                        "'${{org.{variable}}}' names no setting of app '{app_name}' (its settings: {})",
                        if known.is_empty() { "none".to_owned() } else { known.join(", ") }
                    ),
                )
            })
        };
        let Some(application_type) = ApplicationType::parse(&entry.application_type) else {
            return self.fail(
                field("application_type"),
                format!("'{}' is not one of web, native, browser, service", entry.application_type),
            );
        };
        let default_method =
            if application_type.is_public() { ClientAuthMethod::None } else { ClientAuthMethod::ClientSecretBasic };
        let token_endpoint_auth_method = match &entry.token_endpoint_auth_method {
            None => default_method,
            Some(v) => ClientAuthMethod::parse(v).map_or_else(
                || {
                    self.fail(
                        field("token_endpoint_auth_method"),
                        format!("'{v}' is not one of client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, none"),
                    )
                },
                Ok,
            )?,
        };
        if application_type.is_public() && token_endpoint_auth_method != ClientAuthMethod::None {
            return self.fail(
                field("token_endpoint_auth_method"),
                format!("must be none for a {} app (public clients have no secret)", application_type.as_str()),
            );
        }
        if !application_type.is_public() && token_endpoint_auth_method == ClientAuthMethod::None {
            return self.fail(
                field("token_endpoint_auth_method"),
                format!("none is only for native and browser apps, not {}", application_type.as_str()),
            );
        }
        let needs_secret = matches!(
            token_endpoint_auth_method,
            ClientAuthMethod::ClientSecretBasic
                | ClientAuthMethod::ClientSecretPost
                | ClientAuthMethod::ClientSecretJwt
        );
        match (&entry.client_secret, needs_secret) {
            (None, true) => {
                return self
                    .fail(field("client_secret"), format!("is required with {}", token_endpoint_auth_method.as_str()));
            }
            (Some(secret), true) if secret.len() < 8 => {
                return self.fail(field("client_secret"), "must be at least 8 characters");
            }
            _ => {}
        }
        let mut redirect_uris = Vec::new();
        for (u, uri) in entry.redirect_uris.iter().enumerate() {
            let uri = &filled(format!("apps[{index}].oidc.redirect_uris[{u}]"), uri)?;
            match url::Url::parse(uri) {
                Ok(parsed) if parsed.fragment().is_none() => redirect_uris.push(uri.clone()),
                _ => {
                    return self.fail(
                        format!("apps[{index}].oidc.redirect_uris[{u}]"),
                        format!("'{uri}' is not an absolute URI without a fragment"),
                    );
                }
            }
        }
        let default_grants = match application_type {
            ApplicationType::Service => vec![GrantType::ClientCredentials],
            _ => vec![GrantType::AuthorizationCode],
        };
        let grant_types = match &entry.grant_types {
            None => default_grants,
            Some(values) => self.grant_types(&field("grant_types"), values)?,
        };
        if grant_types.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
            return self.fail(field("redirect_uris"), "needs at least one URI for the authorization_code grant");
        }
        if application_type == ApplicationType::Service && grant_types != [GrantType::ClientCredentials] {
            return self.fail(field("grant_types"), "a service app only has client_credentials");
        }
        let mut jwks = Vec::new();
        for (k, value) in entry.jwks.iter().enumerate() {
            let json = toml_to_json(value);
            match serde_json::from_value::<jsonwebtoken::jwk::Jwk>(json) {
                Ok(jwk) => jwks.push(jwk),
                Err(e) => return self.fail(format!("apps[{index}].oidc.jwks[{k}]"), format!("is not a JWK: {e}")),
            }
        }
        if token_endpoint_auth_method == ClientAuthMethod::PrivateKeyJwt && jwks.is_empty() {
            return self.fail(field("jwks"), "needs at least one public key for private_key_jwt");
        }
        let groups_claim = match &entry.groups_claim {
            None => None,
            Some(claim) => {
                if claim.name.trim().is_empty() {
                    return self.fail(field("groups_claim.name"), "must not be empty");
                }
                if RESERVED_CLAIMS.contains(&claim.name.as_str()) {
                    return self.fail(
                        field("groups_claim.name"),
                        format!("'{}' is a reserved claim and cannot be customised", claim.name),
                    );
                }
                let filter = self.group_filter(
                    &field("groups_claim.filter"),
                    &field("groups_claim.value"),
                    &claim.filter,
                    &claim.value,
                )?;
                Some(GroupsClaim { name: claim.name.clone(), filter })
            }
        };
        let initiate_login_uri = match &entry.initiate_login_uri {
            None => None,
            Some(uri) => {
                let uri = filled(field("initiate_login_uri"), uri)?;
                Some(self.http_url(&field("initiate_login_uri"), &uri)?.to_owned())
            }
        };
        Ok(OidcSettings {
            application_type,
            client_secret: entry.client_secret.clone(),
            token_endpoint_auth_method,
            redirect_uris,
            post_logout_redirect_uris: entry.post_logout_redirect_uris.clone(),
            grant_types,
            pkce_required: entry.pkce_required.unwrap_or(application_type.is_public()),
            jwks,
            groups_claim,
            app_profile_claims: entry.app_profile_claims,
            initiate_login_uri,
        })
    }

    pub(super) fn authorization_server(
        &self,
        index: usize,
        entry: &AuthorizationServerEntry,
        apps: &BTreeMap<AppId, App>,
    ) -> Checked<AuthorizationServer> {
        let field = |name: &str| format!("authorization_servers[{index}].{name}");
        let id_ok = entry.id == "default"
            || (entry.id.len() == 20
                && entry.id.starts_with("aus")
                && entry.id.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !id_ok {
            return self
                .fail(field("id"), format!("'{}' is not 'default' or an Okta id starting with 'aus'", entry.id));
        }
        let audiences =
            if entry.audiences.is_empty() { vec![format!("api://{}", entry.id)] } else { entry.audiences.clone() };
        for (s, scope) in entry.scopes.iter().enumerate() {
            let valid = !scope.is_empty() && scope.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
            if !valid || OIDC_SCOPES.contains(&scope.as_str()) {
                return self.fail(
                    format!("authorization_servers[{index}].scopes[{s}]"),
                    format!("'{scope}' is not a custom scope name (OIDC scopes are built in)"),
                );
            }
        }
        let mut claims = Vec::new();
        for (c, claim) in entry.claims.iter().enumerate() {
            let field = |name: &str| format!("authorization_servers[{index}].claims[{c}].{name}");
            if claim.name.trim().is_empty() {
                return self.fail(field("name"), "must not be empty");
            }
            if RESERVED_CLAIMS.contains(&claim.name.as_str()) {
                return self
                    .fail(field("name"), format!("'{}' is a reserved claim and cannot be customised", claim.name));
            }
            let target = match claim.token.as_str() {
                "id_token" => ClaimTarget::IdToken,
                "access_token" => ClaimTarget::AccessToken,
                other => return self.fail(field("token"), format!("'{other}' is not id_token or access_token")),
            };
            let value = match &claim.groups_filter {
                Some(filter) => ClaimValue::Groups(self.group_filter(
                    &field("groups_filter"),
                    &field("value"),
                    filter,
                    &claim.value,
                )?),
                None => match AttributeValueSource::parse(&claim.value) {
                    Some(source) => ClaimValue::Expression(source),
                    None => {
                        return self.fail(
                            field("value"),
                            format!("'{}' is not user.ATTR, appuser.ATTR or a \"quoted\" literal", claim.value),
                        );
                    }
                },
            };
            claims.push(CustomClaim {
                name: claim.name.clone(),
                target,
                value,
                always_include: claim.always_include,
                scopes: claim.scopes.clone(),
            });
        }
        let mut policies = Vec::new();
        for (p, policy) in entry.policies.iter().enumerate() {
            let field = |name: &str| format!("authorization_servers[{index}].policies[{p}].{name}");
            let clients = match &policy.clients {
                None => PolicyClients::All,
                Some(list) if list.iter().any(|c| c == "*") => PolicyClients::All,
                Some(list) => {
                    let mut ids = Vec::new();
                    for (c, client) in list.iter().enumerate() {
                        let found = apps.values().find(|a| a.id.as_str() == client || a.name == *client);
                        match found {
                            Some(app) if app.oidc().is_some() => ids.push(app.id.clone()),
                            _ => {
                                return self.fail(
                                    format!("authorization_servers[{index}].policies[{p}].clients[{c}]"),
                                    format!("no OIDC app '{client}' in this org"),
                                );
                            }
                        }
                    }
                    PolicyClients::Only(ids)
                }
            };
            let grant_types = match &policy.grant_types {
                None => vec![GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::ClientCredentials],
                Some(values) => self.grant_types(&field("grant_types"), values)?,
            };
            let scopes = match &policy.scopes {
                None => None,
                Some(list) if list.iter().any(|s| s == "*") => None,
                Some(list) => Some(list.clone()),
            };
            let access = policy.access_token_lifetime_minutes.unwrap_or(60);
            if !(5..=1440).contains(&access) {
                return self.fail(field("access_token_lifetime_minutes"), "must be between 5 and 1440, as in Okta");
            }
            // Okta allows refresh tokens to live up to five years.
            if policy.refresh_token_lifetime_minutes.is_some_and(|m| m < access || m > 5 * 365 * 24 * 60) {
                return self.fail(
                    field("refresh_token_lifetime_minutes"),
                    "must be between the access token lifetime and five years (2628000 minutes)",
                );
            }
            policies.push(AccessPolicy {
                name: policy.name.clone(),
                clients,
                grant_types,
                scopes,
                access_token_lifetime_minutes: access,
                refresh_token_lifetime_minutes: policy.refresh_token_lifetime_minutes,
            });
        }
        let signing_algorithm = match &entry.signing_algorithm {
            None => SigningAlgorithm::Rs256,
            Some(v) => SigningAlgorithm::parse(v)
                .map_or_else(|| self.fail(field("signing_algorithm"), format!("'{v}' is not RS256 or ES256")), Ok)?,
        };
        if entry.rotation_days.is_some_and(|d| !(1..=3650).contains(&d)) {
            return self.fail(field("rotation_days"), "must be between 1 and 3650");
        }
        Ok(AuthorizationServer {
            id: entry.id.clone(),
            name: entry.name.clone().unwrap_or_else(|| entry.id.clone()),
            audiences,
            scopes: entry.scopes.clone(),
            claims,
            policies,
            signing_algorithm,
            rotation_days: entry.rotation_days,
        })
    }
}

/// Claims the servers set themselves; Okta refuses custom claims with these names.
/// `template` with each `${org.NAME}` replaced by the app setting NAME, as
/// Okta fills an OIN app's URL templates from its settings; the unknown
/// NAME when a setting is missing. Text without `${org.` is returned as it
/// is.
fn fill_app_settings(template: &str, settings: &BTreeMap<String, String>) -> Result<String, String> {
    const OPEN: &str = "${org.";
    let mut filled = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find(OPEN) {
        filled.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('}') else {
            return Err(after.to_owned());
        };
        let name = &after[..end];
        filled.push_str(settings.get(name).ok_or_else(|| name.to_owned())?);
        rest = &after[end + 1..];
    }
    filled.push_str(rest);
    Ok(filled)
}

const RESERVED_CLAIMS: [&str; 26] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "at_hash",
    "c_hash",
    "acr",
    "amr",
    "azp",
    "idp",
    "ver",
    "cid",
    "uid",
    "scp",
    "name",
    "email",
    "email_verified",
    "preferred_username",
    "given_name",
    "family_name",
    "updated_at",
];

#[cfg(test)]
mod tests {
    use crate::org::load::tests::{MINIMAL, NOW, error_of};
    use crate::org::oidc::ClientAuthMethod;
    use crate::org::parse_org;

    /// The minimal org with a web OIDC app authenticating with `method`.
    fn org_with(method: &str, secret: Option<&str>) -> String {
        let secret = secret.map(|s| format!("client_secret = \"{s}\"\n")).unwrap_or_default();
        format!(
            "{MINIMAL}\n[[apps]]\nname = \"web\"\nsign_on_mode = \"OPENID_CONNECT\"\n[apps.oidc]\napplication_type = \"web\"\n{secret}token_endpoint_auth_method = \"{method}\"\nredirect_uris = [\"http://rp.test/cb\"]\ngrant_types = [\"authorization_code\"]\n"
        )
    }

    #[test]
    fn client_secret_jwt_apps_load_and_need_a_secret() {
        let org =
            parse_org("org.toml", &org_with("client_secret_jwt", Some("a-secret-of-enough-length")), NOW).unwrap();
        let settings = org.find_app("web").and_then(|app| app.oidc()).unwrap();
        assert_eq!(settings.token_endpoint_auth_method, ClientAuthMethod::ClientSecretJwt);
        assert_eq!(
            error_of(&org_with("client_secret_jwt", None)),
            "org.toml: apps[1].oidc.client_secret: is required with client_secret_jwt"
        );
    }

    /// The minimal org with an OIN-style OIDC app whose URLs are templates
    /// filled from its settings, as the Koopid app's are.
    fn org_with_settings(settings: &str, redirect: &str) -> String {
        format!(
            "{MINIMAL}\n[[apps]]\nname = \"koopid\"\nsign_on_mode = \"OPENID_CONNECT\"\nsettings = {{ {settings} }}\n[apps.oidc]\napplication_type = \"web\"\nclient_secret = \"a-secret-of-enough-length\"\nredirect_uris = [\"{redirect}\"]\ninitiate_login_uri = \"https://${{org.subdomain}}.koopid.example/login?provider=${{org.providerId}}\"\n"
        )
    }

    #[test]
    fn app_settings_fill_the_url_templates_and_an_unknown_one_is_named() {
        let text = org_with_settings(
            "subdomain = \"us-east.app\", providerId = \"718\"",
            "https://${org.subdomain}.koopid.example/oauth/${org.providerId}/callback",
        );
        let org = parse_org("org.toml", &text, NOW).unwrap();
        let oidc = org.find_app("koopid").and_then(|app| app.oidc()).unwrap();
        assert_eq!(oidc.redirect_uris, vec!["https://us-east.app.koopid.example/oauth/718/callback".to_owned()]);
        assert_eq!(oidc.initiate_login_uri.as_deref(), Some("https://us-east.app.koopid.example/login?provider=718"));
        let unknown = org_with_settings("subdomain = \"app\"", "https://${org.subdomain}.koopid.example/${org.tenant}");
        assert_eq!(
            error_of(&unknown),
            "org.toml: apps[1].oidc.redirect_uris[0]: '${org.tenant}' names no setting of app 'koopid' (its settings: subdomain)"
        );
        let missing = org_with_settings("", "https://app.koopid.example/cb");
        assert_eq!(
            error_of(&missing),
            "org.toml: apps[1].oidc.initiate_login_uri: '${org.subdomain}' names no setting of app 'koopid' (its settings: none)"
        );
    }

    #[test]
    fn a_template_without_settings_is_kept_as_it_is() {
        let settings = std::collections::BTreeMap::from([("subdomain".to_owned(), "app".to_owned())]);
        assert_eq!(super::fill_app_settings("https://rp.test/cb", &settings).as_deref(), Ok("https://rp.test/cb"));
        assert_eq!(super::fill_app_settings("${org.subdomain}-${org.subdomain}", &settings).as_deref(), Ok("app-app"));
        assert_eq!(super::fill_app_settings("https://${org.subdomain", &settings), Err("subdomain".to_owned()));
    }
}
