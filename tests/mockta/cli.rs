//! The command line: help, errors and exit codes, and shared keys between
//! `mockta idp` and `mockta saml`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn mockta() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mockta"))
}

fn run(args: &[&str], key_dir: &std::path::Path) -> (i32, String, String) {
    let output = mockta().args(args).env("MOCKTA_KEY_DIR", key_dir).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn help_lists_subcommands_with_descriptions() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = run(&["--help"], dir.path());
    assert_eq!(code, 0);
    for (command, words) in [
        ("idp", "Run the mock Okta org"),
        ("saml", "Mint SAML responses"),
        ("oidc", "Mint OIDC tokens offline"),
        ("sp", "Run the reference service provider"),
        ("demo", "Run the mock IdP and the reference SP, run every check"),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(command))
            .unwrap_or_else(|| panic!("{command} in {stdout}"));
        assert!(line.contains(words), "{line}");
    }
}

#[test]
fn bad_org_file_gets_one_line_error_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let org = dir.path().join("org.toml");
    let text = mock_idp::setup::BUILTIN_ORG
        .replace("sso_url = \"http://127.0.0.1:7100/sso/acs/acme\"", "sso_url = \"not-a-url\"");
    std::fs::write(&org, text).unwrap();
    let (code, stdout, stderr) =
        run(&["saml", "metadata", "--org", org.to_str().unwrap(), "--app", "reference-sp"], dir.path());
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("org.toml: apps[0].saml.sso_url: 'not-a-url' is not an absolute http or https URL"),
        "{stderr}"
    );

    let (code, _, stderr) = run(&["idp", "--org", dir.path().join("missing.toml").to_str().unwrap()], dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("missing.toml: (file): cannot be read"), "{stderr}");
}

#[test]
fn unknown_app_user_and_fault_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (vec!["saml", "mint", "--app", "nope", "--user", "alice@acme.test"], "--app: no app 'nope'"),
        (
            vec!["saml", "mint", "--app", "reference-sp", "--user", "nobody@acme.test"],
            "--user: no user 'nobody@acme.test'",
        ),
        (
            vec!["saml", "mint", "--app", "reference-sp", "--user", "alice@acme.test", "--fault", "xsw9"],
            "unknown fault 'xsw9'",
        ),
        (vec!["saml", "mint", "--app", "reference-sp", "--user", "erin@acme.test"], "not assigned"),
    ] {
        let (code, _, stderr) = run(&args, dir.path());
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn mint_formats() {
    let dir = tempfile::tempdir().unwrap();
    let (code, xml, _) =
        run(&["saml", "mint", "--app", "0oarefsp000000000001", "--user", "alice@acme.test"], dir.path());
    assert_eq!(code, 0);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><saml2p:Response "));
    let (_, form, _) =
        run(&["saml", "mint", "--app", "reference-sp", "--user", "alice@acme.test", "--format", "form"], dir.path());
    assert!(form.contains(
        "<form id=\"appForm\" action=\"http&#x3a;&#x2f;&#x2f;127.0.0.1&#x3a;7100&#x2f;sso&#x2f;acs&#x2f;acme\""
    ));
    let (_, b64, _) =
        run(&["saml", "mint", "--app", "reference-sp", "--user", "alice@acme.test", "--format", "base64"], dir.path());
    assert!(!b64.trim().contains('\n') && !b64.contains('<'));
}

#[test]
fn deterministic_mint_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["saml", "mint", "--app", "reference-sp", "--user", "alice@acme.test", "--deterministic"];
    assert_eq!(run(&args, dir.path()).1, run(&args, dir.path()).1);
}

/// A response minted offline verifies against the metadata of a running
/// `mockta idp` that uses the same key directory.
#[test]
fn minted_offline_verifies_against_running_idp_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = mockta()
        .args(["idp", "--listen", "127.0.0.1:0"])
        .env("MOCKTA_KEY_DIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut first_line = String::new();
    lines.read_line(&mut first_line).unwrap();
    // Keep reading so the server never writes to a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    let address =
        first_line.split("listening on http://").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();

    let metadata = reqwest::blocking_get(&format!("http://{address}/app/exkrefsp000000000001/sso/saml/metadata"));
    let (_, xml, _) = run(&["saml", "mint", "--app", "reference-sp", "--user", "alice@acme.test"], dir.path());
    let (_, offline_metadata, _) = run(&["saml", "metadata", "--app", "reference-sp"], dir.path());
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(metadata.trim(), offline_metadata.trim());

    let cert = crate::interop::certificate_pem(&metadata);
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("cert.pem"), cert).unwrap();
    std::fs::write(files.path().join("r.xml"), xml).unwrap();
    let output = Command::new("xmlsec1")
        .args(["--verify", "--pubkey-cert-pem"])
        .arg(files.path().join("cert.pem"))
        .args(["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"])
        .args(["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response"])
        .arg(files.path().join("r.xml"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

mod reqwest {
    /// A blocking GET for tests that do not run a Tokio runtime.
    pub(super) fn blocking_get(url: &str) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async { ::reqwest::get(url).await.unwrap().text().await.unwrap() })
    }
}

