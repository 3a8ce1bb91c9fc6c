/* pysize.c — the __sizeof__ of built-in types and sys.getsizeof's additions.
 *
 * Each rule restates the CPython function it mirrors (named above it);
 * differences between versions come from the layout (which fields exist)
 * and its behaviour flags, never from version numbers here.
 */
#include "pysize.h"

#include "pysize_ext.h"
#include "../common/error.h"

#include <string.h>

#define PTR 8u
#define USABLE_FRACTION(n) (((n) << 1) / 3)
#define STR_KIND(state)    (((state) >> 2) & 7)
#define STR_COMPACT(state) (((state) >> 5) & 1)
#define STR_ASCII(state)   (((state) >> 6) & 1)
#define STR_READY(state)   (((state) >> 7) & 1)   /* <= 3.11 only */
#define WCHAR_SIZE 4u

uint64_t pysize_field(struct pc_py *py, const struct heap_object *o, enum layout_field_id id)
{
	int64_t off = py->L.off[id];
	uint64_t v = 0;

	if (off == LAYOUT_ABSENT)
		return 0;
	if ((size_t)off + 8 <= o->avail)
		memcpy(&v, o->mem + off, 8);
	else if (py_u64(py, o->addr + (uint64_t)off, &v) < 0)
		pc_clear_error();
	return v;
}

uint64_t pysize_u64_at(struct pc_py *py, uint64_t addr)
{
	uint64_t v = 0;
	if (py_u64(py, addr, &v) < 0)
		pc_clear_error();
	return v;
}

static uint8_t u8_at(struct pc_py *py, uint64_t addr)
{
	uint8_t v = 0;
	if (py_read(py, addr, &v, 1) < 0)
		pc_clear_error();
	return v;
}

static uint64_t abs64(uint64_t v)
{
	return (int64_t)v < 0 ? -v : v;
}

/* object.__sizeof__: tp_basicsize + |ob_size| * tp_itemsize. */
static uint64_t default_sizeof(struct pc_py *py, const struct heap_object *o)
{
	uint64_t size = (uint64_t)o->type->basicsize;

	if (o->type->itemsize)
		size += abs64(pysize_field(py, o, LF_VAROBJECT_SIZE)) * (uint64_t)o->type->itemsize;
	return size;
}

/* unicode_sizeof_impl. */
static uint64_t str_sizeof(struct pc_py *py, const struct heap_object *o)
{
	const struct pc_layout *L = &py->L;
	uint32_t state;
	uint64_t len = pysize_field(py, o, LF_ASCII_LENGTH), size, data, utf8, wstr;
	unsigned kind;
	bool compact_ascii;

	memcpy(&state, o->mem + L->off[LF_ASCII_STATE], 4);
	kind = STR_KIND(state);
	compact_ascii = STR_COMPACT(state) && STR_ASCII(state);
	if (compact_ascii) {
		size = (uint64_t)L->size[LS_ASCII] + len + 1;
		data = o->addr + (uint64_t)L->size[LS_ASCII];
	} else if (STR_COMPACT(state)) {
		size = (uint64_t)L->size[LS_COMPACT_UNICODE] + (len + 1) * kind;
		data = o->addr + (uint64_t)L->size[LS_COMPACT_UNICODE];
	} else {
		data = pysize_field(py, o, LF_UNICODE_DATA);
		size = (uint64_t)L->size[LS_UNICODE] + (data ? (len + 1) * kind : 0);
	}
	if (!compact_ascii && (utf8 = pysize_field(py, o, LF_COMPACT_UTF8)) && utf8 != data)
		size += pysize_field(py, o, LF_COMPACT_UTF8_LENGTH) + 1;
	if (L->str_has_wstr && (wstr = pysize_field(py, o, LF_ASCII_WSTR)) &&
	    (!STR_READY(state) || wstr != data))
		size += ((compact_ascii ? len : pysize_field(py, o, LF_COMPACT_WSTR_LENGTH)) + 1) * WCHAR_SIZE;
	return size;
}

/* int___sizeof___impl. */
static uint64_t int_sizeof(struct pc_py *py, const struct heap_object *o)
{
	const struct pc_layout *L = &py->L;
	uint64_t ndigits = L->long_tagged ? pysize_field(py, o, LF_LONG_TAG) >> 3
					  : abs64(pysize_field(py, o, LF_VAROBJECT_SIZE));

	if (L->int_sizeof_min_one_digit && ndigits == 0)
		ndigits = 1;
	if (L->int_sizeof_from_type)
		return (uint64_t)o->type->basicsize + (uint64_t)o->type->itemsize * ndigits;
	return (uint64_t)L->off[LF_LONG_DIGITS] + 4 * ndigits;
}

