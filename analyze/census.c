/* census.c — counting the heap by type and by kind.
 *
 * One pass over the heap adds each object to its type's row, and keeps two
 * lists: every plain dict (address, size) and every dict some object owns
 * (address, owner's type).  Sorting both and merging them names each dict
 * by its owner — memory is 16 bytes per dict, nothing per other object.
 */
#include "census.h"

#include "../common/error.h"
#include "../common/sort.h"
#include "pysize.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pair {
	uint64_t addr;
	uint64_t value;              /* a dict's size, or the owner's type index */
};

struct pairs {
	struct pair *v;
	size_t n, cap;
};

struct tally {
	struct pc_py *py;
	struct pc_types *types;
	uint64_t *count, *bytes;     /* per type index */
	size_t ntypes;
	struct pairs dicts, owned;
	struct objindex *index;      /* or NULL */
};

#define NO_OWNER UINT64_MAX

static int push(struct pairs *p, uint64_t addr, uint64_t value)
{
	if (p->n == p->cap) {
		struct pair *v = realloc(p->v, (p->cap = p->cap ? 2 * p->cap : 4096) * sizeof *v);
		if (!v)
			return pc_fail(PC_EINTERNAL, 0, "out of memory counting dicts");
		p->v = v;
	}
	p->v[p->n++] = (struct pair){ addr, value };
	return 0;
}

static int grow_rows(struct tally *t, size_t need)
{
	size_t n = t->ntypes ? t->ntypes : 256;
	uint64_t *c, *b;

	while (n <= need)
		n *= 2;
	c = realloc(t->count, n * sizeof *c);
	if (c)
		t->count = c;
	b = c ? realloc(t->bytes, n * sizeof *b) : NULL;
	if (!b)
		return pc_fail(PC_EINTERNAL, 0, "out of memory counting types");
	t->bytes = b;
	memset(t->count + t->ntypes, 0, (n - t->ntypes) * sizeof *c);
	memset(t->bytes + t->ntypes, 0, (n - t->ntypes) * sizeof *b);
	t->ntypes = n;
	return 0;
}

/* The __dict__ an object owns, or 0: at tp_dictoffset (<= 3.10, and types
 * without a managed dict), or in the 3.11+ pre-header (obj - 24; 3.12
 * tags a values pointer there with bit 0: no dict object then). */
static uint64_t owned_dict(struct pc_py *py, const struct heap_object *o)
{
	const struct py_type *t = o->type;
	int64_t off = t->dictoffset;
	uint64_t word = 0, at;

	if (py->L.has_preheader && (t->flags & (uint64_t)py->L.konst[LC_TPFLAGS_MANAGED_DICT])) {
		if (py_u64(py, o->addr - 3 * 8, &word) < 0)
			pc_clear_error();
		return py->L.managed_dict_tagged && (word & 1) ? 0 : word;
	}
	if (off == 0)
		return 0;
	if (off < 0) {
		uint64_t n = 0;
		if (t->itemsize && py_u64(py, o->addr + (uint64_t)py->L.off[LF_VAROBJECT_SIZE], &n) < 0)
			return 0;
		n = (int64_t)n < 0 ? -n : n;
		off += (int64_t)(((uint64_t)t->basicsize + n * (uint64_t)t->itemsize + 7) & ~7ull);
	}
	at = o->addr + (uint64_t)off;
	if ((uint64_t)off + 8 <= o->avail)
		memcpy(&word, o->mem + off, 8);
	else if (py_u64(py, at, &word) < 0)
		pc_clear_error();
	return word;
}

static int count_object(void *arg, const struct heap_object *o)
{
	struct tally *t = arg;
	uint64_t size = pysize_of(t->py, o), dict;

	if (o->type->index >= t->ntypes && grow_rows(t, o->type->index) < 0)
		return -1;
	t->count[o->type->index]++;
	t->bytes[o->type->index] += size;
	if (o->type->addr == t->py->known[PT_DICT] && push(&t->dicts, o->addr, size) < 0)
		return -1;
	if ((dict = owned_dict(t->py, o)) && push(&t->owned, dict, o->type->index) < 0)
		return -1;
	if (t->index && objindex_add(t->index, o->addr, o->type->index, size) < 0)
		return -1;
	return 0;
}

/* Static types are not heap objects, but their dicts are ("dict of type"):
 * tp_dict, or 3.12+ the interpreter's per-type state. */
static int own_static_type_dicts(struct tally *t)
{
	struct pc_py *py = t->py;
	const struct pc_layout *L = &py->L;
	const struct py_type *type_type = types_lookup(t->types, py->known[PT_TYPE]);

	if (!type_type)
		return 0;
	for (size_t i = 0; i < types_count(t->types); i++) {
		const struct py_type *ty = types_at(t->types, i);
		uint64_t dict = 0, index;
		if (ty->is_heap)
			continue;
		if (py_field(py, ty->addr, LF_TYPE_DICT, &dict) < 0)
			dict = 0;
		if (!dict && L->static_types_per_interp &&
		    py_field(py, ty->addr, LF_TYPE_SUBCLASSES, &index) == 0 && index >= 1 &&
		    index <= 1024 &&
		    py_u64(py, py->main_interp + (uint64_t)L->off[LF_INTERP_STATIC_TYPES] +
				       (index - 1) * (uint64_t)L->size[LS_STATIC_TYPE_STATE] +
				       (uint64_t)L->off[LF_STATIC_TYPE_STATE_DICT], &dict) < 0)
			dict = 0;
		pc_clear_error();
		if (dict && push(&t->owned, dict, type_type->index) < 0)
			return -1;
	}
	return 0;
}

static int by_addr(const void *a, const void *b)
{
	uint64_t x = ((const struct pair *)a)->addr, y = ((const struct pair *)b)->addr;
	return (x > y) - (x < y);
}

