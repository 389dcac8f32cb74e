//! Wiring: host availability changes become stored notices; `SelfRestart`
//! steps become n8n hand-offs.

#[path = "fakes/n8n.rs"]
mod fake;
#[path = "fakes/fixture.rs"]
mod fixture;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use fake::{FakeN8n, Hook, Respond};
use jarvis_adapters::config::wiring::{Wired, wire};
use jarvis_adapters::config::{Config, Env, Overrides, load};
use jarvis_core::clock::SystemClock;
use jarvis_core::domain::{Action, HandoffState, Step};
use jarvis_core::error::ExecError;

fn config(dir: &Path, toml: &str) -> Config {
    let runbooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runbooks");
    let text = format!(
        "[server]\ndata_dir = {:?}\n\n[runbooks]\ndir = {:?}\n\n{toml}",
        dir.display().to_string(),
        runbooks.display().to_string()
    );
    let file = dir.join("jarvis.toml");
    std::fs::write(&file, text).unwrap();
    load(Some(&file), &Env::new(), &Overrides::default()).unwrap_or_else(|e| panic!("{e}"))
}

async fn wired(cfg: &Config) -> Wired {
    wire(cfg, Arc::new(SystemClock), "wiring-test".into())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn an_unreachable_host_goes_offline_with_a_stored_status_and_notice() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("client_ed25519");
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
    let cfg = config(
        tmp.path(),
        &format!(
            "[executor]\nconnect_timeout_secs = 2\n\n[[hosts]]\nname = \"edge\"\n\
             address = \"127.0.0.1\"\nport = {}\nuser = \"jarvis\"\nkey_file = {:?}\n\
             trust_on_first_use = true\n",
            closed_port(),
            key.display().to_string()
        ),
    );
    let wired = wired(&cfg).await;
    let ssh = wired.ssh.clone().expect("hosts are reached over SSH");

    // Three failed probes (what the server's loop does, without waiting for it).
    assert!(ssh.probe("edge").await.is_none());
    assert!(ssh.probe("edge").await.is_none());
    let change = ssh
        .probe("edge")
        .await
        .expect("offline after three failures");
    assert!(!change.online);
    assert!(!ssh.is_online("edge"));

    // The sink stores the status and the notice in the background.
    let store = wired.ports.store.clone();
    let db = format!("sqlite://{}", tmp.path().join("jarvis.db").display());
    let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
    let mut found = (false, Vec::new());
    for _ in 0..100 {
        let statuses = store.host_statuses().await.unwrap();
        let offline = statuses.iter().any(|s| s.host == "edge" && !s.online);
        let notices: Vec<String> =
            sqlx::query_scalar("SELECT notice FROM notices WHERE incident_id IS NULL")
                .fetch_all(&pool)
                .await
                .unwrap();
        found = (offline, notices);
        if found.0 && !found.1.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (offline, notices) = found;
    assert!(offline, "an offline status for edge is stored");
    assert_eq!(notices.len(), 1, "{notices:?}");
    let notice: serde_json::Value = serde_json::from_str(&notices[0]).unwrap();
    assert_eq!(notice["kind"], "host_offline", "{notice}");
    assert!(
        notice["title"].as_str().unwrap().contains("edge"),
        "{notice}"
    );
    assert!(!notice["body"].as_str().unwrap().is_empty(), "{notice}");
    pool.close().await;
    wired.store.close().await;
}

fn self_restart(wired: &Wired, target: &str) -> jarvis_core::safety::ValidatedStep {
    wired
        .policy
        .safety
        .validate(Step::new(Action::SelfRestart {
            target: target.into(),
        }))
        .expect("self-restart of a configured target passes the policy")
}

#[tokio::test]
async fn a_self_restart_step_records_a_handoff_and_triggers_n8n() {
    let fake = FakeN8n::start().await;
    fake.hook(
        "jarvis-self-restart",
        Hook {
            workflow_id: "SelfWf".into(),
            active: true,
            respond: Respond::LastNode,
        },
    );
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(
        tmp.path(),
        &format!(
            "[n8n]\nurl = {:?}\nself_restart_webhook = \"jarvis-self-restart\"\n",
            fake.url
        ),
    );
    let cfg = Config {
        server: jarvis_adapters::config::ServerConfig {
            public_url: Some("http://jarvis.test:9000/".parse().unwrap()),
            ..cfg.server.clone()
        },
        ..cfg
    };
    let wired = wired(&cfg).await;
    let step = self_restart(&wired, "jarvis");

    let result = wired.ports.executor.execute(&step).await.unwrap();
    assert_eq!(result.exit_code, Some(0));
    let pending = wired
        .ports
        .store
        .handoffs(Some(HandoffState::Pending))
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    let handoff = &pending[0];
    assert_eq!(handoff.target, "jarvis");
    assert!(
        result.stdout.contains(&handoff.id.to_string()),
        "{}",
        result.stdout
    );
    let triggered = fake.triggered();
    assert_eq!(triggered.len(), 1);
    assert_eq!(triggered[0].body["handoff_id"], handoff.id.to_string());
    assert_eq!(
        triggered[0].body["resume_url"],
        format!("http://jarvis.test:9000/resume?handoff_id={}", handoff.id)
    );

    // One pending hand-off at a time.
    let err = wired.ports.executor.execute(&step).await.unwrap_err();
    assert!(err.to_string().contains("still pending"), "{err}");
    assert_eq!(fake.triggered().len(), 1);
    wired.store.close().await;
}

#[tokio::test]
async fn a_self_restart_step_without_n8n_is_unsupported() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), "");
    let wired = wired(&cfg).await;
    let err = wired
        .ports
        .executor
        .execute(&self_restart(&wired, "jarvis"))
        .await
        .unwrap_err();
    assert!(matches!(err, ExecError::Unsupported { .. }), "{err:?}");
    assert!(err.to_string().contains("needs n8n"), "{err}");
    wired.store.close().await;
}
