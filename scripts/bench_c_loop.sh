#!/usr/bin/env bash
# An independent check of the benchmark suite: a plain C loop (bench/c-loop/pair_loop.c) of
# allocate+release pairs through the C ABI against glibc malloc(2048)+free in both heap states,
# and the same loop under callgrind (instructions per pair, whatever the machine's load).
#
#   scripts/bench_c_loop.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
cargo build --locked --release --lib
out=target/aes5-bench/c-loop
mkdir -p "$out"
cc -O2 -std=c11 -Wall -Wextra -Werror -Iinclude bench/c-loop/pair_loop.c target/release/libaes5_buffer_manager.a \
  -lpthread -ldl -lm -o "$out/pair_loop"
taskset -c 0 "$out/pair_loop" | tee "$out/pair_loop.txt"
