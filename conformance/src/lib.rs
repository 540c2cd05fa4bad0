//! The conformance suite: checks with stable ids that run the mock Okta IdP
//! against any SP described by a target file, and judge the SP by what its
//! session oracle sees, not by status codes.
//!
//! [`target`] reads the target file, [`catalogue`] lists the checks,
//! [`runner`] serves the mock IdP in-process and runs checks with canary
//! users, and [`report`] renders the results.

pub mod catalogue;
pub mod demo;
pub mod report;
pub mod runner;
pub mod target;

use std::sync::Arc;

use catalogue::{Check, saml_checks};
use report::Report;
use runner::{CheckResult, Suite, SuiteError};
use target::Target;

/// The checks whose id matches `pattern` (`*` matches any run of
/// characters; no pattern selects all). A pattern that matches nothing is an error.
pub fn select(pattern: Option<&str>) -> Result<Vec<Check>, String> {
    let all = saml_checks();
    let Some(pattern) = pattern else { return Ok(all) };
    let regex =
        regex::Regex::new(&format!("^{}$", regex::escape(pattern).replace("\\*", ".*"))).map_err(|e| e.to_string())?;
    let selected: Vec<Check> = all.into_iter().filter(|c| regex.is_match(c.id)).collect();
    if selected.is_empty() {
        return Err(format!("--only: '{pattern}' matches no check (run `mockta checks` for the ids)"));
    }
    Ok(selected)
}

/// Serves the target's org, runs the checks and returns the report.
pub async fn run(
    target: Target,
    label: String,
    checks: Vec<Check>,
    progress: impl Fn(&CheckResult) + Send + Sync + 'static,
) -> Result<Report, SuiteError> {
    let suite = Arc::new(Suite::start(target).await?);
    let results = suite.run(checks, progress).await;
    Ok(Report::new(label, results))
}
