#!/usr/bin/python3
"""Check what a pycore-report JSON report says about unreachable objects,
retainers, suspects and --why against what tests/targets/leaks.py planted
and measured inside the process (its ready.json).

usage: leakcheck.py CHECK READY REPORT

Each CHECK prints what it compared when it fails, and exits 0 (pass) or 1
(fail); a report that is missing or not JSON fails every check.

  shape    "unreachable", "retainers" and "suspects" are as
           docs/report-schema.md says: every field of the right type,
           addresses "0x…" strings, type rows sorted by bytes (descending)
           with unique names, each table's count and bytes the sums of its
           rows, unreachable the sum of cyclic_garbage and leaked_references
           (type by type), retainers and suspects sorted by retained_bytes,
           every suspect retaining at least 10% of totals.bytes
  leaked   unreachable.leaked_references: __main__.LeakedThing with exactly
           the planted count and bytes; at least as many objects and bytes
           of each type the LeakedThings own (str, list, int; dict before
           3.11); no KeptThing, Holder, BigItem or CycleThing, and none of
           the first three anywhere among the unreachable objects
  garbage  unreachable.cyclic_garbage: __main__.CycleThing with exactly the
           planted count and bytes; at least the strs (and dicts before
           3.11) they own; no KeptThing, Holder, BigItem or LeakedThing
  gcfree   unreachable.cyclic_garbage is exactly what gc.collect() would
           free: the rings and what they own, type by type, and nothing
           else (leaks.py checks in a fork of the process that the
           collector finds nothing else unreachable)
  suspect  suspects[0] is BIG: its path ends with ".BIG", its address is
           id(BIG), it retains exactly BIG, its BigItems, their ints and
           strs (count and bytes as measured in-process), which is at least
           85% of totals.bytes; its description names it
  why      a --why report: "why" is about one of the objects leaks.py
           recorded (by address) and takes it for an object, its path is
           the expected one, and its chain (the root object first) ends at
           that object (its address and type)
"""
import json
import os
import re
import sys

SCHEMA = "pycore-report/1"
SUSPECT_SHARE = 0.85
ADDRESS = re.compile(r"0x[0-9a-f]+\Z")
LEAKED = "__main__.LeakedThing"
CYCLE = "__main__.CycleThing"
KEPT = "__main__.KeptThing"
HOLDER = "__main__.Holder"
BIGITEM = "__main__.BigItem"
REACHABLE = (KEPT, HOLDER, BIGITEM)


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from census import Fail, by_name, expect, is_int, load  # noqa: E402  (the same checker's basics)


def address(v, where):
    expect(isinstance(v, str) and ADDRESS.match(v), "%s: address %r is not a \"0x…\" hex string", where, v)
    return int(v, 16)


def zero(name):
    return {"name": name, "count": 0, "bytes": 0}


def table_rows(t, where):
    """A {count, bytes, types} table: well formed, its rows sorted and
    adding up.  Returns its rows by name."""
    expect(isinstance(t, dict), "%s is not an object: %r", where, t)
    for key in ("count", "bytes"):
        expect(is_int(t.get(key)) and t[key] >= 0, "%s.%s is not a count: %r", where, key, t.get(key))
    rows = t.get("types")
    expect(isinstance(rows, list), "%s.types is not a list", where)
    for r in rows:
        expect(isinstance(r, dict) and isinstance(r.get("name"), str) and r["name"]
               and is_int(r.get("count")) and r["count"] > 0 and is_int(r.get("bytes"))
               and r["bytes"] >= 0, "%s.types: malformed row %r", where, r)
    names = [r["name"] for r in rows]
    expect(len(set(names)) == len(names), "%s.types: a name appears twice", where)
    sizes = [r["bytes"] for r in rows]
    expect(sizes == sorted(sizes, reverse=True), "%s.types are not sorted by bytes, descending", where)
    if "examples" in t:
        ex = t["examples"]
        expect(isinstance(ex, list) and len(ex) <= t["count"], "%s.examples %r", where, ex)
        for a in ex:
            address(a, where + ".examples")
    for key in ("count", "bytes"):
        total = sum(r[key] for r in rows)
        expect(total == t[key], "%s: the types' %ss add up to %d, %s.%s is %d",
               where, key, total, where, key, t[key])
    return by_name(rows)


def unreachable(rep):
    u = rep.get("unreachable")
    expect(isinstance(u, dict), "no \"unreachable\" object in the report (keys: %s)", ", ".join(rep))
    return u


