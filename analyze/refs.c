/* refs.c — the references of one object, by what its type is built on. */
#include "refs.h"

#include "../common/error.h"
#include "../common/le.h"
#include "pyattr.h"

#include <stdlib.h>
#include <string.h>

#define BASE_CHAIN_MAX 64
#define SCAN_MAX       (64u << 20)   /* no object body is larger; guards damage */

/* How to read the references of instances of a type. */
enum ref_kind {
	REF_NONE,                    /* str, int, float, bytes, bytearray: none */
	REF_TUPLE, REF_LIST, REF_DICT, REF_SET, REF_TYPE, REF_WEAKREF, REF_MODULE,
	REF_DEQUE,                   /* collections.deque: items in linked blocks */
	REF_SCAN,                    /* scan the static base's memory */
};

struct type_refs {
	bool ready;
	enum ref_kind kind;
	bool conservative;           /* REF_SCAN of a type pycore has no layout for */
	bool python_class;           /* a heap type: slots and dict after the base */
	uint32_t base_size;          /* basicsize of the first static type on tp_base */
	uint32_t extra_from;         /* a C subclass of a container (OrderedDict,
					defaultdict): its own fields from here */
	int64_t weaklistoffset;      /* skipped: the weak reference list is weak */
};

struct pc_refs {
	struct pc_py *py;
	struct pc_types *types;
	const struct objindex *index;
	struct type_refs *by_type;   /* by type index */
	size_t ntypes;
};

struct pc_refs *refs_new(struct pc_py *py, struct pc_types *types, const struct objindex *index)
{
	struct pc_refs *r = calloc(1, sizeof *r);

	if (!r) {
		pc_fail(PC_EINTERNAL, 0, "out of memory");
		return NULL;
	}
	r->py = py;
	r->types = types;
	r->index = index;
	return r;
}

void refs_free(struct pc_refs *r)
{
	if (r)
		free(r->by_type);
	free(r);
}

static int emit(struct pc_refs *r, uint64_t addr, refs_fn fn, void *arg)
{
	int64_t i;

	if (!addr || (addr & 7) || (i = objindex_find(r->index, addr)) < 0)
		return 0;
	return fn(arg, (uint32_t)i);
}

int refs_scan_slots(struct pc_refs *r, uint64_t addr, uint64_t len, refs_slot_fn fn, void *arg)
{
	const uint8_t *p;
	int64_t i;
	int rc;

	addr = (addr + 7) & ~7ull;
	if (!len || len > SCAN_MAX || !(p = py_ptr(r->py, addr, (size_t)len & ~7ul)))
		return 0;
	for (uint64_t k = 0; k + 8 <= len; k += 8) {
		uint64_t word = le_get64(p + k);
		if (!word || (word & 7) || (i = objindex_find(r->index, word)) < 0)
			continue;
		if ((rc = fn(arg, (uint32_t)i, addr + k)) != 0)
			return rc;
	}
	return 0;
}

struct scan_adapter {
	refs_fn fn;
	void *arg;
};

static int without_slot(void *arg, uint32_t target, uint64_t slot)
{
	struct scan_adapter *a = arg;
	(void)slot;
	return a->fn(a->arg, target);
}

int refs_scan(struct pc_refs *r, uint64_t addr, uint64_t len, refs_fn fn, void *arg)
{
	struct scan_adapter a = { fn, arg };
	return refs_scan_slots(r, addr, len, without_slot, &a);
}

/* A static type of C built on dict, list or tuple (OrderedDict,
 * defaultdict, …): the container's items, then its own fields scanned. */
static void container_subclass(struct pc_refs *r, const struct py_type *b, struct type_refs *tr)
{
	const struct pc_layout *L = &r->py->L;

	if (b->flags & layout_flag(&r->py->L, LC_TPFLAGS_DICT_SUBCLASS)) {
		tr->kind = REF_DICT;
		tr->extra_from = (uint32_t)L->size[LS_DICT];
	} else if (b->flags & layout_flag(&r->py->L, LC_TPFLAGS_LIST_SUBCLASS)) {
		tr->kind = REF_LIST;
		tr->extra_from = (uint32_t)L->size[LS_LIST];
	} else if (b->flags & layout_flag(&r->py->L, LC_TPFLAGS_TUPLE_SUBCLASS)) {
		tr->kind = REF_TUPLE;         /* fields after the items: none known */
	}
}

