/* test_lz4pack.c — the seekable LZ4 container (common/lz4pack.h): written by
 * sink_lz4 (gcore/sink_lz4.c), read back by lz4pack (analyze/lz4pack.c) and
 * by the real `lz4 -d`, compared with sink_raw's sparse file, and damaged
 * in the ways a disk or a bad copy damages files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../analyze/lz4pack.h"
#include "../../common/error.h"
#include "../../common/lz4pack.h"
#include "../../common/xxh32.h"
#include "../../gcore/sink.h"

#define MiB (1024u * 1024u)

static char tmpdir[128];

/* ------------------------------------------------------------------ */
/* Synthetic core streams                                              */

/* 'T' compressible text, 'R' incompressible bytes, 'Z' zeros written as
 * data, 'H' a hole (zeros the sink is told to skip). */
struct op {
	char kind;
	uint64_t len;
};

#define END { 0, 0 }
static const struct op ops_mixed[] = {
	{ 'T', 1000 }, { 'H', 2 * MiB + 17 }, { 'R', 1258291 }, { 'H', 5000 },
	{ 'T', 300000 }, { 'Z', 70000 }, { 'R', 100 }, { 'H', MiB + 333 }, END,
};
static const struct op ops_exact3[] = {   /* exactly 3 MiB; block 1 all hole */
	{ 'R', MiB - 10 }, { 'H', MiB + 10 }, { 'T', MiB }, END,
};
static const struct op ops_holes2[] = { { 'H', 2 * MiB }, END };
static const struct op ops_few[] = { { 'T', 7 }, END };
static const struct op ops_empty[] = { END };
static const struct op ops_block_plus_one[] = { { 'T', MiB }, { 'R', 1 }, END };
static const struct op ops_small3[] = { { 'T', 2 * MiB + 100 }, END };

struct stream {
	const char *name;
	const struct op *ops;
	uint8_t *content;
	uint64_t size;
};

static struct stream streams[] = {
	{ "mixed", ops_mixed, NULL, 0 },
	{ "exact 3 MiB", ops_exact3, NULL, 0 },
	{ "2 MiB of holes", ops_holes2, NULL, 0 },
	{ "7 bytes", ops_few, NULL, 0 },
	{ "empty", ops_empty, NULL, 0 },
	{ "1 MiB + 1", ops_block_plus_one, NULL, 0 },
	{ "small, 3 blocks", ops_small3, NULL, 0 },
};
#define NSTREAMS (sizeof streams / sizeof streams[0])
enum { S_MIXED, S_EXACT3, S_HOLES2, S_FEW, S_EMPTY, S_PLUS1, S_SMALL3 };

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static void build_content(struct stream *s)
{
	uint64_t size = 0, at = 0;
	for (const struct op *o = s->ops; o->kind; o++)
		size += o->len;
	s->size = size;
	s->content = calloc(1, size ? size : 1);
	assert_non_null(s->content);
	rng_state = 0x9E3779B97F4A7C15ull;
	for (const struct op *o = s->ops; o->kind; o++) {
		uint8_t *p = s->content + at;
		if (o->kind == 'R') {
			for (uint64_t i = 0; i < o->len; i++)
				p[i] = (uint8_t)(rng() >> 56);
		} else if (o->kind == 'T') {
			static const char words[] = "PyObject ob_refcnt ob_type tp_name "
						    "frame f_code co_name heap arena ";
			for (uint64_t i = 0; i < o->len; i++)
				p[i] = i % 4099 < 7 ? (uint8_t)('0' + (i / 4099) % 10)
						    : (uint8_t)words[i % (sizeof words - 1)];
		}
		at += o->len;
	}
}

/* Feed a stream to a sink in awkward pieces. */
static void feed(struct pc_sink *k, const struct stream *s)
{
	static const uint64_t pieces[] = { 1, 4095, 65536, 777777, 3, 1048576, 131 };
	uint64_t at = 0;
	size_t pi = 0;

	for (const struct op *o = s->ops; o->kind; o++) {
		if (o->kind == 'H') {
			uint64_t first = o->len > 3 ? o->len / 3 : o->len;
			assert_int_equal(sink_hole(k, first), 0);
			if (o->len > first)
				assert_int_equal(sink_hole(k, o->len - first), 0);
		} else {
			for (uint64_t done = 0; done < o->len;) {
				uint64_t n = pieces[pi++ % (sizeof pieces / sizeof pieces[0])];
				if (n > o->len - done)
					n = o->len - done;
				assert_int_equal(sink_write(k, s->content + at + done, (size_t)n), 0);
				done += n;
			}
		}
		at += o->len;
		assert_int_equal(k->offset, at);
	}
}

/* ------------------------------------------------------------------ */
/* Files                                                               */

struct tmp {
	char path[192];
};

static int tmp_open(struct tmp *t)
{
	int fd;
	snprintf(t->path, sizeof t->path, "%s/core-XXXXXX", tmpdir);
	fd = mkstemp(t->path);
	assert_true(fd >= 0);
	return fd;
}

