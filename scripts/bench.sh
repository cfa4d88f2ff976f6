#!/usr/bin/env bash
# Runs the host benchmark suite (benchmarks/host, `cargo bench --bench pools`: criterion + the
# interleaved suite), the plain C loop (scripts/bench-c-loop.sh), the Rust firmware's Cortex-M4F
# instruction counts under QEMU (scripts/bench-rust-firmware.sh), then the C firmware's footprint
# and instruction counts on all four Cortex-M cores (scripts/cortex-m-costs.sh), and renders
# BENCHMARKS.md (scripts/bench-report.py, words from benchmarks/report-template.md) and
# docs/latency.png from the results.
#
#   scripts/bench.sh            full run (a few minutes), then render
#   scripts/bench.sh --render   render again from the last results only
#
# Benchmarks are disturbed by anything else running: check `uptime` first and prefer a quiet
# machine. The interleaved suite runs every contender in every round, so ratios stay fair.
set -euo pipefail
cd "$(dirname "$0")/.."

results=target/aes5-bench/results.json

if [ "${1:-}" != "--render" ]; then
  scripts/setup.sh bench
  [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
  echo "== load before the run: $(uptime)"
  # The revision measured; "-modified" when sources differ from it (the outputs of this script
  # do not count).
  source=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [ -n "$(git status --porcelain -- . ':!BENCHMARKS.md' ':!docs/latency.png' 2>/dev/null)" ]; then
    source="$source-modified"
  fi
  AES5_BENCH_SOURCE="$source" AES5_BENCH_OUT="$PWD/$results" cargo bench --locked --bench pools
  echo "== load after the run: $(uptime)"
  scripts/bench-c-loop.sh
  scripts/bench-rust-firmware.sh
  # The C firmware of the Cortex-M suite: footprint and instruction counts on all four cores.
  scripts/cortex-m-costs.sh > target/aes5-bench/cortex-m-costs.txt
fi

if ! python3 -c 'import matplotlib' >/dev/null 2>&1; then
  echo "== installing matplotlib for the plot (pip, user site)"
  python3 -m pip install --user --quiet matplotlib \
    || python3 -m pip install --user --quiet --break-system-packages matplotlib
fi
python3 scripts/bench-report.py --results "$results" --criterion target/criterion \
  --cortex-m target/aes5-bench/cortex-m --cortex-m-costs target/aes5-bench/cortex-m-costs.txt \
  --markdown BENCHMARKS.md --plot docs/latency.png
