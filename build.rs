//! Build script: turns the build-time geometry into Rust constants and generates the C header.
//!
//! Geometry settings are environment variables read at build time (see README, "Choosing the
//! geometry"). The same values are written into `$OUT_DIR/geometry.rs` for the crate and into
//! the generated header as `#define`s, so the C side always matches the library it links.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// One build-time setting: environment variable, default, allowed range.
struct Setting {
    name: String,
    default: u64,
    min: u64,
    max: u64,
}

impl Setting {
    fn new(name: impl Into<String>, default: u64, min: u64, max: u64) -> Self {
        Setting { name: name.into(), default, min, max }
    }
}

/// The pools, in pool order (the buffer types numbered 0, 1, 2), each with its default
/// number of buffers. Every per-pool setting, constant and `#define` is derived from this list.
const POOL_NAMES_AND_COUNTS: [(&str, u64); 3] = [("PRIMARY", 8), ("CONVERSION", 4), ("SCRATCH", 2)];
/// Default capacity in bytes of every buffer.
const DEFAULT_BUFFER_BYTES: u64 = 2048;

fn count_setting(pool: &str) -> String {
    format!("AES5_{pool}_BUFFER_COUNT")
}

fn bytes_setting(pool: &str) -> String {
    format!("AES5_{pool}_BUFFER_BYTES")
}

/// Every geometry setting: each pool's count, each pool's buffer bytes, alignment, history,
/// hand-off queues, accepted formats, guard zones.
fn settings() -> Vec<Setting> {
    let counts = POOL_NAMES_AND_COUNTS.iter().map(|&(pool, default)| Setting::new(count_setting(pool), default, 1, 32));
    let bytes = POOL_NAMES_AND_COUNTS
        .iter()
        .map(|&(pool, _)| Setting::new(bytes_setting(pool), DEFAULT_BUFFER_BYTES, 4, 1 << 20));
    counts
        .chain(bytes)
        .chain([
            Setting::new("AES5_DATA_ALIGNMENT", 32, 8, 4096),
            Setting::new("AES5_HISTORY_CAPACITY", 16, 2, 1024),
            Setting::new("AES5_QUEUE_COUNT", 4, 0, 16),
            Setting::new("AES5_ACCEPTED_FORMATS", 4, 0, 16),
            Setting::new("AES5_GUARD_BYTES", 32, 0, 4096),
        ])
        .collect()
}

/// Whether performance monitoring is compiled in (1, the default) or out (0). Not part of the
/// geometry: the storage layout is the same either way, so the storage size does not change.
const MONITORING: &str = "AES5_MONITORING";
const MONITORING_DEFAULT: u64 = 1;

/// `AES5_BUFFER_BYTES` sets all three buffer sizes at once (a per-pool setting still wins).
const ALL_BUFFER_BYTES: &str = "AES5_BUFFER_BYTES";
/// The storage size; when unset it is 32768 for the default geometry, otherwise estimated.
const STORAGE_BYTES: &str = "AES5_STORAGE_BYTES";
/// Optional extra directory the generated header is copied to (CMake uses it).
const HEADER_OUT_DIR: &str = "AES5_HEADER_OUT_DIR";
const DEFAULT_STORAGE_BYTES: u64 = 32768;

/// The checked-init macro, the all-ones sentinels (written with a `u` suffix, so that their C
/// type is unsigned int; cbindgen would write a bare decimal, a `long long` on 32-bit cores)
/// and the bare-metal hooks of the header (cbindgen cannot express macros with arguments, nor
/// functions the firmware defines for the library).
const HEADER_EXTRAS: &str = r#"
/**
 * The `queue` of a buffer a caller holds, and the `last_queue` of a buffer not dequeued
 * since its allocation.
 */
#define AES5_NO_QUEUE 0xFFFFFFFFu

/**
 * The `oldest_hand_off_buffer_id` of a report in which no buffer is held (or there is no
 * clock).
 */
#define AES5_NO_BUFFER 0xFFFFFFFFu

/**
 * Initialises a manager with `aes5_buffer_manager_init_checked`, passing the size of the
 * storage type this code was compiled with, so that a header from a build with another
 * geometry is refused (AES5_ERR_STORAGE_SIZE_MISMATCH) instead of overrunning the storage.
 * Prefer it to calling `aes5_buffer_manager_init` directly.
 */
#define AES5_BUFFER_MANAGER_INIT(storage, config, out_manager) \
    aes5_buffer_manager_init_checked((storage), sizeof(aes5_buffer_manager_storage_t), (config), (out_manager))