/* The first static type on the tp_base chain, and what it is. */
static void classify(struct pc_refs *r, const struct py_type *t, struct type_refs *tr)
{
	struct pc_py *py = r->py;
	static const struct { enum py_known_type known; enum ref_kind kind; } known[] = {
		{ PT_STR, REF_NONE }, { PT_INT, REF_NONE }, { PT_BOOL, REF_NONE },
		{ PT_FLOAT, REF_NONE }, { PT_BYTES, REF_NONE }, { PT_BYTEARRAY, REF_NONE },
		{ PT_OBJECT, REF_NONE }, { PT_TUPLE, REF_TUPLE }, { PT_LIST, REF_LIST },
		{ PT_DICT, REF_DICT }, { PT_SET, REF_SET }, { PT_FROZENSET, REF_SET },
		{ PT_TYPE, REF_TYPE }, { PT_WEAKREF, REF_WEAKREF }, { PT_WEAKPROXY, REF_WEAKREF },
		{ PT_WEAKCALLABLEPROXY, REF_WEAKREF }, { PT_MODULE, REF_MODULE },
		{ PT_FUNCTION, REF_SCAN }, { PT_CODE, REF_SCAN }, { PT_FRAME, REF_SCAN },
		{ PT_GEN, REF_SCAN }, { PT_CORO, REF_SCAN }, { PT_ASYNC_GEN, REF_SCAN },
		{ PT_CELL, REF_SCAN }, { PT_METHOD, REF_SCAN },
	};
	const struct py_type *b = t;

	tr->python_class = t->is_heap;
	tr->weaklistoffset = 0;
	if (py_field(py, t->addr, LF_TYPE_WEAKLISTOFFSET, (uint64_t *)&tr->weaklistoffset) < 0)
		pc_clear_error();
	for (int depth = 0; b && b->is_heap && depth < BASE_CHAIN_MAX; depth++)
		b = types_lookup(r->types, b->base);
	tr->kind = REF_SCAN;
	tr->conservative = true;
	tr->base_size = b ? (uint32_t)b->basicsize : (uint32_t)py->L.size[LS_OBJECT];
	for (size_t i = 0; b && i < sizeof known / sizeof known[0]; i++)
		if (py->known[known[i].known] == b->addr) {
			tr->kind = known[i].kind;
			tr->conservative = false;
		}
	if (tr->kind == REF_SCAN && b)
		container_subclass(r, b, tr);
	if (t->rule == SIZE_DEQUE) {
		tr->kind = REF_DEQUE;
		tr->conservative = false;
	}
	/* A heap type made by C (PyType_FromSpec) with no static base of its
	 * own: its fields are C's, scanned like any unknown layout. */
	if (!b)
		tr->kind = REF_SCAN;
	tr->ready = true;
}

static const struct type_refs *type_refs(struct pc_refs *r, uint32_t type_index)
{
	if (type_index >= r->ntypes) {
		size_t n = types_count(r->types) + 64;
		struct type_refs *v = realloc(r->by_type, n * sizeof *v);
		if (!v)
			return NULL;
		memset(v + r->ntypes, 0, (n - r->ntypes) * sizeof *v);
		r->by_type = v;
		r->ntypes = n;
	}
	if (!r->by_type[type_index].ready)
		classify(r, types_at(r->types, type_index), &r->by_type[type_index]);
	return &r->by_type[type_index];
}

/* ob_item[0 .. n) of a tuple (inline) or a list (a separate array). */
static int items(struct pc_refs *r, uint64_t obj, enum layout_field_id items_at, bool inline_items,
		 refs_fn fn, void *arg)
{
	uint64_t n = 0, base = obj + (uint64_t)r->py->L.off[items_at];

	if (py_field(r->py, obj, LF_VAROBJECT_SIZE, &n) < 0 || (!inline_items && py_u64(r->py, base, &base) < 0)) {
		pc_clear_error();
		return 0;
	}
	return base ? refs_scan(r, base, n * 8, fn, arg) : 0;
}

struct dict_emit {
	struct pc_refs *r;
	refs_fn fn;
	void *arg;
};

static int dict_entry(struct pc_py *py, uint64_t key, uint64_t value, void *arg)
{
	struct dict_emit *d = arg;
	int rc = emit(d->r, key, d->fn, d->arg);

	(void)py;
	return rc ? rc : emit(d->r, value, d->fn, d->arg);
}

static int dict_refs(struct pc_refs *r, uint64_t dict, refs_fn fn, void *arg)
{
	struct dict_emit d = { r, fn, arg };
	int rc = py_dict_foreach(r->py, dict, dict_entry, &d);

	if (rc < 0) {
		pc_clear_error();     /* a damaged dict: what was read stands */
		return 0;
	}
	return rc;
}

/* The set's table: {key, hash} entries, mask + 1 of them (the dummy key
 * is a static object, so never an edge). */
static int set_refs(struct pc_refs *r, uint64_t set, refs_fn fn, void *arg)
{
	uint64_t table, mask;
	const uint8_t *p;
	int rc;

	if (py_field(r->py, set, LF_SET_TABLE, &table) < 0 || py_field(r->py, set, LF_SET_MASK, &mask) < 0 ||
	    mask >= (1ull << 32) || !(p = py_ptr(r->py, table, (size_t)(mask + 1) * 16))) {
		pc_clear_error();
		return 0;
	}
	for (uint64_t i = 0; i <= mask; i++)
		if ((rc = emit(r, le_get64(p + i * 16), fn, arg)) != 0)
			return rc;
	return 0;
}

