/* heap_pymalloc.c — the used blocks of pymalloc's arenas.
 *
 * The arena vector comes from the interpreter state (3.12+), from the
 * static `arenas`/`maxarenas` of obmalloc.c (.symtab, so unstripped builds
 * only), or — stripped builds before 3.12 — arenas are rebuilt by scanning
 * anonymous memory for pool headers.  In each pool, the blocks below
 * `nextoffset` that are not on the pool's free list are the used ones.
 */
#include "heap.h"

#include "../common/error.h"
#include "../common/le.h"
#include "../common/sort.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* struct pool_header and struct arena_object have had the same layout
 * from 2.7 to 3.13 (obmalloc.c; pycore_obmalloc.h from 3.12). */
#define POOL_COUNT          0     /* u32: blocks in use */
#define POOL_FREEBLOCK      8     /* first free block, linked through word 0 */
#define POOL_SZIDX          36    /* u32: size class; block size (szidx+1)*16 */
#define POOL_NEXTOFFSET     40    /* u32: first never-used block */
#define POOL_MAXNEXTOFFSET  44    /* u32: POOL_SIZE - block size */
#define POOL_OVERHEAD       48
#define ARENA_ADDRESS       0
#define ARENA_POOL_ADDRESS  8     /* first pool never carved */
#define ARENA_OBJECT_SIZE   48
#define ALIGNMENT           16
#define SIZE_CLASSES        32
#define POOLS_PER_ARENA     64    /* 4 KiB/256 KiB (<= 3.9), 16 KiB/1 MiB (3.10+) */
#define MAXARENAS_LIMIT     (1u << 24)

static const uint32_t pool_sizes[] = { 16384, 4096 };



/* Does the page at pool look like a header of a pool of pool_size? */
static bool pool_header_valid(const uint8_t *h, uint64_t pool, uint32_t pool_size)
{
	uint32_t szidx = le_get32(h + POOL_SZIDX), size, next = le_get32(h + POOL_NEXTOFFSET);
	uint64_t free = le_get64(h + POOL_FREEBLOCK);

	if (szidx >= SIZE_CLASSES)
		return false;
	size = (szidx + 1) * ALIGNMENT;
	return le_get32(h + POOL_MAXNEXTOFFSET) == pool_size - size && next >= POOL_OVERHEAD &&
	       next <= pool_size && (next - POOL_OVERHEAD) % size == 0 &&
	       le_get32(h + POOL_COUNT) <= (pool_size - POOL_OVERHEAD) / size &&
	       (free == 0 || (free > pool && free < pool + pool_size));
}

/* Report each used block of one pool. */
static int walk_pool(struct pc_py *py, uint64_t pool, uint32_t pool_size, heap_block_fn fn,
		     void *arg, struct heap_stats *st)
{
	const uint8_t *p = py_ptr(py, pool, pool_size);
	uint8_t is_free[16384 / ALIGNMENT];
	uint32_t size, next, nblocks;

	if (!p) {
		heap_note_unreadable(st);
		return 0;
	}
	if (le_get32(p + POOL_COUNT) == 0 || !pool_header_valid(p, pool, pool_size))
		return 0;                     /* empty (its blocks are dead) or not a pool */
	size = (le_get32(p + POOL_SZIDX) + 1) * ALIGNMENT;
	next = le_get32(p + POOL_NEXTOFFSET);
	nblocks = (next - POOL_OVERHEAD) / size;
	memset(is_free, 0, nblocks);
	/* The free list threads through word 0 of each free block. */
	for (uint64_t b = le_get64(p + POOL_FREEBLOCK), steps = 0; b && steps <= nblocks; steps++) {
		uint64_t off = b - pool;
		if (b < pool + POOL_OVERHEAD || off >= next || (off - POOL_OVERHEAD) % size)
			break;                /* damaged list: what it marked so far stands */
		is_free[(off - POOL_OVERHEAD) / size] = 1;
		b = le_get64(p + off);
	}
	st->pools++;
	for (uint32_t i = 0; i < nblocks; i++) {
		uint32_t off = POOL_OVERHEAD + i * size;
		int rc;
		if (is_free[i])
			continue;
		st->blocks++;
		if ((rc = fn(arg, pool + off, p + off, size)) != 0)
			return rc;
	}
	return 0;
}

