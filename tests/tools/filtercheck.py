#!/usr/bin/python3
"""Checks of pycore-capture --filter python cores against cores of the same
process under the kernel's rules (tests/integration/filter.sh).

usage: filtercheck.py DIR CDF

DIR holds mapped.py's files (mappings.json, ready.json, census.json), the
core under the kernel's rules core.full, the filtered core core.py (plain,
or unpacked with lz4 -d when it was captured --lz4) and
pycore-report's JSON of each, report.full.json and report.py.json.  CDF is
the process's coredump_filter (hex).  One line per check, "ok NAME" or
"no NAME: what differed", in this order:

  loads   The program headers of both cores list the same mappings; the
          filtered core holds data for exactly the mappings the full core
          holds less the two of mapped.py that the kernel's rules dump
          whole and the python rules leave out (file-copy, anon-shared),
          and for its other two (file-ro, file-shared) neither core holds
          data.
  note    The filtered core has one PYCORE filter note: rules 1 (python),
          the coredump_filter CDF, and as the kernel's rules' bytes the
          memory the full core holds (the sum of its PT_LOADs' p_filesz);
          the full core has none.
  same    The two reports are equal but for process.filter, null in the
          first and "python" in the second; the second has no warning.
  planted, threads, sizes
          census.py's checks of report.py.json against the target's truth.

One process for them all: a Python start costs more than the checks.
Exits 0 when it could run the checks.  Standard library only.
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import census  # noqa: E402
from elfcore import PT_LOAD, read_elf, read_notes  # noqa: E402

NT_FILTER = 0x50590006


def loads(path):
    with open(path, "rb") as f:
        return {p.vaddr: (p.memsz, p.filesz) for p in read_elf(f).phdrs if p.type == PT_LOAD}


def notes(path):
    with open(path, "rb") as f:
        return read_notes(f, read_elf(f).phdrs)


def check_loads(full_path, filt_path, mappings_path):
    full, filt = loads(full_path), loads(filt_path)
    planted = json.load(open(mappings_path))["mappings"]
    if sorted((a, m) for a, (m, _) in full.items()) != sorted((a, m) for a, (m, _) in filt.items()):
        return "the cores list different mappings"
    for name, (start, end) in planted.items():
        if start not in full or full[start][0] != end - start:
            return "%s (%#x-%#x) is not a PT_LOAD of the full core" % (name, start, end)
    want = {planted["file-copy"][0], planted["anon-shared"][0]}
    for name in ("file-copy", "anon-shared"):
        start, end = planted[name]
        if full[start][1] != end - start:
            return "the full core holds %d bytes of %s, not all %d" % (full[start][1], name, end - start)
    for name in ("file-ro", "file-shared"):
        start = planted[name][0]
        if full[start][1] or filt[start][1]:
            return "a core holds %s: full %d, filtered %d bytes" % (name, full[start][1], filt[start][1])
    dropped = {a for a in full if full[a][1] and not filt[a][1]}
    added = {a for a in full if filt[a][1] and not full[a][1]}
    changed = {a for a in full if full[a][1] and filt[a][1] and full[a][1] != filt[a][1]}
    if dropped != want or added or changed:
        return ("left out: %s (want %s); added: %s; other sizes: %s" %
                (sorted(map(hex, dropped)), sorted(map(hex, want)), sorted(map(hex, added)),
                 sorted(map(hex, changed))))
    return None


def check_note(full_path, filt_path, cdf):
    mine = [d for o, t, d in notes(filt_path) if o == "PYCORE" and t == NT_FILTER]
    theirs = [d for o, t, d in notes(full_path) if o == "PYCORE" and t == NT_FILTER]
    if theirs:
        return "the full core has a filter note"
    if len(mine) != 1 or len(mine[0]) != 16:
        return "the filtered core has %d filter notes (%s)" % (len(mine), [len(d) for d in mine])
    rules, filt, kernel = struct.unpack("<IIQ", mine[0])
    held = sum(f for _, f in loads(full_path).values())
    if (rules, filt, kernel) != (1, int(cdf, 16), held):
        return ("note: rules %d, coredump_filter %#x, kernel bytes %d; want 1, %#x, %d"
                % (rules, filt, kernel, int(cdf, 16), held))
    return None


def check_same(full_json, filt_json):
    a, b = json.load(open(full_json)), json.load(open(filt_json))
    fa, fb = a["process"].pop("filter", "absent"), b["process"].pop("filter", "absent")
    if (fa, fb) != (None, "python"):
        return "process.filter: %r and %r, want None and 'python'" % (fa, fb)
    if b["warnings"]:
        return "the filtered core's report warns: %s" % b["warnings"]
    if a != b:
        diff = [k for k in a if a.get(k) != b.get(k)] + [k for k in b if k not in a]
        return "the reports differ in %s" % diff
    return None


def census_check(name, d):
    try:
        census.CHECKS[name](census.load(d + "/ready.json", "truth"),
                            census.load(d + "/census.json", "census"),
                            census.load(d + "/report.py.json", "report"))
    except census.Fail as e:
        return str(e)
    return None


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    d, cdf = sys.argv[1], sys.argv[2]
    full, filt = d + "/core.full", d + "/core.py"
    checks = [
        ("loads", lambda: check_loads(full, filt, d + "/mappings.json")),
        ("note", lambda: check_note(full, filt, cdf)),
        ("same", lambda: check_same(d + "/report.full.json", d + "/report.py.json")),
    ] + [(c, lambda c=c: census_check(c, d)) for c in ("planted", "threads", "sizes")]
    for name, fn in checks:
        try:
            why = fn()
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            why = "%s: %s" % (type(e).__name__, e)
        print("ok %s" % name if why is None else "no %s: %s" % (name, why.replace("\n", "; ")))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
