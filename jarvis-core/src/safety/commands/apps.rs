//! Certificates, databases, Home Assistant, git, virtual machines, systemd tools.

use super::*;

/// What a SQL (or Mongo/Redis-like) statement does.
pub(super) fn sql_verdict(tool: &str, sql: &str) -> Verdict {
    let lower = sql.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '\\'))
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    if has("drop")
        || has("truncate")
        || lower.contains("dropdatabase")
        || lower.contains(".drop(")
        || has("flushall")
        || has("flushdb")
        || lower.contains("deletemany({})")
        || lower.contains("remove({})")
    {
        return Verdict::refuse(
            rules::DATA_DESTROY,
            format!("`{tool}` statement drops or truncates data"),
        );
    }
    if lower.contains("\\!")
        || lower.contains("\\copy")
        || has("copy") && (lower.contains("program") || lower.contains(" to "))
        || lower.contains("into outfile")
        || lower.contains("into dumpfile")
        || lower.contains("load_file")
        || lower.contains("pg_read_file")
        || lower.contains("system(")
    {
        return Verdict::refuse(
            rules::INTERPRETER_CODE,
            format!("`{tool}` statement runs shell commands or reads and writes server files"),
        );
    }
    let read_only = [
        "select",
        "show",
        "explain",
        "describe",
        "desc",
        "\\l",
        "\\dt",
        "\\d",
        "\\du",
        "\\dn",
        "\\conninfo",
        "\\x",
        "values",
        "with",
        "pragma",
        "status",
        "db",
        "version",
    ];
    let starts = lower
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .all(|s| {
            let first = s.split_whitespace().next().unwrap_or("");
            read_only.contains(&first)
                || first.starts_with("\\d")
                || first.starts_with("db.")
                    && [
                        "find(",
                        "count",
                        "stats(",
                        "getcollectionnames(",
                        "serverstatus(",
                        "version(",
                    ]
                    .iter()
                    .any(|r| s.contains(r))
        });
    let writes = [
        "insert", "update", "delete", "alter", "create", "grant", "revoke", "set", "call", "do",
        "lock", "vacuum", "reindex", "cluster", "kill", "shutdown", "replace", "merge", "rename",
    ];
    if starts && !words.iter().any(|w| writes.contains(w)) {
        Verdict::diagnostic(
            rules::DIAGNOSTIC,
            format!("`{tool}` runs a read-only query"),
        )
    } else {
        Verdict::approve(
            rules::DATA_DESTROY,
            format!("`{tool}` statement changes data or settings"),
        )
    }
}

