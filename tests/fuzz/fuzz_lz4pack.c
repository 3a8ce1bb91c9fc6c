/* fuzz_lz4pack.c — pycore's seekable LZ4 container on arbitrary bytes:
 * the index frame at the end, the block table it gives, and reads that
 * decompress blocks at offsets taken from the input itself.
 *
 * Random mutations almost never keep a header checksum, a content
 * checksum and the index's offsets right at once, so without help they
 * stop at the first check and never reach the decoder.  The custom
 * mutator below mutates as libFuzzer would, then, most of the time,
 * repairs what a writer would have computed: each frame's header
 * checksum and content checksum (over its data blocks, for both BD values
 * pycore wrote: 0x40, 64 KiB data blocks, and 0x60, one data block of up to
 * 1 MiB), and an index that lists the frames actually present
 * (docs/lz4-container.md).  The rest of the time the
 * mutation is kept as it is, so the checks themselves stay fuzzed.
 */
#include "fuzz_common.h"

#include "../../analyze/lz4pack.h"
#include "../../common/error.h"
#include "../../common/le.h"
#include "../../common/lz4pack.h"
#include "../../common/xxh32.h"

#include <lz4.h>
#include <string.h>

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/* Most frames an input is given an index for (the seeds have fewer). */
#define MAX_FRAMES 4096

/* Repair the header checksum and the content checksum of the frame at f
 * (n bytes available), walking its data blocks as the reader does: up to
 * 64 KiB each under BD 0x40, up to 1 MiB under 0x60 (older containers; a
 * BD the mutation made up is walked as 0x40).  Returns the frame's length,
 * or 0 when no frame starts there or its data blocks do not end in an end
 * mark inside the input. */
static size_t fix_frame(uint8_t *f, size_t n)
{
	static uint8_t block[LZ4PACK_BLOCK_SIZE];
	size_t pos = LZ4PACK_FRAME_HDR_SIZE, done = 0;
	uint32_t dmax;

	if (n < LZ4PACK_FRAME_MIN || le_get32(f) != LZ4PACK_FRAME_MAGIC)
		return 0;
	dmax = f[5] == LZ4PACK_BD_V1 ? LZ4PACK_BLOCK_SIZE : LZ4PACK_DATA_BLOCK_SIZE;
	for (;;) {            /* each turn moves pos on by 4 bytes or more */
		uint32_t word, len;
		const uint8_t *data = f + pos + 4;
		size_t room = sizeof block - done;

		if (n - pos < LZ4PACK_FRAME_TRAILER)
			return 0;
		word = le_get32(f + pos);
		if (word == 0)
			break;                         /* the end mark */
		if (n - pos < 4 + LZ4PACK_FRAME_TRAILER)
			return 0;
		len = word & ~LZ4PACK_STORED_BIT;
		if (len > n - pos - 4 - LZ4PACK_FRAME_TRAILER || len > dmax)
			return 0;
		if (word & LZ4PACK_STORED_BIT) {
			size_t k = len < room ? len : room;
			memcpy(block + done, data, k);
			done += k;
		} else {
			int got = LZ4_decompress_safe((const char *)data, (char *)block + done,
						      (int)len, (int)(room < dmax ? room : dmax));
			if (got > 0)
				done += (size_t)got;
		}
		pos += 4 + len;
	}
	f[14] = (uint8_t)(xxh32(f + 4, 10, 0) >> 8);
	le_put32(f + pos + 4, xxh32(block, done, 0));
	return pos + LZ4PACK_FRAME_TRAILER;
}

/* Replace whatever follows the frames at offsets[0..n) (ending at end)
 * with the index a writer would have put there; the new size, or 0 when
 * it does not fit in max_size. */
static size_t put_index(uint8_t *data, size_t max_size, const uint64_t *offsets,
			size_t n, size_t end, uint64_t last_len)
{
	size_t payload = LZ4PACK_INDEX_FIXED + 8 * n + LZ4PACK_TAIL_SIZE;
	uint8_t *p = data + end;

	if (end + 8 + payload > max_size)
		return 0;
	le_put32(p, LZ4PACK_SKIP_MAGIC);
	le_put32(p + 4, (uint32_t)payload);
	memcpy(p + 8, LZ4PACK_INDEX_MAGIC, 8);
	le_put32(p + 16, LZ4PACK_INDEX_VERSION);
	le_put32(p + 20, LZ4PACK_BLOCK_SIZE);
	/* All frames but the last are full blocks, so the count always
	 * matches the content size and the reader goes on to the frames. */
	le_put64(p + 24, n ? (n - 1) * (uint64_t)LZ4PACK_BLOCK_SIZE + last_len : 0);
	le_put64(p + 32, n);
	for (size_t i = 0; i < n; i++)
		le_put64(p + 40 + 8 * i, offsets[i]);
	le_put64(p + 40 + 8 * n, end);
	memcpy(p + 48 + 8 * n, LZ4PACK_TAIL_MAGIC, 8);
	return end + 8 + payload;
}

/* Walk the frames back to back from offset 0, repairing each; then
 * rebuild the index behind the last one.  The new size, or 0. */
static size_t fix_container(uint8_t *data, size_t size, size_t max_size)
{
	static uint64_t offsets[MAX_FRAMES];
	size_t n = 0, at = 0, len;
	uint64_t last_len = 0;

	while (n < MAX_FRAMES && (len = fix_frame(data + at, size - at)) != 0) {
		offsets[n++] = at;
		last_len = le_get64(data + at + 6);
		at += len;
	}
	if (last_len == 0 || last_len > LZ4PACK_BLOCK_SIZE)
		last_len = LZ4PACK_BLOCK_SIZE;
	return put_index(data, max_size, offsets, n, at, last_len);
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
	size_t fixed;

	size = LLVMFuzzerMutate(data, size, max_size);
	if (seed % 8 == 0)   /* keep one in eight as mutated: the checks' own paths */
		return size;
	fixed = fix_container(data, size, max_size);
	return fixed ? fixed : size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = fuzz_memfile(data, size);
	struct lz4pack *p;
	uint8_t buf[8192];

	(void)lz4pack_is_lz4(fd);
	p = lz4pack_open(fd);
	if (p) {
		uint64_t total = lz4pack_size(p), at = 0;

		/* Offsets: the start, the end, and a few the input names. */
		(void)lz4pack_pread(p, buf, sizeof buf, 0);
		(void)lz4pack_pread(p, buf, sizeof buf, total ? total - 1 : 0);
		for (uint64_t b = 0; b < total && b < 16 * (uint64_t)LZ4PACK_BLOCK_SIZE;
		     b += LZ4PACK_BLOCK_SIZE)
			(void)lz4pack_pread(p, buf, 1, b);   /* every frame decoded once */
		for (size_t i = 0; i + 8 <= size && i < 64; i += 8) {
			memcpy(&at, data + i, 8);
			(void)lz4pack_pread(p, buf, sizeof buf, total ? at % (total + 16) : at);
		}
		lz4pack_close(p);
	}
	pc_clear_error();
	close(fd);
	return 0;
}
