//! Signing keys over HTTP and in the key directory: rotation (scheduled,
//! on demand, emergency), JWKS caching, ES256 servers, keys kept across a
//! restart.

use std::sync::Arc;

use mock_idp::clock::FixedClock;
use mock_idp::idp::{Idp, IdpConfig};
use mock_idp::oidc::ServerRef;
use mock_idp::oidc::keys::JwksCaching;
use serde_json::{Value, json};

use crate::oidc::{Request, authorize, header_of, jwks, sign_in, verifies_with};
use crate::support::{Server, client, org};

#[tokio::test]
async fn oidc_key_rotation_publishes_next_key_ahead_and_emergency_removes_old() {
    let server = Server::start().await;
    let kids = |jwks: &Value| -> Vec<String> {
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
    };
    let before = jwks(&server, "/oauth2/default").await;
    assert_eq!(kids(&before).len(), 2, "active and next are both published");
    let request = Request::native("/oauth2/default");
    let signed_before = sign_in(&server, &request, None).await;
    let old_kid = header_of(signed_before["id_token"].as_str().unwrap())["kid"].as_str().unwrap().to_owned();
    let next_kid = kids(&before).into_iter().find(|k| *k != old_kid).unwrap();
    let rotate = |query: &'static str| {
        server
            .api(
                reqwest::Method::POST,
                &format!("/authorizationServers/default/credentials/lifecycle/keyRotate{query}"),
            )
            .json(&json!({"use": "sig"}))
            .send()
    };
    let listed: Value = rotate("").await.unwrap().json().await.unwrap();
    let statuses: Vec<&str> = listed.as_array().unwrap().iter().map(|k| k["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "ACTIVE").count(), 1);
    let after = sign_in(&server, &request, None).await;
    assert_eq!(
        header_of(after["id_token"].as_str().unwrap())["kid"],
        next_kid.as_str(),
        "the published next key became active"
    );
    let published = jwks(&server, "/oauth2/default").await;
    assert!(kids(&published).contains(&old_kid), "the expired key stays published after a normal rotation");
    assert!(verifies_with(signed_before["id_token"].as_str().unwrap(), &published));
    rotate("?emergency=true").await.unwrap();
    let emergency = jwks(&server, "/oauth2/default").await;
    assert!(!kids(&emergency).contains(&next_kid), "an emergency rotation removes the active key at once");
    assert!(!verifies_with(after["id_token"].as_str().unwrap(), &emergency));
}

#[tokio::test]
async fn oidc_jwks_carries_cache_control_max_age() {
    let server = Server::start().await;
    let response = server.client.get(server.url("/oauth2/v1/keys")).send().await.unwrap();
    let cache = response.headers()["cache-control"].to_str().unwrap().to_owned();
    assert!(cache.starts_with("max-age=") && cache.ends_with("must-revalidate"), "{cache}");
}

#[test]
fn oidc_scheduled_rotation_happens_when_the_interval_passes() {
    let clock = Arc::new(FixedClock::new(time::macros::datetime!(2025-01-01 00:00 UTC)));
    let mut config = IdpConfig::deterministic(org()).unwrap();
    config.clock = clock.clone();
    let idp = Idp::new(config);
    let server = ServerRef::Custom("ausmocktaes256000001".into());
    let active = |idp: &Idp| {
        idp.signing_keys(&server)
            .unwrap()
            .into_iter()
            .find(|k| k.status == mock_idp::oidc::keys::KeyStatus::Active)
            .unwrap()
            .jwk["kid"]
            .clone()
    };
    let first = active(&idp);
    clock.advance(time::Duration::days(89));
    assert_eq!(active(&idp), first);
    clock.advance(time::Duration::days(1));
    assert_ne!(active(&idp), first, "ES256 server rotates every 90 days");
    let (_, caching) = idp.jwks(&server).unwrap();
    assert_eq!(caching, JwksCaching::MaxAge(90 * 24 * 3600));
}

#[tokio::test]
async fn oidc_jwks_cache_control_counts_down_and_says_no_cache_before_the_rotation() {
    let clock = Arc::new(FixedClock::new(time::macros::datetime!(2025-01-01 00:00 UTC)));
    let mut config = IdpConfig::deterministic(org()).unwrap();
    config.clock = clock.clone();
    let idp = Arc::new(Idp::new(config));
    let running = mock_idp::http::RunningServer::start("127.0.0.1:0".parse().unwrap(), idp).await.unwrap();
    let http = reqwest::Client::new();
    let cache_control = || async {
        let url = format!("{}/oauth2/ausmocktaes256000001/v1/keys", running.url());
        let response = http.get(url).send().await.unwrap();
        response.headers()["cache-control"].to_str().unwrap().to_owned()
    };
    assert_eq!(cache_control().await, format!("max-age={}, must-revalidate", 90 * 24 * 3600));
    clock.advance(time::Duration::days(80));
    assert_eq!(
        cache_control().await,
        format!("max-age={}, must-revalidate", 10 * 24 * 3600),
        "relative to the request"
    );
    clock.advance(time::Duration::days(9) + time::Duration::hours(12));
    assert_eq!(cache_control().await, "no-cache", "half a day before the scheduled rotation");
    clock.advance(time::Duration::hours(12));
    assert_eq!(cache_control().await, format!("max-age={}, must-revalidate", 90 * 24 * 3600), "rotated");
    let org_server = http.get(format!("{}/oauth2/v1/keys", running.url())).send().await.unwrap();
    assert_eq!(org_server.headers()["cache-control"], "max-age=2592000, must-revalidate", "no schedule: 30 days");
    running.stop().await.unwrap();
}

#[tokio::test]
async fn oidc_es256_server_signs_with_p256() {
    let server = Server::start().await;
    let request = Request { scope: "openid", ..Request::native("/oauth2/ausmocktaes256000001") };
    let tokens = sign_in(&server, &request, None).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(header_of(id_token)["alg"], "ES256");
    assert!(verifies_with(id_token, &jwks(&server, "/oauth2/ausmocktaes256000001").await));
    let web = Request::web("/oauth2/ausmocktaes256000001");
    let (_, params) = authorize(&server, &client(), &web).await;
    assert_eq!(params["error"], "access_denied", "its policy admits the native app only");
    assert_eq!(
        params["error_description"],
        "Policy evaluation failed for this request, please check the policy configurations."
    );
}

#[test]
fn oidc_signing_keys_survive_a_restart_in_the_key_directory() {
    let dir = tempfile::tempdir().unwrap();
    let kids = || {
        let org = org();
        let store = mock_idp::keys::KeyStore::new(dir.path());
        let idp = Idp::new(IdpConfig::serving(org, mock_idp::idp::KeySource::Directory(store)).unwrap());
        let server = ServerRef::Custom("default".into());
        idp.jwks(&server).unwrap().0["keys"].as_array().unwrap().iter().map(|k| k["kid"].clone()).collect::<Vec<_>>()
    };
    let first = kids();
    assert_eq!(first.len(), 2);
    assert_eq!(kids(), first);
    assert!(dir.path().join("oidc-default.ring.json").exists());
}

/// Every file in a folder with its bytes, to compare a folder before and after.
fn folder_contents(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap()))
        .collect()
}

