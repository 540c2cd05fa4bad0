//! `mockta target init` against the reference SP: the target it writes from
//! the acme tenant's metadata, OIDC redirect URI and SCIM server judges the
//! SP as the hand-written reference target does, check by check (SAML, OIDC
//! and SCIM). Its questions are answered on a real terminal: a
//! pseudo-terminal from util-linux's `script`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The reference SP on `listener`, with its acme tenant's IdP metadata URL
/// and OIDC client set to what init said (`acme_idp`), and the tenants' IdP at `idp_url`.
fn serve_sp(
    dir: &Path,
    listener: tokio::net::TcpListener,
    idp_url: &str,
    acme_idp: Option<&AcmeIdp>,
    name: &str,
) -> (reference_sp::http::RunningSp, String) {
    let sp_url = format!("http://{}", listener.local_addr().unwrap());
    let mut config = reference_sp::config::BUILTIN_CONFIG.to_owned();
    if let Some(acme) = acme_idp {
        config = config
            .replace("http://127.0.0.1:7000/app/exkrefsp000000000001/sso/saml/metadata", &acme.metadata_url)
            .replace("client_id = \"0oarefspoidc00000007\"", &format!("client_id = \"{}\"", acme.client_id))
            .replacen(
                "client_secret = \"mockta-dev-oidc-secret\"",
                &format!("client_secret = \"{}\"", acme.client_secret),
                1,
            );
    }
    let config = config
        .replace("http://127.0.0.1:7000", idp_url)
        .replace("base_url = \"http://127.0.0.1:7100\"", &format!("base_url = \"{sp_url}\""))
        .replace(
            "database = \".local/reference-sp.sqlite3\"",
            &format!("database = \"{}\"", dir.join(format!("{name}.sqlite3")).display()),
        );
    let config_path = dir.join(format!("{name}.toml"));
    std::fs::write(&config_path, config).unwrap();
    let options = reference_sp::setup::SpOptions { config: Some(config_path), ..Default::default() };
    let sp = Arc::new(options.build().unwrap());
    (reference_sp::http::RunningSp::serve(listener, sp).unwrap(), sp_url)
}

/// What init told the vendor to configure in the acme tenant: the SAML
/// app's IdP metadata URL and the OIDC client.
struct AcmeIdp {
    metadata_url: String,
    client_id: String,
    client_secret: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `mockta target init` with `args`; returns the exit code, stdout and stderr.
fn init(args: &[String]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_mockta"))
        .args(["target", "init"])
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs the SAML, the OIDC and the SCIM checks against `target` and returns
/// each check's verdict.
fn verdicts(dir: &Path, target: &Path, name: &str) -> BTreeMap<String, (String, String)> {
    let mut all = verdicts_of("saml", dir, target, name);
    all.extend(verdicts_of("oidc", dir, target, name));
    all.extend(verdicts_of("scim", dir, target, name));
    all
}

fn verdicts_of(protocol: &str, dir: &Path, target: &Path, name: &str) -> BTreeMap<String, (String, String)> {
    verdicts_of_checks(protocol, "*", dir, target, name)
}

/// The verdicts of the checks of `protocol` whose id matches `only`.
fn verdicts_of_checks(
    protocol: &str,
    only: &str,
    dir: &Path,
    target: &Path,
    name: &str,
) -> BTreeMap<String, (String, String)> {
    let report = dir.join(format!("{name}-{protocol}-report.json"));
    let output = Command::new(env!("CARGO_BIN_EXE_mockta"))
        .args(["check", "--protocol", protocol, "--only", only, "--format", "json", "--target"])
        .arg(target)
        .arg("--key-dir")
        .arg(dir.join(format!("{name}-keys")))
        .arg("--output")
        .arg(&report)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&report)
        .unwrap_or_else(|_| panic!("no report from {name}: {}", String::from_utf8_lossy(&output.stderr)));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| {
            let field = |key: &str| result[key].as_str().unwrap_or_default().to_owned();
            (field("id"), (field("verdict"), field("reason")))
        })
        .collect()
}