static void tmp_remove(struct tmp *t)
{
	unlink(t->path);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	uint8_t *buf;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void spill(struct tmp *t, const uint8_t *buf, size_t len)
{
	int fd = tmp_open(t);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void write_lz4(struct tmp *t, const struct stream *s, int nworkers)
{
	int fd = tmp_open(t);
	struct pc_sink *k;
	struct stat st;

	pc_clear_error();
	k = sink_lz4_new(fd, s->size, nworkers);
	assert_non_null(k);
	feed(k, s);
	assert_int_equal(sink_finish(k), 0);
	assert_int_equal(k->offset, s->size);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(k->stored, (uint64_t)st.st_size);
	sink_destroy(k);
	close(fd);
}

static void write_raw(struct tmp *t, const struct stream *s)
{
	int fd = tmp_open(t);
	struct pc_sink *k = sink_raw_new(fd);
	uint64_t data = 0;

	assert_non_null(k);
	feed(k, s);
	assert_int_equal(sink_finish(k), 0);
	assert_int_equal(k->offset, s->size);
	for (const struct op *o = s->ops; o->kind; o++)
		data += o->kind == 'H' ? 0 : o->len;
	assert_int_equal(k->stored, data);
	sink_destroy(k);
	close(fd);
}

struct opened {
	int fd;
	struct lz4pack *p;
};

static struct lz4pack *open_pack(const char *path, struct opened *o)
{
	o->fd = open(path, O_RDONLY);
	assert_true(o->fd >= 0);
	pc_clear_error();
	o->p = lz4pack_open(o->fd);
	return o->p;
}

static void close_pack(struct opened *o)
{
	lz4pack_close(o->p);
	close(o->fd);
}

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

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* The container's index, parsed here independently of the reader. */
struct layout {
	uint64_t index_at;       /* file offset of the skippable index frame */
	uint64_t count, csize;   /* frame count, core size */
	size_t offsets_at;       /* file offset of the index entry of frame 0 */
};

static void parse_layout(const uint8_t *f, size_t n, struct layout *L)
{
	const uint64_t min = 8 + LZ4PACK_INDEX_FIXED + LZ4PACK_TAIL_SIZE;

	assert_true(n >= min);
	assert_memory_equal(f + n - 8, LZ4PACK_TAIL_MAGIC, 8);
	L->index_at = get64(f + n - 16);
	assert_true(L->index_at <= n - min);
	assert_int_equal(get32(f + L->index_at), LZ4PACK_SKIP_MAGIC);
	L->csize = get64(f + L->index_at + 8 + 16);
	L->count = get64(f + L->index_at + 8 + 24);
	assert_int_equal(L->index_at + min + 8 * L->count, n);
	L->offsets_at = (size_t)L->index_at + 8 + LZ4PACK_INDEX_FIXED;
}

/* File offset of frame i, from the index; and of its index entry. */
static uint64_t frame_off(const uint8_t *f, const struct layout *L, uint64_t i)
{
	return get64(f + L->offsets_at + 8 * i);
}

static size_t entry_of(const struct layout *L, uint64_t i)
{
	return L->offsets_at + 8 * (size_t)i;
}

/* One data block of a frame: u32 size word | data. */
struct dblock {
	uint64_t word_at, data_at;
	uint32_t word, size;     /* the size word and its length bits */
	bool stored;
};

/* One frame of an undamaged container, field by field:
 *   at: magic | FLG | BD | u64 content size | HC
 *   d[0..nd): data blocks, each u32 size word | data
 *   mark_at: u32 0 (end mark) | sum_at: u32 xxh32(content) | end */
struct frame {
	uint64_t at, end;
	uint8_t bd;
	unsigned nd, nstored;    /* data blocks, and how many are stored */
	struct dblock d[LZ4PACK_DATA_BLOCKS];
	uint64_t mark_at, sum_at;
};

static void frame_of(const uint8_t *f, const struct layout *L, uint64_t i, struct frame *F)
{
	uint64_t pos;

	assert_true(i < L->count);
	F->at = frame_off(f, L, i);
	F->end = i + 1 < L->count ? frame_off(f, L, i + 1) : L->index_at;
	assert_true(F->at + LZ4PACK_FRAME_MIN <= F->end);
	F->bd = f[F->at + 5];
	F->nd = F->nstored = 0;
	for (pos = F->at + LZ4PACK_FRAME_HDR_SIZE; get32(f + pos) != 0;) {
		struct dblock *D = &F->d[F->nd++];

		assert_true(F->nd <= LZ4PACK_DATA_BLOCKS);
		D->word_at = pos;
		D->data_at = pos + 4;
		D->word = get32(f + pos);
		D->size = D->word & ~LZ4PACK_STORED_BIT;
		D->stored = (D->word & LZ4PACK_STORED_BIT) != 0;
		F->nstored += D->stored;
		pos += 4 + (uint64_t)D->size;
		assert_true(pos + LZ4PACK_FRAME_TRAILER <= F->end);
	}
	F->mark_at = pos;
	F->sum_at = pos + 4;
	assert_int_equal(F->sum_at + 4, F->end);
}

/* The first, a middle and the last data block of F (some may repeat). */
static unsigned some_dblocks(const struct frame *F, unsigned which[3])
{
	which[0] = 0;
	which[1] = F->nd / 2;
	which[2] = F->nd - 1;
	return F->nd == 1 ? 1 : F->nd == 2 ? 2 : 3;
}

/* Length of block i of a core of csize bytes. */
static uint64_t block_len(uint64_t csize, uint64_t i)
{
	return csize - i * MiB < MiB ? csize - i * MiB : MiB;
}

/* The container pycore wrote before 64 KiB data blocks, built here by
 * hand from its description: BD 0x60 (data blocks up to 1 MiB) and one
 * data block per frame, compressed, or stored when that is not smaller;
 * the same index.  Returns the file; *n its size. */
static uint8_t *v1_container(const struct stream *s, size_t *n)
{
	uint64_t nblocks = (s->size + MiB - 1) / MiB, pos = 0;
	size_t cap = (size_t)nblocks * (LZ4_COMPRESSBOUND(MiB) + 27) + 56 + 8 * (size_t)nblocks;
	uint8_t *f = malloc(cap), *x;
	uint64_t *offsets = malloc(nblocks * 8 + 8);

	assert_non_null(f);
	assert_non_null(offsets);
	for (uint64_t i = 0; i < nblocks; i++) {
		uint8_t *h = f + pos;
		uint64_t want = block_len(s->size, i);
		const uint8_t *core = s->content + i * MiB;
		int c = LZ4_compress_default((const char *)core, (char *)h + 19, (int)want,
					     LZ4_compressBound((int)want));
		uint32_t word = (uint32_t)c;

		put32(h, 0x184D2204);
		h[4] = 0x6C;
		h[5] = 0x60;
		put64(h + 6, want);
		h[14] = (uint8_t)(xxh32(h + 4, 10, 0) >> 8);
		if (c <= 0 || (uint64_t)c >= want) {
			memcpy(h + 19, core, want);
			c = (int)want;
			word = (uint32_t)want | 0x80000000u;
		}
		put32(h + 15, word);
		put32(h + 19 + c, 0);
		put32(h + 23 + c, xxh32(core, want, 0));
		offsets[i] = pos;
		pos += 27 + (uint64_t)c;
	}
	x = f + pos;
	put32(x, 0x184D2A50);
	put32(x + 4, (uint32_t)(32 + 8 * nblocks + 16));
	memcpy(x + 8, "PYCZIDX1", 8);
	put32(x + 16, 1);
	put32(x + 20, MiB);
	put64(x + 24, s->size);
	put64(x + 32, nblocks);
	for (uint64_t i = 0; i < nblocks; i++)
		put64(x + 40 + 8 * i, offsets[i]);
	put64(x + 40 + 8 * nblocks, pos);
	memcpy(x + 48 + 8 * nblocks, "PYCZTAIL", 8);
	*n = (size_t)(pos + 56 + 8 * nblocks);
	free(offsets);
	return f;
}

/* ------------------------------------------------------------------ */
/* Reads                                                               */

/* pread at off and compare with the stream; bytes past what was read must
 * stay untouched. */
static void check_read(struct lz4pack *p, const struct stream *s, uint64_t off, size_t len)
{
	uint8_t *buf = malloc(len + 16);
	size_t want = off >= s->size ? 0 : (size_t)(s->size - off < len ? s->size - off : len);
	ssize_t n;

	assert_non_null(buf);
	memset(buf, 0xA5, len + 16);
	n = lz4pack_pread(p, buf, len, off);
	if (n != (ssize_t)want)
		fail_msg("%s: pread(%zu at %llu) = %zd, want %zu (%s)", s->name, len,
			 (unsigned long long)off, n, want, pc_errmsg());
	if (want && memcmp(buf, s->content + off, want) != 0)
		fail_msg("%s: pread(%zu at %llu): wrong bytes", s->name, len,
			 (unsigned long long)off);
	for (size_t i = want; i < len + 16; i++)
		if (buf[i] != 0xA5)
			fail_msg("%s: pread(%zu at %llu) wrote past %zu bytes", s->name, len,
				 (unsigned long long)off, want);
	free(buf);
}

static void test_container_round_trip_at_random_offsets(void **state)
{
	(void)state;
	for (size_t si = 0; si < NSTREAMS; si++) {
	    for (int v1 = 0; v1 < 2; v1++) {
		const struct stream *s = &streams[si];
		uint64_t nblocks = (s->size + MiB - 1) / MiB;
		struct tmp t;
		struct opened o;
		struct lz4pack *p;

		if (v1) {        /* and the BD 0x60 container older versions wrote */
			size_t n;
			uint8_t *f = v1_container(s, &n);
			spill(&t, f, n);
			free(f);
		} else {
			write_lz4(&t, s, 2);
		}
		p = open_pack(t.path, &o);
		if (!p)
			fail_msg("%s%s: open: %s", s->name, v1 ? " (BD 0x60)" : "", pc_errmsg());
		assert_int_equal(lz4pack_size(p), s->size);

		check_read(p, s, 0, (size_t)s->size);           /* all at once */
		for (uint64_t k = 1; k <= nblocks; k++) {       /* every boundary */
			check_read(p, s, k * MiB - 5, 10);
			check_read(p, s, k * MiB - 1, 1);
			check_read(p, s, k * MiB, 1);
			check_read(p, s, k * MiB - 1, MiB + 2);
		}
		check_read(p, s, s->size, 100);                  /* at and past the end */
		check_read(p, s, s->size + 1, 1);
		check_read(p, s, s->size > 3 ? s->size - 3 : 0, 100);
		check_read(p, s, UINT64_MAX, 8);
		check_read(p, s, UINT64_MAX - 4, 8);
		check_read(p, s, 0, 0);
		rng_state = 0x1234567 + si;
		for (int i = 0; i < 400; i++) {
			uint64_t off = rng() % (s->size + 2000);
			size_t len;
			switch (rng() % 4) {
			case 0: len = (size_t)(rng() % 64); break;
			case 1: len = (size_t)(rng() % 70000); break;
			case 2: len = (size_t)(rng() % (MiB + 100)); break;
			default: len = (size_t)(rng() % (3 * MiB)); break;
			}
			check_read(p, s, off, len);
		}
		/* A length that does not fit in the core is clipped to it. */
		if (s->size) {
			uint8_t *all = malloc((size_t)s->size);
			assert_int_equal(lz4pack_pread(p, all, SIZE_MAX, 0), (ssize_t)s->size);
			assert_memory_equal(all, s->content, (size_t)s->size);
			assert_int_equal(lz4pack_pread(p, all, SIZE_MAX - 10, s->size - 1), 1);
			assert_int_equal(all[0], s->content[s->size - 1]);
			free(all);
		}
		close_pack(&o);
		tmp_remove(&t);
	    }
	}
}

static void test_container_layout_matches_the_documented_format(void **state)
{
	(void)state;
	uint8_t *dec = malloc(MiB);

	assert_non_null(dec);
	/* The constants are the documented values (docs/lz4-container.md). */
	assert_int_equal(LZ4PACK_FRAME_MAGIC, 0x184D2204);
	assert_int_equal(LZ4PACK_SKIP_MAGIC, 0x184D2A50);
	/* FLG: version 01, independent blocks, content size, content checksum;
	 * no block checksum, no dictionary id.  BD: 1 MiB blocks (code 6). */
	assert_int_equal(LZ4PACK_FLG, 0x40 | 0x20 | 0x08 | 0x04);
	assert_int_equal(LZ4PACK_FLG, 0x6C);
	/* BD: data blocks of at most 64 KiB (code 4); older containers, 1 MiB
	 * (code 6).  A block is 1 MiB of core, 16 data blocks. */
	assert_int_equal(LZ4PACK_BD, 4 << 4);
	assert_int_equal(LZ4PACK_BD_V1, 6 << 4);
	assert_int_equal(LZ4PACK_BLOCK_SIZE, MiB);
	assert_int_equal(LZ4PACK_DATA_BLOCK_SIZE, 64 * 1024);
	assert_int_equal(LZ4PACK_DATA_BLOCKS, 16);
	assert_int_equal(LZ4PACK_FRAME_HDR_SIZE, 4 + 1 + 1 + 8 + 1);
	assert_int_equal(LZ4PACK_FRAME_TRAILER, 4 + 4);
	assert_int_equal(LZ4PACK_FRAME_MIN, 27);
	assert_int_equal(LZ4PACK_FRAME_MAX, 15 + 16 * (4 + 64 * 1024) + 8);
	assert_int_equal(LZ4PACK_FRAME_MAX, 1048663);

	for (size_t si = 0; si < NSTREAMS; si++) {
		const struct stream *s = &streams[si];
		struct tmp t;
		size_t n;
		uint8_t *f;
		struct layout L;
		uint64_t pos = 0, nblocks = (s->size + MiB - 1) / MiB;
		uint64_t payload;

		write_lz4(&t, s, 3);
		f = slurp(t.path, &n);
		parse_layout(f, n, &L);
		assert_int_equal(L.count, nblocks);
		assert_int_equal(L.csize, s->size);
		/* Frames back to back from offset 0, one per block, in order. */
		for (uint64_t i = 0; i < nblocks; i++) {
			const uint8_t *h = f + pos;
			uint64_t want = block_len(s->size, i), done = 0, p, nd = 0;
			const uint8_t *core = s->content + i * MiB;

			if (frame_off(f, &L, i) != pos)
				fail_msg("%s: index says frame %llu is at %llu, it is at %llu",
					 s->name, (unsigned long long)i,
					 (unsigned long long)frame_off(f, &L, i),
					 (unsigned long long)pos);
			assert_true(pos + LZ4PACK_FRAME_MIN <= L.index_at);
			/* frame header */
			assert_int_equal(get32(h), 0x184D2204);
			assert_memory_equal(h, "\x04\x22\x4d\x18", 4);
			assert_int_equal(h[4], 0x6C);
			assert_int_equal(h[5], 0x40);
			assert_int_equal(get64(h + 6), want);
			assert_int_equal(h[14], (xxh32(h + 4, 10, 0) >> 8) & 0xff);
			/* its data blocks: the block's bytes 64 KiB at a time, each
			 * compressed on its own, or stored when that is not smaller */
			for (p = pos + 15; done < want; nd++) {
				uint64_t dlen = want - done < 65536 ? want - done : 65536;
				uint32_t word = get32(f + p), size = word & ~LZ4PACK_STORED_BIT;

				assert_true(size > 0 && size <= dlen);
				assert_true(p + 4 + size + 8 <= L.index_at);
				if (word & LZ4PACK_STORED_BIT) {
					assert_int_equal(size, dlen);
					assert_memory_equal(f + p + 4, core + done, dlen);
				} else {
					int got = LZ4_decompress_safe((const char *)f + p + 4,
								      (char *)dec, (int)size,
								      65536);
					assert_true(size < dlen);
					if (got != (int)dlen || memcmp(dec, core + done, dlen) != 0)
						fail_msg("%s: frame %llu data block %llu does not "
							 "decompress to its bytes", s->name,
							 (unsigned long long)i, (unsigned long long)nd);
				}
				p += 4 + size;
				done += dlen;
			}
			assert_int_equal(nd, (want + 65535) / 65536);
			/* end mark, content checksum of the whole block */
			assert_int_equal(get32(f + p), 0);
			assert_int_equal(get32(f + p + 4), xxh32(core, (size_t)want, 0));
			pos = p + 8;
		}
		/* The last frame ends where the skippable index frame begins. */
		assert_int_equal(L.index_at, pos);
		assert_int_equal(get32(f + pos), 0x184D2A50);
		payload = get32(f + pos + 4);
		assert_int_equal(payload, 32 + 8 * nblocks + 16);
		assert_int_equal(pos + 8 + payload, n);
		assert_memory_equal(f + pos + 8, "PYCZIDX1", 8);
		assert_int_equal(get32(f + pos + 16), 1);
		assert_int_equal(get32(f + pos + 20), MiB);
		assert_int_equal(get64(f + pos + 24), s->size);
		assert_int_equal(get64(f + pos + 32), nblocks);
		if (nblocks)
			assert_int_equal(get64(f + pos + 40), 0);
		assert_int_equal(get64(f + n - 16), pos);
		assert_memory_equal(f + n - 8, "PYCZTAIL", 8);
		assert_int_equal(n, pos + 56 + 8 * nblocks);
		free(f);
		tmp_remove(&t);
	}
	free(dec);
}

static void test_incompressible_block_is_stored_and_zero_blocks_are_tiny(void **state)
{
	(void)state;
	static const struct op ops_zero_data[] = { { 'Z', 2 * MiB }, END };
	struct stream zeros = { "2 MiB of zeros as data", ops_zero_data, NULL, 0 };
	const struct stream *s = &streams[S_EXACT3];
	struct tmp t;
	size_t n, hn, zn;
	uint8_t *f, *h, *z, *none = calloc(1, MiB);
	struct layout L, HL, ZL;
	struct frame F0, F1, F2, H, Z;

	assert_non_null(none);
	write_lz4(&t, s, 1);
	f = slurp(t.path, &n);
	tmp_remove(&t);
	parse_layout(f, n, &L);
	assert_int_equal(L.count, 3);
	frame_of(f, &L, 0, &F0);
	frame_of(f, &L, 1, &F1);
	frame_of(f, &L, 2, &F2);
	/* Block 0 is random bytes (and 10 zeros): every data block stored as
	 * it is, and the frame is as large as a frame can be. */
	assert_int_equal(F0.nd, 16);
	assert_int_equal(F0.nstored, 16);
	for (unsigned d = 0; d < F0.nd; d++) {
		assert_int_equal(F0.d[d].word, 65536 | LZ4PACK_STORED_BIT);
		assert_memory_equal(f + F0.d[d].data_at, s->content + d * 65536, 65536);
	}
	assert_memory_equal(f + F0.d[3].word_at, "\x00\x00\x01\x80", 4);
	assert_int_equal(F0.end - F0.at, LZ4PACK_FRAME_MAX);
	assert_int_equal(F0.end - F0.at, MiB + 15 + 16 * 4 + 8);
	/* Block 1 is all hole: a few KiB at most, with the checksum of zeros,
	 * 16 identical compressed data blocks. */
	assert_int_equal(F1.nd, 16);
	assert_int_equal(F1.nstored, 0);
	assert_true(F1.end - F1.at < 8192);
	assert_int_equal(get64(f + F1.at + 6), MiB);
	assert_int_equal(get32(f + F1.sum_at), xxh32(none, MiB, 0));
	for (unsigned d = 1; d < F1.nd; d++) {
		assert_int_equal(F1.d[d].word, F1.d[0].word);
		assert_memory_equal(f + F1.d[d].data_at, f + F1.d[0].data_at, F1.d[0].size);
	}
	/* Block 2 is text: compressed. */
	assert_int_equal(F2.nstored, 0);
	assert_true(F2.end - F2.at < MiB / 2);

	/* Every all-zero block is the same frame, whether the sink was given
	 * holes or zeros as data. */
	write_lz4(&t, &streams[S_HOLES2], 2);
	h = slurp(t.path, &hn);
	tmp_remove(&t);
	build_content(&zeros);
	write_lz4(&t, &zeros, 2);
	z = slurp(t.path, &zn);
	tmp_remove(&t);
	parse_layout(h, hn, &HL);
	parse_layout(z, zn, &ZL);
	assert_int_equal(HL.count, 2);
	assert_int_equal(ZL.count, 2);
	for (uint64_t i = 0; i < 2; i++) {
		frame_of(h, &HL, i, &H);
		frame_of(z, &ZL, i, &Z);
		assert_int_equal(H.end - H.at, F1.end - F1.at);
		assert_int_equal(Z.end - Z.at, F1.end - F1.at);
		assert_memory_equal(h + H.at, f + F1.at, F1.end - F1.at);
		assert_memory_equal(z + Z.at, f + F1.at, F1.end - F1.at);
	}
	free(zeros.content);
	free(none);
	free(h);
	free(z);
	free(f);
}

static void test_lz4pack_is_lz4_recognises_lz4_frames_only(void **state)
{
	(void)state;
	const struct stream *s = &streams[S_MIXED];
	struct tmp z, r, cli;
	char cmd[512];
	int fd;

	write_lz4(&z, s, 2);
	write_raw(&r, s);
	fd = open(z.path, O_RDONLY);
	assert_true(lz4pack_is_lz4(fd));
	close(fd);
	fd = open(r.path, O_RDONLY);
	assert_false(lz4pack_is_lz4(fd));
	close(fd);

	/* A frame of the lz4 CLI is LZ4 but not a pycore container. */
	close(tmp_open(&cli));
	snprintf(cmd, sizeof cmd, "lz4 -q -f -c '%s' > '%s'", r.path, cli.path);
	assert_int_equal(system(cmd), 0);
	fd = open(cli.path, O_RDONLY);
	assert_true(lz4pack_is_lz4(fd));
	pc_clear_error();
	assert_null(lz4pack_open(fd));
	assert_int_equal(pc_errcode(), PC_EFORMAT);
	close(fd);
	tmp_remove(&z);
	tmp_remove(&r);
	tmp_remove(&cli);
}

/* ------------------------------------------------------------------ */
/* Raw sink and the lz4 CLI                                            */

static uint8_t *run_lz4_d(const char *path, size_t *len, int *status)
{
	char cmd[512];
	size_t cap = 1 << 20, n = 0, r;
	uint8_t *buf = malloc(cap);
	FILE *pf;

	snprintf(cmd, sizeof cmd, "lz4 -d -c -q '%s' 2>/dev/null", path);
	pf = popen(cmd, "r");
	assert_non_null(pf);
	while ((r = fread(buf + n, 1, cap - n, pf)) > 0) {
		n += r;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
		assert_non_null(buf);
	}
	*status = pclose(pf);
	*len = n;
	return buf;
}

static void test_lz4_cli_decompresses_the_container_to_the_raw_core(void **state)
{
	(void)state;
	for (size_t si = 0; si < NSTREAMS; si++) {
		const struct stream *s = &streams[si];
		struct tmp z, r;
		size_t raw_len, out_len;
		uint8_t *raw, *out;
		int status;

		write_lz4(&z, s, 2);
		write_raw(&r, s);
		raw = slurp(r.path, &raw_len);
		if (raw_len != s->size)
			fail_msg("%s: raw file is %zu bytes, want %llu", s->name, raw_len,
				 (unsigned long long)s->size);
		assert_memory_equal(raw, s->content, raw_len);
		out = run_lz4_d(z.path, &out_len, &status);
		if (status != 0)
			fail_msg("%s: lz4 -d exited with status %d", s->name, status);
		if (out_len != raw_len)
			fail_msg("%s: lz4 -d gave %zu bytes, want %zu", s->name, out_len, raw_len);
		assert_memory_equal(out, raw, raw_len);
		free(raw);
		free(out);
		tmp_remove(&z);
		tmp_remove(&r);
	}
}

static void test_raw_file_ending_in_a_hole_has_the_full_length(void **state)
{
	(void)state;
	static const struct op ops[] = { { 'T', 5000 }, { 'H', 3 * MiB + 7 }, END };
	struct stream s = { "ends in a hole", ops, NULL, 0 };
	struct tmp r;
	struct stat st;
	size_t n;
	uint8_t *f;

	build_content(&s);
	write_raw(&r, &s);
	assert_int_equal(stat(r.path, &st), 0);
	assert_int_equal(st.st_size, 5000 + 3 * MiB + 7);
	f = slurp(r.path, &n);
	assert_memory_equal(f, s.content, n);
	free(f);
	free(s.content);
	tmp_remove(&r);

	/* And the stream of holes only. */
	write_raw(&r, &streams[S_HOLES2]);
	assert_int_equal(stat(r.path, &st), 0);
	assert_int_equal(st.st_size, 2 * MiB);
	tmp_remove(&r);
}

static void test_lz4_cli_rejects_a_container_with_a_flipped_byte(void **state)
{
	(void)state;
	const struct stream *s = &streams[S_MIXED];
	struct tmp z;
	size_t n;
	uint8_t *orig, *f;
	struct layout L;
	struct frame F;
	uint64_t stored = UINT64_MAX;
	unsigned sd = 0;

	write_lz4(&z, s, 2);
	orig = slurp(z.path, &n);
	tmp_remove(&z);
	f = malloc(n);
	assert_non_null(f);
	parse_layout(orig, n, &L);
	for (uint64_t i = 0; i < L.count && stored == UINT64_MAX; i++) {
		frame_of(orig, &L, i, &F);
		for (unsigned d = 0; d < F.nd && stored == UINT64_MAX; d++)
			if (F.d[d].stored)
				stored = i, sd = d;
	}
	assert_true(stored != UINT64_MAX);   /* the random bytes made one */

	/* The content checksums we write are the ones lz4 checks: a flipped
	 * byte in a stored block still "decodes", and only the checksum
	 * catches it; so does a flipped checksum over intact data. */
	for (int k = 0; k < 3; k++) {
		struct tmp d;
		size_t out_len;
		uint8_t *out;
		int status;
		const char *what;

		memcpy(f, orig, n);
		if (k == 0) {
			frame_of(orig, &L, stored, &F);
			f[F.d[sd].data_at + F.d[sd].size / 2] ^= 0x10;
			what = "a byte of a stored data block";
		} else if (k == 1) {
			frame_of(orig, &L, 1, &F);
			f[F.sum_at + 2] ^= 0x80;
			what = "a content checksum byte";
		} else {
			frame_of(orig, &L, 1, &F);
			assert_false(F.d[0].stored);
			f[F.d[0].data_at + 100] ^= 0x10;
			what = "a byte of a compressed data block";
		}
		spill(&d, f, n);
		out = run_lz4_d(d.path, &out_len, &status);
		if (status == 0)
			fail_msg("lz4 -d accepted the container with %s flipped", what);
		free(out);
		tmp_remove(&d);
	}
	free(orig);
	free(f);
}

/* Each frame the index lists is a complete standard LZ4 frame on its own. */
static void test_lz4_cli_decompresses_every_frame_on_its_own(void **state)
{
	(void)state;
	static const size_t which[] = { S_MIXED, S_PLUS1 };
	for (size_t w = 0; w < sizeof which / sizeof which[0]; w++) {
		const struct stream *s = &streams[which[w]];
		struct tmp z;
		size_t n;
		uint8_t *f;
		struct layout L;

		write_lz4(&z, s, 2);
		f = slurp(z.path, &n);
		tmp_remove(&z);
		parse_layout(f, n, &L);
		for (uint64_t i = 0; i < L.count; i++) {
			struct tmp d;
			struct frame F;
			size_t out_len;
			uint8_t *out;
			int status;
			uint64_t want = block_len(s->size, i);

			frame_of(f, &L, i, &F);
			spill(&d, f + F.at, (size_t)(F.end - F.at));
			out = run_lz4_d(d.path, &out_len, &status);
			if (status != 0 || out_len != want ||
			    memcmp(out, s->content + i * MiB, want) != 0)
				fail_msg("%s: frame %llu alone: lz4 -d status %d, %zu bytes, want %llu",
					 s->name, (unsigned long long)i, status, out_len,
					 (unsigned long long)want);
			free(out);
			tmp_remove(&d);
		}
		free(f);
	}
}

/* The BD 0x60 container built by hand above is what the old writer
 * wrote: a standard LZ4 file, one data block per frame, every frame
 * decodable on its own. */
static void test_lz4_cli_decodes_the_hand_built_bd_0x60_container(void **state)
{
	(void)state;
	for (size_t si = 0; si < NSTREAMS; si++) {
		const struct stream *s = &streams[si];
		struct tmp z;
		size_t n, out_len;
		struct layout L;
		uint8_t *f = v1_container(s, &n), *out;
		int status;

		parse_layout(f, n, &L);
		spill(&z, f, n);
		out = run_lz4_d(z.path, &out_len, &status);
		tmp_remove(&z);
		if (status != 0 || out_len != s->size || memcmp(out, s->content, out_len) != 0)
			fail_msg("%s (BD 0x60): lz4 -d status %d, %zu bytes", s->name, status,
				 out_len);
		free(out);
		for (uint64_t i = 0; i < L.count; i++) {
			struct frame F;
			uint64_t want = block_len(s->size, i);

			frame_of(f, &L, i, &F);
			assert_int_equal(F.bd, 0x60);
			assert_int_equal(F.nd, 1);
			assert_int_equal(F.end - F.at, 27 + F.d[0].size);
			spill(&z, f + F.at, (size_t)(F.end - F.at));
			out = run_lz4_d(z.path, &out_len, &status);
			tmp_remove(&z);
			if (status != 0 || out_len != want ||
			    memcmp(out, s->content + i * MiB, want) != 0)
				fail_msg("%s (BD 0x60): frame %llu alone: lz4 -d status %d",
					 s->name, (unsigned long long)i, status);
			free(out);
		}
		free(f);
	}
}

/* ------------------------------------------------------------------ */
/* Damage                                                              */

/* The damaged file must fail to open with PC_EFORMAT, or else every block
 * reads either correctly or as -1 with PC_EFORMAT, at least one fails, and
 * a failed block leaves the block read before it intact.  With a nonzero
 * mask of bad frames (bit i: frame i) it must open, and exactly those
 * frames must fail: frames are independent, damage to one spares the
 * others. */
#define FRAME(i) (1u << (i))
/* When set, the error of every failed block must contain this: the check
 * that is meant to catch the damage is the one that does. */
static const char *want_msg;
static void expect_damage(const struct stream *s, const uint8_t *f, size_t n,
			  uint32_t bad, const char *what)
{
	uint64_t nblocks = (s->size + MiB - 1) / MiB;
	uint8_t *buf = malloc(MiB);
	struct tmp d;
	struct opened o;
	int failed = 0;
	char name[32];

	assert_non_null(buf);
	spill(&d, f, n);
	if (!open_pack(d.path, &o)) {
		if (pc_errcode() != PC_EFORMAT)
			fail_msg("%s: open failed with code %d, want PC_EFORMAT (%s)", what,
				 pc_errcode(), pc_errmsg());
		if (bad)
			fail_msg("%s: did not open (%s), want frames %#x to fail", what,
				 pc_errmsg(), bad);
		close(o.fd);
		tmp_remove(&d);
		free(buf);
		return;
	}
	assert_true(nblocks <= 32);
	for (uint64_t i = 0; i < nblocks; i++) {
		size_t want = (size_t)block_len(s->size, i);
		ssize_t r;

		pc_clear_error();
		r = lz4pack_pread(o.p, buf, want, i * MiB);
		if (r == -1) {
			if (pc_errcode() != PC_EFORMAT)
				fail_msg("%s: block %llu failed with code %d, want PC_EFORMAT (%s)",
					 what, (unsigned long long)i, pc_errcode(), pc_errmsg());
			if (bad && !(bad & FRAME(i)))
				fail_msg("%s: block %llu failed (%s), want only frames %#x to",
					 what, (unsigned long long)i, pc_errmsg(), bad);
			snprintf(name, sizeof name, "frame %llu (", (unsigned long long)i);
			if (!strstr(pc_errmsg(), name))
				fail_msg("%s: the error does not name frame %llu: %s", what,
					 (unsigned long long)i, pc_errmsg());
			if (want_msg && !strstr(pc_errmsg(), want_msg))
				fail_msg("%s: %s, want \"%s\"", what, pc_errmsg(), want_msg);
			failed++;
			if (i > 0) {
				r = lz4pack_pread(o.p, buf, MiB, (i - 1) * MiB);
				if (r != -1 && (r != MiB || memcmp(buf, s->content + (i - 1) * MiB, MiB)))
					fail_msg("%s: block %llu reads wrong after block %llu failed",
						 what, (unsigned long long)i - 1, (unsigned long long)i);
			}
		} else if (r != (ssize_t)want || memcmp(buf, s->content + i * MiB, want) != 0) {
			fail_msg("%s: block %llu read %zd bytes of wrong data", what,
				 (unsigned long long)i, r);
		} else if (bad & FRAME(i)) {
			fail_msg("%s: frame %llu read fine, want it to fail", what,
				 (unsigned long long)i);
		}
	}
	if (!failed)
		fail_msg("%s: damage went unnoticed", what);
	close_pack(&o);
	tmp_remove(&d);
	free(buf);
}

static void expect_damage_detected(const struct stream *s, const uint8_t *f, size_t n,
				   const char *what)
{
	expect_damage(s, f, n, 0, what);
}

static void expect_open_fails(const uint8_t *f, size_t n, const char *what)
{
	struct tmp d;
	struct opened o;

	spill(&d, f, n);
	if (open_pack(d.path, &o)) {
		close_pack(&o);
		tmp_remove(&d);
		fail_msg("%s: opened", what);
	}
	if (pc_errcode() != PC_EFORMAT)
		fail_msg("%s: code %d, want PC_EFORMAT (%s)", what, pc_errcode(), pc_errmsg());
	close(o.fd);
	tmp_remove(&d);
}

static uint8_t *container_bytes(const struct stream *s, size_t *n, struct layout *L)
{
	struct tmp z;
	uint8_t *f;
	write_lz4(&z, s, 2);
	f = slurp(z.path, n);
	tmp_remove(&z);
	parse_layout(f, *n, L);
	return f;
}

/* The container of s as the writer writes it (BD 0x40), or (v1) as older
 * versions wrote it (BD 0x60, built by hand). */
static uint8_t *container_bytes_of(const struct stream *s, bool v1, size_t *n,
				   struct layout *L)
{
	uint8_t *f;

	if (!v1)
		return container_bytes(s, n, L);
	f = v1_container(s, n);
	parse_layout(f, *n, L);
	return f;
}

static const char *format_name(bool v1)
{
	return v1 ? "BD 0x60" : "BD 0x40";
}

/* Rewrite the content size of the frame at h, with a header checksum that
 * matches, so that only the size itself is wrong. */
static void set_content_size(uint8_t *h, uint64_t size)
{
	put64(h + 6, size);
	h[14] = (uint8_t)(xxh32(h + 4, 10, 0) >> 8);
}

/* Damage copies of frame i (F) of the container of s: orig as written (n
 * bytes, v1: BD 0x60), f a buffer of its size for the copies.  Returns
 * the stored data blocks it met. */
typedef int frame_damage_fn(const struct stream *s, const uint8_t *orig, uint8_t *f, size_t n,
			    bool v1, uint64_t i, const struct frame *F);

/* damage on every frame of s's container, as the writer writes it and as
 * older versions wrote it: s's random bytes must have made stored data
 * blocks. */
static void damage_every_frame(const struct stream *s, frame_damage_fn *damage)
{
	for (int v1 = 0; v1 < 2; v1++) {
		size_t n;
		struct layout L;
		uint8_t *orig = container_bytes_of(s, v1, &n, &L), *f = malloc(n);
		int stored = 0;

		assert_non_null(f);
		for (uint64_t i = 0; i < L.count; i++) {
			struct frame F;

			frame_of(orig, &L, i, &F);
			assert_int_equal(F.bd, v1 ? 0x60 : 0x40);
			stored += damage(s, orig, f, n, v1, i, &F);
		}
		assert_true(stored > 0);
		free(orig);
		free(f);
	}
}

/* Every part of one frame damaged in turn: each header byte, the content
 * size, the size word and data of three data blocks, the end mark, the
 * checksum.  Returns the frame's stored data blocks. */
static int damage_frame_parts(const struct stream *s, const uint8_t *orig, uint8_t *f,
			      size_t n, bool v1, uint64_t i, const struct frame *F)
{
	uint64_t want = block_len(s->size, i);
	uint32_t dmax = v1 ? MiB : 65536;
	unsigned which[3], nwhich;
	char what[160];
#define WHAT(...) snprintf(what, sizeof what, "%s: frame %llu " __VA_ARGS__)
#define FR format_name(v1), (unsigned long long)i

	/* every byte of the frame header: magic, FLG, BD, content size, HC */
	for (uint64_t b = 0; b < LZ4PACK_FRAME_HDR_SIZE; b++) {
		memcpy(f, orig, n);
		f[F->at + b] ^= 0x01;
		WHAT("header byte %llu flipped", FR, (unsigned long long)b);
		expect_damage(s, f, n, FRAME(i), what);
	}
	/* a content size other than the block's, under a valid HC */
	const uint64_t sizes[] = { want + 1, want - 1, want + MiB, 0, UINT64_MAX };
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		memcpy(f, orig, n);
		set_content_size(f + F->at, sizes[k]);
		assert_int_equal(lz4pack_check_frame_header(f + F->at, &(uint64_t){ 0 },
							    &(uint32_t){ 0 }), 0);
		WHAT("content size %llu → %#llx", FR, (unsigned long long)want,
		     (unsigned long long)sizes[k]);
		expect_damage(s, f, n, FRAME(i), what);
	}
	/* the first, a middle and the last data block */
	nwhich = some_dblocks(F, which);
	for (unsigned w = 0; w < nwhich; w++) {
		const struct dblock *D = &F->d[which[w]];
		unsigned d = which[w];
		/* its size word: one more, one less; an end mark; larger
		 * than the BD allows, stored or not; running past the
		 * frame, into its trailer or just past its end */
		uint64_t to_trailer = F->mark_at - D->data_at;
		static const char *const over_bd = "data block larger than its BD allows";
		static const char *const past = "data block runs past the frame";
		const struct {
			uint32_t word;
			const char *msg;   /* the check that must catch it */
		} words[] = {
			{ D->word + 1, NULL }, { D->word - 1, NULL },
			{ 0, "end mark before the end of the block" },
			{ dmax + 1, over_bd }, { (dmax + 1) | LZ4PACK_STORED_BIT, over_bd },
			{ 0x7FFFFFFF, over_bd }, { 0xFFFFFFFF, over_bd },
			{ (uint32_t)to_trailer + 1, to_trailer + 1 > dmax ? over_bd : past },
			{ (uint32_t)to_trailer + 8, to_trailer + 8 > dmax ? over_bd : past },
			{ (uint32_t)to_trailer + 9, to_trailer + 9 > dmax ? over_bd : past },
			{ ((uint32_t)to_trailer + 4) | (D->word & LZ4PACK_STORED_BIT),
			  to_trailer + 4 > dmax ? over_bd : past },
		};
		for (size_t k = 0; k < sizeof words / sizeof words[0]; k++) {
			memcpy(f, orig, n);
			put32(f + D->word_at, words[k].word);
			WHAT("data block %u size word %#x → %#x", FR, d, D->word,
			     words[k].word);
			want_msg = words[k].msg;
			expect_damage(s, f, n, FRAME(i), what);
			want_msg = NULL;
		}
		/* a byte in the middle of its data, the first and the last */
		const uint64_t bytes[] = { D->size / 2, 0, D->size - 1 };
		for (size_t k = 0; k < sizeof bytes / sizeof bytes[0]; k++) {
			memcpy(f, orig, n);
			f[D->data_at + bytes[k]] ^= 0x01;
			WHAT("data block %u byte %llu of %u flipped", FR, d,
			     (unsigned long long)bytes[k], D->size);
			expect_damage(s, f, n, FRAME(i), what);
		}
	}
	/* the end mark, low and high byte */
	memcpy(f, orig, n);
	f[F->mark_at] ^= 0x01;
	WHAT("end mark low byte", FR);
	expect_damage(s, f, n, FRAME(i), what);
	memcpy(f, orig, n);
	f[F->mark_at + 3] ^= 0x80;
	WHAT("end mark high byte", FR);
	expect_damage(s, f, n, FRAME(i), what);
	/* the content checksum, first and third byte */
	memcpy(f, orig, n);
	f[F->sum_at] ^= 0x01;
	WHAT("checksum byte 0", FR);
	expect_damage(s, f, n, FRAME(i), what);
	memcpy(f, orig, n);
	f[F->sum_at + 2] ^= 0x80;
	WHAT("checksum byte 2", FR);
	expect_damage(s, f, n, FRAME(i), what);
#undef WHAT
#undef FR
	return (int)F->nstored;
}

static void test_damaged_frame_header_data_block_end_mark_or_checksum_is_a_format_error(void **state)
{
	(void)state;
	damage_every_frame(&streams[S_MIXED], damage_frame_parts);
}

/* The stored bit of every stored data block of one frame flipped, and
 * of three others.  Returns the frame's stored data blocks. */
static int flip_stored_bits(const struct stream *s, const uint8_t *orig, uint8_t *f,
			    size_t n, bool v1, uint64_t i, const struct frame *F)
{
	int stored = 0;
	unsigned which[3], nwhich;

	nwhich = some_dblocks(F, which);
	for (unsigned d = 0; d < F->nd; d++) {
		const struct dblock *D = &F->d[d];
		char what[128];
		bool some = false;

		for (unsigned w = 0; w < nwhich; w++)
			some |= which[w] == d;
		if (!some && !D->stored)
			continue;       /* every stored one, and three others */
		stored += D->stored;
		memcpy(f, orig, n);
		put32(f + D->word_at, D->word ^ LZ4PACK_STORED_BIT);
		snprintf(what, sizeof what, "%s: frame %llu data block %u (%s) "
			 "stored bit flipped", format_name(v1),
			 (unsigned long long)i, d, D->stored ? "stored" : "compressed");
		expect_damage(s, f, n, FRAME(i), what);
	}
	return stored;
}

/* A flipped stored bit leaves the header, the span and the end mark
 * consistent: the data block is then decoded the wrong way, and the reader
 * must refuse it (decompression fails, or the content checksum does not
 * match).  Found while writing these tests: a stored block read as LZ4
 * fails to decompress after writing into the reader's one-block cache, so
 * the block read just before it comes back wrong. */
static void test_flipped_stored_bit_is_a_format_error_and_spares_other_blocks(void **state)
{
	(void)state;
	damage_every_frame(&streams[S_MIXED], flip_stored_bits);
}

static void test_truncated_container_does_not_open(void **state)
{
	(void)state;
	const struct stream *s = &streams[S_MIXED];
	size_t n;
	struct layout L;
	uint8_t *f = container_bytes(s, &n, &L);
	const size_t min = 8 + LZ4PACK_INDEX_FIXED + LZ4PACK_TAIL_SIZE;
	const size_t cuts[] = { n - 1, n - 8, n - 16, n - 17, (size_t)L.index_at + 8,
				(size_t)L.index_at, (size_t)L.index_at - 1,
				(size_t)L.index_at - 4, n / 2,
				(size_t)frame_off(f, &L, 2), (size_t)frame_off(f, &L, 1) - 1,
				min + LZ4PACK_FRAME_MIN, min, min - 1,
				LZ4PACK_FRAME_MIN, LZ4PACK_FRAME_HDR_SIZE, 4, 0 };

	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		char what[64];
		snprintf(what, sizeof what, "truncated to %zu of %zu bytes", cuts[i], n);
		expect_open_fails(f, cuts[i], what);
	}
	free(f);
}

