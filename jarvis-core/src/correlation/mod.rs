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
use std::collections::{BTreeMap, HashMap, HashSet};

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
        let cascades = Dag::build(cfg.cascades.iter().flat_map(|c| {
            c.dependents
                .iter()
                .map(move |d| (c.root.as_str(), d.as_str()))
        }))
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
        if let (Some(up), Some(down)) = (
            self.cascades.node(&root.alert_name),
            self.cascades.node(&dependent.alert_name),
        ) && self.cascades.reaches(up, down)
        {
            return true;
        }
        if let (Some(up), Some(down)) = (
            service(&root.labels).and_then(|s| self.dependencies.node(s)),
            service(&dependent.labels).and_then(|s| self.dependencies.node(s)),
        ) && self.dependencies.reaches(up, down)
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
            .filter(|_| !self.service_hosts.is_empty())
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
    /// smallest (alert name, id); roots are found by following parents.
    /// Groups are sorted by their root's time, then its key. The result does not
    /// depend on input order. O(n log n) for a fixed configuration.
    pub fn correlate(&self, items: &[CorrelationItem]) -> Vec<CorrelatedGroup> {
        // Canonical order: by key; of items sharing an id, the smallest is kept.
        // Index order is key order from here on. Ids are unique after this, so
        // (alert name, id) orders items; labels only order same-id duplicates.
        let mut names: Vec<&str> = items.iter().map(|i| i.alert_name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let name_rank: HashMap<&str, u32> =
            names.iter().zip(0u32..).map(|(&n, r)| (n, r)).collect();
        let mut sorted: Vec<(u32, u128, &CorrelationItem)> = items
            .iter()
            .map(|i| (name_rank[i.alert_name.as_str()], i.id.0.as_u128(), i))
            .collect();
        sorted
            .sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| full_cmp(a.2, b.2)));
        let mut seen = HashSet::with_capacity(sorted.len());
        let items: Vec<&CorrelationItem> = sorted
            .into_iter()
            .map(|(_, _, i)| i)
            .filter(|i| seen.insert(i.id))
            .collect();
        let n = items.len();

        // Facts per item, computed once.
        let times: Vec<i64> = items
            .iter()
            .map(|i| {
                i.at.timestamp_nanos_opt()
                    .unwrap_or_else(|| i.at.timestamp_millis().saturating_mul(1_000_000))
            })
            .collect();
        let name_node: Vec<Option<u32>> = items
            .iter()
            .map(|i| self.cascades.node(&i.alert_name))
            .collect();
        let service_node: Vec<Option<u32>> = items
            .iter()
            .map(|i| service(&i.labels).and_then(|s| self.dependencies.node(s)))
            .collect();
        let host_down: Vec<bool> = items
            .iter()
            .map(|i| self.is_host_down(&i.alert_name))
            .collect();
        let rank = |i: usize| {
            (
                host_down[i],
                name_node[i].map_or(0, |x| self.cascades.depth(x)),
                service_node[i].map_or(0, |x| self.dependencies.depth(x)),
            )
        };

        // Buckets of candidate roots, each sorted by (time, key).
        let mut by_name: Vec<Vec<(i64, u32)>> = vec![Vec::new(); self.cascades.len()];
        let mut by_service: Vec<Vec<(i64, u32)>> = vec![Vec::new(); self.dependencies.len()];
        let mut down_by_host: HashMap<&str, Vec<(i64, u32)>> = HashMap::new();
        for i in 0..n {
            let entry = (times[i], i as u32);
            if let Some(x) = name_node[i].filter(|&x| self.cascades.is_upstream(x)) {
                by_name[x as usize].push(entry);
            }
            if let Some(x) = service_node[i].filter(|&x| self.dependencies.is_upstream(x)) {
                by_service[x as usize].push(entry);
            }
            if host_down[i]
                && let Some(h) = host(&items[i].labels)
            {
                down_by_host.entry(h).or_default().push(entry);
            }
        }
        by_name.iter_mut().for_each(|b| b.sort_unstable());
        by_service.iter_mut().for_each(|b| b.sort_unstable());
        down_by_host.values_mut().for_each(|b| b.sort_unstable());

        let window = self
            .window
            .num_nanoseconds()
            .map_or(u64::MAX, i64::unsigned_abs);
        let mut parent: Vec<Option<usize>> = vec![None; n];
        for d in 0..n {
            let at = times[d];
            // Best candidate so far: the most upstream, then nearest, then earliest, then smallest key.
            let mut best: Option<(Rank, u64, i64, u32)> = None;
            let mut consider = |bucket: &[(i64, u32)]| {
                if let Some((t, c)) = nearest(bucket, at, window) {
                    let r = rank(c as usize);
                    let candidate = (r, t.abs_diff(at), t, c);
                    let better = best.is_none_or(|b| {
                        r.cmp(&b.0)
                            .reverse()
                            .then((candidate.1, t, c).cmp(&(b.1, b.2, b.3)))
                            .is_lt()
                    });
                    if better {
                        best = Some(candidate);
                    }
                }
            };
            if let Some(x) = name_node[d] {
                for &a in self.cascades.ancestors(x) {
                    consider(&by_name[a as usize]);
                }
            }
            if let Some(x) = service_node[d] {
                for &a in self.dependencies.ancestors(x) {
                    consider(&by_service[a as usize]);
                }
            }
            if !down_by_host.is_empty() && !host_down[d] {
                for h in self.hosts_of(items[d]) {
                    if let Some(bucket) = down_by_host.get(h) {
                        consider(bucket);
                    }
                }
            }
            parent[d] = best.map(|(_, _, _, c)| c as usize);
        }

        let root = resolve_roots(&mut parent);
        let mut members: Vec<Vec<IncidentId>> = vec![Vec::new(); n];
        for (i, &r) in root.iter().enumerate() {
            if i != r {
                members[r].push(items[i].id);
            }
        }
        let mut roots: Vec<usize> = (0..n).filter(|&i| root[i] == i).collect();
        roots.sort_unstable_by_key(|&r| (times[r], r));
        roots
            .into_iter()
            .map(|r| {
                let mut dependents = std::mem::take(&mut members[r]);
                dependents.sort_unstable();
                CorrelatedGroup {
                    root: items[r].id,
                    dependents,
                }
            })
            .collect()
    }
}

