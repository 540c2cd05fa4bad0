//! `mockta target init`: an org file and a target file from what a vendor
//! already has (its SP's SAML metadata, an OIDC redirect URI, a SCIM base URL
//! and credentials) and the few answers nothing else gives (where its session
//! shows, and where the identity is in it).
//!
//! Pure: the edge (src/target_init.rs) fetches the metadata and the session
//! URL and writes the files. The output is the same for the same input: the
//! apps' ids are left out, so the org loader derives them from the org and
//! app names, and secrets are derived from what they protect.

use sha2::{Digest, Sha256};

use crate::runner::{ConsumerService, SpDescriptor, read_sp_descriptor};

/// The name of the org file init writes; the target names it relative to
/// itself, so the two files are moved together.
pub const ORG_FILE_NAME: &str = "org.toml";
/// The name of the target file init writes.
pub const TARGET_FILE_NAME: &str = "target.toml";
/// The org's name, from which the loader derives every id.
pub const ORG_NAME: &str = "mockta-init";
/// The org's management API token: a development default, printed in the org file.
const API_TOKEN: &str = "mockta-dev-ssws-token";
const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// Whether the relying party keeps a secret (Okta's "Web" app) or cannot
/// (a browser app: PKCE, no secret).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OidcClientType {
    Public,
    Confidential,
}

/// What the vendor knows of its OIDC relying party.
#[derive(Clone, Debug)]
pub struct OidcOptions {
    pub redirect_uri: String,
    pub client_type: OidcClientType,
    /// `client_secret_basic` (Okta's default) or `client_secret_post`; a
    /// public client always uses `none`.
    pub auth_method: Option<String>,
    /// Where the relying party starts a sign-in.
    pub login_url: String,
    /// The login URL's parameter naming where to go after sign-in, for the
    /// open redirect check.
    pub return_parameter: Option<String>,
    /// The relying party's hook that redeems its refresh token now, for the
    /// refresh checks.
    pub refresh_url: Option<String>,
}

/// How Okta authenticates to the SP's SCIM server.
#[derive(Clone, Debug)]
pub enum ScimCredentials {
    Bearer(String),
    Basic { user_name: String, password: String },
}

/// What the vendor knows of its SCIM server.
#[derive(Clone, Debug)]
pub struct ScimOptions {
    pub base_url: String,
    pub credentials: ScimCredentials,
    /// `oin`, `oin_patch` or `wizard`; `oin` when `None`.
    pub profile: Option<String>,
}

/// Everything init writes the files from.
#[derive(Clone, Debug)]
pub struct InitInput {
    /// The SP's SAML metadata (XML text).
    pub saml_metadata: String,
    /// Where the metadata came from when it was a URL: the target then reads
    /// it again at each run, so a changed declaration is seen.
    pub saml_metadata_url: Option<String>,
    /// Where SP-initiated SAML sign-in starts (not in SAML metadata).
    pub saml_login_url: String,
    pub oidc: Option<OidcOptions>,
    pub scim: Option<ScimOptions>,
    /// Where the SP shows a browser's session.
    pub session_url: String,
    /// JSON pointer to the identity (the email) in the session's answer.
    pub identity_pointer: String,
    pub name_pointer: Option<String>,
    pub groups_pointer: Option<String>,
    /// The SP creates accounts at first sign-in.
    pub jit: bool,
    /// The email domains the SP accepts (empty: not declared).
    pub email_domains: Vec<String>,
    /// Where the SP expects the mock IdP, such as `127.0.0.1:7000`.
    pub idp_listen: String,
}

