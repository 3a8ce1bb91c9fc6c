/* sink_raw.c — the ELF core as a sparse file. */
#include "sink.h"

#include "../common/error.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

struct raw_sink {
	struct pc_sink base;
	int fd;
	uint64_t pending_hole;   /* zeros owed before the next write */
};

int write_fully(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pc_fail(PC_EOUTPUT, errno, "writing the core");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int settle_hole(struct raw_sink *s)
{
	if (s->pending_hole == 0)
		return 0;
	if (lseek(s->fd, (off_t)s->pending_hole, SEEK_CUR) < 0)
		return pc_fail(PC_EOUTPUT, errno, "seeking in the core");
	s->pending_hole = 0;
	return 0;
}

static int raw_write(struct pc_sink *base, const void *buf, size_t len)
{
	struct raw_sink *s = (struct raw_sink *)base;
	if (settle_hole(s) < 0 || write_fully(s->fd, buf, len) < 0)
		return -1;
	base->offset += len;
	base->stored += len;
	return 0;
}

static int raw_hole(struct pc_sink *base, uint64_t len)
{
	struct raw_sink *s = (struct raw_sink *)base;
	s->pending_hole += len;
	base->offset += len;
	return 0;
}

static int raw_finish(struct pc_sink *base)
{
	struct raw_sink *s = (struct raw_sink *)base;
	/* A file ending in a hole must still be as long as the program headers
	 * say, or readers call it truncated: extend it without writing. */
	if (s->pending_hole && ftruncate(s->fd, (off_t)base->offset) < 0)
		return pc_fail(PC_EOUTPUT, errno, "extending the core");
	s->pending_hole = 0;
	return 0;
}

static void raw_destroy(struct pc_sink *base)
{
	free(base);
}

struct pc_sink *sink_raw_new(int fd)
{
	struct raw_sink *s = calloc(1, sizeof *s);
	if (!s) {
		pc_fail(PC_EINTERNAL, ENOMEM, "creating the output");
		return NULL;
	}
	s->base.write = raw_write;
	s->base.hole = raw_hole;
	s->base.finish = raw_finish;
	s->base.destroy = raw_destroy;
	s->fd = fd;
	return &s->base;
}
