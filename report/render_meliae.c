/* render_meliae.c — the heap in Meliae's dump format: one JSON object per
 * line, {"address", "type", "size", "len", "value", "refs"} (and "name" for
 * modules), so Meliae's loader (meliae.loader.load) and the scripts built
 * on it read pycore's output as they read a dump made inside the process. */
#include "report.h"

#include "../analyze/graph.h"
#include "../common/error.h"

#include <stdio.h>
#include <string.h>

#define VALUE_CHARS 100           /* Meliae keeps the first 100 characters */

/* "len": what len() would say for the common containers, else absent. */
static bool length_of(struct pc_py *py, const struct py_type *t, uint64_t obj, uint64_t *len)
{
	uint64_t flags = t->flags;
	const int64_t *k = py->L.konst;

	if (k[LC_TPFLAGS_DICT_SUBCLASS] != LAYOUT_ABSENT && (flags & (uint64_t)k[LC_TPFLAGS_DICT_SUBCLASS]))
		return py_field(py, obj, LF_DICT_USED, len) == 0;
	if (k[LC_TPFLAGS_LIST_SUBCLASS] != LAYOUT_ABSENT && (flags & (uint64_t)k[LC_TPFLAGS_LIST_SUBCLASS]))
		return py_field(py, obj, LF_VAROBJECT_SIZE, len) == 0;
	if (t->rule == SIZE_SET)
		return py_field(py, obj, LF_SET_USED, len) == 0;
	if (t->rule == SIZE_STR)
		return py_field(py, obj, LF_ASCII_LENGTH, len) == 0;
	if (t->itemsize && t->rule != SIZE_INT && t->rule != SIZE_TYPE)
		return py_field(py, obj, LF_VAROBJECT_SIZE, len) == 0;
	return false;
}

static void put_value(FILE *out, struct pc_py *py, const struct py_type *t, uint64_t obj, bool redact)
{
	char text[VALUE_CHARS * 4 + 1], red[96];
	int64_t v;

	if (t->rule == SIZE_STR && py_str(py, obj, text, VALUE_CHARS + 1) == 0) {
		fputs(", \"value\": ", out);
		if (redact) {
			dupes_redacted(text, strlen(text), "chars", red, sizeof red);
			json_put_str(out, red);
		} else {
			json_put_str(out, text);
		}
	} else if (t->rule == SIZE_INT && !redact && py_int(py, obj, &v) == 0) {
		fprintf(out, ", \"value\": %lld", (long long)v);
	}
	pc_clear_error();
}

int render_meliae(FILE *out, struct pc_py *py, struct pc_types *types, const struct pc_graph *g,
		  bool redact)
{
	char name[256];
	uint64_t md_name, len;

	for (uint32_t v = 0; v < g->n; v++) {
		const struct objrec *o = &g->index->v[v];
		const struct py_type *t = types_at(types, o->type);
		fprintf(out, "{\"address\": %llu, \"type\": ", (unsigned long long)o->addr);
		json_put_str(out, types_name(types, t));
		fprintf(out, ", \"size\": %llu", (unsigned long long)o->size);
		if (length_of(py, t, o->addr, &len))
			fprintf(out, ", \"len\": %llu", (unsigned long long)len);
		pc_clear_error();
		put_value(out, py, t, o->addr, redact);
		if (t->addr == py->known[PT_MODULE] && py_field(py, o->addr, LF_MODULE_NAME, &md_name) == 0 &&
		    py_str(py, md_name, name, sizeof name) == 0) {
			fputs(", \"name\": ", out);
			json_put_str(out, name);
		}
		pc_clear_error();
		fputs(", \"refs\": [", out);
		for (uint32_t e = g->start[v]; e < g->start[v + 1]; e++)
			fprintf(out, "%s%llu", e > g->start[v] ? ", " : "",
				(unsigned long long)g->index->v[g->adj[e]].addr);
		fputs("]}\n", out);
	}
	return ferror(out) ? -1 : 0;
}
