//! Pipeline tests with in-memory fakes: every state transition and every limit.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::*;
use crate::clock::ManualClock;
use crate::correlation::{Cascade, CorrelationConfig};
use crate::hints::{Route, RouteRule};
use crate::planner::DeterministicPlanner;
use crate::testing::*;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

struct World {
    pipeline: Pipeline,
    store: Arc<InMemoryStore>,
    executor: Arc<RecordingExecutor>,
    verifier: Arc<ScriptedVerifier>,
    notifier: Arc<RecordingNotifier>,
    planner: Arc<ScriptedPlanner>,
    clock: Arc<ManualClock>,
}

struct Setup {
    executor: RecordingExecutor,
    verifier: ScriptedVerifier,
    planner: ScriptedPlanner,
    config: PipelineConfig,
    routing: Routing,
    correlation: CorrelationConfig,
    safety: crate::safety::SafetyConfig,
    deterministic_main: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            executor: RecordingExecutor::new(),
            verifier: ScriptedVerifier::always_cleared(),
            planner: ScriptedPlanner::default(),
            config: PipelineConfig::default(),
            routing: Routing::default(),
            correlation: CorrelationConfig::default(),
            safety: crate::safety::SafetyConfig::default(),
            deterministic_main: true,
        }
    }
}

impl Setup {
    fn build(self) -> World {
        let store = Arc::new(InMemoryStore::new());
        let executor = Arc::new(self.executor);
        let verifier = Arc::new(self.verifier);
        let notifier = Arc::new(RecordingNotifier::new());
        let planner = Arc::new(self.planner);
        let clock = Arc::new(ManualClock::new(t0()));
        let main: Arc<dyn Planner> = if self.deterministic_main {
            Arc::new(DeterministicPlanner::new())
        } else {
            planner.clone()
        };
        let ports = Ports {
            store: store.clone(),
            planner: main,
            fallback: Some(Arc::new(DeterministicPlanner::new())),
            executor: executor.clone(),
            verifier: verifier.clone(),
            notifier: notifier.clone(),
            clock: clock.clone(),
        };
        let policy = Policy {
            config: self.config,
            safety: Arc::new(SafetyPolicy::new(&self.safety, &[]).unwrap()),
            routing: self.routing,
            runbooks: Arc::new(RwLock::new(RunbookLibrary::default())),
            correlator: Correlator::new(&self.correlation).unwrap(),
            learning: LearningConfig::default(),
            hosts: Vec::new(),
            owner: "test".into(),
        };
        World {
            pipeline: Pipeline::new(ports, policy),
            store,
            executor,
            verifier,
            notifier,
            planner,
            clock,
        }
    }
}

fn alert(name: &str, labels: &[(&str, &str)], commands: &str) -> Alert {
    let mut l = Labels::new();
    l.insert("alertname".into(), name.into());
    for (k, v) in labels {
        l.insert(k.to_string(), v.to_string());
    }
    let mut a = Alert::firing(l, t0());
    if !commands.is_empty() {
        a.annotations
            .insert("remediation_commands".into(), commands.into());
    }
    a
}

fn container_down() -> Alert {
    alert(
        "ContainerDown",
        &[("instance", "docker1:9323"), ("container", "frigate")],
        "docker restart frigate",
    )
}

fn resolved(mut a: Alert) -> Alert {
    a.status = AlertStatus::Resolved;
    a
}

impl World {
    async fn fire(&self, alert: Alert) -> Vec<Handled> {
        let ingested = self.pipeline.ingest(vec![alert], None).await.unwrap();
        self.pipeline.handle_ingested(&ingested).await
    }

    async fn states(&self, id: IncidentId) -> Vec<IncidentState> {
        let mut states = vec![IncidentState::Received];
        states.extend(
            self.store
                .transitions(id)
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.to),
        );
        states
    }
}

use IncidentState::*;

