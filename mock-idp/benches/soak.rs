//! A bounded soak: the mock serves a steady mix of traffic through HTTP for
//! a fixed time, and the process's RSS is sampled as it goes, to show that
//! memory stays flat once the mock's tables have filled, whatever the count
//! of responses, sign-ins and tokens.
//!
//! Three kinds of client loop run side by side, each on keep-alive
//! connections:
//! - SAML: IdP-initiated, both-signed responses to the reference SP's app
//!   (each a sign-in at the IdP and a signed response);
//! - OIDC sign-ins: `/authorize` on the org authorization server (headless,
//!   `login_hint`) and the code's exchange at `/token` for a signed ID
//!   token;
//! - tokens: client credentials on the `default` custom authorization
//!   server, each a signed JWT access token.
//!
//! The RSS is read from `/proc/self/status` at thirty evenly spaced moments.
//! It is the whole process's (the load generator is in it too), so it is an
//! upper bound of the mock's. The benchmark fails if any sample passes
//! 64 MB, and, in a run of at least two minutes, if the RSS grows by more
//! than 4 MB after the first minute: by then every table has reached its
//! byte bound, so growth after it would be a leak.
//!
//! Run with `cargo bench -p mock-idp --bench soak`. Set
//! `MOCKTA_SOAK_SECONDS` to change how long it runs (default 150). Run by
//! `cargo test --benches`, it runs for 3 seconds and judges only the limit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

// The soak uses only the HTTP client and the RSS reading of the shared module.
#[allow(dead_code)]
mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mock_idp::http::RunningServer;
use mock_idp::idp::{Idp, IdpConfig, KeySource};
use mock_idp::keys::deterministic;

/// The RSS the mock must stay under, however long it serves.
const RSS_LIMIT_KILOBYTES: u64 = 64 * 1024;
/// How much the RSS may grow after the first minute of a long run.
const GROWTH_LIMIT_KILOBYTES: u64 = 4 * 1024;
/// When the tables are expected to have filled, and the judged part begins.
const WARM_UP: Duration = Duration::from_secs(60);
/// How many RSS samples a run takes.
const SAMPLES: u32 = 30;

const SAML_PATH: &str = "/home/reference-sp/0oarefsp000000000001?login_hint=alice@acme.test";
const WEB: &str = "0oarefspoidc00000007";
const WEB_SECRET: &str = "mockta-dev-oidc-secret";
const WEB_REDIRECT: &str = "http://127.0.0.1:7100/oidc/callback/acme";

