//! Runs validated Home Assistant steps.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use jarvis_core::domain::{Action, StepResult};
use jarvis_core::error::ExecError;
use jarvis_core::ports::Executor;
use jarvis_core::safety::ValidatedStep;

use super::{HomeAssistantClient, HomeAssistantError};
use crate::http::truncate_chars;

/// The host name Home Assistant steps report in errors.
pub const HOST: &str = "home-assistant";

/// Output kept from a service call's changed states.
const MAX_OUTPUT: usize = 4_000;

/// Executes `HaService` and `HaAddonRestart` steps; other kinds are `Unsupported`.
#[derive(Debug, Clone)]
pub struct HomeAssistantExecutor {
    client: Arc<HomeAssistantClient>,
}

impl HomeAssistantExecutor {
    pub fn new(client: Arc<HomeAssistantClient>) -> Self {
        HomeAssistantExecutor { client }
    }
}

fn exec_error(e: HomeAssistantError) -> ExecError {
    if e.is_unreachable() {
        return ExecError::Unreachable {
            host: HOST.into(),
            reason: e.to_string(),
        };
    }
    ExecError::Failed(e.to_string())
}

#[async_trait]
impl Executor for HomeAssistantExecutor {
    #[tracing::instrument(skip_all, fields(executor = "home_assistant", action = %step.step().action.summary()))]
    async fn execute(&self, step: &ValidatedStep) -> Result<StepResult, ExecError> {
        let started = Instant::now();
        let outcome = match &step.step().action {
            Action::HaService {
                domain,
                service,
                data,
            } => self
                .client
                .call_service(domain, service, data)
                .await
                .map(|changed| {
                    let summary: Vec<String> = changed
                        .iter()
                        .map(|s| format!("{} = {}", s.entity_id, s.state))
                        .collect();
                    format!(
                        "called {domain}.{service}; {} state change(s)\n{}",
                        changed.len(),
                        summary.join("\n")
                    )
                }),
            Action::HaAddonRestart { addon } => self.client.restart_addon(addon).await,
            other => {
                return Err(ExecError::Unsupported { kind: other.kind() });
            }
        };
        let duration = started.elapsed();
        match outcome {
            Ok(stdout) => Ok(StepResult {
                exit_code: Some(0),
                truncated: stdout.chars().count() > MAX_OUTPUT,
                stdout: truncate_chars(&stdout, MAX_OUTPUT),
                duration,
                ..StepResult::default()
            }),
            // The call may have started: report it as timed out, never retry.
            Err(HomeAssistantError::Timeout(what)) => Ok(StepResult {
                exit_code: None,
                stderr: format!("timed out while {what}"),
                duration,
                timed_out: true,
                ..StepResult::default()
            }),
            Err(e) => Err(exec_error(e)),
        }
    }
}
