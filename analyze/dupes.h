/* dupes.h — str and bytes values stored many times over, and the largest
 * ones: what interning or deduplication would save.
 *
 * Every str and bytes object of the index is hashed by content (its
 * characters, kind and length); equal hashes are grouped after a sort, so
 * the cost is 16 bytes per string for the duration of the search.  Values
 * are shown cut to a preview, or — redacted — as their length and a hash,
 * for reports that leave the machine.
 */
#ifndef PYCORE_DUPES_H
#define PYCORE_DUPES_H

#include "objindex.h"
#include "pytypes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DUPES_PREVIEW 80

struct dupe {
	const char *type;            /* "str" or "bytes" */
	uint64_t addr;               /* one of them */
	uint64_t length;             /* characters or bytes */
	uint64_t count;              /* objects holding this value */
	uint64_t bytes;              /* their sys.getsizeof, together */
	uint64_t wasted;             /* all but one of them */
	char value[DUPES_PREVIEW * 4 + 16];   /* a preview (escaped), or "<redacted: …>" */
};

struct dupe_report {
	struct dupe *duplicates;     /* by wasted bytes, descending */
	size_t nduplicates;
	uint64_t wasted;             /* over every duplicated value */
	struct dupe *largest;        /* the largest single objects */
	size_t nlargest;
};

/* str_type and bytes_type: their indices in the type table (-1: none).
 * Reads only the core and index, so it may run beside other analyses.
 * Returns 0 or -1. */
int dupes_find(struct pc_py *py, int64_t str_type, int64_t bytes_type, const struct objindex *index,
	       size_t top, bool redact, struct dupe_report *out);
void dupes_free(struct dupe_report *d);

/* "<redacted: 12 chars, 3fa9c2e1>": what --redact shows instead of text. */
void dupes_redacted(const char *text, size_t len, const char *unit, char *buf, size_t cap);

#endif
