/* sink_lz4.c — the seekable LZ4 container (common/lz4pack.h), compressed on
 * worker threads while the producer goes on reading memory.
 *
 * Blocks move through a ring of slots: the producer fills one (FREE →
 * READY), a worker compresses it (→ BUSY → DONE), and the writer thread
 * writes DONE blocks strictly in order and frees them.  Blocks are
 * independent, so the workers never wait for each other.
 */
#include "sink.h"

#include "../common/error.h"
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
	size_t in_len, out_len;  /* out_len includes the 4-byte block header */
	bool all_zero;
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

	/* First failure on a worker or the writer, re-raised by the producer. */
	bool failed;
	enum pc_errcode fail_code;
	int fail_errno;
	char fail_msg[256];

	pthread_t writer;
	pthread_t *workers;
	int nworkers, nstarted;
	bool writer_started;

	uint64_t *index;         /* file offset of every block */
	size_t index_cap;
	uint64_t file_pos;

	struct xxh32_state content_hash;  /* of every byte, in order (writer) */

	uint8_t *zero_block;     /* one all-zero block, compressed once */
	size_t zero_block_len;
	uint8_t *zero_input;     /* and its uncompressed bytes, for the hash */
};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void record_failure(struct lz4_sink *s)
{
	pthread_mutex_lock(&s->mu);
	if (!s->failed) {
		s->failed = true;
		s->fail_code = pc_errcode();
		s->fail_errno = pc_errno();
		snprintf(s->fail_msg, sizeof s->fail_msg, "%s", pc_errmsg());
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static int reraise(struct lz4_sink *s)
{
	/* The message already ends with strerror; do not append it twice. */
	return pc_fail(s->fail_code, 0, "%s", s->fail_msg);
}

/* Encode one block: u32 size (bit 31 = stored uncompressed), data, xxh32. */
static void compress_block(struct lz4_sink *s, struct slot *sl)
{
	uint8_t *data = sl->out + 4;
	int n = 0;
	uint32_t size;

	if (sl->all_zero && sl->in_len == LZ4PACK_BLOCK_SIZE) {
		memcpy(data, s->zero_block, s->zero_block_len);
		n = (int)s->zero_block_len;
	} else {
		n = LZ4_compress_default((const char *)sl->in, (char *)data,
					 (int)sl->in_len, LZ4_compressBound((int)sl->in_len));
	}
	if (n <= 0 || (size_t)n >= sl->in_len) {
		memcpy(data, sl->in, sl->in_len);
		n = (int)sl->in_len;
		size = (uint32_t)n | LZ4PACK_STORED_BIT;
	} else {
		size = (uint32_t)n;
	}
	put32(sl->out, size);
	put32(data + n, xxh32(data, (size_t)n, 0));
	sl->out_len = 4 + (size_t)n + 4;
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
		compress_block(s, sl);
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
		if (sl->all_zero && sl->in_len == LZ4PACK_BLOCK_SIZE)
			xxh32_update(&s->content_hash, s->zero_input, sl->in_len);
		else
			xxh32_update(&s->content_hash, sl->in, sl->in_len);
		int rc = index_push(s, s->file_pos);
		if (rc == 0)
			rc = write_fully(s->fd, sl->out, sl->out_len);
		if (rc < 0) {
			record_failure(s);
			pthread_mutex_lock(&s->mu);
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
	while (sl->state != SLOT_FREE && !s->failed)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	if (s->failed) {
		reraise(s);
		return NULL;
	}
	sl->all_zero = true;
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
			sl->all_zero = false;
			buf = (const char *)buf + n;
		} else if (!(sl->all_zero && s->fill == 0 && n == LZ4PACK_BLOCK_SIZE)) {
			memset(sl->in + s->fill, 0, n);  /* a whole zero block needs no bytes */
		}
		s->fill += n;
		s->base.offset += n;
		len -= n;
		if (s->fill == LZ4PACK_BLOCK_SIZE)
			submit(s, sl);
	}
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
	size_t total = 4 /* end mark */ + 4 /* content checksum */ + 8 + payload;
	uint8_t *buf = malloc(total), *p = buf;
	uint64_t frame_at = s->file_pos + 8;
	int rc;

	if (!buf)
		return pc_fail(PC_EINTERNAL, ENOMEM, "writing the block index");
	put32(p, 0), p += 4;                          /* end of the LZ4 frame */
	put32(p, xxh32_digest(&s->content_hash)), p += 4;
	put32(p, LZ4PACK_SKIP_MAGIC), p += 4;
	put32(p, (uint32_t)payload), p += 4;
	memcpy(p, LZ4PACK_INDEX_MAGIC, 8), p += 8;
	put32(p, LZ4PACK_INDEX_VERSION), p += 4;
	put32(p, LZ4PACK_BLOCK_SIZE), p += 4;
	put64(p, s->content_size), p += 8;
	put64(p, count), p += 8;
	for (size_t i = 0; i < count; i++)
		put64(p, s->index[i]), p += 8;
	put64(p, frame_at), p += 8;
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
	if (s->failed)
		return reraise(s);
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
	free(s->zero_block);
	free(s->zero_input);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

static int write_frame_header(struct lz4_sink *s)
{
	uint8_t h[LZ4PACK_FRAME_HDR_SIZE];

	put32(h, LZ4PACK_FRAME_MAGIC);
	h[4] = LZ4PACK_FLG;
	h[5] = LZ4PACK_BD;
	put64(h + 6, s->content_size);
	h[14] = (uint8_t)(xxh32(h + 4, 10, 0) >> 8);
	s->file_pos = sizeof h;
	return write_fully(s->fd, h, sizeof h);
}

static int compress_zero_block(struct lz4_sink *s)
{
	int bound = LZ4_compressBound(LZ4PACK_BLOCK_SIZE);
	int n;

	s->zero_input = calloc(1, LZ4PACK_BLOCK_SIZE);
	s->zero_block = malloc((size_t)bound);
	if (!s->zero_input || !s->zero_block)
		return pc_fail(PC_EINTERNAL, ENOMEM, "creating the LZ4 output");
	n = LZ4_compress_default((const char *)s->zero_input, (char *)s->zero_block,
				 LZ4PACK_BLOCK_SIZE, bound);
	if (n <= 0)
		return pc_fail(PC_EINTERNAL, 0, "LZ4 compression failed");
	s->zero_block_len = (size_t)n;
	return 0;
}

struct pc_sink *sink_lz4_new(int fd, uint64_t content_size, int nworkers)
{
	struct lz4_sink *s = calloc(1, sizeof *s);
	size_t out_cap = (size_t)LZ4_compressBound(LZ4PACK_BLOCK_SIZE) + 8;

	if (!s) {
		pc_fail(PC_EINTERNAL, ENOMEM, "creating the LZ4 output");
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->base.write = lz4_write;
	s->base.hole = lz4_hole;
	s->base.finish = lz4_finish;
	s->base.destroy = lz4_destroy;
	s->fd = fd;
	s->content_size = content_size;
	xxh32_init(&s->content_hash, 0);
	s->nworkers = nworkers < 1 ? 1 : nworkers;
	s->nslots = (size_t)s->nworkers * 2 + 2;
	s->slots = calloc(s->nslots, sizeof *s->slots);
	s->workers = calloc((size_t)s->nworkers, sizeof *s->workers);
	if (!s->slots || !s->workers)
		goto nomem;
	for (size_t i = 0; i < s->nslots; i++) {
		s->slots[i].in = malloc(LZ4PACK_BLOCK_SIZE);
		s->slots[i].out = malloc(out_cap);
		if (!s->slots[i].in || !s->slots[i].out)
			goto nomem;
	}
	if (compress_zero_block(s) < 0 || write_frame_header(s) < 0)
		goto fail;
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
