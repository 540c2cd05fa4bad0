//! The layering rules of ARCHITECTURE.md that a machine can check, read from
//! the source files themselves:
//!
//! - only `http/` modules know axum;
//! - only the SQLite store module knows rusqlite;
//! - only the clock modules read the system clock;
//! - protocol and model modules do no IO: no files, sockets, environment,
//!   processes, tokio or reqwest (only transport and setup modules do).
//!
//! A break names the file, the line and the rule. For example, a
//! `use axum::Json;` added to `mock-idp/src/saml/response.rs` fails
//! `the_workspace_keeps_its_layers` with:
//!
//! ```text
//! mock-idp/src/saml/response.rs:3: axum outside an http module: `use axum::Json;`
//! ```

use std::path::{Path, PathBuf};

/// One rule: a pattern that may appear only under the allowed paths.
struct Rule {
    what: &'static str,
    pattern: &'static str,
    /// The paths where the rule applies (prefixes, relative to the workspace).
    applies_to: &'static [&'static str],
    /// Prefixes where the pattern is allowed.
    allowed_in: &'static [&'static str],
}

/// The modules that hold protocol logic or the model: pure, with time, keys
/// and config passed in.
const PROTOCOL_MODULES: &[&str] = &[
    "mock-idp/src/saml/",
    "mock-idp/src/oidc/",
    "mock-idp/src/org/",
    "mock-idp/src/admin/",
    "mock-idp/src/scim/",
    "mock-idp/src/ids.rs",
    "reference-sp/src/saml/",
    "reference-sp/src/oidc/",
    "reference-sp/src/scim/",
    "reference-sp/src/sign_in.rs",
    "reference-sp/src/email.rs",
    "conformance/src/catalogue/",
    "conformance/src/explain/",
    "conformance/src/init.rs",
];

const RULES: &[Rule] = &[
    Rule {
        what: "axum outside an http module",
        pattern: r"\baxum::|\buse axum\b",
        applies_to: &["mock-idp/src/", "reference-sp/src/", "conformance/src/"],
        allowed_in: &["mock-idp/src/http/", "reference-sp/src/http/"],
    },
    Rule {
        what: "rusqlite outside the SQLite store",
        pattern: r"\brusqlite\b",
        applies_to: &["mock-idp/src/", "reference-sp/src/", "conformance/src/", "src/"],
        allowed_in: &["reference-sp/src/store/sqlite/"],
    },
    Rule {
        what: "a read of the system clock outside a clock module",
        pattern: r"SystemTime::now|OffsetDateTime::now_utc|OffsetDateTime::now_local|\bUtc::now",
        applies_to: &["mock-idp/src/", "reference-sp/src/", "conformance/src/"],
        allowed_in: &["mock-idp/src/clock.rs", "reference-sp/src/clock.rs"],
    },
    Rule {
        what: "IO in a protocol module",
        // `std::{fs, ...}` and a bare `fs::` (after `use std::fs`) count too.
        pattern: r"std::(fs|net|env|process)\b|std::\{[^}]*\b(fs|net|env|process)\b|(^|[^:\w])(fs|net)::|\btokio\b|\breqwest\b",
        applies_to: PROTOCOL_MODULES,
        allowed_in: &[],
    },
];

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The code of a line, without a `//` comment (doc comments may name what
/// the code must not use).
fn code_of(line: &str) -> &str {
    match line.find("//") {
        Some(at) => &line[..at],
        None => line,
    }
}

/// The breaks of every rule under `root`, as `path:line: rule: code`.
fn breaks(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for top in ["mock-idp/src", "reference-sp/src", "conformance/src", "src"] {
        rust_files(&root.join(top), &mut files);
    }
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(root).unwrap_or(&file).to_string_lossy().replace('\\', "/");
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        for rule in RULES {
            if !rule.applies_to.iter().any(|p| relative.starts_with(p))
                || rule.allowed_in.iter().any(|p| relative.starts_with(p))
            {
                continue;
            }
            let pattern = regex::Regex::new(rule.pattern).unwrap();
            for (number, line) in text.lines().enumerate() {
                if pattern.is_match(code_of(line)) {
                    found.push(format!("{relative}:{}: {}: `{}`", number + 1, rule.what, line.trim()));
                }
            }
        }
    }
    // Folders are read in no set order; sorted, a report reads the same twice.
    found.sort();
    found
}

#[test]
fn the_workspace_keeps_its_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = breaks(root);
    assert!(found.is_empty(), "layering broken:\n{}", found.join("\n"));
}

#[test]
fn an_axum_import_in_a_protocol_module_is_caught() {
    // The same scan over a small tree that breaks two rules, so the test
    // above is known to be able to fail.
    let dir = tempfile::tempdir().unwrap();
    let saml = dir.path().join("mock-idp/src/saml");
    std::fs::create_dir_all(&saml).unwrap();
    std::fs::write(saml.join("response.rs"), "//! Only http knows axum.\n\nuse axum::Json;\n").unwrap();
    let scim = dir.path().join("reference-sp/src/scim");
    std::fs::create_dir_all(&scim).unwrap();
    std::fs::write(scim.join("mod.rs"), "fn fetch() { let _ = reqwest::Client::new(); }\n").unwrap();
    let org = dir.path().join("mock-idp/src/org");
    std::fs::create_dir_all(&org).unwrap();
    std::fs::write(org.join("mod.rs"), "use std::{collections::BTreeMap, fs};\nfn f() { fs::read(\"x\"); }\n").unwrap();
    let found = breaks(dir.path());
    assert_eq!(
        found,
        vec![
            "mock-idp/src/org/mod.rs:1: IO in a protocol module: `use std::{collections::BTreeMap, fs};`".to_owned(),
            "mock-idp/src/org/mod.rs:2: IO in a protocol module: `fn f() { fs::read(\"x\"); }`".to_owned(),
            "mock-idp/src/saml/response.rs:3: axum outside an http module: `use axum::Json;`".to_owned(),
            "reference-sp/src/scim/mod.rs:1: IO in a protocol module: `fn fetch() { let _ = reqwest::Client::new(); }`"
                .to_owned(),
        ]
    );
}
