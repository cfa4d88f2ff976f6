//! The trend history: a lock-free ring of periodic snapshots of the manager's cumulative
//! figures, sized at build time.
//!
//! A monitored allocate or release that finds `trend_interval_ns` elapsed since the last
//! snapshot takes the next one (one comparison on every other call); the report's trend is
//! computed from the differences between consecutive snapshots, so the ring spans
//! `HISTORY_CAPACITY` intervals whatever the call rate. Of the calls that find an interval
//! elapsed, a compare-and-swap of the last snapshot's time lets exactly one take it.
//!
//! Each entry is a small seqlock: a writer claims the entry by moving its sequence word from
//! even to odd with a compare-and-swap, writes the fields, and publishes with the next even
//! value. A reader that sees an odd sequence, or a sequence that changed while it read, skips
//! or retries the entry, so no reader ever sees a torn entry. A writer that finds the entry
//! claimed by another writer drops its snapshot (counted) instead of waiting.

use crate::geometry::HISTORY_CAPACITY;
use crate::platform::atomics::{fence, AtomicU32, Ordering};

/// Snapshot times are compared in units of 2^`TIME_UNIT_SHIFT` ns (4,096 ns), as 32-bit
/// values that wrap every 4.9 hours.
const TIME_UNIT_SHIFT: u32 = 12;

/// Squared durations are summed in units of 2^`SQUARE_UNIT_SHIFT` ns² (64 ns²), rounded.
pub(crate) const SQUARE_UNIT_SHIFT: u32 = 6;

/// Largest squared duration one allocation adds, in square units (about 370 µs squared):
/// larger durations add this, which keeps every add within one step of a split sum.
const MAX_SQUARE: u64 = (1 << 31) - 1;

/// Durations from here on square to more than [`MAX_SQUARE`] units (2^38 ns² is 2^32 units).
const SATURATING_NS: u64 = 1 << 19;

/// One allocation's duration squared, in square units (saturated). Shorter durations than
/// [`SATURATING_NS`] fit 32 bits, so the square is one 32 × 32 → 64-bit multiply on a 32-bit
/// core.
pub(crate) fn square_units(ns: u64) -> u64 {
    if ns >= SATURATING_NS {
        return MAX_SQUARE;
    }
    let short = u64::from(ns as u32);
    ((short * short + (1 << (SQUARE_UNIT_SHIFT - 1))) >> SQUARE_UNIT_SHIFT).min(MAX_SQUARE)
}

/// The interval between snapshots in time units, rounded down (at least one): a clock that
/// advances by exactly the interval always finds it elapsed.
pub(crate) const fn interval_units(interval_ns: u64) -> u32 {
    let units = interval_ns >> TIME_UNIT_SHIFT;
    if units == 0 {
        1
    } else if units > u32::MAX as u64 {
        u32::MAX
    } else {
        units as u32
    }
}

fn time_units(ns: u64) -> u32 {
    (ns >> TIME_UNIT_SHIFT) as u32
}

/// True when `now` is at least `interval` units after `last`. A reading up to one interval
/// *before* `last` is not: a context preempted between reading the clock and claiming finds
/// a snapshot taken since by a later reading (loom `history_one_claim_per_interval`). So an
/// idle time within one interval of a multiple of the 4.9-hour wrap delays a snapshot to a
/// later call. `interval` is below 2^31 units (one hour is 878,906,250).
#[inline(always)]
fn elapsed(now: u32, last: u32, interval: u32) -> bool {
    let since = now.wrapping_sub(last);
    since >= interval && since <= u32::MAX - interval
}

/// The manager's cumulative figures at one moment. Counts are kept modulo 2^32 and sums
/// modulo 2^64: the trend uses only differences between snapshots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub timestamp_ns: u64,
    /// Successful allocations since init.
    pub allocations: u32,
    /// Allocations refused because the pool was empty, since init.
    pub failures: u32,
    /// Sum of the timed allocation durations since init, ns.
    pub allocate_ns: u64,
    /// Sum of their squares, in square units ([`square_units`]).
    pub allocate_squares: u64,
    /// Bytes of buffer capacity held at the snapshot.
    pub held_bytes: u32,
    /// Most bytes held after any allocation since the previous snapshot (at least the bytes
    /// held at either end of the interval).
    pub peak_bytes: u32,
}

