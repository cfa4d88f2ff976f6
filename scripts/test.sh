#!/usr/bin/env bash
# Sets up and runs the whole test suite, in named stages (`scripts/test.sh --list` describes
# them):
#
#   scripts/test.sh                  every stage, in order
#   scripts/test.sh host cortex-m    only these stages (in the order of the list)
#   scripts/test.sh --list           the stage names, one line each
#
# Each stage writes its full output to build/test-logs/<stage>.log; the console gets one line
# when a stage starts and one when it ends. The first failing stage stops the run: the last
# lines of its log are printed, then the summary of every stage (passed, failed or not run,
# with its time), and the script exits 1. The CMake builds are the presets of
# CMakePresets.json, so `cmake --preset host` here and by hand is the same build.
set -euo pipefail
cd "$(dirname "$0")/.."

# The stages, in the order they run: "name|what it checks".
stages=(
  "rust|cargo fmt --check, clippy -D warnings, cargo test (unit tests, model-based property test), the benchmark suite builds"
  "rust-no-monitoring|clippy and the unit tests of the library with monitoring compiled out (AES5_MONITORING=0)"
  "rust-no-guards|clippy, the unit tests and the model-based property test of the library without guard zones (AES5_GUARD_BYTES=0)"
  "cortex-m-rust|clippy for the four Cortex-M targets; the Rust benchmark firmware builds, runs under QEMU and reaches its own panic handler"
  "header|the committed include/aes5_buffer_manager.h equals a fresh generation"
  "docs|every repository path that a tracked file names exists (scripts/check-references.py)"
  "host|preset host: C/C++ tests, header checks, demo, JACK client and recorder, installed package, stress test, each test also under valgrind"
  "small|preset small: the same C/C++ tests with the small geometry (4/2/2 buffers of 256 bytes, history 8)"
  "sanitize|preset sanitize: the same C/C++ tests under ASan + UBSan, the library with debug assertions"
  "cortex-m|preset cortex-m: the C/C++ tests, interrupt stress, DMA pipeline and footprint images on four QEMU boards; the costs report, whose figures README.md must show"
  "cortex-m-lib|preset cortex-m-lib: the Cortex-M4F library alone builds and installs with no host libraries"
  "sdk|scripts/package.sh builds every SDK archive; each is consumed without Rust (host: find_package and pkg-config; Cortex-M: a firmware on its QEMU board) and a mismatched target is refused (tests/sdk/check_archives.sh)"
  "loom|loom models of the lock-free core (clippy and tests under --cfg loom)"
  "fuzz|libFuzzer on the C ABI: 1.5 million inputs, seed 1, reproducible"
)
names=()
for entry in "${stages[@]}"; do names+=("${entry%%|*}"); done

stage_rust() {
  cargo fmt --check
  cargo clippy --locked --all-targets -- -D warnings
  cargo test --locked
  # The benchmark suite (benchmarks/host) must keep building; scripts/bench.sh runs it.
  cargo bench --no-run --locked
}

# Lints clean, the unit tests pass (the three that exercise monitoring itself are ignored),
# and asking for monitoring is refused.
stage_rust_no_monitoring() {
  AES5_MONITORING=0 CARGO_TARGET_DIR=target/no-monitoring cargo clippy --locked --release --lib -- -D warnings
  AES5_MONITORING=0 CARGO_TARGET_DIR=target/no-monitoring cargo test --locked --release --lib
}

# The geometry without guard zones: every guard check compiles away and the layout has no
# zones; the tests that need guards skip themselves, everything else must hold.
stage_rust_no_guards() {
  AES5_GUARD_BYTES=0 CARGO_TARGET_DIR=target/no-guards cargo clippy --locked --release --lib -- -D warnings
  AES5_GUARD_BYTES=0 CARGO_TARGET_DIR=target/no-guards cargo test --locked --release --lib --test c_api_model
}

stage_cortex_m_rust() {
  local features target panic_run
  local firmware=benchmarks/rust-firmware elf=aes5-cortex-m-bench
  for features in single-core firmware-critical-section; do
    cargo clippy --locked --release --lib --target thumbv6m-none-eabi --features "$features" -- -D warnings
  done
  for target in thumbv7m-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabihf; do
    cargo clippy --locked --release --lib --target "$target" -- -D warnings
  done
  # The Cortex-M4F benchmark firmware (its own package, whose .cargo/config.toml selects the
  # target) keeps building, linking and running to its end under QEMU (no figures are checked
  # here; scripts/bench.sh publishes them).
  (cd "$firmware" && cargo fmt --check && cargo clippy --locked --release -- -D warnings &&
    cargo build --locked --release)
  timeout 120 qemu-system-arm -M mps2-an386 -nographic -monitor none \
    -semihosting-config enable=on,target=native -icount shift=0 \
    -kernel "$firmware/target/thumbv7em-none-eabihf/release/$elf"
  # It is a Rust firmware with its own panic handler (the library's default features off) and
  # its own aes5_panic_hook, linked with LTO: a panic must reach the firmware's handler.
  (cd "$firmware" && cargo build --locked --release --features panic-check --target-dir target/panic-check)
  panic_run=$(timeout 60 qemu-system-arm -M mps2-an386 -nographic -monitor none \
    -semihosting-config enable=on,target=native \
    -kernel "$firmware/target/panic-check/thumbv7em-none-eabihf/release/$elf" || true)
  echo "$panic_run"
  echo "$panic_run" | grep -q "firmware panic handler ran" ||
    { echo "the Rust firmware's own panic handler did not run" >&2; return 1; }
}

