//! [`SshExecutor`]: runs validated shell steps on configured hosts over SSH.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use chrono::Utc;
use jarvis_core::domain::{Action, Host, HostStatus, StepResult};
use jarvis_core::error::ExecError;
use jarvis_core::ports::Executor;
use jarvis_core::safety::ValidatedStep;
use russh::client;
use russh::keys::{PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate, load_secret_key};
use russh::{ChannelMsg, Sig};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tracing::instrument;

use super::config::{MAX_COMMAND_TIMEOUT_SECS, SshConfig, SshHostConfig};
use super::error::{SshError, error_chain};
use super::host_key::HostKeyPolicy;
use super::tracker::HostTracker;

/// Receives every change in a host's availability (to notify and store it).
pub type StatusSink = Arc<dyn Fn(HostStatus) + Send + Sync>;

/// The marker line the command wrapper prints on stderr, carrying the remote
/// process group id so a timed-out command can be killed with all its children.
const PGID_MARKER: &str = "JARVIS_PGID=";

/// How long output is still read after the command exited (background children
/// that inherited stdout can keep the channel open).
const EXIT_DRAIN: Duration = Duration::from_secs(2);

/// Bound on the clean-up after a timeout (signal, group kill, close).
const KILL_GRACE: Duration = Duration::from_secs(5);

/// Runs [`Action::Shell`] steps over SSH.
///
/// One authenticated session per host is pooled and reused; each command gets
/// its own channel. Connection failures are retried (`connect_tries`, exponential
/// backoff); once the exec request is sent nothing is retried. A timed-out command
/// is killed together with its process group. Host availability is tracked: a host
/// goes offline after `offline_after_failures` consecutive connection failures
/// (commands then fail fast) and comes back on the first successful connection,
/// which [`SshExecutor::probe_all`] attempts every `probe_interval_secs`.
pub struct SshExecutor {
    config: SshConfig,
    hosts: BTreeMap<String, Arc<HostEntry>>,
    russh: Arc<client::Config>,
    tracker: Mutex<HostTracker>,
    sink: Option<StatusSink>,
}

struct HostEntry {
    cfg: SshHostConfig,
    policy: Arc<HostKeyPolicy>,
    permits: Semaphore,
    pool: tokio::sync::Mutex<Option<Pooled>>,
}

struct Pooled {
    handle: Arc<client::Handle<ClientHandler>>,
    last_used: Instant,
}

impl fmt::Debug for SshExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshExecutor")
            .field("hosts", &self.hosts.keys().collect::<Vec<_>>())
            .field("status_sink", &self.sink.is_some())
            .finish_non_exhaustive()
    }
}

/// The result of one command, before it becomes a [`StepResult`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandOutput {
    pub exit_code: Option<i32>,
    /// The signal that ended the command, if any (e.g. `KILL`).
    pub exit_signal: Option<String>,
    pub stdout: String,
    pub stderr: String,
    pub truncated: bool,
    pub timed_out: bool,
    pub duration: Duration,
}

impl From<CommandOutput> for StepResult {
    fn from(o: CommandOutput) -> Self {
        StepResult {
            exit_code: o.exit_code,
            stdout: o.stdout,
            stderr: o.stderr,
            duration: o.duration,
            truncated: o.truncated,
            timed_out: o.timed_out,
            dry_run: false,
        }
    }
}

impl SshExecutor {
    /// Builds the executor. Fails on an invalid config (see [`SshConfig::validate`])
    /// or an unparsable pinned key. Private keys are read at connection time.
    pub fn new(config: SshConfig) -> Result<Self, SshError> {
        let issues = config.validate();
        if !issues.is_empty() {
            return Err(SshError::Config(issues.join("; ")));
        }
        let mut hosts = BTreeMap::new();
        for host in &config.hosts {
            let entry = HostEntry {
                policy: Arc::new(HostKeyPolicy::new(host)?),
                permits: Semaphore::new(host.max_concurrent),
                pool: tokio::sync::Mutex::new(None),
                cfg: host.clone(),
            };
            hosts.insert(host.name.clone(), Arc::new(entry));
        }
        let russh = client::Config {
            inactivity_timeout: Some(config.idle_timeout()).filter(|d| !d.is_zero()),
            nodelay: true,
            ..client::Config::default()
        };
        let tracker = HostTracker::new(config.offline_after_failures, config.probe_interval());
        Ok(SshExecutor {
            config,
            hosts,
            russh: Arc::new(russh),
            tracker: Mutex::new(tracker),
            sink: None,
        })
    }

