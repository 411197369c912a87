//! Real TLS, both designs and rustls's own cache side by side.
//!
//! A rustls server on 127.0.0.1 requires a client certificate and answers
//! every connection with the client identity it saw. N client workers (one
//! thread and one current-thread tokio runtime each) connect to it in a loop
//! through an upstream, while a committer rotates the client certificate
//! every K ms. Three clients take turns:
//!
//! - `rwlock`, `lock-free`: a tls-slots `Upstream` on each design;
//! - `rustls-memcache`: what a proxy does with rustls alone: an `ArcSwap` of
//!   `ClientConfig`, each rebuilt on commit, all resuming from one shared
//!   `ClientSessionMemoryCache`.
//!
//! A *stale resumption* is a resumed handshake in which the server saw a
//! client certificate other than the one of the config the connection was
//! made from, i.e. a session from before a commit resumed after it. It must
//! be 0 for tls-slots.
//!
//! `cargo run --release --example tls_demo -- [--seconds N] [--workers N] [--commit-ms K] [--json]`
//! (`--seconds` is per client; `--json` prints one JSON object per client.)

#[path = "../tests/tls_support/pki.rs"]
#[allow(dead_code)]
mod pki;
#[path = "../tests/tls_support/server.rs"]
mod server;

use arc_swap::ArcSwap;
use pki::{Identity, Pki};
use rustls::client::{
    ClientSessionMemoryCache, ClientSessionStore, Resumption, Tls12ClientSessionValue,
    Tls13ClientSessionValue,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, HandshakeKind, NamedGroup, RootCertStore};
use server::Known;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};
use tls_slots::tls::{
    Context, Entry, LockFreeUpstream, Material, RwLockUpstream, Upstream, UpstreamOptions,
    set_current_worker,
};
use tls_slots::{SessionTable, WorkerId};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The client identities, in commit order, and what the server answers for
/// each.
struct Identities {
    pki: Pki,
    list: Vec<(Identity, u8)>,
    by_cert: HashMap<Vec<u8>, u8>,
}

/// What the workers need from a client under test.
trait Client: Send + Sync {
    /// The config to connect with now, the server's answer expected for its
    /// certificate, and its generation (1 before the first commit).
    fn current(&self) -> (Arc<ClientConfig>, u8, u64);
    /// Rotates to `identities.list[index]`.
    fn commit(&self, identities: &Identities, index: usize);
    /// Told after every handshake, failed or not.
    fn done(&self, _connection: Option<&ClientConnection>) {}
    /// TLS 1.3 tickets the session store has handed to rustls so far.
    fn tickets_taken(&self) -> u64;
}

struct Slots<T> {
    upstream: Upstream<T>,
    by_cert: HashMap<Vec<u8>, u8>,
}

fn material(identities: &Identities, index: usize) -> Material {
    let who = &identities.list[index].0;
    Material::new()
        .roots_pem(identities.pki.ca_pem.clone())
        .client_cert_pem(who.cert_pem.clone(), who.key_pem.clone())
}

impl<T: SessionTable<Context, Entry>> Client for Slots<T> {
    fn current(&self) -> (Arc<ClientConfig>, u8, u64) {
        let context = self.upstream.context();
        let cert = context.client_cert().expect("mTLS").to_vec();
        (
            Arc::clone(context.config()),
            self.by_cert[&cert],
            context.generation().get(),
        )
    }

    fn commit(&self, identities: &Identities, index: usize) {
        self.upstream
            .commit(&material(identities, index))
            .expect("valid material");
    }

    fn tickets_taken(&self) -> u64 {
        let stats = self.upstream.stats();
        stats.tickets_taken + stats.tickets_borrowed
    }

    fn done(&self, connection: Option<&ClientConnection>) {
        match connection {
            Some(connection) => {
                self.upstream.handshake_done(connection);
            }
            None => {
                self.upstream.handshake_failed();
            }
        }
    }
}

/// rustls's memory cache, counting the tickets it hands out.
#[derive(Debug)]
struct CountingCache {
    inner: ClientSessionMemoryCache,
    taken: AtomicU64,
}

