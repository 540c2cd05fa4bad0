//! Signed SAML responses per second and per server CPU-second, next to the
//! machine's fastest raw RSA-2048 signing with the same key, measured in the
//! same run.
//!
//! Baselines, each on every core with the key parsed once: OpenSSL (`PKey`,
//! what libxmlsec1 signs with) and aws-lc-rs (`RsaKeyPair`, what the mock's
//! own signer uses), per second and per CPU-second of the signing threads;
//! the fastest per CPU-second is the baseline.
//!
//! Then responses minted in-process (`Idp::mint_saml`: render, sign, no
//! HTTP), per CPU-second of the minting threads, and IdP-initiated
//! responses through HTTP, per server CPU-second: the server runs on a
//! runtime of its own whose threads are named `idp-server`, and their CPU
//! time is read from `/proc/self/task`, so the load generator sharing the
//! machine does not count. Each response carries one signature (Assertion
//! signed) or two (Response and Assertion signed). The ratio is signatures
//! per CPU-second over raw signatures per core-second; the target is at
//! least 0.8 for both-signed responses through HTTP.
//!
//! Run with `cargo bench -p mock-idp --bench saml_throughput`. Set
//! `MOCKTA_BENCH_SECONDS` to change how long each phase runs (default 3).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mock_idp::http::RunningServer;
use mock_idp::idp::{Idp, IdpConfig, KeySource};
use mock_idp::keys::deterministic;
use support::{Rate, aws_lc_rate, openssl_rate, threaded_rate};

mod support;

/// The name of every thread of the server's runtime.
const SERVER_THREAD_NAME: &str = "idp-server";
/// The target ratio of signatures per server CPU-second to raw signatures
/// per core-second, for both-signed responses.
const TARGET_RATIO: f64 = 0.8;

/// Responses minted in-process (render, sign, no HTTP).
fn minted_rate(idp: &Idp, app: &str, threads: usize, duration: Duration) -> Rate {
    threaded_rate(threads, duration, || {
        || {
            std::hint::black_box(idp.mint_saml(app, "alice@acme.test", None, None).unwrap());
        }
    })
}

/// IdP-initiated responses from `clients` concurrent keep-alive
/// connections, per second and per server CPU-second.
async fn http_rate(addr: std::net::SocketAddr, path: &str, clients: usize, duration: Duration) -> Rate {
    let count = Arc::new(AtomicU64::new(0));
    let server_cpu_before = support::cpu_seconds_of_threads(SERVER_THREAD_NAME);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes();
        let count = count.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut buffer = Vec::with_capacity(32 * 1024);
            while start.elapsed() < duration {
                let reply = support::exchange(&mut stream, &request, &mut buffer).await;
                assert_eq!(reply.status, 200, "{}", reply.head);
                assert!(reply.body.len() > 1000);
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let server_cpu = support::cpu_seconds_of_threads(SERVER_THREAD_NAME) - server_cpu_before;
    let done = count.load(Ordering::Relaxed) as f64;
    Rate { per_second: done / elapsed, per_cpu_second: done / server_cpu.max(f64::EPSILON) }
}

fn main() {
    let duration = support::phase_length();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let org =
        mock_idp::org::parse_org("acme.toml", mock_idp::setup::BUILTIN_ORG, time::OffsetDateTime::now_utc()).unwrap();
    let credential = deterministic::signing(&org.name).unwrap();
    let openssl = openssl_rate(&credential.key_pem, cores, duration);
    let aws_lc = aws_lc_rate(&credential.key_pem, cores, duration);
    let (baseline_name, baseline) =
        if openssl.per_cpu_second >= aws_lc.per_cpu_second { ("OpenSSL", openssl) } else { ("aws-lc-rs", aws_lc) };

    let idp_for_mint = Idp::new(IdpConfig::serving(org.clone(), KeySource::Fixed(credential.clone())).unwrap());
    let minted_one = minted_rate(&idp_for_mint, "assertion-signed", cores, duration);
    let minted_both = minted_rate(&idp_for_mint, "reference-sp", cores, duration);

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
    let server = server_runtime.block_on(RunningServer::start("127.0.0.1:0".parse().unwrap(), idp.clone())).unwrap();
    let mut http = Vec::new();
    for (label, path, signatures) in [
        ("HTTP, 1 signature", "/home/assertion-signed/0oaassertionsigned05?login_hint=alice@acme.test", 1.0),
        ("HTTP, 2 signatures", "/home/reference-sp/0oarefsp000000000001?login_hint=alice@acme.test", 2.0),
    ] {
        let rate = client_runtime.block_on(http_rate(server.addr, path, 8, duration));
        http.push((label, rate, signatures));
    }
    server_runtime.block_on(server.stop()).unwrap();

    let per_core = baseline.per_cpu_second;
    println!("saml_throughput ({cores} cores, {:.1} s per phase)", duration.as_secs_f64());
    for (name, rate) in [("OpenSSL", openssl), ("aws-lc-rs", aws_lc)] {
        println!(
            "  raw RSA-2048 signatures, {name:<9} on {cores} threads: {:>7.0}/s {:>7.0} per core-second",
            rate.per_second, rate.per_cpu_second
        );
    }
    println!("  baseline: {baseline_name}, {per_core:.0} signatures per core-second");
    for (label, rate, signatures) in
        [("in-process, 1 signature", minted_one, 1.0), ("in-process, 2 signatures", minted_both, 2.0)]
            .into_iter()
            .chain(http.iter().map(|(label, rate, signatures)| (*label, *rate, *signatures)))
    {
        println!(
            "  {label:<28} {:>7.0} responses/s {:>7.0} per CPU-second   per signature {:.2}",
            rate.per_second,
            rate.per_cpu_second,
            rate.per_cpu_second * signatures / per_core
        );
    }
    let both = http
        .iter()
        .find(|(_, _, signatures)| *signatures == 2.0)
        .map_or(0.0, |(_, rate, _)| rate.per_cpu_second * 2.0 / per_core);
    println!(
        "  target: both-signed through HTTP at least {TARGET_RATIO:.2} per signature per server CPU-second: {both:.2}, {}",
        if both >= TARGET_RATIO { "met" } else { "not met" }
    );
}
