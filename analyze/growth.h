/* growth.h — what changed object by object between two cores of one
 * process: what grew, what is new and who holds it, what was freed.
 *
 * CPython never moves an object, so an object at the same address with the
 * same type in both cores is taken for the same object — unless its size
 * says otherwise: a str, an int or another object whose sys.getsizeof
 * cannot change while it lives (the object.__sizeof__ rule) with a
 * different size is a new object in freed memory.  A list reusing a freed
 * list's address cannot be told apart so cheaply; its length then changed
 * rather than its identity, which is what a leak hunter wants to see
 * either way.
 *
 * The rows that grew: lists, dicts, sets and deques whose length grew, and
 * any object whose retained size (dominator tree, in each core's own
 * graph) grew where the growth is its own — not mostly that of one object
 * it retains that grew too (the module dict holding a growing list is not
 * listed, the list is).  Each is named by its path from a root in the
 * later core.
 */
#ifndef PYCORE_GROWTH_H
#define PYCORE_GROWTH_H

#include "census.h"
#include "objindex.h"
#include "pytypes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct growth_row {
	uint64_t addr;
	const char *type;            /* owned by the later core's type table */
	bool has_len;                /* a list, dict, set or deque: len is known */
	uint64_t len[2];             /* before, after */
	uint64_t bytes[2];           /* sys.getsizeof before, after */
	bool reached[2];             /* reachable from a root: retained is known */
	uint64_t retained[2];        /* retained bytes before, after */
	char *path;                  /* in the later core, or NULL */
};

struct retainer;

struct growth {
	struct growth_row *rows;     /* largest growth in retained bytes first */
	size_t nrows;
	struct retainer *holders;    /* who holds most of the new objects (leaks.h) */
	size_t nholders;
	uint64_t new_objects, new_bytes;   /* in the later core, not in the earlier */
	struct census_row *freed;    /* in the earlier core, not in the later, by type; bytes first */
	size_t nfreed;
	uint64_t freed_objects, freed_bytes;
};

/* Compare: the top rows that grew, the freed objects by type (an object of
 * the earlier core with no object of its type at its address in the later
 * one), and — when holders_top is not 0 — the objects of the later core
 * that hold most of what is new in it (an address the earlier core has no
 * object of that type at).  The indexes must be finished; builds each
 * core's reference graph in turn.  Returns 0 (free with growth_free), or
 * -1. */
int growth_compare(struct pc_py *pa, struct pc_types *ta, struct objindex *xa,
		   struct pc_py *pb, struct pc_types *tb, struct objindex *xb, size_t top,
		   size_t holders_top, struct growth *out);
void growth_free(struct growth *g);

/* len() of a list, dict, set or deque; false for other types. */
bool growth_length(struct pc_py *py, const struct py_type *t, uint64_t obj, uint64_t *len);

#endif
