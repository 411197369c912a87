//! A rustls server on 127.0.0.1 that requires a client certificate and
//! answers each connection with the index of the client identity it saw.

use super::pki::Pki;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ServerSessionMemoryCache, WebPkiClientVerifier};
use rustls::{RootCertStore, ServerConfig};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// What the server answers when the client certificate is none it knows.
pub const UNKNOWN: u8 = b'?';

/// The client certificates the server can name, by index.
#[derive(Clone, Default)]
pub struct Known(Arc<RwLock<Vec<Vec<u8>>>>);

impl Known {
    /// Registers `cert_der` and returns the byte the server answers for it.
    pub fn add(&self, cert_der: &[u8]) -> u8 {
        let mut known = self.0.write().unwrap();
        known.push(cert_der.to_vec());
        b'A' + (known.len() - 1) as u8
    }

    pub fn name(&self, cert: Option<&CertificateDer<'_>>) -> u8 {
        let known = self.0.read().unwrap();
        cert.and_then(|c| known.iter().position(|k| k.as_slice() == c.as_ref()))
            .map_or(UNKNOWN, |i| b'A' + i as u8)
    }
}

/// The server's config. `sessions > 0`: a stateful session cache of that
/// size (it also refuses a ticket offered twice). `sessions == 0`: stateless
/// tickets, so that the server's cost does not grow with the number of
/// connections made before (rustls's server cache `take` is O(n)).
pub fn server_config(pki: &Pki, sessions: usize) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(pki.ca_der.clone())).unwrap();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .unwrap();
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(pki.server.cert_der.clone())],
            PrivateKeyDer::try_from(pki.server.key_der.clone()).unwrap(),
        )
        .unwrap();
    if sessions > 0 {
        config.session_storage = ServerSessionMemoryCache::new(sessions);
    } else {
        config.ticketer = rustls::crypto::ring::Ticketer::new().unwrap();
    }
    Arc::new(config)
}

/// Starts the server on a runtime's worker and returns its address.
pub async fn start(config: Arc<ServerConfig>, known: Known) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = TlsAcceptor::from(config);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let (acceptor, known) = (acceptor.clone(), known.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let seen = known.name(tls.get_ref().1.peer_certificates().and_then(|c| c.first()));
                let _ = tls.write_all(&[seen]).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}
