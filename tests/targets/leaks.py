"""A Python target that leaks, for pycore-report's unreachable objects,
retainers, suspects and --why (issue #4).

usage: leaks.py OUTDIR [--scale N]          (CPython 3.8-3.13, stdlib only)

With the garbage collector disabled from the first line (and run once by
hand after the imports, so no garbage of theirs is left), it plants, at
scale N (default 100):
  3N   __main__.LeakedThing  leaked references: each gets one reference too
                             many (Py_IncRef through ctypes, as a C extension
                             missing a Py_DECREF would leave it), then every
                             Python reference to it is dropped: refcount 1,
                             nothing refers to it.  Each owns a str and a
                             list of two ints of its own (and its __dict__
                             before 3.11), which only it keeps alive.
  2N   rings of __main__.CycleThing, of 1, 2 and 3 instances in turn
                             (each .peer is the next; about 4N): cyclic
                             garbage, unreferenced but for the ring, which
                             gc.collect() would free.  Each owns a str.
  3N   __main__.KeptThing    reachable, in the module-level list KEPT, plus
                             one in the global ONE_KEPT and one in
                             HOLDER.items['key'] (HOLDER a __main__.Holder):
                             neither leaked nor garbage.
  BIG  a module-level list of __main__.BigItem (__slots__: an int and a
                             ~240-character str of its own each), as many
                             as make BIG retain at least 92% of the heap,
                             measured in-process (plant.py's census, the
                             objects on the heap only): BIG is the suspect.

Then it writes OUTDIR/ready.json (atomically), the truth at capture time;
each key is described where it is set, in write_truth().  Before that it
checks what it planted: every leaked object and everything it owns has a
reference count of exactly 1 once dropped, gc.get_referrers() finds nothing
holding a LeakedThing, every ring member's count is 1 (its peer), and
gc.collect() in a fork of the process finds the rings unreachable and
nothing else: the process's cyclic garbage is exactly the rings and what
they own.  It all takes about a second (the census, mostly).  Nothing
allocates or frees an object after ready.json is written, until OUTDIR/stop
exists; then it exits with 0 (the leaks stay leaked).
"""
import gc
gc.disable()

import ctypes
import json
import os
import sys
import time

from plant import census, type_name, write_json      # tests/targets/plant.py

BIG_SHARE = 0.92            # the least share of the heap BIG retains
TEXT_PAD = "x" * 228        # BigItem.text: "big-%07d-" (12) + 228 characters

PY_INCREF = ctypes.pythonapi.Py_IncRef
PY_INCREF.argtypes = (ctypes.py_object,)
PY_INCREF.restype = None

KEPT = []
ONE_KEPT = None
HOLDER = None
BIG = []


class LeakedThing:
    def __init__(self, i):
        self.label = "leaked-%06d" % i                 # a str of its own
        self.buf = [1000000 + i, -1000000 - i]         # a list and two ints of its own


class CycleThing:
    def __init__(self, i):
        self.label = "cycle-%06d" % i
        self.peer = None


class KeptThing:
    def __init__(self, i):
        self.label = "kept-%06d" % i


class Holder:
    def __init__(self):
        self.items = None


class BigItem:
    __slots__ = ("n", "text")

    def __init__(self, i):
        self.n = 2000000 + i
        self.text = "big-%07d-%s" % (i, TEXT_PAD)


def refcount(address):
    """The reference count of the object at address, read without taking a
    reference to it (ob_refcnt; a mortal object's count fits the low 32
    bits 3.12+ keep it in)."""
    return ctypes.c_ssize_t.from_address(address).value


def owned(obj, cls, tally, addresses):
    """Add obj and what it owns (what gc.get_referents() reaches from it,
    short of types and other instances of cls) to tally {type name: [count,
    bytes]}, and their addresses to addresses."""
    stack = [obj]
    while stack:
        o = stack.pop()
        e = tally.setdefault(type_name(type(o)), [0, 0])
        e[0] += 1
        e[1] += sys.getsizeof(o)
        addresses.append(id(o))
        for r in gc.get_referents(o):
            if r is not obj and not isinstance(r, type) and type(r) is not cls:
                stack.append(r)


def leak_one(i, tally, addresses):
    """A LeakedThing with one reference too many, and no other: the caller
    gets only its address."""
    obj = LeakedThing(i)
    owned(obj, LeakedThing, tally, addresses)
    before = sys.getrefcount(obj)
    PY_INCREF(obj)
    if sys.getrefcount(obj) != before + 1:
        raise SystemExit("leaks.py: Py_IncRef through ctypes added %d references, not 1"
                         % (sys.getrefcount(obj) - before))
    return id(obj)


