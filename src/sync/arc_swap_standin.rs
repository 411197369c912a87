//! A loom-visible stand-in for `arc_swap::ArcSwap`.
//!
//! arc-swap has no loom support, so under `cfg(tls_slots_loom)` the facade
//! exports this type instead. It has the subset of arc-swap's API the crate
//! uses and the same contract: all operations on one `ArcSwap` are linearizable
//! (a loom `Mutex` gives them one total order, and loom explores every order),
//! and what `load` returns keeps the value alive while it is held. What it does
//! not model: arc-swap's debt lists and their internal orderings. Those are
//! arc-swap's to prove; we rely only on the contract.

use super::{Arc, Mutex};

/// Stand-in for `arc_swap::ArcSwap<T>` under loom.
pub(crate) struct ArcSwap<T> {
    current: Mutex<Arc<T>>,
}

impl<T> ArcSwap<T> {
    /// Same as `arc_swap::ArcSwap::new`.
    pub(crate) fn new(value: Arc<T>) -> Self {
        Self {
            current: Mutex::new(value),
        }
    }

    /// Same contract as `arc_swap::ArcSwap::load`: a snapshot that keeps the
    /// value alive. arc-swap hands out a `Guard<Arc<T>>`; an `Arc<T>` derefs
    /// the same way.
    pub(crate) fn load(&self) -> Arc<T> {
        Arc::clone(&self.current.lock().expect("stand-in lock poisoned"))
    }

    /// Same as `arc_swap::ArcSwap::load_full`.
    pub(crate) fn load_full(&self) -> Arc<T> {
        self.load()
    }

    /// Same as `arc_swap::ArcSwap::compare_and_swap`: replaces the value with
    /// `new` only if it is still `current` (by pointer), and returns what was
    /// there before the call either way.
    pub(crate) fn compare_and_swap(&self, current: &Arc<T>, new: Arc<T>) -> Arc<T> {
        let mut slot = self.current.lock().expect("stand-in lock poisoned");
        let previous = Arc::clone(&slot);
        if Arc::ptr_eq(&previous, current) {
            *slot = new;
        }
        previous
    }
}

/// Stand-in for `arc_swap::ArcSwapOption<T>` under loom: the subset the
/// rustls layer's ticket cell uses (`new`, `swap`), with the same contract
/// (every `swap` on one cell takes effect at one point of a total order).
pub(crate) struct ArcSwapOption<T> {
    current: Mutex<Option<Arc<T>>>,
}

impl<T> ArcSwapOption<T> {
    /// Same as `arc_swap::ArcSwapOption::new`.
    pub(crate) fn new(value: Option<Arc<T>>) -> Self {
        Self {
            current: Mutex::new(value),
        }
    }

    /// Same as `arc_swap::ArcSwapOption::swap`: puts `new` in and returns
    /// what was there.
    pub(crate) fn swap(&self, new: Option<Arc<T>>) -> Option<Arc<T>> {
        std::mem::replace(
            &mut *self.current.lock().expect("stand-in lock poisoned"),
            new,
        )
    }
}

/// Stand-in for `arc_swap::Cache<&ArcSwap<T>, Arc<T>>` under loom.
///
/// arc-swap's `Cache` compares the cached pointer with the published one
/// (a `Relaxed` load) and calls `load_full` when they differ. Here the
/// comparison happens under the stand-in's mutex, so loom sees every
/// interleaving of a cached load with a commit at the level of that contract:
/// the cache returns either the value it last fetched (when nothing was
/// published since) or the current one. What it does not model: the staleness
/// a `Relaxed` load permits without a happens-before edge to the publisher;
/// the table tolerates that (a stale generation is retired and serves
/// nothing), and loom's Mutex makes the stand-in strictly stronger.
pub(crate) struct Cache<'a, T> {
    source: &'a ArcSwap<T>,
    cached: Arc<T>,
}

impl<'a, T> Cache<'a, T> {
    /// Same as `arc_swap::Cache::new`.
    pub(crate) fn new(source: &'a ArcSwap<T>) -> Self {
        Self {
            cached: source.load_full(),
            source,
        }
    }

    /// Same contract as `arc_swap::Cache::load`.
    pub(crate) fn load(&mut self) -> &Arc<T> {
        let current = self.source.load_full();
        if !Arc::ptr_eq(&current, &self.cached) {
            self.cached = current;
        }
        &self.cached
    }
}
