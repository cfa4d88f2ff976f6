#!/usr/bin/env bash
# Prints what the library costs a Cortex-M firmware: the flash and RAM footprint tables and
# the exact instruction counts of allocate, enqueue, dequeue and release, each budget with
# "met" or "missed".
#
#   scripts/cortex-m-costs.sh                  the report
#   scripts/cortex-m-costs.sh --readme update  the report, then README.md's figures rewritten from it
#   scripts/cortex-m-costs.sh --readme check   the report, then exit 1 if README.md's figures differ
#
# README.md's Cortex-M footprint and instruction tables sit between
# "<!-- cortex-m-costs: NAME begin -->" and "<!-- cortex-m-costs: NAME end -->" lines: this
# script writes them, and the cortex-m test stage checks them, so they always describe the
# revision they are in.
#
# Builds the cortex-m preset (build/cortex-m) if needed; `scripts/setup.sh test` (or bench)
# installs the tools. For each board, the footprint is what the library contributes to
# cortex-m/images/footprint.c, a minimal firmware calling every API function (and to its
# life-cycle-only builds), linked at the size-tuned `firmware` cargo profile (opt-level "s",
# LTO, one codegen unit, panic=abort): the linker script gathers the library's input sections
# into their own output sections, whose bounds are read here. The instruction counts come from
# cortex-m/images/insn_count.c run under QEMU with the TCG plugin
# cortex-m/qemu-plugin/insn_count_plugin.c counting the instructions between its marks (see
# that file). Both are deterministic: the same sources and tools give the same figures.
set -euo pipefail
shopt -s inherit_errexit   # a failing step inside $(...) fails the script too
export LC_ALL=C            # the same sort order and number formats everywhere
cd "$(dirname "$0")/.."
readme_mode=
case "${1:-}" in
  "") ;;
  --readme) readme_mode=${2:-}; [ "$readme_mode" = update ] || [ "$readme_mode" = check ] ||
    { echo "usage: $0 [--readme update|check]" >&2; exit 2; } ;;
  *) echo "usage: $0 [--readme update|check]" >&2; exit 2 ;;
esac
build=build/cortex-m   # the binaryDir of the cortex-m preset (CMakePresets.json)
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake --preset cortex-m >/dev/null
fi
cmake --build --preset cortex-m >/dev/null

# The flash budgets on Cortex-M4F (.text + .rodata) by footprint image (the whole C API; the
# life cycle with monitoring; the images built without monitoring are reported only), and the
# storage budget, bytes.
declare -A flash_budget_of=([footprint]=10240 [footprint_core]=6144)
storage_budget=32768

