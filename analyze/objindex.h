/* objindex.h — every object of the heap by address: the nodes of the
 * reference graph.
 *
 * The heap walk adds objects in the order it finds them (ascending within
 * each allocator's runs); objindex_finish() sorts them and builds a page
 * directory: for every 4 KiB page that holds objects, a hash slot and a
 * bitmap with one bit per 8-byte word where an object starts.  An address
 * then finds its object with a hash probe and one bitmap (~a cache line):
 * set bits before it count the objects before it in its page.  Building the
 * graph asks this once per reference and once per word of conservatively
 * scanned memory, mostly for words that are not objects, which the bitmap
 * refuses without touching the objects.  24 bytes per object, plus at
 * most 144 bytes per page that holds objects (80 for its bitmap, 2 to 4
 * directory slots of 16).  CPython objects are 8-byte aligned:
 * an unaligned address (damaged memory) is not taken in.
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

/* One bit per 8-byte word of a 4 KiB page where an object starts, and how
 * many start in the bitmap words before each. */
struct objindex_page {
	uint64_t starts[8];
	uint16_t before[8];
};

struct objindex {
	struct objrec *v;
	size_t n, cap;
	struct { uint64_t page; uint32_t first, map; } *dir;   /* open addressing */
	size_t ndir;                 /* a power of two, or 0 before finish */
	struct objindex_page *pages; /* by dir's map: where objects start */
};

/* Returns 0 (also when addr is not 8-byte aligned: not added), or -1
 * without memory. */
int objindex_add(struct objindex *x, uint64_t addr, uint32_t type, uint64_t size);

/* Sort by address (dropping duplicates) and build the page directory.
 * Returns 0, or -1 without memory. */
int objindex_finish(struct objindex *x);

/* The index of the object at exactly addr, or -1. */
int64_t objindex_find(const struct objindex *x, uint64_t addr);

void objindex_free(struct objindex *x);

#endif
