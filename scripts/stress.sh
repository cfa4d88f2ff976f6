#!/usr/bin/env bash
# Builds and runs the multi-threaded C stress test through the C ABI for longer than the
# ctest run: 4 threads (default) share one manager, allocate, tag, verify and release buffers,
# race double releases and release foreign pointers; every count must reconcile at the end.
#
#   scripts/stress.sh --seconds 600              # ten minutes
#   scripts/stress.sh --seconds 60 --threads 8   # other options go to the stress program
#   AES5_STRESS_SANITIZE=1 scripts/stress.sh --seconds 60   # under ASan + UBSan
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh stress
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
# The presets of CMakePresets.json: release (the host build without valgrind) or sanitize.
if [ "${AES5_STRESS_SANITIZE:-0}" = 1 ]; then
  preset=sanitize
else
  preset=release
fi
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target aes5_stress
exec "./build/$preset/aes5_stress" "$@"
