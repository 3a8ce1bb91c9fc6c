"""Benchmark target for bench/capture-bench.

    python3 bench_target.py SIZE_MB STATEDIR

Builds about SIZE_MB of resident memory out of small Python objects (a list
of tuples holding an int, a short str and a small dict), then idles with a
heartbeat thread that wakes every 1 ms and tracks the longest gap between
two of its iterations -- i.e. the longest time the process was frozen.

Control, all through files in STATEDIR so the benchmark can wait for an
acknowledgement instead of guessing:

  ready       written (atomically) once the objects are built:
              "RSS_BYTES ITEMS FORK_S", FORK_S the median time of three
              os.fork() calls of the built process (the child exits at
              once): what the kernel's copy of its page tables costs, the
              floor of a snapshot's pause
  SIGUSR1     the heartbeat writes "reset-ack" and restarts its max gap
  SIGUSR2     the heartbeat writes "gap": "MAX_GAP START END" -- the longest
              gap in seconds since the last reset and when it began and ended,
              in time.time() seconds, so the benchmark can place it against its
              own clock.  It is written on the first heartbeat after the
              request, so a stall that is still going on is counted in full.

Signal handlers run in the main thread, so the main thread only ever sleeps
in 50 ms slices.
"""

import gc
import os
import signal
import sys
import threading
import time

from target_common import rss_bytes, write_atomic


def own_fork_seconds():
    """Median of three forks of this process, each child exiting at once.
    Done before the heartbeat starts, with one thread, as pycore-capture's
    injected clone runs with every other thread stopped."""
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        times.append(time.perf_counter() - t0)
        os.waitpid(pid, 0)
    return sorted(times)[1]


def main():
    size_mb = float(sys.argv[1])
    statedir = sys.argv[2]
    target = int(size_mb * 1024 * 1024)

    # Nothing here makes cycles; a full collection over millions of
    # objects only slows the build down.
    gc.disable()
    objs = []
    i = 0
    chunk = 20000
    while rss_bytes() < target:
        for j in range(i, i + chunk):
            objs.append((j, "obj-%08d" % j, {"id": j, "w": j * 0.5}))
        i += chunk

    # Only the heartbeat thread touches the gap state.  The signal handlers
    # (which run in the main thread) just post requests that the heartbeat
    # serves on its next iteration, so an acknowledgement also proves that
    # the heartbeat is alive and ticking.
    requests = {"reset": False, "report": False}

    def heartbeat():
        mono = time.monotonic
        sleep = time.sleep
        last = mono()
        worst, w_start, w_end = 0.0, last, last
        while True:
            now = mono()
            gap = now - last
            if gap > worst:
                worst, w_start, w_end = gap, last, now
            last = now
            if requests["report"]:
                requests["report"] = False
                to_wall = time.time() - mono()
                write_atomic(os.path.join(statedir, "gap"), "%.6f %.6f %.6f\n"
                             % (worst, w_start + to_wall, w_end + to_wall))
            if requests["reset"]:
                requests["reset"] = False
                write_atomic(os.path.join(statedir, "reset-ack"), "ok\n")
                last = mono()
                worst, w_start, w_end = 0.0, last, last
            sleep(0.001)

    def on_reset(signum, frame):
        requests["reset"] = True

    def on_report(signum, frame):
        requests["report"] = True

    fork_s = own_fork_seconds()
    signal.signal(signal.SIGUSR1, on_reset)
    signal.signal(signal.SIGUSR2, on_report)
    threading.Thread(target=heartbeat, name="heartbeat", daemon=True).start()

    write_atomic(os.path.join(statedir, "ready"),
                 "%d %d %.6f\n" % (rss_bytes(), len(objs), fork_s))
    while True:
        time.sleep(0.05)


if __name__ == "__main__":
    main()
