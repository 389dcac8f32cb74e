//! Runs one scenario through the real pipeline against the simulated world.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jarvis_core::clock::ManualClock;
use jarvis_core::correlation::Correlator;
use jarvis_core::domain::*;
use jarvis_core::hints::Routing;
use jarvis_core::pipeline::{Pipeline, Policy, Ports};
use jarvis_core::planner::DeterministicPlanner;
use jarvis_core::ports::{Clock, Planner, Store};
use jarvis_core::runbook::RunbookLibrary;
use jarvis_core::safety::SafetyPolicy;
use jarvis_core::testing::InMemoryStore;
use serde::Serialize;

use super::ports::{CountingNotifier, ScriptedLlm, SimExecutor, SimState, SimVerifier};
use super::scenario::{AlertSpec, ApprovalAction, Dur, Scenario, ScenarioError};
use super::world::{World, WorldAlert};

/// Where the simulation starts unless the scenario says otherwise.
pub fn default_start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

const OWNER: &str = "jarvis-sim";
/// How long the simulated hand-off takes to restart Jarvis.
const RESTART_TIME: Duration = Duration::from_secs(30);
/// A hand-off that keeps restarting is stopped after this many restarts per delivery.
const MAX_RESTARTS: usize = 5;

/// One incident as the report shows it.
#[derive(Clone, Debug, Serialize)]
pub struct IncidentSummary {
    pub alert: String,
    pub labels: Labels,
    pub state: String,
    pub reason: String,
    pub states: Vec<String>,
    /// Attempts that count toward the attempt limit.
    pub attempts: u64,
    /// Tier of the last attempt.
    pub tier: Option<String>,
    pub llm_calls: u64,
    pub commands: Vec<String>,
    pub refused: Vec<String>,
    /// Seconds from the alert's arrival to resolution (simulated time).
    pub resolved_after_seconds: Option<f64>,
}

/// Measurements of one run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Metrics {
    pub incidents: u64,
    pub resolved: u64,
    pub escalated: u64,
    /// Incidents Jarvis was meant to act on (not duplicates, maintenance or offline hosts).
    pub actionable: u64,
    pub mttr_seconds: Vec<f64>,
    pub llm_calls: u64,
    pub llm_calls_saved: u64,
    pub llm_tokens: u64,
    pub cached: u64,
    pub commands_run: u64,
    pub commands_refused: u64,
    pub unsafe_executed: u64,
    pub alerts_received: u64,
    pub notifications_sent: u64,
    pub self_restarts: u64,
    pub simulated_seconds: u64,
}

/// Everything a run produced, for the expectations and the report.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    pub incidents: Vec<IncidentSummary>,
    pub executed: Vec<String>,
    pub metrics: Metrics,
}

/// What the pipeline needs besides the scenario.
#[derive(Clone, Debug)]
pub struct Env {
    pub runbooks: RunbookLibrary,
    /// Shows simulated time for a single long run (hidden otherwise).
    pub clock_bar: Option<indicatif::ProgressBar>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    Fault(usize),
    Heal(usize),
    Alert(usize),
    Resolve(usize),
}

struct Runner {
    scenario: Arc<Scenario>,
    env: Arc<Env>,
    sim: Arc<SimState>,
    store: Arc<InMemoryStore>,
    notifier: Arc<CountingNotifier>,
    llm: Option<Arc<ScriptedLlm>>,
    pipeline: Pipeline,
    alerts_received: u64,
    /// Scripted alerts as delivered, by timeline index (for their resolution).
    delivered: BTreeMap<usize, Alert>,
}