/// Words of one snapshot in an entry.
const SNAPSHOT_WORDS: usize = 10;

impl Snapshot {
    fn to_words(self) -> [u32; SNAPSHOT_WORDS] {
        [
            self.timestamp_ns as u32,
            (self.timestamp_ns >> 32) as u32,
            self.allocations,
            self.failures,
            self.allocate_ns as u32,
            (self.allocate_ns >> 32) as u32,
            self.allocate_squares as u32,
            (self.allocate_squares >> 32) as u32,
            self.held_bytes,
            self.peak_bytes,
        ]
    }

    fn from_words(w: [u32; SNAPSHOT_WORDS]) -> Self {
        let wide = |lo: u32, hi: u32| (u64::from(hi) << 32) | u64::from(lo);
        let [ts_lo, ts_hi, allocations, failures, ns_lo, ns_hi, sq_lo, sq_hi, held_bytes, peak_bytes] = w;
        Snapshot {
            timestamp_ns: wide(ts_lo, ts_hi),
            allocations,
            failures,
            allocate_ns: wide(ns_lo, ns_hi),
            allocate_squares: wide(sq_lo, sq_hi),
            held_bytes,
            peak_bytes,
        }
    }
}

struct Entry<const WORDS: usize> {
    sequence: AtomicU32,
    words: [AtomicU32; WORDS],
}

/// The ring, over entries of `WORDS` words (the history's are snapshots; the loom models use
/// narrower entries, which exercise the same protocol in fewer steps).
pub(crate) struct Ring<const WORDS: usize> {
    /// When the last snapshot was claimed, in time units.
    last_taken: AtomicU32,
    next_ticket: AtomicU32,
    dropped: AtomicU32,
    entries: [Entry<WORDS>; HISTORY_CAPACITY],
}

/// The trend history.
pub(crate) type HistoryRing = Ring<SNAPSHOT_WORDS>;

const READ_ATTEMPTS: usize = 4;

// SAFETY: every field of a new ring is a zero `AtomicU32` (tested in `manager::zero_initial_tests`).
unsafe impl<const WORDS: usize> crate::platform::in_place::ZeroInitial for Ring<WORDS> {
    fn initial() -> Self {
        Ring {
            last_taken: AtomicU32::new(0),
            next_ticket: AtomicU32::new(0),
            dropped: AtomicU32::new(0),
            entries: core::array::from_fn(|_| Entry {
                sequence: AtomicU32::new(0),
                words: core::array::from_fn(|_| AtomicU32::new(0)),
            }),
        }
    }
}

impl<const WORDS: usize> Ring<WORDS> {
    /// An empty ring (init writes it in place, as zero words).
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        <Self as crate::platform::in_place::ZeroInitial>::initial()
    }

    /// True when `interval` time units have passed since the last snapshot (the one check on
    /// the monitored hot path).
    #[inline(always)]
    pub(crate) fn is_due(&self, now_ns: u64, interval: u32) -> bool {
        elapsed(time_units(now_ns), self.last_taken.load(Ordering::Relaxed), interval)
    }

    /// Claims the snapshot due at `now_ns`: true for exactly one of the callers that find the
    /// same interval elapsed.
    pub(crate) fn claim(&self, now_ns: u64, interval: u32) -> bool {
        let last = self.last_taken.load(Ordering::Relaxed);
        let now = time_units(now_ns);
        elapsed(now, last, interval)
            && self.last_taken.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }

    /// Records an entry; never waits. Returns false when it was dropped because another
    /// writer held the entry.
    fn record_words(&self, words: [u32; WORDS]) -> bool {
        let ticket = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        self.write(ticket, words)
    }

    /// Writes `words` under `ticket` into its entry (the second half of `record_words`; the
    /// loom models call it directly to make two writers meet on one entry).
    fn write(&self, ticket: u32, words: [u32; WORDS]) -> bool {
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
        for (cell, word) in entry.words.iter().zip(words) {
            cell.store(word, Ordering::Relaxed);
        }
        entry.sequence.store(sequence.wrapping_add(2), Ordering::Release);
        true
    }

    /// Entries dropped because two writers met on one entry.
    pub(crate) fn dropped(&self) -> u32 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Reads one entry consistently, or `None` if it was never written or kept changing.
    fn read_entry(entry: &Entry<WORDS>) -> Option<[u32; WORDS]> {
        for _ in 0..READ_ATTEMPTS {
            let before = entry.sequence.load(Ordering::Acquire);
            if before == 0 {
                return None;
            }
            if before & 1 == 1 {
                continue;
            }
            let mut words = [0u32; WORDS];
            for (word, cell) in words.iter_mut().zip(&entry.words) {
                *word = cell.load(Ordering::Relaxed);
            }
            fence(Ordering::Acquire);
            if entry.sequence.load(Ordering::Relaxed) != before {
                continue;
            }
            return Some(words);
        }
        None
    }
}

