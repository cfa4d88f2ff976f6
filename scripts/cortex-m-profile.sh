#!/usr/bin/env bash
# Where the Cortex-M instructions of allocate, enqueue, dequeue and release go: the
# instruction-count image (cortex-m/images/insn_count.c) runs under QEMU with the TCG plugin
# (cortex-m/qemu-plugin/insn_count_plugin.c) in its profile mode, which counts, between two of
# the image's marks, the instructions executed in each function. Each part is counted in the
# image's second round (the first moves the manager from Ready to Active), monitoring off and
# then on; the counts are exact, so one round is the whole story.
#
#   scripts/cortex-m-profile.sh               Cortex-M4F (mps2-an386)
#   scripts/cortex-m-profile.sh microbit      another board of the Cortex-M suite
#                                             (microbit, mps2-an385, mps2-an386, mps2-an505)
#
# It builds the board's image with the cortex-m preset when it is missing
# (scripts/cortex-m-costs.sh and scripts/test.sh cortex-m build them all).
set -euo pipefail
cd "$(dirname "$0")/.."

board=${1:-mps2-an386}
case "$board" in
  microbit | mps2-an385 | mps2-an386 | mps2-an505) ;;
  *) echo "usage: $0 [microbit|mps2-an385|mps2-an386|mps2-an505]" >&2; exit 2 ;;
esac
id=${board#mps2-}
build=build/cortex-m
elf="$build/${id}_insn_count.elf"
if [ ! -f "$elf" ]; then
  scripts/setup.sh test >/dev/null
  cmake --preset cortex-m >/dev/null
  cmake --build --preset cortex-m --target "${id}_insn_count" >/dev/null
fi
plugin="$build/libinsncount.so"
gcc -O2 -shared -fPIC -o "$plugin" cortex-m/qemu-plugin/insn_count_plugin.c

rounds=$(sed -n 's/^#define ROUNDS \([0-9]*\)u$/\1/p' cortex-m/images/insn_count.c)
marker=$(( 0x$(arm-none-eabi-nm "$elf" | awk '$3 == "insn_mark" { print $1 }') & ~1 ))
# Rust's legacy symbol names, shortened: the crate's own paths, generic brackets, no hash.
readable() {
  arm-none-eabi-c++filt | sed -e 's/\$LT\$/</g; s/\$GT\$/>/g; s/\$u20\$/ /g; s/\$RF\$/\&/g; s/\.\./::/g' \
    -e 's/::h[0-9a-f]\{16\}$//; s/aes5_buffer_manager:://g'
}

echo "Instructions per function on $board ($elf), round 2 of $rounds, validation on."
# Each round passes 6 marks: around nothing, then around allocate, enqueue, dequeue, release.
parts=(allocate enqueue dequeue release)
for phase in 0 1; do
  label="monitoring off"
  [ "$phase" -eq 0 ] || label="monitoring on (one-load clock)"
  for part in 0 1 2 3; do
    from=$(( phase * rounds * 6 + 6 + part + 2 ))
    out=$(mktemp)
    qemu-system-arm -M "$board" -nographic -monitor none -semihosting-config enable=on,target=native \
      -icount shift=0 -kernel "$elf" -plugin "$plugin,mark=$marker,profile=$from:$((from + 1))" \
      -d plugin -D "$out" >/dev/null 2>&1 || { echo "insn_count on $board failed" >&2; exit 1; }
    echo
    echo "${parts[$part]}, $label:"
    grep '^profile ' "$out" | sort -k2,2nr | while read -r _ count symbol; do
      printf '  %6d  %s\n' "$count" "$(echo "$symbol" | readable)"
    done
    awk '$1 == "profile" { total += $2 } END { printf "  %6d  in all (the mark function'"'"'s own instructions included)\n", total }' "$out"
    rm -f "$out"
  done
done
