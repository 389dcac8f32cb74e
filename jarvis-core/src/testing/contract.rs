//! The [`Store`] contract suite, written once and run against every store.
//!
//! Each `pub async fn` checks sentences of the contract on [`Store`]'s doc
//! comments against a fresh, empty store. [`store_contract_suite!`] turns the
//! whole list into one `#[tokio::test]` per function for a store fixture:
//!
//! ```text
//! jarvis_core::store_contract_suite!(in_memory, async { jarvis_core::testing::InMemoryStore::new() });
//! ```
//!
//! The fixture expression is a future whose output implements [`StoreFixture`];
//! its `teardown` runs even when the test fails (temporary files, databases).

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use super::InMemoryStore;
use crate::domain::*;
use crate::error::StoreError;
use crate::ports::Store;

/// A fresh store for one contract test, and how to clean it up afterwards.
pub trait StoreFixture {
    type Store: Store;
    fn store(&self) -> &Self::Store;
    /// Removes whatever the fixture created (a file, a database). Runs after
    /// the test, whether it passed or not.
    fn teardown(self) -> impl Future<Output = ()> + Send;
}

impl StoreFixture for InMemoryStore {
    type Store = InMemoryStore;
    fn store(&self) -> &InMemoryStore {
        self
    }
    async fn teardown(self) {}
}

/// Expands to one `#[tokio::test]` per contract function, inside `mod $module`.
/// `$fixture` is an expression of a future yielding a [`StoreFixture`]; it is
/// evaluated afresh for every test. The calling crate needs `tokio` with the
/// `macros` and `rt-multi-thread` features.
#[macro_export]
macro_rules! store_contract_suite {
    ($module:ident, $fixture:expr) => {
        $crate::store_contract_suite!(@expand $module, $fixture;
            ping_answers,
            ingest_opens_one_received_incident_per_firing_alert,
            ingest_is_idempotent,
            ingest_deduplicates_within_one_batch,
            concurrent_ingest_opens_one_incident,
            resolved_alerts_open_no_incident_and_wait_for_processing,
            alerts_round_trip_exactly,
            missing_records_are_not_found,
            transition_records_the_move,
            illegal_transition_is_a_conflict,
            concurrent_transitions_check_the_current_state,
            set_root_and_bump_attempts,
            incident_listings_filter_and_order,
            latest_incident_for_a_fingerprint,
            claim_is_exclusive_until_expiry,
            concurrent_claims_have_one_winner,
            attempts_round_trip_oldest_first,
            clear_attempts_hides_from_key_but_not_from_incident,
            escalations_remember_the_latest,
            patterns_are_saved_replaced_and_deleted,
            pattern_uniqueness_is_a_conflict,
            failures_count_again,
            maintenance_windows_not_ended,
            maintenance_silence_id_round_trips,
            approvals_round_trip_by_status,
            host_statuses_keep_the_latest_per_host,
            handoffs_round_trip_by_state,
            snapshots_and_anomalies,
            audit_is_append_only_newest_first,
            notices_per_incident_oldest_first,
            prune_removes_closed_history_and_keeps_open_incidents,
        );
    };
    (@expand $module:ident, $fixture:expr; $($name:ident),* $(,)?) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    use $crate::testing::contract::StoreFixture as _;
                    let fixture = $fixture.await;
                    let outcome = $crate::testing::contract::catch_unwind(
                        $crate::testing::contract::$name(fixture.store()),
                    )
                    .await;
                    fixture.teardown().await;
                    if let Err(panic) = outcome {
                        ::std::panic::resume_unwind(panic);
                    }
                }
            )*
        }
    };
}

/// Runs `future`, turning a panic inside it into an `Err`, so teardown can follow.
pub async fn catch_unwind<F: Future>(future: F) -> Result<F::Output, Box<dyn Any + Send>> {
    let mut future = Box::pin(future);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    })
    .await
}

/// Polls all futures concurrently in the current task; outputs in input order.
/// The SQL stores run each call on its own connection, so the calls really race.
pub async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

// --- fixtures -------------------------------------------------------------

/// A fixed instant, with nanoseconds, so stores must keep full precision.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + chrono::Duration::nanoseconds(123_456_789)
}

/// `t0` plus `secs` seconds (negative for earlier).
pub fn at(secs: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(secs)
}

pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A firing alert `name` on `host` that started at `starts_at`.
pub fn firing(name: &str, host: &str, starts_at: DateTime<Utc>) -> Alert {
    let mut alert = Alert::firing(
        labels(&[("alertname", name), ("instance", &format!("{host}:9100"))]),
        starts_at,
    );
    alert
        .annotations
        .insert("summary".into(), format!("{name} on {host}"));
    alert
}

/// The resolution of `alert`, ending at `ends_at`.
pub fn resolved(alert: &Alert, ends_at: DateTime<Utc>) -> Alert {
    let mut alert = alert.clone();
    alert.status = AlertStatus::Resolved;
    alert.ends_at = Some(ends_at);
    alert
}

pub fn key_of(alert: &Alert) -> RouteKey {
    RouteKey::new(alert.name(), alert.instance_host().unwrap_or("none"))
}

