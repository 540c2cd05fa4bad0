//! The web console over HTTP: the end-user sign-in page and dashboard, the
//! admin console behind the API token, the form tokens that refuse a
//! cross-site post, and escaping of every org value on the pages.

use mock_idp::http::RunningServer;
use reqwest::StatusCode;

use super::scim_provisioning::{ALICE, Harness};
use super::support::{API_TOKEN, Server, client, parse_form};

/// The value of the first hidden `csrf` field on a page.
fn form_token(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap_or_else(|| panic!("no form token in {html}")) + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// The error code of a mock error page.
fn error_code(html: &str) -> String {
    let marker = "data-error-code=\"";
    let start = html.find(marker).unwrap_or_else(|| panic!("no error code in {html}")) + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

async fn text(client: &reqwest::Client, url: &str) -> (StatusCode, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Signs `login` in at the end-user sign-in page with `browser`.
async fn sign_in_as(server: &Server, browser: &reqwest::Client, login: &str) -> reqwest::Response {
    let (_, page) = text(browser, &server.url("/login/login.htm")).await;
    let token = form_token(&page);
    browser
        .post(server.url("/login/login.htm"))
        .form(&[("csrf", token.as_str()), ("login", login)])
        .send()
        .await
        .unwrap()
}

/// Signs in to the admin console at `base` with `token` and returns the
/// answer to the sign-in form.
async fn admin_sign_in(browser: &reqwest::Client, base: &str, token: &str) -> reqwest::Response {
    let (_, page) = text(browser, &format!("{base}/admin/sign-in")).await;
    let csrf = form_token(&page);
    browser
        .post(format!("{base}/admin/sign-in"))
        .form(&[("csrf", csrf.as_str()), ("token", token)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_user_signs_in_and_the_dashboard_tile_starts_idp_initiated_sign_in() {
    let server = Server::start().await;
    let browser = client();

    let (status, page) = text(&browser, &server.url("/login/login.htm")).await;
    assert_eq!(status, 200);
    assert!(page.contains("alice@acme.test"), "{page}");
    // A suspended user (carol) and a deactivated one (dave) cannot sign in.
    assert!(!page.contains("carol@acme.test"), "{page}");
    assert!(!page.contains("dave@acme.test"), "{page}");

    let signed_in = sign_in_as(&server, &browser, "alice@acme.test").await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(location(&signed_in), "/app/UserHome");

    let (status, dashboard) = text(&browser, &server.url("/app/UserHome")).await;
    assert_eq!(status, 200);
    let embed = format!("{}/home/acme_referencesp_1/0oarefsp000000000001/alnrefsp000000000001", server.server.url());
    assert!(dashboard.contains(&format!("href=\"{embed}\"")), "{dashboard}");
    assert!(dashboard.contains("Reference SP (acme)"), "{dashboard}");

    // The tile signs alice in with the session the sign-in page made: the
    // auto-post form goes to the app's ACS with its default RelayState.
    let (status, html) = text(&browser, &embed).await;
    assert_eq!(status, 200, "{html}");
    let form = parse_form(&html);
    assert_eq!(form.action, "http://127.0.0.1:7100/sso/acs/acme");
    assert_eq!(form.relay_state, "/welcome");
    assert!(form.response_xml.contains("alice@acme.test"), "{}", form.response_xml);
    assert!(!form.response_xml.contains("InResponseTo"), "IdP-initiated responses answer no request");
}

#[tokio::test]
async fn the_dashboard_shows_only_the_signed_in_users_apps() {
    let server = Server::start().await;
    // erin is assigned to no app in the built-in org.
    let erin = client();
    sign_in_as(&server, &erin, "erin@acme.test").await;
    let (status, dashboard) = text(&erin, &server.url("/app/UserHome")).await;
    assert_eq!(status, 200);
    assert!(dashboard.contains("erin@acme.test"), "{dashboard}");
    assert!(!dashboard.contains("Reference SP (acme)"), "{dashboard}");

    // Without a session the dashboard sends the browser to sign in.
    let stranger = client();
    let response = stranger.get(server.url("/app/UserHome")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login/login.htm");
}

#[tokio::test]
async fn signing_out_ends_the_mock_session() {
    let server = Server::start().await;
    let browser = client();
    sign_in_as(&server, &browser, "alice@acme.test").await;
    let (_, dashboard) = text(&browser, &server.url("/app/UserHome")).await;
    let token = form_token(&dashboard);
    let response = browser.post(server.url("/login/signout")).form(&[("csrf", token.as_str())]).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let again = browser.get(server.url("/app/UserHome")).send().await.unwrap();
    assert_eq!(again.status(), 303, "the session ended");
}

#[tokio::test]
async fn a_form_without_this_browsers_token_is_refused() {
    let server = Server::start().await;
    let browser = client();
    let (_, page) = text(&browser, &server.url("/login/login.htm")).await;
    let token = form_token(&page);

    // A token that is not the page's.
    let wrong = browser
        .post(server.url("/login/login.htm"))
        .form(&[("csrf", "forged"), ("login", "alice@acme.test")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    assert_eq!(error_code(&wrong.text().await.unwrap()), "csrf_refused");

    // The page's token posted from another browser, which has not got the
    // cookie the token is bound to, as from an attacker's page.
    let other = client();
    let stolen = other
        .post(server.url("/login/login.htm"))
        .form(&[("csrf", token.as_str()), ("login", "alice@acme.test")])
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), 403);
    assert!(stolen.headers().get("set-cookie").is_none(), "no session for a refused form");

    // An admin form with the admin session but a forged token arms nothing.
    let admin = client();
    assert_eq!(admin_sign_in(&admin, &server.server.url(), API_TOKEN).await.status(), 303);
    let forged = admin
        .post(server.url("/admin/faults"))
        .form(&[("csrf", "forged"), ("fault", "bad-signature"), ("user", ""), ("app", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(error_code(&forged.text().await.unwrap()), "csrf_refused");
    assert!(server.idp.armed_saml_faults().is_empty());
}

#[tokio::test]
async fn the_admin_console_needs_the_orgs_api_token() {
    let server = Server::start().await;
    let browser = client();
    let response = browser.get(server.url("/admin/dashboard")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/admin/sign-in");

    let wrong = admin_sign_in(&browser, &server.server.url(), "not-the-token").await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(error_code(&wrong.text().await.unwrap()), "invalid_token");

    // An admin form posted without an admin session is refused before its
    // token is read.
    let (_, page) = text(&browser, &server.url("/admin/sign-in")).await;
    let csrf = form_token(&page);
    let refused = browser
        .post(server.url("/admin/users/00ualice000000000001/lifecycle/suspend"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(error_code(&refused.text().await.unwrap()), "admin_sign_in_required");

    let right = admin_sign_in(&browser, &server.server.url(), API_TOKEN).await;
    assert_eq!(right.status(), 303);
    assert_eq!(location(&right), "/admin/dashboard");
    let (status, console) = text(&browser, &server.url("/admin/dashboard")).await;
    assert_eq!(status, 200);
    for expected in ["alice@acme.test", "SUSPENDED", "Engineering", "acme-admins", "Reference SP (acme)", "SAML_2_0"] {
        assert!(console.contains(expected), "{expected} missing from {console}");
    }
    assert!(console.contains("<option value=\"bad-signature\""), "the fault catalogue is offered: {console}");
}

#[tokio::test]
async fn the_admin_console_changes_a_users_status_and_arms_a_fault() {
    let server = Server::start().await;
    let browser = client();
    admin_sign_in(&browser, &server.server.url(), API_TOKEN).await;
    let (_, console) = text(&browser, &server.url("/admin/dashboard")).await;
    let csrf = form_token(&console);

    let suspended = browser
        .post(server.url("/admin/users/00ualice000000000001/lifecycle/suspend"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(suspended.status(), 303);
    let user: serde_json::Value =
        server.api(reqwest::Method::GET, "/users/alice@acme.test").send().await.unwrap().json().await.unwrap();
    assert_eq!(user["status"], "SUSPENDED");

    // Okta's own transition rules apply: suspending twice is refused.
    let twice = browser
        .post(server.url("/admin/users/00ualice000000000001/lifecycle/suspend"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), 400);
    assert_eq!(error_code(&twice.text().await.unwrap()), "E0000001");

    let armed = browser
        .post(server.url("/admin/faults"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("fault", "wrong-audience"),
            ("user", "00ubob00000000000002"),
            ("app", "0oarefsp000000000001"),
            ("impersonate", "ceo@acme.test"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(armed.status(), 303);
    let faults = server.idp.armed_saml_faults();
    assert_eq!(faults.len(), 1);
    assert_eq!(faults[0].fault.to_string(), "wrong-audience");
    assert_eq!(faults[0].user.as_ref().unwrap().as_str(), "00ubob00000000000002");
    assert_eq!(faults[0].impersonate.as_deref(), Some("ceo@acme.test"));
    let (_, console) = text(&browser, &server.url("/admin/dashboard")).await;
    assert!(console.contains("<code>wrong-audience</code></td><td>bob@acme.test</td>"), "{console}");

    let unknown = browser
        .post(server.url("/admin/faults"))
        .form(&[("csrf", csrf.as_str()), ("fault", "no-such-fault"), ("user", ""), ("app", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    assert_eq!(error_code(&unknown.text().await.unwrap()), "unknown_fault");

    let cleared =
        browser.post(server.url("/admin/faults/clear")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(cleared.status(), 303);
    assert!(server.idp.armed_saml_faults().is_empty());
}

#[tokio::test]
async fn every_org_value_on_the_console_is_escaped() {
    let server = Server::start().await;
    let created = server
        .api(reqwest::Method::POST, "/users?activate=true")
        .json(&serde_json::json!({"profile": {
            "firstName": "<script>alert(1)</script>",
            "lastName": "\"><img src=x onerror=alert(2)>",
            "email": "mallory@acme.test",
            "login": "mallory@acme.test",
        }}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200, "{}", created.text().await.unwrap());

    let browser = client();
    let (_, sign_in) = text(&browser, &server.url("/login/login.htm")).await;
    admin_sign_in(&browser, &server.server.url(), API_TOKEN).await;
    let (_, console) = text(&browser, &server.url("/admin/dashboard")).await;
    sign_in_as(&server, &browser, "mallory@acme.test").await;
    let (_, dashboard) = text(&browser, &server.url("/app/UserHome")).await;
    for (page_name, page) in [("sign-in", &sign_in), ("admin", &console), ("dashboard", &dashboard)] {
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{page_name}: {page}");
        assert!(!page.contains("<script>"), "{page_name} carries the name unescaped: {page}");
        assert!(!page.contains("<img"), "{page_name} carries the name unescaped: {page}");
    }
}

#[tokio::test]
async fn push_now_runs_provisioning_and_the_console_shows_the_transcript() {
    let harness = Harness::start("oin").await;
    harness.assign(ALICE);
    harness.requests().await;
    let server = RunningServer::start("127.0.0.1:0".parse().unwrap(), harness.idp.clone()).await.unwrap();
    let base = server.url();
    let browser = client();
    admin_sign_in(&browser, &base, "t").await;
    let (_, console) = text(&browser, &format!("{base}/admin/dashboard")).await;
    assert!(console.contains("Push now"), "{console}");
    let csrf = form_token(&console);

    let pushed = browser
        .post(format!("{base}/admin/apps/0oascimapp0000000001/push"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 303);
    assert_eq!(location(&pushed), "/admin/dashboard#provisioning");
    let pushed_requests = harness.requests().await;
    assert!(!pushed_requests.is_empty(), "Push now sent nothing");

    let (_, console) = text(&browser, &format!("{base}/admin/dashboard")).await;
    assert!(console.contains("id=\"transcript\""), "{console}");
    assert!(console.contains("/scim/v2/Users"), "{console}");
    assert!(console.contains("alice@acme.test"), "{console}");
}

#[tokio::test]
async fn push_now_without_a_provisioning_engine_says_so() {
    let server = Server::start().await;
    let browser = client();
    admin_sign_in(&browser, &server.server.url(), API_TOKEN).await;
    let (_, console) = text(&browser, &server.url("/admin/dashboard")).await;
    assert!(console.contains("No provisioning engine runs for this org."), "{console}");
    let csrf = form_token(&console);
    let response = browser
        .post(server.url("/admin/apps/0oarefsp000000000001/push"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(error_code(&response.text().await.unwrap()), "provisioning_not_running");
}

/// The built-in org with `initiate_login_uri` set on the reference SP's web
/// OIDC client to `uri`.
fn org_with_initiate_login_uri(uri: &str) -> Result<mock_idp::org::Org, mock_idp::org::OrgFileError> {
    let anchor = "client_secret = \"mockta-dev-oidc-secret\"\n";
    assert!(mock_idp::setup::BUILTIN_ORG.contains(anchor));
    let text = mock_idp::setup::BUILTIN_ORG.replacen(anchor, &format!("{anchor}initiate_login_uri = \"{uri}\"\n"), 1);
    mock_idp::org::parse_org("acme.toml", &text, time::OffsetDateTime::now_utc())
}

#[tokio::test]
async fn an_oidc_apps_tile_is_its_initiate_login_uri_and_without_one_has_no_link() {
    let org = org_with_initiate_login_uri("http://127.0.0.1:7100/oidc/login?tenant=acme").unwrap();
    let server = Server::start().await;
    server.idp.write_org(|current| {
        let url = current.url.clone();
        *current = org;
        current.url = url;
    });
    let browser = client();
    sign_in_as(&server, &browser, "alice@acme.test").await;
    let (_, dashboard) = text(&browser, &server.url("/app/UserHome")).await;
    assert!(
        dashboard.contains(
            "<a href=\"http://127.0.0.1:7100/oidc/login?tenant=acme\" data-se=\"app-tile\">Reference SP (OIDC)</a>"
        ),
        "{dashboard}"
    );
    // The native client has no initiate login URI: a tile without a link.
    assert!(dashboard.contains("\">Native app (PKCE)</span>"), "{dashboard}");
}

#[test]
fn an_initiate_login_uri_that_is_not_an_http_url_is_refused() {
    let error = org_with_initiate_login_uri("javascript:alert(1)").unwrap_err().to_string();
    assert!(error.contains("initiate_login_uri"), "{error}");
    assert!(error.contains("is not an absolute http or https URL"), "{error}");
}

#[test]
fn an_admin_console_session_is_this_orgs_and_ends_after_its_lifetime() {
    use std::sync::Arc;

    use mock_idp::clock::FixedClock;
    use mock_idp::idp::{ADMIN_CONSOLE_SESSION_LIFETIME, Idp, IdpConfig, KeySource};

    let org = super::support::org();
    let signing = mock_idp::keys::deterministic::signing(&org.name).unwrap();
    let mut config = IdpConfig::serving(org, KeySource::Fixed(signing)).unwrap();
    let clock = Arc::new(FixedClock::deterministic());
    config.clock = clock.clone();
    let idp = Idp::new(config);

    assert!(idp.start_admin_console_session("not-the-token").is_none());
    let cookie = idp.start_admin_console_session(API_TOKEN).unwrap();
    assert!(idp.is_admin_console_session(&cookie));
    // The time in the cookie is under the MAC: a later one is refused.
    assert!(!idp.is_admin_console_session(&format!("9{cookie}")));
    assert!(!idp.is_admin_console_session("123-abc.not-a-mac"));
    clock.advance(ADMIN_CONSOLE_SESSION_LIFETIME);
    assert!(idp.is_admin_console_session(&cookie));
    clock.advance(time::Duration::seconds(1));
    assert!(!idp.is_admin_console_session(&cookie), "the session outlived its lifetime");
}

#[tokio::test]
async fn a_user_who_may_no_longer_sign_in_loses_the_dashboard() {
    let server = Server::start().await;
    let browser = client();
    sign_in_as(&server, &browser, "alice@acme.test").await;
    assert_eq!(browser.get(server.url("/app/UserHome")).send().await.unwrap().status(), 200);
    let suspended = server.api(reqwest::Method::POST, "/users/alice@acme.test/lifecycle/suspend").send().await.unwrap();
    assert_eq!(suspended.status(), 200);
    let response = browser.get(server.url("/app/UserHome")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login/login.htm");
}
