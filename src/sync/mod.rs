//! The one door to every synchronisation primitive the crate uses.
//!
//! Every atomic, `Arc`, lock, cell, thread-local, `ArcSwap` and the epoch
//! reclamation crate are reached through this module and nowhere else, so that
//! building with `RUSTFLAGS="--cfg tls_slots_loom --cfg crossbeam_loom"`
//! swaps all of them for loom-visible versions at once:
//!
//! | primitive | normal build | `cfg(tls_slots_loom)` |
//! |---|---|---|
//! | atomics, `Arc`, `Mutex`, `RwLock` | `std::sync` | `loom::sync` |
//! | `thread_local!` | `std` | `loom` |
//! | epoch reclamation | `crossbeam-epoch` | `crossbeam-epoch` built with `--cfg crossbeam_loom` and its `loom` feature |
//! | `ArcSwap` | `arc_swap::ArcSwap` | [`ArcSwap`] stand-in below (a `loom` mutex around an `Arc`) |
//! | `ArcSwapOption` (the rustls layer's single-take ticket cell) | `arc_swap::ArcSwapOption` | stand-in below (a `loom` mutex around an `Option<Arc>`) |
//! | `arc_swap::Cache` | `arc_swap::Cache` | `Cache` stand-in (an `Arc` checked against the stand-in `ArcSwap` under its mutex) |
//!
//! The stand-in keeps arc-swap's contract that matters to us: every `load`,
//! `store`, `swap` and `compare_and_swap` on one `ArcSwap` takes effect at a
//! single point in one total order, and a loaded value stays alive for as long
//! as the caller holds it. It does *not* reproduce arc-swap's internals (debt
//! lists, its own orderings); `DESIGN.md` ("What loom checks") says what
//! follows from that.

#[cfg(not(tls_slots_loom))]
pub(crate) use std::sync::{
    Arc, Mutex, RwLock,
    atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
};

#[cfg(tls_slots_loom)]
pub(crate) use loom::sync::{
    Arc, Mutex, RwLock,
    atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
};

#[cfg(not(tls_slots_loom))]
pub(crate) use std::thread_local;

#[cfg(tls_slots_loom)]
pub(crate) use loom::thread_local;

/// Epoch-based reclamation; under `crossbeam_loom` the crate itself switches
/// to loom's atomics and thread-locals.
pub(crate) use crossbeam_epoch as epoch;

/// Pads a value to a cache line so per-worker data never shares one.
pub(crate) use crossbeam_utils::CachePadded;

#[cfg(not(tls_slots_loom))]
pub(crate) use arc_swap::{ArcSwap, ArcSwapOption};

#[cfg(tls_slots_loom)]
mod arc_swap_standin;
#[cfg(tls_slots_loom)]
pub(crate) use arc_swap_standin::{ArcSwap, ArcSwapOption};

/// A per-thread cache of what an `ArcSwap` holds: `arc_swap::Cache`, or under
/// loom the stand-in's `Cache`. Both have `new(&ArcSwap<T>)` and
/// `load(&mut self) -> &Arc<T>`, which returns the current value and replaces
/// the cached one when it changed.
#[cfg(not(tls_slots_loom))]
pub(crate) type CachedGeneration<'a, T> = arc_swap::Cache<&'a ArcSwap<T>, Arc<T>>;
#[cfg(tls_slots_loom)]
pub(crate) use arc_swap_standin::Cache as CachedGeneration;

/// What `ArcSwap::load` hands out: arc-swap's guard, or under loom the
/// stand-in's plain `Arc`. Both deref to `Arc<T>` and keep `T` alive.
#[cfg(not(tls_slots_loom))]
pub(crate) type Loaded<T> = arc_swap::Guard<Arc<T>>;
#[cfg(tls_slots_loom)]
pub(crate) type Loaded<T> = Arc<T>;

#[cfg(tls_slots_loom)]
pub(crate) use loom::sync::mpsc;
/// A one-way channel (loom's under `cfg(tls_slots_loom)`).
#[cfg(not(tls_slots_loom))]
pub(crate) use std::sync::mpsc;
