//! [`Spool`]: the append-only file webhook batches wait in while the store is down.
//!
//! Layout in the data directory:
//!
//! ```text
//! spool.jsonl       one JSON record per webhook batch: {seq, received_at, alerts, raw}
//! spool.committed   the highest seq already ingested by the store (decimal)
//! ```
//!
//! An append is `write` + `sync_data` before it returns, so a batch the webhook
//! acknowledged survives `kill -9` and power loss. Draining never rewrites a
//! record: it stores the records, then moves `spool.committed` forward (write a
//! temporary file, sync, rename, sync the directory), and only once every record
//! is committed truncates `spool.jsonl`. A crash at any point leaves either
//! records that are still pending (ingested again, which is idempotent) or
//! records at or below the committed seq (skipped at the next open). A torn last
//! line (a crash in the middle of an append that was never acknowledged) is cut
//! off when the spool is opened.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tracing::warn;

/// The spool file's name in the data directory.
pub const SPOOL_FILE: &str = "spool.jsonl";
/// The name of the file holding the highest drained seq.
pub const COMMITTED_FILE: &str = "spool.committed";
/// How many alerts the spool holds by default (`database.spool_max_alerts`).
pub const DEFAULT_MAX_ALERTS: usize = 500;

/// Errors of the spool.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// Adding the batch would exceed the bound: the sender should retry later.
    #[error("the spool is full: {depth} of {capacity} alerts waiting, {alerts} more refused")]
    Full {
        depth: usize,
        capacity: usize,
        alerts: usize,
    },
    #[error("spool i/o failed while {doing} ({path})")]
    Io {
        doing: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("spool file {path} is corrupt: {reason}")]
    Corrupt { path: String, reason: String },
}

/// One spooled webhook batch, as read back for draining.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpooledBatch {
    /// Position in the spool; increases by one per record, never reused.
    pub seq: u64,
    pub received_at: DateTime<Utc>,
    /// How many alerts the payload holds.
    pub alerts: usize,
    /// The webhook body as received.
    pub raw: String,
}

/// What the spool holds now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpoolStats {
    /// Alerts waiting.
    pub depth: usize,
    /// Batches (webhook notifications) waiting.
    pub batches: usize,
    /// The most alerts the spool accepts.
    pub capacity: usize,
    /// When the oldest waiting batch arrived.
    pub oldest: Option<DateTime<Utc>>,
}

/// Where a pending record sits in the file.
#[derive(Clone, Debug)]
struct Entry {
    seq: u64,
    received_at: DateTime<Utc>,
    alerts: usize,
    offset: u64,
    len: u64,
}

#[derive(Debug)]
struct Inner {
    file: File,
    /// The file's length: where the next record goes.
    end: u64,
    pending: VecDeque<Entry>,
    depth: usize,
    next_seq: u64,
    committed: u64,
}

/// The append-only spool of one data directory. Cheap to clone; clones share the file.
#[derive(Clone, Debug)]
pub struct Spool {
    inner: Arc<Mutex<Inner>>,
    path: Arc<PathBuf>,
    committed_path: Arc<PathBuf>,
    dir: Arc<PathBuf>,
    capacity: usize,
}

