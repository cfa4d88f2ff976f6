#!/usr/bin/env bash
# Installs what building, the demo, the tests and the benchmarks need on a Debian machine with
# a rustup Rust toolchain: cmake, a C/C++ compiler, make, valgrind, python3 with pip (the
# benchmark report; scripts/bench.sh adds matplotlib), the clippy/rustfmt components and the
# Cortex-M Rust targets.
# Idempotent.
set -euo pipefail

missing=()
for tool in cmake gcc g++ make git valgrind python3; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing Debian packages for: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    cmake gcc g++ make git valgrind python3 python3-pip ca-certificates >/dev/null
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
  # Cortex-M targets with compare-and-swap, checked by scripts/test.sh.
  rustup target add thumbv7m-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabihf >/dev/null
fi
cargo fetch --locked >/dev/null
