//! Checks a run against its scenario's expectations.

use serde::Serialize;

use super::runner::{IncidentSummary, RunOutcome};
use super::scenario::{Expectations, IncidentExpectation};

/// One expectation that did not hold, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The expectation, as a path into `expect` (`incidents[0].state`, `max_notifications`).
    pub expectation: String,
    pub reason: String,
}

fn fail(out: &mut Vec<Failure>, expectation: impl Into<String>, reason: impl Into<String>) {
    out.push(Failure {
        expectation: expectation.into(),
        reason: reason.into(),
    });
}

fn max_check(out: &mut Vec<Failure>, name: &str, limit: Option<u64>, actual: u64) {
    if let Some(limit) = limit
        && actual > limit
    {
        fail(out, name, format!("expected at most {limit}, got {actual}"));
    }
}

fn min_check(out: &mut Vec<Failure>, name: &str, limit: Option<u64>, actual: u64) {
    if let Some(limit) = limit
        && actual < limit
    {
        fail(
            out,
            name,
            format!("expected at least {limit}, got {actual}"),
        );
    }
}

/// Every expectation that failed; empty when the run passed.
pub fn check(expect: &Expectations, run: &RunOutcome) -> Vec<Failure> {
    let mut out = Vec::new();
    let m = &run.metrics;
    for needle in &expect.commands_run {
        if !run.executed.iter().any(|c| c.contains(needle.as_str())) {
            fail(
                &mut out,
                "commands_run",
                format!(
                    "no executed command contains {needle:?} (ran: {})",
                    list(&run.executed)
                ),
            );
        }
    }
    for needle in &expect.commands_not_run {
        if let Some(c) = run.executed.iter().find(|c| c.contains(needle.as_str())) {
            fail(&mut out, "commands_not_run", format!("{c:?} ran"));
        }
    }
    max_check(
        &mut out,
        "max_commands",
        expect.max_commands,
        m.commands_run,
    );
    max_check(
        &mut out,
        "max_notifications",
        expect.max_notifications,
        m.notifications_sent,
    );
    max_check(&mut out, "max_llm_calls", expect.max_llm_calls, m.llm_calls);
    min_check(&mut out, "min_llm_calls", expect.min_llm_calls, m.llm_calls);
    min_check(&mut out, "min_cached", expect.min_cached, m.cached);
    min_check(
        &mut out,
        "min_refused",
        expect.min_refused,
        m.commands_refused,
    );
    max_check(
        &mut out,
        "max_escalations",
        expect.max_escalations,
        m.escalated,
    );
    min_check(&mut out, "min_incidents", expect.min_incidents, m.incidents);
    max_check(&mut out, "max_incidents", expect.max_incidents, m.incidents);
    if let Some(n) = expect.self_restarts
        && n != m.self_restarts
    {
        fail(
            &mut out,
            "self_restarts",
            format!("expected {n} self-restarts, got {}", m.self_restarts),
        );
    }
    if expect.all_terminal {
        for i in &run.incidents {
            let terminal = jarvis_core::domain::IncidentState::parse(&i.state)
                .is_some_and(|s| s.is_terminal());
            if !terminal {
                fail(
                    &mut out,
                    "all_terminal",
                    format!(
                        "{} {:?} ended {}: {}",
                        i.alert,
                        short(&i.labels),
                        i.state,
                        i.reason
                    ),
                );
            }
        }
    }
    for (n, e) in expect.incidents.iter().enumerate() {
        check_incidents(&mut out, &format!("incidents[{n}]"), e, &run.incidents);
    }
    out
}

