//! # tls-slots
//!
//! Per-worker TLS session slots for proxies that open TLS connections to
//! upstream servers, with a context (client certificate, CA bundle) that can
//! be replaced at run time without ever blocking a connection.
//!
//! HAProxy guards each backend server's TLS context and its per-thread session
//! slots with one rwlock. tls-slots offers that design and the lock-free one
//! behind one trait, [`SessionTable`]:
//!
//! ```text
//!  RwLockTable (HAProxy 2.4)                LockFreeTable
//!  ───────────────────────────────          ─────────────────────────────────────
//!  RwLock ─┬─ context                        ArcSwap ── Generation N ─┬─ context N
//!          └─ slots[tid]                                              └─ slots N[tid]
//!  connection: rdlock, copy, unlock          connection: load N, pin, copy
//!  commit:     wrlock (waits for readers),   commit: publish N+1 (O(1)), unlink
//!              swap ctx, free all, unlock            N's sessions, free them after
//!                                                    the epoch says nobody reads them
//! ```
//!
//! Trade-offs, briefly (DESIGN.md has them in full): the lock-free table never
//! blocks and never lets a session of generation N be offered in N+1, but it
//! frees memory later than the rwlock table, `take` copies the session (a
//! reader may still be copying the original), and a store that races a commit
//! is discarded rather than ordered by a lock.
//!
//! ```
//! use tls_slots::{LockFreeTable, SessionTable, SlotAccess, Snapshot, WorkerId};
//!
//! let table = LockFreeTable::<&str, Vec<u8>>::new(4, "context v1");
//! let me = WorkerId::new(0);
//!
//! let current = table.load();
//! assert_eq!(*current.context(), "context v1");
//! current.store(me, b"session".to_vec())?;
//! assert_eq!(current.get(me)?, Some(b"session".to_vec()));
//!
//! table.commit("context v2");
//! // The old generation serves nothing any more, the new one starts empty.
//! assert_eq!(current.get(me)?, None);
//! assert_eq!(table.load().get(me)?, None);
//! # Ok::<(), tls_slots::SlotError>(())
//! ```
//!
//! ## With rustls
//!
//! [`tls::Upstream`] is one backend server: each generation owns its
//! `Arc<rustls::ClientConfig>` *and* the session store that config resumes
//! from, so a session made under one client certificate can never be resumed
//! after a commit installed another. Hand its config to tokio-rustls:
//!
//! ```no_run
//! use std::sync::Arc;
//! use tls_slots::WorkerId;
//! use tls_slots::tls::{LockFreeUpstream, Material, UpstreamOptions, set_current_worker};
//!
//! # async fn example(ca: Vec<u8>, cert: Vec<u8>, key: Vec<u8>, new_cert: Vec<u8>, new_key: Vec<u8>)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! let material = Material::new().roots_pem(ca.clone()).client_cert_pem(cert, key);
//! let upstream = Arc::new(LockFreeUpstream::new(&material, UpstreamOptions::new(4))?);
//!
//! // Once per runtime thread (e.g. tokio's `on_thread_start`): its slot.
//! set_current_worker(WorkerId::new(0));
//!
//! // Every connection: the current config; no lock on the lock-free table.
//! let connector = tokio_rustls::TlsConnector::from(upstream.config());
//! let tcp = tokio::net::TcpStream::connect("127.0.0.1:8443").await?;
//! let name = rustls::pki_types::ServerName::try_from("backend.example")?;
//! match connector.connect(name, tcp).await {
//!     Ok(tls) => {
//!         upstream.handshake_done(tls.get_ref().1); // counts Full / Resumed
//!     }
//!     Err(e) => {
//!         upstream.handshake_failed(); // clears this worker's slot
//!         return Err(e.into());
//!     }
//! }
//!
//! // Control plane: rotate the client certificate. Checked first; on error
//! // the old generation keeps serving and resuming.
//! upstream.commit(&Material::new().roots_pem(ca).client_cert_pem(new_cert, new_key))?;
//! println!("{}", upstream.stats());
//! # Ok(())
//! # }
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod core;
mod lockfree;
mod rwlock;
mod sync;
pub mod tls;

pub use crate::core::{
    Borrowed, Counters, GenerationId, Reuse, SessionTable, SlotAccess, SlotError, Snapshot,
    StoreOutcome, WorkerId,
};
pub use lockfree::{LockFreeSlots, LockFreeSnapshot, LockFreeTable};
pub use rwlock::{RwLockSlots, RwLockSnapshot, RwLockTable};

/// crossbeam-epoch, as this crate sees it (its loom build under
/// `cfg(tls_slots_loom)`), for [`LockFreeTable::with_collector`].
pub use crossbeam_epoch as epoch;