/*
 * Bare-metal integration (README, "Bare-metal integration"). Hosted builds (Linux, macOS)
 * need none of this.
 *
 * - Storage placement: the storage is an ordinary object; put it where the buffers must live,
 *   for example DMA-capable RAM through a linker section of your own:
 *       static aes5_buffer_manager_storage_t storage __attribute__((section(".dma_ram")));
 *   The type carries its own alignment; the section needs no more than that.
 * - Clock: set `now_ns` (and `clock_context`) in aes5_runtime_config_t when performance
 *   monitoring is on; without it bare-metal timings read 0. It must be callable from every
 *   context that calls the library. Examples: a 64-bit count of SysTick wraps (kept by the
 *   SysTick handler) times the reload plus the elapsed part of the current period, scaled to
 *   ns; or the DWT cycle counter (CYCCNT, Cortex-M3 and up: set DEMCR.TRCENA and
 *   DWT_CTRL.CYCCNTENA) extended to 64 bits and divided by the core clock in GHz.
 * - Panic hook: the library has no panic path by design; if a library bug ever panics, it
 *   calls aes5_panic_hook(), which must not return. On Arm bare metal the library carries a
 *   weak default that executes a permanently undefined instruction (UDF), so the firmware's
 *   fault handler decides what happens; define the function to log, reset or halt your own way.
 * - Critical section (Cortex-M0/M0+/M1 only, `thumbv6m-none-eabi`, which has no
 *   compare-and-swap): built with the cargo feature `single-core`, the library masks
 *   interrupts (PRIMASK) for a few instructions around each read-modify-write; built with
 *   `firmware-critical-section`, it calls aes5_critical_section_enter() and
 *   aes5_critical_section_exit(), which the firmware defines (for example with a hardware
 *   spinlock on a dual-core part). Other cores never call them.
 */
#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn))
#endif
void aes5_panic_hook(void);
/** Firmware-defined: excludes every other context that calls the library; returns the state
 *  to hand to the matching exit (for example the previous PRIMASK). */
uint32_t aes5_critical_section_enter(void);
/** Firmware-defined: leaves the critical section entered with `state`. */
void aes5_critical_section_exit(uint32_t state);
#ifdef __cplusplus
}
#endif
"#;

fn read_u64(name: &str) -> Option<u64> {
    println!("cargo:rerun-if-env-changed={name}");
    let raw = env::var(name).ok()?;
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let value = raw.parse::<u64>().unwrap_or_else(|_| panic!("{name}={raw} is not a decimal integer"));
    Some(value)
}

/// The resolved settings, by name, in the order they are emitted.
struct Geometry {
    values: Vec<(String, u64)>,
    /// True when every setting has its default value.
    is_default: bool,
}

impl Geometry {
    fn get(&self, name: &str) -> u64 {
        self.values.iter().find(|(k, _)| k == name).map_or(0, |(_, v)| *v)
    }
}

fn resolve_geometry() -> Geometry {
    let all_bytes = read_u64(ALL_BUFFER_BYTES);
    let mut geometry = Geometry { values: Vec::new(), is_default: all_bytes.is_none() };
    for s in settings() {
        let explicit = read_u64(&s.name);
        let fallback = if s.name.ends_with("_BUFFER_BYTES") { all_bytes.unwrap_or(s.default) } else { s.default };
        let value = explicit.unwrap_or(fallback);
        assert!((s.min..=s.max).contains(&value), "{}={} is outside {}..={}", s.name, value, s.min, s.max);
        geometry.is_default &= value == s.default;
        geometry.values.push((s.name, value));
    }
    let align = geometry.get("AES5_DATA_ALIGNMENT");
    assert!(align.is_power_of_two(), "AES5_DATA_ALIGNMENT={align} is not a power of two");
    let history = geometry.get("AES5_HISTORY_CAPACITY");
    assert!(history.is_power_of_two(), "AES5_HISTORY_CAPACITY={history} is not a power of two");
    let guard = geometry.get("AES5_GUARD_BYTES");
    assert!(guard % 4 == 0, "AES5_GUARD_BYTES={guard} is not a multiple of 4");
    for (pool, _) in POOL_NAMES_AND_COUNTS {
        let name = bytes_setting(pool);
        let bytes = geometry.get(&name);
        assert!(bytes % 4 == 0, "{name}={bytes} is not a multiple of 4");
    }

    let storage = match read_u64(STORAGE_BYTES) {
        Some(bytes) => {
            geometry.is_default &= bytes == DEFAULT_STORAGE_BYTES;
            bytes
        }
        None if geometry.is_default => DEFAULT_STORAGE_BYTES,
        None => estimate_storage_bytes(&geometry, align, history),
    };
    assert!(storage % 8 == 0, "{STORAGE_BYTES}={storage} is not a multiple of 8");
    geometry.values.push((STORAGE_BYTES.to_string(), storage));
    geometry
}

