//! The interleaved suite: each round runs every contender once, in an order rotated by the
//! round number, so that whatever else runs on the machine disturbs all contenders alike.
//! Raw per-round figures and latency quantiles are written as JSON for
//! `scripts/bench-report.py`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::contenders::{HandOff, Pool, BUFFERS, PAYLOAD_BYTES};
use crate::timer::{counter_name, cycle_clock_ns, ticks, Calibration};
use crate::{pair, Contenders};
use criterion::Bencher;

/// How long each part runs.
struct Plan {
    rounds_1t: usize,
    pairs_1t: usize,
    rounds_2t: usize,
    window_ms_2t: u64,
    rounds_latency: usize,
    pairs_latency: usize,
    rounds_stats: usize,
    reads_stats: usize,
    rounds_cold: usize,
}

const FULL: Plan = Plan {
    rounds_1t: 51,
    pairs_1t: 20_000,
    rounds_2t: 61,
    window_ms_2t: 5,
    rounds_latency: 100,
    pairs_latency: 10_000,
    rounds_stats: 31,
    reads_stats: 2_000,
    rounds_cold: 201,
};

const QUICK: Plan = Plan {
    rounds_1t: 5,
    pairs_1t: 2_000,
    rounds_2t: 3,
    window_ms_2t: 5,
    rounds_latency: 5,
    pairs_latency: 1_000,
    rounds_stats: 3,
    reads_stats: 200,
    rounds_cold: 5,
};

/// Nanoseconds per pair of `n` pairs on this thread.
#[inline(never)]
fn single<P: Pool>(pool: &P, n: usize) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        pair(pool);
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

/// This thread's CPU time, ns.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64)
}

/// The CPUs this process may run on, as found on the first call (call it before pinning any
/// thread: pinning narrows what the system reports).
pub fn allowed_cpus() -> &'static [usize] {
    static ALLOWED: OnceLock<Vec<usize>> = OnceLock::new();
    ALLOWED.get_or_init(|| {
        // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity writes at most its
        // size into it (0 = the calling thread); CPU_ISSET only reads it.
        let cpus: Vec<usize> = unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
                return vec![0];
            }
            (0..libc::CPU_SETSIZE as usize).filter(|&cpu| libc::CPU_ISSET(cpu, &set)).collect()
        };
        if cpus.is_empty() {
            vec![0]
        } else {
            cpus
        }
    })
}

