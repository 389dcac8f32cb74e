//! Rule names and the path rules shared by many commands.
//!
//! Every [`Verdict`](super::Verdict) names one of the rules below. They are
//! stable identifiers: notifications, the audit log and tests refer to them.

use std::sync::LazyLock;

use regex::Regex;

/// The input is not shell this module can parse; refused.
pub const UNPARSEABLE: &str = "unparseable";
/// Nothing to run.
pub const EMPTY_COMMAND: &str = "empty-command";
/// The command word comes from a variable or substitution, or `eval`,
/// `source`, `.`, `alias`: what runs is not known before run time.
pub const DYNAMIC_COMMAND: &str = "dynamic-command";
/// A shell step targets a host that is not configured.
pub const UNKNOWN_HOST: &str = "unknown-host";
/// A per-host deny regex matched.
pub const HOST_DENY: &str = "host-deny";
/// A per-host allow regex let an otherwise held command run unattended.
pub const HOST_ALLOW: &str = "host-allow";
/// Nothing recognised the command; the configured default applies.
pub const UNCLASSIFIED: &str = "unclassified";
/// A known read-only command.
pub const DIAGNOSTIC: &str = "diagnostic";
/// `rm -r`, `find -delete`, `find -exec rm` outside temporary directories.
pub const RECURSIVE_DELETE: &str = "recursive-delete";
/// Removing individual files.
pub const FILE_DELETE: &str = "file-delete";
/// Writing, copying or moving files (redirections, `tee`, `cp`, `sed -i`...).
pub const FILE_WRITE: &str = "file-write";
/// Writes into system locations (`/etc`, `/boot`, `/usr`, shell start-up files...).
pub const SYSTEM_WRITE: &str = "system-write";
/// Formatting, wiping or overwriting disks and pools.
pub const DISK_DESTROY: &str = "disk-destroy";
/// Reboot, shutdown, halt, power-off, run-level changes.
pub const POWER_STATE: &str = "power-state";
/// Firewall changes (listing rules is diagnostic).
pub const FIREWALL: &str = "firewall";
/// Taking links, addresses or routes down.
pub const NETWORK_CHANGE: &str = "network-change";
/// Stopping, disabling, masking or killing a critical service.
pub const CRITICAL_SERVICE: &str = "critical-service";
/// Starting, restarting or stopping ordinary services.
pub const SERVICE_CONTROL: &str = "service-control";
/// Restarting, stopping, removing ordinary containers.
pub const CONTAINER_CONTROL: &str = "container-control";
/// Anything that stops, restarts, kills or removes Jarvis or its database.
pub const SELF_PROTECTION: &str = "self-protection";
/// Users, groups, passwords, sudoers, SSH access.
pub const USER_ADMIN: &str = "user-admin";
/// `chmod -R`, `chown -R` on system paths, set-uid bits, ACLs.
pub const PERMISSION_CHANGE: &str = "permission-change";
/// A script from a pipe, download or decoder fed to a shell or interpreter.
pub const PIPE_TO_SHELL: &str = "pipe-to-shell";
/// Inline interpreter code (`python -c`, `perl -e`, `awk 'system()'`...).
pub const INTERPRETER_CODE: &str = "interpreter-code";
/// A function that calls itself (`:(){ :|:& };:` and renamed variants).
pub const FORK_BOMB: &str = "fork-bomb";
/// Reading secrets: password hashes, private keys, `.env`, environments, history.
pub const SECRET_READ: &str = "secret-read";
/// Kernel modules, sysctl, `/proc/sys`, `/sys`.
pub const KERNEL: &str = "kernel";
/// `crontab -r` and other crontab changes.
pub const CRONTAB: &str = "crontab";
/// `kill -9 1`, `kill -1`, `killall`, broad `pkill`, and ordinary kills.
pub const PROCESS_KILL: &str = "process-kill";
/// Removing packages.
pub const PACKAGE_REMOVAL: &str = "package-removal";
/// Installing or upgrading packages.
pub const PACKAGE_CHANGE: &str = "package-change";
/// Dropping databases, flushing caches that hold data.
pub const DATA_DESTROY: &str = "data-destroy";
/// Environment prefixes that change what a command loads (`LD_PRELOAD`, `PATH`...).
pub const ENV_HIJACK: &str = "env-hijack";
/// Log rotation and journal vacuuming.
pub const LOG_MAINTENANCE: &str = "log-maintenance";
/// Other routine maintenance (caches, certificate renewal, scrubs).
pub const MAINTENANCE: &str = "maintenance";
/// Running commands on another machine (`ssh host cmd`).
pub const REMOTE_EXEC: &str = "remote-exec";
/// Home Assistant service calls.
pub const HA_SERVICE: &str = "ha-service";
/// Home Assistant add-on restarts.
pub const HA_ADDON: &str = "ha-addon";
/// n8n workflow triggers.
pub const N8N_WORKFLOW: &str = "n8n-workflow";
/// Self-restart requests.
pub const SELF_RESTART: &str = "self-restart";
/// Waiting between steps.
pub const WAIT: &str = "wait";
/// Prometheus checks.
pub const PROMETHEUS_CHECK: &str = "prometheus-check";

