//! Wrappers: programs that run another command (`sudo`, `env`, `timeout`,
//! `xargs`, `sh -c`, `ssh`, `docker exec`...) and `/etc/init.d` scripts.

use super::*;

impl<'a> Cx<'a> {
    /// `/etc/init.d/<service> start|stop|restart|status`.
    pub(in crate::safety) fn service_script(&self, service: &str, rest: &[Arg]) -> Verdict {
        let service = rules::basename(service);
        match rest.first().and_then(Arg::lit) {
            None => diag(&format!("/etc/init.d/{service}")),
            Some(verb) => self.service_verb("/etc/init.d", verb, &[Arg::literal(service)]),
        }
    }

    /// Every protected name (units without `.service`, containers, processes).
    pub(super) fn protected_names(&self) -> Vec<&'a str> {
        let p = &self.policy.protected;
        p.units
            .iter()
            .chain(&p.containers)
            .chain(&p.processes)
            .map(|n| n.strip_suffix(".service").unwrap_or(n))
            .collect()
    }

    /// A protected name that words of a substitution or pipeline mention.
    pub(super) fn mentioned_protected(&self, mentions: &[String]) -> Option<String> {
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
    pub(in crate::safety) fn wrapper(
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
                let i = skip_options(
                    rest,
                    &[
                        "-c",
                        "-n",
                        "-p",
                        "-P",
                        "-u",
                        "--class",
                        "--classdata",
                        "--pid",
                        "--pgid",
                        "--uid",
                    ],
                );
                if rest[..i].iter().any(|a| {
                    a.lit().is_some_and(|t| {
                        t.starts_with("-p")
                            || t.starts_with("-P")
                            || t.starts_with("-u")
                            || t.starts_with("--p")
                            || t.starts_with("--uid")
                    })
                }) {
                    Verdict::approve(
                        rules::PROCESS_KILL,
                        "`ionice -p` changes the I/O priority of running processes",
                    )
                } else if i == rest.len() {
                    diag("ionice")
                } else {
                    self.argv(&rest[i..], env, stdin)
                }
            }
            "chrt" | "taskset" => {
                let i = skip_options(
                    rest,
                    &[
                        "-T",
                        "-P",
                        "-D",
                        "--sched-runtime",
                        "--sched-period",
                        "--sched-deadline",
                    ],
                );
                if rest[..i]
                    .iter()
                    .any(|a| a.is("-p") || a.is("--pid") || a.is("-ap") || a.is("-pa"))
                {
                    Verdict::approve(
                        rules::PROCESS_KILL,
                        format!("`{name} -p` changes scheduling of running processes"),
                    )
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
                let o = Opts::parse(
                    rest,
                    &[
                        "-u",
                        "--user",
                        "-g",
                        "-G",
                        "-s",
                        "-c",
                        "--command",
                        "-w",
                        "--group",
                        "--supp-group",
                        "--shell",
                    ],
                );
                if o.value(&["-u", "--user"]).is_some() {
                    let i = skip_options(
                        rest,
                        &["-u", "--user", "-g", "-G", "-w", "--group", "--supp-group"],
                    );
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
                format!(
                    "`{name} {}` runs a file's contents, which are not known here",
                    render(rest)
                ),
            ),
            "fc" => Verdict::refuse(
                rules::DYNAMIC_COMMAND,
                "`fc` re-runs commands from the shell history",
            ),
            "ssh" => self.ssh(rest, stdin),
            "chroot" => {
                let i = skip_options(rest, &["--userspec", "--groups"]);
                match rest.get(i + 1..) {
                    Some(cmd) if !cmd.is_empty() => self.argv(cmd, env, stdin),
                    _ => self.script_from_stdin("`chroot`", stdin),
                }
            }
            "nsenter" => {
                let i = skip_options(
                    rest,
                    &["-t", "--target", "-S", "--setuid", "-G", "--setgid"],
                );
                if i == rest.len() {
                    self.script_from_stdin("`nsenter`", stdin)
                } else {
                    self.argv(&rest[i..], env, stdin)
                }
            }
            "ip" if rest
                .iter()
                .position(|a| a.lit().is_some_and(|t| !t.starts_with('-')))
                .is_some_and(|i| {
                    rest[i].is("netns") && rest.get(i + 1).is_some_and(|a| a.is("exec"))
                }) =>
            {
                let i = rest.iter().position(|a| a.is("exec")).unwrap_or(0);
                self.argv(rest.get(i + 2..).unwrap_or(&[]), env, stdin)
            }
            "docker" | "podman" | "nerdctl" => return self.container_exec(name, rest, env, stdin),
            "pkexec" => self.argv(&rest[skip_options(rest, &["--user"])..], env, stdin),
            "sshpass" => self.argv(
                &rest[skip_options(rest, &["-p", "-f", "-d", "-P"])..],
                env,
                stdin,
            ),
            "toybox" => self.argv(rest, env, stdin),
            "proxychains" | "proxychains4" | "torsocks" | "tsocks" => self.argv(
                &rest[skip_options(rest, &["-f", "-u", "-p", "-a", "-P"])..],
                env,
                stdin,
            ),
            "unshare" => {
                let i = skip_options(
                    rest,
                    &[
                        "-S",
                        "--setuid",
                        "-G",
                        "--setgid",
                        "-R",
                        "--root",
                        "-w",
                        "--wd",
                        "--propagation",
                        "--map-user",
                        "--map-group",
                        "--map-users",
                        "--map-groups",
                        "--monotonic",
                        "--boottime",
                    ],
                );
                if i == rest.len() {
                    self.script_from_stdin("`unshare`", stdin)
                } else {
                    self.argv(&rest[i..], env, stdin)
                }
            }
            "systemd-run" => {
                const VALUE: &[&str] = &[
                    "-u",
                    "--unit",
                    "-p",
                    "--property",
                    "--description",
                    "--slice",
                    "-E",
                    "--setenv",
                    "--on-calendar",
                    "--on-active",
                    "--on-boot",
                    "--on-startup",
                    "--on-unit-active",
                    "--on-unit-inactive",
                    "--timer-property",
                    "-M",
                    "--machine",
                    "-H",
                    "--host",
                    "--uid",
                    "--gid",
                    "--nice",
                    "--working-directory",
                    "--path-property",
                    "--socket-property",
                    "--service-type",
                ];
                let i = skip_options(rest, VALUE);
                let o = Opts::parse(&rest[..i], VALUE);
                let mut parts: Vec<Verdict> = o
                    .all_values(&["-E", "--setenv"])
                    .iter()
                    .filter_map(|a| a.lit().and_then(check_env_assignment))
                    .collect();
                if i == rest.len() {
                    parts.push(self.script_from_stdin("`systemd-run --shell`", stdin));
                } else {
                    parts.push(self.argv(&rest[i..], env, stdin));
                }
                combine(parts, diag(name))
            }
            "screen" => {
                let i = skip_options(
                    rest,
                    &[
                        "-S", "-c", "-e", "-h", "-p", "-t", "-T", "-X", "-Logfile", "-s",
                    ],
                );
                let o = Opts::parse(
                    &rest[..i],
                    &[
                        "-S", "-c", "-e", "-h", "-p", "-t", "-T", "-X", "-Logfile", "-s",
                    ],
                );
                if o.value(&["-X"]).is_some() {
                    Verdict::refuse(
                        rules::DYNAMIC_COMMAND,
                        "`screen -X` sends commands into a running session",
                    )
                } else if o.has(&["-l", "-r", "-R", "-x", "-D", "-d"]) && i == rest.len()
                    || rest.iter().any(|a| a.is("-ls") || a.is("-list"))
                {
                    if rest.iter().any(|a| a.is("-ls") || a.is("-list")) {
                        diag("screen -ls")
                    } else {
                        streams("screen")
                    }
                } else if i == rest.len() {
                    streams("screen")
                } else {
                    self.argv(&rest[i..], env, stdin)
                }
            }
            "tmux" => self.tmux(rest, stdin),
            "script" => {
                let o = Opts::parse(
                    rest,
                    &[
                        "-c",
                        "--command",
                        "-E",
                        "--echo",
                        "-I",
                        "--log-in",
                        "-O",
                        "--log-out",
                        "-B",
                        "--log-io",
                        "-T",
                        "--log-timing",
                        "-m",
                        "--logging-format",
                        "-o",
                        "--output-limit",
                    ],
                );
                match o.value(&["-c", "--command"]) {
                    Some(code) => self.shell_string(code, stdin, "`script -c`"),
                    None => streams("script"),
                }
            }
            "sg" => {
                let o = Opts::parse(rest, &["-c"]);
                match o.value(&["-c"]).or_else(|| o.operands.get(1)) {
                    Some(code) => self.shell_string(code, stdin, "`sg`"),
                    None => self.script_from_stdin("`sg`", stdin),
                }
            }
            "strace" | "ltrace" => {
                const VALUE: &[&str] = &[
                    "-e",
                    "-o",
                    "-p",
                    "-s",
                    "-u",
                    "-E",
                    "-a",
                    "-b",
                    "-I",
                    "-O",
                    "-S",
                    "-P",
                    "-X",
                    "--output",
                    "--attach",
                    "--string-limit",
                    "--user",
                    "--env",
                    "--trace",
                    "--signal",
                    "--status",
                    "--absolute-timestamps",
                    "--columns",
                ];
                let i = skip_options(rest, VALUE);
                let o = Opts::parse(&rest[..i], VALUE);
                let mut parts = Vec::new();
                if let Some(out) = o.value(&["-o", "--output"]) {
                    parts.push(
                        self.write_target(
                            &self.resolve(out, env),
                            &format!("`{name} -o` writes to"),
                        ),
                    );
                }
                if o.value(&["-p", "--attach"]).is_some() || i == rest.len() {
                    parts.push(secret_approve(format!(
                        "`{name} -p` reads the memory and system calls of a running process"
                    )));
                } else {
                    parts.push(self.argv(&rest[i..], env, stdin));
                }
                combine(parts, diag(name))
            }
            "at" | "batch"
                if !rest
                    .iter()
                    .any(|a| a.is("-l") || a.is("-d") || a.is("-r") || a.is("-c")) =>
            {
                let o = Opts::parse(rest, &["-f", "-q", "-t"]);
                let job = match (o.value(&["-f"]), stdin) {
                    (Some(_), _) | (None, Stdin::File(_)) => Verdict::approve(
                        rules::CRONTAB,
                        format!("`{name}` schedules a script whose contents are not known here"),
                    ),
                    (None, Stdin::Text(Some(code))) => {
                        self.shell_text(code, &Stdin::Inherit, &format!("an `{name}` job"))
                    }
                    (None, Stdin::Text(None)) => Verdict::refuse(
                        rules::DYNAMIC_COMMAND,
                        format!("an `{name}` job built at run time"),
                    ),
                    (None, Stdin::Pipe { .. } | Stdin::Inherit) => Verdict::approve(
                        rules::CRONTAB,
                        format!("`{name}` schedules commands read from standard input"),
                    ),
                };
                combine(
                    vec![
                        Verdict::approve(rules::CRONTAB, format!("`{name}` schedules a job")),
                        job,
                    ],
                    diag(name),
                )
            }
            _ => return None,
        };
        Some(v)
    }

    /// A relative static path joined to the known working directory.
    pub(super) fn resolve(&self, arg: &Arg, env: &Env) -> Arg {
        let t = &arg.text;
        match &env.cwd {
            Some(cwd) if !t.starts_with('/') && !t.starts_with('~') && !t.starts_with('*') => Arg {
                text: normalize_path(&format!("{cwd}/{t}")),
                ..arg.clone()
            },
            _ => arg.clone(),
        }
    }

    pub(super) fn sudo(&self, rest: &[Arg], env: &mut Env, stdin: &Stdin) -> Verdict {
        const VALUE: &[&str] = &[
            "-C",
            "-D",
            "-g",
            "-h",
            "-p",
            "-r",
            "-t",
            "-T",
            "-U",
            "-u",
            "--close-from",
            "--chdir",
            "--group",
            "--host",
            "--prompt",
            "--role",
            "--type",
            "--other-user",
            "--user",
            "--command-timeout",
        ];
        let i = skip_options(rest, VALUE);
        let o = Opts::parse(&rest[..i], VALUE);
        if o.has(&[
            "-l",
            "--list",
            "-v",
            "--validate",
            "-k",
            "-K",
            "--reset-timestamp",
            "--remove-timestamp",
            "-V",
            "--version",
            "-h",
            "--help",
        ]) && !o.has(&["-e", "--edit"])
        {
            return diag("sudo -l");
        }
        let mut parts = Vec::new();
        let mut j = i;
        while let Some(a) = rest.get(j).and_then(Arg::lit) {
            if a.contains('=')
                && !a.starts_with('=')
                && a.split('=')
                    .next()
                    .is_some_and(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            {
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
    pub(super) fn edit_files(&self, what: &str, files: &[Arg]) -> Verdict {
        let mut parts: Vec<Verdict> = files
            .iter()
            .filter(|a| !a.text.starts_with('-'))
            .map(|a| self.write_target(a, &format!("`{what}` edits")))
            .collect();
        parts.push(Verdict::approve(
            rules::FILE_WRITE,
            format!("`{what}` opens an editor"),
        ));
        combine(parts, diag(what))
    }

    pub(super) fn env_wrapper(&self, rest: &[Arg], env: &mut Env, stdin: &Stdin) -> Verdict {
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
                t if t.starts_with("--unset=")
                    || t.starts_with("--chdir=")
                    || t.starts_with("-u") =>
                {
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
                parts.push(Verdict::refuse(
                    rules::DYNAMIC_COMMAND,
                    "`env -S` splits a string built at run time",
                ));
                return combine(parts, diag("env"));
            };
            let Some(tail) = join_static(&rest[i..]) else {
                parts.push(Verdict::refuse(
                    rules::DYNAMIC_COMMAND,
                    "`env -S` with arguments built at run time",
                ));
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

    pub(super) fn flock(&self, rest: &[Arg], env: &mut Env, stdin: &Stdin) -> Verdict {
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

    pub(super) fn watch(&self, rest: &[Arg], env: &mut Env, stdin: &Stdin) -> Verdict {
        let i = skip_options(rest, &["-n", "--interval", "-q", "--equexit"]);
        let exec = rest[..i].iter().any(|a| a.is("-x") || a.is("--exec"));
        let cmd = &rest[i..];
        let inner = if cmd.is_empty() {
            diag("watch")
        } else if exec {
            self.argv(cmd, env, stdin)
        } else {
            match join_static(cmd) {
                Some(code) => self.shell_text(&code, &Stdin::Inherit, "`watch`"),
                None => Verdict::refuse(
                    rules::DYNAMIC_COMMAND,
                    "`watch` runs a command string built at run time",
                ),
            }
        };
        combine(vec![inner, streams("watch")], diag("watch"))
    }

    pub(super) fn xargs(&self, rest: &[Arg], env: &mut Env, stdin: &Stdin) -> Verdict {
        const VALUE: &[&str] = &[
            "-a",
            "-d",
            "-E",
            "-I",
            "-L",
            "-n",
            "-P",
            "-s",
            "--arg-file",
            "--delimiter",
            "--max-lines",
            "--max-args",
            "--max-procs",
            "--max-chars",
            "--process-slot-var",
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
                        t.strip_prefix("-i")
                            .or_else(|| t.strip_prefix("--replace="))
                            .map(str::to_string)
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

    pub(super) fn shell(&self, name: &str, rest: &[Arg], stdin: &Stdin) -> Verdict {
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
                i += if matches!(long, "rcfile" | "init-file") {
                    2
                } else {
                    1
                };
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
                None => Verdict::refuse(
                    rules::UNPARSEABLE,
                    format!("`{name} -c` without a command string"),
                ),
            };
        }
        if !from_stdin && let Some(script) = operands.first() {
            if script.dynamic {
                return if script.mentions.iter().any(|m| !m.starts_with('$')) {
                    Verdict::refuse(
                        rules::PIPE_TO_SHELL,
                        format!(
                            "{what} runs a script produced by `{}`",
                            script.mentions.join(" ")
                        ),
                    )
                } else {
                    Verdict::refuse(
                        rules::DYNAMIC_COMMAND,
                        format!("{what} runs a script only known at run time"),
                    )
                };
            }
            if matches!(
                script.text.as_str(),
                "/dev/stdin" | "/proc/self/fd/0" | "/dev/fd/0"
            ) {
                return self.script_from_stdin(&what, stdin);
            }
            return self.unclassified(format!(
                "{what} runs script `{}`, whose contents are not known here",
                script.text
            ));
        }
        self.script_from_stdin(&what, stdin)
    }

    /// A shell (or interpreter) that reads its program from standard input.
    pub(super) fn script_from_stdin(&self, what: &str, stdin: &Stdin) -> Verdict {
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
            Stdin::File(p) => self.unclassified(format!(
                "{what} runs script `{p}`, whose contents are not known here"
            )),
            Stdin::Inherit => self.unclassified(format!("{what} starts an interactive shell")),
        }
    }

    pub(super) fn su(&self, rest: &[Arg], stdin: &Stdin) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "-c",
                "--command",
                "--session-command",
                "-s",
                "--shell",
                "-g",
                "--group",
                "-G",
                "--supp-group",
                "-w",
                "--whitelist-environment",
            ],
        );
        match o.value(&["-c", "--command", "--session-command"]) {
            Some(code) => self.shell_string(code, stdin, "`su -c`"),
            None => self.script_from_stdin("`su`", stdin),
        }
    }

    pub(super) fn ssh(&self, rest: &[Arg], stdin: &Stdin) -> Verdict {
        const VALUE: &[&str] = &[
            "-b", "-c", "-D", "-E", "-e", "-F", "-I", "-i", "-J", "-L", "-l", "-m", "-O", "-o",
            "-p", "-Q", "-R", "-S", "-W", "-w", "-B",
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
            None => Verdict::refuse(
                rules::DYNAMIC_COMMAND,
                "`ssh` runs a remote command built at run time",
            ),
        };
        combine(
            vec![approve, inner],
            Verdict::approve(rules::REMOTE_EXEC, "ssh"),
        )
    }

    pub(super) fn script_from_stdin_remote(&self, stdin: &Stdin) -> Verdict {
        match stdin {
            Stdin::Inherit | Stdin::File(_) => {
                Verdict::approve(rules::REMOTE_EXEC, "opens a remote shell")
            }
            _ => self.script_from_stdin("`ssh` (remote shell)", stdin),
        }
    }

    pub(super) fn tmux(&self, rest: &[Arg], stdin: &Stdin) -> Verdict {
        const VALUE: &[&str] = &["-L", "-S", "-f", "-T"];
        let g = skip_options(rest, VALUE);
        let args = &rest[g..];
        let Some(verb) = args.first().and_then(Arg::lit) else {
            return if args.is_empty() {
                streams("tmux")
            } else {
                Verdict::refuse(
                    rules::DYNAMIC_COMMAND,
                    "the `tmux` command is only known at run time",
                )
            };
        };
        const CMD_VALUE: &[&str] = &["-s", "-n", "-c", "-t", "-x", "-y", "-e", "-F", "-l", "-f"];
        match verb {
            "ls" | "list-sessions" | "list-windows" | "list-panes" | "has-session" | "has"
            | "capture-pane" | "capturep" | "show-options" | "show" | "info"
            | "display-message" | "display" => diag_verb("tmux", verb),
            "new" | "new-session" | "new-window" | "neww" | "split-window" | "splitw"
            | "respawn-pane" | "respawnp" | "respawn-window" | "respawnw" | "run-shell" | "run"
            | "if-shell" | "if" | "pipe-pane" | "pipep" => {
                let i = skip_options(&args[1..], CMD_VALUE) + 1;
                let cmd = &args[i.min(args.len())..];
                if cmd.is_empty() {
                    return streams("tmux");
                }
                match join_static(cmd) {
                    Some(code) => self.shell_text(&code, stdin, &format!("`tmux {verb}`")),
                    None => Verdict::refuse(
                        rules::DYNAMIC_COMMAND,
                        format!("`tmux {verb}` runs a command built at run time"),
                    ),
                }
            }
            "send-keys" | "send" => {
                let i = skip_options(&args[1..], CMD_VALUE) + 1;
                let keys: Vec<&Arg> = args[i.min(args.len())..]
                    .iter()
                    .filter(|a| {
                        !a.lit().is_some_and(|k| {
                            matches!(
                                k,
                                "Enter"
                                    | "C-m"
                                    | "C-c"
                                    | "C-d"
                                    | "Escape"
                                    | "Space"
                                    | "Tab"
                                    | "BSpace"
                                    | "C-u"
                            )
                        })
                    })
                    .collect();
                let text: Option<Vec<&str>> = keys.iter().map(|a| a.lit()).collect();
                let typed = match text {
                    Some(t) if !t.is_empty() => {
                        self.shell_text(&t.join(" "), &Stdin::Inherit, "`tmux send-keys`")
                    }
                    Some(_) => diag("tmux send-keys"),
                    None => Verdict::refuse(
                        rules::DYNAMIC_COMMAND,
                        "`tmux send-keys` types text built at run time",
                    ),
                };
                combine(
                    vec![
                        Verdict::approve(
                            rules::REMOTE_EXEC,
                            "`tmux send-keys` types into a running session",
                        ),
                        typed,
                    ],
                    diag("tmux"),
                )
            }
            "kill-server" | "kill-session" | "kill-window" | "kill-pane" => Verdict::approve(
                rules::PROCESS_KILL,
                format!("`tmux {verb}` ends sessions and their processes"),
            ),
            _ => Verdict::approve(rules::UNCLASSIFIED, format!("`tmux {verb}`")),
        }
    }

    /// `docker exec CONTAINER cmd...` (and `docker container exec`).
    pub(super) fn container_exec(
        &self,
        name: &str,
        rest: &[Arg],
        env: &mut Env,
        stdin: &Stdin,
    ) -> Option<Verdict> {
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
            &[
                "-e",
                "--env",
                "--env-file",
                "-u",
                "--user",
                "-w",
                "--workdir",
                "--detach-keys",
            ],
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
            Verdict::refuse(
                rules::UNPARSEABLE,
                format!("`{name} exec` without a command"),
            )
        } else {
            self.argv(cmd, &mut inner_env, stdin)
        });
        Some(combine(parts, diag(name)))
    }
}

/// `nice -n 10`, `nice -10`, `nice --adjustment=5`.
pub(super) fn skip_options_numeric(args: &[Arg], with_value: &[&str]) -> usize {
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
