"""A Python target with known objects and known thread stacks, for the
pycore-report tests.

usage: plant.py OUTDIR [--scale N]          (CPython 3.8-3.13, stdlib only)

Plants, at scale N (default 1000):
  N      __main__.AcmeSession  an ordinary class, four attributes (ints, strs)
  2N     __main__.SlotPoint    a __slots__ class (x, y)
  N/4    __main__.BlobHolder   each holds a bytes of exactly 4000 bytes of its
                               own (distinct objects, distinct contents)
  one dict of 20N entries int -> str (keys >= 10**6, values all distinct)
and two threads, "parked-worker-a" and "parked-worker-b", parked in
park_outer() -> park_coroutine() (a running coroutine) -> park_generator()
(a running generator) -> park_inner() -> Event.wait() -> Condition.wait(),
while the main thread parks in main_park() on a single line that polls for
OUTDIR/stop with os.access() and time.sleep() (no Python call, no
allocation: wherever a capture stops it, its frames are those recorded).

Then, with the garbage collector run once and then disabled, it writes:

OUTDIR/census.json  every object reachable from gc.get_objects() through
    gc.get_referents() plus the references tp_traverse does not report (see
    census() below), deduplicated by id, grouped by type name: count and
    bytes (sys.getsizeof), and how many of them are static (in a binary's
    own data, not on the heap); how long the census took.
OUTDIR/ready.json   the truth at capture time (written last, atomically):
    pid, version, planted types and their instance dicts, the big dict,
    the 4000-byte bytes objects, every thread's native id, name and frames.

Nothing allocates or frees an object after ready.json is written, until
OUTDIR/stop exists; then the workers are released and it exits with 0.
Each JSON key is described where it is set, in write_truth().
"""
import bisect
import ctypes
import gc
import json
import os
import struct
import sys
import threading
import time
import types

BLOB_LEN = 4000
WORKER_NAMES = ("parked-worker-a", "parked-worker-b")
PY311 = sys.version_info >= (3, 11)


class AcmeSession:
    def __init__(self, i):
        self.session_id = 7000000 + i      # a distinct int
        self.user = "user-%06d" % i        # a distinct str
        self.state = "open"                # shared (a constant)
        self.hits = i % 7                  # a small int, shared


class SlotPoint:
    __slots__ = ("x", "y")

    def __init__(self, i):
        self.x = 3000000 + i
        self.y = -3000000 - i


