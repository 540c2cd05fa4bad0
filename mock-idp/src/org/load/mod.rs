//! Validating the text of an org file. Reading the file is IO and lives in
//! [`crate::setup::load_org_file`].
//!
//! Every problem is reported with the file, the field path (`apps[0].saml.sso_url`)
//! and what is wrong, so the CLI can print it as one line.

mod oidc;
mod provisioning;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::file::{AppEntry, OrgFile, SamlEntry};
use super::oidc::AuthorizationServer;
use super::{
    App, AppGroup, AppUser, AttributeNameFormat, AttributeStatement, AttributeValueSource, Group,
    GroupAttributeStatement, GroupFilter, NameIdFormat, Org, SamlSettings, SignOn, SignatureAlgorithm, SigningMode,
    User, UserProfile, UserStatus, UsernameTemplate,
};
use crate::ids::{AcsUrl, AppExternalKey, AppId, EntityId, GroupId, UserId};

/// A problem with an org file: which file, which field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct OrgFileError {
    pub file: String,
    /// The field path, or a `line L, column C` position for syntax errors.
    pub field: String,
    pub problem: String,
}

impl fmt::Display for OrgFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.field, self.problem)
    }
}

/// Validates the text of an org file. `file` names it in errors.
pub fn parse_org(file: &str, text: &str, now: OffsetDateTime) -> Result<Org, OrgFileError> {
    let error = |field: String, problem: String| OrgFileError { file: file.to_owned(), field, problem };
    let parsed: OrgFile = toml::from_str(text).map_err(|e| {
        let field = match e.span() {
            Some(span) => {
                let (line, column) = line_and_column(text, span.start);
                format!("line {line}, column {column}")
            }
            None => "(syntax)".to_owned(),
        };
        error(field, e.message().replace('\n', " ").trim().to_owned())
    })?;
    Validator { file, now }.org(parsed)
}

fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

struct Validator<'a> {
    file: &'a str,
    now: OffsetDateTime,
}

type Checked<T> = Result<T, OrgFileError>;

