//! Per-program rules: wrappers that run another command (`sudo`, `env`,
//! `timeout`, `xargs`, `sh -c`, `ssh`...) and the table of leaf programs.
//!
//! The aim is no false allow: a program is allowed unattended only when the
//! rule below knows it is read-only or routine; anything unknown goes to
//! [`Cx::unclassified`].

use regex::RegexBuilder;

use super::classify::{Arg, Cx, Env, Stdin, check_env_assignment, diag};
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
const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "fish", "rbash"];

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

// ---------------------------------------------------------------------------
// Wrappers and service scripts

impl<'a> Cx<'a> {
    /// `/etc/init.d/<service> start|stop|restart|status`.
    pub(super) fn service_script(&self, service: &str, rest: &[Arg]) -> Verdict {
        let service = rules::basename(service);
        match rest.first().and_then(Arg::lit) {
            None => diag(&format!("/etc/init.d/{service}")),
            Some(verb) => self.service_verb("/etc/init.d", verb, &[Arg::literal(service)]),
        }
    }

    /// Every protected name (units without `.service`, containers, processes).
    fn protected_names(&self) -> Vec<&'a str> {
        let p = &self.policy.protected;
        p.units
            .iter()
            .chain(&p.containers)
            .chain(&p.processes)
            .map(|n| n.strip_suffix(".service").unwrap_or(n))
            .collect()
    }

    /// A protected name that words of a substitution or pipeline mention.
    fn mentioned_protected(&self, mentions: &[String]) -> Option<String> {
        let names = self.protected_names();
        for m in mentions {
            let m = m.strip_suffix(".service").unwrap_or(m);
            if let Some(n) = names.iter().find(|n| **n == m || **n == rules::basename(m)) {
                return Some((*n).to_string());
            }
            if m.contains('/')
                && let Some(n) = self.protected_path(m)
            {
                return Some(n);
            }
        }
        None
    }

    pub(super) fn self_protect(&self, name: &str, what: &str) -> Verdict {
        Verdict::refuse(
            rules::SELF_PROTECTION,
            format!(
                "{what} `{name}` would stop, restart or remove Jarvis or its database mid-run; \
                 use the `SelfRestart` action (request_self_restart) instead"
            ),
        )
    }

    /// Commands that run another command. `None` when `name` is not a wrapper.
    pub(super) fn wrapper(
        &self,
        name: &str,
        rest: &[Arg],
        env: &mut Env,
        stdin: &Stdin,
    ) -> Option<Verdict> {
        let v = match name {
            "sudo" => self.sudo(rest, env, stdin),
            "sudoedit" => self.edit_files("sudoedit", rest),
            "doas" => {
                if rest.first().is_some_and(|a| a.is("-C")) {
                    return Some(diag("doas -C"));
                }
                let i = skip_options(rest, &["-u", "-C"]);
                if rest[..i].iter().any(|a| a.is("-s")) && i == rest.len() {
                    self.script_from_stdin("`doas -s`", stdin)
                } else {
                    self.argv(&rest[i..], env, stdin)
                }
            }
            "env" => self.env_wrapper(rest, env, stdin),
            "nohup" | "builtin" => self.argv(&rest[skip_options(rest, &[])..], env, stdin),
            "setsid" => self.argv(&rest[skip_options(rest, &[])..], env, stdin),
            "exec" => self.argv(&rest[skip_options(rest, &["-a"])..], env, stdin),
            "command" => {
                let i = skip_options(rest, &[]);
                if rest[..i].iter().any(|a| a.is("-v") || a.is("-V")) {
                    diag("command -v")
                } else {
                    self.argv(&rest[i..], env, stdin)
                }
            }
            "time" => {
                let o = Opts::parse(rest, &["-f", "-o", "--format", "--output"]);
                let i = skip_options(rest, &["-f", "-o", "--format", "--output"]);
                let mut parts = vec![self.argv(&rest[i..], env, stdin)];
                if let Some(out) = o.value(&["-o", "--output"]) {
                    parts.push(self.write_target(&self.resolve(out, env), "`time` writes to"));
                }
                combine(parts, diag("time"))
            }
            "nice" => {
                let i = skip_options_numeric(rest, &["-n", "--adjustment"]);
                if i == rest.len() {
                    diag("nice")
                } else {
                    self.argv(&rest[i..], env, stdin)
                }
            }
            "ionice" => {
                let i = skip_options(rest, &["-c", "-n", "-p", "-P", "-u", "--class", "--classdata", "--pid", "--pgid", "--uid"]);
                if rest[..i].iter().any(|a| {
                    a.lit().is_some_and(|t| {
                        t.starts_with("-p") || t.starts_with("-P") || t.starts_with("-u") || t.starts_with("--p") || t.starts_with("--uid")
                    })
                }) {
                    Verdict::approve(rules::PROCESS_KILL, "`ionice -p` changes the I/O priority of running processes")
                } else if i == rest.len() {
                    diag("ionice")
                } else {
                    self.argv(&rest[i..], env, stdin)
                }
            }
            "chrt" | "taskset" => {
                let i = skip_options(rest, &["-T", "-P", "-D", "--sched-runtime", "--sched-period", "--sched-deadline"]);
                if rest[..i].iter().any(|a| a.is("-p") || a.is("--pid") || a.is("-ap") || a.is("-pa")) {
                    Verdict::approve(rules::PROCESS_KILL, format!("`{name} -p` changes scheduling of running processes"))
                } else if rest[..i].iter().any(|a| a.is("-m") || a.is("--max")) || i == rest.len() {
                    diag(name)
                } else {
                    // The priority (chrt) or CPU mask (taskset) comes before the command.
                    self.argv(rest.get(i + 1..).unwrap_or(&[]), env, stdin)
                }
            }
            "stdbuf" => {
                let i = skip_options(rest, &["-i", "-o", "-e", "--input", "--output", "--error"]);
                self.argv(&rest[i..], env, stdin)
            }
            "timeout" => {
                let i = skip_options(rest, &["-s", "-k", "--signal", "--kill-after"]);
                self.argv(rest.get(i + 1..).unwrap_or(&[]), env, stdin)
            }
            "flock" => self.flock(rest, env, stdin),
            "watch" => self.watch(rest, env, stdin),
            "xargs" => self.xargs(rest, env, stdin),
            "busybox" => {
                if rest.is_empty() {
                    diag("busybox")
                } else {
                    self.argv(rest, env, stdin)
                }
            }
            n if SHELLS.contains(&n) => self.shell(n, rest, stdin),
            "su" => self.su(rest, stdin),
            "runuser" => {
                let o = Opts::parse(rest, &["-u", "--user", "-g", "-G", "-s", "-c", "--command", "-w", "--group", "--supp-group", "--shell"]);
                if o.value(&["-u", "--user"]).is_some() {
                    let i = skip_options(rest, &["-u", "--user", "-g", "-G", "-w", "--group", "--supp-group"]);
                    self.argv(&rest[i..], env, stdin)
                } else {
                    self.su(rest, stdin)
                }
            }
            "eval" => match join_static(rest) {
                Some(code) if !code.trim().is_empty() => self.shell_text(&code, stdin, "`eval`"),
                Some(_) => diag("eval"),
                None => Verdict::refuse(
                    rules::DYNAMIC_COMMAND,
                    format!("`eval {}` runs a command built at run time", render(rest)),
                ),
            },
            "source" | "." => Verdict::refuse(
                rules::DYNAMIC_COMMAND,
                format!("`{name} {}` runs a file's contents, which are not known here", render(rest)),
            ),
            "fc" => Verdict::refuse(rules::DYNAMIC_COMMAND, "`fc` re-runs commands from the shell history"),
            "ssh" => self.ssh(rest, stdin),
            "chroot" => {
                let i = skip_options(rest, &["--userspec", "--groups"]);
                match rest.get(i + 1..) {
                    Some(cmd) if !cmd.is_empty() => self.argv(cmd, env, stdin),
                    _ => self.script_from_stdin("`chroot`", stdin),
                }
            }
            "nsenter" => {
                let i = skip_options(rest, &["-t", "--target", "-S", "--setuid", "-G", "--setgid"]);
                if i == rest.len() {
                    self.script_from_stdin("`nsenter`", stdin)
                } else {
                    self.argv(&rest[i..], env, stdin)
                }
            }
            "ip" if rest.iter().position(|a| a.lit().is_some_and(|t| !t.starts_with('-'))).is_some_and(|i| {
                rest[i].is("netns") && rest.get(i + 1).is_some_and(|a| a.is("exec"))
            }) =>
            {
                let i = rest.iter().position(|a| a.is("exec")).unwrap_or(0);
                self.argv(rest.get(i + 2..).unwrap_or(&[]), env, stdin)
            }
            "docker" | "podman" | "nerdctl" => return self.container_exec(name, rest, env, stdin),
            _ => return None,
        };
        Some(v)
    }

    /// A relative static path joined to the known working directory.
    fn resolve(&self, arg: &Arg, env: &Env) -> Arg {
        let t = &arg.text;
        match &env.cwd {
            Some(cwd) if !t.starts_with('/') && !t.starts_with('~') && !t.starts_with('*') => Arg {
                text: normalize_path(&format!("{cwd}/{t}")),
                ..arg.clone()
            },
            _ => arg.clone(),
        }
    }

    fn sudo(&self, rest: &[Arg], env: &mut Env, stdin: &Stdin) -> Verdict {
        const VALUE: &[&str] = &[
            "-C", "-D", "-g", "-h", "-p", "-r", "-t", "-T", "-U", "-u", "--close-from", "--chdir",
            "--group", "--host", "--prompt", "--role", "--type", "--other-user", "--user",
            "--command-timeout",
        ];
        let i = skip_options(rest, VALUE);
        let o = Opts::parse(&rest[..i], VALUE);
        if o.has(&["-l", "--list", "-v", "--validate", "-k", "-K", "--reset-timestamp", "--remove-timestamp", "-V", "--version", "-h", "--help"])
            && !o.has(&["-e", "--edit"])
        {
            return diag("sudo -l");
        }
        let mut parts = Vec::new();
        let mut j = i;
        while let Some(a) = rest.get(j).and_then(Arg::lit) {
            if a.contains('=') && !a.starts_with('=') && a.split('=').next().is_some_and(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
                parts.extend(check_env_assignment(a));
                j += 1;
            } else {
                break;
            }
        }
        let cmd = &rest[j..];
        if o.has(&["-e", "--edit"]) {
            parts.push(self.edit_files("sudo -e", cmd));
        } else if cmd.is_empty() {
            if o.has(&["-i", "-s", "--login", "--shell"]) {
                parts.push(self.script_from_stdin("`sudo -i`/`sudo -s`", stdin));
            } else {
                parts.push(diag("sudo"));
            }
        } else {
            let mut inner = env.clone();
            if o.value(&["-D", "--chdir"]).is_some() {
                inner.cwd = None;
            }
            parts.push(self.argv(cmd, &mut inner, stdin));
        }
        combine(parts, diag("sudo"))
    }

    /// `sudo -e` / `sudoedit`: an editor on files, as root.
    fn edit_files(&self, what: &str, files: &[Arg]) -> Verdict {
        let mut parts: Vec<Verdict> = files
            .iter()
            .filter(|a| !a.text.starts_with('-'))
            .map(|a| self.write_target(a, &format!("`{what}` edits")))
            .collect();
        parts.push(Verdict::approve(rules::FILE_WRITE, format!("`{what}` opens an editor")));
        combine(parts, diag(what))
    }

    fn env_wrapper(&self, rest: &[Arg], env: &mut Env, stdin: &Stdin) -> Verdict {
        let mut parts = Vec::new();
        let mut i = 0;
        let mut clean = false;
        let mut inner_env = env.clone();
        let mut split: Option<Arg> = None;
        while let Some(a) = rest.get(i) {
            let Some(t) = a.lit() else { break };
            i += 1;
            match t {
                "-i" | "--ignore-environment" | "-" => clean = true,
                "-0" | "--null" | "-v" | "--debug" => {}
                "-u" | "--unset" => i += 1,
                "-C" | "--chdir" => {
                    inner_env.cwd = rest.get(i).and_then(Arg::lit).map(|d| {
                        if d.starts_with('/') {
                            normalize_path(d)
                        } else {
                            String::new()
                        }
                    });
                    if inner_env.cwd.as_deref() == Some("") {
                        inner_env.cwd = None;
                    }
                    i += 1;
                }
                "-S" | "--split-string" => {
                    split = rest.get(i).cloned();
                    i += 1;
                    break;
                }
                "--" => break,
                t if t.starts_with("--split-string=") => {
                    split = Some(Arg::literal(&t["--split-string=".len()..]));
                    break;
                }
                t if t.starts_with("-S") && t.len() > 2 => {
                    split = Some(Arg::literal(&t[2..]));
                    break;
                }
                t if t.starts_with("--unset=") || t.starts_with("--chdir=") || t.starts_with("-u") => {
                    if t.starts_with("--chdir=") {
                        inner_env.cwd = None;
                    }
                }
                t if t.starts_with("--") => {}
                t if t.starts_with('-') && t.len() > 1 => {
                    if t.contains('i') {
                        clean = true;
                    }
                }
                _ => {
                    i -= 1;
                    break;
                }
            }
        }
        while let Some(a) = rest.get(i) {
            let Some(t) = a.lit() else { break };
            if t.contains('=') && !t.starts_with('=') {
                parts.extend(check_env_assignment(t));
                i += 1;
            } else {
                break;
            }
        }
        if let Some(s) = split {
            let Some(head) = s.lit() else {
                parts.push(Verdict::refuse(rules::DYNAMIC_COMMAND, "`env -S` splits a string built at run time"));
                return combine(parts, diag("env"));
            };
            let Some(tail) = join_static(&rest[i..]) else {
                parts.push(Verdict::refuse(rules::DYNAMIC_COMMAND, "`env -S` with arguments built at run time"));
                return combine(parts, diag("env"));
            };
            parts.push(self.shell_text(&format!("{head} {tail}"), stdin, "`env -S`"));
            return combine(parts, diag("env"));
        }
        let cmd = &rest[i..];
        if cmd.is_empty() {
            if !clean {
                parts.push(secret_refuse(
                    "`env` without a command prints the whole environment, which holds credentials",
                ));
            }
            return combine(parts, diag("env"));
        }
        parts.push(self.argv(cmd, &mut inner_env, stdin));
        combine(parts, diag("env"))
    }

    fn flock(&self, rest: &[Arg], env: &mut Env, stdin: &Stdin) -> Verdict {
        let mut i = 0;
        let mut have_file = false;
        while let Some(a) = rest.get(i) {
            let Some(t) = a.lit() else {
                if have_file {
                    break;
                }
                have_file = true;
                i += 1;
                continue;
            };
            if t == "-c" || t == "--command" {
                return match rest.get(i + 1) {
                    Some(code) => self.shell_string(code, stdin, "`flock -c`"),
                    None => diag("flock"),
                };
            }
            if matches!(t, "-w" | "--timeout" | "-E" | "--conflict-exit-code") {
                i += 2;
                continue;
            }
            if t == "--" {
                i += 1;
                break;
            }
            if t.starts_with('-') && t.len() > 1 {
                i += 1;
                continue;
            }
            if have_file {
                break;
            }
            have_file = true;
            i += 1;
        }
        if i >= rest.len() {
            return Verdict::diagnostic(rules::DIAGNOSTIC, "`flock` on a descriptor takes a lock");
        }
        self.argv(&rest[i..], env, stdin)
    }

    fn watch(&self, rest: &[Arg], env: &mut Env, stdin: &Stdin) -> Verdict {
        const VALUE: &[&str] = &["-n", "--interval", "-d", "-q", "--equexit", "-s", "--shell"];
        let i = skip_options(rest, &["-n", "--interval", "-q", "--equexit"]);
        let exec = rest[..i].iter().any(|a| a.is("-x") || a.is("--exec"));
        let _ = VALUE;
        let cmd = &rest[i..];
        let inner = if cmd.is_empty() {
            diag("watch")
        } else if exec {
            self.argv(cmd, env, stdin)
        } else {
            match join_static(cmd) {
                Some(code) => self.shell_text(&code, &Stdin::Inherit, "`watch`"),
                None => Verdict::refuse(rules::DYNAMIC_COMMAND, "`watch` runs a command string built at run time"),
            }
        };
        combine(vec![inner, streams("watch")], diag("watch"))
    }

    fn xargs(&self, rest: &[Arg], env: &mut Env, stdin: &Stdin) -> Verdict {
        const VALUE: &[&str] = &[
            "-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file", "--delimiter", "--max-lines",
            "--max-args", "--max-procs", "--max-chars", "--process-slot-var",
        ];
        let i = skip_options(rest, VALUE);
        let o = Opts::parse(&rest[..i], VALUE);
        let mut mentions = match stdin {
            Stdin::Pipe { mentions } => mentions.clone(),
            Stdin::File(p) => vec![p.clone()],
            _ => Vec::new(),
        };
        let mut parts = Vec::new();
        if let Some(f) = o.value(&["-a", "--arg-file"]) {
            parts.extend(self.read_file(f));
            mentions.extend(f.lit().map(str::to_string));
        }
        let replace = o
            .value(&["-I"])
            .and_then(Arg::lit)
            .map(str::to_string)
            .or_else(|| {
                rest[..i].iter().find_map(|a| {
                    let t = a.lit()?;
                    if t == "-i" {
                        Some("{}".to_string())
                    } else {
                        t.strip_prefix("-i").or_else(|| t.strip_prefix("--replace=")).map(str::to_string)
                    }
                })
            });
        let mut cmd: Vec<Arg> = if i == rest.len() {
            vec![Arg::literal("echo")]
        } else {
            rest[i..].to_vec()
        };
        let input = Arg::unknown(mentions);
        match replace {
            Some(r) if !r.is_empty() => {
                for a in cmd.iter_mut().skip(1) {
                    if a.text.contains(r.as_str()) {
                        *a = Arg {
                            text: a.text.replace(r.as_str(), "*"),
                            dynamic: true,
                            glob: true,
                            mentions: input.mentions.clone(),
                        };
                    }
                }
            }
            _ => cmd.push(input),
        }
        parts.push(self.argv(&cmd, env, &Stdin::Inherit));
        combine(parts, diag("xargs"))
    }

    fn shell(&self, name: &str, rest: &[Arg], stdin: &Stdin) -> Verdict {
        let mut i = 0;
        let mut command = false;
        let mut from_stdin = false;
        while let Some(a) = rest.get(i) {
            let Some(t) = a.lit() else { break };
            if t == "--" || t == "-" {
                i += 1;
                break;
            }
            if let Some(long) = t.strip_prefix("--") {
                i += if matches!(long, "rcfile" | "init-file") { 2 } else { 1 };
                continue;
            }
            if (t.starts_with('-') || t.starts_with('+')) && t.len() > 1 {
                let mut value = false;
                for c in t[1..].chars() {
                    match c {
                        'c' => command = true,
                        's' => from_stdin = true,
                        'o' | 'O' => value = true,
                        _ => {}
                    }
                }
                i += if value { 2 } else { 1 };
                continue;
            }
            break;
        }
        let operands = rest.get(i..).unwrap_or(&[]);
        let what = format!("`{name}`");
        if command {
            return match operands.first() {
                Some(code) => self.shell_string(code, stdin, &format!("`{name} -c`")),
                None => Verdict::refuse(rules::UNPARSEABLE, format!("`{name} -c` without a command string")),
            };
        }
        if !from_stdin && let Some(script) = operands.first() {
            if script.dynamic {
                return if script.mentions.iter().any(|m| !m.starts_with('$')) {
                    Verdict::refuse(
                        rules::PIPE_TO_SHELL,
                        format!("{what} runs a script produced by `{}`", script.mentions.join(" ")),
                    )
                } else {
                    Verdict::refuse(rules::DYNAMIC_COMMAND, format!("{what} runs a script only known at run time"))
                };
            }
            if matches!(script.text.as_str(), "/dev/stdin" | "/proc/self/fd/0" | "/dev/fd/0") {
                return self.script_from_stdin(&what, stdin);
            }
            return self.unclassified(format!("{what} runs script `{}`, whose contents are not known here", script.text));
        }
        self.script_from_stdin(&what, stdin)
    }

    /// A shell (or interpreter) that reads its program from standard input.
    fn script_from_stdin(&self, what: &str, stdin: &Stdin) -> Verdict {
        match stdin {
            Stdin::Pipe { mentions } => Verdict::refuse(
                rules::PIPE_TO_SHELL,
                format!(
                    "{what} runs a script read from a pipe (`{}`): downloaded or decoded code is never run",
                    mentions.join(" ")
                ),
            ),
            Stdin::Text(Some(code)) => self.shell_text(code, &Stdin::Inherit, what),
            Stdin::Text(None) => Verdict::refuse(
                rules::DYNAMIC_COMMAND,
                format!("{what} runs a here-document built at run time"),
            ),
            Stdin::File(p) => self.unclassified(format!("{what} runs script `{p}`, whose contents are not known here")),
            Stdin::Inherit => self.unclassified(format!("{what} starts an interactive shell")),
        }
    }

    fn su(&self, rest: &[Arg], stdin: &Stdin) -> Verdict {
        let o = Opts::parse(
            rest,
            &["-c", "--command", "--session-command", "-s", "--shell", "-g", "--group", "-G", "--supp-group", "-w", "--whitelist-environment"],
        );
        match o.value(&["-c", "--command", "--session-command"]) {
            Some(code) => self.shell_string(code, stdin, "`su -c`"),
            None => self.script_from_stdin("`su`", stdin),
        }
    }

    fn ssh(&self, rest: &[Arg], stdin: &Stdin) -> Verdict {
        const VALUE: &[&str] = &[
            "-b", "-c", "-D", "-E", "-e", "-F", "-I", "-i", "-J", "-L", "-l", "-m", "-O", "-o", "-p",
            "-Q", "-R", "-S", "-W", "-w", "-B",
        ];
        let o = Opts::parse(rest, VALUE);
        if o.has(&["-V", "-G"]) && o.operands.len() <= 1 {
            return diag("ssh -V");
        }
        let Some(host) = o.operands.first() else {
            return diag("ssh");
        };
        let cmd = &o.operands[1..];
        let approve = Verdict::approve(
            rules::REMOTE_EXEC,
            format!("runs commands on another machine (`{}`)", host.text),
        );
        if cmd.is_empty() {
            return combine(
                vec![approve, self.script_from_stdin_remote(stdin)],
                Verdict::approve(rules::REMOTE_EXEC, "ssh"),
            );
        }
        let inner = match join_static(cmd) {
            Some(code) => self.shell_text(&code, &Stdin::Inherit, "`ssh` remote command"),
            None => Verdict::refuse(rules::DYNAMIC_COMMAND, "`ssh` runs a remote command built at run time"),
        };
        combine(vec![approve, inner], Verdict::approve(rules::REMOTE_EXEC, "ssh"))
    }

    fn script_from_stdin_remote(&self, stdin: &Stdin) -> Verdict {
        match stdin {
            Stdin::Inherit | Stdin::File(_) => {
                Verdict::approve(rules::REMOTE_EXEC, "opens a remote shell")
            }
            _ => self.script_from_stdin("`ssh` (remote shell)", stdin),
        }
    }

    /// `docker exec CONTAINER cmd...` (and `docker container exec`).
    fn container_exec(&self, name: &str, rest: &[Arg], env: &mut Env, stdin: &Stdin) -> Option<Verdict> {
        let g = skip_options(rest, DOCKER_GLOBAL_VALUE);
        let mut i = g;
        if rest.get(i).is_some_and(|a| a.is("container")) {
            i += 1;
        }
        if !rest.get(i).is_some_and(|a| a.is("exec")) {
            return None;
        }
        let i = i + 1;
        let j = i + skip_options(
            &rest[i..],
            &["-e", "--env", "--env-file", "-u", "--user", "-w", "--workdir", "--detach-keys"],
        );
        let Some(container) = rest.get(j) else {
            return Some(diag(name));
        };
        let cmd = &rest[j + 1..];
        let mut parts = Vec::new();
        if container.dynamic {
            parts.push(Verdict::approve(
                rules::CONTAINER_CONTROL,
                format!("`{name} exec` in a container only known at run time"),
            ));
        }
        let mut inner_env = Env {
            cwd: None,
            functions: env.functions.clone(),
        };
        parts.push(if cmd.is_empty() {
            Verdict::refuse(rules::UNPARSEABLE, format!("`{name} exec` without a command"))
        } else {
            self.argv(cmd, &mut inner_env, stdin)
        });
        Some(combine(parts, diag(name)))
    }
}

/// `nice -n 10`, `nice -10`, `nice --adjustment=5`.
fn skip_options_numeric(args: &[Arg], with_value: &[&str]) -> usize {
    let mut i = 0;
    while let Some(t) = args.get(i).and_then(Arg::lit) {
        if t == "--" {
            return i + 1;
        }
        if with_value.contains(&t) {
            i += 2;
        } else if t.starts_with('-') && t.len() > 1 {
            i += 1;
        } else {
            break;
        }
    }
    i.min(args.len())
}

const DOCKER_GLOBAL_VALUE: &[&str] = &[
    "-H", "--host", "-c", "--context", "--config", "-l", "--log-level", "--tlscacert", "--tlscert",
    "--tlskey", "--url", "--connection", "--identity", "--root", "--runroot",
];

