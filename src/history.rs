//! The performance history: a lock-free ring of operation snapshots (the seed's
//! `PerformanceHistory`, sized at build time).
//!
//! Each entry is a small seqlock: a writer claims the entry by moving its sequence word from
//! even to odd with a compare-and-swap, writes the fields, and publishes with the next even
//! value. A reader that sees an odd sequence, or a sequence that changed while it read, skips
//! or retries the entry, so no reader ever sees a torn entry. A writer that finds the entry
//! claimed by another writer drops its snapshot (counted) instead of waiting.

use crate::geometry::HISTORY_CAPACITY;
use crate::sync::{fence, AtomicU32, Ordering};

/// What a snapshot describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SampleKind {
    Allocate,
    Release,
}

/// One snapshot of the manager after an allocate or release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sample {
    /// Position in the order snapshots were taken.
    pub ticket: u32,
    pub timestamp_ns: u64,
    /// Duration of the operation, ns (saturated to u32).
    pub op_ns: u32,
    /// Buffers held after the operation, all pools.
    pub allocated: u16,
    /// Bytes of buffer capacity held after the operation.
    pub memory_bytes: u32,
    pub kind: SampleKind,
    /// False for an allocation refused because the pool was empty.
    pub success: bool,
}

impl Sample {
    pub(crate) const EMPTY: Sample = Sample {
        ticket: 0,
        timestamp_ns: 0,
        op_ns: 0,
        allocated: 0,
        memory_bytes: 0,
        kind: SampleKind::Allocate,
        success: true,
    };
}

const KIND_RELEASE: u32 = 1 << 16;
const SUCCESS: u32 = 1 << 17;

struct Entry {
    sequence: AtomicU32,
    ticket: AtomicU32,
    timestamp_lo: AtomicU32,
    timestamp_hi: AtomicU32,
    op_ns: AtomicU32,
    memory_bytes: AtomicU32,
    packed: AtomicU32,
}

impl Entry {
    #[cfg_attr(not(any(test, loom)), allow(dead_code))]
    fn new() -> Self {
        Entry {
            sequence: AtomicU32::new(0),
            ticket: AtomicU32::new(0),
            timestamp_lo: AtomicU32::new(0),
            timestamp_hi: AtomicU32::new(0),
            op_ns: AtomicU32::new(0),
            memory_bytes: AtomicU32::new(0),
            packed: AtomicU32::new(0),
        }
    }
}

/// The ring.
pub(crate) struct HistoryRing {
    next_ticket: AtomicU32,
    dropped: AtomicU32,
    entries: [Entry; HISTORY_CAPACITY],
}

const READ_ATTEMPTS: usize = 4;

// SAFETY: every field of a new ring is a zero `AtomicU32` (tested in `in_place`).
unsafe impl crate::in_place::ZeroInitial for HistoryRing {
    fn initial() -> Self {
        HistoryRing {
            next_ticket: AtomicU32::new(0),
            dropped: AtomicU32::new(0),
            entries: core::array::from_fn(|_| Entry::new()),
        }
    }
}

