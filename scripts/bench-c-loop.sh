#!/usr/bin/env bash
# An independent check of the benchmark suite: a plain C loop (benchmarks/c-loop/pair_loop.c) of
# allocate+release pairs through the C ABI against glibc malloc(2048)+free in both heap states,
# and the same loop under callgrind (instructions per pair, whatever the machine's load); and
# glibc's instructions per malloc+free pair inside the benchmark suite's own process (its
# criterion benchmark under callgrind), whose heap is not a fresh one.
#
#   scripts/bench-c-loop.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
cargo rustc --locked --release --lib --crate-type staticlib
out=target/aes5-bench/c-loop
mkdir -p "$out"
cc -O2 -std=c11 -Wall -Wextra -Werror -Iinclude benchmarks/c-loop/pair_loop.c target/release/libaes5_buffer_manager.a \
  -lpthread -ldl -lm -o "$out/pair_loop"
taskset -c 0 "$out/pair_loop" | tee "$out/pair_loop.txt"

# The same loop, shorter, under callgrind: instructions per pair, independent of the machine's
# speed and load. Ours = the library's functions; malloc = glibc's malloc.c and arena.c.
pairs=100000
rounds=3
cc -O2 -std=c11 -Wall -Wextra -Werror -Iinclude -DPAIRS=${pairs}u -DROUNDS=${rounds}u benchmarks/c-loop/pair_loop.c \
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

# glibc's malloc+free inside the benchmark process (cargo bench --bench pools), whose heap the
# process's earlier allocations have shaped: criterion's glibc malloc+free benchmark
# (pair/malloc) alone, under callgrind, counting the instructions of the malloc and free calls
# made by its loop.
bench_bin=$(cargo bench --locked --bench pools --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message.get("executable") and message["target"]["name"] == "pools":
        print(message["executable"])')
[ -n "$bench_bin" ] || { echo "bench-c-loop: cargo did not name the pools benchmark binary" >&2; exit 1; }
# (CRITERION_HOME: criterion keeps this run's slowed figures apart from the suite's own.)
AES5_BENCH_SUITE=0 CRITERION_HOME="$out/criterion-under-callgrind" \
  valgrind --tool=callgrind --callgrind-out-file="$out/callgrind-bench-malloc.out" \
  "$bench_bin" --bench pair/malloc > "$out/callgrind-bench-malloc.log" 2>&1 ||
  { tail -20 "$out/callgrind-bench-malloc.log" >&2; exit 1; }
callgrind_annotate --tree=caller --inclusive=yes "$out/callgrind-bench-malloc.out" | awk '
  /^$/ { ir = 0; calls = 0; next }
  /< .*criterion::bencher::Bencher<M>::iter \(/ {
    ir = $1; gsub(",", "", ir); c = $0; sub(/.*iter \(/, "", c); sub(/x\).*/, "", c); gsub(",", "", c); calls = c; next
  }
  /\*  .*malloc\/malloc\.c:malloc \[/ && calls { m_ir = ir; m_calls = calls }
  /\*  .*malloc\/malloc\.c:free \[/ && calls { f_ir = ir; f_calls = calls }
  END {
    if (!m_calls || !f_calls) { print "callgrind: no malloc/free calls found in the benchmark process" > "/dev/stderr"; exit 1 }
    printf "callgrind: malloc(2048)+free pair in the benchmark process %.0f instructions (malloc %.0f, free %.0f)\n",
      m_ir / m_calls + f_ir / f_calls, m_ir / m_calls, f_ir / f_calls
  }' | tee -a "$out/callgrind-summary.txt"
