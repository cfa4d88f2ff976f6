//! The pools measured side by side: this library (C ABI and Rust API, monitoring off and on)
//! and what a user would pick instead. Every contender holds `BUFFERS` buffers of
//! `PAYLOAD_BYTES` bytes, and none of them touches the payload: the peers store a
//! `MaybeUninit` array. Moving it into a pool should write nothing, but `heapless`'s
//! `BoxPool::alloc` compiles to a 2048-byte copy on x86-64, so `heapless`'s object pool
//! (nothing moved in) is measured beside it.
//!
//! The hand-off contenders pass one buffer through a queue and back: this library's hand-off
//! queue (with its custody checks) against `heapless::mpmc` and `crossbeam_queue::ArrayQueue`
//! carrying a pointer.

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::ptr::{self, NonNull};
use std::hint::black_box;
use std::sync::Once;

use aes5_buffer_manager::c_api::{
    aes5_buffer_manager_allocate, aes5_buffer_manager_dequeue, aes5_buffer_manager_enqueue,
    aes5_buffer_manager_get_metrics, aes5_buffer_manager_get_performance_report, aes5_buffer_manager_get_statistics,
    aes5_buffer_manager_init, aes5_buffer_manager_release, aes5_runtime_config_default,
};
use aes5_buffer_manager::{
    Aes5ClockFn, AudioBuffer, AudioFormat, Buffer, BufferManager, BufferManagerStorage, BufferType, Manager,
    ManagerStatistics, PerformanceReport, RealtimeMetrics, RuntimeConfig, AES5_BUFFER_TYPE_PRIMARY, AES5_OK,
    AES5_PRIMARY_BUFFER_BYTES, AES5_PRIMARY_BUFFER_COUNT,
};

/// Bytes of payload every contender's buffer holds (this library's Primary buffers).
pub const PAYLOAD_BYTES: usize = 2048;
/// Buffers in every pool (this library's Primary pool).
pub const BUFFERS: usize = 8;

const _: () =
    assert!(AES5_PRIMARY_BUFFER_BYTES as usize == PAYLOAD_BYTES && AES5_PRIMARY_BUFFER_COUNT as usize == BUFFERS);

/// What the peers store: 2048 bytes, left uninitialised.
pub type Payload = MaybeUninit<[u8; PAYLOAD_BYTES]>;

/// 48 kHz stereo, 32-bit integer samples, 256 frames: exactly 2048 bytes.
pub const FORMAT: AudioFormat = AudioFormat::pcm(48_000, 2, 32, 256);

/// A pool of fixed-size buffers that can be shared between threads.
pub trait Pool: Sync {
    /// A held buffer.
    type Handle<'a>
    where
        Self: 'a;
    /// Takes a buffer; a failure aborts the run (every pool is sized so that it cannot fail).
    fn allocate(&self) -> Self::Handle<'_>;
    /// Gives `handle` back.
    fn release(&self, handle: Self::Handle<'_>);
}

#[cold]
#[inline(never)]
fn exhausted(pool: &str) -> ! {
    eprintln!("benchmark: {pool} refused an allocation; the measurement would be wrong");
    std::process::abort()
}

/// This library through its C ABI (`aes5_buffer_manager_allocate` / `_release`).
pub struct OursFfi {
    manager: *mut BufferManager,
}

// SAFETY: the C ABI is documented as callable concurrently from any thread; the handle is
// only passed to it.
unsafe impl Sync for OursFfi {}

impl OursFfi {
    /// A manager in leaked storage, validation on, monitoring as given, with the default
    /// clock (the host's monotonic clock).
    pub fn new(monitoring: bool) -> Self {
        Self::with_config(monitoring, true, None)
    }

    /// A manager in leaked storage with monitoring and memory validation as given, reading
    /// `clock` (`None`: the default clock).
    pub fn with_config(monitoring: bool, validation: bool, clock: Aes5ClockFn) -> Self {
        let storage: &'static mut BufferManagerStorage = Box::leak(Box::new(BufferManagerStorage::new()));
        let mut config = MaybeUninit::<RuntimeConfig>::uninit();
        let mut manager = ptr::null_mut();
        // SAFETY: `config` is writable; the default fill initialises every field.
        let status = unsafe { aes5_runtime_config_default(config.as_mut_ptr()) };
        assert_eq!(status, AES5_OK);
        // SAFETY: written by aes5_runtime_config_default above.
        let mut config = unsafe { config.assume_init() };
        config.enable_performance_monitoring = u8::from(monitoring);
        config.enable_memory_validation = u8::from(validation);
        config.now_ns = clock;
        // SAFETY: the storage is zeroed, aligned, leaked (lives for the process) and not
        // shared with any other call; the other pointers point to live locals.
        let status = unsafe { aes5_buffer_manager_init(storage, &config, &mut manager) };
        assert_eq!(status, AES5_OK);
        OursFfi { manager }
    }