pub fn batch(alerts: &[Alert], received_at: DateTime<Utc>) -> IngestBatch {
    IngestBatch {
        raw: Some(r#"{"version":"4","alerts":[]}"#.to_string()),
        received_at,
        items: alerts
            .iter()
            .map(|alert| IngestItem {
                alert: alert.clone(),
                key: key_of(alert),
            })
            .collect(),
    }
}

/// Ingests one firing alert and returns its new incident.
pub async fn open<S: Store>(store: &S, name: &str, host: &str, when: DateTime<Utc>) -> Incident {
    let ingested = store
        .ingest(&batch(&[firing(name, host, when)], when))
        .await
        .expect("ingest");
    let id = ingested[0]
        .incident
        .expect("a firing alert opens an incident");
    store.incident(id).await.expect("incident")
}

/// Moves an incident along `path` at `when`.
pub async fn walk<S: Store>(
    store: &S,
    id: IncidentId,
    path: &[IncidentState],
    when: DateTime<Utc>,
) {
    for state in path {
        store
            .transition(id, *state, "test", when)
            .await
            .unwrap_or_else(|e| panic!("transition to {state}: {e}"));
    }
}

pub fn attempt(incident: &Incident, started_at: DateTime<Utc>) -> Attempt {
    let mut plan = Plan::new(
        Tier::HintAssisted,
        vec![Step::shell("web1", "systemctl restart nginx").with_reason("nginx is down")],
    );
    plan.analysis = "nginx crashed".into();
    plan.confidence = Some(0.75);
    plan.usage = LlmUsage {
        calls: 1,
        input_tokens: 1200,
        output_tokens: 300,
        iterations: 2,
    };
    Attempt {
        id: AttemptId::new(),
        incident: incident.id,
        key: incident.key.clone(),
        tier: Tier::HintAssisted,
        usage: plan.usage,
        plan,
        steps: vec![StepRecord {
            summary: "web1: systemctl restart nginx".into(),
            class: "remediation".into(),
            rule: "allow-restart".into(),
            result: Some(StepResult {
                exit_code: Some(0),
                stdout: "restarted\n".into(),
                stderr: String::new(),
                duration: Duration::from_millis(1500),
                truncated: false,
                timed_out: false,
                dry_run: false,
            }),
            error: None,
        }],
        verification: Some(Verification::Cleared {
            after: Duration::from_secs(30),
        }),
        outcome: Outcome::Resolved,
        counts_toward_limit: true,
        started_at,
        finished_at: started_at + chrono::Duration::seconds(45),
    }
}

pub fn pattern(signature: &str, command: &str, created_at: DateTime<Utc>) -> Pattern {
    Pattern {
        id: PatternId::new(),
        signature: signature.into(),
        alert_name: "NginxDown".into(),
        symptom: labels(&[("alertname", "NginxDown"), ("job", "nginx")]),
        steps: vec![Step::shell("web1", command)],
        successes: 3,
        failures: 1,
        source: PatternSource::Llm,
        created_at,
        last_used: Some(created_at + chrono::Duration::seconds(5)),
    }
}

fn audit_entry(incident: Option<IncidentId>, action: &str, when: DateTime<Utc>) -> AuditEntry {
    AuditEntry {
        at: when,
        incident,
        action: action.into(),
        host: Some("web1".into()),
        decision: "allow".into(),
        rule: "allow-restart".into(),
        reason: "listed in the runbook".into(),
        executed: true,
        exit_code: Some(0),
    }
}

fn notice(incident: Option<IncidentId>, title: &str, when: DateTime<Utc>) -> NoticeRecord {
    let mut notice = Notice::new(NoticeKind::RemediationSuccess, title, when)
        .body("fixed")
        .field("command", "systemctl restart nginx");
    notice.incident = incident;
    NoticeRecord {
        notice,
        delivered: true,
        error: None,
    }
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("{what}: expected Conflict, got {other:?}"),
    }
}

fn ids(incidents: &[Incident]) -> Vec<IncidentId> {
    incidents.iter().map(|i| i.id).collect()
}

// --- alerts and incidents ---------------------------------------------------

pub async fn ping_answers<S: Store>(store: &S) {
    store.ping().await.expect("ping");
}

pub async fn ingest_opens_one_received_incident_per_firing_alert<S: Store>(store: &S) {
    let a = firing("NginxDown", "web1", at(0));
    let b = firing("DiskFull", "db1", at(1));
    let out = store
        .ingest(&batch(&[a.clone(), b.clone()], at(2)))
        .await
        .unwrap();
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|i| i.new && i.incident.is_some()));
    assert_ne!(out[0].incident, out[1].incident);

    let incident = store.incident(out[0].incident.unwrap()).await.unwrap();
    assert_eq!(incident.key, key_of(&a));
    assert_eq!(incident.alert_id, out[0].alert);
    assert_eq!(incident.fingerprint, a.fingerprint);
    assert_eq!(incident.alert_name, "NginxDown");
    assert_eq!(incident.labels, a.labels);
    assert_eq!(incident.state, IncidentState::Received);
    assert_eq!(incident.root, None);
    assert_eq!(incident.attempts, 0);
    assert_eq!(incident.created_at, at(2));
    assert_eq!(incident.updated_at, at(2));
    assert_eq!(incident.lease_owner, None);
    assert_eq!(incident.lease_until, None);

    let stored = store.alert(out[0].alert).await.unwrap();
    assert_eq!(stored.incident, out[0].incident);
    assert_eq!(stored.key, key_of(&a));
    assert_eq!(stored.received_at, at(2));
    assert_eq!(store.open_incidents().await.unwrap().len(), 2);
}

pub async fn ingest_is_idempotent<S: Store>(store: &S) {
    let a = firing("NginxDown", "web1", at(0));
    let first = store
        .ingest(&batch(std::slice::from_ref(&a), at(1)))
        .await
        .unwrap();
    let again = store
        .ingest(&batch(std::slice::from_ref(&a), at(9)))
        .await
        .unwrap();
    assert!(first[0].new);
    assert_eq!(
        again,
        vec![Ingested {
            alert: first[0].alert,
            new: false,
            incident: first[0].incident,
        }]
    );
    // The redelivery changed nothing.
    assert_eq!(
        store.alert(first[0].alert).await.unwrap().received_at,
        at(1)
    );
    assert_eq!(store.open_incidents().await.unwrap().len(), 1);

    // A new occurrence (another startsAt) is a new alert with its own incident.
    let later = firing("NginxDown", "web1", at(100));
    let next = store.ingest(&batch(&[later], at(101))).await.unwrap();
    assert!(next[0].new);
    assert_ne!(next[0].incident, first[0].incident);
    assert_eq!(store.open_incidents().await.unwrap().len(), 2);
}

pub async fn ingest_deduplicates_within_one_batch<S: Store>(store: &S) {
    let a = firing("NginxDown", "web1", at(0));
    let out = store.ingest(&batch(&[a.clone(), a], at(1))).await.unwrap();
    assert!(out[0].new);
    assert!(!out[1].new);
    assert_eq!(out[0].alert, out[1].alert);
    assert_eq!(out[0].incident, out[1].incident);
    assert_eq!(store.open_incidents().await.unwrap().len(), 1);
}

