//! What the SCIM benchmarks share: the raw SQLite commit rate that is their
//! baseline, and the server's CPU time read from its threads. The root
//! package's provisioning benchmark includes this file by path, so both
//! measure the same way.

use std::time::{Duration, Instant};

/// The name of every thread of the server's runtime.
pub(crate) const SERVER_THREAD_NAME: &str = "sp-server";

/// Linux reports thread times in USER_HZ ticks, which it fixes at 100 on
/// x86 and ARM whatever the kernel's own tick rate.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds (user and system) used so far by the process's threads named
/// `name`, and by the store's writer thread, which runs the server's queued
/// writes. Threads that have exited no longer count, so the server's
/// blocking pool is kept alive for the whole run.
pub(crate) fn cpu_seconds_of_threads(name: &str) -> f64 {
    cpu_seconds_of_threads_named(name) + cpu_seconds_of_threads_named(reference_sp::store::sqlite::WRITER_THREAD_NAME)
}

/// CPU seconds (user and system) used so far by the process's threads named
/// exactly `name`.
pub(crate) fn cpu_seconds_of_threads_named(name: &str) -> f64 {
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

/// Single-row INSERT transactions per second, as durable as the store's.
pub(crate) fn raw_commits_per_second(dir: &std::path::Path, duration: Duration) -> f64 {
    let connection = rusqlite::Connection::open(dir.join("raw.sqlite3")).unwrap();
    connection.pragma_update(None, "journal_mode", "WAL").unwrap();
    connection.pragma_update(None, "synchronous", "FULL").unwrap();
    connection.execute_batch("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").unwrap();
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < duration {
        connection.execute("INSERT INTO t (body) VALUES (?1)", [format!("row {count}")]).unwrap();
        count += 1;
    }
    count as f64 / start.elapsed().as_secs_f64()
}

/// A keep-alive HTTP/1.1 connection that sends prepared requests and reads
/// whole responses (the server always sends Content-Length): a load
/// generator as light as possible, so that the cores it shares with the
/// server go to the server, as in the mock-idp benchmarks.
#[allow(dead_code)] // Not every benchmark that includes this file uses it.
pub(crate) struct BareConnection {
    stream: tokio::net::TcpStream,
    buffer: Vec<u8>,
}

#[allow(dead_code)] // Not every benchmark that includes this file uses it.
impl BareConnection {
    pub(crate) async fn connect(address: std::net::SocketAddr) -> Self {
        let stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream.set_nodelay(true).unwrap();
        BareConnection { stream, buffer: Vec::with_capacity(16 * 1024) }
    }

    /// Sends `request` and returns the response's status and body.
    pub(crate) async fn exchange(&mut self, request: &[u8]) -> (u16, &[u8]) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        self.stream.write_all(request).await.unwrap();
        self.buffer.clear();
        let mut chunk = [0u8; 16 * 1024];
        let (body_start, length) = loop {
            let n = self.stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the server closed the connection");
            self.buffer.extend_from_slice(&chunk[..n]);
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buffer[..end]).to_lowercase();
                let length = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .map_or(0, |value| value.trim().parse().unwrap());
                break (end + 4, length);
            }
        };
        while self.buffer.len() < body_start + length {
            let n = self.stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the server closed the connection");
            self.buffer.extend_from_slice(&chunk[..n]);
        }
        let status = std::str::from_utf8(&self.buffer[9..12]).unwrap().parse().unwrap();
        (status, &self.buffer[body_start..body_start + length])
    }
}

/// An HTTP/1.1 request with the SCIM bearer token, and a SCIM JSON body
/// when given.
#[allow(dead_code)] // Not every benchmark that includes this file uses it.
pub(crate) fn scim_request(method: &str, host: &str, path: &str, token: &str, body: Option<&str>) -> Vec<u8> {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n");
    if let Some(body) = body {
        request
            .push_str(&format!("Content-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
    } else {
        request.push_str("\r\n");
    }
    request.into_bytes()
}
