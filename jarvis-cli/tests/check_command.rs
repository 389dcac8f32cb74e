//! `jarvis check-command` end to end: exit codes and the JSON line.

use std::io::Write as _;
use std::process::{Command, Output};

fn jarvis(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jarvis"))
        .args(args)
        .output()
        .expect("run the jarvis binary")
}

fn verdict(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().next().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn config(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    f.write_all(text.as_bytes()).expect("write config");
    f
}

#[test]
fn allowed_command_exits_zero_with_json() {
    let out = jarvis(&["check-command", "--", "df", "-h"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = verdict(&out);
    assert_eq!(v["verdict"], "allow");
    assert_eq!(v["class"], "diagnostic");
    assert_eq!(v["rule"], "diagnostic");
    assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn remediation_is_allowed_too() {
    let out = jarvis(&[
        "check-command",
        "--host",
        "nas",
        "--",
        "systemctl restart nginx",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = verdict(&out);
    assert_eq!(v["class"], "remediation");
    assert_eq!(v["rule"], "service-control");
}

#[test]
fn recursive_delete_is_refused() {
    let out = jarvis(&["check-command", "--", "rm", "-rf", "/"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let v = verdict(&out);
    assert_eq!(v["verdict"], "refuse");
    assert_eq!(v["rule"], "recursive-delete");
}

#[test]
fn unclassified_needs_approval() {
    let out = jarvis(&["check-command", "--", "/usr/local/bin/backup-immich.sh"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let v = verdict(&out);
    assert_eq!(v["verdict"], "approve");
    assert_eq!(v["rule"], "unclassified");
}

#[test]
fn host_allow_rule_from_config() {
    let cfg = config(
        r#"
[server]
listen = "127.0.0.1:8080"

[[hosts]]
name = "nas"
address = "10.0.0.5"

[[hosts]]
name = "pi"
address = "10.0.0.6"

[safety.hosts.nas]
allow = ['^/usr/local/bin/backup-(immich|nextcloud)\.sh$']
"#,
    );
    let path = cfg.path().to_str().unwrap();
    let script = "/usr/local/bin/backup-immich.sh";
    let out = jarvis(&[
        "check-command",
        "--config",
        path,
        "--host",
        "nas",
        "--",
        script,
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(verdict(&out)["rule"], "host-allow");

    let out = jarvis(&[
        "check-command",
        "--config",
        path,
        "--host",
        "pi",
        "--",
        script,
    ]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(verdict(&out)["verdict"], "approve");

    let out = jarvis(&[
        "check-command",
        "--config",
        path,
        "--host",
        "nowhere",
        "--",
        "df",
    ]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(verdict(&out)["rule"], "unknown-host");
}

#[test]
fn bad_regex_in_config_exits_two_naming_the_key() {
    let cfg = config(
        r#"
[[hosts]]
name = "nas"

[safety.hosts.nas]
allow = ["ok", "("]
"#,
    );
    let out = jarvis(&[
        "check-command",
        "--config",
        cfg.path().to_str().unwrap(),
        "--",
        "df",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("safety.hosts.nas.allow[1]"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn unknown_safety_key_is_an_error() {
    let cfg = config("[safety]\nunclasified = \"refuse\"\n");
    let out = jarvis(&[
        "check-command",
        "--config",
        cfg.path().to_str().unwrap(),
        "--",
        "df",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("unclasified"));
}

#[test]
fn missing_command_is_a_usage_error() {
    let out = jarvis(&["check-command"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = jarvis(&["check-command", "--host", "nas"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
