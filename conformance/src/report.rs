//! Reports: JSON (versioned schema) and human text.
//!
//! JSON schema, version 1: `{"schema": "mockta.report/1", "target": string,
//! "summary": {"pass", "fail", "warn", "skip", "error": integers}, "results": [{"id",
//! "title", "protocol" (saml | oidc | scim | cross), "category", "severity",
//! "reference", "verdict" (pass | fail | warn | skip | error), "reason",
//! "evidence"?: the protocol's evidence object (SAML: {"message",
//! "sp_status", "sp_location", "sp_body_excerpt", "oracle"}), "fix"?,
//! "duration_ms"}]}`.
//! Results are in catalogue order.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::catalogue::Protocol;
use crate::runner::{CheckResult, Verdict};

pub const SCHEMA: &str = "mockta.report/1";

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub skip: usize,
    pub error: usize,
}

impl Summary {
    /// Counts one result.
    fn add(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Pass => self.pass += 1,
            Verdict::Fail => self.fail += 1,
            Verdict::Warn => self.warn += 1,
            Verdict::Skip => self.skip += 1,
            Verdict::Error => self.error += 1,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub target: String,
    pub summary: Summary,
    pub results: Vec<CheckResult>,
}

impl Report {
    /// Counts the results, which stay in the order given.
    pub fn new(target: String, results: Vec<CheckResult>) -> Report {
        let mut summary = Summary::default();
        for result in &results {
            summary.add(result.verdict);
        }
        Report { schema: SCHEMA, target, summary, results }
    }

    /// Whether nothing failed or errored; with `strict`, whether nothing
    /// warned either.
    pub fn ok(&self, strict: bool) -> bool {
        self.summary.fail == 0 && self.summary.error == 0 && !(strict && self.summary.warn > 0)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// JUnit XML: one test suite per protocol and category (`saml.signature`),
    /// one test case per check. A
    /// fail is a `failure`, an error an `error`, a skip `skipped`.
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
        let mut report = quick_junit::Report::new(format!("mockta check {}", self.target));
        let mut suites: BTreeMap<String, TestSuite> = BTreeMap::new();
        for result in &self.results {
            let mut status = match result.verdict {
                // JUnit has no warning: a warn passes, and says why in its output.
                Verdict::Pass | Verdict::Warn => TestCaseStatus::success(),
                Verdict::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
                Verdict::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
                Verdict::Skip => TestCaseStatus::skipped(),
            };
            if !matches!(result.verdict, Verdict::Pass | Verdict::Warn) {
                status.set_message(result.reason.clone());
                let mut description = format!("{}\nsource: {}", result.title, result.reference);
                if let Some(evidence) = &result.evidence {
                    description.push_str(&format!("\noracle: {}", evidence.oracle()));
                    if let Some(answer) = evidence.sp_answer() {
                        description.push_str(&format!("\nSP answered: {answer}"));
                    }
                }
                if let Some(fix) = result.fix {
                    description.push_str(&format!("\nfix: {fix}"));
                }
                status.set_description(description);
            }
            let mut case = TestCase::new(result.id, status);
            if result.verdict == Verdict::Warn {
                case.set_system_out(format!("warn: {}\nsource: {}", result.reason, result.reference));
            }
            let suite_name = format!("{}.{}", result.protocol.as_str(), result.category.as_str());
            case.set_classname(format!("mockta.{suite_name}"));
            case.set_time(std::time::Duration::from_millis(result.duration_ms));
            suites.entry(suite_name.clone()).or_insert_with(|| TestSuite::new(suite_name)).add_test_case(case);
        }
        report.add_test_suites(suites.into_values());
        report.to_string().unwrap_or_default()
    }

    /// The human report: a table by category, then each failure with its
    /// evidence and fix.
    pub fn to_human(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "\nmockta check: {}\n", self.target);
        // Grouped by protocol, then category, so a target that signs in by
        // SAML and OIDC reads as two blocks.
        let mut categories: BTreeMap<(Protocol, &str), Summary> = BTreeMap::new();
        for result in &self.results {
            categories.entry((result.protocol, result.category.as_str())).or_default().add(result.verdict);
        }
        let row = |out: &mut String, label: &str, counts: &Summary| {
            let _ = writeln!(
                out,
                "{label:<20} {:>5} {:>5} {:>5} {:>5} {:>6}",
                counts.pass, counts.fail, counts.warn, counts.skip, counts.error
            );
        };
        let _ = writeln!(
            out,
            "{:<20} {:>5} {:>5} {:>5} {:>5} {:>6}",
            "protocol category", "pass", "fail", "warn", "skip", "error"
        );
        for ((protocol, category), counts) in &categories {
            row(&mut out, &format!("{} {category}", protocol.as_str()), counts);
        }
        row(&mut out, "total", &self.summary);
        let s = &self.summary;
        for result in self
            .results
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Warn | Verdict::Error | Verdict::Skip))
        {
            let label = match result.verdict {
                Verdict::Fail => "FAIL",
                Verdict::Warn => "WARN",
                Verdict::Error => "ERROR",
                _ => "SKIP",
            };
            let _ = writeln!(out, "\n{label} {} ({:?}): {}", result.id, result.severity, result.title);
            let _ = writeln!(out, "  why: {}", result.reason);
            let _ = writeln!(out, "  source: {}", result.reference);
            if let Some(evidence) = &result.evidence {
                let _ = writeln!(out, "  oracle: {}", evidence.oracle());
                if let Some(answer) = evidence.sp_answer() {
                    let _ = writeln!(out, "  SP answered: {answer}");
                }
                if let Some((label, summary)) = evidence.message_summary() {
                    let _ = writeln!(out, "  {label}: {summary}");
                }
            }
            if let Some(fix) = result.fix {
                let _ = writeln!(out, "  fix: {fix}");
            }
        }
        let _ = writeln!(
            out,
            "\n{} passed, {} failed, {} warnings, {} skipped, {} errors",
            s.pass, s.fail, s.warn, s.skip, s.error
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_with(verdicts: &[Verdict]) -> Report {
        let checks = crate::catalogue::all_checks();
        let results = verdicts
            .iter()
            .zip(&checks)
            .map(|(verdict, check)| CheckResult {
                id: check.id,
                title: check.title,
                protocol: check.protocol(),
                category: check.category,
                severity: check.severity,
                reference: check.reference,
                verdict: *verdict,
                reason: "because".into(),
                evidence: None,
                fix: None,
                duration_ms: 0,
            })
            .collect();
        Report::new("t".into(), results)
    }

    #[test]
    fn a_warning_fails_the_run_only_when_strict() {
        let warned = report_with(&[Verdict::Pass, Verdict::Warn, Verdict::Skip]);
        assert_eq!(warned.summary.warn, 1);
        assert!(warned.ok(false));
        assert!(!warned.ok(true));
        assert!(!report_with(&[Verdict::Fail]).ok(false));
        assert!(!report_with(&[Verdict::Error]).ok(false));
        assert!(report_with(&[Verdict::Pass, Verdict::Skip]).ok(true));
    }

    #[test]
    fn every_format_shows_a_warning() {
        let report = report_with(&[Verdict::Warn]);
        assert!(report.to_human().contains("\nWARN "), "{}", report.to_human());
        assert!(report.to_json().contains("\"verdict\": \"warn\""));
        let junit = report.to_junit();
        assert!(junit.contains("warn: because"), "{junit}");
        assert!(!junit.contains("<failure"), "{junit}");
    }
}
