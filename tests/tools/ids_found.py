#!/usr/bin/python3
"""Are these objects in the heap walk's list, sized as the process said?

usage: ids_found.py READY OBJECTS
READY is a target's ready.json with "ids" (id() of each object), "sizes"
(its sys.getsizeof) and "type" (the name pycore gives its type); OBJECTS is
build/tools/heapdump's output ("ADDR SIZE TYPE" per object).  Exits 1,
saying how many and which, when any is missing or differs.
"""
import json
import sys

truth = json.load(open(sys.argv[1]))
found = {}
for line in open(sys.argv[2]):
    addr, size, name = line.rstrip("\n").split(" ", 2)
    found[int(addr, 16)] = (int(size), name)
want = truth["type"]
bad = [(hex(i), s, found.get(i)) for i, s in zip(truth["ids"], truth["sizes"])
       if found.get(i) != (s, want)]
if not truth["ids"] or bad:
    sys.exit("%d of %d %s objects missing or wrong, e.g. (id, size, found): %s"
             % (len(bad), len(truth["ids"]), want, bad[:3]))