impl<'a> Cx<'a> {
    pub(super) fn certbot(&self, rest: &[Arg], stdin: &Stdin) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "--deploy-hook",
                "--pre-hook",
                "--post-hook",
                "--renew-hook",
                "--manual-auth-hook",
                "--manual-cleanup-hook",
                "-d",
                "--domains",
                "--cert-name",
                "-m",
                "--email",
                "--config-dir",
                "--work-dir",
                "--logs-dir",
                "-a",
                "--authenticator",
                "-i",
                "--installer",
                "-w",
                "--webroot-path",
                "--key-type",
                "--rsa-key-size",
                "--server",
                "--preferred-challenges",
                "--cert-path",
                "--key-path",
                "--fullchain-path",
                "--chain-path",
                "-c",
                "--config",
            ],
        );
        let v = match o.verb() {
            Some("certificates" | "plugins" | "show_account") => {
                diag_verb("certbot", "certificates")
            }
            Some("renew") => Verdict::remediation(
                rules::MAINTENANCE,
                "`certbot renew` renews certificates that are due",
            ),
            Some("revoke" | "delete") => Verdict::approve(
                rules::MAINTENANCE,
                "`certbot revoke|delete` removes certificates",
            ),
            _ if o.has(&["--version", "-h", "--help"]) => diag("certbot"),
            _ => Verdict::approve(
                rules::MAINTENANCE,
                format!("`certbot {}` issues or installs certificates", render(rest)),
            ),
        };
        let mut parts = vec![v];
        for hook in o.all_values(&[
            "--deploy-hook",
            "--pre-hook",
            "--post-hook",
            "--renew-hook",
            "--manual-auth-hook",
            "--manual-cleanup-hook",
        ]) {
            parts.push(self.shell_string(hook, stdin, "a `certbot` hook"));
        }
        combine(parts, diag("certbot"))
    }

    pub(super) fn openssl(&self, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &[]);
        let Some(sub) = o.verb() else {
            return if rest.is_empty() {
                streams("openssl")
            } else {
                diag("openssl")
            };
        };
        // openssl options are single-dash words (`-in`, `-out`, `-noout`).
        let value_of = |flag: &str| {
            rest.iter()
                .position(|a| a.is(flag))
                .and_then(|i| rest.get(i + 1))
        };
        let has = |flag: &str| rest.iter().any(|a| a.is(flag));
        let mut parts = Vec::new();
        if let Some(out) = value_of("-out") {
            parts.push(self.write_target(&self.resolve(out, env), "`openssl -out` writes to"));
        }
        for flag in ["-passin", "-pass", "-kfile"] {
            if value_of(flag)
                .is_some_and(|v| v.text.starts_with("file:") || v.text.starts_with("env:"))
            {
                parts.push(secret_approve(
                    "`openssl` reads a password from a file or the environment",
                ));
            }
        }
        let v = match sub {
            "x509" | "verify" | "version" | "crl" | "ciphers" | "s_client" | "list" | "rand"
            | "speed" | "errstr" | "help" | "asn1parse" | "crl2pkcs7" | "ocsp" | "nseq"
            | "sess_id" | "prime" => diag_verb("openssl", sub),
            "req" => {
                if has("-new") || has("-x509") || has("-newkey") {
                    Verdict::approve(
                        rules::USER_ADMIN,
                        "`openssl req -new` creates keys or certificates",
                    )
                } else {
                    diag_verb("openssl", sub)
                }
            }
            "rsa" | "ec" | "pkey" | "dsa" | "pkcs8" | "pkcs12" | "pkeyutl" | "rsautl" => {
                let safe = (has("-pubout") && !has("-text"))
                    || (has("-noout") && !has("-text") && !has("-info"));
                let input = value_of("-in").cloned();
                if safe {
                    diag_verb("openssl", sub)
                } else {
                    secret_refuse(format!(
                        "`openssl {sub}` reads a private key{} and prints it",
                        input
                            .map(|i| format!(" (`{}`)", i.text))
                            .unwrap_or_default()
                    ))
                }
            }
            "genrsa" | "genpkey" | "ecparam" | "dhparam" | "gendsa" | "ca" | "x509_sign_"
            | "kdf" | "passwd" => Verdict::approve(
                rules::USER_ADMIN,
                format!("`openssl {sub}` creates keys, parameters or signatures"),
            ),
            "enc" | "base64" | "dgst" | "cms" | "smime" | "md5" | "sha256" | "sha1" | "sha512"
            | "mac" => {
                parts.extend(value_of("-in").and_then(|f| self.read_file(&self.resolve(f, env))));
                for f in o.operands.iter().skip(1) {
                    parts.extend(self.read_file(&self.resolve(f, env)));
                }
                diag_verb("openssl", sub)
            }
            "s_server" | "engine" => Verdict::approve(
                rules::REMOTE_EXEC,
                format!("`openssl {sub}` opens a server or loads code"),
            ),
            _ => self.unclassified(format!(
                "`openssl {sub}` is not a subcommand the safety rules know"
            )),
        };
        parts.push(v);
        combine(parts, diag("openssl"))
    }

    pub(super) fn redis(&self, rest: &[Arg], stdin: &Stdin) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "-h",
                "-p",
                "-s",
                "-a",
                "--user",
                "--pass",
                "-u",
                "-n",
                "-r",
                "-i",
                "-d",
                "-D",
                "--pattern",
                "--count",
                "--rdb",
                "--functions-rdb",
                "--eval",
                "--cluster",
                "--memkeys-samples",
                "--tls-cert",
                "--cacert",
                "--key",
                "--quoted-pattern",
                "--lru-test",
                "-t",
            ],
        );
        if o.has(&["--version", "-v"]) {
            return diag("redis-cli");
        }
        if o.value(&["--eval"]).is_some() {
            return Verdict::approve(
                rules::INTERPRETER_CODE,
                "`redis-cli --eval` runs a Lua script on the server",
            );
        }
        if o.value(&["--rdb", "--functions-rdb"]).is_some() {
            return secret_approve("`redis-cli --rdb` dumps the whole dataset");
        }
        if o.has(&[
            "--stat",
            "--bigkeys",
            "--memkeys",
            "--hotkeys",
            "--latency",
            "--latency-history",
            "--latency-dist",
            "--intrinsic-latency",
            "--scan",
        ]) {
            return diag("redis-cli");
        }
        let words: Vec<String> = o
            .operands
            .iter()
            .map(|a| a.lit().unwrap_or("*").to_ascii_lowercase())
            .collect();
        let Some(cmd) = words.first() else {
            return match stdin {
                Stdin::Inherit => streams("redis-cli"),
                _ => Verdict::approve(
                    rules::DATA_DESTROY,
                    "`redis-cli` runs commands read from standard input",
                ),
            };
        };
        let sub = words.get(1).map(String::as_str).unwrap_or("");
        match cmd.as_str() {
            "flushall" | "flushdb" | "swapdb" => Verdict::refuse(
                rules::DATA_DESTROY,
                format!("`redis-cli {cmd}` deletes every key"),
            ),
            "ping" | "info" | "dbsize" | "time" | "lastsave" | "role" | "echo" | "exists"
            | "type" | "ttl" | "pttl" | "strlen" | "llen" | "hlen" | "scard" | "zcard"
            | "command" | "latency" | "slowlog" | "lolwut" => {
                if (cmd == "latency" || cmd == "slowlog") && sub == "reset" {
                    Verdict::remediation(rules::MAINTENANCE, format!("`redis-cli {cmd} reset`"))
                } else {
                    diag_verb("redis-cli", cmd)
                }
            }
            "memory" if matches!(sub, "stats" | "doctor" | "usage" | "malloc-stats") => {
                diag_verb("redis-cli", cmd)
            }
            "client" if matches!(sub, "list" | "info" | "getname" | "id") => {
                diag_verb("redis-cli", cmd)
            }
            "cluster" if matches!(sub, "info" | "nodes" | "slots" | "shards" | "myid") => {
                diag_verb("redis-cli", cmd)
            }
            "config" if sub == "get" => {
                if words
                    .get(2)
                    .is_some_and(|k| k.contains("pass") || k.contains("auth") || k == "*")
                {
                    secret_refuse("`redis-cli config get` of a password")
                } else {
                    diag_verb("redis-cli", "config get")
                }
            }
            "shutdown" | "debug" | "module" | "replicaof" | "slaveof" | "failover" => {
                Verdict::approve(
                    rules::SERVICE_CONTROL,
                    format!("`redis-cli {cmd}` stops or reconfigures the server"),
                )
            }
            "eval" | "evalsha" | "fcall" | "function" | "script" => Verdict::approve(
                rules::INTERPRETER_CODE,
                format!("`redis-cli {cmd}` runs a script on the server"),
            ),
            _ => Verdict::approve(
                rules::DATA_DESTROY,
                format!("`redis-cli {cmd}` reads or changes data"),
            ),
        }
    }

    pub(super) fn mysqladmin(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "-h", "--host", "-P", "--port", "-u", "--user", "-S", "--socket", "-i", "--sleep",
                "-c", "--count",
            ],
        );
        let words: Vec<&str> = o.operands.iter().map(|a| a.lit().unwrap_or("*")).collect();
        if words.iter().any(|w| w.eq_ignore_ascii_case("drop")) {
            return Verdict::refuse(rules::DATA_DESTROY, "`mysqladmin drop` deletes a database");
        }
        if words.iter().all(|w| {
            matches!(
                *w,
                "ping" | "status" | "version" | "processlist" | "variables" | "extended-status"
            )
        }) {
            diag("mysqladmin")
        } else {
            Verdict::approve(
                rules::SERVICE_CONTROL,
                format!("`mysqladmin {}` changes the server", words.join(" ")),
            )
        }
    }

    pub(super) fn sql_client(&self, name: &str, rest: &[Arg], stdin: &Stdin) -> Verdict {
        let flags: &[&str] = match name {
            "psql" => &["-c", "--command"],
            "mysql" | "mariadb" => &["-e", "--execute"],
            "mongo" | "mongosh" => &["--eval"],
            "clickhouse-client" => &["-q", "--query"],
            "cqlsh" => &["-e", "--execute"],
            "influx" => &["-execute", "--execute"],
            _ => &[],
        };
        let mut value_flags: Vec<&str> = vec![
            "-h",
            "--host",
            "-p",
            "--port",
            "-U",
            "--username",
            "-u",
            "--user",
            "-d",
            "--dbname",
            "-D",
            "--database",
            "-f",
            "--file",
            "-P",
            "-S",
            "--socket",
            "-o",
            "--output",
            "-v",
            "--set",
        ];
        value_flags.extend(flags);
        let o = Opts::parse(rest, &value_flags);
        let mut parts = Vec::new();
        if o.value(&["-f", "--file"]).is_some() && name == "psql" {
            parts.push(Verdict::approve(
                rules::DATA_DESTROY,
                format!("`{name} -f` runs SQL from a file"),
            ));
        }
        if let Some(out) = o.value(&["-o", "--output"]).filter(|_| name == "psql") {
            parts.push(self.write_target(out, "`psql -o` writes to"));
        }
        let statements: Vec<&Arg> = o.all_values(flags);
        let positional_sql = match name {
            "sqlite3" => o
                .operands
                .get(1..)
                .unwrap_or(&[])
                .iter()
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        let all: Vec<&Arg> = statements.into_iter().chain(positional_sql).collect();
        if all.is_empty() {
            parts.push(match stdin {
                Stdin::Text(Some(sql)) => sql_verdict(name, sql),
                Stdin::Inherit if parts.is_empty() => streams(name),
                _ if parts.is_empty() => Verdict::approve(
                    rules::DATA_DESTROY,
                    format!("`{name}` runs statements from standard input"),
                ),
                _ => diag(name),
            });
        }
        for s in all {
            parts.push(match s.lit() {
                Some(sql) => sql_verdict(name, sql),
                None => Verdict::approve(
                    rules::DATA_DESTROY,
                    format!("`{name}` runs a statement built at run time"),
                ),
            });
        }
        combine(parts, diag(name))
    }

    /// The Home Assistant CLI (`ha core restart`, `ha host reboot`...).
    pub(super) fn ha(&self, rest: &[Arg]) -> Verdict {
        let words: Vec<&str> = rest
            .iter()
            .filter(|a| !a.text.starts_with('-'))
            .map(|a| a.lit().unwrap_or("*"))
            .collect();
        let group = words.first().copied().unwrap_or("");
        let verb = words.get(1).copied().unwrap_or("");
        if rest.iter().any(|a| a.is("--help") || a.is("-h")) || words.is_empty() {
            return diag("ha");
        }
        if matches!(verb, "info" | "logs" | "stats" | "list" | "check" | "")
            && !words.contains(&"*")
            && !(group == "host" && verb.is_empty() && words.len() > 1)
        {
            return diag_verb("ha", group);
        }
        match (group, verb) {
            ("host", "reboot" | "shutdown") => Verdict::refuse(
                rules::POWER_STATE,
                format!("`ha {group} {verb}` reboots or shuts down the host"),
            ),
            ("core" | "homeassistant" | "ha", "stop") => Verdict::refuse(
                rules::SERVICE_CONTROL,
                "`ha core stop` stops Home Assistant",
            ),
            ("backups" | "snapshots", "remove" | "delete" | "rm") => {
                Verdict::refuse(rules::DATA_DESTROY, "`ha backups remove` deletes a backup")
            }
            ("backups" | "snapshots", "restore") => Verdict::approve(
                rules::DATA_DESTROY,
                "`ha backups restore` overwrites the current configuration",
            ),
            ("addons" | "apps" | "addon", "uninstall") => Verdict::refuse(
                rules::PACKAGE_REMOVAL,
                "`ha addons uninstall` removes an add-on",
            ),
            ("addons" | "apps" | "addon", "restart" | "start") => Verdict::approve(
                rules::HA_ADDON,
                format!("`ha {group} {verb}` restarts an add-on"),
            ),
            (_, "update" | "install" | "rebuild") => Verdict::approve(
                rules::PACKAGE_CHANGE,
                format!("`ha {group} {verb}` installs or updates software"),
            ),
            (_, "restart" | "reload") => Verdict::approve(
                rules::SERVICE_CONTROL,
                format!("`ha {group} {verb}` restarts a Home Assistant component"),
            ),
            _ => Verdict::approve(rules::SERVICE_CONTROL, format!("`ha {}`", words.join(" "))),
        }
    }

    pub(super) fn git(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(
            rest,
            &["-C", "-c", "--git-dir", "--work-tree", "--namespace"],
        );
        if o.value(&["-c"]).is_some()
            || o.flags
                .iter()
                .any(|f| f == "--exec-path" || f == "--config-env")
        {
            return Verdict::approve(
                rules::INTERPRETER_CODE,
                "`git -c` can set commands git runs (pager, hooks, ssh)",
            );
        }
        let Some(verb) = o.verb() else {
            return diag("git");
        };
        let sub = o.operands.get(1).and_then(Arg::lit).unwrap_or("");
        match verb {
            "status" | "log" | "diff" | "show" | "rev-parse" | "describe" | "ls-files"
            | "blame" | "shortlog" | "reflog" | "ls-remote" | "ls-tree" | "cat-file"
            | "whatchanged" | "grep" | "version" | "help" | "count-objects" | "fsck"
            | "name-rev" | "merge-base" | "cherry" | "rev-list" | "for-each-ref" | "show-ref"
            | "var" => diag_verb("git", verb),
            "branch" | "tag" | "remote" | "stash" | "config" | "worktree"
                if matches!(
                    sub,
                    "" | "-v"
                        | "-vv"
                        | "-a"
                        | "-r"
                        | "--list"
                        | "-l"
                        | "list"
                        | "show"
                        | "--get"
                        | "--get-all"
                        | "--show-current"
                        | "get-url"
                ) =>
            {
                diag_verb("git", verb)
            }
            "clean" => {
                if o.operands.iter().any(|a| a.is("-n") || a.is("--dry-run"))
                    || rest.iter().any(|a| a.is("-n") || a.is("--dry-run"))
                {
                    diag("git clean -n")
                } else {
                    Verdict::approve(rules::FILE_DELETE, "`git clean` deletes untracked files")
                }
            }
            _ => Verdict::approve(
                rules::FILE_WRITE,
                format!("`git {verb}` changes the repository or working tree"),
            ),
        }
    }

    /// libvirt, Proxmox, LXD/Incus and VirtualBox front ends.
    pub(super) fn vm(&self, name: &str, rest: &[Arg]) -> Verdict {
        let Some(verb) = rest
            .iter()
            .filter_map(Arg::lit)
            .find(|t| !t.starts_with('-'))
        else {
            return diag(name);
        };
        let verb_l = verb.to_ascii_lowercase();
        match verb_l.as_str() {
            "list" | "ls" | "dominfo" | "domstate" | "nodeinfo" | "version" | "status"
            | "config" | "info" | "showvminfo" | "domblklist" | "domiflist" | "dumpxml"
            | "net-list" | "pool-list" | "vol-list" | "snapshot-list" | "listsnapshot"
            | "pending" | "cpuinfo" | "domstats" | "capabilities" | "uri" | "hostname"
            | "sysinfo" | "listsnapshots" => diag_verb(name, verb),
            "destroy" if name != "virsh" => Verdict::refuse(
                rules::DATA_DESTROY,
                format!("`{name} destroy` deletes a guest and its disks"),
            ),
            "undefine" | "vol-delete" | "pool-delete" | "delete" | "rm" | "purge"
            | "unregistervm" | "delsnapshot" | "snapshot-delete" => Verdict::refuse(
                rules::DATA_DESTROY,
                format!("`{name} {verb}` deletes a guest, volume or snapshot"),
            ),
            "rollback" | "snapshot-revert" => Verdict::refuse(
                rules::DATA_DESTROY,
                format!("`{name} {verb}` discards a guest's newer data"),
            ),
            "start" | "resume" | "unpause" => Verdict::remediation(
                rules::CONTAINER_CONTROL,
                format!("`{name} {verb}` starts a guest"),
            ),
            _ => Verdict::approve(
                rules::CONTAINER_CONTROL,
                format!("`{name} {verb}` changes a guest"),
            ),
        }
    }

    pub(super) fn systemd_misc(&self, name: &str, rest: &[Arg]) -> Verdict {
        let verb = Opts::parse(
            rest,
            &[
                "-H",
                "--host",
                "-M",
                "--machine",
                "-p",
                "--property",
                "-o",
                "--output",
                "-n",
                "--lines",
                "-s",
                "--signal",
                "-u",
                "--unit",
            ],
        )
        .verb()
        .map(str::to_string);
        let verb = verb.as_deref().unwrap_or("");
        let read = match name {
            "loginctl" | "machinectl" => {
                verb.is_empty()
                    || verb.starts_with("list")
                    || verb.starts_with("show")
                    || verb.ends_with("status")
            }
            "busctl" => {
                verb.is_empty()
                    || matches!(
                        verb,
                        "list" | "status" | "tree" | "introspect" | "get-property"
                    )
            }
            "coredumpctl" => verb.is_empty() || matches!(verb, "list" | "info"),
            _ => false,
        };
        if read {
            return diag_verb(name, verb);
        }
        match (name, verb) {
            ("coredumpctl", _) => secret_approve("`coredumpctl dump|debug` exposes process memory"),
            ("systemd-run" | "systemd-inhibit", _) => {
                self.unclassified(format!("`{name}` runs a command in a transient unit"))
            }
            ("loginctl", "poweroff" | "reboot" | "suspend" | "hibernate") => {
                Verdict::refuse(rules::POWER_STATE, format!("`{name} {verb}`"))
            }
            _ => Verdict::approve(
                rules::SERVICE_CONTROL,
                format!("`{name} {verb}` changes sessions, machines or bus state"),
            ),
        }
    }
}
