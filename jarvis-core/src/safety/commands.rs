//! Per-program rules: wrappers that run another command (`sudo`, `env`,
//! `timeout`, `xargs`, `sh -c`, `ssh`...) and the table of leaf programs.
//!
//! The aim is no false allow: a program is allowed unattended only when the
//! rule below knows it is read-only or routine; anything unknown goes to
//! [`Cx::unclassified`].

use regex::RegexBuilder;

mod apps;
mod files;
mod network;
mod packages;
mod services;
mod table;
mod text;
mod wrappers;

use super::classify::{Arg, Cx, Env, Stdin, check_env_assignment, diag, program_name};
use super::rules::{self, normalize_path};
use super::{Decision, SafetyClass, Verdict};

// ---------------------------------------------------------------------------
// Option parsing

/// Arguments split into options and operands.
#[derive(Default)]
struct Opts {
    /// Option names as written: `-r` for each letter of a cluster, `--name` for long ones.
    flags: Vec<String>,
    /// Values of options that take one, by option name.
    values: Vec<(String, Arg)>,
    operands: Vec<Arg>,
    /// An argument that starts with `-` but is only known at run time.
    dynamic_flag: bool,
}

impl Opts {
    /// Parses `args`; `with_value` names the options (`-n`, `--lines`) whose
    /// value is attached or the next argument.
    fn parse(args: &[Arg], with_value: &[&str]) -> Opts {
        let mut o = Opts::default();
        let mut i = 0;
        let mut ended = false;
        while i < args.len() {
            let a = &args[i];
            i += 1;
            if ended {
                o.operands.push(a.clone());
                continue;
            }
            if a.dynamic {
                if a.text.starts_with('-') {
                    o.dynamic_flag = true;
                }
                o.operands.push(a.clone());
                continue;
            }
            let t = a.text.as_str();
            if t == "--" {
                ended = true;
            } else if let Some(long) = t.strip_prefix("--") {
                let (name, value) = match long.split_once('=') {
                    Some((n, v)) => (format!("--{n}"), Some(v)),
                    None => (t.to_string(), None),
                };
                if let Some(v) = value {
                    o.values.push((name.clone(), Arg::literal(v)));
                } else if with_value.contains(&name.as_str())
                    && let Some(v) = args.get(i)
                {
                    o.values.push((name.clone(), v.clone()));
                    i += 1;
                }
                o.flags.push(name);
            } else if t.len() > 1 && t.starts_with('-') {
                let letters: Vec<char> = t[1..].chars().collect();
                for (j, c) in letters.iter().enumerate() {
                    let name = format!("-{c}");
                    o.flags.push(name.clone());
                    if with_value.contains(&name.as_str()) {
                        let attached: String = letters[j + 1..].iter().collect();
                        if !attached.is_empty() {
                            o.values.push((name, Arg::literal(&attached)));
                        } else if let Some(v) = args.get(i) {
                            o.values.push((name, v.clone()));
                            i += 1;
                        }
                        break;
                    }
                }
            } else {
                o.operands.push(a.clone());
            }
        }
        o
    }

    fn has(&self, names: &[&str]) -> bool {
        self.flags.iter().any(|f| names.contains(&f.as_str()))
    }

    fn value(&self, names: &[&str]) -> Option<&Arg> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| names.contains(&n.as_str()))
            .map(|(_, v)| v)
    }

    fn all_values(&self, names: &[&str]) -> Vec<&Arg> {
        self.values
            .iter()
            .filter(|(n, _)| names.contains(&n.as_str()))
            .map(|(_, v)| v)
            .collect()
    }

    fn verb(&self) -> Option<&str> {
        self.operands.first().and_then(Arg::lit)
    }
}