    /// Reports every availability change to `sink` as well as returning it.
    pub fn with_status_sink(mut self, sink: StatusSink) -> Self {
        self.sink = Some(sink);
        self
    }

    /// The configured host names.
    pub fn host_names(&self) -> impl Iterator<Item = &str> {
        self.hosts.keys().map(String::as_str)
    }

    /// The configured hosts as the planner sees them.
    pub fn hosts(&self) -> Vec<Host> {
        self.hosts
            .values()
            .map(|h| Host {
                name: h.cfg.name.clone(),
                address: h.cfg.address.clone(),
                port: h.cfg.port,
                user: h.cfg.user.clone(),
                role: None,
                tags: Vec::new(),
            })
            .collect()
    }

    /// Whether a host is currently considered online.
    pub fn is_online(&self, host: &str) -> bool {
        self.tracker().is_online(host)
    }

    /// Runs `command` on `host`, waiting at most `timeout` (the host's or the
    /// default timeout when `None`). A non-zero exit is `Ok`.
    #[instrument(skip_all, fields(host = %host))]
    pub async fn run(
        &self,
        host: &str,
        command: &str,
        timeout: Option<Duration>,
    ) -> Result<CommandOutput, SshError> {
        let entry = self
            .hosts
            .get(host)
            .ok_or_else(|| SshError::UnknownHost(host.to_string()))?;
        {
            let tracker = self.tracker();
            if !tracker.is_online(host) {
                return Err(SshError::Offline {
                    host: host.to_string(),
                    failures: tracker.consecutive_failures(host),
                });
            }
        }
        let timeout = self.command_timeout(entry, timeout);
        let _permit = entry
            .permits
            .acquire()
            .await
            .map_err(|_| SshError::Config(format!("host {host}: executor shut down")))?;
        let (handle, channel) = self.open_channel(entry).await?;
        run_on_channel(
            &handle,
            channel,
            host,
            command,
            timeout,
            self.config.output_cap_bytes,
        )
        .await
    }

    /// Probes every offline host whose probe is due, returning (and reporting)
    /// the availability changes. The server's loop calls this periodically.
    #[instrument(skip_all)]
    pub async fn probe_all(&self) -> Vec<HostStatus> {
        let due = self.tracker().due_for_probe(Instant::now());
        let mut changes = Vec::new();
        for host in due {
            if let Some(change) = self.probe(&host).await {
                changes.push(change);
            }
        }
        changes
    }

    /// Tries to connect to one host now, whatever its state. Returns the
    /// availability change, if any.
    #[instrument(skip_all, fields(host = %host))]
    pub async fn probe(&self, host: &str) -> Option<HostStatus> {
        let entry = self.hosts.get(host)?;
        let (result, change) = self.session_tracked(entry, true).await;
        match result {
            Ok(_) => tracing::debug!("probe succeeded"),
            Err(e) => tracing::debug!(error = %error_chain(&e), "probe failed"),
        }
        change
    }

    fn tracker(&self) -> std::sync::MutexGuard<'_, HostTracker> {
        self.tracker.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn command_timeout(&self, entry: &HostEntry, step: Option<Duration>) -> Duration {
        let secs = entry
            .cfg
            .command_timeout_secs
            .unwrap_or(self.config.default_command_timeout_secs);
        step.unwrap_or(Duration::from_secs(secs))
            .min(Duration::from_secs(MAX_COMMAND_TIMEOUT_SECS))
    }

    /// A channel on a pooled (or new) session. A pooled session that fails to
    /// open a channel is replaced once; nothing has run at this point.
    async fn open_channel(
        &self,
        entry: &HostEntry,
    ) -> Result<
        (
            Arc<client::Handle<ClientHandler>>,
            russh::Channel<client::Msg>,
        ),
        SshError,
    > {
        let host = &entry.cfg.name;
        let handle = self.session(entry, false).await?;
        match handle.channel_open_session().await {
            Ok(channel) => Ok((handle, channel)),
            Err(e) => {
                tracing::debug!(error = %e, "pooled session failed to open a channel; reconnecting");
                *entry.pool.lock().await = None;
                let handle = self.session(entry, false).await?;
                let channel =
                    handle
                        .channel_open_session()
                        .await
                        .map_err(|source| SshError::Transport {
                            host: host.clone(),
                            source: Box::new(source),
                        })?;
                Ok((handle, channel))
            }
        }
    }

