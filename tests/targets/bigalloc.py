"""Objects glibc keeps outside its main heap: bytes made by a worker thread
(larger than pymalloc's 512 bytes, so from that thread's malloc arena, a
heap of its own), and bytes of 1 MiB (each an mmapped chunk).

usage: bigalloc.py OUTDIR
Writes OUTDIR/ready.json {"pid", "type": "bytes", "ids", "sizes"} for all
of them, then sleeps until OUTDIR/stop exists.
"""
import json
import os
import sys
import threading
import time

outdir = sys.argv[1]
keep = []
made = threading.Event()


def worker():
    keep.extend(os.urandom(2000) for _ in range(3000))
    made.set()
    while not os.path.exists(os.path.join(outdir, "stop")):
        time.sleep(0.05)


threading.Thread(target=worker, daemon=True).start()
made.wait()
keep.extend(os.urandom(1 << 20) for _ in range(5))
truth = {"pid": os.getpid(), "type": "bytes", "ids": [id(b) for b in keep],
         "sizes": [sys.getsizeof(b) for b in keep]}
with open(os.path.join(outdir, "ready.tmp"), "w") as f:
    json.dump(truth, f)
os.rename(os.path.join(outdir, "ready.tmp"), os.path.join(outdir, "ready.json"))
while not os.path.exists(os.path.join(outdir, "stop")):
    time.sleep(0.05)
