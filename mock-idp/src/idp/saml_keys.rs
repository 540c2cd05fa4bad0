//! SAML signing certificate rollover, as an Okta admin does it for one app:
//! Okta generates a new signing certificate ("Generate new certificate" on
//! the app's Sign On tab), the SP is given it before anything is signed
//! with it (the overlap), and the admin then activates it, after which the
//! app signs with the new key. Okta hands the new certificate out through
//! the Sign On tab and its metadata preview for that key (`?kid=`); the mock
//! lists it in the app's metadata itself, after the active one, so that an
//! SP that refreshes its metadata during the overlap learns it there. Once
//! activated, the metadata lists only the new certificate.
//!
//! The generated keys live in memory only, as the OIDC key rotations of a
//! suite run do, so a rollover never changes the key folder; a snapshot
//! taken before ([`Idp::saml_keys`]) puts the app back as it was
//! ([`Idp::restore_saml_keys`]).

use std::sync::PoisonError;

use super::{Idp, IdpError};
use crate::ids::AppId;
use crate::keys::SigningCredential;

/// An app's SAML signing keys: the one it signs with, and those generated
/// for a rollover that its metadata publishes after it.
#[derive(Clone, Debug)]
pub struct SamlKeys {
    pub active: SigningCredential,
    pub generated: Vec<SigningCredential>,
}

impl Idp {
    /// The keys generated for the app's rollover and not active yet.
    pub(super) fn generated_saml_keys(&self, app: &AppId) -> Vec<SigningCredential> {
        self.generated_saml_keys.read().unwrap_or_else(PoisonError::into_inner).get(app).cloned().unwrap_or_default()
    }

    /// Okta's "Generate new certificate" for a SAML app: a new key and
    /// certificate, created now, which the app's metadata lists after the
    /// active one from now on. The app keeps signing with its active key.
    pub fn generate_saml_key(&self, app: &AppId) -> Result<SigningCredential, IdpError> {
        let org_name = self
            .read_org(|org| org.apps.get(app).filter(|a| a.saml().is_some()).map(|_| org.name.clone()))
            .ok_or_else(|| IdpError::AppNotFound(app.to_string()))?;
        // Make sure the active key exists first, so the new one is never
        // taken for it.
        self.saml_credential(app)?;
        let fresh = SigningCredential::generate(&org_name, self.now()).map_err(|e| IdpError::Key(e.to_string()))?;
        self.generated_saml_keys
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(app.clone())
            .or_default()
            .push(fresh.clone());
        Ok(fresh)
    }

    /// Switches the app to a generated key, named by its certificate's
    /// SHA-256 fingerprint (Okta's activation of a certificate): responses
    /// are signed with it from now on, and the metadata lists it alone, the
    /// previous certificate no longer.
    pub fn activate_saml_key(&self, app: &AppId, fingerprint: &str) -> Result<(), IdpError> {
        let mut generated = self.generated_saml_keys.write().unwrap_or_else(PoisonError::into_inner);
        let keys = generated.get_mut(app);
        let position = keys.as_ref().and_then(|keys| keys.iter().position(|k| k.fingerprint() == fingerprint));
        let (Some(keys), Some(position)) = (keys, position) else {
            return Err(IdpError::Key(format!("the app {app} has no generated key with fingerprint {fingerprint}")));
        };
        let chosen = keys.remove(position);
        self.credentials.write().unwrap_or_else(PoisonError::into_inner).insert(app.clone(), chosen);
        Ok(())
    }

    /// The app's signing keys now, to put back with
    /// [`Idp::restore_saml_keys`].
    pub fn saml_keys(&self, app: &AppId) -> Result<SamlKeys, IdpError> {
        Ok(SamlKeys { active: self.saml_credential(app)?, generated: self.generated_saml_keys(app) })
    }

    /// Puts the app's signing keys back as a snapshot had them.
    pub fn restore_saml_keys(&self, app: &AppId, keys: SamlKeys) {
        self.credentials.write().unwrap_or_else(PoisonError::into_inner).insert(app.clone(), keys.active);
        let mut generated = self.generated_saml_keys.write().unwrap_or_else(PoisonError::into_inner);
        if keys.generated.is_empty() {
            generated.remove(app);
        } else {
            generated.insert(app.clone(), keys.generated);
        }
    }
}
