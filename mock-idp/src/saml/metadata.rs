//! IdP metadata in the shape Okta serves at `/app/{exk…}/sso/saml/metadata`.

use super::xml::escape;
use crate::org::{App, NameIdFormat, SamlSettings};

const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// Okta's SSO URL for an app: `{org}/app/{org}_{appslug}_{n}/{exk…}/sso/saml`.
pub fn sso_url(org_url: &str, settings: &SamlSettings) -> String {
    format!("{org_url}/app/{}/{}/sso/saml", settings.instance_name, settings.external_key)
}

/// Okta's Single Logout URL for an app:
/// `{org}/app/{org}_{appslug}_{n}/{exk…}/slo/saml`, for both bindings.
pub fn slo_url(org_url: &str, settings: &SamlSettings) -> String {
    format!("{org_url}/app/{}/{}/slo/saml", settings.instance_name, settings.external_key)
}

/// Okta's metadata URL for an app: `{org}/app/{exk…}/sso/saml/metadata`.
pub fn metadata_url(org_url: &str, settings: &SamlSettings) -> String {
    format!("{org_url}/app/{}/sso/saml/metadata", settings.external_key)
}

/// Okta's IdP-initiated embed link for an app,
/// `{org}/home/{org}_{appslug}_{n}/{0oa…}/{aln…}`: unlike the SAML URLs it
/// carries the app id, not the external key.
pub fn embed_link(org_url: &str, app: &App, settings: &SamlSettings) -> String {
    format!("{org_url}/home/{}/{}/aln{}", settings.instance_name, app.id, &app.id.as_str()[3..])
}

/// Renders the metadata document. Each of `certificates` (base64 wrapped at
/// 76 columns) gets its own signing `KeyDescriptor`, in the order given: the
/// active certificate first, then any generated for a rollover that the app
/// does not sign with yet, so an SP that refreshes its metadata during the
/// overlap trusts both.
pub fn render(org_url: &str, settings: &SamlSettings, certificates: &[&str]) -> String {
    let sso = escape(&sso_url(org_url, settings));
    let mut formats = vec![NameIdFormat::Unspecified, NameIdFormat::EmailAddress];
    if !formats.contains(&settings.name_id_format) {
        formats.push(settings.name_id_format);
    }
    let formats: String = formats.iter().map(|f| format!("<md:NameIDFormat>{}</md:NameIDFormat>", f.urn())).collect();
    // Okta lists the Single Logout endpoints only when the app has Single
    // Logout on, POST first, before the NameID formats.
    let logout = match &settings.single_logout {
        Some(_) => {
            let slo = escape(&slo_url(org_url, settings));
            format!(
                "<md:SingleLogoutService Binding=\"{BINDING_POST}\" Location=\"{slo}\"/><md:SingleLogoutService Binding=\"{BINDING_REDIRECT}\" Location=\"{slo}\"/>"
            )
        }
        None => String::new(),
    };
    let keys: String = certificates
        .iter()
        .map(|certificate| {
            format!(
                "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data><ds:X509Certificate>{certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><md:EntityDescriptor entityID=\"{entity}\" xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"><md:IDPSSODescriptor WantAuthnRequestsSigned=\"false\" protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">{keys}{logout}{formats}<md:SingleSignOnService Binding=\"{BINDING_POST}\" Location=\"{sso}\"/><md:SingleSignOnService Binding=\"{BINDING_REDIRECT}\" Location=\"{sso}\"/></md:IDPSSODescriptor></md:EntityDescriptor>",
        entity = escape(settings.idp_entity_id().as_str()),
    )
}
