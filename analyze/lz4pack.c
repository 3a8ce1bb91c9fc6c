/* lz4pack.c — the seekable LZ4 container's reader. */
#include "lz4pack.h"

#include "../common/error.h"
#include "../common/le.h"
#include "../common/lz4pack.h"
#include "../common/xxh32.h"

#include <errno.h>
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct lz4pack {
	int fd;
	uint64_t file_size, content_size, block_size;
	uint64_t nblocks;
	uint64_t *offsets;       /* nblocks + 1: the last is the end mark */
	uint8_t *packed;         /* one frame as stored */
	uint8_t *block;          /* one block decompressed */
	uint64_t cached;         /* index of the block in `block`, or UINT64_MAX */
};

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pc_fail(PC_EINTERNAL, errno, "reading the LZ4 core");
		if (n == 0)
			return pc_fail(PC_EFORMAT, 0, "LZ4 core is truncated");
		done += (size_t)n;
	}
	return 0;
}

bool lz4pack_is_lz4(int fd)
{
	uint8_t m[4];
	return pread(fd, m, 4, 0) == 4 && le_get32(m) == LZ4PACK_FRAME_MAGIC;
}

static int bad(const char *what)
{
	return pc_fail(PC_EFORMAT, 0, "LZ4 core: %s", what);
}

/* The tail names the index frame; the index lists every block's offset. */
static int load_index(struct lz4pack *p)
{
	uint8_t tail[LZ4PACK_TAIL_SIZE], head[8 + LZ4PACK_INDEX_FIXED];
	uint64_t frame_at, payload;
	uint8_t *raw;

	if (p->file_size < sizeof head + sizeof tail)
		return bad("file too small");
	if (read_at(p->fd, tail, sizeof tail, p->file_size - sizeof tail) < 0)
		return -1;
	if (memcmp(tail + 8, LZ4PACK_TAIL_MAGIC, 8) != 0)
		return bad("no block index at the end (truncated, or not from pycore-capture)");
	frame_at = le_get64(tail);
	if (frame_at > p->file_size - sizeof head - sizeof tail)
		return bad("block index offset out of range");
	if (read_at(p->fd, head, sizeof head, frame_at) < 0)
		return -1;
	payload = le_get32(head + 4);
	if (le_get32(head) != LZ4PACK_SKIP_MAGIC || frame_at + 8 + payload != p->file_size ||
	    memcmp(head + 8, LZ4PACK_INDEX_MAGIC, 8) != 0 ||
	    le_get32(head + 16) != LZ4PACK_INDEX_VERSION)
		return bad("damaged block index header");
	p->block_size = le_get32(head + 20);
	p->content_size = le_get64(head + 24);
	p->nblocks = le_get64(head + 32);
	/* (content + bs - 1) / bs would wrap for a content size near 2^64. */
	if (p->block_size != LZ4PACK_BLOCK_SIZE ||
	    p->nblocks != p->content_size / p->block_size +
			  (p->content_size % p->block_size != 0) ||
	    payload != LZ4PACK_INDEX_FIXED + p->nblocks * 8 + LZ4PACK_TAIL_SIZE)
		return bad("block index does not match the core size");

	p->offsets = malloc((p->nblocks + 1) * sizeof *p->offsets);
	raw = malloc(p->nblocks * 8 + 1);
	if (!p->offsets || !raw) {
		free(raw);
		return pc_fail(PC_EINTERNAL, ENOMEM, "loading the block index");
	}
	if (read_at(p->fd, raw, p->nblocks * 8, frame_at + 8 + LZ4PACK_INDEX_FIXED) < 0) {
		free(raw);
		return -1;
	}
	for (uint64_t i = 0; i < p->nblocks; i++)
		p->offsets[i] = le_get64(raw + i * 8);
	p->offsets[p->nblocks] = frame_at;   /* the last frame ends at the index */
	free(raw);
	for (uint64_t i = 0; i < p->nblocks; i++)
		if (p->offsets[i + 1] < LZ4PACK_FRAME_MIN ||
		    p->offsets[i] > p->offsets[i + 1] - LZ4PACK_FRAME_MIN ||
		    (i == 0 && p->offsets[0] != 0))
			return bad("frame offsets out of order");
	return 0;
}

struct lz4pack *lz4pack_open(int fd)
{
	struct lz4pack *p = calloc(1, sizeof *p);
	struct stat st;

	if (!p) {
		pc_fail(PC_EINTERNAL, ENOMEM, "opening the LZ4 core");
		return NULL;
	}
	p->fd = fd;
	p->cached = UINT64_MAX;
	if (fstat(fd, &st) < 0) {
		pc_fail(PC_EINTERNAL, errno, "opening the LZ4 core");
		goto fail;
	}
	p->file_size = (uint64_t)st.st_size;
	if (load_index(p) < 0)
		goto fail;
	p->packed = malloc(LZ4PACK_FRAME_MAX);
	p->block = malloc(p->block_size);
	if (!p->packed || !p->block) {
		pc_fail(PC_EINTERNAL, ENOMEM, "opening the LZ4 core");
		goto fail;
	}
	return p;
fail:
	lz4pack_close(p);
	return NULL;
}

