/* growth.c — same address, same type, more items. */
#include "growth.h"

#include "../common/error.h"
#include "graph.h"
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

/* Name the rows by their paths in the later core. */
static int name_rows(struct pc_py *pb, struct pc_types *tb, struct objindex *xb,
		     struct growth_row *rows, size_t n)
{
	struct pc_graph g;
	struct pc_paths *paths;

	if (!n)
		return 0;
	if (graph_build(pb, tb, xb, &g) < 0)
		return -1;
	if (!(paths = paths_new(pb, tb, &g))) {
		graph_free(&g);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t node = objindex_find(xb, rows[i].addr);
		rows[i].path = node >= 0 ? paths_name(paths, (uint32_t)node, NULL, NULL) : NULL;
		pc_clear_error();
	}
	paths_free(paths);
	graph_free(&g);
	return 0;
}

int growth_find(struct pc_py *pa, struct pc_types *ta, const struct objindex *xa,
		struct pc_py *pb, struct pc_types *tb, struct objindex *xb, size_t top,
		struct growth_row **out, size_t *n)
{
	struct growth_row *best = calloc(top ? top : 1, sizeof *best);

	*out = NULL;
	*n = 0;
	if (!best)
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
		keep(best, n, top, &r);
	}
	if (name_rows(pb, tb, xb, best, *n) < 0) {
		growth_free(best, *n);
		*n = 0;
		return -1;
	}
	*out = best;
	return 0;
}

void growth_free(struct growth_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].path);
	free(rows);
}