/// Builds a pipeline exactly as the server wires one, with the simulation's ports.
fn build_pipeline(
    scenario: &Scenario,
    env: &Env,
    sim: &Arc<SimState>,
    store: Arc<InMemoryStore>,
    notifier: Arc<CountingNotifier>,
    llm: Option<Arc<ScriptedLlm>>,
    file: &std::path::Path,
) -> Result<Pipeline, ScenarioError> {
    let cfg = &scenario.config;
    let hosts: Vec<Host> = scenario
        .world
        .hosts
        .iter()
        .map(|h| Host {
            name: h.name.clone(),
            address: h.name.clone(),
            port: 22,
            user: "root".into(),
            role: h.role.clone(),
            tags: Vec::new(),
        })
        .collect();
    let names: Vec<String> = hosts.iter().map(|h| h.name.clone()).collect();
    let safety_cfg = cfg.safety.clone().unwrap_or_default();
    let safety = SafetyPolicy::new(&safety_cfg, &names)
        .map_err(|e| ScenarioError::new(file, "config.safety", e.to_string()))?;
    let correlation = cfg.correlation.clone().unwrap_or_default();
    let correlator = Correlator::new(&correlation)
        .map_err(|e| ScenarioError::new(file, "config.correlation", e.to_string()))?;
    let deterministic: Arc<dyn Planner> = Arc::new(DeterministicPlanner::new());
    let (planner, fallback): (Arc<dyn Planner>, Option<Arc<dyn Planner>>) = match llm {
        Some(llm) => (llm, Some(deterministic)),
        None => (deterministic, None),
    };
    let ports = Ports {
        store,
        planner,
        fallback,
        executor: Arc::new(SimExecutor(sim.clone())),
        verifier: Arc::new(SimVerifier(sim.clone())),
        notifier,
        clock: sim.clock.clone(),
    };
    let policy = Policy {
        config: cfg.pipeline.clone().unwrap_or_default(),
        safety: Arc::new(safety),
        routing: Routing {
            rules: cfg.routing.clone(),
        },
        runbooks: Arc::new(RwLock::new(env.runbooks.clone())),
        correlator,
        learning: cfg.learning.clone().unwrap_or_default(),
        hosts,
        owner: OWNER.into(),
    };
    Ok(Pipeline::new(ports, policy))
}

/// Runs a scenario to its end and collects what happened.
pub async fn run(
    scenario: Arc<Scenario>,
    env: Arc<Env>,
    file: PathBuf,
) -> Result<RunOutcome, ScenarioError> {
    let start = scenario.start.unwrap_or_else(default_start);
    let clock = Arc::new(ManualClock::new(start));
    let world = World::new(&scenario.world, start, scenario.config.predictions);
    let sim = Arc::new(SimState::new(world, clock.clone()));
    let store = Arc::new(InMemoryStore::new());
    let notifier = Arc::new(CountingNotifier::default());
    let llm = scenario
        .llm
        .clone()
        .map(|script| Arc::new(ScriptedLlm::new(script)));
    let pipeline = build_pipeline(
        &scenario,
        &env,
        &sim,
        store.clone(),
        notifier.clone(),
        llm.clone(),
        &file,
    )?;
    let mut runner = Runner {
        scenario: scenario.clone(),
        env,
        sim,
        store,
        notifier,
        llm,
        pipeline,
        alerts_received: 0,
        delivered: BTreeMap::new(),
    };
    runner.main_loop(start, &file).await?;
    runner
        .collect(start)
        .await
        .map_err(|e| ScenarioError::new(&file, "(run)", format!("reading the store failed: {e}")))
}

