//! Fakes of the ports, named by behaviour, for pipeline tests and simulation.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::*;
use crate::error::{ExecError, NotifyError, PlanError};
use crate::ports::{Executor, Notifier, PlanContext, Planner, Verifier};
use crate::safety::ValidatedStep;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A future that is pending once, so concurrent tasks interleave as they would on real I/O.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

/// Returns scripted plans (or errors) in order; once the script is spent, empty plans.
#[derive(Debug, Default)]
pub struct ScriptedPlanner {
    script: Mutex<VecDeque<Result<Plan, PlanError>>>,
    seen: Mutex<Vec<PlanContext>>,
}

impl ScriptedPlanner {
    pub fn new(script: Vec<Result<Plan, PlanError>>) -> Self {
        ScriptedPlanner {
            script: Mutex::new(script.into()),
            seen: Mutex::new(Vec::new()),
        }
    }

    /// How many times `plan` was called.
    pub fn calls(&self) -> usize {
        lock(&self.seen).len()
    }

    /// The contexts the planner was given.
    pub fn contexts(&self) -> Vec<PlanContext> {
        lock(&self.seen).clone()
    }
}

#[async_trait]
impl Planner for ScriptedPlanner {
    fn name(&self) -> &str {
        "scripted"
    }

    async fn plan(&self, ctx: &PlanContext) -> Result<Plan, PlanError> {
        lock(&self.seen).push(ctx.clone());
        lock(&self.script)
            .pop_front()
            .unwrap_or_else(|| Ok(Plan::new(Tier::FullReasoning, Vec::new())))
    }
}

/// Records every step it is given; answers from rules matched on the step summary.
#[derive(Debug, Default)]
pub struct RecordingExecutor {
    ran: Mutex<Vec<String>>,
    rules: Mutex<Vec<(String, Result<StepResult, String>)>>,
}

impl RecordingExecutor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Steps whose summary contains `needle` exit with `code`.
    pub fn exit_with(self, needle: &str, code: i32) -> Self {
        lock(&self.rules).push((
            needle.to_string(),
            Ok(StepResult {
                exit_code: Some(code),
                ..StepResult::default()
            }),
        ));
        self
    }

    /// Steps whose summary contains `needle` cannot run at all.
    pub fn unreachable(self, needle: &str) -> Self {
        lock(&self.rules).push((needle.to_string(), Err("connection refused".to_string())));
        self
    }

    /// Summaries of the steps run, in order.
    pub fn ran(&self) -> Vec<String> {
        lock(&self.ran).clone()
    }
}

#[async_trait]
impl Executor for RecordingExecutor {
    async fn execute(&self, step: &ValidatedStep) -> Result<StepResult, ExecError> {
        // A real executor waits on the network: let other tasks run meanwhile.
        YieldOnce(false).await;
        let summary = step.step().action.summary();
        lock(&self.ran).push(summary.clone());
        let rules = lock(&self.rules);
        match rules
            .iter()
            .find(|(needle, _)| summary.contains(needle.as_str()))
        {
            Some((_, Ok(result))) => Ok(result.clone()),
            Some((_, Err(reason))) => Err(ExecError::Unreachable {
                host: step.step().action.host().unwrap_or("-").to_string(),
                reason: reason.clone(),
            }),
            None => Ok(StepResult {
                exit_code: Some(0),
                stdout: "ok".into(),
                duration: Duration::from_millis(5),
                ..StepResult::default()
            }),
        }
    }
}

/// Answers verifications from a script; once spent, repeats the fallback.
#[derive(Debug)]
pub struct ScriptedVerifier {
    script: Mutex<VecDeque<Verification>>,
    fallback: Verification,
    calls: Mutex<u32>,
}

impl ScriptedVerifier {
    pub fn new(script: Vec<Verification>, fallback: Verification) -> Self {
        ScriptedVerifier {
            script: Mutex::new(script.into()),
            fallback,
            calls: Mutex::new(0),
        }
    }

    /// Every verification says the alert cleared.
    pub fn always_cleared() -> Self {
        Self::new(
            Vec::new(),
            Verification::Cleared {
                after: Duration::from_secs(1),
            },
        )
    }

    /// Every verification says the alert is still firing.
    pub fn never_cleared() -> Self {
        Self::new(
            Vec::new(),
            Verification::StillFiring {
                waited: Duration::from_secs(120),
            },
        )
    }

    pub fn calls(&self) -> u32 {
        *lock(&self.calls)
    }
}

#[async_trait]
impl Verifier for ScriptedVerifier {
    async fn verify(&self, _alert: &Alert, _max_wait: Duration) -> Verification {
        *lock(&self.calls) += 1;
        lock(&self.script)
            .pop_front()
            .unwrap_or_else(|| self.fallback.clone())
    }
}

/// Keeps every notice; can be told to fail.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    notices: Mutex<Vec<Notice>>,
    fail: bool,
}

impl RecordingNotifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// A notifier whose deliveries all fail.
    pub fn failing() -> Self {
        RecordingNotifier {
            notices: Mutex::new(Vec::new()),
            fail: true,
        }
    }

    pub fn notices(&self) -> Vec<Notice> {
        lock(&self.notices).clone()
    }

    pub fn kinds(&self) -> Vec<NoticeKind> {
        lock(&self.notices).iter().map(|n| n.kind).collect()
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn notify(&self, notice: &Notice) -> Result<(), NotifyError> {
        lock(&self.notices).push(notice.clone());
        if self.fail {
            return Err(NotifyError::Unavailable {
                notifier: "recording".into(),
                reason: "configured to fail".into(),
            });
        }
        Ok(())
    }
}