impl HistoryRing {
    /// An empty ring (init writes it in place, as zero words).
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        <Self as crate::in_place::ZeroInitial>::initial()
    }

    /// Records a snapshot; never waits. Returns false when the snapshot was dropped because
    /// another writer held the entry.
    pub(crate) fn record(&self, sample: &Sample) -> bool {
        let ticket = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        self.write(ticket, sample)
    }

    /// Writes `sample` under `ticket` into its entry (the second half of `record`; the loom
    /// models call it directly to make two writers meet on one entry).
    fn write(&self, ticket: u32, sample: &Sample) -> bool {
        let Some(entry) = self.entries.get(ticket as usize % HISTORY_CAPACITY) else {
            return false;
        };
        let sequence = entry.sequence.load(Ordering::Relaxed);
        if sequence & 1 == 1
            || entry
                .sequence
                .compare_exchange(sequence, sequence.wrapping_add(1), Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        // The claim acquires the previous writer's publication, so these field writes come
        // after that writer's in every field's modification order (a relaxed claim let a
        // later writer's fields be overwritten by an earlier writer's: a torn entry that no
        // reader could detect). The fence orders the claim before the field writes for any
        // reader that sees those writes.
        fence(Ordering::Release);
        entry.ticket.store(ticket, Ordering::Relaxed);
        entry.timestamp_lo.store(sample.timestamp_ns as u32, Ordering::Relaxed);
        entry.timestamp_hi.store((sample.timestamp_ns >> 32) as u32, Ordering::Relaxed);
        entry.op_ns.store(sample.op_ns, Ordering::Relaxed);
        entry.memory_bytes.store(sample.memory_bytes, Ordering::Relaxed);
        let kind = if sample.kind == SampleKind::Release { KIND_RELEASE } else { 0 };
        let success = if sample.success { SUCCESS } else { 0 };
        entry.packed.store(u32::from(sample.allocated) | kind | success, Ordering::Relaxed);
        entry.sequence.store(sequence.wrapping_add(2), Ordering::Release);
        true
    }

    /// Snapshots dropped because two writers met on one entry.
    pub(crate) fn dropped(&self) -> u32 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Reads one entry consistently, or `None` if it was never written or kept changing.
    fn read_entry(entry: &Entry) -> Option<Sample> {
        for _ in 0..READ_ATTEMPTS {
            let before = entry.sequence.load(Ordering::Acquire);
            if before == 0 {
                return None;
            }
            if before & 1 == 1 {
                continue;
            }
            let ticket = entry.ticket.load(Ordering::Relaxed);
            let lo = entry.timestamp_lo.load(Ordering::Relaxed);
            let hi = entry.timestamp_hi.load(Ordering::Relaxed);
            let op_ns = entry.op_ns.load(Ordering::Relaxed);
            let memory_bytes = entry.memory_bytes.load(Ordering::Relaxed);
            let packed = entry.packed.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if entry.sequence.load(Ordering::Relaxed) != before {
                continue;
            }
            return Some(Sample {
                ticket,
                timestamp_ns: (u64::from(hi) << 32) | u64::from(lo),
                op_ns,
                allocated: packed as u16,
                memory_bytes,
                kind: if packed & KIND_RELEASE != 0 { SampleKind::Release } else { SampleKind::Allocate },
                success: packed & SUCCESS != 0,
            });
        }
        None
    }

    /// Copies every consistent entry into `out`, oldest first; returns how many.
    pub(crate) fn read_all(&self, out: &mut [Sample; HISTORY_CAPACITY]) -> usize {
        let mut count = 0;
        for entry in &self.entries {
            if let Some(sample) = Self::read_entry(entry) {
                if let Some(slot) = out.get_mut(count) {
                    *slot = sample;
                    count += 1;
                }
            }
        }
        let newest = self.next_ticket.load(Ordering::Relaxed);
        if let Some(filled) = out.get_mut(..count) {
            sort_oldest_first(filled, newest);
        }
        count
    }
}