impl Runner {
    async fn main_loop(
        &mut self,
        start: DateTime<Utc>,
        file: &std::path::Path,
    ) -> Result<(), ScenarioError> {
        let sc = self.scenario.clone();
        let store_err =
            |e: jarvis_core::error::StoreError| ScenarioError::new(file, "(run)", e.to_string());
        for m in &sc.config.maintenance {
            let window = MaintenanceWindow {
                id: MaintenanceId::new(),
                scope: match &m.host {
                    Some(h) => MaintenanceScope::Host(h.clone()),
                    None => MaintenanceScope::Global,
                },
                reason: if m.reason.is_empty() {
                    "planned maintenance".into()
                } else {
                    m.reason.clone()
                },
                created_by: "scenario".into(),
                starts_at: start + m.start.chrono(),
                ends_at: start + m.end.chrono(),
                ended_at: None,
                silence_id: None,
            };
            self.store
                .save_maintenance(&window)
                .await
                .map_err(store_err)?;
        }
        let mut queue: BinaryHeap<Reverse<(DateTime<Utc>, Action)>> = BinaryHeap::new();
        let mut last_event = start;
        for (i, e) in sc.timeline.iter().enumerate() {
            let at = start + e.at.chrono();
            last_event = last_event.max(at);
            let action = if e.fault.is_some() {
                Action::Fault(i)
            } else {
                Action::Alert(i)
            };
            queue.push(Reverse((at, action)));
        }
        let end = match sc.duration {
            Some(d) => start + d.chrono(),
            None => last_event + sc.settle.unwrap_or(Dur(3600)).chrono(),
        };
        let interval = sc
            .eval_interval
            .unwrap_or(Dur(30))
            .chrono()
            .max(chrono::Duration::seconds(1));
        let answer_after = sc.operator.answer_after.unwrap_or(Dur(300)).chrono();
        let mut active: BTreeMap<Fingerprint, Alert> = BTreeMap::new();
        let mut hosts: BTreeMap<String, bool> =
            self.sim.world().host_states().into_iter().collect();
        let mut next = start;
        let bar = self.env.clock_bar.clone();
        if let Some(bar) = &bar {
            bar.set_length((end - start).num_seconds().max(1) as u64);
        }
        let mut ticks = 0u64;
        loop {
            let now = next.max(self.sim.clock.now());
            if now > end {
                break;
            }
            self.sim.clock.set(now);
            let mut batch = Vec::new();
            while let Some(Reverse((at, _))) = queue.peek()
                && *at <= now
            {
                let Some(Reverse((_, action))) = queue.pop() else {
                    break;
                };
                match action {
                    Action::Fault(i) | Action::Heal(i) => {
                        let event = &sc.timeline[i];
                        let Some(fault) = &event.fault else { continue };
                        if matches!(action, Action::Fault(_)) {
                            self.sim.world().apply(fault);
                            if let Some(h) = event.heal_after {
                                queue.push(Reverse((now + h.chrono(), Action::Heal(i))));
                            }
                        } else {
                            self.sim.world().heal(fault);
                        }
                    }
                    Action::Alert(i) => {
                        let Some(spec) = &sc.timeline[i].alert else {
                            continue;
                        };
                        let alert = scripted_alert(spec, now);
                        if let Some(after) = spec.resolve_after {
                            queue.push(Reverse((now + after.chrono(), Action::Resolve(i))));
                        }
                        self.delivered.insert(i, alert.clone());
                        batch.push(alert);
                    }
                    Action::Resolve(i) => {
                        if let Some(a) = self.delivered.get(&i) {
                            batch.push(resolved(a, now));
                        }
                    }
                }
            }
            // The host monitor notices hosts going away and coming back.
            if sc.config.host_monitor {
                let states = self.sim.world().host_states();
                for (host, online) in states {
                    if hosts.get(&host) != Some(&online) {
                        hosts.insert(host.clone(), online);
                        let status = HostStatus {
                            host: host.clone(),
                            online,
                            reason: if online {
                                "answers SSH again".into()
                            } else {
                                "SSH connection timed out".into()
                            },
                            at: now,
                        };
                        self.store
                            .record_host_status(&status)
                            .await
                            .map_err(store_err)?;
                    }
                }
            }
            // The simulated Prometheus and Alertmanager.
            let firing: BTreeMap<Fingerprint, WorldAlert> = self
                .sim
                .world()
                .firing()
                .into_iter()
                .map(|w| (Fingerprint::of_labels(&w.labels), w))
                .collect();
            let gone: Vec<Fingerprint> = active
                .keys()
                .filter(|fp| !firing.contains_key(*fp))
                .cloned()
                .collect();
            for fp in gone {
                if let Some(a) = active.remove(&fp) {
                    batch.push(resolved(&a, now));
                }
            }
            for (fp, w) in firing {
                if let std::collections::btree_map::Entry::Vacant(slot) = active.entry(fp) {
                    let mut alert = Alert::firing(w.labels, now);
                    alert.annotations = w.annotations;
                    slot.insert(alert.clone());
                    batch.push(alert);
                }
            }
            if !batch.is_empty() {
                self.deliver(batch).await.map_err(store_err)?;
            }
            self.operator(answer_after).await.map_err(store_err)?;
            next = now + interval;
            ticks += 1;
            if let Some(bar) = &bar
                && ticks.is_multiple_of(500)
            {
                bar.set_position((now - start).num_seconds().max(0) as u64);
            }
        }
        Ok(())
    }