def plant_leaks(n):
    tally, addresses = {}, []
    things = [leak_one(i, tally, addresses) for i in range(n)]
    return things, tally, addresses


def plant_rings(n):
    """n rings of 1, 2, 3, 1, 2, 3... CycleThings, dropped."""
    tally, addresses, things = {}, [], []
    k = 0
    for r in range(n):
        ring = [CycleThing(k + j) for j in range(1 + r % 3)]
        k += len(ring)
        for j, t in enumerate(ring):
            t.peer = ring[(j + 1) % len(ring)]
        for t in ring:
            owned(t, CycleThing, tally, addresses)
            things.append(id(t))
        del ring, t
    return things, tally, addresses


def instances(cls):
    """The live instances of cls the collector knows, in a new list."""
    return [o for o in gc.get_objects() if type(o) is cls]


def ident(a, b):
    return a is b


def verify_dropped(cls, things, addresses, holders):
    """Every object planted and dropped has a reference count of 1, the
    collector still has every instance of cls, and gc.get_referrers()
    finds them referenced by nothing but objects of the types in holders."""
    counts = [refcount(a) for a in addresses]
    if counts != [1] * len(addresses):
        raise SystemExit("leaks.py: %s and what they own: reference counts %s, want 1"
                         % (cls.__name__, sorted(set(counts))))
    found = instances(cls)
    if sorted(map(id, found)) != sorted(things):
        raise SystemExit("leaks.py: gc finds %d %s, planted %d" % (len(found), cls.__name__, len(things)))
    # 3.13's gc.get_referrers() also lists the tuple of its own arguments.
    args = tuple(found)
    bad = [type(r) for r in gc.get_referrers(*args)
           if r is not found and r is not args and type(r) not in holders
           and not (type(r) is tuple and len(r) == len(args) and all(map(ident, r, args)))]
    del found, args
    if bad:
        raise SystemExit("leaks.py: %s are referenced by %s" % (cls.__name__, sorted(set(map(str, bad)))))


def plant_kept(n):
    global ONE_KEPT, HOLDER
    KEPT.extend(KeptThing(i) for i in range(n))
    ONE_KEPT = KeptThing(-1)
    HOLDER = Holder()
    HOLDER.items = {"key": KeptThing(-2)}


def heap():
    """(objects, bytes) on the heap: plant.py's census, less what lies in a
    binary's own memory (static types, small ints...)."""
    counts = census(set())[0]
    return (sum(v[0] - v[2] for v in counts.values()),
            sum(v[1] - v[3] for v in counts.values()))