// ---------------------------------------------------------------------------
// Leaf programs

/// Programs that only print information about the system, whatever their arguments.
const READ_ONLY: &[&str] = &[
    "true", "false", ":", "test", "[", "[[", "sleep", "seq", "expr", "yes", "pwd", "wait", "exit",
    "return", "shift", "unset", "read", "mapfile", "readarray", "let", "getopts", "jobs", "fg",
    "bg", "disown", "times", "caller", "umask", "ulimit", "shopt", "type", "which", "whereis",
    "help", "compgen", "complete", "basename", "dirname", "realpath", "readlink", "tty", "arch",
    "nproc", "clear", "tput", "unalias", "dirs", "logger", "sync", "ls", "ll", "dir", "stat", "file",
    "df", "du", "free", "uptime", "ps", "pstree", "pgrep", "pidof", "uname", "id", "whoami",
    "groups", "users", "w", "who", "last", "lastb", "lastlog", "cal", "vmstat", "iostat", "mpstat",
    "pidstat", "sar", "dstat", "numastat", "lsblk", "blkid", "findmnt", "lscpu", "lsusb", "lspci",
    "lsmem", "lshw", "lsmod", "modinfo", "lsattr", "lsns", "lsipc", "lslocks", "sensors", "ss",
    "netstat", "lsof", "traceroute", "traceroute6", "tracepath", "dig", "nslookup", "host",
    "drill", "whois", "getconf", "locale", "printenv_", "systemd-cgtop", "systemd-analyze",
    "systemd-detect-virt", "systemd-cgls", "pvs", "vgs", "lvs", "pvdisplay", "vgdisplay",
    "lvdisplay", "lvscan", "vgscan", "pvscan", "nvme", "iw", "iwconfig", "ethtool_", "atq",
    "md5sum_", "timeout_", "mountpoint", "namei", "pwdx", "chage_", "hostid", "env_", "sha1sum_",
    "pg_isready", "cksum_", "showmount", "nfsstat", "exportfs_", "rpcinfo", "arp_", "route_",
    "slabtop_", "free_", "zramctl_", "swaplabel_", "tree", "sum", "ldd", "objdump", "nm", "readelf",
];

/// Programs that print the contents of their file operands.
const CONTENT_READERS: &[&str] = &[
    "cat", "head", "tail", "less", "more", "most", "tac", "nl", "od", "hexdump", "hd", "strings",
    "wc", "uniq", "cut", "column", "diff", "diff3", "sdiff", "cmp", "comm", "md5sum", "sha1sum",
    "sha224sum", "sha256sum", "sha384sum", "sha512sum", "b2sum", "cksum", "zcat", "bzcat", "xzcat",
    "zstdcat", "lz4cat", "zless", "zmore", "zdiff", "base64", "base32", "basenc", "fold", "fmt",
    "paste", "join", "expand", "unexpand", "rev", "look", "iconv", "dos2unix_", "xmllint", "view",
    "bat", "batcat", "ccat", "pr", "tsort", "shuf", "numfmt",
];

impl<'a> Cx<'a> {
    /// The per-program table.
    pub(super) fn leaf(&self, name: &str, rest: &[Arg], env: &mut Env, stdin: &Stdin) -> Verdict {
        let Some(v) = self.leaf_known(name, rest, env, stdin) else {
            return self.unclassified(format!("`{name}` is not a program the safety rules know"));
        };
        v
    }

    fn leaf_known(&self, name: &str, rest: &[Arg], env: &mut Env, stdin: &Stdin) -> Option<Verdict> {
        if let Some(family) = name.strip_prefix("mkfs").or_else(|| name.strip_prefix("mkfs.")) {
            let _ = family;
            return Some(Verdict::refuse(
                rules::DISK_DESTROY,
                format!("`{name}` formats a filesystem, destroying what is on the device"),
            ));
        }
        if let Some((_, code_flags)) = INTERPRETERS
            .iter()
            .find(|(n, _)| *n == name || (name.starts_with(n) && name[n.len()..].chars().all(|c| c.is_ascii_digit() || c == '.')))
        {
            return Some(self.interpreter(name, code_flags, rest, stdin));
        }
        let v = match name {
            n if READ_ONLY.contains(&n) => self.read_only(n, rest),
            n if CONTENT_READERS.contains(&n) => self.content_reader(n, rest, env),
            "echo" | "printf" => self.echo(name, rest),
            "cd" | "pushd" => {
                env.cwd = self.new_cwd(rest, env);
                diag(name)
            }
            "popd" => {
                env.cwd = None;
                diag(name)
            }
            "grep" | "egrep" | "fgrep" | "zgrep" | "zegrep" | "zfgrep" | "rg" | "ag" | "ack" => {
                self.grep(name, rest, env)
            }
            "sort" => {
                let o = Opts::parse(rest, &["-o", "--output", "-k", "--key", "-t", "--field-separator", "-S", "--buffer-size", "-T", "--temporary-directory", "--parallel", "--files0-from", "--batch-size", "--compress-program"]);
                let mut parts = self.read_files(o.operands.iter());
                if let Some(out) = o.value(&["-o", "--output"]) {
                    parts.push(self.write_target(&self.resolve(out, env), "`sort -o` writes to"));
                }
                if o.value(&["--compress-program"]).is_some() {
                    parts.push(Verdict::approve(rules::INTERPRETER_CODE, "`sort --compress-program` runs a program"));
                }
                combine(parts, diag(name))
            }
            "tr" => diag(name),
            "xxd" => {
                let o = Opts::parse(rest, &["-c", "-g", "-l", "-o", "-s", "-n", "-C", "-cols", "-len", "-seek"]);
                let mut parts = self.read_files(o.operands.first());
                if let Some(out) = o.operands.get(1) {
                    parts.push(self.write_target(&self.resolve(out, env), "`xxd` writes to"));
                }
                combine(parts, diag(name))
            }
            "jq" | "yq" | "gojq" | "jaq" => self.jq(name, rest),
            "awk" | "gawk" | "mawk" | "nawk" | "busybox-awk" => self.awk(name, rest, env),
            "sed" | "gsed" => self.sed(name, rest, env),
            "find" => self.find(rest, env, stdin),
            "top" | "atop" | "btop" | "glances" | "iotop" | "iftop" | "nethogs" | "bmon" | "nload" => {
                let batch = rest.iter().any(|a| {
                    a.lit().is_some_and(|t| {
                        t == "-b" || t == "--batch" || (t.starts_with('-') && !t.starts_with("--") && t.contains('b'))
                    })
                });
                if batch && matches!(name, "top" | "iotop") {
                    diag(name)
                } else {
                    streams(name)
                }
            }
            "htop" | "nmon" | "vim" | "vi" | "nano" | "emacs" | "mc" | "tmux" | "screen" | "byobu" => {
                if rest.iter().any(|a| a.is("--version") || a.is("-V") || (name == "tmux" && (a.is("ls") || a.is("list-sessions")))) {
                    diag(name)
                } else if matches!(name, "vim" | "vi" | "nano" | "emacs") {
                    let mut parts: Vec<Verdict> = rest
                        .iter()
                        .filter(|a| !a.text.starts_with(['-', '+']))
                        .map(|a| self.write_target(&self.resolve(a, env), &format!("`{name}` edits")))
                        .collect();
                    parts.push(Verdict::approve(rules::FILE_WRITE, format!("`{name}` is an interactive editor")));
                    combine(parts, diag(name))
                } else {
                    streams(name)
                }
            }
            "hostname" => self.hostname(rest),
            "hostnamectl" => match Opts::parse(rest, &["-H", "--host", "-M", "--machine"]).verb() {
                None | Some("status") => diag(name),
                Some(v) if v.starts_with("set-") || v == "hostname" && rest.len() > 1 => {
                    Verdict::refuse(rules::NETWORK_CHANGE, format!("`hostnamectl {v}` changes the host's name"))
                }
                Some(v) if matches!(v, "hostname" | "icon-name" | "chassis" | "deployment" | "location") => diag_verb(name, v),
                Some(v) => Verdict::approve(rules::NETWORK_CHANGE, format!("`hostnamectl {v}`")),
            },
            "date" => {
                let o = Opts::parse(rest, &["-d", "--date", "-f", "--file", "-r", "--reference", "-I", "--iso-8601", "--rfc-3339"]);
                if o.has(&["-s", "--set"]) || o.operands.iter().any(|a| a.lit().is_some_and(|t| !t.starts_with('+'))) {
                    Verdict::approve(rules::SYSTEM_WRITE, "`date -s` sets the system clock")
                } else {
                    diag(name)
                }
            }
            "timedatectl" => match Opts::parse(rest, &["-H", "--host", "-M", "--machine", "-p", "--property"]).verb() {
                None | Some("status" | "show" | "list-timezones" | "timesync-status" | "show-timesync") => diag(name),
                Some(v) => Verdict::approve(rules::SYSTEM_WRITE, format!("`timedatectl {v}` changes time settings")),
            },
            "hwclock" => {
                if rest.iter().any(|a| a.is("-r") || a.is("--show") || a.is("--get")) || rest.is_empty() {
                    diag(name)
                } else {
                    Verdict::approve(rules::SYSTEM_WRITE, "`hwclock` sets the hardware clock")
                }
            }
            "printenv" => {
                let names = lits(rest);
                if rest.iter().all(|a| a.text.starts_with('-')) {
                    secret_refuse("`printenv` without a name prints the whole environment, which holds credentials")
                } else if rest.iter().any(|a| a.dynamic) || names.iter().any(|n| secretish_name(n)) {
                    secret_refuse(format!("`printenv {}` prints what looks like a credential", render(rest)))
                } else {
                    diag(name)
                }
            }
            "set" => {
                if rest.is_empty() {
                    secret_refuse("`set` without arguments prints every shell variable, including credentials")
                } else {
                    diag(name)
                }
            }
            "export" | "declare" | "typeset" | "local" | "readonly" => self.declare(name, rest),
            "alias" => {
                if rest.iter().any(|a| a.text.contains('=')) {
                    Verdict::refuse(rules::DYNAMIC_COMMAND, "`alias` redefines what a command name runs")
                } else {
                    diag(name)
                }
            }
            "enable" => {
                if rest.iter().any(|a| a.is("-f")) {
                    Verdict::refuse(rules::DYNAMIC_COMMAND, "`enable -f` loads a builtin from a shared object")
                } else {
                    Verdict::approve(rules::DYNAMIC_COMMAND, "`enable` changes which builtins run")
                }
            }
            "hash" => {
                if rest.iter().any(|a| a.is("-p")) {
                    Verdict::refuse(rules::ENV_HIJACK, "`hash -p` changes what a command name runs")
                } else {
                    diag(name)
                }
            }
            "trap" => {
                let o = Opts::parse(rest, &[]);
                if o.has(&["-l", "-p"]) || o.operands.len() < 2 {
                    diag(name)
                } else {
                    self.shell_string(&o.operands[0], &Stdin::Inherit, "`trap` handler")
                }
            }
            "history" => secret_refuse("`history` reads shell history, which often holds passwords and tokens"),
            "getent" => {
                let db = Opts::parse(rest, &["-s", "--service"]).verb().map(str::to_string);
                match db.as_deref() {
                    Some("shadow" | "gshadow") => secret_refuse(format!("`getent {}` prints password hashes", db.unwrap_or_default())),
                    _ => diag(name),
                }
            }
            "journalctl" => self.journalctl(rest),
            "systemctl" => self.systemctl(rest),
            "service" => self.service(rest),
            "docker" | "podman" | "nerdctl" => self.docker(name, rest, env),
            "docker-compose" | "podman-compose" => self.compose(name, rest, env),
            "kubectl" | "k3s" | "oc" | "microk8s.kubectl" => self.kubectl(name, rest, env, stdin),
            "rm" => self.rm(rest, env),
            "rmdir" => {
                let o = Opts::parse(rest, &[]);
                let parts: Vec<Verdict> = o
                    .operands
                    .iter()
                    .map(|a| {
                        let v = self.remove_target(&self.resolve(a, env), "`rmdir` removes");
                        if v.decision == Decision::Allow {
                            v
                        } else {
                            combine(vec![v, Verdict::approve(rules::FILE_DELETE, "`rmdir` removes a directory")], diag("rmdir"))
                        }
                    })
                    .collect();
                combine(parts, diag(name))
            }
            "unlink" => combine(
                rest.iter().filter(|a| !a.text.starts_with('-')).map(|a| self.remove_target(&self.resolve(a, env), "`unlink` removes")).collect(),
                diag(name),
            ),
            "shred" | "srm" | "wipe" => self.shred(name, rest, env),
            "mke2fs" | "mkswap" | "mkdosfs" | "mkntfs" | "mkexfatfs" | "mformat" | "newfs"
            | "blkdiscard" | "zerofree" | "sgdisk_zap" | "cfdisk" => Verdict::refuse(
                rules::DISK_DESTROY,
                format!("`{name}` formats, wipes or repartitions a disk"),
            ),
            "wipefs" => {
                if rest.iter().any(|a| a.is("-a") || a.is("--all") || a.is("-o") || a.text.starts_with("--offset") || (a.text.starts_with('-') && !a.text.starts_with("--") && a.text.contains(['a', 'o']))) {
                    Verdict::refuse(rules::DISK_DESTROY, "`wipefs -a` erases filesystem signatures")
                } else {
                    diag(name)
                }
            }
            "fdisk" | "sfdisk" | "gdisk" | "sgdisk" | "parted" | "partx" | "kpartx" | "cgdisk" => self.partitioner(name, rest),
            "dd" => self.dd(rest, env),
            "hdparm" => self.hdparm(rest),
            "badblocks" => {
                if rest.iter().any(|a| a.is("-w")) {
                    Verdict::refuse(rules::DISK_DESTROY, "`badblocks -w` overwrites the whole device")
                } else {
                    Verdict::approve(rules::DISK_DESTROY, "`badblocks` scans a device for a long time")
                }
            }
            "cryptsetup" => self.cryptsetup(rest),
            "lvremove" | "vgremove" | "pvremove" | "lvreduce" | "vgreduce" => Verdict::refuse(
                rules::DISK_DESTROY,
                format!("`{name}` removes or shrinks volumes, destroying their data"),
            ),
            "lvcreate" | "lvextend" | "lvresize" | "vgcreate" | "vgextend" | "pvcreate" | "vgchange"
            | "lvchange" | "pvmove" | "lvrename" | "vgrename" | "resize2fs" | "xfs_growfs"
            | "tune2fs" | "e2fsck" | "fsck" | "xfs_repair" | "e2label" => self.fs_tool(name, rest),
            "mdadm" => self.mdadm(rest),
            "zpool" | "zfs" => self.zfs(name, rest),
            "btrfs" => self.btrfs(rest),
            "truncate" => self.truncate(rest, env),
            "cp" | "install" => self.copy(name, rest, env),
            "mv" => self.mv(rest, env),
            "ln" | "link" => self.ln(name, rest, env),
            "tee" => {
                let o = Opts::parse(rest, &["--output-error"]);
                combine(
                    o.operands.iter().map(|a| self.write_target(&self.resolve(a, env), "`tee` writes to")).collect(),
                    diag(name),
                )
            }
            "touch" | "mkdir" | "mkfifo" | "fallocate" => {
                let o = Opts::parse(rest, &["-r", "--reference", "-d", "--date", "-t", "-m", "--mode", "-l", "--length", "-o", "--offset", "-Z", "--context"]);
                let mut parts: Vec<Verdict> = o
                    .operands
                    .iter()
                    .map(|a| self.write_target(&self.resolve(a, env), &format!("`{name}` creates")))
                    .collect();
                if name == "fallocate" && o.has(&["-d", "-p", "-c", "-z", "--dig-holes", "--punch-hole", "--collapse-range", "--zero-range", "--insert-range", "-i"]) {
                    parts.push(Verdict::approve(rules::FILE_WRITE, "`fallocate` changes the contents of a file"));
                }
                combine(parts, diag(name))
            }
            "mknod" => Verdict::approve(rules::SYSTEM_WRITE, "`mknod` creates a device node"),
            "split" | "csplit" => Verdict::approve(rules::FILE_WRITE, format!("`{name}` writes files into the working directory")),
            "chmod" | "chown" | "chgrp" | "setfacl" | "chattr" | "chcon" | "setfattr" | "restorecon" => {
                self.permissions(name, rest, env)
            }
            "getfacl" | "getfattr" | "getcap" => diag(name),
            "setcap" => Verdict::refuse(rules::PERMISSION_CHANGE, "`setcap` grants capabilities to a program"),
            "useradd" | "userdel" | "usermod" | "groupadd" | "groupdel" | "groupmod" | "gpasswd"
            | "chpasswd" | "chsh" | "chfn" | "vipw" | "vigr" | "adduser" | "deluser" | "addgroup"
            | "delgroup" | "newusers" | "pwck" | "grpck" | "smbpasswd" | "htpasswd" | "pam_tally2"
            | "faillock" | "ssh-copy-id" => Verdict::refuse(
                rules::USER_ADMIN,
                format!("`{name}` changes accounts, groups, passwords or SSH access"),
            ),
            "passwd" => {
                if rest.iter().any(|a| a.is("-S") || a.is("--status")) {
                    diag(name)
                } else {
                    Verdict::refuse(rules::USER_ADMIN, "`passwd` changes passwords or account state")
                }
            }
            "chage" => {
                if rest.iter().any(|a| a.is("-l") || a.is("--list")) {
                    diag(name)
                } else {
                    Verdict::refuse(rules::USER_ADMIN, "`chage` changes password expiry")
                }
            }
            "visudo" => {
                if rest.iter().any(|a| a.is("-c") || a.is("--check")) {
                    diag(name)
                } else {
                    Verdict::refuse(rules::USER_ADMIN, "`visudo` edits sudoers")
                }
            }
            "reboot" | "halt" | "poweroff" | "kexec" | "rtcwake" | "pm-suspend" | "pm-hibernate"
            | "pm-suspend-hybrid" | "systemd-hibernate" | "zzz" => Verdict::refuse(
                rules::POWER_STATE,
                format!("`{name}` reboots, halts or suspends the host"),
            ),
            "shutdown" => {
                if rest.iter().any(|a| a.is("-c") || a.is("--show")) {
                    Verdict::approve(rules::POWER_STATE, "`shutdown -c` cancels a pending shutdown")
                } else {
                    Verdict::refuse(rules::POWER_STATE, "`shutdown` powers off or reboots the host")
                }
            }
            "init" | "telinit" => match rest.first().and_then(Arg::lit) {
                Some("0" | "1" | "6" | "s" | "S" | "single" | "emergency") | None => {
                    Verdict::refuse(rules::POWER_STATE, format!("`{name} {}` changes the run level", render(rest)))
                }
                Some(_) if rest.first().is_some_and(|a| a.dynamic) => Verdict::refuse(rules::POWER_STATE, "run level only known at run time"),
                Some(_) => Verdict::approve(rules::POWER_STATE, format!("`{name} {}` changes the run level", render(rest))),
            },
            "iptables" | "ip6tables" | "iptables-legacy" | "ip6tables-legacy" | "iptables-nft"
            | "ip6tables-nft" | "ebtables" | "arptables" | "ebtables-nft" | "arptables-nft" => self.iptables(name, rest),
            "iptables-save" | "ip6tables-save" | "iptables-legacy-save" | "iptables-nft-save" | "ebtables-save" => diag(name),
            "iptables-restore" | "ip6tables-restore" | "iptables-legacy-restore" | "iptables-nft-restore" | "ebtables-restore" | "iptables-apply" => {
                if rest.iter().any(|a| a.is("-t") || a.is("--test")) {
                    diag(name)
                } else {
                    Verdict::refuse(rules::FIREWALL, format!("`{name}` replaces firewall rules"))
                }
            }
            "nft" => self.nft(rest),
            "ufw" => match lits(rest).iter().find(|t| !t.starts_with('-')) {
                None | Some(&"status" | &"show" | &"version") => diag(name),
                Some(&"app") if rest.iter().any(|a| a.is("list") || a.is("info")) => diag(name),
                Some(v) => Verdict::refuse(rules::FIREWALL, format!("`ufw {v}` changes the firewall")),
            },
            "firewall-cmd" | "firewall-offline-cmd" => {
                let read = rest.iter().all(|a| {
                    a.lit().is_some_and(|t| {
                        ["--list-", "--get-", "--query-", "--info-", "--zone=", "--permanent", "--state", "--version", "--help", "-h", "--check-config", "--quiet", "-q"]
                            .iter()
                            .any(|p| t.starts_with(p))
                    })
                });
                if read {
                    diag(name)
                } else {
                    Verdict::refuse(rules::FIREWALL, format!("`{name} {}` changes the firewall", render(rest)))
                }
            }
            "ip" => self.ip(rest),
            "ifconfig" => {
                let ops: Vec<&Arg> = rest.iter().filter(|a| !a.is("-a") && !a.is("-s") && !a.is("-v")).collect();
                if ops.len() <= 1 && ops.iter().all(|a| !a.dynamic) {
                    diag(name)
                } else {
                    Verdict::refuse(rules::NETWORK_CHANGE, format!("`ifconfig {}` changes an interface", render(rest)))
                }
            }
            "ifup" | "ifdown" | "ifquery_" | "dhclient" | "dhcpcd" | "brctl_" => {
                if rest.iter().any(|a| a.is("--version") || a.is("-V")) {
                    diag(name)
                } else {
                    Verdict::refuse(rules::NETWORK_CHANGE, format!("`{name}` takes interfaces up or down"))
                }
            }
            "ifquery" => diag(name),
            "route" | "arp" => {
                let changes = rest.iter().any(|a| {
                    a.is("add") || a.is("del") || a.is("delete") || a.is("flush") || a.is("-d") || a.is("-s") || a.is("-f") || a.dynamic
                });
                if changes {
                    Verdict::refuse(rules::NETWORK_CHANGE, format!("`{name} {}` changes routes or neighbours", render(rest)))
                } else {
                    diag(name)
                }
            }
            "brctl" | "tc" | "bridge" => {
                let read = rest.iter().filter_map(Arg::lit).any(|t| matches!(t, "show" | "list" | "ls" | "showmacs" | "showstp" | "-s" | "monitor_"))
                    && !rest.iter().any(|a| a.dynamic || a.lit().is_some_and(|t| matches!(t, "add" | "del" | "delete" | "change" | "replace" | "link" | "addbr" | "delbr" | "addif" | "delif" | "set" | "flush")));
                if read || rest.is_empty() {
                    diag(name)
                } else {
                    Verdict::refuse(rules::NETWORK_CHANGE, format!("`{name} {}` changes networking", render(rest)))
                }
            }
            "ethtool" => {
                let changes = rest.iter().any(|a| {
                    a.lit().is_some_and(|t| t.starts_with('-') && !matches!(t, "-i" | "-S" | "-k" | "-g" | "-a" | "-c" | "-l" | "-m" | "-P" | "-T" | "-d" | "-e" | "--driver" | "--statistics" | "--show-features" | "--show-offload" | "--show-ring" | "--show-pause" | "--show-coalesce" | "--show-channels" | "--module-info" | "--show-permaddr" | "--show-time-stamping" | "--show-eee" | "--show-fec" | "--json" | "--version" | "-h" | "--help"))
                });
                if changes {
                    Verdict::approve(rules::NETWORK_CHANGE, format!("`ethtool {}` changes interface settings", render(rest)))
                } else {
                    diag(name)
                }
            }
            "nmcli" => self.nmcli(rest),
            "networkctl" | "resolvectl" | "systemd-resolve" => match Opts::parse(rest, &["-i", "--interface", "-t", "--type", "-c", "--class", "-p", "--protocol"]).verb() {
                None | Some("status" | "list" | "lldp" | "label" | "query" | "service" | "openpgp" | "tlsa" | "statistics") => diag(name),
                Some("dns" | "domain" | "llmnr" | "mdns" | "dnssec" | "dnsovertls" | "nta" | "default-route" | "log-level")
                    if rest.iter().filter(|a| !a.text.starts_with('-')).count() <= 2 =>
                {
                    diag(name)
                }
                Some("flush-caches" | "reset-statistics" | "reset-server-features" | "renew") => {
                    Verdict::remediation(rules::MAINTENANCE, format!("`{name}` flushes caches or renews leases"))
                }
                Some("down" | "revert") => Verdict::refuse(rules::NETWORK_CHANGE, format!("`{name}` takes a link down or reverts its settings")),
                Some(v) => Verdict::approve(rules::NETWORK_CHANGE, format!("`{name} {v}` changes networking")),
            },
            "netplan" => match Opts::parse(rest, &[]).verb() {
                None | Some("get" | "info" | "status") => diag(name),
                Some(v) => Verdict::approve(rules::NETWORK_CHANGE, format!("`netplan {v}` changes network configuration")),
            },
            "tailscale" => match Opts::parse(rest, &["--socket"]).verb() {
                None | Some("status" | "ip" | "ping" | "netcheck" | "version" | "whois" | "bugreport" | "metrics") => diag(name),
                Some("dns" | "exit-node") if rest.iter().any(|a| a.is("status") || a.is("list")) => diag(name),
                Some("down" | "logout") => Verdict::refuse(rules::NETWORK_CHANGE, "`tailscale down` cuts the tailnet connection (and possibly Jarvis's path to the host)"),
                Some(v) => Verdict::approve(rules::NETWORK_CHANGE, format!("`tailscale {v}` changes the tailnet connection")),
            },
            "wg" => self.wg(rest),
            "wg-quick" => match lits(rest).first() {
                Some(&"up") => Verdict::remediation(rules::NETWORK_CHANGE, "`wg-quick up` brings a WireGuard tunnel up"),
                Some(&"down") => Verdict::approve(rules::NETWORK_CHANGE, "`wg-quick down` takes a WireGuard tunnel down"),
                Some(&"strip") => secret_refuse("`wg-quick strip` prints the configuration including the private key"),
                _ => Verdict::approve(rules::NETWORK_CHANGE, format!("`wg-quick {}`", render(rest))),
            },
            "ping" | "ping6" | "arping" | "fping" => {
                let o = Opts::parse(rest, &["-c", "-w", "-W", "-i", "-s", "-I", "-t", "-Q", "-p", "-M", "-l", "-m", "-T", "-B", "-D"]);
                if o.has(&["-f"]) {
                    Verdict::approve(rules::UNCLASSIFIED, format!("`{name} -f` floods the network"))
                } else if o.value(&["-c", "-w"]).is_some() || name == "fping" {
                    diag(name)
                } else {
                    streams(&format!("{name} without -c"))
                }
            }
            "mtr" => {
                if rest.iter().any(|a| a.lit().is_some_and(|t| matches!(t, "-r" | "--report" | "-w" | "--report-wide" | "-j" | "--json" | "-C" | "--csv" | "-x" | "--xml") || (t.starts_with('-') && !t.starts_with("--") && t.contains('r')))) {
                    diag(name)
                } else {
                    streams("mtr without --report")
                }
            }
            "curl" => self.curl(rest, env),
            "wget" => self.wget(rest, env),
            "nc" | "ncat" | "netcat" => {
                if rest.iter().any(|a| a.lit().is_some_and(|t| t == "-z" || (t.starts_with('-') && !t.starts_with("--") && t.contains('z')))) && !rest.iter().any(|a| a.is("-e") || a.is("-c") || a.is("-l")) {
                    diag("nc -z")
                } else {
                    Verdict::approve(rules::REMOTE_EXEC, format!("`{name}` opens raw network connections (listeners, shells, data transfer)"))
                }
            }
            "socat" | "telnet" | "ftp" | "sftp" | "lftp" | "tftp" | "rclone" | "smbclient" | "mosquitto_pub" => {
                Verdict::approve(rules::REMOTE_EXEC, format!("`{name}` transfers data to or from another machine"))
            }
            "mosquitto_sub" => {
                if rest.iter().any(|a| a.is("-C") || a.is("-W")) {
                    diag(name)
                } else {
                    streams("mosquitto_sub without -C or -W")
                }
            }
            "scp" | "rsync" => self.transfer(name, rest, env),
            "ssh-keygen" => self.ssh_keygen(rest),
            "ssh-add" => {
                if rest.iter().any(|a| a.is("-l") || a.is("-L")) {
                    diag(name)
                } else {
                    Verdict::approve(rules::USER_ADMIN, "`ssh-add` loads private keys into the agent")
                }
            }
            "ssh-keyscan" => diag(name),
            "tar" | "bsdtar" => self.tar(rest, env),
            "zip" | "unzip" | "7z" | "7za" | "7zr" | "unrar" | "rar" => self.zip(name, rest, env),
            "gzip" | "gunzip" | "xz" | "unxz" | "zstd" | "unzstd" | "bzip2" | "bunzip2" | "lz4" | "unlz4" | "pigz" | "pbzip2" | "lzma" | "unlzma" | "compress" | "uncompress" => {
                self.compress(name, rest, env)
            }
            "kill" => self.kill(rest),
            "pkill" | "killall" | "skill" | "slay" => self.pkill(name, rest),
            "killall5" => Verdict::refuse(rules::PROCESS_KILL, "`killall5` signals every process"),
            "fuser" => {
                if rest.iter().any(|a| a.lit().is_some_and(|t| t == "-k" || t == "--kill" || (t.starts_with('-') && !t.starts_with("--") && t.contains('k')))) {
                    Verdict::approve(rules::PROCESS_KILL, "`fuser -k` kills every process using the file")
                } else {
                    diag(name)
                }
            }
            "renice" => Verdict::approve(rules::PROCESS_KILL, "`renice` changes the priority of running processes"),
            "insmod" => Verdict::approve(rules::KERNEL, "`insmod` loads a kernel module"),
            "rmmod" => Verdict::refuse(rules::KERNEL, "`rmmod` unloads a kernel module"),
            "modprobe" => {
                let o = Opts::parse(rest, &["-C", "--config", "-d", "--dirname", "-S", "--set-version"]);
                if o.has(&["-r", "--remove", "--remove-dependencies"]) {
                    Verdict::refuse(rules::KERNEL, "`modprobe -r` unloads kernel modules")
                } else if o.has(&["-n", "--dry-run", "-c", "--showconfig", "-D", "--show-depends", "--show-modversions", "--dump-modversions", "-V", "--version"]) || o.operands.is_empty() {
                    diag(name)
                } else {
                    Verdict::approve(rules::KERNEL, "`modprobe` loads kernel modules")
                }
            }
            "depmod" => Verdict::approve(rules::KERNEL, "`depmod` rewrites module dependency files"),
            "sysctl" => self.sysctl(rest),
            "dmesg" => {
                let o = Opts::parse(rest, &["-f", "--facility", "-l", "--level", "-n", "--console-level", "-s", "--buffer-size", "-F", "--file", "--time-format"]);
                if o.has(&["-c", "-C", "--clear", "--read-clear", "-n", "--console-level", "-D", "--console-off", "-E", "--console-on"]) {
                    Verdict::approve(rules::KERNEL, "`dmesg` clears the kernel ring buffer or changes console logging")
                } else if o.has(&["-w", "-W", "--follow", "--follow-new"]) {
                    streams("dmesg --follow")
                } else {
                    diag(name)
                }
            }
            "crontab" => {
                let o = Opts::parse(rest, &["-u"]);
                if o.has(&["-r"]) {
                    Verdict::refuse(rules::CRONTAB, "`crontab -r` deletes the whole crontab")
                } else if o.has(&["-l"]) {
                    diag(name)
                } else if o.has(&["-e"]) {
                    Verdict::approve(rules::CRONTAB, "`crontab -e` edits scheduled jobs")
                } else {
                    Verdict::approve(rules::CRONTAB, "`crontab` replaces the scheduled jobs")
                }
            }
            "at" | "batch" | "atrm" => {
                if name == "at" && rest.iter().any(|a| a.is("-l")) {
                    diag("at -l")
                } else {
                    Verdict::approve(rules::CRONTAB, format!("`{name}` schedules or removes a job"))
                }
            }
            "apt" | "apt-get" | "aptitude" => self.apt(name, rest),
            "apt-cache" | "apt-file" | "apt-mark_" | "dpkg-query" | "rpmquery" | "repoquery" => diag(name),
            "apt-mark" => match Opts::parse(rest, &[]).verb() {
                Some(v) if v.starts_with("show") => diag(name),
                _ => Verdict::approve(rules::PACKAGE_CHANGE, "`apt-mark` changes package states"),
            },
            "dpkg" => self.dpkg(rest),
            "dpkg-reconfigure" | "update-alternatives" | "needrestart" => {
                if name == "update-alternatives" && rest.iter().any(|a| a.is("--display") || a.is("--query") || a.is("--list") || a.is("--get-selections")) {
                    diag(name)
                } else {
                    Verdict::approve(rules::PACKAGE_CHANGE, format!("`{name}` changes package configuration"))
                }
            }
            "yum" | "dnf" | "microdnf" | "zypper" | "pacman" | "tdnf" => self.yum(name, rest),
            "rpm" => self.rpm(rest),
            "apk" => self.apk(rest),
            "snap" | "flatpak" => self.snap(name, rest),
            "pip" | "pip3" | "pipx" | "uv" => self.pip(name, rest),
            "npm" | "yarn" | "pnpm" => self.npm(name, rest),
            "mount" => {
                let o = Opts::parse(rest, &["-t", "-o", "-O", "-L", "-U", "--source", "--target"]);
                if o.operands.is_empty() && !o.has(&["-a", "--all"]) {
                    diag(name)
                } else {
                    Verdict::approve(rules::SYSTEM_WRITE, format!("`mount {}` changes what is mounted", render(rest)))
                }
            }
            "umount" => {
                let o = Opts::parse(rest, &["-t", "-O", "-N"]);
                if o.has(&["-a", "--all", "-A", "--all-targets"]) {
                    Verdict::refuse(rules::SYSTEM_WRITE, "`umount -a` unmounts every filesystem")
                } else if o.operands.iter().any(|a| a.lit().is_some_and(|t| normalize_path(t) == "/")) {
                    Verdict::refuse(rules::SYSTEM_WRITE, "`umount /` unmounts the root filesystem")
                } else {
                    Verdict::approve(rules::SYSTEM_WRITE, format!("`umount {}` unmounts filesystems", render(rest)))
                }
            }
            "swapon" | "swapoff" => {
                if rest.iter().any(|a| a.is("--show") || a.is("-s") || a.is("--summary")) || (name == "swapon" && rest.is_empty()) {
                    diag(name)
                } else {
                    Verdict::approve(rules::SYSTEM_WRITE, format!("`{name}` changes swap"))
                }
            }
            "fstrim" | "updatedb" | "mandb" | "fc-cache" | "systemd-tmpfiles_" => {
                Verdict::remediation(rules::MAINTENANCE, format!("`{name}` is routine maintenance"))
            }
            "systemd-tmpfiles" => {
                if rest.iter().any(|a| a.is("--remove") || a.is("--create") || a.is("--purge")) || !rest.iter().any(|a| a.is("--clean")) {
                    Verdict::approve(rules::FILE_DELETE, "`systemd-tmpfiles` creates or removes files by configuration")
                } else {
                    Verdict::remediation(rules::MAINTENANCE, "`systemd-tmpfiles --clean` removes aged temporary files")
                }
            }
            "ldconfig" | "update-grub" | "grub-install" | "grub-mkconfig" | "update-initramfs"
            | "dracut" | "mkinitcpio" | "update-ca-certificates" => Verdict::approve(
                rules::SYSTEM_WRITE,
                format!("`{name}` rewrites boot or system files"),
            ),
            "efibootmgr" => {
                if rest.is_empty() || rest.iter().all(|a| a.is("-v")) {
                    diag(name)
                } else {
                    Verdict::refuse(rules::POWER_STATE, "`efibootmgr` changes the boot entries")
                }
            }
            "certbot" | "letsencrypt" => self.certbot(rest, stdin),
            "openssl" => self.openssl(rest, env),
            "redis-cli" | "valkey-cli" | "keydb-cli" => self.redis(rest, stdin),
            "mysqladmin" | "mariadb-admin" => self.mysqladmin(rest),
            "psql" | "mysql" | "mariadb" | "sqlite3" | "mongo" | "mongosh" | "clickhouse-client" | "influx" | "cqlsh" => {
                self.sql_client(name, rest, stdin)
            }
            "pg_dump" | "pg_dumpall" | "mysqldump" | "mariadb-dump" | "mongodump" => {
                let o = Opts::parse(rest, &["-f", "--file", "-r", "--result-file", "-o", "--out"]);
                match o.value(&["-f", "--file", "-r", "--result-file", "-o", "--out"]) {
                    Some(f) => combine(vec![self.write_target(&self.resolve(f, env), &format!("`{name}` writes to")), Verdict::approve(rules::SECRET_READ, format!("`{name}` exports database contents"))], diag(name)),
                    None => Verdict::approve(rules::SECRET_READ, format!("`{name}` exports database contents")).with_class(SafetyClass::Diagnostic),
                }
            }
            "dropdb" | "dropuser" | "pg_resetwal" | "pg_resetxlog" => Verdict::refuse(rules::DATA_DESTROY, format!("`{name}` destroys database data")),
            "smartctl" => {
                let o = Opts::parse(rest, &["-t", "--test", "-s", "--smart", "-o", "--offlineauto", "-S", "--saveauto", "--set", "-d", "--device", "-l", "--log", "-T", "--tolerance", "-b", "--badsum", "-r", "--report", "-n", "--nocheck", "-f", "--format", "-g", "--get", "-F", "--firmwarebug", "-v", "--vendorattribute", "-P", "--presets", "-B", "--drivedb"]);
                if o.has(&["-t", "--test", "-X", "--abort", "-s", "--smart", "-o", "--offlineauto", "-S", "--saveauto", "--set"]) {
                    Verdict::approve(rules::MAINTENANCE, "`smartctl` starts tests or changes drive settings")
                } else {
                    diag(name)
                }
            }
            "nvidia-smi" => {
                let changes = rest.iter().any(|a| {
                    a.lit().is_some_and(|t| {
                        ["-r", "--gpu-reset", "-pm", "--persistence-mode", "-pl", "--power-limit", "-ac", "--applications-clocks", "-rac", "-lgc", "-rgc", "-lmc", "-rmc", "-e", "--ecc-config", "-p", "--reset-ecc-errors", "-c", "--compute-mode", "-mig", "-am", "-caa"]
                            .iter()
                            .any(|p| t == *p || t.starts_with(&format!("{p}=")))
                    })
                });
                if changes {
                    Verdict::approve(rules::KERNEL, "`nvidia-smi` changes GPU settings")
                } else if rest.iter().any(|a| a.is("-l") || a.is("-lms") || a.is("--loop") || a.is("dmon") || a.is("pmon")) {
                    streams("nvidia-smi --loop")
                } else {
                    diag(name)
                }
            }
            "dmidecode" | "biosdecode" => secret_approve(format!("`{name}` prints hardware serial numbers and asset tags")),
            "logrotate" => {
                let o = Opts::parse(rest, &["-s", "--state", "-l", "--log", "-m", "--mail"]);
                if o.value(&["-m", "--mail"]).is_some() {
                    Verdict::approve(rules::INTERPRETER_CODE, "`logrotate -m` runs a mail command")
                } else if o.has(&["-d", "--debug"]) {
                    diag("logrotate -d")
                } else if !o.operands.is_empty() && o.operands.iter().all(|a| a.lit().is_some_and(|t| {
                    let p = normalize_path(t);
                    p == "/etc/logrotate.conf" || p.starts_with("/etc/logrotate.d/")
                })) {
                    Verdict::remediation(rules::LOG_MAINTENANCE, "`logrotate` rotates logs with the system configuration")
                } else {
                    Verdict::approve(rules::LOG_MAINTENANCE, "`logrotate` with a configuration outside /etc/logrotate* (its scripts run as root)")
                }
            }
            "ha" => self.ha(rest),
            "base64" | "base32" => combine(self.read_files(rest.iter().filter(|a| !a.text.starts_with('-'))), diag(name)),
            "git" => self.git(rest),
            "virsh" | "qm" | "pct" | "lxc" | "incus" | "vboxmanage" | "VBoxManage" => self.vm(name, rest),
            "loginctl" | "machinectl" | "busctl" | "coredumpctl" | "systemd-run" | "systemd-inhibit" => self.systemd_misc(name, rest),
            "wall" | "write" | "notify-send" => Verdict::approve(rules::UNCLASSIFIED, format!("`{name}` sends messages to logged-in users")),
            "make" | "cmake" | "cargo" | "go" | "gcc" | "cc" | "java" | "mvn" | "gradle" | "ansible" | "ansible-playbook" | "terraform" | "helm" | "salt" | "puppet" | "chef-client" => {
                if rest.len() == 1 && rest.iter().any(|a| a.is("--version") || a.is("version") || a.is("-v")) {
                    diag(name)
                } else {
                    self.unclassified(format!("`{name}` runs build or deployment code that is not known here"))
                }
            }
            _ => return None,
        };
        Some(v)
    }

