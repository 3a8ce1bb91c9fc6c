/* heap_glibc.c — the in-use chunks of glibc's malloc, found without libc
 * symbols (glibc >= 2.26, x86-64).
 *
 * A chunk is {prev_size, size | flags, user data…}; chunk sizes are
 * multiples of 16, and a chunk is in use when the next chunk's PREV_INUSE
 * bit is set.  Heaps are recognised by walking them:
 *   - the main arena's heap (brk): an anonymous segment whose chunk walk
 *     from its first byte ends exactly at its end (the top chunk);
 *   - other arenas' heaps: 64 MiB-aligned, starting with heap_info
 *     {ar_ptr, prev, size, …}; the walk ends at heap + size;
 *   - mmapped chunks: page-aligned headers with IS_MMAPPED, anywhere else
 *     in anonymous memory.
 * tcache and fastbin chunks keep PREV_INUSE set and look in use; the
 * object checks of heap.c reject them (their first words are links).
 */
#include "heap.h"

#include "../common/error.h"
#include "../common/le.h"

#include <stdbool.h>
#include <string.h>

#define PREV_INUSE      1u
#define IS_MMAPPED      2u
#define NON_MAIN_ARENA  4u
#define FLAGS           7u
#define CHUNK_HDR       16u          /* prev_size, size */
#define MIN_CHUNK       32u
#define HEAP_MAX_SIZE   (64ull << 20)
#define HEAP_INFO_SIZE  48u          /* ar_ptr, prev, size, mprotect_size, pagesize, pad */
#define PAGE            4096u
#define FIRST_CHUNK_SEARCH 4096u     /* malloc_state lies between heap_info and chunk 1 */


/* Walk chunks from start while they stay inside [start, end).  Returns
 * true when the walk lands exactly on end: then the range is a heap. */
static bool chunks_tile(const uint8_t *mem, uint64_t start, uint64_t end)
{
	uint64_t c = start;

	while (c + CHUNK_HDR <= end) {
		uint64_t size = le_get64(mem + (c - start) + 8) & ~(uint64_t)FLAGS;
		if (size < MIN_CHUNK || size % 16 || size > end - c)
			return false;
		c += size;
	}
	return c == end;
}

/* Report the in-use chunks of a heap known to tile [start, end). */
static int report_chunks(const uint8_t *mem, uint64_t start, uint64_t end,
			 struct heap_regions *covered, heap_block_fn fn, void *arg,
			 struct heap_stats *st)
{
	uint64_t c = start;
	int rc;

	if (heap_regions_add(covered, start, end) < 0)
		return -1;
	st->heaps++;
	while (c + CHUNK_HDR <= end) {
		uint64_t size = le_get64(mem + (c - start) + 8) & ~(uint64_t)FLAGS;
		uint64_t next = c + size;
		/* The last chunk is the top chunk: free by definition. */
		if (next + CHUNK_HDR <= end && (le_get64(mem + (next - start) + 8) & PREV_INUSE)) {
			st->chunks++;
			/* In use, it may also use the next chunk's prev_size word. */
			rc = fn(arg, c + CHUNK_HDR, mem + (c - start) + CHUNK_HDR,
				(size_t)(size - CHUNK_HDR + 8));
			if (rc)
				return rc;
		}
		c = next;
	}
	return 0;
}

/* The main heap: chunk walk from the segment's first byte. */
static int try_main_heap(const uint8_t *mem, uint64_t start, uint64_t end,
			 struct heap_regions *covered, heap_block_fn fn, void *arg,
			 struct heap_stats *st, bool *is_heap)
{
	*is_heap = le_get64(mem) == 0 && (le_get64(mem + 8) & PREV_INUSE) && chunks_tile(mem, start, end);
	return *is_heap ? report_chunks(mem, start, end, covered, fn, arg, st) : 0;
}

