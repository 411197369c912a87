//! loom models. Run with
//! `RUSTFLAGS="--cfg tls_slots_loom --cfg crossbeam_loom" cargo test --release --test loom`
//! (`.ci/loom` does this, once per injected bug too). Without those cfgs this
//! file compiles to nothing.
#![cfg(tls_slots_loom)]

mod common;
mod no_reuse;

#[global_allocator]
static ALLOC: no_reuse::NoReuse = no_reuse::NoReuse;

mod borrow_vs_replace;
mod publish_vs_get;
mod read_vs_commit;
mod release_vs_pinned_reader;
mod store_vs_commit;
mod take_vs_take;
