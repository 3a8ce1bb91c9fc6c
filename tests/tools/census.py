#!/usr/bin/python3
"""Check a pycore-report JSON report against what tests/targets/plant.py
measured inside the process (ready.json, census.json).

usage: census.py CHECK READY CENSUS REPORT

Each CHECK prints what it compared when it fails, and exits 0 (pass) or 1
(fail); a report that is missing or not JSON fails every check.

  schema    the report is schema pycore-report/1, every field of the right
            type, types and kinds sorted by bytes (descending), names
            unique, totals equal to the sums over types and over kinds, the
            dict kinds adding up to type dict, every other kind a type row
  process   python.version, process.pid and process.threads, the
            executable and libpython the process had mapped
  planted   the planted classes: count and bytes exactly
  dicts     "dict of __main__.AcmeSession" / "...BlobHolder": count and bytes
            exactly as found in the process (every instance's before 3.11;
            none since, as nothing reads obj.__dict__ there)
  bigdict   the dict of 20*scale entries is among the dicts (type "dict"
            and kind "dict (no owner)" at least its size), with its keys
            and values among the ints and strs
  blobs     the 4000-byte bytes objects: at least as many, and as many
            bytes, as planted
  threads   every thread: native id, name, frames (function, file, line)
  census    the 20 most common types of the in-process census (by count)
            agree within 2% (or 1 object) with the report, which counts the
            objects on the heap: the census's count less those statically
            allocated inside a binary (static types; small ints; 3.11-3.12
            deep-frozen code objects, their tuples, bytes and strs; 3.12+
            static strs)
  sizes     every type the report and the census count alike (same number
            of objects on the heap) has exactly the census's bytes: the
            sys.getsizeof sum — except the types docs/sizes.md lists as not
            modelled (ctypes' own, below)
"""
import json
import sys

SCHEMA = "pycore-report/1"
LAYOUT_SOURCES = ("dwarf", "builtin", "debug-offsets", "note")
TOP = 20
TOLERANCE = 0.02


class Fail(Exception):
    pass


