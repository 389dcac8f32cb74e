//! Services and containers: systemd, `service`, Docker/Podman, Compose, Kubernetes.

use super::*;

pub(super) const SYSTEMCTL_VALUE: &[&str] = &[
    "-t",
    "--type",
    "-p",
    "--property",
    "-n",
    "--lines",
    "-o",
    "--output",
    "--state",
    "-H",
    "--host",
    "-M",
    "--machine",
    "-s",
    "--signal",
    "--kill-whom",
    "--kill-value",
    "--root",
    "--job-mode",
    "--what",
    "--timestamp",
    "--boot-loader-entry",
    "--boot-loader-menu",
    "--reboot-argument",
    "--message",
    "--image",
    "--drop-in",
    "--when",
    "--check-inhibitors",
    "--preset-mode",
];

impl<'a> Cx<'a> {
    pub(super) fn journalctl(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "-u",
                "--unit",
                "--user-unit",
                "-n",
                "--lines",
                "-p",
                "--priority",
                "-S",
                "--since",
                "-U",
                "--until",
                "-o",
                "--output",
                "-b",
                "--boot",
                "-t",
                "--identifier",
                "-g",
                "--grep",
                "-D",
                "--directory",
                "--file",
                "-M",
                "--machine",
                "--root",
                "--image",
                "-F",
                "--field",
                "--output-fields",
                "--facility",
                "-T",
                "--cursor",
                "--after-cursor",
                "--cursor-file",
                "--namespace",
                "-c",
                "--interval",
                "--verify-key",
            ],
        );
        if o.flags.iter().any(|f| f.starts_with("--vacuum-"))
            || o.has(&[
                "--rotate",
                "--flush",
                "--sync",
                "--relinquish-var",
                "--smart-relinquish-var",
            ])
        {
            return Verdict::remediation(
                rules::LOG_MAINTENANCE,
                "journal vacuuming, rotation or flushing",
            );
        }
        if o.has(&["--setup-keys", "--update-catalog"]) {
            return Verdict::approve(rules::LOG_MAINTENANCE, "changes journal keys or catalog");
        }
        if o.has(&["-f", "--follow"]) {
            return streams("journalctl -f");
        }
        diag("journalctl")
    }

    pub(super) fn is_protected_unit(&self, unit: &str) -> bool {
        self.policy
            .protected
            .units
            .iter()
            .any(|u| rules::unit_matches(u, unit))
    }

    pub(super) fn is_critical(&self, unit: &str) -> bool {
        self.policy
            .critical
            .iter()
            .any(|c| rules::unit_matches(c, unit))
    }

    pub(super) fn systemctl(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, SYSTEMCTL_VALUE);
        let mut parts = Vec::new();
        if o.value(&["-H", "--host", "-M", "--machine"]).is_some() {
            parts.push(Verdict::approve(
                rules::REMOTE_EXEC,
                "`systemctl -H` acts on another machine",
            ));
        }
        if o.has(&["--failed", "--version", "-h", "--help"]) && o.operands.is_empty() {
            return combine(parts, diag("systemctl"));
        }
        if o.dynamic_flag {
            parts.push(Verdict::approve(
                rules::SERVICE_CONTROL,
                "`systemctl` with options only known at run time",
            ));
        }
        let Some(first) = o.operands.first() else {
            return combine(parts, diag("systemctl"));
        };
        let Some(verb) = first.lit() else {
            parts.push(Verdict::refuse(
                rules::DYNAMIC_COMMAND,
                "the `systemctl` verb is only known at run time",
            ));
            return combine(parts, diag("systemctl"));
        };
        parts.push(self.service_verb("systemctl", verb, &o.operands[1..]));
        combine(parts, diag("systemctl"))
    }

    /// One service verb (`restart`, `stop`...) on units, for systemctl, service and init scripts.
    pub(super) fn service_verb(&self, tool: &str, verb: &str, units: &[Arg]) -> Verdict {
        const READ: &[&str] = &[
            "status",
            "is-active",
            "is-enabled",
            "is-failed",
            "is-system-running",
            "show",
            "list-units",
            "list-unit-files",
            "list-timers",
            "list-sockets",
            "list-jobs",
            "list-machines",
            "list-paths",
            "list-automounts",
            "cat",
            "list-dependencies",
            "help",
            "get-default",
            "whoami",
        ];
        const START: &[&str] = &[
            "start",
            "restart",
            "reload",
            "try-restart",
            "reload-or-restart",
            "try-reload-or-restart",
            "condrestart",
            "force-reload",
            "reset-failed",
            "enable",
            "reenable",
            "unmask",
            "thaw",
            "reload-or-try-restart",
            "condreload",
        ];
        const STOP: &[&str] = &[
            "stop", "disable", "mask", "kill", "freeze", "clean", "revert", "condstop",
        ];
        const POWER: &[&str] = &[
            "reboot",
            "poweroff",
            "halt",
            "kexec",
            "suspend",
            "hibernate",
            "hybrid-sleep",
            "suspend-then-hibernate",
            "rescue",
            "emergency",
            "default",
            "isolate",
            "soft-reboot",
            "switch-root",
            "exit",
            "sleep",
        ];
        if READ.contains(&verb) {
            return diag_verb(tool, verb);
        }
        if verb == "show-environment" {
            return secret_approve(
                "`systemctl show-environment` prints the service manager's environment",
            );
        }
        if POWER.contains(&verb) {
            return Verdict::refuse(
                rules::POWER_STATE,
                format!("`{tool} {verb}` changes the power state or run level"),
            );
        }
        if matches!(verb, "daemon-reload") {
            return Verdict::remediation(
                rules::SERVICE_CONTROL,
                "`daemon-reload` re-reads unit files",
            );
        }
        let start = START.contains(&verb);
        let stop = STOP.contains(&verb);
        if !start && !stop {
            return match verb {
                "edit"
                | "set-property"
                | "set-default"
                | "link"
                | "preset"
                | "preset-all"
                | "set-environment"
                | "unset-environment"
                | "import-environment"
                | "add-wants"
                | "add-requires"
                | "daemon-reexec"
                | "bind"
                | "mount-image"
                | "log-level"
                | "log-target"
                | "service-log-level"
                | "service-log-target"
                | "enqueue-marked-jobs" => Verdict::approve(
                    rules::SERVICE_CONTROL,
                    format!("`{tool} {verb}` changes service configuration"),
                ),
                _ => self.unclassified(format!(
                    "`{tool} {verb}` is not a verb the safety rules know"
                )),
            };
        }
        if units.is_empty() {
            return Verdict::approve(
                rules::SERVICE_CONTROL,
                format!("`{tool} {verb}` without a unit"),
            );
        }
        let mut parts = Vec::new();
        for u in units {
            let text = u.text.as_str();
            if u.dynamic {
                let listed = u
                    .mentions
                    .iter()
                    .any(|m| m.starts_with("list-") || m == "--all" || m == "-a");
                match self.mentioned_protected(&u.mentions) {
                    Some(n) => parts.push(self.self_protect(
                        &n,
                        &format!("`{tool} {verb}` on units found by looking up"),
                    )),
                    None if listed => parts.push(self.self_protect(
                        "units listed at run time (they may include",
                        &format!("`{tool} {verb}` on"),
                    )),
                    None => parts.push(Verdict::approve(
                        rules::SERVICE_CONTROL,
                        format!(
                            "`{tool} {verb}` on a unit only known at run time (`{}`)",
                            u.text
                        ),
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
                parts.push(Verdict::approve(
                    rules::SERVICE_CONTROL,
                    format!("`{tool} {verb} {text}` stops a service"),
                ));
            } else {
                parts.push(Verdict::remediation(
                    rules::SERVICE_CONTROL,
                    format!("`{tool} {verb} {text}`"),
                ));
            }
        }
        combine(parts, diag(tool))
    }

    pub(super) fn service(&self, rest: &[Arg]) -> Verdict {
        let ops: Vec<&Arg> = rest.iter().filter(|a| !a.text.starts_with('-')).collect();
        if rest.iter().any(|a| a.is("--status-all")) || ops.is_empty() {
            return diag("service");
        }
        match ops.get(1).and_then(|a| a.lit()) {
            Some(verb) => self.service_verb("service", verb, &[ops[0].clone()]),
            None if ops.get(1).is_some() => Verdict::refuse(
                rules::DYNAMIC_COMMAND,
                "the `service` verb is only known at run time",
            ),
            None => diag("service"),
        }
    }

    /// A protected container an argument names (or may name, when dynamic).
    pub(super) fn protected_container(&self, a: &Arg) -> Option<String> {
        let names = &self.policy.protected.containers;
        if a.dynamic {
            if let Some(n) = self.mentioned_protected(&a.mentions) {
                return Some(n);
            }
            let lists = a
                .mentions
                .iter()
                .any(|m| matches!(m.as_str(), "ps" | "ls" | "-q" | "-aq" | "-qa"))
                && a.mentions
                    .iter()
                    .any(|m| matches!(m.as_str(), "docker" | "podman" | "nerdctl" | "container"));
            if lists {
                return Some(
                    "containers listed at run time (they include Jarvis's container)".to_string(),
                );
            }
            return None;
        }
        let t = a.text.trim_start_matches('/');
        names
            .iter()
            .find(|n| n.as_str() == t || (a.glob && rules::glob_could_match(t, n)))
            .cloned()
    }

    pub(super) fn docker(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let g = skip_options(rest, DOCKER_GLOBAL_VALUE);
        let mut parts = Vec::new();
        if rest[..g].iter().any(|a| {
            a.lit().is_some_and(|t| {
                t.starts_with("-H")
                    || t.starts_with("--host")
                    || t.starts_with("--url")
                    || t.starts_with("--connection")
            })
        }) {
            parts.push(Verdict::approve(
                rules::REMOTE_EXEC,
                format!("`{name} -H` acts on another machine"),
            ));
        }
        let args = &rest[g..];
        let Some(first) = args.first() else {
            return combine(parts, diag(name));
        };
        let Some(sub) = first.lit() else {
            parts.push(Verdict::refuse(
                rules::DYNAMIC_COMMAND,
                format!("the `{name}` subcommand is only known at run time"),
            ));
            return combine(parts, diag(name));
        };
        let (group, verb, tail): (&str, &str, &[Arg]) = match sub {
            "container" | "image" | "network" | "volume" | "system" | "builder" | "buildx"
            | "context" | "plugin" | "swarm" | "node" | "service" | "stack" | "secret"
            | "config" | "trust" | "manifest" | "pod" | "machine" => {
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
        let shown = if group.is_empty() {
            verb.to_string()
        } else {
            format!("{group} {verb}")
        };
        let group = if group == "container" { "" } else { group };
        let v = match (group, verb) {
            (
                "",
                "--version" | "-v" | "version" | "info" | "--help" | "help" | "ps" | "images"
                | "inspect" | "top" | "port" | "diff" | "history" | "search",
            )
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
                if tail
                    .iter()
                    .any(|a| a.lit().is_some_and(|t| t.starts_with("--until")))
                {
                    diag_verb(name, "events --until")
                } else {
                    streams(&format!("{name} events"))
                }
            }
            (
                "network" | "volume" | "context" | "plugin" | "node" | "service" | "stack"
                | "secret" | "config" | "pod" | "machine",
                sv,
            ) => match (group, sv) {
                (_, "ls" | "list" | "inspect" | "show" | "ps" | "logs" | "exists") => {
                    diag_verb(name, &shown)
                }
                ("volume", "rm" | "remove" | "prune") => Verdict::refuse(
                    rules::DATA_DESTROY,
                    format!("`{name} {shown}` deletes volumes and the data in them"),
                ),
                ("network", _) => Verdict::approve(
                    rules::NETWORK_CHANGE,
                    format!("`{name} {shown}` changes container networking"),
                ),
                ("pod", "restart" | "start") => {
                    Verdict::remediation(rules::CONTAINER_CONTROL, format!("`{name} {shown}`"))
                }
                _ => Verdict::approve(rules::CONTAINER_CONTROL, format!("`{name} {shown}`")),
            },
            ("system" | "image" | "builder" | "buildx" | "", "prune") => {
                let o = Opts::parse(
                    tail,
                    &[
                        "--filter",
                        "--keep-storage",
                        "--reserved-space",
                        "--max-used-space",
                        "--min-free-space",
                    ],
                );
                if o.has(&["--volumes"]) {
                    Verdict::refuse(
                        rules::DATA_DESTROY,
                        format!("`{name} {shown} --volumes` deletes volumes and their data"),
                    )
                } else if o.has(&["-a", "--all"]) {
                    Verdict::approve(
                        rules::MAINTENANCE,
                        format!("`{name} {shown} -a` removes every unused image"),
                    )
                } else {
                    Verdict::remediation(
                        rules::MAINTENANCE,
                        format!(
                            "`{name} {shown}` removes dangling images, stopped containers or build cache"
                        ),
                    )
                }
            }
            ("image", "rmi") => Verdict::approve(
                rules::CONTAINER_CONTROL,
                format!("`{name} rmi` removes images"),
            ),
            ("system" | "image" | "builder" | "buildx" | "trust" | "manifest" | "swarm", _) => {
                Verdict::approve(rules::CONTAINER_CONTROL, format!("`{name} {shown}`"))
            }
            ("", "restart" | "start" | "unpause" | "update") => {
                let o = Opts::parse(
                    tail,
                    &[
                        "-t",
                        "--time",
                        "-s",
                        "--signal",
                        "--timeout",
                        "-m",
                        "--memory",
                        "--memory-swap",
                        "--memory-reservation",
                        "--cpus",
                        "--cpu-shares",
                        "-c",
                        "--cpuset-cpus",
                        "--cpuset-mems",
                        "--restart",
                        "--pids-limit",
                        "--blkio-weight",
                        "--kernel-memory",
                        "--cpu-period",
                        "--cpu-quota",
                        "--cpu-rt-period",
                        "--cpu-rt-runtime",
                        "--detach-keys",
                    ],
                );
                self.containers(name, verb, &o.operands, false)
            }
            ("", "stop" | "kill" | "rm" | "pause" | "rename") => {
                let o = Opts::parse(tail, &["-t", "--time", "-s", "--signal", "--timeout"]);
                let ops: &[Arg] = if verb == "rename" {
                    o.operands.get(..1).unwrap_or(&[])
                } else {
                    &o.operands
                };
                self.containers(name, verb, ops, true)
            }
            ("", "rmi") => Verdict::approve(
                rules::CONTAINER_CONTROL,
                format!("`{name} rmi` removes images"),
            ),
            ("", "pull") => Verdict::remediation(
                rules::MAINTENANCE,
                format!("`{name} pull` downloads an image"),
            ),
            ("", "attach" | "wait") => streams(&format!("{name} {verb}")),
            ("", "cp") => Verdict::approve(
                rules::FILE_WRITE,
                format!("`{name} cp` copies files into or out of a container"),
            ),
            ("", "login") => Verdict::approve(
                rules::SECRET_READ,
                format!("`{name} login` handles registry credentials"),
            ),
            (
                "",
                "run" | "create" | "build" | "commit" | "tag" | "push" | "save" | "load" | "import"
                | "export" | "logout" | "checkpoint",
            ) => Verdict::approve(rules::CONTAINER_CONTROL, format!("`{name} {verb}`")),
            _ => self.unclassified(format!(
                "`{name} {shown}` is not a subcommand the safety rules know"
            )),
        };
        parts.push(v);
        combine(parts, diag(name))
    }

    /// Control verbs on containers: restart-like (`stop == false`) run
    /// unattended for ordinary containers; stop-like need approval.
    pub(super) fn containers(&self, tool: &str, verb: &str, names: &[Arg], stop: bool) -> Verdict {
        if names.is_empty() {
            return Verdict::approve(
                rules::CONTAINER_CONTROL,
                format!("`{tool} {verb}` without a container"),
            );
        }
        let mut parts = Vec::new();
        for c in names {
            if let Some(p) = self.protected_container(c) {
                parts.push(self.self_protect(&p, &format!("`{tool} {verb}` on")));
            } else if c.dynamic {
                parts.push(Verdict::approve(
                    rules::CONTAINER_CONTROL,
                    format!("`{tool} {verb}` on containers only known at run time"),
                ));
            } else if c.text.len() >= 6
                && c.text.chars().all(|ch| ch.is_ascii_hexdigit())
                && c.text.chars().any(|ch| ch.is_ascii_digit())
            {
                parts.push(Verdict::approve(
                    rules::CONTAINER_CONTROL,
                    format!(
                        "`{tool} {verb} {}` names a container by ID, which could be Jarvis",
                        c.text
                    ),
                ));
            } else if stop {
                parts.push(Verdict::approve(
                    rules::CONTAINER_CONTROL,
                    format!("`{tool} {verb} {}`", c.text),
                ));
            } else {
                parts.push(Verdict::remediation(
                    rules::CONTAINER_CONTROL,
                    format!("`{tool} {verb} {}`", c.text),
                ));
            }
        }
        combine(parts, diag(tool))
    }

    pub(super) fn compose(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        const GLOBAL: &[&str] = &[
            "-f",
            "--file",
            "-p",
            "--project-name",
            "--project-directory",
            "--env-file",
            "--profile",
            "--ansi",
            "--progress",
            "--parallel",
            "-H",
            "--host",
            "-c",
            "--context",
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
            return if args.is_empty() {
                diag(name)
            } else {
                Verdict::refuse(
                    rules::DYNAMIC_COMMAND,
                    format!("the `{name}` verb is only known at run time"),
                )
            };
        };
        let o = Opts::parse(
            &args[1..],
            &[
                "-t",
                "--timeout",
                "-n",
                "--tail",
                "--since",
                "--until",
                "--index",
                "-e",
                "--env",
                "-u",
                "--user",
                "-w",
                "--workdir",
                "--scale",
                "--pull",
                "--wait-timeout",
                "-s",
                "--signal",
                "--format",
                "--status",
                "--filter",
            ],
        );
        for s in &o.operands {
            protected = protected.or_else(|| self.protected_container(s).filter(|_| !s.dynamic));
        }
        let what = format!("`{name} {verb}`");
        match verb {
            "ps" | "config" | "ls" | "images" | "top" | "version" | "port" | "convert" => {
                diag_verb(name, verb)
            }
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
                    Verdict::approve(
                        rules::CONTAINER_CONTROL,
                        format!("{what} without -d runs in the foreground"),
                    )
                } else if o.has(&["--remove-orphans", "-V", "--renew-anon-volumes"]) {
                    Verdict::approve(
                        rules::CONTAINER_CONTROL,
                        format!("{what} removes orphan containers or renews volumes"),
                    )
                } else {
                    Verdict::remediation(rules::CONTAINER_CONTROL, what)
                }
            }
            "down" | "stop" | "rm" | "kill" | "pause" => {
                if let Some(p) = protected {
                    self.self_protect(&p, &format!("{what} on"))
                } else if o.has(&["-v", "--volumes"]) {
                    Verdict::refuse(
                        rules::DATA_DESTROY,
                        format!("{what} --volumes deletes the project's volumes"),
                    )
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

    pub(super) fn kubectl(&self, name: &str, rest: &[Arg], stdin: &Stdin) -> Verdict {
        const VALUE: &[&str] = &[
            "-n",
            "--namespace",
            "--context",
            "--kubeconfig",
            "--cluster",
            "--user",
            "-o",
            "--output",
            "-l",
            "--selector",
            "-c",
            "--container",
            "--tail",
            "--since",
            "-f",
            "--filename",
            "-s",
            "--server",
            "--field-selector",
            "--sort-by",
            "--replicas",
            "--timeout",
            "--token",
            "--as",
        ];
        let rest = if name == "k3s" {
            rest.get(1..).unwrap_or(&[])
        } else {
            rest
        };
        let o = Opts::parse(rest, VALUE);
        let Some(verb) = o.verb() else {
            return if o.operands.is_empty() {
                diag(name)
            } else {
                Verdict::refuse(
                    rules::DYNAMIC_COMMAND,
                    "the `kubectl` verb is only known at run time",
                )
            };
        };
        let sub = o.operands.get(1).and_then(Arg::lit).unwrap_or("");
        match verb {
            "get" | "describe" => {
                let secrets = o.operands[1..].iter().any(|a| {
                    a.lit().is_some_and(|t| {
                        t.split([',', '/'])
                            .any(|r| matches!(r, "secret" | "secrets" | "all"))
                    })
                });
                let dumps = o
                    .value(&["-o", "--output"])
                    .is_some_and(|f| f.lit().is_none_or(|f| !matches!(f, "name" | "wide")));
                if secrets && dumps && verb == "get" {
                    secret_refuse("`kubectl get secret -o …` prints secret values")
                } else {
                    diag_verb(name, verb)
                }
            }
            "logs" | "top" | "explain" | "version" | "api-resources" | "api-versions"
            | "cluster-info" | "auth" | "events" | "diff" | "wait" => {
                if verb == "logs" && o.has(&["-f", "--follow"]) {
                    streams("kubectl logs -f")
                } else {
                    diag_verb(name, verb)
                }
            }
            "config" => match sub {
                "view" if !o.has(&["--raw", "--flatten"]) => diag_verb(name, "config view"),
                "view" => secret_refuse("`kubectl config view --raw` prints credentials"),
                "get-contexts" | "current-context" | "get-clusters" | "get-users" => {
                    diag_verb(name, "config")
                }
                _ => Verdict::approve(
                    rules::CONTAINER_CONTROL,
                    "`kubectl config` changes the client configuration",
                ),
            },
            "rollout" => match sub {
                "restart" => Verdict::remediation(
                    rules::CONTAINER_CONTROL,
                    "`kubectl rollout restart` restarts a workload's pods",
                ),
                "status" | "history" => diag_verb(name, "rollout"),
                _ => Verdict::approve(rules::CONTAINER_CONTROL, format!("`kubectl rollout {sub}`")),
            },
            "exec" => {
                let inner = rest
                    .iter()
                    .position(|a| a.is("--"))
                    .map(|i| &rest[i + 1..])
                    .unwrap_or(&[]);
                let mut parts = vec![Verdict::approve(
                    rules::REMOTE_EXEC,
                    "`kubectl exec` runs a command in a pod",
                )];
                if !inner.is_empty() {
                    parts.push(self.argv(inner, &mut Env::default(), stdin));
                }
                combine(parts, diag(name))
            }
            _ => Verdict::approve(
                rules::CONTAINER_CONTROL,
                format!("`{name} {verb}` changes the cluster"),
            ),
        }
    }
}
