#!/usr/bin/env bash
# Sets up what the demo needs, builds the library and the demo with CMake (the demo preset:
# no tests, so none of the test tools), and streams 3 seconds of 48 kHz stereo audio through
# the pools, printing the statistics and performance report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh demo
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
echo "== demo: configuring (build/demo; the first run compiles the Rust library once here)"
# Only the configure's own progress lines: what aes5 is doing and cargo's, and the end.
cmake --preset demo | { grep -E '^-- aes5:|^ +(Compiling|Finished)|^-- (Configuring|Generating) done' || true; }
echo "== demo: building"
cmake --build --preset demo --target aes5_demo
echo "== demo: running"
./build/demo/aes5_demo "$@"
