//! Firewalls, interfaces, transfers, SSH keys, signals and sysctl.

use super::*;

impl<'a> Cx<'a> {
    pub(super) fn iptables(&self, name: &str, rest: &[Arg]) -> Verdict {
        const CHANGE_LONG: &[&str] = &[
            "--append",
            "--delete",
            "--insert",
            "--replace",
            "--flush",
            "--zero",
            "--new-chain",
            "--delete-chain",
            "--policy",
            "--rename-chain",
            "--new",
            "--init-table",
            "--atomic-commit",
            "--atomic-init",
            "--atomic-save",
            "--change-counters",
            "--set-counters",
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
            Verdict::refuse(
                rules::FIREWALL,
                format!("`{name} {}` changes the firewall", render(rest)),
            )
        }
    }

    pub(super) fn nft(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(
            rest,
            &["-f", "--file", "-I", "--includepath", "-D", "--define"],
        );
        if o.has(&["-c", "--check", "-v", "--version", "-h", "--help"])
            && o.value(&["-f", "--file"])
                .is_none_or(|_| o.has(&["-c", "--check"]))
        {
            return diag("nft");
        }
        if o.value(&["-f", "--file"]).is_some() {
            return Verdict::refuse(rules::FIREWALL, "`nft -f` loads a firewall ruleset");
        }
        let words: Vec<&str> = o.operands.iter().map(|a| a.lit().unwrap_or("*")).collect();
        let first = words.first().copied().unwrap_or("");
        if words.is_empty()
            || matches!(first, "list" | "describe" | "monitor") && !words.contains(&"*")
        {
            diag("nft")
        } else {
            Verdict::refuse(
                rules::FIREWALL,
                format!("`nft {}` changes the firewall", render(rest)),
            )
        }
    }