impl ClientSessionStore for CountingCache {
    fn set_kx_hint(&self, name: ServerName<'static>, group: NamedGroup) {
        self.inner.set_kx_hint(name, group)
    }
    fn kx_hint(&self, name: &ServerName<'_>) -> Option<NamedGroup> {
        self.inner.kx_hint(name)
    }
    fn set_tls12_session(&self, name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.inner.set_tls12_session(name, value)
    }
    fn tls12_session(&self, name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.inner.tls12_session(name)
    }
    fn remove_tls12_session(&self, name: &ServerName<'static>) {
        self.inner.remove_tls12_session(name)
    }
    fn insert_tls13_ticket(&self, name: ServerName<'static>, value: Tls13ClientSessionValue) {
        self.inner.insert_tls13_ticket(name, value)
    }
    fn take_tls13_ticket(&self, name: &ServerName<'static>) -> Option<Tls13ClientSessionValue> {
        let ticket = self.inner.take_tls13_ticket(name);
        if ticket.is_some() {
            self.taken.fetch_add(1, Ordering::Relaxed);
        }
        ticket
    }
}

/// rustls alone: configs rebuilt on commit, one shared memory cache.
struct MemCache {
    cache: Arc<CountingCache>,
    current: ArcSwap<(Arc<ClientConfig>, u8, u64)>,
}

impl MemCache {
    fn config(cache: &Arc<CountingCache>, ids: &Identities, index: usize) -> Arc<ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(ids.pki.ca_der.clone()))
            .unwrap();
        let who = &ids.list[index].0;
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(
                vec![CertificateDer::from(who.cert_der.clone())],
                PrivateKeyDer::try_from(who.key_der.clone()).unwrap(),
            )
            .unwrap();
        config.resumption = Resumption::store(cache.clone());
        Arc::new(config)
    }

    fn new(ids: &Identities) -> Self {
        let cache = Arc::new(CountingCache {
            inner: ClientSessionMemoryCache::new(256),
            taken: AtomicU64::new(0),
        });
        let config = Self::config(&cache, ids, 0);
        Self {
            current: ArcSwap::from_pointee((config, ids.list[0].1, 1)),
            cache,
        }
    }
}

impl Client for MemCache {
    fn tickets_taken(&self) -> u64 {
        self.cache.taken.load(Ordering::Relaxed)
    }

    fn current(&self) -> (Arc<ClientConfig>, u8, u64) {
        let current = self.current.load();
        (Arc::clone(&current.0), current.1, current.2)
    }

    fn commit(&self, ids: &Identities, index: usize) {
        let generation = self.current.load().2 + 1;
        let config = Self::config(&self.cache, ids, index);
        self.current
            .store(Arc::new((config, ids.list[index].1, generation)));
    }
}

/// One worker's tally.
#[derive(Default)]
struct Tally {
    full: u64,
    resumed: u64,
    full_after_first_commit: u64,
    stale: u64,
    failed: u64,
    latencies_us: Vec<u64>,
}

async fn one_connection(client: &dyn Client, addr: SocketAddr, tally: &mut Tally) {
    let started = Instant::now();
    let (config, expected, generation) = client.current();
    let name = ServerName::try_from("localhost").unwrap();
    let connected = async {
        let tcp = TcpStream::connect(addr).await?;
        TlsConnector::from(config).connect(name, tcp).await
    };
    let mut tls = match tokio::time::timeout(Duration::from_secs(10), connected).await {
        Ok(Ok(tls)) => tls,
        _ => {
            tally.failed += 1;
            client.done(None);
            return;
        }
    };
    tally
        .latencies_us
        .push(started.elapsed().as_micros() as u64);
    client.done(Some(tls.get_ref().1));
    let kind = tls.get_ref().1.handshake_kind();
    // Reading the answer also takes in the session tickets.
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut answer)).await;
    let seen = answer.first().copied();
    if !matches!(read, Ok(Ok(_))) || seen.is_none() {
        tally.failed += 1;
        return;
    }
    match kind {
        Some(HandshakeKind::Resumed) => {
            tally.resumed += 1;
            if seen != Some(expected) {
                tally.stale += 1;
            }
        }
        _ => {
            tally.full += 1;
            if generation > 1 {
                tally.full_after_first_commit += 1;
            }
        }
    }
}