/// An error verdict from the connection itself, not from the target: the
/// oversized-response check's POST sometimes meets a Broken pipe when the SP
/// answers before reading the whole body. It says nothing about the target
/// file, so it is left out of the comparison rather than failing it.
fn transport_failure(verdict: &str, reason: &str) -> bool {
    verdict == "error" && reason.contains("error sending request")
}

/// The hand-written reference target, pointed at an SP at `sp_url` and a
/// mock at `idp_port`.
fn hand_written_target(dir: &Path, sp_url: &str, idp_port: u16) -> PathBuf {
    let org = dir.join("hand-org.toml");
    std::fs::write(
        &org,
        mock_idp::setup::BUILTIN_ORG
            .replace("http://127.0.0.1:7100", sp_url)
            .replace("http://127.0.0.1:7000", &format!("http://127.0.0.1:{idp_port}")),
    )
    .unwrap();
    let target = dir.join("hand-target.toml");
    let text = include_str!("../../fixtures/targets/reference-sp.toml")
        .replace("org = \"../orgs/acme.toml\"", &format!("org = \"{}\"", org.display()))
        .replace("127.0.0.1:7000", &format!("127.0.0.1:{idp_port}"))
        .replace("http://127.0.0.1:7100", sp_url);
    std::fs::write(&target, text).unwrap();
    target
}