#[tokio::test]
async fn a_verified_fix_resolves_learns_and_notifies() {
    let w = Setup::default().build();
    let handled = w.fire(container_down()).await;
    assert_eq!(handled.len(), 1);
    let id = handled[0].incident;
    assert_eq!(handled[0].state, Resolved);
    assert_eq!(
        w.states(id).await,
        vec![
            Received, Planning, Validating, Executing, Verifying, Resolved
        ]
    );
    assert_eq!(w.executor.ran(), vec!["docker1: docker restart frigate"]);
    let patterns = w.store.patterns().await.unwrap();
    assert_eq!(patterns.len(), 1);
    assert_eq!(patterns[0].successes, 1);
    assert_eq!(patterns[0].source, PatternSource::Deterministic);
    assert_eq!(w.notifier.kinds(), vec![NoticeKind::RemediationSuccess]);
    let attempts = w.store.attempts(id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].tier, Tier::Deterministic);
    assert_eq!(attempts[0].outcome, Outcome::Resolved);
    let audit = w.store.audit_log(Some(id), 0).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert!(audit[0].executed);
}

#[tokio::test]
async fn a_redelivered_alert_is_not_handled_twice() {
    let w = Setup::default().build();
    w.fire(container_down()).await;
    let again = w.fire(container_down()).await;
    assert!(again.is_empty());
    assert_eq!(w.executor.ran().len(), 1);
}

#[tokio::test]
async fn the_same_fingerprint_within_five_minutes_is_a_duplicate() {
    let w = Setup::default().build();
    w.fire(container_down()).await;
    w.clock.advance(Duration::from_secs(60));
    let mut again = container_down();
    again.starts_at = t0() + chrono::Duration::seconds(60);
    let handled = w.fire(again.clone()).await;
    assert_eq!(handled[0].state, Duplicate);
    // After the window it is processed again.
    w.clock.advance(Duration::from_secs(300));
    again.starts_at = t0() + chrono::Duration::seconds(400);
    let handled = w.fire(again).await;
    assert_eq!(handled[0].state, Resolved);
    assert_eq!(w.executor.ran().len(), 2);
}

#[tokio::test]
async fn a_fix_that_exits_zero_but_does_not_fix_escalates_within_the_attempt_limit() {
    let w = Setup {
        verifier: ScriptedVerifier::never_cleared(),
        ..Setup::default()
    }
    .build();
    let handled = w.fire(container_down()).await;
    let id = handled[0].incident;
    assert_eq!(handled[0].state, Escalated);
    // One hinted plan; after it failed it is never repeated for the symptom.
    assert_eq!(w.executor.ran().len(), 1);
    assert!(!w.notifier.kinds().contains(&NoticeKind::RemediationSuccess));
    assert_eq!(w.notifier.kinds().last(), Some(&NoticeKind::Escalation));
    let patterns = w.store.patterns().await.unwrap();
    assert!(patterns.iter().all(|p| p.successes == 0));
    assert!(w.states(id).await.contains(&Failed) || w.states(id).await.contains(&Verifying));
}

#[tokio::test]
async fn the_planner_is_told_the_tokens_earlier_attempts_used() {
    let w = Setup {
        verifier: ScriptedVerifier::never_cleared(),
        deterministic_main: false,
        planner: ScriptedPlanner::new(
            (0..3)
                .map(|i| {
                    let mut plan = Plan::new(
                        Tier::FullReasoning,
                        vec![Step::shell("docker1", format!("docker restart frigate{i}"))],
                    );
                    plan.usage = LlmUsage {
                        calls: 1,
                        input_tokens: 300,
                        output_tokens: 100,
                        iterations: 1,
                    };
                    Ok(plan)
                })
                .collect(),
        ),
        ..Setup::default()
    }
    .build();
    w.fire(container_down()).await;
    let spent: Vec<u64> = w
        .planner
        .contexts()
        .iter()
        .map(|c| c.tokens_spent)
        .collect();
    assert_eq!(spent, [0, 400, 800]);
}