class BlobHolder:
    def __init__(self, i):
        # A new bytes object per holder, its content distinct as well.
        self.blob = (i + 1).to_bytes(4, "little") * (BLOB_LEN // 4)


def type_name(t):
    """The name pycore-report gives a type: module.qualname, bare for
    builtins."""
    try:
        module = type.__dict__["__module__"].__get__(t)
    except AttributeError:          # a heap type whose dict lost __module__
        module = "?"
    qualname = type.__dict__["__qualname__"].__get__(t)
    if not isinstance(module, str):
        module = str(module)
    return qualname if module == "builtins" else module + "." + qualname


def function_name(code):
    return code.co_qualname if PY311 else code.co_name


def frame_rows(frame, first_line=None):
    """[function, file, line] for frame and its callers, innermost first."""
    rows = []
    while frame is not None:
        code = frame.f_code
        rows.append([function_name(code), code.co_filename, frame.f_lineno])
        frame = frame.f_back
    if first_line is not None:
        rows[0][2] = first_line
    return rows


def line_after(code, first, then):
    """The number of the first source line of code, at or after its def,
    whose text is `then` and that directly follows a line whose text is
    `first` (None: any line), or None."""
    try:
        with open(code.co_filename) as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for n in range(code.co_firstlineno, len(lines)):
        if lines[n].strip() == then and (first is None or lines[n - 1].strip() == first):
            return n + 1
    return None


# ---- the threads -----------------------------------------------------------

def park_inner(gate, ids):
    ids[threading.current_thread().name] = threading.get_native_id()
    gate.wait()


def park_generator(gate, ids):
    park_inner(gate, ids)
    yield


async def park_coroutine(gate, ids):
    for _ in park_generator(gate, ids):
        pass


def park_outer(gate, ids):
    # Parked inside a running generator inside a running coroutine: their
    # frames are on the thread's stack like any other.
    try:
        park_coroutine(gate, ids).send(None)
    except StopIteration:
        pass


def start_workers(gate):
    ids = {}
    workers = [threading.Thread(target=park_outer, args=(gate, ids), name=n, daemon=True)
               for n in WORKER_NAMES]
    for t in workers:
        t.start()
    # A worker is parked when its innermost frame is Condition.wait on the
    # line that blocks (the waiter.acquire() under "if timeout is None:").
    wait_code = threading.Condition.wait.__code__
    block_line = line_after(wait_code, "if timeout is None:", "waiter.acquire()")
    deadline = time.monotonic() + 30
    stable = 0
    while True:
        frames = sys._current_frames()
        parked = 0
        for t in workers:
            f = frames.get(t.ident)
            if f is not None and f.f_code is wait_code and \
               (block_line is None or f.f_lineno == block_line):
                parked += 1
        del frames, f
        stable = stable + 1 if parked == len(workers) else 0
        # With the line known one sighting is enough; without it, insist
        # that the frames stay put for a while.
        if stable >= (1 if block_line else 20):
            break
        if time.monotonic() > deadline:
            raise SystemExit("plant.py: the worker threads did not park")
        time.sleep(0.01)
    return workers, ids


def thread_truth(main_frame, main_line, worker_ids):
    """Every thread's native id, threading name and frames.  The main
    thread's frames are those of main_frame (main_park), on main_line."""
    by_ident = {t.ident: t for t in threading.enumerate()}
    main_ident = threading.main_thread().ident
    out = []
    frames = sys._current_frames()
    for ident, f in frames.items():
        t = by_ident.get(ident)
        if ident == main_ident:
            rows = frame_rows(main_frame, main_line)
        else:
            rows = frame_rows(f)
        native = t.native_id if t is not None else None
        if t is not None and t.name in worker_ids and worker_ids[t.name] != native:
            raise SystemExit("plant.py: native id mismatch for " + t.name)
        out.append({"native_id": native, "name": t.name if t is not None else None,
                    "frames": rows})
    del frames, f
    out.sort(key=lambda th: (th["name"] != "MainThread", th["name"] or ""))
    return out


# ---- static objects: those inside a binary's own segments -------------------

def static_ranges():
    """The PT_LOAD segments (data and bss included) of every ELF file mapped
    into this process, sorted, as two lists of ints: starts and ends (no
    tuples: the census would count those, being GC objects)."""
    bases = {}
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) < 6 or not parts[5].startswith("/"):
                continue
            start = int(parts[0].split("-")[0], 16)
            path = parts[5].rstrip("\n")
            if int(parts[2], 16) == 0 and path not in bases:
                bases[path] = start
    ranges = []
    for path, base in bases.items():
        try:
            with open(path, "rb") as f:
                ehdr = f.read(64)
                if len(ehdr) < 64 or ehdr[:4] != b"\x7fELF" or ehdr[4] != 2:
                    continue
                phoff, = struct.unpack_from("<Q", ehdr, 32)
                phentsize, phnum = struct.unpack_from("<HH", ehdr, 54)
                f.seek(phoff)
                ph = f.read(phentsize * phnum)
        except OSError:
            continue
        loads = []
        for k in range(phnum):
            p_type, _, p_off, p_vaddr, _, _, p_memsz = struct.unpack_from("<IIQQQQQ", ph, k * phentsize)
            if p_type == 1:
                loads.append((p_vaddr, p_memsz))
        if not loads:
            continue
        bias = base - (min(v for v, _ in loads) & ~0xfff)
        ranges += [(bias + v, bias + v + m) for v, m in loads]
    ranges.sort()
    return [r[0] for r in ranges], [r[1] for r in ranges]


