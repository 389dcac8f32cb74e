//! The proactive loops on the real app with a manual clock and a recording
//! notifier: the daily report schedule, proactive fixes summarised in it, and
//! self-restart hand-offs that time out.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jarvis_core::clock::ManualClock;
use jarvis_core::domain::{
    Alert, AnomalyRecord, Handoff, HandoffId, HandoffState, IncidentState, Labels, NoticeKind,
    SYNTHETIC_LABEL,
};
use jarvis_core::testing::RecordingNotifier;
use jarvis_server::app::{self, App, AppEnv};
use jarvis_server::proactive;
use tokio_util::sync::CancellationToken;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

struct Harness {
    app: App,
    clock: Arc<ManualClock>,
    notifier: Arc<RecordingNotifier>,
    _dir: tempfile::TempDir,
}

/// The app built (not serving, so no background loop touches the clock).
async fn harness(start: &str, extra: &[(&str, &str)]) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::test_config(dir.path(), extra).unwrap();
    let clock = Arc::new(ManualClock::new(at(start)));
    let notifier = Arc::new(RecordingNotifier::new());
    let app = app::build(
        cfg,
        AppEnv {
            clock: clock.clone(),
            owner: "proactive-test".into(),
            notifier: Some(notifier.clone()),
        },
    )
    .await
    .unwrap();
    Harness {
        app,
        clock,
        notifier,
        _dir: dir,
    }
}

fn synthetic_anomaly(starts_at: DateTime<Utc>) -> Alert {
    let mut labels = Labels::new();
    labels.insert("alertname".into(), "AnomalyDetected".into());
    labels.insert(SYNTHETIC_LABEL.into(), "anomaly".into());
    labels.insert("instance".into(), "docker1:9323".into());
    labels.insert("container".into(), "frigate".into());
    let mut alert = Alert::firing(labels, starts_at);
    alert.annotations.insert(
        "remediation_commands".into(),
        "docker restart frigate".into(),
    );
    alert
}

