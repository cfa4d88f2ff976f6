//! Model-based property test of the C ABI.
//!
//! Random sequences of every C API call — with invalid arguments, NULLs, bogus manager
//! handles, damaged headers and hostile buffer pointers (inside and outside the storage) —
//! run against the real library and against a small reference model of the manager written
//! from docs/DESIGN.md. After every step the status, the out-parameters and the statistics must
//! equal the model's. Shrunk counterexamples are kept in `proptest-regressions/c_api_model.txt`
//! and replayed first on every run.
//!
//! `PROPTEST_CASES=N cargo test --release --test c_api_model` runs more cases (default 256).
#![cfg(not(loom))]

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::mem::size_of;
use std::ptr::{null, null_mut};

use aes5_buffer_manager::c_api::*;
use aes5_buffer_manager::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

const POOLS: usize = 3;
const COUNTS: [u32; POOLS] = [AES5_PRIMARY_BUFFER_COUNT, AES5_CONVERSION_BUFFER_COUNT, AES5_SCRATCH_BUFFER_COUNT];
const CAPACITY: [u32; POOLS] = [AES5_PRIMARY_BUFFER_BYTES, AES5_CONVERSION_BUFFER_BYTES, AES5_SCRATCH_BUFFER_BYTES];
const RATES: [u32; 9] = [32_000, 44_100, 48_000, 88_200, 96_000, 176_400, 192_000, 352_800, 384_000];
const SENTINEL: usize = 0x5EED;
const QUEUES: usize = AES5_QUEUE_COUNT as usize;

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

/// Which manager handle a call gets.
#[derive(Clone, Copy, Debug)]
enum Handle {
    Valid,
    Null,
    /// Storage address + 8·(k+1): readable, but not a manager.
    Bogus(u8),
}

/// Which buffer pointer a release or validate gets.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// A buffer the test holds (index modulo the number held).
    Held(usize),
    /// A buffer waiting in a queue (index modulo the number queued).
    Queued(usize),
    /// Any header pointer the library ever returned (free, held or quarantined now).
    Seen(usize),
    /// A header's address plus 1..size: inside a header.
    InsideHeader(usize, u16),
    /// Any 8-byte-aligned or unaligned offset into the storage.
    Storage(u32),
    /// The data area of a held buffer.
    Data(usize),
    /// A header of a second manager.
    OtherManager,
    /// A local variable.
    Stack,
    Null,
    /// An address that is not readable at all.
    Wild(u64),
}

#[derive(Clone, Copy, Debug)]
enum Damage {
    DataSizeTooLarge(u16),
    DataSizeWithin(u16),
    Magic(u32),
    BufferId(u32),
    DataPointer(u8),
    SampleRate(u32),
    /// Fields the caller may write: no damage.
    CallerFields(u64, u16),
    /// One byte written past the end of the data area (an overrun into the guard zone).
    GuardAfter(u8),
    /// One byte written before the start of the data area (an underrun).
    GuardBefore(u8),
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Allocate {
        handle: Handle,
        ty: u32,
        format: Option<AudioFormat>,
        null_out: bool,
    },
    Release {
        handle: Handle,
        target: Target,
    },
    Validate {
        handle: Handle,
        target: Target,
    },
    Damage {
        held: usize,
        damage: Damage,
    },
    Transition {
        handle: Handle,
        to: u32,
    },
    Shutdown {
        handle: Handle,
    },
    Init {
        checked_size_ok: bool,
        null_config: bool,
    },
    PoolStatistics {
        handle: Handle,
        ty: u32,
        null_out: bool,
    },
    Report {
        handle: Handle,
        period: u64,
    },
    /// `n` allocations of one pooled type in a row (reaches exhaustion and Warning).
    Burst {
        ty: u32,
        n: u8,
    },
    Enqueue {
        handle: Handle,
        queue: u32,
        target: Target,
    },
    Dequeue {
        handle: Handle,
        queue: u32,
        null_out: bool,
    },
    QueueStatistics {
        handle: Handle,
        queue: u32,
        null_out: bool,
    },
    HeldBuffers {
        handle: Handle,
        capacity: u8,
        null_entries: bool,
    },
    CheckIntegrity {
        handle: Handle,
        null_out: bool,
    },
}

fn queue_number() -> impl Strategy<Value = u32> {
    prop_oneof![12 => 0..AES5_QUEUE_COUNT, 1 => AES5_QUEUE_COUNT..AES5_QUEUE_COUNT + 2, 1 => any::<u32>()]
}

fn handle() -> impl Strategy<Value = Handle> {
    prop_oneof![20 => Just(Handle::Valid), 1 => Just(Handle::Null), 1 => any::<u8>().prop_map(|k| Handle::Bogus(k % 16))]
}

