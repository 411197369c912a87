//! The end-to-end run behind the demo and the soak: TLS backends requiring
//! client certificates, the proxy (in-process, on its own runtime), N
//! closed-loop clients and a rotator that commits a new client certificate
//! through the control socket.
//!
//! ## Stale resumption, precisely
//!
//! Client identity `k` is the certificate the rotator's `k`-th round commits
//! (identity 0 is the initial one). After a round has committed `k` on
//! *every* backend, it stores `k` into `committed` (SeqCst). Each request
//! reads `committed` as `s0` *before* it connects to the proxy; the proxy
//! accepts, then reads the backend's config (after the commits that
//! returned before `s0` was read, so from a generation holding identity
//! `s0` or newer); the backend names the client certificate it saw on that
//! new connection in its first line. The request is **stale** if that
//! certificate is older than `s0` (or one the backends no longer know:
//! more than 256 rounds old). A full handshake can only present the new
//! certificate, so a stale request is exactly a resumption of a session made
//! under a replaced identity: HAProxy 2.4–3.4's window (BRIEF §2).
//!
//! ## Settled share
//!
//! A request is *settled* if it started at least `settle` after the last
//! commit and no round completed while it ran; the settled share is the
//! backends' resumed share over settled requests (`resumed share back to
//! ≥ 99% between commits`).

use super::backend::{self, BackendCounters, Identities};
use super::config::{BackendSpec, ProxyConfig, default_workers};
use super::control;
use super::designs::Design;
use super::engine::{self, Proxy};
use super::hist::Histogram;
use super::pki::Pki;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tls_slots::tls::Material;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// How long one request may take before it counts as failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How progress is shown on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Nothing.
    Off,
    /// One line rewritten in place every second.
    Live,
    /// One line every this many seconds (for logs).
    Lines(u64),
}

/// What to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The proxy's session cache design.
    pub design: Design,
    /// How long the load runs.
    pub seconds: f64,
    /// Concurrent closed-loop clients.
    pub clients: usize,
    /// TLS backends.
    pub backends: usize,
    /// The proxy runtime's worker threads (= worker slots).
    pub proxy_workers: usize,
    /// Threads for the backends, clients and rotator.
    pub aux_workers: usize,
    /// Time between two rotations (each commits every backend).
    pub rotate_every: Duration,
    /// How long after a commit a request counts as settled.
    pub settle: Duration,
    /// Bytes per request (echoed back).
    pub request_bytes: usize,
    /// Every this many rounds, also send a bad certificate first (refused,
    /// changes nothing); 0 for never.
    pub bad_every: u64,
    /// Progress display.
    pub progress: Progress,
}

impl RunOptions {
    /// The demo's defaults for `design`: 15 s, 16 clients, 3 backends, a
    /// rotation every 3 s.
    pub fn demo(design: Design) -> Self {
        Self {
            design,
            seconds: 15.0,
            clients: 16,
            backends: 3,
            proxy_workers: default_workers(),
            aux_workers: default_workers(),
            rotate_every: Duration::from_secs(3),
            settle: Duration::from_millis(500),
            request_bytes: 64,
            bad_every: 3,
            progress: Progress::Live,
        }
    }

    /// The soak's: commits every 100 ms, settled 50 ms after a commit, 8
    /// clients.
    ///
    /// Why 8 and not the demo's 16: rustls client tickets are single-use and
    /// a backend sends 2 per handshake, so after a flush the slots refill by
    /// doubling once per round trip; with 16 clients over 3 backends on this
    /// 2-core machine the refill took most of the 50 ms (settled share
    /// 99.6%), with 8 it is done well within it (99.9%).
    pub fn soak(design: Design, seconds: f64) -> Self {
        Self {
            seconds,
            clients: 8,
            rotate_every: Duration::from_millis(100),
            settle: Duration::from_millis(50),
            bad_every: 10,
            progress: Progress::Lines(5),
            ..Self::demo(design)
        }
    }
}

