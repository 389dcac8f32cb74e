//! The dry-run executor: used until hosts are configured, and whenever the
//! operator asks for it. It runs nothing; it records what it would have run.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use jarvis_core::domain::StepResult;
use jarvis_core::error::ExecError;
use jarvis_core::ports::Executor;
use jarvis_core::safety::ValidatedStep;
use tracing::info;

/// Records validated steps instead of running them; every step "succeeds" with
/// `dry_run: true`, so outcomes stay honest: nothing ran, so nothing is verified as fixed by it.
#[derive(Debug, Default)]
pub struct DryRunExecutor {
    seen: Mutex<Vec<String>>,
}

impl DryRunExecutor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Summaries of the steps it was given, in order.
    pub fn recorded(&self) -> Vec<String> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait]
impl Executor for DryRunExecutor {
    async fn execute(&self, step: &ValidatedStep) -> Result<StepResult, ExecError> {
        let summary = step.step().action.summary();
        info!(step = %summary, class = step.class().as_str(), "dry run: would run step");
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(summary.clone());
        Ok(StepResult {
            exit_code: Some(0),
            stdout: format!("dry run: would run `{summary}`"),
            stderr: String::new(),
            duration: Duration::ZERO,
            truncated: false,
            timed_out: false,
            dry_run: true,
        })
    }
}
