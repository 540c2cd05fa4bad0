//! A repaired copy of a SAML Response, for `mockta explain --replay
//! --repair`: what the Okta app's settings decide (Issuer, Audience,
//! Destination, Recipient, InResponseTo, the time window) is set to what the
//! SP expects, and the message is signed again with a key the user gives
//! (the key of the local mock the SP trusts). If the SP then signs in, the
//! Okta app's settings were the problem; if not, the SP is.
//!
//! Only what an Okta setting decides is repaired: a forged or wrapped
//! message stays forged. The edits are made on the text, as Okta serialises
//! it (the values of those attributes and elements), so the rest of the
//! message keeps its bytes.

use mock_idp::keys::SigningCredential;
use regex::Regex;
use time::{Duration, OffsetDateTime};

use super::{Expectations, ExplainError};

/// The repaired XML and what was changed, one phrase each.
#[derive(Clone, Debug)]
pub struct Repaired {
    pub xml: String,
    pub changes: Vec<String>,
}

/// Repairs `xml` to what `expect` says, valid from five minutes before
/// `now` to five after (Okta's window), and signs it with `credential`.
pub fn repair_saml(
    xml: &str,
    expect: &Expectations,
    now: OffsetDateTime,
    credential: &SigningCredential,
) -> Result<Repaired, ExplainError> {
    let mut text = xml.to_owned();
    let mut changes = Vec::new();
    let mut set = |pattern: &str, value: &str, what: &str, text: &mut String| {
        let Ok(regex) = Regex::new(pattern) else { return };
        let replaced = regex.replace_all(text, |c: &regex::Captures<'_>| format!("{}{value}{}", &c[1], &c[2]));
        if replaced != text.as_str() {
            changes.push(what.to_owned());
            *text = replaced.into_owned();
        }
    };
    if let Some(issuer) = expect.idp_entity_id.as_ref().or(expect.issuer.as_ref()) {
        set(r"(<(?:\w+:)?Issuer\b[^>]*>)[^<]*(</(?:\w+:)?Issuer>)", &escape(issuer), "Issuer", &mut text);
    }
    if let Some(audience) = &expect.audience {
        set(r"(<(?:\w+:)?Audience>)[^<]*(</(?:\w+:)?Audience>)", &escape(audience), "Audience", &mut text);
    }
    if let Some(acs) = &expect.acs_url {
        set(r#"( Destination=")[^"]*(")"#, &escape(acs), "Destination", &mut text);
        set(r#"( Recipient=")[^"]*(")"#, &escape(acs), "Recipient", &mut text);
    }
    if let Some(request) = &expect.request_id {
        set(r#"( InResponseTo=")[^"]*(")"#, &escape(request), "InResponseTo", &mut text);
    }
    let instant = |at: OffsetDateTime| mock_idp::saml::response::saml_time(at);
    set(r#"( IssueInstant=")[^"]*(")"#, &instant(now), "IssueInstant", &mut text);
    set(r#"( NotBefore=")[^"]*(")"#, &instant(now - Duration::minutes(5)), "NotBefore", &mut text);
    set(r#"( NotOnOrAfter=")[^"]*(")"#, &instant(now + Duration::minutes(5)), "NotOnOrAfter", &mut text);
    // The signature templates are emptied and filled again by the mock's
    // signer, with the given key's certificate in KeyInfo.
    let quiet = |pattern: &str, value: &str, text: &mut String| {
        if let Ok(regex) = Regex::new(pattern) {
            *text =
                regex.replace_all(text, |c: &regex::Captures<'_>| format!("{}{value}{}", &c[1], &c[2])).into_owned();
        }
    };
    quiet(r"(<ds:DigestValue>)[^<]*(</ds:DigestValue>)", "", &mut text);
    quiet(r"(<ds:SignatureValue>)[^<]*(</ds:SignatureValue>)", "", &mut text);
    quiet(r"(<ds:X509Certificate>)[^<]*(</ds:X509Certificate>)", credential.cert_base64_wrapped(), &mut text);
    let signed = mock_idp::saml::sign::sign_templates(&text, credential)
        .map_err(|e| ExplainError::Unrecognised(format!("the repaired message cannot be signed: {e}")))?;
    changes.push("signed again with --signing-key".to_owned());
    Ok(Repaired { xml: signed, changes })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;")
}