# ---- the census -------------------------------------------------------------

def field(o, off):
    """The object a PyObject * member at byte offset off of o points to.
    (ctypes.cast would leave a reference cycle behind per call.)"""
    return ctypes.py_object.from_address(id(o) + off).value


def code_layout():
    """3.11+: the offsets of co_localsplusnames and co_localspluskinds in a
    code object (stored, but not exposed: co_varnames & co. build new tuples,
    or cache them, when read), found next to co_filename, co_name and
    co_qualname, which follow them in every version from 3.11 to 3.13."""
    if not PY311:
        return None
    ns = {}
    exec(compile("def probe(a, b):\n    c = a\n    return lambda: c + b\n", "<probe>", "exec"), ns)
    code = ns["probe"].__code__
    ns.clear()                      # the function and its globals: a cycle
    size = type(code).__basicsize__
    word = lambda off: ctypes.c_uint64.from_address(id(code) + off).value
    for off in range(16, size - 16, 8):
        if (word(off), word(off + 8), word(off + 16)) == \
           (id(code.co_filename), id(code.co_name), id(code.co_qualname)):
            names = field(code, off - 16)
            kinds = field(code, off - 8)
            if type(names) is tuple and names[:3] == ("a", "b", "c") and \
               type(kinds) is bytes and len(kinds) == len(names):
                return off - 16, off - 8
    raise SystemExit("plant.py: cannot find co_localsplusnames in a code object")


CODE_FIELDS = ["co_consts", "co_names", "co_filename", "co_name"]
if PY311:
    # co_code, co_varnames, co_cellvars, co_freevars are built (and since
    # 3.11/3.12 cached) when read: reading them would change the heap.
    CODE_FIELDS += ["co_qualname", "co_linetable", "co_exceptiontable"]
else:
    CODE_FIELDS += ["co_code", "co_varnames", "co_freevars", "co_cellvars"]
    CODE_FIELDS += ["co_linetable"] if sys.version_info >= (3, 10) else ["co_lnotab"]

DESCRIPTOR_TYPES = (types.WrapperDescriptorType, types.MethodDescriptorType,
                    types.ClassMethodDescriptorType, types.GetSetDescriptorType,
                    types.MemberDescriptorType)
TYPE_ATTR = {k: type.__dict__[k] for k in ("__dict__", "__mro__", "__bases__", "__name__",
                                           "__qualname__", "__flags__")}
HEAPTYPE = 1 << 9


def extra_referents(o, t, localsplus):
    """What an object references that gc.get_referents() does not say:
    dict keys that are str (dict_traverse skips them), what code objects
    hold (not GC objects), what static types hold (not GC objects either)
    and the names heap types and descriptors keep, the type of every object.
    Only stored objects, never ones built on reading."""
    out = [t]
    if issubclass(t, dict):
        out += dict.keys(o)
    elif t is types.CodeType:
        out += [getattr(o, k) for k in CODE_FIELDS]
        if localsplus is not None:
            out += [field(o, off) for off in localsplus]
    elif issubclass(t, type):
        if TYPE_ATTR["__flags__"].__get__(o) & HEAPTYPE:
            out += [TYPE_ATTR["__name__"].__get__(o), TYPE_ATTR["__qualname__"].__get__(o)]
        else:
            out += gc.get_referents(TYPE_ATTR["__dict__"].__get__(o))
            out += [TYPE_ATTR["__mro__"].__get__(o), TYPE_ATTR["__bases__"].__get__(o)]
    elif t in DESCRIPTOR_TYPES:
        out.append(o.__name__)
    return out


