//! Group commit for `ingest`: one writer task per store commits every batch
//! queued while the previous commit was in flight, in one transaction.
//!
//! A webhook is acknowledged only after its alerts are durable, and a durable
//! commit costs an fsync (a few milliseconds). Giving each batch its own
//! commit caps a store at a few hundred webhooks per second however many
//! arrive at once. Here a caller prepares its [`IngestPlan`] (the encoding
//! work runs on the caller's task), queues it, and waits for its answer. The
//! writer takes whatever is queued (up to [`MAX_GROUP_BATCHES`] batches or
//! [`MAX_GROUP_ALERTS`] alerts), commits it as one transaction, and answers
//! each caller with its own results. It never waits for more work: when the
//! queue is empty a batch is committed at once, alone, and batching arises
//! only from what arrives during the previous commit.
//!
//! Failures: a transient error (the database is unavailable) goes to every
//! caller of the group; any other error makes the writer retry the group's
//! batches one transaction each, so one bad batch fails only its own caller.
//!
//! Cancellation: a caller that is dropped while waiting loses only its
//! answer; its batch stays queued, may still be committed (ingest is
//! idempotent), and never affects the rest of the group.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use jarvis_core::domain::Ingested;
use jarvis_core::error::{BoxError, StoreError};
use tokio::sync::{mpsc, oneshot};

use super::sql::IngestPlan;

/// Most batches committed in one transaction.
pub(crate) const MAX_GROUP_BATCHES: usize = 256;
/// Most distinct alerts committed in one transaction (a single larger batch
/// is still committed, alone).
pub(crate) const MAX_GROUP_ALERTS: usize = 4096;
/// Batches that may wait for the writer before callers wait to queue.
const QUEUE: usize = 1024;

const DOING: &str = "ingesting alerts";

/// The results of each plan of a committed group, in order. A plan's own
/// `Err` only says its results could not be read back: its alerts committed.
pub(crate) type GroupResults = Vec<Result<Vec<Ingested>, StoreError>>;

/// Commits a group of ingest plans in ONE transaction, with the same
/// outcome as committing them one after another in order. An `Err` means
/// nothing was committed.
pub(crate) trait GroupCommit: Send + Sync + 'static {
    fn commit(
        &self,
        plans: &[&IngestPlan],
    ) -> impl Future<Output = Result<GroupResults, StoreError>> + Send;
}

type Reply = oneshot::Sender<Result<Vec<Ingested>, StoreError>>;

pub(crate) struct Job {
    plan: IngestPlan,
    reply: Reply,
}

enum Message {
    Ingest(Job),
    /// Commit what is queued, refuse the rest, then answer.
    Close(oneshot::Sender<()>),
}

/// A store's handle on its writer task. Cloning shares the writer; the
/// task ends on [`close`](Self::close) or once every handle is dropped.
#[derive(Clone)]
pub(crate) struct GroupWriter {
    queue: mpsc::Sender<Message>,
}

impl fmt::Debug for GroupWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupWriter")
            .field("closed", &self.queue.is_closed())
            .finish()
    }
}

impl GroupWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn<C: GroupCommit>(committer: C) -> Self {
        let (queue, inbox) = mpsc::channel(QUEUE);
        tokio::spawn(run(committer, inbox));
        GroupWriter { queue }
    }

    /// Queues `plan` and waits until its group is committed.
    pub async fn ingest(&self, plan: IngestPlan) -> Result<Vec<Ingested>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Message::Ingest(Job { plan, reply }))
            .await
            .map_err(|_| unavailable("the store is closed"))?;
        answer
            .await
            .map_err(|_| unavailable("the store's writer stopped"))?
    }

    /// Commits everything already queued, then stops the writer; later
    /// `ingest` calls fail as unavailable. Idempotent.
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.queue.send(Message::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
    }
}

fn unavailable(why: &'static str) -> StoreError {
    StoreError::Unavailable {
        doing: DOING,
        source: why.into(),
    }
}

async fn run<C: GroupCommit>(committer: C, mut inbox: mpsc::Receiver<Message>) {
    let mut closing = Vec::new();
    while let Some(message) = inbox.recv().await {
        let first = match message {
            Message::Ingest(job) => job,
            Message::Close(done) => {
                closing.push(done);
                break;
            }
        };
        let mut alerts = first.plan.rows.len();
        let mut group = vec![first];
        while group.len() < MAX_GROUP_BATCHES && alerts < MAX_GROUP_ALERTS {
            match inbox.try_recv() {
                Ok(Message::Ingest(job)) => {
                    alerts += job.plan.rows.len();
                    group.push(job);
                }
                Ok(Message::Close(done)) => {
                    closing.push(done);
                    break;
                }
                Err(_) => break,
            }
        }
        commit(&committer, group).await;
        if !closing.is_empty() {
            break;
        }
    }
    // Refuse new work, but commit what was queued before the close.
    inbox.close();
    let mut rest = Vec::new();
    while let Some(message) = inbox.recv().await {
        match message {
            Message::Ingest(job) => rest.push(job),
            Message::Close(done) => closing.push(done),
        }
    }
    while !rest.is_empty() {
        let take = rest.len().min(MAX_GROUP_BATCHES);
        commit(&committer, rest.drain(..take).collect()).await;
    }
    for done in closing {
        let _ = done.send(());
    }
}

/// Commits `jobs` as one group and answers each; see the module docs for failures.
pub(crate) async fn commit<C: GroupCommit>(committer: &C, jobs: Vec<Job>) {
    let (plans, replies): (Vec<IngestPlan>, Vec<Reply>) =
        jobs.into_iter().map(|job| (job.plan, job.reply)).unzip();
    let refs: Vec<&IngestPlan> = plans.iter().collect();
    tracing::trace!(batches = plans.len(), "committing a group");
    match committer.commit(&refs).await {
        Ok(results) => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        Err(error) if replies.len() == 1 => {
            let _ = replies
                .into_iter()
                .next()
                .map(|reply| reply.send(Err(error)));
        }
        Err(StoreError::Unavailable { doing, source }) => {
            let cause = SharedCause(Arc::new(source));
            for reply in replies {
                let _ = reply.send(Err(StoreError::Unavailable {
                    doing,
                    source: Box::new(cause.clone()),
                }));
            }
        }
        Err(error) => {
            tracing::warn!(
                %error,
                batches = plans.len(),
                "group commit failed, committing its batches one by one"
            );
            for (plan, reply) in plans.iter().zip(replies) {
                let result = committer.commit(&[plan]).await.and_then(|results| {
                    results
                        .into_iter()
                        .next()
                        .unwrap_or_else(|| Err(StoreError::Corrupt("no result for a batch".into())))
                });
                let _ = reply.send(result);
            }
        }
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
