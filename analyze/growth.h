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

/* The top containers by growth in length.  The indexes must be finished.
 * Returns 0 with *rows (free with growth_free), or -1. */
int growth_find(struct pc_py *pa, struct pc_types *ta, const struct objindex *xa,
		struct pc_py *pb, struct pc_types *tb, struct objindex *xb, size_t top,
		struct growth_row **rows, size_t *n);
void growth_free(struct growth_row *rows, size_t n);

/* len() of a list, dict, set or deque; false for other types. */
bool growth_length(struct pc_py *py, const struct py_type *t, uint64_t obj, uint64_t *len);

#endif
