//! The store's trait test suite. Every check is a generic function over the
//! role traits it needs, so a second backend (PostgreSQL, say) is proved
//! equal to SQLite by adding one line to `store_suite!` at the bottom.

use reference_sp::config::{Provisioning, TenantId, TenantSettings};
use reference_sp::store::sqlite::SqliteStore;
use reference_sp::store::{
    NewUser, PendingSignIn, ReplaceEffects, ScimGroupStore, ScimOAuthStore, ScimUserStore, ScimUserWrite, SessionStore,
    SettingsStore, SignInProtocol, SignInStore, StoreError, TeamWrite, UserId, UserStatus,
};
use time::{Duration, OffsetDateTime};

fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).unwrap()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
}

/// The settings every test tenant of the store starts with: just-in-time
/// provisioning for `acme.test` emails, IdP-initiated sign-in allowed, 180 s
/// of clock skew, and every other option off.
pub(crate) fn settings() -> TenantSettings {
    TenantSettings {
        default_relay_state: "/".into(),
        allowed_email_domains: vec!["acme.test".into()],
        provisioning: Provisioning::Jit,
        allow_idp_initiated: true,
        clock_skew_seconds: 180,
        allow_sha1: false,
        sso_required: false,
        admin_signed_in_via_idp: false,
        link_accounts_by_verified_email: false,
    }
}

/// Writes the tenants `acme` and `globex`, as the SP does at start.
fn with_tenants<S: SettingsStore>(store: S) -> S {
    store.sync_tenant(&tenant("acme"), "Acme", &settings()).unwrap();
    store.sync_tenant(&tenant("globex"), "Globex", &settings()).unwrap();
    store
}

fn new_user(tenant_name: &str, email: &str) -> NewUser {
    NewUser {
        tenant: tenant(tenant_name),
        email: email.into(),
        email_normalised: reference_sp::email::normalise(email),
        name: email.into(),
        roles: vec![],
    }
}

fn scim_write(user_name: &str, active: bool) -> ScimUserWrite {
    ScimUserWrite {
        user_name: user_name.into(),
        email: user_name.into(),
        email_normalised: reference_sp::email::normalise(user_name),
        name: user_name.into(),
        active,
        roles: vec![],
        resource: serde_json::json!({ "userName": user_name, "active": active }),
    }
}

fn pending(tenant_name: &str, request_id: &str) -> PendingSignIn {
    PendingSignIn {
        tenant: tenant(tenant_name),
        protocol: SignInProtocol::Saml,
        request_id: request_id.into(),
        nonce: None,
        code_verifier: None,
        return_to: "/x".into(),
    }
}

pub(crate) fn settings_keep_the_lockout_facts(store: impl SettingsStore) {
    let acme = tenant("acme");
    assert_eq!(store.tenant_settings(&acme).unwrap(), None);
    store.sync_tenant(&acme, "Acme", &settings()).unwrap();
    store.mark_admin_signed_in(&acme).unwrap();
    let mut changed = settings();
    changed.sso_required = true;
    store.update_tenant_settings(&acme, &changed).unwrap();
    let stored = store.tenant_settings(&acme).unwrap().unwrap();
    assert!(stored.admin_signed_in_via_idp, "an update never clears the fact");
    assert!(stored.sso_required);
    // A restart writes the config's settings again, but not over the facts.
    store.sync_tenant(&acme, "Acme", &settings()).unwrap();
    let restarted = store.tenant_settings(&acme).unwrap().unwrap();
    assert!(restarted.admin_signed_in_via_idp && restarted.sso_required);
}

pub(crate) fn accounts_match_by_normalised_email_and_by_identity(store: impl SignInStore + SettingsStore) {
    let store = with_tenants(store);
    let acme = tenant("acme");
    let alice = store.create_user(new_user("acme", "alice@acme.test"), UserId("usr_1".into())).unwrap();
    let duplicate = store.create_user(new_user("acme", "ALICE@acme.test"), UserId("usr_2".into())).unwrap_err();
    assert!(matches!(duplicate, StoreError::DuplicateEmail(_)), "{duplicate:?}");
    // The same address in another tenant is another account.
    store.create_user(new_user("globex", "alice@acme.test"), UserId("usr_3".into())).unwrap();
    assert_eq!(store.list_users(&acme).unwrap(), vec![alice.clone()]);
    assert_eq!(store.user_by_email(&acme, "alice@acme.test").unwrap(), Some(alice.clone()));
    assert_eq!(store.user(&alice.id).unwrap(), Some(alice.clone()));
    assert_eq!(store.user_by_identity(&acme, "https://idp", "00u1").unwrap(), None);
    store.link_identity(&acme, "https://idp", "00u1", &alice.id).unwrap();
    assert_eq!(store.user_by_identity(&acme, "https://idp", "00u1").unwrap(), Some(alice));
    assert_eq!(store.user_by_identity(&tenant("globex"), "https://idp", "00u1").unwrap(), None);
}

