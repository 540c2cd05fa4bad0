//! The protocol-neutral sign-in core: what happens once a protocol has
//! verified who the IdP says the user is.
//!
//! Account matching, JIT creation, the domain policy, the refusal of
//! deactivated users, session creation and the lockout fact "an admin has
//! signed in through the IdP" live here and nowhere else. The SAML ACS turns
//! its [`crate::saml::verify::VerifiedResponse`] into a [`VerifiedIdentity`]
//! and calls `Sp::sign_in`; an OIDC callback does the same with its
//! verified ID token, so both protocols apply one set of account rules.

use time::OffsetDateTime;

use crate::config::{Provisioning, TenantConfig, TenantSettings, has_admin_role};
use crate::email;
use crate::oidc::id_token::VerifiedIdToken;
use crate::saml::verify::VerifiedResponse;
use crate::sp::{Sp, SpError, hash_token, new_id, new_token};
use crate::store::{NewUser, StoreError, User, UserId, UserStatus};

/// Who the IdP says signed in, read from a message whose signature and
/// addressing the protocol layer has already checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The IdP that vouched for the user (SAML Issuer, OIDC `iss`).
    pub issuer: String,
    /// The IdP's stable name for the user (SAML NameID, OIDC `sub`).
    pub subject: String,
    /// The user's email address, if the message carried one.
    pub email: Option<String>,
    /// Whether the IdP vouches for the email. An unverified email is never
    /// used to find or create an account: anyone could claim any address.
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// The display name the IdP sent as such (OIDC `name`); SAML has none
    /// apart from the given and family names.
    pub display_name: Option<String>,
    /// The IdP's username for the user: OIDC `preferred_username` (at Okta
    /// the user's login, which an org may allow in a form that is not an
    /// email) and the SAML NameID (Okta's app username).
    pub username: Option<String>,
    /// The IdP's groups for the user; they go into the session and can make
    /// the user a member of the tenant's admin team.
    pub groups: Vec<String>,
    /// App roles, given to an account made at first sign-in.
    pub roles: Vec<String>,
    /// Whether a verified email may link this identity to an existing
    /// account it is not linked to yet. SAML: yes (Okta's signed NameID is
    /// the account's email). OIDC: only when the tenant allows it
    /// (`link_accounts_by_verified_email`), since the identity is
    /// `(iss, sub)` and an email match is how accounts are taken over.
    pub email_links_existing_account: bool,
    /// The NameID and SessionIndex a SAML session keeps for Single Logout;
    /// `None` for OIDC.
    pub saml_session: Option<crate::store::SamlSessionKey>,
    /// When the IdP says the session must end (SAML's
    /// `SessionNotOnOrAfter`); the session ends then if that comes before
    /// the SP's own lifetime. `None` for OIDC and when the IdP says nothing.
    pub session_not_on_or_after: Option<OffsetDateTime>,
    /// The names of the SAML attributes whose value is `true`, so a
    /// tenant's `admin_attribute` (the MoovingON guide's
    /// `moovingon_ai_admin`, set on the administrator group's assignment)
    /// can make the user an admin. Empty for OIDC.
    pub true_attributes: Vec<String>,
}

impl VerifiedIdentity {
    /// Whether the subject is the provider's permanent name for the user
    /// (OIDC `sub`), rather than one that follows the email (Okta's SAML
    /// NameID in its default, email format).
    pub fn subject_is_stable(&self) -> bool {
        self.saml_session.is_none()
    }

