#!/usr/bin/env bash
# Sets everything up and runs the whole test suite:
#   1. cargo fmt --check, cargo clippy -D warnings, cargo test (Rust unit tests), the benchmark
#      suite builds (cargo bench --no-run), clippy and the unit tests of a build with monitoring
#      compiled out (AES5_MONITORING=0), clippy for the four Cortex-M targets (thumbv6m with
#      both critical-section features), and fmt + clippy + a QEMU run of the Cortex-M4F
#      benchmark firmware (bench/cortex-m)
#   2. the committed header equals a fresh generation
#   3. CMake + ctest with the default geometry (C/C++ tests, header checks, demo run, the
#      installed package tried by a find_package() consumer and a pkg-config consumer, and a
#      native-static-libs drift check), each C/C++ test also under valgrind memcheck
#   4. CMake + ctest with a small geometry (4/2/2 buffers of 512 bytes): the same C tests
#   5. the same C/C++ tests built with -fsanitize=address,undefined (library with debug
#      assertions and overflow checks)
#   6. Cortex-M: the same C/C++ tests as firmware images on four emulated boards under QEMU
#      (microbit M0, mps2-an385 M3, mps2-an386 M4F, mps2-an505 M33), the interrupt-preemption
#      stress test on microbit and mps2-an386, the footprint images (whole API, life cycle only,
#      and on those two boards both again with monitoring compiled out) and their report, and
#      the Cortex-M4F library alone built and installed
#   7. verification (VERIFICATION.md): the loom models, and a reproducible run of 1.5 million inputs of the C ABI fuzz target
#      (the proptest model test runs in step 1, the C stress test in steps 3-5)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

echo "== Rust: format, lints, unit tests, model-based property test (proptest)"
cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
# The benchmark suite (benches/pools) must keep building; it is run by scripts/bench.sh.
cargo bench --no-run --locked
# The library with monitoring compiled out (AES5_MONITORING=0): lints clean, the unit tests
# pass (the three that exercise monitoring itself are ignored), and asking for monitoring is
# refused.
AES5_MONITORING=0 CARGO_TARGET_DIR=target/no-monitoring cargo clippy --locked --release --lib -- -D warnings
AES5_MONITORING=0 CARGO_TARGET_DIR=target/no-monitoring cargo test --locked --release --lib

echo "== Rust: the library type-checks and lints clean for Cortex-M0, M3, M4F and M33"
for features in single-core firmware-critical-section; do
  cargo clippy --locked --release --lib --target thumbv6m-none-eabi --features "$features" -- -D warnings
done
for target in thumbv7m-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabihf; do
  cargo clippy --locked --release --lib --target "$target" -- -D warnings
done
# The Cortex-M4F benchmark firmware (bench/cortex-m, its own package, whose .cargo/config.toml
# selects the target) keeps building, linking and running to its end under QEMU (no figures
# are checked here; scripts/bench.sh publishes them).
(cd bench/cortex-m && cargo fmt --check && cargo clippy --locked --release -- -D warnings &&
  cargo build --locked --release)
timeout 120 qemu-system-arm -M mps2-an386 -nographic -monitor none \
  -semihosting-config enable=on,target=native -icount shift=0 \
  -kernel bench/cortex-m/target/thumbv7em-none-eabihf/release/aes5-cortex-m-bench >/dev/null
# It is a Rust firmware with its own panic handler (the library's default features off) and its
# own aes5_panic_hook, linked with LTO: a panic must reach the firmware's handler.
(cd bench/cortex-m && cargo build --locked --release --features panic-check --target-dir target/panic-check)
panic_run=$(timeout 60 qemu-system-arm -M mps2-an386 -nographic -monitor none \
  -semihosting-config enable=on,target=native \
  -kernel bench/cortex-m/target/panic-check/thumbv7em-none-eabihf/release/aes5-cortex-m-bench || true)
echo "$panic_run" | grep -q "firmware panic handler ran" ||
  { echo "the Rust firmware's own panic handler did not run: $panic_run" >&2; exit 1; }

echo "== Header: the committed include/aes5_buffer_manager.h matches a fresh generation"
cargo build --locked --lib
if [ -d .git ] && command -v git >/dev/null 2>&1; then
  git diff --exit-code -- include/aes5_buffer_manager.h
fi

echo "== C/C++: default geometry (and valgrind memcheck)"
cmake -S . -B build/host -DCMAKE_BUILD_TYPE=Release -DAES5_VALGRIND=ON >/dev/null
cmake --build build/host -j 2
ctest --test-dir build/host --output-on-failure -j 2

echo "== C/C++: small geometry (Primary 4, Conversion 2, Scratch 2 x 512 bytes, history 8)"
cmake -S . -B build/small -DCMAKE_BUILD_TYPE=Release \
  -DAES5_GEOMETRY="AES5_PRIMARY_BUFFER_COUNT=4;AES5_CONVERSION_BUFFER_COUNT=2;AES5_SCRATCH_BUFFER_COUNT=2;AES5_BUFFER_BYTES=512;AES5_HISTORY_CAPACITY=8" >/dev/null
cmake --build build/small -j 2
ctest --test-dir build/small --output-on-failure

echo "== C/C++: AddressSanitizer + UndefinedBehaviorSanitizer build of the same tests"
cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=Debug -DAES5_SANITIZE=ON >/dev/null
cmake --build build/sanitize -j 2
ctest --test-dir build/sanitize --output-on-failure

echo "== Cortex-M: the C/C++ tests, interrupt stress and footprint images under QEMU (4 boards)"
cmake -S . -B build/cortex-m -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/cortex-m -j 2
ctest --test-dir build/cortex-m --output-on-failure -j 2
scripts/cortex-m-report.sh build/cortex-m
# The library alone for one core (tests and demo off): a plain build builds it, and it installs
# with no host libraries in its package or .pc.
rm -rf build/cortex-m-lib
cmake -S . -B build/cortex-m-lib -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake -DAES5_BUILD_TESTS=OFF \
  -DAES5_BUILD_DEMO=OFF -DAES5_RUST_TARGET=thumbv7em-none-eabihf -DAES5_CARGO_PROFILE=firmware >/dev/null
cmake --build build/cortex-m-lib -j 2
cmake --install build/cortex-m-lib --prefix build/cortex-m-lib/stage >/dev/null
for f in lib/libaes5_buffer_manager.a include/aes5_buffer_manager.h lib/pkgconfig/aes5_buffer_manager.pc \
         lib/cmake/aes5_buffer_manager/aes5_buffer_managerConfig.cmake \
         lib/cmake/aes5_buffer_manager/aes5_buffer_managerConfigVersion.cmake; do
  test -f "build/cortex-m-lib/stage/$f" || { echo "Cortex-M install lacks $f" >&2; exit 1; }
done
grep -qx 'Libs.private: *' build/cortex-m-lib/stage/lib/pkgconfig/aes5_buffer_manager.pc ||
  { echo "the Cortex-M package names host libraries" >&2; exit 1; }

echo "== Verification: loom models of the lock-free core"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo clippy --locked --release --all-targets -- -D warnings
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test --locked --release --lib -- --test-threads=1 --nocapture

echo "== Verification: coverage-guided fuzzing of the C ABI (1.5 million inputs, seed 1, about a minute)"
scripts/fuzz.sh --runs 1500000
