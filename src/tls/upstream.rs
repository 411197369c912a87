//! One backend server's TLS client context: HAProxy's `server->ssl_ctx`.

use super::entry::Entry;
use super::material::{Material, MaterialError, Prepared};
use super::options::UpstreamOptions;
use super::stats::{StatsBank, TlsEvent, TlsStats};
use super::store::{GenerationStore, StoreShared};
use super::worker::current_worker;
use crate::core::{GenerationId, SessionTable, SlotAccess, Snapshot};
use crate::sync::Mutex;
use crate::{LockFreeTable, RwLockTable};
use rustls::client::{ClientSessionStore, Resumption};
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, ClientConnection, HandshakeKind};
use std::sync::{Arc, PoisonError};

/// What one generation of an [`Upstream`] serves: the config connections are
/// made from (its session store is this generation's slots), a config for
/// health checks (no session store at all), and the client certificate.
#[derive(Debug)]
pub struct TlsContext {
    generation: GenerationId,
    config: Arc<ClientConfig>,
    health_check: Arc<ClientConfig>,
    client_cert: Option<CertificateDer<'static>>,
    session_store: Option<Arc<dyn ClientSessionStore>>,
}

impl TlsContext {
    /// The generation this context belongs to.
    pub fn generation(&self) -> GenerationId {
        self.generation
    }

    /// The config for traffic: hand it to `tokio_rustls::TlsConnector`.
    pub fn config(&self) -> &Arc<ClientConfig> {
        &self.config
    }

    /// The config for health checks: same identity and roots, but it never
    /// stores nor offers a session (HAProxy 3.4).
    pub fn health_check_config(&self) -> &Arc<ClientConfig> {
        &self.health_check
    }

    /// The client's end-entity certificate, if this generation has one.
    pub fn client_cert(&self) -> Option<&CertificateDer<'static>> {
        self.client_cert.as_ref()
    }

    /// The session store [`config`](Self::config) resumes from: this
    /// generation's slots (`None` with `no_reuse`). rustls keeps a config's
    /// store private; this is for callers that wrap it, e.g. to time or log
    /// each call, in a clone of the config (same verifier and resolver, so
    /// sessions stay resumable across the two).
    pub fn session_store(&self) -> Option<&Arc<dyn ClientSessionStore>> {
        self.session_store.as_ref()
    }
}

/// The table's context type: one [`TlsContext`] per generation.
pub type Context = Arc<TlsContext>;

/// An [`Upstream`] on the lock-free table.
pub type LockFreeUpstream = Upstream<LockFreeTable<Context, Entry>>;
/// An [`Upstream`] on the rwlock table (HAProxy 2.4's design).
pub type RwLockUpstream = Upstream<RwLockTable<Context, Entry>>;

/// One backend server: its current TLS context and the per-worker session
/// slots that context's connections resume from, replaced together by
/// [`commit`](Self::commit).
///
/// Every generation's `ClientConfig` is built with
/// `Resumption::store(GenerationStore { slots: that generation's slots })`,
/// so a connection made from generation N can only deposit tickets into
/// generation N's slots, and once a commit has replaced N those slots store
/// nothing and offer nothing. No session of N can reach a connection of N+1,
/// whatever the timing.
pub struct Upstream<T> {
    table: T,
    shared: crate::sync::Arc<StoreShared>,
    options: UpstreamOptions,
    /// HAProxy's `set ssl cert` transaction; only the control plane takes it.
    staged: Mutex<Option<Prepared>>,
}

impl<T: SessionTable<Context, Entry>> Upstream<T> {
    /// An upstream serving `material` as generation 1.
    pub fn new(material: &Material, options: UpstreamOptions) -> Result<Self, MaterialError> {
        Ok(Self::from_prepared(material.prepare()?, options))
    }

    /// An upstream serving already checked material as generation 1.
    pub fn from_prepared(prepared: Prepared, options: UpstreamOptions) -> Self {
        let shared = crate::sync::Arc::new(StoreShared {
            stats: StatsBank::new(options.workers),
            tickets_per_worker: options.tickets_per_worker.max(1),
            borrow: options.borrow,
        });
        let table = T::build(options.workers, |slots| {
            context_for(&prepared, &options, &shared, slots)
        });
        Self {
            table,
            shared,
            options,
            staged: Mutex::new(None),
        }
    }

    /// The current generation's context (both configs and the client
    /// certificate). One `load` of the table: no lock in the lock-free design.
    pub fn context(&self) -> Context {
        Arc::clone(self.table.load().context())
    }

    /// The current config for traffic connections.
    pub fn config(&self) -> Arc<ClientConfig> {
        Arc::clone(&self.table.load().context().config)
    }

