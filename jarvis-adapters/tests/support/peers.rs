//! Real peers for adapter and end-to-end tests: `sshd`, Prometheus, Alertmanager (Debian packages,
//! installed by `scripts/test-peers.sh` when missing) and a tiny metrics exporter.
//! Each peer listens on a free loopback port, keeps its state in a temp dir, and
//! is killed when dropped. A missing binary is a loud failure, never a skip.
//!
//! The end-to-end test (`tests/tests/e2e.rs`) includes this file too: Prometheus
//! can notify an Alertmanager, and Alertmanager takes its configuration (a
//! webhook receiver) from the caller.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use jarvis_adapters::ssh::SshHostConfig;

pub const SSHD: &str = "/usr/sbin/sshd";
pub const PROMETHEUS: &str = "/usr/bin/prometheus";
pub const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";
pub const TEST_USER: &str = "jarvis-ssh-test";

/// Makes sure the peer binaries exist, installing them through
/// `scripts/test-peers.sh` if needed; panics with the reason otherwise.
pub fn ensure_installed() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let all = [SSHD, PROMETHEUS, ALERTMANAGER];
        if all.iter().all(|b| Path::new(b).exists()) {
            return;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/test-peers.sh");
        let out = Command::new("sh")
            .arg(&script)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        let missing: Vec<_> = all.iter().filter(|b| !Path::new(b).exists()).collect();
        assert!(
            out.status.success() && missing.is_empty(),
            "test peers missing ({missing:?}); {} failed with {}:\n{}{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn is_root() -> bool {
    run(Command::new("id").arg("-u")).trim() == "0"
}

/// The user the SSH tests log in as: a throwaway account when root, else ourselves.
pub fn ssh_user() -> String {
    static USER: OnceLock<String> = OnceLock::new();
    USER.get_or_init(|| {
        if !is_root() {
            return run(Command::new("id").arg("-un")).trim().to_string();
        }
        let exists = |u: &str| {
            Command::new("id")
                .arg(u)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !exists(TEST_USER) {
            // Another test binary may race us; only the end state matters.
            let _ = Command::new("useradd")
                .args(["-m", "-s", "/bin/sh", TEST_USER])
                .output();
            assert!(exists(TEST_USER), "could not create user {TEST_USER}");
        }
        // With UsePAM no, sshd refuses accounts whose password is locked ("!").
        run(Command::new("usermod").args(["-p", "*", TEST_USER]));
        TEST_USER.to_string()
    })
    .clone()
}

/// A child process killed (and reaped) on drop.
pub struct Daemon {
    child: Option<Child>,
    pub log: PathBuf,
}

impl Daemon {
    fn spawn(cmd: &mut Command, log: PathBuf) -> Daemon {
        let file = std::fs::File::create(&log).expect("create daemon log");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("dup log"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        Daemon {
            child: Some(child),
            log,
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

fn temp_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("create temp dir")
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn keygen(path: &Path) {
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "jarvis-test", "-f"])
        .arg(path));
}

/// A real OpenSSH server on a loopback port, with its own host key and a client key.
pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub user: String,
    /// The client key authorised for `user`.
    pub client_key: PathBuf,
    /// The server's host public key line (`ssh-ed25519 AAAA… comment`).
    pub host_public_key: String,
    /// A directory everyone can write, for files commands create.
    pub scratch: PathBuf,
    daemon: Daemon,
}

impl Sshd {
    pub fn start() -> Sshd {
        Sshd::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Sshd {
        ensure_installed();
        let user = ssh_user();
        let dir = temp_dir("jarvis-sshd-");
        chmod(dir.path(), 0o755);
        let host_key = dir.path().join("host_ed25519");
        keygen(&host_key);
        let client_key = dir.path().join("client_ed25519");
        keygen(&client_key);
        let keys = dir.path().join(format!("{user}_keys"));
        std::fs::copy(client_key.with_extension("pub"), &keys).expect("write authorized keys");
        chmod(&keys, 0o644);
        let scratch = dir.path().join("scratch");
        std::fs::create_dir(&scratch).expect("scratch dir");
        chmod(&scratch, 0o777);
        if is_root() {
            std::fs::create_dir_all("/run/sshd").expect("create /run/sshd");
            chmod(Path::new("/run/sshd"), 0o755);
        }
        let config = dir.path().join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "ListenAddress 127.0.0.1\n\
                 Port {port}\n\
                 HostKey {host_key}\n\
                 AuthorizedKeysFile {dir}/%u_keys\n\
                 PasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\n\
                 PubkeyAuthentication yes\n\
                 StrictModes no\n\
                 UsePAM no\n\
                 PidFile {dir}/sshd.pid\n\
                 MaxSessions 20\n\
                 MaxStartups 50\n\
                 LogLevel VERBOSE\n",
                host_key = host_key.display(),
                dir = dir.path().display(),
            ),
        )
        .expect("write sshd_config");
        let daemon = Daemon::spawn(
            Command::new(SSHD).args(["-D", "-e", "-f"]).arg(&config),
            dir.path().join("sshd.log"),
        );
        let host_public_key = std::fs::read_to_string(host_key.with_extension("pub"))
            .expect("read host public key")
            .trim()
            .to_string();
        let mut sshd = Sshd {
            dir,
            port,
            user,
            client_key,
            host_public_key,
            scratch,
            daemon,
        };
        sshd.wait_ready();
        sshd
    }

    fn wait_ready(&mut self) {
        use std::io::Read;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.daemon.exited() {
                panic!("sshd exited with {status}:\n{}", self.daemon.log_text());
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut banner = [0u8; 8];
                if s.read_exact(&mut banner).is_ok() && banner.starts_with(b"SSH-") {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "sshd not ready on port {}:\n{}",
                self.port,
                self.daemon.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A host entry for this server with the host key pinned.
    pub fn host(&self, name: &str) -> SshHostConfig {
        let mut h = SshHostConfig::new(name, "127.0.0.1", self.port, &self.user, &self.client_key);
        h.pinned_keys = vec![self.host_public_key.clone()];
        h
    }

    pub fn log(&self) -> String {
        self.daemon.log_text()
    }

    /// TCP connections clients made, not counting the readiness probe.
    pub fn client_connections(&self) -> usize {
        self.log()
            .matches("Connection from")
            .count()
            .saturating_sub(1)
    }

    /// Also accepts `public_key_file` for `user` (read by sshd per connection).
    pub fn authorize(&self, public_key_file: &Path) {
        use std::io::Write;
        let key = std::fs::read_to_string(public_key_file).expect("read public key");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.path().join(format!("{}_keys", self.user)))
            .expect("open authorized keys");
        writeln!(f, "{}", key.trim()).expect("append authorized key");
    }

    pub fn stop(&mut self) {
        self.daemon.kill();
    }
}

/// A `/metrics` endpoint serving `demo_service_up{service="demo"} <value>`.
pub struct Exporter {
    pub addr: SocketAddr,
    value: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Exporter {
    pub async fn start(initial: f64) -> Exporter {
        let value = Arc::new(AtomicU64::new(initial.to_bits()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind exporter");
        let addr = listener.local_addr().expect("exporter addr");
        let shared = value.clone();
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let v = f64::from_bits(shared.load(Ordering::SeqCst));
                async move {
                    format!(
                        "# HELP demo_service_up Whether the demo service is up.\n\
                         # TYPE demo_service_up gauge\n\
                         demo_service_up{{service=\"demo\"}} {v}\n"
                    )
                }
            }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Exporter { addr, value, task }
    }

    pub fn set(&self, v: f64) {
        self.value.store(v.to_bits(), Ordering::SeqCst);
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn wait_http_ready(url: &str, daemon: &mut Daemon, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = daemon.exited() {
            panic!("{what} exited with {status}:\n{}", daemon.log_text());
        }
        if http_probe::get_ok(url) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} not ready at {url} within 60s:\n{}",
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A minimal blocking HTTP/1.0 GET that reports whether the answer was 200.
mod http_probe {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    pub fn get_ok(url: &str) -> bool {
        let Some(rest) = url.strip_prefix("http://") else {
            return false;
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let Ok(mut s) = TcpStream::connect(authority) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        if write!(s, "GET /{path} HTTP/1.0\r\nHost: {authority}\r\n\r\n").is_err() {
            return false;
        }
        let mut head = [0u8; 12];
        s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
    }
}

/// A real Prometheus scraping `target` every second, with `rules` loaded.
pub struct Prometheus {
    pub dir: tempfile::TempDir,
    pub port: u16,
    daemon: Daemon,
}

/// The rule file the Prometheus tests use.
pub const DEMO_RULES: &str = "groups:
  - name: jarvis-test
    interval: 1s
    rules:
      - alert: DemoServiceDown
        expr: demo_service_up == 0
        for: 0s
        labels:
          severity: critical
        annotations:
          summary: demo is down
";

impl Prometheus {
    pub fn start(target: SocketAddr) -> Prometheus {
        Prometheus::start_with(target, None)
    }

    /// Like [`Prometheus::start`], also sending alerts to the Alertmanager on `alertmanager_port`.
    pub fn start_with(target: SocketAddr, alertmanager_port: Option<u16>) -> Prometheus {
        ensure_installed();
        let dir = temp_dir("jarvis-prometheus-");
        let rules = dir.path().join("rules.yml");
        std::fs::write(&rules, DEMO_RULES).expect("write rules");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 rule_files:\n  - {rules}\n\
                 scrape_configs:\n  - job_name: demo\n    static_configs:\n      - targets: ['{target}']\n\
                 {alerting}",
                rules = rules.display(),
                alerting = alertmanager_port
                    .map(|port| format!(
                        "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{port}']\n"
                    ))
                    .unwrap_or_default(),
            ),
        )
        .expect("write prometheus.yml");
        let port = free_port();
        let mut daemon = Daemon::spawn(
            Command::new(PROMETHEUS)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--log.level=warn"),
            dir.path().join("prometheus.log"),
        );
        wait_http_ready(
            &format!("http://127.0.0.1:{port}/-/ready"),
            &mut daemon,
            "prometheus",
        );
        Prometheus { dir, port, daemon }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        self.daemon.log_text()
    }
}

/// A real Alertmanager with clustering off.
pub struct Alertmanager {
    pub dir: tempfile::TempDir,
    pub port: u16,
    daemon: Daemon,
}

impl Alertmanager {
    pub fn start() -> Alertmanager {
        Alertmanager::start_with("route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n")
    }

    /// An Alertmanager with this `alertmanager.yml`.
    pub fn start_with(config_yaml: &str) -> Alertmanager {
        ensure_installed();
        let dir = temp_dir("jarvis-alertmanager-");
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(&config, config_yaml).expect("write alertmanager.yml");
        let port = free_port();
        let mut daemon = Daemon::spawn(
            Command::new(ALERTMANAGER)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--cluster.listen-address=")
                .arg("--log.level=warn"),
            dir.path().join("alertmanager.log"),
        );
        wait_http_ready(
            &format!("http://127.0.0.1:{port}/-/ready"),
            &mut daemon,
            "alertmanager",
        );
        Alertmanager { dir, port, daemon }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        self.daemon.log_text()
    }
}

/// Serialises tests that must not overlap (none today; kept for peers that share state).
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Polls `f` every 100 ms until it returns `Some`, failing after `within`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
