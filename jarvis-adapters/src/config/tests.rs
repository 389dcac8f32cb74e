use std::io::Write;

use super::*;

fn env(pairs: &[(&str, &str)]) -> Env {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load_str(toml: &str, pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(toml.as_bytes()).unwrap();
    load(Some(file.path()), &env(pairs), &Overrides::default())
}

#[test]
fn zero_config_is_valid_and_safe() {
    let cfg = Config::zero();
    assert_eq!(cfg.server.listen.to_string(), "127.0.0.1:8000");
    assert_eq!(cfg.server.data_dir, PathBuf::from("data"));
    assert_eq!(cfg.server.body_limit_bytes, 1024 * 1024);
    assert_eq!(cfg.server.webhook_user, "alertmanager");
    assert!(cfg.server.webhook_password.is_none());
    assert!(!cfg.server.public_reads);
    assert!(
        matches!(&cfg.database.target, DatabaseTarget::Sqlite(p) if p == &PathBuf::from("data/jarvis.db"))
    );
    assert_eq!(cfg.database.retention_days, 30);
    assert!(cfg.dry_run());
    assert!(!cfg.verification_enabled());
    assert!(cfg.llm.is_none());
    let summary = cfg.summary().join("\n");
    assert!(summary.contains("verification: off"), "{summary}");
    assert!(summary.contains("dry run"), "{summary}");
    assert!(summary.contains("deterministic"), "{summary}");
}

#[test]
fn data_dir_and_listen_come_from_env_then_flags() {
    let e = env(&[
        ("JARVIS_DATA_DIR", "/tmp/jd"),
        ("JARVIS_LISTEN", "127.0.0.1:9001"),
    ]);
    let cfg = load(None, &e, &Overrides::default()).unwrap();
    assert_eq!(cfg.server.data_dir, PathBuf::from("/tmp/jd"));
    assert_eq!(cfg.server.listen.port(), 9001);
    let cfg = load(
        None,
        &e,
        &Overrides {
            listen: Some("127.0.0.1:9002".into()),
            data_dir: Some("/tmp/other".into()),
        },
    )
    .unwrap();
    assert_eq!(cfg.server.listen.port(), 9002);
    assert_eq!(cfg.server.data_dir, PathBuf::from("/tmp/other"));
    assert!(
        matches!(&cfg.database.target, DatabaseTarget::Sqlite(p) if p == &PathBuf::from("/tmp/other/jarvis.db"))
    );
}

#[test]
fn non_loopback_without_password_is_refused_and_says_why() {
    let any: SocketAddr = "0.0.0.0:8000".parse().unwrap();
    let local: SocketAddr = "127.0.0.1:8000".parse().unwrap();
    let v6: SocketAddr = "[::1]:8000".parse().unwrap();
    assert!(check_exposure(&local, false).is_ok());
    assert!(check_exposure(&v6, false).is_ok());
    assert!(check_exposure(&any, true).is_ok());
    let why = check_exposure(&any, false).unwrap_err();
    assert!(why.contains("no webhook password"), "{why}");
    let err = load(
        None,
        &env(&[("JARVIS_LISTEN", "0.0.0.0:8000")]),
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(err.problems[0].starts_with("server.listen:"), "{err}");
    assert!(err.problems[0].contains("(set by JARVIS_LISTEN)"), "{err}");
    let ok = load(
        None,
        &env(&[
            ("JARVIS_LISTEN", "0.0.0.0:8000"),
            ("WEBHOOK_AUTH_PASSWORD", "s3cret"),
        ]),
        &Overrides::default(),
    );
    assert!(ok.is_ok());
}

#[test]
fn every_problem_is_listed_with_its_key() {
    let err = load_str(
        r#"
[server]
listen = "nowhere"
body_limit_bytes = 1

[pipeline]
max_attempts = 0

[database]
retention_days = 0
url = "mysql://x"

[[hosts]]
name = "web1"
address = ""
user = "ops"

[prometheus]
url = "ftp://prom"

[bogus]
x = 1

[learning]
cache_confidence = 2.0
"#,
        &[],
    )
    .unwrap_err();
    let text = err.to_string();
    for expected in [
        "server.listen:",
        "server.body_limit_bytes:",
        "pipeline.max_attempts: must be at least 1",
        "database.retention_days:",
        "database.url: unsupported scheme `mysql`",
        "hosts[0].address: must not be empty",
        "hosts[0].key_file: required",
        "prometheus.url: expected an http(s) URL",
        "bogus: unknown section",
        "learning.cache_confidence:",
    ] {
        assert!(
            err.problems.iter().any(|p| p.starts_with(expected)),
            "missing {expected:?} in\n{text}"
        );
    }
    assert!(text.starts_with("invalid configuration ("), "{text}");
}

#[test]
fn type_errors_in_several_sections_are_all_reported() {
    let err = load_str(
        "[server]\npublic_reads = \"maybe\"\n[pipeline]\nmax_attempts = \"lots\"\n[safety]\nnope = 1\n",
        &[],
    )
    .unwrap_err();
    assert_eq!(err.problems.len(), 3, "{err}");
    assert!(err.problems[0].starts_with("server.public_reads:"), "{err}");
    assert!(
        err.problems[1].starts_with("pipeline.max_attempts:"),
        "{err}"
    );
    assert!(
        err.problems[2].starts_with("safety.nope: unknown field `nope`"),
        "{err}"
    );
}

#[test]
fn legacy_names_and_jarvis_vars_fill_the_tree() {
    let cfg = load(
        None,
        &env(&[
            ("DATABASE_URL", "postgres://u:p@db/jarvis"),
            ("ANTHROPIC_API_KEY", "sk-ant-xyz"),
            (
                "DISCORD_WEBHOOK_URL",
                "https://discord.com/api/webhooks/1/tok",
            ),
            ("WEBHOOK_AUTH_USER", "am"),
            ("WEBHOOK_AUTH_PASSWORD", "12345"),
            ("PROMETHEUS_URL", "http://prom:9090"),
            ("LOKI_URL", "http://loki:3100"),
            ("HA_URL", "http://ha:8123"),
            ("HA_TOKEN", "hatoken"),
            ("N8N_URL", "http://n8n:5678"),
            ("N8N_API_KEY", "n8nkey"),
            ("MAX_ATTEMPTS_PER_ALERT", "5"),
            ("ATTEMPT_WINDOW_HOURS", "3"),
            ("VERIFICATION_MAX_WAIT_SECONDS", "90"),
            ("COMMAND_EXECUTION_TIMEOUT", "45"),
            ("VERIFICATION_ENABLED", "false"),
            ("VERIFICATION_POLL_INTERVAL", "2"),
            ("JARVIS_PIPELINE__MAX_ATTEMPTS", "4"),
            ("JARVIS_SERVER__PUBLIC_READS", "true"),
            ("JARVIS_SERVER__BODY_LIMIT_BYTES", "2048"),
        ]),
        &Overrides::default(),
    )
    .unwrap();
    assert!(matches!(cfg.database.target, DatabaseTarget::Postgres(_)));
    assert_eq!(
        cfg.llm.as_ref().map(|l| expose(&l.api_key)),
        Some("sk-ant-xyz")
    );
    assert!(cfg.discord.is_some());
    assert_eq!(cfg.server.webhook_user, "am");
    assert_eq!(
        cfg.server.webhook_password.as_ref().map(expose),
        Some("12345")
    );
    assert_eq!(
        cfg.prometheus.as_ref().unwrap().url.as_str(),
        "http://prom:9090/"
    );
    assert_eq!(
        cfg.prometheus.as_ref().unwrap().poll_interval,
        Duration::from_secs(2)
    );
    assert!(cfg.loki.is_some());
    assert!(cfg.home_assistant.is_some());
    assert!(cfg.n8n.as_ref().unwrap().api_key.is_some());
    assert_eq!(
        cfg.pipeline.max_attempts, 4,
        "JARVIS_ wins over the old name"
    );
    assert_eq!(cfg.pipeline.attempt_window_seconds, 3 * 3600);
    assert_eq!(cfg.pipeline.verification_max_wait_seconds, 90);
    assert!(!cfg.pipeline.verification_enabled);
    assert!(!cfg.verification_enabled());
    assert_eq!(cfg.executor.command_timeout_secs, 45);
    assert!(cfg.server.public_reads);
    assert_eq!(cfg.server.body_limit_bytes, 2048);
}

#[test]
fn alertmanager_comes_from_the_file_or_jarvis_alertmanager_url() {
    assert!(Config::zero().alertmanager.is_none());
    let file = load_str(
        "[alertmanager]\nurl = \"http://am:9093\"\nrequest_timeout_secs = 3\n",
        &[],
    )
    .unwrap();
    let am = file.alertmanager.unwrap();
    assert_eq!(am.url.as_str(), "http://am:9093/");
    assert_eq!(am.request_timeout, Duration::from_secs(3));

    let env_wins = load_str(
        "[alertmanager]\nurl = \"http://am:9093\"\n",
        &[("JARVIS_ALERTMANAGER__URL", "http://127.0.0.1:19093")],
    )
    .unwrap();
    assert_eq!(
        env_wins.alertmanager.unwrap().url.as_str(),
        "http://127.0.0.1:19093/"
    );

    let err = load_str("", &[("JARVIS_ALERTMANAGER__URL", "am:9093")]).unwrap_err();
    assert!(
        err.problems
            .iter()
            .any(|p| p.starts_with("alertmanager.url:") && p.contains("JARVIS_ALERTMANAGER__URL")),
        "{err}"
    );
}

#[test]
fn secrets_never_show_in_debug() {
    let cfg = load(
        None,
        &env(&[
            ("DATABASE_URL", "postgres://u:dbpass@db/jarvis"),
            ("ANTHROPIC_API_KEY", "sk-ant-secret"),
            (
                "DISCORD_WEBHOOK_URL",
                "https://discord.com/api/webhooks/1/hooktoken",
            ),
            ("WEBHOOK_AUTH_PASSWORD", "webpass"),
            ("HA_URL", "http://ha:8123"),
            ("HA_TOKEN", "hatoken"),
            ("N8N_URL", "http://n8n:5678"),
            ("N8N_API_KEY", "n8nkey"),
        ]),
        &Overrides::default(),
    )
    .unwrap();
    let debug = format!("{cfg:?}");
    for secret in [
        "dbpass",
        "sk-ant-secret",
        "hooktoken",
        "webpass",
        "hatoken",
        "n8nkey",
    ] {
        assert!(!debug.contains(secret), "{secret} leaked in Debug");
    }
    let summary = cfg.summary().join("\n");
    assert!(!summary.contains("dbpass"));
}

#[test]
fn core_sections_deserialize_directly() {
    let cfg = load_str(
        r#"
[pipeline]
max_attempts = 2
verification_enabled = false

[safety]
unclassified = "refuse"

[[hosts]]
name = "nas"
address = "10.0.0.5"
user = "jarvis"
key_file = "/etc/jarvis/id_ed25519"
tags = ["storage"]

[[routing]]
alert = "BackupStale"
by_label = "system"
[routing.routes.nas]
host = "nas"
commands = ["systemctl start backup"]

[correlation]
window_seconds = 60
cascades = [{ root = "PostgreSQLDown", dependents = ["N8NDown"] }]

[learning]
cache_min_successes = 3

[anomaly]
enabled = false
z_threshold = 4.0
queries = ["up"]

[executor]
dry_run = true

[llm]
api_key = "k"
model = "claude-x"
"#,
        &[],
    )
    .unwrap();
    assert_eq!(cfg.pipeline.max_attempts, 2);
    assert_eq!(cfg.hosts[0].port, 22);
    assert_eq!(cfg.routing.rules[0].routes["nas"].host, "nas");
    assert_eq!(cfg.correlation.window_seconds, 60);
    assert_eq!(cfg.learning.cache_min_successes, 3);
    assert_eq!(cfg.anomaly.detector.z_threshold, 4.0);
    assert_eq!(cfg.anomaly.queries, vec!["up".to_string()]);
    assert!(cfg.dry_run());
    assert_eq!(cfg.llm.unwrap().model, "claude-x");
}

#[test]
fn claude_is_another_name_for_llm() {
    let cfg = load_str("[claude]\napi_key = \"k\"\n", &[]).unwrap();
    assert!(cfg.llm.is_some());
    let err = load_str("[claude]\napi_key = \"k\"\n[llm]\napi_key = \"k\"\n", &[]).unwrap_err();
    assert!(err.problems[0].starts_with("claude:"), "{err}");
}

#[test]
fn invalid_toml_and_missing_file_are_reported() {
    let err = load_str("[server\n", &[]).unwrap_err();
    assert!(err.problems[0].contains("not valid TOML"), "{err}");
    let err = load(
        Some(Path::new("/nonexistent/jarvis.toml")),
        &Env::new(),
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(err.problems[0].contains("cannot read"), "{err}");
}

#[test]
fn example_config_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/jarvis.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    // Paths in the example point at the operator's machine; check the rest.
    let text = text
        .replace(
            "dir = \"runbooks\"",
            &format!(
                "dir = {:?}",
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../runbooks")
            ),
        )
        .replace(
            "file = \"examples/seeds.toml\"",
            &format!(
                "file = {:?}",
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/seeds.toml")
            ),
        );
    if let Err(e) = load_str(&text, &[]) {
        panic!("examples/jarvis.toml is invalid: {e}");
    }
}

#[tokio::test]
async fn check_reports_every_integration() {
    let cfg = Config::zero();
    let report = check(&cfg).await;
    assert!(report.ok(), "{report:?}");
    let names: Vec<&str> = report.items.iter().map(|i| i.name.as_str()).collect();
    for name in [
        "config",
        "database",
        "runbooks",
        "prometheus",
        "discord",
        "llm",
        "n8n",
    ] {
        assert!(names.contains(&name), "{names:?}");
    }
    let mut cfg = Config::zero();
    cfg.prometheus = Some(PrometheusSettings {
        url: Url::parse("http://127.0.0.1:9").unwrap(),
        request_timeout: Duration::from_secs(1),
        poll_interval: Duration::from_secs(1),
    });
    let report = check(&cfg).await;
    assert!(!report.ok());
}

#[test]
fn shipped_runbooks_and_seeds_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let runbooks = load_runbooks(&root.join("runbooks")).unwrap();
    assert!(!runbooks.is_empty());
    let seeds = load_seeds(&root.join("examples/seeds.toml"), chrono::Utc::now()).unwrap();
    assert!(!seeds.is_empty());
}

/// One old variable at a time, so each mapping is checked on its own.
fn with(var: &str, value: &str) -> Config {
    let mut pairs = vec![(var, value)];
    if var != "PROMETHEUS_URL" {
        pairs.push(("PROMETHEUS_URL", "http://prom:9090"));
    }
    load(None, &env(&pairs), &Overrides::default()).unwrap_or_else(|e| panic!("{var}: {e}"))
}

#[test]
fn command_execution_timeout_sets_the_command_timeout() {
    assert_eq!(
        with("COMMAND_EXECUTION_TIMEOUT", "120")
            .executor
            .command_timeout_secs,
        120
    );
}

#[test]
fn commands_may_run_five_minutes_by_default() {
    // Backup scripts run long: the default is 300 s, not 60.
    let cfg = load_str("", &[]).unwrap();
    assert_eq!(cfg.executor.command_timeout_secs, 300);
    assert_eq!(cfg.executor.connect_timeout_secs, 10);
}

#[test]
fn verification_enabled_switches_verification() {
    assert!(with("PROMETHEUS_URL", "http://prom:9090").verification_enabled());
    let off = with("VERIFICATION_ENABLED", "false");
    assert!(!off.pipeline.verification_enabled);
    assert!(!off.verification_enabled());
    assert!(with("VERIFICATION_ENABLED", "true").verification_enabled());
}

#[test]
fn verification_poll_interval_is_the_adaptive_pollers_ceiling() {
    let cfg = with("VERIFICATION_POLL_INTERVAL", "7");
    let p = cfg.prometheus.as_ref().unwrap();
    assert_eq!(p.poll_interval, Duration::from_secs(7));
    let pc = wiring::verifier_config(&cfg, p);
    assert_eq!(pc.verify_max_poll_millis, 7000);
}

#[test]
fn old_ssh_timeout_webhook_and_hand_off_names() {
    assert_eq!(
        with("SSH_CONNECTION_TIMEOUT", "25")
            .executor
            .connect_timeout_secs,
        25
    );
    assert_eq!(
        with("WEBHOOK_AUTH_USERNAME", "am").server.webhook_user,
        "am"
    );
    assert_eq!(
        with("SELF_RESTART_TIMEOUT_MINUTES", "15")
            .self_restart
            .timeout,
        chrono::Duration::minutes(15)
    );
    assert_eq!(
        with("STALE_HANDOFF_CLEANUP_MINUTES", "45")
            .self_restart
            .cleanup_after,
        chrono::Duration::minutes(45)
    );
}

#[test]
fn old_ssh_host_variables_add_and_update_hosts() {
    let cfg = load_str(
        r#"
[[hosts]]
name = "outpost"
address = "10.0.0.9"
user = "old"
key_file = "/keys/outpost"
"#,
        &[
            ("SSH_NEXUS_HOST", "192.168.1.100"),
            ("SSH_NEXUS_USER", "ops"),
            ("SSH_NEXUS_KEY_PATH", "/keys/nexus"),
            ("SSH_OUTPOST_HOST", "vps.example.org"),
            ("SSH_OUTPOST_USER", "root"),
            // Not host variables of the old system.
            ("SSH_AUTH_SOCK", "/tmp/agent"),
            ("SSH_CONNECTION", "1.2.3.4 5 6.7.8.9 22"),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let hosts: Vec<(&str, &str, &str)> = cfg
        .hosts
        .iter()
        .map(|h| (h.name.as_str(), h.address.as_str(), h.user.as_str()))
        .collect();
    assert_eq!(
        hosts,
        vec![
            ("outpost", "vps.example.org", "root"),
            ("nexus", "192.168.1.100", "ops"),
        ]
    );
    assert_eq!(cfg.hosts[0].key_file, Some(PathBuf::from("/keys/outpost")));
    assert_eq!(cfg.hosts[1].key_file, Some(PathBuf::from("/keys/nexus")));
    assert_eq!(cfg.hosts[1].port, 22);

    // JARVIS_* still wins over the old names.
    let cfg = load(
        None,
        &env(&[
            ("SSH_NEXUS_HOST", "192.168.1.100"),
            ("SSH_NEXUS_USER", "ops"),
            ("SSH_NEXUS_KEY_PATH", "/keys/nexus"),
            ("JARVIS_HOSTS__0__USER", "jarvis"),
        ]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(cfg.hosts[0].user, "jarvis");
}

#[test]
fn old_ssh_host_variables_name_themselves_in_problems() {
    let err = load(
        None,
        &env(&[
            ("SSH_NEXUS_HOST", "192.168.1.100"),
            ("SSH_NEXUS_USER", "ops"),
        ]),
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(
        err.problems
            .iter()
            .any(|p| p.starts_with("hosts[0].key_file: required") && p.contains("SSH_NEXUS_HOST")),
        "{err}"
    );
    let err = load(
        None,
        &env(&[("SSH_SKYNET_USER", "root")]),
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(
        err.problems[0].starts_with("SSH_SKYNET_USER: no host named \"skynet\""),
        "{err}"
    );
}

#[test]
fn daily_report_time_and_offset_are_configurable() {
    let cfg = Config::zero();
    assert!(cfg.report.enabled);
    assert_eq!(cfg.report.schedule, ReportSchedule::default());
    let cfg = load(
        None,
        &env(&[
            ("JARVIS_REPORT__TIME", "07:30"),
            ("JARVIS_REPORT__UTC_OFFSET", "+02:00"),
        ]),
        &Overrides::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        cfg.report.schedule,
        ReportSchedule::parse("07:30", "+02:00").unwrap()
    );
    let err = load_str(
        "[report]\ntime = \"8am\"\nutc_offset = \"CET\"\n",
        &[("JARVIS_REPORT__ENABLED", "false")],
    )
    .unwrap_err();
    assert!(
        err.problems.iter().any(|p| p.starts_with("report.time:")),
        "{err}"
    );
    let err = load_str("[report]\nutc_offset = \"CET\"\n", &[]).unwrap_err();
    assert!(err.problems[0].starts_with("report.utc_offset:"), "{err}");
}

#[test]
fn backup_checks_need_prometheus_and_default_to_the_system_label() {
    let cfg = Config::zero();
    assert!(cfg.backups.is_none());
    let err = load(
        None,
        &env(&[(
            "JARVIS_BACKUPS__QUERY",
            "backup_last_success_timestamp_seconds",
        )]),
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(err.problems[0].starts_with("backups.query:"), "{err}");
    let cfg = with(
        "JARVIS_BACKUPS__QUERY",
        "backup_last_success_timestamp_seconds",
    );
    let b = cfg.backups.unwrap();
    assert_eq!(b.system_label, "system");
    assert_eq!(b.check_interval, Duration::from_secs(900));
    assert_eq!(b.predict.backup_max_age_hours, 26.0);
}

#[test]
fn hand_off_timings_default_to_ten_and_thirty_minutes() {
    let cfg = Config::zero();
    assert_eq!(cfg.self_restart.timeout, chrono::Duration::minutes(10));
    assert_eq!(
        cfg.self_restart.cleanup_after,
        chrono::Duration::minutes(30)
    );
    let err = load(
        None,
        &env(&[
            ("SELF_RESTART_TIMEOUT_MINUTES", "40"),
            ("STALE_HANDOFF_CLEANUP_MINUTES", "30"),
        ]),
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(
        err.problems[0].starts_with("self_restart.stale_cleanup_minutes:"),
        "{err}"
    );
}