    fn read_only(&self, name: &str, rest: &[Arg]) -> Verdict {
        match name {
            "last" | "lastb" | "lastlog" | "w" | "who" | "ss" | "lsof" | "netstat" if false => diag(name),
            "ss" if rest.iter().any(|a| a.lit().is_some_and(|t| t == "-K" || t == "--kill" || (t.starts_with('-') && !t.starts_with("--") && t.contains('K')))) => {
                Verdict::approve(rules::NETWORK_CHANGE, "`ss -K` closes sockets")
            }
            "nvme" if rest.first().is_some_and(|a| a.lit().is_some_and(|t| matches!(t, "format" | "sanitize" | "write" | "write-zeroes" | "dsm" | "delete-ns" | "detach-ns" | "fw-download" | "fw-commit" | "reset" | "subsystem-reset" | "set-feature"))) => {
                Verdict::refuse(rules::DISK_DESTROY, "`nvme` formats, sanitizes, writes or resets an NVMe device")
            }
            "iw" if rest.iter().any(|a| a.lit().is_some_and(|t| matches!(t, "set" | "del" | "add" | "connect" | "disconnect" | "reg" | "ibss" | "mesh" | "ap"))) => {
                Verdict::refuse(rules::NETWORK_CHANGE, "`iw` changes wireless settings")
            }
            "iwconfig" if rest.len() > 1 => Verdict::refuse(rules::NETWORK_CHANGE, "`iwconfig` changes wireless settings"),
            _ => diag(name),
        }
    }

    fn new_cwd(&self, rest: &[Arg], env: &Env) -> Option<String> {
        let ops: Vec<&Arg> = rest.iter().filter(|a| !a.text.starts_with('-') || a.text == "-").collect();
        let dir = ops.first()?;
        let t = dir.lit()?;
        if t == "-" || t.starts_with('~') {
            return None;
        }
        if t.starts_with('/') {
            Some(normalize_path(t))
        } else {
            env.cwd.as_ref().map(|c| normalize_path(&format!("{c}/{t}")))
        }
    }

    fn content_reader(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let mut parts: Vec<Verdict> = rest
            .iter()
            .filter(|a| !a.text.starts_with('-') || a.dynamic)
            .filter_map(|a| self.read_file(&self.resolve(a, env)))
            .collect();
        if matches!(name, "tail") && rest.iter().any(|a| a.lit().is_some_and(|t| t == "-f" || t == "-F" || t.starts_with("--follow") || (t.starts_with('-') && !t.starts_with("--") && t.contains(['f', 'F'])))) {
            parts.push(streams("tail -f"));
        }
        if matches!(name, "less" | "more" | "most" | "view") && rest.iter().any(|a| a.text.starts_with('+') && a.text.contains('!')) {
            parts.push(Verdict::refuse(rules::INTERPRETER_CODE, format!("`{name}` with a start-up command can run shell commands")));
        }
        combine(parts, diag(name))
    }

    fn echo(&self, name: &str, rest: &[Arg]) -> Verdict {
        let secret = rest.iter().flat_map(|a| &a.mentions).find(|m| m.starts_with('$') && secretish_name(m));
        match secret {
            Some(m) => secret_approve(format!("`{name}` prints `{m}`, which looks like a credential")),
            None => diag(name),
        }
    }

    fn declare(&self, name: &str, rest: &[Arg]) -> Verdict {
        let mut parts = Vec::new();
        let operands: Vec<&Arg> = rest.iter().filter(|a| !a.text.starts_with(['-', '+'])).collect();
        for a in &operands {
            if let Some(t) = a.lit() {
                parts.extend(check_env_assignment(t));
            } else if let Some((n, _)) = a.text.split_once('=') {
                parts.extend(check_env_assignment(&format!("{n}=")));
            }
        }
        let dumps = operands.is_empty()
            && (matches!(name, "declare" | "typeset")
                || (name == "export" && (rest.is_empty() || rest.iter().any(|a| a.is("-p")))));
        if dumps {
            parts.push(secret_refuse(format!("`{name}` without names prints variables, including credentials")));
        }
        combine(parts, diag(name))
    }

    fn hostname(&self, rest: &[Arg]) -> Verdict {
        let read_flags = ["-f", "--fqdn", "--long", "-i", "--ip-address", "-I", "--all-ip-addresses", "-s", "--short", "-d", "--domain", "-A", "--all-fqdns", "-a", "--alias", "-y", "--yp", "--nis", "-v", "--verbose", "-V", "--version", "-h", "--help"];
        if rest.iter().all(|a| a.lit().is_some_and(|t| read_flags.contains(&t))) {
            diag("hostname")
        } else {
            Verdict::refuse(rules::NETWORK_CHANGE, format!("`hostname {}` changes the host's name", render(rest)))
        }
    }

    fn jq(&self, name: &str, rest: &[Arg]) -> Verdict {
        const VALUE: &[&str] = &["--arg", "--argjson", "--slurpfile", "--rawfile", "-f", "--from-file", "--indent", "-L", "--tab_"];
        let mut parts = Vec::new();
        let mut operands = Vec::new();
        let mut from_file = false;
        let mut i = 0;
        while let Some(a) = rest.get(i) {
            i += 1;
            match a.lit() {
                Some("--arg" | "--argjson") => i += 2,
                Some("--slurpfile" | "--rawfile") => {
                    parts.extend(rest.get(i + 1).and_then(|f| self.read_file(f)));
                    i += 2;
                }
                Some("-f" | "--from-file") => {
                    from_file = true;
                }
                Some("--indent" | "-L") => i += 1,
                Some(t) if t.starts_with('-') && t.len() > 1 => {}
                _ => operands.push(a),
            }
        }
        let _ = VALUE;
        let files = if from_file { &operands[..] } else { operands.get(1..).unwrap_or(&[]) };
        parts.extend(self.read_files(files.iter().copied()));
        if !from_file && operands.first().is_some_and(|f| f.text.contains("$ENV") || f.text.contains("env.") || f.text.contains("input_filename_")) {
            parts.push(secret_refuse(format!("`{name}` filter reads the environment")));
        }
        combine(parts, diag(name))
    }

    fn grep(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        const VALUE: &[&str] = &[
            "-e", "--regexp", "-f", "--file", "-m", "--max-count", "-A", "--after-context", "-B",
            "--before-context", "-C", "--context", "-d", "--directories", "-D", "--devices",
            "--include", "--exclude", "--exclude-dir", "--label", "--color", "--colour", "-g",
            "--glob", "-t", "--type", "-T", "--type-not", "-j", "--threads", "-M", "--max-columns",
            "--max-depth", "--pre", "--pre-glob", "-E", "--encoding", "--ignore-file", "-r_",
        ];
        let o = Opts::parse(rest, VALUE);
        let mut parts = Vec::new();
        for f in o.all_values(&["-f", "--file"]) {
            parts.extend(self.read_file(f));
        }
        if o.value(&["--pre"]).is_some() {
            parts.push(Verdict::approve(rules::INTERPRETER_CODE, "`rg --pre` runs a program on every file"));
        }
        let pattern_given = o.value(&["-e", "--regexp", "-f", "--file"]).is_some();
        let files: Vec<Arg> = o
            .operands
            .iter()
            .skip(if pattern_given { 0 } else { 1 })
            .map(|a| self.resolve(a, env))
            .collect();
        let recursive = matches!(name, "rg" | "ag" | "ack")
            || o.has(&["-r", "-R", "--recursive", "--dereference-recursive"])
            || o.value(&["-d", "--directories"]).is_some_and(|v| v.is("recurse"));
        let hidden = matches!(name, "rg" | "ag" | "ack") && !o.has(&["--hidden", "-u", "--unrestricted", "-.", "--no-ignore"]);
        parts.extend(self.read_files(files.iter()));
        if recursive {
            if files.is_empty() {
                match &env.cwd {
                    Some(c) if !rules::dir_contains_secrets(c) => {}
                    _ if hidden => {}
                    _ => parts.push(secret_approve(format!(
                        "`{name}` searches the working directory recursively, which may hold secrets"
                    ))),
                }
            }
            for f in &files {
                if f.dynamic {
                    parts.push(secret_approve(format!(
                        "`{name}` searches `{}` recursively, a path only known at run time",
                        f.text
                    )));
                } else if rules::dir_contains_secrets(&f.text) {
                    parts.push(secret_refuse(format!(
                        "`{name}` searches `{}` recursively, which contains secrets (password hashes, keys)",
                        f.text
                    )));
                }
            }
        }
        combine(parts, diag(name))
    }
}

// ---------------------------------------------------------------------------
// Text tools with their own languages

/// Strips string literals and regex literals from awk code, so the checks
/// below see only the code around them.
fn awk_code(program: &str) -> String {
    let mut out = String::new();
    let mut chars = program.chars().peekable();
    let mut prev = '\n';
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == '"' {
                        break;
                    }
                }
                out.push_str("\"\"");
                prev = '"';
            }
            '/' if "(,~!{};&|\n=".contains(prev) || prev.is_whitespace() && out.trim_end().chars().last().is_none_or(|p| "(,~!{};&|\n=".contains(p)) => {
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == '/' {
                        break;
                    }
                }
                out.push_str("//");
                prev = '/';
            }
            '#' => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
                out.push('\n');
                prev = '\n';
            }
            c => {
                out.push(c);
                if !c.is_whitespace() || c == '\n' {
                    prev = c;
                }
            }
        }
    }
    out
}

