/* dwarfinfo.h — struct sizes and member offsets from a binary's DWARF.
 *
 * The first source of CPython layouts when the binary carries debug info
 * (pyenv builds do; Debian's stripped python3.11 does not).  Types are
 * looked up by their C name, as a typedef ("PyListObject") or a struct tag
 * ("_typeobject"); members by name, through anonymous members and nested
 * structs written with dots ("ob_base.ob_type").
 *
 * The first lookup indexes every compile unit once (type names, enumerator
 * names); later lookups are hash-table hits, so asking a few hundred
 * questions of a 20 MB libpython costs one pass over its DWARF.
 */
#ifndef PYCORE_DWARFINFO_H
#define PYCORE_DWARFINFO_H

#include <stdint.h>

struct pc_dwarf;

/* Open the DWARF of an ELF file.  NULL when it has none (not an error:
 * pc_errcode() stays PC_OK) or on I/O errors (recorded).  A relocatable
 * object (.o) is not supported: libdw does not apply its relocations. */
struct pc_dwarf *dwarfinfo_open(const char *path);
void dwarfinfo_close(struct pc_dwarf *d);

/* sizeof(type), or -1 when the DWARF does not describe it.  The first
 * typedef, struct or union of that name that has a definition wins. */
int64_t dwarfinfo_sizeof(struct pc_dwarf *d, const char *type);

/* offsetof(type, member path), or -1. */
int64_t dwarfinfo_offsetof(struct pc_dwarf *d, const char *type, const char *member);

/* sizeof(((type *)0)->member path): 8 for a pointer, the whole struct for
 * an embedded one; -1 when absent or without a size (flexible arrays). */
int64_t dwarfinfo_membersize(struct pc_dwarf *d, const char *type, const char *member);

/* The value of the enumerator called name (DW_TAG_enumerator), in the
 * first enum that has one.  Returns 0, or -1 when there is none. */
int dwarfinfo_enumerator(struct pc_dwarf *d, const char *name, int64_t *value);

/* The source file that declares the type, as DWARF names it, or NULL. */
const char *dwarfinfo_type_file(struct pc_dwarf *d, const char *type);

#endif
