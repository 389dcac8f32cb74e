//! The SSH executor against a real OpenSSH `sshd` on a loopback port.

#[path = "support/peers.rs"]
mod peers;

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jarvis_adapters::ssh::{SshConfig, SshError, SshExecutor, SshHostConfig};
use jarvis_core::domain::{Action, HostStatus, Step};
use jarvis_core::error::ExecError;
use jarvis_core::ports::Executor;
use jarvis_core::safety::SafetyPolicy;
use peers::{Sshd, free_port};

fn config(hosts: Vec<SshHostConfig>) -> SshConfig {
    SshConfig {
        hosts,
        connect_timeout_secs: 5,
        connect_backoff_millis: 50,
        ..SshConfig::default()
    }
}

fn executor(hosts: Vec<SshHostConfig>) -> SshExecutor {
    SshExecutor::new(config(hosts)).expect("valid ssh config")
}

fn validated(step: Step) -> jarvis_core::safety::ValidatedStep {
    SafetyPolicy::permissive_defaults()
        .validate(step)
        .unwrap_or_else(|v| panic!("test step refused by the safety policy: {v:?}"))
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[tokio::test]
async fn runs_a_validated_step_and_captures_stdout() {
    let sshd = Sshd::start();
    let exec = executor(vec![sshd.host("box")]);
    let result = exec
        .execute(&validated(Step::shell("box", "echo hi")))
        .await
        .unwrap_or_else(|e| panic!("{e}\nsshd log:\n{}", sshd.log()));
    assert_eq!(result.exit_code, Some(0));
    assert_eq!(result.stdout, "hi\n");
    assert_eq!(result.stderr, "");
    assert!(result.succeeded());
    assert!(!result.truncated && !result.timed_out && !result.dry_run);
}

#[tokio::test]
async fn non_zero_exit_is_ok_with_its_code_and_stderr() {
    let sshd = Sshd::start();
    let exec = executor(vec![sshd.host("box")]);
    let out = exec
        .run("box", "echo out; echo 'it'\\''s bad' >&2; exit 3", None)
        .await
        .unwrap();
    assert_eq!(out.exit_code, Some(3));
    assert_eq!(out.stdout, "out\n");
    assert_eq!(
        out.stderr, "it's bad\n",
        "the pgid marker must not leak into stderr"
    );
    assert!(!out.timed_out);
}

#[tokio::test]
async fn timeout_kills_the_remote_process_and_its_children() {
    let sshd = Sshd::start();
    let exec = executor(vec![sshd.host("box")]);
    let dir = sshd.scratch.display();
    let started = Instant::now();
    let out = exec
        .run(
            "box",
            &format!("echo $$ > {dir}/sh.pid; sleep 61 & echo $! > {dir}/sleep.pid; wait"),
            Some(Duration::from_secs(2)),
        )
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(out.timed_out, "{out:?}");
    assert_eq!(out.exit_code, None);
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "{took:?}"
    );

    // A process is gone when /proc has no entry for it, or only a zombie.
    let check = format!(
        "for f in sh sleep; do pid=$(cat {dir}/$f.pid); \
           state=$(cut -d' ' -f3 /proc/$pid/stat 2>/dev/null); \
           if [ -z \"$state\" ] || [ \"$state\" = Z ]; then echo $f gone; else echo $f alive $state; fi; \
         done"
    );
    let mut last = String::new();
    for _ in 0..20 {
        last = exec.run("box", &check, None).await.unwrap().stdout;
        if last == "sh gone\nsleep gone\n" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("remote processes survived the timeout: {last}");
}

#[tokio::test]
async fn a_background_child_holding_stdout_does_not_turn_an_exit_into_a_timeout() {
    let sshd = Sshd::start();
    let exec = executor(vec![sshd.host("box")]);
    let started = Instant::now();
    let out = exec
        .run(
            "box",
            "sleep 8 & echo started",
            Some(Duration::from_secs(20)),
        )
        .await
        .unwrap();
    assert_eq!(out.exit_code, Some(0), "{out:?}");
    assert!(!out.timed_out);
    assert_eq!(out.stdout, "started\n");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn large_output_is_capped_and_marked_truncated() {
    let sshd = Sshd::start();
    let exec = SshExecutor::new(SshConfig {
        output_cap_bytes: 1024,
        ..config(vec![sshd.host("box")])
    })
    .unwrap();
    let out = exec
        .run(
            "box",
            "head -c 300000 /dev/zero | tr '\\0' a; echo small >&2",
            None,
        )
        .await
        .unwrap();
    assert_eq!(out.exit_code, Some(0), "the command ran to completion");
    assert_eq!(out.stdout.len(), 1024);
    assert!(out.stdout.bytes().all(|b| b == b'a'));
    assert_eq!(out.stderr, "small\n");
    assert!(out.truncated);
}

#[tokio::test]
async fn the_session_is_pooled_and_concurrency_is_limited_per_host() {
    let sshd = Sshd::start();
    let mut host = sshd.host("box");
    host.max_concurrent = 2;
    let exec = Arc::new(executor(vec![host]));
    exec.run("box", "true", None).await.unwrap();
    let started = Instant::now();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let exec = exec.clone();
            tokio::spawn(async move { exec.run("box", "sleep 0.5", None).await })
        })
        .collect();
    for run in runs {
        assert_eq!(run.await.unwrap().unwrap().exit_code, Some(0));
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1000),
        "4 commands of 0.5 s, 2 at a time, took {took:?}"
    );
    let log = sshd.log();
    assert_eq!(
        count(&log, "Accepted publickey"),
        1,
        "one authenticated session for five commands:\n{log}"
    );
}