/// Why an awk program is more than a filter.
fn awk_danger(program: &str) -> Option<(Decision, &'static str)> {
    let code = awk_code(program);
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains("system(") {
        return Some((Decision::Refuse, "calls `system()`, running shell commands"));
    }
    let bytes: Vec<char> = code.chars().collect();
    for (i, c) in bytes.iter().enumerate() {
        if *c == '|' && bytes.get(i + 1) != Some(&'|') && (i == 0 || bytes[i - 1] != '|') {
            return Some((Decision::Refuse, "pipes to or from a shell command"));
        }
    }
    if code.contains("ENVIRON") {
        return Some((Decision::Approve, "reads the environment, which holds credentials"));
    }
    if code.contains("getline") && code.contains('<') {
        return Some((Decision::Approve, "reads other files with `getline`"));
    }
    if code.contains("@load") {
        return Some((Decision::Approve, "loads an extension"));
    }
    for stmt in code.split([';', '{', '}', '\n']) {
        if let Some(pos) = stmt.find("print")
            && stmt[pos..].contains('>')
        {
            return Some((Decision::Approve, "redirects output to a file"));
        }
    }
    None
}

/// Why a sed script is more than a stream edit (`e`, `w`, `r` commands or flags).
fn sed_danger(script: &str) -> Option<&'static str> {
    let chars: Vec<char> = script.chars().collect();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && (chars[*i] == ' ' || chars[*i] == '\t') {
            *i += 1;
        }
    };
    let delimited = |i: &mut usize, d: char| -> bool {
        // Skips to just after the next unescaped `d`.
        while *i < chars.len() {
            if chars[*i] == '\\' {
                *i += 2;
                continue;
            }
            if chars[*i] == d {
                *i += 1;
                return true;
            }
            if chars[*i] == '\n' && d != '\n' {
                return false;
            }
            *i += 1;
        }
        false
    };
    while i < chars.len() {
        skip_ws(&mut i);
        if i >= chars.len() {
            break;
        }
        // Address part.
        loop {
            skip_ws(&mut i);
            match chars.get(i) {
                Some(c) if c.is_ascii_digit() || matches!(c, '$' | ',' | '!' | '~' | '+') => i += 1,
                Some('/') => {
                    i += 1;
                    if !delimited(&mut i, '/') {
                        return Some("could not be read safely");
                    }
                    while matches!(chars.get(i), Some('I' | 'M')) {
                        i += 1;
                    }
                }
                Some('\\') => {
                    let Some(&d) = chars.get(i + 1) else {
                        return Some("could not be read safely");
                    };
                    i += 2;
                    if !delimited(&mut i, d) {
                        return Some("could not be read safely");
                    }
                }
                _ => break,
            }
        }
        let Some(&cmd) = chars.get(i) else { break };
        i += 1;
        match cmd {
            ';' | '\n' | '{' | '}' | ' ' => {}
            's' | 'y' => {
                let Some(&d) = chars.get(i) else {
                    return Some("could not be read safely");
                };
                if d == '\n' || d == '\\' {
                    return Some("could not be read safely");
                }
                i += 1;
                if !delimited(&mut i, d) || !delimited(&mut i, d) {
                    return Some("could not be read safely");
                }
                if cmd == 's' {
                    while let Some(&f) = chars.get(i) {
                        match f {
                            'g' | 'p' | 'i' | 'I' | 'm' | 'M' => i += 1,
                            c if c.is_ascii_digit() => i += 1,
                            'e' => return Some("runs the pattern space as a shell command (`s///e`)"),
                            'w' | 'W' => return Some("writes to a file (`s///w`)"),
                            _ => break,
                        }
                    }
                }
            }
            'p' | 'P' | 'd' | 'D' | 'q' | 'Q' | '=' | 'n' | 'N' | 'g' | 'G' | 'h' | 'H' | 'x'
            | 'l' | 'z' | 'F' => {
                // `q`/`Q`/`l` may take a number.
                while chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
            }
            ':' | 'b' | 't' | 'T' | 'a' | 'i' | 'c' => {
                // Label or text up to the end of the line (or `;` for labels/branches).
                let stop_at_semicolon = matches!(cmd, 'b' | 't' | 'T');
                while let Some(&c) = chars.get(i) {
                    if c == '\n' || (stop_at_semicolon && c == ';') {
                        break;
                    }
                    if c == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            'e' => return Some("runs shell commands (`e`)"),
            'w' | 'W' => return Some("writes to a file (`w`)"),
            'r' | 'R' => return Some("reads another file (`r`)"),
            _ => return Some("uses a command the safety rules do not know"),
        }
    }
    None
}

impl<'a> Cx<'a> {
    fn awk(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &["-F", "-v", "-f", "--file", "-e", "--source", "-i", "--include", "-l", "--load", "-E", "--exec", "--field-separator", "--assign"]);
        let mut parts = Vec::new();
        let program_files = o.all_values(&["-f", "--file", "-E", "--exec", "-i", "--include", "-l", "--load"]);
        if !program_files.is_empty() {
            parts.push(Verdict::approve(
                rules::INTERPRETER_CODE,
                format!("`{name}` runs a program from a file, which is not known here"),
            ));
        }
        let mut programs: Vec<&Arg> = o.all_values(&["-e", "--source"]);
        let mut files: &[Arg] = &o.operands;
        if programs.is_empty() && program_files.is_empty() {
            match o.operands.first() {
                Some(p) => {
                    programs.push(p);
                    files = &o.operands[1..];
                }
                None => return diag(name),
            }
        }
        for p in programs {
            match p.lit() {
                None => parts.push(Verdict::refuse(
                    rules::INTERPRETER_CODE,
                    format!("`{name}` runs a program built at run time"),
                )),
                Some(code) => match awk_danger(code) {
                    Some((Decision::Refuse, why)) => parts.push(Verdict::refuse(
                        rules::INTERPRETER_CODE,
                        format!("the `{name}` program {why}"),
                    )),
                    Some((_, why)) => parts.push(Verdict::approve(
                        rules::INTERPRETER_CODE,
                        format!("the `{name}` program {why}"),
                    )),
                    None => {}
                },
            }
        }
        let files: Vec<Arg> = files
            .iter()
            .filter(|a| !a.lit().is_some_and(|t| t.contains('=') && !t.starts_with('/')))
            .map(|a| self.resolve(a, env))
            .collect();
        parts.extend(self.read_files(files.iter()));
        combine(parts, diag(name))
    }

    fn sed(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &["-e", "--expression", "-f", "--file", "-l", "--line-length"]);
        let in_place = o.has(&["-i", "--in-place"])
            || o.flags.iter().any(|f| f.starts_with("--in-place"))
            || rest.iter().any(|a| a.lit().is_some_and(|t| t.starts_with("-i") || (t.starts_with('-') && !t.starts_with("--") && t.contains('i'))))
            || o.dynamic_flag;
        let mut parts = Vec::new();
        let mut scripts: Vec<&Arg> = o.all_values(&["-e", "--expression"]);
        let script_files = o.all_values(&["-f", "--file"]);
        if !script_files.is_empty() {
            parts.push(Verdict::approve(rules::INTERPRETER_CODE, format!("`{name} -f` runs a script from a file")));
        }
        let mut files: &[Arg] = &o.operands;
        if scripts.is_empty() && script_files.is_empty() {
            match o.operands.first() {
                Some(s) => {
                    scripts.push(s);
                    files = &o.operands[1..];
                }
                None => return diag(name),
            }
        }
        for s in scripts {
            match s.lit() {
                None => parts.push(Verdict::approve(rules::INTERPRETER_CODE, format!("the `{name}` script is built at run time"))),
                Some(code) => {
                    if let Some(why) = sed_danger(code) {
                        parts.push(Verdict::approve(rules::INTERPRETER_CODE, format!("the `{name}` script {why}")));
                    }
                }
            }
        }
        let files: Vec<Arg> = files.iter().map(|a| self.resolve(a, env)).collect();
        parts.extend(self.read_files(files.iter()));
        if in_place {
            for f in &files {
                parts.push(self.write_target(f, &format!("`{name} -i` edits")));
            }
        }
        combine(parts, diag(name))
    }

    fn find(&self, rest: &[Arg], env: &mut Env, stdin: &Stdin) -> Verdict {
        const VALUE: &[&str] = &[
            "-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex",
            "-type", "-xtype", "-mtime", "-mmin", "-atime", "-amin", "-ctime", "-cmin", "-size",
            "-user", "-group", "-uid", "-gid", "-perm", "-maxdepth", "-mindepth", "-newer",
            "-anewer", "-cnewer", "-samefile", "-inum", "-links", "-fstype", "-printf", "-context",
            "-lname", "-ilname", "-used", "-regextype", "-D", "-files0-from",
        ];
        const FILTERS: &[&str] = &[
            "-name", "-iname", "-mtime", "-mmin", "-atime", "-amin", "-ctime", "-cmin", "-newer",
            "-anewer", "-cnewer", "-size", "-path", "-ipath", "-regex", "-iregex", "-wholename",
        ];
        let mut i = 0;
        // Leading options -H -L -P -O3 -D debug.
        let mut follow = false;
        while let Some(t) = rest.get(i).and_then(Arg::lit) {
            match t {
                "-H" | "-P" => i += 1,
                "-L" => {
                    follow = true;
                    i += 1;
                }
                "-D" => i += 2,
                t if t.starts_with("-O") => i += 1,
                _ => break,
            }
        }
        let mut starts: Vec<Arg> = Vec::new();
        while let Some(a) = rest.get(i) {
            if a.lit().is_some_and(|t| t.starts_with('-') || t == "(" || t == "!" || t == ")") {
                break;
            }
            starts.push(self.resolve(a, env));
            i += 1;
        }
        if starts.is_empty() {
            starts.push(self.resolve(&Arg::literal("."), env));
        }
        let mut parts = Vec::new();
        let mut filtered = false;
        let mut has_or = false;
        let mut deletes: Vec<(bool, String)> = Vec::new(); // (filtered before, what)
        while let Some(a) = rest.get(i) {
            i += 1;
            let Some(t) = a.lit() else {
                parts.push(Verdict::approve(rules::UNCLASSIFIED, format!("`find` expression `{}` is only known at run time", a.text)));
                continue;
            };
            match t {
                "-delete" => deletes.push((filtered, "-delete".into())),
                "-o" | "-or" | "," => has_or = true,
                "-follow" => follow = true,
                "-exec" | "-execdir" | "-ok" | "-okdir" => {
                    let mut inner = Vec::new();
                    while let Some(b) = rest.get(i) {
                        i += 1;
                        if b.is(";") || b.is("+") {
                            break;
                        }
                        inner.push(b.clone());
                    }
                    let program = inner.first().and_then(Arg::lit).map(|p| super::classify::program_name(p).0.to_string());
                    if matches!(program.as_deref(), Some("rm" | "unlink" | "shred" | "rmdir")) {
                        deletes.push((filtered, format!("{t} {}", render(&inner))));
                        continue;
                    }
                    let placeholder = |s: &Arg| Arg {
                        text: format!("{}/*", s.text.trim_end_matches('/')),
                        dynamic: s.dynamic,
                        glob: true,
                        mentions: s.mentions.clone(),
                    };
                    for s in &starts {
                        let args: Vec<Arg> = inner
                            .iter()
                            .map(|b| if b.is("{}") { placeholder(s) } else { b.clone() })
                            .collect();
                        let v = self.argv(&args, &mut env.clone(), stdin);
                        let metadata_only = matches!(
                            program.as_deref(),
                            Some("ls" | "stat" | "file" | "du" | "wc" | "echo" | "basename" | "dirname" | "readlink" | "realpath" | "test" | "[" | "md5sum" | "sha256sum" | "sha1sum" | "printf")
                        );
                        if v.decision == Decision::Allow && !metadata_only && (s.dynamic || rules::dir_contains_secrets(&s.text)) {
                            parts.push(secret_approve(format!(
                                "`find {} -exec {}` runs on every file under a directory that holds secrets",
                                s.text,
                                render(&inner)
                            )));
                        }
                        parts.push(v);
                    }
                }
                "-fprint" | "-fprint0" | "-fls" | "-fprintf" => {
                    if let Some(f) = rest.get(i) {
                        parts.push(self.write_target(&self.resolve(f, env), &format!("`find {t}` writes to")));
                    }
                    i += if t == "-fprintf" { 2 } else { 1 };
                }
                t if VALUE.contains(&t) || t.starts_with("-newer") => {
                    if FILTERS.contains(&t) || t.starts_with("-newer") {
                        let trivial = matches!(t, "-name" | "-iname" | "-path" | "-ipath" | "-wholename")
                            && rest.get(i).is_some_and(|v| v.lit().is_none_or(|p| p.chars().all(|c| c == '*')));
                        if !trivial {
                            filtered = true;
                        }
                    }
                    i += 1;
                }
                _ => {}
            }
        }
        for (filtered_before, what) in deletes {
            for s in &starts {
                parts.push(self.find_delete(s, filtered_before && !has_or && !follow, &what));
            }
        }
        combine(parts, diag("find"))
    }

    /// `find START ... -delete` (or `-exec rm`): a recursive delete under START.
    fn find_delete(&self, start: &Arg, filtered: bool, what: &str) -> Verdict {
        let path = normalize_path(&start.text);
        if let Some(name) = self.protected_path(&path) {
            return self.self_protect(&name, &format!("`find {path} {what}` deletes files of"));
        }
        let temp_root = matches!(path.as_str(), "/tmp" | "/var/tmp");
        if !start.dynamic && !start.glob && (rules::is_temp_path(&path) || temp_root) && filtered {
            return Verdict::remediation(
                rules::RECURSIVE_DELETE,
                format!("`find {path} ... {what}` deletes selected files in a temporary directory"),
            );
        }
        if !start.dynamic && !start.glob && rules::is_temp_path(&path) {
            return Verdict::approve(
                rules::RECURSIVE_DELETE,
                format!("`find {path} {what}` deletes everything under a temporary directory"),
            );
        }
        Verdict::refuse(
            rules::RECURSIVE_DELETE,
            format!("`find {} {what}` deletes files recursively outside a temporary directory", start.text),
        )
    }

    fn interpreter(&self, name: &str, code_flags: &[&str], rest: &[Arg], stdin: &Stdin) -> Verdict {
        if rest.len() == 1 && rest.iter().any(|a| a.is("--version") || a.is("-V") || a.is("--help") || a.is("-h") || (a.is("-v") && name.starts_with("perl"))) {
            return diag(name);
        }
        let mut i = 0;
        let mut module = false;
        while let Some(a) = rest.get(i) {
            let Some(t) = a.lit() else { break };
            if code_flags.contains(&t) {
                return Verdict::refuse(rules::INTERPRETER_CODE, format!("`{name} {t}` runs inline code"));
            }
            if t.starts_with('-') && !t.starts_with("--") && t.len() > 1 {
                let letters = &t[1..];
                if code_flags.iter().any(|f| {
                    f.len() == 2 && f.starts_with('-') && letters.contains(&f[1..])
                }) {
                    return Verdict::refuse(rules::INTERPRETER_CODE, format!("`{name} {t}` runs inline code"));
                }
                if letters.starts_with('m') && name.starts_with("py") {
                    module = true;
                    break;
                }
                i += if matches!(t, "-W" | "-X" | "-I" | "-r" | "--require" | "-M") && !code_flags.contains(&t) { 2 } else { 1 };
                continue;
            }
            if t == "--" || t.starts_with("--") {
                i += 1;
                continue;
            }
            break;
        }
        if module {
            return self.unclassified(format!("`{name} -m` runs a module, which is not known here"));
        }
        match rest.get(i) {
            Some(script) if !script.is("-") => {
                if script.dynamic {
                    if script.mentions.iter().any(|m| !m.starts_with('$')) {
                        Verdict::refuse(rules::PIPE_TO_SHELL, format!("`{name}` runs a script produced by `{}`", script.mentions.join(" ")))
                    } else {
                        Verdict::refuse(rules::DYNAMIC_COMMAND, format!("`{name}` runs a script only known at run time"))
                    }
                } else {
                    self.unclassified(format!("`{name}` runs script `{}`, whose contents are not known here", script.text))
                }
            }
            _ => match stdin {
                Stdin::Pipe { mentions } => Verdict::refuse(
                    rules::PIPE_TO_SHELL,
                    format!("`{name}` runs code read from a pipe (`{}`)", mentions.join(" ")),
                ),
                Stdin::Text(_) => Verdict::refuse(rules::INTERPRETER_CODE, format!("`{name}` runs inline code from a here-document")),
                Stdin::File(p) => self.unclassified(format!("`{name}` runs script `{p}`, whose contents are not known here")),
                Stdin::Inherit => self.unclassified(format!("`{name}` starts an interactive interpreter")),
            },
        }
    }
}

// ---------------------------------------------------------------------------
// Services and containers

const SYSTEMCTL_VALUE: &[&str] = &[
    "-t", "--type", "-p", "--property", "-n", "--lines", "-o", "--output", "--state", "-H",
    "--host", "-M", "--machine", "-s", "--signal", "--kill-whom", "--kill-value", "--root",
    "--job-mode", "--what", "--timestamp", "--boot-loader-entry", "--boot-loader-menu",
    "--reboot-argument", "--message", "--image", "--drop-in", "--when", "--check-inhibitors",
    "--preset-mode",
];

impl<'a> Cx<'a> {
    fn journalctl(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(
            rest,
            &["-u", "--unit", "--user-unit", "-n", "--lines", "-p", "--priority", "-S", "--since", "-U", "--until", "-o", "--output", "-b", "--boot", "-t", "--identifier", "-g", "--grep", "-D", "--directory", "--file", "-M", "--machine", "--root", "--image", "-F", "--field", "--output-fields", "--facility", "-T", "--cursor", "--after-cursor", "--cursor-file", "--namespace", "-c", "--interval", "--verify-key"],
        );
        if o.flags.iter().any(|f| f.starts_with("--vacuum-")) || o.has(&["--rotate", "--flush", "--sync", "--relinquish-var", "--smart-relinquish-var"]) {
            return Verdict::remediation(rules::LOG_MAINTENANCE, "journal vacuuming, rotation or flushing");
        }
        if o.has(&["--setup-keys", "--update-catalog"]) {
            return Verdict::approve(rules::LOG_MAINTENANCE, "changes journal keys or catalog");
        }
        if o.has(&["-f", "--follow"]) {
            return streams("journalctl -f");
        }
        diag("journalctl")
    }

    fn is_protected_unit(&self, unit: &str) -> bool {
        self.policy.protected.units.iter().any(|u| rules::unit_matches(u, unit))
    }

    fn is_critical(&self, unit: &str) -> bool {
        self.policy.critical.iter().any(|c| rules::unit_matches(c, unit))
    }

