//! Benchmark firmware for Cortex-M4F under QEMU (`mps2-an386`): instructions per allocate and
//! per release of this library (C ABI and Rust API; validation on, monitoring off, and the C
//! ABI with monitoring on and a cycle-counter-like clock),
//! `heapless::pool` (BoxPool and ObjectPool) and `atomic-pool`, each holding 8 buffers of 2048
//! bytes.
//!
//! Each contender runs `BATCHES` batches of 4 allocations then 4 releases, and calls
//! `insn_mark` before the allocations, between the halves and after the releases. Run with the
//! TCG plugin `cortex-m/qemu-plugin/insn_count_plugin.c` in its mark mode
//! (`scripts/bench-rust-firmware.sh`), QEMU prints the exact number of instructions executed
//! at every mark, so each half is counted exactly. The same loop around empty (non-inlined)
//! functions is the baseline, so the net figures are the instructions of one operation beyond
//! a function call. The firmware prints the order, ids and labels of the contenders over
//! semihosting; the script matches the marks to them.
#![no_std]
#![no_main]

use core::ffi::c_void;
use core::hint::black_box;
use core::mem::MaybeUninit;
use core::ptr::{self, NonNull};

use aes5_buffer_manager::c_api::{aes5_buffer_manager_allocate, aes5_buffer_manager_init, aes5_buffer_manager_release};
use aes5_buffer_manager::{
    AudioBuffer, AudioFormat, Buffer, BufferManager, BufferManagerStorage, BufferType, Manager, RuntimeConfig,
    AES5_BUFFER_TYPE_PRIMARY, AES5_OK,
};
use cortex_m::peripheral::{syst::SystClkSource, SYST};
use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::{debug, hprintln};

/// Batches of `HELD` allocations followed by `HELD` releases, per contender.
const BATCHES: u32 = 2000;
/// Buffers held at once: half of every pool's 8, below this library's 90 % Warning threshold
/// (a fuller pool would also measure the state machine's Active -> Warning -> Active).
const HELD: usize = 4;
/// Buffers in every pool.
const POOL_BUFFERS: usize = 8;
/// 48 kHz stereo, 32-bit samples, 256 frames: 2048 bytes.
const FORMAT: AudioFormat = AudioFormat::pcm(48_000, 2, 32, 256);

/// What the peers store: 2048 bytes, left uninitialised (nothing is copied in).
type Payload = MaybeUninit<[u8; 2048]>;

