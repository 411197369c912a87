//! Shared by the rustls-layer tests: certificates, a server, a client.

#![allow(dead_code)]

pub mod pki;
pub mod server;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, HandshakeKind};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tls_slots::tls::{Context, Entry, Upstream, set_current_worker};
use tls_slots::{SessionTable, WorkerId};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// What one connection found: how it shook hands and which client
/// identity the server saw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Seen {
    pub kind: HandshakeKind,
    pub identity: u8,
}

pub const LIMIT: Duration = Duration::from_secs(20);

/// Finishes a connection started by `TlsConnector::connect`: the handshake,
/// then reading the server's answer (which also takes in the tickets).
pub async fn finish(
    connect: tokio_rustls::Connect<TcpStream>,
) -> std::io::Result<(Seen, tokio_rustls::client::TlsStream<TcpStream>)> {
    let mut tls = tokio::time::timeout(LIMIT, connect).await??;
    let kind = tls.get_ref().1.handshake_kind().expect("handshake done");
    let mut answer = Vec::new();
    tokio::time::timeout(LIMIT, tls.read_to_end(&mut answer)).await??;
    Ok((
        Seen {
            kind,
            identity: answer.first().copied().unwrap_or(0),
        },
        tls,
    ))
}

/// Starts a connection with `config`: the ClientHello (and so the ticket
/// lookup) happens here, the rest in `finish`.
pub async fn start(
    config: Arc<ClientConfig>,
    addr: SocketAddr,
    name: &str,
) -> tokio_rustls::Connect<TcpStream> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from(name.to_owned()).unwrap();
    TlsConnector::from(config).connect(name, tcp)
}

/// One whole connection through `upstream` as worker `worker`.
pub async fn connect<T: SessionTable<Context, Entry>>(
    upstream: &Upstream<T>,
    worker: usize,
    addr: SocketAddr,
    name: &str,
) -> Seen {
    set_current_worker(WorkerId::new(worker));
    let connect = start(upstream.config(), addr, name).await;
    let (seen, tls) = finish(connect).await.expect("connection");
    upstream.handshake_done(tls.get_ref().1);
    seen
}

/// One health-check connection through `upstream` as worker `worker`.
pub async fn health_check<T: SessionTable<Context, Entry>>(
    upstream: &Upstream<T>,
    worker: usize,
    addr: SocketAddr,
) -> Seen {
    set_current_worker(WorkerId::new(worker));
    let connect = start(upstream.health_check_config(), addr, "localhost").await;
    finish(connect).await.expect("health check").0
}