fn format() -> impl Strategy<Value = AudioFormat> {
    let valid = (0..RATES.len(), 1u16..=8, prop_oneof![Just(16u16), Just(24), Just(32)], 1u16..=1024, 0u8..=2, 0u8..=1)
        .prop_map(|(r, channels, bits, frame, pull, variant)| AudioFormat {
            sample_rate_hz: RATES[r],
            channel_count: channels,
            sample_size_bits: bits,
            frame_size_samples: frame,
            sample_packing: u8::from(bits == 24 && variant == 1),
            sample_encoding: u8::from(bits == 32 && variant == 1),
            rate_pull: pull,
        });
    let small = (0..RATES.len(), 1u16..=2, 1u16..=64).prop_map(|(r, c, f)| AudioFormat::pcm(RATES[r], c, 16, f));
    let raw = (
        prop_oneof![Just(48_000u32), Just(22_050), Just(0), Just(400_000), any::<u32>()],
        prop_oneof![Just(2u16), Just(0), Just(9), any::<u16>()],
        prop_oneof![Just(16u16), Just(20), Just(24), Just(32), any::<u16>()],
        prop_oneof![Just(64u16), Just(0), Just(1025), any::<u16>()],
        prop_oneof![Just(0u8), Just(1), any::<u8>()],
        prop_oneof![Just(0u8), Just(1), any::<u8>()],
        prop_oneof![Just(0u8), Just(2), Just(3), any::<u8>()],
    )
        .prop_map(|(rate, ch, bits, frame, packing, encoding, pull)| AudioFormat {
            sample_rate_hz: rate,
            channel_count: ch,
            sample_size_bits: bits,
            frame_size_samples: frame,
            sample_packing: packing,
            sample_encoding: encoding,
            rate_pull: pull,
        });
    prop_oneof![6 => small, 3 => valid, 2 => raw]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        12 => any::<usize>().prop_map(Target::Held),
        3 => any::<usize>().prop_map(Target::Queued),
        4 => any::<usize>().prop_map(Target::Seen),
        1 => (any::<usize>(), 1u16..size_of::<AudioBuffer>() as u16).prop_map(|(i, o)| Target::InsideHeader(i, o)),
        2 => any::<u32>().prop_map(Target::Storage),
        1 => any::<usize>().prop_map(Target::Data),
        1 => Just(Target::OtherManager),
        1 => Just(Target::Stack),
        1 => Just(Target::Null),
        1 => prop_oneof![Just(8u64), Just(u64::MAX - 7), any::<u64>()].prop_map(Target::Wild),
    ]
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        1 => any::<u16>().prop_map(Damage::DataSizeTooLarge),
        1 => any::<u16>().prop_map(Damage::DataSizeWithin),
        1 => any::<u32>().prop_map(Damage::Magic),
        1 => any::<u32>().prop_map(Damage::BufferId),
        1 => (1u8..=255).prop_map(Damage::DataPointer),
        1 => any::<u32>().prop_map(Damage::SampleRate),
        2 => (any::<u64>(), any::<u16>()).prop_map(|(t, f)| Damage::CallerFields(t, f)),
        1 => (1u8..=255).prop_map(Damage::GuardAfter),
        1 => (1u8..=255).prop_map(Damage::GuardBefore),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        30 => (handle(), prop_oneof![8 => 0u32..3, 1 => 3u32..6, 1 => any::<u32>()], proptest::option::weighted(0.97, format()), proptest::bool::weighted(0.03))
            .prop_map(|(handle, ty, format, null_out)| Op::Allocate { handle, ty, format, null_out }),
        22 => (handle(), target()).prop_map(|(handle, target)| Op::Release { handle, target }),
        6 => (handle(), target()).prop_map(|(handle, target)| Op::Validate { handle, target }),
        3 => (any::<usize>(), damage()).prop_map(|(held, damage)| Op::Damage { held, damage }),
        2 => (handle(), prop_oneof![0u32..8, any::<u32>()]).prop_map(|(handle, to)| Op::Transition { handle, to }),
        1 => handle().prop_map(|handle| Op::Shutdown { handle }),
        1 => (proptest::bool::weighted(0.9), any::<bool>()).prop_map(|(checked_size_ok, null_config)| Op::Init { checked_size_ok, null_config }),
        2 => (handle(), prop_oneof![0u32..6, any::<u32>()], proptest::bool::weighted(0.1)).prop_map(|(handle, ty, null_out)| Op::PoolStatistics { handle, ty, null_out }),
        1 => (handle(), prop_oneof![Just(0u64), any::<u64>()]).prop_map(|(handle, period)| Op::Report { handle, period }),
        2 => (0u32..3, 1u8..=12).prop_map(|(ty, n)| Op::Burst { ty, n }),
        12 => (handle(), queue_number(), target()).prop_map(|(handle, queue, target)| Op::Enqueue { handle, queue, target }),
        10 => (handle(), queue_number(), proptest::bool::weighted(0.03))
            .prop_map(|(handle, queue, null_out)| Op::Dequeue { handle, queue, null_out }),
        2 => (handle(), queue_number(), proptest::bool::weighted(0.1))
            .prop_map(|(handle, queue, null_out)| Op::QueueStatistics { handle, queue, null_out }),
        2 => (handle(), 0u8..20, proptest::bool::weighted(0.1))
            .prop_map(|(handle, capacity, null_entries)| Op::HeldBuffers { handle, capacity, null_entries }),
        2 => (handle(), proptest::bool::weighted(0.05)).prop_map(|(handle, null_out)| Op::CheckIntegrity { handle, null_out }),
    ]
}

// ---------------------------------------------------------------------------------------------
// The reference model (docs/DESIGN.md §2–§4), independent of the library's code
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Default)]
struct PoolModel {
    /// Header addresses not free (held by the test or waiting in a queue), in allocation
    /// order.
    held: Vec<usize>,
    quarantined: u32,
    allocations: u64,
    releases: u64,
    failures: u64,
    peak: u32,
}

#[derive(Clone, Debug)]
struct Model {
    state: u32,
    changes: u32,
    pools: [PoolModel; POOLS],
    /// Held buffers whose checksummed fields were changed.
    damaged: HashSet<usize>,
    /// Held buffers whose `data_size_bytes` exceeds the capacity.
    oversized: HashSet<usize>,
    quarantined: HashSet<usize>,
    /// Buffers with a guard word next to their data changed (any state), and the guard zones
    /// changed (zone k lies before buffer k's data).
    guard_damaged: HashSet<usize>,
    damaged_zones: HashSet<usize>,
    overruns: u64,
    /// Each queue's buffers, oldest first, with its totals and peak.
    queues: Vec<QueueModel>,
    /// The queue each queued buffer waits in.
    queued: HashMap<usize, usize>,
    /// The queue each held buffer was last dequeued from since its allocation.
    last_queue: HashMap<usize, usize>,
    rejected_hand_offs: u64,
    rejected_allocations: u64,
    rejected_releases: u64,
    validation_errors: u64,
    corruption: u64,
    warning_attempts: u64,
    warning_failures: u64,
    min_success_ppm: u64,
}

impl Model {
    fn new() -> Self {
        Model {
            state: AES5_STATE_READY,
            changes: 2,
            pools: Default::default(),
            damaged: HashSet::new(),
            oversized: HashSet::new(),
            quarantined: HashSet::new(),
            guard_damaged: HashSet::new(),
            damaged_zones: HashSet::new(),
            overruns: 0,
            queues: vec![QueueModel::default(); QUEUES],
            queued: HashMap::new(),
            last_queue: HashMap::new(),
            rejected_hand_offs: 0,
            rejected_allocations: 0,
            rejected_releases: 0,
            validation_errors: 0,
            corruption: 0,
            warning_attempts: 0,
            warning_failures: 0,
            min_success_ppm: 999_000,
        }
    }

    fn set_state(&mut self, to: u32) {
        self.state = to;
        self.changes += 1;
    }

    fn allocated(&self, pool: usize) -> u32 {
        self.pools[pool].held.len() as u32
    }

    fn crowded(&self) -> bool {
        (0..POOLS).any(|p| self.allocated(p) > COUNTS[p] * 9 / 10)
    }

    fn attempts(&self) -> (u64, u64) {
        let failures: u64 = self.pools.iter().map(|p| p.failures).sum();
        (self.pools.iter().map(|p| p.allocations).sum::<u64>() + failures, failures)
    }

    fn enter_warning(&mut self) {
        if self.state == AES5_STATE_ACTIVE {
            (self.warning_attempts, self.warning_failures) = self.attempts();
            self.set_state(AES5_STATE_WARNING);
        }
    }

    fn maybe_leave_warning(&mut self) {
        let (attempts, failures) = self.attempts();
        let (mut window, mut failed) = (attempts - self.warning_attempts, failures - self.warning_failures);
        if window >= 1024 {
            (self.warning_attempts, self.warning_failures) = (attempts, failures);
            (window, failed) = (0, 0);
        }
        if self.crowded() {
            return;
        }
        if (window - failed) * 1_000_000 >= self.min_success_ppm * window {
            self.set_state(AES5_STATE_ACTIVE);
        }
    }

    fn complete_shutdown(&mut self) {
        if self.state == AES5_STATE_SHUTTING_DOWN && (0..POOLS).all(|p| self.allocated(p) == 0) {
            self.set_state(AES5_STATE_SHUTDOWN);
        }
    }

