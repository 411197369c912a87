//! The control socket: a line protocol on loopback TCP in the manner of
//! HAProxy's stats socket.
//!
//! ```text
//! help
//! show upstreams                       one line per backend
//! show ssl sess <backend>              the backend's TlsStats
//! set ssl cert <backend> <<            then the PEM (certificate chain and key),
//! <PEM lines>                          ended by an empty line (HAProxy's payload syntax)
//!
//! commit ssl cert <backend>            publish the open transaction
//! abort ssl cert <backend>             drop it
//! set ssl ca-file <backend> <<         then the PEM bundle of trusted roots, an empty line
//! commit ssl ca-file <backend>         (same transaction as `ssl cert`)
//! abort ssl ca-file <backend>
//! quit
//! ```
//!
//! Every answer ends with an empty line; an error answer starts with
//! `error: `. One transaction per backend: `set ssl cert` and
//! `set ssl ca-file` both add to it (each checks the whole material with
//! `Material::prepare` and stages it, so a bad `set` answers with the typed
//! error and leaves the transaction as it was), and either `commit` publishes
//! it. A connection may send several commands.

use super::engine::Proxy;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::PoisonError;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The largest payload a `set` accepts.
pub const MAX_PAYLOAD: usize = 1 << 20;
/// How long a control connection may stay silent.
pub const IDLE: Duration = Duration::from_secs(60);

/// Serves control connections until the task is dropped.
pub async fn serve(proxy: Arc<Proxy>, listener: TcpListener) {
    while let Ok((stream, _)) = listener.accept().await {
        let proxy = Arc::clone(&proxy);
        tokio::spawn(async move {
            let _ = session(&proxy, stream).await;
        });
    }
}

/// The longest line a control connection may send (a PEM line is 64).
pub const MAX_LINE: u64 = 64 * 1024;

/// One line without its end, `None` at end of stream; an over-long line or
/// a silent peer is an error that ends the session.
async fn next_line<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    let n =
        tokio::time::timeout(IDLE, (&mut *reader).take(MAX_LINE).read_line(&mut line)).await??;
    if n == 0 {
        return Ok(None);
    }
    if !line.ends_with('\n') && n as u64 == MAX_LINE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "control line too long",
        ));
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
}

async fn session(proxy: &Proxy, stream: TcpStream) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let Some(line) = next_line(&mut reader).await? else {
            return Ok(());
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "quit" {
            return Ok(());
        }
        let (command, payload) = match line.strip_suffix("<<") {
            Some(command) => {
                let mut payload = String::new();
                loop {
                    match next_line(&mut reader).await? {
                        Some(l) if l.trim().is_empty() => break,
                        Some(l) => {
                            payload.push_str(&l);
                            payload.push('\n');
                        }
                        None => return Ok(()),
                    }
                    if payload.len() > MAX_PAYLOAD {
                        write.write_all(b"error: payload too large\n\n").await?;
                        return Ok(());
                    }
                }
                (command.trim(), Some(payload))
            }
            None => (line, None),
        };
        let mut answer = execute(proxy, command, payload.as_deref());
        while !answer.ends_with("\n\n") {
            answer.push('\n');
        }
        write.write_all(answer.as_bytes()).await?;
    }
}

/// Runs one command; `payload` is what followed a `<<` line.
pub fn execute(proxy: &Proxy, command: &str, payload: Option<&str>) -> String {
    let words: Vec<&str> = command.split_whitespace().collect();
    match words.as_slice() {
        ["help"] => HELP.to_owned(),
        ["show", "upstreams"] => show_upstreams(proxy),
        ["show", "ssl", "sess", name] => match proxy.backend(name) {
            Some(b) => format!("{}\n", b.tls.stats()),
            None => unknown(name),
        },
        ["set", "ssl", what @ ("cert" | "ca-file"), name] => {
            let Some(payload) = payload else {
                return format!(
                    "error: `set ssl {what} {name}` takes a payload: end the line with `<<`, then the PEM, then an empty line\n"
                );
            };
            set(proxy, what, name, payload)
        }
        ["commit", "ssl", "cert" | "ca-file", name] => commit(proxy, name),
        ["abort", "ssl", "cert" | "ca-file", name] => abort(proxy, name),
        _ => format!("error: unknown command {command:?}; try `help`\n"),
    }
}

const HELP: &str = "\
help
show upstreams
show ssl sess <backend>
set ssl cert <backend> <<      then the PEM chain and key, then an empty line
set ssl ca-file <backend> <<   then the PEM roots, then an empty line
commit ssl cert|ca-file <backend>
abort ssl cert|ca-file <backend>
quit
";

fn unknown(name: &str) -> String {
    format!("error: no backend named {name:?}\n")
}

