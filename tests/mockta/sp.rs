//! The reference SP with the mock IdP: sign-in through the running mock, and
//! a crash test that kills the SP process while sign-ins are being written.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reference_sp::http::RunningSp;

/// The SP config for tests: the default tenants, trusting the given mock
/// IdP, with the database in `dir`. The base URL stays the default one the
/// mock's apps point at; the server itself listens on a free port.
fn sp_config(dir: &std::path::Path, idp_url: &str) -> std::path::PathBuf {
    let text = reference_sp::config::BUILTIN_CONFIG.replace("http://127.0.0.1:7000", idp_url).replace(
        "database = \".local/reference-sp.sqlite3\"",
        &format!("database = \"{}\"", dir.join("sp.sqlite3").display()),
    );
    let path = dir.join("sp.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn form_fields(html: &str) -> (String, String, String) {
    let fields = mock_idp::saml::form::parse(html).unwrap_or_else(|| panic!("no auto-post form in {html}"));
    (fields.action, fields.saml_response, fields.relay_state)
}

/// Posts the mock's auto-post form to the SP listening at `sp_url` (the form's
/// action names the SP's public base URL; only the path is kept).
async fn post_form(browser: &reqwest::Client, sp_url: &str, html: &str) -> reqwest::Response {
    let (action, response, relay_state) = form_fields(html);
    let path = reqwest::Url::parse(&action).unwrap().path().to_owned();
    browser
        .post(format!("{sp_url}{path}"))
        .form(&[("SAMLResponse", response), ("RelayState", relay_state)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_in_through_running_mock_idp_both_ways() {
    let (_, idp_server) = crate::serve_builtin_idp().await;
    let idp_url = idp_server.url();
    let dir = tempfile::tempdir().unwrap();
    let options =
        reference_sp::setup::SpOptions { config: Some(sp_config(dir.path(), &idp_url)), ..Default::default() };
    let sp = Arc::new(options.build().unwrap());
    reference_sp::idp_fetch::refresh_all(&sp).await;
    let sp_server = RunningSp::start("127.0.0.1:0".parse().unwrap(), sp.clone()).await.unwrap();
    let sp_url = sp_server.url();

    // IdP-initiated.
    let alice = browser();
    let html = alice
        .get(format!(
            "{idp_url}/home/acme_referencesp_1/0oarefsp000000000001/alnrefsp000000000001?login_hint=alice@acme.test"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = post_form(&alice, &sp_url, &html).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/welcome");
    let who: serde_json::Value = alice.get(format!("{sp_url}/whoami")).send().await.unwrap().json().await.unwrap();
    assert_eq!(who["email"], "alice@acme.test");
    assert_eq!(who["roles"], serde_json::json!(["Admin"]));
    assert_eq!(who["groups"], serde_json::json!(["Engineering", "acme-admins"]));

    // SP-initiated: the SP's AuthnRequest goes to the mock, the response comes back.
    let bob = browser();
    let login = bob.get(format!("{sp_url}/login?tenant=acme&relay_state=%2Freports")).send().await.unwrap();
    assert_eq!(login.status(), 302);
    let location = login.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{idp_url}/app/acme_referencesp_1/exkrefsp000000000001/sso/saml?SAMLRequest=")),
        "{location}"
    );
    let html = bob.get(format!("{location}&login_hint=bob@acme.test")).send().await.unwrap().text().await.unwrap();
    let response = post_form(&bob, &sp_url, &html).await;
    assert_eq!(response.status(), 303, "{:?}", response.headers().get("x-error-code"));
    assert_eq!(response.headers()["location"], "/reports");
    let who: serde_json::Value = bob.get(format!("{sp_url}/whoami")).send().await.unwrap().json().await.unwrap();
    assert_eq!(who["email"], "bob@acme.test");
}

/// A config for `mockta sp` in `dir`: the default tenants reading the IdP
/// metadata from `dir/{metadata_file}` (which may not exist) and the
/// database in `dir`.
fn sp_config_with_metadata_file(dir: &std::path::Path, metadata_file: &str) -> std::path::PathBuf {
    let config_text = reference_sp::config::BUILTIN_CONFIG
        .replace(
            "idp_metadata_url = \"http://127.0.0.1:7000/app/exkrefsp000000000001/sso/saml/metadata\"",
            &format!("idp_metadata_file = \"{metadata_file}\""),
        )
        .replace(
            "database = \".local/reference-sp.sqlite3\"",
            &format!("database = \"{}\"", dir.join("sp.sqlite3").display()),
        );
    let config = dir.join("sp.toml");
    std::fs::write(&config, config_text).unwrap();
    config
}

/// Starts `mockta sp` with `config` (and `extra` arguments) on a free port;
/// returns the process and its address. `stderr` is where its log goes.
pub(crate) fn start_sp_process_with(config: &std::path::Path, extra: &[&str], stderr: Stdio) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mockta"))
        .args(extra)
        .args(["sp", "--config"])
        .arg(config)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    let address = first.split("listening on http://").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    (child, address)
}

fn start_sp_process(config: &std::path::Path) -> (Child, String) {
    start_sp_process_with(config, &[], Stdio::null())
}

/// SIGKILL while sign-ins are being written: after a restart every
/// acknowledged user and session is still there, and the database is sound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_sign_ins_survive_sigkill() {
    let idp = crate::builtin_idp();
    let dir = tempfile::tempdir().unwrap();
    let app_id = "0oarefsp000000000001";
    std::fs::write(dir.path().join("idp.xml"), idp.metadata(app_id).unwrap()).unwrap();
    let config = sp_config_with_metadata_file(dir.path(), "idp.xml");

    // Users for the mock org, each assigned to the app.
    let count = 160;
    let now = idp.now();
    idp.write_org(|org| {
        for i in 0..count {
            let body = serde_json::from_value(serde_json::json!({"profile": {
                "login": format!("crash{i}@acme.test"), "email": format!("crash{i}@acme.test"), "firstName": "Crash", "lastName": format!("{i}")
            }}))
            .unwrap();
            mock_idp::admin::create_user(org, body, true, now, idp.ids()).unwrap();
            let assign = serde_json::from_value(serde_json::json!({})).unwrap();
            mock_idp::admin::assign_user(org, app_id, Some(&format!("crash{i}@acme.test")), assign, now).unwrap();
        }
    });
    let responses: Vec<(String, String)> = (0..count)
        .map(|i| {
            let email = format!("crash{i}@acme.test");
            let xml = idp.mint_saml(app_id, &email, None, None).unwrap().xml;
            (email, mock_idp::saml::form::base64(&xml))
        })
        .collect();

    let (child, address) = start_sp_process(&config);
    let child = Arc::new(std::sync::Mutex::new(child));
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let killed = Arc::new(AtomicBool::new(false));
    // The poster that sees a quarter acknowledged kills the server at once,
    // while the other posters' sign-ins are in flight.
    let mut tasks = Vec::new();
    for chunk in responses.chunks(count / 4) {
        let chunk = chunk.to_vec();
        let (acknowledged, address, child, killed) =
            (acknowledged.clone(), address.clone(), child.clone(), killed.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
            for (email, response) in chunk {
                let sent = client
                    .post(format!("http://{address}/sso/acs/acme"))
                    .form(&[("SAMLResponse", response)])
                    .send()
                    .await;
                let Ok(reply) = sent else { break };
                assert!(
                    reply.status() == 303 || reply.status().is_server_error(),
                    "{email}: {} {:?}",
                    reply.status(),
                    reply.headers().get("x-error-code")
                );
                if reply.status() == 303 {
                    let cookie = reply
                        .headers()
                        .get_all("set-cookie")
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .find(|v| v.starts_with("rsp_session="))
                        .map(|v| v.split(';').next().unwrap().to_owned())
                        .unwrap();
                    let mut acknowledged = acknowledged.lock().unwrap();
                    acknowledged.push((email, cookie));
                    if acknowledged.len() == count / 4 {
                        let mut child = child.lock().unwrap();
                        child.kill().unwrap();
                        child.wait().unwrap();
                        killed.store(true, Ordering::SeqCst);
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // A run in which sign-ins fail ends here with a failed assertion.
    if !killed.load(Ordering::SeqCst) {
        let mut child = child.lock().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(killed.load(Ordering::SeqCst));
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= count / 4 && acknowledged.len() < count, "killed mid-way: {}", acknowledged.len());

    let store = reference_sp::store::sqlite::SqliteStore::open(&dir.path().join("sp.sqlite3")).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    drop(store);

    let (mut child, address) = start_sp_process(&config);
    let client = reqwest::Client::new();
    for (email, cookie) in &acknowledged {
        let who: serde_json::Value = client
            .get(format!("http://{address}/whoami"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(who["email"], email.as_str(), "{email}'s acknowledged session survived");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// SIGKILL while SCIM creates are being written: after a restart every
/// acknowledged user is there, and the database is sound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_scim_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let config = sp_config_with_metadata_file(dir.path(), "missing.xml");
    let count = 160;
    let (child, address) = start_sp_process(&config);
    let child = Arc::new(std::sync::Mutex::new(child));
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    // The poster that sees a quarter acknowledged kills the server at once,
    // while the other posters' requests are in flight.
    let mut tasks = Vec::new();
    for chunk in 0..4 {
        let (acknowledged, address, child) = (acknowledged.clone(), address.clone(), child.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in (chunk * count / 4)..((chunk + 1) * count / 4) {
                let body = serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": format!("scim.crash{i}@acme.test"),
                    "active": true
                });
                let sent = client
                    .post(format!("http://{address}/scim/v2/acme/Users"))
                    .bearer_auth("mockta-dev-token")
                    .json(&body)
                    .send()
                    .await;
                let Ok(reply) = sent else { break };
                if reply.status() != 201 {
                    break;
                }
                let created: serde_json::Value = match reply.json().await {
                    Ok(created) => created,
                    Err(_) => break,
                };
                let mut acknowledged = acknowledged.lock().unwrap();
                acknowledged.push(created["id"].as_str().unwrap().to_owned());
                if acknowledged.len() == count / 4 {
                    let mut child = child.lock().unwrap();
                    child.kill().unwrap();
                    child.wait().unwrap();
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= count / 4 && acknowledged.len() < count, "killed mid-way: {}", acknowledged.len());

    let store = reference_sp::store::sqlite::SqliteStore::open(&dir.path().join("sp.sqlite3")).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    drop(store);

    let (mut child, address) = start_sp_process(&config);
    let client = reqwest::Client::new();
    for id in &acknowledged {
        let found = client
            .get(format!("http://{address}/scim/v2/acme/Users/{id}"))
            .bearer_auth("mockta-dev-token")
            .send()
            .await
            .unwrap();
        assert_eq!(found.status(), 200, "acknowledged user {id} survived");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A refused signature is reported by the SP's own log, once, and not by
/// libxmlsec1 or libxml2 printing their internals to stderr.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_signature_prints_no_xmlsec_lines() {
    let idp = crate::builtin_idp();
    let dir = tempfile::tempdir().unwrap();
    let app_id = "0oarefsp000000000001";
    std::fs::write(dir.path().join("idp.xml"), idp.metadata(app_id).unwrap()).unwrap();
    let config = sp_config_with_metadata_file(dir.path(), "idp.xml");
    let (mut child, address) = start_sp_process_with(&config, &[], Stdio::piped());

    use mock_idp::saml::SamlFaultPlan;
    use mock_idp::saml::faults::SamlFault;
    for fault in [SamlFault::BadSignature, SamlFault::UntrustedKey, SamlFault::Xsw(1)] {
        let plan = SamlFaultPlan { fault, impersonate: None };
        let xml = idp.mint_saml(app_id, "alice@acme.test", Some(plan), None).unwrap().xml;
        let answer = browser()
            .post(format!("http://{address}/sso/acs/acme"))
            .form(&[("SAMLResponse", mock_idp::saml::form::base64(&xml))])
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_client_error(), "{fault}: {}", answer.status());
    }
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("func=xmlSec"), "{stderr}");
    assert!(!stderr.contains("C14N error"), "{stderr}");
    assert!(!stderr.is_empty(), "the SP logs its refusals");
}

/// A signing key pair for the SP, written as PEM files into `dir`.
fn sp_signing_files(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let (key_pem, cert) = crate::self_signed_key_pair("reference-sp request signing", 365);
    let cert_pem = String::from_utf8(cert.to_pem().unwrap()).unwrap();
    let (key_file, cert_file) = (dir.join("signing.key.pem"), dir.join("signing.cert.pem"));
    std::fs::write(&key_file, key_pem).unwrap();
    std::fs::write(&cert_file, &cert_pem).unwrap();
    (key_file, cert_file, cert_pem)
}

/// The value of the hidden field `name` in an auto-post page.
fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
    html[start..].split('"').next().unwrap().replace("&amp;", "&").replace("&quot;", "\"").replace("&lt;", "<")
}

/// Okta's signed requests end to end: the mock requires AuthnRequests signed
/// by the SP's certificate; the reference SP with `sign_authn_requests`
/// signs them by either binding and signs in, and without it is refused.
#[tokio::test]
async fn the_reference_sp_s_signed_authn_requests_pass_a_mock_app_that_requires_them() {
    let (idp, idp_server) = crate::serve_builtin_idp().await;
    let idp_url = idp_server.url();
    let dir = tempfile::tempdir().unwrap();
    let (key_file, cert_file, cert_pem) = sp_signing_files(dir.path());
    idp.write_org(|org| {
        let app = org.apps.values_mut().find(|a| a.name == "reference-sp").unwrap();
        app.saml_mut().unwrap().request_signing_certificate = Some(cert_pem.clone());
    });
    for (binding, signs) in [("redirect", true), ("post", true), ("redirect", false), ("post", false)] {
        let config = std::fs::read_to_string(sp_config(dir.path(), &idp_url)).unwrap();
        let line = config.lines().find(|l| l.starts_with("idp_metadata_url = ")).unwrap().to_owned();
        let url = line.trim_start_matches("idp_metadata_url = ");
        let signing = if signs {
            format!(
                ", sign_authn_requests = true, signing_key_file = \"{}\", signing_certificate_file = \"{}\"",
                key_file.display(),
                cert_file.display()
            )
        } else {
            String::new()
        };
        let config = config.replacen(
            &line,
            &format!("saml = {{ idp_metadata_url = {url}, authn_request_binding = \"{binding}\"{signing} }}"),
            1,
        );
        let path = dir.path().join(format!("sp-{binding}-{signs}.toml"));
        std::fs::write(&path, config).unwrap();
        let database = dir.path().join(format!("sp-{binding}-{signs}.sqlite3"));
        let options =
            reference_sp::setup::SpOptions { config: Some(path), database: Some(database), ..Default::default() };
        let sp = Arc::new(options.build().unwrap());
        reference_sp::idp_fetch::refresh_all(&sp).await;
        let sp_server = RunningSp::start("127.0.0.1:0".parse().unwrap(), sp.clone()).await.unwrap();
        let sp_url = sp_server.url();
        let metadata = browser().get(format!("{sp_url}/sso/metadata/acme")).send().await.unwrap().text().await.unwrap();
        assert_eq!(metadata.contains("AuthnRequestsSigned=\"true\""), signs, "{metadata}");
        assert_eq!(metadata.contains("<md:KeyDescriptor use=\"signing\">"), signs, "{metadata}");

        let carol = browser();
        let login = carol.get(format!("{sp_url}/login?tenant=acme")).send().await.unwrap();
        let idp_answer = if binding == "redirect" {
            assert_eq!(login.status(), 302);
            let location = login.headers()["location"].to_str().unwrap().to_owned();
            assert_eq!(location.contains("&Signature="), signs, "{location}");
            carol.get(format!("{location}&login_hint=bob@acme.test")).send().await.unwrap()
        } else {
            let page = login.text().await.unwrap();
            let action = page.split("action=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
            let request = hidden_field(&page, "SAMLRequest");
            let xml = String::from_utf8(
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &request).unwrap(),
            )
            .unwrap();
            assert_eq!(xml.contains("<ds:Signature"), signs, "{xml}");
            carol
                .post(format!("{action}?login_hint=bob@acme.test"))
                .form(&[("SAMLRequest", request), ("RelayState", hidden_field(&page, "RelayState"))])
                .send()
                .await
                .unwrap()
        };
        let status = idp_answer.status();
        let html = idp_answer.text().await.unwrap();
        if !signs {
            assert_eq!(status, 400, "{binding}: {html}");
            assert!(html.contains("data-error-code=\"invalid_request_signature\""), "{binding}: {html}");
            continue;
        }
        assert_eq!(status, 200, "{binding}: {html}");
        let response = post_form(&carol, &sp_url, &html).await;
        assert_eq!(response.status(), 303, "{binding}: {:?}", response.headers().get("x-error-code"));
        let who: serde_json::Value = carol.get(format!("{sp_url}/whoami")).send().await.unwrap().json().await.unwrap();
        assert_eq!(who["email"], "bob@acme.test", "{binding}");
    }
}
