//! One worker's slot: an epoch-managed session pointer whose low bits count
//! the copiers currently reading the session in place.
//!
//! Readers that *copy* a session (`get`, `borrow(Copy)`) read it where it
//! lies, under an epoch guard. Before they read, they announce themselves by
//! adding one to the count in the pointer's tag bits, and they take it away
//! when done. Whoever unlinks a session (`take`, `clear`, a `store` that
//! replaces it, a commit retiring it) does so with one `swap`, which returns
//! the pointer *with* the count at that instant:
//!
//! - count 0: no copier is reading it, and none can start (a late copier's
//!   compare-and-swap fails, because the slot no longer holds that value). The
//!   remover owns the session outright: `take` moves it out without a copy,
//!   the others free it at once. No epoch garbage.
//! - count > 0: copiers are reading it under their guards. The remover hands
//!   the session to crossbeam-epoch (`defer_destroy`), which frees it only
//!   after every guard pinned before the unlink is gone; `take` returns a copy.
//!
//! So the epoch is what makes in-place copies safe, and it is only asked to
//! wait when a copy and a removal actually overlapped. The common connection
//! (take my ticket, store the new one) produces no deferred frees at all,
//! which keeps crossbeam's batched frees (64 at a time, inside some reader's
//! `pin`) off the connection path.

use crate::sync::{Ordering, epoch};
use std::ptr::NonNull;

/// How many copiers the tag bits of a [`Held`] pointer can count. A copier
/// that finds the count full treats the slot as empty (a miss) rather than
/// read unannounced.
pub(crate) const MAX_COPIERS: usize = 15;

/// A session as a slot holds it: aligned to 16 bytes so that the slot pointer
/// has four free low bits for the copier count, whatever `S`'s alignment.
#[repr(align(16))]
pub(crate) struct Held<S>(S);

/// One slot of a generation.
pub(crate) struct Slot<S> {
    current: epoch::Atomic<Held<S>>,
}

/// A session unlinked by a commit, and what must happen to it.
pub(crate) enum Retired<S> {
    /// Nobody was copying it: already freed.
    Freed,
    /// Copiers were reading it: must be freed through the epoch.
    Deferred(NonNull<Held<S>>),
}

impl<S> Slot<S> {
    pub(crate) fn empty() -> Self {
        Self {
            current: epoch::Atomic::null(),
        }
    }

    /// Frees or defers an unlinked session. `unlinked` carries the copier
    /// count that the unlinking swap saw.
    ///
    /// # Safety
    ///
    /// `unlinked` must have just been unlinked from a slot by the caller's
    /// swap (so nobody else can unlink it again), with `guard` pinned.
    unsafe fn dispose(unlinked: epoch::Shared<'_, Held<S>>, guard: &epoch::Guard) {
        if unlinked.is_null() {
            return;
        }
        #[cfg(not(tls_slots_bug = "free_without_defer"))]
        let copiers = unlinked.tag();
        // INJECTED BUG free_without_defer: ignores announced copiers and frees
        // while they may still be copying (caught by loom, see DESIGN.md).
        #[cfg(tls_slots_bug = "free_without_defer")]
        let copiers = 0;
        let unlinked = unlinked.with_tag(0);
        if copiers == 0 {
            // SAFETY: our swap unlinked it with no copier announced, and no
            // copier can announce itself on a value the slot no longer holds:
            // nobody else can reach it.
            drop(unsafe { unlinked.into_owned() });
        } else {
            // SAFETY: unlinked by our swap (nobody else frees it); the copiers
            // that announced themselves are pinned, and the epoch frees it only
            // after they unpin.
            unsafe { guard.defer_destroy(unlinked) };
        }
    }
}

