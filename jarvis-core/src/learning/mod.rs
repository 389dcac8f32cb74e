//! Learning: remembering which plans fixed which symptoms, and how much to trust them.
//!
//! A [`Pattern`] is a plan that the Verifier saw clear an alert, keyed by a
//! [`Symptom`] signature. Its trust is [`confidence`]: a lower bound of its
//! success rate under a Beta prior, with evidence that decays with age.
//! [`choose`] turns that into a tier decision: run it without the LLM
//! ([`PatternMatch::Cached`]), offer it to the LLM ([`PatternMatch::Hint`]), or
//! ignore it. Everything here is pure; `now` is passed in.

mod analytics;
mod index;
mod seeds;
#[cfg(test)]
mod tests;

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::domain::{
    Alert, FailurePattern, Labels, Pattern, PatternId, PatternSource, Step, steps_signature,
};

pub use analytics::{LearningAnalytics, analytics};
pub use index::PatternIndex;
pub use seeds::{
    PLACEHOLDERS, PlaceholderError, SeedError, fill_placeholders, seeds_from_document,
};

/// Thresholds and prices of the learning tier.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearningConfig {
    /// A pattern at or above this confidence, with at least `cache_min_successes`
    /// verified successes, runs without the LLM.
    pub cache_confidence: f64,
    /// Verified successes a pattern needs before it may run without the LLM.
    pub cache_min_successes: u32,
    /// A pattern at or above this confidence is offered to the LLM as context.
    pub hint_confidence: f64,
    /// Evidence loses half its weight every this many days since the pattern was last used.
    pub half_life_days: f64,
    /// Beta prior pseudo-successes added to every pattern's record.
    pub prior_successes: f64,
    /// Beta prior pseudo-failures added to every pattern's record.
    pub prior_failures: f64,
    /// Width of the confidence bound in standard deviations (1.0 ≈ one-sided 84%).
    pub confidence_z: f64,
    /// LLM price in US dollars per million input tokens, for the cost-saved figure.
    pub price_per_million_input_tokens: f64,
    /// LLM price in US dollars per million output tokens, for the cost-saved figure.
    pub price_per_million_output_tokens: f64,
}

impl Default for LearningConfig {
    fn default() -> Self {
        LearningConfig {
            cache_confidence: 0.75,
            cache_min_successes: 5,
            hint_confidence: 0.50,
            half_life_days: 30.0,
            prior_successes: 1.0,
            prior_failures: 0.5,
            confidence_z: 0.8,
            price_per_million_input_tokens: 3.0,
            price_per_million_output_tokens: 15.0,
        }
    }
}

/// What identifies "the same problem" across alerts: the alert name and the
/// normalized labels that name the affected thing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symptom {
    pub alert_name: String,
    pub labels: Labels,
    /// Hash of `alert_name` and `labels`; the pattern lookup key.
    pub signature: String,
}

/// Labels that identify a symptom. Everything else (instance, pod, severity,
/// values, timestamps…) varies between occurrences of the same problem.
pub const SYMPTOM_LABELS: [&str; 4] = ["service", "container", "system", "job"];
/// The symptom label that carries the role of the alert's host, when known.
pub const HOST_ROLE_LABEL: &str = "host_role";

/// Signature of the alert name plus the normalized labels that identify the symptom
/// (service, container, system, job, and host role when given; NOT instance/IP:port,
/// pod hashes, timestamps, values, severity…).
pub fn symptom(alert: &Alert, host_role: Option<&str>) -> Symptom {
    let mut labels = Labels::new();
    for key in SYMPTOM_LABELS {
        if let Some(value) = alert.label(key).and_then(normalize_value) {
            labels.insert(key.to_string(), value);
        }
    }
    if let Some(role) = host_role.and_then(normalize_value) {
        labels.insert(HOST_ROLE_LABEL.to_string(), role);
    }
    Symptom::new(alert.name(), labels)
}

impl Symptom {
    /// A symptom from already-normalized labels (seed files, stored patterns).
    pub fn new(alert_name: impl Into<String>, labels: Labels) -> Self {
        let alert_name = alert_name.into();
        let signature = symptom_signature(&alert_name, &labels);
        Symptom {
            alert_name,
            labels,
            signature,
        }
    }

    /// The signatures to look patterns up by, most specific first: this
    /// symptom's, then the alert name alone (where seeds with an empty
    /// `symptom` table live). Pass the union of both lookups to [`choose`].
    pub fn lookup_signatures(&self) -> Vec<String> {
        let mut signatures = vec![self.signature.clone()];
        if !self.labels.is_empty() {
            signatures.push(symptom_signature(&self.alert_name, &Labels::new()));
        }
        signatures
    }
}

