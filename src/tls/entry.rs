//! What one worker's slot holds: the sessions for one server name.

use super::ticket::TicketCell;
use crate::sync::Arc;
use rustls::NamedGroup;
use rustls::client::{Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::pki_types::ServerName;
use std::fmt;

/// The contents of one worker's slot in an upstream's session table: the
/// server name (SNI) the sessions were made for, up to
/// [`tickets_per_worker`](super::UpstreamOptions::tickets_per_worker) TLS 1.3
/// tickets, the TLS 1.2 session and the key-exchange hint.
///
/// Immutable once stored; a change stores a new entry. Cloning is one
/// reference count (the lock-free table copies what it hands out). Clones
/// share the ticket cells, so a ticket is still taken at most once.
#[derive(Clone)]
pub struct Entry(Arc<EntryState>);

pub(crate) struct EntryState {
    pub(crate) server_name: ServerName<'static>,
    /// Oldest first. Cells already taken stay until pushed out by newer ones
    /// (checking a cell would need a `load`, which the cell forbids).
    pub(crate) tickets: Vec<Arc<TicketCell<Tls13ClientSessionValue>>>,
    pub(crate) tls12: Option<Tls12ClientSessionValue>,
    pub(crate) kx_hint: Option<NamedGroup>,
}

impl Entry {
    fn new(state: EntryState) -> Self {
        Self(Arc::new(state))
    }

    /// An empty entry for `server_name`.
    fn empty(server_name: ServerName<'static>) -> EntryState {
        EntryState {
            server_name,
            tickets: Vec::new(),
            tls12: None,
            kx_hint: None,
        }
    }

    /// Whether this entry was made for `server_name`.
    pub(crate) fn is_for(&self, server_name: &ServerName<'_>) -> bool {
        self.0.server_name == *server_name
    }

    pub(crate) fn state(&self) -> &EntryState {
        &self.0
    }

    /// `current` (if it is for `server_name`) changed by `change`, or a fresh
    /// entry for `server_name` changed by it: a store for another name
    /// replaces the slot's sessions (one server name per worker, like
    /// HAProxy's one session per thread).
    pub(crate) fn updated(
        current: Option<&Entry>,
        server_name: ServerName<'static>,
        change: impl FnOnce(&mut EntryState),
    ) -> Entry {
        let mut state = match current {
            Some(entry) if entry.is_for(&server_name) => EntryState {
                server_name,
                tickets: entry.0.tickets.clone(),
                tls12: entry.0.tls12.clone(),
                kx_hint: entry.0.kx_hint,
            },
            _ => Self::empty(server_name),
        };
        change(&mut state);
        Entry::new(state)
    }

    /// Takes the newest ticket still in its cell.
    pub(crate) fn take_ticket(&self) -> Option<Tls13ClientSessionValue> {
        self.0.tickets.iter().rev().find_map(|cell| cell.take())
    }
}

impl EntryState {
    /// Adds a ticket, dropping the oldest cells beyond `limit`.
    pub(crate) fn push_ticket(&mut self, ticket: Tls13ClientSessionValue, limit: usize) {
        self.tickets.push(Arc::new(TicketCell::new(ticket)));
        let excess = self.tickets.len().saturating_sub(limit.max(1));
        self.tickets.drain(..excess);
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("server_name", &self.0.server_name)
            .field("ticket_cells", &self.0.tickets.len())
            .field("tls12", &self.0.tls12.is_some())
            .field("kx_hint", &self.0.kx_hint)
            .finish()
    }
}
