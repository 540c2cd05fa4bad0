//! The layering rules of ARCHITECTURE.md that can be checked by reading the
//! source: protocol and model modules (`org/`, `saml/`, `oidc/`, `admin/`,
//! `ids.rs`) do no IO and read no clock, only `http/` knows axum, and only
//! `clock.rs` reads the system time.
//!
//! Were someone to write `use axum::Router;` in `src/saml/mod.rs`, the test
//! `only_http_knows_axum` would fail with:
//!
//! ```text
//! src/saml/mod.rs:12: `axum` outside http/: use axum::Router;
//! ```

use std::path::{Path, PathBuf};

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Every line of code (comments left out) in the crate's source that
/// mentions one of `words`, outside the files `allowed` accepts (paths
/// relative to `src/`, with `/`).
fn violations(words: &[&str], allowed: impl Fn(&str) -> bool) -> Vec<String> {
    let root = source_root();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        if allowed(&relative) {
            continue;
        }
        for (number, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for word in words {
                if code.contains(word) {
                    found.push(format!("src/{relative}:{}: `{word}`: {}", number + 1, code));
                }
            }
        }
    }
    found
}

fn is_pure(relative: &str) -> bool {
    ["org/", "saml/", "oidc/", "admin/"].iter().any(|dir| relative.starts_with(dir)) || relative == "ids.rs"
}

#[test]
fn only_http_knows_axum() {
    let found = violations(&["axum"], |file| file.starts_with("http/"));
    assert!(found.is_empty(), "axum outside http/:\n{}", found.join("\n"));
}

#[test]
fn protocol_and_model_modules_do_no_io() {
    let io = ["std::fs", "std::net", "std::env", "std::process", "tokio", "reqwest"];
    let found = violations(&io, |file| !is_pure(file));
    assert!(found.is_empty(), "IO in a pure module:\n{}", found.join("\n"));
}

#[test]
fn only_the_clock_reads_the_system_time() {
    let found = violations(&["now_utc", "SystemTime"], |file| file == "clock.rs");
    assert!(found.is_empty(), "the system time read outside clock.rs:\n{}", found.join("\n"));
    let system_clock = violations(&["SystemClock"], |file| !is_pure(file));
    assert!(system_clock.is_empty(), "a pure module picks its own clock:\n{}", system_clock.join("\n"));
}
