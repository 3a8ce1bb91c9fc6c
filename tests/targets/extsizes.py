"""A Python target with standard-library objects whose sys.getsizeof
depends on their contents, for the size models of analyze/pysize_ext.c.

usage: extsizes.py OUTDIR                   (CPython 3.8-3.13, stdlib only)

Plants objects of each modelled type with varied contents:
  collections.deque        0, 1, 65, 1000 items, after rotations and pops,
                           with maxlen, and a subclass
  collections.OrderedDict  0, 1, 10, 1000 items, after deletions and
                           move_to_end, and a subclass
  array.array              several typecodes, 0 to 10000 items, grown by
                           append (allocated > len), and a subclass
  _io.BufferedReader/Writer/Random
                           non-default buffer sizes, one closed (its buffer
                           freed), over files in OUTDIR and over BytesIO
  _io.BytesIO              empty, with content, written to, its buffer
                           shared by getvalue()
  _struct.Struct           several formats, the empty one, and a subclass
and, measured as dict or object.__sizeof__ measures them, a few types with
no model of their own: collections.defaultdict, _io.StringIO,
_io.BufferedRWPair, functools.partial.

Then, with the garbage collector disabled, it writes OUTDIR/ready.json:
pid, version, and "objects": for each planted object its id() as hex
("addr"), the model it tests ("model"), a short description ("what") and
sys.getsizeof at that moment ("size").  Nothing planted changes after that;
it waits until OUTDIR/stop exists, then exits with 0.
"""
import array
import collections
import functools
import gc
import io
import json
import os
import struct
import sys
import time


class SubDeque(collections.deque):
    pass


class SubODict(collections.OrderedDict):
    pass


class SubArray(array.array):
    pass


class SubStruct(struct.Struct):
    pass


class SubBytesIO(io.BytesIO):
    pass


def plant_deques():
    out = []
    for n in (0, 1, 65, 1000):
        out.append(("collections.deque", "deque of %d" % n, collections.deque(range(n))))
    d = collections.deque(range(300))
    d.rotate(37)
    for _ in range(70):
        d.popleft()
    out.append(("collections.deque", "deque rotated, popped left", d))
    d = collections.deque(range(10))
    d.extendleft(range(200))
    out.append(("collections.deque", "deque extended left", d))
    out.append(("collections.deque", "deque maxlen=5 after 100 appends",
                collections.deque(range(100), maxlen=5)))
    out.append(("collections.deque", "deque maxlen=200 of 130",
                collections.deque(range(130), maxlen=200)))
    out.append(("collections.deque", "subclass of deque, 129 items", SubDeque(range(129))))
    return out


def plant_odicts():
    out = []
    for n in (0, 1, 10, 1000):
        out.append(("collections.OrderedDict", "OrderedDict of %d" % n,
                    collections.OrderedDict((i, i) for i in range(n))))
    od = collections.OrderedDict((str(i), i) for i in range(500))
    for i in range(0, 500, 3):
        del od[str(i)]
    od.move_to_end("1")
    out.append(("collections.OrderedDict", "OrderedDict after deletions", od))
    od = collections.OrderedDict((i, i) for i in range(20))
    od.clear()
    out.append(("collections.OrderedDict", "OrderedDict cleared", od))
    out.append(("collections.OrderedDict", "subclass of OrderedDict, 33 items",
                SubODict((i, i) for i in range(33))))
    return out


def plant_arrays():
    out = []
    codes = "bBhHiIlLqQfd"
    for code in codes:
        for n in (0, 1, 100, 10000):
            out.append(("array.array", "array('%s') of %d" % (code, n), array.array(code, (i % 100 for i in range(n)))))
    a = array.array("i")
    for i in range(1001):
        a.append(i)
    out.append(("array.array", "array('i') grown by append to 1001", a))
    out.append(("array.array", "array('d') of 50 floats", array.array("d", [0.5] * 50)))
    if "w" in array.typecodes:          # 3.13: Py_UCS4
        out.append(("array.array", "array('w') of 33", array.array("w", "w" * 33)))
    a = array.array("b", bytes(5000))
    del a[100:]
    out.append(("array.array", "array('b') shrunk from 5000 to 100", a))
    out.append(("array.array", "subclass of array, 'H' of 77", SubArray("H", range(77))))
    return out