/// `mockta sp` with the built-in config starts in a folder that holds no
/// key files (outside the repository), and its hooli tenant publishes the
/// key pairs the SP generated at start-up: an encryption and a signing
/// certificate (two different ones), signed requests, WantAssertionsSigned
/// and its Single Logout endpoint, which is what lets `mockta demo` run the
/// encryption, Single Logout and WantAssertionsSigned checks against it.
#[test]
fn the_built_in_sp_starts_anywhere_and_publishes_the_generated_keys_of_its_hooli_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("sp.sqlite3");
    let mut child = mockta()
        .current_dir(dir.path())
        .args(["sp", "--db", database.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    let address =
        first.split("listening on http://").nth(1).map(|rest| rest.split_whitespace().next().unwrap().to_owned());
    let Some(address) = address else {
        child.kill().unwrap();
        panic!("mockta sp did not start: {first}");
    };
    let metadata = reqwest::blocking_get(&format!("http://{address}/sso/metadata/hooli"));
    child.kill().unwrap();
    let _ = child.wait();
    let certificate = |usage: &str| {
        let start =
            metadata.find(&format!("<md:KeyDescriptor use=\"{usage}\">")).unwrap_or_else(|| panic!("{metadata}"));
        let rest = &metadata[start..];
        let from = rest.find("<ds:X509Certificate>").unwrap() + "<ds:X509Certificate>".len();
        rest[from..from + rest[from..].find('<').unwrap()].to_owned()
    };
    let (signing, encryption) = (certificate("signing"), certificate("encryption"));
    assert!(signing.len() > 500 && encryption.len() > 500, "{metadata}");
    assert_ne!(signing, encryption, "one key pair per role");
    for declared in ["AuthnRequestsSigned=\"true\"", "WantAssertionsSigned=\"true\"", "/sso/slo/hooli\""] {
        assert!(metadata.contains(declared), "{declared}: {metadata}");
    }
    // Nothing was written beside the database: the keys stay in memory.
    let written: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with("sp.sqlite3"))
        .collect();
    assert!(written.is_empty(), "{written:?}");
}

#[test]
fn sp_lists_flaws_and_rejects_bad_config_and_unknown_flaws() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = run(&["sp", "--list-flaws"], dir.path());
    assert_eq!(code, 0);
    assert_eq!(stdout.lines().count(), reference_sp::flaws::Flaw::ALL.len());
    assert!(stdout.lines().any(|l| l.starts_with("read-first-assertion") && l.contains("first Assertion")));

    let config = dir.path().join("sp.toml");
    std::fs::write(&config, reference_sp::config::BUILTIN_CONFIG.replacen("provisioning = \"jit\"\n", "", 1)).unwrap();
    let (code, _, stderr) = run(&["sp", "--config", config.to_str().unwrap()], dir.path());
    assert_eq!(code, 2);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("sp.toml") && stderr.contains("provisioning"), "{stderr}");

    let (code, _, stderr) =
        run(&["sp", "--flaw", "trust-everything", "--db", dir.path().join("x.db").to_str().unwrap()], dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("--flaw: unknown flaw 'trust-everything'"), "{stderr}");
}

