/* lz4pack.c — the seekable LZ4 container's reader. */
#include "lz4pack.h"

#include "../common/error.h"
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
	uint8_t *packed;         /* one block as stored */
	uint8_t *block;          /* one block decompressed */
	uint64_t cached;         /* index of the block in `block`, or UINT64_MAX */
};

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

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
	return pread(fd, m, 4, 0) == 4 && get32(m) == LZ4PACK_FRAME_MAGIC;
}

static int bad(const char *what)
{
	return pc_fail(PC_EFORMAT, 0, "LZ4 core: %s", what);
}

static int check_frame_header(struct lz4pack *p)
{
	uint8_t h[LZ4PACK_FRAME_HDR_SIZE];

	if (read_at(p->fd, h, sizeof h, 0) < 0)
		return -1;
	if (get32(h) != LZ4PACK_FRAME_MAGIC || h[4] != LZ4PACK_FLG || h[5] != LZ4PACK_BD)
		return bad("not written by pycore-capture (no block index)");
	if ((uint8_t)(xxh32(h + 4, 10, 0) >> 8) != h[14])
		return bad("frame header checksum mismatch");
	if (get64(h + 6) != p->content_size)
		return bad("frame and index disagree on the core size");
	return 0;
}

/* The tail names the index frame; the index lists every block's offset. */
static int load_index(struct lz4pack *p)
{
	uint8_t tail[LZ4PACK_TAIL_SIZE], head[8 + LZ4PACK_INDEX_FIXED];
	uint64_t frame_at, payload, end_mark;
	uint8_t *raw;

	if (p->file_size < LZ4PACK_FRAME_HDR_SIZE + 8 + sizeof head + sizeof tail)
		return bad("file too small");
	if (read_at(p->fd, tail, sizeof tail, p->file_size - sizeof tail) < 0)
		return -1;
	if (memcmp(tail + 8, LZ4PACK_TAIL_MAGIC, 8) != 0)
		return bad("no block index at the end (truncated, or not from pycore-capture)");
	frame_at = get64(tail);
	if (frame_at > p->file_size - sizeof head - sizeof tail ||
	    frame_at < LZ4PACK_FRAME_HDR_SIZE + 8)
		return bad("block index offset out of range");
	if (read_at(p->fd, head, sizeof head, frame_at) < 0)
		return -1;
	payload = get32(head + 4);
	if (get32(head) != LZ4PACK_SKIP_MAGIC || frame_at + 8 + payload != p->file_size ||
	    memcmp(head + 8, LZ4PACK_INDEX_MAGIC, 8) != 0 ||
	    get32(head + 16) != LZ4PACK_INDEX_VERSION)
		return bad("damaged block index header");
	p->block_size = get32(head + 20);
	p->content_size = get64(head + 24);
	p->nblocks = get64(head + 32);
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
	end_mark = frame_at - 8;       /* end mark and content checksum */
	for (uint64_t i = 0; i < p->nblocks; i++)
		p->offsets[i] = get64(raw + i * 8);
	p->offsets[p->nblocks] = end_mark;
	free(raw);
	for (uint64_t i = 0; i < p->nblocks; i++)
		if (p->offsets[i + 1] < 8 || p->offsets[i] > p->offsets[i + 1] - 8 ||
		    (i == 0 && p->offsets[0] != LZ4PACK_FRAME_HDR_SIZE))
			return bad("block offsets out of order");
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
	if (load_index(p) < 0 || check_frame_header(p) < 0)
		goto fail;
	p->packed = malloc(p->block_size + 8);
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

static int load_block(struct lz4pack *p, uint64_t i)
{
	uint64_t at = p->offsets[i], span = p->offsets[i + 1] - at;
	uint64_t want = i + 1 < p->nblocks ? p->block_size
					   : p->content_size - i * p->block_size;
	uint32_t hdr, size;
	int n;

	if (p->cached == i)
		return 0;
	if (span > p->block_size + 8 || read_at(p->fd, p->packed, (size_t)span, at) < 0)
		return span > p->block_size + 8 ? bad("block larger than allowed") : -1;
	hdr = get32(p->packed);
	size = hdr & ~LZ4PACK_STORED_BIT;
	if ((uint64_t)size + 8 != span)
		return bad("block size disagrees with the index");
	if (xxh32(p->packed + 4, size, 0) != get32(p->packed + 4 + size))
		return pc_fail(PC_EFORMAT, 0, "LZ4 core: checksum mismatch in block %llu "
			       "(core bytes %llu..%llu are damaged)", (unsigned long long)i,
			       (unsigned long long)(i * p->block_size),
			       (unsigned long long)(i * p->block_size + want));
	/* The block buffer is about to change: a failure below must not leave
	 * it labelled as the previous block. */
	p->cached = UINT64_MAX;
	if (hdr & LZ4PACK_STORED_BIT) {
		if (size != want)
			return bad("stored block of the wrong size");
		memcpy(p->block, p->packed + 4, size);
	} else {
		n = LZ4_decompress_safe((const char *)p->packed + 4, (char *)p->block,
					(int)size, (int)want);
		if (n < 0 || (uint64_t)n != want)
			return bad("block does not decompress");
	}
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
