//! Per-upstream counters: per-worker cells, summed on demand.

use crate::core::{Counters, GenerationId, WorkerId};
use crate::sync::{AtomicU64, CachePadded, Ordering};
use std::fmt;

/// What one upstream has done, summed over its workers when asked
/// ([`Upstream::stats`](super::Upstream::stats)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlsStats {
    /// The design of the table underneath (`"rwlock"`, `"lock-free"`).
    pub design: &'static str,
    /// The generation serving now.
    pub generation: u64,
    /// Handshakes reported through `handshake_done` that were full.
    pub full_handshakes: u64,
    /// Handshakes reported through `handshake_done` that resumed a session.
    pub resumed_handshakes: u64,
    /// Handshakes reported through `handshake_failed`.
    pub failed_handshakes: u64,
    /// TLS 1.3 tickets put into a slot.
    pub tickets_stored: u64,
    /// TLS 1.3 tickets taken from the worker's own slot.
    pub tickets_taken: u64,
    /// TLS 1.3 tickets taken from another worker's slot (own slot empty).
    pub tickets_borrowed: u64,
    /// TLS 1.2 sessions put into a slot.
    pub tls12_stored: u64,
    /// TLS 1.2 sessions offered (own or borrowed).
    pub tls12_offered: u64,
    /// Tickets and sessions that arrived for a generation a commit had
    /// already replaced, and were dropped instead of stored.
    pub stale_discarded: u64,
    /// Lookups that found the worker's slot holding sessions for another
    /// server name (SNI), and so offered nothing from it.
    pub sni_mismatches: u64,
    /// Store calls from a thread whose worker index is outside the table;
    /// they behave as misses and no-stores.
    pub worker_out_of_range: u64,
    /// Generations published by a commit.
    pub commits: u64,
    /// Commits refused because their material did not validate.
    pub rejected_commits: u64,
    /// Sessions that commits flushed from replaced generations.
    pub sessions_flushed: u64,
    /// Sessions of replaced generations whose memory has been freed: the
    /// flushed ones, plus any that a store racing the commit put into the
    /// generation after it was flushed (so this can exceed
    /// `sessions_flushed`).
    pub sessions_reclaimed: u64,
}

impl TlsStats {
    /// Resumed handshakes as a share of all successful ones (0 when none).
    pub fn resumed_share(&self) -> f64 {
        let total = self.full_handshakes + self.resumed_handshakes;
        if total == 0 {
            0.0
        } else {
            self.resumed_handshakes as f64 / total as f64
        }
    }
}

impl fmt::Display for TlsStats {
    /// One line per topic, in the spirit of HAProxy's `show stat` columns
    /// (`ssl_sess`, `ssl_reused_sess`, `ssl_failed_handshake`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "design={} generation={} commits={} rejected_commits={}",
            self.design, self.generation, self.commits, self.rejected_commits
        )?;
        writeln!(
            f,
            "handshakes: full={} resumed={} failed={} reused={:.1}%",
            self.full_handshakes,
            self.resumed_handshakes,
            self.failed_handshakes,
            100.0 * self.resumed_share()
        )?;
        writeln!(
            f,
            "tickets: stored={} taken={} borrowed={} tls12_stored={} tls12_offered={}",
            self.tickets_stored,
            self.tickets_taken,
            self.tickets_borrowed,
            self.tls12_stored,
            self.tls12_offered
        )?;
        write!(
            f,
            "refused: stale_discarded={} sni_mismatches={} worker_out_of_range={} | sessions: flushed={} reclaimed={}",
            self.stale_discarded,
            self.sni_mismatches,
            self.worker_out_of_range,
            self.sessions_flushed,
            self.sessions_reclaimed
        )
    }
}

/// Which per-worker event to count.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TlsEvent {
    FullHandshake,
    ResumedHandshake,
    FailedHandshake,
    TicketStored,
    TicketTaken,
    TicketBorrowed,
    Tls12Stored,
    Tls12Offered,
    StaleDiscarded,
    SniMismatch,
    WorkerOutOfRange,
}

const EVENTS: usize = TlsEvent::WorkerOutOfRange as usize + 1;

/// The live counters: one padded row per worker plus one row for threads
/// whose worker index is out of range, so that the hot path never writes a
/// cache line another worker writes.
pub(crate) struct StatsBank {
    rows: Box<[CachePadded<[AtomicU64; EVENTS]>]>,
    rejected_commits: AtomicU64,
}

impl StatsBank {
    pub(crate) fn new(workers: usize) -> Self {
        Self {
            rows: (0..=workers)
                .map(|_| CachePadded::new(std::array::from_fn(|_| AtomicU64::new(0))))
                .collect(),
            rejected_commits: AtomicU64::new(0),
        }
    }

    pub(crate) fn count(&self, worker: WorkerId, event: TlsEvent) {
        let row = worker.index().min(self.rows.len() - 1);
        // Relaxed: a statistic; it orders nothing.
        self.rows[row][event as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_rejected_commit(&self) {
        // Relaxed: a statistic; it orders nothing.
        self.rejected_commits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(
        &self,
        design: &'static str,
        generation: GenerationId,
        core: Counters,
    ) -> TlsStats {
        let sum = |event: TlsEvent| -> u64 {
            self.rows
                .iter()
                // Relaxed: statistics, see `count`.
                .map(|row| row[event as usize].load(Ordering::Relaxed))
                .sum()
        };
        TlsStats {
            design,
            generation: generation.get(),
            full_handshakes: sum(TlsEvent::FullHandshake),
            resumed_handshakes: sum(TlsEvent::ResumedHandshake),
            failed_handshakes: sum(TlsEvent::FailedHandshake),
            tickets_stored: sum(TlsEvent::TicketStored),
            tickets_taken: sum(TlsEvent::TicketTaken),
            tickets_borrowed: sum(TlsEvent::TicketBorrowed),
            tls12_stored: sum(TlsEvent::Tls12Stored),
            tls12_offered: sum(TlsEvent::Tls12Offered),
            stale_discarded: sum(TlsEvent::StaleDiscarded),
            sni_mismatches: sum(TlsEvent::SniMismatch),
            worker_out_of_range: sum(TlsEvent::WorkerOutOfRange),
            commits: core.commits,
            // Relaxed: a statistic, see `count`.
            rejected_commits: self.rejected_commits.load(Ordering::Relaxed),
            sessions_flushed: core.flushed,
            sessions_reclaimed: core.reclaimed,
        }
    }
}