/* _PyDict_KeysSize (3.11+) / the keys part of _PyDict_SizeOf (<= 3.10). */
uint64_t pysize_dict_keys(struct pc_py *py, uint64_t keys)
{
	const struct pc_layout *L = &py->L;
	uint64_t size, ixsize, entry = (uint64_t)L->size[LS_DICT_KEY_ENTRY];

	if (L->dict_keys_log2) {
		uint8_t log2 = u8_at(py, keys + (uint64_t)L->off[LF_DICTKEYS_LOG2_SIZE]);
		uint8_t log2_ix = u8_at(py, keys + (uint64_t)L->off[LF_DICTKEYS_LOG2_INDEX_BYTES]);
		if (log2 > 40 || log2_ix > 43)
			return 0;
		if (u8_at(py, keys + (uint64_t)L->off[LF_DICTKEYS_KIND]) != 0)
			entry = (uint64_t)L->size[LS_DICT_UNICODE_ENTRY];
		return (uint64_t)L->size[LS_DICT_KEYS] + (1ull << log2_ix) +
		       USABLE_FRACTION(1ull << log2) * entry;
	}
	size = pysize_u64_at(py, keys + (uint64_t)L->off[LF_DICTKEYS_SIZE]);
	if (size > 1ull << 40)
		return 0;
	ixsize = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffff ? 4 : 8;
	return (uint64_t)L->size[LS_DICT_KEYS] + ixsize * size + entry * USABLE_FRACTION(size);
}

/* _PyDict_SizeOf: a split table's values are counted here, its shared
 * keys (refcount > 1) with the class. */
static uint64_t dict_sizeof(struct pc_py *py, const struct heap_object *o)
{
	const struct pc_layout *L = &py->L;
	uint64_t size = (uint64_t)o->type->basicsize;
	uint64_t keys = pysize_field(py, o, LF_DICT_KEYS);

	if (!keys)
		return size;
	if (pysize_field(py, o, LF_DICT_VALUES)) {
		if (L->dict_keys_log2)
			size += (pysize_u64_at(py, keys + (uint64_t)L->off[LF_DICTKEYS_NENTRIES]) +
				 pysize_u64_at(py, keys + (uint64_t)L->off[LF_DICTKEYS_USABLE])) * PTR;
		else
			size += USABLE_FRACTION(pysize_u64_at(py, keys + (uint64_t)L->off[LF_DICTKEYS_SIZE])) * PTR;
	}
	if (pysize_u64_at(py, keys + (uint64_t)L->off[LF_DICTKEYS_REFCNT]) == 1)
		size += pysize_dict_keys(py, keys);
	return size;
}

/* set_sizeof: the table counts when it is not the inline smalltable. */
static uint64_t set_sizeof(struct pc_py *py, const struct heap_object *o)
{
	uint64_t size = (uint64_t)o->type->basicsize;

	if (pysize_field(py, o, LF_SET_TABLE) != o->addr + (uint64_t)py->L.off[LF_SET_SMALLTABLE])
		size += (pysize_field(py, o, LF_SET_MASK) + 1) * (uint64_t)py->L.size[LS_SET_ENTRY];
	return size;
}

/* type___sizeof___impl. */
static uint64_t type_sizeof(struct pc_py *py, const struct heap_object *o)
{
	uint64_t flags = pysize_field(py, o, LF_TYPE_FLAGS), keys;

	if (!(flags & (uint64_t)py->L.konst[LC_TPFLAGS_HEAPTYPE]))
		return (uint64_t)py->L.size[LS_TYPE];
	keys = pysize_field(py, o, LF_HEAPTYPE_CACHED_KEYS);
	return (uint64_t)py->L.size[LS_HEAPTYPE] + (keys ? pysize_dict_keys(py, keys) : 0);
}

/* The co_extra block a few tools attach (PEP 523 users). */
static uint64_t code_extra(struct pc_py *py, const struct heap_object *o)
{
	uint64_t extra = pysize_field(py, o, LF_CODE_EXTRA);
	/* _PyCodeObjectExtra {Py_ssize_t ce_size; void *ce_extras[1];} */
	return extra ? 2 * PTR + (pysize_u64_at(py, extra) - 1) * PTR : 0;
}

static uint64_t tuple_len(struct pc_py *py, uint64_t tuple)
{
	return tuple ? pysize_u64_at(py, tuple + (uint64_t)py->L.off[LF_VAROBJECT_SIZE]) : 0;
}

/* code_sizeof: 3.11+ a variable-size object of code units; before, the
 * cell-to-argument map and the opcache are extra allocations. */
static uint64_t code_sizeof(struct pc_py *py, const struct heap_object *o)
{
	const struct pc_layout *L = &py->L;
	uint64_t size, code;

	if (LAYOUT_HAS(L, LF_CODE_ADAPTIVE)) {
		size = default_sizeof(py, o);
		return ((size + 7) & ~7ull) + code_extra(py, o);
	}
	size = (uint64_t)o->type->basicsize + code_extra(py, o);
	if (pysize_field(py, o, LF_CODE_CELL2ARG))
		size += tuple_len(py, pysize_field(py, o, LF_CODE_CELLVARS)) * PTR;
	if (LAYOUT_HAS(L, LF_CODE_OPCACHE) && pysize_field(py, o, LF_CODE_OPCACHE)) {
		code = pysize_field(py, o, LF_CODE_CODE);
		/* co_opcache_map: one byte per code unit; _PyOpcache: 32 bytes. */
		size += pysize_u64_at(py, code + (uint64_t)L->off[LF_VAROBJECT_SIZE]) / 2 +
			32 * u8_at(py, o->addr + (uint64_t)L->off[LF_CODE_OPCACHE_SIZE]);
	}
	return size;
}

