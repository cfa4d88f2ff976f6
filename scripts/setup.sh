#!/usr/bin/env bash
# Installs what building, the demo, the tests and the benchmarks need on a Debian machine with
# a rustup Rust toolchain: cmake, a C/C++ compiler, make, valgrind, pkg-config (the installed
# package's consumer test), JACK2 (jackd and libjack: the JACK client example and its test on
# the dummy backend), python3 with pip (the
# benchmark report; scripts/bench.sh adds matplotlib), the GNU Arm toolchain with newlib and
# QEMU (the Cortex-M tests and benchmarks), clang with libFuzzer (the fuzz target), the
# clippy/rustfmt components and the Cortex-M Rust targets.
# Idempotent.
set -euo pipefail

missing=()
for tool in cmake gcc g++ make git valgrind python3 pkg-config jackd arm-none-eabi-gcc qemu-system-arm; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
# The JACK client example links libjack (JACK2's development package).
if command -v pkg-config >/dev/null 2>&1 && ! pkg-config --exists jack; then
  missing+=("libjack-jackd2-dev")
fi
# newlib's semihosting specs come in a package of their own.
if command -v arm-none-eabi-gcc >/dev/null 2>&1 &&
   [ ! -f "$(arm-none-eabi-gcc -print-file-name=rdimon.specs)" ]; then
  missing+=("libnewlib-arm-none-eabi")
fi
# clang and its libFuzzer runtime (scripts/fuzz.sh): any clang with libclang_rt.fuzzer.
has_libfuzzer() {
  local c
  for c in clang-19 clang; do
    if command -v "$c" >/dev/null 2>&1 \
      && [ -f "$("$c" -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)" -o \
           -f "$("$c" -print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer.a" ]; then
      return 0
    fi
  done
  return 1
}
has_libfuzzer || missing+=(clang-libfuzzer)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing Debian packages for: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    cmake gcc g++ make git valgrind python3 python3-pip pkg-config ca-certificates jackd2 libjack-jackd2-dev \
    gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm >/dev/null
  if ! has_libfuzzer; then
    # Debian 12 ships clang 14 as "clang"; clang 19 has a libFuzzer that links with the
    # sanitizer-coverage instrumentation of current rustc.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      clang-19 libclang-rt-19-dev >/dev/null
  fi
fi

if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: no Rust toolchain found; install rustup (https://rustup.rs) and run again" >&2
  exit 1
fi
if command -v rustup >/dev/null 2>&1; then
  rustup component add clippy rustfmt >/dev/null 2>&1 || true
  # The Cortex-M targets of the emulated boards (scripts/test.sh builds and runs all four).
  rustup target add thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabihf >/dev/null
fi
cargo fetch --locked >/dev/null
