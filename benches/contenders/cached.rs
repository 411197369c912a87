//! Contender 5b: `LockFreeTable` read through a per-worker
//! `LockFreeTable::reader()` (arc-swap's `Cache`) instead of `load()`.
//!
//! The table is the same; only the read path a worker uses differs, so this
//! newtypes forward every `SessionTable` method and report their own name.

use super::{Ctx, Sess};
use tls_slots::{Counters, GenerationId, LockFreeTable, SessionTable};

pub struct LockFreeCached(pub LockFreeTable<Ctx, Sess>);

/// The same, plus a dedicated reclaimer thread
/// (`LockFreeTable::spawn_reclaimer`): commits stop freeing flushed sessions.
pub struct LockFreeReclaimer(pub LockFreeTable<Ctx, Sess>);

macro_rules! forward_table {
    ($ty:ident, $name:literal, $build:expr) => {
        impl SessionTable<Ctx, Sess> for $ty {
            type Slots = <LockFreeTable<Ctx, Sess> as SessionTable<Ctx, Sess>>::Slots;
            type Snapshot<'t> = <LockFreeTable<Ctx, Sess> as SessionTable<Ctx, Sess>>::Snapshot<'t>;

            const DESIGN: &'static str = $name;

            fn build(workers: usize, context: impl FnOnce(&Self::Slots) -> Ctx) -> Self {
                let table = LockFreeTable::build(workers, context);
                #[allow(clippy::redundant_closure_call)]
                ($build)(&table);
                Self(table)
            }
            fn load(&self) -> Self::Snapshot<'_> {
                self.0.load()
            }
            fn slots(&self) -> Self::Slots {
                self.0.slots()
            }
            fn generation(&self) -> GenerationId {
                self.0.generation()
            }
            fn commit(&self, context: Ctx) -> GenerationId {
                self.0.commit(context)
            }
            fn commit_with(&self, context: impl FnMut(&Self::Slots) -> Ctx) -> GenerationId {
                self.0.commit_with(context)
            }
            fn workers(&self) -> usize {
                self.0.workers()
            }
            fn counters(&self) -> Counters {
                self.0.counters()
            }
        }
    };
}

forward_table!(LockFreeCached, "lock-free-reader", |_: &LockFreeTable<
    Ctx,
    Sess,
>| {});
// The thread is detached: it exits by itself once the table and its pending
// batches are gone.
forward_table!(
    LockFreeReclaimer,
    "lock-free-reclaimer",
    |t: &LockFreeTable<Ctx, Sess>| {
        drop(t.spawn_reclaimer().expect("spawn the reclaimer"));
    }
);
