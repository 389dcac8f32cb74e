//! The table of leaf programs and the simple readers it dispatches to.

use super::*;

/// Programs that only print information about the system, whatever their arguments.
pub(super) const READ_ONLY: &[&str] = &[
    "true",
    "false",
    ":",
    "test",
    "[",
    "[[",
    "sleep",
    "seq",
    "expr",
    "yes",
    "pwd",
    "wait",
    "exit",
    "return",
    "shift",
    "unset",
    "read",
    "mapfile",
    "readarray",
    "let",
    "getopts",
    "jobs",
    "fg",
    "bg",
    "disown",
    "times",
    "caller",
    "umask",
    "ulimit",
    "shopt",
    "type",
    "which",
    "whereis",
    "help",
    "compgen",
    "complete",
    "basename",
    "dirname",
    "realpath",
    "readlink",
    "tty",
    "arch",
    "nproc",
    "clear",
    "tput",
    "unalias",
    "dirs",
    "logger",
    "sync",
    "ls",
    "ll",
    "dir",
    "stat",
    "file",
    "df",
    "du",
    "free",
    "uptime",
    "ps",
    "pstree",
    "pgrep",
    "pidof",
    "uname",
    "id",
    "whoami",
    "groups",
    "users",
    "w",
    "who",
    "last",
    "lastb",
    "lastlog",
    "cal",
    "vmstat",
    "iostat",
    "mpstat",
    "pidstat",
    "sar",
    "dstat",
    "numastat",
    "lsblk",
    "blkid",
    "findmnt",
    "lscpu",
    "lsusb",
    "lspci",
    "lsmem",
    "lshw",
    "lsmod",
    "modinfo",
    "lsattr",
    "lsns",
    "lsipc",
    "lslocks",
    "sensors",
    "ss",
    "netstat",
    "lsof",
    "traceroute",
    "traceroute6",
    "tracepath",
    "dig",
    "nslookup",
    "host",
    "drill",
    "whois",
    "getconf",
    "locale",
    "systemd-cgtop",
    "systemd-analyze",
    "systemd-detect-virt",
    "systemd-cgls",
    "pvs",
    "vgs",
    "lvs",
    "pvdisplay",
    "vgdisplay",
    "lvdisplay",
    "lvscan",
    "vgscan",
    "pvscan",
    "nvme",
    "iw",
    "iwconfig",
    "atq",
    "mountpoint",
    "namei",
    "pwdx",
    "hostid",
    "pg_isready",
    "showmount",
    "nfsstat",
    "rpcinfo",
    "tree",
    "sum",
    "ldd",
    "objdump",
    "nm",
    "readelf",
];

/// Programs that print the contents of their file operands.
pub(super) const CONTENT_READERS: &[&str] = &[
    "cat",
    "head",
    "tail",
    "less",
    "more",
    "most",
    "tac",
    "nl",
    "od",
    "hexdump",
    "hd",
    "strings",
    "wc",
    "uniq",
    "cut",
    "column",
    "diff",
    "diff3",
    "sdiff",
    "cmp",
    "comm",
    "md5sum",
    "sha1sum",
    "sha224sum",
    "sha256sum",
    "sha384sum",
    "sha512sum",
    "b2sum",
    "cksum",
    "zcat",
    "bzcat",
    "xzcat",
    "zstdcat",
    "lz4cat",
    "zless",
    "zmore",
    "zdiff",
    "base64",
    "base32",
    "basenc",
    "fold",
    "fmt",
    "paste",
    "join",
    "expand",
    "unexpand",
    "rev",
    "look",
    "iconv",
    "xmllint",
    "view",
    "bat",
    "batcat",
    "ccat",
    "pr",
    "tsort",
    "shuf",
    "numfmt",
];

impl<'a> Cx<'a> {
    /// The per-program table.
    pub(in crate::safety) fn leaf(
        &self,
        name: &str,
        rest: &[Arg],
        env: &mut Env,
        stdin: &Stdin,
    ) -> Verdict {
        let Some(v) = self.leaf_known(name, rest, env, stdin) else {
            return self.unclassified(format!("`{name}` is not a program the safety rules know"));
        };
        v
    }