/// The two files, as text, and what the vendor must configure in its SP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitFiles {
    pub org_toml: String,
    pub target_toml: String,
    /// The SAML app's name in the org (its ids are derived from it).
    pub saml_app: String,
    /// The OIDC app's name in the org, when there is one.
    pub oidc_app: Option<String>,
    /// The OIDC client secret init derived, for a confidential client.
    pub oidc_client_secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitError {
    #[error("--saml-metadata: {0}")]
    Metadata(String),
    #[error("{option}: {problem}")]
    Input { option: &'static str, problem: String },
}

fn input_error(option: &'static str, problem: impl Into<String>) -> InitError {
    InitError::Input { option, problem: problem.into() }
}

/// Whether `value`, given for `option`, is an absolute http or https URL.
/// Public so that the edge can check an answer typed on a terminal at once
/// and ask again, instead of failing after the last question.
pub fn check_absolute_url(option: &'static str, value: &str) -> Result<(), InitError> {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        _ => Err(input_error(option, format!("'{value}' is not an absolute http or https URL"))),
    }
}

/// Whether `value`, given for `option`, has the shape of a JSON pointer
/// (RFC 6901: empty or starting with `/`; the empty pointer, the whole
/// answer, is never an email, so it is refused too).
pub fn check_json_pointer(option: &'static str, value: &str) -> Result<(), InitError> {
    if value.starts_with('/') { Ok(()) } else { Err(input_error(option, format!("'{value}' must start with '/'"))) }
}

/// What the SP's answer to the one GET of its session URL, sent before any
/// sign-in and so without a session, says about that URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionUrlAnswer {
    /// 401: no session yet, which is what the suite expects.
    NoSession,
    /// A 2xx: usable only if it carries no identity without a session.
    Success,
    /// 404 or 410: the SP has no such page, so the URL is most likely mistyped.
    NoSuchPage,
    /// Any other status, which the suite takes as no session only when the
    /// target lists it in `session.no_session_status`.
    Other,
}

impl SessionUrlAnswer {
    pub fn from_status(status: u16) -> Self {
        match status {
            401 => SessionUrlAnswer::NoSession,
            200..=299 => SessionUrlAnswer::Success,
            404 | 410 => SessionUrlAnswer::NoSuchPage,
            _ => SessionUrlAnswer::Other,
        }
    }

    /// What the answer means for the target, said after the status.
    pub fn meaning(self) -> &'static str {
        match self {
            SessionUrlAnswer::NoSession => "no session yet, as expected",
            SessionUrlAnswer::Success => "a 2xx without a session must not carry the identity",
            SessionUrlAnswer::NoSuchPage => "the SP has no such page, so the URL is likely mistyped",
            SessionUrlAnswer::Other => {
                "the suite takes only 401 (or a 2xx without the identity) as no session; set session.no_session_status otherwise"
            }
        }
    }
}

/// A TOML basic string, quoted and escaped.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn quoted_list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|item| quoted(item)).collect::<Vec<_>>().join(", "))
}

