//! A global allocator for the loom binary that never hands out, within one
//! loom execution, an address freed earlier in that execution.
//!
//! Why: crossbeam-epoch registers participants with a compare-and-swap on
//! its list head under `unprotected()`. If a head entry is unlinked, freed and
//! its address handed to the next participant, that CAS succeeds by address
//! equality (a benign ABA). Whether the address comes back depends on the
//! allocator's state, which loom does not reset between executions, so the
//! same schedule can branch differently and loom aborts with "Is the model
//! fully deterministic?". Quarantining frees until the next execution starts
//! makes addresses within an execution unique, and executions deterministic.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

const CAPACITY: usize = 1 << 20;

struct Quarantine {
    len: usize,
    blocks: [(usize, usize, usize); CAPACITY],
}

static LOCK: AtomicBool = AtomicBool::new(false);
static mut QUARANTINE: Quarantine = Quarantine {
    len: 0,
    blocks: [(0, 0, 0); CAPACITY],
};

fn with_quarantine<R>(f: impl FnOnce(&mut Quarantine) -> R) -> R {
    while LOCK
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::hint::spin_loop();
    }
    // SAFETY: the spin lock above gives exclusive access.
    let result = f(unsafe { &mut *std::ptr::addr_of_mut!(QUARANTINE) });
    LOCK.store(false, Ordering::Release);
    result
}

pub struct NoReuse;

// SAFETY: forwards to `System`; a quarantined block is freed exactly once,
// later, with the layout it was allocated with.
unsafe impl GlobalAlloc for NoReuse {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let kept = with_quarantine(|q| {
            if q.len < CAPACITY {
                q.blocks[q.len] = (ptr as usize, layout.size(), layout.align());
                q.len += 1;
                true
            } else {
                false
            }
        });
        if !kept {
            // SAFETY: same contract as ours.
            unsafe { System.dealloc(ptr, layout) }
        }
    }
}

/// Frees every quarantined block. Call between executions only.
pub fn release() {
    with_quarantine(|q| {
        let n = q.len;
        q.len = 0;
        for &(ptr, size, align) in &q.blocks[..n] {
            // SAFETY: each entry is a block `dealloc` was given, with its
            // layout, freed once (`System` does not call back into us).
            unsafe {
                System.dealloc(
                    ptr as *mut u8,
                    Layout::from_size_align_unchecked(size, align),
                )
            };
        }
    });
}
