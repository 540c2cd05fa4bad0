//! Tokens from the token endpoint per second and per server CPU-second,
//! next to the machine's fastest raw RSA-2048 signing measured in the same
//! run, and the mock's memory after many tokens.
//!
//! Baselines, each on every core with the same key, the key parsed once:
//! - OpenSSL (`PKey`), the machine's usual fastest RSA;
//! - aws-lc-rs (`RsaKeyPair`), what the mock signs with;
//! - and, for reference, `jsonwebtoken::crypto::sign`, which parses the key
//!   again on every signature (what the mock did before).
//!
//! Each is counted per second and per CPU-second of its signing threads;
//! the fastest per CPU-second is the baseline. Three phases through HTTP:
//! - authorization requests alone on the org authorization server
//!   (`/authorize`, headless with `login_hint`, a code each);
//! - code exchange there: each round trip is an `/authorize` and a
//!   `/token`, and yields one signed ID token (org access tokens are opaque,
//!   so one signature). The token endpoint's share is the round trip's
//!   server CPU less the first phase's per request;
//! - client credentials on the `default` server: each `/token` yields one
//!   signed access token.
//!
//! The server runs on a runtime of its own whose threads are named
//! `idp-server`, and their CPU time is read from `/proc/self/task`, so the
//! load generator sharing the machine does not count. The ratio is tokens
//! per server CPU-second over raw signatures per core-second; the target is
//! at least 0.8 at the token endpoint (client credentials, and the token
//! endpoint's share of a code exchange). The whole round trip's ratio is
//! printed beside it.
//!
//! The memory phase then issues many client-credentials tokens through the
//! `Idp` API (no HTTP, to issue many quickly) and prints the process's RSS
//! and the OIDC tables' accounted bytes; the benchmark fails if the RSS
//! passes 64 MB. The RSS is the whole benchmark process's (the load
//! generator and the baselines are in it too), so it is an upper bound of
//! the mock's.
//!
//! Run with `cargo bench -p mock-idp --bench oidc_throughput`. Set
//! `MOCKTA_BENCH_SECONDS` to change how long each phase runs (default 3)
//! and `MOCKTA_BENCH_TOKENS` how many tokens the memory phase issues
//! (default 150,000).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mock_idp::http::RunningServer;
use mock_idp::idp::{Idp, IdpConfig, KeySource};
use mock_idp::keys::deterministic;
use mock_idp::oidc::ServerRef;
use support::{RAW_MESSAGE, Rate, aws_lc_rate, openssl_rate, threaded_rate};

/// The name of every thread of the server's runtime.
const SERVER_THREAD_NAME: &str = "idp-server";
/// The target ratio of tokens per server CPU-second to raw signatures per
/// core-second.
const TARGET_RATIO: f64 = 0.8;
/// The RSS the mock must stay under, however many tokens it issued.
const RSS_LIMIT_KILOBYTES: u64 = 64 * 1024;

fn jsonwebtoken_rate(key_pem: &str, threads: usize, duration: Duration) -> Rate {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(key_pem.as_bytes()).unwrap();
    threaded_rate(threads, duration, || {
        || {
            std::hint::black_box(
                jsonwebtoken::crypto::sign(&RAW_MESSAGE, &key, jsonwebtoken::Algorithm::RS256).unwrap(),
            );
        }
    })
}

const WEB: &str = "0oarefspoidc00000007";
const WEB_REDIRECT: &str = "http://127.0.0.1:7100/oidc/callback/acme";

/// A phase's tokens (or rounds) per second and per server CPU-second.
struct Phase {
    per_second: f64,
    per_server_cpu_second: f64,
}

impl Phase {
    /// Server CPU-seconds per round.
    fn server_cpu_per_round(&self) -> f64 {
        1.0 / self.per_server_cpu_second
    }
}

/// Runs `clients` connections, each running `round` (which repeats
/// requests until its phase is over and returns how many signed tokens it
/// got).
async fn run_phase<F, Fut>(addr: std::net::SocketAddr, clients: usize, round: F) -> Phase
where
    F: Fn(std::net::SocketAddr, tokio::net::TcpStream, Instant) -> Fut,
    Fut: std::future::Future<Output = u64> + Send + 'static,
{
    let server_cpu_before = support::cpu_seconds_of_threads(SERVER_THREAD_NAME);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        tasks.push(tokio::spawn(round(addr, stream, start)));
    }
    let mut tokens = 0;
    for task in tasks {
        tokens += task.await.unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let server_cpu = support::cpu_seconds_of_threads(SERVER_THREAD_NAME) - server_cpu_before;
    let tokens = tokens as f64;
    Phase { per_second: tokens / elapsed, per_server_cpu_second: tokens / server_cpu.max(f64::EPSILON) }
}

