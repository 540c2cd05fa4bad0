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
    let mut ticks = 0u64;
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let Ok(stat) = std::fs::read_to_string(task.unwrap().path().join("stat")) else { continue };
        // The name sits in parentheses and may hold spaces; the fields
        // after it are space-separated, utime and stime being the 12th and
        // 13th of them.
        let Some((head, rest)) = stat.rsplit_once(')') else { continue };
        let Some((_, comm)) = head.split_once('(') else { continue };
        if comm != name && comm != reference_sp::store::sqlite::WRITER_THREAD_NAME {
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
