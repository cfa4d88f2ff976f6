#!/usr/bin/env bash
# An independent check of the benchmark suite: a plain C loop (bench/c-loop/pair_loop.c) of
# allocate+release pairs through the C ABI against glibc malloc(2048)+free in both heap states,
# and the same loop under callgrind (instructions per pair, whatever the machine's load).
#
#   scripts/bench_c_loop.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
cargo rustc --locked --release --lib --crate-type staticlib
out=target/aes5-bench/c-loop
mkdir -p "$out"
cc -O2 -std=c11 -Wall -Wextra -Werror -Iinclude bench/c-loop/pair_loop.c target/release/libaes5_buffer_manager.a \
  -lpthread -ldl -lm -o "$out/pair_loop"
taskset -c 0 "$out/pair_loop" | tee "$out/pair_loop.txt"

# The same loop, shorter, under callgrind: instructions per pair, independent of the machine's
# speed and load. Ours = the library's functions; malloc = glibc's malloc.c and arena.c.
pairs=100000
rounds=3
cc -O2 -std=c11 -Wall -Wextra -Werror -Iinclude -DPAIRS=${pairs}u -DROUNDS=${rounds}u bench/c-loop/pair_loop.c \
  target/release/libaes5_buffer_manager.a -lpthread -ldl -lm -o "$out/pair_loop_short"
valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" "$out/pair_loop_short" >/dev/null 2>&1
callgrind_annotate --threshold=100 "$out/callgrind.out" > "$out/callgrind.txt"
# The loop runs every round twice (before and after the process creates a thread).
awk -v ours_pairs=$((2 * pairs * rounds)) -v heap_pairs=$((4 * pairs * rounds)) '
  /^ *[0-9,]+ +\(/ {
    n = $1; gsub(",", "", n)
    if ($0 ~ /aes5_buffer_manager/) ours += n
    else if ($0 ~ /malloc\/malloc\.c|malloc\/arena\.c/) heap += n
  }
  END {
    printf "callgrind: aes5 C ABI pair %.0f instructions\n", ours / ours_pairs
    printf "callgrind: malloc(2048)+free pair %.0f instructions (both heap states, with and without a thread)\n", heap / heap_pairs
  }' "$out/callgrind.txt" | tee "$out/callgrind-summary.txt"
