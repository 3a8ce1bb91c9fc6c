/* heap.h — every live Python object in a core, each found exactly once.
 *
 * Three sources, as CPython allocates (see docs/heap-walk.md):
 *   1. pymalloc: every used block of every arena (objects up to 512 bytes);
 *   2. glibc malloc: every in-use chunk of the main heap, of the other
 *      arenas' heaps and of mmapped chunks (bigger objects, and all objects
 *      under PYTHONMALLOC=malloc);
 *   3. the garbage collector's generation lists, for tracked objects that
 *      live anywhere else.
 * A block or chunk holds an object only when the object's type pointer
 * leads to a valid type whose allocation prefix (GC header, pre-header)
 * puts the object exactly there, its reference count is plausible and its
 * GC links agree; free blocks are never looked at.
 */
#ifndef PYCORE_HEAP_H
#define PYCORE_HEAP_H

#include "pyread.h"
#include "pytypes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An object found: its address, its type and a pointer to its bytes in
 * the core (avail of them, at least the type's basic size). */
struct heap_object {
	uint64_t addr;
	const struct py_type *type;
	const uint8_t *mem;
	size_t avail;
};

/* Returns non-zero to stop the walk (heap_walk then returns that value). */
typedef int (*heap_object_fn)(void *arg, const struct heap_object *obj);

struct heap_stats {
	uint64_t arenas, pools, blocks;        /* pymalloc */
	uint64_t heaps, chunks, mmapped;       /* glibc */
	uint64_t gc_tracked, gc_elsewhere;     /* GC lists; objects outside both allocators */
	uint64_t objects;
	uint64_t unreadable;                   /* regions the core does not hold */
	char damage[256];                      /* why the first of them failed, or "" */
	const char *pymalloc_found_by;         /* "interpreter state", "symbols", "scan" or NULL */
	int debug_hooks;                       /* PYTHONMALLOC=debug blocks seen */
	bool gc_collecting;                    /* captured during a garbage collection */
};

/* How far the walk is, in bytes of allocations judged out of the bytes of
 * anonymous memory in the core (an estimate: not all of it is heap). */
typedef void (*heap_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* Walk the whole heap.  Returns 0, the callback's non-zero value, or -1
 * with the error (e.g. PYTHONMALLOC=mimalloc, which pycore cannot walk).
 * progress may be NULL. */
int heap_walk(struct pc_py *py, struct pc_types *types, heap_object_fn fn, void *arg,
	      struct heap_stats *stats, heap_progress_fn progress, void *progress_arg);

/* --- internals shared by heap*.c ---------------------------------------- */

/* A region an allocator walk covered: GC-listed objects inside one were
 * already judged there. */
struct heap_regions {
	struct { uint64_t start, end; } *v;
	size_t n, cap;
	int sorted;
};
int heap_regions_add(struct heap_regions *r, uint64_t start, uint64_t end);
int heap_regions_contain(struct heap_regions *r, uint64_t addr);

/* One allocated block or chunk: the allocation's start, its usable bytes. */
typedef int (*heap_block_fn)(void *arg, uint64_t addr, const uint8_t *mem, size_t len);

int heap_pymalloc_walk(struct pc_py *py, struct heap_regions *covered, heap_block_fn fn,
		       void *arg, struct heap_stats *stats);
int heap_glibc_walk(struct pc_py *py, struct heap_regions *covered, heap_block_fn fn,
		    void *arg, struct heap_stats *stats);
/* Was any interpreter's collector running when the core was taken? */
bool heap_gc_collecting(struct pc_py *py);

/* Calls fn with each GC-tracked object's address (mem NULL, len 0). */
int heap_gc_walk(struct pc_py *py, heap_block_fn fn, void *arg, struct heap_stats *stats);

/* Count a region the walk had to skip, keeping the first reason (the
 * error recorded, if any: a damaged LZ4 block says which). */
void heap_note_unreadable(struct heap_stats *st);

#endif
