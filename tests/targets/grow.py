"""A target that grows between two captures: the pycore-diff tests.

usage: grow.py OUTDIR N
Plants some objects that never change (Steady instances), writes
OUTDIR/ready.json, and waits; each time OUTDIR/grow appears it appends N
instances of Added to the module global ADDED, writes OUTDIR/grown.json
with what grew in that step ("step", "type", "count", "bytes": their
sys.getsizeof, "list_len" before and after) and removes OUTDIR/grow; it
exits when OUTDIR/stop appears.  Nothing else allocates in between:
the main thread only polls with os.access() on a bytes path.
"""
import json
import os
import sys
import time


class Steady:
    def __init__(self, i):
        self.i = i


class Added:
    def __init__(self, i):
        self.i = i
        self.name = "added-%d" % i


STEADY = [Steady(i) for i in range(500)]
ADDED = []


def write(path, data):
    with open(path + ".tmp", "w") as f:
        json.dump(data, f)
    os.rename(path + ".tmp", path)


def main():
    outdir, n = sys.argv[1], int(sys.argv[2])
    grow = os.fsencode(os.path.join(outdir, "grow"))
    stop = os.fsencode(os.path.join(outdir, "stop"))
    steady = {"type": "__main__.Steady", "count": len(STEADY), "bytes": sum(map(sys.getsizeof, STEADY))}
    write(os.path.join(outdir, "ready.json"), {"pid": os.getpid(), "steady": steady})
    step = 0
    while True:
        while not os.access(grow, os.F_OK) and not os.access(stop, os.F_OK): time.sleep(0.05)  # parked
        if os.access(stop, os.F_OK):
            break
        step += 1
        before = len(ADDED)
        ADDED.extend(Added(before + i) for i in range(n))
        write(os.path.join(outdir, "grown.json"), {
            "step": step, "type": "__main__.Added", "count": n,
            "bytes": sum(sys.getsizeof(a) for a in ADDED[before:]),
            "list_len": [before, len(ADDED)], "steady": steady})
        os.remove(grow)


main()