    async fn deliver(&mut self, batch: Vec<Alert>) -> Result<(), jarvis_core::error::StoreError> {
        self.alerts_received += batch.len() as u64;
        let ingested = match self.pipeline.ingest(batch, None).await {
            Ok(i) => i,
            Err(jarvis_core::pipeline::PipelineError::Ingest(e)) => return Err(e),
            Err(jarvis_core::pipeline::PipelineError::Store { source, .. }) => return Err(source),
        };
        let p = self.pipeline.clone();
        let restarted = tokio::select! {
            biased;
            _ = p.handle_ingested(&ingested) => false,
            _ = self.sim.restart.notified() => true,
        };
        if restarted {
            self.after_restart().await?;
        }
        Ok(())
    }

    /// The hand-off restarted Jarvis: a new process resumes what was in flight.
    async fn after_restart(&mut self) -> Result<(), jarvis_core::error::StoreError> {
        for _ in 0..MAX_RESTARTS {
            let target = self
                .sim
                .take_pending_restart()
                .unwrap_or_else(|| "jarvis".into());
            let now = self.sim.clock.now();
            let incident = self
                .store
                .open_incidents()
                .await?
                .into_iter()
                .find(|i| i.state == IncidentState::Executing)
                .map(|i| i.id);
            let mut handoff = Handoff {
                id: HandoffId::new(),
                target: target.clone(),
                incident,
                state: HandoffState::Pending,
                reason: format!("self-restart of {target} requested by a plan"),
                created_at: now,
                updated_at: now,
            };
            self.store.save_handoff(&handoff).await?;
            self.sim.clock.sleep(RESTART_TIME).await;
            self.sim.world().self_restart(&target);
            // A new process: same store, same configuration, fresh pipeline.
            self.pipeline = build_pipeline(
                &self.scenario,
                &self.env,
                &self.sim,
                self.store.clone(),
                self.notifier.clone(),
                self.llm.clone(),
                std::path::Path::new(&self.scenario.name),
            )
            .map_err(|e| jarvis_core::error::StoreError::Conflict(e.to_string()))?;
            handoff.state = HandoffState::Resumed;
            handoff.updated_at = self.sim.clock.now();
            self.store.save_handoff(&handoff).await?;
            let p = self.pipeline.clone();
            let restarted = tokio::select! {
                biased;
                _ = p.resume() => false,
                _ = self.sim.restart.notified() => true,
            };
            if !restarted {
                return Ok(());
            }
        }
        Ok(())
    }

    /// The person on call answers approval requests.
    async fn operator(
        &mut self,
        answer_after: chrono::Duration,
    ) -> Result<(), jarvis_core::error::StoreError> {
        let action = self.scenario.operator.approvals;
        let now = self.sim.clock.now();
        if action != ApprovalAction::Ignore {
            let pending = self.store.approvals(Some(ApprovalStatus::Pending)).await?;
            for approval in pending {
                if approval.requested_at + answer_after > now || approval.expires_at <= now {
                    continue;
                }
                let p = self.pipeline.clone();
                let restarted = tokio::select! {
                    biased;
                    _ = async {
                        if action == ApprovalAction::Approve {
                            let _ = p.approve(approval.id, "sim-operator").await;
                        } else {
                            let _ = p.reject(approval.id, "sim-operator").await;
                        }
                    } => false,
                    _ = self.sim.restart.notified() => true,
                };
                if restarted {
                    self.after_restart().await?;
                }
            }
        }
        let _ = self.pipeline.expire_approvals().await;
        Ok(())
    }

