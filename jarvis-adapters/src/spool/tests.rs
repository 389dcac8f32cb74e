use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, TimeZone, Utc};
use jarvis_core::clock::SystemClock;
use jarvis_core::correlation::{CorrelationConfig, Correlator};
use jarvis_core::domain::IncidentFilter;
use jarvis_core::error::StoreError;
use jarvis_core::hints::Routing;
use jarvis_core::learning::LearningConfig;
use jarvis_core::pipeline::{Pipeline, PipelineConfig, Policy, Ports};
use jarvis_core::planner::DeterministicPlanner;
use jarvis_core::ports::Store;
use jarvis_core::runbook::RunbookLibrary;
use jarvis_core::safety::SafetyPolicy;
use jarvis_core::testing::{InMemoryStore, RecordingExecutor, RecordingNotifier, ScriptedVerifier};

use super::*;
use crate::alertmanager::parse_webhook;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

/// A webhook body with `n` firing alerts named `{name}-{i}`.
fn payload(name: &str, n: usize) -> String {
    let alerts: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "status": "firing",
                "labels": {"alertname": format!("{name}-{i}"), "host": "web1", "severity": "warning"},
                "annotations": {"summary": "test"},
                "startsAt": "2027-01-15T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": format!("{:016x}", blake3_like(name, i)),
            })
        })
        .collect();
    serde_json::json!({
        "version": "4", "status": "firing", "receiver": "jarvis", "groupKey": "{}:{}",
        "truncatedAlerts": 0, "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://am", "alerts": alerts,
    })
    .to_string()
}

fn blake3_like(name: &str, i: usize) -> u64 {
    name.bytes().fold(i as u64 + 1, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    })
}

fn pipeline(store: Arc<dyn Store>) -> Pipeline {
    let ports = Ports {
        store,
        planner: Arc::new(DeterministicPlanner::new()),
        fallback: None,
        executor: Arc::new(RecordingExecutor::new()),
        verifier: Arc::new(ScriptedVerifier::never_cleared()),
        notifier: Arc::new(RecordingNotifier::new()),
        clock: Arc::new(SystemClock),
    };
    let policy = Policy {
        config: PipelineConfig::default(),
        safety: Arc::new(SafetyPolicy::permissive_defaults()),
        routing: Routing::default(),
        runbooks: Arc::new(RwLock::new(RunbookLibrary::default())),
        correlator: Correlator::new(&CorrelationConfig::default()).unwrap(),
        learning: LearningConfig::default(),
        hosts: Vec::new(),
        owner: "test".into(),
    };
    Pipeline::new(ports, policy)
}

/// A store behind a switch: down until `up` is set, then one in-memory store.
fn switched() -> (Arc<ReconnectingStore<InMemoryStore>>, Arc<AtomicBool>) {
    let up = Arc::new(AtomicBool::new(false));
    let flag = up.clone();
    let store = ReconnectingStore::new("memory", move || {
        let up = flag.load(Ordering::SeqCst);
        Box::pin(async move {
            if up {
                Ok(InMemoryStore::new())
            } else {
                Err(StoreError::Unavailable {
                    doing: "connecting",
                    source: "connection refused".into(),
                })
            }
        })
    });
    (Arc::new(store), up)
}

fn names(raw_alerts: &[String]) -> Vec<String> {
    raw_alerts
        .iter()
        .flat_map(|raw| parse_webhook(raw.as_bytes()).unwrap())
        .map(|a| a.labels.get("alertname").cloned().unwrap_or_default())
        .collect()
}