impl Validator<'_> {
    fn fail<T>(&self, field: impl Into<String>, problem: impl Into<String>) -> Checked<T> {
        Err(OrgFileError { file: self.file.to_owned(), field: field.into(), problem: problem.into() })
    }

    fn org(&self, parsed: OrgFile) -> Checked<Org> {
        let section = &parsed.org;
        if section.name.trim().is_empty() {
            return self.fail("org.name", "must not be empty");
        }
        let url = self.http_url("org.url", &section.url)?.trim_end_matches('/').to_owned();
        if section.api_token.trim().is_empty() {
            return self.fail("org.api_token", "must not be empty");
        }
        let org_id = match &section.id {
            Some(id) if id.len() == 20 && id.starts_with("00o") && id.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                id.clone()
            }
            Some(id) => {
                return self.fail("org.id", format!("'{id}' is not an Okta org id (00o and 17 letters or digits)"));
            }
            None => derived_id("00o", &section.name, "org"),
        };

        let mut users = BTreeMap::new();
        let mut logins = BTreeSet::new();
        for (index, entry) in parsed.users.iter().enumerate() {
            let field = |name: &str| format!("users[{index}].{name}");
            let login = entry.login.trim();
            if login.is_empty() {
                return self.fail(field("login"), "must not be empty");
            }
            if !logins.insert(login.to_lowercase()) {
                return self.fail(field("login"), format!("'{login}' is used by an earlier user (logins ignore case)"));
            }
            let email = entry.email.clone().unwrap_or_else(|| login.to_owned());
            if !looks_like_email(&email) {
                return self.fail(field("email"), format!("'{email}' is not an email address"));
            }
            let id = match &entry.id {
                Some(id) => UserId::parse(id).or_else(|e| self.fail(field("id"), e.to_string()))?,
                None => UserId::parse(&derived_id("00u", &section.name, &login.to_lowercase()))
                    .or_else(|e| self.fail(field("id"), e.to_string()))?,
            };
            let status = match &entry.status {
                None => UserStatus::Active,
                Some(s) => match UserStatus::parse(s) {
                    Some(status) => status,
                    None => {
                        return self.fail(
                            field("status"),
                            format!("'{s}' is not an Okta user status (ACTIVE, STAGED, PROVISIONED, SUSPENDED, DEPROVISIONED, LOCKED_OUT, RECOVERY, PASSWORD_EXPIRED)"),
                        );
                    }
                },
            };
            let extra = entry.profile.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect();
            let user = User {
                id: id.clone(),
                status,
                profile: UserProfile {
                    login: login.to_owned(),
                    email,
                    first_name: entry.first_name.clone(),
                    last_name: entry.last_name.clone(),
                    extra,
                },
                created: self.now,
                activated: (status == UserStatus::Active).then_some(self.now),
                status_changed: None,
                last_updated: self.now,
            };
            if users.insert(id.clone(), user).is_some() {
                return self.fail(field("id"), format!("'{id}' is used by an earlier user"));
            }
        }
        let find_user = |reference: &str| -> Option<UserId> {
            UserId::parse(reference).ok().filter(|id| users.contains_key(id)).or_else(|| {
                users.values().find(|u| u.profile.login.eq_ignore_ascii_case(reference)).map(|u| u.id.clone())
            })
        };

        let mut groups = BTreeMap::new();
        for (index, entry) in parsed.groups.iter().enumerate() {
            let field = |name: &str| format!("groups[{index}].{name}");
            if entry.name.trim().is_empty() {
                return self.fail(field("name"), "must not be empty");
            }
            let id = match &entry.id {
                Some(id) => GroupId::parse(id).or_else(|e| self.fail(field("id"), e.to_string()))?,
                None => GroupId::parse(&derived_id("00g", &section.name, &entry.name))
                    .or_else(|e| self.fail(field("id"), e.to_string()))?,
            };
            let mut members = BTreeSet::new();
            for (m, member) in entry.members.iter().enumerate() {
                match find_user(member) {
                    Some(user) => members.insert(user),
                    None => {
                        return self
                            .fail(format!("groups[{index}].members[{m}]"), format!("no user '{member}' in this org"));
                    }
                };
            }
            let group = Group {
                id: id.clone(),
                name: entry.name.clone(),
                description: entry.description.clone(),
                members,
                created: self.now,
                last_updated: self.now,
            };
            if groups.values().any(|g: &Group| g.name == entry.name) {
                return self.fail(field("name"), format!("'{}' is used by an earlier group", entry.name));
            }
            if groups.insert(id.clone(), group).is_some() {
                return self.fail(field("id"), format!("'{id}' is used by an earlier group"));
            }
        }

        let mut apps = BTreeMap::new();
        for (index, entry) in parsed.apps.iter().enumerate() {
            let instance_name = instance_name(&section.name, &parsed.apps[..index], &entry.name);
            let app = self.app(index, entry, &section.name, instance_name, &find_user, &groups)?;
            if apps.values().any(|a: &App| a.name == app.name) {
                return self.fail(format!("apps[{index}].name"), format!("'{}' is used by an earlier app", app.name));
            }
            if apps.contains_key(&app.id) {
                return self.fail(format!("apps[{index}].id"), format!("'{}' is used by an earlier app", app.id));
            }
            if let Some(key) = app.saml().map(|saml| &saml.external_key)
                && apps.values().any(|a: &App| a.saml().is_some_and(|saml| &saml.external_key == key))
            {
                return self.fail(format!("apps[{index}].external_key"), format!("'{key}' is used by an earlier app"));
            }
            apps.insert(app.id.clone(), app);
        }

        let email_domain = match &section.email_domain {
            Some(domain) if !domain.is_empty() && !domain.contains('@') => domain.clone(),
            Some(domain) => {
                return self.fail("org.email_domain", format!("'{domain}' is not a domain"));
            }
            None => users
                .values()
                .next()
                .and_then(|u| u.profile.email.split('@').nth(1).map(str::to_owned))
                .unwrap_or_else(|| format!("{}.test", section.name)),
        };

        let mut authorization_servers: Vec<AuthorizationServer> = Vec::new();
        for (index, entry) in parsed.authorization_servers.iter().enumerate() {
            let server = self.authorization_server(index, entry, &apps)?;
            if authorization_servers.iter().any(|s| s.id == server.id) {
                return self.fail(
                    format!("authorization_servers[{index}].id"),
                    format!("'{}' is used by an earlier authorization server", server.id),
                );
            }
            authorization_servers.push(server);
        }

        Ok(Org {
            id: org_id,
            name: section.name.clone(),
            url,
            api_token: section.api_token.clone(),
            email_domain,
            users,
            groups,
            apps,
            authorization_servers,
        })
    }

    fn app(
        &self,
        index: usize,
        entry: &AppEntry,
        org_name: &str,
        instance_name: String,
        find_user: &dyn Fn(&str) -> Option<UserId>,
        groups: &BTreeMap<GroupId, Group>,
    ) -> Checked<App> {
        let field = |name: &str| format!("apps[{index}].{name}");
        let name_ok = !entry.name.is_empty()
            && entry.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !name_ok {
            return self.fail(
                field("name"),
                format!("'{}' must be letters, digits, '-', '_' or '.', as it appears in URLs", entry.name),
            );
        }
        let id = match &entry.id {
            Some(id) => AppId::parse(id).or_else(|e| self.fail(field("id"), e.to_string()))?,
            None => AppId::parse(&derived_id("0oa", org_name, &entry.name))
                .or_else(|e| self.fail(field("id"), e.to_string()))?,
        };
        let external_key = match &entry.external_key {
            Some(_) if entry.sign_on_mode != "SAML_2_0" => {
                return self.fail(field("external_key"), "only SAML apps have an external key");
            }
            Some(key) => AppExternalKey::parse(key).or_else(|e| self.fail(field("external_key"), e.to_string()))?,
            None => AppExternalKey::parse(&derived_id("exk", org_name, &entry.name))
                .or_else(|e| self.fail(field("external_key"), e.to_string()))?,
        };
        let sign_on = match (entry.sign_on_mode.as_str(), &entry.saml, &entry.oidc) {
            ("SAML_2_0", Some(saml), None) => {
                SignOn::Saml(Box::new(self.saml(index, saml, external_key, instance_name)?))
            }
            ("SAML_2_0", None, _) => return self.fail(field("saml"), "is required when sign_on_mode is SAML_2_0"),
            ("SAML_2_0", Some(_), Some(_)) => {
                return self.fail(field("oidc"), "is not allowed when sign_on_mode is SAML_2_0");
            }
            ("OPENID_CONNECT", None, Some(oidc)) => {
                SignOn::Oidc(Box::new(self.oidc(index, &entry.name, oidc, &entry.settings)?))
            }
            ("OPENID_CONNECT", _, None) => {
                return self.fail(field("oidc"), "is required when sign_on_mode is OPENID_CONNECT");
            }
            ("OPENID_CONNECT", Some(_), Some(_)) => {
                return self.fail(field("saml"), "is not allowed when sign_on_mode is OPENID_CONNECT");
            }
            (other, _, _) => {
                return self.fail(field("sign_on_mode"), format!("'{other}' is not SAML_2_0 or OPENID_CONNECT"));
            }
        };

        let mut users = BTreeMap::new();
        for (u, assignment) in entry.users.iter().enumerate() {
            let Some(user) = find_user(&assignment.user) else {
                return self.fail(
                    format!("apps[{index}].users[{u}].user"),
                    format!("no user '{}' in this org", assignment.user),
                );
            };
            let profile = assignment.profile.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect();
            users.insert(user, AppUser { user_name: assignment.user_name.clone(), profile, created: Some(self.now) });
        }
        let mut app_groups = BTreeMap::new();
        for (g, assignment) in entry.groups.iter().enumerate() {
            let group = GroupId::parse(&assignment.group)
                .ok()
                .filter(|id| groups.contains_key(id))
                .or_else(|| groups.values().find(|group| group.name == assignment.group).map(|group| group.id.clone()));
            let Some(group) = group else {
                return self.fail(
                    format!("apps[{index}].groups[{g}].group"),
                    format!("no group '{}' in this org", assignment.group),
                );
            };
            let profile = assignment.profile.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect();
            app_groups.insert(group, AppGroup { profile, priority: g });
        }
        let provisioning = match &entry.provisioning {
            Some(provisioning) => Some(self.provisioning(index, provisioning, groups)?),
            None => None,
        };
        Ok(App {
            id,
            name: entry.name.clone(),
            label: entry.label.clone().unwrap_or_else(|| entry.name.clone()),
            active: true,
            sign_on,
            users,
            groups: app_groups,
            created: self.now,
            provisioning,
        })
    }

    fn saml(
        &self,
        index: usize,
        entry: &SamlEntry,
        external_key: AppExternalKey,
        instance_name: String,
    ) -> Checked<SamlSettings> {
        let field = |name: &str| format!("apps[{index}].saml.{name}");
        let sso_url = AcsUrl(self.http_url(&field("sso_url"), &entry.sso_url)?.to_owned());
        let mut other_sso_urls = Vec::new();
        for (i, url) in entry.other_sso_urls.iter().enumerate() {
            other_sso_urls
                .push(AcsUrl(self.http_url(&format!("apps[{index}].saml.other_sso_urls[{i}]"), url)?.to_owned()));
        }
        let recipient = match &entry.recipient {
            Some(url) => self.http_url(&field("recipient"), url)?.to_owned(),
            None => sso_url.0.clone(),
        };
        let destination = match &entry.destination {
            Some(url) => self.http_url(&field("destination"), url)?.to_owned(),
            None => sso_url.0.clone(),
        };
        if entry.audience.trim().is_empty() {
            return self.fail(field("audience"), "must not be empty");
        }
        let name_id_format = match &entry.name_id_format {
            None => NameIdFormat::Unspecified,
            Some(v) => NameIdFormat::parse(v).map_or_else(
                || {
                    self.fail(
                        field("name_id_format"),
                        format!(
                            "'{v}' is not one of unspecified, emailAddress, x509SubjectName, persistent, transient"
                        ),
                    )
                },
                Ok,
            )?,
        };
        let username_template = match &entry.username_template {
            None => UsernameTemplate::OktaUsername,
            Some(v) => UsernameTemplate::parse(v).map_or_else(
                || self.fail(field("username_template"), format!("'{v}' is not okta_username, okta_username_prefix, email, email_prefix or a ${{user.attr}} template")),
                Ok,
            )?,
        };
        let signing = match &entry.signing {
            None => SigningMode::Both,
            Some(v) => SigningMode::parse(v).map_or_else(
                || self.fail(field("signing"), format!("'{v}' is not one of both, response, assertion")),
                Ok,
            )?,
        };
        let signature_algorithm = match &entry.signature_algorithm {
            None => SignatureAlgorithm::RsaSha256,
            Some(v) => SignatureAlgorithm::parse(v).map_or_else(
                || self.fail(field("signature_algorithm"), format!("'{v}' is not RSA_SHA256 or RSA_SHA1")),
                Ok,
            )?,
        };
        let mut attributes = Vec::new();
        for (a, attribute) in entry.attributes.iter().enumerate() {
            let field = |name: &str| format!("apps[{index}].saml.attributes[{a}].{name}");
            if attribute.name.is_empty() {
                return self.fail(field("name"), "must not be empty");
            }
            let name_format = self.name_format(&field("name_format"), attribute.name_format.as_deref())?;
            let Some(value) = AttributeValueSource::parse(&attribute.value) else {
                return self.fail(
                    field("value"),
                    format!("'{}' is not user.ATTR, appuser.ATTR or a \"quoted\" literal", attribute.value),
                );
            };
            attributes.push(AttributeStatement { name: attribute.name.clone(), name_format, value });
        }
        let mut group_attributes = Vec::new();
        for (a, attribute) in entry.group_attributes.iter().enumerate() {
            let field = |name: &str| format!("apps[{index}].saml.group_attributes[{a}].{name}");
            if attribute.name.is_empty() {
                return self.fail(field("name"), "must not be empty");
            }
            let name_format = self.name_format(&field("name_format"), attribute.name_format.as_deref())?;
            let filter = self.group_filter(&field("filter"), &field("value"), &attribute.filter, &attribute.value)?;
            group_attributes.push(GroupAttributeStatement { name: attribute.name.clone(), name_format, filter });
        }
        let assertion_encryption = match &entry.assertion_encryption {
            None => None,
            Some(encryption) => Some(self.assertion_encryption(index, encryption)?),
        };
        let field = |name: &str| format!("apps[{index}].saml.{name}");
        let request_signing_certificate =
            match (entry.require_signed_authn_requests.unwrap_or(false), &entry.request_signing_certificate) {
                (true, Some(certificate)) if crate::saml::encrypt::is_certificate_pem(certificate) => {
                    Some(certificate.clone())
                }
                (true, Some(_)) => {
                    return self.fail(
                        field("request_signing_certificate"),
                        "is not a PEM certificate (-----BEGIN CERTIFICATE-----)",
                    );
                }
                (true, None) => {
                    return self.fail(
                        field("request_signing_certificate"),
                        "is needed with require_signed_authn_requests = true (the SP's signing certificate, PEM)",
                    );
                }
                (false, Some(_)) if entry.slo_url.is_some() => None,
                (false, Some(_)) => {
                    return self.fail(
                        field("request_signing_certificate"),
                        "is used only with require_signed_authn_requests = true or slo_url",
                    );
                }
                (false, None) => None,
            };
        let single_logout = match (&entry.slo_url, &entry.request_signing_certificate) {
            (None, _) if entry.sp_issuer.is_some() => {
                return self.fail(field("sp_issuer"), "is used only with slo_url");
            }
            (None, _) => None,
            (Some(url), _) if !(url.starts_with("https://") || url.starts_with("http://")) => {
                return self.fail(field("slo_url"), format!("'{url}' is not an absolute http or https URL"));
            }
            (Some(_), Some(certificate)) if !crate::saml::encrypt::is_certificate_pem(certificate) => {
                return self.fail(
                    field("request_signing_certificate"),
                    "is not a PEM certificate (-----BEGIN CERTIFICATE-----)",
                );
            }
            (Some(url), Some(certificate)) => Some(crate::org::SingleLogout {
                url: url.clone(),
                sp_issuer: entry.sp_issuer.clone().unwrap_or_else(|| entry.audience.clone()),
                certificate: certificate.clone(),
            }),
            (Some(_), None) => {
                return self.fail(
                    field("request_signing_certificate"),
                    "is needed with slo_url (Okta takes only LogoutRequests signed by the SP's certificate, PEM)",
                );
            }
        };
        Ok(SamlSettings {
            assertion_encryption,
            request_signing_certificate,
            single_logout,
            external_key,
            instance_name,
            sso_url,
            other_sso_urls,
            recipient,
            destination,
            audience: EntityId(entry.audience.clone()),
            default_relay_state: entry.default_relay_state.clone(),
            name_id_format,
            username_template,
            signing,
            signature_algorithm,
            authn_context_class_ref: entry
                .authn_context_class_ref
                .clone()
                .unwrap_or_else(|| "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport".to_owned()),
            honor_force_authn: entry.honor_force_authn.unwrap_or(true),
            attributes,
            group_attributes,
        })
    }

    fn assertion_encryption(
        &self,
        index: usize,
        entry: &super::file::AssertionEncryptionEntry,
    ) -> Checked<crate::saml::encrypt::EncryptionRecipient> {
        use crate::saml::encrypt::{BlockAlgorithm, EncryptionRecipient, KeyTransport};
        let field = |name: &str| format!("apps[{index}].saml.assertion_encryption.{name}");
        let block = match &entry.algorithm {
            None => BlockAlgorithm::Aes256Gcm,
            Some(v) => BlockAlgorithm::parse_setting(v)
                .map_or_else(|| self.fail(field("algorithm"), format!("'{v}' is not aes256-gcm or aes256-cbc")), Ok)?,
        };
        if !crate::saml::encrypt::is_certificate_pem(&entry.certificate) {
            return self.fail(field("certificate"), "is not a PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        Ok(EncryptionRecipient {
            certificate_pem: entry.certificate.clone(),
            block,
            transport: KeyTransport::RsaOaepMgf1p,
        })
    }

    fn group_filter(&self, filter_field: &str, value_field: &str, filter: &str, value: &str) -> Checked<GroupFilter> {
        Ok(match filter {
            "starts_with" => GroupFilter::StartsWith(value.to_owned()),
            "equals" => GroupFilter::Equals(value.to_owned()),
            "contains" => GroupFilter::Contains(value.to_owned()),
            "regex" => match regex::Regex::new(&format!("^(?:{value})$")) {
                Ok(regex) => GroupFilter::Regex(regex),
                Err(e) => {
                    return self.fail(value_field, format!("is not a valid regex: {}", first_line(&e.to_string())));
                }
            },
            other => {
                return self
                    .fail(filter_field, format!("'{other}' is not one of starts_with, equals, contains, regex"));
            }
        })
    }

    fn name_format(&self, field: &str, value: Option<&str>) -> Checked<AttributeNameFormat> {
        match value {
            None => Ok(AttributeNameFormat::Unspecified),
            Some(v) => AttributeNameFormat::parse(v)
                .map_or_else(|| self.fail(field, format!("'{v}' is not one of unspecified, uri, basic")), Ok),
        }
    }

    fn http_url<'v>(&self, field: &str, value: &'v str) -> Checked<&'v str> {
        match url::Url::parse(value) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => Ok(value),
            _ => self.fail(field, format!("'{value}' is not an absolute http or https URL")),
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or(text).trim()
}

