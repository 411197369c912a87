//! The one trait both designs implement.

use super::{Counters, SlotError, WorkerId};
use std::fmt;

/// The number of a published generation: 1 for the table's first context,
/// one more for every commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GenerationId(u64);

impl GenerationId {
    /// The generation a table starts with.
    pub const FIRST: GenerationId = GenerationId(1);

    /// Wraps a raw number.
    pub const fn new(number: u64) -> Self {
        Self(number)
    }

    /// The raw number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The generation a commit publishes after this one.
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl fmt::Display for GenerationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "generation {}", self.0)
    }
}

/// What became of a session handed to [`SlotAccess::store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreOutcome {
    /// The session is in the worker's slot (replacing whatever was there).
    Stored,
    /// The generation the session came from has been replaced by a commit, so
    /// the session was dropped instead of being offered to anyone.
    StaleGeneration,
}

/// How [`SlotAccess::borrow`] uses another worker's session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reuse {
    /// Remove it (single-use sessions such as TLS 1.3 tickets).
    Take,
    /// Copy it and leave it in place (TLS 1.2 sessions; HAProxy 2.9).
    Copy,
}

/// A session obtained from another worker's slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Borrowed<S> {
    /// The worker whose slot it came from.
    pub from: WorkerId,
    /// The session.
    pub session: S,
}

/// The slot operations of one generation.
///
/// Every operation acts on the generation the handle was obtained from. Once
/// a commit has replaced that generation, stores are discarded
/// ([`StoreOutcome::StaleGeneration`]) and reads find nothing, so a session
/// can never cross from one generation into the next.
pub trait SlotAccess<S> {
    /// The generation these slots belong to.
    fn generation(&self) -> GenerationId;

    /// Stores `session` into `worker`'s slot, replacing and dropping what was
    /// there (HAProxy's new-session callback).
    fn store(&self, worker: WorkerId, session: S) -> Result<StoreOutcome, SlotError>;

    /// Removes and returns `worker`'s session: single use.
    fn take(&self, worker: WorkerId) -> Result<Option<S>, SlotError>;

    /// Returns a copy of `worker`'s session and leaves it in place.
    fn get(&self, worker: WorkerId) -> Result<Option<S>, SlotError>;

    /// For a worker whose own slot is empty: reuse the session of the worker
    /// that stored last (HAProxy 2.9's `last_ssl_sess_tid`). The hint is
    /// forgotten when that slot turns out empty. Never returns `worker`'s own
    /// session.
    fn borrow(&self, worker: WorkerId, reuse: Reuse) -> Result<Option<Borrowed<S>>, SlotError>;

    /// Drops `worker`'s session, if any (a failed handshake must not leave a
    /// session to be resumed). Returns whether there was one.
    fn clear(&self, worker: WorkerId) -> Result<bool, SlotError>;
}

/// The current generation as seen by one reader: its context and its slots.
pub trait Snapshot<C, S>: SlotAccess<S> {
    /// The generation's context (the TLS client configuration).
    fn context(&self) -> &C;
}

/// A table of per-worker session slots with a hot-swappable context: the
/// operations of HAProxy's `server->ssl_ctx`, implemented by
/// [`RwLockTable`](crate::RwLockTable) and
/// [`LockFreeTable`](crate::LockFreeTable).
///
/// `C` is the context (cloned out of the table by readers of the rwlock
/// design, so make it cheap to clone: an `Arc`); `S` is the session (copied
/// by `get` and by the lock-free `take`, see DESIGN.md).
pub trait SessionTable<C, S>: Send + Sync + Sized + 'static {
    /// A handle on one generation's slots that can be kept (the rustls layer
    /// keeps one inside each generation's session store).
    type Slots: SlotAccess<S> + Clone + Send + Sync + 'static;

    /// What [`load`](Self::load) returns.
    type Snapshot<'t>: Snapshot<C, S>
    where
        Self: 't;

    /// A short name for reports: `"rwlock"`, `"lock-free"`.
    const DESIGN: &'static str;

    /// A table with `workers` empty slots whose first context is built by
    /// `context`, which receives the slots of the first generation.
    fn build(workers: usize, context: impl FnOnce(&Self::Slots) -> C) -> Self;

    /// A table with `workers` empty slots and the first context `context`.
    fn new(workers: usize, context: C) -> Self {
        Self::build(workers, |_| context)
    }

    /// The current generation: context and slots. This is on every
    /// connection's path.
    fn load(&self) -> Self::Snapshot<'_>;

    /// A keepable handle on the current generation's slots.
    fn slots(&self) -> Self::Slots;

    /// The current generation's number.
    fn generation(&self) -> GenerationId;

    /// Publishes a new generation with context `context` and empty slots,
    /// flushes the sessions of the one it replaces, and returns its number.
    fn commit(&self, context: C) -> GenerationId;

    /// Like [`commit`](Self::commit), with the context built from the new
    /// generation's slots. `context` may run more than once if commits race;
    /// it must not call back into the table.
    fn commit_with(&self, context: impl FnMut(&Self::Slots) -> C) -> GenerationId;

    /// How many workers the table has slots for.
    fn workers(&self) -> usize;

    /// The counters, summed now.
    fn counters(&self) -> Counters;
}
