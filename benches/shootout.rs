//! The head-to-head shootout: every contender through every scenario, one
//! process, one run, so that every claim is a ratio measured side by side.
//!
//! ```sh
//! cargo bench --bench shootout -- --quick --json   # < 3 min on 2 cores
//! cargo bench --bench shootout -- --json           # the fuller run
//! ```
//!
//! Prints one JSON object per line (`scenario`, `design`, `threads`,
//! `ns_per_op`, `p50_ns`, `p99_ns`, `p999_ns`, `p9999_ns`, plus
//! scenario-specific fields) and a final `{"ratios":{...}}` line with the
//! targets P1–P6 of issue 5. Nothing here asserts a timing.

mod common;

use common::tls;
use common::{Contender, Ctx, ReadPath, Sess, context, cores, pin, session};
use hdrhistogram::Histogram;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, HandshakeKind};
use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};
use tls_slots::{Reuse, SlotAccess, Snapshot, WorkerId};

// ---------------------------------------------------------------- config

struct Config {
    quick: bool,
    json: bool,
    only: Option<String>,
    /// Operations per thread per timed run of a steady-state scenario.
    iters: u64,
    /// Timed runs per steady-state data point; the median is reported.
    runs: usize,
    /// How long readers run in a commit storm.
    storm: Duration,
    /// Commits timed per commit-cost data point.
    commit_iters: usize,
    /// Commits in the reclamation scenario.
    reclaim_commits: u64,
    /// End to end: seconds per timed run, and runs per data point.
    e2e_run: Duration,
    e2e_runs: usize,
    /// End to end with and without commits: seconds per run, and runs.
    e2e_commit_run: Duration,
    e2e_commit_runs: usize,
}

impl Config {
    fn from_args() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let quick = args.iter().any(|a| a == "--quick");
        let json = args.iter().any(|a| a == "--json");
        let only = args
            .iter()
            .position(|a| a == "--only")
            .and_then(|i| args.get(i + 1).cloned());
        if quick {
            Config {
                quick,
                json,
                only,
                iters: 200_000,
                runs: 5,
                storm: Duration::from_millis(1000),
                commit_iters: 20_000,
                reclaim_commits: 1_000_000,
                e2e_run: Duration::from_millis(1000),
                e2e_runs: 3,
                e2e_commit_run: Duration::from_millis(1500),
                e2e_commit_runs: 2,
            }
        } else {
            Config {
                quick,
                json,
                only,
                iters: 1_000_000,
                runs: 9,
                storm: Duration::from_secs(5),
                commit_iters: 20_000,
                reclaim_commits: 1_000_000,
                e2e_run: Duration::from_secs(3),
                e2e_runs: 5,
                e2e_commit_run: Duration::from_secs(4),
                e2e_commit_runs: 3,
            }
        }
    }

    fn wants(&self, scenario: &str) -> bool {
        self.only.as_deref().is_none_or(|o| scenario.contains(o))
    }
}

// ---------------------------------------------------------------- output

#[derive(Clone)]
enum Val {
    Num(f64),
    Int(u64),
    Str(String),
    Bool(Option<bool>),
    Null,
}

impl Val {
    fn json(&self) -> String {
        match self {
            Val::Num(x) if x.is_finite() => format!("{x:.2}"),
            Val::Num(_) | Val::Null | Val::Bool(None) => "null".into(),
            Val::Int(x) => x.to_string(),
            Val::Str(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
            Val::Bool(Some(b)) => b.to_string(),
        }
    }
}

#[derive(Clone)]
struct Row {
    scenario: String,
    design: String,
    threads: usize,
    ns_per_op: Option<f64>,
    pct: Option<[u64; 4]>,
    extra: Vec<(&'static str, Val)>,
}

impl Row {
    fn new(scenario: &str, design: &str, threads: usize) -> Self {
        Row {
            scenario: scenario.into(),
            design: design.into(),
            threads,
            ns_per_op: None,
            pct: None,
            extra: Vec::new(),
        }
    }

    fn hist(mut self, h: &Histogram<u64>) -> Self {
        self.pct = Some([
            h.value_at_quantile(0.50),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.value_at_quantile(0.9999),
        ]);
        self
    }

    fn with(mut self, key: &'static str, val: Val) -> Self {
        self.extra.push((key, val));
        self
    }

    fn extra(&self, key: &str) -> Option<&Val> {
        self.extra.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    fn json(&self) -> String {
        let p = |i: usize| self.pct.map_or(Val::Null, |p| Val::Int(p[i])).json();
        let mut s = format!(
            "{{\"scenario\":{},\"design\":{},\"threads\":{},\"ns_per_op\":{},\"p50_ns\":{},\"p99_ns\":{},\"p999_ns\":{},\"p9999_ns\":{}",
            Val::Str(self.scenario.clone()).json(),
            Val::Str(self.design.clone()).json(),
            self.threads,
            self.ns_per_op.map_or(Val::Null, Val::Num).json(),
            p(0),
            p(1),
            p(2),
            p(3),
        );
        for (k, v) in &self.extra {
            let _ = write!(s, ",\"{k}\":{}", v.json());
        }
        s.push('}');
        s
    }

    fn text(&self) -> String {
        let mut s = format!(
            "{:<22} {:<20} t={} ns/op={:>9}",
            self.scenario,
            self.design,
            self.threads,
            self.ns_per_op.map_or("-".into(), |x| format!("{x:.1}"))
        );
        if let Some(p) = self.pct {
            let _ = write!(
                s,
                " p50={} p99={} p99.9={} p99.99={}",
                p[0], p[1], p[2], p[3]
            );
        }
        for (k, v) in &self.extra {
            let _ = write!(s, " {k}={}", v.json());
        }
        s
    }
}

struct Report {
    cfg: Config,
    rows: Vec<Row>,
}

impl Report {
    fn push(&mut self, row: Row) {
        if self.cfg.json {
            println!("{}", row.json());
        } else {
            println!("{}", row.text());
        }
        self.rows.push(row);
    }

    fn find(&self, scenario: &str, design: &str, threads: usize) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.scenario == scenario && r.design == design && r.threads == threads)
    }
}

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds")
}

