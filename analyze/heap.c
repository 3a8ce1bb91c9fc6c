/* heap.c — from allocations to objects: which blocks hold a live object. */
#include "heap.h"

#include "../common/error.h"
#include "../common/le.h"
#include "../common/sort.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PYTHONMALLOC=debug wraps each allocation in 16 bytes: the requested size
 * (8 bytes, big-endian), an API id ('r', 'm' or 'o') and 7 × 0xFD. */
#define DEBUG_HOOK_SIZE 16
#define DEBUG_PAD_BYTE  0xFD

struct walk {
	struct pc_py *py;
	struct pc_types *types;
	heap_object_fn fn;
	void *arg;
	struct heap_stats *st;
	struct heap_regions covered;
	heap_progress_fn progress;
	void *progress_arg;
	bool collecting;             /* the core was taken mid-collection */
	uint64_t judged, total;      /* bytes, for progress */
};

#define PROGRESS_EVERY (16u << 20)

int heap_regions_add(struct heap_regions *r, uint64_t start, uint64_t end)
{
	if (r->n == r->cap) {
		void *v = realloc(r->v, (r->cap = r->cap ? 2 * r->cap : 64) * sizeof *r->v);
		if (!v)
			return pc_fail(PC_EINTERNAL, 0, "out of memory for heap regions");
		r->v = v;
	}
	r->v[r->n].start = start;
	r->v[r->n].end = end;
	r->n++;
	r->sorted = 0;
	return 0;
}

