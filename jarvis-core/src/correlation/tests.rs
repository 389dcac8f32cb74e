use chrono::{Duration, TimeZone};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

fn id(n: u128) -> IncidentId {
    IncidentId(Uuid::from_u128(n))
}

fn item(n: u128, name: &str, labels: &[(&str, &str)], secs: i64) -> CorrelationItem {
    CorrelationItem {
        id: id(n),
        alert_name: name.to_string(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        at: t0() + Duration::seconds(secs),
    }
}

fn group(root: u128, dependents: &[u128]) -> CorrelatedGroup {
    CorrelatedGroup {
        root: id(root),
        dependents: dependents.iter().map(|&d| id(d)).collect(),
    }
}

fn check(cfg: &CorrelationConfig, items: &[CorrelationItem], expected: &[CorrelatedGroup]) {
    let correlator = Correlator::new(cfg).unwrap();
    assert_eq!(correlator.correlate(items), expected);
    let reversed: Vec<_> = items.iter().rev().cloned().collect();
    assert_eq!(correlator.correlate(&reversed), expected);
}

#[test]
fn example_cascades_group_under_their_roots() {
    let cfg = example_config();
    check(
        &cfg,
        &[
            item(3, "N8NDown", &[], 20),
            item(1, "WireGuardVPNDown", &[], 0),
            item(2, "OutpostDown", &[], 10),
            item(4, "Zigbee2MQTTDown", &[], 5),
            item(5, "MQTTBrokerDown", &[], 3),
            item(6, "SomethingElse", &[], 4),
        ],
        &[group(1, &[2, 3]), group(5, &[4]), group(6, &[])],
    );
}

#[test]
fn outside_the_window_nothing_correlates() {
    let cfg = example_config();
    let correlator = Correlator::new(&cfg).unwrap();
    let root = item(1, "PostgreSQLDown", &[], 0);
    let late = item(2, "N8NDown", &[], 121);
    let early = item(3, "N8NDown", &[], -120);
    assert!(!correlator.causes(&root, &late));
    assert!(correlator.causes(&root, &early));
    assert!(!correlator.causes(&late, &root));
    assert!(!correlator.causes(&root, &root));
    check(&cfg, &[root, late, early], &[group(1, &[3]), group(2, &[])]);
}

#[test]
fn the_nearest_of_two_equally_deep_roots_wins_and_ties_use_the_key() {
    let cfg = example_config();
    // N8NDown is explained by both WireGuardVPNDown and PostgreSQLDown.
    check(
        &cfg,
        &[
            item(1, "WireGuardVPNDown", &[], 0),
            item(2, "PostgreSQLDown", &[], 50),
            item(3, "N8NDown", &[], 60),
        ],
        &[group(1, &[]), group(2, &[3])],
    );
    // Same distance: the earlier one.
    check(
        &cfg,
        &[
            item(1, "WireGuardVPNDown", &[], 0),
            item(2, "PostgreSQLDown", &[], 20),
            item(3, "N8NDown", &[], 10),
        ],
        &[group(1, &[3]), group(2, &[])],
    );
    // Same time: the smaller alert name.
    check(
        &cfg,
        &[
            item(1, "WireGuardVPNDown", &[], 0),
            item(2, "PostgreSQLDown", &[], 0),
            item(3, "N8NDown", &[], 10),
        ],
        &[group(2, &[3]), group(1, &[])],
    );
}

#[test]
fn chains_end_at_the_deepest_cause() {
    let cfg = CorrelationConfig {
        cascades: vec![
            Cascade::new("PowerLoss", &["SwitchDown"]),
            Cascade::new("SwitchDown", &["HostUnreachable"]),
        ],
        ..CorrelationConfig::default()
    };
    let correlator = Correlator::new(&cfg).unwrap();
    let power = item(1, "PowerLoss", &[], 0);
    let host = item(3, "HostUnreachable", &[], 30);
    assert!(correlator.causes(&power, &host), "cascades are transitive");
    check(
        &cfg,
        &[
            host,
            item(2, "SwitchDown", &[], 10),
            power,
            item(4, "HostUnreachable", &[("host", "b")], 40),
        ],
        &[group(1, &[2, 3, 4])],
    );
}

#[test]
fn service_dependencies_are_transitive() {
    let cfg = CorrelationConfig {
        dependencies: BTreeMap::from([
            ("n8n".to_string(), vec!["postgresql".to_string()]),
            ("postgresql".to_string(), vec!["storage".to_string()]),
        ]),
        ..CorrelationConfig::default()
    };
    check(
        &cfg,
        &[
            item(1, "ServiceDown", &[("service", "n8n")], 30),
            item(2, "ServiceDown", &[("service", "storage")], 0),
            item(3, "HighLatency", &[("service", "postgresql")], 10),
            item(4, "ServiceDown", &[("service", "grafana")], 10),
        ],
        &[group(2, &[1, 3]), group(4, &[])],
    );
}

#[test]
fn host_down_explains_the_services_on_its_host() {
    let cfg = CorrelationConfig {
        host_services: BTreeMap::from([("docker1".to_string(), vec!["n8n".to_string()])]),
        ..CorrelationConfig::default()
    };
    let correlator = Correlator::new(&cfg).unwrap();
    let down = item(1, "HostDown", &[("instance", "docker1:9100")], 0);
    let on_host = item(
        2,
        "ServiceDown",
        &[("service", "n8n"), ("host", "elsewhere")],
        5,
    );
    let by_instance = item(3, "DiskFull", &[("instance", "docker1:9100")], 5);
    let other = item(
        4,
        "ServiceDown",
        &[("service", "grafana"), ("host", "docker2")],
        5,
    );
    let other_down = item(5, "NodeDown", &[("host", "docker1")], -50);
    assert!(correlator.causes(&down, &on_host));
    assert!(correlator.causes(&down, &by_instance));
    assert!(!correlator.causes(&down, &other));
    assert!(
        !correlator.causes(&down, &other_down),
        "host-down alerts do not explain each other"
    );
    check(
        &cfg,
        &[down, on_host, by_instance, other, other_down],
        &[group(5, &[]), group(1, &[2, 3]), group(4, &[])],
    );
}

#[test]
fn cycles_are_rejected_and_named() {
    let cfg = CorrelationConfig {
        cascades: vec![
            Cascade::new("A", &["B"]),
            Cascade::new("B", &["C"]),
            Cascade::new("C", &["A"]),
        ],
        ..CorrelationConfig::default()
    };
    let err = Correlator::new(&cfg).unwrap_err();
    assert_eq!(
        err,
        CorrelationConfigError::CascadeCycle(vec!["A".into(), "B".into(), "C".into(), "A".into()])
    );
    assert_eq!(err.to_string(), "cascade rules form a cycle: A → B → C → A");

    let cfg = CorrelationConfig {
        dependencies: BTreeMap::from([
            ("n8n".to_string(), vec!["postgresql".to_string()]),
            ("postgresql".to_string(), vec!["n8n".to_string()]),
        ]),
        ..CorrelationConfig::default()
    };
    let err = Correlator::new(&cfg).unwrap_err().to_string();
    assert!(
        err.starts_with("service dependencies form a cycle: "),
        "{err}"
    );
    assert!(err.contains("n8n") && err.contains("postgresql"), "{err}");

    let self_loop = CorrelationConfig {
        cascades: vec![Cascade::new("A", &["A"])],
        ..CorrelationConfig::default()
    };
    assert!(Correlator::new(&self_loop).is_err());
}

#[test]
fn opposing_rules_of_different_kinds_still_give_one_root() {
    // A cascade says PostgreSQLDown explains N8NDown; the labels say the
    // N8NDown alert is about a service the other alert's service depends on.
    let cfg = CorrelationConfig {
        cascades: vec![Cascade::new("PostgreSQLDown", &["N8NDown"])],
        dependencies: BTreeMap::from([("x".to_string(), vec!["y".to_string()])]),
        ..CorrelationConfig::default()
    };
    let a = item(1, "PostgreSQLDown", &[("service", "x")], 0);
    let b = item(2, "N8NDown", &[("service", "y")], 0);
    let correlator = Correlator::new(&cfg).unwrap();
    assert!(correlator.causes(&a, &b) && correlator.causes(&b, &a));
    let groups = correlator.correlate(&[a.clone(), b.clone()]);
    assert_eq!(groups.len(), 1);
    assert_eq!(groups, correlator.correlate(&[b, a]));
}

#[test]
fn duplicate_ids_count_once() {
    let cfg = example_config();
    let a = item(1, "PostgreSQLDown", &[], 0);
    check(
        &cfg,
        &[a.clone(), a.clone(), item(2, "N8NDown", &[], 1)],
        &[group(1, &[2])],
    );
}

#[test]
fn the_example_file_is_the_example_config() {
    let text = include_str!("../../../examples/correlation.toml");
    let parsed: CorrelationConfig = toml::from_str(text).unwrap();
    assert_eq!(parsed, example_config());
    Correlator::new(&parsed).unwrap();
}

#[test]
fn defaults_and_strict_fields() {
    let cfg = CorrelationConfig::default();
    assert_eq!(cfg.window_seconds, 120);
    assert_eq!(
        cfg.host_down_alerts,
        ["HostDown", "NodeDown", "InstanceDown"]
    );
    assert!(toml::from_str::<CorrelationConfig>("windw_seconds = 3").is_err());
    let empty: CorrelationConfig = toml::from_str("").unwrap();
    assert_eq!(empty, cfg);
}

fn storm_config() -> CorrelationConfig {
    CorrelationConfig {
        cascades: example_config().cascades,
        dependencies: BTreeMap::from([
            ("n8n".to_string(), vec!["postgresql".to_string()]),
            ("zigbee2mqtt".to_string(), vec!["mosquitto".to_string()]),
            ("postgresql".to_string(), vec!["storage".to_string()]),
        ]),
        host_services: BTreeMap::from([
            (
                "h1".to_string(),
                vec!["n8n".to_string(), "postgresql".to_string()],
            ),
            (
                "h2".to_string(),
                vec!["mosquitto".to_string(), "zigbee2mqtt".to_string()],
            ),
        ]),
        ..CorrelationConfig::default()
    }
}

const NAMES: [&str; 12] = [
    "WireGuardVPNDown",
    "OutpostDown",
    "N8NDown",
    "PostgreSQLDown",
    "MQTTBrokerDown",
    "Zigbee2MQTTDown",
    "DockerDaemonUnresponsive",
    "ContainerDown",
    "DiskSpaceCritical",
    "HostDown",
    "NodeDown",
    "ServiceDown",
];
const SERVICES: [&str; 6] = [
    "",
    "n8n",
    "postgresql",
    "storage",
    "mosquitto",
    "zigbee2mqtt",
];
const HOSTS: [&str; 3] = ["", "h1", "h2"];

fn arb_item() -> impl Strategy<Value = CorrelationItem> {
    (
        0u128..64,
        0..NAMES.len(),
        0..SERVICES.len(),
        0..HOSTS.len(),
        0i64..300,
    )
        .prop_map(|(n, name, service, host, secs)| {
            let mut labels = Vec::new();
            if !SERVICES[service].is_empty() {
                labels.push(("service", SERVICES[service]));
            }
            if !HOSTS[host].is_empty() {
                labels.push(("host", HOSTS[host]));
            }
            item(n, NAMES[name], &labels, secs)
        })
}

proptest! {
    #[test]
    fn correlation_does_not_depend_on_arrival_order(
        burst in prop::collection::vec(arb_item(), 0..40),
        seed in any::<u64>(),
    ) {
        let correlator = Correlator::new(&storm_config()).unwrap();
        let expected = correlator.correlate(&burst);
        let mut shuffled = burst.clone();
        // Fisher–Yates with a xorshift generator.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let j = (state % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        prop_assert_eq!(&correlator.correlate(&shuffled), &expected);

        // Every distinct id appears exactly once.
        let mut seen: Vec<IncidentId> = expected
            .iter()
            .flat_map(|g| std::iter::once(g.root).chain(g.dependents.iter().copied()))
            .collect();
        let total = seen.len();
        seen.sort();
        seen.dedup();
        prop_assert_eq!(seen.len(), total);
        let mut ids: Vec<_> = burst.iter().map(|i| i.id).collect();
        ids.sort();
        ids.dedup();
        prop_assert_eq!(seen, ids);
    }
}