    fn systemctl(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, SYSTEMCTL_VALUE);
        let mut parts = Vec::new();
        if o.value(&["-H", "--host", "-M", "--machine"]).is_some() {
            parts.push(Verdict::approve(rules::REMOTE_EXEC, "`systemctl -H` acts on another machine"));
        }
        if o.has(&["--failed", "--version", "-h", "--help"]) && o.operands.is_empty() {
            return combine(parts, diag("systemctl"));
        }
        if o.dynamic_flag {
            parts.push(Verdict::approve(rules::SERVICE_CONTROL, "`systemctl` with options only known at run time"));
        }
        let Some(first) = o.operands.first() else {
            return combine(parts, diag("systemctl"));
        };
        let Some(verb) = first.lit() else {
            parts.push(Verdict::refuse(rules::DYNAMIC_COMMAND, "the `systemctl` verb is only known at run time"));
            return combine(parts, diag("systemctl"));
        };
        let mut units = o.operands[1..].to_vec();
        if o.has(&["--now"]) && matches!(verb, "disable" | "mask") {
            // `disable --now` also stops.
        }
        if o.has(&["--now"]) && verb == "enable" {
            units.retain(|_| true);
        }
        parts.push(self.service_verb("systemctl", verb, &units));
        combine(parts, diag("systemctl"))
    }

    /// One service verb (`restart`, `stop`...) on units, for systemctl, service and init scripts.
    fn service_verb(&self, tool: &str, verb: &str, units: &[Arg]) -> Verdict {
        const READ: &[&str] = &[
            "status", "is-active", "is-enabled", "is-failed", "is-system-running", "show", "list-units",
            "list-unit-files", "list-timers", "list-sockets", "list-jobs", "list-machines",
            "list-paths", "list-automounts", "cat", "list-dependencies", "help", "get-default",
            "show-environment_", "whoami", "log-level_",
        ];
        const START: &[&str] = &[
            "start", "restart", "reload", "try-restart", "reload-or-restart", "try-reload-or-restart",
            "condrestart", "force-reload", "reset-failed", "enable", "reenable", "unmask", "thaw",
            "reload-or-try-restart", "condreload",
        ];
        const STOP: &[&str] = &["stop", "disable", "mask", "kill", "freeze", "clean", "revert", "condstop"];
        const POWER: &[&str] = &[
            "reboot", "poweroff", "halt", "kexec", "suspend", "hibernate", "hybrid-sleep",
            "suspend-then-hibernate", "rescue", "emergency", "default", "isolate", "soft-reboot",
            "switch-root", "exit", "sleep",
        ];
        if READ.contains(&verb) {
            return diag_verb(tool, verb);
        }
        if verb == "show-environment" {
            return secret_approve("`systemctl show-environment` prints the service manager's environment");
        }
        if POWER.contains(&verb) {
            return Verdict::refuse(rules::POWER_STATE, format!("`{tool} {verb}` changes the power state or run level"));
        }
        if matches!(verb, "daemon-reload") {
            return Verdict::remediation(rules::SERVICE_CONTROL, "`daemon-reload` re-reads unit files");
        }
        let start = START.contains(&verb);
        let stop = STOP.contains(&verb);
        if !start && !stop {
            return match verb {
                "edit" | "set-property" | "set-default" | "link" | "preset" | "preset-all"
                | "set-environment" | "unset-environment" | "import-environment" | "add-wants"
                | "add-requires" | "daemon-reexec" | "bind" | "mount-image" | "log-level" | "log-target"
                | "service-log-level" | "service-log-target" | "enqueue-marked-jobs" => Verdict::approve(
                    rules::SERVICE_CONTROL,
                    format!("`{tool} {verb}` changes service configuration"),
                ),
                _ => self.unclassified(format!("`{tool} {verb}` is not a verb the safety rules know")),
            };
        }
        if units.is_empty() {
            return Verdict::approve(rules::SERVICE_CONTROL, format!("`{tool} {verb}` without a unit"));
        }
        let mut parts = Vec::new();
        for u in units {
            let text = u.text.as_str();
            if u.dynamic {
                let listed = u.mentions.iter().any(|m| m.starts_with("list-") || m == "--all" || m == "-a");
                match self.mentioned_protected(&u.mentions) {
                    Some(n) => parts.push(self.self_protect(&n, &format!("`{tool} {verb}` on units found by looking up"))),
                    None if listed => parts.push(self.self_protect(
                        "units listed at run time (they may include",
                        &format!("`{tool} {verb}` on"),
                    )),
                    None => parts.push(Verdict::approve(
                        rules::SERVICE_CONTROL,
                        format!("`{tool} {verb}` on a unit only known at run time (`{}`)", u.text),
                    )),
                }
            } else if self.is_protected_unit(text) {
                parts.push(self.self_protect(text, &format!("`{tool} {verb}` on")));
            } else if self.is_critical(text) {
                parts.push(if stop {
                    Verdict::refuse(
                        rules::CRITICAL_SERVICE,
                        format!("`{tool} {verb} {text}` would take down a critical service (remote access, networking or the container runtime)"),
                    )
                } else {
                    Verdict::approve(
                        rules::CRITICAL_SERVICE,
                        format!("`{tool} {verb} {text}` touches a critical service; a person must approve"),
                    )
                });
            } else if stop {
                parts.push(Verdict::approve(rules::SERVICE_CONTROL, format!("`{tool} {verb} {text}` stops a service")));
            } else {
                parts.push(Verdict::remediation(rules::SERVICE_CONTROL, format!("`{tool} {verb} {text}`")));
            }
        }
        combine(parts, diag(tool))
    }

    fn service(&self, rest: &[Arg]) -> Verdict {
        let ops: Vec<&Arg> = rest.iter().filter(|a| !a.text.starts_with('-')).collect();
        if rest.iter().any(|a| a.is("--status-all")) || ops.is_empty() {
            return diag("service");
        }
        match ops.get(1).and_then(|a| a.lit()) {
            Some(verb) => self.service_verb("service", verb, &[ops[0].clone()]),
            None if ops.get(1).is_some() => Verdict::refuse(rules::DYNAMIC_COMMAND, "the `service` verb is only known at run time"),
            None => diag("service"),
        }
    }

    /// A protected container an argument names (or may name, when dynamic).
    fn protected_container(&self, a: &Arg) -> Option<String> {
        let names = &self.policy.protected.containers;
        if a.dynamic {
            if let Some(n) = self.mentioned_protected(&a.mentions) {
                return Some(n);
            }
            let lists = a.mentions.iter().any(|m| matches!(m.as_str(), "ps" | "ls" | "-q" | "-aq" | "-qa"))
                && a.mentions.iter().any(|m| matches!(m.as_str(), "docker" | "podman" | "nerdctl" | "container"));
            if lists {
                return Some("containers listed at run time (they include Jarvis's container)".to_string());
            }
            return None;
        }
        let t = a.text.trim_start_matches('/');
        names
            .iter()
            .find(|n| n.as_str() == t || (a.glob && rules::glob_could_match(t, n)))
            .cloned()
    }

    fn docker(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let g = skip_options(rest, DOCKER_GLOBAL_VALUE);
        let mut parts = Vec::new();
        if rest[..g].iter().any(|a| a.lit().is_some_and(|t| t.starts_with("-H") || t.starts_with("--host") || t.starts_with("--url") || t.starts_with("--connection"))) {
            parts.push(Verdict::approve(rules::REMOTE_EXEC, format!("`{name} -H` acts on another machine")));
        }
        let args = &rest[g..];
        let Some(first) = args.first() else {
            return combine(parts, diag(name));
        };
        let Some(sub) = first.lit() else {
            parts.push(Verdict::refuse(rules::DYNAMIC_COMMAND, format!("the `{name}` subcommand is only known at run time")));
            return combine(parts, diag(name));
        };
        let (group, verb, tail): (&str, &str, &[Arg]) = match sub {
            "container" | "image" | "network" | "volume" | "system" | "builder" | "buildx" | "context" | "plugin" | "swarm" | "node" | "service" | "stack" | "secret" | "config" | "trust" | "manifest" | "pod" | "machine" => {
                match args.get(1).and_then(Arg::lit) {
                    Some(v) => (sub, v, &args[2..]),
                    None => {
                        parts.push(diag_verb(name, sub));
                        return combine(parts, diag(name));
                    }
                }
            }
            "compose" => {
                parts.push(self.compose(&format!("{name} compose"), &args[1..], env));
                return combine(parts, diag(name));
            }
            _ => ("", sub, &args[1..]),
        };
        let verb = match (group, verb) {
            ("container", "ls" | "list") => "ps",
            ("image", "ls" | "list") => "images",
            ("image", "rm" | "remove") => "rmi",
            (_, v) => v,
        };
        let shown = if group.is_empty() { verb.to_string() } else { format!("{group} {verb}") };
        let group = if group == "container" { "" } else { group };
        let v = match (group, verb) {
            ("", "--version" | "-v" | "version" | "info" | "--help" | "help" | "ps" | "images" | "inspect" | "top" | "port" | "diff" | "history" | "search")
            | ("image", "images" | "inspect" | "history")
            | ("system", "df" | "info")
            | ("builder" | "buildx", "ls" | "du" | "inspect") => diag_verb(name, &shown),
            ("", "logs") => {
                if tail.iter().any(|a| a.is("-f") || a.is("--follow")) {
                    streams(&format!("{name} logs -f"))
                } else {
                    diag_verb(name, "logs")
                }
            }
            ("", "stats") => {
                if tail.iter().any(|a| a.is("--no-stream")) {
                    diag_verb(name, "stats --no-stream")
                } else {
                    streams(&format!("{name} stats"))
                }
            }
            ("" | "system", "events") => {
                if tail.iter().any(|a| a.lit().is_some_and(|t| t.starts_with("--until"))) {
                    diag_verb(name, "events --until")
                } else {
                    streams(&format!("{name} events"))
                }
            }
            ("network" | "volume" | "context" | "plugin" | "node" | "service" | "stack" | "secret" | "config" | "pod" | "machine", sv) => match (group, sv) {
                (_, "ls" | "list" | "inspect" | "show" | "ps" | "logs" | "exists") => diag_verb(name, &shown),
                ("volume", "rm" | "remove" | "prune") => Verdict::refuse(rules::DATA_DESTROY, format!("`{name} {shown}` deletes volumes and the data in them")),
                ("network", _) => Verdict::approve(rules::NETWORK_CHANGE, format!("`{name} {shown}` changes container networking")),
                ("pod", "restart" | "start") => Verdict::remediation(rules::CONTAINER_CONTROL, format!("`{name} {shown}`")),
                _ => Verdict::approve(rules::CONTAINER_CONTROL, format!("`{name} {shown}`")),
            },
            ("system" | "image" | "builder" | "buildx" | "", "prune") => {
                let o = Opts::parse(tail, &["--filter", "--keep-storage", "--reserved-space", "--max-used-space", "--min-free-space"]);
                if o.has(&["--volumes"]) {
                    Verdict::refuse(rules::DATA_DESTROY, format!("`{name} {shown} --volumes` deletes volumes and their data"))
                } else if o.has(&["-a", "--all"]) {
                    Verdict::approve(rules::MAINTENANCE, format!("`{name} {shown} -a` removes every unused image"))
                } else {
                    Verdict::remediation(rules::MAINTENANCE, format!("`{name} {shown}` removes dangling images, stopped containers or build cache"))
                }
            }
            ("image", "rmi") => Verdict::approve(rules::CONTAINER_CONTROL, format!("`{name} rmi` removes images")),
            ("system" | "image" | "builder" | "buildx" | "trust" | "manifest" | "swarm", _) => Verdict::approve(rules::CONTAINER_CONTROL, format!("`{name} {shown}`")),
            ("", "restart" | "start" | "unpause" | "update") => {
                let o = Opts::parse(tail, &["-t", "--time", "-s", "--signal", "--timeout", "-m", "--memory", "--memory-swap", "--memory-reservation", "--cpus", "--cpu-shares", "-c", "--cpuset-cpus", "--cpuset-mems", "--restart", "--pids-limit", "--blkio-weight", "--kernel-memory", "--cpu-period", "--cpu-quota", "--cpu-rt-period", "--cpu-rt-runtime", "--detach-keys"]);
                self.containers(name, verb, &o.operands, false)
            }
            ("", "stop" | "kill" | "rm" | "pause" | "rename") => {
                let o = Opts::parse(tail, &["-t", "--time", "-s", "--signal", "--timeout"]);
                let ops: &[Arg] = if verb == "rename" { o.operands.get(..1).unwrap_or(&[]) } else { &o.operands };
                self.containers(name, verb, ops, true)
            }
            ("", "rmi") => Verdict::approve(rules::CONTAINER_CONTROL, format!("`{name} rmi` removes images")),
            ("", "pull") => Verdict::remediation(rules::MAINTENANCE, format!("`{name} pull` downloads an image")),
            ("", "attach" | "wait") => streams(&format!("{name} {verb}")),
            ("", "cp") => Verdict::approve(rules::FILE_WRITE, format!("`{name} cp` copies files into or out of a container")),
            ("", "login") => Verdict::approve(rules::SECRET_READ, format!("`{name} login` handles registry credentials")),
            ("", "run" | "create" | "build" | "commit" | "tag" | "push" | "save" | "load" | "import" | "export" | "logout" | "checkpoint") => {
                Verdict::approve(rules::CONTAINER_CONTROL, format!("`{name} {verb}`"))
            }
            _ => self.unclassified(format!("`{name} {shown}` is not a subcommand the safety rules know")),
        };
        parts.push(v);
        combine(parts, diag(name))
    }

    /// Control verbs on containers: restart-like (`stop == false`) run
    /// unattended for ordinary containers; stop-like need approval.
    fn containers(&self, tool: &str, verb: &str, names: &[Arg], stop: bool) -> Verdict {
        if names.is_empty() {
            return Verdict::approve(rules::CONTAINER_CONTROL, format!("`{tool} {verb}` without a container"));
        }
        let mut parts = Vec::new();
        for c in names {
            if let Some(p) = self.protected_container(c) {
                parts.push(self.self_protect(&p, &format!("`{tool} {verb}` on")));
            } else if c.dynamic {
                parts.push(Verdict::approve(rules::CONTAINER_CONTROL, format!("`{tool} {verb}` on containers only known at run time")));
            } else if c.text.len() >= 6 && c.text.chars().all(|ch| ch.is_ascii_hexdigit()) && c.text.chars().any(|ch| ch.is_ascii_digit()) {
                parts.push(Verdict::approve(rules::CONTAINER_CONTROL, format!("`{tool} {verb} {}` names a container by ID, which could be Jarvis", c.text)));
            } else if stop {
                parts.push(Verdict::approve(rules::CONTAINER_CONTROL, format!("`{tool} {verb} {}`", c.text)));
            } else {
                parts.push(Verdict::remediation(rules::CONTAINER_CONTROL, format!("`{tool} {verb} {}`", c.text)));
            }
        }
        combine(parts, diag(tool))
    }

    fn compose(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        const GLOBAL: &[&str] = &[
            "-f", "--file", "-p", "--project-name", "--project-directory", "--env-file", "--profile",
            "--ansi", "--progress", "--parallel", "-H", "--host", "-c", "--context",
        ];
        let g = skip_options(rest, GLOBAL);
        let global = Opts::parse(&rest[..g], GLOBAL);
        let mut protected: Option<String> = None;
        for p in global.all_values(&["-p", "--project-name"]) {
            protected = protected.or_else(|| self.protected_container(p));
        }
        for p in global.all_values(&["-f", "--file", "--project-directory", "--env-file"]) {
            let p = self.resolve(p, env);
            protected = protected.or_else(|| self.protected_path(&normalize_path(&p.text)));
        }
        if let Some(cwd) = &env.cwd {
            protected = protected.or_else(|| self.protected_path(cwd));
        }
        let args = &rest[g..];
        let Some(verb) = args.first().and_then(Arg::lit) else {
            return if args.is_empty() { diag(name) } else { Verdict::refuse(rules::DYNAMIC_COMMAND, format!("the `{name}` verb is only known at run time")) };
        };
        let o = Opts::parse(&args[1..], &["-t", "--timeout", "-n", "--tail", "--since", "--until", "--index", "-e", "--env", "-u", "--user", "-w", "--workdir", "--scale", "--pull", "--wait-timeout", "-s", "--signal", "--format", "--status", "--filter"]);
        for s in &o.operands {
            protected = protected.or_else(|| self.protected_container(s).filter(|_| !s.dynamic));
        }
        let what = format!("`{name} {verb}`");
        match verb {
            "ps" | "config" | "ls" | "images" | "top" | "version" | "port" | "convert" => diag_verb(name, verb),
            "logs" => {
                if o.has(&["-f", "--follow"]) {
                    streams(&format!("{name} logs -f"))
                } else {
                    diag_verb(name, verb)
                }
            }
            "events" => streams(&what),
            "restart" | "up" | "start" | "pull" | "create" | "unpause" => {
                if let Some(p) = protected {
                    self.self_protect(&p, &format!("{what} on"))
                } else if verb == "up" && !o.has(&["-d", "--detach", "--wait"]) {
                    Verdict::approve(rules::CONTAINER_CONTROL, format!("{what} without -d runs in the foreground"))
                } else if o.has(&["--remove-orphans", "-V", "--renew-anon-volumes"]) {
                    Verdict::approve(rules::CONTAINER_CONTROL, format!("{what} removes orphan containers or renews volumes"))
                } else {
                    Verdict::remediation(rules::CONTAINER_CONTROL, what)
                }
            }
            "down" | "stop" | "rm" | "kill" | "pause" => {
                if let Some(p) = protected {
                    self.self_protect(&p, &format!("{what} on"))
                } else if o.has(&["-v", "--volumes"]) {
                    Verdict::refuse(rules::DATA_DESTROY, format!("{what} --volumes deletes the project's volumes"))
                } else {
                    Verdict::approve(rules::CONTAINER_CONTROL, what)
                }
            }
            _ => match protected {
                Some(p) => self.self_protect(&p, &format!("{what} on")),
                None => Verdict::approve(rules::CONTAINER_CONTROL, what),
            },
        }
    }

    fn kubectl(&self, name: &str, rest: &[Arg], env: &mut Env, stdin: &Stdin) -> Verdict {
        const VALUE: &[&str] = &[
            "-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user", "-o", "--output",
            "-l", "--selector", "-c", "--container", "--tail", "--since", "-f", "--filename", "-s",
            "--server", "--field-selector", "--sort-by", "--replicas", "--timeout", "--token", "--as",
        ];
        let rest = if name == "k3s" { rest.get(1..).unwrap_or(&[]) } else { rest };
        let o = Opts::parse(rest, VALUE);
        let Some(verb) = o.verb() else {
            return if o.operands.is_empty() { diag(name) } else { Verdict::refuse(rules::DYNAMIC_COMMAND, "the `kubectl` verb is only known at run time") };
        };
        let sub = o.operands.get(1).and_then(Arg::lit).unwrap_or("");
        match verb {
            "get" | "describe" => {
                let secrets = o.operands[1..].iter().any(|a| a.lit().is_some_and(|t| t.split([',', '/']).any(|r| matches!(r, "secret" | "secrets" | "all"))));
                let dumps = o.value(&["-o", "--output"]).is_some_and(|f| f.lit().is_none_or(|f| !matches!(f, "name" | "wide")));
                if secrets && dumps && verb == "get" {
                    secret_refuse("`kubectl get secret -o …` prints secret values")
                } else {
                    diag_verb(name, verb)
                }
            }
            "logs" | "top" | "explain" | "version" | "api-resources" | "api-versions" | "cluster-info" | "auth" | "events" | "diff" | "wait" => {
                if verb == "logs" && o.has(&["-f", "--follow"]) {
                    streams("kubectl logs -f")
                } else {
                    diag_verb(name, verb)
                }
            }
            "config" => match sub {
                "view" if !o.has(&["--raw", "--flatten"]) => diag_verb(name, "config view"),
                "view" => secret_refuse("`kubectl config view --raw` prints credentials"),
                "get-contexts" | "current-context" | "get-clusters" | "get-users" => diag_verb(name, "config"),
                _ => Verdict::approve(rules::CONTAINER_CONTROL, "`kubectl config` changes the client configuration"),
            },
            "rollout" => match sub {
                "restart" => Verdict::remediation(rules::CONTAINER_CONTROL, "`kubectl rollout restart` restarts a workload's pods"),
                "status" | "history" => diag_verb(name, "rollout"),
                _ => Verdict::approve(rules::CONTAINER_CONTROL, format!("`kubectl rollout {sub}`")),
            },
            "exec" => {
                let inner = rest.iter().position(|a| a.is("--")).map(|i| &rest[i + 1..]).unwrap_or(&[]);
                let mut parts = vec![Verdict::approve(rules::REMOTE_EXEC, "`kubectl exec` runs a command in a pod")];
                if !inner.is_empty() {
                    parts.push(self.argv(inner, &mut Env::default(), stdin));
                }
                let _ = env;
                combine(parts, diag(name))
            }
            _ => Verdict::approve(rules::CONTAINER_CONTROL, format!("`{name} {verb}` changes the cluster")),
        }
    }
}

// ---------------------------------------------------------------------------
// Files and disks

impl<'a> Cx<'a> {
    fn rm(&self, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &[]);
        if o.has(&["--no-preserve-root"]) {
            return Verdict::refuse(rules::RECURSIVE_DELETE, "`rm --no-preserve-root` disables the protection of `/`");
        }
        let recursive = o.has(&["-r", "-R", "--recursive"]) || o.dynamic_flag;
        if o.operands.is_empty() {
            return diag("rm");
        }
        let parts = o
            .operands
            .iter()
            .map(|a| {
                let a = self.resolve(a, env);
                if recursive {
                    self.recursive_delete(&a)
                } else {
                    self.remove_target(&a, "`rm` removes")
                }
            })
            .collect();
        combine(parts, diag("rm"))
    }

    /// `rm -r` of one operand: allowed only for explicit paths inside `/tmp` or `/var/tmp`.
    fn recursive_delete(&self, a: &Arg) -> Verdict {
        let path = normalize_path(&a.text);
        if !a.dynamic
            && !a.glob
            && let Some(name) = self.protected_path(&path)
        {
            return self.self_protect(&name, &format!("`rm -r {path}` deletes files of"));
        }
        if a.dynamic {
            return Verdict::refuse(
                rules::RECURSIVE_DELETE,
                format!("`rm -r {}` deletes a path only known at run time recursively", a.text),
            );
        }
        if !path.starts_with('/') {
            return Verdict::refuse(
                rules::RECURSIVE_DELETE,
                format!("`rm -r {}` deletes recursively relative to an unknown directory", a.text),
            );
        }
        let below_root = ["/tmp/", "/var/tmp/"].iter().find_map(|r| path.strip_prefix(r));
        if let Some(tail) = below_root
            && rules::is_temp_path(&path)
        {
            let first = tail.split('/').next().unwrap_or("");
            let literal_first = !a.glob || !rules::has_glob(first);
            if literal_first && !a.text.ends_with('/') {
                return Verdict::remediation(
                    rules::RECURSIVE_DELETE,
                    format!("`rm -r {path}` deletes a directory inside a temporary directory"),
                );
            }
            return Verdict::refuse(
                rules::RECURSIVE_DELETE,
                format!("`rm -r {}` could delete everything in a temporary directory", a.text),
            );
        }
        Verdict::refuse(
            rules::RECURSIVE_DELETE,
            format!("`rm -r {}` deletes recursively outside a temporary directory", a.text),
        )
    }

    fn shred(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &["-n", "--iterations", "-s", "--size", "--random-source", "--remove"]);
        let parts = o
            .operands
            .iter()
            .map(|a| {
                let a = self.resolve(a, env);
                if a.dynamic || rules::is_block_device(&normalize_path(&a.text)) {
                    Verdict::refuse(rules::DISK_DESTROY, format!("`{name} {}` overwrites a device or unknown path", a.text))
                } else {
                    self.remove_target(&a, &format!("`{name}` destroys"))
                }
            })
            .collect();
        combine(parts, diag(name))
    }

    fn partitioner(&self, name: &str, rest: &[Arg]) -> Verdict {
        let list = rest.iter().any(|a| {
            a.lit().is_some_and(|t| {
                matches!(t, "-l" | "--list" | "-d" | "--dump" | "-s" | "--show-size" | "-p" | "--print" | "-i" | "--info" | "-V" | "--verify" | "--version" | "-v" | "print" | "-J" | "--json" | "-g" | "--show-geometry" | "--show" | "-o")
            })
        });
        let write = rest.iter().any(|a| {
            a.lit().is_some_and(|t| {
                matches!(t, "mklabel" | "mkpart" | "rm" | "resizepart" | "rescue" | "set" | "toggle" | "-Z" | "--zap-all" | "-z" | "--zap" | "-o" | "--clear" | "-n" | "--new" | "-d" | "--delete" | "-w" | "--wipe" | "--delete-partition_")
                    || (name == "sgdisk" && matches!(t, "-d" | "-n" | "-o" | "-Z" | "-z"))
            })
        });
        let write = write && !(name == "sfdisk" && rest.iter().any(|a| a.is("-d")));
        if list && !write && name != "parted" || (name == "parted" && list && !write) {
            diag(name)
        } else {
            Verdict::refuse(rules::DISK_DESTROY, format!("`{name}` changes the partition table"))
        }
    }

    fn dd(&self, rest: &[Arg], env: &Env) -> Verdict {
        let mut parts = Vec::new();
        for a in rest {
            if a.dynamic {
                parts.push(Verdict::refuse(rules::DISK_DESTROY, format!("`dd {}` with operands only known at run time", a.text)));
                continue;
            }
            if let Some(out) = a.text.strip_prefix("of=") {
                let target = self.resolve(&Arg::literal(out), env);
                if rules::is_block_device(&normalize_path(&target.text)) {
                    parts.push(Verdict::refuse(rules::DISK_DESTROY, format!("`dd of={out}` overwrites a block device")));
                } else {
                    parts.push(self.write_target(&target, "`dd` writes to"));
                }
            } else if let Some(input) = a.text.strip_prefix("if=") {
                let src = self.resolve(&Arg::literal(input), env);
                parts.extend(self.read_file(&src));
                if rules::is_block_device(&normalize_path(input)) {
                    parts.push(secret_approve(format!("`dd if={input}` reads a raw device")));
                }
            }
        }
        combine(parts, diag("dd"))
    }

    fn hdparm(&self, rest: &[Arg]) -> Verdict {
        let destroy = rest.iter().any(|a| {
            a.lit().is_some_and(|t| {
                t.starts_with("--security-") || t.starts_with("--trim-sector") || t.starts_with("--write-sector") || t.starts_with("--make-bad-sector") || t.starts_with("--fwdownload") || t.starts_with("--dco-") || t == "--yes-i-know-what-i-am-doing"
            })
        });
        if destroy {
            return Verdict::refuse(rules::DISK_DESTROY, "`hdparm` erases, overwrites or reflashes the drive");
        }
        let read = rest.iter().filter(|a| a.text.starts_with('-')).all(|a| a.lit().is_some_and(|t| matches!(t, "-I" | "-i" | "-t" | "-T" | "-tT" | "-Tt" | "-C" | "-g" | "-v" | "-V" | "-H" | "-r_")));
        if read {
            diag("hdparm")
        } else {
            Verdict::approve(rules::DISK_DESTROY, "`hdparm` changes drive settings")
        }
    }

    fn cryptsetup(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, &["-d", "--key-file", "-c", "--cipher", "-s", "--key-size", "-h", "--hash", "-S", "--key-slot", "--type", "--header"]);
        if o.has(&["--dump-master-key", "--dump-volume-key", "--dump-json-metadata_"]) {
            return secret_refuse("`cryptsetup --dump-master-key` prints the volume key");
        }
        match o.verb() {
            Some("status" | "luksDump" | "isLuks" | "luksUUID" | "tcryptDump" | "bitlkDump" | "benchmark") => diag("cryptsetup"),
            Some("open" | "close" | "luksOpen" | "luksClose" | "resize" | "refresh" | "luksAddKey" | "luksChangeKey") => {
                Verdict::approve(rules::DISK_DESTROY, "`cryptsetup` opens, closes or re-keys an encrypted volume")
            }
            _ => Verdict::refuse(rules::DISK_DESTROY, "`cryptsetup` formats, erases or removes keys from an encrypted volume"),
        }
    }

    fn fs_tool(&self, name: &str, rest: &[Arg]) -> Verdict {
        let read = match name {
            "tune2fs" => rest.iter().all(|a| a.text.starts_with('/') || a.is("-l")) && rest.iter().any(|a| a.is("-l")),
            "e2fsck" | "fsck" | "xfs_repair" => rest.iter().any(|a| a.is("-n") || a.is("-N")),
            _ => false,
        };
        if read {
            diag(name)
        } else {
            Verdict::approve(rules::DISK_DESTROY, format!("`{name}` changes volumes or filesystems"))
        }
    }

    fn mdadm(&self, rest: &[Arg]) -> Verdict {
        let has = |names: &[&str]| rest.iter().any(|a| a.lit().is_some_and(|t| names.contains(&t)));
        if has(&["--zero-superblock", "--create", "-C", "--build", "-B"]) {
            Verdict::refuse(rules::DISK_DESTROY, "`mdadm` creates arrays or erases superblocks")
        } else if has(&["--detail", "-D", "--examine", "-E", "--query", "-Q", "--detail-platform", "--version", "-V"]) || rest.is_empty() {
            diag("mdadm")
        } else {
            Verdict::approve(rules::DISK_DESTROY, "`mdadm` changes a RAID array")
        }
    }

    fn zfs(&self, name: &str, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, &["-o", "-O", "-t", "-s", "-S", "-d", "-R", "-T"]);
        let Some(verb) = o.verb() else {
            return diag(name);
        };
        match verb {
            "status" | "list" | "get" | "iostat" | "history" | "events" | "version" | "diff" | "holds" | "userspace" | "groupspace" | "projectspace" | "wait" => diag_verb(name, verb),
            "scrub" | "trim" => {
                if verb == "scrub" && o.has(&["-s"]) {
                    Verdict::approve(rules::MAINTENANCE, "`zpool scrub -s` cancels a scrub")
                } else {
                    Verdict::remediation(rules::MAINTENANCE, format!("`{name} {verb}` checks or trims the pool"))
                }
            }
            "destroy" | "rollback" => Verdict::refuse(rules::DATA_DESTROY, format!("`{name} {verb}` destroys datasets, snapshots or newer data")),
            "labelclear" | "create" | "split" | "initialize" | "reguid" => Verdict::refuse(rules::DISK_DESTROY, format!("`{name} {verb}` overwrites or reshapes disks")),
            _ => Verdict::approve(rules::MAINTENANCE, format!("`{name} {verb}` changes the pool or datasets")),
        }
    }

    fn btrfs(&self, rest: &[Arg]) -> Verdict {
        let ops: Vec<&str> = rest.iter().filter(|a| !a.text.starts_with('-')).map(|a| a.lit().unwrap_or("*")).collect();
        let is = |w: &str, full: &str| w.len() >= 2 && full.starts_with(w) || w == full;
        let group = ops.first().copied().unwrap_or("");
        let cmd = ops.get(1).copied().unwrap_or("");
        let cmd2 = ops.get(2).copied().unwrap_or("");
        let read = (is(group, "filesystem") && (is(cmd, "df") || is(cmd, "show") || is(cmd, "usage") || is(cmd, "label") && ops.len() <= 3))
            || (is(group, "device") && (is(cmd, "stats") && !rest.iter().any(|a| a.is("-z") || a.is("--reset")) || is(cmd, "usage")))
            || ((is(group, "scrub") || is(group, "balance") || is(group, "replace")) && is(cmd, "status"))
            || (is(group, "subvolume") && (is(cmd, "list") || is(cmd, "show") || is(cmd, "get-default")))
            || (is(group, "qgroup") && is(cmd, "show"))
            || (is(group, "inspect-internal"))
            || group == "version" || group.is_empty();
        if read {
            return diag("btrfs");
        }
        if (is(group, "subvolume") && is(cmd, "delete")) || (is(group, "device") && is(cmd, "remove") && cmd2.is_empty()) {
            return Verdict::refuse(rules::DATA_DESTROY, "`btrfs subvolume delete` destroys a subvolume and its data");
        }
        if is(group, "check") && rest.iter().any(|a| a.is("--repair")) {
            return Verdict::refuse(rules::DISK_DESTROY, "`btrfs check --repair` can make damage worse");
        }
        Verdict::approve(rules::MAINTENANCE, format!("`btrfs {}` changes the filesystem", render(rest)))
    }

    fn truncate(&self, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &["-s", "--size", "-r", "--reference", "-o_"]);
        let zero = o.value(&["-s", "--size"]).and_then(Arg::lit).is_some_and(|s| {
            let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            !digits.is_empty() && digits.chars().all(|c| c == '0')
        });
        let parts = o
            .operands
            .iter()
            .map(|a| {
                let a = self.resolve(a, env);
                let path = normalize_path(&a.text);
                if zero && !a.dynamic && !a.glob && rules::is_log_path(&path) {
                    if let Some(name) = self.protected_path(&path) {
                        return self.self_protect(&name, &format!("`truncate {path}` empties a log of"));
                    }
                    Verdict::remediation(rules::LOG_MAINTENANCE, format!("`truncate -s 0 {path}` empties a log file"))
                } else {
                    self.write_target(&a, "`truncate` changes")
                }
            })
            .collect();
        combine(parts, diag("truncate"))
    }

    /// Destination paths of `cp`/`mv`/`install`: `(sources, targets)`.
    fn copy_targets(&self, o: &Opts, env: &Env) -> (Vec<Arg>, Vec<Arg>) {
        let ops: Vec<Arg> = o.operands.iter().map(|a| self.resolve(a, env)).collect();
        if let Some(dir) = o.value(&["-t", "--target-directory"]) {
            let dir = self.resolve(dir, env);
            let targets = ops.iter().map(|s| join_into(&dir, s)).collect();
            return (ops, targets);
        }
        let Some((dest, sources)) = ops.split_last() else {
            return (Vec::new(), Vec::new());
        };
        if sources.is_empty() {
            return (Vec::new(), vec![dest.clone()]);
        }
        let dest_norm = normalize_path(&dest.text);
        let into_dir = !o.has(&["-T", "--no-target-directory"])
            && (sources.len() > 1
                || dest.text.ends_with('/')
                || dest.text == "."
                || matches!(dest_norm.as_str(), "/" | "/tmp" | "/var/tmp" | "/etc" | "/root" | "/home" | "/usr/local/bin" | "/usr/bin" | "/bin" | "/sbin" | "/usr/sbin" | "/var/log" | "/opt" | "/srv"));
        let targets = if into_dir {
            sources.iter().map(|s| join_into(dest, s)).collect()
        } else {
            vec![dest.clone()]
        };
        (sources.to_vec(), targets)
    }

    fn copy(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &["-t", "--target-directory", "-S", "--suffix", "-m", "--mode", "-o", "--owner", "-g", "--group", "--backup_", "--context_"]);
        let mut parts = Vec::new();
        if name == "install" && o.has(&["-d", "--directory"]) {
            for d in &o.operands {
                parts.push(self.write_target(&self.resolve(d, env), "`install -d` creates"));
            }
            return combine(parts, diag(name));
        }
        let (sources, targets) = self.copy_targets(&o, env);
        let recursive = o.has(&["-r", "-R", "-a", "--recursive", "--archive"]);
        for s in &sources {
            parts.extend(self.read_file(s));
            if recursive && (s.dynamic || rules::dir_contains_secrets(&s.text)) {
                parts.push(secret_approve(format!("`{name} -r {}` copies a tree that may hold secrets", s.text)));
            }
        }
        for t in &targets {
            parts.push(self.write_target(t, &format!("`{name}` writes to")));
        }
        if targets.is_empty() {
            parts.push(Verdict::approve(rules::FILE_WRITE, format!("`{name} {}`", render(rest))));
        }
        combine(parts, diag(name))
    }

    fn mv(&self, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &["-t", "--target-directory", "-S", "--suffix", "--backup_"]);
        let (sources, targets) = self.copy_targets(&o, env);
        let mut parts = Vec::new();
        for s in &sources {
            parts.push(self.remove_target(s, "`mv` moves away"));
            if rules::is_temp_path(&normalize_path(&s.text)) {
                parts.extend(self.read_file(s));
            }
        }
        for t in &targets {
            let path = normalize_path(&t.text);
            if !t.dynamic && rules::is_null_sink(&path) {
                parts.push(Verdict::refuse(rules::SYSTEM_WRITE, format!("`mv` onto `{path}` replaces the device with a regular file")));
            } else {
                parts.push(self.write_target(t, "`mv` writes to"));
            }
        }
        if targets.is_empty() {
            parts.push(Verdict::approve(rules::FILE_WRITE, format!("`mv {}`", render(rest))));
        }
        combine(parts, diag("mv"))
    }

    fn ln(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &["-t", "--target-directory", "-S", "--suffix"]);
        let ops: Vec<Arg> = o.operands.iter().map(|a| self.resolve(a, env)).collect();
        let links: Vec<Arg> = if let Some(dir) = o.value(&["-t", "--target-directory"]) {
            ops.iter().map(|s| join_into(&self.resolve(dir, env), s)).collect()
        } else if ops.len() == 1 {
            vec![Arg { text: rules::basename(&ops[0].text).to_string(), ..ops[0].clone() }]
        } else if ops.len() == 2 && !ops[1].text.ends_with('/') {
            vec![ops[1].clone()]
        } else {
            match ops.split_last() {
                Some((dir, srcs)) => srcs.iter().map(|s| join_into(dir, s)).collect(),
                None => Vec::new(),
            }
        };
        let mut parts = Vec::new();
        for l in &links {
            let path = normalize_path(&l.text);
            if !l.dynamic && rules::is_null_sink(&path) {
                parts.push(Verdict::refuse(rules::SYSTEM_WRITE, format!("`{name}` replaces `{path}`")));
            } else {
                parts.push(self.write_target(l, &format!("`{name}` creates a link at")));
            }
        }
        combine(parts, diag(name))
    }

    fn permissions(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &["--reference", "-m", "--modify", "-x", "--remove", "-M", "--modify-file", "-X", "--remove-file", "--set", "--set-file", "-n", "--name", "-v", "--value", "-u", "--user", "-r", "--role", "-t", "--type", "-l", "--range", "--from"]);
        let recursive = o.has(&["-R", "--recursive"]) || (name == "chattr" && o.has(&["-R"])) || (name == "restorecon" && o.has(&["-r", "-R"]));
        if recursive {
            return Verdict::refuse(rules::PERMISSION_CHANGE, format!("`{name} -R` changes permissions of a whole tree"));
        }
        let mut ops: Vec<Arg> = o.operands.clone();
        let mut parts = Vec::new();
        // The mode, owner or attribute spec comes first (unless --reference or setfacl).
        let spec = match name {
            "chmod" | "chown" | "chgrp" | "chcon" if o.value(&["--reference"]).is_none() => {
                if ops.is_empty() { None } else { Some(ops.remove(0)) }
            }
            "chattr" => {
                let i = ops.iter().position(|a| a.text.starts_with(['+', '=']));
                i.map(|i| ops.remove(i))
            }
            _ => None,
        };
        if name == "chmod" {
            // `chmod -x file`: a mode that looks like an option.
            let mode = spec.clone().or_else(|| rest.iter().find(|a| a.lit().is_some_and(|t| t.len() > 1 && t.starts_with('-') && t[1..].chars().all(|c| "rwxXst".contains(c)))).cloned());
            if let Some(m) = mode {
                let t = m.text.as_str();
                let numeric_bad = t.chars().all(|c| c.is_ascii_digit()) && {
                    let digits: Vec<u32> = t.chars().filter_map(|c| c.to_digit(8)).collect();
                    let n = digits.len();
                    let others = if n >= 1 { digits[n - 1] } else { 0 };
                    let special = if n >= 4 { digits[n - 4] } else { 0 };
                    others & 2 != 0 || special & 6 != 0
                };
                let symbolic_bad = !t.chars().all(|c| c.is_ascii_digit())
                    && (t.contains('s') || (t.contains("+w") || t.contains("=w") || t.contains("=rw") || t.contains("+rw")) && (t.starts_with('o') || t.starts_with('a') || t.starts_with('+') || t.starts_with('=')) || t.contains("o+") && t.contains('w'));
                if m.dynamic || numeric_bad || symbolic_bad {
                    return Verdict::refuse(rules::PERMISSION_CHANGE, format!("`chmod {t}` makes files world-writable or set-id"));
                }
            }
        }
        if name == "chattr" && spec.as_ref().is_some_and(|s| s.text.contains('i') || s.text.contains('a')) {
            parts.push(Verdict::approve(rules::PERMISSION_CHANGE, "`chattr +i/+a` makes files immutable or append-only"));
        }
        if ops.is_empty() {
            parts.push(Verdict::approve(rules::PERMISSION_CHANGE, format!("`{name} {}`", render(rest))));
        }
        for f in &ops {
            let f = self.resolve(f, env);
            let path = normalize_path(&f.text);
            if let Some((_, what)) = rules::protected_write(&path) {
                parts.push(Verdict::refuse(rules::PERMISSION_CHANGE, format!("`{name}` on `{path}`: {what}")));
            } else if let Some(n) = self.protected_path(&path) {
                parts.push(self.self_protect(&n, &format!("`{name} {path}` changes permissions of")));
            } else if f.dynamic || f.glob && !f.text.starts_with("/tmp/") {
                parts.push(Verdict::approve(rules::PERMISSION_CHANGE, format!("`{name}` on `{}`, paths only known at run time", f.text)));
            } else {
                parts.push(Verdict::approve(rules::PERMISSION_CHANGE, format!("`{name}` on `{path}`")));
            }
        }
        combine(parts, diag(name))
    }
}

