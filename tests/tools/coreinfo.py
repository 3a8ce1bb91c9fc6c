"""Decode an ELF core's program headers and notes as JSON, for the tests.

usage: coreinfo.py CORE

An independent reader (Python's struct, not pycore's C code): it checks the
file the way the tests want to see it, so a bug in the writer cannot hide
behind the same bug in a shared reader.
"""
import json
import struct
import sys

PT_LOAD, PT_NOTE = 1, 4
PYCORE_CAPTURE, PYCORE_MODULES = 0x50590001, 0x50590002


def read_phdrs(f):
    ehdr = f.read(64)
    assert ehdr[:4] == b"\x7fELF", "not an ELF file"
    e_type, e_machine = struct.unpack_from("<HH", ehdr, 16)
    e_phoff, e_shoff = struct.unpack_from("<QQ", ehdr, 32)
    e_phentsize, e_phnum = struct.unpack_from("<HH", ehdr, 54)
    if e_phnum == 0xFFFF:  # PN_XNUM: the real count is in section header 0
        f.seek(e_shoff)
        e_phnum = struct.unpack_from("<I", f.read(64), 44)[0]
    f.seek(e_phoff)
    phdrs = []
    for _ in range(e_phnum):
        p = struct.unpack("<IIQQQQQQ", f.read(e_phentsize))
        phdrs.append(dict(type=p[0], flags=p[1], offset=p[2], vaddr=p[3],
                          filesz=p[5], memsz=p[6], align=p[7]))
    return dict(e_type=e_type, e_machine=e_machine), phdrs


def read_notes(f, ph):
    f.seek(ph["offset"])
    buf = f.read(ph["filesz"])
    notes, off = [], 0
    while off + 12 <= len(buf):
        namesz, descsz, ntype = struct.unpack_from("<III", buf, off)
        name = buf[off + 12: off + 12 + namesz].rstrip(b"\0").decode()
        desc_at = off + 12 + ((namesz + 3) & ~3)
        notes.append((name, ntype, buf[desc_at: desc_at + descsz]))
        off = desc_at + ((descsz + 3) & ~3)
    return notes


def decode_capture(d):
    (ver, mode, sec, nsec, pid, start, hz, page, nthreads, clen,
     elen) = struct.unpack_from("<IIQIIQQIIII", d, 0)
    at = struct.calcsize("<IIQIIQQIIII")
    return dict(version=ver, mode=mode, time=sec + nsec / 1e9, pid=pid,
                start_ticks=start, clk_tck=hz, page_size=page,
                threads=nthreads, cmdline_hex=d[at: at + clen].hex(),
                exe=d[at + clen: at + clen + elen].rstrip(b"\0").decode())


def decode_modules(d):
    count, = struct.unpack_from("<I", d, 0)
    mods, at = [], 8
    for _ in range(count):
        base, idlen, plen = struct.unpack_from("<QII", d, at)
        at += 16
        build_id = d[at: at + idlen].hex()
        path = d[at + idlen: at + idlen + plen].rstrip(b"\0").decode()
        at += (idlen + plen + 7) & ~7
        mods.append(dict(base=base, build_id=build_id, path=path))
    return mods


def main():
    with open(sys.argv[1], "rb") as f:
        ehdr, phdrs = read_phdrs(f)
        out = dict(ehdr=ehdr, loads=[p for p in phdrs if p["type"] == PT_LOAD],
                   notes=[], prstatus_pids=[])
        for ph in phdrs:
            if ph["type"] != PT_NOTE:
                continue
            for name, ntype, desc in read_notes(f, ph):
                out["notes"].append(dict(name=name, type=ntype, size=len(desc)))
                if name == "CORE" and ntype == 1:
                    out["prstatus_pids"].append(struct.unpack_from("<i", desc, 32)[0])
                if name == "PYCORE" and ntype == PYCORE_CAPTURE:
                    out["capture"] = decode_capture(desc)
                if name == "PYCORE" and ntype == PYCORE_MODULES:
                    out["modules"] = decode_modules(desc)
    json.dump(out, sys.stdout)


main()