pub async fn concurrent_ingest_opens_one_incident<S: Store>(store: &S) {
    let a = firing("NginxDown", "web1", at(0));
    let b = firing("DiskFull", "db1", at(0));
    // Same alerts, different batch shapes and orders, all racing.
    let batches = [
        batch(std::slice::from_ref(&a), at(1)),
        batch(&[a.clone(), b.clone()], at(1)),
        batch(&[b.clone(), a.clone()], at(1)),
        batch(std::slice::from_ref(&a), at(2)),
        batch(std::slice::from_ref(&b), at(2)),
        batch(&[a.clone(), b.clone()], at(3)),
        batch(&[b.clone(), a.clone()], at(3)),
        batch(std::slice::from_ref(&a), at(4)),
    ];
    let results = join_all(batches.iter().map(|b| store.ingest(b))).await;
    let mut seen = Vec::new();
    for result in results {
        seen.extend(result.expect("concurrent ingest"));
    }
    for fingerprint in [&a.fingerprint, &b.fingerprint] {
        let mut of_alert = Vec::new();
        for ingested in &seen {
            let stored = store.alert(ingested.alert).await.unwrap();
            if &stored.alert.fingerprint == fingerprint {
                of_alert.push(ingested.clone());
            }
        }
        assert_eq!(
            of_alert.iter().filter(|i| i.new).count(),
            1,
            "{fingerprint}"
        );
        assert!(of_alert.iter().all(|i| i.alert == of_alert[0].alert));
        assert!(of_alert.iter().all(|i| i.incident == of_alert[0].incident));
        assert!(of_alert[0].incident.is_some());
    }
    assert_eq!(store.open_incidents().await.unwrap().len(), 2);
}

pub async fn resolved_alerts_open_no_incident_and_wait_for_processing<S: Store>(store: &S) {
    let a = firing("NginxDown", "web1", at(0));
    let b = firing("DiskFull", "db1", at(0));
    store
        .ingest(&batch(&[a.clone(), b.clone()], at(1)))
        .await
        .unwrap();
    let ra = store
        .ingest(&batch(&[resolved(&a, at(50))], at(60)))
        .await
        .unwrap();
    let rb = store
        .ingest(&batch(&[resolved(&b, at(70))], at(80)))
        .await
        .unwrap();
    assert!(ra[0].new);
    assert_eq!(ra[0].incident, None);
    assert_eq!(rb[0].incident, None);
    assert_eq!(store.open_incidents().await.unwrap().len(), 2);

    // A redelivered resolution is not stored twice.
    let again = store
        .ingest(&batch(&[resolved(&a, at(50))], at(90)))
        .await
        .unwrap();
    assert_eq!(again[0].alert, ra[0].alert);
    assert!(!again[0].new);

    let pending = store.unprocessed_resolutions(10).await.unwrap();
    assert_eq!(
        pending.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![ra[0].alert, rb[0].alert],
        "oldest first"
    );
    assert_eq!(pending[0].alert.status, AlertStatus::Resolved);
    assert_eq!(pending[0].processed_at, None);
    assert_eq!(store.unprocessed_resolutions(1).await.unwrap().len(), 1);

    store.mark_processed(ra[0].alert, at(100)).await.unwrap();
    let pending = store.unprocessed_resolutions(10).await.unwrap();
    assert_eq!(
        pending.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![rb[0].alert]
    );
    assert_eq!(
        store.alert(ra[0].alert).await.unwrap().processed_at,
        Some(at(100))
    );
}

pub async fn alerts_round_trip_exactly<S: Store>(store: &S) {
    let mut a = firing("NginxDown", "web1", at(0));
    a.generator_url = Some("http://prometheus:9090/graph?g0.expr=up".into());
    a.fingerprint = Fingerprint::parse("1a30ba71cca2921f").unwrap();
    a.group = Some(std::sync::Arc::new(AlertGroup {
        version: "4".into(),
        group_key: "{}:{alertname=\"NginxDown\"}".into(),
        status: Some(AlertStatus::Firing),
        receiver: "jarvis".into(),
        group_labels: labels(&[("alertname", "NginxDown")]),
        common_labels: a.labels.clone(),
        common_annotations: a.annotations.clone(),
        external_url: "http://alertmanager:9093".into(),
        truncated_alerts: 0,
        notification_reason: None,
        route_labels: Labels::new(),
    }));
    let r = resolved(&a, at(30) + chrono::Duration::nanoseconds(1));
    let out = store
        .ingest(&batch(&[a.clone(), r.clone()], at(31)))
        .await
        .unwrap();
    let stored = store.alert(out[0].alert).await.unwrap();
    assert_eq!(
        stored,
        StoredAlert {
            id: out[0].alert,
            alert: a,
            key: RouteKey::new("NginxDown", "web1"),
            received_at: at(31),
            incident: out[0].incident,
            processed_at: None,
        }
    );
    assert_eq!(store.alert(out[1].alert).await.unwrap().alert, r);
}

pub async fn missing_records_are_not_found<S: Store>(store: &S) {
    assert_not_found(store.alert(AlertId::new()).await, "alert");
    assert_not_found(
        store.mark_processed(AlertId::new(), at(0)).await,
        "mark_processed",
    );
    assert_not_found(store.incident(IncidentId::new()).await, "incident");
    assert_not_found(
        store
            .transition(IncidentId::new(), IncidentState::Planning, "x", at(0))
            .await,
        "transition",
    );
    assert_not_found(store.set_root(IncidentId::new(), None).await, "set_root");
    assert_not_found(
        store.bump_attempts(IncidentId::new()).await,
        "bump_attempts",
    );
    assert_not_found(
        store.claim(IncidentId::new(), "a", at(10), at(0)).await,
        "claim",
    );
    assert_not_found(store.release(IncidentId::new(), "a").await, "release");
    assert_not_found(store.pattern(PatternId::new()).await, "pattern");
    assert_not_found(
        store.delete_pattern(PatternId::new()).await,
        "delete_pattern",
    );
    assert_not_found(store.approval(ApprovalId::new()).await, "approval");
    assert_not_found(store.handoff(HandoffId::new()).await, "handoff");
    let ghost = Incident {
        id: IncidentId::new(),
        key: RouteKey::new("X", "y"),
        alert_id: AlertId::new(),
        fingerprint: Fingerprint::parse("ab").unwrap(),
        alert_name: "X".into(),
        labels: Labels::new(),
        state: IncidentState::Received,
        reason: String::new(),
        root: None,
        attempts: 0,
        created_at: at(0),
        updated_at: at(0),
        lease_owner: None,
        lease_until: None,
    };
    assert_not_found(
        store.record_attempt(&attempt(&ghost, at(0))).await,
        "attempt of a missing incident",
    );
    assert!(store.transitions(ghost.id).await.unwrap().is_empty());
    assert!(store.attempts(ghost.id).await.unwrap().is_empty());
    assert!(store.notices(ghost.id).await.unwrap().is_empty());
}

