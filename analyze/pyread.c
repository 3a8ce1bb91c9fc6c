/* pyread.c — typed reads of CPython objects in a core. */
#include "pyread.h"

#include "../common/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define L(py, id) ((uint64_t)(py)->L.off[id])

/* str state bits (PEP 393; the same positions in every 3.x). */
#define STR_KIND(state)    (((state) >> 2) & 7)
#define STR_COMPACT(state) (((state) >> 5) & 1)
#define STR_ASCII(state)   (((state) >> 6) & 1)

#define STR_MAX_LEN   (1ull << 34)
#define DICT_MAX_LOG2 40

static const char *const known_symbols[PT_COUNT] = {
#define PY_SYMBOL(id, sym) [id] = sym,
	PY_KNOWN_TYPES(PY_SYMBOL)
#undef PY_SYMBOL
};

int py_read(struct pc_py *py, uint64_t addr, void *buf, size_t len)
{
	const void *p = py_ptr(py, addr, len);

	if (p) {
		memcpy(buf, p, len);
		return 0;
	}
	return image_read(py->img, addr, buf, len);
}

int py_u64(struct pc_py *py, uint64_t addr, uint64_t *out)
{
	return py_read(py, addr, out, sizeof *out);
}

int py_field(struct pc_py *py, uint64_t obj, enum layout_field_id id, uint64_t *out)
{
	if (py->L.off[id] == LAYOUT_ABSENT)
		return pc_fail(PC_EINTERNAL, 0, "Python %x has no %s", py->rt.hexversion,
			       layout_field_name(id));
	return py_u64(py, obj + L(py, id), out);
}

int py_type_of(struct pc_py *py, uint64_t obj, uint64_t *type)
{
	return py_field(py, obj, LF_OBJECT_TYPE, type);
}

int py_open(struct pc_py *py, struct pc_image *img)
{
	memset(py, 0, sizeof *py);
	py->img = img;
	if (runtime_find(img, &py->rt) < 0 || layout_resolve(img, &py->rt, &py->L) < 0)
		return -1;
	for (int i = 0; i < PT_COUNT; i++)
		if (image_symbol(img, known_symbols[i], &py->known[i]) < 0)
			py->known[i] = 0;
	/* Objects are recognised by their types: without the binary (or the
	 * capture's note) that says where the built-in types are, nothing
	 * would be. */
	if (!py->known[PT_TYPE] && runtime_missing_binary(img) < 0)
		return -1;
	if (!py->known[PT_TYPE])
		return pc_fail(PC_EFORMAT, 0, "the built-in types cannot be found: "
			       "the core's binaries are needed");
	py->gc_head = (uint32_t)py->L.size[LS_GC_HEAD];
	if (py_field(py, py->rt.addr, LF_RUNTIME_INTERP_MAIN, &py->main_interp) < 0 ||
	    py->main_interp == 0)
		return pc_fail(PC_EFORMAT, 0, "the Python runtime has no main interpreter "
			       "(the process was starting or exiting)");
	return 0;
}

/* Does the object's type carry the given *_SUBCLASS flag (str, int, …)? */
static bool has_type_flag(struct pc_py *py, uint64_t obj, enum layout_const_id flag)
{
	uint64_t mask = layout_flag(&py->L, flag), type, flags;

	return mask && py_type_of(py, obj, &type) == 0 &&
	       py_field(py, type, LF_TYPE_FLAGS, &flags) == 0 && (flags & mask) != 0;
}

/* Append code point cp to buf as UTF-8, if it fits; returns the new length.
 * What UTF-8 cannot carry — a lone surrogate (a str may hold one) or, in
 * damaged memory, a value past U+10FFFF — becomes U+FFFD. */
