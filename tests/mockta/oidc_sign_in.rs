//! The reference SP as a relying party of the mock's OIDC provider: a whole
//! sign-in (authorization code with PKCE) with each client authentication
//! method the SP offers, and sign-in that keeps working after a graceful and
//! after an emergency key rotation. The two sides are independent
//! implementations, so each sign-in checks both.

use std::sync::Arc;

use mock_idp::idp::Idp;
use mock_idp::oidc::ServerRef;
use mock_idp::oidc::keys::KeyStatus;
use mock_idp::org::oidc::ClientAuthMethod;
use reference_sp::http::RunningSp;

const CLIENT_ID: &str = "0oarefspoidc00000007";
const CLIENT_SECRET: &str = "mockta-dev-oidc-secret";

/// The reference SP's default config with acme's `oidc` line replaced by
/// `oidc_line`, trusting the mock at `idp_url`. The base URL stays the one
/// the mock's redirect URIs name; the server listens on a free port.
async fn start_sp(dir: &std::path::Path, idp_url: &str, oidc_line: &str) -> (String, RunningSp) {
    let builtin = reference_sp::config::BUILTIN_CONFIG;
    let acme_oidc = builtin.lines().find(|line| line.starts_with("oidc = ") && line.contains(CLIENT_ID)).unwrap();
    let config = builtin.replacen(acme_oidc, oidc_line, 1).replace("http://127.0.0.1:7000", idp_url).replace(
        "database = \".local/reference-sp.sqlite3\"",
        &format!("database = \"{}\"", dir.join("sp.sqlite3").display()),
    );
    std::fs::write(dir.join("sp.toml"), config).unwrap();
    let options = reference_sp::setup::SpOptions { config: Some(dir.join("sp.toml")), ..Default::default() };
    let sp = Arc::new(options.build().unwrap());
    let server = RunningSp::start("127.0.0.1:0".parse().unwrap(), sp).await.unwrap();
    (server.url(), server)
}

/// Sets how the mock's `reference-sp-oidc` client authenticates; for
/// `private_key_jwt` it takes the public key of `mockta-service-jwt`, whose
/// private key is `fixtures/keys/service-client.key.pem`.
fn set_client_auth(idp: &Idp, method: ClientAuthMethod) {
    idp.write_org(|org| {
        let service_keys = org
            .apps
            .values()
            .find(|app| app.name == "mockta-service-jwt")
            .and_then(|app| app.oidc())
            .map(|oidc| oidc.jwks.clone())
            .unwrap();
        let app = org.apps.values_mut().find(|app| app.name == "reference-sp-oidc").unwrap();
        let mock_idp::org::SignOn::Oidc(oidc) = &mut app.sign_on else { panic!("reference-sp-oidc is not OIDC") };
        oidc.token_endpoint_auth_method = method;
        oidc.jwks = service_keys;
        if method == ClientAuthMethod::None {
            oidc.client_secret = None;
        }
    });
}

/// Signs alice in at the SP's acme tenant by OIDC in a fresh browser and
/// returns what `/whoami` says afterwards.
async fn sign_in(sp_url: &str) -> serde_json::Value {
    let browser =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = browser.get(format!("{sp_url}/oidc/login?tenant=acme")).send().await.unwrap();
    let authorize = login.headers()["location"].to_str().unwrap().to_owned();
    assert!(authorize.contains("code_challenge_method=S256"), "{authorize}");
    let answer = browser.get(format!("{authorize}&login_hint=alice%40acme.test")).send().await.unwrap();
    let callback = answer.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
    let callback = callback.unwrap_or_else(|| panic!("the mock did not redirect back: {}", answer.status()));
    assert!(callback.contains("code="), "{callback}");
    // The redirect URI names the SP's public base URL; only the path and
    // query are kept, for the SP on its test port.
    let callback = reqwest::Url::parse(&callback).unwrap();
    let back = browser
        .get(format!("{sp_url}{}?{}", callback.path(), callback.query().unwrap_or_default()))
        .send()
        .await
        .unwrap();
    assert!(back.status().is_redirection(), "the callback answered {}: {}", back.status(), back.text().await.unwrap());
    let whoami = browser.get(format!("{sp_url}/whoami")).send().await.unwrap();
    assert_eq!(whoami.status(), 200);
    whoami.json().await.unwrap()
}

