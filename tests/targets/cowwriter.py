"""A target that rewrites memory without pause, for the --max-cow-mb test.

usage: cowwriter.py OUTDIR [--mb N]          (CPython 3.8-3.13, stdlib only)

Fills a buffer of N MB (default 200), writes OUTDIR/ready.json (pid, the
buffer's size), then writes one byte in every page of the buffer, over and
over, counting the passes in OUTDIR/passes (rewritten after each pass):
every pass dirties every page, so while a snapshot of it exists each pass
costs N MB of copy-on-write memory.
"""
import json
import os
import sys


def main():
    outdir = sys.argv[1]
    mb = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--mb" else 200
    buf = bytearray(mb << 20)
    for i in range(0, len(buf), 4096):
        buf[i] = 1
    with open(os.path.join(outdir, "ready.json.tmp"), "w") as f:
        json.dump({"pid": os.getpid(), "mb": mb}, f)
    os.rename(os.path.join(outdir, "ready.json.tmp"), os.path.join(outdir, "ready.json"))
    passes = 0
    while True:
        for i in range(0, len(buf), 4096):
            buf[i] = (passes + 2) & 255
        passes += 1
        with open(os.path.join(outdir, "passes.tmp"), "w") as f:
            f.write(str(passes))
        os.rename(os.path.join(outdir, "passes.tmp"), os.path.join(outdir, "passes"))


main()
