#!/usr/bin/env python3
"""Renders BENCHMARKS.md and the latency plot from the benchmark suite's JSON.

Usage: scripts/bench-report.py --results target/aes5-bench/results.json
           [--criterion target/criterion] [--cortex-m target/aes5-bench/cortex-m]
           [--cortex-m-costs target/aes5-bench/cortex-m-costs.txt]
           [--markdown BENCHMARKS.md] [--plot docs/latency.png]

The JSON is written by `cargo bench --bench pools` (benchmarks/host/suite.rs): every contender
with its id, label and side (ours or a peer), in the order of the report's tables. Every ratio
is computed round by round (ours and the peer measured back to back in the same round) and the
median of those per-round ratios is reported.

The words of the report are the blocks of benchmarks/report-template.md: this script computes
the figures, chooses the blocks and fills their placeholders.
"""

import argparse
import datetime
import json
import math
import os
import re
import statistics
import string
import subprocess
import sys

TEMPLATE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks", "report-template.md"))

# The contenders the report's sentences name, by their id in benchmarks/host/suite.rs
# `contenders()` (the tables take every contender of the JSON, in its order).
C_ABI = "aes5_c_abi_off"  # the reference: C ABI, validation on, monitoring off
C_ABI_MONITORED = "aes5_c_abi_on"  # monitoring on, the default clock
C_ABI_CYCLE_CLOCK = "aes5_c_abi_on_cycles"  # monitoring on, a cycle-counter clock callback
C_ABI_FIXED_CLOCK = "aes5_c_abi_on_fixed"  # monitoring on, a clock that never moves (optional)
C_ABI_UNVALIDATED = "aes5_c_abi_unvalidated"
RUST_API = "aes5_rust_off"
RUST_API_MONITORED = "aes5_rust_on"
ATOMIC_POOL = "atomic_pool"
HEAPLESS_BOX = "heapless_pool"
HEAPLESS_OBJECT = "heapless_object"
MALLOC = "malloc"
# Those the report cannot do without (the fixed-clock one only adds a figure).
NAMED_CONTENDERS = (C_ABI, C_ABI_MONITORED, C_ABI_CYCLE_CLOCK, C_ABI_UNVALIDATED, RUST_API, RUST_API_MONITORED)
NAMED_CONTENDERS += (ATOMIC_POOL, HEAPLESS_BOX, HEAPLESS_OBJECT, MALLOC)
# The contenders whose drift between the main table and the per-CPU rounds is reported.
DRIFT_CONTENDERS = (C_ABI, ATOMIC_POOL, HEAPLESS_OBJECT, MALLOC)
DRIFT_REPORTED_ABOVE = 1.2

# The statistics reads the report's sentences name (suite.rs `reads()`).
READ_MONOTONIC_CLOCK = "clock_gettime_monotonic"
READ_CYCLE_CLOCK = "cycle_clock_callback"

# The Rust firmware's contenders the report names (benchmarks/rust-firmware; the firmware
# prints every contender's id and label, in the order of the table).
CM_BASELINE = "empty"  # the loop around empty functions, subtracted, not a row
CM_C_ABI = "aes5_c_abi"
CM_HEAPLESS_OBJECT = "heapless_object_pool"
CM_PROFILES = (("release", '"s"'), ("speed", "3"))  # cargo profile, its opt-level

# The boards of scripts/cortex-m-costs.sh.
M4_BOARD = "mps2-an386"
M0_BOARD = "microbit"
M3_BOARD = "mps2-an385"
M33_BOARD = "mps2-an505"
FLASH_OTHER_BOARDS = (M0_BOARD, M3_BOARD, M33_BOARD)
# The footprint images after the whole-API one: key prefix (read_cortex_m_costs), label block.
# and its budget in bytes (None: reported only).
FLASH_IMAGES = (
    ("core_", "flash-image-core", 6144),
    ("lean_", "flash-image-lean", None),
    ("lean_whole_", "flash-image-lean-whole", None),
)

# The budgets of the design document (docs/DESIGN.md §7, the round-three targets); the
# template's goal rows state them.
GOAL_VS_ATOMIC_POOL = 1.25
GOAL_VS_MALLOC = 1.0
# Where atomic-pool's own pair is at least this fraction of malloc's, locked operations alone
# keep any pool from the malloc target: the atomic-pool target stands in for it.
MALLOC_TARGET_STANDS_ASIDE = 0.8
GOAL_THROUGHPUT_VS_ATOMIC_POOL = 0.6
GOAL_COLD_VS_ATOMIC_POOL = 1.5
GOAL_BOOKKEEPING_NS = 10
GOAL_P999_NS = 200
GOAL_M4_OFF = (130, 90)  # instructions, allocate / release
GOAL_M4_ON = (260, 200)
GOAL_M0_OFF = (170, 120)
GOAL_FLASH_BYTES = 10240  # the whole C API
# The hand-off budgets on Cortex-M4F, monitoring off, instructions.
GOAL_ENQUEUE = 90
GOAL_DEQUEUE = 50

# Markdown table syntax.
CELL = " | "
NUMERIC_COLUMN = "---:|"

