//! Looking up the pattern for a symptom among 100,000 patterns.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use jarvis_core::domain::{Alert, Labels, Pattern, PatternId, PatternSource, Step};
use jarvis_core::learning::{LearningConfig, PatternIndex, Symptom, symptom};

const PATTERNS: usize = 100_000;

fn labels(i: usize) -> Labels {
    let mut labels = Labels::new();
    labels.insert("container".into(), format!("app{}", i % 10_000));
    labels.insert("service".into(), format!("svc{}", i % 997));
    labels
}

fn bench(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap();
    let index: PatternIndex = (0..PATTERNS)
        .map(|i| {
            let symptom = Symptom::new(format!("Alert{}", i % 10), labels(i));
            Pattern {
                id: PatternId::new(),
                signature: symptom.signature,
                alert_name: symptom.alert_name,
                symptom: symptom.labels,
                steps: vec![Step::shell("{host}", format!("docker restart app{i}"))],
                successes: (i % 20) as u32,
                failures: (i % 3) as u32,
                source: PatternSource::Llm,
                created_at: now,
                last_used: Some(now),
            }
        })
        .collect();
    let cfg = LearningConfig::default();
    let alerts: Vec<Alert> = (0..1_000)
        .map(|i| {
            let mut l = labels(i * 97);
            l.insert("alertname".into(), format!("Alert{}", (i * 97) % 10));
            l.insert("instance".into(), format!("10.0.0.{}:9100", i % 250));
            Alert::firing(l, now)
        })
        .collect();
    let symptoms: Vec<Symptom> = alerts.iter().map(|a| symptom(a, Some("docker"))).collect();
    let mut i = 0;
    c.bench_function("choose among 100k patterns (indexed)", |b| {
        b.iter(|| {
            i = (i + 1) % symptoms.len();
            black_box(index.choose(&symptoms[i], &[], now, &cfg))
        })
    });
    let mut j = 0;
    c.bench_function("symptom + choose among 100k patterns", |b| {
        b.iter(|| {
            j = (j + 1) % alerts.len();
            let s = symptom(&alerts[j], Some("docker"));
            black_box(index.choose(&s, &[], now, &cfg))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
