"""Table and target checks for bench/capture-bench.

    python3 bench_report.py RESULTS.tsv SIZE_MB REPS [FORK_S]

RESULTS.tsv has one line per counted capture:
    size_mb  tool  rep  wall_s  stall_s  disk_bytes  apparent_bytes  pre_s  post_s
tool is one of gdb, pycore-nofork (--no-fork: stop-the-world), pycore (the
default: a snapshot), pycore-lz4 (a snapshot, --lz4), pycore-filter (a
snapshot, --filter python); pre_s is how long the longest
stall began before the command started, post_s how long it went on after
the command exited (0 when inside; both say where an excess stall came from).  Prints the table for SIZE_MB
(medians over the repetitions), the individual runs, and PASS/FAIL lines
for the targets; FORK_S, the target's own fork time, is quoted beside the
snapshot's pause as its floor.  Always exits 0: the benchmark's exit status is about
whether the tools produced cores, which the shell script tracks.
"""

import statistics
import sys

TOOLS = [
    ("gdb", "gdb gcore"),
    ("pycore-nofork", "pycore-capture --no-fork"),
    ("pycore", "pycore-capture"),
    ("pycore-lz4", "pycore-capture --lz4"),
    ("pycore-filter", "pycore-capture --filter python"),
]
# Issue #6: the longest stall a snapshot may cause, by target size (MB).
SNAPSHOT_PAUSE_MAX = {1024: 0.040, 4096: 0.150}
SNAPSHOT_VS_GDB = 50     # a snapshot's stall at least this many times shorter
STALL_TOLERANCE = 0.050  # s, timer granularity / heartbeat period
MB = 1e6


