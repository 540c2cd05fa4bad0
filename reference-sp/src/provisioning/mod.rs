//! SCIM provisioning over the same store as sign-in, so SCIM and SSO act on
//! the same accounts.
//!
//! The account rules Okta relies on live here: a deactivated user stays
//! readable and loses every session at once; an email change moves the
//! account, not a copy; pushed groups map to the tenant's teams (and, where
//! the tenant says so, only to teams that exist); removing a member never
//! deactivates anyone; and SCIM cannot deactivate or demote the last active
//! admin.

mod discovery;
pub mod oauth;

use std::sync::Arc;

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::config::{ScimCredential, TenantConfig, has_admin_role};
use crate::email;
use crate::scim::list::{self, ListQuery, PageRules};
use crate::scim::patch::{self, PatchRules};
use crate::scim::required;
use crate::scim::resource::{self, Meta};
use crate::scim::{ScimError, filter};
use crate::sp::{Sp, hash_token, new_id, new_token, same_secret};
use crate::store::{
    GroupCommitWrites, ReplaceEffects, ScimUser, ScimUserWrite, StoreError, Team, TeamWrite, UserId, UserStatus,
    WriteScope,
};

/// The page size when `count` is not given.
const PAGE_SIZE: usize = 100;

/// A resource as sent: its JSON and its ETag.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimReply {
    pub body: Value,
    pub etag: Option<String>,
}

fn store_error(error: StoreError) -> ScimError {
    match error {
        StoreError::DuplicateUserName(name) => {
            ScimError::Uniqueness(format!("a user with the userName '{name}' already exists (userName ignores case)"))
        }
        StoreError::DuplicateEmail(email) => {
            ScimError::Uniqueness(format!("a user with the email '{email}' already exists"))
        }
        StoreError::DuplicateTeam(name) => ScimError::Uniqueness(format!("a group named '{name}' already exists")),
        StoreError::NotFound => ScimError::NotFound("requested".into()),
        StoreError::VersionMismatch(version) => stale(version),
        other => {
            tracing::error!(error = ?other.to_string(), "SCIM storage error");
            ScimError::Internal("The server could not complete the request.".into())
        }
    }
}

