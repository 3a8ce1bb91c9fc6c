"""Compare a snapshot core with a stop-the-world core of the same idle
process, for tests/integration/snapshot.sh.

usage: corecompare.py SNAPSHOT_CORE STOPPED_CORE READY_JSON
       corecompare.py --registers CORE_A CORE_B

Reads both plain cores with Python's struct (not pycore's C code) and
checks, printing one line per difference found:

  - the capture notes say mode 1 (snapshot) and mode 0 (stop-the-world);
  - both cores have the same PT_LOADs (address and size), in order;
  - every PT_LOAD holds the same bytes in both (but each thread's rseq
    area, which the kernel rewrites when it runs the thread on another CPU:
    READY_JSON gives its offset from the thread pointer, fs_base), except
    the two regions
    idle.py marked MADV_DONTFORK and MADV_WIPEONFORK (READY_JSON), which
    the snapshot core must leave empty (p_filesz 0) and list in its PYCORE
    absent note with their reasons (1 and 2), while the stop-the-world core
    holds their fill bytes (0xab and 0xcd);
  - every thread has the same registers in both NT_PRSTATUS notes: the
    fork left the target's registers exactly as they were.

With --registers, only the last check, between any two cores: after a
snapshot that failed (the capture fell back to stop-the-world), the
threads' registers are what a later capture sees.

Exits 0 when there is no difference.
"""
import json
import struct
import sys

from elfcore import PT_LOAD, read_elf, read_notes as notes

NT_PRSTATUS = 1
PYCORE_CAPTURE, PYCORE_ABSENT = 0x50590001, 0x50590004
CHUNK = 1 << 20


def phdrs(f):
    return read_elf(f).phdrs


def registers(ns):
    """{tid: the 27 general registers} from the NT_PRSTATUS notes."""
    regs = {}
    for name, ntype, d in ns:
        if name == "CORE" and ntype == NT_PRSTATUS:
            tid = struct.unpack_from("<i", d, 32)[0]
            regs[tid] = struct.unpack_from("<27Q", d, 112)
    return regs


def mode(ns):
    for name, ntype, d in ns:
        if name == "PYCORE" and ntype == PYCORE_CAPTURE:
            return struct.unpack_from("<I", d, 4)[0]
    return None


def absent(ns):
    for name, ntype, d in ns:
        if name == "PYCORE" and ntype == PYCORE_ABSENT:
            n = struct.unpack_from("<I", d, 0)[0]
            return {struct.unpack_from("<QQ", d, 8 + 24 * i):
                    struct.unpack_from("<I", d, 24 + 24 * i)[0] for i in range(n)}
    return {}


def masked(data, start, holes):
    """data (the bytes at address start) with the holes' bytes zeroed."""
    out = bytearray(data)
    for lo, hi in holes:
        lo, hi = max(lo, start), min(hi, start + len(data))
        if lo < hi:
            out[lo - start:hi - start] = bytes(hi - lo)
    return bytes(out)


def same_bytes(fa, a, fb, b, length, vaddr, holes):
    for at in range(0, length, CHUNK):
        n = min(CHUNK, length - at)
        fa.seek(a + at)
        fb.seek(b + at)
        if masked(fa.read(n), vaddr + at, holes) != masked(fb.read(n), vaddr + at, holes):
            return False
    return True


def rseq_holes(ready, regs):
    """Every thread's rseq area: fs_base (register 21) + offset, 32 bytes."""
    if not ready.get("rseq"):
        return []
    offset = ready["rseq"][0]
    return [(r[21] + offset, r[21] + offset + 32) for r in regs.values()]


def filled_with(f, off, length, byte):
    f.seek(off)
    return f.read(length) == bytes([byte]) * length


def same_registers(path_a, path_b):
    with open(path_a, "rb") as fa, open(path_b, "rb") as fb:
        ra, rb = registers(notes(fa, phdrs(fa))), registers(notes(fb, phdrs(fb)))
    if ra != rb or not ra:
        print("registers differ: %r / %r" % (ra, rb))
        sys.exit(1)
    print("same registers in %d threads" % len(ra))


def main():
    if sys.argv[1] == "--registers":
        same_registers(sys.argv[2], sys.argv[3])
        return
    snap_path, stw_path, ready_path = sys.argv[1:4]
    ready = json.load(open(ready_path))
    special = {}
    for key, reason, fill in (("dontfork", 1, 0xAB), ("wipeonfork", 2, 0xCD)):
        start, length = ready[key]
        special[(start, start + length)] = (key, reason, fill)
    problems = []
    with open(snap_path, "rb") as fs, open(stw_path, "rb") as ft:
        ps, pt = phdrs(fs), phdrs(ft)
        ns, nt = notes(fs, ps), notes(ft, pt)
        if (mode(ns), mode(nt)) != (1, 0):
            problems.append("capture modes %r, %r: want 1 (snapshot), 0" % (mode(ns), mode(nt)))
        if registers(ns) != registers(nt):
            problems.append("registers differ: %r / %r" % (registers(ns), registers(nt)))
        want_absent = {r: v[1] for r, v in special.items()}
        if absent(ns) != want_absent:
            problems.append("absent note %r, want %r" % (absent(ns), want_absent))
        loads_s = [p for p in ps if p[0] == PT_LOAD]
        loads_t = [p for p in pt if p[0] == PT_LOAD]
        if [(p[3], p[6]) for p in loads_s] != [(p[3], p[6]) for p in loads_t]:
            problems.append("the PT_LOADs differ in address or size")
            loads_s = loads_t = []
        holes = rseq_holes(ready, registers(nt))
        compared = 0
        for s, t in zip(loads_s, loads_t):
            rng = (s[3], s[3] + s[6])
            if rng in special:
                key, _, fill = special[rng]
                if s[5] != 0:
                    problems.append("%s region %#x: snapshot p_filesz %d, want 0" % (key, rng[0], s[5]))
                if t[5] != s[6] or not filled_with(ft, t[2], t[5], fill):
                    problems.append("%s region %#x: stop-the-world core lacks its bytes" % (key, rng[0]))
                continue
            if s[5] != t[5]:
                problems.append("PT_LOAD %#x: p_filesz %d vs %d" % (rng[0], s[5], t[5]))
            elif not same_bytes(fs, s[2], ft, t[2], s[5], s[3], holes):
                problems.append("PT_LOAD %#x-%#x: contents differ" % rng)
            compared += s[5]
    print("\n".join(problems) if problems else "same: %d bytes in %d PT_LOADs" % (compared, len(loads_s)))
    sys.exit(1 if problems else 0)


main()
