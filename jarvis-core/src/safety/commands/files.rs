//! Files, disks and archives.

use super::*;

impl<'a> Cx<'a> {
    pub(super) fn rm(&self, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &[]);
        if o.has(&["--no-preserve-root"]) {
            return Verdict::refuse(
                rules::RECURSIVE_DELETE,
                "`rm --no-preserve-root` disables the protection of `/`",
            );
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
    pub(super) fn recursive_delete(&self, a: &Arg) -> Verdict {
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
                format!(
                    "`rm -r {}` deletes a path only known at run time recursively",
                    a.text
                ),
            );
        }
        if !path.starts_with('/') {
            return Verdict::refuse(
                rules::RECURSIVE_DELETE,
                format!(
                    "`rm -r {}` deletes recursively relative to an unknown directory",
                    a.text
                ),
            );
        }
        let below_root = ["/tmp/", "/var/tmp/"]
            .iter()
            .find_map(|r| path.strip_prefix(r));
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
                format!(
                    "`rm -r {}` could delete everything in a temporary directory",
                    a.text
                ),
            );
        }
        Verdict::refuse(
            rules::RECURSIVE_DELETE,
            format!(
                "`rm -r {}` deletes recursively outside a temporary directory",
                a.text
            ),
        )
    }

    pub(super) fn shred(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "-n",
                "--iterations",
                "-s",
                "--size",
                "--random-source",
                "--remove",
            ],
        );
        let parts = o
            .operands
            .iter()
            .map(|a| {
                let a = self.resolve(a, env);
                if a.dynamic || rules::is_block_device(&normalize_path(&a.text)) {
                    Verdict::refuse(
                        rules::DISK_DESTROY,
                        format!("`{name} {}` overwrites a device or unknown path", a.text),
                    )
                } else {
                    self.remove_target(&a, &format!("`{name}` destroys"))
                }
            })
            .collect();
        combine(parts, diag(name))
    }

    pub(super) fn partitioner(&self, name: &str, rest: &[Arg]) -> Verdict {
        let list = rest.iter().any(|a| {
            a.lit().is_some_and(|t| {
                matches!(
                    t,
                    "-l" | "--list"
                        | "-d"
                        | "--dump"
                        | "-s"
                        | "--show-size"
                        | "-p"
                        | "--print"
                        | "-i"
                        | "--info"
                        | "-V"
                        | "--verify"
                        | "--version"
                        | "-v"
                        | "print"
                        | "-J"
                        | "--json"
                        | "-g"
                        | "--show-geometry"
                        | "--show"
                        | "-o"
                )
            })
        });
        let write = rest.iter().any(|a| {
            a.lit().is_some_and(|t| {
                matches!(
                    t,
                    "mklabel"
                        | "mkpart"
                        | "rm"
                        | "resizepart"
                        | "rescue"
                        | "set"
                        | "toggle"
                        | "-Z"
                        | "--zap-all"
                        | "-z"
                        | "--zap"
                        | "-o"
                        | "--clear"
                        | "-n"
                        | "--new"
                        | "-d"
                        | "--delete"
                        | "-w"
                        | "--wipe"
                ) || (name == "sgdisk" && matches!(t, "-d" | "-n" | "-o" | "-Z" | "-z"))
            })
        });
        let write = write && !(name == "sfdisk" && rest.iter().any(|a| a.is("-d")));
        if list && !write {
            diag(name)
        } else {
            Verdict::refuse(
                rules::DISK_DESTROY,
                format!("`{name}` changes the partition table"),
            )
        }
    }

    pub(super) fn dd(&self, rest: &[Arg], env: &Env) -> Verdict {
        let mut parts = Vec::new();
        for a in rest {
            if a.dynamic {
                parts.push(Verdict::refuse(
                    rules::DISK_DESTROY,
                    format!("`dd {}` with operands only known at run time", a.text),
                ));
                continue;
            }
            if let Some(out) = a.text.strip_prefix("of=") {
                let target = self.resolve(&Arg::literal(out), env);
                if rules::is_block_device(&normalize_path(&target.text)) {
                    parts.push(Verdict::refuse(
                        rules::DISK_DESTROY,
                        format!("`dd of={out}` overwrites a block device"),
                    ));
                } else {
                    parts.push(self.write_target(&target, "`dd` writes to"));
                }
            } else if let Some(input) = a.text.strip_prefix("if=") {
                let src = self.resolve(&Arg::literal(input), env);
                parts.extend(self.read_file(&src));
                if rules::is_block_device(&normalize_path(input)) {
                    parts.push(secret_approve(format!(
                        "`dd if={input}` reads a raw device"
                    )));
                }
            }
        }
        combine(parts, diag("dd"))
    }

    pub(super) fn hdparm(&self, rest: &[Arg]) -> Verdict {
        let destroy = rest.iter().any(|a| {
            a.lit().is_some_and(|t| {
                t.starts_with("--security-")
                    || t.starts_with("--trim-sector")
                    || t.starts_with("--write-sector")
                    || t.starts_with("--make-bad-sector")
                    || t.starts_with("--fwdownload")
                    || t.starts_with("--dco-")
                    || t == "--yes-i-know-what-i-am-doing"
            })
        });
        if destroy {
            return Verdict::refuse(
                rules::DISK_DESTROY,
                "`hdparm` erases, overwrites or reflashes the drive",
            );
        }
        let read = rest.iter().filter(|a| a.text.starts_with('-')).all(|a| {
            a.lit().is_some_and(|t| {
                matches!(
                    t,
                    "-I" | "-i" | "-t" | "-T" | "-tT" | "-Tt" | "-C" | "-g" | "-v" | "-V" | "-H"
                )
            })
        });
        if read {
            diag("hdparm")
        } else {
            Verdict::approve(rules::DISK_DESTROY, "`hdparm` changes drive settings")
        }
    }

    pub(super) fn cryptsetup(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "-d",
                "--key-file",
                "-c",
                "--cipher",
                "-s",
                "--key-size",
                "-h",
                "--hash",
                "-S",
                "--key-slot",
                "--type",
                "--header",
            ],
        );
        if o.has(&["--dump-master-key", "--dump-volume-key"]) {
            return secret_refuse("`cryptsetup --dump-master-key` prints the volume key");
        }
        match o.verb() {
            Some(
                "status" | "luksDump" | "isLuks" | "luksUUID" | "tcryptDump" | "bitlkDump"
                | "benchmark",
            ) => diag("cryptsetup"),
            Some(
                "open" | "close" | "luksOpen" | "luksClose" | "resize" | "refresh" | "luksAddKey"
                | "luksChangeKey",
            ) => Verdict::approve(
                rules::DISK_DESTROY,
                "`cryptsetup` opens, closes or re-keys an encrypted volume",
            ),
            _ => Verdict::refuse(
                rules::DISK_DESTROY,
                "`cryptsetup` formats, erases or removes keys from an encrypted volume",
            ),
        }
    }

    pub(super) fn fs_tool(&self, name: &str, rest: &[Arg]) -> Verdict {
        let read = match name {
            "tune2fs" => {
                rest.iter().all(|a| a.text.starts_with('/') || a.is("-l"))
                    && rest.iter().any(|a| a.is("-l"))
            }
            "e2fsck" | "fsck" | "xfs_repair" => rest.iter().any(|a| a.is("-n") || a.is("-N")),
            _ => false,
        };
        if read {
            diag(name)
        } else {
            Verdict::approve(
                rules::DISK_DESTROY,
                format!("`{name}` changes volumes or filesystems"),
            )
        }
    }

    pub(super) fn mdadm(&self, rest: &[Arg]) -> Verdict {
        let has = |names: &[&str]| {
            rest.iter()
                .any(|a| a.lit().is_some_and(|t| names.contains(&t)))
        };
        if has(&["--zero-superblock", "--create", "-C", "--build", "-B"]) {
            Verdict::refuse(
                rules::DISK_DESTROY,
                "`mdadm` creates arrays or erases superblocks",
            )
        } else if has(&[
            "--detail",
            "-D",
            "--examine",
            "-E",
            "--query",
            "-Q",
            "--detail-platform",
            "--version",
            "-V",
        ]) || rest.is_empty()
        {
            diag("mdadm")
        } else {
            Verdict::approve(rules::DISK_DESTROY, "`mdadm` changes a RAID array")
        }
    }

    pub(super) fn zfs(&self, name: &str, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, &["-o", "-O", "-t", "-s", "-S", "-d", "-R", "-T"]);
        let Some(verb) = o.verb() else {
            return diag(name);
        };
        match verb {
            "status" | "list" | "get" | "iostat" | "history" | "events" | "version" | "diff"
            | "holds" | "userspace" | "groupspace" | "projectspace" | "wait" => {
                diag_verb(name, verb)
            }
            "scrub" | "trim" => {
                if verb == "scrub" && o.has(&["-s"]) {
                    Verdict::approve(rules::MAINTENANCE, "`zpool scrub -s` cancels a scrub")
                } else {
                    Verdict::remediation(
                        rules::MAINTENANCE,
                        format!("`{name} {verb}` checks or trims the pool"),
                    )
                }
            }
            "destroy" | "rollback" => Verdict::refuse(
                rules::DATA_DESTROY,
                format!("`{name} {verb}` destroys datasets, snapshots or newer data"),
            ),
            "labelclear" | "create" | "split" | "initialize" | "reguid" => Verdict::refuse(
                rules::DISK_DESTROY,
                format!("`{name} {verb}` overwrites or reshapes disks"),
            ),
            _ => Verdict::approve(
                rules::MAINTENANCE,
                format!("`{name} {verb}` changes the pool or datasets"),
            ),
        }
    }

    pub(super) fn btrfs(&self, rest: &[Arg]) -> Verdict {
        let ops: Vec<&str> = rest
            .iter()
            .filter(|a| !a.text.starts_with('-'))
            .map(|a| a.lit().unwrap_or("*"))
            .collect();
        let is = |w: &str, full: &str| w.len() >= 2 && full.starts_with(w) || w == full;
        let group = ops.first().copied().unwrap_or("");
        let cmd = ops.get(1).copied().unwrap_or("");
        let cmd2 = ops.get(2).copied().unwrap_or("");
        let read = (is(group, "filesystem")
            && (is(cmd, "df")
                || is(cmd, "show")
                || is(cmd, "usage")
                || is(cmd, "label") && ops.len() <= 3))
            || (is(group, "device")
                && (is(cmd, "stats") && !rest.iter().any(|a| a.is("-z") || a.is("--reset"))
                    || is(cmd, "usage")))
            || ((is(group, "scrub") || is(group, "balance") || is(group, "replace"))
                && is(cmd, "status"))
            || (is(group, "subvolume")
                && (is(cmd, "list") || is(cmd, "show") || is(cmd, "get-default")))
            || (is(group, "qgroup") && is(cmd, "show"))
            || (is(group, "inspect-internal"))
            || group == "version"
            || group.is_empty();
        if read {
            return diag("btrfs");
        }
        if (is(group, "subvolume") && is(cmd, "delete"))
            || (is(group, "device") && is(cmd, "remove") && cmd2.is_empty())
        {
            return Verdict::refuse(
                rules::DATA_DESTROY,
                "`btrfs subvolume delete` destroys a subvolume and its data",
            );
        }
        if is(group, "check") && rest.iter().any(|a| a.is("--repair")) {
            return Verdict::refuse(
                rules::DISK_DESTROY,
                "`btrfs check --repair` can make damage worse",
            );
        }
        Verdict::approve(
            rules::MAINTENANCE,
            format!("`btrfs {}` changes the filesystem", render(rest)),
        )
    }

    pub(super) fn truncate(&self, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &["-s", "--size", "-r", "--reference"]);
        let zero = o
            .value(&["-s", "--size"])
            .and_then(Arg::lit)
            .is_some_and(|s| {
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
                        return self
                            .self_protect(&name, &format!("`truncate {path}` empties a log of"));
                    }
                    Verdict::remediation(
                        rules::LOG_MAINTENANCE,
                        format!("`truncate -s 0 {path}` empties a log file"),
                    )
                } else {
                    self.write_target(&a, "`truncate` changes")
                }
            })
            .collect();
        combine(parts, diag("truncate"))
    }

    /// Destination paths of `cp`/`mv`/`install`: `(sources, targets)`.
    pub(super) fn copy_targets(&self, o: &Opts, env: &Env) -> (Vec<Arg>, Vec<Arg>) {
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
                || matches!(
                    dest_norm.as_str(),
                    "/" | "/tmp"
                        | "/var/tmp"
                        | "/etc"
                        | "/root"
                        | "/home"
                        | "/usr/local/bin"
                        | "/usr/bin"
                        | "/bin"
                        | "/sbin"
                        | "/usr/sbin"
                        | "/var/log"
                        | "/opt"
                        | "/srv"
                ));
        let targets = if into_dir {
            sources.iter().map(|s| join_into(dest, s)).collect()
        } else {
            vec![dest.clone()]
        };
        (sources.to_vec(), targets)
    }

    pub(super) fn copy(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "-t",
                "--target-directory",
                "-S",
                "--suffix",
                "-m",
                "--mode",
                "-o",
                "--owner",
                "-g",
                "--group",
            ],
        );
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
                parts.push(secret_approve(format!(
                    "`{name} -r {}` copies a tree that may hold secrets",
                    s.text
                )));
            }
        }
        for t in &targets {
            parts.push(self.write_target(t, &format!("`{name}` writes to")));
        }
        if targets.is_empty() {
            parts.push(Verdict::approve(
                rules::FILE_WRITE,
                format!("`{name} {}`", render(rest)),
            ));
        }
        combine(parts, diag(name))
    }

    pub(super) fn mv(&self, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &["-t", "--target-directory", "-S", "--suffix"]);
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
                parts.push(Verdict::refuse(
                    rules::SYSTEM_WRITE,
                    format!("`mv` onto `{path}` replaces the device with a regular file"),
                ));
            } else {
                parts.push(self.write_target(t, "`mv` writes to"));
            }
        }
        if targets.is_empty() {
            parts.push(Verdict::approve(
                rules::FILE_WRITE,
                format!("`mv {}`", render(rest)),
            ));
        }
        combine(parts, diag("mv"))
    }

    pub(super) fn ln(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &["-t", "--target-directory", "-S", "--suffix"]);
        let ops: Vec<Arg> = o.operands.iter().map(|a| self.resolve(a, env)).collect();
        let links: Vec<Arg> = if let Some(dir) = o.value(&["-t", "--target-directory"]) {
            ops.iter()
                .map(|s| join_into(&self.resolve(dir, env), s))
                .collect()
        } else if ops.len() == 1 {
            vec![Arg {
                text: rules::basename(&ops[0].text).to_string(),
                ..ops[0].clone()
            }]
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
                parts.push(Verdict::refuse(
                    rules::SYSTEM_WRITE,
                    format!("`{name}` replaces `{path}`"),
                ));
            } else {
                parts.push(self.write_target(l, &format!("`{name}` creates a link at")));
            }
        }
        combine(parts, diag(name))
    }

    pub(super) fn permissions(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "--reference",
                "-m",
                "--modify",
                "-x",
                "--remove",
                "-M",
                "--modify-file",
                "-X",
                "--remove-file",
                "--set",
                "--set-file",
                "-n",
                "--name",
                "-v",
                "--value",
                "-u",
                "--user",
                "-r",
                "--role",
                "-t",
                "--type",
                "-l",
                "--range",
                "--from",
            ],
        );
        let recursive = o.has(&["-R", "--recursive"])
            || (name == "chattr" && o.has(&["-R"]))
            || (name == "restorecon" && o.has(&["-r", "-R"]));
        if recursive {
            return Verdict::refuse(
                rules::PERMISSION_CHANGE,
                format!("`{name} -R` changes permissions of a whole tree"),
            );
        }
        let mut ops: Vec<Arg> = o.operands.clone();
        let mut parts = Vec::new();
        // The mode, owner or attribute spec comes first (unless --reference or setfacl).
        let spec = match name {
            "chmod" | "chown" | "chgrp" | "chcon" if o.value(&["--reference"]).is_none() => {
                if ops.is_empty() {
                    None
                } else {
                    Some(ops.remove(0))
                }
            }
            "chattr" => {
                let i = ops.iter().position(|a| a.text.starts_with(['+', '=']));
                i.map(|i| ops.remove(i))
            }
            _ => None,
        };
        if name == "chmod" {
            // `chmod -x file`: a mode that looks like an option.
            let mode = spec.clone().or_else(|| {
                rest.iter()
                    .find(|a| {
                        a.lit().is_some_and(|t| {
                            t.len() > 1
                                && t.starts_with('-')
                                && t[1..].chars().all(|c| "rwxXst".contains(c))
                        })
                    })
                    .cloned()
            });
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
                    && (t.contains('s')
                        || (t.contains("+w")
                            || t.contains("=w")
                            || t.contains("=rw")
                            || t.contains("+rw"))
                            && (t.starts_with('o')
                                || t.starts_with('a')
                                || t.starts_with('+')
                                || t.starts_with('='))
                        || t.contains("o+") && t.contains('w'));
                if m.dynamic || numeric_bad || symbolic_bad {
                    return Verdict::refuse(
                        rules::PERMISSION_CHANGE,
                        format!("`chmod {t}` makes files world-writable or set-id"),
                    );
                }
            }
        }
        if name == "chattr"
            && spec
                .as_ref()
                .is_some_and(|s| s.text.contains('i') || s.text.contains('a'))
        {
            parts.push(Verdict::approve(
                rules::PERMISSION_CHANGE,
                "`chattr +i/+a` makes files immutable or append-only",
            ));
        }
        if ops.is_empty() {
            parts.push(Verdict::approve(
                rules::PERMISSION_CHANGE,
                format!("`{name} {}`", render(rest)),
            ));
        }
        for f in &ops {
            let f = self.resolve(f, env);
            let path = normalize_path(&f.text);
            if let Some((_, what)) = rules::protected_write(&path) {
                parts.push(Verdict::refuse(
                    rules::PERMISSION_CHANGE,
                    format!("`{name}` on `{path}`: {what}"),
                ));
            } else if let Some(n) = self.protected_path(&path) {
                parts.push(
                    self.self_protect(&n, &format!("`{name} {path}` changes permissions of")),
                );
            } else if f.dynamic || f.glob && !f.text.starts_with("/tmp/") {
                parts.push(Verdict::approve(
                    rules::PERMISSION_CHANGE,
                    format!("`{name}` on `{}`, paths only known at run time", f.text),
                ));
            } else {
                parts.push(Verdict::approve(
                    rules::PERMISSION_CHANGE,
                    format!("`{name}` on `{path}`"),
                ));
            }
        }
        combine(parts, diag(name))
    }
}

