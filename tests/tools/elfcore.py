"""The program headers and notes of an ELF core, for the test tools.

Read with Python's struct, not pycore's C code: the tests check the files
the way they want to see them, so a bug in pycore's writer or reader cannot
hide behind the same bug here.  Standard library only.
"""
import collections
import struct

PT_LOAD, PT_NOTE = 1, 4
PN_XNUM = 0xFFFF

# One program header, in the file's field order; `at` is where it is in
# the file (for tools that damage it).
Phdr = collections.namedtuple(
    "Phdr", "type flags offset vaddr paddr filesz memsz align at")

Elf = collections.namedtuple("Elf", "e_type e_machine phoff phentsize phnum phdrs")


def read_elf(f):
    """The ELF header's facts and every program header of the open file f."""
    f.seek(0)
    eh = f.read(64)
    if len(eh) < 64 or eh[:4] != b"\x7fELF" or eh[4] != 2:
        raise ValueError("not a 64-bit ELF file")
    e_type, e_machine = struct.unpack_from("<HH", eh, 16)
    phoff, shoff = struct.unpack_from("<QQ", eh, 32)
    phentsize, phnum = struct.unpack_from("<HH", eh, 54)
    if phnum == PN_XNUM:        # the real count is in section header 0
        f.seek(shoff)
        phnum = struct.unpack_from("<I", f.read(64), 44)[0]
    f.seek(phoff)
    table = f.read(phentsize * phnum)
    phdrs = [Phdr(*struct.unpack_from("<IIQQQQQQ", table, i * phentsize), phoff + i * phentsize)
             for i in range(phnum)]
    return Elf(e_type, e_machine, phoff, phentsize, phnum, phdrs)


def read_notes(f, phdrs):
    """(owner, type, descriptor) of every note in the PT_NOTE segments."""
    out = []
    for p in phdrs:
        if p.type != PT_NOTE:
            continue
        f.seek(p.offset)
        seg, at = f.read(p.filesz), 0
        while at + 12 <= len(seg):
            namesz, descsz, ntype = struct.unpack_from("<III", seg, at)
            name = seg[at + 12:at + 12 + namesz].rstrip(b"\0").decode("utf-8", "replace")
            desc_at = at + 12 + ((namesz + 3) & ~3)
            out.append((name, ntype, seg[desc_at:desc_at + descsz]))
            at = desc_at + ((descsz + 3) & ~3)
    return out