uint64_t lz4pack_size(const struct lz4pack *p)
{
	return p->content_size;
}

/* A format error in frame i, naming it and the core bytes it holds. */
static int bad_frame(const struct lz4pack *p, uint64_t i, uint64_t len, const char *what)
{
	return pc_fail(PC_EFORMAT, 0, "LZ4 core: frame %llu (core bytes %llu..%llu): %s",
		       (unsigned long long)i, (unsigned long long)(i * p->block_size),
		       (unsigned long long)(i * p->block_size + len), what);
}

/* Decode frame i into p->block: check its header against the index, walk
 * its data blocks within its span, and check its content checksum.  Each
 * data block holds the next min(BD's maximum, what is left) bytes of the
 * block, as the writer cuts it: 64 KiB (BD 0x40), or the whole block in
 * one data block in older containers (BD 0x60). */
static int load_block(struct lz4pack *p, uint64_t i)
{
	uint64_t at = p->offsets[i], span = p->offsets[i + 1] - at, len;
	uint64_t want = i + 1 < p->nblocks ? p->block_size
					   : p->content_size - i * p->block_size;
	/* The data blocks end where the trailer starts; span >= FRAME_MIN
	 * (checked at the open), so this does not wrap. */
	size_t pos = LZ4PACK_FRAME_HDR_SIZE, end = (size_t)span - LZ4PACK_FRAME_TRAILER;
	size_t done = 0;
	uint32_t dmax;

	if (p->cached == i)
		return 0;
	if (span > LZ4PACK_FRAME_MAX)
		return bad_frame(p, i, want, "larger than a frame can be");
	if (read_at(p->fd, p->packed, (size_t)span, at) < 0)
		return -1;
	if (lz4pack_check_frame_header(p->packed, &len, &dmax) < 0 || len != want)
		return bad_frame(p, i, want, "damaged frame header");
	/* The block buffer is about to change: a failure below must not leave
	 * it labelled as the previous block. */
	p->cached = UINT64_MAX;
	/* At most ceil(want / dmax) turns (16, or 1 for BD 0x60): each decodes
	 * exactly its share of the block. */
	while (done < want) {
		size_t expect = want - done < dmax ? (size_t)(want - done) : dmax;
		const uint8_t *data = p->packed + pos + 4;
		uint32_t word, size;
		int n;

		if (end - pos < 4)       /* no room for another size word */
			return bad_frame(p, i, want, "data blocks stop short of the block");
		word = le_get32(p->packed + pos);
		size = word & ~LZ4PACK_STORED_BIT;
		if (word == 0)
			return bad_frame(p, i, want, "end mark before the end of the block");
		if (size > dmax)
			return bad_frame(p, i, want, "data block larger than its BD allows");
		if (size > end - pos - 4)
			return bad_frame(p, i, want, "data block runs past the frame");
		if (word & LZ4PACK_STORED_BIT) {
			if (size != expect)
				return bad_frame(p, i, want, "stored data block of the wrong size");
			memcpy(p->block + done, data, size);
		} else {
			n = LZ4_decompress_safe((const char *)data, (char *)p->block + done,
						(int)size, (int)expect);
			if (n < 0 || (size_t)n != expect)
				return bad_frame(p, i, want, "data block does not decompress");
		}
		pos += 4 + size;
		done += expect;
	}
	if (pos != end || le_get32(p->packed + pos) != 0)
		return bad_frame(p, i, want, "no end mark where the frame ends");
	if (xxh32(p->block, (size_t)want, 0) != le_get32(p->packed + pos + 4))
		return bad_frame(p, i, want, "checksum mismatch (these core bytes are damaged)");
	p->cached = i;
	return 0;
}

ssize_t lz4pack_pread(struct lz4pack *p, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	if (off >= p->content_size)
		return 0;
	if (len > p->content_size - off)
		len = (size_t)(p->content_size - off);
	while (done < len) {
		uint64_t pos = off + done, i = pos / p->block_size;
		size_t in = (size_t)(pos % p->block_size);
		size_t n = (size_t)(p->block_size - in);

		if (n > len - done)
			n = len - done;
		if (load_block(p, i) < 0)
			return -1;
		memcpy((char *)buf + done, p->block + in, n);
		done += n;
	}
	return (ssize_t)done;
}

void lz4pack_close(struct lz4pack *p)
{
	if (!p)
		return;
	free(p->offsets);
	free(p->packed);
	free(p->block);
	free(p);
}