    async fn collect(
        &self,
        start: DateTime<Utc>,
    ) -> Result<RunOutcome, jarvis_core::error::StoreError> {
        let mut list = self
            .store
            .incidents(&IncidentFilter {
                limit: 0,
                ..IncidentFilter::default()
            })
            .await?;
        list.sort_by_key(|i| (i.created_at, i.id));
        let mut incidents = Vec::new();
        let mut m = Metrics::default();
        for inc in &list {
            let transitions = self.store.transitions(inc.id).await?;
            let attempts = self.store.attempts(inc.id).await?;
            let audit = self.store.audit_log(Some(inc.id), 0).await?;
            let mut states = vec![IncidentState::Received.as_str().to_string()];
            states.extend(transitions.iter().map(|t| t.to.as_str().to_string()));
            let resolved_at = transitions
                .iter()
                .find(|t| t.to == IncidentState::Resolved)
                .map(|t| t.at);
            let resolved_after =
                resolved_at.map(|t| (t - inc.created_at).num_milliseconds() as f64 / 1000.0);
            let cached = attempts.iter().filter(|a| a.tier == Tier::Cached).count() as u64;
            m.cached += cached;
            let mut commands: Vec<(DateTime<Utc>, String)> = audit
                .iter()
                .filter(|a| a.executed)
                .map(|a| (a.at, a.action.clone()))
                .collect();
            commands.sort();
            let refused: Vec<String> = audit
                .iter()
                .filter(|a| a.decision == "refuse")
                .map(|a| a.action.clone())
                .collect();
            m.commands_refused += refused.len() as u64;
            if let Some(s) = resolved_after {
                m.mttr_seconds.push(s);
            }
            match inc.state {
                IncidentState::Resolved => m.resolved += 1,
                IncidentState::Escalated => m.escalated += 1,
                _ => {}
            }
            if !matches!(
                inc.state,
                IncidentState::Duplicate
                    | IncidentState::InMaintenance
                    | IncidentState::HostOffline
            ) {
                m.actionable += 1;
            }
            incidents.push(IncidentSummary {
                alert: inc.alert_name.clone(),
                labels: inc.labels.clone(),
                state: inc.state.as_str().to_string(),
                reason: inc.reason.clone(),
                states,
                attempts: attempts.iter().filter(|a| a.counts_toward_limit).count() as u64,
                tier: attempts.last().map(|a| a.tier.as_str().to_string()),
                llm_calls: attempts.iter().map(|a| u64::from(a.usage.calls)).sum(),
                commands: commands.into_iter().map(|(_, c)| c).collect(),
                refused,
                resolved_after_seconds: resolved_after,
            });
        }
        let executed = self.sim.executed();
        m.incidents = list.len() as u64;
        m.commands_run = executed.len() as u64;
        m.unsafe_executed = executed
            .iter()
            .filter(|e| e.unsafe_under_default_policy)
            .count() as u64;
        m.llm_calls = self.llm.as_ref().map_or(0, |l| l.calls());
        m.llm_tokens = self.llm.as_ref().map_or(0, |l| l.tokens());
        // Without an LLM tier a cached plan saves no LLM call.
        m.llm_calls_saved = if self.llm.is_some() { m.cached } else { 0 };
        m.alerts_received = self.alerts_received;
        m.notifications_sent = self.notifier.count();
        m.self_restarts = self.sim.world().self_restarts.len() as u64;
        m.simulated_seconds = (self.sim.clock.now() - start).num_seconds().max(0) as u64;
        Ok(RunOutcome {
            incidents,
            executed: executed.into_iter().map(|e| e.summary).collect(),
            metrics: m,
        })
    }
}

fn scripted_alert(spec: &AlertSpec, now: DateTime<Utc>) -> Alert {
    let mut alert = Alert::firing(spec.labels.clone(), now);
    alert.annotations = spec.annotations.clone();
    if spec.status.as_deref() == Some("resolved") {
        alert.status = AlertStatus::Resolved;
        alert.ends_at = Some(now);
    }
    alert
}

fn resolved(alert: &Alert, now: DateTime<Utc>) -> Alert {
    let mut a = alert.clone();
    a.status = AlertStatus::Resolved;
    a.ends_at = Some(now);
    a
}
