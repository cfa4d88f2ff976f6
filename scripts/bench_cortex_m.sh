#!/usr/bin/env bash
# Counts instructions per allocate and per release on Cortex-M4F: builds the benchmark
# firmware (bench/cortex-m) at opt-level "s" (profile release) and 3 (profile speed), runs it
# under QEMU mps2-an386 with -icount shift=0 (SysTick then advances once per 40
# instructions), and, for the opt-level "s" image, counts the instructions executed in each
# library function with a TCG plugin (bench/cortex-m/qemu-insn-count.c).
#
# Writes target/aes5-bench/cortex-m/{release,speed}.txt (the firmware's output),
# release-breakdown.txt and release-functions.txt ("<instructions> <symbol>" per library
# function, from a run of the C ABI alone), which
# scripts/bench_report.py turns into the Cortex-M section of BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

missing=()
command -v qemu-system-arm >/dev/null 2>&1 || missing+=(qemu-system-arm)
command -v arm-none-eabi-nm >/dev/null 2>&1 || missing+=(binutils-arm-none-eabi)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "bench_cortex_m: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if command -v rustup >/dev/null 2>&1; then
  rustup target add thumbv7em-none-eabihf >/dev/null
fi

out=target/aes5-bench/cortex-m
mkdir -p "$out"
qemu=(qemu-system-arm -M mps2-an386 -nographic -monitor none
  -semihosting-config enable=on,target=native -icount shift=0)

for profile in release speed; do
  (cd bench/cortex-m && cargo build --locked --profile "$profile")
  elf=bench/cortex-m/target/thumbv7em-none-eabihf/$profile/aes5-cortex-m-bench
  timeout 300 "${qemu[@]}" -kernel "$elf" > "$out/$profile.txt"
  echo "== $profile: $(tr '\n' ';' < "$out/$profile.txt")"
done

# Instructions executed inside each library function, from an opt-level "s" image that runs
# only the C ABI with monitoring off (feature "breakdown").
plugin="$out/libinsncount.so"
gcc -O2 -shared -fPIC -o "$plugin" bench/cortex-m/qemu-insn-count.c
(cd bench/cortex-m && cargo build --locked --profile release --features breakdown --target-dir target/breakdown)
elf=bench/cortex-m/target/breakdown/thumbv7em-none-eabihf/release/aes5-cortex-m-bench
timeout 300 "${qemu[@]}" -kernel "$elf" > "$out/release-breakdown.txt"
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
echo "bench_cortex_m: results in $out"
