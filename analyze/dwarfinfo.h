/* dwarfinfo.h — struct sizes and member offsets from a binary's DWARF.
 *
 * The first source of CPython layouts when the binary carries debug info
 * (pyenv builds do; Debian's stripped python3.11 does not).  Types are
 * looked up by their C name, as a typedef ("PyListObject") or a struct tag
 * ("_typeobject"); members by name, through anonymous members and nested
 * structs written with dots ("ob_base.ob_type").
 */
#ifndef PYCORE_DWARFINFO_H
#define PYCORE_DWARFINFO_H

#include <stdint.h>

struct pc_dwarf;

/* Open the DWARF of an ELF file.  NULL when it has none (not an error:
 * pc_errcode() stays PC_OK) or on I/O errors (recorded). */
struct pc_dwarf *dwarfinfo_open(const char *path);
void dwarfinfo_close(struct pc_dwarf *d);

/* sizeof(type), or -1 when the DWARF does not describe it. */
int64_t dwarfinfo_sizeof(struct pc_dwarf *d, const char *type);

/* offsetof(type, member path), or -1. */
int64_t dwarfinfo_offsetof(struct pc_dwarf *d, const char *type, const char *member);

#endif
