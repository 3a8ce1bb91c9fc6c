"""Benchmark target for bench/report-bench.

    python3 report_target.py OBJECTS STATEDIR

Builds a heap of about OBJECTS Python objects shaped like a web service's
caches (users with attributes, orders with __slots__, line items, a session
cache keyed by token, per-user preference dicts; ints, floats, strs, bytes,
lists, tuples, dicts), then takes an in-process census of it the way a
tool running inside the process would (heapy, meliae, objgraph): every
object reachable from gc.get_objects() through gc.get_referents(), plus the
str keys of dicts (dict_traverse does not report those), deduplicated by
id() in a set, timed with time.perf_counter().  The census's own structures
are freed and collected again before anything is written.

Files in STATEDIR:

  census.json   written (atomically) once the census is done and freed:
                {pid, python, objects_requested, build_seconds, census_seconds,
                 census_objects, census_objects_per_s, gc_objects, rss_bytes}
  stop          created by the benchmark: the target exits within 50 ms

Standard library only; any CPython 3.8-3.13.  The target asks the kernel to
kill it when the benchmark that started it dies (Linux PR_SET_PDEATHSIG), so
an interrupted benchmark leaves no 1 GB process behind.
"""

import gc
import json
import os
import sys
import time

from target_common import rss_bytes, write_atomic

# Objects one unit of build() makes on 3.11+ (3.8-3.10: one more, the
# User's __dict__); only used to turn OBJECTS into a number of units.
PER_UNIT = 20


def die_with_parent():
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:          # the parent died before prctl
            os._exit(1)
    except Exception:
        pass


class User:
    def __init__(self, uid, name, email, created, token, tags, prefs):
        self.uid = uid
        self.name = name
        self.email = email
        self.created = created
        self.token = token
        self.tags = tags
        self.prefs = prefs
        self.active = True


class Order:
    __slots__ = ("order_id", "user", "amount", "items", "status")

    def __init__(self, order_id, user, amount, items, status):
        self.order_id = order_id
        self.user = user
        self.amount = amount
        self.items = items
        self.status = status


TAGS = ["tag-%d" % i for i in range(200)]
SKUS = ["SKU-%05d" % i for i in range(5000)]
STATUSES = ["new", "paid", "shipped", "delivered", "refunded"]
THEMES = ["dark", "light", "solarized"]
LANGS = ["en", "de", "fr", "es", "ja", "pt"]


def build(units):
    """One unit: a User (1) with a unique int uid (1), name (1), email (1),
    created float (1), token bytes (1), a tags list (1) of shared strs, a
    prefs dict (1) holding a float (1); an Order (1) with an int id (1), an
    amount float (1), an items list (1) of two (sku, qty, price) tuples
    (2 + 2 price floats); a session cache entry: str key (1) -> tuple (1)
    of (user, expiry float (1)).  20 objects, shared strs and small ints
    aside; plus the User's __dict__ before 3.11."""
    users = []
    orders = []
    sessions = {}
    base = 1.7e9
    for i in range(units):
        uid = 1000000 + i
        u = User(uid, "user%07d" % i, "user%07d@example.com" % i, base + i * 0.25,
                 i.to_bytes(8, "little") * 2, [TAGS[i % 200], TAGS[(i * 7) % 200], TAGS[(i * 13) % 200]],
                 {"theme": THEMES[i % 3], "lang": LANGS[i % 6], "score": i * 0.001})
        users.append(u)
        orders.append(Order(uid * 10 + 1, u, i * 0.01 + 1.5,
                            [(SKUS[i % 5000], 1 + i % 4, 9.99 + i % 100),
                             (SKUS[(i * 3) % 5000], 1, 0.5 + i % 50)],
                            STATUSES[i % 5]))
        sessions["sess-%012x" % (i * 2654435761)] = (u, base + 3600.0 + i)
    return {"users": users, "orders": orders, "sessions": sessions}


def census():
    """(objects, seconds): every object reachable from gc.get_objects()
    through gc.get_referents() and the keys of dicts, breadth first, one
    gc.get_referents() call per batch of objects (the fastest way Python
    code can walk the heap)."""
    getref = gc.get_referents
    t0 = time.perf_counter()
    roots = gc.get_objects()
    seen = set(map(id, roots))
    seen.add(id(roots))
    seen.add(id(seen))
    add = seen.add
    count = len(roots)
    frontier = roots
    batch = 65536
    while frontier:
        nxt = []
        push = nxt.append
        for k in range(0, len(frontier), batch):
            part = frontier[k:k + batch]
            refs = getref(*part)
            refs.extend([key for d in part if type(d) is dict for key in d])
            for r in refs:
                i = id(r)
                if i not in seen:
                    add(i)
                    push(r)
        count += len(nxt)
        frontier = nxt
    seconds = time.perf_counter() - t0
    del roots, seen, frontier, nxt, part, refs
    return count, seconds


def main():
    objects = int(sys.argv[1])
    statedir = sys.argv[2]
    die_with_parent()
    stop = os.path.join(statedir, "stop")

    # Nothing here makes cycles: a full collection over millions of
    # objects would only slow the build down.
    gc.disable()
    t0 = time.perf_counter()
    heap = build(max(1, objects // PER_UNIT))
    build_seconds = time.perf_counter() - t0

    count, seconds = census()
    gc.enable()
    gc.collect()
    info = {
        "pid": os.getpid(),
        "python": sys.version.split()[0],
        "objects_requested": objects,
        "build_seconds": round(build_seconds, 3),
        "census_seconds": round(seconds, 6),
        "census_objects": count,
        "census_objects_per_s": round(count / seconds, 1),
        "gc_objects": len(gc.get_objects()),
        "rss_bytes": rss_bytes(),
    }
    write_atomic(os.path.join(statedir, "census.json"), json.dumps(info) + "\n")
    while not os.path.exists(stop):
        time.sleep(0.05)
    del heap


if __name__ == "__main__":
    main()
