/* objindex.h — every object of the heap by address: the nodes of the
 * reference graph.
 *
 * The heap walk adds objects in the order it finds them (ascending within
 * each allocator's runs); objindex_finish() sorts them and builds a small
 * page directory, after which an address finds its object in a hash probe
 * and a binary search over at most one page's objects.  24 bytes per
 * object, plus a few bytes per page that holds objects.
 */
#ifndef PYCORE_OBJINDEX_H
#define PYCORE_OBJINDEX_H

#include <stddef.h>
#include <stdint.h>

struct objrec {
	uint64_t addr;
	uint64_t size;               /* sys.getsizeof */
	uint32_t type;               /* index in the type table (pytypes.h) */
	uint32_t flags;              /* OBJ_* */
};

enum {
	OBJ_CONSERVATIVE = 1u << 0,  /* references found by scanning its memory */
};

struct objindex {
	struct objrec *v;
	size_t n, cap;
	struct { uint64_t page; uint32_t first, count; } *dir;   /* open addressing */
	size_t ndir;                 /* a power of two, or 0 before finish */
};

/* Returns 0, or -1 without memory. */
int objindex_add(struct objindex *x, uint64_t addr, uint32_t type, uint64_t size);

/* Sort by address (dropping duplicates) and build the page directory.
 * Returns 0, or -1 without memory. */
int objindex_finish(struct objindex *x);

/* The index of the object at exactly addr, or -1. */
int64_t objindex_find(const struct objindex *x, uint64_t addr);

void objindex_free(struct objindex *x);

#endif
