//! Reference SP sign-ins per second through its ACS, next to raw RSA-2048
//! signature verifications per second with the same key, in the same run.
//!
//! Run with `cargo bench -p mockta --bench acs_throughput`. Responses are
//! minted by the mock IdP before timing starts; each sign-in verifies two
//! signatures (Response and Assertion) and writes a session and a replay
//! entry to SQLite with `synchronous=FULL`. `MOCKTA_BENCH_SECONDS` sets the
//! length of each phase (default 3).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mock_idp::idp::{Idp, IdpConfig, KeySource};

fn raw_verifications_per_second(key_pem: &str, threads: usize, duration: Duration) -> f64 {
    let key = openssl::pkey::PKey::private_key_from_pem(key_pem.as_bytes()).unwrap();
    let message = [7u8; 512];
    let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key).unwrap();
    signer.update(&message).unwrap();
    let signature = signer.sign_to_vec().unwrap();
    let public = openssl::pkey::PKey::public_key_from_pem(&key.public_key_to_pem().unwrap()).unwrap();
    let count = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while start.elapsed() < duration {
                    let mut verifier =
                        openssl::sign::Verifier::new(openssl::hash::MessageDigest::sha256(), &public).unwrap();
                    verifier.update(&message).unwrap();
                    assert!(verifier.verify(&signature).unwrap());
                    count.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let seconds: f64 = std::env::var("MOCKTA_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let duration = if quick { Duration::from_millis(200) } else { Duration::from_secs_f64(seconds) };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let org =
        mock_idp::org::parse_org("acme.toml", mock_idp::setup::BUILTIN_ORG, time::OffsetDateTime::now_utc()).unwrap();
    let key = mock_idp::keys::deterministic::signing(&org.name).unwrap();
    let key_pem = key.key_pem.to_string();
    let idp = Idp::new(IdpConfig::serving(org, KeySource::Fixed(key)).unwrap());
    let raw = raw_verifications_per_second(&key_pem, cores, duration);

    // Enough responses for the phase: minted before timing starts.
    let wanted = if quick { 200 } else { (raw * seconds) as usize / 2 + 1000 };
    let users = ["alice@acme.test", "bob@acme.test"];
    let responses: Arc<Vec<String>> = Arc::new(
        (0..wanted)
            .map(|i| {
                mock_idp::saml::form::base64(&idp.mint_saml("reference-sp", users[i % 2], None, None).unwrap().xml)
            })
            .collect(),
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("idp.xml"), idp.metadata("0oarefsp000000000001").unwrap()).unwrap();
    let config = reference_sp::config::BUILTIN_CONFIG
        .replace(
            "idp_metadata_url = \"http://127.0.0.1:7000/app/exkrefsp000000000001/sso/saml/metadata\"",
            "idp_metadata_file = \"idp.xml\"",
        )
        .replace(
            "database = \".local/reference-sp.sqlite3\"",
            &format!("database = \"{}\"", dir.path().join("sp.sqlite3").display()),
        );
    std::fs::write(dir.path().join("sp.toml"), config).unwrap();
    let options = reference_sp::setup::SpOptions { config: Some(dir.path().join("sp.toml")), ..Default::default() };

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (rate, used) = runtime.block_on(async {
        let sp = Arc::new(options.build().unwrap());
        reference_sp::idp_fetch::refresh_all(&sp).await;
        let server = reference_sp::http::RunningSp::start("127.0.0.1:0".parse().unwrap(), sp).await.unwrap();
        let url = format!("{}/sso/acs/acme", server.url());
        let next = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (url, next, done, responses) = (url.clone(), next.clone(), done.clone(), responses.clone());
            tasks.push(tokio::spawn(async move {
                let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
                while start.elapsed() < duration {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(response) = responses.get(index) else { break };
                    let reply = client.post(&url).form(&[("SAMLResponse", response.as_str())]).send().await.unwrap();
                    assert_eq!(reply.status(), 303, "{:?}", reply.headers().get("x-error-code"));
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let elapsed = start.elapsed().as_secs_f64();
        server.stop().await.unwrap();
        (done.load(Ordering::Relaxed) as f64 / elapsed, next.load(Ordering::Relaxed).min(responses.len()))
    });

    println!("acs_throughput ({cores} cores, {:.1} s per phase, {used} responses used)", duration.as_secs_f64());
    println!("  raw RSA-2048 verifications/s, {cores} threads: {raw:>9.0}   (baseline)");
    println!(
        "  ACS sign-ins/s (2 signatures each):      {rate:>9.0}   ratio {:.3} (signatures {:.3})",
        rate / raw,
        2.0 * rate / raw
    );
}