stage_docs() { python3 scripts/check-references.py; }

stage_header() {
  cargo build --locked --lib
  if [ -d .git ] && command -v git >/dev/null 2>&1; then
    git diff --exit-code -- include/aes5_buffer_manager.h
  fi
}

# preset NAME: configure, build and ctest one CMake preset.
preset() {
  cmake --preset "$1"
  cmake --build --preset "$1"
  ctest --preset "$1"
}
stage_host() { preset host; }
stage_small() { preset small; }
stage_sanitize() { preset sanitize; }

stage_cortex_m() {
  local costs=build/test-logs/cortex-m-costs.txt unjudged
  preset cortex-m
  # The report, then README.md's Cortex-M figures compared with it (they must be this revision's).
  scripts/cortex-m-costs.sh --readme check | tee "$costs"
  # Every line that names a budget must also say whether it is met.
  unjudged=$(grep -i 'budget' "$costs" | grep -v -w -E 'met|missed' || true)
  [ -z "$unjudged" ] || { echo "budget lines without met/missed:"; echo "$unjudged"; return 1; } >&2
}

# The library alone for one core (tests and demo off): a plain build from an empty build
# directory builds it, and it installs with no host libraries in its package or .pc.
stage_cortex_m_lib() {
  local dir=build/cortex-m-lib f   # the preset's binaryDir
  rm -rf "$dir"
  cmake --preset cortex-m-lib
  cmake --build --preset cortex-m-lib
  cmake --install "$dir" --prefix "$dir/stage"
  for f in lib/libaes5_buffer_manager.a include/aes5_buffer_manager.h lib/pkgconfig/aes5_buffer_manager.pc \
           lib/cmake/aes5_buffer_manager/aes5_buffer_managerConfig.cmake \
           lib/cmake/aes5_buffer_manager/aes5_buffer_managerConfigVersion.cmake; do
    test -f "$dir/stage/$f" || { echo "Cortex-M install lacks $f" >&2; return 1; }
  done
  grep -qx 'Libs.private: *' "$dir/stage/lib/pkgconfig/aes5_buffer_manager.pc" ||
    { echo "the Cortex-M package names host libraries" >&2; return 1; }
}

stage_sdk() { tests/sdk/check_archives.sh; }

stage_loom() {
  RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo clippy --locked --release --all-targets -- -D warnings
  RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test --locked --release --lib -- --test-threads=1 --nocapture
}

stage_fuzz() { scripts/fuzz.sh --runs 1500000; }

usage() {
  echo "usage: $0 [--list | STAGE...]" >&2
  exit 2
}
if [ "${1:-}" = "--list" ]; then
  for entry in "${stages[@]}"; do printf '  %-20s %s\n' "${entry%%|*}" "${entry#*|}"; done
  exit 0
fi
# The stages asked for (all by default), kept in the list's order.
selected=()
for name in "$@"; do
  case " ${names[*]} " in
    *" $name "*) ;;
    *) echo "test: no stage '$name' (scripts/test.sh --list names them)" >&2; usage ;;
  esac
done
for name in "${names[@]}"; do
  if [ $# -eq 0 ] || [[ " $* " == *" $name "* ]]; then selected+=("$name"); fi
done

scripts/setup.sh test
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
logs=build/test-logs
mkdir -p "$logs"

declare -A result seconds
summary() {
  local name total=0
  echo
  printf '%-20s %-8s %8s\n' stage result time
  for name in "${selected[@]}"; do
    if [ -n "${seconds[$name]:-}" ]; then
      printf '%-20s %-8s %7ss\n' "$name" "${result[$name]}" "${seconds[$name]}"
      total=$((total + ${seconds[$name]}))
    else
      printf '%-20s %-8s %8s\n' "$name" "not run" "-"
    fi
  done
  printf '%-20s %-8s %7ss\n' total "" "$total"
}

for name in "${selected[@]}"; do
  log="$logs/$name.log"
  echo "== $name: started (log: $log)"
  start=$SECONDS
  # A subshell of its own with errexit on: the first failing command ends the stage. (Run
  # outside any condition, where bash would ignore errexit.)
  set +e
  ( set -euo pipefail; "stage_${name//-/_}" ) >"$log" 2>&1
  status=$?
  set -e
  seconds[$name]=$((SECONDS - start))
  if [ "$status" -eq 0 ]; then
    result[$name]=passed
    echo "== $name: passed in ${seconds[$name]} s"
  else
    result[$name]=failed
    echo "== $name: FAILED (exit $status) in ${seconds[$name]} s; the last 60 lines of $log:"
    tail -n 60 "$log" | sed 's/^/   | /'
    summary
    exit 1
  fi
done
summary
