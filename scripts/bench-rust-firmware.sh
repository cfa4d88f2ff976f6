#!/usr/bin/env bash
# Counts instructions per allocate and per release on Cortex-M4F: builds the Rust benchmark
# firmware (benchmarks/rust-firmware) at opt-level "s" (profile release) and 3 (profile speed),
# runs it under QEMU mps2-an386 with a TCG plugin (cortex-m/qemu-plugin/insn_count_plugin.c)
# that counts the instructions between the firmware's marks exactly, and, for the opt-level "s"
# image, counts the instructions executed in each library function with the same plugin.
#
# Writes target/aes5-bench/cortex-m/{release,speed}.txt (per contender, in the firmware's
# order: "RESULT <id> <allocate instructions> <release instructions> <operations> <label>"),
# release-breakdown.txt and release-functions.txt ("<instructions> <symbol>" per library
# function, from a run of the C ABI alone), which scripts/bench-report.py turns into the
# Cortex-M section of BENCHMARKS.md.
#
#   scripts/bench-rust-firmware.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

# QEMU, the Arm binutils, gcc for the plugin and the Cortex-M targets.
scripts/setup.sh bench

out=target/aes5-bench/cortex-m
mkdir -p "$out"
qemu=(qemu-system-arm -M mps2-an386 -nographic -monitor none
  -semihosting-config enable=on,target=native -icount shift=0)
firmware=benchmarks/rust-firmware
plugin="$out/libinsncount.so"
gcc -O2 -shared -fPIC -o "$plugin" cortex-m/qemu-plugin/insn_count_plugin.c

# count ELF OUTPUT: runs the firmware with the plugin marking `insn_mark` and writes, per
# contender the firmware names ("MEASURED <id> <batches> <held> <label>"), "RESULT <id>
# <allocate instructions> <release instructions> <operations> <label>" summed over its batches
# (three marks per batch: before the allocations, between the halves, after the releases).
count() {
  local mark
  mark=$(( 0x$(arm-none-eabi-nm "$1" | awk '$3 == "insn_mark" { print $1 }') & ~1 ))
  timeout 300 "${qemu[@]}" -kernel "$1" -plugin "$plugin,mark=$mark" -d plugin -D "$2.marks" > "$2.log" 2>/dev/null
  awk 'BEGIN { i = 0; n = 0; results = 0 }
       FILENAME == ARGV[1] { if ($1 == "mark") m[n++] = $2; next }
       $1 == "MEASURED" {
         a = 0; r = 0
         for (b = 0; b < $3; b++) { a += m[i + 1] - m[i]; r += m[i + 2] - m[i + 1]; i += 3 }
         label = $0; sub(/^ *MEASURED +[^ ]+ +[^ ]+ +[^ ]+ */, "", label)
         print "RESULT", $2, a, r, $3 * $4, label
         results++
       }
       END {
         if (n == 0 || results == 0) { print "count: no marks or no measured contender in " ARGV[2] > "/dev/stderr"; exit 1 }
         if (i != n) { print "count: " n - i " marks left over" > "/dev/stderr"; exit 1 }
       }' "$2.marks" "$2.log" > "$2"
}

for profile in release speed; do
  (cd "$firmware" && cargo build --locked --profile "$profile")
  count "$firmware/target/thumbv7em-none-eabihf/$profile/aes5-cortex-m-bench" "$out/$profile.txt"
  echo "== $profile: $(tr '\n' ';' < "$out/$profile.txt")"
done

# Instructions executed inside each library function, from an opt-level "s" image that runs
# only the C ABI with monitoring off (feature "breakdown").
(cd "$firmware" && cargo build --locked --profile release --features breakdown --target-dir target/breakdown)
elf=$firmware/target/breakdown/thumbv7em-none-eabihf/release/aes5-cortex-m-bench
count "$elf" "$out/release-breakdown.txt"
: > "$out/release-functions.txt"
arm-none-eabi-nm "$elf" | awk '$2 ~ /^[tT]$/ {print $3}' | grep 'aes5_buffer_manager' | sort -u |
  while read -r sym; do
    count=$(timeout 300 "${qemu[@]}" -kernel "$elf" -plugin "$plugin,sym=$sym" -d plugin 2>&1 >/dev/null |
      sed -n 's/.*selected_insns=\([0-9]*\).*/\1/p' | head -n 1)
    if [ -n "$count" ] && [ "$count" != "0" ]; then
      echo "$count $(echo "$sym" | arm-none-eabi-c++filt)" >> "$out/release-functions.txt"
    fi
  done
sort -rn -o "$out/release-functions.txt" "$out/release-functions.txt"
echo "bench-rust-firmware: results in $out"
