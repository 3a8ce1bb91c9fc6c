/* growth.c — same address, same type, more items. */
#include "growth.h"

#include "../common/error.h"
#include "graph.h"
#include "leaks.h"
#include "paths.h"

#include <stdlib.h>
#include <string.h>

static bool length(struct pc_py *py, const struct py_type *t, uint64_t obj, uint64_t *len);

bool growth_length(struct pc_py *py, const struct py_type *t, uint64_t obj, uint64_t *len)
{
	return length(py, t, obj, len);
}

/* A container's len(), or false when the type is not one pycore measures. */
static bool length(struct pc_py *py, const struct py_type *t, uint64_t obj, uint64_t *len)
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

/* Keep the top k by growth in length (a small sorted array). */
static void keep(struct growth_row *best, size_t *n, size_t k, const struct growth_row *r)
{
	uint64_t grew = r->len[1] - r->len[0];
	size_t at;

	if (*n == k && best[k - 1].len[1] - best[k - 1].len[0] >= grew)
		return;
	at = *n < k ? (*n)++ : k - 1;
	while (at > 0 && best[at - 1].len[1] - best[at - 1].len[0] < grew) {
		best[at] = best[at - 1];
		at--;
	}
	best[at] = *r;
}

#define HOLDER_SHARE 0.10           /* of the new bytes, as a suspect's threshold */

/* Objects of b that a has not (no object of the same type at the address). */
static uint8_t *mark_new(struct pc_types *ta, const struct objindex *xa, struct pc_types *tb,
			 const struct objindex *xb, struct growth *out)
{
	uint8_t *marked = calloc(xb->n ? xb->n : 1, 1);

	if (!marked)
		return NULL;
	for (size_t i = 0; i < xb->n; i++) {
		int64_t j = objindex_find(xa, xb->v[i].addr);
		const struct py_type *tya = j >= 0 ? types_at(ta, xa->v[j].type) : NULL;
		const struct py_type *tyb = types_at(tb, xb->v[i].type);
		marked[i] = !tya || !tyb || strcmp(types_name(ta, tya), types_name(tb, tyb)) != 0;
		if (marked[i]) {
			out->new_objects++;
			out->new_bytes += xb->v[i].size;
		}
	}
	return marked;
}

/* In the later core's graph: the rows' paths, and the new objects' holders. */
static int analyse_later(struct pc_py *pb, struct pc_types *tb, struct objindex *xb,
			 struct pc_types *ta, const struct objindex *xa, size_t holders_top,
			 struct growth *out)
{
	struct pc_graph g;
	struct pc_paths *paths;
	uint8_t *marked = NULL;
	uint64_t reachable_new;
	int rc = -1;

	if (!out->nrows && !holders_top)
		return 0;
	if (graph_build(pb, tb, xb, &g) < 0)
		return -1;
	if (!(paths = paths_new(pb, tb, &g)))
		goto out;
	for (size_t i = 0; i < out->nrows; i++) {
		int64_t node = objindex_find(xb, out->rows[i].addr);
		out->rows[i].path = node >= 0 ? paths_name(paths, (uint32_t)node, NULL, NULL) : NULL;
		pc_clear_error();
	}
	if (holders_top) {
		if (!(marked = mark_new(ta, xa, tb, xb, out))) {
			pc_fail(PC_EINTERNAL, 0, "out of memory");
			goto out;
		}
		if (leaks_marked_retainers(pb, tb, &g, paths, marked, HOLDER_SHARE, holders_top,
					   &out->holders, &out->nholders, &reachable_new) < 0)
			goto out;
	}
	rc = 0;
out:
	free(marked);
	paths_free(paths);
	graph_free(&g);
	return rc;
}

int growth_compare(struct pc_py *pa, struct pc_types *ta, const struct objindex *xa,
		   struct pc_py *pb, struct pc_types *tb, struct objindex *xb, size_t top,
		   size_t holders_top, struct growth *out)
{
	memset(out, 0, sizeof *out);
	if (!(out->rows = calloc(top ? top : 1, sizeof *out->rows)))
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	for (size_t i = 0; i < xb->n && top; i++) {
		const struct objrec *b = &xb->v[i];
		const struct py_type *tyb = types_at(tb, b->type), *tya;
		struct growth_row r = { b->addr, NULL, { 0, 0 }, { 0, b->size }, NULL };
		int64_t j;
		if (!tyb || !length(pb, tyb, b->addr, &r.len[1]) || r.len[1] == 0 ||
		    (j = objindex_find(xa, b->addr)) < 0 || !(tya = types_at(ta, xa->v[j].type)) ||
		    strcmp(types_name(ta, tya), types_name(tb, tyb)) != 0 ||
		    !length(pa, tya, b->addr, &r.len[0]) || r.len[1] <= r.len[0])
			continue;
		r.type = types_name(tb, tyb);
		r.bytes[0] = xa->v[j].size;
		keep(out->rows, &out->nrows, top, &r);
	}
	if (analyse_later(pb, tb, xb, ta, xa, holders_top, out) < 0) {
		growth_free(out);
		return -1;
	}
	return 0;
}

void growth_free(struct growth *g)
{
	for (size_t i = 0; i < g->nrows; i++)
		free(g->rows[i].path);
	for (size_t i = 0; i < g->nholders; i++)
		free(g->holders[i].path);
	free(g->rows);
	free(g->holders);
	memset(g, 0, sizeof *g);
}