/// The hand-written target's `[hooks]` (the SP's own admin API, which no
/// metadata describes), for an SP at `sp_url`.
fn hooks_section(sp_url: &str) -> String {
    let text = include_str!("../../fixtures/targets/reference-sp.toml");
    let start = text.find("[hooks]").unwrap();
    let end = text[start..].find("\n[limits]").map_or(text.len(), |end| start + end);
    text[start..end].replace("http://127.0.0.1:7100", sp_url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_written_by_init_from_the_reference_sps_metadata_gets_the_hand_written_targets_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let (init_idp_port, hand_idp_port) = (free_port(), free_port());
    let init_idp_url = format!("http://127.0.0.1:{init_idp_port}");

    // The vendor's SP is running; init reads its acme metadata.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (server, sp_url) = serve_sp(dir.path(), listener, &init_idp_url, None, "init-sp");
    let out_dir = dir.path().join("init");
    let args: Vec<String> = [
        "--saml-metadata",
        &format!("{sp_url}/sso/metadata/acme"),
        "--login-url",
        &format!("{sp_url}/login?tenant=acme"),
        "--session-url",
        &format!("{sp_url}/whoami"),
        "--identity-pointer",
        "/email",
        "--name-pointer",
        "/name",
        "--groups-pointer",
        "/groups",
        "--oidc-redirect-uri",
        &format!("{sp_url}/oidc/callback/acme"),
        "--oidc-client-type",
        "confidential",
        "--oidc-login-url",
        &format!("{sp_url}/oidc/login?tenant=acme"),
        "--oidc-return-parameter",
        "return_to",
        "--oidc-refresh-url",
        &format!("{sp_url}/oidc/refresh"),
        "--scim-base-url",
        &format!("{sp_url}/scim/v2/acme"),
        "--scim-token",
        "mockta-dev-token",
        "--jit",
        "--email-domain",
        "acme.test",
        "--idp-listen",
        &format!("127.0.0.1:{init_idp_port}"),
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]
    .iter()
    .map(|arg| (*arg).to_owned())
    .collect();
    let blocking_args = args.clone();
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || init(&blocking_args)).await.unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("answered 401 Unauthorized: no session yet"), "{stderr}");
    // Written once; a second run refuses to overwrite without --force.
    let again = args.clone();
    let (code, _, stderr) = tokio::task::spawn_blocking(move || init(&again)).await.unwrap();
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("give --force"), "{stderr}");

    // The vendor points the SP at the new apps, as init says.
    let said = |prefix: &str| {
        stdout
            .lines()
            .find_map(|line| line.trim().strip_prefix(prefix))
            .unwrap_or_else(|| panic!("{stdout}"))
            .to_owned()
    };
    let metadata_url = said("configure the SP's IdP metadata URL: ");
    assert!(metadata_url.starts_with(&format!("{init_idp_url}/app/")), "{metadata_url}");
    let client = said("configure the relying party: ");
    let client_id = client.rsplit_once("client id ").unwrap().1.to_owned();
    let acme = AcmeIdp { metadata_url, client_id, client_secret: said("client secret ") };
    server.stop().await.unwrap();
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    let (server, _) = serve_sp(dir.path(), listener, &init_idp_url, Some(&acme), "init-sp");
    let init_target = out_dir.join("target.toml");
    let mut text = std::fs::read_to_string(&init_target).unwrap();
    std::fs::write(out_dir.join("target-without-hooks.toml"), &text).unwrap();
    text.push('\n');
    text.push_str(&hooks_section(&sp_url));
    std::fs::write(&init_target, text).unwrap();

    // The hand-written pair against its own reference SP.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (hand_server, hand_sp_url) =
        serve_sp(dir.path(), listener, &format!("http://127.0.0.1:{hand_idp_port}"), None, "hand-sp");
    let hand_target = hand_written_target(dir.path(), &hand_sp_url, hand_idp_port);

    let (init_dir, hand_dir) = (dir.path().to_owned(), dir.path().to_owned());
    let init_run = tokio::task::spawn_blocking(move || verdicts(&init_dir, &init_target, "init"));
    let hand_run = tokio::task::spawn_blocking(move || verdicts(&hand_dir, &hand_target, "hand"));
    let (from_init, hand_written) = (init_run.await.unwrap(), hand_run.await.unwrap());
    server.stop().await.unwrap();
    hand_server.stop().await.unwrap();

    assert!(!hand_written.is_empty());
    assert_eq!(from_init.keys().collect::<Vec<_>>(), hand_written.keys().collect::<Vec<_>>());
    let differences: Vec<String> = hand_written
        .iter()
        .filter(|(id, (verdict, reason))| {
            from_init[*id].0 != *verdict
                && !transport_failure(verdict, reason)
                && !transport_failure(&from_init[*id].0, &from_init[*id].1)
        })
        .map(|(id, (verdict, reason))| {
            format!("{id}: hand-written {verdict} ({reason}), init {} ({})", from_init[id].0, from_init[id].1)
        })
        .collect();
    assert!(differences.is_empty(), "verdicts differ:\n{}", differences.join("\n"));
    let passes = hand_written.values().filter(|(verdict, _)| verdict == "pass").count();
    assert!(passes * 2 > hand_written.len(), "most checks pass against the reference SP: {hand_written:?}");

    // As init wrote it, without the SP's admin hooks: only checks that need
    // a hook are skipped, and they say so.
    let (dir_path, without_hooks) = (dir.path().to_owned(), out_dir.join("target-without-hooks.toml"));
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    let (server, _) = serve_sp(dir.path(), listener, &init_idp_url, Some(&acme), "init-sp");
    let as_written =
        tokio::task::spawn_blocking(move || verdicts(&dir_path, &without_hooks, "as-written")).await.unwrap();
    server.stop().await.unwrap();
    for (id, (verdict, reason)) in &as_written {
        let (hand_verdict, hand_reason) = &hand_written[id];
        if verdict != hand_verdict
            && !transport_failure(verdict, reason)
            && !transport_failure(hand_verdict, hand_reason)
        {
            assert!(verdict == "skip" && reason.contains("hook"), "{id}: {verdict} ({reason})");
        }
    }
}