/// The encoding is `symptom-v1\n{alert}\n` then `name=value\n` per label in order; it must never change.
fn symptom_signature(alert_name: &str, labels: &Labels) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"symptom-v1\n");
    hasher.update(alert_name.as_bytes());
    hasher.update(b"\n");
    for (k, v) in labels {
        hasher.update(k.as_bytes());
        hasher.update(b"=");
        hasher.update(v.as_bytes());
        hasher.update(b"\n");
    }
    hasher.finalize().to_hex()[..16].to_string()
}

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\[[0-9a-fA-F:]+\]|\d{1,3}(\.\d{1,3}){3})(:\d+)?$").expect("valid regex")
});
static POD_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    // `name-<replicaset hash>-<pod id>` or `name-<statefulset ordinal>` is kept;
    // only the Deployment form is stripped.
    Regex::new(r"^(.+?)-[a-z0-9]{6,10}-[a-z0-9]{5}$").expect("valid regex")
});

/// Trims a label value, drops addresses, and strips Kubernetes pod hashes.
fn normalize_value(value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() || ADDRESS.is_match(value) {
        return None;
    }
    if let Some(caps) = POD_SUFFIX.captures(value) {
        let hash = &value[caps[1].len() + 1..];
        if hash.bytes().any(|b| b.is_ascii_digit()) {
            return Some(caps[1].to_string());
        }
    }
    Some(value.to_string())
}

/// Principled confidence in [0, 1]: the Wilson lower bound of the success rate,
/// counting the Beta prior as pseudo-observations, with the verified evidence
/// decayed by its age since `last_used` (or `created_at`).
///
/// Monotone: never decreases with another verified success, never increases
/// with another failure, and never increases with age.
pub fn confidence(pattern: &Pattern, now: DateTime<Utc>, cfg: &LearningConfig) -> f64 {
    let since = pattern.last_used.unwrap_or(pattern.created_at);
    let weight = decay_weight(now - since, cfg.half_life_days);
    let successes = f64::from(pattern.successes) * weight + cfg.prior_successes.max(0.0);
    let failures = f64::from(pattern.failures) * weight + cfg.prior_failures.max(0.0);
    wilson_lower_bound(successes, failures, cfg.confidence_z)
}

/// The factor evidence of this age keeps: 1 when new, ½ after one half-life.
fn decay_weight(age: chrono::TimeDelta, half_life_days: f64) -> f64 {
    if !(half_life_days.is_finite() && half_life_days > 0.0) {
        return 1.0;
    }
    let age_days = (age.num_milliseconds().max(0) as f64) / 86_400_000.0;
    0.5_f64.powf(age_days / half_life_days)
}

/// Wilson score interval lower bound for `successes` out of `successes + failures`.
fn wilson_lower_bound(successes: f64, failures: f64, z: f64) -> f64 {
    let n = successes + failures;
    if n.is_nan() || n <= 0.0 {
        return 0.0;
    }
    let z = if z.is_finite() { z.max(0.0) } else { 1.0 };
    let p = successes / n;
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n);
    let spread = z * ((p * (1.0 - p) + z2 / (4.0 * n)) / n).sqrt();
    let bound = (centre - spread) / (1.0 + z2 / n);
    if bound.is_nan() {
        0.0
    } else {
        bound.clamp(0.0, 1.0)
    }
}

/// What the learning tier offers for a symptom.
#[derive(Clone, Debug, PartialEq)]
pub enum PatternMatch {
    /// Trusted enough to run without the LLM.
    Cached {
        pattern: Pattern,
        confidence: f64,
    },
    /// Worth showing the LLM as context.
    Hint {
        pattern: Pattern,
        confidence: f64,
    },
    None,
}

impl PatternMatch {
    pub fn pattern(&self) -> Option<(&Pattern, f64)> {
        match self {
            PatternMatch::Cached {
                pattern,
                confidence,
            }
            | PatternMatch::Hint {
                pattern,
                confidence,
            } => Some((pattern, *confidence)),
            PatternMatch::None => None,
        }
    }
}

/// Best pattern for a symptom; never one whose plan (steps_signature) is among `failures`.
///
/// A pattern is cached when its confidence reaches `cache_confidence` and it has
/// `cache_min_successes` verified successes; otherwise the most confident pattern
/// at or above `hint_confidence` is a hint. Ties go to more successes, then the
/// smaller id, so the choice never depends on the order of `patterns`.
pub fn choose(
    patterns: &[Pattern],
    failures: &[FailurePattern],
    now: DateTime<Utc>,
    cfg: &LearningConfig,
) -> PatternMatch {
    choose_filled(patterns, failures, now, cfg, |p| p.steps.clone())
}

