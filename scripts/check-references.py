#!/usr/bin/env python3
"""Checks that every repository path named in the repository's own files exists.

Scans the tracked text files (sources, scripts, CMake, Markdown, the headers) for names that
start with one of the repository's top-level folders (`src/`, `scripts/`, `tests/`, ...) or
name a top-level file, and fails listing each one that names no tracked file or folder (what a
clean clone holds; untracked files in a working tree do not count). Globs
(`tests/c/test_*.c`) must match at least one tracked file. Build outputs (`build/`,
`target/`) are not checked: they do not exist in a clean clone.

    scripts/check-references.py        exit 1 and a list when a reference dangles
"""

import fnmatch
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
    """The files git tracks, or None outside a git checkout."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return [f for f in out.decode().split("\0") if f]


def folders_of(files):
    """Every folder that holds a tracked file, as "a/" and "a/b/"."""
    folders = set()
    for name in files:
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folders.add("/".join(parts[:depth]) + "/")
    return folders


def names_something(ref, files, folders):
    """True when `ref` is a tracked file or folder, or a glob matching a tracked file: what a
    clean clone has, whatever else lies in this working tree."""
    ref = ref.rstrip(".,:;")
    if "*" in ref:
        return any(fnmatch.fnmatchcase(name, ref) for name in files)
    return ref in files or (ref if ref.endswith("/") else ref + "/") in folders


def main():
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    files = tracked_files()
    if files is None:
        print("references: not a git checkout, nothing to check against")
        return 0
    tracked = set(files)
    folders = folders_of(files)
    dangling = []
    for name in files:
        if SKIP_FILES.search(name):
            continue
        try:
            with open(name, encoding="utf-8") as f:
                lines = f.readlines()
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        for number, line in enumerate(lines, 1):
            for match in PATH.finditer(line):
                ref = match.group(1)
                if not names_something(ref, tracked, folders):
                    dangling.append(f"{name}:{number}: {ref.rstrip('.,:;')}")
    for line in dangling:
        print(line)
    print(f"references: {len(dangling)} dangling" if dangling else "references: every path named is tracked")
    return 1 if dangling else 0


if __name__ == "__main__":
    sys.exit(main())
