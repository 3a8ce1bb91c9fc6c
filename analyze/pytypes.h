/* pytypes.h — the type objects of a Python heap, recognised and named.
 *
 * Every candidate object is judged by its type pointer, so this is the hot
 * path of the heap walk: one lookup per candidate in a table keyed by
 * address, which remembers both real types and addresses that are not
 * types.  A type's facts (sizes, flags, the allocation prefix, how
 * sys.getsizeof measures its instances) are read once, its name when first
 * asked for.
 */
#ifndef PYCORE_PYTYPES_H
#define PYCORE_PYTYPES_H

#include "pyread.h"

#include <stdbool.h>
#include <stdint.h>

/* Which __sizeof__ measures a type's instances: the first built-in type
 * with a __sizeof__ of its own on the tp_base chain. */
enum size_rule {
	SIZE_DEFAULT,                /* object.__sizeof__: basicsize + |ob_size| * itemsize */
	SIZE_STR, SIZE_INT, SIZE_LIST, SIZE_DICT, SIZE_SET, SIZE_BYTEARRAY,
	SIZE_TYPE, SIZE_CODE, SIZE_FRAME, SIZE_GEN,
	/* standard-library C types, recognised by name (pysize_ext.c) */
	SIZE_DEQUE, SIZE_ODICT, SIZE_ARRAY, SIZE_BUFFERED, SIZE_BYTESIO, SIZE_STRUCT,
};

struct py_type {
	uint64_t addr;
	uint64_t flags;
	int64_t basicsize, itemsize, dictoffset;
	uint64_t base;               /* tp_base */
	uint64_t meta;               /* Py_TYPE(type) */
	uint32_t prefix;             /* bytes an allocation has before the object */
	uint32_t index;              /* dense 0..n-1, in order of discovery */
	enum size_rule rule;
	bool is_gc;                  /* Py_TPFLAGS_HAVE_GC */
	bool is_heap;                /* Py_TPFLAGS_HEAPTYPE */
	bool is_str;                 /* may be smaller than its basicsize */
	char *name;                  /* qualified name, NULL until py_type_name() */
};

struct pc_types;

struct pc_types *types_new(struct pc_py *py);
void types_free(struct pc_types *t);

/* The type at addr, or NULL when addr is not a valid type object (the
 * answer is remembered either way).  Never records an error. */
const struct py_type *types_lookup(struct pc_types *t, uint64_t addr);

/* "dict", "__main__.AcmeSession", "collections.OrderedDict"; a placeholder
 * naming the address when the name cannot be read.  Owned by the table. */
const char *types_name(struct pc_types *t, const struct py_type *type);

/* All known types, by index. */
size_t types_count(const struct pc_types *t);
const struct py_type *types_at(const struct pc_types *t, size_t index);

#endif