static void test_damaged_index_does_not_open(void **state)
{
	(void)state;
	const struct stream *s = &streams[S_MIXED];
	size_t n;
	struct layout L;
	uint8_t *orig = container_bytes(s, &n, &L), *f = malloc(n);
	const size_t idx = (size_t)L.index_at + 8;   /* the index payload */
	struct {
		const char *what;
		size_t at;
		int kind;      /* 0: zero 8 bytes, 1: flip bit 0, 2: +1 (u64), 3: +1 (u32),
				* 4: + 1 MiB (u64) */
	} cases[] = {
		{ "tail magic zeroed", n - 8, 0 },
		{ "tail magic byte", n - 1, 1 },
		{ "tail frame offset + 1", n - 16, 2 },
		{ "tail frame offset zeroed", n - 16, 0 },
		{ "skippable magic", (size_t)L.index_at, 1 },
		{ "skippable payload size", (size_t)L.index_at + 4, 3 },
		{ "index magic", idx, 1 },
		{ "index version", idx + 8, 3 },
		{ "index block size", idx + 12, 3 },
		{ "index content size + 1 MiB", idx + 16, 4 },
		{ "index block count", idx + 24, 2 },
		{ "index block count zeroed", idx + 24, 0 },
		{ "first frame offset", entry_of(&L, 0), 2 },
	};

	assert_non_null(f);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memcpy(f, orig, n);
		switch (cases[i].kind) {
		case 0: memset(f + cases[i].at, 0, 8); break;
		case 1: f[cases[i].at] ^= 0x01; break;
		case 2: put64(f + cases[i].at, get64(f + cases[i].at) + 1); break;
		case 3: put32(f + cases[i].at, get32(f + cases[i].at) + 1); break;
		case 4: put64(f + cases[i].at, get64(f + cases[i].at) + MiB); break;
		}
		expect_open_fails(f, n, cases[i].what);
	}

	/* A content size that keeps the block count opens, but the last frame's
	 * header, which holds the true length of its block, disagrees. */
	assert_true(s->size % MiB > 1);
	for (int d = -1; d <= 1; d += 2) {
		memcpy(f, orig, n);
		put64(f + idx + 16, s->size + (uint64_t)(int64_t)d);
		expect_damage(s, f, n, FRAME(L.count - 1),
			      d < 0 ? "index content size - 1" : "index content size + 1");
	}
	free(orig);
	free(f);
}

