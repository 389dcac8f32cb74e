//! The environment overlay: `JARVIS_SECTION__KEY` variables and the old names.
//!
//! The environment arrives as a map, so tests never touch the process
//! environment. Precedence, lowest first: the file, the old names
//! (`DATABASE_URL`, …), `JARVIS_SECTION__KEY`, then command-line flags.

use std::collections::BTreeMap;

use toml::{Table, Value};

/// The environment, as a map of variable name to value.
pub type Env = BTreeMap<String, String>;

/// The process environment (for `main`). Non-UTF-8 variables are skipped.
pub fn process_env() -> Env {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// How an old variable maps onto the tree.
#[derive(Clone, Copy)]
enum Conv {
    Same,
    HoursToSeconds,
}

/// The variables of the system Jarvis replaces, still honoured.
const LEGACY: &[(&str, &str, Conv)] = &[
    ("DATABASE_URL", "database.url", Conv::Same),
    ("ANTHROPIC_API_KEY", "llm.api_key", Conv::Same),
    ("DISCORD_WEBHOOK_URL", "discord.webhook_url", Conv::Same),
    ("WEBHOOK_AUTH_USER", "server.webhook_user", Conv::Same),
    ("WEBHOOK_AUTH_USERNAME", "server.webhook_user", Conv::Same),
    (
        "WEBHOOK_AUTH_PASSWORD",
        "server.webhook_password",
        Conv::Same,
    ),
    ("PROMETHEUS_URL", "prometheus.url", Conv::Same),
    ("LOKI_URL", "loki.url", Conv::Same),
    ("HA_URL", "home_assistant.url", Conv::Same),
    ("HA_TOKEN", "home_assistant.token", Conv::Same),
    ("N8N_URL", "n8n.url", Conv::Same),
    ("N8N_API_KEY", "n8n.api_key", Conv::Same),
    (
        "MAX_ATTEMPTS_PER_ALERT",
        "pipeline.max_attempts",
        Conv::Same,
    ),
    (
        "ATTEMPT_WINDOW_HOURS",
        "pipeline.attempt_window_seconds",
        Conv::HoursToSeconds,
    ),
    (
        "VERIFICATION_MAX_WAIT_SECONDS",
        "pipeline.verification_max_wait_seconds",
        Conv::Same,
    ),
    (
        "COMMAND_EXECUTION_TIMEOUT",
        "executor.command_timeout_secs",
        Conv::Same,
    ),
    (
        "VERIFICATION_ENABLED",
        "pipeline.verification_enabled",
        Conv::Same,
    ),
    (
        "VERIFICATION_POLL_INTERVAL",
        "prometheus.poll_interval_secs",
        Conv::Same,
    ),
    (
        "SSH_CONNECTION_TIMEOUT",
        "executor.connect_timeout_secs",
        Conv::Same,
    ),
    (
        "SELF_RESTART_TIMEOUT_MINUTES",
        "self_restart.timeout_minutes",
        Conv::Same,
    ),
    (
        "STALE_HANDOFF_CLEANUP_MINUTES",
        "self_restart.stale_cleanup_minutes",
        Conv::Same,
    ),
];

/// The old system's per-host variables: `SSH_<NAME>_HOST`, `SSH_<NAME>_USER`
/// and `SSH_<NAME>_KEY_PATH` describe the host named `<name>` (lower case).
const SSH_HOST_FIELDS: [(&str, &str); 3] = [
    ("_KEY_PATH", "key_file"),
    ("_HOST", "address"),
    ("_USER", "user"),
];

/// `SSH_NEXUS_HOST` → `("nexus", "address")`.
fn ssh_host_var(var: &str) -> Option<(String, &'static str)> {
    let rest = var.strip_prefix("SSH_")?;
    SSH_HOST_FIELDS.iter().find_map(|(suffix, field)| {
        let name = rest.strip_suffix(suffix)?;
        (!name.is_empty() && !name.starts_with('_') && !name.ends_with('_'))
            .then(|| (name.to_ascii_lowercase(), *field))
    })
}

/// Sets `[[hosts]]` entries from the old per-host variables: an entry with the
/// same name is updated, otherwise `SSH_<NAME>_HOST` adds one.
fn overlay_ssh_hosts(
    tree: &mut Table,
    env: &Env,
    problems: &mut Vec<String>,
    origins: &mut Origins,
) {
    let mut by_host: BTreeMap<String, Vec<(&'static str, &str, &str)>> = BTreeMap::new();
    for (var, raw) in env {
        if raw.trim().is_empty() {
            continue;
        }
        if let Some((name, field)) = ssh_host_var(var) {
            by_host
                .entry(name)
                .or_default()
                .push((field, var.as_str(), raw.as_str()));
        }
    }
    for (name, fields) in by_host {
        let hosts = match tree.get("hosts") {
            Some(Value::Array(items)) => items.as_slice(),
            _ => &[],
        };
        let existing = hosts
            .iter()
            .position(|h| h.get("name").and_then(Value::as_str) == Some(name.as_str()));
        let index = match existing {
            Some(i) => i,
            None => {
                let Some((_, host_var, _)) = fields.iter().find(|(f, _, _)| *f == "address") else {
                    let vars: Vec<&str> = fields.iter().map(|(_, v, _)| *v).collect();
                    problems.push(format!(
                        "{}: no host named {name:?}: set SSH_{}_HOST too or add it to [[hosts]]",
                        vars.join(", "),
                        name.to_ascii_uppercase()
                    ));
                    continue;
                };
                let i = hosts.len();
                let path = vec!["hosts".to_string(), i.to_string(), "name".to_string()];
                set(
                    tree,
                    &path,
                    Value::String(name.clone()),
                    host_var,
                    problems,
                    origins,
                );
                origins.insert(format!("hosts[{i}]"), host_var.to_string());
                i
            }
        };
        for (field, var, raw) in fields {
            let path = vec!["hosts".to_string(), index.to_string(), field.to_string()];
            set(
                tree,
                &path,
                Value::String(raw.trim().to_string()),
                var,
                problems,
                origins,
            );
        }
    }
}

/// `JARVIS_*` variables without `__` that name a key.
const SHORT: &[(&str, &str)] = &[
    ("JARVIS_LISTEN", "server.listen"),
    ("JARVIS_DATA_DIR", "server.data_dir"),
    ("JARVIS_WEBHOOK_USER", "server.webhook_user"),
    ("JARVIS_WEBHOOK_PASSWORD", "server.webhook_password"),
];

/// Which variable set which key, to name it in error messages.
pub(crate) type Origins = BTreeMap<String, String>;

/// Applies the environment to `tree`. Problems name the variable.
pub(crate) fn overlay(tree: &mut Table, env: &Env, problems: &mut Vec<String>) -> Origins {
    let mut origins = Origins::new();
    for (var, key, conv) in LEGACY {
        let Some(raw) = env.get(*var).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let value = match conv {
            Conv::Same => literal(raw),
            Conv::HoursToSeconds => match raw.trim().parse::<f64>() {
                Ok(h) if h.is_finite() && h >= 0.0 => Value::Integer((h * 3600.0).round() as i64),
                _ => {
                    problems.push(format!("{var}: expected a number of hours, found {raw:?}"));
                    continue;
                }
            },
        };
        set(tree, &split(key), value, var, problems, &mut origins);
    }
    overlay_ssh_hosts(tree, env, problems, &mut origins);
    for (var, key) in SHORT {
        if let Some(raw) = env.get(*var).filter(|v| !v.trim().is_empty()) {
            set(tree, &split(key), literal(raw), var, problems, &mut origins);
        }
    }
    for (var, raw) in env {
        let Some(rest) = var.strip_prefix("JARVIS_") else {
            continue;
        };
        if !rest.contains("__") || raw.trim().is_empty() {
            continue;
        }
        let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        if path.iter().any(String::is_empty) {
            problems.push(format!(
                "{var}: expected JARVIS_SECTION__KEY with non-empty parts"
            ));
            continue;
        }
        set(tree, &path, literal(raw), var, problems, &mut origins);
    }
    origins
}

fn split(key: &str) -> Vec<String> {
    key.split('.').map(str::to_string).collect()
}

/// A TOML literal when the value is one (`5`, `true`, `["a", "b"]`), else the string itself.
pub(crate) fn literal(raw: &str) -> Value {
    let trimmed = raw.trim();
    if let Ok(mut table) = format!("v = {trimmed}").parse::<Table>()
        && let Some(value) = table.remove("v")
        && table.is_empty()
    {
        // Datetimes and bare strings stay what the operator typed.
        if !matches!(value, Value::Datetime(_)) {
            return value;
        }
    }
    Value::String(raw.to_string())
}

fn set(
    tree: &mut Table,
    path: &[String],
    value: Value,
    var: &str,
    problems: &mut Vec<String>,
    origins: &mut Origins,
) {
    let dotted = display_path(path);
    match set_in(tree, path, value) {
        Ok(()) => {
            origins.insert(dotted, var.to_string());
        }
        Err(why) => problems.push(format!("{var}: cannot set {dotted}: {why}")),
    }
}

fn display_path(path: &[String]) -> String {
    let mut out = String::new();
    for part in path {
        if part.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(part);
        }
    }
    out
}

fn set_in(tree: &mut Table, path: &[String], value: Value) -> Result<(), String> {
    let (first, rest) = path.split_first().ok_or("empty key")?;
    if rest.is_empty() {
        tree.insert(first.clone(), value);
        return Ok(());
    }
    let child = tree
        .entry(first.clone())
        .or_insert_with(|| empty_for(&rest[0]));
    set_value(child, rest, value)
}

fn empty_for(next: &str) -> Value {
    if next.bytes().all(|b| b.is_ascii_digit()) {
        Value::Array(Vec::new())
    } else {
        Value::Table(Table::new())
    }
}

fn set_value(node: &mut Value, path: &[String], value: Value) -> Result<(), String> {
    let (first, rest) = path.split_first().ok_or("empty key")?;
    match node {
        Value::Table(table) => {
            if rest.is_empty() {
                table.insert(first.clone(), value);
                Ok(())
            } else {
                let child = table
                    .entry(first.clone())
                    .or_insert_with(|| empty_for(&rest[0]));
                set_value(child, rest, value)
            }
        }
        Value::Array(items) => {
            let index: usize = first
                .parse()
                .map_err(|_| format!("`{first}` is not an index into a list"))?;
            if index > items.len() {
                return Err(format!(
                    "index {index} skips entries: the list has {} entries",
                    items.len()
                ));
            }
            if index == items.len() {
                items.push(if rest.is_empty() {
                    Value::Table(Table::new())
                } else {
                    empty_for(&rest[0])
                });
            }
            if rest.is_empty() {
                items[index] = value;
                Ok(())
            } else {
                set_value(&mut items[index], rest, value)
            }
        }
        other => Err(format!("it is {}, not a table", other.type_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn literals() {
        assert_eq!(literal("5"), Value::Integer(5));
        assert_eq!(literal("true"), Value::Boolean(true));
        assert_eq!(
            literal("http://x:9090"),
            Value::String("http://x:9090".into())
        );
        assert_eq!(
            literal(r#"["a", "b"]"#),
            Value::Array(vec!["a".into(), "b".into()])
        );
        assert_eq!(literal("2026-01-01"), Value::String("2026-01-01".into()));
    }

    #[test]
    fn jarvis_vars_beat_legacy_and_nest() {
        let mut tree = Table::new();
        let mut problems = Vec::new();
        let origins = overlay(
            &mut tree,
            &env(&[
                ("MAX_ATTEMPTS_PER_ALERT", "2"),
                ("JARVIS_PIPELINE__MAX_ATTEMPTS", "4"),
                ("ATTEMPT_WINDOW_HOURS", "1.5"),
                ("JARVIS_HOSTS__0__NAME", "web1"),
                ("JARVIS_HOME_ASSISTANT__URL", "http://ha:8123"),
                ("JARVIS_SAFETY__PROTECTED__UNITS", "[\"x\"]"),
                ("JARVIS_LOG", "debug"),
            ]),
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(tree["pipeline"]["max_attempts"], Value::Integer(4));
        assert_eq!(
            tree["pipeline"]["attempt_window_seconds"],
            Value::Integer(5400)
        );
        assert_eq!(tree["hosts"][0]["name"], Value::String("web1".into()));
        assert_eq!(
            tree["home_assistant"]["url"],
            Value::String("http://ha:8123".into())
        );
        assert_eq!(
            origins.get("pipeline.max_attempts").map(String::as_str),
            Some("JARVIS_PIPELINE__MAX_ATTEMPTS")
        );
        assert!(!tree.contains_key("log"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let mut tree: Table = "server = 3".parse().unwrap();
        let mut problems = Vec::new();
        overlay(
            &mut tree,
            &env(&[
                ("ATTEMPT_WINDOW_HOURS", "soon"),
                ("JARVIS_SERVER__LISTEN", "x"),
                ("JARVIS_HOSTS__5__NAME", "x"),
            ]),
            &mut problems,
        );
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("ATTEMPT_WINDOW_HOURS:"));
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("JARVIS_SERVER__LISTEN: cannot set server.listen"))
        );
        assert!(problems.iter().any(|p| p.contains("index 5 skips entries")));
    }
}
