/* graph.c — references and roots into CSR arrays. */
#include "graph.h"

#include "../common/error.h"
#include "heap.h"
#include "refs.h"

#include <elf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 100000

struct builder {
	struct pc_graph *g;
	uint64_t cap;
	uint8_t *is_root;            /* one byte per node: already a root */
	size_t roots_cap;
	enum root_kind kind;         /* of the roots being added */
	uint64_t source, owner;
	struct { uint64_t start, end; } skip[PY_INTERPRETERS_MAX * 8 + 64];   /* free lists */
	size_t nskip;
};

static int push_edge(struct builder *b, uint32_t target)
{
	struct pc_graph *g = b->g;

	if (g->nedges == b->cap) {
		uint64_t cap = b->cap ? b->cap + b->cap / 2 : 1u << 20;
		uint32_t *adj;
		if (cap > UINT32_MAX)
			return pc_fail(PC_EINTERNAL, 0, "more than 2^32 references");
		if (!(adj = realloc(g->adj, cap * sizeof *adj)))
			return pc_fail(PC_EINTERNAL, 0, "out of memory for references");
		g->adj = adj;
		b->cap = cap;
	}
	g->adj[g->nedges++] = target;
	return 0;
}


static int root_found(void *arg, uint32_t node);

/* A root object: its first finding only, with where it was found. */
static int root_found_at(void *arg, uint32_t node, uint64_t slot)
{
	struct builder *b = arg;

	b->source = slot;
	return root_found(arg, node);
}

static int root_found(void *arg, uint32_t node)
{
	struct builder *b = arg;
	struct pc_graph *g = b->g;

	if (b->is_root[node])
		return 0;
	b->is_root[node] = 1;
	if (g->nroots == b->roots_cap) {
		size_t cap = b->roots_cap ? 2 * b->roots_cap : 1024;
		struct graph_root *v = realloc(g->roots, cap * sizeof *v);
		if (!v)
			return pc_fail(PC_EINTERNAL, 0, "out of memory for roots");
		g->roots = v;
		b->roots_cap = cap;
	}
	g->roots[g->nroots++] = (struct graph_root){ node, b->kind, b->source, b->owner };
	return 0;
}

/* One word at addr that should point to an object: a root of this kind. */
static int root_field(struct pc_refs *r, struct builder *b, struct pc_py *py, uint64_t base,
		      enum layout_field_id id, enum root_kind kind)
{
	b->kind = kind;
	b->source = base + (uint64_t)py->L.off[id];
	b->owner = base;
	return LAYOUT_HAS(&py->L, id) ? refs_scan(r, b->source, 8, root_found, b) : 0;
}

/* Scan [addr, addr+len) for roots, but not the free lists' slots: past
 * the count in use they still point at objects since reused elsewhere. */
static int scan_root(struct pc_refs *r, struct builder *b, enum root_kind kind, uint64_t owner,
		     uint64_t addr, uint64_t len)
{
	uint64_t end = addr + len;
	int rc;

	b->kind = kind;
	b->owner = owner;
	while (addr < end) {
		uint64_t next = end, resume = end;
		for (size_t k = 0; k < b->nskip; k++)
			if (b->skip[k].end > addr && b->skip[k].start < next) {
				next = b->skip[k].start > addr ? b->skip[k].start : addr;
				resume = b->skip[k].end;
			}
		b->source = addr;
		if (next > addr && (rc = refs_scan_slots(r, addr, next - addr, root_found_at, b)) != 0)
			return rc;
		addr = resume;
	}
	return 0;
}

/* Up to 3.9 the free lists are C statics of libpython (named in .symtab
 * only: a stripped 3.8 or 3.9 keeps them in the scan). */
