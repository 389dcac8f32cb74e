//! Correlation: which alerts of a burst are symptoms of one root cause.
//!
//! Three kinds of rule say that one alert explains another, when both happened
//! within the window:
//! - a cascade rule between alert names (`PostgreSQLDown → N8NDown`), transitively;
//! - a service dependency: the dependent's `service` label (transitively) depends
//!   on the root's `service` label;
//! - a host-down alert for the host that runs the dependent's service, or that
//!   the dependent's own `host`/`instance` label names.
//!
//! [`Correlator::correlate`] groups a burst under the deepest causes. The result
//! depends only on the set of alerts, never on their order.

mod graph;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{IncidentId, Labels};
use graph::Dag;

/// Alert names that mean a whole host is down, by default.
pub const DEFAULT_HOST_DOWN_ALERTS: [&str; 3] = ["HostDown", "NodeDown", "InstanceDown"];

/// Which alerts explain which.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorrelationConfig {
    /// Two alerts correlate only when they started at most this many seconds apart.
    pub window_seconds: u64,
    /// Alert-name rules: the root alert explains the dependent alerts.
    pub cascades: Vec<Cascade>,
    /// Service → the services it depends on.
    pub dependencies: BTreeMap<String, Vec<String>>,
    /// Host → the services that run on it.
    pub host_services: BTreeMap<String, Vec<String>>,
    /// Alert names that mean their host (`host` label, else `instance` without port) is down.
    pub host_down_alerts: Vec<String>,
}

impl Default for CorrelationConfig {
    fn default() -> Self {
        CorrelationConfig {
            window_seconds: 120,
            cascades: Vec::new(),
            dependencies: BTreeMap::new(),
            host_services: BTreeMap::new(),
            host_down_alerts: DEFAULT_HOST_DOWN_ALERTS.map(String::from).to_vec(),
        }
    }
}

/// One alert-name rule.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Cascade {
    /// The alert name that causes the others.
    pub root: String,
    /// Alert names it explains.
    pub dependents: Vec<String>,
}

impl Cascade {
    pub fn new(root: &str, dependents: &[&str]) -> Self {
        Cascade {
            root: root.to_string(),
            dependents: dependents.iter().map(|d| d.to_string()).collect(),
        }
    }
}

/// The old system's cascade rules, as an example configuration.
/// Nothing uses them unless the operator configures them.
pub fn example_config() -> CorrelationConfig {
    CorrelationConfig {
        cascades: vec![
            Cascade::new("WireGuardVPNDown", &["OutpostDown", "N8NDown"]),
            Cascade::new("PostgreSQLDown", &["N8NDown"]),
            Cascade::new("MQTTBrokerDown", &["Zigbee2MQTTDown"]),
            Cascade::new("DockerDaemonUnresponsive", &["ContainerDown"]),
            Cascade::new("HighMemoryUsage", &["ContainerOOMKilled"]),
            Cascade::new("DiskSpaceCritical", &["ContainerDown"]),
        ],
        ..CorrelationConfig::default()
    }
}

/// Why a correlation config was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorrelationConfigError {
    #[error("cascade rules form a cycle: {}", .0.join(" → "))]
    CascadeCycle(Vec<String>),
    #[error("service dependencies form a cycle: {}", .0.join(" → "))]
    DependencyCycle(Vec<String>),
}

/// One alert (or incident) as the correlator sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorrelationItem {
    pub id: IncidentId,
    pub alert_name: String,
    pub labels: Labels,
    pub at: DateTime<Utc>,
}

/// A root cause and the incidents it explains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CorrelatedGroup {
    pub root: IncidentId,
    /// Sorted.
    pub dependents: Vec<IncidentId>,
}

/// The rules, compiled: transitive closures and depths, computed once.
#[derive(Clone, Debug)]
pub struct Correlator {
    window: TimeDelta,
    cascades: Dag,
    dependencies: Dag,
    /// service → hosts that run it.
    service_hosts: HashMap<String, Vec<String>>,
    host_down: Vec<String>,
}

impl Correlator {
    /// Rejects cycles in cascades or dependencies, naming them.
    pub fn new(cfg: &CorrelationConfig) -> Result<Self, CorrelationConfigError> {
        // A cascade edge root → dependent: the dependent is downstream.
        let cascades = Dag::build(
            cfg.cascades
                .iter()
                .flat_map(|c| c.dependents.iter().map(move |d| (c.root.as_str(), d.as_str()))),
        )
        .map_err(CorrelationConfigError::CascadeCycle)?;
        // A dependency service → needed: the needed service is upstream.
        let dependencies = Dag::build(
            cfg.dependencies
                .iter()
                .flat_map(|(s, needs)| needs.iter().map(move |n| (n.as_str(), s.as_str()))),
        )
        .map_err(|mut cycle| {
            // Report it in "depends on" order.
            cycle.reverse();
            CorrelationConfigError::DependencyCycle(cycle)
        })?;
        let mut service_hosts: HashMap<String, Vec<String>> = HashMap::new();
        for (host, services) in &cfg.host_services {
            for service in services {
                service_hosts
                    .entry(service.clone())
                    .or_default()
                    .push(host.clone());
            }
        }
        let window_seconds = i64::try_from(cfg.window_seconds).unwrap_or(i64::MAX / 1_000);
        Ok(Correlator {
            window: TimeDelta::try_seconds(window_seconds).unwrap_or(TimeDelta::MAX),
            cascades,
            dependencies,
            service_hosts,
            host_down: cfg.host_down_alerts.clone(),
        })
    }

