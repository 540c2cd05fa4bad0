//! Okta's filtered SCIM reads against tenants of 1,000 to 1,000,000 users:
//! the rate must stay flat (within 15% of the 1,000-user rate measured in
//! the same run) as the tenant grows, since every lookup Okta makes reads
//! one row through an index.
//!
//! Each size has its own server and database file, seeded before anything
//! is measured (seeding is not timed). A user is seeded from the body Okta
//! sends to create one, through the same validation and the same store
//! write a SCIM `POST /Users` makes, but ten thousand at a time in one write
//! job of the store's shared transaction, so that a million users take one
//! fsync per ten thousand rather than one each.
//!
//! Three lookups are measured through HTTP with 8 concurrent clients, each
//! as Okta sends it (`filter=…&startIndex=1&count=100`):
//! - `userName eq` with a random existing userName in random letter case
//!   (Okta's lookup before it creates or links a user; the comparison is
//!   case-insensitive);
//! - `id eq` with a random existing id;
//! - `userName eq` with a name nobody has (Okta's lookup of a new user).
//!
//! The sizes are measured in rounds: in each round, each lookup against
//! every size one after another, forwards in one round and backwards in the
//! next, so that a burst of other work on the machine falls on all sizes
//! alike; each figure is the median of its rounds, after one uncounted
//! phase of each lookup against each size. Each rate is also reported per server
//! CPU-second (the threads named `sp-server`, read from `/proc/self/task`
//! as `scim_throughput` does), which the load generator sharing the machine
//! does not distort; flatness is judged on that ratio, and the ratio of the
//! plain rates is printed beside it.
//!
//! Run with `cargo bench -p reference-sp --bench scim_read_scaling`.
//! `MOCKTA_BENCH_SECONDS` sets each phase's length (default 2),
//! `MOCKTA_BENCH_ROUNDS` the number of rounds (default 5), and
//! `MOCKTA_BENCH_MOST_USERS` leaves out the sizes above it. Under `cargo
//! test`, which runs every bench without `--bench`, only 1,000 and 10,000
//! users are seeded, for one short round.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{SERVER_THREAD_NAME, cpu_seconds_of_threads};
use rand::Rng;
use rand::seq::IndexedRandom;
use reference_sp::config::TenantId;
use reference_sp::http::RunningSp;
use reference_sp::store::sqlite::SqliteStore;
use reference_sp::store::{GroupCommitWrites, ScimUserWrite, UserId};
use serde_json::json;

// This bench reads the server's CPU time; it has no use for the raw commit
// rate the module also holds.
#[allow(dead_code)]
mod common;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// How many users one write job seeds.
const USERS_PER_SEED_JOB: usize = 10_000;

/// How far a size's rate may fall from (or rise above) the 1,000-user rate
/// and still count as flat.
const FLATNESS_TOLERANCE: f64 = 0.15;

const CLIENTS: usize = 8;

/// How the run is sized: full under `cargo bench`, small under `cargo test`.
struct Plan {
    sizes: Vec<usize>,
    phase: Duration,
    rounds: usize,
}

fn plan() -> Plan {
    if !std::env::args().any(|a| a == "--bench") {
        return Plan { sizes: vec![1_000, 10_000], phase: Duration::from_millis(100), rounds: 1 };
    }
    let number = |name: &str| std::env::var(name).ok().and_then(|s| s.parse::<f64>().ok());
    let most_users = number("MOCKTA_BENCH_MOST_USERS").unwrap_or(f64::INFINITY);
    Plan {
        sizes: [1_000, 10_000, 100_000, 1_000_000].into_iter().filter(|&n| n as f64 <= most_users).collect(),
        phase: Duration::from_secs_f64(number("MOCKTA_BENCH_SECONDS").unwrap_or(2.0)),
        rounds: number("MOCKTA_BENCH_ROUNDS").map_or(5, |r| r.max(1.0) as usize),
    }
}

/// One seeded tenant behind its own server.
struct Tenant {
    size: usize,
    server: RunningSp,
    base: String,
    user_names: Vec<String>,
    ids: Vec<String>,
}

/// The body Okta sends to create user number `n`.
fn okta_create_body(n: usize) -> serde_json::Value {
    let user_name = format!("given{n}.family@acme.test");
    json!({
        "schemas": [USER],
        "userName": user_name,
        "name": { "givenName": format!("Given{n}"), "familyName": "Family" },
        "emails": [{ "primary": true, "value": user_name, "type": "work" }],
        "displayName": format!("Given{n} Family"),
        "locale": "en-US",
        "externalId": format!("00u{n:017}"),
        "active": true,
    })
}

