//! Maintenance windows and Alertmanager silences, against a real Alertmanager
//! and `jarvis-server` in-process on 127.0.0.1:0.
//!
//! A window started through Jarvis's HTTP API comes with an Alertmanager
//! silence (checked through Alertmanager's own `GET /api/v2/silences` and by
//! the alerts it suppresses), ending the window expires the silence, and an
//! Alertmanager that is away never blocks a window.

mod support;

use std::path::Path;
use std::time::Duration;

use jarvis_adapters::config::{self, Env, Overrides};
use jarvis_server::app::{self, AppEnv, RunningApp};
use serde_json::{Value, json};

use support::peers::{Alertmanager, free_port};
use support::wait_for;

const USER: &str = "ops";
const PASSWORD: &str = "maintenance-test-secret";
const WAIT: Duration = Duration::from_secs(20);

async fn jarvis(data: &Path, alertmanager_url: &str) -> RunningApp {
    let toml = format!(
        r#"[server]
webhook_user = "{USER}"
webhook_password = "{PASSWORD}"
shutdown_grace_secs = 5

[alertmanager]
url = "{alertmanager_url}"
request_timeout_secs = 3
"#
    );
    let file = data.join("jarvis.toml");
    std::fs::write(&file, &toml).expect("write jarvis.toml");
    let cfg = config::load(
        Some(&file),
        &Env::new(),
        &Overrides {
            listen: Some("127.0.0.1:0".into()),
            data_dir: Some(data.to_path_buf()),
        },
    )
    .unwrap_or_else(|e| panic!("configuration rejected: {e}\n{toml}"));
    assert!(cfg.alertmanager.is_some(), "[alertmanager] not configured");
    app::build(cfg, AppEnv::default())
        .await
        .unwrap_or_else(|e| panic!("jarvis-server did not build: {e:?}"))
        .spawn()
}

/// `POST` to Jarvis with basic auth; the status and the JSON body.
async fn post(server: &RunningApp, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(server.url(path))
        .basic_auth(USER, Some(PASSWORD))
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("POST {path}: {e}: {text}"));
    (status, json)
}

async fn get(url: &str, auth: bool) -> Value {
    let mut req = reqwest::Client::new().get(url);
    if auth {
        req = req.basic_auth(USER, Some(PASSWORD));
    }
    let r = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.json().await.unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// One silence as Alertmanager itself reports it.
async fn am_silence(am: &Alertmanager, id: &str) -> Value {
    let all = get(&format!("{}/api/v2/silences", am.url()), false).await;
    all.as_array()
        .expect("a silence list")
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("silence {id} not in Alertmanager's list: {all}"))
        .clone()
}

/// Fires alerts at Alertmanager directly (what Prometheus would do).
async fn fire(am: &Alertmanager, alerts: &[(&str, &str)]) {
    let body: Vec<Value> = alerts
        .iter()
        .map(|(name, instance)| {
            json!({"labels": {"alertname": name, "instance": instance, "job": "node"}})
        })
        .collect();
    let r = reqwest::Client::new()
        .post(format!("{}/api/v2/alerts", am.url()))
        .json(&body)
        .send()
        .await
        .expect("post alerts");
    assert!(r.status().is_success(), "post alerts: {}", r.status());
}

/// The ids of the silences that mute the alert with this name and instance.
async fn silenced_by(am: &Alertmanager, name: &str, instance: &str) -> Result<Vec<String>, String> {
    let alerts = get(&format!("{}/api/v2/alerts", am.url()), false).await;
    let alert = alerts
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["labels"]["alertname"] == name && a["labels"]["instance"] == instance)
        .ok_or_else(|| format!("alert {name}/{instance} not in {alerts}"))?;
    Ok(alert["status"]["silencedBy"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect())
}

