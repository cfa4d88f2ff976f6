#!/usr/bin/env bash
# Sets up what the demo needs, builds the library and the demo with CMake (the demo preset:
# no tests, so none of the test tools), and streams 3 seconds of 48 kHz stereo audio through
# the pools, printing the statistics and performance report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh demo
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
cmake --preset demo >/dev/null
cmake --build --preset demo --target aes5_demo
./build/demo/aes5_demo "$@"
