/* pysize_ext.h — the __sizeof__ of standard-library C types whose size
 * depends on their contents: collections.deque, collections.OrderedDict,
 * array.array, _io.BufferedReader/Writer/Random, _io.BytesIO and
 * _struct.Struct (docs/sizes.md).
 *
 * These types are not in pycore's list of known type addresses (most are
 * private to their module, and most become heap types in later versions),
 * so they are recognised by their tp_name together with a tp_basicsize
 * equal to the size of their C struct in the layout, once per type while
 * pytypes.c walks a type's tp_base chain.  Each size then restates the
 * module's own __sizeof__ from the fields the core holds.
 */
#ifndef PYCORE_PYSIZE_EXT_H
#define PYCORE_PYSIZE_EXT_H

#include "pytypes.h"

#include <stdint.h>

struct heap_object;

/* The rule of this file that measures instances of the type object at
 * type (one base of a tp_base chain), or SIZE_DEFAULT when it is none of
 * the modelled types or the layout lacks what the model reads.  May fill
 * in py->L the layout entries of these types that the runtime binary's
 * DWARF does not describe (modules built as shared objects) from the
 * series' built-in table. */
enum size_rule pysize_ext_rule(struct pc_py *py, uint64_t type);

/* __sizeof__ of an object whose type has one of this file's rules; for
 * SIZE_ODICT only what OrderedDict adds to dict's own __sizeof__. */
uint64_t pysize_ext_sizeof(struct pc_py *py, const struct heap_object *o);

#endif
