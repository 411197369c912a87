//! Criterion benches of the steady-state paths, one thread, every contender:
//! the connection's read path (context + copy my session, 200 B and 2 KiB),
//! the store path, and one connection (take, use, store a new ticket).
//! Multi-thread numbers, commit storms and reclamation are in `shootout`.
//!
//! ```sh
//! cargo bench --bench paths            # HTML reports in target/criterion/
//! ```

mod common;

use common::{Contender, ReadPath, Sess, context, session};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use tls_slots::{SlotAccess, Snapshot, WorkerId};

fn read<T: Contender>(c: &mut Criterion, size: usize) {
    let table = T::new(1, context(1));
    let me = WorkerId::new(0);
    let _ = table.load().store(me, session(size, 1));
    let mut r = table.reader();
    let mut g = c.benchmark_group(format!("read_{size}B"));
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::from_parameter(T::DESIGN), |b| {
        b.iter(|| {
            let current = r.current();
            black_box(current.context().id);
            black_box(current.get(me).expect("in range"))
        })
    });
    g.finish();
}

fn store<T: Contender>(c: &mut Criterion) {
    let table = T::new(1, context(1));
    let me = WorkerId::new(0);
    let template: Sess = session(200, 2);
    let mut r = table.reader();
    let mut g = c.benchmark_group("store_200B");
    g.bench_function(BenchmarkId::from_parameter(T::DESIGN), |b| {
        b.iter(|| {
            let current = r.current();
            black_box(current.context().id);
            black_box(current.store(me, black_box(&template).clone()))
        })
    });
    g.finish();
}

fn connection<T: Contender>(c: &mut Criterion) {
    let table = T::new(1, context(1));
    let me = WorkerId::new(0);
    let template: Sess = session(200, 3);
    let mut r = table.reader();
    let mut g = c.benchmark_group("mixed_200B");
    g.bench_function(BenchmarkId::from_parameter(T::DESIGN), |b| {
        b.iter(|| {
            let current = r.current();
            black_box(current.context().id);
            if let Some(s) = current.take(me).expect("in range") {
                black_box(s[0]);
            }
            black_box(current.store(me, black_box(&template).clone()))
        })
    });
    g.finish();
}

fn clone_only(c: &mut Criterion) {
    for size in [200, 2048] {
        let template = session(size, 4);
        c.benchmark_group(format!("read_{size}B"))
            .bench_function(BenchmarkId::from_parameter("clone-only"), |b| {
                b.iter(|| black_box(black_box(&template).clone()))
            });
    }
}

fn paths(c: &mut Criterion) {
    common::pin(0);
    clone_only(c);
    for_each_contender!(|T| {
        read::<T>(c, 200);
        read::<T>(c, 2048);
        store::<T>(c);
        connection::<T>(c);
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = paths
}
criterion_main!(benches);