/// Keeps the calling thread on the `index`-th allowed CPU (modulo their number), so the two
/// threads of a contended run never queue behind each other on one core. Best effort.
pub fn pin_to_cpu(index: usize) {
    let cpus = allowed_cpus();
    let cpu = cpus[index % cpus.len()];
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes inside it, and
    // sched_setaffinity only reads it (0 = the calling thread).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// The CPU the single-thread parts run on: `$AES5_BENCH_CPU`, default 0.
pub fn main_cpu() -> usize {
    std::env::var("AES5_BENCH_CPU").ok().and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// One thread's share of a contended run: wall-clock and CPU nanoseconds per pair.
#[derive(Clone, Copy, Debug)]
struct Share {
    wall_ns: f64,
    cpu_ns: f64,
}

/// Two threads running pairs on one pool for `window`, pinned to different CPUs. Windows are
/// short (a few ms, within one scheduler time slice of a freshly woken thread) and many, so
/// that other load on the machine rarely splits a window. Both threads
/// spin until both are running, then run until the window closes, so they overlap for the whole window whenever
/// the scheduler gives them two cores. The CPU time per pair is not inflated by time a thread
/// spent descheduled.
#[inline(never)]
fn contended<P: Pool>(pool: &P, window: Duration) -> [Share; 2] {
    let ready = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let worker = |cpu: usize| {
        pin_to_cpu(cpu);
        ready.fetch_add(1, Ordering::SeqCst);
        while ready.load(Ordering::SeqCst) < 2 {
            std::hint::spin_loop();
        }
        let start = Instant::now();
        let cpu_start = thread_cpu_ns();
        let mut pairs = 0u64;
        while !stop.load(Ordering::Relaxed) {
            for _ in 0..64 {
                pair(pool);
            }
            pairs += 64;
        }
        let cpu = thread_cpu_ns().saturating_sub(cpu_start) as f64;
        let wall = start.elapsed().as_nanos() as f64;
        let pairs = pairs.max(1) as f64;
        Share { wall_ns: wall / pairs, cpu_ns: cpu / pairs }
    };
    std::thread::scope(|scope| {
        let first = scope.spawn(move || worker(0));
        let second = scope.spawn(move || worker(1));
        while ready.load(Ordering::SeqCst) < 2 {
            std::thread::yield_now();
        }
        std::thread::sleep(window);
        stop.store(true, Ordering::Relaxed);
        let lost = Share { wall_ns: f64::NAN, cpu_ns: f64::NAN };
        [first.join().unwrap_or(lost), second.join().unwrap_or(lost)]
    })
}

/// Times `n` single allocates and releases, appending counter ticks to `alloc` and `release`.
#[inline(never)]
fn latency<P: Pool>(pool: &P, n: usize, alloc: &mut Vec<u64>, release: &mut Vec<u64>) {
    for _ in 0..n {
        let t0 = ticks();
        let handle = black_box(pool.allocate());
        let t1 = ticks();
        pool.release(handle);
        let t2 = ticks();
        alloc.push(t1.wrapping_sub(t0));
        release.push(t2.wrapping_sub(t1));
    }
}

/// Bytes swept between two cold pairs: larger than every cache level of the machines this runs
/// on, so the pool's control words, headers and code are evicted, as an audio callback finds
/// them once per period.
const EVICTION_BYTES: usize = 64 << 20;

/// Reads one byte of every cache line of `sweep` (evicting what the caches held).
#[inline(never)]
fn evict(sweep: &[u8]) -> u64 {
    let mut sum = 0u64;
    for line in sweep.chunks(64) {
        sum = sum.wrapping_add(u64::from(black_box(line[0])));
    }
    sum
}

/// Ticks of one allocate+release pair (the read overhead is subtracted later).
#[inline(never)]
fn cold_pair<P: Pool>(pool: &P) -> u64 {
    let t0 = ticks();
    pair(pool);
    ticks().wrapping_sub(t0)
}

type Single<'a> = Box<dyn Fn(usize) -> f64 + 'a>;
type Cold<'a> = Box<dyn Fn() -> u64 + 'a>;
type Contended<'a> = Box<dyn Fn(Duration) -> [Share; 2] + 'a>;
type Latency<'a> = Box<dyn Fn(usize, &mut Vec<u64>, &mut Vec<u64>) + 'a>;
/// A criterion benchmark body (monomorphised for its pool or read: the loop inside
/// `Bencher::iter` makes no dynamic call).
pub type Bench<'a> = Box<dyn Fn(&mut Bencher<'_>) + 'a>;

/// Which side of the comparison a contender is on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// This library.
    Ours,
    /// A pool a user would pick instead.
    Peer,
}

/// Whether the latency part times a contender's single operations.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Timing {
    Timed,
    Untimed,
}

/// One contender: its names and its measurements, each monomorphised for its pool.
pub struct Contender<'a> {
    /// The contender's key: in the results JSON, in the report, and as criterion's benchmark
    /// `pair/<id>`.
    pub id: &'static str,
    /// What the report calls it.
    label: &'static str,
    side: Side,
    /// Criterion's allocate+release pair.
    pub bench: Bench<'a>,
    single: Single<'a>,
    cold: Cold<'a>,
    contended: Contended<'a>,
    latency: Option<Latency<'a>>,
}

fn contender<'a, P: Pool>(
    side: Side,
    id: &'static str,
    label: &'static str,
    pool: &'a P,
    timing: Timing,
) -> Contender<'a> {
    let latency: Option<Latency<'a>> = match timing {
        Timing::Timed => Some(Box::new(move |n, a: &mut Vec<u64>, r: &mut Vec<u64>| latency(pool, n, a, r))),
        Timing::Untimed => None,
    };
    Contender {
        id,
        label,
        side,
        bench: Box::new(move |b: &mut Bencher<'_>| b.iter(|| pair(pool))),
        single: Box::new(move |n| single(pool, n)),
        cold: Box::new(move || cold_pair(pool)),
        contended: Box::new(move |window| contended(pool, window)),
        latency,
    }
}

