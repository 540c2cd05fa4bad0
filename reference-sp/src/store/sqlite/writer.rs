//! Group commit: concurrent writes share one transaction and one fsync.
//!
//! Each write runs on its caller's thread (or, queued, on the store's writer
//! thread), while that thread holds the one write connection, inside its
//! own SAVEPOINT of the shared transaction: a
//! write that fails (a rule refuses it, a constraint is violated, it panics)
//! is rolled back to its savepoint and leaves the writes before and after it
//! untouched, and every write sees the effects of the writes before it, as if
//! they had run one after another. When a write ends and another writer is
//! already waiting for the connection, the transaction is left open for that
//! writer; the write that finds nobody waiting (or fills the batch) commits,
//! once, for all of them. Every write of a batch is answered only after that
//! commit, and when it fails each of them gets its error, since even a
//! refusal may have been judged against writes that were never made durable.
//!
//! Nothing waits on a timer: a batch holds the writes that queued while the
//! previous commit was being synced, so a lone write commits at once and
//! writes under load share the fsync they were waiting for anyway.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use rusqlite::Connection;

use crate::store::{StoreError, StoreResult};

/// The most writes one commit carries, so that under a steady stream of
/// writes the first write of a batch is still answered soon.
const MOST_WRITES_PER_COMMIT: usize = 64;

/// How many commits the writer made and how many writes they carried.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupCommitCounts {
    pub commits: u64,
    pub writes: u64,
}

pub(super) struct GroupCommitWriter {
    state: Mutex<WriterState>,
    /// Writers that have arrived but not yet taken the connection. A write
    /// leaves its transaction open only while this is above zero, so an open
    /// transaction always has a writer coming that will commit it or pass it
    /// on.
    writers_waiting: AtomicUsize,
    commits: AtomicU64,
    writes: AtomicU64,
}

struct WriterState {
    connection: Connection,
    open_batch: Option<Arc<Batch>>,
    writes_in_open_batch: usize,
}

/// One shared transaction, whose writers wait here for its commit.
#[derive(Default)]
struct Batch {
    outcome: Mutex<Option<StoreResult<()>>>,
    committed: Condvar,
}

impl Batch {
    fn finish(&self, outcome: StoreResult<()>) {
        *self.outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
        self.committed.notify_all();
    }

