//! `jarvis simulate` and `jarvis replay`, run as the built binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn jarvis(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jarvis"))
        .args(args)
        .output()
        .expect("the jarvis binary runs")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document: {e}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn simulate(paths: &[&str]) -> Output {
    let runbooks = repo().join("runbooks");
    let mut args = vec![
        "simulate",
        "--format",
        "json",
        "--runbooks",
        path(&runbooks),
    ];
    args.extend_from_slice(paths);
    jarvis(&args)
}

#[test]
fn the_corpus_passes_and_nothing_unsafe_runs() {
    let corpus = repo().join("examples/scenarios");
    let out = simulate(&[path(&corpus)]);
    let report = json(&out);
    let failures: Vec<&Value> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["passed"] != true)
        .collect();
    assert!(failures.is_empty(), "failed scenarios: {failures:#?}");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(report["failed"], 0);
    assert_eq!(report["unsafe_executed"], 0);
    assert!(report["scenarios"].as_u64().unwrap() >= 25);
    for key in [
        "scenarios",
        "passed",
        "failed",
        "incidents",
        "success_rate",
        "escalation_rate",
        "mttr_seconds_mean",
        "mttr_seconds_p95",
        "llm_calls",
        "llm_calls_saved",
        "llm_tokens",
        "commands_run",
        "commands_refused",
        "unsafe_executed",
        "alerts_received",
        "notifications_sent",
        "results",
    ] {
        assert!(report.get(key).is_some(), "missing key {key}");
    }
    // The corpus exercises refusals, the cache and the LLM tier.
    assert!(report["commands_refused"].as_u64().unwrap() >= 2);
    assert!(report["llm_calls_saved"].as_u64().unwrap() >= 1);
    assert!(report["llm_calls"].as_u64().unwrap() >= 1);
    let first = &report["results"][0];
    for key in ["name", "passed", "failures", "metrics"] {
        assert!(first.get(key).is_some(), "result lacks {key}");
    }
}

#[test]
fn an_expectation_that_cannot_hold_exits_1_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("impossible.yaml");
    std::fs::write(
        &file,
        r#"
name: impossible
world:
  hosts: [{ name: pve1 }]
  services: [{ name: pveproxy, host: pve1, kind: systemd }]
timeline:
  - { at: 5m, fault: { kind: stuck, service: pveproxy } }
expect:
  incidents:
    - { alert: ServiceDown, state: resolved }
"#,
    )
    .unwrap();
    let out = simulate(&[path(&file)]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["failed"], 1);
    let failure = &report["results"][0]["failures"][0];
    assert_eq!(failure["expectation"], "incidents[0].state");
    assert!(
        failure["reason"].as_str().unwrap().contains("escalated"),
        "{failure}"
    );
}

#[test]
fn a_bad_scenario_exits_2_naming_the_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "name: bad\nworld:\n  hosts:\n    - { name: h1, memory_mb: lots }\n",
    )
    .unwrap();
    let out = simulate(&[path(&file)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml"), "{err}");
    assert!(err.contains("world.hosts[0].memory_mb"), "{err}");

    std::fs::write(
        &file,
        "name: bad\ntimeline:\n  - { at: 5m, fault: { kind: crash, service: ghost } }\n",
    )
    .unwrap();
    let out = simulate(&[path(&file)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("timeline[0].fault.service"), "{err}");
}

#[test]
fn a_generated_homelab_runs() {
    let runbooks = repo().join("runbooks");
    let out = jarvis(&[
        "simulate",
        "--generate",
        "homelab",
        "--days",
        "2",
        "--hosts",
        "8",
        "--format",
        "json",
        "--runbooks",
        path(&runbooks),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert!(report["incidents"].as_u64().unwrap() > 0);
    assert_eq!(report["unsafe_executed"], 0);
}

#[test]
fn replay_shows_route_runbook_plan_and_verdicts_without_running_anything() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let grouped = fixtures.join("servicedown-grouped-2-alerts-firing.json");
    let resolved = fixtures.join("servicedown-resolved.json");
    let runbooks = repo().join("runbooks");
    let out = jarvis(&[
        "replay",
        "--format",
        "json",
        "--runbooks",
        path(&runbooks),
        path(&grouped),
        path(&resolved),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alerts = json(&out);
    let alerts = alerts.as_array().unwrap();
    assert_eq!(alerts.len(), 3);
    let first = &alerts[0];
    assert_eq!(first["alertname"], "ServiceDown");
    assert_eq!(first["route_key"], "ServiceDown/127.0.0.1");
    assert_eq!(first["runbook"], "ServiceDown");
    assert_eq!(first["hints"]["host"], "127.0.0.1");
    let step = &first["plan"][0];
    assert_eq!(step["step"], "127.0.0.1: systemctl restart demo");
    assert!(["allow", "approve", "refuse"].contains(&step["decision"].as_str().unwrap()));
    assert!(step["rule"].as_str().is_some_and(|r| !r.is_empty()));
    assert_eq!(alerts[2]["status"], "resolved");
    assert!(alerts[2]["plan"].as_array().unwrap().is_empty());

    let text = jarvis(&["replay", "--runbooks", path(&runbooks), path(&grouped)]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("nothing was executed"), "{text}");
}

#[test]
fn replay_of_a_malformed_payload_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.json");
    std::fs::write(&file, "{\"alerts\": [{\"status\": \"firing\"}]}").unwrap();
    let out = jarvis(&["replay", path(&file)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.json"));
}