static int fields(struct pc_refs *r, uint64_t obj, const enum layout_field_id *ids, size_t n,
		  refs_fn fn, void *arg)
{
	int rc;

	for (size_t i = 0; i < n; i++) {
		uint64_t v;
		if (!LAYOUT_HAS(&r->py->L, ids[i]) || py_field(r->py, obj, ids[i], &v) < 0) {
			pc_clear_error();
			continue;
		}
		if ((rc = emit(r, v, fn, arg)) != 0)
			return rc;
	}
	return 0;
}

static int type_object_refs(struct pc_refs *r, uint64_t t, refs_fn fn, void *arg)
{
	static const enum layout_field_id ids[] = {
		LF_TYPE_DICT, LF_TYPE_MRO, LF_TYPE_BASES, LF_TYPE_BASE, LF_TYPE_SUBCLASSES,
		LF_HEAPTYPE_NAME, LF_HEAPTYPE_QUALNAME, LF_HEAPTYPE_SLOTS, LF_HEAPTYPE_MODULE,
	};
	uint64_t flags = 0;

	if (py_field(r->py, t, LF_TYPE_FLAGS, &flags) < 0)
		pc_clear_error();
	/* A static type's tp_subclasses may be an index (3.12+): never an
	 * object address, so it finds nothing; the ht_ fields only exist in
	 * heap types. */
	return fields(r, t, ids, flags & layout_flag(&r->py->L, LC_TPFLAGS_HEAPTYPE) ? 9 : 5, fn, arg);
}

/* A module: its fields, and its C state (md_state, m_size bytes). */
static int module_refs(struct pc_refs *r, uint64_t m, uint64_t body, refs_fn fn, void *arg)
{
	uint64_t state = 0, def = 0, size = 0;
	int rc = refs_scan(r, m + 16, body - 16, fn, arg);

	if (rc)
		return rc;
	if (py_field(r->py, m, LF_MODULE_STATE, &state) < 0 || py_field(r->py, m, LF_MODULE_DEF, &def) < 0 ||
	    !state || !def || py_u64(r->py, def + (uint64_t)r->py->L.off[LF_MODULEDEF_SIZE], &size) < 0) {
		pc_clear_error();
		return 0;
	}
	return (int64_t)size > 0 ? refs_scan(r, state, size, fn, arg) : 0;
}

/* 3.11+: the __dict__ before the GC header, or the values array standing
 * in for it. */
static int managed_dict_refs(struct pc_refs *r, uint64_t obj, const struct py_type *t, refs_fn fn,
			     void *arg)
{
	struct pc_py *py = r->py;
	uint64_t word = 0, slots, count, keys;
	int rc;

	if (!py->L.has_preheader || !(t->flags & layout_flag(&py->L, LC_TPFLAGS_MANAGED_DICT)))
		return 0;
	if (py_u64(py, obj - py->gc_head - 8, &word) == 0 && word &&
	    !(py->L.managed_dict_tagged && (word & 1)) && (rc = emit(r, word, fn, arg)) != 0)
		return rc;
	if (py_managed_values(py, obj, t->addr, t->flags, &slots, &count, &keys) < 0 || count > 4096) {
		pc_clear_error();
		return 0;
	}
	return slots ? refs_scan(r, slots, count * 8, fn, arg) : 0;
}

/* The words a Python class adds after its static base: __slots__, the
 * __dict__ pointer; not the weak reference list. */
static int class_slot_refs(struct pc_refs *r, uint64_t obj, const struct py_type *t,
			   const struct type_refs *tr, refs_fn fn, void *arg)
{
	int64_t dictoffset = t->dictoffset;
	uint64_t word;
	int rc;

	if (!t->itemsize) {
		for (uint64_t off = tr->base_size; off + 8 <= (uint64_t)t->basicsize; off += 8) {
			if ((int64_t)off == tr->weaklistoffset || py_u64(r->py, obj + off, &word) < 0)
				continue;
			if ((rc = emit(r, word, fn, arg)) != 0)
				return rc;
		}
	} else if (dictoffset < 0) {       /* var-sized: the dict is counted from the end */
		uint64_t n = 0;
		if (py_field(r->py, obj, LF_VAROBJECT_SIZE, &n) == 0) {
			n = (int64_t)n < 0 ? -n : n;
			dictoffset += (int64_t)(((uint64_t)t->basicsize + n * (uint64_t)t->itemsize + 7) & ~7ull);
			if (py_u64(r->py, obj + (uint64_t)dictoffset, &word) == 0 &&
			    (rc = emit(r, word, fn, arg)) != 0)
				return rc;
		}
	}
	pc_clear_error();
	return managed_dict_refs(r, obj, t, fn, arg);
}