/// `dir/basename(src)`.
pub(super) fn join_into(dir: &Arg, src: &Arg) -> Arg {
    let base = rules::basename(&src.text);
    Arg {
        text: format!("{}/{}", dir.text.trim_end_matches('/'), base),
        dynamic: dir.dynamic || src.dynamic,
        glob: dir.glob || src.glob,
        mentions: dir.mentions.iter().chain(&src.mentions).cloned().collect(),
    }
}

// ---------------------------------------------------------------------------
// Archives

impl<'a> Cx<'a> {
    pub(super) fn tar(&self, rest: &[Arg], env: &Env) -> Verdict {
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
            let old_style =
                first && !t.starts_with('-') && t.chars().all(|c| c.is_ascii_alphabetic());
            first = false;
            if let Some(long) = t.strip_prefix("--") {
                let (n, v) = long
                    .split_once('=')
                    .map_or((long, None), |(n, v)| (n, Some(v)));
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
                    "to-command"
                    | "use-compress-program"
                    | "checkpoint-action"
                    | "info-script"
                    | "new-volume-script"
                    | "rsh-command"
                    | "rmt-command" => {
                        parts.push(Verdict::approve(
                            rules::INTERPRETER_CODE,
                            format!("`tar --{n}` runs a program"),
                        ));
                        if v.is_none() {
                            i += 1;
                        }
                    }
                    "remove-files" => parts.push(Verdict::approve(
                        rules::FILE_DELETE,
                        "`tar --remove-files` deletes the sources",
                    )),
                    "exclude" | "files-from" | "transform" | "xform" | "owner" | "group"
                    | "mode" | "mtime" | "newer" | "after-date" | "newer-mtime"
                    | "exclude-from" | "label" | "format" | "blocking-factor" | "record-size"
                    | "strip-components" | "suffix" | "tape-length" | "volno-file"
                    | "index-file" | "warning" | "quoting-style" | "occurrence" | "sort"
                    | "exclude-tag" | "exclude-tag-all" | "exclude-tag-under" => {
                        i += usize::from(v.is_none());
                    }
                    _ => {}
                }
                continue;
            }
            let letters = if old_style {
                Some(t)
            } else {
                t.strip_prefix('-').filter(|l| !l.is_empty())
            };
            let Some(letters) = letters else {
                operands.push(a.clone());
                continue;
            };
            for c in letters.chars() {
                match c {
                    'c' | 'x' | 't' | 'r' | 'u' | 'd' | 'A' => {
                        mode = Some(if c == 'u' || c == 'A' { 'r' } else { c })
                    }
                    'f' => {
                        archive = rest.get(i).cloned();
                        i += 1;
                    }
                    'C' => {
                        dir = rest.get(i).cloned();
                        i += 1;
                    }
                    'I' | 'F' => {
                        parts.push(Verdict::approve(
                            rules::INTERPRETER_CODE,
                            "`tar -I`/`-F` runs a program",
                        ));
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
                    Some(a) if !a.is("-") => {
                        parts.push(self.write_target(a, "`tar` writes the archive to"))
                    }
                    _ => {}
                }
                let base = dir.as_ref().map(|d| self.resolve(d, env));
                for s in &operands {
                    let s = match &base {
                        Some(b) if !s.text.starts_with('/') => join_into(
                            b,
                            &Arg {
                                text: s.text.clone(),
                                ..s.clone()
                            },
                        ),
                        _ => self.resolve(s, env),
                    };
                    parts.extend(self.read_file(&s));
                    if s.dynamic || rules::dir_contains_secrets(&s.text) {
                        parts.push(secret_approve(format!(
                            "`tar` archives `{}`, which may hold secrets",
                            s.text
                        )));
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
                        if path == "/"
                            || rules::protected_write(&path).is_some()
                                && !rules::is_temp_path(&path)
                        {
                            parts.push(Verdict::refuse(
                                rules::SYSTEM_WRITE,
                                format!("`tar -x` extracts into `{path}`"),
                            ));
                        } else {
                            parts.push(self.write_target(
                                &join_into(&t, &Arg::literal("extracted")),
                                "`tar -x` extracts into",
                            ));
                        }
                    }
                    None => parts.push(Verdict::approve(
                        rules::FILE_WRITE,
                        "`tar -x` extracts into the working directory",
                    )),
                }
                combine(parts, diag("tar -x"))
            }
            Some('d') => {
                parts.push(Verdict::approve(
                    rules::FILE_WRITE,
                    "`tar --delete` rewrites an archive",
                ));
                combine(parts, diag("tar"))
            }
            _ => {
                if rest.iter().any(|a| a.is("--version") || a.is("--help")) {
                    diag("tar")
                } else {
                    combine(
                        parts,
                        Verdict::approve(rules::FILE_WRITE, format!("`tar {}`", render(rest))),
                    )
                }
            }
        }
    }

    pub(super) fn zip(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(rest, &["-d", "-x", "-i", "-P", "--password"]);
        let listing = match name {
            "unzip" => o.has(&["-l", "-t", "-v", "-Z", "-z", "-p", "-c"]),
            "7z" | "7za" | "7zr" => matches!(o.verb(), Some("l" | "t" | "i" | "h")),
            "unrar" | "rar" => matches!(o.verb(), Some("l" | "lt" | "lb" | "v" | "t" | "p")),
            _ => o.has(&["-T", "--test", "-sf"]),
        };
        let archive = o.operands.first().map(|a| self.resolve(a, env));
        if listing {
            return combine(
                archive.iter().filter_map(|a| self.read_file(a)).collect(),
                diag(name),
            );
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
                        parts.push(secret_approve(format!(
                            "`zip -r` archives `{}`, which may hold secrets",
                            s.text
                        )));
                    }
                }
                if o.has(&["-m", "--move"]) {
                    parts.push(Verdict::approve(
                        rules::FILE_DELETE,
                        "`zip -m` deletes the sources",
                    ));
                }
            }
            "unzip" => match o.value(&["-d"]) {
                Some(d) => parts.push(self.write_target(
                    &join_into(&self.resolve(d, env), &Arg::literal("extracted")),
                    "`unzip -d` extracts into",
                )),
                None => parts.push(match &env.cwd {
                    Some(c) => self.write_target(
                        &Arg::literal(&format!("{c}/extracted")),
                        "`unzip` extracts into",
                    ),
                    None => Verdict::approve(
                        rules::FILE_WRITE,
                        "`unzip` extracts into the working directory",
                    ),
                }),
            },
            _ => parts.push(Verdict::approve(
                rules::FILE_WRITE,
                format!("`{name}` writes or extracts archives"),
            )),
        }
        combine(parts, diag(name))
    }

    pub(super) fn compress(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "-S",
                "--suffix",
                "-o",
                "--output",
                "-T",
                "--threads",
                "-b",
                "-p",
                "--processes",
                "-M",
                "--memlimit",
                "-F",
                "--format",
                "-C",
                "--check",
                "--patch-from",
            ],
        );
        if o.has(&[
            "-c",
            "--stdout",
            "--to-stdout",
            "-l",
            "--list",
            "-t",
            "--test",
            "-V",
            "--version",
            "-h",
            "--help",
        ]) {
            let files: Vec<Arg> = o.operands.iter().map(|a| self.resolve(a, env)).collect();
            return combine(self.read_files(files.iter()), diag(name));
        }
        if o.has(&["-r", "--recursive"]) {
            return Verdict::approve(
                rules::FILE_WRITE,
                format!("`{name} -r` replaces every file in a tree"),
            );
        }
        let mut parts = Vec::new();
        if let Some(out) = o.value(&["-o", "--output"]) {
            parts.push(self.write_target(&self.resolve(out, env), &format!("`{name}` writes to")));
        }
        let keep = o.has(&["-k", "--keep"]) || matches!(name, "zstd" | "unzstd" | "lz4" | "unlz4");
        for f in &o.operands {
            let f = self.resolve(f, env);
            let path = normalize_path(&f.text);
            if !f.dynamic && !f.glob && (rules::is_rotated_log(&path) || rules::is_temp_path(&path))
            {
                parts.push(Verdict::remediation(
                    rules::LOG_MAINTENANCE,
                    format!("`{name} {path}` compresses a rotated log or temporary file"),
                ));
            } else if keep {
                parts.push(self.write_target(
                    &Arg {
                        text: format!("{path}.out"),
                        ..f.clone()
                    },
                    &format!("`{name}` writes next to"),
                ));
            } else {
                parts.push(self.remove_target(&f, &format!("`{name}` replaces")));
            }
        }
        combine(parts, diag(name))
    }
}