/// What a run measured.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    /// The design's name.
    pub design: &'static str,
    /// Seconds from the first request to the last answer.
    pub elapsed: f64,
    /// Requests answered correctly.
    pub requests: u64,
    /// Requests that failed (connect, handshake, timeout, wrong echo).
    pub failed: u64,
    /// Failed requests that started within `settle` of a commit or spanned one.
    pub failed_near_commit: u64,
    /// Requests whose backend saw an older identity than was committed
    /// before the request started.
    pub stale: u64,
    /// Backend-side handshakes: full.
    pub backend_full: u64,
    /// Backend-side handshakes: resumed.
    pub backend_resumed: u64,
    /// Backend-side handshakes that failed.
    pub backend_failed: u64,
    /// Settled requests, and how many of them resumed.
    pub settled: u64,
    /// Settled requests that resumed.
    pub settled_resumed: u64,
    /// Backend commits (rounds × backends).
    pub commits: u64,
    /// Bad certificates refused by the control socket.
    pub rejected: u64,
    /// Bad certificates the control socket accepted (must be 0).
    pub bad_accepted: u64,
    /// Proxy-side full handshakes after the first commit.
    pub full_after_first_commit: u64,
    /// The proxy's summed counters at the end.
    pub proxy: tls_slots::tls::TlsStats,
    /// Latencies, connect to last echoed byte.
    pub latency: Histogram,
    /// (seconds since start, VmRSS bytes), once a second.
    pub rss: Vec<(f64, u64)>,
}