pub async fn transition_records_the_move<S: Store>(store: &S) {
    let incident = open(store, "NginxDown", "web1", at(0)).await;
    let planning = store
        .transition(incident.id, IncidentState::Planning, "no pattern", at(5))
        .await
        .unwrap();
    assert_eq!(planning.state, IncidentState::Planning);
    assert_eq!(planning.reason, "no pattern");
    assert_eq!(planning.updated_at, at(5));
    assert_eq!(planning.created_at, at(0));
    assert_eq!(store.incident(incident.id).await.unwrap(), planning);
    store
        .transition(incident.id, IncidentState::Escalated, "no plan", at(6))
        .await
        .unwrap();
    let transitions = store.transitions(incident.id).await.unwrap();
    assert_eq!(
        transitions,
        vec![
            Transition {
                incident: incident.id,
                from: IncidentState::Received,
                to: IncidentState::Planning,
                reason: "no pattern".into(),
                at: at(5),
            },
            Transition {
                incident: incident.id,
                from: IncidentState::Planning,
                to: IncidentState::Escalated,
                reason: "no plan".into(),
                at: at(6),
            },
        ]
    );
}

pub async fn illegal_transition_is_a_conflict<S: Store>(store: &S) {
    let incident = open(store, "NginxDown", "web1", at(0)).await;
    assert_conflict(
        store
            .transition(incident.id, IncidentState::Executing, "skip ahead", at(1))
            .await,
        "received -> executing",
    );
    assert_eq!(store.incident(incident.id).await.unwrap(), incident);
    assert!(store.transitions(incident.id).await.unwrap().is_empty());

    walk(store, incident.id, &[IncidentState::Resolved], at(2)).await;
    for to in IncidentState::ALL {
        assert_conflict(
            store
                .transition(incident.id, to, "from terminal", at(3))
                .await,
            "resolved is terminal",
        );
    }
    assert_eq!(store.transitions(incident.id).await.unwrap().len(), 1);
}

pub async fn concurrent_transitions_check_the_current_state<S: Store>(store: &S) {
    let incident = open(store, "NginxDown", "web1", at(0)).await;
    // Received -> Planning is legal once; Planning -> Planning is not.
    let results = join_all(
        (0..6).map(|_| store.transition(incident.id, IncidentState::Planning, "race", at(1))),
    )
    .await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    for result in results.into_iter().filter(|r| r.is_err()) {
        assert_conflict(result, "losing transition");
    }
    assert_eq!(store.transitions(incident.id).await.unwrap().len(), 1);
}

pub async fn set_root_and_bump_attempts<S: Store>(store: &S) {
    let root = open(store, "HostDown", "web1", at(0)).await;
    let child = open(store, "NginxDown", "web1", at(1)).await;
    store.set_root(child.id, Some(root.id)).await.unwrap();
    assert_eq!(store.incident(child.id).await.unwrap().root, Some(root.id));
    assert_not_found(
        store.set_root(child.id, Some(IncidentId::new())).await,
        "a missing root",
    );
    assert_conflict(store.set_root(child.id, Some(child.id)).await, "own root");
    store.set_root(child.id, None).await.unwrap();
    assert_eq!(store.incident(child.id).await.unwrap().root, None);

    assert_eq!(store.bump_attempts(child.id).await.unwrap(), 1);
    assert_eq!(store.bump_attempts(child.id).await.unwrap(), 2);
    assert_eq!(store.incident(child.id).await.unwrap().attempts, 2);
    assert_eq!(store.incident(root.id).await.unwrap().attempts, 0);
}

pub async fn incident_listings_filter_and_order<S: Store>(store: &S) {
    use IncidentState::*;
    let received = open(store, "NginxDown", "web1", at(0)).await;
    let suppressed = open(store, "NginxDown", "web2", at(1)).await;
    walk(store, suppressed.id, &[Suppressed], at(1)).await;
    let awaiting = open(store, "DiskFull", "db1", at(2)).await;
    walk(
        store,
        awaiting.id,
        &[Planning, Validating, AwaitingApproval],
        at(2),
    )
    .await;
    let failed = open(store, "DiskFull", "db2", at(3)).await;
    walk(
        store,
        failed.id,
        &[Planning, Validating, Executing, Verifying, Failed],
        at(3),
    )
    .await;
    let done = open(store, "NginxDown", "web3", at(4)).await;
    walk(store, done.id, &[Duplicate], at(4)).await;

    assert_eq!(
        ids(&store.in_flight().await.unwrap()),
        vec![received.id, failed.id]
    );
    assert_eq!(
        ids(&store.open_incidents().await.unwrap()),
        vec![received.id, suppressed.id, awaiting.id, failed.id]
    );

    let all = store.incidents(&IncidentFilter::default()).await.unwrap();
    assert_eq!(
        ids(&all),
        vec![done.id, failed.id, awaiting.id, suppressed.id, received.id],
        "newest first, limit 0 means no limit"
    );
    let filter = |f: IncidentFilter| async move { ids(&store.incidents(&f).await.unwrap()) };
    assert_eq!(
        filter(IncidentFilter {
            alert_name: Some("NginxDown".into()),
            ..Default::default()
        })
        .await,
        vec![done.id, suppressed.id, received.id]
    );
    assert_eq!(
        filter(IncidentFilter {
            state: Some(Suppressed),
            ..Default::default()
        })
        .await,
        vec![suppressed.id]
    );
    assert_eq!(
        filter(IncidentFilter {
            since: Some(at(2)),
            ..Default::default()
        })
        .await,
        vec![done.id, failed.id, awaiting.id]
    );
    assert_eq!(
        filter(IncidentFilter {
            limit: 2,
            offset: 1,
            ..Default::default()
        })
        .await,
        vec![failed.id, awaiting.id]
    );
    assert_eq!(
        filter(IncidentFilter {
            fingerprint: Some(done.fingerprint.clone()),
            ..Default::default()
        })
        .await,
        ids(&all)
            .into_iter()
            .filter(|id| {
                all.iter()
                    .any(|i| i.id == *id && i.fingerprint == done.fingerprint)
            })
            .collect::<Vec<_>>(),
        "the fingerprint filter keeps only that fingerprint's incidents"
    );
    assert_eq!(
        filter(IncidentFilter {
            fingerprint: Some(Fingerprint::parse("ffffffffffffffff").unwrap()),
            ..Default::default()
        })
        .await,
        Vec::<IncidentId>::new()
    );
    assert_eq!(
        filter(IncidentFilter {
            state: Some(Received),
            alert_name: Some("DiskFull".into()),
            ..Default::default()
        })
        .await,
        Vec::<IncidentId>::new()
    );
}

