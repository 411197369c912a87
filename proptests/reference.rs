//! The sequential specification both property tests check against: one
//! generation's per-worker slots, in plain data. HAProxy's semantics (store
//! replaces, take removes, get copies, borrow from the last storer and forget
//! it when empty) plus the commit that starts an empty generation.

use tls_slots::Reuse;

/// The current generation of a table with `W` workers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference<const W: usize> {
    pub generation: u64,
    slots: [Option<u32>; W],
    last_stored: Option<usize>,
}

impl<const W: usize> Reference<W> {
    pub fn new() -> Self {
        Self {
            generation: 1,
            slots: [None; W],
            last_stored: None,
        }
    }

    pub fn store(&mut self, w: usize, v: u32) {
        self.slots[w] = Some(v);
        self.last_stored = Some(w);
    }

    pub fn take(&mut self, w: usize) -> Option<u32> {
        self.slots[w].take()
    }

    pub fn get(&self, w: usize) -> Option<u32> {
        self.slots[w]
    }

    /// The last storer's session, if that is another worker.
    pub fn borrow(&mut self, w: usize, reuse: Reuse) -> Option<(usize, u32)> {
        let from = self.last_stored.filter(|&from| from != w)?;
        let found = match reuse {
            Reuse::Take => self.slots[from].take(),
            Reuse::Copy => self.slots[from],
        };
        if found.is_none() {
            self.last_stored = None;
        }
        found.map(|v| (from, v))
    }

    pub fn clear(&mut self, w: usize) -> bool {
        self.slots[w].take().is_some()
    }

    /// Publishes the next generation, with empty slots.
    pub fn commit(&mut self) -> u64 {
        *self = Self {
            generation: self.generation + 1,
            ..Self::new()
        };
        self.generation
    }
}