    /// The current config for health checks: it neither stores nor takes
    /// sessions.
    pub fn health_check_config(&self) -> Arc<ClientConfig> {
        Arc::clone(&self.table.load().context().health_check)
    }

    /// The current generation's number.
    pub fn generation(&self) -> GenerationId {
        self.table.generation()
    }

    /// The options this upstream was built with.
    pub fn options(&self) -> &UpstreamOptions {
        &self.options
    }

    /// The table underneath.
    pub fn table(&self) -> &T {
        &self.table
    }

    /// Checks `material` and, if it passes, publishes it as a new generation
    /// with empty slots. If it does not, nothing changes and the error says
    /// why: the current generation keeps serving and resuming.
    pub fn commit(&self, material: &Material) -> Result<GenerationId, MaterialError> {
        match material.prepare() {
            Ok(prepared) => Ok(self.commit_prepared(&prepared)),
            Err(e) => {
                self.shared.stats.count_rejected_commit();
                Err(e)
            }
        }
    }

    /// Publishes checked material as a new generation with empty slots.
    pub fn commit_prepared(&self, prepared: &Prepared) -> GenerationId {
        let (options, shared) = (&self.options, &self.shared);
        self.table
            .commit_with(|slots| context_for(prepared, options, shared, slots))
    }

    /// HAProxy's `set ssl cert`: checks `material` and keeps it for
    /// [`commit_staged`](Self::commit_staged), replacing anything staged
    /// before. A refused stage leaves what was staged before in place.
    pub fn stage(&self, material: &Material) -> Result<(), MaterialError> {
        let prepared = material.prepare().inspect_err(|_| {
            self.shared.stats.count_rejected_commit();
        })?;
        *self.staged.lock().unwrap_or_else(PoisonError::into_inner) = Some(prepared);
        Ok(())
    }

    /// HAProxy's `commit ssl cert`: publishes what [`stage`](Self::stage)
    /// kept. `None` if nothing was staged.
    pub fn commit_staged(&self) -> Option<GenerationId> {
        let prepared = self
            .staged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        Some(self.commit_prepared(&prepared))
    }

    /// HAProxy's `abort ssl cert`: drops what was staged. Returns whether
    /// there was anything.
    pub fn abort(&self) -> bool {
        self.staged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .is_some()
    }

    /// Counts a finished handshake as full or resumed and returns its kind.
    /// Call it with the connection once the handshake is done (with
    /// tokio-rustls: `stream.get_ref().1`).
    pub fn handshake_done(&self, connection: &ClientConnection) -> Option<HandshakeKind> {
        let kind = connection.handshake_kind()?;
        let event = match kind {
            HandshakeKind::Resumed => TlsEvent::ResumedHandshake,
            HandshakeKind::Full | HandshakeKind::FullWithHelloRetryRequest => {
                TlsEvent::FullHandshake
            }
        };
        self.shared.stats.count(current_worker(), event);
        Some(kind)
    }

    /// Call on a failed handshake: counts it and clears the calling worker's
    /// slot in the current generation, so a session that may have caused the
    /// failure is not offered again. Returns whether a session was removed.
    pub fn handshake_failed(&self) -> bool {
        let worker = current_worker();
        self.shared.stats.count(worker, TlsEvent::FailedHandshake);
        match self.table.load().clear(worker) {
            Ok(cleared) => cleared,
            Err(_) => {
                self.shared.stats.count(worker, TlsEvent::WorkerOutOfRange);
                false
            }
        }
    }

    /// The counters, summed now.
    pub fn stats(&self) -> TlsStats {
        self.shared
            .stats
            .snapshot(T::DESIGN, self.table.generation(), self.table.counters())
    }
}

/// Builds generation `slots.generation()`'s context: its traffic config owns
/// a store bound to exactly these slots.
fn context_for<A: SlotAccess<Entry> + Clone + Send + Sync + 'static>(
    prepared: &Prepared,
    options: &UpstreamOptions,
    shared: &crate::sync::Arc<StoreShared>,
    slots: &A,
) -> Context {
    let session_store = (!options.no_reuse).then(|| {
        let store: Arc<dyn ClientSessionStore> = Arc::new(GenerationStore {
            slots: slots.clone(),
            shared: crate::sync::Arc::clone(shared),
        });
        store
    });
    let resumption = match &session_store {
        Some(store) => Resumption::store(Arc::clone(store)),
        None => Resumption::disabled(),
    };
    Arc::new(TlsContext {
        generation: slots.generation(),
        config: prepared.config(resumption),
        health_check: prepared.config(Resumption::disabled()),
        client_cert: prepared.client_cert().cloned(),
        session_store,
    })
}
