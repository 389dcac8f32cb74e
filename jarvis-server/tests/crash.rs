//! `kill -9` of the real binary: nothing answered 202 is lost.
//!
//! (a) SQLite (zero configuration): alerts are accepted while an incident is
//!     mid-remediation (verification against a Prometheus that never answers);
//!     after the restart every accepted alert is there and every incident that
//!     was in flight is resumed to a final state with a recorded reason.
//! (b) PostgreSQL behind a proxy that cuts it off: alerts spooled during the
//!     outage are stored when the restarted server finds the database again.

mod pg;

use std::fs::File;
use std::io::Read;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pg::{Proxy, TestDb, alert_payload, wait_for};
use serde_json::Value;

const USER: &str = "alertmanager";
const PASSWORD: &str = "test-secret";
const LIMIT: Duration = Duration::from_secs(60);

/// The real `jarvis-server` on a free port, logging to a file in its data directory.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
    client: reqwest::Client,
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// Starts the binary on `dir` with only `env` (plus the webhook password and
    /// the repository's runbooks) in its environment.
    async fn start(dir: &Path, run: u32, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let log = dir.join(format!("server-{run}.log"));
        let out = File::create(&log).unwrap();
        let runbooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runbooks");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_jarvis-server"));
        cmd.args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(dir)
            .current_dir(dir)
            .env_clear()
            .env("JARVIS_SERVER__WEBHOOK_PASSWORD", PASSWORD)
            .env("JARVIS_RUNBOOKS__DIR", &runbooks)
            .env("JARVIS_LOG_FORMAT", "pretty")
            .env("RUST_LOG", "info")
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let mut server = Server {
            child: cmd.spawn().unwrap(),
            port,
            log,
            client: reqwest::Client::new(),
        };
        loop {
            if let Ok(r) = server.client.get(server.url("/health")).send().await {
                eprintln!(
                    "[timing] run {run} answers /health ({}) after {:?}",
                    r.status(),
                    started.elapsed()
                );
                break;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "jarvis-server exited early ({status}):\n{}",
                    server.log_text()
                );
            }
            assert!(
                started.elapsed() < LIMIT,
                "run {run} never answered:\n{}",
                server.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn log_text(&self) -> String {
        let mut s = String::new();
        let _ = File::open(&self.log).and_then(|mut f| f.read_to_string(&mut s));
        s
    }

    async fn post(&self, name: &str) -> Value {
        self.post_body(name, alert_payload(name)).await
    }

    async fn post_body(&self, name: &str, body: Vec<u8>) -> Value {
        let r = self
            .client
            .post(self.url("/webhook/alertmanager"))
            .basic_auth(USER, Some(PASSWORD))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 202, "POST {name}: {body}\n{}", self.log_text());
        body
    }

    async fn get(&self, path: &str) -> Option<Value> {
        let r = self
            .client
            .get(self.url(path))
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .await
            .ok()?;
        if !r.status().is_success() {
            return None;
        }
        r.json().await.ok()
    }

    /// SIGKILL: no shutdown, no checkpoint.
    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// A graceful stop is not what these tests are about: kill it too.
    fn stop(self) {
        self.kill9();
    }
}

/// Accepts connections and never answers: a Prometheus that hangs.
fn black_hole() -> (u16, std::thread::JoinHandle<()>) {
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    (port, handle)
}