/// Code exchanges: `/authorize` then `/token`, each yielding one ID token.
async fn code_exchanges(addr: std::net::SocketAddr, clients: usize, duration: Duration) -> Phase {
    run_phase(addr, clients, move |addr, mut stream, start| async move {
        let redirect: String = url::form_urlencoded::byte_serialize(WEB_REDIRECT.as_bytes()).collect();
        let authorize = format!(
            "GET /oauth2/v1/authorize?client_id={WEB}&redirect_uri={redirect}&response_type=code&scope=openid&state=s&nonce=n&login_hint=alice%40acme.test HTTP/1.1\r\nHost: {addr}\r\n\r\n"
        )
        .into_bytes();
        let credentials = support::basic(WEB, "mockta-dev-oidc-secret");
        let mut buffer = Vec::with_capacity(16 * 1024);
        let mut tokens = 0;
        while start.elapsed() < duration {
            let reply = support::exchange(&mut stream, &authorize, &mut buffer).await;
            assert_eq!(reply.status, 302, "{}", reply.head);
            let location = reply.header("location").unwrap().to_owned();
            let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned();
            let body = format!("grant_type=authorization_code&code={code}&redirect_uri={redirect}");
            let request = support::post(addr, "/oauth2/v1/token", &credentials, &body);
            let reply = support::exchange(&mut stream, &request, &mut buffer).await;
            assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
            assert!(reply.body.windows(10).any(|w| w == b"\"id_token\""));
            tokens += 1;
        }
        tokens
    })
    .await
}

/// Authorization requests alone (`/authorize` with `login_hint`, a code
/// each, never exchanged), to tell the token endpoint's share of a code
/// exchange from the authorization endpoint's.
async fn authorizations(addr: std::net::SocketAddr, clients: usize, duration: Duration) -> Phase {
    run_phase(addr, clients, move |addr, mut stream, start| async move {
        let redirect: String = url::form_urlencoded::byte_serialize(WEB_REDIRECT.as_bytes()).collect();
        let authorize = format!(
            "GET /oauth2/v1/authorize?client_id={WEB}&redirect_uri={redirect}&response_type=code&scope=openid&state=s&nonce=n&login_hint=alice%40acme.test HTTP/1.1\r\nHost: {addr}\r\n\r\n"
        )
        .into_bytes();
        let mut buffer = Vec::with_capacity(16 * 1024);
        let mut rounds = 0;
        while start.elapsed() < duration {
            let reply = support::exchange(&mut stream, &authorize, &mut buffer).await;
            assert_eq!(reply.status, 302, "{}", reply.head);
            rounds += 1;
        }
        rounds
    })
    .await
}

/// Client-credentials grants, each yielding one signed access token.
async fn client_credentials(addr: std::net::SocketAddr, clients: usize, duration: Duration) -> Phase {
    run_phase(addr, clients, move |addr, mut stream, start| async move {
        let request = support::client_credentials_request(addr);
        let mut buffer = Vec::with_capacity(16 * 1024);
        let mut tokens = 0;
        while start.elapsed() < duration {
            let reply = support::exchange(&mut stream, &request, &mut buffer).await;
            assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
            tokens += 1;
        }
        tokens
    })
    .await
}

/// How many tokens the memory phase issues: `MOCKTA_BENCH_TOKENS`
/// (default 150,000), or 2,000 when run briefly by `cargo test --benches`.
fn memory_phase_tokens() -> u64 {
    if !std::env::args().any(|a| a == "--bench") {
        return 2_000;
    }
    std::env::var("MOCKTA_BENCH_TOKENS").ok().and_then(|s| s.parse().ok()).unwrap_or(150_000)
}

/// Issues `tokens` client-credentials tokens through the `Idp` API on
/// `threads` threads, and returns how long it took.
fn issue_tokens(idp: &Idp, tokens: u64, threads: usize) -> Duration {
    let authorization = format!("Basic {}", support::basic(support::SERVICE, support::SERVICE_SECRET));
    let form = mock_idp::oidc::token::FormParams::from_pairs([
        ("grant_type".to_owned(), "client_credentials".to_owned()),
        ("scope".to_owned(), "mockta.read".to_owned()),
    ])
    .unwrap();
    let server = ServerRef::Custom("default".into());
    let issued = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while issued.fetch_add(1, Ordering::Relaxed) < tokens {
                    std::hint::black_box(idp.token(&server, Some(&authorization), &form).unwrap());
                }
            });
        }
    });
    start.elapsed()
}

