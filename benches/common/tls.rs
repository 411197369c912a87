//! End to end: real TLS 1.3 handshakes over 127.0.0.1 for P6, and contender
//! 4, rustls's own `ClientSessionMemoryCache`.
//!
//! - A blocking rustls server per client thread (stateless tickets, client
//!   certificate required, answers with the identity it saw), pinned to the
//!   same core as its client, so every core runs one client/server pair.
//! - Three clients behind [`E2e`]: tls-slots' `Upstream` on each design, and
//!   what a proxy does with rustls alone (an `ArcSwap` of `ClientConfig`,
//!   rebuilt on commit, all resuming from one shared memory cache).
//! - [`Timed`]: one `ClientSessionStore` wrapper for every contender that
//!   forwards each call and adds the time it took to a thread-local tally, so
//!   "ns in the store per handshake" is measured around the real calls rustls
//!   makes, for all stores alike.
//!
//! rustls 0.23 keeps `Resumption::store` private, so each contender hands
//! out the store its config resumes from beside the config (tls-slots:
//! `TlsContext::session_store()`), and [`timed`] wraps exactly that store.

#![allow(dead_code)]

#[path = "../../tests/tls_support/pki.rs"]
pub mod pki;
#[path = "../../tests/tls_support/server.rs"]
pub mod server;

use arc_swap::ArcSwap;
use hdrhistogram::Histogram;
use pki::{Identity, Pki};
use rustls::client::{
    ClientSessionMemoryCache, ClientSessionStore, Resumption, Tls12ClientSessionValue,
    Tls13ClientSessionValue,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, HandshakeKind, NamedGroup, RootCertStore};
use rustls::{ServerConfig, ServerConnection};
use server::Known;
use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use tls_slots::tls::{Context, Entry, Material, Prepared, Upstream, UpstreamOptions};
use tls_slots::{GenerationId, SessionTable};

// ---------------------------------------------------------------- the store, timed

/// The calls rustls makes on a `ClientSessionStore`, in the order of a
/// resumed TLS 1.3 handshake, then the two TLS 1.2 calls it does not make.
pub const CALLS: [&str; 7] = [
    "take_tls13_ticket",
    "kx_hint",
    "set_kx_hint",
    "remove_tls12_session",
    "insert_tls13_ticket",
    "tls12_session",
    "set_tls12_session",
];
const TAKE: usize = 0;
const KX_HINT: usize = 1;
const SET_KX_HINT: usize = 2;
const REMOVE_TLS12: usize = 3;
const INSERT: usize = 4;
const TLS12: usize = 5;
const SET_TLS12: usize = 6;

/// What one thread spent in the store.
pub struct Tally {
    pub ns: [u64; CALLS.len()],
    pub calls: [u64; CALLS.len()],
    /// One call's latency, any call.
    pub per_call: Histogram<u64>,
}

impl Tally {
    fn new() -> Self {
        Self {
            ns: [0; CALLS.len()],
            calls: [0; CALLS.len()],
            per_call: Histogram::new_with_bounds(1, 10_000_000_000, 3).expect("valid bounds"),
        }
    }

    pub fn add(&mut self, other: &Tally) {
        for k in 0..CALLS.len() {
            self.ns[k] += other.ns[k];
            self.calls[k] += other.calls[k];
        }
        self.per_call.add(&other.per_call).expect("same bounds");
    }

    pub fn total_ns(&self) -> u64 {
        self.ns.iter().sum()
    }

    pub fn total_calls(&self) -> u64 {
        self.calls.iter().sum()
    }
}

thread_local! {
    static TALLY: RefCell<Tally> = RefCell::new(Tally::new());
}

/// Takes the calling thread's tally, leaving an empty one.
pub fn take_tally() -> Tally {
    TALLY.with(|t| std::mem::replace(&mut *t.borrow_mut(), Tally::new()))
}