static void test_changed_index_offsets_are_format_errors(void **state)
{
	(void)state;
	const struct stream *s = &streams[S_MIXED];
	size_t n;
	struct layout L;
	uint8_t *orig = container_bytes(s, &n, &L), *f = malloc(n);

	assert_non_null(f);
	assert_true(L.count >= 4);
	for (uint64_t i = 0; i < L.count; i++) {
		uint8_t *e = f + entry_of(&L, i);
		uint64_t v = frame_off(orig, &L, i);
		uint64_t next = i + 1 < L.count ? frame_off(orig, &L, i + 1) : L.index_at;
		struct frame F;
		/* Shifts that keep the offsets in order: the frame before and
		 * this one both lose their exact span, and only they fail. */
		const int64_t shifts[] = { 1, -1, 4, -8, LZ4PACK_FRAME_MIN,
					   -(int64_t)LZ4PACK_FRAME_MIN };
		/* Any value at all: detected, at the open or at a read. */
		const uint64_t values[] = { 0, n, n * 2, L.index_at, v | (1ull << 63),
					    v ^ (1ull << 40), next, next - 1,
					    next - LZ4PACK_FRAME_MIN,
					    i > 0 ? frame_off(orig, &L, i - 1) : 16 };
		char what[96];

		frame_of(orig, &L, i, &F);
		for (size_t k = 0; k < sizeof shifts / sizeof shifts[0]; k++) {
			memcpy(f, orig, n);
			put64(e, v + (uint64_t)shifts[k]);
			snprintf(what, sizeof what, "offset of frame %llu: %#llx %+lld",
				 (unsigned long long)i, (unsigned long long)v,
				 (long long)shifts[k]);
			if (i == 0)                /* frame 0 must be at 0 */
				expect_open_fails(f, n, what);
			else
				expect_damage(s, f, n, FRAME(i - 1) | FRAME(i), what);
		}
		for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
			if (values[k] == v)        /* the offset of frame 0 is 0 */
				continue;
			memcpy(f, orig, n);
			put64(e, values[k]);
			snprintf(what, sizeof what, "offset of frame %llu: %#llx → %#llx",
				 (unsigned long long)i, (unsigned long long)v,
				 (unsigned long long)values[k]);
			expect_damage_detected(s, f, n, what);
		}
	}
	/* Two offsets swapped. */
	memcpy(f, orig, n);
	put64(f + entry_of(&L, 1), frame_off(orig, &L, 2));
	put64(f + entry_of(&L, 2), frame_off(orig, &L, 1));
	expect_damage_detected(s, f, n, "offsets of frames 1 and 2 swapped");
	free(orig);
	free(f);

	/* A frame as large as a frame can be (frame 0 of "exact 3 MiB": random
	 * bytes, all stored) swallowing the next: the span is too large for
	 * any frame, and the reader must refuse it before reading it into its
	 * buffer. */
	s = &streams[S_EXACT3];
	for (int v1 = 0; v1 < 2; v1++) {
		struct frame F;

		orig = container_bytes_of(s, v1, &n, &L);
		f = malloc(n);
		assert_non_null(f);
		assert_int_equal(L.count, 3);
		frame_of(orig, &L, 0, &F);
		assert_int_equal(F.nstored, F.nd);
		assert_int_equal(F.end - F.at, v1 ? MiB + 27 : LZ4PACK_FRAME_MAX);
		memcpy(f, orig, n);
		put64(f + entry_of(&L, 1), frame_off(orig, &L, 2) - LZ4PACK_FRAME_MIN);
		assert_true(frame_off(f, &L, 1) > LZ4PACK_FRAME_MAX);
		expect_damage(s, f, n, FRAME(0) | FRAME(1),
			      v1 ? "BD 0x60: stored frame spanning into the next"
				 : "BD 0x40: stored frame spanning into the next");
		free(orig);
		free(f);
	}
}

