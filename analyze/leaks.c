/* leaks.c — unreachable objects, dominators, retained sizes, suspects. */
#include "leaks.h"

#include "../common/bytesize.h"
#include "../common/error.h"
#include "../common/sort.h"
#include "dominators.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MARK_REACHED = 0, MARK_GARBAGE = 1, MARK_LEAKED = 2 };

/* The dominator tree is walked by positions in dominators_ordered()'s
 * order ("positions"): position 0 is the virtual root, a dominator comes
 * before what it dominates, and the per-node arrays below are read front
 * to back instead of at random — most of what retained sizes, suspects and
 * the summary cost on a large heap was cache misses between nodes. */
struct analysis {
	struct pc_py *py;
	struct pc_types *types;
	const struct pc_graph *g;
	struct pc_paths *paths;
	uint32_t *idom;              /* by node: DOM_NONE when unreachable */
	uint32_t *order, nreached;   /* position -> node */
	uint32_t *up;                /* position -> its immediate dominator's */
	uint64_t *retained;          /* bytes, by position */
	uint32_t *objects;           /* retained objects, by position */
};

/* The object at a position (NULL for the virtual root). */
static const struct objrec *object_at(const struct analysis *a, uint32_t k)
{
	uint32_t v = a->order[k];
	return v < a->g->n ? &a->g->index->v[v] : NULL;
}

/* ---- unreachable: garbage or leaked ----------------------------------- */

/* References found to each unreachable object.  Only unreachable objects
 * can hold one (an edge from a reached object would have reached it), so
 * only their edges are read, not the whole graph's. */
static uint32_t *count_incoming(const struct analysis *a)
{
	const struct pc_graph *g = a->g;
	uint32_t *in = calloc(g->n ? g->n : 1, sizeof *in);

	if (!in)
		return NULL;
	for (uint32_t v = 0; v < g->n; v++) {
		if (a->idom[v] != DOM_NONE)
			continue;
		for (uint32_t e = g->start[v]; e < g->start[v + 1]; e++)
			if (in[g->adj[e]] < UINT32_MAX)
				in[g->adj[e]]++;
	}
	return in;
}

static uint64_t refcount(const struct analysis *a, uint32_t v)
{
	uint64_t refcnt = 0;

	if (py_u64(a->py, a->g->index->v[v].addr, &refcnt) < 0)
		pc_clear_error();
	return refcnt;
}

/* 3.12+: an immortal object is never freed, so it and what it holds are
 * alive whatever refers to them. */
static bool immortal(const struct analysis *a, uint32_t v)
{
	return a->py->L.immortal_refcounts && (int32_t)(uint32_t)refcount(a, v) < 0;
}

/* Mark what the stacked nodes reach among the nodes marked `from`. */
static void spread(const struct pc_graph *g, uint8_t *mark, uint32_t *stack, size_t top,
		   uint8_t from, uint8_t to)
{
	while (top) {
		uint32_t v = stack[--top];
		for (uint32_t e = g->start[v]; e < g->start[v + 1]; e++)
			if (mark[g->adj[e]] == from) {
				mark[g->adj[e]] = to;
				stack[top++] = g->adj[e];
			}
	}
}

