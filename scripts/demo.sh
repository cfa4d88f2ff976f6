#!/usr/bin/env bash
# Sets everything up, builds the library and the demo with CMake, and streams 3 seconds of
# 48 kHz stereo audio through the pools, printing the statistics and performance report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
cmake -S . -B build/host -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/host --target aes5_demo -j 2
./build/host/aes5_demo "$@"