#[tokio::test]
async fn wrong_client_key_is_an_auth_error_and_not_retried() {
    let sshd = Sshd::start();
    let other = sshd.dir.path().join("stranger_ed25519");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .unwrap();
    assert!(status.success());
    let mut host = sshd.host("box");
    host.key_file = other;
    let exec = executor(vec![host]);
    let err = exec.run("box", "true", None).await.unwrap_err();
    assert!(
        matches!(err, SshError::AuthRejected { .. }),
        "{err:?}\n{}",
        sshd.log()
    );
    assert!(!err.is_connection());
    assert_eq!(sshd.client_connections(), 1, "no retry:\n{}", sshd.log());
    assert!(
        exec.is_online("box"),
        "auth failures do not make a host offline"
    );
    match ExecError::from(err) {
        ExecError::Failed(msg) => assert!(msg.contains("refused public key"), "{msg}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn unknown_host_key_is_refused_without_trust_on_first_use() {
    let sshd = Sshd::start();
    let known = sshd.dir.path().join("known_hosts");
    std::fs::write(&known, "").unwrap();
    let mut host = sshd.host("box");
    host.pinned_keys.clear();
    host.known_hosts = Some(known.clone());
    let exec = executor(vec![host]);
    let err = exec
        .execute(&validated(Step::shell("box", "echo hi")))
        .await
        .unwrap_err();
    match &err {
        ExecError::Failed(msg) => assert!(msg.contains("unknown host key SHA256:"), "{msg}"),
        other => panic!("{other:?}"),
    }
    assert!(!err.is_connection());
    assert_eq!(std::fs::read_to_string(&known).unwrap(), "");
    assert_eq!(
        sshd.client_connections(),
        1,
        "a refused host key is not retried:\n{}",
        sshd.log()
    );
}

#[tokio::test]
async fn trust_on_first_use_records_the_key_and_pins_it_thereafter() {
    let sshd = Sshd::start();
    let known = sshd.dir.path().join("tofu").join("known_hosts");
    let mut host = sshd.host("box");
    host.pinned_keys.clear();
    host.known_hosts = Some(known.clone());
    host.trust_on_first_use = true;
    let exec = executor(vec![host.clone()]);
    let out = exec.run("box", "echo first", None).await.unwrap();
    assert_eq!(out.stdout, "first\n");

    let recorded = std::fs::read_to_string(&known).unwrap().trim().to_string();
    let key_b64 = sshd.host_public_key.split_whitespace().nth(1).unwrap();
    assert_eq!(count(&recorded, key_b64), 1, "{recorded}");
    assert!(
        recorded.starts_with(&format!("[127.0.0.1]:{} ssh-ed25519 ", sshd.port)),
        "{recorded}"
    );

    // Pinned thereafter: TOFU off, the recorded key is accepted...
    host.trust_on_first_use = false;
    let exec = executor(vec![host.clone()]);
    assert_eq!(
        exec.run("box", "echo again", None).await.unwrap().stdout,
        "again\n"
    );

    // ...and a server with another key under that name is refused, even with TOFU on.
    let impostor = Sshd::start();
    let line = recorded.trim().replace(
        &format!("[127.0.0.1]:{}", sshd.port),
        &format!("[127.0.0.1]:{}", impostor.port),
    );
    let known2 = impostor.dir.path().join("known_hosts");
    std::fs::write(&known2, format!("{line}\n")).unwrap();
    let mut host2 = impostor.host("box");
    host2.pinned_keys.clear();
    host2.known_hosts = Some(known2.clone());
    host2.trust_on_first_use = true;
    let err = executor(vec![host2])
        .run("box", "true", None)
        .await
        .unwrap_err();
    assert!(matches!(err, SshError::HostKeyChanged { .. }), "{err:?}");
    assert_eq!(
        std::fs::read_to_string(&known2).unwrap(),
        format!("{line}\n"),
        "a changed key is never recorded"
    );
}

#[tokio::test]
async fn connection_errors_are_retried_three_times_then_unreachable() {
    // Accepts and drops every connection: a connection error each time, counted.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    let sshd = Sshd::start(); // only for a valid client key
    let mut host = SshHostConfig::new("flaky", "127.0.0.1", port, &sshd.user, &sshd.client_key);
    host.trust_on_first_use = true;
    let exec = executor(vec![host]);
    let err = exec
        .execute(&validated(Step::shell("flaky", "echo hi")))
        .await
        .unwrap_err();
    assert!(err.is_connection(), "{err:?}");
    assert!(matches!(err, ExecError::Unreachable { ref host, .. } if host == "flaky"));
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        3,
        "three connection attempts"
    );
}

#[tokio::test]
async fn host_down_goes_offline_after_three_failures_and_online_after_a_probe() {
    let port = free_port(); // nothing listens here yet
    let sshd_for_key = Sshd::start();
    let mut host = SshHostConfig::new(
        "down",
        "127.0.0.1",
        port,
        &sshd_for_key.user,
        &sshd_for_key.client_key,
    );
    host.trust_on_first_use = true;
    let changes: Arc<Mutex<Vec<HostStatus>>> = Arc::default();
    let sink = changes.clone();
    let exec = SshExecutor::new(SshConfig {
        probe_interval_secs: 0,
        ..config(vec![host])
    })
    .unwrap()
    .with_status_sink(Arc::new(move |s| sink.lock().unwrap().push(s)));

    for attempt in 1..=3 {
        let err = exec.run("down", "true", None).await.unwrap_err();
        assert!(
            matches!(err, SshError::Connect { .. }),
            "attempt {attempt}: {err:?}"
        );
        let expect_offline = attempt == 3;
        assert_eq!(exec.is_online("down"), !expect_offline, "after {attempt}");
    }
    {
        let changes = changes.lock().unwrap();
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert!(!changes[0].online);
        assert_eq!(changes[0].host, "down");
    }
    // Offline: commands fail fast without connecting.
    let started = Instant::now();
    let err = exec.run("down", "true", None).await.unwrap_err();
    assert!(matches!(err, SshError::Offline { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(50));
    assert!(ExecError::from(err).is_connection());

    // Still down: a probe changes nothing.
    assert!(exec.probe_all().await.is_empty());

    // The host comes back; the periodic probe brings it online and reports it.
    let sshd = Sshd::start_on(port);
    sshd.authorize(&sshd_for_key.client_key.with_extension("pub"));
    let back = exec.probe_all().await;
    assert_eq!(back.len(), 1, "{back:?}\n{}", sshd.log());
    assert!(back[0].online);
    assert!(exec.is_online("down"));
    {
        let changes = changes.lock().unwrap();
        assert_eq!(changes.len(), 2);
        assert!(changes[1].online);
    }
    let out = exec.run("down", "echo back", None).await.unwrap();
    assert_eq!(out.stdout, "back\n");
}

#[tokio::test]
async fn other_actions_are_unsupported_and_unknown_hosts_rejected() {
    let exec = SshExecutor::new(SshConfig::default()).unwrap();
    let step = validated(Step::new(Action::Wait {
        duration: Duration::from_secs(1),
    }));
    assert!(matches!(
        exec.execute(&step).await,
        Err(ExecError::Unsupported { kind: "wait" })
    ));
    let step = validated(Step::shell("nowhere", "echo hi"));
    assert!(matches!(
        exec.execute(&step).await,
        Err(ExecError::UnknownHost(h)) if h == "nowhere"
    ));
}
