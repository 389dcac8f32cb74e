//! `jarvis simulate`: runs scenarios through the real pipeline against a
//! simulated world on a simulated clock, and reports how the policy did.
//!
//! - [`scenario`]: the file format (YAML or TOML), see `docs/SCENARIOS.md`;
//! - [`world`]: hosts, services, disks, VPN links, backups, certificates, the
//!   alert rules the simulated Prometheus evaluates, and command effects;
//! - [`ports`]: the simulated Executor, Verifier, LLM planner and Notifier;
//! - [`runner`]: the event loop around `jarvis_core::pipeline::Pipeline`;
//! - [`expect`]: expectations; [`report`]: JSON and table output;
//! - [`generate`]: generated homelabs for long runs.

pub mod expect;
pub mod generate;
pub mod ports;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod world;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use jarvis_core::runbook::{self, RunbookLibrary};

use scenario::{Generate, Scenario, ScenarioError};

/// Arguments of `jarvis simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Scenario files (.yaml, .yml, .toml) or directories of them.
    #[arg(default_value = "examples/scenarios")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Directory of runbooks (default: `runbooks` here or in a parent directory).
    #[arg(long)]
    pub runbooks: Option<PathBuf>,
    /// Simulate a generated lab instead of files: `homelab`.
    #[arg(long)]
    pub generate: Option<String>,
    /// Days the generated lab runs.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Hosts in the generated lab.
    #[arg(long, default_value_t = 50)]
    pub hosts: u32,
    /// Seed of the generated lab.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Show every incident's path and commands in the table output.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// Exit statuses.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

/// Runs `jarvis simulate`; returns the process exit status.
pub async fn run(args: SimulateArgs) -> u8 {
    match run_inner(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
    }
}

async fn run_inner(args: SimulateArgs) -> Result<u8, ScenarioError> {
    let started = Instant::now();
    let runbooks = load_runbooks(args.runbooks.as_deref())?;
    let mut scenarios: Vec<(PathBuf, Scenario)> = Vec::new();
    if let Some(kind) = &args.generate {
        let g = Generate {
            kind: kind.clone(),
            hosts: args.hosts,
            days: args.days,
            seed: args.seed,
            faults_per_host_week: None,
        };
        let path = PathBuf::from(format!("--generate {kind}"));
        if kind != "homelab" {
            return Err(ScenarioError::new(
                &path,
                "--generate",
                format!("unknown generator {kind:?}: only `homelab`"),
            ));
        }
        scenarios.push((path, generate::homelab(&g)));
    } else {
        for file in discover(&args.paths)? {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| ScenarioError::new(&file, "(file)", e.to_string()))?;
            let mut s = scenario::parse(&file, &text)?;
            if let Some(g) = s.generate.take() {
                let generated = generate::homelab(&g);
                s = merge(generated, s);
            }
            scenarios.push((file, s));
        }
    }
    if scenarios.is_empty() {
        return Err(ScenarioError::new(
            Path::new(&args.paths.first().cloned().unwrap_or_default()),
            "(paths)",
            "no scenario files found",
        ));
    }
    let mut names = std::collections::BTreeMap::new();
    for (file, s) in &scenarios {
        if let Some(other) = names.insert(s.name.clone(), file.clone()) {
            return Err(ScenarioError::new(
                file,
                "name",
                format!("{:?} is also the name of {}", s.name, other.display()),
            ));
        }
    }
    let bar = progress(scenarios.len() as u64);
    let clock_bar = (scenarios.len() == 1 && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::with_draw_target(Some(1), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} simulating [{bar:30}] {percent}% of the simulated time, {elapsed}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    });
    let env = Arc::new(runner::Env {
        runbooks,
        clock_bar: clock_bar.clone(),
    });
    let mut set = tokio::task::JoinSet::new();
    for (i, (file, s)) in scenarios.iter().enumerate() {
        let s = Arc::new(s.clone());
        let env = env.clone();
        let file = file.clone();
        set.spawn(async move {
            let t = Instant::now();
            let outcome = runner::run(s.clone(), env, file.clone()).await;
            (i, outcome, t.elapsed().as_millis() as u64)
        });
    }
    let mut done: Vec<Option<(runner::RunOutcome, u64)>> = vec![None; scenarios.len()];
    while let Some(joined) = set.join_next().await {
        let (i, outcome, ms) = joined.map_err(|e| {
            ScenarioError::new(
                Path::new("(simulation)"),
                "(run)",
                format!("a scenario panicked: {e}"),
            )
        })?;
        bar.inc(1);
        done[i] = Some((outcome?, ms));
    }
    bar.finish_and_clear();
    if let Some(b) = clock_bar {
        b.finish_and_clear();
    }
    let mut results = Vec::new();
    let mut metrics = Vec::new();
    for ((file, s), out) in scenarios.iter().zip(done) {
        let Some((outcome, ms)) = out else { continue };
        let failures = expect::check(&s.expect, &outcome);
        results.push(report::ScenarioResult {
            name: s.name.clone(),
            file: file.display().to_string(),
            passed: failures.is_empty(),
            failures,
            metrics: report::ScenarioMetrics::from(&outcome.metrics, ms),
            incidents: outcome.incidents,
        });
        metrics.push(outcome.metrics);
    }
    let report = report::build(results, &metrics, started.elapsed().as_secs_f64());
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report)
                .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        ),
        Format::Table => print!("{}", report::table(&report, args.verbose)),
    }
    Ok(if report.failed > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}