pub(crate) fn a_licence_is_given_once_and_kept(store: impl SignInStore + SettingsStore) {
    let store = with_tenants(store);
    let alice = store.create_user(new_user("acme", "alice@acme.test"), UserId("usr_1".into())).unwrap();
    let bob = store.create_user(new_user("acme", "bob@acme.test"), UserId("usr_2".into())).unwrap();
    assert_eq!(store.licence(&alice.id).unwrap(), None);
    store.grant_licence(&alice.id, "dictation").unwrap();
    // A second grant changes nothing: the licence first given stays.
    store.grant_licence(&alice.id, "other").unwrap();
    assert_eq!(store.licence(&alice.id).unwrap(), Some("dictation".to_owned()));
    assert_eq!(store.licence(&bob.id).unwrap(), None);
}

pub(crate) fn a_message_id_is_accepted_once_until_it_expires(store: impl SignInStore + SettingsStore) {
    let store = with_tenants(store);
    let acme = tenant("acme");
    let until = now() + Duration::minutes(5);
    assert!(store.remember_message_id(&acme, "id1", until, now()).unwrap());
    assert!(!store.remember_message_id(&acme, "id1", until, now()).unwrap());
    assert!(store.remember_message_id(&tenant("globex"), "id1", until, now()).unwrap(), "per tenant");
    let later = until + Duration::seconds(1);
    assert!(store.remember_message_id(&acme, "id1", later + Duration::minutes(5), later).unwrap());
}

pub(crate) fn a_pending_sign_in_is_taken_once_and_expires(store: impl SignInStore + SettingsStore) {
    let store = with_tenants(store);
    let expires = now() + Duration::minutes(10);
    let mut oidc = pending("acme", "state-1");
    oidc.protocol = SignInProtocol::Oidc;
    oidc.nonce = Some("nonce-1".into());
    oidc.code_verifier = Some("verifier-1".into());
    store.save_pending_sign_in("h1", &oidc, expires, now(), 10).unwrap();
    assert_eq!(store.take_pending_sign_in("h1", now()).unwrap(), Some(oidc));
    assert_eq!(store.take_pending_sign_in("h1", now()).unwrap(), None);
    store.save_pending_sign_in("h2", &pending("acme", "_r2"), expires, now(), 10).unwrap();
    assert_eq!(store.take_pending_sign_in("h2", expires).unwrap(), None, "expired");
}

pub(crate) fn pending_sign_ins_are_bounded_per_tenant(store: impl SignInStore + SettingsStore) {
    let store = with_tenants(store);
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    store.save_pending_sign_in("globex", &pending("globex", "_g"), now() + Duration::minutes(10), now(), 5).unwrap();
    // Expired sign-ins go on the next write whatever the cap.
    for index in 0..4 {
        let at = now() - Duration::minutes(20);
        store
            .save_pending_sign_in(&format!("old{index}"), &pending("acme", "_o"), at + Duration::minutes(10), at, 5)
            .unwrap();
    }
    // A flood of sign-ins that nobody completes.
    for index in 0..50 {
        let at = now() + Duration::seconds(index);
        let hash = format!("flood{index}");
        store.save_pending_sign_in(&hash, &pending("acme", "_f"), at + Duration::minutes(10), at, 5).unwrap();
        assert!(store.pending_sign_in_count(&acme).unwrap() <= 5);
    }
    assert_eq!(store.pending_sign_in_count(&acme).unwrap(), 5);
    assert_eq!(store.pending_sign_in_count(&globex).unwrap(), 1, "another tenant's flood pushes out nothing here");
    let at = now() + Duration::seconds(60);
    assert_eq!(store.take_pending_sign_in("flood0", at).unwrap(), None, "the oldest was pushed out");
    assert_eq!(store.take_pending_sign_in("flood49", at).unwrap(), Some(pending("acme", "_f")), "the newest stays");
    assert_eq!(store.take_pending_sign_in("globex", at).unwrap(), Some(pending("globex", "_g")));
}