static size_t put_utf8(char *buf, size_t at, size_t cap, uint32_t cp)
{
	char tmp[4];
	size_t n;

	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		tmp[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		tmp[0] = (char)(0xc0 | cp >> 6);
		tmp[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		tmp[0] = (char)(0xe0 | cp >> 12);
		tmp[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		tmp[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		tmp[0] = (char)(0xf0 | (cp >> 18 & 7));
		tmp[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		tmp[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		tmp[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (at + n >= cap)
		return at;
	memcpy(buf + at, tmp, n);
	return at + n;
}

/* Where a str's characters are: inline after the header for compact
 * strings, behind a pointer for the legacy kind (str subclasses). */
static int str_data(struct pc_py *py, uint64_t obj, uint32_t state, uint64_t *data)
{
	if (STR_COMPACT(state)) {
		*data = obj + (uint64_t)(STR_ASCII(state) ? py->L.size[LS_ASCII]
							  : py->L.size[LS_COMPACT_UNICODE]);
		return 0;
	}
	return py_field(py, obj, LF_UNICODE_DATA, data);
}

int py_str(struct pc_py *py, uint64_t obj, char *buf, size_t cap)
{
	uint32_t state;
	uint64_t len, data;
	unsigned kind;
	size_t at = 0, want;
	uint8_t chunk[256];

	if (cap == 0)
		return pc_fail(PC_EINTERNAL, 0, "py_str: no room");
	buf[0] = '\0';
	if (!has_type_flag(py, obj, LC_TPFLAGS_UNICODE_SUBCLASS))
		return pc_fail(PC_EFORMAT, 0, "object at %#llx is not a str", (unsigned long long)obj);
	if (py_read(py, obj + L(py, LF_ASCII_STATE), &state, 4) < 0 ||
	    py_field(py, obj, LF_ASCII_LENGTH, &len) < 0 || str_data(py, obj, state, &data) < 0)
		return -1;
	kind = STR_KIND(state);
	if ((kind != 1 && kind != 2 && kind != 4) || len > STR_MAX_LEN)
		return pc_fail(PC_EFORMAT, 0, "damaged str at %#llx", (unsigned long long)obj);
	want = len < cap ? (size_t)len : cap;      /* never more characters than bytes of room */
	for (size_t i = 0; i < want; i += sizeof chunk / kind) {
		size_t n = want - i < sizeof chunk / kind ? want - i : sizeof chunk / kind;
		if (py_read(py, data + i * kind, chunk, n * kind) < 0)
			return -1;
		for (size_t k = 0; k < n; k++) {
			uint32_t cp = kind == 1 ? chunk[k]
				    : kind == 2 ? (uint32_t)(chunk[2 * k] | chunk[2 * k + 1] << 8)
						: (uint32_t)chunk[4 * k] | (uint32_t)chunk[4 * k + 1] << 8 |
						  (uint32_t)chunk[4 * k + 2] << 16 |
						  (uint32_t)chunk[4 * k + 3] << 24;
			size_t next = put_utf8(buf, at, cap, cp);
			if (next == at)
				goto done;
			at = next;
		}
	}
done:
	buf[at] = '\0';
	return 0;
}

/* Sign and number of 30-bit digits of an int. */
static int int_digits(struct pc_py *py, uint64_t obj, int *sign, uint64_t *ndigits)
{
	uint64_t word;

	if (py->L.long_tagged) {
		if (py_field(py, obj, LF_LONG_TAG, &word) < 0)
			return -1;
		*sign = (word & 3) == 0 ? 1 : (word & 3) == 1 ? 0 : -1;
		*ndigits = word >> 3;
		return 0;
	}
	if (py_field(py, obj, LF_VAROBJECT_SIZE, &word) < 0)
		return -1;
	*sign = (int64_t)word < 0 ? -1 : word != 0;
	*ndigits = (int64_t)word < 0 ? -word : word;
	return 0;
}

int py_int(struct pc_py *py, uint64_t obj, int64_t *out)
{
	uint32_t digit[3];
	uint64_t ndigits, v = 0;
	int sign;

	if (!has_type_flag(py, obj, LC_TPFLAGS_LONG_SUBCLASS))
		return pc_fail(PC_EFORMAT, 0, "object at %#llx is not an int", (unsigned long long)obj);
	if (int_digits(py, obj, &sign, &ndigits) < 0)
		return -1;
	if (ndigits > 2)
		return pc_fail(PC_EFORMAT, 0, "int at %#llx is too large", (unsigned long long)obj);
	if (ndigits && py_read(py, obj + L(py, LF_LONG_DIGITS), digit, 4 * ndigits) < 0)
		return -1;
	for (uint64_t i = ndigits; i-- > 0;)
		v = v << 30 | (digit[i] & 0x3fffffff);
	*out = sign < 0 ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* The shape of a dict's keys table. */
struct dict_shape {
	uint64_t nentries;
	uint64_t entries;            /* address of entry 0 */
	uint64_t entry_size;
	uint64_t key_at, value_at;   /* offsets inside an entry */
};

static int dict_shape(struct pc_py *py, uint64_t keys, struct dict_shape *s)
{
	uint64_t size, index_bytes;
	uint8_t log2_size, log2_index, kind;

	if (py_field(py, keys, LF_DICTKEYS_NENTRIES, &s->nentries) < 0)
		return -1;
	if (py->L.dict_keys_log2) {
		if (py_read(py, keys + L(py, LF_DICTKEYS_LOG2_SIZE), &log2_size, 1) < 0 ||
		    py_read(py, keys + L(py, LF_DICTKEYS_LOG2_INDEX_BYTES), &log2_index, 1) < 0 ||
		    py_read(py, keys + L(py, LF_DICTKEYS_KIND), &kind, 1) < 0)
			return -1;
		if (log2_size > DICT_MAX_LOG2 || log2_index > DICT_MAX_LOG2 + 3)
			goto damaged;
		size = 1ull << log2_size;
		index_bytes = 1ull << log2_index;
		s->entry_size = kind == 0 ? (uint64_t)py->L.size[LS_DICT_KEY_ENTRY]
					  : (uint64_t)py->L.size[LS_DICT_UNICODE_ENTRY];
		s->key_at = kind == 0 ? 8 : 0;
	} else {
		if (py_field(py, keys, LF_DICTKEYS_SIZE, &size) < 0)
			return -1;
		if (size == 0 || size > 1ull << DICT_MAX_LOG2)
			goto damaged;
		index_bytes = size * (size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffff ? 4 : 8);
		s->entry_size = (uint64_t)py->L.size[LS_DICT_KEY_ENTRY];
		s->key_at = 8;                           /* {hash, key, value} */
	}
	if (s->nentries > size)
		goto damaged;
	s->value_at = s->key_at + 8;
	s->entries = keys + L(py, LF_DICTKEYS_INDICES) + index_bytes;
	return 0;
damaged:
	return pc_fail(PC_EFORMAT, 0, "damaged dict keys at %#llx", (unsigned long long)keys);
}

int py_dict_foreach(struct pc_py *py, uint64_t dict, py_dict_fn fn, void *arg)
{
	struct dict_shape s;
	uint64_t keys, values;
	const uint8_t *entries;

	if (py_field(py, dict, LF_DICT_KEYS, &keys) < 0 ||
	    py_field(py, dict, LF_DICT_VALUES, &values) < 0 || dict_shape(py, keys, &s) < 0)
		return -1;
	if (values && LAYOUT_HAS(&py->L, LF_DICTVALUES_VALUES))
		values += L(py, LF_DICTVALUES_VALUES);
	if (s.nentries == 0)
		return 0;
	entries = py_ptr(py, s.entries, s.nentries * s.entry_size);
	if (!entries)
		return pc_fail(PC_EFORMAT, 0, "dict entries at %#llx are not in the core",
			       (unsigned long long)s.entries);
	for (uint64_t i = 0; i < s.nentries; i++) {
		uint64_t key, value;
		int rc;
		memcpy(&key, entries + i * s.entry_size + s.key_at, 8);
		if (values) {
			if (py_u64(py, values + 8 * i, &value) < 0)
				return -1;
		} else {
			memcpy(&value, entries + i * s.entry_size + s.value_at, 8);
		}
		if (!key || !value)
			continue;
		rc = fn(py, key, value, arg);
		if (rc)
			return rc;
	}
	return 0;
}

struct str_lookup {
	const char *key;
	uint64_t value;
};

static int match_str_key(struct pc_py *py, uint64_t key, uint64_t value, void *arg)
{
	struct str_lookup *l = arg;
	char text[256];

	if (py_str(py, key, text, sizeof text) < 0) {
		pc_clear_error();         /* not a str key: not the one we want */
		return 0;
	}
	if (strcmp(text, l->key) != 0)
		return 0;
	l->value = value;
	return 1;
}

int py_dict_get_str(struct pc_py *py, uint64_t dict, const char *key, uint64_t *value)
{
	struct str_lookup l = { key, 0 };
	int rc = py_dict_foreach(py, dict, match_str_key, &l);

	*value = l.value;
	return rc < 0 ? -1 : 0;
}

int py_interpreters(struct pc_py *py, uint64_t *out, size_t cap, size_t *n)
{
	uint64_t interp;
	bool main_seen = false;

	*n = 0;
	if (py_field(py, py->rt.addr, LF_RUNTIME_INTERP_HEAD, &interp) < 0)
		return -1;
	while (interp && *n < cap) {
		for (size_t i = 0; i < *n; i++)
			if (out[i] == interp)
				return 0;             /* a loop: stop */
		out[(*n)++] = interp;
		main_seen |= interp == py->main_interp;
		if (py_field(py, interp, LF_INTERP_NEXT, &interp) < 0) {
			pc_clear_error();
			break;
		}
	}
	if (!main_seen && *n < cap)
		out[(*n)++] = py->main_interp;
	return 0;
}

int py_dict_keys_find_str(struct pc_py *py, uint64_t keys, const char *name, int64_t *index)
{
	struct dict_shape s;
	char text[256];

	*index = -1;
	if (dict_shape(py, keys, &s) < 0)
		return -1;
	for (uint64_t i = 0; i < s.nentries; i++) {
		uint64_t key;
		if (py_u64(py, s.entries + i * s.entry_size + s.key_at, &key) < 0)
			return -1;
		if (!key)
			continue;
		if (py_str(py, key, text, sizeof text) < 0) {
			pc_clear_error();     /* not a str: not the key we want */
			continue;
		}
		if (strcmp(text, name) == 0) {
			*index = (int64_t)i;
			return 0;
		}
	}
	return 0;
}

int py_dict_keys_key_at(struct pc_py *py, uint64_t keys, uint64_t index, uint64_t *key)
{
	struct dict_shape s;

	*key = 0;
	if (dict_shape(py, keys, &s) < 0)
		return -1;
	if (index >= s.nentries)
		return 0;
	return py_u64(py, s.entries + index * s.entry_size + s.key_at, key);
}

int py_str_raw(struct pc_py *py, uint64_t obj, uint64_t *data, uint64_t *len, unsigned *kind)
{
	uint32_t state;

	if (py_read(py, obj + L(py, LF_ASCII_STATE), &state, 4) < 0 ||
	    py_field(py, obj, LF_ASCII_LENGTH, len) < 0 || str_data(py, obj, state, data) < 0)
		return -1;
	*kind = STR_KIND(state);
	if ((*kind != 1 && *kind != 2 && *kind != 4) || *len > STR_MAX_LEN)
		return pc_fail(PC_EFORMAT, 0, "damaged str at %#llx", (unsigned long long)obj);
	return 0;
}
