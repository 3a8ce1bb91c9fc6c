"""A target with a sub-interpreter (3.12+, its own GIL and allocator by
default) that keeps str objects of its own alive: strs are not tracked by
the GC, so only a walk of the sub-interpreter's own allocator finds them.

usage: subinterp.py OUTDIR N
Writes OUTDIR/ready.json {"pid", "type": "str", "ids": [id() of the N
strs, as the sub-interpreter saw them], "sizes": [their sys.getsizeof]},
then sleeps until OUTDIR/stop exists.
"""
import json
import os
import sys
import time

try:
    import _xxsubinterpreters as interpreters      # 3.12
except ImportError:
    import _interpreters as interpreters           # 3.13

outdir, n = sys.argv[1], int(sys.argv[2])
facts = os.path.join(outdir, "facts.json")
sub = interpreters.create()
interpreters.run_string(sub, """
import json, sys
keep = ["sub-interpreter str %%d" %% i for i in range(%d)]
with open(%r, "w") as f:
    json.dump({"ids": [id(s) for s in keep], "sizes": [sys.getsizeof(s) for s in keep]}, f)
""" % (n, facts))
with open(facts) as f:
    truth = json.load(f)
truth["pid"] = os.getpid()
truth["type"] = "str"
tmp = os.path.join(outdir, "ready.tmp")
with open(tmp, "w") as f:
    json.dump(truth, f)
os.rename(tmp, os.path.join(outdir, "ready.json"))
stop = os.path.join(outdir, "stop")
while not os.path.exists(stop):
    time.sleep(0.05)