/* Found while writing these tests: an offset so large that adding the
 * frame overhead wraps around 2^64 passes the index check, and reading its
 * frame then fails as an internal error (pread of a negative offset,
 * EINVAL) instead of PC_EFORMAT. */
static void test_index_offset_that_wraps_around_is_a_format_error(void **state)
{
	(void)state;
	const struct stream *s = &streams[S_SMALL3];
	size_t n;
	struct layout L;
	uint8_t *orig = container_bytes(s, &n, &L), *f = malloc(n);

	assert_non_null(f);
	assert_int_equal(L.count, 3);
	assert_true(n < MiB);             /* every frame's span is "small" */
	for (uint64_t i = 1; i < L.count; i++)
		for (uint64_t v = UINT64_MAX - 2 * LZ4PACK_FRAME_MIN; v != 0; v++) {
			char what[64];
			memcpy(f, orig, n);
			put64(f + entry_of(&L, i), v);
			snprintf(what, sizeof what, "offset of frame %llu = %#llx",
				 (unsigned long long)i, (unsigned long long)v);
			expect_damage_detected(s, f, n, what);
		}
	/* And the offset of the index frame, in the tail. */
	for (uint64_t v = UINT64_MAX - 64; v != 0; v++) {
		char what[64];
		memcpy(f, orig, n);
		put64(f + n - 16, v);
		snprintf(what, sizeof what, "index frame offset = %#llx", (unsigned long long)v);
		expect_damage_detected(s, f, n, what);
	}
	free(orig);
	free(f);
}

