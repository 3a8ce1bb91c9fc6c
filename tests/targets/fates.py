"""A target for the fault tests (tests/integration/faults.sh).

usage: fates.py OUTDIR [--mb N] [--fill N] [--threads N] [--fate FATE]

Plants N MB of small objects (--mb), N MiB of non-zero bytes in one
bytearray (--fill: quick to make, for a target of a given size) and a
buffer of known content, starts N
threads (64 KiB stacks, each blocked on one Event), then writes
OUTDIR/ready.json with what the process itself knows: its pid, the ids of
its tasks (/proc/self/task, read once every thread is blocked, so that the
set holds still until it is told otherwise), the buffer's address and
SHA-256.

A watcher thread polls for OUTDIR/go every millisecond; when it appears the
process meets its FATE from that thread, or from the main thread when the
fate's name ends in "-main":
  exit     os._exit(41)
  sysexit  sys.exit(42) (from a thread: the main thread is told to do it)
  exec     os.execv("/bin/sleep", ["sleep", "600"])
  execpy   os.execv(python, ...): a new Python program that writes
           OUTDIR/execd.json ({"pid": ...}) and sleeps
Without --fate it waits for OUTDIR/stop, then releases its threads, each
of which does a little work and reports; it writes OUTDIR/result.json
({"finished": N, "tasks_before": ...}) and exits with status 37.
"""
import ctypes
import hashlib
import json
import os
import sys
import threading
import time

EXIT_CODE = 37
EXECPY = ("import json, os, sys, time\n"
          "json.dump({'pid': os.getpid()}, open(sys.argv[1] + '.tmp', 'w'))\n"
          "os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n"
          "time.sleep(600)\n")


def parse(argv):
    opts = {"mb": 0, "fill": 0, "threads": 0, "fate": None}
    outdir, i = argv[1], 2
    while i < len(argv):
        key, val = argv[i].lstrip("-"), argv[i + 1]
        opts[key] = val if key == "fate" else int(val)
        i += 2
    return outdir, opts


def plant_buffer():
    data = bytearray(os.urandom(1 << 20))
    addr = ctypes.addressof((ctypes.c_char * len(data)).from_buffer(data))
    return data, addr


def meet(fate, outdir):
    if fate == "exit":
        os._exit(41)
    if fate == "sysexit":
        sys.exit(42)
    if fate == "exec":
        os.execv("/bin/sleep", ["sleep", "600"])
    if fate == "execpy":
        os.execv(sys.executable, [sys.executable, "-c", EXECPY,
                                  os.path.join(outdir, "execd.json")])


def main():
    outdir, opts = parse(sys.argv)
    fate = opts["fate"] or ""
    on_main = fate.endswith("-main") or fate == "sysexit"
    fate = fate[:-len("-main")] if fate.endswith("-main") else fate
    go = threading.Event()
    release = threading.Event()
    finished = []

    def worker(k):
        release.wait()
        finished.append(sum(range(k % 100 + 1)))   # a little work, then report

    ballast = [{"k": i, "v": str(i)} for i in range(opts["mb"] * 4000)]
    fill = bytearray(b"pycore!\n") * (opts["fill"] << 17)
    data, addr = plant_buffer()
    threading.stack_size(64 * 1024)
    workers = [threading.Thread(target=worker, args=(k,), daemon=True)
               for k in range(opts["threads"])]
    for t in workers:
        t.start()
    threading.stack_size(0)

    def watch():
        while not os.path.exists(os.path.join(outdir, "go")):
            time.sleep(0.001)
        if on_main:
            go.set()
            time.sleep(600)   # the set of tasks changes only by the fate
        else:
            meet(fate, outdir)

    if fate:
        threading.Thread(target=watch, daemon=True).start()
    time.sleep(0.1)
    tasks = sorted(int(t) for t in os.listdir("/proc/self/task"))
    ready = {"pid": os.getpid(), "tasks": tasks, "buffer_addr": addr,
             "buffer_len": len(data), "buffer_sha256": hashlib.sha256(data).hexdigest(),
             "ballast": len(ballast), "fill": len(fill)}
    with open(os.path.join(outdir, "ready.json.tmp"), "w") as f:
        json.dump(ready, f)
    os.rename(os.path.join(outdir, "ready.json.tmp"), os.path.join(outdir, "ready.json"))

    stop = os.path.join(outdir, "stop")
    while not os.path.exists(stop):
        if go.wait(0.001 if fate else 0.02):
            meet(fate, outdir)
    before = len(os.listdir("/proc/self/task"))
    release.set()
    for t in workers:
        t.join()
    with open(os.path.join(outdir, "result.json"), "w") as f:
        json.dump({"finished": len(finished), "tasks_before": before}, f)
    sys.exit(EXIT_CODE)


main()
