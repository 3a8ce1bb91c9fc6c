"""A busy multi-threaded Python target with planted objects, for the
snapshot stress test.

usage: busyplant.py OUTDIR [--scale N]      (CPython 3.8-3.13, stdlib only)

Plants N (default 2000) instances of __main__.StressPlanted, which nothing
creates or frees afterwards, and measures them itself (count, and bytes by
sys.getsizeof).  Then, until OUTDIR/stop exists, two threads allocate and
free lists, dicts and strings without pause, and every SIGRTMIN+2 sent to
it is counted through signal.set_wakeup_fd (one byte per signal the C
handler receives; Python's own handler calls coalesce).  The garbage
collector is off, so no collection moves objects while a capture looks.

OUTDIR/ready.json  pid, rtsig, and "types": {"__main__.StressPlanted": {count,
                   bytes}} in the form tests/tools/census.py checks.
OUTDIR/result.json written on stop: rt_signals received, allocation
                   rounds per thread.  Then it exits with status 37.
"""
import gc
import json
import os
import signal
import sys
import threading
import time

EXIT_CODE = 37


class StressPlanted:
    def __init__(self, i):
        self.serial = 9000000 + i
        self.label = "planted-%06d" % i


def churn(k, done, rounds):
    n = 0
    while not done.is_set():
        junk = [{"k": i, "v": "x%d" % i} for i in range(200)]
        junk.append(list(range(100)))
        del junk
        n += 1
        rounds[k] = n


def main():
    outdir = sys.argv[1]
    scale = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--scale" else 2000
    gc.disable()
    planted = [StressPlanted(i) for i in range(scale)]
    planted_bytes = sum(sys.getsizeof(p) for p in planted)

    rtsig = getattr(signal, "SIGRTMIN", 34) + 2
    received = [0]
    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)
    signal.signal(rtsig, lambda s, f: None)
    signal.set_wakeup_fd(wfd)
    done = threading.Event()

    def drain():
        while True:
            for b in os.read(rfd, 4096):
                if b == rtsig:
                    received[0] += 1
                elif b == 0:
                    return

    drainer = threading.Thread(target=drain)
    rounds = {}
    workers = [threading.Thread(target=churn, args=(k, done, rounds)) for k in range(2)]
    drainer.start()
    for w in workers:
        w.start()

    ready = {"pid": os.getpid(), "rtsig": rtsig,
             "types": {"__main__.StressPlanted": {"count": len(planted),
                                                "bytes": planted_bytes}}}
    tmp = os.path.join(outdir, "ready.json.tmp")
    with open(tmp, "w") as f:
        json.dump(ready, f)
    os.rename(tmp, os.path.join(outdir, "ready.json"))

    stop_file = os.path.join(outdir, "stop")
    while not os.path.exists(stop_file):
        time.sleep(0.02)
    expected = int(open(stop_file).read() or 0)
    deadline = time.monotonic() + 10
    while received[0] < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    done.set()
    for w in workers:
        w.join()
    signal.set_wakeup_fd(-1)
    os.write(wfd, b"\0")
    drainer.join()
    with open(os.path.join(outdir, "result.json"), "w") as f:
        json.dump({"rt_signals": received[0], "rounds": rounds, "planted": len(planted)}, f)
    sys.exit(EXIT_CODE)


main()