fn active_kid(idp: &Idp) -> Value {
    idp.signing_keys(&ServerRef::Org)
        .unwrap()
        .into_iter()
        .find(|k| k.status == mock_idp::oidc::keys::KeyStatus::Active)
        .unwrap()
        .jwk["kid"]
        .clone()
}

#[test]
fn rotations_kept_in_memory_leave_the_key_folder_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let options = |in_memory: bool| mock_idp::setup::IdpOptions {
        key_dir: Some(dir.path().to_path_buf()),
        keep_key_rotations_in_memory: in_memory,
        ..Default::default()
    };
    let idp = options(true).build().unwrap();
    let first = active_kid(&idp);
    let before = folder_contents(dir.path());
    assert!(before.keys().any(|name| name.ends_with(".ring.json")), "the ring is made in the folder: {before:?}");
    idp.rotate_keys(&ServerRef::Org, false).unwrap();
    idp.rotate_keys(&ServerRef::Org, true).unwrap();
    assert_ne!(active_kid(&idp), first, "the rotations changed the ring in memory");
    assert_eq!(folder_contents(dir.path()), before, "a rotation kept in memory wrote to the key folder");
    // The same rotation without the option is written back, so the
    // comparison above can fail.
    let writing = options(false).build().unwrap();
    writing.rotate_keys(&ServerRef::Org, false).unwrap();
    assert_ne!(folder_contents(dir.path()), before);
}

