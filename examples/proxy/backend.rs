//! A test backend: a rustls server on loopback that requires a client
//! certificate from one CA, records which client certificate it saw on each
//! new connection, answers with one header line naming it, then echoes.
//!
//! ```text
//! client=<id> handshake=<full|resumed>\n      then every byte received, echoed
//! ```
//!
//! `<id>` is the number [`Identities::add`] gave the certificate, or `?`.

use super::pki::Pki;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{HandshakeKind, RootCertStore, ServerConfig};
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// How many identities [`Identities`] remembers; older ones read as `?`.
pub const REMEMBERED: usize = 256;

/// The client certificates the backends can name: a bounded map from a hash
/// of the certificate to a number.
#[derive(Clone, Default)]
pub struct Identities(Arc<RwLock<Remembered>>);

/// Certificate digest → identity, and the digests oldest first.
type Remembered = (HashMap<u64, u64>, VecDeque<u64>);

fn digest(cert: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    cert.hash(&mut h);
    h.finish()
}

impl Identities {
    /// Remembers `cert_der` as identity `id`, forgetting the oldest beyond
    /// [`REMEMBERED`].
    pub fn add(&self, cert_der: &[u8], id: u64) {
        let mut guard = self.0.write().unwrap_or_else(PoisonError::into_inner);
        let (map, order) = &mut *guard;
        let key = digest(cert_der);
        map.insert(key, id);
        order.push_back(key);
        while order.len() > REMEMBERED {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
    }

    /// The identity of `cert`, if remembered.
    pub fn name(&self, cert: Option<&CertificateDer<'_>>) -> Option<u64> {
        let guard = self.0.read().unwrap_or_else(PoisonError::into_inner);
        cert.and_then(|c| guard.0.get(&digest(c.as_ref())).copied())
    }
}

/// What a backend counted.
#[derive(Default)]
pub struct BackendCounters {
    /// Handshakes that completed, full.
    pub full: AtomicU64,
    /// Handshakes that completed, resumed.
    pub resumed: AtomicU64,
    /// Handshakes that failed.
    pub failed: AtomicU64,
}

/// A server config requiring a client certificate issued by the CA in
/// `ca_pem`, serving `cert_pem`/`key_pem`, with stateless TLS 1.3 tickets
/// (so the backend's own session cache is no bottleneck in the demo).
pub fn server_config(
    ca_pem: &str,
    cert_pem: &str,
    key_pem: &str,
) -> Result<Arc<ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots
            .add(ca.map_err(|e| format!("CA: {e}"))?)
            .map_err(|e| format!("CA: {e}"))?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("client verifier: {e}"))?;
    let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("server certificate: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| format!("server key: {e}"))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    config.ticketer = rustls::crypto::ring::Ticketer::new().map_err(|e| e.to_string())?;
    Ok(Arc::new(config))
}

/// The config for a [`Pki`]'s server identity.
pub fn pki_server_config(pki: &Pki) -> Arc<ServerConfig> {
    server_config(&pki.ca_pem, &pki.server.cert_pem, &pki.server.key_pem).expect("server config")
}

/// Starts a backend on `listener` (on the calling runtime) and returns its
/// counters.
pub fn spawn(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    identities: Identities,
) -> Arc<BackendCounters> {
    let counters = Arc::new(BackendCounters::default());
    let acceptor = TlsAcceptor::from(config);
    let c = Arc::clone(&counters);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let (acceptor, identities, counters) =
                (acceptor.clone(), identities.clone(), Arc::clone(&c));
            tokio::spawn(async move {
                let accepted =
                    tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await;
                let Ok(Ok(mut tls)) = accepted else {
                    // Relaxed: statistics.
                    counters.failed.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                let connection = tls.get_ref().1;
                let resumed = connection.handshake_kind() == Some(HandshakeKind::Resumed);
                let seen = identities.name(connection.peer_certificates().and_then(|c| c.first()));
                let counter = if resumed {
                    &counters.resumed
                } else {
                    &counters.full
                };
                counter.fetch_add(1, Ordering::Relaxed);
                let header = format!(
                    "client={} handshake={}\n",
                    seen.map_or("?".to_owned(), |id| id.to_string()),
                    if resumed { "resumed" } else { "full" }
                );
                let _ = echo(&mut tls, header.as_bytes()).await;
            });
        }
    });
    counters
}

async fn echo<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    tls: &mut S,
    header: &[u8],
) -> std::io::Result<()> {
    tls.write_all(header).await?;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(60), tls.read(&mut buf)).await??;
        if n == 0 {
            return tls.shutdown().await;
        }
        tls.write_all(&buf[..n]).await?;
    }
}