/// Orders samples oldest first, by distance behind the newest ticket (tickets wrap at 2^32).
///
/// An insertion sort: the ring is small and nearly in order already, and core's general sort
/// would add kilobytes of code to a firmware image.
fn sort_oldest_first(samples: &mut [Sample], newest: u32) {
    let age = |s: &Sample| newest.wrapping_sub(s.ticket);
    for i in 1..samples.len() {
        let mut j = i;
        while j > 0 {
            let (Some(before), Some(current)) = (samples.get(j - 1), samples.get(j)) else {
                break;
            };
            if age(before) >= age(current) {
                break;
            }
            samples.swap(j - 1, j);
            j -= 1;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn sample(ts: u64, success: bool) -> Sample {
        Sample { timestamp_ns: ts, op_ns: ts as u32, allocated: 3, memory_bytes: 6144, success, ..Sample::EMPTY }
    }

    #[test]
    fn keeps_the_newest_entries_in_order() {
        let ring = HistoryRing::new();
        let mut out = [Sample::EMPTY; HISTORY_CAPACITY];
        assert_eq!(ring.read_all(&mut out), 0);
        let n = HISTORY_CAPACITY as u64 + 5;
        for ts in 1..=n {
            assert!(ring.record(&sample(ts << 33, ts % 2 == 0)));
        }
        assert_eq!(ring.read_all(&mut out), HISTORY_CAPACITY);
        for (i, s) in out.iter().enumerate() {
            let ts = n - HISTORY_CAPACITY as u64 + 1 + i as u64;
            assert_eq!(s.timestamp_ns, ts << 33, "entry {i}");
            assert_eq!(s.success, ts % 2 == 0);
            assert_eq!((s.allocated, s.memory_bytes), (3, 6144));
        }
        assert_eq!(ring.dropped(), 0);
    }

    #[test]
    fn samples_are_sorted_oldest_first_across_ticket_wrap() {
        let mut samples: std::vec::Vec<Sample> =
            [5u32, u32::MAX, 2, 0, u32::MAX - 3, 1].iter().map(|&ticket| Sample { ticket, ..Sample::EMPTY }).collect();
        sort_oldest_first(&mut samples, 6);
        let order: std::vec::Vec<u32> = samples.iter().map(|s| s.ticket).collect();
        assert_eq!(order, [u32::MAX - 3, u32::MAX, 0, 1, 2, 5]);
    }

    #[test]
    fn a_claimed_entry_is_skipped_by_readers_and_writers() {
        let ring = HistoryRing::new();
        ring.record(&sample(5, true));
        ring.entries[0].sequence.fetch_add(1, Ordering::Relaxed);
        let mut out = [Sample::EMPTY; HISTORY_CAPACITY];
        assert_eq!(ring.read_all(&mut out), 0);
        for _ in 0..HISTORY_CAPACITY - 1 {
            ring.record(&sample(6, true));
        }
        assert!(!ring.record(&sample(7, true)));
        assert_eq!(ring.dropped(), 1);
    }

    #[test]
    fn concurrent_writers_and_a_reader_never_tear() {
        use std::sync::Arc;
        let ring = Arc::new(HistoryRing::new());
        let writers: std::vec::Vec<_> = (0..2u64)
            .map(|w| {
                let r = Arc::clone(&ring);
                std::thread::spawn(move || {
                    for i in 0..50_000u64 {
                        // Every field derives from one value, so a torn read shows.
                        let v = (w << 40) | i;
                        r.record(&Sample {
                            timestamp_ns: v | (v << 20),
                            op_ns: v as u32,
                            memory_bytes: (v as u32).wrapping_mul(3),
                            allocated: v as u16,
                            ..Sample::EMPTY
                        });
                    }
                })
            })
            .collect();
        let mut out = [Sample::EMPTY; HISTORY_CAPACITY];
        for _ in 0..2_000 {
            let n = ring.read_all(&mut out);
            for s in &out[..n] {
                let v = u64::from(s.op_ns);
                assert_eq!(s.memory_bytes, s.op_ns.wrapping_mul(3));
                assert_eq!(s.allocated, s.op_ns as u16);
                assert_eq!(s.timestamp_ns as u32, (v | (v << 20)) as u32);
            }
        }
        for w in writers {
            w.join().unwrap();
        }
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use crate::loom_models::{check, check_bounded};
    use loom::sync::Arc;
    use loom::thread;

    /// Every field of a sample derives from `v`, so a torn read shows.
    fn sample_of(v: u32) -> Sample {
        Sample {
            ticket: 0,
            timestamp_ns: (u64::from(v) << 32) | u64::from(v ^ 0xA5A5),
            op_ns: v,
            allocated: v as u16,
            memory_bytes: v.wrapping_mul(3),
            kind: if v % 2 == 0 { SampleKind::Release } else { SampleKind::Allocate },
            success: v % 3 != 0,
        }
    }

    fn assert_whole(s: &Sample) {
        let v = s.op_ns;
        let expected = Sample { ticket: s.ticket, ..sample_of(v) };
        assert_eq!(*s, expected, "torn history entry");
        assert!(v == 1 || v == 2 || v == 3, "a value no writer wrote: {s:?}");
    }

    /// Two writers record while a reader copies the ring: the reader sees whole entries only,
    /// and after both writers finish both snapshots are there (one per entry).
    #[test]
    fn history_two_writers_and_a_reader() {
        check("history_two_writers_and_a_reader", || {
            let ring = Arc::new(HistoryRing::new());
            let writers: std::vec::Vec<_> = (1..=2u32)
                .map(|v| {
                    let ring = Arc::clone(&ring);
                    thread::spawn(move || assert!(ring.record(&sample_of(v)), "distinct entries never collide"))
                })
                .collect();
            // The reader is a thread of its own: loom interleaves spawned threads with each
            // other, not with the code the model's own thread runs between spawn and join.
            let reader = {
                let ring = Arc::clone(&ring);
                thread::spawn(move || {
                    let mut out = [Sample::EMPTY; HISTORY_CAPACITY];
                    let n = ring.read_all(&mut out);
                    out.iter().take(n).for_each(assert_whole);
                })
            };
            reader.join().unwrap();
            let mut out = [Sample::EMPTY; HISTORY_CAPACITY];
            for w in writers {
                w.join().unwrap();
            }
            assert_eq!(ring.read_all(&mut out), 2);
            out.iter().take(2).for_each(assert_whole);
            assert_eq!(ring.dropped(), 0);
        });
    }

    /// Two writers meet on one entry (tickets one ring apart) while a reader reads it: at most
    /// one of them may be dropped, the dropped count says which, and no read is torn.
    #[test]
    fn history_writers_collide_on_one_entry() {
        // Three threads on one entry: bound 2 keeps it within seconds (bound 4 took 11 min).
        check_bounded("history_writers_collide_on_one_entry", 2, || {
            let ring = Arc::new(HistoryRing::new());
            let far = HISTORY_CAPACITY as u32;
            let writers: std::vec::Vec<_> = [(0u32, 1u32), (far, 2u32)]
                .into_iter()
                .map(|(ticket, v)| {
                    let ring = Arc::clone(&ring);
                    thread::spawn(move || ring.write(ticket, &sample_of(v)))
                })
                .collect();
            let reader = {
                let ring = Arc::clone(&ring);
                thread::spawn(move || {
                    if let Some(s) = HistoryRing::read_entry(&ring.entries[0]) {
                        assert_whole(&s);
                    }
                })
            };
            reader.join().unwrap();
            let kept = writers.into_iter().map(|w| w.join().unwrap()).filter(|&k| k).count();
            assert!(kept >= 1, "both snapshots dropped");
            assert_eq!(ring.dropped() as usize, 2 - kept);
            let last = HistoryRing::read_entry(&ring.entries[0]).expect("a published entry");
            assert_whole(&last);
        });
    }
}