/// `dir/basename(src)`.
fn join_into(dir: &Arg, src: &Arg) -> Arg {
    let base = rules::basename(&src.text);
    Arg {
        text: format!("{}/{}", dir.text.trim_end_matches('/'), base),
        dynamic: dir.dynamic || src.dynamic,
        glob: dir.glob || src.glob,
        mentions: dir.mentions.iter().chain(&src.mentions).cloned().collect(),
    }
}

// ---------------------------------------------------------------------------
// Networking

impl<'a> Cx<'a> {
    fn iptables(&self, name: &str, rest: &[Arg]) -> Verdict {
        const CHANGE_LONG: &[&str] = &[
            "--append", "--delete", "--insert", "--replace", "--flush", "--zero", "--new-chain",
            "--delete-chain", "--policy", "--rename-chain", "--new", "--init-table", "--atomic-commit",
            "--atomic-init", "--atomic-save", "--change-counters", "--set-counters",
        ];
        let mut list = false;
        let mut change = false;
        for a in rest {
            let Some(t) = a.lit() else {
                change = true;
                continue;
            };
            if let Some(long) = t.strip_prefix("--") {
                let long = format!("--{}", long.split('=').next().unwrap_or(""));
                if matches!(long.as_str(), "--list" | "--list-rules" | "--check") {
                    list = true;
                } else if CHANGE_LONG.contains(&long.as_str()) {
                    change = true;
                }
            } else if let Some(letters) = t.strip_prefix('-') {
                for c in letters.chars() {
                    match c {
                        'L' | 'S' | 'C' => list = true,
                        'A' | 'D' | 'I' | 'R' | 'F' | 'Z' | 'N' | 'X' | 'P' | 'E' => change = true,
                        _ => {}
                    }
                }
            }
        }
        if list && !change {
            diag(name)
        } else {
            Verdict::refuse(rules::FIREWALL, format!("`{name} {}` changes the firewall", render(rest)))
        }
    }

    fn nft(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, &["-f", "--file", "-I", "--includepath", "-D", "--define", "-o_"]);
        if o.has(&["-c", "--check", "-v", "--version", "-h", "--help"]) && o.value(&["-f", "--file"]).is_none_or(|_| o.has(&["-c", "--check"])) {
            return diag("nft");
        }
        if o.value(&["-f", "--file"]).is_some() {
            return Verdict::refuse(rules::FIREWALL, "`nft -f` loads a firewall ruleset");
        }
        let words: Vec<&str> = o.operands.iter().map(|a| a.lit().unwrap_or("*")).collect();
        let first = words.first().copied().unwrap_or("");
        if words.is_empty() || matches!(first, "list" | "describe" | "monitor") && !words.contains(&"*") {
            diag("nft")
        } else {
            Verdict::refuse(rules::FIREWALL, format!("`nft {}` changes the firewall", render(rest)))
        }
    }

    fn ip(&self, rest: &[Arg]) -> Verdict {
        let mut i = 0;
        while let Some(t) = rest.get(i).and_then(Arg::lit) {
            if !t.starts_with('-') {
                break;
            }
            if matches!(t, "-b" | "-batch" | "--batch" | "-force") {
                return Verdict::refuse(rules::NETWORK_CHANGE, "`ip -batch` runs commands from a file");
            }
            i += if matches!(t, "-n" | "-netns" | "-f" | "-family" | "-l" | "-loops" | "-rc" | "-rcvbuf") { 2 } else { 1 };
        }
        let object = rest.get(i);
        let Some(object) = object else { return diag("ip") };
        let Some(obj) = object.lit() else {
            return Verdict::refuse(rules::NETWORK_CHANGE, "`ip` object only known at run time");
        };
        if obj.starts_with("mon") {
            return streams("ip monitor");
        }
        if obj == "xfrm" {
            return secret_approve("`ip xfrm` shows IPsec state including keys");
        }
        match rest.get(i + 1) {
            None => diag("ip"),
            Some(cmd) => match cmd.lit() {
                Some("show" | "list" | "lst" | "get" | "help" | "sh") => diag("ip"),
                Some(c) if obj == "netns" && matches!(c, "identify" | "pids" | "list-id") => diag("ip"),
                Some(c) if c.starts_with("dev") || c == "to" || c == "table" => diag("ip"),
                _ => Verdict::refuse(
                    rules::NETWORK_CHANGE,
                    format!("`ip {}` changes addresses, links or routes", render(&rest[i..])),
                ),
            },
        }
    }

    fn nmcli(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, &["-f", "--fields", "-m", "--mode", "-c", "--colors", "-e", "--escape", "-w", "--wait", "-g", "--get-values"]);
        if o.has(&["-s", "--show-secrets"]) {
            return secret_refuse("`nmcli --show-secrets` prints Wi-Fi and VPN secrets");
        }
        let words: Vec<&str> = o.operands.iter().map(|a| a.lit().unwrap_or("*")).collect();
        let verb = words.get(1).copied();
        let read = match verb {
            None => !words.contains(&"*"),
            Some("status" | "show" | "list" | "permissions") => true,
            Some("wifi") => matches!(words.get(2).copied(), None | Some("list")),
            Some("hostname" | "logging") => words.len() == 2,
            _ => false,
        };
        if read {
            diag("nmcli")
        } else {
            Verdict::refuse(rules::NETWORK_CHANGE, format!("`nmcli {}` changes networking", render(rest)))
        }
    }

    fn wg(&self, rest: &[Arg]) -> Verdict {
        let words: Vec<&str> = rest.iter().map(|a| a.lit().unwrap_or("*")).collect();
        match words.first().copied() {
            None | Some("show") => {
                if words.iter().any(|w| matches!(*w, "private-key" | "preshared-keys" | "dump" | "*")) {
                    secret_refuse("`wg show … private-key|preshared-keys|dump` prints WireGuard keys")
                } else {
                    diag("wg show")
                }
            }
            Some("showconf") => secret_refuse("`wg showconf` prints the interface's private key"),
            Some("genkey" | "genpsk") => secret_approve("`wg genkey` prints a new private key"),
            Some("pubkey") => diag("wg pubkey"),
            Some("set" | "setconf" | "addconf" | "syncconf") => Verdict::approve(rules::NETWORK_CHANGE, "`wg set` changes a WireGuard interface"),
            _ => Verdict::approve(rules::NETWORK_CHANGE, format!("`wg {}`", render(rest))),
        }
    }

    fn curl(&self, rest: &[Arg], env: &Env) -> Verdict {
        const VALUE: &[&str] = &[
            "-d", "--data", "--data-binary", "--data-raw", "--data-ascii", "--data-urlencode", "-F",
            "--form", "--form-string", "-T", "--upload-file", "-X", "--request", "-o", "--output",
            "-H", "--header", "-u", "--user", "-x", "--proxy", "-A", "--user-agent", "-e",
            "--referer", "-b", "--cookie", "-c", "--cookie-jar", "-D", "--dump-header", "-K",
            "--config", "--trace", "--trace-ascii", "-m", "--max-time", "--connect-timeout",
            "--retry", "-w", "--write-out", "--cacert", "--capath", "--cert", "-E", "--key",
            "--resolve", "--connect-to", "--unix-socket", "--abstract-unix-socket", "-r", "--range",
            "-Y", "-y", "--limit-rate", "--output-dir", "--json", "-z", "--time-cond", "--stderr",
            "--interface", "--dns-servers", "--retry-delay", "--retry-max-time", "--max-filesize",
            "--proto", "--proto-redir", "-Q", "--quote", "--netrc-file", "--url", "--variable",
            "--expand-data_", "-t", "--telnet-option", "--libcurl", "--etag-save", "--etag-compare",
            "--hsts", "--alt-svc", "--oauth2-bearer", "--aws-sigv4", "--ciphers", "--pinnedpubkey",
        ];
        let o = Opts::parse(rest, VALUE);
        let mut parts = Vec::new();
        let send_flags = ["-d", "--data", "--data-binary", "--data-raw", "--data-ascii", "--data-urlencode", "-F", "--form", "--form-string", "-T", "--upload-file", "--json"];
        for (flag, v) in &o.values {
            let f = flag.as_str();
            if send_flags.contains(&f) {
                parts.push(Verdict::approve(rules::REMOTE_EXEC, format!("`curl {f}` sends data to a remote service, which may act on it")));
                let file = if matches!(f, "-T" | "--upload-file") {
                    Some(v.clone())
                } else if matches!(f, "-F" | "--form") {
                    v.text.split_once("=@").or_else(|| v.text.split_once("=<")).map(|(_, p)| Arg { text: p.split(';').next().unwrap_or(p).to_string(), ..v.clone() })
                } else {
                    v.text.strip_prefix('@').map(|p| Arg { text: p.to_string(), ..v.clone() })
                };
                if let Some(file) = file {
                    parts.extend(self.read_file(&self.resolve(&file, env)));
                }
            }
            match f {
                "-X" | "--request" => {
                    if v.lit().is_none_or(|m| !matches!(m.to_ascii_uppercase().as_str(), "GET" | "HEAD" | "OPTIONS")) {
                        parts.push(Verdict::approve(rules::REMOTE_EXEC, format!("`curl -X {}` asks a remote service to change something", v.text)));
                    }
                }
                "-o" | "--output" | "-c" | "--cookie-jar" | "-D" | "--dump-header" | "--trace" | "--trace-ascii" | "--stderr" | "--libcurl" | "--etag-save" | "--hsts" | "--alt-svc" => {
                    if !v.is("-") {
                        parts.push(self.write_target(&self.resolve(v, env), &format!("`curl {f}` writes to")));
                    }
                }
                "--output-dir" => parts.push(self.write_target(&self.resolve(v, env), "`curl --output-dir` writes into")),
                "-K" | "--config" => parts.push(Verdict::approve(rules::UNCLASSIFIED, "`curl -K` reads options from a file")),
                "-Q" | "--quote" => parts.push(Verdict::approve(rules::REMOTE_EXEC, "`curl -Q` sends raw commands to a server")),
                "--url" => parts.extend(self.url(v)),
                "--netrc-file" | "--key" | "-E" | "--cert" => parts.extend(self.read_file(v)),
                _ => {}
            }
        }
        if o.has(&["-O", "--remote-name", "--remote-name-all", "-J"]) {
            parts.push(Verdict::approve(rules::FILE_WRITE, "`curl -O` saves into the working directory"));
        }
        for u in &o.operands {
            parts.extend(self.url(u));
        }
        combine(parts, diag("curl"))
    }

    /// `file://` URLs read local files; odd schemes talk raw protocols.
    fn url(&self, u: &Arg) -> Option<Verdict> {
        let t = u.text.to_ascii_lowercase();
        if let Some(path) = u.text.get(7..).filter(|_| t.starts_with("file://")) {
            let path = path.strip_prefix("localhost").unwrap_or(path);
            return Some(self.read_file(&Arg { text: path.to_string(), ..u.clone() }).unwrap_or_else(|| diag("curl file://")));
        }
        if ["gopher://", "dict://", "telnet://", "ldap://", "smtp://", "tftp://", "scp://", "sftp://", "ftp://", "mqtt://"].iter().any(|s| t.starts_with(s)) {
            return Some(Verdict::approve(rules::REMOTE_EXEC, format!("`{}` talks a raw protocol", u.text)));
        }
        None
    }

    fn wget(&self, rest: &[Arg], env: &Env) -> Verdict {
        const VALUE: &[&str] = &[
            "-O", "--output-document", "-o", "--output-file", "-a", "--append-output", "-P",
            "--directory-prefix", "-i", "--input-file", "--post-data", "--post-file", "--method",
            "--body-data", "--body-file", "-U", "--user-agent", "--header", "-T", "--timeout", "-t",
            "--tries", "--user", "--password", "--load-cookies", "--save-cookies", "-e", "--execute",
            "-w", "--wait", "-l", "--level", "-Q", "--quota", "--ca-certificate", "--certificate",
            "--private-key", "-B", "--base", "--config", "--limit-rate", "--bind-address", "-D", "--domains",
            "-A", "--accept", "-R", "--reject", "--referer",
        ];
        let o = Opts::parse(rest, VALUE);
        let mut parts = Vec::new();
        let mut to_stdout = false;
        let mut output = false;
        for (flag, v) in &o.values {
            match flag.as_str() {
                "-O" | "--output-document" => {
                    output = true;
                    if v.is("-") {
                        to_stdout = true;
                    } else {
                        parts.push(self.write_target(&self.resolve(v, env), "`wget -O` writes to"));
                    }
                }
                "-o" | "--output-file" | "-a" | "--append-output" | "--save-cookies" => {
                    parts.push(self.write_target(&self.resolve(v, env), "`wget` writes to"));
                }
                "-P" | "--directory-prefix" => {
                    output = true;
                    parts.push(self.write_target(&self.resolve(v, env), "`wget -P` writes into"));
                }
                "--post-data" | "--body-data" => parts.push(Verdict::approve(rules::REMOTE_EXEC, "`wget --post-data` sends data to a remote service")),
                "--post-file" | "--body-file" => {
                    parts.push(Verdict::approve(rules::REMOTE_EXEC, "`wget --post-file` uploads a file"));
                    parts.extend(self.read_file(&self.resolve(v, env)));
                }
                "--method" => {
                    if v.lit().is_none_or(|m| !matches!(m.to_ascii_uppercase().as_str(), "GET" | "HEAD")) {
                        parts.push(Verdict::approve(rules::REMOTE_EXEC, format!("`wget --method={}` asks a remote service to change something", v.text)));
                    }
                }
                "-e" | "--execute" | "--config" => parts.push(Verdict::approve(rules::UNCLASSIFIED, "`wget -e` runs wgetrc commands")),
                "-i" | "--input-file" | "--private-key" | "--certificate" | "--load-cookies" => parts.extend(self.read_file(v)),
                _ => {}
            }
        }
        if o.has(&["-r", "--recursive", "-m", "--mirror"]) && !to_stdout {
            parts.push(Verdict::approve(rules::FILE_WRITE, "`wget -r` mirrors a site into the working directory"));
        }
        if !output && !o.has(&["--spider", "-S_"]) {
            parts.push(Verdict::approve(rules::FILE_WRITE, "`wget` saves into the working directory"));
        }
        for u in &o.operands {
            parts.extend(self.url(u));
        }
        combine(parts, diag("wget"))
    }

    fn transfer(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        const VALUE: &[&str] = &["-P", "-p", "-i", "-o", "-F", "-J", "-l", "-S", "-c", "-e", "--rsh", "--exclude", "--include", "--exclude-from", "--include-from", "--files-from", "--filter", "-f", "--rsync-path", "--password-file", "--log-file", "--chmod", "--chown", "--bwlimit", "--timeout", "--backup-dir", "--suffix", "--partial-dir", "--temp-dir", "-T", "--compare-dest", "--copy-dest", "--link-dest", "--max-size", "--min-size", "--port", "--out-format", "--info", "--debug", "-B", "--block-size", "--usermap", "--groupmap", "--max-delete", "--modify-window", "--skip-compress", "--iconv", "-M", "--remote-option", "--sockopts", "--outbuf", "--stop-after", "--stop-at", "--checksum-choice", "--compress-choice", "--compress-level", "--contimeout", "--address", "--protocol", "--write-batch", "--read-batch", "--only-write-batch", "--early-input", "--mkpath_"];
        let o = Opts::parse(rest, VALUE);
        let mut parts = Vec::new();
        if o.value(&["-e", "--rsh", "--rsync-path", "-o"]).is_some() {
            parts.push(Verdict::approve(rules::REMOTE_EXEC, format!("`{name}` with a custom remote shell or program")));
        }
        let remote = |a: &Arg| {
            let t = &a.text;
            t.starts_with("rsync://") || t.find(':').is_some_and(|c| t.find('/').is_none_or(|s| c < s))
        };
        let Some((dest, sources)) = o.operands.split_last() else {
            return diag(name);
        };
        if sources.is_empty() {
            return diag(name);
        }
        if o.operands.iter().any(remote) {
            parts.push(Verdict::approve(rules::REMOTE_EXEC, format!("`{name}` copies files to or from another machine")));
        }
        for s in sources.iter().filter(|s| !remote(s)) {
            let s = self.resolve(s, env);
            parts.extend(self.read_file(&s));
            if s.dynamic || rules::dir_contains_secrets(&s.text) && (name == "rsync" || o.has(&["-r"])) {
                parts.push(secret_approve(format!("`{name}` copies `{}`, which may hold secrets", s.text)));
            }
        }
        if !remote(dest) {
            let d = self.resolve(dest, env);
            parts.push(self.write_target(&d, &format!("`{name}` writes to")));
        }
        if o.flags.iter().any(|f| f.starts_with("--delete") || f == "--remove-source-files") {
            parts.push(Verdict::approve(rules::FILE_DELETE, format!("`{name} --delete` removes files at the destination")));
        }
        parts.push(Verdict::approve(rules::FILE_WRITE, format!("`{name}` copies files")));
        combine(parts, diag(name))
    }

    fn ssh_keygen(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, &["-f", "-F", "-R", "-t", "-b", "-C", "-N", "-P", "-E", "-I", "-n", "-V", "-z", "-Z", "-a", "-O", "-s", "-D", "-w", "-Y", "-r", "-m", "-M", "-G", "-T"]);
        if o.has(&["-l", "-B"]) || o.value(&["-F"]).is_some() || o.has(&["-y"]) && !o.has(&["-p"]) {
            diag("ssh-keygen")
        } else if o.value(&["-R"]).is_some() {
            Verdict::approve(rules::USER_ADMIN, "`ssh-keygen -R` removes a known host key")
        } else {
            Verdict::approve(rules::USER_ADMIN, "`ssh-keygen` creates or changes SSH key material")
        }
    }

    fn kill(&self, rest: &[Arg]) -> Verdict {
        let mut signal: Option<String> = None;
        let mut pids: Vec<&Arg> = Vec::new();
        let mut i = 0;
        let mut ended = false;
        while let Some(a) = rest.get(i) {
            i += 1;
            let t = a.text.as_str();
            if a.dynamic || ended {
                pids.push(a);
                continue;
            }
            match t {
                "--" => ended = true,
                "-l" | "-L" | "--list" | "--table" => return diag("kill -l"),
                "-s" | "-n" | "--signal" => {
                    signal = rest.get(i).map(|s| s.text.clone());
                    i += 1;
                }
                t if t.starts_with("--signal=") => signal = Some(t["--signal=".len()..].to_string()),
                t if t.starts_with('-') && t.len() > 1 && !t[1..].chars().all(|c| c.is_ascii_digit()) || signal.is_none() && t.starts_with('-') && t.len() > 1 && pids.is_empty() && i < rest.len() => {
                    signal = Some(t[1..].to_string());
                }
                _ => pids.push(a),
            }
        }
        let sig = signal.unwrap_or_default().to_ascii_uppercase();
        let sig = sig.trim_start_matches("SIG");
        if sig == "0" {
            return diag("kill -0");
        }
        if pids.is_empty() {
            return diag("kill");
        }
        let mut parts = Vec::new();
        for p in pids {
            if p.dynamic {
                match self.mentioned_protected(&p.mentions) {
                    Some(n) => parts.push(self.self_protect(&n, "`kill` signals processes found by looking up")),
                    None => parts.push(Verdict::approve(rules::PROCESS_KILL, format!("`kill` of processes only known at run time (`{}`)", p.mentions.join(" ")))),
                }
                continue;
            }
            match p.text.as_str() {
                "1" => parts.push(Verdict::refuse(rules::PROCESS_KILL, "`kill 1` signals init (PID 1): the host goes down")),
                "-1" => parts.push(Verdict::refuse(rules::PROCESS_KILL, "`kill -1` signals every process")),
                "0" | "-0" => parts.push(Verdict::refuse(rules::PROCESS_KILL, "`kill 0` signals the whole process group, including the shell")),
                t => parts.push(Verdict::approve(rules::PROCESS_KILL, format!("`kill` of process `{t}`"))),
            }
        }
        combine(parts, diag("kill"))
    }

    fn pkill(&self, name: &str, rest: &[Arg]) -> Verdict {
        const VALUE: &[&str] = &["-s", "--signal", "-u", "--euid", "-U", "--uid", "-g", "--pgroup", "-G", "--group", "-P", "--parent", "-t", "--terminal", "-F", "--pidfile", "--session", "--ns", "--nslist", "-c_", "-o_", "-n_"];
        let mut args = Vec::new();
        // `pkill -9 x`, `killall -HUP x`: signal as an option.
        for a in rest {
            if a.lit().is_some_and(|t| t.len() > 1 && t.starts_with('-') && (t[1..].chars().all(|c| c.is_ascii_digit()) || t[1..].chars().all(|c| c.is_ascii_uppercase()))) {
                continue;
            }
            args.push(a.clone());
        }
        let o = Opts::parse(&args, VALUE);
        let full = o.has(&["-f", "--full"]);
        let exact = o.has(&["-x", "--exact", "-e"]);
        let ignore_case = o.has(&["-i", "--ignore-case", "-I"]);
        let regex_mode = name == "pkill" || o.has(&["-r", "--regexp"]);
        if o.has(&["-l", "--list", "-V", "--version"]) && o.operands.is_empty() {
            return diag(name);
        }
        if let Some(f) = o.value(&["-F", "--pidfile"])
            && let Some(n) = self.protected_path(&normalize_path(&f.text))
        {
            return self.self_protect(&n, &format!("`{name} -F` signals the process in a pid file of"));
        }
        if o.operands.is_empty() {
            return if o.value(&["-u", "--euid", "-U", "--uid", "-g", "--pgroup", "-G", "--group", "-t", "--terminal", "--session"]).is_some() {
                Verdict::refuse(rules::PROCESS_KILL, format!("`{name}` without a pattern signals every process of a user, group or session"))
            } else {
                Verdict::approve(rules::PROCESS_KILL, format!("`{name} {}`", render(rest)))
            };
        }
        let names = self.protected_names();
        let samples: Vec<String> = names
            .iter()
            .flat_map(|n| {
                [
                    n.to_string(),
                    format!("/usr/local/bin/{n} --config /etc/{n}/config.toml"),
                    format!("/usr/bin/{n} serve"),
                    format!("/app/{n}"),
                ]
            })
            .collect();
        let mut parts = Vec::new();
        for p in &o.operands {
            let Some(pattern) = p.lit() else {
                parts.push(match self.mentioned_protected(&p.mentions) {
                    Some(n) => self.self_protect(&n, &format!("`{name}` matches")),
                    None => self.self_protect("processes only known at run time, possibly", &format!("`{name}` matches")),
                });
                continue;
            };
            let hit = if regex_mode {
                let re = if exact { format!("^(?:{pattern})$") } else { pattern.to_string() };
                match RegexBuilder::new(&re).case_insensitive(ignore_case).build() {
                    Ok(re) => {
                        let pool: Vec<String> = if full {
                            samples.clone()
                        } else {
                            names.iter().map(|n| n.chars().take(15).collect()).collect()
                        };
                        pool.iter().find(|s| re.is_match(s)).map(|_| pattern.to_string())
                    }
                    // An invalid ERE may still be valid for procps: be careful.
                    Err(_) => Some(pattern.to_string()),
                }
            } else {
                let cmp = |n: &str| {
                    if ignore_case {
                        n.eq_ignore_ascii_case(pattern)
                    } else {
                        n == pattern || (!exact && pattern.len() >= 15 && n.len() >= 15 && n[..15] == pattern[..15])
                    }
                };
                names.iter().find(|n| cmp(n)).map(|n| n.to_string())
            };
            match hit {
                Some(_) => parts.push(self.self_protect(pattern, &format!("`{name}` matches Jarvis's processes with"))),
                None => parts.push(Verdict::approve(rules::PROCESS_KILL, format!("`{name} {pattern}` signals matching processes"))),
            }
        }
        combine(parts, diag(name))
    }

    fn sysctl(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, &["-p_", "--pattern", "-r"]);
        if o.has(&["-w", "--write", "-p", "--load", "--system", "-f"]) || o.operands.iter().any(|a| a.text.contains('=') || a.dynamic) {
            Verdict::refuse(rules::KERNEL, "`sysctl -w`/`-p` changes kernel parameters")
        } else {
            diag("sysctl")
        }
    }
}