impl<S: Clone> Slot<S> {
    /// Puts `session` in the slot and frees (or defers) what it replaces.
    pub(crate) fn store(&self, session: S, guard: &epoch::Guard) {
        // Release: publishes the session's contents to the copier's Acquire
        // compare-and-swap in `copy` and to the Acquire swaps of `take`,
        // `clear` and `retire`. Acquire: we may free the replaced session
        // now, so every copier's reads of it (their Release decrement) and its
        // writer's initialisation (that store's Release) must happen before.
        #[cfg(not(tls_slots_bug = "relaxed_publish"))]
        let publish = Ordering::AcqRel;
        // INJECTED BUG relaxed_publish: nothing orders the session's contents
        // before the pointer that publishes it (caught by loom together with
        // the copier half in `copy`, see DESIGN.md).
        #[cfg(tls_slots_bug = "relaxed_publish")]
        let publish = Ordering::Relaxed;
        let replaced = self
            .current
            .swap(epoch::Owned::new(Held(session)), publish, guard);
        // SAFETY: `replaced` was unlinked by this swap, under `guard`.
        unsafe { Self::dispose(replaced, guard) };
    }

    /// Removes the session: single use. Moves it out when nobody is copying
    /// it, else returns a copy and defers the original.
    pub(crate) fn take(&self, guard: &epoch::Guard) -> Option<S> {
        // Acquire: pairs with the Release in `store` (the contents) and with
        // the Release decrement of every copier (their reads happen before we
        // move or free the session). No Release: a null publishes nothing.
        #[cfg(not(tls_slots_bug = "take_not_atomic"))]
        let taken = self
            .current
            .swap(epoch::Shared::null(), Ordering::Acquire, guard);
        // INJECTED BUG take_not_atomic: load, then store null: two takers can
        // both get the single-use session (caught by loom).
        #[cfg(tls_slots_bug = "take_not_atomic")]
        let taken = {
            let seen = self.current.load(Ordering::Acquire, guard);
            self.current.store(epoch::Shared::null(), Ordering::Release);
            seen
        };
        if taken.is_null() {
            return None;
        }
        if taken.tag() == 0 {
            // SAFETY: unlinked by our swap with no copier announced: ours
            // alone (see `dispose`).
            let held = unsafe { taken.into_owned() }.into_box();
            return Some(held.0);
        }
        // SAFETY: `taken` was loaded under `guard` and is only freed through
        // the epoch from here on, so it is valid while `guard` lives.
        let copy = unsafe { taken.deref() }.0.clone();
        // SAFETY: unlinked by our swap, under `guard`; copiers are announced,
        // so `dispose` defers it.
        unsafe { Self::dispose(taken, guard) };
        Some(copy)
    }

    /// Removes and frees the session. Returns whether there was one.
    pub(crate) fn clear(&self, guard: &epoch::Guard) -> bool {
        // Acquire: as in `take`: we may free it now.
        let removed = self
            .current
            .swap(epoch::Shared::null(), Ordering::Acquire, guard);
        let had = !removed.is_null();
        // SAFETY: unlinked by our swap, under `guard`.
        unsafe { Self::dispose(removed, guard) };
        had
    }

    /// Copies the session in place and leaves it there. Takes the guard by
    /// value so that nothing outlives it by accident.
    pub(crate) fn copy(&self, guard: epoch::Guard) -> Option<S> {
        // Relaxed: only a first guess for the compare-and-swap below, which
        // is what synchronises.
        let mut seen = self.current.load(Ordering::Relaxed, &guard);
        loop {
            if seen.is_null() || seen.tag() == MAX_COPIERS {
                return None;
            }
            // Acquire on success: pairs with the Release of the `store` that
            // published this session (our increment extends its release
            // sequence, as other copiers' updates do), so the clone below
            // reads a fully written session.
            #[cfg(not(tls_slots_bug = "relaxed_publish"))]
            let announce = Ordering::Acquire;
            // INJECTED BUG relaxed_publish, copier half (see `store`).
            #[cfg(tls_slots_bug = "relaxed_publish")]
            let announce = Ordering::Relaxed;
            match self.current.compare_exchange(
                seen,
                seen.with_tag(seen.tag() + 1),
                announce,
                Ordering::Relaxed,
                &guard,
            ) {
                Ok(_) => break,
                Err(failed) => seen = failed.current,
            }
        }
        let copiers = seen.tag() + 1;
        let held = seen.with_tag(0).as_raw();
        // INJECTED BUG early_unpin: the guard goes before the copy, so the
        // epoch may free a session a remover deferred under us (caught by
        // loom).
        #[cfg(tls_slots_bug = "early_unpin")]
        drop(guard);
        // SAFETY: we announced ourselves on `held` while pinned: a remover
        // either sees our count and defers the free past our guard, or has
        // not unlinked it yet. It stays valid until we drop `guard`.
        let copy = unsafe { &*held }.0.clone();
        self.leave(held, copiers);
        Some(copy)
    }