    pub(super) fn leaf_known(
        &self,
        name: &str,
        rest: &[Arg],
        env: &mut Env,
        stdin: &Stdin,
    ) -> Option<Verdict> {
        if name.starts_with("mkfs") {
            return Some(Verdict::refuse(
                rules::DISK_DESTROY,
                format!("`{name}` formats a filesystem, destroying what is on the device"),
            ));
        }
        if let Some((_, code_flags)) = INTERPRETERS.iter().find(|(n, _)| {
            *n == name
                || (name.starts_with(n)
                    && name[n.len()..]
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == '.'))
        }) {
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
                let o = Opts::parse(
                    rest,
                    &[
                        "-o",
                        "--output",
                        "-k",
                        "--key",
                        "-t",
                        "--field-separator",
                        "-S",
                        "--buffer-size",
                        "-T",
                        "--temporary-directory",
                        "--parallel",
                        "--files0-from",
                        "--batch-size",
                        "--compress-program",
                    ],
                );
                let mut parts = self.read_files(o.operands.iter());
                if let Some(out) = o.value(&["-o", "--output"]) {
                    parts.push(self.write_target(&self.resolve(out, env), "`sort -o` writes to"));
                }
                if o.value(&["--compress-program"]).is_some() {
                    parts.push(Verdict::approve(
                        rules::INTERPRETER_CODE,
                        "`sort --compress-program` runs a program",
                    ));
                }
                combine(parts, diag(name))
            }
            "tr" => diag(name),
            "xxd" => {
                let o = Opts::parse(
                    rest,
                    &[
                        "-c", "-g", "-l", "-o", "-s", "-n", "-C", "-cols", "-len", "-seek",
                    ],
                );
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
            "top" | "atop" | "btop" | "glances" | "iotop" | "iftop" | "nethogs" | "bmon"
            | "nload" => {
                let batch = rest.iter().any(|a| {
                    a.lit().is_some_and(|t| {
                        t == "-b"
                            || t == "--batch"
                            || (t.starts_with('-') && !t.starts_with("--") && t.contains('b'))
                    })
                });
                if batch && matches!(name, "top" | "iotop") {
                    diag(name)
                } else {
                    streams(name)
                }
            }
            "htop" | "nmon" | "vim" | "vi" | "nano" | "emacs" | "mc" | "byobu" => {
                if rest.iter().any(|a| a.is("--version") || a.is("-V")) {
                    diag(name)
                } else if matches!(name, "vim" | "vi" | "nano" | "emacs") {
                    let mut parts: Vec<Verdict> = rest
                        .iter()
                        .filter(|a| !a.text.starts_with(['-', '+']))
                        .map(|a| {
                            self.write_target(&self.resolve(a, env), &format!("`{name}` edits"))
                        })
                        .collect();
                    parts.push(Verdict::approve(
                        rules::FILE_WRITE,
                        format!("`{name}` is an interactive editor"),
                    ));
                    combine(parts, diag(name))
                } else {
                    streams(name)
                }
            }
            "hostname" => self.hostname(rest),
            "hostnamectl" => match Opts::parse(rest, &["-H", "--host", "-M", "--machine"]).verb() {
                None | Some("status") => diag(name),
                Some(v) if v.starts_with("set-") || v == "hostname" && rest.len() > 1 => {
                    Verdict::refuse(
                        rules::NETWORK_CHANGE,
                        format!("`hostnamectl {v}` changes the host's name"),
                    )
                }
                Some(v)
                    if matches!(
                        v,
                        "hostname" | "icon-name" | "chassis" | "deployment" | "location"
                    ) =>
                {
                    diag_verb(name, v)
                }
                Some(v) => Verdict::approve(rules::NETWORK_CHANGE, format!("`hostnamectl {v}`")),
            },
            "date" => {
                let o = Opts::parse(
                    rest,
                    &[
                        "-d",
                        "--date",
                        "-f",
                        "--file",
                        "-r",
                        "--reference",
                        "-I",
                        "--iso-8601",
                        "--rfc-3339",
                    ],
                );
                if o.has(&["-s", "--set"])
                    || o.operands
                        .iter()
                        .any(|a| a.lit().is_some_and(|t| !t.starts_with('+')))
                {
                    Verdict::approve(rules::SYSTEM_WRITE, "`date -s` sets the system clock")
                } else {
                    diag(name)
                }
            }
            "timedatectl" => match Opts::parse(
                rest,
                &["-H", "--host", "-M", "--machine", "-p", "--property"],
            )
            .verb()
            {
                None
                | Some(
                    "status" | "show" | "list-timezones" | "timesync-status" | "show-timesync",
                ) => diag(name),
                Some(v) => Verdict::approve(
                    rules::SYSTEM_WRITE,
                    format!("`timedatectl {v}` changes time settings"),
                ),
            },
            "hwclock" => {
                if rest
                    .iter()
                    .any(|a| a.is("-r") || a.is("--show") || a.is("--get"))
                    || rest.is_empty()
                {
                    diag(name)
                } else {
                    Verdict::approve(rules::SYSTEM_WRITE, "`hwclock` sets the hardware clock")
                }
            }
            "printenv" => {
                let names = lits(rest);
                if rest.iter().all(|a| a.text.starts_with('-')) {
                    secret_refuse(
                        "`printenv` without a name prints the whole environment, which holds credentials",
                    )
                } else if rest.iter().any(|a| a.dynamic) || names.iter().any(|n| secretish_name(n))
                {
                    secret_refuse(format!(
                        "`printenv {}` prints what looks like a credential",
                        render(rest)
                    ))
                } else {
                    diag(name)
                }
            }
            "set" => {
                if rest.is_empty() {
                    secret_refuse(
                        "`set` without arguments prints every shell variable, including credentials",
                    )
                } else {
                    diag(name)
                }
            }
            "export" | "declare" | "typeset" | "local" | "readonly" => self.declare(name, rest),
            "alias" => {
                if rest.iter().any(|a| a.text.contains('=')) {
                    Verdict::refuse(
                        rules::DYNAMIC_COMMAND,
                        "`alias` redefines what a command name runs",
                    )
                } else {
                    diag(name)
                }
            }
            "enable" => {
                if rest.iter().any(|a| a.is("-f")) {
                    Verdict::refuse(
                        rules::DYNAMIC_COMMAND,
                        "`enable -f` loads a builtin from a shared object",
                    )
                } else {
                    Verdict::approve(
                        rules::DYNAMIC_COMMAND,
                        "`enable` changes which builtins run",
                    )
                }
            }
            "hash" => {
                if rest.iter().any(|a| a.is("-p")) {
                    Verdict::refuse(
                        rules::ENV_HIJACK,
                        "`hash -p` changes what a command name runs",
                    )
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
            "history" => secret_refuse(
                "`history` reads shell history, which often holds passwords and tokens",
            ),
            "getent" => {
                let db = Opts::parse(rest, &["-s", "--service"])
                    .verb()
                    .map(str::to_string);
                match db.as_deref() {
                    Some("shadow" | "gshadow") => secret_refuse(format!(
                        "`getent {}` prints password hashes",
                        db.unwrap_or_default()
                    )),
                    _ => diag(name),
                }
            }
            "journalctl" => self.journalctl(rest),
            "systemctl" => self.systemctl(rest),
            "service" => self.service(rest),
            "docker" | "podman" | "nerdctl" => self.docker(name, rest, env),
            "docker-compose" | "podman-compose" => self.compose(name, rest, env),
            "kubectl" | "k3s" | "oc" | "microk8s.kubectl" => self.kubectl(name, rest, stdin),
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
                            combine(
                                vec![
                                    v,
                                    Verdict::approve(
                                        rules::FILE_DELETE,
                                        "`rmdir` removes a directory",
                                    ),
                                ],
                                diag("rmdir"),
                            )
                        }
                    })
                    .collect();
                combine(parts, diag(name))
            }
            "unlink" => combine(
                rest.iter()
                    .filter(|a| !a.text.starts_with('-'))
                    .map(|a| self.remove_target(&self.resolve(a, env), "`unlink` removes"))
                    .collect(),
                diag(name),
            ),
            "shred" | "srm" | "wipe" => self.shred(name, rest, env),
            "mke2fs" | "mkswap" | "mkdosfs" | "mkntfs" | "mkexfatfs" | "mformat" | "newfs"
            | "blkdiscard" | "zerofree" | "sgdisk_zap" | "cfdisk" => Verdict::refuse(
                rules::DISK_DESTROY,
                format!("`{name}` formats, wipes or repartitions a disk"),
            ),
            "wipefs" => {
                if rest.iter().any(|a| {
                    a.is("-a")
                        || a.is("--all")
                        || a.is("-o")
                        || a.text.starts_with("--offset")
                        || (a.text.starts_with('-')
                            && !a.text.starts_with("--")
                            && a.text.contains(['a', 'o']))
                }) {
                    Verdict::refuse(
                        rules::DISK_DESTROY,
                        "`wipefs -a` erases filesystem signatures",
                    )
                } else {
                    diag(name)
                }
            }
            "fdisk" | "sfdisk" | "gdisk" | "sgdisk" | "parted" | "partx" | "kpartx" | "cgdisk" => {
                self.partitioner(name, rest)
            }
            "dd" => self.dd(rest, env),
            "hdparm" => self.hdparm(rest),
            "badblocks" => {
                if rest.iter().any(|a| a.is("-w")) {
                    Verdict::refuse(
                        rules::DISK_DESTROY,
                        "`badblocks -w` overwrites the whole device",
                    )
                } else {
                    Verdict::approve(
                        rules::DISK_DESTROY,
                        "`badblocks` scans a device for a long time",
                    )
                }
            }
            "cryptsetup" => self.cryptsetup(rest),
            "lvremove" | "vgremove" | "pvremove" | "lvreduce" | "vgreduce" => Verdict::refuse(
                rules::DISK_DESTROY,
                format!("`{name}` removes or shrinks volumes, destroying their data"),
            ),
            "lvcreate" | "lvextend" | "lvresize" | "vgcreate" | "vgextend" | "pvcreate"
            | "vgchange" | "lvchange" | "pvmove" | "lvrename" | "vgrename" | "resize2fs"
            | "xfs_growfs" | "tune2fs" | "e2fsck" | "fsck" | "xfs_repair" | "e2label" => {
                self.fs_tool(name, rest)
            }
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
                    o.operands
                        .iter()
                        .map(|a| self.write_target(&self.resolve(a, env), "`tee` writes to"))
                        .collect(),
                    diag(name),
                )
            }
            "touch" | "mkdir" | "mkfifo" | "fallocate" => {
                let o = Opts::parse(
                    rest,
                    &[
                        "-r",
                        "--reference",
                        "-d",
                        "--date",
                        "-t",
                        "-m",
                        "--mode",
                        "-l",
                        "--length",
                        "-o",
                        "--offset",
                        "-Z",
                        "--context",
                    ],
                );
                let mut parts: Vec<Verdict> = o
                    .operands
                    .iter()
                    .map(|a| self.write_target(&self.resolve(a, env), &format!("`{name}` creates")))
                    .collect();
                if name == "fallocate"
                    && o.has(&[
                        "-d",
                        "-p",
                        "-c",
                        "-z",
                        "--dig-holes",
                        "--punch-hole",
                        "--collapse-range",
                        "--zero-range",
                        "--insert-range",
                        "-i",
                    ])
                {
                    parts.push(Verdict::approve(
                        rules::FILE_WRITE,
                        "`fallocate` changes the contents of a file",
                    ));
                }
                combine(parts, diag(name))
            }
            "mknod" => Verdict::approve(rules::SYSTEM_WRITE, "`mknod` creates a device node"),
            "split" | "csplit" => Verdict::approve(
                rules::FILE_WRITE,
                format!("`{name}` writes files into the working directory"),
            ),
            "chmod" | "chown" | "chgrp" | "setfacl" | "chattr" | "chcon" | "setfattr"
            | "restorecon" => self.permissions(name, rest, env),
            "getfacl" | "getfattr" | "getcap" => diag(name),
            "setcap" => Verdict::refuse(
                rules::PERMISSION_CHANGE,
                "`setcap` grants capabilities to a program",
            ),
            "useradd" | "userdel" | "usermod" | "groupadd" | "groupdel" | "groupmod"
            | "gpasswd" | "chpasswd" | "chsh" | "chfn" | "vipw" | "vigr" | "adduser"
            | "deluser" | "addgroup" | "delgroup" | "newusers" | "pwck" | "grpck" | "smbpasswd"
            | "htpasswd" | "pam_tally2" | "faillock" | "ssh-copy-id" => Verdict::refuse(
                rules::USER_ADMIN,
                format!("`{name}` changes accounts, groups, passwords or SSH access"),
            ),
            "passwd" => {
                if rest.iter().any(|a| a.is("-S") || a.is("--status")) {
                    diag(name)
                } else {
                    Verdict::refuse(
                        rules::USER_ADMIN,
                        "`passwd` changes passwords or account state",
                    )
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
            "reboot" | "halt" | "poweroff" | "kexec" | "rtcwake" | "pm-suspend"
            | "pm-hibernate" | "pm-suspend-hybrid" | "systemd-hibernate" | "zzz" => {
                Verdict::refuse(
                    rules::POWER_STATE,
                    format!("`{name}` reboots, halts or suspends the host"),
                )
            }
            "shutdown" => {
                if rest.iter().any(|a| a.is("-c") || a.is("--show")) {
                    Verdict::approve(
                        rules::POWER_STATE,
                        "`shutdown -c` cancels a pending shutdown",
                    )
                } else {
                    Verdict::refuse(
                        rules::POWER_STATE,
                        "`shutdown` powers off or reboots the host",
                    )
                }
            }
            "init" | "telinit" => match rest.first().and_then(Arg::lit) {
                Some("0" | "1" | "6" | "s" | "S" | "single" | "emergency") | None => {
                    Verdict::refuse(
                        rules::POWER_STATE,
                        format!("`{name} {}` changes the run level", render(rest)),
                    )
                }
                Some(_) if rest.first().is_some_and(|a| a.dynamic) => {
                    Verdict::refuse(rules::POWER_STATE, "run level only known at run time")
                }
                Some(_) => Verdict::approve(
                    rules::POWER_STATE,
                    format!("`{name} {}` changes the run level", render(rest)),
                ),
            },
            "iptables" | "ip6tables" | "iptables-legacy" | "ip6tables-legacy" | "iptables-nft"
            | "ip6tables-nft" | "ebtables" | "arptables" | "ebtables-nft" | "arptables-nft" => {
                self.iptables(name, rest)
            }
            "iptables-save"
            | "ip6tables-save"
            | "iptables-legacy-save"
            | "iptables-nft-save"
            | "ebtables-save" => diag(name),
            "iptables-restore"
            | "ip6tables-restore"
            | "iptables-legacy-restore"
            | "iptables-nft-restore"
            | "ebtables-restore"
            | "iptables-apply" => {
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
                Some(v) => {
                    Verdict::refuse(rules::FIREWALL, format!("`ufw {v}` changes the firewall"))
                }
            },
            "firewall-cmd" | "firewall-offline-cmd" => {
                let read = rest.iter().all(|a| {
                    a.lit().is_some_and(|t| {
                        [
                            "--list-",
                            "--get-",
                            "--query-",
                            "--info-",
                            "--zone=",
                            "--permanent",
                            "--state",
                            "--version",
                            "--help",
                            "-h",
                            "--check-config",
                            "--quiet",
                            "-q",
                        ]
                        .iter()
                        .any(|p| t.starts_with(p))
                    })
                });
                if read {
                    diag(name)
                } else {
                    Verdict::refuse(
                        rules::FIREWALL,
                        format!("`{name} {}` changes the firewall", render(rest)),
                    )
                }
            }
            "ip" => self.ip(rest),
            "ifconfig" => {
                let ops: Vec<&Arg> = rest
                    .iter()
                    .filter(|a| !a.is("-a") && !a.is("-s") && !a.is("-v"))
                    .collect();
                if ops.len() <= 1 && ops.iter().all(|a| !a.dynamic) {
                    diag(name)
                } else {
                    Verdict::refuse(
                        rules::NETWORK_CHANGE,
                        format!("`ifconfig {}` changes an interface", render(rest)),
                    )
                }
            }
            "ifup" | "ifdown" | "dhclient" | "dhcpcd" => {
                if rest.iter().any(|a| a.is("--version") || a.is("-V")) {
                    diag(name)
                } else {
                    Verdict::refuse(
                        rules::NETWORK_CHANGE,
                        format!("`{name}` takes interfaces up or down"),
                    )
                }
            }
            "ifquery" => diag(name),
            "route" | "arp" => {
                let changes = rest.iter().any(|a| {
                    a.is("add")
                        || a.is("del")
                        || a.is("delete")
                        || a.is("flush")
                        || a.is("-d")
                        || a.is("-s")
                        || a.is("-f")
                        || a.dynamic
                });
                if changes {
                    Verdict::refuse(
                        rules::NETWORK_CHANGE,
                        format!("`{name} {}` changes routes or neighbours", render(rest)),
                    )
                } else {
                    diag(name)
                }
            }
            "brctl" | "tc" | "bridge" => {
                let read =
                    rest.iter().filter_map(Arg::lit).any(|t| {
                        matches!(t, "show" | "list" | "ls" | "showmacs" | "showstp" | "-s")
                    }) && !rest.iter().any(|a| {
                        a.dynamic
                            || a.lit().is_some_and(|t| {
                                matches!(
                                    t,
                                    "add"
                                        | "del"
                                        | "delete"
                                        | "change"
                                        | "replace"
                                        | "link"
                                        | "addbr"
                                        | "delbr"
                                        | "addif"
                                        | "delif"
                                        | "set"
                                        | "flush"
                                )
                            })
                    });
                if read || rest.is_empty() {
                    diag(name)
                } else {
                    Verdict::refuse(
                        rules::NETWORK_CHANGE,
                        format!("`{name} {}` changes networking", render(rest)),
                    )
                }
            }
            "ethtool" => {
                let changes = rest.iter().any(|a| {
                    a.lit().is_some_and(|t| {
                        t.starts_with('-')
                            && !matches!(
                                t,
                                "-i" | "-S"
                                    | "-k"
                                    | "-g"
                                    | "-a"
                                    | "-c"
                                    | "-l"
                                    | "-m"
                                    | "-P"
                                    | "-T"
                                    | "-d"
                                    | "-e"
                                    | "--driver"
                                    | "--statistics"
                                    | "--show-features"
                                    | "--show-offload"
                                    | "--show-ring"
                                    | "--show-pause"
                                    | "--show-coalesce"
                                    | "--show-channels"
                                    | "--module-info"
                                    | "--show-permaddr"
                                    | "--show-time-stamping"
                                    | "--show-eee"
                                    | "--show-fec"
                                    | "--json"
                                    | "--version"
                                    | "-h"
                                    | "--help"
                            )
                    })
                });
                if changes {
                    Verdict::approve(
                        rules::NETWORK_CHANGE,
                        format!("`ethtool {}` changes interface settings", render(rest)),
                    )
                } else {
                    diag(name)
                }
            }
            "nmcli" => self.nmcli(rest),
            "networkctl" | "resolvectl" | "systemd-resolve" => match Opts::parse(
                rest,
                &[
                    "-i",
                    "--interface",
                    "-t",
                    "--type",
                    "-c",
                    "--class",
                    "-p",
                    "--protocol",
                ],
            )
            .verb()
            {
                None
                | Some(
                    "status" | "list" | "lldp" | "label" | "query" | "service" | "openpgp" | "tlsa"
                    | "statistics",
                ) => diag(name),
                Some(
                    "dns" | "domain" | "llmnr" | "mdns" | "dnssec" | "dnsovertls" | "nta"
                    | "default-route" | "log-level",
                ) if rest.iter().filter(|a| !a.text.starts_with('-')).count() <= 2 => diag(name),
                Some("flush-caches" | "reset-statistics" | "reset-server-features" | "renew") => {
                    Verdict::remediation(
                        rules::MAINTENANCE,
                        format!("`{name}` flushes caches or renews leases"),
                    )
                }
                Some("down" | "revert") => Verdict::refuse(
                    rules::NETWORK_CHANGE,
                    format!("`{name}` takes a link down or reverts its settings"),
                ),
                Some(v) => Verdict::approve(
                    rules::NETWORK_CHANGE,
                    format!("`{name} {v}` changes networking"),
                ),
            },
            "netplan" => match Opts::parse(rest, &[]).verb() {
                None | Some("get" | "info" | "status") => diag(name),
                Some(v) => Verdict::approve(
                    rules::NETWORK_CHANGE,
                    format!("`netplan {v}` changes network configuration"),
                ),
            },
            "tailscale" => match Opts::parse(rest, &["--socket"]).verb() {
                None
                | Some(
                    "status" | "ip" | "ping" | "netcheck" | "version" | "whois" | "bugreport"
                    | "metrics",
                ) => diag(name),
                Some("dns" | "exit-node")
                    if rest.iter().any(|a| a.is("status") || a.is("list")) =>
                {
                    diag(name)
                }
                Some("down" | "logout") => Verdict::refuse(
                    rules::NETWORK_CHANGE,
                    "`tailscale down` cuts the tailnet connection (and possibly Jarvis's path to the host)",
                ),
                Some(v) => Verdict::approve(
                    rules::NETWORK_CHANGE,
                    format!("`tailscale {v}` changes the tailnet connection"),
                ),
            },
            "wg" => self.wg(rest),
            "wg-quick" => match lits(rest).first() {
                Some(&"up") => Verdict::remediation(
                    rules::NETWORK_CHANGE,
                    "`wg-quick up` brings a WireGuard tunnel up",
                ),
                Some(&"down") => Verdict::approve(
                    rules::NETWORK_CHANGE,
                    "`wg-quick down` takes a WireGuard tunnel down",
                ),
                Some(&"strip") => secret_refuse(
                    "`wg-quick strip` prints the configuration including the private key",
                ),
                _ => Verdict::approve(
                    rules::NETWORK_CHANGE,
                    format!("`wg-quick {}`", render(rest)),
                ),
            },
            "ping" | "ping6" | "arping" | "fping" => {
                let o = Opts::parse(
                    rest,
                    &[
                        "-c", "-w", "-W", "-i", "-s", "-I", "-t", "-Q", "-p", "-M", "-l", "-m",
                        "-T", "-B", "-D",
                    ],
                );
                if o.has(&["-f"]) {
                    Verdict::approve(
                        rules::UNCLASSIFIED,
                        format!("`{name} -f` floods the network"),
                    )
                } else if o.value(&["-c", "-w"]).is_some() || name == "fping" {
                    diag(name)
                } else {
                    streams(&format!("{name} without -c"))
                }
            }
            "mtr" => {
                if rest.iter().any(|a| {
                    a.lit().is_some_and(|t| {
                        matches!(
                            t,
                            "-r" | "--report"
                                | "-w"
                                | "--report-wide"
                                | "-j"
                                | "--json"
                                | "-C"
                                | "--csv"
                                | "-x"
                                | "--xml"
                        ) || (t.starts_with('-') && !t.starts_with("--") && t.contains('r'))
                    })
                }) {
                    diag(name)
                } else {
                    streams("mtr without --report")
                }
            }
            "curl" => self.curl(rest, env),
            "wget" => self.wget(rest, env),
            "nc" | "ncat" | "netcat" => {
                if rest.iter().any(|a| {
                    a.lit().is_some_and(|t| {
                        t == "-z" || (t.starts_with('-') && !t.starts_with("--") && t.contains('z'))
                    })
                }) && !rest.iter().any(|a| a.is("-e") || a.is("-c") || a.is("-l"))
                {
                    diag("nc -z")
                } else {
                    Verdict::approve(
                        rules::REMOTE_EXEC,
                        format!(
                            "`{name}` opens raw network connections (listeners, shells, data transfer)"
                        ),
                    )
                }
            }
            "socat" | "telnet" | "ftp" | "sftp" | "lftp" | "tftp" | "rclone" | "smbclient"
            | "mosquitto_pub" => Verdict::approve(
                rules::REMOTE_EXEC,
                format!("`{name}` transfers data to or from another machine"),
            ),
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
                    Verdict::approve(
                        rules::USER_ADMIN,
                        "`ssh-add` loads private keys into the agent",
                    )
                }
            }
            "ssh-keyscan" => diag(name),
            "tar" | "bsdtar" => self.tar(rest, env),
            "zip" | "unzip" | "7z" | "7za" | "7zr" | "unrar" | "rar" => self.zip(name, rest, env),
            "gzip" | "gunzip" | "xz" | "unxz" | "zstd" | "unzstd" | "bzip2" | "bunzip2" | "lz4"
            | "unlz4" | "pigz" | "pbzip2" | "lzma" | "unlzma" | "compress" | "uncompress" => {
                self.compress(name, rest, env)
            }
            "kill" => self.kill(rest),
            "pkill" | "killall" | "skill" | "slay" => self.pkill(name, rest),
            "killall5" => Verdict::refuse(rules::PROCESS_KILL, "`killall5` signals every process"),
            "fuser" => {
                if rest.iter().any(|a| {
                    a.lit().is_some_and(|t| {
                        t == "-k"
                            || t == "--kill"
                            || (t.starts_with('-') && !t.starts_with("--") && t.contains('k'))
                    })
                }) {
                    Verdict::approve(
                        rules::PROCESS_KILL,
                        "`fuser -k` kills every process using the file",
                    )
                } else {
                    diag(name)
                }
            }
            "renice" => Verdict::approve(
                rules::PROCESS_KILL,
                "`renice` changes the priority of running processes",
            ),
            "insmod" => Verdict::approve(rules::KERNEL, "`insmod` loads a kernel module"),
            "rmmod" => Verdict::refuse(rules::KERNEL, "`rmmod` unloads a kernel module"),
            "modprobe" => {
                let o = Opts::parse(
                    rest,
                    &["-C", "--config", "-d", "--dirname", "-S", "--set-version"],
                );
                if o.has(&["-r", "--remove", "--remove-dependencies"]) {
                    Verdict::refuse(rules::KERNEL, "`modprobe -r` unloads kernel modules")
                } else if o.has(&[
                    "-n",
                    "--dry-run",
                    "-c",
                    "--showconfig",
                    "-D",
                    "--show-depends",
                    "--show-modversions",
                    "--dump-modversions",
                    "-V",
                    "--version",
                ]) || o.operands.is_empty()
                {
                    diag(name)
                } else {
                    Verdict::approve(rules::KERNEL, "`modprobe` loads kernel modules")
                }
            }
            "depmod" => {
                Verdict::approve(rules::KERNEL, "`depmod` rewrites module dependency files")
            }
            "sysctl" => self.sysctl(rest),
            "dmesg" => {
                let o = Opts::parse(
                    rest,
                    &[
                        "-f",
                        "--facility",
                        "-l",
                        "--level",
                        "-n",
                        "--console-level",
                        "-s",
                        "--buffer-size",
                        "-F",
                        "--file",
                        "--time-format",
                    ],
                );
                if o.has(&[
                    "-c",
                    "-C",
                    "--clear",
                    "--read-clear",
                    "-n",
                    "--console-level",
                    "-D",
                    "--console-off",
                    "-E",
                    "--console-on",
                ]) {
                    Verdict::approve(
                        rules::KERNEL,
                        "`dmesg` clears the kernel ring buffer or changes console logging",
                    )
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
                    Verdict::approve(
                        rules::CRONTAB,
                        format!("`{name}` schedules or removes a job"),
                    )
                }
            }
            "apt" | "apt-get" | "aptitude" => self.apt(name, rest),
            "apt-cache" | "apt-file" | "dpkg-query" | "rpmquery" | "repoquery" => diag(name),
            "apt-mark" => match Opts::parse(rest, &[]).verb() {
                Some(v) if v.starts_with("show") => diag(name),
                _ => Verdict::approve(rules::PACKAGE_CHANGE, "`apt-mark` changes package states"),
            },
            "dpkg" => self.dpkg(rest),
            "dpkg-reconfigure" | "update-alternatives" | "needrestart" => {
                if name == "update-alternatives"
                    && rest.iter().any(|a| {
                        a.is("--display")
                            || a.is("--query")
                            || a.is("--list")
                            || a.is("--get-selections")
                    })
                {
                    diag(name)
                } else {
                    Verdict::approve(
                        rules::PACKAGE_CHANGE,
                        format!("`{name}` changes package configuration"),
                    )
                }
            }
            "yum" | "dnf" | "microdnf" | "zypper" | "pacman" | "tdnf" => self.yum(name, rest),
            "rpm" => self.rpm(rest),
            "apk" => self.apk(rest),
            "snap" | "flatpak" => self.snap(name, rest),
            "pip" | "pip3" | "pipx" | "uv" => self.pip(name, rest),
            "npm" | "yarn" | "pnpm" => self.npm(name, rest),
            "mount" => {
                let o = Opts::parse(
                    rest,
                    &["-t", "-o", "-O", "-L", "-U", "--source", "--target"],
                );
                if o.operands.is_empty() && !o.has(&["-a", "--all"]) {
                    diag(name)
                } else {
                    Verdict::approve(
                        rules::SYSTEM_WRITE,
                        format!("`mount {}` changes what is mounted", render(rest)),
                    )
                }
            }
            "umount" => {
                let o = Opts::parse(rest, &["-t", "-O", "-N"]);
                if o.has(&["-a", "--all", "-A", "--all-targets"]) {
                    Verdict::refuse(rules::SYSTEM_WRITE, "`umount -a` unmounts every filesystem")
                } else if o
                    .operands
                    .iter()
                    .any(|a| a.lit().is_some_and(|t| normalize_path(t) == "/"))
                {
                    Verdict::refuse(
                        rules::SYSTEM_WRITE,
                        "`umount /` unmounts the root filesystem",
                    )
                } else {
                    Verdict::approve(
                        rules::SYSTEM_WRITE,
                        format!("`umount {}` unmounts filesystems", render(rest)),
                    )
                }
            }
            "swapon" | "swapoff" => {
                if rest
                    .iter()
                    .any(|a| a.is("--show") || a.is("-s") || a.is("--summary"))
                    || (name == "swapon" && rest.is_empty())
                {
                    diag(name)
                } else {
                    Verdict::approve(rules::SYSTEM_WRITE, format!("`{name}` changes swap"))
                }
            }
            "fstrim" | "updatedb" | "mandb" | "fc-cache" => Verdict::remediation(
                rules::MAINTENANCE,
                format!("`{name}` is routine maintenance"),
            ),
            "systemd-tmpfiles" => {
                if rest
                    .iter()
                    .any(|a| a.is("--remove") || a.is("--create") || a.is("--purge"))
                    || !rest.iter().any(|a| a.is("--clean"))
                {
                    Verdict::approve(
                        rules::FILE_DELETE,
                        "`systemd-tmpfiles` creates or removes files by configuration",
                    )
                } else {
                    Verdict::remediation(
                        rules::MAINTENANCE,
                        "`systemd-tmpfiles --clean` removes aged temporary files",
                    )
                }
            }
            "ldconfig"
            | "update-grub"
            | "grub-install"
            | "grub-mkconfig"
            | "update-initramfs"
            | "dracut"
            | "mkinitcpio"
            | "update-ca-certificates" => Verdict::approve(
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
            "psql" | "mysql" | "mariadb" | "sqlite3" | "mongo" | "mongosh"
            | "clickhouse-client" | "influx" | "cqlsh" => self.sql_client(name, rest, stdin),
            "pg_dump" | "pg_dumpall" | "mysqldump" | "mariadb-dump" | "mongodump" => {
                let o = Opts::parse(
                    rest,
                    &["-f", "--file", "-r", "--result-file", "-o", "--out"],
                );
                match o.value(&["-f", "--file", "-r", "--result-file", "-o", "--out"]) {
                    Some(f) => combine(
                        vec![
                            self.write_target(
                                &self.resolve(f, env),
                                &format!("`{name}` writes to"),
                            ),
                            Verdict::approve(
                                rules::SECRET_READ,
                                format!("`{name}` exports database contents"),
                            ),
                        ],
                        diag(name),
                    ),
                    None => Verdict::approve(
                        rules::SECRET_READ,
                        format!("`{name}` exports database contents"),
                    )
                    .with_class(SafetyClass::Diagnostic),
                }
            }
            "dropdb" | "dropuser" | "pg_resetwal" | "pg_resetxlog" => Verdict::refuse(
                rules::DATA_DESTROY,
                format!("`{name}` destroys database data"),
            ),
            "smartctl" => {
                let o = Opts::parse(
                    rest,
                    &[
                        "-t",
                        "--test",
                        "-s",
                        "--smart",
                        "-o",
                        "--offlineauto",
                        "-S",
                        "--saveauto",
                        "--set",
                        "-d",
                        "--device",
                        "-l",
                        "--log",
                        "-T",
                        "--tolerance",
                        "-b",
                        "--badsum",
                        "-r",
                        "--report",
                        "-n",
                        "--nocheck",
                        "-f",
                        "--format",
                        "-g",
                        "--get",
                        "-F",
                        "--firmwarebug",
                        "-v",
                        "--vendorattribute",
                        "-P",
                        "--presets",
                        "-B",
                        "--drivedb",
                    ],
                );
                if o.has(&[
                    "-t",
                    "--test",
                    "-X",
                    "--abort",
                    "-s",
                    "--smart",
                    "-o",
                    "--offlineauto",
                    "-S",
                    "--saveauto",
                    "--set",
                ]) {
                    Verdict::approve(
                        rules::MAINTENANCE,
                        "`smartctl` starts tests or changes drive settings",
                    )
                } else {
                    diag(name)
                }
            }
            "nvidia-smi" => {
                let changes = rest.iter().any(|a| {
                    a.lit().is_some_and(|t| {
                        [
                            "-r",
                            "--gpu-reset",
                            "-pm",
                            "--persistence-mode",
                            "-pl",
                            "--power-limit",
                            "-ac",
                            "--applications-clocks",
                            "-rac",
                            "-lgc",
                            "-rgc",
                            "-lmc",
                            "-rmc",
                            "-e",
                            "--ecc-config",
                            "-p",
                            "--reset-ecc-errors",
                            "-c",
                            "--compute-mode",
                            "-mig",
                            "-am",
                            "-caa",
                        ]
                        .iter()
                        .any(|p| t == *p || t.starts_with(&format!("{p}=")))
                    })
                });
                if changes {
                    Verdict::approve(rules::KERNEL, "`nvidia-smi` changes GPU settings")
                } else if rest.iter().any(|a| {
                    a.is("-l") || a.is("-lms") || a.is("--loop") || a.is("dmon") || a.is("pmon")
                }) {
                    streams("nvidia-smi --loop")
                } else {
                    diag(name)
                }
            }
            "dmidecode" | "biosdecode" => secret_approve(format!(
                "`{name}` prints hardware serial numbers and asset tags"
            )),
            "logrotate" => {
                let o = Opts::parse(rest, &["-s", "--state", "-l", "--log", "-m", "--mail"]);
                if o.value(&["-m", "--mail"]).is_some() {
                    Verdict::approve(
                        rules::INTERPRETER_CODE,
                        "`logrotate -m` runs a mail command",
                    )
                } else if o.has(&["-d", "--debug"]) {
                    diag("logrotate -d")
                } else if !o.operands.is_empty()
                    && o.operands.iter().all(|a| {
                        a.lit().is_some_and(|t| {
                            let p = normalize_path(t);
                            p == "/etc/logrotate.conf" || p.starts_with("/etc/logrotate.d/")
                        })
                    })
                {
                    Verdict::remediation(
                        rules::LOG_MAINTENANCE,
                        "`logrotate` rotates logs with the system configuration",
                    )
                } else {
                    Verdict::approve(
                        rules::LOG_MAINTENANCE,
                        "`logrotate` with a configuration outside /etc/logrotate* (its scripts run as root)",
                    )
                }
            }
            "ha" => self.ha(rest),
            "base64" | "base32" => combine(
                self.read_files(rest.iter().filter(|a| !a.text.starts_with('-'))),
                diag(name),
            ),
            "git" => self.git(rest),
            "virsh" | "qm" | "pct" | "lxc" | "incus" | "vboxmanage" | "VBoxManage" => {
                self.vm(name, rest)
            }
            "loginctl" | "machinectl" | "busctl" | "coredumpctl" | "systemd-run"
            | "systemd-inhibit" => self.systemd_misc(name, rest),
            "wall" | "write" | "notify-send" => Verdict::approve(
                rules::UNCLASSIFIED,
                format!("`{name}` sends messages to logged-in users"),
            ),
            "make" | "cmake" | "cargo" | "go" | "gcc" | "cc" | "java" | "mvn" | "gradle"
            | "ansible" | "ansible-playbook" | "terraform" | "helm" | "salt" | "puppet"
            | "chef-client" => {
                if rest.len() == 1
                    && rest
                        .iter()
                        .any(|a| a.is("--version") || a.is("version") || a.is("-v"))
                {
                    diag(name)
                } else {
                    self.unclassified(format!(
                        "`{name}` runs build or deployment code that is not known here"
                    ))
                }
            }
            _ => return None,
        };
        Some(v)
    }

    pub(super) fn read_only(&self, name: &str, rest: &[Arg]) -> Verdict {
        match name {
            "ss" if rest.iter().any(|a| {
                a.lit().is_some_and(|t| {
                    t == "-K"
                        || t == "--kill"
                        || (t.starts_with('-') && !t.starts_with("--") && t.contains('K'))
                })
            }) =>
            {
                Verdict::approve(rules::NETWORK_CHANGE, "`ss -K` closes sockets")
            }
            "nvme"
                if rest.first().is_some_and(|a| {
                    a.lit().is_some_and(|t| {
                        matches!(
                            t,
                            "format"
                                | "sanitize"
                                | "write"
                                | "write-zeroes"
                                | "dsm"
                                | "delete-ns"
                                | "detach-ns"
                                | "fw-download"
                                | "fw-commit"
                                | "reset"
                                | "subsystem-reset"
                                | "set-feature"
                        )
                    })
                }) =>
            {
                Verdict::refuse(
                    rules::DISK_DESTROY,
                    "`nvme` formats, sanitizes, writes or resets an NVMe device",
                )
            }
            "iw" if rest.iter().any(|a| {
                a.lit().is_some_and(|t| {
                    matches!(
                        t,
                        "set"
                            | "del"
                            | "add"
                            | "connect"
                            | "disconnect"
                            | "reg"
                            | "ibss"
                            | "mesh"
                            | "ap"
                    )
                })
            }) =>
            {
                Verdict::refuse(rules::NETWORK_CHANGE, "`iw` changes wireless settings")
            }
            "iwconfig" if rest.len() > 1 => Verdict::refuse(
                rules::NETWORK_CHANGE,
                "`iwconfig` changes wireless settings",
            ),
            _ => diag(name),
        }
    }

    pub(super) fn new_cwd(&self, rest: &[Arg], env: &Env) -> Option<String> {
        let ops: Vec<&Arg> = rest
            .iter()
            .filter(|a| !a.text.starts_with('-') || a.text == "-")
            .collect();
        let dir = ops.first()?;
        let t = dir.lit()?;
        if t == "-" || t.starts_with('~') {
            return None;
        }
        if t.starts_with('/') {
            Some(normalize_path(t))
        } else {
            env.cwd
                .as_ref()
                .map(|c| normalize_path(&format!("{c}/{t}")))
        }
    }

    pub(super) fn content_reader(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let mut parts: Vec<Verdict> = rest
            .iter()
            .filter(|a| !a.text.starts_with('-') || a.dynamic)
            .filter_map(|a| self.read_file(&self.resolve(a, env)))
            .collect();
        if matches!(name, "tail")
            && rest.iter().any(|a| {
                a.lit().is_some_and(|t| {
                    t == "-f"
                        || t == "-F"
                        || t.starts_with("--follow")
                        || (t.starts_with('-') && !t.starts_with("--") && t.contains(['f', 'F']))
                })
            })
        {
            parts.push(streams("tail -f"));
        }
        if matches!(name, "less" | "more" | "most" | "view")
            && rest
                .iter()
                .any(|a| a.text.starts_with('+') && a.text.contains('!'))
        {
            parts.push(Verdict::refuse(
                rules::INTERPRETER_CODE,
                format!("`{name}` with a start-up command can run shell commands"),
            ));
        }
        combine(parts, diag(name))
    }

    pub(super) fn echo(&self, name: &str, rest: &[Arg]) -> Verdict {
        let secret = rest
            .iter()
            .flat_map(|a| &a.mentions)
            .find(|m| m.starts_with('$') && secretish_name(m));
        match secret {
            Some(m) => secret_approve(format!(
                "`{name}` prints `{m}`, which looks like a credential"
            )),
            None => diag(name),
        }
    }

    pub(super) fn declare(&self, name: &str, rest: &[Arg]) -> Verdict {
        let mut parts = Vec::new();
        let operands: Vec<&Arg> = rest
            .iter()
            .filter(|a| !a.text.starts_with(['-', '+']))
            .collect();
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
            parts.push(secret_refuse(format!(
                "`{name}` without names prints variables, including credentials"
            )));
        }
        combine(parts, diag(name))
    }

    pub(super) fn hostname(&self, rest: &[Arg]) -> Verdict {
        let read_flags = [
            "-f",
            "--fqdn",
            "--long",
            "-i",
            "--ip-address",
            "-I",
            "--all-ip-addresses",
            "-s",
            "--short",
            "-d",
            "--domain",
            "-A",
            "--all-fqdns",
            "-a",
            "--alias",
            "-y",
            "--yp",
            "--nis",
            "-v",
            "--verbose",
            "-V",
            "--version",
            "-h",
            "--help",
        ];
        if rest
            .iter()
            .all(|a| a.lit().is_some_and(|t| read_flags.contains(&t)))
        {
            diag("hostname")
        } else {
            Verdict::refuse(
                rules::NETWORK_CHANGE,
                format!("`hostname {}` changes the host's name", render(rest)),
            )
        }
    }

    pub(super) fn jq(&self, name: &str, rest: &[Arg]) -> Verdict {
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
        let files = if from_file {
            &operands[..]
        } else {
            operands.get(1..).unwrap_or(&[])
        };
        parts.extend(self.read_files(files.iter().copied()));
        if !from_file
            && operands.first().is_some_and(|f| {
                f.text.contains("$ENV")
                    || f.text.contains("env.")
                    || f.text.contains("input_filename_")
            })
        {
            parts.push(secret_refuse(format!(
                "`{name}` filter reads the environment"
            )));
        }
        combine(parts, diag(name))
    }

    pub(super) fn grep(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        const VALUE: &[&str] = &[
            "-e",
            "--regexp",
            "-f",
            "--file",
            "-m",
            "--max-count",
            "-A",
            "--after-context",
            "-B",
            "--before-context",
            "-C",
            "--context",
            "-d",
            "--directories",
            "-D",
            "--devices",
            "--include",
            "--exclude",
            "--exclude-dir",
            "--label",
            "--color",
            "--colour",
            "-g",
            "--glob",
            "-t",
            "--type",
            "-T",
            "--type-not",
            "-j",
            "--threads",
            "-M",
            "--max-columns",
            "--max-depth",
            "--pre",
            "--pre-glob",
            "-E",
            "--encoding",
            "--ignore-file",
        ];
        let o = Opts::parse(rest, VALUE);
        let mut parts = Vec::new();
        for f in o.all_values(&["-f", "--file"]) {
            parts.extend(self.read_file(f));
        }
        if o.value(&["--pre"]).is_some() {
            parts.push(Verdict::approve(
                rules::INTERPRETER_CODE,
                "`rg --pre` runs a program on every file",
            ));
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
            || o.value(&["-d", "--directories"])
                .is_some_and(|v| v.is("recurse"));
        parts.extend(self.read_files(files.iter()));
        if recursive {
            if files.is_empty() {
                match &env.cwd {
                    Some(c) if !rules::dir_contains_secrets(c) => {}
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
