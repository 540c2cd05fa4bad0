//! Explain's output: readable text for a support ticket, or JSON
//! (`mockta.explain/1`) for scripts.

use std::fmt::Write;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Explanation, Level};

/// An instant as RFC 3339, as SAML and the reports write it.
pub fn instant(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// The text report: each step with its facts, then its findings, each with
/// the check id, severity, the side that must fix it, the evidence and the
/// fix hint; a summary line last.
pub fn text(explanation: &Explanation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Judged at {}", explanation.judged_at);
    for (n, step) in explanation.steps.iter().enumerate() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}. {}", n + 1, step.title);
        if let Some(url) = &step.url {
            let _ = writeln!(out, "   URL: {url}");
        }
        for (name, value) in &step.facts {
            let _ = writeln!(out, "   {name}: {value}");
        }
        if step.findings.is_empty() {
            let _ = writeln!(out, "   No rule broken.");
        }
        for finding in &step.findings {
            let severity = finding.severity.map_or("unlisted".to_owned(), |s| format!("{s:?}").to_lowercase());
            let _ = writeln!(
                out,
                "   {:<4} {} ({severity}; fix on the {} side)",
                finding.level.as_str().to_uppercase(),
                finding.check,
                finding.side.as_str()
            );
            let _ = writeln!(out, "        {}", finding.explanation);
            if !finding.fix.is_empty() && finding.level != Level::Note {
                let _ = writeln!(out, "        Fix: {}", finding.fix);
            }
        }
    }
    let findings: Vec<_> = explanation.steps.iter().flat_map(|s| &s.findings).collect();
    let count = |level: Level| findings.iter().filter(|f| f.level == level).count();
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} fail, {} warn, {} note in {} message{}.",
        count(Level::Fail),
        count(Level::Warn),
        count(Level::Note),
        explanation.steps.len(),
        if explanation.steps.len() == 1 { "" } else { "s" }
    );
    out
}

/// The JSON report.
pub fn json(explanation: &Explanation) -> serde_json::Value {
    serde_json::json!({
        "format": "mockta.explain/1",
        "judged_at": explanation.judged_at,
        "breaks_a_rule": explanation.breaks_a_rule(),
        "steps": explanation.steps.iter().map(|step| serde_json::json!({
            "title": step.title,
            "url": step.url,
            "facts": step.facts.iter().map(|(name, value)| serde_json::json!({"name": name, "value": value})).collect::<Vec<_>>(),
            "findings": step.findings,
        })).collect::<Vec<_>>(),
    })
}