# Latency plot: ours in blues, the peers in other colours, each side in the order of the JSON
# (a longer list cycles).
OURS_PLOT_STYLES = (("tab:blue", "-"), ("tab:blue", "--"), ("tab:cyan", ":"), ("tab:cyan", "-."), ("tab:purple", "-"))
PEER_PLOT_STYLES = (("tab:orange", "-"), ("tab:green", "-"), ("tab:green", "--"), ("tab:red", "-"), ("tab:brown", "-"))

NAN = float("nan")


# --- figures ---------------------------------------------------------------------------------


def median(values):
    values = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(values) if values else NAN


def spread(values):
    """10th and 90th percentile over rounds."""
    values = sorted(v for v in values if v is not None and math.isfinite(v))
    if not values:
        return NAN, NAN
    pick = lambda q: values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]
    return pick(0.10), pick(0.90)


def round_ratio(a, b):
    """Median over rounds of a[r] / b[r]."""
    pairs = [x / y for x, y in zip(a, b) if x and y and math.isfinite(x) and math.isfinite(y)]
    return statistics.median(pairs) if pairs else NAN


def per_thread_ns(c, key="ns_per_pair_2t"):
    """Per round: the mean over the two threads of ns per pair."""
    t0, t1 = c[key]
    return [None if a is None or b is None else (a + b) / 2 for a, b in zip(t0, t1)]


def mops(ns):
    return 1000.0 / ns if ns and math.isfinite(ns) else NAN


def fmt(v, digits=1):
    if v is None or not math.isfinite(v):
        return "n/a"
    return f"{v:,.{digits}f}"


def resolution_ns(series):
    """Smallest step between distinct latency values (the counter's effective resolution)."""
    steps = []
    for s in series:
        values = sorted(set(v for v in s["ns"] if v is not None))
        steps += [b - a for a, b in zip(values, values[1:]) if b - a > 1e-6]
    return min(steps) if steps else NAN


def short_symbol(symbol):
    """`aes5_buffer_manager::manager::<impl aes5_buffer_manager::manager::ManagerCore>::init::h12`
    -> `ManagerCore::init`."""
    symbol = re.sub(r"::h[0-9a-f]{16}$", "", symbol)  # the legacy mangling's hash, if kept
    symbol = re.sub(r"<impl (?:\w+::)*(\w+)>", r"\1", symbol)
    parts = symbol.split("::")
    return "::".join(parts[-2:]) if len(parts) > 2 else symbol


def tool_version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# --- inputs ----------------------------------------------------------------------------------


