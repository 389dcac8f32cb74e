//! The deterministic planner: plans from hints and runbooks, with no LLM.
//!
//! Jarvis is useful without an API key: this planner turns routing entries,
//! `remediation_commands` hints and a runbook's remediation commands into
//! plans. Each candidate is a separate plan, tried in order across attempts;
//! a candidate that already failed for the symptom is skipped.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;

use crate::domain::{Plan, Step, Tier, steps_signature};
use crate::error::PlanError;
use crate::ports::{PlanContext, Planner};
use crate::runbook;

/// Plans from hints and runbooks.
#[derive(Debug, Default, Clone)]
pub struct DeterministicPlanner;

impl DeterministicPlanner {
    pub fn new() -> Self {
        DeterministicPlanner
    }

    /// Placeholder values for runbook commands, from the alert and its hints.
    pub fn placeholders(ctx: &PlanContext) -> BTreeMap<String, String> {
        let mut values = BTreeMap::new();
        // Any label may be referenced; hints override labels of the same name.
        for (k, v) in &ctx.alert.labels {
            values.insert(k.clone(), v.clone());
        }
        let hints = &ctx.hints;
        for (key, value) in [
            ("host", &hints.host),
            ("service", &hints.service),
            ("container", &hints.container),
            ("system", &hints.system),
        ] {
            if let Some(v) = value {
                values.insert(key.to_string(), v.clone());
            }
        }
        if !values.contains_key("mountpoint")
            && let Some(mp) = ctx.alert.label("mountpoint")
        {
            values.insert("mountpoint".into(), mp.to_string());
        }
        values
    }

    /// Candidate plans in order of preference.
    pub fn candidates(ctx: &PlanContext) -> Vec<Vec<Step>> {
        let Some(host) = ctx.hints.host.clone() else {
            return Vec::new();
        };
        let values = Self::placeholders(ctx);
        let mut candidates = Vec::new();
        // 1. Commands named by routing or by the alert's own hints, all together.
        let hinted: Vec<Step> = ctx
            .hints
            .commands
            .iter()
            .filter_map(|c| runbook::fill(c, &values))
            .map(|c| Step::shell(&host, c).with_reason("suggested by the alert's hints"))
            .collect();
        if !hinted.is_empty() {
            candidates.push(hinted);
        }
        // 2. Each runbook remediation command on its own, in the runbook's order.
        if let Some(rb) = &ctx.runbook {
            for cmd in rb.commands.iter().filter(|c| c.remediation) {
                if let Some(filled) = runbook::fill(&cmd.command, &values) {
                    candidates.push(vec![
                        Step::shell(&host, filled)
                            .with_reason(format!("remediation from runbook {}", rb.alert_name)),
                    ]);
                }
            }
        }
        candidates
    }
}

#[async_trait]
impl Planner for DeterministicPlanner {
    fn name(&self) -> &str {
        "deterministic"
    }

    async fn plan(&self, ctx: &PlanContext) -> Result<Plan, PlanError> {
        let failed: BTreeSet<&str> = ctx
            .failed
            .iter()
            .map(|f| f.plan_signature.as_str())
            .collect();
        let candidates = Self::candidates(ctx);
        let total = candidates.len();
        let chosen = candidates
            .into_iter()
            .find(|steps| !failed.contains(steps_signature(steps).as_str()));
        let mut plan = Plan::new(Tier::Deterministic, chosen.unwrap_or_default());
        plan.analysis = if plan.is_empty() {
            match (&ctx.hints.host, total) {
                (None, _) => "no host is known for this alert: add a remediation_host label or a routing entry".to_string(),
                (Some(_), 0) => "no runbook command or hint applies to this alert".to_string(),
                (Some(_), n) => format!("all {n} known fixes already failed for this symptom"),
            }
        } else {
            format!(
                "planned from {} without an LLM",
                if ctx.hints.commands.is_empty() {
                    "the runbook"
                } else {
                    "hints"
                }
            )
        };
        Ok(plan)
    }
}
