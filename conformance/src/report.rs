//! Reports: JSON (versioned schema) and human text.
//!
//! JSON schema, version 1: `{"schema": "mockta.report/1", "target": string,
//! "summary": {"pass", "fail", "warn", "skip", "error": integers}, "results": [{"id",
//! "title", "protocol" (saml | oidc | scim | cross), "category", "severity",
//! "reference", "verdict" (pass | fail | warn | skip | error), "reason",
//! "evidence"?: the protocol's evidence object (SAML: {"message",
//! "sp_status", "sp_location", "sp_body_excerpt", "oracle"}), "fix"?,
//! "duration_ms"}], "oin"?: {"profile", "requirements": [{"id", "protocol",
//! "title", "source", "standing" (met | warn | unmet | not_applicable),
//! "evidence": [string], "manual_cases": [{"area", "title"}]}],
//! "manual_cases_not_run", "manual_case_ids"}}` (`oin` only under `mockta
//! check --profile oin`).
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
    /// The mock's local CA certificate file when the suite served the mock
    /// over TLS (`[idp] tls = true`): the SP must trust it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp_ca_file: Option<String>,
    /// The seed the integration state machine drew its cases from, when it
    /// ran: `mockta check --seed` replays it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_seed: Option<u64>,
    pub summary: Summary,
    pub results: Vec<CheckResult>,
    /// The OIN readiness of the target, when the run was `mockta check
    /// --profile oin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oin: Option<crate::oin::Readiness>,
}

impl Report {
    /// Counts the results, which stay in the order given.
    pub fn new(target: String, results: Vec<CheckResult>) -> Report {
        let mut summary = Summary::default();
        for result in &results {
            summary.add(result.verdict);
        }
        Report { schema: SCHEMA, target, idp_ca_file: None, state_machine_seed: None, summary, results, oin: None }
    }

    /// Names the integration state machine's seed in the report, when the
    /// run judged the target by it, so the run can be replayed.
    pub fn note_state_machine_seed(&mut self, seed: u64) {
        let ran = self
            .results
            .iter()
            .any(|r| r.category == crate::catalogue::Category::IntegrationStateMachine && r.verdict != Verdict::Skip);
        if ran {
            self.state_machine_seed = Some(seed);
        }
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
        if let Some(ca) = &self.idp_ca_file {
            let _ = writeln!(out, "The mock IdP served HTTPS; its CA certificate (trust it at the SP): {ca}\n");
        }
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
        out.push_str(&behaviour_lines(&self.results));
        if let Some(seed) = self.state_machine_seed {
            let _ = writeln!(out, "  integration state machine seed: {seed} (replay with --seed {seed})");
        }
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
        // The OIN readiness comes last, after the checks it rests on.
        if let Some(oin) = &self.oin {
            out.push_str(&oin.to_human());
        }
        out
    }
}

/// The checks that cross protocols, one line per behaviour by its name
/// with its non-zero counts ("deactivation: 6 pass, 1 fail"), so a vendor
/// reads each of the four behaviours at a glance. Empty when the run had
/// none of these checks.
fn behaviour_lines(results: &[CheckResult]) -> String {
    let mut behaviours: BTreeMap<crate::catalogue::Category, Summary> = BTreeMap::new();
    for result in results.iter().filter(|r| r.protocol == Protocol::Cross) {
        behaviours.entry(result.category).or_default().add(result.verdict);
    }
    if behaviours.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nbehaviours across protocols:\n");
    for (category, counts) in &behaviours {
        let named = [
            (counts.pass, "pass"),
            (counts.fail, "fail"),
            (counts.warn, "warn"),
            (counts.skip, "skip"),
            (counts.error, "error"),
        ];
        let counted: Vec<String> =
            named.iter().filter(|(count, _)| *count > 0).map(|(count, name)| format!("{count} {name}")).collect();
        let _ = writeln!(out, "  {}: {}", category.as_str().replace('-', " "), counted.join(", "));
    }
    out
}