    /// `aes5_buffer_manager_get_statistics`.
    #[inline]
    pub fn statistics(&self) -> ManagerStatistics {
        let mut out = MaybeUninit::uninit();
        // SAFETY: the handle came from init and its storage is leaked; `out` is writable.
        let status = unsafe { aes5_buffer_manager_get_statistics(self.manager, out.as_mut_ptr()) };
        if status != AES5_OK {
            exhausted("get_statistics");
        }
        // SAFETY: written on AES5_OK.
        unsafe { out.assume_init() }
    }

    /// `aes5_buffer_manager_get_metrics`.
    #[inline]
    pub fn metrics(&self) -> RealtimeMetrics {
        let mut out = MaybeUninit::uninit();
        // SAFETY: as in `statistics`.
        let status = unsafe { aes5_buffer_manager_get_metrics(self.manager, out.as_mut_ptr()) };
        if status != AES5_OK {
            exhausted("get_metrics");
        }
        // SAFETY: written on AES5_OK.
        unsafe { out.assume_init() }
    }

    /// `aes5_buffer_manager_get_performance_report` over the whole history.
    #[inline]
    pub fn performance_report(&self) -> PerformanceReport {
        let mut out = MaybeUninit::uninit();
        // SAFETY: as in `statistics`.
        let status = unsafe { aes5_buffer_manager_get_performance_report(self.manager, 0, out.as_mut_ptr()) };
        if status != AES5_OK {
            exhausted("get_performance_report");
        }
        // SAFETY: written on AES5_OK.
        unsafe { out.assume_init() }
    }
}

impl Pool for OursFfi {
    type Handle<'a> = NonNull<AudioBuffer>;

    #[inline]
    fn allocate(&self) -> NonNull<AudioBuffer> {
        let mut out = ptr::null_mut();
        // SAFETY: the handle came from init and its storage is leaked; FORMAT and `out` are
        // live.
        let status = unsafe { aes5_buffer_manager_allocate(self.manager, AES5_BUFFER_TYPE_PRIMARY, &FORMAT, &mut out) };
        match NonNull::new(out) {
            Some(buffer) if status == AES5_OK => buffer,
            _ => exhausted("aes5 (C ABI)"),
        }
    }

    #[inline]
    fn release(&self, handle: NonNull<AudioBuffer>) {
        // SAFETY: `handle` was allocated from this manager and is released once.
        let status = unsafe { aes5_buffer_manager_release(self.manager, handle.as_ptr()) };
        if status != AES5_OK {
            exhausted("aes5 (C ABI) release");
        }
    }
}

/// This library through its safe Rust API (`Manager::allocate`, RAII `Buffer`).
pub struct OursRust {
    manager: Manager<'static>,
}

impl OursRust {
    /// A manager in leaked storage, validation on, monitoring as given.
    pub fn new(monitoring: bool) -> Self {
        let storage: &'static mut BufferManagerStorage = Box::leak(Box::new(BufferManagerStorage::new()));
        let config = RuntimeConfig {
            enable_performance_monitoring: u8::from(monitoring),
            enable_memory_validation: 1,
            ..RuntimeConfig::default()
        };
        let manager = Manager::new(storage, Some(&config)).unwrap_or_else(|_| exhausted("aes5 (Rust) init"));
        OursRust { manager }
    }
}

impl Pool for OursRust {
    type Handle<'a> = Buffer<'a>;

    #[inline]
    fn allocate(&self) -> Buffer<'_> {
        match self.manager.allocate(BufferType::Primary, &FORMAT) {
            Ok(buffer) => buffer,
            Err(_) => exhausted("aes5 (Rust API)"),
        }
    }

    #[inline]
    fn release(&self, handle: Buffer<'_>) {
        drop(handle);
    }
}

/// atomic-pool's pool of `BUFFERS` payloads (its macro trips a clippy lint in its own code).
#[allow(clippy::manual_div_ceil)]
mod atomic_pool_buffers {
    use super::{Payload, BUFFERS};
    atomic_pool::pool!(pub AtomicPoolBuffers: [Payload; BUFFERS]);
}
use atomic_pool_buffers::AtomicPoolBuffers;

/// `atomic-pool`: a static pool with a `Box` (bitset of used slots).
pub struct AtomicPool;

impl Pool for AtomicPool {
    type Handle<'a> = atomic_pool::Box<AtomicPoolBuffers>;

    #[inline]
    fn allocate(&self) -> atomic_pool::Box<AtomicPoolBuffers> {
        atomic_pool::Box::<AtomicPoolBuffers>::new(MaybeUninit::uninit()).unwrap_or_else(|| exhausted("atomic-pool"))
    }

