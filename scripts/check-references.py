#!/usr/bin/env python3
"""Checks that every repository path named in the repository's own files exists.

Scans the tracked text files (sources, scripts, CMake, Markdown, the headers) for names that
start with one of the repository's top-level folders (`src/`, `scripts/`, `tests/`, ...) or
name a top-level file, and fails listing each one that names nothing in the tree. Globs
(`tests/c/test_*.c`) must match at least one file. Build outputs (`build/`, `target/`) are
not checked: they do not exist in a clean clone.

    scripts/check-references.py        exit 1 and a list when a reference dangles
"""

import glob
import os
import re
import subprocess
import sys

FOLDERS = ("src", "scripts", "tests", "cortex-m", "benchmarks", "cmake", "docs", "examples", "include", "fuzz")
TOP_FILES = ("README.md", "VERIFICATION.md", "BENCHMARKS.md", "CMakeLists.txt", "CMakePresets.json",
             "build.rs", "cbindgen.toml", "Cargo.toml", "LICENSE-MIT", "LICENSE-APACHE")
# A folder name at a word start, then path characters; or a top-level file name.
PATH = re.compile(r"(?<![\w./$-])((?:%s)/[\w.*/-]*|(?:%s))" % (
    "|".join(re.escape(f) for f in FOLDERS), "|".join(re.escape(f) for f in TOP_FILES)))
SKIP_FILES = re.compile(r"^(fuzz/corpus/|proptest-regressions/)|\.(lock|png|bin)$")


def tracked_files():
    out = subprocess.run(["git", "ls-files", "-z"], check=True, capture_output=True).stdout
    return [f for f in out.decode().split("\0") if f and not SKIP_FILES.search(f)]


def exists(ref):
    ref = ref.rstrip(".,:;")
    if "*" in ref:
        return bool(glob.glob(ref))
    return os.path.exists(ref)


def main():
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    dangling = []
    for name in tracked_files():
        try:
            with open(name, encoding="utf-8") as f:
                lines = f.readlines()
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        for number, line in enumerate(lines, 1):
            for match in PATH.finditer(line):
                ref = match.group(1)
                if not exists(ref):
                    dangling.append(f"{name}:{number}: {ref.rstrip('.,:;')}")
    for line in dangling:
        print(line)
    print(f"references: {len(dangling)} dangling" if dangling else "references: every path named exists")
    return 1 if dangling else 0


if __name__ == "__main__":
    sys.exit(main())
