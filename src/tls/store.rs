//! The `ClientSessionStore` of one generation.

use super::entry::Entry;
use super::stats::{StatsBank, TlsEvent};
use super::worker::current_worker;
use crate::core::{Reuse, SlotAccess, StoreOutcome, WorkerId};
use crate::sync::Arc;
use rustls::NamedGroup;
use rustls::client::{ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::pki_types::ServerName;
use std::fmt;

/// What every generation's store of one upstream shares.
pub(crate) struct StoreShared {
    pub(crate) stats: StatsBank,
    pub(crate) tickets_per_worker: usize,
    pub(crate) borrow: bool,
}

/// The session store that one generation's `ClientConfig` points at. It holds
/// that generation's slots and nothing else, so whatever a connection made
/// from this config deposits lands in this generation, and once a commit has
/// replaced the generation its slots take nothing and offer nothing.
pub(crate) struct GenerationStore<A> {
    pub(crate) slots: A,
    pub(crate) shared: Arc<StoreShared>,
}

impl<A: SlotAccess<Entry>> GenerationStore<A> {
    fn count(&self, worker: WorkerId, event: TlsEvent) {
        self.shared.stats.count(worker, event);
    }

    /// The worker's own entry. An out-of-range worker is counted and gets
    /// nothing: rustls must never see a panic from us.
    fn own(&self, worker: WorkerId) -> Option<Entry> {
        match self.slots.get(worker) {
            Ok(entry) => entry,
            Err(_) => {
                self.count(worker, TlsEvent::WorkerOutOfRange);
                None
            }
        }
    }

    /// The worker's own entry if it is for `server_name`; counts a mismatch.
    fn own_for(&self, worker: WorkerId, server_name: &ServerName<'_>) -> Option<Entry> {
        let entry = self.own(worker)?;
        if entry.is_for(server_name) {
            Some(entry)
        } else {
            self.count(worker, TlsEvent::SniMismatch);
            None
        }
    }

    /// A copy of the last storer's entry, if borrowing is on and it is for
    /// `server_name`. Copy, not take: the tickets inside are single-take
    /// cells shared with the owner's slot, and the owner keeps its TLS 1.2
    /// session and hint.
    fn borrowed_for(&self, worker: WorkerId, server_name: &ServerName<'_>) -> Option<Entry> {
        if !self.shared.borrow {
            return None;
        }
        let borrowed = self.slots.borrow(worker, Reuse::Copy).ok().flatten()?;
        borrowed
            .session
            .is_for(server_name)
            .then_some(borrowed.session)
    }

    /// Replaces the worker's entry with `current` changed by `change`.
    fn update(
        &self,
        worker: WorkerId,
        current: Option<&Entry>,
        server_name: ServerName<'static>,
        change: impl FnOnce(&mut super::entry::EntryState),
        event: TlsEvent,
    ) {
        let entry = Entry::updated(current, server_name, change);
        match self.slots.store(worker, entry) {
            Ok(StoreOutcome::Stored) => self.count(worker, event),
            Ok(StoreOutcome::StaleGeneration) => self.count(worker, TlsEvent::StaleDiscarded),
            Err(_) => self.count(worker, TlsEvent::WorkerOutOfRange),
        }
    }
}

impl<A: SlotAccess<Entry> + Send + Sync> ClientSessionStore for GenerationStore<A> {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        let worker = current_worker();
        let current = self.own(worker);
        if current
            .as_ref()
            .is_some_and(|e| e.is_for(&server_name) && e.state().kx_hint == Some(group))
        {
            // Every handshake sets the hint; storing an identical entry would
            // cost an allocation for nothing.
            return;
        }
        let change = |state: &mut super::entry::EntryState| state.kx_hint = Some(group);
        let entry = Entry::updated(current.as_ref(), server_name, change);
        match self.slots.store(worker, entry) {
            Ok(StoreOutcome::Stored) => {}
            Ok(StoreOutcome::StaleGeneration) => self.count(worker, TlsEvent::StaleDiscarded),
            Err(_) => self.count(worker, TlsEvent::WorkerOutOfRange),
        }
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        let worker = current_worker();
        self.own_for(worker, server_name)
            .and_then(|e| e.state().kx_hint)
            .or_else(|| {
                self.borrowed_for(worker, server_name)
                    .and_then(|e| e.state().kx_hint)
            })
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        let worker = current_worker();
        let current = self.own(worker);
        self.update(
            worker,
            current.as_ref(),
            server_name,
            |state| state.tls12 = Some(value),
            TlsEvent::Tls12Stored,
        );
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        let worker = current_worker();
        let session = self
            .own_for(worker, server_name)
            .and_then(|e| e.state().tls12.clone())
            .or_else(|| {
                self.borrowed_for(worker, server_name)
                    .and_then(|e| e.state().tls12.clone())
            })?;
        self.count(worker, TlsEvent::Tls12Offered);
        Some(session)
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        let worker = current_worker();
        let Some(current) = self.own_for(worker, server_name) else {
            return;
        };
        if current.state().tls12.is_none() {
            // rustls calls this after every TLS 1.3 handshake: nothing to do.
            return;
        }
        let entry = Entry::updated(Some(&current), server_name.clone(), |state| {
            state.tls12 = None
        });
        if let Ok(StoreOutcome::StaleGeneration) = self.slots.store(worker, entry) {
            self.count(worker, TlsEvent::StaleDiscarded);
        }
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        let worker = current_worker();
        let current = self.own(worker);
        let limit = self.shared.tickets_per_worker;
        self.update(
            worker,
            current.as_ref(),
            server_name,
            |state| state.push_ticket(value, limit),
            TlsEvent::TicketStored,
        );
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        let worker = current_worker();
        if let Some(ticket) = self
            .own_for(worker, server_name)
            .and_then(|e| e.take_ticket())
        {
            self.count(worker, TlsEvent::TicketTaken);
            return Some(ticket);
        }
        let ticket = self.borrowed_for(worker, server_name)?.take_ticket()?;
        self.count(worker, TlsEvent::TicketBorrowed);
        Some(ticket)
    }
}

impl<A: SlotAccess<Entry>> fmt::Debug for GenerationStore<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenerationStore")
            .field("generation", &self.slots.generation())
            .finish_non_exhaustive()
    }
}
