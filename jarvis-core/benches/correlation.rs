//! A 10,000-alert storm inside one correlation window (target: < 50 ms).

use std::collections::BTreeMap;
use std::hint::black_box;

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use jarvis_core::correlation::{CorrelationConfig, CorrelationItem, Correlator, example_config};
use jarvis_core::domain::{IncidentId, Labels};
use uuid::Uuid;

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
    "ServiceDown",
    "HighLatency",
];

fn config() -> CorrelationConfig {
    let services = |n: usize| (0..n).map(|i| format!("svc{i}")).collect::<Vec<_>>();
    let mut dependencies = BTreeMap::new();
    for i in 1..50 {
        dependencies.insert(format!("svc{i}"), vec![format!("svc{}", i / 2)]);
    }
    let mut host_services = BTreeMap::new();
    for h in 0..20 {
        host_services.insert(
            format!("host{h}"),
            services(50).into_iter().skip(h).step_by(20).collect(),
        );
    }
    CorrelationConfig {
        dependencies,
        host_services,
        ..example_config()
    }
}

fn storm(n: usize) -> Vec<CorrelationItem> {
    let t0 = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|i| {
            let mut labels = Labels::new();
            labels.insert("service".into(), format!("svc{}", next() % 50));
            labels.insert("host".into(), format!("host{}", next() % 20));
            labels.insert(
                "instance".into(),
                format!("10.0.{}.{}:9100", i / 250, i % 250),
            );
            CorrelationItem {
                id: IncidentId(Uuid::from_u128(next() as u128)),
                alert_name: NAMES[(next() % NAMES.len() as u64) as usize].to_string(),
                labels,
                at: t0 + Duration::milliseconds((next() % 120_000) as i64),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let correlator = Correlator::new(&config()).expect("acyclic");
    let items = storm(10_000);
    c.bench_function("correlate 10k alerts in one window", |b| {
        b.iter(|| black_box(correlator.correlate(black_box(&items))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
