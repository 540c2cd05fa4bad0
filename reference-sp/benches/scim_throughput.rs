//! SCIM operations per second with 8 concurrent clients (create,
//! filter-get, PATCH), next to raw SQLite commits per second on the same
//! kind of database file (WAL, `synchronous=FULL`, one row per commit),
//! measured in the same run just before each write phase. Durable writes are
//! bound by fsync, so the raw single-commit rate is their baseline; the
//! store's group commit lets concurrent writes share one commit, which is
//! how SCIM writes can outrun it.
//!
//! Each phase also reports operations per server CPU-second: the server runs
//! on its own runtime, whose threads (workers and blocking pool) are named
//! `sp-server`, and their CPU time, with the store's writer thread's, is
//! read from `/proc/self/task`, so the load generator sharing the machine
//! does not count. The clients send prepared requests on keep-alive
//! connections with a bare HTTP/1.1 reader (`common::BareConnection`), so
//! that as little of the two cores as possible goes to load generation.
//!
//! Run with `cargo bench -p reference-sp --bench scim_throughput`. Set
//! `MOCKTA_BENCH_SECONDS` to change how long each phase runs (default 3).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{
    BareConnection, SERVER_THREAD_NAME, cpu_seconds_of_threads, cpu_seconds_of_threads_named, raw_commits_per_second,
    scim_request,
};
use reference_sp::http::RunningSp;
use reference_sp::store::sqlite::WRITER_THREAD_NAME;
use serde_json::json;

mod common;