pub async fn latest_incident_for_a_fingerprint<S: Store>(store: &S) {
    let first = open(store, "NginxDown", "web1", at(0)).await;
    let second = open(store, "NginxDown", "web1", at(60)).await;
    let _other = open(store, "NginxDown", "web2", at(120)).await;
    assert_eq!(first.fingerprint, second.fingerprint);
    let latest = store
        .latest_incident_for(&first.fingerprint, at(0))
        .await
        .unwrap();
    assert_eq!(latest.map(|i| i.id), Some(second.id));
    let none = store
        .latest_incident_for(&first.fingerprint, at(61))
        .await
        .unwrap();
    assert_eq!(none, None);
    let unknown = Fingerprint::parse("ffff").unwrap();
    assert_eq!(
        store.latest_incident_for(&unknown, at(0)).await.unwrap(),
        None
    );
}

pub async fn claim_is_exclusive_until_expiry<S: Store>(store: &S) {
    let incident = open(store, "NginxDown", "web1", at(0)).await;
    let id = incident.id;
    assert!(store.claim(id, "a", at(30), at(0)).await.unwrap());
    let held = store.incident(id).await.unwrap();
    assert_eq!(held.lease_owner.as_deref(), Some("a"));
    assert_eq!(held.lease_until, Some(at(30)));

    assert!(!store.claim(id, "b", at(40), at(10)).await.unwrap());
    assert_eq!(
        store.incident(id).await.unwrap().lease_owner.as_deref(),
        Some("a")
    );
    // The holder renews.
    assert!(store.claim(id, "a", at(60), at(20)).await.unwrap());
    assert!(!store.claim(id, "b", at(70), at(59)).await.unwrap());
    // Expired: anyone may take it.
    assert!(store.claim(id, "b", at(120), at(61)).await.unwrap());
    assert_eq!(
        store.incident(id).await.unwrap().lease_owner.as_deref(),
        Some("b")
    );

    // Only the holder releases.
    store.release(id, "a").await.unwrap();
    assert_eq!(
        store.incident(id).await.unwrap().lease_owner.as_deref(),
        Some("b")
    );
    store.release(id, "b").await.unwrap();
    let free = store.incident(id).await.unwrap();
    assert_eq!((free.lease_owner, free.lease_until), (None, None));
    assert!(store.claim(id, "c", at(200), at(62)).await.unwrap());
}

pub async fn concurrent_claims_have_one_winner<S: Store>(store: &S) {
    let incident = open(store, "NginxDown", "web1", at(0)).await;
    let owners: Vec<String> = (0..8).map(|i| format!("replica-{i}")).collect();
    let results = join_all(
        owners
            .iter()
            .map(|owner| store.claim(incident.id, owner, at(30), at(1))),
    )
    .await;
    let winners: Vec<&String> = owners
        .iter()
        .zip(&results)
        .filter(|(_, r)| *r.as_ref().expect("claim"))
        .map(|(o, _)| o)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert_eq!(
        store
            .incident(incident.id)
            .await
            .unwrap()
            .lease_owner
            .as_ref(),
        Some(winners[0])
    );
}

// --- attempts and escalations ---------------------------------------------