def plant_buffered(outdir):
    out = []
    for size in (1, 100, 4096, 65536, 1 << 20):
        r = io.BufferedReader(io.BytesIO(b"abc" * 100), buffer_size=size)
        out.append(("_io.BufferedReader", "BufferedReader buffer_size=%d" % size, r))
    path = os.path.join(outdir, "data.bin")
    with open(path, "wb") as f:
        f.write(os.urandom(100000))
    r = open(path, "rb", buffering=12345)
    r.read(10)
    out.append(("_io.BufferedReader", "open(rb, buffering=12345)", r))
    w = open(os.path.join(outdir, "out.bin"), "wb", buffering=54321)
    w.write(b"y" * 1000)
    out.append(("_io.BufferedWriter", "open(wb, buffering=54321)", w))
    w = io.BufferedWriter(io.BytesIO(), buffer_size=777)
    out.append(("_io.BufferedWriter", "BufferedWriter buffer_size=777", w))
    rw = open(path, "r+b", buffering=3000)
    rw.seek(50)
    out.append(("_io.BufferedRandom", "open(r+b, buffering=3000)", rw))
    out.append(("_io.BufferedRandom", "BufferedRandom buffer_size=40000",
                io.BufferedRandom(io.BytesIO(b"z" * 10), buffer_size=40000)))
    c = io.BufferedReader(io.BytesIO(b"closed"), buffer_size=9999)
    c.close()
    out.append(("_io.BufferedReader", "BufferedReader closed (buffer freed)", c))
    return out


def plant_bytesio():
    out = []
    out.append(("_io.BytesIO", "BytesIO empty", io.BytesIO()))
    out.append(("_io.BytesIO", "BytesIO of 10000 bytes", io.BytesIO(bytes(range(256)) * 40)))
    b = io.BytesIO()
    for i in range(300):
        b.write(b"line %d\n" % i)
    out.append(("_io.BytesIO", "BytesIO written 300 lines", b))
    b = io.BytesIO(b"q" * 5000)
    b.seek(0, 2)
    b.write(b"more")
    out.append(("_io.BytesIO", "BytesIO appended to", b))
    shared = io.BytesIO()
    shared.write(b"s" * 3000)
    value = shared.getvalue()            # the buffer is now shared: not counted
    out.append(("_io.BytesIO", "BytesIO whose buffer getvalue() shares", shared))
    out.append(("_io.BytesIO", "subclass of BytesIO with 700 bytes", SubBytesIO(b"k" * 700)))
    return out, value


def plant_structs():
    out = []
    for fmt in ("i", "<qqhh", "10s", "3x2i?", "@iiii d 5s", "", "!" + "H b" * 40, "1000i"):
        out.append(("_struct.Struct", "Struct(%r)" % fmt[:20], struct.Struct(fmt)))
    out.append(("_struct.Struct", "subclass of Struct('<2d')", SubStruct("<2d")))
    return out


def plant_unmodelled():
    out = []
    dd = collections.defaultdict(list)
    for i in range(50):
        dd[i].append(i)
    out.append(("dict-rule", "defaultdict of 50", dd))
    out.append(("dict-rule", "defaultdict empty", collections.defaultdict(int)))
    s = io.StringIO()
    s.write("x" * 10000)
    out.append(("object-rule", "StringIO of 10000 chars", s))
    out.append(("object-rule", "BufferedRWPair",
                io.BufferedRWPair(io.BytesIO(b"r"), io.BytesIO(), 5000)))
    out.append(("object-rule", "functools.partial", functools.partial(max, 1, 2, key=None)))
    return out


def main():
    outdir = sys.argv[1]
    gc.disable()
    planted = []
    planted += plant_deques()
    planted += plant_odicts()
    planted += plant_arrays()
    planted += plant_buffered(outdir)
    bio, shared_value = plant_bytesio()
    planted += bio
    planted += plant_structs()
    planted += plant_unmodelled()
    objects = [{"addr": "%x" % id(o), "model": model, "what": what,
                "type": type(o).__module__ + "." + type(o).__qualname__,
                "size": sys.getsizeof(o)}
               for model, what, o in planted]
    truth = {"pid": os.getpid(), "version": sys.version.split()[0], "objects": objects}
    tmp = os.path.join(outdir, "ready.json.tmp")
    with open(tmp, "w") as f:
        json.dump(truth, f, indent=1)
    os.rename(tmp, os.path.join(outdir, "ready.json"))
    stop = os.path.join(outdir, "stop")
    while not os.access(stop, os.F_OK):
        time.sleep(0.05)
    del shared_value
    return 0


if __name__ == "__main__":
    sys.exit(main())