symbol() { arm-none-eabi-nm "$1" | awk -v s="$2" '$3 == s { print $1 }'; }
span() { echo $(( 0x$(symbol "$1" "$3") - 0x$(symbol "$1" "$2") )); }
storage_of() { echo $(( 0x$(arm-none-eabi-nm -S "$1" | awk '$4 == "storage" { print $2 }') )); }
# thousands N: N with a comma every three digits, as the README writes figures.
thousands() { printf '%s' "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|[^0-9]\)/\1,\2\3/' -e 'ta'; }

# mark VALUE LIMIT: "met" when VALUE <= LIMIT (either may have decimals), else "missed".
mark() { awk -v x="$1" -v limit="$2" 'BEGIN { print (x + 0 <= limit + 0) ? "met" : "missed" }'; }

boards="microbit:microbit:Cortex-M0:thumbv6m-none-eabi mps2-an385:an385:Cortex-M3:thumbv7m-none-eabi
        mps2-an386:an386:Cortex-M4F:thumbv7em-none-eabihf mps2-an505:an505:Cortex-M33:thumbv8m.main-none-eabihf"

# What the library contributes to each image, by "<board id>_<image>": .text and .rodata.
declare -A text_of rodata_of
for elf in "$build"/*_footprint*.elf; do
  key=$(basename "$elf" .elf)
  text_of[$key]=$(span "$elf" __aes5_text_start __aes5_text_end)
  rodata_of[$key]=$(span "$elf" __aes5_rodata_start __aes5_rodata_end)
done
flash_of() { echo $(( ${text_of[$1]} + ${rodata_of[$1]} )); }

# footprint_table IMAGE: one row per board of what the library contributes to IMAGE.
footprint_table() {
  echo "| board | core | Rust target | .text | .rodata | .text + .rodata | .data | .bss | sizeof(aes5_buffer_manager_storage_t) |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
  for entry in $boards; do
    IFS=: read -r board id core triple <<<"$entry"
    elf="$build/${id}_$1.elf"
    [ -f "$elf" ] || continue
    data=$(span "$elf" __aes5_data_start __aes5_data_end)
    bss=$(span "$elf" __aes5_bss_start __aes5_bss_end)
    echo "| $board | $core | $triple | ${text_of[${id}_$1]} | ${rodata_of[${id}_$1]} | $(flash_of "${id}_$1") | $data | $bss | $(storage_of "$elf") |"
  done
}
# verdict IMAGE: the flash budget line for thumbv7em-none-eabihf, met or missed (or the
# figure alone, for an image without a budget).
verdict() {
  [ -n "${text_of[an386_$1]:-}" ] || return 0
  flash=$(flash_of "an386_$1")
  local limit=${flash_budget_of[$1]:-}
  if [ -n "$limit" ]; then
    echo "Flash budget, .text + .rodata on thumbv7em-none-eabihf <= $limit: $flash, $(mark "$flash" "$limit")."
  else
    echo "Flash, .text + .rodata on thumbv7em-none-eabihf: $flash (reported)."
  fi
}
# ram_verdicts: the RAM budget lines, met or missed: the library's own .data + .bss is 0 in
# every footprint image, and the storage of the default geometry (every board but microbit,
# which has the small one) is at most 32768 bytes.
largest_statics=0 largest_storage=0
ram_verdicts() {
  local elf size
  for elf in "$build"/*_footprint*.elf; do
    size=$(( $(span "$elf" __aes5_data_start __aes5_data_end) + $(span "$elf" __aes5_bss_start __aes5_bss_end) ))
    [ "$size" -le "$largest_statics" ] || largest_statics=$size
    case "$elf" in */microbit_*) continue ;; esac
    size=$(storage_of "$elf")
    [ "$size" -le "$largest_storage" ] || largest_storage=$size
  done
  echo "RAM budget, library .data + .bss = 0 in every footprint image: largest $largest_statics, $(mark "$largest_statics" 0)."
  echo "RAM budget, storage <= $storage_budget with the default geometry (all boards but microbit): largest $largest_storage, $(mark "$largest_storage" "$storage_budget")."
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

# largest_symbols COUNT: the library's COUNT largest symbols in the whole-API image of
# mps2-an386, "size  name" per line.
largest_symbols() {
  local elf="$build/an386_footprint.elf" text_lo text_hi rodata_lo rodata_hi
  [ -f "$elf" ] || return 0
  in_library() { echo "$((0x$(symbol "$elf" __aes5_$1_start))) $((0x$(symbol "$elf" __aes5_$1_end)))"; }
  read -r text_lo text_hi <<<"$(in_library text)"
  read -r rodata_lo rodata_hi <<<"$(in_library rodata)"
  arm-none-eabi-nm -S -C -t d "$elf" \
    | awk -v tl="$text_lo" -v th="$text_hi" -v rl="$rodata_lo" -v rh="$rodata_hi" '
      NF >= 4 && (($1 + 0 >= tl && $1 + 0 < th) || ($1 + 0 >= rl && $1 + 0 < rh)) {
        size = $2 + 0; $1 = ""; $2 = ""; $3 = ""; sub(/^ +/, ""); printf "%6d  %s\n", size, $0 }' \
    | sed -e 's/aes5_buffer_manager:://g' -e 's/<impl [^>]*ManagerCore>:://' | sort -k1,1nr -k2 | awk -v n="$1" 'NR <= n'
}