#[test]
fn checks_lists_the_catalogue_and_check_rejects_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    let (code, table, _) = run(&["checks"], dir.path());
    assert_eq!(code, 0);
    assert!(table.lines().any(|l| l.starts_with("saml.xsw.3 ")), "{table}");
    let (_, json, _) = run(&["checks", "--format", "json"], dir.path());
    let entries: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), conformance::catalogue::all_checks().len());
    assert_eq!(entries[0]["id"], "saml.sso.idp_initiated");

    let target = dir.path().join("t.toml");
    std::fs::write(&target, "[idp]\nlisten = \"nowhere\"\n").unwrap();
    let (code, _, stderr) = run(&["check", "--target", target.to_str().unwrap()], dir.path());
    assert_eq!(code, 2);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("t.toml"), "{stderr}");

    let reference = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/targets/reference-sp.toml");
    let wrong_app = dir.path().join("wrong-app.toml");
    let text =
        std::fs::read_to_string(reference).unwrap().replace("app = \"reference-sp\"", "app = \"no-such-app\"").replace(
            "org = \"../orgs/acme.toml\"",
            &format!("org = \"{}/fixtures/orgs/acme.toml\"", env!("CARGO_MANIFEST_DIR")),
        );
    std::fs::write(&wrong_app, text).unwrap();
    let (code, _, stderr) = run(&["check", "--target", wrong_app.to_str().unwrap()], dir.path());
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("wrong-app.toml: saml.app: no SAML app 'no-such-app'"), "{stderr}");
    assert!(stderr.contains("its SAML apps are: ") && stderr.contains("reference-sp-globex"), "{stderr}");

    let (code, _, stderr) = run(&["check", "--target", reference, "--only", "nothing.*"], dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("--only: 'nothing.*' matches no check"), "{stderr}");

    // A report aimed at a folder that does not exist is refused before any
    // check runs: the IdP address 7000 is never bound, so this is fast.
    let missing = dir.path().join("no-such-folder/report.json");
    let (code, _, stderr) = run(&["check", "--target", reference, "--output", missing.to_str().unwrap()], dir.path());
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr.trim(),
        format!("mockta: error: --output: the folder {} does not exist", missing.parent().unwrap().display())
    );
}

#[test]
fn checks_filters_by_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let (code, table, _) = run(&["checks", "--protocol", "saml"], dir.path());
    assert_eq!(code, 0);
    let rows: Vec<&str> = table.lines().skip(1).collect();
    let saml_checks = conformance::catalogue::checks_for(conformance::catalogue::Protocol::Saml).len();
    assert_eq!(rows.len(), saml_checks, "{table}");
    assert!(rows.iter().all(|row| row.split_whitespace().nth(1) == Some("saml")), "{table}");
    let (code, _, stderr) = run(&["checks", "--protocol", "ldap"], dir.path());
    assert_eq!(code, 2);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // The checks that cross protocols are listed by their own name too.
    let (code, table, _) = run(&["checks", "--protocol", "cross"], dir.path());
    assert_eq!(code, 0);
    let rows: Vec<&str> = table.lines().skip(1).collect();
    let cross_checks = conformance::catalogue::checks_for(conformance::catalogue::Protocol::Cross).len();
    assert!(cross_checks > 0);
    assert_eq!(rows.len(), cross_checks, "{table}");
    assert!(rows.iter().all(|row| row.split_whitespace().nth(1) == Some("cross")), "{table}");
}

#[test]
fn clap_errors_are_one_line_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in
        [&["checks", "--format", "bogus"][..], &["idp", "--listen", "not-an-address"][..], &["no-such-command"][..]]
    {
        let (code, stdout, stderr) = run(args, dir.path());
        assert_eq!(code, 2, "{args:?}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("mockta: error: "), "{args:?}: {stderr}");
    }
    let (_, _, stderr) = run(&["checks", "--format", "bogus"], dir.path());
    assert!(stderr.contains("'bogus'") && stderr.contains("table, json"), "{stderr}");
}

/// `mockta check --seed` takes a number (the integration state machine's
/// seed a report names); anything else is one line and exit 2, before any
/// work starts.
#[test]
fn check_refuses_a_seed_that_is_not_a_number_in_one_line_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for seed in ["twelve", "1.5", "18446744073709551616"] {
        let (code, stdout, stderr) =
            run(&["check", "--target", "fixtures/targets/reference-sp.toml", "--seed", seed], dir.path());
        assert_eq!(code, 2, "--seed {seed}: {stderr}");
        assert!(stdout.is_empty(), "--seed {seed}: {stdout}");
        assert_eq!(stderr.lines().count(), 1, "--seed {seed}: {stderr}");
        assert!(stderr.contains("--seed"), "--seed {seed}: {stderr}");
    }
}