/* A non-main arena's heap at a 64 MiB boundary. */
static int try_arena_heap(const uint8_t *mem, uint64_t start, uint64_t seg_end,
			  struct heap_regions *covered, heap_block_fn fn, void *arg,
			  struct heap_stats *st)
{
	uint64_t ar_ptr = le_get64(mem), size = le_get64(mem + 16);
	uint64_t first = start + HEAP_INFO_SIZE, end = start + size;

	if (start % HEAP_MAX_SIZE || size < HEAP_INFO_SIZE + MIN_CHUNK || end > seg_end ||
	    !ar_ptr)
		return 0;
	/* The arena's first heap holds its malloc_state after heap_info;
	 * later heaps start their chunks right after heap_info. */
	for (uint64_t c = first; c < first + FIRST_CHUNK_SEARCH && c < end; c += 16) {
		if (!(le_get64(mem + (c - start) + 8) & PREV_INUSE) ||
		    !chunks_tile(mem + (c - start), c, end))
			continue;
		return report_chunks(mem + (c - start), c, end, covered, fn, arg, st);
	}
	return 0;
}

/* mmapped chunks: page-aligned {prev_size = slack, size | IS_MMAPPED}. */
static int scan_mmapped(const uint8_t *mem, uint64_t start, uint64_t end,
			struct heap_regions *covered, heap_block_fn fn, void *arg,
			struct heap_stats *st)
{
	int rc;

	for (uint64_t c = (start + PAGE - 1) & ~(uint64_t)(PAGE - 1); c >= start && c + PAGE <= end;) {
		uint64_t word = le_get64(mem + (c - start) + 8), size = word & ~(uint64_t)FLAGS;
		if (heap_regions_contain(covered, c) || (word & FLAGS) != IS_MMAPPED ||
		    le_get64(mem + (c - start)) >= PAGE || size < PAGE || size % PAGE ||
		    size > end - c) {
			c += PAGE;
			continue;
		}
		st->mmapped++;
		if (heap_regions_add(covered, c, c + size) < 0)
			return -1;
		if ((rc = fn(arg, c + CHUNK_HDR, mem + (c - start) + CHUNK_HDR,
			     (size_t)(size - CHUNK_HDR))) != 0)
			return rc;
		c += size;
	}
	return 0;
}

static int walk_segment(struct pc_py *py, const struct pc_core_segment *g,
			struct heap_regions *covered, heap_block_fn fn, void *arg,
			struct heap_stats *st)
{
	uint64_t start = g->vaddr, end = g->vaddr + g->filesz;
	const uint8_t *mem = py_ptr(py, start, (size_t)g->filesz);
	bool is_heap;
	int rc;

	if (!mem) {
		heap_note_unreadable(st);
		return 0;
	}
	if (heap_regions_contain(covered, start) && heap_regions_contain(covered, end - 1))
		return 0;                     /* all pymalloc */
	if ((rc = try_main_heap(mem, start, end, covered, fn, arg, st, &is_heap)) != 0 || is_heap)
		return rc;
	/* Heaps of other arenas sit at 64 MiB boundaries inside the segment. */
	for (uint64_t h = (start + HEAP_MAX_SIZE - 1) & ~(HEAP_MAX_SIZE - 1);
	     h >= start && h + HEAP_INFO_SIZE < end; h += HEAP_MAX_SIZE) {   /* h < start: wrapped */
		if ((rc = try_arena_heap(mem + (h - start), h, end, covered, fn, arg, st)) != 0)
			return rc;
	}
	return scan_mmapped(mem, start, end, covered, fn, arg, st);
}

int heap_glibc_walk(struct pc_py *py, struct heap_regions *covered, heap_block_fn fn,
		    void *arg, struct heap_stats *st)
{
	struct pc_core *core = py->img->core;
	int rc;

	for (size_t i = 0; i < core_segment_count(core); i++) {
		const struct pc_core_segment *g = core_segment(core, i);
		if (g->filesz < MIN_CHUNK || core_segment_file_backed(core, g))
			continue;
		if ((rc = walk_segment(py, g, covered, fn, arg, st)) != 0)
			return rc;
	}
	return 0;
}
