//! A fixed-size latency histogram in microseconds: exact below 1024 µs,
//! then 64 buckets per power of two (under 1.6% error), so a ten-minute
//! soak costs the same memory as a ten-second demo.

const LINEAR: u64 = 1024;
const SUB: u32 = 64;
const BUCKETS: usize = LINEAR as usize + 54 * SUB as usize;

/// Counts of latencies, merged across clients at the end of a run.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }
}

fn bucket(us: u64) -> usize {
    if us < LINEAR {
        return us as usize;
    }
    let log = 63 - us.leading_zeros(); // >= 10
    let sub = (us >> (log - 6)) & (SUB as u64 - 1);
    (LINEAR as usize + (log - 10) as usize * SUB as usize + sub as usize).min(BUCKETS - 1)
}

fn lower_bound(index: usize) -> u64 {
    if index < LINEAR as usize {
        return index as u64;
    }
    let rest = index - LINEAR as usize;
    let log = 10 + (rest / SUB as usize) as u32;
    let sub = (rest % SUB as usize) as u64;
    (1u64 << log) + (sub << (log - 6))
}

impl Histogram {
    /// Records one latency.
    pub fn record(&mut self, us: u64) {
        self.counts[bucket(us)] += 1;
        self.total += 1;
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
    }

    /// How many latencies were recorded.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether none was.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The `q` quantile (0..=1) in µs, as its bucket's lower bound.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return lower_bound(i);
            }
        }
        lower_bound(BUCKETS - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_round_trip_within_two_percent() {
        for us in [0, 1, 500, 1023, 1024, 1500, 40_000, 3_000_000] {
            let lb = lower_bound(bucket(us));
            assert!(lb <= us && us - lb <= us / 50, "{us} -> {lb}");
        }
    }
}