/// The entry of a (time, index)-sorted bucket nearest in time to `at` and within
/// `window` nanoseconds: at equal distance the earlier one, at equal time the
/// smallest index.
fn nearest(bucket: &[(i64, u32)], at: i64, window: u64) -> Option<(i64, u32)> {
    let split = bucket.partition_point(|&(t, _)| t < at);
    let right = bucket.get(split).copied();
    let left = split.checked_sub(1).map(|last| {
        let t = bucket[last].0;
        bucket[bucket[..split].partition_point(|&(u, _)| u < t)]
    });
    let best = match (left, right) {
        (Some(l), Some(r)) => {
            if at.abs_diff(l.0) <= r.0.abs_diff(at) {
                l
            } else {
                r
            }
        }
        (l, r) => l.or(r)?,
    };
    (best.0.abs_diff(at) <= window).then_some(best)
}

/// How far upstream a candidate root is: host-down, cascade depth, dependency depth.
type Rank = (bool, u32, u32);

/// A total order on items: alert name, id, labels, time.
fn full_cmp(a: &CorrelationItem, b: &CorrelationItem) -> Ordering {
    a.alert_name
        .cmp(&b.alert_name)
        .then(a.id.cmp(&b.id))
        .then_with(|| a.labels.cmp(&b.labels))
        .then(a.at.cmp(&b.at))
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
    if let Some(h) = labels
        .get("host")
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
    {
        return Some(h);
    }
    let instance = labels.get("instance")?.trim();
    if let Some(rest) = instance.strip_prefix('[') {
        return rest.split(']').next();
    }
    Some(instance.rsplit_once(':').map_or(instance, |(h, _)| h)).filter(|h| !h.is_empty())
}
