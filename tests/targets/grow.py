"""A target that grows between two captures: the pycore-diff tests.

usage: grow.py OUTDIR N
Plants some objects that never change (Steady instances), N // 3 Doomed
instances in the list DOOMED, and BLOB, a Holder whose one attribute is a
str of its own; writes OUTDIR/ready.json ("retained": what ADDED and BLOB
keep alive now, see below) and waits.  Each time OUTDIR/grow appears it
appends N instances of Added to the module global ADDED, gives BLOB a
longer str, frees the Doomed instances (the first time), writes
OUTDIR/grown.json with what changed in that step ("step", "type", "count",
"bytes": the new Added's sys.getsizeof, "list_len" before and after,
"retained" now, "freed": the Doomed freed, count and sys.getsizeof bytes)
and removes OUTDIR/grow; it exits when OUTDIR/stop appears.  Nothing else
allocates in between: the main thread only polls with os.access() on a
bytes path.

"retained" is what each object alone keeps alive, in sys.getsizeof bytes:
the object, the objects only it refers to, and theirs — for ADDED the
list, its Added instances, their ints and strs (each of its own) and their
__dict__ where the interpreter made one (gc.get_referents() of an instance
shows its dict only when it exists, and never creates it); for BLOB the
Holder, its str and its __dict__ likewise.
"""
import gc
import json
import os
import sys
import time


class Steady:
    def __init__(self, i):
        self.i = i


class Added:
    def __init__(self, i):
        self.i = 1000000 + i                 # an int of its own (no cached small int)
        self.name = "added-%d" % i


class Doomed:
    def __init__(self, i):
        self.i = i


class Holder:
    def __init__(self, blob):
        self.blob = blob


STEADY = [Steady(i) for i in range(500)]
ADDED = []
DOOMED = []
BLOB = None


def plant(n):
    """In a frame of its own: no frame's stack keeps a stale pointer to
    what is planted once it returns."""
    global BLOB
    BLOB = Holder("b" * len(STEADY))         # built at run time: no shared constant
    DOOMED.extend(Doomed(i) for i in range(n // 3))


def own_dict_bytes(obj):
    return sum(sys.getsizeof(d) for d in gc.get_referents(obj) if type(d) is dict)


def retained():
    added = sys.getsizeof(ADDED)
    for a in ADDED:
        added += sys.getsizeof(a) + sys.getsizeof(a.i) + sys.getsizeof(a.name) + own_dict_bytes(a)
    blob = sys.getsizeof(BLOB) + sys.getsizeof(BLOB.blob) + own_dict_bytes(BLOB)
    return {"ADDED": added, "BLOB": blob}


def free_doomed():
    freed = {"type": "__main__.Doomed", "count": len(DOOMED), "bytes": sum(map(sys.getsizeof, DOOMED))}
    del DOOMED[:]
    return freed


def step(outdir, n, number, steady):
    """One step of growth; its frame (and what it held) is gone when it returns."""
    before = len(ADDED)
    ADDED.extend(Added(before + i) for i in range(n))
    BLOB.blob = "b" * (len(BLOB.blob) + 100 * n)
    freed = free_doomed() if number == 1 else {"type": "__main__.Doomed", "count": 0, "bytes": 0}
    write(os.path.join(outdir, "grown.json"), {
        "step": number, "type": "__main__.Added", "count": n,
        "bytes": sum(sys.getsizeof(a) for a in ADDED[before:]),
        "list_len": [before, len(ADDED)], "steady": steady, "retained": retained(),
        "freed": freed})


def write(path, data):
    with open(path + ".tmp", "w") as f:
        json.dump(data, f)
    os.rename(path + ".tmp", path)


def main():
    outdir, n = sys.argv[1], int(sys.argv[2])
    grow = os.fsencode(os.path.join(outdir, "grow"))
    stop = os.fsencode(os.path.join(outdir, "stop"))
    plant(n)
    steady = {"type": "__main__.Steady", "count": len(STEADY), "bytes": sum(map(sys.getsizeof, STEADY))}
    write(os.path.join(outdir, "ready.json"), {"pid": os.getpid(), "steady": steady,
                                               "retained": retained()})
    number = 0
    while True:
        while not os.access(grow, os.F_OK) and not os.access(stop, os.F_OK): time.sleep(0.05)  # parked
        if os.access(stop, os.F_OK):
            break
        number += 1
        step(outdir, n, number, steady)
        os.remove(grow)


main()
