//! `mockta explain` as a command: its exit codes (0 nothing broken, 1 a
//! rule broken, 2 bad input), stdin, the JSON report, and `--replay` to a
//! running reference SP.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/explain");
const AT: &str = "2024-03-29T07:42:22.136Z";

fn explain(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mockta"))
        .arg("explain")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default().as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn corpus(name: &str) -> String {
    format!("{CORPUS}/{name}")
}

fn saml_args(file: &str) -> Vec<String> {
    [
        corpus(file).as_str(),
        "--metadata",
        &corpus("reference-sp.metadata.xml"),
        "--audience",
        "http://127.0.0.1:7100/sso/metadata/acme",
        "--acs-url",
        "http://127.0.0.1:7100/sso/acs/acme",
        "--request-id",
        "id_sp_request_0001",
        "--at",
        AT,
    ]
    .map(str::to_owned)
    .to_vec()
}

#[test]
fn explain_exits_0_for_a_genuine_response_and_1_for_a_broken_rule() {
    let genuine = saml_args("saml-genuine.xml");
    let output = explain(&genuine.iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("No rule broken."));

    let faulty = saml_args("saml-wrong-audience.html");
    let output = explain(&faulty.iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("FAIL saml.cond.audience"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line on stderr: {stderr}");
}

#[test]
fn explain_reads_stdin_and_prints_json() {
    let token = std::fs::read_to_string(corpus("id-token-alg-none.jwt")).unwrap();
    let jwks = corpus("org-server.jwks.json");
    let output = explain(&["-", "--jwks", &jwks, "--at", AT, "--format", "json"], Some(&token));
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["format"], "mockta.explain/1");
    let finding = &report["steps"][0]["findings"][0];
    assert_eq!(finding["check"], "oidc.sig.alg_none");
    assert_eq!(finding["side"], "sp");
    assert_eq!(finding["level"], "fail");
    assert!(!finding["fix"].as_str().unwrap().is_empty());
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    for (args, stdin) in [
        (vec!["-"], "this is not a message"),
        (vec!["-", "--at", "yesterday"], ""),
        (vec![CORPUS, "--format", "json"], ""),
        (vec!["-", "--metadata", "/nonexistent/metadata.xml"], "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
        (vec!["-", "--replay", "https://sp.example.com/acs"], "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
    ] {
        let output = explain(&args, Some(stdin));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("mockta: error: "), "{stderr}");
    }
}

/// `--replay` posts the message to a running reference SP and prints its
/// answer: the genuine response signs in (303 to /welcome), the one for
/// another audience is refused with the SP's error code.
#[tokio::test]
async fn replay_posts_the_message_to_a_local_sp_and_prints_its_answer() {
    let (idp, idp_server) = crate::serve_builtin_idp().await;
    let dir = tempfile::tempdir().unwrap();
    let config = reference_sp::config::BUILTIN_CONFIG.replace("http://127.0.0.1:7000", &idp_server.url()).replace(
        "database = \".local/reference-sp.sqlite3\"",
        &format!("database = \"{}\"", dir.path().join("sp.sqlite3").display()),
    );
    std::fs::write(dir.path().join("sp.toml"), config).unwrap();
    let options = reference_sp::setup::SpOptions { config: Some(dir.path().join("sp.toml")), ..Default::default() };
    let sp = Arc::new(options.build().unwrap());
    reference_sp::idp_fetch::refresh_all(&sp).await;
    let sp_server = reference_sp::http::RunningSp::start("127.0.0.1:0".parse().unwrap(), sp.clone()).await.unwrap();
    let acs = format!("{}/sso/acs/acme", sp_server.url());

    use mock_idp::saml::SamlFaultPlan;
    use mock_idp::saml::faults::SamlFault;
    let mut answers = Vec::new();
    for fault in [None, Some(SamlFault::WrongAudience)] {
        let plan = fault.map(|fault| SamlFaultPlan { fault, impersonate: None });
        let xml = idp.mint_saml("reference-sp", "alice@acme.test", plan, None).unwrap().xml;
        let file = dir.path().join("response.xml");
        std::fs::write(&file, xml).unwrap();
        let args: Vec<String> = vec![
            file.display().to_string(),
            "--audience".into(),
            "http://127.0.0.1:7100/sso/metadata/acme".into(),
            "--replay".into(),
            acs.clone(),
        ];
        let output =
            tokio::task::spawn_blocking(move || explain(&args.iter().map(String::as_str).collect::<Vec<_>>(), None))
                .await
                .unwrap();
        answers.push((output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned()));
    }
    let (code, stdout) = &answers[0];
    assert_eq!(*code, Some(0), "{stdout}");
    assert!(stdout.contains(&format!("Replayed to {acs}: 303 See Other, Location /welcome")), "{stdout}");
    let (code, stdout) = &answers[1];
    assert_eq!(*code, Some(1), "{stdout}");
    assert!(stdout.contains("FAIL saml.cond.audience"), "{stdout}");
    assert!(stdout.contains("x-error-code saml.audience_mismatch"), "{stdout}");
}

/// A forged message's refused signature leaves stderr with explain's one
/// line: libxmlsec1 prints nothing of its own.
#[test]
fn a_refused_signature_prints_no_xmlsec_lines() {
    let args = saml_args("saml-xsw3.xml");
    let output = explain(&args.iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).contains("saml.sig.bad_signature"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("func=xmlSec"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// `--replay --repair`: the wrong-audience response, repaired to the SP's
/// audience and signed again with the key the mock signs with, signs in,
/// which shows the Okta app's Audience setting was the whole problem.
#[tokio::test]
async fn a_repaired_response_replayed_to_the_sp_signs_in() {
    let (idp, idp_server) = crate::serve_builtin_idp().await;
    let dir = tempfile::tempdir().unwrap();
    let config = reference_sp::config::BUILTIN_CONFIG.replace("http://127.0.0.1:7000", &idp_server.url()).replace(
        "database = \".local/reference-sp.sqlite3\"",
        &format!("database = \"{}\"", dir.path().join("sp.sqlite3").display()),
    );
    std::fs::write(dir.path().join("sp.toml"), config).unwrap();
    let options = reference_sp::setup::SpOptions { config: Some(dir.path().join("sp.toml")), ..Default::default() };
    let sp = Arc::new(options.build().unwrap());
    reference_sp::idp_fetch::refresh_all(&sp).await;
    let sp_server = reference_sp::http::RunningSp::start("127.0.0.1:0".parse().unwrap(), sp.clone()).await.unwrap();
    let acs = format!("{}/sso/acs/acme", sp_server.url());

    use mock_idp::saml::SamlFaultPlan;
    use mock_idp::saml::faults::SamlFault;
    let plan = SamlFaultPlan { fault: SamlFault::WrongAudience, impersonate: None };
    let xml = idp.mint_saml("reference-sp", "alice@acme.test", Some(plan), None).unwrap().xml;
    let file = dir.path().join("response.xml");
    std::fs::write(&file, xml).unwrap();
    let key = format!("{}/fixtures/keys/deterministic-signing.key.pem", env!("CARGO_MANIFEST_DIR"));
    let mut runs = Vec::new();
    for repair in [false, true] {
        let mut args: Vec<String> = vec![
            file.display().to_string(),
            "--audience".into(),
            "http://127.0.0.1:7100/sso/metadata/acme".into(),
            "--replay".into(),
            acs.clone(),
        ];
        if repair {
            args.extend(["--repair".into(), "--signing-key".into(), key.clone()]);
        }
        let output =
            tokio::task::spawn_blocking(move || explain(&args.iter().map(String::as_str).collect::<Vec<_>>(), None))
                .await
                .unwrap();
        runs.push(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    assert!(runs[0].contains("x-error-code saml.audience_mismatch"), "{}", runs[0]);
    assert!(runs[1].contains("Repaired: Audience"), "{}", runs[1]);
    assert!(runs[1].contains(&format!("Replayed to {acs}: 303 See Other, Location /welcome")), "{}", runs[1]);
}

/// A HAR file from the relying party's side, with nothing beside it:
/// explain names the back-channel rules (the discovery document's issuer,
/// userinfo's sub, the refreshed ID token's sub) and says Okta's side sent
/// them; the JSON report carries the same ids.
#[test]
fn a_back_channel_har_names_its_rules_on_its_own() {
    let har = corpus("flow-back-channel-faulty.har");
    let output = explain(&[&har, "--at", AT], None);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    for line in [
        "FAIL oidc.discovery.issuer_mismatch (high; fix on the okta side)",
        "FAIL oidc.userinfo.sub (high; fix on the okta side)",
        "FAIL oidc.refresh.sub_changed (critical; fix on the okta side)",
    ] {
        assert!(stdout.contains(line), "{line} missing from {stdout}");
    }
    assert_eq!(String::from_utf8_lossy(&output.stderr).trim_end(), "mockta: error: the message breaks 3 rule(s)");
    let output = explain(&[&corpus("flow-back-channel-genuine.har"), "--at", AT], None);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
}

/// A discovery document on stdin is judged against --issuer; without one
/// explain says what it could not compare.
#[test]
fn a_discovery_document_on_stdin_is_judged_against_the_issuer() {
    let har: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(corpus("flow-back-channel-faulty.har")).unwrap()).unwrap();
    let document = har["log"]["entries"][0]["response"]["content"]["text"].as_str().unwrap().to_owned();
    let output = explain(&["-", "--issuer", "http://127.0.0.1:7000"], Some(&document));
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).contains("FAIL oidc.discovery.issuer_mismatch"));
    let output = explain(&["-"], Some(&document));
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("issuer compared with: nothing (give --issuer"));
}