struct Report {
    design: &'static str,
    seconds: f64,
    workers: usize,
    commit_ms: u64,
    handshakes: u64,
    full: u64,
    resumed: u64,
    failed: u64,
    stale: u64,
    wasted_tickets: u64,
    commits: u64,
    full_per_commit: f64,
    p50_us: u64,
    p99_us: u64,
}

impl Report {
    fn handshakes_per_sec(&self) -> f64 {
        self.handshakes as f64 / self.seconds
    }

    fn resumed_share(&self) -> f64 {
        self.resumed as f64 / self.handshakes.max(1) as f64
    }

    fn json(&self) -> String {
        format!(
            concat!(
                "{{\"design\":\"{}\",\"seconds\":{:.2},\"workers\":{},\"commit_ms\":{},",
                "\"handshakes\":{},\"handshakes_per_sec\":{:.1},\"full\":{},\"resumed\":{},",
                "\"resumed_share\":{:.4},\"commits\":{},\"full_per_commit\":{:.2},",
                "\"p50_us\":{},\"p99_us\":{},\"stale_resumptions\":{},\"wasted_tickets\":{},\"failed\":{}}}"
            ),
            self.design,
            self.seconds,
            self.workers,
            self.commit_ms,
            self.handshakes,
            self.handshakes_per_sec(),
            self.full,
            self.resumed,
            self.resumed_share(),
            self.commits,
            self.full_per_commit,
            self.p50_us,
            self.p99_us,
            self.stale,
            self.wasted_tickets,
            self.failed
        )
    }
}