    fn is_host_down(&self, alert_name: &str) -> bool {
        self.host_down.iter().any(|h| h == alert_name)
    }

    fn within_window(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
        (a - b).abs() <= self.window
    }

    /// Whether `root` explains `dependent`: a cascade rule root→dependent by alert
    /// name (transitively), or the dependent's `service` label (transitively) depends
    /// on the root's `service`, or the root is a host-down alert for the host that
    /// runs the dependent's service (or that the dependent's own host label names);
    /// and both happened within the window. An alert never explains itself.
    pub fn causes(&self, root: &CorrelationItem, dependent: &CorrelationItem) -> bool {
        if root.id == dependent.id || !self.within_window(root.at, dependent.at) {
            return false;
        }
        if self.cascades.reaches(&root.alert_name, &dependent.alert_name) {
            return true;
        }
        if let (Some(up), Some(down)) = (service(&root.labels), service(&dependent.labels))
            && self.dependencies.reaches(up, down)
        {
            return true;
        }
        if self.is_host_down(&root.alert_name)
            && !self.is_host_down(&dependent.alert_name)
            && let Some(host) = host(&root.labels)
        {
            return self.hosts_of(dependent).any(|h| h == host);
        }
        false
    }

    /// The hosts whose failure explains `item`: its own host and the hosts running its service.
    fn hosts_of<'a>(&'a self, item: &'a CorrelationItem) -> impl Iterator<Item = &'a str> + 'a {
        let own = host(&item.labels);
        let running = service(&item.labels)
            .and_then(|s| self.service_hosts.get(s))
            .into_iter()
            .flatten()
            .map(String::as_str);
        own.into_iter().chain(running)
    }

    /// Groups a burst: each group has one root (the deepest cause) and its
    /// dependents; every item appears in exactly one group, alone if nothing
    /// explains it and it explains nothing. Items with the same id count once.
    ///
    /// Each item's parent is the most upstream cause present (host-down first,
    /// then cascade depth, then dependency depth), nearest in time, then the
    /// smallest (alert name, labels, id); roots are found by following parents.
    /// Groups are sorted by their root's time, then its key. The result does not
    /// depend on input order. O(n log n) for a fixed configuration.
    pub fn correlate(&self, items: &[CorrelationItem]) -> Vec<CorrelatedGroup> {
        // Canonical order: by key. Index order is key order from here on.
        let mut sorted: Vec<&CorrelationItem> = items.iter().collect();
        sorted.sort_unstable_by(|a, b| key_cmp(a, b).then(a.at.cmp(&b.at)));
        sorted.dedup_by(|b, a| a.id == b.id);
        let items = sorted;
        let n = items.len();

        // Buckets of candidate roots, each sorted by (time, key).
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_service: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut down_by_host: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            if self.cascades.contains(&item.alert_name) {
                by_name.entry(item.alert_name.as_str()).or_default().push(i);
            }
            if let Some(s) = service(&item.labels)
                && self.dependencies.contains(s)
            {
                by_service.entry(s).or_default().push(i);
            }
            if self.is_host_down(&item.alert_name)
                && let Some(h) = host(&item.labels)
            {
                down_by_host.entry(h).or_default().push(i);
            }
        }
        let by_time = |bucket: &mut Vec<usize>| {
            bucket.sort_unstable_by(|&a, &b| items[a].at.cmp(&items[b].at).then(a.cmp(&b)));
        };
        by_name.values_mut().for_each(by_time);
        by_service.values_mut().for_each(by_time);
        down_by_host.values_mut().for_each(by_time);

        let mut parent: Vec<Option<usize>> = vec![None; n];
        let mut candidates: Vec<usize> = Vec::new();
        for (d, item) in items.iter().enumerate() {
            candidates.clear();
            for name in self.cascades.ancestors(&item.alert_name) {
                if let Some(bucket) = by_name.get(name) {
                    candidates.extend(self.nearest(&items, bucket, d));
                }
            }
            if let Some(s) = service(&item.labels) {
                for up in self.dependencies.ancestors(s) {
                    if let Some(bucket) = by_service.get(up) {
                        candidates.extend(self.nearest(&items, bucket, d));
                    }
                }
            }
            if !self.is_host_down(&item.alert_name) {
                for h in self.hosts_of(item) {
                    if let Some(bucket) = down_by_host.get(h) {
                        candidates.extend(self.nearest(&items, bucket, d));
                    }
                }
            }
            parent[d] = candidates
                .iter()
                .copied()
                .filter(|&c| items[c].id != item.id)
                .min_by(|&a, &b| self.prefer(&items, item, a, b));
        }

        let root = resolve_roots(&mut parent);
        let mut groups: BTreeMap<usize, Vec<IncidentId>> = BTreeMap::new();
        for (i, &r) in root.iter().enumerate() {
            let members = groups.entry(r).or_default();
            if i != r {
                members.push(items[i].id);
            }
        }
        let mut out: Vec<(usize, CorrelatedGroup)> = groups
            .into_iter()
            .map(|(r, mut dependents)| {
                dependents.sort_unstable();
                (
                    r,
                    CorrelatedGroup {
                        root: items[r].id,
                        dependents,
                    },
                )
            })
            .collect();
        out.sort_unstable_by(|(a, _), (b, _)| items[*a].at.cmp(&items[*b].at).then(a.cmp(b)));
        out.into_iter().map(|(_, g)| g).collect()
    }

    /// The item of `bucket` nearest in time to `items[d]` and within the window:
    /// at equal distance the earlier one, at equal time the smaller key.
    fn nearest(&self, items: &[&CorrelationItem], bucket: &[usize], d: usize) -> Option<usize> {
        let at = items[d].at;
        let split = bucket.partition_point(|&i| items[i].at < at);
        // Right: the first at or after `at` (smallest key among equal times), skipping `d`.
        let right = bucket[split..].iter().copied().find(|&i| i != d);
        // Left: the latest time before `at`, smallest key among equal times.
        let left = split.checked_sub(1).map(|last| {
            let t = items[bucket[last]].at;
            bucket[bucket[..split].partition_point(|&i| items[i].at < t)]
        });
        let best = match (left, right) {
            (Some(l), Some(r)) => {
                if at - items[l].at <= items[r].at - at {
                    Some(l)
                } else {
                    Some(r)
                }
            }
            (l, r) => l.or(r),
        }?;
        self.within_window(items[best].at, at).then_some(best)
    }

    /// Orders candidate roots of `dependent`: the best first.
    fn prefer(
        &self,
        items: &[&CorrelationItem],
        dependent: &CorrelationItem,
        a: usize,
        b: usize,
    ) -> Ordering {
        let (x, y) = (items[a], items[b]);
        let depth = |item: &CorrelationItem| {
            (
                self.is_host_down(&item.alert_name),
                self.cascades.depth(&item.alert_name),
                service(&item.labels).map_or(0, |s| self.dependencies.depth(s)),
            )
        };
        depth(y)
            .cmp(&depth(x))
            .then_with(|| (x.at - dependent.at).abs().cmp(&(y.at - dependent.at).abs()))
            .then(x.at.cmp(&y.at))
            .then(a.cmp(&b))
    }
}