#[inline(always)]
fn note(call: usize, t0: Instant) {
    let ns = (t0.elapsed().as_nanos() as u64).max(1);
    TALLY.with(|t| {
        let mut t = t.borrow_mut();
        t.ns[call] += ns;
        t.calls[call] += 1;
        t.per_call.saturating_record(ns);
    });
}

/// Forwards every call to `0`, timing it. The clock is read immediately
/// around the inner call; the tally is updated outside the timed interval.
#[derive(Debug)]
pub struct Timed(pub Arc<dyn ClientSessionStore>);

impl ClientSessionStore for Timed {
    fn set_kx_hint(&self, name: ServerName<'static>, group: NamedGroup) {
        let t0 = Instant::now();
        self.0.set_kx_hint(name, group);
        note(SET_KX_HINT, t0);
    }
    fn kx_hint(&self, name: &ServerName<'_>) -> Option<NamedGroup> {
        let t0 = Instant::now();
        let r = self.0.kx_hint(name);
        note(KX_HINT, t0);
        r
    }
    fn set_tls12_session(&self, name: ServerName<'static>, value: Tls12ClientSessionValue) {
        let t0 = Instant::now();
        self.0.set_tls12_session(name, value);
        note(SET_TLS12, t0);
    }
    fn tls12_session(&self, name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        let t0 = Instant::now();
        let r = self.0.tls12_session(name);
        note(TLS12, t0);
        r
    }
    fn remove_tls12_session(&self, name: &ServerName<'static>) {
        let t0 = Instant::now();
        self.0.remove_tls12_session(name);
        note(REMOVE_TLS12, t0);
    }
    fn insert_tls13_ticket(&self, name: ServerName<'static>, value: Tls13ClientSessionValue) {
        let t0 = Instant::now();
        self.0.insert_tls13_ticket(name, value);
        note(INSERT, t0);
    }
    fn take_tls13_ticket(&self, name: &ServerName<'static>) -> Option<Tls13ClientSessionValue> {
        let t0 = Instant::now();
        let r = self.0.take_tls13_ticket(name);
        note(TAKE, t0);
        r
    }
}

/// `config` with its store wrapped in [`Timed`]; otherwise the same config
/// (same verifier and client-certificate resolver `Arc`s, so sessions stay
/// resumable across the two).
pub fn timed(config: &ClientConfig, store: Arc<dyn ClientSessionStore>) -> Arc<ClientConfig> {
    let mut timed = config.clone();
    timed.resumption = Resumption::store(Arc::new(Timed(store)));
    Arc::new(timed)
}

// ---------------------------------------------------------------- contenders

/// A client under test: where a connection gets its config.
pub trait E2e: Send + Sync {
    const DESIGN: &'static str;
    /// The config to connect with now, the identity byte the server should
    /// answer for its client certificate, and the store the config resumes
    /// from.
    fn current(&self) -> (Arc<ClientConfig>, u8, Arc<dyn ClientSessionStore>);
    /// Publishes the next identity (alternating A and B).
    fn commit(&self);
}

/// Both identities and the material for each.
pub struct World {
    pub pki: Pki,
    pub ids: [(Identity, u8); 2],
    pub server: Arc<ServerConfig>,
    pub known: Known,
}

impl World {
    pub fn new() -> Self {
        let pki = Pki::new();
        let known = Known::default();
        let (a, b) = (pki.client("client A"), pki.client("client B"));
        let (sa, sb) = (known.add(&a.cert_der), known.add(&b.cert_der));
        let server = server::server_config(&pki, 0);
        Self {
            pki,
            ids: [(a, sa), (b, sb)],
            server,
            known,
        }
    }

    pub fn material(&self, which: usize) -> Material {
        let who = &self.ids[which % 2].0;
        Material::new()
            .roots_pem(self.pki.ca_pem.clone())
            .client_cert_pem(who.cert_pem.clone(), who.key_pem.clone())
    }

