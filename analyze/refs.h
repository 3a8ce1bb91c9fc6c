/* refs.h — the references an object holds: the edges of the heap graph.
 *
 * Exact for the containers (tuple, list, dict, set), type objects,
 * instances of Python classes (slots, __dict__, 3.11+ managed dicts,
 * values arrays and 3.13 inline values) and weak references (only the
 * callback is strong).  Any other object's own memory is scanned for words
 * that are addresses of objects: exact for built-in types whose fields are
 * all object pointers (functions, code, cells, methods, frames,
 * generators, modules and their C state), conservative for extension types
 * pycore has no layout for (flagged).
 */
#ifndef PYCORE_REFS_H
#define PYCORE_REFS_H

#include "objindex.h"
#include "pytypes.h"

#include <stdbool.h>

struct pc_refs;

/* Found a reference from the object to the object at index target. */
typedef int (*refs_fn)(void *arg, uint32_t target);

struct pc_refs *refs_new(struct pc_py *py, struct pc_types *types, const struct objindex *index);
void refs_free(struct pc_refs *r);

/* Learn every known type's layout now, so that refs_of() only reads from
 * then on and several threads may call it.  Returns 0 or -1. */
int refs_prepare(struct pc_refs *r);

/* Call fn for each strong reference of object i (fn returning non-zero
 * stops, and that value is returned).  *conservative tells whether the
 * object's memory was scanned without a layout.  0, or the stop value. */
int refs_of(struct pc_refs *r, uint32_t i, refs_fn fn, void *arg, bool *conservative);

/* Scan [addr, addr+len) of raw memory for object addresses (roots, C
 * module state): fn for each found.  Unreadable memory is skipped. */
int refs_scan(struct pc_refs *r, uint64_t addr, uint64_t len, refs_fn fn, void *arg);

/* The same, telling also where each address was found. */
typedef int (*refs_slot_fn)(void *arg, uint32_t target, uint64_t slot);
int refs_scan_slots(struct pc_refs *r, uint64_t addr, uint64_t len, refs_slot_fn fn, void *arg);

#endif
