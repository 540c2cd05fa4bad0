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
