//! SCIM operations per second with 8 concurrent clients (create,
//! filter-get, PATCH), next to raw SQLite commits per second on the same
//! kind of database file (WAL, `synchronous=FULL`), measured in the same run.
//! Writes are bound by fsync, so the raw commit rate is their baseline.
//!
//! Run with `cargo bench -p reference-sp --bench scim_throughput`. Set
//! `MOCKTA_BENCH_SECONDS` to change how long each phase runs (default 3).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reference_sp::http::RunningSp;
use serde_json::json;

fn phase_length() -> Duration {
    if !std::env::args().any(|a| a == "--bench") {
        return Duration::from_millis(200);
    }
    let secs = std::env::var("MOCKTA_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    Duration::from_secs_f64(secs)
}

/// Single-row INSERT transactions per second, as durable as the store's.
fn raw_commits_per_second(dir: &std::path::Path, duration: Duration) -> f64 {
    let connection = rusqlite::Connection::open(dir.join("raw.sqlite3")).unwrap();
    connection.pragma_update(None, "journal_mode", "WAL").unwrap();
    connection.pragma_update(None, "synchronous", "FULL").unwrap();
    connection.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").unwrap();
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < duration {
        connection.execute("INSERT INTO t (body) VALUES (?1)", [format!("row {count}")]).unwrap();
        count += 1;
    }
    count as f64 / start.elapsed().as_secs_f64()
}

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

async fn run_phase(base: &str, clients: usize, duration: Duration, phase: &'static str, ids: Arc<Vec<String>>) -> f64 {
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (count, base, ids) = (count.clone(), base.to_owned(), ids.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut n = 0usize;
            while start.elapsed() < duration {
                n += 1;
                let response = match phase {
                    "create" => {
                        let body = json!({"schemas": [USER], "userName": format!("bench{client}-{n}-{}@acme.test", start.elapsed().as_nanos()), "active": true});
                        http.post(format!("{base}/Users")).bearer_auth("mockta-dev-token").json(&body).send().await.unwrap()
                    }
                    "filter" => {
                        let id = &ids[(client * 7919 + n) % ids.len()];
                        http.get(format!("{base}/Users?filter=id%20eq%20%22{id}%22"))
                            .bearer_auth("mockta-dev-token")
                            .send()
                            .await
                            .unwrap()
                    }
                    _ => {
                        let id = &ids[(client * 7919 + n) % ids.len()];
                        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "displayName", "value": format!("n{n}")}]});
                        http.patch(format!("{base}/Users/{id}")).bearer_auth("mockta-dev-token").json(&body).send().await.unwrap()
                    }
                };
                assert!(response.status().is_success(), "{phase}: {}", response.status());
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let duration = phase_length();
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_commits_per_second(dir.path(), duration);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (creates, filters, patches, users) = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let config = reference_sp::config::BUILTIN_CONFIG
            .replace("base_url = \"http://127.0.0.1:7100\"", &format!("base_url = \"{base_url}\""))
            .replace(
                "database = \".local/reference-sp.sqlite3\"",
                &format!("database = \"{}\"", dir.path().join("sp.sqlite3").display()),
            );
        std::fs::write(dir.path().join("sp.toml"), config).unwrap();
        let options = reference_sp::setup::SpOptions { config: Some(dir.path().join("sp.toml")), ..Default::default() };
        let sp = Arc::new(options.build().unwrap());
        let server = RunningSp::serve(listener, sp).unwrap();
        let base = format!("{base_url}/scim/v2/acme");
        let creates = run_phase(&base, 8, duration, "create", Arc::new(Vec::new())).await;
        let list: serde_json::Value = reqwest::Client::new()
            .get(format!("{base}/Users?count=1000&attributes=id"))
            .bearer_auth("mockta-dev-token")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<String> =
            list["Resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect();
        let users = list["totalResults"].as_u64().unwrap();
        let ids = Arc::new(ids);
        let filters = run_phase(&base, 8, duration, "filter", ids.clone()).await;
        let patches = run_phase(&base, 8, duration, "patch", ids).await;
        server.stop().await.unwrap();
        (creates, filters, patches, users)
    });
    println!(
        "scim_throughput (8 clients, {:.1} s per phase, {users} users after the create phase)",
        duration.as_secs_f64()
    );
    println!("  raw SQLite commits/s (WAL, synchronous=FULL): {raw:>8.0}   (baseline)");
    println!("  SCIM creates/s:                               {creates:>8.0}   ratio {:.2}", creates / raw);
    println!("  SCIM filter-gets/s (id eq):                   {filters:>8.0}   ratio {:.2}", filters / raw);
    println!("  SCIM PATCHes/s:                               {patches:>8.0}   ratio {:.2}", patches / raw);
}