/* The pool size, from the first carved pool's header. */
static uint32_t detect_pool_size(struct pc_py *py, uint64_t address, uint64_t carved)
{
	for (size_t i = 0; i < sizeof pool_sizes / sizeof pool_sizes[0]; i++) {
		uint32_t ps = pool_sizes[i];
		uint64_t first = (address + ps - 1) & ~(uint64_t)(ps - 1);
		const uint8_t *h = py_ptr(py, first, POOL_OVERHEAD);
		if (first < carved && h && pool_header_valid(h, first, ps))
			return ps;
	}
	return 0;
}

static int walk_arena(struct pc_py *py, uint64_t address, uint64_t carved, uint32_t *pool_size,
		      struct heap_regions *covered, heap_block_fn fn, void *arg,
		      struct heap_stats *st)
{
	uint64_t first, end;
	int rc;

	if (!*pool_size && !(*pool_size = detect_pool_size(py, address, carved)))
		return 0;                     /* no pool carved yet, or unreadable */
	end = address + (uint64_t)*pool_size * POOLS_PER_ARENA;
	if (heap_regions_add(covered, address, end) < 0)
		return -1;
	st->arenas++;
	first = (address + *pool_size - 1) & ~(uint64_t)(*pool_size - 1);
	for (uint64_t pool = first; pool < carved && pool + *pool_size <= end; pool += *pool_size)
		if ((rc = walk_pool(py, pool, *pool_size, fn, arg, st)) != 0)
			return rc;
	return 0;
}

/* An interpreter's obmalloc state (3.12+): embedded in it (3.12) or
 * pointed to (3.13).  0 when it has none of its own. */
static uint64_t obmalloc_state(struct pc_py *py, uint64_t interp)
{
	uint64_t state = interp + (uint64_t)py->L.off[LF_INTERP_OBMALLOC];

	if (py->L.obmalloc_is_pointer && py_u64(py, state, &state) < 0) {
		pc_clear_error();
		return 0;
	}
	return state;
}

static int walk_vector(struct pc_py *py, uint64_t vec, uint32_t count,
		       struct heap_regions *covered, heap_block_fn fn, void *arg,
		       struct heap_stats *st);

/* 3.12+: each interpreter with an allocator of its own (a sub-interpreter
 * with its own GIL); those sharing the main one's are seen once. */
static int walk_interpreters(struct pc_py *py, struct heap_regions *covered, heap_block_fn fn,
			     void *arg, struct heap_stats *st)
{
	uint64_t interps[PY_INTERPRETERS_MAX], states[PY_INTERPRETERS_MAX];
	size_t n, nstates = 0;
	int rc;

	if (py_interpreters(py, interps, PY_INTERPRETERS_MAX, &n) < 0)
		return -1;
	st->pymalloc_found_by = "interpreter state";
	for (size_t i = 0; i < n; i++) {
		uint64_t state = obmalloc_state(py, interps[i]), vec = 0;
		uint32_t count = 0;
		bool seen = false;
		for (size_t k = 0; k < nstates; k++)
			seen |= states[k] == state;
		if (!state || seen)
			continue;
		states[nstates++] = state;
		if (py_u64(py, state + (uint64_t)py->L.off[LF_OBMALLOC_ARENAS], &vec) < 0 ||
		    py_read(py, state + (uint64_t)py->L.off[LF_OBMALLOC_MAXARENAS], &count, 4) < 0) {
			if (interps[i] == py->main_interp)
				return -1;
			pc_clear_error();     /* a sub-interpreter's: skip it */
			continue;
		}
		if (vec && (rc = walk_vector(py, vec, count, covered, fn, arg, st)) != 0)
			return rc;
	}
	return 0;
}

/* Where the static arena vector is (<= 3.11): (vector, count), or 0 when
 * not known. */
static int find_arena_vector(struct pc_py *py, uint64_t *vec, uint32_t *count,
			     struct heap_stats *st)
{
	uint64_t at;

