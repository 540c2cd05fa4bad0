//! Explaining a browser's HAR export.

use super::{Expectations, ExplainError, Step};

#[derive(Clone, Debug)]
pub struct Har {
    pub entries: Vec<serde_json::Value>,
}

impl Har {
    pub fn parse(text: &str) -> Result<Har, ExplainError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ExplainError::BadHar(e.to_string()))?;
        let entries = value
            .pointer("/log/entries")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| ExplainError::BadHar("no log.entries".into()))?
            .clone();
        Ok(Har { entries })
    }
}

pub fn explain_flow(_har: &Har, _expect: &Expectations, _now: time::OffsetDateTime) -> Result<Vec<Step>, ExplainError> {
    Err(ExplainError::EmptyHar)
}