    fn wait(&self) -> StoreResult<()> {
        let mut outcome = self.outcome.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(finished) = outcome.as_ref() {
                return finished.clone();
            }
            outcome = self.committed.wait(outcome).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// A writer that has announced itself and will take the connection next.
/// Announcing before waiting for the connection is what lets the write
/// holding it know to leave the transaction open.
pub(super) struct Arrival<'writer> {
    writer: &'writer GroupCommitWriter,
}

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        self.writer.writers_waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The name of the store's writer thread, which benchmarks count as the
/// server's (Linux keeps 15 bytes of a thread's name).
pub const WRITER_THREAD_NAME: &str = "sp-store-writer";

/// A write job that owns what it needs, so that the writer thread can run
/// it for a caller that waits for its answer without holding a thread.
pub(super) struct OwnedJob {
    /// Runs the write on the connection; `true` keeps its changes.
    pub(super) run: Box<dyn FnOnce(&Connection) -> bool + Send>,
    /// Told the shared transaction's fate once it is known.
    pub(super) answer: Box<dyn FnOnce(StoreResult<()>) + Send>,
}

/// The writer thread: it takes owned jobs from a queue and runs the ones
/// that queued while it was busy as one batch. It starts with the first
/// owned job and ends when the store is dropped.
pub(super) struct OwnedJobs {
    queue: std::sync::mpsc::Sender<OwnedJob>,
    thread: std::thread::JoinHandle<()>,
}

impl OwnedJobs {
    pub(super) fn start(writer: Arc<GroupCommitWriter>) -> std::io::Result<Self> {
        let (queue, jobs) = std::sync::mpsc::channel::<OwnedJob>();
        let thread = std::thread::Builder::new().name(WRITER_THREAD_NAME.into()).spawn(move || {
            while let Ok(first) = jobs.recv() {
                let mut batch = vec![first];
                while batch.len() < MOST_WRITES_PER_COMMIT {
                    match jobs.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                writer.run_owned(batch);
            }
        })?;
        Ok(OwnedJobs { queue, thread })
    }

    /// Queues `job`; gives it back when the writer thread has ended.
    pub(super) fn submit(&self, job: OwnedJob) -> Result<(), OwnedJob> {
        self.queue.send(job).map_err(|refused| refused.0)
    }

    /// Ends the writer thread once it has run every job queued before, and
    /// waits for it, so that the write connection is closed on return. When
    /// the store is dropped on the writer thread itself (a job held the last
    /// reference to what owns the store), it cannot wait for itself: the
    /// thread ends after the batch it is running, on its own.
    pub(super) fn stop(self) {
        drop(self.queue);
        if self.thread.thread().id() == std::thread::current().id() {
            return;
        }
        // A writer thread that panicked has nothing more to report.
        let _ = self.thread.join();
    }
}

/// Runs one transaction-control statement, prepared once per connection.
fn control(connection: &Connection, statement: &str) -> StoreResult<()> {
    connection.prepare_cached(statement)?.execute([])?;
    Ok(())
}

/// What running one write in its savepoint came to.
struct SavepointRun<T> {
    /// The write's own result, when it returned one.
    result: Option<T>,
    /// Whether the savepoint could be opened and closed. When it could not,
    /// the shared transaction is in an unknown state and the whole batch is
    /// rolled back.
    control: StoreResult<()>,
    panic: Option<Box<dyn Any + Send>>,
}

fn run_in_savepoint<T, E>(
    connection: &Connection,
    job: impl FnOnce(&Connection) -> Result<T, E>,
) -> SavepointRun<Result<T, E>> {
    if let Err(error) = control(connection, "SAVEPOINT write_job") {
        return SavepointRun { result: None, control: Err(error), panic: None };
    }
    // A panicking write must not leave its half-made changes in the batch,
    // nor leave the batch uncommitted for the writers behind it: it is
    // rolled back like a failed write and the panic resumes afterwards.
    let ran = catch_unwind(AssertUnwindSafe(|| job(connection)));
    let keep = matches!(ran, Ok(Ok(_)));
    let closed = if keep {
        control(connection, "RELEASE write_job")
    } else {
        control(connection, "ROLLBACK TO write_job").and_then(|()| control(connection, "RELEASE write_job"))
    };
    match ran {
        Ok(result) => SavepointRun { result: Some(result), control: closed, panic: None },
        Err(panic) => SavepointRun { result: None, control: closed, panic: Some(panic) },
    }
}

impl GroupCommitWriter {
    pub(super) fn new(connection: Connection) -> Self {
        GroupCommitWriter {
            state: Mutex::new(WriterState { connection, open_batch: None, writes_in_open_batch: 0 }),
            writers_waiting: AtomicUsize::new(0),
            commits: AtomicU64::new(0),
            writes: AtomicU64::new(0),
        }
    }

    pub(super) fn counts(&self) -> GroupCommitCounts {
        GroupCommitCounts { commits: self.commits.load(Ordering::SeqCst), writes: self.writes.load(Ordering::SeqCst) }
    }

    fn lock_state(&self) -> MutexGuard<'_, WriterState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Announces a writer; [`GroupCommitWriter::run`] takes the connection
    /// for it.
    pub(super) fn arrive(&self) -> Arrival<'_> {
        self.writers_waiting.fetch_add(1, Ordering::SeqCst);
        Arrival { writer: self }
    }

