/* pysize_ext.c — the __sizeof__ of the standard-library C types whose size
 * depends on their contents.
 *
 * Each size restates the module's own __sizeof__ (named above it), the
 * same in 3.8-3.13; the structs come from the layout (analyze/layout.h,
 * "standard-library C types").  What is not modelled here is measured as
 * object.__sizeof__ measures it (docs/sizes.md).
 */
#include "pysize_ext.h"
#include "pysize.h"

#include "heap.h"
#include "../common/error.h"

#include <string.h>

#define PTR 8u
#define STRUCT_CODES_MAX (1u << 24)   /* far more format codes than any real Struct */
#define COUNT_MAX (1ull << 48)        /* no length or capacity comes near */

struct model {
	const char *name;              /* tp_name, as the module sets it */
	enum size_rule rule;
	enum layout_size_id size;      /* the instance struct: the type's tp_basicsize */
	bool static_only;              /* a bare name: only a static type may carry it */
};

static const struct model models[] = {
	{ "collections.deque",       SIZE_DEQUE,    LS_DEQUE,    false },
	{ "collections.OrderedDict", SIZE_ODICT,    LS_ODICT,    false },
	{ "array.array",             SIZE_ARRAY,    LS_ARRAY,    false },
	{ "_io.BufferedReader",      SIZE_BUFFERED, LS_BUFFERED, false },
	{ "_io.BufferedWriter",      SIZE_BUFFERED, LS_BUFFERED, false },
	{ "_io.BufferedRandom",      SIZE_BUFFERED, LS_BUFFERED, false },
	{ "_io.BytesIO",             SIZE_BYTESIO,  LS_BYTESIO,  false },
	{ "_struct.Struct",          SIZE_STRUCT,   LS_STRUCT,   false },
	{ "Struct",                  SIZE_STRUCT,   LS_STRUCT,   true },   /* 3.8's tp_name */
};
#define NMODELS (sizeof models / sizeof models[0])

/* What each rule reads (-1 ends a list). */
static const struct need {
	enum size_rule rule;
	int sizes[4];
	int fields[4];
} needs[] = {
	{ SIZE_DEQUE,    { LS_DEQUE, LS_DEQUE_BLOCK, -1 },
			 { LF_DEQUE_LEFTINDEX, LF_DEQUE_BLOCK_DATA, LF_VAROBJECT_SIZE, -1 } },
	{ SIZE_ODICT,    { LS_ODICT, LS_ODICT_NODE, -1 },
			 { LF_ODICT_FIRST, LF_ODICT_FAST_NODES_SIZE, LF_DICT_USED, -1 } },
	{ SIZE_ARRAY,    { LS_ARRAY, -1 },
			 { LF_ARRAY_ALLOCATED, LF_ARRAY_DESCR, LF_ARRAYDESCR_ITEMSIZE, -1 } },
	{ SIZE_BUFFERED, { LS_BUFFERED, -1 },
			 { LF_BUFFERED_BUFFER, LF_BUFFERED_BUFFER_SIZE, -1 } },
	{ SIZE_BYTESIO,  { LS_BYTESIO, -1 },
			 { LF_BYTESIO_BUF, LF_VAROBJECT_SIZE, LF_OBJECT_REFCNT, -1 } },
	{ SIZE_STRUCT,   { LS_STRUCT, LS_STRUCT_CODE, -1 },
			 { LF_STRUCT_CODES, LF_STRUCT_CODE_FMTDEF, -1 } },
};

static const struct need *need_of(enum size_rule rule)
{
	for (size_t i = 0; i < sizeof needs / sizeof needs[0]; i++)
		if (needs[i].rule == rule)
			return &needs[i];
	return NULL;
}

static bool has_all(const struct pc_layout *L, const struct need *n)
{
	for (int i = 0; n->sizes[i] >= 0; i++)
		if (L->size[n->sizes[i]] <= 0)
			return false;
	for (int i = 0; n->fields[i] >= 0; i++)
		if (!LAYOUT_HAS(L, n->fields[i]))
			return false;
	return true;
}