static void note_static_free_lists(struct builder *b, struct pc_py *py)
{
	static const char *const names[] = {
		"free_list", "keys_free_list", "ag_value_freelist", "ag_asend_freelist",
		"ctx_freelist",
	};
	uint64_t ranges[64][2];
	size_t room = sizeof b->skip / sizeof b->skip[0] - b->nskip;

	for (size_t m = 0; m < py->img->mods.n && room; m++) {
		size_t n = module_data_symbols(&py->img->mods.v[m], names, sizeof names / sizeof names[0],
					       ranges, room < 64 ? room : 64);
		for (size_t k = 0; k < n; k++) {
			b->skip[b->nskip].start = ranges[k][0];
			b->skip[b->nskip].end = ranges[k][1];
			b->nskip++;
		}
		room -= n;
	}
}

/* The interpreters' free lists, to be left out of every root scan. */
static void note_free_lists(struct builder *b, struct pc_py *py, const uint64_t *interps, size_t n)
{
	static const enum layout_field_id free_lists[] = {
		LF_INTERP_FL_OBJECTS, LF_INTERP_FL_FLOAT, LF_INTERP_FL_TUPLE, LF_INTERP_FL_LIST,
		LF_INTERP_FL_DICT, LF_INTERP_FL_FRAME, LF_INTERP_FL_ASYNC_GEN, LF_INTERP_FL_CONTEXT,
	};

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof free_lists / sizeof free_lists[0]; k++) {
			int64_t off = py->L.off[free_lists[k]], len = py->L.fsize[free_lists[k]];
			if (off == LAYOUT_ABSENT || len <= 0 || b->nskip == sizeof b->skip / sizeof b->skip[0])
				continue;
			b->skip[b->nskip].start = interps[i] + (uint64_t)off;
			b->skip[b->nskip].end = interps[i] + (uint64_t)(off + len);
			b->nskip++;
		}
}

/* A thread: its state, and from 3.11 the chunks its frames live in. */
static int thread_roots(struct pc_refs *r, struct builder *b, struct pc_py *py, uint64_t ts)
{
	uint64_t chunk = 0, size, prev;
	int rc = scan_root(r, b, ROOT_THREAD, ts, ts, (uint64_t)py->L.size[LS_THREAD_STATE]);

	if (rc || !LAYOUT_HAS(&py->L, LF_TSTATE_DATASTACK) ||
	    py_field(py, ts, LF_TSTATE_DATASTACK, &chunk) < 0) {
		pc_clear_error();
		return rc;
	}
	/* Only the words in use (below top): above it lie stale values of
	 * frames that have returned, which would keep garbage "alive". */
	/* The newest chunk's top is the thread state's datastack_top (a
	 * pointer); older chunks saved theirs (a count of slots). */
	uint64_t live_top = 0;
	if (py_field(py, ts, LF_TSTATE_DATASTACK_TOP, &live_top) < 0)
		live_top = 0;
	for (int k = 0; chunk && k < 1 << 16; k++) {
		uint64_t top = 0, data = chunk + (uint64_t)py->L.off[LF_STACKCHUNK_DATA], used;
		if (py_field(py, chunk, LF_STACKCHUNK_SIZE, &size) < 0 ||
		    py_field(py, chunk, LF_STACKCHUNK_PREVIOUS, &prev) < 0 ||
		    py_field(py, chunk, LF_STACKCHUNK_TOP, &top) < 0)
			break;
		used = k == 0 && live_top >= data && live_top <= chunk + size ? live_top - data : top * 8;
		if (used <= size && (rc = scan_root(r, b, ROOT_THREAD, ts, data, used)) != 0)
			return rc;
		chunk = prev;
	}
	pc_clear_error();
	return 0;
}

