/* census.h — the heap counted by type and by kind, as heapy partitions it.
 *
 * A kind is the object's type name, except for plain dicts, which are
 * named after what owns them: "dict of <type>" for an object's __dict__
 * ("dict of __main__.Session", "dict of module", "dict of type" for class
 * dicts) and "dict (no owner)" for the rest.  Bytes are sys.getsizeof.
 */
#ifndef PYCORE_CENSUS_H
#define PYCORE_CENSUS_H

#include "heap.h"
#include "objindex.h"

#include <stddef.h>
#include <stdint.h>

struct census_row {
	const char *name;            /* owned by the census */
	uint64_t count, bytes;
};

struct census {
	struct census_row *types, *kinds;    /* sorted by bytes, then count, descending */
	size_t ntypes, nkinds;
	uint64_t objects, bytes;
	struct heap_stats heap;
	struct pc_types *type_table; /* every type seen, kept for later analyses */
};

/* Walk the heap and count it (progress may be NULL: see heap_walk); when
 * index is not NULL, also add every object to it (not finished).
 * Returns 0 or -1 with the error. */
int census_take(struct pc_py *py, struct census *out, struct objindex *index,
		heap_progress_fn progress, void *progress_arg);
void census_free(struct census *c);

/* qsort order of census rows: most bytes first, then most objects, then
 * by name. */
int census_row_order(const void *a, const void *b);

/* Rows for a partial census (leaks, growth) from per-type sums indexed as
 * types_at() is: one per type with objects, sorted, names borrowed from
 * types.  Appended to *rows (*n of them so far).  Returns 0, or -1 when
 * out of memory. */
int census_rows_by_type(struct pc_types *types, const uint64_t *count, const uint64_t *bytes,
			struct census_row **rows, size_t *n);

#endif