pub(crate) fn sessions_expire_and_end(store: impl SessionStore + SignInStore + SettingsStore) {
    let store = with_tenants(store);
    let bob = store.create_user(new_user("acme", "bob@acme.test"), UserId("usr_b".into())).unwrap();
    store.create_session("s", &bob.id, &["g".into()], None, now(), now() + Duration::hours(1)).unwrap();
    let session = store.session("s", now()).unwrap().unwrap();
    assert_eq!((session.user, session.groups), (bob, vec!["g".to_owned()]));
    assert_eq!(store.session("s", now() + Duration::hours(2)).unwrap(), None);
    store.delete_session("s").unwrap();
    assert_eq!(store.session("s", now()).unwrap(), None);
}

pub(crate) fn saml_sessions_end_by_name_id_and_session_index(store: impl SessionStore + SignInStore + SettingsStore) {
    use reference_sp::store::SamlSessionKey;
    let store = with_tenants(store);
    let bob = store.create_user(new_user("acme", "bob@acme.test"), UserId("usr_b".into())).unwrap();
    let other_tenant = store.create_user(new_user("globex", "bob@acme.test"), UserId("usr_g".into())).unwrap();
    let key = |index: &str| SamlSessionKey { name_id: "bob@acme.test".into(), session_index: Some(index.into()) };
    let later = now() + Duration::hours(1);
    store.create_session("first", &bob.id, &[], Some(&key("i1")), now(), later).unwrap();
    store.create_session("second", &bob.id, &[], Some(&key("i2")), now(), later).unwrap();
    store.create_session("globex", &other_tenant.id, &[], Some(&key("i1")), now(), later).unwrap();
    store.create_session("oidc", &bob.id, &[], None, now(), later).unwrap();
    assert_eq!(store.session_saml_key("first", now()).unwrap(), Some(key("i1")));
    assert_eq!(store.session_saml_key("oidc", now()).unwrap(), None, "an OIDC session keeps no SAML key");
    let acme = tenant("acme");
    assert_eq!(store.end_saml_sessions(&acme, "bob@acme.test", &["i1".into()]).unwrap(), 1);
    assert_eq!(store.session("first", now()).unwrap(), None);
    assert!(store.session("second", now()).unwrap().is_some(), "another SessionIndex stays");
    assert!(store.session("globex", now()).unwrap().is_some(), "another tenant's session stays");
    assert_eq!(store.end_saml_sessions(&acme, "someone@acme.test", &[]).unwrap(), 0);
    assert_eq!(store.end_saml_sessions(&acme, "bob@acme.test", &[]).unwrap(), 1, "no SessionIndex: all of them");
    assert!(store.session("oidc", now()).unwrap().is_some(), "an OIDC session is not a SAML one");
}

pub(crate) fn a_session_keeps_its_oidc_refresh_grant(store: impl SessionStore + SignInStore + SettingsStore) {
    let store = with_tenants(store);
    let bob = store.create_user(new_user("acme", "bob@acme.test"), UserId("usr_b".into())).unwrap();
    store.create_session("s", &bob.id, &[], None, now(), now() + Duration::hours(1)).unwrap();
    assert_eq!(store.session_oidc_refresh("s", now()).unwrap(), None, "a new session keeps no grant");
    let grant = reference_sp::store::OidcRefreshGrant {
        refresh_token: "rt-1".into(),
        issuer: "https://idp.test".into(),
        subject: "00u1".into(),
        audiences: vec!["client".into()],
        auth_time: Some(1_700_000_000),
    };
    store.set_session_oidc_refresh("s", Some(&grant)).unwrap();
    assert_eq!(store.session_oidc_refresh("s", now()).unwrap(), Some(grant.clone()));
    assert_eq!(store.session_oidc_refresh("s", now() + Duration::hours(2)).unwrap(), None, "expired with its session");
    store.set_session_oidc_refresh("s", None).unwrap();
    assert_eq!(store.session_oidc_refresh("s", now()).unwrap(), None);
    store.set_session_oidc_refresh("s", Some(&grant)).unwrap();
    store.delete_session("s").unwrap();
    assert_eq!(store.session_oidc_refresh("s", now()).unwrap(), None, "gone with its session");
}

