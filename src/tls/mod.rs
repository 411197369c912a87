//! The rustls layer: an [`Upstream`] per backend server whose generations
//! each own their `Arc<rustls::ClientConfig>` *and* the session store that
//! config resumes from.
//!
//! | piece | file |
//! |---|---|
//! | [`Upstream`]: current config, commit / stage / abort, handshake hooks | `upstream.rs` |
//! | the `ClientSessionStore` bound to one generation's slots | `store.rs` |
//! | [`Entry`]: one worker slot's sessions for one server name | `entry.rs` |
//! | the single-take TLS 1.3 ticket cell | `ticket.rs` |
//! | [`Material`]: PEM/DER parsing and checks, typed [`MaterialError`] | `material.rs` |
//! | [`UpstreamOptions`] | `options.rs` |
//! | [`TlsStats`] | `stats.rs` |
//! | the calling thread's worker ([`set_current_worker`]) | `worker.rs` |

mod entry;
mod material;
mod options;
mod stats;
mod store;
mod ticket;
mod upstream;
mod worker;

pub use entry::Entry;
pub use material::{Encoded, Item, Material, MaterialError, Prepared, Versions};
pub use options::UpstreamOptions;
pub use stats::TlsStats;
pub use upstream::{Context, LockFreeUpstream, RwLockUpstream, TlsContext, Upstream};
pub use worker::{clear_current_worker, current_worker, set_current_worker};
