//! Shared by the mock-idp benchmarks: the phase length, and a minimal
//! HTTP/1.1 client. The client is a bare reader rather than a full HTTP
//! library, so that as little of the shared CPU as possible goes to load
//! generation (client and server share the same cores, as they would in CI).

use std::time::Duration;

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
