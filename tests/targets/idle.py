"""A Python target that does nothing at all while it is captured, for the
test that a snapshot core holds what a stop-the-world core holds.

usage: idle.py OUTDIR [--mb N] [--seccomp RULES]   (CPython 3.8-3.13, stdlib only)

Builds about N MB (default 64) of small objects and a 3 MiB buffer of
known content, then maps two 1 MiB anonymous regions the kernel treats
specially in a fork: one marked MADV_DONTFORK (filled with 0xab: absent
from a fork) and one marked MADV_WIPEONFORK (filled with 0xcd: zeros in a
fork).  Writes OUTDIR/ready.json (pid, the buffer's address, length and
SHA-256, the two regions' addresses and lengths, where glibc keeps the
thread's rseq area), then blocks in one select() with no thread, no timer
and no allocation: nothing in its memory changes until it is killed, but
what the kernel writes in the rseq area.

With --seccomp it first installs one of the seccomp filters of SECCOMP
below (the process then runs under seccomp: Seccomp: 2 in
/proc/PID/status).  None of them stands in the way of the program itself,
which makes none of the calls they refuse; each is a rule a snapshot's
injected calls (a clone with no flags, then wait4 and kill of the copy)
meet or not:
  allow        every call
  denylist     sethostname fails with EPERM, as under a container's profile
  runtime      a container runtime's rule: x86-64 only (anything else is
               killed), clone without namespace flags (else EPERM)
  kill-fork    a clone that does not make a thread kills the process
  errno-fork   a clone that does not make a thread fails with EPERM
  kill-wait4   wait4 kills the process
  kill-by-pid  kill fails with EPERM unless aimed at the process itself
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


# <linux/filter.h>, <linux/seccomp.h>, <linux/audit.h>, x86-64 numbers
LD_ABS, JEQ, JSET, RET, AND = 0x20, 0x15, 0x45, 0x06, 0x54
ALLOW, ERRNO, KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
EPERM, X86_64 = 1, 0xC000003E
NR, ARCH, ARG0 = 0, 4, 16                   # offsets in struct seccomp_data
SYS_CLONE, SYS_WAIT4, SYS_KILL, SYS_SETHOSTNAME = 56, 61, 62, 170
CLONE_THREAD, NAMESPACE_FLAGS = 0x10000, 0x7E020000


def seccomp_rules(name):
    """The filter called name, as (code, jt, jf, k) instructions."""
    def if_not_thread(refusal):
        return [(LD_ABS, 0, 0, NR), (JEQ, 0, 3, SYS_CLONE), (LD_ABS, 0, 0, ARG0),
                (JSET, 1, 0, CLONE_THREAD), (RET, 0, 0, refusal), (RET, 0, 0, ALLOW)]

    return {
        "allow": [(RET, 0, 0, ALLOW)],
        "denylist": [(LD_ABS, 0, 0, NR), (JEQ, 0, 1, SYS_SETHOSTNAME),
                     (RET, 0, 0, ERRNO | EPERM), (RET, 0, 0, ALLOW)],
        "runtime": [(LD_ABS, 0, 0, ARCH), (JEQ, 1, 0, X86_64), (RET, 0, 0, KILL_PROCESS),
                    (LD_ABS, 0, 0, NR), (JEQ, 0, 4, SYS_CLONE), (LD_ABS, 0, 0, ARG0),
                    (AND, 0, 0, NAMESPACE_FLAGS), (JEQ, 1, 0, 0),
                    (RET, 0, 0, ERRNO | EPERM), (RET, 0, 0, ALLOW)],
        "kill-fork": if_not_thread(KILL_PROCESS),
        "errno-fork": if_not_thread(ERRNO | EPERM),
        "kill-wait4": [(LD_ABS, 0, 0, NR), (JEQ, 0, 1, SYS_WAIT4),
                       (RET, 0, 0, KILL_PROCESS), (RET, 0, 0, ALLOW)],
        "kill-by-pid": [(LD_ABS, 0, 0, NR), (JEQ, 0, 3, SYS_KILL), (LD_ABS, 0, 0, ARG0),
                        (JEQ, 1, 0, os.getpid()), (RET, 0, 0, ERRNO | EPERM),
                        (RET, 0, 0, ALLOW)],
    }[name]


def parse(argv):
    outdir, mb, seccomp, i = argv[1], 64, None, 2
    while i < len(argv):
        if argv[i] == "--mb":
            mb, i = int(argv[i + 1]), i + 2
        elif argv[i] == "--seccomp":
            seccomp, i = argv[i + 1], i + 2
        else:
            sys.exit("usage: idle.py OUTDIR [--mb N] [--seccomp RULES]")
    return outdir, mb, seccomp


def install_seccomp(name):
    """Install filter name (seccomp_rules) through prctl."""
    class SockFilter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8),
                    ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]

    rules = seccomp_rules(name)
    code = (SockFilter * len(rules))(*[SockFilter(*r) for r in rules])
    prog = SockFprog(len(rules), code)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p,
                           ctypes.c_ulong, ctypes.c_ulong)
    if libc.prctl(38, 1, None, 0, 0) != 0:              # PR_SET_NO_NEW_PRIVS
        sys.exit("PR_SET_NO_NEW_PRIVS: %s" % os.strerror(ctypes.get_errno()))
    if libc.prctl(22, 2, ctypes.byref(prog), 0, 0) != 0:   # PR_SET_SECCOMP, FILTER
        sys.exit("PR_SET_SECCOMP: %s" % os.strerror(ctypes.get_errno()))


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


def rseq_area():
    """[offset from the thread pointer, size] of the rseq area glibc (2.35+)
    registers for every thread, or None.  The kernel writes the thread's CPU
    number there whenever it runs it somewhere else: the one part of an
    idle process's memory that may change between two captures."""
    try:
        libc = ctypes.CDLL(None)
        return [ctypes.c_ssize_t.in_dll(libc, "__rseq_offset").value,
                ctypes.c_uint.in_dll(libc, "__rseq_size").value]
    except ValueError:
        return None


def main():
    outdir, mb, seccomp = parse(sys.argv)
    if seccomp:
        install_seccomp(seccomp)
    rng = random.Random(99)
    ballast = [(i, "idle-%08d" % i, {"i": i}) for i in range(mb * 4000)]
    data = bytearray(rng.getrandbits(8) for _ in range(3 << 20))
    addr = ctypes.addressof((ctypes.c_char * len(data)).from_buffer(data))
    dontfork = special_region(0xAB, MADV_DONTFORK)
    wipe = special_region(0xCD, MADV_WIPEONFORK)
    ready = {
        "pid": os.getpid(),
        "rseq": rseq_area(),
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