#[test]
fn init_without_a_terminal_names_what_it_still_needs_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let metadata = dir.path().join("sp.xml");
    std::fs::write(
        &metadata,
        reference_sp::saml::metadata::render_sp_metadata(
            "https://sp.example/metadata",
            &["https://sp.example/acs".to_owned()],
            None,
            None,
            None,
            false,
        ),
    )
    .unwrap();
    let out = dir.path().to_str().unwrap().to_owned();
    let (code, _, stderr) =
        init(&["--saml-metadata".into(), metadata.to_str().unwrap().into(), "--out-dir".into(), out.clone()]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--login-url: required"), "{stderr}");
    let (code, _, stderr) = init(&[
        "--saml-metadata".into(),
        dir.path().join("missing.xml").to_str().unwrap().into(),
        "--out-dir".into(),
        out.clone(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("error: --saml-metadata: cannot read"), "{stderr}");
    // Everything given but a bad value: one line naming the option.
    let all_but = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = vec![
            "--saml-metadata".into(),
            metadata.to_str().unwrap().into(),
            "--login-url".into(),
            "https://sp.example/login".into(),
            "--session-url".into(),
            "http://127.0.0.1:9/whoami".into(),
            "--out-dir".into(),
            out.clone(),
        ];
        args.extend(extra.iter().map(|arg| (*arg).to_owned()));
        args
    };
    let (code, _, stderr) = init(&all_but(&["--identity-pointer", "email"]));
    assert_eq!((code, stderr.trim()), (2, "mockta: error: --identity-pointer: 'email' must start with '/'"));
    let (code, _, stderr) =
        init(&all_but(&["--identity-pointer", "/email", "--scim-base-url", "https://sp.example/scim/v2"]));
    assert_eq!((code, stderr.trim()), (2, "mockta: error: --scim-base-url: give --scim-token or --scim-basic"));
    assert!(!dir.path().join("target.toml").exists());
}

/// A command on a pseudo-terminal, through util-linux's `script` (Debian's
/// essential bsdutils package has it, so every machine that runs these tests
/// does): the command's stdin, stdout and stderr are the terminal, what the
/// test writes to `script`'s stdin is typed on it, and what the command
/// prints comes out of `script`'s stdout. The terminal does not echo, so the
/// transcript holds the typed answers once, where the test typed them.
struct Terminal {
    script: Child,
    /// `None` once the test has ended the input (Ctrl-D).
    keyboard: Option<ChildStdin>,
    screen: Receiver<Vec<u8>>,
    /// What the command printed and the test typed, in order, without the
    /// terminal's carriage returns.
    transcript: String,
    /// Printed bytes that do not yet make a whole UTF-8 character.
    partial: Vec<u8>,
    /// Where the next `expect` starts looking: after the last text it found
    /// and the last answer typed.
    read_up_to: usize,
    /// One deadline for the whole conversation: a question that never comes
    /// fails the test instead of hanging it.
    deadline: Instant,
}

/// Quotes `word` for the shell `script` runs the command with.
fn shell_quoted(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

impl Terminal {
    fn start(program: &str, args: &[String]) -> Terminal {
        let command: Vec<String> =
            std::iter::once(program).chain(args.iter().map(String::as_str)).map(shell_quoted).collect();
        let mut script = Command::new("script")
            .args(["--quiet", "--return", "--echo", "never", "--command"])
            .arg(command.join(" "))
            .arg("/dev/null")
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("util-linux's script runs");
        let keyboard = script.stdin.take();
        let mut output = script.stdout.take().unwrap();
        let (sender, screen) = std::sync::mpsc::channel();
        // A thread reads the terminal, so that the test waits on a channel
        // with the deadline instead of blocking in a read.
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(length @ 1..) = output.read(&mut buffer) {
                if sender.send(buffer[..length].to_vec()).is_err() {
                    break;
                }
            }
        });
        Terminal {
            script,
            keyboard,
            screen,
            transcript: String::new(),
            partial: Vec::new(),
            read_up_to: 0,
            deadline: Instant::now() + Duration::from_secs(60),
        }
    }

    /// Adds printed bytes to the transcript, keeping an incomplete UTF-8
    /// character for the next ones.
    fn append(&mut self, bytes: &[u8]) {
        self.partial.extend_from_slice(bytes);
        let whole = match std::str::from_utf8(&self.partial) {
            Ok(text) => text.len(),
            Err(error) => error.valid_up_to(),
        };
        let text = String::from_utf8_lossy(&self.partial[..whole]).replace('\r', "");
        self.transcript.push_str(&text);
        self.partial.drain(..whole);
    }

    /// Reads the terminal until `text` shows after what was already found.
    fn expect(&mut self, text: &str) {
        loop {
            if let Some(position) = self.transcript[self.read_up_to..].find(text) {
                self.read_up_to += position + text.len();
                return;
            }
            let left = self.deadline.saturating_duration_since(Instant::now());
            match self.screen.recv_timeout(left) {
                Ok(bytes) => self.append(&bytes),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("{text:?} did not show within the deadline; the terminal showed:\n{}", self.transcript)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the terminal closed before {text:?} showed; it showed:\n{}", self.transcript)
                }
            }
        }
    }

    /// Types `answer` and Enter. The command waits on its question, so
    /// nothing it prints falls between the question and the answer.
    fn answer(&mut self, answer: &str) {
        let keyboard = self.keyboard.as_mut().expect("the input has not ended");
        keyboard.write_all(format!("{answer}\n").as_bytes()).unwrap();
        keyboard.flush().unwrap();
        self.transcript.push_str(answer);
        self.transcript.push('\n');
        self.read_up_to = self.transcript.len();
    }

    /// Ends the input, as Ctrl-D does: `script` passes the end on to the
    /// command's terminal.
    fn end_input(&mut self) {
        self.keyboard = None;
    }

    /// Reads the terminal until the command ends; returns its exit code and
    /// the whole transcript.
    fn finish(mut self) -> (i32, String) {
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            match self.screen.recv_timeout(left) {
                Ok(bytes) => self.append(&bytes),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("the command did not end within the deadline; the terminal showed:\n{}", self.transcript)
                }
            }
        }
        let status = self.script.wait().unwrap();
        (status.code().unwrap_or(-1), std::mem::take(&mut self.transcript))
    }
}

