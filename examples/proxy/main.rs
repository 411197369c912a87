//! A tokio TCP→TLS proxy on tls-slots, with an HAProxy-style control socket.
//!
//! ```text
//! cargo run --release --example proxy -- pki /tmp/tls-slots
//! cargo run --release --example proxy -- backend --listen 127.0.0.1:9443 --dir /tmp/tls-slots
//! cargo run --release --example proxy -- --listen 127.0.0.1:8000 --control 127.0.0.1:8001 \
//!     --backend name=b1,addr=127.0.0.1:9443,sni=localhost,ca=/tmp/tls-slots/ca.pem,cert=/tmp/tls-slots/client-a.pem,key=/tmp/tls-slots/client-a.key
//! cargo run --release --example proxy -- ctl 127.0.0.1:8001 'show upstreams'
//! ```
//!
//! `mod.rs` documents the pieces; README.md ("Running the proxy") the commands.

#[path = "mod.rs"]
mod proxy;

use proxy::backend::{self, Identities};
use proxy::config::{USAGE, parse_args};
use proxy::engine::{self, Proxy};
use proxy::pki::Pki;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("ctl") => ctl(&args[1..]),
        Some("pki") => pki(&args[1..]),
        Some("backend") => run_backend(&args[1..]),
        Some(_) => run_proxy(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("proxy: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run_proxy(args: &[String]) -> Result<ExitCode, String> {
    let config = parse_args(args)?;
    let proxy = Arc::new(Proxy::new(&config)?);
    let rt = engine::runtime(config.workers, "proxy-worker").map_err(|e| e.to_string())?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("--listen {}: {e}", config.listen))?;
        eprintln!(
            "proxy: listening on {} ({} design, {} workers, {} backends)",
            listener.local_addr().map_err(|e| e.to_string())?,
            config.design,
            config.workers,
            config.backends.len()
        );
        if let Some(addr) = config.control {
            let control = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("--control {addr}: {e}"))?;
            eprintln!("proxy: control socket on {addr}");
            tokio::spawn(proxy::control::serve(Arc::clone(&proxy), control));
        }
        // The accept loop runs on a worker, like every connection.
        tokio::spawn(Arc::clone(&proxy).serve(listener))
            .await
            .map_err(|e| e.to_string())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `ctl ADDR 'COMMAND' [PEM-FILE ...]`: a `set` command takes its payload
/// from the files (concatenated) or, without files, from stdin.
fn ctl(args: &[String]) -> Result<ExitCode, String> {
    let [addr, command, files @ ..] = args else {
        return Err("ctl needs ADDR and a COMMAND".into());
    };
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| format!("ctl: {addr:?} is not an IP:PORT address"))?;
    let payload = if command.trim_start().starts_with("set ") {
        let mut text = String::new();
        if files.is_empty() {
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| format!("ctl: stdin: {e}"))?;
        }
        for f in files {
            text.push_str(&std::fs::read_to_string(f).map_err(|e| format!("ctl: {f}: {e}"))?);
            text.push('\n');
        }
        Some(text)
    } else {
        None
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let answer = rt.block_on(async {
        let mut client = proxy::control::Client::connect(addr)
            .await
            .map_err(|e| format!("ctl: {addr}: {e}"))?;
        client
            .send(command, payload.as_deref())
            .await
            .map_err(|e| format!("ctl: {e}"))
    })?;
    print!("{answer}");
    Ok(if answer.starts_with("error:") {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn pki(args: &[String]) -> Result<ExitCode, String> {
    let [dir] = args else {
        return Err("pki needs one DIR".into());
    };
    Pki::new()
        .write_dir(Path::new(dir))
        .map_err(|e| format!("pki: {dir}: {e}"))?;
    println!(
        "wrote {dir}/ca.pem, server.pem, server.key, client-a.pem, client-a.key, client-b.pem, client-b.key"
    );
    Ok(ExitCode::SUCCESS)
}

/// A TLS echo backend for the quick start: it names the client certificates
/// of DIR (`client-a` = 0, `client-b` = 1) in its header line.
fn run_backend(args: &[String]) -> Result<ExitCode, String> {
    let (mut listen, mut dir) = (None, None);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match (flag.as_str(), it.next()) {
            ("--listen", Some(v)) => {
                listen = Some(
                    v.parse::<SocketAddr>()
                        .map_err(|_| format!("--listen: {v:?} is not an IP:PORT address"))?,
                )
            }
            ("--dir", Some(v)) => dir = Some(v.clone()),
            _ => return Err(format!("backend: unexpected {flag:?}")),
        }
    }
    let (listen, dir) = (
        listen.ok_or("backend needs --listen")?,
        dir.ok_or("backend needs --dir")?,
    );
    let read = |name: &str| {
        std::fs::read_to_string(Path::new(&dir).join(name))
            .map_err(|e| format!("backend: {dir}/{name}: {e}"))
    };
    let config =
        backend::server_config(&read("ca.pem")?, &read("server.pem")?, &read("server.key")?)?;
    let identities = Identities::default();
    for (id, who) in ["client-a.pem", "client-b.pem"].into_iter().enumerate() {
        if let Ok(pem) = read(who) {
            use rustls::pki_types::{CertificateDer, pem::PemObject};
            if let Ok(der) = CertificateDer::from_pem_slice(pem.as_bytes()) {
                identities.add(der.as_ref(), id as u64);
            }
        }
    }
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("--listen {listen}: {e}"))?;
        eprintln!("backend: TLS echo on {listen}, client certificates from {dir}/ca.pem");
        backend::spawn(listener, config, identities);
        std::future::pending::<()>().await;
        Ok::<_, String>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
