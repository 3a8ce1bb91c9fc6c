"""Damage a real core in many ways and run pycore-report on each copy.

usage: corrupt.py CORE REPORT WORKDIR COUNT SEED [--as-limit BYTES] [--timeout S]
                  [--only I]

Each of COUNT variants is CORE with one kind of damage (the kinds take
turns, so every kind is tried about COUNT/len(KINDS) times):

  heap-bytes     random bytes over random words of memory segments
  zero-pages     whole 4 KiB pages of memory zeroed
  wild-pointers  words of memory replaced by pointers to random places of
                 other segments (or just past them)
  truncate       the file cut at a random offset (headers, notes or data)
  phdr           one field of one program header set to a random or huge
                 value
  notes          random bytes over the note segment, or one note's name or
                 descriptor size made huge
  ehdr           e_phoff, e_phnum or e_phentsize of the ELF header changed

REPORT runs on each (--format json) with an address-space limit
(--as-limit, default 4 GiB; 0: none, as under AddressSanitizer) and a
timeout (default 20 s).  An outcome is one of:

  full      exit 0, a JSON report without warnings
  partial   exit 0, a JSON report with warnings
  refused   exit 1-127, the last line of stderr "pycore-report: ..."
  BAD       anything else: a signal (crash, abort), a timeout (hang), an
            exit 0 that is not JSON, a refusal without its one-line error

Prints one line per BAD variant (kind, index, what happened: rerun it with
--only I) and last a JSON summary: {"count", "full", "partial",
"refused", "bad": [...], "kinds": {kind: count}}.  Exit status 0 unless
the arguments are wrong.  Standard library only.
"""

import json
import mmap
import os
import random
import resource
import shutil
import struct
import subprocess
import sys

from elfcore import PT_LOAD, PT_NOTE, read_elf

KINDS = ["heap-bytes", "zero-pages", "wild-pointers", "truncate", "phdr", "notes", "ehdr"]


def parse_core(path):
    """The program headers we damage, as dicts (at: the header's own offset)."""
    with open(path, "rb") as f:
        try:
            elf = read_elf(f)
        except ValueError:
            sys.exit("corrupt.py: %s is not a 64-bit ELF file" % path)
    phdrs = [{"type": p.type, "offset": p.offset, "vaddr": p.vaddr, "filesz": p.filesz,
              "memsz": p.memsz, "at": p.at} for p in elf.phdrs]
    return elf.phoff, elf.phnum, phdrs


def memory_spans(phdrs):
    return [p for p in phdrs if p["type"] == PT_LOAD and p["filesz"] >= 4096]