async fn wait_silenced(am: &Alertmanager, name: &str, instance: &str, by: &str, yes: bool) {
    let what = format!(
        "{name}/{instance} {} by silence {by}",
        if yes { "silenced" } else { "not silenced" }
    );
    wait_for(&what, WAIT, || async move {
        let ids = silenced_by(am, name, instance).await?;
        if ids.iter().any(|i| i == by) == yes {
            Ok(())
        } else {
            Err(format!("silenced by {ids:?}"))
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_windows_silence_alerts_in_real_alertmanager_until_they_end() {
    support::peers::ensure_installed();
    let am = tokio::task::spawn_blocking(Alertmanager::start)
        .await
        .expect("start alertmanager");
    let data = tempfile::tempdir().expect("data dir");
    let server = jarvis(data.path(), &am.url()).await;

    // A host window: one active silence on the instance label.
    let (status, host) = post(
        &server,
        "/maintenance/start",
        json!({"host": "web1", "reason": "kernel upgrade", "duration_minutes": 30}),
    )
    .await;
    assert_eq!(status, 201, "{host}");
    assert_eq!(host["silence_error"], Value::Null, "{host}");
    let host_silence = host["silence_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no silence id in {host}"))
        .to_string();
    let s = am_silence(&am, &host_silence).await;
    assert_eq!(s["status"]["state"], "active", "{s}");
    let matchers = s["matchers"].as_array().unwrap();
    assert_eq!(matchers.len(), 1, "{s}");
    assert_eq!(matchers[0]["name"], "instance");
    assert_eq!(matchers[0]["isRegex"], true);
    assert_eq!(matchers[0]["isEqual"], true);
    assert_eq!(s["createdBy"], "jarvis");
    let window_id = host["id"].as_str().unwrap();
    assert!(
        s["comment"].as_str().unwrap().contains(window_id),
        "the comment names the window: {s}"
    );
    let ends = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
            .unwrap()
            .to_utc()
    };
    let drift = (ends(&s["endsAt"]) - ends(&host["ends_at"])).num_milliseconds();
    assert!(drift.abs() < 1000, "silence ends with the window: {s}");

    // Alertmanager mutes the instance forms Jarvis reads as host web1, not others.
    fire(
        &am,
        &[
            ("NodeDown", "web1:9100"),
            ("NodeDown", "web1"),
            ("NodeDown", "web10:9100"),
            ("NodeDown", "db1:9100"),
        ],
    )
    .await;
    wait_silenced(&am, "NodeDown", "web1:9100", &host_silence, true).await;
    wait_silenced(&am, "NodeDown", "web1", &host_silence, true).await;
    wait_silenced(&am, "NodeDown", "web10:9100", &host_silence, false).await;
    wait_silenced(&am, "NodeDown", "db1:9100", &host_silence, false).await;

    // A global window silences every alert.
    let (status, global) = post(
        &server,
        "/maintenance/start",
        json!({"reason": "datacentre move", "duration_minutes": 10}),
    )
    .await;
    assert_eq!(status, 201, "{global}");
    let global_silence = global["silence_id"].as_str().unwrap().to_string();
    let s = am_silence(&am, &global_silence).await;
    assert_eq!(s["status"]["state"], "active", "{s}");
    assert_eq!(
        s["matchers"],
        json!([{"name": "alertname", "value": ".+", "isRegex": true, "isEqual": true}])
    );
    wait_silenced(&am, "NodeDown", "db1:9100", &global_silence, true).await;

    // The status lists both windows with their silences.
    let listed = get(&server.url("/maintenance/status"), true).await;
    let mut ids: Vec<&str> = listed["active"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["silence_id"].as_str())
        .collect();
    ids.sort_unstable();
    let mut want = vec![host_silence.as_str(), global_silence.as_str()];
    want.sort_unstable();
    assert_eq!(ids, want, "{listed}");

    // Ending the host window expires its silence, and only that one.
    let (status, ended) = post(&server, "/maintenance/end", json!({"id": window_id})).await;
    assert_eq!(status, 200, "{ended}");
    assert_eq!(ended["ended"][0]["silence_id"], host_silence.as_str());
    assert_eq!(ended["ended"][0]["silence_error"], Value::Null, "{ended}");
    assert_eq!(
        am_silence(&am, &host_silence).await["status"]["state"],
        "expired"
    );
    assert_eq!(
        am_silence(&am, &global_silence).await["status"]["state"],
        "active"
    );
    wait_silenced(&am, "NodeDown", "web1:9100", &host_silence, false).await;

    // A silence someone already expired in Alertmanager is no obstacle to ending.
    let r = reqwest::Client::new()
        .delete(format!("{}/api/v2/silence/{global_silence}", am.url()))
        .send()
        .await
        .expect("expire by hand");
    assert!(r.status().is_success(), "{}", r.status());
    let (status, ended) = post(&server, "/maintenance/end", json!({"all": true})).await;
    assert_eq!(status, 200, "{ended}");
    assert_eq!(ended["ended"].as_array().unwrap().len(), 1, "{ended}");
    assert_eq!(ended["ended"][0]["silence_error"], Value::Null, "{ended}");
    let listed = get(&server.url("/maintenance/status"), true).await;
    assert_eq!(listed["in_maintenance"], false, "{listed}");

    server.shutdown().await.expect("graceful shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_alertmanager_does_not_block_a_maintenance_window() {
    let data = tempfile::tempdir().expect("data dir");
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let server = jarvis(data.path(), &nowhere).await;

    let (status, window) = post(
        &server,
        "/maintenance/start",
        json!({"host": "web1", "reason": "disk swap", "duration_minutes": 30}),
    )
    .await;
    assert_eq!(status, 201, "{window}");
    assert_eq!(window["silence_id"], Value::Null, "{window}");
    let why = window["silence_error"]
        .as_str()
        .unwrap_or_else(|| panic!("no silence_error in {window}"));
    assert!(why.contains("could not be created"), "{why}");
    assert!(why.contains("unreachable"), "{why}");
    assert!(!why.contains(PASSWORD), "{why}");

    let listed = get(&server.url("/maintenance/status"), true).await;
    assert_eq!(
        listed["in_maintenance"], true,
        "the window was saved: {listed}"
    );
    assert_eq!(listed["active"][0]["id"], window["id"]);

    let (status, ended) = post(&server, "/maintenance/end", json!({"host": "web1"})).await;
    assert_eq!(status, 200, "{ended}");
    assert_eq!(ended["ended"][0]["silence_error"], Value::Null, "{ended}");

    server.shutdown().await.expect("graceful shutdown");
}