/// A pool measured by the firmware. The methods are never inlined into the measuring loop, as
/// for a C caller of a library.
trait Pool {
    type Handle<'a>
    where
        Self: 'a;
    fn allocate(&self) -> Self::Handle<'_>;
    fn release(&self, handle: Self::Handle<'_>);
}

/// Stops the run with a distinct exit code (QEMU exits with it).
fn fail(code: i32) -> ! {
    hprintln!("FAIL {}", code);
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}

/// The baseline: a call that does nothing.
struct Empty;

impl Pool for Empty {
    type Handle<'a> = NonNull<u8>;
    #[inline(never)]
    fn allocate(&self) -> NonNull<u8> {
        black_box(NonNull::dangling())
    }
    #[inline(never)]
    fn release(&self, handle: NonNull<u8>) {
        black_box(handle);
    }
}

/// This library through the C ABI.
struct OursFfi {
    manager: *mut BufferManager,
}

impl Pool for OursFfi {
    type Handle<'a> = NonNull<AudioBuffer>;
    #[inline(never)]
    fn allocate(&self) -> NonNull<AudioBuffer> {
        let mut out = ptr::null_mut();
        // SAFETY: the manager came from init over a static storage; FORMAT and `out` are live.
        let status = unsafe { aes5_buffer_manager_allocate(self.manager, AES5_BUFFER_TYPE_PRIMARY, &FORMAT, &mut out) };
        match NonNull::new(out) {
            Some(buffer) if status == AES5_OK => buffer,
            _ => fail(2),
        }
    }
    #[inline(never)]
    fn release(&self, handle: NonNull<AudioBuffer>) {
        // SAFETY: `handle` came from this manager and is released once.
        let status = unsafe { aes5_buffer_manager_release(self.manager, handle.as_ptr()) };
        if status != AES5_OK {
            fail(3);
        }
    }
}

/// A cycle-counter clock for monitoring, as a firmware would pass in `now_ns` (DWT CYCCNT,
/// which QEMU does not emulate, is read the same way: one load). Here: SysTick's count,
/// turned upwards.
///
/// # Safety
/// Callable from any context; `context` is ignored.
unsafe extern "C" fn systick_clock(_context: *mut c_void) -> u64 {
    u64::from(0x00FF_FFFF - SYST::get_current())
}

/// The configuration measured: validation on, monitoring as given (with `systick_clock`).
fn config(monitoring: bool) -> RuntimeConfig {
    RuntimeConfig {
        enable_performance_monitoring: u8::from(monitoring),
        enable_memory_validation: 1,
        now_ns: if monitoring { Some(systick_clock) } else { None },
        ..RuntimeConfig::default()
    }
}

/// Initialises a C ABI manager in `storage`.
///
/// # Safety
/// `storage` must be a zeroed storage that lives forever and that nothing else uses.
unsafe fn init_manager(storage: *mut BufferManagerStorage, monitoring: bool) -> OursFfi {
    let mut manager = ptr::null_mut();
    // SAFETY: the caller's contract for `storage`; the configuration and `manager` are live
    // locals.
    let status = unsafe { aes5_buffer_manager_init(storage, &config(monitoring), &mut manager) };
    if status != AES5_OK {
        fail(7);
    }
    OursFfi { manager }
}

/// This library through the Rust API.
struct OursRust(Manager<'static>);

impl Pool for OursRust {
    type Handle<'a> = Buffer<'a>;
    #[inline(never)]
    fn allocate(&self) -> Buffer<'_> {
        match self.0.allocate(BufferType::Primary, &FORMAT) {
            Ok(buffer) => buffer,
            Err(_) => fail(4),
        }
    }
    #[inline(never)]
    fn release(&self, handle: Buffer<'_>) {
        drop(handle);
    }
}

heapless::box_pool!(HeaplessBuffers: Payload);

/// `heapless::pool::boxed` (LDREX/STREX Treiber stack).
struct Heapless;

impl Pool for Heapless {
    type Handle<'a> = heapless::pool::boxed::Box<HeaplessBuffers>;
    #[inline(never)]
    fn allocate(&self) -> heapless::pool::boxed::Box<HeaplessBuffers> {
        match HeaplessBuffers.alloc(MaybeUninit::uninit()) {
            Ok(boxed) => boxed,
            Err(_) => fail(5),
        }
    }
    #[inline(never)]
    fn release(&self, handle: heapless::pool::boxed::Box<HeaplessBuffers>) {
        drop(handle);
    }
}

heapless::object_pool!(HeaplessObjects: Payload);

/// `heapless::pool::object` (the same stack; `request` moves no value into the block).
struct HeaplessObjectPool;

impl Pool for HeaplessObjectPool {
    type Handle<'a> = heapless::pool::object::Object<HeaplessObjects>;
    #[inline(never)]
    fn allocate(&self) -> heapless::pool::object::Object<HeaplessObjects> {
        HeaplessObjects.request().unwrap_or_else(|| fail(9))
    }
    #[inline(never)]
    fn release(&self, handle: heapless::pool::object::Object<HeaplessObjects>) {
        drop(handle);
    }
}

/// atomic-pool's pool of 8 payloads (its macro trips a clippy lint in its own code).
#[allow(clippy::manual_div_ceil)]
mod atomic_pool_buffers {
    use super::Payload;
    atomic_pool::pool!(pub AtomicPoolBuffers: [Payload; 8]);
}
use atomic_pool_buffers::AtomicPoolBuffers;

/// `atomic-pool` (bitset of used slots).
struct AtomicPool;

impl Pool for AtomicPool {
    type Handle<'a> = atomic_pool::Box<AtomicPoolBuffers>;
    #[inline(never)]
    fn allocate(&self) -> atomic_pool::Box<AtomicPoolBuffers> {
        atomic_pool::Box::<AtomicPoolBuffers>::new(MaybeUninit::uninit()).unwrap_or_else(|| fail(6))
    }
    #[inline(never)]
    fn release(&self, handle: atomic_pool::Box<AtomicPoolBuffers>) {
        drop(handle);
    }
}

/// What the report calls the C ABI with monitoring off, the contender every other is compared with.
const C_ABI_LABEL: &str = "aes5 C ABI (validation on, monitoring off)";

/// Where the plugin reads its count: called between the measured parts (never inlined, never
/// merged with another function).
#[inline(never)]
#[no_mangle]
pub extern "C" fn insn_mark() {
    black_box(());
}

/// Runs the batches of `pool` with a mark before, between and after the halves of each.
#[inline(never)]
fn measure<P: Pool>(pool: &P) {
    for _ in 0..BATCHES {
        let mut held: [Option<P::Handle<'_>>; HELD] = [const { None }; HELD];
        insn_mark();
        for slot in held.iter_mut() {
            *slot = Some(pool.allocate());
        }
        insn_mark();
        for slot in held.iter_mut() {
            if let Some(handle) = slot.take() {
                pool.release(handle);
            }
        }
        insn_mark();
    }
}

/// Measures `pool` and names it for the script that matches the marks: its id, then the label
/// the report gives it (the rest of the line).
fn report<P: Pool>(id: &str, label: &str, pool: &P) {
    measure(pool);
    hprintln!("MEASURED {} {} {} {}", id, BATCHES, HELD, label);
}

#[entry]
fn main() -> ! {
    if cfg!(feature = "panic-check") {
        // black_box: the compiler must not see that this always panics.
        let held: [u8; 2] = black_box([1, 2]);
        let index = black_box(2usize);
        hprintln!("indexing out of bounds on purpose: {}", held[index]);
    }
    let Some(mut peripherals) = cortex_m::Peripherals::take() else { fail(1) };
    peripherals.SYST.set_clock_source(SystClkSource::Core);
    peripherals.SYST.set_reload(0x00FF_FFFF);
    peripherals.SYST.clear_current();
    peripherals.SYST.enable_counter();

    static mut FFI_STORAGE: BufferManagerStorage = BufferManagerStorage::new();
    static mut RUST_STORAGE: BufferManagerStorage = BufferManagerStorage::new();
    static mut MONITORED_STORAGE: BufferManagerStorage = BufferManagerStorage::new();
    static mut HEAPLESS_OBJECTS: [heapless::pool::object::ObjectBlock<Payload>; POOL_BUFFERS] =
        [const { heapless::pool::object::ObjectBlock::new(MaybeUninit::uninit()) }; POOL_BUFFERS];
    static mut HEAPLESS_BLOCKS: [heapless::pool::boxed::BoxBlock<Payload>; POOL_BUFFERS] =
        [const { heapless::pool::boxed::BoxBlock::new() }; POOL_BUFFERS];

    // SAFETY: `entry` runs once, so nothing else uses these statics; the storages are zeroed
    // and live forever.
    let ours_ffi = unsafe { init_manager(ptr::addr_of_mut!(FFI_STORAGE), false) };
    // SAFETY: as above.
    let ours_monitored = unsafe { init_manager(ptr::addr_of_mut!(MONITORED_STORAGE), true) };
    // SAFETY: as above; this is the only reference to RUST_STORAGE.
    let rust_storage = unsafe { &mut *ptr::addr_of_mut!(RUST_STORAGE) };
    let Ok(rust_manager) = Manager::new(rust_storage, Some(&config(false))) else { fail(8) };
    // SAFETY: as above; the blocks are handed to the pool for good.
    let blocks = unsafe { &mut *ptr::addr_of_mut!(HEAPLESS_BLOCKS) };
    for block in blocks.iter_mut() {
        HeaplessBuffers.manage(block);
    }
    // SAFETY: as above.
    let objects = unsafe { &mut *ptr::addr_of_mut!(HEAPLESS_OBJECTS) };
    for object in objects.iter_mut() {
        HeaplessObjects.manage(object);
    }
    let ours_rust = OursRust(rust_manager);

    // One pair each first: the first allocation moves a manager from Ready to Active.
    ours_ffi.release(ours_ffi.allocate());
    if cfg!(feature = "breakdown") {
        // Only the C ABI with monitoring off, for per-function instruction counts.
        report("aes5_c_abi", C_ABI_LABEL, &ours_ffi);
    } else {
        // The contenders, in the order of the report's table ("empty" is the baseline the
        // net figures subtract, not a row of it).
        ours_monitored.release(ours_monitored.allocate());
        ours_rust.release(ours_rust.allocate());
        report("empty", "baseline: empty functions", &Empty);
        report("aes5_c_abi", C_ABI_LABEL, &ours_ffi);
        report("aes5_c_abi_monitored", "aes5 C ABI, monitoring on (cycle-counter clock callback)", &ours_monitored);
        report("aes5_rust_api", "aes5 Rust API (validation on, monitoring off)", &ours_rust);
        report("heapless_pool", "heapless::pool BoxPool", &Heapless);
        report("heapless_object_pool", "heapless::pool ObjectPool", &HeaplessObjectPool);
        report("atomic_pool", "atomic-pool Box", &AtomicPool);
    }
    debug::exit(debug::EXIT_SUCCESS);
    #[allow(clippy::empty_loop)]
    loop {}
}

// The firmware's own panic handler: the library is linked with default features off, so it
// brings none (a second one would be a duplicate `panic_impl`), and no weak `aes5_panic_hook`
// either, which a strong definition would collide with inside the single LTO module ("symbol
// already defined").
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("firmware panic handler ran");
    fail(98)
}

/// A firmware-defined `aes5_panic_hook`, as a C firmware would write it: with the library's
/// panic handler off nothing calls it, and nothing else defines it.
#[no_mangle]
pub extern "C" fn aes5_panic_hook() -> ! {
    fail(97)
}

#[exception]
unsafe fn HardFault(_frame: &ExceptionFrame) -> ! {
    fail(99)
}