fn record(h: &mut Histogram<u64>, d: Duration) {
    h.saturating_record((d.as_nanos() as u64).max(1));
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

// ---------------------------------------------------------------- operations

const SMALL: usize = 200;
const LARGE: usize = 2048;

/// The connection's read path: current context, copy my session.
#[inline(always)]
fn op_read<R: ReadPath>(r: &mut R, me: WorkerId) {
    let current = r.current();
    black_box(current.context().id);
    black_box(current.get(me).expect("worker in range"));
}

/// The new-session callback: store a fresh session into my slot.
#[inline(always)]
fn op_store<R: ReadPath>(r: &mut R, me: WorkerId, template: &Sess) {
    let current = r.current();
    black_box(current.context().id);
    let fresh = black_box(template).clone();
    black_box(current.store(me, fresh).expect("worker in range"));
}

/// One connection: take my session (or, with `borrow`, another worker's when
/// mine is empty), use it, store the new ticket. With `borrow`, every fourth
/// connection fails its handshake and clears the slot instead of storing, so
/// the next one has to borrow.
#[inline(always)]
fn op_connection<R: ReadPath>(r: &mut R, me: WorkerId, template: &Sess, n: u64, borrow: bool) {
    let current = r.current();
    black_box(current.context().id);
    let mut reused = current.take(me).expect("worker in range");
    if reused.is_none() && borrow {
        reused = current
            .borrow(me, Reuse::Take)
            .expect("worker in range")
            .map(|b| b.session);
    }
    if let Some(s) = &reused {
        // "use": the handshake reads the ticket.
        black_box(s[0] ^ s[s.len() - 1]);
    }
    drop(reused);
    if borrow && n % 4 == 3 {
        black_box(current.clear(me).expect("worker in range"));
    } else {
        let fresh = black_box(template).clone();
        black_box(current.store(me, fresh).expect("worker in range"));
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Read,
    Store,
    Mixed,
    MixedBorrow,
}

fn thread_loop<T: Contender>(
    table: &T,
    op: Op,
    me: WorkerId,
    iters: u64,
    template: &Sess,
) -> Duration {
    let mut r = table.reader();
    let start = Instant::now();
    match op {
        Op::Read => (0..iters).for_each(|_| op_read(&mut r, me)),
        Op::Store => (0..iters).for_each(|_| op_store(&mut r, me, template)),
        Op::Mixed => (0..iters).for_each(|n| op_connection(&mut r, me, template, n, false)),
        Op::MixedBorrow => (0..iters).for_each(|n| op_connection(&mut r, me, template, n, true)),
    }
    start.elapsed()
}

/// CPU time the calling thread has used: unlike the wall clock, it does not
/// count time the thread spent preempted by other jobs on the machine.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; CLOCK_THREAD_CPUTIME_ID exists on
    // every Linux this runs on, and on failure `ts` stays zero.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// One timed run of `threads` pinned threads, each doing `iters` operations
/// after a warm-up; returns ns per op per thread (mean over threads) by the
/// wall clock and by thread CPU time.
fn timed_threads(
    cfg: &Config,
    threads: usize,
    body: impl Fn(usize, u64) -> Duration + Sync,
) -> (f64, f64) {
    let barrier = Barrier::new(threads);
    let elapsed: Vec<(Duration, Duration)> = thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (barrier, body) = (&barrier, &body);
                s.spawn(move || {
                    pin(i);
                    body(i, cfg.iters / 10);
                    barrier.wait();
                    let cpu = thread_cpu();
                    let wall = body(i, cfg.iters);
                    (wall, thread_cpu() - cpu)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .collect()
    });
    let per_op = |pick: fn(&(Duration, Duration)) -> Duration| {
        elapsed.iter().map(|e| pick(e).as_nanos()).sum::<u128>() as f64
            / threads as f64
            / cfg.iters as f64
    };
    (per_op(|e| e.0), per_op(|e| e.1))
}

/// A design, ready to be timed again and again: one call is one run.
type Runner<'a> = (&'static str, Box<dyn FnMut() -> (f64, f64) + 'a>);

/// `op` on a table of `T`, `threads` workers, each slot holding a session.
fn steady<'a, T: Contender>(cfg: &'a Config, op: Op, threads: usize, size: usize) -> Runner<'a> {
    let template = session(size, 7);
    let table = T::new(threads, context(1));
    for w in 0..threads {
        let _ = table.load().store(WorkerId::new(w), template.clone());
    }
    let run = move || {
        timed_threads(cfg, threads, |i, iters| {
            thread_loop(&table, op, WorkerId::new(i), iters, &template)
        })
    };
    (T::DESIGN, Box::new(run))
}

/// The floor for P1: clone the session with no synchronisation at all.
fn clone_only(cfg: &Config, threads: usize, size: usize) -> Runner<'_> {
    let templates: Vec<Sess> = (0..threads).map(|i| session(size, i as u64)).collect();
    let run = move || {
        timed_threads(cfg, threads, |i, iters| {
            let template = &templates[i];
            let start = Instant::now();
            for _ in 0..iters {
                black_box(black_box(template).clone());
            }
            start.elapsed()
        })
    };
    ("clone-only", Box::new(run))
}

// ---------------------------------------------------------------- commit storms

struct Storm {
    readers: Histogram<u64>,
    commits: Histogram<u64>,
    reader_ops: u64,
}