    /// The pooled session, or a new one (with retries on connection errors).
    async fn session(
        &self,
        entry: &HostEntry,
        fresh: bool,
    ) -> Result<Arc<client::Handle<ClientHandler>>, SshError> {
        self.session_tracked(entry, fresh).await.0
    }

    /// [`Self::session`], also returning the availability change it caused
    /// (already reported). Connection outcomes feed the host tracker.
    async fn session_tracked(
        &self,
        entry: &HostEntry,
        fresh: bool,
    ) -> (
        Result<Arc<client::Handle<ClientHandler>>, SshError>,
        Option<HostStatus>,
    ) {
        let host = entry.cfg.name.as_str();
        let mut pool = entry.pool.lock().await;
        if !fresh && let Some(pooled) = pool.as_mut() {
            let idle = pooled.last_used.elapsed();
            if !pooled.handle.is_closed() && idle < self.config.idle_timeout() {
                pooled.last_used = Instant::now();
                return (Ok(pooled.handle.clone()), None);
            }
            tracing::debug!(idle_ms = idle.as_millis() as u64, "dropping stale session");
        }
        if let Some(old) = pool.take() {
            let _ = old
                .handle
                .disconnect(russh::Disconnect::ByApplication, "idle", "en")
                .await;
        }
        let tries = self.config.connect_tries.max(1);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(self.config.connect_backoff_millis))
            .with_factor(2.0)
            .with_max_times(tries as usize - 1);
        let result = (|| self.connect_once(entry))
            .retry(backoff)
            .when(SshError::is_connection)
            .notify(|e, delay| {
                tracing::warn!(error = %error_chain(e), retry_in_ms = delay.as_millis() as u64, "ssh connection failed; retrying");
            })
            .await;
        match result {
            Ok(handle) => {
                let handle = Arc::new(handle);
                *pool = Some(Pooled {
                    handle: handle.clone(),
                    last_used: Instant::now(),
                });
                drop(pool);
                let change = self
                    .tracker()
                    .record_success(host, Instant::now(), Utc::now());
                self.report(change.clone());
                (Ok(handle), change)
            }
            Err(e) => {
                drop(pool);
                let mut change = None;
                if e.is_connection() {
                    let reason = error_chain(&e);
                    change =
                        self.tracker()
                            .record_failure(host, &reason, Instant::now(), Utc::now());
                    self.report(change.clone());
                }
                (Err(e), change)
            }
        }
    }

    fn report(&self, change: Option<HostStatus>) {
        if let Some(change) = change {
            tracing::warn!(host = %change.host, online = change.online, reason = %change.reason, "host availability changed");
            if let Some(sink) = &self.sink {
                sink(change);
            }
        }
    }

    /// One connection attempt: TCP, key exchange, host key check, authentication.
    async fn connect_once(
        &self,
        entry: &HostEntry,
    ) -> Result<client::Handle<ClientHandler>, SshError> {
        let cfg = &entry.cfg;
        let host = cfg.name.as_str();
        let key = load_secret_key(&cfg.key_file, None).map_err(|source| SshError::ClientKey {
            path: cfg.key_file.clone(),
            source: Box::new(source),
        })?;
        let attempt = async {
            let stream = tokio::net::TcpStream::connect((cfg.address.as_str(), cfg.port))
                .await
                .map_err(|source| SshError::Connect {
                    host: host.to_string(),
                    source,
                })?;
            let _ = stream.set_nodelay(true);
            let handler = ClientHandler {
                policy: entry.policy.clone(),
            };
            let mut handle = client::connect_stream(self.russh.clone(), stream, handler)
                .await
                .map_err(|e| e.with_host(host))?;
            let hash_alg = if key.algorithm().is_rsa() {
                handle
                    .best_supported_rsa_hash()
                    .await
                    .map_err(|source| SshError::Transport {
                        host: host.to_string(),
                        source: Box::new(source),
                    })?
                    .flatten()
            } else {
                None
            };
            let auth = handle
                .authenticate_publickey(
                    cfg.user.clone(),
                    PrivateKeyWithHashAlg::new(Arc::new(key), hash_alg),
                )
                .await
                .map_err(|source| SshError::Transport {
                    host: host.to_string(),
                    source: Box::new(source),
                })?;
            if !auth.success() {
                return Err(SshError::AuthRejected {
                    host: host.to_string(),
                    user: cfg.user.clone(),
                });
            }
            Ok(handle)
        };
        tokio::time::timeout(self.config.connect_timeout(), attempt)
            .await
            .map_err(|_| SshError::ConnectTimeout {
                host: host.to_string(),
                secs: self.config.connect_timeout_secs,
            })?
    }
}

