//! Updating 100,000 series by one sample each (target: < 20 ms).

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use jarvis_core::anomaly::{AnomalyConfig, Detector};

const SERIES: usize = 100_000;

fn bench(c: &mut Criterion) {
    let names: Vec<String> = (0..SERIES)
        .map(|i| {
            format!(
                "node_filesystem_avail_bytes{{instance=\"host{}:9100\",mountpoint=\"/m{}\"}}",
                i / 8,
                i % 8
            )
        })
        .collect();
    let mut detector = Detector::new(AnomalyConfig::default()).expect("valid config");
    let mut at = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap();
    let mut tick = 0u64;
    // Warm baselines so every update takes the full path.
    for _ in 0..20 {
        at += TimeDelta::seconds(300);
        tick += 1;
        for (i, name) in names.iter().enumerate() {
            detector.observe(name, 100.0 + ((i as u64 + tick) % 7) as f64, at);
        }
    }
    c.bench_function("observe 100k series once, by name", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                at += TimeDelta::seconds(300);
                tick += 1;
                let start = Instant::now();
                for (i, name) in names.iter().enumerate() {
                    black_box(detector.observe(name, 100.0 + ((i as u64 + tick) % 7) as f64, at));
                }
                total += start.elapsed();
            }
            total
        })
    });
    let ids: Vec<_> = names.iter().map(|n| detector.series_id(n)).collect();
    c.bench_function("observe 100k series once, by id", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                at += TimeDelta::seconds(300);
                tick += 1;
                let start = Instant::now();
                for (i, &id) in ids.iter().enumerate() {
                    black_box(detector.observe_id(id, 100.0 + ((i as u64 + tick) % 7) as f64, at));
                }
                total += start.elapsed();
            }
            total
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