fn check_incidents(
    out: &mut Vec<Failure>,
    path: &str,
    e: &IncidentExpectation,
    incidents: &[IncidentSummary],
) {
    let matching: Vec<&IncidentSummary> = incidents
        .iter()
        .filter(|i| i.alert == e.alert && e.labels.iter().all(|(k, v)| i.labels.get(k) == Some(v)))
        .collect();
    let what = if e.labels.is_empty() {
        e.alert.clone()
    } else {
        format!("{} {}", e.alert, short(&e.labels))
    };
    if let Some(count) = e.count
        && matching.len() as u64 != count
    {
        fail(
            out,
            format!("{path}.count"),
            format!("expected {count} {what} incidents, got {}", matching.len()),
        );
    }
    let selected: Vec<&IncidentSummary> = match e.occurrence.as_deref() {
        None | Some("all") => matching.clone(),
        Some("first") => matching.first().copied().into_iter().collect(),
        Some("last") => matching.last().copied().into_iter().collect(),
        Some(n) => n
            .parse::<usize>()
            .ok()
            .and_then(|n| matching.get(n.wrapping_sub(1)).copied())
            .into_iter()
            .collect(),
    };
    let checks_something = e.state.is_some()
        || !e.states_seen.is_empty()
        || e.max_attempts.is_some()
        || e.min_attempts.is_some()
        || e.tier.is_some()
        || e.max_llm_calls.is_some()
        || !e.commands_run.is_empty()
        || !e.commands_not_run.is_empty()
        || e.reason_contains.is_some();
    if selected.is_empty() {
        if checks_something {
            fail(
                out,
                path.to_string(),
                format!(
                    "no {what} incident (occurrence {})",
                    e.occurrence.as_deref().unwrap_or("all")
                ),
            );
        }
        return;
    }
    for (k, i) in selected.iter().enumerate() {
        let who = if selected.len() > 1 {
            format!("{what} #{}", k + 1)
        } else {
            what.clone()
        };
        if let Some(state) = &e.state
            && &i.state != state
        {
            fail(
                out,
                format!("{path}.state"),
                format!("{who} ended {} (expected {state}): {}", i.state, i.reason),
            );
        }
        for s in &e.states_seen {
            if !i.states.contains(s) {
                fail(
                    out,
                    format!("{path}.states_seen"),
                    format!("{who} never was {s} (path: {})", i.states.join(" → ")),
                );
            }
        }
        if let Some(max) = e.max_attempts
            && i.attempts > max
        {
            fail(
                out,
                format!("{path}.max_attempts"),
                format!("{who} took {} attempts (max {max})", i.attempts),
            );
        }
        if let Some(min) = e.min_attempts
            && i.attempts < min
        {
            fail(
                out,
                format!("{path}.min_attempts"),
                format!("{who} took {} attempts (min {min})", i.attempts),
            );
        }
        if let Some(tier) = &e.tier
            && i.tier.as_deref() != Some(tier.as_str())
        {
            fail(
                out,
                format!("{path}.tier"),
                format!(
                    "{who}'s last attempt was {} (expected {tier})",
                    i.tier.as_deref().unwrap_or("none")
                ),
            );
        }
        if let Some(max) = e.max_llm_calls
            && i.llm_calls > max
        {
            fail(
                out,
                format!("{path}.max_llm_calls"),
                format!("{who} used {} LLM calls (max {max})", i.llm_calls),
            );
        }
        for needle in &e.commands_run {
            if !i.commands.iter().any(|c| c.contains(needle.as_str())) {
                fail(
                    out,
                    format!("{path}.commands_run"),
                    format!(
                        "{who} ran no command containing {needle:?} (ran: {})",
                        list(&i.commands)
                    ),
                );
            }
        }
        for needle in &e.commands_not_run {
            if let Some(c) = i.commands.iter().find(|c| c.contains(needle.as_str())) {
                fail(
                    out,
                    format!("{path}.commands_not_run"),
                    format!("{who} ran {c:?}"),
                );
            }
        }
        if let Some(text) = &e.reason_contains
            && !i.reason.contains(text.as_str())
        {
            fail(
                out,
                format!("{path}.reason_contains"),
                format!("{who}'s reason {:?} lacks {text:?}", i.reason),
            );
        }
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".into()
    } else {
        items.join("; ")
    }
}

fn short(labels: &jarvis_core::domain::Labels) -> String {
    let parts: Vec<String> = labels
        .iter()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                "container" | "service" | "system" | "host" | "mountpoint"
            )
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!("{{{}}}", parts.join(","))
}