static int interpreter_roots(struct pc_refs *r, struct builder *b, struct pc_py *py)
{
	uint64_t interps[PY_INTERPRETERS_MAX], ts;
	size_t n;
	int rc = 0;

	if (py_interpreters(py, interps, PY_INTERPRETERS_MAX, &n) < 0)
		return -1;
	note_free_lists(b, py, interps, n);
	note_static_free_lists(b, py);
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = root_field(r, b, py, interps[i], LF_INTERP_MODULES, ROOT_SYS_MODULES);
		if (rc == 0)
			rc = root_field(r, b, py, interps[i], LF_INTERP_SYSDICT, ROOT_SYS_DICT);
		if (rc == 0)
			rc = root_field(r, b, py, interps[i], LF_INTERP_BUILTINS, ROOT_BUILTINS);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (py_field(py, interps[i], LF_INTERP_THREADS_HEAD, &ts) < 0)
			ts = 0;
		for (int k = 0; ts && k < MAX_THREADS && rc == 0; k++) {
			rc = thread_roots(r, b, py, ts);
			if (py_field(py, ts, LF_TSTATE_NEXT, &ts) < 0)
				break;
		}
		pc_clear_error();
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = scan_root(r, b, ROOT_INTERPRETER, interps[i], interps[i],
			       (uint64_t)py->L.size[LS_INTERP_STATE]);
	return rc;
}

/* The part of [start, end) the core holds, scanned as C statics. */
static int scan_static_range(struct pc_refs *r, struct builder *b, struct pc_py *py,
			     uint64_t start, uint64_t end)
{
	struct pc_core *core = py->img->core;
	int rc;

	for (size_t i = 0; i < core_segment_count(core); i++) {
		const struct pc_core_segment *s = core_segment(core, i);
		uint64_t lo = s->vaddr > start ? s->vaddr : start;
		uint64_t hi = s->vaddr + s->filesz < end ? s->vaddr + s->filesz : end;
		if (lo < hi && (rc = scan_root(r, b, ROOT_C_STATIC, 0, lo, hi - lo)) != 0)
			return rc;
	}
	return 0;
}

/* Writable data of every mapped ELF file: C statics.  From the binaries'
 * program headers where found (which tell where .bss ends); else the
 * file-backed writable segments (a core read without its binaries). */
static int static_roots(struct pc_refs *r, struct builder *b, struct pc_py *py)
{
	struct pc_core *core = py->img->core;
	uint64_t ranges[8][2];
	bool missing = false;
	int rc;

	for (size_t m = 0; m < py->img->mods.n; m++) {
		size_t n = module_writable(&py->img->mods.v[m], ranges, 8);
		missing |= !py->img->mods.v[m].found;
		for (size_t k = 0; k < n; k++)
			if ((rc = scan_static_range(r, b, py, ranges[k][0], ranges[k][1])) != 0)
				return rc;
	}
	if (!missing)
		return 0;
	for (size_t i = 0; i < core_segment_count(core); i++) {
		const struct pc_core_segment *s = core_segment(core, i);
		if (!(s->flags & PF_W) || !core_segment_file_backed(core, s))
			continue;
		if ((rc = scan_root(r, b, ROOT_C_STATIC, 0, s->vaddr, s->filesz)) != 0)
			return rc;
	}
	return 0;
}

/* The edges of objects [from, to), into arrays of their own: one part per
 * thread.  start[] gets offsets within the part. */
struct edge_part {
	struct pc_refs *r;
	struct pc_graph *g;
	uint32_t from, to;
	uint32_t *adj;
	uint64_t n, cap, conservative;
	int rc;
	struct pc_error_box err;
};

static int part_edge(void *arg, uint32_t target)
{
	struct edge_part *p = arg;

	if (p->n == p->cap) {
		uint64_t cap = p->cap ? p->cap + p->cap / 2 : 1u << 20;
		uint32_t *adj = realloc(p->adj, cap * sizeof *adj);
		if (!adj)
			return pc_fail(PC_EINTERNAL, 0, "out of memory for references");
		p->adj = adj;
		p->cap = cap;
	}
	p->adj[p->n++] = target;
	return 0;
}