def load(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise Fail("%s %s: %s" % (what, path, e))


def expect(cond, msg, *args):
    if not cond:
        raise Fail(msg % args if args else msg)


def by_name(rows):
    return {r["name"]: r for r in rows}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_schema(ready, census, rep):
    expect(isinstance(rep, dict), "the report is not a JSON object")
    expect(rep.get("schema") == SCHEMA, "schema is %r, not %r", rep.get("schema"), SCHEMA)
    for key in ("python", "process", "totals", "types", "kinds", "threads"):
        expect(key in rep, "no %r in the report", key)
    py = rep["python"]
    expect(isinstance(py.get("version"), str), "python.version is not a string: %r", py.get("version"))
    expect(isinstance(py.get("executable"), str), "python.executable is not a string")
    expect("library" in py and (py["library"] is None or isinstance(py["library"], str)),
           "python.library is neither a string nor null")
    expect(py.get("layout_source") in LAYOUT_SOURCES, "python.layout_source %r is not one of %s",
           py.get("layout_source"), ", ".join(LAYOUT_SOURCES))
    for key in ("pid", "threads"):
        expect(is_int(rep["process"].get(key)), "process.%s is not an integer", key)
    for key in ("objects", "bytes"):
        expect(is_int(rep["totals"].get(key)) and rep["totals"][key] >= 0,
               "totals.%s is not a count", key)
    for table in ("types", "kinds"):
        rows = rep[table]
        expect(isinstance(rows, list) and rows, "%s is not a non-empty list", table)
        for r in rows:
            expect(isinstance(r, dict) and isinstance(r.get("name"), str) and r["name"]
                   and is_int(r.get("count")) and r["count"] > 0 and is_int(r.get("bytes"))
                   and r["bytes"] >= 0, "%s: malformed row %r", table, r)
        names = [r["name"] for r in rows]
        expect(len(set(names)) == len(names), "%s: a name appears twice", table)
        sizes = [r["bytes"] for r in rows]
        expect(sizes == sorted(sizes, reverse=True), "%s are not sorted by bytes, descending", table)
        for key in ("count", "bytes"):
            total = sum(r[key] for r in rows)
            expect(total == rep["totals"]["objects" if key == "count" else "bytes"],
                   "the %ss of %s add up to %d, totals say %d", key, table, total,
                   rep["totals"]["objects" if key == "count" else "bytes"])
    types, kinds = by_name(rep["types"]), by_name(rep["kinds"])
    dicts = [k for name, k in kinds.items() if name.startswith("dict of ") or name == "dict (no owner)"]
    if dicts or "dict" in types:
        d = types.get("dict", {"count": 0, "bytes": 0})
        expect((sum(k["count"] for k in dicts), sum(k["bytes"] for k in dicts)) == (d["count"], d["bytes"]),
               "the dict kinds add up to %d dicts, %d bytes; type dict has %d, %d",
               sum(k["count"] for k in dicts), sum(k["bytes"] for k in dicts), d["count"], d["bytes"])
    for name, k in kinds.items():
        if k not in dicts:
            expect(types.get(name) == k, "kind %r is not the type row %r", k, types.get(name))
    expect(isinstance(rep["threads"], list), "threads is not a list")
    for t in rep["threads"]:
        expect(isinstance(t, dict) and (t.get("native_id") is None or is_int(t["native_id"])),
               "threads: malformed %r", t)
        expect(t.get("name") is None or isinstance(t["name"], str), "thread name %r", t.get("name"))
        expect(isinstance(t.get("frames"), list), "thread %s: frames is not a list", t["native_id"])
        for f in t["frames"]:
            expect(isinstance(f, dict) and isinstance(f.get("function"), str)
                   and isinstance(f.get("file"), str)
                   and (f.get("line") is None or is_int(f.get("line"))),
                   "thread %s: malformed frame %r", t["native_id"], f)


def check_process(ready, census, rep):
    got = (rep["python"]["version"], rep["process"]["pid"], rep["process"]["threads"],
           rep["python"]["executable"], rep["python"]["library"])
    want = (ready["version"], ready["pid"], ready["os_threads"], ready["executable"], ready["library"])
    expect(got == want, "got  (version, pid, threads, executable, library) %r\n"
           "want %r", got, want)


def check_planted(ready, census, rep):
    types = by_name(rep["types"])
    bad = []
    for name, want in sorted(ready["types"].items()):
        row = types.get(name, {"count": 0, "bytes": 0})
        if (row["count"], row["bytes"]) != (want["count"], want["bytes"]):
            bad.append("%s: report %d objects, %d bytes; process %d, %d" %
                       (name, row["count"], row["bytes"], want["count"], want["bytes"]))
    expect(not bad, "\n".join(bad))


def check_dicts(ready, census, rep):
    kinds = by_name(rep["kinds"])
    bad = []
    for kind, want in sorted(ready["kinds"].items()):
        if ready["hexversion"] < 0x030b0000:
            owner = kind[len("dict of "):]
            n = ready["types"][owner]["count"]
            expect(want["count"] == n, "the process says %d of %d %s have a __dict__ (before 3.11)",
                   want["count"], n, owner)
        row = kinds.get(kind, {"count": 0, "bytes": 0})
        if (row["count"], row["bytes"]) != (want["count"], want["bytes"]):
            bad.append("%s: report %d dicts, %d bytes; process %d, %d" %
                       (kind, row["count"], row["bytes"], want["count"], want["bytes"]))
    expect(not bad, "\n".join(bad))


def check_bigdict(ready, census, rep):
    types, kinds = by_name(rep["types"]), by_name(rep["kinds"])
    big = ready["big_dict"]
    zero = {"count": 0, "bytes": 0}
    d = types.get("dict", zero)
    expect(d["bytes"] >= big["bytes"], "type dict: %d bytes in all, the big dict alone has %d",
           d["bytes"], big["bytes"])
    k = kinds.get("dict (no owner)", zero)
    expect(k["bytes"] >= big["bytes"], "kind 'dict (no owner)': %d bytes, the big dict alone has %d",
           k["bytes"], big["bytes"])
    for name in ("int", "str"):
        n = types.get(name, zero)["count"]
        expect(n >= big["entries"], "%d %s objects, the big dict alone holds %d", n, name, big["entries"])


def check_blobs(ready, census, rep):
    b = by_name(rep["types"]).get("bytes", {"count": 0, "bytes": 0})
    want = ready["blobs"]
    expect(b["count"] >= want["count"] and b["bytes"] >= want["bytes"],
           "type bytes: %d objects, %d bytes; planted alone: %d objects of %d bytes, %d bytes",
           b["count"], b["bytes"], want["count"], want["length"], want["bytes"])


def check_threads(ready, census, rep):
    got = {t["native_id"]: t for t in rep["threads"]}
    bad = []
    for t in ready["threads"]:
        g = got.get(t["native_id"])
        if g is None:
            bad.append("thread %s (%s) is missing; the report has %s" %
                       (t["native_id"], t["name"], sorted(got)))
            continue
        if g.get("name") != t["name"]:
            bad.append("thread %s: name %r, want %r" % (t["native_id"], g.get("name"), t["name"]))
        frames = [[f["function"], f["file"], f["line"]] for f in g["frames"]]
        if frames != t["frames"]:
            bad.append("thread %s (%s) frames:\n      got:  %s\n      want: %s" % (
                t["native_id"], t["name"],
                "\n            ".join(map(str, frames)) or "(none)",
                "\n            ".join(map(str, t["frames"]))))
    if len(rep["threads"]) != len(ready["threads"]):
        bad.append("%d threads in the report, %d in the process" %
                   (len(rep["threads"]), len(ready["threads"])))
    expect(not bad, "\n".join(bad))


def check_census(ready, census, rep):
    types = by_name(rep["types"])
    rows = []
    for c in census["types"][:TOP]:
        got = types.get(c["name"], {"count": 0})["count"]
        heap = c["count"] - c["static_count"]
        dev = (got - heap) / heap if heap else float("inf")
        ok = abs(got - heap) <= max(1, TOLERANCE * heap)
        rows.append((not ok, dev, c["name"], got, heap, c["count"]))
    bad = [r for r in rows if r[0]]
    if bad:
        lines = ["%d of the %d most common types differ by more than %d%%; worst first:"
                 % (len(bad), TOP, TOLERANCE * 100)]
        for _, dev, name, got, heap, everything in sorted(bad, key=lambda r: -abs(r[1])):
            lines.append("  %-36s report %7d  census %7d on the heap (%d with static ones)  %+.1f%%"
                         % (name, got, heap, everything, 100 * dev))
        raise Fail("\n".join(lines))


# Types with a C __sizeof__ of their own that pycore does not model
# (docs/sizes.md): their size is a lower bound.
NOT_MODELLED = {"StgDict", "_ctypes.StgDict", "_ctypes.PyCSimpleType", "_ctypes.PyCFuncPtrType",
                "_ctypes.PyCPointerType", "_ctypes.PyCArrayType", "_ctypes.PyCStructType",
                "_ctypes.UnionType", "ctypes._endian._swapped_struct_meta",
                "ctypes._endian._swapped_union_meta"}


def check_sizes(ready, census, rep):
    types = by_name(rep["types"])
    bad, same = [], 0
    for c in census["types"]:
        heap_count = c["count"] - c["static_count"]
        heap_bytes = c["bytes"] - c["static_bytes"]
        got = types.get(c["name"])
        if not got or got["count"] != heap_count or c["name"] in NOT_MODELLED:
            continue
        same += 1
        if got["bytes"] != heap_bytes:
            bad.append("  %-36s %6d objects: report %9d bytes, census %9d"
                       % (c["name"], heap_count, got["bytes"], heap_bytes))
    expect(same >= 50, "only %d types are counted alike: nothing to compare" % same)
    expect(not bad, "%d of %d types counted alike differ in bytes:\n%s" % (len(bad), same, "\n".join(bad)))


CHECKS = {name[len("check_"):]: f for name, f in globals().items() if name.startswith("check_")}


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in CHECKS:
        sys.exit("usage: census.py {%s} READY CENSUS REPORT" % "|".join(CHECKS))
    try:
        ready = load(sys.argv[2], "truth")
        census = load(sys.argv[3], "census")
        rep = load(sys.argv[4], "report")
        CHECKS[sys.argv[1]](ready, census, rep)
    except Fail as e:
        print(e)
        sys.exit(1)
    except (KeyError, TypeError, AttributeError) as e:
        print("the report is not shaped as %s: %s: %s" % (SCHEMA, type(e).__name__, e))
        sys.exit(1)


if __name__ == "__main__":
    main()