pub(crate) fn scim_users_write_conditionally_and_deactivation_ends_sessions(
    store: impl ScimUserStore + SessionStore + SettingsStore,
) {
    let store = with_tenants(store);
    let acme = tenant("acme");
    let id = UserId("usr_s".into());
    let created = store.scim_create_user(&acme, &id, &scim_write("Carol@acme.test", true), now()).unwrap();
    assert_eq!((created.version, created.user.status), (1, UserStatus::Active));
    let duplicate = store
        .scim_create_user(&acme, &UserId("usr_t".into()), &scim_write("carol@ACME.test", true), now())
        .unwrap_err();
    assert!(matches!(duplicate, StoreError::DuplicateUserName(_)), "{duplicate:?}");
    assert_eq!(store.scim_user_by_user_name(&acme, "CAROL@acme.test").unwrap().map(|u| u.user.id), Some(id.clone()));
    store.create_session("c", &id, &[], None, now(), now() + Duration::hours(1)).unwrap();
    let stale = store.scim_replace_user(
        &acme,
        &id,
        Some(7),
        &scim_write("carol@acme.test", false),
        ReplaceEffects::CORRECT,
        now(),
    );
    assert!(matches!(stale, Err(StoreError::VersionMismatch(1))), "{stale:?}");
    assert!(store.session("c", now()).unwrap().is_some(), "a refused write changes nothing");
    let replaced = store
        .scim_replace_user(&acme, &id, Some(1), &scim_write("carol@acme.test", false), ReplaceEffects::CORRECT, now())
        .unwrap();
    assert_eq!((replaced.version, replaced.user.status), (2, UserStatus::Deactivated));
    assert_eq!(store.session("c", now()).unwrap(), None);
    let missing = store.scim_replace_user(
        &acme,
        &UserId("usr_x".into()),
        None,
        &scim_write("x@acme.test", true),
        ReplaceEffects::CORRECT,
        now(),
    );
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    for index in 0..5 {
        let user_name = format!("page{index}@acme.test");
        store.scim_create_user(&acme, &UserId(format!("usr_p{index}")), &scim_write(&user_name, true), now()).unwrap();
    }
    let (page, total) = store.scim_users_page(&acme, 2, 2).unwrap();
    assert_eq!(total, 6);
    assert_eq!(page.iter().map(|u| u.user.id.0.as_str()).collect::<Vec<_>>(), ["usr_p1", "usr_p2"]);
    assert_eq!(store.scim_users(&acme).unwrap().len(), 6);
    assert!(store.scim_users(&tenant("globex")).unwrap().is_empty());
    store.delete_user(&acme, &id).unwrap();
    assert_eq!(store.scim_user(&acme, &id).unwrap(), None);
}

pub(crate) fn scim_credentials_are_per_tenant(store: impl ScimUserStore + SettingsStore) {
    let store = with_tenants(store);
    assert_eq!(store.scim_credential(&tenant("acme")).unwrap(), None);
    store.set_scim_credential(&tenant("acme"), "hash-1").unwrap();
    store.set_scim_credential(&tenant("acme"), "hash-2").unwrap();
    assert_eq!(store.scim_credential(&tenant("acme")).unwrap().as_deref(), Some("hash-2"));
    assert_eq!(store.scim_credential(&tenant("globex")).unwrap(), None);
}

