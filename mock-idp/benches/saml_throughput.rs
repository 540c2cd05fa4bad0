//! Signed SAML responses per second through HTTP, next to raw RSA-2048
//! signatures per second with the same key, measured in the same run.
//!
//! Run with `cargo bench -p mock-idp --bench saml_throughput`. Set
//! `MOCKTA_BENCH_SECONDS` to change how long each phase runs (default 3).
//! The HTTP load comes from clients in the same process, so client work
//! competes with the server for the same cores, as it would in CI.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mock_idp::http::RunningServer;
use mock_idp::idp::{Idp, IdpConfig, KeySource};
use mock_idp::keys::deterministic;

mod support;

/// Raw RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second over `threads`
/// threads, with OpenSSL, the library xmlsec signs with.
fn raw_signatures_per_second(key_pem: &str, threads: usize, duration: Duration) -> f64 {
    let key = openssl::pkey::PKey::private_key_from_pem(key_pem.as_bytes()).unwrap();
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let key = key.clone();
            let count = count.clone();
            scope.spawn(move || {
                let message = [7u8; 512];
                while start.elapsed() < duration {
                    let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key).unwrap();
                    signer.update(&message).unwrap();
                    std::hint::black_box(signer.sign_to_vec().unwrap());
                    count.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// Responses per second minted in-process (render, sign, no HTTP), over `threads` threads.
fn minted_per_second(idp: &Idp, app: &str, threads: usize, duration: Duration) -> f64 {
    let count = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while start.elapsed() < duration {
                    std::hint::black_box(idp.mint_saml(app, "alice@acme.test", None, None).unwrap());
                    count.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// IdP-initiated responses per second from `clients` concurrent keep-alive
/// connections.
async fn responses_per_second(server: &RunningServer, path: &str, clients: usize, duration: Duration) -> f64 {
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let addr = server.addr;
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
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let duration = support::phase_length();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let org =
        mock_idp::org::parse_org("acme.toml", mock_idp::setup::BUILTIN_ORG, time::OffsetDateTime::now_utc()).unwrap();
    let credential = deterministic::signing(&org.name).unwrap();
    let raw_one = raw_signatures_per_second(&credential.key_pem, 1, duration);
    let raw_all = raw_signatures_per_second(&credential.key_pem, cores, duration);

    let idp_for_mint = Idp::new(IdpConfig::serving(org.clone(), KeySource::Fixed(credential.clone())).unwrap());
    let minted_one = minted_per_second(&idp_for_mint, "assertion-signed", cores, duration);
    let minted_both = minted_per_second(&idp_for_mint, "reference-sp", cores, duration);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let idp = Arc::new(Idp::new(IdpConfig::serving(org, KeySource::Fixed(credential)).unwrap()));
    let results = runtime.block_on(async {
        let server = RunningServer::start("127.0.0.1:0".parse().unwrap(), idp.clone()).await.unwrap();
        let mut results = Vec::new();
        for (label, path, signatures) in [
            (
                "assertion signed (1 signature)",
                "/home/assertion-signed/0oaassertionsigned05?login_hint=alice@acme.test",
                1.0,
            ),
            ("both signed (2 signatures)", "/home/reference-sp/0oarefsp000000000001?login_hint=alice@acme.test", 2.0),
        ] {
            let rate = responses_per_second(&server, path, 8, duration).await;
            results.push((label, rate, signatures));
        }
        server.stop().await.unwrap();
        results
    });

    println!("saml_throughput ({cores} cores, {:.1} s per phase)", duration.as_secs_f64());
    println!("  raw RSA-2048 signatures/s, 1 thread:      {raw_one:>9.0}");
    println!("  raw RSA-2048 signatures/s, {cores} threads:     {raw_all:>9.0}   (baseline)");
    println!("  in-process responses/s, 1 signature:     {minted_one:>9.0}   ratio {:.2}", minted_one / raw_all);
    println!(
        "  in-process responses/s, 2 signatures:    {minted_both:>9.0}   ratio {:.2} (signatures {:.2})",
        minted_both / raw_all,
        2.0 * minted_both / raw_all
    );
    for (label, rate, signatures) in results {
        println!(
            "  HTTP responses/s, {label:<31} {rate:>9.0}   ratio to baseline {:.2} (signatures {:.2})",
            rate / raw_all,
            rate * signatures / raw_all
        );
    }
    println!("  target: HTTP responses/s at least 0.50 of the raw signature rate");
}