int census_row_order(const void *a, const void *b)
{
	const struct census_row *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->name, y->name);
}

int census_rows_by_type(struct pc_types *types, const uint64_t *count, const uint64_t *bytes,
			struct census_row **rows, size_t *n)
{
	size_t nt = types_count(types), first = *n;

	for (size_t t = 0; t < nt; t++) {
		struct census_row *r;
		if (!count[t])
			continue;
		if (!(r = realloc(*rows, (*n + 1) * sizeof *r)))
			return pc_fail(PC_EINTERNAL, ENOMEM, "building the tables");
		*rows = r;
		r[(*n)++] = (struct census_row){ types_name(types, types_at(types, t)),
						 count[t], bytes[t] };
	}
	sort_array(*rows + first, *n - first, sizeof **rows, census_row_order);
	return 0;
}

/* One row per type; a type named twice (two classes of one qualified
 * name) gets one row. */
static int add_row(struct census_row **rows, size_t *n, const char *name, uint64_t count,
		   uint64_t bytes)
{
	struct census_row *r;

	for (size_t i = *n; i-- > 0;)
		if (strcmp((*rows)[i].name, name) == 0) {
			(*rows)[i].count += count;
			(*rows)[i].bytes += bytes;
			return 0;
		}
	r = realloc(*rows, (*n + 1) * sizeof *r);
	if (!r || !(name = strdup(name)))
		return pc_fail(PC_EINTERNAL, 0, "out of memory building the tables");
	*rows = r;
	r[(*n)++] = (struct census_row){ name, count, bytes };
	return 0;
}

/* Each dict's owner: merge the sorted dict list with the sorted owners,
 * summing per owner type (the last slot: no owner). */
static int tally_dicts(struct tally *t, uint64_t *count, uint64_t *bytes)
{
	size_t k = 0, none = types_count(t->types);

	sort_array(t->dicts.v, t->dicts.n, sizeof *t->dicts.v, by_addr);
	sort_array(t->owned.v, t->owned.n, sizeof *t->owned.v, by_addr);
	for (size_t i = 0; i < t->dicts.n; i++) {
		const struct pair *d = &t->dicts.v[i];
		size_t owner = none;
		while (k < t->owned.n && t->owned.v[k].addr < d->addr)
			k++;
		if (k < t->owned.n && t->owned.v[k].addr == d->addr)
			owner = (size_t)t->owned.v[k].value;
		count[owner]++;
		bytes[owner] += d->value;
	}
	return 0;
}

static int dict_kinds(struct tally *t, struct census *c)
{
	size_t n = types_count(t->types) + 1;
	uint64_t *count = calloc(n, sizeof *count), *bytes = calloc(n, sizeof *bytes);
	char name[600];
	int rc = -1;

	if (!count || !bytes) {
		pc_fail(PC_EINTERNAL, 0, "out of memory naming dicts");
		goto out;
	}
	tally_dicts(t, count, bytes);
	for (size_t i = 0; i < n; i++) {
		const struct py_type *ot = i + 1 < n ? types_at(t->types, i) : NULL;
		if (!count[i])
			continue;
		if (!ot)
			snprintf(name, sizeof name, "dict (no owner)");
		else
			snprintf(name, sizeof name, "dict of %s",
				 ot->rule == SIZE_TYPE ? "type" : types_name(t->types, ot));
		if (add_row(&c->kinds, &c->nkinds, name, count[i], bytes[i]) < 0)
			goto out;
	}
	rc = 0;
out:
	free(count);
	free(bytes);
	return rc;
}

static int build_rows(struct tally *t, struct census *c)
{
	for (size_t i = 0; i < types_count(t->types) && i < t->ntypes; i++) {
		const struct py_type *ty = types_at(t->types, i);
		const char *name;
		if (!t->count[i])
			continue;
		name = types_name(t->types, ty);
		c->objects += t->count[i];
		c->bytes += t->bytes[i];
		if (add_row(&c->types, &c->ntypes, name, t->count[i], t->bytes[i]) < 0)
			return -1;
		if (ty->addr != t->py->known[PT_DICT] &&
		    add_row(&c->kinds, &c->nkinds, name, t->count[i], t->bytes[i]) < 0)
			return -1;
	}
	if (dict_kinds(t, c) < 0)
		return -1;
	sort_array(c->types, c->ntypes, sizeof *c->types, census_row_order);
	sort_array(c->kinds, c->nkinds, sizeof *c->kinds, census_row_order);
	return 0;
}

int census_take(struct pc_py *py, struct census *c, struct objindex *index,
		heap_progress_fn progress, void *progress_arg)
{
	struct tally t = { .py = py, .index = index };
	int rc = -1;

	memset(c, 0, sizeof *c);
	if (!(t.types = types_new(py)) || grow_rows(&t, 0) < 0)
		goto out;
	rc = heap_walk(py, t.types, count_object, &t, &c->heap, progress, progress_arg);
	if (rc == 0)
		rc = own_static_type_dicts(&t);
	if (rc == 0)
		rc = build_rows(&t, c);
out:
	if (rc != 0)
		census_free(c);
	free(t.count);
	free(t.bytes);
	free(t.dicts.v);
	free(t.owned.v);
	if (rc == 0)
		c->type_table = t.types;
	else
		types_free(t.types);
	return rc ? -1 : 0;
}

static void free_rows(struct census_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)rows[i].name);
	free(rows);
}

void census_free(struct census *c)
{
	free_rows(c->types, c->ntypes);
	free_rows(c->kinds, c->nkinds);
	types_free(c->type_table);
	c->type_table = NULL;
	c->types = c->kinds = NULL;
	c->ntypes = c->nkinds = 0;
}
