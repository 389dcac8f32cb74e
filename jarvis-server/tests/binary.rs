//! The real `jarvis-server` binary: zero configuration, a temporary data directory.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn binary_starts_with_zero_config_and_says_what_it_runs_with() {
    let tmp = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_jarvis-server"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(tmp.path())
        .current_dir(tmp.path())
        .env_remove("RUST_LOG")
        .env_remove("JARVIS_LOG")
        .env_remove("JARVIS_CONFIG")
        .env_remove("DATABASE_URL")
        .env_remove("PROMETHEUS_URL")
        .env_remove("WEBHOOK_AUTH_PASSWORD")
        .env_remove("JARVIS_WEBHOOK_PASSWORD")
        .env("JARVIS_LOG_FORMAT", "pretty")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/health");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut healthy = false;
    while Instant::now() < deadline {
        if let Ok(r) = client.get(&url).send().await
            && r.status().is_success()
        {
            healthy = true;
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("jarvis-server exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Loopback client, no password configured: accepted.
    let body = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/servicedown-firing.json"),
    )
    .unwrap();
    let accepted = client
        .post(format!("http://127.0.0.1:{port}/webhook/alertmanager"))
        .body(body)
        .send()
        .await
        .map(|r| r.status().as_u16());
    child.kill().unwrap();
    child.wait().unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let log = format!("{out}{err}");
    assert!(healthy, "never became healthy:\n{log}");
    assert_eq!(accepted.ok(), Some(202), "{log}");
    for expected in [
        "verification: off",
        "executor: dry run",
        "planner: deterministic",
        "SQLite",
        "loopback",
    ] {
        assert!(
            log.contains(expected),
            "{expected:?} not in the start-up log:\n{log}"
        );
    }
    assert!(
        tmp.path().join("jarvis.db").exists(),
        "no database in the data dir"
    );
}

#[test]
fn binary_refuses_a_public_address_without_a_password() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_jarvis-server"))
        .args(["--listen", "0.0.0.0:0"])
        .arg("--data-dir")
        .arg(tmp.path())
        .env_remove("WEBHOOK_AUTH_PASSWORD")
        .env_remove("JARVIS_SERVER__WEBHOOK_PASSWORD")
        .env_remove("JARVIS_WEBHOOK_PASSWORD")
        .env_remove("JARVIS_CONFIG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("server.listen"), "{text}");
    assert!(text.contains("no webhook password"), "{text}");
}
