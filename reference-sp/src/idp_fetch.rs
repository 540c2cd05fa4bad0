//! Loading each tenant's IdP metadata, from its URL or file: at start, when a
//! sign-in finds none, and when the admin API asks for a refresh.

use std::time::Duration;

use crate::config::{IdpSource, TenantConfig};
use crate::saml::SamlError;
use crate::saml::metadata::parse_idp_metadata;
use crate::sp::{Sp, SpError};

/// The largest metadata document accepted.
const MAX_METADATA_BYTES: usize = 1024 * 1024;

/// Fetches and installs one tenant's metadata.
pub async fn refresh(sp: &Sp, tenant: &TenantConfig) -> Result<(), SpError> {
    let saml = tenant.saml.as_ref().ok_or_else(|| SpError::SamlNotConfigured(tenant.id.clone()))?;
    let xml = match &saml.idp {
        IdpSource::Url(url) => {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::limited(3))
                .build()
                .map_err(|e| SamlError::Metadata(e.to_string()))?;
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
    let metadata = parse_idp_metadata(&xml)?;
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