const WORKING: [&str; 6] = [
    "received",
    "planning",
    "validating",
    "executing",
    "verifying",
    "failed",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_remediation_loses_no_accepted_alert_and_resumes_every_incident() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (prom_port, _hole) = black_hole();
    let prometheus = format!("http://127.0.0.1:{prom_port}");
    let first = Server::start(
        dir.path(),
        1,
        &[
            ("PROMETHEUS_URL", prometheus.as_str()),
            ("VERIFICATION_MAX_WAIT_SECONDS", "600"),
        ],
    )
    .await;

    // One incident gets as far as verification, which hangs on Prometheus.
    let mut incidents = Vec::new();
    // ServiceDown has a runbook: planned, executed (dry run), then verified.
    let body = first
        .post_body(
            "ServiceDown",
            std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/servicedown-firing.json"),
            )
            .unwrap(),
        )
        .await;
    let slow = body["alerts"][0]["incident_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string();
    incidents.push(slow.clone());
    let state = wait_for("an incident mid-remediation", LIMIT, || async {
        let d = first.get(&format!("/incidents/{slow}")).await?;
        let state = d["incident"]["state"].as_str()?.to_string();
        matches!(state.as_str(), "executing" | "verifying").then_some(state)
    })
    .await;
    eprintln!("[timing] incident {slow} is {state}");
    // More alerts, then kill -9 right after their 202s.
    for name in ["CrashFast0", "CrashFast1", "CrashFast2"] {
        let body = first.post(name).await;
        incidents.push(
            body["alerts"][0]["incident_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let killed_at = Instant::now();
    first.kill9();
    eprintln!("[timing] killed {:?} after start", t0.elapsed());

    // Restart on the same data directory (verification now off, so resuming ends).
    let second = Server::start(dir.path(), 2, &[]).await;
    for id in &incidents {
        let detail = wait_for(&format!("incident {id} final"), LIMIT, || async {
            let d = second.get(&format!("/incidents/{id}")).await?;
            let state = d["incident"]["state"].as_str()?;
            (!WORKING.contains(&state)).then_some(d)
        })
        .await;
        let reason = detail["incident"]["reason"].as_str().unwrap_or("");
        assert!(!reason.is_empty(), "no reason recorded: {detail}");
        assert_eq!(
            detail["alerts"].as_array().map(Vec::len),
            Some(1),
            "{detail}"
        );
        eprintln!(
            "[info] {id}: {} ({reason})",
            detail["incident"]["state"].as_str().unwrap()
        );
    }
    // The one killed mid-remediation went on from where it was.
    let detail = second.get(&format!("/incidents/{slow}")).await.unwrap();
    let path: Vec<&str> = detail["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["to"].as_str())
        .collect();
    assert!(path.contains(&state.as_str()), "{path:?}");
    let list = second.get("/incidents?limit=100").await.unwrap();
    assert_eq!(
        list["incidents"].as_array().map(Vec::len),
        Some(incidents.len()),
        "{list}"
    );
    eprintln!(
        "[timing] recovered {:?} after the kill",
        killed_at.elapsed()
    );
    second.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_database_outage_loses_no_spooled_alert() {
    let t0 = Instant::now();
    let db = TestDb::create().await;
    let proxy = Proxy::start(true).await;
    let dir = tempfile::tempdir().unwrap();
    let url = db.url_via(proxy.addr);
    let env = [("DATABASE_URL", url.as_str())];
    let first = Server::start(dir.path(), 1, &env).await;
    let mut sent = vec!["Up".to_string()];
    assert_eq!(first.post("Up").await["spooled"], false);

    proxy.cut();
    for i in 0..3 {
        let name = format!("Spooled{i}");
        let body = first.post(&name).await;
        assert_eq!(body["spooled"], true, "{body}\n{}", first.log_text());
        sent.push(name);
    }
    first.kill9();
    let spool = std::fs::metadata(dir.path().join("spool.jsonl")).unwrap();
    assert!(spool.len() > 0, "the spool is empty after the kill");
    assert_eq!(db.alerts().await, ["Up"]);

    proxy.restore();
    let second = Server::start(dir.path(), 2, &env).await;
    assert!(
        second.log_text().contains("starting degraded"),
        "the restart did not replay the spool:\n{}",
        second.log_text()
    );
    wait_for("the spool drained after the restart", LIMIT, || async {
        let h = second.get("/health").await?;
        (h["status"] == "healthy" && h["spool"]["depth"] == 0).then_some(())
    })
    .await;
    assert_eq!(db.alerts().await, sent, "{}", second.log_text());
    second.stop();
    drop(proxy);
    db.drop_db().await;
    eprintln!("[timing] whole test: {:?}", t0.elapsed());
}
