#!/usr/bin/env bash
# Installs, on a Debian machine with a rustup Rust toolchain, what one command needs, and only
# that: each script calls this with its purpose.
#
#   scripts/setup.sh demo     cmake, a C compiler and make (the demo preset builds no tests)
#   scripts/setup.sh stress   the same and a C++ compiler (the release preset builds the tests)
#   scripts/setup.sh fuzz     clang with its libFuzzer runtime (no CMake)
#   scripts/setup.sh package  what scripts/package.sh needs: CMake, the Arm cross compiler and
#                             the Rust targets of the SDK archives
#   scripts/setup.sh test     everything scripts/test.sh runs: the above, git, python3, valgrind,
#                             pkg-config, JACK2 (jackd and libjack), libsndfile, the GNU Arm toolchain with
#                             newlib, QEMU, the clippy/rustfmt components and the five Cortex-M
#                             Rust targets (the SDK archives add thumbv7em-none-eabi)
#   scripts/setup.sh bench    what scripts/bench.sh runs: the host benchmarks, the C loop under
#                             valgrind (callgrind), the Cortex-M firmware and its costs under
#                             QEMU, and python3 with pip for the report
#   scripts/setup.sh          all of the above
#
# Several purposes may be given. Idempotent: apt-get runs only when a package is missing, and
# rustup only when a component or target is.
set -euo pipefail

usage() { echo "usage: $0 [demo|stress|fuzz|package|test|bench]..." >&2; exit 2; }
[ $# -gt 0 ] || set -- demo stress fuzz package test bench

packages=()     # Debian packages to install
components=()   # rustup components needed
targets=()      # rustup targets needed
# needs_command COMMAND PACKAGE...: the packages, when COMMAND is not on the PATH.
needs_command() {
  local command=$1
  shift
  command -v "$command" >/dev/null 2>&1 || packages+=("$@")
}
# The CMake build of the host library and its demo (the demo preset: C only).
needs_cmake_c() {
  needs_command cmake cmake
  # gcc by name: the scripts also build QEMU's instruction-count plugin with it.
  needs_command gcc gcc
  needs_command make make
}
# The Cortex-M preset: the Arm cross compilers, newlib with its semihosting specs and C++
# headers, QEMU, and the four Cortex-M Rust targets of the emulated boards.
needs_cortex_m() {
  needs_cmake_c
  needs_command arm-none-eabi-gcc gcc-arm-none-eabi
  if ! command -v arm-none-eabi-gcc >/dev/null 2>&1 ||
     [ ! -f "$(arm-none-eabi-gcc -print-file-name=rdimon.specs)" ]; then
    packages+=(libnewlib-arm-none-eabi)
  fi
  if ! echo '#include <cstdint>' | arm-none-eabi-g++ -fsyntax-only -x c++ - >/dev/null 2>&1; then
    packages+=(libstdc++-arm-none-eabi-newlib)
  fi
  needs_command qemu-system-arm qemu-system-arm
  targets+=(thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabihf)
}
# The SDK archives (scripts/package.sh): CMake with cpack, the Arm cross compiler (CMake's
# compiler check), and every Rust target an archive is built for.
needs_package() {
  needs_cmake_c
  needs_command arm-none-eabi-gcc gcc-arm-none-eabi
  targets+=(thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabihf)
}
# clang and its libFuzzer runtime (scripts/fuzz.sh): any clang with libclang_rt.fuzzer.
has_libfuzzer() {
  local c
  for c in clang-19 clang; do
    if command -v "$c" >/dev/null 2>&1 &&
       { [ -f "$("$c" -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] ||
         [ -f "$("$c" -print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer.a" ]; }; then
      return 0
    fi
  done
  return 1
}
# Debian 12 ships clang 14 as "clang"; clang 19 has a libFuzzer that links with the
# sanitizer-coverage instrumentation of current rustc.
needs_fuzz() {
  has_libfuzzer || packages+=(clang-19 libclang-rt-19-dev)
}

for purpose in "$@"; do
  case "$purpose" in
    demo) needs_cmake_c ;;
    stress) needs_cmake_c; needs_command c++ g++ ;;
    fuzz) needs_fuzz ;;
    package) needs_package ;;
    test)
      needs_cmake_c
      needs_command c++ g++
      needs_command git git
      # The docs stage's reference check.
      needs_command python3 python3
      needs_command valgrind valgrind
      # pkg-config: the installed package's consumer test; it also finds libjack.
      needs_command pkg-config pkg-config
      # The JACK client example links libjack; its test runs jackd and jack_lsp.
      needs_command jackd jackd2
      if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists jack; then
        packages+=(libjack-jackd2-dev)
      fi
      # The JACK recorder example writes its WAV file with libsndfile.
      if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists sndfile; then
        packages+=(libsndfile1-dev)
      fi
      needs_cortex_m
      needs_package
      needs_fuzz
      components+=(clippy rustfmt)
      ;;
    bench)
      # The C loop's instruction counts (callgrind) and the report (python3; bench.sh adds
      # matplotlib with pip).
      needs_command valgrind valgrind
      needs_command python3 python3
      python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)
      # The Rust benchmark firmware is read with the Arm binutils (part of the cross compiler).
      needs_cortex_m
      ;;
    *) usage ;;
  esac
done

# cargo fetches crates over TLS.
[ -f /etc/ssl/certs/ca-certificates.crt ] || packages+=(ca-certificates)

if [ ${#packages[@]} -gt 0 ]; then
  # One name may have been queued by two purposes.
  mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup ($*): installing Debian packages: ${packages[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
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
  # Ask rustup only for what is not installed yet (each call costs a moment even when idle).
  missing() { comm -23 <(printf '%s\n' "$@" | sort -u) <(sort -u); }
  if [ ${#components[@]} -gt 0 ]; then
    # Installed components are listed with the host's triple: "clippy-x86_64-unknown-linux-gnu".
    host=$(rustc -vV | sed -n 's/^host: //p')
    mapfile -t add < <(rustup component list --installed | sed "s/-$host\$//" | missing "${components[@]}")
    [ ${#add[@]} -eq 0 ] || rustup component add "${add[@]}" >/dev/null
  fi
  if [ ${#targets[@]} -gt 0 ]; then
    mapfile -t add < <(rustup target list --installed | missing "${targets[@]}")
    [ ${#add[@]} -eq 0 ] || rustup target add "${add[@]}" >/dev/null
  fi
fi
cargo fetch --locked >/dev/null