/// `readers` pinned threads run connections (timed one by one) while a
/// committer publishes a new context every `interval` (never, if `None`).
fn storm<T: Contender>(cfg: &Config, readers: usize, interval: Option<Duration>) -> Storm {
    let template = session(SMALL, 3);
    let table = T::new(readers, context(1));
    let stop = AtomicBool::new(false);
    let barrier = Barrier::new(readers + 1);
    thread::scope(|s| {
        let handles: Vec<_> = (0..readers)
            .map(|i| {
                let (table, stop, barrier, template) = (&table, &stop, &barrier, &template);
                s.spawn(move || {
                    pin(i);
                    let me = WorkerId::new(i);
                    let mut r = table.reader();
                    let mut h = hist();
                    for n in 0..10_000 {
                        op_connection(&mut r, me, template, n, false);
                    }
                    barrier.wait();
                    let mut n = 0;
                    // Relaxed: a stop flag; the scope's join orders the rest.
                    while !stop.load(Ordering::Relaxed) {
                        let t0 = Instant::now();
                        op_connection(&mut r, me, template, n, false);
                        record(&mut h, t0.elapsed());
                        n += 1;
                    }
                    (h, n)
                })
            })
            .collect();
        let committer = {
            let (table, barrier) = (&table, &barrier);
            s.spawn(move || {
                // The committer shares a core with a reader only when every
                // core has one.
                if readers < cores() {
                    pin(readers);
                }
                let mut commits = hist();
                // Contexts are built ahead so the commit is timed alone.
                let fresh: Vec<Ctx> = (0..64).map(|i| context(i + 2)).collect();
                barrier.wait();
                let start = Instant::now();
                let mut next = start;
                let mut k = 0;
                while start.elapsed() < cfg.storm {
                    match interval {
                        Some(every) => {
                            next += every;
                            let now = Instant::now();
                            if next > now {
                                thread::sleep(next - now);
                            }
                            let ctx = fresh[k % fresh.len()].clone();
                            let t0 = Instant::now();
                            table.commit(ctx);
                            record(&mut commits, t0.elapsed());
                            k += 1;
                        }
                        None => thread::sleep(Duration::from_millis(10)),
                    }
                }
                commits
            })
        };
        let commits = committer.join().expect("committer");
        // Relaxed: see the readers' loop.
        stop.store(true, Ordering::Relaxed);
        let mut readers_h = hist();
        let mut ops = 0;
        for h in handles {
            let (h, n) = h.join().expect("reader");
            readers_h.add(&h).expect("same bounds");
            ops += n;
        }
        Storm {
            readers: readers_h,
            commits,
            reader_ops: ops,
        }
    })
}

// ---------------------------------------------------------------- commit cost

/// Commit latency with 64 workers of which `live` hold a session.
fn commit_cost<T: Contender>(cfg: &Config, live: usize) -> Histogram<u64> {
    let template = session(SMALL, 5);
    let table = T::new(64, context(1));
    let fresh: Vec<Ctx> = (0..64).map(|i| context(i + 2)).collect();
    let mut h = hist();
    for i in 0..cfg.commit_iters + cfg.commit_iters / 10 {
        {
            let current = table.load();
            for w in 0..live {
                let _ = current.store(WorkerId::new(w), template.clone());
            }
        }
        let ctx = fresh[i % fresh.len()].clone();
        let t0 = Instant::now();
        table.commit(ctx);
        let d = t0.elapsed();
        if i >= cfg.commit_iters / 10 {
            record(&mut h, d);
        }
    }
    h
}

// ---------------------------------------------------------------- reclamation

/// The size of the sessions in the reclamation scenario: 2 KiB less one byte,
/// a size nothing else in the process allocates, so the allocator below can
/// count exactly the sessions that are alive (in slots, in flight, or flushed
/// and not yet freed).
const RECLAIM_SESSION: usize = 2047;

/// Counts live allocations of `RECLAIM_SESSION` bytes while `COUNTING` is
/// set; otherwise one relaxed load of a flag that is never written while
/// other scenarios run.
struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_SESSIONS: AtomicI64 = AtomicI64::new(0);