fn time_text(instant: time::OffsetDateTime) -> String {
    instant.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// The 412 for a write whose `If-Match` names an older version; the detail
/// carries the current ETag so the client can read again.
fn stale(current_version: i64) -> ScimError {
    ScimError::PreconditionFailed(format!("W/\"{current_version}\""))
}

/// Refuses a write when `If-Match` was given and names another version.
fn check_if_match(if_match: Option<i64>, current_version: i64) -> Result<(), ScimError> {
    match if_match {
        Some(expected) if expected != current_version => Err(stale(current_version)),
        _ => Ok(()),
    }
}

/// Reads an `If-Match` value (`W/"3"` or `"3"`) as a version; `*` matches any.
pub fn parse_if_match(value: Option<&str>) -> Result<Option<i64>, ScimError> {
    let Some(value) = value.map(str::trim).filter(|v| *v != "*") else { return Ok(None) };
    let inner = value.strip_prefix("W/").unwrap_or(value).trim_matches('"');
    inner.parse().map(Some).map_err(|_| ScimError::PreconditionFailed(value.to_owned()))
}

impl Sp {
    fn scim_tenant(&self, tenant: &str) -> Result<&TenantConfig, ScimError> {
        self.config.tenant(tenant).filter(|t| t.scim.is_some()).ok_or_else(|| ScimError::NotFound(tenant.to_owned()))
    }

    /// Checks the request's credential against the tenant's. Secrets are
    /// compared as hashes; a rotated token (in the store) replaces the one in
    /// the config.
    pub fn scim_authenticate(&self, tenant: &str, authorization: Option<&str>) -> Result<(), ScimError> {
        let config = self.scim_tenant(tenant).map_err(|_| ScimError::Unauthorized)?;
        let Some(scim) = &config.scim else { return Err(ScimError::Unauthorized) };
        let header = authorization.map(str::trim).ok_or(ScimError::Unauthorized)?;
        let (scheme, value) = header.split_once(' ').ok_or(ScimError::Unauthorized)?;
        // An access token of the tenant's own OAuth server is accepted
        // beside the static credential.
        if scheme.eq_ignore_ascii_case("bearer") && self.scim_oauth_access_token_live(config, value.trim()) {
            return Ok(());
        }
        let presented = match (&scim.credential, scheme.to_ascii_lowercase().as_str()) {
            (ScimCredential::Bearer(_), "bearer") => value.trim().to_owned(),
            (ScimCredential::Basic { .. }, "basic") => {
                use base64::Engine;
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(value.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or(ScimError::Unauthorized)?;
                decoded.split_once(':').map(|(u, p)| format!("{u}\n{p}")).ok_or(ScimError::Unauthorized)?
            }
            _ => return Err(ScimError::Unauthorized),
        };
        let expected = match self.store.scim_credential(&config.id).map_err(store_error)? {
            Some(stored) => stored,
            None => hash_token(&match &scim.credential {
                ScimCredential::Bearer(token) => token.clone(),
                ScimCredential::Basic { user, password } => format!("{user}\n{password}"),
            }),
        };
        let given = hash_token(&presented);
        if same_secret(&given, &expected) { Ok(()) } else { Err(ScimError::Unauthorized) }
    }

    /// Refuses every SCIM request of a tenant that takes SCIM only once SSO
    /// is verified (`requires_verified_sso`) while no admin has signed in
    /// through its IdP yet: SCIM that writes accounts before sign-in through
    /// the IdP is shown to work can lock the customer out (the MoovingON
    /// guide's warning). Called after the credential is checked, so an
    /// unauthenticated caller learns nothing about the tenant's state.
    pub fn scim_ready(&self, tenant: &str) -> Result<(), ScimError> {
        let config = self.scim_tenant(tenant)?;
        let waits = config.scim.as_ref().is_some_and(|s| s.requires_verified_sso);
        if !waits || !self.policy.scim_waits_for_verified_sso {
            return Ok(());
        }
        let settings = self.settings(config).map_err(|e| ScimError::Internal(e.to_string()))?;
        if settings.admin_signed_in_via_idp {
            return Ok(());
        }
        Err(ScimError::Forbidden(format!(
            "SCIM is not enabled for tenant {} until sign-in through its IdP is verified: an admin must sign in through the IdP (from the Okta dashboard) first, so that provisioning cannot lock the customer out",
            config.id
        )))
    }

    /// Makes a new bearer token (or Basic password) for the tenant. The old
    /// one stops working at once. Returns the new secret, shown only here.
    pub fn rotate_scim_credential(&self, tenant: &str) -> Result<String, ScimError> {
        let config = self.scim_tenant(tenant)?;
        let secret = new_token();
        let stored = match config.scim.as_ref().map(|s| &s.credential) {
            Some(ScimCredential::Basic { user, .. }) => format!("{user}\n{secret}"),
            _ => secret.clone(),
        };
        self.store.set_scim_credential(&config.id, &hash_token(&stored)).map_err(store_error)?;
        Ok(secret)
    }

    fn user_location(&self, tenant: &TenantConfig, id: &str) -> String {
        format!("{}/scim/v2/{}/Users/{id}", self.config.base_url, tenant.id)
    }

    fn group_location(&self, tenant: &TenantConfig, id: &str) -> String {
        format!("{}/scim/v2/{}/Groups/{id}", self.config.base_url, tenant.id)
    }

    fn render_user(&self, tenant: &TenantConfig, user: &ScimUser) -> ScimReply {
        let meta = Meta {
            resource_type: "User",
            created: time_text(user.created),
            last_modified: time_text(user.last_modified),
            location: self.user_location(tenant, &user.user.id.0),
            version: user.version,
        };
        let groups: Vec<Value> = user
            .teams
            .iter()
            .map(|(id, name)| json!({"value": id, "display": name, "$ref": self.group_location(tenant, id)}))
            .collect();
        let body = resource::render(&user.user.id.0, &user.resource, Some(("groups", Value::from(groups))), &meta);
        ScimReply { body, etag: Some(meta.etag()) }
    }

    fn render_team(&self, tenant: &TenantConfig, team: &Team) -> ScimReply {
        let meta = Meta {
            resource_type: "Group",
            created: time_text(team.created),
            last_modified: time_text(team.last_modified),
            location: self.group_location(tenant, &team.id),
            version: team.version,
        };
        let members: Vec<Value> = team
            .members
            .iter()
            .map(|(id, _)| json!({"value": id.0, "$ref": self.user_location(tenant, &id.0)}))
            .collect();
        let mut stored = team.resource.clone();
        if let Some(object) = stored.as_object_mut() {
            object.insert("displayName".into(), team.display_name.clone().into());
        }
        let body = resource::render(&team.id, &stored, Some(("members", Value::from(members))), &meta);
        ScimReply { body, etag: Some(meta.etag()) }
    }

    /// Whether a user is an active admin: by role, or by membership of the
    /// tenant's admin team.
    fn is_admin(tenant: &TenantConfig, user: &ScimUser) -> bool {
        user.user.status == UserStatus::Active && Self::is_admin_by(tenant, &user.user.roles, &user.teams)
    }

    fn is_admin_by(tenant: &TenantConfig, roles: &[String], teams: &[(String, String)]) -> bool {
        has_admin_role(roles) || teams.iter().any(|(_, name)| tenant.is_admin_team(name))
    }

    /// Refuses a change that would leave the tenant with no active admin.
    /// `before` is the user as read in the same write job, so the other
    /// users are read as the write will find them.
    fn keep_an_admin(
        &self,
        scope: &dyn WriteScope,
        tenant: &TenantConfig,
        before: &ScimUser,
        after: &ScimUserWrite,
    ) -> Result<(), ScimError> {
        // Only a change to an admin can leave the tenant without one, so the
        // other users are read only then.
        if !Self::is_admin(tenant, before) {
            return Ok(());
        }
        let id = &before.user.id;
        let users = scope.scim_users(&tenant.id).map_err(store_error)?;
        // A user write does not change team memberships, so the teams are
        // the ones the user has now.
        let stays_admin = after.active && Self::is_admin_by(tenant, &after.roles, &before.teams);
        let other_admins = users.iter().filter(|u| u.user.id != *id && Self::is_admin(tenant, u)).count();
        if !stays_admin && other_admins == 0 && !self.policy.allow_last_admin_removal {
            return Err(ScimError::Conflict(format!(
                "{} is the last active admin of tenant {}; make another user an admin first",
                before.user_name, tenant.id
            )));
        }
        Ok(())
    }

    /// Deactivating the user the SCIM credential stands for would cut the
    /// integration's own access: it is refused with the reason, not applied
    /// silently.
    fn keep_the_credential_owner(
        tenant: &TenantConfig,
        before: &ScimUser,
        after: &ScimUserWrite,
    ) -> Result<(), ScimError> {
        let Some(owner) = tenant.scim.as_ref().and_then(|s| s.owner.as_deref()) else { return Ok(()) };
        if after.active {
            return Ok(());
        }
        if before.user.email.eq_ignore_ascii_case(owner) && before.user.status == UserStatus::Active {
            return Err(ScimError::Conflict(format!(
                "{owner} owns tenant {}'s SCIM credential; rotate the credential to another admin before deactivating them",
                tenant.id
            )));
        }
        Ok(())
    }

    /// What a user body stores, once valid. `scope` is the write job it is
    /// made in, if any, whose transaction the tenant's settings are read in.
    fn user_write(
        &self,
        tenant: &TenantConfig,
        body: &Value,
        scope: Option<&dyn WriteScope>,
    ) -> Result<ScimUserWrite, ScimError> {
        let extension = tenant.scim.as_ref().map(|s| s.extension.as_slice()).unwrap_or_default();
        let core_attributes = tenant.scim.as_ref().map(|s| s.core_attributes.as_slice()).unwrap_or_default();
        let rules = resource::UserRules {
            refuse_undeclared: self.policy.scim_refuse_undeclared,
            keep_password: !self.policy.scim_never_returns_password,
        };
        let mut input = resource::validate_user_with_core(body, extension, core_attributes, rules)?;
        // A tenant with roles of its own (`roles`) takes only those from the
        // extension's `role`, as its sign-in takes only those from the role
        // claim; anything else is refused, not stored as a role the tenant
        // does not have.
        let sent_role = filter::member(body, crate::scim::SCHEMA_TENANT)
            .and_then(|extension| filter::member(extension, "role"))
            .and_then(Value::as_str)
            .filter(|role| !role.trim().is_empty());
        if let Some(role) = sent_role
            && !tenant.roles.is_empty()
            && !tenant.roles.iter().any(|known| known.eq_ignore_ascii_case(role.trim()))
        {
            return Err(ScimError::InvalidValue(format!(
                "'role' is '{role}', which is not one of tenant {}'s roles: {}",
                tenant.id,
                tenant.roles.join(", ")
            )));
        }
        if !self.policy.scim_keeps_core_attributes {
            // The `core-attributes-dropped` flaw: taken, then not kept.
            if let Some(stored) = input.stored.as_object_mut() {
                stored.retain(|key, _| !core_attributes.iter().any(|a| a.eq_ignore_ascii_case(key)));
            }
            input.true_core_flags.clear();
        }
        // The tenant's admin attribute, sent as a boolean core attribute
        // (Okta's group assignment sets it for the administrator group's
        // members), makes the user an admin as the extension's `admin` does.
        if tenant.admin_attribute.as_ref().is_some_and(|name| input.true_core_flags.contains(name)) {
            input.roles.push("Admin".into());
            input.roles.sort();
            input.roles.dedup();
        }
        let email = input.email.clone().unwrap_or_else(|| input.user_name.clone());
        // SCIM makes no account that sign-in would refuse for its domain.
        if self.policy.scim_checks_email_domain {
            let settings = match scope {
                Some(scope) => {
                    scope.tenant_settings(&tenant.id).map_err(store_error)?.unwrap_or_else(|| tenant.settings.clone())
                }
                None => self.settings(tenant).map_err(|e| ScimError::Internal(e.to_string()))?,
            };
            let domain = email::domain(&email).unwrap_or_default();
            if !settings.allowed_email_domains.contains(&domain) {
                return Err(ScimError::InvalidValue(format!(
                    "'{email}' is outside tenant {}'s email domains ({}), so it could never sign in",
                    tenant.id,
                    settings.allowed_email_domains.join(", ")
                )));
            }
        }
        // The account's key is its primary email, unique in the tenant. The
        // `email-not-unique` flaw keys it on the userName instead, so the
        // email is a free attribute two users may share.
        let key = if self.policy.scim_email_is_unique { email.as_str() } else { input.user_name.as_str() };
        Ok(ScimUserWrite {
            email_normalised: if self.policy.scim_trims_email { email::normalise(key) } else { email::fold_case(key) },
            name: if input.display_name.is_empty() { email.clone() } else { input.display_name.clone() },
            email,
            // The `scim-email-untrimmed` flaw keeps the userName as sent.
            user_name: match filter::member(body, "userName").and_then(Value::as_str) {
                Some(sent) if !self.policy.scim_trims_email => sent.to_owned(),
                _ => input.user_name,
            },
            active: input.active,
            roles: input.roles,
            resource: input.stored,
        })
    }

    /// Refuses a User that lacks one of the tenant's required attributes
    /// (`scim.required_attributes`; RFC 7644 3.3 and 3.12: 400
    /// invalidValue), before anything is stored. `before` is the stored
    /// resource for a PATCH, which is held only to the attributes it would
    /// remove: a deactivation of an account made before the tenant required
    /// them must still go through.
    fn require_attributes(&self, tenant: &TenantConfig, user: &Value, before: Option<&Value>) -> Result<(), ScimError> {
        let required = tenant.scim.as_ref().map(|s| s.required_attributes.as_slice()).unwrap_or_default();
        if !self.policy.scim_enforces_required_attributes || required.is_empty() {
            return Ok(());
        }
        let held: Vec<String> = match before {
            None => required.to_vec(),
            Some(before) => required
                .iter()
                .filter(|a| required::first_missing(before, std::slice::from_ref(a)).is_none())
                .cloned()
                .collect(),
        };
        match required::first_missing(user, &held) {
            None => Ok(()),
            Some(missing) => Err(ScimError::InvalidValue(format!(
                "'{missing}' is required by tenant {}: a user without it cannot be provisioned (see /Schemas)",
                tenant.id
            ))),
        }
    }

    pub fn scim_list_users(&self, tenant: &str, query: &ListQuery) -> Result<Value, ScimError> {
        let tenant = self.scim_tenant(tenant)?;
        let case_sensitive = !self.policy.scim_filter_ignores_case;
        // An import pages through every user: the database cuts the page.
        if query.filter.is_none() && self.policy.scim_stable_order {
            let count = list::page_count(query, PAGE_SIZE);
            let (page, total) = self
                .store
                .scim_users_page(&tenant.id, query.start_index.saturating_sub(1), count)
                .map_err(store_error)?;
            let page: Vec<Value> = page.iter().map(|u| self.listed_user(tenant, u)).collect();
            return Ok(list::respond_page(page, total, query, PAGE_SIZE, self.page_rules()));
        }
        // Okta's lookups (`userName eq`, `id eq`) read one row, not the tenant.
        if let Some(found) = self.indexed_lookup(tenant, query.filter.as_ref(), case_sensitive)? {
            let matching: Vec<Value> = found.iter().map(|u| self.listed_user(tenant, u)).collect();
            if matching.is_empty() && !self.policy.scim_empty_filter_is_list {
                return Err(ScimError::NotFound("matching the filter".into()));
            }
            return Ok(list::respond(matching, query, PAGE_SIZE, self.page_rules()));
        }
        let mut matching = Vec::new();
        let mut users = self.store.scim_users(&tenant.id).map_err(store_error)?;
        if !self.policy.scim_stable_order {
            // As a database without ORDER BY may: any order, each time.
            use rand::seq::SliceRandom;
            users.shuffle(&mut rand::rng());
        }
        for user in users {
            let rendered = self.render_user(tenant, &user).body;
            if query.filter.as_ref().is_none_or(|f| filter::matches(f, &rendered, case_sensitive)) {
                matching.push(self.list_view(rendered));
            }
        }
        if matching.is_empty() && query.filter.is_some() && !self.policy.scim_empty_filter_is_list {
            return Err(ScimError::NotFound("matching the filter".into()));
        }
        Ok(list::respond(matching, query, PAGE_SIZE, self.page_rules()))
    }

    /// A user as a list shows it.
    fn listed_user(&self, tenant: &TenantConfig, user: &ScimUser) -> Value {
        self.list_view(self.render_user(tenant, user).body)
    }

    /// A rendered user as a list shows it: whole, or (the
    /// `list-omits-attributes` flaw) without its name and emails.
    fn list_view(&self, mut rendered: Value) -> Value {
        if !self.policy.scim_lists_full_users
            && let Some(object) = rendered.as_object_mut()
        {
            object.remove("name");
            object.remove("emails");
        }
        rendered
    }

    /// Answers `userName eq "…"` and `id eq "…"` from the index. `None`: the
    /// filter needs a scan.
    fn indexed_lookup(
        &self,
        tenant: &TenantConfig,
        filter: Option<&filter::Filter>,
        case_sensitive: bool,
    ) -> Result<Option<Vec<ScimUser>>, ScimError> {
        let Some(filter::Filter::Compare { path, op: filter::CompareOp::Eq, value: Value::String(wanted) }) = filter
        else {
            return Ok(None);
        };
        let core = path.uri.as_deref().is_none_or(crate::scim::is_core_schema) && path.sub.is_none();
        if core && path.name.eq_ignore_ascii_case("userName") && !self.policy.scim_user_lookup_finds {
            return Ok(Some(Vec::new()));
        }
        if !core || case_sensitive {
            return Ok(None);
        }
        let found = if path.name.eq_ignore_ascii_case("userName") {
            let found = self.store.scim_user_by_user_name(&tenant.id, wanted).map_err(store_error)?;
            // The `scim-lookup-skips-jit-accounts` flaw answers from the
            // accounts SCIM made (those with an externalId) alone.
            found.filter(|user| {
                self.policy.scim_lookup_finds_sign_in_accounts || filter::member(&user.resource, "externalId").is_some()
            })
        } else if path.name.eq_ignore_ascii_case("id") {
            self.store.scim_user(&tenant.id, &UserId(wanted.clone())).map_err(store_error)?
        } else {
            return Ok(None);
        };
        Ok(Some(found.into_iter().collect()))
    }

    /// Whether SCIM errors carry the Error schema (false under the
    /// `error-not-scim-schema` flaw).
    pub fn scim_errors_use_schema(&self) -> bool {
        self.policy.scim_errors_use_schema
    }

    /// Whether user bodies may be `application/json` (false under the
    /// `refuse-plain-json` flaw).
    pub fn scim_accepts_plain_json(&self) -> bool {
        self.policy.scim_accepts_plain_json
    }

    /// Whether `If-Match` is compared before a write (false under the
    /// `ignore-if-match` flaw).
    /// Whether a body sent with this Content-Type is refused: the bare
    /// `application/scim+json` under the `refuse-bare-scim-json` flaw, which
    /// compares the whole header with the values it has seen.
    pub fn scim_refuses_media_type(&self, content_type: &str) -> bool {
        !self.policy.scim_accepts_bare_scim_json && content_type.trim().eq_ignore_ascii_case("application/scim+json")
    }

    pub fn scim_honours_if_match(&self) -> bool {
        self.policy.scim_honours_if_match
    }

    fn page_rules(&self) -> PageRules {
        PageRules {
            items_per_page_is_returned: self.policy.scim_items_per_page_is_returned,
            total_results_is_whole: self.policy.scim_total_results_is_whole,
        }
    }

    pub fn scim_get_user(&self, tenant: &str, id: &str) -> Result<ScimReply, ScimError> {
        let tenant = self.scim_tenant(tenant)?;
        let user = self
            .store
            .scim_user(&tenant.id, &UserId(id.to_owned()))
            .map_err(store_error)?
            .ok_or_else(|| ScimError::NotFound(id.to_owned()))?;
        Ok(self.render_user(tenant, &user))
    }

    /// Creates a user. The flag says whether a new user was made (201); it
    /// is false only under the `dup-returns-200` flaw, which answers a
    /// duplicate with the existing user. The write is queued for the
    /// store's writer thread while the task waits, so that no thread waits
    /// for the commit (see [`crate::store::write_queued`]).
    pub async fn scim_create_user(
        self: &Arc<Self>,
        tenant: &str,
        body: &Value,
    ) -> Result<(ScimReply, bool), ScimError> {
        let (config, write) = self.user_to_create(tenant, body)?;
        let id = UserId(new_id("usr"));
        let now = self.now();
        let (user, created) = self
            .scim_write_queued_in(tenant, move |sp, scope, config| sp.create_user_in(scope, config, &id, &write, now))
            .await?;
        Ok((self.render_user(config, &user), created))
    }

    /// The tenant and the user a create asks for, once its body is valid.
    fn user_to_create(&self, tenant: &str, body: &Value) -> Result<(&TenantConfig, ScimUserWrite), ScimError> {
        let tenant = self.scim_tenant(tenant)?;
        let write = self.user_write(tenant, body, None)?;
        self.require_attributes(tenant, body, None)?;
        Ok((tenant, write))
    }

    /// A create's write job: the new user, or, where the policy says so,
    /// the existing user of that userName.
    fn create_user_in(
        &self,
        scope: &dyn WriteScope,
        tenant: &TenantConfig,
        id: &UserId,
        write: &ScimUserWrite,
        now: OffsetDateTime,
    ) -> Result<(ScimUser, bool), ScimError> {
        match scope.scim_create_user(&tenant.id, id, write, now) {
            Ok(user) => Ok((user, true)),
            Err(StoreError::DuplicateUserName(name)) if !self.policy.scim_conflict_has_type => {
                Err(ScimError::Conflict(format!("a user with the userName '{name}' already exists")))
            }
            Err(StoreError::DuplicateUserName(_)) if !self.policy.scim_duplicate_is_conflict => {
                let users = scope.scim_users(&tenant.id).map_err(store_error)?;
                let existing = users
                    .into_iter()
                    .find(|u| u.user_name.eq_ignore_ascii_case(&write.user_name))
                    .ok_or_else(|| ScimError::Internal("the duplicate vanished".into()))?;
                Ok((existing, false))
            }
            Err(other) => Err(store_error(other)),
        }
    }

    /// The `jit-revives-deactivated` flaw: a JIT sign-in makes a deactivated
    /// account active again.
    pub(crate) fn revive(&self, tenant: &TenantConfig, id: &UserId) -> Result<(), ScimError> {
        let now = self.now();
        self.scim_write(|scope| {
            let Some(user) = scope.scim_user(&tenant.id, id).map_err(store_error)? else { return Ok(()) };
            let mut resource = user.resource.clone();
            resource["active"] = Value::Bool(true);
            let write = self.user_write(tenant, &resource, Some(scope))?;
            scope
                .scim_replace_user(&tenant.id, id, Some(user.version), &write, ReplaceEffects::CORRECT, now)
                .map_err(store_error)?;
            Ok(())
        })
    }

    /// Runs a SCIM write (its reads, the account rules and its writes) as
    /// one job of the store's shared transaction. Jobs run one at a time and
    /// each sees the writes ahead of it, so none is lost and the admin rules
    /// hold, while concurrent writes share one commit. The job is answered
    /// only after that commit; when the commit fails, its error wins.
    fn scim_write<T>(&self, job: impl FnOnce(&dyn WriteScope) -> Result<T, ScimError>) -> Result<T, ScimError> {
        self.store.write(job).map_err(store_error)?
    }

    /// A user write queued for the store's writer thread, answered with the
    /// user as written.
    async fn scim_user_write_queued(
        self: &Arc<Self>,
        tenant: &str,
        job: impl FnOnce(&Sp, &dyn WriteScope, &TenantConfig) -> Result<Option<ScimUser>, ScimError> + Send + 'static,
    ) -> Result<ScimReply, ScimError> {
        let config = self.scim_tenant(tenant)?;
        let written = self.scim_write_queued_in(tenant, job).await?;
        Ok(self.user_reply(config, written))
    }

    /// [`Sp::scim_write`] for a job in `tenant`, queued for the store's
    /// writer thread. The job owns what it uses, so it is given the SP and
    /// the tenant's config again where it runs.
    async fn scim_write_queued_in<T: Send + 'static>(
        self: &Arc<Self>,
        tenant: &str,
        job: impl FnOnce(&Sp, &dyn WriteScope, &TenantConfig) -> Result<T, ScimError> + Send + 'static,
    ) -> Result<T, ScimError> {
        let (sp, tenant) = (self.clone(), tenant.to_owned());
        let job = move |scope: &dyn WriteScope| job(&sp, scope, sp.scim_tenant(&tenant)?);
        crate::store::write_queued(&*self.store, job).await.map_err(store_error)?
    }

    fn current_user(
        scope: &dyn WriteScope,
        tenant: &TenantConfig,
        id: &UserId,
        if_match: Option<i64>,
    ) -> Result<ScimUser, ScimError> {
        let current =
            scope.scim_user(&tenant.id, id).map_err(store_error)?.ok_or_else(|| ScimError::NotFound(id.0.clone()))?;
        check_if_match(if_match, current.version)?;
        Ok(current)
    }

    /// PUT: the body replaces the resource; attributes it leaves out are
    /// cleared. The write is queued for the store's writer thread while the
    /// task waits.
    pub async fn scim_replace_user(
        self: &Arc<Self>,
        tenant: &str,
        id: &str,
        body: Value,
        if_match: Option<i64>,
    ) -> Result<ScimReply, ScimError> {
        let user_id = UserId(id.to_owned());
        self.scim_user_write_queued(tenant, move |sp, scope, config| {
            sp.replace_user_in(scope, config, &user_id, &body, if_match)
        })
        .await
    }

    /// A PUT's write job.
    fn replace_user_in(
        &self,
        scope: &dyn WriteScope,
        config: &TenantConfig,
        user_id: &UserId,
        body: &Value,
        if_match: Option<i64>,
    ) -> Result<Option<ScimUser>, ScimError> {
        let current = Self::current_user(scope, config, user_id, if_match)?;
        let mut body = if self.policy.scim_put_replaces { body.clone() } else { merge(&current.resource, body) };
        if !self.policy.scim_put_updates_name
            && let Some(object) = body.as_object_mut()
        {
            // The flawed PUT keeps the stored name, whatever the body says.
            let key = object.keys().find(|k| k.eq_ignore_ascii_case("name")).cloned();
            if let Some(key) = key {
                object.remove(&key);
            }
            if let Some(name) = filter::member(&current.resource, "name") {
                object.insert("name".into(), name.clone());
            }
        }
        self.require_attributes(config, &body, None)?;
        self.write_user(scope, config, &current, &body)
    }

    /// The answer to DELETE: a refusal with the reason for a user that
    /// exists, 404 for one that does not. Okta never deletes users; this SP
    /// deactivates instead and keeps the record.
    pub fn scim_user_delete_refusal(&self, tenant: &str, id: &str) -> ScimError {
        match self.scim_get_user(tenant, id) {
            Err(error) => error,
            Ok(_) => ScimError::MethodNotAllowed(
                "users are never deleted: deactivate with PATCH {\"op\":\"replace\",\"value\":{\"active\":false}}"
                    .into(),
            ),
        }
    }

    /// PATCH: the operations applied to the user. The write is queued for
    /// the store's writer thread while the task waits.
    pub async fn scim_patch_user(
        self: &Arc<Self>,
        tenant: &str,
        id: &str,
        body: &Value,
        if_match: Option<i64>,
    ) -> Result<ScimReply, ScimError> {
        // An unknown tenant is refused before the body is read.
        self.scim_tenant(tenant)?;
        let user_id = UserId(id.to_owned());
        let operations = patch::parse_request(body)?;
        self.scim_user_write_queued(tenant, move |sp, scope, config| {
            sp.patch_user_in(scope, config, &user_id, &operations, if_match)
        })
        .await
    }

    /// A PATCH's write job.
    fn patch_user_in(
        &self,
        scope: &dyn WriteScope,
        config: &TenantConfig,
        user_id: &UserId,
        operations: &[patch::PatchOp],
        if_match: Option<i64>,
    ) -> Result<Option<ScimUser>, ScimError> {
        let current = Self::current_user(scope, config, user_id, if_match)?;
        // The id is part of the resource a PATCH sees, so Okta's path-less
        // value naming the resource's own id is accepted.
        let mut base = current.resource.clone();
        base["id"] = Value::from(user_id.0.as_str());
        let patched = patch::apply(&base, operations, self.patch_rules())?;
        self.require_attributes(config, &patched, Some(&current.resource))?;
        self.write_user(scope, config, &current, &patched)
    }

    fn patch_rules(&self) -> PatchRules {
        PatchRules {
            apply_pathless: self.policy.scim_pathless_patch,
            apply_filtered_remove: self.policy.scim_filtered_remove,
            rename_keeps_members: self.policy.scim_rename_keeps_members,
            apply_member_add: self.policy.scim_applies_member_add,
            replace_members_replaces: self.policy.scim_replace_members_replaces,
            member_add_keeps_members: self.policy.scim_member_add_keeps_members,
        }
    }

    /// The reply to a user write: the user as written, or an empty body for
    /// a user the `deactivate-deletes` flaw deleted.
    fn user_reply(&self, tenant: &TenantConfig, written: Option<ScimUser>) -> ScimReply {
        match written {
            Some(user) => self.render_user(tenant, &user),
            None => ScimReply { body: json!({}), etag: None },
        }
    }

    /// Writes a user over `current`, which was read in the same write job.
    /// `None`: the user was deleted (the `deactivate-deletes` flaw).
    fn write_user(
        &self,
        scope: &dyn WriteScope,
        tenant: &TenantConfig,
        current: &ScimUser,
        body: &Value,
    ) -> Result<Option<ScimUser>, ScimError> {
        let id = &current.user.id;
        let mut write = self.user_write(tenant, body, Some(scope))?;
        // Without `active`, the account keeps its status: leaving the
        // attribute out never reactivates a deactivated user.
        if filter::member(body, "active").is_none_or(Value::is_null) {
            write.active = current.user.status == UserStatus::Active;
        }
        if !self.policy.scim_update_moves_email {
            // The `scim-update-keeps-email` flaw: the account signs in by the
            // email it was created with, whatever userName and emails say now.
            write.email = current.user.email.clone();
            write.email_normalised = current.user.email_normalised.clone();
        }
        self.keep_an_admin(scope, tenant, current, &write)?;
        // The `allow-owner-deactivation` flaw drops the owner's guard.
        if !self.policy.allow_owner_deactivation {
            Self::keep_the_credential_owner(tenant, current, &write)?;
        }
        if !write.active && self.policy.scim_deactivate_deletes {
            scope.delete_user(&tenant.id, id).map_err(store_error)?;
            return Ok(None);
        }
        let user = scope
            .scim_replace_user(
                &tenant.id,
                id,
                Some(current.version),
                &write,
                ReplaceEffects {
                    end_sessions: self.policy.scim_deactivate_ends_sessions,
                    unlink_old_email: self.policy.scim_email_change_unlinks_identity,
                },
                self.now(),
            )
            .map_err(|e| match e {
                StoreError::NotFound => ScimError::NotFound(id.0.clone()),
                other => store_error(other),
            })?;
        Ok(Some(user))
    }

    pub fn scim_list_groups(&self, tenant: &str, query: &ListQuery) -> Result<Value, ScimError> {
        let tenant = self.scim_tenant(tenant)?;
        let mut matching = Vec::new();
        let teams = self.store.teams(&tenant.id).map_err(store_error)?;
        // The `group-lookup-finds-nobody` flaw: a filtered list of groups is empty.
        let searchable =
            if query.filter.is_some() && !self.policy.scim_group_lookup_finds { &[][..] } else { &teams[..] };
        for team in searchable.iter().filter(|t| t.linked) {
            let rendered = self.render_team(tenant, team).body;
            if query.filter.as_ref().is_none_or(|f| filter::matches(f, &rendered, false)) {
                matching.push(rendered);
            }
        }
        if matching.is_empty() && query.filter.is_some() && !self.policy.scim_empty_filter_is_list {
            return Err(ScimError::NotFound("matching the filter".into()));
        }
        Ok(list::respond(matching, query, PAGE_SIZE, self.page_rules()))
    }

    pub fn scim_get_group(&self, tenant: &str, id: &str) -> Result<ScimReply, ScimError> {
        let tenant = self.scim_tenant(tenant)?;
        let team = self.store.team(&tenant.id, id).map_err(store_error)?;
        let team = team.filter(|t| t.linked).ok_or_else(|| ScimError::NotFound(id.to_owned()))?;
        Ok(self.render_team(tenant, &team))
    }

    fn team_write(input: resource::GroupInput) -> TeamWrite {
        TeamWrite {
            members: input.members.iter().map(|m| UserId(m.clone())).collect(),
            display_name: input.display_name,
            resource: input.stored,
        }
    }

    fn team_error(id: &str) -> impl Fn(StoreError) -> ScimError + '_ {
        move |e| match e {
            StoreError::NotFound => ScimError::InvalidValue(format!(
                "a member of group {id} is not a user of this tenant; provision the user before pushing the group"
            )),
            other => store_error(other),
        }
    }

    /// Group push: creates the team, or links the tenant's existing team of
    /// that name. A tenant with `teams_must_exist` refuses unknown names.
    pub fn scim_create_group(&self, tenant: &str, body: &Value) -> Result<ScimReply, ScimError> {
        let config = self.scim_tenant(tenant)?;
        let input = resource::validate_group(body)?;
        let id = new_id("grp");
        let now = self.now();
        let team = self.scim_write(|scope| {
            let existing = scope.team_by_name(&config.id, &input.display_name).map_err(store_error)?;
            if existing.as_ref().is_some_and(|t| t.linked) {
                return Err(ScimError::Uniqueness(format!("a group named '{}' already exists", input.display_name)));
            }
            // The `push-creates-teams` flaw creates the team anyway.
            let must_exist = config.scim.as_ref().is_some_and(|s| s.teams_must_exist)
                && self.policy.scim_push_links_existing_teams_only;
            if existing.is_none() && must_exist {
                return Err(ScimError::InvalidValue(format!(
                    "tenant {} has no team named '{}'; create the team in the app first, then push the group (pushed groups link to existing teams only)",
                    config.id, input.display_name
                )));
            }
            let name = input.display_name.clone();
            scope.create_or_link_team(&config.id, &id, &Self::team_write(input), now).map_err(Self::team_error(&name))
        })?;
        Ok(self.render_team(config, &team))
    }

    pub fn scim_replace_group(
        &self,
        tenant: &str,
        id: &str,
        body: &Value,
        if_match: Option<i64>,
    ) -> Result<ScimReply, ScimError> {
        let config = self.scim_tenant(tenant)?;
        let team = self.scim_write(|scope| {
            let current = Self::current_team(scope, config, id, if_match)?;
            self.write_group(scope, config, &current, body)
        })?;
        Ok(self.render_team(config, &team))
    }

    pub fn scim_patch_group(
        &self,
        tenant: &str,
        id: &str,
        body: &Value,
        if_match: Option<i64>,
    ) -> Result<ScimReply, ScimError> {
        let config = self.scim_tenant(tenant)?;
        let operations = patch::parse_request(body)?;
        let team = self.scim_write(|scope| {
            let current = Self::current_team(scope, config, id, if_match)?;
            let rendered = self.render_team(config, &current).body;
            let patched = patch::apply(&rendered, &operations, self.patch_rules())?;
            self.write_group(scope, config, &current, &patched)
        })?;
        Ok(self.render_team(config, &team))
    }

    fn current_team(
        scope: &dyn WriteScope,
        tenant: &TenantConfig,
        id: &str,
        if_match: Option<i64>,
    ) -> Result<Team, ScimError> {
        let current = scope.team(&tenant.id, id).map_err(store_error)?;
        let current = current.filter(|t| t.linked).ok_or_else(|| ScimError::NotFound(id.to_owned()))?;
        check_if_match(if_match, current.version)?;
        Ok(current)
    }

    /// Writes a group over `current`, which was read in the same write job.
    fn write_group(
        &self,
        scope: &dyn WriteScope,
        tenant: &TenantConfig,
        current: &Team,
        body: &Value,
    ) -> Result<Team, ScimError> {
        let input = resource::validate_group(body)?;
        let write = Self::team_write(input);
        self.keep_an_admin_in_teams(scope, tenant, current, &write)?;
        let team = scope.replace_team(&tenant.id, &current.id, Some(current.version), &write, self.now()).map_err(
            |e| match e {
                StoreError::NotFound => Self::team_error(&current.id)(StoreError::NotFound),
                other => store_error(other),
            },
        )?;
        if !self.policy.scim_membership_is_not_access {
            let left: Vec<UserId> =
                current.members.iter().map(|(id, _)| id.clone()).filter(|id| !write.members.contains(id)).collect();
            self.deactivate_leavers(scope, tenant, &left)?;
        }
        Ok(team)
    }

    /// The `sign-in-groups-replace-membership` flaw: the groups of a
    /// sign-in are read as the user's whole membership, so each pushed team
    /// the sign-in does not name loses the user. The correct SP never calls
    /// it: membership is Okta's SCIM push alone, and a groups claim Okta cut
    /// at 100 groups says nothing about the groups it left out.
    pub(crate) fn membership_from_sign_in(
        &self,
        tenant: &TenantConfig,
        user: &UserId,
        groups: &[String],
    ) -> Result<(), StoreError> {
        let now = self.now();
        self.store.write(|scope| {
            let Some(scim_user) = scope.scim_user(&tenant.id, user)? else { return Ok(()) };
            for (team_id, name) in &scim_user.teams {
                if groups.iter().any(|group| group == name) {
                    continue;
                }
                let Some(team) = scope.team(&tenant.id, team_id)? else { continue };
                let write = TeamWrite {
                    display_name: team.display_name.clone(),
                    resource: team.resource.clone(),
                    members: team.members.iter().map(|(id, _)| id.clone()).filter(|id| id != user).collect(),
                };
                scope.replace_team(&tenant.id, &team.id, Some(team.version), &write, now)?;
            }
            Ok(())
        })?
    }

    /// The `group-exit-deactivates` flaw: users who left a pushed group are
    /// deactivated, as if the group were their assignment.
    fn deactivate_leavers(
        &self,
        scope: &dyn WriteScope,
        tenant: &TenantConfig,
        left: &[UserId],
    ) -> Result<(), ScimError> {
        for id in left {
            let Some(user) = scope.scim_user(&tenant.id, id).map_err(store_error)? else { continue };
            if user.user.status != UserStatus::Active {
                continue;
            }
            let mut body = user.resource.clone();
            body["active"] = Value::Bool(false);
            self.write_user(scope, tenant, &user, &body)?;
        }
        Ok(())
    }

    /// A group write that empties or renames the admin team must leave the
    /// tenant an active admin, as a user write must.
    fn keep_an_admin_in_teams(
        &self,
        scope: &dyn WriteScope,
        tenant: &TenantConfig,
        current: &Team,
        write: &TeamWrite,
    ) -> Result<(), ScimError> {
        let was = tenant.is_admin_team(&current.display_name);
        let will_be = tenant.is_admin_team(&write.display_name);
        if !was && !will_be || self.policy.allow_last_admin_removal || self.policy.allow_last_admin_group_removal {
            return Ok(());
        }
        let users = scope.scim_users(&tenant.id).map_err(store_error)?;
        let admin_after = |user: &ScimUser| {
            let by_role = has_admin_role(&user.user.roles);
            let by_this_team = will_be && write.members.contains(&user.user.id);
            let by_other_team =
                user.teams.iter().any(|(team_id, name)| *team_id != current.id && tenant.is_admin_team(name));
            user.user.status == UserStatus::Active && (by_role || by_this_team || by_other_team)
        };
        let before = users.iter().filter(|u| Self::is_admin(tenant, u)).count();
        let after = users.iter().filter(|u| admin_after(u)).count();
        if before > 0 && after == 0 {
            return Err(ScimError::Conflict(format!(
                "this change to group '{}' would leave tenant {} without an active admin; make another user an admin first",
                current.display_name, tenant.id
            )));
        }
        Ok(())
    }

    /// Unlinks the team from the pushed group. Its users stay, and stay active.
    pub fn scim_delete_group(&self, tenant: &str, id: &str) -> Result<(), ScimError> {
        let config = self.scim_tenant(tenant)?;
        let left: Vec<UserId> = if self.policy.scim_membership_is_not_access {
            Vec::new()
        } else {
            let team = self.store.team(&config.id, id).map_err(store_error)?;
            team.map(|t| t.members.into_iter().map(|(user, _)| user).collect()).unwrap_or_default()
        };
        self.store.unlink_team(&config.id, id).map_err(|e| match e {
            StoreError::NotFound => ScimError::NotFound(id.to_owned()),
            other => store_error(other),
        })?;
        if !left.is_empty() {
            self.scim_write(|scope| self.deactivate_leavers(scope, config, &left))?;
        }
        Ok(())
    }

    /// Creates a team in the app (the admin API), for a push to link to later.
    pub fn create_local_team(&self, tenant: &str, name: &str) -> Result<Value, ScimError> {
        let config = self.scim_tenant(tenant)?;
        let name = name.trim();
        if name.is_empty() {
            return Err(ScimError::InvalidValue("a team needs a name".into()));
        }
        let id = new_id("grp");
        let team = self.store.create_local_team(&config.id, &id, name, self.now()).map_err(store_error)?;
        Ok(json!({ "id": team.id, "name": team.display_name, "linked": team.linked }))
    }
}

/// The flawed PUT of `put-partial-merge`: attributes the body leaves out
/// keep their old values.
fn merge(current: &Value, body: &Value) -> Value {
    let mut merged = current.clone();
    if let (Some(target), Some(values)) = (merged.as_object_mut(), body.as_object()) {
        for (key, value) in values {
            target.insert(key.clone(), value.clone());
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_reads_weak_and_strong_etags() {
        assert_eq!(parse_if_match(Some("W/\"3\"")), Ok(Some(3)));
        assert_eq!(parse_if_match(Some("\"4\"")), Ok(Some(4)));
        assert_eq!(parse_if_match(Some("*")), Ok(None));
        assert_eq!(parse_if_match(None), Ok(None));
        assert!(parse_if_match(Some("W/\"x\"")).is_err());
    }
}
