/* pysize.h — sys.getsizeof(obj), computed from a core.
 *
 * The object's __sizeof__ as the built-in type that defines it computes
 * it (object, str, int, list, dict, set, bytearray, type, code, frame,
 * generator), plus what sys.getsizeof adds for the GC header and the 3.11+
 * pre-header.  Extension types with a __sizeof__ of their own and classes
 * that define __sizeof__ in Python are measured as object.__sizeof__ does
 * (docs/sizes.md lists what is modelled and what is not).
 */
#ifndef PYCORE_PYSIZE_H
#define PYCORE_PYSIZE_H

#include "heap.h"

#include <stdint.h>

uint64_t pysize_of(struct pc_py *py, const struct heap_object *o);

/* Readers for size rules (pysize.c, pysize_ext.c).  A field of the object:
 * from the bytes in hand, else from the core; 0 when unreadable or absent
 * (the size is then a lower bound, not a failure). */
uint64_t pysize_field(struct pc_py *py, const struct heap_object *o, enum layout_field_id id);
uint64_t pysize_u64_at(struct pc_py *py, uint64_t addr);   /* 0 when unreadable */

/* sizeof a dict keys table (_PyDict_KeysSize), 0 when unreadable. */
uint64_t pysize_dict_keys(struct pc_py *py, uint64_t keys);

#endif
