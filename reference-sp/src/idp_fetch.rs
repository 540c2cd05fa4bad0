//! Loading each tenant's IdP metadata, from its URL or file: at start, when a
//! sign-in finds none, and when the admin API asks for a refresh.

use std::path::Path;
use std::time::Duration;

use crate::config::{IdpSource, TenantConfig};
use crate::saml::SamlError;
use crate::saml::metadata::parse_idp_metadata;
use crate::sp::{Sp, SpError};

/// The largest metadata document accepted.
const MAX_METADATA_BYTES: usize = 1024 * 1024;

/// The HTTP clients for everything the SP fetches from an IdP: SAML
/// metadata here, and the OIDC provider's documents and endpoints in
/// `oidc_fetch`. They trust the built-in roots and, when the config names
/// one (`extra_ca_file`), the certificates of one more file, such as the CA
/// of `mockta idp --tls`: an HTTPS issuer can then be tested without
/// relaxing certificate checks.
#[derive(Clone, Debug)]
pub struct IdpClients {
    /// OIDC provider requests: no redirects (a provider's endpoints are
    /// where its discovery document says), a timeout, and the connection
    /// pool shared.
    pub(crate) provider: reqwest::Client,
    /// SAML metadata: at most three redirects.
    pub(crate) metadata: reqwest::Client,
}

impl IdpClients {
    /// Builds the clients, reading `extra_ca_file` (PEM, one or more
    /// certificates) if given. The error is one line naming the file.
    pub fn new(extra_ca_file: Option<&Path>) -> Result<Self, String> {
        let extra = match extra_ca_file {
            None => Vec::new(),
            Some(path) => {
                let problem = |what: String| format!("{}: {what}", path.display());
                let pem = std::fs::read(path).map_err(|e| problem(format!("cannot be read: {e}")))?;
                let certificates = reqwest::Certificate::from_pem_bundle(&pem)
                    .map_err(|e| problem(format!("not PEM certificates: {e}")))?;
                if certificates.is_empty() {
                    return Err(problem("holds no PEM certificate".into()));
                }
                certificates
            }
        };
        let build = |redirect: reqwest::redirect::Policy| {
            let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(10)).redirect(redirect);
            for certificate in &extra {
                builder = builder.add_root_certificate(certificate.clone());
            }
            builder.build().map_err(|e| match extra_ca_file {
                Some(path) => format!("{}: cannot be trusted: {e}", path.display()),
                None => format!("cannot make an HTTP client: {e}"),
            })
        };
        Ok(IdpClients {
            provider: build(reqwest::redirect::Policy::none())?,
            metadata: build(reqwest::redirect::Policy::limited(3))?,
        })
    }
}

/// Fetches and installs one tenant's metadata.
pub async fn refresh(sp: &Sp, tenant: &TenantConfig) -> Result<(), SpError> {
    let saml = tenant.saml.as_ref().ok_or_else(|| SpError::SamlNotConfigured(tenant.id.clone()))?;
    let xml = match &saml.idp {
        IdpSource::Url(url) => {
            let client = &sp.idp_clients().map_err(|e| SamlError::Metadata(e.to_owned()))?.metadata;
            let response = client.get(url).send().await.map_err(|e| SamlError::Metadata(format!("{url}: {e}")))?;
            if !response.status().is_success() {
                return Err(SamlError::Metadata(format!("{url}: HTTP {}", response.status())).into());
            }
            let bytes = response.bytes().await.map_err(|e| SamlError::Metadata(format!("{url}: {e}")))?;
            if bytes.len() > MAX_METADATA_BYTES {
                return Err(SamlError::Metadata(format!("{url}: larger than {MAX_METADATA_BYTES} bytes")).into());
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        IdpSource::File(path) => tokio::fs::read_to_string(path)
            .await
            .map_err(|e| SamlError::Metadata(format!("{}: {e}", path.display())))?,
    };
    let mut metadata = parse_idp_metadata(&xml)?;
    // The pin-first-idp-certificate flaw: the certificates read first stay
    // the only ones trusted, whatever the IdP publishes since.
    if !sp.policy.idp_metadata_refresh_takes_certificates
        && let Some(first) = sp.idp_metadata(&tenant.id)
    {
        metadata.certificates = first.certificates;
    }
    sp.set_idp_metadata(&tenant.id, metadata);
    Ok(())
}

/// Loads every tenant's metadata; a failure is logged and retried at the
/// tenant's next sign-in, so an IdP that starts later is still picked up.
pub async fn refresh_all(sp: &Sp) {
    for tenant in sp.config().tenants.iter().filter(|t| t.saml.is_some()) {
        if let Err(error) = refresh(sp, tenant).await {
            tracing::warn!(tenant = %tenant.id, error = ?error.to_string(), "IdP metadata not loaded yet");
        }
    }
}

/// Loads a tenant's metadata if the SP has none yet.
pub async fn ensure(sp: &Sp, tenant_id: &str) -> Result<(), SpError> {
    let (tenant, _) = sp.saml_tenant(tenant_id)?;
    if sp.idp_metadata(&tenant.id).is_none() {
        refresh(sp, tenant).await?;
    }
    Ok(())
}

/// The `break-glass-needs-idp` flaw's gate before the break-glass admin
/// gets in: with SSO required, the tenant's IdP metadata is loaded again,
/// as the SSO login loads it, and the admin is refused when that fails or
/// the signing certificates are no longer those the SP had. The correct SP
/// never asks the IdP anything here: the break-glass admin is the way in
/// for when the IdP is down, unreachable or changed.
pub async fn break_glass_gate(sp: &Sp, tenant_id: &str) -> Result<(), SpError> {
    if !sp.policy.break_glass_needs_idp {
        return Ok(());
    }
    let tenant = sp.tenant(tenant_id)?;
    if tenant.saml.is_none() || !sp.settings(tenant)?.sso_required {
        return Ok(());
    }
    let before = sp.idp_metadata(&tenant.id).map(|metadata| metadata.certificates);
    refresh(sp, tenant).await?;
    let after = sp.idp_metadata(&tenant.id).map(|metadata| metadata.certificates);
    if before.is_some() && before != after {
        return Err(SamlError::Metadata(format!("tenant {}'s IdP signing certificate changed", tenant.id)).into());
    }
    Ok(())
}