	if (image_symbol(py->img, "arenas", &at) == 0 && py_u64(py, at, vec) == 0 &&
	    image_symbol(py->img, "maxarenas", &at) == 0 && py_read(py, at, count, 4) == 0) {
		st->pymalloc_found_by = "symbols";
		return 1;
	}
	pc_clear_error();
	return 0;
}

static int scan_for_pools(struct pc_py *py, struct heap_regions *covered, heap_block_fn fn,
			  void *arg, struct heap_stats *st);

static int by_address(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int walk_vector(struct pc_py *py, uint64_t vec, uint32_t count,
		       struct heap_regions *covered, heap_block_fn fn, void *arg,
		       struct heap_stats *st)
{
	const uint8_t *v;
	uint32_t pool_size = 0;
	int rc;

	if (count > MAXARENAS_LIMIT)
		return pc_fail(PC_EFORMAT, 0, "pymalloc claims %u arenas: damaged core?", count);
	if (count == 0)
		return 0;
	if (!(v = py_ptr(py, vec, (size_t)count * ARENA_OBJECT_SIZE))) {
		/* Damaged or not dumped: the pools can still be found by their
		 * headers. */
		heap_note_unreadable(st);
		return scan_for_pools(py, covered, fn, arg, st);
	}
	/* In address order: the objects then come out sorted, which is what
	 * the object index wants (one long run instead of one per arena). */
	struct arena_ref { uint64_t address, carved; } *order = malloc((size_t)count * sizeof *order);
	size_t n = 0;
	if (!order)
		return pc_fail(PC_EINTERNAL, 0, "out of memory for the arena list");
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *a = v + (size_t)i * ARENA_OBJECT_SIZE;
		if (le_get64(a + ARENA_ADDRESS))
			order[n++] = (struct arena_ref){ le_get64(a + ARENA_ADDRESS),
							 le_get64(a + ARENA_POOL_ADDRESS) };
	}
	sort_array(order, n, sizeof *order, by_address);
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = walk_arena(py, order[i].address, order[i].carved, &pool_size, covered, fn, arg, st);
	free(order);
	return rc;
}

/* Stripped builds before 3.12: every pool-aligned page of anonymous
 * writable memory whose header is a valid pool header is a pool. */
static int scan_for_pools(struct pc_py *py, struct heap_regions *covered, heap_block_fn fn,
			  void *arg, struct heap_stats *st)
{
	struct pc_core *core = py->img->core;
	int rc;

	st->pymalloc_found_by = "scan";
	for (size_t k = 0; k < sizeof pool_sizes / sizeof pool_sizes[0]; k++) {
		uint32_t ps = pool_sizes[k];
		uint64_t found = st->pools;
		for (size_t i = 0; i < core_segment_count(core); i++) {
			const struct pc_core_segment *g = core_segment(core, i);
			uint64_t first = (g->vaddr + ps - 1) & ~(uint64_t)(ps - 1);
			if (core_segment_file_backed(core, g))
				continue;
			for (uint64_t pool = first; pool + ps <= g->vaddr + g->filesz; pool += ps) {
				const uint8_t *h = py_ptr(py, pool, POOL_OVERHEAD);
				if (!h || !pool_header_valid(h, pool, ps))
					continue;
				if (heap_regions_add(covered, pool, pool + ps) < 0)
					return -1;
				if ((rc = walk_pool(py, pool, ps, fn, arg, st)) != 0)
					return rc;
			}
		}
		if (st->pools > found)
			break;                /* this pool size it is */
	}
	return 0;
}

int heap_pymalloc_walk(struct pc_py *py, struct heap_regions *covered, heap_block_fn fn,
		       void *arg, struct heap_stats *st)
{
	uint64_t vec = 0;
	uint32_t count = 0;
	int found;

	if (py->L.obmalloc_in_interp) {
		int rc = walk_interpreters(py, covered, fn, arg, st);
		return rc < 0 ? pc_wrap("finding pymalloc's arenas") : rc;
	}
	found = find_arena_vector(py, &vec, &count, st);
	if (found < 0)
		return pc_wrap("finding pymalloc's arenas");
	if (found)
		return walk_vector(py, vec, count, covered, fn, arg, st);
	return scan_for_pools(py, covered, fn, arg, st);
}