def check_shape(ready, rep):
    expect(rep.get("schema") == SCHEMA, "schema is %r, not %r", rep.get("schema"), SCHEMA)
    u = unreachable(rep)
    every = table_rows(u, "unreachable")
    parts = [table_rows(u.get("cyclic_garbage"), "unreachable.cyclic_garbage"),
             table_rows(u.get("leaked_references"), "unreachable.leaked_references")]
    for key in ("count", "bytes"):
        expect(u[key] == u["cyclic_garbage"][key] + u["leaked_references"][key],
               "unreachable.%s is %d; cyclic_garbage %d + leaked_references %d",
               key, u[key], u["cyclic_garbage"][key], u["leaked_references"][key])
    bad = []
    for name in sorted(set(every) | set(parts[0]) | set(parts[1])):
        got = (every.get(name, zero(name))["count"], every.get(name, zero(name))["bytes"])
        want = tuple(sum(p.get(name, zero(name))[k] for p in parts) for k in ("count", "bytes"))
        if got != want:
            bad.append("  %s: unreachable %r, cyclic_garbage + leaked_references %r" % (name, got, want))
    expect(not bad, "unreachable.types is not the sum of its two parts:\n%s", "\n".join(bad))
    total = rep["totals"]["bytes"]
    expect(u["bytes"] <= total, "unreachable.bytes %d exceeds totals.bytes %d", u["bytes"], total)

    for table, keys in (("retainers", ("address", "type", "retained_bytes", "retained_objects", "path")),
                        ("suspects", ("path", "address", "type", "retained_bytes", "retained_objects",
                                      "description"))):
        rows = rep.get(table)
        expect(isinstance(rows, list), "no %r list in the report", table)
        for i, r in enumerate(rows):
            where = "%s[%d]" % (table, i)
            expect(isinstance(r, dict), "%s is not an object", where)
            for key in keys:
                expect(key in r, "%s has no %r: %r", where, key, r)
            address(r["address"], where)
            expect(isinstance(r["type"], str) and r["type"], "%s.type %r", where, r["type"])
            expect(is_int(r["retained_bytes"]) and 0 <= r["retained_bytes"] <= total,
                   "%s.retained_bytes %r is not between 0 and totals.bytes %d", where, r["retained_bytes"], total)
            expect(is_int(r["retained_objects"]) and r["retained_objects"] >= 1,
                   "%s.retained_objects %r is not a positive count", where, r["retained_objects"])
            expect(r["path"] is None or (isinstance(r["path"], str) and r["path"]),
                   "%s.path %r is neither a string nor null", where, r["path"])
        sizes = [r["retained_bytes"] for r in rows]
        expect(sizes == sorted(sizes, reverse=True), "%s are not sorted by retained_bytes, descending", table)
    expect(rep["retainers"], "retainers is empty")
    for i, s in enumerate(rep["suspects"]):
        expect(isinstance(s["description"], str) and s["description"],
               "suspects[%d].description %r", i, s["description"])
        # The default threshold: 10% of the heap.
        expect(s["retained_bytes"] * 10 >= total, "suspects[%d] retains %d bytes, less than 10%% of %d",
               i, s["retained_bytes"], total)


# What the planted instances own (their ints, strs, lists, dicts) must be
# there too, but a conservative root scan may find a stale copy of a pointer
# to one of them (a C static, a frame's value stack) and keep it "alive":
# allow that for 2% of them.  The planted classes themselves are exact.
OWNED_SLACK = 0.02


def category(ready, rep, key, planted, absent):
    """unreachable[key] has the planted class exactly, at least 98% of what
    its instances own, and none of absent."""
    rows = by_name(unreachable(rep)[key]["types"])
    truth = ready["leaked" if planted == LEAKED else "garbage"]
    bad = []
    for name, want in sorted(truth.items()):
        got = rows.get(name, zero(name))
        if name == planted:
            if (got["count"], got["bytes"]) != (want["count"], want["bytes"]):
                bad.append("%s: report %d objects, %d bytes; planted %d, %d"
                           % (name, got["count"], got["bytes"], want["count"], want["bytes"]))
        elif (got["count"] < want["count"] * (1 - OWNED_SLACK) or
              got["bytes"] < want["bytes"] * (1 - OWNED_SLACK)):
            bad.append("%s: report %d objects, %d bytes; the %s alone own %d, %d"
                       % (name, got["count"], got["bytes"], planted, want["count"], want["bytes"]))
    for name in absent:
        if name in rows:
            bad.append("%s is there: %r" % (name, rows[name]))
    expect(not bad, "unreachable.%s:\n  %s", key, "\n  ".join(bad))


def check_leaked(ready, rep):
    category(ready, rep, "leaked_references", LEAKED, REACHABLE + (CYCLE,))
    rows = by_name(unreachable(rep)["types"])
    wrong = ["%s %r" % (name, rows[name]) for name in REACHABLE if name in rows]
    expect(not wrong, "reachable objects among the unreachable: %s", "; ".join(wrong))