/// A generous estimate of the storage a custom geometry needs. The crate proves at compile time
/// that the real layout fits; set `AES5_STORAGE_BYTES` to trim it.
fn estimate_storage_bytes(geometry: &Geometry, align: u64, history: u64) -> u64 {
    let round = |v: u64, to: u64| v.div_ceil(to) * to;
    let guard = geometry.get("AES5_GUARD_BYTES");
    let mut slots = 0;
    let mut data = round(guard, align);
    for (pool, _) in POOL_NAMES_AND_COUNTS {
        let count = geometry.get(&count_setting(pool));
        slots += count;
        data += count * round(geometry.get(&bytes_setting(pool)) + guard, align);
    }
    let per_slot = 96 + 24; // header, slot control and custody, 64-bit worst case
    let fixed = 1536; // control block, statistics, metrics
                      // Each queue: two positions, a peak and one cell per buffer, rounded up to a power of two.
    let queues = geometry.get("AES5_QUEUE_COUNT") * (24 + 4 * (slots + 1).next_power_of_two());
    round(data + slots * per_slot + history * 24 + queues + fixed + align, 256)
}

fn write_if_changed(path: &Path, contents: &str) {
    if fs::read_to_string(path).ok().as_deref() == Some(contents) {
        return;
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).expect("create header directory");
    }
    fs::write(path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-env-changed={HEADER_OUT_DIR}");
    println!("cargo::rustc-check-cfg=cfg(loom)");
    println!("cargo::rustc-check-cfg=cfg(aes5_no_monitoring)");

    let mut geometry = resolve_geometry();
    let monitoring = read_u64(MONITORING).unwrap_or(MONITORING_DEFAULT);
    assert!(monitoring <= 1, "{MONITORING}={monitoring} is neither 0 nor 1");
    geometry.values.push((MONITORING.to_string(), monitoring));
    if monitoring == 0 {
        // For the tests of monitoring itself, which such a build cannot run.
        println!("cargo::rustc-cfg=aes5_no_monitoring");
    }

    let mut rust = String::from("// Generated by build.rs from the build-time geometry settings.\n");
    let mut defines =
        String::from("/* Build-time settings: generated by build.rs, see README \"Choosing the geometry\". */\n");
    for (name, value) in &geometry.values {
        let _ = writeln!(rust, "/// Build-time setting `{name}`.\npub const {name}: u32 = {value};");
        let _ = writeln!(defines, "#define {name} {value}");
    }
    let storage = geometry.get(STORAGE_BYTES);
    let _ = writeln!(defines, "#define AES5_STORAGE_WORDS {}", storage / 8);
    let _ = writeln!(rust, "/// Storage size in 64-bit words.\npub const AES5_STORAGE_WORDS: usize = {};", storage / 8);
    let _ = writeln!(
        rust,
        "/// True when every geometry setting has its default value.\npub const AES5_GEOMETRY_IS_DEFAULT: bool = {};",
        geometry.is_default
    );
    let pools: Vec<String> = POOL_NAMES_AND_COUNTS
        .iter()
        .map(|(pool, _)| format!("({}, {})", count_setting(pool), bytes_setting(pool)))
        .collect();
    let _ = writeln!(
        rust,
        "/// Each pool's (buffers, bytes per buffer), in pool order.\npub(crate) const POOL_SETTINGS: [(u32, u32); {}] = [{}];",
        POOL_NAMES_AND_COUNTS.len(),
        pools.join(", ")
    );
    write_if_changed(&out_dir.join("geometry.rs"), &rust);
    defines.push_str(HEADER_EXTRAS);

    let config = cbindgen::Config::from_file(manifest_dir.join("cbindgen.toml")).expect("read cbindgen.toml");
    let header = match cbindgen::Builder::new()
        .with_crate(&manifest_dir)
        .with_config(config)
        .with_after_include(defines)
        .generate()
    {
        Ok(bindings) => {
            let mut bytes = Vec::new();
            bindings.write(&mut bytes);
            String::from_utf8(bytes).expect("header is UTF-8")
        }
        Err(e) => panic!("cbindgen failed: {e}"),
    };
    write_if_changed(&out_dir.join("include").join("aes5_buffer_manager.h"), &header);
    if let Ok(dir) = env::var(HEADER_OUT_DIR) {
        if !dir.is_empty() {
            write_if_changed(&Path::new(&dir).join("aes5_buffer_manager.h"), &header);
        }
    }
    // The committed header describes the default build; only that build refreshes it.
    if geometry.is_default && monitoring == MONITORING_DEFAULT {
        write_if_changed(&manifest_dir.join("include").join("aes5_buffer_manager.h"), &header);
    }
}