/// Index of the first argument that is not an option of a wrapper, skipping
/// the values of `with_value` options (separate or attached).
fn skip_options(args: &[Arg], with_value: &[&str]) -> usize {
    let mut i = 0;
    while i < args.len() {
        let Some(t) = args[i].lit() else { return i };
        if t == "--" {
            return i + 1;
        }
        if t.starts_with("--") && t.len() > 2 {
            let takes = !t.contains('=') && with_value.contains(&t);
            i += if takes { 2 } else { 1 };
            continue;
        }
        if t.len() > 1 && t.starts_with('-') {
            let letters: Vec<char> = t[1..].chars().collect();
            let mut skip = 1;
            for (j, c) in letters.iter().enumerate() {
                if with_value.contains(&format!("-{c}").as_str()) {
                    if j + 1 == letters.len() {
                        skip = 2;
                    }
                    break;
                }
            }
            i += skip;
            continue;
        }
        return i;
    }
    args.len()
}

fn combine(parts: Vec<Verdict>, default: Verdict) -> Verdict {
    Verdict::combine(parts).unwrap_or(default)
}

fn lits(args: &[Arg]) -> Vec<&str> {
    args.iter().filter_map(Arg::lit).collect()
}

fn render(args: &[Arg]) -> String {
    args.iter().map(Arg::render).collect::<Vec<_>>().join(" ")
}

/// The literal text of every argument, or `None` when one is dynamic.
fn join_static(args: &[Arg]) -> Option<String> {
    args.iter()
        .map(|a| a.lit().map(str::to_string))
        .collect::<Option<Vec<_>>>()
        .map(|v| v.join(" "))
}

fn secretish_name(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    ["PASS", "SECRET", "TOKEN", "KEY", "CRED", "AUTH", "PRIVATE"]
        .iter()
        .any(|w| up.contains(w))
}

const DIAG_SECRET: SafetyClass = SafetyClass::Diagnostic;

fn secret_refuse(reason: impl Into<String>) -> Verdict {
    Verdict::refuse(rules::SECRET_READ, reason).with_class(DIAG_SECRET)
}

fn secret_approve(reason: impl Into<String>) -> Verdict {
    Verdict::approve(rules::SECRET_READ, reason).with_class(DIAG_SECRET)
}

fn streams(name: &str) -> Verdict {
    Verdict::approve(
        rules::UNCLASSIFIED,
        format!("`{name}` runs until stopped (interactive or following output)"),
    )
    .with_class(SafetyClass::Diagnostic)
}

/// Names whose verb is read-only.
fn diag_verb(name: &str, verb: &str) -> Verdict {
    Verdict::diagnostic(rules::DIAGNOSTIC, format!("`{name} {verb}` is read-only"))
}

/// Shell interpreters.
const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "fish", "rbash",
];

/// Script interpreters and the flags that pass them inline code.
const INTERPRETERS: &[(&str, &[&str])] = &[
    ("python", &["-c"]),
    ("python2", &["-c"]),
    ("python3", &["-c"]),
    ("pypy", &["-c"]),
    ("pypy3", &["-c"]),
    ("perl", &["-e", "-E"]),
    ("ruby", &["-e"]),
    ("node", &["-e", "-p", "--eval", "--print"]),
    ("nodejs", &["-e", "-p", "--eval", "--print"]),
    ("deno", &["eval"]),
    ("bun", &["-e", "--eval", "-p", "--print"]),
    ("php", &["-r", "-R", "-B", "-E", "-F"]),
    ("lua", &["-e"]),
    ("luajit", &["-e"]),
    ("Rscript", &["-e"]),
    ("tclsh", &[]),
    ("wish", &[]),
    ("expect", &["-c"]),
    ("osascript", &["-e"]),
    ("pwsh", &["-c", "-Command", "-command", "-EncodedCommand"]),
    ("groovy", &["-e"]),
    ("jshell", &[]),
];

/// Docker and Podman options that come before the subcommand and take a value.
const DOCKER_GLOBAL_VALUE: &[&str] = &[
    "-H",
    "--host",
    "-c",
    "--context",
    "--config",
    "-l",
    "--log-level",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
    "--url",
    "--connection",
    "--identity",
    "--root",
    "--runroot",
];
