//! The store's single writer: one task per store runs every write, and
//! commits everything queued while the previous commit was in flight in ONE
//! transaction (group commit).
//!
//! Why one writer. SQLite has one write lock: writers on several connections
//! queue for it by sleeping and retrying (its busy handler), which turns a
//! burst into latency spikes of tens of milliseconds. A durable commit also
//! costs an fsync, so a commit per write caps a store at a few hundred writes
//! per second however many arrive at once. Here every write — a webhook's
//! alerts ([`IngestPlan`]) or any other change ([`Write`]) — is queued to the
//! writer task, which takes whatever is queued (up to [`MAX_GROUP_ENTRIES`]
//! entries or [`MAX_GROUP_ALERTS`] alerts), commits it as one transaction,
//! and answers each caller with its own result. It never waits for more
//! work: when the queue is empty an entry is committed at once, alone, and
//! groups arise only from what arrives during the previous commit. Queueing
//! is FIFO, so no writer starves.
//!
//! Durability. Each entry says whether its commit must survive a power cut
//! ([`Durability::Durable`]: accepted alerts, operators' decisions, the
//! checkpoint before commands run) or only a crash of the process
//! ([`Durability::Crash`]: the pipeline's bookkeeping). A group is committed
//! durably if any entry needs it (SQLite `synchronous=FULL`, PostgreSQL
//! `synchronous_commit=on`), else without waiting for the disk. Both logs
//! are sequential, so a durable commit also makes every earlier one durable.
//!
//! Failures. Inside a group every entry runs in its own savepoint: an entry
//! that fails is rolled back alone and its caller gets its own error; the
//! others commit. The alerts of a group are first tried as one multi-row
//! insert and, if that fails for a reason other than an unavailable
//! database, batch by batch. A transient error (the database is unavailable)
//! or a failed commit goes to every caller of the group.
//!
//! Cancellation: a caller that is dropped while waiting loses only its
//! answer; its entry stays queued and may still be committed.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use jarvis_core::domain::Ingested;
use jarvis_core::error::{BoxError, StoreError};
use tokio::sync::{mpsc, oneshot};

use super::sql::IngestPlan;

/// Most entries (batches of alerts and writes) committed in one transaction.
pub(crate) const MAX_GROUP_ENTRIES: usize = 256;
/// Most distinct alerts committed in one transaction (a single larger batch
/// is still committed, alone).
pub(crate) const MAX_GROUP_ALERTS: usize = 4096;
/// Entries that may wait for the writer before callers wait to queue.
const QUEUE: usize = 1024;

/// A boxed future that may borrow for `'a`.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a commit must survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Durability {
    /// A power cut: the commit waits for the disk.
    Durable,
    /// A crash of the process: the commit is in the database's log (the OS
    /// holds it) but may wait for the next durable commit to reach the disk.
    Crash,
}

/// The results of each plan of a committed group, in order. A plan's own
/// `Err` means that batch was rolled back, or its results could not be read.
pub(crate) type GroupResults = Vec<Result<Vec<Ingested>, StoreError>>;

/// Commits a group in ONE transaction on the database's connection type
/// `Conn`: every plan and every write, each isolated from the others' failures
/// (see the module docs). An `Err` means nothing was committed.
pub(crate) trait GroupCommit: Send + Sync + 'static {
    type Conn: Send + 'static;

    fn commit(
        &self,
        plans: &[&IngestPlan],
        writes: &mut [Box<dyn Write<Self::Conn>>],
        durability: Durability,
    ) -> impl Future<Output = Result<GroupResults, StoreError>> + Send;
}

/// One queued write: runs inside a group's transaction, then answers its
/// caller once the group's fate is known.
pub(crate) trait Write<C>: Send {
    /// Runs the write on `conn`. `false` when it failed: the committer then
    /// rolls it back, and [`finish`](Self::finish) reports its error.
    fn run<'c>(&'c mut self, conn: &'c mut C) -> BoxFuture<'c, bool>;

    fn durability(&self) -> Durability;

    /// Answers the caller: its own error if it failed, else the group's
    /// outcome (its value if the group committed).
    fn finish(self: Box<Self>, committed: Result<(), StoreError>);
}

struct Op<F, T> {
    work: Option<F>,
    outcome: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
    durability: Durability,
}

impl<F, T> Op<F, T> {
    /// A write and the receiver its answer arrives on.
    fn new(work: F, durability: Durability) -> (Self, oneshot::Receiver<Result<T, StoreError>>) {
        let (reply, answer) = oneshot::channel();
        let op = Op {
            work: Some(work),
            outcome: None,
            reply,
            durability,
        };
        (op, answer)
    }
}