// SAFETY: forwards to the system allocator unchanged; the counting touches
// no memory the caller owns.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // Relaxed (both): statistics; nothing is published through them.
        if layout.size() == RECLAIM_SESSION && COUNTING.load(Ordering::Relaxed) {
            LIVE_SESSIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Relaxed (both): statistics.
        if layout.size() == RECLAIM_SESSION && COUNTING.load(Ordering::Relaxed) {
            LIVE_SESSIONS.fetch_sub(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn live_sessions() -> i64 {
    // Relaxed: a statistic.
    LIVE_SESSIONS.load(Ordering::Relaxed)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

struct Reclaim {
    commits: Histogram<u64>,
    ns_per_commit: f64,
    backlog_peak: i64,
    backlog_end: i64,
    backlog_settled: i64,
    rss_start: u64,
    rss_end: u64,
    rss_peak: u64,
}

/// `commits` commits back to back, each after the committer stored a 2 KiB
/// session in its own slot, while a pinned reader runs connections on the
/// other slot. Backlog: sessions alive beyond the ones that can be in use
/// (one per slot and one in flight per thread), counted by the allocator.
fn reclaim<T: Contender>(commits: u64) -> Reclaim {
    let template = session(RECLAIM_SESSION, 9);
    let table = T::new(2, context(1));
    // In use at most: a session in each of the 2 slots, and a taken one plus
    // a fresh one in each of the 2 threads.
    let in_use = 2 + 2 * 2;
    let backlog = || (live_sessions() - in_use).max(0);
    // Relaxed: set before the threads that allocate are spawned (the spawn
    // orders it), cleared after they are joined.
    LIVE_SESSIONS.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let fresh: Vec<Ctx> = (0..64).map(|i| context(i + 2)).collect();
    let stop = AtomicBool::new(false);
    let barrier = Barrier::new(2);
    thread::scope(|s| {
        let reader = {
            let (table, stop, barrier, template) = (&table, &stop, &barrier, &template);
            s.spawn(move || {
                pin(0);
                let me = WorkerId::new(0);
                let mut r = table.reader();
                barrier.wait();
                let mut n = 0;
                // Relaxed: a stop flag.
                while !stop.load(Ordering::Relaxed) {
                    op_connection(&mut r, me, template, n, false);
                    n += 1;
                }
            })
        };
        let committer = {
            let (table, stop, barrier, template, fresh) =
                (&table, &stop, &barrier, &template, &fresh);
            s.spawn(move || {
                pin(1);
                barrier.wait();
                let me = WorkerId::new(1);
                let sample_every = (commits / 100).max(1);
                let warm = (commits / 100).max(1);
                let (mut rss_start, mut rss_peak, mut backlog_peak) = (0, 0, 0);
                let mut h = hist();
                let start = Instant::now();
                for i in 0..commits {
                    let _ = table.load().store(me, template.clone());
                    let ctx = fresh[(i % 64) as usize].clone();
                    let t0 = Instant::now();
                    table.commit(ctx);
                    record(&mut h, t0.elapsed());
                    if i % sample_every == sample_every - 1 {
                        backlog_peak = backlog_peak.max(backlog());
                        let rss = rss_kib();
                        rss_peak = rss_peak.max(rss);
                        if i + 1 == warm {
                            rss_start = rss;
                        }
                    }
                }
                let ns_per_commit = start.elapsed().as_nanos() as f64 / commits as f64;
                let backlog_end = backlog();
                // Relaxed: a stop flag; the join below orders the rest.
                stop.store(true, Ordering::Relaxed);
                while !reader.is_finished() {
                    thread::yield_now();
                }
                // Readers have stopped: what is alive now beyond the current
                // slots is backlog. Give deferred reclamation its chance.
                for _ in 0..1_000 {
                    if live_sessions() <= 2 {
                        break;
                    }
                    table.settle();
                }
                (
                    h,
                    ns_per_commit,
                    backlog_peak,
                    backlog_end,
                    rss_start,
                    rss_peak,
                )
            })
        };
        let (h, ns_per_commit, backlog_peak, backlog_end, rss_start, rss_peak) =
            committer.join().expect("committer");
        // The sessions still in the current generation's slots are not backlog.
        let in_slots = (0..2)
            .filter(|&w| matches!(table.load().get(WorkerId::new(w)), Ok(Some(_))))
            .count() as i64;
        let backlog_settled = live_sessions() - in_slots;
        COUNTING.store(false, Ordering::Relaxed);
        Reclaim {
            commits: h,
            ns_per_commit,
            backlog_peak,
            backlog_end,
            backlog_settled,
            rss_start,
            rss_end: rss_kib(),
            rss_peak,
        }
    })
}

// ---------------------------------------------------------------- scenarios

/// Every design (and the clone-only floor for reads) at every thread count.
/// Runs are interleaved, design after design, so that a burst of load from
/// elsewhere on the machine lands on all of them alike; each row reports the
/// median run (`ns_per_op`) and the fastest (`min_ns_per_op`).
fn run_steady(rep: &mut Report, scenario: &str, op: Op, size: usize) {
    if !rep.cfg.wants(scenario) {
        return;
    }
    for threads in 1..=cores() {
        let cfg = &rep.cfg;
        let mut runners: Vec<Runner<'_>> = Vec::new();
        if op == Op::Read {
            runners.push(clone_only(cfg, threads, size));
        }
        for_each_contender!(|T| { runners.push(steady::<T>(cfg, op, threads, size)) });
        let mut wall = vec![Vec::new(); runners.len()];
        let mut cpu = vec![Vec::new(); runners.len()];
        for _ in 0..cfg.runs {
            for (k, (_, run)) in runners.iter_mut().enumerate() {
                let (w, c) = run();
                wall[k].push(w);
                cpu[k].push(c);
            }
        }
        let names: Vec<&str> = runners.iter().map(|(n, _)| *n).collect();
        drop(runners);
        for ((name, wall), cpu) in names.into_iter().zip(wall).zip(cpu) {
            let min = wall.iter().copied().fold(f64::INFINITY, f64::min);
            let mut row = Row::new(scenario, name, threads)
                .with("session_bytes", Val::Int(size as u64))
                .with("min_ns_per_op", Val::Num(min))
                .with("cpu_ns_per_op", Val::Num(median(cpu)))
                .with("runs", Val::Int(wall.len() as u64));
            row.ns_per_op = Some(median(wall));
            rep.push(row);
        }
    }
}

fn run_storms<T: Contender>(rep: &mut Report) {
    for (scenario, interval) in [
        ("storm_none", None),
        ("storm_1ms", Some(Duration::from_millis(1))),
        ("storm_100us", Some(Duration::from_micros(100))),
    ] {
        if !rep.cfg.wants(scenario) {
            continue;
        }
        for readers in 1..=cores() {
            let st = storm::<T>(&rep.cfg, readers, interval);
            let mut row = Row::new(scenario, T::DESIGN, readers).hist(&st.readers);
            row.ns_per_op = Some(st.readers.mean());
            let row = row
                .with("reader_ops", Val::Int(st.reader_ops))
                .with("commits", Val::Int(st.commits.len()))
                .with("commit_p50_ns", Val::Int(st.commits.value_at_quantile(0.5)))
                .with(
                    "commit_p99_ns",
                    Val::Int(st.commits.value_at_quantile(0.99)),
                )
                .with("reader_max_ns", Val::Int(st.readers.max()));
            rep.push(row);
        }
    }
}

fn run_commit_cost<T: Contender>(rep: &mut Report) {
    if !rep.cfg.wants("commit_64w") {
        return;
    }
    for live in [0, 8, 64] {
        let h = commit_cost::<T>(&rep.cfg, live);
        let mut row = Row::new("commit_64w", T::DESIGN, 1).hist(&h);
        row.ns_per_op = Some(h.mean());
        rep.push(row.with("live_sessions", Val::Int(live as u64)));
    }
}

fn run_reclaim<T: Contender>(rep: &mut Report) {
    if !rep.cfg.wants("reclaim_1m") {
        return;
    }
    let n = rep.cfg.reclaim_commits;
    let r = reclaim::<T>(n);
    let mut row = Row::new("reclaim_1m", T::DESIGN, 2).hist(&r.commits);
    row.ns_per_op = Some(r.ns_per_commit);
    let change = if r.rss_start > 0 {
        (r.rss_end as f64 - r.rss_start as f64) / r.rss_start as f64 * 100.0
    } else {
        f64::NAN
    };
    rep.push(
        row.with("commits", Val::Int(n))
            .with("workers", Val::Int(2))
            .with("session_bytes", Val::Int(RECLAIM_SESSION as u64))
            .with("backlog_peak", Val::Int(r.backlog_peak as u64))
            .with("backlog_end", Val::Int(r.backlog_end as u64))
            .with("backlog_settled", Val::Num(r.backlog_settled as f64))
            .with("rss_start_kib", Val::Int(r.rss_start))
            .with("rss_end_kib", Val::Int(r.rss_end))
            .with("rss_peak_kib", Val::Int(r.rss_peak))
            .with("rss_change_pct", Val::Num(change)),
    );
}

fn clock_overhead(rep: &mut Report) {
    let mut h = hist();
    for _ in 0..100_000 {
        let t0 = Instant::now();
        record(&mut h, t0.elapsed());
    }
    let mut row = Row::new("clock", "Instant::now pair", 1).hist(&h);
    row.ns_per_op = Some(h.mean());
    rep.push(row);
}

// ---------------------------------------------------------------- end to end

/// One timed run of real connections.
struct E2eRun {
    handshakes: u64,
    resumed: u64,
    stale: u64,
    failed: u64,
    commits: u64,
    /// Mean over threads of the seconds each ran.
    secs: f64,
    /// TCP connect until the handshake is done, every connection.
    connect: Histogram<u64>,
    /// Time spent inside the session store, summed over threads.
    store: tls::Tally,
    client_cpu: Duration,
}

impl E2eRun {
    fn per_sec(&self) -> f64 {
        self.handshakes as f64 / self.secs
    }
}

/// `threads` pinned client threads (worker i on core i, beside server i)
/// connect back to back for `cfg_run`; with `commit_every`, a committer
/// publishes a new identity that often. With `timed_store`, every config is
/// swapped for one whose store is wrapped in `tls::Timed` (one per config,
/// cached per thread), so the store's time is tallied; the commit scenario
/// runs the configs untouched.
fn e2e_run<C: tls::E2e>(
    client: &C,
    servers: &tls::Servers,
    threads: usize,
    run: Duration,
    timed_store: bool,
    commit_every: Option<Duration>,
) -> E2eRun {
    let barrier = Barrier::new(threads + usize::from(commit_every.is_some()));
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        let committer = commit_every.map(|every| {
            let (barrier, done) = (&barrier, &done);
            s.spawn(move || {
                barrier.wait();
                let mut commits = 0;
                let mut next = Instant::now() + every;
                // Relaxed: a stop flag; the scope's join orders the rest.
                while !done.load(Ordering::Relaxed) {
                    let now = Instant::now();
                    if now < next {
                        thread::sleep((next - now).min(Duration::from_millis(5)));
                        continue;
                    }
                    client.commit();
                    commits += 1;
                    next += every;
                }
                commits
            })
        });
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (barrier, addr) = (&barrier, servers.addrs[i]);
                s.spawn(move || {
                    pin(i);
                    tls_slots::tls::set_current_worker(WorkerId::new(i));
                    let name = ServerName::try_from("localhost").expect("name");
                    let mut cache: Option<(Arc<ClientConfig>, Arc<ClientConfig>)> = None;
                    let mut current = || {
                        let (config, seen, store) = client.current();
                        if !timed_store {
                            return (config, seen);
                        }
                        match &cache {
                            Some((plain, t)) if Arc::ptr_eq(plain, &config) => {
                                (Arc::clone(t), seen)
                            }
                            _ => {
                                let t = tls::timed(&config, store);
                                cache = Some((config, Arc::clone(&t)));
                                (t, seen)
                            }
                        }
                    };
                    // Warm-up: the first connection is a full handshake;
                    // the rest fill the store and the caches.
                    for _ in 0..50 {
                        let (config, seen) = current();
                        let _ = tls::connect(config, seen, addr, &name);
                    }
                    let _ = tls::take_tally();
                    barrier.wait();
                    let mut r = E2eRun {
                        handshakes: 0,
                        resumed: 0,
                        stale: 0,
                        failed: 0,
                        commits: 0,
                        secs: 0.0,
                        connect: hist(),
                        store: tls::take_tally(),
                        client_cpu: Duration::ZERO,
                    };
                    let cpu = thread_cpu();
                    let start = Instant::now();
                    while start.elapsed() < run {
                        let (config, seen) = current();
                        match tls::connect(config, seen, addr, &name) {
                            Ok(c) => {
                                r.handshakes += 1;
                                r.resumed += u64::from(c.kind == HandshakeKind::Resumed);
                                r.stale += u64::from(c.stale);
                                record(&mut r.connect, c.connect);
                            }
                            Err(_) => r.failed += 1,
                        }
                    }
                    r.secs = start.elapsed().as_secs_f64();
                    r.client_cpu = thread_cpu() - cpu;
                    r.store = tls::take_tally();
                    r
                })
            })
            .collect();
        let runs: Vec<E2eRun> = handles
            .into_iter()
            .map(|h| h.join().expect("client thread"))
            .collect();
        // Relaxed: see the committer.
        done.store(true, Ordering::Relaxed);
        let commits = committer.map_or(0, |c| c.join().expect("committer"));
        let mut all = E2eRun {
            handshakes: 0,
            resumed: 0,
            stale: 0,
            failed: 0,
            commits,
            secs: 0.0,
            connect: hist(),
            store: tls::take_tally(),
            client_cpu: Duration::ZERO,
        };
        for r in &runs {
            all.add(r);
        }
        all.secs = runs.iter().map(|r| r.secs).sum::<f64>() / runs.len() as f64;
        all
    })
}