/// The deterministic tie-break key: alert name, labels, id.
fn key_cmp(a: &CorrelationItem, b: &CorrelationItem) -> Ordering {
    a.alert_name
        .cmp(&b.alert_name)
        .then_with(|| a.labels.cmp(&b.labels))
        .then(a.id.cmp(&b.id))
}

/// Follows parent pointers to each item's root. A cycle (possible when different
/// rule kinds point opposite ways) is cut at its smallest index, which becomes the root.
fn resolve_roots(parent: &mut [Option<usize>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    const ON_PATH: usize = usize::MAX - 1;
    let n = parent.len();
    let mut root = vec![UNSEEN; n];
    let mut path = Vec::new();
    for start in 0..n {
        let mut at = start;
        let found = loop {
            match root[at] {
                UNSEEN => {}
                ON_PATH => {
                    let from = path.iter().position(|&p| p == at).unwrap_or(0);
                    let cut = path[from..].iter().copied().min().unwrap_or(at);
                    parent[cut] = None;
                    break cut;
                }
                r => break r,
            }
            match parent[at] {
                None => {
                    path.push(at);
                    break at;
                }
                Some(p) => {
                    root[at] = ON_PATH;
                    path.push(at);
                    at = p;
                }
            }
        };
        for p in path.drain(..) {
            root[p] = found;
        }
    }
    root
}

fn service(labels: &Labels) -> Option<&str> {
    labels
        .get("service")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

/// The `host` label, else the `instance` label without its port.
fn host(labels: &Labels) -> Option<&str> {
    if let Some(h) = labels.get("host").map(|h| h.trim()).filter(|h| !h.is_empty()) {
        return Some(h);
    }
    let instance = labels.get("instance")?.trim();
    if let Some(rest) = instance.strip_prefix('[') {
        return rest.split(']').next();
    }
    Some(instance.rsplit_once(':').map_or(instance, |(h, _)| h)).filter(|h| !h.is_empty())
}
