#!/usr/bin/env bash
# Coverage-guided fuzzing of the C ABI with libFuzzer (clang) on a stable Rust toolchain.
#
# The library is built as a static library with LLVM sanitizer-coverage instrumentation
# (rustc -Cpasses=sancov-module), debug assertions and overflow checks; the fuzz target
# fuzz/fuzz_api.c is built with clang -fsanitize=fuzzer,address,undefined and linked to it,
# so the fuzzer is guided by the branches of the Rust code as well as the target's.
#
#   scripts/fuzz.sh --seconds 600     # fuzz for ten minutes (new inputs go to build/fuzz/corpus)
#   scripts/fuzz.sh --runs 1500000    # what CI runs: a fixed seed and number of inputs, from
#                                     # the committed corpus only, with address randomisation
#                                     # off, so a failure replays exactly on the same revision
#   scripts/fuzz.sh --minimize        # merge build/fuzz/corpus into fuzz/corpus, minimised
#   scripts/fuzz.sh --replay FILE...  # run the target on given inputs (e.g. a crash file)
#
# The committed corpus (fuzz/corpus, minimised) and the inputs of past failures
# (fuzz/regressions, each once a crash) seed every run; crashes are written to build/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh fuzz
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

seconds=60
runs=""
mode=fuzz
replay=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; mode=reproducible; shift 2 ;;
    --minimize) mode=minimize; shift ;;
    --replay) mode=replay; shift; replay=("$@"); break ;;
    *) echo "usage: $0 [--seconds N | --runs N] [--minimize] [--replay FILE...]" >&2; exit 2 ;;
  esac
done

clang=""
for c in clang-19 clang; do
  if command -v "$c" >/dev/null 2>&1; then clang="$c"; break; fi
done
[ -n "$clang" ] || { echo "fuzz: clang not found (scripts/setup.sh fuzz installs clang-19)" >&2; exit 1; }

out=build/fuzz
host=$(rustc -vV | sed -n 's/^host: //p')
# An explicit --target keeps the instrumentation off build.rs and its dependencies.
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=3 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cforce-frame-pointers=yes" \
CARGO_TARGET_DIR="$out/cargo" AES5_HEADER_OUT_DIR="$PWD/$out/include" \
  cargo rustc --locked --lib --crate-type staticlib --profile sanitize --target "$host"
"$clang" -g -O1 -Wall -Wextra -Wpedantic -Werror -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I "$out/include" \
  fuzz/fuzz_api.c "$out/cargo/$host/sanitize/libaes5_buffer_manager.a" -lm -lpthread -ldl -o "$out/fuzz_api"

mkdir -p "$out/corpus" "$out/artifacts"
case "$mode" in
  fuzz)
    exec "./$out/fuzz_api" -max_total_time="$seconds" -max_len=1024 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$out/artifacts/" "$out/corpus" fuzz/corpus fuzz/regressions
    ;;
  reproducible)
    # The harness compares pointers into static storage, so address randomisation would
    # change what the fuzzer learns from one run to the next; setarch -R turns it off, and
    # -reload=0 stops the timed rereading of the corpus directory.
    rm -rf "$out/reproducible-corpus" && mkdir -p "$out/reproducible-corpus"
    exec setarch "$(uname -m)" -R "./$out/fuzz_api" -seed=1 -runs="$runs" -reload=0 -max_len=1024 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$out/artifacts/" "$out/reproducible-corpus" fuzz/corpus fuzz/regressions
    ;;
  minimize)
    rm -rf "$out/minimized" && mkdir -p "$out/minimized"
    "./$out/fuzz_api" -set_cover_merge=1 -max_len=1024 "$out/minimized" fuzz/corpus "$out/corpus"
    rm -f fuzz/corpus/*
    cp "$out/minimized"/* fuzz/corpus/
    echo "fuzz: fuzz/corpus now holds $(ls fuzz/corpus | wc -l) inputs"
    ;;
  replay)
    exec "./$out/fuzz_api" "${replay[@]}"
    ;;
esac
