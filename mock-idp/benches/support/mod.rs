//! Shared by the mock-idp benchmarks: the phase length, and a minimal
//! HTTP/1.1 client. The client is a bare reader rather than a full HTTP
//! library, so that as little of the shared CPU as possible goes to load
//! generation (client and server share the same cores, as they would in CI).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long each phase runs: `MOCKTA_BENCH_SECONDS` (default 3), or 0.2 s
/// when run by `cargo test --benches`, which passes no `--bench` flag.
pub(crate) fn phase_length() -> Duration {
    if !std::env::args().any(|a| a == "--bench") {
        return Duration::from_millis(200);
    }
    let secs = std::env::var("MOCKTA_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    Duration::from_secs_f64(secs)
}

/// Linux reports thread times in USER_HZ ticks, which it fixes at 100 on
/// x86 and ARM whatever the kernel's own tick rate.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds (user and system) used so far by the process's threads named
/// `name`, read from `/proc/self/task` as the reference SP's SCIM benchmark
/// does. Threads that have exited no longer count, so runtimes measured this
/// way keep their threads alive for the whole run.
#[allow(dead_code)] // Each benchmark uses a different part of this module.
pub(crate) fn cpu_seconds_of_threads(name: &str) -> f64 {
    let mut ticks = 0u64;
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let Ok(stat) = std::fs::read_to_string(task.unwrap().path().join("stat")) else { continue };
        // The name sits in parentheses and may hold spaces; the fields
        // after it are space-separated, utime and stime being the 12th and
        // 13th of them.
        let Some((head, rest)) = stat.rsplit_once(')') else { continue };
        let Some((_, comm)) = head.split_once('(') else { continue };
        if comm != name {
            continue;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        ticks += fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    }
    ticks as f64 / TICKS_PER_SECOND
}

/// CPU seconds (user and system) the calling thread has used so far.
#[allow(dead_code)] // Each benchmark uses a different part of this module.
pub(crate) fn cpu_seconds_of_this_thread() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let (_, rest) = stat.rsplit_once(')').unwrap();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    (fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()) as f64 / TICKS_PER_SECOND
}

/// A rate per second of wall time, and per CPU-second of the threads that
/// did the work.
#[derive(Clone, Copy)]
pub(crate) struct Rate {
    pub per_second: f64,
    pub per_cpu_second: f64,
}

/// Runs `work` on `threads` threads for `duration`, each thread with its
/// own state from `make_work`; each thread reads its own CPU time as it
/// finishes.
pub(crate) fn threaded_rate<W: FnMut()>(threads: usize, duration: Duration, make_work: impl Fn() -> W + Sync) -> Rate {
    let count = AtomicU64::new(0);
    let start = Instant::now();
    let cpu: f64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let cpu_before = cpu_seconds_of_this_thread();
                    let mut work = make_work();
                    while start.elapsed() < duration {
                        work();
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    cpu_seconds_of_this_thread() - cpu_before
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap()).sum()
    });
    let done = count.load(Ordering::Relaxed) as f64;
    Rate { per_second: done / start.elapsed().as_secs_f64(), per_cpu_second: done / cpu.max(f64::EPSILON) }
}

/// The message the raw baselines sign: about a SignedInfo's or an ID
/// token's signing input.
pub(crate) const RAW_MESSAGE: [u8; 700] = [b'e'; 700];

/// Raw RSA-2048 PKCS#1 v1.5 SHA-256 signatures with OpenSSL (the library
/// libxmlsec1 signs with), the key parsed once.
pub(crate) fn openssl_rate(key_pem: &str, threads: usize, duration: Duration) -> Rate {
    let key = openssl::pkey::PKey::private_key_from_pem(key_pem.as_bytes()).unwrap();
    threaded_rate(threads, duration, || {
        let key = key.clone();
        move || {
            let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key).unwrap();
            signer.update(&RAW_MESSAGE).unwrap();
            std::hint::black_box(signer.sign_to_vec().unwrap());
        }
    })
}

/// The same with aws-lc-rs (what the mock signs tokens and rendered
/// responses with), the key parsed once.
pub(crate) fn aws_lc_rate(key_pem: &str, threads: usize, duration: Duration) -> Rate {
    let der = rcgen::KeyPair::from_pem(key_pem).unwrap().serialize_der();
    let pair = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    let random = aws_lc_rs::rand::SystemRandom::new();
    threaded_rate(threads, duration, || {
        || {
            let mut signature = vec![0; pair.public_modulus_len()];
            pair.sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &random, &RAW_MESSAGE, &mut signature).unwrap();
            std::hint::black_box(signature);
        }
    })
}

/// A line of `/proc/self/status` in kilobytes (`VmRSS`, `VmHWM`).
#[allow(dead_code)] // Each benchmark uses a different part of this module.
pub(crate) fn status_kilobytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|line| line.starts_with(&format!("{field}:"))).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A response: the status code, the head as sent, and the body.
#[allow(dead_code)] // Each benchmark uses a different part of it.
pub(crate) struct Reply {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

#[allow(dead_code)] // Each benchmark uses a different part of it.
impl Reply {
    /// A header's value; names compare without regard to case.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (found, value) = line.split_once(':')?;
            found.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// Sends one request on a keep-alive connection and reads the whole response
/// (responses always carry Content-Length here).
pub(crate) async fn exchange(stream: &mut TcpStream, request: &[u8], buffer: &mut Vec<u8>) -> Reply {
    stream.write_all(request).await.unwrap();
    buffer.clear();
    let mut chunk = [0u8; 16 * 1024];
    let (header_end, length) = loop {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "server closed the connection");
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_lowercase();
            let length: usize =
                head.lines().find_map(|l| l.strip_prefix("content-length:")).map_or(0, |v| v.trim().parse().unwrap());
            break (end + 4, length);
        }
    };
    while buffer.len() < header_end + length {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "server closed the connection");
        buffer.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buffer[..header_end]).into_owned();
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    Reply { status, head, body: buffer[header_end..header_end + length].to_vec() }
}

/// The Basic credentials of client `id`.
#[allow(dead_code)] // Each benchmark uses a different part of this module.
pub(crate) fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
}

/// A form POST to `path` with Basic `credentials`.
#[allow(dead_code)] // Each benchmark uses a different part of this module.
pub(crate) fn post(addr: std::net::SocketAddr, path: &str, credentials: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {credentials}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A client-credentials grant on the `default` custom authorization server
/// for the built-in org's service app, asking for `mockta.read`.
#[allow(dead_code)] // Each benchmark uses a different part of this module.
pub(crate) fn client_credentials_request(addr: std::net::SocketAddr) -> Vec<u8> {
    post(
        addr,
        "/oauth2/default/v1/token",
        &basic(SERVICE, SERVICE_SECRET),
        "grant_type=client_credentials&scope=mockta.read",
    )
}

/// The built-in org's service app and its secret.
#[allow(dead_code)] // Each benchmark uses a different part of this module.
pub(crate) const SERVICE: &str = "0oaservice0000000009";
#[allow(dead_code)] // Each benchmark uses a different part of this module.
pub(crate) const SERVICE_SECRET: &str = "mockta-dev-service-secret";