fn io(doing: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SpoolError {
    let path = path.display().to_string();
    move |source| SpoolError::Io {
        doing,
        path,
        source,
    }
}

impl Spool {
    /// Opens (creating if missing) the spool in `dir`, holding at most `capacity`
    /// alerts. Records already drained are dropped and a torn last line is cut off.
    /// Blocking: call it at start-up or from `spawn_blocking`.
    pub fn open(dir: &Path, capacity: usize) -> Result<Spool, SpoolError> {
        std::fs::create_dir_all(dir).map_err(io("creating the data directory", dir))?;
        let path = dir.join(SPOOL_FILE);
        let committed_path = dir.join(COMMITTED_FILE);
        let committed = read_committed(&committed_path)?;
        let created = !path.exists();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)
            .map_err(io("opening the spool", &path))?;
        if created {
            sync_dir(dir)?;
        }
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_end(&mut bytes))
            .map_err(io("reading the spool", &path))?;

        let mut pending = VecDeque::new();
        let mut max_seq = committed;
        let mut offset = 0u64;
        let mut rest = bytes.as_slice();
        while let Some(nl) = rest.iter().position(|b| *b == b'\n') {
            let line = &rest[..nl];
            let len = nl as u64 + 1;
            match serde_json::from_slice::<SpooledBatch>(line) {
                Ok(record) => {
                    max_seq = max_seq.max(record.seq);
                    if record.seq > committed {
                        pending.push_back(Entry {
                            seq: record.seq,
                            received_at: record.received_at,
                            alerts: record.alerts,
                            offset,
                            len,
                        });
                    }
                }
                Err(e) => {
                    return Err(SpoolError::Corrupt {
                        path: path.display().to_string(),
                        reason: format!("record at byte {offset}: {e}"),
                    });
                }
            }
            offset += len;
            rest = &rest[nl + 1..];
        }
        let mut end = offset;
        if !rest.is_empty() {
            // An append that never completed was never acknowledged: drop it.
            warn!(
                path = %path.display(),
                bytes = rest.len(),
                "cutting off a torn record at the end of the spool"
            );
            file.set_len(end)
                .and_then(|_| file.sync_all())
                .map_err(io("cutting off a torn record", &path))?;
        }
        if pending.is_empty() && end > 0 {
            file.set_len(0)
                .and_then(|_| file.sync_all())
                .map_err(io("truncating the drained spool", &path))?;
            end = 0;
        }
        let depth = pending.iter().map(|e| e.alerts).sum();
        Ok(Spool {
            inner: Arc::new(Mutex::new(Inner {
                file,
                end,
                pending,
                depth,
                next_seq: max_seq + 1,
                committed,
            })),
            path: Arc::new(path),
            committed_path: Arc::new(committed_path),
            dir: Arc::new(dir.to_path_buf()),
            capacity,
        })
    }

    /// The spool file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the state consistent with the
        // file (every mutation updates memory only after the file), so go on.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What the spool holds now.
    pub fn stats(&self) -> SpoolStats {
        let inner = self.lock();
        SpoolStats {
            depth: inner.depth,
            batches: inner.pending.len(),
            capacity: self.capacity,
            oldest: inner.pending.front().map(|e| e.received_at),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.lock().pending.is_empty()
    }

    /// Appends one batch and syncs it to disk before returning its seq.
    /// [`SpoolError::Full`] when it would take the spool past its capacity.
    pub fn append_blocking(
        &self,
        received_at: DateTime<Utc>,
        alerts: usize,
        raw: String,
    ) -> Result<u64, SpoolError> {
        let mut inner = self.lock();
        if inner.depth + alerts > self.capacity {
            return Err(SpoolError::Full {
                depth: inner.depth,
                capacity: self.capacity,
                alerts,
            });
        }
        let seq = inner.next_seq;
        let record = SpooledBatch {
            seq,
            received_at,
            alerts,
            raw,
        };
        let mut line = serde_json::to_vec(&record).map_err(|e| SpoolError::Corrupt {
            path: self.path.display().to_string(),
            reason: format!("cannot encode a record: {e}"),
        })?;
        line.push(b'\n');
        let offset = inner.end;
        let written = inner
            .file
            .write_all(&line)
            .and_then(|_| inner.file.sync_data());
        if let Err(source) = written {
            // Leave no partial record behind for the next append to follow.
            if let Err(e) = inner.file.set_len(offset) {
                warn!(error = %e, path = %self.path.display(), "cannot undo a failed spool append");
            }
            return Err(SpoolError::Io {
                doing: "appending to the spool",
                path: self.path.display().to_string(),
                source,
            });
        }
        inner.end = offset + line.len() as u64;
        inner.next_seq = seq + 1;
        inner.depth += alerts;
        inner.pending.push_back(Entry {
            seq,
            received_at,
            alerts,
            offset,
            len: line.len() as u64,
        });
        Ok(seq)
    }

    /// [`Spool::append_blocking`] on the blocking thread pool.
    pub async fn append(
        &self,
        received_at: DateTime<Utc>,
        alerts: usize,
        raw: String,
    ) -> Result<u64, SpoolError> {
        let spool = self.clone();
        blocking(move || spool.append_blocking(received_at, alerts, raw)).await
    }

    /// The oldest `limit` waiting batches, oldest first.
    pub fn front_blocking(&self, limit: usize) -> Result<Vec<SpooledBatch>, SpoolError> {
        let entries: Vec<Entry> = self.lock().pending.iter().take(limit).cloned().collect();
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        // Records are never rewritten while pending, so a separate read handle is safe.
        let mut file = File::open(&*self.path).map_err(io("reading the spool", &self.path))?;
        let mut out = Vec::with_capacity(entries.len());
        for entry in entries {
            let mut buf = vec![0; entry.len as usize];
            file.seek(SeekFrom::Start(entry.offset))
                .and_then(|_| file.read_exact(&mut buf))
                .map_err(io("reading the spool", &self.path))?;
            let record: SpooledBatch =
                serde_json::from_slice(&buf).map_err(|e| SpoolError::Corrupt {
                    path: self.path.display().to_string(),
                    reason: format!("record {}: {e}", entry.seq),
                })?;
            if record.seq != entry.seq {
                return Err(SpoolError::Corrupt {
                    path: self.path.display().to_string(),
                    reason: format!("expected record {} at byte {}", entry.seq, entry.offset),
                });
            }
            out.push(record);
        }
        Ok(out)
    }

    /// [`Spool::front_blocking`] on the blocking thread pool.
    pub async fn front(&self, limit: usize) -> Result<Vec<SpooledBatch>, SpoolError> {
        let spool = self.clone();
        blocking(move || spool.front_blocking(limit)).await
    }

    /// Marks every batch up to and including `seq` as stored: durable before it
    /// returns. Truncates the file once nothing is pending.
    pub fn commit_blocking(&self, seq: u64) -> Result<(), SpoolError> {
        let mut inner = self.lock();
        if seq <= inner.committed {
            return Ok(());
        }
        write_committed(&self.committed_path, &self.dir, seq)?;
        inner.committed = seq;
        while inner.pending.front().is_some_and(|e| e.seq <= seq) {
            if let Some(e) = inner.pending.pop_front() {
                inner.depth -= e.alerts;
            }
        }
        if inner.pending.is_empty() && inner.end > 0 {
            // Safe at any point: every record in the file is at or below `committed`.
            inner
                .file
                .set_len(0)
                .and_then(|_| inner.file.sync_all())
                .map_err(io("truncating the drained spool", &self.path))?;
            inner.end = 0;
        }
        Ok(())
    }

    /// [`Spool::commit_blocking`] on the blocking thread pool.
    pub async fn commit(&self, seq: u64) -> Result<(), SpoolError> {
        let spool = self.clone();
        blocking(move || spool.commit_blocking(seq)).await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SpoolError> + Send + 'static,
) -> Result<T, SpoolError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(SpoolError::Io {
            doing: "running a spool operation",
            path: String::new(),
            source: std::io::Error::other(e.to_string()),
        })
    })
}

fn read_committed(path: &Path) -> Result<u64, SpoolError> {
    match std::fs::read_to_string(path) {
        Ok(text) => text.trim().parse().map_err(|_| SpoolError::Corrupt {
            path: path.display().to_string(),
            reason: format!("not a sequence number: {:?}", text.trim()),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(io("reading the committed seq", path)(e)),
    }
}

/// Replaces the committed-seq file atomically and durably.
fn write_committed(path: &Path, dir: &Path, seq: u64) -> Result<(), SpoolError> {
    let tmp = path.with_extension("committed.tmp");
    let mut f = File::create(&tmp).map_err(io("writing the committed seq", &tmp))?;
    f.write_all(format!("{seq}\n").as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(io("writing the committed seq", &tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io("renaming the committed seq", path))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("syncing the data directory", dir))
}
