//! The simulation's implementations of the pipeline's ports.
//!
//! [`SimExecutor`] maps commands to world effects, [`SimVerifier`] asks the
//! world's alert rules, [`ScriptedLlm`] replays an LLM script, and
//! [`CountingNotifier`] keeps the notices. Time is the shared [`ManualClock`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use jarvis_core::clock::ManualClock;
use jarvis_core::domain::{
    Action, Alert, LlmUsage, Notice, Plan, Step, StepResult, Tier, Verification,
};
use jarvis_core::error::{ExecError, NotifyError, PlanError};
use jarvis_core::planner::DeterministicPlanner;
use jarvis_core::ports::{Clock, Executor, Notifier, PlanContext, Planner, Verifier};
use jarvis_core::runbook;
use jarvis_core::safety::{Decision, SafetyPolicy, ValidatedStep};
use tokio::sync::Notify;

use super::scenario::{Exhausted, LlmScript, StepSpec};
use super::world::{RunError, World};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One step the executor ran.
#[derive(Clone, Debug)]
pub struct Executed {
    pub summary: String,
    /// The default safety policy refuses this step: it must never have run.
    pub unsafe_under_default_policy: bool,
}

/// The world and the clock, shared by the ports and the runner.
#[derive(Debug)]
pub struct SimState {
    world: Mutex<World>,
    pub clock: Arc<ManualClock>,
    executed: Mutex<Vec<Executed>>,
    pending_restart: Mutex<Option<String>>,
    /// Signalled when a self-restart hand-off "kills" the running process.
    pub restart: Notify,
    reference: SafetyPolicy,
}

impl SimState {
    pub fn new(world: World, clock: Arc<ManualClock>) -> Self {
        SimState {
            world: Mutex::new(world),
            clock,
            executed: Mutex::new(Vec::new()),
            pending_restart: Mutex::new(None),
            restart: Notify::new(),
            reference: SafetyPolicy::permissive_defaults(),
        }
    }

    /// The world, moved to the clock's time.
    pub fn world(&self) -> MutexGuard<'_, World> {
        let mut w = lock(&self.world);
        w.advance(self.clock.now());
        w
    }

    pub fn executed(&self) -> Vec<Executed> {
        lock(&self.executed).clone()
    }

    pub fn take_pending_restart(&self) -> Option<String> {
        lock(&self.pending_restart).take()
    }

    fn record(&self, step: &Step) {
        let unsafe_ = self.reference.check(step).decision == Decision::Refuse;
        lock(&self.executed).push(Executed {
            summary: step.action.summary(),
            unsafe_under_default_policy: unsafe_,
        });
    }
}

/// Runs validated steps against the world.
#[derive(Debug, Clone)]
pub struct SimExecutor(pub Arc<SimState>);

#[async_trait]
impl Executor for SimExecutor {
    async fn execute(&self, step: &ValidatedStep) -> Result<StepResult, ExecError> {
        let sim = &self.0;
        let step = step.step();
        match &step.action {
            Action::Shell { host, command, .. } => {
                let outcome = sim.world().run_command(host, command);
                match outcome {
                    Ok(out) => {
                        sim.clock.sleep(Duration::from_secs(out.seconds)).await;
                        sim.record(step);
                        Ok(StepResult {
                            exit_code: Some(out.exit_code),
                            stdout: out.stdout,
                            stderr: out.stderr,
                            duration: Duration::from_secs(out.seconds),
                            ..StepResult::default()
                        })
                    }
                    Err(RunError::Offline(host)) => {
                        sim.clock.sleep(Duration::from_secs(10)).await;
                        Err(ExecError::Unreachable {
                            host,
                            reason: "connection timed out".into(),
                        })
                    }
                    Err(RunError::UnknownHost(host)) => Err(ExecError::UnknownHost(host)),
                }
            }
            Action::SelfRestart { target } => {
                sim.record(step);
                *lock(&sim.pending_restart) = Some(target.clone());
                sim.restart.notify_one();
                // The process is about to be restarted by the hand-off: this step never returns.
                std::future::pending::<()>().await;
                Err(ExecError::Failed("restarted".into()))
            }
            Action::Wait { duration } => {
                sim.clock.sleep(*duration).await;
                sim.record(step);
                Ok(StepResult {
                    exit_code: Some(0),
                    duration: *duration,
                    ..StepResult::default()
                })
            }
            _ => {
                sim.clock.sleep(Duration::from_secs(1)).await;
                sim.record(step);
                Ok(StepResult {
                    exit_code: Some(0),
                    stdout: "ok".into(),
                    duration: Duration::from_secs(1),
                    ..StepResult::default()
                })
            }
        }
    }
}

