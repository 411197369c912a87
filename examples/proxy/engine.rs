//! The proxy: plain TCP in, TLS out to one of several backends (round
//! robin), one tls-slots upstream per backend, the runtime's worker index as
//! the `WorkerId`.

use super::config::{BackendSpec, ProxyConfig};
use super::designs::{Design, Tls};
use rustls::pki_types::ServerName;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tls_slots::WorkerId;
use tls_slots::tls::{Material, UpstreamOptions, set_current_worker};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

/// How long a backend may take to accept TCP.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a backend may take to finish the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a proxied connection may last (a bound, not an idle timeout:
/// the demo's connections last milliseconds).
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(600);

/// A multi-thread tokio runtime whose `workers` worker threads are tls-slots
/// workers `0..workers`.
///
/// tokio starts its workers first, through the blocking pool, so the first
/// `workers` threads to run `on_thread_start` are the workers. Any later
/// thread (a blocking-pool thread; the proxy spawns none) gets an index past
/// the table: the layer counts it as `worker_out_of_range` and it neither
/// stores nor resumes, which is safe.
pub fn runtime(workers: usize, name: &str) -> std::io::Result<tokio::runtime::Runtime> {
    let next = Arc::new(AtomicUsize::new(0));
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        .enable_all()
        .on_thread_start(move || {
            // Relaxed: a counter handing out distinct numbers.
            let index = next.fetch_add(1, Ordering::Relaxed);
            set_current_worker(WorkerId::new(index));
        })
        .build()
}

/// The control-plane half of a backend: the committed material and the one
/// open transaction (`set ssl cert` / `set ssl ca-file` build it up).
#[derive(Debug)]
pub struct Transaction {
    /// What the current generation was built from.
    pub current: Material,
    /// What the open transaction would commit.
    pub pending: Option<Material>,
}

/// One upstream server.
pub struct Backend {
    /// Its name on the control socket.
    pub name: String,
    /// Its address.
    pub addr: SocketAddr,
    /// The server name sent and verified.
    pub sni: ServerName<'static>,
    /// Its TLS state: config, session cache, counters.
    pub tls: Box<dyn Tls>,
    /// Only the control socket takes it.
    pub transaction: Mutex<Transaction>,
    /// Whether `no-ssl-reuse` is set.
    pub no_reuse: bool,
    /// Connections sent to it.
    pub connections: AtomicU64,
    /// TCP connects that failed or timed out.
    pub connect_errors: AtomicU64,
}

/// Proxy-wide counters.
#[derive(Default)]
pub struct ProxyCounters {
    /// Client connections accepted.
    pub accepted: AtomicU64,
    /// Client connections being served.
    pub active: AtomicU64,
    /// Connections dropped because the backend's TCP connect failed.
    pub connect_errors: AtomicU64,
    /// Connections dropped because the backend's TLS handshake failed.
    pub handshake_errors: AtomicU64,
}

/// The proxy.
pub struct Proxy {
    /// The design every backend uses.
    pub design: Design,
    /// Worker slots per upstream.
    pub workers: usize,
    /// The backends, in round-robin order.
    pub backends: Vec<Backend>,
    next: AtomicUsize,
    /// Proxy-wide counters.
    pub counters: ProxyCounters,
}

impl Proxy {
    /// Builds every backend's upstream; the first bad material is the error.
    pub fn new(config: &ProxyConfig) -> Result<Self, String> {
        let backends = config
            .backends
            .iter()
            .map(|spec| build_backend(config, spec))
            .collect::<Result<Vec<_>, _>>()?;
        if backends.is_empty() {
            return Err("no backend".into());
        }
        Ok(Self {
            design: config.design,
            workers: config.workers,
            backends,
            next: AtomicUsize::new(0),
            counters: ProxyCounters::default(),
        })
    }

    /// The backend named `name`.
    pub fn backend(&self, name: &str) -> Option<&Backend> {
        self.backends.iter().find(|b| b.name == name)
    }

    /// Accepts connections until the task is dropped.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        loop {
            let client = match listener.accept().await {
                Ok((client, _)) => client,
                Err(_) => {
                    // EMFILE and friends: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let proxy = Arc::clone(&self);
            tokio::spawn(async move { proxy.handle(client).await });
        }
    }

    async fn handle(&self, mut client: TcpStream) {
        let counters = &self.counters;
        // Relaxed: statistics.
        counters.accepted.fetch_add(1, Ordering::Relaxed);
        counters.active.fetch_add(1, Ordering::Relaxed);
        let _active = Decrement(&counters.active);
        let _ = client.set_nodelay(true);

        // Relaxed: round robin needs distinct numbers, not ordering.
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.backends.len();
        let backend = &self.backends[index];
        backend.connections.fetch_add(1, Ordering::Relaxed);
        let tcp = match timeout(CONNECT_TIMEOUT, TcpStream::connect(backend.addr)).await {
            Ok(Ok(tcp)) => tcp,
            _ => {
                backend.connect_errors.fetch_add(1, Ordering::Relaxed);
                counters.connect_errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        let _ = tcp.set_nodelay(true);
        // The config is read here, after the client connected and the TCP
        // connect finished: a commit that returned before the client
        // connected is always seen (the demo's stale check relies on it).
        let connector = TlsConnector::from(backend.tls.config());
        let mut tls = match timeout(
            HANDSHAKE_TIMEOUT,
            connector.connect(backend.sni.clone(), tcp),
        )
        .await
        {
            Ok(Ok(tls)) => tls,
            _ => {
                backend.tls.handshake_failed();
                counters.handshake_errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        backend.tls.handshake_done(tls.get_ref().1);
        let _ = timeout(
            CONNECTION_TIMEOUT,
            tokio::io::copy_bidirectional(&mut client, &mut tls),
        )
        .await;
    }
}

fn build_backend(config: &ProxyConfig, spec: &BackendSpec) -> Result<Backend, String> {
    let options = UpstreamOptions::new(config.workers)
        .tickets_per_worker(config.tickets)
        .borrow(config.borrow)
        .no_reuse(spec.no_reuse);
    let tls = config
        .design
        .build(&spec.material, options)
        .map_err(|e| format!("backend {}: {e}", spec.name))?;
    let sni = ServerName::try_from(spec.sni.clone())
        .map_err(|_| format!("backend {}: bad server name {:?}", spec.name, spec.sni))?;
    Ok(Backend {
        name: spec.name.clone(),
        addr: spec.addr,
        sni,
        tls,
        transaction: Mutex::new(Transaction {
            current: spec.material.clone(),
            pending: None,
        }),
        no_reuse: spec.no_reuse,
        connections: AtomicU64::new(0),
        connect_errors: AtomicU64::new(0),
    })
}

struct Decrement<'a>(&'a AtomicU64);

impl Drop for Decrement<'_> {
    fn drop(&mut self) {
        // Relaxed: a statistic.
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
