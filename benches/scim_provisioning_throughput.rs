//! Users provisioned per second into the reference SP by the mock's
//! provisioning engine (Okta's assignment sequence: a `userName eq` lookup,
//! then `POST /Users`), next to raw SQLite commits per second on a file
//! with the store's settings (WAL, `synchronous=FULL`, one row per commit),
//! measured in the same run just before. Every provisioned user is at least
//! one durable commit, so the raw single-commit rate is the baseline.
//!
//! The org assigns 10,000 users to the app, one after another, and the
//! clock stops when the engine is idle and the SP holds them all. Users per
//! server CPU-second count only the SP's own threads (named `sp-server`).
//!
//! Run with `cargo bench -p mockta --bench scim_provisioning_throughput`.
//! Under `cargo test --all-targets` it runs with 200 users.
//! `MOCKTA_BENCH_SECONDS` sets the length of the raw-commit phase (default 3).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mock_idp::admin;
use mock_idp::idp::{Idp, IdpConfig, KeySource};
use mock_idp::provisioning::{Provisioner, ProvisionerOptions};
use reference_sp::http::RunningSp;
use serde_json::{Value, json};
use sp_bench_common::{SERVER_THREAD_NAME, cpu_seconds_of_threads, raw_commits_per_second};

#[path = "../reference-sp/benches/common/mod.rs"]
mod sp_bench_common;

const APP: &str = "0oarefsp000000000001";

/// The Okta id of the benchmark's user number `index`.
fn user_id(index: usize) -> String {
    format!("00ubench{index:012}")
}

/// An org with `users` users and the `reference-sp` app provisioning to the
/// SP's acme tenant, none of them assigned yet.
fn idp_with_users(scim_base: &str, users: usize) -> Arc<Idp> {
    let mut text = String::from("[org]\nname = \"acme\"\nurl = \"http://127.0.0.1:7000\"\napi_token = \"t\"\n");
    for index in 0..users {
        write!(
            text,
            "\n[[users]]\nid = \"{}\"\nlogin = \"bench.user{index}@acme.test\"\nfirst_name = \"Bench\"\nlast_name = \"User{index}\"\n",
            user_id(index)
        )
        .unwrap();
    }
    write!(
        text,
        r#"
[[apps]]
id = "{APP}"
name = "reference-sp"
sign_on_mode = "SAML_2_0"
[apps.saml]
sso_url = "http://127.0.0.1:7100/sso/acs/acme"
audience = "http://127.0.0.1:7100/sso/metadata/acme"
[apps.provisioning]
base_url = "{scim_base}"
auth = "bearer"
token = "mockta-dev-token"
"#
    )
    .unwrap();
    let org = mock_idp::org::parse_org("org.toml", &text, time::OffsetDateTime::now_utc()).unwrap();
    let key = mock_idp::keys::deterministic::signing(&org.name).unwrap();
    Arc::new(Idp::new(IdpConfig::serving(org, KeySource::Fixed(key)).unwrap()))
}

/// How many users the SP's acme tenant holds.
async fn users_in_sp(scim_base: &str) -> u64 {
    let page: Value = reqwest::Client::new()
        .get(format!("{scim_base}/Users?startIndex=1&count=1"))
        .bearer_auth("mockta-dev-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["totalResults"].as_u64().unwrap()
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let users = if full { 10_000 } else { 200 };
    let seconds: f64 = std::env::var("MOCKTA_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let raw_phase = if full { Duration::from_secs_f64(seconds) } else { Duration::from_millis(200) };
    let dir = tempfile::tempdir().unwrap();

    // The server has a runtime of its own, so that its threads, and only
    // they, carry its name.
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(SERVER_THREAD_NAME)
        .thread_keep_alive(Duration::from_secs(3600))
        .build()
        .unwrap();
    let client_runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (server, base_url) = server_runtime.block_on(async {
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
        (RunningSp::serve(listener, sp).unwrap(), base_url)
    });
    let scim_base = format!("{base_url}/scim/v2/acme");
    let idp = idp_with_users(&scim_base, users);

    let raw = raw_commits_per_second(dir.path(), raw_phase);
    let (elapsed, server_cpu, before, after, failed) = client_runtime.block_on(async {
        let provisioner = Provisioner::start(&idp, ProvisionerOptions::default()).unwrap();
        let before = users_in_sp(&scim_base).await;
        let now = idp.now();
        let server_cpu_before = cpu_seconds_of_threads(SERVER_THREAD_NAME);
        let start = Instant::now();
        for index in 0..users {
            let body = admin::parse_body(json!({"id": user_id(index)}).to_string().as_bytes()).unwrap();
            idp.apply(|org| admin::assign_user(org, APP, None, body, now)).unwrap();
        }
        provisioner.wait_idle().await;
        let elapsed = start.elapsed().as_secs_f64();
        let server_cpu = cpu_seconds_of_threads(SERVER_THREAD_NAME) - server_cpu_before;
        let after = users_in_sp(&scim_base).await;
        (elapsed, server_cpu, before, after, provisioner.failed_tasks().len())
    });
    server_runtime.block_on(server.stop()).unwrap();

    assert_eq!(failed, 0, "provisioning tasks failed");
    assert_eq!(after - before, users as u64, "the SP holds every assigned user");
    let per_second = users as f64 / elapsed;
    println!(
        "scim_provisioning_throughput ({users} users assigned, provisioned by the mock's engine in {elapsed:.1} s)"
    );
    println!("  raw SQLite commits/s (WAL, synchronous=FULL, one row each), the baseline: {raw:>8.0}");
    println!("  users provisioned per second (wall):                                    {per_second:>8.0}");
    println!(
        "  users provisioned per server CPU-second ({server_cpu:.1} CPU-s):                  {:>8.0}",
        users as f64 / server_cpu.max(f64::EPSILON)
    );
    println!("  ratio of users per second to raw commits per second:                    {:>8.2}", per_second / raw);
}