/* mark[v]: reached, cyclic garbage, or leaked (held by a leak root). */
static uint8_t *classify_unreachable(const struct analysis *a)
{
	const struct pc_graph *g = a->g;
	uint32_t *in = count_incoming(a), *stack = NULL;
	uint8_t *mark = calloc(g->n ? g->n : 1, 1);
	size_t top = 0;

	if (!in || !mark || !(stack = malloc((g->n ? g->n : 1) * sizeof *stack)))
		goto fail;
	for (uint32_t v = 0; v < g->n; v++)
		if (a->idom[v] == DOM_NONE)
			mark[v] = MARK_GARBAGE;
	for (uint32_t v = 0; v < g->n; v++)
		if (mark[v] == MARK_GARBAGE && immortal(a, v)) {
			mark[v] = MARK_REACHED;
			stack[top++] = v;
		}
	spread(g, mark, stack, top, MARK_GARBAGE, MARK_REACHED);
	top = 0;
	for (uint32_t v = 0; v < g->n; v++)
		if (mark[v] == MARK_GARBAGE && refcount(a, v) > in[v]) {
			mark[v] = MARK_LEAKED;
			stack[top++] = v;
		}
	/* What only leaked objects keep alive cannot be collected either. */
	spread(g, mark, stack, top, MARK_GARBAGE, MARK_LEAKED);
	free(in);
	free(stack);
	return mark;
fail:
	free(in);
	free(stack);
	free(mark);
	pc_fail(PC_EINTERNAL, 0, "out of memory classifying unreachable objects");
	return NULL;
}

/* Sum the objects marked `want` (or any unreachable when want < 0) by type. */
static int tally(const struct analysis *a, const uint8_t *mark, int want, struct leak_group *out)
{
	size_t nt = types_count(a->types);
	uint64_t *count = calloc(nt + 1, sizeof *count), *bytes = calloc(nt + 1, sizeof *bytes);

	if (!count || !bytes)
		goto fail;
	for (uint32_t v = 0; v < a->g->n; v++) {
		const struct objrec *o = &a->g->index->v[v];
		if (mark[v] == MARK_REACHED || (want >= 0 && mark[v] != want))
			continue;
		count[o->type]++;
		bytes[o->type] += o->size;
		out->count++;
		out->bytes += o->size;
		if (out->nexamples < LEAK_EXAMPLES)
			out->examples[out->nexamples++] = o->addr;
	}
	if (census_rows_by_type(a->types, count, bytes, &out->types, &out->ntypes) < 0)
		goto fail;
	free(count);
	free(bytes);
	return 0;
fail:
	free(count);
	free(bytes);
	return pc_fail(PC_EINTERNAL, 0, "out of memory");
}

/* ---- dominators and retained sizes ------------------------------------- */

static int dominate(struct analysis *a)
{
	const struct pc_graph *g = a->g;
	struct dom_graph dg = { g->n + 1, g->n, g->start, g->adj };
	size_t n = (size_t)g->n + 1;

	a->idom = malloc(n * sizeof *a->idom);
	a->order = malloc(n * sizeof *a->order);
	a->up = malloc(n * sizeof *a->up);
	a->retained = calloc(n, sizeof *a->retained);
	a->objects = calloc(n, sizeof *a->objects);
	if (!a->idom || !a->order || !a->up || !a->retained || !a->objects ||
	    dominators_ordered(&dg, a->idom, a->order, a->up, &a->nreached) < 0)
		return pc_fail(PC_EINTERNAL, 0, "out of memory computing dominators");
	return 0;
}

static void undominate(struct analysis *a)
{
	free(a->idom);
	free(a->order);
	free(a->up);
	free(a->retained);
	free(a->objects);
}

/* Bytes and objects each position retains, counting only the objects
 * marked (every object when marked is NULL).  Dominated positions come
 * after their dominators, so sum from the end. */
static void sum_retained(struct analysis *a, const uint8_t *marked)
{
	memset(a->retained, 0, (size_t)a->nreached * sizeof *a->retained);
	memset(a->objects, 0, (size_t)a->nreached * sizeof *a->objects);
	for (uint32_t k = a->nreached; k-- > 1;) {
		const struct objrec *o = object_at(a, k);
		if (!marked || marked[a->order[k]]) {
			a->retained[k] += o->size;
			a->objects[k]++;
		}
		a->retained[a->up[k]] += a->retained[k];
		a->objects[a->up[k]] += a->objects[k];
	}
}

/* Which positions dominate one retaining at least threshold: those are
 * not accumulation points themselves.  NULL when out of memory. */