impl E2eRun {
    /// Adds `r`'s counts (not its seconds: threads run side by side).
    fn add(&mut self, r: &E2eRun) {
        self.handshakes += r.handshakes;
        self.resumed += r.resumed;
        self.stale += r.stale;
        self.failed += r.failed;
        self.commits += r.commits;
        self.connect.add(&r.connect).expect("same bounds");
        self.store.add(&r.store);
        self.client_cpu += r.client_cpu;
    }
}

/// Every run of one design at one thread count, and their sum.
struct E2eRuns {
    design: &'static str,
    per_sec: Vec<f64>,
    sum: Option<E2eRun>,
}

impl E2eRuns {
    fn new(design: &'static str) -> Self {
        Self {
            design,
            per_sec: Vec::new(),
            sum: None,
        }
    }

    fn push(&mut self, r: E2eRun) {
        self.per_sec.push(r.per_sec());
        match &mut self.sum {
            Some(sum) => {
                sum.add(&r);
                sum.secs += r.secs;
            }
            None => self.sum = Some(r),
        }
    }
}

/// A runner per contender: one call is one timed run.
type E2eRunner<'a> = (
    &'static str,
    Box<dyn Fn(usize, Duration, bool, Option<Duration>) -> E2eRun + 'a>,
);

fn e2e_runner<'a, C: tls::E2e>(client: &'a C, servers: &'a tls::Servers) -> E2eRunner<'a> {
    (
        C::DESIGN,
        Box::new(move |threads, run, timed, every| {
            e2e_run(client, servers, threads, run, timed, every)
        }),
    )
}

