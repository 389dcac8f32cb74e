//! How much the learning tier saves.

use std::collections::BTreeMap;

use serde::Serialize;

use super::LearningConfig;
use crate::domain::{Attempt, Pattern, Tier};

/// Learning analytics over all patterns and attempts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LearningAnalytics {
    /// Patterns known, in total and by source (`seeded`, `deterministic`, `llm`).
    pub patterns: usize,
    pub patterns_by_source: BTreeMap<String, usize>,
    /// Verified successes and failures recorded on all patterns.
    pub verified_successes: u64,
    pub pattern_failures: u64,
    /// Attempts analysed.
    pub attempts: usize,
    /// Attempts planned from a cached pattern.
    pub cached_attempts: usize,
    /// `cached_attempts / attempts` (0 when there are none).
    pub cache_hit_rate: f64,
    /// Attempts in each tier; every tier is listed.
    pub tiers: BTreeMap<String, usize>,
    /// Attempts that called the LLM, and what they spent.
    pub llm_attempts: usize,
    pub llm_calls: u64,
    pub llm_input_tokens: u64,
    pub llm_output_tokens: u64,
    pub llm_cost_usd: f64,
    /// Cached attempts × the average LLM calls and tokens of an LLM attempt.
    pub llm_calls_saved: u64,
    pub input_tokens_saved: u64,
    pub output_tokens_saved: u64,
    pub tokens_saved: u64,
    /// The saved tokens priced with the configured prices, in US dollars.
    pub cost_saved_usd: f64,
}

/// Analytics over patterns and attempts: patterns count, cache hit rate, LLM calls
/// and tokens saved (cached attempts × average LLM tokens per LLM attempt), cost
/// saved (prices from cfg), tier mix.
pub fn analytics(
    patterns: &[Pattern],
    attempts: &[Attempt],
    cfg: &LearningConfig,
) -> LearningAnalytics {
    let mut out = LearningAnalytics {
        patterns: patterns.len(),
        attempts: attempts.len(),
        tiers: Tier::ALL
            .iter()
            .map(|t| (t.as_str().to_string(), 0))
            .collect(),
        ..LearningAnalytics::default()
    };
    for pattern in patterns {
        *out.patterns_by_source
            .entry(pattern.source.as_str().to_string())
            .or_default() += 1;
        out.verified_successes += u64::from(pattern.successes);
        out.pattern_failures += u64::from(pattern.failures);
    }
    for attempt in attempts {
        *out.tiers
            .entry(attempt.tier.as_str().to_string())
            .or_default() += 1;
        if attempt.tier == Tier::Cached {
            out.cached_attempts += 1;
        }
        if attempt.tier.uses_llm() {
            out.llm_attempts += 1;
            out.llm_calls += u64::from(attempt.usage.calls);
            out.llm_input_tokens += attempt.usage.input_tokens;
            out.llm_output_tokens += attempt.usage.output_tokens;
        }
    }
    if out.attempts > 0 {
        out.cache_hit_rate = out.cached_attempts as f64 / out.attempts as f64;
    }
    let price = |input: u64, output: u64| {
        (input as f64 * cfg.price_per_million_input_tokens
            + output as f64 * cfg.price_per_million_output_tokens)
            / 1_000_000.0
    };
    out.llm_cost_usd = price(out.llm_input_tokens, out.llm_output_tokens);
    if out.llm_attempts > 0 {
        let per_attempt = |total: u64| {
            (total as f64 / out.llm_attempts as f64 * out.cached_attempts as f64).round() as u64
        };
        out.llm_calls_saved = per_attempt(out.llm_calls);
        out.input_tokens_saved = per_attempt(out.llm_input_tokens);
        out.output_tokens_saved = per_attempt(out.llm_output_tokens);
        out.tokens_saved = out.input_tokens_saved + out.output_tokens_saved;
        out.cost_saved_usd = price(out.input_tokens_saved, out.output_tokens_saved);
    }
    out
}
