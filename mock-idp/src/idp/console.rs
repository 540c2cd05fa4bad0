//! What the web console needs from the running IdP: the end-user sign-in
//! that opens the dashboard, the admin console's session, and the tokens
//! that protect its forms against cross-site requests.
//!
//! The admin session and the form tokens are keyed MACs (HMAC-SHA256 keyed
//! by the org's API token) over a random nonce, so they need no table: a
//! cookie proves that whoever set it knew the API token, and a form token
//! proves that the form was rendered for the browser holding that cookie.
//! Nothing here does IO; the nonces come from the IdP's id generator.

use aws_lc_rs::hmac;
use base64::Engine;

use super::{Idp, IdpError, MockSession};
use crate::ids::UserId;
use crate::oidc::authorize::constant_time_eq;

/// How long an admin console session lasts: Okta's default admin session
/// lifetime is a working day, and the mock keeps to that order.
pub const ADMIN_CONSOLE_SESSION_LIFETIME: time::Duration = time::Duration::hours(12);

/// What a MAC in the console is for, so a value made for one purpose is
/// never accepted for another (a form token is not an admin cookie).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    AdminSession,
    FormToken,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::AdminSession => "mockta-console-admin-session",
            Purpose::FormToken => "mockta-console-form-token",
        }
    }
}

impl Idp {
    /// The HMAC of `nonce` for `purpose`, keyed by the org's API token.
    fn console_mac(&self, purpose: Purpose, nonce: &str) -> String {
        let key = self.read_org(|org| hmac::Key::new(hmac::HMAC_SHA256, org.api_token.as_bytes()));
        let tag = hmac::sign(&key, format!("{}:{nonce}", purpose.label()).as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    fn console_mac_matches(&self, purpose: Purpose, nonce: &str, presented: &str) -> bool {
        constant_time_eq(self.console_mac(purpose, nonce).as_bytes(), presented.as_bytes())
    }

    /// A fresh random nonce for a browser that has no console cookie yet.
    pub fn console_nonce(&self) -> String {
        self.ids.opaque_token()
    }

    /// The token every console form carries, bound to the browser's nonce
    /// cookie (a double-submit token that an attacker's page cannot make,
    /// since it needs the API token).
    pub fn console_form_token(&self, nonce: &str) -> String {
        self.console_mac(Purpose::FormToken, nonce)
    }

    /// Whether a posted form token was made for the browser's nonce.
    pub fn console_form_token_matches(&self, nonce: &str, presented: &str) -> bool {
        !nonce.is_empty() && self.console_mac_matches(Purpose::FormToken, nonce, presented)
    }

    /// Signs an admin in to the console with the org's API token: the
    /// cookie value of the admin session, or `None` for a wrong token.
    pub fn start_admin_console_session(&self, presented_api_token: &str) -> Option<String> {
        let valid = self.read_org(|org| constant_time_eq(presented_api_token.as_bytes(), org.api_token.as_bytes()));
        if !valid {
            return None;
        }
        // The nonce carries the time it was made, under the MAC, so the
        // session ends after ADMIN_CONSOLE_SESSION_LIFETIME without a table.
        let nonce = format!("{}-{}", self.now().unix_timestamp(), self.ids.opaque_token());
        Some(format!("{nonce}.{}", self.console_mac(Purpose::AdminSession, &nonce)))
    }

    /// Whether a cookie value is an admin session this org made, and not
    /// older than [`ADMIN_CONSOLE_SESSION_LIFETIME`] on the IdP's clock.
    pub fn is_admin_console_session(&self, cookie: &str) -> bool {
        let Some((nonce, mac)) = cookie.split_once('.') else {
            return false;
        };
        let Some(issued) = nonce.split_once('-').and_then(|(issued, _)| issued.parse::<i64>().ok()) else {
            return false;
        };
        let age = self.now().unix_timestamp().saturating_sub(issued);
        (0..=ADMIN_CONSOLE_SESSION_LIFETIME.whole_seconds()).contains(&age)
            && self.console_mac_matches(Purpose::AdminSession, nonce, mac)
    }

    /// Signs a user in at the end-user sign-in page: a new mock browser
    /// session (the same one SSO reads), for a user who may sign in.
    pub fn start_dashboard_session(&self, login: &str) -> Result<String, IdpError> {
        let user = self.read_org(|org| {
            let user = org.find_user(login).ok_or_else(|| IdpError::UnknownUser(login.to_owned()))?;
            if !user.status.can_sign_in() {
                return Err(IdpError::Saml(crate::saml::SamlError::UserNotActive(user.status.as_str())));
            }
            Ok(user.id.clone())
        })?;
        let token = self.ids.opaque_token();
        self.remember_session(&token, MockSession { user, authn_instant: self.now() });
        Ok(token)
    }

    /// The user of a mock browser session, if the session exists.
    pub fn session_user(&self, token: &str) -> Option<UserId> {
        self.session(token).map(|session| session.user)
    }

    /// Ends a mock browser session (the dashboard's "Sign out").
    pub fn end_session(&self, token: &str) {
        self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner).map.remove(token);
    }
}
