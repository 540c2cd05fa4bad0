//! The management API's lists as Okta's SDKs read them: `limit` and `after`
//! with `Link` headers, and `search` expressions on users.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::Server;

/// The `Link` header values of a response, and its JSON body.
async fn links_and_body(response: reqwest::Response) -> (StatusCode, Vec<String>, Value) {
    let status = response.status();
    let links = response.headers().get_all("link").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    (status, links, response.json().await.unwrap())
}

/// The URL of the link with relation `rel`, if there is one.
fn link(links: &[String], rel: &str) -> Option<String> {
    let suffix = format!(">; rel=\"{rel}\"");
    links.iter().find_map(|l| l.strip_suffix(&suffix)).map(|l| l.trim_start_matches('<').to_owned())
}

fn ids(body: &Value) -> Vec<String> {
    body.as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect()
}

/// Walks a list from `first` by its `rel="next"` links, checking on the way
/// that each page holds at most `limit` items and names itself as
/// `rel="self"`; returns every id seen and the number of pages.
async fn walk(server: &Server, first: &str, limit: usize) -> (Vec<String>, usize) {
    let mut url = server.url(first);
    let (mut seen, mut pages) = (Vec::new(), 0);
    loop {
        let response = server
            .client
            .get(&url)
            .header("Authorization", format!("SSWS {}", crate::support::API_TOKEN))
            .send()
            .await
            .unwrap();
        let (status, links, body) = links_and_body(response).await;
        assert_eq!(status, StatusCode::OK, "{url}: {body}");
        assert_eq!(link(&links, "self").as_deref(), Some(url.as_str()), "{links:?}");
        let page = ids(&body);
        assert!(page.len() <= limit, "{url}: {page:?}");
        seen.extend(page);
        pages += 1;
        match link(&links, "next") {
            Some(next) => {
                assert!(next.contains(&format!("limit={limit}")), "the next link keeps the limit: {next}");
                url = next;
            }
            None => return (seen, pages),
        }
    }
}

#[tokio::test]
async fn every_list_pages_by_limit_and_after_with_link_headers() {
    let server = Server::start().await;
    // The full lists, in one page each, to compare the walks with.
    let lists = [
        "/api/v1/users",
        "/api/v1/groups",
        "/api/v1/groups/00gengineering000001/users",
        "/api/v1/apps",
        "/api/v1/apps/0oarefsp000000000001/users",
        "/api/v1/apps/0oarefsp000000000001/groups",
    ];
    for list in lists {
        let response = server.api(Method::GET, list.trim_start_matches("/api/v1")).send().await.unwrap();
        let (status, links, body) = links_and_body(response).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(link(&links, "next"), None, "{list}: the default page holds the whole list");
        let everything = ids(&body);
        assert!(!everything.is_empty(), "{list}");

        let (walked, pages) = walk(&server, &format!("{list}?limit=1"), 1).await;
        assert_eq!(walked, everything, "{list}: one page at a time, each item once, in order");
        assert_eq!(pages, everything.len(), "{list}");
    }
}

#[tokio::test]
async fn a_small_limit_over_many_users_walks_several_pages() {
    let server = Server::start().await;
    for n in 0..7 {
        let login = format!("paged{n}@acme.test");
        let body = serde_json::json!({"profile": {"firstName": "P", "lastName": "N", "email": login, "login": login}});
        let response = server.api(Method::POST, "/users?activate=true").json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let (walked, pages) = walk(&server, "/api/v1/users?limit=3", 3).await;
    // Eleven users are listed (dave is deprovisioned), three a page.
    assert_eq!(walked.len(), 11);
    assert_eq!(pages, 4);
    let mut sorted = walked.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, walked, "in id order, none twice");
}

#[tokio::test]
async fn a_limit_that_is_not_a_positive_number_is_okta_s_validation_error() {
    let server = Server::start().await;
    for limit in ["0", "-2", "many"] {
        let response = server.api(Method::GET, &format!("/users?limit={limit}")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{limit}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errorCode"], "E0000001", "{limit}");
        assert_eq!(body["errorCauses"][0]["errorSummary"], format!("limit: '{limit}' is not a positive number"));
    }
}

async fn search(server: &Server, expression: &str) -> (StatusCode, Value) {
    let encoded: String = url::form_urlencoded::byte_serialize(expression.as_bytes()).collect();
    let response = server.api(Method::GET, &format!("/users?search={encoded}")).send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

fn logins(body: &Value) -> Vec<String> {
    let mut found: Vec<String> =
        body.as_array().unwrap().iter().map(|u| u["profile"]["login"].as_str().unwrap().to_owned()).collect();
    found.sort();
    found
}

#[tokio::test]
async fn search_expressions_find_users_as_okta_s_do() {
    let server = Server::start().await;
    let cases: [(&str, &[&str]); 7] = [
        (r#"profile.login eq "BOB@acme.test""#, &["bob@acme.test"]),
        (r#"status eq "suspended""#, &["carol@acme.test"]),
        // Okta's search also finds deprovisioned users.
        (r#"status eq "DEPROVISIONED""#, &["dave@acme.test"]),
        (
            r#"status eq "ACTIVE" and (profile.lastName sw "a" or profile.firstName eq "erin")"#,
            &["alice@acme.test", "erin@acme.test"],
        ),
        (r#"profile.login sw "c" or profile.login sw "d" and status eq "ACTIVE""#, &["carol@acme.test"]),
        (r#"id eq "00ubob00000000000002""#, &["bob@acme.test"]),
        (r#"profile.department eq "Engineering""#, &["alice@acme.test"]),
    ];
    for (expression, expected) in cases {
        let (status, body) = search(&server, expression).await;
        assert_eq!(status, StatusCode::OK, "{expression}: {body}");
        assert_eq!(logins(&body), expected, "{expression}");
    }
}

#[tokio::test]
async fn a_search_the_mock_cannot_answer_is_refused_with_e0000031() {
    let server = Server::start().await;
    for (expression, cause) in [
        (r#"lastUpdated gt "2024-01-01T00:00:00.000Z""#, "the attribute 'lastUpdated' is not supported"),
        (r#"profile.login co "ali""#, "the operator 'co' is not supported"),
        (r#"(status eq "ACTIVE""#, "a parenthesis is not closed"),
        (r#"status eq "ACTIVE" and"#, "the expression ends too early"),
    ] {
        let (status, body) = search(&server, expression).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{expression}");
        assert_eq!(body["errorCode"], "E0000031", "{expression}");
        assert_eq!(body["errorSummary"], "Invalid search criteria.");
        let summary = body["errorCauses"][0]["errorSummary"].as_str().unwrap();
        assert!(summary.contains(cause), "{expression}: {summary}");
    }
}