    /// The identity a verified SAML response names. The email is the NameID
    /// when it is an address (Okta's default format) and the `email`
    /// attribute otherwise; Okta signs both, so the email counts as verified.
    /// Without `read_attributes` (the `drop-attributes` flaw) only the
    /// NameID is read.
    pub fn from_saml(response: &VerifiedResponse, read_attributes: bool) -> VerifiedIdentity {
        let attribute = |name: &str| {
            if read_attributes { response.first_attribute(name).map(str::to_owned) } else { None }
        };
        let values = |name: &str| if read_attributes { response.attribute(name).to_vec() } else { Vec::new() };
        let name_id = response.name_id();
        VerifiedIdentity {
            issuer: response.issuer().to_owned(),
            subject: name_id.to_owned(),
            email: if name_id.contains('@') { Some(name_id.to_owned()) } else { attribute("email") },
            email_verified: true,
            given_name: attribute("firstName"),
            family_name: attribute("lastName"),
            display_name: None,
            username: Some(name_id.to_owned()),
            groups: values("groups"),
            roles: values("role"),
            email_links_existing_account: true,
            saml_session: Some(crate::store::SamlSessionKey {
                name_id: name_id.to_owned(),
                session_index: response.session_index().map(str::to_owned),
            }),
            session_not_on_or_after: response.session_not_on_or_after(),
            true_attributes: if read_attributes {
                response
                    .attributes()
                    .iter()
                    .filter(|(_, values)| values.first().is_some_and(|v| v.trim().eq_ignore_ascii_case("true")))
                    .map(|(name, _)| name.clone())
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    /// The identity a verified ID token (with its userinfo claims) names:
    /// `(iss, sub)`, never the email. `link_by_verified_email` is the
    /// tenant's setting. Without `subject_is_identity` (the
    /// `email-as-identity` flaw) the email stands in for `sub` and finds
    /// accounts whether or not the provider verified it.
    pub fn from_oidc(
        token: &VerifiedIdToken,
        link_by_verified_email: bool,
        subject_is_identity: bool,
    ) -> VerifiedIdentity {
        let email = token.email().map(str::to_owned);
        let (subject, email_verified, links) = match (&email, subject_is_identity) {
            (Some(email), false) => (email.clone(), true, true),
            _ => (token.subject().to_owned(), token.email_verified(), link_by_verified_email),
        };
        VerifiedIdentity {
            issuer: token.issuer().to_owned(),
            subject,
            email,
            email_verified,
            given_name: token.given_name().map(str::to_owned),
            family_name: token.family_name().map(str::to_owned),
            display_name: token.name().map(str::to_owned),
            username: token.preferred_username().map(str::to_owned),
            groups: token.groups().to_vec(),
            roles: Vec::new(),
            email_links_existing_account: links,
            saml_session: None,
            session_not_on_or_after: None,
            true_attributes: Vec::new(),
        }
    }

    /// The name the IdP sent for the user: the given and family names
    /// joined, or its display name; `None` when it sent none that is not
    /// blank.
    pub fn name_sent(&self) -> Option<String> {
        let joined = format!(
            "{} {}",
            self.given_name.as_deref().unwrap_or_default(),
            self.family_name.as_deref().unwrap_or_default()
        );
        [joined.as_str(), self.display_name.as_deref().unwrap_or_default()]
            .into_iter()
            .map(str::trim)
            .find(|name| !name.is_empty())
            .map(str::to_owned)
    }

    /// The account's name: the name the IdP sent, or the email without one.
    fn display_name(&self, email: &str) -> String {
        self.name_sent().unwrap_or_else(|| email.to_owned())
    }
}

/// A session made by `Sp::sign_in`.
#[derive(Debug)]
pub struct SessionStarted {
    /// The browser's session cookie value (stored only as a hash).
    pub session_token: String,
    pub user: User,
}

impl Sp {
    /// Signs a verified identity in to a tenant: finds or creates the
    /// account, refuses a deactivated one, starts a session and records the
    /// lockout fact. `settings` are the tenant's current settings and `now`
    /// the time the sign-in happens.
    pub(crate) fn sign_in(
        &self,
        tenant: &TenantConfig,
        settings: &TenantSettings,
        identity: &VerifiedIdentity,
        now: OffsetDateTime,
    ) -> Result<SessionStarted, SpError> {
        self.check_sign_in_rules(tenant, identity)?;
        // Whether this identity has signed in before: the jit-skips-licence
        // flaw gives the licence only to returning users.
        let returning = tenant.sign_in_rules.licence_at_sign_in.is_some()
            && self.store.user_by_identity(&tenant.id, &identity.issuer, &identity.subject)?.is_some();
        let user = self.match_account(tenant, settings, identity).map_err(|refused| match refused {
            // The `unknown-user-server-error` flaw: a generic server error.
            SpError::NoAccount { .. } if !self.policy.unknown_user_gets_refusal => {
                SpError::TaskFailed("internal error".into())
            }
            SpError::NoAccount { email, tenant: id } => match &tenant.unknown_user_refusal {
                Some(refusal) => SpError::NoAccountRefused { refusal: refusal.clone(), email, tenant: id },
                None => SpError::NoAccount { email, tenant: id },
            },
            other => other,
        })?;
        if let Some(licence) = &tenant.sign_in_rules.licence_at_sign_in
            && (returning || self.policy.licence_at_account_creation)
        {
            // Every sign-in through the IdP gives the licence to an account
            // that has none: one made at this sign-in (JIT), and one made
            // before the tenant had the rule.
            self.store.grant_licence(&user.id, licence)?;
        }
        if self.policy.lock_after_failed_sso {
            let failed = self.failed_sso.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let count = failed.get(&(tenant.id.clone(), crate::email::normalise(&user.email))).copied().unwrap_or(0);
            if count >= crate::flaws::FAILED_SSO_LOCK_THRESHOLD {
                return Err(SpError::Locked(user.email));
            }
        }
        if !self.policy.sign_in_keeps_pushed_membership {
            self.membership_from_sign_in(tenant, &user.id, &identity.groups)?;
        }
        let groups = if self.policy.session_groups_are_the_sign_ins {
            identity.groups.clone()
        } else {
            self.groups_seen_so_far(tenant, &user, &identity.groups)
        };
        let session_token = new_token();
        self.store.create_session(
            &hash_token(&session_token),
            &user.id,
            &groups,
            identity.saml_session.as_ref(),
            now,
            session_expiry(now + self.config.session_ttl, identity.session_not_on_or_after),
        )?;
        tracing::info!(tenant = %tenant.id, user = ?user.email, "signed in");
        if !settings.admin_signed_in_via_idp && self.is_tenant_admin(tenant, &user, identity)? {
            // Lockout safety: SSO can be required only once an admin has
            // shown that sign-in through the IdP works.
            self.store.mark_admin_signed_in(&tenant.id)?;
        }
        Ok(SessionStarted { session_token, user })
    }

    /// The tenant's rules on what a sign-in must carry, checked before any
    /// account is found or made, so a refused sign-in leaves none behind.
    fn check_sign_in_rules(&self, tenant: &TenantConfig, identity: &VerifiedIdentity) -> Result<(), SpError> {
        let rules = &tenant.sign_in_rules;
        if rules.require_email_username && self.policy.check_username_format {
            let username = identity.username.clone().unwrap_or_default();
            if email::domain(&username).is_none() {
                return Err(SpError::UsernameNotEmail { username, tenant: tenant.id.clone() });
            }
        }
        if rules.require_display_name && self.policy.require_display_name_when_asked && identity.name_sent().is_none() {
            let user = identity.username.clone().or_else(|| identity.email.clone()).unwrap_or_default();
            return Err(SpError::NoDisplayName { user, tenant: tenant.id.clone() });
        }
        Ok(())
    }

    /// The `sign-in-groups-only-add` flaw: this sign-in's groups added to
    /// every group the user's earlier sign-ins showed, none ever removed,
    /// as an SP that syncs the IdP's groups into its own by adding only.
    fn groups_seen_so_far(&self, tenant: &TenantConfig, user: &User, groups: &[String]) -> Vec<String> {
        let mut seen = self.sign_in_groups_seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let all = seen.entry((tenant.id.clone(), user.id.0.clone())).or_default();
        all.extend(groups.iter().cloned());
        all.iter().cloned().collect()
    }

    /// Whether a user is an admin of the tenant: an admin role, the
    /// tenant's admin attribute set to `true` in this sign-in, or the
    /// tenant's admin team (from SCIM or the IdP's groups).
    fn is_tenant_admin(
        &self,
        tenant: &TenantConfig,
        user: &User,
        identity: &VerifiedIdentity,
    ) -> Result<bool, SpError> {
        let idp_groups = &identity.groups;
        if has_admin_role(&user.roles) {
            return Ok(true);
        }
        if tenant.admin_attribute.as_ref().is_some_and(|name| identity.true_attributes.contains(name)) {
            return Ok(true);
        }
        if tenant.admin_team().is_none() {
            return Ok(false);
        }
        if idp_groups.iter().any(|g| tenant.is_admin_team(g)) {
            return Ok(true);
        }
        let scim_user = self.store.scim_user(&tenant.id, &user.id)?;
        Ok(scim_user.is_some_and(|u| u.teams.iter().any(|(_, name)| tenant.is_admin_team(name))))
    }

    /// Whether a deactivated account gets in for its pushed groups: only
    /// under the `groups-override-deactivation` flaw, which reads membership
    /// of a pushed group as access whatever the status.
    pub(crate) fn groups_let_in(&self, user: &User) -> Result<bool, SpError> {
        Ok(!self.policy.deactivation_overrides_groups
            && self.store.scim_user(&user.tenant, &user.id)?.is_some_and(|u| !u.teams.is_empty()))
    }

    /// Finds the account: by IdP identity first, then by normalised email;
    /// creates it under JIT.
    fn match_account(
        &self,
        tenant: &TenantConfig,
        settings: &TenantSettings,
        identity: &VerifiedIdentity,
    ) -> Result<User, SpError> {
        let revives = settings.provisioning == Provisioning::Jit && !self.policy.jit_respects_deactivation;
        let active = |user: User| {
            if user.status == UserStatus::Active || self.groups_let_in(&user)? {
                Ok(user)
            } else if revives {
                // The jit-revives-deactivated flaw.
                self.revive(tenant, &user.id).map_err(|e| SpError::Store(StoreError::Corrupt(e.to_string())))?;
                Ok(user)
            } else {
                Err(SpError::Deactivated(user.email))
            }
        };
        if let Some(user) = self.store.user_by_identity(&tenant.id, &identity.issuer, &identity.subject)? {
            return active(user);
        }
        let email = identity.email.clone().ok_or(SpError::NoEmail)?;
        if !identity.email_verified {
            return Err(SpError::EmailNotVerified(email));
        }
        if self.policy.jit_checks_domain {
            let domain = email::domain(&email).ok_or(SpError::NoEmail)?;
            if !settings.allowed_email_domains.contains(&domain) {
                return Err(SpError::DomainNotAllowed { email, tenant: tenant.id.clone() });
            }
        }
        let mut matching_form = if self.policy.normalise_email { email::normalise(&email) } else { email.clone() };
        if self.policy.fold_email_look_alikes {
            matching_form = email::flawed::fold_look_alikes(&matching_form);
        }
        if !self.policy.email_plus_is_mailbox {
            matching_form = email::flawed::without_plus_tag(&matching_form);
        }
        let refusing = settings.provisioning != Provisioning::Jit && self.policy.respect_existing_only;
        let by_email = self.store.user_by_email(&tenant.id, &matching_form)?;
        // A NameID that is Okta's app username and not the email (an
        // overridden app username) is the SCIM userName of the account Okta
        // provisioned: both are the app username, unique in the app.
        let found = match by_email {
            Some(user) => Some(user),
            // The store compares userNames in the normalised form. An SP
            // that matches emails exactly (`case-sensitive-email`) compares
            // userNames exactly too, and one that keys SCIM values untrimmed
            // (`scim-email-untrimmed`) holds a padded userName as another
            // name.
            None => self
                .store
                .scim_user_by_user_name(&tenant.id, &identity.subject)?
                .filter(|scim| self.policy.normalise_email || scim.user_name == identity.subject)
                .filter(|scim| self.policy.scim_trims_email || scim.user_name == scim.user_name.trim())
                .map(|scim| scim.user),
        };
        let user = match found {
            Some(user) if !identity.email_links_existing_account => {
                return Err(SpError::EmailLinkNotAllowed { email: user.email, tenant: tenant.id.clone() });
            }
            // An OIDC `sub` never changes, so an account already linked to
            // one subject of this provider belongs to that user: a verified
            // email may claim an unlinked account once, never take a linked
            // one (another Okta user given the same email). A SAML NameID
            // that is the email changes with it, so SAML may relink. The
            // link-unverified-email flaw (nOAuth) takes any email claim.
            Some(user)
                if identity.subject_is_stable()
                    && self.policy.oidc_links_only_verified_email
                    && self.store.user_has_identity_from(&tenant.id, &user.id, &identity.issuer)? =>
            {
                return Err(SpError::EmailLinkNotAllowed { email: user.email, tenant: tenant.id.clone() });
            }
            Some(user) => active(user)?,
            None if !refusing || self.policy.record_refused_users => {
                let new = NewUser {
                    tenant: tenant.id.clone(),
                    name: identity.display_name(&email),
                    email: email.trim().to_owned(),
                    email_normalised: matching_form,
                    roles: identity.roles.clone(),
                };
                let email_key = new.email_normalised.clone();
                match self.store.create_user(new, UserId(new_id("usr"))) {
                    Ok(_) if refusing => return Err(SpError::NoAccount { email, tenant: tenant.id.clone() }),
                    Err(StoreError::DuplicateEmail(_)) if refusing => {
                        return Err(SpError::NoAccount { email, tenant: tenant.id.clone() });
                    }
                    Ok(user) => user,
                    // A concurrent first sign-in of the same person created
                    // the account a moment ago: use that one.
                    Err(StoreError::DuplicateEmail(_)) => active(
                        self.store
                            .user_by_email(&tenant.id, &email_key)?
                            .ok_or(SpError::NoAccount { email, tenant: tenant.id.clone() })?,
                    )?,
                    Err(other) => return Err(other.into()),
                }
            }
            None => return Err(SpError::NoAccount { email, tenant: tenant.id.clone() }),
        };
        self.store.link_identity(&tenant.id, &identity.issuer, &identity.subject, &user.id)?;
        Ok(user)
    }
}

/// The session's end: the SP's own lifetime, or the IdP's
/// `SessionNotOnOrAfter` when that comes first (SAML Core 2.7.2; attacks.md
/// P-18: a session kept past it outlives what the IdP vouched for).
fn session_expiry(own_lifetime_end: OffsetDateTime, idp_end: Option<OffsetDateTime>) -> OffsetDateTime {
    idp_end.map_or(own_lifetime_end, |end| end.min(own_lifetime_end))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::config::{BUILTIN_CONFIG, parse_config};
    use crate::sp::SystemClock;
    use crate::store::sqlite::SqliteStore;

    fn sp() -> Sp {
        let config = parse_config("reference.toml", BUILTIN_CONFIG, Path::new(".")).unwrap();
        Sp::new(config, Arc::new(SqliteStore::in_memory().unwrap()), BTreeSet::new(), Arc::new(SystemClock)).unwrap()
    }

    /// An SP whose acme tenant has `rules` (TOML lines) added, with `flaws`.
    fn sp_with_rules(rules: &str, flaws: &[crate::flaws::Flaw]) -> Sp {
        let text =
            BUILTIN_CONFIG.replacen("provisioning = \"jit\"\n", &format!("provisioning = \"jit\"\n{rules}\n"), 1);
        let config = parse_config("sp.toml", &text, Path::new(".")).unwrap();
        let store = Arc::new(SqliteStore::in_memory().unwrap());
        Sp::new(config, store, flaws.iter().copied().collect(), Arc::new(SystemClock)).unwrap()
    }

    fn licence_of(sp: &Sp, started: &SessionStarted) -> Option<String> {
        sp.whoami(&started.session_token).unwrap().unwrap().licence
    }

    #[test]
    fn a_licence_is_given_at_the_first_sign_in_and_kept() {
        let licensing = sp_with_rules("licence_at_sign_in = \"dictation\"", &[]);
        let first = sign_in(&licensing, "acme", &identity("00u1", Some("ada@acme.test"))).unwrap();
        assert_eq!(licence_of(&licensing, &first).as_deref(), Some("dictation"));
        let again = sign_in(&licensing, "acme", &identity("00u1", Some("ada@acme.test"))).unwrap();
        assert_eq!(licence_of(&licensing, &again).as_deref(), Some("dictation"));
        // A tenant without the rule shows no licence.
        let plain = sp();
        let unlicensed = sign_in(&plain, "acme", &identity("00u1", Some("ada@acme.test"))).unwrap();
        assert_eq!(licence_of(&plain, &unlicensed), None);
    }

    #[test]
    fn under_jit_skips_licence_a_new_account_gets_its_licence_only_at_the_next_sign_in() {
        let sp = sp_with_rules("licence_at_sign_in = \"dictation\"", &[crate::flaws::Flaw::JitSkipsLicence]);
        let first = sign_in(&sp, "acme", &identity("00u1", Some("ada@acme.test"))).unwrap();
        assert_eq!(licence_of(&sp, &first), None);
        let again = sign_in(&sp, "acme", &identity("00u1", Some("ada@acme.test"))).unwrap();
        assert_eq!(licence_of(&sp, &again).as_deref(), Some("dictation"));
    }

    #[test]
    fn a_username_that_is_not_an_email_is_refused_where_the_tenant_requires_one() {
        let sp = sp_with_rules("require_email_username = true", &[]);
        let mut ada = identity("00u1", Some("ada@acme.test"));
        ada.username = Some("ada.lovelace".into());
        let refused = sign_in(&sp, "acme", &ada).unwrap_err();
        assert_eq!(refused.code(), "account.username_not_email");
        assert!(refused.to_string().contains("'ada.lovelace'"), "{refused}");
        assert!(sp.list_users("acme").unwrap().is_empty(), "a refused sign-in makes no account");
        ada.username = Some("ada@acme.test".into());
        sign_in(&sp, "acme", &ada).unwrap();
        let flawed = sp_with_rules("require_email_username = true", &[crate::flaws::Flaw::UsernameFormatUnchecked]);
        ada.username = Some("ada.lovelace".into());
        sign_in(&flawed, "acme", &ada).unwrap();
    }

    #[test]
    fn a_sign_in_without_a_name_is_refused_where_the_tenant_requires_a_display_name() {
        let sp = sp_with_rules("require_display_name = true", &[]);
        let mut nameless = identity("00u1", Some("ada@acme.test"));
        nameless.given_name = None;
        nameless.family_name = Some("  ".into());
        let refused = sign_in(&sp, "acme", &nameless).unwrap_err();
        assert_eq!(refused.code(), "account.no_display_name");
        assert!(refused.to_string().contains("no display name"), "{refused}");
        assert!(sp.list_users("acme").unwrap().is_empty(), "a refused sign-in makes no account");
        // The display name alone is enough.
        nameless.display_name = Some("Ada".into());
        assert_eq!(sign_in(&sp, "acme", &nameless).unwrap().user.name, "Ada");
        let flawed = sp_with_rules("require_display_name = true", &[crate::flaws::Flaw::DisplayNameOptional]);
        nameless.display_name = None;
        assert_eq!(sign_in(&flawed, "acme", &nameless).unwrap().user.name, "ada@acme.test");
    }

    fn identity(subject: &str, email: Option<&str>) -> VerifiedIdentity {
        VerifiedIdentity {
            issuer: "https://idp.test".into(),
            subject: subject.into(),
            email: email.map(str::to_owned),
            email_verified: true,
            given_name: Some("Ada".into()),
            family_name: Some("Lovelace".into()),
            display_name: None,
            username: Some(subject.into()),
            groups: vec!["Engineering".into()],
            roles: vec![],
            email_links_existing_account: true,
            saml_session: None,
            session_not_on_or_after: None,
            true_attributes: vec![],
        }
    }

    fn sign_in(sp: &Sp, tenant: &str, identity: &VerifiedIdentity) -> Result<SessionStarted, SpError> {
        let tenant = sp.tenant(tenant).unwrap();
        let settings = sp.settings(tenant).unwrap();
        sp.sign_in(tenant, &settings, identity, sp.now())
    }

    #[test]
    fn a_subject_that_is_not_an_email_signs_in_by_its_email_and_again_by_its_subject() {
        let sp = sp();
        let first = sign_in(&sp, "acme", &identity("00u1", Some("ada@acme.test"))).unwrap();
        assert_eq!((first.user.email.as_str(), first.user.name.as_str()), ("ada@acme.test", "Ada Lovelace"));
        // The link (issuer, subject) finds the account even when the IdP
        // later sends no email.
        let again = sign_in(&sp, "acme", &identity("00u1", None)).unwrap();
        assert_eq!(again.user.id, first.user.id);
        assert_ne!(again.session_token, first.session_token);
        assert!(sp.whoami(&again.session_token).unwrap().is_some());
    }

    #[test]
    fn an_unverified_email_neither_finds_nor_creates_an_account() {
        let sp = sp();
        let owner = sign_in(&sp, "acme", &identity("00u1", Some("ada@acme.test"))).unwrap();
        let mut claim = identity("00u-attacker", Some("ADA@acme.test"));
        claim.email_verified = false;
        let refused = sign_in(&sp, "acme", &claim).unwrap_err();
        assert_eq!(refused.code(), "account.email_not_verified");
        claim.email = Some("new@acme.test".into());
        assert_eq!(sign_in(&sp, "acme", &claim).unwrap_err().code(), "account.email_not_verified");
        let users = sp.list_users("acme").unwrap();
        assert_eq!(users.iter().map(|u| &u.id).collect::<Vec<_>>(), vec![&owner.user.id]);
    }

    #[test]
    fn an_identity_that_may_not_link_by_email_does_not_take_over_an_account() {
        let sp = sp();
        let owner = sign_in(&sp, "acme", &identity("00u1", Some("ada@acme.test"))).unwrap();
        let mut other = identity("00u-other", Some("ada@acme.test"));
        other.email_links_existing_account = false;
        assert_eq!(sign_in(&sp, "acme", &other).unwrap_err().code(), "account.link_not_allowed");
        // Its own first sign-in (JIT) needs no link.
        other.email = Some("grace@acme.test".into());
        let created = sign_in(&sp, "acme", &other).unwrap();
        assert_ne!(created.user.id, owner.user.id);
    }

    #[test]
    fn a_verified_email_never_takes_an_account_linked_to_another_oidc_subject() {
        let sp = sp();
        let owner = sign_in(&sp, "acme", &identity("00u1", Some("ada@acme.test"))).unwrap();
        // Another Okta user given the same email, allowed to link by it.
        let other = identity("00u-other", Some("ada@acme.test"));
        assert!(other.email_links_existing_account && other.subject_is_stable());
        assert_eq!(sign_in(&sp, "acme", &other).unwrap_err().code(), "account.link_not_allowed");
        // The owner still signs in to the account.
        assert_eq!(sign_in(&sp, "acme", &identity("00u1", Some("ada@acme.test"))).unwrap().user.id, owner.user.id);
    }

    #[test]
    fn the_core_applies_the_domain_policy_and_existing_only() {
        let sp = sp();
        let outside = sign_in(&sp, "acme", &identity("00u2", Some("eve@evil.test"))).unwrap_err();
        assert_eq!(outside.code(), "account.domain_not_allowed");
        let unknown = sign_in(&sp, "globex", &identity("00u3", Some("bob@acme.test"))).unwrap_err();
        assert_eq!(unknown.code(), "account.not_found");
        assert!(sp.list_users("globex").unwrap().is_empty());
        assert_eq!(sign_in(&sp, "acme", &identity("00u4", None)).unwrap_err().code(), "account.no_email");
    }

    #[test]
    fn an_admin_group_sign_in_records_the_lockout_fact() {
        let sp = sp();
        let tenant = sp.tenant("acme").unwrap();
        assert!(!sp.settings(tenant).unwrap().admin_signed_in_via_idp);
        let mut member = identity("00u5", Some("carol@acme.test"));
        sign_in(&sp, "acme", &member).unwrap();
        assert!(!sp.settings(tenant).unwrap().admin_signed_in_via_idp, "a plain member is no admin");
        member.groups = vec!["ACME-ADMINS".into()];
        sign_in(&sp, "acme", &member).unwrap();
        assert!(sp.settings(tenant).unwrap().admin_signed_in_via_idp);
    }
}
