//! The JSON views of the management API: users, groups, apps and their
//! assignments in Okta's member order, with Okta's `_links`.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::ids::{AppId, GroupId, UserId};
use crate::org::oidc::GrantType;
use crate::org::{App, AppGroup, Group, Org, SignOn, User};
use crate::saml::response::saml_time;

fn time_or_null(instant: Option<OffsetDateTime>) -> Value {
    instant.map_or(Value::Null, |t| Value::String(saml_time(t)))
}

pub fn user_json(org: &Org, user: &User) -> Value {
    json!({
        "id": user.id,
        "status": user.status.as_str(),
        "created": saml_time(user.created),
        "activated": time_or_null(user.activated),
        "statusChanged": time_or_null(user.status_changed),
        "lastLogin": Value::Null,
        "lastUpdated": saml_time(user.last_updated),
        "passwordChanged": Value::Null,
        "type": { "id": format!("oty{}", &org.id[3..]) },
        "profile": user.profile.to_json(),
        "credentials": { "provider": { "type": "OKTA", "name": "OKTA" } },
        "_links": { "self": { "href": format!("{}/api/v1/users/{}", org.url, user.id) } },
    })
}

pub fn group_json(org: &Org, group: &Group) -> Value {
    json!({
        "id": group.id,
        "created": saml_time(group.created),
        "lastUpdated": saml_time(group.last_updated),
        "lastMembershipUpdated": saml_time(group.last_updated),
        "objectClass": ["okta:user_group"],
        "type": "OKTA_GROUP",
        "profile": { "name": group.name, "description": group.description },
        "_links": {
            "self": { "href": format!("{}/api/v1/groups/{}", org.url, group.id) },
            "users": { "href": format!("{}/api/v1/groups/{}/users", org.url, group.id) },
        },
    })
}

pub fn app_json(org: &Org, app: &App) -> Value {
    let links = json!({
        "users": { "href": format!("{}/api/v1/apps/{}/users", org.url, app.id) },
        "groups": { "href": format!("{}/api/v1/apps/{}/groups", org.url, app.id) },
    });
    let mut value = match &app.sign_on {
        SignOn::Saml(saml) => json!({
            "id": app.id,
            "name": saml.instance_name,
            "label": app.label,
            "status": if app.active { "ACTIVE" } else { "INACTIVE" },
            "created": saml_time(app.created),
            "signOnMode": app.sign_on_mode(),
            "settings": { "signOn": {
                "ssoAcsUrl": saml.sso_url,
                "acsEndpoints": saml.other_sso_urls,
                "recipient": saml.recipient,
                "destination": saml.destination,
                "audience": saml.audience,
                "defaultRelayState": saml.default_relay_state,
                "subjectNameIdFormat": saml.name_id_format.urn(),
                "responseSigned": saml.signing.signs_response(),
                "assertionSigned": saml.signing.signs_assertion(),
                "signatureAlgorithm": match saml.signature_algorithm {
                    crate::org::SignatureAlgorithm::RsaSha256 => "RSA_SHA256",
                    crate::org::SignatureAlgorithm::RsaSha1 => "RSA_SHA1",
                },
                "authnContextClassRef": saml.authn_context_class_ref,
                "honorForceAuthn": saml.honor_force_authn,
            }},
            "_links": {
                "metadata": { "href": crate::saml::metadata::metadata_url(&org.url, saml), "type": "application/xml" },
                "appLinks": [{ "name": saml.instance_name, "href": crate::saml::metadata::embed_link(&org.url, app, saml), "type": "text/html" }],
            },
        }),
        // Okta's OIDC app shape: the client id and authentication method
        // under credentials, the redirect URIs and grants under settings. The
        // secret is never shown, as in Okta's list responses.
        SignOn::Oidc(oidc) => json!({
            "id": app.id,
            "name": "oidc_client",
            "label": app.label,
            "status": if app.active { "ACTIVE" } else { "INACTIVE" },
            "created": saml_time(app.created),
            "signOnMode": app.sign_on_mode(),
            "credentials": { "oauthClient": {
                "autoKeyRotation": true,
                "client_id": app.id,
                "token_endpoint_auth_method": oidc.token_endpoint_auth_method.as_str(),
                "pkce_required": oidc.requires_pkce(),
            }},
            "settings": { "oauthClient": {
                "redirect_uris": oidc.redirect_uris,
                "post_logout_redirect_uris": oidc.post_logout_redirect_uris,
                "response_types": if oidc.allows_grant(GrantType::AuthorizationCode) { vec!["code"] } else { vec!["token"] },
                "grant_types": oidc.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
                "application_type": oidc.application_type.as_str(),
            }},
            "_links": {},
        }),
    };
    if let (Some(target), Value::Object(extra)) = (value.pointer_mut("/_links").and_then(Value::as_object_mut), links) {
        target.extend(extra);
    }
    value
}