impl<C, F, T> Write<C> for Op<F, T>
where
    C: Send + 'static,
    F: for<'c> FnOnce(&'c mut C) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    T: Send + 'static,
{
    fn run<'c>(&'c mut self, conn: &'c mut C) -> BoxFuture<'c, bool> {
        let work = self.work.take();
        Box::pin(async move {
            let outcome = match work {
                Some(work) => work(conn).await,
                None => Err(StoreError::Corrupt("a queued write ran twice".into())),
            };
            let ok = outcome.is_ok();
            self.outcome = Some(outcome);
            ok
        })
    }

    fn durability(&self) -> Durability {
        self.durability
    }

    fn finish(self: Box<Self>, committed: Result<(), StoreError>) {
        let answer = match (self.outcome, committed) {
            (Some(Err(own)), _) => Err(own),
            (_, Err(group)) => Err(group),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (None, Ok(())) => Err(StoreError::Corrupt(
                "a committed group skipped one of its writes".into(),
            )),
        };
        let _ = self.reply.send(answer);
    }
}

type Reply = oneshot::Sender<Result<Vec<Ingested>, StoreError>>;

pub(crate) struct Job {
    plan: IngestPlan,
    reply: Reply,
}

enum Message<C> {
    Ingest(Job),
    Write(Box<dyn Write<C>>),
    /// Commit what is queued, refuse the rest, then answer.
    Close(oneshot::Sender<()>),
}

/// A store's handle on its writer task. Cloning shares the writer; the
/// task ends on [`close`](Self::close) or once every handle is dropped.
pub(crate) struct GroupWriter<C> {
    queue: mpsc::Sender<Message<C>>,
}

impl<C> Clone for GroupWriter<C> {
    fn clone(&self) -> Self {
        GroupWriter {
            queue: self.queue.clone(),
        }
    }
}

impl<C> fmt::Debug for GroupWriter<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupWriter")
            .field("closed", &self.queue.is_closed())
            .finish()
    }
}

impl<C: Send + 'static> GroupWriter<C> {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn<G: GroupCommit<Conn = C>>(committer: G) -> Self {
        let (queue, inbox) = mpsc::channel(QUEUE);
        tokio::spawn(run(committer, inbox));
        GroupWriter { queue }
    }

    /// Queues `plan` and waits until its group is committed.
    pub async fn ingest(&self, plan: IngestPlan) -> Result<Vec<Ingested>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Message::Ingest(Job { plan, reply }), "ingesting alerts")
            .await?;
        answer
            .await
            .map_err(|_| unavailable("ingesting alerts", "the store's writer stopped"))?
    }

    /// Queues `work` and waits until its group is committed; returns what
    /// `work` returned. `work` runs on the writer's connection inside the
    /// group's transaction: it must not use the store's pool.
    pub async fn write<T, F>(
        &self,
        doing: &'static str,
        durability: Durability,
        work: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut C) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let (op, answer) = Op::new(work, durability);
        self.send(Message::Write(Box::new(op)), doing).await?;
        answer
            .await
            .map_err(|_| unavailable(doing, "the store's writer stopped"))?
    }

    async fn send(&self, message: Message<C>, doing: &'static str) -> Result<(), StoreError> {
        self.queue
            .send(message)
            .await
            .map_err(|_| unavailable(doing, "the store is closed"))
    }

    /// Commits everything already queued, then stops the writer; later
    /// calls fail as unavailable. Idempotent.
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.queue.send(Message::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
    }
}

fn unavailable(doing: &'static str, why: &'static str) -> StoreError {
    StoreError::Unavailable {
        doing,
        source: why.into(),
    }
}

/// The entries of one group.
struct Group<C> {
    jobs: Vec<Job>,
    writes: Vec<Box<dyn Write<C>>>,
    alerts: usize,
}

impl<C> Group<C> {
    fn new() -> Self {
        Group {
            jobs: Vec::new(),
            writes: Vec::new(),
            alerts: 0,
        }
    }

    fn len(&self) -> usize {
        self.jobs.len() + self.writes.len()
    }

    fn full(&self) -> bool {
        self.len() >= MAX_GROUP_ENTRIES || self.alerts >= MAX_GROUP_ALERTS
    }

    /// Adds an entry; hands back a close request.
    fn push(&mut self, message: Message<C>) -> Option<oneshot::Sender<()>> {
        match message {
            Message::Ingest(job) => {
                self.alerts += job.plan.rows.len();
                self.jobs.push(job);
            }
            Message::Write(write) => self.writes.push(write),
            Message::Close(done) => return Some(done),
        }
        None
    }
}

