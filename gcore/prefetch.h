/* prefetch.h — read a core's memory on a thread of its own, a few batches
 * ahead of the writer, so reading the target overlaps writing the file.
 *
 * Batches come out in core order: every mapping with a dump length, from
 * its start, in pieces of at most batch_size bytes (a multiple of the page
 * size).  The reader also marks the pages that are all zeros, which the
 * writer leaves as holes: scanning them on the reader's CPU, while the
 * batch is still in its cache, keeps the writer free to write.
 */
#ifndef PYCORE_PREFETCH_H
#define PYCORE_PREFETCH_H

#include "memread.h"
#include "procmaps.h"

#include <stddef.h>
#include <stdint.h>

struct pc_prefetch;

struct pc_batch {
	const uint8_t *data;
	size_t len;
	size_t map_index;        /* which mapping it belongs to */
	size_t unreadable;       /* bytes read as zeros (pages we could not read) */
	const uint8_t *zero_page;  /* per PREFETCH_PAGE bytes of data: 1 if all zeros */
};

#define PREFETCH_PAGE 4096u

/* Start reading.  NULL with the error recorded. */
struct pc_prefetch *prefetch_start(const struct pc_maplist *maps, const uint64_t *dump_len,
				   struct pc_memreader *mem, size_t batch_size);

/* Wait for the next batch.  Returns 1 with *b filled, 0 when all is read,
 * -1 when reading failed (the reader's error is raised here).  Each batch
 * must be given back with prefetch_release() before asking for the next. */
int prefetch_next(struct pc_prefetch *p, struct pc_batch *b);
void prefetch_release(struct pc_prefetch *p);

/* Stop the reader (if still running) and free everything. */
void prefetch_stop(struct pc_prefetch *p);

#endif
