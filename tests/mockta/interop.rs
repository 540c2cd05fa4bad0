//! Interop with pysaml2, a real Python SAML SP library, against the running
//! mock. The test command installs pysaml2 into `.local/venv`; set
//! `MOCKTA_PYTHON` to use another interpreter.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use base64::Engine;
use mock_idp::http::RunningServer;
use mock_idp::idp::Idp;
use mock_idp::saml::SamlFaultPlan;
use mock_idp::saml::faults::SamlFault;
use serde_json::Value;

const SP_ENTITY_ID: &str = "http://127.0.0.1:7100/sso/metadata/acme";
const ACS: &str = "http://127.0.0.1:7100/sso/acs/acme";

pub(crate) fn certificate_pem(metadata: &str) -> String {
    let start = metadata.find("<ds:X509Certificate>").unwrap() + "<ds:X509Certificate>".len();
    let end = metadata.find("</ds:X509Certificate>").unwrap();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", &metadata[start..end])
}

fn sp(args: &[&str]) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/pysaml2_sp.py");
    let output = Command::new(crate::python()).arg(script).args(args).output().unwrap();
    assert!(output.status.success(), "pysaml2_sp.py failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

struct Mock {
    idp: Arc<Idp>,
    server: RunningServer,
    client: reqwest::Client,
    metadata_file: tempfile::NamedTempFile,
}

impl Mock {
    async fn start() -> Mock {
        let (idp, server) = crate::serve_builtin_idp().await;
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let metadata = client
            .get(format!("{}/app/exkrefsp000000000001/sso/saml/metadata", server.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let metadata_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(metadata_file.path(), metadata).unwrap();
        Mock { idp, server, client, metadata_file }
    }

    fn base_args(&self) -> Vec<String> {
        vec![
            "--metadata".into(),
            self.metadata_file.path().display().to_string(),
            "--entity-id".into(),
            SP_ENTITY_ID.into(),
            "--acs".into(),
            ACS.into(),
        ]
    }

    /// Fetches a URL and returns the base64 SAMLResponse of the form.
    async fn saml_response(&self, url: &str) -> String {
        let html = self.client.get(url).send().await.unwrap().text().await.unwrap();
        let decoded =
            mock_idp::saml::form::parse(&html).unwrap_or_else(|| panic!("no SAMLResponse in {html}")).saml_response;
        assert!(base64::engine::general_purpose::STANDARD.decode(&decoded).is_ok());
        decoded
    }

    fn verify(&self, response: &str, in_response_to: Option<&str>) -> Value {
        let mut args = vec!["verify".to_owned()];
        args.extend(self.base_args());
        args.extend(["--response".to_owned(), response.to_owned()]);
        if let Some(id) = in_response_to {
            args.extend(["--in-response-to".to_owned(), id.to_owned()]);
        }
        sp(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }

    fn embed_link(&self) -> String {
        format!(
            "{}/home/acme_referencesp_1/0oarefsp000000000001/alnrefsp000000000001?login_hint=alice@acme.test",
            self.server.url()
        )
    }
}

#[tokio::test]
async fn pysaml2_accepts_idp_initiated_response() {
    let mock = Mock::start().await;
    let verdict = mock.verify(&mock.saml_response(&mock.embed_link()).await, None);
    assert_eq!(verdict["accepted"], true, "{verdict}");
    assert_eq!(verdict["name_id"], "alice@acme.test");
    assert_eq!(verdict["attributes"]["firstName"][0], "Alice");
    assert_eq!(verdict["attributes"]["groups"], serde_json::json!(["Engineering", "acme-admins"]));
}

#[tokio::test]
async fn pysaml2_accepts_sp_initiated_response() {
    let mock = Mock::start().await;
    let mut args = vec!["request".to_owned()];
    args.extend(mock.base_args());
    let request = sp(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let url = format!("{}&login_hint=alice@acme.test", request["url"].as_str().unwrap());
    assert!(url.starts_with(&mock.server.url()), "pysaml2 sends the request to the SSO URL from metadata: {url}");
    let response = mock.saml_response(&url).await;
    let id = request["id"].as_str().unwrap();
    let verdict = mock.verify(&response, Some(id));
    assert_eq!(verdict["accepted"], true, "{verdict}");
    assert_eq!(verdict["name_id"], "alice@acme.test");
    let other = mock.verify(&response, Some("id-some-other-request"));
    assert_eq!(other["accepted"], false, "a response to another request is refused: {other}");
}

#[tokio::test]
async fn pysaml2_rejects_expired_and_wrong_audience() {
    let mock = Mock::start().await;
    for (fault, expected_error) in
        [(SamlFault::Expired, "ResponseLifetimeExceed"), (SamlFault::WrongAudience, "AudienceRestrictions")]
    {
        mock.idp.arm_saml_fault(SamlFaultPlan { fault, impersonate: None }, None, None);
        let verdict = mock.verify(&mock.saml_response(&mock.embed_link()).await, None);
        assert_eq!(verdict["accepted"], false, "{fault}: {verdict}");
        assert!(verdict["error"].as_str().unwrap().contains(expected_error), "{fault}: {verdict}");
    }
}

/// attacks.md P-05 and P-06: one time in the past is enough, whichever.
#[tokio::test]
async fn pysaml2_rejects_an_expired_confirmation_or_expired_conditions() {
    let mock = Mock::start().await;
    for fault in [SamlFault::ExpiredConfirmation, SamlFault::ExpiredConditions] {
        mock.idp.arm_saml_fault(SamlFaultPlan { fault, impersonate: None }, None, None);
        let verdict = mock.verify(&mock.saml_response(&mock.embed_link()).await, None);
        assert_eq!(verdict["accepted"], false, "{fault}: {verdict}");
    }
}

/// attacks.md P-14, as pysaml2 7.5.5 judges each SubjectConfirmation
/// (`AuthnResponse.verify_subject` in `saml2/response.py`): holder-of-key
/// needs a KeyInfo in its data, which the fault does not carry, and a
/// bearer confirmation without data is refused ("No valid subject
/// confirmation"). sender-vouches is accepted, a finding the suite reports:
/// the method's branch is `pass`, so only the Recipient is then compared,
/// though Web Browser SSO takes bearer confirmations only (Profiles 4.1.4.2).
#[tokio::test]
async fn pysaml2_judges_subject_confirmations() {
    let mock = Mock::start().await;
    for (fault, accepted) in
        [(SamlFault::HolderOfKey, false), (SamlFault::SenderVouches, true), (SamlFault::NoConfirmationData, false)]
    {
        mock.idp.arm_saml_fault(SamlFaultPlan { fault, impersonate: None }, None, None);
        let verdict = mock.verify(&mock.saml_response(&mock.embed_link()).await, None);
        assert_eq!(verdict["accepted"], accepted, "{fault}: {verdict}");
        if !accepted {
            assert!(verdict["error"].as_str().unwrap().contains("No valid subject confirmation"), "{fault}: {verdict}");
        }
    }
}

#[tokio::test]
async fn pysaml2_rejects_signature_faults() {
    let mock = Mock::start().await;
    for fault in [
        SamlFault::Unsigned,
        SamlFault::BadSignature,
        SamlFault::UntrustedKey,
        SamlFault::Xsw(3),
        SamlFault::DoctypeEntity,
    ] {
        mock.idp.arm_saml_fault(SamlFaultPlan { fault, impersonate: None }, None, None);
        let verdict = mock.verify(&mock.saml_response(&mock.embed_link()).await, None);
        assert_eq!(verdict["accepted"], false, "{fault}: {verdict}");
    }
}

/// attacks.md S-32: pysaml2 validates the message against its schema
/// classes, and the schema-valid wrapping passes that; it must still refuse
/// it, as the Response's Assertion is unsigned, and never read the victim.
#[tokio::test]
async fn pysaml2_rejects_schema_valid_wrapping() {
    let mock = Mock::start().await;
    for fault in [SamlFault::XswAdvice, SamlFault::XswStatusDetail] {
        let plan = SamlFaultPlan { fault, impersonate: Some("victim@acme.test".into()) };
        mock.idp.arm_saml_fault(plan, None, None);
        let verdict = mock.verify(&mock.saml_response(&mock.embed_link()).await, None);
        assert_eq!(verdict["accepted"], false, "{fault}: {verdict}");
        assert_ne!(verdict["name_id"], "victim@acme.test", "{fault}: {verdict}");
    }
}

/// The SP's encryption key pair, public test keys in `fixtures/keys`.
fn sp_encryption_files() -> (PathBuf, PathBuf) {
    let keys = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys");
    (keys.join("sp-encryption.key.pem"), keys.join("sp-encryption.cert.pem"))
}

#[tokio::test]
async fn pysaml2_decrypts_and_accepts_the_mock_s_encrypted_assertion() {
    let mock = Mock::start().await;
    let (key_file, cert_file) = sp_encryption_files();
    let certificate = std::fs::read_to_string(&cert_file).unwrap();
    // The app encrypts to the SP's certificate, as Okta's Assertion
    // Encryption does: AES256-GCM by default, then AES256-CBC.
    for block in
        [mock_idp::saml::encrypt::BlockAlgorithm::Aes256Gcm, mock_idp::saml::encrypt::BlockAlgorithm::Aes256Cbc]
    {
        mock.idp.write_org(|org| {
            let app = org.apps.values_mut().find(|a| a.name == "reference-sp").unwrap();
            app.saml_mut().unwrap().assertion_encryption = Some(mock_idp::saml::encrypt::EncryptionRecipient {
                certificate_pem: certificate.clone(),
                block,
                transport: mock_idp::saml::encrypt::KeyTransport::RsaOaepMgf1p,
            });
        });
        let response = mock.saml_response(&mock.embed_link()).await;
        let xml = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(&response).unwrap()).unwrap();
        assert!(xml.contains("<saml2:EncryptedAssertion") && !xml.contains("<saml2:Assertion "), "{xml}");
        assert!(xml.contains(block.uri()), "{xml}");
        let mut args = vec!["verify".to_owned()];
        args.extend(mock.base_args());
        args.extend(["--response".to_owned(), response]);
        args.extend(["--key-file".to_owned(), key_file.display().to_string()]);
        args.extend(["--cert-file".to_owned(), cert_file.display().to_string()]);
        let verdict = sp(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(verdict["accepted"], true, "{}: {verdict}", block.as_str());
        assert_eq!(verdict["name_id"], "alice@acme.test", "{}", block.as_str());
    }
}

/// attacks.md S-11, S-12 and S-17 to S-19: pysaml2 verifies with the
/// `xmlsec1` tool, with its key sources restricted to the pinned certificate
/// since CVE-2021-21239, so none of the forged signatures gets the victim in.
#[tokio::test]
async fn pysaml2_rejects_forged_signatures() {
    let mock = Mock::start().await;
    for fault in [
        SamlFault::UntrustedKeyValue,
        SamlFault::HmacWithCertificate,
        SamlFault::CommentInDigestValue,
        SamlFault::SecondSignedInfo,
        SamlFault::ExtraDigestValue,
    ] {
        let plan = SamlFaultPlan { fault, impersonate: Some("victim@acme.test".into()) };
        mock.idp.arm_saml_fault(plan, None, None);
        let verdict = mock.verify(&mock.saml_response(&mock.embed_link()).await, None);
        assert_eq!(verdict["accepted"], false, "{fault}: {verdict}");
        assert_ne!(verdict["name_id"], "victim@acme.test", "{fault}: {verdict}");
    }
}

/// attacks.md S-26 and S-27: pysaml2's own check of a signature's shape
/// (saml2.xmldsig `_check_signature_constraints`, since 6.5.0) refuses a
/// Reference that is not an anchor to the enclosing element's ID ("the URI
/// attribute contains an anchor", "the anchor points to the enclosing
/// element ID attribute") and a transform outside its allowed list (the
/// XPath filter, so the edited Subject never gets the victim in), but its
/// allowed list holds exclusive c14n with comments, as SAML Core 5.4.4
/// allows: that response signs in (`saml.sig.transform_with_comments` would
/// warn), with the NameID read whole, not as the text before the comment.
#[tokio::test]
async fn pysaml2_judges_reference_uris_and_transforms() {
    let mock = Mock::start().await;
    for (fault, accepted, failed_constraint) in [
        (SamlFault::ReferenceWholeDocument, false, "'the URI attribute contains an anchor': False"),
        (SamlFault::ReferenceOtherElement, false, "'the anchor points to the enclosing element ID attribute': False"),
        (SamlFault::TransformXPath, false, "'all transform algs are allowed': False"),
        (SamlFault::TransformWithComments, true, ""),
    ] {
        let plan = SamlFaultPlan { fault, impersonate: None };
        mock.idp.arm_saml_fault(plan, None, None);
        let verdict = mock.verify(&mock.saml_response(&mock.embed_link()).await, None);
        assert_eq!(verdict["accepted"], accepted, "{fault}: {verdict}");
        if accepted {
            assert_eq!(verdict["name_id"], "alice@acme.test", "{fault}: {verdict}");
        } else {
            assert!(verdict["error"].as_str().unwrap().contains(failed_constraint), "{fault}: {verdict}");
        }
    }
}