/// Every rule name, for documentation and tests.
pub const ALL: &[&str] = &[
    UNPARSEABLE,
    EMPTY_COMMAND,
    DYNAMIC_COMMAND,
    UNKNOWN_HOST,
    HOST_DENY,
    HOST_ALLOW,
    UNCLASSIFIED,
    DIAGNOSTIC,
    RECURSIVE_DELETE,
    FILE_DELETE,
    FILE_WRITE,
    SYSTEM_WRITE,
    DISK_DESTROY,
    POWER_STATE,
    FIREWALL,
    NETWORK_CHANGE,
    CRITICAL_SERVICE,
    SERVICE_CONTROL,
    CONTAINER_CONTROL,
    SELF_PROTECTION,
    USER_ADMIN,
    PERMISSION_CHANGE,
    PIPE_TO_SHELL,
    INTERPRETER_CODE,
    FORK_BOMB,
    SECRET_READ,
    KERNEL,
    CRONTAB,
    PROCESS_KILL,
    PACKAGE_REMOVAL,
    PACKAGE_CHANGE,
    DATA_DESTROY,
    ENV_HIJACK,
    LOG_MAINTENANCE,
    MAINTENANCE,
    REMOTE_EXEC,
    HA_SERVICE,
    HA_ADDON,
    N8N_WORKFLOW,
    SELF_RESTART,
    WAIT,
    PROMETHEUS_CHECK,
];

// ---------------------------------------------------------------------------
// Paths

/// Lexically normalises a path: collapses `//`, removes `.`, resolves `..`
/// (never above `/`) and drops a trailing `/`. `~` stays as written.
pub fn normalize_path(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            c => parts.push(c),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

/// The last component of a path.
pub fn basename(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

fn under(path: &str, dir: &str) -> bool {
    path == dir || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

fn strictly_under(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir)
        .is_some_and(|r| r.starts_with('/') && r.len() > 1)
}

/// True for paths strictly inside `/tmp` or `/var/tmp` (normalised).
pub fn is_temp_path(path: &str) -> bool {
    strictly_under(path, "/tmp") || strictly_under(path, "/var/tmp")
}

/// Glob characters the shell expands in unquoted words.
pub fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Converts a path glob to an anchored regex. `*` and `?` never match `/`,
/// nor a leading `.` of a component (as in bash without `dotglob`).
pub fn glob_to_regex(glob: &str) -> Option<Regex> {
    let mut re = String::from("^");
    let mut chars = glob.chars().peekable();
    let mut comp_start = true;
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                re.push_str(if comp_start {
                    "(?:[^/.][^/]*)?"
                } else {
                    "[^/]*"
                });
                comp_start = false;
            }
            '?' => {
                re.push_str(if comp_start { "[^/.]" } else { "[^/]" });
                comp_start = false;
            }
            '[' => {
                let mut class = String::from("[");
                if chars.peek() == Some(&'!') || chars.peek() == Some(&'^') {
                    chars.next();
                    class.push('^');
                }
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == ']' && class.len() > 1 {
                        closed = true;
                        break;
                    }
                    if matches!(c, '\\' | '[' | '&' | '~') {
                        class.push('\\');
                    }
                    class.push(c);
                }
                if !closed {
                    return None;
                }
                class.push(']');
                re.push_str(&class);
                comp_start = false;
            }
            '/' => {
                re.push('/');
                comp_start = true;
            }
            c => {
                re.push_str(&regex::escape(&c.to_string()));
                comp_start = false;
            }
        }
    }
    re.push('$');
    Regex::new(&re).ok()
}

