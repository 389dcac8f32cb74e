//! Decision latency: webhook received → first command dispatched, for an alert
//! a learned pattern covers (tier `cached`, no LLM).
//!
//! ```text
//! cargo run --release -p jarvis-e2e --bin jarvis-bench-decision -- --store both
//! ```
//!
//! In-process and core-level: the real [`Pipeline`] with the store under test
//! (`InMemoryStore`, or `SqliteStore` on a temp file), a planner that fails the
//! run if it is ever asked, an executor that timestamps the dispatch of the
//! first step, a verifier that says "cleared" at once and a recording notifier.
//! The clock starts when the webhook body is in hand (it includes parsing the
//! real Alertmanager payload, the durable ingest commit, screening,
//! correlation, the pattern lookup, validation and every state transition up
//! to `executing`) and stops when the executor is called. Between iterations
//! a resolved notification (not timed) clears the attempt counter.
//! Target (issue 8): p99 <= 5 ms.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use async_trait::async_trait;
use clap::{Parser, ValueEnum};
use jarvis_adapters::alertmanager::parse_webhook;
use jarvis_adapters::store::SqliteStore;
use jarvis_core::clock::SystemClock;
use jarvis_core::correlation::{CorrelationConfig, Correlator};
use jarvis_core::domain::{AlertStatus, PatternSource, Step, StepResult};
use jarvis_core::error::ExecError;
use jarvis_core::hints::Routing;
use jarvis_core::learning::{self, LearningConfig};
use jarvis_core::pipeline::{Pipeline, PipelineConfig, Policy, Ports};
use jarvis_core::ports::{Executor, Store};
use jarvis_core::runbook::RunbookLibrary;
use jarvis_core::safety::{SafetyConfig, SafetyPolicy, ValidatedStep};
use jarvis_core::testing::InMemoryStore;
use jarvis_core::testing::{RecordingNotifier, ScriptedPlanner, ScriptedVerifier};
use jarvis_e2e::load::FIXTURE;
use jarvis_e2e::stats::Summary;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum StoreKind {
    Memory,
    Sqlite,
    Both,
}

#[derive(Debug, Parser)]
#[command(name = "jarvis-bench-decision")]
struct Args {
    #[arg(long, value_enum, default_value = "both")]
    store: StoreKind,
    /// Measured alerts.
    #[arg(long, default_value_t = 2_000)]
    iterations: usize,
    /// Unmeasured alerts first.
    #[arg(long, default_value_t = 100)]
    warmup: usize,
}

/// Timestamps the first dispatch of each alert; every step "succeeds".
#[derive(Debug, Default)]
struct TimestampingExecutor {
    dispatched: Mutex<Option<Instant>>,
    calls: Mutex<usize>,
}

#[async_trait]
impl Executor for TimestampingExecutor {
    async fn execute(&self, _step: &ValidatedStep) -> Result<StepResult, ExecError> {
        let now = Instant::now();
        self.dispatched.lock().unwrap().get_or_insert(now);
        *self.calls.lock().unwrap() += 1;
        Ok(StepResult {
            exit_code: Some(0),
            ..StepResult::default()
        })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    if matches!(args.store, StoreKind::Memory | StoreKind::Both) {
        let summary = bench(&args, Arc::new(InMemoryStore::new())).await;
        println!("decision[memory]: webhook → first command dispatched: {summary}");
    }
    if matches!(args.store, StoreKind::Sqlite | StoreKind::Both) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("bench.db"))
            .await
            .expect("open sqlite");
        let store = Arc::new(store);
        let summary = bench(&args, store.clone()).await;
        println!("decision[sqlite]: webhook → first command dispatched: {summary}");
        store.close().await;
    }
}

async fn bench(args: &Args, store: Arc<dyn Store>) -> Summary {
    let template = parse_webhook(FIXTURE.as_bytes()).expect("fixture parses")[0].clone();
    let fix = Step::shell("web1", "systemctl restart demo").with_reason("learned");
    // A pattern with 10 verified successes: above the default cache thresholds.
    let symptom = learning::symptom(&template, None);
    let now = chrono::Utc::now();
    let mut pattern = None;
    for _ in 0..10 {
        pattern = learning::learn(
            pattern.as_ref(),
            &symptom,
            std::slice::from_ref(&fix),
            true,
            PatternSource::Llm,
            now,
        );
    }
    store
        .save_pattern(&pattern.expect("a learned pattern"))
        .await
        .expect("save pattern");

    let executor = Arc::new(TimestampingExecutor::default());
    let planner = Arc::new(ScriptedPlanner::new(Vec::new()));
    let ports = Ports {
        store: store.clone(),
        planner: planner.clone(),
        fallback: None,
        executor: executor.clone(),
        verifier: Arc::new(ScriptedVerifier::always_cleared()),
        notifier: Arc::new(RecordingNotifier::new()),
        clock: Arc::new(SystemClock),
    };
    let policy = Policy {
        config: PipelineConfig {
            dedupe_window_seconds: 0,
            ..PipelineConfig::default()
        },
        safety: Arc::new(
            SafetyPolicy::new(&SafetyConfig::default(), &["web1".to_string()])
                .expect("safety policy"),
        ),
        routing: Routing::default(),
        runbooks: Arc::new(RwLock::new(RunbookLibrary::default())),
        correlator: Correlator::new(&CorrelationConfig::default()).expect("correlator"),
        learning: LearningConfig::default(),
        hosts: Vec::new(),
        owner: "bench".into(),
    };
    let pipeline = Pipeline::new(ports, policy);
    let base = chrono::Utc::now() - chrono::Duration::hours(1);
    let mut samples = Vec::with_capacity(args.iterations);
    for i in 0..args.warmup + args.iterations {
        let mut alert = template.clone();
        alert.starts_at = base + chrono::Duration::milliseconds(i as i64);
        let body = FIXTURE.as_bytes();
        *executor.dispatched.lock().unwrap() = None;

        let received = Instant::now();
        // What the webhook does before answering, then the background handling.
        let mut parsed = parse_webhook(body).expect("parse");
        parsed[0].starts_at = alert.starts_at;
        let ingested = pipeline.ingest(parsed, None).await.expect("ingest");
        let handled = pipeline.handle_ingested(&ingested).await;
        let dispatched = executor
            .dispatched
            .lock()
            .unwrap()
            .unwrap_or_else(|| panic!("alert {i} dispatched nothing: {handled:?}"));
        if i >= args.warmup {
            samples.push(dispatched - received);
        }

        // Not timed: the resolution clears the attempt counter for the next alert.
        let mut resolved = alert.clone();
        resolved.status = AlertStatus::Resolved;
        resolved.ends_at = Some(chrono::Utc::now());
        let ingested = pipeline.ingest(vec![resolved], None).await.expect("ingest");
        pipeline.handle_ingested(&ingested).await;
    }
    assert_eq!(
        planner.calls(),
        0,
        "the planner was asked: not every alert was served from the pattern"
    );
    Summary::of(&mut samples).unwrap_or_else(|| panic!("no samples"))
}
