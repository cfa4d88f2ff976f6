#!/usr/bin/env bash
# Prints the Cortex-M footprint table and the instruction counts of allocate/release.
#
#   scripts/cortex-m-report.sh [build dir]      (default: build/cortex-m)
#
# Builds the Cortex-M configuration if needed (scripts/setup.sh installs the tools). For each
# board, the footprint is what the library contributes to cortex_m/footprint.c, a minimal
# firmware calling every API function, linked at the size-tuned `firmware` cargo profile
# (opt-level "s", LTO, one codegen unit, panic=abort): the linker script gathers the library's
# input sections into their own output sections, whose bounds are read here. The instruction
# counts come from cortex_m/insn_count.c run under QEMU with -icount (see that file).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/cortex-m}"
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j 2 >/dev/null

symbol() { arm-none-eabi-nm "$1" | awk -v s="$2" '$3 == s { print $1 }'; }
span() { echo $(( 0x$(symbol "$1" "$3") - 0x$(symbol "$1" "$2") )); }

echo "Library footprint in a minimal firmware calling every API function (bytes):"
echo
echo "| board | core | Rust target | .text | .rodata | .data | .bss | sizeof(aes5_buffer_manager_storage_t) |"
echo "|---|---|---|---:|---:|---:|---:|---:|"
for entry in "microbit:microbit:Cortex-M0:thumbv6m-none-eabi" "mps2-an385:an385:Cortex-M3:thumbv7m-none-eabi" \
             "mps2-an386:an386:Cortex-M4F:thumbv7em-none-eabihf" "mps2-an505:an505:Cortex-M33:thumbv8m.main-none-eabihf"; do
  IFS=: read -r board id core triple <<<"$entry"
  elf="$build/${id}_footprint.elf"
  [ -f "$elf" ] || continue
  text=$(span "$elf" __aes5_text_start __aes5_text_end)
  rodata=$(span "$elf" __aes5_rodata_start __aes5_rodata_end)
  data=$(span "$elf" __aes5_data_start __aes5_data_end)
  bss=$(span "$elf" __aes5_bss_start __aes5_bss_end)
  storage=$(( 0x$(arm-none-eabi-nm -S "$elf" | awk '$4 == "storage" { print $2 }') ))
  echo "| $board | $core | $triple | $text | $rodata | $data | $bss | $storage |"
done
echo
echo "Budgets: library .data + .bss = 0; storage <= 32768 (default geometry); .text + .rodata <= 8192"
echo "on thumbv7em-none-eabihf. microbit uses the small test geometry (4/2/2 x 256 B)."
echo
echo "Instructions per call, validation on, including callees (cortex_m/insn_count.c under -icount)."
echo "Budgets, allocate / release: Cortex-M4F <= 100 / 70 with monitoring off and <= 200 / 170 with it on;"
echo "Cortex-M0 <= 150 / 110 with monitoring off."
echo
for entry in "microbit:microbit:Cortex-M0" "mps2-an385:an385:Cortex-M3" "mps2-an386:an386:Cortex-M4F" \
             "mps2-an505:an505:Cortex-M33"; do
  IFS=: read -r board id core <<<"$entry"
  elf="$build/${id}_insn_count.elf"
  [ -f "$elf" ] || continue
  echo "  $board ($core):"
  qemu-system-arm -M "$board" -nographic -monitor none -semihosting-config enable=on,target=native \
    -icount shift=0 -kernel "$elf" | sed 's/^insn_count: /    /'
done
