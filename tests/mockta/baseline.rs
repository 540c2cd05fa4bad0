//! `mockta check --baseline`: a CI run that fails only on regressions, run
//! as a pipeline would run it, against reference SPs with and without a new
//! flaw.

use std::process::Command;
use std::sync::Arc;

/// A reference SP with `flaws` on a free port, trusting the mock the suite
/// will serve at `idp_url`. Returns the server and its base URL.
async fn flawed_sp(dir: &std::path::Path, idp_url: &str, flaws: &[&str]) -> (reference_sp::http::RunningSp, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sp_url = format!("http://{}", listener.local_addr().unwrap());
    let database = dir.join(format!("sp-{}.sqlite3", flaws.join("+")));
    let config = reference_sp::config::BUILTIN_CONFIG
        .replace("http://127.0.0.1:7000", idp_url)
        .replace("base_url = \"http://127.0.0.1:7100\"", &format!("base_url = \"{sp_url}\""))
        .replace("database = \".local/reference-sp.sqlite3\"", &format!("database = \"{}\"", database.display()));
    let config_path = dir.join(format!("sp-{}.toml", flaws.join("+")));
    std::fs::write(&config_path, config).unwrap();
    let options = reference_sp::setup::SpOptions {
        config: Some(config_path),
        flaws: flaws.iter().map(|f| (*f).to_owned()).collect(),
        ..Default::default()
    };
    let sp = Arc::new(options.build().unwrap());
    (reference_sp::http::RunningSp::serve(listener, sp).unwrap(), sp_url)
}

/// Writes the org and target files for an SP at `sp_url` and a mock at
/// `idp_port`, and returns the target's path.
fn target_files(dir: &std::path::Path, sp_url: &str, idp_port: u16, name: &str) -> std::path::PathBuf {
    let org = dir.join(format!("{name}-org.toml"));
    std::fs::write(
        &org,
        mock_idp::setup::BUILTIN_ORG
            .replace("http://127.0.0.1:7100", sp_url)
            .replace("http://127.0.0.1:7000", &format!("http://127.0.0.1:{idp_port}")),
    )
    .unwrap();
    let target = dir.join(format!("{name}-target.toml"));
    let text = include_str!("../../fixtures/targets/reference-sp.toml")
        .replace("org = \"../orgs/acme.toml\"", &format!("org = \"{}\"", org.display()))
        .replace("127.0.0.1:7000", &format!("127.0.0.1:{idp_port}"))
        .replace("http://127.0.0.1:7100", sp_url);
    std::fs::write(&target, text).unwrap();
    target
}