fn main() {
    let duration = support::phase_length();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let org =
        mock_idp::org::parse_org("acme.toml", mock_idp::setup::BUILTIN_ORG, time::OffsetDateTime::now_utc()).unwrap();
    // In Fixed key mode the RS256 servers sign with this key, so the raw
    // baselines and the server use the very same key.
    let credential = deterministic::signing(&org.name).unwrap();
    let openssl = openssl_rate(&credential.key_pem, cores, duration);
    let aws_lc = aws_lc_rate(&credential.key_pem, cores, duration);
    let reparsing = jsonwebtoken_rate(&credential.key_pem, cores, duration);
    let (baseline_name, baseline) =
        if openssl.per_cpu_second >= aws_lc.per_cpu_second { ("OpenSSL", openssl) } else { ("aws-lc-rs", aws_lc) };

    // The server has a runtime of its own, so that its threads, and only
    // they, carry its name; they are kept alive so their time still counts.
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(SERVER_THREAD_NAME)
        .thread_keep_alive(Duration::from_secs(3600))
        .build()
        .unwrap();
    let client_runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let idp = Arc::new(Idp::new(IdpConfig::serving(org, KeySource::Fixed(credential)).unwrap()));
    let rss_at_start = support::status_kilobytes("VmRSS");
    let server = server_runtime.block_on(RunningServer::start("127.0.0.1:0".parse().unwrap(), idp.clone())).unwrap();
    let url = server.url();
    idp.write_org(|org| org.url = url);
    let authorize_only = client_runtime.block_on(authorizations(server.addr, 8, duration));
    let exchanges = client_runtime.block_on(code_exchanges(server.addr, 8, duration));
    let grants = client_runtime.block_on(client_credentials(server.addr, 8, duration));
    server_runtime.block_on(server.stop()).unwrap();

    let tokens = memory_phase_tokens();
    // Issued in six steps, with the RSS after each, so a table that kept
    // growing would show as a rising line rather than only in the total.
    let steps = 6;
    let mut issuing = Duration::ZERO;
    let mut rss_after_steps = Vec::new();
    for step in 1..=steps {
        issuing += issue_tokens(&idp, tokens / steps, cores);
        rss_after_steps.push((step * (tokens / steps), support::status_kilobytes("VmRSS")));
    }
    let rss = support::status_kilobytes("VmRSS");
    let peak = support::status_kilobytes("VmHWM");
    let tables = idp.oidc_table_bytes();
    let accounted: usize = tables.iter().map(|(_, bytes)| bytes).sum();

    println!("oidc_throughput ({cores} cores, {:.1} s per phase)", duration.as_secs_f64());
    println!("  raw RSA-2048 RS256 signatures, {cores} threads, key parsed once:");
    println!("                                          per second   per core-second (CPU of the signing threads)");
    let raw_line = |name: &str, rate: Rate| {
        println!("    {name:<36} {:>9.0}   {:>9.0}", rate.per_second, rate.per_cpu_second);
    };
    raw_line("OpenSSL PKey", openssl);
    raw_line("aws-lc-rs RsaKeyPair (the mock's)", aws_lc);
    raw_line("jsonwebtoken, key parsed per call", reparsing);
    println!("  baseline: {baseline_name}, {:.0} signatures per core-second", baseline.per_cpu_second);
    println!(
        "                                          per second   per server CPU-second   ratio   target {TARGET_RATIO}"
    );
    // The token endpoint's share of a code exchange: the exchange's server
    // CPU less that of an authorization request alone.
    let token_endpoint = Phase {
        per_second: f64::NAN,
        per_server_cpu_second: 1.0
            / (exchanges.server_cpu_per_round() - authorize_only.server_cpu_per_round()).max(f64::EPSILON),
    };
    let line = |name: &str, phase: &Phase, judged: bool| {
        let ratio = phase.per_server_cpu_second / baseline.per_cpu_second;
        let verdict = match (judged, ratio >= TARGET_RATIO) {
            (false, _) => "",
            (true, true) => "met",
            (true, false) => "NOT met",
        };
        let per_second = if phase.per_second.is_nan() { "-".to_owned() } else { format!("{:.0}", phase.per_second) };
        println!("    {name:<36} {per_second:>9}   {:>21.0}   {ratio:>5.2}   {verdict}", phase.per_server_cpu_second);
    };
    line("authorize alone (no token)", &authorize_only, false);
    line("code exchange: authorize + token", &exchanges, false);
    line("code exchange: the token endpoint", &token_endpoint, true);
    line("client credentials", &grants, true);
    println!(
        "  memory: {tokens} client-credentials tokens through the Idp API ({:.0}/s on {cores} threads):",
        tokens as f64 / issuing.as_secs_f64()
    );
    println!(
        "    RSS {:.1} MB (before serving {:.1} MB, peak {:.1} MB; limit {:.0} MB)",
        rss as f64 / 1024.0,
        rss_at_start as f64 / 1024.0,
        peak as f64 / 1024.0,
        RSS_LIMIT_KILOBYTES as f64 / 1024.0
    );
    let steps: Vec<String> =
        rss_after_steps.iter().map(|(issued, rss)| format!("{issued}: {:.1}", *rss as f64 / 1024.0)).collect();
    println!("    RSS in MB after each step's tokens: {}", steps.join(", "));
    println!(
        "    OIDC tables: {:.1} MB accounted, {} access tokens remembered",
        accounted as f64 / (1024.0 * 1024.0),
        idp.remembered_access_tokens()
    );
    for (table, bytes) in &tables {
        println!("      {table:<20} {:>8.2} MB", *bytes as f64 / (1024.0 * 1024.0));
    }
    assert!(peak < RSS_LIMIT_KILOBYTES, "the RSS peaked at {peak} kB, over the {RSS_LIMIT_KILOBYTES} kB limit");
}
