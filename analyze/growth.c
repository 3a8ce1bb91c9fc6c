/* growth.c — same address, same type: grown, new, freed. */
#include "growth.h"

#include "../common/error.h"
#include "../common/sort.h"
#include "graph.h"
#include "leaks.h"
#include "paths.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NO_MATCH UINT32_MAX
#define HOLDER_SHARE 0.10           /* of the new bytes, as a suspect's threshold */

/* A container's len(), or false when the type is not one pycore measures. */
bool growth_length(struct pc_py *py, const struct py_type *t, uint64_t obj, uint64_t *len)
{
	enum layout_field_id id;

	switch (t->rule) {
	case SIZE_LIST: case SIZE_DEQUE: id = LF_VAROBJECT_SIZE; break;
	case SIZE_DICT: case SIZE_ODICT: id = LF_DICT_USED; break;
	case SIZE_SET: id = LF_SET_USED; break;
	default: return false;
	}
	if (py_field(py, obj, id, len) < 0) {
		pc_clear_error();
		return false;
	}
	return true;
}

/* ---- which object of the earlier core each object of the later one is ---- */

struct named_type { const char *name; uint32_t side, index; };

static int by_name(const void *x, const void *y)
{
	return strcmp(((const struct named_type *)x)->name, ((const struct named_type *)y)->name);
}

/* The two cores' type tables number their types independently: give every
 * type of both one number per name (name[0][ia] == name[1][ib] when the
 * names are equal), so matching objects compares integers, not strings. */
static int number_type_names(struct pc_types *ta, struct pc_types *tb, uint32_t *name[2])
{
	struct pc_types *tables[2] = { ta, tb };
	size_t n = types_count(ta) + types_count(tb), k = 0;
	struct named_type *all = malloc((n ? n : 1) * sizeof *all);
	uint32_t id = 0;

	name[0] = malloc((types_count(ta) + 1) * sizeof *name[0]);
	name[1] = malloc((types_count(tb) + 1) * sizeof *name[1]);
	if (!all || !name[0] || !name[1]) {
		free(all);
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	}
	for (uint32_t side = 0; side < 2; side++)
		for (size_t i = 0; i < types_count(tables[side]); i++)
			all[k++] = (struct named_type){
				types_name(tables[side], types_at(tables[side], i)), side, (uint32_t)i };
	sort_array(all, n, sizeof *all, by_name);
	for (size_t i = 0; i < n; i++) {
		if (i && strcmp(all[i].name, all[i - 1].name) != 0)
			id++;
		name[all[i].side][all[i].index] = id;
	}
	free(all);
	return 0;
}

/* Whose sys.getsizeof cannot change while it lives (str, int, tuple,
 * bytes, plain instances): a different size at the same address is a
 * different object. */
static bool fixed_size(const struct py_type *t)
{
	return t->rule == SIZE_DEFAULT || t->rule == SIZE_STR || t->rule == SIZE_INT;
}

/* match[i]: the index in xa of the object xb->v[i] is, or NO_MATCH (a new
 * object); kept[j]: object j of xa is still there.  Counts the new ones. */
static int match_objects(struct pc_types *ta, const struct objindex *xa, struct pc_types *tb,
			 const struct objindex *xb, uint32_t **match, uint8_t **kept,
			 struct growth *out)
{
	uint32_t *name[2] = { NULL, NULL };

	*match = malloc((xb->n ? xb->n : 1) * sizeof **match);
	*kept = calloc(xa->n ? xa->n : 1, 1);
	if (!*match || !*kept || number_type_names(ta, tb, name) < 0) {
		free(name[0]);
		free(name[1]);
		return pc_fail(PC_EINTERNAL, 0, "out of memory matching objects");
	}
	for (size_t i = 0; i < xb->n; i++) {
		const struct objrec *b = &xb->v[i];
		int64_t j = objindex_find(xa, b->addr);
		const struct objrec *a = j >= 0 ? &xa->v[j] : NULL;
		bool same = a && name[0][a->type] == name[1][b->type] &&
			    (a->size == b->size || !fixed_size(types_at(tb, b->type)));
		(*match)[i] = same ? (uint32_t)j : NO_MATCH;
		if (same) {
			(*kept)[j] = 1;
		} else {
			out->new_objects++;
			out->new_bytes += b->size;
		}
	}
	free(name[0]);
	free(name[1]);
	return 0;
}

/* ---- freed objects, by type --------------------------------------------- */

static int tally_freed(struct pc_types *ta, const struct objindex *xa, const uint8_t *kept,
		       struct growth *out)
{
	size_t nt = types_count(ta);
	uint64_t *count = calloc(nt + 1, sizeof *count), *bytes = calloc(nt + 1, sizeof *bytes);
	int rc = -1;

