/* sink.h — where the core's bytes go, written strictly forward.
 *
 * The core writer produces the file in order: bytes (write) and runs of
 * zeros (hole).  A raw sink turns holes into a sparse file; the LZ4 sink
 * packs everything into the seekable container of common/lz4pack.h.
 */
#ifndef PYCORE_SINK_H
#define PYCORE_SINK_H

#include <stddef.h>
#include <stdint.h>

struct pc_sink {
	int (*write)(struct pc_sink *s, const void *buf, size_t len);
	/* Optional: room for the next bytes, to be filled in place (memory
	 * read straight into a compression buffer) and then committed.
	 * reserve gives a pointer and *room > 0, or NULL on error. */
	void *(*reserve)(struct pc_sink *s, size_t *room);
	int (*commit)(struct pc_sink *s, size_t len);
	int (*hole)(struct pc_sink *s, uint64_t len);
	int (*finish)(struct pc_sink *s);      /* all bytes on their way to disk */
	void (*destroy)(struct pc_sink *s);
	uint64_t offset;                       /* logical bytes accepted so far */
	uint64_t stored;                       /* bytes written to the file */
};

/* All return 0 or -1 with the error recorded; the write errors of the
 * output file are PC_EOUTPUT. */
static inline int sink_write(struct pc_sink *s, const void *buf, size_t len)
{
	return s->write(s, buf, len);
}
static inline int sink_hole(struct pc_sink *s, uint64_t len)
{
	return s->hole(s, len);
}
static inline int sink_finish(struct pc_sink *s)
{
	return s->finish(s);
}
static inline void sink_destroy(struct pc_sink *s)
{
	if (s)
		s->destroy(s);
}

/* A plain file; holes become sparse regions.  NULL on error. */
struct pc_sink *sink_raw_new(int fd);

/* The LZ4 container for a core of content_size bytes, compressing on
 * nworkers threads.  NULL on error. */
struct pc_sink *sink_lz4_new(int fd, uint64_t content_size, int nworkers);

/* Write all of buf to fd at its current position, retrying short writes.
 * Returns 0 or -1 (PC_EOUTPUT). */
int write_fully(int fd, const void *buf, size_t len);

#endif
