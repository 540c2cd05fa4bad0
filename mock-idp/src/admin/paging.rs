//! Okta's cursor paging on list endpoints: `limit` and `after`, answered
//! with `Link` headers (`rel="self"` for the request, `rel="next"` for the
//! following page when there is one).
//!
//! The cursor is the id of the last item on the page. Lists are kept in id
//! order, so the next page is every item whose id sorts after the cursor;
//! an item created between two requests is still seen exactly once if its
//! id sorts later, as with Okta's opaque cursors.

use serde_json::Value;

use super::OktaApiError;

/// How many items one page of a list endpoint holds: Okta's default when
/// `limit` is absent, and its largest accepted value (a larger `limit` is
/// served as the largest, as Okta does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageSize {
    pub default: usize,
    pub maximum: usize,
}

impl PageSize {
    /// `GET /api/v1/users`: 200 by default, 200 at most.
    pub const USERS: PageSize = PageSize { default: 200, maximum: 200 };
    /// `GET /api/v1/groups`: 10,000 by default and at most.
    pub const GROUPS: PageSize = PageSize { default: 10_000, maximum: 10_000 };
    /// `GET /api/v1/groups/{id}/users`: 1,000 by default and at most.
    pub const GROUP_MEMBERS: PageSize = PageSize { default: 1_000, maximum: 1_000 };
    /// `GET /api/v1/apps`: 20 by default, 200 at most.
    pub const APPS: PageSize = PageSize { default: 20, maximum: 200 };
    /// `GET /api/v1/apps/{id}/users`: 50 by default, 500 at most.
    pub const APP_USERS: PageSize = PageSize { default: 50, maximum: 500 };
    /// `GET /api/v1/apps/{id}/groups`: 20 by default, 200 at most.
    pub const APP_GROUPS: PageSize = PageSize { default: 20, maximum: 200 };
}

/// The paging parameters of one list request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<String>,
    pub limit: Option<String>,
}

impl PageRequest {
    /// The page size asked for: a positive whole number, or the default.
    /// Anything else is refused with Okta's validation error.
    fn limit(&self, size: PageSize) -> Result<usize, OktaApiError> {
        let Some(text) = self.limit.as_deref() else {
            return Ok(size.default);
        };
        match text.trim().parse::<usize>() {
            Ok(0) | Err(_) => Err(OktaApiError::validation("limit", format!("'{text}' is not a positive number"))),
            Ok(limit) => Ok(limit.min(size.maximum)),
        }
    }
}

/// One page of a list: its items and, when more follow, the cursor of the
/// next page.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub items: Vec<Value>,
    pub next_after: Option<String>,
}

/// Takes one page from `items`, which come in cursor order as
/// `(cursor, item)`: those whose cursor sorts after `request.after`, at most
/// `limit` of them.
pub fn take_page(
    items: impl IntoIterator<Item = (String, Value)>,
    request: &PageRequest,
    size: PageSize,
) -> Result<Page, OktaApiError> {
    let limit = request.limit(size)?;
    let mut rest = items
        .into_iter()
        .filter(|(cursor, _)| request.after.as_deref().is_none_or(|after| cursor.as_str() > after))
        .peekable();
    let mut taken = Vec::new();
    let mut last_cursor = None;
    while taken.len() < limit {
        let Some((cursor, item)) = rest.next() else { break };
        taken.push(item);
        last_cursor = Some(cursor);
    }
    let next_after = if rest.peek().is_some() { last_cursor } else { None };
    Ok(Page { items: taken, next_after })
}

/// The `Link` header values for a page served at `base_url` + `path` with
/// the query `query` (decoded pairs, in the request's order): the request
/// itself as `rel="self"`, and the same request with `after` set to the next
/// cursor as `rel="next"` when there is a next page.
pub fn link_headers(base_url: &str, path: &str, query: &[(String, String)], page: &Page) -> Vec<String> {
    let base = base_url.trim_end_matches('/');
    let render = |pairs: &[(String, String)]| {
        if pairs.is_empty() {
            format!("{base}{path}")
        } else {
            let mut encoder = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in pairs {
                encoder.append_pair(name, value);
            }
            format!("{base}{path}?{}", encoder.finish())
        }
    };
    let mut links = vec![format!("<{}>; rel=\"self\"", render(query))];
    if let Some(after) = &page.next_after {
        let mut next: Vec<(String, String)> = query.iter().filter(|(name, _)| name != "after").cloned().collect();
        next.insert(0, ("after".to_owned(), after.clone()));
        links.push(format!("<{}>; rel=\"next\"", render(&next)));
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn numbered(count: usize) -> Vec<(String, Value)> {
        (0..count).map(|n| (format!("id{n:02}"), json!(n))).collect()
    }

    #[test]
    fn pages_follow_the_cursor_until_the_last() {
        let size = PageSize { default: 3, maximum: 5 };
        let first = take_page(numbered(7), &PageRequest::default(), size).unwrap();
        assert_eq!(first.items, vec![json!(0), json!(1), json!(2)]);
        assert_eq!(first.next_after.as_deref(), Some("id02"));
        let request = PageRequest { after: first.next_after, limit: Some("9".into()) };
        let last = take_page(numbered(7), &request, size).unwrap();
        assert_eq!(last.items.len(), 4, "capped at the maximum of 5, and only 4 remain");
        assert_eq!(last.next_after, None);
    }

    proptest::proptest! {
        /// Following the next cursor from the first page, with any limit
        /// and any set of ids, yields every item once, in order, and each
        /// page but the last is full.
        #[test]
        fn prop_walking_the_pages_yields_every_item_once(
            ids in proptest::collection::btree_set("[a-z0-9]{1,6}", 0..40),
            limit in 1usize..12,
        ) {
            let items: Vec<(String, Value)> = ids.iter().map(|id| (id.clone(), json!(id))).collect();
            let size = PageSize { default: limit, maximum: limit };
            let mut request = PageRequest::default();
            let mut walked = Vec::new();
            loop {
                let page = take_page(items.clone(), &request, size).unwrap();
                proptest::prop_assert!(page.items.len() <= limit);
                let full = page.items.len() == limit;
                walked.extend(page.items);
                match page.next_after {
                    Some(after) => {
                        proptest::prop_assert!(full, "only a full page has a next one");
                        request.after = Some(after);
                    }
                    None => break,
                }
            }
            let expected: Vec<Value> = ids.iter().map(|id| json!(id)).collect();
            proptest::prop_assert_eq!(walked, expected);
        }
    }

    #[test]
    fn a_limit_that_is_not_a_positive_number_is_refused() {
        for limit in ["0", "-1", "ten"] {
            let request = PageRequest { after: None, limit: Some(limit.into()) };
            let error = take_page(numbered(2), &request, PageSize::USERS).unwrap_err();
            assert_eq!(error.code, "E0000001", "{limit}");
        }
    }

    #[test]
    fn the_next_link_replaces_after_and_keeps_the_rest_of_the_query() {
        let page = Page { items: Vec::new(), next_after: Some("00u2".into()) };
        let query = vec![("limit".to_owned(), "2".to_owned()), ("after".to_owned(), "00u1".to_owned())];
        let links = link_headers("https://acme.test/", "/api/v1/users", &query, &page);
        assert_eq!(
            links,
            vec![
                "<https://acme.test/api/v1/users?limit=2&after=00u1>; rel=\"self\"".to_owned(),
                "<https://acme.test/api/v1/users?after=00u2&limit=2>; rel=\"next\"".to_owned(),
            ]
        );
    }
}