#[tokio::test]
async fn reference_sp_signs_in_through_the_mock_with_each_client_authentication_method() {
    let key_file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys/service-client.key.pem");
    let cases = [
        (
            ClientAuthMethod::ClientSecretBasic,
            format!("client_auth = \"client_secret_basic\", client_secret = \"{CLIENT_SECRET}\""),
        ),
        (
            ClientAuthMethod::ClientSecretPost,
            format!("client_auth = \"client_secret_post\", client_secret = \"{CLIENT_SECRET}\""),
        ),
        (
            ClientAuthMethod::PrivateKeyJwt,
            format!("client_auth = \"private_key_jwt\", private_key_file = \"{}\"", key_file.display()),
        ),
        (ClientAuthMethod::None, "client_auth = \"none\"".to_owned()),
    ];
    for (method, auth) in cases {
        let (idp, idp_server) = crate::serve_builtin_idp().await;
        set_client_auth(&idp, method);
        let dir = tempfile::tempdir().unwrap();
        let oidc_line = format!(
            "oidc = {{ issuer = \"http://127.0.0.1:7000\", client_id = \"{CLIENT_ID}\", {auth}, redirect_path = \"/oidc/callback/acme\" }}"
        );
        let (sp_url, sp_server) = start_sp(dir.path(), &idp_server.url(), &oidc_line).await;
        let who = sign_in(&sp_url).await;
        assert_eq!(who["email"], "alice@acme.test", "{method:?}: {who}");
        sp_server.stop().await.unwrap();
        idp_server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn reference_sp_keeps_signing_in_after_graceful_and_emergency_key_rotation() {
    let (idp, idp_server) = crate::serve_builtin_idp().await;
    let dir = tempfile::tempdir().unwrap();
    let oidc_line = format!(
        "oidc = {{ issuer = \"http://127.0.0.1:7000\", client_id = \"{CLIENT_ID}\", client_auth = \"client_secret_basic\", client_secret = \"{CLIENT_SECRET}\", redirect_path = \"/oidc/callback/acme\" }}"
    );
    let (sp_url, sp_server) = start_sp(dir.path(), &idp_server.url(), &oidc_line).await;
    assert_eq!(sign_in(&sp_url).await["email"], "alice@acme.test");
    let active_kid = |idp: &Idp| {
        let keys = idp.signing_keys(&ServerRef::Org).unwrap();
        keys.iter().find(|k| k.status == KeyStatus::Active).map(|k| k.jwk["kid"].clone()).unwrap()
    };

    // Graceful: the next key, published before the SP cached the key set,
    // becomes active.
    let before = active_kid(&idp);
    idp.rotate_keys(&ServerRef::Org, false).unwrap();
    assert_ne!(active_kid(&idp), before);
    assert_eq!(sign_in(&sp_url).await["email"], "alice@acme.test", "after a graceful rotation");

    // Emergency: a key the SP has never seen signs at once, and the old one
    // is gone; the SP must refetch the key set for the unknown kid.
    let before = active_kid(&idp);
    idp.rotate_keys(&ServerRef::Org, true).unwrap();
    let published: Vec<_> =
        idp.signing_keys(&ServerRef::Org).unwrap().into_iter().map(|k| k.jwk["kid"].clone()).collect();
    assert!(!published.contains(&before), "{published:?}");
    assert_eq!(sign_in(&sp_url).await["email"], "alice@acme.test", "after an emergency rotation");

    sp_server.stop().await.unwrap();
    idp_server.stop().await.unwrap();
}
