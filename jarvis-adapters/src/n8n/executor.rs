//! Runs validated `N8nWorkflow` steps.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use jarvis_core::domain::{Action, StepResult};
use jarvis_core::error::ExecError;
use jarvis_core::ports::Executor;
use jarvis_core::safety::ValidatedStep;
use serde_json::Value;

use super::{ExecutionQuery, N8nClient, N8nError, WebhookReply};
use crate::http::truncate_chars;

/// The host name n8n steps report in errors.
pub const HOST: &str = "n8n";

const MAX_OUTPUT: usize = 4_000;

/// Executes `N8nWorkflow` steps; other kinds are `Unsupported`.
///
/// A webhook that answers with the workflow's output (`exitCode`, `stdout`,
/// `stderr`, as a "Respond: when last node finishes" workflow running a command
/// does) gives the result directly; a 5xx means the workflow ran and failed.
/// One that answers immediately is followed through the executions API when
/// the workflow's id and an API key are configured.
#[derive(Debug, Clone)]
pub struct N8nExecutor {
    client: Arc<N8nClient>,
}

impl N8nExecutor {
    pub fn new(client: Arc<N8nClient>) -> Self {
        N8nExecutor { client }
    }

    /// The query for the workflow's recent executions, when they can be followed.
    fn follow_query(&self, workflow: &str) -> Option<ExecutionQuery> {
        let config = self.client.config();
        let id = config.workflows.get(workflow)?.workflow_id.clone()?;
        config.api_key.as_ref()?;
        if config.follow_timeout.is_zero() {
            return None;
        }
        Some(ExecutionQuery {
            workflow_id: Some(id),
            limit: Some(20),
            ..ExecutionQuery::default()
        })
    }

    /// Ids of the executions that exist before triggering.
    async fn known_executions(&self, query: &ExecutionQuery) -> Option<HashSet<String>> {
        match self.client.executions(query).await {
            Ok(page) => Some(page.data.into_iter().map(|e| e.id).collect()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot list n8n executions: not following");
                None
            }
        }
    }

    /// The final status of the first execution that was not there before the
    /// trigger: `(succeeded, summary)`.
    async fn follow(&self, query: &ExecutionQuery, known: &HashSet<String>) -> (bool, String) {
        let config = self.client.config();
        let deadline = Instant::now() + config.follow_timeout;
        loop {
            match self.client.executions(query).await {
                Ok(page) => {
                    // Newest first: the oldest new one is the one we started.
                    let started = page.data.iter().rev().find(|e| !known.contains(&e.id));
                    if let Some(execution) = started
                        && !execution.is_pending()
                    {
                        let status = execution.status.clone().unwrap_or_default();
                        return (
                            execution.succeeded(),
                            format!("execution {} {status}", execution.id),
                        );
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not follow n8n execution"),
            }
            if Instant::now() + config.poll_interval > deadline {
                return (
                    false,
                    format!(
                        "execution not finished after {}s",
                        config.follow_timeout.as_secs()
                    ),
                );
            }
            tokio::time::sleep(config.poll_interval).await;
        }
    }
}

fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn bounded(s: String, truncated: &mut bool) -> String {
    if s.chars().count() > MAX_OUTPUT {
        *truncated = true;
    }
    truncate_chars(&s, MAX_OUTPUT)
}

fn exec_error(e: N8nError) -> ExecError {
    if e.is_unreachable() {
        return ExecError::Unreachable {
            host: HOST.into(),
            reason: e.to_string(),
        };
    }
    ExecError::Failed(e.to_string())
}

#[async_trait]
impl Executor for N8nExecutor {
    #[tracing::instrument(skip_all, fields(executor = "n8n", action = %step.step().action.summary()))]
    async fn execute(&self, step: &ValidatedStep) -> Result<StepResult, ExecError> {
        let Action::N8nWorkflow { workflow, payload } = &step.step().action else {
            return Err(ExecError::Unsupported {
                kind: step.step().action.kind(),
            });
        };
        let started = Instant::now();
        let follow = match self.follow_query(workflow) {
            Some(query) => self
                .known_executions(&query)
                .await
                .map(|known| (query, known)),
            None => None,
        };
        let reply: WebhookReply = match self.client.trigger(workflow, payload).await {
            Ok(reply) => reply,
            Err(N8nError::Timeout(what)) => {
                return Ok(StepResult {
                    exit_code: None,
                    stderr: format!("timed out while {what}"),
                    duration: started.elapsed(),
                    timed_out: true,
                    ..StepResult::default()
                });
            }
            Err(e) => return Err(exec_error(e)),
        };
        let mut truncated = false;
        let mut result = if reply.status >= 500 {
            StepResult {
                exit_code: Some(1),
                stderr: bounded(
                    format!(
                        "workflow failed ({}): {}",
                        reply.status,
                        text(Some(&reply.body))
                    ),
                    &mut truncated,
                ),
                ..StepResult::default()
            }
        } else if let Some(code) = reply.body.get("exitCode").and_then(Value::as_i64) {
            StepResult {
                exit_code: Some(i32::try_from(code).unwrap_or(1)),
                stdout: bounded(text(reply.body.get("stdout")), &mut truncated),
                stderr: bounded(text(reply.body.get("stderr")), &mut truncated),
                ..StepResult::default()
            }
        } else {
            let mut stdout = text(Some(&reply.body));
            let mut exit_code = Some(0);
            if let Some((query, known)) = &follow {
                let (ok, summary) = self.follow(query, known).await;
                stdout = format!("{stdout}\n{summary}");
                exit_code = Some(if ok { 0 } else { 1 });
            }
            StepResult {
                exit_code,
                stdout: bounded(stdout, &mut truncated),
                ..StepResult::default()
            }
        };
        result.truncated = truncated;
        result.duration = started.elapsed();
        Ok(result)
    }
}