footprint_section footprint \
  "Library footprint in a minimal firmware calling every API function (cortex-m/images/footprint.c), bytes:"
ram_verdicts
echo "microbit uses the small geometry (4/2/2 x 256 B, 2 queues, 8-byte alignment and guards, storage trimmed to 3848 B)."
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
largest_symbols 20
echo
echo "Instructions per call, validation on, the call and every callee included, counted exactly by the"
echo "TCG plugin cortex-m/qemu-plugin/insn_count_plugin.c around each call of"
echo "cortex-m/images/insn_count.c (mean of rounds 2 to 1000; see that file). A line with a limit"
echo "for its core (allocate / release: Cortex-M4F monitoring off and on, Cortex-M0 off; enqueue /"
echo "dequeue: Cortex-M4F monitoring off) ends with that limit, met or missed."
echo
plugin="$build/libinsncount.so"
gcc -O2 -shared -fPIC -o "$plugin" cortex-m/qemu-plugin/insn_count_plugin.c
# The instruction budgets, allocate / release, by "<core> <monitoring off|on>".
declare -A insn_budget=(["Cortex-M4F off"]="130 90" ["Cortex-M4F on"]="260 200" ["Cortex-M0 off"]="170 120")
# The hand-off budgets, enqueue / dequeue, by "<core> <monitoring off|on>".
declare -A hand_off_budget=(["Cortex-M4F off"]="90 50")
# pair_verdict "X Y" "LIMIT_X LIMIT_Y": " (budget <= LX / LY: met)" or "...: missed)".
pair_verdict() {
  local x y lx ly
  read -r x y <<<"$1"
  read -r lx ly <<<"$2"
  if [ "$(mark "$x" "$lx")" = met ] && [ "$(mark "$y" "$ly")" = met ]; then
    echo " (budget <= $lx / $ly: met)"
  else
    echo " (budget <= $lx / $ly: missed)"
  fi
}
# count_line ID CORE MODE: the report's lines of board ID's counts with monitoring MODE (off or
# on), each ending with its budget, met or missed, when CORE has one for MODE.
count_line() {
  local allocate enqueue dequeue release budget label
  read -r allocate enqueue dequeue release <<<"${insn_of[$1 $3]}"
  label="monitoring off:"
  [ "$3" = off ] || label="monitoring on (one-load clock):"
  budget=${insn_budget["$2 $3"]:-}
  [ -z "$budget" ] || budget=$(pair_verdict "$allocate $release" "$budget")
  echo "    $label allocate $allocate, release $release instructions$budget"
  budget=${hand_off_budget["$2 $3"]:-}
  [ -z "$budget" ] || budget=$(pair_verdict "$enqueue $dequeue" "$budget")
  echo "    $label enqueue $enqueue, dequeue $dequeue instructions$budget"
}
# per_call ROUNDS < marks: "allocate enqueue dequeue release" per call, monitoring off then on
# (two lines), from the plugin's marks (6 per round: around nothing, around each call).
per_call() {
  awk -v rounds="$1" '$1 == "mark" { m[n++] = $2 }
    END {
      if (n != 12 * rounds + 3) { printf "expected %d marks, got %d\n", 12 * rounds + 3, n > "/dev/stderr"; exit 1 }
      for (mode = 0; mode < 2; mode++) {
        for (call = 0; call < 4; call++) sum[call] = 0
        for (round = 1; round < rounds; round++) {
          b = (mode * rounds + round) * 6
          empty = m[b + 1] - m[b]
          for (call = 0; call < 4; call++) sum[call] += m[b + call + 2] - m[b + call + 1] - empty
        }
        printf "%.2f %.2f %.2f %.2f\n", sum[0] / (rounds - 1), sum[1] / (rounds - 1), sum[2] / (rounds - 1), sum[3] / (rounds - 1)
      }
      b = 12 * rounds
      printf "%d\n", (m[b + 2] - m[b + 1]) - (m[b + 1] - m[b])
    }'
}
# Counts per board, by "<board id> <off|on>": "allocate release"; the sweep's, by board id:
# "instructions buffers".
declare -A insn_of sweep_of
for entry in $boards; do
  IFS=: read -r board id core triple <<<"$entry"
  elf="$build/${id}_insn_count.elf"
  [ -f "$elf" ] || continue
  echo "  $board ($core):"
  marker=$(( 0x$(symbol "$elf" insn_mark) & ~1 ))
  marks="$build/${id}_insn_count.marks"
  layout=$(qemu-system-arm -M "$board" -nographic -monitor none -semihosting-config enable=on,target=native \
    -icount shift=0 -kernel "$elf" -plugin "$plugin,mark=$marker" -d plugin -D "$marks" 2>/dev/null) ||
    { echo "insn_count on $board failed: $layout" >&2; exit 1; }
  rounds=$(echo "$layout" | sed -n 's/^insn_count: \([0-9]*\) rounds of 6 marks.*/\1/p')
  swept=$(echo "$layout" | sed -n 's/^insn_count: .* a sweep of \([0-9]*\) buffers.*/\1/p')
  [ -n "$rounds" ] && [ -n "$swept" ] || { echo "insn_count on $board: $layout" >&2; exit 1; }
  counts=$(per_call "$rounds" < "$marks")
  { read -r off; read -r on; read -r sweep; } <<<"$counts"
  insn_of["$id off"]=$off
  insn_of["$id on"]=$on
  sweep_of[$id]="$sweep $swept"
  count_line "$id" "$core" off
  count_line "$id" "$core" on
  echo "    integrity sweep of $swept buffers (2 held): $sweep instructions, $((sweep / swept)) per buffer"