def main():
    path, size, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    fork_s = float(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] else None
    runs = {tool: [] for tool, _ in TOOLS}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) != 9 or p[0] != size or p[1] not in runs:
                continue
            runs[p[1]].append(
                dict(rep=int(p[2]), wall=float(p[3]), stall=float(p[4]),
                     disk=int(p[5]), app=int(p[6]),
                     pre=float(p[7]), post=float(p[8])))

    med = {}
    for tool, _ in TOOLS:
        r = runs[tool]
        if r:
            med[tool] = {k: statistics.median(x[k] for x in r)
                         for k in ("wall", "stall", "disk", "app")}

    def ratio(tool, key):
        if tool not in med or "gdb" not in med or med["gdb"][key] <= 0:
            return "n/a"
        return "%.2f" % (med[tool][key] / med["gdb"][key])

    hdr = ("tool", "wall s", "max stall s", "MB on disk", "MB apparent",
           "wall/gdb", "disk/gdb")
    rows = []
    for tool, label in TOOLS:
        if tool not in med:
            rows.append((label, "FAILED", "", "", "", "", ""))
            continue
        m = med[tool]
        rows.append((label, "%.3f" % m["wall"], "%.3f" % m["stall"],
                     "%.1f" % (m["disk"] / MB), "%.1f" % (m["app"] / MB),
                     ratio(tool, "wall"), ratio(tool, "disk")))
    widths = [max(len(r[i]) for r in rows + [hdr]) for i in range(len(hdr))]

    def fmt(r):
        cells = [r[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        return "| " + " | ".join(cells) + " |"

    print("median of %d run(s) per tool; MB = 10^6 bytes; disk = allocated blocks"
          % reps)
    print(fmt(hdr))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(fmt(r))
    print()
    filter_line(med)
    print("individual runs (wall s / max stall s / MB on disk):")
    for tool, label in TOOLS:
        cells = ["%.3f/%.3f/%.1f" % (x["wall"], x["stall"], x["disk"] / MB)
                 for x in runs[tool]]
        print("  %-30s %s" % (label, "  ".join(cells) or "(no successful run)"))
    print()

    def verdict(ok, text):
        if ok is None:
            print("  SKIP  %s (missing data)" % text)
        else:
            print("  %s  %s" % ("PASS" if ok else "FAIL", text))

    g, p, z = med.get("gdb"), med.get("pycore"), med.get("pycore-lz4")
    print("targets (%s MB):" % size)
    snapshot_verdicts(int(size), g, p, fork_s, verdict)
    nofork_verdicts(g, med.get("pycore-nofork"), verdict)
    if g and p:
        verdict(p["wall"] <= 0.5 * g["wall"],
                "pycore wall <= 0.5 x gdb wall: %.3f s vs %.3f s (ratio %.2f)"
                % (p["wall"], 0.5 * g["wall"], p["wall"] / g["wall"]))
        verdict(p["disk"] <= g["disk"],
                "pycore disk <= gdb disk: %.1f MB vs %.1f MB (ratio %.2f)"
                % (p["disk"] / MB, g["disk"] / MB, p["disk"] / g["disk"]))
    else:
        verdict(None, "pycore wall <= 0.5 x gdb wall")
        verdict(None, "pycore disk <= gdb disk")
    if g and z:
        # The wall-time target names no mode: hold --lz4 to it too.
        verdict(z["wall"] <= 0.5 * g["wall"],
                "pycore --lz4 wall <= 0.5 x gdb wall: %.3f s vs %.3f s (ratio %.2f)"
                % (z["wall"], 0.5 * g["wall"], z["wall"] / g["wall"]))
        verdict(z["disk"] <= 0.35 * g["disk"],
                "pycore --lz4 disk <= 0.35 x gdb disk: %.1f MB vs %.1f MB (ratio %.2f)"
                % (z["disk"] / MB, 0.35 * g["disk"] / MB, z["disk"] / g["disk"]))
    else:
        verdict(None, "pycore --lz4 wall <= 0.5 x gdb wall")
        verdict(None, "pycore --lz4 disk <= 0.35 x gdb disk")
    for tool, label in TOOLS[1:]:
        r = runs[tool]
        text = "%s stall <= own wall + %d ms, every run" % (
            label, STALL_TOLERANCE * 1000)
        if not r:
            verdict(None, text)
            continue
        worst = max(r, key=lambda x: x["stall"] - x["wall"])
        ok = all(x["stall"] <= x["wall"] + STALL_TOLERANCE for x in r)
        where = ""
        if not ok:
            where = ("; that stall began %.3f s before the command started"
                     " and ended %.3f s after it exited"
                     % (worst["pre"], worst["post"]))
        verdict(ok, "%s (worst: stall %.3f s, wall %.3f s%s)"
                % (text, worst["stall"], worst["wall"], where))


def filter_line(med):
    """What --filter python saves against the full dump (the default
    snapshot, the kernel's rules) and against gdb, on disk."""
    f, p, g = med.get("pycore-filter"), med.get("pycore"), med.get("gdb")
    if not f or not p:
        print("--filter python: n/a (a capture failed)")
        print()
        return
    saved = p["disk"] - f["disk"]
    text = ("--filter python: %.1f MB on disk against %.1f MB under the kernel's rules:"
            " %.1f MB (%.1f%%) saved" % (f["disk"] / MB, p["disk"] / MB, saved / MB,
                                         100.0 * saved / p["disk"] if p["disk"] else 0.0))
    if g and g["disk"]:
        text += "; %.1f MB (%.1f%%) less than gdb's" % (
            (g["disk"] - f["disk"]) / MB, 100.0 * (g["disk"] - f["disk"]) / g["disk"])
    print(text)
    print()


def snapshot_verdicts(size, g, p, fork_s, verdict):
    """Issue #6: the snapshot's pause, absolute and against gdb's, with the
    target's own fork time (fork_s, None if unknown) as its floor."""
    limit = SNAPSHOT_PAUSE_MAX.get(size)
    if limit is not None:
        text = "snapshot pause <= %d ms at %d MB" % (limit * 1000, size)
        if p:
            verdict(p["stall"] <= limit, "%s: %.1f ms" % (text, p["stall"] * 1000))
        else:
            verdict(None, text)
    text = "snapshot pause >= %d x shorter than gdb's" % SNAPSHOT_VS_GDB
    if g and p:
        times = g["stall"] / p["stall"] if p["stall"] > 0 else float("inf")
        floor = ("; the target's own fork takes %.1f ms, 1/%d of gdb's pause is %.1f ms"
                 % (fork_s * 1000, SNAPSHOT_VS_GDB, g["stall"] * 1000 / SNAPSHOT_VS_GDB)
                 if fork_s else "")
        verdict(times >= SNAPSHOT_VS_GDB, "%s: %.1f ms vs %.1f ms (%.0f x)%s"
                % (text, p["stall"] * 1000, g["stall"] * 1000, times, floor))
    else:
        verdict(None, text)


def nofork_verdicts(g, n, verdict):
    """Issue #2's targets, for the stop-the-world mode too."""
    if g and n:
        verdict(n["wall"] <= 0.5 * g["wall"],
                "pycore --no-fork wall <= 0.5 x gdb wall: %.3f s vs %.3f s (ratio %.2f)"
                % (n["wall"], 0.5 * g["wall"], n["wall"] / g["wall"]))
        verdict(n["disk"] <= g["disk"],
                "pycore --no-fork disk <= gdb disk: %.1f MB vs %.1f MB (ratio %.2f)"
                % (n["disk"] / MB, g["disk"] / MB, n["disk"] / g["disk"]))
    else:
        verdict(None, "pycore --no-fork wall <= 0.5 x gdb wall")
        verdict(None, "pycore --no-fork disk <= gdb disk")


if __name__ == "__main__":
    main()