/* Found while writing these tests: a content size within one block of 2^64
 * makes the expected block count wrap to 0, the index check passes with no
 * blocks at all, and a read then indexes past the offset table. */
static void test_index_with_a_content_size_that_wraps_the_block_count_does_not_open(void **state)
{
	(void)state;
	/* The container of an empty core: the index frame alone, at 0. */
	uint8_t f[8 + LZ4PACK_INDEX_FIXED + LZ4PACK_TAIL_SIZE];
	const uint64_t sizes[] = { 0, UINT64_MAX, UINT64_MAX - 1,
				   UINT64_MAX - MiB + 2, (uint64_t)0 - MiB + 1 };
	struct tmp d;
	struct opened o;

	assert_int_equal(sizeof f, 56);
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		memset(f, 0, sizeof f);
		put32(f, LZ4PACK_SKIP_MAGIC);
		put32(f + 4, 48);
		memcpy(f + 8, LZ4PACK_INDEX_MAGIC, 8);
		put32(f + 16, LZ4PACK_INDEX_VERSION);
		put32(f + 20, LZ4PACK_BLOCK_SIZE);
		put64(f + 24, sizes[k]);                  /* content size */
		put64(f + 32, 0);                         /* frame count */
		put64(f + 40, 0);                         /* this frame's offset */
		memcpy(f + 48, LZ4PACK_TAIL_MAGIC, 8);
		spill(&d, f, sizeof f);
		if (sizes[k] == 0) {
			/* The control: an empty core opens, and reads as empty. */
			char c;
			if (!open_pack(d.path, &o))
				fail_msg("empty container: %s", pc_errmsg());
			assert_int_equal(lz4pack_size(o.p), 0);
			assert_int_equal(lz4pack_pread(o.p, &c, 1, 0), 0);
			close_pack(&o);
		} else if (open_pack(d.path, &o)) {
			uint64_t size = lz4pack_size(o.p);
			/* Do not read: that would go past the reader's offset table. */
			close_pack(&o);
			tmp_remove(&d);
			fail_msg("opened a container of %#llx bytes in 0 frames",
				 (unsigned long long)size);
		} else {
			assert_int_equal(pc_errcode(), PC_EFORMAT);
			close(o.fd);
		}
		tmp_remove(&d);
	}
}

/* Encode an LZ4 block of exactly `size` bytes that decompresses to some
 * number of 'Q' bytes other than want. */
static void lz4_literals_of_size(uint8_t *out, size_t size)
{
	for (int with_match = 0; with_match < 2; with_match++)
		for (size_t lits = size; lits > 15; lits--) {
			size_t ext = (lits - 15) / 255 + 1, seq = 1 + ext + lits;
			size_t total = seq + (with_match ? 4 : 0);
			uint8_t *p = out;
			if (total != size)
				continue;
			if (with_match) {     /* "Q" then a 4-byte match at offset 1 */
				*p++ = 0x10;
				*p++ = 'Q';
				*p++ = 1;
				*p++ = 0;
			}
			*p++ = 0xF0;
			for (size_t r = lits - 15; ; r -= 255) {
				*p++ = (uint8_t)(r >= 255 ? 255 : r);
				if (r < 255)
					break;
			}
			memset(p, 'Q', lits);
			return;
		}
	fail_msg("no literal encoding of %zu bytes", size);
}

/* orig with frame k replaced by frame[0..len), the later frames moved and
 * the index rewritten to match: a well-formed container around one frame
 * of our choosing.  Returns the new file; *out_n its size. */
