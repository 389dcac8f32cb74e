//! `jarvis config check`: validate, then ask every configured integration whether it answers.

use std::time::Duration;

use serde::Serialize;
use url::Url;

use super::{Config, DatabaseTarget, expose, redact_url};

/// The verdict on one item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum CheckStatus {
    Ok(String),
    Failed(String),
    /// Not configured, or nothing to probe.
    Skipped(String),
}

/// One checked item: the config itself, a file, or an integration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckItem {
    pub name: String,
    /// What was probed (URL without credentials or path), if anything.
    pub target: Option<String>,
    #[serde(flatten)]
    pub status: CheckStatus,
}

/// Everything `check` found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub items: Vec<CheckItem>,
}

impl CheckReport {
    /// No item failed.
    pub fn ok(&self) -> bool {
        !self
            .items
            .iter()
            .any(|i| matches!(i.status, CheckStatus::Failed(_)))
    }
}

/// Checks a validated configuration: runbooks and seeds parse, the database
/// location is usable, and each configured integration's health endpoint answers.
pub async fn check(cfg: &Config) -> CheckReport {
    let mut items = vec![CheckItem {
        name: "config".into(),
        target: cfg.source.as_ref().map(|p| p.display().to_string()),
        status: CheckStatus::Ok("valid".into()),
    }];
    items.push(match &cfg.database.target {
        DatabaseTarget::Sqlite(path) => {
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
            let status = match dir {
                Some(d) if !d.exists() => {
                    CheckStatus::Ok(format!("{} will be created at start-up", d.display()))
                }
                Some(d) if d.is_dir() => CheckStatus::Ok("directory exists".into()),
                Some(d) => CheckStatus::Failed(format!("{} is not a directory", d.display())),
                None => CheckStatus::Ok("current directory".into()),
            };
            CheckItem {
                name: "database".into(),
                target: Some(path.display().to_string()),
                status,
            }
        }
        DatabaseTarget::Postgres(_) => CheckItem {
            name: "database".into(),
            target: Some("postgres".into()),
            status: CheckStatus::Skipped("connection is checked at start-up".into()),
        },
    });
    items.push(CheckItem {
        name: "runbooks".into(),
        target: Some(cfg.runbooks.dir.display().to_string()),
        status: match super::load_runbooks(&cfg.runbooks.dir) {
            Ok(rbs) => CheckStatus::Ok(format!("{} runbook(s) parsed", rbs.len())),
            Err(problems) => CheckStatus::Failed(problems.join("; ")),
        },
    });
    if let Some(file) = &cfg.seeds.file {
        items.push(CheckItem {
            name: "seeds".into(),
            target: Some(file.display().to_string()),
            status: match super::load_seeds(file, chrono::Utc::now()) {
                Ok(p) => CheckStatus::Ok(format!("{} seed pattern(s)", p.len())),
                Err(e) => CheckStatus::Failed(e),
            },
        });
    }
    items.extend(probe_integrations(cfg).await);
    CheckReport { items }
}

fn with_path(url: &Url, path: &str) -> Url {
    let mut u = url.clone();
    let base = u.path().trim_end_matches('/').to_string();
    u.set_path(&format!("{base}/{}", path.trim_start_matches('/')));
    u.set_query(None);
    u
}

async fn probe(request: reqwest::RequestBuilder) -> CheckStatus {
    match request.send().await {
        Ok(r) if r.status().is_success() => CheckStatus::Ok(format!("answered {}", r.status())),
        Ok(r) => CheckStatus::Failed(format!("answered {}", r.status())),
        Err(e) if e.is_timeout() => CheckStatus::Failed("timed out".into()),
        Err(e) if e.is_connect() => CheckStatus::Failed("connection refused or unreachable".into()),
        Err(_) => CheckStatus::Failed("request failed".into()),
    }
}

/// Probes each configured integration's health endpoint (concurrently, 5 s each).
/// Integrations that are not configured are listed as skipped.
pub async fn probe_integrations(cfg: &Config) -> Vec<CheckItem> {
    let client = match crate::http::client(Duration::from_secs(5)) {
        Ok(c) => c,
        Err(_) => {
            return vec![CheckItem {
                name: "http".into(),
                target: None,
                status: CheckStatus::Failed("cannot build an HTTP client".into()),
            }];
        }
    };
    let skipped = |name: &str, why: &str| CheckItem {
        name: name.into(),
        target: None,
        status: CheckStatus::Skipped(why.into()),
    };
    let prometheus = async {
        match &cfg.prometheus {
            Some(p) => CheckItem {
                name: "prometheus".into(),
                target: Some(redact_url(&p.url)),
                status: probe(client.get(with_path(&p.url, "-/ready"))).await,
            },
            None => skipped("prometheus", "not configured: verification is off"),
        }
    };
    let alertmanager = async {
        match &cfg.alertmanager {
            Some(a) => CheckItem {
                name: "alertmanager".into(),
                target: Some(redact_url(&a.url)),
                status: probe(client.get(with_path(&a.url, "-/healthy"))).await,
            },
            None => skipped(
                "alertmanager",
                "not configured: no silences during remediation",
            ),
        }
    };
    let loki = async {
        match &cfg.loki {
            Some(l) => {
                let mut req = client.get(with_path(&l.url, "ready"));
                if let Some(org) = &l.org_id {
                    req = req.header("X-Scope-OrgID", org);
                }
                CheckItem {
                    name: "loki".into(),
                    target: Some(redact_url(&l.url)),
                    status: probe(req).await,
                }
            }
            None => skipped("loki", "not configured"),
        }
    };
    let home_assistant = async {
        match &cfg.home_assistant {
            Some(h) => CheckItem {
                name: "home_assistant".into(),
                target: Some(redact_url(&h.url)),
                status: probe(
                    client
                        .get(with_path(&h.url, "api/"))
                        .bearer_auth(expose(&h.token)),
                )
                .await,
            },
            None => skipped("home_assistant", "not configured"),
        }
    };
    let n8n = async {
        match &cfg.n8n {
            Some(n) => CheckItem {
                name: "n8n".into(),
                target: Some(redact_url(&n.url)),
                status: probe(client.get(with_path(&n.url, "healthz"))).await,
            },
            None => skipped("n8n", "not configured: self-restart is unavailable"),
        }
    };
    let discord = async {
        match &cfg.discord {
            Some(d) => match Url::parse(expose(&d.webhook_url)) {
                // GET on a webhook URL describes the webhook without posting anything.
                Ok(url) => CheckItem {
                    name: "discord".into(),
                    target: Some(redact_url(&url)),
                    status: probe(client.get(url.clone())).await,
                },
                Err(_) => CheckItem {
                    name: "discord".into(),
                    target: None,
                    status: CheckStatus::Failed("webhook URL does not parse".into()),
                },
            },
            None => skipped("discord", "not configured: notices go to the log"),
        }
    };
    let llm = async {
        match &cfg.llm {
            Some(l) => CheckItem {
                name: "llm".into(),
                target: Some(redact_url(&l.base_url)),
                status: probe(
                    client
                        .get(with_path(&l.base_url, "v1/models"))
                        .header("x-api-key", expose(&l.api_key))
                        .header("anthropic-version", "2023-06-01"),
                )
                .await,
            },
            None => skipped("llm", "no API key: the deterministic planner is used"),
        }
    };
    let (a, b, c, d, e, f, g) = tokio::join!(
        prometheus,
        alertmanager,
        loki,
        home_assistant,
        n8n,
        discord,
        llm
    );
    vec![a, b, c, d, e, f, g]
}
