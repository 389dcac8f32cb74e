//! A closed-loop webhook load generator for loopback targets.
//!
//! Every request carries a distinct alert: the real single-alert Alertmanager
//! payload (`tests/fixtures/servicedown-firing.json`) with its `instance`
//! label, `startsAt` and fingerprint changed per request, so none is a
//! redelivery. Bodies are built before the clock starts. `concurrency`
//! workers share one keep-alive connection pool; the run stops after the
//! last body or at `max_duration`, whichever comes first.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::stats::Summary;

/// The real single-alert notification captured from Alertmanager.
pub const FIXTURE: &str = include_str!("../fixtures/servicedown-firing.json");

/// Where the webhooks go.
#[derive(Clone, Debug)]
pub struct Target {
    /// The full webhook URL, e.g. `http://127.0.0.1:8000/webhook/alertmanager`.
    pub url: String,
    pub user: String,
    pub password: String,
}

/// How hard to push.
#[derive(Clone, Copy, Debug)]
pub struct LoadConfig {
    pub concurrency: usize,
    pub max_duration: Duration,
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct LoadReport {
    pub sent: usize,
    /// Requests answered 202.
    pub accepted: usize,
    /// Transport errors (no HTTP answer).
    pub errors: usize,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, usize>,
    pub elapsed: Duration,
    /// Latency of every answered request (send → full answer read).
    pub latency: Option<Summary>,
}

impl LoadReport {
    /// Accepted webhooks per second of wall time.
    pub fn rate(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// `n` distinct single-alert notifications. `run` makes them distinct from
/// other runs against the same database (use e.g. the current time).
pub fn distinct_payloads(n: usize, run: u64) -> Vec<Vec<u8>> {
    let template: Value = serde_json::from_str(FIXTURE).expect("the fixture is JSON");
    let base = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("base time")
        .with_timezone(&chrono::Utc);
    (0..n)
        .map(|i| {
            let mut p = template.clone();
            let instance = format!("bench-{run:x}-{i}:9100");
            let starts = (base + chrono::Duration::milliseconds(i as i64))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            p["alerts"][0]["labels"]["instance"] = Value::String(instance.clone());
            p["alerts"][0]["startsAt"] = Value::String(starts);
            p["alerts"][0]["fingerprint"] =
                Value::String(format!("{:016x}", run.rotate_left(17) ^ i as u64));
            p["commonLabels"]["instance"] = Value::String(instance.clone());
            p["groupLabels"]["instance"] = Value::String(instance.clone());
            p["groupKey"] = Value::String(format!(
                "{{}}:{{alertname=\"ServiceDown\", instance=\"{instance}\"}}"
            ));
            serde_json::to_vec(&p).expect("serialize payload")
        })
        .collect()
}

/// Posts every body once (or until `max_duration`) with `concurrency` workers.
pub async fn run(target: &Target, bodies: Vec<Vec<u8>>, cfg: LoadConfig) -> LoadReport {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(cfg.concurrency.max(1))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + cfg.max_duration;
    let mut workers = Vec::new();
    for _ in 0..cfg.concurrency.max(1) {
        let (client, bodies, next, target) =
            (client.clone(), bodies.clone(), next.clone(), target.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= bodies.len() || Instant::now() >= deadline {
                    break;
                }
                let t = Instant::now();
                let answer = client
                    .post(&target.url)
                    .basic_auth(&target.user, Some(&target.password))
                    .header("content-type", "application/json")
                    .body(bodies[i].clone())
                    .send()
                    .await;
                match answer {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let _ = r.bytes().await;
                        latencies.push(t.elapsed());
                        *statuses.entry(status).or_default() += 1;
                    }
                    Err(_) => errors += 1,
                }
            }
            (latencies, statuses, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut errors = 0;
    for w in workers {
        let (l, s, e) = w.await.expect("load worker");
        latencies.extend(l);
        for (k, v) in s {
            *statuses.entry(k).or_default() += v;
        }
        errors += e;
    }
    let elapsed = started.elapsed();
    LoadReport {
        sent: latencies.len() + errors,
        accepted: statuses.get(&202).copied().unwrap_or(0),
        errors,
        statuses,
        elapsed,
        latency: Summary::of(&mut latencies),
    }
}

/// Resident memory of a process in KiB (`VmRSS` and peak `VmHWM` of `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_distinct_alerts_of_the_fixture() {
        let bodies = distinct_payloads(3, 7);
        let parsed: Vec<Value> = bodies
            .iter()
            .map(|b| serde_json::from_slice(b).unwrap())
            .collect();
        assert_eq!(parsed[0]["version"], "4");
        assert_eq!(parsed[0]["alerts"].as_array().unwrap().len(), 1);
        assert_ne!(
            parsed[0]["alerts"][0]["fingerprint"],
            parsed[1]["alerts"][0]["fingerprint"]
        );
        assert_ne!(
            parsed[1]["alerts"][0]["startsAt"],
            parsed[2]["alerts"][0]["startsAt"]
        );
        assert_eq!(parsed[2]["alerts"][0]["labels"]["alertname"], "ServiceDown");
    }
}
