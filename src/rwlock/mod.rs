//! The reference design: a faithful port of HAProxy 2.4's server-side SSL
//! session cache lock (commit 3ce6eedb3, "MEDIUM: ssl: add a rwlock for SSL
//! server session cache").
//!
//! | C (HAProxy 2.4) | here |
//! |---|---|
//! | `srv->ssl_ctx.lock` (`HA_RWLOCK_T`, `SSL_SERVER_LOCK`) | [`RwLockTable`]'s one `RwLock` |
//! | `srv->ssl_ctx.ctx` (`SSL_CTX *`) | the context `C` inside the lock |
//! | `srv->ssl_ctx.reused_sess[tid]` | one slot per [`WorkerId`](crate::WorkerId) inside the lock |
//! | `ssl_sess_new_srv_cb()`: RDLOCK, store i2d bytes into `reused_sess[tid]` | [`SlotAccess::store`](crate::SlotAccess::store) under the read lock |
//! | same, with `SRV_SSL_O_NO_REUSE`: RDLOCK, free `reused_sess[tid]` | [`SlotAccess::clear`](crate::SlotAccess::clear) under the read lock |
//! | `ssl_sock_init()`: RDLOCK, `d2i_SSL_SESSION(reused_sess[tid])`, `SSL_set_session` | [`SlotAccess::get`](crate::SlotAccess::get) under the read lock |
//! | `ssl_sock_handshake()` error path: RDLOCK, free `reused_sess[tid]` | [`SlotAccess::clear`](crate::SlotAccess::clear) under the read lock |
//! | `ckch_inst` commit (`ssl_ckch.c`): WRLOCK, swap `SSL_CTX`, free every `reused_sess[i]`, WRUNLOCK | [`SessionTable::commit`]: write lock, swap the context, drop every slot's session inline |
//!
//! Two things the C code does not have, both needed to make the port safe
//! Rust and to compare like for like:
//!
//! - **A mutex per slot.** HAProxy writes `reused_sess[tid]` under the *read*
//!   lock and relies on exactly one thread per `tid`. Rust cannot rely on that
//!   (two threads may share a `WorkerId`), so each slot is a `Mutex`.
//!   Uncontended, which is the case the seed assumes, it costs one atomic
//!   read-modify-write on the worker's own cache line per operation.
//! - **A generation check.** Every slot operation carries the generation it
//!   was obtained from and is refused under the read lock when a commit has
//!   replaced it. The seed has no such check: a handshake that starts before
//!   `commit ssl cert` and finishes after it stores its old-identity session
//!   into the freshly flushed slot. [`RwLockTable::faithful_seed`] builds the
//!   table without the check, to reproduce that window in tests.

mod slots;

use crate::core::{CounterBank, Counters, GenerationId, NO_WORKER, SessionTable};
use crate::sync::{Arc, AtomicUsize, CachePadded, Mutex, Ordering, RwLock};
use std::ops::{Deref, DerefMut};
use std::sync::PoisonError;

pub use slots::{RwLockSlots, RwLockSnapshot};

/// The seed's design: one table-wide `RwLock`, read-locked by every session
/// operation, write-locked by `commit`, which frees every slot inline.
pub struct RwLockTable<C, S> {
    shared: Arc<Shared<C, S>>,
}

/// What the lock guards, and what lives beside it.
struct Shared<C, S> {
    /// HAProxy's `srv->ssl_ctx.lock` and everything it guards.
    state: RwLock<State<C, S>>,
    counters: CounterBank,
    workers: usize,
    /// `false` only for [`RwLockTable::faithful_seed`].
    check_generation: bool,
}

struct State<C, S> {
    /// `None` only once the table itself has been dropped (see `Drop`).
    context: Option<C>,
    generation: GenerationId,
    /// HAProxy 2.9's `last_ssl_sess_tid`; atomic because it is written under
    /// the read lock by any worker.
    last_stored: AtomicUsize,
    /// `reused_sess[tid]`.
    slots: Box<[CachePadded<Mutex<Option<S>>>]>,
}