impl HistoryRing {
    /// Starts the ring at init: `baseline` (all counts zero) is the first snapshot.
    pub(crate) fn start(&self, baseline: &Snapshot) {
        self.last_taken.store(time_units(baseline.timestamp_ns), Ordering::Relaxed);
        self.record(baseline);
    }

    /// Records a snapshot; never waits. Returns false when the snapshot was dropped because
    /// another writer held the entry.
    pub(crate) fn record(&self, snapshot: &Snapshot) -> bool {
        self.record_words(snapshot.to_words())
    }

    /// Copies every consistent snapshot into `out` (as many as fit), oldest first; returns how
    /// many.
    pub(crate) fn read_all(&self, out: &mut [Snapshot]) -> usize {
        let mut count = 0;
        for entry in &self.entries {
            if let Some(words) = Self::read_entry(entry) {
                if let Some(slot) = out.get_mut(count) {
                    *slot = Snapshot::from_words(words);
                    count += 1;
                }
            }
        }
        if let Some(filled) = out.get_mut(..count) {
            sort_oldest_first(filled);
        }
        count
    }
}

/// Orders snapshots by time, oldest first.
///
/// An insertion sort: the ring is small and nearly in order already, and core's general sort
/// would add kilobytes of code to a firmware image.
fn sort_oldest_first(snapshots: &mut [Snapshot]) {
    for i in 1..snapshots.len() {
        let mut j = i;
        while j > 0 {
            let (Some(before), Some(current)) = (snapshots.get(j - 1), snapshots.get(j)) else {
                break;
            };
            if before.timestamp_ns <= current.timestamp_ns {
                break;
            }
            snapshots.swap(j - 1, j);
            j -= 1;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_square_is_the_wide_formula_saturated() {
        let wide = |ns: u64| match ns.checked_mul(ns) {
            Some(square) => ((square + (1 << (SQUARE_UNIT_SHIFT - 1))) >> SQUARE_UNIT_SHIFT).min(MAX_SQUARE),
            None => MAX_SQUARE,
        };
        let edges =
            [0, 1, 5, 6, 7, 8, 100, 370_727, 370_728, 370_729, SATURATING_NS - 1, SATURATING_NS, 1 << 32, u64::MAX];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let random = (0..100_000).map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state >> (state % 64)
        });
        for ns in edges.into_iter().chain(0..2_000).chain(random) {
            assert_eq!(square_units(ns), wide(ns), "{ns}");
        }
        assert!(wide(SATURATING_NS - 1) == MAX_SQUARE, "the shortcut starts where the square saturates");
    }

    #[test]
    fn a_huge_duration_adds_exactly_the_largest_square() {
        assert_eq!(square_units(u64::MAX), (1 << 31) - 1);
        assert_eq!(square_units(1 << 20), (1 << 31) - 1);
        assert_eq!(square_units(1_000), (1_000_000 + 32) >> 6);
    }

    #[test]
    fn an_interval_beyond_the_unit_range_saturates() {
        assert_eq!(interval_units(u64::MAX), u32::MAX);
        assert_eq!(interval_units((u64::from(u32::MAX) + 1) << TIME_UNIT_SHIFT), u32::MAX);
        assert_eq!(interval_units(u64::from(u32::MAX) << TIME_UNIT_SHIFT), u32::MAX);
        assert_eq!(interval_units(3 << TIME_UNIT_SHIFT), 3);
    }

    #[test]
    fn a_reading_far_ahead_is_due_and_one_just_behind_is_not() {
        let (last, interval) = (1_000u32, 1_000u32);
        assert!(elapsed(last.wrapping_add(u32::MAX - interval), last, interval), "far ahead");
        assert!(!elapsed(last.wrapping_sub(1), last, interval), "just behind");
        assert!(!elapsed(last.wrapping_sub(interval), last, interval), "one interval behind");
        assert!(elapsed(last + interval, last, interval));
        assert!(!elapsed(last + interval - 1, last, interval));
    }

    fn at(ts: u64) -> Snapshot {
        Snapshot {
            timestamp_ns: ts,
            allocations: ts as u32,
            failures: 3,
            allocate_ns: ts << 33,
            allocate_squares: ts << 40 | 7,
            held_bytes: 6144,
            peak_bytes: 8192,
        }
    }

    #[test]
    fn a_snapshot_survives_its_words() {
        let s = at(0x1234_5678_9ABC);
        assert_eq!(Snapshot::from_words(s.to_words()), s);
    }

    #[test]
    fn keeps_the_newest_entries_in_order() {
        let ring = HistoryRing::new();
        let mut out = [Snapshot::default(); HISTORY_CAPACITY];
        assert_eq!(ring.read_all(&mut out), 0);
        let n = HISTORY_CAPACITY as u64 + 5;
        for ts in 1..=n {
            assert!(ring.record(&at(ts << 33)));
        }
        assert_eq!(ring.read_all(&mut out), HISTORY_CAPACITY);
        for (i, s) in out.iter().enumerate() {
            let ts = n - HISTORY_CAPACITY as u64 + 1 + i as u64;
            assert_eq!(*s, at(ts << 33), "entry {i}");
        }
        assert_eq!(ring.dropped(), 0);
    }

    #[test]
    fn snapshots_are_sorted_by_time() {
        let mut snapshots: std::vec::Vec<Snapshot> = [5u64, 900, 2, 0, 77, 1].iter().map(|&t| at(t)).collect();
        sort_oldest_first(&mut snapshots);
        let order: std::vec::Vec<u64> = snapshots.iter().map(|s| s.timestamp_ns).collect();
        assert_eq!(order, [0, 1, 2, 5, 77, 900]);
    }

    #[test]
    fn a_snapshot_is_due_once_per_interval_across_the_unit_wrap() {
        let ring = HistoryRing::new();
        let interval = interval_units(100_000);
        assert_eq!(interval, 24);
        // Start just below the 32-bit wrap of the time units.
        let start = (u64::from(u32::MAX) - 10) << TIME_UNIT_SHIFT;
        ring.start(&at(start));
        let step = u64::from(interval) << TIME_UNIT_SHIFT;
        assert!(!ring.is_due(start + step - 4096, interval));
        assert!(ring.is_due(start + step, interval));
        assert!(ring.claim(start + step, interval));
        assert!(!ring.claim(start + step, interval), "one claim per interval");
        assert!(!ring.is_due(start + 2 * step - 4096, interval));
        // A reading from before the last snapshot (a preempted caller) is not due.
        assert!(!ring.claim(start + step - 4096, interval), "a reading from the past");
        assert!(ring.claim(start + 2 * step, interval));
        assert_eq!((interval_units(0), interval_units(1), interval_units(4097), interval_units(8192)), (1, 1, 1, 2));
        assert!(interval_units(crate::types::config::AES5_MAX_TREND_INTERVAL_NS) < 1 << 31);
    }

    #[test]
    fn squares_are_rounded_and_saturated() {
        assert_eq!(square_units(0), 0);
        assert_eq!(square_units(8), 1); // 64 ns²
        assert_eq!(square_units(250), (62_500 + 32) / 64);
        assert_eq!(square_units(370_000), 370_000u64 * 370_000 / 64);
        assert_eq!(square_units(371_000), MAX_SQUARE);
        assert_eq!(square_units(u64::MAX), MAX_SQUARE);
    }

    #[test]
    fn a_claimed_entry_is_skipped_by_readers_and_writers() {
        let ring = HistoryRing::new();
        ring.record(&at(5));
        ring.entries[0].sequence.fetch_add(1, Ordering::Relaxed);
        let mut out = [Snapshot::default(); HISTORY_CAPACITY];
        assert_eq!(ring.read_all(&mut out), 0);
        for _ in 0..HISTORY_CAPACITY - 1 {
            ring.record(&at(6));
        }
        assert!(!ring.record(&at(7)));
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
                        r.record(&at((w << 40) | i));
                    }
                })
            })
            .collect();
        let mut out = [Snapshot::default(); HISTORY_CAPACITY];
        for _ in 0..2_000 {
            let n = ring.read_all(&mut out);
            for s in &out[..n] {
                assert_eq!(*s, at(s.timestamp_ns), "torn entry");
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
    use crate::verification::loom_models::{check, check_bounded};
    use loom::sync::Arc;
    use loom::thread;

    /// Entries of three words: the protocol is the same for any width of two or more (a torn
    /// read needs two words), and each further word only adds more steps of the same kind.
    type NarrowRing = Ring<3>;

    /// Every word derives from `v`, so a torn read shows.
    fn words_of(v: u32) -> [u32; 3] {
        [v, v.wrapping_mul(3), v ^ 0xA5A5]
    }

    fn assert_whole(words: &[u32; 3]) {
        let v = words[0];
        assert_eq!(*words, words_of(v), "torn history entry");
        assert!(v == 1 || v == 2 || v == 3, "a value no writer wrote: {words:?}");
    }

    fn read_every(ring: &NarrowRing) -> std::vec::Vec<[u32; 3]> {
        ring.entries.iter().filter_map(NarrowRing::read_entry).collect()
    }

    /// Two writers record while a reader copies the ring: the reader sees whole entries only,
    /// and after both writers finish both entries are there (one per entry).
    #[test]
    fn history_two_writers_and_a_reader() {
        check("history_two_writers_and_a_reader", || {
            let ring = Arc::new(NarrowRing::new());
            let writers: std::vec::Vec<_> = (1..=2u32)
                .map(|v| {
                    let ring = Arc::clone(&ring);
                    thread::spawn(move || assert!(ring.record_words(words_of(v)), "distinct entries never collide"))
                })
                .collect();
            // The reader is a thread of its own: loom interleaves spawned threads with each
            // other, not with the code the model's own thread runs between spawn and join.
            let reader = {
                let ring = Arc::clone(&ring);
                thread::spawn(move || read_every(&ring).iter().for_each(assert_whole))
            };
            reader.join().unwrap();
            for w in writers {
                w.join().unwrap();
            }
            let all = read_every(&ring);
            assert_eq!(all.len(), 2);
            all.iter().for_each(assert_whole);
            assert_eq!(ring.dropped(), 0);
        });
    }

    /// Two writers meet on one entry (tickets one ring apart) while a reader reads it: at most
    /// one of them may be dropped, the dropped count says which, and no read is torn.
    #[test]
    fn history_writers_collide_on_one_entry() {
        // Three threads on one entry: bound 2 keeps it within seconds (bound 4 took 11 min).
        check_bounded("history_writers_collide_on_one_entry", 2, || {
            let ring = Arc::new(NarrowRing::new());
            let far = HISTORY_CAPACITY as u32;
            let writers: std::vec::Vec<_> = [(0u32, 1u32), (far, 2u32)]
                .into_iter()
                .map(|(ticket, v)| {
                    let ring = Arc::clone(&ring);
                    thread::spawn(move || ring.write(ticket, words_of(v)))
                })
                .collect();
            let reader = {
                let ring = Arc::clone(&ring);
                thread::spawn(move || {
                    if let Some(words) = NarrowRing::read_entry(&ring.entries[0]) {
                        assert_whole(&words);
                    }
                })
            };
            reader.join().unwrap();
            let kept = writers.into_iter().map(|w| w.join().unwrap()).filter(|&k| k).count();
            assert!(kept >= 1, "both entries dropped");
            assert_eq!(ring.dropped() as usize, 2 - kept);
            let last = NarrowRing::read_entry(&ring.entries[0]).expect("a published entry");
            assert_whole(&last);
        });
    }

    /// Two contexts find the same interval elapsed: exactly one of them takes the snapshot,
    /// and the next interval is measured from its time.
    #[test]
    fn history_one_claim_per_interval() {
        check("history_one_claim_per_interval", || {
            let ring = Arc::new(NarrowRing::new());
            let interval = interval_units(1_000_000);
            let due = u64::from(interval) << TIME_UNIT_SHIFT;
            let claimers: std::vec::Vec<_> = [due, due + 8192]
                .into_iter()
                .map(|now| {
                    let ring = Arc::clone(&ring);
                    thread::spawn(move || ring.claim(now, interval))
                })
                .collect();
            let won = claimers.into_iter().map(|c| c.join().unwrap()).filter(|&w| w).count();
            assert_eq!(won, 1, "one snapshot per interval");
            assert!(!ring.is_due(due + 8192, interval));
        });
    }
}
