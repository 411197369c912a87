//! The proxy against a peer not written here: `openssl s_server -www` as the
//! backend, requiring a client certificate. Resumption is shown from both
//! sides: the proxy's `handshake_kind` counters, and s_server's status page
//! (`New, TLSv1.3` / `Reused, TLSv1.3`, its session-cache hits, the client
//! certificate it saw). Rotation through the control socket forces a full
//! handshake with the new certificate.
//!
//! Skips (passing, with a message on stderr) when `openssl` is not on PATH;
//! `.ci/run` installs it.

#[path = "../examples/proxy/mod.rs"]
mod proxy;

use proxy::config::{BackendSpec, ProxyConfig};
use proxy::control::{self, Client};
use proxy::designs::Design;
use proxy::engine::{self, Proxy};
use proxy::pki::Pki;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tls_slots::tls::Material;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn openssl_missing() -> bool {
    let found = Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!(
            "SKIPPED: `openssl` is not on PATH (apt-get install -y openssl); the peer tests need it"
        );
    }
    !found
}

/// Kills and reaps the child on every path, panics included.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(tag: &str) -> Dir {
    let dir = std::env::temp_dir().join(format!("tls-slots-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    Dir(dir)
}

/// Starts `openssl s_server -www` on a free loopback port and waits until
/// it accepts; a few tries in case the port was taken meanwhile.
fn s_server(dir: &Path, extra: &[&str]) -> (Killed, SocketAddr) {
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log = std::fs::File::create(dir.join("s_server.log")).unwrap();
        let child = Command::new("openssl")
            .args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
            .arg("-cert")
            .arg(dir.join("server.pem"))
            .arg("-key")
            .arg(dir.join("server.key"))
            .arg("-CAfile")
            .arg(dir.join("ca.pem"))
            .args(["-Verify", "1", "-www"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn openssl s_server");
        let mut child = Killed(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.0.try_wait().unwrap().is_some() {
                break; // exited: the port was probably taken; try another
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return (child, addr);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let log = std::fs::read_to_string(dir.join("s_server.log")).unwrap_or_default();
    panic!("openssl s_server did not start:\n{log}");
}

struct World {
    _server: Killed,
    _dir: Dir,
    pki_dir: PathBuf,
    proxy: Arc<Proxy>,
    addr: SocketAddr,
    control: SocketAddr,
    rt: tokio::runtime::Runtime,
}

fn bind() -> tokio::net::TcpListener {
    let std = TcpListener::bind("127.0.0.1:0").unwrap();
    std.set_nonblocking(true).unwrap();
    tokio::net::TcpListener::from_std(std).unwrap()
}

fn world(design: Design, server_args: &[&str]) -> World {
    let dir = temp_dir(&format!("openssl-{design}-{}", server_args.join("")));
    Pki::new().write_dir(&dir.0).unwrap();
    let (server, backend_addr) = s_server(&dir.0, server_args);
    let read = |f: &str| std::fs::read(dir.0.join(f)).unwrap();
    let rt = engine::runtime(2, "openssl-proxy").unwrap();
    let guard = rt.enter();
    let mut config = ProxyConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)), design);
    config.workers = 2;
    config.backends = vec![BackendSpec {
        name: "ossl".into(),
        addr: backend_addr,
        sni: "localhost".into(),
        material: Material::new()
            .roots_pem(read("ca.pem"))
            .client_cert_pem(read("client-a.pem"), read("client-a.key")),
        no_reuse: false,
    }];
    let proxy = Arc::new(Proxy::new(&config).unwrap());
    let (listener, control_listener) = (bind(), bind());
    let addr = listener.local_addr().unwrap();
    let control = control_listener.local_addr().unwrap();
    rt.spawn(Arc::clone(&proxy).serve(listener));
    rt.spawn(control::serve(Arc::clone(&proxy), control_listener));
    drop(guard);
    World {
        pki_dir: dir.0.clone(),
        _server: server,
        _dir: dir,
        proxy,
        addr,
        control,
        rt,
    }
}

impl World {
    /// `GET /` through the proxy: s_server's status page.
    fn get(&self) -> String {
        self.rt.block_on(async {
            let run = async {
                let mut s = tokio::net::TcpStream::connect(self.addr).await?;
                s.write_all(b"GET / HTTP/1.0\r\n\r\n").await?;
                let mut body = Vec::new();
                s.read_to_end(&mut body).await?;
                Ok::<_, std::io::Error>(String::from_utf8_lossy(&body).into_owned())
            };
            tokio::time::timeout(Duration::from_secs(20), run)
                .await
                .expect("request timed out")
                .expect("request")
        })
    }

    fn ctl(&self, command: &str, payload: Option<&str>) -> String {
        self.rt.block_on(async {
            let mut c = Client::connect(self.control).await.unwrap();
            c.send(command, payload).await.unwrap()
        })
    }

    fn kinds(&self) -> (u64, u64) {
        let s = self.proxy.backends[0].tls.stats();
        (s.full_handshakes, s.resumed_handshakes)
    }
}

/// s_server's line `---\nNew, TLSv1.3, Cipher is ...` or `Reused, ...`.
fn server_saw(page: &str) -> &str {
    page.lines()
        .find_map(|l| {
            l.strip_prefix("New, ")
                .map(|_| "New")
                .or_else(|| l.strip_prefix("Reused, ").map(|_| "Reused"))
        })
        .unwrap_or_else(|| panic!("no New/Reused line in s_server's page:\n{page}"))
}

fn cache_hits(page: &str) -> Option<u64> {
    page.lines()
        .find(|l| l.trim_end().ends_with("session cache hits"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
}

fn resumes_then_rotation_forces_a_full_handshake(
    design: Design,
    server_args: &[&str],
    version: &str,
) {
    let w = world(design, server_args);
    let page = w.get();
    assert_eq!(server_saw(&page), "New", "{page}");
    assert!(page.contains(&format!("New, {version}")), "{page}");
    assert!(
        page.contains("CN=client a"),
        "s_server names the client cert:\n{page}"
    );
    assert_eq!(w.kinds(), (1, 0));
    for i in 1..=3 {
        let page = w.get();
        assert_eq!(
            server_saw(&page),
            "Reused",
            "{design} {version}, request {i}:\n{page}"
        );
        assert!(page.contains("CN=client a"), "{page}");
        assert_eq!(w.kinds(), (1, i), "{design}: proxy-side handshake_kind");
        if let Some(hits) = cache_hits(&page) {
            assert!(
                hits >= i,
                "s_server counted {hits} session cache hits:\n{page}"
            );
        }
    }
    // Rotate to client b through the control socket.
    let bundle = format!(
        "{}{}",
        std::fs::read_to_string(w.pki_dir.join("client-b.pem")).unwrap(),
        std::fs::read_to_string(w.pki_dir.join("client-b.key")).unwrap()
    );
    assert!(
        w.ctl("set ssl cert ossl", Some(&bundle))
            .starts_with("Transaction")
    );
    assert!(w.ctl("commit ssl cert ossl", None).contains("Success"));
    let page = w.get();
    assert_eq!(
        server_saw(&page),
        "New",
        "rotation forces a full handshake:\n{page}"
    );
    assert!(
        page.contains("CN=client b"),
        "with the new certificate:\n{page}"
    );
    assert!(!page.contains("CN=client a"), "{page}");
    assert_eq!(w.kinds(), (2, 3));
    let page = w.get();
    assert_eq!(server_saw(&page), "Reused", "{page}");
    assert!(page.contains("CN=client b"), "{page}");
    assert_eq!(w.kinds(), (2, 4));
}

#[test]
fn lock_free_tls13_against_openssl_s_server() {
    if openssl_missing() {
        return;
    }
    resumes_then_rotation_forces_a_full_handshake(Design::LockFree, &[], "TLSv1.3");
}

#[test]
fn rwlock_tls13_against_openssl_s_server() {
    if openssl_missing() {
        return;
    }
    resumes_then_rotation_forces_a_full_handshake(Design::RwLock, &[], "TLSv1.3");
}

#[test]
fn lock_free_tls12_against_openssl_s_server() {
    if openssl_missing() {
        return;
    }
    resumes_then_rotation_forces_a_full_handshake(Design::LockFree, &["-tls1_2"], "TLSv1.2");
}
