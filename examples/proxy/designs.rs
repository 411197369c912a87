//! The session cache behind each backend: tls-slots' two tables, or rustls's
//! own `ClientSessionMemoryCache` for comparison, behind one trait.

use arc_swap::ArcSwap;
use rustls::client::Resumption;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, ClientConnection, HandshakeKind};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use tls_slots::tls::{
    Context, Entry, LockFreeUpstream, Material, MaterialError, Upstream, UpstreamOptions,
};
use tls_slots::{GenerationId, SessionTable};

/// Which session cache a proxy uses for its backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    /// tls-slots' `LockFreeTable`.
    LockFree,
    /// tls-slots' `RwLockTable` (HAProxy 2.4's design).
    RwLock,
    /// rustls's default: one `ClientSessionMemoryCache` (one Mutex) per
    /// backend, kept across commits; a commit only swaps the config.
    RustlsDefault,
}

impl Design {
    /// All three, in the order the demo runs them.
    pub const ALL: [Design; 3] = [Design::LockFree, Design::RwLock, Design::RustlsDefault];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Design::LockFree => "lock-free",
            Design::RwLock => "rwlock",
            Design::RustlsDefault => "rustls-default",
        }
    }

    /// Builds one backend's TLS state serving `material`.
    pub fn build(
        self,
        material: &Material,
        options: UpstreamOptions,
    ) -> Result<Box<dyn Tls>, MaterialError> {
        Ok(match self {
            Design::LockFree => Box::new(LockFreeUpstream::new(material, options)?),
            Design::RwLock => Box::new(tls_slots::tls::RwLockUpstream::new(material, options)?),
            Design::RustlsDefault => Box::new(RustlsDefault::new(material, options)?),
        })
    }
}

impl fmt::Display for Design {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Design {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Design::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| {
                format!("unknown design {s:?}: expected lock-free, rwlock or rustls-default")
            })
    }
}

/// What the proxy needs from a backend's TLS state: the layer's `Upstream`
/// API, object-safe.
pub trait Tls: Send + Sync {
    /// The config for the next connection (its session store included).
    fn config(&self) -> Arc<ClientConfig>;
    /// Counts a finished handshake.
    fn handshake_done(&self, connection: &ClientConnection) -> Option<HandshakeKind>;
    /// Counts a failed handshake and clears this worker's slot.
    fn handshake_failed(&self);
    /// `set ssl cert` / `set ssl ca-file`: check and keep.
    fn stage(&self, material: &Material) -> Result<(), MaterialError>;
    /// `commit ssl ...`: publish what was staged.
    fn commit_staged(&self) -> Option<GenerationId>;
    /// `abort ssl ...`.
    fn abort(&self) -> bool;
    /// The counters.
    fn stats(&self) -> tls_slots::tls::TlsStats;
    /// The client certificate serving now.
    fn client_cert(&self) -> Option<CertificateDer<'static>>;
}

impl<T: SessionTable<Context, Entry> + Send + Sync> Tls for Upstream<T> {
    fn config(&self) -> Arc<ClientConfig> {
        Upstream::config(self)
    }
    fn handshake_done(&self, connection: &ClientConnection) -> Option<HandshakeKind> {
        Upstream::handshake_done(self, connection)
    }
    fn handshake_failed(&self) {
        Upstream::handshake_failed(self);
    }
    fn stage(&self, material: &Material) -> Result<(), MaterialError> {
        Upstream::stage(self, material)
    }
    fn commit_staged(&self) -> Option<GenerationId> {
        Upstream::commit_staged(self)
    }
    fn abort(&self) -> bool {
        Upstream::abort(self)
    }
    fn stats(&self) -> tls_slots::tls::TlsStats {
        Upstream::stats(self)
    }
    fn client_cert(&self) -> Option<CertificateDer<'static>> {
        self.context().client_cert().cloned()
    }
}

/// rustls's default cache, as a proxy without tls-slots would wire it: one
/// `Resumption::in_memory_sessions(256)` per backend for the process's life,
/// and on commit a new `ClientConfig` pointing at that same cache.
///
/// The layer's `Upstream` (with `no_reuse`, so its own slots stay unused)
/// does the material checks, the stage/commit transaction and the counters;
/// only the session store differs. Configs are rebuilt once per generation
/// and cached, so a connection costs one generation read and one `ArcSwap`
/// load, not a `ClientConfig` clone.
pub struct RustlsDefault {
    upstream: LockFreeUpstream,
    resumption: Resumption,
    cached: ArcSwap<(GenerationId, Arc<ClientConfig>)>,
}

impl RustlsDefault {
    fn new(material: &Material, options: UpstreamOptions) -> Result<Self, MaterialError> {
        let no_reuse = options.no_reuse;
        let upstream = LockFreeUpstream::new(material, options.no_reuse(true))?;
        let resumption = if no_reuse {
            Resumption::disabled()
        } else {
            Resumption::in_memory_sessions(256)
        };
        let context = upstream.context();
        let config = with_resumption(context.config(), &resumption);
        Ok(Self {
            upstream,
            resumption,
            cached: ArcSwap::from_pointee((context.generation(), config)),
        })
    }
}

fn with_resumption(config: &ClientConfig, resumption: &Resumption) -> Arc<ClientConfig> {
    let mut config = config.clone();
    config.resumption = resumption.clone();
    Arc::new(config)
}

impl Tls for RustlsDefault {
    fn config(&self) -> Arc<ClientConfig> {
        // A commit that returned before this call has published a newer
        // generation, so this comparison sees it and rebuilds.
        let generation = self.upstream.generation();
        let cached = self.cached.load();
        if cached.0 == generation {
            return Arc::clone(&cached.1);
        }
        let context = self.upstream.context();
        let config = with_resumption(context.config(), &self.resumption);
        self.cached
            .store(Arc::new((context.generation(), Arc::clone(&config))));
        config
    }
    fn handshake_done(&self, connection: &ClientConnection) -> Option<HandshakeKind> {
        self.upstream.handshake_done(connection)
    }
    fn handshake_failed(&self) {
        // rustls's cache has no per-worker slot to clear; count it only.
        self.upstream.handshake_failed();
    }
    fn stage(&self, material: &Material) -> Result<(), MaterialError> {
        self.upstream.stage(material)
    }
    fn commit_staged(&self) -> Option<GenerationId> {
        self.upstream.commit_staged()
    }
    fn abort(&self) -> bool {
        self.upstream.abort()
    }
    fn stats(&self) -> tls_slots::tls::TlsStats {
        let mut stats = self.upstream.stats();
        stats.design = "rustls-default";
        stats
    }
    fn client_cert(&self) -> Option<CertificateDer<'static>> {
        self.upstream.context().client_cert().cloned()
    }
}