fn looks_like_email(value: &str) -> bool {
    let mut parts = value.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(local), Some(domain), None) if !local.is_empty() && domain.contains('.'))
}

/// Okta's instance name of an app, `{org}_{appslug}_{n}`: the org's
/// subdomain-like name, the app's name in lowercase letters and digits only
/// (as Okta makes the slug from the name the app was created with), and a
/// number counting the org's earlier SAML apps with the same slug from 1, so that
/// `reference-sp` and `referencesp` get `_1` and `_2`.
fn instance_name(org_name: &str, earlier_apps: &[AppEntry], app_name: &str) -> String {
    let org: String =
        org_name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').map(|c| c.to_ascii_lowercase()).collect();
    let slug = |name: &str| -> String {
        name.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
    };
    let own = slug(app_name);
    let number = 1 + earlier_apps.iter().filter(|app| app.sign_on_mode == "SAML_2_0" && slug(&app.name) == own).count();
    format!("{org}_{own}_{number}")
}

/// A stable Okta-shaped id for an object the file gives no id, so that ids
/// survive restarts: the prefix and 17 base62 characters of a SHA-256 hash.
fn derived_id(prefix: &str, org: &str, key: &str) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let digest = Sha256::digest(format!("{org}\n{prefix}\n{key}").as_bytes());
    let mut id = prefix.to_owned();
    for byte in digest.iter().take(17) {
        id.push(char::from(BASE62[usize::from(*byte) % 62]));
    }
    id
}