static int by_start(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

int heap_regions_contain(struct heap_regions *r, uint64_t addr)
{
	size_t lo = 0, hi = r->n;

	if (!r->sorted) {
		sort_array(r->v, r->n, sizeof *r->v, by_start);
		r->sorted = 1;
	}
	while (lo < hi) {                  /* the last region starting at or below addr */
		size_t mid = lo + (hi - lo) / 2;
		if (r->v[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && addr < r->v[lo - 1].end;
}

void heap_note_unreadable(struct heap_stats *st)
{
	if (!st->unreadable++)
		snprintf(st->damage, sizeof st->damage, "%s",
			 pc_errcode() ? pc_errmsg() : "memory the core does not hold");
	pc_clear_error();
}


/* The GC header before a GC object agrees with the lists: untracked
 * (_gc_next 0, and _gc_prev holding at most the "finalized" flag, as
 * _PyObject_GC_UNTRACK leaves it), or both neighbours point back at it.
 * Stale copies of objects in reused memory fail this. */
static bool gc_links_agree(struct walk *w, uint64_t obj, const uint8_t *obj_mem)
{
	uint64_t header = obj - w->py->gc_head;
	uint64_t next = le_get64(obj_mem - w->py->gc_head), prev = le_get64(obj_mem - w->py->gc_head + 8);
	uint64_t back, forward;

	if (next == 0)
		return (prev & ~1ull) == 0;
	/* Mid-collection _gc_prev holds reference counts and _gc_next may
	 * carry the "unreachable" flag: only the forward link is left to
	 * check, and that it leads somewhere the core holds. */
	if (w->collecting)
		return !((next & ~1ull) & 7) && py_ptr(w->py, next & ~1ull, 16) != NULL;
	if ((next & 1) || py_u64(w->py, next + 8, &back) < 0 ||
	    py_u64(w->py, prev & ~3ull, &forward) < 0) {
		pc_clear_error();
		return false;
	}
	return (back & ~3ull) == header && (forward & ~1ull) == header;
}

static size_t smallest_size(const struct pc_py *py, const struct py_type *t)
{
	return t->is_str ? (size_t)py->L.size[LS_ASCII] + 1 : (size_t)t->basicsize;
}

/* Is there an object at offset k of this allocation? */
static const struct py_type *object_at(struct walk *w, uint64_t addr, const uint8_t *mem,
				       size_t len, size_t k, size_t hook)
{
	const struct py_type *t;

	if (k + 16 > len)
		return NULL;
	t = types_lookup(w->types, le_get64(mem + k + 8));
	if (!t || t->prefix + hook != k || !py_refcnt_plausible(le_get64(mem + k)) ||
	    k + smallest_size(w->py, t) > len)
		return NULL;
	if (t->is_gc && !gc_links_agree(w, addr + k, mem + k))
		return NULL;
	return t;
}

/* One debug pad at mem? */
static bool is_debug_pad(const uint8_t *mem)
{
	if (mem[8] != 'o' && mem[8] != 'm' && mem[8] != 'r')
		return false;
	for (int i = 9; i < DEBUG_HOOK_SIZE; i++)
		if (mem[i] != DEBUG_PAD_BYTE)
			return false;
	return true;
}

/* The debug pads in front of an allocation: one, or two when the object
 * allocator's hooks ('o') wrap the raw allocator's ('r'), as for objects
 * over 512 bytes, which pymalloc hands to PyMem_RawMalloc. */
static size_t debug_hook_size(const uint8_t *mem, size_t len)
{
	size_t hook = 0;

	while (hook < 2 * DEBUG_HOOK_SIZE && len >= hook + DEBUG_HOOK_SIZE + 16 &&
	       is_debug_pad(mem + hook))
		hook += DEBUG_HOOK_SIZE;
	return hook;
}

/* One allocation: try the object positions a type can dictate, largest
 * prefix first (a GC object's stale header words can look like a
 * non-GC object at offset 0, never the other way round). */
static int judge_block(void *arg, uint64_t addr, const uint8_t *mem, size_t len)
{
	struct walk *w = arg;
	size_t gc = w->py->gc_head;
	size_t hook = debug_hook_size(mem, len);
	size_t offsets[] = { gc + 16, gc, 0 };

	if (hook)
		w->st->debug_hooks = 1;
	if (w->progress && (w->judged += len) % PROGRESS_EVERY < len)
		w->progress(w->progress_arg, w->judged < w->total ? w->judged : w->total, w->total);
	for (size_t i = 0; i < 3; i++) {
		size_t k = offsets[i] + hook;
		const struct py_type *t;
		if ((i == 0 && !w->py->L.has_preheader) || !(t = object_at(w, addr, mem, len, k, hook)))
			continue;
		struct heap_object o = { addr + k, t, mem + k, len - k };
		w->st->objects++;
		return w->fn(w->arg, &o);
	}
	return 0;
}

/* A GC-listed object outside both allocators' memory (a custom allocator,
 * an object embedded in a static structure). */
static int judge_gc_object(void *arg, uint64_t obj, const uint8_t *unused, size_t len)
{
	struct walk *w = arg;
	const struct py_type *t;
	const uint8_t *mem;
	uint64_t type;

	(void)unused, (void)len;
	if (heap_regions_contain(&w->covered, obj))
		return 0;
	if (py_u64(w->py, obj + 8, &type) < 0 || !(t = types_lookup(w->types, type)) ||
	    !(mem = py_ptr(w->py, obj, (size_t)t->basicsize))) {
		pc_clear_error();
		return 0;
	}
	struct heap_object o = { obj, t, mem, (size_t)t->basicsize };
	w->st->gc_elsewhere++;
	w->st->objects++;
	return w->fn(w->arg, &o);
}

/* 3.13 can run on mimalloc (PYTHONMALLOC=mimalloc), whose segments this
 * walk does not know: say so rather than report an empty heap. */
static int refuse_mimalloc(struct pc_py *py)
{
	uint64_t fn, mi;

	if (!LAYOUT_HAS(&py->L, LF_RUNTIME_OBJ_ALLOCATOR) ||
	    image_symbol(py->img, "_PyObject_MiMalloc", &mi) < 0)
		return 0;
	if (py_u64(py, py->rt.addr + (uint64_t)py->L.off[LF_RUNTIME_OBJ_ALLOCATOR] + 8, &fn) < 0) {
		pc_clear_error();
		return 0;
	}
	return fn == mi ? pc_fail(PC_EFORMAT, 0, "the process ran with PYTHONMALLOC=mimalloc, "
				  "whose heap pycore cannot walk yet") : 0;
}

static uint64_t anonymous_bytes(struct pc_py *py)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < core_segment_count(py->img->core); i++) {
		const struct pc_core_segment *g = core_segment(py->img->core, i);
		if (!core_segment_file_backed(py->img->core, g))
			sum += g->filesz;
	}
	return sum;
}

int heap_walk(struct pc_py *py, struct pc_types *types, heap_object_fn fn, void *arg,
	      struct heap_stats *stats, heap_progress_fn progress, void *progress_arg)
{
	struct walk w = { .py = py, .types = types, .fn = fn, .arg = arg, .st = stats,
			  .progress = progress, .progress_arg = progress_arg };
	int rc;

	if (progress)
		w.total = anonymous_bytes(py);
	w.collecting = heap_gc_collecting(py);

	memset(stats, 0, sizeof *stats);
	if ((rc = refuse_mimalloc(py)) != 0)
		return rc;
	rc = heap_pymalloc_walk(py, &w.covered, judge_block, &w, stats);
	if (rc == 0)
		rc = heap_glibc_walk(py, &w.covered, judge_block, &w, stats);
	if (rc == 0)
		rc = heap_gc_walk(py, judge_gc_object, &w, stats);
	if (rc == 0 && progress)
		progress(progress_arg, w.total, w.total);
	free(w.covered.v);
	return rc;
}
