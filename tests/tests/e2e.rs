//! End to end: real Prometheus, Alertmanager and sshd on loopback, fakes of the
//! Claude Messages API and of a Discord webhook, and `jarvis-server` in-process
//! on 127.0.0.1:0, wired from a TOML configuration like an operator's.
//!
//! The demo service exposes `demo_service_up`; the rule `DemoServiceDown`
//! (`demo_service_up == 0`, 1 s scrape and evaluation) fires when the test
//! breaks it. The fix is `curl -fsS -X POST http://127.0.0.1:PORT/heal`, run
//! over SSH on host `lab` (allowed unattended by a `[safety.hosts.lab]` allow
//! rule; `curl -X POST` alone would wait for approval).
//!
//! 1. Break → Alertmanager posts → the LLM fake scripts `submit_plan` with the fix →
//!    validated → run over SSH → verified via Prometheus → a verified success, a
//!    learned pattern and a success embed at the Discord fake → the resolved
//!    notification arrives.
//! 2. Break again → the learned pattern fixes it (tier `cached`) with zero new
//!    LLM calls.
//! 3. Break again with the heal endpoint disabled (it answers 200 and fixes
//!    nothing): Jarvis never reports success and escalates within the attempt
//!    limit, with an escalation embed at the Discord fake.
//!
//! The configuration sets `[learning] cache_min_successes = 1`,
//! `cache_confidence = 0.3` (and `hint_confidence = 0.2`, which may not exceed
//! it), so one verified success is enough for round 2 to be cached; the
//! defaults (5 successes, 0.75) would send round 2 to the LLM again. It also
//! sets `dedupe_window_seconds = 0` (the rounds reuse one fingerprint within
//! seconds) and `verification_max_wait_seconds = 8` (round 3 waits that long
//! before deciding the fix did not work).
//!
//! Everything is asserted through Jarvis's HTTP API (and what the fakes and the
//! webhook tap received), never its logs. Every wait is bounded; timings are printed.

mod support;

#[path = "../../jarvis-adapters/tests/fakes/anthropic.rs"]
mod anthropic;
#[path = "../../jarvis-adapters/tests/fakes/discord.rs"]
mod discord;

use std::path::Path;
use std::time::{Duration, Instant};

use jarvis_adapters::config::{self, Env, Overrides};
use jarvis_server::app::{self, AppEnv};
use serde_json::{Value, json};

use support::peers::{Alertmanager, Prometheus, Sshd};
use support::{Api, DemoService, WebhookTap, wait_for};