    fn refuse_allocation(&mut self, status: u32) -> u32 {
        self.rejected_allocations += 1;
        if is_validation(status) {
            self.validation_errors += 1;
        }
        status
    }

    fn refuse_enqueue(&mut self, status: u32) -> u32 {
        self.rejected_hand_offs += 1;
        if is_validation(status) {
            self.validation_errors += 1;
        }
        status
    }

    fn refuse_release(&mut self, status: u32) -> u32 {
        self.rejected_releases += 1;
        if is_validation(status) {
            self.validation_errors += 1;
        }
        status
    }

    fn shutdown(&mut self) -> u32 {
        match self.state {
            AES5_STATE_READY | AES5_STATE_ACTIVE | AES5_STATE_WARNING | AES5_STATE_ERROR => {
                self.set_state(AES5_STATE_SHUTTING_DOWN)
            }
            AES5_STATE_SHUTTING_DOWN => {}
            _ => return AES5_ERR_INVALID_STATE,
        }
        self.complete_shutdown();
        if self.state == AES5_STATE_SHUTDOWN {
            AES5_OK
        } else {
            AES5_ERR_BUFFERS_OUTSTANDING
        }
    }
}

#[derive(Clone, Debug, Default)]
struct QueueModel {
    buffers: VecDeque<usize>,
    enqueued: u64,
    dequeued: u64,
    peak: u32,
}

fn is_validation(status: u32) -> bool {
    matches!(
        status,
        AES5_ERR_NULL_POINTER
            | AES5_ERR_INVALID_ARGUMENT
            | AES5_ERR_UNSUPPORTED_FORMAT
            | AES5_ERR_FORMAT_TOO_LARGE
            | AES5_ERR_NO_POOL_FOR_TYPE
            | AES5_ERR_FOREIGN_BUFFER
            | AES5_ERR_DOUBLE_RELEASE
            | AES5_ERR_BUFFER_QUEUED
    )
}

/// The bytes a format needs, or UNSUPPORTED_FORMAT: docs/DESIGN.md §2 and §4, written out again.
fn reference_bytes(f: &AudioFormat) -> Result<u32, u32> {
    let container = match (f.sample_size_bits, f.sample_packing, f.sample_encoding) {
        (16, 0, 0) => 2,
        (24, 0, 0) => 4,
        (24, 1, 0) => 3,
        (32, 0, 0) | (32, 0, 1) => 4,
        _ => return Err(AES5_ERR_UNSUPPORTED_FORMAT),
    };
    if !RATES.contains(&f.sample_rate_hz)
        || !(1..=8).contains(&f.channel_count)
        || !(1..=1024).contains(&f.frame_size_samples)
        || f.rate_pull > 2
    {
        return Err(AES5_ERR_UNSUPPORTED_FORMAT);
    }
    Ok(u32::from(f.channel_count) * u32::from(f.frame_size_samples) * container)
}

// ---------------------------------------------------------------------------------------------
// The system under test
// ---------------------------------------------------------------------------------------------

/// Where every header of a manager lies relative to its storage, and which pool it belongs to
/// (found once by allocating every buffer of a scratch manager).
fn discover_headers() -> BTreeMap<usize, usize> {
    let mut storage = Box::new(BufferManagerStorage::new());
    let base = &*storage as *const BufferManagerStorage as usize;
    let mut mgr = null_mut();
    let mut offsets = BTreeMap::new();
    // SAFETY: the storage is owned here; all pointers are live locals.
    unsafe {
        assert_eq!(aes5_buffer_manager_init(&mut *storage, null(), &mut mgr), AES5_OK);
        let tiny = AudioFormat::pcm(48_000, 1, 16, 1);
        for (pool, &count) in COUNTS.iter().enumerate() {
            for _ in 0..count {
                let mut b = null_mut();
                assert_eq!(aes5_buffer_manager_allocate(mgr, pool as u32, &tiny, &mut b), AES5_OK);
                offsets.insert(b as usize - base, pool);
            }
        }
    }
    offsets
}

struct System {
    storage: Box<BufferManagerStorage>,
    other_storage: Box<BufferManagerStorage>,
    mgr: *mut BufferManager,
    other_header: usize,
    headers: BTreeMap<usize, usize>,
    seen: Vec<usize>,
    /// Each header's data pointer as allocate returned it (a damaged header may point elsewhere).
    data_of: BTreeMap<usize, usize>,
    monitoring: bool,
    /// The status the last step's call on the valid handle returned, for a call whose
    /// refusals the manager records (allocate, release, validate, transition, shutdown,
    /// enqueue, dequeue).
    answered: Option<u32>,
}

impl System {
    fn new(headers: BTreeMap<usize, usize>, monitoring: bool) -> Self {
        let mut sys = System {
            storage: Box::new(BufferManagerStorage::new()),
            other_storage: Box::new(BufferManagerStorage::new()),
            mgr: null_mut(),
            other_header: 0,
            headers,
            seen: Vec::new(),
            data_of: BTreeMap::new(),
            monitoring,
            answered: None,
        };
        let config = sys.config();
        let mut other = null_mut();
        let mut b = null_mut();
        // SAFETY: both storages are owned by `sys`; out-pointers are live.
        unsafe {
            assert_eq!(aes5_buffer_manager_init(&mut *sys.storage, &config, &mut sys.mgr), AES5_OK);
            assert_eq!(aes5_buffer_manager_init(&mut *sys.other_storage, &config, &mut other), AES5_OK);
            assert_eq!(aes5_buffer_manager_allocate(other, 0, &AudioFormat::pcm(48_000, 1, 16, 1), &mut b), AES5_OK);
        }
        sys.other_header = b as usize;
        sys
    }

    fn config(&self) -> RuntimeConfig {
        RuntimeConfig { enable_performance_monitoring: u8::from(self.monitoring), ..RuntimeConfig::default() }
    }

    fn base(&self) -> usize {
        &*self.storage as *const BufferManagerStorage as usize
    }

    fn handle(&self, h: Handle) -> *mut BufferManager {
        match h {
            Handle::Valid => self.mgr,
            Handle::Null => null_mut(),
            Handle::Bogus(k) => (self.base() + 8 * (usize::from(k) + 1)) as *mut BufferManager,
        }
    }

    fn is_header(&self, p: usize) -> bool {
        p.checked_sub(self.base()).is_some_and(|o| self.headers.contains_key(&o))
    }

    /// Notes `got`, the status of a recorded call, when it went to the valid handle.
    fn answer(&mut self, handle: Handle, got: u32) {
        if matches!(handle, Handle::Valid) {
            self.answered = Some(got);
        }
    }

    /// The manager's last refusal.
    fn last_refusal(&self) -> LastRefusal {
        let mut why = std::mem::MaybeUninit::<LastRefusal>::uninit();
        // SAFETY: valid handle, live out-parameter, written whole on success.
        unsafe {
            assert_eq!(aes5_buffer_manager_get_last_refusal(self.mgr, why.as_mut_ptr()), AES5_OK);
            why.assume_init()
        }
    }
}