impl Drop for Terminal {
    /// A test that failed half way does not leave `script` and the command
    /// waiting for an answer.
    fn drop(&mut self) {
        let _ = self.script.kill();
        let _ = self.script.wait();
    }
}

const SESSION_URL_QUESTION: &str =
    "Which URL of the SP shows the signed-in user (it answers 401 or no identity without a session): ";
const IDENTITY_POINTER_QUESTION: &str = "The JSON pointer to the user's email in that answer (such as /email): ";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_on_a_terminal_asks_again_after_a_wrong_answer_and_writes_what_the_options_write() {
    let dir = tempfile::tempdir().unwrap();
    let idp_port = free_port();
    let idp_url = format!("http://127.0.0.1:{idp_port}");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (server, sp_url) = serve_sp(dir.path(), listener, &idp_url, None, "terminal-sp");
    let unreachable_url = format!("http://127.0.0.1:{}/whoami", free_port());
    // Everything but the two answers init cannot find in the metadata.
    let given: Vec<String> = [
        "--saml-metadata",
        &format!("{sp_url}/sso/metadata/acme"),
        "--login-url",
        &format!("{sp_url}/login?tenant=acme"),
        "--jit",
        "--email-domain",
        "acme.test",
        "--idp-listen",
        &format!("127.0.0.1:{idp_port}"),
    ]
    .iter()
    .map(|arg| (*arg).to_owned())
    .collect();
    let asked_dir = dir.path().join("asked");
    let mut asked_args = given.clone();
    asked_args.extend(["--out-dir".to_owned(), asked_dir.to_str().unwrap().to_owned()]);
    let (dialogue_sp_url, dialogue_unreachable_url) = (sp_url.clone(), unreachable_url.clone());
    let (code, transcript) = tokio::task::spawn_blocking(move || {
        let sp_url = dialogue_sp_url;
        let mut terminal = Terminal::start(
            env!("CARGO_BIN_EXE_mockta"),
            &["target".into(), "init".into()].into_iter().chain(asked_args).collect::<Vec<String>>(),
        );
        terminal.expect(SESSION_URL_QUESTION);
        terminal.answer("whoami");
        terminal.expect("'whoami' is not an absolute http or https URL\n");
        terminal.expect(SESSION_URL_QUESTION);
        terminal.answer(&dialogue_unreachable_url);
        terminal.expect(&format!("cannot reach {dialogue_unreachable_url}: "));
        terminal.expect(SESSION_URL_QUESTION);
        terminal.answer(&format!("{sp_url}/who-am-i"));
        terminal.expect(&format!("session URL {sp_url}/who-am-i answered 404 Not Found: "));
        terminal.expect(SESSION_URL_QUESTION);
        terminal.answer(&format!("{sp_url}/whoami"));
        terminal
            .expect(&format!("session URL {sp_url}/whoami answered 401 Unauthorized: no session yet, as expected\n"));
        terminal.expect(IDENTITY_POINTER_QUESTION);
        terminal.answer("");
        terminal.expect("an answer is required (or give --identity-pointer)\n");
        terminal.expect(IDENTITY_POINTER_QUESTION);
        terminal.answer("email");
        terminal.expect("'email' must start with '/'\n");
        terminal.expect(IDENTITY_POINTER_QUESTION);
        terminal.answer("/email");
        terminal.expect("wrote ");
        terminal.finish()
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{transcript}");
    // The whole conversation, with the ports, the folder and the derived
    // app key (which depends on the SP's port) written as names.
    let app_key = regex::Regex::new("exk[0-9A-Za-z]+").unwrap();
    let redacted = app_key
        .replace_all(&transcript, "exk{key}")
        .replace(&unreachable_url, "http://127.0.0.1:{closed_port}/whoami")
        .replace(&sp_url, "http://127.0.0.1:{sp_port}")
        .replace(&idp_url, "http://127.0.0.1:{idp_port}")
        .replace(dir.path().to_str().unwrap(), "{dir}");
    insta::assert_snapshot!("init_on_a_terminal", redacted);

    // The same answers given as options write the same two files.
    let options_dir = dir.path().join("options");
    let mut options_args = given.clone();
    options_args.extend(
        [
            "--session-url",
            &format!("{sp_url}/whoami"),
            "--identity-pointer",
            "/email",
            "--out-dir",
            options_dir.to_str().unwrap(),
        ]
        .iter()
        .map(|arg| (*arg).to_owned()),
    );
    let (code, _, stderr) = tokio::task::spawn_blocking(move || init(&options_args)).await.unwrap();
    assert_eq!(code, 0, "{stderr}");
    for file in ["org.toml", "target.toml"] {
        assert_eq!(
            std::fs::read_to_string(asked_dir.join(file)).unwrap(),
            std::fs::read_to_string(options_dir.join(file)).unwrap(),
            "{file}"
        );
    }

    // The written target runs: the SP, pointed at the app init made as init
    // said, passes the SP-initiated sign-in check.
    let metadata_url = transcript
        .lines()
        .find_map(|line| line.strip_prefix("configure the SP's IdP metadata URL: "))
        .unwrap_or_else(|| panic!("{transcript}"))
        .to_owned();
    let acme = AcmeIdp {
        metadata_url,
        client_id: "0oarefspoidc00000007".to_owned(),
        client_secret: "mockta-dev-oidc-secret".to_owned(),
    };
    server.stop().await.unwrap();
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    let (server, _) = serve_sp(dir.path(), listener, &idp_url, Some(&acme), "terminal-sp");
    let (check_dir, target) = (dir.path().to_owned(), asked_dir.join("target.toml"));
    let verdicts = tokio::task::spawn_blocking(move || {
        verdicts_of_checks("saml", "saml.sso.sp_initiated", &check_dir, &target, "terminal")
    })
    .await
    .unwrap();
    server.stop().await.unwrap();
    let (verdict, reason) = &verdicts["saml.sso.sp_initiated"];
    assert_eq!(verdict, "pass", "{reason}");
}

#[test]
fn init_on_a_terminal_whose_input_ends_names_what_it_still_needs_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let metadata = dir.path().join("sp.xml");
    std::fs::write(
        &metadata,
        reference_sp::saml::metadata::render_sp_metadata(
            "https://sp.example/metadata",
            &["https://sp.example/acs".to_owned()],
            None,
            None,
            None,
            false,
        ),
    )
    .unwrap();
    let args: Vec<String> = [
        "target",
        "init",
        "--saml-metadata",
        metadata.to_str().unwrap(),
        "--login-url",
        "https://sp.example/login",
        "--out-dir",
        dir.path().to_str().unwrap(),
    ]
    .iter()
    .map(|arg| (*arg).to_owned())
    .collect();
    let mut terminal = Terminal::start(env!("CARGO_BIN_EXE_mockta"), &args);
    terminal.expect(SESSION_URL_QUESTION);
    terminal.end_input();
    let (code, transcript) = terminal.finish();
    assert_eq!(code, 2, "{transcript}");
    let last_line = transcript.trim_end().lines().last().unwrap_or_default().to_owned();
    assert_eq!(
        last_line,
        "mockta: error: --session-url: required (Which URL of the SP shows the signed-in user (it answers 401 or no \
         identity without a session)); the input ended before an answer",
        "{transcript}"
    );
    assert!(!dir.path().join("target.toml").exists());
}