async fn run<G: GroupCommit>(committer: G, mut inbox: mpsc::Receiver<Message<G::Conn>>) {
    let mut closing = Vec::new();
    while let Some(message) = inbox.recv().await {
        let mut group = Group::new();
        if let Some(done) = group.push(message) {
            closing.push(done);
            break;
        }
        while !group.full() {
            match inbox.try_recv() {
                Ok(message) => {
                    if let Some(done) = group.push(message) {
                        closing.push(done);
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        commit(&committer, group.jobs, group.writes).await;
        if !closing.is_empty() {
            break;
        }
    }
    // Refuse new work, but commit what was queued before the close.
    inbox.close();
    let mut group = Group::new();
    while let Some(message) = inbox.recv().await {
        if let Some(done) = group.push(message) {
            closing.push(done);
        }
        if group.full() {
            let full = std::mem::replace(&mut group, Group::new());
            commit(&committer, full.jobs, full.writes).await;
        }
    }
    if group.len() > 0 {
        commit(&committer, group.jobs, group.writes).await;
    }
    for done in closing {
        let _ = done.send(());
    }
}

/// Commits `jobs` and `writes` as one group and answers each caller; see
/// the module docs for failures.
pub(crate) async fn commit<G: GroupCommit>(
    committer: &G,
    jobs: Vec<Job>,
    mut writes: Vec<Box<dyn Write<G::Conn>>>,
) {
    let (plans, replies): (Vec<IngestPlan>, Vec<Reply>) =
        jobs.into_iter().map(|job| (job.plan, job.reply)).unzip();
    let refs: Vec<&IngestPlan> = plans.iter().collect();
    let durability =
        if !plans.is_empty() || writes.iter().any(|w| w.durability() == Durability::Durable) {
            Durability::Durable
        } else {
            Durability::Crash
        };
    tracing::trace!(
        batches = plans.len(),
        writes = writes.len(),
        ?durability,
        "committing a group"
    );
    match committer.commit(&refs, &mut writes, durability).await {
        Ok(results) => {
            let mut results = results.into_iter();
            for reply in replies {
                let result = results.next().unwrap_or_else(|| {
                    Err(StoreError::Corrupt(
                        "a committed group has no result for a batch".into(),
                    ))
                });
                let _ = reply.send(result);
            }
            for write in writes {
                write.finish(Ok(()));
            }
        }
        Err(error) => {
            if !matches!(error, StoreError::Unavailable { .. }) {
                tracing::warn!(%error, batches = plans.len(), writes = writes.len(), "group commit failed");
            }
            let mut copies = share(error, replies.len() + writes.len()).into_iter();
            for reply in replies {
                let _ = reply.send(Err(copies.next().expect("one copy per caller")));
            }
            for write in writes {
                write.finish(Err(copies.next().expect("one copy per caller")));
            }
        }
    }
}

/// `n` copies of `error`, one per caller of a failed group.
fn share(error: StoreError, n: usize) -> Vec<StoreError> {
    match error {
        StoreError::Unavailable { doing, source } => {
            let cause = SharedCause(Arc::new(source));
            (0..n)
                .map(|_| StoreError::Unavailable {
                    doing,
                    source: Box::new(cause.clone()),
                })
                .collect()
        }
        StoreError::NotFound { what } => (0..n)
            .map(|_| StoreError::NotFound { what: what.clone() })
            .collect(),
        StoreError::Conflict(what) => (0..n).map(|_| StoreError::Conflict(what.clone())).collect(),
        StoreError::Corrupt(what) => (0..n).map(|_| StoreError::Corrupt(what.clone())).collect(),
    }
}

/// One transient cause reported to every caller of a failed group.
#[derive(Clone)]
struct SharedCause(Arc<BoxError>);

impl fmt::Debug for SharedCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self.0, f)
    }
}

impl fmt::Display for SharedCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self.0, f)
    }
}

impl std::error::Error for SharedCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

#[cfg(test)]
impl Job {
    /// A job whose answer arrives on the returned receiver, for tests that
    /// commit a known group with [`commit`].
    pub(crate) fn new(
        plan: IngestPlan,
    ) -> (Self, oneshot::Receiver<Result<Vec<Ingested>, StoreError>>) {
        let (reply, answer) = oneshot::channel();
        (Job { plan, reply }, answer)
    }
}

/// A write whose answer arrives on the returned receiver, for tests that
/// commit a known group with [`commit`].
#[cfg(test)]
pub(crate) fn test_write<C, T, F>(
    durability: Durability,
    work: F,
) -> (Box<dyn Write<C>>, oneshot::Receiver<Result<T, StoreError>>)
where
    C: Send + 'static,
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut C) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
{
    let (op, answer) = Op::new(work, durability);
    (Box::new(op), answer)
}

/// Boxes a write's future; naming its output lets `?` inside the async
/// block know its error type.
pub(crate) fn boxed<'c, T, Fut>(work: Fut) -> BoxFuture<'c, Result<T, StoreError>>
where
    Fut: Future<Output = Result<T, StoreError>> + Send + 'c,
{
    Box::pin(work)
}