    #[inline]
    fn release(&self, handle: atomic_pool::Box<AtomicPoolBuffers>) {
        drop(handle);
    }
}

heapless::box_pool!(HeaplessBuffers: Payload);

/// `heapless::pool::boxed`: a lock-free Treiber stack of static blocks.
pub struct HeaplessPool;

impl HeaplessPool {
    /// Gives the pool its `BUFFERS` blocks (once per process).
    pub fn new() -> Self {
        static BLOCKS_GIVEN: Once = Once::new();
        BLOCKS_GIVEN.call_once(|| {
            static mut BLOCKS: [heapless::pool::boxed::BoxBlock<Payload>; BUFFERS] =
                [const { heapless::pool::boxed::BoxBlock::new() }; BUFFERS];
            // SAFETY: runs once per process (Once), so this is the only reference ever made
            // to BLOCKS; the blocks are handed to the pool for the rest of the process.
            let blocks = unsafe { &mut *ptr::addr_of_mut!(BLOCKS) };
            for block in blocks.iter_mut() {
                HeaplessBuffers.manage(block);
            }
        });
        HeaplessPool
    }
}

impl Pool for HeaplessPool {
    type Handle<'a> = heapless::pool::boxed::Box<HeaplessBuffers>;

    #[inline]
    fn allocate(&self) -> heapless::pool::boxed::Box<HeaplessBuffers> {
        match HeaplessBuffers.alloc(MaybeUninit::uninit()) {
            Ok(boxed) => boxed,
            Err(_) => exhausted("heapless::pool"),
        }
    }

    #[inline]
    fn release(&self, handle: heapless::pool::boxed::Box<HeaplessBuffers>) {
        drop(handle);
    }
}

heapless::object_pool!(HeaplessObjects: Payload);

/// `heapless::pool::object`: the same Treiber stack, handing out objects that stay in their
/// blocks (`BoxPool::alloc` moves a value in, which the compiler may turn into a copy of
/// the 2048 bytes even when the value is uninitialised; `request` moves nothing).
pub struct HeaplessObjectPool;

impl HeaplessObjectPool {
    /// Gives the pool its `BUFFERS` blocks (once per process).
    pub fn new() -> Self {
        static BLOCKS_GIVEN: Once = Once::new();
        BLOCKS_GIVEN.call_once(|| {
            static mut BLOCKS: [heapless::pool::object::ObjectBlock<Payload>; BUFFERS] =
                [const { heapless::pool::object::ObjectBlock::new(MaybeUninit::uninit()) }; BUFFERS];
            // SAFETY: runs once per process (Once), so this is the only reference ever made
            // to BLOCKS; the blocks are handed to the pool for the rest of the process.
            let blocks = unsafe { &mut *ptr::addr_of_mut!(BLOCKS) };
            for block in blocks.iter_mut() {
                HeaplessObjects.manage(block);
            }
        });
        HeaplessObjectPool
    }
}

impl Pool for HeaplessObjectPool {
    type Handle<'a> = heapless::pool::object::Object<HeaplessObjects>;

    #[inline]
    fn allocate(&self) -> heapless::pool::object::Object<HeaplessObjects> {
        HeaplessObjects.request().unwrap_or_else(|| exhausted("heapless::pool object pool"))
    }

    #[inline]
    fn release(&self, handle: heapless::pool::object::Object<HeaplessObjects>) {
        drop(handle);
    }
}

/// glibc `malloc` + `free` of `PAYLOAD_BYTES`.
pub struct Malloc;

impl Pool for Malloc {
    type Handle<'a> = NonNull<c_void>;

    #[inline]
    fn allocate(&self) -> NonNull<c_void> {
        // SAFETY: malloc has no preconditions.
        NonNull::new(unsafe { libc::malloc(PAYLOAD_BYTES) }).unwrap_or_else(|| exhausted("malloc"))
    }

    #[inline]
    fn release(&self, handle: NonNull<c_void>) {
        // SAFETY: `handle` came from malloc and is freed once.
        unsafe { libc::free(handle.as_ptr()) };
    }
}

/// A free list of slot indices behind a `spin::Mutex`: what a firmware without a lock-free
/// pool writes by hand.
pub struct SpinFreeList {
    free: spin::Mutex<FreeStack>,
    data: Box<[UnsafeCell<Payload>]>,
}

struct FreeStack {
    slots: [u8; BUFFERS],
    len: usize,
}

// SAFETY: a payload slot is reachable only through the handle of the one caller that popped
// its index under the lock.
unsafe impl Sync for SpinFreeList {}

impl SpinFreeList {
    /// Every slot free.
    pub fn new() -> Self {
        let mut slots = [0u8; BUFFERS];
        for (i, slot) in slots.iter_mut().enumerate() {
            *slot = i as u8;
        }
        let data = (0..BUFFERS).map(|_| UnsafeCell::new(MaybeUninit::uninit())).collect();
        SpinFreeList { free: spin::Mutex::new(FreeStack { slots, len: BUFFERS }), data }
    }
}