pub(super) fn app_user_json(org: &Org, app: &App, user: &User, scope: &str) -> Value {
    let assignment = app.users.get(&user.id);
    json!({
        "id": user.id,
        "scope": scope,
        "status": if user.status.can_sign_in() { "ACTIVE" } else { "INACTIVE" },
        "created": time_or_null(assignment.and_then(|a| a.created)),
        "credentials": { "userName": org.app_user_name(app, user) },
        "profile": org.app_profile(app, &user.id),
        "_links": {
            "app": { "href": format!("{}/api/v1/apps/{}", org.url, app.id) },
            "user": { "href": format!("{}/api/v1/users/{}", org.url, user.id) },
        },
    })
}

pub(super) fn app_group_json(org: &Org, app: &App, group: &GroupId, assignment: &AppGroup) -> Value {
    json!({
        "id": group,
        "priority": assignment.priority,
        "profile": assignment.profile,
        "_links": {
            "app": { "href": format!("{}/api/v1/apps/{}", org.url, app.id) },
            "group": { "href": format!("{}/api/v1/groups/{}", org.url, group) },
        },
    })
}

// The views of what a management operation acted on, by the ids in its
// `Applied`. A missing entity renders as `null`: the operation that returned
// the id has just written it under the same lock, so that is never seen.

pub fn user_by_id(org: &Org, user: &UserId) -> Value {
    org.users.get(user).map_or(Value::Null, |u| user_json(org, u))
}

pub fn group_by_id(org: &Org, group: &GroupId) -> Value {
    org.groups.get(group).map_or(Value::Null, |g| group_json(org, g))
}

/// An app user: `USER` scope when assigned directly, `GROUP` through a group.
pub fn app_user_by_id(org: &Org, (app, user): &(AppId, UserId)) -> Value {
    match (org.apps.get(app), org.users.get(user)) {
        (Some(app), Some(found)) => {
            app_user_json(org, app, found, if app.users.contains_key(user) { "USER" } else { "GROUP" })
        }
        _ => Value::Null,
    }
}

pub fn app_group_by_id(org: &Org, (app, group): &(AppId, GroupId)) -> Value {
    match org.apps.get(app).and_then(|a| Some((a, a.groups.get(group)?))) {
        Some((app, assignment)) => app_group_json(org, app, group, assignment),
        None => Value::Null,
    }
}

/// An app's SCIM provisioning settings and links, secrets left out.
pub fn provisioning_json(app: &App) -> Value {
    let Some(settings) = app.provisioning.as_ref() else { return Value::Null };
    let users: serde_json::Map<String, Value> = settings
        .links
        .users
        .iter()
        .map(|(user, link)| (user.to_string(), json!({"externalId": link.scim_id, "active": link.active})))
        .collect();
    let groups: serde_json::Map<String, Value> =
        settings.links.groups.iter().map(|(group, id)| (group.to_string(), json!(id))).collect();
    json!({
        "baseUrl": settings.base_url,
        "authScheme": settings.authentication.mode(),
        "uniqueIdentifier": settings.unique_identifier,
        "features": settings.features.enabled_names(),
        "passwordChange": settings.password_change.as_okta(),
        "connectionActive": settings.connection_active,
        "requestProfile": settings.request_profile.as_str(),
        "mappings": settings
            .mappings
            .iter()
            .map(|m| json!({"scim": m.target.text(), "value": m.source.expression()}))
            .collect::<Vec<_>>(),
        "pushGroups": settings.pushed_groups,
        "links": {"users": users, "groups": groups},
    })
}
