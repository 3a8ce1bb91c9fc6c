"""Decode an ELF core's program headers and notes as JSON, for the tests.

usage: coreinfo.py CORE

An independent reader (Python's struct, not pycore's C code): it checks the
file the way the tests want to see it, so a bug in the writer cannot hide
behind the same bug in a shared reader.
"""
import json
import struct
import sys

from elfcore import PT_LOAD, read_elf, read_notes

PYCORE_CAPTURE, PYCORE_MODULES = 0x50590001, 0x50590002


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
        elf = read_elf(f)
        loads = [dict(type=p.type, flags=p.flags, offset=p.offset, vaddr=p.vaddr,
                      filesz=p.filesz, memsz=p.memsz, align=p.align)
                 for p in elf.phdrs if p.type == PT_LOAD]
        out = dict(ehdr=dict(e_type=elf.e_type, e_machine=elf.e_machine), loads=loads,
                   notes=[], prstatus_pids=[])
        for name, ntype, desc in read_notes(f, elf.phdrs):
            out["notes"].append(dict(name=name, type=ntype, size=len(desc)))
            if name == "CORE" and ntype == 1:
                out["prstatus_pids"].append(struct.unpack_from("<i", desc, 32)[0])
            if name == "PYCORE" and ntype == PYCORE_CAPTURE:
                out["capture"] = decode_capture(desc)
            if name == "PYCORE" and ntype == PYCORE_MODULES:
                out["modules"] = decode_modules(desc)
    json.dump(out, sys.stdout)


main()
