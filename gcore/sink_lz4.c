/* sink_lz4.c — the seekable LZ4 container (common/lz4pack.h), compressed on
 * worker threads while the producer goes on reading memory.
 *
 * Blocks (1 MiB of core each) move through a ring of slots: the producer
 * fills one (FREE → READY), a worker turns it into a complete LZ4 frame of
 * 64 KiB data blocks, checksum included (→ BUSY → DONE), and the writer
 * thread writes DONE frames strictly in order and frees them.  A slot is
 * still a whole block: locking per data block would cost what the smaller
 * data blocks save.  Frames are independent, so the workers never wait
 * for each other and nothing is computed serially over the whole core.
 */
#include "sink.h"

#include "../common/error.h"
#include "../common/le.h"
#include "../common/lz4pack.h"
#include "../common/xxh32.h"

#include <errno.h>
#include <lz4.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum slot_state { SLOT_FREE, SLOT_READY, SLOT_BUSY, SLOT_DONE };

struct slot {
	enum slot_state state;
	uint8_t *in, *out;
	size_t in_len, out_len;  /* out: the whole frame */
};

struct lz4_sink {
	struct pc_sink base;
	int fd;
	uint64_t content_size;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct slot *slots;
	size_t nslots;
	uint64_t submitted;      /* blocks handed to workers (seq of next fill) */
	uint64_t taken;          /* blocks a worker has started */
	uint64_t written;        /* blocks on disk */
	size_t fill;             /* bytes in the block being filled */
	bool closing, aborting;

	/* First failure on the writer, re-raised by the producer. */
	struct pc_error_box failure;

	pthread_t writer;
	pthread_t *workers;
	int nworkers, nstarted;
	bool writer_started;

	uint64_t *index;         /* file offset of every block */
	size_t index_cap;
	uint64_t file_pos;

};


/* Largest a frame can be while it is built: each data block is given room
 * for LZ4_compressBound() of its input (it is then stored if that is not
 * smaller than the input). */
#define FRAME_BUILD_CAP ((size_t)LZ4PACK_FRAME_HDR_SIZE + LZ4PACK_FRAME_TRAILER + \
			 LZ4PACK_DATA_BLOCKS * (4 + (size_t)LZ4_COMPRESSBOUND(LZ4PACK_DATA_BLOCK_SIZE)))

/* Build one frame from the block in[0..len), 0 < len <= 1 MiB: header, data
 * blocks of 64 KiB of the block each (compressed independently, or stored
 * when compression does not make them smaller), end mark, content
 * checksum.  Returns its length. */
static size_t build_frame(const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t *p = out + LZ4PACK_FRAME_HDR_SIZE;

	for (size_t at = 0; at < len; at += LZ4PACK_DATA_BLOCK_SIZE) {
		int src = (int)(len - at < LZ4PACK_DATA_BLOCK_SIZE ? len - at
								     : LZ4PACK_DATA_BLOCK_SIZE);
		int n = LZ4_compress_default((const char *)in + at, (char *)p + 4, src,
					     LZ4_compressBound(src));
		uint32_t word = (uint32_t)n;

		if (n <= 0 || n >= src) {
			memcpy(p + 4, in + at, (size_t)src);
			n = src;
			word = (uint32_t)src | LZ4PACK_STORED_BIT;
		}
		le_put32(p, word);
		p += 4 + (size_t)n;
	}
	lz4pack_put_frame_header(out, len);
	le_put32(p, 0);                        /* end mark */
	le_put32(p + 4, xxh32(in, len, 0));
	return (size_t)(p - out) + LZ4PACK_FRAME_TRAILER;
}


static void *worker_main(void *arg)
{
	struct lz4_sink *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->aborting && s->taken == s->submitted && !s->closing)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->aborting || s->taken == s->submitted)
			break;
		struct slot *sl = &s->slots[s->taken++ % s->nslots];
		sl->state = SLOT_BUSY;
		pthread_mutex_unlock(&s->mu);
		sl->out_len = build_frame(sl->in, sl->in_len, sl->out);
		pthread_mutex_lock(&s->mu);
		sl->state = SLOT_DONE;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static int index_push(struct lz4_sink *s, uint64_t off)
{
	size_t n = (size_t)s->written;
	if (n == s->index_cap) {
		size_t ncap = s->index_cap ? s->index_cap * 2 : 1024;
		uint64_t *nv = realloc(s->index, ncap * sizeof *nv);
		if (!nv)
			return pc_fail(PC_EINTERNAL, ENOMEM, "growing the block index");
		s->index = nv;
		s->index_cap = ncap;
	}
	s->index[n] = off;
	return 0;
}

