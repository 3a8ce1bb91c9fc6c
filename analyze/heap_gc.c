/* heap_gc.c — the garbage collector's generation lists.
 *
 * Each generation's head is a PyGC_Head {_gc_next, _gc_prev} in a circular
 * doubly linked list through the GC headers of the tracked objects; an
 * object is at its header + sizeof(PyGC_Head).  The low two bits of
 * _gc_prev are flags.  Walks are bounded, and end at a broken back-link.
 */
#include "heap.h"

#include "../common/error.h"

#define PREV_MASK      (~(uint64_t)3)
#define NEXT_MASK      (~(uint64_t)1)     /* bit 0: NEXT_MASK_UNREACHABLE mid-collection */
#define WALK_LIMIT     (1ull << 32)

static int walk_list(struct pc_py *py, uint64_t head, heap_block_fn fn, void *arg,
		     struct heap_stats *st)
{
	uint64_t g, prev = head;
	int rc;

	if (py_u64(py, head, &g) < 0)
		return -1;
	for (uint64_t steps = 0; (g & NEXT_MASK) != head && steps < WALK_LIMIT; steps++) {
		uint64_t back, next;
		g &= NEXT_MASK;
		if (!g || py_u64(py, g + 8, &back) < 0 || (back & PREV_MASK) != prev ||
		    py_u64(py, g, &next) < 0) {
			pc_clear_error();
			break;                /* damaged: keep what was walked */
		}
		st->gc_tracked++;
		if ((rc = fn(arg, g + py->gc_head, NULL, 0)) != 0)
			return rc;
		prev = g;
		g = next;
	}
	return 0;
}

static bool state_collecting(struct pc_py *py, uint64_t gc)
{
	int32_t collecting = 0;

	if (LAYOUT_HAS(&py->L, LF_GC_STATE_COLLECTING) &&
	    py_read(py, gc + (uint64_t)py->L.off[LF_GC_STATE_COLLECTING], &collecting, 4) < 0)
		pc_clear_error();
	return collecting != 0;
}

static uint64_t gc_state(struct pc_py *py, uint64_t interp)
{
	return py->L.gc_in_runtime ? py->rt.addr + (uint64_t)py->L.off[LF_RUNTIME_GC]
				   : interp + (uint64_t)py->L.off[LF_INTERP_GC];
}

bool heap_gc_collecting(struct pc_py *py)
{
	uint64_t interps[PY_INTERPRETERS_MAX];
	size_t n;

	if (py_interpreters(py, interps, PY_INTERPRETERS_MAX, &n) < 0) {
		pc_clear_error();
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (state_collecting(py, gc_state(py, interps[i])))
			return true;
	return false;
}

static int walk_state(struct pc_py *py, uint64_t gc, heap_block_fn fn, void *arg,
		      struct heap_stats *st)
{
	const struct pc_layout *L = &py->L;

	/* Mid-collection, the lists are being moved and _gc_prev holds
	 * reference counts: say so, the walk may miss what is collected. */
	if (state_collecting(py, gc))
		st->gc_collecting = true;
	uint64_t gens = gc + (uint64_t)L->off[LF_GC_STATE_GENERATIONS];
	int64_t n = L->konst[LC_NUM_GENERATIONS] > 0 ? L->konst[LC_NUM_GENERATIONS] : 3;
	int rc;

	for (int64_t i = 0; i < n; i++)
		if ((rc = walk_list(py, gens + (uint64_t)(i * L->size[LS_GC_GENERATION]) +
					    (uint64_t)L->off[LF_GC_GENERATION_HEAD], fn, arg, st)) != 0)
			return rc;
	if (LAYOUT_HAS(L, LF_GC_STATE_PERMANENT))
		return walk_list(py, gc + (uint64_t)L->off[LF_GC_STATE_PERMANENT] +
					     (uint64_t)L->off[LF_GC_GENERATION_HEAD], fn, arg, st);
	return 0;
}

/* 3.8 keeps one collector in the runtime; later, each interpreter has its
 * own. */
int heap_gc_walk(struct pc_py *py, heap_block_fn fn, void *arg, struct heap_stats *st)
{
	uint64_t interps[PY_INTERPRETERS_MAX];
	size_t n;
	int rc;

	if (py->L.gc_in_runtime)
		return walk_state(py, py->rt.addr + (uint64_t)py->L.off[LF_RUNTIME_GC], fn, arg, st);
	if (py_interpreters(py, interps, PY_INTERPRETERS_MAX, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((rc = walk_state(py, interps[i] + (uint64_t)py->L.off[LF_INTERP_GC], fn, arg, st)) != 0)
			return rc;
	return 0;
}