fn phase_length() -> Duration {
    if !std::env::args().any(|a| a == "--bench") {
        return Duration::from_millis(200);
    }
    let secs = std::env::var("MOCKTA_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    Duration::from_secs_f64(secs)
}

/// SCIM creates per second straight into the store from `threads` threads,
/// without HTTP, and how many writes each commit carried on average: what
/// group commit alone makes of the file's fsync rate.
fn store_creates_per_second(dir: &std::path::Path, threads: usize, duration: Duration) -> (f64, f64) {
    use reference_sp::store::{ScimUserStore, ScimUserWrite, SettingsStore, UserId};
    let store = reference_sp::store::sqlite::SqliteStore::open(&dir.join("store.sqlite3")).unwrap();
    let tenant = reference_sp::config::TenantId::parse("acme").unwrap();
    let settings = reference_sp::config::TenantSettings {
        default_relay_state: "/".into(),
        allowed_email_domains: vec!["acme.test".into()],
        provisioning: reference_sp::config::Provisioning::Jit,
        allow_idp_initiated: false,
        clock_skew_seconds: 180,
        allow_sha1: false,
        sso_required: false,
        admin_signed_in_via_idp: false,
        link_accounts_by_verified_email: false,
    };
    store.sync_tenant(&tenant, "Acme", &settings).unwrap();
    let before = store.group_commit_counts();
    let count = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let (store, tenant, count) = (&store, &tenant, &count);
            scope.spawn(move || {
                let mut n = 0u64;
                while start.elapsed() < duration {
                    n += 1;
                    let name = format!("store{thread}-{n}@acme.test");
                    let write = ScimUserWrite {
                        user_name: name.clone(),
                        email: name.clone(),
                        email_normalised: name.clone(),
                        name: name.clone(),
                        active: true,
                        roles: Vec::new(),
                        resource: json!({"schemas": [USER], "userName": name, "active": true}),
                    };
                    let id = UserId(format!("usr_store{thread}x{n}"));
                    store.scim_create_user(tenant, &id, &write, time::OffsetDateTime::now_utc()).unwrap();
                    count.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let rate = count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    let after = store.group_commit_counts();
    let writes_per_commit = (after.writes - before.writes) as f64 / (after.commits - before.commits).max(1) as f64;
    (rate, writes_per_commit)
}

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// What one phase measured.
struct PhaseResult {
    per_second: f64,
    per_server_cpu_second: f64,
    /// The share of the phase the store's writer thread was on a CPU.
    writer_busy: f64,
}

async fn run_phase(
    address: std::net::SocketAddr,
    base_path: &str,
    clients: usize,
    duration: Duration,
    phase: &'static str,
    ids: Arc<Vec<String>>,
) -> PhaseResult {
    let count = Arc::new(AtomicU64::new(0));
    let server_cpu_before = cpu_seconds_of_threads(SERVER_THREAD_NAME);
    let writer_cpu_before = cpu_seconds_of_threads_named(WRITER_THREAD_NAME);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (count, base, ids) = (count.clone(), base_path.to_owned(), ids.clone());
        tasks.push(tokio::spawn(async move {
            let mut connection = BareConnection::connect(address).await;
            let host = address.to_string();
            let mut n = 0usize;
            while start.elapsed() < duration {
                n += 1;
                let request = match phase {
                    "create" => {
                        let body = json!({"schemas": [USER], "userName": format!("bench{client}-{n}-{}@acme.test", start.elapsed().as_nanos()), "active": true});
                        scim_request("POST", &host, &format!("{base}/Users"), TOKEN, Some(&body.to_string()))
                    }
                    "filter" => {
                        let id = &ids[(client * 7919 + n) % ids.len()];
                        scim_request("GET", &host, &format!("{base}/Users?filter=id%20eq%20%22{id}%22"), TOKEN, None)
                    }
                    _ => {
                        let id = &ids[(client * 7919 + n) % ids.len()];
                        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "displayName", "value": format!("n{n}")}]});
                        scim_request("PATCH", &host, &format!("{base}/Users/{id}"), TOKEN, Some(&body.to_string()))
                    }
                };
                let (status, body) = connection.exchange(&request).await;
                assert!((200..300).contains(&status), "{phase}: {status} {}", String::from_utf8_lossy(body));
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let server_cpu = cpu_seconds_of_threads(SERVER_THREAD_NAME) - server_cpu_before;
    let writer_cpu = cpu_seconds_of_threads_named(WRITER_THREAD_NAME) - writer_cpu_before;
    let done = count.load(Ordering::Relaxed) as f64;
    PhaseResult {
        per_second: done / elapsed,
        per_server_cpu_second: done / server_cpu.max(f64::EPSILON),
        writer_busy: writer_cpu / elapsed,
    }
}

/// The built-in acme tenant's SCIM token.
const TOKEN: &str = "mockta-dev-token";

fn main() {
    let duration = phase_length();
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
    let (server, base_url, address) = server_runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let base_url = format!("http://{address}");
        let config = reference_sp::config::BUILTIN_CONFIG
            .replace("base_url = \"http://127.0.0.1:7100\"", &format!("base_url = \"{base_url}\""))
            .replace(
                "database = \".local/reference-sp.sqlite3\"",
                &format!("database = \"{}\"", dir.path().join("sp.sqlite3").display()),
            );
        std::fs::write(dir.path().join("sp.toml"), config).unwrap();
        let options = reference_sp::setup::SpOptions { config: Some(dir.path().join("sp.toml")), ..Default::default() };
        let sp = Arc::new(options.build().unwrap());
        (RunningSp::serve(listener, sp).unwrap(), base_url, address)
    });
    let base = format!("{base_url}/scim/v2/acme");
    let base_path = "/scim/v2/acme";
    let raw_before_creates = raw_commits_per_second(dir.path(), duration);
    let (store_creates, writes_per_commit) = store_creates_per_second(dir.path(), 8, duration);
    let creates = client_runtime.block_on(run_phase(address, base_path, 8, duration, "create", Arc::new(Vec::new())));
    let (ids, users) = client_runtime.block_on(async {
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
        (Arc::new(ids), list["totalResults"].as_u64().unwrap())
    });
    let filters = client_runtime.block_on(run_phase(address, base_path, 8, duration, "filter", ids.clone()));
    let raw_before_patches = raw_commits_per_second(dir.path(), duration);
    let patches = client_runtime.block_on(run_phase(address, base_path, 8, duration, "patch", ids));
    server_runtime.block_on(server.stop()).unwrap();

    println!(
        "scim_throughput (8 clients, {:.1} s per phase, {users} users after the create phase)",
        duration.as_secs_f64()
    );
    println!("  raw SQLite commits/s (WAL, synchronous=FULL, one row each), the baseline:");
    println!("    measured before the creates:  {raw_before_creates:>8.0}");
    println!("    measured before the PATCHes:  {raw_before_patches:>8.0}");
    println!(
        "                                   per second   per server CPU-second   ratio to raw commits/s   writer thread busy"
    );
    let line = |name: &str, phase: &PhaseResult, raw: Option<f64>| {
        let ratio = raw.map(|raw| format!("{:>8.2}", phase.per_second / raw)).unwrap_or_else(|| "       -".into());
        println!(
            "  {name:<32} {:>10.0}   {:>21.0}   {ratio}                 {:>5.0}%",
            phase.per_second,
            phase.per_server_cpu_second,
            phase.writer_busy * 100.0
        );
    };
    line("SCIM creates", &creates, Some(raw_before_creates));
    line("SCIM filter-gets (id eq)", &filters, None);
    line("SCIM PATCHes", &patches, Some(raw_before_patches));
    println!(
        "  store creates without HTTP, 8 threads: {store_creates:>8.0}/s, ratio {:.2}, {writes_per_commit:.1} writes per commit",
        store_creates / raw_before_creates
    );
}