static uint8_t *with_frame(const uint8_t *orig, const struct layout *L, uint64_t k,
			   const uint8_t *frame, size_t len, size_t *out_n)
{
	struct frame F;
	uint64_t old_len, delta, at;
	size_t n = (size_t)L->index_at + 8 + LZ4PACK_INDEX_FIXED + 8 * (size_t)L->count +
		   LZ4PACK_TAIL_SIZE;
	uint8_t *f;

	frame_of(orig, L, k, &F);
	old_len = F.end - F.at;
	delta = (uint64_t)len - old_len;           /* modulo 2^64 */
	*out_n = n + (size_t)delta;
	f = malloc(*out_n);
	assert_non_null(f);
	memcpy(f, orig, (size_t)F.at);
	memcpy(f + F.at, frame, len);
	at = F.at + len;
	memcpy(f + at, orig + F.end, n - (size_t)F.end);
	for (uint64_t i = k + 1; i < L->count; i++) {
		size_t e = (size_t)(entry_of(L, i) + delta);
		put64(f + e, get64(f + e) + delta);
	}
	put64(f + *out_n - 16, L->index_at + delta);
	return f;
}

/* A stored data block must hold exactly its share of the block.  The last
 * frame of "1 MiB + 1" stores 1 byte; given a second byte (the size word,
 * span, end mark, checksum and index all consistent), the first byte is
 * still right and its checksum matches: only the length check is left. */
static void test_stored_block_longer_than_its_content_size_is_a_format_error(void **state)
{
	(void)state;
	const struct stream *s = &streams[S_PLUS1];

	for (int v1 = 0; v1 < 2; v1++) {
		size_t n, m;
		struct layout L;
		uint8_t *orig = container_bytes_of(s, v1, &n, &L), *f;
		uint8_t frame[LZ4PACK_FRAME_MIN + 2];
		struct frame F;
		char what[96];

		assert_int_equal(L.count, 2);
		frame_of(orig, &L, 1, &F);
		assert_int_equal(F.nd, 1);
		assert_true(F.d[0].stored);
		assert_int_equal(F.d[0].size, 1);
		assert_int_equal(get64(orig + F.at + 6), 1);
		memcpy(frame, orig + F.at, LZ4PACK_FRAME_HDR_SIZE);
		put32(frame + LZ4PACK_FRAME_HDR_SIZE, 2 | LZ4PACK_STORED_BIT);
		frame[LZ4PACK_FRAME_HDR_SIZE + 4] = orig[F.d[0].data_at];
		frame[LZ4PACK_FRAME_HDR_SIZE + 5] = 'x';
		put32(frame + LZ4PACK_FRAME_HDR_SIZE + 6, 0);
		put32(frame + LZ4PACK_FRAME_HDR_SIZE + 10, get32(orig + F.sum_at));
		f = with_frame(orig, &L, 1, frame, sizeof frame, &m);
		assert_int_equal(m, n + 1);
		snprintf(what, sizeof what, "%s: stored data block of 2 bytes in a frame of 1",
			 format_name(v1));
		expect_damage(s, f, m, FRAME(1), what);
		free(f);

		/* The same splice with the frame as it was gives the file back. */
		f = with_frame(orig, &L, 1, orig + F.at, (size_t)(F.end - F.at), &m);
		assert_int_equal(m, n);
		assert_memory_equal(f, orig, n);
		free(f);
		free(orig);
	}
}

/* Frames whose data blocks do not add up to their block, each spliced
 * into a container whose index agrees with it, so that only the walk of
 * the data blocks can notice: no end mark; an extra data block before it;
 * an end mark one data block early; a data block of 64 KiB cut in two;
 * the BD of the other format, or of none we wrote. */
static void test_data_blocks_that_do_not_make_up_the_block_are_format_errors(void **state)
{
	(void)state;
	const struct stream *s = &streams[S_EXACT3];
	uint8_t *frame = malloc(2 * LZ4PACK_FRAME_MAX);

	assert_non_null(frame);
	for (int v1 = 0; v1 < 2; v1++)
		for (uint64_t i = 0; i < 3; i++) {
			size_t n, m, len;
			struct layout L;
			uint8_t *orig = container_bytes_of(s, v1, &n, &L), *f;
			struct frame F;
			const struct dblock *last;
			uint64_t flen;
			char what[128];
#define SPLICE(...)                                                             \
	do {                                                                    \
		snprintf(what, sizeof what, "%s: frame %llu: " __VA_ARGS__);    \
		f = with_frame(orig, &L, i, frame, len, &m);                    \
		expect_damage(s, f, m, FRAME(i), what);                         \
		free(f);                                                        \
	} while (0)
#define FR format_name(v1), (unsigned long long)i

			frame_of(orig, &L, i, &F);
			flen = F.end - F.at;
			last = &F.d[F.nd - 1];
			assert_int_equal(F.nd, v1 ? 1 : 16);

			/* no end mark: the checksum right after the last data block
			 * (which then seems to run into the trailer) */
			len = (size_t)flen - 4;
			memcpy(frame, orig + F.at, (size_t)(F.mark_at - F.at));
			memcpy(frame + (F.mark_at - F.at), orig + F.sum_at, 4);
			want_msg = "data block runs past the frame";
			SPLICE("no end mark", FR);
			want_msg = NULL;

			/* a copy of the last data block after it, before the end mark */
			len = (size_t)flen + 4 + last->size;
			memcpy(frame, orig + F.at, (size_t)(F.mark_at - F.at));
			memcpy(frame + (F.mark_at - F.at), orig + last->word_at, 4 + last->size);
			memcpy(frame + (F.mark_at - F.at) + 4 + last->size, orig + F.mark_at, 8);
			want_msg = len > LZ4PACK_FRAME_MAX ? "larger than a frame can be"
							   : "no end mark where the frame ends";
			SPLICE("one data block too many", FR);
			want_msg = NULL;

			/* the end mark in place of the last data block (for a frame
			 * of one data block, a frame of none: shorter than a frame
			 * can be, refused at the open) */
			len = (size_t)(last->word_at - F.at) + 8;
			memcpy(frame, orig + F.at, (size_t)(last->word_at - F.at));
			memcpy(frame + (last->word_at - F.at), orig + F.mark_at, 8);
			if (F.nd == 1) {
				f = with_frame(orig, &L, i, frame, len, &m);
				snprintf(what, sizeof what, "%s: frame %llu without data blocks", FR);
				expect_open_fails(f, m, what);
				free(f);
			} else {
				want_msg = "data blocks stop short of the block";
				SPLICE("end mark one data block early", FR);
				want_msg = NULL;
			}

			/* the first data block cut in two stored data blocks: a
			 * valid LZ4 frame that decodes to the same bytes, but not
			 * the layout pycore writes (lz4 -d would accept it) */
			{
				uint32_t d0 = v1 ? (uint32_t)block_len(s->size, i) : 65536;
				const uint8_t *core = s->content + i * MiB;
				uint8_t *p = frame + LZ4PACK_FRAME_HDR_SIZE;
				uint64_t rest = F.d[0].data_at + F.d[0].size;

				memcpy(frame, orig + F.at, LZ4PACK_FRAME_HDR_SIZE);
				put32(p, 1000 | LZ4PACK_STORED_BIT);
				memcpy(p + 4, core, 1000);
				put32(p + 1004, (d0 - 1000) | LZ4PACK_STORED_BIT);
				memcpy(p + 1008, core + 1000, d0 - 1000);
				p += 1008 + d0 - 1000;
				memcpy(p, orig + rest, (size_t)(F.end - rest));
				len = (size_t)(p - frame) + (size_t)(F.end - rest);
				SPLICE("first data block cut in two", FR);
			}

			/* another BD, with a header checksum that matches */
			const uint8_t bds[] = { 0x40, 0x50, 0x60, 0x70 };
			for (size_t k = 0; k < sizeof bds / sizeof bds[0]; k++) {
				if (bds[k] == F.bd)
					continue;
				len = (size_t)flen;
				memcpy(frame, orig + F.at, len);
				frame[5] = bds[k];
				frame[14] = (uint8_t)(xxh32(frame + 4, 10, 0) >> 8);
				SPLICE("BD %#x → %#x", FR, F.bd, bds[k]);
			}
#undef SPLICE
#undef FR
			free(orig);
		}
	free(frame);
}

/* Only the BD values pycore wrote open: 0x40 (64 KiB data blocks) and
 * 0x60 (older containers, 1 MiB). */
static void test_frame_header_check_accepts_the_two_bds_pycore_wrote(void **state)
{
	(void)state;
	uint8_t h[LZ4PACK_FRAME_HDR_SIZE];
	uint64_t len;
	uint32_t dmax;

	lz4pack_put_frame_header(h, 12345);
	assert_int_equal(h[5], 0x40);
	for (int bd = 0; bd < 256; bd++) {
		h[5] = (uint8_t)bd;
		h[14] = (uint8_t)(xxh32(h + 4, 10, 0) >> 8);
		len = dmax = 0;
		if (bd == 0x40 || bd == 0x60) {
			assert_int_equal(lz4pack_check_frame_header(h, &len, &dmax), 0);
			assert_int_equal(len, 12345);
			assert_int_equal(dmax, bd == 0x40 ? 65536 : MiB);
		} else if (lz4pack_check_frame_header(h, &len, &dmax) == 0) {
			fail_msg("BD %#x accepted", bd);
		}
	}
}

/* Found while writing these tests: when a frame passes every check that
 * comes before decoding but does not decompress to its full size, the
 * reader has already overwritten its one-block cache while still believing
 * it holds the previous block. */
static void test_block_that_fails_to_decompress_leaves_the_cached_block_intact(void **state)
{
	(void)state;
	const struct stream *s = &streams[S_EXACT3];

	for (int v1 = 0; v1 < 2; v1++) {
		size_t n;
		struct layout L;
		uint8_t *f = container_bytes_of(s, v1, &n, &L), *buf = malloc(MiB);
		struct frame F;
		struct tmp d;
		struct opened o;

		assert_non_null(buf);
		frame_of(f, &L, 1, &F);
		assert_int_equal(F.nstored, 0);
		/* Frame 1's header, size words, span and end mark stay right; the
		 * data of its last data block becomes valid LZ4 of the same size
		 * that decodes to fewer bytes. */
		const struct dblock *D = &F.d[F.nd - 1];
		lz4_literals_of_size(f + D->data_at, D->size);
		assert_int_equal(LZ4_decompress_safe((const char *)f + D->data_at, (char *)buf,
						     (int)D->size, MiB) > 0, 1);
		spill(&d, f, n);
		assert_non_null(open_pack(d.path, &o));

		assert_int_equal(lz4pack_pread(o.p, buf, MiB, 0), MiB);       /* block 0 */
		assert_memory_equal(buf, s->content, MiB);
		pc_clear_error();
		assert_int_equal(lz4pack_pread(o.p, buf, 100, MiB + 5), -1);  /* block 1 */
		assert_int_equal(pc_errcode(), PC_EFORMAT);
		memset(buf, 0, MiB);
		assert_int_equal(lz4pack_pread(o.p, buf, MiB, 0), MiB);       /* block 0 again */
		assert_memory_equal(buf, s->content, MiB);
		assert_int_equal(lz4pack_pread(o.p, buf, 10, 2 * MiB), 10);   /* block 2 fine */
		assert_memory_equal(buf, s->content + 2 * MiB, 10);
		close_pack(&o);
		tmp_remove(&d);
		free(buf);
		free(f);
	}
}

