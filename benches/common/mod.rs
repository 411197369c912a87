//! What every bench shares: the session and context types, the contenders
//! behind one trait, and thread pinning.
//!
//! Every scenario is a generic function over [`Contender`], which is the
//! crate's public `SessionTable` plus the per-thread read path each design
//! offers a worker (`load()` for all of them; `LockFreeTable::reader()` for
//! the `lock-free-reader` contender). Contender 4 (rustls's
//! `ClientSessionMemoryCache`) is a `ClientSessionStore`, not a table: it
//! runs the end-to-end scenarios, in [`tls`].

#![allow(dead_code)]

#[path = "../contenders/cached.rs"]
pub mod cached;
#[path = "../contenders/locked.rs"]
pub mod locked;
pub mod tls;

use std::sync::Arc;
use tls_slots::{LockFreeTable, RwLockTable, SessionTable, Snapshot};

/// The context: cheap to clone (the rwlock designs clone it out of the table
/// on every `load`, as `SSL_new` takes a reference on the `SSL_CTX`).
pub type Ctx = Arc<Context>;

/// A stand-in for a client TLS configuration.
#[derive(Debug)]
pub struct Context {
    pub id: u64,
    pub name: String,
}

pub fn context(id: u64) -> Ctx {
    Arc::new(Context {
        id,
        name: format!("client-cert-{id}"),
    })
}

/// A session: the i2d bytes of a TLS session, like HAProxy's slot.
pub type Sess = Vec<u8>;

/// The per-thread way a worker reaches the current generation.
pub trait ReadPath {
    type Snap<'r>: Snapshot<Ctx, Sess>
    where
        Self: 'r;
    fn current(&mut self) -> Self::Snap<'_>;
}

/// The plain path: `SessionTable::load()` on every connection.
pub struct Plain<'t, T>(pub &'t T);

impl<'t, T: SessionTable<Ctx, Sess>> ReadPath for Plain<'t, T> {
    type Snap<'r>
        = T::Snapshot<'t>
    where
        Self: 'r;
    #[inline]
    fn current(&mut self) -> T::Snapshot<'t> {
        self.0.load()
    }
}

impl ReadPath for tls_slots::LockFreeReader<'_, Ctx, Sess> {
    type Snap<'r>
        = tls_slots::LockFreeCurrent<'r, Ctx, Sess>
    where
        Self: 'r;
    #[inline]
    fn current(&mut self) -> Self::Snap<'_> {
        self.load()
    }
}

/// A design as the benches drive it.
pub trait Contender: SessionTable<Ctx, Sess> {
    type Reader<'t>: ReadPath
    where
        Self: 't;
    /// What a worker keeps to read the current generation.
    fn reader(&self) -> Self::Reader<'_>;
    /// Gives deferred reclamation a chance to finish (no-op for the locks,
    /// which free inline).
    fn settle(&self) {}
}

impl Contender for RwLockTable<Ctx, Sess> {
    type Reader<'t> = Plain<'t, Self>;
    fn reader(&self) -> Plain<'_, Self> {
        Plain(self)
    }
}

impl<L: locked::LockKind> Contender for locked::LockedTable<L, Ctx, Sess> {
    type Reader<'t> = Plain<'t, Self>;
    fn reader(&self) -> Plain<'_, Self> {
        Plain(self)
    }
}

/// Pins once (advancing the epoch where possible, pushing this thread's
/// deferred functions) and frees what came back to the committer.
fn settle_lock_free(table: &LockFreeTable<Ctx, Sess>) {
    let guard = tls_slots::epoch::pin();
    guard.flush();
    drop(guard);
    table.reclaim();
}

impl Contender for LockFreeTable<Ctx, Sess> {
    type Reader<'t> = Plain<'t, Self>;
    fn reader(&self) -> Plain<'_, Self> {
        Plain(self)
    }
    fn settle(&self) {
        settle_lock_free(self);
    }
}

impl Contender for cached::LockFreeCached {
    type Reader<'t> = tls_slots::LockFreeReader<'t, Ctx, Sess>;
    fn reader(&self) -> Self::Reader<'_> {
        self.0.reader()
    }
    fn settle(&self) {
        settle_lock_free(&self.0);
    }
}

pub type SeedRwLock = RwLockTable<Ctx, Sess>;
pub type ParkingLotRwLock = locked::LockedTable<locked::ParkingLot, Ctx, Sess>;
pub type HaProxy3 = locked::LockedTable<locked::HaProxy3, Ctx, Sess>;
pub type LockFree = LockFreeTable<Ctx, Sess>;
pub type LockFreeReaderPath = cached::LockFreeCached;

/// Calls `$body` once per contender with `$t` bound to its type.
#[macro_export]
macro_rules! for_each_contender {
    (|$t:ident| $body:block) => {{
        {
            type $t = $crate::common::SeedRwLock;
            $body
        }
        {
            type $t = $crate::common::ParkingLotRwLock;
            $body
        }
        {
            type $t = $crate::common::HaProxy3;
            $body
        }
        {
            type $t = $crate::common::LockFree;
            $body
        }
        {
            type $t = $crate::common::LockFreeReaderPath;
            $body
        }
    }};
}

/// Pins the calling thread to core `index % cores`; returns whether it could.
pub fn pin(index: usize) -> bool {
    match core_affinity::get_core_ids() {
        Some(ids) if !ids.is_empty() => core_affinity::set_for_current(ids[index % ids.len()]),
        _ => false,
    }
}

/// The number of cores this process may run on, read once before any thread
/// is pinned (a pinned thread would see only its own core).
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// A session of `size` bytes, distinct per `seed`.
pub fn session(size: usize, seed: u64) -> Sess {
    (0..size).map(|i| (i as u64 ^ seed) as u8).collect()
}