/// A scenario with `generate:` keeps its own name, settings and expectations
/// and adds its own world and timeline to the generated ones.
fn merge(mut generated: Scenario, own: Scenario) -> Scenario {
    generated.name = own.name;
    generated.description = own.description;
    generated.world.hosts.extend(own.world.hosts);
    generated.world.services.extend(own.world.services);
    generated.timeline.extend(own.timeline);
    generated.expect = own.expect;
    if own.duration.is_some() {
        generated.duration = own.duration;
    }
    if own.eval_interval.is_some() {
        generated.eval_interval = own.eval_interval;
    }
    if own.llm.is_some() {
        generated.llm = own.llm;
    }
    generated
}

fn progress(len: u64) -> ProgressBar {
    if len < 2 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} simulating [{bar:30}] {pos}/{len} scenarios {elapsed}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Scenario files under the given paths, sorted; a directory is searched recursively.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut out)?;
        } else if path.is_file() {
            out.push(path.clone());
        } else {
            return Err(ScenarioError::new(
                path,
                "(path)",
                "no such file or directory",
            ));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ScenarioError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| ScenarioError::new(dir, "(path)", e.to_string()))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, out)?;
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "toml")
        ) {
            out.push(p);
        }
    }
    Ok(())
}

/// Finds the runbooks directory: the given one, else `runbooks` here or in a parent.
pub fn runbooks_dir(given: Option<&Path>) -> Option<PathBuf> {
    if let Some(g) = given {
        return Some(g.to_path_buf());
    }
    let mut dir = std::env::current_dir().ok()?;
    loop {
        let candidate = dir.join("runbooks");
        if candidate.is_dir() {
            return Some(candidate);
        }
        if !dir.pop() {
            return None;
        }
    }
}

/// Parses every `*.md` runbook of the directory.
pub fn load_runbooks(given: Option<&Path>) -> Result<RunbookLibrary, ScenarioError> {
    let Some(dir) = runbooks_dir(given) else {
        return Ok(RunbookLibrary::default());
    };
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| ScenarioError::new(&dir, "--runbooks", e.to_string()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("md"))
        .collect();
    paths.sort();
    let mut books = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ScenarioError::new(&path, "(file)", e.to_string()))?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let book = runbook::parse(name, &text)
            .map_err(|e| ScenarioError::new(&path, "(runbook)", e.to_string()))?;
        books.push(book);
    }
    Ok(RunbookLibrary::new(books))
}