static uint8_t *dominates_big(const struct analysis *a, uint64_t threshold)
{
	uint8_t *big_child = calloc(a->nreached ? a->nreached : 1, 1);

	for (uint32_t k = 1; big_child && k < a->nreached; k++)
		if (a->retained[k] >= threshold)
			big_child[a->up[k]] = 1;
	return big_child;
}

/* ---- retainers and suspects --------------------------------------------- */

/* The retainer at position k (not the virtual root). */
static int retainer_of(struct analysis *a, uint32_t k, struct retainer *r)
{
	const struct objrec *o = object_at(a, k);

	memset(r, 0, sizeof *r);
	r->node = a->order[k];
	r->addr = o->addr;
	r->type = types_name(a->types, types_at(a->types, o->type));
	r->retained_bytes = a->retained[k];
	r->retained_objects = a->objects[k];
	r->path = paths_name(a->paths, r->node, NULL, NULL);
	pc_clear_error();
	return 0;
}

static int by_retained(const void *x, const void *y)
{
	const struct retainer *a = x, *b = y;
	return (a->retained_bytes < b->retained_bytes) - (a->retained_bytes > b->retained_bytes);
}

/* The top objects by retained size (a small sorted array). */
static int top_retainers(struct analysis *a, size_t k, struct leak_report *out)
{
	uint32_t *best = calloc(k ? k : 1, sizeof *best);
	size_t n = 0;

	if (!best)
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	for (uint32_t v = 1; v < a->nreached; v++) {
		size_t at = n < k ? n++ : k;
		if (at == k && a->retained[best[k - 1]] >= a->retained[v])
			continue;
		if (at == k)
			at = k - 1;
		while (at > 0 && a->retained[best[at - 1]] < a->retained[v]) {
			best[at] = best[at - 1];
			at--;
		}
		best[at] = v;
	}
	out->retainers = calloc(n ? n : 1, sizeof *out->retainers);
	if (!out->retainers) {
		free(best);
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		retainer_of(a, best[i], &out->retainers[i]);
	out->nretainers = n;
	free(best);
	return 0;
}

/* "The list sys.modules['__main__'].BIG retains 41.2 MB (91%) in 200001
 * objects, mostly BigItem and str." */
static char *describe(struct analysis *a, const struct retainer *s, uint64_t heap,
		      const struct census_row *mostly, size_t nmostly)
{
	char size[32], *text = NULL;
	const char *second = nmostly > 1 ? mostly[1].name : NULL;

	if (asprintf(&text, "The %s %s retains %s (%.0f%%) in %llu objects%s%s%s%s.", s->type,
		     s->path ? s->path : "(unnamed)",
		     bytesize_format(s->retained_bytes, BYTESIZE_DECIMAL, size, sizeof size),
		     heap ? 100.0 * (double)s->retained_bytes / (double)heap : 0.0,
		     (unsigned long long)s->retained_objects, nmostly ? ", mostly " : "",
		     nmostly ? mostly[0].name : "", second ? " and " : "", second ? second : "") < 0)
		return NULL;
	(void)a;
	return text;
}

/* Which suspect's dominator subtree each position is in (-1: none), by
 * type.  at[s] is the position of suspect s. */
static int describe_suspects(struct analysis *a, struct leak_report *out, const uint32_t *at)
{
	size_t nt = types_count(a->types), ns = out->nsuspects;
	int32_t *owner = malloc((a->nreached ? a->nreached : 1) * sizeof *owner);
	uint64_t *bytes = calloc(ns * nt + 1, sizeof *bytes);

	if (!owner || !bytes) {
		free(owner);
		free(bytes);
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	}
	for (uint32_t k = 0; k < a->nreached; k++) {
		const struct objrec *o;
		owner[k] = k == 0 ? -1 : owner[a->up[k]];
		for (size_t s = 0; s < ns; s++)
			if (at[s] == k)
				owner[k] = (int32_t)s;
		if (owner[k] >= 0 && (o = object_at(a, k)))
			bytes[(size_t)owner[k] * nt + o->type] += o->size;
	}
	for (size_t s = 0; s < ns; s++) {
		struct census_row top[2] = { { 0 } };
		size_t ntop = 0;
		for (size_t t = 0; t < nt; t++) {
			uint64_t b = bytes[s * nt + t];
			if (!b)
				continue;
			struct census_row row = { types_name(a->types, types_at(a->types, t)), 0, b };
			if (ntop < 2)
				top[ntop++] = row;
			else if (b > top[1].bytes)
				top[1] = row;
			if (ntop == 2 && top[1].bytes > top[0].bytes) {
				struct census_row x = top[0];
				top[0] = top[1];
				top[1] = x;
			}
		}
		out->suspects[s].description = describe(a, &out->suspects[s], out->heap_bytes, top, ntop);
	}
	free(owner);
	free(bytes);
	return 0;
}

/* Accumulation points: objects retaining at least the threshold whose
 * dominated objects each retain less. */
static int find_suspects(struct analysis *a, double fraction, struct leak_report *out)
{
	uint64_t threshold = (uint64_t)(fraction * (double)out->heap_bytes);
	uint8_t *big_child;
	uint32_t *at = NULL;
	size_t n = 0;
	int rc;

	if (threshold == 0)
		threshold = 1;
	if (!(big_child = dominates_big(a, threshold)))
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	for (uint32_t k = 1; k < a->nreached; k++) {
		struct retainer *grown;
		uint32_t *grown_at;
		if (a->retained[k] < threshold || big_child[k])
			continue;
		grown = realloc(out->suspects, (n + 1) * sizeof *grown);
		if (grown)
			out->suspects = grown;
		grown_at = grown ? realloc(at, (n + 1) * sizeof *at) : NULL;
		if (!grown_at) {
			free(big_child);
			free(at);
			return pc_fail(PC_EINTERNAL, 0, "out of memory");
		}
		at = grown_at;
		at[n] = k;
		retainer_of(a, k, &out->suspects[n++]);
	}
	free(big_child);
	out->nsuspects = n;
	rc = describe_suspects(a, out, at);
	free(at);
	sort_array(out->suspects, n, sizeof *out->suspects, by_retained);
	return rc;
}

/* The summary's shape: children kept per level, and the smallest share of
 * the heap a subtree needs to appear. */
static const size_t summary_fanout[] = { 16, 10, 8, 6 };
#define SUMMARY_LEVELS (sizeof summary_fanout / sizeof summary_fanout[0])
#define SUMMARY_MIN_SHARE 0.002
#define SUMMARY_LABEL_LEVELS 2

/* Children of each position in the dominator tree, as CSR, positions. */
static int dominator_children(const struct analysis *a, uint32_t **start, uint32_t **child)
{
	size_t n = a->nreached ? a->nreached : 1;

	*start = calloc(n + 1, sizeof **start);
	*child = malloc(n * sizeof **child);
	if (!*start || !*child)
		return pc_fail(PC_EINTERNAL, 0, "out of memory for the dominator tree");
	for (uint32_t k = 1; k < a->nreached; k++)
		(*start)[a->up[k] + 1]++;
	for (size_t v = 0; v < n; v++)
		(*start)[v + 1] += (*start)[v];
	uint32_t *fill = malloc(n * sizeof *fill);
	if (!fill)
		return pc_fail(PC_EINTERNAL, 0, "out of memory for the dominator tree");
	memcpy(fill, *start, n * sizeof *fill);
	for (uint32_t k = 1; k < a->nreached; k++)
		(*child)[fill[a->up[k]]++] = k;
	free(fill);
	return 0;
}

/* Add position k to the summary; *at remembers the positions of its
 * entries (room for one more). */
static int add_summary(struct analysis *a, struct leak_report *out, uint32_t k, int32_t parent,
		       size_t level, uint32_t **at)
{
	struct dom_summary *grown = realloc(out->tree, (out->ntree + 1) * sizeof *grown);
	uint32_t *grown_at = grown ? realloc(*at, (out->ntree + 1) * sizeof **at) : NULL;
	const struct objrec *o = object_at(a, k);

	if (grown)
		out->tree = grown;
	if (!grown_at)
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	*at = grown_at;
	(*at)[out->ntree] = k;
	grown[out->ntree] = (struct dom_summary){
		parent, o ? o->addr : 0,
		o ? types_name(a->types, types_at(a->types, o->type)) : "heap",
		o && level <= SUMMARY_LABEL_LEVELS ? paths_name(a->paths, a->order[k], NULL, NULL) : NULL,
		a->retained[k], a->objects[k] };
	pc_clear_error();
	out->ntree++;
	return 0;
}

/* The biggest children of v, largest first (a small selection). */
static size_t biggest_children(const struct analysis *a, const uint32_t *start, const uint32_t *child,
			       uint32_t v, uint32_t *best, size_t k, uint64_t min_bytes)
{
	size_t n = 0;

	for (uint32_t e = start[v]; e < start[v + 1]; e++) {
		uint32_t c = child[e];
		size_t at;
		if (a->retained[c] < min_bytes || (n == k && a->retained[best[k - 1]] >= a->retained[c]))
			continue;
		at = n < k ? n++ : k - 1;
		while (at > 0 && a->retained[best[at - 1]] < a->retained[c]) {
			best[at] = best[at - 1];
			at--;
		}
		best[at] = c;
	}
	return n;
}

/* Breadth-first over the dominator tree from the heap, a few levels. */
static int summarise(struct analysis *a, struct leak_report *out)
{
	uint32_t *start = NULL, *child = NULL, *at = NULL, best[16];
	uint64_t min_bytes = (uint64_t)(SUMMARY_MIN_SHARE * (double)out->heap_bytes);
	size_t level_start = 0, level_end;
	int rc = -1;

	if (dominator_children(a, &start, &child) < 0 || add_summary(a, out, 0, -1, 0, &at) < 0)
		goto out;
	for (size_t level = 0; level < SUMMARY_LEVELS; level++) {
		level_end = out->ntree;
		for (size_t i = level_start; i < level_end; i++) {
			size_t n = biggest_children(a, start, child, at[i], best, summary_fanout[level],
						    min_bytes);
			for (size_t k = 0; k < n; k++)
				if (add_summary(a, out, best[k], (int32_t)i, level + 1, &at) < 0)
					goto out;
		}
		level_start = level_end;
	}
	rc = 0;
out:
	free(start);
	free(child);
	free(at);
	return rc;
}

/* ---- the tree, computed once for several questions ---------------------- */

struct leak_tree {
	struct analysis a;
};

struct leak_tree *leaks_tree(const struct pc_graph *g)
{
	struct leak_tree *t = calloc(1, sizeof *t);

	if (!t) {
		pc_fail(PC_EINTERNAL, 0, "out of memory computing dominators");
		return NULL;
	}
	t->a.g = g;
	if (dominate(&t->a) < 0) {
		leaks_tree_free(t);
		return NULL;
	}
	return t;
}

void leaks_tree_free(struct leak_tree *t)
{
	if (!t)
		return;
	undominate(&t->a);
	free(t);
}

const uint32_t *leaks_tree_idom(const struct leak_tree *t)
{
	return t->a.idom;
}

int leaks_analyse(struct leak_tree *t, struct pc_py *py, struct pc_types *types,
		  struct pc_paths *paths, const struct leak_options *opt, struct leak_report *out)
{
	struct analysis *a = &t->a;
	const struct pc_graph *g = a->g;
	uint8_t *mark = NULL;
	int rc = -1;

	memset(out, 0, sizeof *out);
	a->py = py;
	a->types = types;
	a->paths = paths;
	out->conservative = g->conservative;
	for (uint32_t v = 0; v < g->n; v++)
		out->heap_bytes += g->index->v[v].size;
	sum_retained(a, NULL);
	if (!(mark = classify_unreachable(a)))
		goto done;
	if (tally(a, mark, -1, &out->unreachable) < 0 || tally(a, mark, MARK_GARBAGE, &out->garbage) < 0 ||
	    tally(a, mark, MARK_LEAKED, &out->leaked) < 0)
		goto done;
	if (top_retainers(a, opt->top_retainers, out) < 0 ||
	    find_suspects(a, opt->suspect_fraction, out) < 0 || summarise(a, out) < 0)
		goto done;
	rc = 0;
done:
	free(mark);
	if (rc < 0)
		leaks_free(out);
	return rc;
}

static void free_group(struct leak_group *g)
{
	free(g->types);           /* names belong to the type table */
}

static void free_retainers(struct retainer *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].description);
	}
	free(v);
}

