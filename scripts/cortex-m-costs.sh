#!/usr/bin/env bash
# Prints what the library costs a Cortex-M firmware: the flash and RAM footprint tables and
# the exact instruction counts of allocate/release, each budget with "met" or "missed".
#
#   scripts/cortex-m-costs.sh
#
# Builds the cortex-m preset (build/cortex-m) if needed; `scripts/setup.sh test` (or bench)
# installs the tools. For each board, the footprint is what the library contributes to
# cortex-m/images/footprint.c, a minimal firmware calling every API function (and to its
# life-cycle-only builds), linked at the size-tuned `firmware` cargo profile (opt-level "s",
# LTO, one codegen unit, panic=abort): the linker script gathers the library's input sections
# into their own output sections, whose bounds are read here. The instruction counts come from
# cortex-m/images/insn_count.c run under QEMU with the TCG plugin
# cortex-m/qemu-plugin/insn_count_plugin.c counting the instructions between its marks (see
# that file).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/cortex-m   # the binaryDir of the cortex-m preset (CMakePresets.json)
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake --preset cortex-m >/dev/null
fi
cmake --build --preset cortex-m >/dev/null

symbol() { arm-none-eabi-nm "$1" | awk -v s="$2" '$3 == s { print $1 }'; }
span() { echo $(( 0x$(symbol "$1" "$3") - 0x$(symbol "$1" "$2") )); }

boards="microbit:microbit:Cortex-M0:thumbv6m-none-eabi mps2-an385:an385:Cortex-M3:thumbv7m-none-eabi
        mps2-an386:an386:Cortex-M4F:thumbv7em-none-eabihf mps2-an505:an505:Cortex-M33:thumbv8m.main-none-eabihf"
# footprint_table IMAGE: one row per board of what the library contributes to IMAGE.
footprint_table() {
  echo "| board | core | Rust target | .text | .rodata | .text + .rodata | .data | .bss | sizeof(aes5_buffer_manager_storage_t) |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
  for entry in $boards; do
    IFS=: read -r board id core triple <<<"$entry"
    elf="$build/${id}_$1.elf"
    [ -f "$elf" ] || continue
    text=$(span "$elf" __aes5_text_start __aes5_text_end)
    rodata=$(span "$elf" __aes5_rodata_start __aes5_rodata_end)
    data=$(span "$elf" __aes5_data_start __aes5_data_end)
    bss=$(span "$elf" __aes5_bss_start __aes5_bss_end)
    storage=$(( 0x$(arm-none-eabi-nm -S "$elf" | awk '$4 == "storage" { print $2 }') ))
    echo "| $board | $core | $triple | $text | $rodata | $((text + rodata)) | $data | $bss | $storage |"
  done
}
# verdict IMAGE: the flash budget line for thumbv7em-none-eabihf, met or missed.
verdict() {
  elf="$build/an386_$1.elf"
  [ -f "$elf" ] || return 0
  flash=$(( $(span "$elf" __aes5_text_start __aes5_text_end) + $(span "$elf" __aes5_rodata_start __aes5_rodata_end) ))
  if [ "$flash" -le 8192 ]; then mark=met; else mark=missed; fi
  echo "Flash budget, .text + .rodata on thumbv7em-none-eabihf <= 8192: $flash, $mark."
}
# ram_verdicts: the RAM budget lines, met or missed: the library's own .data + .bss is 0 in
# every footprint image, and the storage of the default geometry (every board but microbit,
# which has the small one) is at most 32768 bytes.
ram_verdicts() {
  local statics=0 storage=0 elf size
  for elf in "$build"/*_footprint*.elf; do
    size=$(( $(span "$elf" __aes5_data_start __aes5_data_end) + $(span "$elf" __aes5_bss_start __aes5_bss_end) ))
    [ "$size" -le "$statics" ] || statics=$size
    case "$elf" in */microbit_*) continue ;; esac
    size=$(( 0x$(arm-none-eabi-nm -S "$elf" | awk '$4 == "storage" { print $2 }') ))
    [ "$size" -le "$storage" ] || storage=$size
  done
  if [ "$statics" -eq 0 ]; then mark=met; else mark=missed; fi
  echo "RAM budget, library .data + .bss = 0 in every footprint image: largest $statics, $mark."
  if [ "$storage" -le 32768 ]; then mark=met; else mark=missed; fi
  echo "RAM budget, storage <= 32768 with the default geometry (all boards but microbit): largest $storage, $mark."
}

# footprint_section IMAGE HEADING...: the heading lines, the table and the flash verdict of IMAGE.
footprint_section() {
  local image=$1
  shift
  printf '%s\n' "$@"
  echo
  footprint_table "$image"
  echo
  verdict "$image"
  echo
}

footprint_section footprint \
  "Library footprint in a minimal firmware calling every API function (cortex-m/images/footprint.c), bytes:"
ram_verdicts
echo "microbit uses the small geometry (4/2/2 x 256 B, storage trimmed to 3584 B)."
echo
footprint_section footprint_core \
  "The same for a firmware using only the buffer life cycle: init, allocate, validate, release," \
  "state, shutdown (cortex-m/images/footprint.c built with AES5_FOOTPRINT_LIFE_CYCLE_ONLY=1: no statistics," \
  "reports or texts), bytes:"
