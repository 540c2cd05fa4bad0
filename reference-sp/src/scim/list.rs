//! List responses (RFC 7644 §3.4.2): filtering, pagination with
//! `startIndex` and `count`, and `attributes` / `excludedAttributes`.

use serde_json::{Map, Value, json};

use super::filter::{self, Filter};
use super::{SCHEMA_LIST, ScimError};

/// The most resources one page returns, whatever `count` asks for.
pub const MAX_PAGE: usize = 1000;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// 1-based; values below 1 are read as 1 (RFC 7644 §3.4.2.4).
    pub start_index: usize,
    /// `None`: the server's page size. Negative values are read as 0.
    pub count: Option<usize>,
    pub attributes: Vec<String>,
    pub excluded_attributes: Vec<String>,
}

fn integer(name: &str, text: &str) -> Result<i64, ScimError> {
    text.trim().parse::<i64>().map_err(|_| ScimError::InvalidValue(format!("'{name}' must be an integer")))
}

fn names(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Reads the query parameters of a list request.
pub fn parse_query(pairs: &[(String, String)]) -> Result<ListQuery, ScimError> {
    let mut query = ListQuery { start_index: 1, ..ListQuery::default() };
    for (name, value) in pairs {
        match name.as_str() {
            "filter" => query.filter = Some(filter::parse(value)?),
            "startIndex" => query.start_index = usize::try_from(integer(name, value)?.max(1)).unwrap_or(1),
            "count" => query.count = Some(usize::try_from(integer(name, value)?.max(0)).unwrap_or(0)),
            "attributes" => query.attributes = names(value),
            "excludedAttributes" => query.excluded_attributes = names(value),
            _ => {}
        }
    }
    Ok(query)
}

/// Keeps only the asked-for attributes (or drops the excluded ones). `id`,
/// `schemas` and `meta` are always returned.
pub fn project(resource: Value, attributes: &[String], excluded: &[String]) -> Value {
    let Value::Object(object) = resource else { return resource };
    let always = |key: &str| ["id", "schemas", "meta"].iter().any(|a| a.eq_ignore_ascii_case(key));
    let top = |name: &str| -> String {
        // `name.givenName` and `urn:…:User:name` both select `name`.
        let name = name.rsplit(':').next().unwrap_or(name);
        name.split('.').next().unwrap_or(name).to_ascii_lowercase()
    };
    let kept: Map<String, Value> = object
        .into_iter()
        .filter(|(key, _)| {
            if always(key) {
                return true;
            }
            let lower = key.to_ascii_lowercase();
            if !attributes.is_empty() {
                return attributes.iter().any(|a| top(a) == lower || a.eq_ignore_ascii_case(key));
            }
            !excluded.iter().any(|e| top(e) == lower || e.eq_ignore_ascii_case(key))
        })
        .collect();
    Value::Object(kept)
}

/// How this server pages. Each switch off is a flaw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRules {
    /// `itemsPerPage` is the number of resources returned (correct), or the
    /// `count` asked for.
    pub items_per_page_is_returned: bool,
    /// `totalResults` is every match (correct), or the page's length.
    pub total_results_is_whole: bool,
}

/// How many resources a page holds for this query.
pub fn page_count(query: &ListQuery, page_size: usize) -> usize {
    query.count.unwrap_or(page_size).min(MAX_PAGE)
}

/// Builds the ListResponse for the matching resources, in their stable order.
pub fn respond(matching: Vec<Value>, query: &ListQuery, page_size: usize, rules: PageRules) -> Value {
    let total = matching.len();
    let count = page_count(query, page_size);
    let page: Vec<Value> = matching.into_iter().skip(query.start_index.saturating_sub(1)).take(count).collect();
    respond_page(page, total, query, page_size, rules)
}

/// Builds the ListResponse for a page already cut (by the database).
pub fn respond_page(page: Vec<Value>, total: usize, query: &ListQuery, page_size: usize, rules: PageRules) -> Value {
    let count = page_count(query, page_size);
    let page: Vec<Value> =
        page.into_iter().map(|r| project(r, &query.attributes, &query.excluded_attributes)).collect();
    let items_per_page = if rules.items_per_page_is_returned { page.len() } else { count };
    let total = if rules.total_results_is_whole { total } else { page.len() };
    json!({
        "schemas": [SCHEMA_LIST],
        "totalResults": total,
        "startIndex": query.start_index,
        "itemsPerPage": items_per_page,
        "Resources": page,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }

    #[test]
    fn pages_report_integers_and_items_per_page_is_what_was_returned() {
        let resources: Vec<Value> =
            (1..=5).map(|i| json!({"id": i.to_string(), "userName": format!("u{i}")})).collect();
        let query = parse_query(&pairs(&[("startIndex", "4"), ("count", "100")])).unwrap();
        let rules = PageRules { items_per_page_is_returned: true, total_results_is_whole: true };
        let page = respond(resources.clone(), &query, 100, rules);
        assert_eq!(page["totalResults"], 5);
        assert_eq!(page["startIndex"], 4);
        assert_eq!(page["itemsPerPage"], 2);
        assert_eq!(page["Resources"][0]["id"], "4");
        let zero = parse_query(&pairs(&[("startIndex", "0"), ("count", "-3")])).unwrap();
        assert_eq!(respond(resources, &zero, 100, rules)["itemsPerPage"], 0);
        assert!(matches!(parse_query(&pairs(&[("count", "ten")])), Err(ScimError::InvalidValue(_))));
    }

    #[test]
    fn attributes_select_and_exclude() {
        let user =
            json!({"schemas": [], "id": "1", "userName": "u", "name": {"givenName": "A"}, "emails": [], "meta": {}});
        let only = project(user.clone(), &["userName".into(), "name.givenName".into()], &[]);
        assert_eq!(only.as_object().unwrap().keys().collect::<Vec<_>>(), ["schemas", "id", "userName", "name", "meta"]);
        let without = project(user, &[], &["emails".into()]);
        assert!(without.get("emails").is_none() && without.get("userName").is_some());
    }
}
