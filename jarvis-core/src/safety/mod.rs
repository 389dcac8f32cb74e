//! Command safety: the last gate between a proposed step and a production host.
//!
//! Every [`Step`] passes [`SafetyPolicy::check`] before anything runs. Shell
//! commands are parsed ([`shell::parse`]) and every simple command in the
//! resulting AST — including those inside pipelines, lists, subshells,
//! substitutions, `sh -c` strings and wrappers such as `sudo`, `env`,
//! `timeout` or `xargs` — is classified on its own. The most severe part
//! decides for the whole command. Non-shell actions (Home Assistant, n8n,
//! self-restart, waits, Prometheus checks) have their own policy.
//!
//! Only this module can build a [`ValidatedStep`], the type an Executor
//! accepts: [`SafetyPolicy::validate`] for steps that may run unattended and
//! [`SafetyPolicy::approve`] for steps a person said yes to.

mod classify;
mod commands;
mod policy;
pub mod rules;
pub mod shell;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::domain::Step;

pub use policy::{
    HomeAssistantRules, HostRules, N8nRules, ProtectedNames, SafetyConfig, SafetyConfigError,
    SafetyPolicy,
};

/// What may happen to a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Runs unattended.
    Allow,
    /// Held until a person approves it.
    Approve,
    /// Never runs.
    Refuse,
}

impl Decision {
    /// Higher is more severe: `Refuse > Approve > Allow`.
    pub fn severity(self) -> u8 {
        match self {
            Decision::Allow => 0,
            Decision::Approve => 1,
            Decision::Refuse => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Approve => "approve",
            Decision::Refuse => "refuse",
        }
    }
}

/// Whether a step only reads, or changes something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafetyClass {
    /// Read-only: observes the system without changing it.
    Diagnostic,
    /// Changes state (or might: anything not known to be read-only).
    Remediation,
}

impl SafetyClass {
    pub fn as_str(self) -> &'static str {
        match self {
            SafetyClass::Diagnostic => "diagnostic",
            SafetyClass::Remediation => "remediation",
        }
    }
}

/// The outcome of a safety check: what may happen, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub decision: Decision,
    pub class: SafetyClass,
    /// The rule that decided, e.g. `recursive-delete` (see [`rules`]).
    pub rule: String,
    /// A sentence for people: what was found and why it matters.
    pub reason: String,
}

impl Verdict {
    pub fn new(
        decision: Decision,
        class: SafetyClass,
        rule: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Verdict {
            decision,
            class,
            rule: rule.into(),
            reason: reason.into(),
        }
    }

    /// Read-only, runs unattended.
    pub fn diagnostic(rule: &str, reason: impl Into<String>) -> Self {
        Self::new(Decision::Allow, SafetyClass::Diagnostic, rule, reason)
    }

    /// Changes state, but is safe to run unattended.
    pub fn remediation(rule: &str, reason: impl Into<String>) -> Self {
        Self::new(Decision::Allow, SafetyClass::Remediation, rule, reason)
    }

    /// Changes state; a person must say yes.
    pub fn approve(rule: &str, reason: impl Into<String>) -> Self {
        Self::new(Decision::Approve, SafetyClass::Remediation, rule, reason)
    }

    /// Never runs.
    pub fn refuse(rule: &str, reason: impl Into<String>) -> Self {
        Self::new(Decision::Refuse, SafetyClass::Remediation, rule, reason)
    }

    /// Overrides the class (e.g. a refused secret read is still diagnostic).
    pub fn with_class(mut self, class: SafetyClass) -> Self {
        self.class = class;
        self
    }

    /// True when this verdict should be reported instead of `other` for a
    /// compound command: more severe decision first, then remediation over
    /// diagnostic; ties keep the earlier part.
    fn outranks(&self, other: &Verdict) -> bool {
        let key = |v: &Verdict| (v.decision.severity(), v.class == SafetyClass::Remediation);
        key(self) > key(other)
    }

    /// Combines the verdicts of the parts of a compound command: the most
    /// severe decision wins (its rule and reason are reported), and the class
    /// is remediation if any part is.
    pub fn combine(parts: impl IntoIterator<Item = Verdict>) -> Option<Verdict> {
        let mut out: Option<Verdict> = None;
        let mut remediation = false;
        for v in parts {
            remediation |= v.class == SafetyClass::Remediation;
            match &out {
                Some(cur) if !v.outranks(cur) => {}
                _ => out = Some(v),
            }
        }
        out.map(|mut v| {
            if remediation {
                v.class = SafetyClass::Remediation;
            }
            v
        })
    }
}

/// A step that passed the safety policy. Executors accept only this type, and
/// only [`SafetyPolicy::validate`] and [`SafetyPolicy::approve`] create it.
#[derive(Clone, Debug)]
pub struct ValidatedStep {
    step: Step,
    verdict: Verdict,
    approved_by: Option<String>,
}

impl ValidatedStep {
    pub fn step(&self) -> &Step {
        &self.step
    }

    /// The verdict that let the step through (decision `Approve` when a person
    /// approved it, see [`ValidatedStep::approved_by`]).
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    pub fn class(&self) -> SafetyClass {
        self.verdict.class
    }

    /// Who approved the step, when it needed approval.
    pub fn approved_by(&self) -> Option<&str> {
        self.approved_by.as_deref()
    }

    pub fn into_step(self) -> Step {
        self.step
    }
}