	if (count && bytes) {
		for (size_t j = 0; j < xa->n; j++)
			if (!kept[j]) {
				count[xa->v[j].type]++;
				bytes[xa->v[j].type] += xa->v[j].size;
				out->freed_objects++;
				out->freed_bytes += xa->v[j].size;
			}
		rc = census_rows_by_type(ta, count, bytes, &out->freed, &out->nfreed);
	} else {
		pc_fail(PC_EINTERNAL, ENOMEM, "counting the freed objects");
	}
	free(count);
	free(bytes);
	return rc;
}

/* ---- retained sizes in each core ---------------------------------------- */

/* Every object's retained bytes in its own core's graph.  The graph is
 * built here; when g and tree are not NULL it and its dominator tree are
 * kept for more questions, else freed at once. */
static int retained_in(struct pc_py *py, struct pc_types *types, struct objindex *x,
		       struct pc_graph *g, struct leak_tree **tree, uint64_t **retained)
{
	struct pc_graph local;
	struct pc_graph *graph = g ? g : &local;
	struct leak_tree *t;

	if (graph_build(py, types, x, graph) < 0)
		return -1;
	if (!(t = leaks_tree(graph)) || leaks_retained_sizes(t, retained) < 0) {
		leaks_tree_free(t);
		graph_free(graph);
		return -1;
	}
	if (tree) {
		*tree = t;
	} else {
		leaks_tree_free(t);
		graph_free(graph);
	}
	return 0;
}

/* ---- the rows that grew ------------------------------------------------- */

/* What the later core's object i and its earlier self are. */
struct pair_view {
	struct pc_py *pa, *pb;
	struct pc_types *ta, *tb;
	const struct objindex *xa, *xb;
	const uint32_t *match, *idom;
	const uint64_t *retained[2];
};

static bool reached(const struct pair_view *p, int side, size_t i)
{
	return p->retained[side][i] != 0;      /* an object retains at least itself */
}

/* Growth in retained bytes of the later core's object i, or 0 when it is
 * new, unreached in either core, or did not grow. */
static uint64_t retained_growth(const struct pair_view *p, size_t i)
{
	uint32_t j = p->match[i];

	if (j == NO_MATCH || !reached(p, 0, j) || !reached(p, 1, i) ||
	    p->retained[1][i] <= p->retained[0][j])
		return 0;
	return p->retained[1][i] - p->retained[0][j];
}

static const struct py_type *type_of(const struct pair_view *p, size_t i)
{
	return types_at(p->tb, p->xb->v[i].type);
}

/* An instance of a class (not a container) with its __dict__ as a dict
 * object: the instance, not its dict, stands for what the two hold. */
static bool instance_owns_dict(const struct pair_view *p, size_t owner, size_t dict)
{
	const struct py_type *o = type_of(p, owner), *d = type_of(p, dict);

	return o && d && o->is_heap && o->rule == SIZE_DEFAULT && d->rule == SIZE_DICT;
}

/* The largest growth among the objects each object immediately dominates
 * in the later core (its dominator children), an instance's own dict
 * excepted. */
static uint64_t *largest_child_growth(const struct pair_view *p)
{
	uint64_t *child = calloc(p->xb->n ? p->xb->n : 1, sizeof *child);

	for (size_t i = 0; child && i < p->xb->n; i++) {
		uint64_t grew = retained_growth(p, i);
		uint32_t up = p->idom[i];
		if (!grew || up >= p->xb->n || instance_owns_dict(p, up, i))
			continue;
		if (grew > child[up])
			child[up] = grew;
	}
	return child;
}

/* Growth in retained bytes, when both cores know it (0 when not). */
static int64_t row_growth(const struct growth_row *r)
{
	return r->reached[0] && r->reached[1] ? (int64_t)(r->retained[1] - r->retained[0]) : 0;
}

/* Rows rank by growth in retained bytes, then in length. */
static bool ranks_above(const struct growth_row *x, const struct growth_row *y)
{
	int64_t gx = row_growth(x), gy = row_growth(y);

	if (gx != gy)
		return gx > gy;
	return x->len[1] - x->len[0] > y->len[1] - y->len[0];
}

/* Keep the top k (a small sorted array). */
static void keep(struct growth_row *best, size_t *n, size_t k, const struct growth_row *r)
{
	size_t at;

	if (*n == k && !ranks_above(r, &best[k - 1]))
		return;
	at = *n < k ? (*n)++ : k - 1;
	while (at > 0 && ranks_above(r, &best[at - 1])) {
		best[at] = best[at - 1];
		at--;
	}
	best[at] = *r;
}

/* Object i of the later core as a row: a container whose length grew, or
 * an object whose retained size grew by more than twice what any one
 * object it retains grew (its own growth, not a child's). */
static bool grown_row(const struct pair_view *p, size_t i, uint64_t child_growth,
		      struct growth_row *r)
{
	const struct py_type *tb = type_of(p, i), *ta;
	uint32_t j = p->match[i];
	uint64_t grew = retained_growth(p, i);
	bool longer, own;