pub async fn attempts_round_trip_oldest_first<S: Store>(store: &S) {
    let incident = open(store, "NginxDown", "web1", at(0)).await;
    let mut second = attempt(&incident, at(20));
    second.outcome = Outcome::Failed {
        reason: "still firing".into(),
    };
    second.verification = Some(Verification::StillFiring {
        waited: Duration::from_secs(120),
    });
    second.steps[0].result = None;
    second.steps[0].error = Some("connection refused".into());
    second.counts_toward_limit = false;
    let first = attempt(&incident, at(10));
    store.record_attempt(&second).await.unwrap();
    store.record_attempt(&first).await.unwrap();
    assert_eq!(
        store.attempts(incident.id).await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert_conflict(store.record_attempt(&first).await, "the same attempt twice");
    assert_eq!(store.attempts(incident.id).await.unwrap().len(), 2);
}

pub async fn clear_attempts_hides_from_key_but_not_from_incident<S: Store>(store: &S) {
    let incident = open(store, "NginxDown", "web1", at(0)).await;
    let other = open(store, "NginxDown", "web2", at(0)).await;
    let old = attempt(&incident, at(10));
    let recent = attempt(&incident, at(20));
    let elsewhere = attempt(&other, at(15));
    for a in [&old, &recent, &elsewhere] {
        store.record_attempt(a).await.unwrap();
    }
    assert_eq!(
        store.attempts_for_key(&incident.key, at(0)).await.unwrap(),
        vec![old.clone(), recent.clone()]
    );
    assert_eq!(
        store.attempts_for_key(&incident.key, at(11)).await.unwrap(),
        vec![recent.clone()],
        "since is inclusive of later starts only"
    );
    assert_eq!(
        store.attempts_for_key(&incident.key, at(20)).await.unwrap(),
        vec![recent.clone()],
        "since is inclusive"
    );

    store.clear_attempts(&incident.key, at(30)).await.unwrap();
    assert!(
        store
            .attempts_for_key(&incident.key, at(0))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.attempts(incident.id).await.unwrap(),
        vec![old, recent],
        "cleared attempts stay readable"
    );
    assert_eq!(
        store.attempts_for_key(&other.key, at(0)).await.unwrap(),
        vec![elsewhere],
        "other keys are untouched"
    );
    let after = attempt(&incident, at(40));
    store.record_attempt(&after).await.unwrap();
    assert_eq!(
        store.attempts_for_key(&incident.key, at(0)).await.unwrap(),
        vec![after]
    );
}

pub async fn escalations_remember_the_latest<S: Store>(store: &S) {
    let incident = open(store, "NginxDown", "web1", at(0)).await;
    assert_eq!(store.last_escalation(&incident.key).await.unwrap(), None);
    store
        .record_escalation(&incident.key, incident.id, at(50))
        .await
        .unwrap();
    store
        .record_escalation(&incident.key, incident.id, at(10))
        .await
        .unwrap();
    assert_eq!(
        store.last_escalation(&incident.key).await.unwrap(),
        Some(at(50))
    );
    let other = RouteKey::new("NginxDown", "web2");
    assert_eq!(store.last_escalation(&other).await.unwrap(), None);
}

// --- learning ---------------------------------------------------------------

pub async fn patterns_are_saved_replaced_and_deleted<S: Store>(store: &S) {
    let a = pattern("sig-a", "systemctl restart nginx", at(0));
    let mut b = pattern("sig-b", "systemctl restart nginx", at(1));
    b.source = PatternSource::Seeded;
    b.last_used = None;
    let c = pattern("sig-a", "nginx -s reload", at(2));
    for p in [&a, &b, &c] {
        store.save_pattern(p).await.unwrap();
    }
    assert_eq!(store.pattern(a.id).await.unwrap(), a);
    assert_eq!(
        store.patterns().await.unwrap(),
        vec![a.clone(), b.clone(), c.clone()]
    );
    assert_eq!(
        store.patterns_for("sig-a").await.unwrap(),
        vec![a.clone(), c.clone()]
    );
    assert!(store.patterns_for("sig-z").await.unwrap().is_empty());

    let mut a2 = a.clone();
    a2.successes = 10;
    a2.last_used = Some(at(99));
    a2.steps.push(Step::shell("web1", "curl -fsS localhost"));
    store.save_pattern(&a2).await.unwrap();
    assert_eq!(store.pattern(a.id).await.unwrap(), a2);
    assert_eq!(store.patterns().await.unwrap().len(), 3);

    store.delete_pattern(b.id).await.unwrap();
    assert_not_found(store.pattern(b.id).await, "deleted pattern");
    assert_not_found(store.delete_pattern(b.id).await, "deleted twice");
    assert_eq!(store.patterns().await.unwrap(), vec![a2, c]);
}

pub async fn pattern_uniqueness_is_a_conflict<S: Store>(store: &S) {
    let a = pattern("sig-a", "systemctl restart nginx", at(0));
    store.save_pattern(&a).await.unwrap();
    let mut twin = pattern("sig-a", "systemctl restart nginx", at(1));
    twin.steps[0].reason = "reasons do not change the plan".into();
    assert_conflict(store.save_pattern(&twin).await, "same signature and plan");
    assert_eq!(store.patterns().await.unwrap(), vec![a.clone()]);

    // Replacing by id with the same plan is fine; moving onto another's plan is not.
    store.save_pattern(&a).await.unwrap();
    let b = pattern("sig-a", "nginx -s reload", at(2));
    store.save_pattern(&b).await.unwrap();
    let mut moved = b.clone();
    moved.steps = a.steps.clone();
    assert_conflict(
        store.save_pattern(&moved).await,
        "replace onto another plan",
    );
    assert_eq!(store.pattern(b.id).await.unwrap(), b);
}

pub async fn failures_count_again<S: Store>(store: &S) {
    let failure = FailurePattern {
        signature: "sig-a".into(),
        plan_signature: steps_signature(&[Step::shell("web1", "systemctl restart nginx")]),
        summary: vec!["web1: systemctl restart nginx".into()],
        failures: 1,
        reason: "still firing".into(),
        last_failed_at: at(10),
    };
    store.record_failure(&failure).await.unwrap();
    let again = FailurePattern {
        reason: "exit 1".into(),
        last_failed_at: at(20),
        ..failure.clone()
    };
    store.record_failure(&again).await.unwrap();
    let other = FailurePattern {
        plan_signature: "other".into(),
        last_failed_at: at(5),
        ..failure.clone()
    };
    store.record_failure(&other).await.unwrap();

    let found = store.failures_for("sig-a", at(0)).await.unwrap();
    assert_eq!(
        found,
        vec![
            other.clone(),
            FailurePattern {
                failures: 2,
                ..again.clone()
            }
        ]
    );
    assert_eq!(store.failures_for("sig-a", at(6)).await.unwrap().len(), 1);
    assert!(
        store
            .failures_for("sig-a", at(21))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.failures_for("sig-b", at(0)).await.unwrap().is_empty());
}

// --- maintenance, approvals, hosts, hand-offs --------------------------------

pub async fn maintenance_windows_not_ended<S: Store>(store: &S) {
    let window = |scope, starts, ends| MaintenanceWindow {
        id: MaintenanceId::new(),
        scope,
        reason: "upgrade".into(),
        created_by: "ops".into(),
        starts_at: at(starts),
        ends_at: at(ends),
        ended_at: None,
        silence_id: None,
    };
    let past = window(MaintenanceScope::Global, -100, -10);
    let active = window(MaintenanceScope::Host("web1".into()), -10, 100);
    let pending = window(MaintenanceScope::Global, 50, 150);
    let mut ended_early = window(MaintenanceScope::Host("db1".into()), -20, 200);
    for w in [&past, &active, &pending, &ended_early] {
        store.save_maintenance(w).await.unwrap();
    }
    assert_eq!(
        store.maintenance_windows(at(0)).await.unwrap(),
        vec![ended_early.clone(), active.clone(), pending.clone()]
    );
    ended_early.ended_at = Some(at(-1));
    store.save_maintenance(&ended_early).await.unwrap();
    assert_eq!(
        store.maintenance_windows(at(0)).await.unwrap(),
        vec![active.clone(), pending.clone()]
    );
    assert_eq!(
        store.maintenance_windows(at(100)).await.unwrap(),
        vec![pending]
    );
}

/// The Alertmanager silence id is kept, replaced and cleared with the window.
pub async fn maintenance_silence_id_round_trips<S: Store>(store: &S) {
    let mut silenced = MaintenanceWindow {
        id: MaintenanceId::new(),
        scope: MaintenanceScope::Host("web1".into()),
        reason: "kernel upgrade".into(),
        created_by: "ops".into(),
        starts_at: at(-10),
        ends_at: at(100),
        ended_at: None,
        silence_id: Some("7f0a1d4e-2b8c-4c55-9f0e-6a3b1c2d4e5f".into()),
    };
    let plain = MaintenanceWindow {
        id: MaintenanceId::new(),
        scope: MaintenanceScope::Global,
        starts_at: at(-5),
        silence_id: None,
        ..silenced.clone()
    };
    store.save_maintenance(&silenced).await.unwrap();
    store.save_maintenance(&plain).await.unwrap();
    let listed = store.maintenance_windows(at(0)).await.unwrap();
    assert_eq!(listed, vec![silenced.clone(), plain.clone()]);

    silenced.silence_id = Some("a second silence".into());
    store.save_maintenance(&silenced).await.unwrap();
    assert_eq!(
        store.maintenance_windows(at(0)).await.unwrap()[0].silence_id,
        silenced.silence_id
    );
    silenced.silence_id = None;
    store.save_maintenance(&silenced).await.unwrap();
    assert_eq!(
        store.maintenance_windows(at(0)).await.unwrap(),
        vec![silenced, plain]
    );
}

pub async fn approvals_round_trip_by_status<S: Store>(store: &S) {
    let incident = open(store, "NginxDown", "web1", at(0)).await;
    let approval = |requested| Approval {
        id: ApprovalId::new(),
        incident: incident.id,
        step: Step::shell("web1", "reboot").with_reason("kernel hung"),
        rule: "approve-reboot".into(),
        reason: "reboots need a person".into(),
        status: ApprovalStatus::Pending,
        requested_at: at(requested),
        expires_at: at(requested + 3600),
        decided_by: None,
        decided_at: None,
    };
    let first = approval(1);
    let mut second = approval(2);
    store.save_approval(&second).await.unwrap();
    store.save_approval(&first).await.unwrap();
    assert_eq!(store.approval(first.id).await.unwrap(), first);
    assert_eq!(
        store.approvals(None).await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    second.status = ApprovalStatus::Approved;
    second.decided_by = Some("alice".into());
    second.decided_at = Some(at(30));
    store.save_approval(&second).await.unwrap();
    assert_eq!(
        store
            .approvals(Some(ApprovalStatus::Pending))
            .await
            .unwrap(),
        vec![first.clone()]
    );
    assert_eq!(
        store
            .approvals(Some(ApprovalStatus::Approved))
            .await
            .unwrap(),
        vec![second.clone()]
    );
    assert!(
        store
            .approvals(Some(ApprovalStatus::Expired))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn host_statuses_keep_the_latest_per_host<S: Store>(store: &S) {
    let status = |host: &str, online, secs| HostStatus {
        host: host.into(),
        online,
        reason: format!("probe at {secs}"),
        at: at(secs),
    };
    for s in [
        status("web1", false, 10),
        status("db1", true, 5),
        status("web1", true, 20),
        status("db1", false, 1),
    ] {
        store.record_host_status(&s).await.unwrap();
    }
    assert_eq!(
        store.host_statuses().await.unwrap(),
        vec![status("db1", true, 5), status("web1", true, 20)]
    );
}

pub async fn handoffs_round_trip_by_state<S: Store>(store: &S) {
    let incident = open(store, "JarvisDbDown", "db1", at(0)).await;
    let mut first = Handoff {
        id: HandoffId::new(),
        target: "postgres".into(),
        incident: Some(incident.id),
        state: HandoffState::Pending,
        reason: "database restart".into(),
        created_at: at(1),
        updated_at: at(1),
    };
    let second = Handoff {
        id: HandoffId::new(),
        target: "jarvis".into(),
        incident: None,
        state: HandoffState::Pending,
        reason: "self upgrade".into(),
        created_at: at(2),
        updated_at: at(2),
    };
    store.save_handoff(&second).await.unwrap();
    store.save_handoff(&first).await.unwrap();
    assert_eq!(store.handoff(first.id).await.unwrap(), first);
    assert_eq!(
        store.handoffs(None).await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    first.state = HandoffState::Resumed;
    first.updated_at = at(60);
    store.save_handoff(&first).await.unwrap();
    assert_eq!(
        store.handoffs(Some(HandoffState::Pending)).await.unwrap(),
        vec![second]
    );
    assert_eq!(
        store.handoffs(Some(HandoffState::Resumed)).await.unwrap(),
        vec![first]
    );
}

pub async fn snapshots_and_anomalies<S: Store>(store: &S) {
    let incident = open(store, "NginxDown", "web1", at(0)).await;
    let other = open(store, "NginxDown", "web2", at(0)).await;
    let snapshot = |incident: IncidentId, label: &str, secs| Snapshot {
        incident,
        host: "web1".into(),
        label: label.into(),
        content: format!("{label} contents\nline 2"),
        at: at(secs),
    };
    let later = snapshot(incident.id, "nginx.conf", 20);
    let earlier = snapshot(incident.id, "systemctl status", 10);
    for s in [&later, &earlier, &snapshot(other.id, "x", 15)] {
        store.save_snapshot(s).await.unwrap();
    }
    assert_eq!(
        store.snapshots(incident.id).await.unwrap(),
        vec![earlier, later]
    );

    let anomaly = |series: &str, secs| AnomalyRecord {
        series: series.into(),
        value: 97.5,
        mean: 41.25,
        z_score: 4.125,
        at: at(secs),
        alert_fingerprint: Some("abcd".into()),
    };
    let mut quiet = anomaly("cpu{host=\"web1\"}", 5);
    quiet.alert_fingerprint = None;
    let loud = anomaly("mem{host=\"db1\"}", 30);
    store.record_anomaly(&loud).await.unwrap();
    store.record_anomaly(&quiet).await.unwrap();
    assert_eq!(
        store.anomalies(at(0)).await.unwrap(),
        vec![quiet, loud.clone()]
    );
    assert_eq!(store.anomalies(at(30)).await.unwrap(), vec![loud]);
    assert!(store.anomalies(at(31)).await.unwrap().is_empty());
}

// --- audit and notices --------------------------------------------------------

pub async fn audit_is_append_only_newest_first<S: Store>(store: &S) {
    let incident = open(store, "NginxDown", "web1", at(0)).await;
    let a = audit_entry(Some(incident.id), "web1: systemctl restart nginx", at(10));
    let b = AuditEntry {
        decision: "refuse".into(),
        executed: false,
        exit_code: None,
        host: None,
        ..audit_entry(None, "rm -rf /", at(20))
    };
    // Same instant as `b`: appended later, so listed first.
    let c = audit_entry(Some(incident.id), "web1: nginx -t", at(20));
    for e in [&a, &b, &c] {
        store.audit(e).await.unwrap();
    }
    assert_eq!(
        store.audit_log(None, 0).await.unwrap(),
        vec![c.clone(), b.clone(), a.clone()]
    );
    assert_eq!(
        store.audit_log(None, 2).await.unwrap(),
        vec![c.clone(), b.clone()]
    );
    assert_eq!(
        store.audit_log(Some(incident.id), 10).await.unwrap(),
        vec![c.clone(), a.clone()]
    );
    // Appending the same entry again adds a line; nothing is replaced.
    store.audit(&a).await.unwrap();
    assert_eq!(store.audit_log(None, 0).await.unwrap().len(), 4);
}

pub async fn notices_per_incident_oldest_first<S: Store>(store: &S) {
    let incident = open(store, "NginxDown", "web1", at(0)).await;
    let late = notice(Some(incident.id), "fixed", at(30));
    let early = NoticeRecord {
        delivered: false,
        error: Some("discord answered 429".into()),
        ..notice(Some(incident.id), "working on it", at(10))
    };
    let unrelated = notice(None, "daily report", at(20));
    for n in [&late, &early, &unrelated] {
        store.record_notice(n).await.unwrap();
    }
    assert_eq!(store.notices(incident.id).await.unwrap(), vec![early, late]);
}

// --- retention ----------------------------------------------------------------

pub async fn prune_removes_closed_history_and_keeps_open_incidents<S: Store>(store: &S) {
    use IncidentState::*;
    // Old and closed: goes, with its transitions, attempts, notices, alert.
    let closed = open(store, "NginxDown", "web1", at(0)).await;
    walk(
        store,
        closed.id,
        &[Planning, Validating, Executing, Verifying, Resolved],
        at(10),
    )
    .await;
    store
        .record_attempt(&attempt(&closed, at(5)))
        .await
        .unwrap();
    store
        .record_notice(&notice(Some(closed.id), "fixed", at(11)))
        .await
        .unwrap();
    // Old but open: stays, with its history.
    let stuck = open(store, "DiskFull", "db1", at(0)).await;
    walk(store, stuck.id, &[Planning], at(10)).await;
    let stuck_attempt = attempt(&stuck, at(6));
    store.record_attempt(&stuck_attempt).await.unwrap();
    let stuck_notice = notice(Some(stuck.id), "working", at(12));
    store.record_notice(&stuck_notice).await.unwrap();
    // Closed after the cut-off: stays.
    let recent = open(store, "NginxDown", "web2", at(0)).await;
    walk(store, recent.id, &[Closed], at(2000)).await;
    // An old processed resolution goes; an old unprocessed one stays.
    let fired = firing("MemHigh", "web9", at(0));
    let gone = store
        .ingest(&batch(&[resolved(&fired, at(1))], at(1)))
        .await
        .unwrap()[0]
        .alert;
    store.mark_processed(gone, at(2)).await.unwrap();
    let waiting_alert = firing("MemHigh", "web8", at(0));
    let waiting = store
        .ingest(&batch(&[resolved(&waiting_alert, at(1))], at(1)))
        .await
        .unwrap()[0]
        .alert;
    // Audit: one old, one new.
    let old_audit = audit_entry(Some(closed.id), "old", at(10));
    let new_audit = audit_entry(None, "new", at(1500));
    store.audit(&old_audit).await.unwrap();
    store.audit(&new_audit).await.unwrap();
    let old_unrelated_notice = notice(None, "old daily report", at(20));
    store.record_notice(&old_unrelated_notice).await.unwrap();
    let kept_pattern = pattern("sig-a", "systemctl restart nginx", at(0));
    store.save_pattern(&kept_pattern).await.unwrap();

    let report = store.prune(at(1000)).await.unwrap();
    assert_eq!(
        report,
        PruneReport {
            alerts: 2,
            incidents: 1,
            attempts: 1,
            audit: 1,
            notices: 2,
        }
    );

    assert_not_found(store.incident(closed.id).await, "pruned incident");
    assert!(store.transitions(closed.id).await.unwrap().is_empty());
    assert!(store.attempts(closed.id).await.unwrap().is_empty());
    assert!(store.notices(closed.id).await.unwrap().is_empty());
    assert_not_found(
        store.alert(closed.alert_id).await,
        "alert of a pruned incident",
    );
    assert_not_found(store.alert(gone).await, "processed resolution");

    assert_eq!(store.incident(stuck.id).await.unwrap().state, Planning);
    assert_eq!(store.transitions(stuck.id).await.unwrap().len(), 1);
    assert_eq!(store.attempts(stuck.id).await.unwrap(), vec![stuck_attempt]);
    assert_eq!(store.notices(stuck.id).await.unwrap(), vec![stuck_notice]);
    store
        .alert(stuck.alert_id)
        .await
        .expect("alert of an open incident");
    assert_eq!(store.incident(recent.id).await.unwrap().state, Closed);
    store
        .alert(recent.alert_id)
        .await
        .expect("alert of a kept incident");
    assert_eq!(
        store
            .unprocessed_resolutions(0)
            .await
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect::<Vec<_>>(),
        vec![waiting]
    );
    assert_eq!(store.audit_log(None, 0).await.unwrap(), vec![new_audit]);
    assert_eq!(store.patterns().await.unwrap(), vec![kept_pattern]);

    // Pruning again finds nothing more.
    assert_eq!(store.prune(at(1000)).await.unwrap(), PruneReport::default());
}