fn show_upstreams(proxy: &Proxy) -> String {
    let mut out = format!(
        "# design={} workers={} accepted={} active={} connect_errors={} handshake_errors={}\n\
         # name addr sni generation commits full resumed failed reused% connections pending\n",
        proxy.design,
        proxy.workers,
        // Relaxed: statistics.
        proxy.counters.accepted.load(Ordering::Relaxed),
        proxy.counters.active.load(Ordering::Relaxed),
        proxy.counters.connect_errors.load(Ordering::Relaxed),
        proxy.counters.handshake_errors.load(Ordering::Relaxed),
    );
    for b in &proxy.backends {
        let s = b.tls.stats();
        let pending = b
            .transaction
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pending
            .is_some();
        let _ = writeln!(
            out,
            "{} {} {:?} {} {} {} {} {} {:.1} {} {}{}",
            b.name,
            b.addr,
            b.sni.to_str(),
            s.generation,
            s.commits,
            s.full_handshakes,
            s.resumed_handshakes,
            s.failed_handshakes,
            100.0 * s.resumed_share(),
            b.connections.load(Ordering::Relaxed),
            if pending { "yes" } else { "no" },
            if b.no_reuse { " no-reuse" } else { "" },
        );
    }
    out
}

fn set(proxy: &Proxy, what: &str, name: &str, payload: &str) -> String {
    let Some(b) = proxy.backend(name) else {
        return unknown(name);
    };
    let mut txn = b.transaction.lock().unwrap_or_else(PoisonError::into_inner);
    let base = txn.pending.clone().unwrap_or_else(|| txn.current.clone());
    let candidate = match what {
        // HAProxy's `set ssl cert` payload: the chain and the key in one
        // PEM; the layer takes the certificates and the key from it.
        "cert" => base.client_cert_pem(payload.as_bytes(), payload.as_bytes()),
        _ => base.roots_pem(payload.as_bytes()),
    };
    match b.tls.stage(&candidate) {
        Ok(()) => {
            txn.pending = Some(candidate);
            format!(
                "Transaction updated for backend {name} ({what}); `commit ssl {what} {name}` publishes it.\n"
            )
        }
        Err(e) => {
            // `stage` leaves what was staged before in place.
            format!("error: {e}\n")
        }
    }
}

fn commit(proxy: &Proxy, name: &str) -> String {
    let Some(b) = proxy.backend(name) else {
        return unknown(name);
    };
    let mut txn = b.transaction.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(pending) = txn.pending.take() else {
        return format!("error: no transaction open for backend {name}\n");
    };
    match b.tls.commit_staged() {
        Some(generation) => {
            txn.current = pending;
            format!(
                "Committing backend {name}: Success! generation {}\n",
                generation.get()
            )
        }
        None => format!("error: nothing staged for backend {name}\n"),
    }
}

fn abort(proxy: &Proxy, name: &str) -> String {
    let Some(b) = proxy.backend(name) else {
        return unknown(name);
    };
    let mut txn = b.transaction.lock().unwrap_or_else(PoisonError::into_inner);
    let had = txn.pending.take().is_some();
    b.tls.abort();
    if had {
        format!("Transaction aborted for backend {name}.\n")
    } else {
        format!("error: no transaction open for backend {name}\n")
    }
}

/// A control-socket client: one connection, several commands.
pub struct Client {
    lines: tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>,
    write: tokio::net::tcp::OwnedWriteHalf,
}

impl Client {
    /// Connects to the control socket at `addr`.
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = tokio::time::timeout(IDLE, TcpStream::connect(addr)).await??;
        let (read, write) = stream.into_split();
        Ok(Self {
            lines: BufReader::new(read).lines(),
            write,
        })
    }

    /// Sends `command` (with `payload` after a `<<` if given; its empty
    /// lines are dropped, since an empty line ends it) and returns the
    /// answer without its final empty line.
    pub async fn send(&mut self, command: &str, payload: Option<&str>) -> std::io::Result<String> {
        let mut request = command.trim().to_owned();
        if let Some(payload) = payload {
            if !request.ends_with("<<") {
                request.push_str(" <<");
            }
            request.push('\n');
            for line in payload.lines().filter(|l| !l.trim().is_empty()) {
                request.push_str(line);
                request.push('\n');
            }
        }
        request.push('\n');
        self.write.write_all(request.as_bytes()).await?;
        let mut answer = String::new();
        loop {
            match tokio::time::timeout(IDLE, self.lines.next_line()).await?? {
                Some(line) if line.is_empty() => return Ok(answer),
                Some(line) => {
                    answer.push_str(&line);
                    answer.push('\n');
                }
                None => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "control socket closed",
                    ));
                }
            }
        }
    }
}