def census(exclude):
    """Every object reachable from the GC's objects, by type name, as
    {name: [count, bytes, static count, static bytes]}; the seconds it took,
    how many objects sys.getsizeof() failed on, and [count, bytes] of the
    bytes objects of length BLOB_LEN among them.  exclude: ids of objects
    that are the caller's own scaffolding."""
    t0 = time.perf_counter()
    starts, ends = static_ranges()
    localsplus = code_layout()
    objs = gc.get_objects()
    seen = set()
    stack = []
    per_type = {}
    me = sys._getframe() if not PY311 else None   # a GC object before 3.11
    skip = set(exclude)
    skip.update(id(x) for x in (exclude, objs, seen, stack, per_type, starts, ends, localsplus, skip, me)
                if x is not None)
    getsize = sys.getsizeof
    getref = gc.get_referents
    nerr = 0
    blobs = [0, 0]
    for root in objs:
        i = id(root)
        if i in seen or i in skip:
            continue
        seen.add(i)
        stack.append(root)
        while stack:
            o = stack.pop()
            t = type(o)
            try:
                size = getsize(o)
            except Exception:
                size = 0
                nerr += 1
            entry = per_type.get(t)
            if entry is None:
                entry = per_type[t] = [0, 0, 0, 0]
            entry[0] += 1
            entry[1] += size
            if t is bytes and len(o) == BLOB_LEN:
                blobs[0] += 1
                blobs[1] += size
            a = id(o)
            k = bisect.bisect_right(starts, a) - 1
            if k >= 0 and a < ends[k]:
                entry[2] += 1
                entry[3] += size
            for r in getref(o) + extra_referents(o, t, localsplus):
                i = id(r)
                if i not in seen and i not in skip:
                    seen.add(i)
                    stack.append(r)
    del objs, seen, stack, root, o, r, me
    out = {}
    for t, (count, size, scount, ssize) in per_type.items():
        name = type_name(t)
        e = out.setdefault(name, [0, 0, 0, 0])
        e[0] += count
        e[1] += size
        e[2] += scount
        e[3] += ssize
    per_type.clear()
    return out, time.perf_counter() - t0, nerr, blobs


# ---- the truth ----------------------------------------------------------------

def gc_instances(classes):
    """{class: (count, bytes)} of the live instances gc.get_objects() finds."""
    found = {c: [0, 0] for c in classes}
    for o in gc.get_objects():
        e = found.get(type(o))
        if e is not None:
            e[0] += 1
            e[1] += sys.getsizeof(o)
    return found


def materialised_dicts(instances):
    """(count, bytes) of the instances' __dict__ objects that exist, found
    without reading obj.__dict__ (which would create them on 3.11+): the
    instances hold nothing but ints, strs and bytes, so a dict among what
    the instance references is its __dict__."""
    count = size = 0
    for o in instances:
        for r in gc.get_referents(o):
            if type(r) is dict:
                count += 1
                size += sys.getsizeof(r)
    return count, size


def library_path():
    """The libpython this process maps, as /proc/self/maps names it, or
    None (an interpreter linked into the executable)."""
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and os.path.basename(parts[5].strip()).startswith("libpython"):
                return parts[5].strip()
    return None