/// Every contender, in the order of the report's tables: the one list from which the
/// criterion benchmarks (group `pair`), the interleaved suite and, through the results JSON,
/// `scripts/bench-report.py` take their contenders.
pub fn contenders(set: &Contenders) -> Vec<Contender<'_>> {
    use Side::{Ours, Peer};
    use Timing::{Timed, Untimed};
    vec![
        contender(Ours, "aes5_c_abi_off", "aes5 C ABI, monitoring off", &set.ffi_off, Timed),
        contender(Ours, "aes5_c_abi_on", "aes5 C ABI, monitoring on", &set.ffi_on, Timed),
        contender(
            Ours,
            "aes5_c_abi_on_cycles",
            "aes5 C ABI, monitoring on, cycle-counter clock",
            &set.ffi_on_cycles,
            Untimed,
        ),
        contender(
            Ours,
            "aes5_c_abi_on_fixed",
            "aes5 C ABI, monitoring on, fixed clock (bookkeeping only)",
            &set.ffi_on_fixed,
            Untimed,
        ),
        contender(
            Ours,
            "aes5_c_abi_unvalidated",
            "aes5 C ABI, monitoring off, validation off",
            &set.ffi_unvalidated,
            Untimed,
        ),
        contender(Ours, "aes5_rust_off", "aes5 Rust API, monitoring off", &set.rust_off, Timed),
        contender(Ours, "aes5_rust_on", "aes5 Rust API, monitoring on", &set.rust_on, Untimed),
        contender(Peer, "atomic_pool", "atomic-pool Box", &set.atomic_pool, Timed),
        contender(Peer, "heapless_pool", "heapless::pool BoxPool", &set.heapless, Timed),
        contender(Peer, "heapless_object", "heapless::pool ObjectPool", &set.heapless_objects, Timed),
        contender(Peer, "malloc", "glibc malloc+free", &set.malloc, Untimed),
        contender(Peer, "spin_free_list", "spin::Mutex free list", &set.spin, Untimed),
    ]
}

/// One hand-off queue measured: an enqueue+dequeue of one buffer on one thread.
pub struct HandOffContender<'a> {
    /// The queue's key: in the results JSON, in the report, and as criterion's benchmark
    /// `hand_off/<id>`.
    pub id: &'static str,
    label: &'static str,
    side: Side,
    /// Criterion's pass.
    pub bench: Bench<'a>,
    /// Nanoseconds per pass of `n` passes in a row.
    single: Single<'a>,
}

fn hand_off<'a, Q: HandOff>(side: Side, id: &'static str, label: &'static str, queue: &'a Q) -> HandOffContender<'a> {
    HandOffContender {
        id,
        label,
        side,
        bench: Box::new(move |b: &mut Bencher<'_>| b.iter(|| queue.pass())),
        single: Box::new(move |n| {
            let start = Instant::now();
            for _ in 0..n {
                queue.pass();
            }
            start.elapsed().as_nanos() as f64 / n as f64
        }),
    }
}

/// Every hand-off queue, in the order of the report's table (ours first, the reference).
pub fn hand_offs(set: &Contenders) -> Vec<HandOffContender<'_>> {
    vec![
        hand_off(
            Side::Ours,
            "aes5_queue",
            "aes5 hand-off queue, C ABI (custody checked, validation on)",
            &set.queue_ours,
        ),
        hand_off(Side::Peer, "heapless_mpmc", "heapless::mpmc::Queue of pointers (16 cells)", &set.queue_heapless),
        hand_off(
            Side::Peer,
            "crossbeam_array_queue",
            "crossbeam_queue::ArrayQueue of pointers (16 slots)",
            &set.queue_crossbeam,
        ),
    ]
}

/// One read whose cost is measured: a statistics call of the C ABI on the monitored manager,
/// or a clock read it is compared with.
pub struct Read<'a> {
    /// The read's key: in the results JSON, in the report, and as criterion's benchmark
    /// `stats_read/<id>`.
    pub id: &'static str,
    /// What the report calls it (Markdown).
    label: &'static str,
    /// Criterion's read.
    pub bench: Bench<'a>,
    /// One read, through a dynamic call (the suite times many in a row).
    once: Box<dyn Fn() + 'a>,
}

fn read<'a, T>(id: &'static str, label: &'static str, f: impl Fn() -> T + Copy + 'a) -> Read<'a> {
    Read {
        id,
        label,
        bench: Box::new(move |b: &mut Bencher<'_>| b.iter(f)),
        once: Box::new(move || {
            black_box(f());
        }),
    }
}