void leaks_free(struct leak_report *r)
{
	free_group(&r->unreachable);
	free_group(&r->garbage);
	free_group(&r->leaked);
	free_retainers(r->retainers, r->nretainers);
	free_retainers(r->suspects, r->nsuspects);
	for (size_t i = 0; i < r->ntree; i++)
		free(r->tree[i].label);
	free(r->tree);
	memset(r, 0, sizeof *r);
}

int leaks_retained_sizes(struct leak_tree *t, uint64_t **retained)
{
	struct analysis *a = &t->a;
	uint64_t *by_node = calloc((size_t)a->g->n + 1, sizeof *by_node);

	*retained = by_node;
	if (!by_node)
		return pc_fail(PC_EINTERNAL, 0, "out of memory computing retained sizes");
	sum_retained(a, NULL);
	for (uint32_t k = 0; k < a->nreached; k++)
		by_node[a->order[k]] = a->retained[k];
	return 0;
}

int leaks_marked_retainers(struct leak_tree *t, struct pc_py *py, struct pc_types *types,
			   struct pc_paths *paths, const uint8_t *marked, double fraction,
			   size_t top, struct retainer **out, size_t *nout, uint64_t *marked_bytes)
{
	struct analysis *a = &t->a;
	uint8_t *big_child = NULL;
	uint64_t threshold;
	size_t n = 0;

	*out = NULL;
	*nout = 0;
	a->py = py;
	a->types = types;
	a->paths = paths;
	sum_retained(a, marked);
	*marked_bytes = a->retained[0];
	threshold = (uint64_t)(fraction * (double)*marked_bytes);
	if (threshold == 0)
		threshold = 1;
	if (!(big_child = dominates_big(a, threshold)) || !(*out = calloc(top ? top : 1, sizeof **out))) {
		free(big_child);
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	}
	/* The deepest holders over the threshold, largest first. */
	for (uint32_t k = 1; k < a->nreached; k++) {
		const struct objrec *o = object_at(a, k);
		size_t at;
		if (a->retained[k] < threshold || big_child[k] ||
		    (n == top && (*out)[top - 1].retained_bytes >= a->retained[k]))
			continue;
		at = n < top ? n++ : top - 1;
		while (at > 0 && (*out)[at - 1].retained_bytes < a->retained[k]) {
			(*out)[at] = (*out)[at - 1];
			at--;
		}
		(*out)[at] = (struct retainer){ a->order[k], o->addr,
			types_name(types, types_at(types, o->type)), a->retained[k], a->objects[k],
			NULL, NULL };
	}
	free(big_child);
	for (size_t i = 0; i < n; i++) {
		(*out)[i].path = paths_name(paths, (*out)[i].node, NULL, NULL);
		pc_clear_error();
	}
	*nout = n;
	return 0;
}
