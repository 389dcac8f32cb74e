//! `jarvis config check` against real files.

use std::process::Command;

fn jarvis() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jarvis"));
    // The test's own environment must not leak configuration in.
    for (key, _) in std::env::vars() {
        if key.starts_with("JARVIS_")
            || [
                "DATABASE_URL",
                "ANTHROPIC_API_KEY",
                "DISCORD_WEBHOOK_URL",
                "PROMETHEUS_URL",
                "WEBHOOK_AUTH_PASSWORD",
            ]
            .contains(&key.as_str())
        {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("jarvis-config-check-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("jarvis.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_shipped_example_is_valid() {
    // Paths in the example (runbooks, seeds) are relative to the repository root.
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = jarvis()
        .current_dir(root)
        .args([
            "config",
            "check",
            "--json",
            "--config",
            "examples/jarvis.toml",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(
        out.status.code(),
        Some(2),
        "example config invalid: {stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["items"].as_array().is_some_and(|i| !i.is_empty()));
}

#[test]
fn an_invalid_config_lists_every_problem_by_key() {
    let path = temp_file(
        "invalid",
        "[pipeline]\nmax_attempts = 0\nmin_plan_confidence = 7.0\n",
    );
    let out = jarvis()
        .args(["config", "check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pipeline.max_attempts"), "{stderr}");
    assert!(stderr.contains("pipeline.min_plan_confidence"), "{stderr}");
}

#[test]
fn an_unreachable_integration_fails_the_check() {
    // Nothing listens on port 1 of the loopback address.
    let path = temp_file(
        "unreachable",
        "[prometheus]\nurl = \"http://127.0.0.1:1\"\n",
    );
    let out = jarvis()
        .args(["config", "check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL"), "{stdout}");
}