static void *writer_main(void *arg)
{
	struct lz4_sink *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct slot *sl = &s->slots[s->written % s->nslots];
		while (!s->aborting && !(s->written < s->submitted && sl->state == SLOT_DONE) &&
		       !(s->closing && s->written == s->submitted))
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->aborting || s->written == s->submitted)
			break;
		pthread_mutex_unlock(&s->mu);
		int rc = index_push(s, s->file_pos);
		if (rc == 0)
			rc = write_fully(s->fd, sl->out, sl->out_len);
		if (rc < 0) {
			pthread_mutex_lock(&s->mu);
			pc_error_capture(&s->failure);
			s->aborting = true;
			pthread_cond_broadcast(&s->cv);
			break;
		}
		pthread_mutex_lock(&s->mu);
		s->file_pos += sl->out_len;
		s->base.stored = s->file_pos;
		sl->state = SLOT_FREE;
		s->written++;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* The slot being filled, waiting for the writer to free it if need be.
 * NULL (with the error raised) when the pipeline failed. */
static struct slot *fill_slot(struct lz4_sink *s)
{
	struct slot *sl = &s->slots[s->submitted % s->nslots];
	if (s->fill > 0)
		return sl;
	pthread_mutex_lock(&s->mu);
	while (sl->state != SLOT_FREE && !s->failure.failed)
		pthread_cond_wait(&s->cv, &s->mu);
	if (s->failure.failed) {      /* raised under the lock: the writer fills it */
		pc_error_raise(&s->failure);
		sl = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	if (!sl)
		return NULL;
	return sl;
}

static void submit(struct lz4_sink *s, struct slot *sl)
{
	pthread_mutex_lock(&s->mu);
	sl->in_len = s->fill;
	sl->state = SLOT_READY;
	s->submitted++;
	s->fill = 0;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Append len bytes of buf, or of zeros when buf is NULL. */
static int append(struct lz4_sink *s, const void *buf, uint64_t len)
{
	if (s->base.offset + len > s->content_size)
		return pc_fail(PC_EINTERNAL, 0, "core larger than planned");
	while (len > 0) {
		struct slot *sl = fill_slot(s);
		size_t room = LZ4PACK_BLOCK_SIZE - s->fill;
		size_t n = len < room ? (size_t)len : room;

		if (!sl)
			return -1;
		if (buf) {
			memcpy(sl->in + s->fill, buf, n);
			buf = (const char *)buf + n;
		} else {
			memset(sl->in + s->fill, 0, n);
		}
		s->fill += n;
		s->base.offset += n;
		len -= n;
		if (s->fill == LZ4PACK_BLOCK_SIZE)
			submit(s, sl);
	}
	return 0;
}

static void *lz4_reserve(struct pc_sink *base, size_t *room)
{
	struct lz4_sink *s = (struct lz4_sink *)base;
	struct slot *sl = fill_slot(s);

	if (!sl)
		return NULL;
	*room = LZ4PACK_BLOCK_SIZE - s->fill;
	return sl->in + s->fill;
}

static int lz4_commit(struct pc_sink *base, size_t len)
{
	struct lz4_sink *s = (struct lz4_sink *)base;
	struct slot *sl = &s->slots[s->submitted % s->nslots];

	if (len > LZ4PACK_BLOCK_SIZE - s->fill || base->offset + len > s->content_size)
		return pc_fail(PC_EINTERNAL, 0, "core larger than planned");
	s->fill += len;
	base->offset += len;
	if (s->fill == LZ4PACK_BLOCK_SIZE)
		submit(s, sl);
	return 0;
}

static int lz4_write(struct pc_sink *base, const void *buf, size_t len)
{
	return append((struct lz4_sink *)base, buf, len);
}

static int lz4_hole(struct pc_sink *base, uint64_t len)
{
	return append((struct lz4_sink *)base, NULL, len);
}

static void stop_threads(struct lz4_sink *s, bool abort)
{
	pthread_mutex_lock(&s->mu);
	s->closing = true;
	if (abort)
		s->aborting = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < s->nstarted; i++)
		pthread_join(s->workers[i], NULL);
	if (s->writer_started)
		pthread_join(s->writer, NULL);
	s->nstarted = 0;
	s->writer_started = false;
}

static int write_index(struct lz4_sink *s)
{
	size_t count = (size_t)s->written;
	size_t payload = LZ4PACK_INDEX_FIXED + count * 8 + LZ4PACK_TAIL_SIZE;
	size_t total = 8 + payload;
	uint8_t *buf = malloc(total), *p = buf;
	uint64_t frame_at = s->file_pos;
	int rc;

	if (!buf)
		return pc_fail(PC_EINTERNAL, ENOMEM, "writing the block index");
	le_put32(p, LZ4PACK_SKIP_MAGIC), p += 4;
	le_put32(p, (uint32_t)payload), p += 4;
	memcpy(p, LZ4PACK_INDEX_MAGIC, 8), p += 8;
	le_put32(p, LZ4PACK_INDEX_VERSION), p += 4;
	le_put32(p, LZ4PACK_BLOCK_SIZE), p += 4;
	le_put64(p, s->content_size), p += 8;
	le_put64(p, count), p += 8;
	for (size_t i = 0; i < count; i++)
		le_put64(p, s->index[i]), p += 8;
	le_put64(p, frame_at), p += 8;
	memcpy(p, LZ4PACK_TAIL_MAGIC, 8), p += 8;
	rc = write_fully(s->fd, buf, total);
	if (rc == 0)
		s->base.stored = s->file_pos + total;
	free(buf);
	return rc;
}

static int lz4_finish(struct pc_sink *base)
{
	struct lz4_sink *s = (struct lz4_sink *)base;

	if (s->fill > 0)
		submit(s, &s->slots[s->submitted % s->nslots]);
	stop_threads(s, false);
	if (s->failure.failed)
		return pc_error_raise(&s->failure);
	if (base->offset != s->content_size)
		return pc_fail(PC_EINTERNAL, 0, "core size %llu differs from the planned %llu",
			       (unsigned long long)base->offset,
			       (unsigned long long)s->content_size);
	return write_index(s);
}

static void lz4_destroy(struct pc_sink *base)
{
	struct lz4_sink *s = (struct lz4_sink *)base;

	stop_threads(s, true);
	for (size_t i = 0; s->slots && i < s->nslots; i++) {
		free(s->slots[i].in);
		free(s->slots[i].out);
	}
	free(s->slots);
	free(s->workers);
	free(s->index);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

struct pc_sink *sink_lz4_new(int fd, uint64_t content_size, int nworkers)
{
	struct lz4_sink *s = calloc(1, sizeof *s);

	if (!s) {
		pc_fail(PC_EINTERNAL, ENOMEM, "creating the LZ4 output");
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->base.write = lz4_write;
	s->base.reserve = lz4_reserve;
	s->base.commit = lz4_commit;
	s->base.hole = lz4_hole;
	s->base.finish = lz4_finish;
	s->base.destroy = lz4_destroy;
	s->fd = fd;
	s->content_size = content_size;
	s->nworkers = nworkers < 1 ? 1 : nworkers;
	s->nslots = (size_t)s->nworkers * 2 + 2;
	s->slots = calloc(s->nslots, sizeof *s->slots);
	s->workers = calloc((size_t)s->nworkers, sizeof *s->workers);
	if (!s->slots || !s->workers)
		goto nomem;
	for (size_t i = 0; i < s->nslots; i++) {
		s->slots[i].in = malloc(LZ4PACK_BLOCK_SIZE);
		s->slots[i].out = malloc(FRAME_BUILD_CAP);
		if (!s->slots[i].in || !s->slots[i].out)
			goto nomem;
	}
	if (pthread_create(&s->writer, NULL, writer_main, s) != 0)
		goto nothread;
	s->writer_started = true;
	for (int i = 0; i < s->nworkers; i++) {
		if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0)
			goto nothread;
		s->nstarted = i + 1;
	}
	return &s->base;
nothread:
	pc_fail(PC_EINTERNAL, errno, "starting compression threads");
	goto fail;
nomem:
	pc_fail(PC_EINTERNAL, ENOMEM, "creating the LZ4 output");
fail:
	lz4_destroy(&s->base);
	return NULL;
}