def random_word_offset(rng, spans):
    p = rng.choice(spans)
    return p["offset"] + rng.randrange(p["filesz"] // 8) * 8


def heap_bytes(m, rng, phdrs, size):
    spans = memory_spans(phdrs)
    for _ in range(rng.randint(1, 2000)):
        off = random_word_offset(rng, spans)
        m[off:off + 8] = rng.getrandbits(64).to_bytes(8, "little")
    return size


def zero_pages(m, rng, phdrs, size):
    spans = memory_spans(phdrs)
    for _ in range(rng.randint(1, 200)):
        p = rng.choice(spans)
        off = p["offset"] + rng.randrange(p["filesz"] // 4096) * 4096
        m[off:off + 4096] = bytes(4096)
    return size


def wild_pointers(m, rng, phdrs, size):
    spans = memory_spans(phdrs)
    for _ in range(rng.randint(1, 2000)):
        target = rng.choice(spans)
        ptr = target["vaddr"] + rng.randrange(target["memsz"] + 64) & ~7
        if rng.random() < 0.1:
            ptr = rng.choice([0, 8, 0xFFFFFFFFFFFFFFF8, 1 << 47, ptr + 1])
        off = random_word_offset(rng, spans)
        m[off:off + 8] = (ptr & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
    return size


def truncate(m, rng, phdrs, size):
    notes = [p for p in phdrs if p["type"] == PT_NOTE]
    where = rng.random()
    if where < 0.2:
        return rng.randrange(0, 64 + 56 * len(phdrs))          # headers
    if where < 0.4 and notes:
        n = notes[0]
        return n["offset"] + rng.randrange(max(n["filesz"], 1))  # notes
    return rng.randrange(size // 2, size)                      # data


def phdr(m, rng, phdrs, size):
    p = rng.choice(phdrs)
    field, fmt = rng.choice([(8, "<Q"), (16, "<Q"), (32, "<Q"), (40, "<Q"), (0, "<I")])
    value = rng.choice([0, 1, size, size + 4096, 1 << 40, 0xFFFFFFFFFFFFFFFF,
                        rng.getrandbits(64)])
    if fmt == "<I":
        value &= 0xFFFFFFFF
    struct.pack_into(fmt, m, p["at"] + field, value)
    return size


def notes(m, rng, phdrs, size):
    segs = [p for p in phdrs if p["type"] == PT_NOTE and p["filesz"] > 12]
    if not segs:
        return heap_bytes(m, rng, phdrs, size)
    n = segs[0]
    if rng.random() < 0.5:
        for _ in range(rng.randint(1, 50)):
            off = n["offset"] + rng.randrange(n["filesz"])
            m[off] = rng.getrandbits(8)
        return size
    # Walk to a random note and make its name or descriptor size huge.
    off, end, heads = n["offset"], n["offset"] + n["filesz"], []
    while off + 12 <= end:
        namesz, descsz, _ = struct.unpack_from("<III", m, off)
        heads.append(off)
        off += 12 + (namesz + 3 & ~3) + (descsz + 3 & ~3)
    at = rng.choice(heads)
    struct.pack_into("<I", m, at + rng.choice([0, 4]),
                     rng.choice([0xFFFFFFFF, 0x7FFFFFFF, 1 << 20, n["filesz"]]))
    return size


def ehdr(m, rng, phdrs, size):
    field = rng.choice(["phoff", "phnum", "phentsize"])
    if field == "phoff":
        struct.pack_into("<Q", m, 32, rng.choice([0, size, size - 8, 1 << 50, rng.getrandbits(64)]))
    elif field == "phnum":
        struct.pack_into("<H", m, 56, rng.choice([0, 1, 0xFFFF, rng.getrandbits(16)]))
    else:
        struct.pack_into("<H", m, 54, rng.choice([0, 1, 55, 57, 0xFFFF]))
    return size


DAMAGE = {"heap-bytes": heap_bytes, "zero-pages": zero_pages, "wild-pointers": wild_pointers,
          "truncate": truncate, "phdr": phdr, "notes": notes, "ehdr": ehdr}


def make_variant(core, out, kind, rng, phdrs):
    shutil.copyfile(core, out)
    size = os.path.getsize(out)
    with open(out, "r+b") as f:
        m = mmap.mmap(f.fileno(), size)
        try:
            new_size = DAMAGE[kind](m, rng, phdrs, size)
        finally:
            m.close()
        if new_size < size:
            f.truncate(new_size)


def run_report(report, path, as_limit, timeout):
    def limit():
        if as_limit:
            resource.setrlimit(resource.RLIMIT_AS, (as_limit, as_limit))
    try:
        r = subprocess.run([report, "--format", "json", path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, preexec_fn=limit)
    except subprocess.TimeoutExpired:
        return "BAD", "hung (over %g s)" % timeout
    err = r.stderr.decode("utf-8", "replace").strip().splitlines()
    if r.returncode < 0:
        return "BAD", "killed by signal %d; stderr: %s" % (-r.returncode, " | ".join(err[-3:]))
    if r.returncode == 0:
        try:
            doc = json.loads(r.stdout)
        except ValueError:
            return "BAD", "exit 0 but the output is not JSON"
        return ("partial" if doc.get("warnings") else "full"), ""
    if r.returncode >= 128 or not err or not err[-1].startswith("pycore-report: "):
        # A sanitizer's report names the fault in its first lines.
        fault = [l for l in err if "runtime error" in l or "ERROR:" in l or " in " in l][:3]
        return "BAD", "exit %d without a one-line error: %s" % (
            r.returncode, " | ".join(fault or err[-3:]))
    return "refused", ""


def main():
    args = sys.argv[1:]
    opts = {"--as-limit": str(4 << 30), "--timeout": "20", "--only": None}
    for name in list(opts):
        if name in args:
            i = args.index(name)
            opts[name] = args[i + 1]
            del args[i:i + 2]
    if len(args) != 5:
        sys.exit(__doc__.split("\n\n")[1])
    core, report, workdir, count, seed = args[0], args[1], args[2], int(args[3]), int(args[4])
    _phoff, _phnum, phdrs = parse_core(core)
    summary = {"count": 0, "full": 0, "partial": 0, "refused": 0, "bad": [], "kinds": {}}
    out = os.path.join(workdir, "variant.core")
    indexes = [int(opts["--only"])] if opts["--only"] is not None else range(count)
    for i in indexes:
        kind = KINDS[i % len(KINDS)]
        rng = random.Random(seed * 1000003 + i)
        make_variant(core, out, kind, rng, phdrs)
        outcome, what = run_report(report, out, int(opts["--as-limit"]), float(opts["--timeout"]))
        summary["count"] += 1
        summary["kinds"][kind] = summary["kinds"].get(kind, 0) + 1
        if outcome == "BAD":
            summary["bad"].append({"index": i, "kind": kind, "what": what})
            print("BAD variant %d (%s, seed %d): %s" % (i, kind, seed, what), flush=True)
        else:
            summary[outcome] += 1
    os.unlink(out)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