/// Runs `mockta check` on the SAML checks with `extra` arguments; returns
/// the exit code and standard error.
fn check(dir: &std::path::Path, target: &std::path::Path, extra: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_mockta"))
        .args(["check", "--protocol", "saml", "--target"])
        .arg(target)
        .args(["--key-dir"])
        .arg(dir.join("keys"))
        .args(extra)
        .output()
        .unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// [`check`] off the test's runtime, which serves the SP it judges.
async fn check_off_runtime(dir: &std::path::Path, target: &std::path::Path, extra: &[&str]) -> (i32, String) {
    let (dir, target) = (dir.to_owned(), target.to_owned());
    let extra: Vec<String> = extra.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        check(&dir, &target, &extra)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baseline_run_fails_only_when_the_sp_gains_a_new_failure() {
    let dir = tempfile::tempdir().unwrap();
    let idp_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let idp_url = format!("http://127.0.0.1:{idp_port}");
    let baseline = dir.path().join("baseline.json");

    // The baseline: an SP that ignores the Audience fails two checks.
    let (server, sp_url) = flawed_sp(dir.path(), &idp_url, &["ignore-audience"]).await;
    let target = target_files(dir.path(), &sp_url, idp_port, "audience");
    let path = baseline.to_str().unwrap().to_owned();
    let (code, stderr) = check_off_runtime(dir.path(), &target, &["--format", "json", "--output", &path]).await;
    assert_eq!(code, 1, "the baseline run itself fails: {stderr}");
    // The same SP against its own baseline: nothing regressed.
    let (code, stderr) = check_off_runtime(dir.path(), &target, &["--baseline", &path, "--output", "/dev/null"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("no verdict changed for the worse"), "{stderr}");
    server.stop().await.unwrap();

    // The SP gains a flaw: the new failure is a regression, the old ones are not.
    let (server, sp_url) = flawed_sp(dir.path(), &idp_url, &["ignore-audience", "accept-unsigned"]).await;
    let target = target_files(dir.path(), &sp_url, idp_port, "unsigned");
    let (code, stderr) = check_off_runtime(dir.path(), &target, &["--baseline", &path, "--output", "/dev/null"]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("regressed: saml.sig.unsigned (pass -> fail)"), "{stderr}");
    assert!(!stderr.contains("regressed: saml.cond.audience"), "{stderr}");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oversized_check_gives_the_same_pass_on_every_run() {
    // The reference SP answers 413 once it has read past its body limit,
    // while the suite is still writing the rest. Whether the answer or the
    // broken pipe reaches the suite first is a race; the session oracle
    // asked next once inherited the half-written connection and errored,
    // which a baseline run reports as a changed verdict. Run often enough,
    // the race is lost at least once.
    let dir = tempfile::tempdir().unwrap();
    let idp_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (server, sp_url) = flawed_sp(dir.path(), &format!("http://127.0.0.1:{idp_port}"), &[]).await;
    let target = target_files(dir.path(), &sp_url, idp_port, "oversized");
    for run in 0..8 {
        let (code, stderr) =
            check_off_runtime(dir.path(), &target, &["--only", "saml.xml.oversized", "--output", "/dev/null"]).await;
        assert_eq!(code, 0, "run {run}: {stderr}");
    }
    server.stop().await.unwrap();
}

/// Runs `mockta check` on the integration state machine alone with `extra`
/// arguments, off the test's runtime; returns the exit code, standard output
/// and standard error.
async fn check_state_machine(dir: &std::path::Path, target: &std::path::Path, extra: &[&str]) -> (i32, String, String) {
    let (dir, target) = (dir.to_owned(), target.to_owned());
    let extra: Vec<String> = extra.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let output = Command::new(env!("CARGO_BIN_EXE_mockta"))
            .args(["check", "--only", "cross.state_machine.integration", "--target"])
            .arg(&target)
            .args(["--key-dir"])
            .arg(dir.join("keys"))
            .args(&extra)
            .output()
            .unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

/// The state machine's verdict, reason and shrunk steps from a JSON report,
/// each case's random tag redacted, and the seed the report names.
fn state_machine_outcome(report: &str) -> (String, u64) {
    let json: serde_json::Value = serde_json::from_str(report).unwrap();
    let seed = json["state_machine_seed"].as_u64().unwrap();
    let result = &json["results"][0];
    let outcome = format!("{} {} {}", result["verdict"], result["reason"], result["evidence"]["steps"]);
    (regex::Regex::new("sm-[a-z]{8}-").unwrap().replace_all(&outcome, "sm-[tag]-").into_owned(), seed)
}

/// `mockta check --seed`: a report names the integration state machine's
/// seed, and that seed replays the run. Against an SP whose sessions outlive
/// Okta's deactivation, a run with a random seed and its replay fail the
/// same case with the same shrunk sequence (each with fresh people), and the
/// human report names the seed too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_a_report_names_replays_the_state_machine() {
    let dir = tempfile::tempdir().unwrap();
    let idp_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (server, sp_url) =
        flawed_sp(dir.path(), &format!("http://127.0.0.1:{idp_port}"), &["deactivate-keeps-sessions"]).await;
    let target = target_files(dir.path(), &sp_url, idp_port, "seed");
    let (code, first, stderr) = check_state_machine(dir.path(), &target, &["--format", "json"]).await;
    assert_eq!(code, 1, "{stderr}");
    let (outcome, seed) = state_machine_outcome(&first);
    assert!(outcome.starts_with("\"fail\""), "{outcome}");
    let seed_text = seed.to_string();
    // The replay is against a new SP of the same kind: the run it replays
    // started from a new SP too, and what an SP keeps from a run (the admins
    // of its admin group) rightly changes what the next run's cases judge.
    let replay_dir = tempfile::tempdir().unwrap();
    let (replay_server, replay_sp_url) =
        flawed_sp(replay_dir.path(), &format!("http://127.0.0.1:{idp_port}"), &["deactivate-keeps-sessions"]).await;
    let replay_target = target_files(replay_dir.path(), &replay_sp_url, idp_port, "seed");
    let (code, replayed, stderr) =
        check_state_machine(replay_dir.path(), &replay_target, &["--format", "json", "--seed", &seed_text]).await;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(state_machine_outcome(&replayed), (outcome, seed));
    replay_server.stop().await.unwrap();
    let (code, human, stderr) = check_state_machine(dir.path(), &target, &["--seed", &seed_text]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(human.contains(&format!("integration state machine seed: {seed} (replay with --seed {seed})")), "{human}");
    assert!(human.contains("shrunk sequence: case "), "{human}");
    server.stop().await.unwrap();
}
