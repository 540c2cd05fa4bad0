//! The encrypted-assertion checks: the app encrypts its assertions to the
//! SP's certificate, as Okta's "Assertion Encryption" setting does, for the
//! length of one check (the checks are exclusive, so no other check sees
//! encrypted responses), and the setting is put back whatever happens.
//!
//! The SP's certificate comes from the target's `encryption_certificate_file`
//! or from an encryption `KeyDescriptor` in the SP's metadata. A target that
//! gives neither, or says `encrypted_assertions = false`, does not take
//! encrypted assertions, and the checks are skipped with that reason.

use std::sync::Arc;

use mock_idp::idp::Idp;
use mock_idp::saml::encrypt::{BlockAlgorithm, EncryptionRecipient, KeyTransport};

use super::{SamlDriver, evidence};
use crate::catalogue::{EncryptedCase, SamlAction};
use crate::runner::{Canary, Outcome, Step, StepError};

/// Where the SP's encryption certificate was found, or why the SP is taken
/// not to accept encrypted assertions.
enum Recipient {
    Certificate { pem: String, source: &'static str },
    NotTaken(String),
}

/// Turns the app's assertion encryption on and, when dropped, back to what
/// it was, so a check that fails half-way leaves the org as it found it.
struct EncryptionSwitch {
    idp: Arc<Idp>,
    app: String,
    previous: Option<EncryptionRecipient>,
}

impl EncryptionSwitch {
    fn on(idp: Arc<Idp>, app: &str, recipient: EncryptionRecipient) -> Step<EncryptionSwitch> {
        let previous = idp.write_org(|org| {
            let settings =
                org.apps.values_mut().find(|a| a.id.to_string() == app || a.name == app).and_then(|a| a.saml_mut())?;
            Some(settings.assertion_encryption.replace(recipient))
        });
        let previous = previous.ok_or_else(|| StepError(format!("the SAML app {app} is not in the org")))?;
        Ok(EncryptionSwitch { idp, app: app.to_owned(), previous })
    }
}

impl Drop for EncryptionSwitch {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let app = self.app.clone();
        self.idp.write_org(|org| {
            if let Some(settings) =
                org.apps.values_mut().find(|a| a.id.to_string() == app || a.name == app).and_then(|a| a.saml_mut())
            {
                settings.assertion_encryption = previous;
            }
        });
    }
}

/// A certificate's base64 DER as PEM.
pub(super) fn pem(base64_der: &str) -> String {
    let mut text = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in base64_der.as_bytes().chunks(64) {
        text.push_str(&String::from_utf8_lossy(chunk));
        text.push('\n');
    }
    text.push_str("-----END CERTIFICATE-----\n");
    text
}

impl SamlDriver<'_> {
    /// The SP's encryption certificate, from the target's file or its
    /// metadata, or why the SP does not take encrypted assertions.
    async fn encryption_recipient(&self) -> Step<Recipient> {
        let saml = self.suite.target.saml.as_ref().ok_or_else(|| StepError("the target has no [saml]".into()))?;
        if saml.encrypted_assertions == Some(false) {
            return Ok(Recipient::NotTaken("the target declares saml.encrypted_assertions = false".into()));
        }
        if let Some(file) = &saml.encryption_certificate_file {
            let text = std::fs::read_to_string(file).map_err(|e| {
                StepError(format!("saml.encryption_certificate_file {} cannot be read: {e}", file.display()))
            })?;
            if !mock_idp::saml::encrypt::is_certificate_pem(&text) {
                return Err(StepError(format!(
                    "saml.encryption_certificate_file {} is not one PEM certificate",
                    file.display()
                )));
            }
            return Ok(Recipient::Certificate { pem: text, source: "saml.encryption_certificate_file" });
        }
        let declared = saml.encrypted_assertions == Some(true);
        let Some(url) = &saml.metadata_url else {
            if declared {
                return Err(StepError(
                    "the target declares saml.encrypted_assertions = true but gives neither saml.encryption_certificate_file nor saml.metadata_url to find the SP's certificate".into(),
                ));
            }
            return Ok(Recipient::NotTaken(
                "the target does not say the SP takes encrypted assertions (no saml.metadata_url with an encryption KeyDescriptor, no saml.encrypted_assertions = true)".into(),
            ));
        };
        let answer = self.suite.browser()?.get(url).await?;
        if answer.status != 200 {
            return Err(StepError(format!("the SP metadata URL {url} answered {}", answer.status)));
        }
        match super::metadata::encryption_certificate(&answer.body).map_err(StepError)? {
            Some(certificate) => Ok(Recipient::Certificate {
                pem: pem(&certificate),
                source: "the SP's metadata (KeyDescriptor use=\"encryption\")",
            }),
            None if declared => Err(StepError(format!(
                "the target declares saml.encrypted_assertions = true but the SP's metadata at {url} has no encryption KeyDescriptor; give saml.encryption_certificate_file"
            ))),
            None => Ok(Recipient::NotTaken(format!(
                "the SP's metadata at {url} publishes no encryption key (KeyDescriptor use=\"encryption\"), so it does not take encrypted assertions"
            ))),
        }
    }

    /// Runs one encrypted-assertion check with the app encrypting to the SP.
    pub(super) async fn encrypted(&self, case: EncryptedCase, attacker: Canary) -> Step<Outcome> {
        let (certificate, source) = match self.encryption_recipient().await? {
            Recipient::Certificate { pem, source } => (pem, source),
            Recipient::NotTaken(reason) => return Ok(Outcome::skip(reason)),
        };
        // Okta's default for a new app: AES256-GCM and RSA-OAEP.
        let recipient = EncryptionRecipient {
            certificate_pem: certificate,
            block: BlockAlgorithm::Aes256Gcm,
            transport: KeyTransport::RsaOaepMgf1p,
        };
        let _switch = EncryptionSwitch::on(self.suite.idp.clone(), &self.app.id, recipient)?;
        match case {
            EncryptedCase::Signed => {
                let browser = self.suite.browser()?;
                let (message, answer) = self.sign_in_capture(&browser, &attacker).await?;
                let seen = self.suite.oracle(&browser).await?;
                if seen.is(&attacker.email) {
                    Ok(Outcome::pass(format!(
                        "an encrypted, signed assertion (aes256-gcm, rsa-oaep-mgf1p, to the certificate from {source}) signed in ({})",
                        self.flow()
                    )))
                } else {
                    Ok(Outcome::fail(
                        format!(
                            "a correct encrypted assertion (aes256-gcm, rsa-oaep-mgf1p, to the certificate from {source}; {}) gave {}",
                            self.flow(),
                            seen.describe()
                        ),
                        evidence(&message, &answer, &seen),
                    ))
                }
            }
            EncryptedCase::Refuse(fault) => {
                // The control is the encrypted sign-in: an SP that cannot
                // decrypt at all is not judged on what it refuses.
                let control = self.positive_control(&attacker).await?;
                self.act(SamlAction::RefuseFault(fault), attacker, control).await
            }
        }
    }
}