fn run(
    design: &'static str,
    client: Arc<dyn Client>,
    ids: &Arc<Identities>,
    addr: SocketAddr,
    workers: usize,
    seconds: f64,
    commit_ms: u64,
) -> Report {
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicU64::new(0));
    let committer = {
        let (client, ids, stop, commits) =
            (client.clone(), ids.clone(), stop.clone(), commits.clone());
        thread::spawn(move || {
            let mut index = 0;
            let mut next = Instant::now();
            loop {
                next += Duration::from_millis(commit_ms);
                while Instant::now() < next {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    thread::sleep(Duration::from_millis(5).min(next - Instant::now()));
                }
                index = (index + 1) % ids.list.len();
                client.commit(&ids, index);
                commits.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let threads: Vec<_> = (0..workers)
        .map(|w| {
            let client = client.clone();
            thread::spawn(move || {
                set_current_worker(WorkerId::new(w));
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let mut tally = Tally::default();
                    while Instant::now() < deadline {
                        one_connection(&*client, addr, &mut tally).await;
                    }
                    tally
                })
            })
        })
        .collect();
    let mut total = Tally::default();
    for thread in threads {
        let tally = thread.join().expect("worker panicked");
        total.full += tally.full;
        total.resumed += tally.resumed;
        total.full_after_first_commit += tally.full_after_first_commit;
        total.stale += tally.stale;
        total.failed += tally.failed;
        total.latencies_us.extend(tally.latencies_us);
    }
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    committer.join().expect("committer panicked");
    total.latencies_us.sort_unstable();
    let pct = |p: f64| {
        let l = &total.latencies_us;
        if l.is_empty() {
            0
        } else {
            l[((l.len() - 1) as f64 * p) as usize]
        }
    };
    let commits = commits.load(Ordering::Relaxed);
    Report {
        design,
        seconds: elapsed,
        workers,
        commit_ms,
        handshakes: total.full + total.resumed,
        full: total.full,
        resumed: total.resumed,
        failed: total.failed,
        stale: total.stale,
        // Tickets rustls got but did not resume with (found incompatible
        // with the config after a commit, or refused by the server).
        wasted_tickets: client.tickets_taken().saturating_sub(total.resumed),
        commits,
        full_per_commit: total.full_after_first_commit as f64 / commits.max(1) as f64,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
    }
}

fn usage() -> ! {
    eprintln!("usage: tls_demo [--seconds N] [--workers N] [--commit-ms K] [--json]");
    std::process::exit(2);
}

fn main() {
    let (mut seconds, mut workers, mut commit_ms, mut json) = (3.0f64, 2usize, 250u64, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--json" {
            json = true;
            continue;
        }
        let Some(Ok(value)) = args.next().map(|v| v.parse::<f64>()) else {
            usage()
        };
        match arg.as_str() {
            "--seconds" if value > 0.0 => seconds = value,
            "--workers" if value >= 1.0 => workers = value as usize,
            "--commit-ms" if value >= 1.0 => commit_ms = value as u64,
            _ => usage(),
        }
    }

    // One identity per commit (cycled past 150), so that the certificate
    // the server saw tells which generation a resumed session came from.
    let pki = Pki::new();
    let known = Known::default();
    let count = ((seconds * 1000.0 / commit_ms as f64) as usize + 2).min(150);
    let list: Vec<(Identity, u8)> = (0..count)
        .map(|i| {
            let identity = pki.client(&format!("client {i}"));
            let byte = known.add(&identity.cert_der);
            (identity, byte)
        })
        .collect();
    let by_cert = list
        .iter()
        .map(|(id, b)| (id.cert_der.clone(), *b))
        .collect::<HashMap<_, _>>();
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(2))
        .enable_all()
        .build()
        .unwrap();
    let addr = server_runtime.block_on(server::start(server::server_config(&pki, 0), known));
    let ids = Arc::new(Identities { pki, list, by_cert });

    if !json {
        println!(
            "{workers} client workers, mTLS (ECDSA P-256), TLS 1.3, loopback; client certificate rotated every {commit_ms} ms; {seconds} s per client\n"
        );
    }
    let options = UpstreamOptions::new(workers);
    let upstream = |ids: &Arc<Identities>| material(ids, 0);
    let clients: Vec<(&'static str, Arc<dyn Client>)> = vec![
        (
            "rwlock",
            Arc::new(Slots {
                upstream: RwLockUpstream::new(&upstream(&ids), options.clone()).unwrap(),
                by_cert: ids.by_cert.clone(),
            }),
        ),
        (
            "lock-free",
            Arc::new(Slots {
                upstream: LockFreeUpstream::new(&upstream(&ids), options.clone()).unwrap(),
                by_cert: ids.by_cert.clone(),
            }),
        ),
        ("rustls-memcache", Arc::new(MemCache::new(&ids))),
    ];
    let mut reports = Vec::new();
    for (design, client) in clients {
        let report = run(design, client, &ids, addr, workers, seconds, commit_ms);
        if json {
            println!("{}", report.json());
        }
        reports.push(report);
    }
    if json {
        return;
    }
    println!(
        "{:<16} {:>12} {:>8} {:>12} {:>8} {:>8} {:>6} {:>7} {:>7} {:>6}",
        "client",
        "handshakes/s",
        "resumed",
        "full/commit",
        "p50 µs",
        "p99 µs",
        "stale",
        "wasted",
        "commits",
        "failed"
    );
    for r in &reports {
        println!(
            "{:<16} {:>12.0} {:>7.1}% {:>12.2} {:>8} {:>8} {:>6} {:>7} {:>7} {:>6}",
            r.design,
            r.handshakes_per_sec(),
            100.0 * r.resumed_share(),
            r.full_per_commit,
            r.p50_us,
            r.p99_us,
            r.stale,
            r.wasted_tickets,
            r.commits,
            r.failed
        );
    }
    println!(
        "\nfull/commit: full handshakes made from a committed generation, per commit (the cost of a flush).\nstale: resumptions in which the server saw another certificate than the config's (must be 0 for tls-slots).\nwasted: TLS 1.3 tickets handed to rustls that did not resume (rustls >= 0.23.24 throws away a ticket from an older config)."
    );
}