#[test]
fn a_db_in_a_missing_folder_is_refused_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("absent/sp.sqlite3");
    let (code, _, stderr) = run(&["sp", "--db", db.to_str().unwrap()], dir.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--db: the folder") && stderr.contains("does not exist"), "{stderr}");
    assert!(!dir.path().join("absent").exists());
}

#[test]
fn a_busy_port_is_an_environment_failure_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let (code, _, stderr) = run(&["idp", "--listen", &address], dir.path());
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains(&format!("cannot listen on {address}")), "{stderr}");
}

#[test]
fn oidc_mint_prints_a_token_and_rejects_bad_usage_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let base = ["oidc", "mint", "--deterministic", "--app", "reference-sp-oidc", "--user", "alice@acme.test"];
    let (code, stdout, _) = run(&[&base[..], &["--server", "default"]].concat(), dir.path());
    assert_eq!(code, 0);
    let token = stdout.trim();
    assert_eq!(token.split('.').count(), 3, "{token}");
    let (_, again, _) = run(&[&base[..], &["--server", "default"]].concat(), dir.path());
    assert_eq!(again.trim(), token, "deterministic mode mints the same token");
    let (code, faulted, _) = run(&[&base[..], &["--fault", "alg-none"]].concat(), dir.path());
    assert_eq!(code, 0);
    assert!(faulted.trim().ends_with('.'), "alg none has an empty signature: {faulted}");
    for (args, message) in [
        (vec!["--fault", "nope"], "'nope' is not an OIDC fault"),
        (vec!["--server", "ausnosuchserver00001"], "--server: no authorization server 'ausnosuchserver00001'"),
    ] {
        let (code, _, stderr) = run(&[&base[..], &args[..]].concat(), dir.path());
        assert_eq!(code, 2, "{args:?}");
        // The message is on the first line; clap adds a hint line after its own errors.
        assert!(stderr.lines().next().unwrap().contains(message), "{stderr}");
    }
    let (code, _, stderr) =
        run(&["oidc", "mint", "--deterministic", "--app", "reference-sp", "--user", "alice@acme.test"], dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("--app: no OIDC app 'reference-sp'"), "{stderr}");
}

#[test]
fn a_key_folder_that_cannot_be_written_is_an_environment_failure_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the key folder should be: no key can be written there.
    let not_a_folder = dir.path().join("keys");
    std::fs::write(&not_a_folder, "a file").unwrap();
    let (code, _, stderr) =
        run(&["saml", "metadata", "--app", "reference-sp", "--key-dir", not_a_folder.to_str().unwrap()], dir.path());
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn completions_and_the_manual_page_come_from_the_command_definitions() {
    let dir = tempfile::tempdir().unwrap();
    let (code, bash, _) = run(&["completions", "bash"], dir.path());
    assert_eq!(code, 0);
    assert!(bash.contains("_mockta()") && bash.contains("--baseline"), "{bash}");
    let (code, zsh, _) = run(&["completions", "zsh"], dir.path());
    assert_eq!(code, 0);
    assert!(zsh.contains("#compdef mockta"), "{zsh}");
    let (code, man, _) = run(&["man"], dir.path());
    assert_eq!(code, 0);
    assert!(man.contains(".TH mockta") && man.contains("demo"), "{man}");
    let (code, _, stderr) = run(&["completions", "tcsh"], dir.path());
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn servers_log_one_json_object_a_line_with_log_format_json() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sp.toml");
    std::fs::write(
        &config,
        reference_sp::config::BUILTIN_CONFIG.replace(
            "database = \".local/reference-sp.sqlite3\"",
            &format!("database = \"{}\"", dir.path().join("sp.sqlite3").display()),
        ),
    )
    .unwrap();
    let (mut child, address) = crate::sp::start_sp_process_with(&config, &["--log-format", "json"], Stdio::piped());
    // A refused response is logged.
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    let body = "SAMLResponse=bm90IHhtbA%3D%3D";
    use std::io::Write;
    write!(
        stream,
        "POST /sso/acs/acme HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    child.kill().unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let _ = child.wait();
    let logged: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!logged.is_empty(), "the refusal is logged");
    for line in logged {
        let object: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(object.get("level").is_some() && object.get("fields").is_some(), "{line}");
    }
}

#[test]
fn an_unknown_scim_fault_is_a_one_line_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(&["scim", "push", "--app", "reference-sp", "--fault", "teleport"], dir.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("unknown SCIM fault 'teleport' (known: username-case, duplicate-create"), "{stderr}");
}