/* ------------------------------------------------------------------ */
/* The writer                                                          */

static void test_worker_count_does_not_change_the_file(void **state)
{
	(void)state;
	static const size_t which[] = { S_MIXED, S_EXACT3, S_FEW, S_PLUS1 };
	for (size_t w = 0; w < sizeof which / sizeof which[0]; w++) {
		const struct stream *s = &streams[which[w]];
		static const int workers[] = { 1, 3, 0, 8 };
		uint8_t *first = NULL;
		size_t first_len = 0;

		for (size_t k = 0; k < sizeof workers / sizeof workers[0]; k++) {
			struct tmp t;
			size_t len;
			uint8_t *f;

			write_lz4(&t, s, workers[k]);
			f = slurp(t.path, &len);
			tmp_remove(&t);
			if (!first) {
				first = f;
				first_len = len;
				continue;
			}
			if (len != first_len || memcmp(f, first, len) != 0)
				fail_msg("%s: %d workers wrote a different file than 1",
					 s->name, workers[k]);
			free(f);
		}
		free(first);
	}
}

static void test_sink_lz4_refuses_more_bytes_than_planned(void **state)
{
	(void)state;
	struct tmp t;
	int fd = tmp_open(&t);
	struct pc_sink *k = sink_lz4_new(fd, 100, 2);
	char buf[64] = "0123456789";

	assert_non_null(k);
	assert_int_equal(sink_write(k, buf, 60), 0);
	pc_clear_error();
	assert_int_equal(sink_write(k, buf, 41), -1);
	assert_int_equal(pc_errcode(), PC_EINTERNAL);
	pc_clear_error();
	assert_int_equal(sink_hole(k, 41), -1);
	assert_int_equal(pc_errcode(), PC_EINTERNAL);
	assert_int_equal(k->offset, 60);
	assert_int_equal(sink_hole(k, 40), 0);       /* exactly the rest */
	assert_int_equal(sink_finish(k), 0);
	sink_destroy(k);
	close(fd);
	tmp_remove(&t);
}

static void test_sink_lz4_finish_short_of_the_planned_size_fails(void **state)
{
	(void)state;
	struct tmp t;
	int fd = tmp_open(&t);
	struct pc_sink *k = sink_lz4_new(fd, 3 * MiB, 2);

	assert_non_null(k);
	assert_int_equal(sink_hole(k, 2 * MiB), 0);
	pc_clear_error();
	assert_int_equal(sink_finish(k), -1);
	assert_int_equal(pc_errcode(), PC_EINTERNAL);
	sink_destroy(k);
	close(fd);
	tmp_remove(&t);
}

static void test_destroy_without_finish_does_not_hang(void **state)
{
	(void)state;
	const struct stream *s = &streams[S_MIXED];
	struct tmp t;
	int fd = tmp_open(&t);
	struct pc_sink *k = sink_lz4_new(fd, s->size, 3);

	assert_non_null(k);
	assert_int_equal(sink_write(k, s->content, 3 * MiB + 5), 0);
	alarm(30);
	sink_destroy(k);
	alarm(0);
	close(fd);
	tmp_remove(&t);
}

static void test_sinks_on_an_unwritable_fd_are_output_errors(void **state)
{
	(void)state;
	struct tmp t;
	int fd;
	struct pc_sink *k;

	close(tmp_open(&t));
	fd = open(t.path, O_RDONLY);
	/* The LZ4 sink writes nothing before its first frame is built, so the
	 * error comes from its writer thread: at the finish for a small core
	 * (one partial block), earlier or at the finish for a larger one. */
	pc_clear_error();
	k = sink_lz4_new(fd, 100, 2);
	assert_non_null(k);
	assert_int_equal(sink_write(k, "abc", 3), 0);
	assert_int_equal(sink_hole(k, 97), 0);
	assert_int_equal(sink_finish(k), -1);
	assert_int_equal(pc_errcode(), PC_EOUTPUT);
	assert_non_null(strstr(pc_errmsg(), strerror(EBADF)));
	sink_destroy(k);
	for (int nworkers = 1; nworkers <= 3; nworkers += 2) {
		const struct stream *s = &streams[S_MIXED];
		int rc = 0;

		pc_clear_error();
		k = sink_lz4_new(fd, s->size, nworkers);
		assert_non_null(k);
		for (uint64_t at = 0; at < s->size && rc == 0;) {
			size_t len = s->size - at < 100000 ? (size_t)(s->size - at) : 100000;
			rc = sink_write(k, s->content + at, len);
			at += len;
		}
		if (rc == 0)
			rc = sink_finish(k);
		assert_int_equal(rc, -1);
		assert_int_equal(pc_errcode(), PC_EOUTPUT);
		assert_non_null(strstr(pc_errmsg(), strerror(EBADF)));
		sink_destroy(k);
	}
	k = sink_raw_new(fd);
	assert_non_null(k);
	pc_clear_error();
	assert_int_equal(sink_write(k, "abc", 3), -1);
	assert_int_equal(pc_errcode(), PC_EOUTPUT);
	sink_destroy(k);
	close(fd);
	tmp_remove(&t);
}

static void test_write_error_on_the_writer_thread_reaches_the_producer(void **state)
{
	(void)state;
	const struct stream *s = &streams[S_MIXED];
	struct rlimit old, lim;
	struct tmp t;
	int fd = tmp_open(&t), rc = 0;
	struct pc_sink *k;
	void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 64 * 1024;               /* EFBIG past 64 KiB */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	alarm(30);
	k = sink_lz4_new(fd, s->size, 1);
	assert_non_null(k);
	pc_clear_error();
	for (uint64_t at = 0; at < s->size && rc == 0;) {
		size_t len = s->size - at < 100000 ? (size_t)(s->size - at) : 100000;
		rc = sink_write(k, s->content + at, len);
		at += len;
	}
	if (rc == 0)
		rc = sink_finish(k);
	sink_destroy(k);
	alarm(0);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, old_handler);
	close(fd);
	tmp_remove(&t);
	assert_int_equal(rc, -1);
	assert_int_equal(pc_errcode(), PC_EOUTPUT);
	assert_int_equal(pc_errno(), 0);          /* the message already says it */
	assert_non_null(strstr(pc_errmsg(), strerror(EFBIG)));
}

/* ------------------------------------------------------------------ */

static int setup(void **state)
{
	(void)state;
	const char *base = getenv("TMPDIR");
	if (!base || !*base || strlen(base) > sizeof tmpdir - 32)
		base = "/tmp";
	snprintf(tmpdir, sizeof tmpdir, "%s/pycore-lz4-test-XXXXXX", base);
	if (!mkdtemp(tmpdir))
		return -1;
	for (size_t i = 0; i < NSTREAMS; i++)
		build_content(&streams[i]);
	return 0;
}

static int teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	(void)state;

	while (d && (e = readdir(d)) != NULL) {
		char path[512];
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(tmpdir);
	for (size_t i = 0; i < NSTREAMS; i++)
		free(streams[i].content);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_container_round_trip_at_random_offsets),
		cmocka_unit_test(test_container_layout_matches_the_documented_format),
		cmocka_unit_test(test_incompressible_block_is_stored_and_zero_blocks_are_tiny),
		cmocka_unit_test(test_lz4pack_is_lz4_recognises_lz4_frames_only),
		cmocka_unit_test(test_lz4_cli_decompresses_the_container_to_the_raw_core),
		cmocka_unit_test(test_raw_file_ending_in_a_hole_has_the_full_length),
		cmocka_unit_test(test_lz4_cli_rejects_a_container_with_a_flipped_byte),
		cmocka_unit_test(test_lz4_cli_decompresses_every_frame_on_its_own),
		cmocka_unit_test(test_lz4_cli_decodes_the_hand_built_bd_0x60_container),
		cmocka_unit_test(test_damaged_frame_header_data_block_end_mark_or_checksum_is_a_format_error),
		cmocka_unit_test(test_flipped_stored_bit_is_a_format_error_and_spares_other_blocks),
		cmocka_unit_test(test_truncated_container_does_not_open),
		cmocka_unit_test(test_damaged_index_does_not_open),
		cmocka_unit_test(test_changed_index_offsets_are_format_errors),
		cmocka_unit_test(test_index_offset_that_wraps_around_is_a_format_error),
		cmocka_unit_test(test_index_with_a_content_size_that_wraps_the_block_count_does_not_open),
		cmocka_unit_test(test_stored_block_longer_than_its_content_size_is_a_format_error),
		cmocka_unit_test(test_data_blocks_that_do_not_make_up_the_block_are_format_errors),
		cmocka_unit_test(test_frame_header_check_accepts_the_two_bds_pycore_wrote),
		cmocka_unit_test(test_block_that_fails_to_decompress_leaves_the_cached_block_intact),
		cmocka_unit_test(test_worker_count_does_not_change_the_file),
		cmocka_unit_test(test_sink_lz4_refuses_more_bytes_than_planned),
		cmocka_unit_test(test_sink_lz4_finish_short_of_the_planned_size_fails),
		cmocka_unit_test(test_destroy_without_finish_does_not_hang),
		cmocka_unit_test(test_sinks_on_an_unwritable_fd_are_output_errors),
		cmocka_unit_test(test_write_error_on_the_writer_thread_reaches_the_producer),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
