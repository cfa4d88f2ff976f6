#!/usr/bin/env bash
# The SDK archives, tried as a C team without Rust would use them (scripts/test.sh, stage sdk):
#
# 1. scripts/package.sh builds every archive into dist/; SHA256SUMS must verify.
# 2. Each archive is unpacked into a fresh directory and must hold what its README promises.
# 3. With cargo and rustc off the PATH, CARGO_HOME and RUSTUP_HOME unset and HOME empty:
#    - the host archive: the find_package consumer and the pkg-config consumer of
#      tests/install build and run, and so does the first program of the archive's README,
#      built by the README's own pkg-config and plain lines;
#    - every Cortex-M archive: tests/sdk/firmware is built with arm-none-eabi-gcc through
#      find_package and the repository's toolchain file, and runs on its QEMU board (the
#      Cortex-M4 soft-float archive from a -mfloat-abi=softfp firmware), running the
#      README's first program first.
# 4. A project whose target does not match the archive's is refused at configure time with
#    the package's message.
#
#   tests/sdk/check_archives.sh            all of the above
#   tests/sdk/check_archives.sh --no-build  steps 2-4 on the archives already in dist/
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

[ "${1:-}" = "--no-build" ] || scripts/package.sh

work=build/sdk-check
rm -rf "$work"
mkdir -p "$work/home"
work=$repo/$work

archive_dir() { echo "$work/aes5_buffer_manager-$version-$1"; }