/// True when a glob could match `name`; an unparsable glob could match anything.
pub fn glob_could_match(glob: &str, name: &str) -> bool {
    glob_to_regex(glob).is_none_or(|re| re.is_match(name))
}

/// Representative secret locations, used to decide whether a glob or a
/// partly dynamic path could reach a secret.
const SECRET_SAMPLES: &[&str] = &[
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/ssh/ssh_host_rsa_key",
    "/etc/ssh/ssh_host_ed25519_key",
    "/root/.ssh/id_rsa",
    "/home/user/.ssh/id_ed25519",
    "/proc/1/environ",
    "/proc/self/environ",
    "/etc/ssl/private/server.key",
    "/etc/letsencrypt/live/example.org/privkey.pem",
    "/srv/app/.env",
    "/root/.bash_history",
    "/etc/wireguard/wg0.conf",
    "/run/secrets/db_password",
    "/config/secrets.yaml",
];

/// Directories that hold secrets, for recursive readers (`grep -r`, `tar c`...).
const SECRET_ROOTS: &[&str] = &[
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/ssh",
    "/etc/ssl/private",
    "/etc/wireguard",
    "/etc/letsencrypt",
    "/root/.ssh",
    "/home/*/.ssh",
    "/proc/*/environ",
    "/run/secrets",
];

static PRIVATE_KEY_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(id_(rsa|dsa|ecdsa|ed25519)(_sk)?|ssh_host_.*_key|.*\.(pem|key|p12|pfx|jks|keystore|kdbx|ppk))$")
        .expect("static regex")
});

/// Why reading `path` (a static, normalised path) would expose a secret.
pub fn secret_reason(path: &str) -> Option<&'static str> {
    let base = basename(path);
    let comps: Vec<&str> = path.split('/').collect();
    if matches!(
        path,
        "/etc/shadow" | "/etc/gshadow" | "/etc/shadow-" | "/etc/gshadow-" | "/etc/security/opasswd"
    ) {
        return Some("password hashes");
    }
    let public = base.ends_with(".pub")
        || base.starts_with("known_hosts")
        || base.starts_with("authorized_keys")
        || matches!(base, "cert.pem" | "chain.pem" | "fullchain.pem");
    if !public && comps.iter().any(|c| *c == ".ssh" || *c == ".gnupg") {
        return Some("SSH or GPG keys");
    }
    if !public && PRIVATE_KEY_NAME.is_match(base) {
        return Some("a private key");
    }
    if under(path, "/etc/ssl/private")
        || under(path, "/etc/wireguard")
        || under(path, "/run/secrets")
        || under(path, "/etc/letsencrypt/keys")
    {
        return Some("private keys or secrets");
    }
    if base == ".env" || base.starts_with(".env.") || base.ends_with(".env") {
        return Some("an environment file with credentials");
    }
    if comps.first() == Some(&"") && comps.get(1) == Some(&"proc") && base == "environ" {
        return Some("a process environment");
    }
    if matches!(path, "/proc/kcore" | "/dev/mem" | "/dev/kmem" | "/dev/port") {
        return Some("kernel memory");
    }
    if base.ends_with("_history") || base == ".history" {
        return Some("shell history");
    }
    if matches!(
        base,
        ".netrc"
            | ".pgpass"
            | ".my.cnf"
            | ".git-credentials"
            | "secrets.yaml"
            | "secrets.yml"
            | ".htpasswd"
            | ".vault-token"
    ) || path.contains("/.aws/credentials")
        || path.ends_with("/.docker/config.json")
        || path.ends_with("/.kube/config")
    {
        return Some("stored credentials");
    }
    None
}

