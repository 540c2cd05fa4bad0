//! The OIDC tables stay within their byte budgets however many tokens are
//! issued: access tokens are remembered by a digest and a small record, and
//! the oldest records go once the table's bytes pass its budget, long before
//! its count limit. (The process's RSS after many tokens is measured by the
//! `oidc_throughput` benchmark, since tests share one process.)

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use mock_idp::oidc::ServerRef;
use mock_idp::oidc::token::FormParams;
use mock_idp::org::oidc::SigningAlgorithm;
use serde_json::Value;

use crate::support;

const SERVICE: &str = "0oaservice0000000009";
const SERVICE_SECRET: &str = "mockta-dev-service-secret";
/// The budgets the mock sets: 12 MiB for access tokens, 32 MiB for every
/// OIDC table together (well under the 64 MB the mock must stay under).
const ACCESS_TOKEN_BUDGET: usize = 12 * 1024 * 1024;
const ALL_TABLES_BUDGET: usize = 32 * 1024 * 1024;

fn form(pairs: &[(&str, &str)]) -> FormParams {
    FormParams::from_pairs(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))).unwrap()
}

fn access_token_of(response: &Value) -> String {
    response["access_token"].as_str().unwrap().to_owned()
}

#[test]
fn oidc_tables_stay_within_their_byte_budgets_after_80k_tokens() {
    let idp = support::idp();
    // ES256 signs in microseconds, so the tokens take seconds; the records
    // kept are the same whatever signs the token. 80,000 tokens are well
    // past the point where the byte budget binds (about 27,000 records),
    // and well short of the table's 200,000-entry limit.
    idp.write_org(|org| {
        for server in &mut org.authorization_servers {
            server.signing_algorithm = SigningAlgorithm::Es256;
        }
    });
    let server = ServerRef::Custom("default".into());
    let authorization =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{SERVICE}:{SERVICE_SECRET}")));
    let grant = form(&[("grant_type", "client_credentials"), ("scope", "mockta.read")]);
    let issue = || access_token_of(&idp.token(&server, Some(&authorization), &grant).unwrap().body);
    let first = issue();
    let tokens = 80_000;
    let issued = AtomicU64::new(1);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while issued.fetch_add(1, Ordering::Relaxed) < tokens {
                    issue();
                }
            });
        }
    });
    let last = issue();

    let tables = idp.oidc_table_bytes();
    let bytes_of = |name: &str| tables.iter().find(|(table, _)| *table == name).map(|(_, bytes)| *bytes).unwrap();
    let access_bytes = bytes_of("access tokens");
    let total: usize = tables.iter().map(|(_, bytes)| bytes).sum();
    assert!(access_bytes <= ACCESS_TOKEN_BUDGET, "access tokens hold {access_bytes} bytes");
    assert!(access_bytes > ACCESS_TOKEN_BUDGET / 2, "the budget was reached: {access_bytes} bytes");
    assert!(total <= ALL_TABLES_BUDGET, "the OIDC tables hold {total} bytes: {tables:?}");
    let remembered = idp.remembered_access_tokens();
    assert!(
        (10_000..60_000).contains(&remembered),
        "the byte budget, not the entry limit, decides how many are kept: {remembered} of {tokens}"
    );
    // Each record is a few hundred bytes, not the token's two kilobytes.
    assert!(access_bytes / remembered < 600, "{} bytes per access token", access_bytes / remembered);

    // The newest tokens still introspect; the oldest were forgotten, and
    // answer as any unknown token does.
    let introspect = |token: &str| {
        let request = form(&[("token", token), ("token_type_hint", "access_token")]);
        idp.introspect(&server, Some(&authorization), &request).unwrap()
    };
    let newest = introspect(&last);
    assert_eq!(newest["active"], true, "{newest}");
    assert_eq!(newest["client_id"], SERVICE);
    assert!(newest["jti"].as_str().unwrap().starts_with("AT."));
    assert_eq!(introspect(&first), serde_json::json!({ "active": false }));
}

#[test]
fn revoking_a_token_remembered_by_its_digest_ends_it() {
    let idp = support::idp();
    let server = ServerRef::Custom("default".into());
    let authorization =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{SERVICE}:{SERVICE_SECRET}")));
    let grant = form(&[("grant_type", "client_credentials"), ("scope", "mockta.read")]);
    let token = access_token_of(&idp.token(&server, Some(&authorization), &grant).unwrap().body);
    let introspect = || idp.introspect(&server, Some(&authorization), &form(&[("token", &token)])).unwrap();
    assert_eq!(introspect()["active"], true);
    // A token that differs in one character is not the same token.
    let mut altered = token.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let altered_answer = idp.introspect(&server, Some(&authorization), &form(&[("token", &altered)])).unwrap();
    assert_eq!(altered_answer["active"], false);
    idp.revoke(&server, Some(&authorization), &form(&[("token", &token)])).unwrap();
    assert_eq!(introspect()["active"], false);
}
