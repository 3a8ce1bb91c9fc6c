"""What a core says about a process that ran in a container, as JSON: the
file names of NT_FILE, the ids of NT_PRSTATUS and NT_PRPSINFO, and the
PYCORE capture, modules and namespaces notes (docs/pycore-note.md); or, with
--build-id FILE..., each file's GNU build-id; or, with --hide-python CORE
OUT, a copy of CORE whose PYCORE python note has a type no reader knows
(a core with no note to stand in for the binaries, as gdb and the kernel
write them).

usage: nscore.py [--text] CORE | nscore.py --build-id FILE... | nscore.py --hide-python CORE OUT

--text writes lines for shell scripts instead: "mode M", "python LAYOUT"
(the python note's layout source, or none), "ns FLAGS PID
OWN-PID ROOT", "tids TID:OWN-TID..." (sorted), "ids PR_PID... / PRPSINFO-PID"
(sorted), then "file PATH" for NT_FILE and "module PATH BUILD-ID" for the
modules note; --build-id writes "FILE BUILD-ID" lines.

Independent of pycore's C reader, like coreinfo.py.
"""
import io
import json
import struct
import sys

from elfcore import PT_NOTE, read_elf, read_notes

NT_PRSTATUS, NT_PRPSINFO, NT_FILE, NT_GNU_BUILD_ID = 1, 3, 0x46494C45, 3
PYCORE_CAPTURE, PYCORE_MODULES, PYCORE_PYTHON, PYCORE_NAMESPACES = (
    0x50590001, 0x50590002, 0x50590003, 0x50590005)


def nt_file(d):
    count, _page = struct.unpack_from("<QQ", d, 0)
    names = d[16 + 24 * count:].split(b"\0")[:count]
    return [n.decode() for n in names]


def modules(d):
    count, = struct.unpack_from("<I", d, 0)
    out, at = [], 8
    for _ in range(count):
        _base, idlen, plen = struct.unpack_from("<QII", d, at)
        out.append(dict(build_id=d[at + 16:at + 16 + idlen].hex(),
                        path=d[at + 16 + idlen:at + 16 + idlen + plen].rstrip(b"\0").decode()))
        at += (16 + idlen + plen + 7) & ~7
    return out


def namespaces(d):
    flags, pid, ns_pid, nthreads, mnt, pidns, rlen, _ = struct.unpack_from("<IiiIQQII", d, 0)
    tids = [list(struct.unpack_from("<ii", d, 40 + 8 * i)) for i in range(nthreads)]
    at = 40 + 8 * nthreads
    return dict(flags=flags, pid=pid, ns_pid=ns_pid, mnt_ns=mnt, pid_ns=pidns, tids=tids,
                root=d[at:at + rlen].rstrip(b"\0").decode())


def describe(path):
    out = dict(files=[], prstatus=[], prpsinfo=None)
    with open(path, "rb") as f:
        for name, ntype, d in read_notes(f, read_elf(f).phdrs):
            if name == "CORE" and ntype == NT_PRSTATUS:
                out["prstatus"].append(struct.unpack_from("<i", d, 32)[0])
            elif name == "CORE" and ntype == NT_PRPSINFO:
                out["prpsinfo"] = struct.unpack_from("<i", d, 24)[0]
            elif name == "CORE" and ntype == NT_FILE:
                out["files"] = nt_file(d)
            elif name == "PYCORE" and ntype == PYCORE_CAPTURE:
                out["mode"], = struct.unpack_from("<I", d, 4)
                out["pid"], = struct.unpack_from("<i", d, 20)
            elif name == "PYCORE" and ntype == PYCORE_MODULES:
                out["modules"] = modules(d)
            elif name == "PYCORE" and ntype == PYCORE_NAMESPACES:
                out["namespaces"] = namespaces(d)
            elif name == "PYCORE" and ntype == PYCORE_PYTHON:
                for line in d.decode("utf-8", "replace").split("\n"):
                    if line.startswith("layout "):
                        out["python_layout"] = line.split()[1]
    return out


def build_id(path):
    with open(path, "rb") as f:
        for name, ntype, d in read_notes(f, read_elf(f).phdrs):
            if name == "GNU" and ntype == NT_GNU_BUILD_ID:
                return d.hex()
    return ""


def hide_python(src, dst):
    with open(src, "rb") as f:
        data = bytearray(f.read())
    for p in read_elf(io.BytesIO(data)).phdrs:
        if p.type != PT_NOTE:
            continue
        at = p.offset
        while at + 12 <= p.offset + p.filesz:
            namesz, descsz, ntype = struct.unpack_from("<III", data, at)
            if bytes(data[at + 12:at + 12 + namesz]).rstrip(b"\0") == b"PYCORE" and \
                    ntype == PYCORE_PYTHON:
                struct.pack_into("<I", data, at + 8, 0x505900FF)
            at += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3)
    with open(dst, "wb") as f:
        f.write(data)


def text(d):
    ns = d["namespaces"]
    print("mode", d.get("mode"))
    print("python", d.get("python_layout", "none"))
    print("ns", ns["flags"], ns["pid"], ns["ns_pid"], ns["root"])
    print("tids", " ".join("%d:%d" % tuple(t) for t in sorted(ns["tids"])))
    print("ids", " ".join(map(str, sorted(d["prstatus"]))), "/", d["prpsinfo"])
    for f in d["files"]:
        print("file", f)
    for m in d["modules"]:
        print("module", m["path"], m["build_id"])


if sys.argv[1] == "--build-id":
    for p in sys.argv[2:]:
        print(p, build_id(p))
elif sys.argv[1] == "--text":
    text(describe(sys.argv[2]))
elif sys.argv[1] == "--hide-python":
    hide_python(sys.argv[2], sys.argv[3])
else:
    json.dump(describe(sys.argv[1]), sys.stdout)