    pub(super) fn ip(&self, rest: &[Arg]) -> Verdict {
        let mut i = 0;
        while let Some(t) = rest.get(i).and_then(Arg::lit) {
            if !t.starts_with('-') {
                break;
            }
            if matches!(t, "-b" | "-batch" | "--batch" | "-force") {
                return Verdict::refuse(
                    rules::NETWORK_CHANGE,
                    "`ip -batch` runs commands from a file",
                );
            }
            i += if matches!(
                t,
                "-n" | "-netns" | "-f" | "-family" | "-l" | "-loops" | "-rc" | "-rcvbuf"
            ) {
                2
            } else {
                1
            };
        }
        let object = rest.get(i);
        let Some(object) = object else {
            return diag("ip");
        };
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
                Some(c) if obj == "netns" && matches!(c, "identify" | "pids" | "list-id") => {
                    diag("ip")
                }
                Some(c) if c.starts_with("dev") || c == "to" || c == "table" => diag("ip"),
                _ => Verdict::refuse(
                    rules::NETWORK_CHANGE,
                    format!(
                        "`ip {}` changes addresses, links or routes",
                        render(&rest[i..])
                    ),
                ),
            },
        }
    }

    pub(super) fn nmcli(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "-f",
                "--fields",
                "-m",
                "--mode",
                "-c",
                "--colors",
                "-e",
                "--escape",
                "-w",
                "--wait",
                "-g",
                "--get-values",
            ],
        );
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
            Verdict::refuse(
                rules::NETWORK_CHANGE,
                format!("`nmcli {}` changes networking", render(rest)),
            )
        }
    }

    pub(super) fn wg(&self, rest: &[Arg]) -> Verdict {
        let words: Vec<&str> = rest.iter().map(|a| a.lit().unwrap_or("*")).collect();
        match words.first().copied() {
            None | Some("show") => {
                if words
                    .iter()
                    .any(|w| matches!(*w, "private-key" | "preshared-keys" | "dump" | "*"))
                {
                    secret_refuse(
                        "`wg show … private-key|preshared-keys|dump` prints WireGuard keys",
                    )
                } else {
                    diag("wg show")
                }
            }
            Some("showconf") => secret_refuse("`wg showconf` prints the interface's private key"),
            Some("genkey" | "genpsk") => secret_approve("`wg genkey` prints a new private key"),
            Some("pubkey") => diag("wg pubkey"),
            Some("set" | "setconf" | "addconf" | "syncconf") => Verdict::approve(
                rules::NETWORK_CHANGE,
                "`wg set` changes a WireGuard interface",
            ),
            _ => Verdict::approve(rules::NETWORK_CHANGE, format!("`wg {}`", render(rest))),
        }
    }

    pub(super) fn curl(&self, rest: &[Arg], env: &Env) -> Verdict {
        const VALUE: &[&str] = &[
            "-d",
            "--data",
            "--data-binary",
            "--data-raw",
            "--data-ascii",
            "--data-urlencode",
            "-F",
            "--form",
            "--form-string",
            "-T",
            "--upload-file",
            "-X",
            "--request",
            "-o",
            "--output",
            "-H",
            "--header",
            "-u",
            "--user",
            "-x",
            "--proxy",
            "-A",
            "--user-agent",
            "-e",
            "--referer",
            "-b",
            "--cookie",
            "-c",
            "--cookie-jar",
            "-D",
            "--dump-header",
            "-K",
            "--config",
            "--trace",
            "--trace-ascii",
            "-m",
            "--max-time",
            "--connect-timeout",
            "--retry",
            "-w",
            "--write-out",
            "--cacert",
            "--capath",
            "--cert",
            "-E",
            "--key",
            "--resolve",
            "--connect-to",
            "--unix-socket",
            "--abstract-unix-socket",
            "-r",
            "--range",
            "-Y",
            "-y",
            "--limit-rate",
            "--output-dir",
            "--json",
            "-z",
            "--time-cond",
            "--stderr",
            "--interface",
            "--dns-servers",
            "--retry-delay",
            "--retry-max-time",
            "--max-filesize",
            "--proto",
            "--proto-redir",
            "-Q",
            "--quote",
            "--netrc-file",
            "--url",
            "--variable",
            "-t",
            "--telnet-option",
            "--libcurl",
            "--etag-save",
            "--etag-compare",
            "--hsts",
            "--alt-svc",
            "--oauth2-bearer",
            "--aws-sigv4",
            "--ciphers",
            "--pinnedpubkey",
        ];
        let o = Opts::parse(rest, VALUE);
        let mut parts = Vec::new();
        let send_flags = [
            "-d",
            "--data",
            "--data-binary",
            "--data-raw",
            "--data-ascii",
            "--data-urlencode",
            "-F",
            "--form",
            "--form-string",
            "-T",
            "--upload-file",
            "--json",
        ];
        for (flag, v) in &o.values {
            let f = flag.as_str();
            if send_flags.contains(&f) {
                parts.push(Verdict::approve(
                    rules::REMOTE_EXEC,
                    format!("`curl {f}` sends data to a remote service, which may act on it"),
                ));
                let file = if matches!(f, "-T" | "--upload-file") {
                    Some(v.clone())
                } else if matches!(f, "-F" | "--form") {
                    v.text
                        .split_once("=@")
                        .or_else(|| v.text.split_once("=<"))
                        .map(|(_, p)| Arg {
                            text: p.split(';').next().unwrap_or(p).to_string(),
                            ..v.clone()
                        })
                } else {
                    v.text.strip_prefix('@').map(|p| Arg {
                        text: p.to_string(),
                        ..v.clone()
                    })
                };
                if let Some(file) = file {
                    parts.extend(self.read_file(&self.resolve(&file, env)));
                }
            }
            match f {
                "-X" | "--request" if changes_method(v, &["GET", "HEAD", "OPTIONS"]) => {
                    parts.push(Verdict::approve(
                        rules::REMOTE_EXEC,
                        format!(
                            "`curl -X {}` asks a remote service to change something",
                            v.text
                        ),
                    ));
                }
                "-o" | "--output" | "-c" | "--cookie-jar" | "-D" | "--dump-header" | "--trace"
                | "--trace-ascii" | "--stderr" | "--libcurl" | "--etag-save" | "--hsts"
                | "--alt-svc"
                    if !v.is("-") =>
                {
                    parts.push(
                        self.write_target(&self.resolve(v, env), &format!("`curl {f}` writes to")),
                    );
                }
                "--output-dir" => parts.push(
                    self.write_target(&self.resolve(v, env), "`curl --output-dir` writes into"),
                ),
                "-K" | "--config" => parts.push(Verdict::approve(
                    rules::UNCLASSIFIED,
                    "`curl -K` reads options from a file",
                )),
                "-Q" | "--quote" => parts.push(Verdict::approve(
                    rules::REMOTE_EXEC,
                    "`curl -Q` sends raw commands to a server",
                )),
                "--url" => parts.extend(self.url(v)),
                "--netrc-file" | "--key" | "-E" | "--cert" => parts.extend(self.read_file(v)),
                _ => {}
            }
        }
        if o.has(&["-O", "--remote-name", "--remote-name-all", "-J"]) {
            parts.push(Verdict::approve(
                rules::FILE_WRITE,
                "`curl -O` saves into the working directory",
            ));
        }
        for u in &o.operands {
            parts.extend(self.url(u));
        }
        combine(parts, diag("curl"))
    }

    /// `file://` URLs read local files; odd schemes talk raw protocols.
    pub(super) fn url(&self, u: &Arg) -> Option<Verdict> {
        let t = u.text.to_ascii_lowercase();
        if let Some(path) = u.text.get(7..).filter(|_| t.starts_with("file://")) {
            let path = path.strip_prefix("localhost").unwrap_or(path);
            return Some(
                self.read_file(&Arg {
                    text: path.to_string(),
                    ..u.clone()
                })
                .unwrap_or_else(|| diag("curl file://")),
            );
        }
        if [
            "gopher://",
            "dict://",
            "telnet://",
            "ldap://",
            "smtp://",
            "tftp://",
            "scp://",
            "sftp://",
            "ftp://",
            "mqtt://",
        ]
        .iter()
        .any(|s| t.starts_with(s))
        {
            return Some(Verdict::approve(
                rules::REMOTE_EXEC,
                format!("`{}` talks a raw protocol", u.text),
            ));
        }
        None
    }

    pub(super) fn wget(&self, rest: &[Arg], env: &Env) -> Verdict {
        const VALUE: &[&str] = &[
            "-O",
            "--output-document",
            "-o",
            "--output-file",
            "-a",
            "--append-output",
            "-P",
            "--directory-prefix",
            "-i",
            "--input-file",
            "--post-data",
            "--post-file",
            "--method",
            "--body-data",
            "--body-file",
            "-U",
            "--user-agent",
            "--header",
            "-T",
            "--timeout",
            "-t",
            "--tries",
            "--user",
            "--password",
            "--load-cookies",
            "--save-cookies",
            "-e",
            "--execute",
            "-w",
            "--wait",
            "-l",
            "--level",
            "-Q",
            "--quota",
            "--ca-certificate",
            "--certificate",
            "--private-key",
            "-B",
            "--base",
            "--config",
            "--limit-rate",
            "--bind-address",
            "-D",
            "--domains",
            "-A",
            "--accept",
            "-R",
            "--reject",
            "--referer",
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
                "--post-data" | "--body-data" => parts.push(Verdict::approve(
                    rules::REMOTE_EXEC,
                    "`wget --post-data` sends data to a remote service",
                )),
                "--post-file" | "--body-file" => {
                    parts.push(Verdict::approve(
                        rules::REMOTE_EXEC,
                        "`wget --post-file` uploads a file",
                    ));
                    parts.extend(self.read_file(&self.resolve(v, env)));
                }
                "--method" if changes_method(v, &["GET", "HEAD"]) => {
                    parts.push(Verdict::approve(
                        rules::REMOTE_EXEC,
                        format!(
                            "`wget --method={}` asks a remote service to change something",
                            v.text
                        ),
                    ));
                }
                "-e" | "--execute" | "--config" => parts.push(Verdict::approve(
                    rules::UNCLASSIFIED,
                    "`wget -e` runs wgetrc commands",
                )),
                "-i" | "--input-file" | "--private-key" | "--certificate" | "--load-cookies" => {
                    parts.extend(self.read_file(v))
                }
                _ => {}
            }
        }
        if o.has(&["-r", "--recursive", "-m", "--mirror"]) && !to_stdout {
            parts.push(Verdict::approve(
                rules::FILE_WRITE,
                "`wget -r` mirrors a site into the working directory",
            ));
        }
        if !output && !o.has(&["--spider"]) {
            parts.push(Verdict::approve(
                rules::FILE_WRITE,
                "`wget` saves into the working directory",
            ));
        }
        for u in &o.operands {
            parts.extend(self.url(u));
        }
        combine(parts, diag("wget"))
    }

    pub(super) fn transfer(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        const VALUE: &[&str] = &[
            "-P",
            "-p",
            "-i",
            "-o",
            "-F",
            "-J",
            "-l",
            "-S",
            "-c",
            "-e",
            "--rsh",
            "--exclude",
            "--include",
            "--exclude-from",
            "--include-from",
            "--files-from",
            "--filter",
            "-f",
            "--rsync-path",
            "--password-file",
            "--log-file",
            "--chmod",
            "--chown",
            "--bwlimit",
            "--timeout",
            "--backup-dir",
            "--suffix",
            "--partial-dir",
            "--temp-dir",
            "-T",
            "--compare-dest",
            "--copy-dest",
            "--link-dest",
            "--max-size",
            "--min-size",
            "--port",
            "--out-format",
            "--info",
            "--debug",
            "-B",
            "--block-size",
            "--usermap",
            "--groupmap",
            "--max-delete",
            "--modify-window",
            "--skip-compress",
            "--iconv",
            "-M",
            "--remote-option",
            "--sockopts",
            "--outbuf",
            "--stop-after",
            "--stop-at",
            "--checksum-choice",
            "--compress-choice",
            "--compress-level",
            "--contimeout",
            "--address",
            "--protocol",
            "--write-batch",
            "--read-batch",
            "--only-write-batch",
            "--early-input",
        ];
        let o = Opts::parse(rest, VALUE);
        let mut parts = Vec::new();
        if o.value(&["-e", "--rsh", "--rsync-path", "-o"]).is_some() {
            parts.push(Verdict::approve(
                rules::REMOTE_EXEC,
                format!("`{name}` with a custom remote shell or program"),
            ));
        }
        let remote = |a: &Arg| {
            let t = &a.text;
            t.starts_with("rsync://")
                || t.find(':')
                    .is_some_and(|c| t.find('/').is_none_or(|s| c < s))
        };
        let Some((dest, sources)) = o.operands.split_last() else {
            return diag(name);
        };
        if sources.is_empty() {
            return diag(name);
        }
        if o.operands.iter().any(remote) {
            parts.push(Verdict::approve(
                rules::REMOTE_EXEC,
                format!("`{name}` copies files to or from another machine"),
            ));
        }
        for s in sources.iter().filter(|s| !remote(s)) {
            let s = self.resolve(s, env);
            parts.extend(self.read_file(&s));
            if s.dynamic
                || rules::dir_contains_secrets(&s.text) && (name == "rsync" || o.has(&["-r"]))
            {
                parts.push(secret_approve(format!(
                    "`{name}` copies `{}`, which may hold secrets",
                    s.text
                )));
            }
        }
        if !remote(dest) {
            let d = self.resolve(dest, env);
            parts.push(self.write_target(&d, &format!("`{name}` writes to")));
        }
        if o.flags
            .iter()
            .any(|f| f.starts_with("--delete") || f == "--remove-source-files")
        {
            parts.push(Verdict::approve(
                rules::FILE_DELETE,
                format!("`{name} --delete` removes files at the destination"),
            ));
        }
        parts.push(Verdict::approve(
            rules::FILE_WRITE,
            format!("`{name}` copies files"),
        ));
        combine(parts, diag(name))
    }

    pub(super) fn ssh_keygen(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "-f", "-F", "-R", "-t", "-b", "-C", "-N", "-P", "-E", "-I", "-n", "-V", "-z", "-Z",
                "-a", "-O", "-s", "-D", "-w", "-Y", "-r", "-m", "-M", "-G", "-T",
            ],
        );
        if o.has(&["-l", "-B"]) || o.value(&["-F"]).is_some() || o.has(&["-y"]) && !o.has(&["-p"]) {
            diag("ssh-keygen")
        } else if o.value(&["-R"]).is_some() {
            Verdict::approve(
                rules::USER_ADMIN,
                "`ssh-keygen -R` removes a known host key",
            )
        } else {
            Verdict::approve(
                rules::USER_ADMIN,
                "`ssh-keygen` creates or changes SSH key material",
            )
        }
    }

    pub(super) fn kill(&self, rest: &[Arg]) -> Verdict {
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
                t if t.starts_with("--signal=") => {
                    signal = Some(t["--signal=".len()..].to_string())
                }
                t if t.starts_with('-')
                    && t.len() > 1
                    && !t[1..].chars().all(|c| c.is_ascii_digit())
                    || signal.is_none()
                        && t.starts_with('-')
                        && t.len() > 1
                        && pids.is_empty()
                        && i < rest.len() =>
                {
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
                    Some(n) => parts.push(
                        self.self_protect(&n, "`kill` signals processes found by looking up"),
                    ),
                    None => parts.push(Verdict::approve(
                        rules::PROCESS_KILL,
                        format!(
                            "`kill` of processes only known at run time (`{}`)",
                            p.mentions.join(" ")
                        ),
                    )),
                }
                continue;
            }
            match p.text.as_str() {
                "1" => parts.push(Verdict::refuse(
                    rules::PROCESS_KILL,
                    "`kill 1` signals init (PID 1): the host goes down",
                )),
                "-1" => parts.push(Verdict::refuse(
                    rules::PROCESS_KILL,
                    "`kill -1` signals every process",
                )),
                "0" | "-0" => parts.push(Verdict::refuse(
                    rules::PROCESS_KILL,
                    "`kill 0` signals the whole process group, including the shell",
                )),
                t => parts.push(Verdict::approve(
                    rules::PROCESS_KILL,
                    format!("`kill` of process `{t}`"),
                )),
            }
        }
        combine(parts, diag("kill"))
    }

    pub(super) fn pkill(&self, name: &str, rest: &[Arg]) -> Verdict {
        const VALUE: &[&str] = &[
            "-s",
            "--signal",
            "-u",
            "--euid",
            "-U",
            "--uid",
            "-g",
            "--pgroup",
            "-G",
            "--group",
            "-P",
            "--parent",
            "-t",
            "--terminal",
            "-F",
            "--pidfile",
            "--session",
            "--ns",
            "--nslist",
        ];
        let mut args = Vec::new();
        // `pkill -9 x`, `killall -HUP x`: signal as an option.
        for a in rest {
            if a.lit().is_some_and(|t| {
                t.len() > 1
                    && t.starts_with('-')
                    && (t[1..].chars().all(|c| c.is_ascii_digit())
                        || t[1..].chars().all(|c| c.is_ascii_uppercase()))
            }) {
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
            return self.self_protect(
                &n,
                &format!("`{name} -F` signals the process in a pid file of"),
            );
        }
        if o.operands.is_empty() {
            return if o
                .value(&[
                    "-u",
                    "--euid",
                    "-U",
                    "--uid",
                    "-g",
                    "--pgroup",
                    "-G",
                    "--group",
                    "-t",
                    "--terminal",
                    "--session",
                ])
                .is_some()
            {
                Verdict::refuse(
                    rules::PROCESS_KILL,
                    format!(
                        "`{name}` without a pattern signals every process of a user, group or session"
                    ),
                )
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
                    None => self.self_protect(
                        "processes only known at run time, possibly",
                        &format!("`{name}` matches"),
                    ),
                });
                continue;
            };
            let hit = if regex_mode {
                let re = if exact {
                    format!("^(?:{pattern})$")
                } else {
                    pattern.to_string()
                };
                match RegexBuilder::new(&re).case_insensitive(ignore_case).build() {
                    Ok(re) => {
                        let pool: Vec<String> = if full {
                            samples.clone()
                        } else {
                            names.iter().map(|n| n.chars().take(15).collect()).collect()
                        };
                        pool.iter()
                            .find(|s| re.is_match(s))
                            .map(|_| pattern.to_string())
                    }
                    // An invalid ERE may still be valid for procps: be careful.
                    Err(_) => Some(pattern.to_string()),
                }
            } else {
                let cmp = |n: &str| {
                    if ignore_case {
                        n.eq_ignore_ascii_case(pattern)
                    } else {
                        n == pattern
                            || (!exact
                                && pattern.len() >= 15
                                && n.len() >= 15
                                && n[..15] == pattern[..15])
                    }
                };
                names.iter().find(|n| cmp(n)).map(|n| n.to_string())
            };
            match hit {
                Some(_) => parts.push(self.self_protect(
                    pattern,
                    &format!("`{name}` matches Jarvis's processes with"),
                )),
                None => parts.push(Verdict::approve(
                    rules::PROCESS_KILL,
                    format!("`{name} {pattern}` signals matching processes"),
                )),
            }
        }
        combine(parts, diag(name))
    }

    pub(super) fn sysctl(&self, rest: &[Arg]) -> Verdict {
        let o = Opts::parse(rest, &["--pattern", "-r"]);
        if o.has(&["-w", "--write", "-p", "--load", "--system", "-f"])
            || o.operands.iter().any(|a| a.text.contains('=') || a.dynamic)
        {
            Verdict::refuse(rules::KERNEL, "`sysctl -w`/`-p` changes kernel parameters")
        } else {
            diag("sysctl")
        }
    }
}

/// An HTTP method (option value) other than the read-only ones.
fn changes_method(v: &Arg, read_only: &[&str]) -> bool {
    v.lit()
        .is_none_or(|m| !read_only.contains(&m.to_ascii_uppercase().as_str()))
}