#[test]
fn appended_batches_survive_a_reopen_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 10).unwrap();
    for i in 0..3 {
        spool
            .append_blocking(at(i), 1, payload(&format!("a{i}"), 1))
            .unwrap();
    }
    drop(spool);
    let spool = Spool::open(dir.path(), 10).unwrap();
    let stats = spool.stats();
    assert_eq!((stats.depth, stats.batches, stats.capacity), (3, 3, 10));
    assert_eq!(stats.oldest, Some(at(0)));
    let front = spool.front_blocking(10).unwrap();
    assert_eq!(
        front.iter().map(|b| b.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(
        names(&front.iter().map(|b| b.raw.clone()).collect::<Vec<_>>()),
        ["a0-0", "a1-0", "a2-0"]
    );
}

#[test]
fn a_torn_last_record_is_cut_off_and_appends_continue() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 10).unwrap();
    spool.append_blocking(at(0), 1, payload("a", 1)).unwrap();
    drop(spool);
    // A crash in the middle of an (unacknowledged) append.
    let path = dir.path().join(SPOOL_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(br#"{"seq":2,"received_at":"2027-01"#);
    std::fs::write(&path, bytes).unwrap();

    let spool = Spool::open(dir.path(), 10).unwrap();
    assert_eq!(spool.stats().batches, 1);
    spool.append_blocking(at(1), 1, payload("b", 1)).unwrap();
    drop(spool);
    let spool = Spool::open(dir.path(), 10).unwrap();
    let front = spool.front_blocking(10).unwrap();
    assert_eq!(front.len(), 2, "{front:?}");
    assert_eq!(front[1].received_at, at(1));
}

#[test]
fn a_full_spool_refuses_and_stays_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 3).unwrap();
    spool.append_blocking(at(0), 2, payload("a", 2)).unwrap();
    let err = spool
        .append_blocking(at(1), 2, payload("b", 2))
        .unwrap_err();
    assert!(
        matches!(
            err,
            SpoolError::Full {
                depth: 2,
                capacity: 3,
                alerts: 2
            }
        ),
        "{err}"
    );
    spool.append_blocking(at(2), 1, payload("c", 1)).unwrap();
    assert_eq!(spool.stats().depth, 3);
    drop(spool);
    assert_eq!(Spool::open(dir.path(), 3).unwrap().stats().batches, 2);
}

#[test]
fn commits_are_durable_and_a_drained_spool_is_truncated_without_reusing_seqs() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 10).unwrap();
    for i in 0..3 {
        spool.append_blocking(at(i), 1, payload("a", 1)).unwrap();
    }
    spool.commit_blocking(1).unwrap();
    drop(spool);
    let spool = Spool::open(dir.path(), 10).unwrap();
    assert_eq!(
        spool
            .front_blocking(10)
            .unwrap()
            .iter()
            .map(|b| b.seq)
            .collect::<Vec<_>>(),
        vec![2, 3]
    );
    spool.commit_blocking(3).unwrap();
    assert!(spool.is_empty());
    let path = dir.path().join(SPOOL_FILE);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    assert_eq!(spool.append_blocking(at(9), 1, payload("b", 1)).unwrap(), 4);
    drop(spool);
    let spool = Spool::open(dir.path(), 10).unwrap();
    assert_eq!(spool.front_blocking(10).unwrap()[0].seq, 4);
}

#[tokio::test]
async fn the_reconnecting_store_is_unavailable_until_a_ping_connects_it() {
    let (store, up) = switched();
    assert!(store.in_flight().await.unwrap_err().is_transient());
    assert!(store.ping().await.unwrap_err().is_transient());
    up.store(true, Ordering::SeqCst);
    // Other calls never connect by themselves: they stay fast while the database is down.
    assert!(store.in_flight().await.unwrap_err().is_transient());
    store.ping().await.unwrap();
    assert!(store.in_flight().await.unwrap().is_empty());
    assert!(format!("{store:?}").contains("connected: true"));
}

#[tokio::test]
async fn batches_are_spooled_while_the_store_is_down_and_drained_in_order_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (store, up) = switched();
    let pipeline = pipeline(store.clone());
    let intake = Intake::new(Spool::open(dir.path(), 5).unwrap(), true);
    assert!(!intake.is_degraded());
    let mut changes = intake.subscribe();

    // The first batch finds the store down: spooled, and degraded from now on.
    let mut sent = Vec::new();
    for i in 0..4 {
        let raw = payload(&format!("b{i}"), 1);
        let alerts = parse_webhook(raw.as_bytes()).unwrap();
        let accepted = intake.accept(&pipeline, alerts, raw.clone()).await.unwrap();
        assert!(matches!(accepted, Accepted::Spooled { alerts: 1, .. }));
        sent.push(raw);
    }
    assert!(intake.is_degraded() && !intake.store_up());
    assert!(changes.has_changed().unwrap());
    assert!(*changes.borrow_and_update());
    // Past the bound: refused, so the sender retries.
    let raw = payload("big", 2);
    let err = intake
        .accept(&pipeline, parse_webhook(raw.as_bytes()).unwrap(), raw)
        .await
        .unwrap_err();
    assert!(err.is_full(), "{err}");

    // The store is back: drained oldest first, two per step.
    up.store(true, Ordering::SeqCst);
    store.ping().await.unwrap();
    let mut drained = Vec::new();
    loop {
        let step = intake.drain_step(&pipeline, 2).await.unwrap();
        assert!(step.stopped.is_none());
        drained.extend(step.batches);
        if step.recovered {
            break;
        }
    }
    assert!(!intake.is_degraded());
    assert_eq!(intake.stats().depth, 0);
    let mut got = Vec::new();
    for batch in &drained {
        for ingested in batch {
            assert!(ingested.new);
            let stored = store.alert(ingested.alert).await.unwrap();
            got.push(stored.alert.labels.get("alertname").cloned().unwrap());
        }
    }
    assert_eq!(got, names(&sent));
    let incidents = store.incidents(&IncidentFilter::default()).await.unwrap();
    assert_eq!(incidents.len(), 4);

    // Normal mode again: straight to the store.
    let raw = payload("after", 1);
    let accepted = intake
        .accept(&pipeline, parse_webhook(raw.as_bytes()).unwrap(), raw)
        .await
        .unwrap();
    assert!(matches!(accepted, Accepted::Stored(ref i) if i.len() == 1 && i[0].new));
}