/// Every refusal of a recorded call is kept, once, with its status; nothing else is: the
/// record's count grows by exactly one for a refused call (an empty queue is an answer, not a
/// refusal) and stays for anything else. Single-threaded, so nothing is skipped.
fn check_refusal_record(sys: &System, before: u32) -> Result<(), TestCaseError> {
    let why = sys.last_refusal();
    match sys.answered {
        Some(status) if status != AES5_OK && status != AES5_ERR_QUEUE_EMPTY => {
            prop_assert_eq!(why.number, before + 1, "one refusal kept for status {}", status);
            prop_assert_eq!(why.status, status, "the kept refusal's status");
            prop_assert!(why.reason != AES5_REFUSAL_NONE && why.reason != AES5_REFUSAL_BEING_RECORDED);
            prop_assert!(why.text[0] != 0, "a text");
        }
        _ => prop_assert_eq!(why.number, before, "a call that refused nothing kept a refusal"),
    }
    Ok(())
}

/// The buffers the test holds (not free, not queued).
fn all_held(m: &Model) -> Vec<usize> {
    m.pools.iter().flat_map(|p| p.held.iter().copied()).filter(|p| !m.queued.contains_key(p)).collect()
}

/// The pointer a target names (0 = none available, treated as NULL by the caller).
fn resolve(sys: &System, m: &Model, t: Target, stack: usize) -> usize {
    let held = all_held(m);
    let pick = |v: &[usize], i: usize| if v.is_empty() { None } else { Some(v[i % v.len()]) };
    match t {
        Target::Held(i) => pick(&held, i).unwrap_or(stack),
        Target::Queued(i) => {
            let mut queued: Vec<usize> = m.queued.keys().copied().collect();
            queued.sort_unstable();
            pick(&queued, i).unwrap_or(stack)
        }
        Target::Seen(i) => pick(&sys.seen, i).unwrap_or(stack),
        Target::InsideHeader(i, off) => {
            pick(&sys.seen, i).map_or(stack, |h| h + usize::from(off) % size_of::<AudioBuffer>().max(1))
        }
        Target::Storage(off) => sys.base() + (off as usize % size_of::<BufferManagerStorage>()),
        Target::Data(i) => {
            // SAFETY: the header is held by the test and lives in the storage.
            pick(&held, i).map_or(stack, |h| unsafe { (*(h as *const AudioBuffer)).data_pointer as usize })
        }
        Target::OtherManager => sys.other_header,
        Target::Stack => stack,
        Target::Null => 0,
        Target::Wild(a) => a as usize,
    }
}

fn pool_of(sys: &System, p: usize) -> usize {
    sys.headers[&(p - sys.base())]
}

