//! The agent loop: Claude investigates with validated diagnostic tools and
//! ends with a structured `submit_plan`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use jarvis_core::domain::{AuditEntry, LlmUsage, Plan, Step, StepResult, Tier, steps_signature};
use jarvis_core::error::PlanError;
use jarvis_core::ports::{Clock, Executor, PlanContext, Planner, Store};
use jarvis_core::safety::{Decision, SafetyClass, SafetyPolicy, Verdict};
use serde_json::{Value, json};

use super::client::{ClaudeClient, Message, MessagesRequest, Role, StopReason, ToolDef, ToolUse};
use super::tools::{self, LogSource, MetricSource, RunbookSource};
use super::{ClaudeConfig, ClaudeError, prompt};
use crate::http::truncate_chars;

/// The planner's name in logs, attempts and errors.
pub const PLANNER_NAME: &str = "claude";

/// Tokens spent per UTC day, shared by every planner of the process.
#[derive(Debug)]
pub struct DailyTokenBudget {
    limit: u64,
    spent: Mutex<(NaiveDate, u64)>,
}

impl DailyTokenBudget {
    pub fn new(limit: u64) -> Self {
        DailyTokenBudget {
            limit,
            spent: Mutex::new((Utc::now().date_naive(), 0)),
        }
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Tokens spent today (UTC).
    pub fn spent(&self) -> u64 {
        let today = Utc::now().date_naive();
        let mut guard = self.spent.lock().unwrap_or_else(|e| e.into_inner());
        if guard.0 != today {
            *guard = (today, 0);
        }
        guard.1
    }

    /// Adds tokens spent now.
    pub fn record(&self, tokens: u64) {
        let today = Utc::now().date_naive();
        let mut guard = self.spent.lock().unwrap_or_else(|e| e.into_inner());
        if guard.0 != today {
            *guard = (today, 0);
        }
        guard.1 = guard.1.saturating_add(tokens);
    }

    pub fn is_spent(&self) -> bool {
        self.spent() >= self.limit
    }
}

/// What a tool call returned to the model.
#[derive(Clone, Debug)]
struct ToolOutcome {
    content: String,
    is_error: bool,
}

impl ToolOutcome {
    fn ok(content: impl Into<String>) -> Self {
        ToolOutcome {
            content: content.into(),
            is_error: false,
        }
    }

    fn error(content: impl Into<String>) -> Self {
        ToolOutcome {
            content: content.into(),
            is_error: true,
        }
    }

    fn block(&self, tool_use_id: &str, max_chars: usize) -> Value {
        json!({
            "type": "tool_result",
            "tool_use_id": tool_use_id,
            "content": truncate_chars(&self.content, max_chars),
            "is_error": self.is_error,
        })
    }
}

/// Plans with Claude. See the module documentation of [`super`].
pub struct ClaudePlanner {
    client: ClaudeClient,
    safety: Arc<SafetyPolicy>,
    executor: Arc<dyn Executor>,
    logs: Option<Arc<dyn LogSource>>,
    metrics: Option<Arc<dyn MetricSource>>,
    runbooks: Option<Arc<dyn RunbookSource>>,
    daily: Arc<DailyTokenBudget>,
    tools: Vec<ToolDef>,
    audit: Option<PlanningAudit>,
}

/// Where the commands the model runs while planning are audited.
#[derive(Clone, Debug)]
struct PlanningAudit {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

/// Prefixes the reason of every audit entry written while planning, so the
/// log tells a model's diagnostic from a plan step.
pub const PLANNING_AUDIT_PREFIX: &str = "during planning: ";

impl fmt::Debug for ClaudePlanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaudePlanner")
            .field("model", &self.config().model)
            .field("base_url", &self.config().base_url)
            .field("logs", &self.logs.is_some())
            .field("metrics", &self.metrics.is_some())
            .finish_non_exhaustive()
    }
}

