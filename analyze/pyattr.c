/* pyattr.c — instance attributes: find the __dict__ (or the values array
 * standing in for it) the way object.c's generic getattr does, then look
 * the name up there. */
#include "pyattr.h"

#include "../common/error.h"

#include <string.h>

#define OFF(py, id) ((uint64_t)(py)->L.off[id])

/* name's value in a values array whose keys are type's ht_cached_keys. */
static int values_get(struct pc_py *py, uint64_t type, uint64_t values, const char *name,
		      uint64_t *value)
{
	uint64_t keys;
	int64_t i;

	if (py_field(py, type, LF_HEAPTYPE_CACHED_KEYS, &keys) < 0)
		return -1;
	if (!keys)
		return pc_fail(PC_EFORMAT, 0, "type at %#llx shares no keys with its instances",
			       (unsigned long long)type);
	if (py_dict_keys_find_str(py, keys, name, &i) < 0)
		return -1;
	if (i < 0)
		return 0;
	if (LAYOUT_HAS(&py->L, LF_DICTVALUES_VALUES))     /* 3.13: a small header first */
		values += OFF(py, LF_DICTVALUES_VALUES);
	return py_u64(py, values + 8 * (uint64_t)i, value);   /* NULL: deleted */
}

static int dict_get(struct pc_py *py, uint64_t dict, const char *name, uint64_t *value)
{
	return dict ? py_dict_get_str(py, dict, name, value) : 0;
}

/* A managed dict (Py_TPFLAGS_MANAGED_DICT).  The pre-header sits right
 * before the GC header, last word first: [values | weakrefs][dict][GC][obj]. */
static int managed_get(struct pc_py *py, uint64_t obj, uint64_t type, uint64_t flags,
		       const char *name, uint64_t *value)
{
	uint64_t dict_slot = obj - py->gc_head - 8, word;

	if (py->L.inline_values) {
		/* values inline after the object header, used while marked valid;
		 * else (or when the type has none) the dict pointer */
		uint64_t values = obj + (uint64_t)py->L.size[LS_OBJECT];
		uint8_t valid = 0;
		if ((flags & layout_flag(&py->L, LC_TPFLAGS_INLINE_VALUES)) &&
		    py_read(py, values + OFF(py, LF_DICTVALUES_VALID), &valid, 1) < 0)
			return -1;
		if (valid)
			return values_get(py, type, values, name, value);
		return py_u64(py, dict_slot, &word) < 0 ? -1 : dict_get(py, word, name, value);
	}
	if (py->L.managed_dict_tagged) {
		/* one word: a dict pointer, or the values pointer minus one */
		if (py_u64(py, dict_slot, &word) < 0)
			return -1;
		if (word & 1)
			return values_get(py, type, word + 1, name, value);
		return dict_get(py, word, name, value);
	}
	/* values pointer in the word before the dict; set while no dict exists */
	if (py_u64(py, dict_slot - 8, &word) < 0)
		return -1;
	if (word)
		return values_get(py, type, word, name, value);
	return py_u64(py, dict_slot, &word) < 0 ? -1 : dict_get(py, word, name, value);
}

/* tp_dictoffset: positive from the start; negative from the end of the
 * variable-size object, round_up(basicsize + |ob_size| * itemsize, 8). */
static int offset_get(struct pc_py *py, uint64_t obj, uint64_t type, const char *name,
		      uint64_t *value)
{
	uint64_t off, basic, item, size = 0, dict;
	int64_t at;

	if (py_field(py, type, LF_TYPE_DICTOFFSET, &off) < 0)
		return -1;
	at = (int64_t)off;
	if (at == 0)
		return 0;                              /* no __dict__ (__slots__) */
	if (at < 0) {
		if (py_field(py, type, LF_TYPE_BASICSIZE, &basic) < 0 ||
		    py_field(py, type, LF_TYPE_ITEMSIZE, &item) < 0 ||
		    (item && py_field(py, obj, LF_VAROBJECT_SIZE, &size) < 0))
			return -1;
		if ((int64_t)size < 0)
			size = -size;
		at += (int64_t)((basic + size * item + 7) & ~7ull);
		if (at < 0)
			return pc_fail(PC_EFORMAT, 0, "type at %#llx has an impossible tp_dictoffset",
				       (unsigned long long)type);
	}
	if (py_u64(py, obj + (uint64_t)at, &dict) < 0)
		return -1;
	return dict_get(py, dict, name, value);
}

int py_instance_dict_get(struct pc_py *py, uint64_t obj, const char *name, uint64_t *value)
{
	uint64_t type, flags;

	*value = 0;
	if (py_type_of(py, obj, &type) < 0 || py_field(py, type, LF_TYPE_FLAGS, &flags) < 0)
		return -1;
	if (py->L.has_preheader && (flags & layout_flag(&py->L, LC_TPFLAGS_MANAGED_DICT)))
		return managed_get(py, obj, type, flags, name, value);
	return offset_get(py, obj, type, name, value);
}

/* How many slots of a values array are in use: the shared keys' entries. */
static int shared_entries(struct pc_py *py, uint64_t type, uint64_t *keys, uint64_t *count)
{
	*count = 0;
	if (py_field(py, type, LF_HEAPTYPE_CACHED_KEYS, keys) < 0)
		return -1;
	return *keys ? py_field(py, *keys, LF_DICTKEYS_NENTRIES, count) : 0;
}

int py_managed_values(struct pc_py *py, uint64_t obj, uint64_t type, uint64_t flags,
		      uint64_t *slots, uint64_t *count, uint64_t *keys)
{
	uint64_t dict_slot = obj - py->gc_head - 8, word = 0, values = 0;
	uint8_t valid = 0, capacity = 0;

	*slots = *count = *keys = 0;
	if (!py->L.has_preheader || !(flags & layout_flag(&py->L, LC_TPFLAGS_MANAGED_DICT)))
		return 0;
	if (py->L.inline_values) {
		if (!(flags & layout_flag(&py->L, LC_TPFLAGS_INLINE_VALUES)))
			return 0;
		values = obj + (uint64_t)py->L.size[LS_OBJECT];
		if (py_read(py, values + OFF(py, LF_DICTVALUES_VALID), &valid, 1) < 0 ||
		    py_read(py, values + OFF(py, LF_DICTVALUES_CAPACITY), &capacity, 1) < 0 ||
		    py_field(py, type, LF_HEAPTYPE_CACHED_KEYS, keys) < 0)
			return -1;
		if (!valid)
			return 0;
		*slots = values + OFF(py, LF_DICTVALUES_VALUES);
		*count = capacity;
		return 0;
	}
	if (py->L.managed_dict_tagged) {
		if (py_u64(py, dict_slot, &word) < 0)
			return -1;
		if (!(word & 1))
			return 0;
		values = word + 1;
	} else if (py_u64(py, dict_slot - 8, &values) < 0) {
		return -1;
	}
	if (!values)
		return 0;
	*slots = values;
	return shared_entries(py, type, keys, count);
}