    /// Takes back a copier's announcement on `held` (the slot held it with
    /// `copiers` announced right after ours), unless a remover has unlinked
    /// it meanwhile (it then saw the count and deferred the free).
    fn leave(&self, held: *const Held<S>, copiers: usize) {
        // SAFETY: the pointers below are only compared, never dereferenced,
        // so they need no protection.
        let compare_only = unsafe { epoch::unprotected() };
        let mut expected = epoch::Shared::from(held).with_tag(copiers);
        loop {
            // Release: our reads of the session happen before a remover that
            // sees the count drop (its Acquire swap) frees or moves it.
            match self.current.compare_exchange(
                expected,
                expected.with_tag(expected.tag() - 1),
                Ordering::Release,
                Ordering::Relaxed,
                compare_only,
            ) {
                Ok(_) => return,
                // Another copier came or went: retry with its count. The
                // address cannot have been reused: it is not freed while we
                // are pinned.
                Err(failed) if failed.current.with_tag(0).as_raw() == held => {
                    expected = failed.current;
                }
                // Unlinked: nothing left to take back.
                Err(_) => return,
            }
        }
    }

    /// Unlinks the session for a commit that retires this generation: freed
    /// at once if nobody copies it, else returned for deferred freeing.
    pub(crate) fn retire(&self, guard: &epoch::Guard) -> Option<Retired<S>> {
        // Acquire: as in `take`: we may free it now.
        let unlinked = self
            .current
            .swap(epoch::Shared::null(), Ordering::Acquire, guard);
        if unlinked.is_null() {
            return None;
        }
        #[cfg(not(tls_slots_bug = "retire_without_defer"))]
        let copiers = unlinked.tag();
        // INJECTED BUG retire_without_defer: the commit frees flushed sessions
        // inline even while copiers read them (caught by loom).
        #[cfg(tls_slots_bug = "retire_without_defer")]
        let copiers = 0;
        if copiers == 0 {
            // SAFETY: unlinked by our swap with no copier announced.
            drop(unsafe { unlinked.with_tag(0).into_owned() });
            Some(Retired::Freed)
        } else {
            NonNull::new(unlinked.with_tag(0).as_raw().cast_mut()).map(Retired::Deferred)
        }
    }

    /// INJECTED BUG commit_carries_sessions: moves this slot's session into
    /// `to`, as a commit that forgot to flush would.
    #[cfg(tls_slots_bug = "commit_carries_sessions")]
    pub(crate) fn carry_into(&self, to: &Slot<S>, guard: &epoch::Guard) {
        let moved = self
            .current
            .swap(epoch::Shared::null(), Ordering::AcqRel, guard);
        to.current.store(moved.with_tag(0), Ordering::Release);
    }
}

impl<S> Slot<S> {
    /// Frees whatever the slot still holds, for the owner's `Drop`. Returns
    /// whether there was a session.
    pub(crate) fn free_exclusive(&mut self) -> bool {
        // SAFETY: `&mut self`: no other thread can reach this slot (the
        // owning `SlotArray` is being dropped, see there).
        let guard = unsafe { epoch::unprotected() };
        // Relaxed: exclusive access, ordered by whatever gave us `&mut`.
        let left = self
            .current
            .swap(epoch::Shared::null(), Ordering::Relaxed, guard);
        if left.is_null() {
            return false;
        }
        // SAFETY: exclusive access; the pointer came from `Owned::new`.
        drop(unsafe { left.with_tag(0).into_owned() });
        true
    }
}