footprint_section footprint_lean \
  "The same life cycle against a library built with monitoring compiled out (AES5_MONITORING=0)," \
  "on the two boards that build it, bytes:"
footprint_section footprint_lean_whole \
  "The whole C API (cortex-m/images/footprint.c) against the same library, monitoring compiled out, bytes:"
echo "Where the flash goes on mps2-an386 (the whole-API image): the library's largest symbols, bytes."
echo
elf="$build/an386_footprint.elf"
if [ -f "$elf" ]; then
  in_library() { echo "$((0x$(symbol "$elf" __aes5_$1_start))) $((0x$(symbol "$elf" __aes5_$1_end)))"; }
  read -r text_lo text_hi <<<"$(in_library text)"
  read -r rodata_lo rodata_hi <<<"$(in_library rodata)"
  arm-none-eabi-nm -S -C -t d "$elf" \
    | awk -v tl="$text_lo" -v th="$text_hi" -v rl="$rodata_lo" -v rh="$rodata_hi" '
      NF >= 4 && (($1 + 0 >= tl && $1 + 0 < th) || ($1 + 0 >= rl && $1 + 0 < rh)) {
        size = $2 + 0; $1 = ""; $2 = ""; $3 = ""; sub(/^ +/, ""); printf "%6d  %s\n", size, $0 }' \
    | sed -e 's/aes5_buffer_manager:://g' -e 's/<impl [^>]*ManagerCore>:://' | sort -rn | awk 'NR <= 20' 
fi
echo
echo "Instructions per call, validation on, the call and every callee included, counted exactly by the"
echo "TCG plugin cortex-m/qemu-plugin/insn_count_plugin.c around each call of"
echo "cortex-m/images/insn_count.c (mean of rounds 2 to 1000; see that file). A line with a limit"
echo "for its core (allocate / release: Cortex-M4F monitoring off and on, Cortex-M0 off) ends"
echo "with that limit, met or missed."
echo
plugin="$build/libinsncount.so"
gcc -O2 -shared -fPIC -o "$plugin" cortex-m/qemu-plugin/insn_count_plugin.c
# judge CORE: appends "met" or "missed" to each count line that has a budget on CORE.
judge() {
  awk -v core="$1" '{
    budget = ""
    if (core == "Cortex-M4F" && $1 == "monitoring" && $2 == "off:") { a = 100; r = 70; budget = "<= 100 / 70" }
    if (core == "Cortex-M4F" && $1 == "monitoring" && $2 == "on") { a = 200; r = 170; budget = "<= 200 / 170" }
    if (core == "Cortex-M0" && $1 == "monitoring" && $2 == "off:") { a = 150; r = 110; budget = "<= 150 / 110" }
    if (budget != "") {
      match($0, /allocate [0-9.]+/); alloc = substr($0, RSTART + 9, RLENGTH - 9)
      match($0, /release [0-9.]+/); release = substr($0, RSTART + 8, RLENGTH - 8)
      $0 = $0 " (budget " budget ": " ((alloc + 0 <= a && release + 0 <= r) ? "met" : "missed") ")"
    }
    print "    " $0 }'
}
# per_call ROUNDS < marks: allocate and release per call, monitoring off then on, from the
# plugin's marks (4 per round: around nothing, around allocate, around release).
per_call() {
  awk -v rounds="$1" '$1 == "mark" { m[n++] = $2 }
    END {
      if (n != 8 * rounds) { printf "expected %d marks, got %d\n", 8 * rounds, n; exit 1 }
      for (mode = 0; mode < 2; mode++) {
        a = 0; r = 0
        for (round = 1; round < rounds; round++) {
          b = (mode * rounds + round) * 4
          empty = m[b + 1] - m[b]
          a += m[b + 2] - m[b + 1] - empty
          r += m[b + 3] - m[b + 2] - empty
        }
        printf "monitoring %s: allocate %.2f, release %.2f instructions\n",
          mode ? "on (one-load clock)" : "off", a / (rounds - 1), r / (rounds - 1)
      }
    }'
}
for entry in $boards; do
  IFS=: read -r board id core triple <<<"$entry"
  elf="$build/${id}_insn_count.elf"
  [ -f "$elf" ] || continue
  echo "  $board ($core):"
  mark=$(( 0x$(symbol "$elf" insn_mark) & ~1 ))
  marks="$build/${id}_insn_count.marks"
  layout=$(qemu-system-arm -M "$board" -nographic -monitor none -semihosting-config enable=on,target=native \
    -icount shift=0 -kernel "$elf" -plugin "$plugin,mark=$mark" -d plugin -D "$marks" 2>/dev/null) ||
    { echo "insn_count on $board failed: $layout" >&2; exit 1; }
  rounds=$(echo "$layout" | sed -n 's/^insn_count: \([0-9]*\) rounds of 4 marks.*/\1/p')
  [ -n "$rounds" ] || { echo "insn_count on $board: $layout" >&2; exit 1; }
  per_call "$rounds" < "$marks" | judge "$core"
done