async fn wait_for(notifier: &RecordingNotifier, kind: NoticeKind) {
    for _ in 0..200 {
        if notifier.kinds().contains(&kind) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no {kind:?} notice; got {:?}", notifier.kinds());
}

#[tokio::test]
async fn the_daily_report_goes_out_at_eight_and_only_when_something_happened() {
    let h = harness("2026-03-01T07:00:00Z", &[]).await;
    let state = h.app.state().clone();
    state
        .store
        .record_anomaly(&AnomalyRecord {
            series: "cpu{instance=\"a\"}".into(),
            value: 99.0,
            mean: 10.0,
            z_score: 8.0,
            at: at("2026-03-01T06:30:00Z"),
            alert_fingerprint: None,
        })
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(proactive::run_daily_reports(state, cancel.clone()));
    wait_for(&h.notifier, NoticeKind::DailyReport).await;
    // Let the loop run through a few quiet days on the manual clock.
    tokio::time::sleep(Duration::from_millis(200)).await;
    cancel.cancel();
    task.await.unwrap();
    let reports: Vec<_> = h
        .notifier
        .notices()
        .into_iter()
        .filter(|n| n.kind == NoticeKind::DailyReport)
        .collect();
    assert_eq!(reports.len(), 1, "quiet days send nothing: {reports:?}");
    assert_eq!(reports[0].at, at("2026-03-01T08:00:00Z"));
    assert!(reports[0].body.contains("1 anomaly"), "{}", reports[0].body);
    assert!(jarvis_core::ports::Clock::now(h.clock.as_ref()) > at("2026-03-02T08:00:00Z"));
}

#[tokio::test]
async fn the_report_time_and_offset_come_from_the_configuration() {
    let h = harness(
        "2026-03-01T04:00:00Z",
        &[
            ("JARVIS_REPORT__TIME", "07:30"),
            ("JARVIS_REPORT__UTC_OFFSET", "+02:00"),
        ],
    )
    .await;
    let state = h.app.state().clone();
    state
        .pipeline
        .ingest(vec![synthetic_anomaly(at("2026-03-01T03:00:00Z"))], None)
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(proactive::run_daily_reports(state, cancel.clone()));
    wait_for(&h.notifier, NoticeKind::DailyReport).await;
    cancel.cancel();
    task.await.unwrap();
    let report = h
        .notifier
        .notices()
        .into_iter()
        .find(|n| n.kind == NoticeKind::DailyReport)
        .unwrap();
    assert_eq!(report.at, at("2026-03-01T05:30:00Z"));
}

#[tokio::test]
async fn proactive_fixes_are_summarised_in_the_daily_report_not_sent_one_by_one() {
    let h = harness("2026-03-01T07:00:00Z", &[]).await;
    let state = h.app.state();
    let ingested = state
        .pipeline
        .ingest(vec![synthetic_anomaly(at("2026-03-01T06:55:00Z"))], None)
        .await
        .unwrap();
    let handled = state.pipeline.handle_ingested(&ingested).await;
    // Zero configuration: the dry-run executor ran it, verification is off.
    assert_eq!(handled[0].state, IncidentState::Unverified);
    assert!(
        h.notifier.kinds().is_empty(),
        "no message per proactive fix: {:?}",
        h.notifier.kinds()
    );
    h.clock.set(at("2026-03-01T08:00:00Z"));
    let report = proactive::send_daily_report(state, at("2026-03-01T08:00:00Z"))
        .await
        .unwrap()
        .expect("a proactive fix is news");
    let fixes = report
        .fields
        .iter()
        .find(|(k, _)| k == "Proactive fixes")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    assert!(fixes.starts_with("AnomalyDetected"), "{report:?}");
    assert_eq!(h.notifier.kinds(), vec![NoticeKind::DailyReport]);
}

#[tokio::test]
async fn a_hand_off_not_resumed_in_ten_minutes_fails_and_escalates_its_incident() {
    let h = harness("2026-03-01T12:00:00Z", &[]).await;
    let state = h.app.state();
    let mut labels = Labels::new();
    labels.insert("alertname".into(), "JarvisDown".into());
    let ingested = state
        .pipeline
        .ingest(
            vec![Alert::firing(labels, at("2026-03-01T11:59:00Z"))],
            None,
        )
        .await
        .unwrap();
    let incident = ingested[0].incident.unwrap();
    let handoff = Handoff {
        id: HandoffId::new(),
        target: "jarvis".into(),
        incident: Some(incident),
        state: HandoffState::Pending,
        reason: "requested by a remediation step".into(),
        created_at: at("2026-03-01T12:00:00Z"),
        updated_at: at("2026-03-01T12:00:00Z"),
    };
    state.store.save_handoff(&handoff).await.unwrap();

    h.clock.set(at("2026-03-01T12:09:59Z"));
    assert!(proactive::check_handoffs(state).await.unwrap().is_empty());
    assert_eq!(
        state.store.handoff(handoff.id).await.unwrap().state,
        HandoffState::Pending
    );

    h.clock.set(at("2026-03-01T12:10:00Z"));
    assert_eq!(proactive::check_handoffs(state).await.unwrap().len(), 1);
    let saved = state.store.handoff(handoff.id).await.unwrap();
    assert_eq!(saved.state, HandoffState::TimedOut);
    assert_eq!(
        state.store.incident(incident).await.unwrap().state,
        IncidentState::Escalated
    );
    assert_eq!(
        h.notifier.kinds(),
        vec![NoticeKind::Escalation, NoticeKind::SelfRestart]
    );
    let notice = h.notifier.notices().pop().unwrap();
    assert!(
        notice.title.contains("not resumed within 10 min"),
        "{notice:?}"
    );
    assert!(
        notice
            .fields
            .iter()
            .any(|(k, v)| k == "Incident" && v.ends_with("escalated")),
        "{notice:?}"
    );
    // Done once: the next check finds nothing.
    assert!(proactive::check_handoffs(state).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_hand_off_pending_for_thirty_minutes_is_cleaned_up_as_stale() {
    let h = harness("2026-03-01T12:30:00Z", &[]).await;
    let state = h.app.state();
    let handoff = Handoff {
        id: HandoffId::new(),
        target: "database".into(),
        incident: None,
        state: HandoffState::Pending,
        reason: "requested by ops".into(),
        created_at: at("2026-03-01T12:00:00Z"),
        updated_at: at("2026-03-01T12:00:00Z"),
    };
    state.store.save_handoff(&handoff).await.unwrap();
    let decisions = proactive::check_handoffs(state).await.unwrap();
    assert!(matches!(
        decisions[..],
        [jarvis_core::handoff::HandoffDecision::Stale(_)]
    ));
    let saved = state.store.handoff(handoff.id).await.unwrap();
    assert_eq!(saved.state, HandoffState::TimedOut);
    assert!(saved.reason.contains("cleaned up"), "{}", saved.reason);
    assert_eq!(h.notifier.kinds(), vec![NoticeKind::SelfRestart]);
}

#[tokio::test]
async fn resuming_a_hand_off_says_the_self_restart_finished() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::test_config(dir.path(), &[]).unwrap();
    let notifier = Arc::new(RecordingNotifier::new());
    let app = app::build(
        cfg,
        AppEnv {
            notifier: Some(notifier.clone()),
            ..AppEnv::default()
        },
    )
    .await
    .unwrap();
    let now = Utc::now();
    let handoff = Handoff {
        id: HandoffId::new(),
        target: "jarvis".into(),
        incident: None,
        state: HandoffState::Pending,
        reason: "requested by ops".into(),
        created_at: now,
        updated_at: now,
    };
    app.state().store.save_handoff(&handoff).await.unwrap();
    let running = app.spawn();
    let r = reqwest::Client::new()
        .post(running.url(&format!("/resume?handoff_id={}", handoff.id)))
        .basic_auth(common::USER, Some(common::PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    wait_for(&notifier, NoticeKind::SelfRestart).await;
    let notice = notifier
        .notices()
        .into_iter()
        .find(|n| n.kind == NoticeKind::SelfRestart)
        .unwrap();
    assert_eq!(notice.title, "Self-restart of jarvis finished");
    running.shutdown().await.unwrap();
}

/// `POST /self-restart` triggers the n8n workflow (a local fake of its
/// webhook node), records the hand-off, and says the restart started.
#[tokio::test]
async fn requesting_a_self_restart_triggers_n8n_and_says_it_started() {
    use axum::routing::post;
    let received: Arc<std::sync::Mutex<Vec<serde_json::Value>>> = Arc::default();
    let seen = received.clone();
    let n8n = axum::Router::new().route(
        "/webhook/jarvis-self-restart",
        post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(body);
                axum::Json(serde_json::json!({"message": "Workflow was started"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let n8n_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, n8n).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let cfg = common::test_config(
        dir.path(),
        &[
            ("JARVIS_N8N__URL", n8n_url.as_str()),
            ("JARVIS_N8N__SELF_RESTART_WEBHOOK", "jarvis-self-restart"),
        ],
    )
    .unwrap();
    let notifier = Arc::new(RecordingNotifier::new());
    let app = app::build(
        cfg,
        AppEnv {
            notifier: Some(notifier.clone()),
            ..AppEnv::default()
        },
    )
    .await
    .unwrap();
    let running = app.spawn();
    let r = reqwest::Client::new()
        .post(running.url("/self-restart?target=jarvis"))
        .basic_auth(common::USER, Some(common::PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let handoff: serde_json::Value = r.json().await.unwrap();
    let id = handoff["id"].as_str().unwrap().to_string();

    let started = notifier
        .notices()
        .into_iter()
        .find(|n| n.kind == NoticeKind::SelfRestart)
        .expect("a self-restart notice");
    assert!(started.title.contains("started"), "{started:?}");
    let body = received.lock().unwrap().clone();
    assert_eq!(body.len(), 1, "n8n was triggered once");
    assert!(body[0].to_string().contains(&id), "{body:?}");
    let pending = running
        .state
        .store
        .handoffs(Some(HandoffState::Pending))
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id.to_string(), id);
    running.shutdown().await.unwrap();
}