def criterion_median(root, cid):
    """Criterion's median for contender `cid` (its benchmark `pair/<id>`), or None."""
    if not root:
        return None
    path = os.path.join(root, "pair", cid, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def read_cortex_m(directory):
    """Parses the firmware outputs of scripts/bench-rust-firmware.sh (exact instruction counts per
    contender, from the plugin's marks; lines "RESULT <id> <allocate> <release> <operations>
    <label>"): {"runs": {profile: {"rows": {id: {label, alloc, release, alloc_net, release_net,
    ops}}}}, "functions": [(count, symbol)], "breakdown_ops": n}, rows in the firmware's order."""
    if not directory or not os.path.isdir(directory):
        return None
    runs = {}
    for profile, _ in CM_PROFILES:
        path = os.path.join(directory, f"{profile}.txt")
        if not os.path.exists(path):
            continue
        raw = {}
        with open(path) as f:
            for line in f:
                parts = line.split(None, 5)
                if parts[:1] == ["RESULT"]:
                    label = parts[5].strip() if len(parts) > 5 else parts[1]
                    raw[parts[1]] = (int(parts[2]), int(parts[3]), int(parts[4]), label)
        if CM_BASELINE not in raw:
            continue
        ea, er, _, _ = raw[CM_BASELINE]
        rows = {}
        for name, (a, r, ops, label) in raw.items():
            rows[name] = {
                "label": label,
                "alloc": a / ops,
                "release": r / ops,
                "alloc_net": (a - ea) / ops,
                "release_net": (r - er) / ops,
                "ops": ops,
            }
        runs[profile] = {"rows": rows}
    functions = []
    breakdown_ops = 0
    path = os.path.join(directory, "release-breakdown.txt")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if parts[:2] == ["RESULT", CM_C_ABI]:
                    breakdown_ops = int(parts[4])
    path = os.path.join(directory, "release-functions.txt")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                count, _, symbol = line.strip().partition(" ")
                functions.append((int(count), symbol))
    if not breakdown_ops:
        functions = []
    return {"runs": runs, "functions": functions, "breakdown_ops": breakdown_ops} if runs else None


def read_cortex_m_costs(path):
    """Parses scripts/cortex-m-costs.sh: per board, its core, .text, .rodata and the
    instructions of allocate / release ("off", "on") and of enqueue / dequeue ("off_hand_off",
    "on_hand_off") with monitoring off and on."""
    if not path or not os.path.exists(path):
        return None
    boards, current, image = {}, None, ""
    with open(path) as f:
        for line in f:
            if line.startswith("The same for a firmware using only the buffer life cycle"):
                image = "core_"
            if line.startswith("The same life cycle against a library built with monitoring compiled out"):
                image = "lean_"
            if line.startswith("The whole C API (cortex-m/images/footprint.c) against the same library"):
                image = "lean_whole_"
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if line.startswith("| ") and len(cells) == 9 and cells[3].isdigit():
                entry = boards.setdefault(cells[0], {"core": cells[1]})
                entry[image + "text"], entry[image + "rodata"] = int(cells[3]), int(cells[4])
                continue
            head = re.match(r"\s+(\S+) \((Cortex-[^)]+)\):$", line)
            if head:
                current = boards.setdefault(head.group(1), {"core": head.group(2)})
                continue
            counts = re.match(r"\s+monitoring (off|on)[^:]*: allocate ([0-9.]+), release ([0-9.]+)", line)
            if counts and current is not None:
                current[counts.group(1)] = (float(counts.group(2)), float(counts.group(3)))
            hand_offs = re.match(r"\s+monitoring (off|on)[^:]*: enqueue ([0-9.]+), dequeue ([0-9.]+)", line)
            if hand_offs and current is not None:
                current[hand_offs.group(1) + "_hand_off"] = (float(hand_offs.group(2)), float(hand_offs.group(3)))
    return boards


def read_c_loop(path):
    """The C loop's medians, (no thread yet, after a thread) for ours, malloc at the top, in a bin."""
    if not os.path.exists(path):
        return None
    rows = {}
    keys = {"aes5 C ABI": "ours", "chunk at the heap top": "top", "chunk in a bin": "bin"}
    with open(path) as f:
        for line in f:
            for text, key in keys.items():
                numbers = re.findall(r"\s([0-9]+\.[0-9]+)", line)
                if text in line and len(numbers) == 2:
                    rows[key] = (float(numbers[0]), float(numbers[1]))
    return rows if len(rows) == 3 else None


def read_callgrind_summary(path):
    """The instructions of glibc's pair in the benchmark process (pair, malloc, free) and in the
    plain loop, from scripts/bench-c-loop.sh's summary; either is None when absent."""
    in_process, fresh = None, None
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                found = re.search(r"in the benchmark process ([0-9]+) instructions \(malloc ([0-9]+), free ([0-9]+)\)", line)
                if found:
                    in_process = tuple(int(v) for v in found.groups())
                found = re.search(r"malloc\(2048\)\+free pair ([0-9]+) instructions \(both", line)
                if found:
                    fresh = int(found.group(1))
    return in_process, fresh


def code_lines(path, prefix):
    """The lines of `path` without `prefix`, for a fenced block."""
    with open(path) as f:
        return "\n".join(line.rstrip().replace(prefix, "") for line in f)


class Run:
    """The inputs of one report and the figures computed from them."""

    def __init__(self, args):
        with open(args.results) as f:
            self.data = json.load(f)
        data = self.data
        self.by_id = {c["id"]: c for c in data["contenders"]}
        missing = [cid for cid in NAMED_CONTENDERS if cid not in self.by_id]
        if missing:
            sys.exit(f"bench_report: {args.results} lacks the contenders {', '.join(missing)}")
        # The tables: ours, then the peers, each in the suite's order.
        self.ours = [c for c in data["contenders"] if c["ours"]]
        self.peers = [c for c in data["contenders"] if not c["ours"]]
        self.contenders = self.ours + self.peers
        self.latency = {(s["id"], s["op"]): s for s in data["latency"]}
        self.reads = {r["id"]: r for r in data["stats_reads"]}
        self.machine, self.plan, self.timer = data["machine"], data["plan"], data["timer"]
        self.criterion = args.criterion
        self.cm = read_cortex_m(args.cortex_m)
        self.costs = read_cortex_m_costs(args.cortex_m_costs)
        c_loop_dir = os.path.join(os.path.dirname(args.results), "c-loop")
        self.c_loop_path = os.path.join(c_loop_dir, "pair_loop.txt")
        self.c_loop = read_c_loop(self.c_loop_path)
        self.callgrind_path = os.path.join(c_loop_dir, "callgrind-summary.txt")

        by_id = self.by_id
        self.st = {cid: median(c["ns_per_pair_1t"]) for cid, c in by_id.items()}
        self.wall2 = {cid: per_thread_ns(c) for cid, c in by_id.items()}
        self.cpu2 = {cid: per_thread_ns(c, "cpu_ns_per_pair_2t") for cid, c in by_id.items()}
        self.tput = {cid: median([mops(v) if v else NAN for v in self.wall2[cid]]) for cid in by_id}
        self.cold = {cid: median(c["cold_ns_per_pair"]) if c.get("cold_ns_per_pair") else NAN for cid, c in by_id.items()}
        self.clock = self.read_median(READ_MONOTONIC_CLOCK)
        self.cycle_clock = self.read_median(READ_CYCLE_CLOCK)
        # The bookkeeping alone: the fixed-clock pair minus the monitoring-off pair of the same
        # round (median over rounds), with nothing subtracted for its four (trivial) clock calls.
        if C_ABI_FIXED_CLOCK in by_id:
            fixed_rounds, off_rounds = by_id[C_ABI_FIXED_CLOCK]["ns_per_pair_1t"], by_id[C_ABI]["ns_per_pair_1t"]
            self.bookkeeping = median([on - off for on, off in zip(fixed_rounds, off_rounds)])
        else:
            self.bookkeeping = NAN
        self.monitoring = self.ratio(C_ABI_MONITORED, C_ABI)

    def ratio(self, a, b):
        """Time per pair of `a` over `b`, one thread, median of the per-round ratios."""
        return round_ratio(self.by_id[a]["ns_per_pair_1t"], self.by_id[b]["ns_per_pair_1t"])

    def cpu_share(self, cid):
        """Two threads: the CPU time each thread got over the wall-clock window (median)."""
        return median([cpu / wall for cpu, wall in zip(self.cpu2[cid], self.wall2[cid]) if cpu and wall])

    def read_median(self, rid):
        return median(self.reads[rid]["ns_per_read"]) if rid in self.reads else NAN


# --- the template ----------------------------------------------------------------------------


class Template:
    """The blocks of benchmarks/report-template.md (its header comment describes the format)."""

    MARKER = re.compile(r"^<!-- block: ([A-Za-z0-9_-]+) -->\n", re.MULTILINE)

    def __init__(self, path):
        self.path = path
        with open(path, encoding="utf-8") as f:
            pieces = self.MARKER.split(f.read())
        names, bodies = pieces[1::2], pieces[2::2]
        self.blocks = dict(zip(names, bodies))
        if len(self.blocks) != len(names):
            sys.exit(f"bench_report: {path} names a block twice")

    def block(self, name, **values):
        """Block `name` with its placeholders filled."""
        if name not in self.blocks:
            sys.exit(f"bench_report: {self.path} has no block {name!r}")
        try:
            return string.Template(self.blocks[name]).substitute(values)
        except KeyError as e:
            sys.exit(f"bench_report: block {name!r} of {self.path}: no value for placeholder ${e.args[0]}")
        except ValueError as e:
            sys.exit(f"bench_report: block {name!r} of {self.path}: {e} (a literal dollar sign is $$)")

    def fragment(self, name, **values):
        """A one-line block, without its line end, to go inside another block's line."""
        return self.block(name, **values).rstrip("\n")

    def rows(self, name, rows):
        """Block `name` once per row (a dict of its placeholders' values)."""
        return "".join(self.block(name, **row) for row in rows)

    def verdict(self, ok):
        return self.fragment("met" if ok else "missed")

    def ratio(self, value):
        """`value` (formatted) as a ratio, or nothing for the reference row (None)."""
        return "" if value is None else self.fragment("ratio", value=value)


# --- the report, one function per section ----------------------------------------------------


def render_title(t, run):
    return t.block("title")


def render_machine_and_method(t, run):
    m, plan, timer = run.machine, run.plan, run.timer
    when = m.get("unix_time")
    run_date = datetime.datetime.fromtimestamp(when, datetime.timezone.utc).date().isoformat() if when else "unknown"
    return t.block(
        "machine-and-method",
        cpu=m["cpu"],
        arch=m["arch"],
        cores=m["cores"],
        os=m["os"],
        kernel=m["kernel"],
        rustc=tool_version(["rustc", "--version"]),
        load_before=m["load_before"].split(" ")[0],
        load_after=m["load_after"].split(" ")[0],
        run_date=run_date,
        source=m.get("source", "unknown"),
        quick_note=" " + t.fragment("quick-note") if plan["quick"] else "",
        buffers=plan["buffers"],
        payload_bytes=plan["payload_bytes"],
        rounds_1t=plan["rounds_1t"],
        pairs_1t=f"{plan['pairs_1t']:,}",
        main_cpu=plan.get("main_cpu", 0),
        rounds_2t=plan["rounds_2t"],
        window_ms_2t=plan["window_ms_2t"],
        rounds_latency=plan["rounds_latency"],
        pairs_latency=f"{plan['pairs_latency']:,}",
        counter=timer["counter"],
        ticks_per_ns=f"{timer['ticks_per_ns']:.3f}",
        overhead_ns=f"{timer['overhead_ns']:.1f}",
        resolution=fmt(resolution_ns(run.data["latency"])),
        rounds_stats=plan["rounds_stats"],
        reads_stats=f"{plan['reads_stats']:,}",
    )


def render_one_thread(t, run):
    rows = []
    for c in run.contenders:
        lo, hi = spread(c["ns_per_pair_1t"])
        crit = criterion_median(run.criterion, c["id"])
        rows.append(
            dict(label=c["label"], median=fmt(run.st[c["id"]]), low=fmt(lo), high=fmt(hi), criterion=fmt(crit) if crit else "n/a")
        )
    return t.block("one-thread") + t.rows("one-thread-row", rows)


def render_per_cpu(t, run):
    """The single-thread rounds on each CPU in turn, when the machine has more than one."""
    per_cpu_counts = {len(c.get("ns_per_pair_1t_per_cpu", [])) for c in run.by_id.values()}
    if not per_cpu_counts or min(per_cpu_counts) <= 1:
        return ""
    n_cpu = min(per_cpu_counts)
    main_cpu = run.plan.get("main_cpu", 0)
    head = t.block(
        "per-cpu",
        main_cpu=main_cpu,
        cpu_columns=CELL.join(t.fragment("per-cpu-column", cpu=k) for k in range(n_cpu)),
        alignment=NUMERIC_COLUMN * n_cpu,
    )
    rows = [
        dict(label=c["label"], medians=CELL.join(fmt(median(c["ns_per_pair_1t_per_cpu"][k])) for k in range(n_cpu)))
        for c in run.contenders
    ]
    out = head + t.rows("per-cpu-row", rows) + t.block("per-cpu-note")
    drift = {
        cid: median(run.by_id[cid]["ns_per_pair_1t_per_cpu"][main_cpu]) / run.st[cid]
        for cid in DRIFT_CONTENDERS
        if main_cpu < n_cpu
    }
    if drift and max(drift.values()) > DRIFT_REPORTED_ABOVE:
        out += t.block(
            "per-cpu-drift",
            ours=f"{drift.get(C_ABI, NAN):.2f}",
            malloc=f"{drift.get(MALLOC, NAN):.2f}",
            atomic_pool=f"{drift.get(ATOMIC_POOL, NAN):.2f}",
            heapless_object=f"{drift.get(HEAPLESS_OBJECT, NAN):.2f}",
        )
    return out


def render_ratios(t, run):
    """Ours / each peer, one thread, and monitoring on / off."""
    head = t.block(
        "ratios",
        peer_columns=CELL.join(p["label"] for p in run.peers),
        alignment=NUMERIC_COLUMN * len(run.peers),
    )
    rows = [
        dict(label=c["label"], ratios=CELL.join(t.ratio(f"{run.ratio(c['id'], p['id']):.2f}") for p in run.peers))
        for c in run.ours
    ]
    monitoring = t.block(
        "monitoring-ratios",
        monitoring=f"{run.monitoring:.2f}",
        monitoring_cycles=f"{run.ratio(C_ABI_CYCLE_CLOCK, C_ABI):.2f}",
        monitoring_rust=f"{run.ratio(RUST_API_MONITORED, RUST_API):.2f}",
    )
    return head + t.rows("ratios-row", rows) + monitoring


def render_two_threads(t, run):
    rows = []
    for c in run.contenders:
        cid = c["id"]
        rel = round_ratio(run.wall2[cid], run.wall2[C_ABI])
        rows.append(
            dict(
                label=c["label"],
                throughput=fmt(run.tput[cid], 2),
                wall=fmt(median(run.wall2[cid])),
                cpu=fmt(median(run.cpu2[cid])),
                share=fmt(run.cpu_share(cid), 2),
                relative=t.ratio(None if cid == C_ABI else f"{rel:.2f}"),
            )
        )
    return t.block("two-threads") + t.rows("two-threads-row", rows) + t.block("two-threads-note")


def render_latency(t, run):
    rows = [
        dict(
            label=s["label"],
            op=s["op"],
            p50=fmt(s["p50"]),
            p99=fmt(s["p99"]),
            p999=fmt(s["p999"]),
            p9999=fmt(s["p9999"]),
            max=fmt(s["max"]),
            samples=f"{s['samples']:,}",
        )
        for s in run.data["latency"]
    ]
    return t.block("latency") + t.rows("latency-row", rows) + t.block("latency-note")


def render_reads(t, run):
    rows = []
    for r in run.data["stats_reads"]:
        lo, hi = spread(r["ns_per_read"])
        rows.append(dict(label=r["label"], median=fmt(median(r["ns_per_read"])), low=fmt(lo), high=fmt(hi)))
    return t.block("reads") + t.rows("reads-row", rows)


def render_hand_offs(t, run):
    """One thread passing one buffer through a queue and back, ours against the peers."""
    queues = run.data.get("hand_offs")
    if not queues:
        return ""
    ours = median(queues[0]["ns_per_pass_1t"])
    rows = []
    for q in queues:
        lo, hi = spread(q["ns_per_pass_1t"])
        m = median(q["ns_per_pass_1t"])
        rows.append(dict(label=q["label"], median=fmt(m), low=fmt(lo), high=fmt(hi), ratio=fmt(ours / m, 2) if m else "n/a"))
    return t.block("hand-offs") + t.rows("hand-offs-row", rows)


def render_goals(t, run):
    out = t.block("goals") + render_host_goals(t, run)
    m4 = (run.costs or {}).get(M4_BOARD, {})
    out += render_instruction_goal(t, "goal-m4-off", m4.get("off"), GOAL_M4_OFF)
    out += render_instruction_goal(t, "goal-m4-on", m4.get("on"), GOAL_M4_ON)
    if m4.get("off") and m4.get("off_hand_off"):
        enqueue, dequeue = m4["off_hand_off"]
        release = m4["off"][1]
        out += t.block(
            "goal-m4-hand-off",
            enqueue=fmt(enqueue),
            dequeue=fmt(dequeue),
            release=fmt(release),
            verdict=t.verdict(enqueue <= GOAL_ENQUEUE and dequeue <= GOAL_DEQUEUE),
        )
    if run.costs:
        out += render_m0_goal(t, run.costs) + render_flash_goals(t, run.costs)
    return out


def render_host_goals(t, run):
    """The goal rows measured on the host."""
    r_ap = run.ratio(C_ABI, ATOMIC_POOL)
    out = t.block("goal-atomic-pool", ratio=f"{r_ap:.2f}", verdict=t.verdict(r_ap <= GOAL_VS_ATOMIC_POOL))
    r_malloc = run.ratio(C_ABI, MALLOC)
    # Which case this machine is: atomic-pool's own pair against malloc's, in the same suite.
    r_ap_malloc = run.ratio(ATOMIC_POOL, MALLOC)
    stands_aside = r_ap_malloc >= MALLOC_TARGET_STANDS_ASIDE
    case = t.fragment(
        "malloc-stands-aside" if stands_aside else "malloc-applies", ratio=f"{r_ap_malloc:.2f}"
    )
    loop = run.c_loop
    if loop:
        # The least favourable of the plain loop's columns: malloc at its fastest heap state.
        r_loop = max(loop["ours"][k] / min(loop["top"][k], loop["bin"][k]) for k in (0, 1))
        met = r_loop <= GOAL_VS_MALLOC and r_malloc <= GOAL_VS_MALLOC
        out += t.block(
            "goal-malloc",
            loop_ratio=f"{r_loop:.2f}",
            suite_ratio=f"{r_malloc:.2f}",
            case=case,
            verdict=t.fragment("stands-aside") if stands_aside else t.verdict(met),
        )
    else:
        out += t.block(
            "goal-malloc-suite-only",
            suite_ratio=f"{r_malloc:.2f}",
            case=case,
            verdict=t.fragment("stands-aside") if stands_aside else t.verdict(r_malloc <= GOAL_VS_MALLOC),
        )
    t_rel = round_ratio(run.wall2[ATOMIC_POOL], run.wall2[C_ABI])
    out += t.block(
        "goal-throughput",
        ratio=f"{t_rel:.2f}",
        ours=fmt(run.tput[C_ABI], 2),
        atomic_pool=fmt(run.tput[ATOMIC_POOL], 2),
        share=fmt(run.cpu_share(C_ABI), 2),
        verdict=t.verdict(t_rel >= GOAL_THROUGHPUT_VS_ATOMIC_POOL),
    )
    cold = run.cold
    r_cold = cold[C_ABI] / cold[ATOMIC_POOL] if cold[ATOMIC_POOL] else NAN
    out += t.block(
        "goal-cold",
        eviction_mib=run.plan.get("eviction_bytes", 0) >> 20,
        ratio=f"{r_cold:.2f}",
        ours=fmt(cold[C_ABI]),
        atomic_pool=fmt(cold[ATOMIC_POOL]),
        verdict=t.verdict(r_cold <= GOAL_COLD_VS_ATOMIC_POOL),
    )
    st = run.st
    out += t.block(
        "goal-bookkeeping",
        bookkeeping=fmt(run.bookkeeping),
        extra_cycles=fmt(st[C_ABI_CYCLE_CLOCK] - st[C_ABI] - 4 * run.cycle_clock),
        extra_default=fmt(st[C_ABI_MONITORED] - st[C_ABI] - 4 * run.clock),
        verdict=t.verdict(run.bookkeeping <= GOAL_BOOKKEEPING_NS),
    )
    p999 = max(run.latency[(C_ABI, op)]["p999"] for op in ("allocate", "release") if (C_ABI, op) in run.latency)
    out += t.block("goal-p999", p999=fmt(p999), verdict=t.verdict(p999 < GOAL_P999_NS))
    return out


def within(counts, budget):
    """True when an (allocate, release) pair of counts is measured and within its budget."""
    return counts is not None and counts[0] <= budget[0] and counts[1] <= budget[1]


def render_instruction_goal(t, name, counts, budget):
    """A Cortex-M4 instruction goal row, when the C firmware was counted."""
    if counts is None:
        return ""
    return t.block(name, allocate=fmt(counts[0]), release=fmt(counts[1]), verdict=t.verdict(within(counts, budget)))


def render_m0_goal(t, costs):
    def pair_of(board):
        entry = costs.get(board, {})
        if "off" not in entry:
            return t.fragment("not-measured")
        return t.fragment("instruction-pair", allocate=fmt(entry["off"][0]), release=fmt(entry["off"][1]))

    ok = within(costs.get(M0_BOARD, {}).get("off"), GOAL_M0_OFF)
    return t.block(
        "goal-m0",
        m0=pair_of(M0_BOARD),
        m3=pair_of(M3_BOARD),
        m4f=pair_of(M4_BOARD),
        m33=pair_of(M33_BOARD),
        verdict=t.verdict(ok),
    )


def render_flash_goals(t, costs):
    """The flash goal of the whole C API on Cortex-M4F, then one row per further footprint image."""
    out = ""
    flash = {b: e["text"] + e["rodata"] for b, e in costs.items() if "text" in e}
    if M4_BOARD in flash:
        others = ", ".join(
            t.fragment("core-flash", core=costs[b]["core"].replace("Cortex-", ""), flash=f"{flash[b]:,}")
            for b in FLASH_OTHER_BOARDS
            if b in flash
        )
        out += t.block(
            "goal-flash",
            flash=f"{flash[M4_BOARD]:,}",
            text=f"{costs[M4_BOARD]['text']:,}",
            rodata=f"{costs[M4_BOARD]['rodata']:,}",
            other_cores=others,
            verdict=t.verdict(flash[M4_BOARD] <= GOAL_FLASH_BYTES),
        )
    m4 = costs.get(M4_BOARD, {})
    for prefix, label, budget in FLASH_IMAGES:
        if prefix + "text" not in m4:
            continue
        text, rodata = m4[prefix + "text"], m4[prefix + "rodata"]
        figures = dict(image=t.fragment(label), flash=f"{text + rodata:,}", text=f"{text:,}", rodata=f"{rodata:,}")
        if budget is None:
            out += t.block("flash-image-reported", **figures)
        else:
            out += t.block(
                "goal-flash-image", budget=f"{budget:,}", verdict=t.verdict(text + rodata <= budget), **figures
            )
    return out


def render_cold(t, run):
    rows = []
    for c in run.contenders:
        cid = c["id"]
        if not c.get("cold_ns_per_pair"):
            continue
        lo, hi = spread(c["cold_ns_per_pair"])
        rel = run.cold[C_ABI] / run.cold[cid] if run.cold[cid] else NAN
        rows.append(
            dict(
                label=c["label"],
                median=fmt(run.cold[cid]),
                low=fmt(lo),
                high=fmt(hi),
                relative=t.ratio(None if cid == C_ABI else f"{rel:.2f}"),
            )
        )
    head = t.block("cold", rounds_cold=run.plan.get("rounds_cold", 0), eviction_mib=run.plan.get("eviction_bytes", 0) >> 20)
    return head + t.rows("cold-row", rows) + t.block("cold-note")


def render_where_the_time_goes(t, run):
    st = run.st
    out = t.block(
        "where-the-time-goes",
        ours=fmt(st[C_ABI]),
        atomic_pool=fmt(st[ATOMIC_POOL]),
        validation_saves=fmt(st[C_ABI] - st[C_ABI_UNVALIDATED]),
        monitoring=f"{run.monitoring:.2f}",
        clock=fmt(run.clock),
        cycle_clock=fmt(run.cycle_clock),
        bookkeeping=fmt(run.bookkeeping),
    )
    board = (run.costs or {}).get(M4_BOARD, {})
    if all(k in board for k in ("text", "core_text", "lean_text")):
        whole = board["text"] + board["rodata"]
        life = board["core_text"] + board["core_rodata"]
        lean = board["lean_text"] + board["lean_rodata"]
        out += t.block(
            "where-the-flash-goes",
            whole=f"{whole:,}",
            readers=f"{whole - life:,}",
            life_cycle=f"{life:,}",
            monitoring=f"{life - lean:,}",
            lean=f"{lean:,}",
        )
    out += t.block("where-heapless-time-goes", box_pool=fmt(st[HEAPLESS_BOX]), object_pool=fmt(st[HEAPLESS_OBJECT]))
    cm = run.cm
    if cm is not None and "release" in cm["runs"] and cm["functions"]:
        rows = cm["runs"]["release"]["rows"]
        inside = instructions_inside(cm)
        out += t.block(
            "where-cortex-m-instructions-go",
            allocate=fmt(rows[CM_C_ABI]["alloc_net"], 0),
            release=fmt(rows[CM_C_ABI]["release_net"], 0),
            heapless_allocate=fmt(rows[CM_HEAPLESS_OBJECT]["alloc_net"], 0),
            heapless_release=fmt(rows[CM_HEAPLESS_OBJECT]["release_net"], 0),
            allocate_inside=fmt(inside.get("aes5_buffer_manager_allocate", NAN), 0),
            release_inside=fmt(inside.get("aes5_buffer_manager_release", NAN), 0),
        )
    return out


def instructions_inside(cm):
    """Instructions executed inside each library function per allocate or release (the
    breakdown run's pairs plus the first one), by short symbol."""
    calls = cm["breakdown_ops"] + 1
    return {short_symbol(symbol): count / calls for count, symbol in cm["functions"]}


def render_c_loop(t, run):
    """The plain C loop (scripts/bench-c-loop.sh), when it ran."""
    loop = run.c_loop
    if not loop:
        return ""
    crit_malloc = criterion_median(run.criterion, MALLOC) or NAN
    out = t.block(
        "c-loop",
        loop_output=code_lines(run.c_loop_path, "c_loop: "),
        suite=fmt(run.st[MALLOC]),
        criterion=fmt(crit_malloc),
        loop_low=fmt(min(loop["top"][0], loop["bin"][0])),
        loop_high=fmt(max(loop["top"][1], loop["bin"][1])),
    )
    in_process, fresh = read_callgrind_summary(run.callgrind_path)
    if in_process and fresh:
        out += t.block(
            "c-loop-instructions",
            in_process=in_process[0],
            in_process_malloc=in_process[1],
            in_process_free=in_process[2],
            fresh=fresh,
        )
    out += t.block(
        "c-loop-threads",
        top_before=fmt(loop["top"][0]),
        top_after=fmt(loop["top"][1]),
        bin_before=fmt(loop["bin"][0]),
        bin_after=fmt(loop["bin"][1]),
        ours_before=fmt(loop["ours"][0]),
        ours_after=fmt(loop["ours"][1]),
    )
    mal = run.by_id[MALLOC].get("ns_per_pair_1t_per_cpu", [])
    ours_cpu = run.by_id[C_ABI].get("ns_per_pair_1t_per_cpu", [])
    if len(mal) > 1 and len(ours_cpu) > 1:
        versus = f" {t.fragment('versus')} "
        out += t.block(
            "c-loop-per-cpu",
            malloc=versus.join(fmt(median(v)) for v in mal),
            ours=versus.join(fmt(median(v)) for v in ours_cpu),
        )
    out += t.block("c-loop-verdict")
    if os.path.exists(run.callgrind_path):
        out += t.block("c-loop-callgrind", callgrind_summary=code_lines(run.callgrind_path, "callgrind: "))
    return out


def render_cortex_m(t, run):
    """The Rust firmware's instruction counts (scripts/bench-rust-firmware.sh), when it ran."""
    cm = run.cm
    if cm is None:
        return t.block("cortex-m-not-measured")
    rows = []
    for profile, level in CM_PROFILES:
        run_rows = cm["runs"].get(profile, {}).get("rows")
        if not run_rows:
            continue
        ours = run_rows[CM_C_ABI]
        ours_pair = ours["alloc"] + ours["release"]
        for name, r in run_rows.items():
            if name == CM_BASELINE:
                continue
            pair_ratio = ours_pair / (r["alloc"] + r["release"])
            rows.append(
                dict(
                    label=r["label"],
                    opt_level=level,
                    allocate=fmt(r["alloc"]),
                    release=fmt(r["release"]),
                    allocate_net=fmt(r["alloc_net"]),
                    release_net=fmt(r["release_net"]),
                    relative=t.ratio(None if name == CM_C_ABI else f"{pair_ratio:.1f}"),
                )
            )
    out = t.block("cortex-m") + t.rows("cortex-m-row", rows) + t.block("cortex-m-copy")
    release_rows = cm["runs"].get("release", {}).get("rows", {})
    m4 = (run.costs or {}).get(M4_BOARD, {})
    if "off" in m4 and CM_C_ABI in release_rows and cm["functions"]:
        inside = instructions_inside(cm)
        ours = release_rows[CM_C_ABI]
        out += t.block(
            "cortex-m-c-firmware",
            c_allocate=fmt(m4["off"][0]),
            c_release=fmt(m4["off"][1]),
            allocate_net=fmt(ours["alloc_net"]),
            release_net=fmt(ours["release_net"]),
            allocate_inside=fmt(inside.get("aes5_buffer_manager_allocate", NAN)),
            release_inside=fmt(inside.get("aes5_buffer_manager_release", NAN)),
        )
    if cm["functions"]:
        calls = cm["breakdown_ops"] + 1
        functions = [
            dict(function=short_symbol(symbol), instructions=fmt(count / calls))
            for count, symbol in cm["functions"]
            if count / calls >= 1.0
        ]
        out += t.block("cortex-m-functions", pairs=f"{calls:,}") + t.rows("cortex-m-functions-row", functions)
    return out


def render_reproduce(t, run):
    return t.block("reproduce")


SECTIONS = (
    render_title,
    render_machine_and_method,
    render_one_thread,
    render_per_cpu,
    render_ratios,
    render_two_threads,
    render_latency,
    render_reads,
    render_hand_offs,
    render_goals,
    render_cold,
    render_where_the_time_goes,
    render_c_loop,
    render_cortex_m,
    render_reproduce,
)


# --- the plot --------------------------------------------------------------------------------


def plot_styles(data):
    """Colour and line style per latency series id: by side (ours or a peer) and order."""
    ours = {c["id"]: c["ours"] for c in data["contenders"]}
    styles, taken = {}, {True: 0, False: 0}
    for s in data["latency"]:
        if s["id"] in styles:
            continue
        side = ours.get(s["id"], False)
        palette = OURS_PLOT_STYLES if side else PEER_PLOT_STYLES
        styles[s["id"]] = palette[taken[side] % len(palette)]
        taken[side] += 1
    return styles


def render_plot(data, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("bench_report: matplotlib is missing (scripts/bench.sh installs it)")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    styles = plot_styles(data)
    for ax, op in zip(axes, ["allocate", "release"]):
        for s in data["latency"]:
            if s["op"] != op:
                continue
            color, style = styles[s["id"]]
            xs, ys = [], []
            for level, ns in zip(s["levels"], s["ns"]):
                xs.append(max(ns, 1.0))
                ys.append(1.0 - level)
            xs.append(max(s["max"], 1.0))  # the slowest sample: one in `samples`
            ys.append(1.0 / s["samples"])
            ax.step(xs, ys, where="post", label=s["label"], color=color, linestyle=style)
        ax.set_xscale("log")
        ax.set_yscale("log")
        samples = max(s["samples"] for s in data["latency"])
        ax.set_ylim(0.5 / samples, 1.5)
        ax.set_title(f"single {op} (timer overhead subtracted)")
        ax.set_xlabel("latency, ns (log)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("fraction of operations slower (log)")
    axes[1].legend(loc="upper right", fontsize=8)
    fig.suptitle(f"Latency distribution, {data['machine']['cpu']}, {data['machine']['cores']} cores")
    fig.tight_layout()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=100)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", required=True)
    ap.add_argument("--criterion", default=None, help="criterion's directory (benchmarks pair/<contender id>)")
    ap.add_argument("--markdown", default="BENCHMARKS.md")
    ap.add_argument("--plot", default="docs/latency.png")
    ap.add_argument("--cortex-m", default=None, help="directory written by scripts/bench-rust-firmware.sh")
    ap.add_argument("--cortex-m-costs", default=None, help="output of scripts/cortex-m-costs.sh")
    args = ap.parse_args()

    run = Run(args)
    template = Template(TEMPLATE)
    render_plot(run.data, args.plot)
    report = "".join(section(template, run) for section in SECTIONS)
    with open(args.markdown, "w", encoding="utf-8") as f:
        f.write(report)
    print(f"bench_report: wrote {args.markdown} and {args.plot}")


if __name__ == "__main__":
    main()