pub(crate) fn scim_oauth_codes_are_single_use_and_refresh_tokens_rotate(store: impl ScimOAuthStore + SettingsStore) {
    use reference_sp::store::{NewOAuthTokens, RefreshRedemption};
    let store = with_tenants(store);
    let acme = tenant("acme");
    let later = now() + Duration::seconds(30);
    store.save_scim_oauth_code(&acme, "code-1", "https://okta.test/cb", later, now(), 2).unwrap();
    assert_eq!(store.take_scim_oauth_code(&tenant("globex"), "code-1", now()).unwrap(), None, "another tenant's");
    assert_eq!(store.take_scim_oauth_code(&acme, "code-1", now()).unwrap(), None, "the wrong tenant used it up");
    store.save_scim_oauth_code(&acme, "code-2", "https://okta.test/cb", later, now(), 2).unwrap();
    assert_eq!(store.take_scim_oauth_code(&acme, "code-2", now()).unwrap().as_deref(), Some("https://okta.test/cb"));
    assert_eq!(store.take_scim_oauth_code(&acme, "code-2", now()).unwrap(), None, "single use");
    store.save_scim_oauth_code(&acme, "code-3", "https://okta.test/cb", later, now(), 2).unwrap();
    assert_eq!(store.take_scim_oauth_code(&acme, "code-3", later).unwrap(), None, "expired");
    for n in 0..3 {
        store.save_scim_oauth_code(&acme, &format!("many-{n}"), "u", later, now(), 2).unwrap();
    }
    assert_eq!(store.take_scim_oauth_code(&acme, "many-0", now()).unwrap(), None, "at most two are kept");
    assert!(store.take_scim_oauth_code(&acme, "many-2", now()).unwrap().is_some());

    let tokens = |n: u32| NewOAuthTokens {
        access_hash: format!("access-{n}"),
        access_expires: now() + Duration::seconds(60),
        refresh_hash: format!("refresh-{n}"),
        refresh_expires: now() + Duration::seconds(600),
    };
    store.save_scim_oauth_tokens(&acme, "grant-a", &tokens(1), now()).unwrap();
    assert!(store.scim_oauth_access_token_live(&acme, "access-1", now()).unwrap());
    assert!(!store.scim_oauth_access_token_live(&acme, "access-1", now() + Duration::seconds(60)).unwrap(), "expired");
    assert!(!store.scim_oauth_access_token_live(&tenant("globex"), "access-1", now()).unwrap());
    assert!(
        !store.scim_oauth_access_token_live(&acme, "refresh-1", now()).unwrap(),
        "a refresh token is no access token"
    );
    assert_eq!(
        store.redeem_scim_oauth_refresh_token(&acme, "access-1", &tokens(9), now()).unwrap(),
        RefreshRedemption::Unknown
    );
    assert_eq!(
        store.redeem_scim_oauth_refresh_token(&acme, "refresh-1", &tokens(2), now()).unwrap(),
        RefreshRedemption::Rotated
    );
    assert!(store.scim_oauth_access_token_live(&acme, "access-2", now()).unwrap());
    // The rotated token again: a replay, so the grant's tokens all go.
    assert_eq!(
        store.redeem_scim_oauth_refresh_token(&acme, "refresh-1", &tokens(3), now()).unwrap(),
        RefreshRedemption::Reused
    );
    assert!(!store.scim_oauth_access_token_live(&acme, "access-2", now()).unwrap());
    assert!(!store.scim_oauth_access_token_live(&acme, "access-3", now()).unwrap());
    assert_eq!(
        store.redeem_scim_oauth_refresh_token(&acme, "refresh-2", &tokens(4), now()).unwrap(),
        RefreshRedemption::Unknown
    );
    store.save_scim_oauth_tokens(&acme, "grant-b", &tokens(5), now()).unwrap();
    let expired = now() + Duration::seconds(600);
    assert_eq!(
        store.redeem_scim_oauth_refresh_token(&acme, "refresh-5", &tokens(6), expired).unwrap(),
        RefreshRedemption::Unknown
    );
}

pub(crate) fn teams_link_rename_and_keep_their_tenant(store: impl ScimGroupStore + ScimUserStore + SettingsStore) {
    let store = with_tenants(store);
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    let dave = UserId("usr_d".into());
    store.scim_create_user(&acme, &dave, &scim_write("dave@acme.test", true), now()).unwrap();
    let outsider = UserId("usr_o".into());
    store.scim_create_user(&globex, &outsider, &scim_write("olga@acme.test", true), now()).unwrap();
    let local = store.create_local_team(&acme, "grp_local", "Engineering", now()).unwrap();
    assert!(!local.linked);
    let duplicate = store.create_local_team(&acme, "grp_other", "ENGINEERING", now()).unwrap_err();
    assert!(matches!(duplicate, StoreError::DuplicateTeam(_)), "{duplicate:?}");
    let write = |name: &str, members: Vec<UserId>| TeamWrite {
        display_name: name.into(),
        resource: serde_json::json!({ "displayName": name }),
        members,
    };
    let linked = store.create_or_link_team(&acme, "grp_new", &write("engineering", vec![dave.clone()]), now()).unwrap();
    assert_eq!((linked.id.as_str(), linked.linked), ("grp_local", true), "a push links the team of that name");
    let again = store.create_or_link_team(&acme, "grp_new", &write("Engineering", vec![]), now()).unwrap_err();
    assert!(matches!(again, StoreError::DuplicateTeam(_)), "{again:?}");
    let foreign = store.replace_team(&acme, "grp_local", None, &write("Eng", vec![outsider]), now()).unwrap_err();
    assert!(matches!(foreign, StoreError::NotFound), "another tenant's user is no member: {foreign:?}");
    let stale = store.replace_team(&acme, "grp_local", Some(1), &write("Eng", vec![]), now()).unwrap_err();
    assert!(matches!(stale, StoreError::VersionMismatch(_)), "{stale:?}");
    let renamed = store.replace_team(&acme, "grp_local", None, &write("Eng", vec![dave.clone()]), now()).unwrap();
    assert_eq!(renamed.display_name, "Eng");
    assert_eq!(renamed.members.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), vec![dave.clone()]);
    assert_eq!(store.team_by_name(&acme, "ENG").unwrap().map(|t| t.id), Some("grp_local".into()));
    assert_eq!(store.scim_user(&acme, &dave).unwrap().unwrap().teams, vec![("grp_local".into(), "Eng".into())]);
    store.unlink_team(&acme, "grp_local").unwrap();
    assert!(matches!(store.unlink_team(&acme, "grp_local"), Err(StoreError::NotFound)));
    let unlinked = store.team(&acme, "grp_local").unwrap().unwrap();
    assert!(!unlinked.linked && unlinked.members.len() == 1, "unlinking keeps the team and its members");
    assert_eq!(store.teams(&globex).unwrap(), vec![]);
}