done

[ -n "$readme_mode" ] || exit 0

# The README's blocks, from the figures above.
# flash_cell KEY: "total (text + rodata)" of image KEY.
flash_cell() {
  printf '%s (%s + %s)' "$(thousands "$(flash_of "$1")")" "$(thousands "${text_of[$1]}")" "$(thousands "${rodata_of[$1]}")"
}
footprint_block() {
  local entry board id core triple lean storage
  echo "| board (QEMU) | core | whole C API | life cycle only | monitoring compiled out: life cycle / whole C API | \`sizeof(aes5_buffer_manager_storage_t)\` |"
  echo "|---|---|---:|---:|---:|---:|"
  for entry in $boards; do
    IFS=: read -r board id core triple <<<"$entry"
    lean=
    if [ -n "${text_of[${id}_footprint_lean]:-}" ]; then
      lean="$(thousands "$(flash_of "${id}_footprint_lean")") / $(thousands "$(flash_of "${id}_footprint_lean_whole")")"
    fi
    storage=$(thousands "$(storage_of "$build/${id}_footprint.elf")")
    [ "$id" != microbit ] || storage="$storage (small geometry)"
    echo "| \`$board\` | $core | $(flash_cell "${id}_footprint") | $(thousands "$(flash_of "${id}_footprint_core")") | $lean | $storage |"
  done
  echo
  echo "- RAM: the library's own \`.data + .bss\` is $largest_statics bytes in every image; the storage you"
  echo "  declare is all it uses ($(thousands "$largest_storage") bytes with the default geometry)."
  echo "- The library's largest symbols in the Cortex-M4F whole-API image, bytes:"
  largest_symbols 10 | awk '{ size = $1; $1 = ""; sub(/^ +/, ""); printf "%s`%s` %s", (NR > 1 ? ", " : "  "), $0, size } END { print "." }' |
    sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\([,.]\)/\1,\2\3/' -e 'ta'
}
# count_cell "ALLOCATE ENQUEUE DEQUEUE RELEASE": allocate / release, rounded to whole
# instructions; hand_off_cell: enqueue / dequeue.
count_cell() { awk -v p="$1" 'BEGIN { split(p, x, " "); printf "%.0f / %.0f", x[1], x[4] }'; }
hand_off_cell() { awk -v p="$1" 'BEGIN { split(p, x, " "); printf "%.0f / %.0f", x[2], x[3] }'; }
instructions_block() {
  local entry board id core triple label sweep swept
  echo "| board | core | allocate / release, monitoring off | monitoring on | enqueue / dequeue, monitoring off | monitoring on | integrity sweep: total (per buffer) |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  for entry in $boards; do
    IFS=: read -r board id core triple <<<"$entry"
    label=$core
    [ "$id" != microbit ] || label="$core (\`single-core\`)"
    read -r sweep swept <<<"${sweep_of[$id]}"
    echo "| \`$board\` | $label | $(count_cell "${insn_of[$id off]}") | $(count_cell "${insn_of[$id on]}") | $(hand_off_cell "${insn_of[$id off]}") | $(hand_off_cell "${insn_of[$id on]}") | $(thousands "$sweep") ($((sweep / swept))) |"
  done
}