impl RunReport {
    /// Requests per second.
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.max(1e-9)
    }
    /// Backend handshakes per second (one per request).
    pub fn handshakes_per_s(&self) -> f64 {
        (self.backend_full + self.backend_resumed) as f64 / self.elapsed.max(1e-9)
    }
    /// Backend-side resumed share.
    pub fn resumed_share(&self) -> f64 {
        ratio(
            self.backend_resumed,
            self.backend_full + self.backend_resumed,
        )
    }
    /// Resumed share over settled requests.
    pub fn settled_share(&self) -> f64 {
        ratio(self.settled_resumed, self.settled)
    }
    /// Proxy-side full handshakes per backend commit.
    pub fn full_per_commit(&self) -> f64 {
        ratio(self.full_after_first_commit, self.commits)
    }
    /// Median latency, µs.
    pub fn p50_us(&self) -> u64 {
        self.latency.quantile(0.50)
    }
    /// 99th percentile latency, µs.
    pub fn p99_us(&self) -> u64 {
        self.latency.quantile(0.99)
    }

    /// The RSS verdict; see [`RssCheck`].
    pub fn rss_check(&self) -> RssCheck {
        RssCheck::of(&self.rss)
    }

    /// One JSON object (hand-written: no serde in this crate).
    pub fn json(&self) -> String {
        let rss = self.rss_check();
        format!(
            concat!(
                "{{\"design\":\"{}\",\"seconds\":{:.2},\"requests\":{},\"requests_per_s\":{:.1},",
                "\"backend_handshakes_per_s\":{:.1},\"resumed_share\":{:.5},\"settled_resumed_share\":{:.5},",
                "\"commits\":{},\"full_handshakes_per_commit\":{:.2},\"p50_us\":{},\"p99_us\":{},",
                "\"failed\":{},\"failed_near_commit\":{},\"stale_resumptions\":{},\"rejected_bad_certs\":{},",
                "\"bad_certs_accepted\":{},\"sessions_flushed\":{},\"sessions_reclaimed\":{},",
                "\"rss_baseline_bytes\":{},\"rss_end_bytes\":{},\"rss_slope_bytes_per_s\":{:.0}}}"
            ),
            self.design,
            self.elapsed,
            self.requests,
            self.rps(),
            self.handshakes_per_s(),
            self.resumed_share(),
            self.settled_share(),
            self.commits,
            self.full_per_commit(),
            self.p50_us(),
            self.p99_us(),
            self.failed,
            self.failed_near_commit,
            self.stale,
            self.rejected,
            self.bad_accepted,
            self.proxy.sessions_flushed,
            self.proxy.sessions_reclaimed,
            rss.baseline,
            rss.end,
            rss.slope,
        )
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// "RSS flat", defined: after a warm-up (the first sixth of the run, at most
/// 10 s: allocator arenas, tokio's buffers and the tables reach their
/// steady size), the median of the last 5 samples exceeds the median of the
/// first 5 post-warm-up samples by at most `4 MiB + 5%`, and the
/// least-squares slope over all post-warm-up samples is at most 64 KiB/s.
///
/// Why these numbers: a leaked generation (two `ClientConfig`s, its slots)
/// costs a few KiB and the soak commits 30 generations a second (3 backends,
/// every 100 ms), so a per-commit leak grows ≥ 60 KiB/s, and leaked sessions
/// (up to 8 tickets × workers × backends per round, each carrying the
/// server's chain) several hundred KiB/s; the fixed 4 MiB absorbs malloc
/// arena noise measured here (±1–2 MiB).
#[derive(Clone, Copy, Debug, Default)]
pub struct RssCheck {
    /// Median RSS just after warm-up, bytes.
    pub baseline: u64,
    /// Median RSS at the end, bytes.
    pub end: u64,
    /// Least-squares slope after warm-up, bytes per second.
    pub slope: f64,
    /// Whether it is flat by the definition above (true when too few
    /// samples to judge, see `judged`).
    pub flat: bool,
    /// Whether there were enough samples (≥ 10 after warm-up).
    pub judged: bool,
}

impl RssCheck {
    /// Judges `samples`.
    pub fn of(samples: &[(f64, u64)]) -> Self {
        let Some(&(last, _)) = samples.last() else {
            return Self::default();
        };
        let warmup = (last / 6.0).min(10.0);
        let after: Vec<(f64, u64)> = samples.iter().copied().filter(|s| s.0 >= warmup).collect();
        if after.len() < 10 {
            return Self {
                flat: true,
                ..Self::default()
            };
        }
        let median = |xs: &[(f64, u64)]| {
            let mut v: Vec<u64> = xs.iter().map(|s| s.1).collect();
            v.sort_unstable();
            v[v.len() / 2]
        };
        let baseline = median(&after[..5]);
        let end = median(&after[after.len() - 5..]);
        let n = after.len() as f64;
        let mt = after.iter().map(|s| s.0).sum::<f64>() / n;
        let mr = after.iter().map(|s| s.1 as f64).sum::<f64>() / n;
        let cov: f64 = after.iter().map(|s| (s.0 - mt) * (s.1 as f64 - mr)).sum();
        let var: f64 = after.iter().map(|s| (s.0 - mt).powi(2)).sum();
        let slope = if var > 0.0 { cov / var } else { 0.0 };
        let allowed = 4 * 1024 * 1024 + baseline / 20;
        Self {
            baseline,
            end,
            slope,
            flat: end <= baseline + allowed && slope <= 64.0 * 1024.0,
            judged: true,
        }
    }
}

/// The process's resident set, from `/proc/self/status` (0 elsewhere).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

#[derive(Default)]
struct Shared {
    /// The identity committed on every backend.
    committed: AtomicU64,
    /// Nanoseconds since `start` of the last backend commit.
    last_commit_ns: AtomicU64,
    requests: AtomicU64,
    failed: AtomicU64,
    stale: AtomicU64,
    rounds: AtomicU64,
    stop: AtomicBool,
}

#[derive(Default)]
struct Tally {
    requests: u64,
    failed: u64,
    failed_near_commit: u64,
    stale: u64,
    settled: u64,
    settled_resumed: u64,
    latency: Histogram,
}

#[derive(Default)]
struct RotTally {
    commits: u64,
    rejected: u64,
    bad_accepted: u64,
    full_before_first: Option<u64>,
}

/// Runs one design end to end and reports.
pub fn run(options: &RunOptions) -> Result<RunReport, String> {
    let io = |e: std::io::Error| e.to_string();
    let aux = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.aux_workers)
        .thread_name("demo-aux")
        .enable_all()
        .build()
        .map_err(io)?;
    let proxy_rt = engine::runtime(options.proxy_workers, "proxy-worker").map_err(io)?;

    let pki = Arc::new(Pki::new());
    let identities = Identities::default();
    let first = pki.client("client 0");
    identities.add(&first.cert_der, 0);

    // Backends.
    let server_config = backend::pki_server_config(&pki);
    let mut backend_addrs = Vec::new();
    let mut backend_counters: Vec<Arc<BackendCounters>> = Vec::new();
    {
        let _guard = aux.enter();
        for _ in 0..options.backends {
            let listener = bind()?;
            backend_addrs.push(listener.local_addr().map_err(io)?);
            backend_counters.push(backend::spawn(
                listener,
                Arc::clone(&server_config),
                identities.clone(),
            ));
        }
    }

    // The proxy.
    let material = Material::new()
        .roots_pem(pki.ca_pem.clone())
        .client_cert_pem(first.cert_pem.clone(), first.key_pem.clone());
    let mut config = ProxyConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)), options.design);
    config.workers = options.proxy_workers;
    config.backends = backend_addrs
        .iter()
        .enumerate()
        .map(|(i, addr)| BackendSpec {
            name: format!("b{i}"),
            addr: *addr,
            sni: "localhost".into(),
            material: material.clone(),
            no_reuse: false,
        })
        .collect();
    let proxy = Arc::new(Proxy::new(&config)?);
    let (proxy_addr, control_addr) = {
        let _guard = proxy_rt.enter();
        let listener = bind()?;
        let control_listener = bind()?;
        let addrs = (
            listener.local_addr().map_err(io)?,
            control_listener.local_addr().map_err(io)?,
        );
        proxy_rt.spawn(Arc::clone(&proxy).serve(listener));
        proxy_rt.spawn(control::serve(Arc::clone(&proxy), control_listener));
        addrs
    };

    let shared = Arc::new(Shared::default());
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(options.seconds);
    let names: Vec<String> = config.backends.iter().map(|b| b.name.clone()).collect();

    let (tallies, rot, rss, elapsed) = aux.block_on(async {
        let clients: Vec<_> = (0..options.clients)
            .map(|_| {
                tokio::spawn(client(
                    Arc::clone(&shared),
                    start,
                    deadline,
                    proxy_addr,
                    options.request_bytes,
                    options.settle,
                ))
            })
            .collect();
        let rotator = tokio::spawn(rotator(
            Arc::clone(&shared),
            start,
            deadline,
            control_addr,
            Arc::clone(&pki),
            identities.clone(),
            names,
            options.clone(),
            Arc::clone(&proxy),
        ));
        let progress = tokio::spawn(progress(
            Arc::clone(&shared),
            start,
            options.design,
            options.progress,
        ));
        let mut tallies = Vec::new();
        for c in clients {
            tallies.push(c.await.map_err(|e| e.to_string())?);
        }
        let elapsed = start.elapsed().as_secs_f64();
        shared.stop.store(true, Ordering::SeqCst);
        let rot = rotator.await.map_err(|e| e.to_string())??;
        let rss = progress.await.map_err(|e| e.to_string())?;
        Ok::<_, String>((tallies, rot, rss, elapsed))
    })?;

    let mut report = RunReport {
        design: options.design.name(),
        elapsed,
        commits: rot.commits,
        rejected: rot.rejected,
        bad_accepted: rot.bad_accepted,
        rss,
        ..RunReport::default()
    };
    for t in &tallies {
        report.requests += t.requests;
        report.failed += t.failed;
        report.failed_near_commit += t.failed_near_commit;
        report.stale += t.stale;
        report.settled += t.settled;
        report.settled_resumed += t.settled_resumed;
        report.latency.merge(&t.latency);
    }
    for c in &backend_counters {
        // Relaxed: statistics, read after the load stopped.
        report.backend_full += c.full.load(Ordering::Relaxed);
        report.backend_resumed += c.resumed.load(Ordering::Relaxed);
        report.backend_failed += c.failed.load(Ordering::Relaxed);
    }
    report.proxy = sum_stats(&proxy);
    report.full_after_first_commit = report.proxy.full_handshakes.saturating_sub(
        rot.full_before_first
            .unwrap_or(report.proxy.full_handshakes),
    );
    proxy_rt.shutdown_timeout(Duration::from_secs(2));
    aux.shutdown_timeout(Duration::from_secs(2));
    Ok(report)
}