impl ClaudePlanner {
    /// A planner whose `run_command` and `gather_logs` tools run validated
    /// diagnostic commands through `executor`.
    pub fn new(
        config: ClaudeConfig,
        safety: Arc<SafetyPolicy>,
        executor: Arc<dyn Executor>,
    ) -> Result<Self, ClaudeError> {
        let daily = Arc::new(DailyTokenBudget::new(config.daily_token_budget));
        Ok(ClaudePlanner {
            client: ClaudeClient::new(config)?,
            safety,
            executor,
            logs: None,
            metrics: None,
            runbooks: None,
            daily,
            tools: tools::definitions(),
            audit: None,
        })
    }

    /// Records every command the model asks to run (`run_command`,
    /// `gather_logs`), run or refused, in `store`'s audit log.
    pub fn with_audit(mut self, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        self.audit = Some(PlanningAudit { store, clock });
        self
    }

    /// Serves `query_loki_logs`.
    pub fn with_logs(mut self, logs: Arc<dyn LogSource>) -> Self {
        self.logs = Some(logs);
        self
    }

    /// Serves `query_metric_history`.
    pub fn with_metrics(mut self, metrics: Arc<dyn MetricSource>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Serves `get_runbook` for other alerts than the incident's own.
    pub fn with_runbooks(mut self, runbooks: Arc<dyn RunbookSource>) -> Self {
        self.runbooks = Some(runbooks);
        self
    }

    /// Shares a daily token counter with other planners.
    pub fn with_daily_budget(mut self, daily: Arc<DailyTokenBudget>) -> Self {
        self.daily = daily;
        self
    }

    pub fn daily_budget(&self) -> Arc<DailyTokenBudget> {
        self.daily.clone()
    }

    pub fn config(&self) -> &ClaudeConfig {
        self.client.config()
    }

    /// `earlier`: tokens the incident's earlier attempts used.
    fn check_budget(&self, usage: &LlmUsage, earlier: u64) -> Result<(), PlanError> {
        let config = self.config();
        let used = earlier.saturating_add(usage.total_tokens());
        if used >= config.incident_token_budget {
            return Err(PlanError::OverBudget {
                planner: PLANNER_NAME.into(),
                reason: format!(
                    "incident used {used} of {} tokens",
                    config.incident_token_budget
                ),
            });
        }
        if self.daily.is_spent() {
            return Err(PlanError::OverBudget {
                planner: PLANNER_NAME.into(),
                reason: format!(
                    "daily budget spent ({} of {} tokens)",
                    self.daily.spent(),
                    self.daily.limit()
                ),
            });
        }
        Ok(())
    }

    async fn run_loop(&self, ctx: &PlanContext) -> Result<Plan, PlanError> {
        let config = self.config();
        let max_chars = config.max_tool_output_chars;
        let mut messages = vec![Message {
            role: Role::User,
            content: vec![json!({"type": "text", "text": prompt::first_message(ctx)})],
        }];
        let mut usage = LlmUsage::default();
        let mut seen: HashMap<String, ToolOutcome> = HashMap::new();
        let mut proposed: Vec<Step> = Vec::new();
        let mut stalled = 0u32;

        for iteration in 1..=config.max_iterations {
            self.check_budget(&usage, ctx.tokens_spent)?;
            let request = MessagesRequest {
                model: &config.model,
                max_tokens: config.max_tokens,
                system: prompt::SYSTEM,
                messages: &messages,
                tools: &self.tools,
                tool_choice: None,
            };
            let response = self.client.create(&request).await.map_err(plan_error)?;
            usage.calls += 1;
            usage.iterations = iteration;
            usage.input_tokens += response.usage.input_total();
            usage.output_tokens += response.usage.output_tokens;
            self.daily
                .record(response.usage.input_total() + response.usage.output_tokens);
            tracing::debug!(
                iteration,
                message_id = %response.id,
                stop_reason = ?response.stop_reason,
                tokens = usage.total_tokens(),
                "claude turn"
            );

            let uses = response.tool_uses();
            let stop = response.stop_reason.clone().unwrap_or(StopReason::Other);
            messages.push(Message {
                role: Role::Assistant,
                content: response.content.clone(),
            });
            match stop {
                StopReason::Refusal => {
                    return Err(failed(format!(
                        "the model refused to plan: {}",
                        truncate_chars(&response.text(), 200)
                    )));
                }
                StopReason::ModelContextWindowExceeded => {
                    return Err(failed(
                        "the conversation exceeded the model's context window",
                    ));
                }
                _ => {}
            }

            let progress = if stop == StopReason::MaxTokens || uses.is_empty() {
                let nudge = if stop == StopReason::MaxTokens {
                    prompt::CUT_OFF
                } else {
                    prompt::NUDGE
                };
                // A cut-off turn may hold a partial tool_use: answer every one.
                let mut content: Vec<Value> = uses
                    .iter()
                    .map(|u| {
                        ToolOutcome::error("reply was cut off; call not run")
                            .block(&u.id, max_chars)
                    })
                    .collect();
                content.push(json!({"type": "text", "text": nudge}));
                messages.push(Message {
                    role: Role::User,
                    content,
                });
                false
            } else {
                let mut progress = false;
                let mut results = Vec::with_capacity(uses.len());
                for call in &uses {
                    let key = format!("{}\u{1f}{}", call.name, call.input);
                    if let Some(previous) = seen.get(&key) {
                        let mut repeated = previous.clone();
                        repeated.content = format!(
                            "(repeated call; same result as before)\n{}",
                            repeated.content
                        );
                        results.push(repeated.block(&call.id, max_chars));
                        continue;
                    }
                    progress = true;
                    if call.name == tools::SUBMIT_PLAN {
                        match self.finish(ctx, &call.input, &proposed) {
                            Ok(mut plan) => {
                                plan.usage = usage;
                                return Ok(plan);
                            }
                            Err(problem) => {
                                let outcome = ToolOutcome::error(problem);
                                results.push(outcome.block(&call.id, max_chars));
                                seen.insert(key, outcome);
                                continue;
                            }
                        }
                    }
                    let outcome = self.run_tool(ctx, call, &mut proposed).await;
                    results.push(outcome.block(&call.id, max_chars));
                    seen.insert(key, outcome);
                }
                messages.push(Message {
                    role: Role::User,
                    content: results,
                });
                progress
            };

            stalled = if progress { 0 } else { stalled + 1 };
            if stalled >= config.stall_iterations {
                return Err(failed(format!(
                    "stalled: {stalled} consecutive turns without progress after {iteration} iterations"
                )));
            }
        }
        Err(failed(format!(
            "no plan after the maximum of {} iterations",
            config.max_iterations
        )))
    }

    /// The final plan from a `submit_plan` input, or what the model must fix.
    fn finish(&self, ctx: &PlanContext, input: &Value, proposed: &[Step]) -> Result<Plan, String> {
        let submitted: tools::SubmitPlan = serde_json::from_value(input.clone())
            .map_err(|e| format!("invalid submit_plan input: {e}"))?;
        if !submitted.confidence.is_finite() || !(0.0..=1.0).contains(&submitted.confidence) {
            return Err("confidence must be a number between 0 and 1".into());
        }
        let mut steps = Vec::new();
        for command in &submitted.commands {
            if command.host.trim().is_empty() || command.command.trim().is_empty() {
                return Err("every command needs a host and a command".into());
            }
            steps.push(
                Step::shell(command.host.trim(), command.command.trim())
                    .with_reason(command.reason.clone()),
            );
        }
        for action in &submitted.actions {
            steps.push(action.to_step()?);
        }
        for step in proposed {
            if !steps.iter().any(|s| s.action == step.action) {
                steps.push(step.clone());
            }
        }
        let signature = steps_signature(&steps);
        if !steps.is_empty() && ctx.failed.iter().any(|f| f.plan_signature == signature) {
            return Err(
                "this exact plan already failed for this symptom; propose something else \
                        or submit an empty plan to escalate"
                    .into(),
            );
        }
        let refused: Vec<String> = steps
            .iter()
            .filter_map(|step| {
                let verdict = self.safety.check(step);
                (verdict.decision == Decision::Refuse).then(|| {
                    format!(
                        "{} (rule {}: {})",
                        step.action.summary(),
                        verdict.rule,
                        verdict.reason
                    )
                })
            })
            .collect();
        if !refused.is_empty() {
            return Err(format!(
                "the safety policy refuses these steps; submit a plan without them:\n- {}",
                refused.join("\n- ")
            ));
        }
        let tier = if ctx.pattern.is_some() || ctx.runbook.is_some() {
            Tier::HintAssisted
        } else {
            Tier::FullReasoning
        };
        let mut analysis = submitted.analysis.trim().to_string();
        for (label, text) in [
            ("Reasoning", submitted.reasoning.trim()),
            ("Expected outcome", submitted.expected_outcome.trim()),
        ] {
            if !text.is_empty() {
                analysis.push_str(&format!("\n\n{label}: {text}"));
            }
        }
        let mut plan = Plan::new(tier, steps);
        plan.analysis = analysis;
        plan.confidence = Some(submitted.confidence);
        if submitted.confidence < self.config().min_confidence {
            tracing::info!(
                confidence = submitted.confidence,
                min_confidence = self.config().min_confidence,
                "claude plan below minimum confidence: needs approval"
            );
        }
        Ok(plan)
    }

    async fn run_tool(
        &self,
        ctx: &PlanContext,
        call: &ToolUse,
        proposed: &mut Vec<Step>,
    ) -> ToolOutcome {
        match call.name.as_str() {
            tools::RUN_COMMAND => match parse::<tools::RunCommand>(&call.input) {
                Ok(input) => {
                    self.diagnose(ctx, Step::shell(input.host, input.command))
                        .await
                }
                Err(e) => e,
            },
            tools::GATHER_LOGS => match parse::<tools::GatherLogs>(&call.input) {
                Ok(input) if tools::is_unit_name(&input.service) => {
                    let command = format!("journalctl -u {} -n 100 --no-pager", input.service);
                    self.diagnose(ctx, Step::shell(input.host, command)).await
                }
                Ok(_) => ToolOutcome::error("service must be a plain systemd unit name"),
                Err(e) => e,
            },
            tools::QUERY_LOKI_LOGS => match parse::<tools::RangeQuery>(&call.input) {
                Ok(input) => self.loki(input).await,
                Err(e) => e,
            },
            tools::QUERY_METRIC_HISTORY => match parse::<tools::RangeQuery>(&call.input) {
                Ok(input) => self.metric_history(input).await,
                Err(e) => e,
            },
            tools::GET_RUNBOOK => match parse::<tools::GetRunbook>(&call.input) {
                Ok(input) => self.runbook(ctx, &input.alert_name),
                Err(e) => e,
            },
            name => match tools::proposed_step(name, &call.input) {
                Some(Ok(step)) => self.propose(step, proposed),
                Some(Err(problem)) => ToolOutcome::error(problem),
                None => ToolOutcome::error(format!("unknown tool {name:?}")),
            },
        }
    }

    /// Runs a step only when the policy allows it unattended as diagnostic.
    /// Every call is audited, whether it ran or not.
    async fn diagnose(&self, ctx: &PlanContext, step: Step) -> ToolOutcome {
        let step = step.with_reason("diagnostic during planning");
        let validated = match self.safety.validate(step.clone()) {
            Ok(validated) => validated,
            Err(verdict) => {
                self.audit(ctx, &step, &verdict, &verdict.reason, None)
                    .await;
                return refusal(&verdict);
            }
        };
        let verdict = validated.verdict();
        if validated.class() != SafetyClass::Diagnostic {
            let reason = format!(
                "not run: classified as {}, and only diagnostic commands run while planning ({})",
                validated.class().as_str(),
                verdict.reason
            );
            self.audit(ctx, &step, verdict, &reason, None).await;
            return ToolOutcome::error(format!(
                "not executed: classified as {} (rule {}: {}). Only diagnostic commands run during \
                 planning; put remediation in submit_plan",
                validated.class().as_str(),
                verdict.rule,
                verdict.reason
            ));
        }
        tracing::info!(
            action = %validated.step().action.summary(),
            rule = %verdict.rule,
            "running diagnostic command for the planner"
        );
        let result = self.executor.execute(&validated).await;
        match result {
            Ok(result) => {
                self.audit(ctx, &step, verdict, &verdict.reason, Some(&result))
                    .await;
                ToolOutcome::ok(render_result(&result))
            }
            Err(e) => {
                let reason = format!("{}; could not run: {e}", verdict.reason);
                self.audit(ctx, &step, verdict, &reason, None).await;
                ToolOutcome::error(format!("could not run the command: {e}"))
            }
        }
    }

    /// Appends one planning command to the audit log. A store that is down
    /// does not stop planning: the failure is logged.
    async fn audit(
        &self,
        ctx: &PlanContext,
        step: &Step,
        verdict: &Verdict,
        reason: &str,
        result: Option<&StepResult>,
    ) {
        let Some(audit) = &self.audit else {
            return;
        };
        let entry = AuditEntry {
            at: audit.clock.now(),
            incident: Some(ctx.incident.id),
            action: step.action.summary(),
            host: step.action.host().map(str::to_string),
            decision: verdict.decision.as_str().to_string(),
            rule: verdict.rule.clone(),
            reason: format!("{PLANNING_AUDIT_PREFIX}{reason}"),
            executed: result.is_some(),
            exit_code: result.and_then(|r| r.exit_code),
        };
        if let Err(e) = audit.store.audit(&entry).await {
            tracing::warn!(incident = %ctx.incident.id, rule = %entry.rule, error = %e,
                "planning command not audited");
        }
    }

    fn propose(&self, step: Step, proposed: &mut Vec<Step>) -> ToolOutcome {
        let verdict = self.safety.check(&step);
        if verdict.decision == Decision::Refuse {
            return refusal(&verdict);
        }
        let summary = step.action.summary();
        if !proposed.iter().any(|s| s.action == step.action) {
            proposed.push(step);
        }
        ToolOutcome::ok(format!(
            "not executed now: recorded as proposed plan step \"{summary}\" (safety: {} by rule {}). \
             It runs only after the final plan is validated.",
            verdict.decision.as_str(),
            verdict.rule
        ))
    }

    async fn loki(&self, input: tools::RangeQuery) -> ToolOutcome {
        let Some(logs) = &self.logs else {
            return ToolOutcome::error("query_loki_logs is not configured on this Jarvis");
        };
        let since = minutes(input.minutes);
        match logs.query_logs(&input.query, since, 100).await {
            Ok(lines) if lines.is_empty() => ToolOutcome::ok("no log lines matched"),
            Ok(lines) => {
                let rows: Vec<Value> = lines
                    .iter()
                    .map(|l| json!({"at": l.at.to_rfc3339(), "labels": l.labels, "line": truncate_chars(&l.line, 500)}))
                    .collect();
                ToolOutcome::ok(serde_json::to_string(&rows).unwrap_or_default())
            }
            Err(e) => ToolOutcome::error(format!("log query failed: {e}")),
        }
    }

    async fn metric_history(&self, input: tools::RangeQuery) -> ToolOutcome {
        let Some(metrics) = &self.metrics else {
            return ToolOutcome::error("query_metric_history is not configured on this Jarvis");
        };
        match metrics
            .query_range(&input.query, minutes(input.minutes))
            .await
        {
            Ok(series) if series.is_empty() => ToolOutcome::ok("no series matched"),
            Ok(series) => {
                let rows: Vec<Value> = series
                    .iter()
                    .take(10)
                    .map(|s| {
                        let values: Vec<f64> = s.points.iter().map(|p| p.1).collect();
                        let step = (s.points.len() / 20).max(1);
                        json!({
                            "labels": s.labels,
                            "points": s.points.len(),
                            "min": values.iter().copied().fold(f64::INFINITY, f64::min),
                            "max": values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                            "last": values.last(),
                            "sampled": s.points.iter().step_by(step)
                                .map(|(t, v)| json!([t.to_rfc3339(), v])).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                ToolOutcome::ok(serde_json::to_string(&rows).unwrap_or_default())
            }
            Err(e) => ToolOutcome::error(format!("metric query failed: {e}")),
        }
    }

    fn runbook(&self, ctx: &PlanContext, alert_name: &str) -> ToolOutcome {
        let from_source = self.runbooks.as_ref().and_then(|r| r.runbook(alert_name));
        let from_ctx = ctx
            .runbook
            .as_ref()
            .filter(|r| r.alert_name == alert_name || r.aliases.iter().any(|a| a == alert_name))
            .cloned();
        match from_source.or(from_ctx) {
            Some(runbook) => ToolOutcome::ok(prompt::quoted_json(&json!({
                "alert_name": runbook.alert_name,
                "title": runbook.title,
                "markdown": runbook.markdown,
            }))),
            None => ToolOutcome::ok(format!("no runbook for alert {alert_name:?}")),
        }
    }
}

fn minutes(m: u64) -> Duration {
    Duration::from_secs(m.clamp(1, tools::MAX_MINUTES) * 60)
}

fn parse<T: serde::de::DeserializeOwned>(input: &Value) -> Result<T, ToolOutcome> {
    serde_json::from_value(input.clone())
        .map_err(|e| ToolOutcome::error(format!("invalid tool input: {e}")))
}

fn refusal(verdict: &Verdict) -> ToolOutcome {
    let what = match verdict.decision {
        Decision::Refuse => "refused by the safety policy",
        Decision::Approve => "not executed: needs a person's approval",
        Decision::Allow => "not executed",
    };
    ToolOutcome::error(format!(
        "{what} (rule {}): {}",
        verdict.rule, verdict.reason
    ))
}

fn render_result(result: &StepResult) -> String {
    let mut out = json!({
        "exit_code": result.exit_code,
        "stdout": result.stdout,
        "stderr": result.stderr,
    });
    if result.truncated {
        out["truncated"] = json!(true);
    }
    if result.timed_out {
        out["timed_out"] = json!(true);
    }
    if result.dry_run {
        out["dry_run"] = json!(true);
    }
    serde_json::to_string(&out).unwrap_or_default()
}

fn failed(reason: impl Into<String>) -> PlanError {
    PlanError::Failed {
        planner: PLANNER_NAME.into(),
        reason: reason.into(),
    }
}

fn plan_error(e: ClaudeError) -> PlanError {
    if e.is_unavailable() {
        PlanError::Unavailable {
            planner: PLANNER_NAME.into(),
            reason: e.to_string(),
        }
    } else {
        failed(e.to_string())
    }
}

#[async_trait]
impl Planner for ClaudePlanner {
    fn name(&self) -> &str {
        PLANNER_NAME
    }

    #[tracing::instrument(skip_all, fields(planner = PLANNER_NAME, alertname = %ctx.alert.name(), incident = %ctx.incident.id))]
    async fn plan(&self, ctx: &PlanContext) -> Result<Plan, PlanError> {
        self.run_loop(ctx).await
    }
}
