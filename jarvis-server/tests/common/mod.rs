//! `spawn_app()`: the real server on 127.0.0.1:0 with a fresh data directory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use jarvis_adapters::config::{self, Config, ConfigError, Env, Overrides};
use jarvis_server::app::{self, AppEnv, RunningApp};
use serde_json::Value;

pub const USER: &str = "alertmanager";
pub const PASSWORD: &str = "test-secret";

pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn env(pairs: &[(&str, &str)]) -> Env {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The test configuration: port 0, `dir` as data directory, the repository's
/// runbooks, a webhook password, plus `extra` variables.
pub fn test_config(dir: &Path, extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let runbooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runbooks");
    let runbooks = runbooks.display().to_string();
    let mut vars = vec![
        ("JARVIS_SERVER__WEBHOOK_PASSWORD", PASSWORD),
        ("JARVIS_RUNBOOKS__DIR", runbooks.as_str()),
    ];
    vars.extend_from_slice(extra);
    config::load(
        None,
        &env(&vars),
        &Overrides {
            listen: Some("127.0.0.1:0".into()),
            data_dir: Some(dir.to_path_buf()),
        },
    )
}

pub struct TestApp {
    pub app: RunningApp,
    pub client: reqwest::Client,
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let mut t = spawn_in(&dir, extra).await;
    t._tmp = Some(tmp);
    t
}

/// A server on an existing data directory (for restarts).
pub async fn spawn_in(dir: &Path, extra: &[(&str, &str)]) -> TestApp {
    let cfg = test_config(dir, extra).unwrap_or_else(|e| panic!("{e}"));
    let app = app::build(cfg, AppEnv::default())
        .await
        .unwrap_or_else(|e| panic!("build failed: {e:?}"));
    TestApp {
        app: app.spawn(),
        client: reqwest::Client::new(),
        dir: dir.to_path_buf(),
        _tmp: None,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    pub async fn post_webhook(&self, body: Vec<u8>) -> reqwest::Response {
        self.client
            .post(self.url("/webhook/alertmanager"))
            .basic_auth(USER, Some(PASSWORD))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert!(status.is_success(), "GET {path}: {status} {body}");
        body
    }

    pub async fn post_json(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .basic_auth(USER, Some(PASSWORD))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Waits until the incident leaves the states where work is under way.
    pub async fn settled(&self, id: &str) -> Value {
        for _ in 0..200 {
            let detail = self.get_json(&format!("/incidents/{id}")).await;
            let state = detail["incident"]["state"]
                .as_str()
                .unwrap_or("")
                .to_string();
            if !matches!(
                state.as_str(),
                "received" | "planning" | "validating" | "executing" | "verifying" | "failed"
            ) {
                return detail;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("incident {id} did not settle");
    }

    pub async fn shutdown(self) -> Option<tempfile::TempDir> {
        self.app.shutdown().await.unwrap();
        self._tmp
    }
}
