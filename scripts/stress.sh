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
scripts/setup.sh
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
if [ "${AES5_STRESS_SANITIZE:-0}" = 1 ]; then
  dir=build/sanitize
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DAES5_SANITIZE=ON >/dev/null
else
  dir=build/host
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$dir" --target aes5_stress -j "${AES5_BUILD_JOBS:-2}"
exec "./$dir/aes5_stress" "$@"
