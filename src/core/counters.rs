//! Per-worker counters, summed on demand.

use super::WorkerId;
use crate::sync::{AtomicU64, CachePadded, Ordering};
use std::fmt;

/// A table's counters, summed over its workers at the time of the call.
///
/// Both designs count the same events at the same points, so for one
/// sequential history the two designs report identical counters, except
/// `reclaimed`, which the lock-free design counts when the memory is actually
/// freed (after the epoch allows it) and the rwlock design inline in `commit`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Sessions placed into a slot.
    pub stores: u64,
    /// `take`/`get` calls that found a session in the worker's own slot.
    pub hits: u64,
    /// `take`/`get`/`borrow` calls that found nothing to reuse.
    pub misses: u64,
    /// `borrow` calls that got a session from another worker's slot.
    pub borrows: u64,
    /// `clear` calls that removed a session.
    pub clears: u64,
    /// Operations refused because their generation had been replaced by a
    /// commit (a store is discarded, a read finds nothing).
    pub stale: u64,
    /// Generations published by `commit`.
    pub commits: u64,
    /// Sessions that a commit removed from the slots of the generation it
    /// replaced.
    pub flushed: u64,
    /// Sessions of replaced generations whose memory has been freed: the
    /// flushed ones, plus (lock-free design) any that a store racing the
    /// commit put into the generation after it was flushed, freed when its
    /// last handle goes. So it can exceed `flushed`.
    pub reclaimed: u64,
}

impl fmt::Display for Counters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stores={} hits={} misses={} borrows={} clears={} stale={} commits={} flushed={} reclaimed={}",
            self.stores,
            self.hits,
            self.misses,
            self.borrows,
            self.clears,
            self.stale,
            self.commits,
            self.flushed,
            self.reclaimed
        )
    }
}

/// One worker's event counts, on its own cache line.
#[derive(Default)]
struct WorkerCounts {
    stores: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    borrows: AtomicU64,
    clears: AtomicU64,
    stale: AtomicU64,
}

/// Which per-worker event to count.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Event {
    Store,
    Hit,
    Miss,
    Borrow,
    Clear,
    Stale,
}

/// The live counters of one table, shared by all of its generations.
pub(crate) struct CounterBank {
    workers: Box<[CachePadded<WorkerCounts>]>,
    commits: AtomicU64,
    flushed: AtomicU64,
    reclaimed: AtomicU64,
}

impl CounterBank {
    pub(crate) fn new(workers: usize) -> Self {
        Self {
            workers: (0..workers).map(|_| CachePadded::default()).collect(),
            commits: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            reclaimed: AtomicU64::new(0),
        }
    }

    /// Counts `event` for `worker`, whose index the caller has checked.
    pub(crate) fn count(&self, worker: WorkerId, event: Event) {
        let counts = &self.workers[worker.index()];
        let cell = match event {
            Event::Store => &counts.stores,
            Event::Hit => &counts.hits,
            Event::Miss => &counts.misses,
            Event::Borrow => &counts.borrows,
            Event::Clear => &counts.clears,
            Event::Stale => &counts.stale,
        };
        // Relaxed: a statistic; it orders nothing and is summed without a
        // snapshot guarantee.
        cell.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one commit that flushed `flushed` sessions.
    pub(crate) fn count_commit(&self, flushed: u64) {
        // Relaxed: statistics, see `count`.
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.flushed.fetch_add(flushed, Ordering::Relaxed);
    }

    /// Counts `freed` sessions of replaced generations as freed.
    pub(crate) fn count_reclaimed(&self, freed: u64) {
        if freed > 0 {
            // Relaxed: statistics, see `count`.
            self.reclaimed.fetch_add(freed, Ordering::Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> Counters {
        // Relaxed (all loads): statistics, see `count`.
        let load = |cell: &AtomicU64| cell.load(Ordering::Relaxed);
        let mut total = Counters {
            commits: load(&self.commits),
            flushed: load(&self.flushed),
            reclaimed: load(&self.reclaimed),
            ..Counters::default()
        };
        for counts in self.workers.iter() {
            total.stores += load(&counts.stores);
            total.hits += load(&counts.hits);
            total.misses += load(&counts.misses);
            total.borrows += load(&counts.borrows);
            total.clears += load(&counts.clears);
            total.stale += load(&counts.stale);
        }
        total
    }
}