/// Runs one step on both; returns an error describing the first difference.
fn step(sys: &mut System, m: &mut Model, op: Op) -> Result<(), TestCaseError> {
    let stack_object = AudioBuffer::default();
    let stack = &stack_object as *const AudioBuffer as usize;
    match op {
        Op::Allocate { handle, ty, format, null_out } => {
            let mut out: *mut AudioBuffer = SENTINEL as *mut AudioBuffer;
            let out_ptr = if null_out { null_mut() } else { &mut out as *mut *mut AudioBuffer };
            let fmt_ptr = format.as_ref().map_or(null(), |f| f as *const AudioFormat);
            // SAFETY: the handle is valid, NULL or readable storage; pointers are live or NULL.
            let got = unsafe { aes5_buffer_manager_allocate(sys.handle(handle), ty, fmt_ptr, out_ptr) };
            let expected = match handle {
                Handle::Null => AES5_ERR_NULL_POINTER,
                Handle::Bogus(_) => AES5_ERR_INVALID_STATE,
                Handle::Valid => model_allocate(m, ty, format, null_out),
            };
            prop_assert_eq!(got, expected, "allocate");
            sys.answer(handle, got);
            if got != AES5_OK {
                prop_assert_eq!(out as usize, SENTINEL, "out-parameter written on failure");
                return Ok(());
            }
            let p = out as usize;
            prop_assert!(sys.is_header(p), "allocate returned a non-header {:#x}", p);
            let pool = ty as usize;
            prop_assert_eq!(pool_of(sys, p), pool, "buffer from the wrong pool");
            prop_assert!(!all_held(m).contains(&p), "buffer {:#x} handed out twice", p);
            prop_assert!(!m.quarantined.contains(&p), "quarantined buffer {:#x} handed out", p);
            // SAFETY: just allocated, held by the test.
            let h = unsafe { &*out };
            let f = format.expect("allocation succeeded with a format");
            prop_assert_eq!(h.buffer_type as usize, pool);
            prop_assert_eq!(h.data_size_bytes as u32, reference_bytes(&f).unwrap());
            prop_assert_eq!(h.buffer_capacity_bytes as u32, CAPACITY[pool]);
            prop_assert_eq!(h.data_pointer as usize % AES5_DATA_ALIGNMENT as usize, 0);
            prop_assert!(
                (h.sample_rate_hz, h.channel_count, h.frame_size_samples)
                    == (f.sample_rate_hz, f.channel_count, f.frame_size_samples)
            );
            let d = h.data_pointer as usize;
            prop_assert!(
                d > sys.base() && d + h.buffer_capacity_bytes <= sys.base() + size_of::<BufferManagerStorage>()
            );
            m.pools[pool].held.push(p);
            let allocated = m.allocated(pool);
            m.pools[pool].peak = m.pools[pool].peak.max(allocated);
            if !sys.seen.contains(&p) {
                sys.seen.push(p);
            }
            sys.data_of.insert(p, h.data_pointer as usize);
            after_allocation(m, pool);
        }
        Op::Release { handle, target } | Op::Validate { handle, target } => {
            let is_release = matches!(op, Op::Release { .. });
            let p = resolve(sys, m, target, stack);
            let got = if is_release {
                // SAFETY: buffer pointers may point anywhere (checked by address before use).
                unsafe { aes5_buffer_manager_release(sys.handle(handle), p as *mut AudioBuffer) }
            } else {
                // SAFETY: as above.
                unsafe { aes5_buffer_manager_validate_buffer(sys.handle(handle), p as *const AudioBuffer) }
            };
            let expected = match handle {
                Handle::Null => AES5_ERR_NULL_POINTER,
                Handle::Bogus(_) => AES5_ERR_INVALID_STATE,
                Handle::Valid if is_release => model_release(sys, m, p),
                Handle::Valid => model_validate(sys, m, p),
            };
            sys.answer(handle, got);
            prop_assert_eq!(
                got,
                expected,
                "{} of {:?} ({:#x})",
                if is_release { "release" } else { "validate" },
                target,
                p
            );
        }
        Op::Damage { held, damage } => {
            let all = all_held(m);
            if all.is_empty() {
                return Ok(());
            }
            let p = all[held % all.len()];
            // SAFETY: the test holds this buffer; callers may write its header (damaging it
            // on purpose here).
            let h = unsafe { &mut *(p as *mut AudioBuffer) };
            match damage {
                Damage::DataSizeTooLarge(k) => {
                    h.data_size_bytes = h.buffer_capacity_bytes + 1 + usize::from(k);
                    m.oversized.insert(p);
                }
                Damage::DataSizeWithin(v) => {
                    h.data_size_bytes = usize::from(v) % (h.buffer_capacity_bytes + 1);
                    m.oversized.remove(&p);
                }
                Damage::Magic(x) => {
                    h.magic_number = h.magic_number.wrapping_add(x | 1);
                    m.damaged.insert(p);
                }
                Damage::BufferId(x) => {
                    h.buffer_id = h.buffer_id.wrapping_add(x | 1);
                    m.damaged.insert(p);
                }
                Damage::DataPointer(x) => {
                    h.data_pointer = h.data_pointer.wrapping_add(usize::from(x));
                    m.damaged.insert(p);
                }
                Damage::SampleRate(x) => {
                    h.sample_rate_hz = h.sample_rate_hz.wrapping_add(x | 1);
                    m.damaged.insert(p);
                }
                Damage::GuardAfter(_) | Damage::GuardBefore(_) if AES5_GUARD_BYTES == 0 => {
                    // Built without guard zones: the bytes next to the data belong to headers,
                    // which the header cases above already damage.
                }
                Damage::GuardAfter(x) | Damage::GuardBefore(x) => {
                    let id = sys.headers.keys().position(|&offset| offset == p - sys.base()).unwrap();
                    let capacity = CAPACITY[pool_of(sys, p)] as isize;
                    let (offset, zone) =
                        if matches!(damage, Damage::GuardAfter(_)) { (capacity, id + 1) } else { (-1, id) };
                    let data = sys.data_of[&p] as *mut u8;
                    // SAFETY: a guard byte next to the held buffer's data, inside the storage.
                    unsafe { *data.offset(offset) ^= x };
                    m.guard_damaged.insert(p);
                    m.damaged_zones.insert(zone);
                }
                Damage::CallerFields(t, f) => {
                    h.timestamp_ns = t;
                    h.buffer_flags = f;
                    h.processing_start_ns = t / 2;
                    h.processing_count = u32::from(f);
                }
            }
        }
        Op::Transition { handle, to } => {
            // SAFETY: the handle is valid, NULL or readable storage.
            let got = unsafe { aes5_buffer_manager_transition_state(sys.handle(handle), to) };
            let expected = match handle {
                Handle::Null => AES5_ERR_NULL_POINTER,
                Handle::Bogus(_) => AES5_ERR_INVALID_STATE,
                Handle::Valid => {
                    if to > 7 {
                        AES5_ERR_INVALID_ARGUMENT
                    } else if to == m.state {
                        AES5_OK
                    } else if to == AES5_STATE_SHUTTING_DOWN {
                        m.shutdown()
                    } else if to == AES5_STATE_READY && m.state == AES5_STATE_ERROR {
                        m.set_state(AES5_STATE_READY);
                        AES5_OK
                    } else {
                        AES5_ERR_INVALID_STATE
                    }
                }
            };
            prop_assert_eq!(got, expected, "transition to {}", to);
            sys.answer(handle, got);
        }
        Op::Shutdown { handle } => {
            // SAFETY: the handle is valid, NULL or readable storage.
            let got = unsafe { aes5_buffer_manager_shutdown(sys.handle(handle)) };
            let expected = match handle {
                Handle::Null => AES5_ERR_NULL_POINTER,
                Handle::Bogus(_) => AES5_ERR_INVALID_STATE,
                Handle::Valid => m.shutdown(),
            };
            prop_assert_eq!(got, expected, "shutdown");
            sys.answer(handle, got);
        }
        Op::Init { checked_size_ok, null_config } => {
            let config = sys.config();
            let cfg_ptr = if null_config { null() } else { &config as *const RuntimeConfig };
            let size =
                if checked_size_ok { size_of::<BufferManagerStorage>() } else { size_of::<BufferManagerStorage>() - 8 };
            let mut out = SENTINEL as *mut BufferManager;
            // SAFETY: the storage is owned by the test; init on a live manager must refuse.
            let got = unsafe { aes5_buffer_manager_init_checked(&mut *sys.storage, size, cfg_ptr, &mut out) };
            let expected = if !checked_size_ok {
                AES5_ERR_STORAGE_SIZE_MISMATCH
            } else if m.state != AES5_STATE_SHUTDOWN {
                AES5_ERR_ALREADY_INITIALIZED
            } else {
                AES5_OK
            };
            prop_assert_eq!(got, expected, "init");
            if got == AES5_OK {
                prop_assert_eq!(out, sys.mgr, "a new handle for the same storage");
                let monitoring = null_config || sys.monitoring;
                sys.monitoring = monitoring;
                *m = Model::new();
            } else {
                prop_assert_eq!(out as usize, SENTINEL, "out-parameter written on failure");
            }
        }
        Op::PoolStatistics { handle, ty, null_out } => {
            let mut out = PoolStatistics { total_buffers: 0xDEAD, ..PoolStatistics::default() };
            let out_ptr = if null_out { null_mut() } else { &mut out as *mut PoolStatistics };
            // SAFETY: the handle is valid, NULL or readable storage; out is live or NULL.
            let got = unsafe { aes5_buffer_manager_get_pool_statistics(sys.handle(handle), ty, out_ptr) };
            let expected = match handle {
                Handle::Null => AES5_ERR_NULL_POINTER,
                Handle::Bogus(_) => AES5_ERR_INVALID_STATE,
                Handle::Valid if null_out => AES5_ERR_NULL_POINTER,
                Handle::Valid if ty > 5 => AES5_ERR_INVALID_ARGUMENT,
                Handle::Valid => AES5_OK,
            };
            prop_assert_eq!(got, expected, "get_pool_statistics({})", ty);
            if got == AES5_OK {
                compare_pool(m, ty as usize, &out)?;
            } else {
                prop_assert_eq!(out.total_buffers, 0xDEAD, "out-parameter written on failure");
            }
        }
        Op::Burst { ty, n } => {
            for _ in 0..n {
                let format = Some(AudioFormat::pcm(48_000, 1, 16, 1));
                let before = sys.last_refusal().number;
                sys.answered = None;
                step(sys, m, Op::Allocate { handle: Handle::Valid, ty, format, null_out: false })?;
                check_refusal_record(sys, before)?;
                compare(sys, m)?;
            }
        }
        Op::Enqueue { handle, queue, target } => {
            let p = resolve(sys, m, target, stack);
            // SAFETY: buffer pointers may point anywhere (checked by address before use).
            let got = unsafe { aes5_buffer_manager_enqueue(sys.handle(handle), queue, p as *mut AudioBuffer) };
            let expected = match handle {
                Handle::Null => AES5_ERR_NULL_POINTER,
                Handle::Bogus(_) => AES5_ERR_INVALID_STATE,
                Handle::Valid => model_enqueue(sys, m, queue, p),
            };
            prop_assert_eq!(got, expected, "enqueue of {:?} ({:#x}) to {}", target, p, queue);
            sys.answer(handle, got);
        }
        Op::Dequeue { handle, queue, null_out } => {
            let mut out: *mut AudioBuffer = SENTINEL as *mut AudioBuffer;
            let out_ptr = if null_out { null_mut() } else { &mut out as *mut *mut AudioBuffer };
            // SAFETY: the handle is valid, NULL or readable storage; out is live or NULL.
            let got = unsafe { aes5_buffer_manager_dequeue(sys.handle(handle), queue, out_ptr) };
            let release_states =
                [AES5_STATE_READY, AES5_STATE_ACTIVE, AES5_STATE_WARNING, AES5_STATE_ERROR, AES5_STATE_SHUTTING_DOWN];
            let (expected, buffer) = match handle {
                Handle::Null => (AES5_ERR_NULL_POINTER, None),
                Handle::Bogus(_) => (AES5_ERR_INVALID_STATE, None),
                Handle::Valid if null_out => (AES5_ERR_NULL_POINTER, None),
                Handle::Valid if !release_states.contains(&m.state) => (AES5_ERR_INVALID_STATE, None),
                Handle::Valid if queue as usize >= QUEUES => (AES5_ERR_INVALID_ARGUMENT, None),
                Handle::Valid => match m.queues[queue as usize].buffers.pop_front() {
                    None => (AES5_ERR_QUEUE_EMPTY, None),
                    Some(p) => {
                        m.queues[queue as usize].dequeued += 1;
                        m.queued.remove(&p);
                        m.last_queue.insert(p, queue as usize);
                        (AES5_OK, Some(p))
                    }
                },
            };
            prop_assert_eq!(got, expected, "dequeue from {}", queue);
            sys.answer(handle, got);
            prop_assert_eq!(out as usize, buffer.unwrap_or(SENTINEL), "dequeued buffer (or untouched out)");
        }
        Op::QueueStatistics { handle, queue, null_out } => {
            let mut out = QueueStatistics { length: 0xDEAD, ..QueueStatistics::default() };
            let out_ptr = if null_out { null_mut() } else { &mut out as *mut QueueStatistics };
            // SAFETY: the handle is valid, NULL or readable storage; out is live or NULL.
            let got = unsafe { aes5_buffer_manager_get_queue_statistics(sys.handle(handle), queue, out_ptr) };
            let expected = match handle {
                Handle::Null => AES5_ERR_NULL_POINTER,
                Handle::Bogus(_) => AES5_ERR_INVALID_STATE,
                Handle::Valid if null_out => AES5_ERR_NULL_POINTER,
                Handle::Valid if queue as usize >= QUEUES => AES5_ERR_INVALID_ARGUMENT,
                Handle::Valid => AES5_OK,
            };
            prop_assert_eq!(got, expected, "queue statistics of {}", queue);
            if got != AES5_OK {
                prop_assert_eq!(out.length, 0xDEAD, "out-parameter written on failure");
            }
        }
        Op::HeldBuffers { handle, capacity, null_entries } => {
            let mut entries = vec![HeldBuffer { buffer_id: 0xDEAD, ..HeldBuffer::default() }; usize::from(capacity)];
            let entries_ptr = if null_entries { null_mut() } else { entries.as_mut_ptr() };
            let mut count = 0xDEADu32;
            // SAFETY: the handle is valid, NULL or readable storage; the array holds `capacity`.
            let got = unsafe {
                aes5_buffer_manager_get_held_buffers(sys.handle(handle), entries_ptr, u32::from(capacity), &mut count)
            };
            let expected = match handle {
                _ if null_entries && capacity > 0 => AES5_ERR_NULL_POINTER,
                Handle::Null => AES5_ERR_NULL_POINTER,
                Handle::Bogus(_) => AES5_ERR_INVALID_STATE,
                Handle::Valid => AES5_OK,
            };
            prop_assert_eq!(got, expected, "held buffers");
            if got != AES5_OK {
                prop_assert_eq!(count, 0xDEAD, "out-parameter written on failure");
                return Ok(());
            }
            let not_free: Vec<usize> = {
                let mut v: Vec<usize> = m.pools.iter().flat_map(|p| p.held.iter().copied()).collect();
                v.sort_unstable();
                v
            };
            prop_assert_eq!(count as usize, not_free.len(), "buffers found");
            for (entry, &p) in entries.iter().zip(not_free.iter()) {
                // The buffer's id is its slot: the header's index in address order (its own
                // `buffer_id` field may have been damaged).
                let id = sys.headers.keys().position(|&offset| offset == p - sys.base()).unwrap() as u32;
                let (queue, last) = match m.queued.get(&p) {
                    Some(&q) => (q as u32, AES5_NO_QUEUE),
                    None => (AES5_NO_QUEUE, m.last_queue.get(&p).map_or(AES5_NO_QUEUE, |&q| q as u32)),
                };
                prop_assert_eq!(
                    (entry.buffer_id, entry.queue, entry.last_queue),
                    (id, queue, last),
                    "entry of {:#x}",
                    p
                );
                prop_assert_eq!(entry.buffer_type as usize, pool_of(sys, p));
            }
            for entry in entries.iter().skip(not_free.len()) {
                prop_assert_eq!(entry.buffer_id, 0xDEAD, "an entry written past the count");
            }
        }
        Op::CheckIntegrity { handle, null_out } => {
            let mut out = IntegrityReport { buffers_checked: 0xDEAD, ..IntegrityReport::default() };
            let out_ptr = if null_out { null_mut() } else { &mut out as *mut IntegrityReport };
            // SAFETY: the handle is valid, NULL or readable storage; out is live or NULL.
            let got = unsafe { aes5_buffer_manager_check_integrity(sys.handle(handle), out_ptr) };
            let expected = match handle {
                Handle::Null => AES5_ERR_NULL_POINTER,
                Handle::Bogus(_) => AES5_ERR_INVALID_STATE,
                Handle::Valid if null_out => AES5_ERR_NULL_POINTER,
                Handle::Valid => AES5_OK,
            };
            prop_assert_eq!(got, expected, "check_integrity");
            if got != AES5_OK {
                prop_assert_eq!(out.buffers_checked, 0xDEAD, "out-parameter written on failure");
                return Ok(());
            }
            // Only held buffers are damaged here, and each is quarantined at its hand-off,
            // never free: the sweep reports, and takes nothing out of service.
            let total = COUNTS.iter().sum::<u32>();
            prop_assert_eq!(
                (out.buffers_checked, out.damaged_guards, out.damaged_free_headers, out.quarantined, out.damaged_count),
                (total, m.damaged_zones.len() as u32, 0, 0, m.guard_damaged.len() as u32),
                "integrity report"
            );
        }
        Op::Report { handle, period } => {
            let mut out = PerformanceReport::default();
            // SAFETY: the handle is valid, NULL or readable storage; out is live.
            let got = unsafe { aes5_buffer_manager_get_performance_report(sys.handle(handle), period, &mut out) };
            let expected = match handle {
                Handle::Null => AES5_ERR_NULL_POINTER,
                Handle::Bogus(_) => AES5_ERR_INVALID_STATE,
                Handle::Valid => AES5_OK,
            };
            prop_assert_eq!(got, expected, "performance report");
            if got == AES5_OK {
                let held: u32 = (0..POOLS).map(|p| m.allocated(p)).sum();
                prop_assert_eq!(out.metrics.current_allocated_buffers, held);
                prop_assert!(out.trend.success_rate_trend.is_finite());
            }
        }
    }
    Ok(())
}