#[async_trait]
impl Executor for SshExecutor {
    async fn execute(&self, step: &ValidatedStep) -> Result<StepResult, ExecError> {
        match &step.step().action {
            Action::Shell {
                host,
                command,
                timeout,
            } => {
                let out = self
                    .run(host, command, *timeout)
                    .await
                    .map_err(ExecError::from)?;
                Ok(out.into())
            }
            other => Err(ExecError::Unsupported { kind: other.kind() }),
        }
    }
}

/// Checks the server's host key against the host's policy.
struct ClientHandler {
    policy: Arc<HostKeyPolicy>,
}

impl client::Handler for ClientHandler {
    type Error = SshError;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match server_public_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            // The certificate's own key is checked like a plain key; CAs are not trusted.
            PublicKeyOrCertificate::Certificate(cert) => {
                PublicKey::new(cert.public_key().clone(), "")
            }
        };
        self.policy.check(&key).map(|()| true)
    }
}

/// Wraps a command so the remote shell first reports its process group (the
/// no-pty session leader sshd created) on stderr, then runs the command under `sh`.
fn wrap_command(command: &str) -> String {
    let quoted = command.replace('\'', r"'\''");
    format!("printf '{PGID_MARKER}%s\\n' \"$$\" >&2; exec sh -c '{quoted}'")
}

/// Output of one stream, capped.
struct Capture {
    buf: Vec<u8>,
    cap: usize,
    truncated: bool,
}

impl Capture {
    fn new(cap: usize) -> Self {
        Capture {
            buf: Vec::new(),
            cap,
            truncated: false,
        }
    }

    fn push(&mut self, data: &[u8]) {
        let room = self.cap.saturating_sub(self.buf.len());
        if data.len() > room {
            self.truncated = true;
        }
        self.buf.extend_from_slice(&data[..data.len().min(room)]);
    }

    fn into_string(self) -> String {
        let mut buf = self.buf;
        if self.truncated
            && let Err(e) = std::str::from_utf8(&buf)
            && e.error_len().is_none()
        {
            // A multi-byte character cut by the cap.
            buf.truncate(e.valid_up_to());
        }
        String::from_utf8_lossy(&buf).into_owned()
    }
}

/// Stderr with the wrapper's marker line taken off the front.
struct StderrCapture {
    head: Option<Vec<u8>>,
    pgid: Option<u32>,
    capture: Capture,
}

impl StderrCapture {
    fn push(&mut self, data: &[u8]) {
        let Some(head) = self.head.as_mut() else {
            self.capture.push(data);
            return;
        };
        head.extend_from_slice(data);
        if let Some(nl) = head.iter().position(|&b| b == b'\n') {
            let head = self.head.take().unwrap_or_default();
            let line = String::from_utf8_lossy(&head[..nl]);
            match line
                .strip_prefix(PGID_MARKER)
                .and_then(|p| p.trim().parse().ok())
            {
                Some(pgid) => {
                    self.pgid = Some(pgid);
                    self.capture.push(&head[nl + 1..]);
                }
                None => self.capture.push(&head),
            }
        } else if head.len() > 64 {
            let head = self.head.take().unwrap_or_default();
            self.capture.push(&head);
        }
    }
}