/// What the SCIM create of `body` writes to the store: the same validation
/// and the same derived columns as `POST /Users` (the email, or the userName
/// when there is none, normalised; the display name, or the email).
fn scim_user_write(body: &serde_json::Value) -> ScimUserWrite {
    let rules = reference_sp::scim::resource::UserRules { refuse_undeclared: true, keep_password: false };
    let input = reference_sp::scim::resource::validate_user(body, &[], rules).unwrap();
    let email = input.email.clone().unwrap_or_else(|| input.user_name.clone());
    ScimUserWrite {
        email_normalised: reference_sp::email::normalise(&email),
        name: if input.display_name.is_empty() { email.clone() } else { input.display_name.clone() },
        email,
        user_name: input.user_name,
        active: input.active,
        roles: input.roles,
        resource: input.stored,
    }
}

/// Seeds `size` users into the database at `path`, whose tenant the server
/// has already made, and returns their userNames and ids.
fn seed(path: &Path, size: usize) -> (Vec<String>, Vec<String>) {
    let store = SqliteStore::open(path).unwrap();
    let tenant = TenantId::parse("acme").unwrap();
    let mut user_names = Vec::with_capacity(size);
    let mut ids = Vec::with_capacity(size);
    for first in (0..size).step_by(USERS_PER_SEED_JOB) {
        let batch: Vec<(UserId, ScimUserWrite)> = (first..size.min(first + USERS_PER_SEED_JOB))
            .map(|n| (UserId(reference_sp::sp::new_id("usr")), scim_user_write(&okta_create_body(n))))
            .collect();
        let now = time::OffsetDateTime::now_utc();
        store
            .write(|scope| {
                for (id, write) in &batch {
                    scope.scim_create_user(&tenant, id, write, now)?;
                }
                Ok::<(), reference_sp::store::StoreError>(())
            })
            .unwrap()
            .unwrap();
        for (id, write) in batch {
            ids.push(id.0);
            user_names.push(write.user_name);
        }
    }
    (user_names, ids)
}

fn start_server(runtime: &tokio::runtime::Runtime, dir: &Path) -> (RunningSp, String) {
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let config = reference_sp::config::BUILTIN_CONFIG
            .replace("base_url = \"http://127.0.0.1:7100\"", &format!("base_url = \"{base_url}\""))
            .replace(
                "database = \".local/reference-sp.sqlite3\"",
                &format!("database = \"{}\"", dir.join("sp.sqlite3").display()),
            );
        std::fs::write(dir.join("sp.toml"), config).unwrap();
        let options = reference_sp::setup::SpOptions { config: Some(dir.join("sp.toml")), ..Default::default() };
        let sp = Arc::new(options.build().unwrap());
        (RunningSp::serve(listener, sp).unwrap(), base_url)
    })
}