// ---------------------------------------------------------------------------
// Archives

impl<'a> Cx<'a> {
    fn tar(&self, rest: &[Arg], env: &Env) -> Verdict {
        let mut mode: Option<char> = None;
        let mut archive: Option<Arg> = None;
        let mut dir: Option<Arg> = None;
        let mut operands: Vec<Arg> = Vec::new();
        let mut parts = Vec::new();
        let mut i = 0;
        let mut first = true;
        while let Some(a) = rest.get(i) {
            i += 1;
            let Some(t) = a.lit() else {
                operands.push(a.clone());
                first = false;
                continue;
            };
            let old_style = first && !t.starts_with('-') && t.chars().all(|c| c.is_ascii_alphabetic());
            first = false;
            if let Some(long) = t.strip_prefix("--") {
                let (n, v) = long.split_once('=').map_or((long, None), |(n, v)| (n, Some(v)));
                let take = |i: &mut usize| -> Option<Arg> {
                    match v {
                        Some(v) => Some(Arg::literal(v)),
                        None => {
                            *i += 1;
                            rest.get(*i - 1).cloned()
                        }
                    }
                };
                match n {
                    "create" => mode = Some('c'),
                    "extract" | "get" => mode = Some('x'),
                    "list" => mode = Some('t'),
                    "append" | "update" | "concatenate" | "catenate" => mode = Some('r'),
                    "delete" => mode = Some('d'),
                    "diff" | "compare" => mode = Some('t'),
                    "file" => archive = take(&mut i),
                    "directory" => dir = take(&mut i),
                    "to-command" | "use-compress-program" | "checkpoint-action" | "info-script" | "new-volume-script" | "rsh-command" | "rmt-command" => {
                        parts.push(Verdict::approve(rules::INTERPRETER_CODE, format!("`tar --{n}` runs a program")));
                        if v.is_none() {
                            i += 1;
                        }
                    }
                    "remove-files" => parts.push(Verdict::approve(rules::FILE_DELETE, "`tar --remove-files` deletes the sources")),
                    "exclude" | "files-from" | "transform" | "xform" | "owner" | "group" | "mode" | "mtime" | "newer" | "after-date" | "newer-mtime" | "exclude-from" | "label" | "format" | "blocking-factor" | "record-size" | "strip-components" | "suffix" | "tape-length" | "volno-file" | "index-file" | "warning" | "quoting-style" | "occurrence" | "sort" | "exclude-tag" | "exclude-tag-all" | "exclude-tag-under" | "checkpoint" => {
                        if v.is_none() && !matches!(n, "checkpoint") {
                            i += 1;
                        }
                    }
                    _ => {}
                }
                continue;
            }
            let letters = if old_style { Some(t) } else { t.strip_prefix('-').filter(|l| !l.is_empty()) };
            let Some(letters) = letters else {
                operands.push(a.clone());
                continue;
            };
            for c in letters.chars() {
                match c {
                    'c' | 'x' | 't' | 'r' | 'u' | 'd' | 'A' => mode = Some(if c == 'u' || c == 'A' { 'r' } else { c }),
                    'f' => {
                        archive = rest.get(i).cloned();
                        i += 1;
                    }
                    'C' => {
                        dir = rest.get(i).cloned();
                        i += 1;
                    }
                    'I' | 'F' => {
                        parts.push(Verdict::approve(rules::INTERPRETER_CODE, "`tar -I`/`-F` runs a program"));
                        i += 1;
                    }
                    'T' | 'X' | 'b' | 'g' | 'H' | 'K' | 'L' | 'N' | 'V' => i += 1,
                    _ => {}
                }
            }
        }
        let archive = archive.map(|a| self.resolve(&a, env));
        match mode {
            Some('t') => {
                parts.extend(archive.iter().filter_map(|a| self.read_file(a)));
                combine(parts, diag("tar -t"))
            }
            Some('c') | Some('r') => {
                match &archive {
                    Some(a) if !a.is("-") => parts.push(self.write_target(a, "`tar` writes the archive to")),
                    _ => {}
                }
                let base = dir.as_ref().map(|d| self.resolve(d, env));
                for s in &operands {
                    let s = match &base {
                        Some(b) if !s.text.starts_with('/') => join_into(b, &Arg { text: s.text.clone(), ..s.clone() }),
                        _ => self.resolve(s, env),
                    };
                    parts.extend(self.read_file(&s));
                    if s.dynamic || rules::dir_contains_secrets(&s.text) {
                        parts.push(secret_approve(format!("`tar` archives `{}`, which may hold secrets", s.text)));
                    }
                }
                combine(parts, diag("tar -c"))
            }
            Some('x') => {
                parts.extend(archive.iter().filter_map(|a| self.read_file(a)));
                let target = match &dir {
                    Some(d) => Some(self.resolve(d, env)),
                    None => env.cwd.as_ref().map(|c| Arg::literal(c)),
                };
                match target {
                    Some(t) => {
                        let path = normalize_path(&t.text);
                        if path == "/" || rules::protected_write(&path).is_some() && !rules::is_temp_path(&path) {
                            parts.push(Verdict::refuse(rules::SYSTEM_WRITE, format!("`tar -x` extracts into `{path}`")));
                        } else {
                            parts.push(self.write_target(&join_into(&t, &Arg::literal("extracted")), "`tar -x` extracts into"));
                        }
                    }
                    None => parts.push(Verdict::approve(rules::FILE_WRITE, "`tar -x` extracts into the working directory")),
                }
                combine(parts, diag("tar -x"))
            }
            Some('d') => {
                parts.push(Verdict::approve(rules::FILE_WRITE, "`tar --delete` rewrites an archive"));
                combine(parts, diag("tar"))
            }
            _ => {
                if rest.iter().any(|a| a.is("--version") || a.is("--help")) {
                    diag("tar")
                } else {
                    combine(parts, Verdict::approve(rules::FILE_WRITE, format!("`tar {}`", render(rest))))
                }
            }
        }
    }

    fn zip(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &["-d", "-x", "-i", "-P", "--password", "-o_"]);
        let listing = match name {
            "unzip" => o.has(&["-l", "-t", "-v", "-Z", "-z", "-p", "-c"]),
            "7z" | "7za" | "7zr" => matches!(o.verb(), Some("l" | "t" | "i" | "h")),
            "unrar" | "rar" => matches!(o.verb(), Some("l" | "lt" | "lb" | "v" | "t" | "p")),
            _ => o.has(&["-T", "--test", "-sf"]),
        };
        let archive = o.operands.first().map(|a| self.resolve(a, env));
        if listing {
            return combine(archive.iter().filter_map(|a| self.read_file(a)).collect(), diag(name));
        }
        let mut parts = Vec::new();
        match name {
            "zip" => {
                if let Some(a) = &archive {
                    parts.push(self.write_target(a, "`zip` writes the archive to"));
                }
                for s in o.operands.iter().skip(1) {
                    let s = self.resolve(s, env);
                    parts.extend(self.read_file(&s));
                    if o.has(&["-r", "-R"]) && (s.dynamic || rules::dir_contains_secrets(&s.text)) {
                        parts.push(secret_approve(format!("`zip -r` archives `{}`, which may hold secrets", s.text)));
                    }
                }
                if o.has(&["-m", "--move"]) {
                    parts.push(Verdict::approve(rules::FILE_DELETE, "`zip -m` deletes the sources"));
                }
            }
            "unzip" => match o.value(&["-d"]) {
                Some(d) => parts.push(self.write_target(&join_into(&self.resolve(d, env), &Arg::literal("extracted")), "`unzip -d` extracts into")),
                None => parts.push(match &env.cwd {
                    Some(c) => self.write_target(&Arg::literal(&format!("{c}/extracted")), "`unzip` extracts into"),
                    None => Verdict::approve(rules::FILE_WRITE, "`unzip` extracts into the working directory"),
                }),
            },
            _ => parts.push(Verdict::approve(rules::FILE_WRITE, format!("`{name}` writes or extracts archives"))),
        }
        combine(parts, diag(name))
    }

    fn compress(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &["-S", "--suffix", "-o", "--output", "-T", "--threads", "-b", "-p", "--processes", "-M", "--memlimit", "-F", "--format", "-C", "--check", "-L_", "--patch-from"]);
        if o.has(&["-c", "--stdout", "--to-stdout", "-l", "--list", "-t", "--test", "-V", "--version", "-h", "--help"]) {
            let files: Vec<Arg> = o.operands.iter().map(|a| self.resolve(a, env)).collect();
            return combine(self.read_files(files.iter()), diag(name));
        }
        if o.has(&["-r", "--recursive"]) {
            return Verdict::approve(rules::FILE_WRITE, format!("`{name} -r` replaces every file in a tree"));
        }
        let mut parts = Vec::new();
        if let Some(out) = o.value(&["-o", "--output"]) {
            parts.push(self.write_target(&self.resolve(out, env), &format!("`{name}` writes to")));
        }
        let keep = o.has(&["-k", "--keep"]) || matches!(name, "zstd" | "unzstd" | "lz4" | "unlz4");
        for f in &o.operands {
            let f = self.resolve(f, env);
            let path = normalize_path(&f.text);
            if !f.dynamic && !f.glob && (rules::is_rotated_log(&path) || rules::is_temp_path(&path)) {
                parts.push(Verdict::remediation(rules::LOG_MAINTENANCE, format!("`{name} {path}` compresses a rotated log or temporary file")));
            } else if keep {
                parts.push(self.write_target(&Arg { text: format!("{path}.out"), ..f.clone() }, &format!("`{name}` writes next to")));
            } else {
                parts.push(self.remove_target(&f, &format!("`{name}` replaces")));
            }
        }
        combine(parts, diag(name))
    }
}

// ---------------------------------------------------------------------------
// Packages

fn package_verdict(tool: &str, verb: &str, read: &[&str], clean: &[&str], install: &[&str], remove: &[&str]) -> Option<Verdict> {
    if read.contains(&verb) {
        Some(diag_verb(tool, verb))
    } else if clean.contains(&verb) {
        Some(Verdict::remediation(rules::MAINTENANCE, format!("`{tool} {verb}` cleans package caches")))
    } else if remove.contains(&verb) {
        Some(Verdict::refuse(rules::PACKAGE_REMOVAL, format!("`{tool} {verb}` removes packages")))
    } else if install.contains(&verb) {
        Some(Verdict::approve(rules::PACKAGE_CHANGE, format!("`{tool} {verb}` installs or upgrades packages")))
    } else {
        None
    }
}

impl<'a> Cx<'a> {
    fn apt(&self, name: &str, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, &["-o", "--option", "-c", "--config-file", "-t", "--target-release", "-a", "--host-architecture", "-P_"]);
        if o.all_values(&["-o", "--option"]).iter().any(|v| v.dynamic || v.text.to_ascii_lowercase().contains("invoke") || v.text.to_ascii_lowercase().contains("::pre") || v.text.to_ascii_lowercase().contains("::post")) {
            return Verdict::refuse(rules::INTERPRETER_CODE, format!("`{name} -o …Invoke…` runs arbitrary commands"));
        }
        let Some(verb) = o.verb() else {
            return if o.operands.is_empty() { diag(name) } else { Verdict::refuse(rules::DYNAMIC_COMMAND, format!("the `{name}` verb is only known at run time")) };
        };
        let simulate = o.has(&["-s", "--simulate", "--just-print", "--dry-run", "--recon", "--no-act"]);
        if matches!(verb, "install" | "reinstall") && o.operands[1..].iter().any(|a| a.text.ends_with('-')) {
            return Verdict::refuse(rules::PACKAGE_REMOVAL, format!("`{name} install pkg-` removes packages"));
        }
        if o.has(&["--purge", "--auto-remove", "--autoremove"]) && !simulate {
            return Verdict::refuse(rules::PACKAGE_REMOVAL, format!("`{name} --purge/--autoremove` removes packages"));
        }
        let v = package_verdict(
            name,
            verb,
            &["list", "show", "policy", "search", "showpkg", "depends", "rdepends", "madison", "changelog", "showsrc", "stats", "why", "why-not", "versions"],
            &["clean", "autoclean", "auto-clean"],
            &["install", "upgrade", "full-upgrade", "dist-upgrade", "reinstall", "build-dep", "satisfy", "update", "check", "download", "source", "safe-upgrade", "hold", "unhold", "markauto", "unmarkauto", "edit-sources", "dselect-upgrade"],
            &["remove", "purge", "autoremove", "autopurge"],
        );
        match v {
            Some(v) if simulate && v.decision != Decision::Allow => Verdict::diagnostic(rules::DIAGNOSTIC, format!("`{name} -s {verb}` only simulates")),
            Some(v) => v,
            None => self.unclassified(format!("`{name} {verb}` is not a verb the safety rules know")),
        }
    }

    fn dpkg(&self, rest: &[Arg]) -> Verdict {
        let flags: Vec<&str> = rest.iter().filter_map(Arg::lit).filter(|t| t.starts_with('-')).collect();
        let has = |names: &[&str]| flags.iter().any(|f| names.iter().any(|n| f == n || f.starts_with(&format!("{n}="))));
        if has(&["--dry-run", "--no-act", "--simulate"]) {
            return diag("dpkg --dry-run");
        }
        if has(&["-r", "--remove", "-P", "--purge"]) {
            Verdict::refuse(rules::PACKAGE_REMOVAL, "`dpkg -r/-P` removes packages")
        } else if has(&["-i", "--install", "--unpack", "--configure", "-a_", "--set-selections", "--clear-selections", "--clear-avail", "--update-avail", "--merge-avail", "--triggers-only", "--force-all", "--add-architecture", "--remove-architecture"]) {
            Verdict::approve(rules::PACKAGE_CHANGE, "`dpkg` installs or configures packages")
        } else if has(&["-l", "--list", "-L", "--listfiles", "-s", "--status", "-S", "--search", "-p", "--print-avail", "--get-selections", "--audit", "-C", "--print-architecture", "--print-foreign-architectures", "--compare-versions", "-c", "--contents", "-I", "--info", "--verify", "-V", "--version", "--help", "-f", "--field", "-W", "--show"]) {
            diag("dpkg")
        } else {
            self.unclassified("`dpkg` with options the safety rules do not know")
        }
    }

    fn yum(&self, name: &str, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, &["-c", "--config", "--setopt", "--enablerepo", "--disablerepo", "--repo", "--releasever", "-d", "-e", "--installroot", "-x", "--exclude", "--root", "-r_"]);
        if name == "pacman" {
            let first = o.flags.first().map(String::as_str).unwrap_or("");
            return match first {
                "-Q" | "--query" => diag("pacman -Q"),
                "-S" | "--sync" if o.has(&["-s", "-i", "-l", "-g"]) && !o.has(&["-y", "-u"]) => diag("pacman -Ss"),
                "-S" | "--sync" if o.has(&["-c"]) => Verdict::remediation(rules::MAINTENANCE, "`pacman -Sc` cleans the package cache"),
                "-R" | "--remove" => Verdict::refuse(rules::PACKAGE_REMOVAL, "`pacman -R` removes packages"),
                _ => Verdict::approve(rules::PACKAGE_CHANGE, format!("`pacman {}`", render(rest))),
            };
        }
        let Some(verb) = o.verb() else {
            return diag(name);
        };
        let sub = o.operands.get(1).and_then(Arg::lit).unwrap_or("");
        if verb == "history" && matches!(sub, "" | "list" | "info" | "summary") {
            return diag_verb(name, verb);
        }
        if verb == "clean" || (verb == "cache" && sub == "clean") {
            return Verdict::remediation(rules::MAINTENANCE, format!("`{name} clean` cleans package caches"));
        }
        let v = package_verdict(
            name,
            verb,
            &["list", "info", "search", "provides", "whatprovides", "repolist", "check-update", "deplist", "updateinfo", "repoquery", "se", "if", "lr", "ls", "lp", "pa", "packages", "patches", "lu", "list-updates", "repos", "products", "patterns", "what-provides", "wp", "check", "alias", "version", "help", "needs-restarting", "lpa"],
            &["makecache", "ref", "refresh"],
            &["install", "in", "update", "up", "upgrade", "reinstall", "downgrade", "groupinstall", "localinstall", "distro-sync", "dup", "dist-upgrade", "patch", "group", "module", "swap", "upgrade-minimal", "mark"],
            &["remove", "rm", "erase", "autoremove", "groupremove", "purge"],
        );
        v.unwrap_or_else(|| self.unclassified(format!("`{name} {verb}` is not a verb the safety rules know")))
    }

    fn rpm(&self, rest: &[Arg]) -> Verdict {
        let first = rest.iter().filter_map(Arg::lit).find(|t| t.starts_with('-')).unwrap_or("");
        if first.starts_with("-q") || matches!(first, "--query" | "-V" | "--verify" | "-K" | "--checksig" | "--version" | "--querytags" | "--showrc" | "--eval" | "-E") {
            if rest.iter().any(|a| a.is("--eval") || a.is("-E")) && rest.iter().any(|a| a.text.contains("%(") || a.text.contains("lua:")) {
                return Verdict::refuse(rules::INTERPRETER_CODE, "`rpm --eval` with a shell or Lua macro runs code");
            }
            diag("rpm")
        } else if first.starts_with("-e") || first == "--erase" {
            Verdict::refuse(rules::PACKAGE_REMOVAL, "`rpm -e` removes packages")
        } else {
            Verdict::approve(rules::PACKAGE_CHANGE, format!("`rpm {}` installs or changes packages", render(rest)))
        }
    }

    fn apk(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, &["-X", "--repository", "-p", "--root", "--arch", "--cache-dir", "--keys-dir", "--repositories-file", "-t", "--virtual"]);
        let Some(verb) = o.verb() else { return diag("apk") };
        let sub = o.operands.get(1).and_then(Arg::lit).unwrap_or("");
        if verb == "cache" && matches!(sub, "clean" | "purge") {
            return Verdict::remediation(rules::MAINTENANCE, "`apk cache clean` cleans the package cache");
        }
        package_verdict(
            "apk",
            verb,
            &["info", "search", "list", "policy", "stats", "version", "dot", "audit", "verify"],
            &[],
            &["add", "upgrade", "update", "fix", "cache", "fetch"],
            &["del", "delete"],
        )
        .unwrap_or_else(|| self.unclassified(format!("`apk {verb}` is not a verb the safety rules know")))
    }

    fn snap(&self, name: &str, rest: &[Arg]) -> Verdict {
        let Some(verb) = Opts::parse(rest, &[]).verb().map(str::to_string) else { return diag(name) };
        package_verdict(
            name,
            &verb,
            &["list", "info", "find", "search", "version", "changes", "services", "logs", "connections", "interfaces", "get", "ps", "remote-ls", "remotes", "history", "warnings", "tasks", "saved", "aliases", "model", "whoami"],
            &[],
            &["refresh", "install", "revert", "enable", "start", "restart", "set", "connect", "disconnect", "disable", "stop", "update", "upgrade", "switch", "alias", "save", "run", "unset", "repair", "override", "mask", "unmask", "pin"],
            &["remove", "uninstall", "forget", "purge"],
        )
        .unwrap_or_else(|| self.unclassified(format!("`{name} {verb}` is not a verb the safety rules know")))
    }

    fn pip(&self, name: &str, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, &["-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-t", "--target", "--python", "--prefix", "--root", "--cache-dir", "-f", "--find-links", "--log"]);
        let Some(verb) = o.verb() else { return diag(name) };
        let sub = o.operands.get(1).and_then(Arg::lit).unwrap_or("");
        if verb == "cache" {
            return if matches!(sub, "purge" | "remove") {
                Verdict::remediation(rules::MAINTENANCE, format!("`{name} cache purge` cleans the download cache"))
            } else {
                diag_verb(name, "cache")
            };
        }
        if name == "uv" && matches!(verb, "run" | "tool") {
            return self.unclassified("`uv run` runs code that is not known here");
        }
        package_verdict(
            name,
            verb,
            &["list", "show", "freeze", "check", "search", "index", "inspect", "debug", "config", "help", "tree", "--version", "-V", "environments"],
            &[],
            &["install", "download", "wheel", "upgrade", "upgrade-all", "inject", "reinstall", "ensurepath", "sync", "lock", "add", "pip", "venv", "build"],
            &["uninstall", "uninstall-all", "remove"],
        )
        .unwrap_or_else(|| self.unclassified(format!("`{name} {verb}` is not a verb the safety rules know")))
    }

    fn npm(&self, name: &str, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, &["--prefix", "-C", "--cwd", "--registry", "-w", "--workspace"]);
        let Some(verb) = o.verb() else { return diag(name) };
        let sub = o.operands.get(1).and_then(Arg::lit).unwrap_or("");
        if verb == "cache" {
            return if matches!(sub, "clean" | "clear" | "verify" | "prune") {
                Verdict::remediation(rules::MAINTENANCE, format!("`{name} cache clean` cleans the package cache"))
            } else {
                diag_verb(name, "cache")
            };
        }
        if verb == "audit" && sub == "fix" {
            return Verdict::approve(rules::PACKAGE_CHANGE, format!("`{name} audit fix` changes dependencies"));
        }
        if verb == "config" && !matches!(sub, "get" | "list" | "ls" | "") {
            return Verdict::approve(rules::PACKAGE_CHANGE, format!("`{name} config {sub}` changes configuration"));
        }
        package_verdict(
            name,
            verb,
            &["ls", "list", "la", "ll", "outdated", "view", "info", "show", "search", "doctor", "audit", "config", "why", "explain", "help", "version", "-v", "--version", "root", "bin", "prefix", "ping", "whoami", "fund", "query"],
            &[],
            &["install", "i", "add", "update", "up", "upgrade", "ci", "install-ci-test", "link", "dedupe", "rebuild", "global", "import"],
            &["uninstall", "remove", "rm", "un", "r", "unlink", "prune", "delete"],
        )
        .unwrap_or_else(|| self.unclassified(format!("`{name} {verb}` runs scripts or changes state the safety rules do not know")))
    }
}

