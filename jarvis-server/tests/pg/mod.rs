//! A throwaway PostgreSQL database on 127.0.0.1:5432 (user postgres, trust
//! auth) and a TCP proxy in front of it that can cut the database off.
//! No PostgreSQL is a loud failure, never a skip.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

pub const UPSTREAM: &str = "127.0.0.1:5432";
const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database `jarvis_degraded_<uuid>`, dropped by [`TestDb::drop_db`] (or,
/// when a test panics first, when it goes out of scope).
pub struct TestDb {
    pub name: String,
    dropped: bool,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let name = std::mem::take(&mut self.name);
        // Not on the test's runtime, which may be gone or blocked by the panic.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = PgConnection::connect(ADMIN_URL).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await
                .ok()
            })
        })
        .join();
    }
}

impl TestDb {
    pub async fn create() -> TestDb {
        let name = format!("jarvis_degraded_{}", uuid::Uuid::now_v7().simple());
        let mut admin = admin().await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        TestDb {
            name,
            dropped: false,
        }
    }

    /// The URL through `proxy`.
    pub fn url_via(&self, proxy: SocketAddr) -> String {
        format!("postgres://postgres@{proxy}/{}", self.name)
    }

    /// A direct connection (not through the proxy).
    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&format!("postgres://postgres@{UPSTREAM}/{}", self.name))
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.name))
    }

    /// Alert names in the store, in arrival order, with how often each is stored.
    pub async fn alerts(&self) -> Vec<String> {
        let mut conn = self.connect().await;
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT alert_name FROM alerts ORDER BY received_at, id")
                .fetch_all(&mut conn)
                .await
                .unwrap_or_default();
        rows.into_iter().map(|(n,)| n).collect()
    }

    pub async fn drop_db(mut self) {
        let mut admin = admin().await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot drop database {}: {e}", self.name));
        self.dropped = true;
    }
}

async fn admin() -> PgConnection {
    PgConnection::connect(ADMIN_URL).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is required at {ADMIN_URL} (user postgres, trust auth): {e}")
    })
}

#[derive(Default)]
struct ProxyState {
    open: bool,
    live: Vec<AbortHandle>,
}

/// A TCP proxy to [`UPSTREAM`]. `cut` closes every live connection and closes
/// new ones right after accepting them; `restore` forwards again.
pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<Mutex<ProxyState>>,
    accept: AbortHandle,
}

impl Proxy {
    pub async fn start(open: bool) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(ProxyState {
            open,
            live: Vec::new(),
        }));
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                let mut st = shared.lock().unwrap();
                if !st.open {
                    drop(client);
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut upstream) = TcpStream::connect(UPSTREAM).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
                st.live.retain(|h| !h.is_finished());
                st.live.push(task.abort_handle());
            }
        })
        .abort_handle();
        Proxy {
            addr,
            state,
            accept,
        }
    }

    pub fn cut(&self) {
        let mut st = self.state.lock().unwrap();
        st.open = false;
        for h in st.live.drain(..) {
            h.abort();
        }
    }

    pub fn restore(&self) {
        self.state.lock().unwrap().open = true;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

/// Polls `check` every 100 ms until it returns `Some`, at most `limit`.
pub async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = check().await {
            eprintln!("[timing] {what}: {:?}", started.elapsed());
            return v;
        }
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A webhook body with one firing alert named `name` (its own fingerprint).
pub fn alert_payload(name: &str) -> Vec<u8> {
    let fingerprint = format!("{:016x}", fxhash(name));
    serde_json::json!({
        "version": "4", "status": "firing", "receiver": "jarvis",
        "groupKey": format!("{{}}:{{alertname=\"{name}\"}}"), "truncatedAlerts": 0,
        "groupLabels": {"alertname": name}, "commonLabels": {"alertname": name},
        "commonAnnotations": {}, "externalURL": "http://alertmanager",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": name, "host": "127.0.0.1", "service": "demo", "severity": "warning"},
            "annotations": {"summary": format!("{name} is firing")},
            "startsAt": "2027-01-15T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": fingerprint,
        }],
    })
    .to_string()
    .into_bytes()
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