/// Whether a pattern (a glob, or a partly dynamic path with `*` for the
/// unknown parts) could name a secret.
pub fn pattern_could_be_secret(pattern: &str) -> bool {
    if !has_glob(pattern) {
        return secret_reason(&normalize_path(pattern)).is_some();
    }
    let Some(re) = glob_to_regex(pattern) else {
        return true;
    };
    if pattern.starts_with('/') {
        SECRET_SAMPLES.iter().any(|s| re.is_match(s))
    } else {
        // A relative glob: it could match the tail of any secret path.
        SECRET_SAMPLES.iter().any(|s| {
            let mut tails = vec![*s];
            tails.extend(s.match_indices('/').map(|(i, _)| &s[i + 1..]));
            tails.iter().any(|t| re.is_match(t))
        })
    }
}

/// Whether a recursive reader starting at `dir` could reach a secret.
pub fn dir_contains_secrets(dir: &str) -> bool {
    if !dir.starts_with('/') {
        return true; // relative to an unknown directory (often a home)
    }
    let dir = normalize_path(dir);
    if dir == "/" {
        return true;
    }
    SECRET_ROOTS.iter().any(|root| {
        // Is `dir` an ancestor of (or inside) this root? Compare component-wise,
        // `*` in the root matching any component.
        let d: Vec<&str> = dir.split('/').collect();
        let r: Vec<&str> = root.split('/').collect();
        d.iter()
            .zip(r.iter())
            .all(|(a, b)| *b == "*" || a == b || glob_could_match(a, b))
    })
}

static BLOCK_DEVICE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^/dev/(sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme[0-9]|mmcblk[0-9]|md[0-9_]|md/|dm-[0-9]|mapper/|disk/|loop[0-9]|zd[0-9]|nbd[0-9]|rbd[0-9]|sr[0-9]|mem$|kmem$|port$|[a-z]+/by-)",
    )
    .expect("static regex")
});

/// True for block devices and raw memory.
pub fn is_block_device(path: &str) -> bool {
    BLOCK_DEVICE.is_match(path)
        || (path.starts_with("/dev/") && has_glob(path) && {
            // `/dev/sd*` and friends.
            [
                "/dev/sda",
                "/dev/nvme0n1",
                "/dev/vda",
                "/dev/mmcblk0",
                "/dev/md0",
            ]
            .iter()
            .any(|d| glob_could_match(path, d))
        })
}

/// Paths that only discard or echo output.
pub fn is_null_sink(path: &str) -> bool {
    matches!(
        path,
        "/dev/null" | "/dev/stdout" | "/dev/stderr" | "/dev/tty" | "/dev/zero"
    ) || path.starts_with("/dev/fd/")
}

const USER_ADMIN_FILES: &[&str] = &[
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/gshadow",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/etc/ssh",
    "/etc/pam.d",
    "/etc/security",
    "/etc/doas.conf",
];

const SYSTEM_DIRS: &[&str] = &[
    "/etc",
    "/boot",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/root",
    "/var/spool/cron",
    "/var/lib/dpkg",
    "/var/lib/rpm",
    "/efi",
    "/dev",
    "/run/systemd",
];

/// Top-level directories whose removal or replacement breaks the system.
const TOP_LEVEL: &[&str] = &[
    "/", "/var", "/var/lib", "/var/log", "/home", "/opt", "/srv", "/mnt", "/media", "/tmp",
    "/var/tmp", "/run", "/proc", "/sys", "/data",
];

const STARTUP_FILES: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zprofile",
    ".zshenv",
    ".config/autostart",
];

