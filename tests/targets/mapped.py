"""plant.py's target with big mappings that hold no Python object, for
pycore-capture --filter python (tests/integration/filter.sh).

usage: mapped.py OUTDIR [--scale N] [--mb M]      (CPython 3.8-3.13, stdlib only)

First it writes OUTDIR/mapped.bin, M MB (default 20) of non-zero bytes,
and maps it, and anonymous memory, four ways:

  file-ro      the file, private and read-only (as a locale archive, a font)
  file-shared  the file, shared and writable, one byte written
  file-copy    the file, private and writable (mmap.ACCESS_COPY), one byte
               written: the kernel's rules dump such a mapping whole
  anon-shared  M MB of anonymous shared memory (mmap.mmap(-1, ...), as
               multiprocessing's shared memory), every page written

and writes OUTDIR/mappings.json: name -> [start, end] as /proc/self/maps
shows them.  Then it runs tests/targets/plant.py as __main__ with OUTDIR
and --scale: the same objects, threads, OUTDIR/census.json and
OUTDIR/ready.json (the truth, written last), and it parks until
OUTDIR/stop exists.  The mmap objects stay referenced from this module.
"""
import json
import mmap
import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def find(path, perms):
    """[start, end] of the one mapping of path with these permissions."""
    found = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[5].rstrip("\n") == path and parts[1] == perms:
                start, end = parts[0].split("-")
                found.append([int(start, 16), int(end, 16)])
    if len(found) != 1:
        raise SystemExit("mapped.py: %d mappings of %s %s" % (len(found), path, perms))
    return found[0]


def main():
    args = sys.argv[1:]
    mb = 20
    if "--mb" in args:
        k = args.index("--mb")
        mb = int(args[k + 1])
        del args[k:k + 2]
    if not args:
        raise SystemExit("usage: mapped.py OUTDIR [--scale N] [--mb M]")
    outdir = args[0]
    size = mb << 20
    path = os.path.realpath(os.path.join(outdir, "mapped.bin"))
    page = bytes(range(1, 256)) * 17                 # 4335 bytes, no zero
    with open(path, "wb") as f:
        f.write((page * (size // len(page) + 1))[:size])
    fd = os.open(path, os.O_RDWR)
    maps = {
        "file-ro": mmap.mmap(fd, size, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ),
        "file-shared": mmap.mmap(fd, size, access=mmap.ACCESS_WRITE),
        "file-copy": mmap.mmap(fd, size, access=mmap.ACCESS_COPY),
        "anon-shared": mmap.mmap(-1, size),
    }
    os.close(fd)
    maps["file-shared"][0] = 7
    maps["file-copy"][0] = 9
    maps["anon-shared"].write((page * (size // len(page) + 1))[:size])
    where = {
        "file-ro": find(path, "r--p"),
        "file-shared": find(path, "rw-s"),
        "file-copy": find(path, "rw-p"),
        "anon-shared": find("/dev/zero (deleted)", "rw-s"),
    }
    with open(os.path.join(outdir, "mappings.json"), "w") as f:
        json.dump({"size": size, "mappings": where}, f)
    globals()["MAPS"] = maps                          # alive while parked
    sys.argv = [os.path.join(HERE, "plant.py")] + args
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
