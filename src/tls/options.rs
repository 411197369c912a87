//! How an upstream uses its slots.

/// Per-upstream settings that do not change with commits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamOptions {
    /// How many worker slots the table has (HAProxy's `nbthread`). A thread
    /// whose worker index is at or past it neither stores nor resumes.
    pub workers: usize,
    /// TLS 1.3 tickets kept per worker slot; rustls's own cache keeps 8 per
    /// server name. At least 1.
    pub tickets_per_worker: usize,
    /// HAProxy's `no-ssl-reuse`: never store a session, never offer one.
    pub no_reuse: bool,
    /// Whether a worker whose own slot is empty may take a ticket (or copy
    /// the TLS 1.2 session) of the worker that stored last (HAProxy 2.9).
    pub borrow: bool,
}

impl UpstreamOptions {
    /// Defaults for `workers` worker slots: 8 tickets per worker, reuse on,
    /// borrowing on.
    pub fn new(workers: usize) -> Self {
        Self {
            workers,
            tickets_per_worker: 8,
            no_reuse: false,
            borrow: true,
        }
    }

    /// Sets [`tickets_per_worker`](Self::tickets_per_worker).
    pub fn tickets_per_worker(mut self, tickets: usize) -> Self {
        self.tickets_per_worker = tickets.max(1);
        self
    }

    /// Sets [`no_reuse`](Self::no_reuse).
    pub fn no_reuse(mut self, no_reuse: bool) -> Self {
        self.no_reuse = no_reuse;
        self
    }

    /// Sets [`borrow`](Self::borrow).
    pub fn borrow(mut self, borrow: bool) -> Self {
        self.borrow = borrow;
        self
    }
}