fn toml_to_json(value: &toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(s) => s.clone().into(),
        toml::Value::Integer(i) => (*i).into(),
        toml::Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, serde_json::Value::Number)
        }
        toml::Value::Boolean(b) => (*b).into(),
        toml::Value::Datetime(d) => d.to_string().into(),
        toml::Value::Array(items) => items.iter().map(toml_to_json).collect(),
        toml::Value::Table(table) => table.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const NOW: OffsetDateTime = time::macros::datetime!(2024-01-01 00:00 UTC);

    /// One user, one group holding them, and one SAML app assigned to the
    /// group. The tests of the other loaders add their own sections to it.
    pub(super) const MINIMAL: &str = r#"
[org]
name = "acme"
url = "http://127.0.0.1:7000/"
api_token = "t"

[[users]]
login = "alice@acme.test"
first_name = "Alice"
last_name = "Anderson"

[[groups]]
name = "Everyone"
members = ["ALICE@acme.test"]

[[apps]]
name = "sp"
sign_on_mode = "SAML_2_0"
[apps.saml]
sso_url = "http://sp.test/acs"
audience = "http://sp.test"
[[apps.groups]]
group = "Everyone"
"#;

    /// The message of the error that loading `text` fails with.
    pub(super) fn error_of(text: &str) -> String {
        match parse_org("org.toml", text, NOW) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn minimal_org_loads_with_derived_stable_ids() {
        let org = parse_org("org.toml", MINIMAL, NOW).unwrap();
        let again = parse_org("org.toml", MINIMAL, NOW).unwrap();
        assert_eq!(org.url, "http://127.0.0.1:7000");
        assert_eq!(org.email_domain, "acme.test");
        let alice = org.find_user("alice@acme.test").unwrap();
        assert_eq!(again.find_user("alice@ACME.test").unwrap().id, alice.id);
        let app = org.find_app("sp").unwrap();
        assert!(org.is_assigned(app, &alice.id), "group assignment counts");
        assert_eq!(org.find_app(app.id.as_str()).unwrap().name, "sp");
    }

    #[test]
    fn saml_apps_get_a_stable_derived_external_key_and_oktas_instance_name() {
        let text = format!(
            "{MINIMAL}\n[[apps]]\nname = \"S.P\"\nsign_on_mode = \"SAML_2_0\"\n[apps.saml]\nsso_url = \"http://sp.test/acs\"\naudience = \"http://sp.test/2\"\n"
        );
        let org = parse_org("org.toml", &text, NOW).unwrap();
        let first = org.find_app("sp").and_then(App::saml).unwrap();
        let second = org.find_app("S.P").and_then(App::saml).unwrap();
        assert_eq!(first.external_key.as_str(), derived_id("exk", "acme", "sp"));
        assert!(first.external_key.as_str().starts_with("exk") && first.external_key.as_str().len() == 20);
        assert_ne!(first.external_key, second.external_key);
        assert_eq!(first.idp_entity_id().as_str(), format!("http://www.okta.com/{}", first.external_key));
        // The same slug twice counts up, as Okta's instance names do.
        assert_eq!((first.instance_name.as_str(), second.instance_name.as_str()), ("acme_sp_1", "acme_sp_2"));
        let again = parse_org("org.toml", &text, NOW).unwrap();
        assert_eq!(again.find_app("sp").and_then(App::saml).unwrap().external_key, first.external_key);
    }

    #[test]
    fn external_key_is_taken_from_the_file_and_checked() {
        let with_key =
            |key: &str| MINIMAL.replace("name = \"sp\"\n", &format!("name = \"sp\"\nexternal_key = \"{key}\"\n"));
        let org = parse_org("org.toml", &with_key("exkABCDEFGHIJKLMNOPQ"), NOW).unwrap();
        assert_eq!(org.find_app("sp").and_then(App::saml).unwrap().external_key.as_str(), "exkABCDEFGHIJKLMNOPQ");
        assert_eq!(
            error_of(&with_key("0oaABCDEFGHIJKLMNOPQ")),
            "org.toml: apps[0].external_key: '0oaABCDEFGHIJKLMNOPQ' is not an Okta id: it must start with 'exk' and be 20 letters or digits"
        );
        let twice = format!(
            "{}\n[[apps]]\nname = \"other\"\nexternal_key = \"exkABCDEFGHIJKLMNOPQ\"\nsign_on_mode = \"SAML_2_0\"\n[apps.saml]\nsso_url = \"http://sp.test/acs\"\naudience = \"http://sp.test/2\"\n",
            with_key("exkABCDEFGHIJKLMNOPQ")
        );
        assert_eq!(
            error_of(&twice),
            "org.toml: apps[1].external_key: 'exkABCDEFGHIJKLMNOPQ' is used by an earlier app"
        );
        let oidc = format!(
            "{MINIMAL}\n[[apps]]\nname = \"web\"\nexternal_key = \"exkABCDEFGHIJKLMNOPQ\"\nsign_on_mode = \"OPENID_CONNECT\"\n"
        );
        assert_eq!(error_of(&oidc), "org.toml: apps[1].external_key: only SAML apps have an external key");
    }

    #[test]
    fn bad_url_names_field() {
        let text = MINIMAL.replace("http://sp.test/acs", "not a url");
        assert_eq!(error_of(&text), "org.toml: apps[0].saml.sso_url: 'not a url' is not an absolute http or https URL");
    }

    #[test]
    fn unknown_group_member_names_field() {
        let text = MINIMAL.replace("ALICE@acme.test", "bob@acme.test");
        assert_eq!(error_of(&text), "org.toml: groups[0].members[0]: no user 'bob@acme.test' in this org");
    }

    #[test]
    fn toml_syntax_error_names_line() {
        let message = error_of("[org]\nname = \n");
        assert!(message.starts_with("org.toml: line 2, column"), "{message}");
        assert!(!message.contains('\n'));
    }

    #[test]
    fn unknown_field_is_rejected() {
        let text = MINIMAL.replace("audience =", "audiense = \"x\"\naudience =");
        let message = error_of(&text);
        assert!(message.contains("audiense"), "{message}");
    }

    proptest::proptest! {
        #[test]
        fn prop_org_loader_never_panics_on_arbitrary_text(text in ".{0,300}") {
            let _ = parse_org("org.toml", &text, NOW);
        }

        #[test]
        fn prop_org_loader_never_panics_on_mutated_org_files(cut in 0usize..4000, insert in ".{0,12}", delete in 0usize..40) {
            let base = include_str!("../../../../fixtures/orgs/acme.toml");
            let at = (0..=cut.min(base.len())).rev().find(|i| base.is_char_boundary(*i)).unwrap_or(0);
            let end = (at..=(at + delete).min(base.len())).rev().find(|i| base.is_char_boundary(*i)).unwrap_or(at);
            let mutated = format!("{}{}{}", &base[..at], insert, &base[end..]);
            if let Err(error) = parse_org("org.toml", &mutated, NOW) {
                let message = error.to_string();
                proptest::prop_assert!(!message.contains('\n'), "one line: {}", message);
                proptest::prop_assert!(message.starts_with("org.toml: "));
            }
        }
    }

    #[test]
    fn default_org_file_loads() {
        let org = parse_org("acme.toml", include_str!("../../../../fixtures/orgs/acme.toml"), NOW).unwrap();
        let app = org.find_app("reference-sp").unwrap();
        let alice = org.find_user("alice@acme.test").unwrap();
        assert!(org.is_assigned(app, &alice.id));
        assert_eq!(app.saml().unwrap().sso_url.as_str(), "http://127.0.0.1:7100/sso/acs/acme");
        assert_eq!(org.url, "http://127.0.0.1:7000");
    }

    #[test]
    fn bad_signing_mode_names_field() {
        let text =
            MINIMAL.replace("audience = \"http://sp.test\"", "audience = \"http://sp.test\"\nsigning = \"neither\"");
        assert_eq!(
            error_of(&text),
            "org.toml: apps[0].saml.signing: 'neither' is not one of both, response, assertion"
        );
    }

    #[test]
    fn reserved_claim_names_are_refused() {
        let text = format!(
            "{}\n[[authorization_servers]]\nid = \"default\"\n[[authorization_servers.claims]]\nname = \"sub\"\ntoken = \"id_token\"\nvalue = \"user.email\"\n",
            crate::setup::BUILTIN_ORG.split("[[authorization_servers]]").next().unwrap_or_default()
        );
        assert_eq!(
            error_of(&text),
            "org.toml: authorization_servers[0].claims[0].name: 'sub' is a reserved claim and cannot be customised"
        );
    }
}