fn bind() -> Result<tokio::net::TcpListener, String> {
    let std = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    std.set_nonblocking(true).map_err(|e| e.to_string())?;
    tokio::net::TcpListener::from_std(std).map_err(|e| e.to_string())
}

/// The backends' counters summed (design and generation from the first).
pub fn sum_stats(proxy: &Proxy) -> tls_slots::tls::TlsStats {
    let mut sum = tls_slots::tls::TlsStats::default();
    for (i, b) in proxy.backends.iter().enumerate() {
        let s = b.tls.stats();
        if i == 0 {
            sum.design = s.design;
            sum.generation = s.generation;
        }
        sum.full_handshakes += s.full_handshakes;
        sum.resumed_handshakes += s.resumed_handshakes;
        sum.failed_handshakes += s.failed_handshakes;
        sum.tickets_stored += s.tickets_stored;
        sum.tickets_taken += s.tickets_taken;
        sum.tickets_borrowed += s.tickets_borrowed;
        sum.tls12_stored += s.tls12_stored;
        sum.tls12_offered += s.tls12_offered;
        sum.stale_discarded += s.stale_discarded;
        sum.sni_mismatches += s.sni_mismatches;
        sum.worker_out_of_range += s.worker_out_of_range;
        sum.commits += s.commits;
        sum.rejected_commits += s.rejected_commits;
        sum.sessions_flushed += s.sessions_flushed;
        sum.sessions_reclaimed += s.sessions_reclaimed;
    }
    sum
}