static void *build_part(void *arg)
{
	struct edge_part *p = arg;
	bool conservative;

	for (uint32_t i = p->from; i < p->to && p->rc == 0; i++) {
		p->g->start[i] = (uint32_t)p->n;
		if ((p->rc = refs_of(p->r, i, part_edge, p, &conservative)) != 0)
			break;
		if (conservative) {
			p->g->index->v[i].flags |= OBJ_CONSERVATIVE;
			p->conservative++;
		}
	}
	if (p->rc)
		pc_error_capture(&p->err);
	return NULL;
}

/* Edges of every object, on two threads (the machines this runs on have
 * two cores; reading references is all memory latency), then the virtual
 * root's. */
static int build_edges(struct pc_refs *r, struct builder *b)
{
	struct pc_graph *g = b->g;
	struct edge_part part[2] = {
		{ .r = r, .g = g, .from = 0, .to = g->n / 2 },
		{ .r = r, .g = g, .from = g->n / 2, .to = g->n },
	};
	pthread_t helper;
	bool threaded;
	int rc;

	if (refs_prepare(r) < 0)
		return -1;
	threaded = pthread_create(&helper, NULL, build_part, &part[1]) == 0;
	build_part(&part[0]);
	if (threaded)
		pthread_join(helper, NULL);
	else
		build_part(&part[1]);
	for (int k = 0; k < 2; k++)
		if (part[k].rc) {
			free(part[0].adj);
			free(part[1].adj);
			return part[k].rc < 0 ? pc_error_raise(&part[k].err) : part[k].rc;
		}
	/* Stitch: the second part's offsets follow the first's edges. */
	for (uint32_t i = part[1].from; i < part[1].to; i++)
		g->start[i] += (uint32_t)part[0].n;
	uint64_t total = part[0].n + part[1].n + g->nroots;
	uint32_t *adj = total <= UINT32_MAX ? realloc(part[0].adj, (total ? total : 1) * sizeof *adj) : NULL;
	if (!adj) {
		free(part[0].adj);
		free(part[1].adj);
		return pc_fail(PC_EINTERNAL, 0, "out of memory for references");
	}
	if (part[1].n)          /* no edges: part[1].adj is NULL, which memcpy may not get */
		memcpy(adj + part[0].n, part[1].adj, part[1].n * sizeof *adj);
	free(part[1].adj);
	g->adj = adj;
	g->nedges = part[0].n + part[1].n;
	b->cap = total;
	g->conservative = part[0].conservative + part[1].conservative;
	g->start[g->n] = (uint32_t)g->nedges;
	for (size_t k = 0; k < g->nroots; k++)
		if ((rc = push_edge(b, g->roots[k].node)) != 0)
			return rc;
	g->start[g->n + 1] = (uint32_t)g->nedges;
	return 0;
}

int graph_build(struct pc_py *py, struct pc_types *types, struct objindex *index,
		struct pc_graph *g)
{
	struct builder b = { .g = g };
	struct pc_refs *r = refs_new(py, types, index);
	int rc = -1;

	memset(g, 0, sizeof *g);
	g->index = index;
	g->n = (uint32_t)index->n;
	b.g = g;
	g->start = malloc(((size_t)g->n + 2) * sizeof *g->start);
	b.is_root = calloc((size_t)g->n + 1, 1);
	if (!r || !g->start || !b.is_root) {
		pc_fail(PC_EINTERNAL, 0, "out of memory for the reference graph");
		goto out;
	}
	/* Roots first (the order names paths), then every object's edges. */
	rc = interpreter_roots(r, &b, py);
	if (rc == 0)
		rc = static_roots(r, &b, py);
	if (rc == 0)
		rc = build_edges(r, &b);
out:
	free(b.is_root);
	refs_free(r);
	if (rc != 0)
		graph_free(g);
	return rc ? -1 : 0;
}

void graph_free(struct pc_graph *g)
{
	free(g->start);
	free(g->adj);
	free(g->roots);
	memset(g, 0, sizeof *g);
}