/// A previous report's verdicts, read back so a run can fail only on what
/// regressed since (`mockta check --baseline`).
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    verdicts: BTreeMap<String, Verdict>,
}

#[derive(serde::Deserialize)]
struct BaselineFile {
    schema: String,
    results: Vec<BaselineResult>,
}

#[derive(serde::Deserialize)]
struct BaselineResult {
    id: String,
    verdict: Verdict,
}

impl Baseline {
    /// Reads a JSON report this version or an earlier one of schema 1 wrote.
    pub fn parse(text: &str) -> Result<Baseline, String> {
        let file: BaselineFile = serde_json::from_str(text).map_err(|e| format!("not a mockta JSON report ({e})"))?;
        if file.schema != SCHEMA {
            return Err(format!("the report's schema is '{}', not '{SCHEMA}'", file.schema));
        }
        Ok(Baseline { verdicts: file.results.into_iter().map(|r| (r.id, r.verdict)).collect() })
    }
}

/// How a run differs from its baseline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Checks that were fine and now fail or error (or warn, when strict),
    /// with the old and new verdict.
    pub regressed: Vec<(&'static str, Verdict, Verdict)>,
    /// Checks that failed and no longer do.
    pub fixed: Vec<(&'static str, Verdict, Verdict)>,
    /// Checks the baseline did not have that fail now: news, not regressions.
    pub new_failing: Vec<(&'static str, Verdict)>,
}

impl Comparison {
    pub fn has_regressions(&self) -> bool {
        !self.regressed.is_empty()
    }

    /// What changed, one line each, for a CI log.
    pub fn to_human(&self) -> String {
        let name = |verdict: Verdict| format!("{verdict:?}").to_lowercase();
        let mut out = String::new();
        for (id, old, new) in &self.regressed {
            let _ = writeln!(out, "regressed: {id} ({} -> {})", name(*old), name(*new));
        }
        for (id, old, new) in &self.fixed {
            let _ = writeln!(out, "fixed: {id} ({} -> {})", name(*old), name(*new));
        }
        for (id, new) in &self.new_failing {
            let _ = writeln!(out, "new check, not in the baseline: {id} ({})", name(*new));
        }
        if out.is_empty() {
            out.push_str("no verdict changed for the worse since the baseline\n");
        }
        out
    }
}

impl Report {
    /// Compares this run with `baseline`: a check regressed when it was
    /// fine there (or an error, which is no verdict) and fails here. Bad is fail or error, and warn when
    /// `strict`. A check the baseline lacks is reported, never a regression,
    /// so a newer catalogue does not break a pipeline by itself.
    pub fn compare(&self, baseline: &Baseline, strict: bool) -> Comparison {
        let bad = |verdict: Verdict| {
            matches!(verdict, Verdict::Fail | Verdict::Error) || (strict && verdict == Verdict::Warn)
        };
        let mut comparison = Comparison::default();
        for result in &self.results {
            match baseline.verdicts.get(result.id) {
                None if bad(result.verdict) => comparison.new_failing.push((result.id, result.verdict)),
                None => {}
                // An error in the baseline was no verdict at all: a failure
                // now is news about the SP, so it counts as a regression
                // rather than hiding behind the old error.
                Some(Verdict::Error) if bad(result.verdict) && result.verdict != Verdict::Error => {
                    comparison.regressed.push((result.id, Verdict::Error, result.verdict));
                }
                Some(old) if !bad(*old) && bad(result.verdict) => {
                    comparison.regressed.push((result.id, *old, result.verdict));
                }
                Some(old) if bad(*old) && !bad(result.verdict) => {
                    comparison.fixed.push((result.id, *old, result.verdict));
                }
                Some(_) => {}
            }
        }
        comparison
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

    #[test]
    fn the_human_report_sums_each_cross_protocol_behaviour_by_its_name() {
        let cross: Vec<_> =
            crate::catalogue::all_checks().into_iter().filter(|c| c.protocol() == Protocol::Cross).collect();
        let deactivation: Vec<_> =
            cross.iter().filter(|c| c.category == crate::catalogue::Category::Deactivation).take(3).collect();
        assert_eq!(deactivation.len(), 3, "the deactivation checks");
        let results = deactivation
            .iter()
            .zip([Verdict::Pass, Verdict::Pass, Verdict::Fail])
            .map(|(check, verdict)| CheckResult {
                id: check.id,
                title: check.title,
                protocol: check.protocol(),
                category: check.category,
                severity: check.severity,
                reference: check.reference,
                verdict,
                reason: "because".into(),
                evidence: None,
                fix: None,
                duration_ms: 0,
            })
            .collect();
        let human = Report::new("t".into(), results).to_human();
        assert!(human.contains("\nbehaviours across protocols:\n  deactivation: 2 pass, 1 fail\n"), "{human}");
        let without = report_with(&[Verdict::Pass]).to_human();
        assert!(!without.contains("behaviours across protocols"), "{without}");
    }

    #[test]
    fn a_run_regresses_only_where_a_fine_check_turned_bad() {
        let before = report_with(&[Verdict::Fail, Verdict::Pass, Verdict::Pass, Verdict::Warn]);
        let baseline = Baseline::parse(&before.to_json()).unwrap();
        // Keeping the old failure is no regression.
        let same = report_with(&[Verdict::Fail, Verdict::Pass, Verdict::Pass, Verdict::Warn]);
        assert!(!same.compare(&baseline, false).has_regressions());
        // A pass that fails, or errors, is.
        let worse = report_with(&[Verdict::Pass, Verdict::Error, Verdict::Pass, Verdict::Warn]);
        let comparison = worse.compare(&baseline, false);
        assert!(comparison.has_regressions());
        let checks = crate::catalogue::all_checks();
        assert_eq!(comparison.regressed, vec![(checks[1].id, Verdict::Pass, Verdict::Error)]);
        assert_eq!(comparison.fixed, vec![(checks[0].id, Verdict::Fail, Verdict::Pass)]);
        assert!(comparison.to_human().contains(&format!("regressed: {} (pass -> error)", checks[1].id)));
        // A warning regresses only under --strict, and only from a fine verdict.
        let warned = report_with(&[Verdict::Fail, Verdict::Pass, Verdict::Warn, Verdict::Warn]);
        assert!(!warned.compare(&baseline, false).has_regressions());
        assert_eq!(warned.compare(&baseline, true).regressed, vec![(checks[2].id, Verdict::Pass, Verdict::Warn)]);
    }

    #[test]
    fn a_failure_behind_an_old_error_is_a_regression() {
        let baseline = Baseline::parse(&report_with(&[Verdict::Error, Verdict::Error]).to_json()).unwrap();
        let now = report_with(&[Verdict::Fail, Verdict::Error]);
        let comparison = now.compare(&baseline, false);
        let checks = crate::catalogue::all_checks();
        assert_eq!(comparison.regressed, vec![(checks[0].id, Verdict::Error, Verdict::Fail)]);
    }

    #[test]
    fn a_check_the_baseline_lacks_is_news_not_a_regression() {
        let baseline = Baseline::parse(&report_with(&[Verdict::Pass]).to_json()).unwrap();
        let grown = report_with(&[Verdict::Pass, Verdict::Fail]);
        let comparison = grown.compare(&baseline, false);
        assert!(!comparison.has_regressions());
        assert_eq!(comparison.new_failing.len(), 1);
    }

    #[test]
    fn a_baseline_must_be_a_mockta_report() {
        assert!(Baseline::parse("{}").is_err());
        assert!(Baseline::parse(r#"{"schema":"other/1","results":[]}"#).unwrap_err().contains("schema"));
        assert!(Baseline::parse("not json").is_err());
    }
}