fn since(start: Instant) -> u64 {
    start.elapsed().as_nanos() as u64
}

async fn client(
    shared: Arc<Shared>,
    start: Instant,
    deadline: Instant,
    proxy: SocketAddr,
    bytes: usize,
    settle: Duration,
) -> Tally {
    let mut tally = Tally::default();
    let payload: Vec<u8> = (0..bytes).map(|i| b'a' + (i % 26) as u8).collect();
    let settle = settle.as_nanos() as u64;
    while Instant::now() < deadline {
        // SeqCst: pairs with the rotator's store after its commits returned.
        let s0 = shared.committed.load(Ordering::SeqCst);
        let last_commit = shared.last_commit_ns.load(Ordering::SeqCst);
        let began = Instant::now();
        let started_ns = since(start);
        let result = tokio::time::timeout(REQUEST_TIMEOUT, request(proxy, &payload)).await;
        let s1 = shared.committed.load(Ordering::SeqCst);
        let near_commit = s0 != s1 || started_ns.saturating_sub(last_commit) < settle
            // a commit that landed while the request ran
            || shared.last_commit_ns.load(Ordering::SeqCst) != last_commit;
        match result {
            Ok(Ok((seen, resumed))) => {
                tally.requests += 1;
                // Relaxed: progress statistics.
                shared.requests.fetch_add(1, Ordering::Relaxed);
                tally.latency.record(began.elapsed().as_micros() as u64);
                if seen.is_none_or(|id| id < s0) {
                    tally.stale += 1;
                    shared.stale.fetch_add(1, Ordering::Relaxed);
                }
                // The start of the run counts as a commit at 0.
                if !near_commit {
                    tally.settled += 1;
                    tally.settled_resumed += u64::from(resumed);
                }
            }
            _ => {
                tally.failed += 1;
                tally.failed_near_commit += u64::from(near_commit);
                shared.failed.fetch_add(1, Ordering::Relaxed);
                // Do not spin on a dead proxy.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
    tally
}

/// One request: connect, send, read the backend's header line and the echo.
/// Returns the identity the backend saw and whether it resumed.
pub async fn request(proxy: SocketAddr, payload: &[u8]) -> std::io::Result<(Option<u64>, bool)> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let stream = TcpStream::connect(proxy).await?;
    stream.set_nodelay(true)?;
    let mut stream = BufReader::new(stream);
    stream.get_mut().write_all(payload).await?;
    let mut header = String::new();
    stream.read_line(&mut header).await?;
    let mut echo = vec![0u8; payload.len()];
    stream.read_exact(&mut echo).await?;
    if echo != payload {
        return Err(bad("echo differs"));
    }
    let _ = stream.get_mut().shutdown().await;
    let mut fields = header.split_whitespace();
    let seen = fields
        .next()
        .and_then(|f| f.strip_prefix("client="))
        .ok_or_else(|| bad("no header"))?;
    let resumed = fields.next() == Some("handshake=resumed");
    Ok((seen.parse().ok(), resumed))
}

#[allow(clippy::too_many_arguments)]
async fn rotator(
    shared: Arc<Shared>,
    start: Instant,
    deadline: Instant,
    control_addr: SocketAddr,
    pki: Arc<Pki>,
    identities: Identities,
    names: Vec<String>,
    options: RunOptions,
    proxy: Arc<Proxy>,
) -> Result<RotTally, String> {
    let mut tally = RotTally::default();
    let mut ctl = control::Client::connect(control_addr)
        .await
        .map_err(|e| format!("control socket: {e}"))?;
    let mut next = Instant::now() + options.rotate_every;
    let mut round = 0u64;
    // No round may start too close to the end: its commits would not be
    // measured.
    while next + options.rotate_every / 2 < deadline {
        tokio::time::sleep_until(next.into()).await;
        next += options.rotate_every;
        round += 1;
        let identity = pki.client(&format!("client {round}"));
        identities.add(&identity.cert_der, round);
        if options.bad_every > 0 && round % options.bad_every == 0 {
            // The certificate of this round with the key of the first: the
            // layer's KeyMismatch. Nothing may change.
            let other = pki.client("mismatched");
            let bad = format!("{}{}", identity.cert_pem, other.key_pem);
            let before = proxy.backends[0].tls.stats().generation;
            let answer = ctl
                .send(&format!("set ssl cert {}", names[0]), Some(&bad))
                .await
                .map_err(|e| e.to_string())?;
            let after = proxy.backends[0].tls.stats().generation;
            if answer.starts_with("error:") && before == after {
                tally.rejected += 1;
            } else {
                tally.bad_accepted += 1;
            }
        }
        if tally.full_before_first.is_none() {
            tally.full_before_first = Some(sum_stats(&proxy).full_handshakes);
        }
        for name in &names {
            let answer = ctl
                .send(
                    &format!("set ssl cert {name}"),
                    Some(&identity.bundle_pem()),
                )
                .await
                .map_err(|e| e.to_string())?;
            if answer.starts_with("error:") {
                return Err(format!("set ssl cert {name}: {answer}"));
            }
            let answer = ctl
                .send(&format!("commit ssl cert {name}"), None)
                .await
                .map_err(|e| e.to_string())?;
            if !answer.contains("Success") {
                return Err(format!("commit ssl cert {name}: {answer}"));
            }
            tally.commits += 1;
            // SeqCst: read by the clients, see the module docs.
            shared.last_commit_ns.store(since(start), Ordering::SeqCst);
        }
        shared.committed.store(round, Ordering::SeqCst);
        shared.rounds.fetch_add(1, Ordering::Relaxed);
    }
    Ok(tally)
}

async fn progress(
    shared: Arc<Shared>,
    start: Instant,
    design: Design,
    mode: Progress,
) -> Vec<(f64, u64)> {
    let mut samples = Vec::new();
    let mut last = (0.0, 0u64);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    while !shared.stop.load(Ordering::SeqCst) {
        tick.tick().await;
        let t = start.elapsed().as_secs_f64();
        let rss = rss_bytes();
        samples.push((t, rss));
        // Relaxed: progress statistics.
        let requests = shared.requests.load(Ordering::Relaxed);
        let rate = (requests - last.1) as f64 / (t - last.0).max(1e-9);
        last = (t, requests);
        let line = format!(
            "[{:>14}] {t:5.1}s  {rate:7.0} req/s  rounds {:4}  failed {}  stale {}  rss {:.1} MiB",
            design.name(),
            shared.rounds.load(Ordering::Relaxed),
            shared.failed.load(Ordering::Relaxed),
            shared.stale.load(Ordering::Relaxed),
            rss as f64 / (1024.0 * 1024.0),
        );
        match mode {
            Progress::Off => {}
            Progress::Live => eprint!("\r{line:<100}"),
            Progress::Lines(every) => {
                if samples.len() as u64 % every.max(1) == 0 {
                    eprintln!("{line}");
                }
            }
        }
    }
    if mode == Progress::Live {
        eprintln!();
    }
    samples
}