echo "== SHA256SUMS"
(cd dist && sha256sum --check --quiet SHA256SUMS)
version=$(sed -n 's/^project(aes5_buffer_manager VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
expected=(
  "x86_64-unknown-linux-gnu-default"
  "thumbv6m-none-eabi-single-core-small"
  "thumbv6m-none-eabi-firmware-critical-section-small"
  "thumbv7m-none-eabi-default"
  "thumbv7em-none-eabi-default"
  "thumbv7em-none-eabihf-default"
  "thumbv8m.main-none-eabihf-default"
)
for id in "${expected[@]}"; do
  name="aes5_buffer_manager-$version-$id"
  grep -q "  $name.tar.gz\$" dist/SHA256SUMS || { echo "dist/SHA256SUMS lacks $name.tar.gz" >&2; exit 1; }
  tar -xzf "dist/$name.tar.gz" -C "$work"
  for f in README.md MANIFEST lib/libaes5_buffer_manager.a include/aes5_buffer_manager.h \
           include/aes5_buffer_manager.hpp lib/cmake/aes5_buffer_manager/aes5_buffer_managerConfig.cmake \
           lib/cmake/aes5_buffer_manager/aes5_buffer_managerConfigVersion.cmake \
           lib/pkgconfig/aes5_buffer_manager.pc share/doc/aes5_buffer_manager/LICENSE-MIT \
           share/doc/aes5_buffer_manager/LICENSE-APACHE share/doc/aes5_buffer_manager/README.md \
           share/doc/aes5_buffer_manager/DESIGN.md; do
    [ -f "$work/$name/$f" ] || { echo "$name.tar.gz lacks $f" >&2; exit 1; }
  done
  triple=${id%-default}; triple=${triple%-small}; triple=${triple%-single-core}; triple=${triple%-firmware-critical-section}
  grep -qx "target: *$triple" "$work/$name/MANIFEST" || { echo "$name: MANIFEST names another target" >&2; exit 1; }
  grep -q "^rustc: *rustc " "$work/$name/MANIFEST" || { echo "$name: MANIFEST names no rustc" >&2; exit 1; }
done
echo "   ${#expected[@]} archives unpacked, each complete"

# The first program of an archive's README (the C block, which defines audio_start()).
readme_program() {
  local out="$work/readme-program-$1.c"
  sed -n '/^```c$/,/^```$/p' "$(archive_dir "$1")/README.md" | sed '1d;$d' > "$out"
  grep -q "audio_start" "$out" || { echo "$1: README.md has no first program" >&2; return 1; }
  echo "$out"
}

# A command run as on a machine without Rust.
rustless_path=$(printf '%s' "$PATH" | tr ':' '\n' |
  while read -r dir; do [ -x "$dir/cargo" ] || [ -x "$dir/rustc" ] || printf '%s:' "$dir"; done)
without_rust() {
  env -u CARGO_HOME -u RUSTUP_HOME -u RUSTFLAGS -u CARGO_TARGET_DIR HOME="$work/home" PATH="${rustless_path%:}" "$@"
}
if without_rust sh -c 'command -v cargo || command -v rustc'; then
  echo "cargo or rustc is still reachable without Rust" >&2
  exit 1
fi

echo "== the host archive, no Rust: find_package and pkg-config consumers"
host=$(archive_dir x86_64-unknown-linux-gnu-default)
without_rust cmake -DPREFIX="$host" -DBUILD_DIR="$work/host-find-package" -DCC=cc \
  -P tests/install/find_package_consumer.cmake
without_rust cmake -DPREFIX="$host" -DLIBDIR=lib -DCC=cc -DSOURCE="$repo/tests/install/consumer/consumer.c" \
  -DOUT="$work/host-pkg-config" -P tests/install/pkg_config_consumer.cmake
echo "== the host archive's README: its pkg-config and plain lines build its first program, which runs"
program=$(readme_program x86_64-unknown-linux-gnu-default)
printf 'int audio_start(void);\nint main(void) { return audio_start(); }\n' > "$work/readme-main.c"
# Each of the README's two command blocks, as written, with SDK, app.c and the output named.
for block in pkg-config "Plain flags"; do
  script="$work/readme-$(echo "$block" | tr ' ' '-').sh"
  awk -v heading="**$block.**" '$0 == heading { found = 1; next }
    found && /^```sh$/ { inside = 1; next } inside && /^```$/ { exit } inside { print }' "$host/README.md" |
    sed "s|SDK|$host|g; s|app\.c|$program $work/readme-main.c -o $work/readme-program|" > "$script"
  grep -q readme-program "$script" || { echo "README.md: no '$block' block that builds app.c" >&2; exit 1; }
  rm -f "$work/readme-program"
  without_rust bash -e "$script" || { cat "$script" >&2; echo "the README's $block lines fail" >&2; exit 1; }
  "$work/readme-program" || { echo "the README's first program fails (built by its $block lines)" >&2; exit 1; }
done

# firmware ARCHIVE-ID BOARD "FLAGS" [cmake options...]: build tests/sdk/firmware against the
# archive without Rust and run it on the QEMU board.
firmware() {
  local id=$1 board=$2 flags=$3 dir="$work/firmware-$1"
  shift 3
  echo "== $id: a firmware for $board ($flags), no Rust"
  without_rust cmake -S tests/sdk/firmware -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$repo/cmake/arm-none-eabi.cmake" \
    -DCMAKE_PREFIX_PATH="$(archive_dir "$id")" -DCMAKE_C_FLAGS="$flags" -DAES5_BOARD="$board" \
    -DAES5_README_PROGRAM="$(readme_program "$id")" "$@" > "$dir.log" 2>&1 ||
    { cat "$dir.log" >&2; echo "$id: the firmware does not configure" >&2; return 1; }
  without_rust cmake --build "$dir" >> "$dir.log" 2>&1 ||
    { cat "$dir.log" >&2; echo "$id: the firmware does not build" >&2; return 1; }
  without_rust ctest --test-dir "$dir" --output-on-failure
}
firmware thumbv7em-none-eabihf-default mps2-an386 "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
firmware thumbv7em-none-eabi-default mps2-an386 "-mcpu=cortex-m4 -mthumb -mfloat-abi=softfp -mfpu=fpv4-sp-d16"
firmware thumbv6m-none-eabi-single-core-small microbit "-mcpu=cortex-m0 -mthumb -mfloat-abi=soft"
firmware thumbv6m-none-eabi-firmware-critical-section-small microbit "-mcpu=cortex-m0 -mthumb -mfloat-abi=soft" \
  -DAES5_FIRMWARE_CRITICAL_SECTION=ON
firmware thumbv7m-none-eabi-default mps2-an385 "-mcpu=cortex-m3 -mthumb -mfloat-abi=soft"
firmware thumbv8m.main-none-eabihf-default mps2-an505 "-mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16"

# refused ARCHIVE-ID what cmake-arguments...: configuring must fail with the package's message.
refused() {
  local id=$1 what=$2 dir="$work/refused-$1-$RANDOM"
  shift 2
  echo "== $id refused: $what"
  if without_rust cmake -B "$dir" -DCMAKE_PREFIX_PATH="$(archive_dir "$id")" "$@" > "$dir.log" 2>&1; then
    cat "$dir.log" >&2
    echo "$id: $what configured, but it must be refused" >&2
    return 1
  fi
  # CMake wraps the message: compare with its whitespace folded.
  tr -s ' \n' '  ' < "$dir.log" | grep -q "aes5_buffer_manager: this package holds the library built for ${id%-*} " ||
    { cat "$dir.log" >&2; echo "$id: refused without the package's message" >&2; return 1; }
}
cortex_m=(-DCMAKE_TOOLCHAIN_FILE="$repo/cmake/arm-none-eabi.cmake" -S tests/sdk/firmware)
refused thumbv7em-none-eabihf-default "a host project" -S tests/install/consumer -DCMAKE_C_COMPILER=cc
refused x86_64-unknown-linux-gnu-default "a Cortex-M4F firmware" "${cortex_m[@]}" -DAES5_BOARD=mps2-an386 \
  -DCMAKE_C_FLAGS="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
refused thumbv7em-none-eabi-default "a hard-float Cortex-M4F firmware" "${cortex_m[@]}" -DAES5_BOARD=mps2-an386 \
  -DCMAKE_C_FLAGS="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
refused thumbv7em-none-eabihf-default "a soft-float Cortex-M4 firmware" "${cortex_m[@]}" -DAES5_BOARD=mps2-an386 \
  -DCMAKE_C_FLAGS="-mcpu=cortex-m4 -mthumb -mfloat-abi=soft"
refused thumbv7m-none-eabi-default "a Cortex-M0 firmware" "${cortex_m[@]}" -DAES5_BOARD=microbit \
  -DCMAKE_C_FLAGS="-mcpu=cortex-m0 -mthumb -mfloat-abi=soft"
echo "== sdk: every archive consumed without Rust, every mismatch refused"