async fn run_on_channel(
    handle: &client::Handle<ClientHandler>,
    mut channel: russh::Channel<client::Msg>,
    host: &str,
    command: &str,
    timeout: Duration,
    cap: usize,
) -> Result<CommandOutput, SshError> {
    let started = Instant::now();
    let deadline = started + timeout;
    // From here on the command may run: errors are never retried.
    channel
        .exec(true, wrap_command(command))
        .await
        .map_err(|source| SshError::Exec {
            host: host.to_string(),
            source: Box::new(source),
        })?;
    let mut stdout = Capture::new(cap);
    let mut stderr = StderrCapture {
        head: Some(Vec::new()),
        pgid: None,
        capture: Capture::new(cap),
    };
    let mut exit_code = None;
    let mut exit_signal = None;
    let mut timed_out = false;
    // Once the command exited, a background child still holding its output open
    // gets a short grace, then is left alone: the command itself has finished.
    let mut drain_until: Option<Instant> = None;
    loop {
        let wake = drain_until.map_or(deadline, |d| d.min(deadline));
        let msg = tokio::select! {
            msg = channel.wait() => msg,
            () = tokio::time::sleep_until(wake) => {
                timed_out = exit_code.is_none();
                break;
            }
        };
        match msg {
            None | Some(ChannelMsg::Close) => break,
            Some(ChannelMsg::Data { data }) => stdout.push(&data),
            Some(ChannelMsg::ExtendedData { data, ext: 1 }) => stderr.push(&data),
            Some(ChannelMsg::ExitStatus { exit_status }) => {
                exit_code = Some(i32::try_from(exit_status).unwrap_or(i32::MAX));
                drain_until = Some(Instant::now() + EXIT_DRAIN);
            }
            Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                exit_signal = Some(format!("{signal_name:?}"));
            }
            Some(ChannelMsg::Failure) if exit_code.is_none() => {
                return Err(SshError::Exec {
                    host: host.to_string(),
                    source: Box::new(russh::Error::RequestDenied),
                });
            }
            Some(_) => {}
        }
    }
    if timed_out {
        tracing::warn!(
            timeout_s = timeout.as_secs_f64(),
            "command timed out; killing it"
        );
        kill_remote(handle, &channel, stderr.pgid).await;
        exit_code = None;
    }
    let _ = channel.close().await;
    if let Some(head) = stderr.head.take() {
        stderr.capture.push(&head);
    }
    let truncated = stdout.truncated || stderr.capture.truncated;
    Ok(CommandOutput {
        exit_code,
        exit_signal,
        stdout: stdout.into_string(),
        stderr: stderr.capture.into_string(),
        truncated,
        timed_out,
        duration: started.elapsed(),
    })
}

/// Ends a timed-out command: a KILL signal on its channel (for servers that
/// honour it) and `kill -KILL -<pgid>` on a second channel, which also reaches
/// the command's children.
async fn kill_remote(
    handle: &client::Handle<ClientHandler>,
    channel: &russh::Channel<client::Msg>,
    pgid: Option<u32>,
) {
    let _ = tokio::time::timeout(KILL_GRACE, channel.signal(Sig::KILL)).await;
    let Some(pgid) = pgid else {
        tracing::warn!("remote process group unknown; relying on the channel signal");
        return;
    };
    let kill = async {
        let mut killer = handle.channel_open_session().await?;
        killer
            .exec(
                true,
                format!("kill -KILL -- -{pgid} 2>/dev/null; kill -KILL {pgid} 2>/dev/null; true"),
            )
            .await?;
        while let Some(msg) = killer.wait().await {
            if matches!(msg, ChannelMsg::Close) {
                break;
            }
        }
        Ok::<(), russh::Error>(())
    };
    match tokio::time::timeout(KILL_GRACE, kill).await {
        Ok(Ok(())) => tracing::debug!(pgid, "killed remote process group"),
        Ok(Err(e)) => tracing::warn!(pgid, error = %e, "could not kill remote process group"),
        Err(_) => tracing::warn!(pgid, "killing remote process group timed out"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_caps_and_cuts_at_a_char_boundary() {
        let mut c = Capture::new(5);
        c.push("abcé".as_bytes()); // 5 bytes
        c.push(b"x");
        assert!(c.truncated);
        assert_eq!(c.into_string(), "abcé");
        let mut c = Capture::new(4);
        c.push("abcé".as_bytes());
        assert_eq!(c.into_string(), "abc");
    }

    #[test]
    fn stderr_marker_is_parsed_and_removed_even_when_split() {
        let mut s = StderrCapture {
            head: Some(Vec::new()),
            pgid: None,
            capture: Capture::new(100),
        };
        s.push(b"JARVIS_PG");
        s.push(b"ID=4242\nboom\n");
        assert_eq!(s.pgid, Some(4242));
        assert_eq!(s.capture.into_string(), "boom\n");
    }

    #[test]
    fn wrapper_quotes_single_quotes() {
        assert_eq!(
            wrap_command("echo 'a b'"),
            r#"printf 'JARVIS_PGID=%s\n' "$$" >&2; exec sh -c 'echo '\''a b'\'''"#
        );
    }
}
