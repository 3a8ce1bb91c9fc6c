"""Measuring and judging for bench/report-bench.

    python3 report_judge.py run REPORT CORE OUT.json RESULTS.tsv REP
    python3 report_judge.py judge CENSUS.json RESULTS.tsv CORE_FACTS
    python3 report_judge.py leaks CENSUS_RESULTS.tsv LEAK_RESULTS.tsv

run: runs `REPORT --format json $REPORT_FLAGS CORE > OUT.json` once, sampling the report
process's /proc/PID/status every 10 ms (VmRSS, RssAnon, RssFile), and
appends one line to RESULTS.tsv:
    rep  wall_s  objects  peak_anon  peak_file  peak_rss  maxrss  samples
(bytes; maxrss is the kernel's ru_maxrss, anonymous and file pages
together).  Peak RssAnon is the report's private memory: what it allocated
itself; the page cache of the mapped core (RssFile) is shared, reclaimable
and not counted.  REP 0 is the warm-up: printed, not recorded.  Exits with
the report's status (1 when its JSON has no totals.objects).

judge: prints the table (median wall time over the counted runs, objects/s
from it, the highest peak RssAnon of any run), the individual runs, and
PASS/MISS lines for the issue's targets against CENSUS.json (written by
report_target.py).  CORE_FACTS is "APPARENT_BYTES DISK_BYTES CAPTURE_S".
Always exits 0: a missed target is a result, not a failure.
"""

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time

CENSUS_RATIO = 8.0        # report objects/s >= 8 x the in-process census's
HEAPY_RATE = 7.8e6        # heapy's C walk inside the live process, objects/s
BYTES_PER_OBJECT = 32.0   # peak private memory per object found
SAMPLE_PERIOD = 0.010
MB = 1e6