/// Runs every check of the suite against one backend; `$make` builds a
/// fresh, empty store in the directory it is given, which lives as long as
/// the check.
macro_rules! store_suite {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;

            #[test]
            fn settings_keep_the_lockout_facts() {
                let dir = tempfile::tempdir().unwrap();
                super::settings_keep_the_lockout_facts(($make)(dir.path()));
            }

            #[test]
            fn accounts_match_by_normalised_email_and_by_identity() {
                let dir = tempfile::tempdir().unwrap();
                super::accounts_match_by_normalised_email_and_by_identity(($make)(dir.path()));
            }

            #[test]
            fn a_licence_is_given_once_and_kept() {
                let dir = tempfile::tempdir().unwrap();
                super::a_licence_is_given_once_and_kept(($make)(dir.path()));
            }

            #[test]
            fn a_message_id_is_accepted_once_until_it_expires() {
                let dir = tempfile::tempdir().unwrap();
                super::a_message_id_is_accepted_once_until_it_expires(($make)(dir.path()));
            }

            #[test]
            fn a_pending_sign_in_is_taken_once_and_expires() {
                let dir = tempfile::tempdir().unwrap();
                super::a_pending_sign_in_is_taken_once_and_expires(($make)(dir.path()));
            }

            #[test]
            fn pending_sign_ins_are_bounded_per_tenant() {
                let dir = tempfile::tempdir().unwrap();
                super::pending_sign_ins_are_bounded_per_tenant(($make)(dir.path()));
            }

            #[test]
            fn sessions_expire_and_end() {
                let dir = tempfile::tempdir().unwrap();
                super::sessions_expire_and_end(($make)(dir.path()));
            }

            #[test]
            fn saml_sessions_end_by_name_id_and_session_index() {
                let dir = tempfile::tempdir().unwrap();
                super::saml_sessions_end_by_name_id_and_session_index(($make)(dir.path()));
            }

            #[test]
            fn a_session_keeps_its_oidc_refresh_grant() {
                let dir = tempfile::tempdir().unwrap();
                super::a_session_keeps_its_oidc_refresh_grant(($make)(dir.path()));
            }

            #[test]
            fn scim_users_write_conditionally_and_deactivation_ends_sessions() {
                let dir = tempfile::tempdir().unwrap();
                super::scim_users_write_conditionally_and_deactivation_ends_sessions(($make)(dir.path()));
            }

            #[test]
            fn scim_credentials_are_per_tenant() {
                let dir = tempfile::tempdir().unwrap();
                super::scim_credentials_are_per_tenant(($make)(dir.path()));
            }

            #[test]
            fn scim_oauth_codes_are_single_use_and_refresh_tokens_rotate() {
                let dir = tempfile::tempdir().unwrap();
                super::scim_oauth_codes_are_single_use_and_refresh_tokens_rotate(($make)(dir.path()));
            }

            #[test]
            fn teams_link_rename_and_keep_their_tenant() {
                let dir = tempfile::tempdir().unwrap();
                super::teams_link_rename_and_keep_their_tenant(($make)(dir.path()));
            }
        }
    };
}

store_suite!(sqlite_in_memory, |_: &std::path::Path| SqliteStore::in_memory().unwrap());
store_suite!(sqlite_file, |dir: &std::path::Path| SqliteStore::open(&dir.join("suite.sqlite3")).unwrap());
