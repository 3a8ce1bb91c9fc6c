"""A multi-threaded Python target for the capture tests.

usage: threads.py OUTDIR [--busy N] [--sleepers N] [--mb N] [--rtsig] [--churn]

Starts N busy threads (they count loop iterations) and N sleeping threads,
plants a buffer of known content (and optionally N MB of small objects),
then writes OUTDIR/ready.json with what the process itself knows: its pid,
the native ids of its threads, its command line, the buffer's address and
SHA-256.  It runs until OUTDIR/stop exists, then writes OUTDIR/result.json
(loop counts, real-time signals received) and exits with status 37.

With --churn one more thread starts short-lived threads without pause, so
threads are born and die while a capture attaches; result.json lists the
native ids of all of them ("churn_ids").

With --rtsig it counts SIGRTMIN+2 deliveries through signal.set_wakeup_fd,
which writes one byte per signal the C handler receives (Python's own
handler calls coalesce repeated signals; the wakeup fd does not).
"""
import ctypes
import hashlib
import json
import os
import random
import signal
import sys
import threading
import time

EXIT_CODE = 37


def parse(argv):
    opts = {"busy": 2, "sleepers": 2, "mb": 0, "rtsig": False, "churn": False}
    outdir, i = argv[1], 2
    while i < len(argv):
        key = argv[i].lstrip("-")
        if key in ("rtsig", "churn"):
            opts[key] = True
            i += 1
        else:
            opts[key] = int(argv[i + 1])
            i += 2
    return outdir, opts


def plant_buffer():
    """3 MiB of seeded random bytes with a 1 MiB run of zeros inside, so the
    core must hold both data pages and holes at the right places."""
    rng = random.Random(1234)
    head = bytes(rng.getrandbits(8) for _ in range(1 << 20))
    data = bytearray(head + bytes(1 << 20) + head[::-1])
    addr = ctypes.addressof((ctypes.c_char * len(data)).from_buffer(data))
    return data, addr


def runtime_address():
    """Where the dynamic linker put _PyRuntime, as this process sees it."""
    try:
        return ctypes.addressof(ctypes.c_int.in_dll(ctypes.pythonapi, "_PyRuntime"))
    except (ValueError, AttributeError):
        return None


def main():
    outdir, opts = parse(sys.argv)
    stop_file = os.path.join(outdir, "stop")
    counts = {}
    done = threading.Event()

    def busy(k):
        n = 0
        while not done.is_set():
            n += 1
            if n % 1000 == 0:
                counts[k] = n

    def sleeper():
        while not done.is_set():
            time.sleep(0.01)

    born = [0]
    churn_ids = []

    def churn():
        while not done.is_set():
            t = threading.Thread(target=time.sleep, args=(0.002,))
            t.start()
            churn_ids.append(t.native_id)
            born[0] += 1
            if born[0] % 8 == 0:
                t.join()

    rt_count = [0]
    rtsig = getattr(signal, "SIGRTMIN", 34) + 2
    if opts["rtsig"]:
        rfd, wfd = os.pipe()
        os.set_blocking(wfd, False)
        signal.signal(rtsig, lambda s, f: None)
        signal.set_wakeup_fd(wfd)

        def drain():
            while not done.is_set():
                for b in os.read(rfd, 4096):
                    if b == rtsig:
                        rt_count[0] += 1

        drainer = threading.Thread(target=drain, daemon=True)
        drainer.start()

    threads = [threading.Thread(target=busy, args=(k,), daemon=True)
               for k in range(opts["busy"])]
    threads += [threading.Thread(target=sleeper, daemon=True)
                for _ in range(opts["sleepers"])]
    for t in threads:
        t.start()
    if opts["churn"]:
        threads.append(threading.Thread(target=churn, daemon=True))
        threads[-1].start()
    ballast = [{"k": i, "v": str(i)} for i in range(opts["mb"] * 4000)]
    data, addr = plant_buffer()
    time.sleep(0.2)  # let every thread reach its loop

    with open("/proc/self/cmdline", "rb") as f:
        cmdline = f.read()
    ready = {
        "pid": os.getpid(),
        "executable": sys.executable,
        "version": sys.version.split()[0],
        "hexversion": sys.hexversion,
        "basicsize": {t.__name__: t.__basicsize__ for t in
                      (object, list, tuple, dict, type, int, float, set, bytes)},
        "native_ids": sorted(t.native_id for t in threading.enumerate() if t.native_id),
        "tasks": sorted(int(t) for t in os.listdir("/proc/self/task")),
        "cmdline_hex": cmdline.hex(),
        "buffer_addr": addr,
        "buffer_len": len(data),
        "buffer_sha256": hashlib.sha256(data).hexdigest(),
        "rtsig": rtsig,
        "runtime_addr": runtime_address(),
        "ballast": len(ballast),
    }
    tmp = os.path.join(outdir, "ready.json.tmp")
    with open(tmp, "w") as f:
        json.dump(ready, f)
    os.rename(tmp, os.path.join(outdir, "ready.json"))

    while not os.path.exists(stop_file):
        time.sleep(0.02)
    # Give queued signals a moment to be read before reporting.
    expected = int(open(stop_file).read() or 0)
    deadline = time.monotonic() + 10
    while rt_count[0] < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    # Wind every thread down before exiting: daemon threads still running
    # during interpreter finalization can crash some CPython versions, and
    # such a crash must not be mistaken for harm done by a capture.
    done.set()
    for t in threads:
        t.join()
    if opts["rtsig"]:
        signal.set_wakeup_fd(-1)
        os.write(wfd, b"\0")
        drainer.join()
    result = {"counts": counts, "rt_signals": rt_count[0], "threads_born": born[0],
              "churn_ids": churn_ids}
    with open(os.path.join(outdir, "result.json"), "w") as f:
        json.dump(result, f)
    sys.exit(EXIT_CODE)


main()