/// Percent-encodes a query value as Okta does (`%20` for spaces, `%22` for
/// quotes), keeping only RFC 3986's unreserved characters.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The same name with each ASCII letter's case chosen at random.
fn random_case(name: &str, random: &mut impl Rng) -> String {
    name.chars()
        .map(|c| if random.random::<bool>() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lookup {
    UserName,
    Id,
    NoMatch,
}

impl Lookup {
    const ALL: [Lookup; 3] = [Lookup::UserName, Lookup::Id, Lookup::NoMatch];

    fn title(self) -> &'static str {
        match self {
            Lookup::UserName => "userName eq (random case)",
            Lookup::Id => "id eq",
            Lookup::NoMatch => "userName eq (no match)",
        }
    }

    /// The filter of one request, and how many results it must find.
    fn filter(self, tenant: &Tenant, random: &mut impl Rng) -> (String, usize) {
        match self {
            Lookup::UserName => {
                let name = tenant.user_names.choose(random).unwrap();
                (format!("userName eq \"{}\"", random_case(name, random)), 1)
            }
            Lookup::Id => (format!("id eq \"{}\"", tenant.ids.choose(random).unwrap()), 1),
            Lookup::NoMatch => (format!("userName eq \"nobody{}@acme.test\"", random.random::<u64>()), 0),
        }
    }
}

/// Lookups per second and per server CPU-second.
#[derive(Clone, Copy)]
struct Rate {
    per_second: f64,
    per_server_cpu_second: f64,
}

async fn measure(tenant: Arc<Tenant>, lookup: Lookup, duration: Duration) -> Rate {
    let count = Arc::new(AtomicU64::new(0));
    let server_cpu_before = cpu_seconds_of_threads(SERVER_THREAD_NAME);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (count, tenant) = (count.clone(), tenant.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            while start.elapsed() < duration {
                let (filter, expected) = lookup.filter(&tenant, &mut rand::rng());
                let url = format!("{}/Users?filter={}&startIndex=1&count=100", tenant.base, encode(&filter));
                let response = http.get(url).bearer_auth("mockta-dev-token").send().await.unwrap();
                let status = response.status();
                let body = response.text().await.unwrap();
                // A lookup that finds the wrong number of users would make
                // any rate meaningless.
                assert!(
                    status.is_success() && body.contains(&format!("\"totalResults\":{expected},")),
                    "{filter}: {status} {body}"
                );
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let server_cpu = cpu_seconds_of_threads(SERVER_THREAD_NAME) - server_cpu_before;
    let done = count.load(Ordering::Relaxed) as f64;
    Rate { per_second: done / elapsed, per_server_cpu_second: done / server_cpu.max(f64::EPSILON) }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn flat(ratio: f64) -> &'static str {
    if (ratio - 1.0).abs() <= FLATNESS_TOLERANCE { "yes" } else { "no" }
}

fn main() {
    let plan = plan();
    let dir = tempfile::tempdir().unwrap();
    // The servers share a runtime of their own, so that their threads, and
    // only they, carry its name; only the server being measured is busy.
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(SERVER_THREAD_NAME)
        .thread_keep_alive(Duration::from_secs(3600))
        .build()
        .unwrap();
    let client_runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();

    let mut tenants = Vec::new();
    for &size in &plan.sizes {
        let tenant_dir = dir.path().join(format!("users-{size}"));
        std::fs::create_dir_all(&tenant_dir).unwrap();
        let (server, base_url) = start_server(&server_runtime, &tenant_dir);
        let seeding = Instant::now();
        let (user_names, ids) = seed(&tenant_dir.join("sp.sqlite3"), size);
        let bytes = std::fs::metadata(tenant_dir.join("sp.sqlite3")).map(|m| m.len()).unwrap_or(0)
            + std::fs::metadata(tenant_dir.join("sp.sqlite3-wal")).map(|m| m.len()).unwrap_or(0);
        println!(
            "seeded {size} users in {:.1} s ({:.0} MB on disk)",
            seeding.elapsed().as_secs_f64(),
            bytes as f64 / 1e6
        );
        let base = format!("{base_url}/scim/v2/acme");
        tenants.push(Arc::new(Tenant { size, server, base, user_names, ids }));
    }

    // rates[tenant][lookup]: one rate per round. The sizes a ratio compares
    // are measured one after another, in turn forwards and backwards, so
    // that neither drift in the machine's load nor a place in the order
    // favours one of them.
    let mut rates = vec![vec![Vec::new(); Lookup::ALL.len()]; tenants.len()];
    // One uncounted phase of each lookup against each size first, so that
    // the rounds measure servers whose connections are open and whose
    // database pages are mapped, as a long-running server's are.
    for tenant in &tenants {
        for &lookup in &Lookup::ALL {
            client_runtime.block_on(measure(tenant.clone(), lookup, plan.phase));
        }
    }
    for round in 0..plan.rounds {
        for (l, &lookup) in Lookup::ALL.iter().enumerate() {
            let mut order: Vec<usize> = (0..tenants.len()).collect();
            if round % 2 == 1 {
                order.reverse();
            }
            for t in order {
                rates[t][l].push(client_runtime.block_on(measure(tenants[t].clone(), lookup, plan.phase)));
            }
        }
    }

    println!(
        "scim_read_scaling ({CLIENTS} clients, {:.1} s per phase, median of {} rounds; flat: per server CPU-second, within {:.0}% of the 1,000-user rate)",
        plan.phase.as_secs_f64(),
        plan.rounds,
        FLATNESS_TOLERANCE * 100.0
    );
    for (l, lookup) in Lookup::ALL.iter().enumerate() {
        println!("  {}", lookup.title());
        println!("    users        per second   ratio   per server CPU-second   ratio   flat within 15%");
        let medians: Vec<Rate> = rates
            .iter()
            .map(|by_lookup| Rate {
                per_second: median(by_lookup[l].iter().map(|r| r.per_second).collect()),
                per_server_cpu_second: median(by_lookup[l].iter().map(|r| r.per_server_cpu_second).collect()),
            })
            .collect();
        let baseline = medians[0];
        for (tenant, rate) in tenants.iter().zip(&medians) {
            let ratio = rate.per_second / baseline.per_second;
            let cpu_ratio = rate.per_server_cpu_second / baseline.per_server_cpu_second;
            println!(
                "    {:>9}   {:>10.0}   {ratio:>5.2}   {:>21.0}   {cpu_ratio:>5.2}   {}",
                tenant.size,
                rate.per_second,
                rate.per_server_cpu_second,
                flat(cpu_ratio)
            );
        }
    }

    for tenant in tenants {
        let tenant = Arc::into_inner(tenant).unwrap();
        server_runtime.block_on(tenant.server.stop()).unwrap();
    }
}
