//! loom models. Run with
//! `RUSTFLAGS="--cfg tls_slots_loom --cfg crossbeam_loom" cargo test --release --test loom`
//! (`.ci/loom` does this). Without those cfgs this file compiles to nothing.
#![cfg(tls_slots_loom)]

mod read_vs_commit;
