#!/usr/bin/env bash
# Builds the SDK archives, prebuilt libraries for C teams without a Rust toolchain, into dist/
# with a SHA256SUMS over them. Each archive is one sdk-* preset of CMakePresets.json, built in
# build/sdk-<archive>, installed and packed by cpack (cmake/aes5_sdk.cmake).
#
#   scripts/package.sh                  every archive (dist/ is emptied first)
#   scripts/package.sh ARCHIVE...       only these, e.g. thumbv7em-none-eabihf
#   scripts/package.sh --list           the archive names, one line each
#   scripts/package.sh --geometry "AES5_PRIMARY_BUFFER_COUNT=16;AES5_BUFFER_BYTES=1024" \
#                      --geometry-name pcm16x1k thumbv7em-none-eabihf
#                                       an archive of another geometry (the name goes into
#                                       the archive's name; README "Choosing the geometry")
set -euo pipefail
cd "$(dirname "$0")/.."

archives=(
  x86_64-unknown-linux-gnu
  thumbv6m-none-eabi-single-core
  thumbv6m-none-eabi-firmware-critical-section
  thumbv7m-none-eabi
  thumbv7em-none-eabi
  thumbv7em-none-eabihf
  thumbv8m.main-none-eabihf
)

usage() { echo "usage: $0 [--list] [--geometry SETTINGS --geometry-name NAME] [ARCHIVE...]" >&2; exit 2; }

geometry=""
geometry_name=""
chosen=()
while [ $# -gt 0 ]; do
  case "$1" in
    --list) printf '%s\n' "${archives[@]}"; exit 0 ;;
    --geometry) [ $# -ge 2 ] || usage; geometry=$2; shift 2 ;;
    --geometry-name) [ $# -ge 2 ] || usage; geometry_name=$2; shift 2 ;;
    -*) usage ;;
    *)
      printf '%s\n' "${archives[@]}" | grep -qxF -- "$1" || { echo "unknown archive '$1' (--list names them)" >&2; exit 2; }
      chosen+=("$1"); shift ;;
  esac
done
if [ -n "$geometry" ] && [ -z "$geometry_name" ]; then
  echo "--geometry needs --geometry-name: the name goes into the archive's name" >&2
  exit 2
fi
if [ ${#chosen[@]} -eq 0 ]; then
  chosen=("${archives[@]}")
  rm -rf dist
fi

scripts/setup.sh package
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

extra=()
if [ -n "$geometry" ]; then
  extra+=("-DAES5_GEOMETRY=$geometry" "-DAES5_SDK_GEOMETRY_NAME=$geometry_name")
fi

# The archives share one cargo target directory (the sdk presets). build.rs writes each
# build's header when it runs, and cargo runs it again only when something it depends on
# changed: a build directory made anew at the same path would get no header. So the shared
# directory starts empty too.
rm -rf build/sdk-cargo
mkdir -p dist build
for archive in "${chosen[@]}"; do
  preset="sdk-$archive"
  dir="build/$preset"   # the presets' binaryDir
  echo "== $archive: configure, build, pack"
  rm -rf "$dir"
  cmake --preset "$preset" ${extra[@]+"${extra[@]}"} > "$dir.log" 2>&1 ||
    { tail -30 "$dir.log" >&2; echo "configuring $preset failed (log: $dir.log)" >&2; exit 1; }
  cmake --build --preset "$preset" >> "$dir.log" 2>&1 ||
    { tail -30 "$dir.log" >&2; echo "building $preset failed (log: $dir.log)" >&2; exit 1; }
  (cd "$dir" && cpack --config CPackConfig.cmake) >> "$dir.log" 2>&1 ||
    { tail -30 "$dir.log" >&2; echo "packing $preset failed (log: $dir.log)" >&2; exit 1; }
  for file in "$dir"/dist/*.tar.gz; do
    mv "$file" dist/
    echo "   dist/$(basename "$file") ($(stat -c %s "dist/$(basename "$file")") bytes)"
  done
done

(cd dist && sha256sum -- *.tar.gz > SHA256SUMS)
echo "== dist/SHA256SUMS covers $(wc -l < dist/SHA256SUMS) archives"