    /// Runs `job` in its own savepoint of the shared transaction and returns
    /// once that transaction has committed. The outer error is the commit's
    /// (or the transaction's) failure; the inner result is the job's own.
    /// The job must not write through the store itself: the connection is
    /// held while it runs.
    pub(super) fn run<T, E>(
        &self,
        arrival: Arrival<'_>,
        job: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> StoreResult<Result<T, E>> {
        let mut state = self.lock_state();
        drop(arrival);
        let batch = Self::open_or_join(&mut state)?;
        let run = run_in_savepoint(&state.connection, job);
        state.writes_in_open_batch += 1;
        self.writes.fetch_add(1, Ordering::SeqCst);
        let committed = self.end_turn(state, &batch, run.control.clone());
        if let Some(panic) = run.panic {
            resume_unwind(panic);
        }
        committed?;
        run.result.ok_or_else(|| StoreError::Backend("the write's savepoint could not be opened".into()))
    }

    /// Runs owned jobs, in the order given, each in its own savepoint of
    /// one shared transaction, and answers each once that transaction's
    /// fate is known. The writer thread (`OwnedJobs`) calls this with the
    /// jobs that queued while it was busy, so they share one commit without
    /// any thread waiting for a turn at the connection. A job that panics
    /// is undone like a failed one; its caller learns it from the answer
    /// (its result is missing), and the panic goes no further, so that the
    /// thread goes on serving.
    pub(super) fn run_owned(&self, jobs: Vec<OwnedJob>) {
        let arrival = self.arrive();
        let mut state = self.lock_state();
        drop(arrival);
        let batch = match Self::open_or_join(&mut state) {
            Ok(batch) => batch,
            Err(error) => {
                drop(state);
                for job in jobs {
                    (job.answer)(Err(error.clone()));
                }
                return;
            }
        };
        let mut control = Ok(());
        let mut answers = Vec::with_capacity(jobs.len());
        for job in jobs {
            // Once a savepoint could not be opened or closed the transaction
            // is lost, so the jobs behind it are not run: the commit's
            // failure answers them.
            if control.is_ok() {
                let run = job.run;
                let ran = run_in_savepoint(&state.connection, |c| if run(c) { Ok(()) } else { Err(()) });
                control = ran.control;
                state.writes_in_open_batch += 1;
                self.writes.fetch_add(1, Ordering::SeqCst);
            }
            answers.push(job.answer);
        }
        let committed = self.end_turn(state, &batch, control);
        for answer in answers {
            answer(committed.clone());
        }
    }

    /// The open transaction, or a new one.
    fn open_or_join(state: &mut WriterState) -> StoreResult<Arc<Batch>> {
        if let Some(batch) = &state.open_batch {
            return Ok(batch.clone());
        }
        // IMMEDIATE takes the write lock now, so a commit never finds the
        // database busy after the batch's writes have run.
        control(&state.connection, "BEGIN IMMEDIATE")?;
        let batch = Arc::new(Batch::default());
        state.open_batch = Some(batch.clone());
        state.writes_in_open_batch = 0;
        Ok(batch)
    }

    /// Ends a writer's turn at the connection: leaves the transaction open
    /// for the writer that is waiting, or commits it for every writer of
    /// the batch; returns once the batch's fate is known.
    fn end_turn(
        &self,
        state: MutexGuard<'_, WriterState>,
        batch: &Batch,
        control_of_this_turn: StoreResult<()>,
    ) -> StoreResult<()> {
        let mut state = state;
        let leave_open = control_of_this_turn.is_ok()
            && self.writers_waiting.load(Ordering::SeqCst) > 0
            && state.writes_in_open_batch < MOST_WRITES_PER_COMMIT;
        if leave_open {
            drop(state);
            return batch.wait();
        }
        let outcome = control_of_this_turn.and_then(|()| control(&state.connection, "COMMIT"));
        if outcome.is_err() && !state.connection.is_autocommit() {
            // The batch's writes were not made durable, so none of them may
            // stay: each of their writers is told the commit failed. A
            // failed rollback leaves nothing more to do than report the
            // first error.
            let _ = state.connection.execute_batch("ROLLBACK");
        }
        state.open_batch = None;
        self.commits.fetch_add(1, Ordering::SeqCst);
        drop(state);
        batch.finish(outcome.clone());
        outcome
    }

    /// Runs a read on the write connection once no transaction is open, so
    /// it sees committed data only (for an in-memory database, which has no
    /// other connection).
    pub(super) fn read_committed<T>(&self, read: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut state = self.lock_state();
        while let Some(batch) = state.open_batch.clone() {
            drop(state);
            // The batch's outcome does not matter to a read: it only waits
            // for the transaction to end.
            let _ = batch.wait();
            state = self.lock_state();
        }
        read(&state.connection)
    }
}