	if (j == NO_MATCH || !tb)
		return false;
	ta = types_at(p->ta, p->xa->v[j].type);
	memset(r, 0, sizeof *r);
	r->has_len = growth_length(p->pb, tb, p->xb->v[i].addr, &r->len[1]) && ta &&
		     growth_length(p->pa, ta, p->xa->v[j].addr, &r->len[0]);
	longer = r->has_len && r->len[1] > r->len[0];
	own = grew && child_growth * 2 < grew &&
	      !(p->idom[i] < p->xb->n && instance_owns_dict(p, p->idom[i], i));
	if (!longer && !own)
		return false;
	r->addr = p->xb->v[i].addr;
	r->bytes[0] = p->xa->v[j].size;
	r->bytes[1] = p->xb->v[i].size;
	for (int side = 0; side < 2; side++) {
		size_t k = side ? i : j;
		r->reached[side] = reached(p, side, k);
		r->retained[side] = p->retained[side][k];
	}
	return true;
}

static int select_rows(const struct pair_view *p, size_t top, struct growth *out)
{
	uint64_t *child = largest_child_growth(p);
	struct growth_row r;

	if (!child || !(out->rows = calloc(top ? top : 1, sizeof *out->rows))) {
		free(child);
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	}
	for (size_t i = 0; i < p->xb->n && top; i++)
		if (grown_row(p, i, child[i], &r)) {
			r.type = types_name(p->tb, type_of(p, i));
			keep(out->rows, &out->nrows, top, &r);
		}
	free(child);
	return 0;
}

/* In the later core's graph: the rows, their paths, and the new objects'
 * holders. */
static int analyse_later(struct pair_view *p, struct pc_types *tb, struct objindex *xb,
			 size_t top, size_t holders_top, struct growth *out)
{
	struct pc_graph g;
	struct pc_paths *paths = NULL;
	uint8_t *marked = NULL;
	uint64_t *retained = NULL, reachable_new;
	struct leak_tree *tree = NULL;
	int rc = -1;

	if (retained_in(p->pb, tb, xb, &g, &tree, &retained) < 0)
		return -1;
	p->retained[1] = retained;
	p->idom = leaks_tree_idom(tree);
	if (select_rows(p, top, out) < 0 || !(paths = paths_new(p->pb, tb, &g)))
		goto out;
	for (size_t i = 0; i < out->nrows; i++) {
		int64_t node = objindex_find(xb, out->rows[i].addr);
		out->rows[i].path = node >= 0 ? paths_name(paths, (uint32_t)node, NULL, NULL) : NULL;
		pc_clear_error();
	}
	if (holders_top) {
		if (!(marked = malloc(xb->n ? xb->n : 1))) {
			pc_fail(PC_EINTERNAL, 0, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < xb->n; i++)
			marked[i] = p->match[i] == NO_MATCH;
		if (leaks_marked_retainers(tree, p->pb, tb, paths, marked, HOLDER_SHARE, holders_top,
					   &out->holders, &out->nholders, &reachable_new) < 0)
			goto out;
	}
	rc = 0;
out:
	free(marked);
	free(retained);
	leaks_tree_free(tree);
	paths_free(paths);
	graph_free(&g);
	return rc;
}

int growth_compare(struct pc_py *pa, struct pc_types *ta, struct objindex *xa,
		   struct pc_py *pb, struct pc_types *tb, struct objindex *xb, size_t top,
		   size_t holders_top, struct growth *out)
{
	struct pair_view p = { pa, pb, ta, tb, xa, xb, NULL, NULL, { NULL, NULL } };
	uint32_t *match = NULL;
	uint8_t *kept = NULL;
	uint64_t *retained_before = NULL;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (match_objects(ta, xa, tb, xb, &match, &kept, out) < 0 ||
	    tally_freed(ta, xa, kept, out) < 0)
		goto out;
	free(kept);
	kept = NULL;
	/* One graph at a time: the earlier core's only for its retained sizes. */
	if (retained_in(pa, ta, xa, NULL, NULL, &retained_before) < 0)
		goto out;
	p.match = match;
	p.retained[0] = retained_before;
	if (analyse_later(&p, tb, xb, top, holders_top, out) < 0)
		goto out;
	rc = 0;
out:
	free(match);
	free(kept);
	free(retained_before);
	if (rc < 0)
		growth_free(out);
	return rc;
}

void growth_free(struct growth *g)
{
	for (size_t i = 0; i < g->nrows; i++)
		free(g->rows[i].path);
	for (size_t i = 0; i < g->nholders; i++)
		free(g->holders[i].path);
	free(g->rows);
	free(g->holders);
	free(g->freed);
	memset(g, 0, sizeof *g);
}