/* The model whose name the type's tp_name is, among those whose struct
 * size could be the type's basic size.  The name is read a byte at a
 * time, only while some model's name still begins with what was read:
 * most types are ruled out by their first byte. */
static const struct model *model_named(struct pc_py *py, uint64_t type, uint64_t basicsize,
				       bool is_heap)
{
	bool alive[NMODELS], any = false;
	uint64_t name;

	for (size_t m = 0; m < NMODELS; m++) {
		int64_t size = py->L.size[models[m].size];
		alive[m] = (size == LAYOUT_ABSENT || (uint64_t)size == basicsize) &&
			   !(models[m].static_only && is_heap);
		any |= alive[m];
	}
	if (!any || !(name = pysize_u64_at(py, type + (uint64_t)py->L.off[LF_TYPE_NAME])))
		return NULL;
	for (size_t i = 0; any; i++) {
		char c;
		if (py_read(py, name + i, &c, 1) < 0) {
			pc_clear_error();
			return NULL;
		}
		any = false;
		for (size_t m = 0; m < NMODELS; m++) {
			if (!alive[m])
				continue;
			if (models[m].name[i] != c)
				alive[m] = false;
			else if (c == '\0')
				return &models[m];
			else
				any = true;
		}
	}
	return NULL;
}

enum size_rule pysize_ext_rule(struct pc_py *py, uint64_t type)
{
	struct pc_layout *L = &py->L;
	uint64_t basicsize, flags;
	const struct model *m;
	const struct need *n;

	if (!type || type == py->known[PT_OBJECT])
		return SIZE_DEFAULT;
	basicsize = pysize_u64_at(py, type + (uint64_t)L->off[LF_TYPE_BASICSIZE]);
	flags = pysize_u64_at(py, type + (uint64_t)L->off[LF_TYPE_FLAGS]);
	if (!(m = model_named(py, type, basicsize,
			      (flags & (uint64_t)L->konst[LC_TPFLAGS_HEAPTYPE]) != 0)) ||
	    !(n = need_of(m->rule)))
		return SIZE_DEFAULT;
	if (!has_all(L, n) || (uint64_t)L->size[m->size] != basicsize)
		return SIZE_DEFAULT;
	return m->rule;
}

/* ---- the sizes ---- */


/* deque_sizeof: _PyObject_SIZE(Py_TYPE(deque)) plus every block the items
 * span, counted from leftindex: (leftindex + len + BLOCKLEN - 1) / BLOCKLEN.
 * BLOCKLEN is the length of a block's data array. */
static uint64_t deque_sizeof(struct pc_py *py, const struct heap_object *o)
{
	const struct pc_layout *L = &py->L;
	uint64_t size = (uint64_t)o->type->basicsize;
	uint64_t len = pysize_field(py, o, LF_VAROBJECT_SIZE), left = pysize_field(py, o, LF_DEQUE_LEFTINDEX);
	uint64_t blocklen = L->fsize[LF_DEQUE_BLOCK_DATA] > 0 ? (uint64_t)L->fsize[LF_DEQUE_BLOCK_DATA] / PTR : 0;

	if (!blocklen || len >= COUNT_MAX || left >= blocklen)
		return size;
	return size + (left + len + blocklen - 1) / blocklen * (uint64_t)L->size[LS_DEQUE_BLOCK];
}

/* odict_sizeof, beyond _PyDict_SizeOf: the od_fast_nodes array, and one
 * _ODictNode per item unless the linked list is empty. */
static uint64_t odict_extra(struct pc_py *py, const struct heap_object *o)
{
	uint64_t fast = pysize_field(py, o, LF_ODICT_FAST_NODES_SIZE), used = pysize_field(py, o, LF_DICT_USED);
	uint64_t size = 0;

	if (fast < COUNT_MAX)
		size += fast * PTR;
	if (pysize_field(py, o, LF_ODICT_FIRST) && used < COUNT_MAX)
		size += used * (uint64_t)py->L.size[LS_ODICT_NODE];
	return size;
}

/* array_array___sizeof___impl: _PyObject_SIZE(Py_TYPE(self)) +
 * allocated * ob_descr->itemsize (the descriptor is static data of the
 * array module). */
