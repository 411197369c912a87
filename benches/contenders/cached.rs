//! Contender 5b: `LockFreeTable` read through a per-worker
//! `LockFreeTable::reader()` (arc-swap's `Cache`) instead of `load()`.
//!
//! The table is the same; only the read path a worker uses differs, so this
//! newtype forwards every `SessionTable` method and reports its own name.

use super::{Ctx, Sess};
use tls_slots::{Counters, GenerationId, LockFreeTable, SessionTable};

pub struct LockFreeCached(pub LockFreeTable<Ctx, Sess>);

impl SessionTable<Ctx, Sess> for LockFreeCached {
    type Slots = <LockFreeTable<Ctx, Sess> as SessionTable<Ctx, Sess>>::Slots;
    type Snapshot<'t> = <LockFreeTable<Ctx, Sess> as SessionTable<Ctx, Sess>>::Snapshot<'t>;

    const DESIGN: &'static str = "lock-free-reader";

    fn build(workers: usize, context: impl FnOnce(&Self::Slots) -> Ctx) -> Self {
        Self(LockFreeTable::build(workers, context))
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