/// [`choose`] for patterns whose steps hold placeholders: `fill` gives the
/// steps as they would run, and a pattern is skipped when either its stored
/// steps or its filled steps match a failed plan, or when filling leaves no step.
pub fn choose_filled(
    patterns: &[Pattern],
    failures: &[FailurePattern],
    now: DateTime<Utc>,
    cfg: &LearningConfig,
    fill: impl Fn(&Pattern) -> Vec<Step>,
) -> PatternMatch {
    let mut best_cached: Option<(&Pattern, f64)> = None;
    let mut best_hint: Option<(&Pattern, f64)> = None;
    for pattern in patterns {
        if pattern.steps.is_empty() {
            continue;
        }
        let score = confidence(pattern, now, cfg);
        if score < cfg.hint_confidence && score < cfg.cache_confidence {
            continue;
        }
        let filled = fill(pattern);
        if filled.is_empty() {
            continue;
        }
        if !failures.is_empty() {
            let stored = steps_signature(&pattern.steps);
            let filled = steps_signature(&filled);
            if failures
                .iter()
                .any(|f| f.plan_signature == stored || f.plan_signature == filled)
            {
                continue;
            }
        }
        if score >= cfg.cache_confidence && pattern.successes >= cfg.cache_min_successes {
            keep_better(&mut best_cached, pattern, score);
        }
        if score >= cfg.hint_confidence {
            keep_better(&mut best_hint, pattern, score);
        }
    }
    if let Some((pattern, confidence)) = best_cached {
        return PatternMatch::Cached {
            pattern: pattern.clone(),
            confidence,
        };
    }
    match best_hint {
        Some((pattern, confidence)) => PatternMatch::Hint {
            pattern: pattern.clone(),
            confidence,
        },
        None => PatternMatch::None,
    }
}

fn keep_better<'a>(best: &mut Option<(&'a Pattern, f64)>, candidate: &'a Pattern, score: f64) {
    let better = match best {
        None => true,
        Some((current, current_score)) => score
            .total_cmp(current_score)
            .then(candidate.successes.cmp(&current.successes))
            .then(current.id.cmp(&candidate.id))
            .is_gt(),
    };
    if better {
        *best = Some((candidate, score));
    }
}

/// The pattern to save after an attempt with this plan: `verified` = the Verifier said the alert cleared.
///
/// A verified success creates or strengthens the pattern; a failure weakens an
/// existing one; a failure with no existing pattern returns `None` (nothing
/// learned). `existing` is the pattern with the same symptom signature and plan
/// signature, if any (its steps may be the placeholder form of `steps`); one
/// with another symptom signature is treated as absent, so a verified run of
/// a generic seed creates a specific pattern. An empty plan teaches nothing.
/// A strengthened or weakened pattern keeps its own steps and source.
pub fn learn(
    existing: Option<&Pattern>,
    symptom: &Symptom,
    steps: &[Step],
    verified: bool,
    source: PatternSource,
    now: DateTime<Utc>,
) -> Option<Pattern> {
    let existing = existing.filter(|p| p.signature == symptom.signature);
    match existing {
        Some(pattern) => {
            let mut pattern = pattern.clone();
            if verified {
                pattern.successes = pattern.successes.saturating_add(1);
            } else {
                pattern.failures = pattern.failures.saturating_add(1);
            }
            pattern.last_used = Some(now);
            Some(pattern)
        }
        None if verified && !steps.is_empty() => Some(Pattern {
            id: PatternId::new(),
            signature: symptom.signature.clone(),
            alert_name: symptom.alert_name.clone(),
            symptom: symptom.labels.clone(),
            steps: steps.to_vec(),
            successes: 1,
            failures: 0,
            source,
            created_at: now,
            last_used: Some(now),
        }),
        None => None,
    }
}

/// A failed plan for a symptom (counts again when `existing`).
pub fn failure(
    existing: Option<&FailurePattern>,
    symptom: &Symptom,
    steps: &[Step],
    reason: &str,
    now: DateTime<Utc>,
) -> FailurePattern {
    let plan_signature = steps_signature(steps);
    let previous = existing
        .filter(|f| f.signature == symptom.signature && f.plan_signature == plan_signature)
        .map_or(0, |f| f.failures);
    FailurePattern {
        signature: symptom.signature.clone(),
        plan_signature,
        summary: steps.iter().map(|s| s.action.summary()).collect(),
        failures: previous.saturating_add(1),
        reason: reason.to_string(),
        last_failed_at: now,
    }
}