#[tokio::test]
async fn draining_again_after_a_crash_before_the_spool_commit_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, up) = switched();
    up.store(true, Ordering::SeqCst);
    store.ping().await.unwrap();
    let pipeline = pipeline(store.clone());
    let spool = Spool::open(dir.path(), 10).unwrap();
    for i in 0..3 {
        spool
            .append_blocking(at(i), 1, payload(&format!("c{i}"), 1))
            .unwrap();
    }
    // A first drain stored two batches and died before committing them.
    for record in spool.front_blocking(2).unwrap() {
        let alerts = parse_webhook(record.raw.as_bytes()).unwrap();
        let mut batch = pipeline.batch(alerts, Some(record.raw));
        batch.received_at = record.received_at;
        store.ingest(&batch).await.unwrap();
    }
    drop(spool);

    let intake = Intake::new(Spool::open(dir.path(), 10).unwrap(), true);
    assert!(intake.is_degraded(), "a non-empty spool drains first");
    let step = intake.drain_step(&pipeline, 10).await.unwrap();
    let new: Vec<bool> = step.batches.iter().flatten().map(|i| i.new).collect();
    assert_eq!(new, [false, false, true]);
    let received: Vec<DateTime<Utc>> = {
        let mut v = Vec::new();
        for i in step.batches.iter().flatten() {
            v.push(store.alert(i.alert).await.unwrap().received_at);
        }
        v
    };
    assert_eq!(received, [at(0), at(1), at(2)], "received_at is kept");
    assert!(intake.drain_step(&pipeline, 10).await.unwrap().recovered);
    let incidents = store.incidents(&IncidentFilter::default()).await.unwrap();
    assert_eq!(incidents.len(), 3);
}

#[tokio::test]
async fn a_drain_stopped_by_the_store_commits_what_it_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _up) = switched();
    let pipeline = pipeline(store.clone());
    let intake = Intake::new(Spool::open(dir.path(), 10).unwrap(), false);
    let raw = payload("d", 1);
    intake
        .accept(&pipeline, parse_webhook(raw.as_bytes()).unwrap(), raw)
        .await
        .unwrap();
    let step = intake.drain_step(&pipeline, 10).await.unwrap();
    assert!(step.stopped.as_ref().is_some_and(StoreError::is_transient));
    assert!(step.batches.is_empty() && !step.recovered);
    assert_eq!(intake.stats().depth, 1);
    assert!(intake.is_degraded());
}

#[tokio::test]
async fn a_batch_that_can_never_be_stored_moves_to_the_rejected_file() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 10).unwrap();
    spool
        .append_blocking(at(0), 1, "{not a webhook".into())
        .unwrap();
    spool.append_blocking(at(1), 1, payload("ok", 1)).unwrap();
    let (store, up) = switched();
    up.store(true, Ordering::SeqCst);
    store.ping().await.unwrap();
    let pipeline = pipeline(store.clone());
    let intake = Intake::new(spool, true);
    let step = intake.drain_step(&pipeline, 10).await.unwrap();
    assert_eq!((step.rejected, step.alerts), (1, 1));
    let rejected = std::fs::read_to_string(dir.path().join(REJECTED_FILE)).unwrap();
    assert!(
        rejected.contains("not a webhook") && rejected.contains("no longer parses"),
        "{rejected}"
    );
    assert!(intake.drain_step(&pipeline, 10).await.unwrap().recovered);
}