/// P6: real TLS 1.3 resumed handshakes over 127.0.0.1, tls-slots on each
/// design against rustls's `ClientSessionMemoryCache`; runs interleaved
/// design after design, as in `run_steady`.
fn run_e2e(rep: &mut Report) {
    let wants_rate = rep.cfg.wants("e2e_resumed") || rep.cfg.wants("store_6calls");
    let wants_commit = rep.cfg.wants("e2e_commit");
    if !wants_rate && !wants_commit {
        return;
    }
    let world = tls::World::new();
    let servers = tls::Servers::start(&world, cores(), pin);
    let lock_free = tls::LockFreeSlots::new(&world, cores());
    let rwlock = tls::RwLockSlots::new(&world, cores());
    let rustls_cache = tls::RustlsCache::new(&world);
    let runners = [
        e2e_runner(&lock_free, &servers),
        e2e_runner(&rwlock, &servers),
        e2e_runner(&rustls_cache, &servers),
    ];

    if wants_rate {
        for threads in 1..=cores() {
            let mut all: Vec<E2eRuns> = runners.iter().map(|(d, _)| E2eRuns::new(d)).collect();
            for _ in 0..rep.cfg.e2e_runs {
                for (k, (_, run)) in runners.iter().enumerate() {
                    all[k].push(run(threads, rep.cfg.e2e_run, true, None));
                }
            }
            for runs in all {
                push_e2e_rate(rep, threads, runs);
            }
        }
    }

    if wants_commit {
        let threads = cores().min(2);
        let every = Duration::from_millis(100);
        let mut none: Vec<E2eRuns> = runners.iter().map(|(d, _)| E2eRuns::new(d)).collect();
        let mut with: Vec<E2eRuns> = runners.iter().map(|(d, _)| E2eRuns::new(d)).collect();
        for _ in 0..rep.cfg.e2e_commit_runs {
            for (k, (_, run)) in runners.iter().enumerate() {
                none[k].push(run(threads, rep.cfg.e2e_commit_run, false, None));
                with[k].push(run(threads, rep.cfg.e2e_commit_run, false, Some(every)));
            }
        }
        for (scenario, all) in [("e2e_commit_none", none), ("e2e_commit_100ms", with)] {
            for runs in all {
                push_e2e_commit(rep, scenario, threads, runs);
            }
        }
    }
    drop(runners);
    servers.stop();
}

fn push_e2e_rate(rep: &mut Report, threads: usize, runs: E2eRuns) {
    let sum = runs.sum.expect("at least one run");
    let per_sec = median(runs.per_sec.clone());
    let hs = sum.handshakes.max(1) as f64;
    // Wall time per handshake per thread, at the median rate.
    let wall_ns = threads as f64 * 1e9 / per_sec;
    let store_ns = sum.store.total_ns() as f64 / hs;
    let mut row = Row::new("e2e_resumed", runs.design, threads).hist(&sum.connect);
    row.ns_per_op = Some(wall_ns);
    rep.push(
        row.with("handshakes_per_sec", Val::Num(per_sec))
            .with(
                "min_handshakes_per_sec",
                Val::Num(runs.per_sec.iter().copied().fold(f64::INFINITY, f64::min)),
            )
            .with(
                "max_handshakes_per_sec",
                Val::Num(runs.per_sec.iter().copied().fold(0.0, f64::max)),
            )
            .with("handshakes", Val::Int(sum.handshakes))
            .with("resumed_share", Val::Num(sum.resumed as f64 / hs))
            .with("failed", Val::Int(sum.failed))
            .with("store_ns_per_hs", Val::Num(store_ns))
            .with(
                "client_cpu_ns_per_hs",
                Val::Num(sum.client_cpu.as_nanos() as f64 / hs),
            )
            .with("runs", Val::Int(runs.per_sec.len() as u64)),
    );

    // The same handshakes seen from the store: what the 6 calls cost.
    let st = &sum.store;
    let over_1us = st.per_call.len() - st.per_call.count_between(0, 1_000);
    let mut row = Row::new("store_6calls", runs.design, threads).hist(&st.per_call);
    row.ns_per_op = Some(store_ns);
    let mut row = row
        .with("calls_per_hs", Val::Num(st.total_calls() as f64 / hs))
        .with(
            "calls_over_1us_pct",
            Val::Num(over_1us as f64 * 100.0 / st.per_call.len().max(1) as f64),
        )
        .with("share_of_hs_pct", Val::Num(store_ns * 100.0 / wall_ns))
        .with(
            "share_of_client_cpu_pct",
            Val::Num(sum.store.total_ns() as f64 * 100.0 / sum.client_cpu.as_nanos() as f64),
        );
    for (k, call) in tls::CALLS.iter().enumerate() {
        if st.calls[k] > 0 {
            row = row.with(call, Val::Num(st.ns[k] as f64 / st.calls[k] as f64));
        }
    }
    rep.push(row);
}

fn push_e2e_commit(rep: &mut Report, scenario: &str, threads: usize, runs: E2eRuns) {
    let sum = runs.sum.expect("at least one run");
    let hs = sum.handshakes.max(1) as f64;
    let mut row = Row::new(scenario, runs.design, threads).hist(&sum.connect);
    row.ns_per_op = Some(sum.connect.mean());
    rep.push(
        row.with("handshakes_per_sec", Val::Num(median(runs.per_sec.clone())))
            .with("handshakes", Val::Int(sum.handshakes))
            .with("full", Val::Int(sum.handshakes - sum.resumed))
            .with("resumed_share", Val::Num(sum.resumed as f64 / hs))
            .with("commits", Val::Int(sum.commits))
            .with("stale_resumptions", Val::Int(sum.stale))
            .with("failed", Val::Int(sum.failed))
            .with("connect_max_ns", Val::Int(sum.connect.max()))
            .with("runs", Val::Int(runs.per_sec.len() as u64)),
    );
}

// ---------------------------------------------------------------- ratios

/// The contender whose numbers decide P1–P5: the read path a worker should
/// use. The plain `load()` path is reported beside it.
const PRIMARY: &str = "lock-free-reader";
const PLAIN: &str = "lock-free";
const SEED: &str = "rwlock";

