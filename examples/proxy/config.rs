//! The proxy's configuration, from command-line flags. No config-file
//! format: a backend is one flag, `--backend name=b1,addr=...,sni=...`.

use super::designs::Design;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tls_slots::tls::Material;

/// The usage text of `cargo run --example proxy`.
pub const USAGE: &str = "\
usage:
  proxy --listen ADDR [--control ADDR] [--design lock-free|rwlock|rustls-default]
        [--workers N] [--tickets N] [--no-borrow] [--no-reuse]
        --backend name=NAME,addr=IP:PORT,sni=HOST,ca=PATH[,cert=PATH,key=PATH][,no-reuse] ...
  proxy ctl ADDR 'COMMAND' [PEM-FILE ...]    send one control command (PEM files: its payload)
  proxy pki DIR                              write a demo CA, server and two client identities
  proxy backend --listen ADDR --dir DIR      a TLS echo backend requiring a client cert of DIR/ca.pem

Each --backend is one upstream server; connections are spread over them
round robin. cert and key may name the same file. --no-reuse (global or per
backend) is HAProxy's no-ssl-reuse.";

/// One upstream server as configured.
#[derive(Clone, Debug)]
pub struct BackendSpec {
    /// The name the control socket uses.
    pub name: String,
    /// Where to connect.
    pub addr: SocketAddr,
    /// The server name to send and verify.
    pub sni: String,
    /// The initial TLS material (roots, client identity).
    pub material: Material,
    /// HAProxy's `no-ssl-reuse` for this server.
    pub no_reuse: bool,
}

/// Everything the proxy needs.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    /// The plain-TCP listening address.
    pub listen: SocketAddr,
    /// The control socket's address, if any.
    pub control: Option<SocketAddr>,
    /// The session cache design.
    pub design: Design,
    /// Runtime worker threads, and so worker slots per upstream.
    pub workers: usize,
    /// TLS 1.3 tickets kept per worker slot.
    pub tickets: usize,
    /// Whether an empty worker may borrow another worker's ticket.
    pub borrow: bool,
    /// The upstream servers, in round-robin order.
    pub backends: Vec<BackendSpec>,
}

impl ProxyConfig {
    /// A configuration with no backends yet, the defaults elsewhere.
    pub fn new(listen: SocketAddr, design: Design) -> Self {
        Self {
            listen,
            control: None,
            design,
            workers: default_workers(),
            tickets: 8,
            borrow: true,
            backends: Vec::new(),
        }
    }
}

/// One worker per available core, at least 1.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Parses the proxy's flags (without the program name).
pub fn parse_args(args: &[String]) -> Result<ProxyConfig, String> {
    let mut listen = None;
    let mut control = None;
    let mut design = Design::LockFree;
    let mut workers = default_workers();
    let mut tickets = 8;
    let mut borrow = true;
    let mut no_reuse = false;
    let mut backends = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--listen" => listen = Some(addr("--listen", &value()?)?),
            "--control" => control = Some(addr("--control", &value()?)?),
            "--design" => design = value()?.parse()?,
            "--workers" => workers = count("--workers", &value()?)?,
            "--tickets" => tickets = count("--tickets", &value()?)?,
            "--no-borrow" => borrow = false,
            "--no-reuse" => no_reuse = true,
            "--backend" => backends.push(parse_backend(&value()?)?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if backends.is_empty() {
        return Err("at least one --backend is needed".into());
    }
    for (i, b) in backends.iter().enumerate() {
        if backends[..i].iter().any(|o| o.name == b.name) {
            return Err(format!("two backends are named {:?}", b.name));
        }
    }
    if no_reuse {
        backends.iter_mut().for_each(|b| b.no_reuse = true);
    }
    Ok(ProxyConfig {
        listen: listen.ok_or("--listen is needed")?,
        control,
        design,
        workers,
        tickets,
        borrow,
        backends,
    })
}

fn addr(what: &str, text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|_| format!("{what}: {text:?} is not an IP:PORT address"))
}

fn count(what: &str, text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{what}: {text:?} is not a positive number")),
    }
}

/// Parses `name=b1,addr=127.0.0.1:9443,sni=localhost,ca=ca.pem,cert=c.pem,key=c.key[,no-reuse]`
/// and reads the files it names. The material is checked when the proxy
/// builds its upstreams (`Proxy::new`), with the layer's typed errors.
pub fn parse_backend(spec: &str) -> Result<BackendSpec, String> {
    let mut fields: [(&str, Option<&str>); 6] = [
        ("name", None),
        ("addr", None),
        ("sni", None),
        ("ca", None),
        ("cert", None),
        ("key", None),
    ];
    let mut no_reuse = false;
    for part in spec.split(',').filter(|p| !p.is_empty()) {
        if part == "no-reuse" {
            no_reuse = true;
            continue;
        }
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("--backend {spec:?}: {part:?} is not key=value"))?;
        let field = fields
            .iter_mut()
            .find(|(k, _)| *k == key)
            .ok_or_else(|| {
                format!(
                    "--backend {spec:?}: unknown key {key:?} (known: name, addr, sni, ca, cert, key, no-reuse)"
                )
            })?;
        if field.1.replace(value).is_some() {
            return Err(format!("--backend {spec:?}: {key} given twice"));
        }
    }
    let get = |key: &str| fields.iter().find(|(k, _)| *k == key).and_then(|f| f.1);
    let need = |key: &str| get(key).ok_or_else(|| format!("--backend {spec:?}: {key}= is missing"));
    let name = need("name")?.to_owned();
    let addr = addr(&format!("--backend {name}: addr"), need("addr")?)?;
    let sni = need("sni")?.to_owned();
    rustls::pki_types::ServerName::try_from(sni.clone())
        .map_err(|_| format!("--backend {name}: sni {sni:?} is not a valid server name"))?;
    let mut material = Material::new().roots_pem(read(&name, "ca", need("ca")?)?);
    match (get("cert"), get("key")) {
        (Some(cert), Some(key)) => {
            material =
                material.client_cert_pem(read(&name, "cert", cert)?, read(&name, "key", key)?)
        }
        (None, None) => {}
        _ => return Err(format!("--backend {name}: cert= and key= go together")),
    }
    Ok(BackendSpec {
        name,
        addr,
        sni,
        material,
        no_reuse,
    })
}

fn read(backend: &str, what: &str, path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(Path::new(path)).map_err(|e| {
        format!(
            "--backend {backend}: {what}={}: {e}",
            PathBuf::from(path).display()
        )
    })
}