/// A PEM certificate from the base64 DER that metadata carries, as the org
/// file takes certificates.
fn pem_certificate(base64_der: &str) -> String {
    let lines: Vec<String> =
        base64_der.as_bytes().chunks(64).map(|chunk| String::from_utf8_lossy(chunk).into_owned()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// An app name from the SP's entity id: the letters, digits, `.`, `-` and
/// `_` the org file allows in names (they appear in URLs), the rest as `-`.
fn app_name_from_entity_id(entity_id: &str) -> String {
    let without_scheme = entity_id.split_once("://").map_or(entity_id, |(_, rest)| rest);
    let mut name = String::new();
    for character in without_scheme.chars() {
        let kept = if character.is_ascii_alphanumeric() || matches!(character, '.' | '_') { character } else { '-' };
        if kept == '-' && (name.is_empty() || name.ends_with('-')) {
            continue;
        }
        name.push(kept.to_ascii_lowercase());
    }
    let name: String = name.trim_end_matches('-').chars().take(48).collect();
    let name = name.trim_end_matches('-').to_owned();
    if name.is_empty() { "sp".to_owned() } else { name }
}

/// The default ACS, as Okta's "Single sign-on URL" takes it: the
/// `isDefault` HTTP-POST service, else the one with the lowest index, else
/// the first (SAML Metadata 2.4.4.1's order).
fn default_consumer_service(services: &[&ConsumerService]) -> Option<usize> {
    if let Some(position) = services.iter().position(|service| service.is_default) {
        return Some(position);
    }
    let lowest = services.iter().enumerate().filter_map(|(position, s)| s.index.map(|i| (i, position))).min();
    lowest.map(|(_, position)| position).or(if services.is_empty() { None } else { Some(0) })
}

/// A development client secret derived from the redirect URI, so the same
/// input writes the same org file.
fn derived_secret(redirect_uri: &str) -> String {
    let digest = Sha256::digest(format!("mockta-init-oidc-secret:{redirect_uri}").as_bytes());
    let hex: String = digest.iter().take(16).map(|byte| format!("{byte:02x}")).collect();
    format!("mockta-dev-{hex}")
}

/// Reads the SP's metadata and writes the org and target files.
pub fn generate(input: &InitInput) -> Result<InitFiles, InitError> {
    let descriptor = read_sp_descriptor(&input.saml_metadata).map_err(InitError::Metadata)?;
    validate(input)?;
    let post_services: Vec<&ConsumerService> =
        descriptor.consumer_services.iter().filter(|service| service.binding == BINDING_POST).collect();
    let default = default_consumer_service(&post_services).ok_or_else(|| {
        InitError::Metadata(
            "no AssertionConsumerService has the HTTP-POST binding, the only one Okta sends responses with".into(),
        )
    })?;
    let saml_app = app_name_from_entity_id(&descriptor.entity_id);
    let oidc_app = input.oidc.as_ref().map(|_| format!("{saml_app}-oidc"));
    let oidc_client_secret = input.oidc.as_ref().and_then(|oidc| match oidc.client_type {
        OidcClientType::Confidential => Some(derived_secret(&oidc.redirect_uri)),
        OidcClientType::Public => None,
    });
    let org_toml = org_file(input, &descriptor, &post_services, default, &saml_app, oidc_client_secret.as_deref());
    let target_toml = target_file(input, &descriptor, &saml_app, oidc_app.as_deref());
    Ok(InitFiles { org_toml, target_toml, saml_app, oidc_app, oidc_client_secret })
}

fn validate(input: &InitInput) -> Result<(), InitError> {
    check_absolute_url("--login-url", &input.saml_login_url)?;
    check_absolute_url("--session-url", &input.session_url)?;
    check_json_pointer("--identity-pointer", &input.identity_pointer)?;
    if let Some(pointer) = &input.name_pointer {
        check_json_pointer("--name-pointer", pointer)?;
    }
    if let Some(pointer) = &input.groups_pointer {
        check_json_pointer("--groups-pointer", pointer)?;
    }
    if let Some(url) = &input.saml_metadata_url {
        check_absolute_url("--saml-metadata", url)?;
    }
    if input.idp_listen.parse::<core::net::SocketAddr>().is_err() {
        return Err(input_error("--idp-listen", format!("'{}' is not an address:port", input.idp_listen)));
    }
    for domain in &input.email_domains {
        if domain.trim().is_empty() || domain.contains('@') || domain.contains(char::is_whitespace) {
            return Err(input_error("--email-domain", format!("'{domain}' is not a domain name")));
        }
    }
    if let Some(oidc) = &input.oidc {
        check_absolute_url("--oidc-redirect-uri", &oidc.redirect_uri)?;
        check_absolute_url("--oidc-login-url", &oidc.login_url)?;
        if let Some(refresh_url) = &oidc.refresh_url {
            check_absolute_url("--oidc-refresh-url", refresh_url)?;
        }
        match (oidc.client_type, oidc.auth_method.as_deref()) {
            (OidcClientType::Public, None | Some("none")) => {}
            (OidcClientType::Public, Some(other)) => {
                return Err(input_error(
                    "--oidc-auth-method",
                    format!("'{other}' needs a secret, which a public client has none of; leave it out"),
                ));
            }
            (OidcClientType::Confidential, None | Some("client_secret_basic" | "client_secret_post")) => {}
            (OidcClientType::Confidential, Some(other)) => {
                return Err(input_error(
                    "--oidc-auth-method",
                    format!("'{other}' is not client_secret_basic or client_secret_post"),
                ));
            }
        }
    }
    if let Some(scim) = &input.scim {
        check_absolute_url("--scim-base-url", &scim.base_url)?;
        if let Some(profile) = &scim.profile
            && mock_idp::org::provisioning::RequestProfile::parse(profile).is_none()
        {
            return Err(input_error(
                "--scim-profile",
                format!("'{profile}' is not one of Okta's profiles: oin, oin_patch or wizard"),
            ));
        }
        match &scim.credentials {
            ScimCredentials::Bearer(token) if token.trim().is_empty() => {
                return Err(input_error("--scim-token", "must not be empty"));
            }
            ScimCredentials::Basic { user_name, .. } if user_name.is_empty() || user_name.contains(':') => {
                return Err(input_error("--scim-basic", "must be USER:PASSWORD"));
            }
            _ => {}
        }
    }
    Ok(())
}

fn org_file(
    input: &InitInput,
    descriptor: &SpDescriptor,
    post_services: &[&ConsumerService],
    default: usize,
    saml_app: &str,
    oidc_client_secret: Option<&str>,
) -> String {
    let mut text = String::new();
    text.push_str(&format!(
        "# Written by `mockta target init` from the SP metadata of {}.\n# The mock Okta org the target file serves: one SAML app set up as an Okta\n# admin would from that metadata{}{}.\n# App ids are left out: the loader derives them from the org and app names.\n\n",
        descriptor.entity_id,
        if input.oidc.is_some() { ", an OIDC app for the redirect URI" } else { "" },
        if input.scim.is_some() { ", and provisioning to the SCIM server" } else { "" },
    ));
    let email_domain =
        input.email_domains.first().map(|d| d.trim().to_ascii_lowercase()).unwrap_or_else(|| "example.test".to_owned());
    text.push_str(&format!(
        "[org]\nname = {}\nurl = {}\n# Development default only: authenticates the management API as `SSWS {API_TOKEN}`.\napi_token = {}\n# The suite's canary users get emails on this domain.\nemail_domain = {}\n\n",
        quoted(ORG_NAME),
        quoted(&format!("http://{}", input.idp_listen)),
        quoted(API_TOKEN),
        quoted(&email_domain),
    ));
    text.push_str(&format!(
        "[[apps]]\nname = {}\nlabel = {}\nsign_on_mode = \"SAML_2_0\"\n[apps.saml]\n",
        quoted(saml_app),
        quoted(&descriptor.entity_id)
    ));
    let sso_url = post_services.get(default).map(|service| service.location.clone()).unwrap_or_default();
    let others: Vec<String> = post_services
        .iter()
        .enumerate()
        .filter(|(position, service)| *position != default && service.location != sso_url)
        .map(|(_, service)| service.location.clone())
        .collect();
    text.push_str("# Okta's \"Single sign-on URL\": the SP's default HTTP-POST AssertionConsumerService.\n");
    text.push_str(&format!("sso_url = {}\n", quoted(&sso_url)));
    if !others.is_empty() {
        text.push_str("# Its other HTTP-POST services, Okta's \"Other Requestable SSO URLs\".\n");
        text.push_str(&format!("other_sso_urls = {}\n", quoted_list(&others)));
    }
    text.push_str("# Okta's \"Audience URI (SP Entity ID)\": the metadata's entityID.\n");
    text.push_str(&format!("audience = {}\n", quoted(&descriptor.entity_id)));
    text.push_str("name_id_format = \"emailAddress\"\nusername_template = \"email\"\n");
    text.push_str(&format!(
        "# Response and Assertion both signed, so the SP is served whichever it checks{}.\nsigning = \"both\"\n",
        if descriptor.want_assertions_signed { " (its metadata says WantAssertionsSigned)" } else { "" }
    ));
    let signing_certificate = descriptor.signing_certificates.first();
    if let (true, Some(_)) = (descriptor.authn_requests_signed, signing_certificate) {
        text.push_str("# The metadata says AuthnRequestsSigned: Okta's \"Signed Requests\" with its certificate.\n");
        text.push_str("require_signed_authn_requests = true\n");
    }
    let slo_post = descriptor.single_logout_services.iter().find(|(binding, _)| binding == BINDING_POST);
    if let (Some((_, slo_url)), Some(_)) = (slo_post, signing_certificate) {
        text.push_str(
            "# Okta's \"Allow application to initiate Single Logout\", at the SP's HTTP-POST SingleLogoutService.\n",
        );
        text.push_str(&format!("slo_url = {}\n", quoted(slo_url)));
    }
    if let Some(certificate) = signing_certificate
        && (descriptor.authn_requests_signed || slo_post.is_some())
    {
        text.push_str("# The SP's signing certificate from its metadata, Okta's \"Signature Certificate\".\n");
        text.push_str(&format!("request_signing_certificate = '''\n{}'''\n", pem_certificate(certificate)));
    }
    if descriptor.encryption_certificate.is_some() {
        text.push_str("# The metadata publishes an encryption key; Okta encrypts assertions only when the admin\n# turns it on, so this org does not. The suite's encryption checks find the key through\n# the target's saml.metadata_url (or saml.encryption_certificate_file).\n");
    }
    for (name, value) in [("firstName", "user.firstName"), ("lastName", "user.lastName"), ("email", "user.email")] {
        text.push_str(&format!("[[apps.saml.attributes]]\nname = {}\nvalue = {}\n", quoted(name), quoted(value)));
    }
    text.push_str("[[apps.saml.group_attributes]]\nname = \"groups\"\nfilter = \"regex\"\nvalue = \".*\"\n");
    if let Some(scim) = &input.scim {
        text.push_str(
            "# Okta's provisioning to the SP's SCIM server, on the same app as at Okta.\n[apps.provisioning]\n",
        );
        text.push_str(&format!("base_url = {}\n", quoted(&scim.base_url)));
        match &scim.credentials {
            ScimCredentials::Bearer(token) => {
                text.push_str(&format!("auth = \"bearer\"\ntoken = {}\n", quoted(token)));
            }
            ScimCredentials::Basic { user_name, password } => {
                text.push_str(&format!(
                    "auth = \"basic\"\nbasic_user = {}\nbasic_password = {}\n",
                    quoted(user_name),
                    quoted(password)
                ));
            }
        }
        text.push_str(&format!("profile = {}\n", quoted(scim.profile.as_deref().unwrap_or("oin"))));
    }
    if let Some(oidc) = &input.oidc {
        text.push_str(&format!(
            "\n[[apps]]\nname = {}\nlabel = {}\nsign_on_mode = \"OPENID_CONNECT\"\n[apps.oidc]\n",
            quoted(&format!("{saml_app}-oidc")),
            quoted(&format!("{} (OIDC)", descriptor.entity_id))
        ));
        match (oidc.client_type, oidc_client_secret) {
            (OidcClientType::Confidential, Some(secret)) => {
                text.push_str("# A confidential client (Okta's \"Web\" app).\napplication_type = \"web\"\n");
                text.push_str(&format!(
                    "# Development only: derived from the redirect URI.\nclient_secret = {}\n",
                    quoted(secret)
                ));
                text.push_str(&format!(
                    "token_endpoint_auth_method = {}\n",
                    quoted(oidc.auth_method.as_deref().unwrap_or("client_secret_basic"))
                ));
            }
            _ => {
                text.push_str("# A public client (Okta's \"Single-Page App\"): no secret, PKCE.\napplication_type = \"browser\"\ntoken_endpoint_auth_method = \"none\"\n");
            }
        }
        text.push_str(&format!("redirect_uris = {}\n", quoted_list(std::slice::from_ref(&oidc.redirect_uri))));
        text.push_str("grant_types = [\"authorization_code\", \"refresh_token\"]\n");
        text.push_str("groups_claim = { name = \"groups\", filter = \"regex\", value = \".*\" }\n");
    }
    text
}

fn target_file(input: &InitInput, descriptor: &SpDescriptor, saml_app: &str, oidc_app: Option<&str>) -> String {
    let mut text = String::new();
    text.push_str(&format!(
        "# Written by `mockta target init` from the SP metadata of {}.\n# How the conformance suite reaches the SP; run it with\n# `mockta check --target {TARGET_FILE_NAME}`.\n\n",
        descriptor.entity_id
    ));
    text.push_str(&format!(
        "[idp]\n# The org the suite serves, written beside this file.\norg = {}\n# Where the SP expects the mock IdP.\nlisten = {}\n\n",
        quoted(ORG_FILE_NAME),
        quoted(&input.idp_listen)
    ));
    text.push_str(&format!("[saml]\napp = {}\nlogin_url = {}\n", quoted(saml_app), quoted(&input.saml_login_url)));
    if let Some(url) = &input.saml_metadata_url {
        text.push_str(&format!("# Read at each run for what the SP declares.\nmetadata_url = {}\n", quoted(url)));
    }
    text.push_str(&format!("want_assertions_signed = {}\n", descriptor.want_assertions_signed));
    // Written as well as the metadata URL, so a target made from a metadata
    // file still runs saml.authn_request.signed.
    text.push_str(&format!("authn_requests_signed = {}\n", descriptor.authn_requests_signed));
    if let Some((_, slo_url)) = descriptor.single_logout_services.iter().find(|(binding, _)| binding == BINDING_POST) {
        text.push_str(&format!("slo_url = {}\n", quoted(slo_url)));
    }
    if let (Some(oidc), Some(app)) = (&input.oidc, oidc_app) {
        text.push_str(&format!("\n[oidc]\napp = {}\nlogin_url = {}\n", quoted(app), quoted(&oidc.login_url)));
        if let Some(parameter) = &oidc.return_parameter {
            text.push_str(&format!("return_parameter = {}\n", quoted(parameter)));
        }
        if let Some(refresh_url) = &oidc.refresh_url {
            text.push_str(&format!("refresh_url = {}\n", quoted(refresh_url)));
        }
    }
    if let Some(scim) = &input.scim {
        text.push_str(&format!("\n[scim]\nbase_url = {}\n", quoted(&scim.base_url)));
        match &scim.credentials {
            ScimCredentials::Bearer(token) => text.push_str(&format!("bearer_token = {}\n", quoted(token))),
            ScimCredentials::Basic { user_name, password } => {
                text.push_str(&format!("basic_auth = {}\n", quoted(&format!("{user_name}:{password}"))));
            }
        }
        text.push_str(&format!("profile = {}\n", quoted(scim.profile.as_deref().unwrap_or("oin"))));
    }
    text.push_str(&format!("\n[accounts]\njit = {}\n", input.jit));
    if input.email_domains.is_empty() {
        text.push_str(
            "# The email domains the SP accepts, when it limits them:\n# email_domains = [\"example.test\"]\n",
        );
    } else {
        let domains: Vec<String> = input.email_domains.iter().map(|d| d.trim().to_ascii_lowercase()).collect();
        text.push_str(&format!("email_domains = {}\n", quoted_list(&domains)));
    }
    text.push_str(&format!(
        "\n[session]\nurl = {}\njson_pointer = {}\n",
        quoted(&input.session_url),
        quoted(&input.identity_pointer)
    ));
    if let Some(pointer) = &input.name_pointer {
        text.push_str(&format!("name_pointer = {}\n", quoted(pointer)));
    }
    if let Some(pointer) = &input.groups_pointer {
        text.push_str(&format!("groups_pointer = {}\n", quoted(pointer)));
    }
    text.push_str(
        "\n# Admin actions with no standard API, which init cannot find; checks that need\n# them are skipped with the reason until they are filled in:\n# [hooks]\n# create_user = { method = \"POST\", url = \"https://sp.example/admin/users\", body = '{\"email\":\"{email}\",\"name\":\"{name}\"}' }\n# set_idp_initiated = { method = \"PATCH\", url = \"https://sp.example/admin/settings\", body = '{\"allow_idp_initiated\": {value}}' }\n\n[limits]\nconcurrency = 8\ntimeout_seconds = 10\n",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const METADATA: &str = r#"<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://sp.example/saml/metadata">
<md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>SIGNCERT</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>ENCCERT</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://sp.example/saml/slo-redirect"/>
<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example/saml/slo"/>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://sp.example/saml/artifact" index="0"/>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example/saml/acs/2" index="2"/>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example/saml/acs" index="1"/>
</md:SPSSODescriptor></md:EntityDescriptor>"#;

    fn input() -> InitInput {
        InitInput {
            saml_metadata: METADATA.to_owned(),
            saml_metadata_url: Some("https://sp.example/saml/metadata".into()),
            saml_login_url: "https://sp.example/login".into(),
            oidc: None,
            scim: None,
            session_url: "https://sp.example/api/me".into(),
            identity_pointer: "/user/email".into(),
            name_pointer: None,
            groups_pointer: None,
            jit: true,
            email_domains: vec!["Example.test".into()],
            idp_listen: "127.0.0.1:7000".into(),
        }
    }

    /// The files parse where the suite and the mock read them: the target
    /// with the suite's parser, the org with the mock's loader, and the
    /// target's apps are in the org.
    fn assert_loads(files: &InitFiles) {
        let target =
            crate::target::parse_target(TARGET_FILE_NAME, &files.target_toml, std::path::Path::new(".")).unwrap();
        let now = time::macros::datetime!(2026-01-01 00:00 UTC);
        let org = mock_idp::org::parse_org(ORG_FILE_NAME, &files.org_toml, now).unwrap();
        let names: Vec<&str> = org.apps.values().map(|app| app.name.as_str()).collect();
        assert!(names.contains(&target.saml.unwrap().app.as_str()), "{names:?}");
        if let Some(oidc) = target.oidc {
            assert!(names.contains(&oidc.app.as_str()), "{names:?}");
        }
    }

    #[test]
    fn saml_metadata_gives_an_org_and_a_target_that_load() {
        let files = generate(&input()).unwrap();
        assert_loads(&files);
        insta::assert_snapshot!("init_saml_org", files.org_toml);
        insta::assert_snapshot!("init_saml_target", files.target_toml);
    }

    #[test]
    fn a_confidential_oidc_client_and_bearer_scim_are_written_to_both_files() {
        let mut input = input();
        input.oidc = Some(OidcOptions {
            redirect_uri: "https://sp.example/oidc/callback".into(),
            client_type: OidcClientType::Confidential,
            auth_method: Some("client_secret_post".into()),
            login_url: "https://sp.example/oidc/login".into(),
            return_parameter: Some("next".into()),
            refresh_url: Some("https://sp.example/oidc/refresh".into()),
        });
        input.scim = Some(ScimOptions {
            base_url: "https://sp.example/scim/v2".into(),
            credentials: ScimCredentials::Bearer("a-token".into()),
            profile: Some("oin_patch".into()),
        });
        let files = generate(&input).unwrap();
        assert_loads(&files);
        assert_eq!(files, generate(&input).unwrap(), "the same input writes the same files");
        insta::assert_snapshot!("init_oidc_scim_org", files.org_toml);
        insta::assert_snapshot!("init_oidc_scim_target", files.target_toml);
    }

    #[test]
    fn a_public_oidc_client_and_basic_scim_are_written_to_both_files() {
        let mut input = input();
        input.saml_metadata_url = None;
        input.oidc = Some(OidcOptions {
            redirect_uri: "https://sp.example/oidc/callback".into(),
            client_type: OidcClientType::Public,
            auth_method: None,
            login_url: "https://sp.example/oidc/login".into(),
            return_parameter: None,
            refresh_url: None,
        });
        input.scim = Some(ScimOptions {
            base_url: "https://sp.example/scim/v2".into(),
            credentials: ScimCredentials::Basic { user_name: "okta".into(), password: "pa:ss".into() },
            profile: None,
        });
        let files = generate(&input).unwrap();
        assert_loads(&files);
        assert_eq!(files.oidc_client_secret, None);
        let target =
            crate::target::parse_target(TARGET_FILE_NAME, &files.target_toml, std::path::Path::new(".")).unwrap();
        assert!(matches!(
            target.scim.unwrap().auth,
            crate::target::ScimAuth::Basic { user_name, password } if user_name == "okta" && password == "pa:ss"
        ));
        insta::assert_snapshot!("init_public_basic_org", files.org_toml);
        insta::assert_snapshot!("init_public_basic_target", files.target_toml);
    }

    #[test]
    fn bad_input_names_the_option() {
        let mut bad = input();
        bad.session_url = "/whoami".into();
        assert_eq!(
            generate(&bad).unwrap_err().to_string(),
            "--session-url: '/whoami' is not an absolute http or https URL"
        );
        let mut bad = input();
        bad.identity_pointer = "email".into();
        assert_eq!(generate(&bad).unwrap_err().to_string(), "--identity-pointer: 'email' must start with '/'");
        let mut bad = input();
        bad.saml_metadata =
            "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"/>".into();
        assert_eq!(generate(&bad).unwrap_err().to_string(), "--saml-metadata: the metadata has no SPSSODescriptor");
        let mut bad = input();
        bad.saml_metadata = METADATA.replace(
            "bindings:HTTP-POST\" Location=\"https://sp.example/saml/acs",
            "bindings:PAOS\" Location=\"https://sp.example/saml/acs",
        );
        assert!(generate(&bad).unwrap_err().to_string().contains("HTTP-POST"));
        let mut bad = input();
        bad.oidc = Some(OidcOptions {
            redirect_uri: "https://sp.example/cb".into(),
            client_type: OidcClientType::Public,
            auth_method: Some("client_secret_basic".into()),
            login_url: "https://sp.example/oidc/login".into(),
            return_parameter: None,
            refresh_url: None,
        });
        assert!(generate(&bad).unwrap_err().to_string().starts_with("--oidc-auth-method: "));
    }

    #[test]
    fn the_metadata_is_read_for_every_service_key_and_flag() {
        let descriptor = read_sp_descriptor(METADATA).unwrap();
        assert_eq!(descriptor.entity_id, "https://sp.example/saml/metadata");
        assert!(descriptor.want_assertions_signed && descriptor.authn_requests_signed);
        assert_eq!(descriptor.signing_certificates, vec!["SIGNCERT".to_owned()]);
        assert_eq!(descriptor.encryption_certificate.as_deref(), Some("ENCCERT"));
        assert_eq!(descriptor.single_logout_services.len(), 2);
        let indexes: Vec<Option<u32>> = descriptor.consumer_services.iter().map(|s| s.index).collect();
        assert_eq!(indexes, vec![Some(0), Some(2), Some(1)]);
    }

    #[test]
    fn only_a_missing_page_makes_the_session_url_wrong() {
        let answers: Vec<SessionUrlAnswer> =
            [401, 200, 204, 404, 410, 403, 302, 500].into_iter().map(SessionUrlAnswer::from_status).collect();
        assert_eq!(
            answers,
            [
                SessionUrlAnswer::NoSession,
                SessionUrlAnswer::Success,
                SessionUrlAnswer::Success,
                SessionUrlAnswer::NoSuchPage,
                SessionUrlAnswer::NoSuchPage,
                SessionUrlAnswer::Other,
                SessionUrlAnswer::Other,
                SessionUrlAnswer::Other,
            ]
        );
    }

    #[test]
    fn app_names_keep_only_what_urls_allow() {
        assert_eq!(
            app_name_from_entity_id("http://127.0.0.1:7100/sso/metadata/acme"),
            "127.0.0.1-7100-sso-metadata-acme"
        );
        assert_eq!(app_name_from_entity_id("urn:Example:SP"), "urn-example-sp");
        assert_eq!(app_name_from_entity_id("///"), "sp");
    }
}
