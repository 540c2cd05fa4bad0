//! Snapshots of the JSON and human reports of a run, with the values that
//! change from run to run (canary names, ids, times, signatures) redacted.

use conformance::report::Report;
use reference_sp::flaws::Flaw;

use crate::support::run_checks_against_reference_sp;

fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"(canary|victim|outsider)-[a-z]{10}", "$1-[tag]"),
        (r"id[0-9]{24,27}", "[saml-id]"),
        (r"_[0-9a-f]{32}", "[request-id]"),
        // The human report cuts the message at a fixed length, which can fall
        // inside the SP's request id.
        (r#"SessionIndex="_[0-9a-f]*"#, r#"SessionIndex="[request-id]"#),
        (r"id[0-9]{13}\.[0-9]{10}", "[session-index]"),
        // Okta's message ids vary from 24 to 27 digits, so the JSON report's
        // cut of the message falls a few characters earlier or later.
        (r"(<saml2:AttributeStatement )[^…]*…", "$1[cut]…"),
        (r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z", "[time]"),
        (r"(<ds:(?:DigestValue|SignatureValue|X509Certificate)>)[^<]*", "$1[base64]"),
        (r#""duration_ms": [0-9]+"#, r#""duration_ms": "[ms]""#),
        (r"127\.0\.0\.1:[0-9]+", "127.0.0.1:[port]"),
    ]
}

async fn report() -> Report {
    let checks = conformance::select(Some("saml.cond.audience*"), None).unwrap();
    let run = run_checks_against_reference_sp(&[Flaw::IgnoreAudience], checks).await;
    Report::new("reference-sp.toml".into(), run.results)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_human_reports_of_a_failing_run() {
    let report = report().await;
    assert_eq!(report.summary.fail, 2);
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!("report_json", report.to_json());
        insta::assert_snapshot!("report_human", report.to_human());
    });
    let junit = report.to_junit();
    assert!(junit.contains("<testsuite name=\"saml.conditions\" tests=\"2\""), "{junit}");
    assert_eq!(junit.matches("<failure").count(), 2);
}

/// The checks that cross protocols are summed per behaviour, by its name,
/// under the table ("deactivation: 8 pass, 2 fail"); JUnit gives the
/// behaviour its own test suite and JSON names it as each result's category.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_name_the_deactivation_behaviour_with_its_counts() {
    let checks = conformance::select(Some("cross.deactivation.*"), None).unwrap();
    let total = checks.len();
    let flaw: Flaw = "deactivate-keeps-sessions".parse().unwrap();
    let run = run_checks_against_reference_sp(&[flaw], checks).await;
    let report = Report::new("reference-sp.toml".into(), run.results);
    assert_eq!(report.summary.fail, 2, "{}", report.to_human());
    let human = report.to_human();
    // The table and the behaviour lines, before the first finding.
    let table = human.split("\nFAIL ").next().unwrap();
    insta::assert_snapshot!("report_human_deactivation_table", table);
    let junit = report.to_junit();
    assert!(junit.contains(&format!("<testsuite name=\"cross.deactivation\" tests=\"{total}\"")), "{junit}");
    assert_eq!(junit.matches("<failure").count(), 2);
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    let categories: Vec<&str> =
        json["results"].as_array().unwrap().iter().map(|r| r["category"].as_str().unwrap()).collect();
    assert!(categories.iter().all(|c| *c == "deactivation"), "{categories:?}");
}