    /// A plain rustls config for identity `which`, resuming from `store`.
    pub fn rustls_config(
        &self,
        which: usize,
        store: Arc<dyn ClientSessionStore>,
    ) -> Arc<ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.pki.ca_der.clone()))
            .expect("CA");
        let who = &self.ids[which % 2].0;
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_client_auth_cert(
                vec![CertificateDer::from(who.cert_der.clone())],
                PrivateKeyDer::try_from(who.key_der.clone()).expect("key"),
            )
            .expect("client cert");
        config.resumption = Resumption::store(store);
        Arc::new(config)
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

/// tls-slots: an `Upstream` on either design.
pub struct Slots<T> {
    pub upstream: Upstream<T>,
    prepared: [Prepared; 2],
    /// What the server answers for identity A and B.
    seen: [u8; 2],
}

impl<T: SessionTable<Context, Entry>> Slots<T> {
    pub fn new(world: &World, workers: usize) -> Self {
        let prepared = [0, 1].map(|i| world.material(i).prepare().expect("material"));
        let upstream = Upstream::from_prepared(prepared[0].clone(), UpstreamOptions::new(workers));
        Self {
            upstream,
            prepared,
            seen: [world.ids[0].1, world.ids[1].1],
        }
    }
}

/// Generation 1 serves identity A, 2 B, 3 A, …
fn identity_of(generation: GenerationId) -> usize {
    (generation.get().wrapping_sub(1) % 2) as usize
}

impl<T: SessionTable<Context, Entry> + Send + Sync> E2e for Slots<T> {
    const DESIGN: &'static str = T::DESIGN;
    fn current(&self) -> (Arc<ClientConfig>, u8, Arc<dyn ClientSessionStore>) {
        let context = self.upstream.context();
        let seen = self.seen[identity_of(context.generation())];
        let store = context
            .session_store()
            .expect("the benchmark upstream stores sessions");
        (Arc::clone(context.config()), seen, Arc::clone(store))
    }
    fn commit(&self) {
        let next = identity_of(self.upstream.generation()) + 1;
        self.upstream.commit_prepared(&self.prepared[next % 2]);
    }
}

pub type LockFreeSlots = Slots<tls_slots::LockFreeTable<Context, Entry>>;
pub type RwLockSlots = Slots<tls_slots::RwLockTable<Context, Entry>>;

/// Contender 4, rustls alone: one `ClientSessionMemoryCache` (one `Mutex`),
/// and a config per identity behind an `ArcSwap`, rebuilt on commit around
/// the same cache (the demo's `rustls-memcache`).
pub struct RustlsCache {
    cache: Arc<dyn ClientSessionStore>,
    configs: [Arc<ClientConfig>; 2],
    current: ArcSwap<(Arc<ClientConfig>, u8, usize)>,
    seen: [u8; 2],
}

impl RustlsCache {
    pub fn new(world: &World) -> Self {
        let cache: Arc<dyn ClientSessionStore> = Arc::new(ClientSessionMemoryCache::new(256));
        let configs = [0, 1].map(|i| world.rustls_config(i, Arc::clone(&cache)));
        let seen = [world.ids[0].1, world.ids[1].1];
        Self {
            current: ArcSwap::from_pointee((Arc::clone(&configs[0]), seen[0], 0)),
            cache,
            configs,
            seen,
        }
    }
}

impl E2e for RustlsCache {
    const DESIGN: &'static str = "rustls-cache";
    fn current(&self) -> (Arc<ClientConfig>, u8, Arc<dyn ClientSessionStore>) {
        let current = self.current.load();
        (Arc::clone(&current.0), current.1, Arc::clone(&self.cache))
    }
    fn commit(&self) {
        let next = (self.current.load().2 + 1) % 2;
        // A proxy rebuilds the config on commit; the shared cache stays.
        let config = {
            let mut c = (*self.configs[next]).clone();
            c.resumption = Resumption::store(Arc::clone(&self.cache));
            Arc::new(c)
        };
        self.current
            .store(Arc::new((config, self.seen[next], next)));
    }
}