# The revision the figures describe ("-modified" when tracked sources differ from it; README.md
# itself does not count), and the tools that built and ran the images: the figures depend on
# both, and on nothing else (not the checkout's path, the time or the machine's load).
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no -- . ':!README.md' 2>/dev/null)" ] || revision="$revision-modified"
tools="rustc $(rustc --version | awk '{ print $2 }'), arm-none-eabi-gcc $(arm-none-eabi-gcc -dumpversion), QEMU $(qemu-system-arm --version | awk 'NR == 1 { print $4 }')"
footprint="Measured by \`scripts/cortex-m-costs.sh\` at revision $revision ($tools), \`.text + .rodata\` in bytes:

$(footprint_block)"
instructions="Measured by \`scripts/cortex-m-costs.sh\` at revision $revision ($tools):

$(instructions_block)"

# replace_block FILE NAME CONTENT: FILE with the lines between NAME's markers replaced; fails
# when either marker is missing.
replace_block() {
  content="$3" awk -v name="$2" '
    $0 == "<!-- cortex-m-costs: " name " begin -->" { print; print ENVIRON["content"]; skip = 1; begun = 1; next }
    $0 == "<!-- cortex-m-costs: " name " end -->" { skip = 0; ended = 1 }
    !skip { print }
    END { if (!begun || !ended) exit 3 }' "$1"
}
new=$(mktemp)
half=$(mktemp)
trap 'rm -f "$new" "$half"' EXIT
replace_block README.md footprint "$footprint" > "$half" && replace_block "$half" instructions "$instructions" > "$new" ||
  { echo "README.md lacks a pair of cortex-m-costs markers" >&2; exit 1; }
echo
if [ "$readme_mode" = update ]; then
  cp "$new" README.md
  echo "README.md: Cortex-M figures written (revision $revision; $tools)."
  exit 0
fi
# The revision is not compared (figures that still match were measured on an earlier revision
# with the same figures). Figures measured with other tools are not compared either: they say
# nothing about the sources, only that the README should be measured again.
readme_tools=$(sed -n 's/^Measured by `scripts\/cortex-m-costs.sh` at revision [^ ]* (\(.*\)), `.text + .rodata` in bytes:$/\1/p' README.md)
if [ "$readme_tools" != "$tools" ]; then
  echo "README.md: its Cortex-M figures were measured with other tools (${readme_tools:-none named}; here $tools):"
  echo "not compared; run scripts/cortex-m-costs.sh --readme update."
  exit 0
fi
strip_revision() { sed -e 's/at revision [^ ]* (/at revision REV (/'; }
if diff <(strip_revision < README.md) <(strip_revision < "$new") >/dev/null; then
  echo "README.md: the Cortex-M figures match this revision's."
else
  echo "README.md: the Cortex-M figures differ from this revision's (run scripts/cortex-m-costs.sh --readme update):"
  diff <(strip_revision < README.md) <(strip_revision < "$new") || true
  exit 1
fi