static uint32_t code_int(struct pc_py *py, uint64_t code, enum layout_field_id id)
{
	uint32_t v = 0;
	if (code && LAYOUT_HAS(&py->L, id) && py_read(py, code + (uint64_t)py->L.off[id], &v, 4) < 0)
		pc_clear_error();
	return v;
}

/* Slots an interpreter frame of this code needs (3.11+), or the frame
 * object's extras (<= 3.10: stack, locals, cells and free variables). */
static uint64_t frame_slots(struct pc_py *py, uint64_t code)
{
	if (LAYOUT_HAS(&py->L, LF_CODE_NLOCALSPLUS))
		return code_int(py, code, LF_CODE_NLOCALSPLUS) + code_int(py, code, LF_CODE_STACKSIZE);
	return code_int(py, code, LF_CODE_STACKSIZE) + code_int(py, code, LF_CODE_NLOCALS) +
	       tuple_len(py, pysize_u64_at(py, code + (uint64_t)py->L.off[LF_CODE_CELLVARS])) +
	       tuple_len(py, pysize_u64_at(py, code + (uint64_t)py->L.off[LF_CODE_FREEVARS]));
}

/* frame_sizeof. */
static uint64_t frame_sizeof(struct pc_py *py, const struct heap_object *o)
{
	const struct pc_layout *L = &py->L;
	uint64_t code;

	if (LAYOUT_HAS(L, LF_FRAME_DATA)) {        /* a frame object wraps an interpreter frame */
		code = pysize_u64_at(py, pysize_field(py, o, LF_FRAME_FRAME) + (uint64_t)L->off[LF_IFRAME_CODE]);
		return (uint64_t)(L->off[LF_FRAME_DATA] + L->off[LF_IFRAME_LOCALSPLUS]) +
		       frame_slots(py, code) * PTR;
	}
	code = pysize_field(py, o, LF_FRAME_CODE);
	return (uint64_t)L->size[LS_FRAME_OBJECT] + (frame_slots(py, code) - 1) * PTR;
}

/* gen_sizeof (3.11+: the interpreter frame lives inside the generator). */
static uint64_t gen_sizeof(struct pc_py *py, const struct heap_object *o)
{
	const struct pc_layout *L = &py->L;
	uint64_t code;

	if (!LAYOUT_HAS(L, LF_GEN_IFRAME))
		return default_sizeof(py, o);
	code = pysize_u64_at(py, o->addr + (uint64_t)(L->off[LF_GEN_IFRAME] + L->off[LF_IFRAME_CODE]));
	return (uint64_t)(L->off[LF_GEN_IFRAME] + L->off[LF_IFRAME_LOCALSPLUS]) +
	       frame_slots(py, code) * PTR;
}

static uint64_t dunder_sizeof(struct pc_py *py, const struct heap_object *o)
{
	switch (o->type->rule) {
	case SIZE_STR:       return str_sizeof(py, o);
	case SIZE_INT:       return int_sizeof(py, o);
	case SIZE_LIST:      return (uint64_t)o->type->basicsize + pysize_field(py, o, LF_LIST_ALLOCATED) * PTR;
	case SIZE_DICT:      return dict_sizeof(py, o);
	case SIZE_SET:       return set_sizeof(py, o);
	case SIZE_BYTEARRAY: return (uint64_t)o->type->basicsize + pysize_field(py, o, LF_BYTEARRAY_ALLOC);
	case SIZE_TYPE:      return type_sizeof(py, o);
	case SIZE_CODE:      return code_sizeof(py, o);
	case SIZE_FRAME:     return frame_sizeof(py, o);
	case SIZE_GEN:       return gen_sizeof(py, o);
	case SIZE_ODICT:     return dict_sizeof(py, o) + pysize_ext_sizeof(py, o);
	case SIZE_DEFAULT:   break;
	default:             return pysize_ext_sizeof(py, o);   /* pysize_ext.c's rules */
	}
	return default_sizeof(py, o);
}

/* What _PySys_GetSizeOf adds to __sizeof__: the GC header (and 3.11+ the
 * pre-header) — only for objects _PyObject_IS_GC calls GC objects in the
 * versions that ask (a static type is not one: type's tp_is_gc). */
static uint64_t getsizeof_extra(struct pc_py *py, const struct heap_object *o)
{
	if (py->L.getsizeof_needs_is_gc) {
		if (!o->type->is_gc)
			return 0;
		if (o->type->rule == SIZE_TYPE &&
		    !(pysize_field(py, o, LF_TYPE_FLAGS) & (uint64_t)py->L.konst[LC_TPFLAGS_HEAPTYPE]))
			return 0;
	}
	return o->type->prefix;
}

uint64_t pysize_of(struct pc_py *py, const struct heap_object *o)
{
	return dunder_sizeof(py, o) + getsizeof_extra(py, o);
}