const ALERT: &str = "DemoServiceDown";
const USER: &str = "alertmanager";
const PASSWORD: &str = "e2e-webhook-secret";
const LLM_KEY: &str = "sk-ant-e2e-key";
const HOST: &str = "lab";
const MAX_ATTEMPTS: u64 = 3;
/// The bound on each round, from breaking the service to the final state.
const ROUND: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn break_fix_learn_and_escalate_against_real_peers() {
    let started = Instant::now();
    support::peers::ensure_installed();
    let demo = DemoService::start().await;
    let llm = anthropic::FakeAnthropic::start(LLM_KEY).await;
    let discord = discord::FakeDiscord::start().await;
    let tap = WebhookTap::bind().await;
    let sshd = tokio::task::spawn_blocking(Sshd::start)
        .await
        .expect("start sshd");
    let am_config = alertmanager_config(&tap.url());
    let alertmanager = tokio::task::spawn_blocking(move || Alertmanager::start_with(&am_config))
        .await
        .expect("start alertmanager");
    let (target, am_port) = (demo.addr, alertmanager.port);
    let prometheus =
        tokio::task::spawn_blocking(move || Prometheus::start_with(target, Some(am_port)))
            .await
            .expect("start prometheus");
    println!("[e2e] peers up after {:.1?}", started.elapsed());

    let fix = format!("curl -fsS -X POST http://{}/heal", demo.addr);
    llm.fallback(anthropic::submit_turn(
        "toolu_plan",
        json!({
            "analysis": "demo_service_up is 0: the demo service is down",
            "commands": [{"host": HOST, "command": fix, "reason": "the heal endpoint restarts it"}],
            "actions": [],
            "reasoning": "the service exposes a heal endpoint on loopback",
            "expected_outcome": "DemoServiceDown clears",
            "confidence": 0.9
        }),
    ));

    let data = tempfile::tempdir().expect("data dir");
    let toml = jarvis_config(data.path(), &sshd, &prometheus, &llm, &discord, &demo);
    let file = data.path().join("jarvis.toml");
    std::fs::write(&file, &toml).expect("write jarvis.toml");
    let cfg = config::load(
        Some(&file),
        &Env::new(),
        &Overrides {
            listen: Some("127.0.0.1:0".into()),
            data_dir: Some(data.path().to_path_buf()),
        },
    )
    .unwrap_or_else(|e| panic!("the e2e configuration is rejected: {e}\n{toml}"));
    assert_wired(&cfg);
    let server = app::build(cfg, AppEnv::default())
        .await
        .unwrap_or_else(|e| panic!("jarvis-server did not build: {e:?}"))
        .spawn();
    tap.forward_to(server.url("/webhook/alertmanager"));
    let api = Api::new(server.url(""), USER, PASSWORD);
    let health = api.get_json("/health").await;
    println!(
        "[e2e] jarvis on {} after {:.1?}: {health}",
        server.addr,
        started.elapsed()
    );

    wait_until_scraped(&prometheus.url(), am_port).await;
    println!(
        "[e2e] prometheus scrapes the demo service and knows alertmanager ({:.1?})",
        started.elapsed()
    );

    // Round 1: planned by the LLM, fixed over SSH, verified, learned, notified.
    let r1 = round(&api, &demo, &tap, &[], "resolved").await;
    let llm_calls_1 = llm.requests().len();
    assert!(llm_calls_1 >= 1, "round 1 should have asked the LLM");
    assert_eq!(
        llm.violations(),
        Vec::<String>::new(),
        "requests the real API would reject"
    );
    let a1 = only_attempt(&r1.detail);
    assert_eq!(a1["tier"], "full_reasoning", "round 1 tier: {a1:#}");
    assert_fixed(&r1, &fix);
    assert_eq!(demo.heals(), 1, "the fix ran exactly once");
    let patterns = api.patterns().await;
    let learned = patterns
        .iter()
        .find(|p| p["alert_name"] == ALERT && p["steps"][0]["command"] == fix.as_str())
        .unwrap_or_else(|| panic!("no learned pattern for {ALERT}: {patterns:#?}"));
    assert_eq!(learned["successes"], 1, "{learned:#}");
    assert_eq!(learned["steps"][0]["host"], HOST);
    assert_success_embed(&discord, &r1.id);
    let resolved_1 = wait_resolved_notification(&tap, r1.broke_at).await;
    r1.print(1, Some(resolved_1));
    println!("[e2e] round 1: {llm_calls_1} LLM call(s)");

    // Round 2: the learned pattern, no LLM.
    let r2 = round(&api, &demo, &tap, std::slice::from_ref(&r1.id), "resolved").await;
    let a2 = only_attempt(&r2.detail);
    assert_eq!(
        a2["tier"], "cached",
        "round 2 must come from the learned pattern: {a2:#}"
    );
    assert_eq!(
        llm.requests().len(),
        llm_calls_1,
        "round 2 must not call the LLM (pattern cache)"
    );
    assert_fixed(&r2, &fix);
    assert_eq!(demo.heals(), 2);
    let patterns = api.patterns().await;
    let learned = patterns
        .iter()
        .find(|p| p["alert_name"] == ALERT && p["steps"][0]["command"] == fix.as_str())
        .expect("the learned pattern");
    assert_eq!(learned["successes"], 2, "{learned:#}");
    assert_success_embed(&discord, &r2.id);
    let resolved_2 = wait_resolved_notification(&tap, r2.broke_at).await;
    r2.print(2, Some(resolved_2));

    // Round 3: the fix exits 0 but fixes nothing.
    demo.set_heal_works(false);
    let heals_before = demo.heals();
    let r3 = round(
        &api,
        &demo,
        &tap,
        &[r1.id.clone(), r2.id.clone()],
        "escalated",
    )
    .await;
    r3.print(3, None);
    println!(
        "[e2e] round 3: {} LLM call(s), {} attempt(s)",
        llm.requests().len() - llm_calls_1,
        r3.detail["attempts"].as_array().map_or(0, Vec::len)
    );
    let attempts = r3.detail["attempts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let counted = attempts
        .iter()
        .filter(|a| a["counts_toward_limit"] == true)
        .count() as u64;
    assert!(
        (1..=MAX_ATTEMPTS).contains(&counted),
        "escalation must come within the attempt limit: {counted} counted attempts: {attempts:#?}"
    );
    assert!(
        demo.heals() > heals_before,
        "the (useless) fix should have run"
    );
    let first = &attempts[0];
    assert_eq!(
        first["tier"], "cached",
        "round 3 starts from the pattern: {first:#}"
    );
    assert_eq!(
        first["steps"][0]["result"]["exit_code"], 0,
        "the fix exits 0: {first:#}"
    );
    assert_eq!(
        first["verification"]["verdict"], "still_firing",
        "{first:#}"
    );
    for a in &attempts {
        assert_ne!(
            a["outcome"]["outcome"], "resolved",
            "no attempt may claim success: {a:#}"
        );
    }
    let states = states(&r3.detail);
    assert!(!states.contains(&"resolved".to_string()), "{states:?}");
    let kinds = notice_kinds(&r3.detail);
    assert!(
        !kinds.contains(&"remediation_success".to_string()),
        "no success notice for a fix that did not work: {kinds:?}"
    );
    assert!(kinds.contains(&"escalation".to_string()), "{kinds:?}");
    let embeds = embeds_for(&discord, &r3.id);
    assert!(
        embeds.iter().all(|e| !title(e).starts_with("Fixed")),
        "a success embed for round 3: {embeds:#?}"
    );
    assert!(
        embeds.iter().any(|e| title(e).starts_with("Escalated")),
        "no escalation embed for {}: {embeds:#?}",
        r3.id
    );
    assert!(!demo.is_up(), "nothing healed the service in round 3");
    assert_eq!(discord.violations(), Vec::<String>::new());

    // The webhook counter saw every notification's alerts (firing and resolved).
    let received = api.metric("jarvis_alerts_received_total").await;
    let posted: usize = tap.deliveries().iter().map(|d| d.alerts.len()).sum();
    assert!(
        received >= posted as f64,
        "received {received}, posted {posted}"
    );
    println!(
        "[e2e] done in {:.1?}: {} LLM calls, {} notifications from alertmanager, {} discord messages",
        started.elapsed(),
        llm.requests().len(),
        tap.deliveries().len(),
        discord.delivered().len()
    );
    server.shutdown().await.expect("graceful shutdown");
}

/// One break-and-wait round.
struct Round {
    id: String,
    detail: Value,
    broke_at: Instant,
    /// Break → first firing notification at the tap.
    to_webhook: Duration,
    /// Break → incident in its final state.
    to_final: Duration,
}

impl Round {
    fn print(&self, n: u32, resolved: Option<Duration>) {
        let verified = self.detail["attempts"][0]["verification"]["after"]
            .as_u64()
            .map(|ms| format!("{ms} ms"))
            .unwrap_or_else(|| "-".into());
        println!(
            "[e2e] round {n}: incident {} {} ({}); break→webhook {:.2?}, break→final {:.2?}, \
             fix→verified {verified}, break→resolved notification {}",
            self.id,
            self.detail["incident"]["state"],
            self.detail["incident"]["reason"],
            self.to_webhook,
            self.to_final,
            resolved.map_or("-".into(), |d| format!("{d:.2?}")),
        );
    }
}

/// Breaks the service and waits for the new incident to reach a final state,
/// failing at once (with the timeline) if it is not `expected`.
async fn round(
    api: &Api,
    demo: &DemoService,
    tap: &WebhookTap,
    known: &[String],
    expected: &str,
) -> Round {
    let before = tap.deliveries().len();
    let broke_at = Instant::now();
    demo.set_up(false);
    let to_webhook = wait_for(
        "a firing notification from alertmanager",
        ROUND,
        move || async move {
            let deliveries = tap.deliveries();
            match deliveries[before..].iter().find(|d| d.status == "firing") {
                Some(d) if d.answer == 202 => Ok(d.at - broke_at),
                Some(d) => panic!("jarvis answered the webhook with {}", d.answer),
                None => Err(format!("{:?}", &deliveries[before..])),
            }
        },
    )
    .await;
    let id = wait_for(
        "a new DemoServiceDown incident",
        ROUND,
        move || async move {
            let incidents = api.incidents(ALERT).await;
            incidents
                .iter()
                .filter_map(|i| i["id"].as_str())
                .find(|id| !known.iter().any(|k| k == id))
                .map(str::to_string)
                .ok_or_else(|| format!("{incidents:?}"))
        },
    )
    .await;
    let remaining = ROUND.saturating_sub(broke_at.elapsed());
    let what = format!("incident {id} to reach {expected}");
    let id_ref = id.as_str();
    let detail = wait_for(&what, remaining, move || async move {
        let id = id_ref;
        let detail = api.incident(id).await;
        let state = detail["incident"]["state"]
            .as_str()
            .unwrap_or("")
            .to_string();
        match state.as_str() {
            s if s == expected => Ok(detail),
            "awaiting_approval" => panic!(
                "incident {id} waits for approval: the fix was not allowed unattended \
                 (check [safety.hosts.{HOST}] allow); timeline: {detail:#}"
            ),
            "resolved" | "escalated" | "unverified" | "closed" | "duplicate" | "in_maintenance"
            | "host_offline" => {
                panic!("incident {id} ended {state}, expected {expected}; timeline: {detail:#}")
            }
            _ => Err(format!("state {state}")),
        }
    })
    .await;
    Round {
        id,
        detail,
        broke_at,
        to_webhook,
        to_final: broke_at.elapsed(),
    }
}

fn only_attempt(detail: &Value) -> &Value {
    let attempts = detail["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 1, "one attempt expected: {attempts:#?}");
    &attempts[0]
}

fn states(detail: &Value) -> Vec<String> {
    detail["transitions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["to"].as_str().map(str::to_string))
        .collect()
}

fn notice_kinds(detail: &Value) -> Vec<String> {
    detail["notices"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["notice"]["kind"].as_str().map(str::to_string))
        .collect()
}

/// The timeline of a verified fix: the state machine's path, the step's result over
/// SSH, Prometheus's verdict, the audit entry and the success notice.
fn assert_fixed(r: &Round, fix: &str) {
    let states = states(&r.detail);
    let path = [
        "planning",
        "validating",
        "executing",
        "verifying",
        "resolved",
    ];
    let mut rest = states.iter();
    for want in path {
        assert!(
            rest.any(|s| s == want),
            "transitions {states:?} do not go through {path:?}"
        );
    }
    let attempt = only_attempt(&r.detail);
    assert_eq!(attempt["outcome"]["outcome"], "resolved", "{attempt:#}");
    assert_eq!(attempt["verification"]["verdict"], "cleared", "{attempt:#}");
    let step = &attempt["steps"][0];
    assert_eq!(step["class"], "remediation", "{step:#}");
    assert_eq!(step["result"]["exit_code"], 0, "{step:#}");
    assert_eq!(
        step["result"]["dry_run"], false,
        "the fix must really run: {step:#}"
    );
    assert!(
        step["summary"].as_str().unwrap_or("").contains(fix),
        "{step:#}"
    );
    let audit = r.detail["audit"].as_array().cloned().unwrap_or_default();
    assert!(
        audit
            .iter()
            .any(|e| e["executed"] == true && e["exit_code"] == 0 && e["host"] == HOST),
        "no audit entry for the fix: {audit:#?}"
    );
    let kinds = notice_kinds(&r.detail);
    assert!(
        kinds.contains(&"remediation_success".to_string()),
        "{kinds:?}"
    );
    assert!(!kinds.contains(&"escalation".to_string()), "{kinds:?}");
}

fn title(embed: &Value) -> &str {
    embed["title"].as_str().unwrap_or("")
}

/// Embeds delivered to the Discord fake about one incident (its id is in the footer).
fn embeds_for(discord: &discord::FakeDiscord, incident: &str) -> Vec<Value> {
    discord
        .delivered()
        .into_iter()
        .flatten()
        .filter(|e| {
            e["footer"]["text"]
                .as_str()
                .unwrap_or("")
                .contains(incident)
        })
        .collect()
}

fn assert_success_embed(discord: &discord::FakeDiscord, incident: &str) {
    let embeds = embeds_for(discord, incident);
    assert!(
        embeds.iter().any(|e| title(e).starts_with("Fixed")),
        "no success embed for {incident} at the Discord fake: {embeds:#?} (all: {:#?})",
        discord.requests()
    );
}

/// Waits for Alertmanager's resolved notification (accepted by Jarvis) after `since`.
async fn wait_resolved_notification(tap: &WebhookTap, since: Instant) -> Duration {
    wait_for("the resolved notification", ROUND, move || async move {
        let deliveries = tap.deliveries();
        deliveries
            .iter()
            .find(|d| d.at > since && d.status == "resolved")
            .map(|d| {
                assert_eq!(d.answer, 202, "jarvis rejected the resolved notification");
                d.at - since
            })
            .ok_or_else(|| format!("{deliveries:?}"))
    })
    .await
}

/// Fails with what is missing when the configuration would not run the real
/// adapters (the dry-run executor, no verification, no LLM or no Discord).
fn assert_wired(cfg: &jarvis_adapters::config::Config) {
    let mut missing = Vec::new();
    if cfg.dry_run() {
        missing.push("the SSH executor (config says dry run)");
    }
    if !cfg.verification_enabled() {
        missing.push("the Prometheus verifier");
    }
    if cfg.llm.is_none() {
        missing.push("the LLM planner");
    }
    if cfg.discord.is_none() {
        missing.push("the Discord notifier");
    }
    assert!(
        missing.is_empty(),
        "jarvis-server would not wire {missing:?} from the e2e configuration"
    );
}

fn alertmanager_config(webhook: &str) -> String {
    format!(
        "route:
  receiver: jarvis
  group_by: ['alertname']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 4h
receivers:
  - name: jarvis
    webhook_configs:
      - url: '{webhook}'
        send_resolved: true
        http_config:
          basic_auth:
            username: '{USER}'
            password: '{PASSWORD}'
"
    )
}

fn jarvis_config(
    data: &Path,
    sshd: &Sshd,
    prometheus: &Prometheus,
    llm: &anthropic::FakeAnthropic,
    discord: &discord::FakeDiscord,
    demo: &DemoService,
) -> String {
    let runbooks = data.join("runbooks");
    std::fs::create_dir_all(&runbooks).expect("runbooks dir");
    let allow = format!(
        "^curl -fsS -X POST http://127\\.0\\.0\\.1:{}/heal$",
        demo.addr.port()
    );
    format!(
        r#"[server]
webhook_user = "{USER}"
webhook_password = "{PASSWORD}"
shutdown_grace_secs = 5

[pipeline]
max_attempts = {MAX_ATTEMPTS}
dedupe_window_seconds = 0
verification_max_wait_seconds = 8

[learning]
cache_min_successes = 1
cache_confidence = 0.3
hint_confidence = 0.2

[safety.hosts.{HOST}]
allow = ['{allow}']

[[hosts]]
name = "{HOST}"
address = "127.0.0.1"
port = {ssh_port}
user = "{ssh_user}"
key_file = "{key}"
pinned_keys = ["{host_key}"]

[executor]
command_timeout_secs = 20
connect_timeout_secs = 10

[runbooks]
dir = "{runbooks}"

[llm]
api_key = "{LLM_KEY}"
base_url = "{llm_url}"
model = "claude-e2e"
timeout_secs = 20

[discord]
webhook_url = "{discord_url}"

[prometheus]
url = "{prometheus_url}"
poll_interval_secs = 0.5
"#,
        ssh_port = sshd.port,
        ssh_user = sshd.user,
        key = sshd.client_key.display(),
        host_key = sshd.host_public_key,
        runbooks = runbooks.display(),
        llm_url = llm.url,
        discord_url = discord.webhook_url,
        prometheus_url = prometheus.url(),
    )
}

/// Waits until Prometheus has scraped `demo_service_up = 1` and found Alertmanager.
async fn wait_until_scraped(prometheus: &str, am_port: u16) {
    let client = reqwest::Client::new();
    wait_for("prometheus to scrape the demo service", ROUND, || {
        let client = client.clone();
        async move {
            let get = |path: String| {
                let client = client.clone();
                async move {
                    client
                        .get(format!("{prometheus}{path}"))
                        .send()
                        .await
                        .map_err(|e| e.to_string())?
                        .json::<Value>()
                        .await
                        .map_err(|e| e.to_string())
                }
            };
            let up = get("/api/v1/query?query=demo_service_up".into()).await?;
            let scraped = up["data"]["result"][0]["value"][1] == "1";
            let ams = get("/api/v1/alertmanagers".into()).await?;
            let found = ams["data"]["activeAlertmanagers"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|a| {
                    a["url"]
                        .as_str()
                        .unwrap_or("")
                        .contains(&format!(":{am_port}/"))
                });
            if scraped && found {
                Ok(())
            } else {
                Err(format!("query: {up}; alertmanagers: {ams}"))
            }
        }
    })
    .await;
}