/// Every read, in the order of the report's table: the one list from which the criterion
/// benchmarks (group `stats_read`), the interleaved suite and the report take them.
pub fn reads(set: &Contenders) -> Vec<Read<'_>> {
    vec![
        read("get_statistics", "`aes5_buffer_manager_get_statistics`", || set.ffi_on.statistics()),
        read("get_metrics", "`aes5_buffer_manager_get_metrics`", || set.ffi_on.metrics()),
        read("get_performance_report", "`aes5_buffer_manager_get_performance_report` (whole history)", || {
            set.ffi_on.performance_report()
        }),
        read(
            "clock_gettime_monotonic",
            "reference: `clock_gettime(CLOCK_MONOTONIC)` (the default clock)",
            monotonic_ns,
        ),
        read("cycle_clock_callback", "reference: the cycle-counter clock callback", || {
            // SAFETY: the callback ignores its context.
            unsafe { cycle_clock_ns(std::ptr::null_mut()) }
        }),
    ]
}

/// Runs `each(contender index)` once per contender, starting at `round` (rotating order).
fn rotated(count: usize, round: usize, mut each: impl FnMut(usize)) {
    for k in 0..count {
        each((round + k) % count);
    }
}

/// The library's default clock, read the same way (`clock_gettime(CLOCK_MONOTONIC)`).
#[inline(never)]
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64)
}

/// Nearest-rank quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Quantile levels for the distribution plot: dense in the body, then each decade of the tail.
fn plot_levels() -> Vec<f64> {
    let mut levels: Vec<f64> = (1..1000).map(|i| i as f64 / 1000.0).collect();
    levels.extend((1..10).map(|i| 0.999 + i as f64 / 10_000.0));
    levels.extend((1..10).map(|i| 0.9999 + i as f64 / 100_000.0));
    levels.extend((1..10).map(|i| 0.99999 + i as f64 / 1_000_000.0));
    levels
}

fn json_numbers(values: &[f64]) -> String {
    json_numbers_with(values, 3)
}

fn json_numbers_with(values: &[f64], decimals: usize) -> String {
    let items: Vec<String> =
        values.iter().map(|v| if v.is_finite() { format!("{v:.decimals$}") } else { "null".into() }).collect();
    format!("[{}]", items.join(","))
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path).map(|s| s.trim().to_string()).unwrap_or_default()
}