def check_garbage(ready, rep):
    category(ready, rep, "cyclic_garbage", CYCLE, REACHABLE + (LEAKED,))


def check_gcfree(ready, rep):
    g = unreachable(rep)["cyclic_garbage"]
    rows = by_name(g["types"])
    truth = ready["garbage"]
    bad = []
    for name in sorted(set(rows) | set(truth)):
        got, want = rows.get(name, zero(name)), truth.get(name, zero(name))
        if (got["count"], got["bytes"]) != (want["count"], want["bytes"]):
            bad.append("%s: report %d objects, %d bytes; gc.collect() frees %d, %d"
                       % (name, got["count"], got["bytes"], want["count"], want["bytes"]))
    expect(not bad, "unreachable.cyclic_garbage is not what gc.collect() would free:\n  %s",
           "\n  ".join(bad))


def check_suspect(ready, rep):
    suspects = rep.get("suspects")
    expect(isinstance(suspects, list) and suspects, "no suspects in the report: %r", suspects)
    s = suspects[0]
    total = rep["totals"]["bytes"]
    big = ready["big"]
    bad = []
    if not (isinstance(s.get("path"), str) and s["path"].endswith(".BIG")):
        bad.append("path %r does not end with \".BIG\" (want %r)" % (s.get("path"), ready["paths"]["BIG"]))
    if s.get("address") != hex(ready["ids"]["BIG"]):
        bad.append("address %r, id(BIG) is %s" % (s.get("address"), hex(ready["ids"]["BIG"])))
    if s.get("type") != "list":
        bad.append("type %r, not 'list'" % s.get("type"))
    if (s.get("retained_objects"), s.get("retained_bytes")) != (big["retained_objects"], big["retained_bytes"]):
        bad.append("retains %r objects, %r bytes; BIG and its items are %d objects, %d bytes"
                   % (s.get("retained_objects"), s.get("retained_bytes"),
                      big["retained_objects"], big["retained_bytes"]))
    if not (is_int(s.get("retained_bytes")) and s["retained_bytes"] >= SUSPECT_SHARE * total):
        bad.append("retains %r bytes, less than %d%% of totals.bytes %d (the process measured %.1f%%)"
                   % (s.get("retained_bytes"), SUSPECT_SHARE * 100, total, 100 * big["fraction"]))
    if not (isinstance(s.get("description"), str) and "BIG" in s["description"]):
        bad.append("description %r does not name BIG" % s.get("description"))
    expect(not bad, "suspects[0] is not BIG:\n  %s\n  suspects[0]: %s", "\n  ".join(bad),
           json.dumps(s)[:600])


def check_why(ready, rep):
    w = rep.get("why")
    expect(isinstance(w, dict), "no \"why\" object in the report")
    a = address(w.get("address"), "why")
    names = [n for n, i in ready["ids"].items() if i == a]
    expect(names, "why.address %s is none of the objects planted: %s", w.get("address"),
           ", ".join("%s %s" % (n, hex(i)) for n, i in sorted(ready["ids"].items())))
    name = names[0]
    expect(w.get("object", True) is True, "why.object is %r: %s is not taken for an object", w.get("object"), name)
    want = ready["paths"][name]
    expect(w.get("path") == want, "why.path for %s:\n  got:  %r\n  want: %r", name, w.get("path"), want)
    chain = w.get("chain")
    expect(isinstance(chain, list) and chain, "why.chain is not a non-empty list: %r", chain)
    for i, link in enumerate(chain):
        expect(isinstance(link, dict) and isinstance(link.get("type"), str)
               and (link.get("via") is None or isinstance(link["via"], str)),
               "why.chain[%d] is malformed: %r", i, link)
        address(link.get("address"), "why.chain[%d]" % i)
    last = chain[-1]
    want_type = "list" if name == "BIG" else KEPT
    expect(int(last["address"], 16) == a and last["type"] == want_type,
           "why.chain ends at %s (%s), not at %s %s (%s)", last["address"], last["type"],
           name, hex(a), want_type)


CHECKS = {name[len("check_"):]: f for name, f in globals().items() if name.startswith("check_")}


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in CHECKS:
        sys.exit("usage: leakcheck.py {%s} READY REPORT" % "|".join(CHECKS))
    try:
        ready = load(sys.argv[2], "truth")
        rep = load(sys.argv[3], "report")
        expect(isinstance(rep, dict), "the report is not a JSON object")
        CHECKS[sys.argv[1]](ready, rep)
    except Fail as e:
        print(e)
        sys.exit(1)
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        print("the report is not shaped as docs/report-schema.md says: %s: %s" % (type(e).__name__, e))
        sys.exit(1)


if __name__ == "__main__":
    main()
