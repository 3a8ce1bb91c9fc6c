"""A Python target that does nothing at all while it is captured, for the
test that a snapshot core holds what a stop-the-world core holds.

usage: idle.py OUTDIR [--mb N]          (CPython 3.8-3.13, stdlib only)

Builds about N MB (default 64) of small objects and a 3 MiB buffer of
known content, then maps two 1 MiB anonymous regions the kernel treats
specially in a fork: one marked MADV_DONTFORK (filled with 0xab: absent
from a fork) and one marked MADV_WIPEONFORK (filled with 0xcd: zeros in a
fork).  Writes OUTDIR/ready.json (pid, the buffer's address, length and
SHA-256, the two regions' addresses and lengths), then blocks in one
select() with no thread, no timer and no allocation: nothing in its memory
changes until it is killed.
"""
import ctypes
import hashlib
import json
import mmap
import os
import random
import select
import sys

REGION = 1 << 20
MADV_DONTFORK, MADV_WIPEONFORK = 10, 18     # <asm-generic/mman-common.h>


def parse(argv):
    outdir, mb = argv[1], 64
    if len(argv) > 3 and argv[2] == "--mb":
        mb = int(argv[3])
    return outdir, mb


def special_region(fill, advice):
    """A private anonymous mapping filled with one byte, then advised
    (through libc: not every build's mmap module names both advices)."""
    m = mmap.mmap(-1, REGION, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    m.write(bytes([fill]) * REGION)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    if libc.madvise(addr, REGION, advice) != 0:
        sys.exit("madvise(%d): %s" % (advice, os.strerror(ctypes.get_errno())))
    return m, addr


def main():
    outdir, mb = parse(sys.argv)
    rng = random.Random(99)
    ballast = [(i, "idle-%08d" % i, {"i": i}) for i in range(mb * 4000)]
    data = bytearray(rng.getrandbits(8) for _ in range(3 << 20))
    addr = ctypes.addressof((ctypes.c_char * len(data)).from_buffer(data))
    dontfork = special_region(0xAB, MADV_DONTFORK)
    wipe = special_region(0xCD, MADV_WIPEONFORK)
    ready = {
        "pid": os.getpid(),
        "ballast": len(ballast),
        "buffer_addr": addr,
        "buffer_len": len(data),
        "buffer_sha256": hashlib.sha256(data).hexdigest(),
        "dontfork": [dontfork[1], REGION],
        "wipeonfork": [wipe[1], REGION],
    }
    tmp = os.path.join(outdir, "ready.json.tmp")
    with open(tmp, "w") as f:
        json.dump(ready, f)
    os.rename(tmp, os.path.join(outdir, "ready.json"))
    select.select([], [], [])


main()