#[tokio::test]
async fn at_most_three_attempts_per_key_then_escalate_once_per_cooldown() {
    let w = Setup {
        verifier: ScriptedVerifier::never_cleared(),
        deterministic_main: false,
        planner: ScriptedPlanner::new(
            (0..10)
                .map(|i| {
                    Ok(Plan::new(
                        Tier::FullReasoning,
                        vec![Step::shell("docker1", format!("docker restart frigate{i}"))],
                    ))
                })
                .collect(),
        ),
        ..Setup::default()
    }
    .build();
    let handled = w.fire(container_down()).await;
    assert_eq!(handled[0].state, Escalated);
    assert_eq!(w.executor.ran().len(), 3);
    let escalations = |w: &World| {
        w.notifier
            .kinds()
            .iter()
            .filter(|k| **k == NoticeKind::Escalation)
            .count()
    };
    assert_eq!(escalations(&w), 1);
    // Ten minutes later the alert fires again: the budget is spent; no second notice.
    w.clock.advance(Duration::from_secs(600));
    let mut again = container_down();
    again.starts_at = t0() + chrono::Duration::seconds(600);
    let handled = w.fire(again).await;
    assert_eq!(handled[0].state, Escalated);
    assert_eq!(w.executor.ran().len(), 3);
    assert_eq!(escalations(&w), 1);
    // After the two-hour window the budget is back.
    w.clock.advance(Duration::from_secs(2 * 3600));
    let mut later = container_down();
    later.starts_at = t0() + chrono::Duration::seconds(3 * 3600);
    w.fire(later).await;
    assert_eq!(w.executor.ran().len(), 6);
}

#[tokio::test]
async fn a_resolved_alert_clears_its_attempt_history() {
    let w = Setup {
        verifier: ScriptedVerifier::never_cleared(),
        deterministic_main: false,
        planner: ScriptedPlanner::new(
            (0..10)
                .map(|i| {
                    Ok(Plan::new(
                        Tier::FullReasoning,
                        vec![Step::shell("docker1", format!("docker restart frigate{i}"))],
                    ))
                })
                .collect(),
        ),
        ..Setup::default()
    }
    .build();
    w.fire(container_down()).await;
    assert_eq!(w.executor.ran().len(), 3);
    w.fire(resolved(container_down())).await;
    w.clock.advance(Duration::from_secs(600));
    let mut again = container_down();
    again.starts_at = t0() + chrono::Duration::seconds(600);
    w.fire(again).await;
    assert_eq!(
        w.executor.ran().len(),
        6,
        "budget restored after resolution"
    );
}

#[tokio::test]
async fn backup_systems_do_not_share_an_attempt_budget() {
    let mut routes = std::collections::BTreeMap::new();
    for system in ["immich", "nextcloud"] {
        routes.insert(
            system.to_string(),
            Route {
                host: "nas".into(),
                commands: vec![format!("/usr/local/bin/backup-{system}.sh")],
            },
        );
    }
    let w = Setup {
        verifier: ScriptedVerifier::never_cleared(),
        routing: Routing {
            rules: vec![RouteRule {
                alert: "BackupStale".into(),
                by_label: "system".into(),
                routes,
            }],
        },
        config: PipelineConfig {
            max_attempts: 1,
            ..PipelineConfig::default()
        },
        safety: {
            let mut safety = crate::safety::SafetyConfig::default();
            safety.hosts.insert(
                "nas".into(),
                crate::safety::HostRules {
                    allow: vec![r"^/usr/local/bin/backup-(immich|nextcloud)\.sh$".into()],
                    deny: Vec::new(),
                },
            );
            safety
        },
        ..Setup::default()
    }
    .build();
    for system in ["immich", "nextcloud"] {
        let a = alert(
            "BackupStale",
            &[("system", system), ("instance", "exporter:9100")],
            "",
        );
        let handled = w.fire(a).await;
        assert_eq!(handled[0].state, Escalated);
    }
    assert_eq!(
        w.executor.ran(),
        vec![
            "nas: /usr/local/bin/backup-immich.sh",
            "nas: /usr/local/bin/backup-nextcloud.sh"
        ]
    );
}

