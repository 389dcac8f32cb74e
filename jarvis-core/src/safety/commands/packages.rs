//! Package managers.

use super::*;

pub(super) fn package_verdict(
    tool: &str,
    verb: &str,
    read: &[&str],
    clean: &[&str],
    install: &[&str],
    remove: &[&str],
) -> Option<Verdict> {
    if read.contains(&verb) {
        Some(diag_verb(tool, verb))
    } else if clean.contains(&verb) {
        Some(Verdict::remediation(
            rules::MAINTENANCE,
            format!("`{tool} {verb}` cleans package caches"),
        ))
    } else if remove.contains(&verb) {
        Some(Verdict::refuse(
            rules::PACKAGE_REMOVAL,
            format!("`{tool} {verb}` removes packages"),
        ))
    } else if install.contains(&verb) {
        Some(Verdict::approve(
            rules::PACKAGE_CHANGE,
            format!("`{tool} {verb}` installs or upgrades packages"),
        ))
    } else {
        None
    }
}

impl<'a> Cx<'a> {
    pub(super) fn apt(&self, name: &str, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "-o",
                "--option",
                "-c",
                "--config-file",
                "-t",
                "--target-release",
                "-a",
                "--host-architecture",
            ],
        );
        if o.all_values(&["-o", "--option"]).iter().any(|v| {
            v.dynamic
                || v.text.to_ascii_lowercase().contains("invoke")
                || v.text.to_ascii_lowercase().contains("::pre")
                || v.text.to_ascii_lowercase().contains("::post")
        }) {
            return Verdict::refuse(
                rules::INTERPRETER_CODE,
                format!("`{name} -o …Invoke…` runs arbitrary commands"),
            );
        }
        let Some(verb) = o.verb() else {
            return if o.operands.is_empty() {
                diag(name)
            } else {
                Verdict::refuse(
                    rules::DYNAMIC_COMMAND,
                    format!("the `{name}` verb is only known at run time"),
                )
            };
        };
        let simulate = o.has(&[
            "-s",
            "--simulate",
            "--just-print",
            "--dry-run",
            "--recon",
            "--no-act",
        ]);
        if matches!(verb, "install" | "reinstall")
            && o.operands[1..].iter().any(|a| a.text.ends_with('-'))
        {
            return Verdict::refuse(
                rules::PACKAGE_REMOVAL,
                format!("`{name} install pkg-` removes packages"),
            );
        }
        if o.has(&["--purge", "--auto-remove", "--autoremove"]) && !simulate {
            return Verdict::refuse(
                rules::PACKAGE_REMOVAL,
                format!("`{name} --purge/--autoremove` removes packages"),
            );
        }
        let v = package_verdict(
            name,
            verb,
            &[
                "list",
                "show",
                "policy",
                "search",
                "showpkg",
                "depends",
                "rdepends",
                "madison",
                "changelog",
                "showsrc",
                "stats",
                "why",
                "why-not",
                "versions",
            ],
            &["clean", "autoclean", "auto-clean"],
            &[
                "install",
                "upgrade",
                "full-upgrade",
                "dist-upgrade",
                "reinstall",
                "build-dep",
                "satisfy",
                "update",
                "check",
                "download",
                "source",
                "safe-upgrade",
                "hold",
                "unhold",
                "markauto",
                "unmarkauto",
                "edit-sources",
                "dselect-upgrade",
            ],
            &["remove", "purge", "autoremove", "autopurge"],
        );
        match v {
            Some(v) if simulate && v.decision != Decision::Allow => Verdict::diagnostic(
                rules::DIAGNOSTIC,
                format!("`{name} -s {verb}` only simulates"),
            ),
            Some(v) => v,
            None => self.unclassified(format!(
                "`{name} {verb}` is not a verb the safety rules know"
            )),
        }
    }

    pub(super) fn dpkg(&self, rest: &[Arg]) -> Verdict {
        let flags: Vec<&str> = rest
            .iter()
            .filter_map(Arg::lit)
            .filter(|t| t.starts_with('-'))
            .collect();
        let has = |names: &[&str]| {
            flags.iter().any(|f| {
                names
                    .iter()
                    .any(|n| f == n || f.starts_with(&format!("{n}=")))
            })
        };
        if has(&["--dry-run", "--no-act", "--simulate"]) {
            return diag("dpkg --dry-run");
        }
        if has(&["-r", "--remove", "-P", "--purge"]) {
            Verdict::refuse(rules::PACKAGE_REMOVAL, "`dpkg -r/-P` removes packages")
        } else if has(&[
            "-i",
            "--install",
            "--unpack",
            "--configure",
            "--set-selections",
            "--clear-selections",
            "--clear-avail",
            "--update-avail",
            "--merge-avail",
            "--triggers-only",
            "--force-all",
            "--add-architecture",
            "--remove-architecture",
        ]) {
            Verdict::approve(
                rules::PACKAGE_CHANGE,
                "`dpkg` installs or configures packages",
            )
        } else if has(&[
            "-l",
            "--list",
            "-L",
            "--listfiles",
            "-s",
            "--status",
            "-S",
            "--search",
            "-p",
            "--print-avail",
            "--get-selections",
            "--audit",
            "-C",
            "--print-architecture",
            "--print-foreign-architectures",
            "--compare-versions",
            "-c",
            "--contents",
            "-I",
            "--info",
            "--verify",
            "-V",
            "--version",
            "--help",
            "-f",
            "--field",
            "-W",
            "--show",
        ]) {
            diag("dpkg")
        } else {
            self.unclassified("`dpkg` with options the safety rules do not know")
        }
    }

    pub(super) fn yum(&self, name: &str, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "-c",
                "--config",
                "--setopt",
                "--enablerepo",
                "--disablerepo",
                "--repo",
                "--releasever",
                "-d",
                "-e",
                "--installroot",
                "-x",
                "--exclude",
                "--root",
            ],
        );
        if name == "pacman" {
            let first = o.flags.first().map(String::as_str).unwrap_or("");
            return match first {
                "-Q" | "--query" => diag("pacman -Q"),
                "-S" | "--sync" if o.has(&["-s", "-i", "-l", "-g"]) && !o.has(&["-y", "-u"]) => {
                    diag("pacman -Ss")
                }
                "-S" | "--sync" if o.has(&["-c"]) => Verdict::remediation(
                    rules::MAINTENANCE,
                    "`pacman -Sc` cleans the package cache",
                ),
                "-R" | "--remove" => {
                    Verdict::refuse(rules::PACKAGE_REMOVAL, "`pacman -R` removes packages")
                }
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
            return Verdict::remediation(
                rules::MAINTENANCE,
                format!("`{name} clean` cleans package caches"),
            );
        }
        let v = package_verdict(
            name,
            verb,
            &[
                "list",
                "info",
                "search",
                "provides",
                "whatprovides",
                "repolist",
                "check-update",
                "deplist",
                "updateinfo",
                "repoquery",
                "se",
                "if",
                "lr",
                "ls",
                "lp",
                "pa",
                "packages",
                "patches",
                "lu",
                "list-updates",
                "repos",
                "products",
                "patterns",
                "what-provides",
                "wp",
                "check",
                "alias",
                "version",
                "help",
                "needs-restarting",
                "lpa",
            ],
            &["makecache", "ref", "refresh"],
            &[
                "install",
                "in",
                "update",
                "up",
                "upgrade",
                "reinstall",
                "downgrade",
                "groupinstall",
                "localinstall",
                "distro-sync",
                "dup",
                "dist-upgrade",
                "patch",
                "group",
                "module",
                "swap",
                "upgrade-minimal",
                "mark",
            ],
            &[
                "remove",
                "rm",
                "erase",
                "autoremove",
                "groupremove",
                "purge",
            ],
        );
        v.unwrap_or_else(|| {
            self.unclassified(format!(
                "`{name} {verb}` is not a verb the safety rules know"
            ))
        })
    }

    pub(super) fn rpm(&self, rest: &[Arg]) -> Verdict {
        let first = rest
            .iter()
            .filter_map(Arg::lit)
            .find(|t| t.starts_with('-'))
            .unwrap_or("");
        if first.starts_with("-q")
            || matches!(
                first,
                "--query"
                    | "-V"
                    | "--verify"
                    | "-K"
                    | "--checksig"
                    | "--version"
                    | "--querytags"
                    | "--showrc"
                    | "--eval"
                    | "-E"
            )
        {
            if rest.iter().any(|a| a.is("--eval") || a.is("-E"))
                && rest
                    .iter()
                    .any(|a| a.text.contains("%(") || a.text.contains("lua:"))
            {
                return Verdict::refuse(
                    rules::INTERPRETER_CODE,
                    "`rpm --eval` with a shell or Lua macro runs code",
                );
            }
            diag("rpm")
        } else if first.starts_with("-e") || first == "--erase" {
            Verdict::refuse(rules::PACKAGE_REMOVAL, "`rpm -e` removes packages")
        } else {
            Verdict::approve(
                rules::PACKAGE_CHANGE,
                format!("`rpm {}` installs or changes packages", render(rest)),
            )
        }
    }

    pub(super) fn apk(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "-X",
                "--repository",
                "-p",
                "--root",
                "--arch",
                "--cache-dir",
                "--keys-dir",
                "--repositories-file",
                "-t",
                "--virtual",
            ],
        );
        let Some(verb) = o.verb() else {
            return diag("apk");
        };
        let sub = o.operands.get(1).and_then(Arg::lit).unwrap_or("");
        if verb == "cache" && matches!(sub, "clean" | "purge") {
            return Verdict::remediation(
                rules::MAINTENANCE,
                "`apk cache clean` cleans the package cache",
            );
        }
        package_verdict(
            "apk",
            verb,
            &[
                "info", "search", "list", "policy", "stats", "version", "dot", "audit", "verify",
            ],
            &[],
            &["add", "upgrade", "update", "fix", "cache", "fetch"],
            &["del", "delete"],
        )
        .unwrap_or_else(|| {
            self.unclassified(format!("`apk {verb}` is not a verb the safety rules know"))
        })
    }

    pub(super) fn snap(&self, name: &str, rest: &[Arg]) -> Verdict {
        let Some(verb) = Opts::parse(rest, &[]).verb().map(str::to_string) else {
            return diag(name);
        };
        package_verdict(
            name,
            &verb,
            &[
                "list",
                "info",
                "find",
                "search",
                "version",
                "changes",
                "services",
                "logs",
                "connections",
                "interfaces",
                "get",
                "ps",
                "remote-ls",
                "remotes",
                "history",
                "warnings",
                "tasks",
                "saved",
                "aliases",
                "model",
                "whoami",
            ],
            &[],
            &[
                "refresh",
                "install",
                "revert",
                "enable",
                "start",
                "restart",
                "set",
                "connect",
                "disconnect",
                "disable",
                "stop",
                "update",
                "upgrade",
                "switch",
                "alias",
                "save",
                "run",
                "unset",
                "repair",
                "override",
                "mask",
                "unmask",
                "pin",
            ],
            &["remove", "uninstall", "forget", "purge"],
        )
        .unwrap_or_else(|| {
            self.unclassified(format!(
                "`{name} {verb}` is not a verb the safety rules know"
            ))
        })
    }

    pub(super) fn pip(&self, name: &str, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "-r",
                "--requirement",
                "-c",
                "--constraint",
                "-i",
                "--index-url",
                "--extra-index-url",
                "-t",
                "--target",
                "--python",
                "--prefix",
                "--root",
                "--cache-dir",
                "-f",
                "--find-links",
                "--log",
            ],
        );
        let Some(verb) = o.verb() else {
            return diag(name);
        };
        let sub = o.operands.get(1).and_then(Arg::lit).unwrap_or("");
        if verb == "cache" {
            return if matches!(sub, "purge" | "remove") {
                Verdict::remediation(
                    rules::MAINTENANCE,
                    format!("`{name} cache purge` cleans the download cache"),
                )
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
            &[
                "list",
                "show",
                "freeze",
                "check",
                "search",
                "index",
                "inspect",
                "debug",
                "config",
                "help",
                "tree",
                "--version",
                "-V",
                "environments",
            ],
            &[],
            &[
                "install",
                "download",
                "wheel",
                "upgrade",
                "upgrade-all",
                "inject",
                "reinstall",
                "ensurepath",
                "sync",
                "lock",
                "add",
                "pip",
                "venv",
                "build",
            ],
            &["uninstall", "uninstall-all", "remove"],
        )
        .unwrap_or_else(|| {
            self.unclassified(format!(
                "`{name} {verb}` is not a verb the safety rules know"
            ))
        })
    }

    pub(super) fn npm(&self, name: &str, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(
            rest,
            &["--prefix", "-C", "--cwd", "--registry", "-w", "--workspace"],
        );
        let Some(verb) = o.verb() else {
            return diag(name);
        };
        let sub = o.operands.get(1).and_then(Arg::lit).unwrap_or("");
        if verb == "cache" {
            return if matches!(sub, "clean" | "clear" | "verify" | "prune") {
                Verdict::remediation(
                    rules::MAINTENANCE,
                    format!("`{name} cache clean` cleans the package cache"),
                )
            } else {
                diag_verb(name, "cache")
            };
        }
        if verb == "audit" && sub == "fix" {
            return Verdict::approve(
                rules::PACKAGE_CHANGE,
                format!("`{name} audit fix` changes dependencies"),
            );
        }
        if verb == "config" && !matches!(sub, "get" | "list" | "ls" | "") {
            return Verdict::approve(
                rules::PACKAGE_CHANGE,
                format!("`{name} config {sub}` changes configuration"),
            );
        }
        package_verdict(
            name,
            verb,
            &[
                "ls",
                "list",
                "la",
                "ll",
                "outdated",
                "view",
                "info",
                "show",
                "search",
                "doctor",
                "audit",
                "config",
                "why",
                "explain",
                "help",
                "version",
                "-v",
                "--version",
                "root",
                "bin",
                "prefix",
                "ping",
                "whoami",
                "fund",
                "query",
            ],
            &[],
            &[
                "install",
                "i",
                "add",
                "update",
                "up",
                "upgrade",
                "ci",
                "install-ci-test",
                "link",
                "dedupe",
                "rebuild",
                "global",
                "import",
            ],
            &[
                "uninstall",
                "remove",
                "rm",
                "un",
                "r",
                "unlink",
                "prune",
                "delete",
            ],
        )
        .unwrap_or_else(|| {
            self.unclassified(format!(
                "`{name} {verb}` runs scripts or changes state the safety rules do not know"
            ))
        })
    }
}