impl<C, S> RwLockTable<C, S>
where
    C: Clone + Send + Sync + 'static,
    S: Clone + Send + Sync + 'static,
{
    fn with_check(
        workers: usize,
        check_generation: bool,
        context: impl FnOnce(&RwLockSlots<C, S>) -> C,
    ) -> Self {
        let shared = Arc::new(Shared {
            state: RwLock::new(State {
                context: None,
                generation: GenerationId::FIRST,
                last_stored: AtomicUsize::new(NO_WORKER),
                slots: (0..workers)
                    .map(|_| CachePadded::new(Mutex::new(None)))
                    .collect(),
            }),
            counters: CounterBank::new(workers),
            workers,
            check_generation,
        });
        let first = context(&RwLockSlots::new(Arc::clone(&shared), GenerationId::FIRST));
        shared.write().context = Some(first);
        Self { shared }
    }

    /// The seed exactly: slot operations ignore the generation they came from,
    /// so a session from before a commit can land in a slot after it and be
    /// resumed by the next connection (HAProxy's stale-identity window).
    /// For tests and demonstrations; proxies want [`SessionTable::new`].
    pub fn faithful_seed(workers: usize, context: C) -> Self {
        Self::with_check(workers, false, |_| context)
    }
}

impl<C, S> Shared<C, S> {
    fn read(&self) -> impl Deref<Target = State<C, S>> + '_ {
        // A panic in a session's `Clone` or `Drop` must not take the table
        // down with it: the state is consistent between operations.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> impl DerefMut<Target = State<C, S>> + '_ {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<C, S> SessionTable<C, S> for RwLockTable<C, S>
where
    C: Clone + Send + Sync + 'static,
    S: Clone + Send + Sync + 'static,
{
    type Slots = RwLockSlots<C, S>;
    type Snapshot<'t>
        = RwLockSnapshot<'t, C, S>
    where
        Self: 't;

    const DESIGN: &'static str = "rwlock";

    fn build(workers: usize, context: impl FnOnce(&Self::Slots) -> C) -> Self {
        Self::with_check(workers, true, context)
    }

    fn load(&self) -> Self::Snapshot<'_> {
        let state = self.shared.read();
        let context = state
            .context
            .clone()
            .expect("context is set from construction until drop");
        RwLockSnapshot::new(&self.shared, context, state.generation)
    }

    fn slots(&self) -> Self::Slots {
        RwLockSlots::new(Arc::clone(&self.shared), self.generation())
    }

    fn generation(&self) -> GenerationId {
        self.shared.read().generation
    }

    fn commit(&self, context: C) -> GenerationId {
        let mut context = Some(context);
        self.commit_with(|_| context.take().expect("called once under the write lock"))
    }

    fn commit_with(&self, mut context: impl FnMut(&Self::Slots) -> C) -> GenerationId {
        // HA_RWLOCK_WRLOCK(SSL_SERVER_LOCK, &srv->ssl_ctx.lock): waits for every
        // reader to leave, and holds every new reader off until the unlock.
        let mut state = self.shared.write();
        let next = state.generation.next();
        let new_context = context(&RwLockSlots::new(Arc::clone(&self.shared), next));
        // SSL_CTX_free(old); srv->ssl_ctx.ctx = new: the old context is
        // released inline, under the lock.
        state.context = Some(new_context);
        state.generation = next;
        // Exclusive access, so the relaxed store is ordered by the write lock.
        state.last_stored.store(NO_WORKER, Ordering::Relaxed);
        // for (i = 0; i < global.nbthread; i++) free(reused_sess[i].ptr):
        // every session is freed inline, still under the lock.
        let mut flushed = 0;
        for slot in state.slots.iter() {
            if slot
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .is_some()
            {
                flushed += 1;
            }
        }
        self.shared.counters.count_commit(flushed);
        self.shared.counters.count_reclaimed(flushed);
        next
    }

    fn workers(&self) -> usize {
        self.shared.workers
    }

    fn counters(&self) -> Counters {
        self.shared.counters.snapshot()
    }
}

impl<C, S> Drop for RwLockTable<C, S> {
    fn drop(&mut self) {
        // The context may own a handle on these very slots (the rustls layer's
        // session store does), which would keep `Shared` alive in a cycle.
        // Dropping the context here breaks it.
        let context = self.shared.write().context.take();
        drop(context);
    }
}