/* deque: ob_size items from leftblock[leftindex], BLOCKLEN per block,
 * blocks chained by rightlink. */
static int deque_refs(struct pc_refs *r, uint64_t d, refs_fn fn, void *arg)
{
	const struct pc_layout *L = &r->py->L;
	uint64_t n = 0, block = 0, index = 0, data = (uint64_t)L->off[LF_DEQUE_BLOCK_DATA];
	uint64_t blocklen = (uint64_t)L->fsize[LF_DEQUE_BLOCK_DATA] / 8, item;
	int rc;

	if (!LAYOUT_HAS(L, LF_DEQUE_LEFTBLOCK) || !blocklen ||
	    py_field(r->py, d, LF_VAROBJECT_SIZE, &n) < 0 || py_field(r->py, d, LF_DEQUE_LEFTBLOCK, &block) < 0 ||
	    py_field(r->py, d, LF_DEQUE_LEFTINDEX, &index) < 0 || index >= blocklen) {
		pc_clear_error();
		return 0;
	}
	for (uint64_t k = 0; k < n && block; k++) {
		if (py_u64(r->py, block + data + 8 * index, &item) < 0)
			break;
		if ((rc = emit(r, item, fn, arg)) != 0)
			return rc;
		if (++index == blocklen) {
			index = 0;
			if (py_u64(r->py, block + (uint64_t)L->off[LF_DEQUE_BLOCK_RIGHTLINK], &block) < 0)
				break;
		}
	}
	pc_clear_error();
	return 0;
}

/* The object's memory: basicsize, plus its items for a var-sized type. */
static uint64_t body_size(struct pc_refs *r, uint64_t obj, const struct py_type *t)
{
	uint64_t n = 0;

	if (t->itemsize && py_field(r->py, obj, LF_VAROBJECT_SIZE, &n) < 0)
		pc_clear_error();
	n = (int64_t)n < 0 ? -n : n;
	return (uint64_t)t->basicsize + n * (uint64_t)t->itemsize;
}

static int base_refs(struct pc_refs *r, uint64_t obj, const struct py_type *t,
		     const struct type_refs *tr, refs_fn fn, void *arg)
{
	uint64_t cb;

	switch (tr->kind) {
	case REF_NONE:    return 0;
	case REF_TUPLE:   return items(r, obj, LF_TUPLE_ITEMS, true, fn, arg);
	case REF_LIST:    return items(r, obj, LF_LIST_ITEMS, false, fn, arg);
	case REF_DICT:    return dict_refs(r, obj, fn, arg);
	case REF_SET:     return set_refs(r, obj, fn, arg);
	case REF_TYPE:    return type_object_refs(r, obj, fn, arg);
	case REF_MODULE:  return module_refs(r, obj, tr->base_size, fn, arg);
	case REF_DEQUE:   return deque_refs(r, obj, fn, arg);
	case REF_WEAKREF:          /* the referent is weak; the callback is not */
		if (py_field(r->py, obj, LF_WEAKREF_CALLBACK, &cb) < 0) {
			pc_clear_error();
			return 0;
		}
		return emit(r, cb, fn, arg);
	case REF_SCAN:
		break;
	}
	/* Past the object header: a static base's fields, items included. */
	return refs_scan(r, obj + 16, (t->is_heap ? tr->base_size : body_size(r, obj, t)) - 16, fn, arg);
}

int refs_of(struct pc_refs *r, uint32_t i, refs_fn fn, void *arg, bool *conservative)
{
	const struct objrec *o = &r->index->v[i];
	const struct py_type *t = types_at(r->types, o->type);
	const struct type_refs *tr = t ? type_refs(r, o->type) : NULL;
	int rc;

	*conservative = false;
	if (!tr)
		return 0;
	*conservative = tr->conservative;
	/* An instance of a heap type owns a reference to its type. */
	if (t->is_heap && (rc = emit(r, t->addr, fn, arg)) != 0)
		return rc;
	if ((rc = base_refs(r, o->addr, t, tr, fn, arg)) != 0)
		return rc;
	if (tr->extra_from && tr->base_size > tr->extra_from &&
	    (rc = refs_scan(r, o->addr + tr->extra_from, tr->base_size - tr->extra_from, fn, arg)) != 0)
		return rc;
	return tr->python_class ? class_slot_refs(r, o->addr, t, tr, fn, arg) : 0;
}

int refs_prepare(struct pc_refs *r)
{
	for (size_t i = 0; i < types_count(r->types); i++)
		if (!type_refs(r, (uint32_t)i))
			return pc_fail(PC_EINTERNAL, 0, "out of memory");
	return 0;
}