def write_json(path, data):
    """Atomically.  json.dumps() without indent runs the C encoder: the
    Python one (json.dump, or indent) leaves reference cycles behind, which
    would stay, with the collector off, in the heap a capture sees."""
    text = json.dumps(data, sort_keys=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
        f.write("\n")
    os.rename(tmp, path)


def write_truth(outdir, planted, threads_json, census_result):
    sessions, points, holders, big = planted
    counts, seconds, nerr, blobs_found = census_result
    by_class = gc_instances((AcmeSession, SlotPoint, BlobHolder))
    for cls, objs in ((AcmeSession, sessions), (SlotPoint, points), (BlobHolder, holders)):
        want = [len(objs), sum(map(sys.getsizeof, objs))]
        if by_class[cls] != want:
            raise SystemExit("plant.py: gc finds %r of %s, planted %r" % (by_class[cls], cls, want))
    dicts = {}
    for cls, objs in ((AcmeSession, sessions), (BlobHolder, holders)):
        n, size = materialised_dicts(objs)
        dicts["dict of " + type_name(cls)] = {"count": n, "bytes": size}
        if not PY311 and n != len(objs):
            raise SystemExit("plant.py: %d of %d %s have a __dict__" % (n, len(objs), cls))
    blob_sizes = [sys.getsizeof(h.blob) for h in holders]
    truth = {
        "pid": os.getpid(),
        "version": sys.version.split()[0],
        "hexversion": sys.hexversion,
        "executable": os.readlink("/proc/self/exe"),
        "library": library_path(),
        "scale": len(sessions),
        # the tasks of the process: pycore-report's process.threads
        "os_threads": len(os.listdir("/proc/self/task")),
        # type name -> count and sum of sys.getsizeof of the live instances
        "types": {type_name(c): {"count": v[0], "bytes": v[1]} for c, v in by_class.items()},
        # kind -> count and bytes of those instances' dicts that exist as
        # objects (all of them before 3.11, none unless read since)
        "kinds": dicts,
        "big_dict": {"entries": len(big), "bytes": sys.getsizeof(big)},
        # the planted bytes objects (each BLOB_LEN long, one per holder) ...
        "blobs": {"length": BLOB_LEN, "count": len(blob_sizes), "bytes": sum(blob_sizes)},
        # ... and the bytes objects of that length the census found anywhere
        "blobs_found": {"count": blobs_found[0], "bytes": blobs_found[1]},
        # every thread: native id, threading's name, frames innermost first
        # as [function (co_qualname from 3.11, else co_name), file, line]
        "threads": json.loads(threads_json),
        "census": {"seconds": round(seconds, 3), "objects": sum(v[0] for v in counts.values()),
                   "sizeof_errors": nerr},
    }
    write_json(os.path.join(outdir, "ready.json"), truth)


def write_census(outdir, counts, seconds, nerr):
    rows = [{"name": k, "count": v[0], "bytes": v[1], "static_count": v[2], "static_bytes": v[3]}
            for k, v in counts.items()]
    rows.sort(key=lambda r: (-r["count"], r["name"]))
    write_json(os.path.join(outdir, "census.json"), {
        "pid": os.getpid(),
        "version": sys.version.split()[0],
        "seconds": round(seconds, 3),
        "sizeof_errors": nerr,
        "objects": sum(r["count"] for r in rows),
        "bytes": sum(r["bytes"] for r in rows),
        "static_objects": sum(r["static_count"] for r in rows),
        "types": rows,
    })


def main_park(outdir, planted, worker_ids):
    """Take the census, write the truth, and park on the last line until
    OUTDIR/stop exists."""
    stop = os.fsencode(os.path.join(outdir, "stop"))   # bytes: os.access allocates nothing
    me = sys._getframe()
    park_line = line_after(me.f_code, None, "while not os.access(stop, os.F_OK): time.sleep(0.05)  # parked")
    if park_line is None:
        raise SystemExit("plant.py: cannot find the line main_park parks on")
    # As text, a single object, so the census need not tell it apart.
    threads_json = json.dumps(thread_truth(me, park_line, worker_ids))
    gc.collect()
    gc.disable()
    result = census({id(threads_json)})
    write_census(outdir, *result[:3])
    write_truth(outdir, planted, threads_json, result)
    del result, threads_json
    while not os.access(stop, os.F_OK): time.sleep(0.05)  # parked
    gc.enable()


def main():
    scale = 1000
    if len(sys.argv) == 4 and sys.argv[2] == "--scale":
        scale = int(sys.argv[3])
    elif len(sys.argv) != 2:
        raise SystemExit("usage: plant.py OUTDIR [--scale N]")
    outdir = sys.argv[1]
    sessions = [AcmeSession(i) for i in range(scale)]
    points = [SlotPoint(i) for i in range(2 * scale)]
    holders = [BlobHolder(i) for i in range(max(1, scale // 4))]
    big = {1000000 + i: "value-%07d" % i for i in range(20 * scale)}
    planted = (sessions, points, holders, big)
    gate = threading.Event()
    workers, worker_ids = start_workers(gate)
    main_park(outdir, planted, worker_ids)
    gate.set()
    for t in workers:
        t.join()


if __name__ == "__main__":
    main()