// ---------------------------------------------------------------- server

/// One server thread per client thread, each on its own listener and pinned
/// to its client's core.
pub struct Servers {
    pub addrs: Vec<SocketAddr>,
    stop: Arc<AtomicBool>,
    handles: Vec<JoinHandle<()>>,
}

impl Servers {
    pub fn start(world: &World, count: usize, pin: fn(usize) -> bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let mut addrs = Vec::new();
        let mut handles = Vec::new();
        for i in 0..count {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            addrs.push(listener.local_addr().expect("addr"));
            let (config, known, stop) = (
                Arc::clone(&world.server),
                world.known.clone(),
                Arc::clone(&stop),
            );
            handles.push(thread::spawn(move || {
                pin(i);
                // Relaxed: a stop flag; `stop()` connects once afterwards to
                // wake `accept`, and joins.
                while !stop.load(Ordering::Relaxed) {
                    let Ok((tcp, _)) = listener.accept() else {
                        continue;
                    };
                    let _ = serve(tcp, &config, &known);
                }
            }));
        }
        Self {
            addrs,
            stop,
            handles,
        }
    }

    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for addr in &self.addrs {
            let _ = TcpStream::connect(addr);
        }
        for h in self.handles {
            let _ = h.join();
        }
    }
}

/// One connection: handshake, answer the identity seen, close_notify, then
/// wait for the client to close first (with a reset, so neither side keeps
/// the port in TIME_WAIT and a long run does not run out of ports).
fn serve(mut tcp: TcpStream, config: &Arc<ServerConfig>, known: &Known) -> io::Result<()> {
    tcp.set_nodelay(true)?;
    let mut conn = ServerConnection::new(Arc::clone(config)).map_err(io::Error::other)?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)?;
    }
    let seen = known.name(conn.peer_certificates().and_then(|c| c.first()));
    conn.writer().write_all(&[seen])?;
    conn.send_close_notify();
    while conn.wants_write() {
        conn.write_tls(&mut tcp)?;
    }
    let mut buf = [0u8; 256];
    while matches!(tcp.read(&mut buf), Ok(n) if n > 0) {}
    Ok(())
}

/// Closing this socket sends a reset instead of a FIN: no TIME_WAIT.
fn linger_zero(tcp: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a properly sized option value.
    unsafe {
        libc::setsockopt(
            tcp.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            std::ptr::from_ref(&linger).cast(),
            size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

// ---------------------------------------------------------------- client

/// What one connection found.
pub struct Conn {
    pub kind: HandshakeKind,
    /// TCP connect until the handshake is done: the connection is usable.
    pub connect: Duration,
    /// Whether the server saw a client certificate other than the config's.
    pub stale: bool,
}

/// One connection with `config`: connect, handshake, read the answer (which
/// also takes in the server's two tickets), close.
pub fn connect(
    config: Arc<ClientConfig>,
    expected: u8,
    addr: SocketAddr,
    name: &ServerName<'static>,
) -> io::Result<Conn> {
    let t0 = Instant::now();
    let mut tcp = TcpStream::connect(addr)?;
    tcp.set_nodelay(true)?;
    let mut conn = ClientConnection::new(config, name.clone()).map_err(io::Error::other)?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)?;
    }
    let connect = t0.elapsed();
    let kind = conn
        .handshake_kind()
        .ok_or_else(|| io::Error::other("no handshake kind"))?;
    let mut answer = Vec::with_capacity(1);
    rustls::Stream::new(&mut conn, &mut tcp).read_to_end(&mut answer)?;
    linger_zero(&tcp);
    drop(tcp);
    let stale = kind == HandshakeKind::Resumed && answer.first() != Some(&expected);
    Ok(Conn {
        kind,
        connect,
        stale,
    })
}
