//! Architecture invariants that a compiler cannot check: the core stays pure.
//!
//! `jarvis-core` may not depend on a network, database or HTTP crate, and its
//! sources may not reach for the file system, processes, the environment or
//! the tokio runtime. Adapters and binaries own all I/O.

use std::fs;
use std::path::{Path, PathBuf};

const FORBIDDEN_CRATES: &[&str] = &[
    "sqlx",
    "reqwest",
    "russh",
    "russh-keys",
    "axum",
    "hyper",
    "tower",
    "tower-http",
    "tonic",
    "rusqlite",
    "tokio-postgres",
    "postgres",
    "redis",
    "ureq",
    "surf",
    "isahc",
    "curl",
    "ssh2",
    "mio",
    "socket2",
];

/// Tokio features the core may use: timers and synchronisation, never I/O or spawning.
const ALLOWED_TOKIO_FEATURES: &[&str] = &["sync", "time"];

const FORBIDDEN_SOURCE: &[&str] = &[
    "std::fs",
    "std::process",
    "std::env",
    "std::net",
    "tokio::spawn",
    "tokio::fs",
    "tokio::net",
    "tokio::process",
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository root")
        .to_path_buf()
}

fn core_manifest() -> toml::Table {
    let text = fs::read_to_string(repo_root().join("jarvis-core/Cargo.toml")).unwrap();
    text.parse().unwrap()
}

#[test]
fn core_depends_on_no_io_crate() {
    let manifest = core_manifest();
    let deps = manifest["dependencies"].as_table().unwrap();
    let offending: Vec<&String> = deps
        .keys()
        .filter(|name| FORBIDDEN_CRATES.contains(&name.as_str()))
        .collect();
    assert!(
        offending.is_empty(),
        "jarvis-core must stay pure, but depends on {offending:?}; put I/O in jarvis-adapters"
    );
}

#[test]
fn core_uses_tokio_only_for_time_and_sync() {
    let manifest = core_manifest();
    let tokio = &manifest["dependencies"]["tokio"];
    let features: Vec<&str> = tokio
        .get("features")
        .and_then(|f| f.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    for feature in &features {
        assert!(
            ALLOWED_TOKIO_FEATURES.contains(feature),
            "jarvis-core enables tokio feature {feature:?}; only {ALLOWED_TOKIO_FEATURES:?} are allowed"
        );
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn core_sources_do_no_io() {
    let mut files = Vec::new();
    rust_files(&repo_root().join("jarvis-core/src"), &mut files);
    assert!(files.len() > 5, "found the core sources");
    let mut offending = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for needle in FORBIDDEN_SOURCE {
                if code.contains(needle) {
                    offending.push(format!("{}:{}: {needle}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        offending.is_empty(),
        "jarvis-core must not do I/O:\n{}",
        offending.join("\n")
    );
}

#[test]
fn the_checker_itself_catches_a_violation() {
    // Guard against a vacuous test: the same scan flags a forbidden line.
    let line = "use std::fs::read_to_string;";
    assert!(FORBIDDEN_SOURCE.iter().any(|n| line.contains(n)));
    let manifest: toml::Table = "[dependencies]\nsqlx = \"0.9\"".parse().unwrap();
    assert!(
        manifest["dependencies"]
            .as_table()
            .unwrap()
            .keys()
            .any(|k| FORBIDDEN_CRATES.contains(&k.as_str()))
    );
}
