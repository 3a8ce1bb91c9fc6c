"""A target whose collector is (almost) always running: a thread calls
gc.collect() over and over on a heap of many containers, so a capture
usually stops it mid-collection — when the GC lists are in flux.

usage: gcbusy.py OUTDIR N
Writes OUTDIR/ready.json {"pid", "type": "__main__.Planted", "count": N,
"bytes": sum of sys.getsizeof} and collects until OUTDIR/stop exists.
"""
import gc
import json
import os
import sys
import threading
import time


class Planted:
    def __init__(self, i):
        self.i = i
        self.items = [i]


outdir, n = sys.argv[1], int(sys.argv[2])
planted = [Planted(i) for i in range(n)]
stop = os.path.join(outdir, "stop")


def collect():
    while not os.path.exists(stop):
        gc.collect()


threading.Thread(target=collect, daemon=True).start()
truth = {"pid": os.getpid(), "type": "__main__.Planted", "count": len(planted),
         "bytes": sum(map(sys.getsizeof, planted))}
with open(os.path.join(outdir, "ready.tmp"), "w") as f:
    json.dump(truth, f)
os.rename(os.path.join(outdir, "ready.tmp"), os.path.join(outdir, "ready.json"))
while not os.path.exists(stop):
    time.sleep(0.05)