#[tokio::test]
async fn discovery_and_jwks_fetches_are_counted_and_discovery_caching_is_configurable() {
    let server = Server::start().await;
    let server_ref = ServerRef::Custom("default".into());
    let fetch = |path: &'static str| server.client.get(server.url(path)).send();
    let plain = fetch("/oauth2/default/.well-known/openid-configuration").await.unwrap();
    assert!(plain.headers().get("cache-control").is_none(), "Okta sends discovery without Cache-Control");
    server.idp.set_discovery_cache_control(Some("no-cache".into()));
    let told = fetch("/oauth2/default/.well-known/openid-configuration").await.unwrap();
    assert_eq!(told.headers()["cache-control"], "no-cache");
    jwks(&server, "/oauth2/default").await;
    let counted = server.idp.provider_fetches(&server_ref);
    assert_eq!((counted.discovery, counted.jwks), (2, 1));
    assert_eq!(server.idp.provider_fetches(&ServerRef::Org), Default::default(), "counts are per server");
}

#[tokio::test]
async fn requested_scopes_are_those_of_the_clients_own_authorizations() {
    let server = Server::start().await;
    let request = Request { scope: "openid email groups", ..Request::native("/oauth2/default") };
    let (app, other) = server.idp.read_org(|org| {
        (org.find_app(request.client).unwrap().id.clone(), org.find_app("reference-sp-oidc").unwrap().id.clone())
    });
    assert!(server.idp.requested_scopes(&app).is_empty());
    sign_in(&server, &request, None).await;
    let seen: Vec<String> = server.idp.requested_scopes(&app).into_iter().collect();
    assert_eq!(seen, ["email", "groups", "openid"]);
    assert!(server.idp.requested_scopes(&other).is_empty(), "scopes are per client");
}

#[tokio::test]
async fn pkce_exchanges_record_the_challenge_and_the_verifier_length() {
    let server = Server::start().await;
    let request = Request::native("/oauth2/default");
    sign_in(&server, &request, None).await;
    let (app, user) = server.idp.read_org(|org| {
        (org.find_app(request.client).unwrap().id.clone(), org.find_user("alice@acme.test").unwrap().id.clone())
    });
    let exchanges = server.idp.pkce_exchanges(&app, &user);
    assert_eq!(exchanges.len(), 1, "{exchanges:?}");
    assert_eq!(exchanges[0].code_challenge.as_ref().map(String::len), Some(43));
    assert!(exchanges[0].exchanged);
    assert_eq!(exchanges[0].verifier_length, Some(crate::oidc::VERIFIER.len()));
    // A code not yet exchanged has no verifier length.
    let (_, params) = authorize(&server, &client(), &request).await;
    assert!(params.contains_key("code"));
    let exchanges = server.idp.pkce_exchanges(&app, &user);
    assert_eq!(exchanges.len(), 2);
    assert!(!exchanges[1].exchanged && exchanges[1].verifier_length.is_none(), "{exchanges:?}");
}
