/* growth.h — containers that grew between two cores of one process.
 *
 * CPython never moves an object, so a list, dict, set or deque at the same
 * address with the same type in both cores is the same container (unless
 * it was freed and its memory reused by another of its kind — the length
 * rather than the identity then changed, which is what a leak hunter
 * wants to see either way).  The rows are the largest growths in length,
 * each named by its path from a root in the later core.
 */
#ifndef PYCORE_GROWTH_H
#define PYCORE_GROWTH_H

#include "objindex.h"
#include "pytypes.h"

#include <stddef.h>
#include <stdint.h>

struct growth_row {
	uint64_t addr;
	const char *type;            /* owned by the later core's type table */
	uint64_t len[2];             /* before, after */
	uint64_t bytes[2];           /* sys.getsizeof before, after */
	char *path;                  /* in the later core, or NULL */
};

struct retainer;

/* What two cores of one process differ in, object by object. */
struct growth {
	struct growth_row *rows;     /* containers, largest growth in length first */
	size_t nrows;
	struct retainer *holders;    /* who holds most of the new objects (leaks.h) */
	size_t nholders;
	uint64_t new_objects, new_bytes;   /* in the later core, not in the earlier */
};

/* Compare: the top containers by growth, and — when holders_top is not 0 —
 * the objects of the later core that hold most of what the earlier lacks
 * (a new object: an address the earlier core has no object of that type
 * at).  The indexes must be finished.  Returns 0 (free with growth_free),
 * or -1. */
int growth_compare(struct pc_py *pa, struct pc_types *ta, const struct objindex *xa,
		   struct pc_py *pb, struct pc_types *tb, struct objindex *xb, size_t top,
		   size_t holders_top, struct growth *out);
void growth_free(struct growth *g);

/* len() of a list, dict, set or deque; false for other types. */
bool growth_length(struct pc_py *py, const struct py_type *t, uint64_t obj, uint64_t *len);

#endif
