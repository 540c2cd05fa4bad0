//! Tokens per second from the token endpoint, next to raw RS256 signatures
//! per second with the same key, measured in the same run.
//!
//! Two phases through HTTP:
//! - code exchange on the org authorization server: each round trip is an
//!   `/authorize` (headless, `login_hint`) and a `/token`, and yields one
//!   signed ID token (org access tokens are opaque, so one signature);
//! - client credentials on the `default` server: each `/token` yields one
//!   signed access token.
//!
//! Run with `cargo bench -p mock-idp --bench oidc_throughput`. Set
//! `MOCKTA_BENCH_SECONDS` to change how long each phase runs (default 3).
//! The target is at least half the raw signature rate on 2 cores.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use mock_idp::http::RunningServer;
use mock_idp::idp::{Idp, IdpConfig, KeySource};
use mock_idp::keys::deterministic;

/// Raw RS256 signatures per second over `threads` threads, with the same
/// jsonwebtoken call the mock signs with.
fn raw_signatures_per_second(key_pem: &str, threads: usize, duration: Duration) -> f64 {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(key_pem.as_bytes()).unwrap();
    let count = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                // About the size of a signing input for an ID token.
                let message = [b'e'; 700];
                while start.elapsed() < duration {
                    std::hint::black_box(
                        jsonwebtoken::crypto::sign(&message, &key, jsonwebtoken::Algorithm::RS256).unwrap(),
                    );
                    count.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

const WEB: &str = "0oarefspoidc00000007";
const WEB_REDIRECT: &str = "http://127.0.0.1:7100/oidc/callback/acme";

fn basic(id: &str, secret: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
}

fn post(addr: std::net::SocketAddr, path: &str, authorization: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {authorization}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Code exchanges per second: `/authorize` then `/token`, each yielding one ID token.
async fn code_exchanges_per_second(server: &RunningServer, clients: usize, duration: Duration) -> f64 {
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let addr = server.addr;
        let count = count.clone();
        tasks.push(tokio::spawn(async move {
            let redirect: String = url::form_urlencoded::byte_serialize(WEB_REDIRECT.as_bytes()).collect();
            let authorize = format!(
                "GET /oauth2/v1/authorize?client_id={WEB}&redirect_uri={redirect}&response_type=code&scope=openid&state=s&nonce=n&login_hint=alice%40acme.test HTTP/1.1\r\nHost: {addr}\r\n\r\n"
            )
            .into_bytes();
            let credentials = basic(WEB, "mockta-dev-oidc-secret");
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut buffer = Vec::with_capacity(16 * 1024);
            while start.elapsed() < duration {
                let reply = support::exchange(&mut stream, &authorize, &mut buffer).await;
                assert_eq!(reply.status, 302, "{}", reply.head);
                let location = reply.header("location").unwrap().to_owned();
                let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned();
                let body = format!("grant_type=authorization_code&code={code}&redirect_uri={redirect}");
                let request = post(addr, "/oauth2/v1/token", &credentials, &body);
                let reply = support::exchange(&mut stream, &request, &mut buffer).await;
                assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
                assert!(reply.body.windows(10).any(|w| w == b"\"id_token\""));
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// Client-credentials grants per second, each yielding one signed access token.
async fn client_credentials_per_second(server: &RunningServer, clients: usize, duration: Duration) -> f64 {
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let addr = server.addr;
        let count = count.clone();
        tasks.push(tokio::spawn(async move {
            let request = post(
                addr,
                "/oauth2/default/v1/token",
                &basic("0oaservice0000000009", "mockta-dev-service-secret"),
                "grant_type=client_credentials&scope=mockta.read",
            );
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut buffer = Vec::with_capacity(16 * 1024);
            while start.elapsed() < duration {
                let reply = support::exchange(&mut stream, &request, &mut buffer).await;
                assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
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
    // In Fixed key mode the RS256 servers sign with this key, so the raw
    // baseline and the server use the very same key.
    let credential = deterministic::signing(&org.name).unwrap();
    let raw = raw_signatures_per_second(&credential.key_pem, cores, duration);

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let idp = Arc::new(Idp::new(IdpConfig::serving(org, KeySource::Fixed(credential)).unwrap()));
    let (exchanges, grants) = runtime.block_on(async {
        let server = RunningServer::start("127.0.0.1:0".parse().unwrap(), idp.clone()).await.unwrap();
        let url = server.url();
        idp.write_org(|org| org.url = url);
        let exchanges = code_exchanges_per_second(&server, 8, duration).await;
        let grants = client_credentials_per_second(&server, 8, duration).await;
        server.stop().await.unwrap();
        (exchanges, grants)
    });

    println!("oidc_throughput ({cores} cores, {:.1} s per phase)", duration.as_secs_f64());
    println!("  raw RS256 signatures/s, {cores} threads:            {raw:>9.0}   (baseline)");
    println!("  ID tokens/s, code exchange (authorize + token): {exchanges:>9.0}   ratio {:.2}", exchanges / raw);
    println!("  access tokens/s, client credentials:            {grants:>9.0}   ratio {:.2}", grants / raw);
    println!("  target: tokens/s at least 0.50 of the raw signature rate");
}