impl Pool for SpinFreeList {
    type Handle<'a> = NonNull<Payload>;

    #[inline]
    fn allocate(&self) -> NonNull<Payload> {
        let index = {
            let mut free = self.free.lock();
            if free.len == 0 {
                drop(free);
                exhausted("spin::Mutex free list");
            }
            free.len -= 1;
            usize::from(free.slots[free.len])
        };
        match self.data.get(index) {
            Some(cell) => NonNull::from(cell).cast(),
            None => exhausted("spin::Mutex free list"),
        }
    }

    #[inline]
    fn release(&self, handle: NonNull<Payload>) {
        let base = self.data.as_ptr() as usize;
        let index = (handle.as_ptr() as usize - base) / core::mem::size_of::<UnsafeCell<Payload>>();
        let mut free = self.free.lock();
        let len = free.len;
        free.slots[len] = index as u8;
        free.len = len + 1;
    }
}

/// A hand-off between two pipeline stages, measured as one enqueue of a buffer and its
/// dequeue on one thread (the cost each side pays; the suite measures it on one thread only).
pub trait HandOff: Sync {
    /// Enqueues one buffer and dequeues it again; a failure aborts the run.
    fn pass(&self);
}

/// This library's hand-off queue 0 through the C ABI, passing one held Primary buffer: the
/// custody checks of enqueue (pointer proof, header check, the compare-and-swap out of the
/// holder's hands) and dequeue (the claim, back into a holder's hands) included.
pub struct OursQueue {
    manager: *mut BufferManager,
    buffer: *mut AudioBuffer,
}

// SAFETY: used from one thread at a time (the suite's single-thread rounds and criterion); the
// C ABI is thread-safe, and the one buffer is the caller's between passes.
unsafe impl Sync for OursQueue {}

impl OursQueue {
    /// A manager of its own, monitoring off, validation on, holding one buffer to pass.
    pub fn new() -> Self {
        let pool = OursFfi::new(false);
        let mut buffer = ptr::null_mut();
        // SAFETY: a live manager and a local out-parameter.
        let status =
            unsafe { aes5_buffer_manager_allocate(pool.manager, AES5_BUFFER_TYPE_PRIMARY, &FORMAT, &mut buffer) };
        if status != AES5_OK {
            exhausted("aes5 hand-off queue");
        }
        OursQueue { manager: pool.manager, buffer }
    }
}

impl HandOff for OursQueue {
    #[inline]
    fn pass(&self) {
        let mut out = ptr::null_mut();
        // SAFETY: the buffer is held by this contender between passes; the manager is live.
        let ok = unsafe {
            aes5_buffer_manager_enqueue(self.manager, 0, self.buffer) == AES5_OK
                && aes5_buffer_manager_dequeue(self.manager, 0, &mut out) == AES5_OK
        };
        if !ok || black_box(out) != self.buffer {
            exhausted("aes5 hand-off queue");
        }
    }
}

/// `heapless::mpmc::Queue` of buffer pointers (Vyukov's bounded queue), 16 cells as ours:
/// what a user passes between stages instead, with no ownership checks.
pub struct HeaplessMpmc {
    queue: heapless::mpmc::Queue<usize, 16>,
    item: usize,
}

impl HeaplessMpmc {
    // heapless 0.9 deprecates its `mpmc` queue (issue #583: a thread preempted inside an
    // enqueue or dequeue can leave the others refused); it is still the queue users compare
    // with, and the suite runs it on one thread.
    #[allow(deprecated)]
    pub fn new() -> Self {
        HeaplessMpmc { queue: heapless::mpmc::Queue::new(), item: 0x1000 }
    }
}

impl HandOff for HeaplessMpmc {
    #[inline]
    fn pass(&self) {
        if self.queue.enqueue(black_box(self.item)).is_err() || self.queue.dequeue() != Some(self.item) {
            exhausted("heapless mpmc");
        }
    }
}

/// `crossbeam_queue::ArrayQueue` of buffer pointers, 16 slots: the bounded lock-free queue of
/// hosted Rust, also with no ownership checks.
pub struct CrossbeamArrayQueue {
    queue: crossbeam_queue::ArrayQueue<usize>,
    item: usize,
}

impl CrossbeamArrayQueue {
    pub fn new() -> Self {
        CrossbeamArrayQueue { queue: crossbeam_queue::ArrayQueue::new(16), item: 0x1000 }
    }
}

impl HandOff for CrossbeamArrayQueue {
    #[inline]
    fn pass(&self) {
        if self.queue.push(black_box(self.item)).is_err() || self.queue.pop() != Some(self.item) {
            exhausted("crossbeam ArrayQueue");
        }
    }
}