fn cpu_model() -> String {
    let info = read_trimmed("/proc/cpuinfo");
    let model = info
        .lines()
        .find(|l| l.starts_with("model name") || l.starts_with("Model") || l.starts_with("CPU part"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string());
    model.unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// Runs the whole suite and writes the JSON to `out`.
pub fn run(set: &Contenders, quick: bool, out: &Path) {
    let plan = if quick { &QUICK } else { &FULL };
    let all = contenders(set);
    let calibration = Calibration::measure();
    let load_before = read_trimmed("/proc/loadavg");
    eprintln!("interleaved suite ({}), load average {load_before}", if quick { "quick" } else { "full" });

    // Warm every contender up once, untimed.
    for c in &all {
        (c.single)(plan.pairs_1t);
    }

    eprintln!("  single thread: {} rounds x {} pairs", plan.rounds_1t, plan.pairs_1t);
    let mut one_thread = vec![Vec::new(); all.len()];
    for round in 0..plan.rounds_1t {
        rotated(all.len(), round, |i| one_thread[i].push((all[i].single)(plan.pairs_1t)));
    }

    // The same single-thread rounds pinned to each CPU in turn: virtual CPUs can differ.
    let cpus = allowed_cpus().len();
    let per_cpu_rounds = plan.rounds_1t.div_ceil(4);
    eprintln!("  single thread on each of {cpus} CPUs: {per_cpu_rounds} rounds each");
    let mut per_cpu: Vec<Vec<Vec<f64>>> = Vec::new();
    for cpu in 0..cpus {
        pin_to_cpu(cpu);
        let mut rounds = vec![Vec::new(); all.len()];
        for round in 0..per_cpu_rounds {
            rotated(all.len(), round, |i| rounds[i].push((all[i].single)(plan.pairs_1t)));
        }
        per_cpu.push(rounds);
    }
    pin_to_cpu(main_cpu());

    eprintln!("  hand-offs: {} rounds x {} passes", plan.rounds_1t, plan.pairs_1t);
    let queues = hand_offs(set);
    for q in &queues {
        (q.single)(plan.pairs_1t);
    }
    let mut hand_off_ns = vec![Vec::new(); queues.len()];
    for round in 0..plan.rounds_1t {
        rotated(queues.len(), round, |i| hand_off_ns[i].push((queues[i].single)(plan.pairs_1t)));
    }

    eprintln!("  two threads: {} rounds x {} ms", plan.rounds_2t, plan.window_ms_2t);
    let mut two_threads = vec![Vec::new(); all.len()];
    for round in 0..plan.rounds_2t {
        rotated(all.len(), round, |i| {
            two_threads[i].push((all[i].contended)(Duration::from_millis(plan.window_ms_2t)))
        });
    }

    eprintln!("  latency: {} rounds x {} pairs", plan.rounds_latency, plan.pairs_latency);
    let timed: Vec<&Contender<'_>> = all.iter().filter(|c| c.latency.is_some()).collect();
    let samples = plan.rounds_latency * plan.pairs_latency;
    let mut alloc_ticks: Vec<Vec<u64>> = timed.iter().map(|_| Vec::with_capacity(samples)).collect();
    let mut release_ticks: Vec<Vec<u64>> = timed.iter().map(|_| Vec::with_capacity(samples)).collect();
    for round in 0..plan.rounds_latency {
        rotated(timed.len(), round, |i| {
            if let Some(measure) = &timed[i].latency {
                measure(plan.pairs_latency, &mut alloc_ticks[i], &mut release_ticks[i]);
            }
        });
    }

    eprintln!("  cold pairs: {} rounds, {} MiB swept before each pair", plan.rounds_cold, EVICTION_BYTES >> 20);
    let sweep: Vec<u8> = (0..EVICTION_BYTES).map(|i| i as u8).collect();
    let mut cold_ns = vec![Vec::new(); all.len()];
    for round in 0..plan.rounds_cold {
        rotated(all.len(), round, |i| {
            black_box(evict(&sweep));
            let t = (all[i].cold)();
            cold_ns[i].push(calibration.net_ns(t));
        });
    }
    drop(sweep);

    eprintln!("  statistics reads: {} rounds x {} reads", plan.rounds_stats, plan.reads_stats);
    let reads = reads(set);
    let mut read_ns = vec![Vec::new(); reads.len()];
    for round in 0..plan.rounds_stats {
        rotated(reads.len(), round, |i| {
            let start = Instant::now();
            for _ in 0..plan.reads_stats {
                (reads[i].once)();
            }
            read_ns[i].push(start.elapsed().as_nanos() as f64 / plan.reads_stats as f64);
        });
    }
    let load_after = read_trimmed("/proc/loadavg");

    let mut json = String::new();
    let cores = allowed_cpus().len();
    let _ = write!(
        json,
        "{{\n\"machine\": {{\"cpu\": {:?}, \"cores\": {cores}, \"arch\": {:?}, \"os\": {:?}, \"kernel\": {:?}, \
         \"load_before\": {:?}, \"load_after\": {:?}, \"unix_time\": {}, \"source\": {:?}}},\n",
        cpu_model(),
        std::env::consts::ARCH,
        std::env::consts::OS,
        read_trimmed("/proc/sys/kernel/osrelease"),
        load_before,
        load_after,
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        std::env::var("AES5_BENCH_SOURCE").unwrap_or_else(|_| "unknown".into())
    );
    let _ = writeln!(
        json,
        "\"timer\": {{\"counter\": {:?}, \"ticks_per_ns\": {:.6}, \"overhead_ns\": {:.3}}},",
        counter_name(),
        calibration.ticks_per_ns,
        calibration.overhead_ns()
    );
    let _ = writeln!(
        json,
        "\"plan\": {{\"quick\": {quick}, \"main_cpu\": {}, \"payload_bytes\": {PAYLOAD_BYTES}, \"buffers\": {BUFFERS}, \
         \"rounds_1t\": {}, \"pairs_1t\": {}, \"rounds_2t\": {}, \"window_ms_2t\": {}, \"rounds_latency\": {}, \
         \"pairs_latency\": {}, \"rounds_stats\": {}, \"reads_stats\": {}, \"rounds_cold\": {}, \"eviction_bytes\": {}}},",
        main_cpu(),
        plan.rounds_1t,
        plan.pairs_1t,
        plan.rounds_2t,
        plan.window_ms_2t,
        plan.rounds_latency,
        plan.pairs_latency,
        plan.rounds_stats,
        plan.reads_stats,
        plan.rounds_cold,
        EVICTION_BYTES
    );
    json.push_str("\"contenders\": [\n");
    let entries: Vec<String> = all
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let column = |t: usize, cpu: bool| -> Vec<f64> {
                two_threads[i].iter().map(|r: &[Share; 2]| if cpu { r[t].cpu_ns } else { r[t].wall_ns }).collect()
            };
            let on_each_cpu: Vec<String> = per_cpu.iter().map(|rounds| json_numbers(&rounds[i])).collect();
            format!(
                "  {{\"id\": {:?}, \"label\": {:?}, \"ours\": {}, \"ns_per_pair_1t\": {}, \"ns_per_pair_1t_per_cpu\": [{}], \
                 \"ns_per_pair_2t\": [{}, {}], \"cpu_ns_per_pair_2t\": [{}, {}], \"cold_ns_per_pair\": {}}}",
                c.id,
                c.label,
                c.side == Side::Ours,
                json_numbers(&one_thread[i]),
                on_each_cpu.join(", "),
                json_numbers(&column(0, false)),
                json_numbers(&column(1, false)),
                json_numbers(&column(0, true)),
                json_numbers(&column(1, true)),
                json_numbers(&cold_ns[i])
            )
        })
        .collect();
    json.push_str(&entries.join(",\n"));
    json.push_str("\n],\n\"latency\": [\n");
    let levels = plot_levels();
    let mut series = Vec::new();
    for (i, c) in timed.iter().enumerate() {
        for (op, raw) in [("allocate", &alloc_ticks[i]), ("release", &release_ticks[i])] {
            let mut ns: Vec<f64> = raw.iter().map(|&t| calibration.net_ns(t)).collect();
            ns.sort_unstable_by(f64::total_cmp);
            let stats: Vec<f64> = [0.5, 0.99, 0.999, 0.9999].iter().map(|&q| quantile(&ns, q)).collect();
            let curve: Vec<f64> = levels.iter().map(|&q| quantile(&ns, q)).collect();
            series.push(format!(
                "  {{\"id\": {:?}, \"label\": {:?}, \"op\": {op:?}, \"samples\": {}, \"p50\": {:.3}, \"p99\": {:.3}, \
                 \"p999\": {:.3}, \"p9999\": {:.3}, \"max\": {:.3}, \"mean\": {:.3}, \"levels\": {}, \"ns\": {}}}",
                c.id,
                c.label,
                ns.len(),
                stats[0],
                stats[1],
                stats[2],
                stats[3],
                ns.last().copied().unwrap_or(f64::NAN),
                ns.iter().sum::<f64>() / ns.len().max(1) as f64,
                json_numbers_with(&levels, 7),
                json_numbers(&curve)
            ));
        }
    }
    json.push_str(&series.join(",\n"));
    json.push_str("\n],\n\"stats_reads\": [\n");
    let read_entries: Vec<String> = reads
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "  {{\"id\": {:?}, \"label\": {:?}, \"ns_per_read\": {}}}",
                r.id,
                r.label,
                json_numbers(&read_ns[i])
            )
        })
        .collect();
    json.push_str(&read_entries.join(",\n"));
    json.push_str("\n],\n\"hand_offs\": [\n");
    let queue_entries: Vec<String> = queues
        .iter()
        .enumerate()
        .map(|(i, q)| {
            format!(
                "  {{\"id\": {:?}, \"label\": {:?}, \"ours\": {}, \"ns_per_pass_1t\": {}}}",
                q.id,
                q.label,
                q.side == Side::Ours,
                json_numbers(&hand_off_ns[i])
            )
        })
        .collect();
    json.push_str(&queue_entries.join(",\n"));
    json.push_str("\n]\n}\n");

    if let Some(dir) = out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(out, json) {
        Ok(()) => eprintln!("interleaved suite: results written to {}", out.display()),
        Err(e) => {
            eprintln!("interleaved suite: cannot write {}: {e}", out.display());
            std::process::exit(1);
        }
    }
}