fn model_allocate(m: &mut Model, ty: u32, format: Option<AudioFormat>, null_out: bool) -> u32 {
    let Some(f) = format.filter(|_| !null_out) else {
        return m.refuse_allocation(AES5_ERR_NULL_POINTER);
    };
    if !matches!(m.state, AES5_STATE_READY | AES5_STATE_ACTIVE | AES5_STATE_WARNING) {
        return m.refuse_allocation(AES5_ERR_INVALID_STATE);
    }
    if ty > 5 {
        return m.refuse_allocation(AES5_ERR_INVALID_ARGUMENT);
    }
    if ty > 2 {
        return m.refuse_allocation(AES5_ERR_NO_POOL_FOR_TYPE);
    }
    let bytes = match reference_bytes(&f) {
        Ok(b) => b,
        Err(s) => return m.refuse_allocation(s),
    };
    let pool = ty as usize;
    if bytes > CAPACITY[pool] {
        return m.refuse_allocation(AES5_ERR_FORMAT_TOO_LARGE);
    }
    if m.allocated(pool) + m.pools[pool].quarantined >= COUNTS[pool] {
        m.enter_warning();
        m.pools[pool].failures += 1;
        return AES5_ERR_POOL_EXHAUSTED;
    }
    m.pools[pool].allocations += 1;
    AES5_OK
}

