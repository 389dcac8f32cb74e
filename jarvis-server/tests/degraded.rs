//! Degraded mode against a real PostgreSQL behind a TCP proxy that cuts it off:
//! webhooks are spooled (202) while the database is unreachable, refused (503)
//! past the spool's bound, and stored exactly once, in arrival order, once the
//! database is back; the server also starts while the database is down.

mod common;
mod pg;

use std::time::{Duration, Instant};

use common::{TestApp, spawn_in};
use pg::{Proxy, TestDb, alert_payload, wait_for};
use serde_json::Value;

/// The tests read process-wide gauges: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const RECOVERY_LIMIT: Duration = Duration::from_secs(60);

async fn health(t: &TestApp) -> Value {
    t.get("/health").await.json().await.unwrap()
}

async fn post(t: &TestApp, name: &str) -> (u16, Value) {
    let r = t.post_webhook(alert_payload(name)).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn gauge(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

async fn metrics_text(t: &TestApp) -> String {
    t.get("/metrics").await.text().await.unwrap()
}

/// Waits until `/health` is healthy with an empty spool.
async fn recovered(t: &TestApp) {
    wait_for("healthy with an empty spool", RECOVERY_LIMIT, || async {
        let h = health(t).await;
        (h["status"] == "healthy" && h["spool"]["depth"] == 0 && h["spool"]["degraded"] == false)
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_spools_refuses_past_the_bound_and_drains_in_order_when_restored() {
    let _serial = SERIAL.lock().await;
    let t0 = Instant::now();
    let db = TestDb::create().await;
    let proxy = Proxy::start(true).await;
    let dir = tempfile::tempdir().unwrap();
    let url = db.url_via(proxy.addr);
    let t = spawn_in(
        dir.path(),
        &[
            ("DATABASE_URL", url.as_str()),
            ("JARVIS_DATABASE__SPOOL_MAX_ALERTS", "4"),
        ],
    )
    .await;
    eprintln!("[timing] started on postgres: {:?}", t0.elapsed());

    // Healthy: straight to the store.
    let h = health(&t).await;
    assert_eq!(h["status"], "healthy", "{h}");
    assert_eq!(h["store"]["kind"], "postgres");
    let (status, body) = post(&t, "Before").await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["spooled"], false, "{body}");

    // Cut: every batch is answered 202 from the spool.
    proxy.cut();
    let cut_at = Instant::now();
    let mut sent = vec!["Before".to_string()];
    for i in 0..4 {
        let name = format!("During{i}");
        let started = Instant::now();
        let (status, body) = post(&t, &name).await;
        eprintln!(
            "[timing] POST {name} during the outage: {status} in {:?}",
            started.elapsed()
        );
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["spooled"], true, "{body}");
        assert_eq!(body["accepted"], 1, "{body}");
        sent.push(name);
        if i == 2 {
            let h = health(&t).await;
            assert_eq!(h["status"], "degraded", "{h}");
            assert_eq!(h["spool"]["depth"], 3, "{h}");
        }
    }
    let h = health(&t).await;
    // Full: alerts are refused now, so the instance is unhealthy (503).
    assert_eq!(h["status"], "unhealthy", "{h}");
    assert_eq!(t.get("/health").await.status().as_u16(), 503);
    assert_eq!(h["spool"]["degraded"], true, "{h}");
    assert_eq!(h["spool"]["depth"], 4, "{h}");
    assert_eq!(h["spool"]["capacity"], 4, "{h}");
    assert!(h["spool"]["oldest_age_seconds"].is_number(), "{h}");
    assert_eq!(h["store"]["connected"], false, "{h}");
    let m = metrics_text(&t).await;
    assert_eq!(gauge(&m, "jarvis_spool_depth"), Some(4.0), "{m}");
    assert_eq!(gauge(&m, "jarvis_database_connected"), Some(0.0), "{m}");
    assert!(dir.path().join("spool.jsonl").metadata().unwrap().len() > 0);

    // Past the bound: 503, so Alertmanager retries; nothing of it is kept.
    let (status, body) = post(&t, "Refused").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(health(&t).await["spool"]["depth"], 4);
    // Reads that need the store say so rather than pretend.
    assert_eq!(t.get("/incidents").await.status().as_u16(), 503);
    // Long enough for several failed reconnection pings (0.5 s, 1 s, ...).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(health(&t).await["spool"]["depth"], 4);

    // Restore: drained by itself, each alert stored once, in arrival order.
    proxy.restore();
    eprintln!("[timing] outage lasted {:?}", cut_at.elapsed());
    recovered(&t).await;
    let m = metrics_text(&t).await;
    assert_eq!(gauge(&m, "jarvis_spool_depth"), Some(0.0), "{m}");
    assert_eq!(gauge(&m, "jarvis_database_connected"), Some(1.0), "{m}");
    assert_eq!(db.alerts().await, sent);
    let incidents = t.get_json("/incidents?limit=100").await;
    let listed = incidents
        .as_array()
        .or_else(|| incidents["incidents"].as_array())
        .map(|a| a.len());
    assert_eq!(listed, Some(sent.len()), "{incidents}");
    assert_eq!(
        std::fs::metadata(dir.path().join("spool.jsonl"))
            .unwrap()
            .len(),
        0,
        "the drained spool is truncated"
    );

    // Normal mode again.
    let (status, body) = post(&t, "After").await;
    assert_eq!((status, body["spooled"].as_bool()), (202, Some(false)));
    sent.push("After".into());
    assert_eq!(db.alerts().await, sent);

    t.shutdown().await;
    db.drop_db().await;
    eprintln!("[timing] whole test: {:?}", t0.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_starts_while_the_database_is_down_and_recovers_by_itself() {
    let _serial = SERIAL.lock().await;
    let t0 = Instant::now();
    let db = TestDb::create().await;
    let proxy = Proxy::start(false).await;
    let dir = tempfile::tempdir().unwrap();
    let url = db.url_via(proxy.addr);
    let t = spawn_in(dir.path(), &[("DATABASE_URL", url.as_str())]).await;
    eprintln!(
        "[timing] started with the database down: {:?}",
        t0.elapsed()
    );

    let h = health(&t).await;
    assert_eq!(h["status"], "degraded", "{h}");
    assert_eq!(h["store"]["connected"], false, "{h}");
    let mut sent = Vec::new();
    for name in ["Early0", "Early1"] {
        let (status, body) = post(&t, name).await;
        assert_eq!(
            (status, body["spooled"].as_bool()),
            (202, Some(true)),
            "{body}"
        );
        sent.push(name.to_string());
    }
    assert_eq!(health(&t).await["spool"]["depth"], 2);

    proxy.restore();
    recovered(&t).await;
    assert_eq!(db.alerts().await, sent);
    // The drained alerts are handled: their incidents leave `received`.
    let incidents = t.get_json("/incidents?limit=100").await;
    let list = incidents
        .as_array()
        .or_else(|| incidents["incidents"].as_array())
        .cloned()
        .unwrap_or_default();
    assert_eq!(list.len(), 2, "{incidents}");
    for incident in &list {
        let id = incident["id"].as_str().unwrap();
        let detail = t.settled(id).await;
        assert_ne!(detail["incident"]["state"], "received", "{detail}");
    }

    t.shutdown().await;
    db.drop_db().await;
    eprintln!("[timing] whole test: {:?}", t0.elapsed());
}