// ---------------------------------------------------------------------------
// Certificates, databases, appliances

/// What a SQL (or Mongo/Redis-like) statement does.
fn sql_verdict(tool: &str, sql: &str) -> Verdict {
    let lower = sql.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '\\'))
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    if has("drop") || has("truncate") || lower.contains("dropdatabase") || lower.contains(".drop(") || has("flushall") || has("flushdb") || lower.contains("deletemany({})") || lower.contains("remove({})") {
        return Verdict::refuse(rules::DATA_DESTROY, format!("`{tool}` statement drops or truncates data"));
    }
    if lower.contains("\\!") || lower.contains("\\copy") || has("copy") && (lower.contains("program") || lower.contains(" to ")) || lower.contains("into outfile") || lower.contains("into dumpfile") || lower.contains("load_file") || lower.contains("pg_read_file") || lower.contains("system(") {
        return Verdict::refuse(rules::INTERPRETER_CODE, format!("`{tool}` statement runs shell commands or reads and writes server files"));
    }
    let read_only = ["select", "show", "explain", "describe", "desc", "\\l", "\\dt", "\\d", "\\du", "\\dn", "\\conninfo", "\\x", "values", "with", "pragma", "status", "db", "version"];
    let starts = lower
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .all(|s| {
            let first = s.split_whitespace().next().unwrap_or("");
            read_only.contains(&first) || first.starts_with("\\d") || first.starts_with("db.") && ["find(", "count", "stats(", "getcollectionnames(", "serverstatus(", "version("].iter().any(|r| s.contains(r))
        });
    let writes = ["insert", "update", "delete", "alter", "create", "grant", "revoke", "set", "call", "do", "lock", "vacuum", "reindex", "cluster", "kill", "shutdown", "replace", "merge", "rename"];
    if starts && !words.iter().any(|w| writes.contains(w)) {
        Verdict::diagnostic(rules::DIAGNOSTIC, format!("`{tool}` runs a read-only query"))
    } else {
        Verdict::approve(rules::DATA_DESTROY, format!("`{tool}` statement changes data or settings"))
    }
}

impl<'a> Cx<'a> {
    fn certbot(&self, rest: &[Arg], stdin: &Stdin) -> Verdict {
        let o = Opts::parse(rest, &["--deploy-hook", "--pre-hook", "--post-hook", "--renew-hook", "--manual-auth-hook", "--manual-cleanup-hook", "-d", "--domains", "--cert-name", "-m", "--email", "--config-dir", "--work-dir", "--logs-dir", "-a", "--authenticator", "-i", "--installer", "-w", "--webroot-path", "--key-type", "--rsa-key-size", "--server", "--preferred-challenges", "--cert-path", "--key-path", "--fullchain-path", "--chain-path", "-c", "--config"]);
        let mut parts = Vec::new();
        for hook in o.all_values(&["--deploy-hook", "--pre-hook", "--post-hook", "--renew-hook", "--manual-auth-hook", "--manual-cleanup-hook"]) {
            parts.push(self.shell_string(hook, stdin, "a `certbot` hook"));
        }
        let v = match o.verb() {
            Some("certificates" | "plugins" | "show_account") => diag_verb("certbot", "certificates"),
            Some("renew") => Verdict::remediation(rules::MAINTENANCE, "`certbot renew` renews certificates that are due"),
            Some("revoke" | "delete") => Verdict::approve(rules::MAINTENANCE, "`certbot revoke|delete` removes certificates"),
            _ if o.has(&["--version", "-h", "--help"]) => diag("certbot"),
            _ => Verdict::approve(rules::MAINTENANCE, format!("`certbot {}` issues or installs certificates", render(rest))),
        };
        parts.push(v);
        combine(parts, diag("certbot"))
    }

    fn openssl(&self, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &[]);
        let Some(sub) = o.verb() else {
            return if rest.is_empty() { streams("openssl") } else { diag("openssl") };
        };
        // openssl options are single-dash words (`-in`, `-out`, `-noout`).
        let value_of = |flag: &str| rest.iter().position(|a| a.is(flag)).and_then(|i| rest.get(i + 1));
        let has = |flag: &str| rest.iter().any(|a| a.is(flag));
        let mut parts = Vec::new();
        if let Some(out) = value_of("-out") {
            parts.push(self.write_target(&self.resolve(out, env), "`openssl -out` writes to"));
        }
        for flag in ["-passin", "-pass", "-kfile"] {
            if value_of(flag).is_some_and(|v| v.text.starts_with("file:") || v.text.starts_with("env:")) {
                parts.push(secret_approve("`openssl` reads a password from a file or the environment"));
            }
        }
        let v = match sub {
            "x509" | "verify" | "version" | "crl" | "ciphers" | "s_client" | "list" | "rand" | "speed" | "errstr" | "help" | "asn1parse" | "crl2pkcs7" | "ocsp" | "nseq" | "sess_id" | "prime" | "storeutl_" => {
                diag_verb("openssl", sub)
            }
            "req" => {
                if has("-new") || has("-x509") || has("-newkey") {
                    Verdict::approve(rules::USER_ADMIN, "`openssl req -new` creates keys or certificates")
                } else {
                    diag_verb("openssl", sub)
                }
            }
            "rsa" | "ec" | "pkey" | "dsa" | "pkcs8" | "pkcs12" | "pkeyutl" | "rsautl" => {
                let safe = (has("-pubout") && !has("-text")) || (has("-noout") && !has("-text") && !has("-info"));
                let input = value_of("-in").cloned();
                if safe {
                    diag_verb("openssl", sub)
                } else {
                    secret_refuse(format!(
                        "`openssl {sub}` reads a private key{} and prints it",
                        input.map(|i| format!(" (`{}`)", i.text)).unwrap_or_default()
                    ))
                }
            }
            "genrsa" | "genpkey" | "ecparam" | "dhparam" | "gendsa" | "ca" | "x509_sign_" | "kdf" | "passwd" => {
                Verdict::approve(rules::USER_ADMIN, format!("`openssl {sub}` creates keys, parameters or signatures"))
            }
            "enc" | "base64" | "dgst" | "cms" | "smime" | "md5" | "sha256" | "sha1" | "sha512" | "mac" => {
                parts.extend(value_of("-in").and_then(|f| self.read_file(&self.resolve(f, env))));
                for f in o.operands.iter().skip(1) {
                    parts.extend(self.read_file(&self.resolve(f, env)));
                }
                diag_verb("openssl", sub)
            }
            "s_server" | "engine" => Verdict::approve(rules::REMOTE_EXEC, format!("`openssl {sub}` opens a server or loads code")),
            _ => self.unclassified(format!("`openssl {sub}` is not a subcommand the safety rules know")),
        };
        parts.push(v);
        combine(parts, diag("openssl"))
    }

    fn redis(&self, rest: &[Arg], stdin: &Stdin) -> Verdict {
        let o = Opts::parse(rest, &["-h", "-p", "-s", "-a", "--user", "--pass", "-u", "-n", "-r", "-i", "-d", "-D", "--pattern", "--count", "--rdb", "--functions-rdb", "--eval", "--cluster", "--memkeys-samples", "--tls-cert", "--cacert", "--key", "--replica_", "--quoted-pattern", "--lru-test", "-t"]);
        if o.has(&["--version", "-v"]) {
            return diag("redis-cli");
        }
        if o.value(&["--eval"]).is_some() {
            return Verdict::approve(rules::INTERPRETER_CODE, "`redis-cli --eval` runs a Lua script on the server");
        }
        if o.value(&["--rdb", "--functions-rdb"]).is_some() {
            return secret_approve("`redis-cli --rdb` dumps the whole dataset");
        }
        if o.has(&["--stat", "--bigkeys", "--memkeys", "--hotkeys", "--latency", "--latency-history", "--latency-dist", "--intrinsic-latency", "--scan"]) {
            return diag("redis-cli");
        }
        let words: Vec<String> = o.operands.iter().map(|a| a.lit().unwrap_or("*").to_ascii_lowercase()).collect();
        let Some(cmd) = words.first() else {
            return match stdin {
                Stdin::Inherit => streams("redis-cli"),
                _ => Verdict::approve(rules::DATA_DESTROY, "`redis-cli` runs commands read from standard input"),
            };
        };
        let sub = words.get(1).map(String::as_str).unwrap_or("");
        match cmd.as_str() {
            "flushall" | "flushdb" | "swapdb" => Verdict::refuse(rules::DATA_DESTROY, format!("`redis-cli {cmd}` deletes every key")),
            "ping" | "info" | "dbsize" | "time" | "lastsave" | "role" | "echo" | "exists" | "type" | "ttl" | "pttl" | "strlen" | "llen" | "hlen" | "scard" | "zcard" | "command" | "latency" | "slowlog" | "lolwut" => {
                if cmd == "slowlog" && sub == "reset" || cmd == "latency" && sub == "reset" {
                    Verdict::remediation(rules::MAINTENANCE, format!("`redis-cli {cmd} reset`"))
                } else {
                    diag_verb("redis-cli", cmd)
                }
            }
            "memory" if matches!(sub, "stats" | "doctor" | "usage" | "malloc-stats") => diag_verb("redis-cli", cmd),
            "client" if matches!(sub, "list" | "info" | "getname" | "id") => diag_verb("redis-cli", cmd),
            "cluster" if matches!(sub, "info" | "nodes" | "slots" | "shards" | "myid") => diag_verb("redis-cli", cmd),
            "config" if sub == "get" => {
                if words.get(2).is_some_and(|k| k.contains("pass") || k.contains("auth") || k == "*") {
                    secret_refuse("`redis-cli config get` of a password")
                } else {
                    diag_verb("redis-cli", "config get")
                }
            }
            "shutdown" | "debug" | "module" | "replicaof" | "slaveof" | "failover" => Verdict::approve(rules::SERVICE_CONTROL, format!("`redis-cli {cmd}` stops or reconfigures the server")),
            "eval" | "evalsha" | "fcall" | "function" | "script" => Verdict::approve(rules::INTERPRETER_CODE, format!("`redis-cli {cmd}` runs a script on the server")),
            _ => Verdict::approve(rules::DATA_DESTROY, format!("`redis-cli {cmd}` reads or changes data")),
        }
    }

    fn mysqladmin(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, &["-h", "--host", "-P", "--port", "-u", "--user", "-S", "--socket", "-i", "--sleep", "-c", "--count"]);
        let words: Vec<&str> = o.operands.iter().map(|a| a.lit().unwrap_or("*")).collect();
        if words.iter().any(|w| w.eq_ignore_ascii_case("drop")) {
            return Verdict::refuse(rules::DATA_DESTROY, "`mysqladmin drop` deletes a database");
        }
        if words.iter().all(|w| matches!(*w, "ping" | "status" | "version" | "processlist" | "variables" | "extended-status")) {
            diag("mysqladmin")
        } else {
            Verdict::approve(rules::SERVICE_CONTROL, format!("`mysqladmin {}` changes the server", words.join(" ")))
        }
    }

    fn sql_client(&self, name: &str, rest: &[Arg], stdin: &Stdin) -> Verdict {
        let flags: &[&str] = match name {
            "psql" => &["-c", "--command"],
            "mysql" | "mariadb" => &["-e", "--execute"],
            "mongo" | "mongosh" => &["--eval"],
            "clickhouse-client" => &["-q", "--query"],
            "cqlsh" => &["-e", "--execute"],
            "influx" => &["-execute", "--execute"],
            _ => &[],
        };
        let mut value_flags: Vec<&str> = vec!["-h", "--host", "-p", "--port", "-U", "--username", "-u", "--user", "-d", "--dbname", "-D", "--database", "-f", "--file", "-P", "-S", "--socket", "-o", "--output", "-v", "--set", "-W_"];
        value_flags.extend(flags);
        let o = Opts::parse(rest, &value_flags);
        let mut parts = Vec::new();
        if o.value(&["-f", "--file"]).is_some() && name == "psql" {
            parts.push(Verdict::approve(rules::DATA_DESTROY, format!("`{name} -f` runs SQL from a file")));
        }
        if let Some(out) = o.value(&["-o", "--output"]).filter(|_| name == "psql") {
            parts.push(self.write_target(out, "`psql -o` writes to"));
        }
        let statements: Vec<&Arg> = o.all_values(flags);
        let positional_sql = match name {
            "sqlite3" => o.operands.get(1..).unwrap_or(&[]).iter().collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        let all: Vec<&Arg> = statements.into_iter().chain(positional_sql).collect();
        if all.is_empty() {
            parts.push(match stdin {
                Stdin::Text(Some(sql)) => sql_verdict(name, sql),
                Stdin::Inherit if parts.is_empty() => streams(name),
                _ if parts.is_empty() => Verdict::approve(rules::DATA_DESTROY, format!("`{name}` runs statements from standard input")),
                _ => diag(name),
            });
        }
        for s in all {
            parts.push(match s.lit() {
                Some(sql) => sql_verdict(name, sql),
                None => Verdict::approve(rules::DATA_DESTROY, format!("`{name}` runs a statement built at run time")),
            });
        }
        combine(parts, diag(name))
    }

    /// The Home Assistant CLI (`ha core restart`, `ha host reboot`...).
    fn ha(&self, rest: &[Arg]) -> Verdict {
        let words: Vec<&str> = rest.iter().filter(|a| !a.text.starts_with('-')).map(|a| a.lit().unwrap_or("*")).collect();
        let group = words.first().copied().unwrap_or("");
        let verb = words.get(1).copied().unwrap_or("");
        if rest.iter().any(|a| a.is("--help") || a.is("-h")) || words.is_empty() {
            return diag("ha");
        }
        if matches!(verb, "info" | "logs" | "stats" | "list" | "check" | "" | "options_") && !words.contains(&"*") && !(group == "host" && verb.is_empty() && words.len() > 1) {
            return diag_verb("ha", group);
        }
        match (group, verb) {
            ("host", "reboot" | "shutdown") | ("os", "reboot_") => Verdict::refuse(rules::POWER_STATE, format!("`ha {group} {verb}` reboots or shuts down the host")),
            ("core" | "homeassistant" | "ha", "stop") | ("supervisor", "stop_") => Verdict::refuse(rules::SERVICE_CONTROL, "`ha core stop` stops Home Assistant"),
            ("backups" | "snapshots", "remove" | "delete" | "rm") => Verdict::refuse(rules::DATA_DESTROY, "`ha backups remove` deletes a backup"),
            ("backups" | "snapshots", "restore") => Verdict::approve(rules::DATA_DESTROY, "`ha backups restore` overwrites the current configuration"),
            ("addons" | "apps" | "addon", "uninstall") => Verdict::refuse(rules::PACKAGE_REMOVAL, "`ha addons uninstall` removes an add-on"),
            ("addons" | "apps" | "addon", "restart" | "start") => Verdict::approve(rules::HA_ADDON, format!("`ha {group} {verb}` restarts an add-on")),
            (_, "update" | "install" | "rebuild") => Verdict::approve(rules::PACKAGE_CHANGE, format!("`ha {group} {verb}` installs or updates software")),
            (_, "restart" | "reload") => Verdict::approve(rules::SERVICE_CONTROL, format!("`ha {group} {verb}` restarts a Home Assistant component")),
            _ => Verdict::approve(rules::SERVICE_CONTROL, format!("`ha {}`", words.join(" "))),
        }
    }

    fn git(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, &["-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path_"]);
        if o.value(&["-c"]).is_some() || o.flags.iter().any(|f| f == "--exec-path" || f == "--config-env") {
            return Verdict::approve(rules::INTERPRETER_CODE, "`git -c` can set commands git runs (pager, hooks, ssh)");
        }
        let Some(verb) = o.verb() else { return diag("git") };
        let sub = o.operands.get(1).and_then(Arg::lit).unwrap_or("");
        match verb {
            "status" | "log" | "diff" | "show" | "rev-parse" | "describe" | "ls-files" | "blame" | "shortlog" | "reflog" | "ls-remote" | "ls-tree" | "cat-file" | "whatchanged" | "grep" | "version" | "help" | "count-objects" | "fsck" | "name-rev" | "merge-base" | "cherry" | "rev-list" | "for-each-ref" | "show-ref" | "var" => diag_verb("git", verb),
            "branch" | "tag" | "remote" | "stash" | "config" | "worktree" if matches!(sub, "" | "-v" | "-vv" | "-a" | "-r" | "--list" | "-l" | "list" | "show" | "--get" | "--get-all" | "--show-current" | "get-url") => diag_verb("git", verb),
            "clean" => {
                if o.operands.iter().any(|a| a.is("-n") || a.is("--dry-run")) || rest.iter().any(|a| a.is("-n") || a.is("--dry-run")) {
                    diag("git clean -n")
                } else {
                    Verdict::approve(rules::FILE_DELETE, "`git clean` deletes untracked files")
                }
            }
            _ => Verdict::approve(rules::FILE_WRITE, format!("`git {verb}` changes the repository or working tree")),
        }
    }

    /// libvirt, Proxmox, LXD/Incus and VirtualBox front ends.
    fn vm(&self, name: &str, rest: &[Arg]) -> Verdict {
        let Some(verb) = rest.iter().filter_map(Arg::lit).find(|t| !t.starts_with('-')) else {
            return diag(name);
        };
        let verb_l = verb.to_ascii_lowercase();
        match verb_l.as_str() {
            "list" | "ls" | "dominfo" | "domstate" | "nodeinfo" | "version" | "status" | "config" | "info" | "showvminfo" | "list-vms_" | "domblklist" | "domiflist" | "dumpxml" | "net-list" | "pool-list" | "vol-list" | "snapshot-list" | "listsnapshot" | "pending" | "cpuinfo" | "domstats" | "capabilities" | "uri" | "hostname" | "sysinfo" | "listsnapshots" | "showvminfo_" => diag_verb(name, verb),
            "destroy" if name != "virsh" => Verdict::refuse(rules::DATA_DESTROY, format!("`{name} destroy` deletes a guest and its disks")),
            "undefine" | "vol-delete" | "pool-delete" | "delete" | "rm" | "purge" | "unregistervm" | "delsnapshot" | "snapshot-delete" => {
                Verdict::refuse(rules::DATA_DESTROY, format!("`{name} {verb}` deletes a guest, volume or snapshot"))
            }
            "rollback" | "snapshot-revert" => Verdict::refuse(rules::DATA_DESTROY, format!("`{name} {verb}` discards a guest's newer data")),
            "start" | "resume" | "unpause" => Verdict::remediation(rules::CONTAINER_CONTROL, format!("`{name} {verb}` starts a guest")),
            _ => Verdict::approve(rules::CONTAINER_CONTROL, format!("`{name} {verb}` changes a guest")),
        }
    }

    fn systemd_misc(&self, name: &str, rest: &[Arg]) -> Verdict {
        let verb = Opts::parse(rest, &["-H", "--host", "-M", "--machine", "-p", "--property", "-o", "--output", "-n", "--lines", "-s", "--signal", "-u", "--unit"]).verb().map(str::to_string);
        let verb = verb.as_deref().unwrap_or("");
        let read = match name {
            "loginctl" | "machinectl" => verb.is_empty() || verb.starts_with("list") || verb.starts_with("show") || verb.ends_with("status"),
            "busctl" => verb.is_empty() || matches!(verb, "list" | "status" | "tree" | "introspect" | "monitor_" | "get-property" | "capture_"),
            "coredumpctl" => verb.is_empty() || matches!(verb, "list" | "info"),
            _ => false,
        };
        if read {
            return diag_verb(name, verb);
        }
        match (name, verb) {
            ("coredumpctl", _) => secret_approve("`coredumpctl dump|debug` exposes process memory"),
            ("systemd-run" | "systemd-inhibit", _) => self.unclassified(format!("`{name}` runs a command in a transient unit")),
            ("loginctl", "poweroff" | "reboot" | "suspend" | "hibernate") => Verdict::refuse(rules::POWER_STATE, format!("`{name} {verb}`")),
            _ => Verdict::approve(rules::SERVICE_CONTROL, format!("`{name} {verb}` changes sessions, machines or bus state")),
        }
    }
}