fn after_allocation(m: &mut Model, pool: usize) {
    let mut above = m.allocated(pool) > COUNTS[pool] * 9 / 10;
    if m.state == AES5_STATE_READY {
        m.set_state(AES5_STATE_ACTIVE);
        above = above || m.crowded();
    }
    if above && m.state == AES5_STATE_ACTIVE {
        m.enter_warning();
    } else if m.state == AES5_STATE_WARNING {
        m.maybe_leave_warning();
    }
}

fn model_release(sys: &System, m: &mut Model, p: usize) -> u32 {
    if p == 0 {
        return m.refuse_release(AES5_ERR_NULL_POINTER);
    }
    if !matches!(
        m.state,
        AES5_STATE_READY | AES5_STATE_ACTIVE | AES5_STATE_WARNING | AES5_STATE_ERROR | AES5_STATE_SHUTTING_DOWN
    ) {
        return m.refuse_release(AES5_ERR_INVALID_STATE);
    }
    if !sys.is_header(p) {
        return m.refuse_release(AES5_ERR_FOREIGN_BUFFER);
    }
    if m.quarantined.contains(&p) {
        return m.refuse_release(AES5_ERR_CORRUPTED);
    }
    if m.queued.contains_key(&p) {
        return m.refuse_release(AES5_ERR_BUFFER_QUEUED);
    }
    let pool = pool_of(sys, p);
    let Some(i) = m.pools[pool].held.iter().position(|&h| h == p) else {
        return m.refuse_release(AES5_ERR_DOUBLE_RELEASE);
    };
    m.pools[pool].held.remove(i);
    m.last_queue.remove(&p);
    if m.quarantine_if_damaged(pool, p) {
        return m.refuse_release(AES5_ERR_CORRUPTED);
    }
    m.pools[pool].releases += 1;
    if m.state == AES5_STATE_WARNING {
        m.maybe_leave_warning();
    } else {
        m.complete_shutdown();
    }
    AES5_OK
}

fn model_enqueue(sys: &System, m: &mut Model, queue: u32, p: usize) -> u32 {
    if p == 0 {
        return m.refuse_enqueue(AES5_ERR_NULL_POINTER);
    }
    if !matches!(
        m.state,
        AES5_STATE_READY | AES5_STATE_ACTIVE | AES5_STATE_WARNING | AES5_STATE_ERROR | AES5_STATE_SHUTTING_DOWN
    ) {
        return m.refuse_enqueue(AES5_ERR_INVALID_STATE);
    }
    if queue as usize >= QUEUES {
        return m.refuse_enqueue(AES5_ERR_INVALID_ARGUMENT);
    }
    if !sys.is_header(p) {
        return m.refuse_enqueue(AES5_ERR_FOREIGN_BUFFER);
    }
    if m.quarantined.contains(&p) {
        return m.refuse_enqueue(AES5_ERR_CORRUPTED);
    }
    if m.queued.contains_key(&p) {
        return m.refuse_enqueue(AES5_ERR_BUFFER_QUEUED);
    }
    let pool = pool_of(sys, p);
    let Some(i) = m.pools[pool].held.iter().position(|&h| h == p) else {
        return m.refuse_enqueue(AES5_ERR_DOUBLE_RELEASE);
    };
    if m.damaged.contains(&p) || m.oversized.contains(&p) || m.guard_damaged.contains(&p) {
        m.pools[pool].held.remove(i);
        m.last_queue.remove(&p);
        m.quarantine_if_damaged(pool, p);
        return m.refuse_enqueue(AES5_ERR_CORRUPTED);
    }
    let q = &mut m.queues[queue as usize];
    q.buffers.push_back(p);
    q.enqueued += 1;
    q.peak = q.peak.max(q.buffers.len() as u32);
    m.queued.insert(p, queue as usize);
    m.last_queue.remove(&p);
    AES5_OK
}

impl Model {
    /// A buffer just taken from the held list: quarantined if damaged (true).
    fn quarantine_if_damaged(&mut self, pool: usize, p: usize) -> bool {
        let oversized = self.oversized.remove(&p);
        let header = self.damaged.remove(&p) | oversized;
        let guard = self.guard_damaged.contains(&p);
        if !(header || guard) {
            return false;
        }
        if guard {
            // The guards are checked first: the refusal counts an overrun.
            self.overruns += 1;
        }
        self.quarantined.insert(p);
        self.pools[pool].quarantined += 1;
        self.corruption += 1;
        if matches!(self.state, AES5_STATE_READY | AES5_STATE_ACTIVE | AES5_STATE_WARNING) {
            self.set_state(AES5_STATE_ERROR);
        }
        self.complete_shutdown();
        true
    }
}

fn model_validate(sys: &System, m: &Model, p: usize) -> u32 {
    if p == 0 {
        return AES5_ERR_NULL_POINTER;
    }
    if !sys.is_header(p) {
        return AES5_ERR_FOREIGN_BUFFER;
    }
    if m.quarantined.contains(&p) {
        return AES5_ERR_CORRUPTED;
    }
    if m.queued.contains_key(&p) {
        return AES5_ERR_BUFFER_QUEUED;
    }
    if all_held(m).contains(&p) {
        if m.damaged.contains(&p) || m.oversized.contains(&p) || m.guard_damaged.contains(&p) {
            AES5_ERR_CORRUPTED
        } else {
            AES5_OK
        }
    } else {
        AES5_ERR_DOUBLE_RELEASE
    }
}