/// What changing a file at `path` (static, normalised) means: `Some((rule,
/// what))` when it must be refused.
pub fn protected_write(path: &str) -> Option<(&'static str, &'static str)> {
    if is_block_device(path) {
        return Some((DISK_DESTROY, "a block device or raw memory"));
    }
    if path == "/proc/sysrq-trigger" {
        return Some((POWER_STATE, "the magic SysRq trigger (reboot, crash)"));
    }
    if path == "/proc/sys/vm/drop_caches" {
        return None;
    }
    if under(path, "/proc") || under(path, "/sys") {
        return Some((KERNEL, "kernel parameters"));
    }
    if USER_ADMIN_FILES.iter().any(|d| under(path, d)) || path.split('/').any(|c| c == ".ssh") {
        return Some((USER_ADMIN, "accounts, sudoers or SSH access"));
    }
    if STARTUP_FILES
        .iter()
        .any(|f| path.ends_with(&format!("/{f}")) || path == *f)
    {
        return Some((SYSTEM_WRITE, "a shell start-up file"));
    }
    if SYSTEM_DIRS.iter().any(|d| under(path, d)) {
        return Some((SYSTEM_WRITE, "a system location"));
    }
    if TOP_LEVEL.contains(&path) {
        return Some((SYSTEM_WRITE, "a top-level directory"));
    }
    None
}

static ROTATED_LOG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\.([0-9]+|old|gz|xz|bz2|zst|[0-9]+\.(gz|xz|bz2|zst))$").expect("static regex")
});

/// A rotated (already closed) log file under `/var/log`.
pub fn is_rotated_log(path: &str) -> bool {
    strictly_under(path, "/var/log") && ROTATED_LOG.is_match(basename(path))
}

/// A live or rotated log file under `/var/log`.
pub fn is_log_path(path: &str) -> bool {
    strictly_under(path, "/var/log")
}

/// Matches a configured service or unit name against an argument. Either may
/// be a glob (`wg-quick@*` in config, `jarvis*` on the command line); a
/// `.service` suffix is optional on both sides.
pub fn unit_matches(entry: &str, arg: &str) -> bool {
    let e = entry.strip_suffix(".service").unwrap_or(entry);
    let a = arg.strip_suffix(".service").unwrap_or(arg);
    if e == a {
        return true;
    }
    if e.contains('*') && glob_could_match(e, a) {
        return true;
    }
    if has_glob(a) {
        let concrete = e.replace('*', "x");
        return glob_could_match(a, &concrete)
            || glob_could_match(a, &format!("{concrete}.service"));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_paths() {
        assert_eq!(normalize_path("/usr/bin/../bin/rm"), "/usr/bin/rm");
        assert_eq!(normalize_path("/tmp/../etc//passwd/"), "/etc/passwd");
        assert_eq!(normalize_path("/../.."), "/");
        assert_eq!(normalize_path("a/../../b"), "../b");
        assert_eq!(normalize_path("./"), ".");
    }

    #[test]
    fn secrets() {
        for p in [
            "/etc/shadow",
            "/root/.ssh/id_rsa",
            "/home/a/.ssh/config",
            "/srv/x/.env",
            "/proc/1/environ",
            "/etc/ssl/private/a",
            "/x/server.key",
            "/etc/letsencrypt/live/a/privkey.pem",
            "/root/.bash_history",
        ] {
            assert!(secret_reason(p).is_some(), "{p}");
        }
        for p in [
            "/etc/passwd",
            "/var/log/syslog",
            "/root/.ssh/id_rsa.pub",
            "/etc/letsencrypt/live/a/fullchain.pem",
            "/proc/meminfo",
        ] {
            assert!(secret_reason(p).is_none(), "{p}");
        }
        assert!(pattern_could_be_secret("/etc/sh*"));
        assert!(pattern_could_be_secret("/root/.ssh/*"));
        assert!(pattern_could_be_secret("*/.ssh/id_rsa"));
        assert!(!pattern_could_be_secret("/var/log/*.log"));
        assert!(dir_contains_secrets("/etc"));
        assert!(dir_contains_secrets("/home"));
        assert!(!dir_contains_secrets("/var/log"));
    }

    #[test]
    fn units() {
        assert!(unit_matches("jarvis", "jarvis.service"));
        assert!(unit_matches("jarvis.service", "jarvis"));
        assert!(!unit_matches("jarvis", "jarvis-backup.service"));
        assert!(unit_matches("jarvis", "jarvis*"));
        assert!(unit_matches("wg-quick@*", "wg-quick@wg0"));
    }
}