#[tokio::test]
async fn maintenance_and_offline_hosts_stop_remediation() {
    let w = Setup::default().build();
    w.store
        .save_maintenance(&MaintenanceWindow {
            id: MaintenanceId::new(),
            scope: MaintenanceScope::Host("docker1".into()),
            reason: "upgrade".into(),
            created_by: "op".into(),
            starts_at: t0() - chrono::Duration::minutes(1),
            ends_at: t0() + chrono::Duration::hours(1),
            ended_at: None,
            silence_id: None,
        })
        .await
        .unwrap();
    assert_eq!(w.fire(container_down()).await[0].state, InMaintenance);
    // A host window does not cover other hosts.
    let other = alert(
        "ContainerDown",
        &[("instance", "docker2:9323"), ("container", "n8n")],
        "docker restart n8n",
    );
    assert_eq!(w.fire(other).await[0].state, Resolved);
    w.store
        .record_host_status(&HostStatus {
            host: "docker3".into(),
            online: false,
            reason: "3 connection failures".into(),
            at: t0(),
        })
        .await
        .unwrap();
    let offline = alert(
        "ContainerDown",
        &[("instance", "docker3:9323"), ("container", "x")],
        "docker restart x",
    );
    assert_eq!(w.fire(offline).await[0].state, HostOffline);
    assert_eq!(w.executor.ran().len(), 1);
}

#[tokio::test]
async fn a_dangerous_command_is_refused_never_run_and_escalated() {
    let w = Setup {
        deterministic_main: false,
        planner: ScriptedPlanner::new(vec![
            Ok(Plan::new(
                Tier::FullReasoning,
                vec![Step::shell("docker1", "rm -rf /var/lib/docker")],
            )),
            Ok(Plan::new(
                Tier::FullReasoning,
                vec![Step::shell("docker1", "reboot")],
            )),
            Ok(Plan::new(
                Tier::FullReasoning,
                vec![Step::shell("docker1", "mkfs.ext4 /dev/sda1")],
            )),
        ]),
        ..Setup::default()
    }
    .build();
    let handled = w.fire(container_down()).await;
    assert_eq!(handled[0].state, Escalated);
    assert!(w.executor.ran().is_empty());
    let audit = w
        .store
        .audit_log(Some(handled[0].incident), 0)
        .await
        .unwrap();
    assert_eq!(audit.len(), 3);
    assert!(audit.iter().all(|e| e.decision == "refuse" && !e.executed));
    assert!(matches!(
        w.store.attempts(handled[0].incident).await.unwrap()[0].outcome,
        Outcome::Refused { .. }
    ));
}