/// Asks the world whether the alert's condition still holds, polling on simulated time.
#[derive(Debug, Clone)]
pub struct SimVerifier(pub Arc<SimState>);

/// How often the verifier re-evaluates while waiting.
const POLL: Duration = Duration::from_secs(10);

#[async_trait]
impl Verifier for SimVerifier {
    async fn verify(&self, alert: &Alert, max_wait: Duration) -> Verification {
        let mut waited = Duration::ZERO;
        loop {
            let firing = self.0.world().is_firing(alert);
            match firing {
                None => {
                    return Verification::Unverified {
                        reason: format!(
                            "the simulated Prometheus has no rule for {}",
                            alert.name()
                        ),
                    };
                }
                Some(false) => return Verification::Cleared { after: waited },
                Some(true) if waited >= max_wait => {
                    return Verification::StillFiring { waited };
                }
                Some(true) => {
                    let step = POLL.min(max_wait - waited);
                    self.0.clock.sleep(step).await;
                    waited += step;
                }
            }
        }
    }
}

/// Keeps every notice.
#[derive(Debug, Default)]
pub struct CountingNotifier {
    notices: Mutex<Vec<Notice>>,
}

impl CountingNotifier {
    pub fn count(&self) -> u64 {
        lock(&self.notices).len() as u64
    }
}

#[async_trait]
impl Notifier for CountingNotifier {
    async fn notify(&self, notice: &Notice) -> Result<(), NotifyError> {
        lock(&self.notices).push(notice.clone());
        Ok(())
    }
}

/// Replays an LLM script: each call takes the first unused turn for the alert.
#[derive(Debug)]
pub struct ScriptedLlm {
    script: LlmScript,
    used: Mutex<Vec<bool>>,
    calls: AtomicU64,
    tokens: AtomicU64,
}

impl ScriptedLlm {
    pub fn new(script: LlmScript) -> Self {
        let used = vec![false; script.turns.len()];
        ScriptedLlm {
            script,
            used: Mutex::new(used),
            calls: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
        }
    }

    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub fn tokens(&self) -> u64 {
        self.tokens.load(Ordering::Relaxed)
    }

    fn charge(&self, input: u64, output: u64) -> LlmUsage {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.tokens.fetch_add(input + output, Ordering::Relaxed);
        LlmUsage {
            calls: 1,
            input_tokens: input,
            output_tokens: output,
            iterations: 1,
        }
    }
}

/// Fills `{host}`, `{container}`… from the alert; an unsafe or missing value leaves the text as is.
fn fill(text: &str, ctx: &PlanContext) -> String {
    let values = DeterministicPlanner::placeholders(ctx);
    runbook::fill(text, &values).unwrap_or_else(|| text.to_string())
}

#[async_trait]
impl Planner for ScriptedLlm {
    fn name(&self) -> &str {
        "scripted-llm"
    }

    async fn plan(&self, ctx: &PlanContext) -> Result<Plan, PlanError> {
        let tier = if ctx.pattern.is_some() {
            Tier::HintAssisted
        } else {
            Tier::FullReasoning
        };
        let turn = {
            let mut used = lock(&self.used);
            let found = self.script.turns.iter().enumerate().find(|(i, t)| {
                (!used[*i] || t.repeat) && t.alert.as_deref().is_none_or(|a| a == ctx.alert.name())
            });
            found.map(|(i, t)| {
                used[i] = true;
                t.clone()
            })
        };
        let Some(turn) = turn else {
            return match self.script.when_exhausted {
                Exhausted::Fallback => Err(PlanError::Unavailable {
                    planner: self.name().into(),
                    reason: "the LLM script is exhausted".into(),
                }),
                Exhausted::Empty => {
                    let mut plan = Plan::new(tier, Vec::new());
                    plan.usage = self.charge(1_500, 50);
                    plan.analysis = "the LLM found nothing safe to do".into();
                    Ok(plan)
                }
            };
        };
        let host = ctx.hints.host.clone().unwrap_or_else(|| "unknown".into());
        let steps = turn
            .steps
            .iter()
            .map(|s| match s {
                StepSpec::Command(c) => {
                    Step::shell(&host, fill(c, ctx)).with_reason("proposed by the LLM")
                }
                StepSpec::Step(step) => {
                    let mut step = step.clone();
                    if let Action::Shell { host, command, .. } = &mut step.action {
                        *host = fill(host, ctx);
                        *command = fill(command, ctx);
                    }
                    step
                }
            })
            .collect();
        let mut plan = Plan::new(tier, steps);
        plan.usage = self.charge(turn.input_tokens, turn.output_tokens);
        plan.confidence = turn.confidence;
        plan.analysis = turn
            .analysis
            .unwrap_or_else(|| format!("scripted LLM plan for {}", ctx.alert.name()));
        Ok(plan)
    }
}