fn ratios(rep: &Report) -> String {
    let ns = |sc: &str, d: &str, t: usize| rep.find(sc, d, t).and_then(|r| r.ns_per_op);
    let pct = |sc: &str, d: &str, t: usize, i: usize| {
        rep.find(sc, d, t).and_then(|r| r.pct).map(|p| p[i] as f64)
    };
    let cpu = |sc: &str, d: &str, t: usize| match rep.find(sc, d, t)?.extra("cpu_ns_per_op")? {
        Val::Num(x) => Some(*x),
        _ => None,
    };
    let div = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    let num = |x: Option<f64>| x.map_or(Val::Null, Val::Num).json();
    let met = |x: Option<bool>| Val::Bool(x).json();
    let all = |xs: &[Option<bool>]| xs.iter().try_fold(true, |acc, x| x.map(|x| acc && x));
    let mut out = String::from("{\"ratios\":{");

    // P1
    let sc = "read_200B";
    let lf1 = ns(sc, PRIMARY, 1);
    let vs_rw = div(lf1, ns(sc, SEED, 1));
    let vs_clone = div(lf1, ns(sc, "clone-only", 1));
    let plain_rw = div(ns(sc, PLAIN, 1), ns(sc, SEED, 1));
    let plain_clone = div(ns(sc, PLAIN, 1), ns(sc, "clone-only", 1));
    let p1 = all(&[vs_rw.map(|x| x <= 1.0), vs_clone.map(|x| x <= 1.5)]);
    let cpu_rw = div(cpu(sc, PRIMARY, 1), cpu(sc, SEED, 1));
    let cpu_clone = div(cpu(sc, PRIMARY, 1), cpu(sc, "clone-only", 1));
    let _ = write!(
        out,
        "\"P1\":{{\"target\":\"1 thread, 200 B read: lock-free <= 1.0x rwlock and <= 1.5x clone-only\",\"lockfree_over_rwlock\":{},\"lockfree_over_clone\":{},\"plain_load_over_rwlock\":{},\"plain_load_over_clone\":{},\"cpu_time_lockfree_over_rwlock\":{},\"cpu_time_lockfree_over_clone\":{},\"met_by_cpu_time\":{},\"met\":{}}},",
        num(vs_rw),
        num(vs_clone),
        num(plain_rw),
        num(plain_clone),
        num(cpu_rw),
        num(cpu_clone),
        met(all(&[
            cpu_rw.map(|x| x <= 1.0),
            cpu_clone.map(|x| x <= 1.5)
        ])),
        met(p1)
    );

    // P2
    let t = cores().min(2);
    let (p2, scale, rw_over) = if t >= 2 {
        let scale = div(ns(sc, PRIMARY, 2), lf1);
        let rw_over = div(ns(sc, SEED, 2), ns(sc, PRIMARY, 2));
        (
            all(&[scale.map(|x| x <= 1.2), rw_over.map(|x| x >= 6.0)]),
            scale,
            rw_over,
        )
    } else {
        (None, None, None)
    };
    let plain_scale = div(ns(sc, PLAIN, 2), ns(sc, PLAIN, 1));
    let plain_rw_over = div(ns(sc, SEED, 2), ns(sc, PLAIN, 2));
    // If the unsynchronised clone does not scale either, the second thread did
    // not get a core of its own: the 2-thread numbers then measure sharing.
    let control = div(ns(sc, "clone-only", 2), ns(sc, "clone-only", 1));
    let cpu_scale = div(cpu(sc, PRIMARY, 2), cpu(sc, PRIMARY, 1));
    let cpu_rw_over = div(cpu(sc, SEED, 2), cpu(sc, PRIMARY, 2));
    let _ = write!(
        out,
        "\"P2\":{{\"target\":\"2 threads, 200 B read: lock-free per-thread <= 1.2x its 1-thread cost; rwlock/lock-free >= 6x\",\"lockfree_2t_over_1t\":{},\"rwlock_over_lockfree_2t\":{},\"plain_load_2t_over_1t\":{},\"rwlock_over_plain_load_2t\":{},\"cpu_time_lockfree_2t_over_1t\":{},\"cpu_time_rwlock_over_lockfree_2t\":{},\"control_clone_only_2t_over_1t\":{},\"met_by_cpu_time\":{},\"met\":{}}},",
        num(scale),
        num(rw_over),
        num(plain_scale),
        num(plain_rw_over),
        num(cpu_scale),
        num(cpu_rw_over),
        num(control),
        met(all(&[
            cpu_scale.map(|x| x <= 1.2),
            cpu_rw_over.map(|x| x >= 6.0)
        ])),
        met(p2)
    );

    // P3
    let sc = "storm_1ms";
    let p99_2 = div(pct(sc, SEED, t, 1), pct(sc, PRIMARY, t, 1));
    let p9999_2 = div(pct(sc, SEED, t, 3), pct(sc, PRIMARY, t, 3));
    let p9999_1 = div(pct(sc, PRIMARY, 1, 3), pct(sc, SEED, 1, 3));
    let plain_p9999_1 = div(pct(sc, PLAIN, 1, 3), pct(sc, SEED, 1, 3));
    let p3 = if t >= 2 {
        all(&[
            p99_2.map(|x| x >= 2.5),
            p9999_2.map(|x| x >= 5.0),
            p9999_1.map(|x| x <= 1.0),
        ])
    } else {
        None
    };
    let _ = write!(
        out,
        "\"P3\":{{\"target\":\"commit every 1 ms: 2 readers rwlock/lock-free p99 >= 2.5x and p99.99 >= 5x; 1 reader lock-free p99.99 <= 1.0x rwlock\",\"rwlock_over_lockfree_p99_2r\":{},\"rwlock_over_lockfree_p9999_2r\":{},\"lockfree_over_rwlock_p9999_1r\":{},\"plain_load_over_rwlock_p9999_1r\":{},\"met\":{}}},",
        num(p99_2),
        num(p9999_2),
        num(p9999_1),
        num(plain_p9999_1),
        met(p3)
    );

    // P4
    let find_live = |d: &str, live: u64| {
        rep.rows.iter().find(|r| {
            r.scenario == "commit_64w"
                && r.design == d
                && matches!(r.extra("live_sessions"), Some(Val::Int(l)) if *l == live)
        })
    };
    let p99_64 = find_live(PRIMARY, 64)
        .and_then(|r| r.pct)
        .map(|p| p[1] as f64);
    let p99_0 = find_live(PRIMARY, 0)
        .and_then(|r| r.pct)
        .map(|p| p[1] as f64);
    let flat = div(p99_64, p99_0);
    let p4 = all(&[p99_64.map(|x| x <= 5_000.0), flat.map(|x| x <= 1.5)]);
    let _ = write!(
        out,
        "\"P4\":{{\"target\":\"commit p99 <= 5 us with 64 full slots, flat in live sessions (p99 at 64 live <= 1.5x p99 at 0 live)\",\"p99_ns_64_live\":{},\"p99_64_over_p99_0\":{},\"met\":{}}},",
        num(p99_64),
        num(flat),
        met(p4)
    );

    // P5
    let r = rep.find("reclaim_1m", PRIMARY, 2);
    let int = |k: &str| match r.and_then(|r| r.extra(k)) {
        Some(Val::Int(x)) => Some(*x as f64),
        Some(Val::Num(x)) => Some(*x),
        _ => None,
    };
    let settled = int("backlog_settled");
    let change = int("rss_change_pct");
    let p5 = all(&[
        settled.map(|b| b <= 2.0 * 2.0),
        change.map(|c| c.abs() <= 5.0),
    ]);
    let _ = write!(
        out,
        "\"P5\":{{\"target\":\"after 1,000,000 commits under read load: backlog returns to <= 2 generations' worth (2 x 2 workers sessions) and RSS within +-5%\",\"commits\":{},\"backlog_end\":{},\"backlog_settled\":{},\"rss_change_pct\":{},\"met\":{}}},",
        num(int("commits")),
        num(int("backlog_end")),
        num(settled),
        num(change),
        met(p5)
    );

    // P6: the Upstream's own read path (`load()`), so "lock-free" here.
    let e2e = |sc: &str, d: &str, t: usize, key: &str| match rep.find(sc, d, t)?.extra(key)? {
        Val::Num(x) => Some(*x),
        Val::Int(x) => Some(*x as f64),
        _ => None,
    };
    let rate = |d: &str, t: usize| e2e("e2e_resumed", d, t, "handshakes_per_sec");
    let store = |d: &str, t: usize| ns("store_6calls", d, t);
    let p99_commit = |d: &str| {
        div(
            pct("e2e_commit_100ms", d, t, 1),
            pct("e2e_commit_none", d, t, 1),
        )
    };
    let (lf, rw, rc) = ("lock-free", "rwlock", "rustls-cache");
    let rate_ratio = div(rate(lf, t), rate(rc, t));
    let store_ratio = div(store(lf, t), store(rc, t));
    let commit_ratio = p99_commit(lf);
    let p6 = all(&[
        rate_ratio.map(|x| x >= 1.0),
        store_ratio.map(|x| x <= 0.2),
        commit_ratio.map(|x| x <= 1.05),
    ]);
    let _ = write!(
        out,
        "\"P6\":{{\"target\":\"end to end TLS 1.3 resumed handshakes at {t} pinned client threads: handshakes/s >= 1.0x rustls cache; store ns per handshake <= 0.2x rustls cache; connect p99 with a commit every 100 ms <= 1.05x without\",\"threads\":{t},\"lockfree_over_rustls_handshakes_per_sec\":{},\"lockfree_over_rustls_store_ns\":{},\"lockfree_commit_p99_over_no_commit_p99\":{},\"lockfree_store_ns_per_hs\":{},\"rwlock_store_ns_per_hs\":{},\"rustls_store_ns_per_hs\":{},\"lockfree_handshakes_per_sec\":{},\"rwlock_handshakes_per_sec\":{},\"rustls_handshakes_per_sec\":{},\"rwlock_over_rustls_handshakes_per_sec\":{},\"rwlock_over_rustls_store_ns\":{},\"rwlock_commit_p99_over_no_commit_p99\":{},\"rustls_commit_p99_over_no_commit_p99\":{},\"lockfree_over_rustls_store_ns_1t\":{},\"lockfree_over_rustls_handshakes_per_sec_1t\":{},\"stale_resumptions_lockfree\":{},\"stale_resumptions_rustls\":{},\"met\":{}}}",
        num(rate_ratio),
        num(store_ratio),
        num(commit_ratio),
        num(store(lf, t)),
        num(store(rw, t)),
        num(store(rc, t)),
        num(rate(lf, t)),
        num(rate(rw, t)),
        num(rate(rc, t)),
        num(div(rate(rw, t), rate(rc, t))),
        num(div(store(rw, t), store(rc, t))),
        num(p99_commit(rw)),
        num(p99_commit(rc)),
        num(div(store(lf, 1), store(rc, 1))),
        num(div(rate(lf, 1), rate(rc, 1))),
        num(e2e("e2e_commit_100ms", lf, t, "stale_resumptions")),
        num(e2e("e2e_commit_100ms", rc, t, "stale_resumptions")),
        met(p6)
    );
    let _ = write!(
        out,
        "}},\"mode\":\"{}\",\"cores\":{},\"primary\":\"{PRIMARY}\"}}",
        if rep.cfg.quick { "quick" } else { "full" },
        cores()
    );
    out
}

// ---------------------------------------------------------------- main

fn main() {
    let cfg = Config::from_args();
    let started = Instant::now();
    let mut rep = Report {
        cfg,
        rows: Vec::new(),
    };
    clock_overhead(&mut rep);

    // Reclamation first, while the process's RSS is small and undisturbed.
    for_each_contender!(|T| { run_reclaim::<T>(&mut rep) });

    run_steady(&mut rep, "read_200B", Op::Read, SMALL);
    run_steady(&mut rep, "read_2KiB", Op::Read, LARGE);
    run_steady(&mut rep, "store_200B", Op::Store, SMALL);
    run_steady(&mut rep, "mixed_200B", Op::Mixed, SMALL);
    run_steady(&mut rep, "mixed_borrow_200B", Op::MixedBorrow, SMALL);
    for_each_contender!(|T| { run_storms::<T>(&mut rep) });
    for_each_contender!(|T| { run_commit_cost::<T>(&mut rep) });
    run_e2e(&mut rep);

    let r = ratios(&rep);
    if !rep.cfg.json {
        eprintln!("total {:.1} s", started.elapsed().as_secs_f64());
    }
    println!("{r}");
    eprintln!("shootout: {:.1} s", started.elapsed().as_secs_f64());
}