static uint64_t array_sizeof(struct pc_py *py, const struct heap_object *o)
{
	uint64_t size = (uint64_t)o->type->basicsize;
	uint64_t allocated = pysize_field(py, o, LF_ARRAY_ALLOCATED), descr = pysize_field(py, o, LF_ARRAY_DESCR);
	int32_t itemsize = 0;

	if (!descr || allocated >= COUNT_MAX)
		return size;
	if (py_read(py, descr + (uint64_t)py->L.off[LF_ARRAYDESCR_ITEMSIZE], &itemsize, 4) < 0) {
		pc_clear_error();
		return size;
	}
	return itemsize > 0 ? size + allocated * (uint64_t)itemsize : size;
}

/* buffered_sizeof (_io__Buffered___sizeof___impl): the buffer counts while
 * it is allocated (close() frees it). */
static uint64_t buffered_sizeof(struct pc_py *py, const struct heap_object *o)
{
	uint64_t size = (uint64_t)o->type->basicsize, bufsize = pysize_field(py, o, LF_BUFFERED_BUFFER_SIZE);

	if (pysize_field(py, o, LF_BUFFERED_BUFFER) && bufsize < COUNT_MAX)
		size += bufsize;
	return size;
}

/* _io_BytesIO___sizeof___impl: the bytes buffer counts, by
 * _PySys_GetSizeOf, unless it is shared (Py_REFCNT > 1: getvalue() or a
 * BytesIO made from a bytes object hands it out).  A bytes object is not
 * tracked by the GC: its getsizeof is its __sizeof__, tp_basicsize +
 * ob_size * tp_itemsize of its type. */
static uint64_t bytesio_sizeof(struct pc_py *py, const struct heap_object *o)
{
	const struct pc_layout *L = &py->L;
	uint64_t size = (uint64_t)o->type->basicsize, buf = pysize_field(py, o, LF_BYTESIO_BUF), type, len;

	if (!buf || (int64_t)pysize_u64_at(py, buf + (uint64_t)L->off[LF_OBJECT_REFCNT]) > 1 ||
	    !(type = pysize_u64_at(py, buf + (uint64_t)L->off[LF_OBJECT_TYPE])))
		return size;
	len = pysize_u64_at(py, buf + (uint64_t)L->off[LF_VAROBJECT_SIZE]);
	if (len >= COUNT_MAX)
		return size;
	return size + pysize_u64_at(py, type + (uint64_t)L->off[LF_TYPE_BASICSIZE]) +
	       len * pysize_u64_at(py, type + (uint64_t)L->off[LF_TYPE_ITEMSIZE]);
}

/* s_sizeof (Struct___sizeof___impl): one formatcode per code of the
 * format, plus the terminating one (fmtdef NULL). */
static uint64_t struct_sizeof(struct pc_py *py, const struct heap_object *o)
{
	const struct pc_layout *L = &py->L;
	uint64_t size = (uint64_t)o->type->basicsize, codes = pysize_field(py, o, LF_STRUCT_CODES);
	uint64_t step = (uint64_t)L->size[LS_STRUCT_CODE], fmtdef = (uint64_t)L->off[LF_STRUCT_CODE_FMTDEF];
	uint64_t v;

	if (!codes)
		return size;
	for (uint64_t i = 0; i < STRUCT_CODES_MAX; i++) {
		size += step;
		if (py_u64(py, codes + i * step + fmtdef, &v) < 0) {
			pc_clear_error();
			break;
		}
		if (!v)
			break;
	}
	return size;
}

uint64_t pysize_ext_sizeof(struct pc_py *py, const struct heap_object *o)
{
	switch (o->type->rule) {
	case SIZE_DEQUE:    return deque_sizeof(py, o);
	case SIZE_ODICT:    return odict_extra(py, o);
	case SIZE_ARRAY:    return array_sizeof(py, o);
	case SIZE_BUFFERED: return buffered_sizeof(py, o);
	case SIZE_BYTESIO:  return bytesio_sizeof(py, o);
	case SIZE_STRUCT:   return struct_sizeof(py, o);
	default:            break;
	}
	return (uint64_t)o->type->basicsize;
}