fn compare_pool(m: &Model, ty: usize, s: &PoolStatistics) -> Result<(), TestCaseError> {
    prop_assert_eq!(s.buffer_type as usize, ty);
    if ty >= POOLS {
        prop_assert_eq!(*s, PoolStatistics { buffer_type: ty as u32, ..PoolStatistics::default() });
        return Ok(());
    }
    let p = &m.pools[ty];
    let real = (
        s.total_buffers,
        s.allocated_buffers,
        s.peak_allocated,
        s.quarantined_buffers,
        s.buffer_capacity_bytes,
        s.allocation_failures,
        s.total_allocations,
        s.total_releases,
    );
    let model =
        (COUNTS[ty], m.allocated(ty), p.peak, p.quarantined, CAPACITY[ty], p.failures, p.allocations, p.releases);
    prop_assert_eq!(real, model, "pool {} statistics", ty);
    prop_assert!((0.0..=1.0).contains(&s.average_utilization));
    Ok(())
}

/// Compares every deterministic statistic, the metrics and the state with the model.
fn compare(sys: &System, m: &Model) -> Result<(), TestCaseError> {
    let mut st = ManagerStatistics::default();
    let mut state = 0xFFu32;
    let mut metrics = RealtimeMetrics::default();
    // SAFETY: valid handle, live out-parameters.
    unsafe {
        prop_assert_eq!(aes5_buffer_manager_get_statistics(sys.mgr, &mut st), AES5_OK);
        prop_assert_eq!(aes5_buffer_manager_get_state(sys.mgr, &mut state), AES5_OK);
        prop_assert_eq!(aes5_buffer_manager_get_metrics(sys.mgr, &mut metrics), AES5_OK);
    }
    prop_assert_eq!(state, m.state, "state");
    prop_assert_eq!(st.current_state, m.state, "statistics state");
    prop_assert_eq!(st.state_change_count, m.changes, "state changes");
    for ty in 0..6 {
        compare_pool(m, ty, &st.buffer_type_stats[ty])?;
    }
    let successes: u64 = m.pools.iter().map(|p| p.allocations + p.releases).sum();
    let failures: u64 = m.pools.iter().map(|p| p.failures).sum();
    let failed = failures + m.rejected_allocations + m.rejected_releases;
    prop_assert_eq!(
        (
            st.total_operations,
            st.failed_operations,
            st.allocation_failures,
            st.validation_failures,
            st.memory_corruption_count
        ),
        (successes + failed, failed, failures, m.validation_errors, m.corruption),
        "manager counts"
    );
    let held: u32 = (0..POOLS).map(|p| m.allocated(p)).sum();
    prop_assert_eq!(
        (metrics.allocation_count, metrics.release_count, metrics.release_failures, metrics.validation_errors),
        (
            m.pools.iter().map(|p| p.allocations).sum::<u64>(),
            m.pools.iter().map(|p| p.releases).sum::<u64>(),
            m.rejected_releases,
            m.validation_errors
        ),
        "metrics counts"
    );
    prop_assert_eq!((metrics.current_allocated_buffers, metrics.corruption_detected), (held, m.corruption));
    prop_assert_eq!(metrics.hand_off_failures, m.rejected_hand_offs, "refused enqueues");
    prop_assert_eq!(metrics.overruns_detected, m.overruns, "overruns detected");
    for (q, model) in m.queues.iter().enumerate() {
        let mut s = QueueStatistics::default();
        // SAFETY: valid handle, live out-parameter.
        prop_assert_eq!(unsafe { aes5_buffer_manager_get_queue_statistics(sys.mgr, q as u32, &mut s) }, AES5_OK);
        prop_assert_eq!(
            (s.length, s.peak_length, s.total_enqueued, s.total_dequeued),
            (model.buffers.len() as u32, model.peak, model.enqueued, model.dequeued),
            "queue {} statistics",
            q
        );
    }
    Ok(())
}

fn run(ops: &[Op], monitoring: bool) -> Result<(), TestCaseError> {
    let mut sys = System::new(discover_headers(), monitoring);
    let mut model = Model::new();
    compare(&sys, &model)?;
    for (i, &op) in ops.iter().enumerate() {
        let before = sys.last_refusal().number;
        sys.answered = None;
        step(&mut sys, &mut model, op).map_err(|e| TestCaseError::fail(format!("step {i} {op:?}: {e}")))?;
        // A burst checks each of its allocations itself, and an init starts the count again.
        if !matches!(op, Op::Burst { .. } | Op::Init { .. }) {
            check_refusal_record(&sys, before)
                .map_err(|e| TestCaseError::fail(format!("record after step {i} {op:?}: {e}")))?;
        }
        compare(&sys, &model).map_err(|e| TestCaseError::fail(format!("after step {i} {op:?}: {e}")))?;
    }
    Ok(())
}

fn config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/c_api_model.txt"))),
        max_shrink_iters: 4096,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Random call sequences: the library agrees with the model after every step.
    #[test]
    fn the_c_abi_matches_the_model(ops in proptest::collection::vec(op(), 1..120), monitoring in any::<bool>()) {
        run(&ops, monitoring)?;
    }
}

/// Sequences that once disagreed with the model (each was a real difference; kept so that
/// they are replayed exactly, whatever the random seed).
#[test]
fn regression_sequences() {
    let tiny = AudioFormat::pcm(48_000, 1, 16, 1);
    let cases: Vec<Vec<Op>> = vec![
        // Exhaust the Scratch pool, free one, and release a pointer inside a header.
        vec![
            Op::Allocate { handle: Handle::Valid, ty: 2, format: Some(tiny), null_out: false },
            Op::Allocate { handle: Handle::Valid, ty: 2, format: Some(tiny), null_out: false },
            Op::Allocate { handle: Handle::Valid, ty: 2, format: Some(tiny), null_out: false },
            Op::Release { handle: Handle::Valid, target: Target::InsideHeader(0, 8) },
            Op::Release { handle: Handle::Valid, target: Target::Held(0) },
            Op::Release { handle: Handle::Valid, target: Target::Seen(0) },
        ],
        // Damage, quarantine, recover, shut down, re-initialise.
        vec![
            Op::Allocate { handle: Handle::Valid, ty: 0, format: Some(tiny), null_out: false },
            Op::Damage { held: 0, damage: Damage::DataSizeTooLarge(3) },
            Op::Validate { handle: Handle::Valid, target: Target::Held(0) },
            Op::Release { handle: Handle::Valid, target: Target::Held(0) },
            Op::Release { handle: Handle::Valid, target: Target::Seen(0) },
            Op::Transition { handle: Handle::Valid, to: AES5_STATE_READY },
            Op::Shutdown { handle: Handle::Valid },
            Op::Release { handle: Handle::Valid, target: Target::Seen(0) },
            Op::Init { checked_size_ok: true, null_config: false },
            Op::Allocate { handle: Handle::Valid, ty: 0, format: Some(tiny), null_out: false },
        ],
    ];
    for (i, ops) in cases.iter().enumerate() {
        for monitoring in [false, true] {
            if let Err(e) = run(ops, monitoring) {
                panic!("regression sequence {i} (monitoring {monitoring}): {e}");
            }
        }
    }
}