/// How long the soak runs: `MOCKTA_SOAK_SECONDS` (default 150), or 3 s when
/// run by `cargo test --benches`, which passes no `--bench` flag.
fn soak_length() -> Duration {
    if !std::env::args().any(|a| a == "--bench") {
        return Duration::from_secs(3);
    }
    let secs = std::env::var("MOCKTA_SOAK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(150.0);
    Duration::from_secs_f64(secs)
}

/// What the client loops have done so far.
#[derive(Default)]
struct Counts {
    saml_responses: AtomicU64,
    oidc_sign_ins: AtomicU64,
    tokens: AtomicU64,
}

/// IdP-initiated SAML responses, until `end`.
async fn saml_loop(addr: SocketAddr, end: Instant, counts: Arc<Counts>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {SAML_PATH} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes();
    let mut buffer = Vec::with_capacity(32 * 1024);
    while Instant::now() < end {
        let reply = support::exchange(&mut stream, &request, &mut buffer).await;
        assert_eq!(reply.status, 200, "{}", reply.head);
        assert!(reply.body.windows(12).any(|w| w == b"SAMLResponse"), "no SAMLResponse in the form");
        counts.saml_responses.fetch_add(1, Ordering::Relaxed);
    }
}

/// OIDC sign-ins (`/authorize`, then the code's exchange), until `end`.
async fn oidc_sign_in_loop(addr: SocketAddr, end: Instant, counts: Arc<Counts>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let redirect: String = url::form_urlencoded::byte_serialize(WEB_REDIRECT.as_bytes()).collect();
    let credentials = support::basic(WEB, WEB_SECRET);
    let mut buffer = Vec::with_capacity(16 * 1024);
    let mut round = 0u64;
    while Instant::now() < end {
        round += 1;
        // A fresh state and nonce each time, as a relying party sends.
        let authorize = format!(
            "GET /oauth2/v1/authorize?client_id={WEB}&redirect_uri={redirect}&response_type=code&scope=openid%20email&state=s{round}&nonce=n{round}&login_hint=alice%40acme.test HTTP/1.1\r\nHost: {addr}\r\n\r\n"
        )
        .into_bytes();
        let reply = support::exchange(&mut stream, &authorize, &mut buffer).await;
        assert_eq!(reply.status, 302, "{}", reply.head);
        let location = reply.header("location").unwrap().to_owned();
        let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        let body = format!("grant_type=authorization_code&code={code}&redirect_uri={redirect}");
        let reply =
            support::exchange(&mut stream, &support::post(addr, "/oauth2/v1/token", &credentials, &body), &mut buffer)
                .await;
        assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
        assert!(reply.body.windows(10).any(|w| w == b"\"id_token\""));
        counts.oidc_sign_ins.fetch_add(1, Ordering::Relaxed);
    }
}

/// Client-credentials tokens, until `end`.
async fn token_loop(addr: SocketAddr, end: Instant, counts: Arc<Counts>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = support::client_credentials_request(addr);
    let mut buffer = Vec::with_capacity(16 * 1024);
    while Instant::now() < end {
        let reply = support::exchange(&mut stream, &request, &mut buffer).await;
        assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
        counts.tokens.fetch_add(1, Ordering::Relaxed);
    }
}

/// One RSS reading, with what had been served by then.
struct Sample {
    at: Duration,
    rss_kilobytes: u64,
    saml_responses: u64,
    oidc_sign_ins: u64,
    tokens: u64,
}

fn megabytes(kilobytes: u64) -> f64 {
    kilobytes as f64 / 1024.0
}

fn main() {
    let length = soak_length();
    let org =
        mock_idp::org::parse_org("acme.toml", mock_idp::setup::BUILTIN_ORG, time::OffsetDateTime::now_utc()).unwrap();
    let credential = deterministic::signing(&org.name).unwrap();
    let idp = Arc::new(Idp::new(IdpConfig::serving(org, KeySource::Fixed(credential)).unwrap()));
    let server_runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let client_runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let rss_before_serving = support::status_kilobytes("VmRSS");
    let server = server_runtime.block_on(RunningServer::start("127.0.0.1:0".parse().unwrap(), idp.clone())).unwrap();
    let url = server.url();
    idp.write_org(|org| org.url = url);

    let counts = Arc::new(Counts::default());
    let start = Instant::now();
    let end = start + length;
    let mut loops = Vec::new();
    for _ in 0..2 {
        loops.push(client_runtime.spawn(saml_loop(server.addr, end, counts.clone())));
        loops.push(client_runtime.spawn(oidc_sign_in_loop(server.addr, end, counts.clone())));
        loops.push(client_runtime.spawn(token_loop(server.addr, end, counts.clone())));
    }
    // The samples are taken on this thread, at fixed moments, while the
    // loops run on the client runtime.
    let mut samples = Vec::new();
    for index in 1..=SAMPLES {
        let at = length.mul_f64(f64::from(index) / f64::from(SAMPLES));
        std::thread::sleep((start + at).saturating_duration_since(Instant::now()));
        samples.push(Sample {
            at: start.elapsed(),
            rss_kilobytes: support::status_kilobytes("VmRSS"),
            saml_responses: counts.saml_responses.load(Ordering::Relaxed),
            oidc_sign_ins: counts.oidc_sign_ins.load(Ordering::Relaxed),
            tokens: counts.tokens.load(Ordering::Relaxed),
        });
    }
    client_runtime.block_on(async {
        for handle in loops {
            handle.await.unwrap();
        }
    });
    server_runtime.block_on(server.stop()).unwrap();
    let elapsed = start.elapsed().as_secs_f64();
    let peak = support::status_kilobytes("VmHWM");

    let totals = samples.last().unwrap();
    println!("soak ({elapsed:.0} s of mixed traffic through HTTP, RSS sampled {SAMPLES} times)");
    println!(
        "  served: {} SAML responses ({:.0}/s), {} OIDC sign-ins ({:.0}/s), {} client-credentials tokens ({:.0}/s)",
        totals.saml_responses,
        totals.saml_responses as f64 / elapsed,
        totals.oidc_sign_ins,
        totals.oidc_sign_ins as f64 / elapsed,
        totals.tokens,
        totals.tokens as f64 / elapsed
    );
    println!("  RSS in MB before serving: {:.1}; peak {:.1}", megabytes(rss_before_serving), megabytes(peak));
    println!("  at second   RSS MB   SAML responses   OIDC sign-ins     tokens");
    for sample in &samples {
        println!(
            "  {:>9.1}   {:>6.1}   {:>14}   {:>13}   {:>8}",
            sample.at.as_secs_f64(),
            megabytes(sample.rss_kilobytes),
            sample.saml_responses,
            sample.oidc_sign_ins,
            sample.tokens
        );
    }
    let highest = samples.iter().map(|s| s.rss_kilobytes).max().unwrap();
    println!(
        "  limit {:.0} MB: {}",
        megabytes(RSS_LIMIT_KILOBYTES),
        if highest <= RSS_LIMIT_KILOBYTES { "kept" } else { "PASSED" }
    );
    assert!(highest <= RSS_LIMIT_KILOBYTES, "the RSS reached {:.1} MB", megabytes(highest));
    if length < 2 * WARM_UP {
        println!("  growth after the first minute: not judged (the run is shorter than two minutes)");
        return;
    }
    let after_warm_up: Vec<&Sample> = samples.iter().filter(|s| s.at >= WARM_UP).collect();
    let at_one_minute = after_warm_up[0].rss_kilobytes;
    let last = totals.rss_kilobytes;
    let growth = after_warm_up.iter().map(|s| s.rss_kilobytes).max().unwrap().saturating_sub(at_one_minute);
    println!(
        "  after the first minute: {:.1} MB at {:.0} s, {:.1} MB at the end, at most {:.1} MB above it (limit {:.0} MB): {}",
        megabytes(at_one_minute),
        after_warm_up[0].at.as_secs_f64(),
        megabytes(last),
        megabytes(growth),
        megabytes(GROWTH_LIMIT_KILOBYTES),
        if growth <= GROWTH_LIMIT_KILOBYTES { "flat" } else { "GROWING" }
    );
    assert!(growth <= GROWTH_LIMIT_KILOBYTES, "the RSS grew {:.1} MB after the first minute", megabytes(growth));
}