#[tokio::test]
async fn an_unclassified_command_waits_for_approval_then_runs() {
    let w = Setup {
        deterministic_main: false,
        planner: ScriptedPlanner::new(vec![Ok(Plan::new(
            Tier::FullReasoning,
            vec![Step::shell("docker1", "/opt/vendor/fixit --now")],
        ))]),
        ..Setup::default()
    }
    .build();
    let handled = w.fire(container_down()).await;
    assert_eq!(handled[0].state, AwaitingApproval);
    assert!(w.executor.ran().is_empty());
    assert!(w.notifier.kinds().contains(&NoticeKind::ApprovalWaiting));
    let approvals = w
        .store
        .approvals(Some(ApprovalStatus::Pending))
        .await
        .unwrap();
    assert_eq!(approvals.len(), 1);
    let done = w
        .pipeline
        .approve(approvals[0].id, "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.state, Resolved);
    assert_eq!(w.executor.ran(), vec!["docker1: /opt/vendor/fixit --now"]);
    let approval = w.store.approval(approvals[0].id).await.unwrap();
    assert_eq!(approval.decided_by.as_deref(), Some("alice"));
}

#[tokio::test]
async fn an_unanswered_approval_expires_and_escalates() {
    let w = Setup {
        deterministic_main: false,
        planner: ScriptedPlanner::new(vec![Ok(Plan::new(
            Tier::FullReasoning,
            vec![Step::shell("docker1", "/opt/vendor/fixit --now")],
        ))]),
        ..Setup::default()
    }
    .build();
    let id = w.fire(container_down()).await[0].incident;
    assert_eq!(w.pipeline.expire_approvals().await.unwrap(), 0);
    w.clock.advance(Duration::from_secs(31 * 60));
    assert_eq!(w.pipeline.expire_approvals().await.unwrap(), 1);
    assert_eq!(w.store.incident(id).await.unwrap().state, Escalated);
    assert!(w.executor.ran().is_empty());
}

#[tokio::test]
async fn without_verification_nothing_is_called_success_or_learned() {
    let w = Setup {
        config: PipelineConfig {
            verification_enabled: false,
            ..PipelineConfig::default()
        },
        ..Setup::default()
    }
    .build();
    let handled = w.fire(container_down()).await;
    assert_eq!(handled[0].state, Unverified);
    assert!(w.store.patterns().await.unwrap().is_empty());
    assert_eq!(w.notifier.kinds(), vec![NoticeKind::RemediationUnverified]);
    let unverified = ScriptedVerifier::new(
        vec![Verification::Unverified {
            reason: "prometheus unreachable".into(),
        }],
        Verification::Cleared {
            after: Duration::from_secs(1),
        },
    );
    let w = Setup {
        verifier: unverified,
        ..Setup::default()
    }
    .build();
    assert_eq!(w.fire(container_down()).await[0].state, Unverified);
    assert!(w.store.patterns().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_llm_outage_falls_back_to_the_deterministic_planner_and_says_so() {
    let w = Setup {
        deterministic_main: false,
        planner: ScriptedPlanner::new(vec![Err(PlanError::Unavailable {
            planner: "claude".into(),
            reason: "401 authentication_error".into(),
        })]),
        ..Setup::default()
    }
    .build();
    let handled = w.fire(container_down()).await;
    assert_eq!(handled[0].state, Resolved);
    assert_eq!(w.executor.ran(), vec!["docker1: docker restart frigate"]);
    let transitions = w.store.transitions(handled[0].incident).await.unwrap();
    assert!(
        transitions
            .iter()
            .any(|t| t.reason.contains("fell back to the deterministic planner")),
        "{transitions:?}"
    );
}

#[tokio::test]
async fn a_trusted_pattern_runs_without_the_llm() {
    let llm_plan = || {
        Ok(Plan::new(
            Tier::FullReasoning,
            vec![Step::shell("docker1", "docker restart frigate")],
        ))
    };
    let w = Setup {
        deterministic_main: false,
        planner: ScriptedPlanner::new((0..10).map(|_| llm_plan()).collect()),
        ..Setup::default()
    }
    .build();
    let mut tiers = Vec::new();
    for round in 0..8i64 {
        w.clock.advance(Duration::from_secs(3600));
        let mut a = container_down();
        a.starts_at = t0() + chrono::Duration::hours(round + 1);
        let handled = w.fire(a).await;
        assert_eq!(handled[0].state, Resolved);
        tiers.push(w.store.attempts(handled[0].incident).await.unwrap()[0].tier);
    }
    let calls = w.planner.calls();
    assert!(calls >= 5, "needs 5 verified successes first, got {calls}");
    assert!(calls < 8, "later rounds are cached: {tiers:?}");
    assert_eq!(tiers.last(), Some(&Tier::Cached));
    // Once hints are offered, the LLM sees the pattern as context.
    assert!(
        w.planner
            .contexts()
            .iter()
            .skip(1)
            .any(|c| c.pattern.is_some())
    );
}

#[tokio::test]
async fn a_dependent_is_held_behind_its_root_cause_and_reevaluated_after() {
    let correlation = CorrelationConfig {
        cascades: vec![Cascade {
            root: "WireGuardVPNDown".into(),
            dependents: vec!["OutpostDown".into()],
        }],
        ..CorrelationConfig::default()
    };
    let w = Setup {
        correlation,
        // The root's first check still fires; the dependent's quick check clears.
        verifier: ScriptedVerifier::always_cleared(),
        ..Setup::default()
    }
    .build();
    let dependent = alert(
        "OutpostDown",
        &[("instance", "outpost:9100")],
        "systemctl restart outpost",
    );
    let root = alert(
        "WireGuardVPNDown",
        &[("instance", "gw:9100")],
        "systemctl restart vpn-gateway",
    );
    // Both arrive in one notification, dependent first.
    let ingested = w
        .pipeline
        .ingest(vec![dependent, root], None)
        .await
        .unwrap();
    let handled = w.pipeline.handle_ingested(&ingested).await;
    let dep = handled
        .iter()
        .find(|h| h.incident == ingested[0].incident.unwrap())
        .unwrap();
    let dep_incident = w.store.incident(dep.incident).await.unwrap();
    // The dependent was held, then cleared with its root: only the root's fix ran.
    assert_eq!(w.executor.ran(), vec!["gw: systemctl restart vpn-gateway"]);
    assert_eq!(dep_incident.state, Resolved);
    assert!(w.states(dep.incident).await.contains(&Suppressed));
    assert_eq!(
        w.notifier
            .kinds()
            .iter()
            .filter(|k| **k == NoticeKind::RemediationSuccess)
            .count(),
        1,
        "one summary notice per incident, not one per alert"
    );
}

#[tokio::test]
async fn diagnostic_only_plans_do_not_count_as_attempts() {
    let w = Setup {
        deterministic_main: false,
        planner: ScriptedPlanner::new(vec![Ok(Plan::new(
            Tier::FullReasoning,
            vec![Step::shell("docker1", "docker logs --tail 50 frigate")],
        ))]),
        ..Setup::default()
    }
    .build();
    let handled = w.fire(container_down()).await;
    assert_eq!(handled[0].state, Escalated);
    assert_eq!(w.executor.ran().len(), 1);
    let attempts = w.store.attempts(handled[0].incident).await.unwrap();
    assert!(!attempts[0].counts_toward_limit);
    let key = w.pipeline.policy().routing.key(&container_down());
    let counted = w
        .store
        .attempts_for_key(&key, t0() - chrono::Duration::hours(3))
        .await
        .unwrap();
    assert!(counted.iter().all(|a| !a.counts_toward_limit));
}

#[tokio::test]
async fn a_crash_while_executing_resumes_by_verifying_never_rerunning() {
    let w = Setup::default().build();
    let ingested = w
        .pipeline
        .ingest(vec![container_down()], None)
        .await
        .unwrap();
    let id = ingested[0].incident.unwrap();
    for state in [Planning, Validating, Executing] {
        w.store
            .transition(id, state, "before the crash", t0())
            .await
            .unwrap();
    }
    let handled = w.pipeline.resume().await.unwrap();
    assert_eq!(handled.len(), 1);
    assert_eq!(handled[0].state, Resolved);
    assert!(w.executor.ran().is_empty(), "commands are never run twice");
    assert_eq!(w.verifier.calls(), 1);
}

#[tokio::test]
async fn an_accepted_but_unhandled_alert_is_handled_on_resume() {
    let w = Setup::default().build();
    let ingested = w
        .pipeline
        .ingest(vec![container_down()], None)
        .await
        .unwrap();
    assert!(ingested[0].new);
    let handled = w.pipeline.resume().await.unwrap();
    assert_eq!(handled[0].state, Resolved);
    assert_eq!(w.executor.ran().len(), 1);
}

#[tokio::test]
async fn an_alert_with_no_host_or_plan_escalates_with_a_reason() {
    let w = Setup::default().build();
    let a = alert("Mystery", &[], "");
    let handled = w.fire(a).await;
    assert_eq!(handled[0].state, Escalated);
    let notice = w.notifier.notices().pop().unwrap();
    assert!(notice.body.contains("no host"), "{}", notice.body);
}

#[tokio::test]
async fn a_firing_notification_can_carry_resolved_alerts() {
    let w = Setup::default().build();
    let firing = container_down();
    let other = alert(
        "ContainerDown",
        &[("instance", "docker1:9323"), ("container", "n8n")],
        "docker restart n8n",
    );
    w.fire(other.clone()).await;
    let ingested = w
        .pipeline
        .ingest(vec![firing, resolved(other)], None)
        .await
        .unwrap();
    let handled = w.pipeline.handle_ingested(&ingested).await;
    assert_eq!(handled.len(), 1, "the resolved one closes nothing new");
    assert_eq!(w.executor.ran().len(), 2);
}

mod order {
    //! mockall where the order is the assertion: execute, then verify, then notify.
    use mockall::Sequence;

    use super::*;
    use crate::ports::{MockExecutor, MockNotifier, MockVerifier};

    #[tokio::test]
    async fn success_is_never_notified_before_verification() {
        let mut seq = Sequence::new();
        let mut executor = MockExecutor::new();
        let mut verifier = MockVerifier::new();
        let mut notifier = MockNotifier::new();
        executor
            .expect_execute()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| {
                Ok(StepResult {
                    exit_code: Some(0),
                    ..StepResult::default()
                })
            });
        verifier
            .expect_verify()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Verification::Cleared {
                after: Duration::from_millis(800),
            });
        notifier
            .expect_notify()
            .times(1)
            .in_sequence(&mut seq)
            .withf(|n| n.kind == NoticeKind::RemediationSuccess)
            .returning(|_| Ok(()));
        let store = Arc::new(InMemoryStore::new());
        let ports = Ports {
            store: store.clone(),
            planner: Arc::new(DeterministicPlanner::new()),
            fallback: None,
            executor: Arc::new(executor),
            verifier: Arc::new(verifier),
            notifier: Arc::new(notifier),
            clock: Arc::new(ManualClock::new(t0())),
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
        let pipeline = Pipeline::new(ports, policy);
        let ingested = pipeline.ingest(vec![container_down()], None).await.unwrap();
        let handled = pipeline.handle_ingested(&ingested).await;
        assert_eq!(handled[0].state, Resolved);
    }
}

#[tokio::test]
async fn two_tasks_of_one_process_never_handle_the_same_incident() {
    let w = Setup::default().build();
    let ingested = w
        .pipeline
        .ingest(vec![container_down()], None)
        .await
        .unwrap();
    let id = ingested[0].incident.unwrap();
    // The lease is re-entrant for the same owner (a restarted process must
    // reclaim its own incidents), so the in-process guard is what stops this.
    let (a, b) = tokio::join!(w.pipeline.process(id), w.pipeline.process(id));
    let handled: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(
        handled.len(),
        1,
        "the second task stands back while the first works"
    );
    assert_eq!(w.executor.ran().len(), 1);
    // Once the first is done, the incident can be looked at again (it is terminal now).
    let again = w.pipeline.process(id).await.unwrap().unwrap();
    assert_eq!(again.state, Resolved);
    assert_eq!(w.executor.ran().len(), 1);
}

#[tokio::test]
async fn every_failed_attempt_is_notified_with_what_ran_and_what_comes_next() {
    let w = Setup {
        verifier: ScriptedVerifier::never_cleared(),
        ..Setup::default()
    }
    .build();
    let handled = w.fire(container_down()).await;
    assert_eq!(handled[0].state, Escalated);
    assert_eq!(
        w.notifier.kinds(),
        vec![NoticeKind::RemediationFailure, NoticeKind::Escalation]
    );
    let failure = &w.notifier.notices()[0];
    assert_eq!(failure.incident, Some(handled[0].incident));
    assert!(failure.title.starts_with("Attempt 1 failed"), "{failure:?}");
    assert!(failure.body.contains("still firing"), "{failure:?}");
    let field = |name: &str| {
        failure
            .fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert!(field("Commands").contains("docker restart frigate"));
    assert!(
        field("Next").contains("2 of 3 attempts left"),
        "{failure:?}"
    );
}

#[tokio::test]
async fn a_refused_step_is_notified_as_a_failed_attempt() {
    let w = Setup {
        deterministic_main: false,
        planner: ScriptedPlanner::new(vec![
            Ok(Plan::new(
                Tier::FullReasoning,
                vec![Step::shell("docker1", "rm -rf /var/lib/docker")],
            )),
            Ok(Plan::new(
                Tier::FullReasoning,
                vec![Step::shell("docker1", "docker restart frigate")],
            )),
        ]),
        ..Setup::default()
    }
    .build();
    let handled = w.fire(container_down()).await;
    assert_eq!(handled[0].state, Resolved);
    assert_eq!(
        w.notifier.kinds(),
        vec![
            NoticeKind::RemediationFailure,
            NoticeKind::RemediationSuccess
        ]
    );
    let failure = &w.notifier.notices()[0];
    assert!(failure.body.starts_with("refused"), "{failure:?}");
    assert!(
        failure
            .fields
            .iter()
            .any(|(k, v)| k == "Commands" && v.contains("never ran")),
        "{failure:?}"
    );
}

#[tokio::test]
async fn a_proactive_fix_is_held_for_the_daily_report_not_sent_alone() {
    let w = Setup::default().build();
    let synthetic = alert(
        "AnomalyDetected",
        &[
            ("instance", "docker1:9323"),
            ("container", "frigate"),
            (SYNTHETIC_LABEL, "anomaly"),
        ],
        "docker restart frigate",
    );
    let handled = w.fire(synthetic).await;
    assert_eq!(handled[0].state, Resolved);
    assert!(
        w.notifier.kinds().is_empty(),
        "no message of its own: {:?}",
        w.notifier.kinds()
    );
    let kept = w.store.notices(handled[0].incident).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].notice.kind, NoticeKind::RemediationSuccess);
    assert!(!kept[0].delivered);
    assert_eq!(kept[0].error.as_deref(), Some(HELD_FOR_DAILY_REPORT));
    // A real alert's fix is still announced at once.
    w.fire(container_down()).await;
    assert_eq!(w.notifier.kinds(), vec![NoticeKind::RemediationSuccess]);
}

#[tokio::test]
async fn an_incident_a_self_restart_interrupted_escalates_once() {
    let w = Setup::default().build();
    let ingested = w
        .pipeline
        .ingest(vec![container_down()], None)
        .await
        .unwrap();
    let id = ingested[0].incident.unwrap();
    let reason = "self-restart hand-off timed out";
    assert!(w.pipeline.escalate_interrupted(id, reason).await.unwrap());
    let incident = w.store.incident(id).await.unwrap();
    assert_eq!(incident.state, Escalated);
    assert_eq!(w.notifier.kinds(), vec![NoticeKind::Escalation]);
    assert_eq!(w.notifier.notices()[0].body, reason);
    // Already finished: nothing more.
    assert!(!w.pipeline.escalate_interrupted(id, reason).await.unwrap());
    assert_eq!(w.notifier.kinds().len(), 1);
}
