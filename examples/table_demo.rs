//! Both designs side by side: worker threads reuse and store sessions while a
//! committer publishes a new context every millisecond.
//!
//! `cargo run --release --example table_demo -- [--seconds N] [--workers N]`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};
use tls_slots::{
    Counters, LockFreeTable, RwLockTable, SessionTable, SlotAccess, Snapshot, WorkerId,
};

type Context = Arc<String>;

struct Figures {
    design: &'static str,
    ops_per_sec: f64,
    p50_ns: u64,
    p99_ns: u64,
    max_ns: u64,
    commits_per_sec: f64,
    counters: Counters,
}

fn run<T: SessionTable<Context, Vec<u8>>>(workers: usize, seconds: f64) -> Figures {
    let table = Arc::new(T::new(workers, Arc::new("generation 1".to_owned())));
    let stop = Arc::new(AtomicBool::new(false));
    let committer = {
        let (table, stop) = (Arc::clone(&table), Arc::clone(&stop));
        thread::spawn(move || {
            let mut next = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                next += Duration::from_millis(1);
                let n = table.generation().get() + 1;
                table.commit(Arc::new(format!("generation {n}")));
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    thread::sleep(wait);
                }
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let readers: Vec<_> = (0..workers)
        .map(|w| {
            let table = Arc::clone(&table);
            thread::spawn(move || {
                let me = WorkerId::new(w);
                let session = vec![w as u8; 200];
                let (mut ops, mut samples) = (0u64, Vec::with_capacity(1 << 20));
                while Instant::now() < deadline {
                    for _ in 0..64 {
                        let start = Instant::now();
                        // One connection: read the context, reuse the
                        // session if there is one, store the new one.
                        let now = table.load();
                        std::hint::black_box(now.context());
                        let reused = now.get(me).unwrap();
                        samples.push(start.elapsed().as_nanos() as u64);
                        if reused.is_none() {
                            now.store(me, session.clone()).unwrap();
                        }
                        ops += 1;
                    }
                }
                (ops, samples)
            })
        })
        .collect();
    let started = Instant::now();
    let (mut ops, mut samples) = (0, Vec::new());
    for reader in readers {
        let (n, s) = reader.join().expect("reader panicked");
        ops += n;
        samples.extend(s);
    }
    let elapsed = started.elapsed().as_secs_f64().max(seconds);
    stop.store(true, Ordering::Relaxed);
    committer.join().expect("committer panicked");
    samples.sort_unstable();
    let pct = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize];
    let counters = table.counters();
    Figures {
        design: T::DESIGN,
        ops_per_sec: ops as f64 / elapsed,
        p50_ns: pct(0.50),
        p99_ns: pct(0.99),
        max_ns: *samples.last().unwrap_or(&0),
        commits_per_sec: counters.commits as f64 / elapsed,
        counters,
    }
}

fn main() {
    let mut seconds = 2.0;
    let mut workers = thread::available_parallelism().map_or(2, |n| n.get());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        match (arg.as_str(), value.as_deref().map(str::parse::<f64>)) {
            ("--seconds", Some(Ok(v))) if v > 0.0 => seconds = v,
            ("--workers", Some(Ok(v))) if v >= 1.0 => workers = v as usize,
            _ => {
                eprintln!("usage: table_demo [--seconds N] [--workers N]");
                std::process::exit(2);
            }
        }
    }
    println!(
        "{workers} workers reuse a 200-byte session per connection; a commit every 1 ms; {seconds} s per design\n"
    );
    let results = [
        run::<RwLockTable<Context, Vec<u8>>>(workers, seconds),
        run::<LockFreeTable<Context, Vec<u8>>>(workers, seconds),
    ];
    println!(
        "| design    | connections/s | p50 read ns | p99 read ns | max read ns | commits/s | hits | misses | stores | stale | flushed | reclaimed |"
    );
    println!(
        "|-----------|--------------:|------------:|------------:|------------:|----------:|-----:|-------:|-------:|------:|--------:|----------:|"
    );
    for r in &results {
        let c = r.counters;
        println!(
            "| {:<9} | {:>13.0} | {:>11} | {:>11} | {:>11} | {:>9.0} | {} | {} | {} | {} | {} | {} |",
            r.design,
            r.ops_per_sec,
            r.p50_ns,
            r.p99_ns,
            r.max_ns,
            r.commits_per_sec,
            c.hits,
            c.misses,
            c.stores,
            c.stale,
            c.flushed,
            c.reclaimed
        );
    }
    let (rw, lf) = (&results[0], &results[1]);
    println!(
        "\nlock-free / rwlock: {:.2}x connections/s, p99 read {:.2}x lower",
        lf.ops_per_sec / rw.ops_per_sec,
        rw.p99_ns as f64 / lf.p99_ns.max(1) as f64
    );
}