def pdeathsig():
    """In the child: die with the benchmark (Linux PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


def read_status(pid):
    """{VmRSS, RssAnon, RssFile} in bytes; {} once the process is gone."""
    try:
        fd = os.open("/proc/%d/status" % pid, os.O_RDONLY)
    except OSError:
        return {}
    try:
        text = os.read(fd, 8192).decode("ascii", "replace")
    except OSError:
        return {}
    finally:
        os.close(fd)
    out = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(rest.split()[0]) * 1024
    return out


def cmd_run(report, core, out_path, results, rep):
    rep = int(rep)
    with open(out_path, "wb") as out, open(out_path + ".err", "wb") as err:
        t0 = time.perf_counter()
        flags = os.environ.get("REPORT_FLAGS", "").split()
        proc = subprocess.Popen([report, "--format", "json"] + flags + [core], stdout=out,
                                stderr=err, preexec_fn=pdeathsig)

    def on_signal(signum, frame):
        proc.kill()
        sys.exit(128 + signum)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)

    peak = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0}
    samples = [0]
    done = threading.Event()

    def sampler():
        while not done.is_set():
            st = read_status(proc.pid)
            if st:
                samples[0] += 1
                for k in peak:
                    if st.get(k, 0) > peak[k]:
                        peak[k] = st[k]
            done.wait(SAMPLE_PERIOD)

    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    # wait4 rather than Popen.wait: the end time is taken the moment the
    # report exits, and the kernel's ru_maxrss comes with it.
    _, status, usage = os.wait4(proc.pid, 0)
    t1 = time.perf_counter()
    proc.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") \
        else (-(status & 0x7f) if status & 0x7f else status >> 8)
    done.set()
    th.join()
    wall = t1 - t0
    label = "warm-up" if rep == 0 else "run %d" % rep

    if proc.returncode != 0:
        with open(out_path + ".err", "rb") as f:
            tail = f.read().decode("utf-8", "replace").splitlines()[-20:]
        print("report-bench: pycore-report exited with status %d (%s):" % (proc.returncode, label),
              file=sys.stderr)
        for line in tail:
            print("    " + line, file=sys.stderr)
        return 1
    try:
        with open(out_path) as f:
            objects = int(json.load(f)["totals"]["objects"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        print("report-bench: no totals.objects in the report's JSON (%s): %s" % (label, e),
              file=sys.stderr)
        return 1
    maxrss = usage.ru_maxrss * 1024
    print("  %-8s wall %7.3f s  objects %11s  %6.2f M obj/s  peak RssAnon %8.1f MB"
          "  RssFile %8.1f MB  (%d samples)"
          % (label, wall, "{:,}".format(objects), objects / wall / 1e6,
             peak["RssAnon"] / MB, peak["RssFile"] / MB, samples[0]))
    if rep > 0:
        with open(results, "a") as f:
            f.write("%d\t%.6f\t%d\t%d\t%d\t%d\t%d\t%d\n"
                    % (rep, wall, objects, peak["RssAnon"], peak["RssFile"],
                       peak["VmRSS"], maxrss, samples[0]))
    return 0


def table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def fmt(r):
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        return "| " + " | ".join(cells) + " |"

    print(fmt(rows[0]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows[1:]:
        print(fmt(r))


def cmd_judge(census_path, results, facts):
    with open(census_path) as f:
        census = json.load(f)
    apparent, disk, capture_s = facts.split()
    apparent, disk, capture_s = int(apparent), int(disk), float(capture_s)
    runs = []
    with open(results) as f:
        for line in f:
            p = line.split()
            if len(p) != 8:
                continue
            runs.append(dict(rep=int(p[0]), wall=float(p[1]), objects=int(p[2]),
                             anon=int(p[3]), file=int(p[4]), rss=int(p[5]),
                             maxrss=int(p[6]), samples=int(p[7])))

    c_objs = census["census_objects"]
    c_rate = census["census_objects_per_s"]
    rows = [("", "objects", "seconds", "M objects/s", "peak private MB", "bytes/object")]
    rows.append(("in-process census (gc, Python %s)" % census["python"], "{:,}".format(c_objs),
                 "%.3f" % census["census_seconds"], "%.2f" % (c_rate / 1e6), "", ""))
    if runs:
        wall = statistics.median(r["wall"] for r in runs)
        objs = statistics.median(r["objects"] for r in runs)
        anon = max(r["anon"] for r in runs)
        rate = objs / wall
        per_obj = anon / objs if objs else float("inf")
        rows.append(("pycore-report (from the core)", "{:,}".format(int(objs)), "%.3f" % wall,
                     "%.2f" % (rate / 1e6), "%.1f" % (anon / MB), "%.1f" % per_obj))
    print("median wall of %d run(s); peak private memory = highest peak RssAnon of any run,"
          % len(runs))
    print("sampled every %d ms; MB = 10^6 bytes" % (SAMPLE_PERIOD * 1000))
    table(rows)
    print()
    print("for information:")
    print("  core:        %.1f MB apparent, %.1f MB on disk; pycore-capture took %.3f s"
          % (apparent / MB, disk / MB, capture_s))
    print("  target:      %.1f MB resident, %s GC-tracked objects, heap built in %.1f s"
          % (census["rss_bytes"] / MB, "{:,}".format(census["gc_objects"]),
             census["build_seconds"]))
    if runs:
        print("  report:      page cache of the core (RssFile) up to %.1f MB, VmRSS up to %.1f MB,"
              " ru_maxrss %.1f MB"
              % (max(r["file"] for r in runs) / MB, max(r["rss"] for r in runs) / MB,
                 max(r["maxrss"] for r in runs) / MB))
        diff = objs - c_objs
        print("  objects:     the report found %s %s than the census (%+.2f%%)"
              % ("{:,}".format(abs(int(diff))), "more" if diff >= 0 else "fewer",
                 100.0 * diff / c_objs if c_objs else 0.0))
        if c_objs and objs < 0.9 * c_objs:
            print("  WARNING: the report found under 90% of the census's objects;"
                  " its objects/s flatters it")
        print("  runs (wall s / objects / peak RssAnon MB):  " + "  ".join(
            "%.3f/%d/%.1f" % (r["wall"], r["objects"], r["anon"] / MB) for r in runs))
    print()

    def verdict(ok, text):
        if ok is None:
            print("  SKIP  %s (no successful report run)" % text)
        else:
            print("  %s  %s" % ("PASS" if ok else "MISS", text))

    print("targets (%s objects requested):" % "{:,}".format(census["objects_requested"]))
    if not runs:
        verdict(None, "pycore-report objects/s >= %g x the in-process census's" % CENSUS_RATIO)
        verdict(None, "pycore-report objects/s > heapy's %.1f M objects/s" % (HEAPY_RATE / 1e6))
        verdict(None, "peak private memory <= %g bytes per object found" % BYTES_PER_OBJECT)
        return 0
    verdict(rate >= CENSUS_RATIO * c_rate,
            "pycore-report objects/s >= %g x the in-process census's: %.2f M/s vs %.2f M/s"
            " (ratio %.2f)" % (CENSUS_RATIO, rate / 1e6, CENSUS_RATIO * c_rate / 1e6, rate / c_rate))
    verdict(rate > HEAPY_RATE,
            "pycore-report objects/s > heapy's %.1f M/s (in-process C walk): %.2f M/s (ratio %.2f)"
            % (HEAPY_RATE / 1e6, rate / 1e6, rate / HEAPY_RATE))
    verdict(per_obj <= BYTES_PER_OBJECT,
            "peak private memory <= %g bytes per object found: %.1f bytes (%.1f MB for %s objects;"
            " heapy needed about 56)"
            % (BYTES_PER_OBJECT, per_obj, anon / MB, "{:,}".format(int(objs))))
    return 0


LEAKS_TIME_RATIO = 2.0     # graph + dominators + suspects within 2x the plain census
LEAKS_BYTES_PER_OBJECT = 96.0


def load_runs(results):
    rows = [l.split() for l in open(results) if l.strip()]
    walls = [float(r[1]) for r in rows]
    return statistics.median(walls), int(rows[0][2]), max(int(r[3]) for r in rows)


def cmd_leaks(census_results, leak_results):
    """The leak analysis (issue #4) against the plain census of the same core."""
    c_wall, objects, _ = load_runs(census_results)
    l_wall, l_objects, l_anon = load_runs(leak_results)
    print("| pycore-report                            | objects    | seconds | peak private MB | bytes/object |")
    print("|------------------------------------------|------------|---------|-----------------|--------------|")
    print("| census only (--no-leaks)                 | %10s | %7.3f |                 |              |"
          % ("{:,}".format(objects), c_wall))
    print("| with graph, dominators, suspects         | %10s | %7.3f | %15.1f | %12.1f |"
          % ("{:,}".format(l_objects), l_wall, l_anon / MB, l_anon / l_objects))
    print()
    print("targets (issue #4):")

    def verdict(ok, text):
        print("  %s  %s" % ("PASS" if ok else "MISS", text))

    # The issue times "graph + dominators + suspects" against the census:
    # the analyses' own time is what the full report takes beyond the
    # census-only one.  The whole report's ratio is printed beside it.
    extra = l_wall - c_wall
    verdict(extra <= LEAKS_TIME_RATIO * c_wall,
            "graph + dominators + suspects within %g x the plain census: %.3f s (%.3f s full report"
            " - %.3f s census) vs %.3f s (ratio %.2f; full report / census: %.2f)"
            % (LEAKS_TIME_RATIO, extra, l_wall, c_wall, LEAKS_TIME_RATIO * c_wall, extra / c_wall,
               l_wall / c_wall))
    verdict(l_anon / l_objects <= LEAKS_BYTES_PER_OBJECT,
            "peak private memory <= %g bytes per object: %.1f bytes (%.1f MB)"
            % (LEAKS_BYTES_PER_OBJECT, l_anon / l_objects, l_anon / MB))
    return 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "leaks":
        return cmd_leaks(*sys.argv[2:])
    if len(sys.argv) == 7 and sys.argv[1] == "run":
        return cmd_run(*sys.argv[2:])
    if len(sys.argv) == 5 and sys.argv[1] == "judge":
        return cmd_judge(*sys.argv[2:])
    print(__doc__.strip().split("\n\n")[0], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
