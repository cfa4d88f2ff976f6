//! Benchmarks of this library against the pools a user would pick instead, side by side in
//! one process.
//!
//! `cargo bench --bench pools` runs two parts:
//!
//! 1. criterion benchmarks (groups `pair`, `hand_off` and `stats_read`), one contender after
//!    the other, with criterion's own statistics (`target/criterion/`);
//! 2. the interleaved suite behind `BENCHMARKS.md`: every measurement round runs every
//!    contender once, in a rotating order, so a disturbance of the machine (another build)
//!    hits all of them alike. It measures allocate+release pairs on one thread and on two
//!    threads contending on one pool, the latency distribution of single allocates and
//!    releases, enqueue+dequeue hand-offs on one thread against other bounded queues, and the
//!    cost of each statistics read, and writes the raw figures as JSON to
//!    `$AES5_BENCH_OUT` (default `target/aes5-bench/results.json`).
//!
//! Both parts take their contenders from one table, [`suite::contenders`], and their
//! statistics reads from another, [`suite::reads`]; the JSON carries each one's id, label and
//! side, from which `scripts/bench-report.py` builds its tables.
//!
//! `scripts/bench.sh` runs this and renders `BENCHMARKS.md` and `docs/latency.png`.
//! `AES5_BENCH_CPU` picks the CPU of the single-thread parts (default 0).
//! `AES5_BENCH_SOURCE` names the source revision in the JSON (`scripts/bench.sh` sets it).
//! `AES5_BENCH_QUICK=1` shortens the interleaved suite (for a smoke run);
//! `AES5_BENCH_CRITERION=0` or `AES5_BENCH_SUITE=0` skips one of the two parts.

mod contenders;
mod suite;
mod timer;

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;

use contenders::{
    AtomicPool, CrossbeamArrayQueue, HeaplessMpmc, HeaplessObjectPool, HeaplessPool, Malloc, OursFfi, OursQueue,
    OursRust, Pool, SpinFreeList,
};

/// One allocate+release pair; the handle escapes through `black_box` so nothing is elided.
#[inline(always)]
pub fn pair<P: Pool>(pool: &P) {
    let handle = black_box(pool.allocate());
    pool.release(handle);
}

/// The pools of every contender, each of 8 buffers of 2048 bytes, created once per process
/// (`suite::contenders` names and orders them).
pub struct Contenders {
    pub ffi_off: OursFfi,
    pub ffi_on: OursFfi,
    pub ffi_on_cycles: OursFfi,
    pub ffi_on_fixed: OursFfi,
    pub ffi_unvalidated: OursFfi,
    pub rust_off: OursRust,
    pub rust_on: OursRust,
    pub atomic_pool: AtomicPool,
    pub heapless: HeaplessPool,
    pub heapless_objects: HeaplessObjectPool,
    pub malloc: Malloc,
    pub spin: SpinFreeList,
    pub queue_ours: OursQueue,
    pub queue_heapless: HeaplessMpmc,
    pub queue_crossbeam: CrossbeamArrayQueue,
}

impl Contenders {
    fn new() -> Self {
        Contenders {
            ffi_off: OursFfi::new(false),
            ffi_on: OursFfi::new(true),
            ffi_on_cycles: OursFfi::with_config(true, true, Some(timer::cycle_clock_ns)),
            ffi_on_fixed: OursFfi::with_config(true, true, Some(timer::fixed_clock_ns)),
            ffi_unvalidated: OursFfi::with_config(false, false, None),
            rust_off: OursRust::new(false),
            rust_on: OursRust::new(true),
            atomic_pool: AtomicPool,
            heapless: HeaplessPool::new(),
            heapless_objects: HeaplessObjectPool::new(),
            malloc: Malloc,
            spin: SpinFreeList::new(),
            queue_ours: OursQueue::new(),
            queue_heapless: HeaplessMpmc::new(),
            queue_crossbeam: CrossbeamArrayQueue::new(),
        }
    }
}

/// The criterion benchmarks: group `pair` (every contender of [`suite::contenders`]), group
/// `hand_off` (every queue of [`suite::hand_offs`]) and group `stats_read` (every read of
/// [`suite::reads`]).
fn criterion_part(c: &mut Criterion, set: &Contenders) {
    let mut group = c.benchmark_group("pair");
    for contender in suite::contenders(set) {
        group.bench_function(contender.id, |b| (contender.bench)(b));
    }
    group.finish();

    let mut group = c.benchmark_group("hand_off");
    for queue in suite::hand_offs(set) {
        group.bench_function(queue.id, |b| (queue.bench)(b));
    }
    group.finish();

    let mut group = c.benchmark_group("stats_read");
    for read in suite::reads(set) {
        group.bench_function(read.id, |b| (read.bench)(b));
    }
    group.finish();
}

fn main() {
    // Single-thread measurements stay on one CPU (virtual CPUs can differ; the suite also
    // measures each CPU in turn).
    suite::allowed_cpus();
    suite::pin_to_cpu(suite::main_cpu());
    timer::Calibration::measure();
    let set: &'static Contenders = Box::leak(Box::new(Contenders::new()));
    // Fill the monitored manager's trend history (one snapshot per 100 ms, the default
    // interval: AES5_HISTORY_CAPACITY tenths of a second of pairs), so the performance report
    // analyses a full ring.
    let filling = std::time::Instant::now();
    while set.ffi_on.performance_report().trend.sample_count < aes5_buffer_manager::AES5_HISTORY_CAPACITY
        && filling.elapsed() < Duration::from_secs(10)
    {
        for _ in 0..1_000 {
            pair(&set.ffi_on);
        }
    }

    let enabled = |name: &str| std::env::var_os(name).map_or(true, |v| v != "0");
    if enabled("AES5_BENCH_CRITERION") {
        let mut criterion = Criterion::default()
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2))
            .configure_from_args();
        criterion_part(&mut criterion, set);
        criterion.final_summary();
    }

    // `cargo bench` passes --bench; `cargo test --benches` does not (criterion then runs each
    // benchmark once as a test, and the interleaved suite is skipped).
    if std::env::args().any(|arg| arg == "--bench") && enabled("AES5_BENCH_SUITE") {
        let quick = std::env::var_os("AES5_BENCH_QUICK").is_some_and(|v| v != "0");
        let out = std::env::var_os("AES5_BENCH_OUT")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::PathBuf::from("target/aes5-bench/results.json"));
        suite::run(set, quick, &out);
    }
}
