//! Reading an import as Okta shows it: each SCIM user and group, matched to
//! an Okta user or group or not.

use serde::Serialize;
use serde_json::Value;

use crate::ids::{AppId, GroupId, UserId};
use crate::org::Org;

/// The result of an import, as Okta's "Import" tab lists it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ImportReport {
    pub users_scanned: usize,
    pub users: Vec<ImportedUser>,
    pub groups_scanned: usize,
    pub groups: Vec<ImportedGroup>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImportedUser {
    pub scim_id: String,
    pub user_name: String,
    pub active: Option<bool>,
    /// The Okta user it matched: by link, or by the app username equal to the
    /// userName (ignoring case, as Okta's "exact match" on username does).
    pub matched_user: Option<UserId>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImportedGroup {
    pub scim_id: String,
    pub display_name: String,
    /// The Okta group it matched: by link, or by name.
    pub matched_group: Option<GroupId>,
}

/// Matches the imported resources to the org.
pub fn match_import(org: &Org, app: &AppId, users: &[Value], groups: &[Value]) -> ImportReport {
    let Some(found) = org.apps.get(app) else { return ImportReport::default() };
    let links = found.provisioning.as_ref().map(|settings| &settings.links);
    let text = |value: &Value, key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    let users = users
        .iter()
        .map(|resource| {
            let scim_id = text(resource, "id");
            let user_name = text(resource, "userName");
            let linked = links.and_then(|links| {
                links.users.iter().find(|(_, link)| link.scim_id == scim_id).map(|(user, _)| user.clone())
            });
            let by_name = || {
                org.assigned_users(found)
                    .into_iter()
                    .find(|user| org.app_user_name(found, user).eq_ignore_ascii_case(&user_name))
                    .map(|user| user.id.clone())
            };
            ImportedUser {
                active: resource.get("active").and_then(Value::as_bool),
                matched_user: linked.or_else(by_name),
                scim_id,
                user_name,
            }
        })
        .collect::<Vec<_>>();
    let groups = groups
        .iter()
        .map(|resource| {
            let scim_id = text(resource, "id");
            let display_name = text(resource, "displayName");
            let linked = links
                .and_then(|links| links.groups.iter().find(|(_, id)| **id == scim_id).map(|(group, _)| group.clone()));
            let by_name = || org.groups.values().find(|group| group.name == display_name).map(|group| group.id.clone());
            ImportedGroup { matched_group: linked.or_else(by_name), scim_id, display_name }
        })
        .collect::<Vec<_>>();
    ImportReport { users_scanned: users.len(), users, groups_scanned: groups.len(), groups }
}