def gc_garbage():
    """The ids of the objects gc.collect() would find unreachable now (the
    tracked ones; gc.garbage under DEBUG_SAVEALL), found in a fork of this
    process, which collects and exits."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            gc.set_debug(gc.DEBUG_SAVEALL)
            gc.collect()
            os.write(wfd, json.dumps([id(o) for o in gc.garbage]).encode())
        finally:
            os._exit(0)
    os.close(wfd)
    chunks = []
    while True:
        chunk = os.read(rfd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(rfd)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks).decode() or "null")


def plant_big():
    """Fill BIG until it retains BIG_SHARE of the heap."""
    sample = BigItem(0)
    per_item = sys.getsizeof(sample) + sys.getsizeof(sample.n) + sys.getsizeof(sample.text)
    del sample
    _, rest = heap()
    want = rest * BIG_SHARE / (1 - BIG_SHARE)
    n = int(want / per_item) + 1
    BIG.extend(BigItem(i) for i in range(n))
    # (BIG's own size stays out of the estimate: a margin.)


def big_retained():
    count, size = 1, sys.getsizeof(BIG)
    for o in BIG:
        count += 3
        size += sys.getsizeof(o) + sys.getsizeof(o.n) + sys.getsizeof(o.text)
    return count, size


def tally_json(tally):
    return {k: {"count": v[0], "bytes": v[1]} for k, v in sorted(tally.items())}


def write_truth(outdir, scale, leaked, garbage, seconds):
    leaked_ids, leaked_tally = leaked
    ring_ids, ring_tally, nrings = garbage
    kept = instances(KeptThing)
    holders = instances(Holder)
    big_items = len(BIG)
    retained_objects, retained_bytes = big_retained()
    t0 = time.perf_counter()
    heap_objects, heap_bytes = heap()
    census_seconds = time.perf_counter() - t0
    main = "sys.modules['__main__']"
    truth = {
        "pid": os.getpid(),
        "version": sys.version.split()[0],
        "hexversion": sys.hexversion,
        "executable": os.readlink("/proc/self/exe"),
        "scale": scale,
        # the planted classes: count and sum of sys.getsizeof of their live
        # instances (reachable or not)
        "types": {
            type_name(LeakedThing): {"count": len(leaked_ids), "bytes": leaked_tally[type_name(LeakedThing)][1]},
            type_name(CycleThing): {"count": len(ring_ids), "bytes": ring_tally[type_name(CycleThing)][1]},
            type_name(KeptThing): {"count": len(kept), "bytes": sum(map(sys.getsizeof, kept))},
            type_name(Holder): {"count": len(holders), "bytes": sum(map(sys.getsizeof, holders))},
            type_name(BigItem): {"count": big_items, "bytes": sum(map(sys.getsizeof, BIG))},
        },
        # the leaked references: the LeakedThings and all they keep alive
        # (their strs, lists, ints, and dicts before 3.11), by type name
        "leaked": tally_json(leaked_tally),
        # the cyclic garbage, all of it (what gc.collect() would free): the
        # CycleThings and their strs (and dicts before 3.11), by type name;
        # "rings": how many rings
        "garbage": tally_json(ring_tally),
        "rings": nrings,
        # id() of objects --why is asked about, and the path it should give
        "ids": {"ONE_KEPT": id(ONE_KEPT), "HOLDER_ITEM": id(HOLDER.items["key"]), "BIG": id(BIG)},
        "paths": {"ONE_KEPT": main + ".ONE_KEPT",
                  "HOLDER_ITEM": main + ".HOLDER.items['key']",
                  "BIG": main + ".BIG"},
        # BIG: its items; what it alone keeps alive (itself, the BigItems,
        # their ints and strs); the objects on the heap and their bytes
        # (plant.py's census less static objects); the share BIG retains
        "big": {"items": big_items, "retained_objects": retained_objects,
                "retained_bytes": retained_bytes, "heap_objects": heap_objects,
                "heap_bytes": heap_bytes, "fraction": round(retained_bytes / heap_bytes, 4)},
        "seconds": {"plant": round(seconds, 3), "census": round(census_seconds, 3)},
    }
    del kept, holders
    write_json(os.path.join(outdir, "ready.json"), truth)


def park(outdir):
    stop = os.fsencode(os.path.join(outdir, "stop"))   # bytes: os.access allocates nothing
    while not os.access(stop, os.F_OK): time.sleep(0.05)  # parked


def plant_all(outdir, scale):
    """Everything, in a frame of its own: when it returns, its value stack
    (which may still hold stale pointers to the planted objects, in 3.8-3.10
    frame objects that pycore scans whole) is gone with it."""
    gc.collect()                    # what the imports left; the collector stays off
    t0 = time.perf_counter()
    leaked_ids, leaked_tally, leaked_addresses = plant_leaks(3 * scale)
    ring_ids, ring_tally, ring_addresses = plant_rings(2 * scale)
    plant_kept(3 * scale)
    verify_dropped(LeakedThing, leaked_ids, leaked_addresses, ())
    verify_dropped(CycleThing, ring_ids, ring_addresses, (CycleThing, dict))
    # The collector would find the rings, and nothing else: their tracked
    # objects (the CycleThings, and their dicts before 3.11; not the strs).
    found = gc_garbage()
    if found is None:
        raise SystemExit("leaks.py: the fork that collects said nothing")
    tracked = sum(ring_tally.get(k, [0])[0] for k in (type_name(CycleThing), "dict"))
    stray = len(set(found) - set(ring_addresses))
    if len(found) != tracked or stray:
        raise SystemExit("leaks.py: gc.collect() would find %d objects unreachable, %d of them "
                         "not planted; want the rings' %d" % (len(found), stray, tracked))
    del leaked_addresses, ring_addresses, found
    plant_big()
    seconds = time.perf_counter() - t0
    write_truth(outdir, scale, (leaked_ids, leaked_tally), (ring_ids, ring_tally, 2 * scale), seconds)


def main():
    scale = 100
    if len(sys.argv) == 4 and sys.argv[2] == "--scale":
        scale = int(sys.argv[3])
    elif len(sys.argv) != 2:
        raise SystemExit("usage: leaks.py OUTDIR [--scale N]")
    plant_all(sys.argv[1], scale)
    park(sys.argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
