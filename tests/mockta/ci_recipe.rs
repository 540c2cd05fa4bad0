//! The CI recipes in `docs/ci/` (GitHub Actions and GitLab CI): both call
//! `scripts/ci-recipe`, and these tests run that script as a pipeline would,
//! against the reference SP started by the script itself (`mockta sp`, on
//! free ports), then read the reports it leaves. The one step they do not
//! run is `scripts/ci-recipe install` (a release build and `cargo install`
//! into the user's Cargo folder); they run the `mockta` binary cargo built
//! from the same sources instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The checks the pipeline runs here: the signature checks keep the test
/// fast and include `saml.sig.unsigned`, which the flaw below breaks.
const ONLY: &str = "saml.sig.*";

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A port nobody listens on now (the script's servers bind it by number).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The reference SP's config on `sp_port`, trusting the mock at
/// `idp_port`, with its database in `dir`; the org file and the target file
/// the suite needs for that pair of addresses. Returns the config's and the
/// target's paths.
fn write_files(dir: &Path, name: &str, sp_port: u16, idp_port: u16) -> (PathBuf, PathBuf) {
    let sp_address = format!("127.0.0.1:{sp_port}");
    let idp_url = format!("http://127.0.0.1:{idp_port}");
    let config = dir.join(format!("{name}-sp.toml"));
    std::fs::write(
        &config,
        reference_sp::config::BUILTIN_CONFIG
            .replace("http://127.0.0.1:7000", &idp_url)
            .replace("127.0.0.1:7100", &sp_address)
            .replace(
                "database = \".local/reference-sp.sqlite3\"",
                &format!("database = \"{}\"", dir.join(format!("{name}-sp.sqlite3")).display()),
            ),
    )
    .unwrap();
    let org = dir.join(format!("{name}-org.toml"));
    std::fs::write(
        &org,
        mock_idp::setup::BUILTIN_ORG.replace("127.0.0.1:7100", &sp_address).replace("http://127.0.0.1:7000", &idp_url),
    )
    .unwrap();
    let target = dir.join(format!("{name}-target.toml"));
    std::fs::write(
        &target,
        include_str!("../../fixtures/targets/reference-sp.toml")
            .replace("org = \"../orgs/acme.toml\"", &format!("org = \"{}\"", org.display()))
            .replace("127.0.0.1:7000", &format!("127.0.0.1:{idp_port}"))
            .replace("127.0.0.1:7100", &sp_address),
    )
    .unwrap();
    (config, target)
}

/// What one run of `scripts/ci-recipe run` left.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `scripts/ci-recipe run --protocol saml --only ONLY` with the
/// recipes' variables: the SP under test is `mockta sp` with `config` and
/// `flaws`, the reports go to `reports`, and `baseline` is passed on.
fn run_recipe(dir: &Path, config: &Path, target: &Path, flaws: &[&str], reports: &Path, baseline: &Path) -> Run {
    let mockta = env!("CARGO_BIN_EXE_mockta");
    let mut sp_command = format!("'{mockta}' sp --config '{}'", config.display());
    for flaw in flaws {
        sp_command.push_str(&format!(" --flaw {flaw}"));
    }
    let output = Command::new(repository().join("scripts/ci-recipe"))
        .current_dir(repository())
        .args(["run", "--protocol", "saml", "--only", ONLY])
        .env("MOCKTA", mockta)
        .env("MOCKTA_TARGET", target)
        .env("MOCKTA_SP_COMMAND", sp_command)
        .env("MOCKTA_REPORT_DIR", reports)
        .env("MOCKTA_BASELINE", baseline)
        .env("MOCKTA_KEY_DIR", dir.join("keys"))
        .env_remove("MOCKTA_SP_READY")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs Python (from the test command's venv) on `code` with `path` as its
/// argument and reads the JSON it prints.
fn python_json(code: &str, path: &Path) -> Value {
    let output = Command::new(super::python()).arg("-c").arg(code).arg(path).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The JUnit report's shape, read by Python's XML parser: the root, its
/// attributes, and each suite with its attributes and test cases (name and
/// child elements).
fn read_junit(path: &Path) -> Value {
    python_json(
        r#"
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
print(json.dumps({
    "tag": root.tag,
    "attributes": root.attrib,
    "suites": [{
        "tag": suite.tag,
        "attributes": suite.attrib,
        "cases": [{"tag": case.tag, "name": case.get("name"), "children": [child.tag for child in case]} for case in suite],
    } for suite in root],
}))
"#,
        path,
    )
}

/// The JSON report follows `mockta.report/1` (conformance/src/report.rs):
/// the schema, the target, the summary's five counts matching the results,
/// and each result's fields. Returns the results' ids.
fn assert_json_report_schema(report: &Value) -> Vec<String> {
    assert_eq!(report["schema"], "mockta.report/1", "{report}");
    assert!(report["target"].is_string(), "{report}");
    let results = report["results"].as_array().unwrap();
    let mut counted = std::collections::BTreeMap::new();
    for result in results {
        for field in ["id", "title", "protocol", "category", "severity", "reference", "verdict", "reason"] {
            assert!(result[field].is_string(), "{field} in {result}");
        }
        assert!(result["duration_ms"].is_u64(), "{result}");
        let verdict = result["verdict"].as_str().unwrap();
        assert!(["pass", "fail", "warn", "skip", "error"].contains(&verdict), "{result}");
        *counted.entry(verdict.to_owned()).or_insert(0_u64) += 1;
    }
    for verdict in ["pass", "fail", "warn", "skip", "error"] {
        assert_eq!(report["summary"][verdict].as_u64(), Some(counted.get(verdict).copied().unwrap_or(0)), "{report}");
    }
    results.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn the_ci_recipe_passes_the_reference_sp_then_fails_only_on_a_regression() {
    let dir = tempfile::tempdir().unwrap();
    let idp_port = free_port();
    let baseline = dir.path().join("baseline.json");

    // The first run has no baseline yet: the reference SP passes every check.
    let (config, target) = write_files(dir.path(), "first", free_port(), idp_port);
    let first = dir.path().join("first-report");
    let run = run_recipe(dir.path(), &config, &target, &[], &first, &baseline);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("the SP is up: mockta: reference SP listening on"), "{}", run.stdout);
    assert!(run.stdout.contains("no baseline report"), "{}", run.stdout);

    let report: Value = serde_json::from_str(&std::fs::read_to_string(first.join("report.json")).unwrap()).unwrap();
    let ids = assert_json_report_schema(&report);
    let selected: Vec<String> = conformance::select(Some(ONLY), Some(conformance::catalogue::Protocol::Saml))
        .unwrap()
        .iter()
        .map(|check| check.id.to_owned())
        .collect();
    assert_eq!(ids, selected, "the JSON report has one result per selected check");

    let junit = read_junit(&first.join("report.xml"));
    assert_eq!(junit["tag"], "testsuites", "{junit}");
    assert_eq!(junit["attributes"]["failures"], "0", "{junit}");
    assert_eq!(junit["attributes"]["errors"], "0", "{junit}");
    assert_eq!(junit["attributes"]["tests"], ids.len().to_string(), "{junit}");
    let mut cases = Vec::new();
    for suite in junit["suites"].as_array().unwrap() {
        assert_eq!(suite["tag"], "testsuite", "{junit}");
        assert_eq!(suite["attributes"]["failures"], "0", "{junit}");
        for case in suite["cases"].as_array().unwrap() {
            assert_eq!(case["tag"], "testcase", "{junit}");
            let children = case["children"].as_array().unwrap();
            assert!(!children.iter().any(|c| c == "failure" || c == "error"), "{case}");
            cases.push(case["name"].as_str().unwrap().to_owned());
        }
    }
    cases.sort();
    let mut sorted_ids = ids.clone();
    sorted_ids.sort();
    assert_eq!(cases, sorted_ids, "one JUnit test case per check");

    // The pipeline keeps that report as its baseline; the same SP against it
    // has nothing regressed.
    std::fs::copy(first.join("report.json"), &baseline).unwrap();
    let (config, target) = write_files(dir.path(), "second", free_port(), idp_port);
    let run = run_recipe(dir.path(), &config, &target, &[], &dir.path().join("second-report"), &baseline);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("failing only on regressions since"), "{}", run.stdout);
    assert!(run.stderr.contains("no verdict changed for the worse"), "{}", run.stderr);

    // The SP gains a flaw: the run exits 1 and names the regressed check.
    let (config, target) = write_files(dir.path(), "flawed", free_port(), idp_port);
    let flawed = dir.path().join("flawed-report");
    let run = run_recipe(dir.path(), &config, &target, &["accept-unsigned"], &flawed, &baseline);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("regressed: saml.sig.unsigned (pass -> fail)"), "{}", run.stderr);
    // The JUnit report of that run shows the failure for the CI to publish.
    let junit = read_junit(&flawed.join("report.xml"));
    let failed: Vec<&Value> = junit["suites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|suite| suite["cases"].as_array().unwrap())
        .filter(|case| case["children"].as_array().unwrap().iter().any(|c| c == "failure"))
        .collect();
    assert_eq!(failed.len(), 1, "{junit}");
    assert_eq!(failed[0]["name"], "saml.sig.unsigned", "{junit}");
}

#[test]
fn the_ci_recipe_stops_with_exit_3_when_the_sp_under_test_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let (_, target) = write_files(dir.path(), "missing", free_port(), free_port());
    // A config file that does not exist: `mockta sp` exits before listening.
    let run = run_recipe(
        dir.path(),
        &dir.path().join("no-such-config.toml"),
        &target,
        &[],
        &dir.path().join("reports"),
        &dir.path().join("no-baseline.json"),
    );
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("the SP under test stopped or went silent"), "{}", run.stderr);
    assert!(run.stderr.contains("no-such-config.toml"), "the SP's own error is shown: {}", run.stderr);
    assert!(!dir.path().join("reports/report.xml").exists(), "no check ran");
}

/// Each recipe file, read by PyYAML, as JSON.
fn read_recipe(name: &str) -> Value {
    python_json(
        "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        &repository().join("docs/ci").join(name),
    )
}

#[test]
fn each_ci_recipe_parses_as_yaml_and_runs_the_tested_script() {
    let github = read_recipe("github-actions.yml");
    let job = &github["jobs"]["mockta"];
    assert_eq!(job["env"]["MOCKTA_REPORT_DIR"], "mockta-report", "{job}");
    let steps = job["steps"].as_array().unwrap();
    let runs: Vec<&str> = steps.iter().filter_map(|step| step["run"].as_str()).collect();
    assert_eq!(runs, ["scripts/ci-recipe install", "scripts/ci-recipe run"], "{job}");
    let uses = |action: &str| steps.iter().find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(action))).unwrap();
    let upload = uses("actions/upload-artifact@");
    assert_eq!(upload["if"], "always()", "{upload}");
    assert_eq!(upload["with"]["path"], "mockta-report/", "{upload}");
    let junit = uses("mikepenz/action-junit-report@");
    assert_eq!(junit["if"], "always()", "{junit}");
    assert_eq!(junit["with"]["report_paths"], "mockta-report/report.xml", "{junit}");

    let gitlab = read_recipe("gitlab-ci.yml");
    let job = &gitlab["mockta"];
    assert_eq!(job["variables"]["MOCKTA_REPORT_DIR"], "mockta-report", "{job}");
    assert_eq!(job["script"], serde_json::json!(["scripts/ci-recipe install", "scripts/ci-recipe run"]), "{job}");
    assert_eq!(job["artifacts"]["when"], "always", "{job}");
    assert_eq!(job["artifacts"]["reports"]["junit"], "mockta-report/report.xml", "{job}");

    // Both recipes keep the same baseline file and target.
    for variable in ["MOCKTA_BASELINE", "MOCKTA_TARGET"] {
        assert_eq!(github["jobs"]["mockta"]["env"][variable], job["variables"][variable], "{variable}");
    }
}

#[test]
fn a_json_output_in_a_missing_folder_is_refused_before_any_check_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (_, target) = write_files(dir.path(), "refused", free_port(), free_port());
    let output = Command::new(env!("CARGO_BIN_EXE_mockta"))
        .args(["check", "--target"])
        .arg(&target)
        .args(["--format", "junit", "--output"])
        .arg(dir.path().join("report.xml"))
        .arg("--json-output")
        .arg(dir.path().join("no-such-folder/report.json"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--json-output: the folder"), "{stderr}");
    assert!(!dir.path().join("report.xml").exists(), "no check ran");
}
